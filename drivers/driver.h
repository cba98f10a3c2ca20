/* The driver interface that rpc/dispatch calls.
 *
 * rpc/ includes only this header from drivers/: it never links a driver's code, it calls
 * the function pointers of the VirtDriver it is given at start-up. Domains are named by
 * their UUID; every operation ends with GError **error (domain VIR_FROM_*, code VIR_ERR_*,
 * see daemon/util/virt-error.h) and writes its ret_* outputs only on success.
 */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#define VIRT_UUID_LEN 16

/* What identifies a domain on the wire. */
typedef struct {
    char *name;
    unsigned char uuid[VIRT_UUID_LEN];
    int id; /* -1 when not running */
} DomainRef;

void domain_ref_clear(DomainRef *ref);
void domain_ref_free(DomainRef *ref);
DomainRef *domain_ref_copy(const DomainRef *ref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainRef, domain_ref_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DomainRef, domain_ref_clear)

/* event_id of a QEMU monitor event (QEMU program), outside libvirt's VIR_DOMAIN_EVENT_ID_* */
#define DOMAIN_EVENT_QEMU_MONITOR 1000

/* An event for clients. Only the fields of its event_id are meaningful. */
typedef struct {
    int event_id; /* VIR_DOMAIN_EVENT_ID_* or DOMAIN_EVENT_QEMU_MONITOR */
    DomainRef dom;
    int lifecycle_event;  /* LIFECYCLE: virDomainEventType */
    int lifecycle_detail; /* LIFECYCLE: its detail enum */
    int metadata_type;    /* METADATA_CHANGE: virDomainMetadataType */
    char *metadata_nsuri; /* METADATA_CHANGE: namespace URI or NULL */
    char *monitor_event;  /* QEMU_MONITOR: the QMP event name */
    gint64 monitor_seconds;
    unsigned int monitor_micros;
    char *monitor_details; /* QEMU_MONITOR: its "data" as JSON, or NULL */
    GArray *tunable_params; /* TUNABLE: DomainTypedParam (domain_params_new), owned */
} DomainEvent;

void domain_event_free(DomainEvent *ev);

/* Called by a driver for every event, from any thread. The sink must not block. */
typedef void (*DomainEventSink)(const DomainEvent *ev, gpointer user_data);

typedef struct {
    char model[32];
    guint64 memory_kib;
    int cpus, mhz, nodes, sockets, cores, threads;
} NodeInfoData;

/* A (name, value) pair as used by node memory and CPU statistics. */
typedef struct {
    const char *field; /* static string */
    guint64 value;
} NodeStat;

typedef struct {
    int state;  /* virDomainState */
    int reason; /* its reason enum */
    guint64 max_mem_kib;
    guint64 memory_kib;
    unsigned int nr_virt_cpu;
    guint64 cpu_time_ns;
} DomainInfoData;

/* ---- statistics and controls of running domains (value types) ---- */

/* virDomainControlInfo. */
typedef struct {
    unsigned int state;    /* virDomainControlState */
    unsigned int details;  /* virDomainControlErrorReason when state is ERROR */
    guint64 state_time_ms; /* time spent in this state, 0 when unknown */
} DomainControlInfo;

/* virVcpuInfo. */
typedef struct {
    unsigned int number;
    int state;             /* virVcpuState */
    guint64 cpu_time_ns;
    int cpu;               /* host CPU it last ran on, -1 when unknown */
} DomainVcpuInfo;

/* One IOThread of virDomainGetIOThreadInfo: its id and the host CPUs it may run on. */
typedef struct {
    unsigned int id;
    guint8 *cpumap; /* maplen bytes (see the call), one bit per host CPU; owned */
} DomainIOThreadInfo;

/* virDomainMemoryStatStruct. */
typedef struct {
    int tag;               /* VIR_DOMAIN_MEMORY_STAT_* */
    guint64 value;
} DomainMemoryStat;

/* What virDomainBlockStats(Flags) report; -1 for what is unknown. */
typedef struct {
    gint64 rd_req, rd_bytes, rd_total_times_ns;
    gint64 wr_req, wr_bytes, wr_total_times_ns;
    gint64 flush_req, flush_total_times_ns;
    gint64 errs;
} DomainBlockStats;

/* virDomainBlockInfo. */
typedef struct {
    guint64 capacity, allocation, physical;
} DomainBlockInfo;

/* virDomainInterfaceStatsStruct; -1 for what is unknown. */
typedef struct {
    gint64 rx_bytes, rx_packets, rx_errs, rx_drop;
    gint64 tx_bytes, tx_packets, tx_errs, tx_drop;
} DomainInterfaceStats;

/* One typed parameter (virTypedParameter) of a statistics record. */
typedef struct {
    char *field;
    int type;              /* VIR_TYPED_PARAM_INT, UINT, LLONG, ULLONG, BOOLEAN or STRING */
    union {
        int i;
        unsigned int ui;
        gint64 l;
        guint64 ul;
        int b;
        char *s;           /* owned */
    } value;
} DomainTypedParam;

/* A list of typed parameters: a GArray of DomainTypedParam that frees its entries. Used
 * for statistics and for the tuning calls (schedinfo, memtune, blkiotune, ...). */
GArray *domain_params_new(void);
void domain_params_add_int(GArray *params, const char *field, int value);
void domain_params_add_uint(GArray *params, const char *field, unsigned int value);
void domain_params_add_llong(GArray *params, const char *field, gint64 value);
void domain_params_add_ullong(GArray *params, const char *field, guint64 value);
void domain_params_add_boolean(GArray *params, const char *field, gboolean value);
void domain_params_add_string(GArray *params, const char *field, const char *value);
/* The entry named @field, or NULL. */
const DomainTypedParam *domain_params_find(GArray *params, const char *field);
/* libvirt's name of VIR_TYPED_PARAM_* @type ("int", "ullong", ...). */
const char *domain_param_type_name(int type);

/* What a tuning call accepts: a name and its VIR_TYPED_PARAM_* type. */
typedef struct {
    const char *field;
    int type;
} DomainParamSpec;

/* Check @params against @spec (@n_spec entries): every field known, of its type, given
 * once. Errors: VIR_ERR_ARGUMENT_UNSUPPORTED "parameter 'X' is not supported (known: a, b)",
 * VIR_ERR_INVALID_ARG "parameter 'X' must be of type 'ullong', not 'int'" and
 * "parameter 'X' is given twice". */
gboolean domain_params_validate(GArray *params, const DomainParamSpec *spec, gsize n_spec,
                                GError **error);

/* The statistics of one domain (virDomainStatsRecord). */
typedef struct {
    DomainRef dom;
    GArray *params;        /* DomainTypedParam, with a clear function that frees them */
} DomainStatsRecord;

/* Calls answered on the RPC loop thread must never wait: in this mode (per thread) a
 * driver only tries its domain locks and, when one is busy, notes it and fails the call;
 * the server then runs the call again on a worker. */
void driver_set_nonblocking(gboolean on);
gboolean driver_is_nonblocking(void);
void driver_note_would_block(void);
gboolean driver_take_would_block(void); /* and clear it */

typedef struct VirtDriver VirtDriver;

struct VirtDriver {
    const char *type_name; /* "QEMU" */

    /* Connection and host */
    gboolean (*get_version)(VirtDriver *drv, guint64 *ret_version, GError **error);
    char *(*get_hostname)(VirtDriver *drv, GError **error);
    char *(*get_sysinfo)(VirtDriver *drv, unsigned int flags, GError **error);
    int (*get_max_vcpus)(VirtDriver *drv, const char *type, GError **error);
    char *(*get_capabilities)(VirtDriver *drv, GError **error);
    char *(*get_domain_capabilities)(VirtDriver *drv, const char *emulator, const char *arch,
                                     const char *machine, const char *virttype,
                                     unsigned int flags, GError **error);
    gboolean (*node_get_info)(VirtDriver *drv, NodeInfoData *ret_info, GError **error);
    /* Returns the number of host CPUs; *ret_map gets one byte per 8 CPUs (bit set = online). */
    int (*node_get_cpu_map)(VirtDriver *drv, guint8 **ret_map, unsigned int *ret_online,
                            GError **error);
    /* Fill up to @max stats into @ret_stats, return the count (-1 on error). */
    int (*node_get_memory_stats)(VirtDriver *drv, int cell, NodeStat *ret_stats, int max,
                                 GError **error);
    int (*node_get_cpu_stats)(VirtDriver *drv, int cpu, NodeStat *ret_stats, int max,
                              GError **error);
    gboolean (*node_get_free_memory)(VirtDriver *drv, guint64 *ret_bytes, GError **error);
    /* Free bytes of cells [start, start + max): returns how many were filled, -1 on error. */
    int (*node_get_cells_free_memory)(VirtDriver *drv, int start, int max, guint64 *ret_bytes,
                                      GError **error);

    /* Domains */
    gboolean (*domain_define_xml)(VirtDriver *drv, const char *xml, unsigned int flags,
                                  DomainRef *ret_dom, GError **error);
    gboolean (*domain_undefine)(VirtDriver *drv, const unsigned char *uuid, unsigned int flags,
                                GError **error);
    gboolean (*domain_lookup_by_name)(VirtDriver *drv, const char *name, DomainRef *ret_dom,
                                      GError **error);
    gboolean (*domain_lookup_by_uuid)(VirtDriver *drv, const unsigned char *uuid,
                                      DomainRef *ret_dom, GError **error);
    gboolean (*domain_lookup_by_id)(VirtDriver *drv, int id, DomainRef *ret_dom,
                                    GError **error);
    /* VIR_CONNECT_LIST_DOMAINS_* filter flags; returns a GPtrArray of DomainRef*, sorted
     * by name, with a free function set. */
    GPtrArray *(*list_all_domains)(VirtDriver *drv, unsigned int flags, GError **error);
    char *(*domain_get_xml_desc)(VirtDriver *drv, const unsigned char *uuid,
                                 unsigned int flags, GError **error);
    gboolean (*domain_get_info)(VirtDriver *drv, const unsigned char *uuid,
                                DomainInfoData *ret_info, GError **error);
    gboolean (*domain_get_state)(VirtDriver *drv, const unsigned char *uuid, int *ret_state,
                                 int *ret_reason, GError **error);
    /* The three IS_* queries; -1 on error, else 0/1. */
    int (*domain_is_active)(VirtDriver *drv, const unsigned char *uuid, GError **error);
    int (*domain_is_persistent)(VirtDriver *drv, const unsigned char *uuid, GError **error);
    int (*domain_is_updated)(VirtDriver *drv, const unsigned char *uuid, GError **error);
    int (*domain_get_autostart)(VirtDriver *drv, const unsigned char *uuid, GError **error);
    gboolean (*domain_set_autostart)(VirtDriver *drv, const unsigned char *uuid,
                                     gboolean autostart, GError **error);
    char *(*domain_get_os_type)(VirtDriver *drv, const unsigned char *uuid, GError **error);
    gboolean (*domain_get_max_memory)(VirtDriver *drv, const unsigned char *uuid,
                                      guint64 *ret_kib, GError **error);
    gboolean (*domain_set_metadata)(VirtDriver *drv, const unsigned char *uuid, int type,
                                    const char *metadata, const char *key, const char *uri,
                                    unsigned int flags, GError **error);
    char *(*domain_get_metadata)(VirtDriver *drv, const unsigned char *uuid, int type,
                                 const char *uri, unsigned int flags, GError **error);
    gboolean (*domain_rename)(VirtDriver *drv, const unsigned char *uuid, const char *new_name,
                              unsigned int flags, GError **error);
    int (*domain_get_vcpus_flags)(VirtDriver *drv, const unsigned char *uuid,
                                  unsigned int flags, GError **error);
    gboolean (*domain_set_vcpus_flags)(VirtDriver *drv, const unsigned char *uuid,
                                       unsigned int nvcpus, unsigned int flags, GError **error);
    gboolean (*domain_set_memory_flags)(VirtDriver *drv, const unsigned char *uuid,
                                        guint64 kib, unsigned int flags, GError **error);
    /* Enable (@state 1) or disable (0) the vCPUs of list @cpumap ("1-2,^3"); flags
     * VIR_DOMAIN_AFFECT_*. */
    gboolean (*domain_set_vcpu)(VirtDriver *drv, const unsigned char *uuid, const char *cpumap,
                                int state, unsigned int flags, GError **error);
    /* Balloon statistics polling every @period seconds (0: off); flags VIR_DOMAIN_AFFECT_*. */
    gboolean (*domain_set_memory_stats_period)(VirtDriver *drv, const unsigned char *uuid,
                                               int period, unsigned int flags, GError **error);
    int (*domain_has_managed_save_image)(VirtDriver *drv, const unsigned char *uuid,
                                         unsigned int flags, GError **error);
    /* NULL-terminated list of messages (tainting, deprecations), possibly empty. */
    char **(*domain_get_messages)(VirtDriver *drv, const unsigned char *uuid,
                                  unsigned int flags, GError **error);

    /* Running domains */
    gboolean (*domain_create)(VirtDriver *drv, const unsigned char *uuid, unsigned int flags,
                              GError **error);
    /* Start a transient domain from @xml. */
    gboolean (*domain_create_xml)(VirtDriver *drv, const char *xml, unsigned int flags,
                                  DomainRef *ret_dom, GError **error);
    gboolean (*domain_destroy)(VirtDriver *drv, const unsigned char *uuid, unsigned int flags,
                               GError **error);
    gboolean (*domain_shutdown)(VirtDriver *drv, const unsigned char *uuid,
                                unsigned int flags, GError **error);
    gboolean (*domain_reboot)(VirtDriver *drv, const unsigned char *uuid, unsigned int flags,
                              GError **error);
    gboolean (*domain_reset)(VirtDriver *drv, const unsigned char *uuid, unsigned int flags,
                             GError **error);
    gboolean (*domain_suspend)(VirtDriver *drv, const unsigned char *uuid, GError **error);
    gboolean (*domain_resume)(VirtDriver *drv, const unsigned char *uuid, GError **error);
    /* qemu-monitor-command: QMP JSON, or an HMP line with VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP. */
    char *(*domain_monitor_command)(VirtDriver *drv, const unsigned char *uuid,
                                    const char *command, unsigned int flags, GError **error);

    /* A file descriptor (raw mode pty, non-blocking) for the console or serial device
     * @dev_name (NULL: the first console) of a running domain; the caller owns it. */
    int (*domain_open_console)(VirtDriver *drv, const unsigned char *uuid,
                               const char *dev_name, unsigned int flags, GError **error);

    /* Statistics and controls of domains (all on the domain named by @uuid). */
    gboolean (*domain_get_control_info)(VirtDriver *drv, const unsigned char *uuid,
                                        unsigned int flags, DomainControlInfo *ret_info,
                                        GError **error);
    /* Up to @maxinfo vCPUs into @ret_info and, when @maplen > 0, their affinity into
     * @ret_cpumaps (@maplen bytes each, caller-allocated). Returns the count, -1 on error. */
    int (*domain_get_vcpus)(VirtDriver *drv, const unsigned char *uuid, int maxinfo,
                            DomainVcpuInfo *ret_info, int maplen, guint8 *ret_cpumaps,
                            GError **error);
    /* Pinning of up to @ncpumaps vCPUs into @ret_cpumaps (@maplen bytes each). Returns the
     * count, -1 on error. */
    int (*domain_get_vcpu_pin_info)(VirtDriver *drv, const unsigned char *uuid, int ncpumaps,
                                    int maplen, guint8 *ret_cpumaps, unsigned int flags,
                                    GError **error);
    /* The emulator threads' pinning into @ret_cpumap (@maplen bytes). Returns 1 (0 when
     * there is none), -1 on error. */
    int (*domain_get_emulator_pin_info)(VirtDriver *drv, const unsigned char *uuid,
                                        int maplen, guint8 *ret_cpumap, unsigned int flags,
                                        GError **error);
    /* Pin vCPU @vcpu / the emulator threads / IOThread @iothread_id to the host CPUs of
     * @cpumap (@maplen bytes, one bit per host CPU, LSB first); flags VIR_DOMAIN_AFFECT_*. */
    gboolean (*domain_pin_vcpu)(VirtDriver *drv, const unsigned char *uuid, unsigned int vcpu,
                                const guint8 *cpumap, int maplen, unsigned int flags,
                                GError **error);
    gboolean (*domain_pin_emulator)(VirtDriver *drv, const unsigned char *uuid,
                                    const guint8 *cpumap, int maplen, unsigned int flags,
                                    GError **error);
    /* The IOThreads of the domain (GArray of DomainIOThreadInfo that frees its maps), each
     * map *@ret_maplen bytes; flags VIR_DOMAIN_AFFECT_*. */
    GArray *(*domain_get_iothread_info)(VirtDriver *drv, const unsigned char *uuid,
                                        unsigned int flags, int *ret_maplen, GError **error);
    gboolean (*domain_pin_iothread)(VirtDriver *drv, const unsigned char *uuid,
                                    unsigned int iothread_id, const guint8 *cpumap, int maplen,
                                    unsigned int flags, GError **error);
    /* numatune: VIR_DOMAIN_NUMA_MODE (int) and VIR_DOMAIN_NUMA_NODESET (string); flags
     * VIR_DOMAIN_AFFECT_* (and VIR_TYPED_PARAM_STRING_OKAY for the get). */
    gboolean (*domain_set_numa_parameters)(VirtDriver *drv, const unsigned char *uuid,
                                           GArray *params, unsigned int flags, GError **error);
    GArray *(*domain_get_numa_parameters)(VirtDriver *drv, const unsigned char *uuid,
                                          unsigned int flags, GError **error);
    /* Up to @max memory statistics into @ret_stats; returns the count, -1 on error. */
    int (*domain_memory_stats)(VirtDriver *drv, const unsigned char *uuid,
                               DomainMemoryStat *ret_stats, unsigned int max,
                               unsigned int flags, GError **error);
    /* I/O statistics of disk @path (target or source; "" sums all disks). */
    gboolean (*domain_block_stats)(VirtDriver *drv, const unsigned char *uuid,
                                   const char *path, DomainBlockStats *ret_stats,
                                   GError **error);
    gboolean (*domain_get_block_info)(VirtDriver *drv, const unsigned char *uuid,
                                      const char *path, unsigned int flags,
                                      DomainBlockInfo *ret_info, GError **error);
    /* Per-disk I/O throttling (<iotune>) of disk @disk (target or source path): @params
     * are VIR_DOMAIN_BLOCK_IOTUNE_* typed parameters; flags VIR_DOMAIN_AFFECT_*. */
    gboolean (*domain_set_block_io_tune)(VirtDriver *drv, const unsigned char *uuid,
                                         const char *disk, GArray *params, unsigned int flags,
                                         GError **error);
    /* The limits of @disk as typed parameters in libvirt's order (group_name only with
     * VIR_TYPED_PARAM_STRING_OKAY); @disk NULL gives them all as 0 (to count them). */
    GArray *(*domain_get_block_io_tune)(VirtDriver *drv, const unsigned char *uuid,
                                        const char *disk, unsigned int flags, GError **error);
    /* Traffic of interface @device (host device name or MAC address). */
    gboolean (*domain_interface_stats)(VirtDriver *drv, const unsigned char *uuid,
                                       const char *device, DomainInterfaceStats *ret_stats,
                                       GError **error);
    /* virConnectGetAllDomainStats (@n_uuids 0) and virDomainListGetStats (the domains of
     * @uuids, VIRT_UUID_LEN bytes each). Returns a GPtrArray of DomainStatsRecord* with
     * its free function set. */
    GPtrArray *(*get_all_domain_stats)(VirtDriver *drv, const unsigned char *uuids,
                                       guint n_uuids, unsigned int stats, unsigned int flags,
                                       GError **error);
    gboolean (*domain_send_key)(VirtDriver *drv, const unsigned char *uuid,
                                unsigned int codeset, unsigned int holdtime_ms,
                                const unsigned int *keycodes, guint n_keycodes,
                                unsigned int flags, GError **error);
    /* A screenshot of @screen: returns a readable fd of the image (the caller owns it) and
     * its MIME type in *ret_mime, -1 on error. */
    int (*domain_screenshot)(VirtDriver *drv, const unsigned char *uuid, unsigned int screen,
                             unsigned int flags, char **ret_mime, GError **error);

    /* cgroup tuning: schedinfo (VIR_DOMAIN_SCHEDULER_*), memtune (VIR_DOMAIN_MEMORY_*),
     * blkiotune (VIR_DOMAIN_BLKIO_*). flags: VIR_DOMAIN_AFFECT_*. A get returns every
     * parameter (strings included) in libvirt's order; the caller trims the list. */
    char *(*domain_get_scheduler_type)(VirtDriver *drv, const unsigned char *uuid,
                                       int *ret_nparams, GError **error);
    GArray *(*domain_get_scheduler_params)(VirtDriver *drv, const unsigned char *uuid,
                                           unsigned int flags, GError **error);
    gboolean (*domain_set_scheduler_params)(VirtDriver *drv, const unsigned char *uuid,
                                            GArray *params, unsigned int flags,
                                            GError **error);
    GArray *(*domain_get_memory_params)(VirtDriver *drv, const unsigned char *uuid,
                                        unsigned int flags, GError **error);
    gboolean (*domain_set_memory_params)(VirtDriver *drv, const unsigned char *uuid,
                                         GArray *params, unsigned int flags, GError **error);
    GArray *(*domain_get_blkio_params)(VirtDriver *drv, const unsigned char *uuid,
                                       unsigned int flags, GError **error);
    gboolean (*domain_set_blkio_params)(VirtDriver *drv, const unsigned char *uuid,
                                        GArray *params, unsigned int flags, GError **error);

    /* Events: the driver calls @sink for every event. Set once at start-up. */
    void (*set_event_sink)(VirtDriver *drv, DomainEventSink sink, gpointer user_data);

    /* Lifecycle of the driver itself */
    gboolean (*reload)(VirtDriver *drv, GError **error);
    void (*shutdown)(VirtDriver *drv);
};
