/* Live vCPU hot-add/hot-remove and the memory balloon (virsh setvcpus/setvcpu --live,
 * setmem --live, dommemstat --period), and the <vcpus> of persistent definitions
 * (setvcpu --config).
 *
 * vCPUs: QEMU lists the CPU slots of the machine's topology with query-hotpluggable-cpus;
 * a plugged slot carries the QOM path of its CPU. vCPU N is the N-th slot in topology
 * order, which is also QEMU's cpu-index of the CPU in that slot. A vCPU is plugged with
 * device_add of the slot's CPU type and properties (id "vcpuN") and unplugged with
 * device_del of its QOM path; the guest must release it first (ACPI eject), which QEMU
 * reports with DEVICE_DELETED.
 *
 * The balloon device is the one qemu-command.c creates (id balloon0).
 *
 * This header holds the pure parts (QMP replies -> slots, slots -> plans and arguments),
 * tested with canned replies.
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "drivers/qemu/qemu-driver-priv.h"
#include "xml/domain-conf-priv.h"

/* The QOM path of the balloon device qemu-command.c creates. */
#define QEMU_HOTPLUG_BALLOON_PATH "/machine/peripheral/balloon0"

/* One CPU slot of query-hotpluggable-cpus. */
typedef struct {
    unsigned int index; /* the vCPU number: position in topology order */
    char *type;         /* the CPU device type ("qemu64-x86_64-cpu") */
    json_object *props; /* socket-id, core-id, ... (a reference) */
    char *qom_path;     /* the plugged CPU, NULL when the slot is free */
} QemuVcpuSlot;

/* The slots of a query-hotpluggable-cpus @reply in vCPU order (a GPtrArray of
 * QemuVcpuSlot that frees them). Errors (VIR_FROM_QEMU): OPERATION_FAILED "QEMU gave a
 * malformed reply to 'query-hotpluggable-cpus'", OPERATION_UNSUPPORTED when a slot holds
 * more than one vCPU. */
GPtrArray *qemu_hotplug_parse_slots(json_object *reply, GError **error);

/* How many slots of @slots hold a CPU. */
unsigned int qemu_hotplug_count_plugged(GPtrArray *slots);

/* The vCPUs to plug (*@ret_plug TRUE) or unplug to have @target of them plugged: the
 * lowest free ones are plugged, the highest plugged ones unplugged, vCPU 0 never.
 * Returns a GArray of guint (slot indexes), empty when nothing is to be done. */
GArray *qemu_hotplug_plan_count(GPtrArray *slots, unsigned int target, gboolean *ret_plug);

/* The device_add arguments that plug @slot as device @id (a new object). */
json_object *qemu_hotplug_vcpu_add_args(const QemuVcpuSlot *slot, const char *id);

/* Whether a DEVICE_DELETED event for QOM @path ends the removal of the device at
 * @removing: the device itself or one of its children (QEMU 7.2 reports an unplugged
 * x86 CPU only through its "lapic" child). */
gboolean qemu_hotplug_path_is_removed(const char *removing, const char *path);

/* Record in @def (a live definition) that vCPU @vcpu is now plugged (@online) or not:
 * the current count of <vcpu> and, when present, enabled= of its <vcpus> entry. */
void qemu_hotplug_def_set_vcpu(DomainDef *def, unsigned int vcpu, gboolean online);

/* Make @def's current vCPU count and <vcpus> agree with which @slots are plugged (QEMU
 * is the truth: a guest may release a vCPU after we stopped waiting for it). */
void qemu_hotplug_def_sync_vcpus(DomainDef *def, GPtrArray *slots);

/* virDomainSetVcpu on @def, a persistent definition of domain @dom_name: the vCPUs of
 * CPU list @cpumap are enabled (@enable) or disabled in its <vcpus>, which is made whole
 * (one <vcpu id= enabled= hotpluggable=> per vCPU, filled from <vcpu current> when
 * absent; order= dropped), the changed vCPUs become hotpluggable, and <vcpu current>
 * the number enabled. Errors (VIR_ERR_INVALID_ARG): a vCPU at or above the maximum (the
 * highest named), vCPU 0, a vCPU followed by one left enabled and not hotpluggable (QEMU
 * boots those first); a malformed list as qemu_stats_parse_cpuset says. */
gboolean qemu_hotplug_config_set_vcpu(DomainDef *def, const char *dom_name, const char *cpumap,
                                      gboolean enable, GError **error);

/* After domain_def_set_vcpus on @def (a persistent definition) with @maximum as given
 * there: a <vcpus> it has is made to agree, as libvirt does. A new count enables the
 * lowest disabled vCPUs (hotpluggable when @hotpluggable, VIR_DOMAIN_VCPU_HOTPLUGGABLE,
 * or when an enabled hotpluggable vCPU comes before them) or disables the highest enabled
 * ones; a new maximum drops or adds (disabled) entries and <vcpu current> becomes the
 * number enabled. */
void qemu_hotplug_config_fit_vcpus(DomainDef *def, gboolean maximum, gboolean hotpluggable);

/* How QEMU starts the vCPUs of @def (qemu-command.c's -smp, qemu_hotplug_start_vcpus):
 * it boots vCPUs 0 to *@ret_boot - 1, then the vCPUs of the returned GArray (guint) are
 * plugged in that order before the guest runs. Without <vcpus>, the first <vcpu current>
 * boot and none is plugged. With it, as libvirt does: the enabled vCPUs that are not
 * hotpluggable boot, the enabled hotpluggable ones are plugged in order= order (by id
 * without order=). Errors (VIR_ERR_CONFIG_UNSUPPORTED): vCPU 0 disabled or hotpluggable;
 * a disabled vCPU that is not hotpluggable; an enabled vCPU that is not hotpluggable after
 * one that is disabled or hotpluggable; order= on some enabled vCPUs only; two plugged
 * vCPUs with the same order=. */
GArray *qemu_hotplug_boot_vcpus(const DomainDef *def, unsigned int *ret_boot, GError **error);

/* ---- the driver's side (qemu-driver.c, qemu-run.c) ---- */

/* virDomainSetVcpusFlags with VIR_DOMAIN_AFFECT_LIVE in @flags (resolved; CONFIG may be
 * there too): plug or unplug vCPUs of @dom (locked) until @nvcpus run. Takes the job.
 * Errors: VIR_ERR_INVALID_ARG above the maximum, VIR_ERR_OPERATION_TIMEOUT naming the
 * vCPU the guest did not release in time, QEMU's own words when it refuses. */
gboolean qemu_hotplug_set_vcpus(QemuDriver *drv, QemuDomain *dom, unsigned int nvcpus,
                                unsigned int flags, GError **error);

/* virDomainSetMemoryFlags with VIR_DOMAIN_AFFECT_LIVE in @flags (resolved): set the
 * balloon of @dom (locked) to @kib. Takes the job. Errors: VIR_ERR_INVALID_ARG above the
 * maximum, VIR_ERR_OPERATION_INVALID without a balloon device. */
gboolean qemu_hotplug_set_memory(QemuDriver *drv, QemuDomain *dom, guint64 kib,
                                 unsigned int flags, GError **error);

/* QEMU's DEVICE_DELETED for QOM @path arrived for @dom (locked, @path its QEMU's): it
 * ends the vCPU removal a call waits for, or one that timed out earlier. */
void qemu_hotplug_device_deleted(QemuDriver *drv, QemuDomain *dom, const char *path);

/* @dom (locked) runs again under a restarted daemon, dom->unplug_path restored from its
 * status file; @vcpu_threads are QEMU's vCPUs now (query-cpus-fast, NULL when unknown).
 * A removal the guest completed while no daemon watched is recorded. */
void qemu_hotplug_reattached(QemuDriver *drv, QemuDomain *dom, GArray *vcpu_threads);

/* @dom (locked) stopped: forget its vCPU removals. */
void qemu_hotplug_stopped(QemuDomain *dom);

/* A start, once QEMU (@proc, paused) answers and before its vCPU threads are placed in
 * their cgroups: plug the vCPUs that qemu_hotplug_boot_vcpus says @live plugs, with the
 * same device_add as a live plug. Errors: QEMU's own words (the start fails). */
gboolean qemu_hotplug_start_vcpus(QemuProcess *proc, const DomainDef *live, GError **error);

/* Before the guest runs: give @proc's balloon the target and statistics period of @live
 * (<currentMemory>, <memballoon><stats period>), and make the <vcpus> of @live say which
 * vCPUs QEMU has, booted or plugged. */
gboolean qemu_hotplug_start(QemuProcess *proc, DomainDef *live, GError **error);

/* domain_set_vcpu, domain_set_memory_stats_period. */
void qemu_hotplug_fill_vtable(VirtDriver *vt);
