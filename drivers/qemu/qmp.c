/* QMP message parsing and a small blocking client. */
#include "drivers/qemu/qmp.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/util/virt-error.h"

static const char *const qmp_message_kind_names[QMP_MESSAGE_LAST] = {
    [QMP_MESSAGE_GREETING] = "greeting",
    [QMP_MESSAGE_RETURN] = "return",
    [QMP_MESSAGE_ERROR] = "error",
    [QMP_MESSAGE_EVENT] = "event",
};

const char *
qmp_message_kind_to_string(QmpMessageKind kind)
{
    if ((int)kind < 0 || kind >= QMP_MESSAGE_LAST)
        return NULL;
    return qmp_message_kind_names[kind];
}

void
qmp_message_free(QmpMessage *msg)
{
    if (!msg)
        return;
    json_object_put(msg->root);
    g_free(msg->id);
    g_free(msg->error_class);
    g_free(msg->error_desc);
    g_free(msg->event);
    g_free(msg);
}

static char *
qmp_dup_string_member(json_object *obj, const char *key)
{
    json_object *val;

    if (!json_object_object_get_ex(obj, key, &val) || !json_object_is_type(val, json_type_string))
        return NULL;
    return g_strdup(json_object_get_string(val));
}

QmpMessage *
qmp_message_parse(const char *data, gsize len, GError **error)
{
    g_autoptr(QmpMessage) msg = g_new0(QmpMessage, 1);
    json_tokener *tok = json_tokener_new();
    enum json_tokener_error jerr;
    json_object *val;

    msg->root = json_tokener_parse_ex(tok, data, (int)len);
    jerr = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (!msg->root || jerr != json_tokener_success) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("cannot parse QEMU monitor message '%.*s'"), (int)MIN(len, 200),
                       data);
        return NULL;
    }
    if (!json_object_is_type(msg->root, json_type_object)) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("QEMU monitor message is not a JSON object"));
        return NULL;
    }

    if (json_object_object_get_ex(msg->root, "id", &val)) {
        if (json_object_is_type(val, json_type_string))
            msg->id = g_strdup(json_object_get_string(val));
        else
            msg->id = g_strdup(json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
    }

    if (json_object_object_get_ex(msg->root, "return", &val)) {
        msg->kind = QMP_MESSAGE_RETURN;
        msg->value = val;
    } else if (json_object_object_get_ex(msg->root, "error", &val)) {
        msg->kind = QMP_MESSAGE_ERROR;
        msg->value = val;
        msg->error_class = qmp_dup_string_member(val, "class");
        msg->error_desc = qmp_dup_string_member(val, "desc");
        if (!msg->error_desc)
            msg->error_desc = g_strdup(_("unknown error"));
    } else if (json_object_object_get_ex(msg->root, "event", &val)) {
        json_object *ts, *part;

        msg->kind = QMP_MESSAGE_EVENT;
        msg->event = g_strdup(json_object_get_string(val));
        if (json_object_object_get_ex(msg->root, "data", &val))
            msg->value = val;
        if (json_object_object_get_ex(msg->root, "timestamp", &ts)) {
            if (json_object_object_get_ex(ts, "seconds", &part))
                msg->timestamp_us = json_object_get_int64(part) * G_USEC_PER_SEC;
            if (json_object_object_get_ex(ts, "microseconds", &part))
                msg->timestamp_us += json_object_get_int64(part);
        }
    } else if (json_object_object_get_ex(msg->root, "QMP", &val)) {
        msg->kind = QMP_MESSAGE_GREETING;
        msg->value = val;
    } else {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("unknown QEMU monitor message '%.*s'"), (int)MIN(len, 200), data);
        return NULL;
    }
    return g_steal_pointer(&msg);
}

char *
qmp_command_format(const char *command, json_object *args, const char *id)
{
    json_object *obj = json_object_new_object();
    g_autofree char *out = NULL;

    json_object_object_add(obj, "execute", json_object_new_string(command));
    if (args)
        json_object_object_add(obj, "arguments", json_object_get(args));
    if (id)
        json_object_object_add(obj, "id", json_object_new_string(id));
    out = g_strdup_printf("%s\r\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
    json_object_put(obj);
    return g_steal_pointer(&out);
}

void
qmp_message_set_error(const QmpMessage *msg, const char *command, GError **error)
{
    virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                   _("QEMU command '%s' failed: %s"), command,
                   msg->error_desc ? msg->error_desc : _("unknown error"));
}

/* ---- line buffer ---- */

struct _QmpLineBuffer {
    GString *data;
};

QmpLineBuffer *
qmp_line_buffer_new(void)
{
    QmpLineBuffer *buf = g_new0(QmpLineBuffer, 1);

    buf->data = g_string_new(NULL);
    return buf;
}

void
qmp_line_buffer_free(QmpLineBuffer *buf)
{
    if (!buf)
        return;
    g_string_free(buf->data, TRUE);
    g_free(buf);
}

void
qmp_line_buffer_feed(QmpLineBuffer *buf, const char *data, gsize len)
{
    g_string_append_len(buf->data, data, len);
}

char *
qmp_line_buffer_next(QmpLineBuffer *buf)
{
    for (;;) {
        const char *nl = memchr(buf->data->str, '\n', buf->data->len);
        gsize linelen;
        char *line;

        if (!nl)
            return NULL;
        linelen = nl - buf->data->str;
        line = g_strndup(buf->data->str, linelen);
        g_string_erase(buf->data, 0, linelen + 1);
        g_strchomp(line); /* drops the '\r' */
        if (*line)
            return line;
        g_free(line); /* blank line: keep looking */
    }
}

gsize
qmp_line_buffer_pending(const QmpLineBuffer *buf)
{
    return buf->data->len;
}

/* ---- blocking client ---- */

struct _QmpClient {
    int fd;
    QmpLineBuffer *in;
    QmpMessage *greeting;
    GQueue events; /* QmpMessage* */
    guint next_id;
};

QmpClient *
qmp_client_new_fd(int fd)
{
    QmpClient *client = g_new0(QmpClient, 1);

    client->fd = fd;
    client->in = qmp_line_buffer_new();
    g_queue_init(&client->events);
    return client;
}

QmpClient *
qmp_client_connect_unix(const char *path, GError **error)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("monitor socket path '%s' is too long"), path);
        return NULL;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        virt_error_set_errno(error, VIR_FROM_QEMU, errno, _("cannot create a socket"));
        return NULL;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int saved = errno;

        close(fd);
        virt_error_set_errno(error, VIR_FROM_QEMU, saved,
                             _("cannot connect to QEMU monitor '%s'"), path);
        return NULL;
    }
    return qmp_client_new_fd(fd);
}

void
qmp_client_free(QmpClient *client)
{
    if (!client)
        return;
    if (client->fd >= 0)
        close(client->fd);
    qmp_line_buffer_free(client->in);
    qmp_message_free(client->greeting);
    g_queue_clear_full(&client->events, (GDestroyNotify)qmp_message_free);
    g_free(client);
}

json_object *
qmp_client_get_greeting(QmpClient *client)
{
    return client->greeting ? client->greeting->value : NULL;
}

QmpMessage *
qmp_client_pop_event(QmpClient *client)
{
    return g_queue_pop_head(&client->events);
}

static gboolean
qmp_client_write_all(QmpClient *client, const char *data, gsize len, GError **error)
{
    while (len > 0) {
        ssize_t n = send(client->fd, data, len, MSG_NOSIGNAL);

        if (n < 0 && errno == ENOTSOCK)
            n = write(client->fd, data, len);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            virt_error_set_errno(error, VIR_FROM_QEMU, errno,
                                 _("cannot write to QEMU monitor"));
            return FALSE;
        }
        data += n;
        len -= n;
    }
    return TRUE;
}

/* Read the next message that is not an event (events are queued), until @deadline
 * (monotonic microseconds). @what names the awaited reply in errors. */
static QmpMessage *
qmp_client_read_reply(QmpClient *client, gint64 deadline, const char *what, GError **error)
{
    for (;;) {
        g_autofree char *line = qmp_line_buffer_next(client->in);
        struct pollfd pfd = { .fd = client->fd, .events = POLLIN };
        char chunk[4096];
        gint64 left;
        ssize_t n;
        int rc;

        if (line) {
            QmpMessage *msg = qmp_message_parse(line, strlen(line), error);

            if (!msg)
                return NULL;
            if (msg->kind == QMP_MESSAGE_EVENT) {
                g_queue_push_tail(&client->events, msg);
                continue;
            }
            return msg;
        }

        left = deadline - g_get_monotonic_time();
        if (left <= 0) {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_TIMEOUT,
                           _("QEMU did not answer '%s' in time"), what);
            return NULL;
        }
        rc = poll(&pfd, 1, (int)((left + 999) / 1000));
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            virt_error_set_errno(error, VIR_FROM_QEMU, errno,
                                 _("cannot wait for the QEMU monitor"));
            return NULL;
        }
        if (rc == 0)
            continue; /* the deadline check above reports the timeout */
        n = read(client->fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            virt_error_set_errno(error, VIR_FROM_QEMU, errno,
                                 _("cannot read from QEMU monitor"));
            return NULL;
        }
        if (n == 0) {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                           _("QEMU monitor closed while waiting for '%s'"), what);
            return NULL;
        }
        qmp_line_buffer_feed(client->in, chunk, n);
    }
}

gboolean
qmp_client_handshake(QmpClient *client, int timeout_ms, GError **error)
{
    g_autoptr(QmpMessage) msg = NULL;
    json_object *ret;

    msg = qmp_client_read_reply(client, g_get_monotonic_time() + timeout_ms * 1000LL,
                                "greeting", error);
    if (!msg)
        return FALSE;
    if (msg->kind != QMP_MESSAGE_GREETING) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("QEMU monitor sent '%s' instead of its greeting"),
                       qmp_message_kind_to_string(msg->kind));
        return FALSE;
    }
    qmp_message_free(client->greeting);
    client->greeting = g_steal_pointer(&msg);

    ret = qmp_client_execute(client, "qmp_capabilities", NULL, timeout_ms, error);
    if (!ret)
        return FALSE;
    json_object_put(ret);
    return TRUE;
}

gboolean
qmp_client_send(QmpClient *client, const char *command, json_object *args, GError **error)
{
    g_autofree char *id = g_strdup_printf("virtd-%u", ++client->next_id);
    g_autofree char *wire = qmp_command_format(command, args, id);

    return qmp_client_write_all(client, wire, strlen(wire), error);
}

json_object *
qmp_client_execute(QmpClient *client, const char *command, json_object *args, int timeout_ms,
                   GError **error)
{
    gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000LL;
    g_autofree char *id = NULL;

    if (!qmp_client_send(client, command, args, error))
        return NULL;
    id = g_strdup_printf("virtd-%u", client->next_id);

    for (;;) {
        g_autoptr(QmpMessage) msg = qmp_client_read_reply(client, deadline, command, error);

        if (!msg)
            return NULL;
        if (msg->id && strcmp(msg->id, id) != 0)
            continue; /* a late reply to an earlier command */
        if (msg->kind == QMP_MESSAGE_ERROR) {
            qmp_message_set_error(msg, command, error);
            return NULL;
        }
        if (msg->kind != QMP_MESSAGE_RETURN)
            continue;
        return json_object_get(msg->value);
    }
}
