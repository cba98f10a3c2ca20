/* Per-disk I/O throttling (virsh blkdeviotune, a disk's <iotune>).
 *
 * The pure core moves one disk's limits between three shapes: the typed parameters of
 * virDomain{Get,Set}BlockIoTune, the decimal strings of DomainDiskDef.iotune and the
 * arguments of QMP block_set_io_throttle. Limits are checked here with QEMU's own rules
 * (and range), so a bad request is refused with a message naming the parameters before
 * anything is changed, also for the persistent definition that QEMU never sees.
 *
 * QEMU gets the limits through block_set_io_throttle, addressed by the QOM path of the
 * disk's device as query-block reports it (a virtio disk's is ".../virtio-backend"): at
 * start (before the guest runs) and on every live change.
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "drivers/driver.h"
#include "drivers/qemu/qemu-process.h"
#include "xml/domain-conf-priv.h"

/* QEMU's limit for every rate (and for a burst rate times its length). */
#define QEMU_IOTUNE_VALUE_MAX G_GUINT64_CONSTANT(1000000000000000)

/* One disk's limits: values[] by DomainIotuneField (0: unset; the GROUP_NAME slot is
 * unused), group_name NULL when unset. */
typedef struct {
    guint64 values[DOMAIN_IOTUNE_LAST];
    char *group_name;
} QemuIotune;

void qemu_iotune_clear(QemuIotune *t);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(QemuIotune, qemu_iotune_clear)

/* libvirt's parameter name of @field ("total_bytes_sec", ...). */
const char *qemu_iotune_field_name(DomainIotuneField field);

/* The limits of @disk's <iotune> (strings already validated by the XML parser). */
void qemu_iotune_from_disk(const DomainDiskDef *disk, QemuIotune *ret);

/* Write @t into @disk's <iotune>: unset values are removed, so no limit means no element. */
void qemu_iotune_to_disk(const QemuIotune *t, DomainDiskDef *disk);

/* TRUE when @t limits nothing (and names no group). */
gboolean qemu_iotune_is_empty(const QemuIotune *t);

/* Check @t against QEMU's rules. Errors (VIR_ERR_INVALID_ARG) name the parameters:
 * "'X' must be at most 1000000000000000", "'total_X' and 'read_X' cannot be set at the
 * same time", "'X_max' needs 'X' to be set", "'X_max' cannot be lower than 'X'",
 * "'X_max_length' needs 'X_max' to be set", "'X_max' times 'X_max_length' must be at most
 * 1000000000000000", "'size_iops_sec' needs an IOPS limit to be set". */
gboolean qemu_iotune_validate(const QemuIotune *t, GError **error);

/* Apply the typed parameters @params of a set call to @t, as libvirt does: giving any of
 * total/read/write of a kind (bytes_sec, iops_sec, their _max and _max_length) replaces
 * all three of that kind (the others become 0); kinds not mentioned keep their values.
 * A kept burst (_max, _max_length, size_iops_sec) whose base has just been cleared goes
 * with it; one given explicitly is checked. "" as group_name removes the group. The result
 * is validated; on error @t is unchanged. Errors: those of domain_params_validate() and
 * qemu_iotune_validate(). */
gboolean qemu_iotune_merge(QemuIotune *t, GArray *params, GError **error);

/* The typed parameters of a get call in libvirt's order: every ullong value, and
 * group_name (a string, "" when unset) only when @with_strings. */
GArray *qemu_iotune_to_params(const QemuIotune *t, gboolean with_strings);

/* The parameters of the TUNABLE event after a live set of @params on disk @disk (the
 * name the caller gave), as libvirtd sends them: VIR_DOMAIN_TUNABLE_BLKDEV_DISK, then
 * each given parameter with its given value, in the caller's order. */
GArray *qemu_iotune_tunable(const char *disk, GArray *params);

/* The arguments of block_set_io_throttle for the device at QOM path @qdev. */
json_object *qemu_iotune_qmp_args(const QemuIotune *t, const char *qdev);

/* The QOM path ("qdev") of the device whose medium is block node @node_name, from a
 * query-block reply (borrowed); NULL when there is none. */
const char *qemu_iotune_find_qdev(json_object *query_block, const char *node_name);

/* The block_set_io_throttle arguments that give disk @index of @def (run by the QEMU that
 * sent @query_block) the limits @t. VIR_ERR_OPERATION_FAILED "QEMU has no device for disk
 * 'X'" when the reply does not list the disk's node. */
json_object *qemu_iotune_throttle_args(json_object *query_block, const DomainDef *def,
                                       guint index, const QemuIotune *t, GError **error);


/* Start-up: give QEMU @proc (paused; call without the domain lock) the <iotune> of every
 * disk of @live. Errors say which disk and why: VIR_ERR_CONFIG_UNSUPPORTED for limits
 * QEMU cannot take, QEMU's own words when it refused. */
gboolean qemu_iotune_start(QemuProcess *proc, const DomainDef *live, GError **error);

/* The blkdeviotune calls of the driver's vtable. */
void qemu_iotune_fill_vtable(VirtDriver *vtable);
