/* GError -> wire error; see error.h. */
#include "error.h"

#include "virt-error.h"

/* libvirt's message prefix for each error code, so that clients print what they would
 * print against libvirtd. Codes without an entry get no prefix. */
static const char *
code_prefix(int code)
{
    switch (code) {
    case VIR_ERR_INTERNAL_ERROR: return _("internal error");
    case VIR_ERR_NO_SUPPORT: return _("this function is not supported by virtd");
    case VIR_ERR_NO_CONNECT: return _("no connection driver available for");
    case VIR_ERR_INVALID_ARG: return _("invalid argument");
    case VIR_ERR_OPERATION_FAILED: return _("operation failed");
    case VIR_ERR_XML_ERROR: return _("XML error");
    case VIR_ERR_OPERATION_DENIED: return _("operation forbidden");
    case VIR_ERR_NO_DOMAIN: return _("Domain not found");
    case VIR_ERR_OPERATION_INVALID: return _("Requested operation is not valid");
    case VIR_ERR_CONFIG_UNSUPPORTED: return _("unsupported configuration");
    case VIR_ERR_OPERATION_TIMEOUT: return _("Timed out during operation");
    case VIR_ERR_ARGUMENT_UNSUPPORTED: return _("argument unsupported");
    case VIR_ERR_NO_DOMAIN_METADATA: return _("metadata not found");
    case VIR_ERR_OPERATION_UNSUPPORTED: return _("Operation not supported");
    case VIR_ERR_DOM_EXIST: return _("domain exists already");
    case VIR_ERR_AUTH_FAILED: return _("authentication failed");
    default: return NULL; /* XML_DETAIL, SYSTEM_ERROR, RPC: the phrase says it all */
    }
}

char *
rpc_error_message(const GError *err)
{
    if (virt_error_from(err->domain) < 0)
        return g_strdup_printf("%s: %s", code_prefix(VIR_ERR_INTERNAL_ERROR), err->message);
    const char *prefix = code_prefix(err->code);
    if (!prefix)
        return g_strdup(err->message);
    /* "no connection driver available for X" reads as one sentence */
    if (err->code == VIR_ERR_NO_CONNECT)
        return g_strdup_printf("%s %s", prefix, err->message);
    return g_strdup_printf("%s: %s", prefix, err->message);
}

void
rpc_error_to_wire(const GError *err, wire_error *ret_wire)
{
    int from = virt_error_from(err->domain);
    ret_wire->code = from < 0 ? VIR_ERR_INTERNAL_ERROR : err->code;
    ret_wire->domain = from < 0 ? VIR_FROM_RPC : from;
    ret_wire->level = VIR_ERR_ERROR;
    ret_wire->message = g_new0(wire_str, 1);
    g_autofree char *msg = rpc_error_message(err);
    *ret_wire->message = g_steal_pointer(&msg); /* g_malloc is malloc: XDR may free() it */
    ret_wire->int1 = -1;
    ret_wire->int2 = -1;
}

void
rpc_error_clear(wire_error *wire)
{
    xdr_free((xdrproc_t)xdr_wire_error, (char *)wire);
}
