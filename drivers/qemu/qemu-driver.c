/* The QEMU driver: the table of domains, their persistent definitions and the host
 * queries. QEMU processes come in the next step; the domain object already carries the
 * running state (id, pid, live definition) they will need.
 *
 * Locking, outermost first:
 *   define_lock  serialises what changes the set of names and uuids (define, undefine,
 *                rename, reload), including the write of that one domain's file;
 *   dom->lock    one domain's fields, held across that domain's own file writes only;
 *   table_lock   the two hash tables, held only to look up, insert or remove.
 * Nothing takes a domain lock while holding table_lock, and events go to the sink after
 * every lock is released.
 */
#include "drivers/qemu/qemu-driver.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "daemon/util/file.h"
#include "daemon/util/virt-error.h"
#include "drivers/qemu/qemu-capabilities.h"
#include "xml/domain-conf.h"
#include "drivers/qemu/qemu-driver-priv.h"
#include "drivers/qemu/qemu-hotplug.h"
#include "drivers/qemu/qemu-iotune.h"
#include "drivers/qemu/qemu-pin.h"
#include "drivers/qemu/qemu-tune.h"

#define QEMU_DEFAULT_EMULATOR "/usr/bin/qemu-system-x86_64"
#define QEMU_CONFIG_FILE_MODE 0600
#define QEMU_DIR_MODE 0755

/* The comment at the top of every persistent definition. */
#define QEMU_CONFIG_HEADER \
    "<!-- Managed by virtd: edits made here may be lost, use 'virsh edit' instead -->\n"

/* ---------------------------------------------------------------------------------- */
/* Domain objects                                                                      */

QemuDomain *
qemu_domain_new(DomainDef *def)
{
    QemuDomain *dom = g_new0(QemuDomain, 1);
    dom->refcount = 1;
    g_mutex_init(&dom->lock);
    g_cond_init(&dom->job_cond);
    memcpy(dom->uuid, domain_def_get_uuid(def), VIRT_UUID_LEN);
    uuid_unparse_lower(dom->uuid, dom->uuid_str);
    dom->def = def;
    dom->state = VIR_DOMAIN_SHUTOFF;
    dom->reason = VIR_DOMAIN_SHUTOFF_UNKNOWN;
    dom->id = -1;
    dom->persistent = TRUE;
    return dom;
}

QemuDomain *
qemu_domain_ref(QemuDomain *dom)
{
    g_atomic_int_inc(&dom->refcount);
    return dom;
}

void
qemu_domain_unref(QemuDomain *dom)
{
    if (!dom || !g_atomic_int_dec_and_test(&dom->refcount))
        return;
    domain_def_free(dom->def);
    domain_def_free(dom->new_def);
    g_mutex_clear(&dom->lock);
    g_cond_clear(&dom->job_cond);
    g_free(dom->run_dir);
    g_free(dom);
}

/* Unlock and unreference a domain from qemu_driver_acquire(). */
void
qemu_domain_release(QemuDomainLocked *dom)
{
    if (!dom)
        return;
    g_mutex_unlock(&dom->lock);
    qemu_domain_unref(dom);
}

gboolean
qemu_domain_is_active(const QemuDomain *dom)
{
    return dom->id != -1;
}

const char *
qemu_domain_name(const QemuDomain *dom)
{
    return domain_def_get_name(dom->def);
}

/* The definition the next start will use. */
DomainDef *
qemu_domain_persistent_def(QemuDomain *dom)
{
    return dom->new_def ? dom->new_def : dom->def;
}

void
qemu_domain_fill_ref(const QemuDomain *dom, DomainRef *ref)
{
    ref->name = g_strdup(qemu_domain_name(dom));
    memcpy(ref->uuid, dom->uuid, VIRT_UUID_LEN);
    ref->id = dom->id;
}

/* ---------------------------------------------------------------------------------- */
/* The driver                                                                          */

QemuDriver *
qemu_driver_cast(VirtDriver *drv)
{
    return (QemuDriver *)drv;
}

void
qemu_driver_config_clear(QemuDriverConfig *cfg)
{
    if (!cfg)
        return;
    g_clear_pointer(&cfg->config_dir, g_free);
    g_clear_pointer(&cfg->state_dir, g_free);
    g_clear_pointer(&cfg->log_dir, g_free);
    g_clear_pointer(&cfg->cache_dir, g_free);
    g_clear_pointer(&cfg->emulator, g_free);
    g_clear_pointer(&cfg->host.proc_root, g_free);
    g_clear_pointer(&cfg->host.sys_root, g_free);
    g_clear_pointer(&cfg->cgroup_root, g_free);
    g_clear_pointer(&cfg->cgroup_mountinfo, g_free);
}

static void
qemu_driver_config_copy(QemuDriverConfig *dst, const QemuDriverConfig *src)
{
    dst->config_dir = g_canonicalize_filename(src->config_dir, NULL);
    dst->state_dir = g_strdup(src->state_dir);
    dst->log_dir = g_strdup(src->log_dir);
    dst->cache_dir = g_strdup(src->cache_dir);
    dst->emulator = g_strdup(src->emulator ? src->emulator : QEMU_DEFAULT_EMULATOR);
    dst->host.proc_root = g_strdup(src->host.proc_root ? src->host.proc_root : "/");
    dst->host.sys_root = g_strdup(src->host.sys_root ? src->host.sys_root : "/");
    dst->cgroup_root = g_strdup(src->cgroup_root);
    dst->cgroup_mountinfo = g_strdup(src->cgroup_mountinfo);
    dst->privileged = src->privileged;
}

static char *
qemu_driver_config_path(QemuDriver *drv, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(drv->cfg.config_dir, file, NULL);
}

static char *
qemu_driver_autostart_path(QemuDriver *drv, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(drv->autostart_dir, file, NULL);
}

gboolean
qemu_driver_check_flags(unsigned int flags, unsigned int allowed, GError **error)
{
    if (flags & ~allowed) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG, _("unsupported flags (0x%x)"),
                       flags & ~allowed);
        return FALSE;
    }
    return TRUE;
}

/* ---------------------------------------------------------------------------------- */
/* Events                                                                              */

void
qemu_events_add_lifecycle(GPtrArray *events, const QemuDomain *dom, const char *name,
                          int type, int detail)
{
    DomainEvent *ev = g_new0(DomainEvent, 1);
    ev->event_id = VIR_DOMAIN_EVENT_ID_LIFECYCLE;
    qemu_domain_fill_ref(dom, &ev->dom);
    if (name) {
        g_free(ev->dom.name);
        ev->dom.name = g_strdup(name);
    }
    ev->lifecycle_event = type;
    ev->lifecycle_detail = detail;
    g_ptr_array_add(events, ev);
}

static void
qemu_events_add_metadata(GPtrArray *events, const QemuDomain *dom, int type, const char *uri)
{
    DomainEvent *ev = g_new0(DomainEvent, 1);
    ev->event_id = VIR_DOMAIN_EVENT_ID_METADATA_CHANGE;
    qemu_domain_fill_ref(dom, &ev->dom);
    ev->metadata_type = type;
    ev->metadata_nsuri = type == VIR_DOMAIN_METADATA_ELEMENT ? g_strdup(uri) : NULL;
    g_ptr_array_add(events, ev);
}

void
qemu_events_add_tunable(GPtrArray *events, const QemuDomain *dom, GArray *params)
{
    DomainEvent *ev = g_new0(DomainEvent, 1);
    ev->event_id = VIR_DOMAIN_EVENT_ID_TUNABLE;
    qemu_domain_fill_ref(dom, &ev->dom);
    ev->tunable_params = params;
    g_ptr_array_add(events, ev);
}

GPtrArray *
qemu_events_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)domain_event_free);
}

/* Hand @events to the sink. Call with no lock held. */
void
qemu_driver_emit(QemuDriver *drv, GPtrArray *events)
{
    g_mutex_lock(&drv->sink_lock);
    DomainEventSink sink = drv->sink;
    gpointer data = drv->sink_data;
    g_mutex_unlock(&drv->sink_lock);

    if (!sink)
        return;
    for (guint i = 0; i < events->len; i++)
        sink(g_ptr_array_index(events, i), data);
}

static void
qemu_driver_set_event_sink(VirtDriver *vdrv, DomainEventSink sink, gpointer user_data)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    g_mutex_lock(&drv->sink_lock);
    drv->sink = sink;
    drv->sink_data = user_data;
    g_mutex_unlock(&drv->sink_lock);
}

/* ---------------------------------------------------------------------------------- */
/* The table                                                                           */

/* Insert @dom; the caller holds define_lock and has checked name and uuid are free. */
void
qemu_driver_table_insert(QemuDriver *drv, QemuDomain *dom)
{
    g_rw_lock_writer_lock(&drv->table_lock);
    g_hash_table_insert(drv->by_uuid, g_strdup(dom->uuid_str), qemu_domain_ref(dom));
    g_hash_table_insert(drv->by_name, g_strdup(qemu_domain_name(dom)), dom);
    g_rw_lock_writer_unlock(&drv->table_lock);
}

/* Remove @dom (locked by the caller, its name is the current key) from the table. */
void
qemu_driver_table_remove(QemuDriver *drv, QemuDomain *dom)
{
    dom->removed = TRUE;
    g_rw_lock_writer_lock(&drv->table_lock);
    g_hash_table_remove(drv->by_name, qemu_domain_name(dom));
    g_hash_table_remove(drv->by_uuid, dom->uuid_str);
    g_rw_lock_writer_unlock(&drv->table_lock);
}

static void
qemu_driver_table_rename(QemuDriver *drv, QemuDomain *dom, const char *old_name)
{
    g_rw_lock_writer_lock(&drv->table_lock);
    g_hash_table_remove(drv->by_name, old_name);
    g_hash_table_insert(drv->by_name, g_strdup(qemu_domain_name(dom)), dom);
    g_rw_lock_writer_unlock(&drv->table_lock);
}

/* A new reference to the domain named @name, or NULL. */
QemuDomain *
qemu_driver_find_name(QemuDriver *drv, const char *name)
{
    g_rw_lock_reader_lock(&drv->table_lock);
    QemuDomain *dom = g_hash_table_lookup(drv->by_name, name);
    if (dom)
        qemu_domain_ref(dom);
    g_rw_lock_reader_unlock(&drv->table_lock);
    return dom;
}

/* A new reference to the domain with @uuid_str, or NULL. */
QemuDomain *
qemu_driver_find_uuid(QemuDriver *drv, const char *uuid_str)
{
    g_rw_lock_reader_lock(&drv->table_lock);
    QemuDomain *dom = g_hash_table_lookup(drv->by_uuid, uuid_str);
    if (dom)
        qemu_domain_ref(dom);
    g_rw_lock_reader_unlock(&drv->table_lock);
    return dom;
}

/* References to every domain, for walks that lock them one by one. */
GPtrArray *
qemu_driver_snapshot(QemuDriver *drv)
{
    GPtrArray *all = g_ptr_array_new_with_free_func((GDestroyNotify)qemu_domain_unref);
    g_rw_lock_reader_lock(&drv->table_lock);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, drv->by_uuid);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(all, qemu_domain_ref(value));
    g_rw_lock_reader_unlock(&drv->table_lock);
    return all;
}

/* Lock @dom; in non-blocking mode (driver.h) only if it is free at once. */
static gboolean
qemu_domain_lock_now(QemuDomain *dom, GError **error)
{
    if (!driver_is_nonblocking()) {
        g_mutex_lock(&dom->lock);
        return TRUE;
    }
    if (g_mutex_trylock(&dom->lock))
        return TRUE;
    driver_note_would_block();
    virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_TIMEOUT, "domain is busy");
    return FALSE;
}

/* Find the domain with @uuid, lock it and return it (release with qemu_domain_release).
 * VIR_ERR_NO_DOMAIN when there is none. */
QemuDomainLocked *
qemu_driver_acquire(QemuDriver *drv, const unsigned char *uuid, GError **error)
{
    char uuid_str[QEMU_UUID_STRLEN];
    uuid_unparse_lower(uuid, uuid_str);

    QemuDomain *dom = qemu_driver_find_uuid(drv, uuid_str);
    if (dom) {
        if (!qemu_domain_lock_now(dom, error)) {
            qemu_domain_unref(dom);
            return NULL;
        }
        if (!dom->removed)
            return dom;
        qemu_domain_release(dom);
    }
    virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_NO_DOMAIN,
                   _("no domain with matching uuid '%s'"), uuid_str);
    return NULL;
}

/* ---------------------------------------------------------------------------------- */
/* Files                                                                               */

/* Write @def as <config_dir>/NAME.xml, atomically. */
static gboolean
qemu_driver_save_def(QemuDriver *drv, const DomainDef *def, GError **error)
{
    g_autofree char *xml =
        domain_def_format(def, -1, DOMAIN_FORMAT_INACTIVE | DOMAIN_FORMAT_SECURE);
    g_autofree char *data = g_strconcat(QEMU_CONFIG_HEADER, xml, NULL);
    g_autofree char *path = qemu_driver_config_path(drv, domain_def_get_name(def));
    return file_write_atomic(path, data, strlen(data), QEMU_CONFIG_FILE_MODE, error);
}

/* Create or remove the autostart link of the domain named @name. */
static gboolean
qemu_driver_set_autostart_link(QemuDriver *drv, const char *name, gboolean on, GError **error)
{
    g_autofree char *link = qemu_driver_autostart_path(drv, name);
    if (!on)
        return file_remove_durable(link, error);

    if (!file_make_dirs(drv->autostart_dir, QEMU_DIR_MODE, error))
        return FALSE;
    g_autofree char *target = qemu_driver_config_path(drv, name);
    g_autofree char *tmp = g_strconcat(link, ".new", NULL);
    unlink(tmp);
    if (symlink(target, tmp) < 0 || rename(tmp, link) < 0) {
        int saved = errno;
        unlink(tmp);
        virt_error_set_errno(error, VIR_FROM_QEMU, saved,
                             _("cannot create autostart link '%s'"), link);
        return FALSE;
    }
    return file_sync_dir(drv->autostart_dir, error);
}

/* Whether the autostart link of @name exists and points at its config file. */
static gboolean
qemu_driver_autostart_link_exists(QemuDriver *drv, const char *name)
{
    g_autofree char *link = qemu_driver_autostart_path(drv, name);
    g_autofree char *config = qemu_driver_config_path(drv, name);
    struct stat link_st, config_st;
    if (stat(link, &link_st) < 0 || stat(config, &config_st) < 0)
        return FALSE;
    return link_st.st_dev == config_st.st_dev && link_st.st_ino == config_st.st_ino;
}

/* Read and parse <config_dir>/@file; NULL (with a warning in the log) when unusable. */
static DomainDef *
qemu_driver_load_def(QemuDriver *drv, const char *file)
{
    g_autofree char *path = g_build_filename(drv->cfg.config_dir, file, NULL);
    g_autofree char *xml = NULL;
    g_autoptr(GError) err = NULL;

    if (!g_file_get_contents(path, &xml, NULL, &err)) {
        g_warning("skipping domain definition '%s': %s", path, err->message);
        return NULL;
    }
    g_autoptr(DomainDef) def = domain_def_parse(xml, 0, &err);
    if (!def) {
        g_warning("skipping domain definition '%s': %s", path, err->message);
        return NULL;
    }
    g_autofree char *expected = g_strndup(file, strlen(file) - strlen(".xml"));
    if (strcmp(domain_def_get_name(def), expected) != 0) {
        g_warning("skipping domain definition '%s': it defines domain '%s', not '%s'", path,
                  domain_def_get_name(def), expected);
        return NULL;
    }
    return g_steal_pointer(&def);
}

static gint
qemu_compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The *.xml files of config_dir, sorted; empty when the directory cannot be read. */
static GPtrArray *
qemu_driver_list_config_files(QemuDriver *drv)
{
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    g_autoptr(GDir) dir = g_dir_open(drv->cfg.config_dir, 0, &err);
    if (!dir) {
        g_warning("cannot read domain definitions: %s", err->message);
        return files;
    }
    const char *entry;
    while ((entry = g_dir_read_name(dir))) {
        if (entry[0] == '.' || !g_str_has_suffix(entry, ".xml") ||
            strlen(entry) == strlen(".xml"))
            continue;
        g_autofree char *path = g_build_filename(drv->cfg.config_dir, entry, NULL);
        if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
            continue;
        g_ptr_array_add(files, g_strdup(entry));
    }
    g_ptr_array_sort(files, qemu_compare_strings);
    return files;
}

/* Bring the table in line with config_dir: add new definitions, update those of
 * domains we know, drop (or make transient, when running) those whose file is gone.
 * Lifecycle events go to @events when not NULL. The caller holds define_lock. */
static void
qemu_driver_load_all(QemuDriver *drv, GPtrArray *events)
{
    g_autoptr(GPtrArray) files = qemu_driver_list_config_files(drv);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (guint i = 0; i < files->len; i++) {
        const char *file = g_ptr_array_index(files, i);
        g_autoptr(DomainDef) def = qemu_driver_load_def(drv, file);
        if (!def)
            continue;
        const char *name = domain_def_get_name(def);
        char uuid_str[QEMU_UUID_STRLEN];
        uuid_unparse_lower(domain_def_get_uuid(def), uuid_str);
        gboolean autostart = qemu_driver_autostart_link_exists(drv, name);

        g_autoptr(QemuDomain) by_uuid = qemu_driver_find_uuid(drv, uuid_str);
        g_autoptr(QemuDomain) by_name = qemu_driver_find_name(drv, name);
        if (by_uuid != by_name || g_hash_table_contains(seen, uuid_str)) {
            g_warning("skipping domain definition '%s/%s': its name or uuid '%s' is "
                      "already used by another definition",
                      drv->cfg.config_dir, file, uuid_str);
            continue;
        }
        g_hash_table_add(seen, g_strdup(uuid_str));

        if (by_uuid) {
            g_mutex_lock(&by_uuid->lock);
            gboolean was_persistent = by_uuid->persistent;
            if (qemu_domain_is_active(by_uuid)) {
                domain_def_free(by_uuid->new_def);
                by_uuid->new_def = g_steal_pointer(&def);
                by_uuid->updated = TRUE;
                qemu_run_save_status(drv, by_uuid);
            } else {
                domain_def_free(by_uuid->def);
                by_uuid->def = g_steal_pointer(&def);
            }
            by_uuid->persistent = TRUE;
            by_uuid->autostart = autostart;
            if (events && !was_persistent)
                qemu_events_add_lifecycle(events, by_uuid, NULL, VIR_DOMAIN_EVENT_DEFINED,
                                          VIR_DOMAIN_EVENT_DEFINED_ADDED);
            g_mutex_unlock(&by_uuid->lock);
            continue;
        }

        g_autoptr(QemuDomain) dom = qemu_domain_new(g_steal_pointer(&def));
        dom->autostart = autostart;
        qemu_driver_table_insert(drv, dom);
        if (events)
            qemu_events_add_lifecycle(events, dom, NULL, VIR_DOMAIN_EVENT_DEFINED,
                                      VIR_DOMAIN_EVENT_DEFINED_ADDED);
    }

    /* Definitions whose file disappeared. */
    g_autoptr(GPtrArray) all = qemu_driver_snapshot(drv);
    for (guint i = 0; i < all->len; i++) {
        QemuDomain *dom = g_ptr_array_index(all, i);
        g_mutex_lock(&dom->lock);
        if (dom->persistent && !g_hash_table_contains(seen, dom->uuid_str)) {
            if (events)
                qemu_events_add_lifecycle(events, dom, NULL, VIR_DOMAIN_EVENT_UNDEFINED,
                                          VIR_DOMAIN_EVENT_UNDEFINED_REMOVED);
            dom->autostart = FALSE;
            if (qemu_domain_is_active(dom)) {
                dom->persistent = FALSE;
                g_clear_pointer(&dom->new_def, domain_def_free);
            } else {
                qemu_driver_table_remove(drv, dom);
            }
        }
        g_mutex_unlock(&dom->lock);
    }
}

/* ---------------------------------------------------------------------------------- */
/* Connection and host                                                                 */

/* The probed capabilities of the default emulator, probing on first need. A failed
 * probe is not remembered, so installing QEMU later fixes it without a restart. */
QemuCaps *
qemu_driver_get_caps(QemuDriver *drv, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->caps_lock);
    if (!drv->caps)
        drv->caps = qemu_caps_new_for_binary(drv->cfg.emulator, drv->cfg.cache_dir, error);
    return drv->caps ? qemu_caps_ref(drv->caps) : NULL;
}

static gboolean
qemu_driver_get_version(VirtDriver *vdrv, guint64 *ret_version, GError **error)
{
    g_autoptr(QemuCaps) caps = qemu_driver_get_caps(qemu_driver_cast(vdrv), error);
    if (!caps)
        return FALSE;
    *ret_version = qemu_caps_get_version(caps);
    return TRUE;
}

static char *
qemu_driver_get_hostname(VirtDriver *vdrv, GError **error)
{
    return g_strdup(g_get_host_name());
}

static char *
qemu_driver_get_sysinfo(VirtDriver *vdrv, unsigned int flags, GError **error)
{
    if (!qemu_driver_check_flags(flags, 0, error))
        return NULL;
    return nodeinfo_sysinfo_xml(&qemu_driver_cast(vdrv)->cfg.host, error);
}

static int
qemu_driver_get_max_vcpus(VirtDriver *vdrv, const char *type, GError **error)
{
    if (type && g_ascii_strcasecmp(type, "qemu") != 0 && g_ascii_strcasecmp(type, "kvm") != 0) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("unknown virtualization type '%s'"), type);
        return -1;
    }
    g_autoptr(QemuCaps) caps = qemu_driver_get_caps(qemu_driver_cast(vdrv), error);
    if (!caps)
        return -1;
    return qemu_caps_max_cpus(caps, NULL);
}

static char *
qemu_driver_get_capabilities(VirtDriver *vdrv, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    g_autoptr(QemuCaps) caps = qemu_driver_get_caps(drv, error);
    if (!caps)
        return NULL;
    g_mutex_lock(&drv->caps_lock);
    if (!drv->host_uuid)
        drv->host_uuid = nodeinfo_host_uuid();
    g_mutex_unlock(&drv->caps_lock);
    return qemu_caps_format_capabilities(caps, &drv->cfg.host, drv->host_uuid);
}

static char *
qemu_driver_get_domain_capabilities(VirtDriver *vdrv, const char *emulator, const char *arch,
                                    const char *machine, const char *virttype,
                                    unsigned int flags, GError **error)
{
    if (!qemu_driver_check_flags(flags, 0, error))
        return NULL;
    g_autoptr(QemuCaps) caps = qemu_driver_get_caps(qemu_driver_cast(vdrv), error);
    if (!caps)
        return NULL;
    return qemu_caps_format_domain_capabilities(caps, emulator, arch, machine, virttype,
                                                error);
}

static gboolean
qemu_driver_node_get_info(VirtDriver *vdrv, NodeInfoData *ret_info, GError **error)
{
    return nodeinfo_get(&qemu_driver_cast(vdrv)->cfg.host, ret_info, error);
}

static int
qemu_driver_node_get_cpu_map(VirtDriver *vdrv, guint8 **ret_map, unsigned int *ret_online,
                             GError **error)
{
    return nodeinfo_cpu_map(&qemu_driver_cast(vdrv)->cfg.host, ret_map, ret_online, error);
}

static int
qemu_driver_node_get_memory_stats(VirtDriver *vdrv, int cell, NodeStat *ret_stats, int max,
                                  GError **error)
{
    return nodeinfo_memory_stats(&qemu_driver_cast(vdrv)->cfg.host, cell, ret_stats, max,
                                 error);
}

static int
qemu_driver_node_get_cpu_stats(VirtDriver *vdrv, int cpu, NodeStat *ret_stats, int max,
                               GError **error)
{
    return nodeinfo_cpu_stats(&qemu_driver_cast(vdrv)->cfg.host, cpu, ret_stats, max, error);
}

static gboolean
qemu_driver_node_get_free_memory(VirtDriver *vdrv, guint64 *ret_bytes, GError **error)
{
    return nodeinfo_free_memory(&qemu_driver_cast(vdrv)->cfg.host, ret_bytes, error);
}

static int
qemu_driver_node_get_cells_free_memory(VirtDriver *vdrv, int start, int max,
                                       guint64 *ret_bytes, GError **error)
{
    return nodeinfo_cells_free_memory(&qemu_driver_cast(vdrv)->cfg.host, start, max,
                                      ret_bytes, error);
}

/* ---------------------------------------------------------------------------------- */
/* Define, undefine, rename                                                            */

static gboolean
qemu_driver_define_locked(QemuDriver *drv, DomainDef *def_in, DomainRef *ret_dom,
                          GPtrArray *events, GError **error)
{
    g_autoptr(DomainDef) def = def_in;
    const char *name = domain_def_get_name(def);
    char uuid_str[QEMU_UUID_STRLEN];
    uuid_unparse_lower(domain_def_get_uuid(def), uuid_str);

    g_autoptr(QemuDomain) by_name = qemu_driver_find_name(drv, name);
    if (by_name && memcmp(by_name->uuid, domain_def_get_uuid(def), VIRT_UUID_LEN) != 0) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("domain '%s' already exists with uuid '%s'"), name,
                       by_name->uuid_str);
        return FALSE;
    }
    g_autoptr(QemuDomain) existing = qemu_driver_find_uuid(drv, uuid_str);

    if (!existing) {
        /* File first: a failed write leaves nothing behind. */
        if (!qemu_driver_save_def(drv, def, error))
            return FALSE;
        g_autoptr(QemuDomain) dom = qemu_domain_new(g_steal_pointer(&def));
        qemu_driver_table_insert(drv, dom);
        qemu_domain_fill_ref(dom, ret_dom);
        qemu_events_add_lifecycle(events, dom, NULL, VIR_DOMAIN_EVENT_DEFINED,
                                  VIR_DOMAIN_EVENT_DEFINED_ADDED);
        return TRUE;
    }

    g_mutex_lock(&existing->lock);
    g_autoptr(QemuDomainLocked) dom = g_steal_pointer(&existing);
    if (strcmp(qemu_domain_name(dom), name) != 0) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("uuid '%s' is already used by domain '%s'"), uuid_str,
                       qemu_domain_name(dom));
        return FALSE;
    }
    if (!qemu_driver_save_def(drv, def, error))
        return FALSE;

    gboolean was_persistent = dom->persistent;
    if (qemu_domain_is_active(dom)) {
        domain_def_free(dom->new_def);
        dom->new_def = g_steal_pointer(&def);
        dom->updated = TRUE; /* takes effect at the next start */
        qemu_run_save_status(drv, dom);
    } else {
        domain_def_free(dom->def);
        dom->def = g_steal_pointer(&def);
    }
    dom->persistent = TRUE;
    qemu_domain_fill_ref(dom, ret_dom);
    qemu_events_add_lifecycle(events, dom, NULL, VIR_DOMAIN_EVENT_DEFINED,
                              was_persistent ? VIR_DOMAIN_EVENT_DEFINED_UPDATED
                                             : VIR_DOMAIN_EVENT_DEFINED_ADDED);
    return TRUE;
}

/* Turn the machine alias of @def ("pc", "q35", or none) into the versioned machine type
 * the emulator reports, as libvirt stores it. Needs the QEMU capabilities. */
gboolean
qemu_driver_resolve_machine(QemuDriver *drv, DomainDef *def, GError **error)
{
    g_autoptr(QemuCaps) caps = qemu_driver_get_caps(drv, error);
    if (!caps)
        return FALSE;
    const char *machine = domain_def_get_machine(def);
    const char *resolved = machine ? qemu_caps_resolve_machine(caps, machine)
                                   : qemu_caps_default_machine(caps);
    if (!resolved) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_CONFIG_UNSUPPORTED,
                       _("machine type '%s' is not supported by '%s'"), machine,
                       qemu_caps_get_binary(caps));
        return FALSE;
    }
    domain_def_set_machine(def, resolved);
    return TRUE;
}

/* Refuse at define, as libvirtd does, a <vcpus> layout QEMU cannot start. */
static gboolean
qemu_driver_check_vcpu_layout(const DomainDef *def, GError **error)
{
    unsigned int boot = 0;
    g_autoptr(GArray) plugged = qemu_hotplug_boot_vcpus(def, &boot, error);

    return plugged != NULL;
}

static gboolean
qemu_driver_domain_define_xml(VirtDriver *vdrv, const char *xml, unsigned int flags,
                              DomainRef *ret_dom, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    if (!qemu_driver_check_flags(flags, VIR_DOMAIN_DEFINE_VALIDATE, error))
        return FALSE;

    unsigned int parse_flags = 0;
    if (flags & VIR_DOMAIN_DEFINE_VALIDATE)
        parse_flags |= DOMAIN_PARSE_VALIDATE;
    DomainDef *def = domain_def_parse(xml, parse_flags, error);
    if (!def)
        return FALSE;
    if (!domain_name_check(domain_def_get_name(def), error) ||
        !qemu_driver_resolve_machine(drv, def, error) ||
        !qemu_driver_check_vcpu_layout(def, error)) {
        domain_def_free(def);
        return FALSE;
    }

    g_autoptr(GPtrArray) events = qemu_events_new();
    DomainRef ref = { 0 };
    g_mutex_lock(&drv->define_lock);
    gboolean ok = qemu_driver_define_locked(drv, def, &ref, events, error);
    g_mutex_unlock(&drv->define_lock);
    qemu_driver_emit(drv, events);
    if (ok)
        *ret_dom = ref;
    return ok;
}

static gboolean
qemu_driver_undefine_locked(QemuDriver *drv, const unsigned char *uuid, unsigned int flags,
                            GPtrArray *events, GError **error)
{
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom)
        return FALSE;
    if (!dom->persistent) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("cannot undefine transient domain '%s'"), qemu_domain_name(dom));
        return FALSE;
    }

    /* Link first: a crash in between leaves the definition without autostart, never an
     * autostart link that a later domain of the same name would inherit. */
    const char *name = qemu_domain_name(dom);
    g_autofree char *config = qemu_driver_config_path(drv, name);
    if (!qemu_driver_set_autostart_link(drv, name, FALSE, error) ||
        !file_remove_durable(config, error))
        return FALSE;
    dom->autostart = FALSE;

    qemu_events_add_lifecycle(events, dom, NULL, VIR_DOMAIN_EVENT_UNDEFINED,
                              VIR_DOMAIN_EVENT_UNDEFINED_REMOVED);
    if (qemu_domain_is_active(dom)) {
        dom->persistent = FALSE;
        g_clear_pointer(&dom->new_def, domain_def_free);
    } else {
        qemu_driver_table_remove(drv, dom);
    }
    return TRUE;
}

static gboolean
qemu_driver_domain_undefine(VirtDriver *vdrv, const unsigned char *uuid, unsigned int flags,
                            GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    /* Managed save images, snapshots, checkpoints, NVRAM and TPM state do not exist yet,
     * so their flags are accepted and have nothing to remove. */
    const unsigned int allowed =
        VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
        VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_KEEP_NVRAM |
        VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA | VIR_DOMAIN_UNDEFINE_TPM |
        VIR_DOMAIN_UNDEFINE_KEEP_TPM;
    if (!qemu_driver_check_flags(flags, allowed, error))
        return FALSE;
    if ((flags & VIR_DOMAIN_UNDEFINE_NVRAM) && (flags & VIR_DOMAIN_UNDEFINE_KEEP_NVRAM)) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("cannot both remove and keep the NVRAM file"));
        return FALSE;
    }
    if ((flags & VIR_DOMAIN_UNDEFINE_TPM) && (flags & VIR_DOMAIN_UNDEFINE_KEEP_TPM)) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("cannot both remove and keep the TPM state"));
        return FALSE;
    }

    g_autoptr(GPtrArray) events = qemu_events_new();
    g_mutex_lock(&drv->define_lock);
    gboolean ok = qemu_driver_undefine_locked(drv, uuid, flags, events, error);
    g_mutex_unlock(&drv->define_lock);
    qemu_driver_emit(drv, events);
    return ok;
}

static gboolean
qemu_driver_rename_locked(QemuDriver *drv, const unsigned char *uuid, const char *new_name,
                          GPtrArray *events, GError **error)
{
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom)
        return FALSE;
    g_autofree char *old_name = g_strdup(qemu_domain_name(dom));
    g_autofree char *old_config = qemu_driver_config_path(drv, old_name);
    g_autofree char *new_config = qemu_driver_config_path(drv, new_name);

    if (qemu_domain_is_active(dom)) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("domain '%s' can only be renamed when shut off"), old_name);
        return FALSE;
    }
    if (!dom->persistent) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("cannot rename transient domain '%s'"), old_name);
        return FALSE;
    }
    if (strcmp(old_name, new_name) == 0) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("domain '%s' already has that name"), old_name);
        return FALSE;
    }
    g_autoptr(QemuDomain) other = qemu_driver_find_name(drv, new_name);
    if (other) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("domain '%s' already exists"), new_name);
        return FALSE;
    }

    /* New file (and link) first, then the old ones: a crash in between leaves two files
     * with one uuid, and loading keeps one of them. */
    g_autoptr(DomainDef) def = domain_def_copy(dom->def);
    domain_def_set_name(def, new_name);
    if (!qemu_driver_save_def(drv, def, error))
        return FALSE;
    if (dom->autostart && !qemu_driver_set_autostart_link(drv, new_name, TRUE, error))
        goto rollback;
    if (!qemu_driver_set_autostart_link(drv, old_name, FALSE, error) ||
        !file_remove_durable(old_config, error))
        goto rollback;

    domain_def_free(dom->def);
    dom->def = g_steal_pointer(&def);
    qemu_driver_table_rename(drv, dom, old_name);

    qemu_events_add_lifecycle(events, dom, old_name, VIR_DOMAIN_EVENT_UNDEFINED,
                              VIR_DOMAIN_EVENT_UNDEFINED_RENAMED);
    qemu_events_add_lifecycle(events, dom, NULL, VIR_DOMAIN_EVENT_DEFINED,
                              VIR_DOMAIN_EVENT_DEFINED_RENAMED);
    return TRUE;

rollback:
    qemu_driver_set_autostart_link(drv, new_name, FALSE, NULL);
    file_remove_durable(new_config, NULL);
    if (dom->autostart)
        qemu_driver_set_autostart_link(drv, old_name, TRUE, NULL);
    return FALSE;
}

static gboolean
qemu_driver_domain_rename(VirtDriver *vdrv, const unsigned char *uuid, const char *new_name,
                          unsigned int flags, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    if (!qemu_driver_check_flags(flags, 0, error))
        return FALSE;
    if (!new_name || !domain_name_check(new_name, error)) {
        if (!new_name)
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                           _("the new domain name must not be empty"));
        return FALSE;
    }

    g_autoptr(GPtrArray) events = qemu_events_new();
    g_mutex_lock(&drv->define_lock);
    gboolean ok = qemu_driver_rename_locked(drv, uuid, new_name, events, error);
    g_mutex_unlock(&drv->define_lock);
    qemu_driver_emit(drv, events);
    return ok;
}

/* ---------------------------------------------------------------------------------- */
/* Lookups and lists                                                                   */

static gboolean
qemu_driver_domain_lookup_by_name(VirtDriver *vdrv, const char *name, DomainRef *ret_dom,
                                  GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    g_autoptr(QemuDomain) dom = qemu_driver_find_name(drv, name);
    if (dom) {
        if (!qemu_domain_lock_now(dom, error))
            return FALSE;
        /* A rename or undefine may have run between the lookup and the lock. */
        gboolean found = !dom->removed && strcmp(qemu_domain_name(dom), name) == 0;
        if (found)
            qemu_domain_fill_ref(dom, ret_dom);
        g_mutex_unlock(&dom->lock);
        if (found)
            return TRUE;
    }
    virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_NO_DOMAIN,
                   _("no domain with matching name '%s'"), name);
    return FALSE;
}

static gboolean
qemu_driver_domain_lookup_by_uuid(VirtDriver *vdrv, const unsigned char *uuid,
                                  DomainRef *ret_dom, GError **error)
{
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(qemu_driver_cast(vdrv), uuid, error);
    if (!dom)
        return FALSE;
    qemu_domain_fill_ref(dom, ret_dom);
    return TRUE;
}

static gboolean
qemu_driver_domain_lookup_by_id(VirtDriver *vdrv, int id, DomainRef *ret_dom, GError **error)
{
    g_autoptr(GPtrArray) all = qemu_driver_snapshot(qemu_driver_cast(vdrv));
    for (guint i = 0; i < all->len; i++) {
        QemuDomain *dom = g_ptr_array_index(all, i);
        g_mutex_lock(&dom->lock);
        gboolean found = !dom->removed && id >= 0 && dom->id == id;
        if (found)
            qemu_domain_fill_ref(dom, ret_dom);
        g_mutex_unlock(&dom->lock);
        if (found)
            return TRUE;
    }
    virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_NO_DOMAIN, _("no domain with matching id %d"),
                   id);
    return FALSE;
}

/* Whether @dom passes one pair (or group) of filter flags: when none of @group is in
 * @flags the group does not filter; otherwise @dom must have one of the asked bits. */
static gboolean
qemu_filter_group(unsigned int flags, unsigned int group, unsigned int has)
{
    return !(flags & group) || (flags & has);
}

static gboolean
qemu_domain_matches_filter(const QemuDomain *dom, unsigned int flags)
{
    const gboolean active = qemu_domain_is_active(dom);
    const gboolean managed_save = FALSE;
    const gboolean has_snapshot = FALSE;
    const gboolean has_checkpoint = FALSE;

    unsigned int state_bit;
    switch (dom->state) {
    case VIR_DOMAIN_RUNNING:
        state_bit = VIR_CONNECT_LIST_DOMAINS_RUNNING;
        break;
    case VIR_DOMAIN_PAUSED:
        state_bit = VIR_CONNECT_LIST_DOMAINS_PAUSED;
        break;
    case VIR_DOMAIN_SHUTOFF:
        state_bit = VIR_CONNECT_LIST_DOMAINS_SHUTOFF;
        break;
    default:
        state_bit = VIR_CONNECT_LIST_DOMAINS_OTHER;
        break;
    }

    return qemu_filter_group(flags,
                             VIR_CONNECT_LIST_DOMAINS_ACTIVE | VIR_CONNECT_LIST_DOMAINS_INACTIVE,
                             active ? VIR_CONNECT_LIST_DOMAINS_ACTIVE
                                    : VIR_CONNECT_LIST_DOMAINS_INACTIVE) &&
           qemu_filter_group(flags,
                             VIR_CONNECT_LIST_DOMAINS_PERSISTENT |
                                 VIR_CONNECT_LIST_DOMAINS_TRANSIENT,
                             dom->persistent ? VIR_CONNECT_LIST_DOMAINS_PERSISTENT
                                             : VIR_CONNECT_LIST_DOMAINS_TRANSIENT) &&
           qemu_filter_group(flags,
                             VIR_CONNECT_LIST_DOMAINS_RUNNING | VIR_CONNECT_LIST_DOMAINS_PAUSED |
                                 VIR_CONNECT_LIST_DOMAINS_SHUTOFF |
                                 VIR_CONNECT_LIST_DOMAINS_OTHER,
                             state_bit) &&
           qemu_filter_group(flags,
                             VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE |
                                 VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE,
                             managed_save ? VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE
                                          : VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE) &&
           qemu_filter_group(flags,
                             VIR_CONNECT_LIST_DOMAINS_AUTOSTART |
                                 VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART,
                             dom->autostart ? VIR_CONNECT_LIST_DOMAINS_AUTOSTART
                                            : VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART) &&
           qemu_filter_group(flags,
                             VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT |
                                 VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT,
                             has_snapshot ? VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT
                                          : VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT) &&
           qemu_filter_group(flags,
                             VIR_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT |
                                 VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT,
                             has_checkpoint ? VIR_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT
                                            : VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT);
}

static gint
qemu_domain_ref_compare(gconstpointer a, gconstpointer b)
{
    const DomainRef *ra = *(DomainRef *const *)a;
    const DomainRef *rb = *(DomainRef *const *)b;
    return strcmp(ra->name, rb->name);
}

static GPtrArray *
qemu_driver_list_all_domains(VirtDriver *vdrv, unsigned int flags, GError **error)
{
    const unsigned int allowed =
        VIR_CONNECT_LIST_DOMAINS_ACTIVE | VIR_CONNECT_LIST_DOMAINS_INACTIVE |
        VIR_CONNECT_LIST_DOMAINS_PERSISTENT | VIR_CONNECT_LIST_DOMAINS_TRANSIENT |
        VIR_CONNECT_LIST_DOMAINS_RUNNING | VIR_CONNECT_LIST_DOMAINS_PAUSED |
        VIR_CONNECT_LIST_DOMAINS_SHUTOFF | VIR_CONNECT_LIST_DOMAINS_OTHER |
        VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE | VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE |
        VIR_CONNECT_LIST_DOMAINS_AUTOSTART | VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART |
        VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT | VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT |
        VIR_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT | VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT;
    if (!qemu_driver_check_flags(flags, allowed, error))
        return NULL;

    g_autoptr(GPtrArray) all = qemu_driver_snapshot(qemu_driver_cast(vdrv));
    GPtrArray *result = g_ptr_array_new_with_free_func((GDestroyNotify)domain_ref_free);
    for (guint i = 0; i < all->len; i++) {
        QemuDomain *dom = g_ptr_array_index(all, i);
        g_mutex_lock(&dom->lock);
        if (!dom->removed && qemu_domain_matches_filter(dom, flags)) {
            DomainRef *ref = g_new0(DomainRef, 1);
            qemu_domain_fill_ref(dom, ref);
            g_ptr_array_add(result, ref);
        }
        g_mutex_unlock(&dom->lock);
    }
    g_ptr_array_sort(result, qemu_domain_ref_compare);
    return result;
}

/* ---------------------------------------------------------------------------------- */
/* Queries                                                                             */

static char *
qemu_driver_domain_get_xml_desc(VirtDriver *vdrv, const unsigned char *uuid,
                                unsigned int flags, GError **error)
{
    const unsigned int allowed = VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_INACTIVE |
                                 VIR_DOMAIN_XML_UPDATE_CPU | VIR_DOMAIN_XML_MIGRATABLE;
    if (!qemu_driver_check_flags(flags, allowed, error))
        return NULL;
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(qemu_driver_cast(vdrv), uuid, error);
    if (!dom)
        return NULL;

    /* UPDATE_CPU needs the host CPU model; it arrives with host-model CPUs. */
    unsigned int format_flags = flags & (DOMAIN_FORMAT_SECURE | DOMAIN_FORMAT_INACTIVE |
                                         DOMAIN_FORMAT_MIGRATABLE);
    if (flags & VIR_DOMAIN_XML_INACTIVE)
        return domain_def_format(qemu_domain_persistent_def(dom), -1, format_flags);
    return domain_def_format(dom->def, dom->id, format_flags);
}

static gboolean
qemu_driver_domain_get_info(VirtDriver *vdrv, const unsigned char *uuid,
                            DomainInfoData *ret_info, GError **error)
{
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(qemu_driver_cast(vdrv), uuid, error);
    if (!dom)
        return FALSE;
    DomainInfoData info = {
        .state = dom->state,
        .reason = dom->reason,
        .max_mem_kib = domain_def_get_max_memory_kib(dom->def),
        .memory_kib = domain_def_get_current_memory_kib(dom->def),
        .nr_virt_cpu = domain_def_get_vcpus_current(dom->def),
        .cpu_time_ns = qemu_run_cpu_time(dom),
    };
    *ret_info = info;
    return TRUE;
}

static gboolean
qemu_driver_domain_get_state(VirtDriver *vdrv, const unsigned char *uuid, int *ret_state,
                             int *ret_reason, GError **error)
{
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(qemu_driver_cast(vdrv), uuid, error);
    if (!dom)
        return FALSE;
    *ret_state = dom->state;
    *ret_reason = dom->reason;
    return TRUE;
}

static int
qemu_driver_domain_is_active(VirtDriver *vdrv, const unsigned char *uuid, GError **error)
{
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(qemu_driver_cast(vdrv), uuid, error);
    return dom ? qemu_domain_is_active(dom) : -1;
}

static int
qemu_driver_domain_is_persistent(VirtDriver *vdrv, const unsigned char *uuid, GError **error)
{
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(qemu_driver_cast(vdrv), uuid, error);
    return dom ? dom->persistent : -1;
}

static int
qemu_driver_domain_is_updated(VirtDriver *vdrv, const unsigned char *uuid, GError **error)
{
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(qemu_driver_cast(vdrv), uuid, error);
    return dom ? dom->updated : -1;
}

static int
qemu_driver_domain_get_autostart(VirtDriver *vdrv, const unsigned char *uuid, GError **error)
{
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(qemu_driver_cast(vdrv), uuid, error);
    return dom ? dom->autostart : -1;
}

static gboolean
qemu_driver_domain_set_autostart(VirtDriver *vdrv, const unsigned char *uuid,
                                 gboolean autostart, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom)
        return FALSE;
    if (!dom->persistent) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("cannot set autostart of transient domain '%s'"),
                       qemu_domain_name(dom));
        return FALSE;
    }
    autostart = !!autostart;
    if (dom->autostart == autostart)
        return TRUE;
    if (!qemu_driver_set_autostart_link(drv, qemu_domain_name(dom), autostart, error))
        return FALSE;
    dom->autostart = autostart;
    return TRUE;
}

static char *
qemu_driver_domain_get_os_type(VirtDriver *vdrv, const unsigned char *uuid, GError **error)
{
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(qemu_driver_cast(vdrv), uuid, error);
    return dom ? g_strdup(domain_def_get_os_type(dom->def)) : NULL;
}

static gboolean
qemu_driver_domain_get_max_memory(VirtDriver *vdrv, const unsigned char *uuid,
                                  guint64 *ret_kib, GError **error)
{
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(qemu_driver_cast(vdrv), uuid, error);
    if (!dom)
        return FALSE;
    *ret_kib = domain_def_get_max_memory_kib(dom->def);
    return TRUE;
}

static int
qemu_driver_domain_has_managed_save_image(VirtDriver *vdrv, const unsigned char *uuid,
                                          unsigned int flags, GError **error)
{
    if (!qemu_driver_check_flags(flags, 0, error))
        return -1;
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(qemu_driver_cast(vdrv), uuid, error);
    return dom ? 0 : -1;
}

static char **
qemu_driver_domain_get_messages(VirtDriver *vdrv, const unsigned char *uuid,
                                unsigned int flags, GError **error)
{
    if (!qemu_driver_check_flags(flags,
                                 VIR_DOMAIN_MESSAGE_DEPRECATION | VIR_DOMAIN_MESSAGE_TAINTING,
                                 error))
        return NULL;
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(qemu_driver_cast(vdrv), uuid, error);
    return dom ? g_new0(char *, 1) : NULL;
}

/* ---------------------------------------------------------------------------------- */
/* Changes to a definition                                                             */

/* Turn VIR_DOMAIN_AFFECT_{CURRENT,LIVE,CONFIG} in @flags into explicit LIVE and/or
 * CONFIG bits for @dom (locked), refusing what its state does not allow. */
gboolean
qemu_domain_resolve_impact(QemuDomain *dom, unsigned int *flags, GError **error)
{
    const unsigned int both = VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG;
    if (!(*flags & both))
        *flags |= qemu_domain_is_active(dom) ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG;

    if ((*flags & VIR_DOMAIN_AFFECT_LIVE) && !qemu_domain_is_active(dom)) {
        /* libvirt reports this one from its domain layer. */
        virt_error_set(error, VIR_FROM_DOMAIN, VIR_ERR_OPERATION_INVALID,
                       _("domain is not running"));
        return FALSE;
    }
    if ((*flags & VIR_DOMAIN_AFFECT_CONFIG) && !dom->persistent) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("transient domain '%s' has no persistent configuration"),
                       qemu_domain_name(dom));
        return FALSE;
    }
    return TRUE;
}

gboolean
qemu_check_live_config_exclusive(unsigned int flags, GError **error)
{
    if ((flags & VIR_DOMAIN_AFFECT_LIVE) && (flags & VIR_DOMAIN_AFFECT_CONFIG)) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("flags 'live' and 'config' cannot be used together here"));
        return FALSE;
    }
    return TRUE;
}

/* Make @def (a changed copy of the persistent definition) the persistent definition of
 * @dom (locked): written to disk first, then swapped in. Takes ownership of @def. */
gboolean
qemu_driver_commit_config(QemuDriver *drv, QemuDomain *dom, DomainDef *def_in, GError **error)
{
    g_autoptr(DomainDef) def = def_in;
    if (!qemu_driver_save_def(drv, def, error))
        return FALSE;
    if (qemu_domain_is_active(dom)) {
        domain_def_free(dom->new_def);
        dom->new_def = g_steal_pointer(&def);
        dom->updated = TRUE; /* takes effect at the next start */
        qemu_run_save_status(drv, dom);
    } else {
        domain_def_free(dom->def);
        dom->def = g_steal_pointer(&def);
    }
    return TRUE;
}

static gboolean
qemu_driver_set_metadata_locked(QemuDriver *drv, QemuDomain *dom, int type,
                                const char *metadata, const char *key, const char *uri,
                                unsigned int flags, GError **error)
{
    if (!qemu_domain_resolve_impact(dom, &flags, error))
        return FALSE;

    /* Check the change against a copy before anything is modified. */
    g_autoptr(DomainDef) live = NULL;
    if (flags & VIR_DOMAIN_AFFECT_LIVE) {
        live = domain_def_copy(dom->def);
        if (!domain_def_set_metadata(live, type, metadata, key, uri, error))
            return FALSE;
    }
    if (flags & VIR_DOMAIN_AFFECT_CONFIG) {
        g_autoptr(DomainDef) config = domain_def_copy(qemu_domain_persistent_def(dom));
        if (!domain_def_set_metadata(config, type, metadata, key, uri, error))
            return FALSE;
        if (!qemu_driver_commit_config(drv, dom, g_steal_pointer(&config), error))
            return FALSE;
    }
    if (live) {
        domain_def_free(dom->def);
        dom->def = g_steal_pointer(&live);
    }
    return TRUE;
}

static gboolean
qemu_driver_domain_set_metadata(VirtDriver *vdrv, const unsigned char *uuid, int type,
                                const char *metadata, const char *key, const char *uri,
                                unsigned int flags, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    if (!qemu_driver_check_flags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG,
                                 error))
        return FALSE;

    g_autoptr(GPtrArray) events = qemu_events_new();
    QemuDomainLocked *dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom)
        return FALSE;
    gboolean ok =
        qemu_driver_set_metadata_locked(drv, dom, type, metadata, key, uri, flags, error);
    if (ok)
        qemu_events_add_metadata(events, dom, type, uri);
    qemu_domain_release(dom);
    qemu_driver_emit(drv, events);
    return ok;
}

static char *
qemu_driver_domain_get_metadata(VirtDriver *vdrv, const unsigned char *uuid, int type,
                                const char *uri, unsigned int flags, GError **error)
{
    if (!qemu_driver_check_flags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG,
                                 error) ||
        !qemu_check_live_config_exclusive(flags, error))
        return NULL;
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(qemu_driver_cast(vdrv), uuid, error);
    if (!dom || !qemu_domain_resolve_impact(dom, &flags, error))
        return NULL;
    const DomainDef *def =
        (flags & VIR_DOMAIN_AFFECT_CONFIG) ? qemu_domain_persistent_def(dom) : dom->def;
    return domain_def_get_metadata(def, type, uri, error);
}

static int
qemu_driver_domain_get_vcpus_flags(VirtDriver *vdrv, const unsigned char *uuid,
                                   unsigned int flags, GError **error)
{
    const unsigned int allowed = VIR_DOMAIN_VCPU_LIVE | VIR_DOMAIN_VCPU_CONFIG |
                                 VIR_DOMAIN_VCPU_MAXIMUM | VIR_DOMAIN_VCPU_GUEST;
    if (!qemu_driver_check_flags(flags, allowed, error) ||
        !qemu_check_live_config_exclusive(flags, error))
        return -1;
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(qemu_driver_cast(vdrv), uuid, error);
    if (!dom)
        return -1;
    if ((flags & VIR_DOMAIN_VCPU_GUEST) && !(flags & VIR_DOMAIN_VCPU_CONFIG))
        flags |= VIR_DOMAIN_VCPU_LIVE;
    if (!qemu_domain_resolve_impact(dom, &flags, error))
        return -1;
    if (flags & VIR_DOMAIN_VCPU_GUEST) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_UNSUPPORTED,
                       _("asking the guest agent for its vCPUs is not supported yet"));
        return -1;
    }
    const DomainDef *def =
        (flags & VIR_DOMAIN_VCPU_CONFIG) ? qemu_domain_persistent_def(dom) : dom->def;
    if (flags & VIR_DOMAIN_VCPU_MAXIMUM)
        return domain_def_get_vcpus_max(def);
    return domain_def_get_vcpus_current(def);
}

static gboolean
qemu_driver_domain_set_vcpus_flags(VirtDriver *vdrv, const unsigned char *uuid,
                                   unsigned int nvcpus, unsigned int flags, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    const unsigned int allowed = VIR_DOMAIN_VCPU_LIVE | VIR_DOMAIN_VCPU_CONFIG |
                                 VIR_DOMAIN_VCPU_MAXIMUM | VIR_DOMAIN_VCPU_GUEST |
                                 VIR_DOMAIN_VCPU_HOTPLUGGABLE;
    if (!qemu_driver_check_flags(flags, allowed, error))
        return FALSE;
    if (nvcpus == 0) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("the number of vCPUs must not be zero"));
        return FALSE;
    }
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom)
        return FALSE;
    if (flags & VIR_DOMAIN_VCPU_GUEST)
        flags |= VIR_DOMAIN_VCPU_LIVE;
    if (!qemu_domain_resolve_impact(dom, &flags, error))
        return FALSE;
    if ((flags & VIR_DOMAIN_VCPU_MAXIMUM) && (flags & VIR_DOMAIN_VCPU_LIVE)) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("the maximum vCPU count of a running domain cannot be changed"));
        return FALSE;
    }
    if (flags & VIR_DOMAIN_VCPU_GUEST) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_UNSUPPORTED,
                       _("changing the vCPUs a guest uses through its agent is not supported"));
        return FALSE;
    }
    if (flags & VIR_DOMAIN_VCPU_LIVE) /* hot-plug, and the config too when asked */
        return qemu_hotplug_set_vcpus(drv, dom, nvcpus, flags, error);

    g_autoptr(DomainDef) def = domain_def_copy(qemu_domain_persistent_def(dom));
    if (!domain_def_set_vcpus(def, nvcpus, !!(flags & VIR_DOMAIN_VCPU_MAXIMUM), error))
        return FALSE;
    qemu_hotplug_config_fit_vcpus(def, !!(flags & VIR_DOMAIN_VCPU_MAXIMUM),
                                  !!(flags & VIR_DOMAIN_VCPU_HOTPLUGGABLE));
    return qemu_driver_commit_config(drv, dom, g_steal_pointer(&def), error);
}

static gboolean
qemu_driver_domain_set_memory_flags(VirtDriver *vdrv, const unsigned char *uuid, guint64 kib,
                                    unsigned int flags, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    const unsigned int allowed =
        VIR_DOMAIN_MEM_LIVE | VIR_DOMAIN_MEM_CONFIG | VIR_DOMAIN_MEM_MAXIMUM;
    if (!qemu_driver_check_flags(flags, allowed, error))
        return FALSE;
    if (kib == 0) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("the memory size must not be zero"));
        return FALSE;
    }
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom || !qemu_domain_resolve_impact(dom, &flags, error))
        return FALSE;
    if ((flags & VIR_DOMAIN_MEM_MAXIMUM) && (flags & VIR_DOMAIN_MEM_LIVE)) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("the maximum memory of a running domain cannot be changed"));
        return FALSE;
    }
    if (flags & VIR_DOMAIN_MEM_LIVE) /* the balloon, and the config too when asked */
        return qemu_hotplug_set_memory(drv, dom, kib, flags, error);

    g_autoptr(DomainDef) def = domain_def_copy(qemu_domain_persistent_def(dom));
    if (flags & VIR_DOMAIN_MEM_MAXIMUM) {
        domain_def_set_max_memory_kib(def, kib);
    } else {
        guint64 max = domain_def_get_max_memory_kib(def);
        if (kib > max) {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                           _("cannot set memory to %" G_GUINT64_FORMAT
                             " KiB: the maximum is %" G_GUINT64_FORMAT " KiB"),
                           kib, max);
            return FALSE;
        }
        if (!domain_def_set_current_memory_kib(def, kib, error))
            return FALSE;
    }
    return qemu_driver_commit_config(drv, dom, g_steal_pointer(&def), error);
}

/* ---------------------------------------------------------------------------------- */
/* Lifecycle of the driver                                                             */

static gboolean
qemu_driver_reload(VirtDriver *vdrv, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    g_autoptr(GPtrArray) events = qemu_events_new();
    g_mutex_lock(&drv->define_lock);
    qemu_driver_load_all(drv, events);
    g_mutex_unlock(&drv->define_lock);
    qemu_driver_emit(drv, events);
    return TRUE;
}

static void
qemu_driver_shutdown(VirtDriver *vdrv)
{
    qemu_driver_free(vdrv);
}

static const VirtDriver qemu_driver_vtable = {
    .type_name = "QEMU",
    .get_version = qemu_driver_get_version,
    .get_hostname = qemu_driver_get_hostname,
    .get_sysinfo = qemu_driver_get_sysinfo,
    .get_max_vcpus = qemu_driver_get_max_vcpus,
    .get_capabilities = qemu_driver_get_capabilities,
    .get_domain_capabilities = qemu_driver_get_domain_capabilities,
    .node_get_info = qemu_driver_node_get_info,
    .node_get_cpu_map = qemu_driver_node_get_cpu_map,
    .node_get_memory_stats = qemu_driver_node_get_memory_stats,
    .node_get_cpu_stats = qemu_driver_node_get_cpu_stats,
    .node_get_free_memory = qemu_driver_node_get_free_memory,
    .node_get_cells_free_memory = qemu_driver_node_get_cells_free_memory,
    .domain_define_xml = qemu_driver_domain_define_xml,
    .domain_undefine = qemu_driver_domain_undefine,
    .domain_lookup_by_name = qemu_driver_domain_lookup_by_name,
    .domain_lookup_by_uuid = qemu_driver_domain_lookup_by_uuid,
    .domain_lookup_by_id = qemu_driver_domain_lookup_by_id,
    .list_all_domains = qemu_driver_list_all_domains,
    .domain_get_xml_desc = qemu_driver_domain_get_xml_desc,
    .domain_get_info = qemu_driver_domain_get_info,
    .domain_get_state = qemu_driver_domain_get_state,
    .domain_is_active = qemu_driver_domain_is_active,
    .domain_is_persistent = qemu_driver_domain_is_persistent,
    .domain_is_updated = qemu_driver_domain_is_updated,
    .domain_get_autostart = qemu_driver_domain_get_autostart,
    .domain_set_autostart = qemu_driver_domain_set_autostart,
    .domain_get_os_type = qemu_driver_domain_get_os_type,
    .domain_get_max_memory = qemu_driver_domain_get_max_memory,
    .domain_set_metadata = qemu_driver_domain_set_metadata,
    .domain_get_metadata = qemu_driver_domain_get_metadata,
    .domain_rename = qemu_driver_domain_rename,
    .domain_get_vcpus_flags = qemu_driver_domain_get_vcpus_flags,
    .domain_set_vcpus_flags = qemu_driver_domain_set_vcpus_flags,
    .domain_set_memory_flags = qemu_driver_domain_set_memory_flags,
    .domain_has_managed_save_image = qemu_driver_domain_has_managed_save_image,
    .domain_get_messages = qemu_driver_domain_get_messages,
    .set_event_sink = qemu_driver_set_event_sink,
    .reload = qemu_driver_reload,
    .shutdown = qemu_driver_shutdown,
};

VirtDriver *
qemu_driver_new(const QemuDriverConfig *cfg, GError **error)
{
    if (!cfg->config_dir) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("the QEMU driver needs a configuration directory"));
        return NULL;
    }

    QemuDriver *drv = g_new0(QemuDriver, 1);
    drv->base = qemu_driver_vtable;
    qemu_run_fill_vtable(&drv->base);
    qemu_iotune_fill_vtable(&drv->base);
    qemu_pin_fill_vtable(&drv->base);
    qemu_tune_fill_vtable(&drv->base);
    qemu_hotplug_fill_vtable(&drv->base);
    qemu_driver_config_copy(&drv->cfg, cfg);
    drv->cfg.caps = NULL; /* held in drv->caps instead */
    if (cfg->caps)
        drv->caps = qemu_caps_ref(cfg->caps);
    drv->autostart_dir = g_build_filename(drv->cfg.config_dir, "autostart", NULL);
    g_mutex_init(&drv->define_lock);
    g_rw_lock_init(&drv->table_lock);
    g_mutex_init(&drv->caps_lock);
    g_mutex_init(&drv->sink_lock);
    drv->by_uuid =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)qemu_domain_unref);
    drv->by_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    const char *dirs[] = { drv->cfg.config_dir, drv->autostart_dir, drv->cfg.state_dir,
                           drv->cfg.log_dir, drv->cfg.cache_dir };
    for (gsize i = 0; i < G_N_ELEMENTS(dirs); i++) {
        if (dirs[i] && !file_make_dirs(dirs[i], QEMU_DIR_MODE, error)) {
            qemu_driver_free(&drv->base);
            return NULL;
        }
    }

    g_mutex_lock(&drv->define_lock);
    qemu_driver_load_all(drv, NULL);
    g_mutex_unlock(&drv->define_lock);
    qemu_run_init(drv);
    qemu_run_reattach_all(drv);
    return &drv->base;
}

void
qemu_driver_start_autostart(VirtDriver *vdrv)
{
    qemu_run_autostart(qemu_driver_cast(vdrv));
}

void
qemu_driver_free(VirtDriver *vdrv)
{
    if (!vdrv)
        return;
    QemuDriver *drv = qemu_driver_cast(vdrv);
    qemu_run_shutdown(drv);
    g_clear_pointer(&drv->by_name, g_hash_table_unref);
    g_clear_pointer(&drv->by_uuid, g_hash_table_unref);
    g_clear_pointer(&drv->caps, qemu_caps_unref);
    g_free(drv->host_uuid);
    g_free(drv->autostart_dir);
    qemu_driver_config_clear(&drv->cfg);
    g_mutex_clear(&drv->define_lock);
    g_rw_lock_clear(&drv->table_lock);
    g_mutex_clear(&drv->caps_lock);
    g_mutex_clear(&drv->sink_lock);
    g_free(drv);
}
