/* The asynchronous QMP monitor: I/O on a GMainContext, commands from any thread.
 *
 * Threads. The socket is read only on the monitor's context (the "I/O thread"), which
 * matches replies to waiting commands by "id" and hands events to the callbacks. A command
 * is registered under the monitor's lock, written directly by its caller (one writer at a
 * time, under write_lock, with a deadline), and its caller then sleeps on its own GCond
 * until the I/O thread posts the reply, EOF or close fails it, or the deadline passes.
 *
 * Close. qemu_monitor_close() may be called from any thread, including from inside a
 * callback. It marks the monitor closed (no new dispatch starts, no further callback is
 * made), waits for a dispatch running on another thread to finish, destroys the source
 * and only then closes the socket. So a caller of close must not hold a lock that the
 * callbacks take, or close and the I/O thread would wait for each other.
 */
#include "drivers/qemu/qemu-monitor.h"

#include <errno.h>
#include <glib-unix.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/util/virt-error.h"

#define QEMU_MONITOR_CONNECT_RETRY_US (10 * 1000)
#define QEMU_MONITOR_READ_CHUNK 16384

/* A command waiting for its reply; it lives on the stack of its qemu_monitor_execute().
 * While it is in the pending table, only the holder of the monitor's lock touches it. */
typedef struct {
    GCond cond;
    QmpMessage *reply; /* posted by the I/O thread */
    gboolean closed;   /* the monitor closed (EOF or close) before the reply */
} QemuMonitorPending;

struct _QemuMonitor {
    gint refs;
    int fd;
    GMainContext *ctx;
    const QemuMonitorCallbacks *callbacks;
    gpointer opaque;
    QmpLineBuffer *in; /* used by open, then only by the I/O thread */

    GMutex lock;           /* protects the fields up to write_lock */
    GCond dispatch_done;   /* signalled when a dispatch ends */
    GSource *source;       /* the watch on @fd, NULL once closed */
    GHashTable *pending;   /* id -> QemuMonitorPending* (neither owned) */
    guint next_id;
    gboolean eof;          /* QEMU closed the socket or it broke */
    gboolean closed;       /* qemu_monitor_close() was called */
    GThread *dispatching;  /* the thread running a dispatch, or NULL */

    GMutex write_lock;     /* one line on the wire at a time; @fd is closed under it */

    GMutex log_lock;       /* protects @log_fd */
    int log_fd;
};

/* ---- log ---- */

/* Write "TIMESTAMP: QMP @what: @line" to the log fd in a single write(). */
static void
qemu_monitor_log(QemuMonitor *mon, const char *what, const char *line, gsize len)
{
    g_autoptr(GDateTime) now = NULL;
    g_autofree char *stamp = NULL;
    g_autofree char *text = NULL;
    gsize textlen;

    g_mutex_lock(&mon->log_lock);
    if (mon->log_fd < 0) {
        g_mutex_unlock(&mon->log_lock);
        return;
    }
    now = g_date_time_new_now_utc();
    stamp = g_date_time_format(now, "%Y-%m-%d %H:%M:%S");
    text = g_strdup_printf("%s.%03d+0000: QMP %s: %.*s\n", stamp,
                           g_date_time_get_microsecond(now) / 1000, what, (int)len, line);
    textlen = strlen(text);
    while (write(mon->log_fd, text, textlen) < 0 && errno == EINTR)
        ; /* a failing log must not fail the command: nothing else to do */
    g_mutex_unlock(&mon->log_lock);
}

void
qemu_monitor_set_log_fd(QemuMonitor *mon, int fd)
{
    g_mutex_lock(&mon->log_lock);
    mon->log_fd = fd;
    g_mutex_unlock(&mon->log_lock);
}

/* ---- errors ---- */

static void
qemu_monitor_set_closed_error(GError **error)
{
    virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                   _("the QEMU monitor is closed"));
}

static void
qemu_monitor_set_timeout_error(GError **error, const char *command, int timeout_ms)
{
    virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_TIMEOUT,
                   _("QEMU did not answer '%s' within %d ms"), command, timeout_ms);
}

/* ---- life cycle ---- */

static QemuMonitor *
qemu_monitor_new(int fd, GMainContext *ctx, const QemuMonitorCallbacks *callbacks,
                 gpointer opaque, int log_fd)
{
    QemuMonitor *mon = g_new0(QemuMonitor, 1);

    mon->refs = 1;
    mon->fd = fd;
    mon->ctx = g_main_context_ref(ctx);
    mon->callbacks = callbacks;
    mon->opaque = opaque;
    mon->in = qmp_line_buffer_new();
    g_mutex_init(&mon->lock);
    g_cond_init(&mon->dispatch_done);
    mon->pending = g_hash_table_new(g_str_hash, g_str_equal);
    g_mutex_init(&mon->write_lock);
    g_mutex_init(&mon->log_lock);
    mon->log_fd = log_fd;
    return mon;
}

QemuMonitor *
qemu_monitor_ref(QemuMonitor *mon)
{
    g_atomic_int_inc(&mon->refs);
    return mon;
}

void
qemu_monitor_unref(QemuMonitor *mon)
{
    if (!mon || !g_atomic_int_dec_and_test(&mon->refs))
        return;
    /* The source holds a reference: we only get here once it is gone. */
    g_assert(mon->source == NULL);
    g_assert(g_hash_table_size(mon->pending) == 0);
    if (mon->fd >= 0)
        close(mon->fd);
    g_main_context_unref(mon->ctx);
    qmp_line_buffer_free(mon->in);
    g_hash_table_unref(mon->pending);
    g_mutex_clear(&mon->lock);
    g_cond_clear(&mon->dispatch_done);
    g_mutex_clear(&mon->write_lock);
    g_mutex_clear(&mon->log_lock);
    g_free(mon);
}

/* Fail every waiting command (the monitor closed); called with the lock held. */
static void
qemu_monitor_fail_pending_locked(QemuMonitor *mon)
{
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, mon->pending);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        QemuMonitorPending *pending = value;

        pending->closed = TRUE;
        g_cond_signal(&pending->cond);
        g_hash_table_iter_remove(&iter);
    }
}

void
qemu_monitor_close(QemuMonitor *mon)
{
    GSource *source;
    int fd;

    if (!mon)
        return;

    g_mutex_lock(&mon->lock);
    if (mon->closed) {
        g_mutex_unlock(&mon->lock);
        g_critical("qemu_monitor_close() called twice");
        return;
    }
    mon->closed = TRUE;
    qemu_monitor_fail_pending_locked(mon);
    /* A dispatch on the I/O thread checks @closed before each callback; wait for it to
     * end unless we are that dispatch (close called from a callback). */
    while (mon->dispatching && mon->dispatching != g_thread_self())
        g_cond_wait(&mon->dispatch_done, &mon->lock);
    source = g_steal_pointer(&mon->source);
    g_mutex_unlock(&mon->lock);

    if (source) {
        g_source_destroy(source);
        g_source_unref(source);
    }

    /* Wake a writer blocked on a full socket, then close once it has let go. */
    fd = mon->fd;
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
    g_mutex_lock(&mon->write_lock);
    mon->fd = -1;
    g_mutex_unlock(&mon->write_lock);
    if (fd >= 0)
        close(fd);

    qemu_monitor_unref(mon);
}

/* ---- I/O ---- */

/* Send all of @data before @deadline (monotonic µs), one writer at a time. */
static gboolean
qemu_monitor_send_all(QemuMonitor *mon, const char *data, gsize len, gint64 deadline,
                      const char *command, int timeout_ms, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&mon->write_lock);

    qemu_monitor_log(mon, "send", data, len > 2 ? len - 2 : len); /* without "\r\n" */
    while (len > 0) {
        struct pollfd pfd = { .fd = mon->fd, .events = POLLOUT };
        gint64 left;
        ssize_t n;

        if (mon->fd < 0) {
            qemu_monitor_set_closed_error(error);
            return FALSE;
        }
        n = send(mon->fd, data, len, MSG_NOSIGNAL);
        if (n >= 0) {
            data += n;
            len -= n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN) {
            virt_error_set_errno(error, VIR_FROM_QEMU, errno,
                                 _("cannot write to the QEMU monitor"));
            return FALSE;
        }
        left = deadline - g_get_monotonic_time();
        if (left <= 0) {
            /* Part of the line may be on the wire: QEMU will reject it as a whole. */
            qemu_monitor_set_timeout_error(error, command, timeout_ms);
            return FALSE;
        }
        if (poll(&pfd, 1, (int)((left + 999) / 1000)) < 0 && errno != EINTR) {
            virt_error_set_errno(error, VIR_FROM_QEMU, errno,
                                 _("cannot wait for the QEMU monitor"));
            return FALSE;
        }
    }
    return TRUE;
}

/* Read what is available into the line buffer. Returns the byte count, 0 at EOF, -1 with
 * errno set (EAGAIN when nothing is there). */
static gssize
qemu_monitor_read_some(QemuMonitor *mon)
{
    char chunk[QEMU_MONITOR_READ_CHUNK];
    gssize n;

    do {
        n = read(mon->fd, chunk, sizeof(chunk));
    } while (n < 0 && errno == EINTR);
    if (n > 0)
        qmp_line_buffer_feed(mon->in, chunk, n);
    return n;
}

/* Hand one received line to its waiter or to the event callback (I/O thread). */
static void
qemu_monitor_handle_line(QemuMonitor *mon, const char *line)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(QmpMessage) msg = NULL;
    QemuMonitorPending *pending = NULL;
    gboolean closed;

    qemu_monitor_log(mon, "recv", line, strlen(line));
    msg = qmp_message_parse(line, strlen(line), &error);
    if (!msg) {
        g_warning("%s", error->message);
        return;
    }

    switch (msg->kind) {
    case QMP_MESSAGE_EVENT:
        g_mutex_lock(&mon->lock);
        closed = mon->closed;
        g_mutex_unlock(&mon->lock);
        if (!closed && mon->callbacks && mon->callbacks->event)
            mon->callbacks->event(mon, msg, mon->opaque);
        break;
    case QMP_MESSAGE_RETURN:
    case QMP_MESSAGE_ERROR:
        g_mutex_lock(&mon->lock);
        if (msg->id)
            pending = g_hash_table_lookup(mon->pending, msg->id);
        if (pending) {
            g_hash_table_remove(mon->pending, msg->id);
            pending->reply = g_steal_pointer(&msg);
            g_cond_signal(&pending->cond);
        }
        g_mutex_unlock(&mon->lock);
        /* else: a late reply to a command that timed out; it is in the log */
        break;
    case QMP_MESSAGE_GREETING:
    case QMP_MESSAGE_LAST:
        break;
    }
}

/* The socket closed or broke (I/O thread): fail the waiters, tell the owner once. */
static void
qemu_monitor_handle_eof(QemuMonitor *mon)
{
    gboolean notify;

    g_mutex_lock(&mon->lock);
    mon->eof = TRUE;
    qemu_monitor_fail_pending_locked(mon);
    notify = !mon->closed;
    g_mutex_unlock(&mon->lock);
    if (notify && mon->callbacks && mon->callbacks->eof)
        mon->callbacks->eof(mon, mon->opaque);
}

/* The source's callback: read, dispatch the complete lines, notice EOF. */
static gboolean
qemu_monitor_io(int fd G_GNUC_UNUSED, GIOCondition condition G_GNUC_UNUSED, gpointer data)
{
    QemuMonitor *mon = data;
    gboolean eof = FALSE;
    gboolean keep;
    gssize n;

    g_source_set_ready_time(g_main_current_source(), -1); /* see qemu_monitor_attach */

    g_mutex_lock(&mon->lock);
    if (mon->closed || mon->eof) {
        g_mutex_unlock(&mon->lock);
        return G_SOURCE_REMOVE;
    }
    mon->dispatching = g_thread_self();
    g_mutex_unlock(&mon->lock);

    n = qemu_monitor_read_some(mon);
    if (n == 0) {
        eof = TRUE;
    } else if (n < 0 && errno != EAGAIN) {
        g_debug("QEMU monitor read failed: %s", g_strerror(errno));
        eof = TRUE;
    }

    for (;;) {
        g_autofree char *line = NULL;

        g_mutex_lock(&mon->lock);
        keep = !mon->closed;
        g_mutex_unlock(&mon->lock);
        if (!keep || !(line = qmp_line_buffer_next(mon->in)))
            break;
        qemu_monitor_handle_line(mon, line);
    }
    if (eof)
        qemu_monitor_handle_eof(mon);

    g_mutex_lock(&mon->lock);
    mon->dispatching = NULL;
    g_cond_broadcast(&mon->dispatch_done);
    keep = !mon->closed && !mon->eof;
    g_mutex_unlock(&mon->lock);
    return keep ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* Start watching the socket on the monitor's context. */
static void
qemu_monitor_attach(QemuMonitor *mon)
{
    GSource *source = g_unix_fd_source_new(mon->fd, G_IO_IN | G_IO_HUP | G_IO_ERR);

    g_source_set_callback(source, G_SOURCE_FUNC(qemu_monitor_io), qemu_monitor_ref(mon),
                          (GDestroyNotify)qemu_monitor_unref);
    /* Lines that followed the handshake's reply in the same read: dispatch them now. */
    if (qmp_line_buffer_pending(mon->in) > 0)
        g_source_set_ready_time(source, 0);
    g_mutex_lock(&mon->lock);
    mon->source = source;
    g_mutex_unlock(&mon->lock);
    g_source_attach(source, mon->ctx);
}

/* ---- open ---- */

/* Connect to @path, retrying while it does not exist or refuses, until @deadline. */
static int
qemu_monitor_connect(const char *path, gint64 deadline, GError **error)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    if (strlen(path) >= sizeof(addr.sun_path)) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("monitor socket path '%s' is too long"), path);
        return -1;
    }
    strcpy(addr.sun_path, path);

    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        gint64 left;
        int saved;

        if (fd < 0) {
            virt_error_set_errno(error, VIR_FROM_QEMU, errno, _("cannot create a socket"));
            return -1;
        }
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
            return fd;
        saved = errno;
        close(fd);
        left = deadline - g_get_monotonic_time();
        if ((saved != ENOENT && saved != ECONNREFUSED && saved != EAGAIN && saved != EINTR) ||
            left <= 0) {
            virt_error_set_errno(error, VIR_FROM_QEMU, saved,
                                 _("cannot connect to the QEMU monitor '%s'"), path);
            return -1;
        }
        g_usleep(MIN(left, QEMU_MONITOR_CONNECT_RETRY_US));
    }
}

/* Read the next message before the monitor is watched, until @deadline. @command names
 * the awaited reply in errors, NULL for the greeting. */
static QmpMessage *
qemu_monitor_read_sync(QemuMonitor *mon, gint64 deadline, int timeout_ms,
                       const char *command, GError **error)
{
    for (;;) {
        g_autofree char *line = qmp_line_buffer_next(mon->in);
        struct pollfd pfd = { .fd = mon->fd, .events = POLLIN };
        gint64 left;
        gssize n;

        if (line) {
            qemu_monitor_log(mon, "recv", line, strlen(line));
            return qmp_message_parse(line, strlen(line), error);
        }
        n = qemu_monitor_read_some(mon);
        if (n > 0)
            continue;
        if (n == 0) {
            if (command)
                virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                               _("the QEMU monitor closed before answering '%s'"), command);
            else
                virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                               _("the QEMU monitor closed before its greeting"));
            return NULL;
        }
        if (errno != EAGAIN) {
            virt_error_set_errno(error, VIR_FROM_QEMU, errno,
                                 _("cannot read from the QEMU monitor"));
            return NULL;
        }
        left = deadline - g_get_monotonic_time();
        if (left <= 0) {
            if (command)
                qemu_monitor_set_timeout_error(error, command, timeout_ms);
            else
                virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_TIMEOUT,
                               _("QEMU sent no monitor greeting within %d ms"), timeout_ms);
            return NULL;
        }
        if (poll(&pfd, 1, (int)((left + 999) / 1000)) < 0 && errno != EINTR) {
            virt_error_set_errno(error, VIR_FROM_QEMU, errno,
                                 _("cannot wait for the QEMU monitor"));
            return NULL;
        }
    }
}

/* Read the greeting and negotiate capabilities, synchronously, before @deadline. */
static gboolean
qemu_monitor_handshake(QemuMonitor *mon, gint64 deadline, int timeout_ms, GError **error)
{
    const char *command = "qmp_capabilities";
    g_autoptr(QmpMessage) greeting = NULL;
    g_autofree char *id = g_strdup_printf("virtd-%u", ++mon->next_id);
    g_autofree char *wire = qmp_command_format(command, NULL, id);

    greeting = qemu_monitor_read_sync(mon, deadline, timeout_ms, NULL, error);
    if (!greeting)
        return FALSE;
    if (greeting->kind != QMP_MESSAGE_GREETING) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("the QEMU monitor sent '%s' instead of its greeting"),
                       qmp_message_kind_to_string(greeting->kind));
        return FALSE;
    }

    if (!qemu_monitor_send_all(mon, wire, strlen(wire), deadline, command, timeout_ms, error))
        return FALSE;
    for (;;) {
        g_autoptr(QmpMessage) msg = qemu_monitor_read_sync(mon, deadline, timeout_ms,
                                                           command, error);

        if (!msg)
            return FALSE;
        /* QEMU sends no events before the negotiation ends: skip anything but our reply */
        if (g_strcmp0(msg->id, id) != 0)
            continue;
        if (msg->kind == QMP_MESSAGE_ERROR) {
            qmp_message_set_error(msg, command, error);
            return FALSE;
        }
        if (msg->kind == QMP_MESSAGE_RETURN)
            return TRUE;
    }
}

QemuMonitor *
qemu_monitor_open_full(const char *path, int timeout_ms, int log_fd, GMainContext *ctx,
                       const QemuMonitorCallbacks *callbacks, gpointer opaque,
                       GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_autoptr(QemuMonitor) mon = NULL;
    int fd;

    fd = qemu_monitor_connect(path, deadline, error);
    if (fd < 0)
        return NULL;
    mon = qemu_monitor_new(fd, ctx, callbacks, opaque, log_fd);
    if (!qemu_monitor_handshake(mon, deadline, timeout_ms, error))
        return NULL; /* nothing watches it yet: the unref closes the socket */
    qemu_monitor_attach(mon);
    return g_steal_pointer(&mon);
}

QemuMonitor *
qemu_monitor_open(const char *path, int timeout_ms, GMainContext *ctx,
                  const QemuMonitorCallbacks *callbacks, gpointer opaque, GError **error)
{
    return qemu_monitor_open_full(path, timeout_ms, -1, ctx, callbacks, opaque, error);
}

/* ---- commands ---- */

json_object *
qemu_monitor_execute(QemuMonitor *mon, const char *command, json_object *args,
                     int timeout_ms, GError **error)
{
    g_autoptr(QemuMonitor) self = NULL;
    g_autoptr(QmpMessage) reply = NULL;
    g_autofree char *id = NULL;
    g_autofree char *wire = NULL;
    QemuMonitorPending pending = { .reply = NULL };
    gint64 deadline = g_get_monotonic_time() + (gint64)MAX(timeout_ms, 0) * 1000;
    GError *send_error = NULL;
    gboolean closed;

    if (g_main_context_is_owner(mon->ctx)) {
        /* Its reply could only be read by this very thread. */
        g_critical("qemu_monitor_execute('%s') called from the monitor's I/O thread", command);
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INTERNAL_ERROR,
                       _("QEMU command '%s' issued from the monitor's own thread"), command);
        return NULL;
    }
    self = qemu_monitor_ref(mon); /* a concurrent close must not free it under us */

    g_mutex_lock(&mon->lock);
    if (mon->closed || mon->eof) {
        g_mutex_unlock(&mon->lock);
        qemu_monitor_set_closed_error(error);
        return NULL;
    }
    id = g_strdup_printf("virtd-%u", ++mon->next_id);
    g_cond_init(&pending.cond);
    g_hash_table_insert(mon->pending, id, &pending);
    g_mutex_unlock(&mon->lock);

    /* Registered first, so that a quick reply finds its waiter. */
    wire = qmp_command_format(command, args, id);
    qemu_monitor_send_all(mon, wire, strlen(wire), deadline, command, timeout_ms,
                          &send_error);

    g_mutex_lock(&mon->lock);
    while (!send_error && !pending.reply && !pending.closed) {
        if (!g_cond_wait_until(&pending.cond, &mon->lock, deadline))
            break; /* timed out; the checks below tell what happened meanwhile */
    }
    g_hash_table_remove(mon->pending, id); /* a later reply is dropped */
    reply = g_steal_pointer(&pending.reply);
    closed = pending.closed || mon->closed || mon->eof;
    g_mutex_unlock(&mon->lock);
    g_cond_clear(&pending.cond);

    if (reply) {
        g_clear_error(&send_error);
        if (reply->kind == QMP_MESSAGE_ERROR) {
            qmp_message_set_error(reply, command, error);
            return NULL;
        }
        return json_object_get(reply->value);
    }
    if (closed) {
        g_clear_error(&send_error);
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("the QEMU monitor closed before answering '%s'"), command);
        return NULL;
    }
    if (send_error) {
        g_propagate_error(error, send_error);
        return NULL;
    }
    qemu_monitor_set_timeout_error(error, command, timeout_ms);
    return NULL;
}

char *
qemu_monitor_execute_hmp(QemuMonitor *mon, const char *command_line, int timeout_ms,
                         GError **error)
{
    json_object *args = json_object_new_object();
    json_object *ret;
    char *text;

    json_object_object_add(args, "command-line", json_object_new_string(command_line));
    ret = qemu_monitor_execute(mon, "human-monitor-command", args, timeout_ms, error);
    json_object_put(args);
    if (!ret)
        return NULL;
    if (!json_object_is_type(ret, json_type_string)) {
        json_object_put(ret);
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("QEMU answered '%s' without text"), command_line);
        return NULL;
    }
    text = g_strdup(json_object_get_string(ret));
    json_object_put(ret);
    return text;
}
