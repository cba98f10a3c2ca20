/* systemd-machined: running VMs registered over the system D-Bus, as libvirt registers them,
 * so that machinectl lists them and systemd holds each in a scope of its slice
 * (/machine.slice/machine-qemu\x2d1\x2dweb.scope). Hosts without a system bus or without
 * machined are fine: the probe says so once and the caller goes on without it.
 *
 * Every call opens its own private connection (nothing shared between threads), and every
 * round trip, the bus's Hello included, has a bounded timeout. libdbus-1 is loaded at run
 * time, by the first probe that finds something listening on the bus's socket.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#define MACHINED_TIMEOUT_MS 5000

typedef struct _Machined Machined;

/* What CreateMachineWithNetwork tells machined about a VM. */
typedef struct {
    const char *name;           /* "qemu-ID-NAME" (machined_machine_name) */
    const unsigned char *uuid;  /* 16 bytes */
    pid_t leader;               /* QEMU */
    const char *partition;      /* resource partition, "/machine" when NULL: the Slice */
    const int *ifindices;       /* host side network interfaces, may be NULL */
    guint n_ifindices;
} MachinedVm;

/* Whether systemd-machined answers on the bus at @address (NULL: the system bus,
 * $DBUS_SYSTEM_BUS_ADDRESS or /run/dbus/system_bus_socket): its name has an owner or can be
 * activated. Returns a handle when it does. Otherwise NULL, after one log message that says
 * why ("no system D-Bus: ..." or "systemd-machined is not running: ..."); never an error. */
Machined *machined_probe(const char *address);
void machined_free(Machined *machined);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Machined, machined_free)

/* Timeout of each D-Bus round trip (default MACHINED_TIMEOUT_MS); tests shorten it. */
void machined_set_timeout(Machined *machined, int timeout_ms);

/* The libdbus that the first probe finding a bus dlopen()s ("libdbus-1.so.3"): libdbus-1 is
 * not linked, so hosts without a system bus never load it. When it cannot be loaded the probe
 * logs "cannot load SONAME: DLERROR; domains are not registered with systemd-machined" and
 * returns NULL, as without a bus. Tests set another name, before any probe. */
void machined_set_library(const char *soname);

/* Register @vm: CreateMachineWithNetwork (CreateMachine on a machined that lacks it) with
 * service "libvirt-qemu", class "vm", root directory "" and the scope properties Slice,
 * After=libvirtd.service,virtqemud.service and Before=virt-guest-shutdown.target. machined
 * then moves @vm->leader into the new scope. Errors: VIR_FROM_SYSTEMD; VIR_ERR_DBUS_SERVICE
 * "systemd-machined call METHOD failed: D-Bus message" (also for no bus and timeouts),
 * VIR_ERR_CONFIG_UNSUPPORTED for a partition that makes no slice name. */
gboolean machined_create(Machined *machined, const MachinedVm *vm, GError **error);

/* TerminateMachine @name. A machine machined no longer knows (it went away with its last
 * process) is fine. Errors: as machined_create. */
gboolean machined_terminate(Machined *machined, const char *name, GError **error);

/* ---- names (pure) ---- */

/* The machine name libvirt gives a VM: "qemu-ID-NAME", NAME cleaned as in
 * cgroup_machine_name(). */
char *machined_machine_name(int id, const char *name);

/* The scope machined makes for machine @name: "machine-" + systemd's unit name escaping of
 * @name + ".scope" ("qemu-1-web" -> "machine-qemu\x2d1\x2dweb.scope"). */
char *machined_scope_unit(const char *name);

/* The slice of resource partition @partition (NULL or "": "/machine"), as libvirt names it:
 * the escaped components joined by '-' ("/machine" -> "machine.slice", "/machine/prod" ->
 * "machine-prod.slice"). Errors: VIR_ERR_CONFIG_UNSUPPORTED when @partition is not absolute
 * or has an empty component. */
char *machined_slice_name(const char *partition, GError **error);

/* The cgroup path of scope unit @unit in @proc_cgroup (the text of /proc/PID/cgroup, v1 or
 * v2 lines): the first line's path that has @unit as a component, cut after it
 * ("/machine.slice/machine-qemu\x2d1\x2dweb.scope"). NULL when the process is not in it. */
char *machined_scope_path(const char *proc_cgroup, const char *unit);
