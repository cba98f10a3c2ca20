#!/usr/bin/python3
"""Statistics and small controls of domains through real virsh and python3-libvirt against
real QEMU (TCG): domstats, dommemstat, domblkstat, domblkinfo, domifstat, vcpuinfo,
vcpupin, emulatorpin, domcontrol, send-key, screenshot, console.

The guest does not need to boot for any of these: QEMU answers as soon as it runs. The
expected texts are what virsh prints against the reference libvirtd for the same domain,
except the daemon's own messages (virtd words those itself; each is pinned here)."""
import os
import re
import signal
import subprocess
import time

import libvirt

import virtd

MAC = "52:54:00:12:34:56"


def stats_xml(name, disk, video=True, vcpus=2, extra_devices="", console=True):
    g = virtd.guest()
    video_el = "<video><model type='vga'/></video>" if video else ""
    console_el = "<serial type='pty'/><console type='pty'/>" if console else ""
    return (f"<domain type='qemu'><name>{name}</name>"
            f"<memory unit='MiB'>256</memory><vcpu>{vcpus}</vcpu>"
            "<os><type arch='x86_64'>hvm</type>"
            f"<kernel>{g['KERNEL']}</kernel><initrd>{g['INITRD']}</initrd>"
            f"<cmdline>{g['CMDLINE']}</cmdline></os>"
            "<features><acpi/></features><devices>"
            "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
            f"<source file='{disk}'/><target dev='vda' bus='virtio'/></disk>"
            f"<interface type='user'><mac address='{MAC}'/><model type='virtio'/></interface>"
            f"{console_el}{video_el}{extra_devices}"
            "</devices></domain>")


def parse_domstats(text):
    """{name: {field: value}} from `virsh domstats` output."""
    out, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"Domain: '(.*)'", line)
        if m:
            cur = out.setdefault(m.group(1), {})
        elif "=" in line and cur is not None:
            k, v = line.strip().split("=", 1)
            cur[k] = v
    return out


class StatsTest(virtd.DaemonTestCase):

    def setUp(self):
        virtd.guest()  # skips when QEMU or the guest cannot be had
        super().setUp()

    def make_domain(self, name, **kw):
        disk = os.path.join(self.d.root, f"{name}.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "64M"], check=True)
        path = os.path.join(self.d.root, f"{name}.xml")
        with open(path, "w") as f:
            f.write(stats_xml(name, disk, **kw))
        self.d.virsh("define", path)
        return disk

    def fails(self, *args, message):
        res = self.d.virsh(*args, check=False)
        self.assertNotEqual(res.returncode, 0, res.stdout)
        self.assertIn(message, res.stderr)

    def test_shut_off(self):
        disk = self.make_domain("off1")
        st = parse_domstats(self.d.virsh("domstats", "off1").stdout)["off1"]
        # Like libvirtd: state, balloon and vCPU counts from the config, disk sizes from
        # the image; no CPU time and no interface counters for a domain that does not run.
        self.assertEqual(st["state.state"], "5")
        self.assertEqual(st["state.reason"], "0")
        self.assertEqual(st["balloon.current"], "262144")
        self.assertEqual(st["balloon.maximum"], "262144")
        self.assertEqual(st["vcpu.current"], "2")
        self.assertEqual(st["vcpu.maximum"], "2")
        self.assertEqual(st["block.count"], "1")
        self.assertEqual(st["block.0.name"], "vda")
        self.assertEqual(st["block.0.path"], disk)
        self.assertEqual(st["block.0.capacity"], "67108864")
        self.assertEqual(st["block.0.physical"], str(os.stat(disk).st_size))
        self.assertNotIn("cpu.time", st)
        self.assertNotIn("net.count", st)
        self.assertNotIn("vcpu.0.state", st)

        info = self.d.virsh("domblkinfo", "off1", "vda").stdout
        self.assertRegex(info, r"Capacity:\s+67108864\n")
        self.assertRegex(info, rf"Physical:\s+{os.stat(disk).st_size}\n")

        # vcpuinfo falls back to the configured pinning: every host CPU.
        ncpus = os.cpu_count()
        out = self.d.virsh("vcpuinfo", "off1").stdout
        self.assertEqual(out.count("CPU:            N/A"), 2)
        self.assertIn("CPU Affinity:   " + "y" * ncpus, out)
        pins = self.d.virsh("vcpupin", "off1").stdout
        self.assertRegex(pins, rf"0\s+0-{ncpus - 1}" if ncpus > 1 else r"0\s+0")
        self.assertIn(f"0-{ncpus - 1}" if ncpus > 1 else "0",
                      self.d.virsh("emulatorpin", "off1").stdout)

        not_running = "Requested operation is not valid: domain 'off1' is not running"
        self.fails("dommemstat", "off1", message=not_running)
        self.fails("domblkstat", "off1", "vda", message=not_running)
        self.fails("domifstat", "off1", MAC, message=not_running)
        self.fails("domcontrol", "off1", message=not_running)
        self.fails("send-key", "off1", "KEY_A", message=not_running)
        self.fails("screenshot", "off1", os.path.join(self.d.root, "x.ppm"),
                   message=not_running)
        self.fails("domblkinfo", "off1", "vdz",
                   message="invalid argument: domain 'off1' has no disk 'vdz'")

        # An empty CD-ROM drive, and an image that went away.
        self.make_domain("cd1", extra_devices="<disk type='file' device='cdrom'>"
                                              "<target dev='hdc' bus='ide'/></disk>")
        self.fails("domblkinfo", "cd1", "hdc", message="Requested operation is not valid: "
                                                       "disk 'hdc' of domain 'cd1' has no medium")
        os.unlink(disk)
        self.fails("domblkinfo", "off1", "vda",
                   message=f"cannot read disk image '{disk}': No such file or directory")

        # What virsh checks itself before asking, through python.
        conn = libvirt.open(self.d.uri)
        self.addCleanup(conn.close)
        dom = conn.lookupByName("off1")
        with self.assertRaises(libvirt.libvirtError) as cm:
            dom.vcpus()
        self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_OPERATION_INVALID)
        self.assertIn("cannot list the vCPUs of domain 'off1': it is not running",
                      cm.exception.get_error_message())
        with self.assertRaises(libvirt.libvirtError) as cm:
            dom.vcpuPinInfo(libvirt.VIR_DOMAIN_AFFECT_LIVE)
        self.assertIn("domain 'off1' is not running", cm.exception.get_error_message())

    def test_running(self):
        disk = self.make_domain("run1")
        self.make_domain("idle1")
        self.d.virsh("start", "run1")

        st = parse_domstats(self.d.virsh("domstats", "run1").stdout)["run1"]
        self.assertEqual(st["state.state"], "1")
        self.assertEqual(st["state.reason"], "1")
        for field in ("cpu.time", "cpu.user", "cpu.system", "balloon.rss", "vcpu.0.time",
                      "vcpu.1.time", "block.0.rd.reqs", "block.0.rd.bytes", "block.0.rd.times",
                      "block.0.wr.reqs", "block.0.wr.bytes", "block.0.wr.times",
                      "block.0.fl.reqs", "block.0.fl.times", "block.0.allocation"):
            self.assertRegex(st.get(field, ""), r"^\d+$", field)
        self.assertEqual(st["balloon.current"], "262144")
        self.assertEqual(st["balloon.maximum"], "262144")
        self.assertEqual(st["balloon.last-update"], "0")
        self.assertEqual(st["vcpu.current"], "2")
        self.assertEqual(st["vcpu.0.state"], "1")
        self.assertEqual(st["vcpu.1.state"], "1")
        # User-mode networking has no host device: like libvirtd, only the count.
        self.assertEqual(st["net.count"], "1")
        self.assertNotIn("net.0.name", st)
        self.assertEqual(st["block.count"], "1")
        self.assertEqual(st["block.0.name"], "vda")
        self.assertEqual(st["block.0.path"], disk)
        self.assertEqual(st["block.0.capacity"], "67108864")

        # Filters and groups.
        running = parse_domstats(self.d.virsh("domstats", "--list-running", "--state").stdout)
        self.assertEqual(list(running), ["run1"])
        self.assertEqual(set(running["run1"]), {"state.state", "state.reason"})
        off = parse_domstats(self.d.virsh("domstats", "--list-shutoff").stdout)
        self.assertEqual(list(off), ["idle1"])
        both = parse_domstats(self.d.virsh("domstats", "--block", "run1", "idle1").stdout)
        self.assertEqual(sorted(both), ["idle1", "run1"])
        self.assertNotIn("state.state", both["run1"])
        self.fails("domstats", "--perf", "--enforce",
                   message="argument unsupported: statistics groups 0x40 are not supported by this daemon")

        mem = self.d.virsh("dommemstat", "run1").stdout
        self.assertRegex(mem, r"^actual 262144\nlast_update 0\nrss \d+\n")

        blk = self.d.virsh("domblkstat", "run1", "vda").stdout
        for name in ("rd_req", "rd_bytes", "wr_req", "wr_bytes", "flush_operations",
                     "rd_total_times", "wr_total_times", "flush_total_times"):
            self.assertRegex(blk, rf"vda {name} \d+\n")
        total = self.d.virsh("domblkstat", "run1").stdout
        self.assertRegex(total, r" rd_req \d+\n")
        self.fails("domblkstat", "run1", "vdz",
                   message="invalid argument: domain 'run1' has no disk 'vdz'")

        info = self.d.virsh("domblkinfo", "run1", disk).stdout
        self.assertRegex(info, r"Capacity:\s+67108864\nAllocation:\s+\d+\nPhysical:\s+\d+\n")

        out = self.d.virsh("vcpuinfo", "run1").stdout
        self.assertEqual(out.count("State:          running"), 2)
        self.assertRegex(out, r"VCPU:           1\nCPU:            \d+\n")
        self.assertIn("CPU Affinity:   " + "y" * os.cpu_count(), out)

        self.assertEqual(self.d.virsh("domcontrol", "run1").stdout.strip(), "ok")

        # vcpuinfo does not wait for the monitor: it answers while QEMU is stopped.
        pid = virtd.qemu_pid(self.d, "run1")
        os.kill(pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            out = self.d.virsh("vcpuinfo", "run1").stdout
            self.assertLess(time.monotonic() - started, 5)
            self.assertEqual(out.count("State:          running"), 2)
        finally:
            os.kill(pid, signal.SIGCONT)

        self.fails("domifstat", "run1", MAC,
                   message=f"Operation not supported: interface '{MAC}' of domain 'run1' uses "
                           "user-mode networking: it has no host device to count its traffic")
        self.fails("domifstat", "run1", "eth9",
                   message="invalid argument: domain 'run1' has no interface 'eth9'")

    def test_python_client(self):
        self.make_domain("py1")
        conn = libvirt.open(self.d.uri)
        self.addCleanup(conn.close)
        dom = conn.lookupByName("py1")
        dom.create()

        recs = conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_VCPU)
        self.assertEqual([d.name() for d, _ in recs], ["py1"])
        params = recs[0][1]
        self.assertEqual(params["state.state"], libvirt.VIR_DOMAIN_RUNNING)
        self.assertEqual(params["vcpu.maximum"], 2)
        self.assertNotIn("block.count", params)
        listed = conn.domainListGetStats([dom], libvirt.VIR_DOMAIN_STATS_BLOCK)
        self.assertEqual(listed[0][1]["block.0.name"], "vda")

        rd_req, rd_bytes, wr_req, wr_bytes, errs = dom.blockStats("vda")
        self.assertGreaterEqual(rd_req, 0)
        self.assertEqual(errs, -1)
        flags = dom.blockStatsFlags("vda")
        self.assertEqual(set(flags), {"rd_operations", "rd_bytes", "rd_total_times",
                                      "wr_operations", "wr_bytes", "wr_total_times",
                                      "flush_operations", "flush_total_times"})
        self.assertEqual(dom.blockInfo("vda")[0], 67108864)
        mem = dom.memoryStats()
        self.assertEqual(mem["actual"], 262144)
        self.assertGreater(mem["rss"], 0)
        info, maps = dom.vcpus()
        self.assertEqual([i[0] for i in info], [0, 1])
        self.assertEqual([i[1] for i in info], [libvirt.VIR_VCPU_RUNNING] * 2)
        self.assertEqual(len(maps[0]), os.cpu_count())
        self.assertEqual(len(dom.vcpuPinInfo(0)), 2)
        self.assertEqual(len(dom.emulatorPinInfo()), os.cpu_count())
        self.assertEqual(dom.controlInfo(), [libvirt.VIR_DOMAIN_CONTROL_OK, 0, 0])
        with self.assertRaises(libvirt.libvirtError) as cm:
            dom.interfaceStats(MAC)
        self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_OPERATION_UNSUPPORTED)
        # A transient domain has no persistent configuration to ask about.
        disk2 = os.path.join(self.d.root, "py2.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk2, "64M"], check=True)
        tdom = conn.createXML(stats_xml("py2", disk2), 0)
        self.addCleanup(tdom.destroy)
        self.assertEqual(len(tdom.vcpuPinInfo(libvirt.VIR_DOMAIN_AFFECT_LIVE)), 2)
        with self.assertRaises(libvirt.libvirtError) as cm:
            tdom.vcpuPinInfo(libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        self.assertIn("transient domain 'py2' has no persistent configuration",
                      cm.exception.get_error_message())
        with self.assertRaises(libvirt.libvirtError) as cm:
            dom.sendKey(libvirt.VIR_KEYCODE_SET_LINUX, 0, [240], 1, 0)
        self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_INVALID_ARG)
        self.assertIn("keycode 240 of keycode set 'linux' has no QEMU key",
                      cm.exception.get_error_message())

    def test_send_key_and_screenshot(self):
        # key1 also has a serial port that is no pty; novideo1 has no console at all.
        self.make_domain("key1", extra_devices="<serial type='null'/>")
        self.make_domain("novideo1", video=False, console=False)
        self.d.virsh("start", "key1")
        self.d.virsh("start", "novideo1")

        self.d.virsh("send-key", "key1", "KEY_A")
        self.d.virsh("send-key", "key1", "--holdtime", "50", "KEY_LEFTCTRL", "KEY_UP")
        self.d.virsh("send-key", "key1", "--codeset", "usb", "4")
        self.d.virsh("send-key", "key1", "--codeset", "qnum", "0x1e")
        # What QEMU was told (every QMP exchange is in the domain log).
        with open(virtd.domain_log(self.d, "key1"), errors="replace") as f:
            log = re.sub(r"\s+", "", f.read())
        self.assertIn('"keys":[{"type":"number","data":30}]', log)
        self.assertIn('"keys":[{"type":"number","data":29},{"type":"number","data":200}],'
                      '"hold-time":50', log)
        self.fails("send-key", "key1", "--codeset", "win32", "65",
                   message="argument unsupported: keycode set 'win32' is not supported: "
                           "use 'linux', 'xt', 'atset1', 'usb' or 'qnum'")

        shot = os.path.join(self.d.root, "shot.ppm")
        res = self.d.virsh("screenshot", "key1", shot, quiet=False)
        self.assertIn("with type of image/x-portable-pixmap", res.stdout)
        with open(shot, "rb") as f:
            data = f.read()
        m = re.match(rb"P6\n(\d+) (\d+)\n255\n", data)
        self.assertIsNotNone(m, data[:20])
        self.assertEqual(len(data), m.end() + int(m.group(1)) * int(m.group(2)) * 3)
        # Nothing is left behind in the domain's run directory.
        run = os.path.join(self.d.root, "run", "libvirt", "qemu")
        left = [f for _, _, files in os.walk(run) for f in files if f.startswith("screenshot")]
        self.assertEqual(left, [])

        self.fails("screenshot", "key1", "--screen", "1", shot,
                   message="invalid argument: domain 'key1' has no screen 1")
        self.fails("screenshot", "novideo1", shot,
                   message="Requested operation is not valid: domain 'novideo1' has no video "
                           "device to take a screenshot of")

        # Consoles: only a pty opens, one session at a time unless forced.
        conn = libvirt.open(self.d.uri)
        self.addCleanup(conn.close)

        def console_error(name, dev, code):
            with self.assertRaises(libvirt.libvirtError) as cm:
                conn.lookupByName(name).openConsole(dev, conn.newStream(0), 0)
            self.assertEqual(cm.exception.get_error_code(), code)
            return cm.exception.get_error_message()

        self.assertEqual(console_error("novideo1", None, libvirt.VIR_ERR_INVALID_ARG),
                         "invalid argument: domain 'novideo1' has no console")
        self.assertEqual(console_error("key1", "serial1", libvirt.VIR_ERR_OPERATION_UNSUPPORTED),
                         "Operation not supported: the console of domain 'key1' is of type "
                         "'null': only a pty can be opened")
        # A first session on a second connection.
        other = libvirt.open(self.d.uri)
        self.addCleanup(other.close)
        first = other.newStream(0)
        other.lookupByName("key1").openConsole(None, first, 0)
        self.assertEqual(console_error("key1", None, libvirt.VIR_ERR_OPERATION_FAILED),
                         "operation failed: another console session is active for this "
                         "device: use --force to take it over")
        # Its abort is answered (the client library waits for that) and frees the device.
        t0 = time.monotonic()
        first.abort()
        self.assertLess(time.monotonic() - t0, 5)
        second = conn.newStream(0)
        conn.lookupByName("key1").openConsole(None, second, 0)
        second.finish()


if __name__ == "__main__":
    virtd.main()
