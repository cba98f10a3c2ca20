#!/usr/bin/python3
"""Live vCPU hot-plug and the memory balloon through real virsh against real QEMU (TCG)
and the test guest: setvcpus/setvcpu --live, setmem --live, dommemstat --period.

What is checked is what really happened: QEMU's own view (query-cpus-fast, query-balloon
through qemu-monitor-command), the guest's (/sys/devices/system/cpu/online over its
serial shell), the host's (the vCPU thread in vcpuN/ of the domain's cgroup) and the live
and persistent XML. Every message virtd words itself is pinned here.

setvcpu --config: the persistent <vcpus> outcomes were compared with libvirtd 9.0's on
the same calls; its messages say the same as virtd's ("vCPU '0' can't be modified", "vcpu
4 is not present in persistent config", "vcpu '1' can't be modified as it is followed by
non-hotpluggable online vcpus")."""
import json
import os
import re
import socket
import struct
import subprocess
import time
import uuid

import libvirt

import virtd

UNPLUG_TIMEOUT_S = 10  # qemu-hotplug.c VCPU_UNPLUG_TIMEOUT_MS


def hotplug_xml(name, balloon="<memballoon model='virtio'><stats period='3'/></memballoon>"):
    g = virtd.guest()
    return (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>256</memory>"
            "<currentMemory unit='MiB'>240</currentMemory><vcpu current='1'>4</vcpu>"
            "<os><type arch='x86_64'>hvm</type>"
            f"<kernel>{g['KERNEL']}</kernel><initrd>{g['INITRD']}</initrd>"
            f"<cmdline>{g['CMDLINE']}</cmdline></os><features><acpi/></features>"
            f"<devices><serial type='pty'/><console type='pty'/>{balloon}</devices></domain>")


class RawQmp:
    """QEMU's monitor socket, spoken to directly while no daemon holds it."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.buf = b""
        self.reply()  # the greeting
        self.command("qmp_capabilities")

    def reply(self):
        while True:
            while b"\n" not in self.buf:
                data = self.sock.recv(65536)
                if not data:
                    raise ConnectionError("QEMU closed its monitor")
                self.buf += data
            line, self.buf = self.buf.split(b"\n", 1)
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def command(self, name):
        self.sock.sendall(json.dumps({"execute": name}).encode() + b"\n")
        msg = self.reply()
        if "return" not in msg:
            raise RuntimeError(f"{name}: {msg}")
        return msg["return"]

    def close(self):
        self.sock.close()


def monitor_path(daemon, name):
    with open(virtd.status_file(daemon, name)) as f:
        return re.search(r"<monitor path='([^']+)'/>", f.read()).group(1)


def pending_unplug(daemon, name):
    """The <unplug vcpu= path=> of the status file, as (vcpu, path), or None."""
    with open(virtd.status_file(daemon, name)) as f:
        m = re.search(r"<unplug vcpu='(\d+)' path='([^']+)'/>", f.read())
    return (int(m.group(1)), m.group(2)) if m else None


class HotplugTest(virtd.DaemonTestCase):

    def setUp(self):
        virtd.guest()  # skips when QEMU or the guest cannot be had
        super().setUp()

    def define(self, name, **kw):
        path = os.path.join(self.d.root, f"{name}.xml")
        with open(path, "w") as f:
            f.write(hotplug_xml(name, **kw))
        self.d.virsh("define", path)

    def fails(self, *args, message, timeout=30):
        res = self.d.virsh(*args, check=False, timeout=timeout)
        self.assertNotEqual(res.returncode, 0, res.stdout)
        self.assertIn(message, res.stderr)

    def qmp(self, name, command, **arguments):
        cmd = {"execute": command, "arguments": arguments} if arguments else {"execute": command}
        out = self.d.virsh("qemu-monitor-command", name, json.dumps(cmd)).stdout
        return json.loads(out)["return"]

    def vcpu_threads(self, name):
        """{cpu-index: thread-id} from QEMU."""
        return {c["cpu-index"]: c["thread-id"] for c in self.qmp(name, "query-cpus-fast")}

    def live_vcpus(self, name):
        return int(self.d.virsh("vcpucount", name, "--live", "--current").stdout)

    def balloon_kib(self, name):
        return self.qmp(name, "query-balloon")["actual"] // 1024

    def xml(self, name, *flags):
        return self.d.virsh("dumpxml", name, *flags).stdout

    def guest_online(self, pty, bring_up=None):
        """The guest's /sys/devices/system/cpu/online, after it brought CPU @bring_up
        online (it does not on its own: no udev), once its kernel has seen it."""
        marker = uuid.uuid4().hex[:8]
        cpu = f"/sys/devices/system/cpu/cpu{bring_up}/online"
        setup = (f"while [ ! -e {cpu} ]; do sleep 0.1; done; echo 1 > {cpu};"
                 if bring_up is not None else "")
        pty.write(f"{setup} echo {marker} $(cat /sys/devices/system/cpu/online)\n")
        m = pty.expect(rf"^{marker} (\S+)\n", 15)  # the whole line
        self.assertIsNotNone(m, pty.text[-500:])
        return m.group(1)

    def assert_vcpu_group(self, dom_id, name, vcpu, tid):
        """vCPU @vcpu's thread @tid is alone in its vcpuN/ group (None: the group is gone),
        on the v1 hierarchies that have vCPU groups or on the unified one."""
        for controller in ["cpu", "cpuacct", "cpuset"]:
            group = os.path.join(virtd.vm_cgroup(controller, dom_id, name), f"vcpu{vcpu}")
            if tid is None:
                self.assertFalse(os.path.exists(group), group)
                continue
            tasks = os.path.join(group, "tasks")
            if not os.path.exists(tasks):
                tasks = os.path.join(group, "cgroup.threads")
            self.assertEqual(virtd.read_ids(tasks), {tid}, tasks)

    def raw_error(self, proc, name, payload):
        """The message of the error a raw call @proc on domain @name gets (for what the
        client library refuses to send)."""
        dom_uuid = uuid.UUID(self.d.virsh("domuuid", name).stdout.strip()).bytes
        client = virtd.RawClient(self.d.sock)
        try:
            client.open()
            pkt = client.call(proc, virtd.xdr_string(name) + dom_uuid + struct.pack(">i", -1)
                              + payload)
            self.assertEqual(pkt[4], virtd.ERROR)
            return virtd.decode_error(pkt[5])[2]
        finally:
            client.close()

    def test_refusals_without_guest(self):
        self.define("hp0", balloon="<memballoon model='none'/>")
        # Shut off: nothing live to change.
        not_running = "Requested operation is not valid: domain is not running"
        self.fails("setvcpus", "hp0", "2", "--live", message=not_running)
        self.fails("setvcpu", "hp0", "1", "--enable", "--live", message=not_running)
        self.fails("setmem", "hp0", "100M", "--live", message=not_running)
        no_balloon = ("Requested operation is not valid: domain 'hp0' has no memory balloon "
                      "(<memballoon model='none'>)")
        self.fails("dommemstat", "hp0", "--period", "5", "--config", message=no_balloon)
        # Zero vCPUs and a negative period never leave virsh or the client library; virtd
        # refuses them too.
        self.fails("setvcpus", "hp0", "0", "--config", message="Can't set 0 processors")
        self.assertEqual(self.raw_error(199, "hp0", struct.pack(">II", 0, 0)),
                         "invalid argument: the number of vCPUs must not be zero")
        self.assertEqual(self.raw_error(308, "hp0", struct.pack(">iI", -1, 0)),
                         "invalid argument: the memory statistics period must not be "
                         "negative, not -1")

        self.d.virsh("start", "hp0", "--paused")
        self.fails("setmem", "hp0", "100M", "--live", message=no_balloon)
        self.fails("dommemstat", "hp0", "--period", "5", "--live", message=no_balloon)

        # Plugging needs nothing from the guest; unplugging needs its ACPI, which a guest
        # that never ran has not switched on: QEMU says so.
        self.d.virsh("setvcpus", "hp0", "2", "--live")
        self.assertEqual(len(self.qmp("hp0", "query-cpus-fast")), 2)
        self.assertEqual(self.live_vcpus("hp0"), 2)
        # The live count is in the status file: a restarted daemon still knows it.
        self.d.stop()
        self.d.start()
        self.assertEqual(self.live_vcpus("hp0"), 2)
        config = self.d.virsh("vcpucount", "hp0", "--config", "--current").stdout
        self.assertEqual(config.strip(), "1")
        self.fails("setvcpus", "hp0", "1", "--live",
                   message="operation failed: QEMU command 'device_del' failed: acpi: device "
                           "unplug request for not supported device type: qemu64-x86_64-cpu")
        self.assertEqual(self.live_vcpus("hp0"), 2)
        self.d.virsh("destroy", "hp0")

    def vcpus_elem(self, name, *flags):
        """The <vcpu> and <vcpus> lines of the XML, as dumpxml shows them."""
        m = re.search(r"  <vcpu [^\n]*</vcpu>\n(  <vcpus>\n.*?  </vcpus>\n)?",
                      self.xml(name, *flags), re.S)
        return m.group(0)

    def test_setvcpu_config_shut_off(self):
        """setvcpu --config (and without flags) on a shut-off domain edits <vcpus> of its
        definition as libvirtd 9.0 does, and the next start boots that many vCPUs."""
        self.define("hp3", balloon="<memballoon model='none'/>")
        self.d.virsh("setvcpus", "hp3", "3", "--config")  # vCPUs 0-2 boot: not hotpluggable
        self.fails("setvcpu", "hp3", "0", "--disable", "--config",
                   message="invalid argument: vCPU 0 of domain 'hp3' cannot be modified: it is "
                           "always enabled")
        self.fails("setvcpu", "hp3", "0", "--enable", message="vCPU 0 of domain 'hp3' cannot")
        self.fails("setvcpu", "hp3", "1,4-5", "--enable", "--config",
                   message="invalid argument: domain 'hp3' has no vCPU 5 in its persistent "
                           "configuration: its maximum is 4")
        self.fails("setvcpu", "hp3", "1", "--disable", "--config",
                   message="invalid argument: vCPU 1 of domain 'hp3' cannot be modified: it is "
                           "followed by vCPU 2, which is enabled and not hotpluggable")
        self.assertEqual(self.vcpus_elem("hp3", "--inactive"),
                         "  <vcpu placement='static' current='3'>4</vcpu>\n")

        self.d.virsh("setvcpu", "hp3", "1-2", "--disable", "--config")
        self.d.virsh("setvcpu", "hp3", "3", "--enable")  # shut off: the config
        want = ("  <vcpu placement='static' current='2'>4</vcpu>\n"
                "  <vcpus>\n"
                "    <vcpu id='0' enabled='yes' hotpluggable='no'/>\n"
                "    <vcpu id='1' enabled='no' hotpluggable='yes'/>\n"
                "    <vcpu id='2' enabled='no' hotpluggable='yes'/>\n"
                "    <vcpu id='3' enabled='yes' hotpluggable='yes'/>\n"
                "  </vcpus>\n")
        self.assertEqual(self.vcpus_elem("hp3", "--inactive"), want)
        self.assertEqual(self.d.virsh("vcpucount", "hp3", "--config", "--current").stdout.strip(),
                         "2")
        # On disk: a restarted daemon reads it back.
        self.d.stop()
        self.d.start()
        self.assertEqual(self.vcpus_elem("hp3", "--inactive"), want)
        # setvcpus --config keeps <vcpus> in step: the lowest disabled vCPU comes.
        self.d.virsh("setvcpus", "hp3", "3", "--config")
        self.assertIn("<vcpu id='1' enabled='yes' hotpluggable='no'/>",
                      self.vcpus_elem("hp3", "--inactive"))
        self.assertIn("current='3'", self.vcpus_elem("hp3", "--inactive"))

        # The start boots the enabled vCPUs that are not hotpluggable and plugs the others.
        self.d.virsh("start", "hp3", "--paused")
        self.assertEqual(sorted(self.vcpu_threads("hp3")), [0, 1, 3])
        self.assertEqual(self.vcpus_elem("hp3"), self.vcpus_elem("hp3", "--inactive"))
        self.d.virsh("destroy", "hp3")

    def define_vcpus(self, name, vcpus, emulator=""):
        """Define @name (hotplug_xml, no balloon) with <vcpu> and <vcpus> @vcpus."""
        path = os.path.join(self.d.root, f"{name}.xml")
        with open(path, "w") as f:
            f.write(hotplug_xml(name, balloon="<memballoon model='none'/>")
                    .replace("<vcpu current='1'>4</vcpu>", vcpus)
                    .replace("<devices>", f"<devices>{emulator}"))
        self.d.virsh("define", path)

    def test_define_refuses_unbootable_vcpus(self):
        """A <vcpus> layout QEMU cannot start is refused at define, as libvirtd does, and
        nothing is defined."""
        layouts = {
            "<vcpu id='0' enabled='yes' hotpluggable='yes'/>":
                "vCPU 0 of domain 'hpbad' must be enabled and not hotpluggable: QEMU always "
                "boots it",
            "<vcpu id='0' enabled='yes' hotpluggable='no'/>"
            "<vcpu id='1' enabled='no' hotpluggable='yes'/>"
            "<vcpu id='2' enabled='yes' hotpluggable='no'/>":
                "vCPU 2 of domain 'hpbad' is enabled and not hotpluggable, so vCPU 1 before "
                "it must be too: QEMU boots only the first vCPUs",
        }
        for entries, message in layouts.items():
            path = os.path.join(self.d.root, "hpbad.xml")
            with open(path, "w") as f:
                f.write(hotplug_xml("hpbad").replace(
                    "<vcpu current='1'>4</vcpu>",
                    f"<vcpu current='2'>4</vcpu><vcpus>{entries}</vcpus>"))
            self.fails("define", path, message=message)
            self.assertNotIn("hpbad", self.d.virsh("list", "--all", "--name").stdout)

    def test_boot_chosen_vcpus(self):
        """<vcpus> enabling vCPUs 0 and 2 boots exactly those, as libvirtd 9.0 does: -smp 1,
        then device_add of vcpu2 before the guest runs, its thread placed and tuned like
        the booted one. A restarted daemon plugs nothing; a live plug still works on top.
        Started paused: under TCG, QEMU 7.2's firmware leaves a guest whose boot vCPUs have
        a gap hung in its SMP bring-up (libvirtd's start is the same)."""
        self.define_vcpus("hp4", "<vcpu placement='static' current='2'>4</vcpu><vcpus>"
                                 "<vcpu id='0' enabled='yes' hotpluggable='no'/>"
                                 "<vcpu id='1' enabled='no' hotpluggable='yes'/>"
                                 "<vcpu id='2' enabled='yes' hotpluggable='yes'/>"
                                 "<vcpu id='3' enabled='no' hotpluggable='yes'/></vcpus>"
                                 "<cputune><vcpupin vcpu='2' cpuset='1'/>"
                                 "<period>100000</period><quota>200000</quota></cputune>")
        self.d.virsh("start", "hp4", "--paused")
        dom_id = self.d.virsh("domid", "hp4").stdout.strip()
        with open(virtd.domain_log(self.d, "hp4")) as f:
            self.assertIn("-smp 1,sockets=4,dies=1,cores=1,threads=1,maxcpus=4", f.read())

        def check(online):
            threads = self.vcpu_threads("hp4")
            self.assertEqual(sorted(threads), online)
            info = self.d.virsh("vcpuinfo", "hp4").stdout
            self.assertEqual([int(n) for n in re.findall(r"(?m)^VCPU:\s+(\d+)$", info)], online)
            self.assertEqual(self.live_vcpus("hp4"), len(online))
            self.assertEqual(self.vcpus_elem("hp4"), (
                f"  <vcpu placement='static' current='{len(online)}'>4</vcpu>\n  <vcpus>\n" +
                "".join(f"    <vcpu id='{i}' enabled='{'yes' if i in online else 'no'}' "
                        f"hotpluggable='{'yes' if i else 'no'}'/>\n" for i in range(4)) +
                "  </vcpus>\n"))
            if virtd.usable_cgroups():
                for vcpu in range(4):
                    self.assert_vcpu_group(dom_id, "hp4", vcpu, threads.get(vcpu))
                vcpu2 = os.path.join(virtd.vm_cgroup("cpu", dom_id, "hp4"), "vcpu2")
                v1 = os.path.join(vcpu2, "cpu.cfs_quota_us")
                with open(v1 if os.path.exists(v1) else os.path.join(vcpu2, "cpu.max")) as f:
                    self.assertEqual(f.read().split()[0], "200000")
            self.assertEqual(os.sched_getaffinity(threads[2]), {1})
            return threads

        threads = check([0, 2])
        slots = {c["props"]["socket-id"]: c.get("qom-path")
                 for c in self.qmp("hp4", "query-hotpluggable-cpus")}
        self.assertEqual(slots, {0: "/machine/unattached/device[0]", 1: None,
                                 2: "/machine/peripheral/vcpu2", 3: None})

        # Re-attached, nothing is plugged again.
        self.d.stop()
        self.d.start()
        self.assertEqual(check([0, 2]), threads)

        # A live plug after the boot-time one (not after an unplug: QEMU 7.2 copes).
        self.d.virsh("setvcpu", "hp4", "1", "--enable", "--live")
        check([0, 1, 2])
        self.d.virsh("destroy", "hp4")

    def test_boot_plugged_vcpu_in_guest(self):
        """The guest sees a vCPU plugged at start as booted, and one plugged live on top."""
        self.define_vcpus("hp6", "<vcpu current='2'>4</vcpu><vcpus>"
                                 "<vcpu id='0' enabled='yes'/>"
                                 "<vcpu id='1' enabled='yes' hotpluggable='yes'/></vcpus>")
        self.d.virsh("start", "hp6")
        pty = virtd.PtyReader(virtd.serial_pty(self.d, "hp6"))
        self.addCleanup(pty.close)
        self.assertIsNotNone(pty.expect(virtd.guest()["READY"], 60), pty.text[-500:])
        self.assertEqual(sorted(self.vcpu_threads("hp6")), [0, 1])
        self.assertEqual(self.guest_online(pty), "0-1")
        self.d.virsh("setvcpu", "hp6", "2", "--enable", "--live")
        self.assertEqual(self.guest_online(pty, 2), "0-2")
        self.d.virsh("destroy", "hp6")

    def test_boot_plug_fails(self):
        """A vCPU that QEMU refuses to plug at start fails the start with QEMU's words and
        leaves no QEMU, group or status file behind."""
        wrapper = os.path.join(self.d.root, "qemu-with-vcpu2")
        with open(wrapper, "w") as f:  # a device already holds the id "vcpu2"
            f.write('#!/bin/sh\nexec /usr/bin/qemu-system-x86_64 "$@" -device pvpanic,id=vcpu2\n')
        os.chmod(wrapper, 0o755)
        self.define_vcpus("hp5", "<vcpu current='2'>4</vcpu><vcpus><vcpu id='0' enabled='yes'/>"
                                 "<vcpu id='2' enabled='yes' hotpluggable='yes'/></vcpus>",
                          emulator=f"<emulator>{wrapper}</emulator>")
        self.fails("start", "hp5", message="operation failed: QEMU command 'device_add' "
                                           "failed: Duplicate device ID 'vcpu2'")
        self.assertEqual(self.d.virsh("domstate", "hp5").stdout.strip(), "shut off")
        self.assertIsNone(virtd.qemu_pid(self.d, "hp5"))
        self.assertFalse(os.path.exists(virtd.status_file(self.d, "hp5")))
        self.assertEqual(virtd.vm_cgroups_left("hp5"), [])

    def test_vcpus_and_balloon(self):
        self.define("hp1")
        self.d.virsh("start", "hp1")
        dom_id = self.d.virsh("domid", "hp1").stdout.strip()
        cgroups = virtd.usable_cgroups()
        pty = virtd.PtyReader(virtd.serial_pty(self.d, "hp1"))
        self.addCleanup(pty.close)
        self.assertIsNotNone(pty.expect(virtd.guest()["READY"], 60), pty.text[-500:])
        libvirt.registerErrorHandler(lambda _ctx, _err: None, None)  # errors are checked
        conn = libvirt.open(self.d.uri)
        self.addCleanup(conn.close)
        dom = conn.lookupByName("hp1")

        # The balloon got <currentMemory> and the statistics period at start.
        self.assertEqual(self.qmp("hp1", "qom-get", path="/machine/peripheral/balloon0",
                                  property="guest-stats-polling-interval"), 3)
        self.assertTrue(virtd.wait_for(lambda: self.balloon_kib("hp1") == 240 * 1024, 20))

        # Hot-add, live and in the config.
        self.assertEqual(self.live_vcpus("hp1"), 1)
        self.d.virsh("setvcpus", "hp1", "2", "--live", "--config")
        self.assertEqual(self.live_vcpus("hp1"), 2)
        threads = self.vcpu_threads("hp1")
        self.assertEqual(sorted(threads), [0, 1])
        self.assertEqual(self.guest_online(pty, 1), "0-1")
        if cgroups:
            self.assert_vcpu_group(dom_id, "hp1", 1, threads[1])
        self.assertIn("<vcpu placement='static' current='2'>4</vcpu>", self.xml("hp1"))
        self.assertIn("<vcpu placement='static' current='2'>4</vcpu>",
                      self.xml("hp1", "--inactive"))

        self.fails("setvcpus", "hp1", "5", "--live",
                   message="invalid argument: cannot give domain 'hp1' 5 vCPUs: its maximum "
                           "is 4")
        self.fails("setvcpus", "hp1", "2", "--guest",
                   message="Operation not supported: changing the vCPUs a guest uses through "
                           "its agent is not supported")
        self.fails("setvcpu", "hp1", "0", "--disable", "--live",
                   message="Requested operation is not valid: vCPU 0 of domain 'hp1' cannot "
                           "be unplugged")
        self.fails("setvcpu", "hp1", "5", "--enable", "--live",
                   message="invalid argument: domain 'hp1' has no vCPU 5: its maximum is 4")

        # Chosen vCPUs.
        self.d.virsh("setvcpu", "hp1", "2-3", "--enable", "--live")
        self.assertEqual(self.live_vcpus("hp1"), 4)
        threads = self.vcpu_threads("hp1")
        self.assertEqual(sorted(threads), [0, 1, 2, 3])
        self.assertEqual(self.guest_online(pty, 2), "0-2")
        self.assertEqual(self.guest_online(pty, 3), "0-3")
        if cgroups:
            self.assert_vcpu_group(dom_id, "hp1", 3, threads[3])

        # The balloon, through virsh and the legacy call (live).
        self.d.virsh("setmem", "hp1", "200M", "--live", "--config")
        self.assertTrue(virtd.wait_for(lambda: self.balloon_kib("hp1") == 200 * 1024, 20))
        stat = self.d.virsh("dommemstat", "hp1").stdout
        self.assertRegex(stat, r"(?m)^actual 204800$")
        self.assertIn("<currentMemory unit='KiB'>204800</currentMemory>", self.xml("hp1"))
        self.assertIn("<currentMemory unit='KiB'>204800</currentMemory>",
                      self.xml("hp1", "--inactive"))
        dom.setMemory(220 * 1024)
        self.assertTrue(virtd.wait_for(lambda: self.balloon_kib("hp1") == 220 * 1024, 20))
        self.assertIn("<currentMemory unit='KiB'>225280</currentMemory>", self.xml("hp1"))
        self.assertIn("<currentMemory unit='KiB'>204800</currentMemory>",
                      self.xml("hp1", "--inactive"))
        self.fails("setmem", "hp1", "300M", "--live",
                   message="invalid argument: cannot set memory to 307200 KiB: the maximum is "
                           "262144 KiB")

        self.d.virsh("dommemstat", "hp1", "--period", "5", "--live")
        self.assertEqual(self.qmp("hp1", "qom-get", path="/machine/peripheral/balloon0",
                                  property="guest-stats-polling-interval"), 5)
        self.d.virsh("dommemstat", "hp1", "--period", "7", "--config")
        self.assertIn("<stats period='5'/>", self.xml("hp1"))
        self.assertIn("<stats period='7'/>", self.xml("hp1", "--inactive"))

        # Hot-remove: the guest ejects on the ACPI request; the config follows when asked.
        self.d.virsh("setvcpu", "hp1", "3", "--disable", "--live", "--config")
        self.assertEqual(self.live_vcpus("hp1"), 3)
        self.assertIn("<vcpu id='3' enabled='no' hotpluggable='yes'/>",
                      self.xml("hp1", "--inactive"))
        self.assertIn("<vcpu placement='static' current='2'>4</vcpu>",
                      self.xml("hp1", "--inactive"))
        self.assertEqual(sorted(self.vcpu_threads("hp1")), [0, 1, 2])
        self.assertEqual(self.guest_online(pty), "0-2")
        if cgroups:
            self.assert_vcpu_group(dom_id, "hp1", 3, None)
        self.assertIn("<vcpu placement='static' current='3'>4</vcpu>", self.xml("hp1"))

        # QEMU 7.2 under TCG dies on a plug after an unplug: refused, the guest lives on.
        self.fails("setvcpus", "hp1", "4", "--live",
                   message="Operation not supported: cannot plug vCPU 3 into domain 'hp1': "
                           "QEMU without KVM crashes when a vCPU is plugged after one was "
                           "unplugged (restart the domain first)")
        self.assertEqual(self.d.virsh("domstate", "hp1").stdout.strip(), "running")
        # A restarted daemon still knows (the status file says so).
        self.d.kill9()
        self.d.start()
        conn = libvirt.open(self.d.uri)
        self.addCleanup(conn.close)
        dom = conn.lookupByName("hp1")
        self.fails("setvcpus", "hp1", "4", "--live",
                   message="cannot plug vCPU 3 into domain 'hp1': QEMU without KVM crashes")

        # A guest that does not release the vCPU (paused): bounded wait, named vCPU.
        self.d.virsh("suspend", "hp1")
        started = time.monotonic()
        with self.assertRaises(libvirt.libvirtError) as caught:
            dom.setVcpus(2)  # the legacy call: live
        self.assertLess(time.monotonic() - started, UNPLUG_TIMEOUT_S + 5)
        self.assertIn("Timed out during operation: the guest of domain 'hp1' did not release "
                      f"vCPU 2 within {UNPLUG_TIMEOUT_S} s", str(caught.exception))
        self.assertEqual(self.live_vcpus("hp1"), 3)
        # Resumed, it handles the eject it was asked for: the late release is recorded.
        self.d.virsh("resume", "hp1")
        self.assertTrue(virtd.wait_for(lambda: sorted(self.vcpu_threads("hp1")) == [0, 1], 15))
        self.assertTrue(virtd.wait_for(lambda: self.live_vcpus("hp1") == 2, 5))
        self.assertEqual(self.guest_online(pty), "0-1")
        if cgroups:
            self.assert_vcpu_group(dom_id, "hp1", 2, None)

        # A domain destroyed while a removal waits for its (paused) guest: the wait ends.
        self.d.virsh("suspend", "hp1")
        waiting = subprocess.Popen(["virsh", "-q", "-c", self.d.uri, "setvcpus", "hp1", "1",
                                    "--live"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        self.addCleanup(waiting.wait)
        time.sleep(1)
        self.d.virsh("destroy", "hp1")
        _, err = waiting.communicate(timeout=10)
        self.assertNotEqual(waiting.returncode, 0)
        self.assertIn("operation failed: domain 'hp1' stopped while its vCPUs were being "
                      "changed", err)

    def test_late_unplug_across_restart(self):
        """A removal the guest completes after the call gave up waiting is recorded even
        when the daemon restarted in between: from DEVICE_DELETED after the restart, or
        from QEMU's vCPU list when the guest released it while no daemon ran."""
        self.define("hp2", balloon="<memballoon model='none'/>")
        self.d.virsh("start", "hp2")
        dom_id = self.d.virsh("domid", "hp2").stdout.strip()
        cgroups = virtd.usable_cgroups()
        pty = virtd.PtyReader(virtd.serial_pty(self.d, "hp2"))
        self.addCleanup(pty.close)
        self.assertIsNotNone(pty.expect(virtd.guest()["READY"], 60), pty.text[-500:])
        libvirt.registerErrorHandler(lambda _ctx, _err: None, None)

        def updated():
            conn = libvirt.open(self.d.uri)
            try:
                return conn.lookupByName("hp2").isUpdated()
            finally:
                conn.close()

        # Live and persistent at once; the persistent change alone marks it updated.
        self.assertFalse(updated())
        self.d.virsh("setvcpu", "hp2", "1-2", "--enable", "--live", "--config")
        self.assertEqual(self.live_vcpus("hp2"), 3)
        self.assertEqual(self.guest_online(pty, 1), "0-1")
        self.assertEqual(self.guest_online(pty, 2), "0-2")
        self.assertIn("<vcpu placement='static' current='3'>4</vcpu>", self.xml("hp2"))
        inactive = self.xml("hp2", "--inactive")
        self.assertIn("<vcpu placement='static' current='3'>4</vcpu>", inactive)
        self.assertIn("<vcpu id='2' enabled='yes' hotpluggable='yes'/>", inactive)
        self.assertTrue(updated())
        self.fails("setvcpu", "hp2", "0", "--enable", "--live", "--config",
                   message="invalid argument: vCPU 0 of domain 'hp2' cannot be modified: it is "
                           "always enabled")
        self.d.virsh("setvcpu", "hp2", "3", "--enable", "--config")  # running: config only
        self.assertEqual(self.live_vcpus("hp2"), 3)
        self.assertIn("<vcpu id='3' enabled='yes' hotpluggable='yes'/>",
                      self.xml("hp2", "--inactive"))
        threads = self.vcpu_threads("hp2")

        # 1. The guest (paused) releases vCPU 2 only after the daemon restarted.
        self.d.virsh("suspend", "hp2")
        self.fails("setvcpu", "hp2", "2", "--disable", "--live",
                   message="Timed out during operation: the guest of domain 'hp2' did not "
                           f"release vCPU 2 within {UNPLUG_TIMEOUT_S} s",
                   timeout=UNPLUG_TIMEOUT_S + 20)
        self.assertEqual(pending_unplug(self.d, "hp2"), (2, "/machine/peripheral/vcpu2"))
        self.d.kill9()
        self.d.start()
        self.assertEqual(self.live_vcpus("hp2"), 3)  # still there
        self.assertEqual(pending_unplug(self.d, "hp2"), (2, "/machine/peripheral/vcpu2"))
        self.d.virsh("resume", "hp2")
        self.assertTrue(virtd.wait_for(lambda: sorted(self.vcpu_threads("hp2")) == [0, 1], 15))
        self.assertTrue(virtd.wait_for(lambda: self.live_vcpus("hp2") == 2, 5))
        self.assertIn("<vcpu placement='static' current='2'>4</vcpu>", self.xml("hp2"))
        self.assertIsNone(pending_unplug(self.d, "hp2"))
        self.assertEqual(self.guest_online(pty), "0-1")
        if cgroups:
            self.assert_vcpu_group(dom_id, "hp2", 1, threads[1])
            self.assert_vcpu_group(dom_id, "hp2", 2, None)

        # 2. The guest releases vCPU 1 while no daemon runs: its DEVICE_DELETED is lost.
        self.d.virsh("suspend", "hp2")
        self.fails("setvcpu", "hp2", "1", "--disable", "--live",
                   message=f"did not release vCPU 1 within {UNPLUG_TIMEOUT_S} s",
                   timeout=UNPLUG_TIMEOUT_S + 20)
        self.assertEqual(pending_unplug(self.d, "hp2"), (1, "/machine/peripheral/vcpu1"))
        self.d.stop()
        qmp = RawQmp(monitor_path(self.d, "hp2"))
        try:
            qmp.command("cont")
            gone = virtd.wait_for(
                lambda: [c["cpu-index"] for c in qmp.command("query-cpus-fast")] == [0], 15)
        finally:
            qmp.close()
        self.assertTrue(gone)
        self.d.start()
        self.assertEqual(self.live_vcpus("hp2"), 1)
        self.assertIn("<vcpu placement='static' current='1'>4</vcpu>", self.xml("hp2"))
        self.assertIsNone(pending_unplug(self.d, "hp2"))
        self.assertEqual(self.d.virsh("domstate", "hp2").stdout.strip(), "running")
        self.assertEqual(self.guest_online(pty), "0")
        if cgroups:
            self.assert_vcpu_group(dom_id, "hp2", 1, None)
        # The persistent definition is untouched by live changes.
        self.assertIn("<vcpu placement='static'>4</vcpu>", self.xml("hp2", "--inactive"))
        self.d.virsh("destroy", "hp2")


if __name__ == "__main__":
    virtd.main()
