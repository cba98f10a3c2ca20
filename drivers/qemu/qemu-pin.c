/* CPU pinning and NUMA memory tuning; see qemu-pin.h. */
#include "drivers/qemu/qemu-pin.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/util/virt-error.h"
#include "drivers/qemu/qemu-cgroup.h"
#include "drivers/qemu/qemu-stats.h"
#include "xml/domain-conf-priv.h"

/* <numatune><memory mode> by VIR_DOMAIN_NUMATUNE_MEM_*. */
static const char *const numa_modes[] = {
    [VIR_DOMAIN_NUMATUNE_MEM_STRICT] = "strict",
    [VIR_DOMAIN_NUMATUNE_MEM_PREFERRED] = "preferred",
    [VIR_DOMAIN_NUMATUNE_MEM_INTERLEAVE] = "interleave",
    [VIR_DOMAIN_NUMATUNE_MEM_RESTRICTIVE] = "restrictive",
};
G_STATIC_ASSERT(G_N_ELEMENTS(numa_modes) == VIR_DOMAIN_NUMATUNE_MEM_LAST);

/* ---- pins (pure) ---- */

char *
qemu_pin_cpumap_check(const guint8 *cpumap, int maplen, const GArray *host_cpus,
                      const char *what, GError **error)
{
    g_autofree char *cpus = numa_list_from_map(cpumap, maplen > 0 ? maplen : 0);
    if (!cpus) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("cannot pin %s to an empty CPU list"), what);
        return NULL;
    }
    g_autoptr(GArray) ids = numa_list_parse(cpus, "CPU list", error);
    g_autofree char *missing = ids ? numa_list_missing(ids, host_cpus) : NULL;
    if (missing) {
        g_autofree char *have = numa_list_format(host_cpus);
        gboolean several = strchr(missing, ',') || strchr(missing, '-');
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       several ? _("cannot pin %s to CPUs %s: this host has CPUs %s")
                               : _("cannot pin %s to CPU %s: this host has CPUs %s"),
                       what, missing, have);
        return NULL;
    }
    return ids ? g_steal_pointer(&cpus) : NULL;
}

static gint64
pin_id(const DomainPin *pin)
{
    return pin->vcpu ? g_ascii_strtoll(pin->vcpu, NULL, 10) : -1;
}

const char *
qemu_pin_find(const PtrVec *pins, unsigned int id)
{
    for (guint i = 0; i < pins->len; i++) {
        const DomainPin *pin = ptr_vec_index(pins, i);
        if (pin_id(pin) == id)
            return pin->cpuset;
    }
    return NULL;
}

void
qemu_pin_set(PtrVec *pins, unsigned int id, const char *cpuset)
{
    guint at = 0;
    for (; at < pins->len; at++) {
        DomainPin *pin = ptr_vec_index(pins, at);
        if (pin_id(pin) == id) {
            g_free(pin->cpuset);
            pin->cpuset = g_strdup(cpuset);
            return;
        }
        if (pin_id(pin) > id)
            break;
    }
    DomainPin *pin = g_new0(DomainPin, 1);
    pin->vcpu = g_strdup_printf("%u", id);
    pin->cpuset = g_strdup(cpuset);
    ptr_vec_insert(pins, at, pin);
}

/* ---- numatune (pure) ---- */

static const DomainParamSpec numa_spec[] = {
    {VIR_DOMAIN_NUMA_MODE, VIR_TYPED_PARAM_INT},
    {VIR_DOMAIN_NUMA_NODESET, VIR_TYPED_PARAM_STRING},
};

gboolean
qemu_numa_params_parse(GArray *params, int *ret_mode, char **ret_nodeset, GError **error)
{
    if (!domain_params_validate(params, numa_spec, G_N_ELEMENTS(numa_spec), error))
        return FALSE;
    int mode = -1;
    const DomainTypedParam *p = domain_params_find(params, VIR_DOMAIN_NUMA_MODE);
    if (p) {
        mode = p->value.i;
        if (mode < 0 || mode >= VIR_DOMAIN_NUMATUNE_MEM_LAST) {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                           _("NUMA mode %d is not valid (0 strict, 1 preferred, "
                             "2 interleave, 3 restrictive)"),
                           mode);
            return FALSE;
        }
    }
    g_autofree char *nodeset = NULL;
    p = domain_params_find(params, VIR_DOMAIN_NUMA_NODESET);
    if (p) {
        g_autoptr(GArray) ids = numa_list_parse(p->value.s, "nodeset", error);
        if (!ids)
            return FALSE;
        nodeset = numa_list_format(ids);
    }
    *ret_mode = mode;
    *ret_nodeset = g_steal_pointer(&nodeset);
    return TRUE;
}

/* The VIR_DOMAIN_NUMATUNE_MEM_* of @def's memory mode (strict when unset). */
static int
def_numa_mode(const DomainDef *def)
{
    for (int i = 0; def->numa_memory_mode && i < VIR_DOMAIN_NUMATUNE_MEM_LAST; i++) {
        if (strcmp(def->numa_memory_mode, numa_modes[i]) == 0)
            return i;
    }
    return VIR_DOMAIN_NUMATUNE_MEM_STRICT;
}

gboolean
qemu_numa_def_update(DomainDef *def, const char *name, int mode, const char *nodeset,
                     gboolean live, GError **error)
{
    int current = def_numa_mode(def);
    if (live && mode >= 0 && mode != current) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("cannot change the NUMA memory mode of running domain '%s' from "
                         "'%s' to '%s': QEMU's memory policy is fixed when it starts"),
                       name, numa_modes[current], numa_modes[mode]);
        return FALSE;
    }
    if (live && nodeset && current != VIR_DOMAIN_NUMATUNE_MEM_STRICT &&
        current != VIR_DOMAIN_NUMATUNE_MEM_RESTRICTIVE) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("cannot change the NUMA nodeset of running domain '%s' in mode '%s': "
                         "only modes 'strict' and 'restrictive' can change live"),
                       name, numa_modes[current]);
        return FALSE;
    }
    if (mode >= 0) {
        g_free(def->numa_memory_mode);
        def->numa_memory_mode = g_strdup(numa_modes[mode]);
    }
    if (nodeset) {
        g_free(def->numa_memory_nodeset);
        def->numa_memory_nodeset = g_strdup(nodeset);
        g_clear_pointer(&def->numa_memory_placement, g_free);
    }
    if (mode >= 0 || nodeset)
        def->has_numatune = TRUE;
    return TRUE;
}

GArray *
qemu_numa_params_from_def(const DomainDef *def)
{
    GArray *params = domain_params_new();
    domain_params_add_int(params, VIR_DOMAIN_NUMA_MODE, def_numa_mode(def));
    domain_params_add_string(params, VIR_DOMAIN_NUMA_NODESET,
                             def->numa_memory_nodeset ? def->numa_memory_nodeset : "");
    return params;
}

gboolean
qemu_numa_wants_auto(const DomainDef *def)
{
    if (g_strcmp0(def->numa_memory_placement, "auto") == 0)
        return TRUE;
    return g_strcmp0(def->vcpu_placement, "auto") == 0 && !def->numa_memory_nodeset;
}

char *
qemu_numa_auto_nodeset(const GArray *host_nodes, const DomainDef *def)
{
    if (!qemu_numa_wants_auto(def))
        return NULL;
    return numa_pick_nodes(host_nodes, def->memory_kib);
}

/* ---- starting a domain ---- */

gboolean
qemu_numa_prepare(QemuDriver *drv, DomainDef *live, GError **error)
{
    gboolean wants_auto = qemu_numa_wants_auto(live);
    gboolean has_static = !wants_auto && live->numa_memory_nodeset;
    for (guint i = 0; i < live->numa_memnodes.len; i++) {
        const DomainMemnode *mn = ptr_vec_index(&live->numa_memnodes, i);
        has_static = has_static || mn->nodeset;
    }
    if (!wants_auto && !has_static)
        return TRUE;

    g_autoptr(GArray) nodes = numa_nodes_load(&drv->cfg.host, error);
    if (!nodes)
        return FALSE;
    const char *name = domain_def_get_name(live);
    if (!wants_auto && live->numa_memory_nodeset) {
        g_autofree char *canonical = NULL;
        if (!numa_check_nodeset(nodes, live->numa_memory_nodeset, &canonical, error)) {
            g_prefix_error(error, _("numatune of domain '%s': "), name);
            return FALSE;
        }
    }
    for (guint i = 0; i < live->numa_memnodes.len; i++) {
        const DomainMemnode *mn = ptr_vec_index(&live->numa_memnodes, i);
        g_autofree char *canonical = NULL;
        if (mn->nodeset && !numa_check_nodeset(nodes, mn->nodeset, &canonical, error)) {
            g_prefix_error(error, _("numatune memnode of cell '%s' of domain '%s': "),
                           mn->cellid ? mn->cellid : "?", name);
            return FALSE;
        }
    }
    g_autofree char *picked = qemu_numa_auto_nodeset(nodes, live);
    if (picked) {
        g_free(live->numa_memory_nodeset);
        live->numa_memory_nodeset = g_strdup(picked);
        if (!live->numa_memory_placement) {
            /* <vcpu placement='auto'> implies automatic memory placement too. */
            live->numa_memory_placement = g_strdup("auto");
            live->has_numatune = TRUE;
        }
        if (g_strcmp0(live->vcpu_placement, "auto") == 0) {
            g_autofree char *cpus = numa_nodeset_cpus(nodes, picked);
            g_free(live->vcpu_cpuset);
            live->vcpu_cpuset = *cpus ? g_steal_pointer(&cpus) : NULL;
        }
        g_message("domain '%s': automatic placement on host NUMA nodes %s", name, picked);
    }
    return TRUE;
}

/* ---- threads of a running domain ---- */

/* The comm of thread @tid of @pid ("CPU 0/TCG", "IO iothread1"), NULL when gone. */
static char *
thread_comm(pid_t pid, const char *tid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/task/%s/comm", (int)pid, tid);
    char *comm = NULL;
    if (!g_file_get_contents(path, &comm, NULL, NULL))
        return NULL;
    return g_strchomp(comm);
}

/* QEMU names an IOThread "IO <object id>" (-name debug-threads=on). */
static gboolean
is_iothread_comm(const char *comm, unsigned int *ret_id)
{
    if (!g_str_has_prefix(comm, "IO iothread") || !g_ascii_isdigit(comm[11]))
        return FALSE;
    char *end = NULL;
    guint64 id = g_ascii_strtoull(comm + 11, &end, 10);
    if (*end || id > G_MAXUINT)
        return FALSE;
    if (ret_id)
        *ret_id = (unsigned int)id;
    return TRUE;
}

static gboolean
is_vcpu_tid(QemuDomain *dom, pid_t tid)
{
    for (guint i = 0; dom->vcpu_tids && i < dom->vcpu_tids->len; i++) {
        if (g_array_index(dom->vcpu_tids, pid_t, i) == tid)
            return TRUE;
    }
    return FALSE;
}

/* The emulator threads of @dom's QEMU @pid (every thread that is neither a vCPU nor an
 * IOThread) or, with @iothread > 0, the thread of IOThread @iothread. */
static GArray *
domain_threads(QemuDomain *dom, pid_t pid, unsigned int iothread)
{
    g_autofree char *dir_path = g_strdup_printf("/proc/%d/task", (int)pid);
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
    GArray *tids = g_array_new(FALSE, FALSE, sizeof(pid_t));
    for (const char *entry; dir && (entry = g_dir_read_name(dir));) {
        pid_t tid = (pid_t)atoi(entry);
        g_autofree char *comm = thread_comm(pid, entry);
        unsigned int index = 0, id = 0;
        if (!comm)
            continue;
        gboolean is_io = is_iothread_comm(comm, &id);
        gboolean wanted = iothread ? is_io && id == iothread
                                   : !is_io && !is_vcpu_tid(dom, tid) &&
                                         !qemu_stats_parse_vcpu_comm(comm, &index);
        if (wanted)
            g_array_append_val(tids, tid);
    }
    return tids;
}

static gboolean
has_cpuset(QemuDomain *dom)
{
    return dom->cgroup && cgroup_host_has_controller(cgroup_get_host(dom->cgroup), "cpuset");
}

/* Pin @group (NULL: none) and then @tids to @cpus: the group first, as the kernel keeps a
 * thread's affinity within its cpuset. */
static gboolean
pin_threads(Cgroup *group, GArray *tids, const char *cpus, GError **error)
{
    if (group && !cgroup_set_cpuset_cpus(group, cpus, error))
        return FALSE;
    for (guint i = 0; tids && i < tids->len; i++) {
        if (!qemu_cgroup_set_affinity(g_array_index(tids, pid_t, i), cpus, error))
            return FALSE;
    }
    return TRUE;
}

/* IOThread @id of @dom (QEMU @pid) into its own iothreadN/ group (when the domain has
 * cgroups), pinned to @cpus unless NULL. */
static gboolean
place_iothread(QemuDomain *dom, pid_t pid, unsigned int id, const char *cpus,
               GError **error)
{
    g_autoptr(GArray) tids = domain_threads(dom, pid, id);
    if (tids->len == 0) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("QEMU runs no IOThread %u"), id);
        return FALSE;
    }
    if (dom->cgroup) {
        g_autofree char *name = g_strdup_printf("iothread%u", id);
        g_autoptr(Cgroup) group = cgroup_new_child(dom->cgroup, name, error);
        if (!group || (cpus && has_cpuset(dom) && !cgroup_set_cpuset_cpus(group, cpus, error)))
            return FALSE;
        for (guint i = 0; i < tids->len; i++) {
            if (!cgroup_add_thread(group, g_array_index(tids, pid_t, i), error))
                return FALSE;
        }
    }
    return !cpus || pin_threads(NULL, tids, cpus, error);
}

/* The <iothreadpin> of IOThread @id in @def, or NULL. */
static const char *
iothread_pin(const DomainDef *def, unsigned int id)
{
    for (guint i = 0; i < def->iothreadpins.len; i++) {
        const DomainPin *pin = ptr_vec_index(&def->iothreadpins, i);
        if (pin_id(pin) == (int)id)
            return pin->cpuset;
    }
    return NULL;
}

gboolean
qemu_pin_start_iothreads(QemuDomain *dom, const DomainDef *live, pid_t pid, GError **error)
{
    guint64 n = live->iothreads ? g_ascii_strtoull(live->iothreads, NULL, 10) : 0;
    for (unsigned int id = 1; id <= n; id++) {
        const char *pin = iothread_pin(live, id);
        g_autoptr(GArray) ids = pin ? numa_list_parse(pin, "CPU list", error) : NULL;
        g_autofree char *cpus = ids ? numa_list_format(ids) : NULL;
        if ((pin && !cpus) || !place_iothread(dom, pid, id, cpus, error) ||
            !qemu_cgroup_iothread_bandwidth(dom, live, id, error)) {
            g_prefix_error(error, _("cannot place IOThread %u of domain '%s': "), id,
                           domain_def_get_name(live));
            return FALSE;
        }
    }
    return TRUE;
}

/* ---- the calls ---- */

typedef enum {
    PIN_VCPU,
    PIN_EMULATOR,
    PIN_IOTHREAD,
} PinTarget;

static unsigned int
def_iothreads(const DomainDef *def)
{
    return def->iothreads ? (unsigned int)g_ascii_strtoull(def->iothreads, NULL, 10) : 0;
}

/* Whether @def has vCPU / IOThread @id; VIR_ERR_INVALID_ARG naming it when not. */
static gboolean
check_target(const DomainDef *def, PinTarget target, unsigned int id, GError **error)
{
    const char *name = domain_def_get_name(def);
    if (target == PIN_VCPU && id >= def->vcpus_max) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("vCPU %u of domain '%s' does not exist (it has %u)"), id, name,
                       def->vcpus_max);
        return FALSE;
    }
    if (target == PIN_IOTHREAD && def_iothreads(def) == 0) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("domain '%s' has no IOThreads (see <iothreads>)"), name);
        return FALSE;
    }
    if (target == PIN_IOTHREAD && (id == 0 || id > def_iothreads(def))) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("IOThread %u of domain '%s' does not exist (it has 1-%u)"), id, name,
                       def_iothreads(def));
        return FALSE;
    }
    return TRUE;
}

/* Record the pin in @def. */
static void
def_set_pin(DomainDef *def, PinTarget target, unsigned int id, const char *cpus)
{
    switch (target) {
    case PIN_VCPU:
        qemu_pin_set(&def->vcpupins, id, cpus);
        break;
    case PIN_EMULATOR:
        g_free(def->emulatorpin);
        def->emulatorpin = g_strdup(cpus);
        break;
    case PIN_IOTHREAD:
        qemu_pin_set(&def->iothreadpins, id, cpus);
        break;
    }
    def->has_cputune_elem = TRUE;
}

static gboolean
pin_live(QemuDomain *dom, PinTarget target, unsigned int id, const char *cpus, GError **error)
{
    switch (target) {
    case PIN_VCPU: {
        /* An offline vCPU gets the pin when it comes online (qemu_cgroup_add_vcpu). */
        pid_t tid = qemu_cgroup_vcpu_tid(dom, id);
        if (!tid)
            return TRUE;
        Cgroup *group = has_cpuset(dom) ? qemu_cgroup_get_vcpu(dom, id, error) : NULL;
        if (has_cpuset(dom) && !group)
            return FALSE;
        g_autoptr(GArray) tids = g_array_new(FALSE, FALSE, sizeof(pid_t));
        g_array_append_val(tids, tid);
        return pin_threads(group, tids, cpus, error);
    }
    case PIN_EMULATOR: {
        Cgroup *group = has_cpuset(dom) ? qemu_cgroup_get_emulator(dom, error) : NULL;
        if (has_cpuset(dom) && !group)
            return FALSE;
        g_autoptr(GArray) tids = domain_threads(dom, dom->pid, 0);
        return pin_threads(group, tids, cpus, error);
    }
    case PIN_IOTHREAD:
        return place_iothread(dom, dom->pid, id, cpus, error);
    }
    return FALSE;
}

/* The TUNABLE event's parameters for a live pin: one string, the CPU list. */
static GArray *
pin_tunable(PinTarget target, unsigned int id, const char *cpus)
{
    GArray *params = domain_params_new();
    g_autofree char *field = NULL;
    switch (target) {
    case PIN_VCPU:
        field = g_strdup_printf(VIR_DOMAIN_TUNABLE_CPU_VCPUPIN, id);
        break;
    case PIN_EMULATOR:
        field = g_strdup(VIR_DOMAIN_TUNABLE_CPU_EMULATORPIN);
        break;
    case PIN_IOTHREAD:
        field = g_strdup_printf(VIR_DOMAIN_TUNABLE_CPU_IOTHREADSPIN, id);
        break;
    }
    domain_params_add_string(params, field, cpus);
    return params;
}

static gboolean
domain_pin(QemuDriver *drv, const unsigned char *uuid, PinTarget target, unsigned int id,
           const guint8 *cpumap, int maplen, unsigned int flags, GError **error)
{
    if (!qemu_driver_check_flags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG,
                                 error))
        return FALSE;
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom || !qemu_domain_resolve_impact(dom, &flags, error))
        return FALSE;
    const char *name = qemu_domain_name(dom);
    g_autofree char *what = target == PIN_VCPU ? g_strdup_printf(_("vCPU %u of domain '%s'"),
                                                                 id, name)
                            : target == PIN_IOTHREAD
                                ? g_strdup_printf(_("IOThread %u of domain '%s'"), id, name)
                                : g_strdup_printf(_("the emulator threads of domain '%s'"),
                                                  name);

    g_autofree guint8 *online_map = NULL;
    unsigned int online = 0;
    int ncpus = nodeinfo_cpu_map(&drv->cfg.host, &online_map, &online, error);
    if (ncpus < 0)
        return FALSE;
    g_autofree char *online_list = numa_list_from_map(online_map, (ncpus + 7) / 8);
    g_autoptr(GArray) host_cpus = numa_list_parse(online_list, "CPU list", error);
    if (!host_cpus)
        return FALSE;
    g_autofree char *cpus = qemu_pin_cpumap_check(cpumap, maplen, host_cpus, what, error);
    if (!cpus)
        return FALSE;

    static const char *const jobs[] = {"vcpupin", "emulatorpin", "iothreadpin"};
    if (!qemu_job_begin(dom, jobs[target], error))
        return FALSE;
    g_autoptr(GPtrArray) events = qemu_events_new();
    gboolean ok = FALSE;
    g_autoptr(DomainDef) config = NULL;
    if (flags & VIR_DOMAIN_AFFECT_CONFIG) {
        config = domain_def_copy(qemu_domain_persistent_def(dom));
        if (!check_target(config, target, id, error))
            goto out;
        def_set_pin(config, target, id, cpus);
    }
    if (flags & VIR_DOMAIN_AFFECT_LIVE) {
        /* The domain may have stopped while the job was awaited. */
        if (!qemu_domain_check_active(dom, error) || !check_target(dom->def, target, id, error))
            goto out;
        g_autoptr(GError) local = NULL;
        if (!pin_live(dom, target, id, cpus, &local)) {
            int code = virt_error_is(local, VIR_ERR_OPERATION_INVALID)
                           ? VIR_ERR_OPERATION_INVALID
                           : VIR_ERR_OPERATION_FAILED;
            virt_error_set(error, VIR_FROM_QEMU, code, _("cannot pin %s to CPUs '%s': %s"),
                           what, cpus, local->message);
            goto out;
        }
        def_set_pin(dom->def, target, id, cpus);
        qemu_run_save_status(drv, dom);
        qemu_events_add_tunable(events, dom, pin_tunable(target, id, cpus));
    }
    ok = !config || qemu_driver_commit_config(drv, dom, g_steal_pointer(&config), error);
out:
    qemu_job_end(dom);
    /* Like libvirtd: the live change is announced even when saving the config failed. */
    g_clear_pointer(&dom, qemu_domain_release);
    qemu_driver_emit(drv, events);
    return ok;
}

static gboolean
qemu_pin_domain_pin_vcpu(VirtDriver *vdrv, const unsigned char *uuid, unsigned int vcpu,
                         const guint8 *cpumap, int maplen, unsigned int flags, GError **error)
{
    return domain_pin(qemu_driver_cast(vdrv), uuid, PIN_VCPU, vcpu, cpumap, maplen, flags,
                      error);
}

static gboolean
qemu_pin_domain_pin_emulator(VirtDriver *vdrv, const unsigned char *uuid,
                             const guint8 *cpumap, int maplen, unsigned int flags,
                             GError **error)
{
    return domain_pin(qemu_driver_cast(vdrv), uuid, PIN_EMULATOR, 0, cpumap, maplen, flags,
                      error);
}

static gboolean
qemu_pin_domain_pin_iothread(VirtDriver *vdrv, const unsigned char *uuid,
                             unsigned int iothread_id, const guint8 *cpumap, int maplen,
                             unsigned int flags, GError **error)
{
    return domain_pin(qemu_driver_cast(vdrv), uuid, PIN_IOTHREAD, iothread_id, cpumap, maplen,
                      flags, error);
}

/* cpuset.mems of running @dom's group and of every sub-group to @nodeset. cgroup v1 keeps
 * a child's nodes within its parent's: the group first gets the old and new nodes, then
 * the sub-groups and last the group itself the new ones. */
static gboolean
set_mems_live(QemuDomain *dom, const char *nodeset, GError **error)
{
    Cgroup *vm = qemu_cgroup_get(dom, error);
    if (!vm)
        return FALSE;
    if (!has_cpuset(dom)) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_UNSUPPORTED,
                       _("cannot change the NUMA nodeset of domain '%s' live: the host has "
                         "no cpuset cgroup controller"),
                       qemu_domain_name(dom));
        return FALSE;
    }
    g_autofree char *old = NULL;
    if (!cgroup_get_cpuset_mems(vm, &old, error))
        return FALSE;
    g_autofree char *both_text = *old ? g_strdup_printf("%s,%s", old, nodeset)
                                      : g_strdup(nodeset);
    g_autoptr(GArray) both = numa_list_parse(both_text, "nodeset", error);
    g_autofree char *widened = both ? numa_list_format(both) : NULL;
    if (!widened || !cgroup_set_cpuset_mems(vm, widened, error))
        return FALSE;

    /* The sub-groups: emulator/, vcpuN/ (borrowed) and the iothreadN/ of live pins. */
    g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func((GDestroyNotify)cgroup_free);
    g_autoptr(GPtrArray) subs = g_ptr_array_new();
    Cgroup *emulator = qemu_cgroup_get_emulator(dom, error);
    if (!emulator)
        return FALSE;
    g_ptr_array_add(subs, emulator);
    for (guint i = 0; dom->cgroup_vcpus && i < dom->cgroup_vcpus->len; i++) {
        if (g_ptr_array_index(dom->cgroup_vcpus, i))
            g_ptr_array_add(subs, g_ptr_array_index(dom->cgroup_vcpus, i));
    }
    for (guint i = 0; i < dom->def->iothreadpins.len; i++) {
        const DomainPin *pin = ptr_vec_index(&dom->def->iothreadpins, i);
        g_autofree char *name = g_strdup_printf("iothread%s", pin->vcpu);
        Cgroup *group = cgroup_new_child(vm, name, error);
        if (!group)
            return FALSE;
        g_ptr_array_add(owned, group);
        g_ptr_array_add(subs, group);
    }
    for (guint i = 0; i < subs->len; i++) {
        if (!cgroup_set_cpuset_mems(subs->pdata[i], nodeset, error))
            return FALSE;
    }
    return cgroup_set_cpuset_mems(vm, nodeset, error);
}

static gboolean
qemu_pin_domain_set_numa_parameters(VirtDriver *vdrv, const unsigned char *uuid,
                                    GArray *params, unsigned int flags, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    if (!qemu_driver_check_flags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG,
                                 error))
        return FALSE;
    int mode = -1;
    g_autofree char *nodeset = NULL;
    if (!qemu_numa_params_parse(params, &mode, &nodeset, error))
        return FALSE;
    if (nodeset) {
        g_autoptr(GArray) nodes = numa_nodes_load(&drv->cfg.host, error);
        g_autofree char *canonical = NULL;
        if (!nodes || !numa_check_nodeset(nodes, nodeset, &canonical, error))
            return FALSE;
    }
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom || !qemu_domain_resolve_impact(dom, &flags, error))
        return FALSE;
    const char *name = qemu_domain_name(dom);
    if (!qemu_job_begin(dom, "numatune", error))
        return FALSE;
    gboolean ok = FALSE;
    g_autoptr(DomainDef) config = NULL;
    if (flags & VIR_DOMAIN_AFFECT_CONFIG) {
        config = domain_def_copy(qemu_domain_persistent_def(dom));
        if (!qemu_numa_def_update(config, name, mode, nodeset, FALSE, error))
            goto out;
    }
    if (flags & VIR_DOMAIN_AFFECT_LIVE) {
        if (!qemu_domain_check_active(dom, error))
            goto out;
        g_autoptr(DomainDef) live = domain_def_copy(dom->def);
        if (!qemu_numa_def_update(live, name, mode, nodeset, TRUE, error))
            goto out;
        if (nodeset) {
            g_autoptr(GError) local = NULL;
            if (!set_mems_live(dom, nodeset, &local)) {
                if (!virt_error_is(local, VIR_ERR_SYSTEM_ERROR)) {
                    g_propagate_error(error, g_steal_pointer(&local));
                } else {
                    virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                                   _("cannot move the memory of domain '%s' to NUMA nodes "
                                     "%s: %s"),
                                   name, nodeset, local->message);
                }
                goto out;
            }
        }
        domain_def_free(dom->def);
        dom->def = g_steal_pointer(&live);
        qemu_run_save_status(drv, dom);
    }
    ok = !config || qemu_driver_commit_config(drv, dom, g_steal_pointer(&config), error);
out:
    qemu_job_end(dom);
    return ok;
}

static GArray *
qemu_pin_domain_get_numa_parameters(VirtDriver *vdrv, const unsigned char *uuid,
                                    unsigned int flags, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    if (!qemu_driver_check_flags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG |
                                            VIR_TYPED_PARAM_STRING_OKAY,
                                 error) ||
        !qemu_check_live_config_exclusive(flags, error))
        return NULL;
    flags &= ~VIR_TYPED_PARAM_STRING_OKAY;
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom || !qemu_domain_resolve_impact(dom, &flags, error))
        return NULL;
    const DomainDef *def = (flags & VIR_DOMAIN_AFFECT_CONFIG) ? qemu_domain_persistent_def(dom)
                                                              : dom->def;
    return qemu_numa_params_from_def(def);
}

static void
iothread_info_clear(gpointer data)
{
    g_free(((DomainIOThreadInfo *)data)->cpumap);
}

/* virsh iothreadinfo: each IOThread's pin, else the <vcpu cpuset>, else every host CPU. */
static GArray *
qemu_pin_domain_get_iothread_info(VirtDriver *vdrv, const unsigned char *uuid,
                                  unsigned int flags, int *ret_maplen, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    if (!qemu_driver_check_flags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG,
                                 error) ||
        !qemu_check_live_config_exclusive(flags, error))
        return NULL;
    g_autofree guint8 *online = NULL;
    unsigned int n_online;
    int ncpus = nodeinfo_cpu_map(&drv->cfg.host, &online, &n_online, error);
    if (ncpus < 0)
        return NULL;
    int maplen = (ncpus + 7) / 8;
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom || !qemu_domain_resolve_impact(dom, &flags, error))
        return NULL;
    const DomainDef *def = (flags & VIR_DOMAIN_AFFECT_CONFIG) ? qemu_domain_persistent_def(dom)
                                                              : dom->def;
    g_autoptr(GArray) info = g_array_new(FALSE, TRUE, sizeof(DomainIOThreadInfo));
    g_array_set_clear_func(info, iothread_info_clear);
    for (unsigned int id = 1; id <= def_iothreads(def); id++) {
        DomainIOThreadInfo t = {.id = id, .cpumap = g_malloc0(maplen)};
        const char *cpus = iothread_pin(def, id) ? iothread_pin(def, id) : def->vcpu_cpuset;
        g_array_append_val(info, t);
        if (!cpus)
            memcpy(t.cpumap, online, maplen);
        else if (!qemu_stats_parse_cpuset(cpus, t.cpumap, maplen, ncpus, error))
            return NULL;
    }
    *ret_maplen = maplen;
    return g_steal_pointer(&info);
}

void
qemu_pin_fill_vtable(VirtDriver *vt)
{
    vt->domain_get_iothread_info = qemu_pin_domain_get_iothread_info;
    vt->domain_pin_vcpu = qemu_pin_domain_pin_vcpu;
    vt->domain_pin_emulator = qemu_pin_domain_pin_emulator;
    vt->domain_pin_iothread = qemu_pin_domain_pin_iothread;
    vt->domain_set_numa_parameters = qemu_pin_domain_set_numa_parameters;
    vt->domain_get_numa_parameters = qemu_pin_domain_get_numa_parameters;
}
