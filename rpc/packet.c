/* Packet framing and XDR payload helpers; see packet.h. */
#include "packet.h"

#include <string.h>

#include "virt-error.h"

guint32
packet_length_decode(const guint8 *buf)
{
    return ((guint32)buf[0] << 24) | ((guint32)buf[1] << 16) | ((guint32)buf[2] << 8) | buf[3];
}

gboolean
packet_length_valid(guint32 len)
{
    return len >= PACKET_MIN_SIZE && len <= PACKET_MAX_SIZE;
}

static void
put_u32(guint8 *p, guint32 v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

void
packet_header_decode(const guint8 *buf, PacketHeader *ret_header)
{
    ret_header->prog = packet_length_decode(buf);
    ret_header->vers = packet_length_decode(buf + 4);
    ret_header->proc = (gint32)packet_length_decode(buf + 8);
    ret_header->type = (gint32)packet_length_decode(buf + 12);
    ret_header->serial = packet_length_decode(buf + 16);
    ret_header->status = (gint32)packet_length_decode(buf + 20);
}

/* Encodes the packet into @buf (@size bytes); its length, or 0 when it does not fit. */
static guint32
packet_encode_into(guint8 *buf, gsize size, const PacketHeader *header, xdrproc_t proc,
                   const void *data)
{
    guint32 len = PACKET_MIN_SIZE;

    put_u32(buf + 4, header->prog);
    put_u32(buf + 8, header->vers);
    put_u32(buf + 12, (guint32)header->proc);
    put_u32(buf + 16, (guint32)header->type);
    put_u32(buf + 20, header->serial);
    put_u32(buf + 24, (guint32)header->status);
    if (proc) {
        XDR xdr;
        gboolean ok;

        xdrmem_create(&xdr, (char *)buf + PACKET_MIN_SIZE, size - PACKET_MIN_SIZE,
                      XDR_ENCODE);
        ok = proc(&xdr, (void *)data, 0);
        len += xdr_getpos(&xdr);
        xdr_destroy(&xdr);
        if (!ok)
            return 0;
    }
    put_u32(buf, len);
    return len;
}

GBytes *
packet_encode(const PacketHeader *header, xdrproc_t proc, const void *data, GError **error)
{
    /* Most replies are small: encode on the stack and copy out only the bytes used, so
     * a reply costs no large allocation. Bigger ones get a heap buffer that grows. */
    guint8 small[2048];
    guint32 len = packet_encode_into(small, sizeof(small), header, proc, data);

    if (len)
        return g_bytes_new(small, len);
    for (gsize size = 65536;; size *= 2) {
        guint8 *buf;

        if (size > PACKET_MAX_SIZE)
            size = PACKET_MAX_SIZE;
        buf = g_malloc(size);
        len = packet_encode_into(buf, size, header, proc, data);
        if (len)
            return g_bytes_new_take(g_realloc(buf, len), len);
        g_free(buf);
        if (size == PACKET_MAX_SIZE) {
            virt_error_set(error, VIR_FROM_RPC, VIR_ERR_RPC,
                           _("reply of procedure %d exceeds the %d byte message limit"),
                           header->proc, PACKET_MAX_SIZE);
            return NULL;
        }
    }
}

gboolean
packet_decode_payload(const guint8 *payload, gsize len, xdrproc_t proc, void *ret_data,
                      GError **error)
{
    XDR xdr;
    xdrmem_create(&xdr, (char *)payload, len, XDR_DECODE);
    gboolean ok = proc(&xdr, ret_data, 0);
    gboolean complete = ok && xdr_getpos(&xdr) == len;
    xdr_destroy(&xdr);
    if (!complete) {
        packet_free_payload(proc, ret_data); /* a failed decode may have allocated */
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_RPC,
                       ok ? _("trailing bytes after the arguments")
                          : _("cannot decode the arguments"));
        return FALSE;
    }
    return TRUE;
}

void
packet_free_payload(xdrproc_t proc, void *data)
{
    xdr_free(proc, (char *)data);
}
