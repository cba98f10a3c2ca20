/* Golden files of the unit tests; see golden.h. */
#include <glib.h>
#include <string.h>

#include "golden.h"

gboolean
golden_regenerating(void)
{
    return g_getenv("TEST_REGENERATE") != NULL;
}

void
golden_assert(const char *path, const char *actual)
{
    g_autofree char *expected = NULL;
    g_autoptr(GError) err = NULL;

    if (golden_regenerating()) {
        g_assert_true(g_file_set_contents(path, actual, -1, &err));
        return;
    }
    if (!g_file_get_contents(path, &expected, NULL, &err))
        g_error("missing golden file %s (run with TEST_REGENERATE=1): %s", path, err->message);
    if (strcmp(expected, actual) != 0) {
        g_printerr("--- %s\n+++ actual\n%s", path, actual);
        g_assert_cmpstr(expected, ==, actual);
    }
}
