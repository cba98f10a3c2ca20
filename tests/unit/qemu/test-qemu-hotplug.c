/* vCPU hot-plug: canned query-hotpluggable-cpus replies (as QEMU 7.2 sends them under
 * TCG) -> slots in vCPU order, plans, device_add arguments, DEVICE_DELETED matching and
 * the live definition's vCPU count and <vcpus>. */
#include <string.h>

#include "daemon/util/virt-error.h"
#include "drivers/qemu/qemu-hotplug.h"

static json_object *
parse(const char *text)
{
    json_object *obj = json_tokener_parse(text);
    g_assert_nonnull(obj);
    return obj;
}

/* pc, -smp 2,sockets=4,dies=1,cores=1,threads=1,maxcpus=4 with vcpu3 hot-added: QEMU
 * lists the slots from the last one, boot CPUs under /machine/unattached. */
static const char *slots_reply =
    "[{\"props\": {\"core-id\": 0, \"thread-id\": 0, \"socket-id\": 3}, \"vcpus-count\": 1,"
    "  \"qom-path\": \"/machine/peripheral/vcpu3\", \"type\": \"qemu64-x86_64-cpu\"},"
    " {\"props\": {\"core-id\": 0, \"thread-id\": 0, \"socket-id\": 2}, \"vcpus-count\": 1,"
    "  \"type\": \"qemu64-x86_64-cpu\"},"
    " {\"props\": {\"core-id\": 0, \"thread-id\": 0, \"socket-id\": 1}, \"vcpus-count\": 1,"
    "  \"qom-path\": \"/machine/unattached/device[2]\", \"type\": \"qemu64-x86_64-cpu\"},"
    " {\"props\": {\"core-id\": 0, \"thread-id\": 0, \"socket-id\": 0}, \"vcpus-count\": 1,"
    "  \"qom-path\": \"/machine/unattached/device[0]\", \"type\": \"qemu64-x86_64-cpu\"}]";

static GPtrArray *
canned_slots(void)
{
    json_object *reply = parse(slots_reply);
    g_autoptr(GError) err = NULL;
    GPtrArray *slots = qemu_hotplug_parse_slots(reply, &err);
    g_assert_no_error(err);
    json_object_put(reply);
    return slots;
}

static const QemuVcpuSlot *
slot(GPtrArray *slots, guint i)
{
    return g_ptr_array_index(slots, i);
}

static void
test_parse_slots(void)
{
    g_autoptr(GPtrArray) slots = canned_slots();
    g_assert_cmpuint(slots->len, ==, 4);
    for (guint i = 0; i < 4; i++) {
        g_assert_cmpuint(slot(slots, i)->index, ==, i);
        g_assert_cmpstr(slot(slots, i)->type, ==, "qemu64-x86_64-cpu");
    }
    g_assert_cmpstr(slot(slots, 0)->qom_path, ==, "/machine/unattached/device[0]");
    g_assert_cmpstr(slot(slots, 1)->qom_path, ==, "/machine/unattached/device[2]");
    g_assert_null(slot(slots, 2)->qom_path);
    g_assert_cmpstr(slot(slots, 3)->qom_path, ==, "/machine/peripheral/vcpu3");
    g_assert_cmpuint(qemu_hotplug_count_plugged(slots), ==, 3);
}

/* Threads and cores order inside sockets: vCPU numbers follow the topology. */
static void
test_parse_slots_topology(void)
{
    json_object *reply = parse(
        "[{\"props\": {\"core-id\": 1, \"thread-id\": 1, \"socket-id\": 1, \"die-id\": 0},"
        "  \"vcpus-count\": 1, \"type\": \"t\"},"
        " {\"props\": {\"core-id\": 0, \"thread-id\": 1, \"socket-id\": 1, \"die-id\": 0},"
        "  \"vcpus-count\": 1, \"type\": \"t\"},"
        " {\"props\": {\"core-id\": 1, \"thread-id\": 0, \"socket-id\": 0, \"die-id\": 0},"
        "  \"vcpus-count\": 1, \"type\": \"t\"},"
        " {\"props\": {\"core-id\": 0, \"thread-id\": 0, \"socket-id\": 1, \"die-id\": 0},"
        "  \"vcpus-count\": 1, \"type\": \"t\"}]");
    g_autoptr(GPtrArray) slots = qemu_hotplug_parse_slots(reply, NULL);
    json_object_put(reply);
    g_assert_nonnull(slots);
    static const int want[][3] = { {0, 1, 0}, {1, 0, 0}, {1, 0, 1}, {1, 1, 1} };
    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        json_object *props = slot(slots, i)->props, *v = NULL;
        json_object_object_get_ex(props, "socket-id", &v);
        g_assert_cmpint(json_object_get_int(v), ==, want[i][0]);
        json_object_object_get_ex(props, "core-id", &v);
        g_assert_cmpint(json_object_get_int(v), ==, want[i][1]);
        json_object_object_get_ex(props, "thread-id", &v);
        g_assert_cmpint(json_object_get_int(v), ==, want[i][2]);
    }
}

static void
test_parse_slots_errors(void)
{
    static const char *malformed[] = {
        "{}",
        "[{\"vcpus-count\": 1, \"type\": \"t\"}]",
        "[{\"props\": {}, \"vcpus-count\": 1}]",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(malformed); i++) {
        json_object *reply = parse(malformed[i]);
        g_autoptr(GError) err = NULL;
        g_assert_null(qemu_hotplug_parse_slots(reply, &err));
        g_assert_error(err, virt_error_quark(VIR_FROM_QEMU), VIR_ERR_OPERATION_FAILED);
        g_assert_cmpstr(err->message, ==,
                        "QEMU gave a malformed reply to 'query-hotpluggable-cpus'");
        json_object_put(reply);
    }
    g_autoptr(GError) err = NULL;
    g_assert_null(qemu_hotplug_parse_slots(NULL, &err));
    g_assert_error(err, virt_error_quark(VIR_FROM_QEMU), VIR_ERR_OPERATION_FAILED);

    /* ppc-like machines plug whole cores. */
    json_object *reply = parse("[{\"props\": {\"core-id\": 8}, \"vcpus-count\": 8, "
                               "\"type\": \"power9_v2.0-spapr-cpu-core\"}]");
    g_clear_error(&err);
    g_assert_null(qemu_hotplug_parse_slots(reply, &err));
    g_assert_error(err, virt_error_quark(VIR_FROM_QEMU), VIR_ERR_OPERATION_UNSUPPORTED);
    g_assert_cmpstr(err->message, ==,
                    "QEMU plugs the vCPUs of this machine in groups of 8, which is not "
                    "supported");
    json_object_put(reply);
}

static void
assert_plan(GArray *plan, const guint *want, guint n)
{
    g_assert_cmpuint(plan->len, ==, n);
    for (guint i = 0; i < n; i++)
        g_assert_cmpuint(g_array_index(plan, guint, i), ==, want[i]);
}

static void
test_plan_count(void)
{
    g_autoptr(GPtrArray) slots = canned_slots(); /* 0, 1, 3 plugged */
    gboolean plug = FALSE;

    g_autoptr(GArray) up = qemu_hotplug_plan_count(slots, 4, &plug);
    g_assert_true(plug);
    assert_plan(up, (const guint[]){2}, 1);

    /* Unplug from the highest; vCPU 0 never goes. */
    g_autoptr(GArray) down = qemu_hotplug_plan_count(slots, 1, &plug);
    g_assert_false(plug);
    assert_plan(down, (const guint[]){3, 1}, 2);

    g_autoptr(GArray) same = qemu_hotplug_plan_count(slots, 3, &plug);
    g_assert_cmpuint(same->len, ==, 0);

    /* Asking for more than there are slots plugs what there is. */
    g_autoptr(GArray) over = qemu_hotplug_plan_count(slots, 9, &plug);
    assert_plan(over, (const guint[]){2}, 1);
}

static void
test_add_args(void)
{
    g_autoptr(GPtrArray) slots = canned_slots();
    json_object *args = qemu_hotplug_vcpu_add_args(slot(slots, 2), "vcpu2");
    json_object *want = parse("{\"driver\": \"qemu64-x86_64-cpu\", \"id\": \"vcpu2\","
                              " \"core-id\": 0, \"thread-id\": 0, \"socket-id\": 2}");
    g_assert_true(json_object_equal(args, want));
    json_object_put(args);
    json_object_put(want);
}

static void
test_path_is_removed(void)
{
    /* QEMU 7.2 reports an unplugged CPU only through its local APIC. */
    g_assert_true(qemu_hotplug_path_is_removed("/machine/peripheral/vcpu1",
                                               "/machine/peripheral/vcpu1/lapic"));
    g_assert_true(qemu_hotplug_path_is_removed("/machine/peripheral/vcpu1",
                                               "/machine/peripheral/vcpu1"));
    g_assert_false(qemu_hotplug_path_is_removed("/machine/peripheral/vcpu1",
                                                "/machine/peripheral/vcpu10/lapic"));
    g_assert_false(qemu_hotplug_path_is_removed("/machine/unattached/device[1]",
                                                "/machine/unattached/device[12]/lapic"));
    g_assert_false(qemu_hotplug_path_is_removed(NULL, "/machine/peripheral/vcpu1"));
    g_assert_false(qemu_hotplug_path_is_removed("/machine/peripheral/vcpu1", NULL));
}

static DomainDef *
def_with_vcpus(const char *vcpus_elem)
{
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu'><name>hp</name><memory unit='MiB'>64</memory>"
        "<vcpu current='2'>4</vcpu>%s<os><type arch='x86_64'>hvm</type></os></domain>",
        vcpus_elem);
    g_autoptr(GError) err = NULL;
    DomainDef *def = domain_def_parse(xml, 0, &err);
    g_assert_no_error(err);
    return def;
}

static void
test_def_vcpus(void)
{
    g_autoptr(DomainDef) def = def_with_vcpus(
        "<vcpus><vcpu id='0' enabled='yes' hotpluggable='no'/>"
        "<vcpu id='1' enabled='yes' hotpluggable='no'/>"
        "<vcpu id='2' enabled='no' hotpluggable='yes'/>"
        "<vcpu id='3' enabled='no' hotpluggable='yes'/></vcpus>");
    qemu_hotplug_def_set_vcpu(def, 2, TRUE);
    g_assert_cmpuint(domain_def_get_vcpus_current(def), ==, 3);
    qemu_hotplug_def_set_vcpu(def, 1, FALSE);
    g_assert_cmpuint(domain_def_get_vcpus_current(def), ==, 2);
    g_autofree char *xml = domain_def_format(def, -1, 0);
    g_assert_nonnull(strstr(xml, "<vcpu placement='static' current='2'>4</vcpu>"));
    g_assert_nonnull(strstr(xml, "<vcpu id='1' enabled='no' hotpluggable='no'/>"));
    g_assert_nonnull(strstr(xml, "<vcpu id='2' enabled='yes' hotpluggable='yes'/>"));

    /* QEMU is the truth: 0, 1 and 3 are plugged. */
    g_autoptr(GPtrArray) slots = canned_slots();
    qemu_hotplug_def_sync_vcpus(def, slots);
    g_assert_cmpuint(domain_def_get_vcpus_current(def), ==, 3);
    g_autofree char *synced = domain_def_format(def, -1, 0);
    g_assert_nonnull(strstr(synced, "<vcpu id='1' enabled='yes' hotpluggable='no'/>"));
    g_assert_nonnull(strstr(synced, "<vcpu id='2' enabled='no' hotpluggable='yes'/>"));
    g_assert_nonnull(strstr(synced, "<vcpu id='3' enabled='yes' hotpluggable='yes'/>"));

    /* Without <vcpus>, only the count. */
    g_autoptr(DomainDef) plain = def_with_vcpus("");
    qemu_hotplug_def_set_vcpu(plain, 2, TRUE);
    g_assert_cmpuint(domain_def_get_vcpus_current(plain), ==, 3);
    qemu_hotplug_def_sync_vcpus(plain, slots);
    g_assert_cmpuint(domain_def_get_vcpus_current(plain), ==, 3);
}

/* The <vcpu> and <vcpus> lines of @def as dumpxml shows them. */
static char *
vcpu_lines(const DomainDef *def)
{
    g_autofree char *xml = domain_def_format(def, -1, 0);
    const char *start = strstr(xml, "  <vcpu ");
    g_assert_nonnull(start);
    const char *end = strstr(start, "</vcpus>\n");
    end = end ? end + strlen("</vcpus>\n") : strstr(start, "</vcpu>\n") + strlen("</vcpu>\n");
    return g_strndup(start, end - start);
}

static DomainDef *
parse_def(const char *vcpu, const char *vcpus)
{
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu'><name>cfg</name><memory unit='MiB'>64</memory>%s%s"
        "<os><type arch='x86_64'>hvm</type></os></domain>",
        vcpu, vcpus);
    g_autoptr(GError) err = NULL;
    DomainDef *def = domain_def_parse(xml, 0, &err);
    g_assert_no_error(err);
    return def;
}

static void
assert_setvcpu(DomainDef *def, const char *cpumap, gboolean enable, const char *want)
{
    g_autoptr(GError) err = NULL;
    g_assert_true(qemu_hotplug_config_set_vcpu(def, "cfg", cpumap, enable, &err));
    g_assert_no_error(err);
    g_autofree char *lines = vcpu_lines(def);
    g_assert_cmpstr(lines, ==, want);
}

/* Outcomes compared with libvirtd 9.0's dumpxml --inactive after the same setvcpu
 * --config calls. */
static void
test_config_setvcpu(void)
{
    /* Without <vcpus>: filled from the count, then changed. */
    g_autoptr(DomainDef) def = parse_def("<vcpu current='1'>4</vcpu>", "");
    assert_setvcpu(def, "1", TRUE,
                   "  <vcpu placement='static' current='2'>4</vcpu>\n"
                   "  <vcpus>\n"
                   "    <vcpu id='0' enabled='yes' hotpluggable='no'/>\n"
                   "    <vcpu id='1' enabled='yes' hotpluggable='yes'/>\n"
                   "    <vcpu id='2' enabled='no' hotpluggable='yes'/>\n"
                   "    <vcpu id='3' enabled='no' hotpluggable='yes'/>\n"
                   "  </vcpus>\n");
    assert_setvcpu(def, "2-3", TRUE,
                   "  <vcpu placement='static'>4</vcpu>\n"
                   "  <vcpus>\n"
                   "    <vcpu id='0' enabled='yes' hotpluggable='no'/>\n"
                   "    <vcpu id='1' enabled='yes' hotpluggable='yes'/>\n"
                   "    <vcpu id='2' enabled='yes' hotpluggable='yes'/>\n"
                   "    <vcpu id='3' enabled='yes' hotpluggable='yes'/>\n"
                   "  </vcpus>\n");
    /* Disabling what is disabled already changes nothing. */
    assert_setvcpu(def, "1,3", FALSE,
                   "  <vcpu placement='static' current='2'>4</vcpu>\n"
                   "  <vcpus>\n"
                   "    <vcpu id='0' enabled='yes' hotpluggable='no'/>\n"
                   "    <vcpu id='1' enabled='no' hotpluggable='yes'/>\n"
                   "    <vcpu id='2' enabled='yes' hotpluggable='yes'/>\n"
                   "    <vcpu id='3' enabled='no' hotpluggable='yes'/>\n"
                   "  </vcpus>\n");
    assert_setvcpu(def, "3", FALSE,
                   "  <vcpu placement='static' current='2'>4</vcpu>\n"
                   "  <vcpus>\n"
                   "    <vcpu id='0' enabled='yes' hotpluggable='no'/>\n"
                   "    <vcpu id='1' enabled='no' hotpluggable='yes'/>\n"
                   "    <vcpu id='2' enabled='yes' hotpluggable='yes'/>\n"
                   "    <vcpu id='3' enabled='no' hotpluggable='yes'/>\n"
                   "  </vcpus>\n");

    /* A given <vcpus>: order= goes, a changed vCPU becomes hotpluggable, and the last
     * non-hotpluggable vCPU may change (none follows it). */
    g_autoptr(DomainDef) ordered = parse_def(
        "<vcpu current='3'>5</vcpu>",
        "<vcpus><vcpu id='0' enabled='yes' hotpluggable='no' order='1'/>"
        "<vcpu id='1' enabled='yes' hotpluggable='no' order='2'/>"
        "<vcpu id='2' enabled='yes' hotpluggable='yes' order='3'/>"
        "<vcpu id='3' enabled='no' hotpluggable='yes'/>"
        "<vcpu id='4' enabled='no' hotpluggable='yes'/></vcpus>");
    assert_setvcpu(ordered, "1", FALSE,
                   "  <vcpu placement='static' current='2'>5</vcpu>\n"
                   "  <vcpus>\n"
                   "    <vcpu id='0' enabled='yes' hotpluggable='no'/>\n"
                   "    <vcpu id='1' enabled='no' hotpluggable='yes'/>\n"
                   "    <vcpu id='2' enabled='yes' hotpluggable='yes'/>\n"
                   "    <vcpu id='3' enabled='no' hotpluggable='yes'/>\n"
                   "    <vcpu id='4' enabled='no' hotpluggable='yes'/>\n"
                   "  </vcpus>\n");

    /* Entries without hotpluggable=, or missing: completed as libvirt does. */
    g_autoptr(DomainDef) sparse = parse_def(
        "<vcpu current='2'>4</vcpu>",
        "<vcpus><vcpu id='0' enabled='yes'/><vcpu id='1' enabled='yes'/></vcpus>");
    assert_setvcpu(sparse, "3", TRUE,
                   "  <vcpu placement='static' current='3'>4</vcpu>\n"
                   "  <vcpus>\n"
                   "    <vcpu id='0' enabled='yes' hotpluggable='no'/>\n"
                   "    <vcpu id='1' enabled='yes' hotpluggable='no'/>\n"
                   "    <vcpu id='2' enabled='no' hotpluggable='yes'/>\n"
                   "    <vcpu id='3' enabled='yes' hotpluggable='yes'/>\n"
                   "  </vcpus>\n");
}

static void
test_config_setvcpu_refused(void)
{
    static const struct {
        const char *cpumap;
        gboolean enable;
        const char *message;
    } cases[] = {
        /* The highest one out of range is named, before vCPU 0 is looked at. */
        {"0,4", FALSE, "domain 'cfg' has no vCPU 4 in its persistent configuration: its "
                       "maximum is 4"},
        {"5-6", TRUE, "domain 'cfg' has no vCPU 6 in its persistent configuration: its "
                      "maximum is 4"},
        {"0", TRUE, "vCPU 0 of domain 'cfg' cannot be modified: it is always enabled"},
        {"0-1", FALSE, "vCPU 0 of domain 'cfg' cannot be modified: it is always enabled"},
        /* vCPUs 0-2 boot as not hotpluggable: 1 cannot change while 2 stays. */
        {"1", FALSE, "vCPU 1 of domain 'cfg' cannot be modified: it is followed by vCPU 2, "
                     "which is enabled and not hotpluggable"},
        {"1,3", TRUE, "vCPU 1 of domain 'cfg' cannot be modified: it is followed by vCPU 2, "
                      "which is enabled and not hotpluggable"},
        {"1-x", TRUE, "'1-x' is not a valid list of vCPUs"},
    };
    g_autoptr(DomainDef) def = parse_def("<vcpu current='3'>4</vcpu>", "");
    g_autofree char *before = vcpu_lines(def);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_assert_false(qemu_hotplug_config_set_vcpu(def, "cfg", cases[i].cpumap,
                                                    cases[i].enable, &err));
        g_assert_error(err, virt_error_quark(VIR_FROM_QEMU), VIR_ERR_INVALID_ARG);
        g_assert_cmpstr(err->message, ==, cases[i].message);
        g_autofree char *after = vcpu_lines(def);
        g_assert_cmpstr(after, ==, before);
    }
    /* Together they may change: nothing enabled and not hotpluggable follows. */
    assert_setvcpu(def, "1-2", FALSE,
                   "  <vcpu placement='static' current='1'>4</vcpu>\n"
                   "  <vcpus>\n"
                   "    <vcpu id='0' enabled='yes' hotpluggable='no'/>\n"
                   "    <vcpu id='1' enabled='no' hotpluggable='yes'/>\n"
                   "    <vcpu id='2' enabled='no' hotpluggable='yes'/>\n"
                   "    <vcpu id='3' enabled='no' hotpluggable='yes'/>\n"
                   "  </vcpus>\n");
}

static void
fit(DomainDef *def, unsigned int n, gboolean maximum, gboolean hotpluggable, const char *want)
{
    g_autoptr(GError) err = NULL;
    g_assert_true(domain_def_set_vcpus(def, n, maximum, &err));
    qemu_hotplug_config_fit_vcpus(def, maximum, hotpluggable);
    g_autofree char *lines = vcpu_lines(def);
    g_assert_cmpstr(lines, ==, want);
}

/* setvcpus --config keeps a <vcpus> in step: libvirtd 9.0's outcomes, but for the
 * entries a new maximum adds, which it writes without hotpluggable= (read back as yes). */
static void
test_config_fit(void)
{
    g_autoptr(DomainDef) def = parse_def("<vcpu current='3'>4</vcpu>", "");
    qemu_hotplug_config_fit_vcpus(def, FALSE, FALSE); /* no <vcpus>: none made */
    g_autofree char *plain = vcpu_lines(def);
    g_assert_cmpstr(plain, ==, "  <vcpu placement='static' current='3'>4</vcpu>\n");

    assert_setvcpu(def, "2-3", FALSE,
                   "  <vcpu placement='static' current='2'>4</vcpu>\n"
                   "  <vcpus>\n"
                   "    <vcpu id='0' enabled='yes' hotpluggable='no'/>\n"
                   "    <vcpu id='1' enabled='yes' hotpluggable='no'/>\n"
                   "    <vcpu id='2' enabled='no' hotpluggable='yes'/>\n"
                   "    <vcpu id='3' enabled='no' hotpluggable='yes'/>\n"
                   "  </vcpus>\n");
    fit(def, 4, FALSE, FALSE,
        "  <vcpu placement='static'>4</vcpu>\n"
        "  <vcpus>\n"
        "    <vcpu id='0' enabled='yes' hotpluggable='no'/>\n"
        "    <vcpu id='1' enabled='yes' hotpluggable='no'/>\n"
        "    <vcpu id='2' enabled='yes' hotpluggable='no'/>\n"
        "    <vcpu id='3' enabled='yes' hotpluggable='no'/>\n"
        "  </vcpus>\n");
    fit(def, 1, FALSE, FALSE,
        "  <vcpu placement='static' current='1'>4</vcpu>\n"
        "  <vcpus>\n"
        "    <vcpu id='0' enabled='yes' hotpluggable='no'/>\n"
        "    <vcpu id='1' enabled='no' hotpluggable='yes'/>\n"
        "    <vcpu id='2' enabled='no' hotpluggable='yes'/>\n"
        "    <vcpu id='3' enabled='no' hotpluggable='yes'/>\n"
        "  </vcpus>\n");
    /* --hotpluggable; and after an enabled hotpluggable vCPU, the new ones are too. */
    fit(def, 2, FALSE, TRUE,
        "  <vcpu placement='static' current='2'>4</vcpu>\n"
        "  <vcpus>\n"
        "    <vcpu id='0' enabled='yes' hotpluggable='no'/>\n"
        "    <vcpu id='1' enabled='yes' hotpluggable='yes'/>\n"
        "    <vcpu id='2' enabled='no' hotpluggable='yes'/>\n"
        "    <vcpu id='3' enabled='no' hotpluggable='yes'/>\n"
        "  </vcpus>\n");
    fit(def, 3, FALSE, FALSE,
        "  <vcpu placement='static' current='3'>4</vcpu>\n"
        "  <vcpus>\n"
        "    <vcpu id='0' enabled='yes' hotpluggable='no'/>\n"
        "    <vcpu id='1' enabled='yes' hotpluggable='yes'/>\n"
        "    <vcpu id='2' enabled='yes' hotpluggable='yes'/>\n"
        "    <vcpu id='3' enabled='no' hotpluggable='yes'/>\n"
        "  </vcpus>\n");
    /* A new maximum: entries added (disabled) or dropped; current follows them. */
    fit(def, 5, TRUE, FALSE,
        "  <vcpu placement='static' current='3'>5</vcpu>\n"
        "  <vcpus>\n"
        "    <vcpu id='0' enabled='yes' hotpluggable='no'/>\n"
        "    <vcpu id='1' enabled='yes' hotpluggable='yes'/>\n"
        "    <vcpu id='2' enabled='yes' hotpluggable='yes'/>\n"
        "    <vcpu id='3' enabled='no' hotpluggable='yes'/>\n"
        "    <vcpu id='4' enabled='no' hotpluggable='yes'/>\n"
        "  </vcpus>\n");
    assert_setvcpu(def, "1-2", FALSE,
                   "  <vcpu placement='static' current='1'>5</vcpu>\n"
                   "  <vcpus>\n"
                   "    <vcpu id='0' enabled='yes' hotpluggable='no'/>\n"
                   "    <vcpu id='1' enabled='no' hotpluggable='yes'/>\n"
                   "    <vcpu id='2' enabled='no' hotpluggable='yes'/>\n"
                   "    <vcpu id='3' enabled='no' hotpluggable='yes'/>\n"
                   "    <vcpu id='4' enabled='no' hotpluggable='yes'/>\n"
                   "  </vcpus>\n");
    assert_setvcpu(def, "4", TRUE,
                   "  <vcpu placement='static' current='2'>5</vcpu>\n"
                   "  <vcpus>\n"
                   "    <vcpu id='0' enabled='yes' hotpluggable='no'/>\n"
                   "    <vcpu id='1' enabled='no' hotpluggable='yes'/>\n"
                   "    <vcpu id='2' enabled='no' hotpluggable='yes'/>\n"
                   "    <vcpu id='3' enabled='no' hotpluggable='yes'/>\n"
                   "    <vcpu id='4' enabled='yes' hotpluggable='yes'/>\n"
                   "  </vcpus>\n");
    fit(def, 3, TRUE, FALSE,
        "  <vcpu placement='static' current='1'>3</vcpu>\n"
        "  <vcpus>\n"
        "    <vcpu id='0' enabled='yes' hotpluggable='no'/>\n"
        "    <vcpu id='1' enabled='no' hotpluggable='yes'/>\n"
        "    <vcpu id='2' enabled='no' hotpluggable='yes'/>\n"
        "  </vcpus>\n");
}

/* qemu_hotplug_boot_vcpus on <vcpu @vcpu> and <vcpus> @vcpus: @boot vCPUs boot, @plan
 * ("2,3" or "") are plugged in that order. */
static void
assert_boot_vcpus(const char *vcpu, const char *vcpus, unsigned int boot, const char *plan)
{
    g_autoptr(DomainDef) def = parse_def(vcpu, vcpus);
    g_autoptr(GError) err = NULL;
    unsigned int got_boot = 0;
    g_autoptr(GArray) got = qemu_hotplug_boot_vcpus(def, &got_boot, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(got_boot, ==, boot);
    g_autoptr(GString) text = g_string_new(NULL);
    for (guint k = 0; k < got->len; k++)
        g_string_append_printf(text, "%s%u", k ? "," : "", g_array_index(got, guint, k));
    g_assert_cmpstr(text->str, ==, plan);
}

static void
test_boot_vcpus(void)
{
    /* Without <vcpus>: the first <vcpu current>. */
    assert_boot_vcpus("<vcpu current='3'>4</vcpu>", "", 3, "");
    /* The chosen set: 0 boots, 2 is plugged. */
    assert_boot_vcpus("<vcpu current='2'>4</vcpu>",
                      "<vcpus><vcpu id='0' enabled='yes' hotpluggable='no'/>"
                      "<vcpu id='1' enabled='no' hotpluggable='yes'/>"
                      "<vcpu id='2' enabled='yes' hotpluggable='yes'/>"
                      "<vcpu id='3' enabled='no' hotpluggable='yes'/></vcpus>",
                      1, "2");
    /* Online vCPUs 0..N-1 that are not hotpluggable: -smp as without <vcpus>. An online
     * vCPU is not hotpluggable unless said so; a missing one is offline; current= is not
     * what counts. */
    assert_boot_vcpus("<vcpu current='1'>4</vcpu>",
                      "<vcpus><vcpu id='0' enabled='yes'/><vcpu id='1' enabled='yes'/>"
                      "<vcpu id='2' enabled='no'/></vcpus>",
                      2, "");
    /* Hotpluggable right after the boot ones are plugged too (as libvirt does). */
    assert_boot_vcpus("<vcpu current='3'>4</vcpu>",
                      "<vcpus><vcpu id='0' enabled='yes' hotpluggable='no'/>"
                      "<vcpu id='1' enabled='yes' hotpluggable='no'/>"
                      "<vcpu id='2' enabled='no' hotpluggable='yes'/>"
                      "<vcpu id='3' enabled='yes' hotpluggable='yes'/></vcpus>",
                      2, "3");
    assert_boot_vcpus("<vcpu current='2'>4</vcpu>",
                      "<vcpus><vcpu id='0' enabled='yes' hotpluggable='no'/>"
                      "<vcpu id='1' enabled='yes' hotpluggable='yes'/></vcpus>",
                      1, "1");
    /* order= gives the plug order. */
    assert_boot_vcpus("<vcpu current='4'>4</vcpu>",
                      "<vcpus><vcpu id='0' enabled='yes' hotpluggable='no' order='1'/>"
                      "<vcpu id='1' enabled='yes' hotpluggable='yes' order='4'/>"
                      "<vcpu id='2' enabled='yes' hotpluggable='yes' order='3'/>"
                      "<vcpu id='3' enabled='yes' hotpluggable='yes' order='2'/></vcpus>",
                      1, "3,2,1");
}

static void
test_boot_vcpus_refused(void)
{
    static const struct {
        const char *vcpus;
        const char *message;
    } cases[] = {
        {"<vcpus><vcpu id='0' enabled='no'/><vcpu id='1' enabled='yes'/></vcpus>",
         "vCPU 0 of domain 'cfg' must be enabled and not hotpluggable: QEMU always boots it"},
        {"<vcpus><vcpu id='1' enabled='yes'/></vcpus>",
         "vCPU 0 of domain 'cfg' must be enabled and not hotpluggable: QEMU always boots it"},
        {"<vcpus><vcpu id='0' enabled='yes' hotpluggable='yes'/></vcpus>",
         "vCPU 0 of domain 'cfg' must be enabled and not hotpluggable: QEMU always boots it"},
        {"<vcpus><vcpu id='0' enabled='yes'/><vcpu id='1' enabled='no'/>"
         "<vcpu id='2' enabled='no'/><vcpu id='3' enabled='yes' hotpluggable='no'/></vcpus>",
         "vCPU 3 of domain 'cfg' is enabled and not hotpluggable, so vCPU 1 before it must "
         "be too: QEMU boots only the first vCPUs"},
        /* An offline vCPU that is not hotpluggable could never be used. */
        {"<vcpus><vcpu id='0' enabled='yes'/><vcpu id='1' enabled='no' hotpluggable='no'/>"
         "</vcpus>",
         "vCPU 1 of domain 'cfg' is disabled and not hotpluggable: it could never come "
         "online"},
        /* order= on some enabled vCPUs only. */
        {"<vcpus><vcpu id='0' enabled='yes' hotpluggable='no'/>"
         "<vcpu id='1' enabled='yes' hotpluggable='yes' order='2'/></vcpus>",
         "vCPU 0 of domain 'cfg' has no order= while other enabled vCPUs have one: give it "
         "to all enabled vCPUs or to none"},
        {"<vcpus><vcpu id='0' enabled='yes'/><vcpu id='1' enabled='yes' hotpluggable='yes'/>"
         "<vcpu id='2' enabled='yes'/></vcpus>",
         "vCPU 2 of domain 'cfg' is enabled and not hotpluggable, so vCPU 1 before it must "
         "be too: QEMU boots only the first vCPUs"},
        {"<vcpus><vcpu id='0' enabled='yes' order='1'/>"
         "<vcpu id='1' enabled='yes' hotpluggable='yes' order='3'/>"
         "<vcpu id='2' enabled='yes' hotpluggable='yes' order='2'/>"
         "<vcpu id='3' enabled='yes' hotpluggable='yes' order='3'/></vcpus>",
         "vCPUs 1 and 3 of domain 'cfg' have the same order 3"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(DomainDef) def = parse_def("<vcpu current='2'>4</vcpu>", cases[i].vcpus);
        g_autoptr(GError) err = NULL;
        unsigned int boot = 0;
        g_assert_null(qemu_hotplug_boot_vcpus(def, &boot, &err));
        g_assert_error(err, virt_error_quark(VIR_FROM_QEMU), VIR_ERR_CONFIG_UNSUPPORTED);
        g_assert_cmpstr(err->message, ==, cases[i].message);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu-hotplug/parse-slots", test_parse_slots);
    g_test_add_func("/qemu-hotplug/parse-slots-topology", test_parse_slots_topology);
    g_test_add_func("/qemu-hotplug/parse-slots-errors", test_parse_slots_errors);
    g_test_add_func("/qemu-hotplug/plan-count", test_plan_count);
    g_test_add_func("/qemu-hotplug/add-args", test_add_args);
    g_test_add_func("/qemu-hotplug/path-is-removed", test_path_is_removed);
    g_test_add_func("/qemu-hotplug/def-vcpus", test_def_vcpus);
    g_test_add_func("/qemu-hotplug/config-setvcpu", test_config_setvcpu);
    g_test_add_func("/qemu-hotplug/config-setvcpu-refused", test_config_setvcpu_refused);
    g_test_add_func("/qemu-hotplug/config-fit", test_config_fit);
    g_test_add_func("/qemu-hotplug/boot-vcpus", test_boot_vcpus);
    g_test_add_func("/qemu-hotplug/boot-vcpus-refused", test_boot_vcpus_refused);
    return g_test_run();
}
