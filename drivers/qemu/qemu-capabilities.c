/* QEMU capabilities: probe over QMP, cache on disk, format as capabilities XML. */
#include "drivers/qemu/qemu-capabilities.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/util/file.h"
#include "daemon/util/virt-error.h"
#include "drivers/qemu/qmp.h"

#define QEMU_CAPS_CACHE_FORMAT 1
#define QEMU_CAPS_PROBE_TIMEOUT_MS 30000
#define QEMU_CAPS_EXIT_TIMEOUT_MS 10000

typedef struct {
    char *name;
    char *alias; /* "pc" for the machine it stands for, or NULL */
    int max_cpus;
    gboolean deprecated;
} QemuMachine;

typedef struct {
    const char *name;   /* static: from the known model table */
    const char *vendor; /* "Intel", "AMD", "Hygon", "unknown" */
    gboolean usable;
} QemuCpuModel;

struct _QemuCaps {
    gint refs;
    char *binary;
    char *arch;
    guint64 version;
    gboolean kvm;       /* KVM usable: host facts and QEMU agree */
    gboolean has_swtpm;
    GPtrArray *machines; /* QemuMachine*, the default first, then QEMU's order */
    GArray *cpus_tcg;    /* QemuCpuModel */
    GArray *cpus_kvm;    /* QemuCpuModel, empty without KVM */
    GHashTable *devices; /* QOM type names */
};

/* The x86 CPU models libvirt knows, with their vendors; QEMU's other names (versioned
 * "-vN" aliases, "max", "host", "base", models libvirt has no definition for) are not
 * offered as custom models. */
static const struct {
    const char *name;
    const char *vendor;
} qemu_caps_known_cpus[] = {
    { "486", "unknown" },          { "pentium", "unknown" },
    { "pentium2", "unknown" },     { "pentium3", "unknown" },
    { "pentiumpro", "unknown" },   { "coreduo", "Intel" },
    { "n270", "Intel" },           { "core2duo", "Intel" },
    { "qemu32", "unknown" },       { "kvm32", "unknown" },
    { "cpu64-rhel5", "unknown" },  { "cpu64-rhel6", "unknown" },
    { "qemu64", "unknown" },       { "kvm64", "unknown" },
    { "Conroe", "Intel" },         { "Penryn", "Intel" },
    { "Nehalem", "Intel" },        { "Nehalem-IBRS", "Intel" },
    { "Westmere", "Intel" },       { "Westmere-IBRS", "Intel" },
    { "SandyBridge", "Intel" },    { "SandyBridge-IBRS", "Intel" },
    { "IvyBridge", "Intel" },      { "IvyBridge-IBRS", "Intel" },
    { "Haswell", "Intel" },        { "Haswell-IBRS", "Intel" },
    { "Haswell-noTSX", "Intel" },  { "Haswell-noTSX-IBRS", "Intel" },
    { "Broadwell", "Intel" },      { "Broadwell-IBRS", "Intel" },
    { "Broadwell-noTSX", "Intel" }, { "Broadwell-noTSX-IBRS", "Intel" },
    { "Skylake-Client", "Intel" }, { "Skylake-Client-IBRS", "Intel" },
    { "Skylake-Client-noTSX-IBRS", "Intel" },
    { "Skylake-Server", "Intel" }, { "Skylake-Server-IBRS", "Intel" },
    { "Skylake-Server-noTSX-IBRS", "Intel" },
    { "Cascadelake-Server", "Intel" }, { "Cascadelake-Server-noTSX", "Intel" },
    { "Icelake-Client", "Intel" }, { "Icelake-Client-noTSX", "Intel" },
    { "Icelake-Server", "Intel" }, { "Icelake-Server-noTSX", "Intel" },
    { "Cooperlake", "Intel" },     { "Snowridge", "Intel" },
    { "athlon", "AMD" },           { "phenom", "AMD" },
    { "Opteron_G1", "AMD" },       { "Opteron_G2", "AMD" },
    { "Opteron_G3", "AMD" },       { "Opteron_G4", "AMD" },
    { "Opteron_G5", "AMD" },       { "EPYC", "AMD" },
    { "EPYC-IBPB", "AMD" },        { "EPYC-Rome", "AMD" },
    { "EPYC-Milan", "AMD" },       { "Dhyana", "Hygon" },
};

static void
qemu_machine_free(QemuMachine *m)
{
    g_free(m->name);
    g_free(m->alias);
    g_free(m);
}

QemuCaps *
qemu_caps_ref(QemuCaps *caps)
{
    if (caps)
        g_atomic_int_inc(&caps->refs);
    return caps;
}

void
qemu_caps_unref(QemuCaps *caps)
{
    if (!caps || !g_atomic_int_dec_and_test(&caps->refs))
        return;
    g_free(caps->binary);
    g_free(caps->arch);
    g_ptr_array_unref(caps->machines);
    g_array_unref(caps->cpus_tcg);
    g_array_unref(caps->cpus_kvm);
    g_hash_table_unref(caps->devices);
    g_free(caps);
}

guint64
qemu_caps_get_version(const QemuCaps *caps)
{
    return caps->version;
}

const char *
qemu_caps_get_binary(const QemuCaps *caps)
{
    return caps->binary;
}

const char *
qemu_caps_get_arch(const QemuCaps *caps)
{
    return caps->arch;
}

gboolean
qemu_caps_has_kvm(const QemuCaps *caps)
{
    return caps->kvm;
}

gboolean
qemu_caps_has_device(const QemuCaps *caps, const char *name)
{
    return g_hash_table_contains(caps->devices, name);
}

const char *
qemu_caps_default_machine(const QemuCaps *caps)
{
    if (caps->machines->len == 0)
        return NULL;
    return ((QemuMachine *)caps->machines->pdata[0])->name;
}

static const QemuMachine *
qemu_caps_find_machine(const QemuCaps *caps, const char *machine)
{
    if (!machine)
        return caps->machines->len ? caps->machines->pdata[0] : NULL;
    for (guint i = 0; i < caps->machines->len; i++) {
        const QemuMachine *m = caps->machines->pdata[i];

        if (strcmp(m->name, machine) == 0 || g_strcmp0(m->alias, machine) == 0)
            return m;
    }
    return NULL;
}

const char *
qemu_caps_resolve_machine(const QemuCaps *caps, const char *machine)
{
    const QemuMachine *m = machine ? qemu_caps_find_machine(caps, machine) : NULL;

    return m ? m->name : NULL;
}

int
qemu_caps_max_cpus(const QemuCaps *caps, const char *machine)
{
    const QemuMachine *m = qemu_caps_find_machine(caps, machine);

    return m ? m->max_cpus : -1;
}

void
qemu_caps_host_facts(QemuHostFacts *ret_facts)
{
    g_autofree char *swtpm = g_find_program_in_path("swtpm");

    ret_facts->kvm_usable = access("/dev/kvm", R_OK | W_OK) == 0;
    ret_facts->has_swtpm = swtpm != NULL;
}

/* ---- building from replies (pure) ---- */

static json_object *
replies_get(json_object *replies, const char *command, json_type type, GError **error)
{
    json_object *val;

    if (!json_object_object_get_ex(replies, command, &val) || !json_object_is_type(val, type)) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("missing or malformed reply to '%s' from QEMU"), command);
        return NULL;
    }
    return val;
}

static gint64
json_member_int(json_object *obj, const char *key, gint64 fallback)
{
    json_object *val;

    if (!json_object_object_get_ex(obj, key, &val))
        return fallback;
    return json_object_get_int64(val);
}

static gboolean
json_member_bool(json_object *obj, const char *key)
{
    json_object *val;

    return json_object_object_get_ex(obj, key, &val) && json_object_get_boolean(val);
}

static const char *
json_member_string(json_object *obj, const char *key)
{
    json_object *val;

    if (!json_object_object_get_ex(obj, key, &val) || !json_object_is_type(val, json_type_string))
        return NULL;
    return json_object_get_string(val);
}

static GArray *
qemu_caps_parse_cpus(json_object *defs)
{
    GArray *cpus = g_array_new(FALSE, FALSE, sizeof(QemuCpuModel));
    size_t n = defs ? json_object_array_length(defs) : 0;

    for (size_t i = 0; i < n; i++) {
        json_object *def = json_object_array_get_idx(defs, i);
        const char *name = json_member_string(def, "name");
        json_object *unavailable;

        if (!name)
            continue;
        for (gsize k = 0; k < G_N_ELEMENTS(qemu_caps_known_cpus); k++) {
            QemuCpuModel model;

            if (strcmp(qemu_caps_known_cpus[k].name, name) != 0)
                continue;
            model.name = qemu_caps_known_cpus[k].name;
            model.vendor = qemu_caps_known_cpus[k].vendor;
            model.usable = !json_object_object_get_ex(def, "unavailable-features", &unavailable) ||
                           json_object_array_length(unavailable) == 0;
            g_array_append_val(cpus, model);
            break;
        }
    }
    return cpus;
}

static const char *
qemu_caps_arch_from_target(const char *target)
{
    if (strcmp(target, "i386") == 0)
        return "i686";
    return target;
}

QemuCaps *
qemu_caps_new_from_replies(const char *binary, json_object *replies,
                           const QemuHostFacts *facts, GError **error)
{
    g_autoptr(QemuCaps) caps = g_new0(QemuCaps, 1);
    json_object *version, *target, *machines, *cpus, *kvm, *types, *qemu, *kvm_cpus = NULL;
    const char *arch;
    size_t n;

    caps->refs = 1;
    caps->binary = g_strdup(binary);
    caps->machines = g_ptr_array_new_with_free_func((GDestroyNotify)qemu_machine_free);
    caps->devices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    caps->cpus_tcg = g_array_new(FALSE, FALSE, sizeof(QemuCpuModel));
    caps->cpus_kvm = g_array_new(FALSE, FALSE, sizeof(QemuCpuModel));

    if (!(version = replies_get(replies, "query-version", json_type_object, error)) ||
        !(target = replies_get(replies, "query-target", json_type_object, error)) ||
        !(machines = replies_get(replies, "query-machines", json_type_array, error)) ||
        !(cpus = replies_get(replies, "query-cpu-definitions", json_type_array, error)) ||
        !(kvm = replies_get(replies, "query-kvm", json_type_object, error)) ||
        !(types = replies_get(replies, "qom-list-types", json_type_array, error)))
        return NULL;
    json_object_object_get_ex(replies, "query-cpu-definitions-kvm", &kvm_cpus);

    if (!json_object_object_get_ex(version, "qemu", &qemu) ||
        !(arch = json_member_string(target, "arch"))) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("malformed version or target reply from QEMU '%s'"), binary);
        return NULL;
    }
    caps->version = json_member_int(qemu, "major", 0) * 1000000 +
                    json_member_int(qemu, "minor", 0) * 1000 + json_member_int(qemu, "micro", 0);
    caps->arch = g_strdup(qemu_caps_arch_from_target(arch));

    /* Machines: the default one first, then QEMU's order; "none" is no guest machine. */
    n = json_object_array_length(machines);
    for (size_t i = 0; i < n; i++) {
        json_object *obj = json_object_array_get_idx(machines, i);
        const char *name = json_member_string(obj, "name");
        QemuMachine *m;

        if (!name || strcmp(name, "none") == 0)
            continue;
        m = g_new0(QemuMachine, 1);
        m->name = g_strdup(name);
        m->alias = g_strdup(json_member_string(obj, "alias"));
        m->max_cpus = (int)json_member_int(obj, "cpu-max", 1);
        m->deprecated = json_member_bool(obj, "deprecated");
        if (json_member_bool(obj, "is-default"))
            g_ptr_array_insert(caps->machines, 0, m);
        else
            g_ptr_array_add(caps->machines, m);
    }
    if (caps->machines->len == 0) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("QEMU '%s' reports no machine types"), binary);
        return NULL;
    }

    n = json_object_array_length(types);
    for (size_t i = 0; i < n; i++) {
        const char *name = json_member_string(json_object_array_get_idx(types, i), "name");

        if (name)
            g_hash_table_add(caps->devices, g_strdup(name));
    }

    g_array_unref(caps->cpus_tcg);
    caps->cpus_tcg = qemu_caps_parse_cpus(cpus);
    caps->kvm = facts && facts->kvm_usable && json_member_bool(kvm, "present") &&
                kvm_cpus && json_object_is_type(kvm_cpus, json_type_array);
    if (caps->kvm) {
        g_array_unref(caps->cpus_kvm);
        caps->cpus_kvm = qemu_caps_parse_cpus(kvm_cpus);
    }
    caps->has_swtpm = facts && facts->has_swtpm;
    return g_steal_pointer(&caps);
}

/* ---- probing (spawns QEMU) ---- */

/* The last non-empty lines of QEMU's stderr, for error messages. */
static char *
qemu_caps_stderr_tail(const GString *err)
{
    g_autofree char *copy = g_strstrip(g_strdup(err->str));
    char *last;

    if (!*copy)
        return NULL;
    last = strrchr(copy, '\n');
    return g_strdup(last ? last + 1 : copy);
}

static void
qemu_caps_drain_fd(int fd, GString *out)
{
    char chunk[4096];
    ssize_t n;

    while ((n = read(fd, chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0 && out->len < 65536)
            g_string_append_len(out, chunk, n);
    }
}

/* Wait for @pid; kill it when it does not exit within the timeout. */
static void
qemu_caps_reap(GPid pid, gboolean kill_now)
{
    gint64 deadline = g_get_monotonic_time() + QEMU_CAPS_EXIT_TIMEOUT_MS * 1000LL;
    int status;

    if (kill_now)
        kill(pid, SIGKILL);
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid || (r < 0 && errno != EINTR))
            break;
        if (g_get_monotonic_time() > deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            break;
        }
        g_usleep(10000);
    }
    g_spawn_close_pid(pid);
}

static const char *const qemu_caps_probe_commands[] = {
    "query-version", "query-target", "query-machines", "query-cpu-definitions",
    "query-kvm", "qom-list-types",
};

/* Run @binary with @accel and return the replies of the probe commands. */
/* A probe QEMU must not outlive the thread that waits for it (a daemon killed mid-probe). */
static void
probe_child_setup(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static json_object *
qemu_caps_probe(const char *binary, const char *accel, GError **error)
{
    const char *argv[] = {
        binary, "-machine", "none", "-accel", accel, "-nodefaults", "-nographic",
        "-no-user-config", "-S", "-chardev", "socket,id=qmp,fd=3",
        "-mon", "chardev=qmp,mode=control", NULL,
    };
    g_auto(GStrv) envp = g_environ_setenv(g_get_environ(), "LC_ALL", "C", TRUE);
    g_autoptr(GString) err_text = g_string_new(NULL);
    g_autoptr(QmpClient) client = NULL;
    g_autoptr(GError) local = NULL;
    json_object *replies = NULL;
    int sv[2], source_fds[1], target_fds[1] = { 3 };
    int stderr_fd = -1;
    gboolean ok = FALSE;
    GPid pid;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        virt_error_set_errno(error, VIR_FROM_QEMU, errno, _("cannot create a socket pair"));
        return NULL;
    }
    source_fds[0] = sv[1];
    if (!g_spawn_async_with_pipes_and_fds(NULL, argv, (const char *const *)envp,
                                          G_SPAWN_DO_NOT_REAP_CHILD |
                                              G_SPAWN_STDOUT_TO_DEV_NULL |
                                              G_SPAWN_STDIN_FROM_DEV_NULL,
                                          probe_child_setup, NULL, -1, -1, -1, source_fds,
                                          target_fds, 1,
                                          &pid, NULL, NULL, &stderr_fd, &local)) {
        close(sv[0]);
        close(sv[1]);
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("cannot run QEMU '%s': %s"), binary, local->message);
        return NULL;
    }
    close(sv[1]);
    client = qmp_client_new_fd(sv[0]);

    if (qmp_client_handshake(client, QEMU_CAPS_PROBE_TIMEOUT_MS, &local)) {
        replies = json_object_new_object();
        ok = TRUE;
        for (gsize i = 0; ok && i < G_N_ELEMENTS(qemu_caps_probe_commands); i++) {
            json_object *ret = qmp_client_execute(client, qemu_caps_probe_commands[i], NULL,
                                                  QEMU_CAPS_PROBE_TIMEOUT_MS, &local);

            if (ret)
                json_object_object_add(replies, qemu_caps_probe_commands[i], ret);
            else
                ok = FALSE;
        }
        if (ok) {
            /* Wait for the reply (or the monitor closing) so QEMU is on its way out. */
            json_object *ret = qmp_client_execute(client, "quit", NULL,
                                                  QEMU_CAPS_EXIT_TIMEOUT_MS, NULL);

            json_object_put(ret);
        }
    }
    g_clear_pointer(&client, qmp_client_free);
    qemu_caps_reap(pid, !ok);
    qemu_caps_drain_fd(stderr_fd, err_text);
    close(stderr_fd);

    if (!ok) {
        g_autofree char *tail = qemu_caps_stderr_tail(err_text);

        json_object_put(replies);
        if (tail)
            g_message("QEMU '%s' (accel %s) failed: %s", binary, accel, err_text->str);
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("cannot probe the capabilities of QEMU '%s': %s"), binary,
                       tail ? tail : local->message);
        return NULL;
    }
    return replies;
}

/* ---- cache ---- */

char *
qemu_caps_cache_path(const char *cache_dir, const char *binary)
{
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, binary, -1);
    g_autofree char *name = g_strdup_printf("%s.json", sum);

    return g_build_filename(cache_dir, name, NULL);
}

static json_object *
qemu_caps_identity(const char *binary, const struct stat *st)
{
    json_object *id = json_object_new_object();

    json_object_object_add(id, "path", json_object_new_string(binary));
    json_object_object_add(id, "size", json_object_new_int64(st->st_size));
    json_object_object_add(id, "mtime",
                           json_object_new_int64(st->st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) +
                                                 st->st_mtim.tv_nsec));
    json_object_object_add(id, "ctime",
                           json_object_new_int64(st->st_ctim.tv_sec * G_GINT64_CONSTANT(1000000000) +
                                                 st->st_ctim.tv_nsec));
    json_object_object_add(id, "inode", json_object_new_int64((gint64)st->st_ino));
    return id;
}

/* The cached replies when the cache entry matches the binary's identity and was probed
 * with the same KVM availability; NULL otherwise (a bad entry is ignored and replaced). */
static json_object *
qemu_caps_cache_load(const char *path, json_object *identity, gboolean kvm_usable)
{
    g_autofree char *text = NULL;
    json_object *root, *val, *replies = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    root = json_tokener_parse(text);
    if (!root)
        return NULL;
    if (json_member_int(root, "format", 0) == QEMU_CAPS_CACHE_FORMAT &&
        json_object_object_get_ex(root, "binary", &val) &&
        json_object_equal(val, identity) &&
        json_member_bool(root, "kvm-probed") == kvm_usable &&
        json_object_object_get_ex(root, "replies", &val) &&
        json_object_is_type(val, json_type_object))
        replies = json_object_get(val);
    json_object_put(root);
    return replies;
}

static void
qemu_caps_cache_store(const char *cache_dir, const char *path, json_object *identity,
                      const QemuCaps *caps, json_object *replies, gboolean kvm_probed)
{
    g_autoptr(GError) local = NULL;
    json_object *root = json_object_new_object();
    const char *text;

    json_object_object_add(root, "format", json_object_new_int(QEMU_CAPS_CACHE_FORMAT));
    json_object_object_add(root, "binary", json_object_get(identity));
    json_object_object_add(root, "qemu-version", json_object_new_int64((gint64)caps->version));
    json_object_object_add(root, "kvm-probed", json_object_new_boolean(kvm_probed));
    json_object_object_add(root, "replies", json_object_get(replies));
    text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
    if (!file_make_dirs(cache_dir, 0755, &local) ||
        !file_write_atomic(path, text, strlen(text), 0644, &local))
        g_warning("cannot cache the capabilities of QEMU '%s': %s", caps->binary,
                  local->message);
    json_object_put(root);
}

QemuCaps *
qemu_caps_new_for_binary(const char *binary, const char *cache_dir, GError **error)
{
    g_autofree char *cache_path = NULL;
    json_object *identity = NULL;
    json_object *replies = NULL;
    QemuHostFacts facts;
    QemuCaps *caps = NULL;
    struct stat st;
    json_object *kvm;

    if (stat(binary, &st) < 0) {
        virt_error_set_errno(error, VIR_FROM_QEMU, errno, _("cannot find QEMU binary '%s'"),
                             binary);
        return NULL;
    }
    qemu_caps_host_facts(&facts);
    identity = qemu_caps_identity(binary, &st);
    if (cache_dir) {
        cache_path = qemu_caps_cache_path(cache_dir, binary);
        replies = qemu_caps_cache_load(cache_path, identity, facts.kvm_usable);
        if (replies) {
            caps = qemu_caps_new_from_replies(binary, replies, &facts, NULL);
            json_object_put(replies);
            if (caps) {
                json_object_put(identity);
                return caps;
            }
        }
    }

    replies = qemu_caps_probe(binary, "tcg", error);
    if (!replies) {
        json_object_put(identity);
        return NULL;
    }
    /* A second run under KVM tells which CPU models KVM can offer on this host. */
    if (facts.kvm_usable && json_object_object_get_ex(replies, "query-kvm", &kvm) &&
        json_member_bool(kvm, "present")) {
        g_autoptr(GError) local = NULL;
        json_object *kvm_replies = qemu_caps_probe(binary, "kvm", &local);
        json_object *defs;

        if (kvm_replies &&
            json_object_object_get_ex(kvm_replies, "query-cpu-definitions", &defs))
            json_object_object_add(replies, "query-cpu-definitions-kvm",
                                   json_object_get(defs));
        else
            g_message("KVM is not usable with QEMU '%s': %s", binary,
                      local ? local->message : "no CPU definitions");
        json_object_put(kvm_replies);
    }

    caps = qemu_caps_new_from_replies(binary, replies, &facts, error);
    if (caps && cache_path)
        qemu_caps_cache_store(cache_dir, cache_path, identity, caps, replies, facts.kvm_usable);
    json_object_put(replies); /* only the cache keeps them: parsed, they cost ~1.5 MiB */
    json_object_put(identity);
    return caps;
}

/* ---- capabilities XML ---- */

static int
qemu_caps_wordsize(const char *arch)
{
    static const char *const arch32[] = { "i686", "armv7l", "armv6l", "ppc", "mips", "mipsel",
                                          "sparc", "riscv32", "m68k", "microblaze", "or1k",
                                          "sh4" };

    for (gsize i = 0; i < G_N_ELEMENTS(arch32); i++) {
        if (strcmp(arch, arch32[i]) == 0)
            return 32;
    }
    return 64;
}

static gboolean
qemu_caps_dir_has_entries(const char *root, const char *rel)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);

    return dir && g_dir_read_name(dir) != NULL;
}

static void
qemu_caps_format_guest(const QemuCaps *caps, GString *buf)
{
    gboolean x86 = strcmp(caps->arch, "i686") == 0 || strcmp(caps->arch, "x86_64") == 0;

    g_string_append(buf, "  <guest>\n");
    g_string_append(buf, "    <os_type>hvm</os_type>\n");
    g_string_append_printf(buf, "    <arch name='%s'>\n", caps->arch);
    g_string_append_printf(buf, "      <wordsize>%d</wordsize>\n", qemu_caps_wordsize(caps->arch));
    g_string_append_printf(buf, "      <emulator>%s</emulator>\n", caps->binary);
    for (guint i = 0; i < caps->machines->len; i++) {
        const QemuMachine *m = caps->machines->pdata[i];
        const char *dep = m->deprecated ? " deprecated='yes'" : "";

        g_string_append_printf(buf, "      <machine maxCpus='%d'%s>%s</machine>\n", m->max_cpus,
                               dep, m->name);
        if (m->alias)
            g_string_append_printf(buf,
                                   "      <machine canonical='%s' maxCpus='%d'%s>%s</machine>\n",
                                   m->name, m->max_cpus, dep, m->alias);
    }
    g_string_append(buf, "      <domain type='qemu'/>\n");
    if (caps->kvm)
        g_string_append(buf, "      <domain type='kvm'/>\n");
    g_string_append(buf, "    </arch>\n");
    g_string_append(buf, "    <features>\n");
    if (strcmp(caps->arch, "i686") == 0)
        g_string_append(buf, "      <pae/>\n      <nonpae/>\n");
    if (x86)
        g_string_append(buf, "      <acpi default='on' toggle='yes'/>\n"
                             "      <apic default='on' toggle='no'/>\n");
    g_string_append(buf, "      <cpuselection/>\n"
                         "      <deviceboot/>\n"
                         "      <disksnapshot default='on' toggle='no'/>\n");
    g_string_append(buf, "    </features>\n");
    g_string_append(buf, "  </guest>\n\n");
}

char *
qemu_caps_format_capabilities_list(QemuCaps *const *caps, guint n_caps, const HostRoots *roots,
                                   const char *host_uuid)
{
    GString *buf = g_string_new("<capabilities>\n\n  <host>\n");

    if (host_uuid)
        g_string_append_printf(buf, "    <uuid>%s</uuid>\n", host_uuid);
    nodeinfo_format_host_cpu(roots, buf, 4);
    g_string_append(buf, "    <power_management/>\n");
    g_string_append_printf(buf, "    <iommu support='%s'/>\n",
                           qemu_caps_dir_has_entries(roots->sys_root, "sys/kernel/iommu_groups")
                               ? "yes"
                               : "no");
    g_string_append(buf, "    <migration_features>\n"
                         "      <live/>\n"
                         "      <uri_transports>\n"
                         "        <uri_transport>tcp</uri_transport>\n"
                         "        <uri_transport>rdma</uri_transport>\n"
                         "      </uri_transports>\n"
                         "    </migration_features>\n");
    nodeinfo_format_numa_topology(roots, buf, 4);
    g_string_append(buf, "    <secmodel>\n"
                         "      <model>none</model>\n"
                         "      <doi>0</doi>\n"
                         "    </secmodel>\n");
    g_string_append(buf, "  </host>\n\n");
    for (guint i = 0; i < n_caps; i++)
        qemu_caps_format_guest(caps[i], buf);
    g_string_append(buf, "</capabilities>\n");
    return g_string_free(buf, FALSE);
}

char *
qemu_caps_format_capabilities(const QemuCaps *caps, const HostRoots *roots,
                              const char *host_uuid)
{
    QemuCaps *list[1] = { (QemuCaps *)caps };

    return qemu_caps_format_capabilities_list(list, 1, roots, host_uuid);
}

/* ---- domain capabilities XML ---- */

static void
domcaps_enum(GString *buf, int indent, const char *name, const char *const *values)
{
    g_string_append_printf(buf, "%*s<enum name='%s'", indent, "", name);
    if (!values || !values[0]) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    for (; *values; values++)
        g_string_append_printf(buf, "%*s<value>%s</value>\n", indent + 2, "", *values);
    g_string_append_printf(buf, "%*s</enum>\n", indent, "");
}

/* Values of an enum: the names whose device (or NULL: always) QEMU has. */
typedef struct {
    const char *value;
    const char *device;
} DomcapsValue;

static void
domcaps_enum_devices(GString *buf, int indent, const QemuCaps *caps, const char *name,
                     const DomcapsValue *values, gsize n)
{
    g_autoptr(GPtrArray) list = g_ptr_array_new();

    for (gsize i = 0; i < n; i++) {
        if (!values[i].device || qemu_caps_has_device(caps, values[i].device))
            g_ptr_array_add(list, (gpointer)values[i].value);
    }
    g_ptr_array_add(list, NULL);
    domcaps_enum(buf, indent, name, (const char *const *)list->pdata);
}

static void
domcaps_format_cpu(const QemuCaps *caps, gboolean kvm, GString *buf)
{
    static const char *const on_off[] = { "on", "off", NULL };
    const GArray *models = kvm ? caps->cpus_kvm : caps->cpus_tcg;

    g_string_append(buf, "  <cpu>\n");
    if (kvm) {
        g_string_append(buf, "    <mode name='host-passthrough' supported='yes'>\n");
        domcaps_enum(buf, 6, "hostPassthroughMigratable", on_off);
        g_string_append(buf, "    </mode>\n");
    } else {
        g_string_append(buf, "    <mode name='host-passthrough' supported='no'/>\n");
    }
    g_string_append(buf, "    <mode name='maximum' supported='yes'>\n");
    domcaps_enum(buf, 6, "maximumMigratable", on_off);
    g_string_append(buf, "    </mode>\n");
    g_string_append(buf, "    <mode name='host-model' supported='yes'/>\n");
    g_string_append(buf, "    <mode name='custom' supported='yes'>\n");
    for (guint i = 0; i < models->len; i++) {
        const QemuCpuModel *m = &g_array_index(models, QemuCpuModel, i);

        g_string_append_printf(buf, "      <model usable='%s' vendor='%s'>%s</model>\n",
                               m->usable ? "yes" : "no", m->vendor, m->name);
    }
    g_string_append(buf, "    </mode>\n");
    g_string_append(buf, "  </cpu>\n");
}

static void
domcaps_format_devices(const QemuCaps *caps, const char *machine, GString *buf)
{
    static const char *const disk_devices[] = { "disk", "cdrom", "floppy", "lun", NULL };
    static const char *const virtio_models[] = { "virtio", "virtio-transitional",
                                                 "virtio-non-transitional", NULL };
    static const char *const hostdev_modes[] = { "subsystem", NULL };
    static const char *const startup[] = { "default", "mandatory", "requisite", "optional",
                                           NULL };
    static const char *const subsys[] = { "usb", "pci", "scsi", NULL };
    gboolean pc = g_str_has_prefix(machine, "pc-i440fx-") || strcmp(machine, "isapc") == 0;
    gboolean spice = qemu_caps_has_device(caps, "chardev-spicevmc");
    const DomcapsValue buses[] = {
        { "ide", pc ? "ide-hd" : "-" }, { "fdc", "isa-fdc" }, { "scsi", "scsi-hd" },
        { "virtio", "virtio-blk-pci" }, { "usb", "usb-storage" }, { "sata", "ich9-ahci" },
    };
    const DomcapsValue graphics[] = {
        { "sdl", NULL }, { "vnc", NULL }, { "spice", spice ? NULL : "-" },
        { "egl-headless", NULL }, { "dbus", "dbus-display" },
    };
    static const DomcapsValue video[] = {
        { "vga", "VGA" },          { "cirrus", "cirrus-vga" }, { "vmvga", "vmware-svga" },
        { "qxl", "qxl-vga" },      { "virtio", "virtio-vga" }, { "none", NULL },
        { "bochs", "bochs-display" }, { "ramfb", "ramfb" },
    };
    static const DomcapsValue rng_backends[] = {
        { "random", "rng-random" }, { "egd", "rng-egd" }, { "builtin", "rng-builtin" },
    };
    static const DomcapsValue fs_drivers[] = {
        { "path", "virtio-9p-pci" }, { "handle", "virtio-9p-pci" },
        { "virtiofs", "vhost-user-fs-pci" },
    };
    static const DomcapsValue tpm_models[] = {
        { "tpm-tis", "tpm-tis" }, { "tpm-crb", "tpm-crb" },
    };
    const DomcapsValue tpm_backends[] = {
        { "passthrough", "tpm-passthrough" },
        { "emulator", caps->has_swtpm ? "tpm-emulator" : "-" },
    };
    const DomcapsValue channels[] = {
        { "pty", NULL }, { "unix", NULL }, { "spicevmc", spice ? NULL : "-" },
    };

    g_string_append(buf, "  <devices>\n");

    g_string_append(buf, "    <disk supported='yes'>\n");
    domcaps_enum(buf, 6, "diskDevice", disk_devices);
    domcaps_enum_devices(buf, 6, caps, "bus", buses, G_N_ELEMENTS(buses));
    domcaps_enum(buf, 6, "model", virtio_models);
    g_string_append(buf, "    </disk>\n");

    g_string_append(buf, "    <graphics supported='yes'>\n");
    domcaps_enum_devices(buf, 6, caps, "type", graphics, G_N_ELEMENTS(graphics));
    g_string_append(buf, "    </graphics>\n");

    g_string_append(buf, "    <video supported='yes'>\n");
    domcaps_enum_devices(buf, 6, caps, "modelType", video, G_N_ELEMENTS(video));
    g_string_append(buf, "    </video>\n");

    g_string_append(buf, "    <hostdev supported='yes'>\n");
    domcaps_enum(buf, 6, "mode", hostdev_modes);
    domcaps_enum(buf, 6, "startupPolicy", startup);
    domcaps_enum(buf, 6, "subsysType", subsys);
    domcaps_enum(buf, 6, "capsType", NULL);
    domcaps_enum(buf, 6, "pciBackend", NULL);
    g_string_append(buf, "    </hostdev>\n");

    g_string_append_printf(buf, "    <rng supported='%s'>\n",
                           qemu_caps_has_device(caps, "virtio-rng-pci") ? "yes" : "no");
    domcaps_enum(buf, 6, "model", virtio_models);
    domcaps_enum_devices(buf, 6, caps, "backendModel", rng_backends,
                         G_N_ELEMENTS(rng_backends));
    g_string_append(buf, "    </rng>\n");

    g_string_append(buf, "    <filesystem supported='yes'>\n");
    domcaps_enum_devices(buf, 6, caps, "driverType", fs_drivers, G_N_ELEMENTS(fs_drivers));
    g_string_append(buf, "    </filesystem>\n");

    g_string_append(buf, "    <tpm supported='yes'>\n");
    domcaps_enum_devices(buf, 6, caps, "model", tpm_models, G_N_ELEMENTS(tpm_models));
    domcaps_enum_devices(buf, 6, caps, "backendModel", tpm_backends,
                         G_N_ELEMENTS(tpm_backends));
    g_string_append(buf, "    </tpm>\n");

    g_string_append_printf(buf, "    <redirdev supported='%s'>\n",
                           qemu_caps_has_device(caps, "usb-redir") ? "yes" : "no");
    domcaps_enum(buf, 6, "bus", (const char *const[]){ "usb", NULL });
    g_string_append(buf, "    </redirdev>\n");

    g_string_append(buf, "    <channel supported='yes'>\n");
    domcaps_enum_devices(buf, 6, caps, "type", channels, G_N_ELEMENTS(channels));
    g_string_append(buf, "    </channel>\n");

    g_string_append(buf, "  </devices>\n");
}

static const char *
yes_no(gboolean b)
{
    return b ? "yes" : "no";
}

char *
qemu_caps_format_domain_capabilities(const QemuCaps *caps, const char *emulator,
                                     const char *arch, const char *machine,
                                     const char *virttype, GError **error)
{
    static const char *const loader_types[] = { "rom", "pflash", NULL };
    static const char *const yes_no_values[] = { "yes", "no", NULL };
    static const char *const no_values[] = { "no", NULL };
    g_autoptr(GString) buf = NULL;
    const QemuMachine *m;
    gboolean kvm;

    if (emulator && strcmp(emulator, caps->binary) != 0) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("emulator '%s' is not the probed emulator '%s'"), emulator,
                       caps->binary);
        return NULL;
    }
    if (arch && strcmp(arch, caps->arch) != 0) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("architecture '%s' is not supported by emulator '%s'"), arch,
                       caps->binary);
        return NULL;
    }
    if (!virttype) {
        kvm = caps->kvm;
    } else if (strcmp(virttype, "qemu") == 0) {
        kvm = FALSE;
    } else if (strcmp(virttype, "kvm") == 0) {
        if (!caps->kvm) {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_CONFIG_UNSUPPORTED,
                           _("virtualization type 'kvm' is not available because '/dev/kvm' "
                             "is missing or not usable, use type 'qemu'"));
            return NULL;
        }
        kvm = TRUE;
    } else {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("virtualization type '%s' is not supported by emulator '%s'"),
                       virttype, caps->binary);
        return NULL;
    }
    m = qemu_caps_find_machine(caps, machine);
    if (!m) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("machine type '%s' is not supported by emulator '%s'"), machine,
                       caps->binary);
        return NULL;
    }

    buf = g_string_new("<domainCapabilities>\n");
    g_string_append_printf(buf, "  <path>%s</path>\n", caps->binary);
    g_string_append_printf(buf, "  <domain>%s</domain>\n", kvm ? "kvm" : "qemu");
    g_string_append_printf(buf, "  <machine>%s</machine>\n", m->name);
    g_string_append_printf(buf, "  <arch>%s</arch>\n", caps->arch);
    g_string_append_printf(buf, "  <vcpu max='%d'/>\n", m->max_cpus);
    g_string_append_printf(buf, "  <iothreads supported='%s'/>\n",
                           yes_no(qemu_caps_has_device(caps, "iothread")));

    g_string_append(buf, "  <os supported='yes'>\n");
    domcaps_enum(buf, 4, "firmware", NULL);
    g_string_append(buf, "    <loader supported='yes'>\n");
    domcaps_enum(buf, 6, "type", loader_types);
    domcaps_enum(buf, 6, "readonly", yes_no_values);
    domcaps_enum(buf, 6, "secure", no_values);
    g_string_append(buf, "    </loader>\n");
    g_string_append(buf, "  </os>\n");

    domcaps_format_cpu(caps, kvm, buf);

    g_string_append(buf, "  <memoryBacking supported='yes'>\n");
    domcaps_enum(buf, 4, "sourceType",
                 qemu_caps_has_device(caps, "memory-backend-memfd")
                     ? (const char *const[]){ "file", "anonymous", "memfd", NULL }
                     : (const char *const[]){ "file", "anonymous", NULL });
    g_string_append(buf, "  </memoryBacking>\n");

    domcaps_format_devices(caps, m->name, buf);

    g_string_append(buf, "  <features>\n");
    g_string_append(buf, "    <gic supported='no'/>\n");
    g_string_append_printf(buf, "    <vmcoreinfo supported='%s'/>\n",
                           yes_no(qemu_caps_has_device(caps, "vmcoreinfo")));
    g_string_append_printf(buf, "    <genid supported='%s'/>\n",
                           yes_no(qemu_caps_has_device(caps, "vmgenid")));
    g_string_append(buf, "    <backingStoreInput supported='yes'/>\n");
    g_string_append(buf, "    <backup supported='yes'/>\n");
    g_string_append(buf, "    <sev supported='no'/>\n");
    g_string_append(buf, "    <sgx supported='no'/>\n");
    g_string_append(buf, "    <hyperv supported='yes'>\n");
    domcaps_enum(buf, 6, "features", (const char *const[]){ "spinlocks", "vendor_id", NULL });
    g_string_append(buf, "    </hyperv>\n");
    g_string_append(buf, "  </features>\n");
    g_string_append(buf, "</domainCapabilities>\n");
    return g_string_free(g_steal_pointer(&buf), FALSE);
}
