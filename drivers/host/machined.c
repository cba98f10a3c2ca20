/* systemd-machined over the system D-Bus (libdbus-1): probe, register, terminate.
 *
 * libdbus-1 is not linked: it and what it pulls in (libsystemd, libgcrypt, libzstd, ...)
 * cost about 1 MiB of RSS on every host, so it is loaded with dlopen() by the first probe
 * that finds a bus listening. Every libdbus call goes through the table dbus_fn. */
#include "drivers/host/machined.h"

#include <dbus/dbus.h>
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/util/virt-error.h"
#include "drivers/host/cgroup.h"

#define MACHINED_SERVICE "org.freedesktop.machine1"
#define MACHINED_PATH "/org/freedesktop/machine1"
#define MACHINED_MANAGER "org.freedesktop.machine1.Manager"
#define MACHINED_NO_SUCH_MACHINE "org.freedesktop.machine1.NoSuchMachine"
#define SYSTEM_BUS_DEFAULT "unix:path=/run/dbus/system_bus_socket"
#define UUID_LEN 16
#define LIBDBUS_SONAME "libdbus-1.so.3"

struct _Machined {
    char *address;
    int timeout_ms;
};

/* ---- names ---- */

char *
machined_machine_name(int id, const char *name)
{
    /* the group name is the machine name plus a fixed suffix */
    char *group = cgroup_machine_name(id, name);
    char *suffix = g_strrstr(group, ".libvirt-qemu");

    if (suffix)
        *suffix = '\0';
    return group;
}

/* systemd's unit name escaping of one string: '/' becomes '-'; '-', '\', a leading '.' and
 * anything but ASCII letters, digits, ':', '_' and '.' become "\xNN". */
static void
unit_escape(GString *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        guchar c = (guchar)*p;

        if (c == '/')
            g_string_append_c(out, '-');
        else if ((p == text && c == '.') ||
                 !(g_ascii_isalnum(c) || c == ':' || c == '_' || c == '.'))
            g_string_append_printf(out, "\\x%02x", c);
        else
            g_string_append_c(out, (char)c);
    }
}

char *
machined_scope_unit(const char *name)
{
    GString *out = g_string_new("machine-");

    unit_escape(out, name);
    g_string_append(out, ".scope");
    return g_string_free(out, FALSE);
}

char *
machined_slice_name(const char *partition, GError **error)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_auto(GStrv) parts = NULL;

    if (!partition || !*partition)
        partition = "/machine";
    if (partition[0] != '/') {
        virt_error_set(error, VIR_FROM_SYSTEMD, VIR_ERR_CONFIG_UNSUPPORTED,
                       _("resource partition '%s' must start with '/'"), partition);
        return NULL;
    }
    parts = g_strsplit(partition + 1, "/", -1);
    for (guint i = 0; parts[i]; i++) {
        if (!*parts[i]) {
            virt_error_set(error, VIR_FROM_SYSTEMD, VIR_ERR_CONFIG_UNSUPPORTED,
                           _("resource partition '%s' has an invalid component"), partition);
            return NULL;
        }
        if (i > 0)
            g_string_append_c(out, '-');
        unit_escape(out, parts[i]);
    }
    g_string_append(out, ".slice");
    return g_string_free(g_steal_pointer(&out), FALSE);
}

char *
machined_scope_path(const char *proc_cgroup, const char *unit)
{
    g_auto(GStrv) lines = g_strsplit(proc_cgroup ? proc_cgroup : "", "\n", -1);

    /* "ID:CONTROLLERS:PATH"; the path may itself hold ':' */
    for (char **line = lines; *line; line++) {
        const char *first = strchr(*line, ':');
        const char *path = first ? strchr(first + 1, ':') : NULL;
        g_auto(GStrv) parts = NULL;

        if (!path || path[1] != '/')
            continue;
        parts = g_strsplit(path + 1, "/", -1);
        for (guint i = 1; parts[i]; i++) {
            if (g_str_equal(parts[i], unit)) {
                GString *out = g_string_new(NULL);

                for (guint j = 1; j <= i; j++)
                    g_string_append_printf(out, "/%s", parts[j]);
                return g_string_free(out, FALSE);
            }
        }
    }
    return NULL;
}

/* ---- libdbus, loaded on demand ---- */

/* Every libdbus function this file calls. */
#define LIBDBUS_FUNCTIONS(F)                                                                   \
    F(bus_set_unique_name)                                                                     \
    F(connection_close)                                                                        \
    F(connection_open_private)                                                                 \
    F(connection_send_with_reply_and_block)                                                    \
    F(connection_set_exit_on_disconnect)                                                       \
    F(connection_unref)                                                                        \
    F(error_free)                                                                              \
    F(error_init)                                                                              \
    F(error_is_set)                                                                            \
    F(free_string_array)                                                                       \
    F(message_append_args)                                                                     \
    F(message_get_args)                                                                        \
    F(message_iter_append_basic)                                                               \
    F(message_iter_append_fixed_array)                                                         \
    F(message_iter_close_container)                                                            \
    F(message_iter_init_append)                                                                \
    F(message_iter_open_container)                                                             \
    F(message_new_method_call)                                                                 \
    F(message_unref)                                                                           \
    F(set_error_const)                                                                         \
    F(threads_init_default)

/* dbus_fn.NAME is libdbus's dbus_NAME; filled once by libdbus_load(), never changed after. */
static struct {
#define LIBDBUS_FIELD(name) typeof(dbus_##name) *name;
    LIBDBUS_FUNCTIONS(LIBDBUS_FIELD)
#undef LIBDBUS_FIELD
} dbus_fn;

static const char *libdbus_soname = LIBDBUS_SONAME;

/* GOnce body: NULL once dbus_fn is filled, else why libdbus cannot be used (kept). */
static gpointer
libdbus_load(gpointer data)
{
    void *handle = dlopen(libdbus_soname, RTLD_NOW | RTLD_LOCAL);

    (void)data;
    if (!handle)
        return g_strdup(dlerror());
#define LIBDBUS_RESOLVE(name)                                                                  \
    if (!(*(void **)&dbus_fn.name = dlsym(handle, "dbus_" #name))) {                          \
        char *why = g_strdup(dlerror());                                                       \
        memset(&dbus_fn, 0, sizeof(dbus_fn));                                                  \
        dlclose(handle);                                                                       \
        return why;                                                                            \
    }
    LIBDBUS_FUNCTIONS(LIBDBUS_RESOLVE)
#undef LIBDBUS_RESOLVE
    /* the handle stays open for the process's life; connections are used from any thread */
    dbus_fn.threads_init_default();
    return NULL;
}

/* Loads libdbus the first time (thread-safe). NULL when dbus_fn is ready, else the reason. */
static const char *
libdbus_ready(void)
{
    static GOnce once = G_ONCE_INIT;

    return g_once(&once, libdbus_load, NULL);
}

void
machined_set_library(const char *soname)
{
    libdbus_soname = soname;
}

/* When @address is one plain "unix:path=PATH" (the system bus's usual form), whether
 * something listens there, without libdbus: FALSE with @ret_why set when not. Other
 * addresses are left to libdbus (TRUE). */
static gboolean
bus_listening(const char *address, char **ret_why)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    g_autofree char *path = NULL;
    int fd, rc, saved;

    if (!g_str_has_prefix(address, "unix:path=") || strpbrk(address, ",;") ||
        !(path = g_uri_unescape_string(address + strlen("unix:path="), NULL)) ||
        strlen(path) >= sizeof(sun.sun_path))
        return TRUE;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return TRUE;
    rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
    saved = errno;
    close(fd);
    if (rc == 0)
        return TRUE;
    /* the words libdbus uses for the same failure, so the log reads the same either way */
    *ret_why = g_strdup_printf("Failed to connect to socket %s: %s", path, g_strerror(saved));
    return FALSE;
}

/* ---- D-Bus ---- */

/* "systemd-machined call METHOD failed: MESSAGE" from @err. */
static void
call_failed(GError **error, const Machined *machined, const char *method, const DBusError *err)
{
    if (g_strcmp0(err->name, DBUS_ERROR_NO_REPLY) == 0)
        virt_error_set(error, VIR_FROM_SYSTEMD, VIR_ERR_DBUS_SERVICE,
                       _("systemd-machined call %s failed: no reply within %d ms"), method,
                       machined->timeout_ms);
    else
        virt_error_set(error, VIR_FROM_SYSTEMD, VIR_ERR_DBUS_SERVICE,
                       _("systemd-machined call %s failed: %s"), method,
                       err->message ? err->message : err->name);
}

static void
connection_close(DBusConnection *conn)
{
    if (!conn)
        return;
    dbus_fn.connection_close(conn);
    dbus_fn.connection_unref(conn);
}

/* Send @msg (consumed) on @conn, wait at most the timeout; NULL with @err set on failure. */
static DBusMessage *
round_trip(const Machined *machined, DBusConnection *conn, DBusMessage *msg, DBusError *err)
{
    DBusMessage *reply = dbus_fn.connection_send_with_reply_and_block(conn, msg,
                                                                      machined->timeout_ms,
                                                                      err);

    dbus_fn.message_unref(msg);
    return reply;
}

/* A private connection to the bus, registered (Hello) within the timeout. */
static DBusConnection *
bus_open(const Machined *machined, DBusError *err)
{
    DBusConnection *conn = dbus_fn.connection_open_private(machined->address, err);
    DBusMessage *reply;
    const char *unique = NULL;

    if (!conn)
        return NULL;
    dbus_fn.connection_set_exit_on_disconnect(conn, FALSE);
    /* dbus_bus_register() would wait libdbus's default 25 s: say Hello ourselves */
    reply = round_trip(machined, conn,
                       dbus_fn.message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS,
                                                       DBUS_INTERFACE_DBUS, "Hello"),
                       err);
    if (!reply || !dbus_fn.message_get_args(reply, err, DBUS_TYPE_STRING, &unique,
                                            DBUS_TYPE_INVALID) ||
        !dbus_fn.bus_set_unique_name(conn, unique)) {
        if (reply)
            dbus_fn.message_unref(reply);
        if (!dbus_fn.error_is_set(err))
            dbus_fn.set_error_const(err, DBUS_ERROR_FAILED, "the bus did not answer Hello");
        connection_close(conn);
        return NULL;
    }
    dbus_fn.message_unref(reply);
    return conn;
}

/* Ask the bus about @name with @method (NameHasOwner, or ListActivatableNames when @method
 * is that): TRUE when it has an owner / is listed. */
static gboolean
bus_knows_name(const Machined *machined, DBusConnection *conn, const char *method,
               const char *name, gboolean *ret_known, DBusError *err)
{
    DBusMessage *msg = dbus_fn.message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS,
                                                       DBUS_INTERFACE_DBUS, method);
    gboolean listing = g_str_equal(method, "ListActivatableNames");
    DBusMessage *reply;
    gboolean ok;

    if (!listing)
        dbus_fn.message_append_args(msg, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID);
    if (!(reply = round_trip(machined, conn, msg, err)))
        return FALSE;
    if (listing) {
        char **names = NULL;
        int n = 0;

        ok = dbus_fn.message_get_args(reply, err, DBUS_TYPE_ARRAY, DBUS_TYPE_STRING, &names,
                                      &n, DBUS_TYPE_INVALID);
        *ret_known = FALSE;
        for (int i = 0; ok && i < n; i++)
            *ret_known = *ret_known || g_str_equal(names[i], name);
        dbus_fn.free_string_array(names);
    } else {
        dbus_bool_t owned = FALSE;

        ok = dbus_fn.message_get_args(reply, err, DBUS_TYPE_BOOLEAN, &owned, DBUS_TYPE_INVALID);
        *ret_known = owned;
    }
    dbus_fn.message_unref(reply);
    return ok;
}

Machined *
machined_probe(const char *address)
{
    g_autoptr(Machined) machined = g_new0(Machined, 1);
    DBusConnection *conn;
    DBusError err;
    gboolean known = FALSE;

    g_autofree char *unreachable = NULL;
    const char *load_failure;

    if (!address)
        address = g_getenv("DBUS_SYSTEM_BUS_ADDRESS");
    machined->address = g_strdup(address && *address ? address : SYSTEM_BUS_DEFAULT);
    machined->timeout_ms = MACHINED_TIMEOUT_MS;

    /* no bus, no need for libdbus: most hosts without machined stop here */
    if (!bus_listening(machined->address, &unreachable)) {
        g_message(_("no system D-Bus: %s; domains are not registered with systemd-machined"),
                  unreachable);
        return NULL;
    }
    if ((load_failure = libdbus_ready())) {
        g_message(_("cannot load %s: %s; domains are not registered with systemd-machined"),
                  libdbus_soname, load_failure);
        return NULL;
    }
    dbus_fn.error_init(&err);
    if (!(conn = bus_open(machined, &err))) {
        g_message(_("no system D-Bus: %s; domains are not registered with systemd-machined"),
                  err.message);
        dbus_fn.error_free(&err);
        return NULL;
    }
    if (bus_knows_name(machined, conn, "NameHasOwner", MACHINED_SERVICE, &known, &err) &&
        !known)
        bus_knows_name(machined, conn, "ListActivatableNames", MACHINED_SERVICE, &known, &err);
    connection_close(conn);
    if (dbus_fn.error_is_set(&err)) {
        g_message(_("systemd-machined is not running: cannot ask the system bus about '%s': %s"),
                  MACHINED_SERVICE, err.message);
        dbus_fn.error_free(&err);
        return NULL;
    }
    if (!known) {
        g_message(_("systemd-machined is not running: '%s' has no owner on the system bus "
                    "and cannot be activated; domains are not registered with it"),
                  MACHINED_SERVICE);
        return NULL;
    }
    g_message("systemd-machined registers the domains (bus '%s')", machined->address);
    return g_steal_pointer(&machined);
}

void
machined_free(Machined *machined)
{
    if (!machined)
        return;
    g_free(machined->address);
    g_free(machined);
}

void
machined_set_timeout(Machined *machined, int timeout_ms)
{
    machined->timeout_ms = timeout_ms;
}

/* Append "a(sv)" entry @key = string array @values (NULL-terminated). */
static void
append_strv_property(DBusMessageIter *props, const char *key, const char *const *values)
{
    DBusMessageIter entry, variant, array;

    dbus_fn.message_iter_open_container(props, DBUS_TYPE_STRUCT, NULL, &entry);
    dbus_fn.message_iter_append_basic(&entry, DBUS_TYPE_STRING, &key);
    dbus_fn.message_iter_open_container(&entry, DBUS_TYPE_VARIANT, "as", &variant);
    dbus_fn.message_iter_open_container(&variant, DBUS_TYPE_ARRAY, "s", &array);
    for (const char *const *v = values; *v; v++)
        dbus_fn.message_iter_append_basic(&array, DBUS_TYPE_STRING, v);
    dbus_fn.message_iter_close_container(&variant, &array);
    dbus_fn.message_iter_close_container(&entry, &variant);
    dbus_fn.message_iter_close_container(props, &entry);
}

static void
append_string_property(DBusMessageIter *props, const char *key, const char *value)
{
    DBusMessageIter entry, variant;

    dbus_fn.message_iter_open_container(props, DBUS_TYPE_STRUCT, NULL, &entry);
    dbus_fn.message_iter_append_basic(&entry, DBUS_TYPE_STRING, &key);
    dbus_fn.message_iter_open_container(&entry, DBUS_TYPE_VARIANT, "s", &variant);
    dbus_fn.message_iter_append_basic(&variant, DBUS_TYPE_STRING, &value);
    dbus_fn.message_iter_close_container(&entry, &variant);
    dbus_fn.message_iter_close_container(props, &entry);
}

/* The CreateMachine(WithNetwork) call for @vm; @with_network adds the interface list. */
static DBusMessage *
create_message(const MachinedVm *vm, const char *slice, gboolean with_network)
{
    static const char *const after[] = { "libvirtd.service", "virtqemud.service", NULL };
    static const char *const before[] = { "virt-guest-shutdown.target", NULL };
    const char *service = "libvirt-qemu";
    const char *class = "vm";
    const char *root = "";
    dbus_uint32_t leader = (dbus_uint32_t)vm->leader;
    DBusMessage *msg = dbus_fn.message_new_method_call(
        MACHINED_SERVICE, MACHINED_PATH, MACHINED_MANAGER,
        with_network ? "CreateMachineWithNetwork" : "CreateMachine");
    DBusMessageIter args, array;

    dbus_fn.message_iter_init_append(msg, &args);
    dbus_fn.message_iter_append_basic(&args, DBUS_TYPE_STRING, &vm->name);
    dbus_fn.message_iter_open_container(&args, DBUS_TYPE_ARRAY, "y", &array);
    dbus_fn.message_iter_append_fixed_array(&array, DBUS_TYPE_BYTE, &vm->uuid, UUID_LEN);
    dbus_fn.message_iter_close_container(&args, &array);
    dbus_fn.message_iter_append_basic(&args, DBUS_TYPE_STRING, &service);
    dbus_fn.message_iter_append_basic(&args, DBUS_TYPE_STRING, &class);
    dbus_fn.message_iter_append_basic(&args, DBUS_TYPE_UINT32, &leader);
    dbus_fn.message_iter_append_basic(&args, DBUS_TYPE_STRING, &root);
    if (with_network) {
        static const int none[1];
        const int *ifindices = vm->ifindices ? vm->ifindices : none;

        dbus_fn.message_iter_open_container(&args, DBUS_TYPE_ARRAY, "i", &array);
        dbus_fn.message_iter_append_fixed_array(&array, DBUS_TYPE_INT32, &ifindices,
                                                (int)vm->n_ifindices);
        dbus_fn.message_iter_close_container(&args, &array);
    }
    dbus_fn.message_iter_open_container(&args, DBUS_TYPE_ARRAY, "(sv)", &array);
    append_string_property(&array, "Slice", slice);
    append_strv_property(&array, "After", after);
    append_strv_property(&array, "Before", before);
    dbus_fn.message_iter_close_container(&args, &array);
    return msg;
}

gboolean
machined_create(Machined *machined, const MachinedVm *vm, GError **error)
{
    g_autofree char *slice = machined_slice_name(vm->partition, error);
    const char *method = "CreateMachineWithNetwork";
    DBusConnection *conn;
    DBusMessage *reply;
    DBusError err;

    if (!slice)
        return FALSE;
    dbus_fn.error_init(&err);
    if (!(conn = bus_open(machined, &err))) {
        call_failed(error, machined, method, &err);
        dbus_fn.error_free(&err);
        return FALSE;
    }
    reply = round_trip(machined, conn, create_message(vm, slice, TRUE), &err);
    if (!reply && g_strcmp0(err.name, DBUS_ERROR_UNKNOWN_METHOD) == 0) {
        /* a machined older than the network variant */
        dbus_fn.error_free(&err);
        method = "CreateMachine";
        reply = round_trip(machined, conn, create_message(vm, slice, FALSE), &err);
    }
    connection_close(conn);
    if (!reply) {
        call_failed(error, machined, method, &err);
        dbus_fn.error_free(&err);
        return FALSE;
    }
    dbus_fn.message_unref(reply);
    return TRUE;
}

gboolean
machined_terminate(Machined *machined, const char *name, GError **error)
{
    DBusConnection *conn;
    DBusMessage *msg, *reply;
    DBusError err;

    dbus_fn.error_init(&err);
    if (!(conn = bus_open(machined, &err))) {
        call_failed(error, machined, "TerminateMachine", &err);
        dbus_fn.error_free(&err);
        return FALSE;
    }
    msg = dbus_fn.message_new_method_call(MACHINED_SERVICE, MACHINED_PATH, MACHINED_MANAGER,
                                          "TerminateMachine");
    dbus_fn.message_append_args(msg, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID);
    reply = round_trip(machined, conn, msg, &err);
    connection_close(conn);
    if (reply) {
        dbus_fn.message_unref(reply);
        return TRUE;
    }
    /* machined forgets a machine whose scope emptied: nothing left to terminate */
    if (g_strcmp0(err.name, MACHINED_NO_SUCH_MACHINE) == 0) {
        dbus_fn.error_free(&err);
        return TRUE;
    }
    call_failed(error, machined, "TerminateMachine", &err);
    dbus_fn.error_free(&err);
    return FALSE;
}
