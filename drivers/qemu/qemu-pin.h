/* CPU pinning and NUMA memory tuning of QEMU domains: vcpupin, emulatorpin, iothreadpin
 * (live: the cpuset.cpus of vcpuN/, emulator/, iothreadN/ and the threads' affinity;
 * config: <cputune>), numatune (live: cpuset.mems of the VM's group and its sub-groups;
 * config: <numatune><memory>), and placement='auto' (host nodes picked by free memory
 * when the domain starts).
 *
 * The pure parts come first: cpumap checks, <cputune> pin lists, numatune parameters and
 * the automatic node choice. They are tested in tests/unit/qemu/test-qemu-pin.c.
 */
#pragma once

#include "drivers/driver.h"
#include "drivers/host/numa.h"
#include "drivers/qemu/qemu-driver-priv.h"
#include "xml/ptr-vec.h"

/* ---- pins (pure) ---- */

/* The CPUs of @cpumap (@maplen bytes, one bit per CPU) as a canonical list ("0-1,3"),
 * checked against the host's CPUs @host_cpus (a sorted set of guint, as numa_list_parse
 * gives). @what names the thing pinned ("vCPU 0 of domain 'web1'"). Errors:
 * VIR_ERR_INVALID_ARG "cannot pin X to an empty CPU list" and "cannot pin X to CPU 99:
 * this host has CPUs 0-1". */
char *qemu_pin_cpumap_check(const guint8 *cpumap, int maplen, const GArray *host_cpus,
                            const char *what, GError **error);

/* The cpuset of entry @id of a <vcpupin>/<iothreadpin> list (DomainPin *), or NULL. */
const char *qemu_pin_find(const PtrVec *pins, unsigned int id);

/* Set entry @id of a pin list to @cpuset, keeping the list ordered by id. */
void qemu_pin_set(PtrVec *pins, unsigned int id, const char *cpuset);

/* ---- numatune (pure) ---- */

/* A set call's parameters: numa_mode (int, VIR_DOMAIN_NUMATUNE_MEM_*, -1 when absent) and
 * numa_nodeset (string, canonical, NULL when absent). Errors: those of
 * domain_params_validate, VIR_ERR_INVALID_ARG for a mode out of range or a malformed
 * nodeset. */
gboolean qemu_numa_params_parse(GArray *params, int *ret_mode, char **ret_nodeset,
                                GError **error);

/* Apply a parsed change to <numatune><memory> of @def, the definition of domain @name.
 * With @live (a running domain's live definition) the mode cannot change and the nodeset
 * can only change in mode strict or restrictive: VIR_ERR_OPERATION_INVALID naming why.
 * A new nodeset makes the placement static. */
gboolean qemu_numa_def_update(DomainDef *def, const char *name, int mode, const char *nodeset,
                              gboolean live, GError **error);

/* The numatune parameters of @def: numa_mode (strict when unset) and numa_nodeset ("" when
 * none). */
GArray *qemu_numa_params_from_def(const DomainDef *def);

/* Whether @def asks for automatic placement: <numatune><memory placement='auto'>, or
 * <vcpu placement='auto'> without a numatune nodeset (libvirt's rule). */
gboolean qemu_numa_wants_auto(const DomainDef *def);

/* placement='auto': the host nodes (of @host_nodes, from numa_nodes_load) for @def's
 * memory, chosen by free memory (numa_pick_nodes), as a canonical nodeset; NULL when @def
 * does not ask for automatic placement. Pure. */
char *qemu_numa_auto_nodeset(const GArray *host_nodes, const DomainDef *def);

/* ---- starting a domain ---- */

/* Before QEMU starts with live definition @live: check that every nodeset of <numatune>
 * names host nodes (VIR_ERR_INVALID_ARG naming the missing ones) and resolve
 * placement='auto': the chosen nodes become @live's numatune nodeset (placement stays
 * 'auto', so the live XML and numatune show the choice) and, for <vcpu placement='auto'>,
 * their CPUs become @live's <vcpu cpuset>. qemu_cgroup_place() and qemu_cgroup_split()
 * then apply both as they apply static ones. */
gboolean qemu_numa_prepare(QemuDriver *drv, DomainDef *live, GError **error);

/* After qemu_cgroup_split() of @dom (QEMU @pid, live definition @live): each IOThread
 * that @live pins (<iothreadpin>) goes into its own iothreadN/ group with that pin.
 * Errors name the IOThread. */
gboolean qemu_pin_start_iothreads(QemuDomain *dom, const DomainDef *live, pid_t pid,
                                  GError **error);

/* The vtable entries: domain_pin_vcpu, domain_pin_emulator, domain_pin_iothread,
 * domain_set_numa_parameters, domain_get_numa_parameters. */
void qemu_pin_fill_vtable(VirtDriver *vtable);
