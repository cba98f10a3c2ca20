/* QEMU capabilities built from the canned QMP replies in tests/data/qemu (no process). */
#include "canned-caps.h"

#include <string.h>

#include "drivers/qemu/qmp.h"

static char *
data_path(const char *name)
{
    const char *srcdir = g_getenv("VIRTD_SRCDIR");

    return g_build_filename(srcdir ? srcdir : ".", "tests", "data", name, NULL);
}

/* The replies object of a canned directory: each file is a QMP reply as QEMU sent it,
 * parsed with the same code the monitor uses. */
json_object *
load_replies(const char *arch)
{
    g_autofree char *rel = g_strdup_printf("qemu/replies-%s", arch);
    g_autofree char *dir_path = data_path(rel);
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
    json_object *replies = json_object_new_object();
    const char *name;

    g_assert_nonnull(dir);
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(dir_path, name, NULL);
        g_autofree char *text = NULL;
        g_autofree char *command = NULL;
        g_autoptr(QmpMessage) msg = NULL;
        g_autoptr(GError) err = NULL;
        gsize len;

        if (!g_str_has_suffix(name, ".json"))
            continue;
        g_assert_true(g_file_get_contents(path, &text, &len, NULL));
        msg = qmp_message_parse(text, len, &err);
        g_assert_no_error(err);
        g_assert_cmpint(msg->kind, ==, QMP_MESSAGE_RETURN);
        command = g_strndup(name, strlen(name) - 5);
        json_object_object_add(replies, command, json_object_get(msg->value));
    }
    return replies;
}

QemuCaps *
canned_caps(const char *arch, const char *binary, gboolean kvm)
{
    QemuHostFacts facts = { .kvm_usable = kvm, .has_swtpm = FALSE };
    json_object *replies = load_replies(arch);
    g_autoptr(GError) err = NULL;
    QemuCaps *caps = qemu_caps_new_from_replies(binary, replies, &facts, &err);

    json_object_put(replies);
    g_assert_no_error(err);
    return caps;
}

