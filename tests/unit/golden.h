/* Golden files of the unit tests: what a test produced must equal the file under
 * tests/data; with TEST_REGENERATE=1 in the environment the file is rewritten instead
 * (review its diff as the spec). */
#pragma once

#include <glib.h>

/* Compare @actual with the golden file @path (or rewrite it, see above). */
void golden_assert(const char *path, const char *actual);

/* Whether the run rewrites golden files. */
gboolean golden_regenerating(void);
