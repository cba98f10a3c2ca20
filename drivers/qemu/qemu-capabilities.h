/* What the installed QEMU can do: probed once per binary over QMP, cached on disk keyed
 * by the binary's identity (path, size, mtime, ctime, inode), and turned into the
 * capabilities and domain capabilities XML that clients read. */
#pragma once

#include <glib.h>

#include <json-c/json.h>

#include "drivers/host/nodeinfo.h"

typedef struct _QemuCaps QemuCaps; /* immutable once probed; share with ref/unref */

/* Probe @binary (e.g. "/usr/bin/qemu-system-x86_64") or load it from @cache_dir when the
 * cached entry matches the binary's identity. Probing runs QEMU with -machine none and a
 * QMP monitor: query-version, query-machines, query-cpu-definitions, query-kvm, and device
 * types. Errors: VIR_FROM_QEMU / VIR_ERR_INTERNAL_ERROR is NOT used for a broken binary:
 * VIR_ERR_OPERATION_FAILED with QEMU's own words. */
QemuCaps *qemu_caps_new_for_binary(const char *binary, const char *cache_dir, GError **error);
QemuCaps *qemu_caps_ref(QemuCaps *caps);
void qemu_caps_unref(QemuCaps *caps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuCaps, qemu_caps_unref)

/* QEMU version as libvirt encodes it: major * 1000000 + minor * 1000 + micro. */
guint64 qemu_caps_get_version(const QemuCaps *caps);
const char *qemu_caps_get_binary(const QemuCaps *caps);
const char *qemu_caps_get_arch(const QemuCaps *caps); /* "x86_64" */

/* Resolve a machine type alias ("pc", "q35") to the versioned name QEMU reports; an
 * already versioned name is returned as is; NULL when QEMU does not know @machine. */
const char *qemu_caps_resolve_machine(const QemuCaps *caps, const char *machine);
/* The default machine type ("pc-i440fx-X.Y" on x86_64). */
const char *qemu_caps_default_machine(const QemuCaps *caps);
/* Max vCPUs of @machine (NULL = default machine). */
int qemu_caps_max_cpus(const QemuCaps *caps, const char *machine);
gboolean qemu_caps_has_kvm(const QemuCaps *caps); /* /dev/kvm usable */
/* Whether QEMU knows device type @name (e.g. "virtio-blk-pci"). */
gboolean qemu_caps_has_device(const QemuCaps *caps, const char *name);

/* virConnectGetCapabilities XML: host (uuid, cpu arch/model/topology, NUMA topology from
 * @roots, security model none) and one guest per arch with os_type hvm, the emulator,
 * the machines (with canonical aliases), and domain types qemu (+ kvm when usable). */
char *qemu_caps_format_capabilities(const QemuCaps *caps, const HostRoots *roots,
                                    const char *host_uuid);

/* virConnectGetDomainCapabilities XML for (emulator, arch, machine, virttype), each may
 * be NULL for the default. VIR_ERR_INVALID_ARG for an unknown arch/machine, and
 * VIR_ERR_CONFIG_UNSUPPORTED for virttype 'kvm' without /dev/kvm. */
char *qemu_caps_format_domain_capabilities(const QemuCaps *caps, const char *emulator,
                                           const char *arch, const char *machine,
                                           const char *virttype, GError **error);

/* Facts about the host that decide what QEMU can do here (not cached with the probe). */
typedef struct {
    gboolean kvm_usable; /* /dev/kvm can be opened read-write */
    gboolean has_swtpm;  /* swtpm is installed (TPM emulator backend) */
} QemuHostFacts;

/* The host facts of this machine. */
void qemu_caps_host_facts(QemuHostFacts *ret_facts);

/* Build capabilities from parsed QMP replies, without any process: @replies is an object
 * mapping each probe command ("query-version", "query-target", "query-machines",
 * "query-cpu-definitions", "query-kvm", "qom-list-types", and optionally
 * "query-cpu-definitions-kvm" from a probe under KVM) to its "return" value (borrowed). Errors: VIR_FROM_QEMU / VIR_ERR_OPERATION_FAILED when a reply is
 * missing or malformed. */
QemuCaps *qemu_caps_new_from_replies(const char *binary, json_object *replies,
                                     const QemuHostFacts *facts, GError **error);

/* Like qemu_caps_format_capabilities() with one guest per element of @caps (e.g. the i686
 * and x86_64 emulators), in the order given. */
char *qemu_caps_format_capabilities_list(QemuCaps *const *caps, guint n_caps,
                                         const HostRoots *roots, const char *host_uuid);

/* The cache file of @binary in @cache_dir: <cache_dir>/<sha256 of the path>.json. */
char *qemu_caps_cache_path(const char *cache_dir, const char *binary);
