/* cgroups for VMs: one interface, a v1 and a v2 backend (hybrid hosts detected), in the
 * spirit of a container runtime's cgroup manager.
 *
 * The cgroup filesystem root is injectable ("/sys/fs/cgroup" on a real host) so unit tests
 * run both backends against temporary trees shaped like real hosts. Without systemd a VM's
 * group is <partition>/qemu-ID-NAME.libvirt-qemu with emulator/ and vcpuN/ sub-groups,
 * the names libvirt uses (partition "/machine" by default).
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef enum {
    CGROUP_MODE_NONE,   /* no usable cgroup filesystem */
    CGROUP_MODE_V1,     /* one hierarchy per controller */
    CGROUP_MODE_HYBRID, /* v1 controllers plus a v2 hierarchy without controllers */
    CGROUP_MODE_V2,     /* the unified hierarchy */
    CGROUP_MODE_LAST
} CgroupMode;

const char *cgroup_mode_to_string(CgroupMode mode);

typedef struct _CgroupHost CgroupHost; /* what the host offers: mode, mount points */
typedef struct _Cgroup Cgroup;         /* one group (a VM's, or a sub-group) */

/* Inspect the cgroup filesystems: mounts come from @mountinfo_path ("/proc/self/mountinfo"
 * on a real host; tests pass a file describing their tree), and every mount point is taken
 * relative to @root ("/" on a real host, a temporary directory in tests). Never fails:
 * CGROUP_MODE_NONE when nothing is usable. */
CgroupHost *cgroup_host_new(const char *root, const char *mountinfo_path);
void cgroup_host_free(CgroupHost *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CgroupHost, cgroup_host_free)

CgroupMode cgroup_host_get_mode(const CgroupHost *host);

/* Resolve a block device path to its MAJ:MIN. The default stat()s @device and refuses
 * anything but a block device (VIR_ERR_INVALID_ARG); tests inject a fake. */
typedef gboolean (*CgroupDeviceResolver)(const char *device, unsigned int *ret_major,
                                         unsigned int *ret_minor, GError **error);
void cgroup_host_set_device_resolver(CgroupHost *host, CgroupDeviceResolver resolver);

/* Test seam, never set on a real host: called after every change virtd makes to the tree,
 * with @op "mkdir" (@path the new directory, @value NULL), "write" (@path the file, @value
 * what was written) or "rmdir". A test uses it to log the changes and to play the kernel:
 * fill a new directory with control files, merge "+cpu" into cgroup.subtree_control. */
typedef void (*CgroupTestHook)(const char *op, const char *path, const char *value,
                               gpointer data);
void cgroup_host_set_test_hook(CgroupHost *host, CgroupTestHook hook, gpointer data);
/* Whether controller @name ("cpu", "cpuacct", "cpuset", "memory", "blkio"/"io") is usable. */
gboolean cgroup_host_has_controller(const CgroupHost *host, const char *name);

/* The group name libvirt uses for a VM: "qemu-ID-NAME.libvirt-qemu". As libvirt does, NAME
 * keeps only ASCII letters, digits, '-' and '.', a '-' or '.' is dropped at the start and
 * after another one, "qemu-ID-NAME" is cut at 64 characters and loses trailing '-' and
 * '.'. Pure. */
char *cgroup_machine_name(int id, const char *name);

/* The cgroup path of the resource partition @partition ("/machine" when NULL or empty), as
 * libvirt names it without systemd: "/machine" stays, every other component gets the
 * suffix ".partition" ("/machine/prod" -> "/machine/prod.partition") and a '_' prefix when
 * it starts with '_', '.', "cgroup." or a controller name and a dot. Pure. Errors:
 * VIR_ERR_CONFIG_UNSUPPORTED when @partition is not absolute or has an empty component. */
char *cgroup_partition_path(const char *partition, GError **error);

/* Create (or, with @existing_only, find) the VM's group <partition>/<machine name> in every
 * usable controller, enabling the controllers it needs on v2. @partition is libvirt's
 * generic name (NULL: "/machine"); only "/machine" is created when missing, as libvirt
 * does, a custom partition must exist. @host must outlive the group. Errors:
 * VIR_FROM_CGROUP; VIR_ERR_OPERATION_UNSUPPORTED without a usable cgroup filesystem,
 * VIR_ERR_OPERATION_FAILED when a partition or (@existing_only) the group is missing,
 * VIR_ERR_SYSTEM_ERROR naming the path. */
Cgroup *cgroup_new_machine(CgroupHost *host, const char *partition, int id, const char *name,
                           gboolean existing_only, GError **error);

/* The group at @path (relative to the hierarchy root, as /proc/PID/cgroup shows it) below
 * a group someone else made: "/machine.slice/machine-qemu\x2d1\x2dweb.scope/libvirt" below
 * the scope systemd-machined made for a VM. With @pid 0 the group must exist. With @pid
 * (the only process of the parent, e.g. the scope's QEMU) the group is created when missing
 * (with any missing parent, on v1 in every hierarchy: systemd makes no cpuset groups), @pid
 * moves into it and then, on v2, the parent enables the VM's controllers for it: a v2 group
 * that holds a process cannot hand memory or io down. Errors: as cgroup_new_machine. */
Cgroup *cgroup_open(CgroupHost *host, const char *path, pid_t pid, GError **error);

/* A thread sub-group of @parent ("emulator", "vcpu0", "iothread1"), created if missing,
 * for cpu, cpuacct and cpuset (memory, blkio and devices limits stay on the VM's group).
 * v1: in those hierarchies, cpuset.cpus/mems copied from the parent. v2: a "threaded"
 * child; the parent's cgroup.subtree_control gets the threaded controllers (cpu, cpuset),
 * never memory or io, so that the VM's group can be the threaded domain. Nothing moves by
 * itself: move QEMU's threads with cgroup_move_tasks(vm, emulator). */
Cgroup *cgroup_new_child(Cgroup *parent, const char *name, GError **error);

/* Move the process @pid (all its threads) or just the thread @tid into @group. Into a v2
 * thread sub-group a process moves thread by thread (cgroup.threads). */
gboolean cgroup_add_process(Cgroup *group, pid_t pid, GError **error);
gboolean cgroup_add_thread(Cgroup *group, pid_t tid, GError **error);

/* Move every thread of @from into @to (@to usually a child of @from: the VM's group to its
 * emulator/), in every controller both are in; threads that appear meanwhile move too. */
gboolean cgroup_move_tasks(Cgroup *from, Cgroup *to, GError **error);

/* Limits, in libvirt's units; v1 and v2 files and value conversions are the backend's.
 * Errors name the setting and the file. */
/* v1: cpu.shares, 2-262144. v2: cpu.weight, 1-10000, the value unchanged as libvirt writes
 * it (see cgroup_shares_to_weight for the other mapping). Errors: VIR_ERR_INVALID_ARG out of
 * range. */
gboolean cgroup_set_cpu_shares(Cgroup *group, guint64 shares, GError **error);
gboolean cgroup_get_cpu_shares(Cgroup *group, guint64 *ret_shares, GError **error);
/* period in us (1000-1000000); quota in us (1000-17592186044415) or -1 for none (v2:
 * cpu.max "max PERIOD"). Errors: VIR_ERR_INVALID_ARG out of range. */
gboolean cgroup_set_cpu_bandwidth(Cgroup *group, guint64 period, gint64 quota, GError **error);
gboolean cgroup_get_cpu_bandwidth(Cgroup *group, guint64 *ret_period, gint64 *ret_quota,
                                  GError **error);
/* Total CPU time used by the group, in ns (cpuacct.usage / cpu.stat usage_usec). */
gboolean cgroup_get_cpu_usage(Cgroup *group, guint64 *ret_ns, GError **error);
/* KiB; G_MAXUINT64 means unlimited (so does any value >= VIR_DOMAIN_MEMORY_PARAM_UNLIMITED
 * when setting; reading, a kernel's "max" or huge number reads as G_MAXUINT64). v1 swap is
 * memory.memsw (memory + swap, must stay >= the hard limit: set the larger one first), v2
 * swap is memory.swap.max; the soft limit is memory.high on v2. */
gboolean cgroup_set_memory_hard_limit(Cgroup *group, guint64 kib, GError **error);
gboolean cgroup_get_memory_hard_limit(Cgroup *group, guint64 *ret_kib, GError **error);
gboolean cgroup_set_memory_soft_limit(Cgroup *group, guint64 kib, GError **error);
gboolean cgroup_get_memory_soft_limit(Cgroup *group, guint64 *ret_kib, GError **error);
gboolean cgroup_set_memory_swap_hard_limit(Cgroup *group, guint64 kib, GError **error);
gboolean cgroup_get_memory_swap_hard_limit(Cgroup *group, guint64 *ret_kib, GError **error);
/* blkio weight: v1 blkio.bfq.weight or blkio.weight, 100-1000; v2 io.bfq.weight or
 * io.weight ("default N"), 1-10000, the value unchanged as libvirt writes it. Errors:
 * VIR_ERR_OPERATION_UNSUPPORTED when the I/O scheduler has no weights (no such file). */
gboolean cgroup_set_blkio_weight(Cgroup *group, unsigned int weight, GError **error);
gboolean cgroup_get_blkio_weight(Cgroup *group, unsigned int *ret_weight, GError **error);
/* Per-device limits: @device is a block device path ("/dev/sda"); 0 removes the limit.
 * Reading, 0 means no limit. */
gboolean cgroup_set_blkio_device_weight(Cgroup *group, const char *device, unsigned int weight,
                                        GError **error);
gboolean cgroup_set_blkio_device_limit(Cgroup *group, const char *device, const char *what,
                                       guint64 value, GError **error); /* what: read_bps,
                                                                        * write_bps, read_iops,
                                                                        * write_iops */
gboolean cgroup_get_blkio_device_weight(Cgroup *group, const char *device,
                                        unsigned int *ret_weight, GError **error);
gboolean cgroup_get_blkio_device_limit(Cgroup *group, const char *device, const char *what,
                                       guint64 *ret_value, GError **error);
/* cpuset.cpus / cpuset.mems as a CPU list string ("0-1,3"). */
gboolean cgroup_set_cpuset_cpus(Cgroup *group, const char *cpus, GError **error);
gboolean cgroup_set_cpuset_mems(Cgroup *group, const char *mems, GError **error);
/* The group's cpuset.cpus / cpuset.mems (caller frees). */
gboolean cgroup_get_cpuset_cpus(Cgroup *group, char **ret_cpus, GError **error);
gboolean cgroup_get_cpuset_mems(Cgroup *group, char **ret_mems, GError **error);

/* Remove the group and its sub-groups (killing nothing: the processes must be gone).
 * Retries briefly while the kernel still reports it busy. A group already gone is fine.
 * Errors: VIR_ERR_SYSTEM_ERROR naming the directory (EBUSY: processes are left). */
gboolean cgroup_remove(Cgroup *group, GError **error);

/* The host @group lives on. */
CgroupHost *cgroup_get_host(const Cgroup *group);

/* The group's path relative to the hierarchy root (e.g. "/machine/qemu-1-web.libvirt-qemu"). */
const char *cgroup_get_path(const Cgroup *group);

/* Frees the handle only: the group stays on the host. */
void cgroup_free(Cgroup *group);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Cgroup, cgroup_free)

/* The usual mapping of v1 cpu.shares (2-262144) onto v2 cpu.weight (1-10000) and back
 * (systemd's CPUShares= to CPUWeight=): weight = 1 + (shares - 2) * 9999 / 262142, out of
 * range values clamped. Lossy (1024 -> 39 -> 998). libvirt does not use it: it writes
 * cpu_shares to cpu.weight unchanged, and so does the v2 backend. Pure. */
guint64 cgroup_shares_to_weight(guint64 shares);
guint64 cgroup_weight_to_shares(guint64 weight);
