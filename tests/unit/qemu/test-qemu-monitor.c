/* The asynchronous QMP monitor against a scripted fake QEMU on a unix socket, and once
 * against the real /usr/bin/qemu-system-x86_64 (skipped when it is not installed). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/util/virt-error.h"
#include "drivers/qemu/qemu-monitor.h"

#define REAL_QEMU "/usr/bin/qemu-system-x86_64"
#define WAIT_US (10 * G_USEC_PER_SEC)

/* ---- the fake QEMU ----
 *
 * A thread that listens on a unix socket, accepts one client and plays a script:
 *   "> TEXT"  send TEXT and "\r\n" in one write; "@NAME@" becomes the id of the last
 *             command NAME received
 *   "< NAME"  read the next command, which must be NAME ("*": any); remember its id and
 *             line, and tell the test through the notes queue
 *   "close"   close the connection at once
 * After the script it reads until the client closes.
 */

#define GREETING "> {\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 8}}, " \
                 "\"capabilities\": [\"oob\"]}}"
#define HELLO GREETING, "< qmp_capabilities", "> {\"return\": {}, \"id\": \"@qmp_capabilities@\"}"

typedef struct {
    char *path;
    const char *const *script;
    int delay_ms;          /* before listening */
    GThread *thread;
    GAsyncQueue *notes;    /* names of the commands received (char*) */
    GMutex lock;
    GHashTable *ids;       /* command -> its last id */
    GHashTable *lines;     /* command -> its last line */
} FakeQemu;

static void
fake_send(int fd, const char *text)
{
    g_autofree char *line = g_strdup_printf("%s\r\n", text);
    gsize len = strlen(line);

    /* The client may be gone already (a test that closes early): MSG_NOSIGNAL. */
    (void)!send(fd, line, len, MSG_NOSIGNAL);
}

static char *
fake_substitute(FakeQemu *fake, const char *text)
{
    GString *out = g_string_new(NULL);
    const char *p = text;

    for (;;) {
        const char *at = strchr(p, '@');
        const char *end;
        g_autofree char *name = NULL;

        if (!at || !(end = strchr(at + 1, '@'))) {
            g_string_append(out, p);
            break;
        }
        g_string_append_len(out, p, at - p);
        name = g_strndup(at + 1, end - at - 1);
        g_mutex_lock(&fake->lock);
        g_string_append(out, g_hash_table_lookup(fake->ids, name) ?: "unknown-id");
        g_mutex_unlock(&fake->lock);
        p = end + 1;
    }
    return g_string_free(out, FALSE);
}

/* The next line from @fd, or NULL at EOF. */
static char *
fake_read_line(int fd, QmpLineBuffer *in)
{
    for (;;) {
        char *line = qmp_line_buffer_next(in);
        char chunk[4096];
        ssize_t n;

        if (line)
            return line;
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return NULL;
        qmp_line_buffer_feed(in, chunk, n);
    }
}

static void
fake_expect(FakeQemu *fake, int fd, QmpLineBuffer *in, const char *want)
{
    g_autofree char *line = fake_read_line(fd, in);
    json_object *cmd, *exec, *id;
    const char *name;

    g_assert_nonnull(line);
    cmd = json_tokener_parse(line);
    g_assert_nonnull(cmd);
    g_assert_true(json_object_object_get_ex(cmd, "execute", &exec));
    g_assert_true(json_object_object_get_ex(cmd, "id", &id));
    name = json_object_get_string(exec);
    if (strcmp(want, "*") != 0)
        g_assert_cmpstr(name, ==, want);
    g_mutex_lock(&fake->lock);
    g_hash_table_insert(fake->ids, g_strdup(name), g_strdup(json_object_get_string(id)));
    g_hash_table_insert(fake->lines, g_strdup(name), g_strdup(line));
    g_mutex_unlock(&fake->lock);
    g_async_queue_push(fake->notes, g_strdup(name));
    json_object_put(cmd);
}

static gpointer
fake_thread(gpointer data)
{
    FakeQemu *fake = data;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_autoptr(QmpLineBuffer) in = qmp_line_buffer_new();
    int lfd, fd;
    char *line;

    if (fake->delay_ms)
        g_usleep(fake->delay_ms * 1000);
    g_assert_cmpuint(strlen(fake->path), <, sizeof(addr.sun_path));
    strcpy(addr.sun_path, fake->path);
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(lfd, >=, 0);
    g_assert_cmpint(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(lfd, 1), ==, 0);
    fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    close(lfd);

    for (const char *const *step = fake->script; *step; step++) {
        if (g_str_has_prefix(*step, "> ")) {
            g_autofree char *text = fake_substitute(fake, *step + 2);

            fake_send(fd, text);
        } else if (g_str_has_prefix(*step, "< ")) {
            fake_expect(fake, fd, in, *step + 2);
        } else if (strcmp(*step, "close") == 0) {
            close(fd);
            return NULL;
        } else {
            g_error("bad script step '%s'", *step);
        }
    }
    while ((line = fake_read_line(fd, in)))
        g_free(line);
    close(fd);
    return NULL;
}

static FakeQemu *
fake_start(const char *dir, const char *const *script, int delay_ms)
{
    FakeQemu *fake = g_new0(FakeQemu, 1);

    fake->path = g_build_filename(dir, "qmp.sock", NULL);
    fake->script = script;
    fake->delay_ms = delay_ms;
    fake->notes = g_async_queue_new_full(g_free);
    g_mutex_init(&fake->lock);
    fake->ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    fake->lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    fake->thread = g_thread_new("fake-qemu", fake_thread, fake);
    return fake;
}

/* Wait for the fake to finish its script and see the client go. */
static void
fake_join(FakeQemu *fake)
{
    g_thread_join(fake->thread);
    unlink(fake->path);
    g_free(fake->path);
    g_async_queue_unref(fake->notes);
    g_hash_table_unref(fake->ids);
    g_hash_table_unref(fake->lines);
    g_mutex_clear(&fake->lock);
    g_free(fake);
}

/* Wait until the fake has received @name (skipping the commands before it). */
static void
fake_wait_note(FakeQemu *fake, const char *name)
{
    for (;;) {
        g_autofree char *got = g_async_queue_timeout_pop(fake->notes, WAIT_US);

        g_assert_nonnull(got);
        if (strcmp(got, name) == 0)
            return;
    }
}

/* ---- the test environment: an I/O thread and a monitor on the fake ---- */

typedef struct {
    char *dir;
    FakeQemu *fake;
    GMainContext *ctx;
    GMainLoop *loop;
    GThread *io_thread;
    QemuMonitor *mon;
    GAsyncQueue *events;   /* "NAME" for each event, "EOF" for the eof callback (char*) */
    gint eofs;
    const char *close_on;  /* close the monitor from the event callback on this event
                            * (set before opening) */
} Env;

static void
env_on_event(QemuMonitor *mon, const QmpMessage *msg, gpointer opaque)
{
    Env *env = opaque;

    g_assert_true(g_main_context_is_owner(env->ctx));
    g_async_queue_push(env->events, g_strdup(msg->event));
    if (env->close_on && strcmp(msg->event, env->close_on) == 0) {
        /* The test thread forgets env->mon when it sees "CLOSED". */
        qemu_monitor_close(mon);
        g_async_queue_push(env->events, g_strdup("CLOSED"));
    }
}

static void
env_on_eof(QemuMonitor *mon G_GNUC_UNUSED, gpointer opaque)
{
    Env *env = opaque;

    g_atomic_int_inc(&env->eofs);
    g_async_queue_push(env->events, g_strdup("EOF"));
}

static const QemuMonitorCallbacks env_callbacks = {
    .event = env_on_event,
    .eof = env_on_eof,
};

static gpointer
env_io_thread(gpointer data)
{
    Env *env = data;

    g_main_loop_run(env->loop);
    return NULL;
}

/* The I/O thread and, with a @script, the fake QEMU (its socket at env->fake->path). */
static void
env_init(Env *env, const char *const *script, int delay_ms)
{
    g_autoptr(GError) error = NULL;

    memset(env, 0, sizeof(*env));
    env->dir = g_dir_make_tmp("virtd-mon-XXXXXX", &error);
    g_assert_no_error(error);
    if (script)
        env->fake = fake_start(env->dir, script, delay_ms);
    env->ctx = g_main_context_new();
    env->loop = g_main_loop_new(env->ctx, FALSE);
    env->events = g_async_queue_new_full(g_free);
    env->io_thread = g_thread_new("qemu-io", env_io_thread, env);
}

/* Open the monitor on the fake of an env_init()ed @env. */
static void
env_connect(Env *env)
{
    g_autoptr(GError) error = NULL;

    env->mon = qemu_monitor_open(env->fake->path, 5000, env->ctx, &env_callbacks, env, &error);
    g_assert_no_error(error);
    g_assert_nonnull(env->mon);
}

/* env_init() and env_connect(). */
static void
env_open(Env *env, const char *const *script)
{
    env_init(env, script, 0);
    env_connect(env);
}

static gboolean
env_quit_loop(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

static void
env_clear(Env *env)
{
    GSource *quit = g_idle_source_new();

    if (env->mon)
        qemu_monitor_close(g_steal_pointer(&env->mon));
    /* From the loop itself: a quit before g_main_loop_run() started would be lost. */
    g_source_set_callback(quit, env_quit_loop, env->loop, NULL);
    g_source_attach(quit, env->ctx);
    g_source_unref(quit);
    g_thread_join(env->io_thread);
    if (env->fake)
        fake_join(env->fake);
    g_main_loop_unref(env->loop);
    g_main_context_unref(env->ctx);
    g_async_queue_unref(env->events);
    rmdir(env->dir);
    g_free(env->dir);
}

/* The next event name (or "EOF"), waiting for it. */
static void
env_expect_event(Env *env, const char *name)
{
    g_autofree char *got = g_async_queue_timeout_pop(env->events, WAIT_US);

    g_assert_cmpstr(got, ==, name);
}

static const char *
json_string_member(json_object *obj, const char *key)
{
    json_object *val;

    g_assert_true(json_object_object_get_ex(obj, key, &val));
    return json_object_get_string(val);
}

/* ---- tests ---- */

static void
test_execute(void)
{
    static const char *const script[] = {
        HELLO,
        "< query-status",
        "> {\"return\": {\"status\": \"running\", \"running\": true}, \"id\": \"@query-status@\"}",
        "< no-such-command",
        "> {\"id\": \"@no-such-command@\", \"error\": {\"class\": \"CommandNotFound\", "
        "\"desc\": \"The command no-such-command has not been found\"}}",
        "< human-monitor-command",
        "> {\"return\": \"QEMU 8.2.0 monitor\\r\\n\", \"id\": \"@human-monitor-command@\"}",
        NULL,
    };
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    json_object *ret;
    Env env;

    env_open(&env, script);
    g_assert_cmpstr(g_hash_table_lookup(env.fake->ids, "qmp_capabilities"), ==, "virtd-1");

    ret = qemu_monitor_execute(env.mon, "query-status", NULL, 5000, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(json_string_member(ret, "status"), ==, "running");
    json_object_put(ret);

    ret = qemu_monitor_execute(env.mon, "no-such-command", NULL, 5000, &error);
    g_assert_null(ret);
    g_assert_true(virt_error_is(error, VIR_ERR_OPERATION_FAILED));
    g_assert_cmpint(virt_error_from(error->domain), ==, VIR_FROM_QEMU);
    g_assert_cmpstr(error->message, ==,
                    "QEMU command 'no-such-command' failed: The command no-such-command "
                    "has not been found");
    g_clear_error(&error);

    text = qemu_monitor_execute_hmp(env.mon, "info version", 5000, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(text, ==, "QEMU 8.2.0 monitor\r\n");
    g_mutex_lock(&env.fake->lock);
    g_assert_cmpstr(g_hash_table_lookup(env.fake->lines, "human-monitor-command"), ==,
                    "{\"execute\":\"human-monitor-command\",\"arguments\":"
                    "{\"command-line\":\"info version\"},\"id\":\"virtd-4\"}");
    g_mutex_unlock(&env.fake->lock);

    env_clear(&env);
}

static void
test_events(void)
{
    /* The first event comes in the same write as the capabilities reply. */
    static const char *const script[] = {
        GREETING,
        "< qmp_capabilities",
        "> {\"return\": {}, \"id\": \"@qmp_capabilities@\"}\r\n"
        "{\"event\": \"RESUME\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}",
        "> {\"event\": \"STOP\", \"timestamp\": {\"seconds\": 2, \"microseconds\": 0}}",
        "> {\"event\": \"RESET\", \"data\": {\"guest\": true}, \"timestamp\": "
        "{\"seconds\": 3, \"microseconds\": 0}}",
        "> {\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true}, \"timestamp\": "
        "{\"seconds\": 4, \"microseconds\": 0}}",
        NULL,
    };
    Env env;

    env_open(&env, script);
    env_expect_event(&env, "RESUME");
    env_expect_event(&env, "STOP");
    env_expect_event(&env, "RESET");
    env_expect_event(&env, "SHUTDOWN");
    env_clear(&env);
}

static void
test_interleaved_event(void)
{
    static const char *const script[] = {
        HELLO,
        "< stop",
        "> {\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}",
        "> {\"return\": {}, \"id\": \"@stop@\"}",
        NULL,
    };
    g_autoptr(GError) error = NULL;
    g_autofree char *ev = NULL;
    json_object *ret;
    Env env;

    env_open(&env, script);
    ret = qemu_monitor_execute(env.mon, "stop", NULL, 5000, &error);
    g_assert_no_error(error);
    g_assert_true(json_object_is_type(ret, json_type_object));
    json_object_put(ret);
    /* The event preceded the reply on the wire: its callback has already run. */
    ev = g_async_queue_try_pop(env.events);
    g_assert_cmpstr(ev, ==, "STOP");
    env_clear(&env);
}

typedef struct {
    QemuMonitor *mon; /* a reference of the thread */
    const char *command;
    char *who;
    GError *error;
} ExecJob;

static gpointer
exec_job_thread(gpointer data)
{
    ExecJob *job = data;
    g_autoptr(GError) error = NULL;
    json_object *ret = qemu_monitor_execute(job->mon, job->command, NULL, 10000, &error);

    g_assert_no_error(error);
    job->who = g_strdup(json_string_member(ret, "who"));
    json_object_put(ret);
    qemu_monitor_unref(job->mon);
    return NULL;
}

static void
test_concurrent(void)
{
    /* Both commands are in flight; the replies come in the reverse order. */
    static const char *const script[] = {
        HELLO,
        "< cmd-a",
        "< cmd-b",
        "> {\"return\": {\"who\": \"b\"}, \"id\": \"@cmd-b@\"}",
        "> {\"event\": \"BETWEEN\"}",
        "> {\"return\": {\"who\": \"a\"}, \"id\": \"@cmd-a@\"}",
        NULL,
    };
    ExecJob a = { .command = "cmd-a" }, b = { .command = "cmd-b" };
    GThread *ta, *tb;
    Env env;

    env_open(&env, script);
    a.mon = qemu_monitor_ref(env.mon);
    b.mon = qemu_monitor_ref(env.mon);
    ta = g_thread_new("exec-a", exec_job_thread, &a);
    fake_wait_note(env.fake, "cmd-a");
    tb = g_thread_new("exec-b", exec_job_thread, &b);
    g_thread_join(tb);
    g_thread_join(ta);
    g_assert_cmpstr(a.who, ==, "a");
    g_assert_cmpstr(b.who, ==, "b");
    env_expect_event(&env, "BETWEEN");
    g_free(a.who);
    g_free(b.who);
    env_clear(&env);
}

static void
test_timeout(void)
{
    /* query-never is answered only after the next command, long after its timeout. */
    static const char *const script[] = {
        HELLO,
        "< query-never",
        "< query-status",
        "> {\"return\": {\"late\": true}, \"id\": \"@query-never@\"}",
        "> {\"return\": {\"status\": \"paused\"}, \"id\": \"@query-status@\"}",
        NULL,
    };
    g_autoptr(GError) error = NULL;
    json_object *ret;
    gint64 start;
    Env env;

    env_open(&env, script);
    start = g_get_monotonic_time();
    ret = qemu_monitor_execute(env.mon, "query-never", NULL, 200, &error);
    g_assert_null(ret);
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 200 * 1000);
    g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
    g_assert_true(virt_error_is(error, VIR_ERR_OPERATION_TIMEOUT));
    g_assert_cmpint(virt_error_from(error->domain), ==, VIR_FROM_QEMU);
    g_assert_cmpstr(error->message, ==, "QEMU did not answer 'query-never' within 200 ms");
    g_clear_error(&error);

    /* Still usable; the late reply is dropped, not taken for this one. */
    ret = qemu_monitor_execute(env.mon, "query-status", NULL, 5000, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(json_string_member(ret, "status"), ==, "paused");
    json_object_put(ret);
    env_clear(&env);
}

static void
test_eof(void)
{
    static const char *const script[] = {
        HELLO,
        "< query-status",
        "close",
        NULL,
    };
    g_autoptr(GError) error = NULL;
    json_object *ret;
    gint64 start;
    Env env;

    env_open(&env, script);
    ret = qemu_monitor_execute(env.mon, "query-status", NULL, 10000, &error);
    g_assert_null(ret);
    g_assert_true(virt_error_is(error, VIR_ERR_OPERATION_FAILED));
    g_assert_cmpstr(error->message, ==,
                    "the QEMU monitor closed before answering 'query-status'");
    g_clear_error(&error);
    env_expect_event(&env, "EOF");

    start = g_get_monotonic_time();
    ret = qemu_monitor_execute(env.mon, "query-status", NULL, 10000, &error);
    g_assert_null(ret);
    g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);
    g_assert_true(virt_error_is(error, VIR_ERR_OPERATION_FAILED));
    g_assert_cmpstr(error->message, ==, "the QEMU monitor is closed");

    qemu_monitor_close(g_steal_pointer(&env.mon));
    g_assert_cmpint(g_atomic_int_get(&env.eofs), ==, 1);
    g_assert_null(g_async_queue_try_pop(env.events));
    env_clear(&env);
}

static gpointer
exec_failing_thread(gpointer data)
{
    ExecJob *job = data;
    json_object *ret = qemu_monitor_execute(job->mon, job->command, NULL, 10000, &job->error);

    g_assert_null(ret);
    qemu_monitor_unref(job->mon);
    return NULL;
}

static void
test_close_with_waiter(void)
{
    static const char *const script[] = {
        HELLO,
        "< query-status",
        NULL,
    };
    ExecJob job = { .command = "query-status" };
    GThread *thread;
    gint64 start;
    Env env;

    env_open(&env, script);
    job.mon = qemu_monitor_ref(env.mon);
    thread = g_thread_new("exec", exec_failing_thread, &job);
    fake_wait_note(env.fake, "query-status");
    start = g_get_monotonic_time();
    qemu_monitor_close(g_steal_pointer(&env.mon));
    g_thread_join(thread);
    g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
    g_assert_true(virt_error_is(job.error, VIR_ERR_OPERATION_FAILED));
    g_assert_cmpstr(job.error->message, ==,
                    "the QEMU monitor closed before answering 'query-status'");
    g_clear_error(&job.error);
    env_clear(&env);
    g_assert_cmpint(g_atomic_int_get(&env.eofs), ==, 0);
}

static void
test_log(void)
{
    static const char *const script[] = {
        HELLO,
        "< query-status",
        "> {\"return\": {\"status\": \"running\"}, \"id\": \"@query-status@\"}",
        "> {\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}",
        NULL,
    };
    static const char *const expected[] = {
        "QMP recv: {\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, "
        "\"major\": 8}}, \"capabilities\": [\"oob\"]}}",
        "QMP send: {\"execute\":\"qmp_capabilities\",\"id\":\"virtd-1\"}",
        "QMP recv: {\"return\": {}, \"id\": \"virtd-1\"}",
        "QMP send: {\"execute\":\"query-status\",\"id\":\"virtd-2\"}",
        "QMP recv: {\"return\": {\"status\": \"running\"}, \"id\": \"virtd-2\"}",
        "QMP recv: {\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}",
    };
    g_autoptr(GError) error = NULL;
    g_autofree char *logpath = NULL;
    g_autofree char *contents = NULL;
    g_auto(GStrv) lines = NULL;
    json_object *ret;
    int logfd;
    Env env;

    env_init(&env, script, 0);
    logpath = g_build_filename(env.dir, "domain.log", NULL);
    logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    g_assert_cmpint(logfd, >=, 0);
    env.mon = qemu_monitor_open_full(env.fake->path, 5000, logfd, env.ctx, &env_callbacks,
                                     &env, &error);
    g_assert_no_error(error);
    ret = qemu_monitor_execute(env.mon, "query-status", NULL, 5000, &error);
    g_assert_no_error(error);
    json_object_put(ret);
    env_expect_event(&env, "STOP");
    qemu_monitor_set_log_fd(env.mon, -1);
    close(logfd);

    g_assert_true(g_file_get_contents(logpath, &contents, NULL, &error));
    g_assert_true(g_str_has_suffix(contents, "\n"));
    lines = g_strsplit(contents, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, G_N_ELEMENTS(expected) + 1);
    for (gsize i = 0; i < G_N_ELEMENTS(expected); i++) {
        g_assert_true(g_regex_match_simple(
            "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}\\+0000: ",
            lines[i], 0, 0));
        g_assert_cmpstr(strchr(lines[i], 'Q'), ==, expected[i]);
    }
    unlink(logpath);
    env_clear(&env);
}

static void
test_close_in_callback(void)
{
    static const char *const script[] = {
        HELLO,
        "> {\"event\": \"FIRST\"}",
        "> {\"event\": \"BYE\"}",
        "> {\"event\": \"NEVER\"}",
        NULL,
    };
    g_autofree char *none = NULL;
    Env env;

    env_init(&env, script, 0);
    env.close_on = "BYE";
    env_connect(&env);
    env_expect_event(&env, "FIRST");
    env_expect_event(&env, "BYE");
    env_expect_event(&env, "CLOSED");
    env.mon = NULL; /* closed by the callback */
    none = g_async_queue_timeout_pop(env.events, 100 * 1000);
    g_assert_null(none);
    g_assert_cmpint(g_atomic_int_get(&env.eofs), ==, 0);
    env_clear(&env);
}

static void
test_open_errors(void)
{
    static const char *const silent[] = { NULL };
    static const char *const refused[] = {
        GREETING,
        "< qmp_capabilities",
        "> {\"error\": {\"class\": \"CommandNotAvailable\", \"desc\": \"Capabilities "
        "negotiation is already complete, command ignored\"}, \"id\": "
        "\"@qmp_capabilities@\"}",
        NULL,
    };
    static const char *const hangup[] = { "close", NULL };
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    g_autofree char *msg = NULL;
    QemuMonitor *mon;
    gint64 start;
    Env env;

    /* No socket ever appears. */
    env_init(&env, NULL, 0);
    path = g_build_filename(env.dir, "qmp.sock", NULL);
    start = g_get_monotonic_time();
    mon = qemu_monitor_open(path, 100, env.ctx, &env_callbacks, &env, &error);
    g_assert_null(mon);
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 100 * 1000);
    g_assert_true(virt_error_is(error, VIR_ERR_SYSTEM_ERROR));
    msg = g_strdup_printf("cannot connect to the QEMU monitor '%s': %s", path,
                          g_strerror(ENOENT));
    g_assert_cmpstr(error->message, ==, msg);
    g_clear_error(&error);
    env_clear(&env);

    /* QEMU accepts but never greets. */
    env_init(&env, silent, 0);
    mon = qemu_monitor_open(env.fake->path, 200, env.ctx, &env_callbacks, &env, &error);
    g_assert_null(mon);
    g_assert_true(virt_error_is(error, VIR_ERR_OPERATION_TIMEOUT));
    g_assert_cmpstr(error->message, ==, "QEMU sent no monitor greeting within 200 ms");
    g_clear_error(&error);
    env_clear(&env);

    /* QEMU refuses the negotiation. */
    env_init(&env, refused, 0);
    mon = qemu_monitor_open(env.fake->path, 5000, env.ctx, &env_callbacks, &env, &error);
    g_assert_null(mon);
    g_assert_true(virt_error_is(error, VIR_ERR_OPERATION_FAILED));
    g_assert_cmpstr(error->message, ==,
                    "QEMU command 'qmp_capabilities' failed: Capabilities negotiation is "
                    "already complete, command ignored");
    g_clear_error(&error);
    env_clear(&env);

    /* QEMU hangs up at once. */
    env_init(&env, hangup, 0);
    mon = qemu_monitor_open(env.fake->path, 5000, env.ctx, &env_callbacks, &env, &error);
    g_assert_null(mon);
    g_assert_true(virt_error_is(error, VIR_ERR_OPERATION_FAILED));
    g_assert_cmpstr(error->message, ==, "the QEMU monitor closed before its greeting");
    g_clear_error(&error);
    env_clear(&env);
    g_assert_cmpint(g_atomic_int_get(&env.eofs), ==, 0);
}

static void
test_open_retries(void)
{
    static const char *const script[] = {
        HELLO,
        "< query-status",
        "> {\"return\": {\"status\": \"prelaunch\"}, \"id\": \"@query-status@\"}",
        NULL,
    };
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    json_object *ret;
    gint64 start;
    Env env;

    /* The fake creates its socket only after 150 ms, as a starting QEMU would. */
    env_init(&env, script, 150);
    start = g_get_monotonic_time();
    env.mon = qemu_monitor_open(env.fake->path, 5000, env.ctx, &env_callbacks, &env, &error);
    g_assert_no_error(error);
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 150 * 1000);
    ret = qemu_monitor_execute(env.mon, "query-status", NULL, 5000, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(json_string_member(ret, "status"), ==, "prelaunch");
    json_object_put(ret);
    env_clear(&env);
}

/* ---- real QEMU ---- */

static void
test_real_qemu(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *sock = NULL;
    g_autofree char *chardev = NULL;
    g_autofree char *text = NULL;
    json_object *ret;
    GPid pid = 0;
    int status = 0;
    Env env;

    if (!g_file_test(REAL_QEMU, G_FILE_TEST_IS_EXECUTABLE)) {
        g_printerr("# skipping: " REAL_QEMU " is not installed\n");
        g_test_skip(REAL_QEMU " is not installed");
        return;
    }

    env_init(&env, NULL, 0);
    sock = g_build_filename(env.dir, "qmp.sock", NULL);
    chardev = g_strdup_printf("socket,id=m,path=%s,server=on,wait=off", sock);
    {
        const char *argv[] = { REAL_QEMU, "-machine", "none", "-nodefaults", "-nographic",
                               "-S", "-chardev", chardev, "-mon", "chardev=m,mode=control",
                               NULL };

        g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                        G_SPAWN_STDIN_FROM_DEV_NULL,
                                    NULL, NULL, &pid, &error));
        g_assert_no_error(error);
    }

    /* Connect while QEMU is still starting: open retries until the socket appears. */
    env.mon = qemu_monitor_open(sock, 30000, env.ctx, &env_callbacks, &env, &error);
    g_assert_no_error(error);

    ret = qemu_monitor_execute(env.mon, "query-status", NULL, 10000, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(json_string_member(ret, "status"), ==, "prelaunch");
    json_object_put(ret);

    text = qemu_monitor_execute_hmp(env.mon, "info status", 10000, &error);
    g_assert_no_error(error);
    g_assert_true(g_str_has_prefix(text, "VM status: paused"));

    ret = qemu_monitor_execute(env.mon, "no-such-command", NULL, 10000, &error);
    g_assert_null(ret);
    g_assert_true(virt_error_is(error, VIR_ERR_OPERATION_FAILED));
    g_assert_cmpstr(error->message, ==,
                    "QEMU command 'no-such-command' failed: The command no-such-command "
                    "has not been found");
    g_clear_error(&error);

    ret = qemu_monitor_execute(env.mon, "cont", NULL, 10000, &error);
    g_assert_no_error(error);
    json_object_put(ret);
    env_expect_event(&env, "RESUME");
    ret = qemu_monitor_execute(env.mon, "stop", NULL, 10000, &error);
    g_assert_no_error(error);
    json_object_put(ret);
    env_expect_event(&env, "STOP");

    /* quit: QEMU answers (or already hangs up), says SHUTDOWN and closes. */
    ret = qemu_monitor_execute(env.mon, "quit", NULL, 10000, &error);
    if (ret)
        json_object_put(ret);
    else
        g_assert_cmpstr(error->message, ==, "the QEMU monitor closed before answering 'quit'");
    g_clear_error(&error);
    env_expect_event(&env, "SHUTDOWN");
    env_expect_event(&env, "EOF");
    g_assert_cmpint(g_atomic_int_get(&env.eofs), ==, 1);

    for (int i = 0; i < 1000 && waitpid(pid, &status, WNOHANG) == 0; i++)
        g_usleep(10 * 1000);
    if (kill(pid, 0) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        g_assert_not_reached();
    }
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    g_spawn_close_pid(pid);

    unlink(sock);
    env_clear(&env);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu/monitor/execute", test_execute);
    g_test_add_func("/qemu/monitor/events", test_events);
    g_test_add_func("/qemu/monitor/interleaved-event", test_interleaved_event);
    g_test_add_func("/qemu/monitor/concurrent", test_concurrent);
    g_test_add_func("/qemu/monitor/timeout", test_timeout);
    g_test_add_func("/qemu/monitor/eof", test_eof);
    g_test_add_func("/qemu/monitor/close-with-waiter", test_close_with_waiter);
    g_test_add_func("/qemu/monitor/close-in-callback", test_close_in_callback);
    g_test_add_func("/qemu/monitor/log", test_log);
    g_test_add_func("/qemu/monitor/open-errors", test_open_errors);
    g_test_add_func("/qemu/monitor/open-retries", test_open_retries);
    g_test_add_func("/qemu/monitor/real-qemu", test_real_qemu);
    return g_test_run();
}
