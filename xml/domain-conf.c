/* Domain XML: parse, fill defaults, format, in the shape libvirtd 9.0's QEMU driver uses.
 *
 * The parser reads a libxml2 tree into DomainDef (domain-conf-priv.h), then
 * domain_def_post_parse() fills what libvirtd would (uuid, MACs, implicit controllers,
 * inputs, video, memballoon, ...) and domain_def_check() rejects inconsistent
 * definitions. domain_def_format() writes the element order libvirt writes. We do not
 * assign PCI or drive addresses: given addresses are kept, none are invented.
 */
#include "xml/domain-conf-priv.h"

#include <string.h>
#include <uuid/uuid.h>
#include <libxml/parser.h>

#include "daemon/util/virt-error.h"

#define DOMAIN_DEFAULT_EMULATOR "/usr/bin/qemu-system-x86_64"
#define DOMAIN_NAME_MAX 255

/* ---- string tables ---------------------------------------------------------------- */

static const char *const virt_type_names[DOMAIN_VIRT_LAST] = { "qemu", "kvm" };
static const char *const lifecycle_names[DOMAIN_LIFECYCLE_LAST] = {
    "destroy", "restart", "rename-restart", "preserve", "coredump-destroy",
    "coredump-restart",
};
static const char *const disk_type_names[DOMAIN_DISK_TYPE_LAST] = { "file", "block" };
static const char *const disk_device_names[DOMAIN_DISK_DEVICE_LAST] = {
    "disk", "cdrom", "floppy", "lun",
};
static const char *const disk_bus_names[DOMAIN_DISK_BUS_LAST] = {
    "ide", "fdc", "scsi", "virtio", "usb", "sata",
};
static const char *const iotune_names[DOMAIN_IOTUNE_LAST] = {
    "total_bytes_sec", "read_bytes_sec", "write_bytes_sec",
    "total_iops_sec", "read_iops_sec", "write_iops_sec",
    "total_bytes_sec_max", "read_bytes_sec_max", "write_bytes_sec_max",
    "total_iops_sec_max", "read_iops_sec_max", "write_iops_sec_max",
    "size_iops_sec", "group_name",
    "total_bytes_sec_max_length", "read_bytes_sec_max_length",
    "write_bytes_sec_max_length", "total_iops_sec_max_length",
    "read_iops_sec_max_length", "write_iops_sec_max_length",
};
static const char *const cputune_names[DOMAIN_CPUTUNE_LAST] = {
    "shares", "period", "quota", "global_period", "global_quota",
    "emulator_period", "emulator_quota", "iothread_period", "iothread_quota",
};
static const char *const memtune_names[DOMAIN_MEMTUNE_LAST] = {
    "hard_limit", "soft_limit", "min_guarantee", "swap_hard_limit",
};
static const char *const blkio_dev_names[DOMAIN_BLKIO_DEV_LAST] = {
    "weight", "read_iops_sec", "write_iops_sec", "read_bytes_sec", "write_bytes_sec",
};
static const char *const feature_names[DOMAIN_FEATURE_LAST] = {
    "acpi", "apic", "pae", "hap", "viridian", "privnet", "hyperv", "kvm",
    "pvspinlock", "pmu", "vmport", "smm", "ioapic", "vmcoreinfo",
};
static const char *const cpu_mode_names[DOMAIN_CPU_MODE_LAST] = {
    "custom", "host-model", "host-passthrough", "maximum",
};

/* Virt types libvirt knows that the QEMU driver does not run. */
static const char *const foreign_virt_types[] = {
    "xen", "lxc", "uml", "openvz", "test", "vmware", "hyperv", "vbox", "phyp",
    "parallels", "bhyve", "vz", "kqemu", "kvm-hvf", "hvf", NULL,
};

static int
table_lookup(const char *const *table, int n, const char *str)
{
    for (int i = 0; str && i < n; i++) {
        if (strcmp(table[i], str) == 0)
            return i;
    }
    return -1;
}

const char *
domain_virt_type_to_string(DomainVirtType type)
{
    return (unsigned)type < DOMAIN_VIRT_LAST ? virt_type_names[type] : NULL;
}

int
domain_virt_type_from_string(const char *str)
{
    return table_lookup(virt_type_names, DOMAIN_VIRT_LAST, str);
}

const char *
domain_lifecycle_to_string(DomainLifecycleAction action)
{
    return (unsigned)action < DOMAIN_LIFECYCLE_LAST ? lifecycle_names[action] : NULL;
}

int
domain_lifecycle_from_string(const char *str)
{
    return table_lookup(lifecycle_names, DOMAIN_LIFECYCLE_LAST, str);
}

const char *
domain_disk_bus_to_string(DomainDiskBus bus)
{
    return (unsigned)bus < DOMAIN_DISK_BUS_LAST ? disk_bus_names[bus] : NULL;
}

int
domain_disk_bus_from_string(const char *str)
{
    return table_lookup(disk_bus_names, DOMAIN_DISK_BUS_LAST, str);
}

int
domain_disk_target_index(const char *dev)
{
    static const char *const prefixes[] = { "fd", "hd", "vd", "sd", "xvd", "ubd", NULL };
    const char *p = NULL;
    int idx = 0;

    for (int i = 0; prefixes[i]; i++) {
        if (g_str_has_prefix(dev, prefixes[i])) {
            p = dev + strlen(prefixes[i]);
            break;
        }
    }
    if (!p || !*p)
        return -1;
    /* bijective base 26: a=0 ... z=25, aa=26 */
    for (; *p; p++) {
        if (*p < 'a' || *p > 'z' || idx > 1000000)
            return -1;
        idx = idx * 26 + (*p - 'a' + 1);
    }
    return idx - 1;
}

/* ---- errors ------------------------------------------------------------------------ */

static gboolean G_GNUC_PRINTF(3, 4)
fail(GError **error, int code, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    virt_error_set(error, VIR_FROM_DOMAIN, code, "%s", msg);
    return FALSE;
}

static gboolean
fail_value(GError **error, xmlNode *node, const char *attr, const char *value)
{
    if (attr)
        return fail(error, VIR_ERR_XML_ERROR,
                    _("invalid value '%s' of attribute '%s' of element '%s' at line %ld"),
                    value, attr, (const char *)node->name, xmlGetLineNo(node));
    return fail(error, VIR_ERR_XML_ERROR, _("invalid value '%s' of element '%s' at line %ld"),
                value, (const char *)node->name, xmlGetLineNo(node));
}

static gboolean
fail_missing(GError **error, xmlNode *node, const char *attr)
{
    return fail(error, VIR_ERR_XML_ERROR,
                _("missing attribute '%s' of element '%s' at line %ld"),
                attr, (const char *)node->name, xmlGetLineNo(node));
}

/* ---- small parsers ----------------------------------------------------------------- */

static gboolean
str_to_u64(const char *str, guint64 *ret)
{
    char *end = NULL;
    guint64 v;

    if (!str || !g_ascii_isdigit(*str))
        return FALSE;
    errno = 0;
    v = g_ascii_strtoull(str, &end, 10);
    if (errno != 0 || *end != '\0')
        return FALSE;
    *ret = v;
    return TRUE;
}

static gboolean
str_to_s64(const char *str, gint64 *ret)
{
    char *end = NULL;
    gint64 v;

    if (!str || !(*str == '-' || g_ascii_isdigit(*str)))
        return FALSE;
    errno = 0;
    v = g_ascii_strtoll(str, &end, 10);
    if (errno != 0 || *end != '\0')
        return FALSE;
    *ret = v;
    return TRUE;
}

/* Read attribute @attr of @node as an unsigned int; absent leaves *ret alone. */
static gboolean
prop_uint(xmlNode *node, const char *attr, unsigned int *ret, GError **error)
{
    g_autofree char *str = xml_prop(node, attr);
    guint64 v;

    if (!str)
        return TRUE;
    if (!str_to_u64(str, &v) || v > G_MAXUINT)
        return fail_value(error, node, attr, str);
    *ret = v;
    return TRUE;
}

/* Read attribute @attr of @node which must be one of @allowed (NULL-terminated). */
static gboolean
prop_enum(xmlNode *node, const char *attr, const char *const *allowed, char **ret,
          GError **error)
{
    g_autofree char *str = xml_prop(node, attr);

    if (!str)
        return TRUE;
    if (!g_strv_contains(allowed, str))
        return fail_value(error, node, attr, str);
    g_free(*ret);
    *ret = g_steal_pointer(&str);
    return TRUE;
}

static const char *const yes_no[] = { "yes", "no", NULL };
static const char *const on_off[] = { "on", "off", NULL };

/* Text of @node as a decimal number kept as a string (signed when @is_signed). */
static gboolean
text_number(xmlNode *node, gboolean is_signed, char **ret, GError **error)
{
    g_autofree char *str = xml_text(node);
    g_autofree char *stripped = g_strstrip(g_strdup(str));
    guint64 u;
    gint64 s;

    if (is_signed ? !str_to_s64(stripped, &s) : !str_to_u64(stripped, &u))
        return fail_value(error, node, NULL, str);
    g_free(*ret);
    *ret = is_signed ? g_strdup_printf("%" G_GINT64_FORMAT, s)
                     : g_strdup_printf("%" G_GUINT64_FORMAT, u);
    return TRUE;
}

/* Scale @value by @unit (libvirt's unit names) into KiB, rounding bytes up. */
static gboolean
scale_to_kib(guint64 value, const char *unit, guint64 *ret)
{
    guint64 base, scale = 1;
    int power;

    if (!unit || !*unit || g_ascii_strcasecmp(unit, "k") == 0 ||
        g_ascii_strcasecmp(unit, "KiB") == 0) {
        *ret = value;
        return TRUE;
    }
    if (g_ascii_strcasecmp(unit, "b") == 0 || g_ascii_strcasecmp(unit, "bytes") == 0) {
        *ret = value / 1024 + (value % 1024 ? 1 : 0);
        return TRUE;
    }
    switch (g_ascii_tolower(unit[0])) {
    case 'k': power = 1; break;
    case 'm': power = 2; break;
    case 'g': power = 3; break;
    case 't': power = 4; break;
    case 'p': power = 5; break;
    case 'e': power = 6; break;
    default: return FALSE;
    }
    if (unit[1] == '\0' || g_ascii_strcasecmp(unit + 1, "iB") == 0)
        base = 1024;
    else if (g_ascii_strcasecmp(unit + 1, "B") == 0)
        base = 1000;
    else
        return FALSE;
    for (int i = 0; i < power; i++) {
        if (scale > G_MAXUINT64 / base)
            return FALSE;
        scale *= base;
    }
    if (value != 0 && scale > G_MAXUINT64 / value)
        return FALSE;
    value *= scale;
    *ret = value / 1024 + (value % 1024 ? 1 : 0);
    return TRUE;
}

/* A memory size: text of @node (or its attribute @attr) with optional 'unit'. */
static gboolean
parse_memory(xmlNode *node, const char *attr, guint64 *ret_kib, GError **error)
{
    g_autofree char *text = attr ? xml_prop(node, attr) : xml_text(node);
    g_autofree char *unit = xml_prop(node, "unit");
    guint64 value;

    if (text)
        g_strstrip(text);
    if (!text || !str_to_u64(text, &value))
        return fail(error, VIR_ERR_XML_ERROR,
                    _("invalid memory size '%s' in element '%s' at line %ld"),
                    text ? text : "", (const char *)node->name, xmlGetLineNo(node));
    if (!scale_to_kib(value, unit, ret_kib))
        return fail(error, VIR_ERR_XML_ERROR,
                    _("unknown memory unit '%s' in element '%s' at line %ld"),
                    unit, (const char *)node->name, xmlGetLineNo(node));
    return TRUE;
}

static gboolean
parse_mac(const char *str, unsigned char mac[6])
{
    unsigned int b[6];
    char tail;

    if (!str || strlen(str) != 17)
        return FALSE;
    if (sscanf(str, "%2x:%2x:%2x:%2x:%2x:%2x%c",
               &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
        return FALSE;
    for (int i = 0; i < 6; i++) {
        if (!g_ascii_isxdigit(str[i * 3]) || !g_ascii_isxdigit(str[i * 3 + 1]))
            return FALSE;
        mac[i] = b[i];
    }
    return TRUE;
}

static gboolean
prop_boot_order(xmlNode *node, unsigned int *ret, GError **error)
{
    xmlNode *boot = xml_child(node, "boot");
    g_autofree char *order = NULL;
    guint64 v;

    if (!boot)
        return TRUE;
    order = xml_prop(boot, "order");
    if (!order)
        return fail_missing(error, boot, "order");
    if (!str_to_u64(order, &v) || v == 0 || v > G_MAXINT)
        return fail_value(error, boot, "order", order);
    *ret = v;
    return TRUE;
}

static gboolean
parse_address(xmlNode *node, DomainAddress *addr, GError **error)
{
    static const char *const pci_attrs[] = { "domain", "bus", "slot", "function" };
    static const unsigned int pci_max[] = { 0xffff, 0xff, 0x1f, 7 };
    static const char *const pci_fmt[] = { "0x%04x", "0x%02x", "0x%02x", "0x%x" };
    xmlNode *anode = xml_child(node, "address");
    g_autofree char *type = NULL;
    XmlTree *tree;

    if (!anode)
        return TRUE;
    type = xml_prop(anode, "type");
    if (!type)
        return fail_missing(error, anode, "type");
    if (strcmp(type, "pci") != 0) {
        addr->tree = xml_tree_new_from_node(anode);
        return TRUE;
    }
    tree = xml_tree_new("address");
    xml_tree_add_attr(tree, "type", "pci");
    for (int i = 0; i < 4; i++) {
        g_autofree char *val = xml_prop(anode, pci_attrs[i]);
        char *end = NULL;
        guint64 v = 0;

        if (val) {
            errno = 0;
            v = g_ascii_strtoull(val, &end, 0);
            if (errno || !*val || *end || v > pci_max[i]) {
                xml_tree_free(tree);
                return fail_value(error, anode, pci_attrs[i], val);
            }
        }
        ptr_vec_add(&tree->attrs, g_strdup(pci_attrs[i]));
        ptr_vec_add(&tree->attrs, g_strdup_printf(pci_fmt[i], (unsigned int)v));
    }
    {
        g_autofree char *multi = xml_prop(anode, "multifunction");

        if (multi)
            xml_tree_add_attr(tree, "multifunction", multi);
    }
    addr->tree = tree;
    return TRUE;
}

/* ---- free -------------------------------------------------------------------------- */

static void
address_clear(DomainAddress *addr)
{
    g_clear_pointer(&addr->tree, xml_tree_free);
}

static void
disk_free(DomainDiskDef *disk)
{
    if (!disk)
        return;
    g_free(disk->driver_name);
    g_free(disk->driver_type);
    g_free(disk->driver_cache);
    g_free(disk->driver_io);
    g_free(disk->driver_discard);
    g_free(disk->driver_detect_zeroes);
    g_free(disk->source);
    g_free(disk->source_startup_policy);
    g_free(disk->target_dev);
    g_free(disk->target_tray);
    for (int i = 0; i < DOMAIN_IOTUNE_LAST; i++)
        g_free(disk->iotune[i]);
    g_free(disk->serial);
    g_free(disk->wwn);
    address_clear(&disk->address);
    g_free(disk);
}

static void
controller_free(DomainControllerDef *ctrl)
{
    if (!ctrl)
        return;
    g_free(ctrl->type);
    g_free(ctrl->model);
    g_free(ctrl->ports);
    g_free(ctrl->vectors);
    g_free(ctrl->master_startport);
    xml_tree_vec_clear(&ctrl->extra);
    address_clear(&ctrl->address);
    g_free(ctrl);
}

static void
net_free(DomainNetDef *net)
{
    if (!net)
        return;
    g_free(net->type);
    g_free(net->source_network);
    g_free(net->source_bridge);
    g_free(net->source_dev);
    g_free(net->source_mode);
    g_free(net->source_portgroup);
    xml_tree_free(net->virtualport);
    g_free(net->target_dev);
    g_free(net->model);
    xml_tree_free(net->driver);
    g_free(net->link_state);
    g_free(net->mtu);
    xml_tree_free(net->filterref);
    address_clear(&net->address);
    g_free(net);
}

static void
chr_free(DomainChrDef *chr)
{
    if (!chr)
        return;
    g_free(chr->type);
    g_free(chr->source_path);
    g_free(chr->source_mode);
    g_free(chr->source_host);
    g_free(chr->source_service);
    g_free(chr->source_channel);
    g_free(chr->source_append);
    g_free(chr->protocol);
    g_free(chr->target_type);
    g_free(chr->target_name);
    g_free(chr->target_model);
    address_clear(&chr->address);
    g_free(chr);
}

static void
listen_free(DomainGraphicsListen *listen)
{
    if (!listen)
        return;
    g_free(listen->type);
    g_free(listen->address);
    g_free(listen->network);
    g_free(listen->socket);
    g_free(listen);
}

static void
graphics_free(DomainGraphicsDef *gfx)
{
    if (!gfx)
        return;
    g_free(gfx->type);
    g_free(gfx->websocket);
    g_free(gfx->keymap);
    g_free(gfx->share_policy);
    g_free(gfx->default_mode);
    g_free(gfx->passwd);
    g_free(gfx->passwd_valid_to);
    g_free(gfx->connected);
    ptr_vec_clear(&gfx->listens, (GDestroyNotify)listen_free);
    xml_tree_vec_clear(&gfx->extra);
    g_free(gfx);
}

static void
video_free(DomainVideoDef *video)
{
    if (!video)
        return;
    g_free(video->model);
    g_free(video->ram);
    g_free(video->vram);
    g_free(video->vram64);
    g_free(video->vgamem);
    g_free(video->heads);
    xml_tree_free(video->acceleration);
    xml_tree_free(video->driver);
    address_clear(&video->address);
    g_free(video);
}

static void
input_free(DomainInputDef *input)
{
    if (!input)
        return;
    g_free(input->type);
    g_free(input->bus);
    xml_tree_vec_clear(&input->extra);
    address_clear(&input->address);
    g_free(input);
}

static void
sound_free(DomainSoundDef *sound)
{
    if (!sound)
        return;
    g_free(sound->model);
    xml_tree_vec_clear(&sound->extra);
    address_clear(&sound->address);
    g_free(sound);
}

static void
memballoon_free(DomainMemballoonDef *mb)
{
    if (!mb)
        return;
    g_free(mb->model);
    g_free(mb->autodeflate);
    g_free(mb->free_page_reporting);
    g_free(mb->stats_period);
    address_clear(&mb->address);
    g_free(mb);
}

static void
rng_free(DomainRngDef *rng)
{
    if (!rng)
        return;
    g_free(rng->model);
    g_free(rng->rate_bytes);
    g_free(rng->rate_period);
    g_free(rng->backend_model);
    g_free(rng->backend_path);
    xml_tree_free(rng->backend);
    address_clear(&rng->address);
    g_free(rng);
}

static void
watchdog_free(DomainWatchdogDef *wd)
{
    if (!wd)
        return;
    g_free(wd->model);
    g_free(wd->action);
    address_clear(&wd->address);
    g_free(wd);
}

static void
cpu_feature_free(DomainCpuFeature *f)
{
    g_free(f->name);
    g_free(f->policy);
    g_free(f);
}

static void
numa_cell_free(DomainNumaCell *c)
{
    g_free(c->id);
    g_free(c->cpus);
    g_free(c->mem_access);
    g_free(c->discard);
    g_free(c);
}

static void
timer_free(DomainTimer *t)
{
    g_free(t->name);
    g_free(t->present);
    g_free(t->tickpolicy);
    g_free(t->track);
    g_free(t->frequency);
    g_free(t->mode);
    g_free(t);
}

static void
blkio_device_free(DomainBlkioDevice *d)
{
    g_free(d->path);
    for (int i = 0; i < DOMAIN_BLKIO_DEV_LAST; i++)
        g_free(d->fields[i]);
    g_free(d);
}

static void
pin_free(DomainPin *p)
{
    g_free(p->vcpu);
    g_free(p->cpuset);
    g_free(p);
}

static void
memnode_free(DomainMemnode *m)
{
    g_free(m->cellid);
    g_free(m->mode);
    g_free(m->nodeset);
    g_free(m);
}

static DomainDef *
domain_def_new(void)
{
    DomainDef *def = g_new0(DomainDef, 1);

    /* every list is an empty PtrVec already: nothing to allocate */
    def->on_poweroff = DOMAIN_LIFECYCLE_DESTROY;
    def->on_reboot = DOMAIN_LIFECYCLE_RESTART;
    def->on_crash = DOMAIN_LIFECYCLE_DESTROY;
    return def;
}

/** domain_def_free: free @def and everything it owns. NULL is fine. */
void
domain_def_free(DomainDef *def)
{
    DomainDevices *dev;

    if (!def)
        return;
    dev = &def->devices;
    g_free(def->name);
    g_free(def->title);
    g_free(def->description);
    if (def->metadata)
        xmlFreeDoc(def->metadata);
    g_free(def->max_memory_slots);
    xml_tree_free(def->memory_backing);
    g_free(def->iothreads);
    g_free(def->blkio_weight);
    ptr_vec_clear(&def->blkio_devices, (GDestroyNotify)blkio_device_free);
    for (int i = 0; i < DOMAIN_MEMTUNE_LAST; i++)
        g_free(def->memtune[i]);
    g_free(def->vcpu_placement);
    g_free(def->vcpu_cpuset);
    xml_tree_free(def->vcpus_elem);
    for (int i = 0; i < DOMAIN_CPUTUNE_LAST; i++)
        g_free(def->cputune[i]);
    ptr_vec_clear(&def->vcpupins, (GDestroyNotify)pin_free);
    g_free(def->emulatorpin);
    ptr_vec_clear(&def->iothreadpins, (GDestroyNotify)pin_free);
    g_free(def->numa_memory_mode);
    g_free(def->numa_memory_nodeset);
    g_free(def->numa_memory_placement);
    ptr_vec_clear(&def->numa_memnodes, (GDestroyNotify)memnode_free);
    g_free(def->resource_partition);
    g_free(def->os_type);
    g_free(def->os_arch);
    g_free(def->os_machine);
    g_free(def->os_firmware);
    g_free(def->loader);
    g_free(def->loader_readonly);
    g_free(def->loader_type);
    g_free(def->loader_secure);
    g_free(def->nvram);
    g_free(def->nvram_template);
    g_free(def->kernel);
    g_free(def->initrd);
    g_free(def->cmdline);
    g_free(def->dtb);
    ptr_vec_clear(&def->boot_devs, g_free);
    g_free(def->bootmenu_enable);
    g_free(def->bootmenu_timeout);
    ptr_vec_clear(&def->os_extra, (GDestroyNotify)xml_tree_free);
    for (int i = 0; i < DOMAIN_FEATURE_LAST; i++) {
        g_free(def->features[i]);
        xml_tree_free(def->feature_trees[i]);
    }
    g_free(def->cpu.match);
    g_free(def->cpu.check);
    g_free(def->cpu.migratable);
    g_free(def->cpu.model);
    g_free(def->cpu.model_fallback);
    g_free(def->cpu.vendor);
    ptr_vec_clear(&def->cpu.features, (GDestroyNotify)cpu_feature_free);
    ptr_vec_clear(&def->cpu.cells, (GDestroyNotify)numa_cell_free);
    g_free(def->clock_offset);
    g_free(def->clock_timezone);
    g_free(def->clock_adjustment);
    g_free(def->clock_basis);
    ptr_vec_clear(&def->timers, (GDestroyNotify)timer_free);
    g_free(def->pm_suspend_to_mem);
    g_free(def->pm_suspend_to_disk);

    g_free(dev->emulator);
    ptr_vec_clear(&dev->disks, (GDestroyNotify)disk_free);
    ptr_vec_clear(&dev->controllers, (GDestroyNotify)controller_free);
    ptr_vec_clear(&dev->filesystems, (GDestroyNotify)xml_tree_free);
    ptr_vec_clear(&dev->nets, (GDestroyNotify)net_free);
    ptr_vec_clear(&dev->smartcards, (GDestroyNotify)xml_tree_free);
    ptr_vec_clear(&dev->serials, (GDestroyNotify)chr_free);
    ptr_vec_clear(&dev->parallels, (GDestroyNotify)chr_free);
    ptr_vec_clear(&dev->consoles, (GDestroyNotify)chr_free);
    ptr_vec_clear(&dev->channels, (GDestroyNotify)chr_free);
    ptr_vec_clear(&dev->inputs, (GDestroyNotify)input_free);
    ptr_vec_clear(&dev->tpms, (GDestroyNotify)xml_tree_free);
    ptr_vec_clear(&dev->graphics, (GDestroyNotify)graphics_free);
    ptr_vec_clear(&dev->sounds, (GDestroyNotify)sound_free);
    ptr_vec_clear(&dev->audios, (GDestroyNotify)xml_tree_free);
    ptr_vec_clear(&dev->videos, (GDestroyNotify)video_free);
    ptr_vec_clear(&dev->hostdevs, (GDestroyNotify)xml_tree_free);
    ptr_vec_clear(&dev->redirdevs, (GDestroyNotify)xml_tree_free);
    ptr_vec_clear(&dev->watchdogs, (GDestroyNotify)watchdog_free);
    memballoon_free(dev->memballoon);
    ptr_vec_clear(&dev->rngs, (GDestroyNotify)rng_free);
    ptr_vec_clear(&dev->panics, (GDestroyNotify)xml_tree_free);
    g_free(def);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainDiskDef, disk_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainControllerDef, controller_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainNetDef, net_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainChrDef, chr_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainGraphicsDef, graphics_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainVideoDef, video_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainInputDef, input_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainSoundDef, sound_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainMemballoonDef, memballoon_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainRngDef, rng_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainWatchdogDef, watchdog_free)

/* ---- parse: devices ---------------------------------------------------------------- */

static void
disk_insert(PtrVec *disks, DomainDiskDef *disk)
{
    int idx = domain_disk_target_index(disk->target_dev);

    /* libvirt keeps disks of one bus sorted by target name */
    for (guint i = 0; i < disks->len; i++) {
        DomainDiskDef *other = ptr_vec_index(disks, i);

        if (other->bus == disk->bus && domain_disk_target_index(other->target_dev) > idx) {
            ptr_vec_insert(disks, i, disk);
            return;
        }
    }
    ptr_vec_add(disks, disk);
}

static gboolean
parse_disk(DomainDef *def, xmlNode *node, GError **error)
{
    static const char *const caches[] = {
        "default", "none", "writethrough", "writeback", "directsync", "unsafe", NULL,
    };
    static const char *const ios[] = { "native", "threads", "io_uring", "default", NULL };
    static const char *const discards[] = { "unmap", "ignore", "default", NULL };
    static const char *const zeroes[] = { "off", "on", "unmap", "default", NULL };
    static const char *const policies[] = { "mandatory", "requisite", "optional", NULL };
    g_autoptr(DomainDiskDef) disk = g_new0(DomainDiskDef, 1);
    g_autofree char *type = xml_prop(node, "type");
    g_autofree char *device = xml_prop(node, "device");
    g_autofree char *bus = NULL;
    xmlNode *child;
    int v;

    if (type) {
        if ((v = table_lookup(disk_type_names, DOMAIN_DISK_TYPE_LAST, type)) < 0) {
            if (g_strv_contains((const char *const[]){ "network", "dir", "volume", "nvme",
                                                       "vhostuser", NULL }, type))
                return fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
                            _("disk type '%s' is not supported"), type);
            return fail_value(error, node, "type", type);
        }
        disk->type = v;
    }
    if (device) {
        if ((v = table_lookup(disk_device_names, DOMAIN_DISK_DEVICE_LAST, device)) < 0)
            return fail_value(error, node, "device", device);
        disk->device = v;
    }
    if ((child = xml_child(node, "driver"))) {
        disk->driver_name = xml_prop(child, "name");
        disk->driver_type = xml_prop(child, "type");
        if (!prop_enum(child, "cache", caches, &disk->driver_cache, error) ||
            !prop_enum(child, "io", ios, &disk->driver_io, error) ||
            !prop_enum(child, "discard", discards, &disk->driver_discard, error) ||
            !prop_enum(child, "detect_zeroes", zeroes, &disk->driver_detect_zeroes, error))
            return FALSE;
    }
    if ((child = xml_child(node, "source"))) {
        disk->source = xml_prop(child, disk->type == DOMAIN_DISK_TYPE_FILE ? "file" : "dev");
        if (!prop_enum(child, "startupPolicy", policies, &disk->source_startup_policy, error))
            return FALSE;
    }
    if (!(child = xml_child(node, "target")))
        return fail(error, VIR_ERR_XML_ERROR, _("missing element 'target' of disk at line %ld"),
                    xmlGetLineNo(node));
    if (!(disk->target_dev = xml_prop(child, "dev")))
        return fail_missing(error, child, "dev");
    if (domain_disk_target_index(disk->target_dev) < 0)
        return fail(error, VIR_ERR_XML_ERROR, _("invalid disk target '%s' at line %ld"),
                    disk->target_dev, xmlGetLineNo(child));
    disk->target_tray = xml_prop(child, "tray");
    if ((bus = xml_prop(child, "bus"))) {
        if ((v = domain_disk_bus_from_string(bus)) < 0)
            return fail_value(error, child, "bus", bus);
        disk->bus = v;
    } else if (g_str_has_prefix(disk->target_dev, "hd")) {
        disk->bus = DOMAIN_DISK_BUS_IDE;
    } else if (g_str_has_prefix(disk->target_dev, "sd")) {
        disk->bus = DOMAIN_DISK_BUS_SCSI;
    } else if (g_str_has_prefix(disk->target_dev, "vd")) {
        disk->bus = DOMAIN_DISK_BUS_VIRTIO;
    } else if (g_str_has_prefix(disk->target_dev, "fd")) {
        disk->bus = DOMAIN_DISK_BUS_FDC;
    } else if (g_str_has_prefix(disk->target_dev, "ubd")) {
        disk->bus = DOMAIN_DISK_BUS_USB;
    } else {
        return fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("cannot infer the bus of disk target '%s'"), disk->target_dev);
    }
    if ((child = xml_child(node, "iotune"))) {
        for (int i = 0; i < DOMAIN_IOTUNE_LAST; i++) {
            xmlNode *field = xml_child(child, iotune_names[i]);

            if (!field)
                continue;
            if (i == DOMAIN_IOTUNE_GROUP_NAME)
                disk->iotune[i] = xml_text(field);
            else if (!text_number(field, FALSE, &disk->iotune[i], error))
                return FALSE;
        }
    }
    if (!prop_boot_order(node, &disk->boot_order, error))
        return FALSE;
    disk->readonly = xml_child(node, "readonly") != NULL;
    disk->shareable = xml_child(node, "shareable") != NULL;
    disk->transient = xml_child(node, "transient") != NULL;
    disk->serial = xml_child_text(node, "serial");
    disk->wwn = xml_child_text(node, "wwn");
    if (!parse_address(node, &disk->address, error))
        return FALSE;
    disk_insert(&def->devices.disks, g_steal_pointer(&disk));
    return TRUE;
}

static gboolean
parse_controller(DomainDef *def, xmlNode *node, GError **error)
{
    static const char *const types[] = {
        "ide", "fdc", "scsi", "sata", "virtio-serial", "ccid", "usb", "pci", "xenbus",
        "isa", NULL,
    };
    g_autoptr(DomainControllerDef) ctrl = g_new0(DomainControllerDef, 1);
    g_autofree char *index = xml_prop(node, "index");
    xmlNode *master = xml_child(node, "master");
    guint64 v;

    if (!(ctrl->type = xml_prop(node, "type")))
        return fail_missing(error, node, "type");
    if (!g_strv_contains(types, ctrl->type))
        return fail_value(error, node, "type", ctrl->type);
    ctrl->index = -1;
    if (index) {
        if (!str_to_u64(index, &v) || v > G_MAXINT)
            return fail_value(error, node, "index", index);
        ctrl->index = v;
    }
    ctrl->model = xml_prop(node, "model");
    ctrl->ports = xml_prop(node, "ports");
    ctrl->vectors = xml_prop(node, "vectors");
    if (master && !(ctrl->master_startport = xml_prop(master, "startport")))
        return fail_missing(error, master, "startport");
    for (xmlNode *cur = node->children; cur; cur = cur->next) {
        if (cur->type == XML_ELEMENT_NODE && !xml_is(cur, "master") && !xml_is(cur, "address") &&
            !xml_is(cur, "alias"))
            ptr_vec_add(&ctrl->extra, xml_tree_new_from_node(cur));
    }
    if (!parse_address(node, &ctrl->address, error))
        return FALSE;
    ptr_vec_add(&def->devices.controllers, g_steal_pointer(&ctrl));
    return TRUE;
}

static gboolean
parse_net(DomainDef *def, xmlNode *node, GError **error)
{
    static const char *const types[] = {
        "user", "network", "bridge", "direct", "ethernet", NULL,
    };
    g_autoptr(DomainNetDef) net = g_new0(DomainNetDef, 1);
    xmlNode *child;

    if (!(net->type = xml_prop(node, "type")))
        return fail_missing(error, node, "type");
    if (!g_strv_contains(types, net->type)) {
        if (g_strv_contains((const char *const[]){ "vhostuser", "server", "client", "mcast",
                                                   "udp", "hostdev", "vdpa", "null",
                                                   "vds", NULL }, net->type))
            return fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
                        _("interface type '%s' is not supported"), net->type);
        return fail_value(error, node, "type", net->type);
    }
    if ((child = xml_child(node, "mac"))) {
        g_autofree char *mac = xml_prop(child, "address");

        if (!mac)
            return fail_missing(error, child, "address");
        if (!parse_mac(mac, net->mac))
            return fail(error, VIR_ERR_XML_ERROR, _("invalid MAC address '%s' at line %ld"),
                        mac, xmlGetLineNo(child));
        if (net->mac[0] & 1)
            return fail(error, VIR_ERR_XML_ERROR,
                        _("MAC address '%s' is a multicast address"), mac);
    }
    if ((child = xml_child(node, "source"))) {
        net->source_network = xml_prop(child, "network");
        net->source_bridge = xml_prop(child, "bridge");
        net->source_dev = xml_prop(child, "dev");
        net->source_mode = xml_prop(child, "mode");
        net->source_portgroup = xml_prop(child, "portgroup");
    }
    if (strcmp(net->type, "network") == 0 && !net->source_network)
        return fail(error, VIR_ERR_XML_ERROR,
                    _("missing network name in <source> of interface at line %ld"),
                    xmlGetLineNo(node));
    if (strcmp(net->type, "bridge") == 0 && !net->source_bridge)
        return fail(error, VIR_ERR_XML_ERROR,
                    _("missing bridge name in <source> of interface at line %ld"),
                    xmlGetLineNo(node));
    if (strcmp(net->type, "direct") == 0 && !net->source_dev)
        return fail(error, VIR_ERR_XML_ERROR,
                    _("missing device name in <source> of interface at line %ld"),
                    xmlGetLineNo(node));
    if ((child = xml_child(node, "virtualport")))
        net->virtualport = xml_tree_new_from_node(child);
    if ((child = xml_child(node, "target")))
        net->target_dev = xml_prop(child, "dev");
    if ((child = xml_child(node, "model")))
        net->model = xml_prop(child, "type");
    if ((child = xml_child(node, "driver")))
        net->driver = xml_tree_new_from_node(child);
    if ((child = xml_child(node, "link")) &&
        !prop_enum(child, "state", (const char *const[]){ "up", "down", NULL },
                   &net->link_state, error))
        return FALSE;
    if ((child = xml_child(node, "mtu")))
        net->mtu = xml_prop(child, "size");
    if ((child = xml_child(node, "filterref")))
        net->filterref = xml_tree_new_from_node(child);
    if (!prop_boot_order(node, &net->boot_order, error) ||
        !parse_address(node, &net->address, error))
        return FALSE;
    ptr_vec_add(&def->devices.nets, g_steal_pointer(&net));
    return TRUE;
}

static gboolean
parse_chr(DomainDef *def, xmlNode *node, DomainChrKind kind, GError **error)
{
    static const char *const types[] = {
        "null", "vc", "pty", "dev", "file", "pipe", "stdio", "udp", "tcp", "unix",
        "spicevmc", "spiceport", "qemu-vdagent", "dbus", NULL,
    };
    g_autoptr(DomainChrDef) chr = g_new0(DomainChrDef, 1);
    xmlNode *child;
    PtrVec *list;

    chr->kind = kind;
    chr->target_port = -1;
    chr->type = xml_prop(node, "type");
    if (!chr->type)
        chr->type = g_strdup("pty");
    if (!g_strv_contains(types, chr->type))
        return fail_value(error, node, "type", chr->type);
    if ((child = xml_child(node, "source"))) {
        chr->source_path = xml_prop(child, "path");
        chr->source_mode = xml_prop(child, "mode");
        chr->source_host = xml_prop(child, "host");
        chr->source_service = xml_prop(child, "service");
        chr->source_channel = xml_prop(child, "channel");
        chr->source_append = xml_prop(child, "append");
    }
    if ((child = xml_child(node, "protocol")))
        chr->protocol = xml_prop(child, "type");
    if ((child = xml_child(node, "target"))) {
        g_autofree char *port = xml_prop(child, "port");
        xmlNode *model = xml_child(child, "model");
        guint64 v;

        chr->target_type = xml_prop(child, "type");
        chr->target_name = xml_prop(child, "name");
        if (port) {
            if (!str_to_u64(port, &v) || v > G_MAXINT)
                return fail_value(error, child, "port", port);
            chr->target_port = v;
        }
        if (model)
            chr->target_model = xml_prop(model, "name");
    }
    if (kind == DOMAIN_CHR_CHANNEL && !chr->target_type)
        return fail(error, VIR_ERR_XML_ERROR,
                    _("missing target type of channel at line %ld"), xmlGetLineNo(node));
    if (!parse_address(node, &chr->address, error))
        return FALSE;
    switch (kind) {
    case DOMAIN_CHR_SERIAL:
        list = xml_is(node, "parallel") ? &def->devices.parallels : &def->devices.serials;
        break;
    case DOMAIN_CHR_CONSOLE: list = &def->devices.consoles; break;
    default: list = &def->devices.channels; break;
    }
    ptr_vec_add(list, g_steal_pointer(&chr));
    return TRUE;
}

static gboolean
parse_graphics(DomainDef *def, xmlNode *node, GError **error)
{
    static const char *const types[] = {
        "vnc", "spice", "sdl", "rdp", "desktop", "egl-headless", "dbus", NULL,
    };
    static const char *const listen_types[] = { "address", "network", "socket", "none", NULL };
    g_autoptr(DomainGraphicsDef) gfx = g_new0(DomainGraphicsDef, 1);
    g_autofree char *port = NULL;
    g_autofree char *tls_port = NULL;
    g_autofree char *autoport = NULL;
    g_autofree char *listen = NULL;
    gint64 v;

    if (!(gfx->type = xml_prop(node, "type")))
        return fail_missing(error, node, "type");
    if (!g_strv_contains(types, gfx->type))
        return fail_value(error, node, "type", gfx->type);
    if ((port = xml_prop(node, "port"))) {
        if (!str_to_s64(port, &v) || v < -1 || v > 65535)
            return fail_value(error, node, "port", port);
        if (v == -1)
            gfx->autoport = TRUE;
        else
            gfx->port = v;
    }
    if ((tls_port = xml_prop(node, "tlsPort"))) {
        if (!str_to_s64(tls_port, &v) || v < -1 || v > 65535)
            return fail_value(error, node, "tlsPort", tls_port);
        if (v == -1)
            gfx->autoport = TRUE;
        else
            gfx->tls_port = v;
    }
    if ((autoport = xml_prop(node, "autoport"))) {
        if (!g_strv_contains(yes_no, autoport))
            return fail_value(error, node, "autoport", autoport);
        gfx->autoport = strcmp(autoport, "yes") == 0;
        gfx->autoport_set = TRUE;
        if (gfx->autoport)
            gfx->port = gfx->tls_port = 0;
    }
    gfx->websocket = xml_prop(node, "websocket");
    gfx->keymap = xml_prop(node, "keymap");
    gfx->share_policy = xml_prop(node, "sharePolicy");
    gfx->default_mode = xml_prop(node, "defaultMode");
    gfx->passwd = xml_prop(node, "passwd");
    gfx->passwd_valid_to = xml_prop(node, "passwdValidTo");
    gfx->connected = xml_prop(node, "connected");
    for (xmlNode *cur = node->children; cur; cur = cur->next) {
        if (cur->type != XML_ELEMENT_NODE)
            continue;
        if (xml_is(cur, "listen")) {
            DomainGraphicsListen *l = g_new0(DomainGraphicsListen, 1);

            ptr_vec_add(&gfx->listens, l);
            if (!(l->type = xml_prop(cur, "type")))
                return fail_missing(error, cur, "type");
            if (!g_strv_contains(listen_types, l->type))
                return fail_value(error, cur, "type", l->type);
            l->address = xml_prop(cur, "address");
            l->network = xml_prop(cur, "network");
            l->socket = xml_prop(cur, "socket");
        } else {
            ptr_vec_add(&gfx->extra, xml_tree_new_from_node(cur));
        }
    }
    listen = xml_prop(node, "listen");
    if (listen && gfx->listens.len == 0) {
        DomainGraphicsListen *l = g_new0(DomainGraphicsListen, 1);

        l->type = g_strdup("address");
        l->address = g_steal_pointer(&listen);
        ptr_vec_add(&gfx->listens, l);
    } else if (listen) {
        DomainGraphicsListen *first = ptr_vec_index(&gfx->listens, 0);

        if (g_strcmp0(first->type, "address") != 0 || g_strcmp0(first->address, listen) != 0)
            return fail(error, VIR_ERR_XML_ERROR,
                        _("graphics 'listen' attribute '%s' does not match the first <listen> element"),
                        listen);
    }
    ptr_vec_add(&def->devices.graphics, g_steal_pointer(&gfx));
    return TRUE;
}

static gboolean
parse_video(DomainDef *def, xmlNode *node, GError **error)
{
    static const char *const models[] = {
        "vga", "cirrus", "vmvga", "xen", "vbox", "qxl", "parallels", "virtio", "gop",
        "none", "bochs", "ramfb", NULL,
    };
    g_autoptr(DomainVideoDef) video = g_new0(DomainVideoDef, 1);
    xmlNode *model = xml_child(node, "model");
    xmlNode *child;

    if (model) {
        g_autofree char *primary = NULL;

        if (!prop_enum(model, "type", models, &video->model, error))
            return FALSE;
        video->ram = xml_prop(model, "ram");
        video->vram = xml_prop(model, "vram");
        video->vram64 = xml_prop(model, "vram64");
        video->vgamem = xml_prop(model, "vgamem");
        video->heads = xml_prop(model, "heads");
        primary = xml_prop(model, "primary");
        if (primary && !g_strv_contains(yes_no, primary))
            return fail_value(error, model, "primary", primary);
        video->primary = g_strcmp0(primary, "yes") == 0;
        if ((child = xml_child(model, "acceleration")))
            video->acceleration = xml_tree_new_from_node(child);
    }
    if ((child = xml_child(node, "driver")))
        video->driver = xml_tree_new_from_node(child);
    if (!parse_address(node, &video->address, error))
        return FALSE;
    /* the primary video goes first */
    if (video->primary)
        ptr_vec_insert(&def->devices.videos, 0, g_steal_pointer(&video));
    else
        ptr_vec_add(&def->devices.videos, g_steal_pointer(&video));
    return TRUE;
}

static gboolean
parse_input(DomainDef *def, xmlNode *node, GError **error)
{
    static const char *const types[] = {
        "mouse", "tablet", "keyboard", "passthrough", "evdev", NULL,
    };
    static const char *const buses[] = { "ps2", "usb", "xen", "parallels", "virtio", "none",
                                         NULL };
    g_autoptr(DomainInputDef) input = g_new0(DomainInputDef, 1);

    if (!(input->type = xml_prop(node, "type")))
        return fail_missing(error, node, "type");
    if (!g_strv_contains(types, input->type))
        return fail_value(error, node, "type", input->type);
    if (!prop_enum(node, "bus", buses, &input->bus, error))
        return FALSE;
    for (xmlNode *cur = node->children; cur; cur = cur->next) {
        if (cur->type == XML_ELEMENT_NODE && !xml_is(cur, "address") && !xml_is(cur, "alias"))
            ptr_vec_add(&input->extra, xml_tree_new_from_node(cur));
    }
    if (!parse_address(node, &input->address, error))
        return FALSE;
    ptr_vec_add(&def->devices.inputs, g_steal_pointer(&input));
    return TRUE;
}

static gboolean
parse_sound(DomainDef *def, xmlNode *node, GError **error)
{
    static const char *const models[] = {
        "sb16", "es1370", "pcspk", "ac97", "ich6", "ich7", "ich9", "usb", NULL,
    };
    g_autoptr(DomainSoundDef) sound = g_new0(DomainSoundDef, 1);

    if (!(sound->model = xml_prop(node, "model")))
        return fail_missing(error, node, "model");
    if (!g_strv_contains(models, sound->model))
        return fail_value(error, node, "model", sound->model);
    for (xmlNode *cur = node->children; cur; cur = cur->next) {
        if (cur->type == XML_ELEMENT_NODE && !xml_is(cur, "address") && !xml_is(cur, "alias"))
            ptr_vec_add(&sound->extra, xml_tree_new_from_node(cur));
    }
    if (!parse_address(node, &sound->address, error))
        return FALSE;
    ptr_vec_add(&def->devices.sounds, g_steal_pointer(&sound));
    return TRUE;
}

static gboolean
parse_memballoon(DomainDef *def, xmlNode *node, GError **error)
{
    static const char *const models[] = { "virtio", "xen", "none", "virtio-transitional",
                                          "virtio-non-transitional", NULL };
    g_autoptr(DomainMemballoonDef) mb = g_new0(DomainMemballoonDef, 1);
    xmlNode *stats = xml_child(node, "stats");

    if (!(mb->model = xml_prop(node, "model")))
        return fail_missing(error, node, "model");
    if (!g_strv_contains(models, mb->model))
        return fail_value(error, node, "model", mb->model);
    if (!prop_enum(node, "autodeflate", on_off, &mb->autodeflate, error) ||
        !prop_enum(node, "freePageReporting", on_off, &mb->free_page_reporting, error))
        return FALSE;
    if (stats) {
        unsigned int period = 0;

        if (!prop_uint(stats, "period", &period, error))
            return FALSE;
        mb->stats_period = g_strdup_printf("%u", period);
    }
    if (!parse_address(node, &mb->address, error))
        return FALSE;
    memballoon_free(def->devices.memballoon);
    def->devices.memballoon = g_steal_pointer(&mb);
    return TRUE;
}

static gboolean
parse_rng(DomainDef *def, xmlNode *node, GError **error)
{
    static const char *const models[] = { "virtio", "virtio-transitional",
                                          "virtio-non-transitional", NULL };
    static const char *const backends[] = { "random", "egd", "builtin", NULL };
    g_autoptr(DomainRngDef) rng = g_new0(DomainRngDef, 1);
    xmlNode *child;

    if (!(rng->model = xml_prop(node, "model")))
        return fail_missing(error, node, "model");
    if (!g_strv_contains(models, rng->model))
        return fail_value(error, node, "model", rng->model);
    if ((child = xml_child(node, "rate"))) {
        rng->rate_bytes = xml_prop(child, "bytes");
        rng->rate_period = xml_prop(child, "period");
    }
    if (!(child = xml_child(node, "backend")))
        return fail(error, VIR_ERR_XML_ERROR, _("missing element 'backend' of rng at line %ld"),
                    xmlGetLineNo(node));
    if (!(rng->backend_model = xml_prop(child, "model")))
        return fail_missing(error, child, "model");
    if (!g_strv_contains(backends, rng->backend_model))
        return fail_value(error, child, "model", rng->backend_model);
    if (strcmp(rng->backend_model, "random") == 0) {
        g_autofree char *path = xml_text(child);

        if (*g_strstrip(path))
            rng->backend_path = g_steal_pointer(&path);
    } else {
        rng->backend = xml_tree_new_from_node(child);
    }
    if (!parse_address(node, &rng->address, error))
        return FALSE;
    ptr_vec_add(&def->devices.rngs, g_steal_pointer(&rng));
    return TRUE;
}

static gboolean
parse_watchdog(DomainDef *def, xmlNode *node, GError **error)
{
    static const char *const models[] = { "i6300esb", "ib700", "diag288", "itco", NULL };
    static const char *const actions[] = { "reset", "shutdown", "poweroff", "pause", "none",
                                           "dump", "inject-nmi", NULL };
    g_autoptr(DomainWatchdogDef) wd = g_new0(DomainWatchdogDef, 1);

    if (!(wd->model = xml_prop(node, "model")))
        return fail_missing(error, node, "model");
    if (!g_strv_contains(models, wd->model))
        return fail_value(error, node, "model", wd->model);
    if (!prop_enum(node, "action", actions, &wd->action, error) ||
        !parse_address(node, &wd->address, error))
        return FALSE;
    ptr_vec_add(&def->devices.watchdogs, g_steal_pointer(&wd));
    return TRUE;
}

static gboolean
parse_devices(DomainDef *def, xmlNode *devices, GError **error)
{
    DomainDevices *dev = &def->devices;

    for (xmlNode *cur = devices->children; cur; cur = cur->next) {
        gboolean ok = TRUE;

        if (cur->type != XML_ELEMENT_NODE)
            continue;
        if (xml_is(cur, "emulator")) {
            g_free(dev->emulator);
            dev->emulator = g_strstrip(xml_text(cur));
        } else if (xml_is(cur, "disk")) {
            ok = parse_disk(def, cur, error);
        } else if (xml_is(cur, "controller")) {
            ok = parse_controller(def, cur, error);
        } else if (xml_is(cur, "interface")) {
            ok = parse_net(def, cur, error);
        } else if (xml_is(cur, "serial") || xml_is(cur, "parallel")) {
            ok = parse_chr(def, cur, DOMAIN_CHR_SERIAL, error);
        } else if (xml_is(cur, "console")) {
            ok = parse_chr(def, cur, DOMAIN_CHR_CONSOLE, error);
        } else if (xml_is(cur, "channel")) {
            ok = parse_chr(def, cur, DOMAIN_CHR_CHANNEL, error);
        } else if (xml_is(cur, "graphics")) {
            ok = parse_graphics(def, cur, error);
        } else if (xml_is(cur, "video")) {
            ok = parse_video(def, cur, error);
        } else if (xml_is(cur, "input")) {
            ok = parse_input(def, cur, error);
        } else if (xml_is(cur, "sound")) {
            ok = parse_sound(def, cur, error);
        } else if (xml_is(cur, "memballoon")) {
            ok = parse_memballoon(def, cur, error);
        } else if (xml_is(cur, "rng")) {
            ok = parse_rng(def, cur, error);
        } else if (xml_is(cur, "watchdog")) {
            ok = parse_watchdog(def, cur, error);
        } else if (xml_is(cur, "audio")) {
            ptr_vec_add(&dev->audios, xml_tree_new_from_node(cur));
        } else if (xml_is(cur, "hostdev")) {
            ptr_vec_add(&dev->hostdevs, xml_tree_new_from_node(cur));
        } else if (xml_is(cur, "redirdev")) {
            ptr_vec_add(&dev->redirdevs, xml_tree_new_from_node(cur));
        } else if (xml_is(cur, "filesystem")) {
            ptr_vec_add(&dev->filesystems, xml_tree_new_from_node(cur));
        } else if (xml_is(cur, "smartcard")) {
            ptr_vec_add(&dev->smartcards, xml_tree_new_from_node(cur));
        } else if (xml_is(cur, "tpm")) {
            ptr_vec_add(&dev->tpms, xml_tree_new_from_node(cur));
        } else if (xml_is(cur, "panic")) {
            ptr_vec_add(&dev->panics, xml_tree_new_from_node(cur));
        }
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

/* ---- parse: top level -------------------------------------------------------------- */

/** domain_name_check: see domain-conf.h. */
gboolean
domain_name_check(const char *name, GError **error)
{
    if (!name || !*name)
        return fail(error, VIR_ERR_INVALID_ARG, _("domain name must not be empty"));
    if (strlen(name) > DOMAIN_NAME_MAX)
        return fail(error, VIR_ERR_INVALID_ARG,
                    _("domain name is longer than %d bytes"), DOMAIN_NAME_MAX);
    if (!g_utf8_validate(name, -1, NULL))
        return fail(error, VIR_ERR_INVALID_ARG, _("domain name is not valid UTF-8"));
    if (strchr(name, '/'))
        return fail(error, VIR_ERR_INVALID_ARG,
                    _("domain name '%s' must not contain '/'"), name);
    for (const char *p = name; *p; p++) {
        if ((unsigned char)*p < 0x20)
            return fail(error, VIR_ERR_INVALID_ARG,
                        _("domain name must not contain control characters"));
    }
    return TRUE;
}

/* Drop whitespace-only text between elements so the copy can be re-indented. */
static void
strip_blank_text(xmlNode *node)
{
    gboolean has_elements = FALSE;
    xmlNode *cur, *next;

    for (cur = node->children; cur; cur = cur->next) {
        if (cur->type == XML_ELEMENT_NODE)
            has_elements = TRUE;
    }
    for (cur = node->children; cur; cur = next) {
        next = cur->next;
        if (cur->type == XML_ELEMENT_NODE) {
            strip_blank_text(cur);
        } else if (has_elements && cur->type == XML_TEXT_NODE && xmlIsBlankNode(cur)) {
            xmlUnlinkNode(cur);
            xmlFreeNode(cur);
        }
    }
}

/* Add a copy of element @node to the metadata document of @def, replacing an element
 * of the same namespace. */
static void
metadata_add(DomainDef *def, xmlNode *node)
{
    xmlNode *root, *copy;
    const xmlChar *href = node->ns ? node->ns->href : NULL;

    if (!def->metadata) {
        def->metadata = xmlNewDoc((const xmlChar *)"1.0");
        root = xmlNewDocNode(def->metadata, NULL, (const xmlChar *)"metadata", NULL);
        xmlDocSetRootElement(def->metadata, root);
    }
    root = xmlDocGetRootElement(def->metadata);
    if (href) {
        for (xmlNode *cur = root->children; cur; cur = cur->next) {
            if (cur->type == XML_ELEMENT_NODE && cur->ns &&
                xmlStrEqual(cur->ns->href, href)) {
                xmlUnlinkNode(cur);
                xmlFreeNode(cur);
                break;
            }
        }
    }
    copy = xmlDocCopyNode(node, def->metadata, 1);
    strip_blank_text(copy);
    xmlAddChild(root, copy);
}

static gboolean
parse_memory_section(DomainDef *def, xmlNode *root, GError **error)
{
    xmlNode *node;

    if (!(node = xml_child(root, "memory")))
        return fail(error, VIR_ERR_XML_ERROR, _("missing element 'memory'"));
    if (!parse_memory(node, NULL, &def->memory_kib, error))
        return FALSE;
    if (def->memory_kib == 0)
        return fail(error, VIR_ERR_XML_ERROR, _("memory size must be greater than zero"));
    if ((node = xml_child(root, "currentMemory")) &&
        !parse_memory(node, NULL, &def->current_memory_kib, error))
        return FALSE;
    if ((node = xml_child(root, "maxMemory"))) {
        if (!parse_memory(node, NULL, &def->max_memory_kib, error))
            return FALSE;
        def->max_memory_slots = xml_prop(node, "slots");
    }
    if ((node = xml_child(root, "memtune"))) {
        for (int i = 0; i < DOMAIN_MEMTUNE_LAST; i++) {
            xmlNode *field = xml_child(node, memtune_names[i]);
            guint64 kib;

            if (!field)
                continue;
            if (!parse_memory(field, NULL, &kib, error))
                return FALSE;
            def->memtune[i] = g_strdup_printf("%" G_GUINT64_FORMAT, kib);
        }
    }
    if ((node = xml_child(root, "memoryBacking")))
        def->memory_backing = xml_tree_new_from_node(node);
    if ((node = xml_child(root, "blkiotune"))) {
        xmlNode *weight = xml_child(node, "weight");

        if (weight && !text_number(weight, FALSE, &def->blkio_weight, error))
            return FALSE;
        for (xmlNode *cur = node->children; cur; cur = cur->next) {
            DomainBlkioDevice *bdev;

            if (!xml_is(cur, "device"))
                continue;
            bdev = g_new0(DomainBlkioDevice, 1);
            ptr_vec_add(&def->blkio_devices, bdev);
            if (!(bdev->path = xml_child_text(cur, "path")))
                return fail(error, VIR_ERR_XML_ERROR,
                            _("missing element 'path' of blkiotune device at line %ld"),
                            xmlGetLineNo(cur));
            for (int i = 0; i < DOMAIN_BLKIO_DEV_LAST; i++) {
                xmlNode *field = xml_child(cur, blkio_dev_names[i]);

                if (field && !text_number(field, FALSE, &bdev->fields[i], error))
                    return FALSE;
            }
        }
    }
    return TRUE;
}

static gboolean
parse_vcpu_section(DomainDef *def, xmlNode *root, GError **error)
{
    xmlNode *node;

    if ((node = xml_child(root, "vcpu"))) {
        g_autofree char *text = g_strstrip(xml_text(node));
        guint64 v;

        if (!str_to_u64(text, &v) || v > 16384)
            return fail(error, VIR_ERR_XML_ERROR, _("invalid vcpu count '%s' at line %ld"),
                        text, xmlGetLineNo(node));
        if (v == 0)
            return fail(error, VIR_ERR_XML_ERROR, _("vcpu count must be greater than zero"));
        def->vcpus_max = v;
        if (!prop_uint(node, "current", &def->vcpus_current, error) ||
            !prop_enum(node, "placement", (const char *const[]){ "static", "auto", NULL },
                       &def->vcpu_placement, error))
            return FALSE;
        def->vcpu_cpuset = xml_prop(node, "cpuset");
        {
            g_autofree char *current = xml_prop(node, "current");

            if (current && def->vcpus_current == 0)
                return fail(error, VIR_ERR_XML_ERROR,
                            _("current vcpu count must be greater than zero"));
        }
    }
    if ((node = xml_child(root, "vcpus")))
        def->vcpus_elem = xml_tree_new_from_node(node);
    if ((node = xml_child(root, "iothreads"))) {
        if (!text_number(node, FALSE, &def->iothreads, error))
            return FALSE;
    }
    if ((node = xml_child(root, "cputune"))) {
        def->has_cputune_elem = TRUE;
        for (int i = 0; i < DOMAIN_CPUTUNE_LAST; i++) {
            xmlNode *field = xml_child(node, cputune_names[i]);

            if (field && !text_number(field, strstr(cputune_names[i], "quota") != NULL,
                                      &def->cputune[i], error))
                return FALSE;
        }
        for (xmlNode *cur = node->children; cur; cur = cur->next) {
            gboolean vcpupin = xml_is(cur, "vcpupin");
            const char *idattr = vcpupin ? "vcpu" : "iothread";
            DomainPin *pin;

            if (xml_is(cur, "emulatorpin")) {
                g_free(def->emulatorpin);
                if (!(def->emulatorpin = xml_prop(cur, "cpuset")))
                    return fail_missing(error, cur, "cpuset");
                continue;
            }
            if (!vcpupin && !xml_is(cur, "iothreadpin"))
                continue;
            pin = g_new0(DomainPin, 1);
            ptr_vec_add(vcpupin ? &def->vcpupins : &def->iothreadpins, pin);
            if (!(pin->vcpu = xml_prop(cur, idattr)))
                return fail_missing(error, cur, idattr);
            if (!(pin->cpuset = xml_prop(cur, "cpuset")))
                return fail_missing(error, cur, "cpuset");
        }
    }
    if ((node = xml_child(root, "numatune"))) {
        xmlNode *mem = xml_child(node, "memory");

        def->has_numatune = TRUE;
        if (mem) {
            if (!prop_enum(mem, "mode",
                           (const char *const[]){ "strict", "preferred", "interleave",
                                                  "restrictive", NULL },
                           &def->numa_memory_mode, error))
                return FALSE;
            def->numa_memory_nodeset = xml_prop(mem, "nodeset");
            def->numa_memory_placement = xml_prop(mem, "placement");
        }
        for (xmlNode *cur = node->children; cur; cur = cur->next) {
            DomainMemnode *mn;

            if (!xml_is(cur, "memnode"))
                continue;
            mn = g_new0(DomainMemnode, 1);
            ptr_vec_add(&def->numa_memnodes, mn);
            mn->cellid = xml_prop(cur, "cellid");
            mn->mode = xml_prop(cur, "mode");
            mn->nodeset = xml_prop(cur, "nodeset");
        }
    }
    if ((node = xml_child(root, "resource")))
        def->resource_partition = xml_child_text(node, "partition");
    return TRUE;
}

static gboolean
parse_os(DomainDef *def, xmlNode *root, GError **error)
{
    static const char *const boot_devs[] = { "hd", "cdrom", "network", "fd", NULL };
    xmlNode *os = xml_child(root, "os");
    xmlNode *node;

    if (!os)
        return fail(error, VIR_ERR_XML_ERROR, _("missing element 'os'"));
    def->os_firmware = xml_prop(os, "firmware");
    if (!(node = xml_child(os, "type")))
        return fail(error, VIR_ERR_XML_ERROR, _("missing element 'type' of 'os'"));
    def->os_type = g_strstrip(xml_text(node));
    if (strcmp(def->os_type, "hvm") != 0) {
        if (strcmp(def->os_type, "xen") == 0 || strcmp(def->os_type, "linux") == 0 ||
            strcmp(def->os_type, "exe") == 0 || strcmp(def->os_type, "xenpvh") == 0 ||
            strcmp(def->os_type, "uml") == 0)
            return fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
                        _("os type '%s' is not supported, only 'hvm'"), def->os_type);
        return fail(error, VIR_ERR_XML_ERROR, _("unknown os type '%s'"), def->os_type);
    }
    def->os_arch = xml_prop(node, "arch");
    def->os_machine = xml_prop(node, "machine");
    if (def->os_arch && strcmp(def->os_arch, "x86_64") != 0 && strcmp(def->os_arch, "i686") != 0)
        return fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("architecture '%s' is not supported"), def->os_arch);
    if ((node = xml_child(os, "loader"))) {
        def->loader = g_strstrip(xml_text(node));
        if (!*def->loader)
            g_clear_pointer(&def->loader, g_free);
        if (!prop_enum(node, "readonly", yes_no, &def->loader_readonly, error) ||
            !prop_enum(node, "type", (const char *const[]){ "rom", "pflash", NULL },
                       &def->loader_type, error) ||
            !prop_enum(node, "secure", yes_no, &def->loader_secure, error))
            return FALSE;
    }
    if ((node = xml_child(os, "nvram"))) {
        def->nvram = g_strstrip(xml_text(node));
        def->nvram_template = xml_prop(node, "template");
    }
    def->kernel = xml_child_text(os, "kernel");
    def->initrd = xml_child_text(os, "initrd");
    def->cmdline = xml_child_text(os, "cmdline");
    def->dtb = xml_child_text(os, "dtb");
    for (xmlNode *cur = os->children; cur; cur = cur->next) {
        if (xml_is(cur, "boot")) {
            g_autofree char *dev = xml_prop(cur, "dev");

            if (!dev)
                return fail_missing(error, cur, "dev");
            if (!g_strv_contains(boot_devs, dev))
                return fail_value(error, cur, "dev", dev);
            if (def->boot_devs.len >= 4)
                return fail(error, VIR_ERR_XML_ERROR, _("too many <boot> devices in <os>"));
            ptr_vec_add(&def->boot_devs, g_steal_pointer(&dev));
        } else if (xml_is(cur, "smbios") || xml_is(cur, "bios") || xml_is(cur, "acpi") ||
                   xml_is(cur, "initarg") || xml_is(cur, "firmware")) {
            ptr_vec_add(&def->os_extra, xml_tree_new_from_node(cur));
        }
    }
    if ((node = xml_child(os, "bootmenu"))) {
        if (!prop_enum(node, "enable", yes_no, &def->bootmenu_enable, error))
            return FALSE;
        def->bootmenu_timeout = xml_prop(node, "timeout");
    }
    return TRUE;
}

static gboolean
parse_features(DomainDef *def, xmlNode *root, GError **error)
{
    xmlNode *features = xml_child(root, "features");

    if (!features)
        return TRUE;
    def->has_features = TRUE;
    for (xmlNode *cur = features->children; cur; cur = cur->next) {
        int f;

        if (cur->type != XML_ELEMENT_NODE)
            continue;
        f = table_lookup(feature_names, DOMAIN_FEATURE_LAST, (const char *)cur->name);
        if (f < 0)
            continue;
        switch (f) {
        case DOMAIN_FEATURE_HYPERV:
        case DOMAIN_FEATURE_KVM:
        case DOMAIN_FEATURE_IOAPIC:
        case DOMAIN_FEATURE_APIC:
        case DOMAIN_FEATURE_HAP:
        case DOMAIN_FEATURE_SMM:
            /* elements with attributes or children of their own: kept verbatim */
            xml_tree_free(def->feature_trees[f]);
            def->feature_trees[f] = xml_tree_new_from_node(cur);
            break;
        case DOMAIN_FEATURE_VMPORT:
        case DOMAIN_FEATURE_PVSPINLOCK:
        case DOMAIN_FEATURE_PMU:
        case DOMAIN_FEATURE_VMCOREINFO: {
            g_autofree char *state = NULL;

            if (!prop_enum(cur, "state", on_off, &state, error))
                return FALSE;
            g_free(def->features[f]);
            def->features[f] = state ? g_steal_pointer(&state) : g_strdup("");
            break;
        }
        default:
            g_free(def->features[f]);
            def->features[f] = g_strdup("");
        }
    }
    return TRUE;
}

static gboolean
parse_cpu(DomainDef *def, xmlNode *root, GError **error)
{
    static const char *const policies[] = { "force", "require", "optional", "disable",
                                            "forbid", NULL };
    xmlNode *cpu = xml_child(root, "cpu");
    xmlNode *node;
    g_autofree char *mode = NULL;

    if (!cpu)
        return TRUE;
    def->cpu.present = TRUE;
    if ((mode = xml_prop(cpu, "mode"))) {
        int m = table_lookup(cpu_mode_names, DOMAIN_CPU_MODE_LAST, mode);

        if (m < 0)
            return fail_value(error, cpu, "mode", mode);
        def->cpu.mode = m;
    }
    if (!prop_enum(cpu, "match", (const char *const[]){ "minimum", "exact", "strict", NULL },
                   &def->cpu.match, error) ||
        !prop_enum(cpu, "check", (const char *const[]){ "none", "partial", "full", NULL },
                   &def->cpu.check, error) ||
        !prop_enum(cpu, "migratable", on_off, &def->cpu.migratable, error))
        return FALSE;
    if ((node = xml_child(cpu, "model"))) {
        def->cpu.model = g_strstrip(xml_text(node));
        if (!prop_enum(node, "fallback", (const char *const[]){ "allow", "forbid", NULL },
                       &def->cpu.model_fallback, error))
            return FALSE;
    }
    def->cpu.vendor = xml_child_text(cpu, "vendor");
    if ((node = xml_child(cpu, "topology"))) {
        if (!prop_uint(node, "sockets", &def->cpu.sockets, error) ||
            !prop_uint(node, "dies", &def->cpu.dies, error) ||
            !prop_uint(node, "cores", &def->cpu.cores, error) ||
            !prop_uint(node, "threads", &def->cpu.threads, error))
            return FALSE;
        if (def->cpu.dies == 0)
            def->cpu.dies = 1;
        if (def->cpu.sockets == 0 || def->cpu.cores == 0 || def->cpu.threads == 0)
            return fail(error, VIR_ERR_XML_ERROR,
                        _("CPU topology needs sockets, cores and threads greater than zero"));
    }
    for (xmlNode *cur = cpu->children; cur; cur = cur->next) {
        DomainCpuFeature *f;

        if (!xml_is(cur, "feature"))
            continue;
        f = g_new0(DomainCpuFeature, 1);
        ptr_vec_add(&def->cpu.features, f);
        if (!(f->name = xml_prop(cur, "name")))
            return fail_missing(error, cur, "name");
        if (!prop_enum(cur, "policy", policies, &f->policy, error))
            return FALSE;
        if (!f->policy)
            f->policy = g_strdup("require");
    }
    if ((node = xml_child(cpu, "numa"))) {
        for (xmlNode *cur = node->children; cur; cur = cur->next) {
            DomainNumaCell *c;

            if (!xml_is(cur, "cell"))
                continue;
            c = g_new0(DomainNumaCell, 1);
            ptr_vec_add(&def->cpu.cells, c);
            c->id = xml_prop(cur, "id");
            c->cpus = xml_prop(cur, "cpus");
            c->mem_access = xml_prop(cur, "memAccess");
            c->discard = xml_prop(cur, "discard");
            if (!parse_memory(cur, "memory", &c->memory_kib, error))
                return FALSE;
        }
    }
    return TRUE;
}

static gboolean
parse_clock(DomainDef *def, xmlNode *root, GError **error)
{
    static const char *const offsets[] = { "utc", "localtime", "timezone", "variable",
                                           "absolute", NULL };
    xmlNode *clock = xml_child(root, "clock");

    if (!clock)
        return TRUE;
    if (!prop_enum(clock, "offset", offsets, &def->clock_offset, error))
        return FALSE;
    def->clock_timezone = xml_prop(clock, "timezone");
    def->clock_adjustment = xml_prop(clock, "adjustment");
    def->clock_basis = xml_prop(clock, "basis");
    for (xmlNode *cur = clock->children; cur; cur = cur->next) {
        DomainTimer *t;

        if (!xml_is(cur, "timer"))
            continue;
        t = g_new0(DomainTimer, 1);
        ptr_vec_add(&def->timers, t);
        if (!(t->name = xml_prop(cur, "name")))
            return fail_missing(error, cur, "name");
        if (!prop_enum(cur, "present", yes_no, &t->present, error) ||
            !prop_enum(cur, "tickpolicy",
                       (const char *const[]){ "delay", "catchup", "merge", "discard", NULL },
                       &t->tickpolicy, error))
            return FALSE;
        t->track = xml_prop(cur, "track");
        t->frequency = xml_prop(cur, "frequency");
        t->mode = xml_prop(cur, "mode");
    }
    return TRUE;
}

static gboolean
parse_lifecycle(xmlNode *root, const char *name, DomainLifecycleAction *ret,
                GError **error)
{
    xmlNode *node = xml_child(root, name);
    g_autofree char *text = NULL;
    int v;

    if (!node)
        return TRUE;
    text = g_strstrip(xml_text(node));
    if ((v = domain_lifecycle_from_string(text)) < 0)
        return fail_value(error, node, NULL, text);
    *ret = v;
    return TRUE;
}

static gboolean
parse_pm(DomainDef *def, xmlNode *root, GError **error)
{
    xmlNode *pm = xml_child(root, "pm");
    xmlNode *node;

    if (!pm)
        return TRUE;
    if ((node = xml_child(pm, "suspend-to-mem")) &&
        !prop_enum(node, "enabled", yes_no, &def->pm_suspend_to_mem, error))
        return FALSE;
    if ((node = xml_child(pm, "suspend-to-disk")) &&
        !prop_enum(node, "enabled", yes_no, &def->pm_suspend_to_disk, error))
        return FALSE;
    return TRUE;
}

static gboolean
parse_root(DomainDef *def, xmlNode *root, GError **error)
{
    g_autofree char *type = xml_prop(root, "type");
    g_autoptr(GError) name_error = NULL;
    xmlNode *node;
    int v;

    if (!type)
        return fail(error, VIR_ERR_XML_ERROR, _("missing attribute 'type' of element 'domain'"));
    if ((v = domain_virt_type_from_string(type)) < 0) {
        if (g_strv_contains(foreign_virt_types, type))
            return fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
                        _("domain type '%s' is not supported, only 'qemu' and 'kvm'"), type);
        return fail(error, VIR_ERR_XML_ERROR, _("unknown domain type '%s'"), type);
    }
    def->virt_type = v;

    if (!(node = xml_child(root, "name")))
        return fail(error, VIR_ERR_XML_ERROR, _("missing element 'name'"));
    def->name = xml_text(node);
    if (!domain_name_check(def->name, &name_error))
        return fail(error, VIR_ERR_XML_ERROR, "%s", name_error->message);

    if ((node = xml_child(root, "uuid"))) {
        g_autofree char *text = g_strstrip(xml_text(node));

        if (uuid_parse(text, def->uuid) != 0)
            return fail(error, VIR_ERR_XML_ERROR, _("invalid UUID '%s'"), text);
    } else {
        uuid_generate_random(def->uuid);
    }
    if ((node = xml_child(root, "title"))) {
        def->title = xml_text(node);
        if (strchr(def->title, '\n'))
            return fail(error, VIR_ERR_XML_ERROR, _("domain title must not contain a newline"));
    }
    def->description = xml_child_text(root, "description");
    if ((node = xml_child(root, "metadata"))) {
        for (xmlNode *cur = node->children; cur; cur = cur->next) {
            if (cur->type == XML_ELEMENT_NODE)
                metadata_add(def, cur);
        }
    }

    if (!parse_memory_section(def, root, error) ||
        !parse_vcpu_section(def, root, error) ||
        !parse_os(def, root, error) ||
        !parse_features(def, root, error) ||
        !parse_cpu(def, root, error) ||
        !parse_clock(def, root, error) ||
        !parse_lifecycle(root, "on_poweroff", &def->on_poweroff, error) ||
        !parse_lifecycle(root, "on_reboot", &def->on_reboot, error) ||
        !parse_lifecycle(root, "on_crash", &def->on_crash, error) ||
        !parse_pm(def, root, error))
        return FALSE;
    if ((node = xml_child(root, "devices")) && !parse_devices(def, node, error))
        return FALSE;
    return TRUE;
}

/* ---- defaults ------------------------------------------------------------------------ */

static gboolean
machine_is_q35(const DomainDef *def)
{
    return def->os_machine && (g_str_has_prefix(def->os_machine, "q35") ||
                               g_str_has_prefix(def->os_machine, "pc-q35"));
}

static DomainControllerDef *
controller_find(const DomainDef *def, const char *type, int index)
{
    for (guint i = 0; i < def->devices.controllers.len; i++) {
        DomainControllerDef *ctrl = ptr_vec_index(&def->devices.controllers, i);

        if (strcmp(ctrl->type, type) == 0 && (index < 0 || ctrl->index == index))
            return ctrl;
    }
    return NULL;
}

/* Insert like libvirt: after the last controller of the same type with a lower or equal
 * index, else at the end. */
static void
controller_insert(DomainDef *def, DomainControllerDef *ctrl)
{
    PtrVec *list = &def->devices.controllers;
    int pos = -1;

    for (guint i = 0; i < list->len; i++) {
        DomainControllerDef *other = ptr_vec_index(list, i);

        if (strcmp(other->type, ctrl->type) == 0 && other->index <= ctrl->index)
            pos = i + 1;
    }
    if (pos < 0)
        ptr_vec_add(list, ctrl);
    else
        ptr_vec_insert(list, pos, ctrl);
}

static void
controller_add(DomainDef *def, const char *type, int index, const char *model)
{
    DomainControllerDef *ctrl;

    if (controller_find(def, type, index))
        return;
    ctrl = g_new0(DomainControllerDef, 1);
    ctrl->type = g_strdup(type);
    ctrl->index = index;
    ctrl->model = g_strdup(model);
    controller_insert(def, ctrl);
}

static void
controllers_assign_indexes(DomainDef *def)
{
    const PtrVec *list = &def->devices.controllers;

    for (guint i = 0; i < list->len; i++) {
        DomainControllerDef *ctrl = ptr_vec_index(list, i);
        int next = 0;

        if (ctrl->index >= 0)
            continue;
        for (guint j = 0; j < list->len; j++) {
            DomainControllerDef *other = ptr_vec_index(list, j);

            if (j == i || strcmp(other->type, ctrl->type) != 0 || other->index < 0)
                continue;
            /* USB companion controllers share the index of their master */
            if (ctrl->master_startport)
                next = MAX(next, other->index);
            else if (!other->master_startport)
                next = MAX(next, other->index + 1);
        }
        ctrl->index = next;
    }
}

static gboolean
post_parse_controllers(DomainDef *def, GError **error)
{
    DomainDevices *dev = &def->devices;
    gboolean q35 = machine_is_q35(def);

    controllers_assign_indexes(def);

    /* what the QEMU driver adds for the machine type */
    if (!controller_find(def, "usb", -1))
        controller_add(def, "usb", 0, q35 ? "qemu-xhci" : "piix3-uhci");
    if (q35)
        controller_add(def, "sata", 0, NULL);
    controller_add(def, "pci", 0, q35 ? "pcie-root" : "pci-root");

    /* controllers the disks need */
    for (guint i = 0; i < dev->disks.len; i++) {
        DomainDiskDef *disk = ptr_vec_index(&dev->disks, i);
        int idx = domain_disk_target_index(disk->target_dev);

        switch (disk->bus) {
        case DOMAIN_DISK_BUS_IDE:
            if (q35)
                return fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
                            _("IDE disk '%s' is not supported on machine type '%s'"),
                            disk->target_dev, def->os_machine);
            controller_add(def, "ide", idx / 4, NULL);
            break;
        case DOMAIN_DISK_BUS_FDC:
            controller_add(def, "fdc", idx / 2, NULL);
            break;
        case DOMAIN_DISK_BUS_SCSI:
            controller_add(def, "scsi", idx / 7, NULL);
            break;
        case DOMAIN_DISK_BUS_SATA:
            controller_add(def, "sata", idx / 6, NULL);
            break;
        default:
            break;
        }
    }
    for (guint i = 0; i < dev->controllers.len; i++) {
        DomainControllerDef *ctrl = ptr_vec_index(&dev->controllers, i);

        if (strcmp(ctrl->type, "scsi") == 0 && !ctrl->model)
            ctrl->model = g_strdup("lsilogic");
    }

    /* virtio consoles and channels sit on a virtio-serial controller */
    for (guint i = 0; i < dev->channels.len + dev->consoles.len; i++) {
        DomainChrDef *chr = i < dev->channels.len
                                ? ptr_vec_index(&dev->channels, i)
                                : ptr_vec_index(&dev->consoles, i - dev->channels.len);

        if (g_strcmp0(chr->target_type, "virtio") == 0) {
            if (!controller_find(def, "virtio-serial", -1))
                controller_add(def, "virtio-serial", 0, NULL);
            break;
        }
    }
    return TRUE;
}

static void
chr_copy_source(DomainChrDef *dst, const DomainChrDef *src)
{
    g_free(dst->type);
    dst->type = g_strdup(src->type);
    g_free(dst->source_path);
    dst->source_path = g_strdup(src->source_path);
    g_free(dst->source_mode);
    dst->source_mode = g_strdup(src->source_mode);
    g_free(dst->source_host);
    dst->source_host = g_strdup(src->source_host);
    g_free(dst->source_service);
    dst->source_service = g_strdup(src->source_service);
    g_free(dst->source_channel);
    dst->source_channel = g_strdup(src->source_channel);
    g_free(dst->source_append);
    dst->source_append = g_strdup(src->source_append);
    g_free(dst->protocol);
    dst->protocol = g_strdup(src->protocol);
}

static void
post_parse_chrs(DomainDef *def)
{
    DomainDevices *dev = &def->devices;

    /* the first serial port also shows as the first console */
    if (dev->consoles.len == 0 && dev->serials.len > 0) {
        DomainChrDef *con = g_new0(DomainChrDef, 1);

        con->kind = DOMAIN_CHR_CONSOLE;
        con->target_type = g_strdup("serial");
        con->target_port = 0;
        chr_copy_source(con, ptr_vec_index(&dev->serials, 0));
        ptr_vec_add(&dev->consoles, con);
    }
    /* the first console of target type serial is the first serial port */
    if (dev->consoles.len > 0) {
        DomainChrDef *con = ptr_vec_index(&dev->consoles, 0);

        if (!con->target_type)
            con->target_type = g_strdup("serial");
        if (strcmp(con->target_type, "serial") == 0) {
            if (dev->serials.len == 0) {
                DomainChrDef *serial = g_new0(DomainChrDef, 1);

                serial->kind = DOMAIN_CHR_SERIAL;
                serial->target_port = -1;
                chr_copy_source(serial, con);
                ptr_vec_add(&dev->serials, serial);
            } else {
                chr_copy_source(con, ptr_vec_index(&dev->serials, 0));
            }
        }
    }
    for (guint i = 0; i < dev->serials.len; i++) {
        DomainChrDef *serial = ptr_vec_index(&dev->serials, i);

        if (!serial->target_type)
            serial->target_type = g_strdup("isa-serial");
        if (!serial->target_model && strcmp(serial->target_type, "isa-serial") == 0)
            serial->target_model = g_strdup("isa-serial");
        if (serial->target_port < 0) {
            int port = 0;

            for (guint j = 0; j < dev->serials.len; j++) {
                DomainChrDef *other = ptr_vec_index(&dev->serials, j);

                if (j != i && other->target_port >= port)
                    port = other->target_port + 1;
            }
            serial->target_port = port;
        }
    }
    for (guint i = 0; i < dev->parallels.len; i++) {
        DomainChrDef *par = ptr_vec_index(&dev->parallels, i);

        if (par->target_port < 0)
            par->target_port = i;
    }
    for (guint i = 0; i < dev->consoles.len; i++) {
        DomainChrDef *con = ptr_vec_index(&dev->consoles, i);

        if (!con->target_type)
            con->target_type = g_strdup("virtio");
        if (con->target_port < 0)
            con->target_port = i;
    }
}

static void
post_parse_graphics(DomainDef *def)
{
    DomainDevices *dev = &def->devices;
    gboolean has_spice = FALSE;

    for (guint i = 0; i < dev->graphics.len; i++) {
        DomainGraphicsDef *gfx = ptr_vec_index(&dev->graphics, i);
        gboolean vnc = strcmp(gfx->type, "vnc") == 0;
        gboolean spice = strcmp(gfx->type, "spice") == 0;

        has_spice |= spice;
        if (vnc && gfx->port == 0 && !gfx->autoport_set)
            gfx->autoport = TRUE;
        if ((vnc || spice) && gfx->listens.len == 0) {
            DomainGraphicsListen *l = g_new0(DomainGraphicsListen, 1);

            /* spice without any port does not listen at all */
            if (spice && gfx->port == 0 && gfx->tls_port == 0 && !gfx->autoport)
                l->type = g_strdup("none");
            else
                l->type = g_strdup("address");
            ptr_vec_add(&gfx->listens, l);
        }
    }
    if (dev->audios.len == 0) {
        XmlTree *audio = xml_tree_new("audio");

        xml_tree_add_attr(audio, "id", "1");
        xml_tree_add_attr(audio, "type", has_spice ? "spice" : "none");
        ptr_vec_add(&dev->audios, audio);
    }
}

static void
video_set_defaults(DomainVideoDef *video, gboolean primary)
{
    if (!video->model)
        video->model = g_strdup("cirrus");
    if (strcmp(video->model, "none") == 0)
        return;
    if (strcmp(video->model, "qxl") == 0) {
        if (!video->ram)
            video->ram = g_strdup("65536");
        if (!video->vram)
            video->vram = g_strdup("65536");
        if (!video->vgamem)
            video->vgamem = g_strdup("16384");
    } else if (g_strv_contains((const char *const[]){ "vga", "cirrus", "vmvga", "bochs",
                                                      NULL }, video->model)) {
        if (!video->vram)
            video->vram = g_strdup("16384");
    }
    if (!video->heads)
        video->heads = g_strdup("1");
    if (primary)
        video->primary = TRUE;
}

static void
input_add(DomainDef *def, const char *type, const char *bus)
{
    DomainInputDef *input;

    for (guint i = 0; i < def->devices.inputs.len; i++) {
        input = ptr_vec_index(&def->devices.inputs, i);
        if (strcmp(input->type, type) == 0 && g_strcmp0(input->bus, bus) == 0)
            return;
    }
    input = g_new0(DomainInputDef, 1);
    input->type = g_strdup(type);
    input->bus = g_strdup(bus);
    ptr_vec_add(&def->devices.inputs, input);
}

static void
generate_mac(unsigned char mac[6])
{
    mac[0] = 0x52;
    mac[1] = 0x54;
    mac[2] = 0x00;
    for (int i = 3; i < 6; i++)
        mac[i] = g_random_int_range(0, 256);
}

static gboolean
mac_is_zero(const unsigned char mac[6])
{
    for (int i = 0; i < 6; i++) {
        if (mac[i])
            return FALSE;
    }
    return TRUE;
}

static gboolean
domain_def_post_parse(DomainDef *def, GError **error)
{
    DomainDevices *dev = &def->devices;

    if (def->current_memory_kib == 0 || def->current_memory_kib > def->memory_kib)
        def->current_memory_kib = def->memory_kib;
    if (def->vcpus_max == 0)
        def->vcpus_max = 1;
    if (def->vcpus_current == 0)
        def->vcpus_current = def->vcpus_max;
    if (!def->vcpu_placement)
        def->vcpu_placement = g_strdup("static");

    if (!def->os_arch)
        def->os_arch = g_strdup("x86_64");
    if (!def->os_machine)
        def->os_machine = g_strdup("pc");

    if (def->cpu.present) {
        switch (def->cpu.mode) {
        case DOMAIN_CPU_MODE_CUSTOM:
            if (!def->cpu.match)
                def->cpu.match = g_strdup("exact");
            if (!def->cpu.check)
                def->cpu.check = g_strdup(def->virt_type == DOMAIN_VIRT_QEMU ? "none" : "partial");
            if (!def->cpu.model) {
                def->cpu.model = g_strdup("qemu64");
                if (!def->cpu.model_fallback)
                    def->cpu.model_fallback = g_strdup("forbid");
            }
            if (!def->cpu.model_fallback)
                def->cpu.model_fallback = g_strdup("allow");
            break;
        case DOMAIN_CPU_MODE_HOST_MODEL:
            if (!def->cpu.check)
                def->cpu.check = g_strdup("partial");
            break;
        case DOMAIN_CPU_MODE_HOST_PASSTHROUGH:
        case DOMAIN_CPU_MODE_MAXIMUM:
            if (!def->cpu.check)
                def->cpu.check = g_strdup("none");
            if (!def->cpu.migratable)
                def->cpu.migratable = g_strdup("on");
            break;
        default:
            break;
        }
    } else {
        /* the QEMU driver makes the machine type's default CPU model explicit */
        def->cpu.present = TRUE;
        def->cpu.mode = DOMAIN_CPU_MODE_CUSTOM;
        def->cpu.match = g_strdup("exact");
        def->cpu.check = g_strdup("none");
        def->cpu.model = g_strdup("qemu64");
        def->cpu.model_fallback = g_strdup("forbid");
    }
    if (!def->clock_offset)
        def->clock_offset = g_strdup("utc");

    if (!dev->emulator)
        dev->emulator = g_strdup(DOMAIN_DEFAULT_EMULATOR);

    for (guint i = 0; i < dev->disks.len; i++) {
        DomainDiskDef *disk = ptr_vec_index(&dev->disks, i);

        /* an empty removable drive has no block device behind it */
        if (!disk->source && disk->device != DOMAIN_DISK_DEVICE_DISK)
            disk->type = DOMAIN_DISK_TYPE_FILE;
        if (!disk->driver_name)
            disk->driver_name = g_strdup("qemu");
        if (!disk->driver_type)
            disk->driver_type = g_strdup("raw");
    }
    if (!post_parse_controllers(def, error))
        return FALSE;

    for (guint i = 0; i < dev->nets.len; i++) {
        DomainNetDef *net = ptr_vec_index(&dev->nets, i);

        if (mac_is_zero(net->mac))
            generate_mac(net->mac);
        if (!net->model)
            net->model = g_strdup("rtl8139");
    }
    post_parse_chrs(def);

    for (guint i = 0; i < dev->inputs.len; i++) {
        DomainInputDef *input = ptr_vec_index(&dev->inputs, i);

        if (!input->bus)
            input->bus = g_strdup(strcmp(input->type, "tablet") == 0 ? "usb" : "ps2");
    }
    input_add(def, "mouse", "ps2");
    input_add(def, "keyboard", "ps2");

    post_parse_graphics(def);
    if (dev->videos.len == 0 && dev->graphics.len > 0) {
        DomainVideoDef *video = g_new0(DomainVideoDef, 1);

        ptr_vec_add(&dev->videos, video);
    }
    for (guint i = 0; i < dev->videos.len; i++)
        video_set_defaults(ptr_vec_index(&dev->videos, i), i == 0);

    if (!dev->memballoon) {
        dev->memballoon = g_new0(DomainMemballoonDef, 1);
        dev->memballoon->model = g_strdup("virtio");
    }
    for (guint i = 0; i < dev->rngs.len; i++) {
        DomainRngDef *rng = ptr_vec_index(&dev->rngs, i);

        if (strcmp(rng->backend_model, "random") == 0 && !rng->backend_path)
            rng->backend_path = g_strdup("/dev/random");
    }
    for (guint i = 0; i < dev->watchdogs.len; i++) {
        DomainWatchdogDef *wd = ptr_vec_index(&dev->watchdogs, i);

        if (!wd->action)
            wd->action = g_strdup("reset");
    }
    /* the default boot device, unless devices carry their own boot order */
    if (def->boot_devs.len == 0) {
        gboolean per_device = FALSE;

        for (guint i = 0; i < dev->disks.len; i++)
            per_device |= ((DomainDiskDef *)ptr_vec_index(&dev->disks, i))->boot_order > 0;
        for (guint i = 0; i < dev->nets.len; i++)
            per_device |= ((DomainNetDef *)ptr_vec_index(&dev->nets, i))->boot_order > 0;
        for (guint i = 0; i < dev->hostdevs.len; i++) {
            XmlTree *hd = ptr_vec_index(&dev->hostdevs, i);

            for (guint j = 0; j < hd->children.len; j++)
                per_device |= strcmp(((XmlTree *)ptr_vec_index(&hd->children, j))->name, "boot") == 0;
        }
        if (!per_device)
            ptr_vec_add(&def->boot_devs, g_strdup("hd"));
    }
    return TRUE;
}

/* ---- consistency checks ------------------------------------------------------------ */

static gboolean
domain_def_check(const DomainDef *def, GError **error)
{
    const DomainDevices *dev = &def->devices;
    g_autoptr(GHashTable) orders = g_hash_table_new(g_direct_hash, g_direct_equal);
    gboolean per_device_boot = FALSE;

    if (def->vcpus_current > def->vcpus_max)
        return fail(error, VIR_ERR_XML_ERROR,
                    _("current vcpu count %u is greater than the maximum %u"),
                    def->vcpus_current, def->vcpus_max);
    if (def->max_memory_kib && def->max_memory_kib < def->memory_kib)
        return fail(error, VIR_ERR_XML_ERROR,
                    _("maxMemory %" G_GUINT64_FORMAT " KiB is smaller than memory %"
                      G_GUINT64_FORMAT " KiB"),
                    def->max_memory_kib, def->memory_kib);
    const char *hard = def->memtune[DOMAIN_MEMTUNE_HARD_LIMIT];
    const char *swap = def->memtune[DOMAIN_MEMTUNE_SWAP_HARD_LIMIT];
    if (hard && swap && g_ascii_strtoull(swap, NULL, 10) < g_ascii_strtoull(hard, NULL, 10))
        return fail(error, VIR_ERR_XML_ERROR,
                    _("memtune swap_hard_limit %s KiB is smaller than hard_limit %s KiB"),
                    swap, hard);
    if (def->on_poweroff == DOMAIN_LIFECYCLE_PRESERVE ||
        def->on_reboot == DOMAIN_LIFECYCLE_PRESERVE)
        return fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("action 'preserve' is not supported for on_poweroff and on_reboot"));

    for (guint i = 0; i < dev->disks.len; i++) {
        const DomainDiskDef *disk = ptr_vec_index(&dev->disks, i);

        for (guint j = 0; j < i; j++) {
            const DomainDiskDef *other = ptr_vec_index(&dev->disks, j);

            if (strcmp(disk->target_dev, other->target_dev) == 0)
                return fail(error, VIR_ERR_XML_ERROR,
                            _("disk target '%s' is used more than once"), disk->target_dev);
        }
        if (disk->boot_order) {
            if (g_hash_table_contains(orders, GUINT_TO_POINTER(disk->boot_order)))
                return fail(error, VIR_ERR_XML_ERROR, _("boot order %u is used more than once"),
                            disk->boot_order);
            g_hash_table_add(orders, GUINT_TO_POINTER(disk->boot_order));
            per_device_boot = TRUE;
        }
    }
    for (guint i = 0; i < dev->nets.len; i++) {
        const DomainNetDef *net = ptr_vec_index(&dev->nets, i);

        if (net->boot_order) {
            if (g_hash_table_contains(orders, GUINT_TO_POINTER(net->boot_order)))
                return fail(error, VIR_ERR_XML_ERROR, _("boot order %u is used more than once"),
                            net->boot_order);
            g_hash_table_add(orders, GUINT_TO_POINTER(net->boot_order));
            per_device_boot = TRUE;
        }
        for (guint j = 0; j < i; j++) {
            const DomainNetDef *other = ptr_vec_index(&dev->nets, j);

            if (memcmp(net->mac, other->mac, 6) == 0)
                return fail(error, VIR_ERR_XML_ERROR,
                            _("MAC address %02x:%02x:%02x:%02x:%02x:%02x is used more than once"),
                            net->mac[0], net->mac[1], net->mac[2], net->mac[3], net->mac[4],
                            net->mac[5]);
        }
    }
    if (per_device_boot && def->boot_devs.len > 0)
        return fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("per-device boot order cannot be combined with <boot dev> in <os>"));
    for (guint i = 0; i < dev->controllers.len; i++) {
        const DomainControllerDef *ctrl = ptr_vec_index(&dev->controllers, i);

        for (guint j = 0; j < i; j++) {
            const DomainControllerDef *other = ptr_vec_index(&dev->controllers, j);

            if (strcmp(ctrl->type, other->type) == 0 && ctrl->index == other->index &&
                !ctrl->master_startport && !other->master_startport &&
                g_strcmp0(ctrl->type, "usb") != 0)
                return fail(error, VIR_ERR_XML_ERROR,
                            _("controller '%s' index %d is defined more than once"),
                            ctrl->type, ctrl->index);
        }
    }
    return TRUE;
}

/* ---- format ------------------------------------------------------------------------ */

static void
format_address(GString *buf, const DomainAddress *addr, int indent)
{
    if (addr->tree)
        xml_tree_format(buf, addr->tree, indent);
}

/* Format each XmlTree * of @trees at @indent. */
static void
format_trees(GString *buf, const PtrVec *trees, int indent)
{
    for (guint i = 0; i < trees->len; i++)
        xml_tree_format(buf, ptr_vec_index(trees, i), indent);
}

/* Close the start tag of an element whose children are in @body: "/>" when empty. */
static void
close_element(GString *buf, const char *name, GString *body, int indent)
{
    if (body->len == 0) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    g_string_append_len(buf, body->str, body->len);
    xml_indent(buf, indent);
    g_string_append_printf(buf, "</%s>\n", name);
}

static void
format_memory(GString *buf, const DomainDef *def)
{
    if (def->max_memory_kib) {
        xml_indent(buf, 2);
        g_string_append(buf, "<maxMemory");
        xml_attr(buf, "slots", def->max_memory_slots);
        g_string_append_printf(buf, " unit='KiB'>%" G_GUINT64_FORMAT "</maxMemory>\n",
                               def->max_memory_kib);
    }
    g_string_append_printf(buf, "  <memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n",
                           def->memory_kib);
    g_string_append_printf(buf,
                           "  <currentMemory unit='KiB'>%" G_GUINT64_FORMAT "</currentMemory>\n",
                           def->current_memory_kib);
    if (def->blkio_weight || def->blkio_devices.len) {
        g_string_append(buf, "  <blkiotune>\n");
        xml_text_elem(buf, 4, "weight", def->blkio_weight);
        for (guint i = 0; i < def->blkio_devices.len; i++) {
            DomainBlkioDevice *bdev = ptr_vec_index(&def->blkio_devices, i);

            g_string_append(buf, "    <device>\n");
            xml_text_elem(buf, 6, "path", bdev->path);
            for (int j = 0; j < DOMAIN_BLKIO_DEV_LAST; j++)
                xml_text_elem(buf, 6, blkio_dev_names[j], bdev->fields[j]);
            g_string_append(buf, "    </device>\n");
        }
        g_string_append(buf, "  </blkiotune>\n");
    }
    {
        g_autoptr(GString) body = g_string_new(NULL);

        for (int i = 0; i < DOMAIN_MEMTUNE_LAST; i++) {
            if (def->memtune[i])
                g_string_append_printf(body, "    <%s unit='KiB'>%s</%s>\n", memtune_names[i],
                                       def->memtune[i], memtune_names[i]);
        }
        if (body->len)
            g_string_append_printf(buf, "  <memtune>\n%s  </memtune>\n", body->str);
    }
    if (def->memory_backing)
        xml_tree_format(buf, def->memory_backing, 2);
}

static void
format_vcpu(GString *buf, const DomainDef *def)
{
    g_autoptr(GString) body = g_string_new(NULL);

    g_string_append(buf, "  <vcpu");
    xml_attr(buf, "placement", def->vcpu_placement);
    xml_attr(buf, "cpuset", def->vcpu_cpuset);
    if (def->vcpus_current != def->vcpus_max)
        g_string_append_printf(buf, " current='%u'", def->vcpus_current);
    g_string_append_printf(buf, ">%u</vcpu>\n", def->vcpus_max);
    if (def->vcpus_elem)
        xml_tree_format(buf, def->vcpus_elem, 2);
    xml_text_elem(buf, 2, "iothreads", def->iothreads);

    for (int i = 0; i < DOMAIN_CPUTUNE_LAST; i++)
        xml_text_elem(body, 4, cputune_names[i], def->cputune[i]);
    for (guint i = 0; i < def->vcpupins.len; i++) {
        DomainPin *pin = ptr_vec_index(&def->vcpupins, i);

        g_string_append(body, "    <vcpupin");
        xml_attr(body, "vcpu", pin->vcpu);
        xml_attr(body, "cpuset", pin->cpuset);
        g_string_append(body, "/>\n");
    }
    if (def->emulatorpin) {
        g_string_append(body, "    <emulatorpin");
        xml_attr(body, "cpuset", def->emulatorpin);
        g_string_append(body, "/>\n");
    }
    for (guint i = 0; i < def->iothreadpins.len; i++) {
        DomainPin *pin = ptr_vec_index(&def->iothreadpins, i);

        g_string_append(body, "    <iothreadpin");
        xml_attr(body, "iothread", pin->vcpu);
        xml_attr(body, "cpuset", pin->cpuset);
        g_string_append(body, "/>\n");
    }
    if (body->len)
        g_string_append_printf(buf, "  <cputune>\n%s  </cputune>\n", body->str);

    if (def->numa_memory_mode || def->numa_memory_nodeset || def->numa_memory_placement ||
        def->numa_memnodes.len) {
        g_string_append(buf, "  <numatune>\n");
        if (def->numa_memory_mode || def->numa_memory_nodeset || def->numa_memory_placement) {
            g_string_append(buf, "    <memory");
            xml_attr(buf, "mode", def->numa_memory_mode ? def->numa_memory_mode : "strict");
            xml_attr(buf, "nodeset", def->numa_memory_nodeset);
            xml_attr(buf, "placement", def->numa_memory_placement);
            g_string_append(buf, "/>\n");
        }
        for (guint i = 0; i < def->numa_memnodes.len; i++) {
            DomainMemnode *mn = ptr_vec_index(&def->numa_memnodes, i);

            g_string_append(buf, "    <memnode");
            xml_attr(buf, "cellid", mn->cellid);
            xml_attr(buf, "mode", mn->mode);
            xml_attr(buf, "nodeset", mn->nodeset);
            g_string_append(buf, "/>\n");
        }
        g_string_append(buf, "  </numatune>\n");
    }
    if (def->resource_partition) {
        g_string_append(buf, "  <resource>\n");
        xml_text_elem(buf, 4, "partition", def->resource_partition);
        g_string_append(buf, "  </resource>\n");
    }
}

static void
format_os(GString *buf, const DomainDef *def)
{
    g_string_append(buf, "  <os");
    xml_attr(buf, "firmware", def->os_firmware);
    g_string_append(buf, ">\n    <type");
    xml_attr(buf, "arch", def->os_arch);
    xml_attr(buf, "machine", def->os_machine);
    g_string_append_printf(buf, ">%s</type>\n", def->os_type);
    for (guint i = 0; i < def->os_extra.len; i++) {
        XmlTree *t = ptr_vec_index(&def->os_extra, i);

        if (strcmp(t->name, "firmware") == 0)
            xml_tree_format(buf, t, 4);
    }
    if (def->loader || def->loader_readonly || def->loader_type || def->loader_secure) {
        g_string_append(buf, "    <loader");
        xml_attr(buf, "readonly", def->loader_readonly);
        xml_attr(buf, "secure", def->loader_secure);
        xml_attr(buf, "type", def->loader_type);
        if (def->loader) {
            g_string_append_c(buf, '>');
            xml_escape_append(buf, def->loader);
            g_string_append(buf, "</loader>\n");
        } else {
            g_string_append(buf, "/>\n");
        }
    }
    if (def->nvram || def->nvram_template) {
        g_string_append(buf, "    <nvram");
        xml_attr(buf, "template", def->nvram_template);
        if (def->nvram && *def->nvram) {
            g_string_append_c(buf, '>');
            xml_escape_append(buf, def->nvram);
            g_string_append(buf, "</nvram>\n");
        } else {
            g_string_append(buf, "/>\n");
        }
    }
    xml_text_elem(buf, 4, "kernel", def->kernel);
    xml_text_elem(buf, 4, "initrd", def->initrd);
    xml_text_elem(buf, 4, "cmdline", def->cmdline);
    xml_text_elem(buf, 4, "dtb", def->dtb);
    for (guint i = 0; i < def->os_extra.len; i++) {
        XmlTree *t = ptr_vec_index(&def->os_extra, i);

        if (strcmp(t->name, "acpi") == 0 || strcmp(t->name, "initarg") == 0)
            xml_tree_format(buf, t, 4);
    }
    for (guint i = 0; i < def->boot_devs.len; i++) {
        const char *dev = ptr_vec_index(&def->boot_devs, i);
        g_string_append_printf(buf, "    <boot dev='%s'/>\n", dev);
    }
    if (def->bootmenu_enable || def->bootmenu_timeout) {
        g_string_append(buf, "    <bootmenu");
        xml_attr(buf, "enable", def->bootmenu_enable);
        xml_attr(buf, "timeout", def->bootmenu_timeout);
        g_string_append(buf, "/>\n");
    }
    for (guint i = 0; i < def->os_extra.len; i++) {
        XmlTree *t = ptr_vec_index(&def->os_extra, i);

        if (strcmp(t->name, "smbios") == 0 || strcmp(t->name, "bios") == 0)
            xml_tree_format(buf, t, 4);
    }
    g_string_append(buf, "  </os>\n");
}

static void
format_features(GString *buf, const DomainDef *def)
{
    g_autoptr(GString) body = g_string_new(NULL);

    for (int i = 0; i < DOMAIN_FEATURE_LAST; i++) {
        if (def->feature_trees[i]) {
            xml_tree_format(body, def->feature_trees[i], 4);
        } else if (def->features[i]) {
            g_string_append_printf(body, "    <%s", feature_names[i]);
            if (*def->features[i])
                xml_attr(body, "state", def->features[i]);
            g_string_append(body, "/>\n");
        }
    }
    if (body->len || def->has_features) {
        g_string_append(buf, "  <features");
        close_element(buf, "features", body, 2);
    }
}

static void
format_cpu(GString *buf, const DomainDef *def)
{
    const DomainCpuDef *cpu = &def->cpu;
    g_autoptr(GString) body = g_string_new(NULL);

    if (!cpu->present)
        return;
    g_string_append(buf, "  <cpu");
    xml_attr(buf, "mode", cpu_mode_names[cpu->mode]);
    if (cpu->mode == DOMAIN_CPU_MODE_CUSTOM)
        xml_attr(buf, "match", cpu->match);
    xml_attr(buf, "check", cpu->check);
    xml_attr(buf, "migratable", cpu->migratable);
    if (cpu->model) {
        g_string_append(body, "    <model");
        xml_attr(body, "fallback", cpu->model_fallback);
        g_string_append_c(body, '>');
        xml_escape_append(body, cpu->model);
        g_string_append(body, "</model>\n");
    }
    xml_text_elem(body, 4, "vendor", cpu->vendor);
    if (cpu->sockets)
        g_string_append_printf(body,
                               "    <topology sockets='%u' dies='%u' cores='%u' threads='%u'/>\n",
                               cpu->sockets, cpu->dies, cpu->cores, cpu->threads);
    for (guint i = 0; i < cpu->features.len; i++) {
        DomainCpuFeature *f = ptr_vec_index(&cpu->features, i);

        g_string_append(body, "    <feature");
        xml_attr(body, "policy", f->policy);
        xml_attr(body, "name", f->name);
        g_string_append(body, "/>\n");
    }
    if (cpu->cells.len) {
        g_string_append(body, "    <numa>\n");
        for (guint i = 0; i < cpu->cells.len; i++) {
            DomainNumaCell *c = ptr_vec_index(&cpu->cells, i);

            g_string_append(body, "      <cell");
            xml_attr(body, "id", c->id);
            xml_attr(body, "cpus", c->cpus);
            g_string_append_printf(body, " memory='%" G_GUINT64_FORMAT "' unit='KiB'",
                                   c->memory_kib);
            xml_attr(body, "memAccess", c->mem_access);
            xml_attr(body, "discard", c->discard);
            g_string_append(body, "/>\n");
        }
        g_string_append(body, "    </numa>\n");
    }
    close_element(buf, "cpu", body, 2);
}

static void
format_clock(GString *buf, const DomainDef *def)
{
    g_autoptr(GString) body = g_string_new(NULL);

    g_string_append(buf, "  <clock");
    xml_attr(buf, "offset", def->clock_offset);
    xml_attr(buf, "timezone", def->clock_timezone);
    xml_attr(buf, "adjustment", def->clock_adjustment);
    xml_attr(buf, "basis", def->clock_basis);
    for (guint i = 0; i < def->timers.len; i++) {
        DomainTimer *t = ptr_vec_index(&def->timers, i);

        g_string_append(body, "    <timer");
        xml_attr(body, "name", t->name);
        xml_attr(body, "present", t->present);
        xml_attr(body, "tickpolicy", t->tickpolicy);
        xml_attr(body, "track", t->track);
        xml_attr(body, "frequency", t->frequency);
        xml_attr(body, "mode", t->mode);
        g_string_append(body, "/>\n");
    }
    close_element(buf, "clock", body, 2);
}

static void
format_disk(GString *buf, const DomainDiskDef *disk)
{
    g_string_append_printf(buf, "    <disk type='%s' device='%s'>\n",
                           disk_type_names[disk->type], disk_device_names[disk->device]);
    g_string_append(buf, "      <driver");
    xml_attr(buf, "name", disk->driver_name);
    xml_attr(buf, "type", disk->driver_type);
    xml_attr(buf, "cache", disk->driver_cache);
    xml_attr(buf, "io", disk->driver_io);
    xml_attr(buf, "discard", disk->driver_discard);
    xml_attr(buf, "detect_zeroes", disk->driver_detect_zeroes);
    g_string_append(buf, "/>\n");
    if (disk->source || disk->source_startup_policy) {
        g_string_append(buf, "      <source");
        xml_attr(buf, disk->type == DOMAIN_DISK_TYPE_FILE ? "file" : "dev", disk->source);
        xml_attr(buf, "startupPolicy", disk->source_startup_policy);
        g_string_append(buf, "/>\n");
    }
    g_string_append(buf, "      <target");
    xml_attr(buf, "dev", disk->target_dev);
    xml_attr(buf, "bus", disk_bus_names[disk->bus]);
    xml_attr(buf, "tray", disk->target_tray);
    g_string_append(buf, "/>\n");
    {
        g_autoptr(GString) body = g_string_new(NULL);

        for (int i = 0; i < DOMAIN_IOTUNE_LAST; i++)
            xml_text_elem(body, 8, iotune_names[i], disk->iotune[i]);
        if (body->len)
            g_string_append_printf(buf, "      <iotune>\n%s      </iotune>\n", body->str);
    }
    if (disk->boot_order)
        g_string_append_printf(buf, "      <boot order='%u'/>\n", disk->boot_order);
    if (disk->readonly)
        g_string_append(buf, "      <readonly/>\n");
    if (disk->shareable)
        g_string_append(buf, "      <shareable/>\n");
    if (disk->transient)
        g_string_append(buf, "      <transient/>\n");
    xml_text_elem(buf, 6, "serial", disk->serial);
    xml_text_elem(buf, 6, "wwn", disk->wwn);
    format_address(buf, &disk->address, 6);
    g_string_append(buf, "    </disk>\n");
}

static void
format_controller(GString *buf, const DomainControllerDef *ctrl)
{
    g_autoptr(GString) body = g_string_new(NULL);

    g_string_append(buf, "    <controller");
    xml_attr(buf, "type", ctrl->type);
    g_string_append_printf(buf, " index='%d'", ctrl->index);
    xml_attr(buf, "model", ctrl->model);
    xml_attr(buf, "ports", ctrl->ports);
    xml_attr(buf, "vectors", ctrl->vectors);
    for (guint i = 0; i < ctrl->extra.len; i++) {
        XmlTree *t = ptr_vec_index(&ctrl->extra, i);

        if (strcmp(t->name, "model") == 0 || strcmp(t->name, "driver") == 0)
            xml_tree_format(body, t, 6);
    }
    if (ctrl->master_startport) {
        g_string_append(body, "      <master");
        xml_attr(body, "startport", ctrl->master_startport);
        g_string_append(body, "/>\n");
    }
    for (guint i = 0; i < ctrl->extra.len; i++) {
        XmlTree *t = ptr_vec_index(&ctrl->extra, i);

        if (strcmp(t->name, "model") != 0 && strcmp(t->name, "driver") != 0)
            xml_tree_format(body, t, 6);
    }
    format_address(body, &ctrl->address, 6);
    close_element(buf, "controller", body, 4);
}

static void
format_net(GString *buf, const DomainNetDef *net, unsigned int flags)
{
    g_string_append_printf(buf, "    <interface type='%s'>\n", net->type);
    g_string_append_printf(buf, "      <mac address='%02x:%02x:%02x:%02x:%02x:%02x'/>\n",
                           net->mac[0], net->mac[1], net->mac[2], net->mac[3], net->mac[4],
                           net->mac[5]);
    if (net->source_network || net->source_bridge || net->source_dev) {
        g_string_append(buf, "      <source");
        xml_attr(buf, "network", net->source_network);
        xml_attr(buf, "portgroup", net->source_portgroup);
        xml_attr(buf, "bridge", net->source_bridge);
        xml_attr(buf, "dev", net->source_dev);
        xml_attr(buf, "mode", net->source_mode);
        g_string_append(buf, "/>\n");
    }
    if (net->virtualport)
        xml_tree_format(buf, net->virtualport, 6);
    /* names the daemon generates are not part of the persistent definition */
    if (net->target_dev && !((flags & DOMAIN_FORMAT_INACTIVE) &&
                             (g_str_has_prefix(net->target_dev, "vnet") ||
                              g_str_has_prefix(net->target_dev, "macvtap")))) {
        g_string_append(buf, "      <target");
        xml_attr(buf, "dev", net->target_dev);
        g_string_append(buf, "/>\n");
    }
    if (net->model) {
        g_string_append(buf, "      <model");
        xml_attr(buf, "type", net->model);
        g_string_append(buf, "/>\n");
    }
    if (net->driver)
        xml_tree_format(buf, net->driver, 6);
    if (net->filterref)
        xml_tree_format(buf, net->filterref, 6);
    if (net->link_state)
        g_string_append_printf(buf, "      <link state='%s'/>\n", net->link_state);
    if (net->mtu) {
        g_string_append(buf, "      <mtu");
        xml_attr(buf, "size", net->mtu);
        g_string_append(buf, "/>\n");
    }
    if (net->boot_order)
        g_string_append_printf(buf, "      <boot order='%u'/>\n", net->boot_order);
    format_address(buf, &net->address, 6);
    g_string_append(buf, "    </interface>\n");
}

static void
format_chr(GString *buf, const char *name, const DomainChrDef *chr, unsigned int flags)
{
    g_autoptr(GString) body = g_string_new(NULL);
    gboolean pty = strcmp(chr->type, "pty") == 0;

    g_string_append_printf(buf, "    <%s", name);
    xml_attr(buf, "type", chr->type);
    /* A running console names its pty in 'tty' too (virsh ttyconsole reads it). */
    if (pty && chr->kind == DOMAIN_CHR_CONSOLE && chr->source_path &&
        !(flags & DOMAIN_FORMAT_INACTIVE))
        xml_attr(buf, "tty", chr->source_path);
    if (pty && chr->source_path && !(flags & DOMAIN_FORMAT_INACTIVE)) {
        g_string_append(body, "      <source");
        xml_attr(body, "path", chr->source_path);
        g_string_append(body, "/>\n");
    } else if (!pty && (chr->source_path || chr->source_host || chr->source_service ||
                        chr->source_channel)) {
        g_string_append(body, "      <source");
        xml_attr(body, "mode", chr->source_mode);
        xml_attr(body, "host", chr->source_host);
        xml_attr(body, "service", chr->source_service);
        xml_attr(body, "path", chr->source_path);
        xml_attr(body, "append", chr->source_append);
        xml_attr(body, "channel", chr->source_channel);
        g_string_append(body, "/>\n");
    }
    if (chr->protocol)
        g_string_append_printf(body, "      <protocol type='%s'/>\n", chr->protocol);
    if (chr->target_type || chr->target_port >= 0 || chr->target_name) {
        g_string_append(body, "      <target");
        xml_attr(body, "type", chr->target_type);
        if (chr->kind != DOMAIN_CHR_CHANNEL && chr->target_port >= 0)
            g_string_append_printf(body, " port='%d'", chr->target_port);
        xml_attr(body, "name", chr->target_name);
        if (chr->target_model) {
            g_string_append(body, ">\n        <model");
            xml_attr(body, "name", chr->target_model);
            g_string_append(body, "/>\n      </target>\n");
        } else {
            g_string_append(body, "/>\n");
        }
    }
    format_address(body, &chr->address, 6);
    close_element(buf, name, body, 4);
}

static void
format_graphics(GString *buf, const DomainGraphicsDef *gfx, unsigned int flags)
{
    g_autoptr(GString) body = g_string_new(NULL);
    const DomainGraphicsListen *first = gfx->listens.len ? ptr_vec_index(&gfx->listens, 0) : NULL;

    g_string_append(buf, "    <graphics");
    xml_attr(buf, "type", gfx->type);
    if (strcmp(gfx->type, "vnc") == 0) {
        /* An autoport display shows its port only while running (live XML). */
        gboolean show_port = !gfx->autoport || (gfx->port > 0 && !(flags & DOMAIN_FORMAT_INACTIVE));
        g_string_append_printf(buf, " port='%d' autoport='%s'", show_port ? gfx->port : -1,
                               gfx->autoport ? "yes" : "no");
        xml_attr(buf, "websocket", gfx->websocket);
    } else if (strcmp(gfx->type, "spice") == 0) {
        if (!gfx->autoport && gfx->port)
            g_string_append_printf(buf, " port='%d'", gfx->port);
        if (!gfx->autoport && gfx->tls_port)
            g_string_append_printf(buf, " tlsPort='%d'", gfx->tls_port);
        if (gfx->autoport || gfx->port || gfx->tls_port)
            xml_attr(buf, "autoport", gfx->autoport ? "yes" : "no");
    }
    if (first && strcmp(first->type, "address") == 0)
        xml_attr(buf, "listen", first->address);
    xml_attr(buf, "defaultMode", gfx->default_mode);
    xml_attr(buf, "keymap", gfx->keymap);
    xml_attr(buf, "sharePolicy", gfx->share_policy);
    if (flags & DOMAIN_FORMAT_SECURE) {
        xml_attr(buf, "passwd", gfx->passwd);
        xml_attr(buf, "passwdValidTo", gfx->passwd_valid_to);
    }
    xml_attr(buf, "connected", gfx->connected);
    for (guint i = 0; i < gfx->listens.len; i++) {
        const DomainGraphicsListen *l = ptr_vec_index(&gfx->listens, i);

        g_string_append(body, "      <listen");
        xml_attr(body, "type", l->type);
        xml_attr(body, "address", l->address);
        xml_attr(body, "network", l->network);
        xml_attr(body, "socket", l->socket);
        g_string_append(body, "/>\n");
    }
    format_trees(body, &gfx->extra, 6);
    close_element(buf, "graphics", body, 4);
}

static void
format_video(GString *buf, const DomainVideoDef *video)
{
    g_string_append(buf, "    <video>\n");
    if (video->driver)
        xml_tree_format(buf, video->driver, 6);
    g_string_append(buf, "      <model");
    xml_attr(buf, "type", video->model);
    xml_attr(buf, "ram", video->ram);
    xml_attr(buf, "vram", video->vram);
    xml_attr(buf, "vram64", video->vram64);
    xml_attr(buf, "vgamem", video->vgamem);
    xml_attr(buf, "heads", video->heads);
    if (video->primary)
        g_string_append(buf, " primary='yes'");
    if (video->acceleration) {
        g_string_append(buf, ">\n");
        xml_tree_format(buf, video->acceleration, 8);
        g_string_append(buf, "      </model>\n");
    } else {
        g_string_append(buf, "/>\n");
    }
    format_address(buf, &video->address, 6);
    g_string_append(buf, "    </video>\n");
}

static void
format_devices(GString *buf, const DomainDef *def, unsigned int flags)
{
    const DomainDevices *dev = &def->devices;

    g_string_append(buf, "  <devices>\n");
    xml_text_elem(buf, 4, "emulator", dev->emulator);
    for (guint i = 0; i < dev->disks.len; i++)
        format_disk(buf, ptr_vec_index(&dev->disks, i));
    for (guint i = 0; i < dev->controllers.len; i++)
        format_controller(buf, ptr_vec_index(&dev->controllers, i));
    format_trees(buf, &dev->filesystems, 4);
    for (guint i = 0; i < dev->nets.len; i++)
        format_net(buf, ptr_vec_index(&dev->nets, i), flags);
    format_trees(buf, &dev->smartcards, 4);
    for (guint i = 0; i < dev->serials.len; i++)
        format_chr(buf, "serial", ptr_vec_index(&dev->serials, i), flags);
    for (guint i = 0; i < dev->parallels.len; i++)
        format_chr(buf, "parallel", ptr_vec_index(&dev->parallels, i), flags);
    for (guint i = 0; i < dev->consoles.len; i++)
        format_chr(buf, "console", ptr_vec_index(&dev->consoles, i), flags);
    for (guint i = 0; i < dev->channels.len; i++)
        format_chr(buf, "channel", ptr_vec_index(&dev->channels, i), flags);
    for (guint i = 0; i < dev->inputs.len; i++) {
        const DomainInputDef *input = ptr_vec_index(&dev->inputs, i);
        g_autoptr(GString) body = g_string_new(NULL);

        g_string_append(buf, "    <input");
        xml_attr(buf, "type", input->type);
        xml_attr(buf, "bus", input->bus);
        format_trees(body, &input->extra, 6);
        format_address(body, &input->address, 6);
        close_element(buf, "input", body, 4);
    }
    format_trees(buf, &dev->tpms, 4);
    for (guint i = 0; i < dev->graphics.len; i++)
        format_graphics(buf, ptr_vec_index(&dev->graphics, i), flags);
    for (guint i = 0; i < dev->sounds.len; i++) {
        const DomainSoundDef *sound = ptr_vec_index(&dev->sounds, i);
        g_autoptr(GString) body = g_string_new(NULL);

        g_string_append(buf, "    <sound");
        xml_attr(buf, "model", sound->model);
        format_trees(body, &sound->extra, 6);
        format_address(body, &sound->address, 6);
        close_element(buf, "sound", body, 4);
    }
    format_trees(buf, &dev->audios, 4);
    for (guint i = 0; i < dev->videos.len; i++)
        format_video(buf, ptr_vec_index(&dev->videos, i));
    format_trees(buf, &dev->hostdevs, 4);
    format_trees(buf, &dev->redirdevs, 4);
    for (guint i = 0; i < dev->watchdogs.len; i++) {
        const DomainWatchdogDef *wd = ptr_vec_index(&dev->watchdogs, i);
        g_autoptr(GString) body = g_string_new(NULL);

        g_string_append(buf, "    <watchdog");
        xml_attr(buf, "model", wd->model);
        xml_attr(buf, "action", wd->action);
        format_address(body, &wd->address, 6);
        close_element(buf, "watchdog", body, 4);
    }
    if (dev->memballoon) {
        const DomainMemballoonDef *mb = dev->memballoon;
        g_autoptr(GString) body = g_string_new(NULL);

        g_string_append(buf, "    <memballoon");
        xml_attr(buf, "model", mb->model);
        xml_attr(buf, "autodeflate", mb->autodeflate);
        xml_attr(buf, "freePageReporting", mb->free_page_reporting);
        if (mb->stats_period)
            g_string_append_printf(body, "      <stats period='%s'/>\n", mb->stats_period);
        format_address(body, &mb->address, 6);
        close_element(buf, "memballoon", body, 4);
    }
    for (guint i = 0; i < dev->rngs.len; i++) {
        const DomainRngDef *rng = ptr_vec_index(&dev->rngs, i);

        g_string_append(buf, "    <rng");
        xml_attr(buf, "model", rng->model);
        g_string_append(buf, ">\n");
        if (rng->rate_bytes) {
            g_string_append(buf, "      <rate");
            xml_attr(buf, "bytes", rng->rate_bytes);
            xml_attr(buf, "period", rng->rate_period);
            g_string_append(buf, "/>\n");
        }
        if (rng->backend) {
            xml_tree_format(buf, rng->backend, 6);
        } else {
            g_string_append(buf, "      <backend");
            xml_attr(buf, "model", rng->backend_model);
            if (rng->backend_path) {
                g_string_append_c(buf, '>');
                xml_escape_append(buf, rng->backend_path);
                g_string_append(buf, "</backend>\n");
            } else {
                g_string_append(buf, "/>\n");
            }
        }
        format_address(buf, &rng->address, 6);
        g_string_append(buf, "    </rng>\n");
    }
    format_trees(buf, &dev->panics, 4);
    g_string_append(buf, "  </devices>\n");
}

static void
format_metadata(GString *buf, const DomainDef *def)
{
    xmlNode *root;
    xmlBuffer *xbuf;

    if (!def->metadata || !(root = xmlDocGetRootElement(def->metadata)) || !root->children)
        return;
    xbuf = xmlBufferCreate();
    for (xmlNode *cur = root->children; cur; cur = cur->next) {
        if (cur->type != XML_ELEMENT_NODE)
            continue;
        xmlBufferCCat(xbuf, "    ");
        xmlNodeDump(xbuf, def->metadata, cur, 2, 1);
        xmlBufferCCat(xbuf, "\n");
    }
    g_string_append_printf(buf, "  <metadata>\n%s  </metadata>\n",
                           (const char *)xmlBufferContent(xbuf));
    xmlBufferFree(xbuf);
}

/** domain_def_format: see domain-conf.h. */
char *
domain_def_format(const DomainDef *def, int id, unsigned int flags)
{
    GString *buf = g_string_new(NULL);
    char uuid[37];

    g_string_append_printf(buf, "<domain type='%s'", virt_type_names[def->virt_type]);
    if (id >= 0 && !(flags & DOMAIN_FORMAT_INACTIVE))
        g_string_append_printf(buf, " id='%d'", id);
    g_string_append(buf, ">\n");
    xml_text_elem(buf, 2, "name", def->name);
    uuid_unparse_lower(def->uuid, uuid);
    g_string_append_printf(buf, "  <uuid>%s</uuid>\n", uuid);
    xml_text_elem(buf, 2, "title", def->title);
    xml_text_elem(buf, 2, "description", def->description);
    format_metadata(buf, def);
    format_memory(buf, def);
    format_vcpu(buf, def);
    format_os(buf, def);
    format_features(buf, def);
    format_cpu(buf, def);
    format_clock(buf, def);
    g_string_append_printf(buf, "  <on_poweroff>%s</on_poweroff>\n",
                           lifecycle_names[def->on_poweroff]);
    g_string_append_printf(buf, "  <on_reboot>%s</on_reboot>\n", lifecycle_names[def->on_reboot]);
    g_string_append_printf(buf, "  <on_crash>%s</on_crash>\n", lifecycle_names[def->on_crash]);
    if (def->pm_suspend_to_mem || def->pm_suspend_to_disk) {
        g_string_append(buf, "  <pm>\n");
        if (def->pm_suspend_to_mem)
            g_string_append_printf(buf, "    <suspend-to-mem enabled='%s'/>\n",
                                   def->pm_suspend_to_mem);
        if (def->pm_suspend_to_disk)
            g_string_append_printf(buf, "    <suspend-to-disk enabled='%s'/>\n",
                                   def->pm_suspend_to_disk);
        g_string_append(buf, "  </pm>\n");
    }
    format_devices(buf, def, flags);
    g_string_append(buf, "</domain>\n");
    return g_string_free(buf, FALSE);
}

/* ---- parse entry, copy --------------------------------------------------------------- */

/* Parse @xml into a document; VIR_FROM_XML / VIR_ERR_XML_DETAIL with libxml2's words. */
static xmlDoc *
read_xml(const char *xml, GError **error)
{
    xmlParserCtxt *ctxt = xmlNewParserCtxt();
    xmlDoc *doc;

    doc = xmlCtxtReadMemory(ctxt, xml, strlen(xml), "domain.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        const xmlError *err = xmlCtxtGetLastError(ctxt);
        g_autofree char *msg = g_strstrip(g_strdup(err && err->message ? err->message
                                                                        : "unknown error"));

        virt_error_set(error, VIR_FROM_XML, VIR_ERR_XML_DETAIL,
                       _("malformed XML at line %d: %s"), err ? err->line : 0, msg);
    }
    xmlFreeParserCtxt(ctxt);
    return doc;
}

static DomainDef *
parse_doc(xmlDoc *doc, unsigned int flags, GError **error)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    g_autoptr(DomainDef) def = NULL;

    if (!root || !xml_is(root, "domain")) {
        fail(error, VIR_ERR_XML_ERROR, _("unexpected root element '%s', expecting 'domain'"),
             root ? (const char *)root->name : "");
        return NULL;
    }
    if ((flags & DOMAIN_PARSE_VALIDATE) && !domain_schema_validate(doc, NULL, error))
        return NULL;
    def = domain_def_new();
    if (!parse_root(def, root, error) ||
        !domain_def_post_parse(def, error) ||
        !domain_def_check(def, error))
        return NULL;
    return g_steal_pointer(&def);
}

/** domain_def_parse: see domain-conf.h. */
DomainDef *
domain_def_parse(const char *xml, unsigned int flags, GError **error)
{
    xmlDoc *doc;
    DomainDef *def;

    if (!xml) {
        virt_error_set(error, VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG, _("no XML given"));
        return NULL;
    }
    if (!(doc = read_xml(xml, error)))
        return NULL;
    def = parse_doc(doc, flags, error);
    xmlFreeDoc(doc);
    return def;
}

/** domain_def_copy: a deep copy, made by formatting everything and parsing it back. */
DomainDef *
domain_def_copy(const DomainDef *def)
{
    g_autofree char *xml = domain_def_format(def, -1, DOMAIN_FORMAT_SECURE);
    g_autoptr(GError) error = NULL;
    DomainDef *copy = domain_def_parse(xml, 0, &error);

    if (!copy)
        g_error("domain_def_copy: our own output does not parse: %s", error->message);
    return copy;
}

/* ---- accessors --------------------------------------------------------------------- */

const char *
domain_def_get_name(const DomainDef *def)
{
    return def->name;
}

const unsigned char *
domain_def_get_uuid(const DomainDef *def)
{
    return def->uuid;
}

const char *
domain_def_get_os_type(const DomainDef *def)
{
    return def->os_type;
}

const char *
domain_def_get_virt_type(const DomainDef *def)
{
    return virt_type_names[def->virt_type];
}

guint64
domain_def_get_max_memory_kib(const DomainDef *def)
{
    return def->memory_kib;
}

guint64
domain_def_get_current_memory_kib(const DomainDef *def)
{
    return def->current_memory_kib;
}

unsigned int
domain_def_get_vcpus_max(const DomainDef *def)
{
    return def->vcpus_max;
}

unsigned int
domain_def_get_vcpus_current(const DomainDef *def)
{
    return def->vcpus_current;
}

const char *
domain_def_get_arch(const DomainDef *def)
{
    return def->os_arch;
}

const char *
domain_def_get_machine(const DomainDef *def)
{
    return def->os_machine;
}

/** domain_def_set_machine: see domain-conf.h. */
void
domain_def_set_machine(DomainDef *def, const char *machine)
{
    g_free(def->os_machine);
    def->os_machine = g_strdup(machine);
}

/** domain_def_set_name: replace the name (the caller checked it). */
void
domain_def_set_name(DomainDef *def, const char *name)
{
    g_free(def->name);
    def->name = g_strdup(name);
}

/** domain_def_set_max_memory_kib: see domain-conf.h. */
void
domain_def_set_max_memory_kib(DomainDef *def, guint64 kib)
{
    def->memory_kib = kib;
    if (def->current_memory_kib > kib)
        def->current_memory_kib = kib;
}

/** domain_def_set_current_memory_kib: see domain-conf.h. */
gboolean
domain_def_set_current_memory_kib(DomainDef *def, guint64 kib, GError **error)
{
    if (kib == 0)
        return fail(error, VIR_ERR_INVALID_ARG, _("memory size must be greater than zero"));
    if (kib > def->memory_kib)
        return fail(error, VIR_ERR_INVALID_ARG,
                    _("memory %" G_GUINT64_FORMAT " KiB is above the maximum %" G_GUINT64_FORMAT
                      " KiB"),
                    kib, def->memory_kib);
    def->current_memory_kib = kib;
    return TRUE;
}

/** domain_def_set_vcpus: see domain-conf.h. */
gboolean
domain_def_set_vcpus(DomainDef *def, unsigned int n, gboolean maximum, GError **error)
{
    if (n == 0)
        return fail(error, VIR_ERR_INVALID_ARG, _("vcpu count must be greater than zero"));
    if (maximum) {
        def->vcpus_max = n;
        if (def->vcpus_current > n)
            def->vcpus_current = n;
        return TRUE;
    }
    if (n > def->vcpus_max)
        return fail(error, VIR_ERR_INVALID_ARG,
                    _("vcpu count %u is above the maximum %u"), n, def->vcpus_max);
    def->vcpus_current = n;
    return TRUE;
}

/* ---- metadata ------------------------------------------------------------------------ */

static xmlNode *
metadata_find(const DomainDef *def, const char *uri)
{
    xmlNode *root;

    if (!def->metadata || !(root = xmlDocGetRootElement(def->metadata)))
        return NULL;
    for (xmlNode *cur = root->children; cur; cur = cur->next) {
        if (cur->type == XML_ELEMENT_NODE && cur->ns &&
            xmlStrEqual(cur->ns->href, (const xmlChar *)uri))
            return cur;
    }
    return NULL;
}

static void
set_ns_recursive(xmlNode *node, xmlNs *ns)
{
    for (xmlNode *cur = node; cur; cur = cur->next) {
        if (cur->type != XML_ELEMENT_NODE)
            continue;
        xmlSetNs(cur, ns);
        set_ns_recursive(cur->children, ns);
    }
}

/** domain_def_set_metadata: see domain-conf.h. */
gboolean
domain_def_set_metadata(DomainDef *def, int type, const char *metadata, const char *key,
                        const char *uri, GError **error)
{
    gboolean remove = !metadata || !*metadata;

    switch (type) {
    case VIR_DOMAIN_METADATA_TITLE:
        if (!remove && strchr(metadata, '\n'))
            return fail(error, VIR_ERR_INVALID_ARG, _("domain title must not contain a newline"));
        g_free(def->title);
        def->title = remove ? NULL : g_strdup(metadata);
        return TRUE;
    case VIR_DOMAIN_METADATA_DESCRIPTION:
        g_free(def->description);
        def->description = remove ? NULL : g_strdup(metadata);
        return TRUE;
    case VIR_DOMAIN_METADATA_ELEMENT:
        break;
    default:
        return fail(error, VIR_ERR_INVALID_ARG, _("unknown metadata type %d"), type);
    }

    if (!uri || !*uri)
        return fail(error, VIR_ERR_INVALID_ARG, _("metadata element needs a namespace URI"));
    if (metadata) {
        g_autoptr(GError) local = NULL;
        xmlDoc *doc;
        xmlNode *root;
        xmlNs *ns;

        if (!key || !*key)
            return fail(error, VIR_ERR_INVALID_ARG, _("metadata element needs a namespace key"));
        if (xmlValidateNCName((const xmlChar *)key, 0) != 0)
            return fail(error, VIR_ERR_INVALID_ARG,
                        _("metadata key '%s' is not a valid XML name"), key);
        if (!(doc = read_xml(metadata, &local)))
            return fail(error, VIR_ERR_XML_ERROR, _("invalid metadata element: %s"),
                        local->message);
        root = xmlDocGetRootElement(doc);
        ns = xmlNewNs(root, (const xmlChar *)uri, (const xmlChar *)key);
        set_ns_recursive(root, ns);
        /* metadata_add replaces the element of the same namespace */
        metadata_add(def, root);
        xmlFreeDoc(doc);
    } else {
        xmlNode *old = metadata_find(def, uri);

        if (old) {
            xmlUnlinkNode(old);
            xmlFreeNode(old);
        }
    }
    return TRUE;
}

/* Drop the namespace of @node and its descendants (and its declaration). */
static void
metadata_strip_namespace(xmlNode *node)
{
    xmlSetNs(node, NULL);
    if (node->nsDef) {
        xmlFreeNsList(node->nsDef);
        node->nsDef = NULL;
    }
    for (xmlNode *child = node->children; child; child = child->next)
        if (child->type == XML_ELEMENT_NODE)
            metadata_strip_namespace(child);
}

/** domain_def_get_metadata: see domain-conf.h. */
char *
domain_def_get_metadata(const DomainDef *def, int type, const char *uri, GError **error)
{
    xmlNode *node;
    xmlBuffer *xbuf;
    char *ret;

    switch (type) {
    case VIR_DOMAIN_METADATA_TITLE:
        if (!def->title) {
            fail(error, VIR_ERR_NO_DOMAIN_METADATA, _("domain '%s' has no title"), def->name);
            return NULL;
        }
        return g_strdup(def->title);
    case VIR_DOMAIN_METADATA_DESCRIPTION:
        if (!def->description) {
            fail(error, VIR_ERR_NO_DOMAIN_METADATA, _("domain '%s' has no description"),
                 def->name);
            return NULL;
        }
        return g_strdup(def->description);
    case VIR_DOMAIN_METADATA_ELEMENT:
        break;
    default:
        fail(error, VIR_ERR_INVALID_ARG, _("unknown metadata type %d"), type);
        return NULL;
    }
    if (!uri || !*uri) {
        fail(error, VIR_ERR_INVALID_ARG, _("metadata element needs a namespace URI"));
        return NULL;
    }
    if (!(node = metadata_find(def, uri))) {
        fail(error, VIR_ERR_NO_DOMAIN_METADATA,
             _("domain '%s' has no metadata element in namespace '%s'"), def->name, uri);
        return NULL;
    }
    /* Clients get the element as they gave it: without our prefix and namespace. */
    xmlNode *copy = xmlDocCopyNode(node, def->metadata, 1);
    metadata_strip_namespace(copy);
    xbuf = xmlBufferCreate();
    xmlNodeDump(xbuf, def->metadata, copy, 0, 1);
    ret = g_strdup((const char *)xmlBufferContent(xbuf));
    xmlBufferFree(xbuf);
    xmlFreeNode(copy);
    return ret;
}

int
domain_def_find_disk(const DomainDef *def, const char *name, GError **error)
{
    const PtrVec *disks = &def->devices.disks;
    for (guint i = 0; i < disks->len; i++) {
        const DomainDiskDef *d = ptr_vec_index(disks, i);
        if (g_strcmp0(d->target_dev, name) == 0)
            return i;
    }
    for (guint i = 0; i < disks->len; i++) {
        const DomainDiskDef *d = ptr_vec_index(disks, i);
        if (d->source && g_strcmp0(d->source, name) == 0)
            return i;
    }
    virt_error_set(error, VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG,
                   _("domain '%s' has no disk '%s'"), def->name, name);
    return -1;
}
