/* The asynchronous QMP monitor of a running domain.
 *
 * I/O runs on the GMainContext given at open (the driver's QEMU I/O thread): events and
 * end-of-file are delivered there through the callbacks. qemu_monitor_execute() may be
 * called from any other thread at the same time (several commands may be in flight): it
 * blocks only its caller until the reply, an error, a timeout or EOF. Every command,
 * reply and event is written to the log fd when one is set.
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "drivers/qemu/qmp.h"

typedef struct _QemuMonitor QemuMonitor;

typedef struct {
    /* An event ({"event": ...}); @msg is borrowed. */
    void (*event)(QemuMonitor *mon, const QmpMessage *msg, gpointer opaque);
    /* The monitor closed (QEMU exited or the socket broke); called once. */
    void (*eof)(QemuMonitor *mon, gpointer opaque);
} QemuMonitorCallbacks;

/* Connect to QEMU's QMP socket at @path, retrying until @timeout_ms while QEMU creates
 * it, read the greeting and negotiate capabilities; then watch it on @ctx.
 * @callbacks and @opaque must outlive the monitor (until qemu_monitor_close).
 * Errors (VIR_FROM_QEMU): OPERATION_TIMEOUT, OPERATION_FAILED, SYSTEM_ERROR. */
QemuMonitor *qemu_monitor_open(const char *path, int timeout_ms, GMainContext *ctx,
                               const QemuMonitorCallbacks *callbacks, gpointer opaque,
                               GError **error);

/* Like qemu_monitor_open(), and log the handshake too: @log_fd (not owned, -1 for none)
 * is in place before the greeting is read, as if qemu_monitor_set_log_fd() were called. */
QemuMonitor *qemu_monitor_open_full(const char *path, int timeout_ms, int log_fd,
                                    GMainContext *ctx, const QemuMonitorCallbacks *callbacks,
                                    gpointer opaque, GError **error);

/* Log every exchange to @fd (not owned; -1 to stop), one line each with a timestamp. */
void qemu_monitor_set_log_fd(QemuMonitor *mon, int fd);

/* Run @command with @args (borrowed, may be NULL) and wait up to @timeout_ms. Returns a
 * new reference to "return". Errors (VIR_FROM_QEMU): OPERATION_FAILED with QEMU's desc
 * ("QEMU command 'CMD' failed: DESC"), OPERATION_TIMEOUT ("QEMU did not answer 'CMD'
 * within N ms"; a late reply is dropped), OPERATION_FAILED "the QEMU monitor closed
 * before answering 'CMD'" when EOF or close comes first and "the QEMU monitor is closed"
 * after them. Takes its own reference for the call. Must not be called from @ctx's
 * thread (INTERNAL_ERROR). */
json_object *qemu_monitor_execute(QemuMonitor *mon, const char *command, json_object *args,
                                  int timeout_ms, GError **error);

/* Execute a human monitor command through QMP (human-monitor-command); returns its text. */
char *qemu_monitor_execute_hmp(QemuMonitor *mon, const char *command_line, int timeout_ms,
                               GError **error);

/* Stop watching, close the socket, fail the commands still waiting; no callback runs
 * after this returns (the eof callback is not called for it). Then drop the caller's
 * reference. Must be called once for every monitor opened, from any thread, also from
 * inside a callback; from another thread it waits for a callback in progress to return,
 * so do not call it while holding a lock that the callbacks take. */
void qemu_monitor_close(QemuMonitor *mon);

QemuMonitor *qemu_monitor_ref(QemuMonitor *mon);
void qemu_monitor_unref(QemuMonitor *mon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuMonitor, qemu_monitor_unref)
