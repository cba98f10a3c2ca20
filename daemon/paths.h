/* Every path the daemon uses, derived from one root (libvirt's layout). */
#pragma once

#include <glib.h>

typedef struct {
    gboolean privileged; /* system mode (root) or session mode (a user) */
    char *run_dir;       /* sockets */
    char *sock_rw;       /* libvirt-sock */
    char *sock_ro;       /* libvirt-sock-ro (NULL in session mode) */
    char *sock_qemud_rw; /* virtqemud-sock */
    char *sock_qemud_ro; /* virtqemud-sock-ro (NULL in session mode) */
    char *config_file;   /* virtd.conf */
    char *qemu_config_dir;
    char *qemu_state_dir;
    char *qemu_log_dir;
    char *qemu_cache_dir;
    char *daemon_log;    /* where --daemon sends its own output */
    char *pid_file;
} DaemonPaths;

/* Fill @ret_paths for a daemon under @root (NULL: the host's real paths), privileged when
 * running as root. Session mode without @root follows the XDG directories. */
void daemon_paths_init(DaemonPaths *ret_paths, const char *root, gboolean privileged);
void daemon_paths_clear(DaemonPaths *paths);
