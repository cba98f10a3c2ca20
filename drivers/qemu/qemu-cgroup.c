/* A running domain's cgroups (see qemu-cgroup.h for the layout). */
#include <dirent.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/util/virt-error.h"
#include "drivers/host/machined.h"
#include "drivers/host/numa.h"
#include "drivers/qemu/qemu-cgroup.h"
#include "drivers/qemu/qemu-stats.h"
#include "xml/domain-conf-priv.h"

#define DEFAULT_PARTITION "/machine"
#define DEFAULT_CPU_PERIOD 100000 /* us, the kernel's default cfs period */
#define AFFINITY_MAX_CPUS 8192
/* Below the scope of systemd-machined: systemd may rewrite the scope's own limits */
#define SCOPE_GROUP "libvirt"

void
qemu_cgroup_init(QemuDriver *drv)
{
    if (!drv->cfg.privileged) {
        g_message("a session daemon runs domains without cgroups");
        return;
    }
    const char *root = drv->cfg.cgroup_root ? drv->cfg.cgroup_root : "/";
    const char *mountinfo = drv->cfg.cgroup_mountinfo ? drv->cfg.cgroup_mountinfo
                                                      : "/proc/self/mountinfo";
    g_autoptr(CgroupHost) host = cgroup_host_new(root, mountinfo);
    if (cgroup_host_get_mode(host) == CGROUP_MODE_NONE) {
        g_message("no usable cgroup filesystem: domains run without cgroups");
        return;
    }
    g_message("cgroups: %s", cgroup_mode_to_string(cgroup_host_get_mode(host)));
    drv->cgroup_host = g_steal_pointer(&host);
    /* machined's scopes are in the host's own tree: not with an injected one (tests) */
    if (g_str_equal(root, "/"))
        drv->machined = machined_probe(NULL); /* logs why not when it is not there */
}

void
qemu_cgroup_cleanup(QemuDriver *drv)
{
    g_clear_pointer(&drv->machined, machined_free);
    g_clear_pointer(&drv->cgroup_host, cgroup_host_free);
}

/* ---- CPU lists ---- */

/* @cpuset ("0-3,^2") as the plain list the kernel takes ("0-1,3"); NULL when malformed. */
static char *
cpuset_normalize(const char *cpuset, GError **error)
{
    g_autoptr(GArray) ids = numa_list_parse(cpuset, "CPU list", error);
    return ids ? numa_list_format(ids) : NULL;
}

gboolean
qemu_cgroup_set_affinity(pid_t tid, const char *cpuset, GError **error)
{
    cpu_set_t *set = CPU_ALLOC(AFFINITY_MAX_CPUS);
    size_t size = CPU_ALLOC_SIZE(AFFINITY_MAX_CPUS);
    CPU_ZERO_S(size, set);
    if (!cpuset || !*cpuset) {
        for (int c = 0; c < AFFINITY_MAX_CPUS; c++)
            CPU_SET_S(c, size, set);
    } else {
        guint8 map[AFFINITY_MAX_CPUS / 8];
        if (!qemu_stats_parse_cpuset(cpuset, map, sizeof(map), AFFINITY_MAX_CPUS, error)) {
            CPU_FREE(set);
            return FALSE;
        }
        for (int c = 0; c < AFFINITY_MAX_CPUS; c++) {
            if (map[c / 8] & (1 << (c % 8)))
                CPU_SET_S(c, size, set);
        }
    }
    int rc = sched_setaffinity(tid, size, set);
    CPU_FREE(set);
    if (rc < 0) {
        virt_error_set_errno(error, VIR_FROM_QEMU, errno,
                             _("cannot pin thread %d to CPUs '%s'"), (int)tid,
                             cpuset ? cpuset : "all");
        return FALSE;
    }
    return TRUE;
}

/* Pin @group (its cpuset.cpus) and thread @tid (0: none) to @cpuset. */
static gboolean
pin_group(Cgroup *group, pid_t tid, const char *cpuset, GError **error)
{
    g_autofree char *list = cpuset_normalize(cpuset, error);
    if (!list)
        return FALSE;
    if (group && cgroup_host_has_controller(cgroup_get_host(group), "cpuset") &&
        !cgroup_set_cpuset_cpus(group, list, error))
        return FALSE;
    return tid == 0 || qemu_cgroup_set_affinity(tid, list, error);
}

/* ---- values of the definition ---- */

static gboolean
def_value(const char *text, guint64 *ret)
{
    if (!text)
        return FALSE;
    *ret = g_ascii_strtoull(text, NULL, 10);
    return TRUE;
}

static gint64
def_quota(const char *text)
{
    return text ? g_ascii_strtoll(text, NULL, 10) : -1;
}

/* <vcpupin vcpu=N> of @def, else <vcpu cpuset>, else NULL. */
static const char *
vcpu_cpuset(const DomainDef *def, unsigned int vcpu)
{
    for (guint i = 0; i < def->vcpupins.len; i++) {
        const DomainPin *pin = ptr_vec_index(&def->vcpupins, i);
        if (pin->vcpu && g_ascii_strtoull(pin->vcpu, NULL, 10) == vcpu)
            return pin->cpuset;
    }
    return def->vcpu_cpuset;
}

static gboolean
apply_bandwidth(Cgroup *group, const char *period_text, const char *quota_text,
                GError **error)
{
    guint64 period = DEFAULT_CPU_PERIOD;
    gboolean has_period = def_value(period_text, &period);
    if (!has_period && !quota_text)
        return TRUE;
    return cgroup_set_cpu_bandwidth(group, period, def_quota(quota_text), error);
}

/* What a new vCPU group gets: the vCPU period/quota and pin of @def. */
static gboolean
apply_vcpu(Cgroup *group, const DomainDef *def, unsigned int vcpu, pid_t tid, GError **error)
{
    if (cgroup_host_has_controller(cgroup_get_host(group), "cpu") &&
        !apply_bandwidth(group, def->cputune[DOMAIN_CPUTUNE_PERIOD],
                         def->cputune[DOMAIN_CPUTUNE_QUOTA], error))
        return FALSE;
    const char *cpuset = vcpu_cpuset(def, vcpu);
    return !cpuset || pin_group(group, tid, cpuset, error);
}

/* Limits on the VM's group itself. */
static gboolean
apply_vm_limits(Cgroup *vm, const DomainDef *def, GError **error)
{
    CgroupHost *host = cgroup_get_host(vm);
    guint64 v;
    if (cgroup_host_has_controller(host, "cpu")) {
        if (def_value(def->cputune[DOMAIN_CPUTUNE_SHARES], &v) &&
            !cgroup_set_cpu_shares(vm, v, error))
            return FALSE;
        if (!apply_bandwidth(vm, def->cputune[DOMAIN_CPUTUNE_GLOBAL_PERIOD],
                             def->cputune[DOMAIN_CPUTUNE_GLOBAL_QUOTA], error))
            return FALSE;
    }
    if (cgroup_host_has_controller(host, "memory")) {
        /* Hard limit first: on v1 the memory+swap limit must never be below it. */
        if (def_value(def->memtune[DOMAIN_MEMTUNE_HARD_LIMIT], &v) &&
            !cgroup_set_memory_hard_limit(vm, v, error))
            return FALSE;
        if (def_value(def->memtune[DOMAIN_MEMTUNE_SOFT_LIMIT], &v) &&
            !cgroup_set_memory_soft_limit(vm, v, error))
            return FALSE;
        if (def_value(def->memtune[DOMAIN_MEMTUNE_SWAP_HARD_LIMIT], &v) &&
            !cgroup_set_memory_swap_hard_limit(vm, v, error))
            return FALSE;
    }
    if (cgroup_host_has_controller(host, "blkio")) {
        if (def_value(def->blkio_weight, &v) && !cgroup_set_blkio_weight(vm, v, error))
            return FALSE;
        static const char *const limits[] = {
            [DOMAIN_BLKIO_DEV_READ_IOPS_SEC] = "read_iops",
            [DOMAIN_BLKIO_DEV_WRITE_IOPS_SEC] = "write_iops",
            [DOMAIN_BLKIO_DEV_READ_BYTES_SEC] = "read_bps",
            [DOMAIN_BLKIO_DEV_WRITE_BYTES_SEC] = "write_bps",
        };
        for (guint i = 0; i < def->blkio_devices.len; i++) {
            const DomainBlkioDevice *dev = ptr_vec_index(&def->blkio_devices, i);
            if (def_value(dev->fields[DOMAIN_BLKIO_DEV_WEIGHT], &v) &&
                !cgroup_set_blkio_device_weight(vm, dev->path, v, error))
                return FALSE;
            for (int f = DOMAIN_BLKIO_DEV_READ_IOPS_SEC; f < DOMAIN_BLKIO_DEV_LAST; f++) {
                if (def_value(dev->fields[f], &v) &&
                    !cgroup_set_blkio_device_limit(vm, dev->path, limits[f], v, error))
                    return FALSE;
            }
        }
    }
    /* numatune memory: strict and restrictive bind through cpuset.mems (before the
     * sub-groups copy it). */
    if (def->numa_memory_nodeset && cgroup_host_has_controller(host, "cpuset") &&
        g_strcmp0(def->numa_memory_mode, "interleave") != 0 &&
        g_strcmp0(def->numa_memory_mode, "preferred") != 0) {
        g_autofree char *mems = cpuset_normalize(def->numa_memory_nodeset, error);
        if (!mems || !cgroup_set_cpuset_mems(vm, mems, error))
            return FALSE;
    }
    return TRUE;
}

/* Every thread of @pid that is not a vCPU thread of @dom, pinned to @cpuset. */
static gboolean
pin_emulator_threads(QemuDomain *dom, pid_t pid, const char *cpuset, GError **error)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/task", (int)pid);
    g_autoptr(GDir) tasks = g_dir_open(dir, 0, NULL);
    for (const char *entry; tasks && (entry = g_dir_read_name(tasks));) {
        pid_t tid = atoi(entry);
        gboolean is_vcpu = FALSE;
        for (guint i = 0; dom->vcpu_tids && i < dom->vcpu_tids->len; i++)
            is_vcpu = is_vcpu || g_array_index(dom->vcpu_tids, pid_t, i) == tid;
        if (!is_vcpu && !qemu_cgroup_set_affinity(tid, cpuset, error))
            return FALSE;
    }
    return TRUE;
}

static void
record_vcpu_tid(QemuDomain *dom, unsigned int vcpu, pid_t tid)
{
    if (!dom->vcpu_tids)
        dom->vcpu_tids = g_array_new(FALSE, TRUE, sizeof(pid_t));
    if (vcpu >= dom->vcpu_tids->len)
        g_array_set_size(dom->vcpu_tids, vcpu + 1);
    g_array_index(dom->vcpu_tids, pid_t, vcpu) = tid;
}

void
qemu_cgroup_release(QemuDomain *dom)
{
    g_clear_pointer(&dom->cgroup_vcpus, g_ptr_array_unref);
    g_clear_pointer(&dom->cgroup_emulator, cgroup_free);
    g_clear_pointer(&dom->cgroup, cgroup_free);
    g_clear_pointer(&dom->vcpu_tids, g_array_unref);
    g_clear_pointer(&dom->machine_name, g_free);
    dom->machined = NULL;
}

/* The path of the scope machined made for machine @name of process @pid (from
 * /proc/PID/cgroup), NULL when @pid is in none. */
static char *
machine_scope_of(pid_t pid, const char *name)
{
    g_autofree char *file = g_strdup_printf("/proc/%d/cgroup", (int)pid);
    g_autofree char *text = NULL;
    g_autofree char *unit = machined_scope_unit(name);

    if (!g_file_get_contents(file, &text, NULL, NULL))
        return NULL;
    return machined_scope_path(text, unit);
}

/* Register QEMU (@pid, paused) with systemd-machined, which puts it in a new scope; the
 * VM's group is SCOPE_GROUP below that scope, QEMU moved into it. */
static Cgroup *
machine_group_new(QemuDriver *drv, QemuDomain *dom, DomainDef *live, int id, pid_t pid,
                  GError **error)
{
    g_autofree char *name = machined_machine_name(id, domain_def_get_name(live));
    MachinedVm vm = {
        .name = name,
        .uuid = dom->uuid,
        .leader = pid,
        .partition = live->resource_partition,
    };
    if (!machined_create(drv->machined, &vm, error)) {
        g_prefix_error(error, _("cannot register domain '%s': "), domain_def_get_name(live));
        return NULL;
    }
    dom->machine_name = g_steal_pointer(&name);
    dom->machined = drv->machined;
    g_autofree char *scope = machine_scope_of(pid, dom->machine_name);
    if (!scope) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("systemd-machined registered domain '%s' but QEMU is not in its "
                         "scope"),
                       domain_def_get_name(live));
        return NULL;
    }
    g_autofree char *path = g_build_path("/", scope, SCOPE_GROUP, NULL);
    return cgroup_open(drv->cgroup_host, path, pid, error);
}

static gboolean
split_groups(QemuDomain *dom, DomainDef *live, pid_t pid, GArray *vcpu_threads,
             GError **error)
{
    for (guint i = 0; vcpu_threads && i < vcpu_threads->len; i++) {
        const QemuVcpuThread *t = &g_array_index(vcpu_threads, QemuVcpuThread, i);
        if (!qemu_cgroup_add_vcpu(dom, live, t->index, t->tid, error))
            return FALSE;
    }
    dom->cgroup_emulator = cgroup_new_child(dom->cgroup, "emulator", error);
    if (!dom->cgroup_emulator || !cgroup_move_tasks(dom->cgroup, dom->cgroup_emulator, error))
        return FALSE;
    if (cgroup_host_has_controller(cgroup_get_host(dom->cgroup), "cpu") &&
        !apply_bandwidth(dom->cgroup_emulator, live->cputune[DOMAIN_CPUTUNE_EMULATOR_PERIOD],
                         live->cputune[DOMAIN_CPUTUNE_EMULATOR_QUOTA], error))
        return FALSE;
    const char *emulator_cpuset = live->emulatorpin ? live->emulatorpin : live->vcpu_cpuset;
    if (emulator_cpuset && (!pin_group(dom->cgroup_emulator, 0, emulator_cpuset, error) ||
                            !pin_emulator_threads(dom, pid, emulator_cpuset, error)))
        return FALSE;
    return TRUE;
}

static gboolean
setup_failed(const DomainDef *live, GError *local, GError **error)
{
    g_prefix_error(&local, _("cannot set up the cgroups of domain '%s': "),
                   domain_def_get_name(live));
    g_propagate_error(error, local);
    /* QEMU is still in the group: the caller kills it, then calls qemu_cgroup_teardown. */
    return FALSE;
}

gboolean
qemu_cgroup_place(QemuDriver *drv, QemuDomain *dom, DomainDef *live, int id, pid_t pid,
                  GError **error)
{
    if (!drv->cgroup_host)
        return TRUE;
    if (!live->resource_partition)
        live->resource_partition = g_strdup(DEFAULT_PARTITION);
    if (drv->machined)
        dom->cgroup = machine_group_new(drv, dom, live, id, pid, error);
    else
        dom->cgroup = cgroup_new_machine(drv->cgroup_host, live->resource_partition, id,
                                         domain_def_get_name(live), FALSE, error);
    if (!dom->cgroup)
        return FALSE; /* the caller's teardown terminates a registered machine */
    GError *local = NULL;
    if (!cgroup_add_process(dom->cgroup, pid, &local) ||
        !apply_vm_limits(dom->cgroup, live, &local))
        return setup_failed(live, local, error);
    return TRUE;
}

gboolean
qemu_cgroup_split(QemuDomain *dom, DomainDef *live, pid_t pid, GArray *vcpu_threads,
                  GError **error)
{
    GError *local = NULL;
    if (!dom->cgroup || split_groups(dom, live, pid, vcpu_threads, &local))
        return TRUE;
    return setup_failed(live, local, error);
}

void
qemu_cgroup_reattach(QemuDriver *drv, QemuDomain *dom, GArray *vcpu_threads)
{
    if (!drv->cgroup_host)
        return;
    g_autoptr(GError) err = NULL;
    /* in a machined scope when the daemon that started it registered it */
    g_autofree char *name = machined_machine_name(dom->id, qemu_domain_name(dom));
    g_autofree char *scope = machine_scope_of(dom->pid, name);
    if (scope) {
        g_autofree char *path = g_build_path("/", scope, SCOPE_GROUP, NULL);
        dom->machine_name = g_steal_pointer(&name);
        dom->machined = drv->machined;
        dom->cgroup = cgroup_open(drv->cgroup_host, path, 0, &err);
    } else {
        dom->cgroup = cgroup_new_machine(drv->cgroup_host, dom->def->resource_partition,
                                         dom->id, qemu_domain_name(dom), TRUE, &err);
    }
    if (!dom->cgroup) {
        g_warning("domain '%s' runs outside its cgroup: %s", qemu_domain_name(dom),
                  err->message);
        return;
    }
    dom->cgroup_emulator = cgroup_new_child(dom->cgroup, "emulator", &err);
    if (!dom->cgroup_emulator)
        g_warning("domain '%s': %s", qemu_domain_name(dom), err->message);
    for (guint i = 0; vcpu_threads && i < vcpu_threads->len; i++) {
        const QemuVcpuThread *t = &g_array_index(vcpu_threads, QemuVcpuThread, i);
        record_vcpu_tid(dom, t->index, t->tid);
    }
}

/* After TerminateMachine: what systemd leaves of the scope (on v1 the cpuset levels
 * cgroup_open made) goes too. */
static void
remove_scope(QemuDomain *dom)
{
    g_autofree char *scope = g_path_get_dirname(cgroup_get_path(dom->cgroup));
    g_autoptr(Cgroup) group = cgroup_open(cgroup_get_host(dom->cgroup), scope, 0, NULL);
    g_autoptr(GError) err = NULL;
    if (group && !cgroup_remove(group, &err))
        g_warning("domain '%s': %s", qemu_domain_name(dom), err->message);
}

void
qemu_cgroup_teardown(QemuDomain *dom)
{
    g_autoptr(GError) err = NULL;
    if (dom->cgroup && !cgroup_remove(dom->cgroup, &err))
        g_warning("domain '%s': %s", qemu_domain_name(dom), err->message);
    g_clear_error(&err);
    if (dom->machine_name && dom->machined &&
        !machined_terminate(dom->machined, dom->machine_name, &err))
        g_warning("domain '%s': %s", qemu_domain_name(dom), err->message);
    if (dom->machine_name && dom->cgroup)
        remove_scope(dom);
    qemu_cgroup_release(dom);
}

/* ---- groups of a running domain ---- */

Cgroup *
qemu_cgroup_get(QemuDomain *dom, GError **error)
{
    if (!qemu_domain_check_active(dom, error))
        return NULL;
    if (!dom->cgroup) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_UNSUPPORTED,
                       _("cgroups are not available for domain '%s': the daemon runs it "
                         "without a cgroup (see the daemon's log)"),
                       qemu_domain_name(dom));
        return NULL;
    }
    return dom->cgroup;
}

Cgroup *
qemu_cgroup_get_emulator(QemuDomain *dom, GError **error)
{
    if (!qemu_cgroup_get(dom, error))
        return NULL;
    if (!dom->cgroup_emulator)
        dom->cgroup_emulator = cgroup_new_child(dom->cgroup, "emulator", error);
    return dom->cgroup_emulator;
}

/* vcpu@vcpu/ of @dom (which has a group), created when missing. */
static Cgroup *
vcpu_group(QemuDomain *dom, unsigned int vcpu, GError **error)
{
    if (!dom->cgroup_vcpus)
        dom->cgroup_vcpus = g_ptr_array_new_with_free_func((GDestroyNotify)cgroup_free);
    if (vcpu >= dom->cgroup_vcpus->len)
        g_ptr_array_set_size(dom->cgroup_vcpus, vcpu + 1);
    Cgroup **slot = (Cgroup **)&g_ptr_array_index(dom->cgroup_vcpus, vcpu);
    if (!*slot) {
        g_autofree char *name = g_strdup_printf("vcpu%u", vcpu);
        *slot = cgroup_new_child(dom->cgroup, name, error);
    }
    return *slot;
}

Cgroup *
qemu_cgroup_get_vcpu(QemuDomain *dom, unsigned int vcpu, GError **error)
{
    return qemu_cgroup_get(dom, error) ? vcpu_group(dom, vcpu, error) : NULL;
}

pid_t
qemu_cgroup_vcpu_tid(QemuDomain *dom, unsigned int vcpu)
{
    if (!dom->vcpu_tids || vcpu >= dom->vcpu_tids->len)
        return 0;
    return g_array_index(dom->vcpu_tids, pid_t, vcpu);
}

gboolean
qemu_cgroup_add_vcpu(QemuDomain *dom, const DomainDef *def, unsigned int vcpu, pid_t tid,
                     GError **error)
{
    record_vcpu_tid(dom, vcpu, tid);
    if (!dom->cgroup) /* no cgroups: the pin still applies to the thread */
        return !vcpu_cpuset(def, vcpu) || qemu_cgroup_set_affinity(tid, vcpu_cpuset(def, vcpu),
                                                                   error);
    Cgroup *group = vcpu_group(dom, vcpu, error);
    return group && cgroup_add_thread(group, tid, error) &&
           apply_vcpu(group, def, vcpu, tid, error);
}

void
qemu_cgroup_remove_vcpu(QemuDomain *dom, unsigned int vcpu)
{
    record_vcpu_tid(dom, vcpu, 0);
    if (!dom->cgroup)
        return;
    /* Opened here if this daemon never did (it re-attached after the vCPU came). */
    g_autoptr(GError) err = NULL;
    Cgroup *group = vcpu_group(dom, vcpu, &err);
    if (!group || !cgroup_remove(group, &err))
        g_warning("domain '%s': %s", qemu_domain_name(dom), err->message);
    if (group)
        g_clear_pointer(&g_ptr_array_index(dom->cgroup_vcpus, vcpu), cgroup_free);
}

gboolean
qemu_cgroup_iothread_bandwidth(QemuDomain *dom, const DomainDef *def, unsigned int id,
                               GError **error)
{
    const char *period = def->cputune[DOMAIN_CPUTUNE_IOTHREAD_PERIOD];
    const char *quota = def->cputune[DOMAIN_CPUTUNE_IOTHREAD_QUOTA];
    if (!dom->cgroup || (!period && !quota) ||
        !cgroup_host_has_controller(cgroup_get_host(dom->cgroup), "cpu"))
        return TRUE;
    g_autofree char *name = g_strdup_printf("iothread%u", id);
    g_autoptr(Cgroup) group = cgroup_new_child(dom->cgroup, name, error);
    return group && apply_bandwidth(group, period, quota, error);
}
