/* cgroups for VMs: host detection, names and paths, file helpers, and the public calls,
 * which validate their arguments and hand over to the v1 or v2 backend. */
#include "drivers/host/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <libvirt/libvirt.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "daemon/util/virt-error.h"
#include "drivers/host/cgroup-priv.h"

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CGROUP_DEFAULT_PARTITION "/machine"
#define CGROUP_MACHINE_NAME_MAX 64
#define CGROUP_REMOVE_WAIT_MS 1000   /* how long a busy group may stay busy */
#define CGROUP_PERIOD_MIN 1000
#define CGROUP_PERIOD_MAX 1000000
#define CGROUP_QUOTA_MIN 1000
#define CGROUP_QUOTA_MAX 17592186044415LL /* the kernel's limit: (2^64 - 1) / 2^20 ns */

static const char *const mode_names[CGROUP_MODE_LAST] = {
    [CGROUP_MODE_NONE] = "none",
    [CGROUP_MODE_V1] = "v1",
    [CGROUP_MODE_HYBRID] = "hybrid",
    [CGROUP_MODE_V2] = "v2",
};

static const char *const controller_names[CGROUP_CONTROLLER_LAST] = {
    [CGROUP_CONTROLLER_CPU] = "cpu",
    [CGROUP_CONTROLLER_CPUACCT] = "cpuacct",
    [CGROUP_CONTROLLER_CPUSET] = "cpuset",
    [CGROUP_CONTROLLER_MEMORY] = "memory",
    [CGROUP_CONTROLLER_DEVICES] = "devices",
    [CGROUP_CONTROLLER_BLKIO] = "blkio",
};

static const char *const blkio_limit_names[CGROUP_BLKIO_LAST] = {
    [CGROUP_BLKIO_READ_BPS] = "read_bps",
    [CGROUP_BLKIO_WRITE_BPS] = "write_bps",
    [CGROUP_BLKIO_READ_IOPS] = "read_iops",
    [CGROUP_BLKIO_WRITE_IOPS] = "write_iops",
};

static const char *const memory_limit_names[CGROUP_MEMORY_LAST] = {
    [CGROUP_MEMORY_HARD] = "memory hard limit",
    [CGROUP_MEMORY_SOFT] = "memory soft limit",
    [CGROUP_MEMORY_SWAP] = "memory swap hard limit",
};

/* Every controller name a kernel may list in /proc/cgroups: a partition named
 * "<one of these>.something" would collide with a control file. */
static const char *const kernel_controllers[] = {
    "cpuset", "cpu", "cpuacct", "io", "blkio", "memory", "devices", "freezer", "net_cls",
    "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc", "debug", NULL,
};

const char *
cgroup_mode_to_string(CgroupMode mode)
{
    if ((int)mode < 0 || mode >= CGROUP_MODE_LAST)
        return NULL;
    return mode_names[mode];
}

const char *
cgroup_controller_to_string(CgroupController c)
{
    if ((int)c < 0 || c >= CGROUP_CONTROLLER_LAST)
        return NULL;
    return controller_names[c];
}

int
cgroup_controller_from_string(const char *name)
{
    if (!name)
        return -1;
    if (g_str_equal(name, "io"))
        return CGROUP_CONTROLLER_BLKIO;
    for (int i = 0; i < CGROUP_CONTROLLER_LAST; i++) {
        if (g_str_equal(name, controller_names[i]))
            return i;
    }
    return -1;
}

const char *
cgroup_blkio_limit_to_string(CgroupBlkioLimit what)
{
    return blkio_limit_names[what];
}

const char *
cgroup_memory_limit_to_string(CgroupMemoryLimit which)
{
    return memory_limit_names[which];
}

/* ---- host detection ---- */

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *
mountinfo_unescape(const char *text)
{
    GString *out = g_string_new(NULL);

    for (const char *p = text; *p; p++) {
        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
            p[3] >= '0' && p[3] <= '7') {
            g_string_append_c(out, (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0')));
            p += 3;
        } else {
            g_string_append_c(out, *p);
        }
    }
    return g_string_free(out, FALSE);
}

/* One mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE
 * SUPEROPTS". Records cgroup and cgroup2 mounts; the first mount of a hierarchy wins. */
static void
host_parse_mount(CgroupHost *host, const char *line)
{
    g_auto(GStrv) fields = g_strsplit(line, " ", -1);
    guint n = g_strv_length(fields);
    guint sep = 0;
    g_autofree char *mount_point = NULL;

    for (guint i = 6; i < n; i++) {
        if (g_str_equal(fields[i], "-")) {
            sep = i;
            break;
        }
    }
    if (sep == 0 || sep + 3 >= n)
        return;

    mount_point = mountinfo_unescape(fields[4]);
    if (g_str_equal(fields[sep + 1], "cgroup2")) {
        if (!host->unified)
            host->unified = g_build_filename(host->root, mount_point, NULL);
        return;
    }
    if (!g_str_equal(fields[sep + 1], "cgroup"))
        return;

    g_auto(GStrv) options = g_strsplit(fields[sep + 3], ",", -1);
    for (char **opt = options; *opt; opt++) {
        int c = cgroup_controller_from_string(*opt);

        /* "io" is a v2 name only: a v1 mount option "io" does not exist */
        if (c < 0 || g_str_equal(*opt, "io") || host->mounts[c])
            continue;
        host->mounts[c] = g_build_filename(host->root, mount_point, NULL);
    }
}

static guint
controllers_parse_v2(const char *text)
{
    g_auto(GStrv) names = g_strsplit_set(text ? text : "", " \n", -1);
    guint mask = 0;

    for (char **name = names; *name; name++) {
        /* v2 has no "cpuacct" or "devices" files; "blkio" is "io" */
        if (g_str_equal(*name, "cpu") || g_str_equal(*name, "cpuset") ||
            g_str_equal(*name, "memory") || g_str_equal(*name, "io"))
            mask |= CGROUP_BIT(cgroup_controller_from_string(*name));
    }
    return mask;
}

CgroupHost *
cgroup_host_new(const char *root, const char *mountinfo_path)
{
    g_autoptr(CgroupHost) host = g_new0(CgroupHost, 1);
    g_autofree char *text = NULL;
    gboolean any_v1 = FALSE;

    host->root = g_strdup(root && *root ? root : "/");
    host->mode = CGROUP_MODE_NONE;
    if (mountinfo_path && g_file_get_contents(mountinfo_path, &text, NULL, NULL)) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

        for (char **line = lines; *line; line++)
            host_parse_mount(host, *line);
    }

    for (int c = 0; c < CGROUP_CONTROLLER_LAST; c++)
        any_v1 |= host->mounts[c] != NULL;

    if (any_v1) {
        host->mode = host->unified ? CGROUP_MODE_HYBRID : CGROUP_MODE_V1;
        host->backend = &cgroup_backend_v1;
    } else if (host->unified) {
        g_autofree char *controllers = NULL;

        if (cgroup_read(host->unified, "cgroup.controllers", &controllers, NULL)) {
            host->mode = CGROUP_MODE_V2;
            host->backend = &cgroup_backend_v2;
            host->v2_controllers = controllers_parse_v2(controllers);
        }
    }
    return g_steal_pointer(&host);
}

void
cgroup_host_free(CgroupHost *host)
{
    if (!host)
        return;
    for (int c = 0; c < CGROUP_CONTROLLER_LAST; c++)
        g_free(host->mounts[c]);
    g_free(host->unified);
    g_free(host->root);
    g_free(host);
}

CgroupMode
cgroup_host_get_mode(const CgroupHost *host)
{
    return host->mode;
}

gboolean
cgroup_host_has_controller(const CgroupHost *host, const char *name)
{
    int c = cgroup_controller_from_string(name);

    if (c < 0)
        return FALSE;
    switch (host->mode) {
    case CGROUP_MODE_V1:
    case CGROUP_MODE_HYBRID:
        return host->mounts[c] != NULL;
    case CGROUP_MODE_V2:
        /* cpu.stat (usage_usec) is in every v2 group, with or without the cpu controller */
        if (c == CGROUP_CONTROLLER_CPUACCT)
            return TRUE;
        return (host->v2_controllers & CGROUP_BIT(c)) != 0;
    case CGROUP_MODE_NONE:
    case CGROUP_MODE_LAST:
        break;
    }
    return FALSE;
}

static gboolean
resolve_device_stat(const char *device, unsigned int *ret_major, unsigned int *ret_minor,
                    GError **error)
{
    struct stat st;

    if (stat(device, &st) < 0) {
        virt_error_set_errno(error, VIR_FROM_CGROUP, errno, _("cannot stat '%s'"), device);
        return FALSE;
    }
    if (!S_ISBLK(st.st_mode)) {
        virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_INVALID_ARG,
                       _("'%s' is not a block device"), device);
        return FALSE;
    }
    *ret_major = major(st.st_rdev);
    *ret_minor = minor(st.st_rdev);
    return TRUE;
}

void
cgroup_host_set_device_resolver(CgroupHost *host, CgroupDeviceResolver resolver)
{
    host->resolve_device = resolver;
}

void
cgroup_host_set_test_hook(CgroupHost *host, CgroupTestHook hook, gpointer data)
{
    host->test_hook = hook;
    host->test_hook_data = data;
}

static void
test_hook(CgroupHost *host, const char *op, const char *path, const char *value)
{
    if (host->test_hook)
        host->test_hook(op, path, value, host->test_hook_data);
}

/* ---- names ---- */

char *
cgroup_machine_name(int id, const char *name)
{
    g_autoptr(GString) out = g_string_new(NULL);
    gboolean after_separator = TRUE;

    g_string_printf(out, "qemu-%d-", id);
    for (const char *p = name ? name : ""; *p; p++) {
        if (out->len >= CGROUP_MACHINE_NAME_MAX)
            break;
        if (*p == '-' || *p == '.') {
            if (!after_separator)
                g_string_append_c(out, *p);
            after_separator = TRUE;
        } else if (g_ascii_isalnum(*p)) {
            g_string_append_c(out, *p);
            after_separator = FALSE;
        }
    }
    while (out->len > 0 && (out->str[out->len - 1] == '-' || out->str[out->len - 1] == '.'))
        g_string_truncate(out, out->len - 1);
    g_string_append(out, ".libvirt-qemu");
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static gboolean
partition_needs_escape(const char *name)
{
    if (name[0] == '_' || name[0] == '.' || g_str_has_prefix(name, "cgroup."))
        return TRUE;
    for (const char *const *c = kernel_controllers; *c; c++) {
        size_t len = strlen(*c);

        if (strncmp(name, *c, len) == 0 && name[len] == '.')
            return TRUE;
    }
    return FALSE;
}

char *
cgroup_partition_path(const char *partition, GError **error)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_auto(GStrv) parts = NULL;

    if (!partition || !*partition)
        partition = CGROUP_DEFAULT_PARTITION;
    if (partition[0] != '/') {
        virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_CONFIG_UNSUPPORTED,
                       _("resource partition '%s' must start with '/'"), partition);
        return NULL;
    }
    parts = g_strsplit(partition + 1, "/", -1);
    for (guint i = 0; parts[i]; i++) {
        g_autofree char *part = NULL;

        if (!*parts[i] || g_str_equal(parts[i], ".") || g_str_equal(parts[i], "..")) {
            virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_CONFIG_UNSUPPORTED,
                           _("resource partition '%s' has an invalid component"), partition);
            return NULL;
        }
        /* the top level partitions keep their name */
        if (i == 0 && (g_str_equal(parts[i], "machine") || g_str_equal(parts[i], "system") ||
                       g_str_equal(parts[i], "user")))
            part = g_strdup(parts[i]);
        else
            part = g_strconcat(parts[i], ".partition", NULL);
        g_string_append_c(out, '/');
        if (partition_needs_escape(part))
            g_string_append_c(out, '_');
        g_string_append(out, part);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* ---- file helpers for the backends ---- */

char *
cgroup_dir(const Cgroup *group, CgroupController c)
{
    const char *base = group->host->mode == CGROUP_MODE_V2 ? group->host->unified
                                                           : group->host->mounts[c];

    if (!base)
        return NULL;
    return g_build_filename(base, group->path, NULL);
}

gboolean
cgroup_require(const Cgroup *group, CgroupController c, const char *what, GError **error)
{
    if (group->controllers & CGROUP_BIT(c))
        return TRUE;
    virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_OPERATION_UNSUPPORTED,
                   _("cannot use %s: cgroup controller '%s' is not available for '%s'"), what,
                   group->host->mode == CGROUP_MODE_V2 && c == CGROUP_CONTROLLER_BLKIO
                       ? "io" : controller_names[c],
                   group->path);
    return FALSE;
}

gboolean
cgroup_make_dir(CgroupHost *host, const char *dir, gboolean *ret_created, GError **error)
{
    gboolean created = TRUE;

    if (mkdir(dir, 0755) < 0) {
        if (errno != EEXIST) {
            virt_error_set_errno(error, VIR_FROM_CGROUP, errno, _("cannot create cgroup '%s'"),
                                 dir);
            return FALSE;
        }
        created = FALSE;
    }
    if (created)
        test_hook(host, "mkdir", dir, NULL);
    if (ret_created)
        *ret_created = created;
    return TRUE;
}

/* On a cgroup filesystem the control files go with the directory; a test tree holds
 * ordinary files that must go first. */
static void
remove_plain_files(const char *dir)
{
    struct statfs fs;
    g_autoptr(GDir) d = NULL;
    const char *name;

    if (statfs(dir, &fs) == 0 &&
        (fs.f_type == CGROUP_SUPER_MAGIC || fs.f_type == CGROUP2_SUPER_MAGIC))
        return;
    d = g_dir_open(dir, 0, NULL);
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);

        if (!g_file_test(path, G_FILE_TEST_IS_DIR))
            unlink(path);
    }
}

static gint
compare_paths(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

gboolean
cgroup_remove_dir(CgroupHost *host, const char *dir, GError **error)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_autoptr(GPtrArray) children = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    if (!d && !g_file_test(dir, G_FILE_TEST_EXISTS))
        return TRUE;
    while (d && (name = g_dir_read_name(d))) {
        char *path = g_build_filename(dir, name, NULL);

        if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK))
            g_ptr_array_add(children, path);
        else
            g_free(path);
    }
    /* in name order, so that a failure is reproducible */
    g_ptr_array_sort(children, compare_paths);
    for (guint i = 0; i < children->len; i++) {
        if (!cgroup_remove_dir(host, children->pdata[i], error))
            return FALSE;
    }
    remove_plain_files(dir);
    /* Busy while the last threads of a QEMU that just exited leave it: usually for a
     * millisecond or two, so wait 1 ms, then twice as long each time (at most 20 ms). */
    gint64 deadline = g_get_monotonic_time() + CGROUP_REMOVE_WAIT_MS * G_TIME_SPAN_MILLISECOND;
    for (gulong wait_us = 1000;; wait_us = MIN(wait_us * 2, 20 * 1000)) {
        if (rmdir(dir) == 0) {
            test_hook(host, "rmdir", dir, NULL);
            return TRUE;
        }
        if (errno == ENOENT)
            return TRUE;
        if (errno != EBUSY || g_get_monotonic_time() >= deadline)
            break;
        g_usleep(wait_us);
    }
    virt_error_set_errno(error, VIR_FROM_CGROUP, errno, _("cannot remove cgroup '%s'"), dir);
    return FALSE;
}

gboolean
cgroup_file_exists(const char *dir, const char *file)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);

    return access(path, F_OK) == 0;
}

gboolean
cgroup_write(CgroupHost *host, const char *dir, const char *file, const char *value, GError **error)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    size_t len = strlen(value);
    ssize_t done;
    int fd;

    /* no O_CREAT: a missing control file means the kernel does not offer it */
    fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) {
        virt_error_set_errno(error, VIR_FROM_CGROUP, errno, _("cannot write '%s' to '%s'"),
                             value, path);
        return FALSE;
    }
    done = write(fd, value, len);
    if (done < 0 || (size_t)done != len) {
        int err = done < 0 ? errno : EIO;

        close(fd);
        virt_error_set_errno(error, VIR_FROM_CGROUP, err, _("cannot write '%s' to '%s'"), value,
                             path);
        return FALSE;
    }
    if (close(fd) < 0) {
        virt_error_set_errno(error, VIR_FROM_CGROUP, errno, _("cannot write '%s' to '%s'"),
                             value, path);
        return FALSE;
    }
    test_hook(host, "write", path, value);
    return TRUE;
}

gboolean
cgroup_write_u64(CgroupHost *host, const char *dir, const char *file, guint64 value,
                 GError **error)
{
    g_autofree char *text = g_strdup_printf("%" G_GUINT64_FORMAT, value);

    return cgroup_write(host, dir, file, text, error);
}

gboolean
cgroup_read(const char *dir, const char *file, char **ret_value, GError **error)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_autoptr(GError) local = NULL;
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, &local)) {
        int err = EIO;

        if (local->code == G_FILE_ERROR_NOENT)
            err = ENOENT;
        else if (local->code == G_FILE_ERROR_ACCES)
            err = EACCES;
        else if (local->code == G_FILE_ERROR_PERM)
            err = EPERM;
        virt_error_set_errno(error, VIR_FROM_CGROUP, err, _("cannot read '%s'"), path);
        return FALSE;
    }
    *ret_value = g_strstrip(text);
    return TRUE;
}

gboolean
cgroup_parse_failed(const char *dir, const char *file, const char *text, GError **error)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);

    virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_OPERATION_FAILED,
                   _("cannot parse '%s' in '%s'"), text, path);
    return FALSE;
}

gboolean
cgroup_read_u64(const char *dir, const char *file, guint64 *ret_value, GError **error)
{
    g_autofree char *text = NULL;
    guint64 value;

    if (!cgroup_read(dir, file, &text, error))
        return FALSE;
    if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &value, NULL))
        return cgroup_parse_failed(dir, file, text, error);
    *ret_value = value;
    return TRUE;
}

gboolean
cgroup_read_i64(const char *dir, const char *file, gint64 *ret_value, GError **error)
{
    g_autofree char *text = NULL;
    gint64 value;

    if (!cgroup_read(dir, file, &text, error))
        return FALSE;
    if (!g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, &value, NULL))
        return cgroup_parse_failed(dir, file, text, error);
    *ret_value = value;
    return TRUE;
}

static GArray *
ids_parse(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(pid_t));

    for (char **line = lines; *line; line++) {
        guint64 id;

        if (g_ascii_string_to_unsigned(g_strstrip(*line), 10, 1, G_MAXINT32, &id, NULL)) {
            pid_t pid = (pid_t)id;

            g_array_append_val(ids, pid);
        }
    }
    return ids;
}

GArray *
cgroup_read_ids(const char *dir, const char *file, GError **error)
{
    g_autofree char *text = NULL;

    if (!cgroup_read(dir, file, &text, error))
        return NULL;
    return ids_parse(text);
}

gboolean
cgroup_write_ids(CgroupHost *host, const char *dir, const char *file, GArray *ids, GError **error)
{
    for (guint i = 0; i < ids->len; i++) {
        g_autoptr(GError) local = NULL;
        g_autofree char *text = g_strdup_printf("%d", g_array_index(ids, pid_t, i));

        if (cgroup_write(host, dir, file, text, &local))
            continue;
        /* a thread that exited since it was listed */
        if (kill(g_array_index(ids, pid_t, i), 0) < 0 && errno == ESRCH)
            continue;
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    return TRUE;
}

gboolean
cgroup_move_ids(CgroupHost *host, const char *from_dir, const char *from_file, const char *to_dir,
                const char *to_file, GError **error)
{
    /* a thread created while we move the others lands in @from: read again until empty,
     * but never forever */
    for (int pass = 0; pass < 10; pass++) {
        g_autoptr(GArray) ids = cgroup_read_ids(from_dir, from_file, error);

        if (!ids)
            return FALSE;
        if (ids->len == 0)
            return TRUE;
        if (!cgroup_write_ids(host, to_dir, to_file, ids, error))
            return FALSE;
    }
    return TRUE;
}

GArray *
cgroup_process_threads(pid_t pid, GError **error)
{
    g_autofree char *task_dir = g_strdup_printf("/proc/%d/task", pid);
    g_autoptr(GError) local = NULL;
    g_autoptr(GDir) d = g_dir_open(task_dir, 0, &local);
    GArray *ids;
    const char *name;

    if (!d) {
        virt_error_set_errno(error, VIR_FROM_CGROUP,
                             local->code == G_FILE_ERROR_NOENT ? ESRCH : EIO,
                             _("cannot list the threads of process %d"), pid);
        return NULL;
    }
    ids = g_array_new(FALSE, FALSE, sizeof(pid_t));
    while ((name = g_dir_read_name(d))) {
        guint64 id;

        if (g_ascii_string_to_unsigned(name, 10, 1, G_MAXINT32, &id, NULL)) {
            pid_t tid = (pid_t)id;

            g_array_append_val(ids, tid);
        }
    }
    return ids;
}

char *
cgroup_device_line_value(const char *text, const char *majmin)
{
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);

    for (char **line = lines; *line; line++) {
        char *l = g_strstrip(*line);
        size_t len = strlen(majmin);

        if (strncmp(l, majmin, len) == 0 && l[len] == ' ')
            return g_strdup(g_strstrip(l + len + 1));
    }
    return NULL;
}

/* ---- groups ---- */

static Cgroup *
group_new(CgroupHost *host, const char *path)
{
    Cgroup *group = g_new0(Cgroup, 1);

    group->host = host;
    group->path = g_strdup(path);
    return group;
}

Cgroup *
cgroup_new_machine(CgroupHost *host, const char *partition, int id, const char *name,
                   gboolean existing_only, GError **error)
{
    g_autofree char *partition_path = NULL;
    g_autofree char *machine = NULL;
    g_autofree char *path = NULL;
    g_autoptr(Cgroup) group = NULL;

    if (host->mode == CGROUP_MODE_NONE) {
        virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_OPERATION_UNSUPPORTED,
                       _("no usable cgroup filesystem on this host"));
        return NULL;
    }
    if (!(partition_path = cgroup_partition_path(partition, error)))
        return NULL;
    machine = cgroup_machine_name(id, name);
    path = g_build_path("/", partition_path, machine, NULL);
    group = group_new(host, path);
    if (!host->backend->make_machine(group, existing_only, error))
        return NULL;
    return g_steal_pointer(&group);
}

Cgroup *
cgroup_open(CgroupHost *host, const char *path, pid_t pid, GError **error)
{
    g_autoptr(Cgroup) group = NULL;
    g_auto(GStrv) parts = NULL;
    gboolean valid;

    if (host->mode == CGROUP_MODE_NONE) {
        virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_OPERATION_UNSUPPORTED,
                       _("no usable cgroup filesystem on this host"));
        return NULL;
    }
    /* absolute, below the root, no empty, "." or ".." component */
    parts = g_strsplit(path && path[0] == '/' ? path + 1 : "", "/", -1);
    valid = parts[0] != NULL;
    for (guint i = 0; parts[i]; i++)
        valid = valid && *parts[i] && !g_str_equal(parts[i], ".") && !g_str_equal(parts[i], "..");
    if (!valid) {
        virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_INVALID_ARG,
                       _("invalid cgroup path '%s'"), path ? path : "");
        return NULL;
    }
    group = group_new(host, path);
    if (pid <= 0)
        return host->backend->make_machine(group, TRUE, error) ? g_steal_pointer(&group) : NULL;

    /* every missing level, in every hierarchy (v2: the one unified directory) */
    for (int c = 0; c < CGROUP_CONTROLLER_LAST; c++) {
        g_autofree char *dir = NULL;

        if (host->mode == CGROUP_MODE_V2 ? c > 0 : !host->mounts[c])
            continue;
        dir = g_strdup(host->mode == CGROUP_MODE_V2 ? host->unified : host->mounts[c]);
        for (guint i = 0; parts[i]; i++) {
            char *next = g_build_filename(dir, parts[i], NULL);

            g_free(dir);
            dir = next;
            if (!cgroup_make_dir(host, dir, NULL, error))
                return NULL;
        }
        /* v2: out of the parent first, so that the parent may enable memory and io */
        if (host->mode == CGROUP_MODE_V2) {
            g_autofree char *text = g_strdup_printf("%d", (int)pid);

            if (!cgroup_write(host, dir, "cgroup.procs", text, error))
                return NULL;
        }
    }
    /* v1: copies the cpuset values down the new levels; v2: enables the controllers */
    if (!host->backend->make_machine(group, FALSE, error) ||
        !cgroup_add_process(group, pid, error))
        return NULL;
    return g_steal_pointer(&group);
}

Cgroup *
cgroup_new_child(Cgroup *parent, const char *name, GError **error)
{
    g_autofree char *path = NULL;
    g_autoptr(Cgroup) child = NULL;

    if (!name || !*name || strchr(name, '/') || name[0] == '.' ||
        partition_needs_escape(name)) {
        virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_INVALID_ARG,
                       _("invalid cgroup sub-group name '%s'"), name ? name : "");
        return NULL;
    }
    path = g_build_path("/", parent->path, name, NULL);
    child = group_new(parent->host, path);
    child->thread = TRUE;
    if (!parent->host->backend->make_child(parent, child, error))
        return NULL;
    return g_steal_pointer(&child);
}

gboolean
cgroup_add_process(Cgroup *group, pid_t pid, GError **error)
{
    return group->host->backend->add_task(group, pid, FALSE, error);
}

gboolean
cgroup_add_thread(Cgroup *group, pid_t tid, GError **error)
{
    return group->host->backend->add_task(group, tid, TRUE, error);
}

gboolean
cgroup_move_tasks(Cgroup *from, Cgroup *to, GError **error)
{
    return from->host->backend->move_tasks(from, to, error);
}

gboolean
cgroup_remove(Cgroup *group, GError **error)
{
    return group->host->backend->remove(group, error);
}

CgroupHost *
cgroup_get_host(const Cgroup *group)
{
    return group->host;
}

const char *
cgroup_get_path(const Cgroup *group)
{
    return group->path;
}

void
cgroup_free(Cgroup *group)
{
    if (!group)
        return;
    g_free(group->path);
    g_free(group);
}

/* ---- limits ---- */

gboolean
cgroup_set_cpu_shares(Cgroup *group, guint64 shares, GError **error)
{
    return group->host->backend->set_cpu_shares(group, shares, error);
}

gboolean
cgroup_get_cpu_shares(Cgroup *group, guint64 *ret_shares, GError **error)
{
    return group->host->backend->get_cpu_shares(group, ret_shares, error);
}

gboolean
cgroup_set_cpu_bandwidth(Cgroup *group, guint64 period, gint64 quota, GError **error)
{
    if (period < CGROUP_PERIOD_MIN || period > CGROUP_PERIOD_MAX) {
        virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_INVALID_ARG,
                       _("cpu period '%" G_GUINT64_FORMAT "' must be in range [%d, %d]"), period,
                       CGROUP_PERIOD_MIN, CGROUP_PERIOD_MAX);
        return FALSE;
    }
    if (quota != -1 && (quota < CGROUP_QUOTA_MIN || quota > CGROUP_QUOTA_MAX)) {
        virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_INVALID_ARG,
                       _("cpu quota '%" G_GINT64_FORMAT "' must be -1 or in range [%d, %lld]"),
                       quota, CGROUP_QUOTA_MIN, CGROUP_QUOTA_MAX);
        return FALSE;
    }
    return group->host->backend->set_cpu_bandwidth(group, period, quota, error);
}

gboolean
cgroup_get_cpu_bandwidth(Cgroup *group, guint64 *ret_period, gint64 *ret_quota, GError **error)
{
    return group->host->backend->get_cpu_bandwidth(group, ret_period, ret_quota, error);
}

gboolean
cgroup_get_cpu_usage(Cgroup *group, guint64 *ret_ns, GError **error)
{
    return group->host->backend->get_cpu_usage(group, ret_ns, error);
}

static gboolean
set_memory(Cgroup *group, CgroupMemoryLimit which, guint64 kib, GError **error)
{
    if (kib >= (guint64)VIR_DOMAIN_MEMORY_PARAM_UNLIMITED)
        kib = G_MAXUINT64;
    return group->host->backend->set_memory(group, which, kib, error);
}

gboolean
cgroup_set_memory_hard_limit(Cgroup *group, guint64 kib, GError **error)
{
    return set_memory(group, CGROUP_MEMORY_HARD, kib, error);
}

gboolean
cgroup_get_memory_hard_limit(Cgroup *group, guint64 *ret_kib, GError **error)
{
    return group->host->backend->get_memory(group, CGROUP_MEMORY_HARD, ret_kib, error);
}

gboolean
cgroup_set_memory_soft_limit(Cgroup *group, guint64 kib, GError **error)
{
    return set_memory(group, CGROUP_MEMORY_SOFT, kib, error);
}

gboolean
cgroup_get_memory_soft_limit(Cgroup *group, guint64 *ret_kib, GError **error)
{
    return group->host->backend->get_memory(group, CGROUP_MEMORY_SOFT, ret_kib, error);
}

gboolean
cgroup_set_memory_swap_hard_limit(Cgroup *group, guint64 kib, GError **error)
{
    return set_memory(group, CGROUP_MEMORY_SWAP, kib, error);
}

gboolean
cgroup_get_memory_swap_hard_limit(Cgroup *group, guint64 *ret_kib, GError **error)
{
    return group->host->backend->get_memory(group, CGROUP_MEMORY_SWAP, ret_kib, error);
}

gboolean
cgroup_set_blkio_weight(Cgroup *group, unsigned int weight, GError **error)
{
    return group->host->backend->set_blkio_weight(group, weight, error);
}

gboolean
cgroup_get_blkio_weight(Cgroup *group, unsigned int *ret_weight, GError **error)
{
    return group->host->backend->get_blkio_weight(group, ret_weight, error);
}

static char *
device_majmin(CgroupHost *host, const char *device, GError **error)
{
    CgroupDeviceResolver resolve = host->resolve_device ? host->resolve_device
                                                        : resolve_device_stat;
    unsigned int maj, min;

    if (!device || !*device) {
        virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_INVALID_ARG,
                       _("a block device path is required"));
        return NULL;
    }
    if (!resolve(device, &maj, &min, error))
        return NULL;
    return g_strdup_printf("%u:%u", maj, min);
}

static gboolean
blkio_limit_from_string(const char *what, CgroupBlkioLimit *ret_what, GError **error)
{
    for (int i = 0; i < CGROUP_BLKIO_LAST; i++) {
        if (what && g_str_equal(what, blkio_limit_names[i])) {
            *ret_what = i;
            return TRUE;
        }
    }
    virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_INVALID_ARG,
                   _("unknown blkio limit '%s'"), what ? what : "");
    return FALSE;
}

gboolean
cgroup_set_blkio_device_weight(Cgroup *group, const char *device, unsigned int weight,
                               GError **error)
{
    g_autofree char *majmin = device_majmin(group->host, device, error);

    if (!majmin)
        return FALSE;
    return group->host->backend->set_blkio_device_weight(group, majmin, weight, error);
}

gboolean
cgroup_get_blkio_device_weight(Cgroup *group, const char *device, unsigned int *ret_weight,
                               GError **error)
{
    g_autofree char *majmin = device_majmin(group->host, device, error);

    if (!majmin)
        return FALSE;
    return group->host->backend->get_blkio_device_weight(group, majmin, ret_weight, error);
}

gboolean
cgroup_set_blkio_device_limit(Cgroup *group, const char *device, const char *what,
                              guint64 value, GError **error)
{
    g_autofree char *majmin = NULL;
    CgroupBlkioLimit limit;

    if (!blkio_limit_from_string(what, &limit, error))
        return FALSE;
    if (!(majmin = device_majmin(group->host, device, error)))
        return FALSE;
    return group->host->backend->set_blkio_device_limit(group, majmin, limit, value, error);
}

gboolean
cgroup_get_blkio_device_limit(Cgroup *group, const char *device, const char *what,
                              guint64 *ret_value, GError **error)
{
    g_autofree char *majmin = NULL;
    CgroupBlkioLimit limit;

    if (!blkio_limit_from_string(what, &limit, error))
        return FALSE;
    if (!(majmin = device_majmin(group->host, device, error)))
        return FALSE;
    return group->host->backend->get_blkio_device_limit(group, majmin, limit, ret_value, error);
}

static gboolean
cpulist_valid(const char *list)
{
    if (!list || !*list)
        return FALSE;
    for (const char *p = list; *p; p++) {
        if (!g_ascii_isdigit(*p) && *p != ',' && *p != '-')
            return FALSE;
    }
    return TRUE;
}

static gboolean
set_cpuset(Cgroup *group, const char *file, const char *value, GError **error)
{
    if (!cpulist_valid(value)) {
        virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_INVALID_ARG,
                       _("invalid list '%s' for %s"), value ? value : "", file);
        return FALSE;
    }
    return group->host->backend->set_cpuset(group, file, value, error);
}

gboolean
cgroup_set_cpuset_cpus(Cgroup *group, const char *cpus, GError **error)
{
    return set_cpuset(group, "cpuset.cpus", cpus, error);
}

gboolean
cgroup_set_cpuset_mems(Cgroup *group, const char *mems, GError **error)
{
    return set_cpuset(group, "cpuset.mems", mems, error);
}

gboolean
cgroup_get_cpuset_cpus(Cgroup *group, char **ret_cpus, GError **error)
{
    return group->host->backend->get_cpuset(group, "cpuset.cpus", ret_cpus, error);
}

gboolean
cgroup_get_cpuset_mems(Cgroup *group, char **ret_mems, GError **error)
{
    return group->host->backend->get_cpuset(group, "cpuset.mems", ret_mems, error);
}

/* ---- conversions ---- */

guint64
cgroup_shares_to_weight(guint64 shares)
{
    shares = CLAMP(shares, CGROUP_SHARES_MIN, CGROUP_SHARES_MAX);
    return CGROUP_WEIGHT_MIN + (shares - CGROUP_SHARES_MIN) * (CGROUP_WEIGHT_MAX - CGROUP_WEIGHT_MIN) /
                                   (CGROUP_SHARES_MAX - CGROUP_SHARES_MIN);
}

guint64
cgroup_weight_to_shares(guint64 weight)
{
    weight = CLAMP(weight, CGROUP_WEIGHT_MIN, CGROUP_WEIGHT_MAX);
    return CGROUP_SHARES_MIN + (weight - CGROUP_WEIGHT_MIN) * (CGROUP_SHARES_MAX - CGROUP_SHARES_MIN) /
                                   (CGROUP_WEIGHT_MAX - CGROUP_WEIGHT_MIN);
}
