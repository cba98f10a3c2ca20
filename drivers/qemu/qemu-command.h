/* The QEMU command line: a pure function of (domain definition, QEMU capabilities,
 * run-time context). Tested by golden files tests/data/xml2argv/NAME.xml -> NAME.args. */
#pragma once

#include <glib.h>

#include "drivers/qemu/qemu-capabilities.h"
#include "xml/domain-conf.h"

/* What the driver decides at start time, outside the definition. */
typedef struct {
    const char *monitor_path; /* unix socket where QEMU serves QMP (server=on,wait=off) */
    const char *domain_dir;   /* per-domain run-time directory (chardev sockets, ...) */
    int vnc_port;             /* the port for an autoport VNC display, or -1 */
    gboolean kvm_usable;      /* /dev/kvm can be used */
    int spice_port;           /* the port for an autoport SPICE display; 0: none allocated */
} QemuCommandContext;

/* The argv to exec (argv[0] is the emulator), NULL-terminated; free with g_strfreev.
 * QEMU starts paused (-S) with -no-user-config -nodefaults -no-shutdown, a QMP monitor on
 * ctx->monitor_path, and modern -blockdev/-device/-netdev/-chardev/-object syntax.
 * Errors (VIR_FROM_QEMU): CONFIG_UNSUPPORTED naming what this QEMU or virtd cannot do, e.g.
 * type='kvm' without /dev/kvm ("... use domain type 'qemu'"). */
GStrv qemu_command_build(const DomainDef *def, const QemuCaps *caps,
                         const QemuCommandContext *ctx, GError **error);

/* The format node QEMU knows disk @index of @def by: the command line names the nodes of
 * the disks that have a source "libvirt-N-format", N counting from 1 in disk order. */
char *qemu_command_disk_node(const DomainDef *def, guint index);

/* @argv as one shell-quoted line per option, as the golden files and the domain log show
 * it (e.g. "-machine pc-i440fx-7.2,..."). */
char *qemu_command_format(const char *const *argv);
