/* Procedure tables built from rpc/protocol/procedures.def; see procedures.h. */
#include "procedures.h"

#include "packet.h"

#define RO_OK PROC_ACCESS_RO_OK
#define WRITE PROC_ACCESS_WRITE
#define HIGH TRUE
#define NORMAL FALSE

static const ProcInfo remote_procs[] = {
#define REMOTE_PROC(num, name, access, prio) {num, #name, access, prio},
#define QEMU_PROC(num, name, access, prio)
#include "protocol/procedures.def"
#undef REMOTE_PROC
#undef QEMU_PROC
};

static const ProcInfo qemu_procs[] = {
#define REMOTE_PROC(num, name, access, prio)
#define QEMU_PROC(num, name, access, prio) {num, #name, access, prio},
#include "protocol/procedures.def"
#undef REMOTE_PROC
#undef QEMU_PROC
};

const ProcInfo *
proc_info_list(guint32 prog, gsize *ret_count)
{
    if (prog == PROGRAM_REMOTE) {
        *ret_count = G_N_ELEMENTS(remote_procs);
        return remote_procs;
    }
    if (prog == PROGRAM_QEMU) {
        *ret_count = G_N_ELEMENTS(qemu_procs);
        return qemu_procs;
    }
    *ret_count = 0;
    return NULL;
}

const ProcInfo *
proc_info_lookup(guint32 prog, int proc)
{
    gsize n;
    const ProcInfo *list = proc_info_list(prog, &n);
    /* Numbers are dense from 1 in both programs: index directly, verify, else search. */
    if (proc >= 1 && (gsize)proc <= n && list[proc - 1].number == proc)
        return &list[proc - 1];
    for (gsize i = 0; i < n; i++)
        if (list[i].number == proc)
            return &list[i];
    return NULL;
}
