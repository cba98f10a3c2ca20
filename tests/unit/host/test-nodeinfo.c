/* Node info from canned procfs/sysfs trees (tests/data/host/<case>/), compared with a
 * golden report per case (expected.txt; TEST_REGENERATE=1 rewrites it). */
#include <dlfcn.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "daemon/util/virt-error.h"
#include "drivers/host/nodeinfo.h"
#include "golden.h"

static char *
data_path(const char *first, ...) G_GNUC_NULL_TERMINATED;
static char *
data_path(const char *first, ...)
{
    const char *srcdir = g_getenv("VIRTD_SRCDIR");
    g_autofree char *base = g_build_filename(srcdir ? srcdir : ".", "tests", "data", "host", NULL);
    g_autoptr(GPtrArray) parts = g_ptr_array_new();
    va_list ap;

    g_ptr_array_add(parts, base);
    va_start(ap, first);
    for (const char *p = first; p; p = va_arg(ap, const char *))
        g_ptr_array_add(parts, (gpointer)p);
    va_end(ap);
    g_ptr_array_add(parts, NULL);
    return g_build_filenamev((char **)parts->pdata);
}

static void
report_stats(GString *out, const char *title, const NodeStat *stats, int n)
{
    g_string_append_printf(out, "%s:", title);
    for (int i = 0; i < n; i++)
        g_string_append_printf(out, " %s=%" G_GUINT64_FORMAT, stats[i].field, stats[i].value);
    g_string_append_c(out, '\n');
}

static void
report_error(GString *out, const char *title, GError *err)
{
    g_assert_nonnull(err);
    g_string_append_printf(out, "%s: error domain=%d code=%d: %s\n", title,
                           virt_error_from(err->domain), err->code, err->message);
}

/* Everything the node calls return for one tree, as text. */
static char *
node_report(const HostRoots *roots)
{
    GString *out = g_string_new(NULL);
    g_autoptr(GError) err = NULL;
    g_autofree guint8 *map = NULL;
    NodeStat stats[8];
    guint64 cells[8];
    NodeInfoData info;
    unsigned int online;
    guint64 bytes;
    int n;

    g_assert_true(nodeinfo_get(roots, &info, &err));
    g_assert_no_error(err);
    /* The model is the build host's architecture, not part of the tree. */
    g_string_append_printf(out,
                           "nodeinfo: memory=%" G_GUINT64_FORMAT " cpus=%d mhz=%d nodes=%d "
                           "sockets=%d cores=%d threads=%d\n",
                           info.memory_kib, info.cpus, info.mhz, info.nodes, info.sockets,
                           info.cores, info.threads);

    n = nodeinfo_cpu_map(roots, &map, &online, &err);
    g_assert_no_error(err);
    g_string_append_printf(out, "cpumap: count=%d online=%u map=", n, online);
    for (int i = 0; i < n; i++)
        g_string_append_c(out, map[i / 8] & (1 << (i % 8)) ? 'y' : '-');
    g_string_append_c(out, '\n');

    n = nodeinfo_memory_stats(roots, VIR_NODE_MEMORY_STATS_ALL_CELLS, stats, 8, &err);
    g_assert_no_error(err);
    report_stats(out, "memstats", stats, n);
    for (int cell = 0; cell < 3; cell++) {
        g_autofree char *title = g_strdup_printf("memstats cell %d", cell);

        n = nodeinfo_memory_stats(roots, cell, stats, 8, &err);
        if (n < 0) {
            report_error(out, title, err);
            g_clear_error(&err);
            break;
        }
        report_stats(out, title, stats, n);
    }

    n = nodeinfo_cpu_stats(roots, -1, stats, 8, &err);
    g_assert_no_error(err);
    report_stats(out, "cpustats", stats, n);
    n = nodeinfo_cpu_stats(roots, 1, stats, 8, &err);
    g_assert_no_error(err);
    report_stats(out, "cpustats cpu 1", stats, n);
    n = nodeinfo_cpu_stats(roots, 99, stats, 8, &err);
    g_assert_cmpint(n, ==, -1);
    report_error(out, "cpustats cpu 99", err);
    g_clear_error(&err);

    g_assert_true(nodeinfo_free_memory(roots, &bytes, &err));
    g_string_append_printf(out, "free: %" G_GUINT64_FORMAT "\n", bytes);
    n = nodeinfo_cells_free_memory(roots, 0, 8, cells, &err);
    g_assert_no_error(err);
    g_string_append(out, "cells free:");
    for (int i = 0; i < n; i++)
        g_string_append_printf(out, " %" G_GUINT64_FORMAT, cells[i]);
    g_string_append_c(out, '\n');
    n = nodeinfo_cells_free_memory(roots, 5, 8, cells, &err);
    g_assert_cmpint(n, ==, -1);
    report_error(out, "cells free from 5", err);
    g_clear_error(&err);

    g_string_append(out, "\n");
    nodeinfo_format_host_cpu(roots, out, 0);
    nodeinfo_format_numa_topology(roots, out, 0);
    return g_string_free(out, FALSE);
}

static void
test_case(gconstpointer data)
{
    const char *name = data;
    g_autofree char *root = data_path(name, NULL);
    g_autofree char *golden = data_path(name, "expected.txt", NULL);
    HostRoots roots = { .proc_root = root, .sys_root = root };
    g_autofree char *report = node_report(&roots);

    golden_assert(golden, report);
}

static void
test_this_host_shape(void)
{
    /* The tree copied from the development machine must give what virsh nodeinfo gave
     * against the reference libvirtd there. */
    g_autofree char *root = data_path("1node-2cpu", NULL);
    HostRoots roots = { .proc_root = root, .sys_root = root };
    g_autoptr(GError) err = NULL;
    NodeInfoData info;
    struct utsname uts;

    g_assert_true(nodeinfo_get(&roots, &info, &err));
    g_assert_cmpuint(uname(&uts), ==, 0);
    g_assert_cmpstr(info.model, ==, uts.machine);
    g_assert_cmpuint(info.memory_kib, ==, 4417740);
    g_assert_cmpint(info.cpus, ==, 2);
    g_assert_cmpint(info.mhz, ==, 2596);
    g_assert_cmpint(info.nodes, ==, 1);
    g_assert_cmpint(info.sockets, ==, 1);
    g_assert_cmpint(info.cores, ==, 2);
    g_assert_cmpint(info.threads, ==, 1);
}

static void
test_sysinfo(void)
{
    static const char *const cases[] = { "2node-smt", "1node-2cpu" };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *root = data_path(cases[i], NULL);
        g_autofree char *golden = data_path(cases[i], "sysinfo.xml", NULL);
        HostRoots roots = { .proc_root = root, .sys_root = root };
        g_autoptr(GError) err = NULL;
        g_autofree char *xml = nodeinfo_sysinfo_xml(&roots, &err);

        g_assert_no_error(err);
        golden_assert(golden, xml);
    }
}

static void
test_missing_tree(void)
{
    HostRoots roots = { .proc_root = "/nonexistent", .sys_root = "/nonexistent" };
    g_autoptr(GError) err = NULL;
    NodeInfoData info;

    g_assert_false(nodeinfo_get(&roots, &info, &err));
    g_assert_true(virt_error_is(err, VIR_ERR_SYSTEM_ERROR));
    g_assert_nonnull(strstr(err->message, "/nonexistent/proc/meminfo"));
}

static void
test_real_host(void)
{
    HostRoots roots = { .proc_root = "/", .sys_root = "/" };
    g_autoptr(GError) err = NULL;
    g_autofree char *uuid = nodeinfo_host_uuid();
    NodeInfoData info;

    g_assert_true(nodeinfo_get(&roots, &info, &err));
    g_assert_cmpint(info.cpus, >=, 1);
    g_assert_cmpint(info.nodes * info.sockets * info.cores * info.threads, >=, info.cpus);
    if (uuid) {
        g_assert_cmpuint(strlen(uuid), ==, 36);
        g_assert_cmpint(uuid[8], ==, '-');
        g_assert_cmpint(uuid[23], ==, '-');
    }
}

static void
test_machine_id_text(void)
{
    static const struct {
        const char *text, *uuid;
    } cases[] = {
        { "3d1219c7c4c5404aaa1f6d2a48adfda4\n", "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4" },
        { "3d1219c7c4c5404aaa1f6d2a48adfda4", "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4" },
        /* libdbus trims blanks and hands upper case ids back lowered */
        { " \t3d1219c7c4c5404aaa1f6d2a48adfda4\r\n\n", "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4" },
        { "3D1219C7C4C5404AAA1F6D2A48ADFDA4\n", "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4" },
        { "00000000000000000000000000000000\n", "00000000-0000-0000-0000-000000000000" },
        /* and refuses anything else */
        { "3d1219c7c4c5404aaa1f6d2a48adfda\n", NULL },      /* 31 digits */
        { "3d1219c7c4c5404aaa1f6d2a48adfda40\n", NULL },    /* 33 */
        { "3d1219c7c4c5404aaa1f6d2a48adfdag\n", NULL },     /* not hex */
        { "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4\n", NULL }, /* already a UUID */
        { "3d1219c7c4c5404aaa1f6d2a48adfda4\nmore\n", NULL },
        { "3d1219c7c4c5404aaa1f6d2a48adfda4\v", NULL },     /* not a blank to libdbus */
        { "3d1219c7 c4c5404aaa1f6d2a48adfda4\n", NULL },
        { "\n", NULL },
        { "", NULL },
        { NULL, NULL },
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *uuid = nodeinfo_uuid_from_machine_id(cases[i].text);

        g_assert_cmpstr(uuid, ==, cases[i].uuid);
    }
}

static void
test_machine_id_files(void)
{
    g_autofree char *dir = g_dir_make_tmp("virtd-machine-id-XXXXXX", NULL);
    g_autofree char *first = g_build_filename(dir, "var-lib-dbus-machine-id", NULL);
    g_autofree char *second = g_build_filename(dir, "etc-machine-id", NULL);
    const char *const paths[] = { first, second, NULL };
    char *uuid;

    /* neither there */
    g_assert_null(nodeinfo_host_uuid_from_files(paths));
    /* the second when the first is missing, bad or has a NUL in it */
    g_assert_true(g_file_set_contents(second, "11111111222233334444555555555555\n", -1, NULL));
    uuid = nodeinfo_host_uuid_from_files(paths);
    g_assert_cmpstr(uuid, ==, "11111111-2222-3333-4444-555555555555");
    g_free(uuid);
    g_assert_true(g_file_set_contents(first, "not a machine id\n", -1, NULL));
    uuid = nodeinfo_host_uuid_from_files(paths);
    g_assert_cmpstr(uuid, ==, "11111111-2222-3333-4444-555555555555");
    g_free(uuid);
    g_assert_true(g_file_set_contents(first, "3d1219c7c4c5404aaa1f6d2a48adfda4\0\n", 34, NULL));
    uuid = nodeinfo_host_uuid_from_files(paths);
    g_assert_cmpstr(uuid, ==, "11111111-2222-3333-4444-555555555555");
    g_free(uuid);
    /* the first wins when good */
    g_assert_true(g_file_set_contents(first, "3d1219c7c4c5404aaa1f6d2a48adfda4\n", -1, NULL));
    uuid = nodeinfo_host_uuid_from_files(paths);
    g_assert_cmpstr(uuid, ==, "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4");
    g_free(uuid);
    /* both bad */
    g_assert_true(g_file_set_contents(second, "3d1219c7\n", -1, NULL));
    g_assert_true(g_file_set_contents(first, "", -1, NULL));
    g_assert_null(nodeinfo_host_uuid_from_files(paths));

    g_unlink(first);
    g_unlink(second);
    g_rmdir(dir);
}

/* The host UUID is what libdbus said it was before virtd read the files itself. */
static void
test_host_uuid_as_libdbus(void)
{
    g_autofree char *uuid = nodeinfo_host_uuid();
    void *libdbus = dlopen("libdbus-1.so.3", RTLD_NOW | RTLD_LOCAL);
    char *(*get_local_machine_id)(void);
    void (*libdbus_free)(void *);
    char *id;

    /* libdbus may abort the process (a fatal warning) on a host without a machine id */
    if (!libdbus || !uuid) {
        g_test_skip(libdbus ? "no machine id on this host" : "libdbus-1.so.3 is not installed");
        if (libdbus)
            dlclose(libdbus);
        return;
    }
    *(void **)&get_local_machine_id = dlsym(libdbus, "dbus_get_local_machine_id");
    *(void **)&libdbus_free = dlsym(libdbus, "dbus_free");
    g_assert_nonnull(get_local_machine_id);
    g_assert_nonnull(libdbus_free);
    id = get_local_machine_id();
    g_autofree char *expected = nodeinfo_uuid_from_machine_id(id);
    libdbus_free(id);
    g_assert_cmpstr(uuid, ==, expected);
    dlclose(libdbus);
}

int
main(int argc, char **argv)
{
    static const char *const cases[] = { "1node-2cpu", "2node-smt", "offline-cpus", "no-numa" };

    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/host/nodeinfo/%s", cases[i]);

        g_test_add_data_func(path, cases[i], test_case);
    }
    g_test_add_func("/host/nodeinfo/this-host-shape", test_this_host_shape);
    g_test_add_func("/host/nodeinfo/sysinfo", test_sysinfo);
    g_test_add_func("/host/nodeinfo/missing-tree", test_missing_tree);
    g_test_add_func("/host/nodeinfo/real-host", test_real_host);
    g_test_add_func("/host/nodeinfo/machine-id-text", test_machine_id_text);
    g_test_add_func("/host/nodeinfo/machine-id-files", test_machine_id_files);
    g_test_add_func("/host/nodeinfo/host-uuid-as-libdbus", test_host_uuid_as_libdbus);
    return g_test_run();
}
