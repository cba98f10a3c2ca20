/* Per-disk I/O throttling: see qemu-iotune.h. The pure functions come first, then what
 * talks to QEMU (the start-up hook), then the driver calls (virDomainSetBlockIoTune,
 * virDomainGetBlockIoTune).
 */
#include "drivers/qemu/qemu-command.h"
#include "drivers/qemu/qemu-iotune.h"

#include <stdarg.h>
#include <string.h>

#include <libvirt/libvirt.h>

#include "daemon/util/virt-error.h"
#include "drivers/qemu/qemu-driver-priv.h"

#define QMP_TIMEOUT_MS 10000
#define JOB_NAME "tune the disk I/O of"

/* Parameter names by DomainIotuneField (libvirt's names are the XML element names). */
static const char *const field_names[DOMAIN_IOTUNE_LAST] = {
    [DOMAIN_IOTUNE_TOTAL_BYTES_SEC] = VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_BYTES_SEC,
    [DOMAIN_IOTUNE_READ_BYTES_SEC] = VIR_DOMAIN_BLOCK_IOTUNE_READ_BYTES_SEC,
    [DOMAIN_IOTUNE_WRITE_BYTES_SEC] = VIR_DOMAIN_BLOCK_IOTUNE_WRITE_BYTES_SEC,
    [DOMAIN_IOTUNE_TOTAL_IOPS_SEC] = VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_IOPS_SEC,
    [DOMAIN_IOTUNE_READ_IOPS_SEC] = VIR_DOMAIN_BLOCK_IOTUNE_READ_IOPS_SEC,
    [DOMAIN_IOTUNE_WRITE_IOPS_SEC] = VIR_DOMAIN_BLOCK_IOTUNE_WRITE_IOPS_SEC,
    [DOMAIN_IOTUNE_TOTAL_BYTES_SEC_MAX] = VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_BYTES_SEC_MAX,
    [DOMAIN_IOTUNE_READ_BYTES_SEC_MAX] = VIR_DOMAIN_BLOCK_IOTUNE_READ_BYTES_SEC_MAX,
    [DOMAIN_IOTUNE_WRITE_BYTES_SEC_MAX] = VIR_DOMAIN_BLOCK_IOTUNE_WRITE_BYTES_SEC_MAX,
    [DOMAIN_IOTUNE_TOTAL_IOPS_SEC_MAX] = VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_IOPS_SEC_MAX,
    [DOMAIN_IOTUNE_READ_IOPS_SEC_MAX] = VIR_DOMAIN_BLOCK_IOTUNE_READ_IOPS_SEC_MAX,
    [DOMAIN_IOTUNE_WRITE_IOPS_SEC_MAX] = VIR_DOMAIN_BLOCK_IOTUNE_WRITE_IOPS_SEC_MAX,
    [DOMAIN_IOTUNE_SIZE_IOPS_SEC] = VIR_DOMAIN_BLOCK_IOTUNE_SIZE_IOPS_SEC,
    [DOMAIN_IOTUNE_GROUP_NAME] = VIR_DOMAIN_BLOCK_IOTUNE_GROUP_NAME,
    [DOMAIN_IOTUNE_TOTAL_BYTES_SEC_MAX_LENGTH] =
        VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_BYTES_SEC_MAX_LENGTH,
    [DOMAIN_IOTUNE_READ_BYTES_SEC_MAX_LENGTH] = VIR_DOMAIN_BLOCK_IOTUNE_READ_BYTES_SEC_MAX_LENGTH,
    [DOMAIN_IOTUNE_WRITE_BYTES_SEC_MAX_LENGTH] =
        VIR_DOMAIN_BLOCK_IOTUNE_WRITE_BYTES_SEC_MAX_LENGTH,
    [DOMAIN_IOTUNE_TOTAL_IOPS_SEC_MAX_LENGTH] = VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_IOPS_SEC_MAX_LENGTH,
    [DOMAIN_IOTUNE_READ_IOPS_SEC_MAX_LENGTH] = VIR_DOMAIN_BLOCK_IOTUNE_READ_IOPS_SEC_MAX_LENGTH,
    [DOMAIN_IOTUNE_WRITE_IOPS_SEC_MAX_LENGTH] =
        VIR_DOMAIN_BLOCK_IOTUNE_WRITE_IOPS_SEC_MAX_LENGTH,
};

/* Their names in the TUNABLE event. */
static const char *const tunable_names[DOMAIN_IOTUNE_LAST] = {
    [DOMAIN_IOTUNE_TOTAL_BYTES_SEC] = VIR_DOMAIN_TUNABLE_BLKDEV_TOTAL_BYTES_SEC,
    [DOMAIN_IOTUNE_READ_BYTES_SEC] = VIR_DOMAIN_TUNABLE_BLKDEV_READ_BYTES_SEC,
    [DOMAIN_IOTUNE_WRITE_BYTES_SEC] = VIR_DOMAIN_TUNABLE_BLKDEV_WRITE_BYTES_SEC,
    [DOMAIN_IOTUNE_TOTAL_IOPS_SEC] = VIR_DOMAIN_TUNABLE_BLKDEV_TOTAL_IOPS_SEC,
    [DOMAIN_IOTUNE_READ_IOPS_SEC] = VIR_DOMAIN_TUNABLE_BLKDEV_READ_IOPS_SEC,
    [DOMAIN_IOTUNE_WRITE_IOPS_SEC] = VIR_DOMAIN_TUNABLE_BLKDEV_WRITE_IOPS_SEC,
    [DOMAIN_IOTUNE_TOTAL_BYTES_SEC_MAX] = VIR_DOMAIN_TUNABLE_BLKDEV_TOTAL_BYTES_SEC_MAX,
    [DOMAIN_IOTUNE_READ_BYTES_SEC_MAX] = VIR_DOMAIN_TUNABLE_BLKDEV_READ_BYTES_SEC_MAX,
    [DOMAIN_IOTUNE_WRITE_BYTES_SEC_MAX] = VIR_DOMAIN_TUNABLE_BLKDEV_WRITE_BYTES_SEC_MAX,
    [DOMAIN_IOTUNE_TOTAL_IOPS_SEC_MAX] = VIR_DOMAIN_TUNABLE_BLKDEV_TOTAL_IOPS_SEC_MAX,
    [DOMAIN_IOTUNE_READ_IOPS_SEC_MAX] = VIR_DOMAIN_TUNABLE_BLKDEV_READ_IOPS_SEC_MAX,
    [DOMAIN_IOTUNE_WRITE_IOPS_SEC_MAX] = VIR_DOMAIN_TUNABLE_BLKDEV_WRITE_IOPS_SEC_MAX,
    [DOMAIN_IOTUNE_SIZE_IOPS_SEC] = VIR_DOMAIN_TUNABLE_BLKDEV_SIZE_IOPS_SEC,
    [DOMAIN_IOTUNE_GROUP_NAME] = VIR_DOMAIN_TUNABLE_BLKDEV_GROUP_NAME,
    [DOMAIN_IOTUNE_TOTAL_BYTES_SEC_MAX_LENGTH] =
        VIR_DOMAIN_TUNABLE_BLKDEV_TOTAL_BYTES_SEC_MAX_LENGTH,
    [DOMAIN_IOTUNE_READ_BYTES_SEC_MAX_LENGTH] =
        VIR_DOMAIN_TUNABLE_BLKDEV_READ_BYTES_SEC_MAX_LENGTH,
    [DOMAIN_IOTUNE_WRITE_BYTES_SEC_MAX_LENGTH] =
        VIR_DOMAIN_TUNABLE_BLKDEV_WRITE_BYTES_SEC_MAX_LENGTH,
    [DOMAIN_IOTUNE_TOTAL_IOPS_SEC_MAX_LENGTH] =
        VIR_DOMAIN_TUNABLE_BLKDEV_TOTAL_IOPS_SEC_MAX_LENGTH,
    [DOMAIN_IOTUNE_READ_IOPS_SEC_MAX_LENGTH] =
        VIR_DOMAIN_TUNABLE_BLKDEV_READ_IOPS_SEC_MAX_LENGTH,
    [DOMAIN_IOTUNE_WRITE_IOPS_SEC_MAX_LENGTH] =
        VIR_DOMAIN_TUNABLE_BLKDEV_WRITE_IOPS_SEC_MAX_LENGTH,
};

/* QMP argument names by DomainIotuneField (NULL: group, passed apart). */
static const char *const qmp_names[DOMAIN_IOTUNE_LAST] = {
    "bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr",
    "bps_max", "bps_rd_max", "bps_wr_max", "iops_max", "iops_rd_max", "iops_wr_max",
    "iops_size", NULL,
    "bps_max_length", "bps_rd_max_length", "bps_wr_max_length",
    "iops_max_length", "iops_rd_max_length", "iops_wr_max_length",
};

/* The six limited rates (total/read/write of bytes and IOPS) are fields 0..5; the burst
 * rate of rate f is field f + BURST, the length of that burst f + LENGTH. */
enum { N_RATES = 6, BURST = DOMAIN_IOTUNE_TOTAL_BYTES_SEC_MAX,
       LENGTH = DOMAIN_IOTUNE_TOTAL_BYTES_SEC_MAX_LENGTH };
/* First fields of the total/read/write triples that one set call replaces as a whole. */
static const int kinds[] = {
    DOMAIN_IOTUNE_TOTAL_BYTES_SEC, DOMAIN_IOTUNE_TOTAL_IOPS_SEC,
    DOMAIN_IOTUNE_TOTAL_BYTES_SEC_MAX, DOMAIN_IOTUNE_TOTAL_IOPS_SEC_MAX,
    DOMAIN_IOTUNE_TOTAL_BYTES_SEC_MAX_LENGTH, DOMAIN_IOTUNE_TOTAL_IOPS_SEC_MAX_LENGTH,
};

void
qemu_iotune_clear(QemuIotune *t)
{
    g_clear_pointer(&t->group_name, g_free);
    memset(t->values, 0, sizeof(t->values));
}

const char *
qemu_iotune_field_name(DomainIotuneField field)
{
    return field < DOMAIN_IOTUNE_LAST ? field_names[field] : NULL;
}

void
qemu_iotune_from_disk(const DomainDiskDef *disk, QemuIotune *ret)
{
    memset(ret, 0, sizeof(*ret));
    for (int i = 0; i < DOMAIN_IOTUNE_LAST; i++) {
        if (i != DOMAIN_IOTUNE_GROUP_NAME && disk->iotune[i])
            ret->values[i] = g_ascii_strtoull(disk->iotune[i], NULL, 10);
    }
    if (disk->iotune[DOMAIN_IOTUNE_GROUP_NAME] && *disk->iotune[DOMAIN_IOTUNE_GROUP_NAME])
        ret->group_name = g_strdup(disk->iotune[DOMAIN_IOTUNE_GROUP_NAME]);
}

void
qemu_iotune_to_disk(const QemuIotune *t, DomainDiskDef *disk)
{
    for (int i = 0; i < DOMAIN_IOTUNE_LAST; i++) {
        g_clear_pointer(&disk->iotune[i], g_free);
        if (i == DOMAIN_IOTUNE_GROUP_NAME)
            disk->iotune[i] = g_strdup(t->group_name);
        else if (t->values[i])
            disk->iotune[i] = g_strdup_printf("%" G_GUINT64_FORMAT, t->values[i]);
    }
}

gboolean
qemu_iotune_is_empty(const QemuIotune *t)
{
    for (int i = 0; i < DOMAIN_IOTUNE_LAST; i++) {
        if (t->values[i])
            return FALSE;
    }
    return t->group_name == NULL;
}

static gboolean G_GNUC_PRINTF(2, 3)
invalid(GError **error, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, args);
    va_end(args);
    virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG, "%s", msg);
    return FALSE;
}

static gboolean
has_iops(const QemuIotune *t)
{
    return t->values[DOMAIN_IOTUNE_TOTAL_IOPS_SEC] || t->values[DOMAIN_IOTUNE_READ_IOPS_SEC] ||
           t->values[DOMAIN_IOTUNE_WRITE_IOPS_SEC];
}

gboolean
qemu_iotune_validate(const QemuIotune *t, GError **error)
{
    const guint64 *v = t->values;

    for (int i = 0; i < LENGTH; i++) {
        if (i != DOMAIN_IOTUNE_GROUP_NAME && v[i] > QEMU_IOTUNE_VALUE_MAX)
            return invalid(error, _("'%s' must be at most %" G_GUINT64_FORMAT ", not %"
                                    G_GUINT64_FORMAT), field_names[i], QEMU_IOTUNE_VALUE_MAX,
                           v[i]);
    }
    /* A total limit and a read or write limit of the same kind exclude each other. */
    for (int k = 0; k < 4; k++) {
        int total = kinds[k];
        int other = v[total + 1] ? total + 1 : total + 2;
        if (v[total] && v[other])
            return invalid(error, _("'%s' and '%s' cannot be set at the same time"),
                           field_names[total], field_names[other]);
    }
    for (int f = 0; f < N_RATES; f++) {
        guint64 rate = v[f], burst = v[f + BURST], length = v[f + LENGTH];
        if (burst && !rate)
            return invalid(error, _("'%s' needs '%s' to be set"), field_names[f + BURST],
                           field_names[f]);
        if (burst && burst < rate)
            return invalid(error, _("'%s' (%" G_GUINT64_FORMAT ") cannot be lower than '%s' (%"
                                    G_GUINT64_FORMAT ")"),
                           field_names[f + BURST], burst, field_names[f], rate);
        if (length && !burst)
            return invalid(error, _("'%s' needs '%s' to be set"), field_names[f + LENGTH],
                           field_names[f + BURST]);
        if (length && length > QEMU_IOTUNE_VALUE_MAX / burst)
            return invalid(error, _("'%s' times '%s' must be at most %" G_GUINT64_FORMAT),
                           field_names[f + BURST], field_names[f + LENGTH],
                           QEMU_IOTUNE_VALUE_MAX);
    }
    if (v[DOMAIN_IOTUNE_SIZE_IOPS_SEC] && !has_iops(t))
        return invalid(error, _("'%s' needs '%s', '%s' or '%s' to be set"),
                       field_names[DOMAIN_IOTUNE_SIZE_IOPS_SEC],
                       field_names[DOMAIN_IOTUNE_TOTAL_IOPS_SEC],
                       field_names[DOMAIN_IOTUNE_READ_IOPS_SEC],
                       field_names[DOMAIN_IOTUNE_WRITE_IOPS_SEC]);
    return TRUE;
}

static void
param_specs(DomainParamSpec spec[DOMAIN_IOTUNE_LAST])
{
    for (int i = 0; i < DOMAIN_IOTUNE_LAST; i++) {
        spec[i].field = field_names[i];
        spec[i].type = i == DOMAIN_IOTUNE_GROUP_NAME ? VIR_TYPED_PARAM_STRING
                                                     : VIR_TYPED_PARAM_ULLONG;
    }
}

gboolean
qemu_iotune_merge(QemuIotune *t, GArray *params, GError **error)
{
    DomainParamSpec spec[DOMAIN_IOTUNE_LAST];
    param_specs(spec);
    if (!domain_params_validate(params, spec, DOMAIN_IOTUNE_LAST, error))
        return FALSE;

    const DomainTypedParam *given[DOMAIN_IOTUNE_LAST];
    for (int i = 0; i < DOMAIN_IOTUNE_LAST; i++)
        given[i] = domain_params_find(params, field_names[i]);

    g_auto(QemuIotune) n = {0};
    memcpy(n.values, t->values, sizeof(n.values));
    n.group_name = g_strdup(t->group_name);
    for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
        if (given[kinds[k]] || given[kinds[k] + 1] || given[kinds[k] + 2])
            n.values[kinds[k]] = n.values[kinds[k] + 1] = n.values[kinds[k] + 2] = 0;
    }
    for (int i = 0; i < DOMAIN_IOTUNE_LAST; i++) {
        if (given[i] && i != DOMAIN_IOTUNE_GROUP_NAME)
            n.values[i] = given[i]->value.ul;
    }
    if (given[DOMAIN_IOTUNE_GROUP_NAME]) {
        const char *group = given[DOMAIN_IOTUNE_GROUP_NAME]->value.s;
        g_free(n.group_name);
        n.group_name = group && *group ? g_strdup(group) : NULL;
    }
    /* Bursts kept from before lose their meaning with their base: they go too. */
    for (int f = 0; f < N_RATES; f++) {
        if (!given[f + BURST] && !n.values[f])
            n.values[f + BURST] = 0;
        if (!given[f + LENGTH] && !n.values[f + BURST])
            n.values[f + LENGTH] = 0;
    }
    if (!given[DOMAIN_IOTUNE_SIZE_IOPS_SEC] && !has_iops(&n))
        n.values[DOMAIN_IOTUNE_SIZE_IOPS_SEC] = 0;

    if (!qemu_iotune_validate(&n, error))
        return FALSE;
    qemu_iotune_clear(t);
    *t = n;
    n.group_name = NULL;
    return TRUE;
}

GArray *
qemu_iotune_to_params(const QemuIotune *t, gboolean with_strings)
{
    GArray *params = domain_params_new();
    for (int i = 0; i < DOMAIN_IOTUNE_LAST; i++) {
        if (i != DOMAIN_IOTUNE_GROUP_NAME)
            domain_params_add_ullong(params, field_names[i], t->values[i]);
        else if (with_strings)
            domain_params_add_string(params, field_names[i], t->group_name ? t->group_name : "");
    }
    return params;
}

GArray *
qemu_iotune_tunable(const char *disk, GArray *params)
{
    GArray *out = domain_params_new();
    domain_params_add_string(out, VIR_DOMAIN_TUNABLE_BLKDEV_DISK, disk);
    for (guint i = 0; i < params->len; i++) {
        const DomainTypedParam *p = &g_array_index(params, DomainTypedParam, i);
        for (int f = 0; f < DOMAIN_IOTUNE_LAST; f++) {
            if (!g_str_equal(field_names[f], p->field))
                continue;
            if (f == DOMAIN_IOTUNE_GROUP_NAME)
                domain_params_add_string(out, tunable_names[f], p->value.s);
            else
                domain_params_add_ullong(out, tunable_names[f], p->value.ul);
        }
    }
    return out;
}

json_object *
qemu_iotune_qmp_args(const QemuIotune *t, const char *qdev)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(qdev));
    for (int i = 0; i < DOMAIN_IOTUNE_LAST; i++) {
        /* QEMU refuses a burst length of 0: leaving it out means its default, 1 s. */
        if (!qmp_names[i] || (i >= LENGTH && !t->values[i]))
            continue;
        json_object_object_add(args, qmp_names[i], json_object_new_int64(t->values[i]));
    }
    if (t->group_name)
        json_object_object_add(args, "group", json_object_new_string(t->group_name));
    return args;
}

const char *
qemu_iotune_find_qdev(json_object *query_block, const char *node_name)
{
    if (!json_object_is_type(query_block, json_type_array))
        return NULL;
    for (size_t i = 0; i < json_object_array_length(query_block); i++) {
        json_object *dev = json_object_array_get_idx(query_block, i);
        json_object *inserted, *node, *qdev;
        if (json_object_object_get_ex(dev, "inserted", &inserted) &&
            json_object_object_get_ex(inserted, "node-name", &node) &&
            g_strcmp0(json_object_get_string(node), node_name) == 0 &&
            json_object_object_get_ex(dev, "qdev", &qdev) &&
            json_object_is_type(qdev, json_type_string))
            return json_object_get_string(qdev);
    }
    return NULL;
}

json_object *
qemu_iotune_throttle_args(json_object *query_block, const DomainDef *def, guint index,
                          const QemuIotune *t, GError **error)
{
    g_autofree char *node = qemu_command_disk_node(def, index);
    const char *qdev = qemu_iotune_find_qdev(query_block, node);
    if (!qdev) {
        const DomainDiskDef *disk = ptr_vec_index(&def->devices.disks, index);
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("QEMU has no device for disk '%s'"), disk->target_dev);
        return NULL;
    }
    return qemu_iotune_qmp_args(t, qdev);
}

/* ---------------------------------------------------------------------------------- */
/* QEMU                                                                                */

static DomainDiskDef *
disk_at(const DomainDef *def, guint index)
{
    return ptr_vec_index(&def->devices.disks, index);
}

/* Give QEMU the limits @t of disk @index of @def; @blocks is a query-block reply. A
 * refusal is QEMU's own words (we checked what we could before). */
static gboolean
apply_disk(QemuProcess *proc, json_object *blocks, const DomainDef *def, guint index,
           const QemuIotune *t, GError **error)
{
    json_object *args = qemu_iotune_throttle_args(blocks, def, index, t, error);
    if (!args)
        return FALSE;
    json_object *r = qemu_process_qmp(proc, "block_set_io_throttle", args, QMP_TIMEOUT_MS,
                                      error);
    json_object_put(args);
    gboolean ok = r != NULL;
    json_object_put(r);
    return ok;
}

gboolean
qemu_iotune_start(QemuProcess *proc, const DomainDef *live, GError **error)
{
    const PtrVec *disks = &live->devices.disks;
    json_object *blocks = NULL;
    g_autoptr(GError) local = NULL;

    for (guint i = 0; !local && i < disks->len; i++) {
        const DomainDiskDef *disk = disk_at(live, i);
        g_auto(QemuIotune) t = {0};
        qemu_iotune_from_disk(disk, &t);
        if (!disk->source || qemu_iotune_is_empty(&t))
            continue;
        if (!qemu_iotune_validate(&t, &local)) {
            /* A definition QEMU cannot run, not a bad call argument. */
            local->code = VIR_ERR_CONFIG_UNSUPPORTED;
            g_prefix_error(&local, _("<iotune> of disk '%s': "), disk->target_dev);
        } else if (blocks || (blocks = qemu_process_qmp(proc, "query-block", NULL,
                                                        QMP_TIMEOUT_MS, &local))) {
            apply_disk(proc, blocks, live, i, &t, &local);
        }
    }
    json_object_put(blocks);
    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    return TRUE;
}

/* ---------------------------------------------------------------------------------- */
/* Driver calls                                                                        */

/* Copy @t to disk @index of @def and to the other disks of its group: QEMU throttles a
 * group with one set of limits, so its members show the same <iotune>. */
static void
store(DomainDef *def, guint index, const QemuIotune *t)
{
    const PtrVec *disks = &def->devices.disks;
    qemu_iotune_to_disk(t, disk_at(def, index));
    for (guint i = 0; t->group_name && i < disks->len; i++) {
        DomainDiskDef *d = ptr_vec_index(disks, i);
        if (i != index && g_strcmp0(d->iotune[DOMAIN_IOTUNE_GROUP_NAME], t->group_name) == 0)
            qemu_iotune_to_disk(t, d);
    }
}

/* The new limits of disk @name in @def after @params: its index into *@ret_index. */
static gboolean
merged(const DomainDef *def, const char *name, GArray *params, QemuIotune *ret,
       int *ret_index, GError **error)
{
    int index = domain_def_find_disk(def, name, error);
    if (index < 0)
        return FALSE;
    qemu_iotune_from_disk(disk_at(def, index), ret);
    if (!qemu_iotune_merge(ret, params, error))
        return FALSE;
    *ret_index = index;
    return TRUE;
}

/* Job held, domain locked, @flags resolved. The TUNABLE event of a live change goes to
 * @events. */
static gboolean
set_locked(QemuDriver *drv, QemuDomain *dom, const char *name, GArray *params,
           unsigned int flags, GPtrArray *events, GError **error)
{
    const char *dom_name = qemu_domain_name(dom);
    g_auto(QemuIotune) live_t = {0};
    g_auto(QemuIotune) config_t = {0};
    g_autoptr(DomainDef) config = NULL;
    int live_index = -1, config_index = -1;

    /* Everything is checked before anything changes. */
    if ((flags & VIR_DOMAIN_AFFECT_LIVE) &&
        !merged(dom->def, name, params, &live_t, &live_index, error))
        return FALSE;
    if (flags & VIR_DOMAIN_AFFECT_CONFIG) {
        config = domain_def_copy(qemu_domain_persistent_def(dom));
        if (!merged(config, name, params, &config_t, &config_index, error))
            return FALSE;
        store(config, config_index, &config_t);
    }

    if (flags & VIR_DOMAIN_AFFECT_LIVE) {
        if (!disk_at(dom->def, live_index)->source) {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                           _("disk '%s' of domain '%s' has no medium"),
                           disk_at(dom->def, live_index)->target_dev, dom_name);
            return FALSE;
        }
        g_autoptr(QemuProcess) proc = qemu_process_ref(dom->proc);
        g_autoptr(DomainDef) snapshot = domain_def_copy(dom->def);
        g_mutex_unlock(&dom->lock);
        json_object *blocks = qemu_process_qmp(proc, "query-block", NULL, QMP_TIMEOUT_MS,
                                               error);
        gboolean ok = blocks && apply_disk(proc, blocks, snapshot, live_index, &live_t, error);
        json_object_put(blocks);
        g_mutex_lock(&dom->lock);
        if (!ok)
            return FALSE;
        /* Unless the domain stopped meanwhile (dom->def is then the persistent one). */
        if (dom->proc == proc) {
            store(dom->def, live_index, &live_t);
            qemu_run_save_status(drv, dom);
            qemu_events_add_tunable(events, dom, qemu_iotune_tunable(name, params));
        }
    }
    if (config)
        return qemu_driver_commit_config(drv, dom, g_steal_pointer(&config), error);
    return TRUE;
}

static gboolean
qemu_iotune_domain_set(VirtDriver *vdrv, const unsigned char *uuid, const char *disk,
                       GArray *params, unsigned int flags, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    if (!qemu_driver_check_flags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG,
                                 error))
        return FALSE;
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom || !qemu_job_begin(dom, JOB_NAME, error))
        return FALSE;
    g_autoptr(GPtrArray) events = qemu_events_new();
    /* The state is looked at under the job: a start or stop cannot come in between. */
    gboolean ok = qemu_domain_resolve_impact(dom, &flags, error) &&
                  set_locked(drv, dom, disk, params, flags, events, error);
    qemu_job_end(dom);
    g_clear_pointer(&dom, qemu_domain_release);
    qemu_driver_emit(drv, events);
    return ok;
}

static GArray *
qemu_iotune_domain_get(VirtDriver *vdrv, const unsigned char *uuid, const char *disk,
                       unsigned int flags, GError **error)
{
    if (!qemu_driver_check_flags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG |
                                        VIR_TYPED_PARAM_STRING_OKAY, error))
        return NULL;
    gboolean with_strings = flags & VIR_TYPED_PARAM_STRING_OKAY;
    flags &= ~VIR_TYPED_PARAM_STRING_OKAY;
    if (!qemu_check_live_config_exclusive(flags, error))
        return NULL;
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(qemu_driver_cast(vdrv), uuid, error);
    if (!dom || !qemu_domain_resolve_impact(dom, &flags, error))
        return NULL;
    /* The live definition carries what QEMU was given. */
    const DomainDef *def = (flags & VIR_DOMAIN_AFFECT_LIVE) ? dom->def
                                                            : qemu_domain_persistent_def(dom);
    g_auto(QemuIotune) t = {0};
    if (disk) {
        int index = domain_def_find_disk(def, disk, error);
        if (index < 0)
            return NULL;
        qemu_iotune_from_disk(disk_at(def, index), &t);
    }
    return qemu_iotune_to_params(&t, with_strings);
}

void
qemu_iotune_fill_vtable(VirtDriver *vt)
{
    vt->domain_set_block_io_tune = qemu_iotune_domain_set;
    vt->domain_get_block_io_tune = qemu_iotune_domain_get;
}
