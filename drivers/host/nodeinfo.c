/* Host facts read from procfs and sysfs under injectable roots. */
#include "drivers/host/nodeinfo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "daemon/util/virt-error.h"

#define SYS_CPU_DIR "sys/devices/system/cpu"
#define SYS_NODE_DIR "sys/devices/system/node"
#define SYS_DMI_DIR "sys/class/dmi/id"
#define SYS_HUGEPAGES_DIR "sys/kernel/mm/hugepages"

/* ---- small readers ---- */

static char *
host_read(const char *root, const char *rel, GError **error)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    char *contents = NULL;
    g_autoptr(GError) local = NULL;

    if (!g_file_get_contents(path, &contents, NULL, &local)) {
        int err = EIO;

        if (local->code == G_FILE_ERROR_NOENT)
            err = ENOENT;
        else if (local->code == G_FILE_ERROR_ACCES)
            err = EACCES;
        virt_error_set_errno(error, VIR_FROM_NONE, err, _("cannot read '%s'"), path);
        return NULL;
    }
    return contents;
}

/* A one-line sysfs file, trimmed; NULL when absent. */
static char *
host_read_line(const char *root, const char *rel)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    char *contents = NULL;

    if (!g_file_get_contents(path, &contents, NULL, NULL))
        return NULL;
    return g_strstrip(contents);
}

static gboolean
host_read_int(const char *root, const char *rel, gint64 *ret_value)
{
    g_autofree char *line = host_read_line(root, rel);
    char *end;
    gint64 v;

    if (!line || !*line)
        return FALSE;
    v = g_ascii_strtoll(line, &end, 10);
    if (*end)
        return FALSE;
    *ret_value = v;
    return TRUE;
}

/* "0-3,5,7-8" -> sorted array of ints. NULL on a syntax error. */
static GArray *
cpulist_parse(const char *text)
{
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(int));
    g_auto(GStrv) parts = NULL;

    if (!text)
        return NULL;
    parts = g_strsplit(text, ",", -1);
    for (char **p = parts; *p; p++) {
        char *item = g_strstrip(*p);
        char *end;
        gint64 first, last;

        if (!*item)
            continue;
        first = g_ascii_strtoll(item, &end, 10);
        last = first;
        if (*end == '-')
            last = g_ascii_strtoll(end + 1, &end, 10);
        if (*end || first < 0 || last < first || last > 65535)
            return NULL;
        for (gint64 i = first; i <= last; i++) {
            int v = (int)i;
            g_array_append_val(ids, v);
        }
    }
    return g_steal_pointer(&ids);
}

static gboolean
cpulist_has(const GArray *ids, int id)
{
    for (guint i = 0; ids && i < ids->len; i++) {
        if (g_array_index(ids, int, i) == id)
            return TRUE;
    }
    return FALSE;
}

static GArray *
host_read_cpulist(const char *root, const char *rel)
{
    g_autofree char *line = host_read_line(root, rel);

    return line ? cpulist_parse(line) : NULL;
}

gboolean
nodeinfo_meminfo_lookup(const char *text, const char *key, guint64 *ret_kib)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    gsize keylen = strlen(key);

    for (char **l = lines; *l; l++) {
        const char *p = *l;

        if (g_str_has_prefix(p, "Node ")) {
            p += 5;
            while (g_ascii_isdigit(*p))
                p++;
            while (*p == ' ')
                p++;
        }
        if (strncmp(p, key, keylen) == 0 && p[keylen] == ':') {
            *ret_kib = g_ascii_strtoull(p + keylen + 1, NULL, 10);
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean
meminfo_read(const char *root, const char *rel, const char *key, guint64 *ret_kib,
             GError **error)
{
    g_autofree char *text = host_read(root, rel, error);

    if (!text)
        return FALSE;
    if (!nodeinfo_meminfo_lookup(text, key, ret_kib)) {
        virt_error_set(error, VIR_FROM_NONE, VIR_ERR_OPERATION_FAILED,
                       _("no '%s' in '%s'"), key, rel);
        return FALSE;
    }
    return TRUE;
}

static int
compare_ints(gconstpointer a, gconstpointer b)
{
    return *(const int *)a - *(const int *)b;
}

/* Ids N of the entries "<prefix>N" in directory @rel, sorted; empty when absent. */
static GArray *
host_list_numbered(const char *root, const char *rel, const char *prefix)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(int));
    const char *name;
    gsize plen = strlen(prefix);

    while (dir && (name = g_dir_read_name(dir))) {
        char *end;
        gint64 v;

        if (strncmp(name, prefix, plen) != 0 || !g_ascii_isdigit(name[plen]))
            continue;
        v = g_ascii_strtoll(name + plen, &end, 10);
        if (*end == '\0' && v >= 0 && v < 65536) {
            int id = (int)v;
            g_array_append_val(ids, id);
        }
    }
    g_array_sort(ids, compare_ints);
    return ids;
}

/* ---- CPUs and cells ---- */

typedef struct {
    int id;
    gboolean online;
    int socket_id, die_id, core_id;
    char *siblings; /* thread_siblings_list as the kernel writes it */
    int nsiblings;  /* online CPUs among the siblings */
} HostCpu;

typedef struct {
    int id;
    GArray *cpus; /* HostCpu */
} HostCell;

typedef struct {
    GArray *cells; /* HostCell; one pseudo cell (id 0) when there is no NUMA info */
    gboolean numa; /* cells come from sys/devices/system/node */
} HostTopology;

static void
host_cpu_clear(gpointer p)
{
    g_free(((HostCpu *)p)->siblings);
}

static void
host_cell_clear(gpointer p)
{
    HostCell *cell = p;

    if (cell->cpus)
        g_array_unref(cell->cpus);
}

static void
host_topology_free(HostTopology *topo)
{
    if (!topo)
        return;
    g_array_unref(topo->cells);
    g_free(topo);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HostTopology, host_topology_free)

/* The NUMA node ids (sorted), empty without NUMA information. */
static GArray *
host_node_ids(const HostRoots *roots)
{
    return host_list_numbered(roots->sys_root, SYS_NODE_DIR, "node");
}

/* Present CPU ids: the "present" list, else the cpuN directories. */
static GArray *
host_present_cpus(const HostRoots *roots)
{
    GArray *ids = host_read_cpulist(roots->sys_root, SYS_CPU_DIR "/present");

    if (!ids)
        ids = host_list_numbered(roots->sys_root, SYS_CPU_DIR, "cpu");
    return ids;
}

static void
host_cpu_load(const HostRoots *roots, int id, const GArray *online, HostCpu *ret_cpu)
{
    g_autofree char *topo = g_strdup_printf(SYS_CPU_DIR "/cpu%d/topology", id);
    g_autofree char *rel = NULL;
    g_autoptr(GArray) sibs = NULL;
    gint64 v;

    memset(ret_cpu, 0, sizeof(*ret_cpu));
    ret_cpu->id = id;
    ret_cpu->online = online ? cpulist_has(online, id) : TRUE;
    if (!ret_cpu->online)
        return;

    rel = g_strdup_printf("%s/physical_package_id", topo);
    ret_cpu->socket_id = host_read_int(roots->sys_root, rel, &v) ? (int)v : 0;
    g_free(rel);
    rel = g_strdup_printf("%s/die_id", topo);
    ret_cpu->die_id = host_read_int(roots->sys_root, rel, &v) ? (int)v : 0;
    g_free(rel);
    rel = g_strdup_printf("%s/core_id", topo);
    ret_cpu->core_id = host_read_int(roots->sys_root, rel, &v) ? (int)v : id;
    g_free(rel);
    rel = g_strdup_printf("%s/thread_siblings_list", topo);
    ret_cpu->siblings = host_read_line(roots->sys_root, rel);
    if (!ret_cpu->siblings)
        ret_cpu->siblings = g_strdup_printf("%d", id);
    sibs = cpulist_parse(ret_cpu->siblings);
    for (guint i = 0; sibs && i < sibs->len; i++) {
        if (!online || cpulist_has(online, g_array_index(sibs, int, i)))
            ret_cpu->nsiblings++;
    }
    if (ret_cpu->nsiblings == 0)
        ret_cpu->nsiblings = 1;
}

static HostTopology *
host_topology_load(const HostRoots *roots)
{
    HostTopology *topo = g_new0(HostTopology, 1);
    g_autoptr(GArray) nodes = host_node_ids(roots);
    g_autoptr(GArray) present = host_present_cpus(roots);
    g_autoptr(GArray) online = host_read_cpulist(roots->sys_root, SYS_CPU_DIR "/online");

    topo->cells = g_array_new(FALSE, TRUE, sizeof(HostCell));
    g_array_set_clear_func(topo->cells, host_cell_clear);
    topo->numa = nodes->len > 0;

    for (guint n = 0; n < MAX(nodes->len, 1); n++) {
        HostCell cell = { .id = topo->numa ? g_array_index(nodes, int, n) : 0 };
        g_autoptr(GArray) ids = NULL;

        if (topo->numa) {
            g_autofree char *rel = g_strdup_printf(SYS_NODE_DIR "/node%d/cpulist", cell.id);

            ids = host_read_cpulist(roots->sys_root, rel);
        } else {
            ids = g_array_ref(present);
        }
        cell.cpus = g_array_new(FALSE, TRUE, sizeof(HostCpu));
        g_array_set_clear_func(cell.cpus, host_cpu_clear);
        for (guint i = 0; ids && i < ids->len; i++) {
            int id = g_array_index(ids, int, i);
            HostCpu cpu;

            if (!cpulist_has(present, id))
                continue;
            host_cpu_load(roots, id, online, &cpu);
            g_array_append_val(cell.cpus, cpu);
        }
        g_array_append_val(topo->cells, cell);
    }
    return topo;
}

gboolean
nodeinfo_get(const HostRoots *roots, NodeInfoData *ret_info, GError **error)
{
    g_autoptr(HostTopology) topo = host_topology_load(roots);
    g_autofree char *cpuinfo = NULL;
    NodeInfoData info = { 0 };
    struct utsname uts;
    int offline = 0;

    if (uname(&uts) < 0)
        g_strlcpy(info.model, "unknown", sizeof(info.model));
    else
        g_strlcpy(info.model, uts.machine, sizeof(info.model));

    /* Memory: the sum of the NUMA nodes when the host has them, else meminfo. */
    if (topo->numa) {
        for (guint n = 0; n < topo->cells->len; n++) {
            const HostCell *cell = &g_array_index(topo->cells, HostCell, n);
            g_autofree char *rel = g_strdup_printf(SYS_NODE_DIR "/node%d/meminfo", cell->id);
            guint64 kib;

            if (!meminfo_read(roots->sys_root, rel, "MemTotal", &kib, error))
                return FALSE;
            info.memory_kib += kib;
        }
    } else if (!meminfo_read(roots->proc_root, "proc/meminfo", "MemTotal", &info.memory_kib,
                             error)) {
        return FALSE;
    }

    /* Frequency: "cpu MHz" of proc/cpuinfo (truncated), else cpufreq's maximum. */
    cpuinfo = host_read(roots->proc_root, "proc/cpuinfo", error);
    if (!cpuinfo)
        return FALSE;
    {
        g_auto(GStrv) lines = g_strsplit(cpuinfo, "\n", -1);
        gint64 khz;

        for (char **l = lines; *l && info.mhz == 0; l++) {
            const char *colon = strchr(*l, ':');

            if (g_str_has_prefix(*l, "cpu MHz") && colon)
                info.mhz = (int)g_ascii_strtod(colon + 1, NULL);
        }
        if (info.mhz == 0 &&
            host_read_int(roots->sys_root, SYS_CPU_DIR "/cpu0/cpufreq/cpuinfo_max_freq", &khz))
            info.mhz = (int)(khz / 1000);
    }

    /* Topology per cell: sockets in a cell, cores in a socket, threads in a core; the
     * maximum over cells. Offline CPUs only count for the sanity check below. */
    for (guint n = 0; n < topo->cells->len; n++) {
        const HostCell *cell = &g_array_index(topo->cells, HostCell, n);
        g_autoptr(GHashTable) sockets = g_hash_table_new_full(g_direct_hash, g_direct_equal,
                                                              NULL,
                                                              (GDestroyNotify)g_hash_table_unref);
        int cellcpus = 0;
        GHashTableIter iter;
        gpointer cores;

        for (guint i = 0; i < cell->cpus->len; i++) {
            const HostCpu *cpu = &g_array_index(cell->cpus, HostCpu, i);
            GHashTable *socket_cores;

            if (!cpu->online) {
                offline++;
                continue;
            }
            cellcpus++;
            socket_cores = g_hash_table_lookup(sockets, GINT_TO_POINTER(cpu->socket_id + 1));
            if (!socket_cores) {
                socket_cores = g_hash_table_new(g_direct_hash, g_direct_equal);
                g_hash_table_insert(sockets, GINT_TO_POINTER(cpu->socket_id + 1), socket_cores);
            }
            g_hash_table_add(socket_cores, GINT_TO_POINTER(cpu->core_id + 1));
            info.threads = MAX(info.threads, cpu->nsiblings);
        }
        if (cellcpus == 0)
            continue;
        info.nodes++;
        info.cpus += cellcpus;
        info.sockets = MAX(info.sockets, (int)g_hash_table_size(sockets));
        g_hash_table_iter_init(&iter, sockets);
        while (g_hash_table_iter_next(&iter, NULL, &cores))
            info.cores = MAX(info.cores, (int)g_hash_table_size(cores));
    }

    /* When the counts do not multiply up to the CPUs (hidden nodes, odd SMT layouts), report
     * a flat topology, as libvirt does; the capabilities XML has the real one. */
    if (info.nodes * info.sockets * info.cores * info.threads != info.cpus + offline) {
        info.nodes = 1;
        info.sockets = 1;
        info.cores = info.cpus + offline;
        info.threads = 1;
    }

    *ret_info = info;
    return TRUE;
}

int
nodeinfo_cpu_map(const HostRoots *roots, guint8 **ret_map, unsigned int *ret_online,
                 GError **error)
{
    g_autoptr(GArray) present = host_present_cpus(roots);
    g_autoptr(GArray) online = host_read_cpulist(roots->sys_root, SYS_CPU_DIR "/online");
    g_autofree guint8 *map = NULL;
    unsigned int nonline = 0;
    int count = 0;

    for (guint i = 0; i < present->len; i++)
        count = MAX(count, g_array_index(present, int, i) + 1);
    if (count == 0) {
        virt_error_set(error, VIR_FROM_NONE, VIR_ERR_OPERATION_FAILED,
                       _("cannot find the host CPUs in '%s'"), SYS_CPU_DIR);
        return -1;
    }
    map = g_new0(guint8, (count + 7) / 8);
    for (int id = 0; id < count; id++) {
        if (cpulist_has(present, id) && (!online || cpulist_has(online, id))) {
            map[id / 8] |= 1 << (id % 8);
            nonline++;
        }
    }
    if (ret_map)
        *ret_map = g_steal_pointer(&map);
    if (ret_online)
        *ret_online = nonline;
    return count;
}

/* The meminfo file of @cell ("proc/meminfo" with proc_root for the whole host or a host
 * without NUMA). Errors: VIR_ERR_INVALID_ARG for a cell the host does not have. */
static gboolean
host_cell_meminfo(const HostRoots *roots, int cell, const char **ret_root, char **ret_rel,
                  GError **error)
{
    g_autoptr(GArray) nodes = host_node_ids(roots);

    if (cell == VIR_NODE_MEMORY_STATS_ALL_CELLS) {
        *ret_root = roots->proc_root;
        *ret_rel = g_strdup("proc/meminfo");
        return TRUE;
    }
    if (nodes->len == 0 && cell == 0) {
        *ret_root = roots->proc_root;
        *ret_rel = g_strdup("proc/meminfo");
        return TRUE;
    }
    if (cell < 0 || (nodes->len > 0 && !cpulist_has(nodes, cell)) || nodes->len == 0) {
        virt_error_set(error, VIR_FROM_NONE, VIR_ERR_INVALID_ARG,
                       _("cell number %d is out of range (host has %u)"), cell,
                       MAX(nodes->len, 1));
        return FALSE;
    }
    *ret_root = roots->sys_root;
    *ret_rel = g_strdup_printf(SYS_NODE_DIR "/node%d/meminfo", cell);
    return TRUE;
}

int
nodeinfo_memory_stats(const HostRoots *roots, int cell, NodeStat *ret_stats, int max,
                      GError **error)
{
    static const struct {
        const char *field;
        const char *key;
    } host_fields[] = {
        { VIR_NODE_MEMORY_STATS_TOTAL, "MemTotal" },
        { VIR_NODE_MEMORY_STATS_FREE, "MemFree" },
        { VIR_NODE_MEMORY_STATS_BUFFERS, "Buffers" },
        { VIR_NODE_MEMORY_STATS_CACHED, "Cached" },
    };
    g_autofree char *rel = NULL;
    g_autofree char *text = NULL;
    const char *root;
    int nfields = cell == VIR_NODE_MEMORY_STATS_ALL_CELLS ? 4 : 2;
    int n = 0;

    if (!host_cell_meminfo(roots, cell, &root, &rel, error))
        return -1;
    text = host_read(root, rel, error);
    if (!text)
        return -1;
    for (int i = 0; i < nfields && n < max; i++) {
        guint64 kib;

        if (!nodeinfo_meminfo_lookup(text, host_fields[i].key, &kib)) {
            virt_error_set(error, VIR_FROM_NONE, VIR_ERR_OPERATION_FAILED,
                           _("no '%s' in '%s'"), host_fields[i].key, rel);
            return -1;
        }
        ret_stats[n].field = host_fields[i].field;
        ret_stats[n].value = kib;
        n++;
    }
    return n;
}

int
nodeinfo_cpu_stats(const HostRoots *roots, int cpu, NodeStat *ret_stats, int max,
                   GError **error)
{
    g_autofree char *text = host_read(roots->proc_root, "proc/stat", error);
    g_autofree char *prefix = NULL;
    g_auto(GStrv) lines = NULL;
    long hz = sysconf(_SC_CLK_TCK);
    guint64 ns_per_tick;
    int ncpus = 0;

    if (!text)
        return -1;
    if (hz <= 0)
        hz = 100;
    ns_per_tick = G_GUINT64_CONSTANT(1000000000) / hz;
    prefix = cpu < 0 ? g_strdup("cpu ") : g_strdup_printf("cpu%d ", cpu);
    lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        guint64 v[7] = { 0 }; /* user nice system idle iowait irq softirq */
        const char *p;
        int n = 0;

        if (g_str_has_prefix(*l, "cpu") && g_ascii_isdigit((*l)[3]))
            ncpus++;
        if (!g_str_has_prefix(*l, prefix))
            continue;
        p = *l + strlen(prefix);
        for (int i = 0; i < 7; i++) {
            char *end;

            v[i] = g_ascii_strtoull(p, &end, 10);
            p = end;
        }
        {
            const NodeStat stats[4] = {
                { VIR_NODE_CPU_STATS_KERNEL, (v[2] + v[5] + v[6]) * ns_per_tick },
                { VIR_NODE_CPU_STATS_USER, (v[0] + v[1]) * ns_per_tick },
                { VIR_NODE_CPU_STATS_IDLE, v[3] * ns_per_tick },
                { VIR_NODE_CPU_STATS_IOWAIT, v[4] * ns_per_tick },
            };

            for (; n < 4 && n < max; n++)
                ret_stats[n] = stats[n];
        }
        return n;
    }
    virt_error_set(error, VIR_FROM_NONE, VIR_ERR_INVALID_ARG,
                   _("CPU number %d is out of range (host has %d)"), cpu, ncpus);
    return -1;
}

gboolean
nodeinfo_free_memory(const HostRoots *roots, guint64 *ret_bytes, GError **error)
{
    g_autoptr(GArray) nodes = host_node_ids(roots);
    guint64 total = 0;

    if (nodes->len == 0) {
        if (!meminfo_read(roots->proc_root, "proc/meminfo", "MemFree", &total, error))
            return FALSE;
    }
    for (guint i = 0; i < nodes->len; i++) {
        g_autofree char *rel = g_strdup_printf(SYS_NODE_DIR "/node%d/meminfo",
                                               g_array_index(nodes, int, i));
        guint64 kib;

        if (!meminfo_read(roots->sys_root, rel, "MemFree", &kib, error))
            return FALSE;
        total += kib;
    }
    *ret_bytes = total * 1024;
    return TRUE;
}

int
nodeinfo_cells_free_memory(const HostRoots *roots, int start, int max, guint64 *ret_bytes,
                           GError **error)
{
    g_autoptr(GArray) nodes = host_node_ids(roots);
    int last = nodes->len ? g_array_index(nodes, int, nodes->len - 1) : 0;
    int n = 0;

    if (start < 0 || start > last) {
        virt_error_set(error, VIR_FROM_NONE, VIR_ERR_INVALID_ARG,
                       _("start cell %d is out of range (host has %d)"), start, last + 1);
        return -1;
    }
    for (int cell = start; cell <= last && n < max; cell++) {
        guint64 kib = 0;

        if (nodes->len == 0) {
            if (!meminfo_read(roots->proc_root, "proc/meminfo", "MemFree", &kib, error))
                return -1;
        } else if (cpulist_has(nodes, cell)) {
            g_autofree char *rel = g_strdup_printf(SYS_NODE_DIR "/node%d/meminfo", cell);

            if (!meminfo_read(roots->sys_root, rel, "MemFree", &kib, error))
                return -1;
        }
        ret_bytes[n++] = kib * 1024;
    }
    return n;
}

/* ---- XML ---- */

static void
xml_indent(GString *buf, int indent)
{
    for (int i = 0; i < indent; i++)
        g_string_append_c(buf, ' ');
}

static void
xml_entry(GString *buf, int indent, const char *name, const char *value)
{
    g_autofree char *escaped = NULL;

    if (!value || !*value)
        return;
    escaped = g_markup_escape_text(value, -1);
    xml_indent(buf, indent);
    g_string_append_printf(buf, "<entry name='%s'>%s</entry>\n", name, escaped);
}

typedef struct {
    const char *entry; /* the sysinfo entry name */
    const char *file;  /* the file in sys/class/dmi/id */
} DmiField;

static gboolean
sysinfo_section(const HostRoots *roots, GString *buf, const char *element,
                const DmiField *fields, gsize nfields)
{
    g_autoptr(GString) body = g_string_new(NULL);

    for (gsize i = 0; i < nfields; i++) {
        g_autofree char *rel = g_build_filename(SYS_DMI_DIR, fields[i].file, NULL);
        g_autofree char *value = host_read_line(roots->sys_root, rel);

        xml_entry(body, 4, fields[i].entry, value);
    }
    if (body->len == 0)
        return FALSE;
    g_string_append_printf(buf, "  <%s>\n%s  </%s>\n", element, body->str, element);
    return TRUE;
}

/* proc/cpuinfo as a list of hash tables (one per processor block), key -> value. */
static GPtrArray *
cpuinfo_blocks(const HostRoots *roots)
{
    g_autofree char *text = host_read_line(roots->proc_root, "proc/cpuinfo");
    GPtrArray *blocks = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
    g_auto(GStrv) lines = NULL;
    GHashTable *cur = NULL;

    if (!text)
        return blocks;
    lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        char *colon = strchr(*l, ':');

        if (!colon) {
            cur = NULL;
            continue;
        }
        if (!cur) {
            cur = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
            g_ptr_array_add(blocks, cur);
        }
        *colon = '\0';
        g_hash_table_replace(cur, g_strdup(g_strstrip(*l)), g_strdup(g_strstrip(colon + 1)));
    }
    return blocks;
}

static const char *
cpu_vendor_name(const char *vendor_id)
{
    static const struct {
        const char *id;
        const char *name;
    } vendors[] = {
        { "GenuineIntel", "Intel" },
        { "AuthenticAMD", "AMD" },
        { "HygonGenuine", "Hygon" },
        { "CentaurHauls", "VIA" },
        { "  Shanghai  ", "Zhaoxin" },
    };

    for (gsize i = 0; vendor_id && i < G_N_ELEMENTS(vendors); i++) {
        if (strcmp(vendor_id, vendors[i].id) == 0)
            return vendors[i].name;
    }
    return NULL;
}

char *
nodeinfo_cpu_vendor(const HostRoots *roots)
{
    g_autoptr(GPtrArray) blocks = cpuinfo_blocks(roots);

    if (blocks->len == 0)
        return NULL;
    return g_strdup(cpu_vendor_name(g_hash_table_lookup(blocks->pdata[0], "vendor_id")));
}

char *
nodeinfo_sysinfo_xml(const HostRoots *roots, GError **error)
{
    static const DmiField bios[] = {
        { "vendor", "bios_vendor" }, { "version", "bios_version" },
        { "date", "bios_date" },     { "release", "bios_release" },
    };
    static const DmiField system[] = {
        { "manufacturer", "sys_vendor" }, { "product", "product_name" },
        { "version", "product_version" }, { "serial", "product_serial" },
        { "uuid", "product_uuid" },       { "sku", "product_sku" },
        { "family", "product_family" },
    };
    static const DmiField board[] = {
        { "manufacturer", "board_vendor" }, { "product", "board_name" },
        { "version", "board_version" },     { "serial", "board_serial" },
        { "asset", "board_asset_tag" },
    };
    static const DmiField chassis[] = {
        { "manufacturer", "chassis_vendor" }, { "version", "chassis_version" },
        { "serial", "chassis_serial" },       { "asset", "chassis_asset_tag" },
    };
    g_autoptr(GString) buf = g_string_new("<sysinfo type='smbios'>\n");
    g_autoptr(GPtrArray) blocks = cpuinfo_blocks(roots);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    sysinfo_section(roots, buf, "bios", bios, G_N_ELEMENTS(bios));
    sysinfo_section(roots, buf, "system", system, G_N_ELEMENTS(system));
    sysinfo_section(roots, buf, "baseBoard", board, G_N_ELEMENTS(board));
    sysinfo_section(roots, buf, "chassis", chassis, G_N_ELEMENTS(chassis));

    /* One <processor> per physical package, from proc/cpuinfo. */
    for (guint i = 0; i < blocks->len; i++) {
        GHashTable *b = blocks->pdata[i];
        const char *pkg = g_hash_table_lookup(b, "physical id");
        const char *mhz = g_hash_table_lookup(b, "cpu MHz");
        const char *vendor = g_hash_table_lookup(b, "vendor_id");
        g_autofree char *speed = NULL;

        if (!g_hash_table_lookup(b, "processor"))
            continue;
        if (!pkg)
            pkg = "0";
        if (g_hash_table_contains(seen, pkg))
            continue;
        g_hash_table_add(seen, (gpointer)pkg);
        if (mhz)
            speed = g_strdup_printf("%d MHz", (int)g_ascii_strtod(mhz, NULL));
        g_string_append(buf, "  <processor>\n");
        xml_entry(buf, 4, "socket_destination", pkg);
        xml_entry(buf, 4, "type", "Central Processor");
        xml_entry(buf, 4, "manufacturer",
                  cpu_vendor_name(vendor) ? cpu_vendor_name(vendor) : vendor);
        xml_entry(buf, 4, "version", g_hash_table_lookup(b, "model name"));
        xml_entry(buf, 4, "max_speed", speed);
        xml_entry(buf, 4, "status", "Populated, Enabled");
        g_string_append(buf, "  </processor>\n");
    }

    /* Total memory as one device when meminfo is readable. */
    {
        NodeInfoData info;

        if (nodeinfo_get(roots, &info, NULL)) {
            g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT " MB",
                                                    info.memory_kib / 1024);

            g_string_append(buf, "  <memory_device>\n");
            xml_entry(buf, 4, "size", size);
            xml_entry(buf, 4, "locator", "RAM");
            g_string_append(buf, "  </memory_device>\n");
        }
    }
    g_string_append(buf, "</sysinfo>\n");
    return g_string_free(g_steal_pointer(&buf), FALSE);
}

/* The machine id files in the order libdbus's dbus_get_local_machine_id() reads them
 * (checked against libdbus 1.14: its own copy first), so the host UUID stays what it was. */
static const char *const machine_id_files[] = { "/var/lib/dbus/machine-id", "/etc/machine-id",
                                                NULL };

/* The blanks libdbus trims around a machine id. */
static gboolean
machine_id_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char *
nodeinfo_uuid_from_machine_id(const char *text)
{
    const char *start = text ? text : "";
    const char *end;
    char hex[32];

    while (machine_id_blank(*start))
        start++;
    end = start + strlen(start);
    while (end > start && machine_id_blank(end[-1]))
        end--;
    if (end - start != (ptrdiff_t)sizeof(hex))
        return NULL;
    for (guint i = 0; i < sizeof(hex); i++) {
        if (!g_ascii_isxdigit(start[i]))
            return NULL;
        hex[i] = g_ascii_tolower(start[i]);
    }
    return g_strdup_printf("%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
                           hex + 20);
}

char *
nodeinfo_host_uuid_from_files(const char *const *paths)
{
    for (const char *const *path = paths; *path; path++) {
        g_autofree char *text = NULL;
        gsize len = 0;
        char *uuid;

        /* a NUL inside is not a machine id (strlen would hide what follows it) */
        if (g_file_get_contents(*path, &text, &len, NULL) && strlen(text) == len &&
            (uuid = nodeinfo_uuid_from_machine_id(text)))
            return uuid;
    }
    return NULL;
}

char *
nodeinfo_host_uuid(void)
{
    return nodeinfo_host_uuid_from_files(machine_id_files);
}

/* Huge page sizes in KiB under @rel ("hugepages-2048kB" entries), sorted. */
static GArray *
host_hugepage_sizes(const char *root, const char *rel)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    GArray *sizes = g_array_new(FALSE, FALSE, sizeof(int));
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        char *end;
        gint64 v;

        if (!g_str_has_prefix(name, "hugepages-"))
            continue;
        v = g_ascii_strtoll(name + 10, &end, 10);
        if (strcmp(end, "kB") == 0 && v > 0) {
            int kib = (int)v;
            g_array_append_val(sizes, kib);
        }
    }
    g_array_sort(sizes, compare_ints);
    return sizes;
}

static int
host_page_kib(void)
{
    long size = sysconf(_SC_PAGESIZE);

    return size > 0 ? (int)(size / 1024) : 4;
}

void
nodeinfo_format_host_cpu(const HostRoots *roots, GString *buf, int indent)
{
    g_autoptr(GPtrArray) blocks = cpuinfo_blocks(roots);
    g_autoptr(GArray) huge = host_hugepage_sizes(roots->sys_root, SYS_HUGEPAGES_DIR);
    GHashTable *first = blocks->len ? blocks->pdata[0] : NULL;
    NodeInfoData info;

    if (!nodeinfo_get(roots, &info, NULL)) {
        memset(&info, 0, sizeof(info));
        g_strlcpy(info.model, "unknown", sizeof(info.model));
    }

    xml_indent(buf, indent);
    g_string_append(buf, "<cpu>\n");
    xml_indent(buf, indent + 2);
    g_string_append_printf(buf, "<arch>%s</arch>\n", info.model);
    if (first) {
        const char *vendor = cpu_vendor_name(g_hash_table_lookup(first, "vendor_id"));
        const char *microcode = g_hash_table_lookup(first, "microcode");
        const char *family = g_hash_table_lookup(first, "cpu family");
        const char *model = g_hash_table_lookup(first, "model");
        const char *stepping = g_hash_table_lookup(first, "stepping");

        if (vendor) {
            xml_indent(buf, indent + 2);
            g_string_append_printf(buf, "<vendor>%s</vendor>\n", vendor);
        }
        if (microcode) {
            xml_indent(buf, indent + 2);
            g_string_append_printf(buf, "<microcode version='%" G_GUINT64_FORMAT "'/>\n",
                                   g_ascii_strtoull(microcode, NULL, 0));
        }
        if (family && model && stepping) {
            xml_indent(buf, indent + 2);
            g_string_append_printf(buf, "<signature family='%d' model='%d' stepping='%d'/>\n",
                                   atoi(family), atoi(model), atoi(stepping));
        }
    }
    if (info.cpus > 0) {
        xml_indent(buf, indent + 2);
        g_string_append_printf(buf,
                               "<topology sockets='%d' dies='1' cores='%d' threads='%d'/>\n",
                               info.sockets, info.cores, info.threads);
    }
    xml_indent(buf, indent + 2);
    g_string_append_printf(buf, "<pages unit='KiB' size='%d'/>\n", host_page_kib());
    for (guint i = 0; i < huge->len; i++) {
        xml_indent(buf, indent + 2);
        g_string_append_printf(buf, "<pages unit='KiB' size='%d'/>\n",
                               g_array_index(huge, int, i));
    }
    xml_indent(buf, indent);
    g_string_append(buf, "</cpu>\n");
}

static void
format_cell_cpus(GString *buf, int indent, const HostCell *cell)
{
    xml_indent(buf, indent);
    g_string_append_printf(buf, "<cpus num='%u'>\n", cell->cpus->len);
    for (guint i = 0; i < cell->cpus->len; i++) {
        const HostCpu *cpu = &g_array_index(cell->cpus, HostCpu, i);

        xml_indent(buf, indent + 2);
        if (!cpu->online) {
            g_string_append_printf(buf, "<cpu id='%d'/>\n", cpu->id);
            continue;
        }
        g_string_append_printf(buf,
                               "<cpu id='%d' socket_id='%d' die_id='%d' core_id='%d' "
                               "siblings='%s'/>\n",
                               cpu->id, cpu->socket_id, cpu->die_id, cpu->core_id,
                               cpu->siblings);
    }
    xml_indent(buf, indent);
    g_string_append(buf, "</cpus>\n");
}

void
nodeinfo_format_numa_topology(const HostRoots *roots, GString *buf, int indent)
{
    g_autoptr(HostTopology) topo = host_topology_load(roots);
    int page_kib = host_page_kib();

    xml_indent(buf, indent);
    g_string_append(buf, "<topology>\n");
    xml_indent(buf, indent + 2);
    g_string_append_printf(buf, "<cells num='%u'>\n", topo->cells->len);
    for (guint n = 0; n < topo->cells->len; n++) {
        const HostCell *cell = &g_array_index(topo->cells, HostCell, n);
        int in = indent + 6;
        guint64 mem_kib = 0;

        xml_indent(buf, indent + 4);
        g_string_append_printf(buf, "<cell id='%d'>\n", cell->id);

        if (topo->numa) {
            g_autofree char *rel = g_strdup_printf(SYS_NODE_DIR "/node%d/meminfo", cell->id);
            g_autofree char *hrel = g_strdup_printf(SYS_NODE_DIR "/node%d/hugepages", cell->id);
            g_autofree char *drel = g_strdup_printf(SYS_NODE_DIR "/node%d/distance", cell->id);
            g_autofree char *distances = host_read_line(roots->sys_root, drel);
            g_autoptr(GArray) huge = host_hugepage_sizes(roots->sys_root, hrel);
            g_autoptr(GArray) counts = g_array_new(FALSE, TRUE, sizeof(gint64));
            guint64 huge_kib = 0;

            if (!meminfo_read(roots->sys_root, rel, "MemTotal", &mem_kib, NULL))
                mem_kib = 0;
            for (guint i = 0; i < huge->len; i++) {
                int size = g_array_index(huge, int, i);
                g_autofree char *crel = g_strdup_printf("%s/hugepages-%dkB/nr_hugepages", hrel,
                                                        size);
                gint64 count = 0;

                if (!host_read_int(roots->sys_root, crel, &count))
                    count = 0;
                g_array_append_val(counts, count);
                huge_kib += (guint64)count * size;
            }
            xml_indent(buf, in);
            g_string_append_printf(buf, "<memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n",
                                   mem_kib);
            xml_indent(buf, in);
            g_string_append_printf(buf, "<pages unit='KiB' size='%d'>%" G_GUINT64_FORMAT
                                   "</pages>\n",
                                   page_kib,
                                   mem_kib > huge_kib ? (mem_kib - huge_kib) / page_kib : 0);
            for (guint i = 0; i < huge->len; i++) {
                xml_indent(buf, in);
                g_string_append_printf(buf, "<pages unit='KiB' size='%d'>%" G_GINT64_FORMAT
                                       "</pages>\n",
                                       g_array_index(huge, int, i),
                                       g_array_index(counts, gint64, i));
            }
            if (distances && *distances) {
                g_auto(GStrv) values = g_strsplit_set(distances, " \t", -1);
                guint idx = 0;

                xml_indent(buf, in);
                g_string_append(buf, "<distances>\n");
                for (char **v = values; *v; v++) {
                    if (!**v || idx >= topo->cells->len)
                        continue;
                    xml_indent(buf, in + 2);
                    g_string_append_printf(buf, "<sibling id='%d' value='%s'/>\n",
                                           g_array_index(topo->cells, HostCell, idx).id, *v);
                    idx++;
                }
                xml_indent(buf, in);
                g_string_append(buf, "</distances>\n");
            }
        } else {
            if (!meminfo_read(roots->proc_root, "proc/meminfo", "MemTotal", &mem_kib, NULL))
                mem_kib = 0;
            xml_indent(buf, in);
            g_string_append_printf(buf, "<memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n",
                                   mem_kib);
        }
        format_cell_cpus(buf, in, cell);
        xml_indent(buf, indent + 4);
        g_string_append(buf, "</cell>\n");
    }
    xml_indent(buf, indent + 2);
    g_string_append(buf, "</cells>\n");
    xml_indent(buf, indent);
    g_string_append(buf, "</topology>\n");
}
