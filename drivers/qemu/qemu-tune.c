/* Tuning of domains through their cgroups: schedinfo (cpu shares and CFS bandwidth of
 * the vCPUs, the emulator threads and the whole VM), memtune (memory limits) and
 * blkiotune (I/O weight and per-device throttling).
 *
 * Live changes write the cgroup files of the running VM (qemu-cgroup.h gives its groups)
 * and the live definition, which the status file keeps across a daemon restart; config
 * changes go to a changed copy of the persistent definition. A live get reads back what
 * the kernel holds, a config get what the definition says. Values of the XML are applied
 * at start by qemu_cgroup_place and qemu_cgroup_split.
 *
 * iothread_period/iothread_quota go to the iothreadN/ group each IOThread gets at start
 * (qemu_pin_start_iothreads); a domain without IOThreads only stores them.
 *
 * The set calls take the domain's job (so a start or stop cannot interleave); cgroup
 * writes are quick and made with the domain locked. The get calls take only the lock.
 */
#include <errno.h>
#include <string.h>

#include "daemon/util/virt-error.h"
#include "drivers/qemu/qemu-cgroup.h"
#include "drivers/qemu/qemu-driver-priv.h"
#include "drivers/qemu/qemu-tune.h"

#define SHARES_V1_MIN 2
#define SHARES_V1_MAX 262144
#define WEIGHT_V2_MIN 1
#define WEIGHT_V2_MAX 10000
#define BLKIO_WEIGHT_V1_MIN 100
#define BLKIO_WEIGHT_V1_MAX 1000
#define PERIOD_MIN 1000
#define PERIOD_MAX 1000000
#define QUOTA_MIN 1000
#define QUOTA_MAX 17592186044415LL
#define MEM_UNLIMITED ((guint64)VIR_DOMAIN_MEMORY_PARAM_UNLIMITED)

/* ---------------------------------------------------------------------------------- */
/* Pure: parameters <-> definitions                                                    */

/* The scheduler parameters in the order libvirt's QEMU driver returns them, and the
 * <cputune> field of each. */
static const DomainParamSpec sched_spec[QEMU_TUNE_SCHED_NPARAMS] = {
    {VIR_DOMAIN_SCHEDULER_CPU_SHARES, VIR_TYPED_PARAM_ULLONG},
    {VIR_DOMAIN_SCHEDULER_VCPU_PERIOD, VIR_TYPED_PARAM_ULLONG},
    {VIR_DOMAIN_SCHEDULER_VCPU_QUOTA, VIR_TYPED_PARAM_LLONG},
    {VIR_DOMAIN_SCHEDULER_EMULATOR_PERIOD, VIR_TYPED_PARAM_ULLONG},
    {VIR_DOMAIN_SCHEDULER_EMULATOR_QUOTA, VIR_TYPED_PARAM_LLONG},
    {VIR_DOMAIN_SCHEDULER_GLOBAL_PERIOD, VIR_TYPED_PARAM_ULLONG},
    {VIR_DOMAIN_SCHEDULER_GLOBAL_QUOTA, VIR_TYPED_PARAM_LLONG},
    {VIR_DOMAIN_SCHEDULER_IOTHREAD_PERIOD, VIR_TYPED_PARAM_ULLONG},
    {VIR_DOMAIN_SCHEDULER_IOTHREAD_QUOTA, VIR_TYPED_PARAM_LLONG},
};
/* The name of each in the TUNABLE event. */
static const char *const sched_tunables[QEMU_TUNE_SCHED_NPARAMS] = {
    VIR_DOMAIN_TUNABLE_CPU_CPU_SHARES,      VIR_DOMAIN_TUNABLE_CPU_VCPU_PERIOD,
    VIR_DOMAIN_TUNABLE_CPU_VCPU_QUOTA,      VIR_DOMAIN_TUNABLE_CPU_EMULATOR_PERIOD,
    VIR_DOMAIN_TUNABLE_CPU_EMULATOR_QUOTA,  VIR_DOMAIN_TUNABLE_CPU_GLOBAL_PERIOD,
    VIR_DOMAIN_TUNABLE_CPU_GLOBAL_QUOTA,    VIR_DOMAIN_TUNABLE_CPU_IOTHREAD_PERIOD,
    VIR_DOMAIN_TUNABLE_CPU_IOTHREAD_QUOTA,
};
static const DomainCputuneField sched_def_fields[QEMU_TUNE_SCHED_NPARAMS] = {
    DOMAIN_CPUTUNE_SHARES,          DOMAIN_CPUTUNE_PERIOD,          DOMAIN_CPUTUNE_QUOTA,
    DOMAIN_CPUTUNE_EMULATOR_PERIOD, DOMAIN_CPUTUNE_EMULATOR_QUOTA,  DOMAIN_CPUTUNE_GLOBAL_PERIOD,
    DOMAIN_CPUTUNE_GLOBAL_QUOTA,    DOMAIN_CPUTUNE_IOTHREAD_PERIOD, DOMAIN_CPUTUNE_IOTHREAD_QUOTA,
};

/* The memory parameters: libvirt's three, then min_guarantee; all KiB. */
static const DomainParamSpec mem_spec[DOMAIN_MEMTUNE_LAST] = {
    {VIR_DOMAIN_MEMORY_HARD_LIMIT, VIR_TYPED_PARAM_ULLONG},
    {VIR_DOMAIN_MEMORY_SOFT_LIMIT, VIR_TYPED_PARAM_ULLONG},
    {VIR_DOMAIN_MEMORY_SWAP_HARD_LIMIT, VIR_TYPED_PARAM_ULLONG},
    {VIR_DOMAIN_MEMORY_MIN_GUARANTEE, VIR_TYPED_PARAM_ULLONG},
};
static const DomainMemtuneField mem_def_fields[DOMAIN_MEMTUNE_LAST] = {
    DOMAIN_MEMTUNE_HARD_LIMIT, DOMAIN_MEMTUNE_SOFT_LIMIT, DOMAIN_MEMTUNE_SWAP_HARD_LIMIT,
    DOMAIN_MEMTUNE_MIN_GUARANTEE,
};

/* Per-device blkio parameters by DOMAIN_BLKIO_DEV_* (libvirt's order) and the name of
 * the limit in cgroup.h. */
static const struct {
    const char *field;
    const char *cgroup_limit;
} blkio_dev_params[DOMAIN_BLKIO_DEV_LAST] = {
    [DOMAIN_BLKIO_DEV_WEIGHT] = {VIR_DOMAIN_BLKIO_DEVICE_WEIGHT, NULL},
    [DOMAIN_BLKIO_DEV_READ_IOPS_SEC] = {VIR_DOMAIN_BLKIO_DEVICE_READ_IOPS, "read_iops"},
    [DOMAIN_BLKIO_DEV_WRITE_IOPS_SEC] = {VIR_DOMAIN_BLKIO_DEVICE_WRITE_IOPS, "write_iops"},
    [DOMAIN_BLKIO_DEV_READ_BYTES_SEC] = {VIR_DOMAIN_BLKIO_DEVICE_READ_BPS, "read_bps"},
    [DOMAIN_BLKIO_DEV_WRITE_BYTES_SEC] = {VIR_DOMAIN_BLKIO_DEVICE_WRITE_BPS, "write_bps"},
};

static const DomainParamSpec blkio_spec[] = {
    {VIR_DOMAIN_BLKIO_WEIGHT, VIR_TYPED_PARAM_UINT},
    {VIR_DOMAIN_BLKIO_DEVICE_WEIGHT, VIR_TYPED_PARAM_STRING},
    {VIR_DOMAIN_BLKIO_DEVICE_READ_IOPS, VIR_TYPED_PARAM_STRING},
    {VIR_DOMAIN_BLKIO_DEVICE_WRITE_IOPS, VIR_TYPED_PARAM_STRING},
    {VIR_DOMAIN_BLKIO_DEVICE_READ_BPS, VIR_TYPED_PARAM_STRING},
    {VIR_DOMAIN_BLKIO_DEVICE_WRITE_BPS, VIR_TYPED_PARAM_STRING},
};

static void
set_string(char **slot, char *value)
{
    g_free(*slot);
    *slot = value;
}

static guint64
def_u64(const char *text, guint64 fallback)
{
    return text ? g_ascii_strtoull(text, NULL, 10) : fallback;
}

static gint64
param_number(const DomainTypedParam *p)
{
    return p->type == VIR_TYPED_PARAM_LLONG ? p->value.l : (gint64)p->value.ul;
}

int
qemu_tune_sched_field(const char *field)
{
    for (int i = 0; i < QEMU_TUNE_SCHED_NPARAMS; i++) {
        if (g_str_equal(sched_spec[i].field, field))
            return sched_def_fields[i];
    }
    return -1;
}

static gboolean
out_of_range(const char *field, const char *value, const char *range, GError **error)
{
    virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                   _("value %s of parameter '%s' is out of range: %s"), value, field, range);
    return FALSE;
}

gboolean
qemu_tune_sched_check(GArray *params, CgroupMode mode, GError **error)
{
    if (!domain_params_validate(params, sched_spec, G_N_ELEMENTS(sched_spec), error))
        return FALSE;
    for (guint i = 0; i < params->len; i++) {
        const DomainTypedParam *p = &g_array_index(params, DomainTypedParam, i);
        int f = qemu_tune_sched_field(p->field);
        g_autofree char *text = p->type == VIR_TYPED_PARAM_LLONG
                                    ? g_strdup_printf("%" G_GINT64_FORMAT, p->value.l)
                                    : g_strdup_printf("%" G_GUINT64_FORMAT, p->value.ul);
        if (f == DOMAIN_CPUTUNE_SHARES) {
            guint64 min = mode == CGROUP_MODE_V2 ? WEIGHT_V2_MIN : SHARES_V1_MIN;
            guint64 max = mode == CGROUP_MODE_V2 ? WEIGHT_V2_MAX : SHARES_V1_MAX;
            if (p->value.ul < min || p->value.ul > max) {
                g_autofree char *range = g_strdup_printf(
                    "%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT " on cgroup %s", min, max,
                    mode == CGROUP_MODE_V2 ? "v2" : "v1");
                return out_of_range(p->field, text, range, error);
            }
        } else if (p->type == VIR_TYPED_PARAM_ULLONG) { /* a period */
            if (p->value.ul != 0 && (p->value.ul < PERIOD_MIN || p->value.ul > PERIOD_MAX))
                return out_of_range(p->field, text, "0 (unset) or 1000-1000000 (us)", error);
        } else { /* a quota */
            gint64 q = p->value.l;
            if (q != 0 && q != -1 && (q < QUOTA_MIN || q > QUOTA_MAX))
                return out_of_range(p->field, text,
                                    "0 (unset), -1 (no limit) or 1000-17592186044415 (us)",
                                    error);
        }
    }
    return TRUE;
}

void
qemu_tune_sched_to_def(DomainDef *def, GArray *params)
{
    for (guint i = 0; i < params->len; i++) {
        const DomainTypedParam *p = &g_array_index(params, DomainTypedParam, i);
        int f = qemu_tune_sched_field(p->field);
        gint64 v = param_number(p);
        if (f < 0)
            continue;
        set_string(&def->cputune[f], v == 0 ? NULL
                                            : p->type == VIR_TYPED_PARAM_LLONG
                                                  ? g_strdup_printf("%" G_GINT64_FORMAT, v)
                                                  : g_strdup_printf("%" G_GUINT64_FORMAT,
                                                                    p->value.ul));
    }
}

GArray *
qemu_tune_sched_tunable(GArray *params)
{
    GArray *out = domain_params_new();
    for (guint i = 0; i < params->len; i++) {
        const DomainTypedParam *p = &g_array_index(params, DomainTypedParam, i);
        for (int k = 0; k < QEMU_TUNE_SCHED_NPARAMS; k++) {
            if (!g_str_equal(sched_spec[k].field, p->field))
                continue;
            /* A period or quota of 0 changes nothing live. */
            if (sched_def_fields[k] == DOMAIN_CPUTUNE_SHARES)
                domain_params_add_ullong(out, sched_tunables[k], p->value.ul);
            else if (p->type == VIR_TYPED_PARAM_LLONG && p->value.l)
                domain_params_add_llong(out, sched_tunables[k], p->value.l);
            else if (p->type == VIR_TYPED_PARAM_ULLONG && p->value.ul)
                domain_params_add_ullong(out, sched_tunables[k], p->value.ul);
        }
    }
    return out;
}

GArray *
qemu_tune_sched_params(const gint64 values[DOMAIN_CPUTUNE_LAST])
{
    GArray *params = domain_params_new();
    for (int i = 0; i < QEMU_TUNE_SCHED_NPARAMS; i++) {
        gint64 v = values[sched_def_fields[i]];
        if (sched_spec[i].type == VIR_TYPED_PARAM_LLONG)
            domain_params_add_llong(params, sched_spec[i].field, v);
        else
            domain_params_add_ullong(params, sched_spec[i].field, (guint64)v);
    }
    return params;
}

void
qemu_tune_sched_from_def(const DomainDef *def, gint64 ret_values[DOMAIN_CPUTUNE_LAST])
{
    for (int i = 0; i < DOMAIN_CPUTUNE_LAST; i++)
        ret_values[i] = def->cputune[i] ? g_ascii_strtoll(def->cputune[i], NULL, 10) : 0;
}

int
qemu_tune_mem_field(const char *field)
{
    for (int i = 0; i < DOMAIN_MEMTUNE_LAST; i++) {
        if (g_str_equal(mem_spec[i].field, field))
            return mem_def_fields[i];
    }
    return -1;
}

gboolean
qemu_tune_mem_check(GArray *params, gboolean live, GError **error)
{
    if (!domain_params_validate(params, mem_spec, G_N_ELEMENTS(mem_spec), error))
        return FALSE;
    if (live && domain_params_find(params, VIR_DOMAIN_MEMORY_MIN_GUARANTEE)) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("parameter 'min_guarantee' cannot be changed live: QEMU/KVM has no "
                         "minimum memory guarantee to set (use --config)"));
        return FALSE;
    }
    return TRUE;
}

static guint64
mem_normalize(guint64 kib)
{
    return kib >= MEM_UNLIMITED ? G_MAXUINT64 : kib;
}

static char *
mem_text(guint64 kib)
{
    return kib == G_MAXUINT64 ? g_strdup("unlimited")
                              : g_strdup_printf("%" G_GUINT64_FORMAT " KiB", kib);
}

gboolean
qemu_tune_mem_merge(GArray *params, const guint64 current[DOMAIN_MEMTUNE_LAST],
                    guint64 ret_values[DOMAIN_MEMTUNE_LAST], GError **error)
{
    guint64 v[DOMAIN_MEMTUNE_LAST];
    for (int i = 0; i < DOMAIN_MEMTUNE_LAST; i++)
        v[i] = mem_normalize(current[i]);
    for (guint i = 0; i < params->len; i++) {
        const DomainTypedParam *p = &g_array_index(params, DomainTypedParam, i);
        int f = qemu_tune_mem_field(p->field);
        if (f >= 0)
            v[f] = mem_normalize(p->value.ul);
    }
    gboolean changes_limits = domain_params_find(params, VIR_DOMAIN_MEMORY_HARD_LIMIT) ||
                              domain_params_find(params, VIR_DOMAIN_MEMORY_SWAP_HARD_LIMIT);
    if (changes_limits && v[DOMAIN_MEMTUNE_HARD_LIMIT] > v[DOMAIN_MEMTUNE_SWAP_HARD_LIMIT]) {
        g_autofree char *hard = mem_text(v[DOMAIN_MEMTUNE_HARD_LIMIT]);
        g_autofree char *swap = mem_text(v[DOMAIN_MEMTUNE_SWAP_HARD_LIMIT]);
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("hard_limit (%s) must not be above swap_hard_limit (%s): the swap "
                         "limit counts memory plus swap"),
                       hard, swap);
        return FALSE;
    }
    memcpy(ret_values, v, sizeof(v));
    return TRUE;
}

gboolean
qemu_tune_mem_swap_first(guint64 old_hard, guint64 new_swap)
{
    /* Raising memory+swap to or above the current memory limit is always allowed; a lower
     * one needs the memory limit lowered first. */
    return mem_normalize(new_swap) >= mem_normalize(old_hard);
}

void
qemu_tune_mem_to_def(DomainDef *def, const guint64 values[DOMAIN_MEMTUNE_LAST])
{
    for (int i = 0; i < DOMAIN_MEMTUNE_LAST; i++) {
        guint64 v = mem_normalize(values[i]);
        gboolean none = v == G_MAXUINT64 || (i == DOMAIN_MEMTUNE_MIN_GUARANTEE && v == 0);
        set_string(&def->memtune[i], none ? NULL : g_strdup_printf("%" G_GUINT64_FORMAT, v));
    }
}

void
qemu_tune_mem_from_def(const DomainDef *def, guint64 ret_values[DOMAIN_MEMTUNE_LAST])
{
    for (int i = 0; i < DOMAIN_MEMTUNE_LAST; i++) {
        guint64 none = i == DOMAIN_MEMTUNE_MIN_GUARANTEE ? 0 : MEM_UNLIMITED;
        ret_values[i] = def_u64(def->memtune[i], none);
    }
}

GArray *
qemu_tune_mem_params(const guint64 values[DOMAIN_MEMTUNE_LAST])
{
    GArray *params = domain_params_new();
    for (int i = 0; i < DOMAIN_MEMTUNE_LAST; i++)
        domain_params_add_ullong(params, mem_spec[i].field,
                                 MIN(values[mem_def_fields[i]], MEM_UNLIMITED));
    return params;
}

int
qemu_tune_blkio_field(const char *field)
{
    for (int i = 0; i < DOMAIN_BLKIO_DEV_LAST; i++) {
        if (g_str_equal(blkio_dev_params[i].field, field))
            return i;
    }
    return -1;
}

static void
blkio_device_clear(gpointer data)
{
    g_free(((QemuTuneBlkioDevice *)data)->path);
}

static gboolean
blkio_weight_check(const char *field, const char *device, guint64 weight, gboolean zero_ok,
                   CgroupMode mode, GError **error)
{
    guint64 min = mode == CGROUP_MODE_V2 ? WEIGHT_V2_MIN : BLKIO_WEIGHT_V1_MIN;
    guint64 max = mode == CGROUP_MODE_V2 ? WEIGHT_V2_MAX : BLKIO_WEIGHT_V1_MAX;
    if ((weight == 0 && zero_ok) || (weight >= min && weight <= max))
        return TRUE;
    g_autofree char *value = device ? g_strdup_printf("%" G_GUINT64_FORMAT " (device '%s')",
                                                      weight, device)
                                    : g_strdup_printf("%" G_GUINT64_FORMAT, weight);
    g_autofree char *range = g_strdup_printf("%s%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
                                             " on cgroup %s",
                                             zero_ok ? "0 (remove) or " : "", min, max,
                                             mode == CGROUP_MODE_V2 ? "v2" : "v1");
    return out_of_range(field, value, range, error);
}

GArray *
qemu_tune_blkio_parse(const char *field, const char *text, CgroupMode mode, GError **error)
{
    g_autoptr(GArray) devices = g_array_new(FALSE, TRUE, sizeof(QemuTuneBlkioDevice));
    g_array_set_clear_func(devices, blkio_device_clear);
    if (!*text)
        return g_steal_pointer(&devices);
    g_auto(GStrv) items = g_strsplit(text, ",", -1);
    guint n = g_strv_length(items);
    for (guint i = 0; i < n; i += 2) {
        const char *path = items[i];
        guint64 value;
        if (!*path || path[0] != '/') {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                           _("parameter '%s': '%s' is not a device path (expected "
                             "'/dev/sda,100,/dev/sdb,200')"),
                           field, path);
            return NULL;
        }
        if (i + 1 >= n || !g_ascii_string_to_unsigned(items[i + 1], 10, 0, G_MAXUINT64,
                                                       &value, NULL)) {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                           _("parameter '%s': device '%s' has no valid value (expected "
                             "'/dev/sda,100,/dev/sdb,200')"),
                           field, path);
            return NULL;
        }
        if (g_str_equal(field, VIR_DOMAIN_BLKIO_DEVICE_WEIGHT) &&
            !blkio_weight_check(field, path, value, TRUE, mode, error))
            return NULL;
        QemuTuneBlkioDevice dev = {.path = g_strdup(path), .value = value};
        g_array_append_val(devices, dev);
    }
    return g_steal_pointer(&devices);
}

gboolean
qemu_tune_blkio_check(GArray *params, CgroupMode mode, GError **error)
{
    if (!domain_params_validate(params, blkio_spec, G_N_ELEMENTS(blkio_spec), error))
        return FALSE;
    for (guint i = 0; i < params->len; i++) {
        const DomainTypedParam *p = &g_array_index(params, DomainTypedParam, i);
        if (p->type == VIR_TYPED_PARAM_UINT) {
            if (!blkio_weight_check(p->field, NULL, p->value.ui, FALSE, mode, error))
                return FALSE;
            continue;
        }
        g_autoptr(GArray) devices = qemu_tune_blkio_parse(p->field, p->value.s, mode, error);
        if (!devices)
            return FALSE;
    }
    return TRUE;
}

static void
blkio_device_free(gpointer data)
{
    DomainBlkioDevice *d = data;
    g_free(d->path);
    for (int i = 0; i < DOMAIN_BLKIO_DEV_LAST; i++)
        g_free(d->fields[i]);
    g_free(d);
}

static DomainBlkioDevice *
def_blkio_device(DomainDef *def, const char *path, guint *ret_index)
{
    for (guint i = 0; i < def->blkio_devices.len; i++) {
        DomainBlkioDevice *d = ptr_vec_index(&def->blkio_devices, i);
        if (g_str_equal(d->path, path)) {
            *ret_index = i;
            return d;
        }
    }
    return NULL;
}

/* Set field @f of device @path in @def to @value (0: remove the field). */
static void
def_blkio_set(DomainDef *def, const char *path, int f, guint64 value)
{
    guint index = 0;
    DomainBlkioDevice *d = def_blkio_device(def, path, &index);
    if (!d) {
        if (value == 0)
            return;
        d = g_new0(DomainBlkioDevice, 1);
        d->path = g_strdup(path);
        ptr_vec_add(&def->blkio_devices, d);
        index = def->blkio_devices.len - 1;
    }
    set_string(&d->fields[f], value ? g_strdup_printf("%" G_GUINT64_FORMAT, value) : NULL);
    for (int i = 0; i < DOMAIN_BLKIO_DEV_LAST; i++) {
        if (d->fields[i])
            return;
    }
    blkio_device_free(ptr_vec_steal(&def->blkio_devices, index));
}

void
qemu_tune_blkio_to_def(DomainDef *def, GArray *params)
{
    for (guint i = 0; i < params->len; i++) {
        const DomainTypedParam *p = &g_array_index(params, DomainTypedParam, i);
        if (p->type == VIR_TYPED_PARAM_UINT) {
            set_string(&def->blkio_weight, g_strdup_printf("%u", p->value.ui));
            continue;
        }
        int f = qemu_tune_blkio_field(p->field);
        /* Checked before: parse with the widest weight range. */
        g_autoptr(GArray) devices =
            f < 0 ? NULL : qemu_tune_blkio_parse(p->field, p->value.s, CGROUP_MODE_V2, NULL);
        for (guint k = 0; devices && k < devices->len; k++) {
            const QemuTuneBlkioDevice *dev = &g_array_index(devices, QemuTuneBlkioDevice, k);
            def_blkio_set(def, dev->path, f, dev->value);
        }
    }
}

GArray *
qemu_tune_blkio_params(unsigned int weight, const PtrVec *devices)
{
    GArray *params = domain_params_new();
    domain_params_add_uint(params, VIR_DOMAIN_BLKIO_WEIGHT, weight);
    for (int f = 0; f < DOMAIN_BLKIO_DEV_LAST; f++) {
        g_autoptr(GString) list = g_string_new(NULL);
        for (guint i = 0; i < devices->len; i++) {
            const DomainBlkioDevice *d = ptr_vec_index(devices, i);
            if (d->fields[f] && def_u64(d->fields[f], 0) != 0)
                g_string_append_printf(list, "%s%s,%s", list->len ? "," : "", d->path,
                                       d->fields[f]);
        }
        domain_params_add_string(params, blkio_dev_params[f].field, list->str);
    }
    return params;
}

/* Whether going from CFS bandwidth (@old_period, @old_quota) to (@new_period, @new_quota)
 * allows at least as much CPU time as before (-1: no limit). */
static gboolean
bandwidth_raises(guint64 old_period, gint64 old_quota, guint64 new_period, gint64 new_quota)
{
    if (new_quota < 0)
        return TRUE;
    if (old_quota < 0)
        return FALSE;
    return (guint64)new_quota * old_period >= (guint64)old_quota * new_period;
}

/* ---------------------------------------------------------------------------------- */
/* The driver calls                                                                    */

static CgroupMode
host_mode(QemuDriver *drv)
{
    /* Without cgroups nothing applies live; a config is checked against v1's ranges. */
    return drv->cgroup_host ? cgroup_host_get_mode(drv->cgroup_host) : CGROUP_MODE_V1;
}

/* Append a copy of @p to @dst. */
static void
params_append(GArray *dst, const DomainTypedParam *p)
{
    switch (p->type) {
    case VIR_TYPED_PARAM_UINT:
        domain_params_add_uint(dst, p->field, p->value.ui);
        break;
    case VIR_TYPED_PARAM_LLONG:
        domain_params_add_llong(dst, p->field, p->value.l);
        break;
    case VIR_TYPED_PARAM_ULLONG:
        domain_params_add_ullong(dst, p->field, p->value.ul);
        break;
    case VIR_TYPED_PARAM_STRING:
        domain_params_add_string(dst, p->field, p->value.s);
        break;
    default:
        g_assert_not_reached();
    }
}

/* Acquire the domain of a get call and resolve @flags into LIVE or CONFIG. */
static QemuDomainLocked *
get_begin(QemuDriver *drv, const unsigned char *uuid, unsigned int *flags, GError **error)
{
    if (!qemu_driver_check_flags(*flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG,
                                 error) ||
        !qemu_check_live_config_exclusive(*flags, error))
        return NULL;
    QemuDomainLocked *dom = qemu_driver_acquire(drv, uuid, error);
    if (dom && !qemu_domain_resolve_impact(dom, flags, error))
        g_clear_pointer(&dom, qemu_domain_release);
    return dom;
}

/* A set call: the domain's job taken, flags resolved, @check run for the resolved flags;
 * then @live and @config (each optional) and the status file after a live change. */
typedef gboolean (*TuneCheck)(QemuDriver *drv, GArray *params, gboolean live, GError **error);
typedef gboolean (*TuneLive)(QemuDriver *drv, QemuDomain *dom, GArray *params,
                             GError **error);
typedef gboolean (*TuneConfig)(QemuDriver *drv, DomainDef *def, GArray *params,
                               GError **error);
/* The parameters of the TUNABLE event of a live change (none when empty). */
typedef GArray *(*TuneEvent)(GArray *params);

static gboolean
tune_set(VirtDriver *vdrv, const unsigned char *uuid, GArray *params, unsigned int flags,
         TuneCheck check, TuneLive live, TuneConfig config, TuneEvent event, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    if (!qemu_driver_check_flags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG,
                                 error))
        return FALSE;
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom || !qemu_job_begin(dom, "tune", error))
        return FALSE;
    gboolean ok = qemu_domain_resolve_impact(dom, &flags, error) &&
                  check(drv, params, flags & VIR_DOMAIN_AFFECT_LIVE, error);
    /* The config's copy is changed first: what it refuses must not apply live. */
    g_autoptr(DomainDef) def = NULL;
    if (ok && params->len && (flags & VIR_DOMAIN_AFFECT_CONFIG)) {
        def = domain_def_copy(qemu_domain_persistent_def(dom));
        ok = config(drv, def, params, error);
    }
    g_autoptr(GPtrArray) events = qemu_events_new();
    if (ok && params->len && (flags & VIR_DOMAIN_AFFECT_LIVE)) {
        ok = live(drv, dom, params, error);
        qemu_run_save_status(drv, dom); /* also what applied before a failure */
        g_autoptr(GArray) changed = ok && event ? event(params) : NULL;
        if (changed && changed->len)
            qemu_events_add_tunable(events, dom, g_steal_pointer(&changed));
    }
    if (ok && def)
        ok = qemu_driver_commit_config(drv, dom, g_steal_pointer(&def), error);
    qemu_job_end(dom);
    /* Like libvirtd: the live change is announced even when saving the config failed. */
    g_clear_pointer(&dom, qemu_domain_release);
    qemu_driver_emit(drv, events);
    return ok;
}

/* ---- schedinfo ---- */

static char *
qemu_tune_domain_get_scheduler_type(VirtDriver *vdrv, const unsigned char *uuid,
                                    int *ret_nparams, GError **error)
{
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(qemu_driver_cast(vdrv), uuid, error);
    if (!dom)
        return NULL;
    *ret_nparams = QEMU_TUNE_SCHED_NPARAMS;
    return g_strdup("posix");
}

static gboolean
read_bandwidth(Cgroup *group, gint64 *ret_period, gint64 *ret_quota, GError **error)
{
    guint64 period;
    gint64 quota;
    if (!group || !cgroup_get_cpu_bandwidth(group, &period, &quota, error))
        return FALSE;
    *ret_period = (gint64)period;
    *ret_quota = quota;
    return TRUE;
}

static GArray *
qemu_tune_domain_get_scheduler_params(VirtDriver *vdrv, const unsigned char *uuid,
                                      unsigned int flags, GError **error)
{
    g_autoptr(QemuDomainLocked) dom = get_begin(qemu_driver_cast(vdrv), uuid, &flags, error);
    if (!dom)
        return NULL;
    gint64 v[DOMAIN_CPUTUNE_LAST];
    if (flags & VIR_DOMAIN_AFFECT_CONFIG) {
        qemu_tune_sched_from_def(qemu_domain_persistent_def(dom), v);
        return qemu_tune_sched_params(v);
    }
    qemu_tune_sched_from_def(dom->def, v); /* the iothread values live only there */
    Cgroup *vm = qemu_cgroup_get(dom, error);
    guint64 shares;
    if (!vm || !cgroup_get_cpu_shares(vm, &shares, error) ||
        !read_bandwidth(qemu_cgroup_get_vcpu(dom, 0, error), &v[DOMAIN_CPUTUNE_PERIOD],
                        &v[DOMAIN_CPUTUNE_QUOTA], error) ||
        !read_bandwidth(qemu_cgroup_get_emulator(dom, error),
                        &v[DOMAIN_CPUTUNE_EMULATOR_PERIOD], &v[DOMAIN_CPUTUNE_EMULATOR_QUOTA],
                        error) ||
        !read_bandwidth(vm, &v[DOMAIN_CPUTUNE_GLOBAL_PERIOD], &v[DOMAIN_CPUTUNE_GLOBAL_QUOTA],
                        error))
        return NULL;
    v[DOMAIN_CPUTUNE_SHARES] = (gint64)shares;
    return qemu_tune_sched_params(v);
}

static gboolean
sched_check(QemuDriver *drv, GArray *params, gboolean live, GError **error)
{
    (void)live;
    return qemu_tune_sched_check(params, host_mode(drv), error);
}

/* The parameters named @period and @quota of @params whose value is not 0 (0 leaves a
 * running domain's value as it is), in a new list. */
static GArray *
bandwidth_params(GArray *params, const char *period, const char *quota)
{
    GArray *out = domain_params_new();
    const DomainTypedParam *p = domain_params_find(params, period);
    const DomainTypedParam *q = domain_params_find(params, quota);
    if (p && p->value.ul)
        params_append(out, p);
    if (q && q->value.l)
        params_append(out, q);
    return out;
}

/* Apply @change (a period and/or a quota) to @group over what it holds now. */
static gboolean
apply_bandwidth(Cgroup *group, GArray *change, GError **error)
{
    guint64 period;
    gint64 quota;
    if (!group || !cgroup_get_cpu_bandwidth(group, &period, &quota, error))
        return FALSE;
    for (guint i = 0; i < change->len; i++) {
        const DomainTypedParam *p = &g_array_index(change, DomainTypedParam, i);
        if (p->type == VIR_TYPED_PARAM_ULLONG)
            period = p->value.ul;
        else
            quota = p->value.l;
    }
    return cgroup_set_cpu_bandwidth(group, period, quota, error);
}

/* Whether vCPU @vcpu of @dom runs (its thread is known; without any known thread, the
 * first vcpus_current). */
static gboolean
vcpu_online(QemuDomain *dom, unsigned int vcpu)
{
    if (dom->vcpu_tids && dom->vcpu_tids->len)
        return qemu_cgroup_vcpu_tid(dom, vcpu) != 0;
    return vcpu < dom->def->vcpus_current;
}

static gboolean
sched_live_vcpus(QemuDomain *dom, GArray *change, GError **error)
{
    for (unsigned int i = 0; i < dom->def->vcpus_max; i++) {
        if (vcpu_online(dom, i) && !apply_bandwidth(qemu_cgroup_get_vcpu(dom, i, error),
                                                    change, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
sched_live(QemuDriver *drv, QemuDomain *dom, GArray *params, GError **error)
{
    (void)drv;
    Cgroup *vm = qemu_cgroup_get(dom, error);
    if (!vm)
        return FALSE;
    const DomainTypedParam *shares = domain_params_find(params,
                                                        VIR_DOMAIN_SCHEDULER_CPU_SHARES);
    if (shares) {
        guint64 now;
        if (!cgroup_set_cpu_shares(vm, shares->value.ul, error) ||
            !cgroup_get_cpu_shares(vm, &now, error))
            return FALSE;
        /* what the kernel took */
        set_string(&dom->def->cputune[DOMAIN_CPUTUNE_SHARES],
                   g_strdup_printf("%" G_GUINT64_FORMAT, now));
    }

    g_autoptr(GArray) global = bandwidth_params(params, VIR_DOMAIN_SCHEDULER_GLOBAL_PERIOD,
                                                VIR_DOMAIN_SCHEDULER_GLOBAL_QUOTA);
    g_autoptr(GArray) vcpus = bandwidth_params(params, VIR_DOMAIN_SCHEDULER_VCPU_PERIOD,
                                               VIR_DOMAIN_SCHEDULER_VCPU_QUOTA);
    g_autoptr(GArray) emulator = bandwidth_params(params, VIR_DOMAIN_SCHEDULER_EMULATOR_PERIOD,
                                                  VIR_DOMAIN_SCHEDULER_EMULATOR_QUOTA);
    g_autoptr(GArray) iothreads = bandwidth_params(params,
                                                   VIR_DOMAIN_SCHEDULER_IOTHREAD_PERIOD,
                                                   VIR_DOMAIN_SCHEDULER_IOTHREAD_QUOTA);

    /* On v1 a sub-group may not get more CPU time than the VM's group: a VM limit that
     * grows goes first, one that shrinks after the vCPUs and emulator. */
    gboolean global_first = TRUE;
    if (global->len) {
        guint64 period, new_period;
        gint64 quota, new_quota;
        if (!cgroup_get_cpu_bandwidth(vm, &period, &quota, error))
            return FALSE;
        const DomainTypedParam *p = domain_params_find(global,
                                                       VIR_DOMAIN_SCHEDULER_GLOBAL_PERIOD);
        const DomainTypedParam *q = domain_params_find(global,
                                                       VIR_DOMAIN_SCHEDULER_GLOBAL_QUOTA);
        new_period = p ? p->value.ul : period;
        new_quota = q ? q->value.l : quota;
        global_first = bandwidth_raises(period, quota, new_period, new_quota);
    }
    if (global->len && global_first) {
        if (!apply_bandwidth(vm, global, error))
            return FALSE;
        qemu_tune_sched_to_def(dom->def, global);
    }
    if (vcpus->len) {
        if (!sched_live_vcpus(dom, vcpus, error))
            return FALSE;
        qemu_tune_sched_to_def(dom->def, vcpus);
    }
    if (emulator->len) {
        if (!apply_bandwidth(qemu_cgroup_get_emulator(dom, error), emulator, error))
            return FALSE;
        qemu_tune_sched_to_def(dom->def, emulator);
    }
    if (global->len && !global_first) {
        if (!apply_bandwidth(vm, global, error))
            return FALSE;
        qemu_tune_sched_to_def(dom->def, global);
    }
    if (iothreads->len) {
        g_autoptr(DomainDef) changed = domain_def_copy(dom->def);
        qemu_tune_sched_to_def(changed, iothreads);
        guint64 n = def_u64(dom->def->iothreads, 0);
        for (unsigned int id = 1; id <= n; id++) {
            if (!qemu_cgroup_iothread_bandwidth(dom, changed, id, error))
                return FALSE;
        }
        qemu_tune_sched_to_def(dom->def, iothreads);
    }
    return TRUE;
}

static gboolean
sched_config(QemuDriver *drv, DomainDef *def, GArray *params, GError **error)
{
    (void)drv;
    (void)error;
    qemu_tune_sched_to_def(def, params);
    return TRUE;
}

static gboolean
qemu_tune_domain_set_scheduler_params(VirtDriver *vdrv, const unsigned char *uuid,
                                      GArray *params, unsigned int flags, GError **error)
{
    return tune_set(vdrv, uuid, params, flags, sched_check, sched_live, sched_config,
                    qemu_tune_sched_tunable, error);
}

/* ---- memtune ---- */

static gboolean
mem_read_live(QemuDomain *dom, guint64 v[DOMAIN_MEMTUNE_LAST], GError **error)
{
    qemu_tune_mem_from_def(dom->def, v); /* min_guarantee lives only there */
    Cgroup *vm = qemu_cgroup_get(dom, error);
    return vm && cgroup_get_memory_hard_limit(vm, &v[DOMAIN_MEMTUNE_HARD_LIMIT], error) &&
           cgroup_get_memory_soft_limit(vm, &v[DOMAIN_MEMTUNE_SOFT_LIMIT], error) &&
           cgroup_get_memory_swap_hard_limit(vm, &v[DOMAIN_MEMTUNE_SWAP_HARD_LIMIT], error);
}

static GArray *
qemu_tune_domain_get_memory_params(VirtDriver *vdrv, const unsigned char *uuid,
                                   unsigned int flags, GError **error)
{
    g_autoptr(QemuDomainLocked) dom = get_begin(qemu_driver_cast(vdrv), uuid, &flags, error);
    if (!dom)
        return NULL;
    guint64 v[DOMAIN_MEMTUNE_LAST];
    if (flags & VIR_DOMAIN_AFFECT_CONFIG)
        qemu_tune_mem_from_def(qemu_domain_persistent_def(dom), v);
    else if (!mem_read_live(dom, v, error))
        return NULL;
    return qemu_tune_mem_params(v);
}

static gboolean
mem_check(QemuDriver *drv, GArray *params, gboolean live, GError **error)
{
    (void)drv;
    return qemu_tune_mem_check(params, live, error);
}

/* Write limit @f of @values into @vm and the live definition, when @params sets it. */
static gboolean
mem_apply(QemuDomain *dom, Cgroup *vm, GArray *params, DomainMemtuneField f,
          const guint64 values[DOMAIN_MEMTUNE_LAST], GError **error)
{
    static const char *const fields[DOMAIN_MEMTUNE_LAST] = {
        [DOMAIN_MEMTUNE_HARD_LIMIT] = VIR_DOMAIN_MEMORY_HARD_LIMIT,
        [DOMAIN_MEMTUNE_SOFT_LIMIT] = VIR_DOMAIN_MEMORY_SOFT_LIMIT,
        [DOMAIN_MEMTUNE_SWAP_HARD_LIMIT] = VIR_DOMAIN_MEMORY_SWAP_HARD_LIMIT,
    };
    if (!domain_params_find(params, fields[f]))
        return TRUE;
    gboolean ok = f == DOMAIN_MEMTUNE_HARD_LIMIT
                      ? cgroup_set_memory_hard_limit(vm, values[f], error)
                  : f == DOMAIN_MEMTUNE_SOFT_LIMIT
                      ? cgroup_set_memory_soft_limit(vm, values[f], error)
                      : cgroup_set_memory_swap_hard_limit(vm, values[f], error);
    if (!ok) {
        g_autofree char *value = mem_text(mem_normalize(values[f]));
        g_prefix_error(error, _("cannot set %s of domain '%s' to %s: "), fields[f],
                       qemu_domain_name(dom), value);
        return FALSE;
    }
    guint64 def_values[DOMAIN_MEMTUNE_LAST];
    qemu_tune_mem_from_def(dom->def, def_values);
    def_values[f] = values[f];
    qemu_tune_mem_to_def(dom->def, def_values);
    return TRUE;
}

static gboolean
mem_live(QemuDriver *drv, QemuDomain *dom, GArray *params, GError **error)
{
    (void)drv;
    guint64 now[DOMAIN_MEMTUNE_LAST], v[DOMAIN_MEMTUNE_LAST];
    if (!mem_read_live(dom, now, error) || !qemu_tune_mem_merge(params, now, v, error))
        return FALSE;
    Cgroup *vm = dom->cgroup;
    gboolean swap_first =
        qemu_tune_mem_swap_first(now[DOMAIN_MEMTUNE_HARD_LIMIT],
                                 v[DOMAIN_MEMTUNE_SWAP_HARD_LIMIT]);
    if (swap_first && !mem_apply(dom, vm, params, DOMAIN_MEMTUNE_SWAP_HARD_LIMIT, v, error))
        return FALSE;
    return mem_apply(dom, vm, params, DOMAIN_MEMTUNE_HARD_LIMIT, v, error) &&
           (swap_first || mem_apply(dom, vm, params, DOMAIN_MEMTUNE_SWAP_HARD_LIMIT, v, error)) &&
           mem_apply(dom, vm, params, DOMAIN_MEMTUNE_SOFT_LIMIT, v, error);
}

static gboolean
mem_config(QemuDriver *drv, DomainDef *def, GArray *params, GError **error)
{
    (void)drv;
    guint64 now[DOMAIN_MEMTUNE_LAST], v[DOMAIN_MEMTUNE_LAST];
    qemu_tune_mem_from_def(def, now);
    if (!qemu_tune_mem_merge(params, now, v, error))
        return FALSE;
    qemu_tune_mem_to_def(def, v);
    return TRUE;
}

static gboolean
qemu_tune_domain_set_memory_params(VirtDriver *vdrv, const unsigned char *uuid,
                                   GArray *params, unsigned int flags, GError **error)
{
    /* libvirtd sends no TUNABLE event for memtune */
    return tune_set(vdrv, uuid, params, flags, mem_check, mem_live, mem_config, NULL, error);
}

/* ---- blkiotune ---- */

/* What the kernel holds for device @path (one the live definition names). */
static DomainBlkioDevice *
blkio_read_device(Cgroup *vm, const char *path, GError **error)
{
    g_autoptr(GPtrArray) holder = g_ptr_array_new_with_free_func(blkio_device_free);
    DomainBlkioDevice *d = g_new0(DomainBlkioDevice, 1);
    g_ptr_array_add(holder, d);
    d->path = g_strdup(path);
    for (int f = 0; f < DOMAIN_BLKIO_DEV_LAST; f++) {
        g_autoptr(GError) local = NULL;
        guint64 value = 0;
        if (f == DOMAIN_BLKIO_DEV_WEIGHT) {
            unsigned int weight = 0;
            if (!cgroup_get_blkio_device_weight(vm, path, &weight, &local) &&
                !virt_error_is(local, VIR_ERR_OPERATION_UNSUPPORTED)) {
                g_propagate_error(error, g_steal_pointer(&local));
                return NULL;
            }
            value = weight;
        } else if (!cgroup_get_blkio_device_limit(vm, path, blkio_dev_params[f].cgroup_limit,
                                                  &value, error)) {
            return NULL;
        }
        if (value)
            d->fields[f] = g_strdup_printf("%" G_GUINT64_FORMAT, value);
    }
    return g_ptr_array_steal_index(holder, 0);
}

static GArray *
blkio_read_live(QemuDomain *dom, GError **error)
{
    Cgroup *vm = qemu_cgroup_get(dom, error);
    if (!vm)
        return NULL;
    unsigned int weight = 0;
    g_autoptr(GError) local = NULL;
    /* An I/O scheduler without weights has none to report. */
    if (!cgroup_get_blkio_weight(vm, &weight, &local) &&
        !virt_error_is(local, VIR_ERR_OPERATION_UNSUPPORTED)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    PtrVec devices = {0};
    for (guint i = 0; i < dom->def->blkio_devices.len; i++) {
        const DomainBlkioDevice *d = ptr_vec_index(&dom->def->blkio_devices, i);
        g_autoptr(GError) dev_error = NULL;
        DomainBlkioDevice *now = blkio_read_device(vm, d->path, &dev_error);
        if (!now) { /* e.g. the device went away: report the others */
            g_warning("domain '%s': %s", qemu_domain_name(dom), dev_error->message);
            continue;
        }
        ptr_vec_add(&devices, now);
    }
    GArray *params = qemu_tune_blkio_params(weight, &devices);
    ptr_vec_clear(&devices, blkio_device_free);
    return params;
}

static GArray *
qemu_tune_domain_get_blkio_params(VirtDriver *vdrv, const unsigned char *uuid,
                                  unsigned int flags, GError **error)
{
    g_autoptr(QemuDomainLocked) dom = get_begin(qemu_driver_cast(vdrv), uuid, &flags, error);
    if (!dom)
        return NULL;
    if (!(flags & VIR_DOMAIN_AFFECT_CONFIG))
        return blkio_read_live(dom, error);
    const DomainDef *def = qemu_domain_persistent_def(dom);
    return qemu_tune_blkio_params(def_u64(def->blkio_weight, 0), &def->blkio_devices);
}

static gboolean
blkio_check(QemuDriver *drv, GArray *params, gboolean live, GError **error)
{
    (void)live;
    return qemu_tune_blkio_check(params, host_mode(drv), error);
}

/* Apply the per-device list @p to @vm, each device that took its value also to the live
 * definition. */
static gboolean
blkio_live_devices(QemuDomain *dom, Cgroup *vm, const DomainTypedParam *p, GError **error)
{
    int f = qemu_tune_blkio_field(p->field);
    g_autoptr(GArray) devices = qemu_tune_blkio_parse(p->field, p->value.s, CGROUP_MODE_V2,
                                                      error);
    for (guint k = 0; devices && k < devices->len; k++) {
        const QemuTuneBlkioDevice *dev = &g_array_index(devices, QemuTuneBlkioDevice, k);
        gboolean ok = f == DOMAIN_BLKIO_DEV_WEIGHT
                          ? cgroup_set_blkio_device_weight(vm, dev->path, dev->value, error)
                          : cgroup_set_blkio_device_limit(vm, dev->path,
                                                          blkio_dev_params[f].cgroup_limit,
                                                          dev->value, error);
        if (!ok) {
            g_prefix_error(error, _("cannot set %s of device '%s': "), p->field, dev->path);
            return FALSE;
        }
        def_blkio_set(dom->def, dev->path, f, dev->value);
    }
    return devices != NULL;
}

static gboolean
blkio_live(QemuDriver *drv, QemuDomain *dom, GArray *params, GError **error)
{
    (void)drv;
    Cgroup *vm = qemu_cgroup_get(dom, error);
    if (!vm)
        return FALSE;
    for (guint i = 0; i < params->len; i++) {
        const DomainTypedParam *p = &g_array_index(params, DomainTypedParam, i);
        if (p->type == VIR_TYPED_PARAM_UINT) {
            if (!cgroup_set_blkio_weight(vm, p->value.ui, error))
                return FALSE;
            set_string(&dom->def->blkio_weight, g_strdup_printf("%u", p->value.ui));
        } else if (!blkio_live_devices(dom, vm, p, error)) {
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
blkio_config(QemuDriver *drv, DomainDef *def, GArray *params, GError **error)
{
    (void)drv;
    (void)error;
    qemu_tune_blkio_to_def(def, params);
    return TRUE;
}

static gboolean
qemu_tune_domain_set_blkio_params(VirtDriver *vdrv, const unsigned char *uuid,
                                  GArray *params, unsigned int flags, GError **error)
{
    /* nor for blkiotune */
    return tune_set(vdrv, uuid, params, flags, blkio_check, blkio_live, blkio_config, NULL,
                    error);
}

void
qemu_tune_fill_vtable(VirtDriver *vt)
{
    vt->domain_get_scheduler_type = qemu_tune_domain_get_scheduler_type;
    vt->domain_get_scheduler_params = qemu_tune_domain_get_scheduler_params;
    vt->domain_set_scheduler_params = qemu_tune_domain_set_scheduler_params;
    vt->domain_get_memory_params = qemu_tune_domain_get_memory_params;
    vt->domain_set_memory_params = qemu_tune_domain_set_memory_params;
    vt->domain_get_blkio_params = qemu_tune_domain_get_blkio_params;
    vt->domain_set_blkio_params = qemu_tune_domain_set_blkio_params;
}
