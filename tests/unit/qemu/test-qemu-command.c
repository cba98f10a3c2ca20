/* The QEMU command line: golden files tests/data/xml2argv/NAME.xml -> NAME.args (the
 * formatted argv) or NAME.err (the exact error message), built with the canned QEMU 7.2
 * capabilities; and a real run of /usr/bin/qemu-system-x86_64 with the generated argv to
 * prove that QEMU accepts it (paused, answering QMP), skipped when QEMU is absent.
 *
 * TEST_REGENERATE=1 rewrites the golden files.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/util/virt-error.h"
#include "drivers/qemu/qemu-command.h"
#include "drivers/qemu/qmp.h"
#include "xml/domain-conf-priv.h"
#include "canned-caps.h"
#include "golden.h"

#define REAL_QEMU "/usr/bin/qemu-system-x86_64"
#define REAL_QEMU_IMG "/usr/bin/qemu-img"

/* Every tests/data/xml2argv/NAME.xml is a case; these run on a host with /dev/kvm (canned
 * capabilities and context), all others on one without. */
static const char *const kvm_host_cases[] = { "kvm", NULL };

static char *
data_path(const char *name, const char *ext)
{
    const char *srcdir = g_getenv("VIRTD_SRCDIR");
    g_autofree char *file = g_strconcat(name, ext, NULL);

    return g_build_filename(srcdir ? srcdir : ".", "tests", "data", "xml2argv", file, NULL);
}

static DomainDef *
load_def(const char *name)
{
    g_autofree char *path = data_path(name, ".xml");
    g_autofree char *xml = NULL;
    g_autoptr(GError) err = NULL;
    DomainDef *def;

    if (!g_file_get_contents(path, &xml, NULL, &err))
        g_error("cannot read %s: %s", path, err->message);
    def = domain_def_parse(xml, DOMAIN_PARSE_VALIDATE, &err);
    if (!def)
        g_error("cannot parse %s: %s", path, err->message);
    return def;
}

/* Compare @actual with the golden file NAME@ext; remove the other kind of golden file
 * when regenerating, so that a case has exactly one. */
static void
assert_golden(const char *name, const char *ext, const char *other_ext, const char *actual)
{
    g_autofree char *path = data_path(name, ext);

    if (golden_regenerating()) {
        g_autofree char *other = data_path(name, other_ext);
        unlink(other);
    }
    golden_assert(path, actual);
}

static void
test_golden(gconstpointer data)
{
    const char *name = data;
    gboolean kvm = g_strv_contains(kvm_host_cases, name);
    g_autoptr(DomainDef) def = load_def(name);
    g_autoptr(QemuCaps) caps = canned_caps("x86_64", REAL_QEMU, kvm);
    g_autofree char *monitor = g_strdup_printf("/run/virtd-test/%s/monitor.sock", name);
    g_autofree char *dir = g_strdup_printf("/run/virtd-test/%s", name);
    QemuCommandContext ctx = {
        .monitor_path = monitor,
        .domain_dir = dir,
        .vnc_port = 5900,
        .kvm_usable = kvm,
    };
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) argv = qemu_command_build(def, caps, &ctx, &err);

    if (argv) {
        g_autofree char *text = qemu_command_format((const char *const *)argv);

        g_assert_null(err);
        assert_golden(name, ".args", ".err", text);
    } else {
        g_autofree char *text = NULL;

        g_assert_nonnull(err);
        g_assert_cmpint(virt_error_from(err->domain), ==, VIR_FROM_QEMU);
        text = g_strdup_printf("%s\n", err->message);
        assert_golden(name, ".err", ".args", text);
    }
}

static void
test_error_codes(void)
{
    g_autoptr(QemuCaps) caps = canned_caps("x86_64", REAL_QEMU, FALSE);
    QemuCommandContext ctx = { .monitor_path = "/m", .domain_dir = "/d", .vnc_port = 5900 };
    const char *const names[] = { "kvm-without-dev-kvm", "bridge-nic", "unknown-machine" };

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autoptr(DomainDef) def = load_def(names[i]);
        g_autoptr(GError) err = NULL;
        g_auto(GStrv) argv = qemu_command_build(def, caps, &ctx, &err);

        g_assert_null(argv);
        g_assert_true(virt_error_is(err, VIR_ERR_CONFIG_UNSUPPORTED));
        g_assert_false(g_str_has_suffix(err->message, "."));
    }
}

/* Capabilities of a QEMU built without the device types @missing (NULL-terminated):
 * the canned replies with those names dropped from qom-list-types. */
static QemuCaps *
caps_without(const char *const *missing)
{
    QemuHostFacts facts = { .kvm_usable = FALSE, .has_swtpm = FALSE };
    json_object *replies = load_replies("x86_64");
    json_object *types = NULL;
    json_object *kept = json_object_new_array();
    g_autoptr(GError) err = NULL;
    QemuCaps *caps;

    g_assert_true(json_object_object_get_ex(replies, "qom-list-types", &types));
    for (size_t i = 0; i < json_object_array_length(types); i++) {
        json_object *type = json_object_array_get_idx(types, i);
        json_object *name = NULL;

        if (json_object_object_get_ex(type, "name", &name) &&
            g_strv_contains(missing, json_object_get_string(name)))
            continue;
        json_object_array_add(kept, json_object_get(type));
    }
    json_object_object_add(replies, "qom-list-types", kept);
    caps = qemu_caps_new_from_replies(REAL_QEMU, replies, &facts, &err);
    json_object_put(replies);
    g_assert_no_error(err);
    for (guint i = 0; missing[i]; i++)
        g_assert_false(qemu_caps_has_device(caps, missing[i]));
    return caps;
}

#define CASE_DOMAIN(devices, extra) \
    "<domain type='qemu'><name>case</name><memory unit='MiB'>128</memory>" \
    "<os><type arch='x86_64' machine='pc'>hvm</type></os>" extra \
    "<devices>" devices "</devices></domain>"

/* Errors the golden files cannot reach: they need a QEMU lacking a device type, or a
 * run-time context the daemon did not fill in (no domain directory, no VNC port). */
static void
test_context_errors(void)
{
    static const char *const no_missing[] = { NULL };
    static const char *const no_watchdog[] = { "i6300esb", NULL };
    static const char *const no_iothread[] = { "iothread", NULL };
    static const char *const no_spice[] = { "chardev-spicevmc", NULL };
    const struct {
        const char *xml;
        const char *const *missing; /* device types the QEMU lacks */
        gboolean no_domain_dir;
        int vnc_port;
        int code;
        const char *message;
    } cases[] = {
        { CASE_DOMAIN("<watchdog model='i6300esb'/>", ""), no_watchdog, FALSE, 5900,
          VIR_ERR_CONFIG_UNSUPPORTED,
          "device type 'i6300esb' is not available in '/usr/bin/qemu-system-x86_64'" },
        { CASE_DOMAIN("", "<iothreads>2</iothreads>"), no_iothread, FALSE, 5900,
          VIR_ERR_CONFIG_UNSUPPORTED, "this QEMU has no IOThreads" },
        { CASE_DOMAIN("<channel type='spicevmc'><target type='virtio' "
                      "name='com.redhat.spice.0'/></channel>", ""),
          no_spice, FALSE, 5900, VIR_ERR_CONFIG_UNSUPPORTED,
          "character device type 'spicevmc' needs SPICE, which '"
          "/usr/bin/qemu-system-x86_64' lacks" },
        { CASE_DOMAIN("<graphics type='spice' port='5930' autoport='no'/>", ""), no_spice,
          FALSE, 5900, VIR_ERR_CONFIG_UNSUPPORTED,
          "graphics type 'spice' is not supported by '/usr/bin/qemu-system-x86_64'" },
        { CASE_DOMAIN("<channel type='unix'><source mode='bind'/><target type='virtio' "
                      "name='org.qemu.guest_agent.0'/></channel>", ""),
          no_missing, TRUE, 5900, VIR_ERR_INTERNAL_ERROR,
          "no run-time directory for the socket of 'channel0'" },
        { CASE_DOMAIN("<graphics type='vnc'><listen type='socket'/></graphics>", ""),
          no_missing, TRUE, 5900, VIR_ERR_INTERNAL_ERROR,
          "no run-time directory for the VNC socket" },
        { CASE_DOMAIN("<graphics type='vnc' autoport='yes'/>", ""), no_missing, FALSE, -1,
          VIR_ERR_INTERNAL_ERROR, "no port was allocated for VNC" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(DomainDef) def = domain_def_parse(cases[i].xml, DOMAIN_PARSE_VALIDATE, &err);
        g_autoptr(QemuCaps) caps = caps_without(cases[i].missing);
        QemuCommandContext ctx = {
            .monitor_path = "/run/virtd-test/case/monitor.sock",
            .domain_dir = cases[i].no_domain_dir ? NULL : "/run/virtd-test/case",
            .vnc_port = cases[i].vnc_port,
        };
        g_auto(GStrv) argv = NULL;

        g_assert_no_error(err);
        argv = qemu_command_build(def, caps, &ctx, &err);
        g_assert_null(argv);
        g_assert_nonnull(err);
        g_assert_cmpint(virt_error_from(err->domain), ==, VIR_FROM_QEMU);
        g_assert_true(virt_error_is(err, cases[i].code));
        g_assert_cmpstr(err->message, ==, cases[i].message);
    }
}

static void
test_format(void)
{
    const char *const argv[] = { "/usr/bin/qemu-system-x86_64", "-name", "guest=a b",
                                 "-S", "-nodefaults", "-append", "-x 'y'", "-m",
                                 "size=1k", NULL };
    g_autofree char *text = qemu_command_format(argv);

    g_assert_cmpstr(text, ==,
                    "/usr/bin/qemu-system-x86_64 \\\n-name 'guest=a b' \\\n-S \\\n"
                    "-nodefaults \\\n-append '-x '\\''y'\\''' \\\n-m size=1k\n");
}

/* ---- real QEMU --------------------------------------------------------------------- */

/* A TCP port in 5900..6899 that nothing listens on right now (for VNC). */
static int
free_vnc_port(void)
{
    for (int port = 5900 + g_random_int_range(0, 900); port < 6900; port++) {
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int rc;

        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
        close(fd);
        if (rc == 0)
            return port;
    }
    return -1;
}

/* Wait up to @timeout_ms for @pid to exit; TRUE when it was reaped. */
static gboolean
reap(pid_t pid, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000;

    for (;;) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid || (r < 0 && errno == ECHILD))
            return TRUE;
        if (g_get_monotonic_time() > deadline)
            return FALSE;
        g_usleep(10 * 1000);
    }
}

/* Talk to the QEMU @pid on @monitor: handshake and query-status. Returns the status
 * ("prelaunch") or NULL with @error; never leaves the process running. */
static char *
qmp_query_status(pid_t pid, const char *monitor, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    g_autoptr(QmpClient) client = NULL;
    json_object *reply = NULL;
    json_object *status = NULL, *running = NULL;
    char *ret = NULL;

    while (!client) {
        g_autoptr(GError) local = NULL;

        if (waitpid(pid, NULL, WNOHANG) == pid) {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED, "QEMU exited");
            return NULL;
        }
        if (g_file_test(monitor, G_FILE_TEST_EXISTS))
            client = qmp_client_connect_unix(monitor, &local);
        if (!client && g_get_monotonic_time() > deadline) {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_TIMEOUT,
                           "no QMP monitor at %s", monitor);
            goto kill;
        }
        if (!client)
            g_usleep(20 * 1000);
    }
    if (!qmp_client_handshake(client, 10000, error))
        goto kill;
    reply = qmp_client_execute(client, "query-status", NULL, 10000, error);
    if (!reply)
        goto kill;
    if (json_object_object_get_ex(reply, "status", &status) &&
        json_object_object_get_ex(reply, "running", &running) &&
        !json_object_get_boolean(running))
        ret = g_strdup(json_object_get_string(status));
    else
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       "unexpected query-status reply %s",
                       json_object_to_json_string(reply));
    json_object_put(reply);
    qmp_client_send(client, "quit", NULL, NULL);
    if (reap(pid, 10000))
        return ret;
kill:
    kill(pid, SIGKILL);
    reap(pid, 10000);
    return ret;
}

static void
remove_tree(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *entry;

    while (d && (entry = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, entry, NULL);

        unlink(path);
    }
    rmdir(dir);
}

static void
test_real_qemu(gconstpointer data)
{
    const char *name = data;
    g_autoptr(DomainDef) def = NULL;
    g_autoptr(QemuCaps) caps = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *tmp = NULL;
    g_autofree char *monitor = NULL;
    g_autofree char *log_path = NULL;
    g_autofree char *log = NULL;
    g_autofree char *status = NULL;
    g_auto(GStrv) argv = NULL;
    QemuCommandContext ctx = { .kvm_usable = FALSE };
    GPid pid;
    int log_fd;

    if (access(REAL_QEMU, X_OK) != 0 || access(REAL_QEMU_IMG, X_OK) != 0) {
        g_test_skip(REAL_QEMU " or " REAL_QEMU_IMG " is not installed");
        return;
    }
    tmp = g_dir_make_tmp("virtd-cmd-XXXXXX", &err);
    g_assert_no_error(err);
    monitor = g_build_filename(tmp, "monitor.sock", NULL);
    log_path = g_build_filename(tmp, "qemu.log", NULL);
    ctx.monitor_path = monitor;
    ctx.domain_dir = tmp;
    ctx.vnc_port = free_vnc_port();
    g_assert_cmpint(ctx.vnc_port, >=, 5900);

    def = load_def(name);
    g_assert_cmpint(def->virt_type, ==, DOMAIN_VIRT_QEMU);
    for (guint i = 0; i < def->devices.disks.len; i++) {
        DomainDiskDef *disk = ptr_vec_index(&def->devices.disks, i);
        g_autofree char *image = NULL;
        int rc = -1;

        if (!disk->source)
            continue;
        image = g_strdup_printf("%s/disk%u.%s", tmp, i, disk->driver_type);
        const char *const img_argv[] = { REAL_QEMU_IMG, "create", "-q", "-f",
                                         disk->driver_type, image, "16M", NULL };
        g_assert_true(g_spawn_sync(NULL, (char **)img_argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                   NULL, NULL, &rc, &err));
        g_assert_no_error(err);
        g_assert_true(g_spawn_check_wait_status(rc, NULL));
        g_free(disk->source);
        disk->source = g_steal_pointer(&image);
    }

    caps = canned_caps("x86_64", REAL_QEMU, FALSE);
    argv = qemu_command_build(def, caps, &ctx, &err);
    g_assert_no_error(err);
    log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_assert_cmpint(log_fd, >=, 0);
    g_assert_true(g_spawn_async_with_pipes_and_fds(NULL, (const char *const *)argv, NULL,
                                                   G_SPAWN_DO_NOT_REAP_CHILD |
                                                       G_SPAWN_STDIN_FROM_DEV_NULL,
                                                   NULL, NULL, -1, log_fd, log_fd, NULL, NULL,
                                                   0, &pid, NULL, NULL, NULL, &err));
    close(log_fd);
    g_assert_no_error(err);

    status = qmp_query_status(pid, monitor, &err); /* QEMU is gone after this */
    g_file_get_contents(log_path, &log, NULL, NULL);
    if (err) {
        g_autofree char *cmd = qemu_command_format((const char *const *)argv);

        g_printerr("%s\nQEMU said:\n%s\n", cmd, log ? log : "");
    }
    remove_tree(tmp);
    g_assert_no_error(err);
    g_assert_cmpstr(status, ==, "prelaunch");
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The case names: every NAME.xml of tests/data/xml2argv, sorted. */
static GPtrArray *
golden_case_names(void)
{
    g_autofree char *dir = data_path("", "");
    g_autoptr(GError) err = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &err);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *entry;

    if (!d)
        g_error("cannot list %s: %s", dir, err->message);
    while ((entry = g_dir_read_name(d))) {
        if (g_str_has_suffix(entry, ".xml"))
            g_ptr_array_add(names, g_strndup(entry, strlen(entry) - strlen(".xml")));
    }
    g_ptr_array_sort(names, compare_names);
    return names;
}

int
main(int argc, char **argv)
{
    g_autoptr(GPtrArray) names = NULL;

    g_test_init(&argc, &argv, NULL);
    names = golden_case_names();
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_strdup_printf("/qemu-command/golden/%s",
                                                (char *)names->pdata[i]);

        g_test_add_data_func(path, names->pdata[i], test_golden);
    }
    g_test_add_func("/qemu-command/error-codes", test_error_codes);
    g_test_add_func("/qemu-command/context-errors", test_context_errors);
    g_test_add_func("/qemu-command/format", test_format);
    g_test_add_data_func("/qemu-command/real-qemu/minimal", "minimal", test_real_qemu);
    g_test_add_data_func("/qemu-command/real-qemu/virt-install-like", "virt-install-like",
                         test_real_qemu);
    return g_test_run();
}
