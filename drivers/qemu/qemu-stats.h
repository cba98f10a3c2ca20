/* Statistics of domains: the pure parts (QMP replies, procfs text, image headers, key
 * codes, CPU sets -> values), kept apart from the driver code in qemu-stats.c so that
 * tests can feed them canned input.
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "drivers/driver.h"

/* One block node's counters from query-blockstats, -1 when QEMU did not say. */
typedef struct {
    gint64 rd_bytes, wr_bytes, rd_operations, wr_operations, flush_operations;
    gint64 rd_total_time_ns, wr_total_time_ns, flush_total_time_ns;
    gint64 wr_highest_offset;
} QemuBlockCounters;

/* The counters of the entry of a query-blockstats reply whose "node-name" is @node_name.
 * Returns FALSE when there is no such entry. */
gboolean qemu_stats_parse_blockstats(json_object *reply, const char *node_name,
                                     QemuBlockCounters *ret_counters);

/* "virtual-size" and "actual-size" (bytes, 0 when absent) of the image inserted as
 * @node_name in a query-block reply. Returns FALSE when there is no such device. */
gboolean qemu_stats_parse_block_sizes(json_object *reply, const char *node_name,
                                      guint64 *ret_virtual, guint64 *ret_actual);

/* The balloon size of a query-balloon reply, in KiB. FALSE when "actual" is missing. */
gboolean qemu_stats_parse_balloon(json_object *reply, guint64 *ret_kib);

/* The guest's balloon statistics of a qom-get of "guest-stats" as libvirt reports them
 * (tags VIR_DOMAIN_MEMORY_STAT_*, memory in KiB, only what the guest reported, then
 * LAST_UPDATE). Appends to @stats (DomainMemoryStat). */
void qemu_stats_parse_guest_stats(json_object *reply, GArray *stats);

/* One vCPU thread from query-cpus-fast. */
typedef struct {
    unsigned int index;
    int tid;
} QemuVcpuThread;

/* The vCPU threads of a query-cpus-fast reply, in the reply's order (QemuVcpuThread). */
GArray *qemu_stats_parse_vcpu_threads(json_object *reply);

/* The vCPU index of a thread named @comm by QEMU's debug-threads ("CPU 1/TCG",
 * "CPU 0/KVM"); FALSE for other threads. */
gboolean qemu_stats_parse_vcpu_comm(const char *comm, unsigned int *ret_index);

/* Times and CPU from the text of /proc/PID[/task/TID]/stat. */
typedef struct {
    guint64 utime_ticks;
    guint64 stime_ticks;
    int processor; /* field 39: the CPU it last ran on */
} QemuProcStat;

gboolean qemu_stats_parse_proc_stat(const char *text, QemuProcStat *ret_stat);

/* VmRSS (KiB) from the text of /proc/PID/status; FALSE when absent. */
gboolean qemu_stats_parse_vmrss(const char *text, guint64 *ret_kib);

/* The virtual size of a qcow2 image from the first @len bytes of the file (its header);
 * FALSE when they are not a qcow2 header. */
gboolean qemu_stats_qcow2_size(const guint8 *header, gsize len, guint64 *ret_size);

/* Set the bits of CPU list @cpuset ("0-3,^2,6") in @map (@maplen bytes, one bit per CPU,
 * LSB first); CPUs at or beyond @ncpus or @maplen * 8 are ignored. A malformed list is
 * VIR_ERR_CONFIG_UNSUPPORTED naming it. */
gboolean qemu_stats_parse_cpuset(const char *cpuset, guint8 *map, int maplen, int ncpus,
                                 GError **error);

/* The name of virKeycodeSet @codeset ("linux", "usb", ...) or NULL. */
const char *qemu_stats_codeset_name(unsigned int codeset);

/* The QEMU "number" key (an XT / set 1 scancode, 0x80 marks the 0xe0 prefix) of key
 * @code of virKeycodeSet @codeset; -1 when it has none (or the set is not supported:
 * see qemu_stats_codeset_supported). */
int qemu_stats_keycode_to_qnum(unsigned int codeset, unsigned int code);
gboolean qemu_stats_codeset_supported(unsigned int codeset);

/* Free a DomainStatsRecord (NULL allowed). */
void qemu_stats_record_free(DomainStatsRecord *rec);

/* A new record for @ref (copied) with an empty parameter list. */
DomainStatsRecord *qemu_stats_record_new(const DomainRef *ref);

/* Append a typed parameter; the field name is printf-formatted. */
void qemu_stats_add_int(DomainStatsRecord *rec, int value, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
void qemu_stats_add_uint(DomainStatsRecord *rec, unsigned int value, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
void qemu_stats_add_ullong(DomainStatsRecord *rec, guint64 value, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
void qemu_stats_add_string(DomainStatsRecord *rec, const char *value, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
