/* Statistics parsing: canned QMP replies (as QEMU 7.2 sends them), procfs text, image
 * headers, CPU lists and key codes -> the values libvirt clients are given. */
#include <string.h>

#include "daemon/util/virt-error.h"
#include "drivers/qemu/qemu-stats.h"

static json_object *
parse(const char *text)
{
    json_object *obj = json_tokener_parse(text);
    g_assert_nonnull(obj);
    return obj;
}

/* query-blockstats of a domain with one qcow2 disk (-blockdev, node names from the
 * command line), after the guest read its first sector. */
static const char *blockstats_reply =
    "[{\"device\": \"\", \"node-name\": \"libvirt-1-format\","
    "  \"qdev\": \"/machine/peripheral/virtio-disk0/virtio-backend\","
    "  \"stats\": {\"flush_total_time_ns\": 0, \"wr_highest_offset\": 4096,"
    "    \"wr_total_time_ns\": 1500, \"failed_wr_operations\": 0,"
    "    \"failed_rd_operations\": 0, \"wr_merged\": 0, \"wr_bytes\": 4096,"
    "    \"timed_stats\": [], \"failed_flush_operations\": 0, \"account_invalid\": true,"
    "    \"rd_total_time_ns\": 118178, \"flush_operations\": 2, \"wr_operations\": 1,"
    "    \"rd_merged\": 0, \"rd_bytes\": 512, \"account_failed\": true,"
    "    \"idle_time_ns\": 1729047445, \"rd_operations\": 1},"
    "  \"parent\": {\"node-name\": \"libvirt-1-storage\", \"stats\": {\"rd_bytes\": 99,"
    "    \"wr_highest_offset\": 196608}}},"
    " {\"device\": \"\", \"node-name\": \"libvirt-2-format\", \"qdev\": \"ide0-0-0\","
    "  \"stats\": {\"rd_bytes\": 7, \"rd_operations\": 3}}]";

static void
test_blockstats(void)
{
    json_object *reply = parse(blockstats_reply);
    QemuBlockCounters c;
    g_assert_true(qemu_stats_parse_blockstats(reply, "libvirt-1-format", &c));
    g_assert_cmpint(c.rd_operations, ==, 1);
    g_assert_cmpint(c.rd_bytes, ==, 512);
    g_assert_cmpint(c.rd_total_time_ns, ==, 118178);
    g_assert_cmpint(c.wr_operations, ==, 1);
    g_assert_cmpint(c.wr_bytes, ==, 4096);
    g_assert_cmpint(c.wr_total_time_ns, ==, 1500);
    g_assert_cmpint(c.flush_operations, ==, 2);
    g_assert_cmpint(c.flush_total_time_ns, ==, 0);
    g_assert_cmpint(c.wr_highest_offset, ==, 4096); /* the format node's, not the file's */

    /* What QEMU leaves out is unknown (-1), never 0. */
    g_assert_true(qemu_stats_parse_blockstats(reply, "libvirt-2-format", &c));
    g_assert_cmpint(c.rd_operations, ==, 3);
    g_assert_cmpint(c.wr_operations, ==, -1);
    g_assert_cmpint(c.flush_total_time_ns, ==, -1);

    g_assert_false(qemu_stats_parse_blockstats(reply, "libvirt-3-format", &c));
    g_assert_false(qemu_stats_parse_blockstats(reply, "libvirt-1-storage", &c));
    json_object_put(reply);

    json_object *not_array = parse("{\"return\": []}");
    g_assert_false(qemu_stats_parse_blockstats(not_array, "libvirt-1-format", &c));
    g_assert_false(qemu_stats_parse_blockstats(NULL, "libvirt-1-format", &c));
    json_object_put(not_array);
}

static void
test_block_sizes(void)
{
    json_object *reply = parse(
        "[{\"io-status\": \"ok\", \"device\": \"\", \"locked\": false, \"removable\": false,"
        "  \"inserted\": {\"iops_rd\": 0, \"detect_zeroes\": \"off\", \"image\": {"
        "    \"virtual-size\": 67108864, \"filename\": \"/tmp/d.qcow2\", \"cluster-size\": 65536,"
        "    \"format\": \"qcow2\", \"actual-size\": 200704, \"dirty-flag\": false},"
        "    \"node-name\": \"libvirt-1-format\", \"drv\": \"qcow2\", \"ro\": false},"
        "  \"qdev\": \"/machine/peripheral/virtio-disk0/virtio-backend\", \"type\": \"unknown\"},"
        " {\"device\": \"\", \"qdev\": \"ide0-1-0\", \"removable\": true, \"locked\": false,"
        "  \"tray_open\": false, \"type\": \"unknown\"}]");
    guint64 virt = 1, actual = 1;
    g_assert_true(qemu_stats_parse_block_sizes(reply, "libvirt-1-format", &virt, &actual));
    g_assert_cmpuint(virt, ==, 67108864);
    g_assert_cmpuint(actual, ==, 200704);
    /* An empty drive (no medium) has no node. */
    g_assert_false(qemu_stats_parse_block_sizes(reply, "libvirt-2-format", &virt, &actual));
    json_object_put(reply);
}

static void
test_balloon(void)
{
    json_object *reply = parse("{\"actual\": 268435456}");
    guint64 kib = 0;
    g_assert_true(qemu_stats_parse_balloon(reply, &kib));
    g_assert_cmpuint(kib, ==, 262144);
    json_object_put(reply);

    json_object *empty = parse("{}");
    g_assert_false(qemu_stats_parse_balloon(empty, &kib));
    g_assert_false(qemu_stats_parse_balloon(NULL, &kib));
    json_object_put(empty);
}

static void
test_guest_stats(void)
{
    /* A guest without stats polling: every value is -1 as an unsigned number. */
    json_object *none = parse(
        "{\"stats\": {\"stat-htlb-pgalloc\": 18446744073709551615,"
        " \"stat-swap-out\": 18446744073709551615, \"stat-available-memory\": 18446744073709551615,"
        " \"stat-htlb-pgfail\": 18446744073709551615, \"stat-free-memory\": 18446744073709551615,"
        " \"stat-minor-faults\": 18446744073709551615, \"stat-major-faults\": 18446744073709551615,"
        " \"stat-total-memory\": 18446744073709551615, \"stat-swap-in\": 18446744073709551615,"
        " \"stat-disk-caches\": 18446744073709551615}, \"last-update\": 0}");
    g_autoptr(GArray) stats = g_array_new(FALSE, TRUE, sizeof(DomainMemoryStat));
    qemu_stats_parse_guest_stats(none, stats);
    g_assert_cmpuint(stats->len, ==, 1);
    g_assert_cmpint(g_array_index(stats, DomainMemoryStat, 0).tag, ==,
                    VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE);
    g_assert_cmpuint(g_array_index(stats, DomainMemoryStat, 0).value, ==, 0);
    json_object_put(none);

    /* A polling guest: bytes become KiB, counts stay counts, libvirt's order. */
    json_object *some = parse(
        "{\"stats\": {\"stat-swap-in\": 0, \"stat-swap-out\": 0, \"stat-major-faults\": 12,"
        " \"stat-minor-faults\": 3456, \"stat-free-memory\": 104857600,"
        " \"stat-total-memory\": 209715200, \"stat-available-memory\": 157286400,"
        " \"stat-disk-caches\": 1048576, \"stat-htlb-pgalloc\": 0, \"stat-htlb-pgfail\": 0},"
        " \"last-update\": 1700000000}");
    g_array_set_size(stats, 0);
    qemu_stats_parse_guest_stats(some, stats);
    static const DomainMemoryStat want[] = {
        {VIR_DOMAIN_MEMORY_STAT_SWAP_IN, 0},
        {VIR_DOMAIN_MEMORY_STAT_SWAP_OUT, 0},
        {VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT, 12},
        {VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT, 3456},
        {VIR_DOMAIN_MEMORY_STAT_UNUSED, 102400},
        {VIR_DOMAIN_MEMORY_STAT_AVAILABLE, 204800},
        {VIR_DOMAIN_MEMORY_STAT_USABLE, 153600},
        {VIR_DOMAIN_MEMORY_STAT_DISK_CACHES, 1024},
        {VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGALLOC, 0},
        {VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGFAIL, 0},
        {VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE, 1700000000},
    };
    g_assert_cmpuint(stats->len, ==, G_N_ELEMENTS(want));
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        g_assert_cmpint(g_array_index(stats, DomainMemoryStat, i).tag, ==, want[i].tag);
        g_assert_cmpuint(g_array_index(stats, DomainMemoryStat, i).value, ==, want[i].value);
    }
    json_object_put(some);

    /* No reply (no balloon): nothing. */
    g_array_set_size(stats, 0);
    qemu_stats_parse_guest_stats(NULL, stats);
    g_assert_cmpuint(stats->len, ==, 0);
}

static void
test_vcpu_threads(void)
{
    json_object *reply = parse(
        "[{\"thread-id\": 11530, \"props\": {\"core-id\": 0, \"thread-id\": 0, \"socket-id\": 0},"
        "  \"qom-path\": \"/machine/unattached/device[0]\", \"cpu-index\": 0, \"target\": \"x86_64\"},"
        " {\"thread-id\": 11531, \"props\": {\"core-id\": 0, \"thread-id\": 0, \"socket-id\": 1},"
        "  \"qom-path\": \"/machine/unattached/device[2]\", \"cpu-index\": 1, \"target\": \"x86_64\"},"
        " {\"props\": {}, \"cpu-index\": 2}]");
    g_autoptr(GArray) threads = qemu_stats_parse_vcpu_threads(reply);
    g_assert_cmpuint(threads->len, ==, 2); /* the entry without a thread is skipped */
    g_assert_cmpuint(g_array_index(threads, QemuVcpuThread, 0).index, ==, 0);
    g_assert_cmpint(g_array_index(threads, QemuVcpuThread, 0).tid, ==, 11530);
    g_assert_cmpuint(g_array_index(threads, QemuVcpuThread, 1).index, ==, 1);
    g_assert_cmpint(g_array_index(threads, QemuVcpuThread, 1).tid, ==, 11531);
    json_object_put(reply);

    g_autoptr(GArray) none = qemu_stats_parse_vcpu_threads(NULL);
    g_assert_cmpuint(none->len, ==, 0);
}

static void
test_vcpu_comm(void)
{
    unsigned int index = 99;
    g_assert_true(qemu_stats_parse_vcpu_comm("CPU 0/TCG\n", &index));
    g_assert_cmpuint(index, ==, 0);
    g_assert_true(qemu_stats_parse_vcpu_comm("CPU 12/KVM", &index));
    g_assert_cmpuint(index, ==, 12);
    g_assert_false(qemu_stats_parse_vcpu_comm("qemu-system-x86", &index));
    g_assert_false(qemu_stats_parse_vcpu_comm("CPU x/TCG", &index));
    g_assert_false(qemu_stats_parse_vcpu_comm("CPU 1", &index));
    g_assert_false(qemu_stats_parse_vcpu_comm("worker", &index));
    g_assert_false(qemu_stats_parse_vcpu_comm(NULL, &index));
}

static void
test_proc_stat(void)
{
    /* A vCPU thread; its name has a space and a parenthesis. */
    const char *text =
        "11530 (CPU 0/TCG) (x) R 1 11520 11520 0 -1 4194368 123 0 0 0 "
        "188 12 0 0 20 0 4 0 5812345 1234567890 31234 18446744073709551615 1 1 0 0 0 0 0 "
        "4096 0 0 0 0 -1 1 0 0 0 0 0\n";
    QemuProcStat st;
    g_assert_true(qemu_stats_parse_proc_stat(text, &st));
    g_assert_cmpuint(st.utime_ticks, ==, 188);
    g_assert_cmpuint(st.stime_ticks, ==, 12);
    g_assert_cmpint(st.processor, ==, 1);

    g_assert_false(qemu_stats_parse_proc_stat("12 (short) R 1 2 3\n", &st));
    g_assert_false(qemu_stats_parse_proc_stat("garbage", &st));
    g_assert_false(qemu_stats_parse_proc_stat(NULL, &st));
}

static void
test_vmrss(void)
{
    guint64 kib = 0;
    g_assert_true(qemu_stats_parse_vmrss("Name:\tqemu-system-x86\nVmHWM:\t  130000 kB\n"
                                         "VmRSS:\t  127280 kB\nRssAnon:\t  1 kB\n",
                                         &kib));
    g_assert_cmpuint(kib, ==, 127280);
    g_assert_false(qemu_stats_parse_vmrss("Name:\tkthreadd\nState:\tS\n", &kib));
    g_assert_false(qemu_stats_parse_vmrss("XVmRSS: 1 kB\n", &kib));
}

static void
test_qcow2_size(void)
{
    guint8 header[32] = {'Q', 'F', 'I', 0xfb, 0, 0, 0, 3};
    header[24 + 4] = 0x04; /* 64 MiB = 0x04000000 */
    guint64 size = 0;
    g_assert_true(qemu_stats_qcow2_size(header, sizeof(header), &size));
    g_assert_cmpuint(size, ==, 67108864);
    g_assert_false(qemu_stats_qcow2_size(header, 16, &size));
    header[0] = 'X';
    g_assert_false(qemu_stats_qcow2_size(header, sizeof(header), &size));
}

static void
test_cpuset(void)
{
    guint8 map[2];
    g_autoptr(GError) err = NULL;
    g_assert_true(qemu_stats_parse_cpuset("0-3,^2,6", map, sizeof(map), 16, &err));
    g_assert_no_error(err);
    g_assert_cmphex(map[0], ==, 0x4b); /* 0, 1, 3, 6 */
    g_assert_cmphex(map[1], ==, 0);

    /* CPUs the host does not have, or beyond the map, are left out. */
    g_assert_true(qemu_stats_parse_cpuset("1,9-12", map, sizeof(map), 10, &err));
    g_assert_cmphex(map[0], ==, 0x02);
    g_assert_cmphex(map[1], ==, 0x02);
    g_assert_true(qemu_stats_parse_cpuset("0-40", map, 1, 64, &err));
    g_assert_cmphex(map[0], ==, 0xff);

    static const char *const bad[] = {"", "a", "3-1", "1-", "^2", "1,,2", "0-2x"};
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_clear_error(&err);
        map[0] = 0x55;
        g_assert_false(qemu_stats_parse_cpuset(bad[i], map, sizeof(map), 16, &err));
        g_assert_true(virt_error_is(err, VIR_ERR_CONFIG_UNSUPPORTED));
        g_autofree char *want = g_strdup_printf("'%s' is not a valid CPU list", bad[i]);
        g_assert_cmpstr(err->message, ==, want);
        g_assert_cmphex(map[0], ==, 0x55); /* untouched on failure */
    }
}

static void
test_keycodes(void)
{
    static const struct {
        unsigned int set, code;
        int qnum;
    } cases[] = {
        {VIR_KEYCODE_SET_LINUX, 30, 0x1e},  /* KEY_A */
        {VIR_KEYCODE_SET_LINUX, 44, 0x2c},  /* KEY_Z */
        {VIR_KEYCODE_SET_LINUX, 2, 0x02},   /* KEY_1 */
        {VIR_KEYCODE_SET_LINUX, 11, 0x0b},  /* KEY_0 */
        {VIR_KEYCODE_SET_LINUX, 28, 0x1c},  /* KEY_ENTER */
        {VIR_KEYCODE_SET_LINUX, 1, 0x01},   /* KEY_ESC */
        {VIR_KEYCODE_SET_LINUX, 57, 0x39},  /* KEY_SPACE */
        {VIR_KEYCODE_SET_LINUX, 14, 0x0e},  /* KEY_BACKSPACE */
        {VIR_KEYCODE_SET_LINUX, 15, 0x0f},  /* KEY_TAB */
        {VIR_KEYCODE_SET_LINUX, 42, 0x2a},  /* KEY_LEFTSHIFT */
        {VIR_KEYCODE_SET_LINUX, 29, 0x1d},  /* KEY_LEFTCTRL */
        {VIR_KEYCODE_SET_LINUX, 56, 0x38},  /* KEY_LEFTALT */
        {VIR_KEYCODE_SET_LINUX, 59, 0x3b},  /* KEY_F1 */
        {VIR_KEYCODE_SET_LINUX, 68, 0x44},  /* KEY_F10 */
        {VIR_KEYCODE_SET_LINUX, 87, 0x57},  /* KEY_F11 */
        {VIR_KEYCODE_SET_LINUX, 88, 0x58},  /* KEY_F12 */
        {VIR_KEYCODE_SET_LINUX, 103, 0xc8}, /* KEY_UP */
        {VIR_KEYCODE_SET_LINUX, 108, 0xd0}, /* KEY_DOWN */
        {VIR_KEYCODE_SET_LINUX, 105, 0xcb}, /* KEY_LEFT */
        {VIR_KEYCODE_SET_LINUX, 106, 0xcd}, /* KEY_RIGHT */
        {VIR_KEYCODE_SET_LINUX, 97, 0x9d},  /* KEY_RIGHTCTRL */
        {VIR_KEYCODE_SET_LINUX, 111, 0xd3}, /* KEY_DELETE */
        {VIR_KEYCODE_SET_LINUX, 0, -1},     /* KEY_RESERVED */
        {VIR_KEYCODE_SET_LINUX, 240, -1},   /* KEY_UNKNOWN */
        {VIR_KEYCODE_SET_USB, 4, 0x1e},     /* a */
        {VIR_KEYCODE_SET_USB, 29, 0x2c},    /* z */
        {VIR_KEYCODE_SET_USB, 40, 0x1c},    /* enter */
        {VIR_KEYCODE_SET_USB, 82, 0xc8},    /* up */
        {VIR_KEYCODE_SET_USB, 224, 0x1d},   /* left ctrl */
        {VIR_KEYCODE_SET_USB, 1, -1},
        {VIR_KEYCODE_SET_XT, 30, 0x1e},
        {VIR_KEYCODE_SET_XT, 0x80, -1},
        {VIR_KEYCODE_SET_ATSET1, 0x1e, 0x1e},
        {VIR_KEYCODE_SET_ATSET1, 0xe048, 0xc8}, /* up */
        {VIR_KEYCODE_SET_ATSET1, 0xe1, -1},
        {VIR_KEYCODE_SET_QNUM, 0x1e, 0x1e},
        {VIR_KEYCODE_SET_QNUM, 0xc8, 0xc8},
        {VIR_KEYCODE_SET_QNUM, 0x100, -1},
        {VIR_KEYCODE_SET_WIN32, 65, -1},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        int got = qemu_stats_keycode_to_qnum(cases[i].set, cases[i].code);
        if (got != cases[i].qnum)
            g_error("set %u code %u: got %d, want %d", cases[i].set, cases[i].code, got,
                    cases[i].qnum);
    }
    g_assert_true(qemu_stats_codeset_supported(VIR_KEYCODE_SET_LINUX));
    g_assert_true(qemu_stats_codeset_supported(VIR_KEYCODE_SET_QNUM));
    g_assert_false(qemu_stats_codeset_supported(VIR_KEYCODE_SET_OSX));
    g_assert_cmpstr(qemu_stats_codeset_name(VIR_KEYCODE_SET_USB), ==, "usb");
    g_assert_cmpstr(qemu_stats_codeset_name(VIR_KEYCODE_SET_QNUM), ==, "qnum");
    g_assert_null(qemu_stats_codeset_name(99));
}

static void
test_record(void)
{
    DomainRef ref = {.name = (char *)"web1", .id = 3};
    DomainStatsRecord *rec = qemu_stats_record_new(&ref);
    qemu_stats_add_int(rec, 1, "state.state");
    qemu_stats_add_uint(rec, 2, "vcpu.current");
    qemu_stats_add_ullong(rec, G_MAXUINT64, "block.%u.rd.bytes", 0);
    qemu_stats_add_string(rec, "vda", "block.%u.name", 0);
    g_assert_cmpstr(rec->dom.name, ==, "web1");
    g_assert_cmpint(rec->dom.id, ==, 3);
    g_assert_cmpuint(rec->params->len, ==, 4);
    DomainTypedParam *p = &g_array_index(rec->params, DomainTypedParam, 2);
    g_assert_cmpstr(p->field, ==, "block.0.rd.bytes");
    g_assert_cmpint(p->type, ==, VIR_TYPED_PARAM_ULLONG);
    g_assert_cmpuint(p->value.ul, ==, G_MAXUINT64);
    p = &g_array_index(rec->params, DomainTypedParam, 3);
    g_assert_cmpint(p->type, ==, VIR_TYPED_PARAM_STRING);
    g_assert_cmpstr(p->value.s, ==, "vda");
    qemu_stats_record_free(rec);
    qemu_stats_record_free(NULL);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu-stats/blockstats", test_blockstats);
    g_test_add_func("/qemu-stats/block-sizes", test_block_sizes);
    g_test_add_func("/qemu-stats/balloon", test_balloon);
    g_test_add_func("/qemu-stats/guest-stats", test_guest_stats);
    g_test_add_func("/qemu-stats/vcpu-threads", test_vcpu_threads);
    g_test_add_func("/qemu-stats/vcpu-comm", test_vcpu_comm);
    g_test_add_func("/qemu-stats/proc-stat", test_proc_stat);
    g_test_add_func("/qemu-stats/vmrss", test_vmrss);
    g_test_add_func("/qemu-stats/qcow2-size", test_qcow2_size);
    g_test_add_func("/qemu-stats/cpuset", test_cpuset);
    g_test_add_func("/qemu-stats/keycodes", test_keycodes);
    g_test_add_func("/qemu-stats/record", test_record);
    return g_test_run();
}
