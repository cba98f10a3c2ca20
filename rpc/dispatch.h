/* From a decoded call to a driver call and back: access checks, argument decoding, the
 * handler table, replies and errors, and event delivery to registered clients. */
#pragma once

#include "drivers/driver.h"
#include "server.h"

typedef struct Dispatcher Dispatcher;

/* @privileged: system mode (qemu:///system) rather than session mode. */
Dispatcher *dispatch_new(gboolean privileged);
void dispatch_free(Dispatcher *d);

/* The driver that calls go to; set once, before the server starts accepting. */
void dispatch_set_driver(Dispatcher *d, VirtDriver *drv);

/* The server the events go out through; set once the server exists. */
void dispatch_set_server(Dispatcher *d, RpcServer *srv);

/* The RpcServer hooks (user_data is the Dispatcher). */
void dispatch_call(RpcClient *client, const PacketHeader *header, const guint8 *payload,
                   gsize len, gpointer user_data);
gboolean dispatch_is_priority(const PacketHeader *header, gpointer user_data);
/* RpcInlineFunc: answers the calls that only read a domain's state in memory, unless a
 * lock they need is busy. */
gboolean dispatch_try_inline(RpcClient *client, const PacketHeader *header,
                             const guint8 *payload, gsize len, gpointer user_data);
void dispatch_stream_packet(RpcClient *client, const PacketHeader *header,
                            const guint8 *payload, gsize len, gpointer user_data);
void dispatch_client_closed(RpcClient *client, gpointer user_data);

/* The DomainEventSink to give the driver (user_data is the Dispatcher). */
void dispatch_domain_event(const DomainEvent *ev, gpointer user_data);

/* TRUE when procedure @proc of @prog has a handler (for docs/api-coverage.md). */
gboolean dispatch_is_implemented(guint32 prog, int proc);
