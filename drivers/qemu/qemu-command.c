/* The QEMU command line: a pure function of (domain definition, QEMU capabilities,
 * run-time context). No file is opened and no process is run here.
 *
 * The builder walks the definition in a fixed order (machine, CPU, memory, boot,
 * controllers, disks, NICs, character devices, inputs, graphics, video, sound, watchdog,
 * balloon, rng) with one small function per device kind. Each -device gets the id libvirt
 * would give it (virtio-disk0, net0, serial0, ...), so QMP commands and statistics can
 * name devices the way clients expect. PCI slots are left to QEMU.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/util/virt-error.h"
#include "drivers/host/numa.h"
#include "drivers/qemu/qemu-command.h"
#include "drivers/qemu/qemu-hotplug.h"
#include "xml/domain-conf-priv.h"

typedef struct {
    const DomainDef *def;
    const QemuCaps *caps;
    const QemuCommandContext *ctx;
    GPtrArray *argv;       /* char *, owned */
    const char *machine;   /* the resolved machine type (borrowed from caps) */
    gboolean q35;
    gboolean kvm;          /* -accel kvm */
    unsigned int *disk_boot; /* bootindex per disk, 0: none */
    unsigned int *net_boot;  /* bootindex per NIC, 0: none */
    char *audiodev;        /* id of the -audiodev sound devices use, or NULL */
} QemuCommandBuilder;

static void
builder_clear(QemuCommandBuilder *b)
{
    if (b->argv)
        g_ptr_array_free(b->argv, TRUE);
    g_free(b->disk_boot);
    g_free(b->net_boot);
    g_free(b->audiodev);
}

static gboolean G_GNUC_PRINTF(3, 4)
fail(GError **error, int code, const char *fmt, ...)
{
    va_list args;
    g_autofree char *msg = NULL;

    va_start(args, fmt);
    msg = g_strdup_vprintf(fmt, args);
    va_end(args);
    virt_error_set(error, VIR_FROM_QEMU, code, "%s", msg);
    return FALSE;
}

#define unsupported(error, ...) fail(error, VIR_ERR_CONFIG_UNSUPPORTED, __VA_ARGS__)

/* ---- argv helpers ------------------------------------------------------------------ */

/* Append option @opt and, when not NULL, its @value. */
static void
add(QemuCommandBuilder *b, const char *opt, const char *value)
{
    g_ptr_array_add(b->argv, g_strdup(opt));
    if (value)
        g_ptr_array_add(b->argv, g_strdup(value));
}

static void G_GNUC_PRINTF(3, 4)
addf(QemuCommandBuilder *b, const char *opt, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    g_ptr_array_add(b->argv, g_strdup(opt));
    g_ptr_array_add(b->argv, g_strdup_vprintf(fmt, args));
    va_end(args);
}

/* Append @value to @s with its commas doubled (QEMU's escaping inside option values). */
static void
append_escaped(GString *s, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == ',')
            g_string_append_c(s, ',');
        g_string_append_c(s, *p);
    }
}

/* Append ",key=value" (escaped); nothing when @value is NULL. */
static void
prop(GString *s, const char *key, const char *value)
{
    if (!value)
        return;
    g_string_append_printf(s, ",%s=", key);
    append_escaped(s, value);
}

static void G_GNUC_PRINTF(3, 4)
propf(GString *s, const char *key, const char *fmt, ...)
{
    va_list args;
    g_autofree char *value = NULL;

    va_start(args, fmt);
    value = g_strdup_vprintf(fmt, args);
    va_end(args);
    prop(s, key, value);
}

/* A new "-device" value "TYPE,id=ID"; NULL and an error when QEMU lacks @type. */
static GString *
device_new(QemuCommandBuilder *b, const char *type, const char *id, GError **error)
{
    GString *s;

    if (!qemu_caps_has_device(b->caps, type)) {
        unsupported(error, _("device type '%s' is not available in '%s'"), type,
                    qemu_caps_get_binary(b->caps));
        return NULL;
    }
    s = g_string_new(type);
    prop(s, "id", id);
    return s;
}

/* Append "-device @s" and free @s. */
static void
device_add(QemuCommandBuilder *b, GString *s)
{
    g_ptr_array_add(b->argv, g_strdup("-device"));
    g_ptr_array_add(b->argv, g_string_free(s, FALSE));
}

/* Shorthand for a device with nothing but an id. */
static gboolean
device_simple(QemuCommandBuilder *b, const char *type, const char *id, GError **error)
{
    GString *s = device_new(b, type, id, error);

    if (!s)
        return FALSE;
    device_add(b, s);
    return TRUE;
}

static void
prop_bootindex(GString *s, unsigned int bootindex)
{
    if (bootindex > 0)
        propf(s, "bootindex", "%u", bootindex);
}

static gboolean
feature_on(const DomainDef *def, DomainFeature feature)
{
    const char *state = def->features[feature];

    return state && strcmp(state, "off") != 0;
}

static const DomainTimer *
timer_find(const DomainDef *def, const char *name)
{
    for (guint i = 0; i < def->timers.len; i++) {
        const DomainTimer *timer = ptr_vec_index(&def->timers, i);

        if (g_strcmp0(timer->name, name) == 0)
            return timer;
    }
    return NULL;
}

static const DomainControllerDef *
controller_find(const DomainDef *def, const char *type, int index)
{
    for (guint i = 0; i < def->devices.controllers.len; i++) {
        const DomainControllerDef *ctrl = ptr_vec_index(&def->devices.controllers, i);

        if (strcmp(ctrl->type, type) == 0 && ctrl->index == index)
            return ctrl;
    }
    return NULL;
}

/* ---- machine, accelerator, CPU, memory --------------------------------------------- */

/* numatune modes QEMU enforces through the memory policy of its RAM (strict and
 * restrictive are enforced by the cgroup's cpuset.mems instead): QEMU's policy name. */
static const char *
numa_policy(const char *mode)
{
    if (g_strcmp0(mode, "interleave") == 0)
        return "interleave";
    if (g_strcmp0(mode, "preferred") == 0)
        return "preferred";
    return NULL;
}

/* The guest RAM of a domain without NUMA cells needs its own backend object to carry a
 * memory policy: does it? */
static gboolean
ram_needs_backend(const DomainDef *def)
{
    return def->cpu.cells.len == 0 && def->numa_memory_nodeset &&
           numa_policy(def->numa_memory_mode);
}

/* ",host-nodes=A-B,host-nodes=C,policy=P" for @nodeset and @mode; nothing when @mode has
 * no memory policy. */
static gboolean
prop_memory_policy(GString *s, const char *mode, const char *nodeset, GError **error)
{
    const char *policy = numa_policy(mode);
    if (!policy || !nodeset)
        return TRUE;
    g_autoptr(GArray) nodes = numa_list_parse(nodeset, "nodeset", error);
    if (!nodes)
        return FALSE;
    if (strcmp(policy, "preferred") == 0 && nodes->len != 1)
        return unsupported(error, _("numatune mode 'preferred' takes one host node, not '%s'"),
                           nodeset);
    g_autofree char *canonical = numa_list_format(nodes);
    g_auto(GStrv) ranges = g_strsplit(canonical, ",", -1);
    for (guint i = 0; ranges[i]; i++)
        prop(s, "host-nodes", ranges[i]);
    prop(s, "policy", policy);
    return TRUE;
}

static gboolean
qemu_command_add_machine(QemuCommandBuilder *b, GError **error)
{
    const DomainDef *def = b->def;
    const DomainTimer *hpet = timer_find(def, "hpet");
    g_autoptr(GString) s = NULL;

    if (g_strcmp0(def->os_type, "hvm") != 0)
        return unsupported(error, _("OS type '%s' is not supported: use 'hvm'"),
                           def->os_type);
    if (g_strcmp0(def->os_arch, qemu_caps_get_arch(b->caps)) != 0)
        return unsupported(error, _("emulator '%s' runs architecture '%s', not '%s'"),
                           qemu_caps_get_binary(b->caps), qemu_caps_get_arch(b->caps),
                           def->os_arch);
    b->machine = qemu_caps_resolve_machine(b->caps, def->os_machine);
    if (!b->machine)
        return unsupported(error, _("machine type '%s' is not supported by '%s'"),
                           def->os_machine, qemu_caps_get_binary(b->caps));
    b->q35 = g_str_has_prefix(b->machine, "pc-q35");

    s = g_string_new(b->machine);
    g_string_append(s, ",usb=off");
    if (def->features[DOMAIN_FEATURE_VMPORT])
        prop(s, "vmport", feature_on(def, DOMAIN_FEATURE_VMPORT) ? "on" : "off");
    if (def->features[DOMAIN_FEATURE_SMM])
        prop(s, "smm", feature_on(def, DOMAIN_FEATURE_SMM) ? "on" : "off");
    g_string_append(s, ",dump-guest-core=off");
    if (hpet && g_strcmp0(hpet->present, "no") == 0)
        g_string_append(s, ",hpet=off");
    prop(s, "acpi", feature_on(def, DOMAIN_FEATURE_ACPI) ? "on" : "off");
    if (ram_needs_backend(def))
        prop(s, "memory-backend", "pc.ram");
    add(b, "-machine", s->str);

    switch (def->virt_type) {
    case DOMAIN_VIRT_QEMU:
        add(b, "-accel", "tcg");
        break;
    case DOMAIN_VIRT_KVM:
        if (!b->ctx->kvm_usable)
            return unsupported(error, _("domain type 'kvm' needs /dev/kvm, which this host "
                                        "does not have: use domain type 'qemu'"));
        b->kvm = TRUE;
        add(b, "-accel", "kvm");
        break;
    default:
        return unsupported(error, _("domain type '%s' is not supported"),
                           domain_virt_type_to_string(def->virt_type));
    }
    return TRUE;
}

static void
cpu_add_features(GString *s, const DomainDef *def)
{
    for (guint i = 0; i < def->cpu.features.len; i++) {
        const DomainCpuFeature *f = ptr_vec_index(&def->cpu.features, i);
        gboolean off = g_strcmp0(f->policy, "disable") == 0 ||
                       g_strcmp0(f->policy, "forbid") == 0;

        prop(s, f->name, off ? "off" : "on");
    }
    if (def->features[DOMAIN_FEATURE_PMU])
        prop(s, "pmu", feature_on(def, DOMAIN_FEATURE_PMU) ? "on" : "off");
}

static gboolean
qemu_command_add_cpu(QemuCommandBuilder *b, GError **error)
{
    const DomainCpuDef *cpu = &b->def->cpu;
    g_autoptr(GString) s = NULL;

    switch (cpu->mode) {
    case DOMAIN_CPU_MODE_CUSTOM:
        s = g_string_new(cpu->model ? cpu->model : "qemu64");
        break;
    case DOMAIN_CPU_MODE_HOST_PASSTHROUGH:
        if (!b->kvm)
            return unsupported(error, _("CPU mode 'host-passthrough' needs domain type "
                                        "'kvm': use mode 'maximum' or 'host-model'"));
        s = g_string_new("host");
        if (g_strcmp0(cpu->migratable, "off") == 0)
            g_string_append(s, ",migratable=off");
        break;
    case DOMAIN_CPU_MODE_HOST_MODEL:
        /* under TCG the richest model QEMU can emulate stands in for the host's */
        s = g_string_new(b->kvm ? "host" : "max");
        break;
    case DOMAIN_CPU_MODE_MAXIMUM:
        s = g_string_new("max");
        if (g_strcmp0(cpu->migratable, "off") == 0)
            g_string_append(s, ",migratable=off");
        break;
    default:
        return unsupported(error, _("this CPU mode is not supported"));
    }
    cpu_add_features(s, b->def);
    add(b, "-cpu", s->str);
    return TRUE;
}

static gboolean
memory_backing_has(const DomainDef *def, const char *child)
{
    if (!def->memory_backing)
        return FALSE;
    for (guint i = 0; i < def->memory_backing->children.len; i++) {
        const XmlTree *t = ptr_vec_index(&def->memory_backing->children, i);

        if (strcmp(t->name, child) == 0)
            return TRUE;
    }
    return FALSE;
}

static gboolean
qemu_command_add_memory(QemuCommandBuilder *b, GError **error)
{
    const DomainDef *def = b->def;
    g_autoptr(GString) s = g_string_new(NULL);

    if (memory_backing_has(def, "hugepages"))
        return unsupported(error, _("hugepages memory backing is not supported yet"));
    if (ram_needs_backend(def)) {
        g_autoptr(GString) ram = g_string_new(NULL);
        g_string_printf(ram, "memory-backend-ram,id=pc.ram,size=%" G_GUINT64_FORMAT "k",
                        def->memory_kib);
        if (!prop_memory_policy(ram, def->numa_memory_mode, def->numa_memory_nodeset, error))
            return FALSE;
        add(b, "-object", ram->str);
    }
    g_string_printf(s, "size=%" G_GUINT64_FORMAT "k", def->memory_kib);
    if (def->max_memory_kib > 0) {
        prop(s, "slots", def->max_memory_slots ? def->max_memory_slots : "0");
        propf(s, "maxmem", "%" G_GUINT64_FORMAT "k", def->max_memory_kib);
    }
    add(b, "-m", s->str);
    add(b, "-overcommit",
        memory_backing_has(def, "locked") ? "mem-lock=on" : "mem-lock=off");
    return TRUE;
}

static gboolean
qemu_command_add_smp(QemuCommandBuilder *b, GError **error)
{
    const DomainDef *def = b->def;
    const DomainCpuDef *cpu = &def->cpu;
    unsigned int sockets = def->vcpus_max, dies = 1, cores = 1, threads = 1;
    int machine_max = qemu_caps_max_cpus(b->caps, b->machine);

    if (cpu->sockets > 0) {
        sockets = cpu->sockets;
        dies = cpu->dies ? cpu->dies : 1;
        cores = cpu->cores ? cpu->cores : 1;
        threads = cpu->threads ? cpu->threads : 1;
        if (sockets * dies * cores * threads != def->vcpus_max)
            return unsupported(error, _("CPU topology sockets=%u dies=%u cores=%u threads=%u "
                                        "gives %u vCPUs, not the %u of <vcpu>"),
                               sockets, dies, cores, threads,
                               sockets * dies * cores * threads, def->vcpus_max);
    }
    if (machine_max > 0 && def->vcpus_max > (unsigned int)machine_max)
        return unsupported(error, _("machine type '%s' supports at most %d vCPUs, not %u"),
                           b->machine, machine_max, def->vcpus_max);
    /* <vcpus> may enable hotpluggable vCPUs: the start plugs them after the boot ones. */
    unsigned int boot = 0;
    g_autoptr(GArray) plugged = qemu_hotplug_boot_vcpus(def, &boot, error);
    if (!plugged)
        return FALSE;
    addf(b, "-smp", "%u,sockets=%u,dies=%u,cores=%u,threads=%u,maxcpus=%u", boot, sockets,
         dies, cores, threads, def->vcpus_max);
    return TRUE;
}

/* <iothreads>N</iothreads>: QEMU's IOThread objects iothread1..N, which vcpupin's sibling
 * iothreadpin pins (their threads are named "IO iothreadN"). */
static gboolean
qemu_command_add_iothreads(QemuCommandBuilder *b, GError **error)
{
    guint64 n = b->def->iothreads ? g_ascii_strtoull(b->def->iothreads, NULL, 10) : 0;

    if (n > 0 && !qemu_caps_has_device(b->caps, "iothread"))
        return unsupported(error, _("this QEMU has no IOThreads"));
    for (guint64 i = 1; i <= n; i++)
        addf(b, "-object", "iothread,id=iothread%" G_GUINT64_FORMAT, i);
    return TRUE;
}

/* <numatune><memnode cellid=@id>, or NULL. */
static const DomainMemnode *
cell_memnode(const DomainDef *def, const char *id)
{
    for (guint i = 0; i < def->numa_memnodes.len; i++) {
        const DomainMemnode *m = ptr_vec_index(&def->numa_memnodes, i);
        if (g_strcmp0(m->cellid, id) == 0)
            return m;
    }
    return NULL;
}

static gboolean
qemu_command_add_numa(QemuCommandBuilder *b, GError **error)
{
    const DomainDef *def = b->def;
    const PtrVec *cells = &def->cpu.cells;
    guint64 total = 0;

    if (cells->len == 0)
        return TRUE;
    for (guint i = 0; i < cells->len; i++)
        total += ((const DomainNumaCell *)ptr_vec_index(cells, i))->memory_kib;
    if (total != def->memory_kib)
        return unsupported(error, _("NUMA cells hold %" G_GUINT64_FORMAT " KiB of memory "
                                    "but the domain has %" G_GUINT64_FORMAT " KiB"),
                           total, def->memory_kib);

    for (guint i = 0; i < cells->len; i++) {
        const DomainNumaCell *cell = ptr_vec_index(cells, i);
        const char *id = cell->id ? cell->id : "0";
        g_autoptr(GString) node = g_string_new(NULL);
        g_auto(GStrv) ranges = g_strsplit(cell->cpus ? cell->cpus : "", ",", -1);

        g_autoptr(GString) ram = g_string_new(NULL);
        g_string_printf(ram, "memory-backend-ram,id=ram-node%s,size=%" G_GUINT64_FORMAT "k",
                        id, cell->memory_kib);
        const DomainMemnode *memnode = cell_memnode(def, id);
        if (!prop_memory_policy(ram, memnode ? memnode->mode : def->numa_memory_mode,
                                memnode ? memnode->nodeset : def->numa_memory_nodeset, error))
            return FALSE;
        add(b, "-object", ram->str);
        g_string_printf(node, "node,nodeid=%s", id);
        for (guint j = 0; ranges[j]; j++) {
            g_strstrip(ranges[j]);
            if (ranges[j][0] == '\0')
                continue;
            if (ranges[j][0] == '^')
                return unsupported(error, _("NUMA cell '%s': excluded CPUs ('%s') are not "
                                            "supported"), id, cell->cpus);
            prop(node, "cpus", ranges[j]);
        }
        propf(node, "memdev", "ram-node%s", id);
        add(b, "-numa", node->str);
    }
    return TRUE;
}

static void
qemu_command_add_uuid(QemuCommandBuilder *b)
{
    const unsigned char *u = b->def->uuid;

    addf(b, "-uuid", "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
         u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
         u[13], u[14], u[15]);
}

/* ---- clock, lifecycle, power management, boot -------------------------------------- */

static gboolean
qemu_command_add_clock(QemuCommandBuilder *b, GError **error)
{
    const DomainDef *def = b->def;
    const DomainTimer *rtc = timer_find(def, "rtc");
    g_autoptr(GString) s = g_string_new("base=");

    if (g_strcmp0(def->clock_offset, "utc") == 0)
        g_string_append(s, "utc");
    else if (g_strcmp0(def->clock_offset, "localtime") == 0)
        g_string_append(s, "localtime");
    else
        return unsupported(error, _("clock offset '%s' is not supported yet"),
                           def->clock_offset);
    if (rtc && g_strcmp0(rtc->tickpolicy, "catchup") == 0)
        g_string_append(s, ",driftfix=slew");
    add(b, "-rtc", s->str);
    return TRUE;
}

static void
qemu_command_add_lifecycle(QemuCommandBuilder *b)
{
    const char *pm = b->q35 ? "ICH9-LPC" : "PIIX4_PM";

    add(b, "-no-shutdown", NULL);
    /* a guest reboot stops QEMU (SHUTDOWN event) so that the driver can destroy it */
    if (b->def->on_reboot == DOMAIN_LIFECYCLE_DESTROY)
        add(b, "-action", "reboot=shutdown");
    if (b->def->pm_suspend_to_mem)
        addf(b, "-global", "%s.disable_s3=%d", pm,
             strcmp(b->def->pm_suspend_to_mem, "no") == 0);
    if (b->def->pm_suspend_to_disk)
        addf(b, "-global", "%s.disable_s4=%d", pm,
             strcmp(b->def->pm_suspend_to_disk, "no") == 0);
}

/* The first disk of kind @device, or -1. */
static int
first_disk(const DomainDef *def, DomainDiskDevice device)
{
    for (guint i = 0; i < def->devices.disks.len; i++) {
        const DomainDiskDef *disk = ptr_vec_index(&def->devices.disks, i);

        if (disk->device == device)
            return i;
    }
    return -1;
}

/* Boot order: per-device <boot order> as given, else <os><boot dev> turned into the
 * bootindex of the first device of each kind (QEMU boots strictly in that order). */
static void
qemu_command_assign_boot_order(QemuCommandBuilder *b)
{
    const DomainDef *def = b->def;
    unsigned int next = 1;

    b->disk_boot = g_new0(unsigned int, def->devices.disks.len + 1);
    b->net_boot = g_new0(unsigned int, def->devices.nets.len + 1);
    for (guint i = 0; i < def->devices.disks.len; i++) {
        const DomainDiskDef *disk = ptr_vec_index(&def->devices.disks, i);
        b->disk_boot[i] = disk->boot_order;
    }
    for (guint i = 0; i < def->devices.nets.len; i++) {
        const DomainNetDef *net = ptr_vec_index(&def->devices.nets, i);
        b->net_boot[i] = net->boot_order;
    }

    for (guint i = 0; i < def->boot_devs.len; i++) {
        const char *dev = ptr_vec_index(&def->boot_devs, i);
        int idx = -1;

        if (strcmp(dev, "hd") == 0)
            idx = first_disk(def, DOMAIN_DISK_DEVICE_DISK);
        else if (strcmp(dev, "cdrom") == 0)
            idx = first_disk(def, DOMAIN_DISK_DEVICE_CDROM);
        else if (strcmp(dev, "fd") == 0)
            idx = first_disk(def, DOMAIN_DISK_DEVICE_FLOPPY);
        if (idx >= 0 && b->disk_boot[idx] == 0) {
            b->disk_boot[idx] = next++;
        } else if (strcmp(dev, "network") == 0 && def->devices.nets.len > 0 &&
                   b->net_boot[0] == 0) {
            b->net_boot[0] = next++;
        }
    }
}

static gboolean
qemu_command_add_boot(QemuCommandBuilder *b, GError **error)
{
    const DomainDef *def = b->def;
    g_autoptr(GString) s = g_string_new("strict=on");

    if (g_strcmp0(def->bootmenu_enable, "yes") == 0) {
        g_string_append(s, ",menu=on");
        prop(s, "splash-time", def->bootmenu_timeout);
    }
    add(b, "-boot", s->str);

    if (def->os_firmware)
        return unsupported(error, _("firmware auto-selection ('%s') is not supported yet"),
                           def->os_firmware);
    if (def->loader) {
        if (def->loader_type && strcmp(def->loader_type, "rom") != 0)
            return unsupported(error, _("loader type '%s' (UEFI) is not supported yet"),
                               def->loader_type);
        add(b, "-bios", def->loader);
    }
    if (def->kernel)
        add(b, "-kernel", def->kernel);
    if (def->initrd)
        add(b, "-initrd", def->initrd);
    if (def->cmdline)
        add(b, "-append", def->cmdline);
    if (def->dtb)
        add(b, "-dtb", def->dtb);
    return TRUE;
}

/* ---- controllers ------------------------------------------------------------------- */

static gboolean
controller_usb(QemuCommandBuilder *b, const DomainControllerDef *ctrl, GError **error)
{
    static const char *const models[][2] = {
        { "piix3-uhci", "piix3-usb-uhci" }, { "piix4-uhci", "piix4-usb-uhci" },
        { "ehci", "usb-ehci" },             { "ich9-ehci1", "ich9-usb-ehci1" },
        { "ich9-uhci1", "ich9-usb-uhci1" }, { "ich9-uhci2", "ich9-usb-uhci2" },
        { "ich9-uhci3", "ich9-usb-uhci3" }, { "nec-xhci", "nec-usb-xhci" },
        { "qemu-xhci", "qemu-xhci" },
    };
    const char *model = ctrl->model ? ctrl->model : (b->q35 ? "qemu-xhci" : "piix3-uhci");
    const char *type = NULL;
    g_autofree char *id = NULL;
    GString *s;

    if (strcmp(model, "none") == 0)
        return TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(models); i++) {
        if (strcmp(models[i][0], model) == 0)
            type = models[i][1];
    }
    if (!type)
        return unsupported(error, _("USB controller model '%s' is not supported"), model);

    /* a companion controller shares the bus of its EHCI master */
    if (ctrl->master_startport)
        id = g_strdup_printf("usb%d-%s", ctrl->index, model);
    else
        id = ctrl->index == 0 ? g_strdup("usb") : g_strdup_printf("usb%d", ctrl->index);
    if (!(s = device_new(b, type, id, error)))
        return FALSE;
    if (ctrl->master_startport) {
        propf(s, "masterbus", "%s.0", ctrl->index == 0 ? "usb" : id);
        prop(s, "firstport", ctrl->master_startport);
    }
    if (ctrl->ports && g_str_has_suffix(type, "xhci")) {
        prop(s, "p2", ctrl->ports);
        prop(s, "p3", ctrl->ports);
    }
    device_add(b, s);
    return TRUE;
}

static gboolean
controller_scsi(QemuCommandBuilder *b, const DomainControllerDef *ctrl, GError **error)
{
    g_autofree char *id = g_strdup_printf("scsi%d", ctrl->index);
    const char *model = ctrl->model ? ctrl->model : "lsilogic";

    if (strcmp(model, "lsilogic") == 0)
        return device_simple(b, "lsi53c895a", id, error);
    if (strcmp(model, "virtio-scsi") == 0)
        return device_simple(b, "virtio-scsi-pci", id, error);
    return unsupported(error, _("SCSI controller model '%s' is not supported"), model);
}

static gboolean
controller_virtio_serial(QemuCommandBuilder *b, const DomainControllerDef *ctrl,
                         GError **error)
{
    g_autofree char *id = g_strdup_printf("virtio-serial%d", ctrl->index);
    GString *s = device_new(b, "virtio-serial-pci", id, error);

    if (!s)
        return FALSE;
    prop(s, "max_ports", ctrl->ports);
    prop(s, "vectors", ctrl->vectors);
    device_add(b, s);
    return TRUE;
}

static const char *
controller_extra_attr(const DomainControllerDef *ctrl, const char *elem, const char *attr)
{
    for (guint i = 0; i < ctrl->extra.len; i++) {
        const XmlTree *t = ptr_vec_index(&ctrl->extra, i);

        if (strcmp(t->name, elem) == 0)
            return xml_tree_get_attr(t, attr);
    }
    return NULL;
}

static gboolean
controller_pci(QemuCommandBuilder *b, const DomainControllerDef *ctrl, GError **error)
{
    const char *model = ctrl->model ? ctrl->model : "";
    g_autofree char *id = g_strdup_printf("pci.%d", ctrl->index);
    const char *chassis = controller_extra_attr(ctrl, "target", "chassis");
    const char *port = controller_extra_attr(ctrl, "target", "port");
    GString *s;

    if (strcmp(model, "pci-root") == 0 || strcmp(model, "pcie-root") == 0)
        return TRUE; /* part of the machine */
    if (strcmp(model, "pcie-root-port") == 0) {
        if (!(s = device_new(b, "pcie-root-port", id, error)))
            return FALSE;
        g_string_append(s, ",bus=pcie.0");
        if (chassis)
            prop(s, "chassis", chassis);
        else
            propf(s, "chassis", "%d", ctrl->index);
        if (port)
            prop(s, "port", port);
        else
            propf(s, "port", "%d", ctrl->index);
    } else if (strcmp(model, "pci-bridge") == 0) {
        if (!(s = device_new(b, "pci-bridge", id, error)))
            return FALSE;
        if (chassis)
            prop(s, "chassis_nr", chassis);
        else
            propf(s, "chassis_nr", "%d", ctrl->index);
    } else {
        return unsupported(error, _("PCI controller model '%s' is not supported yet"),
                           model);
    }
    device_add(b, s);
    return TRUE;
}

static gboolean
qemu_command_add_controller(QemuCommandBuilder *b, const DomainControllerDef *ctrl,
                            GError **error)
{
    const char *type = ctrl->type;

    if (strcmp(type, "usb") == 0)
        return controller_usb(b, ctrl, error);
    if (strcmp(type, "scsi") == 0)
        return controller_scsi(b, ctrl, error);
    if (strcmp(type, "virtio-serial") == 0)
        return controller_virtio_serial(b, ctrl, error);
    if (strcmp(type, "pci") == 0)
        return controller_pci(b, ctrl, error);
    if (strcmp(type, "sata") == 0) {
        g_autofree char *id = g_strdup_printf("sata%d", ctrl->index);

        if (b->q35 && ctrl->index == 0)
            return TRUE; /* the q35 chipset's own AHCI */
        return device_simple(b, "ich9-ahci", id, error);
    }
    if (strcmp(type, "ide") == 0 || strcmp(type, "fdc") == 0) {
        if (!b->q35 && ctrl->index == 0)
            return TRUE; /* part of the pc machine */
        return unsupported(error, _("%s controller %d is not supported on machine type '%s'"),
                           type, ctrl->index, b->machine);
    }
    return unsupported(error, _("controller type '%s' is not supported yet"), type);
}

/* ---- disks ------------------------------------------------------------------------- */

/* Where a disk sits on its controller: from its <address type='drive'> when given,
 * else from its target name as libvirt assigns it. */
static void
disk_drive_address(const DomainDiskDef *disk, int per_bus, int per_ctrl,
                   int *ret_ctrl, int *ret_bus, int *ret_unit)
{
    int idx = MAX(domain_disk_target_index(disk->target_dev), 0);
    const XmlTree *addr = disk->address.tree;

    if (addr && g_strcmp0(xml_tree_get_attr(addr, "type"), "drive") == 0) {
        const char *ctrl = xml_tree_get_attr(addr, "controller");
        const char *bus = xml_tree_get_attr(addr, "bus");
        const char *unit = xml_tree_get_attr(addr, "unit");

        *ret_ctrl = ctrl ? atoi(ctrl) : 0;
        *ret_bus = bus ? atoi(bus) : 0;
        *ret_unit = unit ? atoi(unit) : 0;
        return;
    }
    *ret_ctrl = idx / per_ctrl;
    *ret_bus = (idx % per_ctrl) / per_bus;
    *ret_unit = idx % per_bus;
}

/* Cache mode -> (cache.direct, cache.no-flush, device write-cache). */
static gboolean
disk_cache_mode(const DomainDiskDef *disk, const char **ret_direct, const char **ret_no_flush,
                const char **ret_write_cache, GError **error)
{
    static const char *const modes[][4] = {
        { "writeback", "off", "off", "on" },  { "none", "on", "off", "on" },
        { "writethrough", "off", "off", "off" }, { "directsync", "on", "off", "off" },
        { "unsafe", "off", "on", "on" },
    };
    const char *cache = disk->driver_cache;

    *ret_direct = *ret_no_flush = *ret_write_cache = NULL;
    if (!cache || strcmp(cache, "default") == 0)
        return TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(modes); i++) {
        if (strcmp(modes[i][0], cache) == 0) {
            *ret_direct = modes[i][1];
            *ret_no_flush = modes[i][2];
            *ret_write_cache = modes[i][3];
            return TRUE;
        }
    }
    return unsupported(error, _("disk '%s': cache mode '%s' is not supported"),
                       disk->target_dev, cache);
}

/* The two -blockdev nodes (protocol, format) of a disk with media. */
static gboolean
disk_add_blockdevs(QemuCommandBuilder *b, const DomainDiskDef *disk, unsigned int n,
                   GError **error)
{
    const char *direct, *no_flush, *write_cache;
    gboolean readonly = disk->readonly || disk->device == DOMAIN_DISK_DEVICE_CDROM;
    const char *proto = "file";
    const char *aio = NULL;
    g_autoptr(GString) file = g_string_new(NULL);
    g_autoptr(GString) fmt = g_string_new(NULL);

    if (!disk_cache_mode(disk, &direct, &no_flush, &write_cache, error))
        return FALSE;
    if (disk->type == DOMAIN_DISK_TYPE_BLOCK)
        proto = disk->device == DOMAIN_DISK_DEVICE_CDROM ? "host_cdrom" : "host_device";
    if (disk->driver_io && strcmp(disk->driver_io, "default") != 0) {
        aio = disk->driver_io;
        if (strcmp(aio, "native") == 0 && g_strcmp0(direct, "on") != 0)
            return unsupported(error, _("disk '%s': io 'native' needs cache mode 'none' or "
                                        "'directsync'"), disk->target_dev);
    }
    if (g_strcmp0(disk->driver_type, "raw") != 0 && g_strcmp0(disk->driver_type, "qcow2") != 0)
        return unsupported(error, _("disk '%s': format '%s' is not supported: use 'qcow2' or "
                                    "'raw'"), disk->target_dev, disk->driver_type);

    g_string_printf(file, "driver=%s", proto);
    prop(file, "filename", disk->source);
    propf(file, "node-name", "libvirt-%u-storage", n);
    prop(file, "read-only", readonly ? "on" : "off");
    prop(file, "cache.direct", direct);
    prop(file, "cache.no-flush", no_flush);
    prop(file, "aio", aio);
    if (disk->driver_discard && strcmp(disk->driver_discard, "default") != 0)
        prop(file, "discard", disk->driver_discard);
    add(b, "-blockdev", file->str);

    propf(fmt, "node-name", "libvirt-%u-format", n);
    g_string_erase(fmt, 0, 1); /* the leading comma */
    prop(fmt, "driver", disk->driver_type);
    propf(fmt, "file", "libvirt-%u-storage", n);
    prop(fmt, "read-only", readonly ? "on" : "off");
    prop(fmt, "cache.direct", direct);
    prop(fmt, "cache.no-flush", no_flush);
    if (disk->driver_discard && strcmp(disk->driver_discard, "default") != 0)
        prop(fmt, "discard", disk->driver_discard);
    if (disk->driver_detect_zeroes && strcmp(disk->driver_detect_zeroes, "default") != 0)
        prop(fmt, "detect-zeroes", disk->driver_detect_zeroes);
    add(b, "-blockdev", fmt->str);
    return TRUE;
}

/* The -device type, id and bus properties of a disk. */
static gboolean
disk_device_start(QemuCommandBuilder *b, const DomainDiskDef *disk, guint index,
                  GString **ret_dev, GError **error)
{
    gboolean cdrom = disk->device == DOMAIN_DISK_DEVICE_CDROM;
    const char *dev = disk->target_dev;
    int ctrl, bus, unit;
    g_autofree char *id = NULL;
    g_autofree char *busname = NULL;
    const char *type = NULL;
    GString *s;

    if (disk->device == DOMAIN_DISK_DEVICE_LUN)
        return unsupported(error, _("disk '%s': device 'lun' is not supported yet"), dev);
    if (disk->transient)
        return unsupported(error, _("disk '%s': transient disks are not supported yet"), dev);

    switch (disk->bus) {
    case DOMAIN_DISK_BUS_VIRTIO:
        if (disk->device != DOMAIN_DISK_DEVICE_DISK)
            return unsupported(error, _("disk '%s': bus 'virtio' only takes disks"), dev);
        type = "virtio-blk-pci";
        id = g_strdup_printf("virtio-disk%d", domain_disk_target_index(dev));
        break;
    case DOMAIN_DISK_BUS_IDE:
        disk_drive_address(disk, 2, 4, &ctrl, &bus, &unit);
        type = cdrom ? "ide-cd" : "ide-hd";
        id = g_strdup_printf("ide%d-%d-%d", ctrl, bus, unit);
        busname = g_strdup_printf("ide.%d", bus);
        break;
    case DOMAIN_DISK_BUS_SATA:
        /* one port per unit: the AHCI bus name carries the unit, no unit= property */
        disk_drive_address(disk, 6, 6, &ctrl, &bus, &unit);
        type = cdrom ? "ide-cd" : "ide-hd";
        id = g_strdup_printf("sata%d-%d-%d", ctrl, bus, unit);
        if (b->q35 && ctrl == 0)
            busname = g_strdup_printf("ide.%d", unit);
        else
            busname = g_strdup_printf("sata%d.%d", ctrl, unit);
        unit = -1;
        break;
    case DOMAIN_DISK_BUS_SCSI:
        disk_drive_address(disk, 7, 7, &ctrl, &bus, &unit);
        type = cdrom ? "scsi-cd" : "scsi-hd";
        id = g_strdup_printf("scsi%d-0-0-%d", ctrl, unit);
        busname = g_strdup_printf("scsi%d.0", ctrl);
        break;
    case DOMAIN_DISK_BUS_FDC:
        if (b->q35)
            return unsupported(error, _("disk '%s': floppy drives are not supported on "
                                        "machine type '%s'"), dev, b->machine);
        disk_drive_address(disk, 2, 2, &ctrl, &bus, &unit);
        type = "floppy";
        id = g_strdup_printf("fdc0-0-%d", unit);
        break;
    case DOMAIN_DISK_BUS_USB:
        type = "usb-storage";
        id = g_strdup_printf("usb-disk%u", index);
        break;
    default:
        return unsupported(error, _("disk '%s': this bus is not supported"), dev);
    }
    if (!(s = device_new(b, type, id, error)))
        return FALSE;
    if (busname) {
        prop(s, "bus", busname);
        if (disk->bus == DOMAIN_DISK_BUS_SCSI) {
            const DomainControllerDef *c = controller_find(b->def, "scsi", ctrl);

            if (c && g_strcmp0(c->model, "virtio-scsi") == 0)
                propf(s, "lun", "%d", unit);
            else
                propf(s, "scsi-id", "%d", unit);
        } else if (unit >= 0) {
            propf(s, "unit", "%d", unit);
        }
    } else if (disk->bus == DOMAIN_DISK_BUS_FDC) {
        propf(s, "unit", "%d", unit);
    }
    *ret_dev = s;
    return TRUE;
}

static gboolean
qemu_command_add_disk(QemuCommandBuilder *b, const DomainDiskDef *disk, guint index,
                      unsigned int *node, GError **error)
{
    const char *direct, *no_flush, *write_cache;
    GString *s = NULL;

    if (!disk->source && disk->device == DOMAIN_DISK_DEVICE_DISK)
        return unsupported(error, _("disk '%s' has no source"), disk->target_dev);
    if (!disk_cache_mode(disk, &direct, &no_flush, &write_cache, error))
        return FALSE;
    if (disk->source && !disk_add_blockdevs(b, disk, *node, error))
        return FALSE;
    if (!disk_device_start(b, disk, index, &s, error))
        return FALSE;
    if (disk->source)
        propf(s, "drive", "libvirt-%u-format", *node);
    prop_bootindex(s, b->disk_boot[index]);
    if (disk->shareable)
        g_string_append(s, ",share-rw=on");
    prop(s, "serial", disk->serial);
    if (disk->source && disk->device != DOMAIN_DISK_DEVICE_CDROM)
        prop(s, "write-cache", write_cache);
    device_add(b, s);
    if (disk->source)
        (*node)++;
    return TRUE;
}

/* ---- network interfaces ------------------------------------------------------------ */

static gboolean
qemu_command_add_net(QemuCommandBuilder *b, const DomainNetDef *net, guint index,
                     GError **error)
{
    static const char *const models[][2] = {
        { "virtio", "virtio-net-pci" }, { "e1000", "e1000" }, { "e1000e", "e1000e" },
        { "rtl8139", "rtl8139" },       { "ne2k_pci", "ne2k_pci" }, { "pcnet", "pcnet" },
        { "vmxnet3", "vmxnet3" },
    };
    const char *model = net->model ? net->model : "rtl8139";
    const char *type = NULL;
    const unsigned char *m = net->mac;
    g_autofree char *id = g_strdup_printf("net%u", index);
    GString *s;

    if (strcmp(net->type, "user") != 0)
        return unsupported(error, _("interface type '%s' is not supported yet"), net->type);
    for (guint i = 0; i < G_N_ELEMENTS(models); i++) {
        if (strcmp(models[i][0], model) == 0)
            type = models[i][1];
    }
    if (!type)
        return unsupported(error, _("interface model '%s' is not supported"), model);

    addf(b, "-netdev", "user,id=hostnet%u", index);
    if (!(s = device_new(b, type, id, error)))
        return FALSE;
    propf(s, "netdev", "hostnet%u", index);
    propf(s, "mac", "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    if (net->mtu && strcmp(type, "virtio-net-pci") == 0)
        prop(s, "host_mtu", net->mtu);
    prop_bootindex(s, b->net_boot[index]);
    device_add(b, s);
    return TRUE;
}

/* ---- character devices ------------------------------------------------------------- */

/* "-chardev BACKEND,id=char@alias,..." for @chr. */
static gboolean
qemu_command_add_chardev(QemuCommandBuilder *b, const DomainChrDef *chr, const char *alias,
                         GError **error)
{
    const char *type = chr->type ? chr->type : "pty";
    g_autofree char *id = g_strconcat("char", alias, NULL);
    g_autoptr(GString) s = g_string_new(NULL);

    if (strcmp(type, "pty") == 0 || strcmp(type, "null") == 0) {
        g_string_append(s, type);
        prop(s, "id", id);
    } else if (strcmp(type, "unix") == 0) {
        g_autofree char *path = g_strdup(chr->source_path);

        if (!path) {
            const char *base = chr->target_name ? chr->target_name : alias;

            if (!b->ctx->domain_dir)
                return fail(error, VIR_ERR_INTERNAL_ERROR,
                            _("no run-time directory for the socket of '%s'"), alias);
            path = g_build_filename(b->ctx->domain_dir, base, NULL);
        }
        g_string_append(s, "socket");
        prop(s, "id", id);
        prop(s, "path", path);
        if (g_strcmp0(chr->source_mode, "connect") != 0)
            g_string_append(s, ",server=on,wait=off");
    } else if (strcmp(type, "tcp") == 0) {
        g_string_append(s, "socket");
        prop(s, "id", id);
        prop(s, "host", chr->source_host ? chr->source_host : "127.0.0.1");
        prop(s, "port", chr->source_service);
        if (g_strcmp0(chr->protocol, "telnet") == 0)
            g_string_append(s, ",telnet=on");
        if (g_strcmp0(chr->source_mode, "connect") != 0)
            g_string_append(s, ",server=on,wait=off");
    } else if (strcmp(type, "file") == 0) {
        if (!chr->source_path)
            return unsupported(error, _("character device '%s' of type 'file' has no path"),
                               alias);
        g_string_append(s, "file");
        prop(s, "id", id);
        prop(s, "path", chr->source_path);
        if (g_strcmp0(chr->source_append, "on") == 0)
            g_string_append(s, ",append=on");
    } else if (strcmp(type, "spicevmc") == 0) {
        if (!qemu_caps_has_device(b->caps, "chardev-spicevmc"))
            return unsupported(error, _("character device type 'spicevmc' needs SPICE, which "
                                        "'%s' lacks"), qemu_caps_get_binary(b->caps));
        g_string_append(s, "spicevmc");
        prop(s, "id", id);
        prop(s, "name", chr->kind == DOMAIN_CHR_CHANNEL ? "vdagent" : "usbredir");
    } else {
        return unsupported(error, _("character device type '%s' is not supported yet"),
                           type);
    }
    add(b, "-chardev", s->str);
    return TRUE;
}

static gboolean
qemu_command_add_serial(QemuCommandBuilder *b, const DomainChrDef *chr, guint index,
                        GError **error)
{
    const char *target = chr->target_type ? chr->target_type : "isa-serial";
    const char *type;
    g_autofree char *alias = g_strdup_printf("serial%u", index);
    g_autofree char *chardev = g_strconcat("char", alias, NULL);
    GString *s;

    if (strcmp(target, "isa-serial") == 0)
        type = "isa-serial";
    else if (strcmp(target, "pci-serial") == 0)
        type = "pci-serial";
    else if (strcmp(target, "usb-serial") == 0)
        type = "usb-serial";
    else
        return unsupported(error, _("serial target type '%s' is not supported"), target);
    if (!qemu_command_add_chardev(b, chr, alias, error))
        return FALSE;
    if (!(s = device_new(b, type, alias, error)))
        return FALSE;
    prop(s, "chardev", chardev);
    if (strcmp(type, "isa-serial") == 0 && chr->target_port >= 0)
        propf(s, "index", "%d", chr->target_port);
    device_add(b, s);
    return TRUE;
}

static gboolean
qemu_command_add_console(QemuCommandBuilder *b, const DomainChrDef *chr, guint index,
                         GError **error)
{
    const char *target = chr->target_type ? chr->target_type : "serial";
    g_autofree char *alias = g_strdup_printf("console%u", index);
    g_autofree char *chardev = g_strconcat("char", alias, NULL);
    GString *s;

    if (strcmp(target, "serial") == 0) {
        if (index == 0)
            return TRUE; /* the first serial port, already there */
        return unsupported(error, _("only the first console can be a serial port"));
    }
    if (strcmp(target, "virtio") != 0)
        return unsupported(error, _("console target type '%s' is not supported"), target);
    if (!qemu_command_add_chardev(b, chr, alias, error))
        return FALSE;
    if (!(s = device_new(b, "virtconsole", alias, error)))
        return FALSE;
    prop(s, "chardev", chardev);
    device_add(b, s);
    return TRUE;
}

static gboolean
qemu_command_add_channel(QemuCommandBuilder *b, const DomainChrDef *chr, guint index,
                         GError **error)
{
    g_autofree char *alias = g_strdup_printf("channel%u", index);
    g_autofree char *chardev = g_strconcat("char", alias, NULL);
    GString *s;

    if (g_strcmp0(chr->target_type, "virtio") != 0)
        return unsupported(error, _("channel target type '%s' is not supported yet"),
                           chr->target_type);
    if (!qemu_command_add_chardev(b, chr, alias, error))
        return FALSE;
    if (!(s = device_new(b, "virtserialport", alias, error)))
        return FALSE;
    prop(s, "chardev", chardev);
    prop(s, "name", chr->target_name);
    device_add(b, s);
    return TRUE;
}

/* ---- input, graphics, video, sound ------------------------------------------------- */

static gboolean
qemu_command_add_input(QemuCommandBuilder *b, const DomainInputDef *input, guint index,
                       GError **error)
{
    const char *bus = input->bus ? input->bus : "ps2";
    g_autofree char *id = g_strdup_printf("input%u", index);
    const char *type = NULL;

    if (strcmp(bus, "ps2") == 0)
        return TRUE; /* part of the PC machine */
    if (strcmp(bus, "usb") == 0) {
        if (strcmp(input->type, "tablet") == 0)
            type = "usb-tablet";
        else if (strcmp(input->type, "mouse") == 0)
            type = "usb-mouse";
        else if (strcmp(input->type, "keyboard") == 0)
            type = "usb-kbd";
    } else if (strcmp(bus, "virtio") == 0) {
        if (strcmp(input->type, "tablet") == 0)
            type = "virtio-tablet-pci";
        else if (strcmp(input->type, "mouse") == 0)
            type = "virtio-mouse-pci";
        else if (strcmp(input->type, "keyboard") == 0)
            type = "virtio-keyboard-pci";
    }
    if (!type)
        return unsupported(error, _("input device '%s' on bus '%s' is not supported"),
                           input->type, bus);
    if (strcmp(bus, "usb") == 0) {
        const DomainControllerDef *usb = controller_find(b->def, "usb", 0);

        if (!usb || g_strcmp0(usb->model, "none") == 0)
            return unsupported(error, _("input device '%s' needs a USB controller"),
                               input->type);
    }
    return device_simple(b, type, id, error);
}

static const char *
graphics_listen_address(const DomainGraphicsDef *gfx, const char **ret_socket,
                        GError **error)
{
    const DomainGraphicsListen *l = gfx->listens.len ? ptr_vec_index(&gfx->listens, 0) : NULL;

    *ret_socket = NULL;
    if (!l || !l->type || strcmp(l->type, "address") == 0)
        return l && l->address ? l->address : "127.0.0.1";
    if (strcmp(l->type, "socket") == 0) {
        *ret_socket = l->socket ? l->socket : "";
        return NULL;
    }
    if (strcmp(l->type, "none") == 0)
        return NULL;
    unsupported(error, _("graphics listen type '%s' is not supported yet"), l->type);
    return NULL;
}

static gboolean
graphics_vnc(QemuCommandBuilder *b, const DomainGraphicsDef *gfx, GError **error)
{
    const char *socket = NULL;
    g_autoptr(GError) local = NULL;
    const char *address = graphics_listen_address(gfx, &socket, &local);
    g_autoptr(GString) s = g_string_new(NULL);
    int port = gfx->autoport ? b->ctx->vnc_port : gfx->port;

    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (socket) {
        g_autofree char *path = NULL;

        if (*socket) {
            path = g_strdup(socket);
        } else if (b->ctx->domain_dir) {
            path = g_build_filename(b->ctx->domain_dir, "vnc.sock", NULL);
        } else {
            return fail(error, VIR_ERR_INTERNAL_ERROR,
                        _("no run-time directory for the VNC socket"));
        }
        g_string_append(s, "unix:");
        append_escaped(s, path);
    } else if (!address) {
        g_string_append(s, "none");
    } else {
        if (gfx->autoport && port < 0)
            return fail(error, VIR_ERR_INTERNAL_ERROR, _("no port was allocated for VNC"));
        if (port < 5900)
            return unsupported(error, _("VNC port %d is below 5900"), port);
        if (strchr(address, ':'))
            g_string_printf(s, "[%s]:%d", address, port - 5900);
        else
            g_string_printf(s, "%s:%d", address, port - 5900);
    }
    if (gfx->passwd)
        g_string_append(s, ",password=on");
    if (gfx->websocket)
        prop(s, "websocket", gfx->websocket);
    if (gfx->share_policy)
        prop(s, "share", gfx->share_policy);
    if (b->audiodev)
        prop(s, "audiodev", b->audiodev);
    add(b, "-vnc", s->str);
    if (gfx->keymap)
        add(b, "-k", gfx->keymap);
    return TRUE;
}

static gboolean
graphics_spice(QemuCommandBuilder *b, const DomainGraphicsDef *gfx, GError **error)
{
    const char *socket = NULL;
    g_autoptr(GError) local = NULL;
    const char *address;
    g_autoptr(GString) s = g_string_new(NULL);
    int port = gfx->autoport ? b->ctx->spice_port : gfx->port;

    if (!qemu_caps_has_device(b->caps, "chardev-spicevmc"))
        return unsupported(error, _("graphics type 'spice' is not supported by '%s'"),
                           qemu_caps_get_binary(b->caps));
    address = graphics_listen_address(gfx, &socket, &local);
    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (socket)
        return unsupported(error, _("SPICE on a unix socket is not supported yet"));
    if (address) {
        if (gfx->autoport && port <= 0)
            return unsupported(error, _("SPICE with autoport is not supported yet: give a "
                                        "port"));
        if (port <= 0)
            return unsupported(error, _("SPICE needs a port"));
        g_string_printf(s, "port=%d", port);
        prop(s, "addr", address);
    } else {
        g_string_append(s, "port=0");
    }
    if (!gfx->passwd)
        g_string_append(s, ",disable-ticketing=on");
    g_string_append(s, ",seamless-migration=on");
    add(b, "-spice", s->str);
    return TRUE;
}

static gboolean
qemu_command_add_graphics(QemuCommandBuilder *b, GError **error)
{
    const PtrVec *list = &b->def->devices.graphics;
    gboolean vnc = FALSE, spice = FALSE;

    if (list->len == 0) {
        add(b, "-display", "none");
        return TRUE;
    }
    for (guint i = 0; i < list->len; i++) {
        const DomainGraphicsDef *gfx = ptr_vec_index(list, i);

        if (strcmp(gfx->type, "vnc") == 0 && !vnc) {
            vnc = TRUE;
            if (!graphics_vnc(b, gfx, error))
                return FALSE;
        } else if (strcmp(gfx->type, "spice") == 0 && !spice) {
            spice = TRUE;
            if (!graphics_spice(b, gfx, error))
                return FALSE;
        } else {
            return unsupported(error, _("graphics type '%s' is not supported: use one 'vnc' "
                                        "and at most one 'spice'"), gfx->type);
        }
    }
    return TRUE;
}

static gboolean
qemu_command_add_video(QemuCommandBuilder *b, const DomainVideoDef *video, guint index,
                       GError **error)
{
    const char *model = video->model ? video->model : "cirrus";
    g_autofree char *id = g_strdup_printf("video%u", index);
    const char *type;
    GString *s;

    if (strcmp(model, "none") == 0)
        return TRUE;
    if (strcmp(model, "vga") == 0)
        type = "VGA";
    else if (strcmp(model, "cirrus") == 0)
        type = "cirrus-vga";
    else if (strcmp(model, "virtio") == 0)
        type = video->primary ? "virtio-vga" : "virtio-gpu-pci";
    else if (strcmp(model, "qxl") == 0)
        type = video->primary ? "qxl-vga" : "qxl";
    else if (strcmp(model, "bochs") == 0)
        type = "bochs-display";
    else if (strcmp(model, "vmvga") == 0)
        type = "vmware-svga";
    else if (strcmp(model, "ramfb") == 0)
        type = "ramfb";
    else
        return unsupported(error, _("video model '%s' is not supported"), model);
    if (!(s = device_new(b, type, id, error)))
        return FALSE;
    if (strcmp(type, "VGA") == 0 || strcmp(type, "vmware-svga") == 0) {
        if (video->vram)
            propf(s, "vgamem_mb", "%u", (unsigned int)(g_ascii_strtoull(video->vram, NULL,
                                                                          10) / 1024));
    } else if (strcmp(model, "qxl") == 0) {
        if (video->ram)
            propf(s, "ram_size", "%" G_GUINT64_FORMAT,
                  g_ascii_strtoull(video->ram, NULL, 10) * 1024);
        if (video->vram)
            propf(s, "vram_size", "%" G_GUINT64_FORMAT,
                  g_ascii_strtoull(video->vram, NULL, 10) * 1024);
        if (video->vgamem)
            propf(s, "vgamem_mb", "%u",
                  (unsigned int)(g_ascii_strtoull(video->vgamem, NULL, 10) / 1024));
        prop(s, "max_outputs", video->heads);
    } else if (strcmp(model, "virtio") == 0) {
        prop(s, "max_outputs", video->heads);
    }
    device_add(b, s);
    return TRUE;
}

/* The -audiodev that sound devices use, from the first <audio>. */
static gboolean
qemu_command_add_audiodev(QemuCommandBuilder *b, GError **error)
{
    const PtrVec *audios = &b->def->devices.audios;
    const XmlTree *audio = audios->len ? ptr_vec_index(audios, 0) : NULL;
    const char *type = audio ? xml_tree_get_attr(audio, "type") : NULL;
    const char *id = audio ? xml_tree_get_attr(audio, "id") : NULL;

    if (b->def->devices.sounds.len == 0)
        return TRUE;
    if (!type)
        type = "none";
    if (strcmp(type, "none") != 0 && strcmp(type, "spice") != 0)
        return unsupported(error, _("audio type '%s' is not supported yet"), type);
    b->audiodev = g_strdup_printf("audio%s", id ? id : "1");
    addf(b, "-audiodev", "id=%s,driver=%s", b->audiodev, type);
    return TRUE;
}

static gboolean
qemu_command_add_sound(QemuCommandBuilder *b, const DomainSoundDef *sound, guint index,
                       GError **error)
{
    const char *model = sound->model ? sound->model : "";
    g_autofree char *id = g_strdup_printf("sound%u", index);
    g_autofree char *codec = g_strdup_printf("sound%u-codec0", index);
    const char *type;
    GString *s;

    if (strcmp(model, "ich6") == 0)
        type = "intel-hda";
    else if (strcmp(model, "ich9") == 0)
        type = "ich9-intel-hda";
    else if (strcmp(model, "ac97") == 0)
        type = "AC97";
    else if (strcmp(model, "es1370") == 0)
        type = "ES1370";
    else
        return unsupported(error, _("sound model '%s' is not supported"), model);
    if (!(s = device_new(b, type, id, error)))
        return FALSE;
    if (!g_str_has_suffix(type, "intel-hda")) {
        prop(s, "audiodev", b->audiodev);
        device_add(b, s);
        return TRUE;
    }
    device_add(b, s);
    if (!(s = device_new(b, "hda-duplex", codec, error)))
        return FALSE;
    propf(s, "bus", "%s.0", id);
    g_string_append(s, ",cad=0");
    prop(s, "audiodev", b->audiodev);
    device_add(b, s);
    return TRUE;
}

/* ---- watchdog, balloon, rng -------------------------------------------------------- */

static gboolean
qemu_command_add_watchdog(QemuCommandBuilder *b, const DomainWatchdogDef *wd, guint index,
                          GError **error)
{
    static const char *const actions[] = { "reset", "shutdown", "poweroff", "pause", "none",
                                           "inject-nmi", NULL };
    const char *model = wd->model ? wd->model : "";
    const char *action = wd->action ? wd->action : "reset";
    g_autofree char *id = g_strdup_printf("watchdog%u", index);

    if (index > 0)
        return unsupported(error, _("only one watchdog is supported"));
    if (!g_strv_contains(actions, action))
        return unsupported(error, _("watchdog action '%s' is not supported yet"), action);
    if (strcmp(model, "i6300esb") != 0 && strcmp(model, "ib700") != 0)
        return unsupported(error, _("watchdog model '%s' is not supported"), model);
    if (!device_simple(b, model, id, error))
        return FALSE;
    addf(b, "-action", "watchdog=%s", action);
    return TRUE;
}

static gboolean
qemu_command_add_memballoon(QemuCommandBuilder *b, GError **error)
{
    const DomainMemballoonDef *balloon = b->def->devices.memballoon;
    GString *s;

    if (!balloon || g_strcmp0(balloon->model, "none") == 0)
        return TRUE;
    if (g_strcmp0(balloon->model, "virtio") != 0)
        return unsupported(error, _("memory balloon model '%s' is not supported"),
                           balloon->model);
    if (!(s = device_new(b, "virtio-balloon-pci", "balloon0", error)))
        return FALSE;
    prop(s, "deflate-on-oom", balloon->autodeflate);
    prop(s, "free-page-reporting", balloon->free_page_reporting);
    device_add(b, s);
    return TRUE;
}

static gboolean
qemu_command_add_rng(QemuCommandBuilder *b, const DomainRngDef *rng, guint index,
                     GError **error)
{
    const char *backend = rng->backend_model ? rng->backend_model : "random";
    g_autofree char *id = g_strdup_printf("rng%u", index);
    g_autofree char *obj = g_strdup_printf("objrng%u", index);
    g_autoptr(GString) o = g_string_new(NULL);
    GString *s;

    if (g_strcmp0(rng->model, "virtio") != 0)
        return unsupported(error, _("rng model '%s' is not supported"), rng->model);
    if (strcmp(backend, "random") == 0) {
        g_string_append(o, "rng-random");
        prop(o, "id", obj);
        prop(o, "filename", rng->backend_path ? rng->backend_path : "/dev/urandom");
    } else if (strcmp(backend, "builtin") == 0) {
        g_string_append(o, "rng-builtin");
        prop(o, "id", obj);
    } else {
        return unsupported(error, _("rng backend '%s' is not supported yet"), backend);
    }
    add(b, "-object", o->str);
    if (!(s = device_new(b, "virtio-rng-pci", id, error)))
        return FALSE;
    prop(s, "rng", obj);
    prop(s, "max-bytes", rng->rate_bytes);
    prop(s, "period", rng->rate_bytes ? rng->rate_period : NULL);
    device_add(b, s);
    return TRUE;
}

/* Devices virtd does not model yet: refuse rather than start a VM without them. */
static gboolean
qemu_command_check_unsupported(const DomainDef *def, GError **error)
{
    const struct {
        const PtrVec *list;
        const char *what;
    } kinds[] = {
        { &def->devices.filesystems, "filesystem" }, { &def->devices.smartcards, "smartcard" },
        { &def->devices.parallels, "parallel" },     { &def->devices.tpms, "tpm" },
        { &def->devices.hostdevs, "hostdev" },       { &def->devices.panics, "panic" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        if (kinds[i].list->len > 0)
            return unsupported(error, _("<%s> devices are not supported yet"), kinds[i].what);
    }
    return TRUE;
}

static gboolean
qemu_command_add_redirdevs(QemuCommandBuilder *b, GError **error)
{
    const PtrVec *list = &b->def->devices.redirdevs;

    for (guint i = 0; i < list->len; i++) {
        const XmlTree *redir = ptr_vec_index(list, i);
        g_autofree char *alias = g_strdup_printf("redir%u", i);
        g_autofree char *chardev = g_strconcat("char", alias, NULL);
        DomainChrDef chr = { .kind = DOMAIN_CHR_LAST, .type = (char *)"spicevmc" };
        GString *s;

        if (g_strcmp0(xml_tree_get_attr(redir, "type"), "spicevmc") != 0 ||
            g_strcmp0(xml_tree_get_attr(redir, "bus"), "usb") != 0)
            return unsupported(error, _("USB redirection of type '%s' is not supported yet"),
                               xml_tree_get_attr(redir, "type"));
        if (!qemu_command_add_chardev(b, &chr, alias, error))
            return FALSE;
        if (!(s = device_new(b, "usb-redir", alias, error)))
            return FALSE;
        prop(s, "chardev", chardev);
        device_add(b, s);
    }
    return TRUE;
}

/* ---- the whole command line -------------------------------------------------------- */

static gboolean
qemu_command_add_devices(QemuCommandBuilder *b, GError **error)
{
    const DomainDevices *dev = &b->def->devices;
    unsigned int node = 1;

    if (!qemu_command_check_unsupported(b->def, error))
        return FALSE;
    for (guint i = 0; i < dev->controllers.len; i++) {
        if (!qemu_command_add_controller(b, ptr_vec_index(&dev->controllers, i), error))
            return FALSE;
    }
    for (guint i = 0; i < dev->disks.len; i++) {
        if (!qemu_command_add_disk(b, ptr_vec_index(&dev->disks, i), i, &node, error))
            return FALSE;
    }
    for (guint i = 0; i < dev->nets.len; i++) {
        if (!qemu_command_add_net(b, ptr_vec_index(&dev->nets, i), i, error))
            return FALSE;
    }
    for (guint i = 0; i < dev->serials.len; i++) {
        if (!qemu_command_add_serial(b, ptr_vec_index(&dev->serials, i), i, error))
            return FALSE;
    }
    for (guint i = 0; i < dev->consoles.len; i++) {
        if (!qemu_command_add_console(b, ptr_vec_index(&dev->consoles, i), i, error))
            return FALSE;
    }
    for (guint i = 0; i < dev->channels.len; i++) {
        if (!qemu_command_add_channel(b, ptr_vec_index(&dev->channels, i), i, error))
            return FALSE;
    }
    for (guint i = 0; i < dev->inputs.len; i++) {
        if (!qemu_command_add_input(b, ptr_vec_index(&dev->inputs, i), i, error))
            return FALSE;
    }
    if (!qemu_command_add_audiodev(b, error) || !qemu_command_add_graphics(b, error))
        return FALSE;
    for (guint i = 0; i < dev->videos.len; i++) {
        if (!qemu_command_add_video(b, ptr_vec_index(&dev->videos, i), i, error))
            return FALSE;
    }
    for (guint i = 0; i < dev->sounds.len; i++) {
        if (!qemu_command_add_sound(b, ptr_vec_index(&dev->sounds, i), i, error))
            return FALSE;
    }
    for (guint i = 0; i < dev->watchdogs.len; i++) {
        if (!qemu_command_add_watchdog(b, ptr_vec_index(&dev->watchdogs, i), i, error))
            return FALSE;
    }
    if (!qemu_command_add_redirdevs(b, error) || !qemu_command_add_memballoon(b, error))
        return FALSE;
    for (guint i = 0; i < dev->rngs.len; i++) {
        if (!qemu_command_add_rng(b, ptr_vec_index(&dev->rngs, i), i, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
qemu_command_build_all(QemuCommandBuilder *b, GError **error)
{
    const DomainDef *def = b->def;
    g_autoptr(GString) name = g_string_new("guest=");

    add(b, def->devices.emulator ? def->devices.emulator : qemu_caps_get_binary(b->caps),
        NULL);
    append_escaped(name, def->name);
    g_string_append(name, ",debug-threads=on");
    add(b, "-name", name->str);
    add(b, "-S", NULL);
    if (!qemu_command_add_machine(b, error) || !qemu_command_add_cpu(b, error) ||
        !qemu_command_add_memory(b, error) || !qemu_command_add_smp(b, error) ||
        !qemu_command_add_iothreads(b, error) || !qemu_command_add_numa(b, error))
        return FALSE;
    qemu_command_add_uuid(b);
    add(b, "-no-user-config", NULL);
    add(b, "-nodefaults", NULL);
    {
        g_autoptr(GString) mon = g_string_new("socket,id=charmonitor");

        prop(mon, "path", b->ctx->monitor_path);
        g_string_append(mon, ",server=on,wait=off");
        add(b, "-chardev", mon->str);
    }
    add(b, "-mon", "chardev=charmonitor,id=monitor,mode=control");
    if (!qemu_command_add_clock(b, error))
        return FALSE;
    qemu_command_add_lifecycle(b);
    qemu_command_assign_boot_order(b);
    if (!qemu_command_add_boot(b, error) || !qemu_command_add_devices(b, error))
        return FALSE;
    add(b, "-msg", "timestamp=on");
    return TRUE;
}

GStrv
qemu_command_build(const DomainDef *def, const QemuCaps *caps, const QemuCommandContext *ctx,
                   GError **error)
{
    QemuCommandBuilder b = { .def = def, .caps = caps, .ctx = ctx };
    GStrv argv;

    g_return_val_if_fail(def && caps && ctx && ctx->monitor_path, NULL);
    b.argv = g_ptr_array_new_with_free_func(g_free);
    if (!qemu_command_build_all(&b, error)) {
        builder_clear(&b);
        return NULL;
    }
    g_ptr_array_add(b.argv, NULL);
    argv = (GStrv)g_ptr_array_free(b.argv, FALSE);
    b.argv = NULL;
    builder_clear(&b);
    return argv;
}

/* @arg as is when it only holds characters a shell leaves alone, else quoted. */
static char *
shell_word(const char *arg)
{
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789-_=,./:@+%[]";

    if (*arg && strspn(arg, safe) == strlen(arg))
        return g_strdup(arg);
    return g_shell_quote(arg);
}

char *
qemu_command_format(const char *const *argv)
{
    static const char *const flags[] = { "-S", "-no-user-config", "-nodefaults",
                                         "-no-shutdown", "-no-reboot", NULL };
    GString *s = g_string_new(NULL);
    gboolean value_next = FALSE;

    for (guint i = 0; argv && argv[i]; i++) {
        g_autofree char *word = shell_word(argv[i]);

        /* each option starts a line; the value of an option stays beside it */
        if (i > 0)
            g_string_append(s, value_next ? " " : " \\\n");
        g_string_append(s, word);
        value_next = i > 0 && !value_next && !g_strv_contains(flags, argv[i]);
    }
    g_string_append_c(s, '\n');
    return g_string_free(s, FALSE);
}

char *
qemu_command_disk_node(const DomainDef *def, guint index)
{
    unsigned int node = 1;
    for (guint i = 0; i < index; i++) {
        const DomainDiskDef *d = ptr_vec_index(&def->devices.disks, i);
        if (d->source)
            node++;
    }
    return g_strdup_printf("libvirt-%u-format", node);
}
