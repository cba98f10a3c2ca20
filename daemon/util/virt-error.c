/* Error quarks named after libvirt's error domains; see virt-error.h. */
#include "virt-error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define QUARK_PREFIX "virtd-error-from-"

GQuark
virt_error_quark(int vir_from)
{
    static GQuark quarks[VIR_ERR_DOMAIN_LAST];
    if (vir_from < 0 || vir_from >= VIR_ERR_DOMAIN_LAST)
        vir_from = VIR_FROM_NONE;
    GQuark q = g_atomic_int_get(&quarks[vir_from]);
    if (q == 0) {
        g_autofree char *name = g_strdup_printf(QUARK_PREFIX "%d", vir_from);
        q = g_quark_from_string(name);
        g_atomic_int_set(&quarks[vir_from], q);
    }
    return q;
}

int
virt_error_from(GQuark quark)
{
    const char *name = g_quark_to_string(quark);
    if (!name || !g_str_has_prefix(name, QUARK_PREFIX))
        return -1;
    return atoi(name + strlen(QUARK_PREFIX));
}

void
virt_error_set(GError **error, int vir_from, int vir_code, const char *fmt, ...)
{
    if (!error)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, virt_error_quark(vir_from), vir_code, msg);
}

void
virt_error_set_errno(GError **error, int vir_from, int errnum, const char *fmt, ...)
{
    if (!error)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, virt_error_quark(vir_from), VIR_ERR_SYSTEM_ERROR, "%s: %s", msg,
                g_strerror(errnum));
}

gboolean
virt_error_is(const GError *err, int vir_code)
{
    return err && virt_error_from(err->domain) >= 0 && err->code == vir_code;
}
