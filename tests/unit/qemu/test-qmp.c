/* QMP message parsing and the blocking client against a scripted peer. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/util/virt-error.h"
#include "drivers/qemu/qmp.h"

static void
test_parse(void)
{
    static const char greeting[] =
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}}, "
        "\"capabilities\": [\"oob\"]}}\r\n";
    static const char ret[] = "{\"return\": {\"enabled\": false}, \"id\": \"virtd-3\"}";
    static const char err[] =
        "{\"id\": 7, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
        "foo has not been found\"}}";
    static const char ev[] =
        "{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 5}, \"event\": "
        "\"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": \"guest-shutdown\"}}";
    g_autoptr(GError) error = NULL;
    g_autoptr(QmpMessage) m1 = qmp_message_parse(greeting, strlen(greeting), &error);
    g_autoptr(QmpMessage) m2 = qmp_message_parse(ret, strlen(ret), &error);
    g_autoptr(QmpMessage) m3 = qmp_message_parse(err, strlen(err), &error);
    g_autoptr(QmpMessage) m4 = qmp_message_parse(ev, strlen(ev), &error);
    g_autoptr(QmpMessage) bad = NULL;

    g_assert_no_error(error);
    g_assert_cmpint(m1->kind, ==, QMP_MESSAGE_GREETING);
    g_assert_true(json_object_is_type(m1->value, json_type_object));
    g_assert_cmpint(m2->kind, ==, QMP_MESSAGE_RETURN);
    g_assert_cmpstr(m2->id, ==, "virtd-3");
    g_assert_cmpint(m3->kind, ==, QMP_MESSAGE_ERROR);
    g_assert_cmpstr(m3->id, ==, "7");
    g_assert_cmpstr(m3->error_class, ==, "CommandNotFound");
    g_assert_cmpstr(m3->error_desc, ==, "The command foo has not been found");
    g_assert_cmpint(m4->kind, ==, QMP_MESSAGE_EVENT);
    g_assert_cmpstr(m4->event, ==, "SHUTDOWN");
    g_assert_cmpint(m4->timestamp_us, ==, G_GINT64_CONSTANT(1700000000000005));
    g_assert_cmpstr(qmp_message_kind_to_string(m4->kind), ==, "event");

    qmp_message_set_error(m3, "foo", &error);
    g_assert_true(virt_error_is(error, VIR_ERR_OPERATION_FAILED));
    g_assert_cmpint(virt_error_from(error->domain), ==, VIR_FROM_QEMU);
    g_assert_cmpstr(error->message, ==,
                    "QEMU command 'foo' failed: The command foo has not been found");
    g_clear_error(&error);

    bad = qmp_message_parse("{\"return\": ", 11, &error);
    g_assert_null(bad);
    g_assert_true(virt_error_is(error, VIR_ERR_OPERATION_FAILED));
    g_clear_error(&error);
    bad = qmp_message_parse("{\"foo\": 1}", 10, &error);
    g_assert_null(bad);
    g_assert_true(virt_error_is(error, VIR_ERR_OPERATION_FAILED));
    g_clear_error(&error);
    bad = qmp_message_parse("[1]", 3, &error);
    g_assert_null(bad);
    g_assert_true(virt_error_is(error, VIR_ERR_OPERATION_FAILED));
}

static void
test_format(void)
{
    json_object *args = json_object_new_object();
    g_autofree char *a = qmp_command_format("query-kvm", NULL, NULL);
    g_autofree char *b = NULL;

    json_object_object_add(args, "typename", json_object_new_string("virtio-blk-pci"));
    b = qmp_command_format("device-list-properties", args, "virtd-9");
    json_object_put(args);
    g_assert_cmpstr(a, ==, "{\"execute\":\"query-kvm\"}\r\n");
    g_assert_cmpstr(b, ==,
                    "{\"execute\":\"device-list-properties\",\"arguments\":{\"typename\":"
                    "\"virtio-blk-pci\"},\"id\":\"virtd-9\"}\r\n");
}

static void
test_line_buffer(void)
{
    g_autoptr(QmpLineBuffer) buf = qmp_line_buffer_new();
    g_autofree char *l1 = NULL, *l2 = NULL, *l3 = NULL;

    qmp_line_buffer_feed(buf, "{\"a\":1}\r\n\r\n{\"b\"", 15);
    l1 = qmp_line_buffer_next(buf);
    g_assert_cmpstr(l1, ==, "{\"a\":1}");
    g_assert_null(qmp_line_buffer_next(buf));
    g_assert_cmpuint(qmp_line_buffer_pending(buf), ==, 4);
    qmp_line_buffer_feed(buf, ":2}\r\n", 5);
    l2 = qmp_line_buffer_next(buf);
    g_assert_cmpstr(l2, ==, "{\"b\":2}");
    l3 = qmp_line_buffer_next(buf);
    g_assert_null(l3);
    g_assert_cmpuint(qmp_line_buffer_pending(buf), ==, 0);
}

/* A peer that plays QEMU: greeting, then answers each command line from a script. */
typedef struct {
    int fd;
    gboolean silent_after_caps; /* never answer the command after qmp_capabilities */
} FakeQemu;

static void
fake_write(int fd, const char *text)
{
    gsize len = strlen(text);

    g_assert_cmpint(write(fd, text, len), ==, (gssize)len);
}

static gpointer
fake_qemu_thread(gpointer data)
{
    FakeQemu *fake = data;
    g_autoptr(QmpLineBuffer) in = qmp_line_buffer_new();
    char chunk[1024];
    ssize_t n;

    fake_write(fake->fd, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n");
    while ((n = read(fake->fd, chunk, sizeof(chunk))) > 0) {
        char *line;

        qmp_line_buffer_feed(in, chunk, n);
        while ((line = qmp_line_buffer_next(in))) {
            g_autoptr(QmpMessage) unused = NULL;
            json_object *cmd = json_tokener_parse(line);
            json_object *exec, *id;
            g_autofree char *reply = NULL;
            const char *name, *idstr;

            g_free(line);
            g_assert_true(json_object_object_get_ex(cmd, "execute", &exec));
            g_assert_true(json_object_object_get_ex(cmd, "id", &id));
            name = json_object_get_string(exec);
            idstr = json_object_get_string(id);
            if (strcmp(name, "qmp_capabilities") == 0)
                reply = g_strdup_printf("{\"return\": {}, \"id\": \"%s\"}\r\n", idstr);
            else if (fake->silent_after_caps)
                reply = NULL;
            else if (strcmp(name, "query-status") == 0)
                /* An event and a stale reply first: both must be skipped. */
                reply = g_strdup_printf(
                    "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}\r\n"
                    "{\"return\": {}, \"id\": \"stale\"}\r\n"
                    "{\"return\": {\"status\": \"prelaunch\", \"running\": false}, \"id\": \"%s\"}\r\n",
                    idstr);
            else
                reply = g_strdup_printf("{\"id\": \"%s\", \"error\": {\"class\": "
                                        "\"CommandNotFound\", \"desc\": \"The command %s has "
                                        "not been found\"}}\r\n",
                                        idstr, name);
            json_object_put(cmd);
            if (reply)
                fake_write(fake->fd, reply);
        }
    }
    close(fake->fd);
    return NULL;
}

static void
test_client(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(QmpClient) client = NULL;
    g_autoptr(QmpMessage) ev = NULL;
    FakeQemu fake = { 0 };
    json_object *ret, *status;
    GThread *thread;
    int sv[2];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    fake.fd = sv[1];
    thread = g_thread_new("fake-qemu", fake_qemu_thread, &fake);
    client = qmp_client_new_fd(sv[0]);

    g_assert_true(qmp_client_handshake(client, 5000, &error));
    g_assert_no_error(error);
    g_assert_nonnull(qmp_client_get_greeting(client));

    ret = qmp_client_execute(client, "query-status", NULL, 5000, &error);
    g_assert_no_error(error);
    g_assert_true(json_object_object_get_ex(ret, "status", &status));
    g_assert_cmpstr(json_object_get_string(status), ==, "prelaunch");
    json_object_put(ret);
    ev = qmp_client_pop_event(client);
    g_assert_nonnull(ev);
    g_assert_cmpstr(ev->event, ==, "STOP");
    g_assert_null(qmp_client_pop_event(client));

    ret = qmp_client_execute(client, "no-such-command", NULL, 5000, &error);
    g_assert_null(ret);
    g_assert_true(virt_error_is(error, VIR_ERR_OPERATION_FAILED));
    g_assert_cmpint(virt_error_from(error->domain), ==, VIR_FROM_QEMU);
    g_assert_cmpstr(error->message, ==,
                    "QEMU command 'no-such-command' failed: The command no-such-command has "
                    "not been found");

    g_clear_pointer(&client, qmp_client_free); /* closes our end: the peer sees EOF */
    g_thread_join(thread);
}

static void
test_client_timeout_and_eof(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(QmpClient) client = NULL;
    FakeQemu fake = { .silent_after_caps = TRUE };
    GThread *thread;
    int sv[2];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    fake.fd = sv[1];
    thread = g_thread_new("fake-qemu", fake_qemu_thread, &fake);
    client = qmp_client_new_fd(sv[0]);
    g_assert_true(qmp_client_handshake(client, 5000, &error));
    g_assert_null(qmp_client_execute(client, "query-status", NULL, 100, &error));
    g_assert_true(virt_error_is(error, VIR_ERR_OPERATION_TIMEOUT));
    g_assert_cmpstr(error->message, ==, "QEMU did not answer 'query-status' in time");
    g_clear_error(&error);
    g_clear_pointer(&client, qmp_client_free);
    g_thread_join(thread);

    /* A peer that closes at once. */
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    close(sv[1]);
    client = qmp_client_new_fd(sv[0]);
    g_assert_false(qmp_client_handshake(client, 1000, &error));
    g_assert_true(virt_error_is(error, VIR_ERR_OPERATION_FAILED));
    g_assert_cmpstr(error->message, ==, "QEMU monitor closed while waiting for 'greeting'");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu/qmp/parse", test_parse);
    g_test_add_func("/qemu/qmp/format", test_format);
    g_test_add_func("/qemu/qmp/line-buffer", test_line_buffer);
    g_test_add_func("/qemu/qmp/client", test_client);
    g_test_add_func("/qemu/qmp/client-timeout-eof", test_client_timeout_and_eof);
    return g_test_run();
}
