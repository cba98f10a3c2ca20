#!/usr/bin/python3
"""Session mode: virtd run by an ordinary user uses libvirt's session paths and URI."""
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest

import virtd
from virtd import RawClient, decode_error, xdr_opt_string

NOBODY = 65534


class SessionModeTest(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to run the daemon as another user")
        self.home = tempfile.mkdtemp(prefix="virtd-session-", dir="/tmp")
        self.runtime = os.path.join(self.home, "run")
        os.mkdir(self.runtime, 0o700)
        for path in (self.home, self.runtime):
            os.chown(path, NOBODY, NOBODY)
        self.addCleanup(shutil.rmtree, self.home, True)
        self.env = {"HOME": self.home, "XDG_RUNTIME_DIR": self.runtime,
                    "PATH": "/usr/bin:/bin"}
        # A copy the user can reach, wherever the build tree lives.
        binary = os.path.join(self.home, "virtd")
        shutil.copy(virtd.VIRTD, binary)
        self.daemon = subprocess.Popen(self.as_nobody(binary), env=self.env,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop_daemon)
        self.sock = os.path.join(self.runtime, "libvirt", "libvirt-sock")
        deadline = time.monotonic() + 10
        while not os.path.exists(self.sock):
            self.assertIsNone(self.daemon.poll(), "virtd exited early")
            self.assertLess(time.monotonic(), deadline, "no session socket")
            time.sleep(0.02)

    @staticmethod
    def as_nobody(*cmd):
        return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd]

    def stop_daemon(self):
        if self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            self.daemon.wait(10)
        self.daemon.stdout.close()

    def virsh(self, *args):
        return subprocess.run(self.as_nobody("virsh", "-q", "-c", "qemu:///session", *args),
                              env=self.env, capture_output=True, text=True, timeout=30)

    def test_paths_uri_and_definitions(self):
        run_dir = os.path.join(self.runtime, "libvirt")
        self.assertEqual(sorted(n for n in os.listdir(run_dir) if n.endswith("sock")),
                         ["libvirt-sock", "virtqemud-sock"])  # no read-only sockets
        self.assertEqual(os.stat(self.sock).st_uid, NOBODY)
        self.assertEqual(self.virsh("uri").stdout.strip(), "qemu:///session")

        xml = os.path.join(self.home, "s1.xml")
        with open(xml, "w") as f:
            f.write(virtd.domain_xml("s1"))
        res = self.virsh("define", xml)
        self.assertEqual(res.returncode, 0, res.stderr)
        stored = os.path.join(self.home, ".config", "libvirt", "qemu", "s1.xml")
        self.assertTrue(os.path.exists(stored))
        self.assertEqual(self.virsh("list", "--all", "--name").stdout.split(), ["s1"])

    def test_domains_run_without_cgroups(self):
        """A session daemon runs QEMU as its user, outside any cgroup; tuning calls that need
        one say so, and the daemon says once why."""
        xml = os.path.join(self.home, "s2.xml")
        with open(xml, "w") as f:
            f.write("<domain type='qemu'><name>s2</name><memory unit='MiB'>64</memory>"
                    "<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>")
        self.assertEqual(self.virsh("define", xml).returncode, 0)
        res = self.virsh("start", "s2")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.addCleanup(self.virsh, "destroy", "s2")
        res = self.virsh("schedinfo", "s2", "--live", "--set", "cpu_shares=512")
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("cgroups are not available for domain 's2': the daemon runs it without "
                      "a cgroup (see the daemon's log)", res.stderr)
        self.assertEqual(self.virsh("destroy", "s2").returncode, 0)
        self.daemon.send_signal(signal.SIGTERM)
        self.daemon.wait(10)
        log = self.daemon.stdout.read().decode()
        self.assertEqual(log.count("a session daemon runs domains without cgroups"), 1, log)

    def test_system_uri_refused_with_the_served_one_named(self):
        c = RawClient(self.sock)
        self.addCleanup(c.close)
        pkt = c.call(1, xdr_opt_string("qemu:///system") + struct.pack(">I", 0))
        self.assertEqual(decode_error(pkt[5])[2],
                         "no connection driver available for 'qemu:///system' "
                         "(this virtd serves qemu:///session)")


if __name__ == "__main__":
    virtd.main()
