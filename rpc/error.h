/* The only place where an internal GError becomes a wire error (remote_error). */
#pragma once

#include <glib.h>

#include "virtd_remote.h"

/* The full user-visible message of @err: libvirt's prefix for its code, then the phrase
 * (e.g. "Requested operation is not valid: domain 'web1' is not running"). */
char *rpc_error_message(const GError *err);

/* Fill @ret_wire (zeroed by the caller) from @err; free with rpc_error_clear(). Errors that
 * are not ours (no libvirt domain) are reported as VIR_ERR_INTERNAL_ERROR: a virtd bug. */
void rpc_error_to_wire(const GError *err, wire_error *ret_wire);

void rpc_error_clear(wire_error *wire);
