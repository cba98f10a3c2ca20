/* Host NUMA nodes and CPU/node lists; see numa.h. */
#include "drivers/host/numa.h"

#include <errno.h>
#include <string.h>

#include "daemon/util/virt-error.h"

#define SYS_NODE_DIR "sys/devices/system/node"
#define LIST_MAX 65535 /* the largest CPU or node number a list may name */

/* ---- lists ---- */

static int
compare_uints(gconstpointer a, gconstpointer b)
{
    guint x = *(const guint *)a, y = *(const guint *)b;

    return x < y ? -1 : x > y;
}

/* One number of a list at *@p, advancing it. */
static gboolean
list_number(const char **p, guint *ret)
{
    char *end;
    guint64 v;

    if (!g_ascii_isdigit(**p))
        return FALSE;
    v = g_ascii_strtoull(*p, &end, 10);
    if (v > LIST_MAX)
        return FALSE;
    *p = end;
    *ret = (guint)v;
    return TRUE;
}

GArray *
numa_list_parse(const char *text, const char *what, GError **error)
{
    g_autoptr(GHashTable) set = g_hash_table_new(NULL, NULL);
    g_auto(GStrv) parts = g_strsplit(text ? text : "", ",", -1);
    GArray *ids;
    GHashTableIter iter;
    gpointer key;

    for (char **part = parts; *part; part++) {
        const char *p = g_strstrip(*part);
        gboolean exclude = *p == '^';
        guint first, last;

        if (exclude)
            p++;
        if (!list_number(&p, &first))
            goto bad;
        last = first;
        if (*p == '-' && !exclude) {
            p++;
            if (!list_number(&p, &last) || last < first)
                goto bad;
        }
        if (*p)
            goto bad;
        for (guint i = first; i <= last; i++) {
            if (exclude)
                g_hash_table_remove(set, GUINT_TO_POINTER(i + 1));
            else
                g_hash_table_add(set, GUINT_TO_POINTER(i + 1));
        }
    }
    if (g_hash_table_size(set) == 0)
        goto bad;
    ids = g_array_sized_new(FALSE, FALSE, sizeof(guint), g_hash_table_size(set));
    g_hash_table_iter_init(&iter, set);
    while (g_hash_table_iter_next(&iter, &key, NULL)) {
        guint id = GPOINTER_TO_UINT(key) - 1;

        g_array_append_val(ids, id);
    }
    g_array_sort(ids, compare_uints);
    return ids;

bad:
    virt_error_set(error, VIR_FROM_NONE, VIR_ERR_INVALID_ARG, _("'%s' is not a valid %s"),
                   text ? text : "", what);
    return NULL;
}

char *
numa_list_format(const GArray *ids)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; ids && i < ids->len;) {
        guint first = g_array_index(ids, guint, i), last = first;

        while (i + 1 < ids->len && g_array_index(ids, guint, i + 1) == last + 1)
            last = g_array_index(ids, guint, ++i);
        i++;
        if (out->len)
            g_string_append_c(out, ',');
        if (last == first)
            g_string_append_printf(out, "%u", first);
        else
            g_string_append_printf(out, "%u-%u", first, last);
    }
    return g_string_free(out, FALSE);
}

char *
numa_list_from_map(const guint8 *map, gsize maplen)
{
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint));

    for (gsize i = 0; i < maplen * 8 && i <= LIST_MAX; i++) {
        if (map[i / 8] & (1u << (i % 8))) {
            guint id = (guint)i;

            g_array_append_val(ids, id);
        }
    }
    return ids->len ? numa_list_format(ids) : NULL;
}

static gboolean
list_has(const GArray *ids, guint id)
{
    for (guint i = 0; ids && i < ids->len; i++) {
        if (g_array_index(ids, guint, i) == id)
            return TRUE;
    }
    return FALSE;
}

char *
numa_list_missing(const GArray *ids, const GArray *known)
{
    g_autoptr(GArray) missing = g_array_new(FALSE, FALSE, sizeof(guint));

    for (guint i = 0; i < ids->len; i++) {
        guint id = g_array_index(ids, guint, i);

        if (!list_has(known, id))
            g_array_append_val(missing, id);
    }
    return missing->len ? numa_list_format(missing) : NULL;
}

/* ---- the host's nodes ---- */

static void
node_clear(gpointer p)
{
    g_free(((HostNumaNode *)p)->cpus);
}

static gboolean
read_meminfo(const char *root, const char *rel, HostNumaNode *node, GError **error)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) local = NULL;

    if (!g_file_get_contents(path, &text, NULL, &local)) {
        virt_error_set_errno(error, VIR_FROM_NONE,
                             local->code == G_FILE_ERROR_NOENT ? ENOENT : EIO,
                             _("cannot read '%s'"), path);
        return FALSE;
    }
    if (!nodeinfo_meminfo_lookup(text, "MemTotal", &node->total_kib) ||
        !nodeinfo_meminfo_lookup(text, "MemFree", &node->free_kib)) {
        virt_error_set(error, VIR_FROM_NONE, VIR_ERR_OPERATION_FAILED,
                       _("no MemTotal or MemFree in '%s'"), path);
        return FALSE;
    }
    return TRUE;
}

/* A one-line sysfs list file, canonical; "" when absent or empty. */
static char *
read_list(const char *root, const char *rel)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    g_autofree char *text = NULL;
    g_autoptr(GArray) ids = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup("");
    ids = numa_list_parse(g_strstrip(text), "list", NULL);
    return numa_list_format(ids);
}

static gint
compare_node_ids(gconstpointer a, gconstpointer b)
{
    return ((const HostNumaNode *)a)->id - ((const HostNumaNode *)b)->id;
}

GArray *
numa_nodes_load(const HostRoots *roots, GError **error)
{
    g_autofree char *dir_path = g_build_filename(roots->sys_root, SYS_NODE_DIR, NULL);
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
    g_autoptr(GArray) nodes = g_array_new(FALSE, TRUE, sizeof(HostNumaNode));
    const char *name;

    g_array_set_clear_func(nodes, node_clear);
    while (dir && (name = g_dir_read_name(dir))) {
        HostNumaNode node = {0};
        g_autofree char *rel = NULL;
        char *end;

        if (!g_str_has_prefix(name, "node") || !g_ascii_isdigit(name[4]))
            continue;
        node.id = (int)g_ascii_strtoll(name + 4, &end, 10);
        if (*end)
            continue;
        rel = g_strdup_printf(SYS_NODE_DIR "/%s/meminfo", name);
        if (!read_meminfo(roots->sys_root, rel, &node, error))
            return NULL;
        g_free(rel);
        rel = g_strdup_printf(SYS_NODE_DIR "/%s/cpulist", name);
        node.cpus = read_list(roots->sys_root, rel);
        g_array_append_val(nodes, node);
    }
    if (nodes->len == 0) {
        /* No NUMA information: the whole host is node 0. */
        HostNumaNode node = {0};

        if (!read_meminfo(roots->proc_root, "proc/meminfo", &node, error))
            return NULL;
        node.cpus = read_list(roots->sys_root, "sys/devices/system/cpu/present");
        g_array_append_val(nodes, node);
    }
    g_array_sort(nodes, compare_node_ids);
    return g_steal_pointer(&nodes);
}

GArray *
numa_node_ids(const GArray *nodes)
{
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(guint));

    for (guint i = 0; i < nodes->len; i++) {
        guint id = (guint)g_array_index(nodes, HostNumaNode, i).id;

        g_array_append_val(ids, id);
    }
    g_array_sort(ids, compare_uints);
    return ids;
}

gboolean
numa_check_nodeset(const GArray *nodes, const char *nodeset, char **ret_nodeset,
                   GError **error)
{
    g_autoptr(GArray) ids = numa_list_parse(nodeset, "nodeset", error);
    g_autoptr(GArray) known = NULL;
    g_autofree char *missing = NULL;

    if (!ids)
        return FALSE;
    known = numa_node_ids(nodes);
    missing = numa_list_missing(ids, known);
    if (missing) {
        g_autofree char *have = numa_list_format(known);

        virt_error_set(error, VIR_FROM_NONE, VIR_ERR_INVALID_ARG,
                       strchr(missing, ',') || strchr(missing, '-')
                           ? _("NUMA nodes %s do not exist on this host (it has %s)")
                           : _("NUMA node %s does not exist on this host (it has %s)"),
                       missing, have);
        return FALSE;
    }
    *ret_nodeset = numa_list_format(ids);
    return TRUE;
}

/* Nodes by decreasing free memory, the lower id first among equals. */
static gint
compare_free_desc(gconstpointer a, gconstpointer b)
{
    const HostNumaNode *x = *(HostNumaNode *const *)a, *y = *(HostNumaNode *const *)b;

    if (x->free_kib != y->free_kib)
        return x->free_kib > y->free_kib ? -1 : 1;
    return x->id - y->id;
}

char *
numa_pick_nodes(const GArray *nodes, guint64 need_kib)
{
    g_autoptr(GPtrArray) order = g_ptr_array_new();
    g_autoptr(GArray) picked = g_array_new(FALSE, FALSE, sizeof(guint));
    guint64 have = 0;

    for (guint i = 0; i < nodes->len; i++) {
        HostNumaNode *node = &g_array_index(nodes, HostNumaNode, i);

        if (node->total_kib > 0 || nodes->len == 1)
            g_ptr_array_add(order, node);
    }
    g_ptr_array_sort(order, compare_free_desc);
    /* Greedy by free memory: the first node alone when it fits, else the fewest that do;
     * all of them when none do. */
    for (guint i = 0; i < order->len && (picked->len == 0 || have < need_kib); i++) {
        const HostNumaNode *node = order->pdata[i];
        guint id = (guint)node->id;

        g_array_append_val(picked, id);
        have += node->free_kib;
    }
    g_array_sort(picked, compare_uints);
    return numa_list_format(picked);
}

char *
numa_nodeset_cpus(const GArray *nodes, const char *nodeset)
{
    g_autoptr(GArray) wanted = numa_list_parse(nodeset, "nodeset", NULL);
    g_autoptr(GString) all = g_string_new(NULL);
    g_autoptr(GArray) cpus = NULL;

    for (guint i = 0; wanted && i < nodes->len; i++) {
        const HostNumaNode *node = &g_array_index(nodes, HostNumaNode, i);

        if (list_has(wanted, (guint)node->id) && node->cpus[0])
            g_string_append_printf(all, "%s%s", all->len ? "," : "", node->cpus);
    }
    if (all->len == 0)
        return g_strdup("");
    cpus = numa_list_parse(all->str, "CPU list", NULL);
    return numa_list_format(cpus);
}
