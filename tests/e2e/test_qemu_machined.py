#!/usr/bin/python3
"""Running domains registered with systemd-machined: a private dbus-daemon stands in for the
system bus (DBUS_SYSTEM_BUS_ADDRESS) and tests/unit/host/fake-machined.py for machined,
playing systemd by making each machine's scope in the host's real cgroup hierarchies
(never cpuset, as systemd). virtd registers QEMU, moves it to <scope>/libvirt with
emulator/ and vcpuN/ below, finds the scope again after a restart and terminates the machine
when the domain stops. Without a bus the daemon says so once, uses its own layout and never
loads libdbus-1 (dlopen()ed only when a bus listens).

Needs root, writable v1 cgroup hierarchies or v2, dbus-daemon and QEMU; skips otherwise."""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import uuid as uuidlib

import virtd

FAKE = os.path.join(virtd.SRCDIR, "tests", "unit", "host", "fake-machined.py")
CG = "/sys/fs/cgroup"
# where systemd makes a scope: its own hierarchies, never cpuset
SYSTEMD_HIERARCHIES = ["systemd", "unified", "cpu", "cpuacct", "cpu,cpuacct", "memory",
                       "devices", "blkio", "pids"]
BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""
PROPS = ("[('Slice', <'machine.slice'>), ('After', <['libvirtd.service', "
         "'virtqemud.service']>), ('Before', <['virt-guest-shutdown.target']>)]")


def hierarchies():
    """The hierarchy roots systemd would make a scope in, and whether the host is v1."""
    if os.path.exists(os.path.join(CG, "cgroup.controllers")):
        return [CG], False
    dirs = [os.path.join(CG, h) for h in SYSTEMD_HIERARCHIES]
    return [d for d in dirs if os.path.ismount(d)], True


def proc_cgroup(pid):
    """{controller or 'name=systemd' or '': path} of process @pid."""
    out = {}
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, names, path = line.rstrip("\n").split(":", 2)
            for n in names.split(",") if names else [""]:
                out[n] = path
    return out


def maps_libdbus(pid):
    """Whether process @pid has libdbus-1 mapped: virtd loads it only when a bus listens."""
    with open(f"/proc/{pid}/maps") as f:
        return "libdbus-1.so" in f.read()


class MachinedTest(unittest.TestCase):

    def setUp(self):
        virtd.guest()
        if os.geteuid() != 0 or not shutil.which("dbus-daemon"):
            raise unittest.SkipTest("needs root and dbus-daemon")
        self.dirs, self.v1 = hierarchies()
        if not self.dirs or not os.access(self.dirs[0], os.W_OK):
            raise unittest.SkipTest("no writable cgroup hierarchy on this machine")
        # virtd makes machine.slice in cpuset (systemd does not) and, as a partition, leaves it
        cpuset_slice = os.path.join(CG, "cpuset", "machine.slice")
        if self.v1 and not os.path.exists(cpuset_slice):
            self.addCleanup(self.rmdir_quiet, cpuset_slice)
        self.tmp = tempfile.mkdtemp(prefix="virtd-machined-", dir="/tmp")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.socket = os.path.join(self.tmp, "bus")
        self.address = "unix:path=" + self.socket
        self.calls = os.path.join(self.tmp, "calls")
        conf = os.path.join(self.tmp, "bus.conf")
        with open(conf, "w") as f:
            f.write(BUS_CONF.format(socket=self.socket))
        self.bus = subprocess.Popen(["dbus-daemon", "--config-file=" + conf, "--nofork"],
                                    stderr=subprocess.DEVNULL)
        self.addCleanup(self.stop, self.bus)
        self.assertTrue(virtd.wait_for(lambda: os.path.exists(self.socket), 5))
        self.start_fake(play_systemd=True)
        old = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self.address
        self.addCleanup(self.restore_env, old)
        self.d = virtd.Daemon(virtd.DaemonTestCase.config).start()
        self.addCleanup(self.d.cleanup)

    def start_fake(self, play_systemd):
        ready = os.path.join(self.tmp, "ready")
        if os.path.exists(ready):
            os.unlink(ready)
        args = ["--cgroup-dirs", ",".join(self.dirs)] if play_systemd else []
        self.fake = subprocess.Popen(["/usr/bin/python3", FAKE, "--address", self.address,
                                      "--log", self.calls, "--ready", ready, *args])
        self.addCleanup(self.stop, self.fake)  # removes the scopes it still holds
        self.assertTrue(virtd.wait_for(lambda: os.path.exists(ready), 10))

    @staticmethod
    def stop(proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    @staticmethod
    def rmdir_quiet(path):
        try:
            os.rmdir(path)
        except OSError:
            pass

    @staticmethod
    def restore_env(old):
        if old is None:
            os.environ.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = old

    def read_calls(self):
        try:
            with open(self.calls) as f:
                return f.read().splitlines()
        except OSError:
            return []

    def start(self, name, check=True):
        path = os.path.join(self.d.root, f"{name}.xml")
        dom_uuid = str(uuidlib.uuid4())
        with open(path, "w") as f:
            f.write(virtd.guest_xml(name, memory_mib=128, uuid=dom_uuid))
        self.d.virsh("define", path)
        return dom_uuid, self.d.virsh("start", name, check=check)

    def scope_dirs(self, scope):
        """Every directory the scope could have, cpuset included (virtd makes that one)."""
        bases = self.dirs + ([os.path.join(CG, "cpuset")] if self.v1 else [])
        return [os.path.join(b, scope.lstrip("/")) for b in bases]

    def test_registered_scope_restart_and_stop(self):
        self.assertEqual(self.d.stderr().count("systemd-machined registers the domains"), 1)
        self.assertTrue(maps_libdbus(self.d.proc.pid))
        dom_uuid, _ = self.start("mach1")
        dom_id = self.d.virsh("domid", "mach1").stdout.strip()
        pid = virtd.qemu_pid(self.d, "mach1")
        machine = f"qemu-{dom_id}-mach1"
        uuid_bytes = ", ".join("0x%02x" % b for b in uuidlib.UUID(dom_uuid).bytes)
        self.assertEqual(self.read_calls(), [
            f"CreateMachineWithNetwork ('{machine}', [byte {uuid_bytes}], 'libvirt-qemu', "
            f"'vm', uint32 {pid}, '', @ai [], {PROPS})"])

        # QEMU is in the scope machined made, its group 'libvirt' below it
        scope = f"/machine.slice/machine-qemu\\x2d{dom_id}\\x2dmach1.scope"
        where = proc_cgroup(pid)
        if self.v1:
            self.assertEqual(where["name=systemd"], scope)
            self.assertEqual(where["memory"], scope + "/libvirt")
            for c in ["cpu", "cpuset"]:
                self.assertEqual(where[c], scope + "/libvirt/emulator")
        else:
            self.assertEqual(where[""], scope + "/libvirt/emulator")
        vcpu0 = os.path.join(self.dirs[0] if not self.v1 else os.path.join(CG, "cpu"),
                             scope.lstrip("/"), "libvirt", "vcpu0")
        self.assertTrue(os.path.isdir(vcpu0), vcpu0)
        # the tuning calls use that group
        self.d.virsh("memtune", "mach1", "--hard-limit", "1048576", "--live")
        memory_dir = os.path.join(CG, "memory") if self.v1 else CG
        limit_file = "memory.limit_in_bytes" if self.v1 else "memory.max"
        with open(os.path.join(memory_dir, scope.lstrip("/"), "libvirt", limit_file)) as f:
            self.assertEqual(f.read().strip(), str(1024 ** 3))

        # a restarted daemon finds the scope again from /proc/PID/cgroup
        self.d.kill9()
        self.d.start()
        self.assertIn("running", self.d.virsh("domstate", "mach1").stdout)
        out = self.d.virsh("memtune", "mach1").stdout
        self.assertRegex(out, r"hard_limit\s+:\s+1048576")

        # stopped: the machine is terminated, nothing of the scope is left
        self.d.virsh("destroy", "mach1")
        self.assertEqual(self.read_calls()[1:], [f"TerminateMachine ('{machine}',)"])
        for d in self.scope_dirs(scope):
            self.assertTrue(virtd.wait_for(lambda: not os.path.exists(d), 5), d + " left")

    def test_refused_registration_fails_the_start(self):
        # someone else holds the machine name the next domain gets (a fresh daemon: id 1)
        dom_id = 1
        other = subprocess.Popen(["sleep", "60"])
        subprocess.run(["busctl", "--address=" + self.address, "call",
                        "org.freedesktop.machine1", "/org/freedesktop/machine1",
                        "org.freedesktop.machine1.Manager", "CreateMachine",
                        "sayssusa(sv)", f"qemu-{dom_id}-mach2", "0", "other", "vm",
                        str(other.pid), "", "0"], check=True, capture_output=True)
        self.addCleanup(self.unregister, f"qemu-{dom_id}-mach2", other)
        _, res = self.start("mach2", check=False)
        self.assertNotEqual(res.returncode, 0)
        self.assertIn(f"error: cannot register domain 'mach2': systemd-machined call "
                      f"CreateMachineWithNetwork failed: Machine 'qemu-{dom_id}-mach2' "
                      "already exists", res.stderr)
        self.assertIn("shut off", self.d.virsh("domstate", "mach2").stdout)
        self.assertIsNone(virtd.qemu_pid(self.d, "mach2"))
        # the other owner's machine stays: no TerminateMachine for a name we did not get
        self.assertFalse([c for c in self.read_calls() if c.startswith("TerminateMachine")])

    def test_no_scope_fails_the_start(self):
        # a machined that registers but puts QEMU in no scope
        self.stop(self.fake)
        self.start_fake(play_systemd=False)
        _, res = self.start("mach3", check=False)
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("error: operation failed: systemd-machined registered domain 'mach3' "
                      "but QEMU is not in its scope", res.stderr)
        self.assertIsNone(virtd.qemu_pid(self.d, "mach3"))
        # the registration is undone
        self.assertEqual([c.split(" ")[0] for c in self.read_calls()],
                         ["CreateMachineWithNetwork", "TerminateMachine"])

    def unregister(self, name, leader):
        leader.kill()
        leader.wait()
        subprocess.run(["busctl", "--address=" + self.address, "call",
                        "org.freedesktop.machine1", "/org/freedesktop/machine1",
                        "org.freedesktop.machine1.Manager", "TerminateMachine", "s", name],
                       capture_output=True)


class NoBusTest(unittest.TestCase):

    def test_no_system_bus_logged_once(self):
        tmp = tempfile.mkdtemp(prefix="virtd-machined-", dir="/tmp")
        self.addCleanup(shutil.rmtree, tmp, True)
        old = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = f"unix:path={tmp}/none"
        self.addCleanup(MachinedTest.restore_env, old)
        d = virtd.Daemon(virtd.DaemonTestCase.config).start()
        self.addCleanup(d.cleanup)
        if os.geteuid() != 0:
            raise unittest.SkipTest("a session daemon does not use cgroups or machined")
        time.sleep(0.2)
        self.assertEqual(d.stderr().count(
            f"no system D-Bus: Failed to connect to socket {tmp}/none: No such file or "
            "directory; domains are not registered with systemd-machined"), 1, d.stderr())
        # no bus: libdbus-1 (and libsystemd, libgcrypt, ... behind it) is never loaded
        self.assertFalse(maps_libdbus(d.proc.pid))


if __name__ == "__main__":
    virtd.main()
