#!/usr/bin/python3
"""Protocol-level behaviour that real clients never exercise: access rules for every
procedure, garbage, limits, pipelining and keepalive, checked with a raw client."""
import os
import re
import socket
import struct
import time
import unittest

import virtd
from virtd import (CALL, ERROR, MESSAGE, OK, PROGRAM_KEEPALIVE, PROGRAM_QEMU,
                   PROGRAM_REMOTE, REPLY, RawClient, decode_error, xdr_string)

VIR_ERR_NO_SUPPORT = 3
VIR_ERR_NO_CONNECT = 5
VIR_ERR_OPERATION_DENIED = 29
VIR_ERR_RPC = 39
VIR_ERR_INVALID_ARG = 8
VIR_ERR_OPERATION_INVALID = 55
CALL_WITH_FDS = 4


def procedures():
    """(number, name, access) of every REMOTE procedure, from our procedure table."""
    path = os.path.join(virtd.SRCDIR, "rpc", "protocol", "procedures.def")
    rows = []
    with open(path) as f:
        for line in f:
            m = re.match(r"REMOTE_PROC\((\d+), (\w+), (\w+), \w+\)", line)
            if m:
                rows.append((int(m.group(1)), m.group(2), m.group(3)))
    return rows


class ProtocolTest(virtd.DaemonTestCase):
    config = "keepalive_interval = 1\nkeepalive_count = 2\nmax_client_requests = 4\n"

    def client(self, path=None):
        c = RawClient(path or self.d.sock)
        self.addCleanup(c.close)
        return c

    def assert_error(self, pkt, code, message):
        self.assertEqual(pkt[4], ERROR)
        got_code, _domain, got_msg = decode_error(pkt[5])
        self.assertEqual(got_msg, message)
        self.assertEqual(got_code, code)

    def test_readonly_socket_denies_every_state_changing_procedure(self):
        c = self.client(self.d.sock_ro)
        c.open()
        writes = [(n, name) for n, name, access in procedures() if access == "WRITE"]
        self.assertGreater(len(writes), 150)
        for number, name in writes:
            # No arguments at all: access is checked before anything is decoded.
            self.assert_error(c.call(number), VIR_ERR_OPERATION_DENIED,
                              f"operation forbidden: read only access prevents {name}")
        # Reads still work on the same connection.
        pkt = c.call(3)  # CONNECT_GET_TYPE
        self.assertEqual(pkt[4], OK)
        self.assertEqual(pkt[5], xdr_string("QEMU"))

    def test_readonly_flag_on_readwrite_socket(self):
        c = self.client()
        c.open(flags=1)  # VIR_CONNECT_RO
        self.assert_error(c.call(11, xdr_string("<domain/>")), VIR_ERR_OPERATION_DENIED,
                          "operation forbidden: read only access prevents DOMAIN_DEFINE_XML")
        # DOMAIN_GET_XML_DESC is a read, but not with the secret parts (VIR_DOMAIN_XML_SECURE)
        # or in migratable form: refused before the domain is looked up.
        some_domain = xdr_string("nosuch") + b"\0" * 16 + struct.pack(">i", -1)
        for flags in (1, 8):
            self.assert_error(c.call(14, some_domain + struct.pack(">I", flags)),
                              VIR_ERR_OPERATION_DENIED,
                              "operation forbidden: read only access prevents "
                              "DOMAIN_GET_XML_DESC with secure or migratable flags")

    def test_unimplemented_procedure_names_itself(self):
        c = self.client()
        c.open()
        self.assert_error(c.call(61), VIR_ERR_NO_SUPPORT,
                          "this function is not supported by virtd: DOMAIN_MIGRATE_PREPARE")
        self.assert_error(c.call(2, prog=PROGRAM_QEMU), VIR_ERR_NO_SUPPORT,
                          "this function is not supported by virtd: DOMAIN_ATTACH")

    def test_unknown_procedure_and_program(self):
        c = self.client()
        c.open()
        self.assert_error(c.call(99999), VIR_ERR_RPC,
                          "unknown procedure 99999 of program 0x20008086")
        self.assert_error(c.call(1, prog=0x12345678), VIR_ERR_RPC, "unknown program 0x12345678")

    def test_call_before_open_and_double_open(self):
        c = self.client()
        self.assert_error(c.call(3), VIR_ERR_OPERATION_INVALID,
                          "Requested operation is not valid: connection not open: "
                          "call CONNECT_OPEN before CONNECT_GET_TYPE")
        c.open()
        pkt = c.call(1, virtd.xdr_opt_string("qemu:///system") + struct.pack(">I", 0))
        self.assert_error(pkt, VIR_ERR_OPERATION_INVALID,
                          "Requested operation is not valid: connection already open")

    def test_open_refuses_other_drivers(self):
        c = self.client()
        pkt = c.call(1, virtd.xdr_opt_string("lxc:///") + struct.pack(">I", 0))
        self.assert_error(pkt, VIR_ERR_NO_CONNECT,
                          "no connection driver available for 'lxc:///' "
                          "(this virtd serves qemu:///system)")

    def test_calls_no_real_client_makes(self):
        """Well-formed packets with arguments real clients never send get their own error."""
        c = self.client()
        c.open()
        # A program version we do not speak.
        header = struct.pack(">IIiiIi", PROGRAM_REMOTE, 2, 3, CALL, 900, OK)
        c.send_raw(struct.pack(">I", 4 + len(header)) + header)
        self.assert_error(c.recv_reply(900), VIR_ERR_RPC,
                          "unsupported version 2 of program 0x20008086")
        # A call that would pass file descriptors.
        serial = c.send(PROGRAM_REMOTE, 3, mtype=CALL_WITH_FDS)
        self.assert_error(c.recv_reply(serial), VIR_ERR_RPC,
                          "packet type 4 is not supported by virtd yet")
        # CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY / DEREGISTER_ANY, RENAME,
        # CONNECT_NETWORK_EVENT_REGISTER_ANY, QEMU's monitor event register.
        no_domain = struct.pack(">I", 0)
        self.assert_error(c.call(316, struct.pack(">i", 999) + no_domain), VIR_ERR_INVALID_ARG,
                          "invalid argument: unsupported event ID 999")
        self.assert_error(c.call(317, struct.pack(">i", 4242)), VIR_ERR_INVALID_ARG,
                          "invalid argument: no event callback with id 4242 on this "
                          "connection")
        self.assert_error(c.call(313, struct.pack(">i", 77) + no_domain), VIR_ERR_INVALID_ARG,
                          "invalid argument: unsupported network event ID 77")
        some_domain = xdr_string("nosuch") + b"\0" * 16 + struct.pack(">i", -1)
        self.assert_error(c.call(358, some_domain + struct.pack(">II", 0, 0)),
                          VIR_ERR_INVALID_ARG, "invalid argument: new domain name is missing")
        # DOMAIN_SEND_KEY without keys; DOMAIN_SET_MEMORY_STATS_PERIOD with a negative period
        # (the client library refuses both itself). Checked before the domain is looked up.
        self.assert_error(c.call(226, some_domain + struct.pack(">IIII", 1, 0, 0, 0)),
                          VIR_ERR_INVALID_ARG,
                          "invalid argument: 0 keys given: send between 1 and 16 keys at once")
        self.assert_error(c.call(308, some_domain + struct.pack(">iI", -1, 0)),
                          VIR_ERR_INVALID_ARG, "invalid argument: the memory statistics "
                          "period must not be negative, not -1")
        regex = no_domain + virtd.xdr_opt_string("(") + struct.pack(">I", 1)
        self.assert_error(c.call(4, regex, prog=PROGRAM_QEMU), VIR_ERR_INVALID_ARG,
                          "invalid argument: '(' is not a valid regular expression for "
                          "event names")
        self.assertEqual(c.call(3)[4], OK)

    def test_bad_arguments_get_an_error_not_a_hangup(self):
        c = self.client()
        c.open()
        # DOMAIN_LOOKUP_BY_NAME with a string length running past the packet.
        self.assert_error(c.call(23, struct.pack(">I", 1000) + b"ab"), VIR_ERR_RPC,
                          "cannot decode the arguments")
        self.assertEqual(c.call(3)[4], OK)

    def test_garbage_drops_only_that_client(self):
        good = self.client()
        good.open()
        for junk in (struct.pack(">I", 0xFFFFFFFF), struct.pack(">I", 3),
                     struct.pack(">I", 33554433)):
            bad = self.client()
            bad.send_raw(junk + b"x" * 64)
            with self.assertRaises((ConnectionError, ConnectionResetError)):
                bad.recv()
        self.assertEqual(good.call(3)[4], OK)
        self.d.virsh("version")

    def test_pipelined_calls_all_answered_by_serial(self):
        c = self.client()
        c.open()
        serials = [c.send(PROGRAM_REMOTE, 3) for _ in range(30)]
        got = set()
        while len(got) < len(serials):
            pkt = c.recv()
            if pkt[2] == REPLY:
                self.assertEqual(pkt[4], OK)
                got.add(pkt[3])
        self.assertEqual(got, set(serials))

    def test_packets_in_pieces_and_in_bulk(self):
        """However the bytes arrive (a packet in pieces, many packets in one write, a packet
        longer than the daemon's read buffer), every call is answered."""
        c = self.client()
        c.open()
        self.define("bulk1")

        def packet(proc, payload=b""):
            c.serial += 1
            header = struct.pack(">IIiiIi", PROGRAM_REMOTE, 1, proc, CALL, c.serial, OK)
            return c.serial, struct.pack(">I", 4 + len(header) + len(payload)) + header + payload

        # One GET_TYPE a byte at a time.
        serial, data = packet(3)
        for i in range(len(data)):
            c.send_raw(data[i:i + 1])
            time.sleep(0.002)
        self.assertEqual(c.recv_reply(serial)[4], OK)
        # 40 calls in one write: lookups answered on the loop thread, GET_TYPE by workers.
        lookup = virtd.xdr_string("bulk1")
        pairs = [packet(23, lookup) if i % 2 else packet(3) for i in range(40)]
        c.send_raw(b"".join(p for _, p in pairs))
        answered = {}
        while len(answered) < len(pairs):  # in any order: replies go by serial
            pkt = c.recv()
            if pkt[2] == REPLY:
                answered[pkt[3]] = pkt[4]
        self.assertEqual(answered, {serial: OK for serial, _ in pairs})
        # A 20000-byte lookup (longer than one read) in three pieces: a clear error back.
        serial, data = packet(23, virtd.xdr_string("n" * 20000))
        for piece in (data[:3], data[3:9000], data[9000:]):
            c.send_raw(piece)
            time.sleep(0.01)
        pkt = c.recv_reply(serial)
        self.assertEqual(pkt[4], ERROR)
        self.assertIn("no domain with matching name 'nnnn", virtd.decode_error(pkt[5])[2])
        self.assertEqual(c.call(3)[4], OK)

    def test_client_that_reads_late_gets_every_reply(self):
        """5000 lookups sent before reading any reply: the socket fills, the daemon queues the
        rest of its replies and keeps reading; all come back, in order of arrival."""
        self.define("late1")
        c = self.client()
        c.open()
        lookup = virtd.xdr_string("late1")
        serials = []
        data = b""
        for _ in range(5000):
            c.serial += 1
            serials.append(c.serial)
            header = struct.pack(">IIiiIi", PROGRAM_REMOTE, 1, 23, CALL, c.serial, OK)
            data += struct.pack(">I", 4 + len(header) + len(lookup)) + header + lookup
        c.send_raw(data)
        got = []
        while len(got) < len(serials):
            pkt = c.recv()
            if pkt[2] == REPLY:
                self.assertEqual(pkt[4], OK)
                got.append(pkt[3])
        self.assertEqual(got, serials)
        self.assertEqual(c.call(3)[4], OK)

    def test_double_parameter_refused(self):
        """No tuning call takes a double: the typed parameter is refused by name."""
        c = self.client()
        c.open()
        dom = xdr_string("any") + b"\0" * 16 + struct.pack(">i", -1)
        param = xdr_string("cpu_shares") + struct.pack(">i", 5) + struct.pack(">d", 1.5)
        # DOMAIN_SET_SCHEDULER_PARAMETERS_FLAGS: dom, params<>, flags
        pkt = c.call(219, dom + struct.pack(">I", 1) + param + struct.pack(">I", 0))
        self.assertEqual(pkt[4], ERROR)
        self.assertEqual(decode_error(pkt[5])[2],
                         "invalid argument: parameter 'cpu_shares' has type 5, which no "
                         "tuning call takes")

    def test_ping_gets_pong(self):
        c = self.client()
        c.send(PROGRAM_KEEPALIVE, 1, mtype=MESSAGE, serial=0)
        pkt = c.recv()
        self.assertEqual((pkt[0], pkt[1], pkt[2], pkt[3], len(pkt[5])),
                         (PROGRAM_KEEPALIVE, 2, MESSAGE, 0, 0))

    def test_keepalive_drops_silent_client_keeps_live_one(self):
        silent = self.client()
        live = self.client()
        for c in (silent, live):
            c.call(60, struct.pack(">i", 10))  # SUPPORTS_FEATURE(PROGRAM_KEEPALIVE)
        # interval 1 s x count 2: the silent one goes within a few seconds.
        deadline = time.monotonic() + 8
        dropped = False
        while time.monotonic() < deadline and not dropped:
            try:
                pkt = live.recv()
                if pkt[0] == PROGRAM_KEEPALIVE and pkt[1] == 1:
                    live.send(PROGRAM_KEEPALIVE, 2, mtype=MESSAGE, serial=0)
            except socket.timeout:
                pass
            silent.sock.settimeout(0.05)
            try:
                while True:
                    pkt = silent.recv()  # pings pile up unanswered
                    self.assertEqual(pkt[0], PROGRAM_KEEPALIVE)
            except socket.timeout:
                pass
            except ConnectionError:
                dropped = True
        self.assertTrue(dropped, "a client that never answers pings must be dropped")
        self.assertEqual(live.call(60, struct.pack(">i", 10))[4], OK)


if __name__ == "__main__":
    virtd.main()
