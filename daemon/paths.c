/* Path derivation; see paths.h. */
#include "paths.h"

#include <string.h>

void
daemon_paths_init(DaemonPaths *p, const char *root, gboolean privileged)
{
    memset(p, 0, sizeof(*p));
    p->privileged = privileged;

    g_autofree char *run = NULL, *etc = NULL, *log = NULL, *cache = NULL, *qemu_run = NULL;
    if (privileged || root) {
        /* System layout, optionally under a private root (tests, demos). */
        const char *r = root ? root : "";
        run = g_strdup_printf("%s/run/libvirt", r);
        etc = g_strdup_printf("%s/etc/libvirt", r);
        log = g_strdup_printf("%s/var/log/libvirt", r);
        cache = g_strdup_printf("%s/var/cache/libvirt/qemu", r);
        qemu_run = g_strdup_printf("%s/qemu", run);
        p->pid_file = g_strdup_printf("%s/run/virtd.pid", r);
    } else {
        run = g_build_filename(g_get_user_runtime_dir(), "libvirt", NULL);
        etc = g_build_filename(g_get_user_config_dir(), "libvirt", NULL);
        log = g_build_filename(g_get_user_cache_dir(), "libvirt", NULL);
        cache = g_build_filename(g_get_user_cache_dir(), "libvirt", "qemu", NULL);
        qemu_run = g_build_filename(run, "qemu", "run", NULL);
        p->pid_file = g_build_filename(run, "virtd.pid", NULL);
    }
    p->run_dir = g_strdup(run);
    p->sock_rw = g_build_filename(run, "libvirt-sock", NULL);
    p->sock_qemud_rw = g_build_filename(run, "virtqemud-sock", NULL);
    if (privileged) {
        p->sock_ro = g_build_filename(run, "libvirt-sock-ro", NULL);
        p->sock_qemud_ro = g_build_filename(run, "virtqemud-sock-ro", NULL);
    }
    p->config_file = g_build_filename(etc, "virtd.conf", NULL);
    p->qemu_config_dir = g_build_filename(etc, "qemu", NULL);
    p->qemu_state_dir = g_strdup(qemu_run);
    p->qemu_log_dir = privileged || root ? g_build_filename(log, "qemu", NULL)
                                         : g_build_filename(log, "qemu", "log", NULL);
    p->qemu_cache_dir = g_strdup(cache);
    p->daemon_log = g_build_filename(log, "virtd.log", NULL);
}

void
daemon_paths_clear(DaemonPaths *p)
{
    g_free(p->run_dir);
    g_free(p->sock_rw);
    g_free(p->sock_ro);
    g_free(p->sock_qemud_rw);
    g_free(p->sock_qemud_ro);
    g_free(p->config_file);
    g_free(p->qemu_config_dir);
    g_free(p->qemu_state_dir);
    g_free(p->qemu_log_dir);
    g_free(p->qemu_cache_dir);
    g_free(p->daemon_log);
    g_free(p->pid_file);
    memset(p, 0, sizeof(*p));
}
