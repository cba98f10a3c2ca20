/* Live vCPU hot-add/hot-remove and the memory balloon: see qemu-hotplug.h. The pure
 * functions come first, then the driver calls and the start-up hook.
 *
 * Every live change holds the domain's job and drops the domain lock around each QMP
 * round trip; the live definition is updated (and the status file saved) after each vCPU
 * that really came or went, so a change that fails half-way leaves a true picture.
 */
#include "drivers/qemu/qemu-hotplug.h"

#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>

#include "daemon/util/virt-error.h"
#include "drivers/qemu/qemu-cgroup.h"
#include "drivers/qemu/qemu-driver-priv.h"
#include "drivers/qemu/qemu-stats.h"

#define QMP_TIMEOUT_MS 10000
/* How long a guest has to release an unplugged vCPU (ACPI eject). A Linux guest under
 * TCG takes well under a second; this leaves room for a loaded host. */
#define VCPU_UNPLUG_TIMEOUT_MS 10000

/* ---------------------------------------------------------------------------------- */
/* Pure core                                                                           */

static void
slot_free(gpointer data)
{
    QemuVcpuSlot *slot = data;
    g_free(slot->type);
    json_object_put(slot->props);
    g_free(slot->qom_path);
    g_free(slot);
}

/* Topology properties, outermost first: the order of vCPU numbers. */
static const char *const topology_keys[] = { "drawer-id", "book-id", "socket-id", "die-id",
                                             "cluster-id", "core-id", "thread-id" };

static gint64
prop_int(json_object *props, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(props, key, &v) ? json_object_get_int64(v) : 0;
}

static gint
slot_compare(gconstpointer a, gconstpointer b)
{
    const QemuVcpuSlot *x = *(QemuVcpuSlot *const *)a, *y = *(QemuVcpuSlot *const *)b;
    for (gsize i = 0; i < G_N_ELEMENTS(topology_keys); i++) {
        gint64 u = prop_int(x->props, topology_keys[i]), v = prop_int(y->props, topology_keys[i]);
        if (u != v)
            return u < v ? -1 : 1;
    }
    return 0;
}

static const char *
str_member(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

GPtrArray *
qemu_hotplug_parse_slots(json_object *reply, GError **error)
{
    g_autoptr(GPtrArray) slots = g_ptr_array_new_with_free_func(slot_free);
    if (!reply || !json_object_is_type(reply, json_type_array))
        goto malformed;
    for (size_t i = 0; i < json_object_array_length(reply); i++) {
        json_object *entry = json_object_array_get_idx(reply, i), *props = NULL, *count = NULL;
        const char *type = str_member(entry, "type");
        if (!type || !json_object_object_get_ex(entry, "props", &props) ||
            !json_object_is_type(props, json_type_object))
            goto malformed;
        if (json_object_object_get_ex(entry, "vcpus-count", &count) &&
            json_object_get_int(count) != 1) {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_UNSUPPORTED,
                           _("QEMU plugs the vCPUs of this machine in groups of %d, which is "
                             "not supported"),
                           json_object_get_int(count));
            return NULL;
        }
        QemuVcpuSlot *slot = g_new0(QemuVcpuSlot, 1);
        slot->type = g_strdup(type);
        slot->props = json_object_get(props);
        slot->qom_path = g_strdup(str_member(entry, "qom-path"));
        g_ptr_array_add(slots, slot);
    }
    g_ptr_array_sort(slots, slot_compare);
    for (guint i = 0; i < slots->len; i++)
        ((QemuVcpuSlot *)g_ptr_array_index(slots, i))->index = i;
    return g_steal_pointer(&slots);

malformed:
    virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                   _("QEMU gave a malformed reply to '%s'"), "query-hotpluggable-cpus");
    return NULL;
}

static const QemuVcpuSlot *
slot_at(GPtrArray *slots, guint i)
{
    return g_ptr_array_index(slots, i);
}

unsigned int
qemu_hotplug_count_plugged(GPtrArray *slots)
{
    unsigned int n = 0;
    for (guint i = 0; i < slots->len; i++)
        n += slot_at(slots, i)->qom_path != NULL;
    return n;
}

GArray *
qemu_hotplug_plan_count(GPtrArray *slots, unsigned int target, gboolean *ret_plug)
{
    GArray *plan = g_array_new(FALSE, FALSE, sizeof(guint));
    unsigned int plugged = qemu_hotplug_count_plugged(slots);
    *ret_plug = target > plugged;
    if (target > plugged) {
        for (guint i = 0; i < slots->len && plan->len < target - plugged; i++) {
            if (!slot_at(slots, i)->qom_path)
                g_array_append_val(plan, i);
        }
    } else {
        for (guint i = slots->len; i-- > 1 && plan->len < plugged - target;) {
            if (slot_at(slots, i)->qom_path)
                g_array_append_val(plan, i);
        }
    }
    return plan;
}

json_object *
qemu_hotplug_vcpu_add_args(const QemuVcpuSlot *slot, const char *id)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, "driver", json_object_new_string(slot->type));
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_foreach(slot->props, key, value)
        json_object_object_add(args, key, json_object_get(value));
    return args;
}

gboolean
qemu_hotplug_path_is_removed(const char *removing, const char *path)
{
    if (!removing || !path || !g_str_has_prefix(path, removing))
        return FALSE;
    char next = path[strlen(removing)];
    return next == '\0' || next == '/';
}

/* Set attribute @name of @tree to @value (added when absent). */
static void
tree_set_attr(XmlTree *tree, const char *name, const char *value)
{
    for (guint i = 0; i + 1 < tree->attrs.len; i += 2) {
        if (strcmp(ptr_vec_index(&tree->attrs, i), name) == 0) {
            g_free(ptr_vec_index(&tree->attrs, i + 1));
            ptr_vec_index(&tree->attrs, i + 1) = g_strdup(value);
            return;
        }
    }
    xml_tree_add_attr(tree, name, value);
}

/* The <vcpu id='@vcpu'> entry of <vcpus>, or NULL. */
static XmlTree *
vcpus_entry(DomainDef *def, unsigned int vcpu)
{
    XmlTree *vcpus = def->vcpus_elem;
    g_autofree char *id = g_strdup_printf("%u", vcpu);
    for (guint i = 0; vcpus && i < vcpus->children.len; i++) {
        XmlTree *entry = ptr_vec_index(&vcpus->children, i);
        if (g_strcmp0(entry->name, "vcpu") == 0 &&
            g_strcmp0(xml_tree_get_attr(entry, "id"), id) == 0)
            return entry;
    }
    return NULL;
}

static void
entry_set_online(XmlTree *entry, gboolean online)
{
    if (!entry)
        return;
    tree_set_attr(entry, "enabled", online ? "yes" : "no");
    if (online && g_strcmp0(xml_tree_get_attr(entry, "hotpluggable"), "no") == 0)
        tree_set_attr(entry, "hotpluggable", "yes"); /* it came through device_add */
}

void
qemu_hotplug_def_set_vcpu(DomainDef *def, unsigned int vcpu, gboolean online)
{
    if (online && def->vcpus_current < def->vcpus_max)
        def->vcpus_current++;
    else if (!online && def->vcpus_current > 1)
        def->vcpus_current--;
    entry_set_online(vcpus_entry(def, vcpu), online);
}

void
qemu_hotplug_def_sync_vcpus(DomainDef *def, GPtrArray *slots)
{
    unsigned int plugged = qemu_hotplug_count_plugged(slots);
    if (plugged >= 1 && plugged <= def->vcpus_max)
        def->vcpus_current = plugged;
    for (guint i = 0; i < slots->len; i++) {
        XmlTree *entry = vcpus_entry(def, i);
        /* Boot vCPUs keep hotpluggable='no'; only the enabled state follows QEMU. */
        if (entry)
            tree_set_attr(entry, "enabled", slot_at(slots, i)->qom_path ? "yes" : "no");
    }
}

/* ---- <vcpus> of a persistent definition ---- */

typedef struct {
    gboolean online;
    gboolean hotpluggable;
} VcpuConfig;

/* The <vcpu id='N'> entry of <vcpus> for each vCPU N of @def (NULL where none), an array
 * of <vcpu> maximum. */
static XmlTree **
vcpus_entries(const DomainDef *def)
{
    unsigned int max = def->vcpus_max;
    XmlTree **entries = g_new0(XmlTree *, max);
    for (guint i = 0; def->vcpus_elem && i < def->vcpus_elem->children.len; i++) {
        XmlTree *entry = ptr_vec_index(&def->vcpus_elem->children, i);
        const char *id = xml_tree_get_attr(entry, "id");
        guint64 n = 0;
        if (g_strcmp0(entry->name, "vcpu") == 0 && id &&
            g_ascii_string_to_unsigned(id, 10, 0, max - 1, &n, NULL))
            entries[n] = entry;
    }
    return entries;
}

/* What a <vcpus> @entry (NULL: none) says, completed the way libvirt completes it: a vCPU
 * without an entry is offline (unless @online), an online one is not hotpluggable unless
 * said so, an offline one is. */
static VcpuConfig
entry_config(const XmlTree *entry, gboolean online)
{
    VcpuConfig state = {
        .online = online || (entry && g_strcmp0(xml_tree_get_attr(entry, "enabled"), "yes") == 0),
    };
    const char *hotpluggable = entry ? xml_tree_get_attr(entry, "hotpluggable") : NULL;
    state.hotpluggable = hotpluggable ? g_strcmp0(hotpluggable, "yes") == 0 : !state.online;
    return state;
}

/* Each vCPU of @def as its <vcpus> says (entry_config); without <vcpus> the first <vcpu
 * current> vCPUs are online and not hotpluggable. vCPU 0 is online. */
static GArray *
config_vcpu_states(const DomainDef *def)
{
    unsigned int max = def->vcpus_max;
    g_autofree XmlTree **entries = vcpus_entries(def);
    GArray *states = g_array_new(FALSE, TRUE, sizeof(VcpuConfig));
    g_array_set_size(states, max);
    for (guint i = 0; i < max; i++) {
        VcpuConfig *state = &g_array_index(states, VcpuConfig, i);
        if (def->vcpus_elem)
            *state = entry_config(entries[i], i == 0);
        else
            *state = (VcpuConfig){ .online = i == 0 || i < def->vcpus_current,
                                   .hotpluggable = i != 0 && i >= def->vcpus_current };
    }
    return states;
}

/* Replace @def's <vcpus> by one entry per vCPU of @states and make <vcpu current> the
 * number online. order= is dropped, as libvirt does: it may no longer hold. */
static void
config_set_vcpu_states(DomainDef *def, GArray *states)
{
    XmlTree *vcpus = xml_tree_new("vcpus");
    unsigned int online = 0;
    for (guint i = 0; i < states->len; i++) {
        const VcpuConfig *state = &g_array_index(states, VcpuConfig, i);
        XmlTree *entry = xml_tree_new("vcpu");
        g_autofree char *id = g_strdup_printf("%u", i);
        xml_tree_add_attr(entry, "id", id);
        xml_tree_add_attr(entry, "enabled", state->online ? "yes" : "no");
        xml_tree_add_attr(entry, "hotpluggable", state->hotpluggable ? "yes" : "no");
        ptr_vec_add(&vcpus->children, entry);
        online += state->online;
    }
    xml_tree_free(def->vcpus_elem);
    def->vcpus_elem = vcpus;
    def->vcpus_current = online;
}

/* The vCPUs a virDomainSetVcpu @cpumap names, in increasing order (a GArray of guint).
 * A malformed list is the caller's argument, as libvirtd reports it: VIR_ERR_INVALID_ARG. */
static GArray *
parse_vcpu_list(const char *cpumap, GError **error)
{
    int maplen = 65536 / 8;
    g_autofree guint8 *map = g_malloc0(maplen);
    if (!qemu_stats_parse_cpuset(cpumap, map, maplen, maplen * 8, NULL)) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("'%s' is not a valid list of vCPUs"), cpumap);
        return NULL;
    }
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < (guint)maplen * 8; i++) {
        if (map[i / 8] & (1u << (i % 8)))
            g_array_append_val(ids, i);
    }
    return ids;
}

gboolean
qemu_hotplug_config_set_vcpu(DomainDef *def, const char *dom_name, const char *cpumap,
                             gboolean enable, GError **error)
{
    g_autoptr(GArray) ids = parse_vcpu_list(cpumap, error);
    if (!ids)
        return FALSE;
    if (ids->len == 0)
        return TRUE;
    unsigned int max = def->vcpus_max;
    guint first = g_array_index(ids, guint, 0), last = g_array_index(ids, guint, ids->len - 1);
    if (last >= max) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("domain '%s' has no vCPU %u in its persistent configuration: its "
                         "maximum is %u"),
                       dom_name, last, max);
        return FALSE;
    }
    if (first == 0) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("vCPU 0 of domain '%s' cannot be modified: it is always enabled"),
                       dom_name);
        return FALSE;
    }
    g_autoptr(GArray) states = config_vcpu_states(def);
    g_autofree gboolean *named = g_new0(gboolean, max);
    for (guint k = 0; k < ids->len; k++)
        named[g_array_index(ids, guint, k)] = TRUE;
    /* QEMU boots the vCPUs that cannot be unplugged first: none may follow a changed one. */
    for (guint i = first + 1; i < max; i++) {
        const VcpuConfig *state = &g_array_index(states, VcpuConfig, i);
        if (!named[i] && state->online && !state->hotpluggable) {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                           _("vCPU %u of domain '%s' cannot be modified: it is followed by "
                             "vCPU %u, which is enabled and not hotpluggable"),
                           first, dom_name, i);
            return FALSE;
        }
    }
    for (guint k = 0; k < ids->len; k++) {
        VcpuConfig *state = &g_array_index(states, VcpuConfig, g_array_index(ids, guint, k));
        state->online = enable;
        state->hotpluggable = TRUE;
    }
    config_set_vcpu_states(def, states);
    return TRUE;
}

void
qemu_hotplug_config_fit_vcpus(DomainDef *def, gboolean maximum, gboolean hotpluggable)
{
    if (!def->vcpus_elem)
        return;
    g_autoptr(GArray) states = config_vcpu_states(def);
    if (!maximum) {
        unsigned int online = 0;
        for (guint i = 0; i < states->len; i++)
            online += g_array_index(states, VcpuConfig, i).online;
        /* The lowest offline vCPUs come, the highest online ones go. A vCPU after an
         * online hotpluggable one must be hotpluggable too (QEMU boots the others first). */
        gboolean after_hotpluggable = FALSE;
        for (guint i = 0; i < states->len && online < def->vcpus_current; i++) {
            VcpuConfig *state = &g_array_index(states, VcpuConfig, i);
            if (!state->online) {
                state->online = TRUE;
                state->hotpluggable = hotpluggable || after_hotpluggable;
                online++;
            }
            after_hotpluggable = after_hotpluggable || state->hotpluggable;
        }
        for (guint i = states->len; i-- > 1 && online > def->vcpus_current;) {
            VcpuConfig *state = &g_array_index(states, VcpuConfig, i);
            if (state->online) {
                state->online = FALSE;
                state->hotpluggable = TRUE;
                online--;
            }
        }
    }
    config_set_vcpu_states(def, states);
}

/* ---- the vCPUs a start boots and plugs ---- */

typedef struct {
    guint vcpu;
    guint64 order; /* order= of its <vcpus> entry, 0 when none */
} VcpuPlug;

/* order= first (ascending), then the vCPUs without it, by id. */
static gint
vcpu_plug_compare(gconstpointer a, gconstpointer b)
{
    const VcpuPlug *x = a, *y = b;
    guint64 u = x->order ? x->order : G_MAXUINT64, v = y->order ? y->order : G_MAXUINT64;
    if (u != v)
        return u < v ? -1 : 1;
    return x->vcpu < y->vcpu ? -1 : x->vcpu > y->vcpu;
}

GArray *
qemu_hotplug_boot_vcpus(const DomainDef *def, unsigned int *ret_boot, GError **error)
{
    const char *name = domain_def_get_name(def);
    if (!def->vcpus_elem) {
        *ret_boot = def->vcpus_current;
        return g_array_new(FALSE, FALSE, sizeof(guint));
    }
    g_autofree XmlTree **entries = vcpus_entries(def);
    g_autoptr(GArray) plugs = g_array_new(FALSE, FALSE, sizeof(VcpuPlug));
    unsigned int boot = 0, ordered = 0;
    int unordered = -1; /* an enabled vCPU without order=, -1 when none */
    for (guint i = 0; i < def->vcpus_max; i++) {
        VcpuConfig state = entry_config(entries[i], FALSE);
        if (i == 0 && (!state.online || state.hotpluggable)) {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_CONFIG_UNSUPPORTED,
                           _("vCPU 0 of domain '%s' must be enabled and not hotpluggable: "
                             "QEMU always boots it"),
                           name);
            return NULL;
        }
        if (!state.online && !state.hotpluggable) {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_CONFIG_UNSUPPORTED,
                           _("vCPU %u of domain '%s' is disabled and not hotpluggable: it "
                             "could never come online"),
                           i, name);
            return NULL;
        }
        if (state.online) {
            if (xml_tree_get_attr(entries[i], "order"))
                ordered++;
            else if (unordered < 0)
                unordered = (int)i;
        }
        if (state.online && !state.hotpluggable) {
            /* -smp boots vCPUs 0 to N-1: these must be the first. */
            if (boot != i) {
                virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_CONFIG_UNSUPPORTED,
                               _("vCPU %u of domain '%s' is enabled and not hotpluggable, "
                                 "so vCPU %u before it must be too: QEMU boots only the "
                                 "first vCPUs"),
                               i, name, boot);
                return NULL;
            }
            boot++;
        } else if (state.online) {
            VcpuPlug plug = { .vcpu = i };
            const char *order = xml_tree_get_attr(entries[i], "order");
            if (order)
                g_ascii_string_to_unsigned(order, 10, 1, G_MAXUINT, &plug.order, NULL);
            g_array_append_val(plugs, plug);
        }
    }
    /* order= says in which order all enabled vCPUs come online: all have it or none. */
    if (ordered > 0 && unordered >= 0) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_CONFIG_UNSUPPORTED,
                       _("vCPU %d of domain '%s' has no order= while other enabled vCPUs "
                         "have one: give it to all enabled vCPUs or to none"),
                       unordered, name);
        return NULL;
    }
    g_array_sort(plugs, vcpu_plug_compare);
    g_autoptr(GArray) plan = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint k = 0; k < plugs->len; k++) {
        const VcpuPlug *plug = &g_array_index(plugs, VcpuPlug, k);
        const VcpuPlug *before = k > 0 ? &g_array_index(plugs, VcpuPlug, k - 1) : NULL;
        if (before && plug->order && plug->order == before->order) {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_CONFIG_UNSUPPORTED,
                           _("vCPUs %u and %u of domain '%s' have the same order "
                             "%" G_GUINT64_FORMAT),
                           before->vcpu, plug->vcpu, name, plug->order);
            return NULL;
        }
        g_array_append_val(plan, plug->vcpu);
    }
    *ret_boot = boot;
    return g_steal_pointer(&plan);
}

/* ---------------------------------------------------------------------------------- */
/* Talking to the running domain                                                       */

/* Run QMP @command on @dom's QEMU (domain locked, job held) with the lock dropped.
 * NULL with @error when it fails or when the domain stopped meanwhile (@what, marked with
 * N_(), says what was going on). */
static json_object *
dom_qmp(QemuDomain *dom, const char *command, json_object *args, const char *what,
        GError **error)
{
    if (!qemu_domain_check_active(dom, error))
        return NULL;
    g_autoptr(QemuProcess) proc = qemu_process_ref(dom->proc);
    g_mutex_unlock(&dom->lock);
    json_object *reply = qemu_process_qmp(proc, command, args, QMP_TIMEOUT_MS, error);
    g_mutex_lock(&dom->lock);
    if (reply && dom->proc != proc) {
        json_object_put(reply);
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("domain '%s' stopped while %s"), qemu_domain_name(dom), _(what));
        return NULL;
    }
    return reply;
}

/* Same, for commands whose reply is not needed. */
static gboolean
dom_qmp_void(QemuDomain *dom, const char *command, json_object *args, const char *what,
             GError **error)
{
    json_object *reply = dom_qmp(dom, command, args, what, error);
    json_object_put(reply);
    return reply != NULL;
}

/* ---- vCPUs ---- */

#define VCPUS_JOB "change the vCPUs of"
#define VCPUS_WHAT N_("its vCPUs were being changed")

/* The slots of @dom's QEMU; the live definition is brought in line with them (and vCPUs
 * the guest released late leave their cgroup). */
static GPtrArray *
query_slots(QemuDriver *drv, QemuDomain *dom, GError **error)
{
    json_object *reply = dom_qmp(dom, "query-hotpluggable-cpus", NULL, VCPUS_WHAT, error);
    if (!reply)
        return NULL;
    GPtrArray *slots = qemu_hotplug_parse_slots(reply, error);
    json_object_put(reply);
    if (!slots)
        return NULL;
    unsigned int before = dom->def->vcpus_current;
    gboolean pending = FALSE; /* the removal that timed out is still to happen */
    for (guint i = 0; i < slots->len; i++) {
        const char *path = slot_at(slots, i)->qom_path;
        pending = pending || (path && g_strcmp0(path, dom->unplug_path) == 0);
        if (!path && qemu_cgroup_vcpu_tid(dom, i))
            qemu_cgroup_remove_vcpu(dom, i);
    }
    gboolean forgotten = !pending && dom->unplug_path;
    if (forgotten) /* done: the sync below accounts for it, its event not */
        g_clear_pointer(&dom->unplug_path, g_free);
    qemu_hotplug_def_sync_vcpus(dom->def, slots);
    if (dom->def->vcpus_current != before || forgotten)
        qemu_run_save_status(drv, dom);
    return slots;
}

/* QEMU 7.2 under TCG dies (SIGSEGV or SIGABRT in device_add) when a vCPU is plugged
 * after any vCPU was unplugged: refuse rather than lose the guest. */
static gboolean
check_replug(QemuDomain *dom, const QemuVcpuSlot *slot, GError **error)
{
    if (!dom->vcpu_unplugged)
        return TRUE;
    json_object *kvm = dom_qmp(dom, "query-kvm", NULL, VCPUS_WHAT, error), *enabled = NULL;
    if (!kvm)
        return FALSE;
    gboolean tcg = !json_object_object_get_ex(kvm, "enabled", &enabled) ||
                   !json_object_get_boolean(enabled);
    json_object_put(kvm);
    if (!tcg)
        return TRUE;
    virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_UNSUPPORTED,
                   _("cannot plug vCPU %u into domain '%s': QEMU without KVM crashes when a "
                     "vCPU is plugged after one was unplugged (restart the domain first)"),
                   slot->index, qemu_domain_name(dom));
    return FALSE;
}

/* device_add of vCPU @slot as device "vcpuN": into running @dom (locked, job held) or,
 * when @dom is NULL, into @starting, the QEMU of a start (paused, no lock held). */
static gboolean
vcpu_device_add(QemuDomain *dom, QemuProcess *starting, const QemuVcpuSlot *slot,
                GError **error)
{
    g_autofree char *id = g_strdup_printf("vcpu%u", slot->index);
    json_object *args = qemu_hotplug_vcpu_add_args(slot, id);
    json_object *reply = dom ? dom_qmp(dom, "device_add", args, VCPUS_WHAT, error)
                             : qemu_process_qmp(starting, "device_add", args, QMP_TIMEOUT_MS,
                                                error);
    json_object_put(args);
    json_object_put(reply);
    return reply != NULL;
}

/* Plug vCPU @slot into @dom and put its thread into its cgroup. */
static gboolean
plug_vcpu(QemuDriver *drv, QemuDomain *dom, const QemuVcpuSlot *slot, GError **error)
{
    if (!check_replug(dom, slot, error) || !vcpu_device_add(dom, NULL, slot, error))
        return FALSE;
    qemu_hotplug_def_set_vcpu(dom->def, slot->index, TRUE);
    qemu_run_save_status(drv, dom);

    json_object *cpus = dom_qmp(dom, "query-cpus-fast", NULL, VCPUS_WHAT, error);
    if (!cpus)
        return FALSE;
    g_autoptr(GArray) threads = qemu_stats_parse_vcpu_threads(cpus);
    json_object_put(cpus);
    for (guint i = 0; i < threads->len; i++) {
        const QemuVcpuThread *t = &g_array_index(threads, QemuVcpuThread, i);
        if (t->index == slot->index)
            return qemu_cgroup_add_vcpu(dom, dom->def, slot->index, t->tid, error);
    }
    return TRUE; /* QEMU names no thread (not an x86 TCG/KVM accelerator): nothing to place */
}

/* vCPU @vcpu is gone from @dom (locked): out of its cgroup and the live definition. */
static void
vcpu_gone(QemuDriver *drv, QemuDomain *dom, unsigned int vcpu)
{
    qemu_cgroup_remove_vcpu(dom, vcpu);
    qemu_hotplug_def_set_vcpu(dom->def, vcpu, FALSE);
    qemu_run_save_status(drv, dom);
}

/* The removal that timed out (dom->unplug_path) happened after all. */
static void
late_unplug_done(QemuDriver *drv, QemuDomain *dom)
{
    g_clear_pointer(&dom->unplug_path, g_free); /* first: vcpu_gone saves the status */
    vcpu_gone(drv, dom, dom->unplug_vcpu);
}

void
qemu_hotplug_device_deleted(QemuDriver *drv, QemuDomain *dom, const char *path)
{
    if (!qemu_hotplug_path_is_removed(dom->unplug_path, path))
        return;
    if (dom->unplug_waiting) {
        dom->unplug_done = TRUE;
        g_cond_broadcast(&dom->job_cond);
        return;
    }
    /* The guest released it after the call that asked gave up waiting. */
    late_unplug_done(drv, dom);
}

void
qemu_hotplug_reattached(QemuDriver *drv, QemuDomain *dom, GArray *vcpu_threads)
{
    if (!dom->unplug_path || !vcpu_threads)
        return;
    gboolean named = FALSE; /* QEMU names vCPU threads: an absent vCPU is really gone */
    for (guint i = 0; i < vcpu_threads->len; i++) {
        unsigned int index = g_array_index(vcpu_threads, QemuVcpuThread, i).index;
        if (index == dom->unplug_vcpu)
            return; /* still there: its DEVICE_DELETED is to come */
        named = named || index == 0;
    }
    /* Released while no daemon watched: its event is lost. */
    if (named)
        late_unplug_done(drv, dom);
}

void
qemu_hotplug_stopped(QemuDomain *dom)
{
    g_clear_pointer(&dom->unplug_path, g_free);
    dom->unplug_waiting = dom->unplug_done = dom->vcpu_unplugged = FALSE;
}

/* Ask the guest to release vCPU @slot and wait (bounded) until QEMU says it is gone. */
static gboolean
unplug_vcpu(QemuDriver *drv, QemuDomain *dom, const QemuVcpuSlot *slot, GError **error)
{
    QemuProcess *proc = dom->proc;
    /* Set before device_del: the event may come before its reply. */
    g_free(dom->unplug_path);
    dom->unplug_path = g_strdup(slot->qom_path);
    dom->unplug_vcpu = slot->index;
    dom->unplug_waiting = TRUE;
    dom->unplug_done = FALSE;
    json_object *args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(slot->qom_path));
    gboolean ok = dom_qmp_void(dom, "device_del", args, VCPUS_WHAT, error);
    json_object_put(args);
    if (ok) {
        dom->vcpu_unplugged = TRUE;
        /* A daemon restarted before the guest releases it must still complete it. */
        qemu_run_save_status(drv, dom);
    }

    gint64 deadline = g_get_monotonic_time() + VCPU_UNPLUG_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
    while (ok && !dom->unplug_done && dom->proc == proc &&
           g_cond_wait_until(&dom->job_cond, &dom->lock, deadline))
        ;
    dom->unplug_waiting = FALSE;
    if (!ok || dom->unplug_done)
        g_clear_pointer(&dom->unplug_path, g_free);
    if (!ok)
        return FALSE;
    if (dom->proc != proc) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("domain '%s' stopped while %s"), qemu_domain_name(dom),
                       _(VCPUS_WHAT));
        return FALSE;
    }
    if (!dom->unplug_done) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_TIMEOUT,
                       _("the guest of domain '%s' did not release vCPU %u within %d s"),
                       qemu_domain_name(dom), slot->index, VCPU_UNPLUG_TIMEOUT_MS / 1000);
        return FALSE;
    }
    vcpu_gone(drv, dom, slot->index);
    return TRUE;
}

/* Plug (@plug) or unplug the vCPUs of @plan in order; stops at the first failure. */
static gboolean
apply_plan(QemuDriver *drv, QemuDomain *dom, GPtrArray *slots, GArray *plan, gboolean plug,
           GError **error)
{
    for (guint i = 0; i < plan->len; i++) {
        const QemuVcpuSlot *slot = slot_at(slots, g_array_index(plan, guint, i));
        if (!(plug ? plug_vcpu(drv, dom, slot, error) : unplug_vcpu(drv, dom, slot, error)))
            return FALSE;
    }
    return TRUE;
}

static gboolean
set_vcpus_locked(QemuDriver *drv, QemuDomain *dom, unsigned int nvcpus, unsigned int flags,
                 GError **error)
{
    if (!qemu_domain_check_active(dom, error))
        return FALSE;
    if (nvcpus > dom->def->vcpus_max) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("cannot give domain '%s' %u vCPUs: its maximum is %u"),
                       qemu_domain_name(dom), nvcpus, dom->def->vcpus_max);
        return FALSE;
    }
    /* The persistent change is checked before anything changes. */
    g_autoptr(DomainDef) config = NULL;
    if (flags & VIR_DOMAIN_AFFECT_CONFIG) {
        config = domain_def_copy(qemu_domain_persistent_def(dom));
        if (!domain_def_set_vcpus(config, nvcpus, FALSE, error))
            return FALSE;
        qemu_hotplug_config_fit_vcpus(config, FALSE, !!(flags & VIR_DOMAIN_VCPU_HOTPLUGGABLE));
    }
    g_autoptr(GPtrArray) slots = query_slots(drv, dom, error);
    if (!slots)
        return FALSE;
    gboolean plug;
    g_autoptr(GArray) plan = qemu_hotplug_plan_count(slots, nvcpus, &plug);
    if (!apply_plan(drv, dom, slots, plan, plug, error))
        return FALSE;
    return !config || qemu_driver_commit_config(drv, dom, g_steal_pointer(&config), error);
}

gboolean
qemu_hotplug_set_vcpus(QemuDriver *drv, QemuDomain *dom, unsigned int nvcpus,
                       unsigned int flags, GError **error)
{
    if (!qemu_job_begin(dom, VCPUS_JOB, error))
        return FALSE;
    gboolean ok = set_vcpus_locked(drv, dom, nvcpus, flags, error);
    qemu_job_end(dom);
    return ok;
}

/* The vCPUs that virDomainSetVcpu's @cpumap names, as slot indexes, checked against the
 * domain's maximum and refusing vCPU 0 when they are to be disabled. */
static GArray *
setvcpu_targets(QemuDomain *dom, const char *cpumap, gboolean enable, GError **error)
{
    unsigned int max = dom->def->vcpus_max;
    g_autoptr(GArray) targets = parse_vcpu_list(cpumap, error);
    if (!targets)
        return NULL;
    for (guint k = 0; k < targets->len; k++) {
        guint i = g_array_index(targets, guint, k);
        if (i >= max) {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                           _("domain '%s' has no vCPU %u: its maximum is %u"),
                           qemu_domain_name(dom), i, max);
            return NULL;
        }
        if (i == 0 && !enable) {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                           _("vCPU 0 of domain '%s' cannot be unplugged"),
                           qemu_domain_name(dom));
            return NULL;
        }
    }
    return g_steal_pointer(&targets);
}

/* virDomainSetVcpu with @flags resolved: both changes are checked before either is made,
 * then the live one is made, then the persistent one. */
static gboolean
set_vcpu_locked(QemuDriver *drv, QemuDomain *dom, const char *cpumap, gboolean enable,
                unsigned int flags, GError **error)
{
    g_autoptr(GArray) targets = NULL;
    if (flags & VIR_DOMAIN_AFFECT_LIVE) {
        if (!qemu_domain_check_active(dom, error))
            return FALSE;
        targets = setvcpu_targets(dom, cpumap, enable, error);
        if (!targets)
            return FALSE;
    }
    g_autoptr(DomainDef) config = NULL;
    if (flags & VIR_DOMAIN_AFFECT_CONFIG) {
        config = domain_def_copy(qemu_domain_persistent_def(dom));
        if (!qemu_hotplug_config_set_vcpu(config, qemu_domain_name(dom), cpumap, enable,
                                          error))
            return FALSE;
    }
    if (targets) {
        g_autoptr(GPtrArray) slots = query_slots(drv, dom, error);
        if (!slots)
            return FALSE;
        /* vCPUs already in the state asked for are left alone. Unplug from the highest. */
        g_autoptr(GArray) plan = g_array_new(FALSE, FALSE, sizeof(guint));
        for (guint k = 0; k < targets->len; k++) {
            guint i = g_array_index(targets, guint, enable ? k : targets->len - 1 - k);
            if (i < slots->len && (slot_at(slots, i)->qom_path != NULL) != enable)
                g_array_append_val(plan, i);
        }
        if (!apply_plan(drv, dom, slots, plan, enable, error))
            return FALSE;
    }
    return !config || qemu_driver_commit_config(drv, dom, g_steal_pointer(&config), error);
}

static gboolean
qemu_hotplug_domain_set_vcpu(VirtDriver *vdrv, const unsigned char *uuid, const char *cpumap,
                             int state, unsigned int flags, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    if (!qemu_driver_check_flags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG,
                                 error))
        return FALSE;
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom || !qemu_job_begin(dom, VCPUS_JOB, error))
        return FALSE;
    gboolean ok = qemu_domain_resolve_impact(dom, &flags, error) &&
                  set_vcpu_locked(drv, dom, cpumap, state != 0, flags, error);
    qemu_job_end(dom);
    return ok;
}

/* ---- the balloon ---- */

#define BALLOON_WHAT N_("its balloon was being changed")

/* VIR_ERR_OPERATION_INVALID unless @def has a balloon device. */
static gboolean
check_balloon(const DomainDef *def, const char *dom_name, GError **error)
{
    const DomainMemballoonDef *mb = def->devices.memballoon;
    if (mb && g_strcmp0(mb->model, "none") != 0)
        return TRUE;
    virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                   _("domain '%s' has no memory balloon (<memballoon model='none'>)"),
                   dom_name);
    return FALSE;
}

/* Same words as qemu-driver.c's check of the persistent definition. */
static gboolean
check_memory_max(const DomainDef *def, guint64 kib, GError **error)
{
    guint64 max = domain_def_get_max_memory_kib(def);
    if (kib <= max)
        return TRUE;
    virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                   _("cannot set memory to %" G_GUINT64_FORMAT
                     " KiB: the maximum is %" G_GUINT64_FORMAT " KiB"),
                   kib, max);
    return FALSE;
}

static json_object *
balloon_args(guint64 kib)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, "value", json_object_new_int64((gint64)(kib * 1024)));
    return args;
}

static json_object *
stats_period_args(int period)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, "path", json_object_new_string(QEMU_HOTPLUG_BALLOON_PATH));
    json_object_object_add(args, "property",
                           json_object_new_string("guest-stats-polling-interval"));
    json_object_object_add(args, "value", json_object_new_int(period));
    return args;
}

static gboolean
set_memory_locked(QemuDriver *drv, QemuDomain *dom, guint64 kib, unsigned int flags,
                  GError **error)
{
    const char *name = qemu_domain_name(dom);
    if (!qemu_domain_check_active(dom, error) || !check_balloon(dom->def, name, error) ||
        !check_memory_max(dom->def, kib, error))
        return FALSE;
    g_autoptr(DomainDef) config = NULL;
    if (flags & VIR_DOMAIN_AFFECT_CONFIG) {
        config = domain_def_copy(qemu_domain_persistent_def(dom));
        if (!check_memory_max(config, kib, error) ||
            !domain_def_set_current_memory_kib(config, kib, error))
            return FALSE;
    }
    json_object *args = balloon_args(kib);
    gboolean ok = dom_qmp_void(dom, "balloon", args, BALLOON_WHAT, error);
    json_object_put(args);
    if (!ok || !domain_def_set_current_memory_kib(dom->def, kib, error))
        return FALSE;
    qemu_run_save_status(drv, dom);
    return !config || qemu_driver_commit_config(drv, dom, g_steal_pointer(&config), error);
}

gboolean
qemu_hotplug_set_memory(QemuDriver *drv, QemuDomain *dom, guint64 kib, unsigned int flags,
                        GError **error)
{
    if (!qemu_job_begin(dom, "resize the balloon of", error))
        return FALSE;
    gboolean ok = set_memory_locked(drv, dom, kib, flags, error);
    qemu_job_end(dom);
    return ok;
}

/* <memballoon><stats period='N'/> of @def; 0 removes it (polling off). */
static void
def_set_stats_period(DomainDef *def, int period)
{
    DomainMemballoonDef *mb = def->devices.memballoon;
    g_free(mb->stats_period);
    mb->stats_period = period > 0 ? g_strdup_printf("%d", period) : NULL;
}

static gboolean
set_stats_period_locked(QemuDriver *drv, QemuDomain *dom, int period, unsigned int flags,
                        GError **error)
{
    const char *name = qemu_domain_name(dom);
    if (!qemu_domain_resolve_impact(dom, &flags, error))
        return FALSE;
    if ((flags & VIR_DOMAIN_AFFECT_LIVE) && !check_balloon(dom->def, name, error))
        return FALSE;
    g_autoptr(DomainDef) config = NULL;
    if (flags & VIR_DOMAIN_AFFECT_CONFIG) {
        config = domain_def_copy(qemu_domain_persistent_def(dom));
        if (!check_balloon(config, name, error))
            return FALSE;
        def_set_stats_period(config, period);
    }
    if (flags & VIR_DOMAIN_AFFECT_LIVE) {
        json_object *args = stats_period_args(period);
        gboolean ok = dom_qmp_void(dom, "qom-set", args, BALLOON_WHAT, error);
        json_object_put(args);
        if (!ok)
            return FALSE;
        def_set_stats_period(dom->def, period);
        qemu_run_save_status(drv, dom);
    }
    return !config || qemu_driver_commit_config(drv, dom, g_steal_pointer(&config), error);
}

static gboolean
qemu_hotplug_domain_set_memory_stats_period(VirtDriver *vdrv, const unsigned char *uuid,
                                            int period, unsigned int flags, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    if (!qemu_driver_check_flags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG,
                                 error))
        return FALSE;
    if (period < 0) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("the memory statistics period must not be negative, not %d"), period);
        return FALSE;
    }
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom || !qemu_job_begin(dom, "set the memory statistics period of", error))
        return FALSE;
    gboolean ok = set_stats_period_locked(drv, dom, period, flags, error);
    qemu_job_end(dom);
    return ok;
}

/* ---- start-up ---- */

gboolean
qemu_hotplug_start_vcpus(QemuProcess *proc, const DomainDef *live, GError **error)
{
    unsigned int boot = 0;
    g_autoptr(GArray) plan = qemu_hotplug_boot_vcpus(live, &boot, error);
    if (!plan || plan->len == 0)
        return plan != NULL;
    json_object *reply = qemu_process_qmp(proc, "query-hotpluggable-cpus", NULL,
                                          QMP_TIMEOUT_MS, error);
    g_autoptr(GPtrArray) slots = reply ? qemu_hotplug_parse_slots(reply, error) : NULL;
    json_object_put(reply);
    if (!slots)
        return FALSE;
    for (guint k = 0; k < plan->len; k++) {
        guint vcpu = g_array_index(plan, guint, k);
        /* QEMU has <vcpu> slots (-smp maxcpus): none is missing. */
        if (vcpu < slots->len && !vcpu_device_add(NULL, proc, slot_at(slots, vcpu), error))
            return FALSE;
    }
    return TRUE;
}

/* The live definition says which vCPUs QEMU has, booted or plugged (best effort: a failure
 * only leaves it as it was). */
static void
start_sync_vcpus(QemuProcess *proc, DomainDef *live)
{
    if (!live->vcpus_elem)
        return;
    json_object *reply = qemu_process_qmp(proc, "query-hotpluggable-cpus", NULL,
                                          QMP_TIMEOUT_MS, NULL);
    g_autoptr(GPtrArray) slots = reply ? qemu_hotplug_parse_slots(reply, NULL) : NULL;
    json_object_put(reply);
    if (slots)
        qemu_hotplug_def_sync_vcpus(live, slots);
}

gboolean
qemu_hotplug_start(QemuProcess *proc, DomainDef *live, GError **error)
{
    start_sync_vcpus(proc, live);
    const DomainMemballoonDef *mb = live->devices.memballoon;
    if (!mb || g_strcmp0(mb->model, "none") == 0)
        return TRUE;
    guint64 current = domain_def_get_current_memory_kib(live);
    if (current && current < domain_def_get_max_memory_kib(live)) {
        json_object *args = balloon_args(current);
        json_object *r = qemu_process_qmp(proc, "balloon", args, QMP_TIMEOUT_MS, error);
        json_object_put(args);
        if (!r)
            return FALSE;
        json_object_put(r);
    }
    int period = mb->stats_period ? atoi(mb->stats_period) : 0;
    if (period > 0) {
        json_object *args = stats_period_args(period);
        json_object *r = qemu_process_qmp(proc, "qom-set", args, QMP_TIMEOUT_MS, error);
        json_object_put(args);
        if (!r)
            return FALSE;
        json_object_put(r);
    }
    return TRUE;
}

void
qemu_hotplug_fill_vtable(VirtDriver *vt)
{
    vt->domain_set_vcpu = qemu_hotplug_domain_set_vcpu;
    vt->domain_set_memory_stats_period = qemu_hotplug_domain_set_memory_stats_period;
}
