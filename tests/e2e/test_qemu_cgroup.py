#!/usr/bin/python3
"""Every running domain lives in its own cgroup on the host's real hierarchy: created at
start with emulator/ and vcpuN/ sub-groups and the limits of its definition, found again
after a daemon restart, and gone after destroy, a QEMU crash or a failed start.

Runs on the host's cgroups (v1 controllers on these machines, or v2); skips when the
machine has none mounted writable."""
import os
import signal
import unittest

import virtd

CONTROLLERS = ["cpu", "cpuacct", "cpuset", "memory", "blkio"]


def cgroup_xml(name, cputune="", memtune=""):
    xml = virtd.guest_xml(name, memory_mib=128)
    return xml.replace("<vcpu>1</vcpu>", f"<vcpu>2</vcpu>{cputune}{memtune}")


def read(path):
    with open(path) as f:
        return f.read().strip()


def thread_affinity(tid):
    with open(f"/proc/{tid}/status") as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return line.split()[1]
    return None


class CgroupTest(virtd.DaemonTestCase):

    def setUp(self):
        virtd.guest()
        if not virtd.usable_cgroups():
            raise unittest.SkipTest("no writable cgroup hierarchy on this machine")
        super().setUp()

    def start(self, name, **kw):
        path = os.path.join(self.d.root, f"{name}.xml")
        with open(path, "w") as f:
            f.write(cgroup_xml(name, **kw))
        self.d.virsh("define", path)
        self.d.virsh("start", name)
        dom_id = self.d.virsh("domid", name).stdout.strip()
        return dom_id, virtd.qemu_pid(self.d, name)

    def groups(self, dom_id, name):
        return {c: virtd.vm_cgroup(c, dom_id, name) for c in CONTROLLERS}

    def assert_gone(self, dom_id, name):
        for c, path in self.groups(dom_id, name).items():
            self.assertTrue(virtd.wait_for(lambda: not os.path.exists(path), 5),
                            f"{c} group {path} left behind")

    def test_layout_limits_and_destroy(self):
        cputune = ("<cputune><shares>2048</shares><period>100000</period>"
                   "<quota>50000</quota><vcpupin vcpu='0' cpuset='1'/>"
                   "<emulatorpin cpuset='0'/></cputune>")
        memtune = "<memtune><hard_limit unit='MiB'>1024</hard_limit></memtune>"
        dom_id, pid = self.start("cg1", cputune=cputune, memtune=memtune)
        g = self.groups(dom_id, "cg1")
        for c in CONTROLLERS:
            self.assertTrue(os.path.isdir(g[c]), g[c])
        # The process is in the VM's group for the controllers without sub-groups...
        self.assertIn(pid, virtd.read_ids(os.path.join(g["memory"], "cgroup.procs")))
        self.assertIn(pid, virtd.read_ids(os.path.join(g["blkio"], "cgroup.procs")))
        # ... and its threads are split between emulator/ and vcpuN/ for cpu, cpuacct, cpuset.
        threads = {int(t) for t in os.listdir(f"/proc/{pid}/task")}
        for c in ["cpu", "cpuacct", "cpuset"]:
            vcpu0 = virtd.read_ids(os.path.join(g[c], "vcpu0", "tasks"))
            vcpu1 = virtd.read_ids(os.path.join(g[c], "vcpu1", "tasks"))
            emulator = virtd.read_ids(os.path.join(g[c], "emulator", "tasks"))
            self.assertEqual(len(vcpu0), 1, c)
            self.assertEqual(len(vcpu1), 1, c)
            self.assertIn(pid, emulator)
            self.assertEqual(vcpu0 | vcpu1 | emulator, threads, c)
        # Limits of the definition.
        self.assertEqual(read(os.path.join(g["cpu"], "cpu.shares")), "2048")
        self.assertEqual(read(os.path.join(g["cpu"], "vcpu0", "cpu.cfs_quota_us")), "50000")
        self.assertEqual(read(os.path.join(g["memory"], "memory.limit_in_bytes")),
                         str(1024 << 20))
        self.assertEqual(read(os.path.join(g["cpuset"], "vcpu0", "cpuset.cpus")), "1")
        self.assertEqual(read(os.path.join(g["cpuset"], "emulator", "cpuset.cpus")), "0")
        (tid0,) = virtd.read_ids(os.path.join(g["cpu"], "vcpu0", "tasks"))
        self.assertEqual(thread_affinity(tid0), "1")
        self.assertEqual(thread_affinity(pid), "0")
        # libvirt shows the partition in the live XML only.
        self.assertIn("<partition>/machine</partition>", self.d.virsh("dumpxml", "cg1").stdout)
        self.assertNotIn("<partition>", self.d.virsh("dumpxml", "--inactive", "cg1").stdout)

        self.d.virsh("destroy", "cg1")
        self.assert_gone(dom_id, "cg1")

    def test_config_change_while_running_is_updated(self):
        import libvirt
        self.start("cg5", cputune="<cputune><shares>2048</shares></cputune>")
        conn = libvirt.open(self.d.uri)
        self.addCleanup(conn.close)
        dom = conn.lookupByName("cg5")
        self.assertFalse(dom.isUpdated())
        self.d.virsh("schedinfo", "cg5", "--config", "--set", "cpu_shares=512")
        self.assertTrue(dom.isUpdated())
        self.assertIn("<shares>2048</shares>", self.d.virsh("dumpxml", "cg5").stdout)
        self.assertIn("<shares>512</shares>",
                      self.d.virsh("dumpxml", "--inactive", "cg5").stdout)
        # A restarted daemon still knows.
        self.d.kill9()
        self.d.start()
        conn = libvirt.open(self.d.uri)
        self.addCleanup(conn.close)
        dom = conn.lookupByName("cg5")
        self.assertTrue(dom.isUpdated())
        self.d.virsh("destroy", "cg5")
        self.assertFalse(dom.isUpdated())
        self.assertIn("<shares>512</shares>", self.d.virsh("dumpxml", "cg5").stdout)

    def test_gone_after_qemu_crash(self):
        dom_id, pid = self.start("cg2")
        self.assertTrue(os.path.isdir(self.groups(dom_id, "cg2")["cpu"]))
        os.kill(pid, signal.SIGKILL)
        self.assertTrue(virtd.wait_for(
            lambda: "shut off" in self.d.virsh("domstate", "cg2").stdout, 10))
        self.assert_gone(dom_id, "cg2")

    def test_daemon_restart_finds_the_group(self):
        dom_id, pid = self.start("cg3")
        g = self.groups(dom_id, "cg3")
        self.d.kill9()
        self.d.start()
        self.assertIn("running", self.d.virsh("domstate", "cg3").stdout)
        self.assertIn(pid, virtd.read_ids(os.path.join(g["memory"], "cgroup.procs")))
        self.d.virsh("destroy", "cg3")
        self.assert_gone(dom_id, "cg3")

    def test_restart_finds_the_group_gone(self):
        """Someone removed the group while the daemon was down: the VM runs on, the new
        daemon says so, and calls that need the group say why they cannot."""
        dom_id, pid = self.start("cg6")
        dirs = virtd.vm_cgroup_dirs(pid)
        self.assertTrue(dirs)
        self.d.kill9()
        for d in dirs:  # QEMU back to each hierarchy's root, then the groups away
            root = d.split("/machine/")[0]
            with open(os.path.join(root, "cgroup.procs"), "w") as f:
                f.write(str(pid))
            virtd.remove_cgroup(d)
        self.d.start()
        self.assertIn("running", self.d.virsh("domstate", "cg6").stdout)
        self.assertIn("domain 'cg6' runs outside its cgroup: ", self.d.stderr())
        res = self.d.virsh("schedinfo", "cg6", "--live", "--set", "cpu_shares=512", check=False)
        self.assertIn("cgroups are not available for domain 'cg6'", res.stderr)
        self.d.virsh("destroy", "cg6")
        self.assert_gone(dom_id, "cg6")

    def test_failed_start_leaves_no_group(self):
        cputune = "<cputune><vcpupin vcpu='1' cpuset='4000'/></cputune>"
        path = os.path.join(self.d.root, "cg4.xml")
        with open(path, "w") as f:
            f.write(cgroup_xml("cg4", cputune=cputune))
        self.d.virsh("define", path)
        res = self.d.virsh("start", "cg4", check=False)
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("cannot set up the cgroups of domain 'cg4': ", res.stderr)
        self.assertIn("cpuset.cpus", res.stderr)
        self.assertIn("shut off", self.d.virsh("domstate", "cg4").stdout)
        self.assertIsNone(virtd.qemu_pid(self.d, "cg4"))
        base = os.path.dirname(virtd.vm_cgroup("cpu", 0, "x"))
        left = [e for e in os.listdir(base) if e.endswith("-cg4.libvirt-qemu")]
        self.assertEqual(left, [])


if __name__ == "__main__":
    virtd.main()
