/* The live status file of a running domain (<state_dir>/NAME.xml): what a restarted
 * daemon needs to find the domain's QEMU again. Pure: structs <-> XML text. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "xml/domain-conf.h"

typedef struct {
    int state;          /* virDomainState */
    int reason;         /* its reason enum */
    int id;             /* domain id */
    pid_t pid;          /* QEMU's pid */
    char *monitor_path; /* QEMU's QMP socket */
    DomainDef *def;     /* the live definition */
    gboolean vcpu_unplugged; /* a vCPU was unplugged in this run (QEMU under TCG then
                              * crashes on a plug: qemu-hotplug.c refuses it) */
    gboolean updated;        /* the persistent config changed while it ran (IS_UPDATED) */
    /* A vCPU removal whose DEVICE_DELETED had not come yet: the QOM path device_del was
     * asked for (NULL: none) and its vCPU, so that a restarted daemon still completes it
     * (<vcpus><unplug vcpu='N' path='...'/></vcpus>). */
    char *unplug_path;
    unsigned int unplug_vcpu;
} QemuStatus;

/* The status file text for @status. */
char *qemu_status_format(const QemuStatus *status);

/* Parse a status file into @ret_status (cleared first). VIR_ERR_XML_ERROR naming what is
 * missing or wrong. A damaged <unplug> is ignored rather than losing the domain: the
 * next query of QEMU's vCPUs puts the definition right. */
gboolean qemu_status_parse(const char *xml, QemuStatus *ret_status, GError **error);

void qemu_status_clear(QemuStatus *status);
