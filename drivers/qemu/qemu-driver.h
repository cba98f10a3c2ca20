/* The QEMU driver: domain definitions now, QEMU processes in the next step.
 *
 * Implements drivers/driver.h. Every path is given by the caller so that a whole daemon
 * can run under a temporary root. */
#pragma once

#include "drivers/driver.h"
#include "drivers/host/nodeinfo.h"

typedef struct {
    char *config_dir;  /* persistent XML: <config_dir>/NAME.xml, autostart/ links */
    char *state_dir;   /* live status files (run/libvirt/qemu) */
    char *log_dir;     /* per-domain logs */
    char *cache_dir;   /* capabilities cache */
    char *emulator;    /* default QEMU binary, e.g. /usr/bin/qemu-system-x86_64 */
    HostRoots host;    /* procfs/sysfs roots ("/" on a real host) */
    char *cgroup_root;      /* where cgroup mount points are found (NULL: "/") */
    char *cgroup_mountinfo; /* the mounts to read (NULL: /proc/self/mountinfo) */
    struct _QemuCaps *caps; /* capabilities to use instead of probing @emulator (tests);
                             * NULL: probe on first need. The driver takes a reference. */
    gboolean privileged;
} QemuDriverConfig;

void qemu_driver_config_clear(QemuDriverConfig *cfg);

/* Create the driver: makes the directories, loads every definition in config_dir (a file
 * that does not parse is logged and skipped, never deleted) and probes QEMU (lazily on
 * first need is fine). The config is copied. */
VirtDriver *qemu_driver_new(const QemuDriverConfig *cfg, GError **error);

/* Start the domains marked autostart, in the background (the daemon answers meanwhile). */
void qemu_driver_start_autostart(VirtDriver *drv);

/* Stop watching (running QEMUs keep running, a new driver re-attaches) and free. */
void qemu_driver_free(VirtDriver *drv);
