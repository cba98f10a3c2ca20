/* The procedure tables of the REMOTE and QEMU programs (rpc/protocol/procedures.def). */
#pragma once

#include <glib.h>

/* RPROC_<NAME> and QPROC_<NAME>: procedure numbers by name. */
enum {
#define REMOTE_PROC(num, name, access, prio) RPROC_##name = num,
#define QEMU_PROC(num, name, access, prio) QPROC_##name = num,
#include "protocol/procedures.def"
#undef REMOTE_PROC
#undef QEMU_PROC
};

typedef enum {
    PROC_ACCESS_RO_OK, /* allowed on a read-only connection */
    PROC_ACCESS_WRITE, /* changes state: denied on a read-only connection */
} ProcAccess;

typedef struct {
    int number;
    const char *name; /* e.g. "DOMAIN_CREATE" */
    ProcAccess access;
    gboolean high_priority;
} ProcInfo;

/* The entry for procedure @proc of program @prog, or NULL when it does not exist. */
const ProcInfo *proc_info_lookup(guint32 prog, int proc);

/* Every procedure of @prog (NULL-free array of @ret_count entries, sorted by number). */
const ProcInfo *proc_info_list(guint32 prog, gsize *ret_count);
