/* The pure parts of vcpupin / emulatorpin / iothreadpin and numatune (qemu-pin.h):
 * cpumaps -> CPU lists and their errors, pin lists of a definition, numatune parameters,
 * live rules, and the automatic node choice over fake host trees (tests/data/host). */
#include <string.h>

#include "daemon/util/virt-error.h"
#include "drivers/qemu/qemu-pin.h"
#include "xml/domain-conf-priv.h"

static DomainDef *
parse(const char *body)
{
    g_autofree char *xml = g_strdup_printf("<domain type='qemu'><name>pin1</name>"
                                           "<memory unit='MiB'>256</memory>%s"
                                           "<os><type arch='x86_64'>hvm</type></os>"
                                           "</domain>",
                                           body);
    g_autoptr(GError) err = NULL;
    DomainDef *def = domain_def_parse(xml, 0, &err);
    g_assert_no_error(err);
    return def;
}

static char *
format_body(const DomainDef *def, const char *element)
{
    g_autofree char *xml = domain_def_format(def, -1, 0);
    g_autofree char *open = g_strdup_printf("<%s", element);
    g_autofree char *close = g_strdup_printf("</%s>", element);
    const char *start = strstr(xml, open);
    if (!start)
        return g_strdup("");
    const char *end = strstr(start, close);
    if (!end) /* <numatune> always has children; <vcpu> ends on its own line */
        end = strchr(start, '\n');
    else
        end += strlen(close);
    g_autofree char *raw = g_strndup(start, end - start);
    g_auto(GStrv) lines = g_strsplit(raw, "\n", -1);
    for (guint i = 0; lines[i]; i++)
        g_strstrip(lines[i]);
    return g_strjoinv("", lines);
}

static GArray *
host_cpus(const char *list)
{
    return numa_list_parse(list, "CPU list", NULL);
}

static void
test_cpumap_check(void)
{
    g_autoptr(GArray) two = host_cpus("0-1");
    static const struct {
        guint8 map[4];
        int maplen;
        const char *result; /* the list or the error */
        gboolean ok;
    } cases[] = {
        {{0x02}, 1, "1", TRUE},
        {{0x03}, 1, "0-1", TRUE},
        {{0x03, 0x00}, 2, "0-1", TRUE},
        {{0x00}, 1, "cannot pin vCPU 0 of domain 'pin1' to an empty CPU list", FALSE},
        {{0x00}, 0, "cannot pin vCPU 0 of domain 'pin1' to an empty CPU list", FALSE},
        {{0x00, 0x00, 0x00, 0x00}, 4,
         "cannot pin vCPU 0 of domain 'pin1' to an empty CPU list", FALSE},
        {{0x01, 0x00, 0x00, 0x00}, 4, "0", TRUE},
        /* CPU 99 is bit 3 of byte 12: map of 13 bytes below */
        {{0x04}, 1, "cannot pin vCPU 0 of domain 'pin1' to CPU 2: this host has CPUs 0-1",
         FALSE},
        {{0xff}, 1,
         "cannot pin vCPU 0 of domain 'pin1' to CPUs 2-7: this host has CPUs 0-1", FALSE},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autofree char *cpus = qemu_pin_cpumap_check(cases[i].map, cases[i].maplen, two,
                                                      "vCPU 0 of domain 'pin1'", &err);
        if (cases[i].ok) {
            g_assert_no_error(err);
            g_assert_cmpstr(cpus, ==, cases[i].result);
        } else {
            g_assert_null(cpus);
            g_assert_error(err, virt_error_quark(VIR_FROM_QEMU), VIR_ERR_INVALID_ARG);
            g_assert_cmpstr(err->message, ==, cases[i].result);
        }
    }

    guint8 cpu99[13] = {0};
    cpu99[99 / 8] = 1 << (99 % 8);
    g_autoptr(GError) err = NULL;
    g_assert_null(qemu_pin_cpumap_check(cpu99, sizeof(cpu99), two,
                                        "the emulator threads of domain 'pin1'", &err));
    g_assert_cmpstr(err->message, ==,
                    "cannot pin the emulator threads of domain 'pin1' to CPU 99: this host "
                    "has CPUs 0-1");
}

static void
test_pin_lists(void)
{
    g_autoptr(DomainDef) def = parse("<vcpu>4</vcpu><iothreads>2</iothreads>"
                                     "<cputune><vcpupin vcpu='2' cpuset='0'/></cputune>");
    qemu_pin_set(&def->vcpupins, 3, "1");
    qemu_pin_set(&def->vcpupins, 0, "0-1");
    qemu_pin_set(&def->vcpupins, 2, "1");
    qemu_pin_set(&def->iothreadpins, 2, "0");
    g_free(def->emulatorpin);
    def->emulatorpin = g_strdup("1");
    g_assert_cmpstr(qemu_pin_find(&def->vcpupins, 2), ==, "1");
    g_assert_null(qemu_pin_find(&def->vcpupins, 1));
    g_autofree char *body = format_body(def, "cputune");
    g_assert_cmpstr(body, ==,
                    "<cputune><vcpupin vcpu='0' cpuset='0-1'/><vcpupin vcpu='2' cpuset='1'/>"
                    "<vcpupin vcpu='3' cpuset='1'/><emulatorpin cpuset='1'/>"
                    "<iothreadpin iothread='2' cpuset='0'/></cputune>");
}

static GArray *
numa_params(int mode, const char *nodeset)
{
    GArray *params = domain_params_new();
    if (mode != -2)
        domain_params_add_int(params, VIR_DOMAIN_NUMA_MODE, mode);
    if (nodeset)
        domain_params_add_string(params, VIR_DOMAIN_NUMA_NODESET, nodeset);
    return params;
}

static void
test_numa_parse(void)
{
    static const struct {
        int mode; /* -2: absent */
        const char *nodeset;
        int want_mode;
        const char *want_nodeset; /* or the error */
        gboolean ok;
    } cases[] = {
        {0, "0", 0, "0", TRUE},
        {-2, "2,0-1", -1, "0-2", TRUE},
        {3, NULL, 3, NULL, TRUE},
        {4, NULL, 0,
         "NUMA mode 4 is not valid (0 strict, 1 preferred, 2 interleave, 3 restrictive)",
         FALSE},
        {-1, NULL, 0,
         "NUMA mode -1 is not valid (0 strict, 1 preferred, 2 interleave, 3 restrictive)",
         FALSE},
        {-2, "", 0, "'' is not a valid nodeset", FALSE},
        {-2, "0-", 0, "'0-' is not a valid nodeset", FALSE},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GArray) params = numa_params(cases[i].mode, cases[i].nodeset);
        g_autoptr(GError) err = NULL;
        int mode = 99;
        g_autofree char *nodeset = NULL;
        gboolean ok = qemu_numa_params_parse(params, &mode, &nodeset, &err);
        g_assert_cmpint(ok, ==, cases[i].ok);
        if (ok) {
            g_assert_cmpint(mode, ==, cases[i].want_mode);
            g_assert_cmpstr(nodeset, ==, cases[i].want_nodeset);
        } else {
            g_assert_error(err, virt_error_quark(cases[i].mode == -2 ? VIR_FROM_NONE
                                                                       : VIR_FROM_QEMU),
                           VIR_ERR_INVALID_ARG);
            g_assert_cmpstr(err->message, ==, cases[i].want_nodeset);
        }
    }

    /* Names and types come from domain_params_validate. */
    g_autoptr(GArray) params = domain_params_new();
    domain_params_add_string(params, VIR_DOMAIN_NUMA_MODE, "strict");
    g_autoptr(GError) err = NULL;
    int mode;
    char *nodeset = NULL;
    g_assert_false(qemu_numa_params_parse(params, &mode, &nodeset, &err));
    g_assert_cmpstr(err->message, ==, "parameter 'numa_mode' must be of type 'int', not 'string'");
}

static void
test_numa_update(void)
{
    static const struct {
        const char *numatune;
        int mode;
        const char *nodeset;
        gboolean live;
        const char *result; /* the <numatune> after, or the error */
    } cases[] = {
        /* config: anything */
        {"", 2, "0-1", FALSE, "<numatune><memory mode='interleave' nodeset='0-1'/></numatune>"},
        {"<numatune><memory mode='strict' placement='auto'/></numatune>", -1, "1", FALSE,
         "<numatune><memory mode='strict' nodeset='1'/></numatune>"},
        {"<numatune><memory mode='strict' nodeset='0'/></numatune>", 1, NULL, FALSE,
         "<numatune><memory mode='preferred' nodeset='0'/></numatune>"},
        /* live: the nodeset in strict and restrictive modes, the same mode again */
        {"", -1, "0", TRUE, "<numatune><memory mode='strict' nodeset='0'/></numatune>"},
        {"<numatune><memory mode='restrictive' nodeset='0'/></numatune>", 3, "1", TRUE,
         "<numatune><memory mode='restrictive' nodeset='1'/></numatune>"},
        {"<numatune><memory mode='strict' placement='auto' nodeset='1'/></numatune>", -1, "0",
         TRUE, "<numatune><memory mode='strict' nodeset='0'/></numatune>"},
        {"", 2, NULL, TRUE,
         "cannot change the NUMA memory mode of running domain 'pin1' from 'strict' to "
         "'interleave': QEMU's memory policy is fixed when it starts"},
        {"<numatune><memory mode='interleave' nodeset='0'/></numatune>", -1, "0", TRUE,
         "cannot change the NUMA nodeset of running domain 'pin1' in mode 'interleave': only "
         "modes 'strict' and 'restrictive' can change live"},
        {"<numatune><memory mode='preferred' nodeset='0'/></numatune>", 0, NULL, TRUE,
         "cannot change the NUMA memory mode of running domain 'pin1' from 'preferred' to "
         "'strict': QEMU's memory policy is fixed when it starts"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(DomainDef) def = parse(cases[i].numatune);
        g_autoptr(GError) err = NULL;
        if (qemu_numa_def_update(def, "pin1", cases[i].mode, cases[i].nodeset, cases[i].live,
                                 &err)) {
            g_autofree char *body = format_body(def, "numatune");
            g_assert_cmpstr(body, ==, cases[i].result);
        } else {
            g_assert_error(err, virt_error_quark(VIR_FROM_QEMU), VIR_ERR_OPERATION_INVALID);
            g_assert_cmpstr(err->message, ==, cases[i].result);
        }
    }
}

static void
test_numa_params_from_def(void)
{
    static const struct {
        const char *numatune;
        int mode;
        const char *nodeset;
    } cases[] = {
        {"", VIR_DOMAIN_NUMATUNE_MEM_STRICT, ""},
        {"<numatune><memory mode='interleave' nodeset='0-1'/></numatune>",
         VIR_DOMAIN_NUMATUNE_MEM_INTERLEAVE, "0-1"},
        {"<numatune><memory mode='restrictive' placement='auto'/></numatune>",
         VIR_DOMAIN_NUMATUNE_MEM_RESTRICTIVE, ""},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(DomainDef) def = parse(cases[i].numatune);
        g_autoptr(GArray) params = qemu_numa_params_from_def(def);
        g_assert_cmpuint(params->len, ==, 2);
        const DomainTypedParam *p = &g_array_index(params, DomainTypedParam, 0);
        g_assert_cmpstr(p->field, ==, "numa_mode");
        g_assert_cmpint(p->type, ==, VIR_TYPED_PARAM_INT);
        g_assert_cmpint(p->value.i, ==, cases[i].mode);
        p = &g_array_index(params, DomainTypedParam, 1);
        g_assert_cmpstr(p->field, ==, "numa_nodeset");
        g_assert_cmpint(p->type, ==, VIR_TYPED_PARAM_STRING);
        g_assert_cmpstr(p->value.s, ==, cases[i].nodeset);
    }
}

static GArray *
host_nodes(const char *tree)
{
    const char *srcdir = g_getenv("VIRTD_SRCDIR");
    g_autofree char *root = g_build_filename(srcdir ? srcdir : ".", "tests", "data", "host",
                                             tree, NULL);
    HostRoots roots = {.proc_root = root, .sys_root = root};
    g_autoptr(GError) err = NULL;
    GArray *nodes = numa_nodes_load(&roots, &err);
    g_assert_no_error(err);
    return nodes;
}

static void
test_auto_nodeset(void)
{
    g_autoptr(GArray) three = host_nodes("numa-3node");
    static const struct {
        const char *body;
        const char *nodeset; /* NULL: no automatic placement */
    } cases[] = {
        {"<vcpu>2</vcpu>", NULL},
        {"<vcpu>2</vcpu><numatune><memory mode='strict' nodeset='0'/></numatune>", NULL},
        /* 256 MiB fit on node 1, the one with the most free memory */
        {"<vcpu>2</vcpu><numatune><memory mode='strict' placement='auto'/></numatune>", "1"},
        {"<vcpu placement='auto'>2</vcpu>", "1"},
        /* a static nodeset wins over <vcpu placement='auto'> */
        {"<vcpu placement='auto'>2</vcpu>"
         "<numatune><memory mode='strict' nodeset='0'/></numatune>",
         NULL},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(DomainDef) def = parse(cases[i].body);
        g_autofree char *nodeset = qemu_numa_auto_nodeset(three, def);
        g_assert_cmpstr(nodeset, ==, cases[i].nodeset);
    }

    /* 7 GiB do not fit on one node: nodes 1 and 2 hold them together. */
    g_autoptr(DomainDef) big = parse("<numatune><memory mode='strict' placement='auto'/>"
                                     "</numatune>");
    big->memory_kib = 7 * 1024 * 1024;
    g_autofree char *nodeset = qemu_numa_auto_nodeset(three, big);
    g_assert_cmpstr(nodeset, ==, "1-2");
}

/* What a start does before QEMU runs, on a fake 3-node host. */
static void
test_prepare(void)
{
    const char *srcdir = g_getenv("VIRTD_SRCDIR");
    g_autofree char *root = g_build_filename(srcdir ? srcdir : ".", "tests", "data", "host",
                                             "numa-3node", NULL);
    QemuDriver drv = {.cfg.host = {.proc_root = root, .sys_root = root}};
    static const struct {
        const char *body;
        const char *result; /* <vcpu>...<numatune> after, or the error */
    } cases[] = {
        {"<vcpu placement='auto'>2</vcpu>",
         "<vcpu placement='auto' cpuset='2-3'>2</vcpu>"
         "<numatune><memory mode='strict' nodeset='1' placement='auto'/></numatune>"},
        {"<vcpu>2</vcpu><numatune><memory mode='interleave' placement='auto'/></numatune>",
         "<vcpu placement='static'>2</vcpu>"
         "<numatune><memory mode='interleave' nodeset='1' placement='auto'/></numatune>"},
        {"<vcpu>2</vcpu><numatune><memory mode='strict' nodeset='0,2'/></numatune>",
         "<vcpu placement='static'>2</vcpu>"
         "<numatune><memory mode='strict' nodeset='0,2'/></numatune>"},
        {"<vcpu>2</vcpu><numatune><memory mode='strict' nodeset='0,5'/></numatune>",
         "numatune of domain 'pin1': NUMA node 5 does not exist on this host (it has 0-2)"},
        {"<vcpu>2</vcpu><numatune><memnode cellid='0' mode='strict' nodeset='3-4'/>"
         "</numatune>",
         "numatune memnode of cell '0' of domain 'pin1': NUMA nodes 3-4 do not exist on this "
         "host (it has 0-2)"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(DomainDef) def = parse(cases[i].body);
        g_autoptr(GError) err = NULL;
        if (qemu_numa_prepare(&drv, def, &err)) {
            g_autofree char *vcpu = format_body(def, "vcpu");
            g_autofree char *numatune = format_body(def, "numatune");
            g_autofree char *both = g_strconcat(vcpu, numatune, NULL);
            g_assert_cmpstr(both, ==, cases[i].result);
        } else {
            g_assert_error(err, virt_error_quark(VIR_FROM_NONE), VIR_ERR_INVALID_ARG);
            g_assert_cmpstr(err->message, ==, cases[i].result);
        }
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu/pin/cpumap-check", test_cpumap_check);
    g_test_add_func("/qemu/pin/pin-lists", test_pin_lists);
    g_test_add_func("/qemu/pin/numa-parse", test_numa_parse);
    g_test_add_func("/qemu/pin/numa-update", test_numa_update);
    g_test_add_func("/qemu/pin/numa-params-from-def", test_numa_params_from_def);
    g_test_add_func("/qemu/pin/auto-nodeset", test_auto_nodeset);
    g_test_add_func("/qemu/pin/prepare", test_prepare);
    return g_test_run();
}
