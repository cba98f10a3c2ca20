/* Small helpers over libxml2 shared by the XML models. */
#include "xml/xml-util.h"

#include <string.h>

char *
xml_prop(xmlNode *node, const char *name)
{
    xmlChar *val = xmlGetNoNsProp(node, (const xmlChar *)name);
    char *ret;

    if (!val)
        return NULL;
    ret = g_strdup((const char *)val);
    xmlFree(val);
    return ret;
}

gboolean
xml_is(xmlNode *node, const char *name)
{
    return node && node->type == XML_ELEMENT_NODE &&
           strcmp((const char *)node->name, name) == 0;
}

xmlNode *
xml_child(xmlNode *node, const char *name)
{
    for (xmlNode *cur = node ? node->children : NULL; cur; cur = cur->next) {
        if (xml_is(cur, name))
            return cur;
    }
    return NULL;
}

char *
xml_text(xmlNode *node)
{
    xmlChar *val = xmlNodeGetContent(node);
    char *ret = g_strdup(val ? (const char *)val : "");

    xmlFree(val);
    return ret;
}

char *
xml_child_text(xmlNode *node, const char *name)
{
    xmlNode *child = xml_child(node, name);

    return child ? xml_text(child) : NULL;
}

void
xml_escape_append(GString *buf, const char *text)
{
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '<': g_string_append(buf, "&lt;"); break;
        case '>': g_string_append(buf, "&gt;"); break;
        case '&': g_string_append(buf, "&amp;"); break;
        case '\'': g_string_append(buf, "&apos;"); break;
        case '"': g_string_append(buf, "&quot;"); break;
        default: g_string_append_c(buf, *p);
        }
    }
}

/* Escape @text for element content. */
static void
text_escape_append(GString *buf, const char *text)
{
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '<': g_string_append(buf, "&lt;"); break;
        case '>': g_string_append(buf, "&gt;"); break;
        case '&': g_string_append(buf, "&amp;"); break;
        default: g_string_append_c(buf, *p);
        }
    }
}

void
xml_indent(GString *buf, int indent)
{
    for (int i = 0; i < indent; i++)
        g_string_append_c(buf, ' ');
}

void
xml_attr(GString *buf, const char *name, const char *value)
{
    if (!value)
        return;
    g_string_append_printf(buf, " %s='", name);
    xml_escape_append(buf, value);
    g_string_append_c(buf, '\'');
}

void
xml_text_elem(GString *buf, int indent, const char *name, const char *text)
{
    if (!text)
        return;
    xml_indent(buf, indent);
    g_string_append_printf(buf, "<%s>", name);
    text_escape_append(buf, text);
    g_string_append_printf(buf, "</%s>\n", name);
}

void
xml_tree_vec_clear(PtrVec *trees)
{
    ptr_vec_clear(trees, (GDestroyNotify)xml_tree_free);
}

XmlTree *
xml_tree_new(const char *name)
{
    XmlTree *tree = g_new0(XmlTree, 1);

    tree->name = g_strdup(name);
    return tree;
}

void
xml_tree_add_attr(XmlTree *tree, const char *name, const char *value)
{
    ptr_vec_add(&tree->attrs, g_strdup(name));
    ptr_vec_add(&tree->attrs, g_strdup(value));
}

XmlTree *
xml_tree_new_from_node(xmlNode *node)
{
    XmlTree *tree = xml_tree_new((const char *)node->name);
    gboolean has_elements = FALSE;

    for (xmlAttr *attr = node->properties; attr; attr = attr->next) {
        xmlChar *val = xmlNodeGetContent((xmlNode *)attr);

        xml_tree_add_attr(tree, (const char *)attr->name, val ? (const char *)val : "");
        xmlFree(val);
    }
    for (xmlNode *cur = node->children; cur; cur = cur->next) {
        if (cur->type == XML_ELEMENT_NODE) {
            has_elements = TRUE;
            ptr_vec_add(&tree->children, xml_tree_new_from_node(cur));
        }
    }
    if (!has_elements) {
        g_autofree char *text = xml_text(node);

        if (*text)
            tree->text = g_steal_pointer(&text);
    }
    return tree;
}

XmlTree *
xml_tree_copy(const XmlTree *tree)
{
    XmlTree *ret;

    if (!tree)
        return NULL;
    ret = xml_tree_new(tree->name);
    ret->text = g_strdup(tree->text);
    for (guint i = 0; i < tree->attrs.len; i++)
        ptr_vec_add(&ret->attrs, g_strdup(ptr_vec_index(&tree->attrs, i)));
    for (guint i = 0; i < tree->children.len; i++)
        ptr_vec_add(&ret->children, xml_tree_copy(ptr_vec_index(&tree->children, i)));
    return ret;
}

void
xml_tree_free(XmlTree *tree)
{
    if (!tree)
        return;
    g_free(tree->name);
    g_free(tree->text);
    ptr_vec_clear(&tree->attrs, g_free);
    xml_tree_vec_clear(&tree->children);
    g_free(tree);
}

const char *
xml_tree_get_attr(const XmlTree *tree, const char *name)
{
    for (guint i = 0; i + 1 < tree->attrs.len; i += 2) {
        if (strcmp(ptr_vec_index(&tree->attrs, i), name) == 0)
            return ptr_vec_index(&tree->attrs, i + 1);
    }
    return NULL;
}

void
xml_tree_format(GString *buf, const XmlTree *tree, int indent)
{
    xml_indent(buf, indent);
    g_string_append_printf(buf, "<%s", tree->name);
    for (guint i = 0; i + 1 < tree->attrs.len; i += 2)
        xml_attr(buf, ptr_vec_index(&tree->attrs, i), ptr_vec_index(&tree->attrs, i + 1));
    if (tree->children.len > 0) {
        g_string_append(buf, ">\n");
        for (guint i = 0; i < tree->children.len; i++)
            xml_tree_format(buf, ptr_vec_index(&tree->children, i), indent + 2);
        xml_indent(buf, indent);
        g_string_append_printf(buf, "</%s>\n", tree->name);
    } else if (tree->text) {
        g_string_append_c(buf, '>');
        text_escape_append(buf, tree->text);
        g_string_append_printf(buf, "</%s>\n", tree->name);
    } else {
        g_string_append(buf, "/>\n");
    }
}
