/* The pure part of schedinfo, memtune and blkiotune: typed parameters checked against
 * libvirt's names, types and ranges, and moved in and out of <cputune>, <memtune> and
 * <blkiotune>. Every message a client can see is pinned here. */
#include <string.h>

#include "daemon/util/virt-error.h"
#include "drivers/qemu/qemu-tune.h"

#define UNLIMITED ((guint64)VIR_DOMAIN_MEMORY_PARAM_UNLIMITED)

static DomainDef *
parse_def(const char *body)
{
    g_autofree char *xml = g_strdup_printf("<domain type='qemu'><name>t</name>"
                                           "<memory unit='MiB'>128</memory><vcpu>2</vcpu>"
                                           "<os><type arch='x86_64'>hvm</type></os>%s"
                                           "</domain>",
                                           body);
    g_autoptr(GError) error = NULL;
    DomainDef *def = domain_def_parse(xml, 0, &error);
    g_assert_no_error(error);
    return def;
}

static void
assert_error(GError *error, int code, const char *message)
{
    g_assert_nonnull(error);
    g_assert_true(virt_error_is(error, code));
    g_assert_cmpstr(error->message, ==, message);
}

static const DomainTypedParam *
param_at(GArray *params, guint i)
{
    return &g_array_index(params, DomainTypedParam, i);
}

/* ---- schedinfo ---- */

static void
test_sched_check(void)
{
    g_autoptr(GArray) ok = domain_params_new();
    domain_params_add_ullong(ok, "cpu_shares", 2);
    domain_params_add_ullong(ok, "vcpu_period", 1000);
    domain_params_add_llong(ok, "vcpu_quota", -1);
    domain_params_add_ullong(ok, "emulator_period", 1000000);
    domain_params_add_llong(ok, "emulator_quota", 17592186044415LL);
    domain_params_add_ullong(ok, "global_period", 0);
    domain_params_add_llong(ok, "global_quota", 0);
    domain_params_add_ullong(ok, "iothread_period", 100000);
    domain_params_add_llong(ok, "iothread_quota", 1000);
    g_autoptr(GError) error = NULL;
    g_assert_true(qemu_tune_sched_check(ok, CGROUP_MODE_V1, &error));
    g_assert_no_error(error);

    static const struct {
        const char *field;
        int type;
        gint64 value;
        CgroupMode mode;
        int code;
        const char *message;
    } bad[] = {
        {"cpu_shares", VIR_TYPED_PARAM_ULLONG, 1, CGROUP_MODE_V1, VIR_ERR_INVALID_ARG,
         "value 1 of parameter 'cpu_shares' is out of range: 2-262144 on cgroup v1"},
        {"cpu_shares", VIR_TYPED_PARAM_ULLONG, 262145, CGROUP_MODE_HYBRID, VIR_ERR_INVALID_ARG,
         "value 262145 of parameter 'cpu_shares' is out of range: 2-262144 on cgroup v1"},
        {"cpu_shares", VIR_TYPED_PARAM_ULLONG, 10001, CGROUP_MODE_V2, VIR_ERR_INVALID_ARG,
         "value 10001 of parameter 'cpu_shares' is out of range: 1-10000 on cgroup v2"},
        {"vcpu_period", VIR_TYPED_PARAM_ULLONG, 999, CGROUP_MODE_V1, VIR_ERR_INVALID_ARG,
         "value 999 of parameter 'vcpu_period' is out of range: 0 (unset) or 1000-1000000 "
         "(us)"},
        {"global_period", VIR_TYPED_PARAM_ULLONG, 1000001, CGROUP_MODE_V2, VIR_ERR_INVALID_ARG,
         "value 1000001 of parameter 'global_period' is out of range: 0 (unset) or "
         "1000-1000000 (us)"},
        {"vcpu_quota", VIR_TYPED_PARAM_LLONG, 999, CGROUP_MODE_V1, VIR_ERR_INVALID_ARG,
         "value 999 of parameter 'vcpu_quota' is out of range: 0 (unset), -1 (no limit) or "
         "1000-17592186044415 (us)"},
        {"emulator_quota", VIR_TYPED_PARAM_LLONG, -2, CGROUP_MODE_V1, VIR_ERR_INVALID_ARG,
         "value -2 of parameter 'emulator_quota' is out of range: 0 (unset), -1 (no limit) "
         "or 1000-17592186044415 (us)"},
        {"iothread_quota", VIR_TYPED_PARAM_LLONG, 17592186044416LL, CGROUP_MODE_V1,
         VIR_ERR_INVALID_ARG,
         "value 17592186044416 of parameter 'iothread_quota' is out of range: 0 (unset), -1 "
         "(no limit) or 1000-17592186044415 (us)"},
        {"vcpu_quota", VIR_TYPED_PARAM_ULLONG, 20000, CGROUP_MODE_V1, VIR_ERR_INVALID_ARG,
         "parameter 'vcpu_quota' must be of type 'llong', not 'ullong'"},
        {"cpu_shares", VIR_TYPED_PARAM_UINT, 20000, CGROUP_MODE_V1, VIR_ERR_INVALID_ARG,
         "parameter 'cpu_shares' must be of type 'ullong', not 'uint'"},
        {"vcpu_shares", VIR_TYPED_PARAM_ULLONG, 1, CGROUP_MODE_V1, VIR_ERR_ARGUMENT_UNSUPPORTED,
         "parameter 'vcpu_shares' is not supported (known: cpu_shares, vcpu_period, "
         "vcpu_quota, emulator_period, emulator_quota, global_period, global_quota, "
         "iothread_period, iothread_quota)"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GArray) params = domain_params_new();
        if (bad[i].type == VIR_TYPED_PARAM_LLONG)
            domain_params_add_llong(params, bad[i].field, bad[i].value);
        else if (bad[i].type == VIR_TYPED_PARAM_UINT)
            domain_params_add_uint(params, bad[i].field, bad[i].value);
        else
            domain_params_add_ullong(params, bad[i].field, bad[i].value);
        g_autoptr(GError) err = NULL;
        g_assert_false(qemu_tune_sched_check(params, bad[i].mode, &err));
        assert_error(err, bad[i].code, bad[i].message);
    }
}

static void
test_sched_def(void)
{
    g_autoptr(DomainDef) def = parse_def("<cputune><shares>2048</shares><period>50000</period>"
                                         "<quota>-1</quota><emulator_quota>3000</emulator_quota>"
                                         "</cputune>");
    gint64 v[DOMAIN_CPUTUNE_LAST];
    qemu_tune_sched_from_def(def, v);
    g_autoptr(GArray) params = qemu_tune_sched_params(v);

    /* libvirt's order and types, 0 for what the definition does not say */
    static const struct {
        const char *field;
        int type;
        gint64 value;
    } want[] = {
        {"cpu_shares", VIR_TYPED_PARAM_ULLONG, 2048},
        {"vcpu_period", VIR_TYPED_PARAM_ULLONG, 50000},
        {"vcpu_quota", VIR_TYPED_PARAM_LLONG, -1},
        {"emulator_period", VIR_TYPED_PARAM_ULLONG, 0},
        {"emulator_quota", VIR_TYPED_PARAM_LLONG, 3000},
        {"global_period", VIR_TYPED_PARAM_ULLONG, 0},
        {"global_quota", VIR_TYPED_PARAM_LLONG, 0},
        {"iothread_period", VIR_TYPED_PARAM_ULLONG, 0},
        {"iothread_quota", VIR_TYPED_PARAM_LLONG, 0},
    };
    g_assert_cmpuint(params->len, ==, G_N_ELEMENTS(want));
    g_assert_cmpuint(params->len, ==, QEMU_TUNE_SCHED_NPARAMS);
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        const DomainTypedParam *p = param_at(params, i);
        g_assert_cmpstr(p->field, ==, want[i].field);
        g_assert_cmpint(p->type, ==, want[i].type);
        g_assert_cmpint(p->type == VIR_TYPED_PARAM_LLONG ? p->value.l : (gint64)p->value.ul,
                        ==, want[i].value);
    }

    /* A set: values replace, 0 unsets a period or quota. */
    g_autoptr(GArray) set = domain_params_new();
    domain_params_add_ullong(set, "vcpu_period", 0);
    domain_params_add_llong(set, "vcpu_quota", 20000);
    domain_params_add_ullong(set, "global_period", 200000);
    domain_params_add_llong(set, "iothread_quota", -1);
    qemu_tune_sched_to_def(def, set);
    g_assert_null(def->cputune[DOMAIN_CPUTUNE_PERIOD]);
    g_assert_cmpstr(def->cputune[DOMAIN_CPUTUNE_QUOTA], ==, "20000");
    g_assert_cmpstr(def->cputune[DOMAIN_CPUTUNE_GLOBAL_PERIOD], ==, "200000");
    g_assert_cmpstr(def->cputune[DOMAIN_CPUTUNE_IOTHREAD_QUOTA], ==, "-1");
    g_assert_cmpstr(def->cputune[DOMAIN_CPUTUNE_SHARES], ==, "2048");

    g_autofree char *xml = domain_def_format(def, -1, 0);
    g_assert_nonnull(strstr(xml, "  <cputune>\n    <shares>2048</shares>\n"
                                 "    <quota>20000</quota>\n"
                                 "    <global_period>200000</global_period>\n"
                                 "    <emulator_quota>3000</emulator_quota>\n"
                                 "    <iothread_quota>-1</iothread_quota>\n  </cputune>\n"));

    g_assert_cmpint(qemu_tune_sched_field("emulator_quota"), ==, DOMAIN_CPUTUNE_EMULATOR_QUOTA);
    g_assert_cmpint(qemu_tune_sched_field("quota"), ==, -1);
}

static void
test_sched_tunable(void)
{
    /* The caller's order and values; a period or quota of 0 (left as it is) is not
     * announced, cpu_shares always is. */
    g_autoptr(GArray) set = domain_params_new();
    domain_params_add_llong(set, "emulator_quota", -1);
    domain_params_add_ullong(set, "vcpu_period", 0);
    domain_params_add_ullong(set, "cpu_shares", 512);
    domain_params_add_llong(set, "vcpu_quota", 0);
    domain_params_add_ullong(set, "global_period", 200000);
    domain_params_add_llong(set, "iothread_quota", 5000);
    domain_params_add_ullong(set, "iothread_period", 100000);
    domain_params_add_llong(set, "global_quota", 30000);
    domain_params_add_ullong(set, "emulator_period", 10000);
    g_autoptr(GArray) ev = qemu_tune_sched_tunable(set);
    static const struct {
        const char *field;
        int type;
        gint64 value;
    } want[] = {
        {"cputune.emulator_quota", VIR_TYPED_PARAM_LLONG, -1},
        {"cputune.cpu_shares", VIR_TYPED_PARAM_ULLONG, 512},
        {"cputune.global_period", VIR_TYPED_PARAM_ULLONG, 200000},
        {"cputune.iothread_quota", VIR_TYPED_PARAM_LLONG, 5000},
        {"cputune.iothread_period", VIR_TYPED_PARAM_ULLONG, 100000},
        {"cputune.global_quota", VIR_TYPED_PARAM_LLONG, 30000},
        {"cputune.emulator_period", VIR_TYPED_PARAM_ULLONG, 10000},
    };
    g_assert_cmpuint(ev->len, ==, G_N_ELEMENTS(want));
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        const DomainTypedParam *p = param_at(ev, i);
        g_assert_cmpstr(p->field, ==, want[i].field);
        g_assert_cmpint(p->type, ==, want[i].type);
        g_assert_cmpint(p->type == VIR_TYPED_PARAM_LLONG ? p->value.l : (gint64)p->value.ul,
                        ==, want[i].value);
    }

    /* only zeros: nothing to announce */
    g_autoptr(GArray) zeros = domain_params_new();
    domain_params_add_ullong(zeros, "vcpu_period", 0);
    domain_params_add_llong(zeros, "vcpu_quota", 0);
    g_autoptr(GArray) none = qemu_tune_sched_tunable(zeros);
    g_assert_cmpuint(none->len, ==, 0);
}

/* ---- memtune ---- */

static void
test_mem_check(void)
{
    g_autoptr(GArray) params = domain_params_new();
    domain_params_add_ullong(params, "hard_limit", 1024);
    domain_params_add_ullong(params, "min_guarantee", 512);
    g_autoptr(GError) error = NULL;
    g_assert_true(qemu_tune_mem_check(params, FALSE, &error));
    g_assert_false(qemu_tune_mem_check(params, TRUE, &error));
    assert_error(error, VIR_ERR_OPERATION_INVALID,
                 "parameter 'min_guarantee' cannot be changed live: QEMU/KVM has no minimum "
                 "memory guarantee to set (use --config)");
    g_clear_error(&error);

    g_autoptr(GArray) typed = domain_params_new();
    domain_params_add_llong(typed, "soft_limit", 1024);
    g_assert_false(qemu_tune_mem_check(typed, FALSE, &error));
    assert_error(error, VIR_ERR_INVALID_ARG,
                 "parameter 'soft_limit' must be of type 'ullong', not 'llong'");
    g_clear_error(&error);

    g_autoptr(GArray) unknown = domain_params_new();
    domain_params_add_ullong(unknown, "hard-limit", 1024);
    g_assert_false(qemu_tune_mem_check(unknown, FALSE, &error));
    assert_error(error, VIR_ERR_ARGUMENT_UNSUPPORTED,
                 "parameter 'hard-limit' is not supported (known: hard_limit, soft_limit, "
                 "swap_hard_limit, min_guarantee)");
}

static void
test_mem_merge(void)
{
    const guint64 none[DOMAIN_MEMTUNE_LAST] = {G_MAXUINT64, G_MAXUINT64, 0, G_MAXUINT64};
    guint64 v[DOMAIN_MEMTUNE_LAST];
    g_autoptr(GError) error = NULL;

    /* hard below swap: fine; UNLIMITED (or more) means no limit */
    g_autoptr(GArray) a = domain_params_new();
    domain_params_add_ullong(a, "hard_limit", 262144);
    domain_params_add_ullong(a, "swap_hard_limit", 524288);
    domain_params_add_ullong(a, "soft_limit", UNLIMITED);
    g_assert_true(qemu_tune_mem_merge(a, none, v, &error));
    g_assert_cmpuint(v[DOMAIN_MEMTUNE_HARD_LIMIT], ==, 262144);
    g_assert_cmpuint(v[DOMAIN_MEMTUNE_SWAP_HARD_LIMIT], ==, 524288);
    g_assert_cmpuint(v[DOMAIN_MEMTUNE_SOFT_LIMIT], ==, G_MAXUINT64);

    /* a hard limit above the current swap limit */
    g_autoptr(GArray) b = domain_params_new();
    domain_params_add_ullong(b, "hard_limit", 600000);
    guint64 cur[DOMAIN_MEMTUNE_LAST];
    memcpy(cur, v, sizeof(cur));
    g_assert_false(qemu_tune_mem_merge(b, cur, v, &error));
    assert_error(error, VIR_ERR_INVALID_ARG,
                 "hard_limit (600000 KiB) must not be above swap_hard_limit (524288 KiB): the "
                 "swap limit counts memory plus swap");
    g_clear_error(&error);

    /* a swap limit under an unlimited memory */
    g_autoptr(GArray) c = domain_params_new();
    domain_params_add_ullong(c, "swap_hard_limit", 1024);
    g_assert_false(qemu_tune_mem_merge(c, none, v, &error));
    assert_error(error, VIR_ERR_INVALID_ARG,
                 "hard_limit (unlimited) must not be above swap_hard_limit (1024 KiB): the swap "
                 "limit counts memory plus swap");
    g_clear_error(&error);

    /* the soft limit alone is never checked against the others */
    g_autoptr(GArray) d = domain_params_new();
    domain_params_add_ullong(d, "soft_limit", 1);
    g_assert_true(qemu_tune_mem_merge(d, cur, v, &error));

    /* cgroup v1 order: memory+swap first when it does not go below the current limit */
    g_assert_true(qemu_tune_mem_swap_first(262144, 524288));
    g_assert_true(qemu_tune_mem_swap_first(262144, 262144));
    g_assert_false(qemu_tune_mem_swap_first(524288, 262144));
    g_assert_false(qemu_tune_mem_swap_first(G_MAXUINT64, 262144));
    g_assert_true(qemu_tune_mem_swap_first(G_MAXUINT64, UNLIMITED));
}

static void
test_mem_def(void)
{
    g_autoptr(DomainDef) def = parse_def("<memtune><hard_limit unit='MiB'>512</hard_limit>"
                                         "<min_guarantee>1000</min_guarantee></memtune>");
    guint64 v[DOMAIN_MEMTUNE_LAST];
    qemu_tune_mem_from_def(def, v);
    g_autoptr(GArray) params = qemu_tune_mem_params(v);
    static const struct {
        const char *field;
        guint64 value;
    } want[] = {
        {"hard_limit", 524288},
        {"soft_limit", UNLIMITED},
        {"swap_hard_limit", UNLIMITED},
        {"min_guarantee", 1000},
    };
    g_assert_cmpuint(params->len, ==, G_N_ELEMENTS(want));
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        g_assert_cmpstr(param_at(params, i)->field, ==, want[i].field);
        g_assert_cmpint(param_at(params, i)->type, ==, VIR_TYPED_PARAM_ULLONG);
        g_assert_cmpuint(param_at(params, i)->value.ul, ==, want[i].value);
    }

    /* unlimited and a 0 guarantee leave no element */
    v[DOMAIN_MEMTUNE_HARD_LIMIT] = G_MAXUINT64;
    v[DOMAIN_MEMTUNE_SOFT_LIMIT] = 1024;
    v[DOMAIN_MEMTUNE_MIN_GUARANTEE] = 0;
    qemu_tune_mem_to_def(def, v);
    g_autofree char *xml = domain_def_format(def, -1, 0);
    g_assert_nonnull(strstr(xml, "  <memtune>\n    <soft_limit unit='KiB'>1024</soft_limit>\n"
                                 "  </memtune>\n"));
    g_assert_null(strstr(xml, "hard_limit"));
    g_assert_null(strstr(xml, "min_guarantee"));
}

/* ---- blkiotune ---- */

static void
test_blkio_parse(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) list = qemu_tune_blkio_parse("device_read_iops_sec",
                                                   "/dev/sda,100,/dev/sdb,20000",
                                                   CGROUP_MODE_V1, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(list->len, ==, 2);
    g_assert_cmpstr(g_array_index(list, QemuTuneBlkioDevice, 0).path, ==, "/dev/sda");
    g_assert_cmpuint(g_array_index(list, QemuTuneBlkioDevice, 0).value, ==, 100);
    g_assert_cmpstr(g_array_index(list, QemuTuneBlkioDevice, 1).path, ==, "/dev/sdb");
    g_assert_cmpuint(g_array_index(list, QemuTuneBlkioDevice, 1).value, ==, 20000);

    g_autoptr(GArray) empty = qemu_tune_blkio_parse("device_weight", "", CGROUP_MODE_V1, &error);
    g_assert_nonnull(empty);
    g_assert_cmpuint(empty->len, ==, 0);

    static const struct {
        const char *field, *text;
        CgroupMode mode;
        const char *message;
    } bad[] = {
        {"device_weight", "/dev/sda", CGROUP_MODE_V1,
         "parameter 'device_weight': device '/dev/sda' has no valid value (expected "
         "'/dev/sda,100,/dev/sdb,200')"},
        {"device_write_bytes_sec", "/dev/sda,fast", CGROUP_MODE_V1,
         "parameter 'device_write_bytes_sec': device '/dev/sda' has no valid value (expected "
         "'/dev/sda,100,/dev/sdb,200')"},
        {"device_read_bytes_sec", "sda,100", CGROUP_MODE_V1,
         "parameter 'device_read_bytes_sec': 'sda' is not a device path (expected "
         "'/dev/sda,100,/dev/sdb,200')"},
        {"device_weight", "/dev/sda,100,,", CGROUP_MODE_V1,
         "parameter 'device_weight': '' is not a device path (expected "
         "'/dev/sda,100,/dev/sdb,200')"},
        {"device_weight", "/dev/sda,50", CGROUP_MODE_V1,
         "value 50 (device '/dev/sda') of parameter 'device_weight' is out of range: 0 "
         "(remove) or 100-1000 on cgroup v1"},
        {"device_weight", "/dev/sda,10001", CGROUP_MODE_V2,
         "value 10001 (device '/dev/sda') of parameter 'device_weight' is out of range: 0 "
         "(remove) or 1-10000 on cgroup v2"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        g_assert_null(qemu_tune_blkio_parse(bad[i].field, bad[i].text, bad[i].mode, &err));
        assert_error(err, VIR_ERR_INVALID_ARG, bad[i].message);
    }
}

static void
test_blkio_check(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) weight = domain_params_new();
    domain_params_add_uint(weight, "weight", 1001);
    g_assert_false(qemu_tune_blkio_check(weight, CGROUP_MODE_V1, &error));
    assert_error(error, VIR_ERR_INVALID_ARG,
                 "value 1001 of parameter 'weight' is out of range: 100-1000 on cgroup v1");
    g_clear_error(&error);
    g_assert_true(qemu_tune_blkio_check(weight, CGROUP_MODE_V2, &error));

    g_autoptr(GArray) typed = domain_params_new();
    domain_params_add_ullong(typed, "device_read_iops_sec", 5);
    g_assert_false(qemu_tune_blkio_check(typed, CGROUP_MODE_V1, &error));
    assert_error(error, VIR_ERR_INVALID_ARG,
                 "parameter 'device_read_iops_sec' must be of type 'string', not 'ullong'");
    g_clear_error(&error);

    g_autoptr(GArray) twice = domain_params_new();
    domain_params_add_uint(twice, "weight", 200);
    domain_params_add_uint(twice, "weight", 300);
    g_assert_false(qemu_tune_blkio_check(twice, CGROUP_MODE_V1, &error));
    assert_error(error, VIR_ERR_INVALID_ARG, "parameter 'weight' is given twice");
}

static void
test_blkio_def(void)
{
    g_autoptr(DomainDef) def = parse_def("<blkiotune><weight>300</weight>"
                                         "<device><path>/dev/sda</path><weight>500</weight>"
                                         "<read_iops_sec>100</read_iops_sec></device>"
                                         "</blkiotune>");
    g_autoptr(GArray) set = domain_params_new();
    domain_params_add_uint(set, "weight", 800);
    domain_params_add_string(set, "device_weight", "/dev/sda,0,/dev/sdb,200");
    domain_params_add_string(set, "device_write_bytes_sec", "/dev/sdb,1048576,/dev/sdc,0");
    qemu_tune_blkio_to_def(def, set);

    /* sda keeps its iops limit, sdb is new, a 0 for an unknown sdc adds nothing */
    g_autoptr(GArray) params = qemu_tune_blkio_params(800, &def->blkio_devices);
    static const struct {
        const char *field, *value;
    } want[] = {
        {"device_weight", "/dev/sdb,200"},
        {"device_read_iops_sec", "/dev/sda,100"},
        {"device_write_iops_sec", ""},
        {"device_read_bytes_sec", ""},
        {"device_write_bytes_sec", "/dev/sdb,1048576"},
    };
    g_assert_cmpuint(params->len, ==, 1 + G_N_ELEMENTS(want));
    g_assert_cmpstr(param_at(params, 0)->field, ==, "weight");
    g_assert_cmpint(param_at(params, 0)->type, ==, VIR_TYPED_PARAM_UINT);
    g_assert_cmpuint(param_at(params, 0)->value.ui, ==, 800);
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        const DomainTypedParam *p = param_at(params, i + 1);
        g_assert_cmpstr(p->field, ==, want[i].field);
        g_assert_cmpint(p->type, ==, VIR_TYPED_PARAM_STRING);
        g_assert_cmpstr(p->value.s, ==, want[i].value);
    }

    /* removing sda's last value removes the device */
    g_autoptr(GArray) clear = domain_params_new();
    domain_params_add_string(clear, "device_read_iops_sec", "/dev/sda,0");
    qemu_tune_blkio_to_def(def, clear);
    g_autofree char *xml = domain_def_format(def, -1, 0);
    g_assert_nonnull(strstr(xml, "  <blkiotune>\n    <weight>800</weight>\n    <device>\n"
                                 "      <path>/dev/sdb</path>\n      <weight>200</weight>\n"
                                 "      <write_bytes_sec>1048576</write_bytes_sec>\n"
                                 "    </device>\n  </blkiotune>\n"));
    g_assert_null(strstr(xml, "/dev/sda"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu-tune/sched/check", test_sched_check);
    g_test_add_func("/qemu-tune/sched/def", test_sched_def);
    g_test_add_func("/qemu-tune/sched/tunable", test_sched_tunable);
    g_test_add_func("/qemu-tune/mem/check", test_mem_check);
    g_test_add_func("/qemu-tune/mem/merge", test_mem_merge);
    g_test_add_func("/qemu-tune/mem/def", test_mem_def);
    g_test_add_func("/qemu-tune/blkio/parse", test_blkio_parse);
    g_test_add_func("/qemu-tune/blkio/check", test_blkio_check);
    g_test_add_func("/qemu-tune/blkio/def", test_blkio_def);
    return g_test_run();
}
