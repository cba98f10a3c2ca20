/* Internals of the QEMU driver shared by its files (qemu-driver.c: table, definitions,
 * host queries; qemu-run.c: running domains). */
#pragma once

#include "drivers/qemu/qemu-capabilities.h"
#include "drivers/qemu/qemu-driver.h"
#include "drivers/qemu/qemu-process.h"
#include "xml/domain-conf.h"

#define QEMU_UUID_STRLEN 37

typedef struct _QemuDomain QemuDomain;
/* A domain acquired with qemu_driver_acquire(): referenced and locked. */
typedef struct _QemuDomain QemuDomainLocked;

struct _QemuDomain {
    gint refcount;
    GMutex lock;
    unsigned char uuid[VIRT_UUID_LEN];    /* immutable */
    char uuid_str[QEMU_UUID_STRLEN];      /* immutable, the key of by_uuid */
    DomainDef *def;      /* current definition: the live one while running */
    DomainDef *new_def;  /* persistent config while running, NULL when shut off */
    int state;           /* virDomainState */
    int reason;          /* its reason enum */
    int id;              /* -1 when not running */
    GPid pid;            /* 0 when not running */
    gboolean autostart;
    gboolean persistent;
    gboolean updated;    /* persistent config changed while running */
    gboolean removed;    /* no longer in the table: lookups must fail */

    /* Running state (qemu-run.c) */
    QemuProcess *proc;   /* the QEMU of a running domain, NULL otherwise */
    const char *job;     /* the state-changing job holding the domain, or NULL */
    GCond job_cond;      /* signalled when the job ends and when the domain stops */
    char *run_dir;       /* per-run directory: monitor socket, chardev sockets */
    gboolean destroying; /* destroy asked: the exit is ours */
    gboolean shutdown_seen; /* QEMU reported a (guest or ACPI) shutdown */
    gboolean fake_reboot;   /* a reboot asked through the power button */
    /* vCPU removal (qemu-hotplug.c): the QOM path device_del was asked for (NULL: none)
     * and its vCPU, kept after a timeout so that a late DEVICE_DELETED completes it;
     * job_cond is broadcast when it comes while a call waits. */
    char *unplug_path;
    unsigned int unplug_vcpu;
    gboolean unplug_waiting;
    gboolean unplug_done;
    gboolean vcpu_unplugged; /* in this run: QEMU under TCG crashes on a later plug */

    /* cgroups of a running domain (qemu-cgroup.c), NULL when it runs without */
    struct _Cgroup *cgroup;          /* the VM's group */
    struct _Cgroup *cgroup_emulator; /* its emulator/ */
    GPtrArray *cgroup_vcpus;         /* Cgroup * of vcpuN/ by vCPU index, NULL entries */
    GArray *vcpu_tids;               /* pid_t by vCPU index, 0 when offline */
    char *machine_name;              /* registered with systemd-machined, else NULL */
    struct _Machined *machined;      /* the driver's, to terminate it; NULL without */
};

typedef struct {
    VirtDriver base; /* first: the vtable callers hold */
    QemuDriverConfig cfg;
    char *autostart_dir;

    GMutex define_lock;
    GRWLock table_lock;
    GHashTable *by_uuid; /* uuid string -> QemuDomain* (holds a reference) */
    GHashTable *by_name; /* name (own copy) -> QemuDomain* (same objects, borrowed) */

    GMutex caps_lock; /* guards the lazy probe */
    QemuCaps *caps;
    char *host_uuid;

    GMutex sink_lock;
    DomainEventSink sink;
    gpointer sink_data;

    /* Running domains (qemu-run.c) */
    GMainContext *io_ctx; /* QEMU monitors and child watches */
    GMainLoop *io_loop;
    GThread *io_thread;
    GThreadPool *work;    /* follow-ups that must not run on the I/O thread */
    gint next_id;         /* the next domain id (atomic) */
    GThread *autostart;   /* joined at shutdown: a start it began must finish */
    gint stopping;        /* atomic: the driver is shutting down */
    struct _CgroupHost *cgroup_host; /* the host's cgroups, NULL when not used */
    struct _Machined *machined;      /* systemd-machined, NULL when not used */
} QemuDriver;

QemuDomain *qemu_domain_new(DomainDef *def);
QemuDomain *qemu_domain_ref(QemuDomain *dom);
void qemu_domain_unref(QemuDomain *dom);
void qemu_domain_release(QemuDomainLocked *dom);
gboolean qemu_domain_is_active(const QemuDomain *dom);
const char *qemu_domain_name(const QemuDomain *dom);
DomainDef *qemu_domain_persistent_def(QemuDomain *dom);
void qemu_domain_fill_ref(const QemuDomain *dom, DomainRef *ref);
QemuDriver *qemu_driver_cast(VirtDriver *drv);
gboolean qemu_driver_check_flags(unsigned int flags, unsigned int allowed, GError **error);
void qemu_events_add_lifecycle(GPtrArray *events, const QemuDomain *dom, const char *name,
                          int type, int detail);
/* A TUNABLE event: @params (DomainTypedParam, taken) are the tunables a live change set,
 * named VIR_DOMAIN_TUNABLE_* as libvirt sends them. */
void qemu_events_add_tunable(GPtrArray *events, const QemuDomain *dom, GArray *params);
GPtrArray *qemu_events_new(void);
void qemu_driver_emit(QemuDriver *drv, GPtrArray *events);
void qemu_driver_table_insert(QemuDriver *drv, QemuDomain *dom);
void qemu_driver_table_remove(QemuDriver *drv, QemuDomain *dom);
QemuDomainLocked *qemu_driver_acquire(QemuDriver *drv, const unsigned char *uuid, GError **error);
QemuCaps *qemu_driver_get_caps(QemuDriver *drv, GError **error);
GPtrArray *qemu_driver_snapshot(QemuDriver *drv);
gboolean qemu_driver_resolve_machine(QemuDriver *drv, DomainDef *def, GError **error);
QemuDomain *qemu_driver_find_uuid(QemuDriver *drv, const char *uuid_str);
QemuDomain *qemu_driver_find_name(QemuDriver *drv, const char *name);
/* Turn VIR_DOMAIN_AFFECT_{CURRENT,LIVE,CONFIG} in @flags into explicit LIVE and/or CONFIG
 * bits for @dom (locked); refuses LIVE on a shut-off domain ("domain is not running") and
 * CONFIG on a transient one. */
gboolean qemu_domain_resolve_impact(QemuDomain *dom, unsigned int *flags, GError **error);
/* Refuses LIVE together with CONFIG (the get calls). */
gboolean qemu_check_live_config_exclusive(unsigned int flags, GError **error);
/* Make @def (a changed copy of the persistent definition) the persistent definition of
 * @dom (locked): written to disk first, then swapped in. Takes ownership of @def. */
gboolean qemu_driver_commit_config(QemuDriver *drv, QemuDomain *dom, DomainDef *def,
                                   GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuDomain, qemu_domain_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuDomainLocked, qemu_domain_release)

/* qemu-run.c */
void qemu_run_init(QemuDriver *drv);       /* start the I/O thread */
void qemu_run_shutdown(QemuDriver *drv);   /* stop watching; QEMUs keep running */
/* Find the QEMUs a previous daemon left running (status files) and take them back. */
void qemu_run_reattach_all(QemuDriver *drv);
/* Start the domains marked autostart (in the background). */
void qemu_run_autostart(QemuDriver *drv);
guint64 qemu_run_cpu_time(QemuDomain *dom); /* locked domain */
/* Take the domain's (locked) job, waiting at most 30 s (VIR_ERR_OPERATION_TIMEOUT naming
 * the job holding it); the lock is dropped while waiting. */
gboolean qemu_job_begin(QemuDomain *dom, const char *job, GError **error);
void qemu_job_end(QemuDomain *dom);
/* VIR_ERR_OPERATION_INVALID "domain 'X' is not running" unless @dom (locked) runs. */
gboolean qemu_domain_check_active(QemuDomain *dom, GError **error);
/* Write the status file of running @dom (locked): its live definition survives a daemon
 * restart. Call after every change to dom->def of a running domain. */
void qemu_run_save_status(QemuDriver *drv, QemuDomain *dom);
void qemu_run_fill_vtable(VirtDriver *vtable);

/* qemu-stats.c: statistics and small controls of domains (domstats, dommemstat, ...) */
void qemu_stats_fill_vtable(VirtDriver *vtable);
