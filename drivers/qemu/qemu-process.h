/* One QEMU process: spawn it (or find it again after a daemon restart), talk QMP to it
 * through its monitor, notice when it goes away, and stop it.
 *
 * Knows nothing of domain states: it reports QMP events and the exit to the driver
 * through callbacks that run on the I/O context given at start.
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>
#include <sys/types.h>

#include "drivers/qemu/qmp.h"

typedef struct _QemuProcess QemuProcess;

typedef struct {
    /* A QMP event from QEMU (@msg borrowed). */
    void (*event)(QemuProcess *proc, const QmpMessage *msg, gpointer opaque);
    /* QEMU is gone (monitor closed). Called once, never after qemu_process_close(). */
    void (*exited)(QemuProcess *proc, gpointer opaque);
} QemuProcessCallbacks;

typedef struct {
    const char *name;         /* domain name, for messages */
    const char *const *argv;  /* from qemu_command_build() */
    const char *monitor_path; /* where argv makes QEMU serve QMP */
    const char *log_path;     /* QEMU's stderr and every QMP exchange are appended here */
    int timeout_ms;           /* for QEMU to start answering on its monitor */
    GMainContext *ctx;        /* where monitor I/O and the callbacks run */
    const QemuProcessCallbacks *callbacks;
    gpointer opaque;
    GDestroyNotify opaque_free; /* frees @opaque with the process object (also when
                                 * start or attach fails) */
    /* Start only: called as soon as QEMU is exec'd, while it initialises (work done here
     * overlaps QEMU's start-up). FALSE fails the start with its error. */
    gboolean (*spawned)(pid_t pid, gpointer data, GError **error);
    gpointer spawned_data;
} QemuProcessParams;

/* Exec QEMU in its own session with stderr into the log, wait for its monitor and
 * negotiate QMP. QEMU is left paused (-S). On failure nothing is left behind (the process
 * is killed and reaped) and the error quotes QEMU's own last words from the log:
 * VIR_ERR_OPERATION_FAILED "QEMU for domain 'NAME' failed to start: <stderr>". */
QemuProcess *qemu_process_start(const QemuProcessParams *params, GError **error);

/* Find the running QEMU @pid of domain params->name again (its command line must carry
 * -name guest=NAME) and reconnect to its monitor. params->argv is ignored.
 * VIR_ERR_OPERATION_FAILED when the process is gone or is not that domain's QEMU. */
QemuProcess *qemu_process_attach(const QemuProcessParams *params, pid_t pid, GError **error);

/* Run a QMP command (see qemu_monitor_execute). */
json_object *qemu_process_qmp(QemuProcess *proc, const char *command, json_object *args,
                              int timeout_ms, GError **error);

/* A human monitor command line; returns its output. */
char *qemu_process_hmp(QemuProcess *proc, const char *command_line, int timeout_ms,
                       GError **error);

/* Terminate QEMU: SIGTERM, then SIGKILL if it is still there after @grace_ms (0: SIGKILL
 * at once). Waits (bounded) until the process is gone. */
void qemu_process_kill(QemuProcess *proc, int grace_ms);

pid_t qemu_process_get_pid(const QemuProcess *proc);

/* CPU time used by QEMU so far (user + system), in nanoseconds; 0 when unknown. */
guint64 qemu_process_cpu_time(const QemuProcess *proc);

/* The last lines of the log QEMU wrote to (its own error messages), or NULL. */
char *qemu_process_log_tail(const char *log_path, goffset since);

/* TRUE once the exited callback has fired (QEMU is gone). */
gboolean qemu_process_has_exited(QemuProcess *proc);

/* Disconnect: no callback runs after this returns, later QMP calls fail. QEMU keeps
 * running. Call from any thread but the I/O context's. */
void qemu_process_close(QemuProcess *proc);

/* References: whoever talks QMP without holding the domain lock holds one. The last
 * unref closes and frees. */
QemuProcess *qemu_process_ref(QemuProcess *proc);
void qemu_process_unref(QemuProcess *proc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuProcess, qemu_process_unref)
