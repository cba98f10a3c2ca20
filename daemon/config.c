/* Configuration file parsing; see config.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virt-error.h"

void
daemon_config_init(DaemonConfig *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_workers = 20;
    cfg->prio_workers = 5;
    cfg->max_clients = 5000;
    cfg->max_client_requests = 5;
    cfg->keepalive_interval = 5;
    cfg->keepalive_count = 5;
    cfg->unix_sock_rw_perms = 0700;
    cfg->unix_sock_ro_perms = 0777;
    cfg->emulator = g_strdup("/usr/bin/qemu-system-x86_64");
}

void
daemon_config_clear(DaemonConfig *cfg)
{
    g_clear_pointer(&cfg->emulator, g_free);
}

typedef enum { KEY_INT, KEY_PERMS, KEY_STRING } KeyKind;

typedef struct {
    const char *name;
    KeyKind kind;
    gsize offset;
    int min, max;
} ConfigKey;

#define INT_KEY(n, lo, hi) {#n, KEY_INT, G_STRUCT_OFFSET(DaemonConfig, n), lo, hi}
static const ConfigKey keys[] = {
    INT_KEY(max_workers, 1, 1000),
    INT_KEY(prio_workers, 1, 1000),
    INT_KEY(max_clients, 1, 1000000),
    INT_KEY(max_client_requests, 1, 10000),
    INT_KEY(keepalive_interval, -1, 86400),
    INT_KEY(keepalive_count, 0, 1000),
    {"unix_sock_rw_perms", KEY_PERMS, G_STRUCT_OFFSET(DaemonConfig, unix_sock_rw_perms), 0, 0777},
    {"unix_sock_ro_perms", KEY_PERMS, G_STRUCT_OFFSET(DaemonConfig, unix_sock_ro_perms), 0, 0777},
    {"emulator", KEY_STRING, G_STRUCT_OFFSET(DaemonConfig, emulator), 0, 0},
};

static gboolean
set_key(DaemonConfig *cfg, const ConfigKey *key, const char *value, const char *where,
        GError **error)
{
    gpointer field = G_STRUCT_MEMBER_P(cfg, key->offset);
    gboolean quoted = value[0] == '"';
    if (key->kind == KEY_STRING || key->kind == KEY_PERMS) {
        gsize len = strlen(value);
        if (!quoted || len < 2 || value[len - 1] != '"') {
            virt_error_set(error, VIR_FROM_CONF, VIR_ERR_CONF_SYNTAX,
                           _("%s: '%s' needs a quoted string value"), where, key->name);
            return FALSE;
        }
        g_autofree char *s = g_strndup(value + 1, len - 2);
        if (key->kind == KEY_STRING) {
            g_free(*(char **)field);
            *(char **)field = g_steal_pointer(&s);
            return TRUE;
        }
        char *end;
        long v = strtol(s, &end, 8);
        if (!*s || *end || v < key->min || v > key->max) {
            virt_error_set(error, VIR_FROM_CONF, VIR_ERR_CONF_SYNTAX,
                           _("%s: '%s' must be octal permissions like \"0770\", not '%s'"),
                           where, key->name, s);
            return FALSE;
        }
        *(int *)field = (int)v;
        return TRUE;
    }
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (quoted || !*value || *end || errno || v < key->min || v > key->max) {
        virt_error_set(error, VIR_FROM_CONF, VIR_ERR_CONF_SYNTAX,
                       _("%s: '%s' must be a number from %d to %d, not '%s'"), where,
                       key->name, key->min, key->max, value);
        return FALSE;
    }
    *(int *)field = (int)v;
    return TRUE;
}

gboolean
daemon_config_parse(DaemonConfig *cfg, const char *text, const char *source, GError **error)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_autofree char *where = g_strdup_printf("%s:%u", source, i + 1);
        char *line = g_strstrip(lines[i]);
        if (*line == '\0' || *line == '#')
            continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            virt_error_set(error, VIR_FROM_CONF, VIR_ERR_CONF_SYNTAX,
                           _("%s: expected 'key = value'"), where);
            return FALSE;
        }
        *eq = '\0';
        const char *name = g_strstrip(line);
        const char *value = g_strstrip(eq + 1);
        const ConfigKey *key = NULL;
        for (gsize k = 0; k < G_N_ELEMENTS(keys); k++)
            if (strcmp(keys[k].name, name) == 0)
                key = &keys[k];
        if (!key) {
            virt_error_set(error, VIR_FROM_CONF, VIR_ERR_CONF_SYNTAX,
                           _("%s: unknown setting '%s'"), where, name);
            return FALSE;
        }
        if (!set_key(cfg, key, value, where, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
daemon_config_load(DaemonConfig *cfg, const char *path, gboolean optional, GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) local = NULL;
    if (!g_file_get_contents(path, &text, NULL, &local)) {
        if (optional && g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return TRUE;
        virt_error_set(error, VIR_FROM_CONF, VIR_ERR_CONF_SYNTAX, _("cannot read '%s': %s"),
                       path, local->message);
        return FALSE;
    }
    return daemon_config_parse(cfg, text, path, error);
}
