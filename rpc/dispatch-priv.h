/* Internals shared by dispatch.c and the handler files. */
#pragma once

#include <rpc/rpc.h>

#include "dispatch.h"
#include "stream.h"
#include "procedures.h"
#include "virt-error.h"
#include "virtd_remote.h"

struct Dispatcher {
    VirtDriver *drv;
    RpcServer *srv;
    gboolean privileged;
    GMutex consoles_lock;
    GHashTable *consoles; /* "uuid/device" -> RpcStream* (reference): one session each */
};

typedef struct {
    int id;
    int event_id;
    gboolean network;            /* a network event callback (never fired yet) */
    gboolean qemu_monitor;       /* a QEMU program monitor event callback */
    GRegex *monitor_filter;      /* qemu_monitor: which event names, NULL for all */
    gboolean filtered;           /* only events of one domain */
    unsigned char uuid[VIRT_UUID_LEN];
} EventCallback;

/* Per-connection state, the client's priv. */
typedef struct {
    Dispatcher *d;
    RpcClient *client; /* weak: the connection lives as long as the client */
    GMutex lock;       /* everything below */
    gboolean opened;
    gboolean readonly;
    gboolean close_callback;
    GArray *callbacks; /* EventCallback */
    int next_callback_id;
    GPtrArray *streams;        /* RpcStream* of this connection (references) */
} Conn;

typedef gboolean (*HandlerFunc)(Conn *conn, void *args, void *ret, GError **error);

typedef struct {
    HandlerFunc fn;
    xdrproc_t args_proc;
    gsize args_size;
    xdrproc_t ret_proc;
    gsize ret_size;
} Handler;

/* The handler of procedure @proc of program @prog (REMOTE or QEMU), or NULL (handlers.c). */
const Handler *handler_lookup(guint32 prog, int proc);

/* Copy a driver DomainRef into a wire domain (allocates the name). */
void wire_domain_set(wire_domain *w, const DomainRef *ref);
/* Copy a typed parameter into a wire one (allocates; handlers.c). */
void wire_param_set(wire_param *w, const DomainTypedParam *p);

/* Event callbacks (dispatch.c). */
int conn_add_callback(Conn *conn, int event_id, gboolean network, const unsigned char *uuid);
int conn_add_monitor_callback(Conn *conn, const unsigned char *uuid, GRegex *filter);
gboolean conn_remove_callback(Conn *conn, int callback_id, gboolean network, GError **error);

/* Streams (dispatch.c): remember @stream (taken) and start it once the reply to the
 * current call is queued. */
void conn_open_stream(Conn *conn, RpcStream *stream);

/* The header of the call this worker thread is handling. */
const PacketHeader *dispatch_current_call(void);
