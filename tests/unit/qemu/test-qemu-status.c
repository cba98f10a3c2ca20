/* Status files: a round trip keeps everything a restarted daemon needs; damaged files
 * are refused with a message that says what is wrong. */
#include <string.h>

#include "daemon/util/virt-error.h"
#include "drivers/qemu/qemu-status.h"
#include "golden.h"

static const char *domain_xml =
    "<domain type='qemu'><name>web1</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>"
    "<memory>131072</memory><vcpu>1</vcpu>"
    "<os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os></domain>";

static void
test_round_trip(void)
{
    g_autoptr(GError) err = NULL;
    QemuStatus st = {
        .state = VIR_DOMAIN_PAUSED,
        .reason = VIR_DOMAIN_PAUSED_USER,
        .id = 7,
        .pid = 4242,
        .monitor_path = g_strdup("/run/libvirt/qemu/domain-7-web1/monitor.sock"),
        .def = domain_def_parse(domain_xml, 0, &err),
    };
    g_assert_no_error(err);
    g_autofree char *xml = qemu_status_format(&st);
    g_assert_true(g_str_has_prefix(xml, "<domstatus state='paused' reason='1' pid='4242' id='7'>"));
    g_assert_nonnull(strstr(xml, "  <domain type='qemu' id='7'>"));

    QemuStatus back;
    g_assert_true(qemu_status_parse(xml, &back, &err));
    g_assert_no_error(err);
    g_assert_cmpint(back.state, ==, VIR_DOMAIN_PAUSED);
    g_assert_cmpint(back.reason, ==, VIR_DOMAIN_PAUSED_USER);
    g_assert_cmpint(back.id, ==, 7);
    g_assert_cmpint(back.pid, ==, 4242);
    g_assert_cmpstr(back.monitor_path, ==, st.monitor_path);
    g_assert_cmpstr(domain_def_get_name(back.def), ==, "web1");
    g_assert_false(back.vcpu_unplugged);
    g_autofree char *again = qemu_status_format(&back);
    g_assert_cmpstr(again, ==, xml);

    /* A vCPU unplugged in this run is remembered. */
    back.vcpu_unplugged = TRUE;
    back.updated = TRUE;
    g_autofree char *unplugged = qemu_status_format(&back);
    g_assert_nonnull(strstr(unplugged, "  <vcpus unplugged='yes'/>\n"));
    g_assert_nonnull(strstr(unplugged, "  <config updated='yes'/>\n"));
    QemuStatus third;
    g_assert_true(qemu_status_parse(unplugged, &third, &err));
    g_assert_true(third.vcpu_unplugged);
    g_assert_true(third.updated);
    qemu_status_clear(&third);
    qemu_status_clear(&back);
    qemu_status_clear(&st);
}

static char *
data_path(const char *name)
{
    const char *srcdir = g_getenv("VIRTD_SRCDIR");
    return g_build_filename(srcdir ? srcdir : ".", "tests", "data", "qemu", name, NULL);
}

/* A vCPU removal still waiting for the guest survives a daemon restart: its QOM path and
 * vCPU (tests/data/qemu/status-unplug-pending.xml). */
static void
test_pending_unplug(void)
{
    g_autoptr(GError) err = NULL;
    QemuStatus st = {
        .state = VIR_DOMAIN_RUNNING,
        .reason = VIR_DOMAIN_RUNNING_BOOTED,
        .id = 3,
        .pid = 5151,
        .monitor_path = g_strdup("/run/libvirt/qemu/domain-3-web1/monitor.sock"),
        .def = domain_def_parse(domain_xml, 0, &err),
        .vcpu_unplugged = TRUE,
        .unplug_path = g_strdup("/machine/peripheral/vcpu2"),
        .unplug_vcpu = 2,
    };
    g_assert_no_error(err);
    g_autofree char *xml = qemu_status_format(&st);
    g_autofree char *golden = data_path("status-unplug-pending.xml");
    golden_assert(golden, xml);

    QemuStatus back;
    g_assert_true(qemu_status_parse(xml, &back, &err));
    g_assert_no_error(err);
    g_assert_true(back.vcpu_unplugged);
    g_assert_cmpstr(back.unplug_path, ==, "/machine/peripheral/vcpu2");
    g_assert_cmpuint(back.unplug_vcpu, ==, 2);
    g_autofree char *again = qemu_status_format(&back);
    g_assert_cmpstr(again, ==, xml);

    /* A boot vCPU (path with brackets), and the flag alone: both kept apart. */
    g_free(back.unplug_path);
    back.unplug_path = g_strdup("/machine/unattached/device[1]");
    back.unplug_vcpu = 1;
    back.vcpu_unplugged = FALSE;
    g_autofree char *boot = qemu_status_format(&back);
    g_assert_nonnull(strstr(boot, "  <vcpus>\n    <unplug vcpu='1' "
                                  "path='/machine/unattached/device[1]'/>\n  </vcpus>\n"));
    QemuStatus third;
    g_assert_true(qemu_status_parse(boot, &third, &err));
    g_assert_false(third.vcpu_unplugged);
    g_assert_cmpstr(third.unplug_path, ==, "/machine/unattached/device[1]");
    g_assert_cmpuint(third.unplug_vcpu, ==, 1);
    qemu_status_clear(&third);

    /* Done: nothing pending is written. */
    g_clear_pointer(&back.unplug_path, g_free);
    back.vcpu_unplugged = TRUE;
    g_autofree char *done = qemu_status_format(&back);
    g_assert_nonnull(strstr(done, "  <vcpus unplugged='yes'/>\n"));
    g_assert_null(strstr(done, "<unplug"));
    qemu_status_clear(&back);
    qemu_status_clear(&st);
}

/* A damaged <unplug> is dropped, not the domain: the daemon must still find its QEMU. */
static void
test_damaged_unplug(void)
{
    g_autofree char *golden = data_path("status-unplug-pending.xml");
    g_autofree char *good = NULL;
    g_assert_true(g_file_get_contents(golden, &good, NULL, NULL));
    static const char *const damaged[] = {
        "<unplug vcpu='2'/>",
        "<unplug path='/machine/peripheral/vcpu2'/>",
        "<unplug vcpu='two' path='/machine/peripheral/vcpu2'/>",
        "<unplug vcpu='-1' path='/machine/peripheral/vcpu2'/>",
        "<unplug vcpu='2' path=''/>",
    };
    const char *entry = "<unplug vcpu='2' path='/machine/peripheral/vcpu2'/>";
    g_assert_nonnull(strstr(good, entry));
    for (gsize i = 0; i < G_N_ELEMENTS(damaged); i++) {
        g_autoptr(GString) xml = g_string_new(good);
        g_string_replace(xml, entry, damaged[i], 1);
        g_autoptr(GError) err = NULL;
        QemuStatus st;
        g_assert_true(qemu_status_parse(xml->str, &st, &err));
        g_assert_no_error(err);
        g_assert_null(st.unplug_path);
        g_assert_true(st.vcpu_unplugged);
        g_assert_cmpint(st.pid, ==, 5151);
        qemu_status_clear(&st);
    }
}

static void
test_damaged_files(void)
{
    static const struct {
        const char *xml, *message;
    } cases[] = {
        {"<nope/>", "status file: not a <domstatus> document"},
        {"garbage", "status file: not a <domstatus> document"},
        {"<domstatus state='flying' reason='0' pid='1' id='1'/>",
         "status file: unknown state 'flying'"},
        {"<domstatus state='running' reason='1' id='1'/>",
         "status file: attribute 'pid' of <domstatus> is missing or invalid"},
        {"<domstatus state='running' reason='1' pid='12' id='1'/>",
         "status file: <monitor> or <domain> is missing"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        QemuStatus st;
        g_assert_false(qemu_status_parse(cases[i].xml, &st, &err));
        g_assert_cmpint(err->code, ==, VIR_ERR_XML_ERROR);
        g_assert_cmpstr(err->message, ==, cases[i].message);
        g_assert_null(st.def);
        g_assert_null(st.monitor_path);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu/status/round-trip", test_round_trip);
    g_test_add_func("/qemu/status/damaged", test_damaged_files);
    g_test_add_func("/qemu/status/pending-unplug", test_pending_unplug);
    g_test_add_func("/qemu/status/damaged-unplug", test_damaged_unplug);
    return g_test_run();
}
