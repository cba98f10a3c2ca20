/* The configuration file parser: defaults, values, and one pinned message per mistake
 * (tests/data/config/NAME.conf -> NAME.err; TEST_REGENERATE=1 rewrites the .err files). */
#include <string.h>

#include "daemon/config.h"

static void
test_defaults_and_values(void)
{
    DaemonConfig cfg;
    daemon_config_init(&cfg);
    g_assert_cmpint(cfg.max_client_requests, ==, 5);
    g_assert_cmpint(cfg.keepalive_interval, ==, 5);
    g_assert_true(daemon_config_parse(&cfg,
                                      "# comment\n\nkeepalive_interval = 1\n"
                                      "keepalive_count=2\nunix_sock_rw_perms = \"0770\"\n"
                                      "emulator = \"/opt/qemu\"\n",
                                      "t.conf", NULL));
    g_assert_cmpint(cfg.keepalive_interval, ==, 1);
    g_assert_cmpint(cfg.keepalive_count, ==, 2);
    g_assert_cmpint(cfg.unix_sock_rw_perms, ==, 0770);
    g_assert_cmpstr(cfg.emulator, ==, "/opt/qemu");
    daemon_config_clear(&cfg);
}

static void
test_error_files(void)
{
    const char *srcdir = g_getenv("VIRTD_SRCDIR");
    g_assert_nonnull(srcdir);
    g_autofree char *dir = g_build_filename(srcdir, "tests", "data", "config", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    guint checked = 0;
    for (const char *name; (name = g_dir_read_name(d));) {
        if (!g_str_has_suffix(name, ".conf"))
            continue;
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *text = NULL;
        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        DaemonConfig cfg;
        daemon_config_init(&cfg);
        g_autoptr(GError) err = NULL;
        g_assert_false(daemon_config_parse(&cfg, text, name, &err));
        daemon_config_clear(&cfg);

        g_autofree char *stem = g_strndup(path, strlen(path) - strlen(".conf"));
        g_autofree char *err_path = g_strconcat(stem, ".err", NULL);
        g_autofree char *got = g_strconcat(err->message, "\n", NULL);
        if (g_getenv("TEST_REGENERATE"))
            g_assert_true(g_file_set_contents(err_path, got, -1, NULL));
        g_autofree char *want = NULL;
        g_assert_true(g_file_get_contents(err_path, &want, NULL, NULL));
        g_assert_cmpstr(got, ==, want);
        checked++;
    }
    g_assert_cmpuint(checked, >=, 5);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/config/values", test_defaults_and_values);
    g_test_add_func("/config/errors", test_error_files);
    return g_test_run();
}
