#!/usr/bin/python3
"""Real QEMU (TCG) domains run by virtd, driven by real virsh and python3-libvirt: start,
the guest's line on the serial console, CPU time, suspend/resume, ACPI shutdown, reboot
(host- and guest-initiated), reset, destroy, transient domains, paused start, the QEMU
monitor passthrough, lifecycle and reboot events in order (and only to connections that
registered), and the errors users read, including a start that QEMU refuses.

The guest is tests/guest/build-guest's kernel + busybox initramfs: it prints its READY line
on ttyS0 about 5 s after `cont` under TCG and powers off on the ACPI power button."""
import os
import queue
import re
import socket
import threading
import time

import libvirt

import virtd


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

BOOT_BUDGET = 30.0       # boot to READY under TCG takes ~5 s
SHUTDOWN_BUDGET = 20.0   # ACPI press to "shut off"; the guest needs about a second

LIFECYCLE = {
    libvirt.VIR_DOMAIN_EVENT_STARTED: ("Started", {
        libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED: "Booted",
        libvirt.VIR_DOMAIN_EVENT_STARTED_RESTORED: "Restored"}),
    libvirt.VIR_DOMAIN_EVENT_SUSPENDED: ("Suspended", {
        libvirt.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED: "Paused"}),
    libvirt.VIR_DOMAIN_EVENT_RESUMED: ("Resumed", {
        libvirt.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED: "Unpaused"}),
    libvirt.VIR_DOMAIN_EVENT_STOPPED: ("Stopped", {
        libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN: "Shutdown",
        libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED: "Destroyed",
        libvirt.VIR_DOMAIN_EVENT_STOPPED_CRASHED: "Crashed",
        libvirt.VIR_DOMAIN_EVENT_STOPPED_FAILED: "Failed"}),
    libvirt.VIR_DOMAIN_EVENT_SHUTDOWN: ("Shutdown", {
        libvirt.VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED: "Finished",
        libvirt.VIR_DOMAIN_EVENT_SHUTDOWN_GUEST: "Finished (guest)",
        libvirt.VIR_DOMAIN_EVENT_SHUTDOWN_HOST: "Finished (host)"}),
    libvirt.VIR_DOMAIN_EVENT_DEFINED: ("Defined", {
        libvirt.VIR_DOMAIN_EVENT_DEFINED_ADDED: "Added"}),
    libvirt.VIR_DOMAIN_EVENT_UNDEFINED: ("Undefined", {
        libvirt.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED: "Removed"}),
}


def lifecycle_name(event, detail):
    """'Started Booted', 'Shutdown Finished (guest)', ... (as `virsh event` spells them)."""
    name, details = LIFECYCLE.get(event, (str(event), {}))
    return f"{name} {details.get(detail, detail)}"


class Events:
    """What a connection's callbacks received: (domain, 'Event Detail') or (domain, 'Reboot')."""

    def __init__(self):
        self.q = queue.Queue()

    def lifecycle(self, _conn, dom, event, detail, _opaque):
        self.q.put((dom.name(), lifecycle_name(event, detail)))

    def reboot(self, _conn, dom, _opaque):
        self.q.put((dom.name(), "Reboot"))

    def take(self, n, timeout=10.0):
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < n:
            try:
                got.append(self.q.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                break
        return got

    def drain(self, settle=0.3):
        """Everything queued, after @settle seconds without a new one."""
        got = []
        while True:
            try:
                got.append(self.q.get(timeout=settle))
            except queue.Empty:
                return got


def cpu_seconds(dominfo_text):
    m = re.search(r"^CPU time:\s+([\d.]+)s$", dominfo_text, re.M)
    assert m, dominfo_text
    return float(m.group(1))


class QemuDomainTest(virtd.DaemonTestCase):

    maxDiff = None

    def setUp(self):
        self.g = virtd.guest()  # skips when QEMU or the guest is unavailable
        self.ready_rx = re.escape(self.g["READY"])
        super().setUp()

    # ---- helpers -------------------------------------------------------------------

    def connect(self):
        conn = libvirt.open(self.d.uri)
        self.addCleanup(conn.close)
        return conn

    def write_xml(self, name, **kw):
        path = os.path.join(self.d.root, f"{name}.xml")
        with open(path, "w") as f:
            f.write(virtd.guest_xml(name, **kw))
        return path

    def define_guest(self, name, **kw):
        path = self.write_xml(name, **kw)
        self.d.virsh("define", path)
        # Whatever happens, the VM ends with the test (the fixture also kills by pid).
        self.addCleanup(self.d.virsh, "destroy", name, check=False)
        return path

    def state(self, name):
        return self.d.virsh("domstate", "--reason", name).stdout.strip()

    def wait_state(self, name, want, timeout):
        got = virtd.wait_for(lambda: self.state(name) == want, timeout, interval=0.1)
        self.assertTrue(got, f"{name}: still '{self.state(name)}' {timeout} s later, "
                             f"expected '{want}'")

    def console(self, name):
        path = virtd.serial_pty(self.d, name)
        self.assertTrue(path, f"no serial pty for {name}")
        reader = virtd.PtyReader(path)
        self.addCleanup(reader.close)
        return reader

    def expect_ready(self, console, what):
        t0 = time.monotonic()
        m = console.expect(self.ready_rx, BOOT_BUDGET)
        self.assertIsNotNone(m, f"{what}: no READY line within {BOOT_BUDGET} s; console had:\n"
                                f"{console.text[-2000:]}")
        print(f"  {what}: READY after {time.monotonic() - t0:.1f} s", flush=True)

    def list_ids(self):
        """{name: id} of the running domains, from `virsh list`."""
        out = self.d.virsh("list").stdout
        rows = (line.split() for line in out.splitlines() if line.strip())
        return {r[1]: r[0] for r in rows}

    def assert_nothing_left(self, name):
        self.assertIsNone(virtd.qemu_pid(self.d, name), f"a QEMU of {name} is still running")
        self.assertFalse(os.path.exists(virtd.status_file(self.d, name)),
                         f"status file of {name} left behind")
        run_dir = os.path.dirname(virtd.status_file(self.d, name))
        left = [e for e in os.listdir(run_dir) if e.endswith(f"-{name}")] \
            if os.path.isdir(run_dir) else []
        self.assertEqual(left, [], f"per-domain directory of {name} left behind")

    def assert_only_reboots(self, ev, what):
        got = ev.drain()
        self.assertTrue(got and set(got) == {("g", "Reboot")},
                        f"events of {what}: {got}, expected one or more ('g', 'Reboot')")

    def virsh_error(self, *args):
        """stderr of a virsh command that must fail."""
        res = self.d.virsh(*args, check=False)
        self.assertNotEqual(res.returncode, 0, f"virsh {' '.join(args)} succeeded: {res.stdout}")
        return res.stderr.strip()

    # ---- lifecycle -----------------------------------------------------------------

    def test_start_console_suspend_resume_shutdown_events(self):
        conn = self.connect()
        bystander = self.connect()
        ev, quiet_ev = Events(), Events()
        cb = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         ev.lifecycle, None)
        self.addCleanup(conn.domainEventDeregisterAny, cb)
        # The bystander registers for reboots only; none happens here.
        bcb = bystander.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT,
                                               quiet_ev.reboot, None)
        self.addCleanup(bystander.domainEventDeregisterAny, bcb)
        silent = virtd.RawClient(self.d.sock, timeout=0.5)  # registers nothing at all
        self.addCleanup(silent.close)
        silent.open()

        self.define_guest("g")
        self.assertEqual(ev.take(1), [("g", "Defined Added")])
        self.d.virsh("start", "g")
        console = self.console("g")
        self.assertEqual(self.state("g"), "running (booted)")
        ids = self.list_ids()
        self.assertIn("g", ids)
        self.assertRegex(ids["g"], r"^[1-9]\d*$")
        self.assertEqual(int(ids["g"]), conn.lookupByName("g").ID())
        self.assertRegex(self.d.virsh("domid", "g").stdout.strip(), "^" + ids["g"] + "$")
        cpu0 = cpu_seconds(self.d.virsh("dominfo", "g").stdout)
        pid = virtd.qemu_pid(self.d, "g")
        self.assertIsNotNone(pid)
        self.assertTrue(os.path.exists(virtd.status_file(self.d, "g")))

        self.expect_ready(console, "boot")
        info = self.d.virsh("dominfo", "g").stdout
        self.assertRegex(info, r"(?m)^State:\s+running$")
        self.assertRegex(info, r"(?m)^Id:\s+" + ids["g"] + "$")
        cpu1 = cpu_seconds(info)
        self.assertGreater(cpu1, cpu0, "CPU time did not grow while the guest booted")
        self.assertGreater(cpu1, 0.5, "a 5 s TCG boot used less than 0.5 s of CPU?")

        self.d.virsh("suspend", "g")
        self.assertEqual(self.state("g"), "paused (user)")
        self.assertRegex(self.d.virsh("dominfo", "g").stdout, r"(?m)^State:\s+paused$")
        self.d.virsh("resume", "g")
        self.assertEqual(self.state("g"), "running (unpaused)")

        t0 = time.monotonic()
        self.d.virsh("shutdown", "g")
        self.wait_state("g", "shut off (shutdown)", SHUTDOWN_BUDGET)
        print(f"  shutdown: shut off {time.monotonic() - t0:.1f} s after the press", flush=True)
        self.assertNotIn("g", self.list_ids())
        self.assertEqual(self.d.virsh("domid", "g").stdout.strip(), "-")
        self.assertFalse(virtd.wait_for(lambda: virtd.process_alive(pid) and pid, 5),
                         "QEMU still running after the guest powered off")
        self.assert_nothing_left("g")

        self.assertEqual(ev.take(5), [
            ("g", "Started Booted"),
            ("g", "Suspended Paused"),
            ("g", "Resumed Unpaused"),
            ("g", "Shutdown Finished (guest)"),
            ("g", "Stopped Shutdown"),
        ])
        self.assertEqual(ev.drain(), [])
        self.assertEqual(quiet_ev.drain(0.1), [])
        with self.assertRaises(socket.timeout):
            pkt = silent.recv()
            self.fail(f"a connection that registered nothing got packet {pkt[:4]}")

    def test_reboot_reset_guest_reboot_destroy(self):
        conn = self.connect()
        ev = Events()
        cbs = [conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                           ev.lifecycle, None),
               conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT,
                                           ev.reboot, None)]
        for cb in cbs:
            self.addCleanup(conn.domainEventDeregisterAny, cb)
        self.define_guest("g")
        self.d.virsh("start", "g")
        console = self.console("g")
        self.expect_ready(console, "boot")
        pid = virtd.qemu_pid(self.d, "g")
        dom_id = self.list_ids()["g"]
        self.assertEqual(ev.take(2), [("g", "Defined Added"), ("g", "Started Booted")])

        # Reboot (the ACPI button, then a reset instead of the power-off): a new boot in
        # the same QEMU, state running throughout, REBOOT events and no lifecycle event.
        # (QEMU reports two resets per reboot and the reference libvirtd passes on both, so
        # the count is not pinned, only that reboots and nothing else arrive.)
        self.d.virsh("reboot", "g")
        # The guest reacts to the press within a second; its state never leaves running.
        seen = set()
        for _ in range(10):
            seen.add(self.state("g").split(" (")[0])
            time.sleep(0.1)
        self.assertEqual(seen, {"running"})
        self.expect_ready(console, "after virsh reboot")
        self.assertEqual(self.state("g"), "running (booted)")
        self.assertEqual((virtd.qemu_pid(self.d, "g"), self.list_ids().get("g")), (pid, dom_id))
        self.assert_only_reboots(ev, "virsh reboot")

        # Reset: the machine restarts at once.
        self.d.virsh("reset", "g")
        self.expect_ready(console, "after virsh reset")
        self.assertEqual(self.state("g"), "running (booted)")
        self.assertEqual(virtd.qemu_pid(self.d, "g"), pid)
        self.assert_only_reboots(ev, "virsh reset")

        # The guest reboots itself (`reboot -f` on its serial shell).
        console.write("reboot -f\n")
        self.expect_ready(console, "after the guest's reboot -f")
        self.assertEqual(self.state("g"), "running (booted)")
        self.assertEqual(virtd.qemu_pid(self.d, "g"), pid)
        self.assert_only_reboots(ev, "the guest's reboot -f")

        self.d.virsh("destroy", "g")
        self.assertEqual(self.state("g"), "shut off (destroyed)")
        self.assertFalse(virtd.process_alive(pid), "QEMU alive after destroy returned")
        self.assert_nothing_left("g")
        self.assertEqual(ev.take(1), [("g", "Stopped Destroyed")])
        self.assertEqual(ev.drain(), [])

    def test_create_transient(self):
        path = self.write_xml("t")
        self.addCleanup(self.d.virsh, "destroy", "t", check=False)
        out = self.d.virsh("create", path, quiet=False).stdout
        self.assertIn(f"Domain 't' created from {path}", out)
        self.assertEqual(self.state("t"), "running (booted)")
        self.assertIn("t", self.list_ids())
        info = self.d.virsh("dominfo", "t").stdout
        self.assertRegex(info, r"(?m)^Persistent:\s+no$")
        self.assertRegex(info, r"(?m)^State:\s+running$")
        self.assertFalse(os.path.exists(os.path.join(self.d.config_dir, "t.xml")),
                         "a transient domain got a persistent definition")
        self.assertIsNotNone(virtd.qemu_pid(self.d, "t"))
        self.d.virsh("destroy", "t")
        self.assertEqual(self.d.virsh("list", "--all", "--name").stdout.split(), [])
        err = self.virsh_error("domstate", "t")
        self.assertIn("failed to get domain 't'", err)
        self.assert_nothing_left("t")

    def test_refusals_for_transient_and_running_domains(self):
        """What a transient or running domain refuses, with virtd's own words. Both stay
        paused: no guest needs to boot."""
        conn = self.connect()
        path = self.write_xml("tr")
        self.addCleanup(self.d.virsh, "destroy", "tr", check=False)
        self.d.virsh("create", "--paused", path)
        refusals = [
            (("undefine", "tr"), "cannot undefine transient domain 'tr'"),
            (("autostart", "tr"), "cannot set autostart of transient domain 'tr'"),
            (("domrename", "tr", "tr2"), "domain 'tr' can only be renamed when shut off"),
            (("create", path), "domain 'tr' already exists: start it or undefine it first"),
            (("qemu-monitor-command", "tr", '{"run": 1}'),
             "'{\"run\": 1}' is not a QMP command: expected {\"execute\": \"...\"}"),
        ]
        for args, message in refusals:
            self.assertIn(message, self.virsh_error(*args), f"virsh {' '.join(args)}")
        dom = conn.lookupByName("tr")
        # (the maximum vCPU count the same way: the client library refuses it itself)
        calls = [
            (lambda: dom.setMemoryFlags(65536, libvirt.VIR_DOMAIN_AFFECT_LIVE |
                                        libvirt.VIR_DOMAIN_MEM_MAXIMUM),
             "the maximum memory of a running domain cannot be changed"),
            (lambda: dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_TPM |
                                       libvirt.VIR_DOMAIN_UNDEFINE_KEEP_TPM),
             "cannot both remove and keep the TPM state"),
        ]
        for call, message in calls:
            with self.assertRaises(libvirt.libvirtError) as cm:
                call()
            self.assertEqual(cm.exception.get_error_message(),
                             "Requested operation is not valid: " + message)
        with self.assertRaises(libvirt.libvirtError) as cm:
            dom.vcpusFlags(libvirt.VIR_DOMAIN_VCPU_GUEST)
        self.assertEqual(cm.exception.get_error_message(), "Operation not supported: asking "
                         "the guest agent for its vCPUs is not supported yet")
        # virsh console needs a terminal: the same call from python3-libvirt.
        with self.assertRaises(libvirt.libvirtError) as cm:
            dom.openConsole("nosuch", conn.newStream(0), 0)
        self.assertTrue(cm.exception.get_error_message().endswith(
            "domain 'tr' has no character device 'nosuch'"), cm.exception.get_error_message())
        self.d.virsh("destroy", "tr")
        self.assert_nothing_left("tr")

    def test_start_paused_monitor_command_and_errors(self):
        conn = self.connect()
        self.define_guest("p")
        self.d.virsh("start", "--paused", "p")
        self.assertEqual(self.state("p"), "paused (user)")
        self.assertIn("p", self.list_ids())

        # The QEMU monitor passthrough, QMP and HMP forms.
        out = self.d.virsh("qemu-monitor-command", "p", '{"execute":"query-status"}').stdout
        self.assertRegex(out, r'"status":\s*"prelaunch"')
        self.assertRegex(out, r'"running":\s*false')
        out = self.d.virsh("qemu-monitor-command", "p", "--hmp", "info status").stdout
        self.assertEqual(out.strip(), "VM status: paused (prelaunch)")

        # Errors with their exact messages.
        dom = conn.lookupByName("p")
        with self.assertRaises(libvirt.libvirtError) as cm:
            dom.create()
        self.assertEqual((cm.exception.get_error_code(), cm.exception.get_error_message()),
                         (libvirt.VIR_ERR_OPERATION_INVALID,
                          "Requested operation is not valid: domain 'p' is already running"))

        self.d.virsh("resume", "p")
        self.assertEqual(self.state("p"), "running (unpaused)")
        out = self.d.virsh("qemu-monitor-command", "p", '{"execute":"query-status"}').stdout
        self.assertRegex(out, r'"status":\s*"running"')
        self.assertEqual(self.d.virsh("qemu-monitor-command", "p", "--hmp",
                                      "info status").stdout.strip(), "VM status: running")

        self.d.virsh("destroy", "p")
        self.assertEqual(self.state("p"), "shut off (destroyed)")
        for cmd in ("suspend", "destroy", "resume", "reboot", "reset"):
            err = self.virsh_error(cmd, "p")
            self.assertEqual(err.splitlines()[-1],
                             "error: Requested operation is not valid: domain 'p' is not running",
                             f"virsh {cmd} of a shut-off domain")
        for fn in (dom.suspend, dom.destroy, dom.resume, dom.shutdown):
            with self.assertRaises(libvirt.libvirtError) as cm:
                fn()
            self.assertEqual((cm.exception.get_error_code(), cm.exception.get_error_message()),
                             (libvirt.VIR_ERR_OPERATION_INVALID,
                              "Requested operation is not valid: domain 'p' is not running"),
                             fn.__name__)
        err = self.virsh_error("qemu-monitor-command", "p", '{"execute":"query-status"}')
        self.assertEqual(err, "error: Requested operation is not valid: domain 'p' is not running")
        self.assert_nothing_left("p")

    def test_failed_start_quotes_qemu_and_leaves_nothing(self):
        missing = os.path.join(self.d.root, "no-such-kernel")
        self.define_guest("bad", kernel=missing)
        err = self.virsh_error("start", "bad")
        print("  virsh start of a domain whose kernel is missing says:\n    "
              + err.replace("\n", "\n    "), flush=True)
        self.assertNotIn("bad", self.list_ids())
        self.assert_nothing_left("bad")
        self.assertEqual(self.d.qemu_pids(), [])
        with self.subTest("the message names the domain and quotes QEMU, nothing else"):
            qemu_words = f"qemu: could not open kernel file '{missing}': No such file or directory"
            self.assertEqual(err.splitlines(), [
                "error: Failed to start domain 'bad'",
                f"error: operation failed: QEMU for domain 'bad' failed to start: {qemu_words}",
            ])
        with self.subTest("state after a failed start (as the reference libvirtd says)"):
            self.assertEqual(self.state("bad"), "shut off (failed)")
        # The domain is still defined, and a good one starts after the failure.
        self.assertEqual(self.d.virsh("list", "--all", "--name").stdout.split(), ["bad"])
        self.define_guest("good")
        self.d.virsh("start", "good")
        self.assertEqual(self.state("good"), "running (booted)")
        self.d.virsh("destroy", "good")

    def test_kvm_type_without_dev_kvm(self):
        if os.path.exists("/dev/kvm"):
            self.skipTest("this machine has /dev/kvm: type='kvm' would run")
        conn = self.connect()
        with self.assertRaises(libvirt.libvirtError) as cm:
            dom = conn.defineXML(virtd.guest_xml("k", dom_type="kvm"))
            self.addCleanup(self.d.virsh, "destroy", "k", check=False)
            dom.create()
        e = cm.exception
        self.assertEqual(e.get_error_code(), libvirt.VIR_ERR_CONFIG_UNSUPPORTED,
                         e.get_error_message())
        # Said at define (domain capabilities) or at start (command line); either way
        # it names /dev/kvm and suggests type 'qemu'.
        self.assertRegex(e.get_error_message(),
                         r"^unsupported configuration: .*'kvm'.*/dev/kvm.*"
                         r"use (domain )?type 'qemu'$")
        self.assertEqual(self.d.qemu_pids(), [])


if __name__ == "__main__":
    virtd.main()
