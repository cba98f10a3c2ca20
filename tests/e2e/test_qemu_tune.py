#!/usr/bin/python3
"""schedinfo, memtune and blkiotune through real virsh, python3-libvirt and the raw protocol,
enforced by the host's real cgroups on a real QEMU (TCG):

- a spinning guest uses clearly more than 40% of a CPU, then at most ~25% once
  vcpu_quota is 20% of vcpu_period (measured from its vcpu0 group's cpuacct.usage);
- a hard_limit set live just above what QEMU uses, then a guest that fills its memory:
  the kernel's OOM killer ends QEMU, the domain is 'shut off (crashed)' and a python client
  sees 'Stopped Failed';
- every setting reads back live (from the kernel) and from the config, survives kill -9 of
  the daemon, and --config lands in dumpxml --inactive;
- the errors: out-of-range values, unknown names, wrong types, live on a shut-off domain,
  min_guarantee live, read-only connections;
- the VM's groups are gone after destroy.

Names carry this process's pid: the groups live in the host's one /machine partition,
which other test daemons share."""
import os
import queue
import re
import struct
import subprocess
import time
import unittest

import libvirt

import virtd
from test_qemu_domains import Events  # also runs libvirt's event loop thread

BOOT_BUDGET = 30.0
TAG = str(os.getpid())
MIB = 1 << 20
CONTROLLERS = ["cpu", "cpuacct", "memory", "blkio"]

# procedure numbers and typed parameter types (wire facts)
PROC_SET_MEMORY_PARAMETERS = 197
PROC_GET_MEMORY_PARAMETERS = 198
PROC_SET_BLKIO_PARAMETERS = 205
PROC_GET_BLKIO_PARAMETERS = 206
PROC_SET_SCHEDULER_PARAMETERS_FLAGS = 219
T_INT, T_UINT, T_LLONG, T_ULLONG, T_DOUBLE, T_BOOLEAN, T_STRING = range(1, 8)


def cgroup_v2():
    return not os.path.ismount("/sys/fs/cgroup/cpu")


def read(path):
    with open(path) as f:
        return f.read().strip()


def oom_kills():
    """How many processes the kernel's OOM killer ended since boot."""
    with open("/proc/vmstat") as f:
        return int(re.search(r"^oom_kill (\d+)$", f.read(), re.M).group(1))


def host_block_device():
    """A block device of the host for per-device limits, or None."""
    for name in sorted(os.listdir("/sys/block")):
        if not name.startswith(("loop", "ram", "zram")) and os.path.exists(f"/dev/{name}"):
            return f"/dev/{name}"
    return None


def majmin(dev):
    st = os.stat(dev)
    return f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"


def fields(text):
    """{name: value} of virsh schedinfo/memtune/blkiotune output."""
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def xdr_param(field, ptype, value):
    body = virtd.xdr_string(field) + struct.pack(">i", ptype)
    if ptype in (T_INT, T_BOOLEAN):
        return body + struct.pack(">i", value)
    if ptype == T_UINT:
        return body + struct.pack(">I", value)
    if ptype == T_LLONG:
        return body + struct.pack(">q", value)
    if ptype == T_ULLONG:
        return body + struct.pack(">Q", value)
    return body + virtd.xdr_string(value)


class GuestWithCgroupsTestCase(virtd.DaemonTestCase):
    """A daemon for tests that run the test guest in cgroups: skipped without either."""

    maxDiff = None

    def setUp(self):
        virtd.guest()
        if not virtd.usable_cgroups():
            raise unittest.SkipTest("no writable cgroup hierarchy on this machine")
        super().setUp()


class TuneTest(GuestWithCgroupsTestCase):

    # ---- helpers -------------------------------------------------------------------

    def define(self, name, memory_mib=128, vcpus=1, iothreads=0):
        xml = virtd.guest_xml(name, memory_mib=memory_mib)
        more = f"<iothreads>{iothreads}</iothreads>" if iothreads else ""
        xml = xml.replace("<vcpu>1</vcpu>", f"<vcpu>{vcpus}</vcpu>{more}")
        path = os.path.join(self.d.root, f"{name}.xml")
        with open(path, "w") as f:
            f.write(xml)
        self.d.virsh("define", path)

    def start(self, name):
        self.d.virsh("start", name)
        dom_id = self.d.virsh("domid", name).stdout.strip()
        # destroy first, then make sure no group of ours is left whatever happened
        self.addCleanup(self.remove_groups, dom_id, name)
        self.addCleanup(self.d.virsh, "destroy", name, check=False, timeout=60)
        return dom_id

    def boot(self, name):
        dom_id = self.start(name)
        console = virtd.PtyReader(virtd.serial_pty(self.d, name))
        self.addCleanup(console.close)
        self.assertIsNotNone(console.expect(re.escape(self.g["READY"]), BOOT_BUDGET),
                             "no READY line; console had:\n" + console.text[-2000:])
        return dom_id, console

    @property
    def g(self):
        return virtd.guest()

    def group(self, controller, dom_id, name, *sub):
        return os.path.join(virtd.vm_cgroup(controller, dom_id, name), *sub)

    def remove_groups(self, dom_id, name):
        for c in os.listdir("/sys/fs/cgroup") if not cgroup_v2() else [""]:
            top = virtd.vm_cgroup(c, dom_id, name)
            if not os.path.isdir(top):
                continue
            for sub in os.listdir(top):
                if os.path.isdir(os.path.join(top, sub)):
                    os.rmdir(os.path.join(top, sub))
            os.rmdir(top)

    def assert_gone(self, dom_id, name):
        for c in CONTROLLERS:
            path = virtd.vm_cgroup(c, dom_id, name)
            self.assertTrue(virtd.wait_for(lambda: not os.path.exists(path), 5),
                            f"{c} group {path} left behind")

    def fails(self, *args, message, readonly=False):
        res = self.d.virsh(*args, check=False, readonly=readonly)
        self.assertNotEqual(res.returncode, 0, res.stdout)
        self.assertIn(message, res.stderr)

    def cpu_share(self, usage_file, seconds=3.0):
        """The share of one CPU the group used over @seconds (cpuacct.usage is ns)."""
        t0, u0 = time.monotonic(), int(read(usage_file))
        time.sleep(seconds)
        t1, u1 = time.monotonic(), int(read(usage_file))
        return (u1 - u0) / 1e9 / (t1 - t0)

    # ---- enforcement -----------------------------------------------------------------

    def test_vcpu_quota_limits_a_spinning_guest(self):
        name = f"tcpu{TAG}"
        self.define(name)
        dom_id, console = self.boot(name)
        usage = self.group("cpuacct", dom_id, name, "vcpu0", "cpuacct.usage")
        console.write("spin &\n")
        time.sleep(0.5)
        free = self.cpu_share(usage)

        out = fields(self.d.virsh("schedinfo", name, "--live", "vcpu_period=100000",
                                  "vcpu_quota=20000").stdout)
        self.assertEqual((out["vcpu_period"], out["vcpu_quota"]), ("100000", "20000"))
        cpu = self.group("cpu", dom_id, name, "vcpu0")
        if not cgroup_v2():
            self.assertEqual(read(os.path.join(cpu, "cpu.cfs_period_us")), "100000")
            self.assertEqual(read(os.path.join(cpu, "cpu.cfs_quota_us")), "20000")
        else:
            self.assertEqual(read(os.path.join(cpu, "cpu.max")), "20000 100000")
        limited = self.cpu_share(usage)
        print(f"  vCPU 0 of a spinning guest: {free:.0%} of a CPU free, "
              f"{limited:.0%} with a 20% quota", flush=True)
        self.assertGreater(free, 0.40)
        self.assertLessEqual(limited, 0.25)

        # Lifting the quota (-1) lets it run again.
        self.d.virsh("schedinfo", name, "--live", "vcpu_quota=-1")
        self.assertEqual(fields(self.d.virsh("schedinfo", name).stdout)["vcpu_quota"], "-1")

        self.d.virsh("destroy", name)
        self.assert_gone(dom_id, name)

    def test_hard_limit_below_need_is_an_oom_crash(self):
        name = f"toom{TAG}"
        self.define(name, memory_mib=256, iothreads=1)
        conn = libvirt.open(self.d.uri)
        self.addCleanup(conn.close)
        ev = Events()
        cb = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         ev.lifecycle, None)
        self.addCleanup(conn.domainEventDeregisterAny, cb)
        dom_id, console = self.boot(name)
        self.assertEqual(ev.take(1), [(name, "Started Booted")])

        # Its IOThread runs in iothread1/, where an IOThread limit applies live.
        self.d.virsh("schedinfo", name, "--live", "--set", "iothread_quota=50000")
        iothread = os.path.join(self.group("cpu", dom_id, name), "iothread1")
        io_tid = next(int(t) for t in os.listdir(f"/proc/{virtd.qemu_pid(self.d, name)}/task")
                      if read(f"/proc/{virtd.qemu_pid(self.d, name)}/task/{t}/comm")
                      == "IO iothread1")
        self.assertIn(io_tid, virtd.read_ids(os.path.join(iothread, "tasks")))
        if not cgroup_v2():
            self.assertEqual(read(os.path.join(iothread, "cpu.cfs_quota_us")), "50000")
        self.assertIn("<iothread_quota>50000</iothread_quota>", self.d.virsh("dumpxml",
                                                                             name).stdout)

        memory = self.group("memory", dom_id, name)
        used = int(read(os.path.join(memory, "memory.usage_in_bytes" if not cgroup_v2()
                                     else "memory.current")))
        if not cgroup_v2():
            # Far below what QEMU uses: v1 refuses when it cannot reclaim that much (v2
            # would OOM-kill QEMU right away).
            self.fails("memtune", name, "--live", "--hard-limit", "4096",
                       message=f"cannot set hard_limit of domain '{name}' to 4096 KiB: cannot "
                               f"write '4194304' to '{memory}/memory.limit_in_bytes': Device "
                               f"or resource busy")
            self.assertEqual(self.d.virsh("domstate", name).stdout.strip(), "running")
        limit_kib = used // 1024 + 24 * 1024  # QEMU's use now plus 24 MiB
        limit_kib -= limit_kib % 4
        dom = conn.lookupByName(name)
        dom.setMemoryParameters({"hard_limit": limit_kib}, libvirt.VIR_DOMAIN_AFFECT_LIVE)
        self.assertEqual(dom.memoryParameters(libvirt.VIR_DOMAIN_AFFECT_LIVE)["hard_limit"],
                         limit_kib)
        if not cgroup_v2():
            self.assertEqual(int(read(os.path.join(memory, "memory.limit_in_bytes"))),
                             limit_kib * 1024)

        # The guest fills 200 MiB of its RAM: QEMU needs far more than the limit.
        kills = oom_kills()
        t0 = time.monotonic()
        console.write("dd if=/dev/zero of=/root/fill bs=1M count=200\n")
        self.assertEqual(ev.take(1, timeout=60), [(name, "Stopped Failed")])
        print(f"  QEMU killed by the OOM killer {time.monotonic() - t0:.1f} s after the "
              f"guest began to fill its memory (limit {limit_kib} KiB, "
              f"QEMU used {used >> 10} KiB)", flush=True)
        self.assertGreater(oom_kills(), kills, "the kernel's OOM killer did not run")
        self.assertEqual(self.d.virsh("domstate", "--reason", name).stdout.strip(),
                         "shut off (crashed)")
        self.assertEqual(dom.state(), [libvirt.VIR_DOMAIN_SHUTOFF,
                                       libvirt.VIR_DOMAIN_SHUTOFF_CRASHED])
        self.assert_gone(dom_id, name)

    # ---- read back, restart, config ------------------------------------------------

    def test_settings_read_back_survive_restart_and_persist(self):
        name = f"tset{TAG}"
        self.define(name, vcpus=2)
        dom_id = self.start(name)
        v1 = not cgroup_v2()

        # schedinfo --live: the VM's group, every vcpuN/ and emulator/
        sched = {"cpu_shares": "512", "vcpu_period": "50000", "vcpu_quota": "30000",
                 "emulator_period": "200000", "emulator_quota": "100000",
                 "global_period": "100000", "global_quota": "150000",
                 "iothread_period": "100000", "iothread_quota": "5000"}
        out = self.d.virsh("schedinfo", name, "--live",
                           *(f"{k}={v}" for k, v in sched.items())).stdout
        self.assertEqual(fields(out), {"Scheduler": "posix", **sched})
        cpu = lambda *p: read(self.group("cpu", dom_id, name, *p))  # noqa: E731
        if v1:
            self.assertEqual(cpu("cpu.shares"), "512")
            for vcpu in ("vcpu0", "vcpu1"):
                self.assertEqual(cpu(vcpu, "cpu.cfs_period_us"), "50000")
                self.assertEqual(cpu(vcpu, "cpu.cfs_quota_us"), "30000")
            self.assertEqual(cpu("emulator", "cpu.cfs_period_us"), "200000")
            self.assertEqual(cpu("emulator", "cpu.cfs_quota_us"), "100000")
            self.assertEqual(cpu("cpu.cfs_quota_us"), "150000")
        else:
            self.assertEqual(cpu("vcpu1", "cpu.max"), "30000 50000")
            self.assertEqual(cpu("cpu.max"), "150000 100000")

        # A sub-group may not get more CPU than the VM's group (v1 refuses it): one call that
        # lowers both, then one that raises both, work in either direction.
        for vcpu_quota, global_quota in (("20000", "50000"), ("80000", "200000"),
                                         (sched["vcpu_quota"], sched["global_quota"])):
            out = fields(self.d.virsh("schedinfo", name, "--live", f"vcpu_quota={vcpu_quota}",
                                      f"global_quota={global_quota}").stdout)
            self.assertEqual((out["vcpu_quota"], out["global_quota"]),
                             (vcpu_quota, global_quota))
            if v1:
                self.assertEqual(cpu("vcpu1", "cpu.cfs_quota_us"), vcpu_quota)
                self.assertEqual(cpu("cpu.cfs_quota_us"), global_quota)

        # memtune --live, KiB
        self.d.virsh("memtune", name, "--live", "--hard-limit", "1048576", "--soft-limit",
                     "524288", "--swap-hard-limit", "2097152")
        mem = lambda f: int(read(self.group("memory", dom_id, name, f)))  # noqa: E731
        if v1:
            self.assertEqual(mem("memory.limit_in_bytes"), 1024 * MIB)
            self.assertEqual(mem("memory.soft_limit_in_bytes"), 512 * MIB)
            if os.path.exists(self.group("memory", dom_id, name, "memory.memsw.limit_in_bytes")):
                self.assertEqual(mem("memory.memsw.limit_in_bytes"), 2048 * MIB)
        # Lower both: on v1 the memory limit must go first (memsw >= limit at every step).
        self.d.virsh("memtune", name, "--live", "--hard-limit", "786432", "--swap-hard-limit",
                     "917504")
        self.fails("memtune", name, "--live", "--min-guarantee", "65536",
                   message="Requested operation is not valid: parameter 'min_guarantee' cannot "
                           "be changed live: QEMU/KVM has no minimum memory guarantee to set "
                           "(use --config)")
        self.fails("memtune", name, "--live", "--hard-limit", "1048576",
                   message="invalid argument: hard_limit (1048576 KiB) must not be above "
                           "swap_hard_limit (917504 KiB): the swap limit counts memory plus "
                           "swap")

        # blkiotune --live: weight and a throttle on a real block device of the host
        dev = host_block_device()
        self.d.virsh("blkiotune", name, "--live", "--weight", "500")
        if dev:
            self.d.virsh("blkiotune", name, "--live", "--device-read-iops-sec", f"{dev},100",
                         "--device-write-bytes-sec", f"{dev},{MIB}")
            if v1:
                throttle = self.group("blkio", dom_id, name, "blkio.throttle.read_iops_device")
                self.assertEqual(read(throttle), f"{majmin(dev)} 100")
            # A device weight needs BFQ on that device; the kernel's refusal is reported.
            sched = read(f"/sys/block/{os.path.basename(dev)}/queue/scheduler")
            res = self.d.virsh("blkiotune", name, "--live", "--device-weights", f"{dev},300",
                               check=False)
            if "[bfq]" in sched:
                self.assertEqual(res.returncode, 0, res.stderr)
            elif v1:
                self.assertIn(f"cannot set device_weight of device '{dev}': cannot write "
                              f"'{majmin(dev)} 300' to '", res.stderr)
                self.assertIn("Operation not supported", res.stderr)

        # --live --config: both
        self.d.virsh("schedinfo", name, "--live", "--config", "emulator_period=300000")
        if v1:
            self.assertEqual(cpu("emulator", "cpu.cfs_period_us"), "300000")
        self.assertIn("<emulator_period>300000</emulator_period>",
                      self.d.virsh("dumpxml", "--inactive", name).stdout)

        live = {"sched": fields(self.d.virsh("schedinfo", name).stdout),
                "mem": fields(self.d.virsh("memtune", name).stdout),
                "blkio": fields(self.d.virsh("blkiotune", name).stdout)}
        self.assertEqual(live["mem"], {"hard_limit": "786432", "soft_limit": "524288",
                                       "swap_hard_limit": "917504", "min_guarantee": "0"})
        self.assertEqual(live["blkio"]["weight"], "500")
        if dev:
            self.assertEqual(live["blkio"]["device_read_iops_sec"], f"{dev},100")
            self.assertEqual(live["blkio"]["device_write_bytes_sec"], f"{dev},{MIB}")

        # python3-libvirt sees libvirt's types
        conn = libvirt.open(self.d.uri)
        self.addCleanup(conn.close)
        dom = conn.lookupByName(name)
        self.assertEqual(tuple(dom.schedulerType()), ("posix", 9))
        self.assertEqual(dom.schedulerParametersFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE)
                         ["vcpu_quota"], 30000)
        self.assertEqual(dom.blkioParameters(libvirt.VIR_DOMAIN_AFFECT_LIVE)["weight"], 500)
        self.assertEqual(dom.memoryParameters(0)["soft_limit"], 524288)

        # --config: the persistent definition only
        self.d.virsh("schedinfo", name, "--config", "cpu_shares=777", "vcpu_quota=40000")
        self.d.virsh("memtune", name, "--config", "--hard-limit", "2097152",
                     "--min-guarantee", "65536")
        self.d.virsh("blkiotune", name, "--config", "--weight", "300")
        if dev:  # (a device weight in the config would fail the next start without BFQ)
            self.d.virsh("blkiotune", name, "--config", "--device-write-iops-sec", f"{dev},50")
        inactive = self.d.virsh("dumpxml", "--inactive", name).stdout
        for want in ("<shares>777</shares>", "<quota>40000</quota>",
                     "<hard_limit unit='KiB'>2097152</hard_limit>",
                     "<min_guarantee unit='KiB'>65536</min_guarantee>",
                     "<weight>300</weight>"):
            self.assertIn(want, inactive)
        if dev:
            self.assertIn(f"<path>{dev}</path>\n      <write_iops_sec>50</write_iops_sec>",
                          inactive)
        active = self.d.virsh("dumpxml", name).stdout
        for want in ("<shares>512</shares>", "<quota>30000</quota>",
                     "<emulator_quota>100000</emulator_quota>",
                     "<iothread_quota>5000</iothread_quota>",
                     "<hard_limit unit='KiB'>786432</hard_limit>", "<weight>500</weight>"):
            self.assertIn(want, active)
        config = {"sched": fields(self.d.virsh("schedinfo", name, "--config").stdout),
                  "mem": fields(self.d.virsh("memtune", name, "--config").stdout),
                  "blkio": fields(self.d.virsh("blkiotune", name, "--config").stdout)}
        self.assertEqual(config["sched"]["cpu_shares"], "777")
        self.assertEqual(config["sched"]["vcpu_period"], "0")
        self.assertEqual(config["mem"], {"hard_limit": "2097152", "soft_limit": "unlimited",
                                         "swap_hard_limit": "unlimited",
                                         "min_guarantee": "65536"})

        # kill -9 of the daemon, a new one on the same root: nothing changed
        self.d.kill9()
        self.d.start()
        self.assertEqual(live, {"sched": fields(self.d.virsh("schedinfo", name).stdout),
                                "mem": fields(self.d.virsh("memtune", name).stdout),
                                "blkio": fields(self.d.virsh("blkiotune", name).stdout)})
        self.assertEqual(config, {
            "sched": fields(self.d.virsh("schedinfo", name, "--config").stdout),
            "mem": fields(self.d.virsh("memtune", name, "--config").stdout),
            "blkio": fields(self.d.virsh("blkiotune", name, "--config").stdout)})
        # ... and the re-attached daemon still changes the kernel's values
        self.d.virsh("schedinfo", name, "--live", "cpu_shares=1024")
        if v1:
            self.assertEqual(cpu("cpu.shares"), "1024")

        self.d.virsh("destroy", name)
        self.assert_gone(dom_id, name)
        # The next start applies the config.
        dom_id = self.start(name)
        self.assertEqual(fields(self.d.virsh("schedinfo", name).stdout)["cpu_shares"], "777")
        if v1:
            self.assertEqual(cpu("cpu.shares"), "777")
            self.assertEqual(cpu("vcpu1", "cpu.cfs_quota_us"), "40000")
            if dev:
                throttle = self.group("blkio", dom_id, name, "blkio.throttle.write_iops_device")
                self.assertEqual(read(throttle), f"{majmin(dev)} 50")
        self.d.virsh("destroy", name)
        self.assert_gone(dom_id, name)

    # ---- errors --------------------------------------------------------------------

    def test_errors(self):
        name = f"terr{TAG}"
        self.define(name)
        not_running = "Requested operation is not valid: domain is not running"
        self.fails("schedinfo", name, "--live", "cpu_shares=100", message=not_running)
        self.fails("memtune", name, "--live", "--hard-limit", "1048576", message=not_running)
        self.fails("blkiotune", name, "--live", "--weight", "500", message=not_running)

        v1 = not cgroup_v2()
        shares = "2-262144 on cgroup v1" if v1 else "1-10000 on cgroup v2"
        weights = "100-1000 on cgroup v1" if v1 else "1-10000 on cgroup v2"
        self.fails("schedinfo", name, "--config", "cpu_shares=1",
                   message=f"invalid argument: value 1 of parameter 'cpu_shares' is out of "
                           f"range: {shares}")
        self.fails("schedinfo", name, "--config", "vcpu_period=999",
                   message="invalid argument: value 999 of parameter 'vcpu_period' is out of "
                           "range: 0 (unset) or 1000-1000000 (us)")
        self.fails("schedinfo", name, "--config", "global_quota=17592186044416",
                   message="invalid argument: value 17592186044416 of parameter "
                           "'global_quota' is out of range: 0 (unset), -1 (no limit) or "
                           "1000-17592186044415 (us)")
        self.fails("memtune", name, "--config", "--hard-limit", "2048", "--swap-hard-limit",
                   "1024", message="invalid argument: hard_limit (2048 KiB) must not be above "
                                   "swap_hard_limit (1024 KiB): the swap limit counts memory "
                                   "plus swap")
        self.fails("blkiotune", name, "--config", "--weight", "10001",
                   message=f"invalid argument: value 10001 of parameter 'weight' is out of "
                           f"range: {weights}")
        self.fails("blkiotune", name, "--config", "--device-read-iops-sec", "/dev/sda",
                   message="invalid argument: parameter 'device_read_iops_sec': device "
                           "'/dev/sda' has no valid value (expected '/dev/sda,100,/dev/sdb,200')")
        self.fails("schedinfo", name, "cpu_shares=100", readonly=True,
                   message="read only access prevents")
        self.fails("memtune", name, "--hard-limit", "1048576", readonly=True,
                   message="read only access prevents")

        # What virsh and python never send (they take names and types from a get first).
        uuid = bytes.fromhex(self.d.virsh("domuuid", name).stdout.strip().replace("-", ""))
        dom = virtd.xdr_string(name) + uuid + struct.pack(">i", -1)
        raw = virtd.RawClient(self.d.sock)
        self.addCleanup(raw.close)
        raw.open()

        def set_call(proc, *params):
            payload = dom + struct.pack(">I", len(params)) + b"".join(
                xdr_param(*p) for p in params) + struct.pack(">I", libvirt.VIR_DOMAIN_AFFECT_CONFIG)
            pkt = raw.call(proc, payload)
            self.assertEqual(pkt[4], virtd.ERROR)
            return virtd.decode_error(pkt[5])

        code, _, msg = set_call(PROC_SET_SCHEDULER_PARAMETERS_FLAGS, ("vcpu_shares", T_ULLONG, 5))
        self.assertEqual(code, libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED)
        self.assertEqual(msg, "argument unsupported: parameter 'vcpu_shares' is not supported "
                              "(known: cpu_shares, vcpu_period, vcpu_quota, emulator_period, "
                              "emulator_quota, global_period, global_quota, iothread_period, "
                              "iothread_quota)")
        code, _, msg = set_call(PROC_SET_SCHEDULER_PARAMETERS_FLAGS, ("vcpu_quota", T_ULLONG, 5000))
        self.assertEqual(code, libvirt.VIR_ERR_INVALID_ARG)
        self.assertEqual(msg, "invalid argument: parameter 'vcpu_quota' must be of type "
                              "'llong', not 'ullong'")
        code, _, msg = set_call(PROC_SET_MEMORY_PARAMETERS, ("hard_limit", T_LLONG, 1 << 20))
        self.assertEqual(msg, "invalid argument: parameter 'hard_limit' must be of type "
                              "'ullong', not 'llong'")
        code, _, msg = set_call(PROC_SET_BLKIO_PARAMETERS, ("weight", T_ULLONG, 500))
        self.assertEqual(msg, "invalid argument: parameter 'weight' must be of type 'uint', "
                              "not 'ullong'")
        code, _, msg = set_call(PROC_SET_BLKIO_PARAMETERS, ("device_weight", T_STRING,
                                                            "/dev/sda,1"))
        self.assertEqual(msg, f"invalid argument: value 1 (device '/dev/sda') of parameter "
                              f"'device_weight' is out of range: 0 (remove) or {weights}")

        # A get is either live or config (libvirt's client library checks that too).
        both = libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG
        pkt = raw.call(PROC_GET_MEMORY_PARAMETERS, dom + struct.pack(">iI", 4, both))
        self.assertEqual(pkt[4], virtd.ERROR)
        self.assertEqual(virtd.decode_error(pkt[5])[2], "invalid argument: flags 'live' and "
                                                        "'config' cannot be used together here")

        # A client without VIR_TYPED_PARAM_STRING_OKAY is never given the device lists.
        for flags, count in ((0, 1), (libvirt.VIR_TYPED_PARAM_STRING_OKAY, 6)):
            pkt = raw.call(PROC_GET_BLKIO_PARAMETERS, dom + struct.pack(">iI", 0, flags))
            self.assertEqual(pkt[4], virtd.OK)
            self.assertEqual(struct.unpack(">Ii", pkt[5]), (0, count))

        # Nothing of the above reached the definition.
        inactive = self.d.virsh("dumpxml", "--inactive", name).stdout
        for element in ("<cputune>", "<memtune>", "<blkiotune>"):
            self.assertNotIn(element, inactive)



class TunableEventTest(GuestWithCgroupsTestCase):
    """VIR_DOMAIN_EVENT_ID_TUNABLE, as libvirtd 9.0 sends it: one event per successful
    live change of vcpupin, emulatorpin, iothreadpin, schedinfo or blkdeviotune, holding
    what the call set (named VIR_DOMAIN_TUNABLE_*); nothing for a --config change, for
    memtune or for blkiotune. One running guest (it need not boot) for all of it."""

    def define(self, name, extra_devices=""):
        xml = virtd.guest_xml(name, memory_mib=128)
        xml = xml.replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu><iothreads>1</iothreads>")
        xml = xml.replace("<devices>", "<devices>" + extra_devices)
        path = os.path.join(self.d.root, f"{name}.xml")
        with open(path, "w") as f:
            f.write(xml)
        self.d.virsh("define", path)

    def remove_groups(self, name):
        for path in virtd.vm_cgroups_left(name):
            virtd.remove_cgroup(path)

    def listen(self, dom):
        """A new connection's TUNABLE callback for @dom (None: every domain): a queue of
        (domain name, params)."""
        conn = libvirt.open(self.d.uri)
        self.addCleanup(conn.close)
        got = queue.Queue()
        cb = conn.domainEventRegisterAny(
            conn.lookupByName(dom) if dom else None, libvirt.VIR_DOMAIN_EVENT_ID_TUNABLE,
            lambda _c, d, params, _o: got.put((d.name(), params)), None)
        self.addCleanup(conn.domainEventDeregisterAny, cb)
        return got

    @staticmethod
    def drain(q, settle=0.3):
        out = []
        while True:
            try:
                out.append(q.get(timeout=settle))
            except queue.Empty:
                return out

    def test_live_changes_are_announced(self):
        name, other = f"tev{TAG}", f"tevo{TAG}"
        image = os.path.join(self.d.root, "disk.img")
        with open(image, "wb") as f:
            f.truncate(MIB)
        self.define(name, "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                          f"<source file='{image}'/><target dev='vda' bus='virtio'/></disk>")
        self.define(other)
        self.d.virsh("start", name)
        self.addCleanup(self.remove_groups, name)
        self.addCleanup(self.d.virsh, "destroy", name, check=False, timeout=60)

        mine = self.listen(name)
        every = self.listen(None)
        others = self.listen(other)  # a domain filter: never hears of @name
        conn = libvirt.open(self.d.uri)
        self.addCleanup(conn.close)
        dom = conn.lookupByName(name)
        ncpus = conn.getCPUMap()[0]
        cpu0 = tuple(i == 0 for i in range(ncpus))
        every_cpu = tuple(True for _ in range(ncpus))
        all_list = "0" if ncpus == 1 else f"0-{ncpus - 1}"
        live, config = libvirt.VIR_DOMAIN_AFFECT_LIVE, libvirt.VIR_DOMAIN_AFFECT_CONFIG

        def expect(call, params):
            call()
            want = [(name, params)] if params is not None else []
            self.assertEqual(self.drain(mine), want)
            self.assertEqual(self.drain(every, settle=0.05), want)

        expect(lambda: dom.pinVcpuFlags(1, cpu0, live), {"cputune.vcpupin1": "0"})
        expect(lambda: dom.pinEmulator(every_cpu, live), {"cputune.emulatorpin": all_list})
        expect(lambda: dom.pinIOThread(1, cpu0, libvirt.VIR_DOMAIN_AFFECT_CURRENT),
               {"cputune.iothreadpin1": "0"})
        # cpu_shares always, a period or quota only when not 0 (0 leaves it as it is)
        expect(lambda: dom.setSchedulerParametersFlags(
            {"cpu_shares": 512, "vcpu_period": 100000, "vcpu_quota": 50000,
             "emulator_quota": -1, "global_period": 0}, live),
            {"cputune.cpu_shares": 512, "cputune.vcpu_period": 100000,
             "cputune.vcpu_quota": 50000, "cputune.emulator_quota": -1})
        # the disk as the caller named it and what was given, not the other limits
        expect(lambda: dom.setBlockIoTune("vda", {"read_bytes_sec": 1048576,
                                                  "write_iops_sec": 300}, live),
               {"blkdeviotune.disk": "vda", "blkdeviotune.read_bytes_sec": 1048576,
                "blkdeviotune.write_iops_sec": 300})
        expect(lambda: dom.setBlockIoTune(image, {"total_bytes_sec": 2097152}, live),
               {"blkdeviotune.disk": image, "blkdeviotune.total_bytes_sec": 2097152})
        # LIVE|CONFIG: one event, for the live part
        expect(lambda: dom.pinVcpuFlags(0, cpu0, live | config), {"cputune.vcpupin0": "0"})

        # Not announced: --config only, memtune, blkiotune, a failed call.
        expect(lambda: dom.pinVcpuFlags(1, every_cpu, config), None)
        expect(lambda: dom.pinEmulator(cpu0, config), None)
        expect(lambda: dom.pinIOThread(1, every_cpu, config), None)
        expect(lambda: dom.setSchedulerParametersFlags({"cpu_shares": 300}, config), None)
        expect(lambda: dom.setBlockIoTune("vda", {"total_iops_sec": 10}, config), None)
        expect(lambda: dom.setMemoryParameters({"hard_limit": 1048576}, live), None)
        expect(lambda: dom.setBlkioParameters({"weight": 500}, live), None)
        with self.assertRaises(libvirt.libvirtError):
            dom.pinVcpuFlags(7, cpu0, live)
        expect(lambda: None, None)
        self.assertEqual(self.drain(others, settle=0.05), [])

        # virsh event prints it (a change is repeated until virsh, once registered, sees
        # one).
        cmd = ["virsh", "-q", "-c", self.d.uri, "event", "--domain", name, "--event",
               "tunable", "--timeout", "20"]
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) as watcher:
            while watcher.poll() is None:
                dom.pinVcpuFlags(1, cpu0, live)
                time.sleep(0.1)
            out, err = watcher.communicate()
        self.assertEqual(watcher.returncode, 0, err)
        self.assertEqual(out, f"event 'tunable' for domain '{name}':\n"
                              "\tcputune.vcpupin1: 0\nevents received: 1\n")


if __name__ == "__main__":
    virtd.main()
