#!/usr/bin/python3
"""The daemon's own life: signals, a second daemon on the same paths, stale sockets,
crashes (kill -9) at any moment of a define or undefine, --daemon/--pid-file, --version,
and a bad configuration file."""
import os
import random
import re
import signal
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import libvirt

import virtd


def _quiet(_ctx, _err):
    """libvirt prints every error to stderr by default; a killed daemon makes many."""


libvirt.registerErrorHandler(_quiet, None)

SOCKETS = ("libvirt-sock", "libvirt-sock-ro", "virtqemud-sock", "virtqemud-sock-ro")


def project_version():
    with open(os.path.join(virtd.SRCDIR, "meson.build")) as f:
        return re.search(r"version\s*:\s*'([^']+)'", f.read()).group(1)


def socket_answers(path):
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(path)
        return True
    except OSError:
        return False


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie of ours is not alive either.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


class LifecycleTest(virtd.DaemonTestCase):

    def run_dir(self):
        return os.path.join(self.d.root, "run", "libvirt")

    def names(self, *filters):
        out = self.d.virsh("list", "--all", "--name", *filters).stdout
        return sorted(line for line in out.splitlines() if line)

    def config_names(self):
        return sorted(f[:-4] for f in os.listdir(self.d.config_dir) if f.endswith(".xml"))

    # ---- signals -------------------------------------------------------------------

    def test_sigterm_exits_zero_and_removes_sockets(self):
        for sock in SOCKETS:
            self.assertTrue(socket_answers(os.path.join(self.run_dir(), sock)), sock)
        self.assertEqual(self.d.stop(signal.SIGTERM), 0, self.d.stderr())
        for sock in SOCKETS:
            self.assertFalse(os.path.lexists(os.path.join(self.run_dir(), sock)), sock)

    def test_sigint_exits_zero(self):
        self.assertEqual(self.d.stop(signal.SIGINT), 0, self.d.stderr())
        self.assertFalse(os.path.lexists(self.d.sock))

    def test_sigterm_with_clients_connected(self):
        conn = libvirt.open(self.d.uri)
        self.define("a")
        self.assertEqual(self.d.stop(signal.SIGTERM), 0, self.d.stderr())
        for sock in SOCKETS:
            self.assertFalse(os.path.lexists(os.path.join(self.run_dir(), sock)), sock)
        with self.assertRaises(libvirt.libvirtError):
            conn.listAllDomains()
        try:
            conn.close()
        except libvirt.libvirtError:
            pass

    def test_sighup_reloads_definitions(self):
        self.define("a")
        os.makedirs(self.d.config_dir, exist_ok=True)
        uuid = "4fb05162-7384-4596-a7a8-b9cadbecfe0e"
        with open(os.path.join(self.d.config_dir, "hup1.xml"), "w") as f:
            f.write(virtd.domain_xml("hup1", uuid))
        self.assertEqual(self.names(), ["a"])
        self.d.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while self.names() != ["a", "hup1"] and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.names(), ["a", "hup1"])
        self.assertEqual(self.d.virsh("domuuid", "hup1").stdout, f"{uuid}\n")
        # Still serving, same process.
        self.assertIsNone(self.d.proc.poll())
        # A definition changed behind its back is taken as it is on disk.
        with open(os.path.join(self.d.config_dir, "hup1.xml"), "w") as f:
            f.write(virtd.domain_xml("hup1", uuid, "<description>edited</description>"))
        self.d.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while (self.d.virsh("desc", "hup1", quiet=False).stdout != "edited\n" and
               time.monotonic() < deadline):
            time.sleep(0.05)
        self.assertEqual(self.d.virsh("desc", "hup1", quiet=False).stdout, "edited\n")
        # A file removed behind its back goes away on the next SIGHUP.
        os.unlink(os.path.join(self.d.config_dir, "hup1.xml"))
        self.d.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while self.names() != ["a"] and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.names(), ["a"])

    # ---- one daemon per set of paths ---------------------------------------------

    def test_second_daemon_on_same_root_refuses(self):
        self.define("a")
        res = subprocess.run([virtd.VIRTD, "--root", self.d.root], capture_output=True,
                             text=True, timeout=30, stdin=subprocess.DEVNULL)
        self.assertNotEqual(res.returncode, 0)
        self.assertEqual(res.stderr.splitlines()[-1],
                         f"virtd: operation failed: another daemon is already listening on "
                         f"'{self.d.sock}'", res.stderr)
        # The first one keeps serving, on a socket nobody unlinked.
        self.assertIsNone(self.d.proc.poll())
        self.assertEqual(self.names(), ["a"])
        for sock in SOCKETS:
            self.assertTrue(socket_answers(os.path.join(self.run_dir(), sock)), sock)

    def test_stale_socket_is_replaced(self):
        self.define("a")
        self.d.kill9()
        for sock in SOCKETS:
            path = os.path.join(self.run_dir(), sock)
            self.assertTrue(os.path.lexists(path), sock)  # left behind by the crash
            self.assertFalse(socket_answers(path), sock)
        self.d.start()
        self.assertEqual(self.names(), ["a"])
        for sock in SOCKETS:
            self.assertTrue(socket_answers(os.path.join(self.run_dir(), sock)), sock)

    def test_a_file_in_the_way_of_a_socket(self):
        self.d.stop()
        with open(self.d.sock, "w") as f:
            f.write("not a socket")
        res = subprocess.run([virtd.VIRTD, "--root", self.d.root], capture_output=True,
                             text=True, timeout=30, stdin=subprocess.DEVNULL)
        self.assertNotEqual(res.returncode, 0)
        self.assertEqual(res.stderr.splitlines()[-1],
                         f"virtd: operation failed: '{self.d.sock}' exists and is not a socket")
        with open(self.d.sock) as f:
            self.assertEqual(f.read(), "not a socket")  # left alone

    # ---- crashes -------------------------------------------------------------------

    def test_kill9_and_restart_keeps_every_definition(self):
        conn = libvirt.open(self.d.uri)
        names = [f"dom{i:02d}" for i in range(20)]
        for i, name in enumerate(names):
            extra = f"<description>domain number {i}</description>"
            dom = conn.defineXML(virtd.domain_xml(name, None, extra))
            if i % 3 == 0:
                dom.setAutostart(1)
        # Autostart domains start again after the restart: compare the definitions.
        before = {name: self.d.virsh("dumpxml", "--inactive", name).stdout for name in names}
        autostart = sorted(self.names("--autostart"))
        conn.close()
        self.d.kill9()
        self.d.start()
        self.assertEqual(self.names(), names)
        after = {name: self.d.virsh("dumpxml", "--inactive", name).stdout for name in names}
        for name in names:
            self.assertEqual(after[name], before[name], name)
        self.assertEqual(sorted(self.names("--autostart")), autostart)

    def test_kill9_during_define_undefine_never_breaks_a_definition(self):
        rng = random.Random(int(os.environ.get("VIRTD_TEST_SEED", "0")) or None)
        names = ["crash0", "crash1", "crash2", "crash3"]
        uuids = {n: f"5a0c1d2e-3f40-4152-8364-7586970000{i:02d}" for i, n in enumerate(names)}
        total_ops = 0
        # The first define probes QEMU; a kill during the probe leaves no cache, so every
        # round would probe again and no define would finish before the kill on a busy
        # machine. Probe once here: the rounds are about definitions.
        self.d.virsh("domcapabilities")
        for round_ in range(15):
            stop = threading.Event()
            stats = {"ops": 0}

            def hammer():
                try:
                    conn = libvirt.open(self.d.uri)
                except libvirt.libvirtError:
                    return
                try:
                    i = 0
                    while not stop.is_set():
                        name = names[i % len(names)]
                        # Descriptions of changing size so that a torn write would show.
                        extra = (f"<description>{'x' * rng.randint(0, 4000)}</description>"
                                 f"<title>round {round_} op {i}</title>")
                        dom = conn.defineXML(virtd.domain_xml(name, uuids[name], extra))
                        if i % 3 == 0:
                            dom.setAutostart(1)
                        if i % 2 == 0:
                            dom.undefine()
                        else:
                            again = (f"<description>{'y' * rng.randint(0, 8000)}"
                                     f"</description><title>redefined {i}</title>")
                            conn.defineXML(virtd.domain_xml(name, uuids[name], again))
                        i += 1
                        stats["ops"] = i
                except libvirt.libvirtError:
                    pass  # the daemon died under us
                finally:
                    try:
                        conn.close()
                    except libvirt.libvirtError:
                        pass

            t = threading.Thread(target=hammer)
            t.start()
            time.sleep(rng.uniform(0.005, 0.2))
            self.d.kill9()
            stop.set()
            t.join(10)
            self.assertFalse(t.is_alive())
            total_ops += stats["ops"]

            self.d.start()
            files = self.config_names()
            for name in files:
                path = os.path.join(self.d.config_dir, name + ".xml")
                res = subprocess.run(["xmllint", "--noout", path], capture_output=True,
                                     text=True)
                self.assertEqual(res.returncode, 0, f"round {round_}: {path}: {res.stderr}")
                self.assertEqual(ET.parse(path).getroot().findtext("name"), name)
            # Autostarted domains run; one undefined while running stays, transient.
            listed = self.names("--persistent")
            self.assertEqual(listed, files, f"round {round_} after {stats['ops']} operations")
            self.assertTrue(set(listed) <= set(names), listed)
            # Every autostart link points at a definition that exists.
            autostart_dir = os.path.join(self.d.config_dir, "autostart")
            if os.path.isdir(autostart_dir):
                for link in os.listdir(autostart_dir):
                    if not link.endswith(".xml"):
                        continue
                    self.assertIn(link[:-4], files, f"round {round_}: dangling {link}")
            for name in listed:
                dom = ET.fromstring(self.d.virsh("dumpxml", name).stdout)
                self.assertEqual(dom.findtext("uuid"), uuids[name])
        # The kills did land in the middle of work, not before it started.
        self.assertGreater(total_ops, 15)

    # ---- command line --------------------------------------------------------------

    def test_daemon_and_pid_file(self):
        self.d.stop()
        pid_file = os.path.join(self.d.root, "virtd-test.pid")
        res = subprocess.run([virtd.VIRTD, "--root", self.d.root, "--daemon",
                              "--pid-file", pid_file], capture_output=True, text=True,
                             timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual((res.returncode, res.stdout, res.stderr), (0, "", ""))
        with open(pid_file) as f:
            pid = int(f.read().strip())
        self.addCleanup(self._kill_pid, pid)
        # Returned only once ready: the socket answers with no wait.
        self.assertTrue(socket_answers(self.d.sock))
        self.assertTrue(pid_alive(pid))
        self.assertEqual(self.names(), [])
        # A second --daemon on the same pid file refuses.
        res2 = subprocess.run([virtd.VIRTD, "--root", self.d.root, "--daemon",
                               "--pid-file", pid_file], capture_output=True, text=True,
                              timeout=30, stdin=subprocess.DEVNULL)
        self.assertNotEqual(res2.returncode, 0)
        self.assertTrue(pid_alive(pid))
        # SIGTERM: it exits and takes its pid file and sockets with it.
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(pid_alive(pid))
        self.assertFalse(os.path.exists(pid_file))
        self.assertFalse(os.path.lexists(self.d.sock))

    @staticmethod
    def _kill_pid(pid):
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)

    def test_version(self):
        res = subprocess.run([virtd.VIRTD, "--version"], capture_output=True, text=True,
                             timeout=10)
        self.assertEqual((res.returncode, res.stdout, res.stderr),
                         (0, f"virtd {project_version()}\n", ""))

    def test_bad_config_file(self):
        self.d.stop()
        conf = os.path.join(self.d.root, "etc", "libvirt", "virtd.conf")
        with open(conf, "w") as f:
            f.write("# a comment\nmax_workers = 4\nmax_wokers = 20\n")
        res = subprocess.run([virtd.VIRTD, "--root", self.d.root], capture_output=True,
                             text=True, timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual((res.returncode, res.stderr),
                         (1, f"virtd: {conf}:3: unknown setting 'max_wokers'\n"))
        self.assertFalse(os.path.lexists(self.d.sock))
        # The same through --config.
        other = os.path.join(self.d.root, "other.conf")
        with open(other, "w") as f:
            f.write("keepalive_interval = soon\n")
        res = subprocess.run([virtd.VIRTD, "--root", self.d.root, "--config", other],
                             capture_output=True, text=True, timeout=30,
                             stdin=subprocess.DEVNULL)
        self.assertEqual((res.returncode, res.stderr),
                         (1, f"virtd: {other}:1: 'keepalive_interval' must be a number from "
                             "-1 to 86400, not 'soon'\n"))
        # A --config that does not exist is an error too (the default one is optional).
        missing = os.path.join(self.d.root, "missing.conf")
        res = subprocess.run([virtd.VIRTD, "--root", self.d.root, "--config", missing],
                             capture_output=True, text=True, timeout=30,
                             stdin=subprocess.DEVNULL)
        self.assertEqual(res.returncode, 1)
        self.assertTrue(res.stderr.startswith(f"virtd: cannot read '{missing}': "), res.stderr)
        self.assertTrue(res.stderr.endswith(": No such file or directory\n"), res.stderr)
        self.assertEqual(len(res.stderr.splitlines()), 1, res.stderr)

    def test_unknown_option(self):
        res = subprocess.run([virtd.VIRTD, "--no-such-option"], capture_output=True,
                             text=True, timeout=10)
        self.assertEqual((res.returncode, res.stderr),
                         (1, "virtd: Unknown option --no-such-option\n"))


if __name__ == "__main__":
    virtd.main()
