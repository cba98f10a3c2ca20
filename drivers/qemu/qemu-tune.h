/* The pure part of the tuning calls of qemu-tune.c (schedinfo, memtune, blkiotune): the
 * typed parameters each call takes, their ranges, and how they map to <cputune>,
 * <memtune> and <blkiotune> of a definition. No cgroup is touched here.
 *
 * Conventions are libvirt's: cpu_shares and periods are ullong, quotas llong, memory
 * limits ullong KiB with VIR_DOMAIN_MEMORY_PARAM_UNLIMITED for "no limit", blkio weight
 * uint and the per-device limits strings "path,value,path,value".
 */
#pragma once

#include "drivers/driver.h"
#include "drivers/host/cgroup.h"
#include "xml/domain-conf-priv.h"

/* ---- schedinfo ---- */

/* Every scheduler parameter, as the DOMAIN_CPUTUNE_* fields (cpu_shares, vcpu_period,
 * ...): the number a get returns and GET_SCHEDULER_TYPE announces. */
#define QEMU_TUNE_SCHED_NPARAMS DOMAIN_CPUTUNE_LAST

/* The DOMAIN_CPUTUNE_* field behind scheduler parameter @field, -1 when none. */
int qemu_tune_sched_field(const char *field);

/* Check the @params of a set call: names and types, then ranges: cpu_shares within the
 * backend's range (@mode v2: 1-10000, else 2-262144), periods 0 or 1000-1000000, quotas
 * 0, -1 or 1000-17592186044415. 0 means "unset" in a config and "unchanged" live.
 * Errors: those of domain_params_validate, VIR_ERR_INVALID_ARG naming the parameter and
 * its range. */
gboolean qemu_tune_sched_check(GArray *params, CgroupMode mode, GError **error);

/* Store checked @params in def->cputune (0 unsets a period or quota). */
void qemu_tune_sched_to_def(DomainDef *def, GArray *params);

/* The parameters of @values (indexed by DOMAIN_CPUTUNE_*) in libvirt's order and types. */
GArray *qemu_tune_sched_params(const gint64 values[DOMAIN_CPUTUNE_LAST]);

/* The parameters of the TUNABLE event after a live set of the (checked) scheduler
 * parameters @params, as libvirtd sends them: in the caller's order, named
 * VIR_DOMAIN_TUNABLE_CPU_*, cpu_shares always, a period or quota only when not 0. */
GArray *qemu_tune_sched_tunable(GArray *params);

/* The values @def holds, 0 where it has none. */
void qemu_tune_sched_from_def(const DomainDef *def, gint64 ret_values[DOMAIN_CPUTUNE_LAST]);

/* ---- memtune ---- */

/* The DOMAIN_MEMTUNE_* field behind memory parameter @field, -1 when none. */
int qemu_tune_mem_field(const char *field);

/* Check the @params of a set call (names, types). With @live, min_guarantee is refused:
 * QEMU/KVM has nothing that guarantees a minimum to a guest. */
gboolean qemu_tune_mem_check(GArray *params, gboolean live, GError **error);

/* The limits once @params apply over @current (KiB by DOMAIN_MEMTUNE_*, G_MAXUINT64 or
 * any value >= VIR_DOMAIN_MEMORY_PARAM_UNLIMITED for none) into @ret_values, refusing a
 * hard_limit above swap_hard_limit (VIR_ERR_INVALID_ARG). */
gboolean qemu_tune_mem_merge(GArray *params, const guint64 current[DOMAIN_MEMTUNE_LAST],
                             guint64 ret_values[DOMAIN_MEMTUNE_LAST], GError **error);

/* cgroup v1 keeps memory+swap >= memory at every step: whether the swap limit must be
 * written before the hard limit when going from hard limit @old_hard to @new_swap. */
gboolean qemu_tune_mem_swap_first(guint64 old_hard, guint64 new_swap);

/* Store @values (from qemu_tune_mem_merge) in def->memtune: unlimited (and a
 * min_guarantee of 0) is no element. */
void qemu_tune_mem_to_def(DomainDef *def, const guint64 values[DOMAIN_MEMTUNE_LAST]);

/* The values @def holds: VIR_DOMAIN_MEMORY_PARAM_UNLIMITED for a limit it has not,
 * 0 for no min_guarantee. */
void qemu_tune_mem_from_def(const DomainDef *def, guint64 ret_values[DOMAIN_MEMTUNE_LAST]);

/* The parameters of @values in libvirt's order (hard_limit, soft_limit, swap_hard_limit),
 * then min_guarantee; a limit >= VIR_DOMAIN_MEMORY_PARAM_UNLIMITED reads as that value. */
GArray *qemu_tune_mem_params(const guint64 values[DOMAIN_MEMTUNE_LAST]);

/* ---- blkiotune ---- */

/* One "path,value" of a per-device parameter. */
typedef struct {
    char *path;
    guint64 value;
} QemuTuneBlkioDevice;

/* The DOMAIN_BLKIO_DEV_* field behind per-device parameter @field ("device_weight",
 * "device_read_iops_sec", ...), -1 when none. */
int qemu_tune_blkio_field(const char *field);

/* Parse the value of per-device parameter @field: "/dev/sda,100,/dev/sdb,200" (as virsh
 * sends it; "" is an empty list) into QemuTuneBlkioDevice entries. A weight is 0 (remove)
 * or within the backend's range (@mode v2: 1-10000, else 100-1000). Errors:
 * VIR_ERR_INVALID_ARG naming the parameter and what is wrong. */
GArray *qemu_tune_blkio_parse(const char *field, const char *text, CgroupMode mode,
                              GError **error);

/* Check the @params of a set call: names, types, the weight's range, every list. */
gboolean qemu_tune_blkio_check(GArray *params, CgroupMode mode, GError **error);

/* Merge checked @params into @def: the weight replaces <weight>; a device entry sets
 * that field of the device (added when new), 0 removes the field, and a device with no
 * field left goes away. */
void qemu_tune_blkio_to_def(DomainDef *def, GArray *params);

/* The parameters of @weight (0: none) and @devices (DomainBlkioDevice *) in libvirt's
 * order: weight, device_weight, device_read_iops_sec, device_write_iops_sec,
 * device_read_bytes_sec, device_write_bytes_sec; a list names the devices that have a
 * value for it ("" when none). */
GArray *qemu_tune_blkio_params(unsigned int weight, const PtrVec *devices);

/* The driver calls of qemu-tune.c (schedinfo, memtune, blkiotune) into @vtable. */
void qemu_tune_fill_vtable(VirtDriver *vtable);
