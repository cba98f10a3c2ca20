/* The RPC server: UNIX socket listeners, clients, framing, worker pools, keepalive.
 *
 * The event-loop thread accepts, reads and frames packets, answers keepalive itself and
 * writes replies. Calls go to a worker pool (or the small priority pool for cheap calls)
 * and come back to the loop thread through the client's output queue. Knows nothing of
 * procedures: each call is handed to the RpcCallHandler given at creation.
 */
#pragma once

#include <glib.h>

#include "packet.h"

typedef struct RpcServer RpcServer;
typedef struct RpcClient RpcClient;

typedef struct {
    guint max_workers;         /* ordinary worker threads */
    guint prio_workers;        /* threads of the priority pool */
    guint max_clients;         /* connections beyond this are refused */
    guint max_client_requests; /* calls in flight per client before reading pauses */
    int keepalive_interval;    /* seconds of silence before a ping; <= 0 disables */
    guint keepalive_count;     /* unanswered pings before the client is dropped */
} RpcServerConfig;

/* Runs on a worker thread for each call. @payload is owned by the callee's caller and
 * valid during the call. The handler sends its reply with rpc_client_send(). */
typedef void (*RpcCallHandler)(RpcClient *client, const PacketHeader *header,
                               const guint8 *payload, gsize len, gpointer user_data);

/* Handles a STREAM packet on the loop thread, in arrival order (no worker). @payload is
 * valid during the call. */
typedef void (*RpcStreamPacketFunc)(RpcClient *client, const PacketHeader *header,
                                    const guint8 *payload, gsize len, gpointer user_data);

/* Decides, on the loop thread, whether a call goes to the priority pool. */
typedef gboolean (*RpcPriorityFunc)(const PacketHeader *header, gpointer user_data);

/* Offered every call on the loop thread first: answers it there and returns TRUE, or
 * returns FALSE (having sent nothing) to leave it to the workers. Must never block. */
typedef gboolean (*RpcInlineFunc)(RpcClient *client, const PacketHeader *header,
                                  const guint8 *payload, gsize len, gpointer user_data);

/* Called on the loop thread when a client goes away (before its last unref). */
typedef void (*RpcClientClosedFunc)(RpcClient *client, gpointer user_data);

RpcServer *rpc_server_new(const RpcServerConfig *cfg, RpcCallHandler handler,
                          RpcStreamPacketFunc stream_packet, RpcPriorityFunc is_priority,
                          RpcClientClosedFunc closed, gpointer user_data);

/* Answer cheap calls on the loop thread (saves two thread hand-offs per call). */
void rpc_server_set_inline(RpcServer *srv, RpcInlineFunc try_inline);

/* Listen on a UNIX socket at @path with permissions @mode. A live socket (another daemon
 * answers) is an error and is left alone; a stale socket file is replaced. */
gboolean rpc_server_add_listener(RpcServer *srv, const char *path, int mode, gboolean readonly,
                                 GError **error);

/* Start accepting on every listener (on the thread default main context). */
void rpc_server_start(RpcServer *srv);

/* Stop accepting and remove the socket files we created. */
void rpc_server_stop_accepting(RpcServer *srv);

/* Wait until no call is in flight (at most @timeout_ms), then flush and close clients. */
void rpc_server_drain(RpcServer *srv, int timeout_ms);

void rpc_server_free(RpcServer *srv);

/* Call @func for every connected client (under the server's client-list lock: @func must
 * not block). */
void rpc_server_foreach_client(RpcServer *srv, GFunc func, gpointer user_data);

guint rpc_server_client_count(RpcServer *srv);

RpcClient *rpc_client_ref(RpcClient *client);
void rpc_client_unref(RpcClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RpcClient, rpc_client_unref)

/* Queue a complete packet for @client; dropped when the client is gone. Any thread. */
void rpc_client_send(RpcClient *client, GBytes *packet);

/* Close @client (from any thread): it is dropped on the loop thread. */
void rpc_client_close(RpcClient *client);

/* The main context of the loop thread that serves @client. */
GMainContext *rpc_client_get_context(const RpcClient *client);

/* TRUE when the client came in on a read-only socket. */
gboolean rpc_client_on_readonly_socket(const RpcClient *client);

/* Start keepalive pings for @client (it said it understands the keepalive program). */
void rpc_client_start_keepalive(RpcClient *client);

/* Per-client state of the layer above (connection state, event callbacks). Set once. */
void rpc_client_set_priv(RpcClient *client, gpointer priv, GDestroyNotify free_priv);
gpointer rpc_client_get_priv(const RpcClient *client);
