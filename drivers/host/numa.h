/* Host NUMA facts for pinning and placement: the nodes with their CPUs and memory (read
 * from the injectable sysfs/procfs roots of HostRoots), and pure functions over CPU and
 * node lists ("0-3,^2,6") and over the nodes: checking a nodeset, picking nodes for a
 * domain's memory, the CPUs of a nodeset.
 */
#pragma once

#include <glib.h>

#include "drivers/host/nodeinfo.h"

/* One host NUMA node. */
typedef struct {
    int id;
    char *cpus;        /* its CPUs as a list ("0-1,4"), "" for a node without CPUs */
    guint64 total_kib; /* MemTotal */
    guint64 free_kib;  /* MemFree */
} HostNumaNode;

/* The host's NUMA nodes sorted by id (GArray of HostNumaNode that frees its entries):
 * sys/devices/system/node/nodeN/{cpulist,meminfo} under roots->sys_root. A host without
 * NUMA information is one node 0 with every present CPU and the memory of proc/meminfo.
 * Errors: VIR_ERR_SYSTEM_ERROR / VIR_ERR_OPERATION_FAILED naming the file that cannot
 * be read. */
GArray *numa_nodes_load(const HostRoots *roots, GError **error);

/* A list of numbers as libvirt writes CPU lists and nodesets: "0-3,^2,6" (ranges, single
 * numbers, '^N' removes N). Returns the sorted set (GArray of guint); NULL and
 * VIR_ERR_INVALID_ARG "'X' is not a valid @what" when it is malformed or names nothing.
 * Pure. */
GArray *numa_list_parse(const char *text, const char *what, GError **error);

/* The canonical text of a sorted set of numbers ("0-2,5"); "" when empty. Pure. */
char *numa_list_format(const GArray *ids);

/* The CPUs whose bit is set in @map (@maplen bytes, one bit per CPU, LSB first) as a
 * canonical list; NULL when none is set. Pure. */
char *numa_list_from_map(const guint8 *map, gsize maplen);

/* The numbers of @ids (sorted set) that are not in @known (sorted set), as a canonical
 * list; NULL when every one is known. Pure. */
char *numa_list_missing(const GArray *ids, const GArray *known);

/* The node ids of @nodes (HostNumaNode) as a sorted set. Pure. */
GArray *numa_node_ids(const GArray *nodes);

/* Check that every node of @nodeset exists in @nodes and return the canonical nodeset in
 * @ret_nodeset. Errors: VIR_ERR_INVALID_ARG for a malformed nodeset and for nodes the host
 * does not have ("NUMA node 5 does not exist on this host (it has 0)"). Pure. */
gboolean numa_check_nodeset(const GArray *nodes, const char *nodeset, char **ret_nodeset,
                            GError **error);

/* The nodes for @need_kib of memory: the single node with the most free memory when it
 * holds @need_kib, else the fewest nodes taken by decreasing free memory that together
 * do; every node with memory when even all of them do not (the kernel may still reclaim).
 * Ties go to the lower id. Returns the canonical nodeset. Pure. */
char *numa_pick_nodes(const GArray *nodes, guint64 need_kib);

/* The CPUs of the nodes of @nodeset (a valid nodeset) as a canonical list, "" when they
 * have none. Pure. */
char *numa_nodeset_cpus(const GArray *nodes, const char *nodeset);
