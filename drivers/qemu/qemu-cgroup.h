/* A running domain's cgroups: created when it starts, found again when the daemon
 * re-attaches, removed when it stops (also after a crash or a failed start).
 *
 * Layout (libvirt's, without systemd): <partition>/qemu-ID-NAME.libvirt-qemu holds QEMU,
 * with emulator/ for its other threads and vcpuN/ for the thread of vCPU N. Limits of the
 * whole VM (memory, blkio, cpu.shares, global period/quota, cpuset.mems) go on the VM's
 * group, vCPU period/quota and pins on vcpuN/, emulator ones on emulator/.
 *
 * Every function takes the domain locked. Without usable cgroups (none mounted, or a
 * session daemon) a domain runs without a group and the tuning calls that need one fail
 * with qemu_cgroup_get()'s error.
 */
#pragma once

#include "drivers/host/cgroup.h"
#include "drivers/qemu/qemu-driver-priv.h"

/* Detect the host's cgroups once (drv->cgroup_host; NULL when they are not used). */
void qemu_cgroup_init(QemuDriver *drv);
void qemu_cgroup_cleanup(QemuDriver *drv);

/* Starting @dom (domain id @id), in two steps so that the first runs while QEMU
 * initialises. The job is held and the domain is not active yet: its groups are the
 * caller's alone; on error the caller kills QEMU and calls qemu_cgroup_teardown.
 *
 * qemu_cgroup_place: QEMU (@pid) was just exec'd (paused). Create the VM's group (or have
 * systemd-machined make its scope), move QEMU in and apply the limits of the whole VM
 * (memory, blkio, cpu shares, global period/quota, numatune memory nodes). @live gets
 * <resource><partition> as libvirt shows it.
 *
 * qemu_cgroup_split: QEMU answers on its monitor; @vcpu_threads (QemuVcpuThread, from
 * query-cpus-fast) are its vCPU threads. Put each in vcpuN/ and the other threads in
 * emulator/, with the periods, quotas and pins of @live (vcpupin, emulatorpin,
 * <vcpu cpuset>). Fills dom->cgroup_*, dom->vcpu_tids.
 *
 * Errors name the setting ("cannot set up the cgroups of domain 'X': ..."). */
gboolean qemu_cgroup_place(QemuDriver *drv, QemuDomain *dom, DomainDef *live, int id,
                           pid_t pid, GError **error);
gboolean qemu_cgroup_split(QemuDomain *dom, DomainDef *live, pid_t pid, GArray *vcpu_threads,
                           GError **error);

/* After a daemon restart: find the existing group of running @dom (id and name from its
 * live definition) and record @vcpu_threads. A missing group is logged, not an error. */
void qemu_cgroup_reattach(QemuDriver *drv, QemuDomain *dom, GArray *vcpu_threads);

/* @dom stopped: remove its group (retrying briefly while the kernel still counts the
 * exiting QEMU) and forget it. */
void qemu_cgroup_teardown(QemuDomain *dom);

/* The daemon stops, @dom keeps running: forget its groups (they stay on the host). */
void qemu_cgroup_release(QemuDomain *dom);

/* The VM's group / its emulator/ group / vcpu@vcpu/ (created when missing). Errors:
 * VIR_ERR_OPERATION_INVALID when @dom does not run, VIR_ERR_OPERATION_UNSUPPORTED
 * "cgroups are not available for domain 'X': ..." when it runs without a group. */
Cgroup *qemu_cgroup_get(QemuDomain *dom, GError **error);
Cgroup *qemu_cgroup_get_emulator(QemuDomain *dom, GError **error);
Cgroup *qemu_cgroup_get_vcpu(QemuDomain *dom, unsigned int vcpu, GError **error);

/* The host thread id of online vCPU @vcpu, 0 when unknown or offline. */
pid_t qemu_cgroup_vcpu_tid(QemuDomain *dom, unsigned int vcpu);

/* vCPU @vcpu came online (hot-add) as thread @tid: into vcpu@vcpu/, with the period/quota
 * and pin @def gives vCPUs. */
gboolean qemu_cgroup_add_vcpu(QemuDomain *dom, const DomainDef *def, unsigned int vcpu,
                              pid_t tid, GError **error);
/* vCPU @vcpu went away (hot-remove): its group is removed. */
void qemu_cgroup_remove_vcpu(QemuDomain *dom, unsigned int vcpu);

/* Apply @def's <iothread_period>/<iothread_quota> to iothread@id/ (created when missing;
 * the caller puts the IOThread's threads in). Nothing without cgroups or without them. */
gboolean qemu_cgroup_iothread_bandwidth(QemuDomain *dom, const DomainDef *def,
                                        unsigned int id, GError **error);

/* Pin thread @tid to CPU list @cpuset ("0-1,3") with sched_setaffinity; NULL or "" means
 * every host CPU. VIR_ERR_INVALID_ARG names a malformed list. */
gboolean qemu_cgroup_set_affinity(pid_t tid, const char *cpuset, GError **error);
