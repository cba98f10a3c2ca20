/* Validation of domain XML against our RelaxNG schema (xml/schemas/domain.rng). */
#include "xml/domain-conf-priv.h"

#include <libxml/relaxng.h>

#include "daemon/util/virt-error.h"

#ifndef VIRTD_SCHEMA_DIR
#define VIRTD_SCHEMA_DIR "xml/schemas"
#endif

typedef struct {
    int line;
    char *element;
    char *message;
} SchemaError;

static void
schema_error_cb(void *data, const xmlError *err)
{
    SchemaError *first = data;

    if (first->message || !err || !err->message)
        return;
    first->message = g_strstrip(g_strdup(err->message));
    first->line = err->line;
    if (err->node && ((xmlNode *)err->node)->type == XML_ELEMENT_NODE) {
        xmlNode *node = err->node;

        first->element = g_strdup((const char *)node->name);
        /* libxml2 does not say which value: name it */
        if (g_str_has_prefix(first->message, "Error validating value") &&
            !xmlFirstElementChild(node)) {
            xmlChar *text = xmlNodeGetContent(node);

            g_free(first->message);
            first->message = g_strdup_printf("invalid value '%s'", text ? (char *)text : "");
            xmlFree(text);
        }
        if (first->line <= 0)
            first->line = xmlGetLineNo(err->node);
    }
}

static void
schema_silent_cb(void *data, const xmlError *err)
{
}

static xmlRelaxNG *
schema_load(const char *dir, GError **error)
{
    static GMutex lock;
    static GHashTable *cache; /* path -> xmlRelaxNG *, kept for the life of the process */
    g_autofree char *path = g_build_filename(dir, "domain.rng", NULL);
    xmlRelaxNG *schema;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&lock);

    if (!cache)
        cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if ((schema = g_hash_table_lookup(cache, path)))
        return schema;
    {
        xmlRelaxNGParserCtxt *pctxt = xmlRelaxNGNewParserCtxt(path);

        xmlRelaxNGSetParserStructuredErrors(pctxt, (xmlStructuredErrorFunc)schema_silent_cb,
                                            NULL);
        schema = xmlRelaxNGParse(pctxt);
        xmlRelaxNGFreeParserCtxt(pctxt);
    }
    if (!schema) {
        /* our own file is missing or broken: that is a virtd bug */
        virt_error_set(error, VIR_FROM_XML, VIR_ERR_INTERNAL_ERROR,
                       _("cannot load the domain schema '%s'"), path);
        return NULL;
    }
    g_hash_table_insert(cache, g_steal_pointer(&path), schema);
    return schema;
}

/** domain_schema_validate: see domain-conf-priv.h. */
gboolean
domain_schema_validate(xmlDoc *doc, const char *schema_dir, GError **error)
{
    xmlRelaxNG *schema = schema_load(schema_dir ? schema_dir : VIRTD_SCHEMA_DIR, error);
    xmlRelaxNGValidCtxt *vctxt;
    SchemaError first = { 0 };
    int rc;

    if (!schema)
        return FALSE;
    vctxt = xmlRelaxNGNewValidCtxt(schema);
    xmlRelaxNGSetValidStructuredErrors(vctxt, (xmlStructuredErrorFunc)schema_error_cb, &first);
    rc = xmlRelaxNGValidateDoc(vctxt, doc);
    xmlRelaxNGFreeValidCtxt(vctxt);
    if (rc != 0) {
        if (first.element)
            virt_error_set(error, VIR_FROM_DOMAIN, VIR_ERR_XML_INVALID_SCHEMA,
                           _("domain XML does not match the schema at line %d, element '%s': %s"),
                           first.line, first.element, first.message);
        else
            virt_error_set(error, VIR_FROM_DOMAIN, VIR_ERR_XML_INVALID_SCHEMA,
                           _("domain XML does not match the schema: %s"),
                           first.message ? first.message : "unknown error");
    }
    g_free(first.element);
    g_free(first.message);
    return rc == 0;
}
