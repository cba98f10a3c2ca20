/* Helpers for the value types of driver.h. */
#include "drivers/driver.h"

#include <string.h>

void
domain_ref_clear(DomainRef *ref)
{
    if (!ref)
        return;
    g_clear_pointer(&ref->name, g_free);
}

void
domain_ref_free(DomainRef *ref)
{
    if (!ref)
        return;
    domain_ref_clear(ref);
    g_free(ref);
}

DomainRef *
domain_ref_copy(const DomainRef *ref)
{
    DomainRef *copy = g_new0(DomainRef, 1);
    copy->name = g_strdup(ref->name);
    memcpy(copy->uuid, ref->uuid, VIRT_UUID_LEN);
    copy->id = ref->id;
    return copy;
}

void
domain_event_free(DomainEvent *ev)
{
    if (!ev)
        return;
    domain_ref_clear(&ev->dom);
    g_free(ev->metadata_nsuri);
    g_free(ev->monitor_event);
    g_free(ev->monitor_details);
    g_free(ev);
}
