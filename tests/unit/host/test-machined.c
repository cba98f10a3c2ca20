/* systemd-machined: pure names; the probe, CreateMachine* and TerminateMachine against a
 * private dbus-daemon and a fake machined (fake-machined.py, which logs every call it gets);
 * hosts without a bus or without machined; machined's errors and silence; a VM's group below
 * a machine scope in the real /sys/fs/cgroup (root only). */
#include <dlfcn.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/util/virt-error.h"
#include "drivers/host/cgroup.h"
#include "drivers/host/machined.h"

#define PYTHON "/usr/bin/python3"
#define LIBDBUS "libdbus-1.so.3"

static const unsigned char test_uuid[16] = { 0x6b, 0x1f, 0x2a, 0x00, 0x01, 0x02, 0x03, 0x04,
                                             0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0xff };
#define TEST_UUID_TEXT                                                                         \
    "[byte 0x6b, 0x1f, 0x2a, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, "    \
    "0x0a, 0x0b, 0xff]"
#define SCOPE_PROPERTIES(slice)                                                                \
    "[('Slice', <'" slice "'>), ('After', <['libvirtd.service', 'virtqemud.service']>), "     \
    "('Before', <['virt-guest-shutdown.target']>)]"

/* ---- pure names ---- */

static void
test_names(void)
{
    static const struct {
        int id;
        const char *name, *machine, *unit;
    } cases[] = {
        { 1, "web", "qemu-1-web", "machine-qemu\\x2d1\\x2dweb.scope" },
        { 12, "my-vm.test", "qemu-12-my-vm.test", "machine-qemu\\x2d12\\x2dmy\\x2dvm.test.scope" },
        { 3, "_under score", "qemu-3-underscore", "machine-qemu\\x2d3\\x2dunderscore.scope" },
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *machine = machined_machine_name(cases[i].id, cases[i].name);
        g_autofree char *unit = machined_scope_unit(machine);

        g_assert_cmpstr(machine, ==, cases[i].machine);
        g_assert_cmpstr(unit, ==, cases[i].unit);
    }
    g_autofree char *odd = machined_scope_unit(".a/b:c_d");
    g_assert_cmpstr(odd, ==, "machine-\\x2ea-b:c_d.scope");

    static const struct {
        const char *partition, *slice;
    } slices[] = {
        { NULL, "machine.slice" },
        { "", "machine.slice" },
        { "/machine", "machine.slice" },
        { "/machine/prod", "machine-prod.slice" },
        { "/machine/web-tier/db", "machine-web\\x2dtier-db.slice" },
    };
    for (guint i = 0; i < G_N_ELEMENTS(slices); i++) {
        g_autoptr(GError) err = NULL;
        g_autofree char *slice = machined_slice_name(slices[i].partition, &err);

        g_assert_no_error(err);
        g_assert_cmpstr(slice, ==, slices[i].slice);
    }
    static const struct {
        const char *partition, *message;
    } bad[] = {
        { "machine", "resource partition 'machine' must start with '/'" },
        { "/machine//x", "resource partition '/machine//x' has an invalid component" },
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;

        g_assert_null(machined_slice_name(bad[i].partition, &err));
        g_assert_true(virt_error_is(err, VIR_ERR_CONFIG_UNSUPPORTED));
        g_assert_cmpstr(err->message, ==, bad[i].message);
    }
}

static void
test_scope_path(void)
{
    const char *unit = "machine-qemu\\x2d1\\x2dweb.scope";
    static const struct {
        const char *text, *scope;
    } cases[] = {
        /* v2, QEMU's main thread in emulator/ */
        { "0::/machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt/emulator\n",
          "/machine.slice/machine-qemu\\x2d1\\x2dweb.scope" },
        /* v1 with a name=systemd hierarchy; cpuset never in the scope */
        { "9:name=systemd:/machine.slice/machine-qemu\\x2d1\\x2dweb.scope\n"
          "3:cpuset:/machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt/emulator\n"
          "1:cpu:/machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt/emulator\n0::/\n",
          "/machine.slice/machine-qemu\\x2d1\\x2dweb.scope" },
        /* a custom slice */
        { "0::/machine.slice/machine-prod.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt\n",
          "/machine.slice/machine-prod.slice/machine-qemu\\x2d1\\x2dweb.scope" },
        /* the direct layout, another machine's scope, a daemon's own scope */
        { "0::/machine/qemu-1-web.libvirt-qemu/emulator\n", NULL },
        { "0::/machine.slice/machine-qemu\\x2d2\\x2dweb.scope/libvirt\n", NULL },
        { "0::/user.slice/user-0.slice/session-3.scope\n", NULL },
        { "", NULL },
        { "garbage\n1:cpu\n", NULL },
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *scope = machined_scope_path(cases[i].text, unit);

        g_assert_cmpstr(scope, ==, cases[i].scope);
    }
}

/* ---- log capture ---- */

typedef struct {
    GPtrArray *messages;
} Logs;

static void
log_capture(const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
    Logs *logs = data;

    (void)domain;
    (void)level;
    g_ptr_array_add(logs->messages, g_strdup(message));
}

static guint
logs_start(Logs *logs)
{
    logs->messages = g_ptr_array_new_with_free_func(g_free);
    return g_log_set_handler(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, log_capture, logs);
}

static void
logs_stop(Logs *logs, guint handler)
{
    g_log_remove_handler(G_LOG_DOMAIN, handler);
    g_ptr_array_unref(logs->messages);
}

/* ---- a private bus and a fake machined ---- */

typedef struct {
    char *dir;
    char *address;
    char *socket;
    char *log;
    GPid bus_pid;
    GPid fake_pid;
} Bus;

static gboolean
wait_for_file(const char *path)
{
    for (int i = 0; i < 200; i++) { /* 10 s */
        if (g_file_test(path, G_FILE_TEST_EXISTS))
            return TRUE;
        g_usleep(50 * 1000);
    }
    return FALSE;
}

static void
stop_pid(GPid *pid)
{
    if (*pid <= 0)
        return;
    kill(*pid, SIGTERM);
    for (int i = 0; i < 100 && waitpid(*pid, NULL, WNOHANG) == 0; i++)
        g_usleep(50 * 1000);
    if (kill(*pid, 0) == 0) {
        kill(*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
    }
    *pid = 0;
}

static char *
fake_script(void)
{
    const char *srcdir = g_getenv("VIRTD_SRCDIR");

    return g_build_filename(srcdir ? srcdir : ".", "tests", "unit", "host", "fake-machined.py",
                            NULL);
}

static gboolean
tools_present(void)
{
    g_autofree char *daemon = g_find_program_in_path("dbus-daemon");

    if (!daemon || !g_file_test(PYTHON, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("needs dbus-daemon and " PYTHON);
        return FALSE;
    }
    return TRUE;
}

/* The fake's command line: its own options, then @extra (NULL-terminated, may be NULL). */
static GPtrArray *
fake_argv(Bus *b, const char *ready, const char *const *extra)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(argv, g_strdup(PYTHON));
    g_ptr_array_add(argv, fake_script());
    g_ptr_array_add(argv, g_strdup("--address"));
    g_ptr_array_add(argv, g_strdup(b->address));
    g_ptr_array_add(argv, g_strdup("--log"));
    g_ptr_array_add(argv, g_strdup(b->log));
    g_ptr_array_add(argv, g_strdup("--ready"));
    g_ptr_array_add(argv, g_strdup(ready));
    for (const char *const *a = extra; a && *a; a++)
        g_ptr_array_add(argv, g_strdup(*a));
    g_ptr_array_add(argv, NULL);
    return argv;
}

/* A dbus-daemon on a socket in a new temporary directory. With @activatable, the fake
 * machined is not running but the bus starts it on the first call to its name. */
static void
bus_start(Bus *b, gboolean activatable)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *conf = NULL;
    g_autofree char *text = NULL;
    g_autofree char *services = NULL;

    memset(b, 0, sizeof(*b));
    b->dir = g_dir_make_tmp("virtd-machined-XXXXXX", &err);
    g_assert_no_error(err);
    b->socket = g_build_filename(b->dir, "bus", NULL);
    b->address = g_strconcat("unix:path=", b->socket, NULL);
    b->log = g_build_filename(b->dir, "calls", NULL);
    services = g_build_filename(b->dir, "services", NULL);
    g_assert_cmpint(g_mkdir(services, 0700), ==, 0);
    if (activatable) {
        g_autofree char *ready = g_build_filename(b->dir, "ready", NULL);
        g_autoptr(GPtrArray) argv = fake_argv(b, ready, NULL);
        g_autofree char *exec = g_strjoinv(" ", (char **)argv->pdata);
        g_autofree char *service = g_strdup_printf("[D-BUS Service]\nName=org.freedesktop.machine1\n"
                                                   "Exec=%s\n",
                                                   exec);
        g_autofree char *path = g_build_filename(services, "org.freedesktop.machine1.service",
                                                 NULL);

        g_assert_true(g_file_set_contents(path, service, -1, NULL));
    }
    text = g_strdup_printf(
        "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
        " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
        "<busconfig>\n"
        "  <type>session</type>\n"
        "  <listen>%s</listen>\n"
        "  <auth>EXTERNAL</auth>\n"
        "  <servicedir>%s</servicedir>\n"
        "  <policy context=\"default\">\n"
        "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
        "    <allow eavesdrop=\"true\"/>\n"
        "    <allow own=\"*\"/>\n"
        "  </policy>\n"
        "</busconfig>\n",
        b->address, services);
    conf = g_build_filename(b->dir, "bus.conf", NULL);
    g_assert_true(g_file_set_contents(conf, text, -1, NULL));

    g_autofree char *conf_arg = g_strconcat("--config-file=", conf, NULL);
    const char *argv[] = { "dbus-daemon", conf_arg, "--nofork", NULL };
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                    G_SPAWN_STDERR_TO_DEV_NULL,
                                NULL, NULL, &b->bus_pid, &err));
    g_assert_no_error(err);
    g_assert_true(wait_for_file(b->socket));
}

static void
fake_start(Bus *b, const char *const *extra)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *ready = g_build_filename(b->dir, "ready", NULL);
    g_autoptr(GPtrArray) argv = fake_argv(b, ready, extra);

    g_assert_true(g_spawn_async(NULL, (char **)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                NULL, NULL, &b->fake_pid, &err));
    g_assert_no_error(err);
    g_assert_true(wait_for_file(ready));
}

/* What the fake recorded, one call a line. */
static char *
bus_calls(Bus *b)
{
    char *text = NULL;

    if (!g_file_get_contents(b->log, &text, NULL, NULL))
        return g_strdup("");
    return text;
}

static void
bus_stop(Bus *b)
{
    g_autofree char *ready = g_build_filename(b->dir, "ready", NULL);
    g_autofree char *pid_text = NULL;

    stop_pid(&b->fake_pid);
    /* an activated fake is the bus's child: it told its pid in the ready file */
    if (g_file_get_contents(ready, &pid_text, NULL, NULL)) {
        pid_t pid = atoi(pid_text);

        if (pid > 0)
            kill(pid, SIGTERM);
    }
    stop_pid(&b->bus_pid);
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", b->dir);
    g_assert_cmpint(system(rm), ==, 0);
    g_free(b->dir);
    g_free(b->address);
    g_free(b->socket);
    g_free(b->log);
}

static Machined *
probe_one(const char *address, const char *message_prefix)
{
    Logs logs;
    guint handler = logs_start(&logs);
    Machined *machined = machined_probe(address);

    /* exactly one line in the log, whatever the outcome */
    g_assert_cmpuint(logs.messages->len, ==, 1);
    if (!g_str_has_prefix(logs.messages->pdata[0], message_prefix))
        g_error("log line '%s' does not start with '%s'", (char *)logs.messages->pdata[0],
                message_prefix);
    logs_stop(&logs, handler);
    return machined;
}

/* A bus with the fake machined (@extra: its options) and the handle the probe gives. */
static Machined *
bus_with_fake(Bus *b, const char *const *extra)
{
    bus_start(b, FALSE);
    fake_start(b, extra);
    return probe_one(b->address, "systemd-machined registers the domains");
}

/* ---- the tests ---- */

static void
test_no_bus(void)
{
    g_autofree char *dir = g_dir_make_tmp("virtd-machined-XXXXXX", NULL);
    g_autofree char *address = g_strdup_printf("unix:path=%s/none", dir);
    g_autofree char *expected = g_strdup_printf(
        "no system D-Bus: Failed to connect to socket %s/none: No such file or directory; "
        "domains are not registered with systemd-machined",
        dir);

    g_assert_null(probe_one(address, expected));
    /* the system bus is $DBUS_SYSTEM_BUS_ADDRESS when set */
    g_setenv("DBUS_SYSTEM_BUS_ADDRESS", address, TRUE);
    g_assert_null(probe_one(NULL, expected));
    g_unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
    g_rmdir(dir);
}

/* Whether this process has libdbus mapped (machined.c loads it on demand). */
static gboolean
libdbus_loaded(void)
{
    void *handle = dlopen(LIBDBUS, RTLD_NOW | RTLD_NOLOAD);

    if (handle)
        dlclose(handle);
    return handle != NULL;
}

static void
test_no_bus_no_libdbus(void)
{
    /* a fresh process: the other tests load libdbus */
    if (!g_test_subprocess()) {
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
        return;
    }
    g_autofree char *dir = g_dir_make_tmp("virtd-machined-XXXXXX", NULL);
    g_autofree char *address = g_strdup_printf("unix:path=%s/none", dir);

    g_assert_false(libdbus_loaded());
    g_assert_null(probe_one(address, "no system D-Bus: Failed to connect to socket "));
    g_assert_false(libdbus_loaded());
    g_rmdir(dir);
}

/* Addresses other than one plain unix:path are libdbus's to try. */
static void
test_no_bus_other_address(void)
{
    g_autofree char *abstract = g_strdup_printf("unix:abstract=virtd-test-none-%d",
                                                (int)getpid());
    g_autofree char *dir = g_dir_make_tmp("virtd-machined-XXXXXX", NULL);
    g_autofree char *two = g_strdup_printf("unix:path=%s/none;unix:path=%s/none2", dir, dir);

    g_assert_null(probe_one(abstract, "no system D-Bus: Failed to connect to socket "));
    g_assert_true(libdbus_loaded());
    g_assert_null(probe_one(two, "no system D-Bus: Failed to connect to socket "));
    g_rmdir(dir);
}

/* A socket that takes connections and never answers: enough for the probe's first look. */
static int
listen_socket(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpuint(strlen(path), <, sizeof(sun.sun_path));
    strcpy(sun.sun_path, path);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), ==, 0);
    g_assert_cmpint(listen(fd, 8), ==, 0);
    return fd;
}

/* A bus is there but libdbus cannot be loaded (@library in place of libdbus-1.so.3): the
 * probe logs @expected_prefix ... @expected_suffix, every time, and gives no handle. */
static void
probe_without_library(const char *library, const char *expected_prefix,
                      const char *expected_suffix)
{
    g_autofree char *dir = g_dir_make_tmp("virtd-machined-XXXXXX", NULL);
    g_autofree char *socket_path = g_build_filename(dir, "bus", NULL);
    g_autofree char *address = g_strconcat("unix:path=", socket_path, NULL);
    int fd = listen_socket(socket_path);

    machined_set_library(library);
    for (int i = 0; i < 2; i++) {
        Logs logs;
        guint handler = logs_start(&logs);

        g_assert_null(machined_probe(address));
        g_assert_cmpuint(logs.messages->len, ==, 1);
        if (!g_str_has_prefix(logs.messages->pdata[0], expected_prefix) ||
            !g_str_has_suffix(logs.messages->pdata[0], expected_suffix))
            g_error("log line '%s' is not '%s...%s'", (char *)logs.messages->pdata[0],
                    expected_prefix, expected_suffix);
        logs_stop(&logs, handler);
    }
    close(fd);
    g_unlink(socket_path);
    g_rmdir(dir);
}

static void
test_library_missing(void)
{
    if (!g_test_subprocess()) {
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
        return;
    }
    probe_without_library("libdbus-virtd-test-none.so.3",
                          "cannot load libdbus-virtd-test-none.so.3: "
                          "libdbus-virtd-test-none.so.3: cannot open shared object file: "
                          "No such file or directory; domains are not registered with "
                          "systemd-machined",
                          "");
}

static void
test_library_without_symbols(void)
{
    if (!g_test_subprocess()) {
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
        return;
    }
    /* a library that is there but is not libdbus */
    probe_without_library("libc.so.6", "cannot load libc.so.6: ",
                          "undefined symbol: dbus_bus_set_unique_name; domains are not "
                          "registered with systemd-machined");
}

static void
test_no_machined(void)
{
    Bus b;

    if (!tools_present())
        return;
    bus_start(&b, FALSE);
    g_assert_null(probe_one(b.address,
                            "systemd-machined is not running: 'org.freedesktop.machine1' has "
                            "no owner on the system bus and cannot be activated; domains are "
                            "not registered with it"));
    bus_stop(&b);
}

static void
test_create_terminate(void)
{
    Bus b;
    g_autoptr(GError) err = NULL;
    static const int ifindices[] = { 3, 7 };

    if (!tools_present())
        return;
    bus_start(&b, FALSE);
    fake_start(&b, NULL);
    g_setenv("DBUS_SYSTEM_BUS_ADDRESS", b.address, TRUE);
    g_autoptr(Machined) machined = probe_one(NULL, "systemd-machined registers the domains");
    g_unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
    g_assert_nonnull(machined);
    g_assert_true(libdbus_loaded());

    MachinedVm web = { .name = "qemu-1-web", .uuid = test_uuid, .leader = 4242 };
    g_assert_true(machined_create(machined, &web, &err));
    g_assert_no_error(err);
    MachinedVm db = { .name = "qemu-2-db", .uuid = test_uuid, .leader = 4343,
                      .partition = "/machine/prod", .ifindices = ifindices,
                      .n_ifindices = G_N_ELEMENTS(ifindices) };
    g_assert_true(machined_create(machined, &db, &err));
    g_assert_no_error(err);
    g_assert_true(machined_terminate(machined, "qemu-1-web", &err));
    g_assert_no_error(err);
    /* a machine machined forgot (its scope emptied) needs no terminating */
    g_assert_true(machined_terminate(machined, "qemu-9-gone", &err));
    g_assert_no_error(err);

    g_autofree char *calls = bus_calls(&b);
    g_assert_cmpstr(calls, ==,
                    "CreateMachineWithNetwork ('qemu-1-web', " TEST_UUID_TEXT ", 'libvirt-qemu', "
                    "'vm', uint32 4242, '', @ai [], " SCOPE_PROPERTIES("machine.slice") ")\n"
                    "CreateMachineWithNetwork ('qemu-2-db', " TEST_UUID_TEXT ", 'libvirt-qemu', "
                    "'vm', uint32 4343, '', [3, 7], " SCOPE_PROPERTIES("machine-prod.slice") ")\n"
                    "TerminateMachine ('qemu-1-web',)\n"
                    "TerminateMachine ('qemu-9-gone',)\n");
    bus_stop(&b);
}

static void
test_legacy_machined(void)
{
    Bus b;
    g_autoptr(GError) err = NULL;
    const char *const extra[] = { "--no-network", NULL };

    if (!tools_present())
        return;
    g_autoptr(Machined) machined = bus_with_fake(&b, extra);
    MachinedVm web = { .name = "qemu-1-web", .uuid = test_uuid, .leader = 4242 };
    g_assert_true(machined_create(machined, &web, &err));
    g_assert_no_error(err);

    g_autofree char *calls = bus_calls(&b);
    g_assert_cmpstr(calls, ==,
                    "CreateMachine ('qemu-1-web', " TEST_UUID_TEXT ", 'libvirt-qemu', 'vm', "
                    "uint32 4242, '', " SCOPE_PROPERTIES("machine.slice") ")\n");
    bus_stop(&b);
}

static void
test_errors(void)
{
    Bus b;
    g_autoptr(GError) err = NULL;
    const char *const extra[] = {
        "--fail", "org.freedesktop.machine1.MachineExists:Machine 'qemu-1-web' already exists",
        NULL
    };

    if (!tools_present())
        return;
    g_autoptr(Machined) machined = bus_with_fake(&b, extra);
    MachinedVm web = { .name = "qemu-1-web", .uuid = test_uuid, .leader = 4242 };
    g_assert_false(machined_create(machined, &web, &err));
    g_assert_true(virt_error_is(err, VIR_ERR_DBUS_SERVICE));
    g_assert_cmpint(virt_error_from(err->domain), ==, VIR_FROM_SYSTEMD);
    g_assert_cmpstr(err->message, ==,
                    "systemd-machined call CreateMachineWithNetwork failed: Machine "
                    "'qemu-1-web' already exists");
    g_clear_error(&err);

    /* a partition that makes no slice: refused before any call */
    MachinedVm bad = { .name = "qemu-1-web", .uuid = test_uuid, .leader = 1,
                       .partition = "machine" };
    g_assert_false(machined_create(machined, &bad, &err));
    g_assert_true(virt_error_is(err, VIR_ERR_CONFIG_UNSUPPORTED));
    g_clear_error(&err);

    /* machined went away after the probe: the call says what the bus said */
    stop_pid(&b.fake_pid);
    g_assert_false(machined_terminate(machined, "qemu-1-web", &err));
    g_assert_true(virt_error_is(err, VIR_ERR_DBUS_SERVICE));
    g_assert_cmpstr(err->message, ==,
                    "systemd-machined call TerminateMachine failed: The name "
                    "org.freedesktop.machine1 was not provided by any .service files");
    g_clear_error(&err);

    /* and so did the bus */
    stop_pid(&b.bus_pid);
    g_unlink(b.socket);
    g_assert_false(machined_create(machined, &web, &err));
    g_autofree char *expected = g_strdup_printf(
        "systemd-machined call CreateMachineWithNetwork failed: Failed to connect to socket "
        "%s: No such file or directory",
        b.socket);
    g_assert_cmpstr(err->message, ==, expected);
    bus_stop(&b);
}

static void
test_timeout(void)
{
    Bus b;
    g_autoptr(GError) err = NULL;
    const char *const extra[] = { "--delay", "3", NULL };

    if (!tools_present())
        return;
    g_autoptr(Machined) machined = bus_with_fake(&b, extra);
    machined_set_timeout(machined, 300);
    MachinedVm web = { .name = "qemu-1-web", .uuid = test_uuid, .leader = 4242 };
    gint64 start = g_get_monotonic_time();
    g_assert_false(machined_create(machined, &web, &err));
    g_assert_cmpint(g_get_monotonic_time() - start, <, 2 * G_USEC_PER_SEC);
    g_assert_cmpstr(err->message, ==,
                    "systemd-machined call CreateMachineWithNetwork failed: no reply within "
                    "300 ms");
    bus_stop(&b);
}

static void
test_activation(void)
{
    Bus b;
    g_autoptr(GError) err = NULL;

    if (!tools_present())
        return;
    /* as on most hosts: machined does not run yet, the bus starts it on demand */
    bus_start(&b, TRUE);
    g_autoptr(Machined) machined = probe_one(b.address, "systemd-machined registers");
    g_assert_nonnull(machined);
    MachinedVm web = { .name = "qemu-1-web", .uuid = test_uuid, .leader = 4242 };
    machined_set_timeout(machined, 15000); /* python's start-up on a loaded host */
    g_assert_true(machined_create(machined, &web, &err));
    g_assert_no_error(err);
    g_autofree char *calls = bus_calls(&b);
    g_assert_true(g_str_has_prefix(calls, "CreateMachineWithNetwork ('qemu-1-web', "));
    bus_stop(&b);
}

/* ---- the VM's group below a machine scope, real cgroups ---- */

static char *
proc_cgroup_line(pid_t pid, const char *controller)
{
    g_autofree char *file = g_strdup_printf("/proc/%d/cgroup", (int)pid);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    for (char **line = lines; *line; line++) {
        g_auto(GStrv) f = g_strsplit(*line, ":", 3);

        /* "" asks for the v2 line, "0::PATH" */
        if (g_strv_length(f) == 3 && !*controller && g_str_equal(f[0], "0"))
            return g_strdup(f[2]);
        if (g_strv_length(f) == 3 && *controller) {
            g_auto(GStrv) names = g_strsplit(f[1], ",", -1);

            if (g_strv_contains((const char *const *)names, controller))
                return g_strdup(f[2]);
        }
    }
    return NULL;
}

/* One write(2): a cgroup file takes no temporary file and rename. */
static void
write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, text, strlen(text)), ==, (gssize)strlen(text));
    g_assert_cmpint(close(fd), ==, 0);
}

/* The sleeping stand-in for QEMU dies with the test, even when an assertion aborts it. */
static void
die_with_parent(gpointer data)
{
    (void)data;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void
test_scope_group_real(void)
{
    g_autoptr(CgroupHost) host = cgroup_host_new("/", "/proc/self/mountinfo");
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) scopes = g_ptr_array_new_with_free_func(g_free);
    CgroupMode mode = cgroup_host_get_mode(host);

    if (getuid() != 0 || mode == CGROUP_MODE_NONE) {
        g_test_skip("needs root and a cgroup filesystem");
        return;
    }
    g_autofree char *slice = g_strdup_printf("virtd-test-machined-%d.slice", (int)getpid());
    g_autofree char *scope = g_strdup_printf("/%s/machine-qemu\\x2d1\\x2dt.scope", slice);
    g_autofree char *vm_path = g_strconcat(scope, "/libvirt", NULL);
    /* play systemd: the scope, with the leader, where systemd makes it (never cpuset) */
    if (mode == CGROUP_MODE_V2) {
        g_ptr_array_add(scopes, g_build_filename("/sys/fs/cgroup", scope, NULL));
    } else {
        static const char *const hierarchies[] = { "cpu", "cpuacct", "cpu,cpuacct", "memory",
                                                   "devices", "blkio", NULL };
        for (const char *const *h = hierarchies; *h; h++) {
            g_autofree char *dir = g_build_filename("/sys/fs/cgroup", *h, NULL);

            if (g_file_test(dir, G_FILE_TEST_IS_DIR) &&
                !g_file_test(dir, G_FILE_TEST_IS_SYMLINK))
                g_ptr_array_add(scopes, g_build_filename(dir, scope, NULL));
        }
    }
    const char *argv[] = { "sleep", "60", NULL };
    GPid child = 0;
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                die_with_parent, NULL, &child, &err));
    g_autofree char *child_text = g_strdup_printf("%d", (int)child);
    for (guint i = 0; i < scopes->len; i++) {
        g_autofree char *procs = g_build_filename(scopes->pdata[i], "cgroup.procs", NULL);

        g_assert_cmpint(g_mkdir_with_parents(scopes->pdata[i], 0755), ==, 0);
        write_file(procs, child_text);
    }

    g_autoptr(Cgroup) vm = cgroup_open(host, vm_path, child, &err);
    g_assert_no_error(err);
    g_autoptr(Cgroup) emulator = cgroup_new_child(vm, "emulator", &err);
    g_assert_no_error(err);
    g_assert_true(cgroup_move_tasks(vm, emulator, &err));
    g_assert_no_error(err);
    /* the VM has every controller of the host, cpuset (which systemd never has) included */
    g_autofree char *emulator_path = g_strconcat(vm_path, "/emulator", NULL);
    const char *controllers[] = { "cpu", "cpuset", "memory", NULL };
    for (const char *const *c = controllers; *c; c++) {
        g_autofree char *where = NULL;

        if (!cgroup_host_has_controller(host, *c))
            continue;
        where = proc_cgroup_line(child, mode == CGROUP_MODE_V2 ? "" : *c);
        g_assert_cmpstr(where, ==, g_str_equal(*c, "memory") && mode != CGROUP_MODE_V2
                                       ? vm_path : emulator_path);
    }
    if (cgroup_host_has_controller(host, "memory")) {
        g_assert_true(cgroup_set_memory_hard_limit(vm, 1048576, &err));
        g_assert_no_error(err);
    }
    /* found again, as after a daemon restart */
    g_autoptr(Cgroup) again = cgroup_open(host, vm_path, 0, &err);
    g_assert_no_error(err);

    stop_pid(&child);
    g_assert_true(cgroup_remove(vm, &err));
    g_assert_no_error(err);
    g_autofree char *slice_path = g_strconcat("/", slice, NULL);
    g_autoptr(Cgroup) top = cgroup_open(host, slice_path, 0, &err);
    g_assert_no_error(err);
    g_assert_true(cgroup_remove(top, &err));
    g_assert_no_error(err);

    /* gone, in every hierarchy */
    g_assert_null(cgroup_open(host, slice_path, 0, &err));
    g_clear_error(&err);
    static const char *const bad[] = { "", "/", "relative", "/a//b", "/a/../b", "/a/.", NULL };
    for (const char *const *p = bad; *p; p++) {
        g_autofree char *message = g_strdup_printf("invalid cgroup path '%s'", *p);

        g_assert_null(cgroup_open(host, *p, 0, &err));
        g_assert_true(virt_error_is(err, VIR_ERR_INVALID_ARG));
        g_assert_cmpstr(err->message, ==, message);
        g_clear_error(&err);
    }
}

/* ---- the same on a v2 tree that plays the kernel's no-internal-process rule ---- */

typedef struct {
    char *mount;          /* the unified mount inside the temporary root */
    GString *log;         /* "op path value" for every change, paths below the mount */
    GHashTable *enabled;  /* directory -> its subtree_control so far */
    guint violations;     /* domain controllers enabled over a group with a process */
} Tree2;

static void
put(const char *dir, const char *file, const char *text)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);

    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static char *
get(const char *dir, const char *file)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return g_strstrip(text);
}

/* A new group: the controllers its parent hands down, no process. */
static void
tree2_fill(Tree2 *t, const char *dir, const char *procs)
{
    g_autofree char *parent = g_path_get_dirname(dir);
    const char *controllers = g_hash_table_lookup(t->enabled, parent);

    put(dir, "cgroup.controllers", controllers ? controllers : "");
    put(dir, "cgroup.subtree_control", "");
    put(dir, "cgroup.procs", procs);
    put(dir, "cgroup.threads", procs);
    put(dir, "cgroup.type", "domain");
    put(dir, "memory.max", "max");
    put(dir, "cpu.max", "max 100000");
}

static void
tree2_hook(const char *op, const char *path, const char *value, gpointer data)
{
    Tree2 *t = data;
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *file = g_path_get_basename(path);

    g_string_append_printf(t->log, "%s %s%s%s\n", op, path + strlen(t->mount),
                           value ? " " : "", value ? value : "");
    if (g_str_equal(op, "mkdir"))
        tree2_fill(t, path, "");
    if (!g_str_equal(op, "write"))
        return;
    if (g_str_equal(file, "cgroup.procs")) {
        /* a process is in one group: it leaves the parent (the scope, here) */
        g_autofree char *parent = g_path_get_dirname(dir);
        g_autofree char *old = get(parent, "cgroup.procs");

        if (g_str_equal(old, value))
            put(parent, "cgroup.procs", "");
    } else if (g_str_equal(file, "cgroup.subtree_control")) {
        g_autofree char *procs = get(dir, "cgroup.procs");
        const char *before = g_hash_table_lookup(t->enabled, dir);
        char *now = g_strjoin(" ", before ? before : "", value + 1, NULL);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);

        /* the kernel refuses (EBUSY) domain controllers over a group with processes */
        if (*procs && (g_str_equal(value, "+memory") || g_str_equal(value, "+io")))
            t->violations++;
        g_hash_table_insert(t->enabled, g_strdup(dir), now);
        put(dir, "cgroup.subtree_control", now);
        for (const char *name; d && (name = g_dir_read_name(d));) {
            g_autofree char *child = g_build_filename(dir, name, NULL);

            if (g_file_test(child, G_FILE_TEST_IS_DIR))
                put(child, "cgroup.controllers", now);
        }
    }
}

static void
test_scope_group_v2(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *root = g_dir_make_tmp("virtd-machined-v2-XXXXXX", &err);
    Tree2 t = {
        .mount = g_build_filename(root, "sys", "fs", "cgroup", NULL),
        .log = g_string_new(NULL),
        .enabled = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free),
    };
    g_autofree char *mountinfo = g_build_filename(root, "mountinfo", NULL);
    g_autofree char *slice = g_build_filename(t.mount, "machine.slice", NULL);
    g_autofree char *scope = g_build_filename(slice, "machine-qemu\\x2d1\\x2dweb.scope", NULL);
    const char *all = "cpu cpuset io memory";

    /* what systemd made: controllers down to the scope, QEMU (4242) in it */
    g_assert_cmpint(g_mkdir_with_parents(scope, 0755), ==, 0);
    put(t.mount, "cgroup.controllers", all);
    put(t.mount, "cgroup.procs", "1");
    put(t.mount, "cgroup.subtree_control", all);
    g_hash_table_insert(t.enabled, g_strdup(t.mount), g_strdup(all));
    tree2_fill(&t, slice, "");
    g_hash_table_insert(t.enabled, g_strdup(slice), g_strdup(all));
    put(slice, "cgroup.subtree_control", all);
    tree2_fill(&t, scope, "4242");
    g_assert_true(g_file_set_contents(
        mountinfo, "30 23 0:26 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n", -1, NULL));

    g_autoptr(CgroupHost) host = cgroup_host_new(root, mountinfo);
    g_assert_cmpint(cgroup_host_get_mode(host), ==, CGROUP_MODE_V2);
    cgroup_host_set_test_hook(host, tree2_hook, &t);
    g_autoptr(Cgroup) vm = cgroup_open(host, "/machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt",
                                       4242, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(t.violations, ==, 0);
    /* the VM's group has the domain controllers: memory limits work */
    g_assert_true(cgroup_set_memory_hard_limit(vm, 1048576, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(t.log->str, ==,
                    "mkdir /machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt\n"
                    "write /machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt/cgroup.procs 4242\n"
                    "write /machine.slice/machine-qemu\\x2d1\\x2dweb.scope/cgroup.subtree_control +cpu\n"
                    "write /machine.slice/machine-qemu\\x2d1\\x2dweb.scope/cgroup.subtree_control +cpuset\n"
                    "write /machine.slice/machine-qemu\\x2d1\\x2dweb.scope/cgroup.subtree_control +memory\n"
                    "write /machine.slice/machine-qemu\\x2d1\\x2dweb.scope/cgroup.subtree_control +io\n"
                    "write /machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt/cgroup.procs 4242\n"
                    "write /machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt/memory.max 1073741824\n");

    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", root);
    g_assert_cmpint(system(rm), ==, 0);
    g_free(t.mount);
    g_string_free(t.log, TRUE);
    g_hash_table_unref(t.enabled);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/machined/names", test_names);
    g_test_add_func("/machined/scope-path", test_scope_path);
    g_test_add_func("/machined/no-bus", test_no_bus);
    g_test_add_func("/machined/no-bus-no-libdbus", test_no_bus_no_libdbus);
    g_test_add_func("/machined/no-bus-other-address", test_no_bus_other_address);
    g_test_add_func("/machined/library-missing", test_library_missing);
    g_test_add_func("/machined/library-without-symbols", test_library_without_symbols);
    g_test_add_func("/machined/no-machined", test_no_machined);
    g_test_add_func("/machined/create-terminate", test_create_terminate);
    g_test_add_func("/machined/legacy", test_legacy_machined);
    g_test_add_func("/machined/errors", test_errors);
    g_test_add_func("/machined/timeout", test_timeout);
    g_test_add_func("/machined/activation", test_activation);
    g_test_add_func("/machined/scope-group-real", test_scope_group_real);
    g_test_add_func("/machined/scope-group-v2", test_scope_group_v2);
    return g_test_run();
}
