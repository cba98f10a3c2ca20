/* One handler per implemented REMOTE procedure: wire arguments -> driver call -> wire
 * result. Access rules and decoding happen before (dispatch.c). */
#include "dispatch-priv.h"

#include <string.h>
#include <uuid/uuid.h>

#include <libvirt/libvirt-qemu.h>

#include "virtd-config.h"

/* The libvirt version that virtd answers as (clients compare it for features). */
#define LIBVIRT_COMPAT_VERSION 9000000ULL

/* Feature numbers of CONNECT_SUPPORTS_FEATURE (wire facts). */
enum {
    FEATURE_TYPED_PARAM_STRING = 9,
    FEATURE_PROGRAM_KEEPALIVE = 10,
    FEATURE_REMOTE_EVENT_CALLBACK = 14,
    FEATURE_REMOTE_CLOSE_CALLBACK = 15,
};

#define DRV(conn) ((conn)->d->drv)

/* Reject flags outside @allowed with libvirt's wording. */
static gboolean
check_flags(unsigned int flags, unsigned int allowed, GError **error)
{
    if (flags & ~allowed) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_INVALID_ARG, _("unsupported flags (0x%x)"),
                       flags & ~allowed);
        return FALSE;
    }
    return TRUE;
}

/* ---- connection ---- */

static gboolean
h_auth_list(Conn *conn, void *args, wire_auth_list_ret *ret, GError **error)
{
    ret->types.types_len = 1;
    ret->types.types_val = g_new0(int, 1); /* REMOTE_AUTH_NONE on a UNIX socket */
    return TRUE;
}

static gboolean
h_supports_feature(Conn *conn, wire_supports_feature_args *args, wire_int_ret *ret,
                   GError **error)
{
    switch (args->feature) {
    case FEATURE_PROGRAM_KEEPALIVE:
        rpc_client_start_keepalive(conn->client);
        ret->value = 1;
        break;
    case FEATURE_TYPED_PARAM_STRING:
    case FEATURE_REMOTE_EVENT_CALLBACK:
    case FEATURE_REMOTE_CLOSE_CALLBACK:
        ret->value = 1;
        break;
    default:
        ret->value = 0;
    }
    return TRUE;
}

static const char *
served_uri(const Conn *conn)
{
    return conn->d->privileged ? "qemu:///system" : "qemu:///session";
}

/* Accept the URI of the mode we serve (and an empty name, meaning "the default"). */
static gboolean
check_open_uri(Conn *conn, const char *name, GError **error)
{
    if (!name || !*name)
        return TRUE;
    g_autoptr(GUri) uri = g_uri_parse(name, G_URI_FLAGS_NONE, NULL);
    const char *want = conn->d->privileged ? "/system" : "/session";
    if (uri && g_strcmp0(g_uri_get_scheme(uri), "qemu") == 0 &&
        (g_uri_get_host(uri) == NULL || *g_uri_get_host(uri) == '\0') &&
        g_strcmp0(g_uri_get_path(uri), want) == 0)
        return TRUE;
    virt_error_set(error, VIR_FROM_RPC, VIR_ERR_NO_CONNECT,
                   _("'%s' (this virtd serves %s)"), name, served_uri(conn));
    return FALSE;
}

static gboolean
h_connect_open(Conn *conn, wire_connect_open_args *args, void *ret, GError **error)
{
    /* Clients send their remote driver's own open flags here (read-only 1, user 2,
     * autostart 4); only read-only means anything to the daemon. */
    if (!check_open_uri(conn, args->name ? *args->name : NULL, error))
        return FALSE;
    g_mutex_lock(&conn->lock);
    gboolean already = conn->opened;
    if (!already) {
        conn->opened = TRUE;
        if (args->flags & VIR_CONNECT_RO)
            conn->readonly = TRUE;
    }
    g_mutex_unlock(&conn->lock);
    if (already) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_OPERATION_INVALID,
                       _("connection already open"));
        return FALSE;
    }
    return TRUE;
}

static gboolean
h_connect_close(Conn *conn, void *args, void *ret, GError **error)
{
    g_mutex_lock(&conn->lock);
    conn->opened = FALSE;
    g_array_set_size(conn->callbacks, 0);
    conn->close_callback = FALSE;
    g_mutex_unlock(&conn->lock);
    return TRUE;
}

static gboolean
h_register_close_callback(Conn *conn, void *args, void *ret, GError **error)
{
    g_mutex_lock(&conn->lock);
    conn->close_callback = TRUE;
    g_mutex_unlock(&conn->lock);
    return TRUE;
}

static gboolean
h_unregister_close_callback(Conn *conn, void *args, void *ret, GError **error)
{
    g_mutex_lock(&conn->lock);
    conn->close_callback = FALSE;
    g_mutex_unlock(&conn->lock);
    return TRUE;
}

static gboolean
h_get_type(Conn *conn, void *args, wire_str_ret *ret, GError **error)
{
    ret->value = g_strdup(DRV(conn)->type_name);
    return TRUE;
}

static gboolean
h_get_version(Conn *conn, void *args, wire_uhyper_ret *ret, GError **error)
{
    guint64 v;
    if (!DRV(conn)->get_version(DRV(conn), &v, error))
        return FALSE;
    ret->value = v;
    return TRUE;
}

static gboolean
h_get_lib_version(Conn *conn, void *args, wire_uhyper_ret *ret, GError **error)
{
    ret->value = LIBVIRT_COMPAT_VERSION;
    return TRUE;
}

static gboolean
h_get_hostname(Conn *conn, void *args, wire_str_ret *ret, GError **error)
{
    ret->value = DRV(conn)->get_hostname(DRV(conn), error);
    return ret->value != NULL;
}

static gboolean
h_get_uri(Conn *conn, void *args, wire_str_ret *ret, GError **error)
{
    ret->value = g_strdup(served_uri(conn));
    return TRUE;
}

static gboolean
h_get_sysinfo(Conn *conn, wire_flags_args *args, wire_str_ret *ret, GError **error)
{
    if (!check_flags(args->flags, 0, error))
        return FALSE;
    ret->value = DRV(conn)->get_sysinfo(DRV(conn), args->flags, error);
    return ret->value != NULL;
}

static gboolean
h_get_max_vcpus(Conn *conn, wire_get_max_vcpus_args *args, wire_int_ret *ret, GError **error)
{
    ret->value = DRV(conn)->get_max_vcpus(DRV(conn), args->type ? *args->type : NULL, error);
    return ret->value >= 0;
}

static gboolean
h_get_capabilities(Conn *conn, void *args, wire_str_ret *ret, GError **error)
{
    ret->value = DRV(conn)->get_capabilities(DRV(conn), error);
    return ret->value != NULL;
}

#define OPT(s) ((s) ? *(s) : NULL)

static gboolean
h_get_domain_capabilities(Conn *conn, wire_get_domain_capabilities_args *args,
                          wire_str_ret *ret, GError **error)
{
    if (!check_flags(args->flags, 0, error))
        return FALSE;
    ret->value = DRV(conn)->get_domain_capabilities(DRV(conn), OPT(args->emulatorbin),
                                                    OPT(args->arch), OPT(args->machine),
                                                    OPT(args->virttype), args->flags, error);
    return ret->value != NULL;
}

/* ---- host ---- */

static gboolean
h_node_get_info(Conn *conn, void *args, wire_node_info_ret *ret, GError **error)
{
    NodeInfoData info = {0};
    if (!DRV(conn)->node_get_info(DRV(conn), &info, error))
        return FALSE;
    memcpy(ret->model, info.model, sizeof(ret->model));
    ret->memory = info.memory_kib;
    ret->cpus = info.cpus;
    ret->mhz = info.mhz;
    ret->nodes = info.nodes;
    ret->sockets = info.sockets;
    ret->cores = info.cores;
    ret->threads = info.threads;
    return TRUE;
}

static gboolean
h_node_get_cpu_map(Conn *conn, wire_node_cpu_map_args *args, wire_node_cpu_map_ret *ret,
                   GError **error)
{
    if (!check_flags(args->flags, 0, error))
        return FALSE;
    g_autofree guint8 *map = NULL;
    unsigned int online = 0;
    int n = DRV(conn)->node_get_cpu_map(DRV(conn), &map, &online, error);
    if (n < 0)
        return FALSE;
    if (args->need_map) {
        ret->cpumap.cpumap_len = (n + 7) / 8;
        ret->cpumap.cpumap_val = (char *)g_steal_pointer(&map);
    }
    if (args->need_online)
        ret->online = online;
    ret->ret = n;
    return TRUE;
}

/* Shared by memory and CPU statistics: nparams 0 asks how many there are. */
static gboolean
fill_node_stats(NodeStat *stats, int n, int nparams, wire_node_stats_ret *ret)
{
    if (nparams == 0) {
        ret->nparams = n;
        return TRUE;
    }
    n = MIN(n, nparams);
    ret->params.params_len = n;
    ret->params.params_val = g_new0(wire_node_stat, n);
    for (int i = 0; i < n; i++) {
        ret->params.params_val[i].field = g_strdup(stats[i].field);
        ret->params.params_val[i].value = stats[i].value;
    }
    ret->nparams = n;
    return TRUE;
}

static gboolean
check_nparams(int nparams, GError **error)
{
    if (nparams < 0 || nparams > WIRE_STATS_MAX) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_RPC, _("nparams %d is out of range"),
                       nparams);
        return FALSE;
    }
    return TRUE;
}

static gboolean
h_node_get_memory_stats(Conn *conn, wire_node_memory_stats_args *args,
                        wire_node_stats_ret *ret, GError **error)
{
    NodeStat stats[WIRE_STATS_MAX];
    if (!check_nparams(args->nparams, error) || !check_flags(args->flags, 0, error))
        return FALSE;
    int n = DRV(conn)->node_get_memory_stats(DRV(conn), args->cell, stats, WIRE_STATS_MAX,
                                             error);
    return n >= 0 && fill_node_stats(stats, n, args->nparams, ret);
}

static gboolean
h_node_get_cpu_stats(Conn *conn, wire_node_cpu_stats_args *args, wire_node_stats_ret *ret,
                     GError **error)
{
    NodeStat stats[WIRE_STATS_MAX];
    if (!check_nparams(args->nparams, error) || !check_flags(args->flags, 0, error))
        return FALSE;
    int n = DRV(conn)->node_get_cpu_stats(DRV(conn), args->cpu, stats, WIRE_STATS_MAX, error);
    return n >= 0 && fill_node_stats(stats, n, args->nparams, ret);
}

static gboolean
h_node_get_free_memory(Conn *conn, void *args, wire_uhyper_ret *ret, GError **error)
{
    guint64 bytes;
    if (!DRV(conn)->node_get_free_memory(DRV(conn), &bytes, error))
        return FALSE;
    ret->value = bytes;
    return TRUE;
}

static gboolean
h_node_get_cells_free_memory(Conn *conn, wire_node_cells_free_memory_args *args,
                             wire_node_cells_free_memory_ret *ret, GError **error)
{
    if (args->max <= 0 || args->max > WIRE_CELLS_MAX) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_RPC, _("maxcells %d is out of range"),
                       args->max);
        return FALSE;
    }
    g_autofree guint64 *cells = g_new0(guint64, args->max);
    int n = DRV(conn)->node_get_cells_free_memory(DRV(conn), args->start, args->max, cells,
                                                  error);
    if (n < 0)
        return FALSE;
    ret->cells.cells_len = n;
    ret->cells.cells_val = (u_quad_t *)g_steal_pointer(&cells);
    return TRUE;
}

/* A char<> array on the wire includes the terminating NUL, as libvirt sends it. */
static void
set_wire_chars(u_int *len, char **val, const char *s)
{
    *len = strlen(s) + 1;
    *val = g_strdup(s);
}

static gboolean
h_node_get_security_model(Conn *conn, void *args, wire_node_security_model_ret *ret,
                          GError **error)
{
    set_wire_chars(&ret->model.model_len, &ret->model.model_val, "none");
    set_wire_chars(&ret->doi.doi_len, &ret->doi.doi_val, "0");
    return TRUE;
}

static gboolean
h_connect_is_secure(Conn *conn, void *args, wire_int_ret *ret, GError **error)
{
    ret->value = 1; /* a local UNIX socket */
    return TRUE;
}

/* ---- domains ---- */

#define UUID(args) ((const unsigned char *)(args)->dom.uuid)

static gboolean
h_domain_define_xml_flags(Conn *conn, wire_define_xml_flags_args *args, wire_dom_ret *ret,
                          GError **error)
{
    g_auto(DomainRef) dom = {0};
    if (!DRV(conn)->domain_define_xml(DRV(conn), args->xml, args->flags, &dom, error))
        return FALSE;
    wire_domain_set(&ret->dom, &dom);
    return TRUE;
}

static gboolean
h_domain_define_xml(Conn *conn, wire_define_xml_args *args, wire_dom_ret *ret, GError **error)
{
    wire_define_xml_flags_args with_flags = {args->xml, 0};
    return h_domain_define_xml_flags(conn, &with_flags, ret, error);
}

static gboolean
h_domain_undefine_flags(Conn *conn, wire_dom_flags_args *args, void *ret, GError **error)
{
    return DRV(conn)->domain_undefine(DRV(conn), UUID(args), args->flags, error);
}

static gboolean
h_domain_undefine(Conn *conn, wire_dom_args *args, void *ret, GError **error)
{
    return DRV(conn)->domain_undefine(DRV(conn), UUID(args), 0, error);
}

static gboolean
h_lookup_by_name(Conn *conn, wire_name_args *args, wire_dom_ret *ret, GError **error)
{
    g_auto(DomainRef) dom = {0};
    if (!DRV(conn)->domain_lookup_by_name(DRV(conn), args->name, &dom, error))
        return FALSE;
    wire_domain_set(&ret->dom, &dom);
    return TRUE;
}

static gboolean
h_lookup_by_uuid(Conn *conn, wire_lookup_by_uuid_args *args, wire_dom_ret *ret,
                 GError **error)
{
    g_auto(DomainRef) dom = {0};
    if (!DRV(conn)->domain_lookup_by_uuid(DRV(conn), (const unsigned char *)args->uuid, &dom,
                                          error))
        return FALSE;
    wire_domain_set(&ret->dom, &dom);
    return TRUE;
}

static gboolean
h_lookup_by_id(Conn *conn, wire_lookup_by_id_args *args, wire_dom_ret *ret, GError **error)
{
    g_auto(DomainRef) dom = {0};
    if (!DRV(conn)->domain_lookup_by_id(DRV(conn), args->id, &dom, error))
        return FALSE;
    wire_domain_set(&ret->dom, &dom);
    return TRUE;
}

static gboolean
h_list_all_domains(Conn *conn, wire_list_all_args *args, wire_list_all_domains_ret *ret,
                   GError **error)
{
    g_autoptr(GPtrArray) doms = DRV(conn)->list_all_domains(DRV(conn), args->flags, error);
    if (!doms)
        return FALSE;
    if (doms->len > WIRE_LIST_MAX) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_RPC,
                       _("too many domains (%u) for one reply (at most %d)"), doms->len,
                       WIRE_LIST_MAX);
        return FALSE;
    }
    if (args->need_results) {
        ret->domains.domains_len = doms->len;
        ret->domains.domains_val = g_new0(wire_domain, doms->len);
        for (guint i = 0; i < doms->len; i++)
            wire_domain_set(&ret->domains.domains_val[i], g_ptr_array_index(doms, i));
    }
    ret->ret = doms->len;
    return TRUE;
}

static GPtrArray *
list_domains(Conn *conn, gboolean active, GError **error)
{
    return DRV(conn)->list_all_domains(DRV(conn),
                                       active ? VIR_CONNECT_LIST_DOMAINS_ACTIVE
                                              : VIR_CONNECT_LIST_DOMAINS_INACTIVE,
                                       error);
}

static gboolean
check_max(int max, GError **error)
{
    if (max < 0 || max > WIRE_LIST_MAX) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_RPC, _("list size %d is out of range"),
                       max);
        return FALSE;
    }
    return TRUE;
}

static gboolean
h_list_domains(Conn *conn, wire_list_ids_args *args, wire_list_ids_ret *ret, GError **error)
{
    if (!check_max(args->maxids, error))
        return FALSE;
    g_autoptr(GPtrArray) doms = list_domains(conn, TRUE, error);
    if (!doms)
        return FALSE;
    guint n = MIN(doms->len, (guint)args->maxids);
    ret->ids.ids_len = n;
    ret->ids.ids_val = g_new0(int, MAX(n, 1));
    for (guint i = 0; i < n; i++)
        ret->ids.ids_val[i] = ((DomainRef *)g_ptr_array_index(doms, i))->id;
    return TRUE;
}

static gboolean
h_list_defined_domains(Conn *conn, wire_list_names_args *args, wire_list_names_ret *ret,
                       GError **error)
{
    if (!check_max(args->maxnames, error))
        return FALSE;
    g_autoptr(GPtrArray) doms = list_domains(conn, FALSE, error);
    if (!doms)
        return FALSE;
    guint n = MIN(doms->len, (guint)args->maxnames);
    ret->names.names_len = n;
    ret->names.names_val = g_new0(wire_str, MAX(n, 1));
    for (guint i = 0; i < n; i++)
        ret->names.names_val[i] = g_strdup(((DomainRef *)g_ptr_array_index(doms, i))->name);
    return TRUE;
}

static gboolean
count_domains(Conn *conn, gboolean active, wire_int_ret *ret, GError **error)
{
    g_autoptr(GPtrArray) doms = list_domains(conn, active, error);
    if (!doms)
        return FALSE;
    ret->value = doms->len;
    return TRUE;
}

static gboolean
h_num_of_domains(Conn *conn, void *args, wire_int_ret *ret, GError **error)
{
    return count_domains(conn, TRUE, ret, error);
}

static gboolean
h_num_of_defined_domains(Conn *conn, void *args, wire_int_ret *ret, GError **error)
{
    return count_domains(conn, FALSE, ret, error);
}

static gboolean
h_domain_get_xml_desc(Conn *conn, wire_dom_flags_args *args, wire_str_ret *ret,
                      GError **error)
{
    g_mutex_lock(&conn->lock);
    gboolean readonly = conn->readonly;
    g_mutex_unlock(&conn->lock);
    if (readonly && (args->flags & (VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_MIGRATABLE))) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_OPERATION_DENIED,
                       _("read only access prevents DOMAIN_GET_XML_DESC with secure or migratable flags"));
        return FALSE;
    }
    ret->value = DRV(conn)->domain_get_xml_desc(DRV(conn), UUID(args), args->flags, error);
    return ret->value != NULL;
}

static gboolean
h_domain_get_info(Conn *conn, wire_dom_args *args, wire_domain_info_ret *ret, GError **error)
{
    DomainInfoData info = {0};
    if (!DRV(conn)->domain_get_info(DRV(conn), UUID(args), &info, error))
        return FALSE;
    ret->state = info.state;
    ret->max_mem = info.max_mem_kib;
    ret->memory = info.memory_kib;
    ret->nr_virt_cpu = info.nr_virt_cpu;
    ret->cpu_time = info.cpu_time_ns;
    return TRUE;
}

static gboolean
h_domain_get_state(Conn *conn, wire_dom_flags_args *args, wire_domain_state_ret *ret,
                   GError **error)
{
    if (!check_flags(args->flags, 0, error))
        return FALSE;
    return DRV(conn)->domain_get_state(DRV(conn), UUID(args), &ret->state, &ret->reason,
                                       error);
}

/* The IS_* and GET_AUTOSTART queries share one shape: uuid -> -1 | 0 | 1. */
#define BOOL_QUERY(fname, member)                                                       \
    static gboolean fname(Conn *conn, wire_dom_args *args, wire_int_ret *ret,           \
                          GError **error)                                               \
    {                                                                                   \
        ret->value = DRV(conn)->member(DRV(conn), UUID(args), error);                   \
        return ret->value >= 0;                                                         \
    }
BOOL_QUERY(h_domain_is_active, domain_is_active)
BOOL_QUERY(h_domain_is_persistent, domain_is_persistent)
BOOL_QUERY(h_domain_is_updated, domain_is_updated)
BOOL_QUERY(h_domain_get_autostart, domain_get_autostart)

static gboolean
h_domain_set_autostart(Conn *conn, wire_set_autostart_args *args, void *ret, GError **error)
{
    return DRV(conn)->domain_set_autostart(DRV(conn), UUID(args), args->autostart != 0, error);
}

static gboolean
h_domain_get_os_type(Conn *conn, wire_dom_args *args, wire_str_ret *ret, GError **error)
{
    ret->value = DRV(conn)->domain_get_os_type(DRV(conn), UUID(args), error);
    return ret->value != NULL;
}

static gboolean
h_domain_get_max_memory(Conn *conn, wire_dom_args *args, wire_uhyper_ret *ret,
                        GError **error)
{
    guint64 kib;
    if (!DRV(conn)->domain_get_max_memory(DRV(conn), UUID(args), &kib, error))
        return FALSE;
    ret->value = kib;
    return TRUE;
}

static gboolean
h_domain_set_metadata(Conn *conn, wire_set_metadata_args *args, void *ret, GError **error)
{
    return DRV(conn)->domain_set_metadata(DRV(conn), UUID(args), args->type,
                                          OPT(args->metadata), OPT(args->key), OPT(args->uri),
                                          args->flags, error);
}

static gboolean
h_domain_get_metadata(Conn *conn, wire_get_metadata_args *args, wire_str_ret *ret,
                      GError **error)
{
    ret->value = DRV(conn)->domain_get_metadata(DRV(conn), UUID(args), args->type,
                                                OPT(args->uri), args->flags, error);
    return ret->value != NULL;
}

static gboolean
h_domain_rename(Conn *conn, wire_rename_args *args, wire_int_ret *ret, GError **error)
{
    if (!args->new_name) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_INVALID_ARG, _("new domain name is missing"));
        return FALSE;
    }
    if (!DRV(conn)->domain_rename(DRV(conn), UUID(args), *args->new_name, args->flags, error))
        return FALSE;
    ret->value = 0;
    return TRUE;
}

static gboolean
h_domain_get_vcpus_flags(Conn *conn, wire_dom_flags_args *args, wire_int_ret *ret,
                         GError **error)
{
    ret->value = DRV(conn)->domain_get_vcpus_flags(DRV(conn), UUID(args), args->flags, error);
    return ret->value >= 0;
}

static gboolean
h_domain_set_vcpus_flags(Conn *conn, wire_set_vcpus_flags_args *args, void *ret,
                         GError **error)
{
    return DRV(conn)->domain_set_vcpus_flags(DRV(conn), UUID(args), args->nvcpus, args->flags,
                                             error);
}

static gboolean
h_domain_set_vcpus(Conn *conn, wire_set_vcpus_args *args, void *ret, GError **error)
{
    return DRV(conn)->domain_set_vcpus_flags(DRV(conn), UUID(args), args->nvcpus,
                                             VIR_DOMAIN_AFFECT_LIVE, error);
}

static gboolean
h_domain_set_memory_flags(Conn *conn, wire_set_memory_flags_args *args, void *ret,
                          GError **error)
{
    return DRV(conn)->domain_set_memory_flags(DRV(conn), UUID(args), args->memory, args->flags,
                                              error);
}

static gboolean
h_domain_set_memory(Conn *conn, wire_set_memory_args *args, void *ret, GError **error)
{
    return DRV(conn)->domain_set_memory_flags(DRV(conn), UUID(args), args->memory,
                                              VIR_DOMAIN_AFFECT_LIVE, error);
}

static gboolean
h_domain_set_vcpu(Conn *conn, wire_set_vcpu_args *args, void *ret, GError **error)
{
    return DRV(conn)->domain_set_vcpu(DRV(conn), UUID(args), args->cpumap, args->state,
                                      args->flags, error);
}

static gboolean
h_domain_set_memory_stats_period(Conn *conn, wire_set_memory_stats_period_args *args,
                                 void *ret, GError **error)
{
    return DRV(conn)->domain_set_memory_stats_period(DRV(conn), UUID(args), args->period,
                                                     args->flags, error);
}

static gboolean
h_domain_set_max_memory(Conn *conn, wire_set_memory_args *args, void *ret, GError **error)
{
    return DRV(conn)->domain_set_memory_flags(DRV(conn), UUID(args), args->memory,
                                              VIR_DOMAIN_AFFECT_CURRENT | VIR_DOMAIN_MEM_MAXIMUM,
                                              error);
}

static gboolean
h_domain_get_security_label(Conn *conn, wire_dom_args *args, wire_security_label_ret *ret,
                            GError **error)
{
    /* Check the domain exists; with the 'none' security model there is no label. */
    g_auto(DomainRef) dom = {0};
    if (!DRV(conn)->domain_lookup_by_uuid(DRV(conn), UUID(args), &dom, error))
        return FALSE;
    set_wire_chars(&ret->label.label_len, &ret->label.label_val, "");
    ret->enforcing = 0;
    return TRUE;
}

static gboolean
h_domain_has_managed_save_image(Conn *conn, wire_dom_flags_args *args, wire_int_ret *ret,
                                GError **error)
{
    ret->value = DRV(conn)->domain_has_managed_save_image(DRV(conn), UUID(args), args->flags,
                                                          error);
    return ret->value >= 0;
}

static gboolean
h_domain_get_messages(Conn *conn, wire_dom_flags_args *args, wire_messages_ret *ret,
                      GError **error)
{
    g_auto(GStrv) msgs = DRV(conn)->domain_get_messages(DRV(conn), UUID(args), args->flags,
                                                       error);
    if (!msgs)
        return FALSE;
    guint n = g_strv_length(msgs);
    ret->msgs.msgs_len = n;
    ret->msgs.msgs_val = g_new0(wire_str, MAX(n, 1));
    for (guint i = 0; i < n; i++)
        ret->msgs.msgs_val[i] = g_strdup(msgs[i]);
    return TRUE;
}

static gboolean
h_domain_snapshot_num(Conn *conn, wire_dom_flags_args *args, wire_int_ret *ret,
                      GError **error)
{
    /* Snapshots come with their own feature; until then a domain has none. */
    g_auto(DomainRef) dom = {0};
    if (!DRV(conn)->domain_lookup_by_uuid(DRV(conn), UUID(args), &dom, error))
        return FALSE;
    ret->value = 0;
    return TRUE;
}

/* ---- running domains ---- */

static gboolean
h_domain_create(Conn *conn, wire_dom_args *args, void *ret, GError **error)
{
    return DRV(conn)->domain_create(DRV(conn), UUID(args), 0, error);
}

static gboolean
h_domain_create_with_flags(Conn *conn, wire_dom_flags_args *args, wire_dom_ret *ret,
                           GError **error)
{
    if (!DRV(conn)->domain_create(DRV(conn), UUID(args), args->flags, error))
        return FALSE;
    /* The reply carries the domain with its new id. */
    g_auto(DomainRef) dom = {0};
    if (!DRV(conn)->domain_lookup_by_uuid(DRV(conn), UUID(args), &dom, error))
        return FALSE;
    wire_domain_set(&ret->dom, &dom);
    return TRUE;
}

static gboolean
h_domain_create_xml(Conn *conn, wire_create_xml_args *args, wire_dom_ret *ret, GError **error)
{
    g_auto(DomainRef) dom = {0};
    if (!DRV(conn)->domain_create_xml(DRV(conn), args->xml, args->flags, &dom, error))
        return FALSE;
    wire_domain_set(&ret->dom, &dom);
    return TRUE;
}

/* The many (domain[, flags]) -> nothing operations. */
#define DOM_OP(fname, member)                                                           \
    static gboolean fname(Conn *conn, wire_dom_args *args, void *ret, GError **error)   \
    {                                                                                   \
        return DRV(conn)->member(DRV(conn), UUID(args), 0, error);                      \
    }
#define DOM_OP_FLAGS(fname, member)                                                     \
    static gboolean fname(Conn *conn, wire_dom_flags_args *args, void *ret,             \
                          GError **error)                                               \
    {                                                                                   \
        return DRV(conn)->member(DRV(conn), UUID(args), args->flags, error);            \
    }
DOM_OP(h_domain_destroy, domain_destroy)
DOM_OP_FLAGS(h_domain_destroy_flags, domain_destroy)
DOM_OP(h_domain_shutdown, domain_shutdown)
DOM_OP_FLAGS(h_domain_shutdown_flags, domain_shutdown)
DOM_OP_FLAGS(h_domain_reboot, domain_reboot)
DOM_OP_FLAGS(h_domain_reset, domain_reset)

static gboolean
h_domain_suspend(Conn *conn, wire_dom_args *args, void *ret, GError **error)
{
    return DRV(conn)->domain_suspend(DRV(conn), UUID(args), error);
}

static gboolean
h_domain_resume(Conn *conn, wire_dom_args *args, void *ret, GError **error)
{
    return DRV(conn)->domain_resume(DRV(conn), UUID(args), error);
}

static gboolean
h_qemu_monitor_command(Conn *conn, wire_monitor_command_args *args, wire_str_ret *ret,
                       GError **error)
{
    ret->value = DRV(conn)->domain_monitor_command(DRV(conn), UUID(args), args->cmd,
                                                   args->flags, error);
    return ret->value != NULL;
}

/* One console session per domain and device: a second one is refused, or takes over with
 * VIR_DOMAIN_CONSOLE_FORCE. */
static gboolean
claim_console(Conn *conn, const char *key, RpcStream *stream, gboolean force, GError **error)
{
    Dispatcher *d = conn->d;
    g_mutex_lock(&d->consoles_lock);
    RpcStream *current = g_hash_table_lookup(d->consoles, key);
    gboolean busy = current && !rpc_stream_is_closed(current);
    if (busy && !force) {
        g_mutex_unlock(&d->consoles_lock);
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("another console session is active for this device: use --force to take it over"));
        return FALSE;
    }
    if (busy)
        rpc_stream_abort(current, NULL);
    g_hash_table_insert(d->consoles, g_strdup(key), rpc_stream_ref(stream));
    g_mutex_unlock(&d->consoles_lock);
    return TRUE;
}

static gboolean
h_domain_open_console(Conn *conn, wire_open_console_args *args, void *ret, GError **error)
{
    if (!check_flags(args->flags, VIR_DOMAIN_CONSOLE_FORCE | VIR_DOMAIN_CONSOLE_SAFE, error))
        return FALSE;
    const char *dev = OPT(args->dev_name);
    int fd = DRV(conn)->domain_open_console(DRV(conn), UUID(args), dev, args->flags, error);
    if (fd < 0)
        return FALSE;
    RpcStream *stream = rpc_stream_new(conn->client, dispatch_current_call(), fd);
    char uuid[37];
    uuid_unparse_lower((const unsigned char *)args->dom.uuid, uuid);
    g_autofree char *key = g_strdup_printf("%s/%s", uuid, dev ? dev : "");
    if (!claim_console(conn, key, stream, args->flags & VIR_DOMAIN_CONSOLE_FORCE, error)) {
        rpc_stream_unref(stream);
        return FALSE;
    }
    conn_open_stream(conn, stream);
    return TRUE;
}

/* ---- events ---- */

static gboolean
h_domain_event_register_any(Conn *conn, wire_event_register_args *args, wire_int_ret *ret,
                            GError **error)
{
    if (args->event_id < 0 || args->event_id >= VIR_DOMAIN_EVENT_ID_LAST) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_INVALID_ARG, _("unsupported event ID %d"),
                       args->event_id);
        return FALSE;
    }
    ret->value = conn_add_callback(conn, args->event_id, FALSE,
                                   args->dom ? (unsigned char *)args->dom->uuid : NULL);
    return TRUE;
}

static gboolean
h_domain_event_deregister_any(Conn *conn, wire_event_deregister_args *args, void *ret,
                              GError **error)
{
    return conn_remove_callback(conn, args->callback_id, FALSE, error);
}

static gboolean
h_network_event_register_any(Conn *conn, wire_network_event_register_args *args,
                             wire_int_ret *ret, GError **error)
{
    if (args->event_id < 0 || args->event_id >= VIR_NETWORK_EVENT_ID_LAST) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_INVALID_ARG,
                       _("unsupported network event ID %d"), args->event_id);
        return FALSE;
    }
    ret->value = conn_add_callback(conn, args->event_id, TRUE, NULL);
    return TRUE;
}

static gboolean
h_network_event_deregister_any(Conn *conn, wire_event_deregister_args *args, void *ret,
                               GError **error)
{
    return conn_remove_callback(conn, args->callback_id, TRUE, error);
}

/* ---- QEMU program: monitor events ---- */

static gboolean
h_qemu_monitor_event_register(Conn *conn, wire_monitor_event_register_args *args,
                              wire_int_ret *ret, GError **error)
{
    const unsigned int regex = VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_REGEX;
    const unsigned int nocase = VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_NOCASE;
    if (!check_flags(args->flags, regex | nocase, error))
        return FALSE;
    GRegex *filter = NULL;
    if (args->event) {
        /* Without the REGEX flag the name must match exactly. */
        g_autofree char *escaped = g_regex_escape_string(*args->event, -1);
        g_autofree char *pattern = (args->flags & regex) ? g_strdup(*args->event)
                                                         : g_strdup_printf("^%s$", escaped);
        filter = g_regex_new(pattern, (args->flags & nocase) ? G_REGEX_CASELESS : 0, 0, error);
        if (!filter) {
            g_clear_error(error);
            virt_error_set(error, VIR_FROM_RPC, VIR_ERR_INVALID_ARG,
                           _("'%s' is not a valid regular expression for event names"),
                           *args->event);
            return FALSE;
        }
    }
    ret->value = conn_add_monitor_callback(conn, args->dom ? (unsigned char *)args->dom->uuid
                                                           : NULL, filter);
    return TRUE;
}

static gboolean
h_qemu_monitor_event_deregister(Conn *conn, wire_event_deregister_args *args, void *ret,
                                GError **error)
{
    return conn_remove_callback(conn, args->callback_id, FALSE, error);
}

/* ---- other objects: virtd has no networks, pools or node devices yet ---- */

static gboolean
h_list_all_empty_pools(Conn *conn, wire_list_all_args *args, wire_list_all_pools_ret *ret,
                       GError **error)
{
    ret->ret = 0;
    return TRUE;
}

static gboolean
h_list_all_empty_networks(Conn *conn, wire_list_all_args *args,
                          wire_list_all_networks_ret *ret, GError **error)
{
    ret->ret = 0;
    return TRUE;
}

static gboolean
h_num_of_zero(Conn *conn, void *args, wire_int_ret *ret, GError **error)
{
    ret->value = 0;
    return TRUE;
}

static gboolean
h_node_num_of_devices(Conn *conn, wire_node_num_of_devices_args *args, wire_int_ret *ret,
                      GError **error)
{
    ret->value = 0;
    return check_flags(args->flags, 0, error);
}

static gboolean
h_node_list_devices(Conn *conn, wire_node_list_devices_args *args, wire_names_ret *ret,
                    GError **error)
{
    return check_flags(args->flags, 0, error);
}

/* ---- statistics and controls of domains ---- */

static gboolean
h_domain_get_control_info(Conn *conn, wire_dom_flags_args *args, wire_control_info_ret *ret,
                          GError **error)
{
    DomainControlInfo info = {0};
    if (!DRV(conn)->domain_get_control_info(DRV(conn), UUID(args), args->flags, &info, error))
        return FALSE;
    ret->state = info.state;
    ret->details = info.details;
    ret->state_time = info.state_time_ms;
    return TRUE;
}

/* The sizes of cpumap replies are bounded like libvirt's. */
static gboolean
check_cpumaps(int count, int maplen, GError **error)
{
    if (count < 0 || maplen < 0 || count > WIRE_VCPUINFO_MAX ||
        (gint64)count * maplen > WIRE_CPUMAPS_MAX) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_RPC,
                       _("%d CPU maps of %d bytes do not fit in one reply"), count, maplen);
        return FALSE;
    }
    return TRUE;
}

static gboolean
h_domain_get_vcpus(Conn *conn, wire_get_vcpus_args *args, wire_get_vcpus_ret *ret,
                   GError **error)
{
    if (!check_cpumaps(args->maxinfo, args->maplen, error))
        return FALSE;
    int max = args->maxinfo;
    g_autofree DomainVcpuInfo *info = g_new0(DomainVcpuInfo, MAX(max, 1));
    g_autofree guint8 *maps = g_malloc0(MAX((gsize)max * args->maplen, 1));
    int n = DRV(conn)->domain_get_vcpus(DRV(conn), UUID(args), max, info, args->maplen, maps,
                                        error);
    if (n < 0)
        return FALSE;
    ret->info.info_len = n;
    ret->info.info_val = g_new0(wire_vcpu_info, MAX(n, 1));
    for (int i = 0; i < n; i++) {
        ret->info.info_val[i].number = info[i].number;
        ret->info.info_val[i].state = info[i].state;
        ret->info.info_val[i].cpu_time = info[i].cpu_time_ns;
        ret->info.info_val[i].cpu = info[i].cpu;
    }
    ret->cpumaps.cpumaps_len = (u_int)max * args->maplen;
    ret->cpumaps.cpumaps_val = (char *)g_steal_pointer(&maps);
    return TRUE;
}

static gboolean
h_domain_get_vcpu_pin_info(Conn *conn, wire_vcpu_pin_info_args *args,
                           wire_vcpu_pin_info_ret *ret, GError **error)
{
    if (!check_cpumaps(args->ncpumaps, args->maplen, error))
        return FALSE;
    g_autofree guint8 *maps = g_malloc0(MAX((gsize)args->ncpumaps * args->maplen, 1));
    int n = DRV(conn)->domain_get_vcpu_pin_info(DRV(conn), UUID(args), args->ncpumaps,
                                                args->maplen, maps, args->flags, error);
    if (n < 0)
        return FALSE;
    ret->cpumaps.cpumaps_len = (u_int)args->ncpumaps * args->maplen;
    ret->cpumaps.cpumaps_val = (char *)g_steal_pointer(&maps);
    ret->num = n;
    return TRUE;
}

static gboolean
h_domain_get_emulator_pin_info(Conn *conn, wire_emulator_pin_info_args *args,
                               wire_emulator_pin_info_ret *ret, GError **error)
{
    if (!check_cpumaps(1, args->maplen, error))
        return FALSE;
    g_autofree guint8 *map = g_malloc0(MAX(args->maplen, 1));
    int n = DRV(conn)->domain_get_emulator_pin_info(DRV(conn), UUID(args), args->maplen, map,
                                                    args->flags, error);
    if (n < 0)
        return FALSE;
    ret->cpumaps.cpumaps_len = args->maplen;
    ret->cpumaps.cpumaps_val = (char *)g_steal_pointer(&map);
    ret->ret = n;
    return TRUE;
}

/* ---- pinning and NUMA tuning ---- */

#define CPUMAP(args) ((const guint8 *)(args)->cpumap.cpumap_val), ((int)(args)->cpumap.cpumap_len)

/* virDomainPinVcpu changes the running domain only. */
static gboolean
h_domain_pin_vcpu(Conn *conn, wire_pin_vcpu_args *args, void *ret, GError **error)
{
    return DRV(conn)->domain_pin_vcpu(DRV(conn), UUID(args), args->vcpu, CPUMAP(args),
                                      VIR_DOMAIN_AFFECT_LIVE, error);
}

static gboolean
h_domain_pin_vcpu_flags(Conn *conn, wire_pin_vcpu_flags_args *args, void *ret, GError **error)
{
    return DRV(conn)->domain_pin_vcpu(DRV(conn), UUID(args), args->vcpu, CPUMAP(args),
                                      args->flags, error);
}

static gboolean
h_domain_pin_emulator(Conn *conn, wire_pin_emulator_args *args, void *ret, GError **error)
{
    return DRV(conn)->domain_pin_emulator(DRV(conn), UUID(args), CPUMAP(args), args->flags,
                                          error);
}

static gboolean
h_domain_get_iothread_info(Conn *conn, wire_dom_flags_args *args, wire_iothread_info_ret *ret,
                           GError **error)
{
    int maplen = 0;
    g_autoptr(GArray) info = DRV(conn)->domain_get_iothread_info(DRV(conn), UUID(args),
                                                                 args->flags, &maplen, error);
    if (!info)
        return FALSE;
    guint n = MIN(info->len, WIRE_IOTHREAD_INFO_MAX);
    ret->info.info_len = n;
    ret->info.info_val = g_new0(wire_iothread_info, MAX(n, 1));
    for (guint i = 0; i < n; i++) {
        DomainIOThreadInfo *t = &g_array_index(info, DomainIOThreadInfo, i);
        ret->info.info_val[i].iothread_id = t->id;
        ret->info.info_val[i].cpumap.cpumap_len = maplen;
        ret->info.info_val[i].cpumap.cpumap_val = (char *)g_steal_pointer(&t->cpumap);
    }
    ret->ret = n;
    return TRUE;
}

static gboolean
h_domain_pin_iothread(Conn *conn, wire_pin_iothread_args *args, void *ret, GError **error)
{
    return DRV(conn)->domain_pin_iothread(DRV(conn), UUID(args), args->iothreads_id,
                                          CPUMAP(args), args->flags, error);
}

static gboolean
h_domain_memory_stats(Conn *conn, wire_memory_stats_args *args, wire_memory_stats_ret *ret,
                      GError **error)
{
    if (args->max_stats > WIRE_MEMORY_STATS_MAX) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_RPC,
                       _("%u memory statistics do not fit in one reply (at most %d)"),
                       args->max_stats, WIRE_MEMORY_STATS_MAX);
        return FALSE;
    }
    g_autofree DomainMemoryStat *stats = g_new0(DomainMemoryStat, MAX(args->max_stats, 1));
    int n = DRV(conn)->domain_memory_stats(DRV(conn), UUID(args), stats, args->max_stats,
                                           args->flags, error);
    if (n < 0)
        return FALSE;
    ret->stats.stats_len = n;
    ret->stats.stats_val = g_new0(wire_memory_stat, MAX(n, 1));
    for (int i = 0; i < n; i++) {
        ret->stats.stats_val[i].tag = stats[i].tag;
        ret->stats.stats_val[i].value = stats[i].value;
    }
    return TRUE;
}

static gboolean
h_domain_block_stats(Conn *conn, wire_block_stats_args *args, wire_block_stats_ret *ret,
                     GError **error)
{
    DomainBlockStats st;
    if (!DRV(conn)->domain_block_stats(DRV(conn), UUID(args), args->path, &st, error))
        return FALSE;
    ret->rd_req = st.rd_req;
    ret->rd_bytes = st.rd_bytes;
    ret->wr_req = st.wr_req;
    ret->wr_bytes = st.wr_bytes;
    ret->errs = st.errs;
    return TRUE;
}

static void
set_wire_llong(wire_param *p, const char *field, gint64 value)
{
    p->field = g_strdup(field);
    p->value.type = VIR_TYPED_PARAM_LLONG;
    p->value.wire_param_value_u.l = value;
}

static gboolean
h_domain_block_stats_flags(Conn *conn, wire_block_stats_flags_args *args,
                           wire_block_stats_flags_ret *ret, GError **error)
{
    if (args->nparams < 0 || args->nparams > WIRE_BLOCK_STATS_PARAMS_MAX) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_RPC, _("nparams %d is out of range"),
                       args->nparams);
        return FALSE;
    }
    if (!check_flags(args->flags, VIR_TYPED_PARAM_STRING_OKAY, error))
        return FALSE;
    DomainBlockStats st;
    if (!DRV(conn)->domain_block_stats(DRV(conn), UUID(args), args->path, &st, error))
        return FALSE;
    /* The fields QEMU knows, in the order libvirt's QEMU driver gives them. */
    const struct {
        const char *field;
        gint64 value;
    } all[] = {
        {VIR_DOMAIN_BLOCK_STATS_WRITE_BYTES, st.wr_bytes},
        {VIR_DOMAIN_BLOCK_STATS_WRITE_REQ, st.wr_req},
        {VIR_DOMAIN_BLOCK_STATS_READ_BYTES, st.rd_bytes},
        {VIR_DOMAIN_BLOCK_STATS_READ_REQ, st.rd_req},
        {VIR_DOMAIN_BLOCK_STATS_FLUSH_REQ, st.flush_req},
        {VIR_DOMAIN_BLOCK_STATS_WRITE_TOTAL_TIMES, st.wr_total_times_ns},
        {VIR_DOMAIN_BLOCK_STATS_READ_TOTAL_TIMES, st.rd_total_times_ns},
        {VIR_DOMAIN_BLOCK_STATS_FLUSH_TOTAL_TIMES, st.flush_total_times_ns},
    };
    int n = G_N_ELEMENTS(all);
    if (args->nparams == 0) {
        ret->nparams = n; /* the caller asks how many there are */
        return TRUE;
    }
    n = MIN(n, args->nparams);
    ret->params.params_len = n;
    ret->params.params_val = g_new0(wire_param, n);
    for (int i = 0; i < n; i++)
        set_wire_llong(&ret->params.params_val[i], all[i].field, all[i].value);
    ret->nparams = n;
    return TRUE;
}

static gboolean
h_domain_get_block_info(Conn *conn, wire_block_info_args *args, wire_block_info_ret *ret,
                        GError **error)
{
    DomainBlockInfo info;
    if (!DRV(conn)->domain_get_block_info(DRV(conn), UUID(args), args->path, args->flags,
                                          &info, error))
        return FALSE;
    ret->allocation = info.allocation;
    ret->capacity = info.capacity;
    ret->physical = info.physical;
    return TRUE;
}

static gboolean
h_domain_interface_stats(Conn *conn, wire_interface_stats_args *args,
                         wire_interface_stats_ret *ret, GError **error)
{
    DomainInterfaceStats st;
    if (!DRV(conn)->domain_interface_stats(DRV(conn), UUID(args), args->device, &st, error))
        return FALSE;
    ret->rx_bytes = st.rx_bytes;
    ret->rx_packets = st.rx_packets;
    ret->rx_errs = st.rx_errs;
    ret->rx_drop = st.rx_drop;
    ret->tx_bytes = st.tx_bytes;
    ret->tx_packets = st.tx_packets;
    ret->tx_errs = st.tx_errs;
    ret->tx_drop = st.tx_drop;
    return TRUE;
}

void
wire_param_set(wire_param *w, const DomainTypedParam *p)
{
    w->field = g_strdup(p->field);
    w->value.type = p->type;
    switch (p->type) {
    case VIR_TYPED_PARAM_INT:
        w->value.wire_param_value_u.i = p->value.i;
        break;
    case VIR_TYPED_PARAM_UINT:
        w->value.wire_param_value_u.ui = p->value.ui;
        break;
    case VIR_TYPED_PARAM_LLONG:
        w->value.wire_param_value_u.l = p->value.l;
        break;
    case VIR_TYPED_PARAM_ULLONG:
        w->value.wire_param_value_u.ul = p->value.ul;
        break;
    case VIR_TYPED_PARAM_BOOLEAN:
        w->value.wire_param_value_u.b = p->value.b;
        break;
    case VIR_TYPED_PARAM_STRING:
        w->value.wire_param_value_u.s = g_strdup(p->value.s ? p->value.s : "");
        break;
    default:
        g_assert_not_reached();
    }
}

/* Typed parameters from a client (the set calls). */
static GArray *
params_from_wire(const wire_param *val, u_int len, GError **error)
{
    g_autoptr(GArray) params = domain_params_new();
    for (u_int i = 0; i < len; i++) {
        const wire_param *w = &val[i];
        const wire_param_value *v = &w->value;
        switch (v->type) {
        case VIR_TYPED_PARAM_INT:
            domain_params_add_int(params, w->field, v->wire_param_value_u.i);
            break;
        case VIR_TYPED_PARAM_UINT:
            domain_params_add_uint(params, w->field, v->wire_param_value_u.ui);
            break;
        case VIR_TYPED_PARAM_LLONG:
            domain_params_add_llong(params, w->field, v->wire_param_value_u.l);
            break;
        case VIR_TYPED_PARAM_ULLONG:
            domain_params_add_ullong(params, w->field, v->wire_param_value_u.ul);
            break;
        case VIR_TYPED_PARAM_BOOLEAN:
            domain_params_add_boolean(params, w->field, v->wire_param_value_u.b);
            break;
        case VIR_TYPED_PARAM_STRING:
            domain_params_add_string(params, w->field, v->wire_param_value_u.s);
            break;
        default:
            virt_error_set(error, VIR_FROM_RPC, VIR_ERR_INVALID_ARG,
                           _("parameter '%s' has type %d, which no tuning call takes"),
                           w->field, v->type);
            return NULL;
        }
    }
    return g_steal_pointer(&params);
}

/* Typed parameters for a client (the get calls). libvirt's convention: a caller that
 * asks for 0 parameters wants their number (@ret_nparams) and no list; otherwise it gets
 * at most @asked of them. */
static gboolean
params_to_wire(GArray *params, int asked, int max, wire_param **ret_val, u_int *ret_len,
               int *ret_nparams, GError **error)
{
    if (asked < 0 || asked > max) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_RPC, _("nparams %d is out of range"),
                       asked);
        return FALSE;
    }
    if (asked == 0) {
        *ret_nparams = params->len;
        return TRUE;
    }
    u_int n = MIN(params->len, (u_int)asked);
    *ret_val = g_new0(wire_param, MAX(n, 1));
    for (u_int i = 0; i < n; i++)
        wire_param_set(&(*ret_val)[i], &g_array_index(params, DomainTypedParam, i));
    *ret_len = n;
    *ret_nparams = n;
    return TRUE;
}

static gboolean
h_domain_set_numa_parameters(Conn *conn, wire_set_numa_params_args *args, void *ret,
                             GError **error)
{
    g_autoptr(GArray) params = params_from_wire(args->params.params_val,
                                                args->params.params_len, error);
    return params && DRV(conn)->domain_set_numa_parameters(DRV(conn), UUID(args), params,
                                                           args->flags, error);
}

static gboolean
h_domain_get_numa_parameters(Conn *conn, wire_get_numa_params_args *args,
                             wire_get_numa_params_ret *ret, GError **error)
{
    g_autoptr(GArray) params = DRV(conn)->domain_get_numa_parameters(DRV(conn), UUID(args),
                                                                     args->flags, error);
    return params && params_to_wire(params, args->nparams, WIRE_NUMA_PARAMS_MAX,
                                     &ret->params.params_val, &ret->params.params_len,
                                     &ret->nparams, error);
}

static gboolean
h_domain_set_block_io_tune(Conn *conn, wire_set_block_io_tune_args *args, void *ret,
                           GError **error)
{
    g_autoptr(GArray) params = params_from_wire(args->params.params_val,
                                                args->params.params_len, error);
    return params && DRV(conn)->domain_set_block_io_tune(DRV(conn), UUID(args), args->disk,
                                                         params, args->flags, error);
}

static gboolean
h_domain_get_block_io_tune(Conn *conn, wire_get_block_io_tune_args *args,
                           wire_get_block_io_tune_ret *ret, GError **error)
{
    /* Asked for their number (nparams 0), the parameters need no disk. */
    const char *disk = args->disk && args->nparams != 0 ? *args->disk : NULL;
    if (!disk && args->nparams != 0) {
        virt_error_set(error, VIR_FROM_RPC, VIR_ERR_INVALID_ARG,
                       _("a disk must be named to read its I/O limits"));
        return FALSE;
    }
    g_autoptr(GArray) params = DRV(conn)->domain_get_block_io_tune(DRV(conn), UUID(args), disk,
                                                                   args->flags, error);
    return params && params_to_wire(params, args->nparams, WIRE_BLOCK_IO_TUNE_PARAMS_MAX,
                                     &ret->params.params_val, &ret->params.params_len,
                                     &ret->nparams, error);
}

/* ---- cgroup tuning: schedinfo, memtune, blkiotune ---- */

/* libvirt's rule for string parameters on a get: a client that did not set
 * VIR_TYPED_PARAM_STRING_OKAY in @flags never sees them. Returns the flags for the driver
 * (without that bit). */
static unsigned int
params_string_okay(GArray *params, unsigned int flags)
{
    for (guint i = params->len; !(flags & VIR_TYPED_PARAM_STRING_OKAY) && i > 0; i--) {
        if (g_array_index(params, DomainTypedParam, i - 1).type == VIR_TYPED_PARAM_STRING)
            g_array_remove_index(params, i - 1);
    }
    return flags & ~VIR_TYPED_PARAM_STRING_OKAY;
}

/* The get calls: the driver's list, trimmed to what the client takes. */
typedef GArray *(*TuneGetFunc)(VirtDriver *drv, const unsigned char *uuid, unsigned int flags,
                               GError **error);

static gboolean
tune_get(Conn *conn, TuneGetFunc get, wire_get_tune_params_args *args,
         wire_get_tune_params_ret *ret, GError **error)
{
    g_autoptr(GArray) params = get(DRV(conn), UUID(args),
                                   args->flags & ~VIR_TYPED_PARAM_STRING_OKAY, error);
    if (!params)
        return FALSE;
    params_string_okay(params, args->flags);
    return params_to_wire(params, args->nparams, WIRE_TUNE_PARAMS_MAX, &ret->params.params_val,
                          &ret->params.params_len, &ret->nparams, error);
}

/* The set calls: the client's list, as it is, to the driver. */
typedef gboolean (*TuneSetFunc)(VirtDriver *drv, const unsigned char *uuid, GArray *params,
                                unsigned int flags, GError **error);

static gboolean
tune_set(Conn *conn, TuneSetFunc set, const wire_domain *dom, const wire_param *val,
         u_int len, unsigned int flags, GError **error)
{
    g_autoptr(GArray) params = params_from_wire(val, len, error);
    return params && set(DRV(conn), (const unsigned char *)dom->uuid, params, flags, error);
}

static gboolean
h_domain_get_scheduler_type(Conn *conn, wire_dom_args *args, wire_sched_type_ret *ret,
                            GError **error)
{
    ret->type = DRV(conn)->domain_get_scheduler_type(DRV(conn), UUID(args), &ret->nparams,
                                                     error);
    return ret->type != NULL;
}

static gboolean
sched_get(Conn *conn, wire_domain *dom, int nparams, unsigned int flags,
          wire_sched_params_ret *ret, GError **error)
{
    wire_get_tune_params_args args = {.dom = *dom, .nparams = nparams, .flags = flags};
    wire_get_tune_params_ret all = {{0}};
    if (!tune_get(conn, DRV(conn)->domain_get_scheduler_params, &args, &all, error))
        return FALSE;
    ret->params.params_val = all.params.params_val; /* this reply has no count */
    ret->params.params_len = all.params.params_len;
    return TRUE;
}

static gboolean
h_domain_get_scheduler_parameters(Conn *conn, wire_get_sched_params_args *args,
                                  wire_sched_params_ret *ret, GError **error)
{
    return sched_get(conn, &args->dom, args->nparams, VIR_DOMAIN_AFFECT_CURRENT, ret, error);
}

static gboolean
h_domain_get_scheduler_parameters_flags(Conn *conn, wire_get_tune_params_args *args,
                                        wire_sched_params_ret *ret, GError **error)
{
    return sched_get(conn, &args->dom, args->nparams, args->flags, ret, error);
}

static gboolean
h_domain_set_scheduler_parameters(Conn *conn, wire_set_sched_params_args *args, void *ret,
                                  GError **error)
{
    return tune_set(conn, DRV(conn)->domain_set_scheduler_params, &args->dom,
                    args->params.params_val, args->params.params_len, VIR_DOMAIN_AFFECT_CURRENT, error);
}

static gboolean
h_domain_set_scheduler_parameters_flags(Conn *conn, wire_set_tune_params_args *args, void *ret,
                                        GError **error)
{
    return tune_set(conn, DRV(conn)->domain_set_scheduler_params, &args->dom,
                    args->params.params_val, args->params.params_len, args->flags, error);
}

static gboolean
h_domain_get_memory_parameters(Conn *conn, wire_get_tune_params_args *args,
                               wire_get_tune_params_ret *ret, GError **error)
{
    return tune_get(conn, DRV(conn)->domain_get_memory_params, args, ret, error);
}

static gboolean
h_domain_set_memory_parameters(Conn *conn, wire_set_tune_params_args *args, void *ret,
                               GError **error)
{
    return tune_set(conn, DRV(conn)->domain_set_memory_params, &args->dom, args->params.params_val,
                    args->params.params_len, args->flags, error);
}

static gboolean
h_domain_get_blkio_parameters(Conn *conn, wire_get_tune_params_args *args,
                              wire_get_tune_params_ret *ret, GError **error)
{
    return tune_get(conn, DRV(conn)->domain_get_blkio_params, args, ret, error);
}

static gboolean
h_domain_set_blkio_parameters(Conn *conn, wire_set_tune_params_args *args, void *ret,
                              GError **error)
{
    return tune_set(conn, DRV(conn)->domain_set_blkio_params, &args->dom, args->params.params_val,
                    args->params.params_len, args->flags, error);
}

static gboolean
h_get_all_domain_stats(Conn *conn, wire_all_domain_stats_args *args,
                       wire_all_domain_stats_ret *ret, GError **error)
{
    guint n_doms = args->doms.doms_len;
    g_autofree unsigned char *uuids = g_malloc0(MAX(n_doms, 1) * VIRT_UUID_LEN);
    for (guint i = 0; i < n_doms; i++)
        memcpy(uuids + i * VIRT_UUID_LEN, args->doms.doms_val[i].uuid, VIRT_UUID_LEN);
    g_autoptr(GPtrArray) records = DRV(conn)->get_all_domain_stats(DRV(conn), uuids, n_doms,
                                                                   args->stats, args->flags,
                                                                   error);
    if (!records)
        return FALSE;
    ret->records.records_len = records->len;
    ret->records.records_val = g_new0(wire_domain_stats_record, MAX(records->len, 1));
    for (guint i = 0; i < records->len; i++) {
        const DomainStatsRecord *rec = g_ptr_array_index(records, i);
        wire_domain_stats_record *w = &ret->records.records_val[i];
        wire_domain_set(&w->dom, &rec->dom);
        guint np = MIN(rec->params->len, WIRE_DOMAIN_STATS_PARAMS_MAX);
        w->params.params_len = np;
        w->params.params_val = g_new0(wire_param, MAX(np, 1));
        for (guint j = 0; j < np; j++)
            wire_param_set(&w->params.params_val[j],
                           &g_array_index(rec->params, DomainTypedParam, j));
    }
    return TRUE;
}

static gboolean
h_domain_send_key(Conn *conn, wire_send_key_args *args, void *ret, GError **error)
{
    return DRV(conn)->domain_send_key(DRV(conn), UUID(args), args->codeset, args->holdtime,
                                      args->keycodes.keycodes_val, args->keycodes.keycodes_len,
                                      args->flags, error);
}

/* The image travels over a stream that ends at the end of the file. */
static gboolean
h_domain_screenshot(Conn *conn, wire_screenshot_args *args, wire_screenshot_ret *ret,
                    GError **error)
{
    g_autofree char *mime = NULL;
    int fd = DRV(conn)->domain_screenshot(DRV(conn), UUID(args), args->screen, args->flags,
                                          &mime, error);
    if (fd < 0)
        return FALSE;
    RpcStream *stream = rpc_stream_new(conn->client, dispatch_current_call(), fd);
    conn_open_stream(conn, stream);
    ret->mime = g_new0(wire_str, 1);
    *ret->mime = g_steal_pointer(&mime);
    return TRUE;
}

/* ---- the table ---- */

/* No arguments or no result: the payload is empty. */
typedef char void_t;
static bool_t
xdr_void_t(XDR *xdr, void_t *unused)
{
    return TRUE;
}

#define H(proc, fn, A, R)                                                               \
    [RPROC_##proc] = {(HandlerFunc)(fn), (xdrproc_t)xdr_##A, sizeof(A), (xdrproc_t)xdr_##R, \
                      sizeof(R)}

static const Handler handlers[] = {
    H(AUTH_LIST, h_auth_list, void_t, wire_auth_list_ret),
    H(CONNECT_SUPPORTS_FEATURE, h_supports_feature, wire_supports_feature_args, wire_int_ret),
    H(CONNECT_OPEN, h_connect_open, wire_connect_open_args, void_t),
    H(CONNECT_CLOSE, h_connect_close, void_t, void_t),
    H(CONNECT_REGISTER_CLOSE_CALLBACK, h_register_close_callback, void_t, void_t),
    H(CONNECT_UNREGISTER_CLOSE_CALLBACK, h_unregister_close_callback, void_t, void_t),
    H(CONNECT_GET_TYPE, h_get_type, void_t, wire_str_ret),
    H(CONNECT_GET_VERSION, h_get_version, void_t, wire_uhyper_ret),
    H(CONNECT_GET_LIB_VERSION, h_get_lib_version, void_t, wire_uhyper_ret),
    H(CONNECT_GET_HOSTNAME, h_get_hostname, void_t, wire_str_ret),
    H(CONNECT_GET_URI, h_get_uri, void_t, wire_str_ret),
    H(CONNECT_GET_SYSINFO, h_get_sysinfo, wire_flags_args, wire_str_ret),
    H(CONNECT_GET_MAX_VCPUS, h_get_max_vcpus, wire_get_max_vcpus_args, wire_int_ret),
    H(CONNECT_GET_CAPABILITIES, h_get_capabilities, void_t, wire_str_ret),
    H(CONNECT_GET_DOMAIN_CAPABILITIES, h_get_domain_capabilities,
      wire_get_domain_capabilities_args, wire_str_ret),
    H(CONNECT_IS_SECURE, h_connect_is_secure, void_t, wire_int_ret),
    H(NODE_GET_INFO, h_node_get_info, void_t, wire_node_info_ret),
    H(NODE_GET_CPU_MAP, h_node_get_cpu_map, wire_node_cpu_map_args, wire_node_cpu_map_ret),
    H(NODE_GET_MEMORY_STATS, h_node_get_memory_stats, wire_node_memory_stats_args,
      wire_node_stats_ret),
    H(NODE_GET_CPU_STATS, h_node_get_cpu_stats, wire_node_cpu_stats_args, wire_node_stats_ret),
    H(NODE_GET_FREE_MEMORY, h_node_get_free_memory, void_t, wire_uhyper_ret),
    H(NODE_GET_CELLS_FREE_MEMORY, h_node_get_cells_free_memory,
      wire_node_cells_free_memory_args, wire_node_cells_free_memory_ret),
    H(NODE_GET_SECURITY_MODEL, h_node_get_security_model, void_t,
      wire_node_security_model_ret),
    H(DOMAIN_DEFINE_XML, h_domain_define_xml, wire_define_xml_args, wire_dom_ret),
    H(DOMAIN_DEFINE_XML_FLAGS, h_domain_define_xml_flags, wire_define_xml_flags_args,
      wire_dom_ret),
    H(DOMAIN_UNDEFINE, h_domain_undefine, wire_dom_args, void_t),
    H(DOMAIN_UNDEFINE_FLAGS, h_domain_undefine_flags, wire_dom_flags_args, void_t),
    H(DOMAIN_LOOKUP_BY_NAME, h_lookup_by_name, wire_name_args, wire_dom_ret),
    H(DOMAIN_LOOKUP_BY_UUID, h_lookup_by_uuid, wire_lookup_by_uuid_args, wire_dom_ret),
    H(DOMAIN_LOOKUP_BY_ID, h_lookup_by_id, wire_lookup_by_id_args, wire_dom_ret),
    H(CONNECT_LIST_ALL_DOMAINS, h_list_all_domains, wire_list_all_args,
      wire_list_all_domains_ret),
    H(CONNECT_LIST_DOMAINS, h_list_domains, wire_list_ids_args, wire_list_ids_ret),
    H(CONNECT_LIST_DEFINED_DOMAINS, h_list_defined_domains, wire_list_names_args,
      wire_list_names_ret),
    H(CONNECT_NUM_OF_DOMAINS, h_num_of_domains, void_t, wire_int_ret),
    H(CONNECT_NUM_OF_DEFINED_DOMAINS, h_num_of_defined_domains, void_t, wire_int_ret),
    H(DOMAIN_GET_XML_DESC, h_domain_get_xml_desc, wire_dom_flags_args, wire_str_ret),
    H(DOMAIN_GET_INFO, h_domain_get_info, wire_dom_args, wire_domain_info_ret),
    H(DOMAIN_GET_STATE, h_domain_get_state, wire_dom_flags_args, wire_domain_state_ret),
    H(DOMAIN_IS_ACTIVE, h_domain_is_active, wire_dom_args, wire_int_ret),
    H(DOMAIN_IS_PERSISTENT, h_domain_is_persistent, wire_dom_args, wire_int_ret),
    H(DOMAIN_IS_UPDATED, h_domain_is_updated, wire_dom_args, wire_int_ret),
    H(DOMAIN_GET_AUTOSTART, h_domain_get_autostart, wire_dom_args, wire_int_ret),
    H(DOMAIN_SET_AUTOSTART, h_domain_set_autostart, wire_set_autostart_args, void_t),
    H(DOMAIN_GET_OS_TYPE, h_domain_get_os_type, wire_dom_args, wire_str_ret),
    H(DOMAIN_GET_MAX_MEMORY, h_domain_get_max_memory, wire_dom_args, wire_uhyper_ret),
    H(DOMAIN_SET_METADATA, h_domain_set_metadata, wire_set_metadata_args, void_t),
    H(DOMAIN_GET_METADATA, h_domain_get_metadata, wire_get_metadata_args, wire_str_ret),
    H(DOMAIN_RENAME, h_domain_rename, wire_rename_args, wire_int_ret),
    H(DOMAIN_GET_VCPUS_FLAGS, h_domain_get_vcpus_flags, wire_dom_flags_args, wire_int_ret),
    H(DOMAIN_SET_VCPUS_FLAGS, h_domain_set_vcpus_flags, wire_set_vcpus_flags_args, void_t),
    H(DOMAIN_SET_VCPUS, h_domain_set_vcpus, wire_set_vcpus_args, void_t),
    H(DOMAIN_SET_MEMORY_FLAGS, h_domain_set_memory_flags, wire_set_memory_flags_args, void_t),
    H(DOMAIN_SET_MEMORY, h_domain_set_memory, wire_set_memory_args, void_t),
    H(DOMAIN_SET_MAX_MEMORY, h_domain_set_max_memory, wire_set_memory_args, void_t),
    H(DOMAIN_SET_VCPU, h_domain_set_vcpu, wire_set_vcpu_args, void_t),
    H(DOMAIN_SET_MEMORY_STATS_PERIOD, h_domain_set_memory_stats_period,
      wire_set_memory_stats_period_args, void_t),
    H(DOMAIN_GET_SECURITY_LABEL, h_domain_get_security_label, wire_dom_args,
      wire_security_label_ret),
    H(DOMAIN_HAS_MANAGED_SAVE_IMAGE, h_domain_has_managed_save_image, wire_dom_flags_args,
      wire_int_ret),
    H(DOMAIN_GET_MESSAGES, h_domain_get_messages, wire_dom_flags_args, wire_messages_ret),
    H(DOMAIN_SNAPSHOT_NUM, h_domain_snapshot_num, wire_dom_flags_args, wire_int_ret),
    H(DOMAIN_CREATE, h_domain_create, wire_dom_args, void_t),
    H(DOMAIN_CREATE_WITH_FLAGS, h_domain_create_with_flags, wire_dom_flags_args, wire_dom_ret),
    H(DOMAIN_CREATE_XML, h_domain_create_xml, wire_create_xml_args, wire_dom_ret),
    H(DOMAIN_DESTROY, h_domain_destroy, wire_dom_args, void_t),
    H(DOMAIN_DESTROY_FLAGS, h_domain_destroy_flags, wire_dom_flags_args, void_t),
    H(DOMAIN_SHUTDOWN, h_domain_shutdown, wire_dom_args, void_t),
    H(DOMAIN_SHUTDOWN_FLAGS, h_domain_shutdown_flags, wire_dom_flags_args, void_t),
    H(DOMAIN_REBOOT, h_domain_reboot, wire_dom_flags_args, void_t),
    H(DOMAIN_RESET, h_domain_reset, wire_dom_flags_args, void_t),
    H(DOMAIN_SUSPEND, h_domain_suspend, wire_dom_args, void_t),
    H(DOMAIN_OPEN_CONSOLE, h_domain_open_console, wire_open_console_args, void_t),
    H(DOMAIN_RESUME, h_domain_resume, wire_dom_args, void_t),
    H(CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, h_domain_event_register_any,
      wire_event_register_args, wire_int_ret),
    H(CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, h_domain_event_deregister_any,
      wire_event_deregister_args, void_t),
    H(CONNECT_NETWORK_EVENT_REGISTER_ANY, h_network_event_register_any,
      wire_network_event_register_args, wire_int_ret),
    H(CONNECT_NETWORK_EVENT_DEREGISTER_ANY, h_network_event_deregister_any,
      wire_event_deregister_args, void_t),
    H(CONNECT_LIST_ALL_STORAGE_POOLS, h_list_all_empty_pools, wire_list_all_args,
      wire_list_all_pools_ret),
    H(CONNECT_LIST_ALL_NETWORKS, h_list_all_empty_networks, wire_list_all_args,
      wire_list_all_networks_ret),
    H(CONNECT_NUM_OF_NETWORKS, h_num_of_zero, void_t, wire_int_ret),
    H(CONNECT_NUM_OF_DEFINED_NETWORKS, h_num_of_zero, void_t, wire_int_ret),
    H(CONNECT_NUM_OF_STORAGE_POOLS, h_num_of_zero, void_t, wire_int_ret),
    H(NODE_NUM_OF_DEVICES, h_node_num_of_devices, wire_node_num_of_devices_args, wire_int_ret),
    H(NODE_LIST_DEVICES, h_node_list_devices, wire_node_list_devices_args, wire_names_ret),
    H(DOMAIN_GET_CONTROL_INFO, h_domain_get_control_info, wire_dom_flags_args,
      wire_control_info_ret),
    H(DOMAIN_GET_VCPUS, h_domain_get_vcpus, wire_get_vcpus_args, wire_get_vcpus_ret),
    H(DOMAIN_GET_VCPU_PIN_INFO, h_domain_get_vcpu_pin_info, wire_vcpu_pin_info_args,
      wire_vcpu_pin_info_ret),
    H(DOMAIN_GET_EMULATOR_PIN_INFO, h_domain_get_emulator_pin_info,
      wire_emulator_pin_info_args, wire_emulator_pin_info_ret),
    H(DOMAIN_PIN_VCPU, h_domain_pin_vcpu, wire_pin_vcpu_args, void_t),
    H(DOMAIN_PIN_VCPU_FLAGS, h_domain_pin_vcpu_flags, wire_pin_vcpu_flags_args, void_t),
    H(DOMAIN_PIN_EMULATOR, h_domain_pin_emulator, wire_pin_emulator_args, void_t),
    H(DOMAIN_GET_IOTHREAD_INFO, h_domain_get_iothread_info, wire_dom_flags_args,
      wire_iothread_info_ret),
    H(DOMAIN_PIN_IOTHREAD, h_domain_pin_iothread, wire_pin_iothread_args, void_t),
    H(DOMAIN_SET_NUMA_PARAMETERS, h_domain_set_numa_parameters, wire_set_numa_params_args,
      void_t),
    H(DOMAIN_GET_NUMA_PARAMETERS, h_domain_get_numa_parameters, wire_get_numa_params_args,
      wire_get_numa_params_ret),
    H(DOMAIN_MEMORY_STATS, h_domain_memory_stats, wire_memory_stats_args,
      wire_memory_stats_ret),
    H(DOMAIN_BLOCK_STATS, h_domain_block_stats, wire_block_stats_args, wire_block_stats_ret),
    H(DOMAIN_BLOCK_STATS_FLAGS, h_domain_block_stats_flags, wire_block_stats_flags_args,
      wire_block_stats_flags_ret),
    H(DOMAIN_GET_BLOCK_INFO, h_domain_get_block_info, wire_block_info_args,
      wire_block_info_ret),
    H(DOMAIN_INTERFACE_STATS, h_domain_interface_stats, wire_interface_stats_args,
      wire_interface_stats_ret),
    H(CONNECT_GET_ALL_DOMAIN_STATS, h_get_all_domain_stats, wire_all_domain_stats_args,
      wire_all_domain_stats_ret),
    H(DOMAIN_SEND_KEY, h_domain_send_key, wire_send_key_args, void_t),
    H(DOMAIN_SET_BLOCK_IO_TUNE, h_domain_set_block_io_tune, wire_set_block_io_tune_args,
      void_t),
    H(DOMAIN_GET_BLOCK_IO_TUNE, h_domain_get_block_io_tune, wire_get_block_io_tune_args,
      wire_get_block_io_tune_ret),
    H(DOMAIN_SCREENSHOT, h_domain_screenshot, wire_screenshot_args, wire_screenshot_ret),
    H(DOMAIN_GET_SCHEDULER_TYPE, h_domain_get_scheduler_type, wire_dom_args,
      wire_sched_type_ret),
    H(DOMAIN_GET_SCHEDULER_PARAMETERS, h_domain_get_scheduler_parameters,
      wire_get_sched_params_args, wire_sched_params_ret),
    H(DOMAIN_GET_SCHEDULER_PARAMETERS_FLAGS, h_domain_get_scheduler_parameters_flags,
      wire_get_tune_params_args, wire_sched_params_ret),
    H(DOMAIN_SET_SCHEDULER_PARAMETERS, h_domain_set_scheduler_parameters,
      wire_set_sched_params_args, void_t),
    H(DOMAIN_SET_SCHEDULER_PARAMETERS_FLAGS, h_domain_set_scheduler_parameters_flags,
      wire_set_tune_params_args, void_t),
    H(DOMAIN_GET_MEMORY_PARAMETERS, h_domain_get_memory_parameters, wire_get_tune_params_args,
      wire_get_tune_params_ret),
    H(DOMAIN_SET_MEMORY_PARAMETERS, h_domain_set_memory_parameters, wire_set_tune_params_args,
      void_t),
    H(DOMAIN_GET_BLKIO_PARAMETERS, h_domain_get_blkio_parameters, wire_get_tune_params_args,
      wire_get_tune_params_ret),
    H(DOMAIN_SET_BLKIO_PARAMETERS, h_domain_set_blkio_parameters, wire_set_tune_params_args,
      void_t),
};

#define QH(proc, fn, A, R)                                                              \
    [QPROC_##proc] = {(HandlerFunc)(fn), (xdrproc_t)xdr_##A, sizeof(A), (xdrproc_t)xdr_##R, \
                      sizeof(R)}

static const Handler qemu_handlers[] = {
    QH(DOMAIN_MONITOR_COMMAND, h_qemu_monitor_command, wire_monitor_command_args,
       wire_str_ret),
    QH(CONNECT_DOMAIN_MONITOR_EVENT_REGISTER, h_qemu_monitor_event_register,
       wire_monitor_event_register_args, wire_int_ret),
    QH(CONNECT_DOMAIN_MONITOR_EVENT_DEREGISTER, h_qemu_monitor_event_deregister,
       wire_event_deregister_args, void_t),
};

const Handler *
handler_lookup(guint32 prog, int proc)
{
    const Handler *table = prog == PROGRAM_REMOTE ? handlers : qemu_handlers;
    gsize n = prog == PROGRAM_REMOTE ? G_N_ELEMENTS(handlers) : G_N_ELEMENTS(qemu_handlers);
    if (prog != PROGRAM_REMOTE && prog != PROGRAM_QEMU)
        return NULL;
    if (proc <= 0 || (gsize)proc >= n || !table[proc].fn)
        return NULL;
    return &table[proc];
}
