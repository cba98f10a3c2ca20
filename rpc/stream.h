/* RPC streams over a file descriptor (a console's pty, later files for screenshots and
 * volume transfers).
 *
 * After the call that opened it is answered, a stream moves raw bytes both ways in
 * STREAM packets carrying the call's serial: status CONTINUE with data, OK with no data
 * to finish, ERROR (with an error payload) to abort. Reading the fd runs on the loop
 * thread; what the client sends is written to the fd as it arrives.
 */
#pragma once

#include <glib.h>

#include "server.h"

typedef struct RpcStream RpcStream;

/* A stream for the call @call (program, procedure, serial) of @client over @fd (taken).
 * Nothing flows until rpc_stream_start(). */
RpcStream *rpc_stream_new(RpcClient *client, const PacketHeader *call, int fd);

/* Start forwarding (after the reply to the opening call is queued). */
void rpc_stream_start(RpcStream *stream);

/* A STREAM packet from the client for this stream: data, finish or abort. */
void rpc_stream_handle_packet(RpcStream *stream, const PacketHeader *header,
                              const guint8 *payload, gsize len);

/* End the stream from our side: OK when @err is NULL, else ERROR with @err. Closes the fd;
 * the stream sends nothing afterwards. Any thread. */
void rpc_stream_abort(RpcStream *stream, const GError *err);

/* TRUE once the stream ended, from either side. */
gboolean rpc_stream_is_closed(RpcStream *stream);

guint32 rpc_stream_get_serial(const RpcStream *stream);

RpcStream *rpc_stream_ref(RpcStream *stream);
void rpc_stream_unref(RpcStream *stream);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RpcStream, rpc_stream_unref)
