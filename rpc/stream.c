/* RPC streams over a file descriptor; see stream.h. */
#include "stream.h"

#include <errno.h>
#include <glib-unix.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "virt-error.h"

#define STREAM_CHUNK 65536
#define WRITE_WAIT_MS 5000 /* a peer that cannot take input this long ends the stream */

struct RpcStream {
    gint refs;
    RpcClient *client; /* reference */
    PacketHeader call;
    GMutex lock; /* fd, closed, source */
    int fd;
    gboolean closed;
    GSource *source;
};

RpcStream *
rpc_stream_new(RpcClient *client, const PacketHeader *call, int fd)
{
    RpcStream *stream = g_new0(RpcStream, 1);
    stream->refs = 1;
    stream->client = rpc_client_ref(client);
    stream->call = *call;
    stream->fd = fd;
    g_mutex_init(&stream->lock);
    return stream;
}

RpcStream *
rpc_stream_ref(RpcStream *stream)
{
    g_atomic_int_inc(&stream->refs);
    return stream;
}

void
rpc_stream_unref(RpcStream *stream)
{
    if (!stream || !g_atomic_int_dec_and_test(&stream->refs))
        return;
    if (stream->fd >= 0)
        close(stream->fd);
    rpc_client_unref(stream->client);
    g_mutex_clear(&stream->lock);
    g_free(stream);
}

guint32
rpc_stream_get_serial(const RpcStream *stream)
{
    return stream->call.serial;
}

gboolean
rpc_stream_is_closed(RpcStream *stream)
{
    g_mutex_lock(&stream->lock);
    gboolean closed = stream->closed;
    g_mutex_unlock(&stream->lock);
    return closed;
}

/* A STREAM packet of this stream with @status and @payload bytes (raw, not XDR). */
static void
send_stream_packet(RpcStream *stream, int status, const void *payload, gsize len)
{
    PacketHeader h = stream->call;
    h.type = PACKET_STREAM;
    h.status = status;
    g_autoptr(GBytes) head = packet_encode(&h, NULL, NULL, NULL);
    gsize head_len;
    const guint8 *head_data = g_bytes_get_data(head, &head_len);
    guint8 *pkt = g_malloc(head_len + len);
    memcpy(pkt, head_data, head_len);
    if (len)
        memcpy(pkt + head_len, payload, len);
    guint32 total = head_len + len;
    pkt[0] = total >> 24;
    pkt[1] = total >> 16;
    pkt[2] = total >> 8;
    pkt[3] = total;
    g_autoptr(GBytes) bytes = g_bytes_new_take(pkt, total);
    rpc_client_send(stream->client, bytes);
}

/* Mark closed and stop watching; TRUE if this call closed it. The lock is held. */
static gboolean
close_locked(RpcStream *stream)
{
    if (stream->closed)
        return FALSE;
    stream->closed = TRUE;
    if (stream->source) {
        g_source_destroy(stream->source);
        g_clear_pointer(&stream->source, g_source_unref);
    }
    if (stream->fd >= 0) {
        close(stream->fd);
        stream->fd = -1;
    }
    return TRUE;
}

void
rpc_stream_abort(RpcStream *stream, const GError *err)
{
    g_mutex_lock(&stream->lock);
    gboolean now = close_locked(stream);
    g_mutex_unlock(&stream->lock);
    if (!now)
        return;
    if (!err) {
        send_stream_packet(stream, PACKET_OK, NULL, 0);
        return;
    }
    PacketHeader h = stream->call;
    h.type = PACKET_STREAM;
    h.status = PACKET_ERROR;
    wire_error wire = {0};
    rpc_error_to_wire(err, &wire);
    g_autoptr(GBytes) pkt = packet_encode(&h, (xdrproc_t)xdr_wire_error, &wire, NULL);
    rpc_error_clear(&wire);
    if (pkt)
        rpc_client_send(stream->client, pkt);
}

/* The fd has data (or hung up): forward it, or finish at end of file. */
static gboolean
on_readable(int fd, GIOCondition cond, gpointer data)
{
    RpcStream *stream = data;
    guint8 buf[STREAM_CHUNK];
    ssize_t n;
    do
        n = read(fd, buf, sizeof(buf));
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return G_SOURCE_CONTINUE;
    if (n > 0) {
        send_stream_packet(stream, PACKET_CONTINUE, buf, n);
        return G_SOURCE_CONTINUE;
    }
    /* End of file, or EIO when the other side of a pty went away (QEMU exited). A client
     * reads EOF from an empty data packet, then finishes the stream (OK, which
     * rpc_stream_handle_packet echoes) or aborts it. */
    g_mutex_lock(&stream->lock);
    g_clear_pointer(&stream->source, g_source_unref); /* removed by returning REMOVE */
    gboolean closed = stream->closed;
    g_mutex_unlock(&stream->lock);
    if (!closed)
        send_stream_packet(stream, PACKET_CONTINUE, NULL, 0);
    return G_SOURCE_REMOVE;
}

void
rpc_stream_start(RpcStream *stream)
{
    g_mutex_lock(&stream->lock);
    if (!stream->closed && !stream->source) {
        stream->source = g_unix_fd_source_new(stream->fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
        g_source_set_callback(stream->source, G_SOURCE_FUNC(on_readable),
                              rpc_stream_ref(stream), (GDestroyNotify)rpc_stream_unref);
        g_source_attach(stream->source, rpc_client_get_context(stream->client));
    }
    g_mutex_unlock(&stream->lock);
}

/* Write all of @data to the fd, waiting (bounded) while it is full. */
static gboolean
write_all(int fd, const guint8 *data, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, WRITE_WAIT_MS) <= 0)
                return FALSE;
            continue;
        }
        if (n < 0)
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}

void
rpc_stream_handle_packet(RpcStream *stream, const PacketHeader *h, const guint8 *payload,
                         gsize len)
{
    if (h->status == PACKET_CONTINUE) {
        g_mutex_lock(&stream->lock);
        gboolean ok = stream->closed || write_all(stream->fd, payload, len);
        g_mutex_unlock(&stream->lock);
        if (!ok) {
            g_autoptr(GError) err = NULL;
            virt_error_set_errno(&err, VIR_FROM_STREAMS, errno, _("cannot write to the stream"));
            rpc_stream_abort(stream, err);
        }
        return;
    }
    /* The client finished (OK) or aborted (ERROR). Its library waits for an answer to
     * either: an empty OK packet confirms both, as libvirtd does. */
    g_mutex_lock(&stream->lock);
    gboolean now = close_locked(stream);
    g_mutex_unlock(&stream->lock);
    if (now)
        send_stream_packet(stream, PACKET_OK, NULL, 0);
}
