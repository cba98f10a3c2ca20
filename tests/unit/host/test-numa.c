/* Host NUMA nodes from fake sysfs trees (tests/data/host/<case>/) and the pure list and
 * placement functions of drivers/host/numa.h. */
#include <stdio.h>
#include <string.h>

#include "daemon/util/virt-error.h"
#include "drivers/host/numa.h"

static char *
case_root(const char *name)
{
    const char *srcdir = g_getenv("VIRTD_SRCDIR");

    return g_build_filename(srcdir ? srcdir : ".", "tests", "data", "host", name, NULL);
}

static GArray *
load_case(const char *name)
{
    g_autofree char *root = case_root(name);
    HostRoots roots = {.proc_root = root, .sys_root = root};
    g_autoptr(GError) err = NULL;
    GArray *nodes = numa_nodes_load(&roots, &err);

    g_assert_no_error(err);
    g_assert_nonnull(nodes);
    return nodes;
}

/* "id:cpus:total/free id:..." */
static char *
describe(const GArray *nodes)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < nodes->len; i++) {
        const HostNumaNode *n = &g_array_index(nodes, HostNumaNode, i);

        g_string_append_printf(out, "%s%d:%s:%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
                               i ? " " : "", n->id, n->cpus, n->total_kib, n->free_kib);
    }
    return g_string_free(out, FALSE);
}

static void
test_load(void)
{
    static const struct {
        const char *tree;
        const char *expected;
    } cases[] = {
        {"numa-3node", "0:0-1:4194304/1048576 1:2-3:8388608/6291456 2::2097152/2000000"},
        {"2node-smt", "0:0-1,4-5:32768000/30000000 1:2-3,6-7:32768000/29000000"},
        /* No NUMA information: one node with every present CPU and all memory. */
        {"no-numa", "0:0-3:8000000/4000000"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GArray) nodes = load_case(cases[i].tree);
        g_autofree char *text = describe(nodes);

        g_assert_cmpstr(text, ==, cases[i].expected);
    }
}

static void
test_load_broken(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("numa-XXXXXX", NULL);
    g_autofree char *node = g_build_filename(dir, "sys/devices/system/node/node0", NULL);
    g_autofree char *meminfo = g_build_filename(node, "meminfo", NULL);
    g_autofree char *expected = g_strdup_printf("no MemTotal or MemFree in '%s'", meminfo);
    HostRoots roots = {.proc_root = dir, .sys_root = dir};

    g_assert_cmpint(g_mkdir_with_parents(node, 0700), ==, 0);
    g_assert_true(g_file_set_contents(meminfo, "Node 0 Active: 1 kB\n", -1, NULL));
    g_assert_null(numa_nodes_load(&roots, &err));
    g_assert_error(err, virt_error_quark(VIR_FROM_NONE), VIR_ERR_OPERATION_FAILED);
    g_assert_cmpstr(err->message, ==, expected);
    g_assert_cmpint(remove(meminfo), ==, 0);
    while (strcmp(node, dir) != 0) { /* node0 up to sys */
        g_autofree char *up = g_path_get_dirname(node);

        g_assert_cmpint(remove(node), ==, 0);
        g_free(node);
        node = g_steal_pointer(&up);
    }
}

static void
test_lists(void)
{
    static const struct {
        const char *in;
        const char *out; /* NULL: refused */
    } cases[] = {
        {"0", "0"},
        {"3,1,2", "1-3"},
        {"0-3,^2,6", "0-1,3,6"},
        {" 0 - 1", NULL},
        {"0-3,^1-2", NULL},
        {"1,1,1", "1"},
        {"5-2", NULL},
        {"", NULL},
        {"^0", NULL},
        {"0,^0", NULL},
        {"a", NULL},
        {"0-", NULL},
        {"1,", NULL},
        {"65535", "65535"},
        {"65536", NULL},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(GArray) ids = numa_list_parse(cases[i].in, "CPU list", &err);

        if (!cases[i].out) {
            g_autofree char *expected = g_strdup_printf("'%s' is not a valid CPU list",
                                                        cases[i].in);

            g_assert_null(ids);
            g_assert_error(err, virt_error_quark(VIR_FROM_NONE), VIR_ERR_INVALID_ARG);
            g_assert_cmpstr(err->message, ==, expected);
        } else {
            g_autofree char *text = numa_list_format(ids);

            g_assert_no_error(err);
            g_assert_cmpstr(text, ==, cases[i].out);
        }
    }
}

static void
test_map(void)
{
    const guint8 map[] = {0x0b, 0x00, 0x81};
    const guint8 empty[] = {0x00, 0x00};
    g_autofree char *list = numa_list_from_map(map, sizeof(map));

    g_assert_cmpstr(list, ==, "0-1,3,16,23");
    g_assert_null(numa_list_from_map(empty, sizeof(empty)));
    g_assert_null(numa_list_from_map(empty, 0));
}

static void
test_check_nodeset(void)
{
    g_autoptr(GArray) nodes = load_case("numa-3node");
    static const struct {
        const char *nodeset;
        const char *result; /* the canonical nodeset or the error */
    } cases[] = {
        {"2,0", "0,2"},
        {"0-2", "0-2"},
        {"5", "NUMA node 5 does not exist on this host (it has 0-2)"},
        {"1,3-4,7", "NUMA nodes 3-4,7 do not exist on this host (it has 0-2)"},
        {"1,x", "'1,x' is not a valid nodeset"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autofree char *out = NULL;

        if (numa_check_nodeset(nodes, cases[i].nodeset, &out, &err)) {
            g_assert_cmpstr(out, ==, cases[i].result);
        } else {
            g_assert_error(err, virt_error_quark(VIR_FROM_NONE), VIR_ERR_INVALID_ARG);
            g_assert_cmpstr(err->message, ==, cases[i].result);
        }
    }
}

static void
test_pick(void)
{
    g_autoptr(GArray) three = load_case("numa-3node");
    g_autoptr(GArray) two = load_case("2node-smt");
    g_autoptr(GArray) one = load_case("no-numa");
    static const struct {
        int tree; /* 3, 2 or 1 */
        guint64 need_kib;
        const char *expected;
    } cases[] = {
        {3, 262144, "1"},    /* node 1 has the most free memory */
        {3, 6291456, "1"},   /* exactly fits */
        {3, 7000000, "1-2"}, /* 6291456 + 2000000 (node 2 before node 0) */
        {3, 9000000, "0-2"}, /* 6291456 + 2000000 + 1048576 */
        {3, 99999999, "0-2"}, /* nothing fits: every node */
        {2, 1024, "0"},      /* node 0 has more free memory */
        {2, 40000000, "0-1"},
        {1, 1024, "0"},
        {1, 99999999, "0"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        const GArray *nodes = cases[i].tree == 3 ? three : cases[i].tree == 2 ? two : one;
        g_autofree char *picked = numa_pick_nodes(nodes, cases[i].need_kib);

        g_assert_cmpstr(picked, ==, cases[i].expected);
    }
}

static void
test_nodeset_cpus(void)
{
    g_autoptr(GArray) nodes = load_case("numa-3node");
    g_autofree char *a = numa_nodeset_cpus(nodes, "0-1");
    g_autofree char *b = numa_nodeset_cpus(nodes, "1,2");
    g_autofree char *c = numa_nodeset_cpus(nodes, "2");

    g_assert_cmpstr(a, ==, "0-3");
    g_assert_cmpstr(b, ==, "2-3");
    g_assert_cmpstr(c, ==, "");
}

static void
test_real_host(void)
{
    HostRoots roots = {.proc_root = "/", .sys_root = "/"};
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) nodes = numa_nodes_load(&roots, &err);

    g_assert_no_error(err);
    g_assert_cmpuint(nodes->len, >=, 1);
    for (guint i = 0; i < nodes->len; i++) {
        const HostNumaNode *n = &g_array_index(nodes, HostNumaNode, i);

        g_assert_cmpuint(n->free_kib, <=, n->total_kib);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/host/numa/load", test_load);
    g_test_add_func("/host/numa/load-broken", test_load_broken);
    g_test_add_func("/host/numa/lists", test_lists);
    g_test_add_func("/host/numa/map", test_map);
    g_test_add_func("/host/numa/check-nodeset", test_check_nodeset);
    g_test_add_func("/host/numa/pick", test_pick);
    g_test_add_func("/host/numa/nodeset-cpus", test_nodeset_cpus);
    g_test_add_func("/host/numa/real-host", test_real_host);
    return g_test_run();
}
