/* The full domain definition behind the opaque DomainDef of domain-conf.h.
 *
 * Only xml/ and code that needs the details (the QEMU command line builder, tests)
 * include this. Every string is owned; numbers that libvirt keeps as opaque tunables
 * (cputune, iotune, ...) are kept as validated decimal strings, NULL when unset.
 */
#pragma once

#include <libxml/tree.h>

#include "xml/domain-conf.h"
#include "xml/ptr-vec.h"
#include "xml/xml-util.h"

typedef enum {
    DOMAIN_VIRT_QEMU,
    DOMAIN_VIRT_KVM,
    DOMAIN_VIRT_LAST
} DomainVirtType;

typedef enum {
    DOMAIN_LIFECYCLE_DESTROY,
    DOMAIN_LIFECYCLE_RESTART,
    DOMAIN_LIFECYCLE_RENAME_RESTART,
    DOMAIN_LIFECYCLE_PRESERVE,
    DOMAIN_LIFECYCLE_COREDUMP_DESTROY,
    DOMAIN_LIFECYCLE_COREDUMP_RESTART,
    DOMAIN_LIFECYCLE_LAST
} DomainLifecycleAction;

typedef enum {
    DOMAIN_DISK_TYPE_FILE,
    DOMAIN_DISK_TYPE_BLOCK,
    DOMAIN_DISK_TYPE_LAST
} DomainDiskType;

typedef enum {
    DOMAIN_DISK_DEVICE_DISK,
    DOMAIN_DISK_DEVICE_CDROM,
    DOMAIN_DISK_DEVICE_FLOPPY,
    DOMAIN_DISK_DEVICE_LUN,
    DOMAIN_DISK_DEVICE_LAST
} DomainDiskDevice;

typedef enum {
    DOMAIN_DISK_BUS_IDE,
    DOMAIN_DISK_BUS_FDC,
    DOMAIN_DISK_BUS_SCSI,
    DOMAIN_DISK_BUS_VIRTIO,
    DOMAIN_DISK_BUS_USB,
    DOMAIN_DISK_BUS_SATA,
    DOMAIN_DISK_BUS_LAST
} DomainDiskBus;

/* <iotune> children in libvirt's output order. */
typedef enum {
    DOMAIN_IOTUNE_TOTAL_BYTES_SEC,
    DOMAIN_IOTUNE_READ_BYTES_SEC,
    DOMAIN_IOTUNE_WRITE_BYTES_SEC,
    DOMAIN_IOTUNE_TOTAL_IOPS_SEC,
    DOMAIN_IOTUNE_READ_IOPS_SEC,
    DOMAIN_IOTUNE_WRITE_IOPS_SEC,
    DOMAIN_IOTUNE_TOTAL_BYTES_SEC_MAX,
    DOMAIN_IOTUNE_READ_BYTES_SEC_MAX,
    DOMAIN_IOTUNE_WRITE_BYTES_SEC_MAX,
    DOMAIN_IOTUNE_TOTAL_IOPS_SEC_MAX,
    DOMAIN_IOTUNE_READ_IOPS_SEC_MAX,
    DOMAIN_IOTUNE_WRITE_IOPS_SEC_MAX,
    DOMAIN_IOTUNE_SIZE_IOPS_SEC,
    DOMAIN_IOTUNE_GROUP_NAME,
    DOMAIN_IOTUNE_TOTAL_BYTES_SEC_MAX_LENGTH,
    DOMAIN_IOTUNE_READ_BYTES_SEC_MAX_LENGTH,
    DOMAIN_IOTUNE_WRITE_BYTES_SEC_MAX_LENGTH,
    DOMAIN_IOTUNE_TOTAL_IOPS_SEC_MAX_LENGTH,
    DOMAIN_IOTUNE_READ_IOPS_SEC_MAX_LENGTH,
    DOMAIN_IOTUNE_WRITE_IOPS_SEC_MAX_LENGTH,
    DOMAIN_IOTUNE_LAST
} DomainIotuneField;

/* <cputune> scalar children in libvirt's output order. */
typedef enum {
    DOMAIN_CPUTUNE_SHARES,
    DOMAIN_CPUTUNE_PERIOD,
    DOMAIN_CPUTUNE_QUOTA,
    DOMAIN_CPUTUNE_GLOBAL_PERIOD,
    DOMAIN_CPUTUNE_GLOBAL_QUOTA,
    DOMAIN_CPUTUNE_EMULATOR_PERIOD,
    DOMAIN_CPUTUNE_EMULATOR_QUOTA,
    DOMAIN_CPUTUNE_IOTHREAD_PERIOD,
    DOMAIN_CPUTUNE_IOTHREAD_QUOTA,
    DOMAIN_CPUTUNE_LAST
} DomainCputuneField;

/* <memtune> children (KiB) in libvirt's output order. */
typedef enum {
    DOMAIN_MEMTUNE_HARD_LIMIT,
    DOMAIN_MEMTUNE_SOFT_LIMIT,
    DOMAIN_MEMTUNE_MIN_GUARANTEE,
    DOMAIN_MEMTUNE_SWAP_HARD_LIMIT,
    DOMAIN_MEMTUNE_LAST
} DomainMemtuneField;

/* <blkiotune><device> children after <path>, in libvirt's output order. */
typedef enum {
    DOMAIN_BLKIO_DEV_WEIGHT,
    DOMAIN_BLKIO_DEV_READ_IOPS_SEC,
    DOMAIN_BLKIO_DEV_WRITE_IOPS_SEC,
    DOMAIN_BLKIO_DEV_READ_BYTES_SEC,
    DOMAIN_BLKIO_DEV_WRITE_BYTES_SEC,
    DOMAIN_BLKIO_DEV_LAST
} DomainBlkioDevField;

/* Simple <features> children, in libvirt's output order. Those with a 'state' attribute
 * keep it; hyperv and kvm keep their whole element (see DomainDef.feature_trees). */
typedef enum {
    DOMAIN_FEATURE_ACPI,
    DOMAIN_FEATURE_APIC,
    DOMAIN_FEATURE_PAE,
    DOMAIN_FEATURE_HAP,
    DOMAIN_FEATURE_VIRIDIAN,
    DOMAIN_FEATURE_PRIVNET,
    DOMAIN_FEATURE_HYPERV,
    DOMAIN_FEATURE_KVM,
    DOMAIN_FEATURE_PVSPINLOCK,
    DOMAIN_FEATURE_PMU,
    DOMAIN_FEATURE_VMPORT,
    DOMAIN_FEATURE_SMM,
    DOMAIN_FEATURE_IOAPIC,
    DOMAIN_FEATURE_VMCOREINFO,
    DOMAIN_FEATURE_LAST
} DomainFeature;

typedef enum {
    DOMAIN_CPU_MODE_CUSTOM,
    DOMAIN_CPU_MODE_HOST_MODEL,
    DOMAIN_CPU_MODE_HOST_PASSTHROUGH,
    DOMAIN_CPU_MODE_MAXIMUM,
    DOMAIN_CPU_MODE_LAST
} DomainCpuMode;

typedef struct {
    char *name;
    char *policy;
} DomainCpuFeature;

typedef struct {
    char *id;
    char *cpus;
    guint64 memory_kib;
    char *mem_access;
    char *discard;
} DomainNumaCell;

typedef struct {
    gboolean present;      /* a <cpu> element exists */
    DomainCpuMode mode;
    char *match;
    char *check;
    char *migratable;
    char *model;
    char *model_fallback;
    char *vendor;
    unsigned int sockets, dies, cores, threads; /* 0: no <topology> */
    PtrVec features;       /* DomainCpuFeature * */
    PtrVec cells;          /* DomainNumaCell * */
} DomainCpuDef;

typedef struct {
    char *name;
    char *present;
    char *tickpolicy;
    char *track;
    char *frequency;
    char *mode;
} DomainTimer;

typedef struct {
    char *path;
    char *fields[DOMAIN_BLKIO_DEV_LAST];
} DomainBlkioDevice;

typedef struct {
    char *vcpu;    /* vcpupin: vcpu, iothreadpin: iothread */
    char *cpuset;
} DomainPin;

typedef struct {
    char *cellid;
    char *mode;
    char *nodeset;
} DomainMemnode;

/* A device address: PCI and drive addresses are normalised, others kept verbatim. */
typedef struct {
    XmlTree *tree;         /* NULL: no address */
} DomainAddress;

typedef struct {
    DomainDiskType type;
    DomainDiskDevice device;
    char *driver_name;
    char *driver_type;
    char *driver_cache;
    char *driver_io;
    char *driver_discard;
    char *driver_detect_zeroes;
    char *source;          /* file or dev, NULL when empty (cdrom) */
    char *source_startup_policy;
    char *target_dev;
    DomainDiskBus bus;
    char *target_tray;
    char *iotune[DOMAIN_IOTUNE_LAST];
    unsigned int boot_order; /* 0: none */
    gboolean readonly;
    gboolean shareable;
    gboolean transient;
    char *serial;
    char *wwn;
    DomainAddress address;
} DomainDiskDef;

typedef struct {
    char *type;
    int index;
    char *model;
    char *ports;
    char *vectors;
    char *master_startport;
    PtrVec extra;          /* other children (model name, driver, target), verbatim */
    DomainAddress address;
} DomainControllerDef;

typedef struct {
    char *type;            /* user, network, bridge, direct, ethernet */
    unsigned char mac[6];
    char *source_network;
    char *source_bridge;
    char *source_dev;
    char *source_mode;
    char *source_portgroup;
    XmlTree *virtualport;
    char *target_dev;
    char *model;
    XmlTree *driver;
    char *link_state;
    char *mtu;
    XmlTree *filterref;
    unsigned int boot_order;
    DomainAddress address;
} DomainNetDef;

typedef enum {
    DOMAIN_CHR_SERIAL,
    DOMAIN_CHR_CONSOLE,
    DOMAIN_CHR_CHANNEL,
    DOMAIN_CHR_LAST
} DomainChrKind;

typedef struct {
    DomainChrKind kind;
    char *type;            /* pty, unix, file, spicevmc, spiceport, tcp, udp, null, ... */
    char *source_path;
    char *source_mode;
    char *source_host;
    char *source_service;
    char *source_channel;  /* spiceport */
    char *source_append;
    char *protocol;
    char *target_type;
    int target_port;       /* -1: none */
    char *target_name;
    char *target_model;    /* serial <model name=> */
    DomainAddress address;
} DomainChrDef;

typedef struct {
    char *type;            /* address, network, socket, none */
    char *address;
    char *network;
    char *socket;
} DomainGraphicsListen;

typedef struct {
    char *type;            /* vnc, spice, sdl, ... */
    int port;              /* 0: unset; -1 never stored (autoport) */
    int tls_port;
    gboolean autoport;
    gboolean autoport_set; /* autoport given explicitly (spice) */
    char *websocket;
    char *keymap;
    char *share_policy;
    char *default_mode;
    char *passwd;
    char *passwd_valid_to;
    char *connected;
    PtrVec listens;        /* DomainGraphicsListen * */
    PtrVec extra;          /* other children (image, streaming, gl, ...), verbatim */
} DomainGraphicsDef;

typedef struct {
    char *model;
    char *ram, *vram, *vram64, *vgamem, *heads;
    gboolean primary;
    XmlTree *acceleration;
    XmlTree *driver;
    DomainAddress address;
} DomainVideoDef;

typedef struct {
    char *type;
    char *bus;
    PtrVec extra;          /* source, driver, ... verbatim */
    DomainAddress address;
} DomainInputDef;

typedef struct {
    char *model;
    PtrVec extra;          /* codec, audio, ... verbatim */
    DomainAddress address;
} DomainSoundDef;

typedef struct {
    char *model;
    char *autodeflate;
    char *free_page_reporting;
    char *stats_period;
    DomainAddress address;
} DomainMemballoonDef;

typedef struct {
    char *model;
    char *rate_bytes;
    char *rate_period;
    char *backend_model;   /* random, egd, builtin */
    char *backend_path;    /* random */
    XmlTree *backend;      /* egd: the whole element */
    DomainAddress address;
} DomainRngDef;

typedef struct {
    char *model;
    char *action;
    DomainAddress address;
} DomainWatchdogDef;

typedef struct {
    char *emulator;
    PtrVec disks;           /* DomainDiskDef * */
    PtrVec controllers;     /* DomainControllerDef * */
    PtrVec filesystems;     /* XmlTree * */
    PtrVec nets;            /* DomainNetDef * */
    PtrVec smartcards;      /* XmlTree * */
    PtrVec serials;         /* DomainChrDef * */
    PtrVec parallels;       /* DomainChrDef * */
    PtrVec consoles;        /* DomainChrDef * */
    PtrVec channels;        /* DomainChrDef * */
    PtrVec inputs;          /* DomainInputDef * */
    PtrVec tpms;            /* XmlTree * */
    PtrVec graphics;        /* DomainGraphicsDef * */
    PtrVec sounds;          /* DomainSoundDef * */
    PtrVec audios;          /* XmlTree * */
    PtrVec videos;          /* DomainVideoDef * */
    PtrVec hostdevs;        /* XmlTree * */
    PtrVec redirdevs;       /* XmlTree * */
    PtrVec watchdogs;       /* DomainWatchdogDef * */
    DomainMemballoonDef *memballoon;
    PtrVec rngs;            /* DomainRngDef * */
    PtrVec panics;          /* XmlTree * */
} DomainDevices;

struct _DomainDef {
    DomainVirtType virt_type;
    char *name;
    unsigned char uuid[16];
    char *title;
    char *description;
    xmlDoc *metadata;       /* root <metadata>, children kept verbatim; NULL when none */

    guint64 max_memory_kib; /* <maxMemory>, 0: none */
    char *max_memory_slots;
    guint64 memory_kib;     /* <memory> */
    guint64 current_memory_kib;

    XmlTree *memory_backing;             /* <memoryBacking> verbatim, or NULL */
    char *iothreads;

    char *blkio_weight;
    PtrVec blkio_devices;                /* DomainBlkioDevice * */
    char *memtune[DOMAIN_MEMTUNE_LAST];  /* KiB */

    unsigned int vcpus_max;
    unsigned int vcpus_current;
    char *vcpu_placement;
    char *vcpu_cpuset;
    XmlTree *vcpus_elem;                 /* <vcpus> element kept verbatim, or NULL */

    char *cputune[DOMAIN_CPUTUNE_LAST];
    PtrVec vcpupins;                     /* DomainPin * */
    char *emulatorpin;
    PtrVec iothreadpins;                 /* DomainPin * */
    gboolean has_cputune_elem;

    char *numa_memory_mode;
    char *numa_memory_nodeset;
    char *numa_memory_placement;
    PtrVec numa_memnodes;                /* DomainMemnode * */
    gboolean has_numatune;

    char *resource_partition;

    char *os_type;
    char *os_arch;
    char *os_machine;
    char *os_firmware;
    char *loader;
    char *loader_readonly;
    char *loader_type;
    char *loader_secure;
    char *nvram;
    char *nvram_template;
    char *kernel;
    char *initrd;
    char *cmdline;
    char *dtb;
    PtrVec boot_devs;                    /* char * */
    char *bootmenu_enable;
    char *bootmenu_timeout;
    PtrVec os_extra;                     /* smbios, bios, ... verbatim */

    gboolean has_features;
    char *features[DOMAIN_FEATURE_LAST]; /* "" for a flag feature, the state otherwise */
    XmlTree *feature_trees[DOMAIN_FEATURE_LAST]; /* hyperv, kvm, ioapic: verbatim */

    DomainCpuDef cpu;

    char *clock_offset;
    char *clock_timezone;
    char *clock_adjustment;
    char *clock_basis;
    PtrVec timers;                       /* DomainTimer * */

    DomainLifecycleAction on_poweroff;
    DomainLifecycleAction on_reboot;
    DomainLifecycleAction on_crash;

    char *pm_suspend_to_mem;
    char *pm_suspend_to_disk;

    DomainDevices devices;
};

/* String tables of the enums above. */
const char *domain_virt_type_to_string(DomainVirtType type);
int domain_virt_type_from_string(const char *str);
const char *domain_lifecycle_to_string(DomainLifecycleAction action);
int domain_lifecycle_from_string(const char *str);
const char *domain_disk_bus_to_string(DomainDiskBus bus);
int domain_disk_bus_from_string(const char *str);

/* The index of a disk target name ("vda" -> 0, "sdaa" -> 26), -1 when invalid. */
int domain_disk_target_index(const char *dev);

/* Validate @doc against xml/schemas/domain.rng (in @schema_dir, or the built-in
 * VIRTD_SCHEMA_DIR when NULL). VIR_ERR_XML_DETAIL naming the element, attribute and line. */
gboolean domain_schema_validate(xmlDoc *doc, const char *schema_dir, GError **error);
