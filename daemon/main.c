/* virtd: a libvirt-compatible management daemon for QEMU/KVM hosts.
 *
 * main() wires the pieces together in order: options, paths, config, driver, dispatcher,
 * server, signals; then runs the GMainLoop until SIGTERM/SIGINT, and shuts down in the
 * reverse order (stop accepting, finish in-flight calls, stop the driver).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <libintl.h>
#include <locale.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "drivers/qemu/qemu-driver.h"
#include "file.h"
#include "paths.h"
#include "rpc/dispatch.h"
#include "rpc/error.h"
#include "virt-error.h"
#include "virtd-config.h"

#define DRAIN_TIMEOUT_MS 30000

typedef struct {
    char *root;
    char *config;
    char *pid_file;
    gboolean daemonize;
    gboolean version;
} Options;

typedef struct {
    Options opts;
    DaemonPaths paths;
    DaemonConfig cfg;
    GMainLoop *loop;
    VirtDriver *driver;
    Dispatcher *dispatcher;
    RpcServer *server;
    int pid_fd;
    int ready_fd; /* --daemon: tells the waiting parent we are up */
} Daemon;

static gboolean
parse_options(Options *opts, int *argc, char ***argv, GError **error)
{
    GOptionEntry entries[] = {
        {"root", 0, 0, G_OPTION_ARG_FILENAME, &opts->root,
         N_("Put every path (sockets, config, state, logs, cache) under DIR"), N_("DIR")},
        {"config", 'f', 0, G_OPTION_ARG_FILENAME, &opts->config,
         N_("Read the configuration from FILE"), N_("FILE")},
        {"daemon", 'd', 0, G_OPTION_ARG_NONE, &opts->daemonize,
         N_("Run in the background once ready"), NULL},
        {"pid-file", 'p', 0, G_OPTION_ARG_FILENAME, &opts->pid_file,
         N_("Write the daemon's pid to FILE"), N_("FILE")},
        {"version", 'V', 0, G_OPTION_ARG_NONE, &opts->version, N_("Print the version and exit"),
         NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_option_context_set_summary(ctx, _("A libvirt-compatible management daemon for QEMU/KVM."));
    g_option_context_add_main_entries(ctx, entries, NULL);
    return g_option_context_parse(ctx, argc, argv, error);
}

/* Take the pid file: a lock held for the daemon's life keeps a second daemon out. */
static gboolean
pid_file_take(Daemon *d, const char *path, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    if (!file_make_dirs(dir, 0755, error))
        return FALSE;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        virt_error_set_errno(error, VIR_FROM_NONE, errno, _("cannot open pid file '%s'"), path);
        return FALSE;
    }
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_SETLK, &lock) < 0) {
        close(fd);
        virt_error_set(error, VIR_FROM_NONE, VIR_ERR_OPERATION_FAILED,
                       _("another virtd is running: pid file '%s' is locked"), path);
        return FALSE;
    }
    g_autofree char *pid = g_strdup_printf("%d\n", getpid());
    if (ftruncate(fd, 0) < 0 || write(fd, pid, strlen(pid)) < 0) {
        int saved = errno;
        close(fd);
        virt_error_set_errno(error, VIR_FROM_NONE, saved, _("cannot write pid file '%s'"), path);
        return FALSE;
    }
    d->pid_fd = fd;
    return TRUE;
}

static gboolean
on_terminate(gpointer data)
{
    Daemon *d = data;
    g_message("shutting down on signal");
    g_main_loop_quit(d->loop);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_hangup(gpointer data)
{
    Daemon *d = data;
    g_autoptr(GError) err = NULL;
    g_message("reloading on SIGHUP");
    DaemonConfig fresh;
    daemon_config_init(&fresh);
    if (!daemon_config_load(&fresh, d->opts.config ? d->opts.config : d->paths.config_file,
                            d->opts.config == NULL, &err)) {
        g_warning("keeping the old configuration: %s", err->message);
        g_clear_error(&err);
        daemon_config_clear(&fresh);
    } else {
        daemon_config_clear(&d->cfg);
        d->cfg = fresh; /* limits of the running server apply from the next start */
    }
    if (!d->driver->reload(d->driver, &err))
        g_warning("reloading definitions failed: %s", err->message);
    return G_SOURCE_CONTINUE;
}

static gboolean
make_state_dirs(Daemon *d, GError **error)
{
    return file_make_dirs(d->paths.run_dir, 0755, error);
}

static gboolean
start_driver(Daemon *d, GError **error)
{
    QemuDriverConfig qcfg = {
        .config_dir = d->paths.qemu_config_dir,
        .state_dir = d->paths.qemu_state_dir,
        .log_dir = d->paths.qemu_log_dir,
        .cache_dir = d->paths.qemu_cache_dir,
        .emulator = d->cfg.emulator,
        .host = {.proc_root = "/", .sys_root = "/"},
        .privileged = d->paths.privileged,
    };
    d->driver = qemu_driver_new(&qcfg, error);
    return d->driver != NULL;
}

/* Bind every socket before the driver loads anything, so a second daemon on the same
 * root fails fast and touches nothing. Accepting starts later (rpc_server_start). */
static gboolean
bind_sockets(Daemon *d, GError **error)
{
    RpcServerConfig scfg = {
        .max_workers = d->cfg.max_workers,
        .prio_workers = d->cfg.prio_workers,
        .max_clients = d->cfg.max_clients,
        .max_client_requests = d->cfg.max_client_requests,
        .keepalive_interval = d->cfg.keepalive_interval,
        .keepalive_count = d->cfg.keepalive_count,
    };
    d->dispatcher = dispatch_new(d->paths.privileged);
    d->server = rpc_server_new(&scfg, dispatch_call, dispatch_stream_packet, dispatch_is_priority,
                               dispatch_client_closed, d->dispatcher);
    rpc_server_set_inline(d->server, dispatch_try_inline);
    dispatch_set_server(d->dispatcher, d->server);

    struct {
        const char *path;
        gboolean readonly;
    } socks[] = {
        {d->paths.sock_rw, FALSE},
        {d->paths.sock_ro, TRUE},
        {d->paths.sock_qemud_rw, FALSE},
        {d->paths.sock_qemud_ro, TRUE},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(socks); i++) {
        if (!socks[i].path)
            continue;
        int mode = socks[i].readonly ? d->cfg.unix_sock_ro_perms : d->cfg.unix_sock_rw_perms;
        if (!rpc_server_add_listener(d->server, socks[i].path, mode, socks[i].readonly, error))
            return FALSE;
    }
    return TRUE;
}

/* Fork into the background; the parent exits once the child says it is ready (or why it
 * failed), so `virtd --daemon && virsh ...` works without a sleep. */
static int
daemonize(Daemon *d)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        fprintf(stderr, "virtd: cannot create pipe: %s\n", g_strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "virtd: cannot fork: %s\n", g_strerror(errno));
        return -1;
    }
    if (pid > 0) {
        close(pipefd[1]);
        char status = 1;
        if (read(pipefd[0], &status, 1) != 1)
            status = 1;
        _exit(status == 0 ? 0 : 1);
    }
    close(pipefd[0]);
    setsid();
    d->ready_fd = pipefd[1];
    return 0;
}

static void
tell_parent(Daemon *d, gboolean ok)
{
    if (d->ready_fd < 0)
        return;
    char status = ok ? 0 : 1;
    if (write(d->ready_fd, &status, 1) < 0) {
        /* the parent is gone: nothing to tell */
    }
    close(d->ready_fd);
    d->ready_fd = -1;
}

/* Send our own output to the daemon log once detached from the terminal. */
static void
redirect_output(const char *log_path)
{
    g_autofree char *dir = g_path_get_dirname(log_path);
    g_mkdir_with_parents(dir, 0755);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (null >= 0)
        dup2(null, STDIN_FILENO);
    if (log >= 0) {
        dup2(log, STDOUT_FILENO);
        dup2(log, STDERR_FILENO);
    }
    if (null >= 0)
        close(null);
    if (log >= 0)
        close(log);
}

int
main(int argc, char **argv)
{
    /* One malloc arena for all threads. Our threads mostly wait on sockets and QEMU;
     * with an arena each, every worker kept its own free memory, and the daemon's RSS
     * moved by a few hundred KiB with how many workers a burst of calls had woken.
     * Per-thread caches still serve small allocations without the arena's lock. */
    mallopt(M_ARENA_MAX, 1);
    setlocale(LC_ALL, "");
    bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
    Daemon d = {.pid_fd = -1, .ready_fd = -1};
    g_autoptr(GError) err = NULL;
    int status = EXIT_FAILURE;
    const char *pid_file = NULL;

    if (!parse_options(&d.opts, &argc, &argv, &err)) {
        fprintf(stderr, "virtd: %s\n", err->message);
        return EXIT_FAILURE;
    }
    if (d.opts.version) {
        printf("virtd %s\n", VIRTD_VERSION);
        return EXIT_SUCCESS;
    }

    daemon_paths_init(&d.paths, d.opts.root, geteuid() == 0);
    daemon_config_init(&d.cfg);
    if (!daemon_config_load(&d.cfg, d.opts.config ? d.opts.config : d.paths.config_file,
                            d.opts.config == NULL, &err))
        goto out;

    if (d.opts.daemonize) {
        if (daemonize(&d) < 0)
            return EXIT_FAILURE;
        redirect_output(d.paths.daemon_log);
    }

    pid_file = d.opts.pid_file ? d.opts.pid_file
                                           : (d.opts.daemonize ? d.paths.pid_file : NULL);
    if (pid_file && !pid_file_take(&d, pid_file, &err))
        goto out;

    d.loop = g_main_loop_new(NULL, FALSE);
    /* Before the sockets exist: a client that sees them may signal us at once, and the
     * signal then waits for the loop instead of killing a daemon that is still starting. */
    g_unix_signal_add(SIGTERM, on_terminate, &d);
    g_unix_signal_add(SIGINT, on_terminate, &d);
    g_unix_signal_add(SIGHUP, on_hangup, &d);
    signal(SIGPIPE, SIG_IGN);
    if (!make_state_dirs(&d, &err) || !bind_sockets(&d, &err) || !start_driver(&d, &err))
        goto out;
    dispatch_set_driver(d.dispatcher, d.driver);
    d.driver->set_event_sink(d.driver, dispatch_domain_event, d.dispatcher);
    rpc_server_start(d.server);
    qemu_driver_start_autostart(d.driver);

    g_message("virtd %s listening on %s (%s mode)", VIRTD_VERSION, d.paths.sock_rw,
              d.paths.privileged ? "system" : "session");
    tell_parent(&d, TRUE);
    g_main_loop_run(d.loop);

    rpc_server_stop_accepting(d.server);
    rpc_server_drain(d.server, DRAIN_TIMEOUT_MS);
    status = EXIT_SUCCESS;

out:
    if (err) {
        g_autofree char *msg = rpc_error_message(err);
        fprintf(stderr, "virtd: %s\n", msg);
    }
    tell_parent(&d, FALSE);
    rpc_server_free(d.server);
    if (d.driver)
        qemu_driver_free(d.driver);
    dispatch_free(d.dispatcher);
    if (d.pid_fd >= 0) {
        unlink(pid_file);
        close(d.pid_fd);
    }
    g_clear_pointer(&d.loop, g_main_loop_unref);
    daemon_config_clear(&d.cfg);
    daemon_paths_clear(&d.paths);
    g_free(d.opts.root);
    g_free(d.opts.config);
    g_free(d.opts.pid_file);
    return status;
}
