/* Domain XML: parse, validate, fill defaults, format. Pure: strings in, structs out.
 *
 * The model covers the schema that virt-install and virt-manager produce. What a client
 * defines comes back from domain_def_format() in libvirt's shape, with the generated uuid,
 * MAC addresses and defaults filled in. Errors use VIR_FROM_DOMAIN (or VIR_FROM_XML for
 * well-formedness) with VIR_ERR_XML_ERROR, VIR_ERR_XML_DETAIL, VIR_ERR_CONFIG_UNSUPPORTED or
 * VIR_ERR_INVALID_ARG, and say which element or attribute is wrong (and the line when known).
 */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

typedef struct _DomainDef DomainDef; /* defined in domain-conf-priv.h: see the fields there */

/* Flags of domain_def_parse(). */
typedef enum {
    DOMAIN_PARSE_VALIDATE = 1 << 0, /* also validate against xml/schemas/domain.rng */
} DomainParseFlags;

/* Flags of domain_def_format(): the same bits as virDomainXMLFlags. */
typedef enum {
    DOMAIN_FORMAT_SECURE = VIR_DOMAIN_XML_SECURE,
    DOMAIN_FORMAT_INACTIVE = VIR_DOMAIN_XML_INACTIVE,
    DOMAIN_FORMAT_MIGRATABLE = VIR_DOMAIN_XML_MIGRATABLE,
} DomainFormatFlags;

/* Parse @xml into a new definition with defaults filled in (uuid, MACs, machine, ...).
 * Caller owns the result (domain_def_free). NULL and @error on any invalid input. */
DomainDef *domain_def_parse(const char *xml, unsigned int flags, GError **error);

/* Format @def as libvirt does. @id is the running domain's id, or -1 (no id attribute).
 * Returns a newly allocated string. */
char *domain_def_format(const DomainDef *def, int id, unsigned int flags);

/* A deep copy of @def. */
DomainDef *domain_def_copy(const DomainDef *def);

void domain_def_free(DomainDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainDef, domain_def_free)

/* Accessors the driver uses. */
const char *domain_def_get_name(const DomainDef *def);
const unsigned char *domain_def_get_uuid(const DomainDef *def); /* 16 bytes */
const char *domain_def_get_os_type(const DomainDef *def);         /* "hvm" */
const char *domain_def_get_virt_type(const DomainDef *def);       /* "qemu" or "kvm" */
guint64 domain_def_get_max_memory_kib(const DomainDef *def);      /* <memory> */
guint64 domain_def_get_current_memory_kib(const DomainDef *def);  /* <currentMemory> */
unsigned int domain_def_get_vcpus_max(const DomainDef *def);      /* <vcpu> */
unsigned int domain_def_get_vcpus_current(const DomainDef *def);  /* <vcpu current=> */

/* Check a domain name: not empty, at most 255 bytes... no '/', valid UTF-8.
 * VIR_ERR_INVALID_ARG (VIR_FROM_DOMAIN) saying what is wrong. */
gboolean domain_name_check(const char *name, GError **error);

void domain_def_set_name(DomainDef *def, const char *name);

/* Set <memory> (max) and/or <currentMemory> in KiB; current is clamped to max. */
void domain_def_set_max_memory_kib(DomainDef *def, guint64 kib);
gboolean domain_def_set_current_memory_kib(DomainDef *def, guint64 kib, GError **error);

/* Set <vcpu>: @maximum TRUE sets the maximum (current is clamped), else the current
 * count (error when above the maximum or zero). */
gboolean domain_def_set_vcpus(DomainDef *def, unsigned int n, gboolean maximum,
                              GError **error);

/* virDomainSetMetadata semantics: @type is virDomainMetadataType. For TITLE/DESCRIPTION,
 * @metadata NULL or "" removes it. For ELEMENT, @metadata is an XML fragment stored under
 * namespace @uri with prefix @key; NULL removes that namespace's element. */
gboolean domain_def_set_metadata(DomainDef *def, int type, const char *metadata,
                                 const char *key, const char *uri, GError **error);

/* virDomainGetMetadata semantics. VIR_ERR_NO_DOMAIN_METADATA when absent. */
char *domain_def_get_metadata(const DomainDef *def, int type, const char *uri,
                              GError **error);

/* Added by the xml/ work. */

/* Architecture and machine type of <os><type> ("x86_64", "pc" until the driver resolves
 * it). Borrowed. */
/* Disk @name of @def (its target such as "vda", else its source path): its index, or -1
 * with VIR_ERR_INVALID_ARG "domain 'D' has no disk 'NAME'". */
int domain_def_find_disk(const DomainDef *def, const char *name, GError **error);

const char *domain_def_get_arch(const DomainDef *def);
const char *domain_def_get_machine(const DomainDef *def);

/* Replace the machine type: the hook the QEMU driver uses to resolve aliases such as
 * "pc" or "q35" to the versioned machine of the emulator. */
void domain_def_set_machine(DomainDef *def, const char *machine);
