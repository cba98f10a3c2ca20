/* cgroup v2 backend: one unified hierarchy. Controllers reach a group only when every
 * ancestor lists them in cgroup.subtree_control. The VM's group is a threaded domain: its
 * sub-groups (emulator, vcpuN, iothreadN) are "threaded" so single threads can move, which
 * allows only the threaded controllers (cpu, cpuset) below it; memory and io limits apply
 * to the VM's group as a whole. */
#include <string.h>

#include "daemon/util/virt-error.h"
#include "drivers/host/cgroup-priv.h"

/* A value this big in memory.max and friends can only mean "no limit". */
#define V2_MEMORY_UNLIMITED_BYTES (G_GUINT64_CONSTANT(1) << 62)

/* Controllers enabled down to the VM's group, and below it. */
static const char *const machine_controllers[] = { "cpu", "cpuset", "memory", "io", NULL };
static const char *const thread_controllers[] = { "cpu", "cpuset", NULL };

static const char *const memory_files[CGROUP_MEMORY_LAST] = {
    [CGROUP_MEMORY_HARD] = "memory.max",
    [CGROUP_MEMORY_SOFT] = "memory.high",
    [CGROUP_MEMORY_SWAP] = "memory.swap.max",
};

static const char *const io_max_keys[CGROUP_BLKIO_LAST] = {
    [CGROUP_BLKIO_READ_BPS] = "rbps",
    [CGROUP_BLKIO_WRITE_BPS] = "wbps",
    [CGROUP_BLKIO_READ_IOPS] = "riops",
    [CGROUP_BLKIO_WRITE_IOPS] = "wiops",
};

static gboolean
name_listed(const char *list, const char *name)
{
    g_auto(GStrv) names = g_strsplit_set(list, " \n", -1);

    return g_strv_contains((const char *const *)names, name);
}

/* The controllers a group has, from its own cgroup.controllers (plus cpuacct: cpu.stat is
 * in every group). */
static gboolean
v2_group_controllers(Cgroup *group, guint mask, GError **error)
{
    g_autofree char *dir = cgroup_dir(group, CGROUP_CONTROLLER_CPU);
    g_autofree char *text = NULL;
    g_auto(GStrv) names = NULL;

    if (!cgroup_read(dir, "cgroup.controllers", &text, error))
        return FALSE;
    names = g_strsplit_set(text, " \n", -1);
    group->controllers = CGROUP_BIT(CGROUP_CONTROLLER_CPUACCT);
    for (char **name = names; *name; name++) {
        int c = cgroup_controller_from_string(*name);

        /* "blkio" is no v2 name; "io" maps to it */
        if (c >= 0 && !g_str_equal(*name, "blkio") && (mask & CGROUP_BIT(c)))
            group->controllers |= CGROUP_BIT(c);
    }
    return TRUE;
}

/* Enable in @dir's cgroup.subtree_control every controller of @wanted that @dir has and
 * has not enabled yet, one write each so that the error names the one refused. */
static gboolean
v2_enable_controllers(CgroupHost *host, const char *dir, const char *const *wanted, GError **error)
{
    g_autofree char *available = NULL;
    g_autofree char *enabled = NULL;

    if (!cgroup_read(dir, "cgroup.controllers", &available, error) ||
        !cgroup_read(dir, "cgroup.subtree_control", &enabled, error))
        return FALSE;
    for (const char *const *name = wanted; *name; name++) {
        g_autofree char *text = NULL;

        if (!name_listed(available, *name) || name_listed(enabled, *name))
            continue;
        text = g_strconcat("+", *name, NULL);
        if (!cgroup_write(host, dir, "cgroup.subtree_control", text, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
v2_make_machine(Cgroup *group, gboolean existing_only, GError **error)
{
    g_autofree char *vm_dir = cgroup_dir(group, CGROUP_CONTROLLER_CPU);
    g_auto(GStrv) parts = g_strsplit(group->path + 1, "/", -1);
    g_autofree char *dir = g_strdup(group->host->unified);
    guint n = g_strv_length(parts);
    gboolean made = FALSE;

    if (existing_only) {
        if (!g_file_test(vm_dir, G_FILE_TEST_IS_DIR)) {
            virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_OPERATION_FAILED,
                           _("cgroup '%s' does not exist"), group->path);
            return FALSE;
        }
        return v2_group_controllers(group, ~0u, error);
    }

    /* from the hierarchy's root down to the partition: enable, then descend */
    for (guint i = 0; i < n; i++) {
        char *next;

        if (!v2_enable_controllers(group->host, dir, machine_controllers, error))
            goto fail;
        next = g_build_filename(dir, parts[i], NULL);
        g_free(dir);
        dir = next;
        if (i + 1 == n) {
            if (!cgroup_make_dir(group->host, dir, &made, error))
                goto fail;
        } else if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
            if (i > 0 || !g_str_equal(parts[i], "machine")) {
                g_autofree char *partition = g_path_get_dirname(group->path);

                virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_OPERATION_FAILED,
                               _("resource partition '%s' does not exist: '%s' is missing"),
                               partition, dir);
                goto fail;
            }
            if (!cgroup_make_dir(group->host, dir, NULL, error))
                goto fail;
        }
    }
    if (!v2_group_controllers(group, ~0u, error))
        goto fail;
    return TRUE;

fail:
    if (made)
        cgroup_remove_dir(group->host, vm_dir, NULL);
    return FALSE;
}

static gboolean
v2_make_child(Cgroup *parent, Cgroup *child, GError **error)
{
    g_autofree char *parent_dir = cgroup_dir(parent, CGROUP_CONTROLLER_CPU);
    g_autofree char *dir = cgroup_dir(child, CGROUP_CONTROLLER_CPU);
    g_autofree char *type = NULL;

    /* threaded controllers only, or the parent could not be the threaded domain */
    if (!v2_enable_controllers(child->host, parent_dir, thread_controllers, error) ||
        !cgroup_make_dir(child->host, dir, NULL, error) ||
        !cgroup_read(dir, "cgroup.type", &type, error))
        return FALSE;
    if (!g_str_equal(type, "threaded") &&
        !cgroup_write(child->host, dir, "cgroup.type", "threaded", error))
        return FALSE;
    return v2_group_controllers(child,
                                CGROUP_BIT(CGROUP_CONTROLLER_CPU) |
                                    CGROUP_BIT(CGROUP_CONTROLLER_CPUSET),
                                error);
}

static gboolean
v2_add_task(Cgroup *group, pid_t id, gboolean thread, GError **error)
{
    g_autofree char *dir = cgroup_dir(group, CGROUP_CONTROLLER_CPU);
    g_autoptr(GArray) threads = NULL;

    if (thread || !group->thread) {
        g_autofree char *text = g_strdup_printf("%d", id);

        return cgroup_write(group->host, dir, thread ? "cgroup.threads" : "cgroup.procs", text, error);
    }
    /* a threaded group refuses cgroup.procs: the process moves thread by thread */
    if (!(threads = cgroup_process_threads(id, error)))
        return FALSE;
    return cgroup_write_ids(group->host, dir, "cgroup.threads", threads, error);
}

static gboolean
v2_move_tasks(Cgroup *from, Cgroup *to, GError **error)
{
    g_autofree char *from_dir = cgroup_dir(from, CGROUP_CONTROLLER_CPU);
    g_autofree char *to_dir = cgroup_dir(to, CGROUP_CONTROLLER_CPU);
    const char *file = to->thread ? "cgroup.threads" : "cgroup.procs";

    return cgroup_move_ids(from->host, from_dir, file, to_dir, file, error);
}

static gboolean
v2_remove(Cgroup *group, GError **error)
{
    g_autofree char *dir = cgroup_dir(group, CGROUP_CONTROLLER_CPU);

    return cgroup_remove_dir(group->host, dir, error);
}

static gboolean
v2_unsupported(const char *what, const char *dir, const char *file, GError **error)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);

    virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_OPERATION_UNSUPPORTED,
                   _("cannot use %s: the kernel does not offer '%s'"), what, path);
    return FALSE;
}

static gboolean
v2_set_cpu_shares(Cgroup *group, guint64 shares, GError **error)
{
    g_autofree char *dir = NULL;

    if (!cgroup_require(group, CGROUP_CONTROLLER_CPU, "cpu shares", error))
        return FALSE;
    /* libvirt writes cpu_shares to cpu.weight unchanged, and so does virtd */
    if (shares < CGROUP_WEIGHT_MIN || shares > CGROUP_WEIGHT_MAX) {
        virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_INVALID_ARG,
                       _("cpu shares '%" G_GUINT64_FORMAT "' must be in range [%d, %d]"), shares,
                       CGROUP_WEIGHT_MIN, CGROUP_WEIGHT_MAX);
        return FALSE;
    }
    dir = cgroup_dir(group, CGROUP_CONTROLLER_CPU);
    return cgroup_write_u64(group->host, dir, "cpu.weight", shares, error);
}

static gboolean
v2_get_cpu_shares(Cgroup *group, guint64 *ret_shares, GError **error)
{
    g_autofree char *dir = NULL;

    if (!cgroup_require(group, CGROUP_CONTROLLER_CPU, "cpu shares", error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_CPU);
    return cgroup_read_u64(dir, "cpu.weight", ret_shares, error);
}

static gboolean
v2_set_cpu_bandwidth(Cgroup *group, guint64 period, gint64 quota, GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *text = NULL;

    if (!cgroup_require(group, CGROUP_CONTROLLER_CPU, "cpu bandwidth", error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_CPU);
    if (quota < 0)
        text = g_strdup_printf("max %" G_GUINT64_FORMAT, period);
    else
        text = g_strdup_printf("%" G_GINT64_FORMAT " %" G_GUINT64_FORMAT, quota, period);
    return cgroup_write(group->host, dir, "cpu.max", text, error);
}

static gboolean
v2_get_cpu_bandwidth(Cgroup *group, guint64 *ret_period, gint64 *ret_quota, GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *text = NULL;
    g_auto(GStrv) fields = NULL;
    gint64 quota = -1;
    guint64 period;

    if (!cgroup_require(group, CGROUP_CONTROLLER_CPU, "cpu bandwidth", error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_CPU);
    if (!cgroup_read(dir, "cpu.max", &text, error))
        return FALSE;
    fields = g_strsplit(text, " ", -1);
    if (g_strv_length(fields) != 2 ||
        !g_ascii_string_to_unsigned(fields[1], 10, 1, G_MAXUINT64, &period, NULL) ||
        (!g_str_equal(fields[0], "max") &&
         !g_ascii_string_to_signed(fields[0], 10, 0, G_MAXINT64, &quota, NULL)))
        return cgroup_parse_failed(dir, "cpu.max", text, error);
    *ret_period = period;
    *ret_quota = quota;
    return TRUE;
}

static gboolean
v2_get_cpu_usage(Cgroup *group, guint64 *ret_ns, GError **error)
{
    g_autofree char *dir = cgroup_dir(group, CGROUP_CONTROLLER_CPU);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!cgroup_read(dir, "cpu.stat", &text, error))
        return FALSE;
    lines = g_strsplit(text, "\n", -1);
    for (char **line = lines; *line; line++) {
        guint64 usec;

        if (!g_str_has_prefix(*line, "usage_usec "))
            continue;
        if (!g_ascii_string_to_unsigned(*line + strlen("usage_usec "), 10, 0,
                                        G_MAXUINT64 / 1000, &usec, NULL))
            return cgroup_parse_failed(dir, "cpu.stat", *line, error);
        *ret_ns = usec * 1000;
        return TRUE;
    }
    return cgroup_parse_failed(dir, "cpu.stat", text, error);
}

static gboolean
v2_set_memory(Cgroup *group, CgroupMemoryLimit which, guint64 kib, GError **error)
{
    const char *what = cgroup_memory_limit_to_string(which);
    g_autofree char *dir = NULL;

    if (!cgroup_require(group, CGROUP_CONTROLLER_MEMORY, what, error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_MEMORY);
    /* memory.swap.max is missing without swap accounting */
    if (!cgroup_file_exists(dir, memory_files[which]))
        return v2_unsupported(what, dir, memory_files[which], error);
    if (kib == G_MAXUINT64)
        return cgroup_write(group->host, dir, memory_files[which], "max", error);
    return cgroup_write_u64(group->host, dir, memory_files[which], kib << 10, error);
}

static gboolean
v2_get_memory(Cgroup *group, CgroupMemoryLimit which, guint64 *ret_kib, GError **error)
{
    const char *what = cgroup_memory_limit_to_string(which);
    g_autofree char *dir = NULL;
    g_autofree char *text = NULL;
    guint64 bytes;

    if (!cgroup_require(group, CGROUP_CONTROLLER_MEMORY, what, error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_MEMORY);
    if (!cgroup_file_exists(dir, memory_files[which]))
        return v2_unsupported(what, dir, memory_files[which], error);
    if (!cgroup_read(dir, memory_files[which], &text, error))
        return FALSE;
    if (g_str_equal(text, "max")) {
        *ret_kib = G_MAXUINT64;
        return TRUE;
    }
    if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &bytes, NULL))
        return cgroup_parse_failed(dir, memory_files[which], text, error);
    *ret_kib = bytes >= V2_MEMORY_UNLIMITED_BYTES ? G_MAXUINT64 : bytes >> 10;
    return TRUE;
}

/* io.bfq.weight with BFQ, else io.weight (the io.cost controller); NULL without either. */
static const char *
v2_weight_file(const char *dir)
{
    if (cgroup_file_exists(dir, "io.bfq.weight"))
        return "io.bfq.weight";
    if (cgroup_file_exists(dir, "io.weight"))
        return "io.weight";
    return NULL;
}

static gboolean
v2_weight_unsupported(const char *what, const char *dir, GError **error)
{
    virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_OPERATION_UNSUPPORTED,
                   _("cannot use %s: '%s' has neither io.bfq.weight nor io.weight"), what, dir);
    return FALSE;
}

static gboolean
v2_check_weight(const char *what, unsigned int weight, gboolean zero_ok, GError **error)
{
    if ((weight == 0 && zero_ok) || (weight >= CGROUP_WEIGHT_MIN && weight <= CGROUP_WEIGHT_MAX))
        return TRUE;
    virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_INVALID_ARG,
                   _("%s '%u' must be in range [%d, %d]"), what, weight, CGROUP_WEIGHT_MIN,
                   CGROUP_WEIGHT_MAX);
    return FALSE;
}

static gboolean
v2_set_blkio_weight(Cgroup *group, unsigned int weight, GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *text = NULL;
    const char *file;

    if (!cgroup_require(group, CGROUP_CONTROLLER_BLKIO, "blkio weight", error) ||
        !v2_check_weight("blkio weight", weight, FALSE, error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_BLKIO);
    if (!(file = v2_weight_file(dir)))
        return v2_weight_unsupported("blkio weight", dir, error);
    /* the value unchanged, as libvirt writes it; io.bfq.weight of older kernels takes
     * only a number */
    if (g_str_equal(file, "io.bfq.weight"))
        text = g_strdup_printf("%u", weight);
    else
        text = g_strdup_printf("default %u", weight);
    return cgroup_write(group->host, dir, file, text, error);
}

static gboolean
v2_get_blkio_weight(Cgroup *group, unsigned int *ret_weight, GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    const char *number;
    const char *file;
    guint64 weight;

    if (!cgroup_require(group, CGROUP_CONTROLLER_BLKIO, "blkio weight", error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_BLKIO);
    if (!(file = v2_weight_file(dir)))
        return v2_weight_unsupported("blkio weight", dir, error);
    if (!cgroup_read(dir, file, &text, error))
        return FALSE;
    /* "default 100" then one "MAJ:MIN W" line per device (old BFQ: just "100") */
    lines = g_strsplit(text, "\n", -1);
    number = g_str_has_prefix(lines[0], "default ") ? lines[0] + 8 : lines[0];
    if (!g_ascii_string_to_unsigned(number, 10, 0, G_MAXUINT, &weight, NULL))
        return cgroup_parse_failed(dir, file, text, error);
    *ret_weight = (unsigned int)weight;
    return TRUE;
}

static gboolean
v2_set_blkio_device_weight(Cgroup *group, const char *majmin, unsigned int weight,
                           GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *text = NULL;
    const char *file;

    if (!cgroup_require(group, CGROUP_CONTROLLER_BLKIO, "blkio device weight", error) ||
        !v2_check_weight("blkio device weight", weight, TRUE, error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_BLKIO);
    if (!(file = v2_weight_file(dir)))
        return v2_weight_unsupported("blkio device weight", dir, error);
    if (weight == 0)
        text = g_strdup_printf("%s default", majmin);
    else
        text = g_strdup_printf("%s %u", majmin, weight);
    return cgroup_write(group->host, dir, file, text, error);
}

static gboolean
v2_get_blkio_device_weight(Cgroup *group, const char *majmin, unsigned int *ret_weight,
                           GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *text = NULL;
    g_autofree char *value = NULL;
    const char *file;
    guint64 weight;

    if (!cgroup_require(group, CGROUP_CONTROLLER_BLKIO, "blkio device weight", error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_BLKIO);
    if (!(file = v2_weight_file(dir)))
        return v2_weight_unsupported("blkio device weight", dir, error);
    if (!cgroup_read(dir, file, &text, error))
        return FALSE;
    value = cgroup_device_line_value(text, majmin);
    if (!value || g_str_equal(value, "default")) {
        *ret_weight = 0;
        return TRUE;
    }
    if (!g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT, &weight, NULL))
        return cgroup_parse_failed(dir, file, value, error);
    *ret_weight = (unsigned int)weight;
    return TRUE;
}

static gboolean
v2_set_blkio_device_limit(Cgroup *group, const char *majmin, CgroupBlkioLimit what,
                          guint64 value, GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *text = NULL;

    if (!cgroup_require(group, CGROUP_CONTROLLER_BLKIO, "blkio device limits", error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_BLKIO);
    /* io.max takes any subset of the keys; the others keep their value */
    if (value == 0)
        text = g_strdup_printf("%s %s=max", majmin, io_max_keys[what]);
    else
        text = g_strdup_printf("%s %s=%" G_GUINT64_FORMAT, majmin, io_max_keys[what], value);
    return cgroup_write(group->host, dir, "io.max", text, error);
}

static gboolean
v2_get_blkio_device_limit(Cgroup *group, const char *majmin, CgroupBlkioLimit what,
                          guint64 *ret_value, GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *text = NULL;
    g_autofree char *line = NULL;
    g_autofree char *prefix = NULL;
    g_auto(GStrv) pairs = NULL;

    if (!cgroup_require(group, CGROUP_CONTROLLER_BLKIO, "blkio device limits", error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_BLKIO);
    if (!cgroup_read(dir, "io.max", &text, error))
        return FALSE;
    *ret_value = 0;
    /* "8:0 rbps=1048576 wbps=max riops=max wiops=max" */
    if (!(line = cgroup_device_line_value(text, majmin)))
        return TRUE;
    prefix = g_strconcat(io_max_keys[what], "=", NULL);
    pairs = g_strsplit(line, " ", -1);
    for (char **pair = pairs; *pair; pair++) {
        const char *value = *pair + strlen(prefix);
        guint64 number;

        if (!g_str_has_prefix(*pair, prefix) || g_str_equal(value, "max"))
            continue;
        if (!g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT64, &number, NULL))
            return cgroup_parse_failed(dir, "io.max", line, error);
        *ret_value = number;
    }
    return TRUE;
}

static gboolean
v2_set_cpuset(Cgroup *group, const char *file, const char *value, GError **error)
{
    g_autofree char *dir = NULL;

    if (!cgroup_require(group, CGROUP_CONTROLLER_CPUSET, file, error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_CPUSET);
    return cgroup_write(group->host, dir, file, value, error);
}

static gboolean
v2_get_cpuset(Cgroup *group, const char *file, char **ret_value, GError **error)
{
    g_autofree char *dir = NULL;

    if (!cgroup_require(group, CGROUP_CONTROLLER_CPUSET, file, error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_CPUSET);
    return cgroup_read(dir, file, ret_value, error);
}

const CgroupBackend cgroup_backend_v2 = {
    .name = "v2",
    .make_machine = v2_make_machine,
    .make_child = v2_make_child,
    .add_task = v2_add_task,
    .move_tasks = v2_move_tasks,
    .remove = v2_remove,
    .set_cpu_shares = v2_set_cpu_shares,
    .get_cpu_shares = v2_get_cpu_shares,
    .set_cpu_bandwidth = v2_set_cpu_bandwidth,
    .get_cpu_bandwidth = v2_get_cpu_bandwidth,
    .get_cpu_usage = v2_get_cpu_usage,
    .set_memory = v2_set_memory,
    .get_memory = v2_get_memory,
    .set_blkio_weight = v2_set_blkio_weight,
    .get_blkio_weight = v2_get_blkio_weight,
    .set_blkio_device_weight = v2_set_blkio_device_weight,
    .get_blkio_device_weight = v2_get_blkio_device_weight,
    .set_blkio_device_limit = v2_set_blkio_device_limit,
    .get_blkio_device_limit = v2_get_blkio_device_limit,
    .set_cpuset = v2_set_cpuset,
    .get_cpuset = v2_get_cpuset,
};
