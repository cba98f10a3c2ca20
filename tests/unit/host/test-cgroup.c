/* cgroups: pure names and conversions (tables), mode detection from canned mountinfo files
 * (tests/data/cgroup/<case>.mountinfo), a VM's whole life against temporary trees shaped
 * like each host, with every change the library makes logged and compared with a golden
 * file (tests/data/cgroup/<case>.log; TEST_REGENERATE=1 rewrites it), and the same against
 * the real /sys/fs/cgroup when root. */
#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/util/virt-error.h"
#include "drivers/host/cgroup.h"
#include "golden.h"

static char *
data_path(const char *name)
{
    const char *srcdir = g_getenv("VIRTD_SRCDIR");

    return g_build_filename(srcdir ? srcdir : ".", "tests", "data", "cgroup", name, NULL);
}

static void
assert_golden(const char *name, const char *actual)
{
    g_autofree char *path = data_path(name);
    golden_assert(path, actual);
}

/* ---- pure functions ---- */

static void
test_machine_name(void)
{
    static const struct {
        int id;
        const char *name;
        const char *expected;
    } cases[] = {
        { 1, "web", "qemu-1-web.libvirt-qemu" },
        { 2, "my vm_1", "qemu-2-myvm1.libvirt-qemu" },
        { 3, "-.a..b--c.", "qemu-3-a.b-c.libvirt-qemu" },
        { 4, "a_-b", "qemu-4-a-b.libvirt-qemu" },
        { 5, "\xc3\xbcn\xc3\xaf", "qemu-5-n.libvirt-qemu" },
        { 6, "...", "qemu-6.libvirt-qemu" },
        { 7, "web/../x", "qemu-7-web.x.libvirt-qemu" },
        /* "qemu-ID-NAME" stops at 64 characters */
        { 12345, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          "qemu-12345-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.libvirt-qemu" },
        /* and a separator cut at the end goes */
        { 8, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-hij", "qemu-8-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.libvirt-qemu" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *name = cgroup_machine_name(cases[i].id, cases[i].name);

        g_assert_cmpstr(name, ==, cases[i].expected);
    }
}

static void
test_partition_path(void)
{
    static const struct {
        const char *partition;
        const char *expected; /* NULL: VIR_ERR_CONFIG_UNSUPPORTED */
    } cases[] = {
        { NULL, "/machine" },
        { "", "/machine" },
        { "/machine", "/machine" },
        { "/machine/production", "/machine/production.partition" },
        { "/machine/a/b", "/machine/a.partition/b.partition" },
        { "/other", "/other.partition" },
        { "/system", "/system" },
        { "/machine/cpu.x", "/machine/_cpu.x.partition" },
        { "/machine/cgroup", "/machine/_cgroup.partition" },
        { "/machine/_x", "/machine/__x.partition" },
        { "/machine/.hidden", "/machine/_.hidden.partition" },
        { "/machine/cpux", "/machine/cpux.partition" },
        { "machine", NULL },
        { "/machine//x", NULL },
        { "/machine/../etc", NULL },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autofree char *path = cgroup_partition_path(cases[i].partition, &err);

        g_assert_cmpstr(path, ==, cases[i].expected);
        if (!cases[i].expected)
            g_assert_true(virt_error_is(err, VIR_ERR_CONFIG_UNSUPPORTED));
    }
}

static void
test_conversions(void)
{
    static const struct {
        guint64 shares, weight, back;
    } cases[] = {
        { 2, 1, 2 },
        { 0, 1, 2 }, /* clamped */
        { 100, 4, 80 },
        { 1024, 39, 998 },
        { 10000, 382, 9990 },
        { 262144, 10000, 262144 },
        { 1000000, 10000, 262144 },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_assert_cmpuint(cgroup_shares_to_weight(cases[i].shares), ==, cases[i].weight);
        g_assert_cmpuint(cgroup_weight_to_shares(cases[i].weight), ==, cases[i].back);
    }
    g_assert_cmpuint(cgroup_weight_to_shares(100), ==, 2597);
    g_assert_cmpuint(cgroup_weight_to_shares(0), ==, 2);
}

/* ---- a fake kernel: temporary trees and their control files ---- */

typedef struct {
    char *root;
    char *mountinfo;
    GString *log;
    GHashTable *mounts; /* mount point (root-prefixed) -> "cpu,cpuacct" or "" for cgroup2 */
} Tree;

static void
put(const char *path, const char *content)
{
    g_autofree char *dir = g_path_get_dirname(path);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(path, content, -1, NULL));
}

static void
put_in(const char *dir, const char *file, const char *content)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);

    put(path, content);
}

static char *
slurp(const char *path)
{
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    return text;
}

#define V1_UNLIMITED "9223372036854771712"

/* The files of a v1 group of the hierarchy that carries @controllers ("cpu,cpuacct"). */
static void
fill_v1(const char *dir, const char *controllers, gboolean is_root)
{
    g_auto(GStrv) names = g_strsplit(controllers, ",", -1);

    put_in(dir, "cgroup.procs", "");
    put_in(dir, "tasks", "");
    put_in(dir, "notify_on_release", "0");
    for (char **c = names; *c; c++) {
        if (g_str_equal(*c, "cpu")) {
            put_in(dir, "cpu.shares", "1024");
            put_in(dir, "cpu.cfs_period_us", "100000");
            put_in(dir, "cpu.cfs_quota_us", "-1");
        } else if (g_str_equal(*c, "cpuacct")) {
            put_in(dir, "cpuacct.usage", is_root ? "999999999999" : "123456789");
        } else if (g_str_equal(*c, "cpuset")) {
            put_in(dir, "cpuset.cpus", is_root ? "0-3" : "");
            put_in(dir, "cpuset.mems", is_root ? "0" : "");
        } else if (g_str_equal(*c, "memory")) {
            put_in(dir, "memory.limit_in_bytes", V1_UNLIMITED);
            put_in(dir, "memory.soft_limit_in_bytes", V1_UNLIMITED);
            put_in(dir, "memory.memsw.limit_in_bytes", V1_UNLIMITED);
        } else if (g_str_equal(*c, "devices")) {
            put_in(dir, "devices.list", "a *:* rwm");
        } else if (g_str_equal(*c, "blkio")) {
            put_in(dir, "blkio.weight", "500");
            put_in(dir, "blkio.weight_device", "");
            put_in(dir, "blkio.throttle.read_bps_device", "");
            put_in(dir, "blkio.throttle.write_bps_device", "");
            put_in(dir, "blkio.throttle.read_iops_device", "");
            put_in(dir, "blkio.throttle.write_iops_device", "");
        }
    }
}

/* The files of a v2 group whose cgroup.controllers is @controllers. */
static void
fill_v2(const char *dir, const char *controllers, gboolean is_root)
{
    g_auto(GStrv) names = g_strsplit(controllers, " ", -1);

    put_in(dir, "cgroup.controllers", controllers);
    put_in(dir, "cgroup.subtree_control", "");
    put_in(dir, "cgroup.procs", "");
    put_in(dir, "cgroup.threads", "");
    put_in(dir, "cpu.stat", is_root ? "usage_usec 999999\nuser_usec 1\nsystem_usec 1"
                                    : "usage_usec 123456\nuser_usec 100000\nsystem_usec 23456");
    if (!is_root)
        put_in(dir, "cgroup.type", "domain");
    for (char **c = names; *c; c++) {
        if (is_root)
            continue; /* the root has no limits */
        if (g_str_equal(*c, "cpu")) {
            put_in(dir, "cpu.weight", "100");
            put_in(dir, "cpu.max", "max 100000");
        } else if (g_str_equal(*c, "cpuset")) {
            put_in(dir, "cpuset.cpus", "");
            put_in(dir, "cpuset.mems", "");
        } else if (g_str_equal(*c, "memory")) {
            put_in(dir, "memory.max", "max");
            put_in(dir, "memory.high", "max");
            put_in(dir, "memory.swap.max", "max");
        } else if (g_str_equal(*c, "io")) {
            put_in(dir, "io.weight", "default 100");
            put_in(dir, "io.max", "");
        }
    }
}

/* The mount (root-prefixed) @path is in, and what it carries. */
static const char *
tree_mount_of(Tree *t, const char *path, const char **ret_controllers)
{
    GHashTableIter iter;
    gpointer key, value;
    const char *best = NULL;

    g_hash_table_iter_init(&iter, t->mounts);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        size_t len = strlen(key);

        if (strncmp(path, key, len) == 0 && (path[len] == '/' || path[len] == '\0') &&
            (!best || len > strlen(best))) {
            best = key;
            *ret_controllers = value;
        }
    }
    return best;
}

static gboolean
is_task_file(const char *name)
{
    return g_str_equal(name, "cgroup.procs") || g_str_equal(name, "tasks") ||
           g_str_equal(name, "cgroup.threads");
}

static char *
lines_without(const char *text, const char *id)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    GString *out = g_string_new(NULL);

    for (char **l = lines; *l; l++) {
        if (**l && !g_str_equal(*l, id))
            g_string_append_printf(out, "%s\n", *l);
    }
    return g_string_free(out, FALSE);
}

static void
remove_id_everywhere(const char *dir, const char *id)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);

        if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
            remove_id_everywhere(path, id);
        } else if (is_task_file(name)) {
            g_autofree char *text = slurp(path);
            g_autofree char *rest = lines_without(text, id);

            put(path, rest);
        }
    }
}

/* "MAJ:MIN ..." line files: replace @majmin's line by @line (NULL: drop it). */
static char *
set_device_line(const char *text, const char *majmin, const char *line)
{
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
    g_autofree char *prefix = g_strconcat(majmin, " ", NULL);
    GString *out = g_string_new(NULL);

    for (char **l = lines; *l; l++) {
        if (**l && !g_str_has_prefix(*l, prefix))
            g_string_append_printf(out, "%s\n", *l);
    }
    if (line)
        g_string_append_printf(out, "%s\n", line);
    return g_string_free(out, FALSE);
}

/* What the kernel makes of a write the library just made (the file holds @value only). */
static void
kernel_write(Tree *t, const char *path, const char *value, const char *old)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *name = g_path_get_basename(path);

    if (g_str_equal(name, "cgroup.subtree_control")) {
        g_auto(GStrv) enabled = g_strsplit(old, " ", -1);
        g_autoptr(GStrvBuilder) out = g_strv_builder_new();
        g_auto(GStrv) result = NULL;
        g_autofree char *joined = NULL;

        for (char **e = enabled; *e; e++) {
            if (**e && !(value[0] == '-' && g_str_equal(*e, value + 1)))
                g_strv_builder_add(out, *e);
        }
        if (value[0] == '+' && !g_strv_contains((const char *const *)enabled, value + 1))
            g_strv_builder_add(out, value + 1);
        result = g_strv_builder_end(out);
        joined = g_strjoinv(" ", result);
        put(path, joined);
    } else if (is_task_file(name)) {
        const char *controllers;
        const char *mount = tree_mount_of(t, path, &controllers);
        static const char *const files[] = { "cgroup.procs", "tasks", "cgroup.threads" };

        remove_id_everywhere(mount, value);
        for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
            g_autofree char *p = g_build_filename(dir, files[i], NULL);
            g_autofree char *text = slurp(p);
            g_autofree char *more = NULL;

            if (!text)
                continue;
            more = g_strdup_printf("%s%s\n", text, value);
            put(p, more);
        }
    } else if (g_str_has_suffix(name, "_device") || g_str_equal(name, "io.max") ||
               g_str_equal(name, "io.weight")) {
        g_auto(GStrv) words = g_strsplit(value, " ", 2);
        g_autofree char *merged = NULL;

        if (g_str_equal(words[0], "default")) {
            g_autofree char *rest = set_device_line(old, "default", NULL);

            merged = g_strdup_printf("%s\n%s", value, rest);
        } else if (g_str_equal(words[1], "0") || g_str_equal(words[1], "default")) {
            merged = set_device_line(old, words[0], NULL);
        } else if (g_str_equal(name, "io.max")) {
            /* keys not written keep their value */
            static const char *const keys[] = { "rbps", "wbps", "riops", "wiops" };
            g_autofree char *prefix = g_strconcat(words[0], " ", NULL);
            g_autoptr(GString) line = g_string_new(words[0]);
            g_auto(GStrv) lines = g_strsplit(old, "\n", -1);
            const char *current = "";

            for (char **l = lines; *l; l++) {
                if (g_str_has_prefix(*l, prefix))
                    current = *l;
            }
            for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
                g_autofree char *key = g_strconcat(keys[i], "=", NULL);
                const char *src = strstr(words[1], key) ? words[1] : current;
                const char *at = strstr(src, key);
                g_autofree char *v = at ? g_strndup(at + strlen(key), strcspn(at + strlen(key), " ")) : g_strdup("max");

                g_string_append_printf(line, " %s%s", key, v);
            }
            merged = set_device_line(old, words[0], line->str);
        } else {
            merged = set_device_line(old, words[0], value);
        }
        put(path, merged);
    } else if (g_str_has_suffix(name, "limit_in_bytes") && g_str_equal(value, "-1")) {
        put(path, V1_UNLIMITED);
    }
}

static char *
loggable(Tree *t, const char *text)
{
    g_autofree char *pid = g_strdup_printf("%d", getpid());
    g_autofree char *tid = g_strdup_printf("%d", gettid());
    g_autoptr(GString) out = g_string_new(text);

    g_string_replace(out, t->root, "ROOT", 0);
    if (g_str_equal(out->str, pid))
        return g_strdup("PID");
    if (g_str_equal(out->str, tid))
        return g_strdup("TID");
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static GHashTable *shadow; /* path -> content before the library's write */

static void
kernel_hook(const char *op, const char *path, const char *value, gpointer data)
{
    Tree *t = data;
    g_autofree char *where = loggable(t, path);
    g_autofree char *what = value ? loggable(t, value) : NULL;

    g_string_append_printf(t->log, "%s %s%s%s\n", op, where, what ? " " : "", what ? what : "");
    if (g_str_equal(op, "mkdir")) {
        const char *controllers = NULL;
        g_autofree char *parent = g_path_get_dirname(path);

        tree_mount_of(t, path, &controllers);
        if (*controllers) {
            fill_v1(path, controllers, FALSE);
        } else {
            g_autofree char *enabled = NULL;
            g_autofree char *subtree = g_build_filename(parent, "cgroup.subtree_control", NULL);

            enabled = slurp(subtree);
            fill_v2(path, enabled ? enabled : "", FALSE);
        }
    } else if (g_str_equal(op, "write")) {
        const char *old = g_hash_table_lookup(shadow, path);

        kernel_write(t, path, value, old ? old : "");
        /* the next write to the file in this step sees this one */
        g_hash_table_replace(shadow, g_strdup(path), slurp(path));
    }
}

/* The library's writes truncate: remember every file's content before each call so that
 * the fake kernel can merge. Cheap enough for trees this small. */
static void
snapshot(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        char *path = g_build_filename(dir, name, NULL);

        if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
            snapshot(path);
            g_free(path);
        } else {
            g_hash_table_replace(shadow, path, slurp(path));
        }
    }
}

static Tree *
tree_new(const char *name)
{
    Tree *t = g_new0(Tree, 1);
    g_autofree char *source = NULL;
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    t->root = g_dir_make_tmp("virtd-cgroup-XXXXXX", NULL);
    g_assert_nonnull(t->root);
    t->log = g_string_new(NULL);
    t->mounts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    source = g_strconcat(name, ".mountinfo", NULL);
    t->mountinfo = data_path(source);
    g_assert_true(g_file_get_contents(t->mountinfo, &text, NULL, NULL));

    /* one directory per cgroup mount, with the root's files */
    lines = g_strsplit(text, "\n", -1);
    for (char **line = lines; *line; line++) {
        g_auto(GStrv) f = g_strsplit(*line, " ", -1);
        guint n = g_strv_length(f), sep = 0;
        char *mount;

        for (guint i = 6; i < n; i++) {
            if (g_str_equal(f[i], "-") && !sep)
                sep = i;
        }
        if (!sep || sep + 3 >= n)
            continue;
        mount = g_build_filename(t->root, f[4], NULL);
        if (g_str_equal(f[sep + 1], "cgroup2")) {
            /* a hybrid host's unified hierarchy carries no controller */
            gboolean hybrid = g_str_has_suffix(f[4], "/unified");

            fill_v2(mount, hybrid ? "" : "cpuset cpu io memory hugetlb pids rdma misc", TRUE);
            g_hash_table_replace(t->mounts, mount, g_strdup(""));
        } else if (g_str_equal(f[sep + 1], "cgroup")) {
            g_auto(GStrv) opts = g_strsplit(f[sep + 3], ",", -1);
            g_autoptr(GStrvBuilder) names = g_strv_builder_new();
            g_auto(GStrv) list = NULL;
            g_autofree char *joined = NULL;

            for (char **o = opts; *o; o++) {
                if (!g_str_equal(*o, "rw") && !g_str_equal(*o, "ro") &&
                    !g_str_has_prefix(*o, "name="))
                    g_strv_builder_add(names, *o);
            }
            list = g_strv_builder_end(names);
            joined = g_strjoinv(",", list);
            fill_v1(mount, joined, TRUE);
            g_hash_table_replace(t->mounts, mount, g_strdup(*joined ? joined : "named"));
        } else {
            g_free(mount);
        }
    }
    return t;
}

static void
tree_free(Tree *t)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", t->root);

    g_assert_true(g_str_has_prefix(t->root, g_get_tmp_dir()));
    g_assert_cmpint(system(cmd), ==, 0);
    g_string_free(t->log, TRUE);
    g_hash_table_unref(t->mounts);
    g_free(t->mountinfo);
    g_free(t->root);
    g_free(t);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Tree, tree_free)

static gboolean
fake_resolver(const char *device, unsigned int *ret_major, unsigned int *ret_minor,
              GError **error)
{
    if (g_str_equal(device, "/dev/fake-sda")) {
        *ret_major = 8;
        *ret_minor = 0;
        return TRUE;
    }
    virt_error_set(error, VIR_FROM_CGROUP, VIR_ERR_INVALID_ARG, "'%s' is not a block device",
                   device);
    return FALSE;
}

static CgroupHost *
tree_host(Tree *t)
{
    CgroupHost *host = cgroup_host_new(t->root, t->mountinfo);

    cgroup_host_set_test_hook(host, kernel_hook, t);
    cgroup_host_set_device_resolver(host, fake_resolver);
    return host;
}

/* ---- mode detection ---- */

static void
test_detect(void)
{
    static const struct {
        const char *tree;
        CgroupMode mode;
        const char *has;     /* controllers it has */
        const char *has_not; /* and has not */
    } cases[] = {
        { "v1", CGROUP_MODE_V1, "cpu cpuacct cpuset memory devices blkio io", "" },
        { "hybrid", CGROUP_MODE_HYBRID, "cpu cpuacct cpuset memory devices blkio", "" },
        { "v2", CGROUP_MODE_V2, "cpu cpuacct cpuset memory io blkio", "devices freezer" },
        { "nested", CGROUP_MODE_V1, "cpu cpuacct cpuset memory blkio", "devices" },
        { "none", CGROUP_MODE_NONE, "", "cpu memory" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(Tree) t = tree_new(cases[i].tree);
        g_autoptr(CgroupHost) host = cgroup_host_new(t->root, t->mountinfo);
        g_auto(GStrv) has = g_strsplit(cases[i].has, " ", -1);
        g_auto(GStrv) has_not = g_strsplit(cases[i].has_not, " ", -1);

        g_assert_cmpstr(cgroup_mode_to_string(cgroup_host_get_mode(host)), ==,
                        cgroup_mode_to_string(cases[i].mode));
        for (char **c = has; *c && **c; c++) {
            if (!cgroup_host_has_controller(host, *c))
                g_error("%s: controller %s missing", cases[i].tree, *c);
        }
        for (char **c = has_not; *c && **c; c++) {
            if (cgroup_host_has_controller(host, *c))
                g_error("%s: unexpected controller %s", cases[i].tree, *c);
        }
    }
    /* no mountinfo at all */
    g_autoptr(CgroupHost) host = cgroup_host_new("/", "/nonexistent/mountinfo");
    g_assert_cmpint(cgroup_host_get_mode(host), ==, CGROUP_MODE_NONE);
}

/* ---- a VM's life on each kind of host, logged ---- */

#define STEP(t, expr)                                                                        \
    do {                                                                                     \
        g_autoptr(GError) step_err = NULL;                                                   \
        g_hash_table_remove_all(shadow);                                                     \
        snapshot((t)->root);                                                                 \
        g_string_append_printf((t)->log, "# %s\n", #expr);                                   \
        if (!(expr)) {                                                                       \
            g_autofree char *msg = loggable((t), step_err->message);                         \
            g_string_append_printf((t)->log, "error %d: %s\n", step_err->code, msg);         \
        }                                                                                    \
    } while (0)
#define ERR (&step_err)

static void
log_i64(Tree *t, const char *what, gint64 value)
{
    g_string_append_printf(t->log, "= %s %" G_GINT64_FORMAT "\n", what, value);
}

static void
log_u64(Tree *t, const char *what, guint64 value)
{
    if (value == G_MAXUINT64)
        g_string_append_printf(t->log, "= %s unlimited\n", what);
    else
        g_string_append_printf(t->log, "= %s %" G_GUINT64_FORMAT "\n", what, value);
}

static gboolean
dir_contains(const char *dir, const char *needle)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);

        if (strstr(name, needle))
            return TRUE;
        if (g_file_test(path, G_FILE_TEST_IS_DIR) && dir_contains(path, needle))
            return TRUE;
    }
    return FALSE;
}

static void
run_life(const char *name)
{
    g_autoptr(Tree) t = tree_new(name);
    g_autoptr(CgroupHost) host = tree_host(t);
    g_autoptr(Cgroup) vm = NULL;
    g_autoptr(Cgroup) emulator = NULL;
    g_autoptr(Cgroup) vcpu0 = NULL;
    g_autoptr(Cgroup) found = NULL;
    g_autofree char *golden = g_strconcat(name, ".log", NULL);
    g_autofree char *cpus = NULL;
    guint64 u = 0, period = 0;
    gint64 quota = 0;
    unsigned int w = 0;

    shadow = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_string_append_printf(t->log, "mode %s\n", cgroup_mode_to_string(cgroup_host_get_mode(host)));

    STEP(t, (vm = cgroup_new_machine(host, NULL, 1, "web", FALSE, ERR)));
    g_assert_nonnull(vm);
    g_assert_cmpstr(cgroup_get_path(vm), ==, "/machine/qemu-1-web.libvirt-qemu");
    STEP(t, cgroup_add_process(vm, getpid(), ERR));
    STEP(t, (emulator = cgroup_new_child(vm, "emulator", ERR)));
    g_assert_nonnull(emulator);
    STEP(t, cgroup_move_tasks(vm, emulator, ERR));
    STEP(t, (vcpu0 = cgroup_new_child(vm, "vcpu0", ERR)));
    g_assert_nonnull(vcpu0);
    g_assert_cmpstr(cgroup_get_path(vcpu0), ==, "/machine/qemu-1-web.libvirt-qemu/vcpu0");
    STEP(t, cgroup_add_thread(vcpu0, gettid(), ERR));

    STEP(t, cgroup_set_cpu_shares(vm, 1024, ERR));
    STEP(t, cgroup_get_cpu_shares(vm, &u, ERR) && (log_u64(t, "shares", u), TRUE));
    STEP(t, cgroup_set_cpu_shares(vm, 262144, ERR));
    STEP(t, cgroup_set_cpu_shares(vm, 1, ERR));
    STEP(t, cgroup_set_cpu_bandwidth(vcpu0, 100000, 20000, ERR));
    STEP(t, cgroup_get_cpu_bandwidth(vcpu0, &period, &quota, ERR) &&
                (log_u64(t, "period", period), log_i64(t, "quota", quota), TRUE));
    STEP(t, cgroup_set_cpu_bandwidth(emulator, 50000, -1, ERR));
    STEP(t, cgroup_get_cpu_bandwidth(emulator, &period, &quota, ERR) &&
                (log_u64(t, "period", period), log_i64(t, "quota", quota), TRUE));
    STEP(t, cgroup_set_cpu_bandwidth(vm, 999, -1, ERR));
    STEP(t, cgroup_set_cpu_bandwidth(vm, 100000, 10, ERR));
    STEP(t, cgroup_get_cpu_usage(vm, &u, ERR) && (log_u64(t, "usage_ns", u), TRUE));

    STEP(t, cgroup_set_memory_swap_hard_limit(vm, 2097152, ERR));
    STEP(t, cgroup_set_memory_hard_limit(vm, 1048576, ERR));
    STEP(t, cgroup_get_memory_hard_limit(vm, &u, ERR) && (log_u64(t, "hard", u), TRUE));
    STEP(t, cgroup_set_memory_soft_limit(vm, 524288, ERR));
    STEP(t, cgroup_get_memory_soft_limit(vm, &u, ERR) && (log_u64(t, "soft", u), TRUE));
    STEP(t, cgroup_get_memory_swap_hard_limit(vm, &u, ERR) && (log_u64(t, "swap", u), TRUE));
    STEP(t, cgroup_set_memory_hard_limit(vm, G_MAXUINT64, ERR));
    STEP(t, cgroup_get_memory_hard_limit(vm, &u, ERR) && (log_u64(t, "hard", u), TRUE));
    STEP(t, cgroup_set_memory_soft_limit(vm, 9007199254740991ULL, ERR));
    STEP(t, cgroup_get_memory_soft_limit(vm, &u, ERR) && (log_u64(t, "soft", u), TRUE));
    STEP(t, cgroup_set_memory_hard_limit(vcpu0, 1024, ERR));

    STEP(t, cgroup_set_blkio_weight(vm, 300, ERR));
    STEP(t, cgroup_get_blkio_weight(vm, &w, ERR) && (log_u64(t, "weight", w), TRUE));
    STEP(t, cgroup_set_blkio_weight(vm, 50, ERR));
    STEP(t, cgroup_set_blkio_device_weight(vm, "/dev/fake-sda", 700, ERR));
    STEP(t, cgroup_get_blkio_device_weight(vm, "/dev/fake-sda", &w, ERR) &&
                (log_u64(t, "device_weight", w), TRUE));
    STEP(t, cgroup_set_blkio_device_weight(vm, "/dev/fake-sda", 0, ERR));
    STEP(t, cgroup_get_blkio_device_weight(vm, "/dev/fake-sda", &w, ERR) &&
                (log_u64(t, "device_weight", w), TRUE));
    STEP(t, cgroup_set_blkio_device_limit(vm, "/dev/fake-sda", "read_bps", 1048576, ERR));
    STEP(t, cgroup_set_blkio_device_limit(vm, "/dev/fake-sda", "write_iops", 200, ERR));
    STEP(t, cgroup_get_blkio_device_limit(vm, "/dev/fake-sda", "read_bps", &u, ERR) &&
                (log_u64(t, "read_bps", u), TRUE));
    STEP(t, cgroup_get_blkio_device_limit(vm, "/dev/fake-sda", "write_iops", &u, ERR) &&
                (log_u64(t, "write_iops", u), TRUE));
    STEP(t, cgroup_set_blkio_device_limit(vm, "/dev/fake-sda", "read_bps", 0, ERR));
    STEP(t, cgroup_get_blkio_device_limit(vm, "/dev/fake-sda", "read_bps", &u, ERR) &&
                (log_u64(t, "read_bps", u), TRUE));
    STEP(t, cgroup_set_blkio_device_limit(vm, "/dev/fake-sda", "read_kbps", 1, ERR));
    STEP(t, cgroup_set_blkio_device_limit(vm, "/dev/fake-sdb", "read_bps", 1, ERR));

    STEP(t, cgroup_set_cpuset_cpus(vcpu0, "1-2", ERR));
    STEP(t, cgroup_get_cpuset_cpus(vcpu0, &cpus, ERR) &&
                (g_string_append_printf(t->log, "= cpus %s\n", cpus), TRUE));
    STEP(t, cgroup_set_cpuset_mems(vcpu0, "0", ERR));
    STEP(t, cgroup_set_cpuset_cpus(vcpu0, "1;2", ERR));

    /* re-attach finds the group */
    STEP(t, (found = cgroup_new_machine(host, NULL, 1, "web", TRUE, ERR)));
    g_assert_nonnull(found);

    STEP(t, cgroup_remove(vm, ERR));
    g_assert_false(dir_contains(t->root, "libvirt-qemu"));
    /* the partition stays, as libvirt leaves it */
    g_assert_true(dir_contains(t->root, "machine"));
    STEP(t, cgroup_remove(vm, ERR));
    g_clear_pointer(&found, cgroup_free);
    STEP(t, (found = cgroup_new_machine(host, NULL, 1, "web", TRUE, ERR)));
    g_assert_null(found);

    assert_golden(golden, t->log->str);
    g_clear_pointer(&shadow, g_hash_table_unref);
}

static void
test_life_v1(void)
{
    run_life("v1");
}

static void
test_life_hybrid(void)
{
    run_life("hybrid");
}

static void
test_life_v2(void)
{
    run_life("v2");
}

static void
test_life_nested(void)
{
    run_life("nested");
}

static void
test_errors(void)
{
    g_autoptr(Tree) t = tree_new("v1");
    g_autoptr(Tree) none = tree_new("none");
    g_autoptr(CgroupHost) host = tree_host(t);
    g_autoptr(CgroupHost) no_host = cgroup_host_new(none->root, none->mountinfo);
    g_autoptr(GError) err = NULL;
    g_autoptr(Cgroup) vm = NULL;
    g_autoptr(Cgroup) child = NULL;
    g_autofree char *vm_cpu = g_build_filename(t->root, "sys/fs/cgroup/cpu/machine/qemu-2-db.libvirt-qemu", NULL);
    g_autofree char *vm_blkio = g_build_filename(t->root, "sys/fs/cgroup/blkio/machine/qemu-2-db.libvirt-qemu", NULL);
    g_autofree char *shares = g_build_filename(vm_cpu, "cpu.shares", NULL);
    g_autofree char *weight = g_build_filename(vm_blkio, "blkio.weight", NULL);
    unsigned int w;

    shadow = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    /* no cgroups at all */
    g_assert_null(cgroup_new_machine(no_host, NULL, 1, "web", FALSE, &err));
    g_assert_true(virt_error_is(err, VIR_ERR_OPERATION_UNSUPPORTED));
    g_clear_error(&err);

    /* a custom partition must exist */
    g_assert_null(cgroup_new_machine(host, "/machine/prod", 1, "web", FALSE, &err));
    g_assert_true(virt_error_is(err, VIR_ERR_OPERATION_FAILED));
    g_assert_nonnull(strstr(err->message, "prod.partition"));
    g_clear_error(&err);
    /* and nothing of the VM is left behind */
    g_assert_false(dir_contains(t->root, "libvirt-qemu"));

    /* a control file the kernel does not offer */
    vm = cgroup_new_machine(host, NULL, 2, "db", FALSE, &err);
    g_assert_no_error(err);
    g_assert_cmpint(unlink(shares), ==, 0);
    g_assert_false(cgroup_set_cpu_shares(vm, 100, &err));
    g_assert_true(virt_error_is(err, VIR_ERR_SYSTEM_ERROR));
    g_assert_nonnull(strstr(err->message, "cpu.shares"));
    g_assert_nonnull(strstr(err->message, "No such file or directory"));
    g_clear_error(&err);

    /* no bfq/cfq weights */
    g_assert_cmpint(unlink(weight), ==, 0);
    g_assert_false(cgroup_get_blkio_weight(vm, &w, &err));
    g_assert_true(virt_error_is(err, VIR_ERR_OPERATION_UNSUPPORTED));
    g_clear_error(&err);

    /* the default resolver wants a block device */
    cgroup_host_set_device_resolver(host, NULL);
    g_assert_false(cgroup_set_blkio_device_limit(vm, "/dev/null", "read_bps", 1, &err));
    g_assert_true(virt_error_is(err, VIR_ERR_INVALID_ARG));
    g_assert_cmpstr(err->message, ==, "'/dev/null' is not a block device");
    g_clear_error(&err);
    g_assert_false(cgroup_set_blkio_device_limit(vm, "/nonexistent", "read_bps", 1, &err));
    g_assert_true(virt_error_is(err, VIR_ERR_SYSTEM_ERROR));
    g_clear_error(&err);

    /* sub-group names */
    g_assert_null(cgroup_new_child(vm, "../x", &err));
    g_assert_true(virt_error_is(err, VIR_ERR_INVALID_ARG));
    g_clear_error(&err);
    g_assert_null(cgroup_new_child(vm, "cgroup.procs", &err));
    g_assert_true(virt_error_is(err, VIR_ERR_INVALID_ARG));
    g_clear_error(&err);

    /* existing_only on a VM never created */
    g_assert_null(cgroup_new_machine(host, NULL, 3, "gone", TRUE, &err));
    g_assert_true(virt_error_is(err, VIR_ERR_OPERATION_FAILED));
    g_clear_error(&err);

    g_assert_true(cgroup_remove(vm, &err));
    g_assert_false(dir_contains(t->root, "libvirt-qemu"));
    g_clear_pointer(&shadow, g_hash_table_unref);
}

/* ---- the real hierarchy ---- */

typedef struct {
    CgroupHost *host;
    Cgroup *vm;
    char *name;
    GPid pid;
} Real;

static void
real_setup(Real *r, gconstpointer data)
{
    r->name = g_strdup_printf("virtdtest%u", g_random_int());
}

static void
kill_child(Real *r)
{
    if (r->pid > 0) {
        kill(r->pid, SIGKILL);
        waitpid(r->pid, NULL, 0);
        r->pid = 0;
    }
}

/* Whatever the test did, leave nothing behind. */
static void
real_teardown(Real *r, gconstpointer data)
{
    g_autoptr(GDir) d = NULL;
    const char *ctrl;

    kill_child(r);
    if (r->vm)
        cgroup_remove(r->vm, NULL);
    d = g_dir_open("/sys/fs/cgroup", 0, NULL);
    while (d && (ctrl = g_dir_read_name(d))) {
        g_autofree char *machine = g_build_filename("/sys/fs/cgroup", ctrl, "machine", NULL);
        g_autoptr(GDir) m = g_dir_open(machine, 0, NULL);
        const char *entry;

        while (m && (entry = g_dir_read_name(m))) {
            g_autofree char *dir = g_build_filename(machine, entry, NULL);
            g_autoptr(GDir) sub = NULL;
            const char *child;

            if (!strstr(entry, r->name))
                continue;
            sub = g_dir_open(dir, 0, NULL);
            while (sub && (child = g_dir_read_name(sub))) {
                g_autofree char *cdir = g_build_filename(dir, child, NULL);

                if (g_file_test(cdir, G_FILE_TEST_IS_DIR))
                    rmdir(cdir);
            }
            rmdir(dir);
        }
    }
    g_clear_pointer(&r->vm, cgroup_free);
    g_clear_pointer(&r->host, cgroup_host_free);
    g_free(r->name);
}

static gboolean
real_usable(const char *mountinfo, CgroupMode want1, CgroupMode want2, Real *r)
{
    if (geteuid() != 0) {
        g_test_skip("needs root to write /sys/fs/cgroup");
        return FALSE;
    }
    r->host = cgroup_host_new("/", mountinfo);
    if (cgroup_host_get_mode(r->host) != want1 && cgroup_host_get_mode(r->host) != want2) {
        g_autofree char *msg = g_strdup_printf("cgroup mode is %s",
            cgroup_mode_to_string(cgroup_host_get_mode(r->host)));

        g_test_skip(msg);
        return FALSE;
    }
    if (access("/sys/fs/cgroup", W_OK) < 0) {
        g_test_skip("/sys/fs/cgroup is not writable");
        return FALSE;
    }
    return TRUE;
}

static void
spawn_child(Real *r, const char *script)
{
    const char *argv[] = { "/bin/sh", "-c", script, NULL };
    g_autoptr(GError) err = NULL;

    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                NULL, &r->pid, &err));
    g_assert_no_error(err);
}

/* The line of /proc/PID/cgroup for @hierarchy ("cpu", or "" for v2). */
static char *
proc_cgroup(pid_t pid, const char *hierarchy)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/cgroup", pid);
    g_autofree char *text = slurp(path);
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);

    for (char **l = lines; *l; l++) {
        g_auto(GStrv) f = g_strsplit(*l, ":", 3);

        if (g_strv_length(f) == 3 && g_str_equal(f[1], hierarchy))
            return g_strdup(f[2]);
    }
    return NULL;
}

static const char *
real_block_device(void)
{
    static char path[64];
    g_autoptr(GDir) d = g_dir_open("/sys/block", 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        struct stat st;

        if (g_str_has_prefix(name, "loop") || g_str_has_prefix(name, "ram"))
            continue;
        g_snprintf(path, sizeof(path), "/dev/%s", name);
        if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
            return path;
    }
    return NULL;
}

static void
test_real_v1(Real *r, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(Cgroup) emulator = NULL;
    g_autofree char *expected = NULL;
    g_autofree char *where = NULL;
    guint64 u = 0, period = 0;
    gint64 quota = 0;
    const char *disk;

    if (!real_usable("/proc/self/mountinfo", CGROUP_MODE_V1, CGROUP_MODE_HYBRID, r))
        return;
    r->vm = cgroup_new_machine(r->host, NULL, 9999, r->name, FALSE, &err);
    g_assert_no_error(err);
    expected = g_strdup_printf("/machine/qemu-9999-%s.libvirt-qemu", r->name);
    g_assert_cmpstr(cgroup_get_path(r->vm), ==, expected);

    /* burn a little CPU, then sleep */
    spawn_child(r, "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; exec sleep 30");
    g_assert_true(cgroup_add_process(r->vm, r->pid, &err));
    g_assert_no_error(err);
    where = proc_cgroup(r->pid, "memory");
    g_assert_cmpstr(where, ==, expected);
    g_clear_pointer(&where, g_free);

    g_assert_true(cgroup_set_cpu_shares(r->vm, 2048, &err));
    g_assert_true(cgroup_get_cpu_shares(r->vm, &u, &err));
    g_assert_cmpuint(u, ==, 2048);
    g_assert_true(cgroup_set_cpu_bandwidth(r->vm, 100000, 50000, &err));
    g_assert_true(cgroup_get_cpu_bandwidth(r->vm, &period, &quota, &err));
    g_assert_cmpuint(period, ==, 100000);
    g_assert_cmpint(quota, ==, 50000);
    g_assert_true(cgroup_set_memory_hard_limit(r->vm, 524288, &err));
    g_assert_true(cgroup_get_memory_hard_limit(r->vm, &u, &err));
    g_assert_cmpuint(u, ==, 524288);
    g_assert_true(cgroup_set_memory_hard_limit(r->vm, G_MAXUINT64, &err));
    g_assert_true(cgroup_get_memory_hard_limit(r->vm, &u, &err));
    g_assert_cmpuint(u, ==, G_MAXUINT64);
    g_assert_no_error(err);

    /* the child counts until it sleeps: the group's usage grows from 0 */
    for (int i = 0; i < 100 && u == 0; i++) {
        g_usleep(20000);
        g_assert_true(cgroup_get_cpu_usage(r->vm, &u, &err));
    }
    g_assert_no_error(err);
    g_assert_cmpuint(u, >, 0);

    /* blkio weights need bfq or cfq: either it works or it says so */
    if (!cgroup_set_blkio_weight(r->vm, 300, &err)) {
        g_assert_true(virt_error_is(err, VIR_ERR_OPERATION_UNSUPPORTED));
        g_clear_error(&err);
    }
    if ((disk = real_block_device())) {
        g_assert_true(cgroup_set_blkio_device_limit(r->vm, disk, "read_bps", 1048576, &err));
        g_assert_no_error(err);
        g_assert_true(cgroup_get_blkio_device_limit(r->vm, disk, "read_bps", &u, &err));
        g_assert_cmpuint(u, ==, 1048576);
    }

    /* QEMU's threads go to emulator/, cpuset values inherited so they may join */
    emulator = cgroup_new_child(r->vm, "emulator", &err);
    g_assert_no_error(err);
    g_assert_true(cgroup_move_tasks(r->vm, emulator, &err));
    g_assert_no_error(err);
    where = proc_cgroup(r->pid, "cpuset");
    g_assert_true(g_str_has_suffix(where, "/emulator"));
    g_clear_pointer(&where, g_free);
    where = proc_cgroup(r->pid, "memory");
    g_assert_cmpstr(where, ==, expected);

    /* a busy group is refused, named */
    g_assert_false(cgroup_remove(r->vm, &err));
    g_assert_true(virt_error_is(err, VIR_ERR_SYSTEM_ERROR));
    g_assert_nonnull(strstr(err->message, "Device or resource busy"));
    g_clear_error(&err);

    kill_child(r);
    g_assert_true(cgroup_remove(r->vm, &err));
    g_assert_no_error(err);
    {
        g_autoptr(GDir) d = g_dir_open("/sys/fs/cgroup", 0, NULL);
        const char *ctrl;

        while (d && (ctrl = g_dir_read_name(d))) {
            g_autofree char *dir = g_strdup_printf("/sys/fs/cgroup/%s%s", ctrl, expected);

            g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
        }
    }
}

/* On a hybrid host, the controller-less unified hierarchy still checks the v2 process
 * moves against a real kernel: threaded sub-groups, cgroup.threads. */
static void
test_real_v2_moves(Real *r, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(Cgroup) emulator = NULL;
    g_autoptr(Cgroup) vcpu0 = NULL;
    g_autofree char *text = slurp("/proc/self/mountinfo");
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
    g_autofree char *mountinfo = NULL;
    g_autofree char *expected = NULL;
    g_autofree char *where = NULL;
    g_autofree char *type = NULL;
    g_autofree char *type_path = NULL;
    g_autofree char *vm_path = NULL;
    g_autofree char *tmp = g_dir_make_tmp("virtd-cgroup-XXXXXX", NULL);
    char *line = NULL;

    for (char **l = lines; *l; l++) {
        if (strstr(*l, " - cgroup2 ") && strstr(*l, " /sys/fs/cgroup/unified "))
            line = *l;
    }
    if (!line) {
        g_test_skip("no /sys/fs/cgroup/unified cgroup2 mount");
        return;
    }
    mountinfo = g_build_filename(tmp, "mountinfo", NULL);
    g_assert_true(g_file_set_contents(mountinfo, line, -1, NULL));
    if (!real_usable(mountinfo, CGROUP_MODE_V2, CGROUP_MODE_V2, r))
        goto out;

    r->vm = cgroup_new_machine(r->host, NULL, 9998, r->name, FALSE, &err);
    g_assert_no_error(err);
    expected = g_strdup_printf("/machine/qemu-9998-%s.libvirt-qemu", r->name);
    spawn_child(r, "exec sleep 30");
    g_assert_true(cgroup_add_process(r->vm, r->pid, &err));
    g_assert_no_error(err);
    where = proc_cgroup(r->pid, "");
    g_assert_cmpstr(where, ==, expected);
    g_clear_pointer(&where, g_free);

    emulator = cgroup_new_child(r->vm, "emulator", &err);
    g_assert_no_error(err);
    type_path = g_build_filename("/sys/fs/cgroup/unified", expected, "emulator/cgroup.type", NULL);
    type = slurp(type_path);
    g_assert_cmpstr(type, ==, "threaded\n");
    g_assert_true(cgroup_move_tasks(r->vm, emulator, &err));
    g_assert_no_error(err);
    where = proc_cgroup(r->pid, "");
    g_assert_true(g_str_has_suffix(where, "/emulator"));
    g_clear_pointer(&where, g_free);

    /* a single thread into vcpu0 */
    vcpu0 = cgroup_new_child(r->vm, "vcpu0", &err);
    g_assert_no_error(err);
    g_assert_true(cgroup_add_thread(vcpu0, r->pid, &err));
    g_assert_no_error(err);
    where = proc_cgroup(r->pid, "");
    g_assert_true(g_str_has_suffix(where, "/vcpu0"));

    kill_child(r);
    g_assert_true(cgroup_remove(r->vm, &err));
    g_assert_no_error(err);
    vm_path = g_build_filename("/sys/fs/cgroup/unified", expected, NULL);
    g_assert_false(g_file_test(vm_path, G_FILE_TEST_EXISTS));
out:
    unlink(mountinfo);
    rmdir(tmp);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cgroup/machine-name", test_machine_name);
    g_test_add_func("/cgroup/partition-path", test_partition_path);
    g_test_add_func("/cgroup/conversions", test_conversions);
    g_test_add_func("/cgroup/detect", test_detect);
    g_test_add_func("/cgroup/life/v1", test_life_v1);
    g_test_add_func("/cgroup/life/hybrid", test_life_hybrid);
    g_test_add_func("/cgroup/life/v2", test_life_v2);
    g_test_add_func("/cgroup/life/nested", test_life_nested);
    g_test_add_func("/cgroup/errors", test_errors);
    g_test_add("/cgroup/real/v1", Real, NULL, real_setup, test_real_v1, real_teardown);
    g_test_add("/cgroup/real/v2-moves", Real, NULL, real_setup, test_real_v2_moves,
               real_teardown);
    return g_test_run();
}
