/* cgroup v1 backend: one hierarchy per controller (possibly co-mounted, as "cpu,cpuacct"),
 * the VM's group created in each. Also used on hybrid hosts, whose v2 hierarchy carries no
 * controller virtd uses. */
#include "daemon/util/virt-error.h"
#include "drivers/host/cgroup-priv.h"

/* The controllers of a VM's group, and of its thread sub-groups. */
#define V1_MACHINE_CONTROLLERS                                                               \
    (CGROUP_BIT(CGROUP_CONTROLLER_CPU) | CGROUP_BIT(CGROUP_CONTROLLER_CPUACCT) |              \
     CGROUP_BIT(CGROUP_CONTROLLER_CPUSET) | CGROUP_BIT(CGROUP_CONTROLLER_MEMORY) |            \
     CGROUP_BIT(CGROUP_CONTROLLER_DEVICES) | CGROUP_BIT(CGROUP_CONTROLLER_BLKIO))
#define V1_THREAD_CONTROLLERS                                                                \
    (CGROUP_BIT(CGROUP_CONTROLLER_CPU) | CGROUP_BIT(CGROUP_CONTROLLER_CPUACCT) |              \
     CGROUP_BIT(CGROUP_CONTROLLER_CPUSET))

/* memory.limit_in_bytes and friends read about 2^63 when unlimited (the exact number depends
 * on the page size); no host has 4 EiB of memory. */
#define V1_MEMORY_UNLIMITED_BYTES (G_GUINT64_CONSTANT(1) << 62)

static const char *const memory_files[CGROUP_MEMORY_LAST] = {
    [CGROUP_MEMORY_HARD] = "memory.limit_in_bytes",
    [CGROUP_MEMORY_SOFT] = "memory.soft_limit_in_bytes",
    [CGROUP_MEMORY_SWAP] = "memory.memsw.limit_in_bytes",
};

static const char *const throttle_files[CGROUP_BLKIO_LAST] = {
    [CGROUP_BLKIO_READ_BPS] = "blkio.throttle.read_bps_device",
    [CGROUP_BLKIO_WRITE_BPS] = "blkio.throttle.write_bps_device",
    [CGROUP_BLKIO_READ_IOPS] = "blkio.throttle.read_iops_device",
    [CGROUP_BLKIO_WRITE_IOPS] = "blkio.throttle.write_iops_device",
};

/* The distinct directories of @group among the controllers of @mask (co-mounted
 * controllers share one). */
static GPtrArray *
v1_dirs(const Cgroup *group, guint mask)
{
    GPtrArray *dirs = g_ptr_array_new_with_free_func(g_free);

    for (int c = 0; c < CGROUP_CONTROLLER_LAST; c++) {
        g_autofree char *dir = NULL;

        if (!(group->controllers & mask & CGROUP_BIT(c)))
            continue;
        dir = cgroup_dir(group, c);
        if (!g_ptr_array_find_with_equal_func(dirs, dir, g_str_equal, NULL))
            g_ptr_array_add(dirs, g_steal_pointer(&dir));
    }
    return dirs;
}

static gboolean
v1_unsupported(const char *what, const char *dir, const char *file, GError **error)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);

    virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_OPERATION_UNSUPPORTED,
                   _("cannot use %s: the kernel does not offer '%s'"), what, path);
    return FALSE;
}

/* A new cpuset group starts with empty cpus and mems and takes no task until they are
 * set: copy the parent's. */
static gboolean
v1_cpuset_inherit(CgroupHost *host, const char *dir, GError **error)
{
    static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
    g_autofree char *parent = g_path_get_dirname(dir);

    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *value = NULL;

        if (!cgroup_read(dir, files[i], &value, error))
            return FALSE;
        if (*value)
            continue;
        g_free(value);
        if (!cgroup_read(parent, files[i], &value, error) ||
            !cgroup_write(host, dir, files[i], value, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
v1_make_dir(CgroupHost *host, CgroupController c, const char *dir, gboolean *ret_created,
            GError **error)
{
    gboolean created;

    if (!cgroup_make_dir(host, dir, &created, error))
        return FALSE;
    if (ret_created)
        *ret_created = created;
    if (c == CGROUP_CONTROLLER_CPUSET && !v1_cpuset_inherit(host, dir, error))
        return FALSE;
    return TRUE;
}

/* Make sure every level of the partition above @group exists in controller @c: the default
 * "/machine" is created when missing, a custom partition must exist. */
static gboolean
v1_ensure_partition(Cgroup *group, CgroupController c, GError **error)
{
    g_autofree char *partition = g_path_get_dirname(group->path);
    g_auto(GStrv) parts = g_strsplit(partition + 1, "/", -1);
    g_autofree char *dir = g_strdup(group->host->mounts[c]);

    for (guint i = 0; parts[i] && *parts[i]; i++) {
        char *next = g_build_filename(dir, parts[i], NULL);

        g_free(dir);
        dir = next;
        if (g_file_test(dir, G_FILE_TEST_IS_DIR)) {
            /* a partition made by hand may lack cpuset values */
            if (c == CGROUP_CONTROLLER_CPUSET && !v1_cpuset_inherit(group->host, dir, error))
                return FALSE;
            continue;
        }
        if (i > 0 || !g_str_equal(parts[i], "machine")) {
            virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_OPERATION_FAILED,
                           _("resource partition '%s' does not exist: '%s' is missing"),
                           partition, dir);
            return FALSE;
        }
        if (!v1_make_dir(group->host, c, dir, NULL, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
v1_make_machine(Cgroup *group, gboolean existing_only, GError **error)
{
    g_autoptr(GPtrArray) created = g_ptr_array_new_with_free_func(g_free);

    for (int c = 0; c < CGROUP_CONTROLLER_LAST; c++) {
        g_autofree char *dir = NULL;
        gboolean made = FALSE;

        if (!(V1_MACHINE_CONTROLLERS & CGROUP_BIT(c)) || !group->host->mounts[c])
            continue;
        dir = cgroup_dir(group, c);
        if (existing_only) {
            if (g_file_test(dir, G_FILE_TEST_IS_DIR))
                group->controllers |= CGROUP_BIT(c);
            continue;
        }
        if (!v1_ensure_partition(group, c, error) ||
            !v1_make_dir(group->host, c, dir, &made, error)) {
            /* leave nothing behind: the VM will not start */
            for (guint i = 0; i < created->len; i++)
                cgroup_remove_dir(group->host, created->pdata[i], NULL);
            if (made)
                cgroup_remove_dir(group->host, dir, NULL);
            return FALSE;
        }
        if (made)
            g_ptr_array_add(created, g_steal_pointer(&dir));
        group->controllers |= CGROUP_BIT(c);
    }
    if (group->controllers == 0) {
        virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_OPERATION_FAILED,
                       _("cgroup '%s' does not exist in any controller"), group->path);
        return FALSE;
    }
    return TRUE;
}

static gboolean
v1_make_child(Cgroup *parent, Cgroup *child, GError **error)
{
    for (int c = 0; c < CGROUP_CONTROLLER_LAST; c++) {
        g_autofree char *dir = NULL;

        if (!(parent->controllers & V1_THREAD_CONTROLLERS & CGROUP_BIT(c)))
            continue;
        dir = cgroup_dir(child, c);
        if (!v1_make_dir(child->host, c, dir, NULL, error))
            return FALSE;
        child->controllers |= CGROUP_BIT(c);
    }
    return TRUE;
}

static gboolean
v1_add_task(Cgroup *group, pid_t id, gboolean thread, GError **error)
{
    g_autoptr(GPtrArray) dirs = v1_dirs(group, ~0u);
    g_autofree char *text = g_strdup_printf("%d", id);

    for (guint i = 0; i < dirs->len; i++) {
        if (!cgroup_write(group->host, dirs->pdata[i], thread ? "tasks" : "cgroup.procs", text, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
v1_move_tasks(Cgroup *from, Cgroup *to, GError **error)
{
    g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func(g_free);

    for (int c = 0; c < CGROUP_CONTROLLER_LAST; c++) {
        g_autofree char *from_dir = NULL;
        char *to_dir;

        if (!(from->controllers & to->controllers & CGROUP_BIT(c)))
            continue;
        /* co-mounted controllers: once per directory */
        to_dir = cgroup_dir(to, c);
        if (g_ptr_array_find_with_equal_func(done, to_dir, g_str_equal, NULL)) {
            g_free(to_dir);
            continue;
        }
        g_ptr_array_add(done, to_dir);
        from_dir = cgroup_dir(from, c);
        if (!cgroup_move_ids(from->host, from_dir, "tasks", to_dir, "tasks", error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
v1_remove(Cgroup *group, GError **error)
{
    g_autoptr(GPtrArray) dirs = v1_dirs(group, ~0u);
    gboolean ok = TRUE;

    /* try every hierarchy even when one fails, report the first failure */
    for (guint i = 0; i < dirs->len; i++) {
        if (!cgroup_remove_dir(group->host, dirs->pdata[i], ok ? error : NULL))
            ok = FALSE;
    }
    return ok;
}

static gboolean
v1_set_cpu_shares(Cgroup *group, guint64 shares, GError **error)
{
    g_autofree char *dir = NULL;

    if (!cgroup_require(group, CGROUP_CONTROLLER_CPU, "cpu shares", error))
        return FALSE;
    if (shares < CGROUP_SHARES_MIN || shares > CGROUP_SHARES_MAX) {
        virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_INVALID_ARG,
                       _("cpu shares '%" G_GUINT64_FORMAT "' must be in range [%d, %d]"), shares,
                       CGROUP_SHARES_MIN, CGROUP_SHARES_MAX);
        return FALSE;
    }
    dir = cgroup_dir(group, CGROUP_CONTROLLER_CPU);
    return cgroup_write_u64(group->host, dir, "cpu.shares", shares, error);
}

static gboolean
v1_get_cpu_shares(Cgroup *group, guint64 *ret_shares, GError **error)
{
    g_autofree char *dir = NULL;

    if (!cgroup_require(group, CGROUP_CONTROLLER_CPU, "cpu shares", error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_CPU);
    return cgroup_read_u64(dir, "cpu.shares", ret_shares, error);
}

static gboolean
v1_set_cpu_bandwidth(Cgroup *group, guint64 period, gint64 quota, GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *text = NULL;

    if (!cgroup_require(group, CGROUP_CONTROLLER_CPU, "cpu bandwidth", error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_CPU);
    text = g_strdup_printf("%" G_GINT64_FORMAT, quota);
    return cgroup_write_u64(group->host, dir, "cpu.cfs_period_us", period, error) &&
           cgroup_write(group->host, dir, "cpu.cfs_quota_us", text, error);
}

static gboolean
v1_get_cpu_bandwidth(Cgroup *group, guint64 *ret_period, gint64 *ret_quota, GError **error)
{
    g_autofree char *dir = NULL;
    guint64 period;
    gint64 quota;

    if (!cgroup_require(group, CGROUP_CONTROLLER_CPU, "cpu bandwidth", error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_CPU);
    if (!cgroup_read_u64(dir, "cpu.cfs_period_us", &period, error) ||
        !cgroup_read_i64(dir, "cpu.cfs_quota_us", &quota, error))
        return FALSE;
    *ret_period = period;
    *ret_quota = quota < 0 ? -1 : quota;
    return TRUE;
}

static gboolean
v1_get_cpu_usage(Cgroup *group, guint64 *ret_ns, GError **error)
{
    g_autofree char *dir = NULL;

    if (!cgroup_require(group, CGROUP_CONTROLLER_CPUACCT, "cpu usage", error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_CPUACCT);
    return cgroup_read_u64(dir, "cpuacct.usage", ret_ns, error);
}

static gboolean
v1_set_memory(Cgroup *group, CgroupMemoryLimit which, guint64 kib, GError **error)
{
    const char *what = cgroup_memory_limit_to_string(which);
    g_autofree char *dir = NULL;

    if (!cgroup_require(group, CGROUP_CONTROLLER_MEMORY, what, error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_MEMORY);
    /* memsw is there only with swap accounting (swapaccount=1) */
    if (!cgroup_file_exists(dir, memory_files[which]))
        return v1_unsupported(what, dir, memory_files[which], error);
    if (kib == G_MAXUINT64)
        return cgroup_write(group->host, dir, memory_files[which], "-1", error);
    return cgroup_write_u64(group->host, dir, memory_files[which], kib << 10, error);
}

static gboolean
v1_get_memory(Cgroup *group, CgroupMemoryLimit which, guint64 *ret_kib, GError **error)
{
    const char *what = cgroup_memory_limit_to_string(which);
    g_autofree char *dir = NULL;
    guint64 bytes;

    if (!cgroup_require(group, CGROUP_CONTROLLER_MEMORY, what, error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_MEMORY);
    if (!cgroup_file_exists(dir, memory_files[which]))
        return v1_unsupported(what, dir, memory_files[which], error);
    if (!cgroup_read_u64(dir, memory_files[which], &bytes, error))
        return FALSE;
    *ret_kib = bytes >= V1_MEMORY_UNLIMITED_BYTES ? G_MAXUINT64 : bytes >> 10;
    return TRUE;
}

/* BFQ has its own weight files; CFQ (before 5.0) had blkio.weight; other schedulers
 * have none. */
static const char *
v1_weight_file(const char *dir, gboolean per_device)
{
    const char *bfq = per_device ? "blkio.bfq.weight_device" : "blkio.bfq.weight";
    const char *cfq = per_device ? "blkio.weight_device" : "blkio.weight";

    if (cgroup_file_exists(dir, bfq))
        return bfq;
    if (cgroup_file_exists(dir, cfq))
        return cfq;
    return NULL;
}

static gboolean
v1_blkio_weight_unsupported(const char *what, const char *dir, GError **error)
{
    virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_OPERATION_UNSUPPORTED,
                   _("cannot use %s: it needs the bfq or cfq I/O scheduler, '%s' has neither "
                     "blkio.bfq.weight nor blkio.weight"),
                   what, dir);
    return FALSE;
}

static gboolean
v1_set_blkio_weight(Cgroup *group, unsigned int weight, GError **error)
{
    g_autofree char *dir = NULL;
    const char *file;

    if (!cgroup_require(group, CGROUP_CONTROLLER_BLKIO, "blkio weight", error))
        return FALSE;
    if (weight < CGROUP_BLKIO_WEIGHT_MIN || weight > CGROUP_BLKIO_WEIGHT_MAX) {
        virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_INVALID_ARG,
                       _("blkio weight '%u' must be in range [%d, %d]"), weight,
                       CGROUP_BLKIO_WEIGHT_MIN, CGROUP_BLKIO_WEIGHT_MAX);
        return FALSE;
    }
    dir = cgroup_dir(group, CGROUP_CONTROLLER_BLKIO);
    if (!(file = v1_weight_file(dir, FALSE)))
        return v1_blkio_weight_unsupported("blkio weight", dir, error);
    return cgroup_write_u64(group->host, dir, file, weight, error);
}

/* "500", or "default 500" as BFQ shows it on recent kernels. */
static gboolean
v1_parse_weight(const char *dir, const char *file, const char *text, unsigned int *ret_weight,
                GError **error)
{
    const char *number = g_str_has_prefix(text, "default ") ? text + 8 : text;
    guint64 weight;

    if (!g_ascii_string_to_unsigned(number, 10, 0, G_MAXUINT, &weight, NULL))
        return cgroup_parse_failed(dir, file, text, error);
    *ret_weight = (unsigned int)weight;
    return TRUE;
}

static gboolean
v1_get_blkio_weight(Cgroup *group, unsigned int *ret_weight, GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *text = NULL;
    const char *file;

    if (!cgroup_require(group, CGROUP_CONTROLLER_BLKIO, "blkio weight", error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_BLKIO);
    if (!(file = v1_weight_file(dir, FALSE)))
        return v1_blkio_weight_unsupported("blkio weight", dir, error);
    if (!cgroup_read(dir, file, &text, error))
        return FALSE;
    return v1_parse_weight(dir, file, text, ret_weight, error);
}

static gboolean
v1_set_blkio_device_weight(Cgroup *group, const char *majmin, unsigned int weight,
                           GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *text = NULL;
    const char *file;

    if (!cgroup_require(group, CGROUP_CONTROLLER_BLKIO, "blkio device weight", error))
        return FALSE;
    if (weight != 0 && (weight < CGROUP_BLKIO_WEIGHT_MIN || weight > CGROUP_BLKIO_WEIGHT_MAX)) {
        virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_INVALID_ARG,
                       _("blkio device weight '%u' must be 0 or in range [%d, %d]"), weight,
                       CGROUP_BLKIO_WEIGHT_MIN, CGROUP_BLKIO_WEIGHT_MAX);
        return FALSE;
    }
    dir = cgroup_dir(group, CGROUP_CONTROLLER_BLKIO);
    if (!(file = v1_weight_file(dir, TRUE)))
        return v1_blkio_weight_unsupported("blkio device weight", dir, error);
    /* CFQ removes a device's weight on 0, BFQ on "default" */
    if (weight == 0 && g_str_equal(file, "blkio.bfq.weight_device"))
        text = g_strdup_printf("%s default", majmin);
    else
        text = g_strdup_printf("%s %u", majmin, weight);
    return cgroup_write(group->host, dir, file, text, error);
}

static gboolean
v1_get_blkio_device_weight(Cgroup *group, const char *majmin, unsigned int *ret_weight,
                           GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *text = NULL;
    g_autofree char *value = NULL;
    const char *file;

    if (!cgroup_require(group, CGROUP_CONTROLLER_BLKIO, "blkio device weight", error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_BLKIO);
    if (!(file = v1_weight_file(dir, TRUE)))
        return v1_blkio_weight_unsupported("blkio device weight", dir, error);
    if (!cgroup_read(dir, file, &text, error))
        return FALSE;
    if (!(value = cgroup_device_line_value(text, majmin))) {
        *ret_weight = 0;
        return TRUE;
    }
    return v1_parse_weight(dir, file, value, ret_weight, error);
}

static gboolean
v1_set_blkio_device_limit(Cgroup *group, const char *majmin, CgroupBlkioLimit what,
                          guint64 value, GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *text = NULL;

    if (!cgroup_require(group, CGROUP_CONTROLLER_BLKIO, "blkio device limits", error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_BLKIO);
    text = g_strdup_printf("%s %" G_GUINT64_FORMAT, majmin, value);
    return cgroup_write(group->host, dir, throttle_files[what], text, error);
}

static gboolean
v1_get_blkio_device_limit(Cgroup *group, const char *majmin, CgroupBlkioLimit what,
                          guint64 *ret_value, GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *text = NULL;
    g_autofree char *value = NULL;
    guint64 number;

    if (!cgroup_require(group, CGROUP_CONTROLLER_BLKIO, "blkio device limits", error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_BLKIO);
    if (!cgroup_read(dir, throttle_files[what], &text, error))
        return FALSE;
    if (!(value = cgroup_device_line_value(text, majmin))) {
        *ret_value = 0;
        return TRUE;
    }
    if (!g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT64, &number, NULL))
        return cgroup_parse_failed(dir, throttle_files[what], value, error);
    *ret_value = number;
    return TRUE;
}

static gboolean
v1_set_cpuset(Cgroup *group, const char *file, const char *value, GError **error)
{
    g_autofree char *dir = NULL;

    if (!cgroup_require(group, CGROUP_CONTROLLER_CPUSET, file, error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_CPUSET);
    return cgroup_write(group->host, dir, file, value, error);
}

static gboolean
v1_get_cpuset(Cgroup *group, const char *file, char **ret_value, GError **error)
{
    g_autofree char *dir = NULL;

    if (!cgroup_require(group, CGROUP_CONTROLLER_CPUSET, file, error))
        return FALSE;
    dir = cgroup_dir(group, CGROUP_CONTROLLER_CPUSET);
    return cgroup_read(dir, file, ret_value, error);
}

const CgroupBackend cgroup_backend_v1 = {
    .name = "v1",
    .make_machine = v1_make_machine,
    .make_child = v1_make_child,
    .add_task = v1_add_task,
    .move_tasks = v1_move_tasks,
    .remove = v1_remove,
    .set_cpu_shares = v1_set_cpu_shares,
    .get_cpu_shares = v1_get_cpu_shares,
    .set_cpu_bandwidth = v1_set_cpu_bandwidth,
    .get_cpu_bandwidth = v1_get_cpu_bandwidth,
    .get_cpu_usage = v1_get_cpu_usage,
    .set_memory = v1_set_memory,
    .get_memory = v1_get_memory,
    .set_blkio_weight = v1_set_blkio_weight,
    .get_blkio_weight = v1_get_blkio_weight,
    .set_blkio_device_weight = v1_set_blkio_device_weight,
    .get_blkio_device_weight = v1_get_blkio_device_weight,
    .set_blkio_device_limit = v1_set_blkio_device_limit,
    .get_blkio_device_limit = v1_get_blkio_device_limit,
    .set_cpuset = v1_set_cpuset,
    .get_cpuset = v1_get_cpuset,
};
