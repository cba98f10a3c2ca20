/* RPC server: listeners, clients, framing, worker pools, keepalive; see server.h. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "virt-error.h"

typedef struct {
    RpcServer *srv;
    char *path;
    int fd;
    gboolean readonly;
    dev_t dev; /* identity of the socket file we created, to remove only ours */
    ino_t ino;
    GSource *source;
} Listener;

struct RpcServer {
    RpcServerConfig cfg;
    RpcCallHandler handler;
    RpcStreamPacketFunc stream_packet;
    RpcPriorityFunc is_priority;
    RpcInlineFunc try_inline;
    RpcClientClosedFunc closed;
    gpointer user_data;
    GMainContext *ctx;
    GPtrArray *listeners;
    GThreadPool *workers;
    GThreadPool *prio_workers;

    GMutex lock; /* clients, inflight, draining */
    GCond idle;
    GList *clients;
    guint inflight;
    gboolean draining; /* someone waits on @idle */
};

typedef struct {
    GSource base;
    gpointer tag;
} ClientSource;

#define RX_SIZE 4096 /* most calls and their arguments fit: one recv each */

struct RpcClient {
    gint refs;
    RpcServer *srv;
    int fd;
    gboolean readonly_socket;

    /* Loop thread only: framing. Small packets are read whole (often several at once)
     * into rx; one longer than rx goes on into its own body buffer. */
    guint8 rx[RX_SIZE];
    gsize rx_len;   /* bytes in rx not parsed yet */
    guint8 *body;   /* a long packet being read, NULL otherwise */
    gsize body_len;
    gsize body_have;
    ClientSource *source;
    GIOCondition cond; /* what the source waits for now */
    GSource *keepalive_timer;
    gint64 last_rx_us;
    guint pings_unanswered;

    GMutex lock; /* everything below */
    GQueue out;  /* GBytes packets to write */
    gsize out_offset;
    gboolean closed;
    gboolean reading_paused;
    guint inflight;

    gpointer priv;
    GDestroyNotify free_priv;
};

typedef struct {
    RpcClient *client;
    PacketHeader header;
    guint8 *payload;
    gsize len;
} Call;

static void client_drop(RpcClient *client);
static void client_update_condition(RpcClient *client);

/* ---- client fd source ---- */

static gboolean
client_source_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
    return callback(user_data);
}

static GSourceFuncs client_source_funcs = {
    .dispatch = client_source_dispatch,
};

RpcClient *
rpc_client_ref(RpcClient *client)
{
    g_atomic_int_inc(&client->refs);
    return client;
}

void
rpc_client_unref(RpcClient *client)
{
    if (!client || !g_atomic_int_dec_and_test(&client->refs))
        return;
    if (client->free_priv)
        client->free_priv(client->priv);
    g_queue_clear_full(&client->out, (GDestroyNotify)g_bytes_unref);
    g_free(client->body);
    g_mutex_clear(&client->lock);
    if (client->fd >= 0)
        close(client->fd);
    g_free(client);
}

GMainContext *
rpc_client_get_context(const RpcClient *client)
{
    return client->srv->ctx;
}

gboolean
rpc_client_on_readonly_socket(const RpcClient *client)
{
    return client->readonly_socket;
}

void
rpc_client_set_priv(RpcClient *client, gpointer priv, GDestroyNotify free_priv)
{
    client->priv = priv;
    client->free_priv = free_priv;
}

gpointer
rpc_client_get_priv(const RpcClient *client)
{
    return client->priv;
}

/* ---- writing (loop thread) ---- */

/* Write as much queued output as the socket takes. FALSE when the client broke. */
static gboolean
client_flush(RpcClient *client)
{
    g_mutex_lock(&client->lock);
    while (!client->closed && !g_queue_is_empty(&client->out)) {
        GBytes *pkt = g_queue_peek_head(&client->out);
        gsize size;
        const guint8 *data = g_bytes_get_data(pkt, &size);
        ssize_t n = send(client->fd, data + client->out_offset, size - client->out_offset,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            g_mutex_unlock(&client->lock);
            return FALSE;
        }
        client->out_offset += n;
        if (client->out_offset == size) {
            g_bytes_unref(g_queue_pop_head(&client->out));
            client->out_offset = 0;
        }
    }
    g_mutex_unlock(&client->lock);
    return TRUE;
}

/* On the loop thread: write what is queued. (Also run directly, nested, when the loop
 * thread itself sends a reply the socket does not take at once.) */
static gboolean
client_flush_idle(gpointer data)
{
    RpcClient *client = data;
    if (client->source == NULL)
        return G_SOURCE_REMOVE; /* already dropped */
    if (!client_flush(client))
        client_drop(client);
    else
        client_update_condition(client);
    return G_SOURCE_REMOVE;
}

static gboolean client_parse_rx(RpcClient *client);

/* On the loop thread, after reading paused: hand over the packets already read, then
 * read again. Queued by a worker, so never nested inside client_parse_rx. */
static gboolean
client_resume_idle(gpointer data)
{
    RpcClient *client = data;
    if (client->source == NULL)
        return G_SOURCE_REMOVE; /* already dropped */
    if (!client_flush(client) || !client_parse_rx(client))
        client_drop(client);
    else
        client_update_condition(client);
    return G_SOURCE_REMOVE;
}

void
rpc_client_send(RpcClient *client, GBytes *packet)
{
    g_mutex_lock(&client->lock);
    gboolean closed = client->closed;
    if (!closed && g_queue_is_empty(&client->out)) {
        /* Nothing queued: write from this thread and spare the loop a wake-up. Only what
         * the socket does not take at once goes through the loop thread. */
        gsize size;
        const guint8 *data = g_bytes_get_data(packet, &size);
        ssize_t n;
        do
            n = send(client->fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n == (ssize_t)size) {
            g_mutex_unlock(&client->lock);
            return;
        }
        client->out_offset = n > 0 ? n : 0; /* errors surface in the loop's flush */
    }
    if (!closed)
        g_queue_push_tail(&client->out, g_bytes_ref(packet));
    g_mutex_unlock(&client->lock);
    if (closed)
        return;
    g_main_context_invoke_full(client->srv->ctx, G_PRIORITY_DEFAULT, client_flush_idle,
                               rpc_client_ref(client), (GDestroyNotify)rpc_client_unref);
}

static gboolean
client_close_idle(gpointer data)
{
    RpcClient *client = data;
    if (client->source)
        client_drop(client);
    return G_SOURCE_REMOVE;
}

void
rpc_client_close(RpcClient *client)
{
    g_main_context_invoke_full(client->srv->ctx, G_PRIORITY_DEFAULT, client_close_idle,
                               rpc_client_ref(client), (GDestroyNotify)rpc_client_unref);
}

/* Which events the loop waits for: input unless paused, output while the queue has data. */
static void
client_update_condition(RpcClient *client)
{
    if (!client->source)
        return;
    g_mutex_lock(&client->lock);
    GIOCondition cond = G_IO_HUP | G_IO_ERR;
    if (!client->reading_paused)
        cond |= G_IO_IN;
    if (!g_queue_is_empty(&client->out))
        cond |= G_IO_OUT;
    g_mutex_unlock(&client->lock);
    /* Every modification wakes the main loop up once more: only change what changed. */
    if (cond != client->cond) {
        client->cond = cond;
        g_source_modify_unix_fd((GSource *)client->source, client->source->tag, cond);
    }
}

/* ---- dropping a client (loop thread) ---- */

static void
client_drop(RpcClient *client)
{
    RpcServer *srv = client->srv;

    g_mutex_lock(&client->lock);
    client->closed = TRUE;
    g_mutex_unlock(&client->lock);

    if (client->keepalive_timer) {
        g_source_destroy(client->keepalive_timer);
        g_clear_pointer(&client->keepalive_timer, g_source_unref);
    }
    if (client->source) {
        g_source_destroy((GSource *)client->source);
        g_source_unref((GSource *)client->source);
        client->source = NULL;
    }
    shutdown(client->fd, SHUT_RDWR);

    g_mutex_lock(&srv->lock);
    GList *link = g_list_find(srv->clients, client);
    if (link)
        srv->clients = g_list_delete_link(srv->clients, link);
    g_mutex_unlock(&srv->lock);

    if (link) {
        if (srv->closed)
            srv->closed(client, srv->user_data);
        rpc_client_unref(client); /* the list's reference */
    }
}

/* ---- calls ---- */

static void
call_free(Call *call)
{
    g_free(call->payload);
    g_free(call);
}

static void
call_run(gpointer data, gpointer user_data)
{
    Call *call = data;
    RpcClient *client = call->client;
    RpcServer *srv = client->srv;

    srv->handler(client, &call->header, call->payload, call->len, srv->user_data);

    g_mutex_lock(&client->lock);
    client->inflight--;
    gboolean resume = client->reading_paused && client->inflight < srv->cfg.max_client_requests;
    if (resume)
        client->reading_paused = FALSE;
    g_mutex_unlock(&client->lock);
    if (resume)
        g_main_context_invoke_full(srv->ctx, G_PRIORITY_DEFAULT, client_resume_idle,
                                   rpc_client_ref(client), (GDestroyNotify)rpc_client_unref);

    g_mutex_lock(&srv->lock);
    if (--srv->inflight == 0 && srv->draining)
        g_cond_broadcast(&srv->idle);
    g_mutex_unlock(&srv->lock);

    rpc_client_unref(client);
    call_free(call);
}

static GBytes *
keepalive_packet(int proc)
{
    PacketHeader h = {PROGRAM_KEEPALIVE, PROGRAM_VERSION, proc, PACKET_MESSAGE, 0, PACKET_OK};
    return packet_encode(&h, NULL, NULL, NULL);
}

/* A whole packet has arrived (@body: header and payload, borrowed): answer keepalive here,
 * queue calls for the workers. */
static void
client_handle_packet(RpcClient *client, const guint8 *body, gsize body_len)
{
    RpcServer *srv = client->srv;
    PacketHeader h;
    packet_header_decode(body, &h);

    if (h.prog == PROGRAM_KEEPALIVE) {
        if (h.proc == KEEPALIVE_PROC_PING && h.type == PACKET_MESSAGE) {
            g_autoptr(GBytes) pong = keepalive_packet(KEEPALIVE_PROC_PONG);
            rpc_client_send(client, pong);
        }
        return; /* a PONG needs nothing: any packet already reset the count */
    }
    if (h.type == PACKET_STREAM) {
        /* Stream data keeps its order: handled here, not spread over workers. */
        if (srv->stream_packet)
            srv->stream_packet(client, &h, body + PACKET_HEADER_SIZE,
                               body_len - PACKET_HEADER_SIZE, srv->user_data);
        return;
    }

    if (srv->try_inline && h.type == PACKET_CALL &&
        srv->try_inline(client, &h, body + PACKET_HEADER_SIZE, body_len - PACKET_HEADER_SIZE,
                        srv->user_data))
        return;

    Call *call = g_new0(Call, 1);
    call->client = rpc_client_ref(client);
    call->header = h;
    call->len = body_len - PACKET_HEADER_SIZE;
    call->payload = g_memdup2(body + PACKET_HEADER_SIZE, call->len);

    g_mutex_lock(&client->lock);
    client->inflight++;
    if (client->inflight >= srv->cfg.max_client_requests)
        client->reading_paused = TRUE;
    g_mutex_unlock(&client->lock);
    g_mutex_lock(&srv->lock);
    srv->inflight++;
    g_mutex_unlock(&srv->lock);

    gboolean prio = srv->is_priority && srv->is_priority(&h, srv->user_data);
    g_thread_pool_push(prio ? srv->prio_workers : srv->workers, call, NULL);
}

static gboolean
client_reading_paused(RpcClient *client)
{
    g_mutex_lock(&client->lock);
    gboolean paused = client->reading_paused;
    g_mutex_unlock(&client->lock);
    return paused;
}

/* Hand over the whole packets in rx (until reading pauses); a packet longer than rx moves
 * to its own buffer. FALSE when a length is out of range: the client must be dropped. */
static gboolean
client_parse_rx(RpcClient *client)
{
    gsize off = 0;
    while (client->rx_len - off >= PACKET_LEN_SIZE && !client_reading_paused(client)) {
        guint32 len = packet_length_decode(client->rx + off);
        /* The limit is checked before a body buffer exists or more than rx is read. */
        if (!packet_length_valid(len)) {
            g_message("dropping client fd %d: packet length %u out of range", client->fd, len);
            return FALSE;
        }
        gsize have = client->rx_len - off;
        if (len <= have) {
            client_handle_packet(client, client->rx + off + PACKET_LEN_SIZE,
                                 len - PACKET_LEN_SIZE);
            off += len;
        } else if (len > RX_SIZE) {
            client->body_len = len - PACKET_LEN_SIZE;
            client->body_have = have - PACKET_LEN_SIZE;
            client->body = g_malloc(client->body_len);
            memcpy(client->body, client->rx + off + PACKET_LEN_SIZE, client->body_have);
            off = client->rx_len;
        } else {
            break; /* the rest comes with the next recv */
        }
    }
    memmove(client->rx, client->rx + off, client->rx_len - off);
    client->rx_len -= off;
    return TRUE;
}

/* Read what is available. FALSE when the client must be dropped (EOF, error, bad length). */
static gboolean
client_read(RpcClient *client)
{
    while (!client_reading_paused(client)) {
        gboolean long_packet = client->body != NULL;
        guint8 *dst = long_packet ? client->body + client->body_have : client->rx + client->rx_len;
        gsize want = long_packet ? client->body_len - client->body_have
                                 : RX_SIZE - client->rx_len;
        ssize_t n = recv(client->fd, dst, want, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return TRUE;
        if (n <= 0)
            return FALSE;
        client->last_rx_us = g_get_monotonic_time();
        client->pings_unanswered = 0;

        if (long_packet) {
            client->body_have += n;
            if (client->body_have == client->body_len) {
                g_autofree guint8 *body = g_steal_pointer(&client->body);
                client_handle_packet(client, body, client->body_len);
            }
            continue;
        }
        client->rx_len += n;
        if (!client_parse_rx(client))
            return FALSE;
        if ((gsize)n < want && !client->body)
            return TRUE; /* drained: the loop says when there is more */
    }
    return TRUE;
}

static gboolean
client_io(gpointer data)
{
    RpcClient *client = data;
    GIOCondition cond = g_source_query_unix_fd((GSource *)client->source, client->source->tag);

    if ((cond & G_IO_OUT) && !client_flush(client))
        goto drop;
    if (cond & G_IO_IN) {
        if (!client_read(client))
            goto drop;
    } else if (cond & (G_IO_HUP | G_IO_ERR)) {
        goto drop;
    }
    client_update_condition(client);
    return G_SOURCE_CONTINUE;

drop:
    rpc_client_ref(client);
    client_drop(client);
    rpc_client_unref(client);
    return G_SOURCE_REMOVE;
}

/* ---- keepalive ---- */

static gboolean
client_keepalive_tick(gpointer data)
{
    RpcClient *client = data;
    RpcServer *srv = client->srv;
    gint64 idle_us = g_get_monotonic_time() - client->last_rx_us;

    if (idle_us < (gint64)srv->cfg.keepalive_interval * G_USEC_PER_SEC)
        return G_SOURCE_CONTINUE;
    if (client->pings_unanswered >= srv->cfg.keepalive_count) {
        g_message("dropping client fd %d: no answer to %u keepalive pings", client->fd,
                  client->pings_unanswered);
        g_clear_pointer(&client->keepalive_timer, g_source_unref);
        rpc_client_ref(client);
        client_drop(client);
        rpc_client_unref(client);
        return G_SOURCE_REMOVE;
    }
    client->pings_unanswered++;
    g_autoptr(GBytes) ping = keepalive_packet(KEEPALIVE_PROC_PING);
    rpc_client_send(client, ping);
    return G_SOURCE_CONTINUE;
}

static gboolean
client_start_keepalive_idle(gpointer data)
{
    RpcClient *client = data;
    RpcServer *srv = client->srv;
    if (!client->source || client->keepalive_timer || srv->cfg.keepalive_interval <= 0)
        return G_SOURCE_REMOVE;
    client->last_rx_us = g_get_monotonic_time();
    client->keepalive_timer = g_timeout_source_new_seconds(1);
    g_source_set_callback(client->keepalive_timer, client_keepalive_tick, client, NULL);
    g_source_attach(client->keepalive_timer, srv->ctx);
    return G_SOURCE_REMOVE;
}

void
rpc_client_start_keepalive(RpcClient *client)
{
    g_main_context_invoke_full(client->srv->ctx, G_PRIORITY_DEFAULT,
                               client_start_keepalive_idle, rpc_client_ref(client),
                               (GDestroyNotify)rpc_client_unref);
}

/* ---- accepting ---- */

static gboolean
listener_accept(int listen_fd, GIOCondition cond, gpointer data)
{
    Listener *l = data;
    RpcServer *srv = l->srv;
    int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
        if (errno != EAGAIN && errno != EINTR)
            g_warning("accept on '%s' failed: %s", l->path, g_strerror(errno));
        return G_SOURCE_CONTINUE;
    }
    if (rpc_server_client_count(srv) >= srv->cfg.max_clients) {
        g_message("refusing a client on '%s': %u clients already connected", l->path,
                  srv->cfg.max_clients);
        close(fd);
        return G_SOURCE_CONTINUE;
    }

    RpcClient *client = g_new0(RpcClient, 1);
    client->refs = 1; /* owned by the server's list */
    client->srv = srv;
    client->fd = fd;
    client->readonly_socket = l->readonly;
    g_mutex_init(&client->lock);
    g_queue_init(&client->out);

    client->source = (ClientSource *)g_source_new(&client_source_funcs, sizeof(ClientSource));
    client->cond = G_IO_IN | G_IO_HUP | G_IO_ERR;
    client->source->tag = g_source_add_unix_fd((GSource *)client->source, fd, client->cond);
    g_source_set_callback((GSource *)client->source, client_io, client, NULL);
    /* GLib blocks a non-recursive source around its dispatch by removing and re-adding
     * its fds, which wakes the loop twice per packet; nothing here iterates the loop from
     * inside a callback, so let it recurse instead. */
    g_source_set_can_recurse((GSource *)client->source, TRUE);
    g_source_attach((GSource *)client->source, srv->ctx);

    g_mutex_lock(&srv->lock);
    srv->clients = g_list_prepend(srv->clients, client);
    g_mutex_unlock(&srv->lock);
    return G_SOURCE_CONTINUE;
}

/* Is something answering on @path? Used to refuse taking over a live daemon's socket. */
static gboolean
socket_is_live(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return FALSE;
    gboolean live = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
    close(fd);
    return live;
}

gboolean
rpc_server_add_listener(RpcServer *srv, const char *path, int mode, gboolean readonly,
                        GError **error)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path)) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_CONFIG_UNSUPPORTED,
                       _("socket path '%s' is too long"), path);
        return FALSE;
    }
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));

    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            virt_error_set(error, VIR_FROM_RPC, VIR_ERR_OPERATION_FAILED,
                           _("'%s' exists and is not a socket"), path);
            return FALSE;
        }
        if (socket_is_live(path)) {
            virt_error_set(error, VIR_FROM_RPC, VIR_ERR_OPERATION_FAILED,
                           _("another daemon is already listening on '%s'"), path);
            return FALSE;
        }
        unlink(path); /* stale: nobody answers */
    }

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        virt_error_set_errno(error, VIR_FROM_RPC, errno, _("cannot create socket"));
        return FALSE;
    }
    mode_t old_umask = umask(0077);
    int rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    int saved = errno;
    umask(old_umask);
    if (rc < 0 || chmod(path, mode) < 0 || listen(fd, 128) < 0 || stat(path, &st) < 0) {
        if (rc == 0)
            saved = errno;
        close(fd);
        virt_error_set_errno(error, VIR_FROM_RPC, saved, _("cannot listen on '%s'"), path);
        return FALSE;
    }

    Listener *l = g_new0(Listener, 1);
    l->srv = srv;
    l->path = g_strdup(path);
    l->fd = fd;
    l->readonly = readonly;
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    g_ptr_array_add(srv->listeners, l);
    return TRUE;
}

void
rpc_server_start(RpcServer *srv)
{
    for (guint i = 0; i < srv->listeners->len; i++) {
        Listener *l = g_ptr_array_index(srv->listeners, i);
        l->source = g_unix_fd_source_new(l->fd, G_IO_IN);
        g_source_set_callback(l->source, G_SOURCE_FUNC(listener_accept), l, NULL);
        g_source_attach(l->source, srv->ctx);
    }
}

static void
listener_free(Listener *l)
{
    if (l->source) {
        g_source_destroy(l->source);
        g_source_unref(l->source);
    }
    if (l->fd >= 0) {
        struct stat st;
        /* Remove the socket file only if it is still the one we bound. */
        if (stat(l->path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)
            unlink(l->path);
        close(l->fd);
    }
    g_free(l->path);
    g_free(l);
}

void
rpc_server_stop_accepting(RpcServer *srv)
{
    g_ptr_array_set_size(srv->listeners, 0);
}

RpcServer *
rpc_server_new(const RpcServerConfig *cfg, RpcCallHandler handler,
               RpcStreamPacketFunc stream_packet, RpcPriorityFunc is_priority,
               RpcClientClosedFunc closed, gpointer user_data)
{
    RpcServer *srv = g_new0(RpcServer, 1);
    srv->cfg = *cfg;
    if (srv->cfg.max_client_requests == 0)
        srv->cfg.max_client_requests = 1;
    srv->handler = handler;
    srv->stream_packet = stream_packet;
    srv->is_priority = is_priority;
    srv->closed = closed;
    srv->user_data = user_data;
    srv->ctx = g_main_context_ref_thread_default();
    srv->listeners = g_ptr_array_new_with_free_func((GDestroyNotify)listener_free);
    g_mutex_init(&srv->lock);
    g_cond_init(&srv->idle);
    srv->workers = g_thread_pool_new(call_run, srv, MAX(cfg->max_workers, 1), FALSE, NULL);
    srv->prio_workers = g_thread_pool_new(call_run, srv, MAX(cfg->prio_workers, 1), FALSE, NULL);
    return srv;
}

void
rpc_server_set_inline(RpcServer *srv, RpcInlineFunc try_inline)
{
    srv->try_inline = try_inline;
}

void
rpc_server_drain(RpcServer *srv, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_mutex_lock(&srv->lock);
    srv->draining = TRUE;
    while (srv->inflight > 0) {
        if (!g_cond_wait_until(&srv->idle, &srv->lock, deadline)) {
            g_warning("shutting down with %u calls still running", srv->inflight);
            break;
        }
    }
    g_mutex_unlock(&srv->lock);
    /* Deliver the replies the workers queued, then drop everyone. */
    while (g_main_context_iteration(srv->ctx, FALSE))
        ;
    for (;;) {
        g_mutex_lock(&srv->lock);
        RpcClient *client = srv->clients ? rpc_client_ref(srv->clients->data) : NULL;
        g_mutex_unlock(&srv->lock);
        if (!client)
            break;
        client_flush(client);
        client_drop(client);
        rpc_client_unref(client);
    }
}

void
rpc_server_free(RpcServer *srv)
{
    if (!srv)
        return;
    g_thread_pool_free(srv->workers, FALSE, TRUE);
    g_thread_pool_free(srv->prio_workers, FALSE, TRUE);
    g_ptr_array_unref(srv->listeners);
    g_list_free_full(srv->clients, (GDestroyNotify)rpc_client_unref);
    g_mutex_clear(&srv->lock);
    g_cond_clear(&srv->idle);
    g_main_context_unref(srv->ctx);
    g_free(srv);
}

void
rpc_server_foreach_client(RpcServer *srv, GFunc func, gpointer user_data)
{
    g_mutex_lock(&srv->lock);
    g_list_foreach(srv->clients, func, user_data);
    g_mutex_unlock(&srv->lock);
}

guint
rpc_server_client_count(RpcServer *srv)
{
    g_mutex_lock(&srv->lock);
    guint n = g_list_length(srv->clients);
    g_mutex_unlock(&srv->lock);
    return n;
}
