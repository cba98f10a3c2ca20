/* Atomic, durable file writes; see file.h. */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virt-error.h"

gboolean
file_sync_dir(const char *dir, GError **error)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        virt_error_set_errno(error, VIR_FROM_NONE, errno, _("cannot open directory '%s'"), dir);
        return FALSE;
    }
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    if (rc < 0) {
        virt_error_set_errno(error, VIR_FROM_NONE, saved, _("cannot sync directory '%s'"), dir);
        return FALSE;
    }
    return TRUE;
}

gboolean
file_write_atomic(const char *path, const char *data, gsize len, int mode, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *tmp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);

    int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, mode);
    if (fd < 0) {
        virt_error_set_errno(error, VIR_FROM_NONE, errno, _("cannot create '%s'"), tmp);
        return FALSE;
    }
    gsize done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        done += n;
    }
    if (fchmod(fd, mode) < 0 || fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) < 0)
        goto fail;
    return file_sync_dir(dir, error);

fail: {
    int saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    virt_error_set_errno(error, VIR_FROM_NONE, saved, _("cannot write '%s'"), path);
    return FALSE;
}
}

gboolean
file_remove_durable(const char *path, GError **error)
{
    if (unlink(path) < 0) {
        if (errno == ENOENT)
            return TRUE;
        virt_error_set_errno(error, VIR_FROM_NONE, errno, _("cannot remove '%s'"), path);
        return FALSE;
    }
    g_autofree char *dir = g_path_get_dirname(path);
    return file_sync_dir(dir, error);
}

gboolean
file_make_dirs(const char *path, int mode, GError **error)
{
    if (g_mkdir_with_parents(path, mode) < 0) {
        virt_error_set_errno(error, VIR_FROM_NONE, errno, _("cannot create directory '%s'"),
                             path);
        return FALSE;
    }
    return TRUE;
}
