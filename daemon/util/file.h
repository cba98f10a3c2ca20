/* File helpers with no protocol or hypervisor knowledge. */
#pragma once

#include <glib.h>

/* Write @len bytes of @data to @path atomically and durably: a temporary file in the same
 * directory, fsync, rename over @path, fsync of the directory. A crash at any moment
 * leaves either the old file or the new one. @mode is the new file's permission bits.
 * Errors: VIR_ERR_SYSTEM_ERROR naming @path. */
gboolean file_write_atomic(const char *path, const char *data, gsize len, int mode,
                           GError **error);

/* Remove @path and fsync its directory so the removal survives a crash. A missing file
 * is not an error. */
gboolean file_remove_durable(const char *path, GError **error);

/* mkdir -p @path with @mode. */
gboolean file_make_dirs(const char *path, int mode, GError **error);

/* fsync the directory @dir. */
gboolean file_sync_dir(const char *dir, GError **error);
