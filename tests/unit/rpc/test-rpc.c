/* Unit tests of the wire layer: framing, payload codecs, procedure tables, error text. */
#include <string.h>

#include "error.h"
#include "packet.h"
#include "procedures.h"
#include "virt-error.h"

static void
test_length_limits(void)
{
    g_assert_false(packet_length_valid(0));
    g_assert_false(packet_length_valid(PACKET_MIN_SIZE - 1));
    g_assert_true(packet_length_valid(PACKET_MIN_SIZE));
    g_assert_true(packet_length_valid(PACKET_MAX_SIZE));
    g_assert_false(packet_length_valid(PACKET_MAX_SIZE + 1));
    g_assert_false(packet_length_valid(0xffffffffu));
}

static void
test_header_round_trip(void)
{
    PacketHeader h = {PROGRAM_REMOTE, 1, 273, PACKET_REPLY, 0xdeadbeef, PACKET_ERROR};
    g_autoptr(GBytes) pkt = packet_encode(&h, NULL, NULL, NULL);
    gsize len;
    const guint8 *data = g_bytes_get_data(pkt, &len);
    g_assert_cmpuint(len, ==, PACKET_MIN_SIZE);
    g_assert_cmpuint(packet_length_decode(data), ==, PACKET_MIN_SIZE);
    /* Big-endian on the wire: the program number's first byte is 0x20. */
    g_assert_cmpuint(data[4], ==, 0x20);
    PacketHeader back;
    packet_header_decode(data + PACKET_LEN_SIZE, &back);
    g_assert_cmpmem(&back, sizeof(back), &h, sizeof(h));
}

static void
test_error_payload_round_trip(void)
{
    g_autoptr(GError) err = NULL;
    virt_error_set(&err, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID, "domain 'a' is not running");
    wire_error out = {0};
    rpc_error_to_wire(err, &out);
    PacketHeader h = {PROGRAM_REMOTE, 1, 9, PACKET_REPLY, 7, PACKET_ERROR};
    g_autoptr(GBytes) pkt = packet_encode(&h, (xdrproc_t)xdr_wire_error, &out, NULL);
    rpc_error_clear(&out);

    gsize len;
    const guint8 *data = g_bytes_get_data(pkt, &len);
    wire_error in = {0};
    g_assert_true(packet_decode_payload(data + PACKET_MIN_SIZE, len - PACKET_MIN_SIZE,
                                        (xdrproc_t)xdr_wire_error, &in, NULL));
    g_assert_cmpint(in.code, ==, VIR_ERR_OPERATION_INVALID);
    g_assert_cmpint(in.domain, ==, VIR_FROM_QEMU);
    g_assert_cmpint(in.level, ==, VIR_ERR_ERROR);
    g_assert_cmpstr(*in.message, ==,
                    "Requested operation is not valid: domain 'a' is not running");
    g_assert_null(in.dom);
    rpc_error_clear(&in);
}

/* Encodes *data (a word count) words numbered 0, 1, 2, ... */
static bool_t
xdr_numbered_words(XDR *xdr, void *data, ...)
{
    guint32 count = *(guint32 *)data;

    for (guint32 i = 0; i < count; i++) {
        if (!xdr_u_int(xdr, &i))
            return FALSE;
    }
    return TRUE;
}

static void
test_encode_sizes(void)
{
    /* Small replies, replies bigger than the first try's buffer, and one over the limit. */
    const guint32 counts[] = {1, 600, 70000};
    PacketHeader h = {PROGRAM_REMOTE, 1, 9, PACKET_REPLY, 7, PACKET_OK};
    guint32 too_many = (PACKET_MAX_SIZE - PACKET_MIN_SIZE) / 4 + 1;
    g_autoptr(GError) err = NULL;

    for (gsize i = 0; i < G_N_ELEMENTS(counts); i++) {
        g_autoptr(GBytes) pkt = packet_encode(&h, (xdrproc_t)xdr_numbered_words,
                                              &counts[i], NULL);
        gsize len;
        const guint8 *data = g_bytes_get_data(pkt, &len);

        g_assert_cmpuint(len, ==, PACKET_MIN_SIZE + 4 * counts[i]);
        g_assert_cmpuint(packet_length_decode(data), ==, len);
        g_assert_cmpuint(packet_length_decode(data + len - 4), ==, counts[i] - 1);
    }
    g_assert_null(packet_encode(&h, (xdrproc_t)xdr_numbered_words, &too_many, &err));
    g_assert_cmpint(err->code, ==, VIR_ERR_RPC);
    g_assert_cmpstr(err->message, ==,
                    "reply of procedure 9 exceeds the 33554432 byte message limit");
}

static void
test_decode_rejects_bad_payloads(void)
{
    /* wire_str_ret holds one string: length 3 then "abc" padded to 4 bytes. */
    const guint8 good[] = {0, 0, 0, 3, 'a', 'b', 'c', 0};
    const guint8 trailing[] = {0, 0, 0, 3, 'a', 'b', 'c', 0, 1, 2, 3, 4};
    const guint8 truncated[] = {0, 0, 0, 9, 'a', 'b'};
    wire_str_ret ret = {0};
    g_autoptr(GError) err = NULL;

    g_assert_true(packet_decode_payload(good, sizeof(good), (xdrproc_t)xdr_wire_str_ret, &ret,
                                        NULL));
    g_assert_cmpstr(ret.value, ==, "abc");
    packet_free_payload((xdrproc_t)xdr_wire_str_ret, &ret);

    memset(&ret, 0, sizeof(ret));
    g_assert_false(packet_decode_payload(trailing, sizeof(trailing),
                                         (xdrproc_t)xdr_wire_str_ret, &ret, &err));
    g_assert_cmpstr(err->message, ==, "trailing bytes after the arguments");
    g_clear_error(&err);

    memset(&ret, 0, sizeof(ret));
    g_assert_false(packet_decode_payload(truncated, sizeof(truncated),
                                         (xdrproc_t)xdr_wire_str_ret, &ret, &err));
    g_assert_cmpstr(err->message, ==, "cannot decode the arguments");
}

static void
test_procedure_table(void)
{
    const ProcInfo *p = proc_info_lookup(PROGRAM_REMOTE, 1);
    g_assert_nonnull(p);
    g_assert_cmpstr(p->name, ==, "CONNECT_OPEN");
    g_assert_true(p->high_priority);

    p = proc_info_lookup(PROGRAM_REMOTE, RPROC_DOMAIN_CREATE);
    g_assert_cmpint(p->number, ==, 9);
    g_assert_cmpint(p->access, ==, PROC_ACCESS_WRITE);

    p = proc_info_lookup(PROGRAM_REMOTE, RPROC_DOMAIN_GET_INFO);
    g_assert_cmpint(p->access, ==, PROC_ACCESS_RO_OK);

    g_assert_cmpint(RPROC_CONNECT_LIST_ALL_DOMAINS, ==, 273);
    g_assert_cmpint(RPROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, ==, 318);
    g_assert_null(proc_info_lookup(PROGRAM_REMOTE, 0));
    g_assert_null(proc_info_lookup(PROGRAM_REMOTE, 100000));
    g_assert_null(proc_info_lookup(0x12345678, 1));

    p = proc_info_lookup(PROGRAM_QEMU, 1);
    g_assert_cmpstr(p->name, ==, "DOMAIN_MONITOR_COMMAND");

    gsize n;
    const ProcInfo *all = proc_info_list(PROGRAM_REMOTE, &n);
    g_assert_cmpuint(n, ==, 443);
    for (gsize i = 0; i < n; i++)
        g_assert_cmpint(all[i].number, ==, (int)i + 1);
}

/* Every prefix a user can see: the message virsh prints for each code. */
static void
test_error_messages(void)
{
    static const struct {
        int from, code;
        const char *phrase, *expected;
    } cases[] = {
        {VIR_FROM_QEMU, VIR_ERR_NO_DOMAIN, "no domain with matching name 'x'",
         "Domain not found: no domain with matching name 'x'"},
        {VIR_FROM_RPC, VIR_ERR_NO_SUPPORT, "DOMAIN_MIGRATE_PREPARE",
         "this function is not supported by virtd: DOMAIN_MIGRATE_PREPARE"},
        {VIR_FROM_RPC, VIR_ERR_OPERATION_DENIED, "read only access prevents DOMAIN_CREATE",
         "operation forbidden: read only access prevents DOMAIN_CREATE"},
        {VIR_FROM_RPC, VIR_ERR_NO_CONNECT, "'lxc:///' (this virtd serves qemu:///system)",
         "no connection driver available for 'lxc:///' (this virtd serves qemu:///system)"},
        {VIR_FROM_DOMAIN, VIR_ERR_XML_DETAIL, "line 3: premature end of data",
         "line 3: premature end of data"},
        {VIR_FROM_DOMAIN, VIR_ERR_CONFIG_UNSUPPORTED, "x", "unsupported configuration: x"},
        {VIR_FROM_QEMU, VIR_ERR_OPERATION_TIMEOUT, "x", "Timed out during operation: x"},
        {VIR_FROM_QEMU, VIR_ERR_INVALID_ARG, "x", "invalid argument: x"},
        {VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED, "x", "operation failed: x"},
        {VIR_FROM_DOMAIN, VIR_ERR_XML_ERROR, "x", "XML error: x"},
        {VIR_FROM_DOMAIN, VIR_ERR_NO_DOMAIN_METADATA, "x", "metadata not found: x"},
        {VIR_FROM_QEMU, VIR_ERR_INTERNAL_ERROR, "x", "internal error: x"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        virt_error_set(&err, cases[i].from, cases[i].code, "%s", cases[i].phrase);
        g_autofree char *msg = rpc_error_message(err);
        g_assert_cmpstr(msg, ==, cases[i].expected);
    }
    /* A foreign GError reaching the wire is a virtd bug: say so. */
    g_autoptr(GError) foreign = g_error_new_literal(G_FILE_ERROR, G_FILE_ERROR_FAILED, "boom");
    wire_error w = {0};
    rpc_error_to_wire(foreign, &w);
    g_assert_cmpint(w.code, ==, VIR_ERR_INTERNAL_ERROR);
    g_assert_cmpstr(*w.message, ==, "internal error: boom");
    rpc_error_clear(&w);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rpc/packet/length-limits", test_length_limits);
    g_test_add_func("/rpc/packet/header-round-trip", test_header_round_trip);
    g_test_add_func("/rpc/packet/error-round-trip", test_error_payload_round_trip);
    g_test_add_func("/rpc/packet/bad-payloads", test_decode_rejects_bad_payloads);
    g_test_add_func("/rpc/packet/encode-sizes", test_encode_sizes);
    g_test_add_func("/rpc/procedures/table", test_procedure_table);
    g_test_add_func("/rpc/error/messages", test_error_messages);
    return g_test_run();
}
