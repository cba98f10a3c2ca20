/* Status files; see qemu-status.h. */
#include "drivers/qemu/qemu-status.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/util/virt-error.h"

static const char *const state_names[] = {
    "nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended",
};
G_STATIC_ASSERT(G_N_ELEMENTS(state_names) == VIR_DOMAIN_LAST);

char *
qemu_status_format(const QemuStatus *status)
{
    g_autofree char *domain = domain_def_format(status->def, status->id, DOMAIN_FORMAT_SECURE);
    g_autofree char *attr = g_markup_printf_escaped("%s", status->monitor_path);
    GString *out = g_string_new(NULL);
    g_string_append_printf(out, "<domstatus state='%s' reason='%d' pid='%d' id='%d'>\n",
                           state_names[status->state], status->reason, (int)status->pid,
                           status->id);
    g_string_append_printf(out, "  <monitor path='%s'/>\n", attr);
    if (status->unplug_path) {
        g_autofree char *unplug = g_markup_printf_escaped("%s", status->unplug_path);
        g_string_append(out, status->vcpu_unplugged ? "  <vcpus unplugged='yes'>\n"
                                                    : "  <vcpus>\n");
        g_string_append_printf(out, "    <unplug vcpu='%u' path='%s'/>\n", status->unplug_vcpu,
                               unplug);
        g_string_append(out, "  </vcpus>\n");
    } else if (status->vcpu_unplugged) {
        g_string_append(out, "  <vcpus unplugged='yes'/>\n");
    }
    if (status->updated)
        g_string_append(out, "  <config updated='yes'/>\n");
    g_auto(GStrv) lines = g_strsplit(domain, "\n", -1);
    for (guint i = 0; lines[i]; i++)
        if (*lines[i])
            g_string_append_printf(out, "  %s\n", lines[i]);
    g_string_append(out, "</domstatus>\n");
    return g_string_free(out, FALSE);
}

static gboolean
parse_int_attr(xmlNode *node, const char *name, int *ret, GError **error)
{
    g_autofree char *text = (char *)xmlGetProp(node, (const xmlChar *)name);
    char *end = NULL;
    long v = text ? strtol(text, &end, 10) : 0;
    if (!text || !*text || *end) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_XML_ERROR,
                       _("status file: attribute '%s' of <domstatus> is missing or invalid"),
                       name);
        return FALSE;
    }
    *ret = (int)v;
    return TRUE;
}

/* The pending vCPU removal under <vcpus>, when whole. */
static void
parse_unplug(xmlNode *vcpus, QemuStatus *ret)
{
    for (xmlNode *n = vcpus->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "unplug") != 0)
            continue;
        g_autofree char *vcpu = (char *)xmlGetProp(n, (const xmlChar *)"vcpu");
        g_autofree char *path = (char *)xmlGetProp(n, (const xmlChar *)"path");
        guint64 index = 0;
        if (!path || !*path || !vcpu ||
            !g_ascii_string_to_unsigned(vcpu, 10, 0, G_MAXUINT, &index, NULL))
            continue;
        g_free(ret->unplug_path);
        ret->unplug_path = g_strdup(path);
        ret->unplug_vcpu = (unsigned int)index;
    }
}

gboolean
qemu_status_parse(const char *xml, QemuStatus *ret, GError **error)
{
    memset(ret, 0, sizeof(*ret));
    xmlDoc *doc = xmlReadMemory(xml, strlen(xml), "status.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    g_autofree char *state = NULL; /* before any goto: cleaned up on every path */
    gboolean ok = FALSE;
    if (!root || strcmp((const char *)root->name, "domstatus") != 0) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_XML_ERROR,
                       _("status file: not a <domstatus> document"));
        goto out;
    }

    state = (char *)xmlGetProp(root, (const xmlChar *)"state");
    int pid = 0;
    ret->state = -1;
    for (int i = 0; state && i < VIR_DOMAIN_LAST; i++)
        if (strcmp(state, state_names[i]) == 0)
            ret->state = i;
    if (ret->state < 0) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_XML_ERROR,
                       _("status file: unknown state '%s'"), state ? state : "");
        goto out;
    }
    if (!parse_int_attr(root, "reason", &ret->reason, error) ||
        !parse_int_attr(root, "pid", &pid, error) || !parse_int_attr(root, "id", &ret->id, error))
        goto out;
    ret->pid = pid;

    for (xmlNode *n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)n->name, "monitor") == 0) {
            xmlChar *path = xmlGetProp(n, (const xmlChar *)"path");
            ret->monitor_path = g_strdup((const char *)path);
            xmlFree(path);
        } else if (strcmp((const char *)n->name, "config") == 0) {
            xmlChar *updated = xmlGetProp(n, (const xmlChar *)"updated");
            ret->updated = g_strcmp0((const char *)updated, "yes") == 0;
            xmlFree(updated);
        } else if (strcmp((const char *)n->name, "vcpus") == 0) {
            xmlChar *unplugged = xmlGetProp(n, (const xmlChar *)"unplugged");
            ret->vcpu_unplugged = g_strcmp0((const char *)unplugged, "yes") == 0;
            xmlFree(unplugged);
            parse_unplug(n, ret);
        } else if (strcmp((const char *)n->name, "domain") == 0 && !ret->def) {
            xmlBuffer *buf = xmlBufferCreate();
            xmlNodeDump(buf, doc, n, 0, 0);
            ret->def = domain_def_parse((const char *)xmlBufferContent(buf), 0, error);
            xmlBufferFree(buf);
            if (!ret->def)
                goto out;
        }
    }
    if (!ret->monitor_path || !ret->def) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_XML_ERROR,
                       _("status file: <monitor> or <domain> is missing"));
        goto out;
    }
    ok = TRUE;
out:
    if (!ok)
        qemu_status_clear(ret);
    xmlFreeDoc(doc);
    return ok;
}

void
qemu_status_clear(QemuStatus *status)
{
    g_clear_pointer(&status->monitor_path, g_free);
    g_clear_pointer(&status->unplug_path, g_free);
    g_clear_pointer(&status->def, domain_def_free);
}
