/* Internal errors carrying libvirt's error numbers.
 *
 * Every failing function in virtd reports a GError whose domain is the quark of a libvirt
 * error domain (VIR_FROM_*) and whose code is a libvirt error number (VIR_ERR_*). The
 * message is one phrase, no trailing period, without libvirt's per-code prefix: rpc/error.c
 * adds that prefix when the error goes on the wire.
 */
#pragma once

#include <glib.h>
#include <glib/gi18n.h>
#include <libvirt/virterror.h>

/* The GError domain for libvirt error domain @vir_from (a virErrorDomain value). */
GQuark virt_error_quark(int vir_from);

/* The virErrorDomain of @quark, or -1 when @quark is not one of ours. */
int virt_error_from(GQuark quark);

/* Set @error to (@vir_from, @vir_code, formatted message). Safe with @error == NULL. */
void virt_error_set(GError **error, int vir_from, int vir_code, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

/* Set @error to a VIR_ERR_SYSTEM_ERROR: "@message: strerror(@errnum)". */
void virt_error_set_errno(GError **error, int vir_from, int errnum, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

/* TRUE when @err is ours and has libvirt code @vir_code. */
gboolean virt_error_is(const GError *err, int vir_code);
