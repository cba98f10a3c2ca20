#!/usr/bin/python3
"""CPU pinning and NUMA tuning through real virsh and python3-libvirt against real QEMU
(TCG): vcpupin, emulatorpin, iothreadpin, numatune, live (thread affinity + the cgroups of
the running domain) and --config (the persistent definition, applied at the next start),
placement='auto', vCPU over-commit, and the errors (each message pinned here).

This host has 2 CPUs and one NUMA node (0). The guests need not boot for any of this,
except the over-committed one, which must."""
import os
import struct
import unittest

import libvirt

import virtd


def pin_xml(name, vcpus=2, extra=""):
    xml = virtd.guest_xml(name, memory_mib=128)
    return xml.replace("<vcpu>1</vcpu>", f"<vcpu>{vcpus}</vcpu>{extra}")


def read(path):
    with open(path) as f:
        return f.read().strip()


def affinity(pid, tid):
    with open(f"/proc/{pid}/task/{tid}/status") as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return line.split()[1]
    return None


def threads(pid):
    """{tid: comm} of QEMU @pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            out[int(tid)] = read(f"/proc/{pid}/task/{tid}/comm")
        except OSError:
            pass
    return out


def vcpu_tid(pid, n):
    return next(t for t, c in threads(pid).items() if c.startswith(f"CPU {n}/"))


def emulator_tids(pid):
    return [t for t, c in threads(pid).items()
            if not c.startswith("CPU ") and not c.startswith("IO iothread")]


def host_cpus():
    with open("/sys/devices/system/cpu/online") as f:
        return f.read().strip()


class PinTest(virtd.DaemonTestCase):

    def setUp(self):
        virtd.guest()
        if not virtd.usable_cgroups("cpuset"):
            raise unittest.SkipTest("no writable cgroup hierarchy on this machine")
        if host_cpus() != "0-1":
            raise unittest.SkipTest("the expected texts are those of a 2-CPU host")
        super().setUp()
        self.conn = libvirt.open(self.d.uri)
        self.addCleanup(self.conn.close)

    def define(self, name, **kw):
        path = os.path.join(self.d.root, f"{name}.xml")
        with open(path, "w") as f:
            f.write(pin_xml(name, **kw))
        self.d.virsh("define", path)

    def start(self, name):
        self.d.virsh("start", name)
        # Destroyed before the daemon stops, so that the daemon removes its cgroups.
        self.addCleanup(self.d.virsh, "destroy", name, check=False)
        dom_id = self.d.virsh("domid", name).stdout.strip()
        return dom_id, virtd.qemu_pid(self.d, name)

    def fails(self, *args, message):
        res = self.d.virsh(*args, check=False)
        self.assertNotEqual(res.returncode, 0, res.stdout)
        self.assertIn(message, res.stderr)

    def py_fails(self, call, code, message):
        with self.assertRaises(libvirt.libvirtError) as cm:
            call()
        self.assertEqual(cm.exception.get_error_code(), code, cm.exception)
        self.assertIn(message, str(cm.exception))

    def raw_pin(self, dom, proc, before_map, cpumap, flags):
        """(code, message) of the error of raw pin call @proc (DOMAIN_PIN_VCPU_FLAGS 225:
        vcpu before the map; DOMAIN_PIN_EMULATOR 279)."""
        c = virtd.RawClient(self.d.sock)
        self.addCleanup(c.close)
        c.open()
        args = (virtd.xdr_string(dom.name()) + dom.UUID() + struct.pack(">i", dom.ID()) +
                before_map + struct.pack(">I", len(cpumap)) + cpumap +
                b"\0" * (-len(cpumap) % 4) + struct.pack(">I", flags))
        pkt = c.call(proc, args)
        self.assertEqual(pkt[4], virtd.ERROR)
        code, _domain, message = virtd.decode_error(pkt[5])
        return code, message

    def test_live(self):
        self.define("pin1")
        dom_id, pid = self.start("pin1")
        cpuset = virtd.vm_cgroup("cpuset", dom_id, "pin1")
        dom = self.conn.lookupByName("pin1")

        # vcpupin --live: the vCPU thread's affinity, vcpu0/'s cpuset.cpus, the live XML.
        self.d.virsh("vcpupin", "pin1", "0", "1", "--live")
        self.assertEqual(affinity(pid, vcpu_tid(pid, 0)), "1")
        self.assertEqual(affinity(pid, vcpu_tid(pid, 1)), "0-1")
        self.assertEqual(read(os.path.join(cpuset, "vcpu0", "cpuset.cpus")), "1")
        out = self.d.virsh("vcpupin", "pin1").stdout
        self.assertRegex(out, r"(?m)^\s*0\s+1\s*$")
        self.assertRegex(out, r"(?m)^\s*1\s+0-1\s*$")
        info = self.d.virsh("vcpuinfo", "pin1").stdout
        self.assertRegex(info, r"VCPU:\s+0\n(.*\n){2,3}CPU Affinity:\s+-y")
        self.assertRegex(info, r"VCPU:\s+1\n(.*\n){2,3}CPU Affinity:\s+yy")
        self.assertEqual(dom.vcpuPinInfo(0), [(False, True), (True, True)])
        self.assertIn("<vcpupin vcpu='0' cpuset='1'/>", self.d.virsh("dumpxml", "pin1").stdout)
        self.assertNotIn("vcpupin", self.d.virsh("dumpxml", "pin1", "--inactive").stdout)

        # emulatorpin --live: every non-vCPU thread and emulator/.
        self.d.virsh("emulatorpin", "pin1", "0", "--live")
        tids = emulator_tids(pid)
        self.assertTrue(tids)
        self.assertEqual({affinity(pid, t) for t in tids}, {"0"})
        self.assertEqual(affinity(pid, vcpu_tid(pid, 0)), "1")
        self.assertEqual(read(os.path.join(cpuset, "emulator", "cpuset.cpus")), "0")
        self.assertEqual(self.d.virsh("emulatorpin", "pin1").stdout.strip(), "0")
        self.assertEqual(dom.emulatorPinInfo(), (True, False))
        self.assertIn("<emulatorpin cpuset='0'/>", self.d.virsh("dumpxml", "pin1").stdout)
        # The pins survive in the status file (a restarted daemon keeps them).
        self.assertIn("<emulatorpin cpuset='0'/>", read(virtd.status_file(self.d, "pin1")))

        # Back to both CPUs through python3-libvirt (virDomainPinVcpu is live only).
        dom.pinVcpu(0, (True, True))
        self.assertEqual(affinity(pid, vcpu_tid(pid, 0)), "0-1")

        # numatune: the only node, live, into cpuset.mems of the VM and its sub-groups.
        out = self.d.virsh("numatune", "pin1").stdout
        self.assertRegex(out, r"numa_mode\s+: strict")
        self.assertRegex(out, r"numa_nodeset\s+: \n|numa_nodeset\s+:\s*$")
        self.d.virsh("numatune", "pin1", "--nodeset", "0", "--live")
        self.assertRegex(self.d.virsh("numatune", "pin1").stdout, r"numa_nodeset\s+: 0")
        for sub in ["", "emulator", "vcpu0", "vcpu1"]:
            self.assertEqual(read(os.path.join(cpuset, sub, "cpuset.mems")), "0", sub)
        self.assertEqual(dom.numaParameters(), {"numa_mode": 0, "numa_nodeset": "0"})
        self.assertIn("<memory mode='strict' nodeset='0'/>",
                      self.d.virsh("dumpxml", "pin1").stdout)

        # Refusals. virsh and python3-libvirt size the map to the host's CPUs themselves;
        # a raw client can still send CPU 99.
        self.fails("vcpupin", "pin1", "0", "99",
                   message="CPU 99 in cpulist '99' exceed the maxcpu 2")
        cpu99 = bytes(12) + bytes([1 << 3])
        self.assertEqual(self.raw_pin(dom, 225, struct.pack(">I", 0), cpu99, 1),
                         (libvirt.VIR_ERR_INVALID_ARG, "invalid argument: cannot pin vCPU 0 "
                          "of domain 'pin1' to CPU 99: this host has CPUs 0-1"))
        self.assertEqual(self.raw_pin(dom, 279, b"", cpu99, 0),
                         (libvirt.VIR_ERR_INVALID_ARG, "invalid argument: cannot pin the "
                          "emulator threads of domain 'pin1' to CPU 99: this host has CPUs 0-1"))
        self.py_fails(lambda: dom.pinVcpu(1, (False, False)), libvirt.VIR_ERR_INVALID_ARG,
                      "cannot pin vCPU 1 of domain 'pin1' to an empty CPU list")
        self.fails("vcpupin", "pin1", "5", "0", message="vCPU 5 of domain 'pin1' does not "
                   "exist (it has 2)")
        self.fails("numatune", "pin1", "--nodeset", "5",
                   message="NUMA node 5 does not exist on this host (it has 0)")
        self.fails("numatune", "pin1", "--mode", "interleave", "--live",
                   message="cannot change the NUMA memory mode of running domain 'pin1' from "
                   "'strict' to 'interleave': QEMU's memory policy is fixed when it starts")
        self.fails("iothreadpin", "pin1", "1", "0", "--live",
                   message="domain 'pin1' has no IOThreads (see <iothreads>)")
        # Nothing changed by the refusals.
        self.assertEqual(affinity(pid, vcpu_tid(pid, 1)), "0-1")

    def test_config_then_start(self):
        self.define("cfg1", extra="<iothreads>1</iothreads>")
        self.fails("vcpupin", "cfg1", "0", "1", "--live", message="domain is not running")
        self.fails("numatune", "cfg1", "--nodeset", "0", "--live",
                   message="domain is not running")
        self.d.virsh("vcpupin", "cfg1", "1", "0", "--config")
        self.d.virsh("emulatorpin", "cfg1", "1", "--config")
        self.d.virsh("iothreadpin", "cfg1", "1", "0", "--config")
        self.d.virsh("numatune", "cfg1", "--mode", "restrictive", "--nodeset", "0", "--config")
        self.fails("iothreadpin", "cfg1", "2", "0", "--config",
                   message="IOThread 2 of domain 'cfg1' does not exist (it has 1-1)")
        xml = self.d.virsh("dumpxml", "cfg1", "--inactive").stdout
        for el in ["<vcpupin vcpu='1' cpuset='0'/>", "<emulatorpin cpuset='1'/>",
                   "<iothreadpin iothread='1' cpuset='0'/>",
                   "<memory mode='restrictive' nodeset='0'/>"]:
            self.assertIn(el, xml)
        self.assertRegex(self.d.virsh("vcpupin", "cfg1", "--config").stdout,
                         r"(?m)^\s*1\s+0\s*$")
        self.assertEqual(self.d.virsh("emulatorpin", "cfg1", "--config").stdout.strip(), "1")
        self.assertRegex(self.d.virsh("numatune", "cfg1", "--config").stdout,
                         r"numa_mode\s+: restrictive")

        # At the next start all of it applies.
        dom_id, pid = self.start("cfg1")
        cpuset = virtd.vm_cgroup("cpuset", dom_id, "cfg1")
        self.assertEqual(affinity(pid, vcpu_tid(pid, 1)), "0")
        self.assertEqual(affinity(pid, vcpu_tid(pid, 0)), "0-1")
        self.assertEqual({affinity(pid, t) for t in emulator_tids(pid)}, {"1"})
        io = [t for t, c in threads(pid).items() if c == "IO iothread1"]
        self.assertEqual(len(io), 1)
        self.assertEqual(affinity(pid, io[0]), "0")
        self.assertIn(io[0], virtd.read_ids(os.path.join(cpuset, "iothread1", "tasks")))
        self.assertEqual(read(os.path.join(cpuset, "iothread1", "cpuset.cpus")), "0")
        self.assertEqual(read(os.path.join(cpuset, "cpuset.mems")), "0")

        # A live IOThread pin of the running domain moves it, --config leaves the live one.
        self.d.virsh("iothreadpin", "cfg1", "1", "1", "--live")
        self.assertEqual(affinity(pid, io[0]), "1")
        self.d.virsh("vcpupin", "cfg1", "0", "0", "--config")
        self.assertEqual(affinity(pid, vcpu_tid(pid, 0)), "0-1")
        self.assertRegex(self.d.virsh("vcpupin", "cfg1", "--config").stdout,
                         r"(?m)^\s*0\s+0\s*$")
        self.assertRegex(self.d.virsh("vcpupin", "cfg1", "--live").stdout,
                         r"(?m)^\s*0\s+0-1\s*$")

    def test_overcommit_and_auto_placement(self):
        # 4 vCPUs on 2 host CPUs, with automatic placement: it starts, boots and runs.
        self.define("big1", vcpus=4,
                    extra="<numatune><memory mode='strict' placement='auto'/></numatune>")
        dom_id, pid = self.start("big1")
        reader = virtd.PtyReader(virtd.serial_pty(self.d, "big1"))
        self.addCleanup(reader.close)
        self.assertEqual(len([c for c in threads(pid).values() if c.startswith("CPU ")]), 4)
        out = self.d.virsh("numatune", "big1").stdout
        self.assertRegex(out, r"numa_nodeset\s+: 0")
        self.assertIn("<memory mode='strict' nodeset='0' placement='auto'/>",
                      self.d.virsh("dumpxml", "big1").stdout)
        self.assertIn("<memory mode='strict' placement='auto'/>",
                      self.d.virsh("dumpxml", "big1", "--inactive").stdout)
        self.assertEqual(read(os.path.join(virtd.vm_cgroup("cpuset", dom_id, "big1"),
                                           "cpuset.mems")), "0")
        self.d.virsh("vcpupin", "big1", "3", "0")
        self.assertEqual(affinity(pid, vcpu_tid(pid, 3)), "0")
        self.assertIsNotNone(reader.expect(virtd.guest()["READY"], 60), reader.text[-2000:])
        self.assertEqual(self.d.virsh("domstate", "big1").stdout.strip(), "running")
        self.assertEqual(len(self.conn.lookupByName("big1").vcpus()[0]), 4)

    def test_start_refuses_missing_node(self):
        self.define("nn1", extra="<numatune><memory mode='strict' nodeset='0,5'/></numatune>")
        self.fails("start", "nn1", message="numatune of domain 'nn1': NUMA node 5 does not "
                   "exist on this host (it has 0)")
        self.assertEqual(self.d.virsh("domstate", "nn1").stdout.strip(), "shut off")

    def test_iothreadinfo(self):
        """virsh iothreadinfo shows each IOThread's pin, live and --config."""
        def info(*flags):
            out = self.d.virsh("iothreadinfo", "iot1", *flags).stdout
            return dict(line.split() for line in out.splitlines() if line.strip())
        self.define("iot1", extra="<iothreads>2</iothreads>"
                                  "<cputune><iothreadpin iothread='2' cpuset='1'/></cputune>")
        self.assertEqual(info(), {"1": "0-1", "2": "1"})
        _, pid = self.start("iot1")
        self.d.virsh("iothreadpin", "iot1", "1", "0", "--live")
        self.assertEqual(info(), {"1": "0", "2": "1"})
        self.assertEqual(info("--config"), {"1": "0-1", "2": "1"})
        io1 = next(t for t, c in threads(pid).items() if c == "IO iothread1")
        self.assertEqual(affinity(pid, io1), "0")

    def test_memory_policy_modes(self):
        """interleave and preferred reach QEMU's RAM as a memory policy (the kernel shows it
        in numa_maps); strict is the cgroup's cpuset.mems."""
        def ram_policy(pid):
            with open(f"/proc/{pid}/numa_maps") as f:
                # The guest RAM is the one mapping with an explicit policy.
                return [line.split()[1] for line in f
                        if line.split()[1].split(":")[0] in ("interleave", "prefer", "bind")]
        for name, mode, want in (("mp1", "interleave", "interleave:0"),
                                 ("mp2", "preferred", "prefer:0")):
            self.define(name, extra=f"<numatune><memory mode='{mode}' nodeset='0'/></numatune>")
            _, pid = self.start(name)
            self.assertEqual(ram_policy(pid), [want], name)
        self.define("mp3", extra="<numatune><memory mode='preferred' nodeset='0-1'/></numatune>")
        self.fails("start", "mp3",
                   message="numatune of domain 'mp3': NUMA node 1 does not exist on this host")


if __name__ == "__main__":
    virtd.main()
