/* Per-disk I/O throttling: typed parameters -> limits (libvirt's merge rules, QEMU's
 * validity rules and their messages) -> <iotune> strings and block_set_io_throttle
 * arguments; finding a disk's device in a canned query-block reply of QEMU 7.2. */
#include <string.h>

#include <libvirt/libvirt.h>

#include "daemon/util/virt-error.h"
#include "drivers/qemu/qemu-command.h"
#include "drivers/qemu/qemu-iotune.h"

#define E15 G_GUINT64_CONSTANT(1000000000000000)

/* One parameter of a set call: an ullong, or a string when @s is not NULL. */
typedef struct {
    const char *field;
    guint64 value;
    const char *s;
} Param;

static GArray *
params_of(const Param *list)
{
    GArray *params = domain_params_new();
    for (; list && list->field; list++) {
        if (list->s)
            domain_params_add_string(params, list->field, list->s);
        else
            domain_params_add_ullong(params, list->field, list->value);
    }
    return params;
}

/* "field=value ..." of the non-zero limits of @t, group last: a compact expectation. */
static char *
describe(const QemuIotune *t)
{
    GString *s = g_string_new(NULL);
    for (int i = 0; i < DOMAIN_IOTUNE_LAST; i++) {
        if (t->values[i])
            g_string_append_printf(s, "%s%s=%" G_GUINT64_FORMAT, s->len ? " " : "",
                                   qemu_iotune_field_name(i), t->values[i]);
    }
    if (t->group_name)
        g_string_append_printf(s, "%sgroup_name=%s", s->len ? " " : "", t->group_name);
    return g_string_free(s, FALSE);
}

typedef struct {
    const char *name;
    Param before[8];    /* the disk's limits before the call */
    Param given[8];     /* the call's parameters */
    const char *after;  /* describe() of the result, NULL when refused */
    const char *error;  /* the message when refused */
    int code;
} MergeCase;

static const MergeCase merge_cases[] = {
    {"first limit", {{0}}, {{"total_bytes_sec", 2000000}}, "total_bytes_sec=2000000"},
    {"other kinds are kept", {{"total_bytes_sec", 1000}, {"read_iops_sec", 50}},
     {{"write_bytes_sec_max", 0}}, "total_bytes_sec=1000 read_iops_sec=50"},
    /* Any of total/read/write replaces the three of its kind. */
    {"read replaces total", {{"total_bytes_sec", 1000}},
     {{"read_bytes_sec", 500}}, "read_bytes_sec=500"},
    {"read replaces read and write", {{"read_iops_sec", 5}, {"write_iops_sec", 6}},
     {{"read_iops_sec", 7}}, "read_iops_sec=7"},
    {"total replaces read and write", {{"read_bytes_sec", 5}, {"write_bytes_sec", 6}},
     {{"total_bytes_sec", 7}}, "total_bytes_sec=7"},
    /* A kept burst goes with its base; a given one stays. */
    {"burst goes with its base",
     {{"total_bytes_sec", 1000}, {"total_bytes_sec_max", 2000},
      {"total_bytes_sec_max_length", 5}},
     {{"read_bytes_sec", 500}}, "read_bytes_sec=500"},
    {"burst kept with its base",
     {{"total_bytes_sec", 1000}, {"total_bytes_sec_max", 2000},
      {"total_bytes_sec_max_length", 5}},
     {{"total_bytes_sec", 1500}},
     "total_bytes_sec=1500 total_bytes_sec_max=2000 total_bytes_sec_max_length=5"},
    {"new burst on a kept base", {{"write_iops_sec", 10}},
     {{"write_iops_sec_max", 40}, {"write_iops_sec_max_length", 3}},
     "write_iops_sec=10 write_iops_sec_max=40 write_iops_sec_max_length=3"},
    {"size goes with the last IOPS limit", {{"total_iops_sec", 100}, {"size_iops_sec", 4096}},
     {{"total_iops_sec", 0}}, ""},
    {"size kept with IOPS", {{"total_iops_sec", 100}, {"size_iops_sec", 4096}},
     {{"total_bytes_sec", 1}}, "total_bytes_sec=1 total_iops_sec=100 size_iops_sec=4096"},
    {"everything cleared", {{"total_bytes_sec", 1}, {"total_iops_sec", 2}},
     {{"total_bytes_sec", 0}, {"total_iops_sec", 0}}, ""},
    {"group set", {{"total_bytes_sec", 1}}, {{"group_name", 0, "g1"}},
     "total_bytes_sec=1 group_name=g1"},
    {"group kept", {{"total_bytes_sec", 1}, {"group_name", 0, "g1"}},
     {{"total_bytes_sec", 2}}, "total_bytes_sec=2 group_name=g1"},
    {"group removed", {{"total_bytes_sec", 1}, {"group_name", 0, "g1"}},
     {{"group_name", 0, ""}}, "total_bytes_sec=1"},
    {"largest value", {{0}}, {{"total_iops_sec", E15}}, "total_iops_sec=1000000000000000"},

    /* Refused, with the parameters named. */
    {"total with read", {{0}}, {{"total_bytes_sec", 1}, {"read_bytes_sec", 2}}, NULL,
     "'total_bytes_sec' and 'read_bytes_sec' cannot be set at the same time",
     VIR_ERR_INVALID_ARG},
    {"total with write (IOPS)", {{0}}, {{"total_iops_sec", 1}, {"write_iops_sec", 2}}, NULL,
     "'total_iops_sec' and 'write_iops_sec' cannot be set at the same time",
     VIR_ERR_INVALID_ARG},
    {"total burst with read burst", {{"total_bytes_sec", 1}, {"read_bytes_sec", 0}},
     {{"total_bytes_sec_max", 5}, {"read_bytes_sec_max", 6}}, NULL,
     "'total_bytes_sec_max' and 'read_bytes_sec_max' cannot be set at the same time",
     VIR_ERR_INVALID_ARG},
    {"burst without base", {{0}}, {{"write_iops_sec_max", 10}}, NULL,
     "'write_iops_sec_max' needs 'write_iops_sec' to be set", VIR_ERR_INVALID_ARG},
    {"burst below base", {{0}}, {{"total_bytes_sec", 10}, {"total_bytes_sec_max", 5}}, NULL,
     "'total_bytes_sec_max' (5) cannot be lower than 'total_bytes_sec' (10)",
     VIR_ERR_INVALID_ARG},
    {"length without burst", {{"total_bytes_sec", 10}}, {{"total_bytes_sec_max_length", 3}},
     NULL, "'total_bytes_sec_max_length' needs 'total_bytes_sec_max' to be set",
     VIR_ERR_INVALID_ARG},
    {"given burst whose base goes", {{"read_bytes_sec", 10}},
     {{"write_bytes_sec", 5}, {"read_bytes_sec_max", 20}}, NULL,
     "'read_bytes_sec_max' needs 'read_bytes_sec' to be set", VIR_ERR_INVALID_ARG},
    {"too large", {{0}}, {{"read_bytes_sec", E15 + 1}}, NULL,
     "'read_bytes_sec' must be at most 1000000000000000, not 1000000000000001",
     VIR_ERR_INVALID_ARG},
    {"burst too long", {{0}},
     {{"total_iops_sec", 10}, {"total_iops_sec_max", 1000}, {"total_iops_sec_max_length",
                                                            E15}},
     NULL, "'total_iops_sec_max' times 'total_iops_sec_max_length' must be at most "
           "1000000000000000", VIR_ERR_INVALID_ARG},
    {"size without IOPS", {{"total_bytes_sec", 1}}, {{"size_iops_sec", 4096}}, NULL,
     "'size_iops_sec' needs 'total_iops_sec', 'read_iops_sec' or 'write_iops_sec' to be set",
     VIR_ERR_INVALID_ARG},
    {"unknown parameter", {{0}}, {{"total_bytes_sec", 1}, {"bogus", 1}}, NULL,
     "parameter 'bogus' is not supported (known: total_bytes_sec, read_bytes_sec, "
     "write_bytes_sec, total_iops_sec, read_iops_sec, write_iops_sec, total_bytes_sec_max, "
     "read_bytes_sec_max, write_bytes_sec_max, total_iops_sec_max, read_iops_sec_max, "
     "write_iops_sec_max, size_iops_sec, group_name, total_bytes_sec_max_length, "
     "read_bytes_sec_max_length, write_bytes_sec_max_length, total_iops_sec_max_length, "
     "read_iops_sec_max_length, write_iops_sec_max_length)", VIR_ERR_ARGUMENT_UNSUPPORTED},
    {"group name as a number", {{0}}, {{"group_name", 1}}, NULL,
     "parameter 'group_name' must be of type 'string', not 'ullong'", VIR_ERR_INVALID_ARG},
};

static void
set_from(QemuIotune *t, const Param *list)
{
    memset(t, 0, sizeof(*t));
    for (; list->field; list++) {
        if (list->s) {
            t->group_name = g_strdup(list->s);
            continue;
        }
        for (int i = 0; i < DOMAIN_IOTUNE_LAST; i++) {
            if (strcmp(qemu_iotune_field_name(i), list->field) == 0)
                t->values[i] = list->value;
        }
    }
}

static void
test_merge(gconstpointer data)
{
    const MergeCase *c = data;
    g_auto(QemuIotune) t = {0};
    set_from(&t, c->before);
    g_autofree char *before = describe(&t);
    g_autoptr(GArray) params = params_of(c->given);
    g_autoptr(GError) err = NULL;

    gboolean ok = qemu_iotune_merge(&t, params, &err);
    g_autofree char *after = describe(&t);
    if (c->after) {
        g_assert_no_error(err);
        g_assert_true(ok);
        g_assert_cmpstr(after, ==, c->after);
    } else {
        g_assert_false(ok);
        g_assert_nonnull(err);
        g_assert_cmpstr(err->message, ==, c->error);
        g_assert_cmpint(err->code, ==, c->code);
        g_assert_cmpstr(after, ==, before); /* untouched */
    }
}

/* Domain @name with the disks @disks (XML). */
static DomainDef *
def_with_disks(const char *name, const char *disks)
{
    g_autofree char *xml = g_strdup_printf("<domain type='qemu'><name>%s</name>"
                                           "<memory unit='MiB'>64</memory>"
                                           "<os><type arch='x86_64'>hvm</type></os>"
                                           "<devices>%s</devices></domain>", name, disks);
    g_autoptr(GError) err = NULL;
    DomainDef *def = domain_def_parse(xml, 0, &err);
    g_assert_no_error(err);
    return def;
}

/* <iotune> strings: unset values are absent, so no limits means no element at all. */
static void
test_disk_strings(void)
{
    g_autoptr(DomainDef) def = def_with_disks(
        "t", "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
             "<source file='/var/lib/a.img'/><target dev='vda' bus='virtio'/>"
             "<iotune><total_bytes_sec>1000</total_bytes_sec><group_name>g</group_name>"
             "</iotune></disk>");
    DomainDiskDef *disk = ptr_vec_index(&def->devices.disks, 0);

    g_auto(QemuIotune) t = {0};
    qemu_iotune_from_disk(disk, &t);
    g_autofree char *got = describe(&t);
    g_assert_cmpstr(got, ==, "total_bytes_sec=1000 group_name=g");

    t.values[DOMAIN_IOTUNE_TOTAL_BYTES_SEC] = 0;
    t.values[DOMAIN_IOTUNE_READ_BYTES_SEC] = 2097152;
    qemu_iotune_to_disk(&t, disk);
    g_autofree char *out = domain_def_format(def, -1, 0);
    g_assert_nonnull(strstr(out, "      <iotune>\n"
                                 "        <read_bytes_sec>2097152</read_bytes_sec>\n"
                                 "        <group_name>g</group_name>\n"
                                 "      </iotune>\n"));

    qemu_iotune_clear(&t);
    g_assert_true(qemu_iotune_is_empty(&t));
    qemu_iotune_to_disk(&t, disk);
    g_autofree char *none = domain_def_format(def, -1, 0);
    g_assert_null(strstr(none, "iotune"));
}

/* The TUNABLE event of a live set: the disk as named by the caller, then what was given
 * (even a 0), in the caller's order, with libvirt's names. */
static void
test_tunable(void)
{
    static const Param set[] = {
        {"write_iops_sec", 20, NULL},
        {"total_bytes_sec", 0, NULL},
        {"group_name", 0, "grp"},
        {"read_iops_sec_max_length", 7, NULL},
        {"size_iops_sec", 4096, NULL},
        {NULL, 0, NULL},
    };
    g_autoptr(GArray) params = params_of(set);
    g_autoptr(GArray) ev = qemu_iotune_tunable("/var/lib/x.img", params);
    g_assert_cmpuint(ev->len, ==, 6);
    const DomainTypedParam *p = &g_array_index(ev, DomainTypedParam, 0);
    g_assert_cmpstr(p->field, ==, "blkdeviotune.disk");
    g_assert_cmpint(p->type, ==, VIR_TYPED_PARAM_STRING);
    g_assert_cmpstr(p->value.s, ==, "/var/lib/x.img");
    static const char *const names[] = {
        "blkdeviotune.write_iops_sec", "blkdeviotune.total_bytes_sec",
        "blkdeviotune.group_name", "blkdeviotune.read_iops_sec_max_length",
        "blkdeviotune.size_iops_sec",
    };
    for (guint i = 1; i < ev->len; i++) {
        p = &g_array_index(ev, DomainTypedParam, i);
        g_assert_cmpstr(p->field, ==, names[i - 1]);
        if (set[i - 1].s) {
            g_assert_cmpint(p->type, ==, VIR_TYPED_PARAM_STRING);
            g_assert_cmpstr(p->value.s, ==, set[i - 1].s);
        } else {
            g_assert_cmpint(p->type, ==, VIR_TYPED_PARAM_ULLONG);
            g_assert_cmpuint(p->value.ul, ==, set[i - 1].value);
        }
    }

    g_autoptr(GArray) empty = domain_params_new();
    g_autoptr(GArray) only_disk = qemu_iotune_tunable("vda", empty);
    g_assert_cmpuint(only_disk->len, ==, 1);
}

/* A get call's parameters: libvirt's order, every value an ullong, group_name a string
 * only for clients that take strings. */
static void
test_params(void)
{
    g_auto(QemuIotune) t = {0};
    t.values[DOMAIN_IOTUNE_READ_IOPS_SEC] = 30;
    t.values[DOMAIN_IOTUNE_WRITE_BYTES_SEC_MAX_LENGTH] = 4;

    g_autoptr(GArray) all = qemu_iotune_to_params(&t, TRUE);
    g_assert_cmpuint(all->len, ==, 20);
    static const char *const order[] = {
        VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_BYTES_SEC, VIR_DOMAIN_BLOCK_IOTUNE_READ_BYTES_SEC,
        VIR_DOMAIN_BLOCK_IOTUNE_WRITE_BYTES_SEC, VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_IOPS_SEC,
        VIR_DOMAIN_BLOCK_IOTUNE_READ_IOPS_SEC, VIR_DOMAIN_BLOCK_IOTUNE_WRITE_IOPS_SEC,
        VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_BYTES_SEC_MAX, VIR_DOMAIN_BLOCK_IOTUNE_READ_BYTES_SEC_MAX,
        VIR_DOMAIN_BLOCK_IOTUNE_WRITE_BYTES_SEC_MAX, VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_IOPS_SEC_MAX,
        VIR_DOMAIN_BLOCK_IOTUNE_READ_IOPS_SEC_MAX, VIR_DOMAIN_BLOCK_IOTUNE_WRITE_IOPS_SEC_MAX,
        VIR_DOMAIN_BLOCK_IOTUNE_SIZE_IOPS_SEC, VIR_DOMAIN_BLOCK_IOTUNE_GROUP_NAME,
        VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_BYTES_SEC_MAX_LENGTH,
        VIR_DOMAIN_BLOCK_IOTUNE_READ_BYTES_SEC_MAX_LENGTH,
        VIR_DOMAIN_BLOCK_IOTUNE_WRITE_BYTES_SEC_MAX_LENGTH,
        VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_IOPS_SEC_MAX_LENGTH,
        VIR_DOMAIN_BLOCK_IOTUNE_READ_IOPS_SEC_MAX_LENGTH,
        VIR_DOMAIN_BLOCK_IOTUNE_WRITE_IOPS_SEC_MAX_LENGTH,
    };
    for (guint i = 0; i < all->len; i++) {
        const DomainTypedParam *p = &g_array_index(all, DomainTypedParam, i);
        g_assert_cmpstr(p->field, ==, order[i]);
        if (i == DOMAIN_IOTUNE_GROUP_NAME) {
            g_assert_cmpint(p->type, ==, VIR_TYPED_PARAM_STRING);
            g_assert_cmpstr(p->value.s, ==, "");
        } else {
            g_assert_cmpint(p->type, ==, VIR_TYPED_PARAM_ULLONG);
        }
    }
    g_assert_cmpuint(domain_params_find(all, "read_iops_sec")->value.ul, ==, 30);
    g_assert_cmpuint(domain_params_find(all, "write_bytes_sec_max_length")->value.ul, ==, 4);

    g_autoptr(GArray) numbers = qemu_iotune_to_params(&t, FALSE);
    g_assert_cmpuint(numbers->len, ==, 19);
    g_assert_null(domain_params_find(numbers, "group_name"));
}

static char *
qmp_args_text(const QemuIotune *t, const char *qdev)
{
    json_object *args = qemu_iotune_qmp_args(t, qdev);
    char *text = g_strdup(json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(args);
    return text;
}

/* block_set_io_throttle: the six rates are required, bursts 0 mean none, a burst length
 * is left out unless set (QEMU refuses 0), the group only when there is one. */
static void
test_qmp_args(void)
{
    g_auto(QemuIotune) t = {0};
    g_autofree char *none = qmp_args_text(&t, "ide0-0-1");
    g_assert_cmpstr(none, ==,
                    "{\"id\":\"ide0-0-1\",\"bps\":0,\"bps_rd\":0,\"bps_wr\":0,\"iops\":0,"
                    "\"iops_rd\":0,\"iops_wr\":0,\"bps_max\":0,\"bps_rd_max\":0,"
                    "\"bps_wr_max\":0,\"iops_max\":0,\"iops_rd_max\":0,\"iops_wr_max\":0,"
                    "\"iops_size\":0}");

    t.values[DOMAIN_IOTUNE_READ_BYTES_SEC] = 2097152;
    t.values[DOMAIN_IOTUNE_READ_BYTES_SEC_MAX] = 4194304;
    t.values[DOMAIN_IOTUNE_READ_BYTES_SEC_MAX_LENGTH] = 2;
    t.values[DOMAIN_IOTUNE_TOTAL_IOPS_SEC] = 200;
    t.values[DOMAIN_IOTUNE_SIZE_IOPS_SEC] = 8192;
    t.group_name = g_strdup("db");
    g_autofree char *some =
        qmp_args_text(&t, "/machine/peripheral/virtio-disk0/virtio-backend");
    g_assert_cmpstr(some, ==,
                    "{\"id\":\"/machine/peripheral/virtio-disk0/virtio-backend\",\"bps\":0,"
                    "\"bps_rd\":2097152,\"bps_wr\":0,\"iops\":200,\"iops_rd\":0,\"iops_wr\":0,"
                    "\"bps_max\":0,\"bps_rd_max\":4194304,\"bps_wr_max\":0,\"iops_max\":0,"
                    "\"iops_rd_max\":0,\"iops_wr_max\":0,\"iops_size\":8192,"
                    "\"bps_rd_max_length\":2,\"group\":\"db\"}");
}

/* query-block of QEMU 7.2 with a virtio disk and an IDE CD-ROM (-blockdev nodes named by
 * our command line), abridged. */
static const char *query_block_reply =
    "[{\"io-status\": \"ok\", \"device\": \"\", \"locked\": false, \"removable\": false,"
    "  \"inserted\": {\"iops_rd\": 0, \"detect_zeroes\": \"off\", \"iops_wr\": 0,"
    "    \"ro\": true, \"node-name\": \"libvirt-1-format\", \"drv\": \"raw\", \"iops\": 0,"
    "    \"bps_wr\": 0, \"bps\": 0, \"bps_rd\": 0, \"file\": \"/tmp/a.img\"},"
    "  \"qdev\": \"/machine/peripheral/virtio-disk0/virtio-backend\", \"type\": \"unknown\"},"
    " {\"io-status\": \"ok\", \"device\": \"\", \"locked\": false, \"removable\": true,"
    "  \"qdev\": \"ide0-1-0\", \"tray_open\": false, \"type\": \"unknown\"},"
    " {\"io-status\": \"ok\", \"device\": \"\", \"locked\": false, \"removable\": true,"
    "  \"inserted\": {\"ro\": true, \"node-name\": \"libvirt-2-format\", \"drv\": \"raw\","
    "    \"bps\": 0, \"file\": \"/tmp/b.iso\"},"
    "  \"qdev\": \"ide0-0-1\", \"tray_open\": false, \"type\": \"unknown\"}]";

static void
test_find_qdev(void)
{
    json_object *reply = json_tokener_parse(query_block_reply);
    g_assert_nonnull(reply);
    g_assert_cmpstr(qemu_iotune_find_qdev(reply, "libvirt-1-format"), ==,
                    "/machine/peripheral/virtio-disk0/virtio-backend");
    g_assert_cmpstr(qemu_iotune_find_qdev(reply, "libvirt-2-format"), ==, "ide0-0-1");
    g_assert_null(qemu_iotune_find_qdev(reply, "libvirt-3-format"));
    g_assert_null(qemu_iotune_find_qdev(reply, "libvirt-1-storage"));
    json_object_put(reply);

    json_object *not_array = json_tokener_parse("{\"return\": []}");
    g_assert_null(qemu_iotune_find_qdev(not_array, "libvirt-1-format"));
    json_object_put(not_array);
}

/* Disks by target or source; node names count only disks with media. */
static void
test_find_disk(void)
{
    g_autoptr(DomainDef) def = def_with_disks(
        "web", "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>"
               "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
               "<source file='/var/lib/a.img'/><target dev='vda' bus='virtio'/></disk>"
               "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
               "<source file='/var/lib/b.qcow2'/><target dev='vdb' bus='virtio'/></disk>");
    g_autoptr(GError) err = NULL;

    int vda = domain_def_find_disk(def, "vda", &err);
    int vdb = domain_def_find_disk(def, "/var/lib/b.qcow2", &err);
    g_assert_no_error(err);
    g_assert_cmpint(domain_def_find_disk(def, "hdc", &err), >=, 0);
    g_autofree char *node_a = qemu_command_disk_node(def, vda);
    g_autofree char *node_b = qemu_command_disk_node(def, vdb);
    g_assert_cmpstr(node_a, ==, "libvirt-1-format");
    g_assert_cmpstr(node_b, ==, "libvirt-2-format");

    g_assert_cmpint(domain_def_find_disk(def, "vdz", &err), ==, -1);
    g_assert_error(err, virt_error_quark(VIR_FROM_DOMAIN), VIR_ERR_INVALID_ARG);
    g_assert_cmpstr(err->message, ==, "domain 'web' has no disk 'vdz'");
}

/* The arguments for a disk of a definition, from the reply of the QEMU that runs it. */
static void
test_throttle_args(void)
{
    g_autoptr(DomainDef) def = def_with_disks(
        "web", "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
               "<source file='/tmp/a.img'/><target dev='vda' bus='virtio'/></disk>"
               "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>"
               "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
               "<source file='/tmp/b.iso'/><target dev='hdb' bus='ide'/></disk>"
               "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
               "<source file='/tmp/c.img'/><target dev='vdc' bus='virtio'/></disk>");
    json_object *reply = json_tokener_parse(query_block_reply);
    g_auto(QemuIotune) t = {0};
    t.values[DOMAIN_IOTUNE_TOTAL_IOPS_SEC] = 100;
    g_autoptr(GError) err = NULL;

    /* Disks of one bus are kept sorted: vda, hdb, hdc, vdc; hdb is libvirt-2-format. */
    int hdb = domain_def_find_disk(def, "hdb", &err);
    int vdc = domain_def_find_disk(def, "vdc", &err);
    json_object *args = qemu_iotune_throttle_args(reply, def, hdb, &t, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(json_object_get_string(json_object_object_get(args, "id")), ==, "ide0-0-1");
    g_assert_cmpint(json_object_get_int64(json_object_object_get(args, "iops")), ==, 100);
    json_object_put(args);

    /* vdc is libvirt-3-format, which this QEMU does not have. */
    g_assert_null(qemu_iotune_throttle_args(reply, def, vdc, &t, &err));
    g_assert_error(err, virt_error_quark(VIR_FROM_QEMU), VIR_ERR_OPERATION_FAILED);
    g_assert_cmpstr(err->message, ==, "QEMU has no device for disk 'vdc'");
    json_object_put(reply);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(merge_cases); i++) {
        g_autofree char *path = g_strdup_printf("/qemu/iotune/merge/%s", merge_cases[i].name);
        g_test_add_data_func(path, &merge_cases[i], test_merge);
    }
    g_test_add_func("/qemu/iotune/disk-strings", test_disk_strings);
    g_test_add_func("/qemu/iotune/params", test_params);
    g_test_add_func("/qemu/iotune/tunable", test_tunable);
    g_test_add_func("/qemu/iotune/qmp-args", test_qmp_args);
    g_test_add_func("/qemu/iotune/find-qdev", test_find_qdev);
    g_test_add_func("/qemu/iotune/find-disk", test_find_disk);
    g_test_add_func("/qemu/iotune/throttle-args", test_throttle_args);
    return g_test_run();
}
