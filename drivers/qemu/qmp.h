/* A small QMP client: message parsing (pure, reusable by the asynchronous domain monitor)
 * and a blocking client for short exchanges such as capability probing.
 *
 * QEMU ends every message with "\r\n"; a message is one JSON object: a greeting
 * {"QMP": ...}, a reply {"return": ...} or {"error": {"class", "desc"}} (with the "id" of
 * the command when one was sent), or an event {"event", "data", "timestamp"}.
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

typedef enum {
    QMP_MESSAGE_GREETING,
    QMP_MESSAGE_RETURN,
    QMP_MESSAGE_ERROR,
    QMP_MESSAGE_EVENT,
    QMP_MESSAGE_LAST
} QmpMessageKind;

/* "greeting", "return", "error", "event"; NULL for an out-of-range value. */
const char *qmp_message_kind_to_string(QmpMessageKind kind);

typedef struct {
    QmpMessageKind kind;
    json_object *root;   /* the whole message (owned) */
    json_object *value;  /* borrowed from root: greeting's "QMP", "return", event "data" */
    char *id;            /* the reply's "id" as a string, or NULL */
    char *error_class;   /* QMP_MESSAGE_ERROR: "GenericError", ... */
    char *error_desc;    /* QMP_MESSAGE_ERROR: QEMU's own words */
    char *event;         /* QMP_MESSAGE_EVENT: "SHUTDOWN", ... */
    gint64 timestamp_us; /* QMP_MESSAGE_EVENT: microseconds since the epoch, 0 if absent */
} QmpMessage;

/* Parse one message of @len bytes (surrounding whitespace allowed). Returns a new message;
 * errors: VIR_FROM_QEMU / VIR_ERR_OPERATION_FAILED when the bytes are not a QMP message. */
QmpMessage *qmp_message_parse(const char *data, gsize len, GError **error);

/* Free @msg; NULL is allowed. */
void qmp_message_free(QmpMessage *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpMessage, qmp_message_free)

/* The wire form of a command, "\r\n" included: {"execute": @command, "arguments": @args,
 * "id": @id}; @args (borrowed) and @id may be NULL. Returns a new string. */
char *qmp_command_format(const char *command, json_object *args, const char *id);

/* Turn an error reply into a GError (VIR_FROM_QEMU / VIR_ERR_OPERATION_FAILED) whose
 * message names @command and carries QEMU's desc. */
void qmp_message_set_error(const QmpMessage *msg, const char *command, GError **error);

/* Splits a byte stream into complete lines; reused by any reader of a QMP socket. */
typedef struct _QmpLineBuffer QmpLineBuffer;

/* A new empty buffer. */
QmpLineBuffer *qmp_line_buffer_new(void);
/* Free @buf; NULL is allowed. */
void qmp_line_buffer_free(QmpLineBuffer *buf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpLineBuffer, qmp_line_buffer_free)
/* Append @len bytes read from the socket. */
void qmp_line_buffer_feed(QmpLineBuffer *buf, const char *data, gsize len);
/* The next complete line without its "\r\n" (new string), or NULL when none is complete. */
char *qmp_line_buffer_next(QmpLineBuffer *buf);
/* Bytes received but not yet returned as a line. */
gsize qmp_line_buffer_pending(const QmpLineBuffer *buf);

/* A blocking client on a connected stream socket. Not thread-safe: one user at a time. */
typedef struct _QmpClient QmpClient;

/* Wrap the connected socket @fd; the client owns it and closes it when freed. */
QmpClient *qmp_client_new_fd(int fd);

/* Connect to the unix socket @path. Errors: VIR_FROM_QEMU / VIR_ERR_SYSTEM_ERROR. */
QmpClient *qmp_client_connect_unix(const char *path, GError **error);

/* Free @client and close its socket; NULL is allowed. */
void qmp_client_free(QmpClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpClient, qmp_client_free)

/* Read the greeting and negotiate with qmp_capabilities, each within @timeout_ms. */
gboolean qmp_client_handshake(QmpClient *client, int timeout_ms, GError **error);

/* The greeting's "QMP" object (borrowed; NULL before the handshake). */
json_object *qmp_client_get_greeting(QmpClient *client);

/* Send @command with @args (borrowed, may be NULL) and wait up to @timeout_ms for its
 * reply. Returns a new reference to the "return" value. Events that arrive meanwhile are
 * queued. Errors (VIR_FROM_QEMU): OPERATION_FAILED with QEMU's desc for an error reply or
 * when the monitor closes, OPERATION_TIMEOUT when no reply comes in time. */
json_object *qmp_client_execute(QmpClient *client, const char *command, json_object *args,
                                int timeout_ms, GError **error);

/* Send @command and do not wait for a reply (for "quit", whose reply may never come). */
gboolean qmp_client_send(QmpClient *client, const char *command, json_object *args,
                         GError **error);

/* The oldest queued event (the caller owns it), or NULL. */
QmpMessage *qmp_client_pop_event(QmpClient *client);
