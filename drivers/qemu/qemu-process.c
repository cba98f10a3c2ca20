/* Spawning, finding again and stopping QEMU processes; see qemu-process.h. */
#include "drivers/qemu/qemu-process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/util/virt-error.h"
#include "drivers/qemu/qemu-command.h"
#include "drivers/qemu/qemu-monitor.h"

#define LOG_TAIL_LINES 3
#define POLL_INTERVAL_US 5000
#define KILL_WAIT_MS 5000

struct _QemuProcess {
    gint refs;
    char *name;
    char *log_path;
    pid_t pid;
    int log_fd;
    QemuMonitor *mon;
    GSource *child_watch; /* only for a QEMU we spawned: reaps it */
    const QemuProcessCallbacks *callbacks;
    gpointer opaque;
    GDestroyNotify opaque_free;
    GMutex lock; /* guards 'detached' against a callback racing with free */
    gboolean detached;
    gboolean exited_sent;
};

/* ---- small helpers ---- */

/* A line for the domain log in our own format (QEMU's lines have a 'T' in theirs). */
static void
log_line(int fd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
log_line(int fd, const char *fmt, ...)
{
    if (fd < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d %H:%M:%S.%f");
    g_autofree char *line = g_strdup_printf("%.23s+0000: %s\n", stamp, msg);
    if (write(fd, line, strlen(line)) < 0) {
        /* the log is best effort: a full disk must not stop a VM */
    }
}

/* TRUE when @pid no longer runs (gone, or a zombie waiting for its parent). */
static gboolean
pid_is_dead(pid_t pid)
{
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return TRUE;
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
    g_autofree char *stat = NULL;
    if (!g_file_get_contents(path, &stat, NULL, NULL))
        return TRUE;
    const char *end = strrchr(stat, ')'); /* the command name may contain spaces */
    return end && end[1] == ' ' && (end[2] == 'Z' || end[2] == 'X');
}

static gboolean
wait_for_death(pid_t pid, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (!pid_is_dead(pid)) {
        if (g_get_monotonic_time() > deadline)
            return FALSE;
        g_usleep(POLL_INTERVAL_US);
    }
    return TRUE;
}

char *
qemu_process_log_tail(const char *log_path, goffset since)
{
    g_autofree char *text = NULL;
    gsize len;
    if (!g_file_get_contents(log_path, &text, &len, NULL) || (gsize)since > len)
        return NULL;

    g_auto(GStrv) lines = g_strsplit(text + since, "\n", -1);
    g_autoptr(GPtrArray) kept = g_ptr_array_new();
    for (guint i = 0; lines[i]; i++) {
        char *line = g_strstrip(lines[i]);
        /* Skip our own lines ("2026-11-22 05:00:00.000+0000: ..."); keep QEMU's words,
         * without the timestamp -msg timestamp=on puts in front ("...T...Z "). */
        if (*line == '\0' || (strlen(line) > 11 && line[4] == '-' && line[10] == ' '))
            continue;
        if (strlen(line) > 20 && line[4] == '-' && line[10] == 'T') {
            const char *space = strchr(line, ' ');
            if (space)
                line = (char *)space + 1;
        }
        if (g_str_has_prefix(line, "char device redirected to"))
            continue; /* information, not the reason it failed */
        g_ptr_array_add(kept, line);
    }
    if (kept->len == 0)
        return NULL;
    guint first = kept->len > LOG_TAIL_LINES ? kept->len - LOG_TAIL_LINES : 0;
    GString *out = g_string_new(NULL);
    for (guint i = first; i < kept->len; i++) {
        if (out->len)
            g_string_append(out, "; ");
        g_string_append(out, g_ptr_array_index(kept, i));
    }
    return g_string_free(out, FALSE);
}

/* ---- monitor callbacks ---- */

static void
on_monitor_event(QemuMonitor *mon, const QmpMessage *msg, gpointer opaque)
{
    QemuProcess *proc = opaque;
    g_mutex_lock(&proc->lock);
    gboolean deliver = !proc->detached;
    g_mutex_unlock(&proc->lock);
    if (deliver && proc->callbacks->event)
        proc->callbacks->event(proc, msg, proc->opaque);
}

static void
on_monitor_eof(QemuMonitor *mon, gpointer opaque)
{
    QemuProcess *proc = opaque;
    g_mutex_lock(&proc->lock);
    gboolean deliver = !proc->detached && !proc->exited_sent;
    proc->exited_sent = TRUE;
    g_mutex_unlock(&proc->lock);
    if (deliver && proc->callbacks->exited)
        proc->callbacks->exited(proc, proc->opaque);
}

static const QemuMonitorCallbacks monitor_callbacks = {
    .event = on_monitor_event,
    .eof = on_monitor_eof,
};

static void
on_child_exit(GPid pid, gint status, gpointer data)
{
    g_spawn_close_pid(pid); /* reaped: nothing else to do, the monitor EOF reports it */
}

/* ---- start and attach ---- */

static QemuProcess *
process_new(const QemuProcessParams *params, pid_t pid)
{
    QemuProcess *proc = g_new0(QemuProcess, 1);
    proc->refs = 1;
    proc->name = g_strdup(params->name);
    proc->log_path = g_strdup(params->log_path);
    proc->pid = pid;
    proc->log_fd = -1;
    proc->callbacks = params->callbacks;
    proc->opaque = params->opaque;
    proc->opaque_free = params->opaque_free;
    g_mutex_init(&proc->lock);
    return proc;
}

static gboolean
open_log(QemuProcess *proc, goffset *ret_offset, GError **error)
{
    proc->log_fd = open(proc->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (proc->log_fd < 0) {
        virt_error_set_errno(error, VIR_FROM_QEMU, errno, _("cannot open log file '%s'"),
                             proc->log_path);
        return FALSE;
    }
    if (ret_offset)
        *ret_offset = lseek(proc->log_fd, 0, SEEK_END);
    return TRUE;
}

static void
child_setup(gpointer data)
{
    setsid(); /* QEMU outlives the daemon and its signals */
}

/* Wait until QEMU creates its monitor socket, or dies trying. */
static gboolean
wait_for_monitor_socket(QemuProcess *proc, const char *path, gint64 deadline)
{
    while (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        if (pid_is_dead(proc->pid) || g_get_monotonic_time() > deadline)
            return FALSE;
        g_usleep(POLL_INTERVAL_US / 5);
    }
    return TRUE;
}

QemuProcess *
qemu_process_start(const QemuProcessParams *params, GError **error)
{
    g_autoptr(QemuProcess) proc = process_new(params, 0);
    goffset log_start = 0;
    if (!open_log(proc, &log_start, error))
        return NULL;

    g_autofree char *cmdline = qemu_command_format(params->argv);
    log_line(proc->log_fd, "starting domain '%s':\n%s", params->name, cmdline);
    log_start = lseek(proc->log_fd, 0, SEEK_END); /* QEMU's own words start here */
    unlink(params->monitor_path);

    g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "LC_ALL", "C", TRUE);
    GPid pid;
    g_autoptr(GError) spawn_err = NULL;
    if (!g_spawn_async_with_pipes_and_fds(NULL, params->argv, (const char *const *)env,
                                          G_SPAWN_DO_NOT_REAP_CHILD |
                                              G_SPAWN_STDIN_FROM_DEV_NULL,
                                          child_setup, NULL, -1, proc->log_fd, proc->log_fd,
                                          NULL, NULL, 0, &pid, NULL, NULL, NULL,
                                          &spawn_err)) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("cannot run QEMU for domain '%s': %s"), params->name,
                       spawn_err->message);
        return NULL;
    }
    proc->pid = pid;
    proc->child_watch = g_child_watch_source_new(pid);
    g_source_set_callback(proc->child_watch, G_SOURCE_FUNC(on_child_exit), NULL, NULL);
    g_source_attach(proc->child_watch, params->ctx);

    g_autoptr(GError) spawned_err = NULL;
    if (params->spawned && !params->spawned(pid, params->spawned_data, &spawned_err) &&
        !pid_is_dead(pid)) {
        /* (A QEMU that died at once is reported below, in its own words.) */
        qemu_process_kill(proc, 0);
        unlink(params->monitor_path);
        g_propagate_error(error, g_steal_pointer(&spawned_err));
        return NULL;
    }

    gint64 deadline = g_get_monotonic_time() + (gint64)params->timeout_ms * 1000;
    g_autoptr(GError) mon_err = NULL;
    if (wait_for_monitor_socket(proc, params->monitor_path, deadline)) {
        int left_ms = MAX((deadline - g_get_monotonic_time()) / 1000, 1);
        proc->mon = qemu_monitor_open_full(params->monitor_path, left_ms, proc->log_fd,
                                           params->ctx, &monitor_callbacks, proc, &mon_err);
    }
    if (!proc->mon) {
        gboolean died = pid_is_dead(pid);
        qemu_process_kill(proc, 0);
        g_autofree char *why = qemu_process_log_tail(params->log_path, log_start);
        if (why)
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                           _("QEMU for domain '%s' failed to start: %s"), params->name, why);
        else if (!died)
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_TIMEOUT,
                           _("QEMU for domain '%s' did not answer on its monitor within %d ms"),
                           params->name, params->timeout_ms);
        else
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                           _("QEMU for domain '%s' exited at start without saying why"),
                           params->name);
        unlink(params->monitor_path);
        return NULL;
    }
    return g_steal_pointer(&proc);
}

/* Does /proc/@pid/cmdline carry "-name guest=NAME"? */
static gboolean
pid_runs_domain(pid_t pid, const char *name)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", pid);
    g_autofree char *cmdline = NULL;
    gsize len;
    if (!g_file_get_contents(path, &cmdline, &len, NULL))
        return FALSE;
    g_autofree char *want = g_strdup_printf("guest=%s,", name);
    g_autofree char *want_last = g_strdup_printf("guest=%s", name);
    gboolean after_name = FALSE;
    for (const char *arg = cmdline; arg < cmdline + len; arg += strlen(arg) + 1) {
        if (after_name && (g_str_has_prefix(arg, want) || strcmp(arg, want_last) == 0))
            return TRUE;
        after_name = strcmp(arg, "-name") == 0;
    }
    return FALSE;
}

QemuProcess *
qemu_process_attach(const QemuProcessParams *params, pid_t pid, GError **error)
{
    if (pid <= 0 || pid_is_dead(pid) || !pid_runs_domain(pid, params->name)) {
        if (params->opaque_free)
            params->opaque_free(params->opaque); /* ours in every outcome */
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("QEMU process %d of domain '%s' is gone"), pid, params->name);
        return NULL;
    }
    g_autoptr(QemuProcess) proc = process_new(params, pid);
    if (!open_log(proc, NULL, error))
        return NULL;
    log_line(proc->log_fd, "reconnecting to domain '%s' (pid %d)", params->name, pid);
    proc->mon = qemu_monitor_open_full(params->monitor_path, params->timeout_ms, proc->log_fd,
                                       params->ctx, &monitor_callbacks, proc, error);
    if (!proc->mon)
        return NULL;
    return g_steal_pointer(&proc);
}

/* ---- running ---- */

/* A reference to the monitor, or NULL (and @error) once the process is closed. */
static QemuMonitor *
process_monitor(QemuProcess *proc, GError **error)
{
    g_mutex_lock(&proc->lock);
    QemuMonitor *mon = proc->mon ? qemu_monitor_ref(proc->mon) : NULL;
    g_mutex_unlock(&proc->lock);
    if (!mon)
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("the QEMU monitor of domain '%s' is closed"), proc->name);
    return mon;
}

json_object *
qemu_process_qmp(QemuProcess *proc, const char *command, json_object *args, int timeout_ms,
                 GError **error)
{
    g_autoptr(QemuMonitor) mon = process_monitor(proc, error);
    return mon ? qemu_monitor_execute(mon, command, args, timeout_ms, error) : NULL;
}

char *
qemu_process_hmp(QemuProcess *proc, const char *command_line, int timeout_ms, GError **error)
{
    g_autoptr(QemuMonitor) mon = process_monitor(proc, error);
    return mon ? qemu_monitor_execute_hmp(mon, command_line, timeout_ms, error) : NULL;
}

void
qemu_process_kill(QemuProcess *proc, int grace_ms)
{
    if (proc->pid <= 0 || pid_is_dead(proc->pid))
        return;
    if (grace_ms > 0) {
        kill(proc->pid, SIGTERM);
        if (wait_for_death(proc->pid, grace_ms))
            return;
    }
    kill(proc->pid, SIGKILL);
    if (!wait_for_death(proc->pid, KILL_WAIT_MS))
        g_warning("QEMU process %d of domain '%s' survived SIGKILL", proc->pid, proc->name);
}

pid_t
qemu_process_get_pid(const QemuProcess *proc)
{
    return proc->pid;
}

guint64
qemu_process_cpu_time(const QemuProcess *proc)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", proc->pid);
    g_autofree char *stat = NULL;
    if (!g_file_get_contents(path, &stat, NULL, NULL))
        return 0;
    const char *p = strrchr(stat, ')');
    if (!p)
        return 0;
    /* After the name: state is field 3; utime and stime are fields 14 and 15. */
    unsigned long long utime = 0, stime = 0;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
               &stime) != 2)
        return 0;
    long ticks = sysconf(_SC_CLK_TCK);
    return (utime + stime) * (G_GUINT64_CONSTANT(1000000000) / (ticks > 0 ? ticks : 100));
}

gboolean
qemu_process_has_exited(QemuProcess *proc)
{
    g_mutex_lock(&proc->lock);
    gboolean exited = proc->exited_sent;
    g_mutex_unlock(&proc->lock);
    return exited;
}

void
qemu_process_close(QemuProcess *proc)
{
    g_mutex_lock(&proc->lock);
    proc->detached = TRUE;
    QemuMonitor *mon = g_steal_pointer(&proc->mon);
    g_mutex_unlock(&proc->lock);
    if (mon) {
        qemu_monitor_set_log_fd(mon, -1); /* the log fd closes with us */
        qemu_monitor_close(mon);          /* drops our reference */
    }
}

QemuProcess *
qemu_process_ref(QemuProcess *proc)
{
    g_atomic_int_inc(&proc->refs);
    return proc;
}

void
qemu_process_unref(QemuProcess *proc)
{
    if (!proc || !g_atomic_int_dec_and_test(&proc->refs))
        return;
    qemu_process_close(proc);
    if (proc->child_watch) {
        /* The source stays attached: it keeps reaping a QEMU we spawned. */
        g_source_unref(proc->child_watch);
    }
    if (proc->log_fd >= 0)
        close(proc->log_fd);
    if (proc->opaque_free)
        proc->opaque_free(proc->opaque);
    g_mutex_clear(&proc->lock);
    g_free(proc->name);
    g_free(proc->log_path);
    g_free(proc);
}
