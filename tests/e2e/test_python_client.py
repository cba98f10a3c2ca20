#!/usr/bin/python3
"""python3-libvirt (Debian's) against a real virtd under a temporary root: the calls a
management application makes, domain events through libvirt's own event loop, and the
error codes and messages applications branch on."""
import queue
import re
import socket
import struct
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import libvirt

import virtd

UUID_A = "0b7c1d2e-3f40-4152-8364-758697a8b9ca"
UUID_B = "1c8d2e3f-4051-4263-9475-8697a8b9cadb"
UUID_C = "2d9e3f40-5162-4374-a586-97a8b9cadbec"

APP_NS = "http://example.org/app/1.0"

PROC_DOMAIN_EVENT_CALLBACK_REGISTER_ANY = 316
PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE = 318


def _quiet(_ctx, _err):
    """libvirt prints every error to stderr by default; the tests check them instead."""


libvirt.registerErrorHandler(_quiet, None)

# libvirt's default event loop, run by a thread for the whole process: it must be
# registered before the first connection is opened.
libvirt.virEventRegisterDefaultImpl()


def _run_event_loop():
    while True:
        libvirt.virEventRunDefaultImpl()


threading.Thread(target=_run_event_loop, name="libvirt-events", daemon=True).start()

LIFECYCLE_NAMES = {
    (libvirt.VIR_DOMAIN_EVENT_DEFINED, libvirt.VIR_DOMAIN_EVENT_DEFINED_ADDED): "DEFINED/ADDED",
    (libvirt.VIR_DOMAIN_EVENT_DEFINED, libvirt.VIR_DOMAIN_EVENT_DEFINED_UPDATED):
        "DEFINED/UPDATED",
    (libvirt.VIR_DOMAIN_EVENT_DEFINED, libvirt.VIR_DOMAIN_EVENT_DEFINED_RENAMED):
        "DEFINED/RENAMED",
    (libvirt.VIR_DOMAIN_EVENT_UNDEFINED, libvirt.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED):
        "UNDEFINED/REMOVED",
    (libvirt.VIR_DOMAIN_EVENT_UNDEFINED, libvirt.VIR_DOMAIN_EVENT_UNDEFINED_RENAMED):
        "UNDEFINED/RENAMED",
}


class Events:
    """A queue of (name, what) that callbacks feed."""

    def __init__(self):
        self.q = queue.Queue()

    def lifecycle(self, conn, dom, event, detail, opaque):
        self.q.put((dom.name(), LIFECYCLE_NAMES.get((event, detail), f"{event}/{detail}")))

    def metadata(self, conn, dom, mtype, nsuri, opaque):
        self.q.put((dom.name(), f"METADATA/{mtype}/{nsuri}"))

    def take(self, n, timeout=5.0):
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < n:
            try:
                got.append(self.q.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                break
        return got

    def none_within(self, seconds=0.5):
        try:
            return self.q.get(timeout=seconds)
        except queue.Empty:
            return None


class PythonClientTest(virtd.DaemonTestCase):

    def connect(self, readonly=False):
        conn = (libvirt.openReadOnly(self.d.uri_ro) if readonly
                else libvirt.open(self.d.uri))
        self.addCleanup(conn.close)
        return conn

    def assert_error(self, code, message, fn, *args):
        with self.assertRaises(libvirt.libvirtError) as cm:
            fn(*args)
        self.assertEqual((cm.exception.get_error_code(), cm.exception.get_error_message()),
                         (code, message))
        return cm.exception

    # ---- connection ----------------------------------------------------------------

    def test_connection_calls(self):
        conn = self.connect()
        self.assertEqual(conn.getType(), "QEMU")
        self.assertEqual(conn.getLibVersion(), libvirt.getVersion())
        major, minor, micro = (int(x) for x in virtd_qemu_version().split("."))
        self.assertEqual(conn.getVersion(), major * 1000000 + minor * 1000 + micro)
        self.assertEqual(conn.getHostname(), socket.gethostname())
        self.assertEqual(conn.getURI(), self.d.uri)
        self.assertEqual(conn.isAlive(), 1)
        self.assertEqual(conn.isSecure(), 1)
        model, memory_mib, cpus, mhz, nodes, sockets, cores, threads = conn.getInfo()
        self.assertEqual(model, "x86_64")
        self.assertGreater(memory_mib, 0)
        self.assertEqual(sockets * cores * threads * nodes, cpus)
        caps = ET.fromstring(conn.getCapabilities())
        self.assertEqual(caps.findtext("host/cpu/arch"), "x86_64")
        self.assertIn("x86_64", [g.find("arch").get("name") for g in caps.findall("guest")])
        domcaps = ET.fromstring(conn.getDomainCapabilities(None, "x86_64", None, "qemu", 0))
        self.assertEqual(domcaps.findtext("domain"), "qemu")
        self.assertGreaterEqual(conn.getMaxVcpus("qemu"), 1)
        self.assertGreater(conn.getFreeMemory(), 0)
        self.assertEqual(conn.listAllDomains(), [])
        self.assertEqual((conn.numOfDomains(), conn.numOfDefinedDomains()), (0, 0))

    # ---- domains -------------------------------------------------------------------

    def test_define_lookup_info_state(self):
        conn = self.connect()
        dom = conn.defineXML(virtd.domain_xml("a", UUID_A))
        self.assertEqual((dom.name(), dom.UUIDString(), dom.ID()), ("a", UUID_A, -1))
        by_name = conn.lookupByName("a")
        self.assertEqual(by_name.UUIDString(), UUID_A)
        self.assertEqual(conn.lookupByUUIDString(UUID_A).name(), "a")
        self.assertEqual(dom.info(), [libvirt.VIR_DOMAIN_SHUTOFF, 131072, 131072, 1, 0])
        self.assertEqual(dom.state(), [libvirt.VIR_DOMAIN_SHUTOFF,
                                       libvirt.VIR_DOMAIN_SHUTOFF_UNKNOWN])
        self.assertEqual((dom.isActive(), dom.isPersistent(), dom.isUpdated()), (0, 1, 0))
        self.assertEqual(dom.OSType(), "hvm")
        self.assertEqual(dom.maxMemory(), 131072)
        self.assertEqual(dom.hasManagedSaveImage(), 0)
        self.assertEqual(conn.listDefinedDomains(), ["a"])
        self.assertEqual(conn.numOfDefinedDomains(), 1)
        xml = ET.fromstring(dom.XMLDesc())
        self.assertEqual((xml.findtext("name"), xml.findtext("uuid")), ("a", UUID_A))
        self.assertEqual(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), dom.XMLDesc())
        # A second define with the same name and uuid updates it.
        conn.defineXML(virtd.domain_xml("a", UUID_A, "<description>v2</description>"))
        self.assertEqual(ET.fromstring(dom.XMLDesc()).findtext("description"), "v2")

    def test_list_all_domains_flags(self):
        conn = self.connect()
        for name, uuid in (("a", UUID_A), ("b", UUID_B), ("c", UUID_C)):
            conn.defineXML(virtd.domain_xml(name, uuid))
        conn.lookupByName("b").setAutostart(1)

        def names(flags=0):
            return sorted(d.name() for d in conn.listAllDomains(flags))
        F = libvirt
        self.assertEqual(names(), ["a", "b", "c"])
        self.assertEqual(names(F.VIR_CONNECT_LIST_DOMAINS_ACTIVE), [])
        self.assertEqual(names(F.VIR_CONNECT_LIST_DOMAINS_INACTIVE), ["a", "b", "c"])
        self.assertEqual(names(F.VIR_CONNECT_LIST_DOMAINS_PERSISTENT), ["a", "b", "c"])
        self.assertEqual(names(F.VIR_CONNECT_LIST_DOMAINS_TRANSIENT), [])
        self.assertEqual(names(F.VIR_CONNECT_LIST_DOMAINS_AUTOSTART), ["b"])
        self.assertEqual(names(F.VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART), ["a", "c"])
        self.assertEqual(names(F.VIR_CONNECT_LIST_DOMAINS_SHUTOFF), ["a", "b", "c"])
        self.assertEqual(names(F.VIR_CONNECT_LIST_DOMAINS_RUNNING |
                               F.VIR_CONNECT_LIST_DOMAINS_PAUSED), [])
        self.assertEqual(names(F.VIR_CONNECT_LIST_DOMAINS_INACTIVE |
                               F.VIR_CONNECT_LIST_DOMAINS_AUTOSTART), ["b"])
        self.assertEqual(names(F.VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE), ["a", "b", "c"])
        self.assertEqual(names(F.VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT), [])

    def test_autostart(self):
        conn = self.connect()
        dom = conn.defineXML(virtd.domain_xml("a", UUID_A))
        self.assertEqual(dom.autostart(), 0)
        dom.setAutostart(1)
        self.assertEqual(dom.autostart(), 1)
        self.assertEqual(conn.lookupByName("a").autostart(), 1)
        dom.setAutostart(0)
        self.assertEqual(dom.autostart(), 0)

    def test_metadata(self):
        conn = self.connect()
        dom = conn.defineXML(virtd.domain_xml("a", UUID_A))
        C = libvirt.VIR_DOMAIN_AFFECT_CONFIG
        M = libvirt
        self.assert_error(libvirt.VIR_ERR_NO_DOMAIN_METADATA,
                          "metadata not found: domain 'a' has no description",
                          dom.metadata, M.VIR_DOMAIN_METADATA_DESCRIPTION, None, C)
        dom.setMetadata(M.VIR_DOMAIN_METADATA_DESCRIPTION, "a description", None, None, C)
        dom.setMetadata(M.VIR_DOMAIN_METADATA_TITLE, "a title", None, None, C)
        dom.setMetadata(M.VIR_DOMAIN_METADATA_ELEMENT, "<foo a='1'>bar</foo>", "app", APP_NS, C)
        self.assertEqual(dom.metadata(M.VIR_DOMAIN_METADATA_DESCRIPTION, None, C),
                         "a description")
        self.assertEqual(dom.metadata(M.VIR_DOMAIN_METADATA_TITLE, None, 0), "a title")
        self.assertEqual(dom.metadata(M.VIR_DOMAIN_METADATA_ELEMENT, APP_NS, C),
                         '<foo a="1">bar</foo>')
        xml = ET.fromstring(dom.XMLDesc())
        self.assertEqual(xml.findtext("title"), "a title")
        self.assertEqual(xml.findtext("description"), "a description")
        foo = xml.find(f"metadata/{{{APP_NS}}}foo")
        self.assertEqual((foo.get("a"), foo.text), ("1", "bar"))
        self.assert_error(libvirt.VIR_ERR_NO_DOMAIN_METADATA,
                          "metadata not found: domain 'a' has no metadata element in "
                          "namespace 'http://example.org/other'",
                          dom.metadata, M.VIR_DOMAIN_METADATA_ELEMENT,
                          "http://example.org/other", C)
        # Removing the element (None) and the description.
        dom.setMetadata(M.VIR_DOMAIN_METADATA_ELEMENT, None, "app", APP_NS, C)
        dom.setMetadata(M.VIR_DOMAIN_METADATA_DESCRIPTION, None, None, None, C)
        xml = ET.fromstring(dom.XMLDesc())
        self.assertIsNone(xml.find(f"metadata/{{{APP_NS}}}foo"))
        self.assertIsNone(xml.find("description"))
        self.assertEqual(xml.findtext("title"), "a title")

    def test_rename(self):
        conn = self.connect()
        dom = conn.defineXML(virtd.domain_xml("a", UUID_A))
        dom.rename("b", 0)
        self.assertEqual(dom.name(), "b")
        self.assertEqual(conn.lookupByUUIDString(UUID_A).name(), "b")
        self.assertEqual([d.name() for d in conn.listAllDomains()], ["b"])
        self.assert_error(libvirt.VIR_ERR_NO_DOMAIN,
                          "Domain not found: no domain with matching name 'a'",
                          conn.lookupByName, "a")

    def test_vcpus_and_memory_config(self):
        conn = self.connect()
        dom = conn.defineXML(virtd.domain_xml("a", UUID_A))
        C = libvirt.VIR_DOMAIN_AFFECT_CONFIG
        MAX = libvirt.VIR_DOMAIN_VCPU_MAXIMUM
        self.assertEqual((dom.vcpusFlags(C), dom.vcpusFlags(C | MAX)), (1, 1))
        dom.setVcpusFlags(4, C | MAX)
        self.assertEqual((dom.vcpusFlags(C), dom.vcpusFlags(C | MAX)), (1, 4))
        dom.setVcpusFlags(3, C)
        self.assertEqual((dom.vcpusFlags(C), dom.vcpusFlags(C | MAX)), (3, 4))
        self.assertEqual(dom.info()[3], 3)
        dom.setMemoryFlags(65536, libvirt.VIR_DOMAIN_MEM_CONFIG)
        self.assertEqual(dom.info()[1:3], [131072, 65536])
        dom.setMemoryFlags(262144, libvirt.VIR_DOMAIN_MEM_CONFIG | libvirt.VIR_DOMAIN_MEM_MAXIMUM)
        self.assertEqual(dom.maxMemory(), 262144)
        xml = ET.fromstring(dom.XMLDesc())
        self.assertEqual((xml.findtext("vcpu"), xml.find("vcpu").get("current")), ("4", "3"))
        self.assertEqual(xml.findtext("currentMemory"), "65536")
        self.assertEqual(xml.findtext("memory"), "262144")
        # Kept across a restart of the daemon: it was written to disk.
        self.d.stop()
        self.d.start()
        conn2 = self.connect()
        self.assertEqual(conn2.lookupByName("a").info()[1:4], [262144, 65536, 3])
        # Errors.
        dom2 = conn2.lookupByName("a")
        self.assert_error(libvirt.VIR_ERR_INVALID_ARG,
                          "invalid argument: vcpu count 5 is above the maximum 4",
                          dom2.setVcpusFlags, 5, C)
        self.assert_error(libvirt.VIR_ERR_INVALID_ARG,
                          "invalid argument: cannot set memory to 1048576 KiB: "
                          "the maximum is 262144 KiB",
                          dom2.setMemoryFlags, 1048576, libvirt.VIR_DOMAIN_MEM_CONFIG)
        self.assert_error(libvirt.VIR_ERR_OPERATION_INVALID,
                          "Requested operation is not valid: domain is not running",
                          dom2.setVcpusFlags, 2, libvirt.VIR_DOMAIN_AFFECT_LIVE)

    def test_undefine(self):
        conn = self.connect()
        dom = conn.defineXML(virtd.domain_xml("a", UUID_A))
        dom.setAutostart(1)
        dom.undefine()
        self.assertEqual(conn.listAllDomains(), [])
        self.assert_error(libvirt.VIR_ERR_NO_DOMAIN,
                          f"Domain not found: no domain with matching uuid '{UUID_A}'",
                          dom.info)
        dom = conn.defineXML(virtd.domain_xml("b", UUID_B))
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                          libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                          libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
        self.assertEqual(conn.listAllDomains(), [])

    # ---- events --------------------------------------------------------------------

    def test_lifecycle_events_in_order(self):
        watcher = self.connect()
        other = self.connect()  # registers nothing
        bystander = self.connect()
        ev, quiet_ev = Events(), Events()
        cb = watcher.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                            ev.lifecycle, None)
        mcb = watcher.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
                                             ev.metadata, None)
        # The bystander registers for another event id only: it gets none of these.
        bcb = bystander.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT,
                                               lambda *a: quiet_ev.q.put(a), None)

        dom = other.defineXML(virtd.domain_xml("a", UUID_A))
        other.defineXML(virtd.domain_xml("a", UUID_A))
        dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, "hi", None, None,
                        libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, "<x/>", "app", APP_NS,
                        libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        dom.rename("b", 0)
        dom.undefine()
        expected = [
            ("a", "DEFINED/ADDED"),
            ("a", "DEFINED/UPDATED"),
            ("a", f"METADATA/{libvirt.VIR_DOMAIN_METADATA_DESCRIPTION}/None"),
            ("a", f"METADATA/{libvirt.VIR_DOMAIN_METADATA_ELEMENT}/{APP_NS}"),
            ("a", "UNDEFINED/RENAMED"),
            ("b", "DEFINED/RENAMED"),
            ("b", "UNDEFINED/REMOVED"),
        ]
        self.assertEqual(ev.take(len(expected)), expected)
        self.assertIsNone(ev.none_within(0.5))
        self.assertIsNone(quiet_ev.none_within(0.1))

        # Deregistered: no more events.
        watcher.domainEventDeregisterAny(cb)
        watcher.domainEventDeregisterAny(mcb)
        bystander.domainEventDeregisterAny(bcb)
        other.defineXML(virtd.domain_xml("c", UUID_C))
        self.assertIsNone(ev.none_within(0.5))

    def test_connection_that_did_not_register_gets_nothing(self):
        # libvirt drops events nobody asked for, so what a connection that did not register
        # receives is seen on the wire: a raw client that registered gets the event, one
        # that did not gets no packet at all.
        registered = virtd.RawClient(self.d.sock)
        self.addCleanup(registered.close)
        registered.open()
        pkt = registered.call(PROC_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
                              struct.pack(">iI", libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, 0))
        self.assertEqual(pkt[4], virtd.OK)
        silent = virtd.RawClient(self.d.sock, timeout=0.5)
        self.addCleanup(silent.close)
        silent.open()
        # A python connection that did not register either, beside one that did.
        ev = Events()
        watcher = self.connect()
        cb = watcher.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                            ev.lifecycle, None)
        self.connect().defineXML(virtd.domain_xml("a", UUID_A))
        self.assertEqual(ev.take(1), [("a", "DEFINED/ADDED")])
        prog, proc, mtype, serial, _status, _payload = registered.recv()
        self.assertEqual((prog, proc, mtype, serial),
                         (virtd.PROGRAM_REMOTE, PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
                          virtd.MESSAGE, 0))
        with self.assertRaises(socket.timeout):
            silent.recv()
        watcher.domainEventDeregisterAny(cb)

    def test_callback_filtered_to_one_domain(self):
        conn = self.connect()
        watcher = self.connect()
        a = conn.defineXML(virtd.domain_xml("a", UUID_A))
        ev_a, ev_all = Events(), Events()
        wa = watcher.lookupByName("a")
        cb_a = watcher.domainEventRegisterAny(wa, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                              ev_a.lifecycle, None)
        cb_all = watcher.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                ev_all.lifecycle, None)
        conn.defineXML(virtd.domain_xml("b", UUID_B))
        conn.defineXML(virtd.domain_xml("a", UUID_A))
        conn.lookupByName("b").undefine()
        a.undefine()
        self.assertEqual(ev_a.take(2), [("a", "DEFINED/UPDATED"), ("a", "UNDEFINED/REMOVED")])
        self.assertEqual(ev_all.take(4), [("b", "DEFINED/ADDED"), ("a", "DEFINED/UPDATED"),
                                          ("b", "UNDEFINED/REMOVED"),
                                          ("a", "UNDEFINED/REMOVED")])
        self.assertIsNone(ev_a.none_within(0.3))
        watcher.domainEventDeregisterAny(cb_a)
        watcher.domainEventDeregisterAny(cb_all)

    def test_events_reach_every_registered_connection(self):
        conns = [self.connect() for _ in range(3)]
        evs = [Events() for _ in conns]
        cbs = [c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                        e.lifecycle, None) for c, e in zip(conns, evs)]
        self.connect().defineXML(virtd.domain_xml("a", UUID_A))
        for e in evs:
            self.assertEqual(e.take(1), [("a", "DEFINED/ADDED")])
        for c, cb in zip(conns, cbs):
            c.domainEventDeregisterAny(cb)

    # ---- errors --------------------------------------------------------------------

    def test_error_missing_domain(self):
        conn = self.connect()
        e = self.assert_error(libvirt.VIR_ERR_NO_DOMAIN,
                              "Domain not found: no domain with matching name 'nosuch'",
                              conn.lookupByName, "nosuch")
        self.assertEqual(e.get_error_domain(), libvirt.VIR_FROM_QEMU)
        self.assert_error(libvirt.VIR_ERR_NO_DOMAIN,
                          f"Domain not found: no domain with matching uuid '{UUID_B}'",
                          conn.lookupByUUIDString, UUID_B)
        self.assert_error(libvirt.VIR_ERR_NO_DOMAIN,
                          "Domain not found: no domain with matching id 7",
                          conn.lookupByID, 7)

    def test_error_invalid_xml(self):
        conn = self.connect()
        self.assert_error(libvirt.VIR_ERR_XML_DETAIL,
                          "malformed XML at line 1: Couldn't find end of Start Tag domain "
                          "line 1",
                          conn.defineXML, "<domain")
        self.assert_error(libvirt.VIR_ERR_XML_ERROR,
                          "XML error: unexpected root element 'network', expecting 'domain'",
                          conn.defineXML, "<network/>")
        self.assert_error(libvirt.VIR_ERR_XML_ERROR,
                          "XML error: missing element 'name'",
                          conn.defineXML, "<domain type='qemu'/>")
        self.assert_error(libvirt.VIR_ERR_XML_ERROR,
                          "XML error: domain name 'a/b' must not contain '/'",
                          conn.defineXML, virtd.domain_xml("a/b"))
        self.assertEqual(conn.listAllDomains(), [])

    def test_error_read_only(self):
        self.connect().defineXML(virtd.domain_xml("a", UUID_A))
        denied = "operation forbidden: read only access prevents {}"
        # openReadOnly on the -ro socket: libvirt's client library refuses by itself.
        ro = self.connect(readonly=True)
        self.assert_error(libvirt.VIR_ERR_OPERATION_DENIED, denied.format("virDomainDefineXML"),
                          ro.defineXML, virtd.domain_xml("b", UUID_B))
        self.assertEqual([d.name() for d in ro.listAllDomains()], ["a"])
        # A plain open of the -ro socket: the daemon refuses, naming the procedure.
        ro = libvirt.open(self.d.uri_ro)
        self.addCleanup(ro.close)
        self.assert_error(libvirt.VIR_ERR_OPERATION_DENIED, denied.format("DOMAIN_DEFINE_XML"),
                          ro.defineXML, virtd.domain_xml("b", UUID_B))
        dom = ro.lookupByName("a")
        self.assert_error(libvirt.VIR_ERR_OPERATION_DENIED,
                          denied.format("DOMAIN_UNDEFINE"), dom.undefine)
        self.assert_error(libvirt.VIR_ERR_OPERATION_DENIED,
                          denied.format("DOMAIN_SET_AUTOSTART"), dom.setAutostart, 1)
        self.assert_error(libvirt.VIR_ERR_OPERATION_DENIED,
                          denied.format("DOMAIN_RENAME"), dom.rename, "z", 0)
        # Reads work on it.
        self.assertEqual(dom.info()[0], libvirt.VIR_DOMAIN_SHUTOFF)
        self.assertEqual([d.name() for d in ro.listAllDomains()], ["a"])
        self.assertEqual(conn_names(self.connect()), ["a"])

    def test_error_unsupported_call(self):
        conn = self.connect()
        dom = conn.defineXML(virtd.domain_xml("a", UUID_A))
        e = self.assert_error(libvirt.VIR_ERR_NO_SUPPORT,
                              "this function is not supported by virtd: "
                              "DOMAIN_MIGRATE_GET_MAX_SPEED",
                              dom.migrateGetMaxSpeed, 0)
        self.assertIsNotNone(e)
        # The connection survives it.
        self.assertEqual(conn.lookupByName("a").name(), "a")


def conn_names(conn):
    return sorted(d.name() for d in conn.listAllDomains())


def virtd_qemu_version():
    out = subprocess.run(["/usr/bin/qemu-system-x86_64", "--version"], capture_output=True,
                         text=True, check=True).stdout
    return re.search(r"version (\d+\.\d+\.\d+)", out).group(1)


if __name__ == "__main__":
    virtd.main()
