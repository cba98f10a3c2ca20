/* The daemon's configuration file: libvirt-style "key = value" lines, '#' comments. */
#pragma once

#include <glib.h>

typedef struct {
    int max_workers;
    int prio_workers;
    int max_clients;
    int max_client_requests;
    int keepalive_interval;
    int keepalive_count;
    int unix_sock_rw_perms;
    int unix_sock_ro_perms;
    char *emulator; /* default QEMU binary */
} DaemonConfig;

/* Defaults as libvirt's daemon has them. */
void daemon_config_init(DaemonConfig *cfg);
void daemon_config_clear(DaemonConfig *cfg);

/* Parse @text (the contents of @source, for messages) over @cfg. Unknown keys are an
 * error, so a typo never goes unnoticed. VIR_ERR_CONF_SYNTAX naming source:line. */
gboolean daemon_config_parse(DaemonConfig *cfg, const char *text, const char *source,
                             GError **error);

/* Load @path over @cfg; a missing file is not an error when @optional. */
gboolean daemon_config_load(DaemonConfig *cfg, const char *path, gboolean optional,
                            GError **error);
