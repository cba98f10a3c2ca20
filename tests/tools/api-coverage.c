/* Writes docs/api-coverage.md from the dispatch table, or checks that the file is current.
 * usage: api-coverage FILE   (TEST_REGENERATE=1 rewrites FILE) */
#include <stdio.h>

#include "dispatch.h"
#include "packet.h"
#include "procedures.h"

static void
append_program(GString *out, guint32 prog, const char *title, guint *ret_done, guint *ret_all)
{
    gsize n;
    const ProcInfo *procs = proc_info_list(prog, &n);
    g_string_append_printf(out, "\n## %s program\n\n", title);
    g_string_append(out, "| # | procedure | read-only connection | virtd |\n|---:|---|---|---|\n");
    for (gsize i = 0; i < n; i++) {
        gboolean done = dispatch_is_implemented(prog, procs[i].number);
        *ret_done += done;
        (*ret_all)++;
        g_string_append_printf(out, "| %d | %s | %s | %s |\n", procs[i].number, procs[i].name,
                               procs[i].access == PROC_ACCESS_WRITE ? "denied" : "allowed",
                               done ? "implemented" : "not yet");
    }
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    g_autoptr(GString) body = g_string_new(NULL);
    guint done = 0, all = 0;
    append_program(body, PROGRAM_REMOTE, "REMOTE", &done, &all);
    append_program(body, PROGRAM_QEMU, "QEMU", &done, &all);

    g_autoptr(GString) doc = g_string_new(
        "# API coverage\n\n"
        "Every procedure of libvirt's REMOTE and QEMU programs and whether virtd answers it.\n"
        "A procedure marked \"not yet\" gets VIR_ERR_NO_SUPPORT naming it (\"this function is\n"
        "not supported by virtd: NAME\"); \"denied\" ones fail with OPERATION_DENIED on a\n"
        "read-only connection. Generated from the dispatch table by tests/tools/api-coverage.c;\n"
        "the test suite fails when this file is out of date (TEST_REGENERATE=1 rewrites it).\n");
    g_string_append_printf(doc, "\nImplemented: %u of %u procedures.\n", done, all);
    g_string_append(doc, body->str);

    if (g_getenv("TEST_REGENERATE"))
        return g_file_set_contents(argv[1], doc->str, -1, NULL) ? 0 : 1;
    g_autofree char *current = NULL;
    if (!g_file_get_contents(argv[1], &current, NULL, NULL) || g_strcmp0(current, doc->str)) {
        fprintf(stderr, "%s is out of date: run the suite with TEST_REGENERATE=1\n", argv[1]);
        return 1;
    }
    return 0;
}
