#!/usr/bin/python3
"""Per-disk I/O throttling (virsh blkdeviotune, a disk's <iotune>) through real virsh and
python3-libvirt against real QEMU (TCG).

The running guest reads its disk with /bin/readdisk (dd of the block device, page cache
dropped first, throughput printed) so the limits are seen where they matter: in the guest.
The disk is build-guest's cached image attached read-only, so the cache is never written.
virsh's texts are virsh's; the messages after "error: " are virtd's and pinned here."""
import json
import os
import re
import struct
import subprocess
import time

import libvirt

import virtd

BOOT_BUDGET = 30.0
MIB = 1048576
GET_BLOCK_IO_TUNE = 253  # REMOTE_PROC_DOMAIN_GET_BLOCK_IO_TUNE


def guest_disk():
    """The cached 64 MB disk image of build-guest --disk."""
    script = os.path.join(virtd.SRCDIR, "tests", "guest", "build-guest")
    res = subprocess.run([script, "--disk"], capture_output=True, text=True, timeout=600)
    if res.returncode != 0:
        raise virtd.unittest.SkipTest("build-guest --disk failed: " + res.stderr.strip())
    return dict(line.split("=", 1) for line in res.stdout.splitlines() if "=" in line)["DISK"]


def disk_xml(path, dev, iotune=""):
    return ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            f"<source file='{path}'/><target dev='{dev}' bus='virtio'/>"
            f"{iotune}<readonly/></disk>")


def iotune_of(text):
    """{field: value} from `virsh blkdeviotune` output ("name : value" lines)."""
    return {k.strip(): v.strip() for k, v in
            (line.split(":", 1) for line in text.splitlines() if ":" in line)}


def iotune_elements(xml, dev):
    """The <iotune> children of disk @dev in domain XML @xml, as {name: text}; None when
    that disk has no <iotune>."""
    disk = re.search(rf"<disk (?:(?!</disk>).)*<target dev='{dev}'(?:(?!</disk>).)*</disk>",
                     xml, re.S)
    assert disk, f"no disk {dev} in:\n{xml}"
    m = re.search(r"<iotune>(.*?)</iotune>", disk.group(0), re.S)
    return dict(re.findall(r"<(\w+)>([^<]*)</\1>", m.group(1))) if m else None


class IotuneTest(virtd.DaemonTestCase):

    maxDiff = None

    def setUp(self):
        self.g = virtd.guest()  # skips when QEMU or the guest cannot be had
        self.disk = guest_disk()
        super().setUp()

    # ---- helpers -------------------------------------------------------------------

    def define_guest(self, name, disks):
        xml = virtd.guest_xml(name).replace("<devices>", "<devices>" + disks)
        path = os.path.join(self.d.root, f"{name}.xml")
        with open(path, "w") as f:
            f.write(xml)
        self.d.virsh("define", path)
        self.addCleanup(self.d.virsh, "destroy", name, check=False)

    def fails(self, *args, message, readonly=False):
        res = self.d.virsh(*args, check=False, readonly=readonly)
        self.assertNotEqual(res.returncode, 0, res.stdout)
        self.assertIn("error: " + message + "\n", res.stderr)

    def get(self, name, dev, *flags):
        return iotune_of(self.d.virsh("blkdeviotune", name, dev, *flags).stdout)

    def qemu_limits(self, name):
        """{qdev: inserted} of query-block: what QEMU itself enforces."""
        out = self.d.virsh("qemu-monitor-command", name, '{"execute":"query-block"}').stdout
        return {b["qdev"]: b["inserted"] for b in json.loads(out)["return"] if "inserted" in b}

    def boot(self, name):
        self.d.virsh("start", name)
        path = virtd.serial_pty(self.d, name)
        self.assertTrue(path, f"no serial pty for {name}")
        console = virtd.PtyReader(path)
        self.addCleanup(console.close)
        self.assertIsNotNone(console.expect(re.escape(self.g["READY"]), BOOT_BUDGET),
                             "no READY line; console had:\n" + console.text[-2000:])
        return console

    def readdisk(self, console, dev, mb):
        """Read @mb MB of @dev in the guest: (seconds, KiB/s) as readdisk measured them."""
        t0 = time.monotonic()
        console.write(f"readdisk {dev} {mb}\n")
        m = console.expect(rf"readdisk: {dev} (\d+) bytes in ([\d.]+) s, (\d+) KiB/s", 60)
        self.assertIsNotNone(m, "readdisk printed nothing; console had:\n" + console.text[-2000:])
        self.assertEqual(int(m.group(1)), mb * MIB)
        secs, rate = float(m.group(2)), int(m.group(3))
        print(f"  {dev}: {mb} MB in {secs:.2f} s ({rate} KiB/s; host saw "
              f"{time.monotonic() - t0:.2f} s)", flush=True)
        return secs, rate

    # ---- tests ---------------------------------------------------------------------

    def test_running_guest(self):
        vda = "/machine/peripheral/virtio-disk0/virtio-backend"
        vdb = "/machine/peripheral/virtio-disk1/virtio-backend"
        self.define_guest("io1", disk_xml(self.disk, "vda",
                                          "<iotune><read_bytes_sec>1048576</read_bytes_sec>"
                                          "</iotune>") + disk_xml(self.disk, "vdb") +
                          "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/>"
                          "</disk>")
        console = self.boot("io1")

        # The <iotune> of the definition was given to QEMU before the guest ran, and the
        # guest reads at that rate: 3 MB at 1 MiB/s take about 3 s.
        self.assertEqual(self.qemu_limits("io1")[vda]["bps_rd"], MIB)
        self.assertEqual(self.get("io1", "vda")["read_bytes_sec"], "1048576")
        secs, rate = self.readdisk(console, "/dev/vda", 3)
        self.assertGreaterEqual(secs, 2.5)
        self.assertTrue(0.75 * 1024 <= rate <= 1.25 * 1024, rate)

        # A live change: QEMU, the live XML and blkdeviotune show it, the config keeps its
        # own value, and the guest now reads 6 MB at about 2 MiB/s.
        self.d.virsh("blkdeviotune", "io1", "vda", "--read-bytes-sec", str(2 * MIB), "--live")
        got = self.get("io1", "vda")
        self.assertEqual(len(got), 20)
        self.assertEqual((got["read_bytes_sec"], got["total_bytes_sec"], got["group_name"]),
                         ("2097152", "0", ""))
        self.assertEqual(self.qemu_limits("io1")[vda]["bps_rd"], 2 * MIB)
        self.assertEqual(iotune_elements(self.d.virsh("dumpxml", "io1").stdout, "vda"),
                         {"read_bytes_sec": "2097152"})
        self.assertEqual(iotune_elements(self.d.virsh("dumpxml", "--inactive", "io1").stdout,
                                         "vda"), {"read_bytes_sec": "1048576"})
        self.assertEqual(self.get("io1", "vda", "--config")["read_bytes_sec"], "1048576")
        secs, rate = self.readdisk(console, "/dev/vda", 6)
        self.assertGreaterEqual(secs, 2.5)
        self.assertTrue(0.75 * 2048 <= rate <= 1.25 * 2048, rate)

        # No limit: the same read goes much faster, and <iotune> is gone from the live XML.
        self.d.virsh("blkdeviotune", "io1", "vda", "--read-bytes-sec", "0")
        self.assertIsNone(iotune_elements(self.d.virsh("dumpxml", "io1").stdout, "vda"))
        self.assertEqual(self.qemu_limits("io1")[vda]["bps_rd"], 0)
        fast_secs, fast_rate = self.readdisk(console, "/dev/vda", 6)
        self.assertLess(fast_secs, secs / 2)
        self.assertGreater(fast_rate, 2 * 2048)

        # The disk named by its source path; limits of other kinds are kept.
        self.d.virsh("blkdeviotune", "io1", self.disk, "--total-iops-sec", "400",
                     "--size-iops-sec", "8192")
        self.d.virsh("blkdeviotune", "io1", "vda", "--write-bytes-sec", "3000000")
        self.assertEqual(iotune_elements(self.d.virsh("dumpxml", "io1").stdout, "vda"),
                         {"write_bytes_sec": "3000000", "total_iops_sec": "400",
                          "size_iops_sec": "8192"})
        q = self.qemu_limits("io1")[vda]
        self.assertEqual((q["bps_wr"], q["iops"], q["iops_size"]), (3000000, 400, 8192))

        # --config while running: only the persistent definition changes; --live --config
        # both.
        self.d.virsh("blkdeviotune", "io1", "vda", "--config", "--total-bytes-sec-max",
                     "0", "--read-bytes-sec-max", str(4 * MIB), "--read-bytes-sec-max-length",
                     "3")
        self.assertEqual(iotune_elements(self.d.virsh("dumpxml", "--inactive", "io1").stdout,
                                         "vda"),
                         {"read_bytes_sec": "1048576", "read_bytes_sec_max": "4194304",
                          "read_bytes_sec_max_length": "3"})
        self.assertNotIn("read_bytes_sec_max",
                         iotune_elements(self.d.virsh("dumpxml", "io1").stdout, "vda"))
        self.d.virsh("blkdeviotune", "io1", "vdb", "--live", "--config", "--total-iops-sec",
                     "250")
        self.assertEqual(self.get("io1", "vdb")["total_iops_sec"], "250")
        self.assertEqual(self.get("io1", "vdb", "--config")["total_iops_sec"], "250")
        self.assertEqual(self.qemu_limits("io1")[vdb]["iops"], 250)

        # A throttle group: QEMU limits its members together, and the live XML of every
        # member shows the group's limits.
        self.d.virsh("blkdeviotune", "io1", "vda", "--group-name", "shared")
        self.d.virsh("blkdeviotune", "io1", "vdb", "--group-name", "shared",
                     "--total-bytes-sec", "5000000")
        live = self.d.virsh("dumpxml", "io1").stdout
        self.assertEqual(iotune_elements(live, "vda"), iotune_elements(live, "vdb"))
        self.assertEqual(iotune_elements(live, "vda"),
                         {"total_bytes_sec": "5000000", "total_iops_sec": "250",
                          "group_name": "shared"})
        q = self.qemu_limits("io1")
        self.assertEqual((q[vda]["group"], q[vda]["bps"], q[vdb]["bps"]),
                         ("shared", 5000000, 5000000))
        self.assertEqual(self.get("io1", "vda")["group_name"], "shared")

        # Refused, naming what is wrong; nothing changes.
        before = self.d.virsh("dumpxml", "io1").stdout
        for args, message in [
            (["vdz", "--total-bytes-sec", "1"], "invalid argument: domain 'io1' has no disk 'vdz'"),
            (["/nope.img", "--total-bytes-sec", "1"],
             "invalid argument: domain 'io1' has no disk '/nope.img'"),
            (["vda", "--total-bytes-sec", "1", "--read-bytes-sec", "1"],
             "invalid argument: 'total_bytes_sec' and 'read_bytes_sec' cannot be set at the "
             "same time"),
            (["vda", "--write-iops-sec-max", "10"],
             "invalid argument: 'write_iops_sec_max' needs 'write_iops_sec' to be set"),
            (["vda", "--total-bytes-sec-max", "10"],
             "invalid argument: 'total_bytes_sec_max' (10) cannot be lower than "
             "'total_bytes_sec' (5000000)"),
            (["vda", "--total-bytes-sec-max-length", "5"],
             "invalid argument: 'total_bytes_sec_max_length' needs 'total_bytes_sec_max' to be "
             "set"),
            (["vda", "--total-iops-sec", "1000000000000001"],
             "invalid argument: 'total_iops_sec' must be at most 1000000000000000, not "
             "1000000000000001"),
            (["vda", "--total-bytes-sec", "10", "--total-bytes-sec-max", "1000000000000000",
              "--total-bytes-sec-max-length", "2"],
             "invalid argument: 'total_bytes_sec_max' times 'total_bytes_sec_max_length' must "
             "be at most 1000000000000000"),
            (["vda", "--total-iops-sec", "0", "--size-iops-sec", "512"],
             "invalid argument: 'size_iops_sec' needs 'total_iops_sec', 'read_iops_sec' or "
             "'write_iops_sec' to be set"),
        ]:
            with self.subTest(args=args):
                self.fails("blkdeviotune", "io1", *args, message=message)
        self.fails("blkdeviotune", "io1", "vdz", message="invalid argument: domain 'io1' has "
                                                         "no disk 'vdz'")
        self.fails("blkdeviotune", "io1", "hdc", "--total-bytes-sec", "1",
                   message="Requested operation is not valid: disk 'hdc' of domain 'io1' has "
                           "no medium")
        self.fails("blkdeviotune", "io1", "vda", "--total-bytes-sec", "1", readonly=True,
                   message="operation forbidden: read only access prevents "
                           "DOMAIN_SET_BLOCK_IO_TUNE")
        self.assertEqual(self.d.virsh("dumpxml", "io1").stdout, before)
        self.assertEqual(self.get("io1", "vda")["total_bytes_sec"], "5000000")

        # A restarted daemon finds the live limits again.
        self.d.stop()
        self.d.start()
        self.assertEqual(self.get("io1", "vdb")["total_bytes_sec"], "5000000")

    def test_shut_off(self):
        self.define_guest("io2", disk_xml(self.disk, "vda"))
        self.assertEqual(set(self.get("io2", "vda").values()), {"0", ""})

        # Current means config for a domain that does not run.
        self.d.virsh("blkdeviotune", "io2", "vda", "--read-iops-sec", "300", "--group-name",
                     "g1")
        self.assertEqual(iotune_elements(self.d.virsh("dumpxml", "io2").stdout, "vda"),
                         {"read_iops_sec": "300", "group_name": "g1"})
        with open(os.path.join(self.d.config_dir, "io2.xml")) as f:
            self.assertIn("<read_iops_sec>300</read_iops_sec>", f.read())
        got = self.get("io2", "vda", "--config")
        self.assertEqual((got["read_iops_sec"], got["group_name"]), ("300", "g1"))

        # python3-libvirt: the "how many" call, then all 20, group_name a string.
        conn = libvirt.open(self.d.uri)
        self.addCleanup(conn.close)
        params = conn.lookupByName("io2").blockIoTune("vda", 0)
        self.assertEqual(len(params), 20)
        self.assertEqual((params["read_iops_sec"], params["group_name"]), (300, "g1"))
        conn.lookupByName("io2").setBlockIoTune("vda", {"group_name": ""},
                                                libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        self.assertEqual(iotune_elements(self.d.virsh("dumpxml", "io2").stdout, "vda"),
                         {"read_iops_sec": "300"})

        # Raw calls: the count needs no disk (19 numbers, 20 with strings); a list does.
        uuid = self.d.virsh("domuuid", "io2").stdout.strip()
        dom = virtd.xdr_string("io2") + bytes.fromhex(uuid.replace("-", "")) + \
            struct.pack(">i", -1)
        raw = virtd.RawClient(self.d.sock)
        self.addCleanup(raw.close)
        raw.open()
        for flags, count in [(0, 19), (libvirt.VIR_TYPED_PARAM_STRING_OKAY, 20)]:
            pkt = raw.call(GET_BLOCK_IO_TUNE, dom + virtd.xdr_opt_string(None) +
                           struct.pack(">iI", 0, flags))
            self.assertEqual(pkt[4], virtd.OK)
            self.assertEqual(struct.unpack(">Ii", pkt[5]), (0, count))
        pkt = raw.call(GET_BLOCK_IO_TUNE, dom + virtd.xdr_opt_string(None) +
                       struct.pack(">iI", 20, 0))
        self.assertEqual(pkt[4], virtd.ERROR)
        self.assertEqual(virtd.decode_error(pkt[5]),
                         (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_FROM_RPC,
                          "invalid argument: a disk must be named to read its I/O limits"))

        self.fails("blkdeviotune", "io2", "vda", "--live",
                   message="Requested operation is not valid: domain is not running")
        self.fails("blkdeviotune", "io2", "vda", "--live", "--total-bytes-sec", "1",
                   message="Requested operation is not valid: domain is not running")
        self.fails("blkdeviotune", "io2", "vdb", "--total-bytes-sec", "1",
                   message="invalid argument: domain 'io2' has no disk 'vdb'")

        # An <iotune> QEMU cannot take stops the start, saying which disk and why, and
        # leaves no QEMU behind.
        self.define_guest("io3", disk_xml(self.disk, "vda",
                                          "<iotune><total_bytes_sec>100</total_bytes_sec>"
                                          "<write_bytes_sec>50</write_bytes_sec></iotune>"))
        self.fails("start", "io3",
                   message="unsupported configuration: <iotune> of disk 'vda': "
                           "'total_bytes_sec' and 'write_bytes_sec' cannot be set at the "
                           "same time")
        self.assertEqual(self.d.virsh("domstate", "io3").stdout.strip(), "shut off")
        self.assertIsNone(virtd.qemu_pid(self.d, "io3"))


if __name__ == "__main__":
    virtd.main()
