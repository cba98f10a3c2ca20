/* Host facts read from procfs and sysfs. The roots are injectable so tests can use
 * temporary trees shaped like real hosts (pass "/" for the real host). */
#pragma once

#include <glib.h>

#include "drivers/driver.h"

typedef struct {
    char *proc_root; /* "/" on a real host; files read: proc/cpuinfo, proc/meminfo, proc/stat */
    char *sys_root;  /* "/" on a real host; sys/devices/system/{cpu,node}/..., sys/class/dmi/id */
} HostRoots;

/* virNodeGetInfo: model (arch name, e.g. "x86_64"), memory in KiB, cpus, mhz, nodes,
 * sockets, cores, threads as libvirt computes them. */
gboolean nodeinfo_get(const HostRoots *roots, NodeInfoData *ret_info, GError **error);

/* Number of host CPUs (possible ones); *ret_map (one bit per CPU, LSB first) and
 * *ret_online as virNodeGetCPUMap. -1 on error. */
int nodeinfo_cpu_map(const HostRoots *roots, guint8 **ret_map, unsigned int *ret_online,
                     GError **error);

/* virNodeGetMemoryStats for @cell (-1 = whole host; VIR_NODE_MEMORY_STATS_ALL_CELLS).
 * Fields "total", "free", "buffers", "cached" (host) or "total", "free" (a cell), KiB.
 * Returns the count filled into @ret_stats (at most @max), -1 on error (bad cell:
 * VIR_ERR_INVALID_ARG). */
int nodeinfo_memory_stats(const HostRoots *roots, int cell, NodeStat *ret_stats, int max,
                          GError **error);

/* virNodeGetCPUStats for @cpu (-1 = all): "kernel", "user", "idle", "iowait" in ns. */
int nodeinfo_cpu_stats(const HostRoots *roots, int cpu, NodeStat *ret_stats, int max,
                       GError **error);

/* The value in kB of @key in a meminfo text ("MemTotal:  123 kB", or per node
 * "Node 0 MemTotal:  123 kB"); FALSE when absent. Pure. */
gboolean nodeinfo_meminfo_lookup(const char *text, const char *key, guint64 *ret_kib);

/* Free memory of the host in bytes. */
gboolean nodeinfo_free_memory(const HostRoots *roots, guint64 *ret_bytes, GError **error);

/* Free bytes per NUMA cell from @start, at most @max; returns the count, -1 on error. */
int nodeinfo_cells_free_memory(const HostRoots *roots, int start, int max,
                               guint64 *ret_bytes, GError **error);

/* The <sysinfo type='smbios'> XML that virsh sysinfo shows, from sys/class/dmi/id (and
 * processor/memory facts); a minimal valid document when DMI is not readable. */
char *nodeinfo_sysinfo_xml(const HostRoots *roots, GError **error);

/* Host UUID: the machine id formatted as a UUID, read as libdbus's
 * dbus_get_local_machine_id() reads it: /var/lib/dbus/machine-id, else /etc/machine-id.
 * NULL when neither holds one. */
char *nodeinfo_host_uuid(void);

/* The first of @paths (NULL-terminated) that holds a machine id, as a UUID; NULL if none. */
char *nodeinfo_host_uuid_from_files(const char *const *paths);

/* A machine id file's text as a UUID ("3d1219c7...\n" -> "3d1219c7-...") or NULL. Accepted
 * as libdbus accepts it: exactly 32 hex digits between optional blanks (space, tab, CR, LF);
 * upper case digits are lowered, as libdbus hands the id back in lower case. Pure. */
char *nodeinfo_uuid_from_machine_id(const char *text);

/* Append the host <cpu> element of the capabilities XML (arch, vendor, microcode, signature,
 * topology, page sizes) to @buf, each line indented by @indent spaces. Best effort: facts
 * that cannot be read are left out. */
void nodeinfo_format_host_cpu(const HostRoots *roots, GString *buf, int indent);

/* Append the capabilities <topology> element (NUMA cells with memory, pages, distances and
 * CPUs) to @buf, indented by @indent spaces. A host without NUMA information gets one
 * cell holding all memory and CPUs. Best effort, like nodeinfo_format_host_cpu(). */
void nodeinfo_format_numa_topology(const HostRoots *roots, GString *buf, int indent);

/* The CPU vendor as libvirt names it ("Intel", "AMD", "Hygon", ...) from proc/cpuinfo, or
 * NULL when unknown. Returns a new string. */
char *nodeinfo_cpu_vendor(const HostRoots *roots);
