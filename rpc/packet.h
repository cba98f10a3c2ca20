/* libvirt RPC packets: the length word, the 24-byte header and XDR payloads. Pure. */
#pragma once

#include <glib.h>
#include <rpc/rpc.h>

#define PACKET_LEN_SIZE 4
#define PACKET_HEADER_SIZE 24
#define PACKET_MIN_SIZE (PACKET_LEN_SIZE + PACKET_HEADER_SIZE)
#define PACKET_MAX_SIZE 33554432 /* whole message, length word included */

#define PROGRAM_REMOTE 0x20008086u
#define PROGRAM_QEMU 0x20008087u
#define PROGRAM_LXC 0x00068000u
#define PROGRAM_ADMIN 0x06900690u
#define PROGRAM_KEEPALIVE 0x6b656570u
#define PROGRAM_VERSION 1u

#define KEEPALIVE_PROC_PING 1
#define KEEPALIVE_PROC_PONG 2

typedef enum {
    PACKET_CALL = 0,
    PACKET_REPLY = 1,
    PACKET_MESSAGE = 2,
    PACKET_STREAM = 3,
    PACKET_CALL_WITH_FDS = 4,
    PACKET_REPLY_WITH_FDS = 5,
    PACKET_STREAM_HOLE = 6,
} PacketType;

typedef enum {
    PACKET_OK = 0,
    PACKET_ERROR = 1,
    PACKET_CONTINUE = 2,
} PacketStatus;

typedef struct {
    guint32 prog;
    guint32 vers;
    gint32 proc;
    gint32 type;
    guint32 serial;
    gint32 status;
} PacketHeader;

/* Decode the big-endian length word at @buf. */
guint32 packet_length_decode(const guint8 *buf);

/* TRUE when a packet of total length @len may be read (header fits, under the limit). */
gboolean packet_length_valid(guint32 len);

/* Decode the header at @buf (PACKET_HEADER_SIZE bytes). */
void packet_header_decode(const guint8 *buf, PacketHeader *ret_header);

/* A whole packet: length word, @header, then @data encoded with @proc (NULL proc: no
 * payload). VIR_ERR_RPC when the payload cannot be encoded or exceeds the limit. */
GBytes *packet_encode(const PacketHeader *header, xdrproc_t proc, const void *data,
                      GError **error);

/* Decode @len payload bytes into the zeroed @ret_data with @proc. The whole payload must
 * be consumed. On failure @ret_data is freed again (nothing left to free). */
gboolean packet_decode_payload(const guint8 *payload, gsize len, xdrproc_t proc,
                               void *ret_data, GError **error);

/* Free what packet_decode_payload allocated inside @data. */
void packet_free_payload(xdrproc_t proc, void *data);
