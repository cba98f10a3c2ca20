/* QEMU capabilities: golden XML from canned QMP replies of QEMU 7.2 (tests/data/qemu/
 * replies-<arch>/<command>.json, captured on the development machine), error messages,
 * and a real probe of /usr/bin/qemu-system-x86_64 with its on-disk cache. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/util/virt-error.h"
#include "drivers/qemu/qemu-capabilities.h"
#include "drivers/qemu/qmp.h"
#include "canned-caps.h"
#include "golden.h"

#define REAL_QEMU "/usr/bin/qemu-system-x86_64"

static char *
data_path(const char *name)
{
    const char *srcdir = g_getenv("VIRTD_SRCDIR");

    return g_build_filename(srcdir ? srcdir : ".", "tests", "data", name, NULL);
}

static void
assert_golden(const char *name, const char *actual)
{
    g_autofree char *rel = g_build_filename("qemu", name, NULL);
    g_autofree char *path = data_path(rel);
    golden_assert(path, actual);
}

static void
host_roots(HostRoots *roots, char **ret_root)
{
    *ret_root = data_path("host/1node-2cpu");
    roots->proc_root = *ret_root;
    roots->sys_root = *ret_root;
}

static void
test_basics(void)
{
    g_autoptr(QemuCaps) caps = canned_caps("x86_64", REAL_QEMU, FALSE);

    g_assert_cmpuint(qemu_caps_get_version(caps), ==, 7002022);
    g_assert_cmpstr(qemu_caps_get_arch(caps), ==, "x86_64");
    g_assert_cmpstr(qemu_caps_get_binary(caps), ==, REAL_QEMU);
    g_assert_cmpstr(qemu_caps_default_machine(caps), ==, "pc-i440fx-7.2");
    g_assert_cmpstr(qemu_caps_resolve_machine(caps, "pc"), ==, "pc-i440fx-7.2");
    g_assert_cmpstr(qemu_caps_resolve_machine(caps, "q35"), ==, "pc-q35-7.2");
    g_assert_cmpstr(qemu_caps_resolve_machine(caps, "pc-q35-5.2"), ==, "pc-q35-5.2");
    g_assert_null(qemu_caps_resolve_machine(caps, "none"));
    g_assert_null(qemu_caps_resolve_machine(caps, "virt"));
    g_assert_cmpint(qemu_caps_max_cpus(caps, NULL), ==, 255);
    g_assert_cmpint(qemu_caps_max_cpus(caps, "q35"), ==, 288);
    g_assert_cmpint(qemu_caps_max_cpus(caps, "isapc"), ==, 1);
    g_assert_cmpint(qemu_caps_max_cpus(caps, "virt"), ==, -1);
    g_assert_false(qemu_caps_has_kvm(caps));
    g_assert_true(qemu_caps_has_device(caps, "virtio-blk-pci"));
    g_assert_false(qemu_caps_has_device(caps, "no-such-device"));
}

static void
test_capabilities_xml(void)
{
    g_autoptr(QemuCaps) tcg = canned_caps("x86_64", "/usr/bin/qemu-system-x86_64", FALSE);
    g_autoptr(QemuCaps) kvm = canned_caps("x86_64", "/usr/bin/qemu-system-x86_64", TRUE);
    g_autoptr(QemuCaps) i686 = canned_caps("i686", "/usr/bin/qemu-system-i386", TRUE);
    QemuCaps *both[] = { i686, kvm };
    g_autofree char *root = NULL;
    g_autofree char *xml1 = NULL;
    g_autofree char *xml2 = NULL;
    HostRoots roots;

    host_roots(&roots, &root);
    xml1 = qemu_caps_format_capabilities(tcg, &roots, "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4");
    assert_golden("caps-x86_64-tcg.xml", xml1);
    xml2 = qemu_caps_format_capabilities_list(both, 2, &roots,
                                              "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4");
    assert_golden("caps-i686-x86_64-kvm.xml", xml2);
}

static void
test_domcaps_xml(void)
{
    static const struct {
        const char *golden;
        const char *arch;
        gboolean kvm;
        const char *machine;
        const char *virttype;
    } cases[] = {
        { "domcaps-x86_64-kvm-pc.xml", "x86_64", TRUE, NULL, NULL },
        { "domcaps-x86_64-qemu-q35.xml", "x86_64", TRUE, "q35", "qemu" },
        { "domcaps-x86_64-qemu-pc.xml", "x86_64", FALSE, NULL, NULL },
        { "domcaps-i686-qemu-pc.xml", "i686", FALSE, "pc", "qemu" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(QemuCaps) caps = canned_caps(cases[i].arch, "/usr/bin/qemu", cases[i].kvm);
        g_autoptr(GError) err = NULL;
        g_autofree char *xml = qemu_caps_format_domain_capabilities(
            caps, NULL, NULL, cases[i].machine, cases[i].virttype, &err);

        g_assert_no_error(err);
        assert_golden(cases[i].golden, xml);
    }
}

static void
test_domcaps_errors(void)
{
    static const struct {
        const char *emulator, *arch, *machine, *virttype;
    } cases[] = {
        { NULL, NULL, NULL, "kvm" },
        { NULL, NULL, "foo", NULL },
        { NULL, "armv7l", NULL, NULL },
        { NULL, NULL, NULL, "xen" },
        { "/usr/bin/qemu-system-aarch64", NULL, NULL, NULL },
    };
    g_autoptr(QemuCaps) caps = canned_caps("x86_64", REAL_QEMU, FALSE);
    g_autoptr(GString) out = g_string_new(NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autofree char *xml = qemu_caps_format_domain_capabilities(
            caps, cases[i].emulator, cases[i].arch, cases[i].machine, cases[i].virttype, &err);

        g_assert_null(xml);
        g_assert_nonnull(err);
        g_string_append_printf(out, "emulator=%s arch=%s machine=%s virttype=%s: "
                               "domain=%d code=%d: %s\n",
                               cases[i].emulator, cases[i].arch, cases[i].machine,
                               cases[i].virttype, virt_error_from(err->domain), err->code,
                               err->message);
    }
    assert_golden("domcaps-errors.err", out->str);
}

static void
test_bad_replies(void)
{
    json_object *replies = load_replies("x86_64");
    g_autoptr(GError) err = NULL;
    QemuCaps *caps;

    json_object_object_del(replies, "query-machines");
    caps = qemu_caps_new_from_replies(REAL_QEMU, replies, NULL, &err);
    json_object_put(replies);
    g_assert_null(caps);
    g_assert_true(virt_error_is(err, VIR_ERR_OPERATION_FAILED));
    g_assert_cmpstr(err->message, ==, "missing or malformed reply to 'query-machines' from QEMU");
}

static gboolean
stat_file(const char *path, struct stat *ret_st)
{
    return stat(path, ret_st) == 0;
}

static void
test_real_probe_and_cache(void)
{
    g_autofree char *tmp = NULL;
    g_autofree char *cache_dir = NULL;
    g_autofree char *binary = NULL;
    g_autofree char *cache_file = NULL;
    g_autofree char *contents = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(QemuCaps) c1 = NULL;
    g_autoptr(QemuCaps) c2 = NULL;
    g_autoptr(QemuCaps) c3 = NULL;
    struct stat st1, st2, st3;
    gsize len;

    if (access(REAL_QEMU, X_OK) != 0) {
        g_test_skip(REAL_QEMU " is not installed");
        return;
    }
    tmp = g_dir_make_tmp("virtd-caps-XXXXXX", &err);
    g_assert_no_error(err);
    cache_dir = g_build_filename(tmp, "cache", NULL);
    binary = g_build_filename(tmp, "qemu-system-x86_64", NULL);
    g_assert_true(g_file_get_contents(REAL_QEMU, &contents, &len, NULL));
    g_assert_true(g_file_set_contents(binary, contents, len, NULL));
    g_assert_cmpint(chmod(binary, 0755), ==, 0);
    cache_file = qemu_caps_cache_path(cache_dir, binary);
    /* A copied QEMU looks for its modules (TCG is one in Debian) next to itself; point it
     * at the installed ones. */
    if (g_file_test("/usr/lib/x86_64-linux-gnu/qemu", G_FILE_TEST_IS_DIR))
        g_setenv("QEMU_MODULE_DIR", "/usr/lib/x86_64-linux-gnu/qemu", TRUE);

    /* First call probes and writes the cache. */
    c1 = qemu_caps_new_for_binary(binary, cache_dir, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(qemu_caps_get_version(c1), >=, 2000000);
    g_assert_cmpstr(qemu_caps_resolve_machine(c1, "pc"), !=, NULL);
    g_assert_true(stat_file(cache_file, &st1));

    /* Second call loads the cache: the file is not rewritten (same inode and mtime). */
    c2 = qemu_caps_new_for_binary(binary, cache_dir, &err);
    g_assert_no_error(err);
    g_assert_true(stat_file(cache_file, &st2));
    g_assert_cmpuint(st1.st_ino, ==, st2.st_ino);
    g_assert_cmpint(st1.st_mtim.tv_sec, ==, st2.st_mtim.tv_sec);
    g_assert_cmpint(st1.st_mtim.tv_nsec, ==, st2.st_mtim.tv_nsec);
    g_assert_cmpuint(qemu_caps_get_version(c1), ==, qemu_caps_get_version(c2));
    /* What the cache gave is what the probe gave. */
    g_autofree char *dom1 = qemu_caps_format_domain_capabilities(c1, NULL, NULL, NULL, "qemu",
                                                                 &err);
    g_autofree char *dom2 = qemu_caps_format_domain_capabilities(c2, NULL, NULL, NULL, "qemu",
                                                                 &err);
    g_assert_no_error(err);
    g_assert_cmpstr(dom1, ==, dom2);

    /* Touching the binary changes its identity: the cache is rebuilt (a new file). */
    g_usleep(10000);
    g_assert_true(g_file_set_contents(binary, contents, len, NULL));
    g_assert_cmpint(chmod(binary, 0755), ==, 0);
    c3 = qemu_caps_new_for_binary(binary, cache_dir, &err);
    g_assert_no_error(err);
    g_assert_true(stat_file(cache_file, &st3));
    g_assert_cmpuint(st1.st_ino, !=, st3.st_ino);

    unlink(cache_file);
    rmdir(cache_dir);
    unlink(binary);
    rmdir(tmp);
}

static void
test_broken_binary(void)
{
    g_autofree char *tmp = g_dir_make_tmp("virtd-caps-XXXXXX", NULL);
    g_autofree char *fake = g_build_filename(tmp, "qemu-broken", NULL);
    g_autoptr(GError) err = NULL;
    QemuCaps *caps;

    /* A "QEMU" that complains and exits: the error carries its own words. */
    g_assert_true(g_file_set_contents(fake,
                                      "#!/bin/sh\necho 'qemu: could not load PC BIOS' >&2\n"
                                      "exit 1\n",
                                      -1, NULL));
    g_assert_cmpint(chmod(fake, 0755), ==, 0);
    caps = qemu_caps_new_for_binary(fake, NULL, &err);
    g_assert_null(caps);
    g_assert_true(virt_error_is(err, VIR_ERR_OPERATION_FAILED));
    g_assert_nonnull(strstr(err->message, "qemu: could not load PC BIOS"));
    g_clear_error(&err);

    caps = qemu_caps_new_for_binary("/nonexistent/qemu", NULL, &err);
    g_assert_null(caps);
    g_assert_true(virt_error_is(err, VIR_ERR_SYSTEM_ERROR));
    g_assert_cmpstr(err->message, ==,
                    "cannot find QEMU binary '/nonexistent/qemu': No such file or directory");
    unlink(fake);
    rmdir(tmp);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu/caps/basics", test_basics);
    g_test_add_func("/qemu/caps/capabilities-xml", test_capabilities_xml);
    g_test_add_func("/qemu/caps/domcaps-xml", test_domcaps_xml);
    g_test_add_func("/qemu/caps/domcaps-errors", test_domcaps_errors);
    g_test_add_func("/qemu/caps/bad-replies", test_bad_replies);
    g_test_add_func("/qemu/caps/broken-binary", test_broken_binary);
    g_test_add_func("/qemu/caps/real-probe-and-cache", test_real_probe_and_cache);
    return g_test_run();
}
