#!/usr/bin/python3
"""Side-by-side benchmark of virtd and the reference libvirtd.

What it measures: the same workload, through the same client library
(python3-libvirt), against both daemons in one run:

  - define N small diskless TCG domains (type='qemu'), time per domain
  - virDomainGetInfo round trip on one connection: median and p99
  - virDomainGetInfo calls/s on 1 connection and on 16 connections
    (16 threads, each with its own connection); on 1 connection also the CPU
    time per call of the daemon (all its threads) and of this client
  - the same three GetInfo figures through the C client (bench-getinfo, built
    from getinfo-client.c next to this script): libvirt's client library
    without Python. Python's interpreter lock lets one of 16 client threads
    run at a time, so the Python figure on 16 connections is bound by the
    client; the C client's 16 threads run in parallel
  - virConnectOpen + virConnectClose time
  - virConnectListAllDomains time with N domains defined, and the time to
    fetch the XML (virDomainGetXMLDesc) of all N
  - daemon RSS (VmRSS of the daemon process) with N domains defined
  - virtd start: exec -> first answered libvirt call (libvirt.open +
    getVersion), and exec -> first reply to a raw AUTH_LIST packet; restarts
    on one root, so the QEMU capability cache is warm after the first (cold)
    start, which is reported apart

and the VM start benchmark (issue 3), with START_VMS (20) diskless TCG
guests (type='qemu', 128 MiB, 1 vCPU, ACPI, one pty serial port, no disk, no
kernel: the guest sits in SeaBIOS), named benchvm-<pid>-<n>:

  - virDomainCreate, from the call to its return with the domain running:
    median and p90 over 15 starts of one domain (destroyed between starts,
    not timed), and the daemon's CPU time per start
  - the raw QEMU floor: exec of qemu-system-x86_64 with the argv virtd used
    (read back from virtd's domain log, monitor socket moved to a private
    path) until `cont` is acknowledged over QMP (connect, greeting,
    qmp_capabilities, cont): median and p90 of 15
  - START_VMS domains started at once (START_VMS threads, each with its own
    connection, released together): wall time from the first call to the
    last return; then the daemon's RSS with those START_VMS VMs running

Every ratio is "how many times better virtd is" (> 1 means virtd wins):
libvirtd/virtd for times and memory, virtd/libvirtd for throughput.

Both daemons run at the same time; after defining, every measurement runs in
rounds that alternate between them (libvirtd, virtd, libvirtd, ...), so a
busy moment of a shared machine hits both. Medians are over all samples.

The daemons:
  - virtd runs under a temporary root (`virtd --root TMP`), started and
    stopped by this script (by its pid).
  - libvirtd: if one already answers on /run/libvirt/libvirt-sock it is used
    as it is and left running; otherwise this script starts libvirtd (and
    virtlogd if needed) in new sessions and stops them by pid at the end.
    Domains defined on it are named bench-<pid>-<n>; all of them are
    undefined at the end, even when the run fails.

Domains started on either daemon are destroyed and undefined from a finally
block (also on Ctrl-C or SIGTERM); any QEMU of ours still alive after that
(found by its -name guest=benchvm-<pid>- / benchfloor-<pid>) is killed by pid.

How to run (as root, Debian's python3 with python3-libvirt):
    tests/bench/run                      # installs, builds, runs everything
    /usr/bin/python3 tests/bench/bench.py --virtd build/daemon/virtd
    /usr/bin/python3 tests/bench/bench.py --quick --skip-virtd
    /usr/bin/python3 tests/bench/bench.py --only start   # VM starts only
Options: --domains N (default 1000), --quick (N=100, fewer iterations),
--only calls|start (one part; default both), --skip-virtd / --skip-libvirtd,
--client PATH (the C client; default: tests/bench/bench-getinfo in the build
dir of --virtd), --json FILE (raw figures).
"""

import argparse
import json
import os
import platform
import shlex
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

import libvirt

REF_SOCK = "/run/libvirt/libvirt-sock"

# Wire constants for the raw AUTH_LIST probe (see docs/wire-facts).
REMOTE_PROGRAM = 0x20008086
PROC_AUTH_LIST = 66
TYPE_CALL, TYPE_REPLY = 0, 1

DOMAIN_XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <console type='pty'/>
  </devices>
</domain>
"""


# The VM start benchmark's guest: diskless, no kernel (it stays in SeaBIOS).
START_XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/></features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='pty'/>
  </devices>
</domain>
"""

QEMU = "/usr/bin/qemu-system-x86_64"

# The floor's argv when virtd's domain log cannot give one (--skip-virtd, or virtd
# failed): what virtd generated for START_XML with QEMU 7.2. {sock} is the monitor.
FLOOR_ARGV = [
    QEMU, "-name", "guest={name},debug-threads=on", "-S",
    "-machine", "pc-i440fx-7.2,usb=off,dump-guest-core=off,acpi=on", "-accel", "tcg",
    "-cpu", "qemu64", "-m", "size=131072k", "-overcommit", "mem-lock=off",
    "-smp", "1,sockets=1,dies=1,cores=1,threads=1,maxcpus=1",
    "-uuid", "6e51138a-b772-4f62-9cbf-34ff5525e014", "-no-user-config", "-nodefaults",
    "-chardev", "socket,id=charmonitor,path={sock},server=on,wait=off",
    "-mon", "chardev=charmonitor,id=monitor,mode=control", "-rtc", "base=utc",
    "-no-shutdown", "-boot", "strict=on", "-device", "piix3-usb-uhci,id=usb",
    "-chardev", "pty,id=charserial0",
    "-device", "isa-serial,id=serial0,chardev=charserial0,index=0", "-display", "none",
    "-device", "virtio-balloon-pci,id=balloon0", "-msg", "timestamp=on",
]


class Settings:
    """Sizes of the workload; --quick shrinks them to validate the script."""

    def __init__(self, quick, domains):
        self.domains = domains if domains else (100 if quick else 1000)
        self.rounds = 2 if quick else 10  # each daemon in turn, this many times
        self.latency_calls = 2000 if quick else 50000  # in total over the rounds
        self.throughput_seconds = 1.0 if quick else 10.0  # idem, per connection count
        self.threads = 16
        self.client = None  # the C client's path (set by main)
        self.open_close = 50 if quick else 300
        self.list_repeats = 4 if quick else 20
        self.xml_repeats = 1 if quick else 3
        self.start_repeats = 2 if quick else 7
        # VM starts: each daemon (and the floor) in turn, start_rounds times.
        self.start_rounds = 2 if quick else 3
        self.starts_per_round = 2 if quick else 5  # 15 starts each in all
        self.start_vms = 4 if quick else 20  # started at once
        self.concurrent_rounds = 1 if quick else 3


# ---------------------------------------------------------------- helpers


def uri_for(sock):
    return f"qemu:///system?socket={sock}"


def ms(seconds):
    return seconds * 1000.0


def percentile(values, fraction):
    ordered = sorted(values)
    index = min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))
    return ordered[index]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid):
    """User + system CPU time used so far by all threads of process pid."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raw_auth_list(sock, timeout=2.0):
    """Send one AUTH_LIST call; True once a reply comes back, False if nobody listens."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock)
        header = struct.pack(">IiiiIi", REMOTE_PROGRAM, 1, PROC_AUTH_LIST, TYPE_CALL, 1, 0)
        s.sendall(struct.pack(">I", 4 + len(header)) + header)
        data = b""
        while len(data) < 28:
            chunk = s.recv(65536)
            if not chunk:
                return False
            data += chunk
        _, prog, _, proc, mtype, serial, _ = struct.unpack(">IIiiiIi", data[:28])
        return prog == REMOTE_PROGRAM and proc == PROC_AUTH_LIST and mtype == TYPE_REPLY
    except (FileNotFoundError, ConnectionRefusedError, socket.timeout, OSError):
        return False
    finally:
        s.close()


def libvirt_answers(uri):
    """True once libvirt.open + getVersion succeed on uri."""
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError:
        return False
    try:
        conn.getVersion()
        return True
    except libvirt.libvirtError:
        return False
    finally:
        conn.close()


def pid_listening_on(path):
    """Pid of the process holding the listening UNIX socket bound to path, or None."""
    inodes = set()
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            fields = line.split()
            if len(fields) >= 8 and fields[7] == path and int(fields[3], 16) & 0x10000:
                inodes.add(fields[6])
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                if os.readlink(f"/proc/{entry}/fd/{fd}") in wanted:
                    return int(entry)
        except OSError:
            continue
    return None


def stop_process(proc, name):
    """SIGTERM by pid, then SIGKILL after 15 s."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        print(f"{name} (pid {proc.pid}) ignored SIGTERM; killing it", file=sys.stderr)
        proc.kill()
        proc.wait()


def wait_until_ready(proc, sock, mode, timeout=30.0):
    """Poll (every 0.5 ms) until the daemon answers; returns perf_counter() at that moment."""
    deadline = time.perf_counter() + timeout
    while True:
        if mode == "raw":
            if raw_auth_list(sock):
                return time.perf_counter()
        elif libvirt_answers(uri_for(sock)):
            return time.perf_counter()
        if proc.poll() is not None:
            raise RuntimeError(f"daemon exited with status {proc.returncode} before answering")
        if time.perf_counter() > deadline:
            raise RuntimeError(f"daemon did not answer on {sock} within {timeout:.0f} s")
        time.sleep(0.0005)


def log_tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


# ---------------------------------------------------------------- daemons


class Virtd:
    """virtd under a private temporary root."""

    name = "virtd"

    def __init__(self, binary):
        self.binary = os.path.abspath(binary)
        self.workdir = tempfile.mkdtemp(prefix="virtd-bench-")
        self.proc = None
        self.root = os.path.join(self.workdir, "root")  # kept across restarts
        self.log = None
        self.start_cold = []  # seconds, exec -> libvirt.open+getVersion, empty root
        self.start_libvirt = []  # idem, restart with the QEMU capability cache filled
        self.start_raw = []  # seconds, exec -> AUTH_LIST reply

    def _spawn(self, tag):
        self.log = os.path.join(self.workdir, f"virtd-{tag}.log")
        with open(self.log, "w") as log:
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                [self.binary, "--root", self.root],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return proc, t0

    def sock(self):
        return os.path.join(self.root, "run/libvirt/libvirt-sock")

    def measure_starts(self, repeats):
        """Start and stop virtd repeatedly on the same root, each start timed in one mode.
        The first start finds an empty root (cold: QEMU is probed on the first call that
        needs it); the later ones find the capability cache it wrote, like a restart."""
        runs = [("cold", "libvirt", self.start_cold)]
        for _ in range(repeats):
            runs += [("warm", "libvirt", self.start_libvirt), ("raw", "raw", self.start_raw)]
        for i, (tag, mode, results) in enumerate(runs):
            proc, t0 = self._spawn(f"start-{i}-{tag}")
            try:
                results.append(wait_until_ready(proc, self.sock(), mode) - t0)
            except RuntimeError as e:
                raise RuntimeError(f"{e}\n--- {self.log}:\n{log_tail(self.log)}")
            finally:
                stop_process(proc, "virtd")

    def start(self):
        self.proc, t0 = self._spawn("bench")
        try:
            wait_until_ready(self.proc, self.sock(), "libvirt")
        except RuntimeError as e:
            raise RuntimeError(f"{e}\n--- {self.log}:\n{log_tail(self.log)}")
        self.pid = self.proc.pid
        self.uri = uri_for(self.sock())

    def stop(self):
        if self.proc:
            stop_process(self.proc, "virtd")
        shutil.rmtree(self.workdir, ignore_errors=True)


class Libvirtd:
    """The reference libvirtd on the standard socket: reused if running, else started."""

    name = "libvirtd"

    def __init__(self):
        self.started = []  # (name, Popen) of what we started, stopped in reverse order
        self.start_libvirt = []
        self.start_raw = []
        self.uri = uri_for(REF_SOCK)

    def start(self):
        if raw_auth_list(REF_SOCK):
            self.pid = pid_listening_on(REF_SOCK)
            if self.pid is None:
                raise RuntimeError(f"a daemon answers on {REF_SOCK} but its pid was not found")
            print(f"libvirtd: using the running daemon (pid {self.pid})", file=sys.stderr)
            return
        for d in ("/var/log/libvirt", "/var/lib/libvirt", "/var/cache/libvirt", "/run/libvirt"):
            os.makedirs(d, exist_ok=True)
        if pid_listening_on("/run/libvirt/virtlogd-sock") is None:
            self.started.append(("virtlogd", subprocess.Popen(
                ["virtlogd"], stdin=subprocess.DEVNULL, start_new_session=True)))
        t0 = time.perf_counter()
        proc = subprocess.Popen(["libvirtd"], stdin=subprocess.DEVNULL, start_new_session=True)
        self.started.append(("libvirtd", proc))
        # One start only: first the raw probe, then the first libvirt call.
        self.start_raw.append(wait_until_ready(proc, REF_SOCK, "raw", timeout=120) - t0)
        self.start_libvirt.append(wait_until_ready(proc, REF_SOCK, "libvirt") - t0)
        self.pid = proc.pid
        print(f"libvirtd: started it (pid {self.pid})", file=sys.stderr)

    def stop(self):
        for name, proc in reversed(self.started):
            stop_process(proc, name)


# ---------------------------------------------------------------- workload


class Workload:
    """The measurements against one daemon. Each measure_* call is one round and adds
    samples; main() interleaves the rounds of the two daemons so that a busy moment of
    the machine hits both. Failures are kept per metric."""

    def __init__(self, daemon, settings, prefix):
        self.daemon = daemon
        self.s = settings
        self.prefix = prefix
        self.names = [f"{prefix}{i}" for i in range(settings.domains)]
        self.defined = []
        self.samples = {}  # metric -> list of numbers
        self.results = {}  # figures measured once
        self.errors = {}
        self.conn = None

    def step(self, metric, fn, *args):
        if metric in self.errors:
            return  # failed in an earlier round: report the first error only
        try:
            fn(*args)
        except (libvirt.libvirtError, RuntimeError, IndexError) as e:
            self.errors[metric] = str(e).strip()
            print(f"  {self.daemon.name}: {metric} FAILED: {e}", file=sys.stderr)

    def add(self, metric, values):
        self.samples.setdefault(metric, []).extend(values)

    def open(self):
        self.conn = libvirt.open(self.daemon.uri)
        self.results["rss_idle_kib"] = rss_kib(self.daemon.pid)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def define_some(self, count):
        """Define the next count domains of self.names."""
        start = len(self.defined)
        for name in self.names[start:start + count]:
            t0 = time.perf_counter()
            self.conn.defineXML(DOMAIN_XML.format(name=name))
            self.add("define_ms", [ms(time.perf_counter() - t0)])
            self.defined.append(name)

    def undefine_some(self, count):
        """Undefine count of the domains defined (timed; clean_up() does the rest)."""
        for name in self.defined[:count]:
            t0 = time.perf_counter()
            self.conn.lookupByName(name).undefine()
            self.add("undefine_ms", [ms(time.perf_counter() - t0)])
            self.defined.remove(name)

    def getinfo_latency(self, calls):
        dom = self.conn.lookupByName(self.names[0])
        for _ in range(100):
            dom.info()
        times = []
        for _ in range(calls):
            t0 = time.perf_counter_ns()
            dom.info()
            times.append(time.perf_counter_ns() - t0)
        self.add("getinfo_us", [t / 1000.0 for t in times])

    def calls_one(self, seconds):
        dom = self.conn.lookupByName(self.names[0])
        count = 0
        daemon_cpu, client_cpu = cpu_seconds(self.daemon.pid), time.process_time()
        t0 = time.perf_counter()
        deadline = t0 + seconds
        while time.perf_counter() < deadline:
            dom.info()
            count += 1
        self.add("calls_1", [count / (time.perf_counter() - t0)])
        self.add("calls_1_n", [count])
        self.add("daemon_cpu_s", [cpu_seconds(self.daemon.pid) - daemon_cpu])
        self.add("client_cpu_s", [time.process_time() - client_cpu])

    def c_client(self, *args):
        """Run the C client (bench-getinfo) with args; its stdout, or RuntimeError."""
        if not self.s.client:
            raise RuntimeError("no C client: build tests/bench/bench-getinfo")
        done = subprocess.run([self.s.client, *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip() or f"bench-getinfo exited {done.returncode}")
        return done.stdout

    def c_getinfo_latency(self, calls):
        out = self.c_client("latency", self.daemon.uri, self.names[0], str(calls))
        self.add("c_getinfo_us", [float(x) for x in out.split()])

    def c_rate(self, seconds, names):
        """calls/s of the C client with one thread and connection per name."""
        daemon_cpu = cpu_seconds(self.daemon.pid)
        out = self.c_client("rate", self.daemon.uri, f"{seconds:.3f}", *names)
        daemon_cpu = cpu_seconds(self.daemon.pid) - daemon_cpu
        fields = dict(item.split("=") for item in out.split())
        calls, span = int(fields["calls"]), float(fields["seconds"])
        return calls / span, calls, daemon_cpu, float(fields["client_cpu"])

    def c_calls_one(self, seconds):
        rate, calls, daemon_cpu, client_cpu = self.c_rate(seconds, self.names[:1])
        self.add("c_calls_1", [rate])
        self.add("c_calls_1_n", [calls])
        self.add("c_daemon_cpu_s", [daemon_cpu])
        self.add("c_client_cpu_s", [client_cpu])

    def c_calls_many(self, seconds):
        names = [self.names[i % len(self.names)] for i in range(self.s.threads)]
        self.add("c_calls_16", [self.c_rate(seconds, names)[0]])

    def calls_many(self, seconds):
        n = self.s.threads
        barrier = threading.Barrier(n + 1)
        counts, spans, errors = [0] * n, [None] * n, []

        def worker(i):
            conn = dom = None
            try:
                conn = libvirt.open(self.daemon.uri)
                dom = conn.lookupByName(self.names[i % len(self.names)])
                dom.info()
            except libvirt.libvirtError as e:
                errors.append(str(e))
            barrier.wait()
            try:
                if errors:
                    return
                t0 = time.perf_counter()
                deadline = t0 + seconds
                while time.perf_counter() < deadline:
                    dom.info()
                    counts[i] += 1
                spans[i] = (t0, time.perf_counter())
            except libvirt.libvirtError as e:
                errors.append(str(e))
            finally:
                if conn is not None:
                    conn.close()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        barrier.wait()
        for t in threads:
            t.join()
        if errors:
            raise RuntimeError(errors[0])
        begin = min(span[0] for span in spans)
        end = max(span[1] for span in spans)
        self.add("calls_16", [sum(counts) / (end - begin)])

    def open_close(self, repeats):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            conn = libvirt.open(self.daemon.uri)
            conn.close()
            times.append(time.perf_counter() - t0)
        self.add("open_close_ms", [ms(t) for t in times])

    def list_all(self, repeats):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            doms = self.conn.listAllDomains(0)
            times.append(time.perf_counter() - t0)
        self.add("list_all_ms", [ms(t) for t in times])
        self.results["list_all_count"] = len(doms)
        ours = sum(1 for d in doms if d.name().startswith(self.prefix))
        if ours != len(self.defined):
            raise RuntimeError(f"listAllDomains returned {ours} of our {len(self.defined)} domains")

    def xml_all(self, repeats):
        doms = [d for d in self.conn.listAllDomains(0) if d.name().startswith(self.prefix)]
        if not doms:
            raise RuntimeError("no domains to fetch the XML of")
        for _ in range(repeats):
            t0 = time.perf_counter()
            for d in doms:
                d.XMLDesc(0)
            self.add("xml_all_ms", [ms(time.perf_counter() - t0)])

    def rss(self):
        self.results["rss_kib"] = rss_kib(self.daemon.pid)

    def clean_up(self):
        """Undefine everything with our prefix, whatever the daemon lists or we recorded."""
        conn = libvirt.open(self.daemon.uri)
        try:
            names = set(self.defined)
            try:
                names |= {d.name() for d in conn.listAllDomains(0)
                          if d.name().startswith(self.prefix)}
            except libvirt.libvirtError as e:
                print(f"  {self.daemon.name}: listAllDomains for clean-up: {e}", file=sys.stderr)
            failures = []
            for name in sorted(names):
                try:
                    conn.lookupByName(name).undefine()
                except libvirt.libvirtError as e:
                    failures.append(f"{name}: {e}")
            if failures:
                raise RuntimeError(f"{len(failures)} domains not undefined, first: {failures[0]}")
        finally:
            conn.close()

    def figures(self):
        """The reported figures, keyed like ROWS."""
        out = dict(self.results)
        if "rss_kib" in out:
            out["rss_mib"] = out["rss_kib"] / 1024.0
        for prefix in ("", "c_"):
            lat = self.samples.get(f"{prefix}getinfo_us")
            if lat:
                out[f"{prefix}getinfo_median_us"] = statistics.median(lat)
                out[f"{prefix}getinfo_p99_us"] = percentile(lat, 0.99)
        defines = self.samples.get("define_ms")
        if defines:
            out["define_total_s"] = sum(defines) / 1000.0
        for key in ("define_ms", "undefine_ms", "calls_1", "calls_16", "c_calls_1",
                    "c_calls_16", "open_close_ms", "list_all_ms", "xml_all_ms"):
            if self.samples.get(key):
                out[key] = statistics.median(self.samples[key])
        for prefix in ("", "c_"):
            calls = sum(self.samples.get(f"{prefix}calls_1_n", []))
            if calls:
                for who in ("daemon", "client"):
                    spent = sum(self.samples[f"{prefix}{who}_cpu_s"])
                    out[f"{prefix}{who}_cpu_us"] = spent / calls * 1e6
        return out


def run_workloads(workloads, s):
    """Run each measurement in rounds that alternate between the daemons: define N,
    measure with N defined, then undefine them (also timed)."""
    chunk = -(-s.domains // s.rounds)  # domains defined (undefined) per round
    print("  define_ms ...", file=sys.stderr, flush=True)
    for _ in range(s.rounds):
        for w in workloads:
            w.step("define_ms", w.define_some, chunk)
    rounds = [
        ("getinfo_us", "getinfo_latency", s.latency_calls // s.rounds),
        ("calls_1", "calls_one", s.throughput_seconds / s.rounds),
        ("calls_16", "calls_many", s.throughput_seconds / s.rounds),
        ("c_getinfo_us", "c_getinfo_latency", s.latency_calls // s.rounds),
        ("c_calls_1", "c_calls_one", s.throughput_seconds / s.rounds),
        ("c_calls_16", "c_calls_many", s.throughput_seconds / s.rounds),
        ("open_close_ms", "open_close", max(1, s.open_close // s.rounds)),
        ("list_all_ms", "list_all", max(1, s.list_repeats // s.rounds)),
        ("xml_all_ms", "xml_all", 1),
    ]
    for metric, method, amount in rounds:
        print(f"  {metric} ...", file=sys.stderr, flush=True)
        count = s.xml_repeats if metric == "xml_all_ms" else s.rounds
        for _ in range(count):
            for w in workloads:
                w.step(metric, getattr(w, method), amount)
    for w in workloads:
        w.step("rss_mib", w.rss)
    print("  undefine_ms ...", file=sys.stderr, flush=True)
    for _ in range(s.rounds):
        for w in workloads:
            w.step("undefine_ms", w.undefine_some, chunk)


# ---------------------------------------------------------------- VM starts


def qemu_pids_named(tags):
    """Pids of qemu-system processes whose command line contains one of tags."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
        except OSError:
            continue
        if "qemu-system" in cmdline and any(tag in cmdline for tag in tags):
            pids.append(int(entry))
    return pids


def kill_pid(pid):
    """SIGKILL one pid (ours) and reap it if it is our child."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    for _ in range(200):  # up to 2 s for it to go away
        try:
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                return
        except ChildProcessError:  # not our child: wait until /proc forgets it
            if not os.path.exists(f"/proc/{pid}"):
                return
        time.sleep(0.01)


class VmStarts(Workload):
    """virDomainCreate against one daemon: sequential starts of one domain, and
    settings.start_vms domains started at once."""

    def __init__(self, daemon, settings, prefix):
        super().__init__(daemon, settings, prefix)
        self.names = [f"{prefix}{i}" for i in range(settings.start_vms)]
        self.threads = []  # the concurrent starters, joined before any clean-up

    def define_all(self):
        for name in self.names:
            self.conn.defineXML(START_XML.format(name=name))
            self.defined.append(name)

    def _start(self, dom):
        """One timed virDomainCreate (and the daemon's CPU time for it), checked running."""
        cpu0 = cpu_seconds(self.daemon.pid)
        t0 = time.perf_counter()
        dom.create()
        t1 = time.perf_counter()
        cpu1 = cpu_seconds(self.daemon.pid)
        state = dom.state()[0]
        if state != libvirt.VIR_DOMAIN_RUNNING:
            raise RuntimeError(f"{dom.name()} is in state {state} after create, not running")
        return t1 - t0, cpu1 - cpu0

    def warm_up(self):
        """One untimed start and destroy: the first may load or probe what later ones reuse."""
        dom = self.conn.lookupByName(self.names[0])
        self._start(dom)
        dom.destroy()

    def sequential(self, count):
        dom = self.conn.lookupByName(self.names[0])
        for _ in range(count):
            seconds, cpu = self._start(dom)
            self.add("create_ms", [ms(seconds)])
            self.add("create_cpu_ms", [ms(cpu)])
            t0 = time.perf_counter()
            dom.destroy()
            self.add("destroy_ms", [ms(time.perf_counter() - t0)])

    def concurrent(self):
        """start_vms threads, each with its own connection, call create at once; once all
        have returned (and the RSS is read) each destroys its domain (not timed)."""
        n = len(self.names)
        go = threading.Barrier(n + 1)  # all connected: start
        started = threading.Barrier(n + 1)  # all returned from create
        measured = threading.Event()  # checked and RSS read: destroy
        spans, errors = [None] * n, []

        def worker(i):
            conn = dom = None
            try:
                try:
                    conn = libvirt.open(self.daemon.uri)
                    dom = conn.lookupByName(self.names[i])
                except libvirt.libvirtError as e:
                    errors.append(str(e))
                    dom = None
                go.wait()
                if dom is not None:
                    t0 = time.perf_counter()
                    try:
                        dom.create()
                        spans[i] = (t0, time.perf_counter())
                    except libvirt.libvirtError as e:
                        errors.append(f"{self.names[i]}: {e}")
                started.wait()
                measured.wait()
                if spans[i] is not None:
                    dom.destroy()
            except (libvirt.libvirtError, threading.BrokenBarrierError) as e:
                errors.append(f"{self.names[i]}: {e}")
            finally:
                if conn is not None:
                    conn.close()

        self.threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        try:
            for t in self.threads:
                t.start()
            go.wait()
            started.wait()
            if errors:
                raise RuntimeError(f"{len(errors)} of {n} starts failed, first: {errors[0]}")
            running = [d.name() for d in
                       self.conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_RUNNING)
                       if d.name().startswith(self.prefix)]
            if len(running) != n:
                raise RuntimeError(f"{len(running)} of {n} domains running after the starts")
            self.add("concurrent_ms", [ms(max(s[1] for s in spans) - min(s[0] for s in spans))])
            self.add("concurrent_each_ms", [ms(s[1] - s[0]) for s in spans])
            self.add("rss_running_kib", [rss_kib(self.daemon.pid)])
        except BaseException:
            # Failure or Ctrl-C: wake every thread still waiting. Never on success: a
            # thread not yet woken from a passed barrier would see it broken.
            go.abort()
            started.abort()
            raise
        finally:
            measured.set()
            for t in self.threads:
                t.join()
            self.threads = []
        if errors:
            raise RuntimeError(f"destroy after the concurrent starts: {errors[0]}")

    def clean_up(self):
        """Destroy and undefine every domain with our prefix, then kill any QEMU of ours
        that is still alive (by pid) and undefine again."""
        for t in self.threads:
            t.join()
        conn = libvirt.open(self.daemon.uri)
        failures = []

        def sweep():
            names = set(self.defined)
            try:
                names |= {d.name() for d in conn.listAllDomains(0)
                          if d.name().startswith(self.prefix)}
            except libvirt.libvirtError as e:
                failures.append(f"listAllDomains: {e}")
            for name in sorted(names):
                try:
                    dom = conn.lookupByName(name)
                except libvirt.libvirtError:
                    continue  # gone already
                try:
                    if dom.isActive():
                        dom.destroy()
                    if dom.isPersistent():
                        dom.undefine()
                except libvirt.libvirtError as e:
                    failures.append(f"{name}: {e}")

        try:
            sweep()
            left = qemu_pids_named([f"guest={self.prefix}"])
            if left:
                print(f"  {self.daemon.name}: killing {len(left)} QEMU left running: {left}",
                      file=sys.stderr)
                for pid in left:
                    kill_pid(pid)
                time.sleep(0.5)  # let the daemon notice the monitor hang-up
                failures.clear()
                sweep()
            if failures:
                raise RuntimeError(f"clean-up: {len(failures)} failures, first: {failures[0]}")
            if isinstance(self.daemon, Libvirtd):  # its domain logs outlive the domains
                for name in self.names:
                    try:
                        os.unlink(f"/var/log/libvirt/qemu/{name}.log")
                    except OSError:
                        pass
        finally:
            conn.close()

    def figures(self):
        out = {}
        for key in ("create_ms", "concurrent_each_ms"):
            values = self.samples.get(key)
            if values:
                out[key] = statistics.median(values)
                out[key.replace("_ms", "_p90_ms")] = percentile(values, 0.90)
                out[key.replace("_ms", "_n")] = len(values)
        cpu = self.samples.get("create_cpu_ms")
        if cpu:
            out["create_cpu_ms"] = sum(cpu) / len(cpu)  # clock ticks are 10 ms: the mean
        for key in ("destroy_ms", "concurrent_ms"):
            if self.samples.get(key):
                out[key] = statistics.median(self.samples[key])
        if self.samples.get("concurrent_ms"):
            out["concurrent_all_ms"] = self.samples["concurrent_ms"]
        if self.samples.get("rss_running_kib"):
            out["rss_running_mib"] = statistics.median(self.samples["rss_running_kib"]) / 1024.0
        if "rss_idle_kib" in self.results:
            out["rss_before_mib"] = self.results["rss_idle_kib"] / 1024.0
        return out


def qmp_read(sock, buf, want):
    """Read QMP messages until one has key want; returns (message, rest of buffer)."""
    while True:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                msg = json.loads(line)
                if want in msg:
                    return msg, buf
                if "error" in msg:
                    raise RuntimeError(f"QMP error: {msg['error']}")
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("QEMU closed the QMP socket")
        buf += chunk


class QemuFloor:
    """The raw QEMU floor: exec of QEMU with virtd's argv, then QMP up to `cont`."""

    name = "QEMU floor"

    def __init__(self):
        self.workdir = tempfile.mkdtemp(prefix="qemu-floor-")
        self.tag = f"benchfloor-{os.getpid()}"
        self.argv = None  # with {sock} for the monitor path
        self.argv_source = None
        self.procs = []  # every QEMU started, killed by pid
        self.samples = {}
        self.errors = {}
        self.runs = 0
        self.lock = threading.Lock()

    add = Workload.add

    def step(self, metric, fn, *args):
        if metric in self.errors:
            return
        try:
            fn(*args)
        except (RuntimeError, OSError, ValueError) as e:
            self.errors[metric] = str(e).strip()
            print(f"  {self.name}: {metric} FAILED: {e}", file=sys.stderr)

    def set_argv(self, virtd_log):
        """virtd's argv for the domain of virtd_log (its last start), else FLOOR_ARGV."""
        argv = None
        try:
            with open(virtd_log) as f:
                text = f.read()
            at = text.rfind("starting domain '")
            if at >= 0:
                lines = []
                for line in text[at:].split("\n")[1:]:
                    if line.endswith("\\"):
                        lines.append(line[:-1])
                    else:
                        lines.append(line)
                        break
                argv = shlex.split(" ".join(lines))
        except (OSError, ValueError):
            argv = None
        if argv and argv[0].endswith(QEMU.rsplit("/", 1)[1]) and "-S" in argv:
            out, i, monitor = [], 0, False
            while i < len(argv):
                if argv[i] == "-chardev" and i + 1 < len(argv) and "id=charmonitor" in argv[i + 1]:
                    out += ["-chardev", "socket,id=charmonitor,path={sock},server=on,wait=off"]
                    monitor = True
                    i += 2
                elif argv[i] == "-name" and i + 1 < len(argv):
                    out += ["-name", "guest={name},debug-threads=on"]
                    i += 2
                else:
                    out.append(argv[i].replace("{", "{{").replace("}", "}}"))
                    i += 1
            if monitor:
                self.argv, self.argv_source = out, f"virtd's domain log ({virtd_log})"
                return
        self.argv, self.argv_source = list(FLOOR_ARGV), "built in (virtd's argv for the guest)"

    def once(self, keep=False):
        """One exec -> `cont` acknowledged, in seconds; the QEMU is killed at the end
        unless keep (then kill_all() does it)."""
        with self.lock:
            self.runs += 1
            sock_path = os.path.join(self.workdir, f"mon-{self.runs}.sock")
        proc = None
        argv = [a.format(sock=sock_path, name=self.tag) for a in self.argv]
        log = open(os.path.join(self.workdir, "qemu.log"), "a")
        s = None
        try:
            t0 = time.perf_counter()
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    start_new_session=True)
            with self.lock:
                self.procs.append(proc)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            while True:  # the monitor socket appears once QEMU has created it
                try:
                    s.connect(sock_path)
                    break
                except (FileNotFoundError, ConnectionRefusedError):
                    if proc.poll() is not None:
                        raise RuntimeError(f"QEMU exited with status {proc.returncode}:\n"
                                           f"{log_tail(log.name, 5)}")
                    if time.perf_counter() - t0 > 30:
                        raise RuntimeError("QEMU's monitor socket did not appear in 30 s")
                    time.sleep(0.0005)
            s.settimeout(30)
            buf = b""
            _, buf = qmp_read(s, buf, "QMP")
            s.sendall(b'{"execute":"qmp_capabilities"}\n')
            _, buf = qmp_read(s, buf, "return")
            s.sendall(b'{"execute":"cont"}\n')
            _, buf = qmp_read(s, buf, "return")
            elapsed = time.perf_counter() - t0
            return elapsed
        finally:
            if s is not None:
                s.close()
            log.close()
            if proc is not None and not keep:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
            try:
                os.unlink(sock_path)
            except OSError:
                pass

    def warm_up(self):
        self.once()

    def sequential(self, count):
        for _ in range(count):
            self.add("floor_ms", [ms(self.once())])

    def concurrent(self, n):
        """n QEMUs exec'd at once (n threads), each up to `cont`; all killed at the end."""
        barrier = threading.Barrier(n)
        spans, errors = [None] * n, []

        def worker(i):
            try:
                barrier.wait()
                t0 = time.perf_counter()
                self.once(keep=True)
                spans[i] = (t0, time.perf_counter())
            except (RuntimeError, OSError, ValueError) as e:
                errors.append(str(e))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            for t in threads:
                t.join()
            self.kill_all()
        if errors:
            raise RuntimeError(f"{len(errors)} of {n} failed, first: {errors[0]}")
        self.add("concurrent_ms", [ms(max(s[1] for s in spans) - min(s[0] for s in spans))])
        self.add("concurrent_each_ms", [ms(s[1] - s[0]) for s in spans])

    def kill_all(self):
        with self.lock:
            procs, self.procs = self.procs, []
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()

    def clean_up(self):
        self.kill_all()
        for pid in qemu_pids_named([f"guest={self.tag},"]):
            kill_pid(pid)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def figures(self):
        out = {}
        values = self.samples.get("floor_ms")
        if values:
            out["create_ms"] = statistics.median(values)
            out["create_p90_ms"] = percentile(values, 0.90)
            out["create_n"] = len(values)
        if self.samples.get("concurrent_ms"):
            out["concurrent_ms"] = statistics.median(self.samples["concurrent_ms"])
            out["concurrent_all_ms"] = self.samples["concurrent_ms"]
            out["concurrent_each_ms"] = statistics.median(self.samples["concurrent_each_ms"])
        return out


def run_vm_starts(vms, floor, s):
    """Define, warm up, then sequential starts in rounds (libvirtd, virtd, floor, ...),
    then the concurrent starts in rounds (libvirtd, virtd, ...)."""
    for w in vms:
        w.step("define", w.define_all)
        w.step("create_ms", w.warm_up)
    if floor:
        virtd = [w for w in vms if w.daemon.name == "virtd" and "create_ms" not in w.errors]
        floor.set_argv(os.path.join(virtd[0].daemon.root, "var/log/libvirt/qemu",
                                    virtd[0].names[0] + ".log") if virtd else "")
        floor.step("floor_ms", floor.warm_up)
    print(f"  VM starts, {s.start_rounds * s.starts_per_round} each ...",
          file=sys.stderr, flush=True)
    for _ in range(s.start_rounds):
        for w in vms:
            w.step("create_ms", w.sequential, s.starts_per_round)
        if floor:
            floor.step("floor_ms", floor.sequential, s.starts_per_round)
    print(f"  {s.start_vms} VMs started at once ...", file=sys.stderr, flush=True)
    for _ in range(s.concurrent_rounds):
        for w in vms:
            w.step("concurrent_ms", w.concurrent)
        if floor:
            floor.step("concurrent_ms", floor.concurrent, s.start_vms)


# ---------------------------------------------------------------- report

# (key, label, fmt, better, target text, target check on (virtd, libvirtd, ratio))
ROWS = [
    ("getinfo_median_us", "virDomainGetInfo round trip, median (us)", "{:.0f}", "lower",
     ">= 2x", lambda v, r, ratio: ratio >= 2),
    ("getinfo_p99_us", "virDomainGetInfo round trip, p99 (us)", "{:.0f}", "lower",
     ">= 2x", lambda v, r, ratio: ratio >= 2),
    ("calls_1", "GetInfo calls/s, 1 connection", "{:.0f}", "higher",
     ">= 2x", lambda v, r, ratio: ratio >= 2),
    ("calls_16", "GetInfo calls/s, 16 connections", "{:.0f}", "higher",
     ">= 2x", lambda v, r, ratio: ratio >= 2),
    ("daemon_cpu_us", "daemon CPU per GetInfo call, 1 connection (us)", "{:.1f}", "lower",
     "", None),
    ("client_cpu_us", "client CPU per GetInfo call (same client) (us)", "{:.1f}", "lower",
     "", None),
    ("c_getinfo_median_us", "C client: virDomainGetInfo round trip, median (us)", "{:.0f}",
     "lower", ">= 2x", lambda v, r, ratio: ratio >= 2),
    ("c_getinfo_p99_us", "C client: virDomainGetInfo round trip, p99 (us)", "{:.0f}",
     "lower", ">= 2x", lambda v, r, ratio: ratio >= 2),
    ("c_calls_1", "C client: GetInfo calls/s, 1 connection", "{:.0f}", "higher",
     ">= 2x", lambda v, r, ratio: ratio >= 2),
    ("c_calls_16", "C client: GetInfo calls/s, 16 connections", "{:.0f}", "higher",
     ">= 2x", lambda v, r, ratio: ratio >= 2),
    ("c_daemon_cpu_us", "C client: daemon CPU per GetInfo call, 1 connection (us)", "{:.1f}",
     "lower", "", None),
    ("c_client_cpu_us", "C client: client CPU per GetInfo call (us)", "{:.1f}", "lower",
     "", None),
    ("open_close_ms", "open + close (ms)", "{:.2f}", "lower", "", None),
    ("define_ms", "define, per domain (ms)", "{:.2f}", "lower", "", None),
    ("undefine_ms", "undefine, per domain (ms)", "{:.2f}", "lower", "", None),
    ("list_all_ms", "listAllDomains, N domains (ms)", "{:.2f}", "lower",
     "no slower", lambda v, r, ratio: ratio >= 1),
    ("xml_all_ms", "XMLDesc of all N domains (ms)", "{:.1f}", "lower",
     "no slower", lambda v, r, ratio: ratio >= 1),
    ("rss_mib", "daemon RSS with N domains (MiB)", "{:.1f}", "lower",
     "<= 1/3", lambda v, r, ratio: ratio >= 3),
    ("start_libvirt_ms", "exec -> first answered call, libvirt.open+getVersion (ms)", "{:.1f}",
     "lower", "<= 50 ms", lambda v, r, ratio: v <= 50),
    ("start_raw_ms", "exec -> first reply to raw AUTH_LIST (ms)", "{:.1f}", "lower", "", None),
    ("start_cold_ms", "same as the first, empty root: QEMU not yet probed (ms)", "{:.1f}",
     "lower", "", None),
]


def table(virtd, ref, virtd_errors, virtd_failed):
    lines = [
        "| metric | virtd | libvirtd | ratio | target | met? |",
        "|---|---:|---:|---:|---|---|",
    ]
    for key, label, fmt, better, target, check in ROWS:
        v, r = virtd.get(key), ref.get(key)
        failed = (virtd_failed or key in virtd_errors
                  or key.startswith("getinfo") and "getinfo_us" in virtd_errors
                  or key.startswith("c_getinfo") and "c_getinfo_us" in virtd_errors
                  or key.startswith("start") and "start_libvirt_ms" in virtd_errors)
        vs = fmt.format(v) if v is not None else ("FAIL" if failed else "n/a")
        rs = fmt.format(r) if r is not None else "n/a"
        ratio = None
        if v is not None and r is not None and v > 0 and r > 0:
            ratio = r / v if better == "lower" else v / r
        ratio_s = f"{ratio:.2f}x" if ratio is not None else "-"
        met = ""
        if check:
            if v is None:
                met = "no" if failed else "n/a"
            elif ratio is None and key != "start_libvirt_ms":
                met = "?"
            else:
                met = "yes" if check(v, r, ratio) else "no"
        lines.append(f"| {label} | {vs} | {rs} | {ratio_s} | {target or '-'} | {met or '-'} |")
    return "\n".join(lines)


def start_table(v, r, f, n_vms, errs):
    """The VM start table: virtd, libvirtd, the QEMU floor and the two ratios."""
    def cell(d, key, fmt, name):
        if d.get(key) is not None:
            return fmt.format(d[key])
        return "FAIL" if errs.get(name) else "n/a"

    def ratio(a, b):
        return f"{a / b:.2f}x" if a and b else "-"

    rows = [
        ("create_ms", "virDomainCreate -> running, median (ms)", "{:.1f}", True),
        ("create_p90_ms", "virDomainCreate -> running, p90 (ms)", "{:.1f}", True),
        ("create_cpu_ms", "daemon CPU per start, mean (ms)", "{:.1f}", False),
        ("destroy_ms", "virDomainDestroy, median, not in the start time (ms)", "{:.1f}", False),
        ("concurrent_ms", f"{n_vms} VMs started at once, wall time (ms)", "{:.0f}", True),
        ("concurrent_each_ms", f"one start among {n_vms} at once, median (ms)", "{:.0f}",
         True),
        ("rss_running_mib", f"daemon RSS with {n_vms} VMs running (MiB)", "{:.1f}", False),
    ]
    lines = [
        "| metric | virtd | libvirtd | QEMU floor | libvirtd/virtd | virtd/floor |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, label, fmt, has_floor in rows:
        vs = cell(v, key, fmt, "virtd")
        rs = cell(r, key, fmt, "libvirtd")
        fs = cell(f, key, fmt, "floor") if has_floor else "-"
        vf = ratio(v.get(key), f.get(key)) if has_floor else "-"
        lines.append(f"| {label} | {vs} | {rs} | {fs} | {ratio(r.get(key), v.get(key))} "
                     f"| {vf} |")
    targets = []
    vm, rm, fm = v.get("create_ms"), r.get("create_ms"), f.get("create_ms")
    if vm and fm:
        targets.append(f"virtd within 1.5x of the floor: {vm / fm:.2f}x, "
                       f"{'met' if vm / fm <= 1.5 else 'NOT met'}")
    if vm and rm:
        targets.append(f"at least 5x faster than libvirtd: {rm / vm:.2f}x, "
                       f"{'met' if rm / vm >= 5 else 'NOT met'}")
    return "\n".join(lines) + ("\n\nTargets (medians): " + "; ".join(targets) if targets else "")


def machine():
    cpu = "unknown cpu"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/cpuinfo") as f:
        flags = f.read()
    hw = "vmx" in flags or "svm" in flags
    kvm = ("/dev/kvm present" if os.path.exists("/dev/kvm") else "no /dev/kvm") + (
        "" if hw else ", no vmx/svm cpu flag")
    lib = libvirt.getVersion()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} cpus ({cpu}), {kvm}, "
            f"load average {load}, "
            f"kernel {platform.release()}, libvirt client "
            f"{lib // 1000000}.{lib // 1000 % 1000}.{lib % 1000}")


# ---------------------------------------------------------------- main


def start_daemons(daemons, settings, prefix, time_starts=True):
    """Start each daemon; returns (workloads of those that answer, {name: error})."""
    workloads, failed = [], {}
    for d in daemons:
        start_error = None
        try:
            if isinstance(d, Virtd) and time_starts:
                print("  virtd: start timing", file=sys.stderr, flush=True)
                try:
                    d.measure_starts(settings.start_repeats)
                except RuntimeError as e:
                    start_error = str(e).strip()
                    print(f"  virtd: start timing FAILED: {e}", file=sys.stderr)
            d.start()
            w = Workload(d, settings, prefix)
            w.open()
        except (libvirt.libvirtError, RuntimeError) as e:
            failed[d.name] = str(e).strip()
            print(f"{d.name}: {e}", file=sys.stderr)
            continue
        if start_error:
            w.errors["start_libvirt_ms"] = start_error
            w.errors["start_raw_ms"] = "(same as start_libvirt_ms)"
        workloads.append(w)
    return workloads, failed


def daemon_figures(daemon, workload):
    out = workload.figures() if workload else {}
    if daemon and daemon.start_libvirt:
        out["start_libvirt_ms"] = ms(statistics.median(daemon.start_libvirt))
    if daemon and getattr(daemon, "start_cold", None):
        out["start_cold_ms"] = ms(statistics.median(daemon.start_cold))
    if daemon and daemon.start_raw:
        out["start_raw_ms"] = ms(statistics.median(daemon.start_raw))
    return out


def c_client_path(args):
    """The C client's path: --client, or next to --virtd's build dir; None if missing."""
    path = args.client or os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(args.virtd))), "tests", "bench", "bench-getinfo")
    if os.access(path, os.X_OK):
        return path
    print(f"no C client at {path}: its rows are skipped", file=sys.stderr)
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--virtd", default="build/daemon/virtd", help="path of the virtd binary")
    parser.add_argument("--domains", type=int, default=0, help="domains to define (1000)")
    parser.add_argument("--quick", action="store_true", help="small run to validate the script")
    parser.add_argument("--skip-virtd", action="store_true")
    parser.add_argument("--skip-libvirtd", action="store_true")
    parser.add_argument("--only", choices=("calls", "start"),
                        help="run one part only: calls (define, GetInfo, ..., daemon start) "
                             "or start (VM starts); default both")
    parser.add_argument("--client", help="the C client (default: tests/bench/bench-getinfo "
                                         "in the build dir of --virtd)")
    parser.add_argument("--json", help="also write the raw figures to this file")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench.py runs the daemons in system mode: run it as root")

    settings = Settings(args.quick, args.domains)
    settings.client = c_client_path(args)
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    # SIGTERM unwinds like Ctrl-C, so the finally blocks undefine and stop what we started.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))

    where = machine()
    print(f"machine: {where}", file=sys.stderr)
    print(f"N = {settings.domains} domains", file=sys.stderr)
    started = time.perf_counter()
    prefix = f"bench-{os.getpid()}-"

    daemons = {}
    failed = {}
    if not args.skip_libvirtd:
        daemons["libvirtd"] = Libvirtd()
    if not args.skip_virtd:
        if os.access(args.virtd, os.X_OK):
            daemons["virtd"] = Virtd(args.virtd)
        else:
            failed["virtd"] = f"no virtd binary at {args.virtd}"
    do_calls = args.only in (None, "calls")
    do_starts = args.only in (None, "start")
    workloads, vms, floor, vm_seconds = [], [], None, None
    try:
        workloads, start_failed = start_daemons(list(daemons.values()), settings, prefix,
                                                time_starts=do_calls)
        failed.update(start_failed)
        if do_calls:
            run_workloads(workloads, settings)
        if do_starts:
            vm_started = time.perf_counter()
            print("  VM starts: defining, warming up ...", file=sys.stderr, flush=True)
            floor = QemuFloor()
            for w in workloads:
                vm = VmStarts(w.daemon, settings, f"benchvm-{os.getpid()}-")
                vms.append(vm)
                vm.step("define", vm.open)
            run_vm_starts([vm for vm in vms if vm.conn is not None], floor, settings)
            vm_seconds = time.perf_counter() - vm_started
    finally:
        for vm in vms:
            vm.step("clean_up", vm.clean_up)
            vm.close()
        if floor:
            floor.clean_up()
        for w in workloads:
            w.step("clean_up", w.clean_up)
            w.close()
        for d in daemons.values():
            d.stop()

    by_name = {w.daemon.name: w for w in workloads}
    fig = {n: daemon_figures(daemons.get(n), by_name.get(n)) for n in ("virtd", "libvirtd")}
    errs = {n: (by_name[n].errors if n in by_name else {}) for n in ("virtd", "libvirtd")}
    vm_by_name = {vm.daemon.name: vm for vm in vms}
    start_fig = {n: (vm_by_name[n].figures() if n in vm_by_name else {})
                 for n in ("virtd", "libvirtd")}
    start_errs = {n: (vm_by_name[n].errors if n in vm_by_name else {})
                  for n in ("virtd", "libvirtd")}
    start_fig["floor"] = floor.figures() if floor else {}
    start_errs["floor"] = floor.errors if floor else {}

    print()
    print(f"Machine: {where}")
    print(f"N = {settings.domains} domains{' (quick run)' if args.quick else ''}; "
          f"ratio = how many times better virtd is (> 1: virtd better); "
          f"run took {time.perf_counter() - started:.0f} s")
    if do_calls:
        print()
        print(table(fig["virtd"], fig["libvirtd"], errs["virtd"], "virtd" in failed))
    if do_starts:
        print()
        print(f"VM starts: diskless TCG guest (128 MiB, 1 vCPU), "
              f"{settings.start_rounds * settings.starts_per_round} starts each, "
              f"{settings.start_vms} at once x {settings.concurrent_rounds}"
              + (f", took {vm_seconds:.0f} s" if vm_seconds else "")
              + f"; floor argv: {floor.argv_source if floor else 'n/a'}")
        print()
        print(start_table(start_fig["virtd"], start_fig["libvirtd"], start_fig["floor"],
                          settings.start_vms,
                          {n: failed.get(n) or e for n, e in start_errs.items()}))
    notes = []
    for name, err in failed.items():
        notes.append(f"- {name} did not run: {err}")
    for name in ("virtd", "libvirtd"):
        for metric, msg in errs[name].items():
            notes.append(f"- {name} {metric} failed: {msg}")
    for name in ("virtd", "libvirtd", "floor"):
        for metric, msg in start_errs[name].items():
            notes.append(f"- {name} VM start {metric} failed: {msg}")
    for name in ("virtd", "libvirtd", "floor"):
        f = start_fig[name]
        if "concurrent_all_ms" in f:
            notes.append(f"- {name} {settings.start_vms} at once, each round (ms): "
                         + ", ".join(f"{x:.0f}" for x in f["concurrent_all_ms"])
                         + (f"; single starts p90 {f['concurrent_each_p90_ms']:.0f} ms"
                            if "concurrent_each_p90_ms" in f else ""))
    for name in ("virtd", "libvirtd"):
        f = fig[name]
        if "rss_idle_kib" in f:
            notes.append(f"- {name} RSS before defining: {f['rss_idle_kib'] / 1024:.1f} MiB")
        if "list_all_count" in f:
            notes.append(f"- {name} listAllDomains returned {f['list_all_count']} domains")
        if "define_total_s" in f:
            notes.append(f"- {name} defining all {settings.domains} took "
                         f"{f['define_total_s']:.2f} s")
    if notes:
        print()
        print("\n".join(notes))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"machine": where, "domains": settings.domains, "quick": args.quick,
                       "figures": fig, "errors": errs, "failed": failed,
                       "vm_start": {"figures": start_fig, "errors": start_errs,
                                    "samples": {n: vm_by_name[n].samples for n in vm_by_name},
                                    "floor_samples": floor.samples if floor else {},
                                    "floor_argv": floor.argv if floor else None}},
                      out, indent=2)
    any_start_error = any(start_errs.values())
    return 1 if (failed or errs["virtd"] or errs["libvirtd"] or any_start_error) else 0


if __name__ == "__main__":
    sys.exit(main())
