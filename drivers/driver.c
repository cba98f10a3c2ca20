/* Helpers for the value types of driver.h. */
#include "drivers/driver.h"

#include <string.h>

#include "daemon/util/virt-error.h"

void
domain_ref_clear(DomainRef *ref)
{
    if (!ref)
        return;
    g_clear_pointer(&ref->name, g_free);
}

void
domain_ref_free(DomainRef *ref)
{
    if (!ref)
        return;
    domain_ref_clear(ref);
    g_free(ref);
}

DomainRef *
domain_ref_copy(const DomainRef *ref)
{
    DomainRef *copy = g_new0(DomainRef, 1);
    copy->name = g_strdup(ref->name);
    memcpy(copy->uuid, ref->uuid, VIRT_UUID_LEN);
    copy->id = ref->id;
    return copy;
}

void
domain_event_free(DomainEvent *ev)
{
    if (!ev)
        return;
    domain_ref_clear(&ev->dom);
    g_free(ev->metadata_nsuri);
    g_free(ev->monitor_event);
    g_free(ev->monitor_details);
    if (ev->tunable_params)
        g_array_unref(ev->tunable_params);
    g_free(ev);
}

static void
typed_param_clear(gpointer data)
{
    DomainTypedParam *p = data;
    g_free(p->field);
    if (p->type == VIR_TYPED_PARAM_STRING)
        g_free(p->value.s);
}

GArray *
domain_params_new(void)
{
    GArray *params = g_array_new(FALSE, TRUE, sizeof(DomainTypedParam));
    g_array_set_clear_func(params, typed_param_clear);
    return params;
}

static DomainTypedParam *
params_add(GArray *params, const char *field, int type)
{
    DomainTypedParam p = {.field = g_strdup(field), .type = type};
    g_array_append_val(params, p);
    return &g_array_index(params, DomainTypedParam, params->len - 1);
}

void
domain_params_add_int(GArray *params, const char *field, int value)
{
    params_add(params, field, VIR_TYPED_PARAM_INT)->value.i = value;
}

void
domain_params_add_uint(GArray *params, const char *field, unsigned int value)
{
    params_add(params, field, VIR_TYPED_PARAM_UINT)->value.ui = value;
}

void
domain_params_add_llong(GArray *params, const char *field, gint64 value)
{
    params_add(params, field, VIR_TYPED_PARAM_LLONG)->value.l = value;
}

void
domain_params_add_ullong(GArray *params, const char *field, guint64 value)
{
    params_add(params, field, VIR_TYPED_PARAM_ULLONG)->value.ul = value;
}

void
domain_params_add_boolean(GArray *params, const char *field, gboolean value)
{
    params_add(params, field, VIR_TYPED_PARAM_BOOLEAN)->value.b = !!value;
}

void
domain_params_add_string(GArray *params, const char *field, const char *value)
{
    params_add(params, field, VIR_TYPED_PARAM_STRING)->value.s = g_strdup(value);
}

const DomainTypedParam *
domain_params_find(GArray *params, const char *field)
{
    for (guint i = 0; params && i < params->len; i++) {
        const DomainTypedParam *p = &g_array_index(params, DomainTypedParam, i);
        if (strcmp(p->field, field) == 0)
            return p;
    }
    return NULL;
}

const char *
domain_param_type_name(int type)
{
    static const char *const names[] = {
        [VIR_TYPED_PARAM_INT] = "int",       [VIR_TYPED_PARAM_UINT] = "uint",
        [VIR_TYPED_PARAM_LLONG] = "llong",   [VIR_TYPED_PARAM_ULLONG] = "ullong",
        [VIR_TYPED_PARAM_DOUBLE] = "double", [VIR_TYPED_PARAM_BOOLEAN] = "boolean",
        [VIR_TYPED_PARAM_STRING] = "string",
    };
    if (type > 0 && type < (int)G_N_ELEMENTS(names) && names[type])
        return names[type];
    return "unknown";
}

gboolean
domain_params_validate(GArray *params, const DomainParamSpec *spec, gsize n_spec,
                       GError **error)
{
    for (guint i = 0; i < params->len; i++) {
        const DomainTypedParam *p = &g_array_index(params, DomainTypedParam, i);
        const DomainParamSpec *known = NULL;
        for (gsize j = 0; j < n_spec && !known; j++) {
            if (strcmp(spec[j].field, p->field) == 0)
                known = &spec[j];
        }
        if (!known) {
            g_autoptr(GString) names = g_string_new(NULL);
            for (gsize j = 0; j < n_spec; j++)
                g_string_append_printf(names, "%s%s", j ? ", " : "", spec[j].field);
            virt_error_set(error, VIR_FROM_DOMAIN, VIR_ERR_ARGUMENT_UNSUPPORTED,
                           _("parameter '%s' is not supported (known: %s)"), p->field,
                           names->str);
            return FALSE;
        }
        if (known->type != p->type) {
            virt_error_set(error, VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG,
                           _("parameter '%s' must be of type '%s', not '%s'"), p->field,
                           domain_param_type_name(known->type),
                           domain_param_type_name(p->type));
            return FALSE;
        }
        for (guint k = 0; k < i; k++) {
            if (strcmp(g_array_index(params, DomainTypedParam, k).field, p->field) == 0) {
                virt_error_set(error, VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG,
                               _("parameter '%s' is given twice"), p->field);
                return FALSE;
            }
        }
    }
    return TRUE;
}

static __thread gboolean nonblocking;
static __thread gboolean would_block;

void
driver_set_nonblocking(gboolean on)
{
    nonblocking = on;
    would_block = FALSE;
}

gboolean
driver_is_nonblocking(void)
{
    return nonblocking;
}

void
driver_note_would_block(void)
{
    would_block = TRUE;
}

gboolean
driver_take_would_block(void)
{
    gboolean was = would_block;
    would_block = FALSE;
    return was;
}
