/* Small helpers over libxml2 shared by the XML models: attribute and child lookup,
 * escaping, and XmlTree, an owned copy of an element kept verbatim (pass-through
 * elements such as <hostdev> or <address>) and formatted back in libvirt's style.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "xml/ptr-vec.h"

/* Attribute @name of @node as a newly allocated string, NULL when absent. */
char *xml_prop(xmlNode *node, const char *name);

/* First element child of @node called @name, or NULL. Borrowed. */
xmlNode *xml_child(xmlNode *node, const char *name);

/* Text content of @node (newly allocated, never NULL). */
char *xml_text(xmlNode *node);

/* Text content of child @name of @node, NULL when the child is absent. */
char *xml_child_text(xmlNode *node, const char *name);

/* TRUE when @node is an element called @name. */
gboolean xml_is(xmlNode *node, const char *name);

/* Append @text to @buf escaped for an attribute value in single quotes. */
void xml_escape_append(GString *buf, const char *text);

/* Append "<indent spaces>" to @buf. */
void xml_indent(GString *buf, int indent);

/* Append " name='escaped value'" to @buf when @value is not NULL. */
void xml_attr(GString *buf, const char *name, const char *value);

/* Append "<indent><name>escaped text</name>\n" when @text is not NULL. */
void xml_text_elem(GString *buf, int indent, const char *name, const char *text);

typedef struct _XmlTree XmlTree;
struct _XmlTree {
    char *name;
    PtrVec attrs;        /* alternating names and values (char *) */
    char *text;          /* text content when there are no element children */
    PtrVec children;     /* XmlTree * */
};

/* Copy element @node (attributes, children, text) into a new tree. */
XmlTree *xml_tree_new_from_node(xmlNode *node);
XmlTree *xml_tree_copy(const XmlTree *tree);
void xml_tree_free(XmlTree *tree);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(XmlTree, xml_tree_free)

/* An element @name with no attributes, children or text yet. */
XmlTree *xml_tree_new(const char *name);

/* Append attribute @name='@value' (copied). */
void xml_tree_add_attr(XmlTree *tree, const char *name, const char *value);

/* Value of attribute @name of @tree (borrowed), NULL when absent. */
const char *xml_tree_get_attr(const XmlTree *tree, const char *name);

/* Format @tree at @indent spaces with single-quoted attributes, as libvirt does. */
void xml_tree_format(GString *buf, const XmlTree *tree, int indent);

/* Free the XmlTree * items of @trees: it is empty again. */
void xml_tree_vec_clear(PtrVec *trees);
