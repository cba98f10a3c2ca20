/* The QEMU driver's definition side on a temporary config_dir: define, lookups, lists,
 * undefine, rename, autostart, metadata, vCPUs, memory, persistence and reload. The
 * emulator is a fake that leaves a mark when run: definitions must never probe QEMU. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libvirt/virterror.h>

#include "daemon/util/virt-error.h"
#include "canned-caps.h"
#include "drivers/qemu/qemu-driver.h"
#include "drivers/qemu/qemu-driver-priv.h"

#define UUID1 "6f1c3a52-0d4e-4b8a-9e21-3c5d7f9a0b01"
#define UUID2 "6f1c3a52-0d4e-4b8a-9e21-3c5d7f9a0b02"
#define UUID3 "6f1c3a52-0d4e-4b8a-9e21-3c5d7f9a0b03"

typedef struct {
    char *root;
    char *config_dir;
    char *probe_mark; /* created by the fake emulator if anything runs it */
    VirtDriver *drv;
    GPtrArray *events; /* strings describing each event, in order */
    GMutex events_lock;
} Fixture;

/* ---------------------------------------------------------------------------------- */
/* Helpers                                                                             */

static char *
domain_xml(const char *name, const char *uuid, unsigned int memory_kib, unsigned int vcpus)
{
    return g_strdup_printf("<domain type='qemu'>\n"
                           "  <name>%s</name>\n"
                           "  <uuid>%s</uuid>\n"
                           "  <memory unit='KiB'>%u</memory>\n"
                           "  <vcpu placement='static' current='1'>%u</vcpu>\n"
                           "  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n"
                           "</domain>\n",
                           name, uuid, memory_kib, vcpus);
}

static void
uuid_parse_str(const char *str, unsigned char out[VIRT_UUID_LEN])
{
    /* 8-4-4-4-12 hex digits */
    int j = 0;
    for (int i = 0; str[i] && j < VIRT_UUID_LEN; i++) {
        if (str[i] == '-')
            continue;
        out[j++] = (g_ascii_xdigit_value(str[i]) << 4) | g_ascii_xdigit_value(str[i + 1]);
        i++;
    }
}

static void
record_event(const DomainEvent *ev, gpointer user_data)
{
    Fixture *fx = user_data;
    char *text;
    if (ev->event_id == VIR_DOMAIN_EVENT_ID_LIFECYCLE)
        text = g_strdup_printf("lifecycle %s %d %d", ev->dom.name, ev->lifecycle_event,
                               ev->lifecycle_detail);
    else if (ev->event_id == VIR_DOMAIN_EVENT_ID_METADATA_CHANGE)
        text = g_strdup_printf("metadata %s %d %s", ev->dom.name, ev->metadata_type,
                               ev->metadata_nsuri ? ev->metadata_nsuri : "(null)");
    else
        text = g_strdup_printf("other %d", ev->event_id);
    g_mutex_lock(&fx->events_lock);
    g_ptr_array_add(fx->events, text);
    g_mutex_unlock(&fx->events_lock);
}

/* Check the recorded events against @expected (NULL-terminated) and forget them. */
static void
assert_events(Fixture *fx, const char *const *expected)
{
    g_mutex_lock(&fx->events_lock);
    guint n = expected ? g_strv_length((char **)expected) : 0;
    for (guint i = 0; i < MIN(n, fx->events->len); i++)
        g_assert_cmpstr(g_ptr_array_index(fx->events, i), ==, expected[i]);
    g_assert_cmpuint(fx->events->len, ==, n);
    g_ptr_array_set_size(fx->events, 0);
    g_mutex_unlock(&fx->events_lock);
}

#define ASSERT_EVENTS(fx, ...)                                                              \
    do {                                                                                   \
        const char *const expected_[] = { __VA_ARGS__, NULL };                            \
        assert_events(fx, expected_);                                                      \
    } while (0)
#define ASSERT_NO_EVENTS(fx) assert_events(fx, NULL)

static void
assert_error(GError *err, int vir_from, int vir_code, const char *message)
{
    g_assert_nonnull(err);
    g_assert_cmpint(virt_error_from(err->domain), ==, vir_from);
    g_assert_cmpint(err->code, ==, vir_code);
    if (message)
        g_assert_cmpstr(err->message, ==, message);
}

/* A driver on the fixture's tree. With @canned, QEMU capabilities come from the canned
 * replies of tests/data/qemu; without, the driver would have to probe the fake emulator. */
static VirtDriver *
new_driver(Fixture *fx, gboolean canned)
{
    g_autofree char *emulator = g_build_filename(fx->root, "fake-qemu", NULL);
    g_autofree char *cache_dir = g_build_filename(fx->root, "cache", NULL);
    g_autoptr(QemuCaps) caps = canned ? canned_caps("x86_64", emulator, FALSE) : NULL;
    QemuDriverConfig cfg = {
        .config_dir = fx->config_dir,
        .emulator = emulator,
        .cache_dir = cache_dir,
        .host = { .proc_root = "/", .sys_root = "/" },
        .caps = caps,
    };
    g_autoptr(GError) err = NULL;
    VirtDriver *drv = qemu_driver_new(&cfg, &err);
    g_assert_no_error(err);
    g_assert_nonnull(drv);
    drv->set_event_sink(drv, record_event, fx);
    return drv;
}

static void
start_driver(Fixture *fx)
{
    fx->drv = new_driver(fx, TRUE);
}

static void
restart_driver(Fixture *fx)
{
    fx->drv->shutdown(fx->drv);
    fx->drv = NULL;
    start_driver(fx);
}

static void
remove_tree(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    if (dir) {
        const char *name;
        while ((name = g_dir_read_name(dir))) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
                !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
                remove_tree(child);
            else
                g_unlink(child);
        }
        g_dir_close(dir);
    }
    g_rmdir(path);
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
    fx->root = g_dir_make_tmp("virtd-qemu-driver-XXXXXX", NULL);
    g_assert_nonnull(fx->root);
    fx->config_dir = g_build_filename(fx->root, "etc", "qemu", NULL);
    fx->probe_mark = g_build_filename(fx->root, "probed", NULL);
    g_autofree char *fake = g_build_filename(fx->root, "fake-qemu", NULL);
    g_autofree char *script = g_strdup_printf("#!/bin/sh\ntouch '%s'\nexit 1\n", fx->probe_mark);
    g_assert_true(g_file_set_contents(fake, script, -1, NULL));
    g_assert_cmpint(g_chmod(fake, 0755), ==, 0);
    fx->events = g_ptr_array_new_with_free_func(g_free);
    g_mutex_init(&fx->events_lock);
    start_driver(fx);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
    if (fx->drv)
        fx->drv->shutdown(fx->drv);
    /* Nothing here needed QEMU. */
    g_assert_false(g_file_test(fx->probe_mark, G_FILE_TEST_EXISTS));
    remove_tree(fx->root);
    g_free(fx->root);
    g_free(fx->config_dir);
    g_free(fx->probe_mark);
    g_ptr_array_unref(fx->events);
    g_mutex_clear(&fx->events_lock);
}

static void
define(Fixture *fx, const char *name, const char *uuid, DomainRef *ret)
{
    g_autofree char *xml = domain_xml(name, uuid, 131072, 2);
    g_autoptr(GError) err = NULL;
    DomainRef ref = { 0 };
    g_assert_true(fx->drv->domain_define_xml(fx->drv, xml, 0, &ref, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(ref.name, ==, name);
    if (ret)
        *ret = ref;
    else
        domain_ref_clear(&ref);
}

static char *
config_path(Fixture *fx, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(fx->config_dir, file, NULL);
}

static char *
autostart_path(Fixture *fx, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(fx->config_dir, "autostart", file, NULL);
}

/* Names of list_all_domains(@flags), joined by spaces. */
static char *
list_names(Fixture *fx, unsigned int flags)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) list = fx->drv->list_all_domains(fx->drv, flags, &err);
    g_assert_no_error(err);
    GString *out = g_string_new(NULL);
    for (guint i = 0; i < list->len; i++) {
        const DomainRef *ref = g_ptr_array_index(list, i);
        if (i)
            g_string_append_c(out, ' ');
        g_string_append(out, ref->name);
    }
    return g_string_free(out, FALSE);
}

/* ---------------------------------------------------------------------------------- */
/* Tests                                                                               */

static void
test_define_and_lookup(Fixture *fx, gconstpointer data)
{
    unsigned char uuid[VIRT_UUID_LEN];
    uuid_parse_str(UUID1, uuid);
    DomainRef ref = { 0 };
    define(fx, "web1", UUID1, &ref);
    g_assert_cmpmem(ref.uuid, VIRT_UUID_LEN, uuid, VIRT_UUID_LEN);
    g_assert_cmpint(ref.id, ==, -1);
    domain_ref_clear(&ref);
    ASSERT_EVENTS(fx, "lifecycle web1 0 0"); /* DEFINED ADDED */

    /* The file: our header, then the inactive XML, private to root. */
    g_autofree char *path = config_path(fx, "web1");
    g_autofree char *contents = NULL;
    g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
    g_assert_true(g_str_has_prefix(contents, "<!-- Managed by virtd"));
    g_assert_nonnull(strstr(contents, "<name>web1</name>"));
    g_assert_nonnull(strstr(contents, "<uuid>" UUID1 "</uuid>"));
    struct stat st;
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);

    g_autoptr(GError) err = NULL;
    g_assert_true(fx->drv->domain_lookup_by_name(fx->drv, "web1", &ref, &err));
    g_assert_cmpmem(ref.uuid, VIRT_UUID_LEN, uuid, VIRT_UUID_LEN);
    domain_ref_clear(&ref);
    g_assert_true(fx->drv->domain_lookup_by_uuid(fx->drv, uuid, &ref, &err));
    g_assert_cmpstr(ref.name, ==, "web1");
    domain_ref_clear(&ref);

    g_assert_false(fx->drv->domain_lookup_by_name(fx->drv, "nosuch", &ref, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_NO_DOMAIN, "no domain with matching name 'nosuch'");
    g_clear_error(&err);
    unsigned char other[VIRT_UUID_LEN];
    uuid_parse_str(UUID3, other);
    g_assert_false(fx->drv->domain_lookup_by_uuid(fx->drv, other, &ref, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_NO_DOMAIN,
                 "no domain with matching uuid '" UUID3 "'");
    g_clear_error(&err);
    g_assert_false(fx->drv->domain_lookup_by_id(fx->drv, 42, &ref, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_NO_DOMAIN, "no domain with matching id 42");
    g_clear_error(&err);

    /* What a defined, never started domain reports. */
    int state = -1, reason = -1;
    g_assert_true(fx->drv->domain_get_state(fx->drv, uuid, &state, &reason, &err));
    g_assert_cmpint(state, ==, VIR_DOMAIN_SHUTOFF);
    g_assert_cmpint(reason, ==, VIR_DOMAIN_SHUTOFF_UNKNOWN);
    DomainInfoData info;
    g_assert_true(fx->drv->domain_get_info(fx->drv, uuid, &info, &err));
    g_assert_cmpint(info.state, ==, VIR_DOMAIN_SHUTOFF);
    g_assert_cmpuint(info.max_mem_kib, ==, 131072);
    g_assert_cmpuint(info.memory_kib, ==, 131072);
    g_assert_cmpuint(info.nr_virt_cpu, ==, 1);
    g_assert_cmpuint(info.cpu_time_ns, ==, 0);
    g_assert_cmpint(fx->drv->domain_is_active(fx->drv, uuid, &err), ==, 0);
    g_assert_cmpint(fx->drv->domain_is_persistent(fx->drv, uuid, &err), ==, 1);
    g_assert_cmpint(fx->drv->domain_is_updated(fx->drv, uuid, &err), ==, 0);
    g_assert_cmpint(fx->drv->domain_get_autostart(fx->drv, uuid, &err), ==, 0);
    g_autofree char *os_type = fx->drv->domain_get_os_type(fx->drv, uuid, &err);
    g_assert_cmpstr(os_type, ==, "hvm");
    guint64 max_kib = 0;
    g_assert_true(fx->drv->domain_get_max_memory(fx->drv, uuid, &max_kib, &err));
    g_assert_cmpuint(max_kib, ==, 131072);
    g_assert_cmpint(fx->drv->domain_has_managed_save_image(fx->drv, uuid, 0, &err), ==, 0);
    g_auto(GStrv) messages = fx->drv->domain_get_messages(fx->drv, uuid, 0, &err);
    g_assert_nonnull(messages);
    g_assert_null(messages[0]);
    g_assert_no_error(err);

    g_autofree char *xml = fx->drv->domain_get_xml_desc(fx->drv, uuid, 0, &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(xml, "<name>web1</name>"));
    g_assert_true(g_str_has_prefix(xml, "<domain type='qemu'>\n")); /* no id= */
    g_assert_null(fx->drv->domain_get_xml_desc(fx->drv, uuid, 0x100, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG, "unsupported flags (0x100)");
    g_clear_error(&err);
    g_assert_cmpint(fx->drv->domain_has_managed_save_image(fx->drv, uuid, 1, &err), ==, -1);
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG, "unsupported flags (0x1)");
    ASSERT_NO_EVENTS(fx);
}

static void
test_define_conflicts(Fixture *fx, gconstpointer data)
{
    define(fx, "web1", UUID1, NULL);
    ASSERT_EVENTS(fx, "lifecycle web1 0 0");

    /* Same name and uuid: an update. */
    g_autofree char *bigger = domain_xml("web1", UUID1, 262144, 2);
    g_autoptr(GError) err = NULL;
    DomainRef ref = { 0 };
    g_assert_true(fx->drv->domain_define_xml(fx->drv, bigger, VIR_DOMAIN_DEFINE_VALIDATE, &ref,
                                             &err));
    g_assert_no_error(err);
    domain_ref_clear(&ref);
    ASSERT_EVENTS(fx, "lifecycle web1 0 1"); /* DEFINED UPDATED */
    guint64 max_kib = 0;
    g_assert_true(fx->drv->domain_get_max_memory(fx->drv, ref.uuid, &max_kib, &err));
    g_assert_cmpuint(max_kib, ==, 262144);

    /* Same name, another uuid. */
    g_autofree char *same_name = domain_xml("web1", UUID2, 131072, 2);
    g_assert_false(fx->drv->domain_define_xml(fx->drv, same_name, 0, &ref, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                 "domain 'web1' already exists with uuid '" UUID1 "'");
    g_clear_error(&err);

    /* Same uuid, another name. */
    g_autofree char *same_uuid = domain_xml("web2", UUID1, 131072, 2);
    g_assert_false(fx->drv->domain_define_xml(fx->drv, same_uuid, 0, &ref, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                 "uuid '" UUID1 "' is already used by domain 'web1'");
    g_clear_error(&err);
    g_autofree char *web2 = config_path(fx, "web2");
    g_assert_false(g_file_test(web2, G_FILE_TEST_EXISTS));

    g_assert_false(fx->drv->domain_define_xml(fx->drv, same_uuid, 0x2, &ref, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG, "unsupported flags (0x2)");
    g_clear_error(&err);

    /* Broken XML: the parser's error, nothing defined. */
    g_assert_false(fx->drv->domain_define_xml(fx->drv, "<domain", 0, &ref, &err));
    g_assert_nonnull(err);
    g_assert_cmpint(err->code, !=, VIR_ERR_INTERNAL_ERROR);
    g_clear_error(&err);

    g_autofree char *names = list_names(fx, 0);
    g_assert_cmpstr(names, ==, "web1");
    ASSERT_NO_EVENTS(fx);
}

static void
test_undefine(Fixture *fx, gconstpointer data)
{
    DomainRef ref = { 0 };
    define(fx, "web1", UUID1, &ref);
    g_autoptr(GError) err = NULL;
    g_assert_true(fx->drv->domain_set_autostart(fx->drv, ref.uuid, TRUE, &err));
    ASSERT_EVENTS(fx, "lifecycle web1 0 0");

    g_assert_false(fx->drv->domain_undefine(fx->drv, ref.uuid, 0x1000, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG, "unsupported flags (0x1000)");
    g_clear_error(&err);
    g_assert_false(fx->drv->domain_undefine(
        fx->drv, ref.uuid, VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_KEEP_NVRAM, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                 "cannot both remove and keep the NVRAM file");
    g_clear_error(&err);

    const unsigned int flags =
        VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
        VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA;
    g_assert_true(fx->drv->domain_undefine(fx->drv, ref.uuid, flags, &err));
    g_assert_no_error(err);
    ASSERT_EVENTS(fx, "lifecycle web1 1 0"); /* UNDEFINED REMOVED */

    g_autofree char *path = config_path(fx, "web1");
    g_autofree char *link = autostart_path(fx, "web1");
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(link, G_FILE_TEST_IS_SYMLINK));

    DomainRef again = { 0 };
    g_assert_false(fx->drv->domain_lookup_by_name(fx->drv, "web1", &again, &err));
    g_clear_error(&err);
    g_assert_false(fx->drv->domain_undefine(fx->drv, ref.uuid, 0, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_NO_DOMAIN,
                 "no domain with matching uuid '" UUID1 "'");
    g_clear_error(&err);
    g_autofree char *names = list_names(fx, 0);
    g_assert_cmpstr(names, ==, "");

    /* Gone for a new driver too. */
    restart_driver(fx);
    g_free(names);
    names = list_names(fx, 0);
    g_assert_cmpstr(names, ==, "");
    domain_ref_clear(&ref);
    ASSERT_NO_EVENTS(fx);
}

static void
test_list_filters(Fixture *fx, gconstpointer data)
{
    DomainRef ref = { 0 };
    define(fx, "zeta", UUID2, NULL);
    define(fx, "alpha", UUID1, &ref);
    g_autoptr(GError) err = NULL;
    g_assert_true(fx->drv->domain_set_autostart(fx->drv, ref.uuid, TRUE, &err));
    domain_ref_clear(&ref);

    static const struct {
        unsigned int flags;
        const char *names;
    } cases[] = {
        { 0, "alpha zeta" },
        { VIR_CONNECT_LIST_DOMAINS_ACTIVE, "" },
        { VIR_CONNECT_LIST_DOMAINS_INACTIVE, "alpha zeta" },
        { VIR_CONNECT_LIST_DOMAINS_ACTIVE | VIR_CONNECT_LIST_DOMAINS_INACTIVE, "alpha zeta" },
        { VIR_CONNECT_LIST_DOMAINS_PERSISTENT, "alpha zeta" },
        { VIR_CONNECT_LIST_DOMAINS_TRANSIENT, "" },
        { VIR_CONNECT_LIST_DOMAINS_RUNNING, "" },
        { VIR_CONNECT_LIST_DOMAINS_PAUSED, "" },
        { VIR_CONNECT_LIST_DOMAINS_OTHER, "" },
        { VIR_CONNECT_LIST_DOMAINS_SHUTOFF, "alpha zeta" },
        { VIR_CONNECT_LIST_DOMAINS_RUNNING | VIR_CONNECT_LIST_DOMAINS_SHUTOFF, "alpha zeta" },
        { VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE, "" },
        { VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE, "alpha zeta" },
        { VIR_CONNECT_LIST_DOMAINS_AUTOSTART, "alpha" },
        { VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART, "zeta" },
        { VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT, "" },
        { VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT, "alpha zeta" },
        { VIR_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT, "" },
        { VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT, "alpha zeta" },
        { VIR_CONNECT_LIST_DOMAINS_INACTIVE | VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART, "zeta" },
        { VIR_CONNECT_LIST_DOMAINS_ACTIVE | VIR_CONNECT_LIST_DOMAINS_AUTOSTART, "" },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *names = list_names(fx, cases[i].flags);
        g_assert_cmpstr(names, ==, cases[i].names);
    }

    g_assert_null(fx->drv->list_all_domains(fx->drv, 1 << 20, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG, "unsupported flags (0x100000)");
}

static void
test_autostart(Fixture *fx, gconstpointer data)
{
    DomainRef ref = { 0 };
    define(fx, "web1", UUID1, &ref);
    g_autoptr(GError) err = NULL;
    g_autofree char *link = autostart_path(fx, "web1");
    g_autofree char *path = config_path(fx, "web1");

    g_assert_true(fx->drv->domain_set_autostart(fx->drv, ref.uuid, TRUE, &err));
    g_assert_true(fx->drv->domain_set_autostart(fx->drv, ref.uuid, TRUE, &err));
    g_assert_no_error(err);
    g_assert_cmpint(fx->drv->domain_get_autostart(fx->drv, ref.uuid, &err), ==, 1);
    /* An absolute link to the definition, as libvirt makes it. */
    g_autofree char *target = g_file_read_link(link, NULL);
    g_assert_cmpstr(target, ==, path);

    restart_driver(fx);
    g_assert_cmpint(fx->drv->domain_get_autostart(fx->drv, ref.uuid, &err), ==, 1);

    g_assert_true(fx->drv->domain_set_autostart(fx->drv, ref.uuid, FALSE, &err));
    g_assert_no_error(err);
    g_assert_false(g_file_test(link, G_FILE_TEST_IS_SYMLINK));
    g_assert_cmpint(fx->drv->domain_get_autostart(fx->drv, ref.uuid, &err), ==, 0);
    restart_driver(fx);
    g_assert_cmpint(fx->drv->domain_get_autostart(fx->drv, ref.uuid, &err), ==, 0);
    g_assert_no_error(err);

    /* A link that points elsewhere does not count. */
    g_assert_cmpint(symlink("/etc/hostname", link), ==, 0);
    restart_driver(fx);
    g_assert_cmpint(fx->drv->domain_get_autostart(fx->drv, ref.uuid, &err), ==, 0);
    domain_ref_clear(&ref);
    ASSERT_EVENTS(fx, "lifecycle web1 0 0");
}

static void
test_rename(Fixture *fx, gconstpointer data)
{
    DomainRef ref = { 0 };
    define(fx, "old", UUID1, &ref);
    define(fx, "taken", UUID2, NULL);
    g_autoptr(GError) err = NULL;
    g_assert_true(fx->drv->domain_set_autostart(fx->drv, ref.uuid, TRUE, &err));
    ASSERT_EVENTS(fx, "lifecycle old 0 0", "lifecycle taken 0 0");

    g_assert_false(fx->drv->domain_rename(fx->drv, ref.uuid, "taken", 0, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                 "domain 'taken' already exists");
    g_clear_error(&err);
    g_assert_false(fx->drv->domain_rename(fx->drv, ref.uuid, "old", 0, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                 "domain 'old' already has that name");
    g_clear_error(&err);
    g_assert_false(fx->drv->domain_rename(fx->drv, ref.uuid, "new", 1, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG, "unsupported flags (0x1)");
    g_clear_error(&err);
    g_assert_false(fx->drv->domain_rename(fx->drv, ref.uuid, "a/b", 0, &err));
    g_assert_nonnull(err);
    g_assert_cmpint(err->code, ==, VIR_ERR_INVALID_ARG);
    g_clear_error(&err);
    ASSERT_NO_EVENTS(fx);

    g_assert_true(fx->drv->domain_rename(fx->drv, ref.uuid, "new", 0, &err));
    g_assert_no_error(err);
    ASSERT_EVENTS(fx, "lifecycle old 1 1", "lifecycle new 0 2");

    g_autofree char *old_path = config_path(fx, "old");
    g_autofree char *new_path = config_path(fx, "new");
    g_autofree char *old_link = autostart_path(fx, "old");
    g_autofree char *new_link = autostart_path(fx, "new");
    g_assert_false(g_file_test(old_path, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(old_link, G_FILE_TEST_IS_SYMLINK));
    g_autofree char *target = g_file_read_link(new_link, NULL);
    g_assert_cmpstr(target, ==, new_path);
    g_autofree char *contents = NULL;
    g_assert_true(g_file_get_contents(new_path, &contents, NULL, NULL));
    g_assert_nonnull(strstr(contents, "<name>new</name>"));

    DomainRef found = { 0 };
    g_assert_false(fx->drv->domain_lookup_by_name(fx->drv, "old", &found, &err));
    g_clear_error(&err);
    g_assert_true(fx->drv->domain_lookup_by_uuid(fx->drv, ref.uuid, &found, &err));
    g_assert_cmpstr(found.name, ==, "new");
    domain_ref_clear(&found);
    g_autofree char *names = list_names(fx, VIR_CONNECT_LIST_DOMAINS_AUTOSTART);
    g_assert_cmpstr(names, ==, "new");

    restart_driver(fx);
    g_assert_true(fx->drv->domain_lookup_by_name(fx->drv, "new", &found, &err));
    domain_ref_clear(&found);
    g_assert_cmpint(fx->drv->domain_get_autostart(fx->drv, ref.uuid, &err), ==, 1);
    g_assert_no_error(err);
    domain_ref_clear(&ref);
}

static void
test_metadata(Fixture *fx, gconstpointer data)
{
    DomainRef ref = { 0 };
    define(fx, "web1", UUID1, &ref);
    ASSERT_EVENTS(fx, "lifecycle web1 0 0");
    g_autoptr(GError) err = NULL;

    g_assert_false(fx->drv->domain_set_metadata(fx->drv, ref.uuid, VIR_DOMAIN_METADATA_TITLE,
                                                "t", NULL, NULL, VIR_DOMAIN_AFFECT_LIVE, &err));
    assert_error(err, VIR_FROM_DOMAIN, VIR_ERR_OPERATION_INVALID, "domain is not running");
    g_clear_error(&err);
    g_assert_false(fx->drv->domain_set_metadata(fx->drv, ref.uuid, VIR_DOMAIN_METADATA_TITLE,
                                                "t", NULL, NULL, 0x10, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG, "unsupported flags (0x10)");
    g_clear_error(&err);
    ASSERT_NO_EVENTS(fx);

    g_assert_true(fx->drv->domain_set_metadata(fx->drv, ref.uuid, VIR_DOMAIN_METADATA_TITLE,
                                               "My title", NULL, NULL, 0, &err));
    g_assert_no_error(err);
    g_assert_true(fx->drv->domain_set_metadata(
        fx->drv, ref.uuid, VIR_DOMAIN_METADATA_DESCRIPTION, "A description", NULL, NULL,
        VIR_DOMAIN_AFFECT_CONFIG, &err));
    g_assert_true(fx->drv->domain_set_metadata(
        fx->drv, ref.uuid, VIR_DOMAIN_METADATA_ELEMENT, "<app version='1'/>", "ex",
        "http://example.org/app/", VIR_DOMAIN_AFFECT_CONFIG, &err));
    g_assert_no_error(err);
    ASSERT_EVENTS(fx, "metadata web1 1 (null)", "metadata web1 0 (null)",
                  "metadata web1 2 http://example.org/app/");

    g_autofree char *title =
        fx->drv->domain_get_metadata(fx->drv, ref.uuid, VIR_DOMAIN_METADATA_TITLE, NULL, 0, &err);
    g_assert_cmpstr(title, ==, "My title");
    g_assert_null(fx->drv->domain_get_metadata(fx->drv, ref.uuid, VIR_DOMAIN_METADATA_TITLE,
                                               NULL, VIR_DOMAIN_AFFECT_LIVE, &err));
    assert_error(err, VIR_FROM_DOMAIN, VIR_ERR_OPERATION_INVALID, "domain is not running");
    g_clear_error(&err);
    g_assert_null(fx->drv->domain_get_metadata(
        fx->drv, ref.uuid, VIR_DOMAIN_METADATA_TITLE, NULL,
        VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                 "flags 'live' and 'config' cannot be used together here");
    g_clear_error(&err);
    g_assert_null(fx->drv->domain_get_metadata(fx->drv, ref.uuid, VIR_DOMAIN_METADATA_ELEMENT,
                                               "http://example.org/other/", 0, &err));
    g_assert_nonnull(err);
    g_assert_cmpint(err->code, ==, VIR_ERR_NO_DOMAIN_METADATA);
    g_clear_error(&err);

    /* Persisted. */
    restart_driver(fx);
    g_autofree char *desc = fx->drv->domain_get_metadata(
        fx->drv, ref.uuid, VIR_DOMAIN_METADATA_DESCRIPTION, NULL, VIR_DOMAIN_AFFECT_CONFIG, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(desc, ==, "A description");
    g_autofree char *element = fx->drv->domain_get_metadata(
        fx->drv, ref.uuid, VIR_DOMAIN_METADATA_ELEMENT, "http://example.org/app/", 0, &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(element, "app"));
    g_assert_nonnull(strstr(element, "version="));

    /* Removal. */
    g_assert_true(fx->drv->domain_set_metadata(fx->drv, ref.uuid, VIR_DOMAIN_METADATA_TITLE,
                                               NULL, NULL, NULL, 0, &err));
    g_assert_null(fx->drv->domain_get_metadata(fx->drv, ref.uuid, VIR_DOMAIN_METADATA_TITLE,
                                               NULL, 0, &err));
    g_assert_nonnull(err);
    g_assert_cmpint(err->code, ==, VIR_ERR_NO_DOMAIN_METADATA);
    ASSERT_EVENTS(fx, "metadata web1 1 (null)");
    domain_ref_clear(&ref);
}

static void
test_vcpus(Fixture *fx, gconstpointer data)
{
    DomainRef ref = { 0 };
    define(fx, "web1", UUID1, &ref); /* 2 max, 1 current */
    g_autoptr(GError) err = NULL;
    VirtDriver *drv = fx->drv;

    g_assert_cmpint(drv->domain_get_vcpus_flags(drv, ref.uuid, 0, &err), ==, 1);
    g_assert_cmpint(drv->domain_get_vcpus_flags(drv, ref.uuid, VIR_DOMAIN_VCPU_MAXIMUM, &err),
                    ==, 2);
    g_assert_cmpint(drv->domain_get_vcpus_flags(
                        drv, ref.uuid, VIR_DOMAIN_VCPU_CONFIG | VIR_DOMAIN_VCPU_MAXIMUM, &err),
                    ==, 2);
    g_assert_no_error(err);
    g_assert_cmpint(drv->domain_get_vcpus_flags(drv, ref.uuid, VIR_DOMAIN_VCPU_LIVE, &err), ==,
                    -1);
    assert_error(err, VIR_FROM_DOMAIN, VIR_ERR_OPERATION_INVALID, "domain is not running");
    g_clear_error(&err);
    g_assert_cmpint(drv->domain_get_vcpus_flags(drv, ref.uuid, 0x1000, &err), ==, -1);
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG, "unsupported flags (0x1000)");
    g_clear_error(&err);

    g_assert_true(drv->domain_set_vcpus_flags(drv, ref.uuid, 2, 0, &err));
    g_assert_no_error(err);
    g_assert_cmpint(drv->domain_get_vcpus_flags(drv, ref.uuid, 0, &err), ==, 2);
    g_assert_false(drv->domain_set_vcpus_flags(drv, ref.uuid, 3, VIR_DOMAIN_VCPU_CONFIG, &err));
    g_assert_nonnull(err);
    g_assert_cmpint(err->code, ==, VIR_ERR_INVALID_ARG);
    g_clear_error(&err);
    g_assert_false(drv->domain_set_vcpus_flags(drv, ref.uuid, 0, 0, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG, "the number of vCPUs must not be zero");
    g_clear_error(&err);
    g_assert_false(drv->domain_set_vcpus_flags(drv, ref.uuid, 1, VIR_DOMAIN_VCPU_LIVE, &err));
    assert_error(err, VIR_FROM_DOMAIN, VIR_ERR_OPERATION_INVALID, "domain is not running");
    g_clear_error(&err);
    g_assert_false(drv->domain_set_vcpus_flags(drv, ref.uuid, 1, VIR_DOMAIN_VCPU_GUEST, &err));
    assert_error(err, VIR_FROM_DOMAIN, VIR_ERR_OPERATION_INVALID, "domain is not running");
    g_clear_error(&err);

    g_assert_true(drv->domain_set_vcpus_flags(
        drv, ref.uuid, 4, VIR_DOMAIN_VCPU_MAXIMUM | VIR_DOMAIN_VCPU_CONFIG, &err));
    g_assert_no_error(err);
    g_assert_cmpint(drv->domain_get_vcpus_flags(drv, ref.uuid, VIR_DOMAIN_VCPU_MAXIMUM, &err),
                    ==, 4);
    g_assert_cmpint(drv->domain_get_vcpus_flags(drv, ref.uuid, 0, &err), ==, 2);
    /* Lowering the maximum lowers the current count with it. */
    g_assert_true(drv->domain_set_vcpus_flags(
        drv, ref.uuid, 1, VIR_DOMAIN_VCPU_MAXIMUM | VIR_DOMAIN_VCPU_CONFIG, &err));
    g_assert_cmpint(drv->domain_get_vcpus_flags(drv, ref.uuid, 0, &err), ==, 1);
    g_assert_true(drv->domain_set_vcpus_flags(
        drv, ref.uuid, 3, VIR_DOMAIN_VCPU_MAXIMUM | VIR_DOMAIN_VCPU_CONFIG, &err));
    g_assert_true(drv->domain_set_vcpus_flags(drv, ref.uuid, 3, VIR_DOMAIN_VCPU_CONFIG, &err));
    g_assert_no_error(err);

    restart_driver(fx);
    drv = fx->drv;
    g_assert_cmpint(drv->domain_get_vcpus_flags(drv, ref.uuid, VIR_DOMAIN_VCPU_MAXIMUM, &err),
                    ==, 3);
    g_assert_cmpint(drv->domain_get_vcpus_flags(drv, ref.uuid, 0, &err), ==, 3);
    DomainInfoData info;
    g_assert_true(drv->domain_get_info(drv, ref.uuid, &info, &err));
    g_assert_cmpuint(info.nr_virt_cpu, ==, 3);
    g_assert_no_error(err);
    domain_ref_clear(&ref);
    ASSERT_EVENTS(fx, "lifecycle web1 0 0");
}

/* A system daemon on a host without a cgroup filesystem runs domains without cgroups and
 * says so once; a session daemon always does. */
static void
test_no_cgroups(Fixture *fx, gconstpointer data)
{
    g_autofree char *mountinfo = g_build_filename(fx->root, "mountinfo", NULL);
    g_assert_true(g_file_set_contents(
        mountinfo, "22 1 0:21 / /proc rw,nosuid - proc proc rw\n", -1, NULL));
    QemuDriverConfig cfg = {
        .config_dir = fx->config_dir,
        .host = { .proc_root = "/", .sys_root = "/" },
        .cgroup_root = fx->root,
        .cgroup_mountinfo = mountinfo,
        .privileged = TRUE,
    };
    g_autoptr(GError) err = NULL;
    g_test_expect_message("virtd", G_LOG_LEVEL_MESSAGE,
                          "no usable cgroup filesystem: domains run without cgroups");
    VirtDriver *drv = qemu_driver_new(&cfg, &err);
    g_test_assert_expected_messages();
    g_assert_no_error(err);
    g_assert_null(qemu_driver_cast(drv)->cgroup_host);
    qemu_driver_free(drv);

    cfg.privileged = FALSE;
    g_test_expect_message("virtd", G_LOG_LEVEL_MESSAGE,
                          "a session daemon runs domains without cgroups");
    drv = qemu_driver_new(&cfg, &err);
    g_test_assert_expected_messages();
    g_assert_null(qemu_driver_cast(drv)->cgroup_host);
    qemu_driver_free(drv);
}

/* On the RPC loop thread (non-blocking mode) a busy domain is never waited for: the call
 * fails, notes that it would block, and a worker runs it again. */
static void
test_nonblocking_reads(Fixture *fx, gconstpointer data)
{
    DomainRef ref = { 0 };
    define(fx, "web1", UUID1, &ref);
    VirtDriver *drv = fx->drv;
    DomainInfoData info;
    int state, reason;
    g_autoptr(GError) err = NULL;

    driver_set_nonblocking(TRUE);
    g_assert_true(drv->domain_get_info(drv, ref.uuid, &info, &err));
    g_assert_false(driver_take_would_block());

    QemuDomainLocked *busy = qemu_driver_acquire(qemu_driver_cast(drv), ref.uuid, &err);
    g_assert_nonnull(busy);
    g_assert_false(drv->domain_get_info(drv, ref.uuid, &info, &err));
    g_assert_true(driver_take_would_block());
    g_clear_error(&err);
    g_assert_false(drv->domain_get_state(drv, ref.uuid, &state, &reason, &err));
    g_assert_true(driver_take_would_block());
    g_clear_error(&err);
    DomainRef found = { 0 };
    g_assert_false(drv->domain_lookup_by_name(drv, "web1", &found, &err));
    g_assert_true(driver_take_would_block());
    g_clear_error(&err);
    qemu_domain_release(busy);
    driver_set_nonblocking(FALSE);

    /* An unknown domain is an ordinary error, not a busy one. */
    static const unsigned char unknown[VIRT_UUID_LEN] = { 1 };
    driver_set_nonblocking(TRUE);
    g_assert_false(drv->domain_get_info(drv, unknown, &info, &err));
    g_assert_false(driver_take_would_block());
    driver_set_nonblocking(FALSE);
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_NO_DOMAIN,
                 "no domain with matching uuid '01000000-0000-0000-0000-000000000000'");
    domain_ref_clear(&ref);
    ASSERT_EVENTS(fx, "lifecycle web1 0 0");
}

static void
test_memory(Fixture *fx, gconstpointer data)
{
    DomainRef ref = { 0 };
    define(fx, "web1", UUID1, &ref); /* 131072 KiB */
    g_autoptr(GError) err = NULL;
    VirtDriver *drv = fx->drv;
    DomainInfoData info;

    g_assert_true(drv->domain_set_memory_flags(drv, ref.uuid, 65536, 0, &err));
    g_assert_no_error(err);
    g_assert_true(drv->domain_get_info(drv, ref.uuid, &info, &err));
    g_assert_cmpuint(info.max_mem_kib, ==, 131072);
    g_assert_cmpuint(info.memory_kib, ==, 65536);

    g_assert_false(drv->domain_set_memory_flags(drv, ref.uuid, 262144, VIR_DOMAIN_MEM_CONFIG,
                                                &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                 "cannot set memory to 262144 KiB: the maximum is 131072 KiB");
    g_clear_error(&err);
    g_assert_false(drv->domain_set_memory_flags(drv, ref.uuid, 65536, VIR_DOMAIN_MEM_LIVE, &err));
    assert_error(err, VIR_FROM_DOMAIN, VIR_ERR_OPERATION_INVALID, "domain is not running");
    g_clear_error(&err);
    g_assert_false(drv->domain_set_memory_flags(drv, ref.uuid, 0, 0, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG, "the memory size must not be zero");
    g_clear_error(&err);
    g_assert_false(drv->domain_set_memory_flags(drv, ref.uuid, 65536, 0x100, &err));
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG, "unsupported flags (0x100)");
    g_clear_error(&err);

    g_assert_true(drv->domain_set_memory_flags(drv, ref.uuid, 262144, VIR_DOMAIN_MEM_MAXIMUM,
                                               &err));
    g_assert_true(drv->domain_get_info(drv, ref.uuid, &info, &err));
    g_assert_cmpuint(info.max_mem_kib, ==, 262144);
    g_assert_cmpuint(info.memory_kib, ==, 65536);
    /* A maximum below the current size lowers both. */
    g_assert_true(drv->domain_set_memory_flags(
        drv, ref.uuid, 32768, VIR_DOMAIN_MEM_MAXIMUM | VIR_DOMAIN_MEM_CONFIG, &err));
    g_assert_true(drv->domain_get_info(drv, ref.uuid, &info, &err));
    g_assert_cmpuint(info.max_mem_kib, ==, 32768);
    g_assert_cmpuint(info.memory_kib, ==, 32768);
    g_assert_no_error(err);

    restart_driver(fx);
    drv = fx->drv;
    guint64 max_kib = 0;
    g_assert_true(drv->domain_get_max_memory(drv, ref.uuid, &max_kib, &err));
    g_assert_cmpuint(max_kib, ==, 32768);
    g_assert_no_error(err);
    domain_ref_clear(&ref);
}

static void
test_persistence_and_bad_files(Fixture *fx, gconstpointer data)
{
    define(fx, "web1", UUID1, NULL);
    define(fx, "web2", UUID2, NULL);

    /* A file that does not parse, one whose name does not match its domain, one with a
     * uuid already used (what a crash in the middle of a rename leaves), a stray file. */
    g_autofree char *corrupt = config_path(fx, "broken");
    g_assert_true(g_file_set_contents(corrupt, "<domain type='qemu'><name>bro", -1, NULL));
    g_autofree char *misnamed = config_path(fx, "misnamed");
    g_autofree char *misnamed_xml = domain_xml("other", UUID3, 131072, 1);
    g_assert_true(g_file_set_contents(misnamed, misnamed_xml, -1, NULL));
    g_autofree char *dup = config_path(fx, "web3");
    g_autofree char *dup_xml = domain_xml("web3", UUID2, 131072, 1);
    g_assert_true(g_file_set_contents(dup, dup_xml, -1, NULL));
    g_autofree char *stray = g_build_filename(fx->config_dir, "notes.txt", NULL);
    g_assert_true(g_file_set_contents(stray, "hello", -1, NULL));

    fx->drv->shutdown(fx->drv);
    fx->drv = NULL;
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                          "skipping domain definition*broken.xml*");
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                          "skipping domain definition*misnamed.xml*");
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                          "skipping domain definition*web3.xml*");
    start_driver(fx);
    g_test_assert_expected_messages();

    g_autofree char *names = list_names(fx, 0);
    g_assert_cmpstr(names, ==, "web1 web2");
    /* Skipped files are kept as they were. */
    g_assert_true(g_file_test(corrupt, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(misnamed, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(dup, G_FILE_TEST_EXISTS));
    g_autofree char *contents = NULL;
    g_assert_true(g_file_get_contents(corrupt, &contents, NULL, NULL));
    g_assert_cmpstr(contents, ==, "<domain type='qemu'><name>bro");
    ASSERT_EVENTS(fx, "lifecycle web1 0 0", "lifecycle web2 0 0");
}

static void
test_reload(Fixture *fx, gconstpointer data)
{
    define(fx, "web1", UUID1, NULL);
    define(fx, "web2", UUID2, NULL);
    ASSERT_EVENTS(fx, "lifecycle web1 0 0", "lifecycle web2 0 0");

    /* Another tool adds web3, removes web2 and changes web1 behind our back. */
    g_autofree char *web3 = config_path(fx, "web3");
    g_autofree char *web3_xml = domain_xml("web3", UUID3, 131072, 1);
    g_assert_true(g_file_set_contents(web3, web3_xml, -1, NULL));
    g_autofree char *web2 = config_path(fx, "web2");
    g_assert_cmpint(g_unlink(web2), ==, 0);
    g_autofree char *web1 = config_path(fx, "web1");
    g_autofree char *web1_xml = domain_xml("web1", UUID1, 524288, 2);
    g_assert_true(g_file_set_contents(web1, web1_xml, -1, NULL));

    g_autoptr(GError) err = NULL;
    g_assert_true(fx->drv->reload(fx->drv, &err));
    g_assert_no_error(err);
    ASSERT_EVENTS(fx, "lifecycle web3 0 0", "lifecycle web2 1 0");
    g_autofree char *names = list_names(fx, 0);
    g_assert_cmpstr(names, ==, "web1 web3");
    unsigned char uuid[VIRT_UUID_LEN];
    uuid_parse_str(UUID1, uuid);
    guint64 max_kib = 0;
    g_assert_true(fx->drv->domain_get_max_memory(fx->drv, uuid, &max_kib, &err));
    g_assert_cmpuint(max_kib, ==, 524288);
}

static void
test_probe_on_first_need(Fixture *fx, gconstpointer data)
{
    /* A driver with nothing probed yet: loading and listing never run the emulator. */
    fx->drv->shutdown(fx->drv);
    fx->drv = new_driver(fx, FALSE);
    g_autofree char *names = list_names(fx, 0);
    g_assert_false(g_file_test(fx->probe_mark, G_FILE_TEST_EXISTS));

    g_autofree char *hostname = fx->drv->get_hostname(fx->drv, NULL);
    g_assert_nonnull(hostname);
    g_assert_cmpstr(fx->drv->type_name, ==, "QEMU");

    g_autoptr(GError) err = NULL;
    g_assert_cmpint(fx->drv->get_max_vcpus(fx->drv, "xen", &err), ==, -1);
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG, "unknown virtualization type 'xen'");
    g_clear_error(&err);
    g_assert_false(g_file_test(fx->probe_mark, G_FILE_TEST_EXISTS));

    /* Asking for the version probes, and a broken emulator is an honest error. */
    guint64 version = 0;
    g_assert_false(fx->drv->get_version(fx->drv, &version, &err));
    g_assert_nonnull(err);
    g_assert_cmpint(err->code, !=, VIR_ERR_INTERNAL_ERROR);
    g_assert_true(g_file_test(fx->probe_mark, G_FILE_TEST_EXISTS));
    g_assert_cmpint(g_unlink(fx->probe_mark), ==, 0);
    g_clear_error(&err);

    /* A definition needs the machine types, so it probes too, and fails the same way. */
    g_autofree char *xml = domain_xml("web1", UUID1, 131072, 2);
    DomainRef ref = { 0 };
    g_assert_false(fx->drv->domain_define_xml(fx->drv, xml, 0, &ref, &err));
    g_assert_cmpint(err->code, !=, VIR_ERR_INTERNAL_ERROR);
    g_assert_true(g_file_test(fx->probe_mark, G_FILE_TEST_EXISTS));
    g_assert_cmpint(g_unlink(fx->probe_mark), ==, 0);
}

/* Machine aliases are stored as the versioned type QEMU reports, as libvirt does. */
static void
test_machine_resolution(Fixture *fx, gconstpointer data)
{
    static const struct {
        const char *given, *stored;
    } cases[] = {
        {NULL, "pc-i440fx-7.2"},
        {"pc", "pc-i440fx-7.2"},
        {"q35", "pc-q35-7.2"},
        {"pc-q35-6.2", "pc-q35-6.2"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *type = cases[i].given
            ? g_strdup_printf("<type arch='x86_64' machine='%s'>hvm</type>", cases[i].given)
            : g_strdup("<type arch='x86_64'>hvm</type>");
        g_autofree char *xml = g_strdup_printf(
            "<domain type='qemu'><name>m%zu</name><memory>131072</memory><vcpu>1</vcpu>"
            "<os>%s</os></domain>", i, type);
        g_autoptr(GError) err = NULL;
        g_auto(DomainRef) ref = { 0 };
        g_assert_true(fx->drv->domain_define_xml(fx->drv, xml, 0, &ref, &err));
        g_assert_no_error(err);
        g_autofree char *out = fx->drv->domain_get_xml_desc(fx->drv, ref.uuid, 0, &err);
        g_autofree char *want = g_strdup_printf("machine='%s'", cases[i].stored);
        g_assert_nonnull(strstr(out, want));
    }

    g_autoptr(GError) err = NULL;
    DomainRef ref = { 0 };
    const char *bad = "<domain type='qemu'><name>bad</name><memory>131072</memory>"
                      "<vcpu>1</vcpu><os><type machine='pc-fantasy-1.0'>hvm</type></os></domain>";
    g_assert_false(fx->drv->domain_define_xml(fx->drv, bad, 0, &ref, &err));
    g_autofree char *emulator = g_build_filename(fx->root, "fake-qemu", NULL);
    g_autofree char *msg =
        g_strdup_printf("machine type 'pc-fantasy-1.0' is not supported by '%s'", emulator);
    assert_error(err, VIR_FROM_QEMU, VIR_ERR_CONFIG_UNSUPPORTED, msg);
}

typedef struct {
    Fixture *fx;
    int worker;
} Worker;

/* Each worker defines, renames, reads and undefines its own domains while the others do
 * the same: no deadlock, no lost or doubled domain. */
static gpointer
concurrency_worker(gpointer data)
{
    Worker *w = data;
    VirtDriver *drv = w->fx->drv;
    for (int i = 0; i < 20; i++) {
        g_autofree char *name = g_strdup_printf("w%d-d%02d", w->worker, i);
        g_autofree char *renamed = g_strdup_printf("w%d-r%02d", w->worker, i);
        g_autofree char *uuid =
            g_strdup_printf("6f1c3a52-0d4e-4b8a-9e21-%04x%08x", w->worker, i);
        g_autofree char *xml = domain_xml(name, uuid, 131072, 2);
        g_autoptr(GError) err = NULL;
        DomainRef ref = { 0 };
        g_assert_true(drv->domain_define_xml(drv, xml, 0, &ref, &err));
        g_assert_true(drv->domain_set_autostart(drv, ref.uuid, TRUE, &err));
        g_assert_true(drv->domain_rename(drv, ref.uuid, renamed, 0, &err));
        g_autoptr(GPtrArray) all = drv->list_all_domains(drv, 0, &err);
        g_assert_nonnull(all);
        if (i % 2 == 0)
            g_assert_true(drv->domain_undefine(drv, ref.uuid, 0, &err));
        g_assert_no_error(err);
        domain_ref_clear(&ref);
    }
    return NULL;
}

static void
test_concurrency(Fixture *fx, gconstpointer data)
{
    Worker workers[4];
    GThread *threads[G_N_ELEMENTS(workers)];
    for (gsize i = 0; i < G_N_ELEMENTS(workers); i++) {
        workers[i] = (Worker){ fx, (int)i };
        threads[i] = g_thread_new("worker", concurrency_worker, &workers[i]);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(workers); i++)
        g_thread_join(threads[i]);

    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) all = fx->drv->list_all_domains(fx->drv, 0, &err);
    g_assert_cmpuint(all->len, ==, 4 * 10);
    restart_driver(fx);
    g_autoptr(GPtrArray) again =
        fx->drv->list_all_domains(fx->drv, VIR_CONNECT_LIST_DOMAINS_AUTOSTART, &err);
    g_assert_cmpuint(again->len, ==, 4 * 10);
    g_mutex_lock(&fx->events_lock);
    /* 80 defines, 80 renames (2 events each), 40 undefines. */
    g_assert_cmpuint(fx->events->len, ==, 80 + 160 + 40);
    g_ptr_array_set_size(fx->events, 0);
    g_mutex_unlock(&fx->events_lock);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) \
    g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/qemu/driver/define-and-lookup", test_define_and_lookup);
    ADD("/qemu/driver/define-conflicts", test_define_conflicts);
    ADD("/qemu/driver/undefine", test_undefine);
    ADD("/qemu/driver/list-filters", test_list_filters);
    ADD("/qemu/driver/autostart", test_autostart);
    ADD("/qemu/driver/rename", test_rename);
    ADD("/qemu/driver/metadata", test_metadata);
    ADD("/qemu/driver/vcpus", test_vcpus);
    ADD("/qemu/driver/memory", test_memory);
    ADD("/qemu/driver/nonblocking-reads", test_nonblocking_reads);
    ADD("/qemu/driver/no-cgroups", test_no_cgroups);
    ADD("/qemu/driver/persistence-and-bad-files", test_persistence_and_bad_files);
    ADD("/qemu/driver/reload", test_reload);
    ADD("/qemu/driver/probe-on-first-need", test_probe_on_first_need);
    ADD("/qemu/driver/machine-resolution", test_machine_resolution);
    ADD("/qemu/driver/concurrency", test_concurrency);
#undef ADD
    return g_test_run();
}
