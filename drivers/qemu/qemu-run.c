/* Running domains: start, stop, control, QEMU events, re-attach after a restart.
 *
 * Threads: API calls run on the RPC workers; QMP events and QEMU exits arrive on the
 * driver's I/O thread (io_ctx) and are handed to a one-thread work queue so the I/O
 * thread never blocks. A state-changing call holds the domain's job (one at a time,
 * bounded wait) and releases the domain lock around QMP round trips and the spawn, so
 * lookups, state queries and destroy are served meanwhile. Destroy takes no job: it must
 * work when QEMU is stuck in the middle of another job.
 */
#include <errno.h>
#include <fcntl.h>
#include <termios.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include <libvirt/libvirt-qemu.h>

#include "daemon/util/file.h"
#include "daemon/util/virt-error.h"
#include "drivers/qemu/qemu-cgroup.h"
#include "drivers/qemu/qemu-command.h"
#include "drivers/qemu/qemu-driver-priv.h"
#include "drivers/qemu/qemu-hotplug.h"
#include "drivers/qemu/qemu-iotune.h"
#include "drivers/qemu/qemu-pin.h"
#include "drivers/qemu/qemu-stats.h"
#include "drivers/qemu/qemu-status.h"
#include "xml/domain-conf-priv.h"

#define JOB_WAIT_MS 30000     /* a second state change waits this long for the first */
#define QMP_TIMEOUT_MS 10000  /* every QMP command */
#define START_TIMEOUT_MS 30000 /* QEMU's monitor must answer within this after exec */
#define DESTROY_GRACE_MS 10000 /* SIGTERM, then SIGKILL */
#define STOP_WAIT_MS 5000      /* after SIGKILL, for the exit to be processed */
#define VNC_PORT_MIN 5900
#define VNC_PORT_MAX 65535

/* ---- jobs ---- */

/* Take the domain's job (the domain is locked). Waits at most JOB_WAIT_MS. */
gboolean
qemu_job_begin(QemuDomain *dom, const char *job, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + JOB_WAIT_MS * G_TIME_SPAN_MILLISECOND;
    while (dom->job) {
        if (!g_cond_wait_until(&dom->job_cond, &dom->lock, deadline)) {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_TIMEOUT,
                           _("cannot %s domain '%s': job '%s' still holds it after %d s"),
                           job, qemu_domain_name(dom), dom->job, JOB_WAIT_MS / 1000);
            return FALSE;
        }
    }
    if (dom->removed) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_NO_DOMAIN,
                       _("domain '%s' was removed meanwhile"), qemu_domain_name(dom));
        return FALSE;
    }
    dom->job = job;
    return TRUE;
}

void
qemu_job_end(QemuDomain *dom)
{
    dom->job = NULL;
    g_cond_broadcast(&dom->job_cond);
}

gboolean
qemu_domain_check_active(QemuDomain *dom, GError **error)
{
    if (!qemu_domain_is_active(dom)) {
        virt_error_set(error, VIR_FROM_DOMAIN, VIR_ERR_OPERATION_INVALID,
                       _("domain '%s' is not running"), qemu_domain_name(dom));
        return FALSE;
    }
    return TRUE;
}

/* ---- files of a running domain ---- */

static char *
status_path(QemuDriver *drv, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(drv->cfg.state_dir, file, NULL);
}

static char *
log_path(QemuDriver *drv, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".log", NULL);
    return g_build_filename(drv->cfg.log_dir, file, NULL);
}

void
qemu_run_save_status(QemuDriver *drv, QemuDomain *dom)
{
    QemuStatus st = {
        .state = dom->state,
        .reason = dom->reason,
        .id = dom->id,
        .pid = qemu_process_get_pid(dom->proc),
        .monitor_path = g_build_filename(dom->run_dir, "monitor.sock", NULL),
        .def = dom->def,
        .vcpu_unplugged = dom->vcpu_unplugged,
        .updated = dom->updated,
        .unplug_path = dom->unplug_path, /* borrowed */
        .unplug_vcpu = dom->unplug_vcpu,
    };
    g_autofree char *xml = qemu_status_format(&st);
    g_autofree char *path = status_path(drv, qemu_domain_name(dom));
    g_autoptr(GError) err = NULL;
    if (!file_write_atomic(path, xml, strlen(xml), 0600, &err))
        g_warning("domain '%s': %s (a restarted daemon will not find it)",
                  qemu_domain_name(dom), err->message);
    g_free(st.monitor_path);
}

static void
remove_run_files(QemuDriver *drv, const char *name, const char *run_dir)
{
    g_autofree char *path = status_path(drv, name);
    g_autoptr(GError) err = NULL;
    if (!file_remove_durable(path, &err))
        g_warning("%s", err->message);
    if (run_dir) {
        g_autoptr(GDir) dir = g_dir_open(run_dir, 0, NULL);
        for (const char *entry; dir && (entry = g_dir_read_name(dir));) {
            g_autofree char *child = g_build_filename(run_dir, entry, NULL);
            unlink(child);
        }
        rmdir(run_dir);
    }
}

/* A free TCP port for an autoport VNC display. */
static int
find_vnc_port(void)
{
    for (int port = VNC_PORT_MIN; port <= VNC_PORT_MAX; port++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -1;
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
        gboolean free_port = bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
        close(fd);
        if (free_port)
            return port;
    }
    return -1;
}

/* ---- what only the running QEMU knows ---- */

/* Record the autoport VNC display's port in the live definition, as libvirt shows it. */
static void
live_set_vnc_port(DomainDef *live, int port)
{
    for (guint i = 0; i < live->devices.graphics.len; i++) {
        DomainGraphicsDef *gfx = ptr_vec_index(&live->devices.graphics, i);
        if (g_strcmp0(gfx->type, "vnc") == 0 && gfx->autoport) {
            gfx->port = port;
            return;
        }
    }
}

/* The pty QEMU opened for chardev @label, from a query-chardev reply, or NULL. */
static const char *
chardev_pty(json_object *chardevs, const char *label)
{
    for (size_t i = 0; chardevs && i < json_object_array_length(chardevs); i++) {
        json_object *c = json_object_array_get_idx(chardevs, i), *l = NULL, *f = NULL;
        if (json_object_object_get_ex(c, "label", &l) &&
            g_strcmp0(json_object_get_string(l), label) == 0 &&
            json_object_object_get_ex(c, "filename", &f) &&
            g_str_has_prefix(json_object_get_string(f), "pty:"))
            return json_object_get_string(f) + strlen("pty:");
    }
    return NULL;
}

/* Put the ptys QEMU allocated into the live definition (virsh ttyconsole, console). The
 * chardev labels follow the command line's device aliases: charserialN, charconsoleN,
 * charchannelN; a console on the serial port shares serial0's pty. */
static void
live_set_ptys(DomainDef *live, json_object *chardevs)
{
    struct {
        const PtrVec *list;
        const char *prefix;
    } kinds[] = {
        {&live->devices.serials, "charserial"},
        {&live->devices.consoles, "charconsole"},
        {&live->devices.channels, "charchannel"},
    };
    for (gsize k = 0; k < G_N_ELEMENTS(kinds); k++) {
        for (guint i = 0; i < kinds[k].list->len; i++) {
            DomainChrDef *chr = ptr_vec_index(kinds[k].list, i);
            if (g_strcmp0(chr->type, "pty") != 0)
                continue;
            g_autofree char *label = g_strdup_printf("%s%u", kinds[k].prefix, i);
            const char *pty = chardev_pty(chardevs, label);
            if (!pty && chr->kind == DOMAIN_CHR_CONSOLE &&
                g_strcmp0(chr->target_type, "virtio") != 0)
                pty = chardev_pty(chardevs, "charserial0");
            if (pty) {
                g_free(chr->source_path);
                chr->source_path = g_strdup(pty);
            }
        }
    }
}

/* ---- stopping ---- */

/* The domain (locked) has stopped: record why, clean up, queue the events. */
static void
domain_stopped(QemuDriver *drv, QemuDomain *dom, int reason, int event_detail,
               GPtrArray *events)
{
    g_autoptr(QemuProcess) proc = g_steal_pointer(&dom->proc);
    if (proc)
        qemu_process_close(proc);
    remove_run_files(drv, qemu_domain_name(dom), dom->run_dir);
    g_clear_pointer(&dom->run_dir, g_free);
    qemu_cgroup_teardown(dom);
    qemu_hotplug_stopped(dom);

    qemu_events_add_lifecycle(events, dom, NULL, VIR_DOMAIN_EVENT_STOPPED, event_detail);
    dom->state = VIR_DOMAIN_SHUTOFF;
    dom->reason = reason;
    dom->id = -1;
    dom->pid = 0;
    dom->destroying = dom->shutdown_seen = dom->fake_reboot = FALSE;
    if (dom->new_def) {
        /* Back to the persistent definition, with any change made while running. */
        domain_def_free(dom->def);
        dom->def = g_steal_pointer(&dom->new_def);
        dom->updated = FALSE;
    }
    if (!dom->persistent)
        qemu_driver_table_remove(drv, dom);
    g_cond_broadcast(&dom->job_cond);
}

/* ---- work done off the I/O thread ---- */

typedef enum {
    TASK_EXITED,
    TASK_SHUTDOWN,
    TASK_RESET,
    TASK_MONITOR_EVENT,
    TASK_DEVICE_DELETED,
} TaskKind;

typedef struct {
    TaskKind kind;
    QemuDomain *dom;   /* reference */
    QemuProcess *proc; /* reference */
    gboolean guest;    /* TASK_SHUTDOWN: the guest asked (not the host) */
    DomainEvent *monitor_event; /* TASK_MONITOR_EVENT: all but the domain filled in */
    char *device_path; /* TASK_DEVICE_DELETED: the QOM path of the device gone */
} Task;

static void
task_free(Task *task)
{
    qemu_domain_unref(task->dom);
    qemu_process_unref(task->proc);
    domain_event_free(task->monitor_event);
    g_free(task->device_path);
    g_free(task);
}

static void
task_exited(QemuDriver *drv, Task *task, GPtrArray *events)
{
    QemuDomain *dom = task->dom;
    if (dom->proc != task->proc)
        return; /* an old process, or the start is still setting up (it checks itself) */
    if (dom->destroying)
        domain_stopped(drv, dom, VIR_DOMAIN_SHUTOFF_DESTROYED,
                       VIR_DOMAIN_EVENT_STOPPED_DESTROYED, events);
    else if (dom->shutdown_seen)
        domain_stopped(drv, dom, VIR_DOMAIN_SHUTOFF_SHUTDOWN,
                       VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN, events);
    else
        domain_stopped(drv, dom, VIR_DOMAIN_SHUTOFF_CRASHED, VIR_DOMAIN_EVENT_STOPPED_FAILED,
                       events);
}

static void
add_reboot_event(GPtrArray *events, QemuDomain *dom)
{
    DomainEvent *ev = g_new0(DomainEvent, 1);
    ev->event_id = VIR_DOMAIN_EVENT_ID_REBOOT;
    qemu_domain_fill_ref(dom, &ev->dom);
    g_ptr_array_add(events, ev);
}

/* The guest shut down (power button or its own poweroff): QEMU stopped (-no-shutdown).
 * A reboot through the power button resets and continues; otherwise on_poweroff
 * 'destroy' ends QEMU, and its exit completes the stop. */
static void
task_shutdown(QemuDriver *drv, Task *task, GPtrArray *events)
{
    QemuDomain *dom = task->dom;
    /* QEMU also reports the SIGTERM that ends it as a shutdown: one is enough. */
    if (dom->proc != task->proc || dom->shutdown_seen || dom->destroying)
        return;
    if (dom->fake_reboot) {
        dom->fake_reboot = FALSE;
        g_mutex_unlock(&dom->lock);
        g_autoptr(GError) err = NULL;
        json_object *r = qemu_process_qmp(task->proc, "system_reset", NULL, QMP_TIMEOUT_MS, &err);
        json_object_put(r);
        if (r)
            json_object_put(r = qemu_process_qmp(task->proc, "cont", NULL, QMP_TIMEOUT_MS, &err));
        g_mutex_lock(&dom->lock);
        if (!r)
            g_warning("domain '%s': reboot failed: %s", qemu_domain_name(dom), err->message);
        return;
    }
    dom->shutdown_seen = TRUE;
    dom->state = VIR_DOMAIN_SHUTDOWN;
    dom->reason = VIR_DOMAIN_SHUTDOWN_USER;
    qemu_events_add_lifecycle(events, dom, NULL, VIR_DOMAIN_EVENT_SHUTDOWN,
                              task->guest ? VIR_DOMAIN_EVENT_SHUTDOWN_GUEST
                                          : VIR_DOMAIN_EVENT_SHUTDOWN_HOST);
    /* on_poweroff: QEMU ends on SIGTERM promptly; its exit finishes the stop. */
    kill(qemu_process_get_pid(task->proc), SIGTERM);
}

static void
task_run(gpointer data, gpointer user_data)
{
    Task *task = data;
    QemuDriver *drv = user_data;
    g_autoptr(GPtrArray) events = qemu_events_new();

    g_mutex_lock(&task->dom->lock);
    switch (task->kind) {
    case TASK_EXITED:
        task_exited(drv, task, events);
        break;
    case TASK_SHUTDOWN:
        task_shutdown(drv, task, events);
        break;
    case TASK_RESET:
        add_reboot_event(events, task->dom);
        break;
    case TASK_MONITOR_EVENT:
        qemu_domain_fill_ref(task->dom, &task->monitor_event->dom);
        g_ptr_array_add(events, g_steal_pointer(&task->monitor_event));
        break;
    case TASK_DEVICE_DELETED:
        if (task->dom->proc == task->proc)
            qemu_hotplug_device_deleted(drv, task->dom, task->device_path);
        break;
    }
    g_mutex_unlock(&task->dom->lock);
    qemu_driver_emit(drv, events);
    task_free(task);
}

typedef struct {
    QemuDriver *drv;
    QemuDomain *dom; /* reference, for as long as the process is watched */
} Watch;

static Task *
task_new(Watch *w, QemuProcess *proc, TaskKind kind)
{
    Task *task = g_new0(Task, 1);
    task->kind = kind;
    task->dom = qemu_domain_ref(w->dom);
    task->proc = qemu_process_ref(proc);
    return task;
}

static void
queue_task(Watch *w, QemuProcess *proc, TaskKind kind, gboolean guest)
{
    Task *task = task_new(w, proc, kind);
    task->guest = guest;
    g_thread_pool_push(w->drv->work, task, NULL);
}

/* Every QMP event also goes to the clients of the QEMU program's monitor events. */
static void
queue_monitor_event(Watch *w, QemuProcess *proc, const QmpMessage *msg)
{
    Task *task = task_new(w, proc, TASK_MONITOR_EVENT);
    DomainEvent *ev = g_new0(DomainEvent, 1);
    ev->event_id = DOMAIN_EVENT_QEMU_MONITOR;
    ev->monitor_event = g_strdup(msg->event);
    ev->monitor_seconds = msg->timestamp_us / G_USEC_PER_SEC;
    ev->monitor_micros = msg->timestamp_us % G_USEC_PER_SEC;
    if (msg->value)
        ev->monitor_details =
            g_strdup(json_object_to_json_string_ext(msg->value, JSON_C_TO_STRING_PLAIN));
    task->monitor_event = ev;
    g_thread_pool_push(w->drv->work, task, NULL);
}

/* On the I/O thread: turn QEMU's events into tasks. */
static void
on_qemu_event(QemuProcess *proc, const QmpMessage *msg, gpointer opaque)
{
    queue_monitor_event(opaque, proc, msg);
    if (strcmp(msg->event, "SHUTDOWN") == 0) {
        json_object *guest = NULL;
        gboolean by_guest = msg->value && json_object_object_get_ex(msg->value, "guest", &guest) &&
                            json_object_get_boolean(guest);
        queue_task(opaque, proc, TASK_SHUTDOWN, by_guest);
    } else if (strcmp(msg->event, "RESET") == 0) {
        queue_task(opaque, proc, TASK_RESET, FALSE);
    } else if (strcmp(msg->event, "DEVICE_DELETED") == 0) {
        json_object *path = NULL;
        Task *task = task_new(opaque, proc, TASK_DEVICE_DELETED);
        if (msg->value && json_object_object_get_ex(msg->value, "path", &path))
            task->device_path = g_strdup(json_object_get_string(path));
        g_thread_pool_push(((Watch *)opaque)->drv->work, task, NULL);
    }
}

static void
on_qemu_exited(QemuProcess *proc, gpointer opaque)
{
    queue_task(opaque, proc, TASK_EXITED, FALSE);
}

static const QemuProcessCallbacks process_callbacks = {
    .event = on_qemu_event,
    .exited = on_qemu_exited,
};

static Watch *
watch_new(QemuDriver *drv, QemuDomain *dom)
{
    Watch *w = g_new0(Watch, 1);
    w->drv = drv;
    w->dom = qemu_domain_ref(dom);
    return w;
}

static void
watch_free(gpointer data)
{
    Watch *w = data;
    qemu_domain_unref(w->dom);
    g_free(w);
}

/* ---- starting ---- */

static QemuProcessParams
process_params(QemuDriver *drv, const char *name, const char *const *argv,
               const char *monitor, const char *log, Watch *w)
{
    QemuProcessParams p = {
        .name = name,
        .argv = argv,
        .monitor_path = monitor,
        .log_path = log,
        .timeout_ms = START_TIMEOUT_MS,
        .ctx = drv->io_ctx,
        .callbacks = &process_callbacks,
        .opaque = w,
        .opaque_free = watch_free,
    };
    return p;
}

/* The vCPU threads of @proc (QemuVcpuThread), NULL when QEMU does not say. */
static GArray *
query_vcpu_threads(QemuProcess *proc)
{
    json_object *reply = qemu_process_qmp(proc, "query-cpus-fast", NULL, QMP_TIMEOUT_MS, NULL);
    GArray *threads = reply ? qemu_stats_parse_vcpu_threads(reply) : NULL;
    json_object_put(reply);
    return threads;
}

/* A start failed after the spawn: QEMU is killed and its cgroup removed. */
static void
abandon_start(QemuDomain *dom, QemuProcess **proc)
{
    qemu_process_kill(*proc, 0);
    qemu_process_close(*proc);
    g_clear_pointer(proc, qemu_process_unref);
    qemu_cgroup_teardown(dom);
}

typedef struct {
    QemuDriver *drv;
    QemuDomain *dom;
    DomainDef *live;
    int id;
} SpawnedContext;

/* QEMU was just exec'd: its cgroup is set up while it initialises. */
static gboolean
on_spawned(pid_t pid, gpointer data, GError **error)
{
    SpawnedContext *c = data;
    return qemu_cgroup_place(c->drv, c->dom, c->live, c->id, pid, error);
}

/* Start @dom (locked, job held). The lock is dropped during the spawn and handshake. */
static gboolean
start_locked(QemuDriver *drv, QemuDomain *dom, unsigned int flags, GPtrArray *events,
             GError **error)
{
    if (qemu_domain_is_active(dom)) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("domain '%s' is already running"), qemu_domain_name(dom));
        return FALSE;
    }
    if (!drv->cfg.state_dir || !drv->cfg.log_dir) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_UNSUPPORTED,
                       _("this driver has no state directory to run domains in"));
        return FALSE;
    }
    g_autoptr(QemuCaps) caps = qemu_driver_get_caps(drv, error);
    if (!caps)
        return FALSE;

    g_autoptr(DomainDef) live = domain_def_copy(qemu_domain_persistent_def(dom));
    if (!qemu_numa_prepare(drv, live, error)) /* host nodes checked, placement='auto' */
        return FALSE;
    g_autofree char *name = g_strdup(qemu_domain_name(dom));
    int id = g_atomic_int_add(&drv->next_id, 1);
    g_autofree char *dir_name = g_strdup_printf("domain-%d-%s", id, name);
    g_autofree char *run_dir = g_build_filename(drv->cfg.state_dir, dir_name, NULL);
    g_autofree char *monitor = g_build_filename(run_dir, "monitor.sock", NULL);
    g_autofree char *log = log_path(drv, name);
    if (!file_make_dirs(run_dir, 0700, error))
        return FALSE;

    QemuCommandContext ctx = {
        .monitor_path = monitor,
        .domain_dir = run_dir,
        .vnc_port = find_vnc_port(),
        .kvm_usable = qemu_caps_has_kvm(caps),
    };
    g_auto(GStrv) argv = qemu_command_build(live, caps, &ctx, error);
    if (!argv) {
        remove_run_files(drv, name, run_dir);
        return FALSE;
    }

    Watch *w = watch_new(drv, dom);
    QemuProcessParams params = process_params(drv, name, (const char *const *)argv, monitor,
                                              log, w);
    /* The job is held and the domain is not active yet: its cgroups are ours alone. */
    SpawnedContext spawned = {drv, dom, live, id};
    params.spawned = on_spawned;
    params.spawned_data = &spawned;
    g_mutex_unlock(&dom->lock);
    g_autoptr(GError) local = NULL;
    g_autoptr(QemuProcess) proc = qemu_process_start(&params, &local);
    if (proc) {
        json_object *chardevs = qemu_process_qmp(proc, "query-chardev", NULL, QMP_TIMEOUT_MS,
                                                 NULL);
        live_set_ptys(live, chardevs);
        json_object_put(chardevs);
        live_set_vnc_port(live, ctx.vnc_port);
        /* The vCPUs <vcpus> plugs come first: their threads are placed with the others. */
        if (!qemu_hotplug_start_vcpus(proc, live, &local))
            abandon_start(dom, &proc);
    }
    if (proc) {
        g_autoptr(GArray) vcpus = query_vcpu_threads(proc);
        if (!qemu_cgroup_split(dom, live, qemu_process_get_pid(proc), vcpus, &local))
            abandon_start(dom, &proc);
    }
    if (proc && !qemu_iotune_start(proc, live, &local))
        abandon_start(dom, &proc);
    if (proc && !qemu_pin_start_iothreads(dom, live, qemu_process_get_pid(proc), &local))
        abandon_start(dom, &proc);
    if (proc && !qemu_hotplug_start(proc, live, &local))
        abandon_start(dom, &proc);
    if (proc && !(flags & VIR_DOMAIN_START_PAUSED)) {
        json_object *r = qemu_process_qmp(proc, "cont", NULL, QMP_TIMEOUT_MS, &local);
        if (!r)
            abandon_start(dom, &proc);
        json_object_put(r);
    }
    g_mutex_lock(&dom->lock);

    if (!proc) {
        qemu_cgroup_teardown(dom); /* QEMU may have died after its group was made */
        remove_run_files(drv, name, run_dir);
        dom->reason = VIR_DOMAIN_SHUTOFF_FAILED;
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }

    if (dom->persistent) {
        dom->new_def = dom->def;
        dom->def = g_steal_pointer(&live);
    } else {
        domain_def_free(dom->def);
        dom->def = g_steal_pointer(&live);
    }
    dom->proc = qemu_process_ref(proc);
    dom->pid = qemu_process_get_pid(proc);
    dom->id = id;
    dom->run_dir = g_steal_pointer(&run_dir);
    dom->destroying = dom->shutdown_seen = dom->fake_reboot = FALSE;
    gboolean paused = flags & VIR_DOMAIN_START_PAUSED;
    dom->state = paused ? VIR_DOMAIN_PAUSED : VIR_DOMAIN_RUNNING;
    dom->reason = paused ? VIR_DOMAIN_PAUSED_USER : VIR_DOMAIN_RUNNING_BOOTED;
    qemu_run_save_status(drv, dom);
    qemu_events_add_lifecycle(events, dom, NULL, VIR_DOMAIN_EVENT_STARTED,
                              VIR_DOMAIN_EVENT_STARTED_BOOTED);
    if (paused)
        qemu_events_add_lifecycle(events, dom, NULL, VIR_DOMAIN_EVENT_SUSPENDED,
                                  VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
    /* QEMU may have died before we installed it: its exit task found no match. */
    if (qemu_process_has_exited(proc))
        domain_stopped(drv, dom, VIR_DOMAIN_SHUTOFF_CRASHED, VIR_DOMAIN_EVENT_STOPPED_FAILED,
                       events);
    return TRUE;
}

static gboolean
qemu_run_domain_create(VirtDriver *vdrv, const unsigned char *uuid, unsigned int flags,
                       GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    const unsigned int allowed = VIR_DOMAIN_START_PAUSED | VIR_DOMAIN_START_AUTODESTROY |
                                 VIR_DOMAIN_START_BYPASS_CACHE | VIR_DOMAIN_START_FORCE_BOOT;
    if (!qemu_driver_check_flags(flags, allowed, error))
        return FALSE;
    g_autoptr(GPtrArray) events = qemu_events_new();
    QemuDomainLocked *dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom)
        return FALSE;
    gboolean ok = qemu_job_begin(dom, "start", error);
    if (ok) {
        ok = start_locked(drv, dom, flags, events, error);
        qemu_job_end(dom);
    }
    qemu_domain_release(dom);
    qemu_driver_emit(drv, events);
    return ok;
}

static gboolean
qemu_run_domain_create_xml(VirtDriver *vdrv, const char *xml, unsigned int flags,
                           DomainRef *ret_dom, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    const unsigned int allowed = VIR_DOMAIN_START_PAUSED | VIR_DOMAIN_START_AUTODESTROY |
                                 VIR_DOMAIN_START_BYPASS_CACHE | VIR_DOMAIN_START_VALIDATE;
    if (!qemu_driver_check_flags(flags, allowed, error))
        return FALSE;
    g_autoptr(DomainDef) def =
        domain_def_parse(xml, (flags & VIR_DOMAIN_START_VALIDATE) ? DOMAIN_PARSE_VALIDATE : 0,
                         error);
    if (!def || !domain_name_check(domain_def_get_name(def), error) ||
        !qemu_driver_resolve_machine(drv, def, error))
        return FALSE;

    /* A transient domain: in the table (name and uuid unique) only while it runs. */
    g_mutex_lock(&drv->define_lock);
    char uuid_str[QEMU_UUID_STRLEN];
    uuid_unparse_lower(domain_def_get_uuid(def), uuid_str);
    g_autoptr(QemuDomain) same_uuid = qemu_driver_find_uuid(drv, uuid_str);
    g_autoptr(QemuDomain) same_name = qemu_driver_find_name(drv, domain_def_get_name(def));
    if (same_uuid || same_name) {
        g_mutex_unlock(&drv->define_lock);
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("domain '%s' already exists: start it or undefine it first"),
                       domain_def_get_name(def));
        return FALSE;
    }
    QemuDomain *dom = qemu_domain_new(g_steal_pointer(&def));
    dom->persistent = FALSE;
    g_mutex_lock(&dom->lock);
    dom->job = "start"; /* nobody can take it before we are done */
    qemu_driver_table_insert(drv, dom);
    g_mutex_unlock(&drv->define_lock);

    g_autoptr(GPtrArray) events = qemu_events_new();
    gboolean ok = start_locked(drv, dom, flags, events, error);
    if (ok)
        qemu_domain_fill_ref(dom, ret_dom);
    else
        qemu_driver_table_remove(drv, dom);
    qemu_job_end(dom);
    g_mutex_unlock(&dom->lock);
    qemu_domain_unref(dom);
    qemu_driver_emit(drv, events);
    return ok;
}

/* ---- destroy: no job, works while QEMU is stuck ---- */

static gboolean
wait_stopped(QemuDomain *dom, QemuProcess *proc, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * G_TIME_SPAN_MILLISECOND;
    while (dom->proc == proc) {
        if (!g_cond_wait_until(&dom->job_cond, &dom->lock, deadline))
            return FALSE;
    }
    return TRUE;
}

static gboolean
qemu_run_domain_destroy(VirtDriver *vdrv, const unsigned char *uuid, unsigned int flags,
                        GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    if (!qemu_driver_check_flags(flags, VIR_DOMAIN_DESTROY_GRACEFUL, error))
        return FALSE;
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom || !qemu_domain_check_active(dom, error))
        return FALSE;
    QemuProcess *proc = dom->proc;
    pid_t pid = qemu_process_get_pid(proc);
    dom->destroying = TRUE;

    kill(pid, SIGTERM);
    kill(pid, SIGCONT); /* a stopped QEMU would keep SIGTERM pending forever */
    if (wait_stopped(dom, proc, DESTROY_GRACE_MS))
        return TRUE;
    if (flags & VIR_DOMAIN_DESTROY_GRACEFUL) {
        dom->destroying = FALSE;
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_TIMEOUT,
                       _("domain '%s' did not end within %d s of SIGTERM"),
                       qemu_domain_name(dom), DESTROY_GRACE_MS / 1000);
        return FALSE;
    }
    kill(pid, SIGKILL);
    if (wait_stopped(dom, proc, STOP_WAIT_MS))
        return TRUE;
    virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                   _("QEMU process %d of domain '%s' did not end after SIGKILL"), pid,
                   qemu_domain_name(dom));
    return FALSE;
}

/* ---- QMP-driven controls ---- */

/* Run one QMP command on a running domain under job @job. On success the domain is
 * locked again and @after (if any) updates its state and events. */
typedef void (*AfterFunc)(QemuDriver *drv, QemuDomain *dom, GPtrArray *events);

static gboolean
qmp_job(QemuDriver *drv, const unsigned char *uuid, const char *job, const char *command,
        AfterFunc after, GError **error)
{
    g_autoptr(GPtrArray) events = qemu_events_new();
    QemuDomainLocked *dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom)
        return FALSE;
    gboolean ok = qemu_job_begin(dom, job, error);
    if (ok) {
        ok = qemu_domain_check_active(dom, error);
        if (ok) {
            g_autoptr(QemuProcess) proc = qemu_process_ref(dom->proc);
            g_mutex_unlock(&dom->lock);
            json_object *r = qemu_process_qmp(proc, command, NULL, QMP_TIMEOUT_MS, error);
            g_mutex_lock(&dom->lock);
            ok = r != NULL;
            json_object_put(r);
            if (ok && after && dom->proc == proc)
                after(drv, dom, events);
        }
        qemu_job_end(dom);
    }
    qemu_domain_release(dom);
    qemu_driver_emit(drv, events);
    return ok;
}

static void
after_suspend(QemuDriver *drv, QemuDomain *dom, GPtrArray *events)
{
    dom->state = VIR_DOMAIN_PAUSED;
    dom->reason = VIR_DOMAIN_PAUSED_USER;
    qemu_run_save_status(drv, dom);
    qemu_events_add_lifecycle(events, dom, NULL, VIR_DOMAIN_EVENT_SUSPENDED,
                              VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
}

static void
after_resume(QemuDriver *drv, QemuDomain *dom, GPtrArray *events)
{
    dom->state = VIR_DOMAIN_RUNNING;
    dom->reason = VIR_DOMAIN_RUNNING_UNPAUSED;
    qemu_run_save_status(drv, dom);
    qemu_events_add_lifecycle(events, dom, NULL, VIR_DOMAIN_EVENT_RESUMED,
                              VIR_DOMAIN_EVENT_RESUMED_UNPAUSED);
}

static gboolean
qemu_run_domain_suspend(VirtDriver *vdrv, const unsigned char *uuid, GError **error)
{
    return qmp_job(qemu_driver_cast(vdrv), uuid, "suspend", "stop", after_suspend, error);
}

static gboolean
qemu_run_domain_resume(VirtDriver *vdrv, const unsigned char *uuid, GError **error)
{
    return qmp_job(qemu_driver_cast(vdrv), uuid, "resume", "cont", after_resume, error);
}

static gboolean
qemu_run_domain_shutdown(VirtDriver *vdrv, const unsigned char *uuid, unsigned int flags,
                         GError **error)
{
    if (!qemu_driver_check_flags(flags, VIR_DOMAIN_SHUTDOWN_DEFAULT |
                                            VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN, error))
        return FALSE;
    return qmp_job(qemu_driver_cast(vdrv), uuid, "shut down", "system_powerdown", NULL, error);
}

static void
after_reboot_press(QemuDriver *drv, QemuDomain *dom, GPtrArray *events)
{
    dom->fake_reboot = TRUE; /* the guest's shutdown becomes a reset (task_shutdown) */
}

static gboolean
qemu_run_domain_reboot(VirtDriver *vdrv, const unsigned char *uuid, unsigned int flags,
                       GError **error)
{
    if (!qemu_driver_check_flags(flags, VIR_DOMAIN_REBOOT_DEFAULT |
                                            VIR_DOMAIN_REBOOT_ACPI_POWER_BTN, error))
        return FALSE;
    return qmp_job(qemu_driver_cast(vdrv), uuid, "reboot", "system_powerdown",
                   after_reboot_press, error);
}

static gboolean
qemu_run_domain_reset(VirtDriver *vdrv, const unsigned char *uuid, unsigned int flags,
                      GError **error)
{
    if (!qemu_driver_check_flags(flags, 0, error))
        return FALSE;
    return qmp_job(qemu_driver_cast(vdrv), uuid, "reset", "system_reset", NULL, error);
}

static char *
qemu_run_domain_monitor_command(VirtDriver *vdrv, const unsigned char *uuid,
                                const char *command, unsigned int flags, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    if (!qemu_driver_check_flags(flags, VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP, error))
        return NULL;
    QemuProcess *held = NULL;
    {
        g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(drv, uuid, error);
        if (!dom || !qemu_domain_check_active(dom, error))
            return NULL;
        held = qemu_process_ref(dom->proc);
    }
    g_autoptr(QemuProcess) proc = held;
    if (flags & VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP)
        return qemu_process_hmp(proc, command, QMP_TIMEOUT_MS, error);

    json_object *cmd = json_tokener_parse(command);
    json_object *execute = NULL, *args = NULL;
    if (!cmd || !json_object_object_get_ex(cmd, "execute", &execute) ||
        !json_object_is_type(execute, json_type_string)) {
        json_object_put(cmd);
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("'%s' is not a QMP command: expected {\"execute\": \"...\"}"), command);
        return NULL;
    }
    json_object_object_get_ex(cmd, "arguments", &args);
    json_object *ret = qemu_process_qmp(proc, json_object_get_string(execute), args,
                                        QMP_TIMEOUT_MS, error);
    json_object_put(cmd);
    if (!ret)
        return NULL;
    json_object *reply = json_object_new_object();
    json_object_object_add(reply, "return", ret);
    char *text = g_strdup(json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN));
    json_object_put(reply);
    return text;
}

/* The character device @dev_name of @def: "console0", "serial1", "channel0"...; NULL means
 * the first console, else the first serial port. */
static const DomainChrDef *
find_chardev(const DomainDef *def, const char *dev_name)
{
    struct {
        const PtrVec *list;
        const char *prefix;
    } kinds[] = {
        {&def->devices.consoles, "console"},
        {&def->devices.serials, "serial"},
        {&def->devices.channels, "channel"},
    };
    for (gsize k = 0; k < G_N_ELEMENTS(kinds); k++) {
        for (guint i = 0; i < kinds[k].list->len; i++) {
            g_autofree char *alias = g_strdup_printf("%s%u", kinds[k].prefix, i);
            if (!dev_name || strcmp(dev_name, alias) == 0)
                return ptr_vec_index(kinds[k].list, i);
        }
    }
    return NULL;
}

static int
qemu_run_domain_open_console(VirtDriver *vdrv, const unsigned char *uuid,
                             const char *dev_name, unsigned int flags, GError **error)
{
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(qemu_driver_cast(vdrv), uuid, error);
    if (!dom || !qemu_domain_check_active(dom, error))
        return -1;
    const DomainChrDef *chr = find_chardev(dom->def, dev_name);
    if (!chr) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       dev_name ? _("domain '%s' has no character device '%s'")
                                : _("domain '%s' has no console%s"),
                       qemu_domain_name(dom), dev_name ? dev_name : "");
        return -1;
    }
    if (g_strcmp0(chr->type, "pty") != 0 || !chr->source_path) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_UNSUPPORTED,
                       _("the console of domain '%s' is of type '%s': only a pty can be opened"),
                       qemu_domain_name(dom), chr->type);
        return -1;
    }
    int fd = open(chr->source_path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    struct termios tio;
    if (fd < 0 || tcgetattr(fd, &tio) < 0) {
        virt_error_set_errno(error, VIR_FROM_QEMU, errno, _("cannot open console '%s'"),
                             chr->source_path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    cfmakeraw(&tio); /* bytes pass as they are: the client's terminal does the echo */
    tcsetattr(fd, TCSADRAIN, &tio);
    return fd;
}

guint64
qemu_run_cpu_time(QemuDomain *dom)
{
    return dom->proc ? qemu_process_cpu_time(dom->proc) : 0;
}

/* ---- re-attach after a daemon restart ---- */

static void
reattach_one(QemuDriver *drv, const char *file, GPtrArray *events)
{
    g_autofree char *path = g_build_filename(drv->cfg.state_dir, file, NULL);
    g_autofree char *xml = NULL;
    g_autoptr(GError) err = NULL;
    QemuStatus st;
    if (!g_file_get_contents(path, &xml, NULL, &err) || !qemu_status_parse(xml, &st, &err)) {
        g_warning("ignoring status file '%s': %s", path, err->message);
        return;
    }
    const char *name = domain_def_get_name(st.def);
    char uuid_str[QEMU_UUID_STRLEN];
    uuid_unparse_lower(domain_def_get_uuid(st.def), uuid_str);

    g_mutex_lock(&drv->define_lock);
    QemuDomain *dom = qemu_driver_find_uuid(drv, uuid_str);
    if (!dom) {
        /* A transient domain: it exists again only if its QEMU still runs. */
        dom = qemu_domain_new(domain_def_copy(st.def));
        dom->persistent = FALSE;
        qemu_driver_table_insert(drv, dom);
    }
    g_mutex_unlock(&drv->define_lock);

    g_mutex_lock(&dom->lock);
    g_autofree char *log = log_path(drv, name);
    Watch *w = watch_new(drv, dom);
    QemuProcessParams params = process_params(drv, name, NULL, st.monitor_path, log, w);
    params.timeout_ms = 2000;
    g_autoptr(QemuProcess) proc = qemu_process_attach(&params, st.pid, &err);

    if (dom->persistent) {
        dom->new_def = dom->def;
        dom->def = g_steal_pointer(&st.def);
    } else {
        domain_def_free(dom->def);
        dom->def = g_steal_pointer(&st.def);
    }
    dom->id = st.id;
    dom->pid = st.pid;
    dom->run_dir = g_path_get_dirname(st.monitor_path);
    if (st.id >= g_atomic_int_get(&drv->next_id))
        g_atomic_int_set(&drv->next_id, st.id + 1);

    if (!proc) {
        /* It ended while no daemon watched: say how as well as we can tell. */
        g_message("domain '%s' stopped while the daemon was away: %s", name, err->message);
        qemu_cgroup_reattach(drv, dom, NULL); /* so that stopping removes its group */
        gboolean was_shutting_down = st.state == VIR_DOMAIN_SHUTDOWN;
        domain_stopped(drv, dom,
                       was_shutting_down ? VIR_DOMAIN_SHUTOFF_SHUTDOWN : VIR_DOMAIN_SHUTOFF_CRASHED,
                       was_shutting_down ? VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN
                                         : VIR_DOMAIN_EVENT_STOPPED_FAILED,
                       events);
    } else {
        dom->proc = qemu_process_ref(proc);
        dom->state = st.state;
        dom->reason = st.reason;
        dom->vcpu_unplugged = st.vcpu_unplugged;
        dom->updated = st.updated;
        dom->unplug_path = g_steal_pointer(&st.unplug_path); /* its event may still come */
        dom->unplug_vcpu = st.unplug_vcpu;
        /* Resync the run state with what QEMU says now. */
        g_mutex_unlock(&dom->lock);
        json_object *status = qemu_process_qmp(proc, "query-status", NULL, QMP_TIMEOUT_MS, NULL);
        g_autoptr(GArray) vcpus = query_vcpu_threads(proc);
        g_mutex_lock(&dom->lock);
        if (dom->proc == proc) {
            qemu_cgroup_reattach(drv, dom, vcpus);
            qemu_hotplug_reattached(drv, dom, vcpus);
        }
        json_object *running = NULL;
        if (status && json_object_object_get_ex(status, "running", &running) &&
            dom->proc == proc) {
            gboolean is_running = json_object_get_boolean(running);
            if (is_running && dom->state != VIR_DOMAIN_RUNNING) {
                dom->state = VIR_DOMAIN_RUNNING;
                dom->reason = VIR_DOMAIN_RUNNING_UNPAUSED;
            } else if (!is_running && dom->state == VIR_DOMAIN_RUNNING) {
                dom->state = VIR_DOMAIN_PAUSED;
                dom->reason = VIR_DOMAIN_PAUSED_UNKNOWN;
            }
            qemu_run_save_status(drv, dom);
        }
        json_object_put(status);
        if (qemu_process_has_exited(proc) && dom->proc == proc)
            domain_stopped(drv, dom, VIR_DOMAIN_SHUTOFF_CRASHED,
                           VIR_DOMAIN_EVENT_STOPPED_FAILED, events);
    }
    qemu_status_clear(&st);
    g_mutex_unlock(&dom->lock);
    qemu_domain_unref(dom);
}

void
qemu_run_reattach_all(QemuDriver *drv)
{
    if (!drv->cfg.state_dir)
        return;
    g_autoptr(GDir) dir = g_dir_open(drv->cfg.state_dir, 0, NULL);
    g_autoptr(GPtrArray) events = qemu_events_new();
    for (const char *entry; dir && (entry = g_dir_read_name(dir));) {
        if (g_str_has_suffix(entry, ".xml") && entry[0] != '.')
            reattach_one(drv, entry, events);
    }
    qemu_driver_emit(drv, events);
}

/* ---- autostart ---- */

static gpointer
autostart_thread(gpointer data)
{
    QemuDriver *drv = data;
    g_autoptr(GPtrArray) all = qemu_driver_snapshot(drv);
    for (guint i = 0; i < all->len && !g_atomic_int_get(&drv->stopping); i++) {
        QemuDomain *dom = g_ptr_array_index(all, i);
        g_mutex_lock(&dom->lock);
        gboolean start = dom->autostart && !qemu_domain_is_active(dom) && !dom->removed;
        g_autofree char *name = g_strdup(qemu_domain_name(dom));
        g_mutex_unlock(&dom->lock);
        g_autoptr(GError) err = NULL;
        if (start && !qemu_run_domain_create(&drv->base, dom->uuid, 0, &err))
            g_warning("cannot autostart domain '%s': %s", name, err->message);
    }
    return NULL;
}

void
qemu_run_autostart(QemuDriver *drv)
{
    drv->autostart = g_thread_new("virtd-autostart", autostart_thread, drv);
}

/* ---- set-up ---- */

static gpointer
io_thread_main(gpointer data)
{
    QemuDriver *drv = data;
    g_main_context_push_thread_default(drv->io_ctx);
    g_main_loop_run(drv->io_loop);
    g_main_context_pop_thread_default(drv->io_ctx);
    return NULL;
}

void
qemu_run_init(QemuDriver *drv)
{
    g_atomic_int_set(&drv->next_id, 1);
    drv->io_ctx = g_main_context_new();
    drv->io_loop = g_main_loop_new(drv->io_ctx, FALSE);
    drv->io_thread = g_thread_new("virtd-qemu-io", io_thread_main, drv);
    drv->work = g_thread_pool_new(task_run, drv, 1, FALSE, NULL);
    qemu_cgroup_init(drv);
}

static gboolean
quit_io_loop(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

void
qemu_run_shutdown(QemuDriver *drv)
{
    if (!drv->io_loop)
        return;
    g_atomic_int_set(&drv->stopping, 1);
    if (drv->autostart)
        g_thread_join(g_steal_pointer(&drv->autostart));
    /* Running QEMUs stay: a new daemon re-attaches to them. */
    g_autoptr(GPtrArray) all = qemu_driver_snapshot(drv);
    for (guint i = 0; i < all->len; i++) {
        QemuDomain *dom = g_ptr_array_index(all, i);
        g_mutex_lock(&dom->lock);
        QemuProcess *proc = g_steal_pointer(&dom->proc);
        qemu_cgroup_release(dom);
        g_mutex_unlock(&dom->lock);
        if (proc) {
            qemu_process_close(proc);
            qemu_process_unref(proc);
        }
    }
    g_thread_pool_free(drv->work, FALSE, TRUE);
    /* Quit from inside the loop: a quit before the loop runs would be lost. */
    g_main_context_invoke(drv->io_ctx, quit_io_loop, drv->io_loop);
    g_thread_join(drv->io_thread);
    g_main_loop_unref(drv->io_loop);
    g_main_context_unref(drv->io_ctx);
    drv->io_loop = NULL;
    qemu_cgroup_cleanup(drv);
}

void
qemu_run_fill_vtable(VirtDriver *vt)
{
    vt->domain_create = qemu_run_domain_create;
    vt->domain_create_xml = qemu_run_domain_create_xml;
    vt->domain_destroy = qemu_run_domain_destroy;
    vt->domain_shutdown = qemu_run_domain_shutdown;
    vt->domain_reboot = qemu_run_domain_reboot;
    vt->domain_reset = qemu_run_domain_reset;
    vt->domain_suspend = qemu_run_domain_suspend;
    vt->domain_resume = qemu_run_domain_resume;
    vt->domain_monitor_command = qemu_run_domain_monitor_command;
    vt->domain_open_console = qemu_run_domain_open_console;
    qemu_stats_fill_vtable(vt);
}
