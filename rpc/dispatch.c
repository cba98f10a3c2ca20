/* Call dispatch, connection state and event delivery; see dispatch.h. */
#include "dispatch-priv.h"

#include <string.h>

#include "error.h"

Dispatcher *
dispatch_new(gboolean privileged)
{
    Dispatcher *d = g_new0(Dispatcher, 1);
    d->privileged = privileged;
    g_mutex_init(&d->consoles_lock);
    d->consoles = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify)rpc_stream_unref);
    return d;
}

void
dispatch_set_driver(Dispatcher *d, VirtDriver *drv)
{
    d->drv = drv;
}

void
dispatch_free(Dispatcher *d)
{
    if (!d)
        return;
    g_hash_table_unref(d->consoles);
    g_mutex_clear(&d->consoles_lock);
    g_free(d);
}

void
dispatch_set_server(Dispatcher *d, RpcServer *srv)
{
    d->srv = srv;
}

gboolean
dispatch_is_implemented(guint32 prog, int proc)
{
    return handler_lookup(prog, proc) != NULL;
}

void
wire_domain_set(wire_domain *w, const DomainRef *ref)
{
    w->name = g_strdup(ref->name);
    memcpy(w->uuid, ref->uuid, VIRT_UUID_LEN);
    w->id = ref->id;
}

/* ---- connection state ---- */

static void
callback_clear(gpointer data)
{
    EventCallback *cb = data;
    g_clear_pointer(&cb->monitor_filter, g_regex_unref);
}


static void
conn_free(gpointer data)
{
    Conn *conn = data;
    g_array_unref(conn->callbacks);
    g_ptr_array_unref(conn->streams);
    g_mutex_clear(&conn->lock);
    g_free(conn);
}

/* The client's connection state, created at its first call. Calls of one client may run
 * on several workers at once, hence the lock. */
static Conn *
conn_get(RpcClient *client, Dispatcher *d)
{
    static GMutex create_lock;
    g_mutex_lock(&create_lock);
    Conn *conn = rpc_client_get_priv(client);
    if (!conn) {
        conn = g_new0(Conn, 1);
        conn->d = d;
        conn->client = client;
        g_mutex_init(&conn->lock);
        conn->callbacks = g_array_new(FALSE, FALSE, sizeof(EventCallback));
        g_array_set_clear_func(conn->callbacks, callback_clear);
        conn->streams = g_ptr_array_new_with_free_func((GDestroyNotify)rpc_stream_unref);
        conn->next_callback_id = 1;
        conn->readonly = rpc_client_on_readonly_socket(client);
        rpc_client_set_priv(client, conn, conn_free);
    }
    g_mutex_unlock(&create_lock);
    return conn;
}

int
conn_add_callback(Conn *conn, int event_id, gboolean network, const unsigned char *uuid)
{
    EventCallback cb = {.event_id = event_id, .network = network};
    if (uuid) {
        cb.filtered = TRUE;
        memcpy(cb.uuid, uuid, VIRT_UUID_LEN);
    }
    g_mutex_lock(&conn->lock);
    cb.id = conn->next_callback_id++;
    g_array_append_val(conn->callbacks, cb);
    g_mutex_unlock(&conn->lock);
    return cb.id;
}

int
conn_add_monitor_callback(Conn *conn, const unsigned char *uuid, GRegex *filter)
{
    int id = conn_add_callback(conn, DOMAIN_EVENT_QEMU_MONITOR, FALSE, uuid);
    g_mutex_lock(&conn->lock);
    EventCallback *cb = &g_array_index(conn->callbacks, EventCallback, conn->callbacks->len - 1);
    cb->qemu_monitor = TRUE;
    cb->monitor_filter = filter;
    g_mutex_unlock(&conn->lock);
    return id;
}

gboolean
conn_remove_callback(Conn *conn, int callback_id, gboolean network, GError **error)
{
    g_mutex_lock(&conn->lock);
    for (guint i = 0; i < conn->callbacks->len; i++) {
        EventCallback *cb = &g_array_index(conn->callbacks, EventCallback, i);
        if (cb->id == callback_id && cb->network == network) {
            g_array_remove_index(conn->callbacks, i);
            g_mutex_unlock(&conn->lock);
            return TRUE;
        }
    }
    g_mutex_unlock(&conn->lock);
    virt_error_set(error, VIR_FROM_RPC, VIR_ERR_INVALID_ARG,
                   _("no event callback with id %d on this connection"), callback_id);
    return FALSE;
}

/* Per worker thread: the call being handled, and a stream it opened. */
static __thread const PacketHeader *current_call;
static __thread RpcStream *pending_stream;

const PacketHeader *
dispatch_current_call(void)
{
    return current_call;
}

void
conn_open_stream(Conn *conn, RpcStream *stream)
{
    g_mutex_lock(&conn->lock);
    g_ptr_array_add(conn->streams, stream);
    g_mutex_unlock(&conn->lock);
    pending_stream = stream;
}

/* The stream of @conn with @serial (a new reference), or NULL. */
static RpcStream *
conn_find_stream(Conn *conn, guint32 serial)
{
    RpcStream *found = NULL;
    g_mutex_lock(&conn->lock);
    for (guint i = 0; i < conn->streams->len && !found; i++) {
        RpcStream *s = g_ptr_array_index(conn->streams, i);
        if (rpc_stream_get_serial(s) == serial)
            found = rpc_stream_ref(s);
    }
    g_mutex_unlock(&conn->lock);
    return found;
}

void
dispatch_stream_packet(RpcClient *client, const PacketHeader *h, const guint8 *payload,
                       gsize len, gpointer user_data)
{
    Conn *conn = rpc_client_get_priv(client);
    g_autoptr(RpcStream) stream = conn ? conn_find_stream(conn, h->serial) : NULL;
    if (!stream)
        return; /* late data for a stream that ended: nothing to do */
    rpc_stream_handle_packet(stream, h, payload, len);
    if (rpc_stream_is_closed(stream)) {
        g_mutex_lock(&conn->lock);
        g_ptr_array_remove(conn->streams, stream);
        g_mutex_unlock(&conn->lock);
    }
}

void
dispatch_client_closed(RpcClient *client, gpointer user_data)
{
    Conn *conn = rpc_client_get_priv(client);
    if (!conn)
        return;
    /* No more events for a client that is gone, and its streams end. */
    g_mutex_lock(&conn->lock);
    g_array_set_size(conn->callbacks, 0);
    conn->opened = FALSE;
    g_autoptr(GPtrArray) streams = g_steal_pointer(&conn->streams);
    conn->streams = g_ptr_array_new_with_free_func((GDestroyNotify)rpc_stream_unref);
    g_mutex_unlock(&conn->lock);
    for (guint i = 0; i < streams->len; i++)
        rpc_stream_abort(g_ptr_array_index(streams, i), NULL);
}

/* ---- calls ---- */

gboolean
dispatch_is_priority(const PacketHeader *header, gpointer user_data)
{
    const ProcInfo *info = proc_info_lookup(header->prog, header->proc);
    return info && info->high_priority;
}

/* Procedures a client may call before CONNECT_OPEN. */
static gboolean
allowed_before_open(guint32 prog, int proc)
{
    return prog == PROGRAM_REMOTE &&
           (proc == RPROC_CONNECT_OPEN || proc == RPROC_AUTH_LIST ||
            proc == RPROC_CONNECT_SUPPORTS_FEATURE);
}

static void
send_reply(RpcClient *client, const PacketHeader *call, xdrproc_t proc, void *ret)
{
    PacketHeader h = *call;
    h.type = PACKET_REPLY;
    h.status = PACKET_OK;
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) pkt = packet_encode(&h, proc, ret, &err);
    if (!pkt) {
        /* Too big or unencodable: the client still gets an answer. */
        wire_error wire = {0};
        rpc_error_to_wire(err, &wire);
        h.status = PACKET_ERROR;
        pkt = packet_encode(&h, (xdrproc_t)xdr_wire_error, &wire, NULL);
        rpc_error_clear(&wire);
    }
    rpc_client_send(client, pkt);
}

static void
send_error(RpcClient *client, const PacketHeader *call, const GError *err)
{
    PacketHeader h = *call;
    h.type = PACKET_REPLY;
    h.status = PACKET_ERROR;
    wire_error wire = {0};
    rpc_error_to_wire(err, &wire);
    g_autoptr(GBytes) pkt = packet_encode(&h, (xdrproc_t)xdr_wire_error, &wire, NULL);
    rpc_error_clear(&wire);
    if (pkt)
        rpc_client_send(client, pkt);
}

/* Check everything that does not depend on the procedure's arguments. */
static const Handler *
check_call(Conn *conn, const PacketHeader *h, GError **error)
{
    if (h->vers != PROGRAM_VERSION) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_RPC,
                       _("unsupported version %u of program 0x%x"), h->vers, h->prog);
        return NULL;
    }
    const ProcInfo *info = proc_info_lookup(h->prog, h->proc);
    if (!info) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_RPC,
                       _("unknown procedure %d of program 0x%x"), h->proc, h->prog);
        return NULL;
    }
    g_mutex_lock(&conn->lock);
    gboolean opened = conn->opened, readonly = conn->readonly;
    g_mutex_unlock(&conn->lock);
    if (!opened && !allowed_before_open(h->prog, h->proc)) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_OPERATION_INVALID,
                       _("connection not open: call CONNECT_OPEN before %s"), info->name);
        return NULL;
    }
    if (readonly && info->access == PROC_ACCESS_WRITE) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_OPERATION_DENIED,
                       _("read only access prevents %s"), info->name);
        return NULL;
    }
    const Handler *handler = handler_lookup(h->prog, h->proc);
    if (!handler) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_NO_SUPPORT, "%s", info->name);
        return NULL;
    }
    return handler;
}

/* Run the call; FALSE (nothing sent) when, in non-blocking mode, a lock was busy. */
static gboolean
dispatch_run(RpcClient *client, const PacketHeader *h, const guint8 *payload, gsize len,
             gpointer user_data)
{
    Dispatcher *d = user_data;
    Conn *conn = conn_get(client, d);
    g_autoptr(GError) err = NULL;

    if (h->type != PACKET_CALL) {
        /* Streams and fd passing come with the features that use them. */
        if (h->type == PACKET_CALL_WITH_FDS || h->type == PACKET_STREAM) {
            virt_error_set(&err, VIR_FROM_RPC, VIR_ERR_RPC,
                           _("packet type %d is not supported by virtd yet"), h->type);
            send_error(client, h, err);
        }
        return TRUE;
    }
    if (h->prog != PROGRAM_REMOTE && h->prog != PROGRAM_QEMU) {
        virt_error_set(&err, VIR_FROM_RPC, VIR_ERR_RPC, _("unknown program 0x%x"), h->prog);
        send_error(client, h, err);
        return TRUE;
    }

    const Handler *handler = check_call(conn, h, &err);
    if (!handler) {
        send_error(client, h, err);
        return TRUE;
    }

    g_autofree void *args = g_malloc0(MAX(handler->args_size, 1));
    g_autofree void *ret = g_malloc0(MAX(handler->ret_size, 1));
    if (!packet_decode_payload(payload, len, handler->args_proc, args, &err)) {
        send_error(client, h, err);
        return TRUE;
    }
    current_call = h;
    gboolean ok = handler->fn(conn, args, ret, &err);
    current_call = NULL;
    gboolean would_block = !ok && driver_take_would_block();
    if (ok)
        send_reply(client, h, handler->ret_proc, ret);
    else if (!would_block)
        send_error(client, h, err);
    RpcStream *opened = g_steal_pointer(&pending_stream);
    if (opened)
        rpc_stream_start(opened); /* data flows only after the reply is queued */
    packet_free_payload(handler->args_proc, args);
    packet_free_payload(handler->ret_proc, ret);
    return !would_block;
}

void
dispatch_call(RpcClient *client, const PacketHeader *h, const guint8 *payload, gsize len,
              gpointer user_data)
{
    dispatch_run(client, h, payload, len, user_data);
}

/* Calls that only read a domain's state in memory: worth answering without a hand-off. */
static gboolean
answered_inline(const PacketHeader *h)
{
    if (h->prog != PROGRAM_REMOTE || h->vers != PROGRAM_VERSION)
        return FALSE;
    switch (h->proc) {
    case RPROC_DOMAIN_GET_INFO:
    case RPROC_DOMAIN_GET_STATE:
    case RPROC_DOMAIN_LOOKUP_BY_NAME:
    case RPROC_DOMAIN_LOOKUP_BY_UUID:
    case RPROC_DOMAIN_IS_ACTIVE:
    case RPROC_DOMAIN_IS_PERSISTENT:
    case RPROC_DOMAIN_IS_UPDATED:
    case RPROC_DOMAIN_GET_AUTOSTART:
        return TRUE;
    default:
        return FALSE;
    }
}

gboolean
dispatch_try_inline(RpcClient *client, const PacketHeader *h, const guint8 *payload, gsize len,
                    gpointer user_data)
{
    if (!answered_inline(h))
        return FALSE;
    driver_set_nonblocking(TRUE);
    gboolean answered = dispatch_run(client, h, payload, len, user_data);
    driver_set_nonblocking(FALSE);
    return answered;
}

/* ---- events ---- */

typedef struct {
    const DomainEvent *ev;
} EventDelivery;

/* Encode the message of @ev for callback @cb_id, or NULL when we do not send this kind. */
static GBytes *
event_packet(const DomainEvent *ev, int cb_id)
{
    PacketHeader h = {PROGRAM_REMOTE, PROGRAM_VERSION, 0, PACKET_MESSAGE, 0, PACKET_OK};
    switch (ev->event_id) {
    case VIR_DOMAIN_EVENT_ID_LIFECYCLE: {
        wire_lifecycle_msg msg = {.callback_id = cb_id,
                                  .event = ev->lifecycle_event,
                                  .detail = ev->lifecycle_detail};
        wire_domain_set(&msg.dom, &ev->dom);
        h.proc = RPROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE;
        GBytes *pkt = packet_encode(&h, (xdrproc_t)xdr_wire_lifecycle_msg, &msg, NULL);
        g_free(msg.dom.name);
        return pkt;
    }
    case DOMAIN_EVENT_QEMU_MONITOR: {
        wire_str details = ev->monitor_details;
        wire_monitor_event_msg msg = {.callback_id = cb_id,
                                      .event = ev->monitor_event,
                                      .seconds = ev->monitor_seconds,
                                      .micros = ev->monitor_micros,
                                      .details = ev->monitor_details ? &details : NULL};
        wire_domain_set(&msg.dom, &ev->dom);
        h.prog = PROGRAM_QEMU;
        h.proc = QPROC_DOMAIN_MONITOR_EVENT;
        GBytes *pkt = packet_encode(&h, (xdrproc_t)xdr_wire_monitor_event_msg, &msg, NULL);
        g_free(msg.dom.name);
        return pkt;
    }
    case VIR_DOMAIN_EVENT_ID_REBOOT: {
        wire_reboot_msg msg = {.callback_id = cb_id};
        wire_domain_set(&msg.dom, &ev->dom);
        h.proc = RPROC_DOMAIN_EVENT_CALLBACK_REBOOT;
        GBytes *pkt = packet_encode(&h, (xdrproc_t)xdr_wire_reboot_msg, &msg, NULL);
        g_free(msg.dom.name);
        return pkt;
    }
    case VIR_DOMAIN_EVENT_ID_METADATA_CHANGE: {
        wire_str nsuri = ev->metadata_nsuri;
        wire_metadata_change_msg msg = {.callback_id = cb_id,
                                        .type = ev->metadata_type,
                                        .nsuri = ev->metadata_nsuri ? &nsuri : NULL};
        wire_domain_set(&msg.dom, &ev->dom);
        h.proc = RPROC_DOMAIN_EVENT_CALLBACK_METADATA_CHANGE;
        GBytes *pkt = packet_encode(&h, (xdrproc_t)xdr_wire_metadata_change_msg, &msg, NULL);
        g_free(msg.dom.name);
        return pkt;
    }
    case VIR_DOMAIN_EVENT_ID_TUNABLE: {
        GArray *params = ev->tunable_params;
        guint n = MIN(params->len, WIRE_TUNABLE_PARAMS_MAX);
        wire_tunable_msg msg = {.callback_id = cb_id};
        wire_domain_set(&msg.dom, &ev->dom);
        msg.params.params_len = n;
        msg.params.params_val = g_new0(wire_param, MAX(n, 1));
        for (guint i = 0; i < n; i++)
            wire_param_set(&msg.params.params_val[i],
                           &g_array_index(params, DomainTypedParam, i));
        h.proc = RPROC_DOMAIN_EVENT_CALLBACK_TUNABLE;
        GBytes *pkt = packet_encode(&h, (xdrproc_t)xdr_wire_tunable_msg, &msg, NULL);
        xdr_free((xdrproc_t)xdr_wire_tunable_msg, (char *)&msg);
        return pkt;
    }
    default:
        return NULL;
    }
}

static void
deliver_to_client(gpointer data, gpointer user_data)
{
    RpcClient *client = data;
    const DomainEvent *ev = ((EventDelivery *)user_data)->ev;
    Conn *conn = rpc_client_get_priv(client);
    if (!conn)
        return;

    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(int));
    g_mutex_lock(&conn->lock);
    for (guint i = 0; conn->opened && i < conn->callbacks->len; i++) {
        EventCallback *cb = &g_array_index(conn->callbacks, EventCallback, i);
        if (cb->network || cb->event_id != ev->event_id)
            continue;
        if (cb->filtered && memcmp(cb->uuid, ev->dom.uuid, VIRT_UUID_LEN) != 0)
            continue;
        if (cb->monitor_filter && !g_regex_match(cb->monitor_filter, ev->monitor_event, 0, NULL))
            continue;
        g_array_append_val(ids, cb->id);
    }
    g_mutex_unlock(&conn->lock);

    for (guint i = 0; i < ids->len; i++) {
        g_autoptr(GBytes) pkt = event_packet(ev, g_array_index(ids, int, i));
        if (pkt)
            rpc_client_send(client, pkt);
    }
}

void
dispatch_domain_event(const DomainEvent *ev, gpointer user_data)
{
    Dispatcher *d = user_data;
    if (!d->srv)
        return;
    EventDelivery delivery = {ev};
    rpc_server_foreach_client(d->srv, deliver_to_client, &delivery);
}
