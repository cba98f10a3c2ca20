"""Test fixture: a real virtd under a temporary --root, and ways to talk to it.

Every daemon a test starts is stopped by its pid, and its root is removed, so a test leaves
the host as it found it. Used by the e2e tests (run with Debian's /usr/bin/python3 so that
python3-libvirt is importable).
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest

BUILDDIR = os.environ.get("VIRTD_BUILDDIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SRCDIR = os.environ.get("VIRTD_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
VIRTD = os.path.join(BUILDDIR, "daemon", "virtd")
DATA = os.path.join(SRCDIR, "tests", "data")

# Wire facts used by raw-protocol tests.
PROGRAM_REMOTE = 0x20008086
PROGRAM_QEMU = 0x20008087
PROGRAM_KEEPALIVE = 0x6B656570
CALL, REPLY, MESSAGE = 0, 1, 2
OK, ERROR = 0, 1


class Daemon:
    """One virtd process under its own temporary root."""

    def __init__(self, config="", root=None):
        self.root = root or tempfile.mkdtemp(prefix="virtd-e2e-", dir="/tmp")
        self.owns_root = root is None
        self.config = config
        self.proc = None
        self.log_path = os.path.join(self.root, "virtd.stderr")

    @property
    def sock(self):
        return os.path.join(self.root, "run", "libvirt", "libvirt-sock")

    @property
    def sock_ro(self):
        return os.path.join(self.root, "run", "libvirt", "libvirt-sock-ro")

    @property
    def config_dir(self):
        return os.path.join(self.root, "etc", "libvirt", "qemu")

    @property
    def uri(self):
        return f"qemu:///system?socket={self.sock}"

    @property
    def uri_ro(self):
        return f"qemu:///system?socket={self.sock_ro}"

    def start(self, extra_args=(), wait=True):
        os.makedirs(os.path.join(self.root, "etc", "libvirt"), exist_ok=True)
        conf = os.path.join(self.root, "etc", "libvirt", "virtd.conf")
        with open(conf, "w") as f:
            f.write(self.config)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([VIRTD, "--root", self.root, *extra_args],
                                     stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"virtd exited with {self.proc.returncode}: {self.stderr()}")
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(self.sock)
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("virtd did not start listening in time: " + self.stderr())

    def stderr(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Stop the daemon by its pid; returns its exit status."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def qemu_pids(self):
        """Pids of the QEMUs this daemon started (their monitor socket is under our root)."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    args = f.read().split(b"\0")
            except OSError:
                continue
            if any(self.root.encode() + b"/run/" in a for a in args) and \
                    any(b"qemu-system" in a for a in args[:1]):
                pids.append(int(entry))
        return pids

    def kill_qemus(self):
        """VMs outlive the daemon by design: a test ends them itself, by pid, and removes
        the cgroups that no daemon will remove any more."""
        pids = self.qemu_pids()
        groups = set()
        for pid in pids:
            groups |= vm_cgroup_dirs(pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while self.qemu_pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        for group in groups:
            remove_cgroup(group)

    def cleanup(self):
        self.stop()
        self.kill_qemus()
        if self.owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def virsh(self, *args, readonly=False, check=True, timeout=30, quiet=True, uri=None):
        """Run real virsh against this daemon; returns CompletedProcess (text).
        quiet=False drops -q (to see virsh's own messages); uri overrides the socket URI."""
        uri = uri or (self.uri_ro if readonly else self.uri)
        cmd = ["virsh", *(["-q"] if quiet else []), "-c", uri, *args]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and res.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr}")
        return res


class DaemonTestCase(unittest.TestCase):
    """A test case with a fresh daemon per test (self.d)."""

    config = "keepalive_interval = 5\nkeepalive_count = 5\n"

    def setUp(self):
        self.d = Daemon(self.config).start()
        self.addCleanup(self.d.cleanup)

    def define(self, name, uuid=None, extra=""):
        xml = domain_xml(name, uuid, extra)
        path = os.path.join(self.d.root, f"{name}.xml")
        with open(path, "w") as f:
            f.write(xml)
        self.d.virsh("define", path)
        return path


def domain_xml(name, uuid=None, extra=""):
    uuid_el = f"<uuid>{uuid}</uuid>" if uuid else ""
    return (f"<domain type='qemu'><name>{name}</name>{uuid_el}"
            "<memory unit='MiB'>128</memory><vcpu>1</vcpu>"
            f"<os><type arch='x86_64'>hvm</type></os>{extra}</domain>")


class RawClient:
    """A hand-rolled protocol client for what real clients never send (garbage, raw calls)."""

    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.serial = 0

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, prog, proc, payload=b"", mtype=CALL, serial=None, status=OK):
        if serial is None:
            self.serial += 1
            serial = self.serial
        header = struct.pack(">IIiiIi", prog, 1, proc, mtype, serial, status)
        self.sock.sendall(struct.pack(">I", 4 + len(header) + len(payload)) + header + payload)
        return serial

    def recv(self):
        """One packet: (prog, proc, type, serial, status, payload)."""
        length = struct.unpack(">I", self._read(4))[0]
        body = self._read(length - 4)
        prog, _vers, proc, mtype, serial, status = struct.unpack(">IIiiIi", body[:24])
        return prog, proc, mtype, serial, status, body[24:]

    def recv_reply(self, serial):
        """Skip keepalive and events until the reply to @serial."""
        while True:
            pkt = self.recv()
            if pkt[2] == REPLY and pkt[3] == serial:
                return pkt

    def call(self, proc, payload=b"", prog=PROGRAM_REMOTE):
        serial = self.send(prog, proc, payload)
        return self.recv_reply(serial)

    def open(self, name="qemu:///system", flags=0):
        pkt = self.call(1, xdr_opt_string(name) + struct.pack(">I", flags))
        if pkt[4] != OK:
            raise AssertionError("CONNECT_OPEN failed: " + decode_error(pkt[5])[2])

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("daemon closed the connection")
            buf += chunk
        return buf


def xdr_string(s):
    data = s.encode()
    return struct.pack(">I", len(data)) + data + b"\0" * (-len(data) % 4)


def xdr_opt_string(s):
    return struct.pack(">I", 0) if s is None else struct.pack(">I", 1) + xdr_string(s)


def decode_error(payload):
    """(code, domain, message) of a remote_error payload."""
    code, domain, has_msg = struct.unpack(">iiI", payload[:12])
    msg = None
    if has_msg:
        n = struct.unpack(">I", payload[12:16])[0]
        msg = payload[16:16 + n].decode()
    return code, domain, msg


def main():
    unittest.main(verbosity=2)


# ---- real QEMU guests (tests/guest/build-guest) -----------------------------------------

import re as _re  # noqa: E402  (appended helpers keep their imports with them)
import select as _select  # noqa: E402
import tty as _tty  # noqa: E402

_GUEST = None


def guest():
    """The test guest's facts (KERNEL, INITRD, CMDLINE, READY, KVER) from build-guest, built
    or looked up once per process. Raises unittest.SkipTest when QEMU or the guest is not
    available on this machine."""
    global _GUEST
    if _GUEST is None:
        if not shutil.which("qemu-system-x86_64"):
            raise unittest.SkipTest("qemu-system-x86_64 is not installed")
        script = os.path.join(SRCDIR, "tests", "guest", "build-guest")
        res = subprocess.run([script], capture_output=True, text=True, timeout=600)
        if res.returncode != 0:
            raise unittest.SkipTest("build-guest failed: " + res.stderr.strip())
        _GUEST = dict(line.split("=", 1) for line in res.stdout.splitlines() if "=" in line)
    return _GUEST


def guest_xml(name, memory_mib=256, uuid=None, dom_type="qemu", kernel=None, extra=""):
    """Domain XML booting the test guest directly from its kernel and initramfs, with ACPI
    (the power button needs it) and a pty serial console."""
    g = guest()
    uuid_el = f"<uuid>{uuid}</uuid>" if uuid else ""
    return (f"<domain type='{dom_type}'><name>{name}</name>{uuid_el}"
            f"<memory unit='MiB'>{memory_mib}</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64'>hvm</type>"
            f"<kernel>{kernel or g['KERNEL']}</kernel><initrd>{g['INITRD']}</initrd>"
            f"<cmdline>{g['CMDLINE']}</cmdline></os>"
            "<features><acpi/></features>"
            "<devices><serial type='pty'/><console type='pty'/></devices>"
            f"{extra}</domain>")


def wait_for(predicate, timeout, interval=0.05):
    """Poll @predicate until it returns something true; returns that, or the last false
    value when @timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def process_alive(pid):
    """True when @pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def process_state(pid):
    """The one-letter state of @pid from /proc (R, S, T, Z, ...), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][0]
    except (OSError, IndexError):
        return None


def status_file(daemon, name):
    """Path of the live status file of domain @name under @daemon's root."""
    return os.path.join(daemon.root, "run", "libvirt", "qemu", f"{name}.xml")


def domain_log(daemon, name):
    return os.path.join(daemon.root, "var", "log", "libvirt", "qemu", f"{name}.log")


def qemu_pid(daemon, name):
    """Pid of the QEMU running domain @name, found by its command line (-name guest=NAME,...)
    among the QEMUs of @daemon's root; None when there is none."""
    want = f"guest={name},".encode()
    for pid in daemon.qemu_pids():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if any(a.startswith(want) for a in f.read().split(b"\0")):
                    return pid
        except OSError:
            pass
    return None


def serial_pty(daemon, name, timeout=10.0):
    """The host pty of domain @name's serial console: `virsh ttyconsole`, or (older virtd)
    the 'char device redirected to /dev/pts/N' line QEMU writes to the domain log."""
    res = daemon.virsh("ttyconsole", name, check=False)
    if res.returncode == 0 and res.stdout.strip().startswith("/dev/"):
        return res.stdout.strip()

    def from_log():
        try:
            with open(domain_log(daemon, name), errors="replace") as f:
                found = _re.findall(r"char device redirected to (/dev/pts/\d+) "
                                    r"\(label charserial0\)", f.read())
            return found[-1] if found else None
        except OSError:
            return None
    return wait_for(from_log, timeout)


class PtyReader:
    """Reads what a guest writes to a host pty (the slave side QEMU's pty chardev made),
    in raw mode so that nothing is echoed back to the guest."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
        _tty.setraw(self.fd)
        self.text = ""
        self.pos = 0

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def write(self, s):
        os.write(self.fd, s.encode())

    def expect(self, pattern, timeout):
        """The match of regex @pattern in what arrived after the last match, waiting up to
        @timeout seconds; None when it did not come."""
        rx = _re.compile(pattern, _re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.text, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = _select.select([self.fd], [], [], min(left, 0.5))
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except BlockingIOError:
                    continue
                except OSError:  # EIO: QEMU closed its side
                    return None
                self.text += data.decode("utf-8", "replace").replace("\r", "")


def vm_cgroup(controller, dom_id, name, root="/sys/fs/cgroup"):
    """The directory of running domain @name's (id @dom_id) group in @controller's v1
    hierarchy, or in the unified hierarchy when the host has no v1 @controller mount.
    Names are simple in the tests: no escaping."""
    group = f"machine/qemu-{dom_id}-{name}.libvirt-qemu"
    v1 = os.path.join(root, controller)
    if os.path.ismount(v1):
        return os.path.join(v1, group)
    return os.path.join(root, group)


def usable_cgroups(controller="cpu"):
    """Whether the daemon can make VM groups in @controller's hierarchy here (as root, with
    a writable machine/ parent's parent)."""
    base = os.path.dirname(os.path.dirname(vm_cgroup(controller, 0, "probe")))
    return os.geteuid() == 0 and os.access(base, os.W_OK)


def read_ids(path):
    """The pids/tids listed in a cgroup file (cgroup.procs, tasks, cgroup.threads)."""
    try:
        with open(path) as f:
            return {int(x) for x in f.read().split()}
    except OSError:
        return set()


def _cgroup_mounts():
    """{controllers: mount point} of the cgroup hierarchies: v1 keys are the sorted
    controller names of the mount ("cpu", "name=systemd"), the v2 key is ""."""
    mounts = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            fstype, options = fields[sep + 1], fields[sep + 3]
            if fstype == "cgroup2":
                mounts[""] = fields[4]
            elif fstype == "cgroup":
                names = [o for o in options.split(",")
                         if o not in ("rw", "ro") and "=" not in o or o.startswith("name=")]
                mounts[",".join(sorted(names))] = fields[4]
    return mounts


def vm_cgroup_dirs(pid):
    """The directories of the VM group QEMU @pid is in (qemu-ID-NAME.libvirt-qemu, or the
    machined scope), in every hierarchy; empty when it is in none."""
    dirs = set()
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return dirs
    mounts = _cgroup_mounts()
    for line in lines:
        _, controllers, path = line.split(":", 2)
        parts = path.split("/")
        for i, part in enumerate(parts):
            if part.endswith(".libvirt-qemu") or \
                    (part.startswith("machine-qemu") and part.endswith(".scope")):
                mount = mounts.get(",".join(sorted(controllers.split(","))) if controllers
                                   else "")
                if mount:
                    dirs.add(mount + "/".join(parts[:i + 1]))
                break
    return dirs


def remove_cgroup(path, timeout=5.0):
    """rmdir @path and its sub-groups, bottom up (the kernel may need a moment after the
    last process went)."""
    deadline = time.monotonic() + timeout
    for dirpath, _, _ in sorted(os.walk(path), key=lambda w: -len(w[0])):
        while True:
            try:
                os.rmdir(dirpath)
                break
            except FileNotFoundError:
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.02)


def vm_cgroups_left(name, root="/sys/fs/cgroup"):
    """The groups of domain @name (any id) still on the host, in any hierarchy."""
    import glob
    return sorted(glob.glob(f"{root}/*/machine/qemu-*-{name}.libvirt-qemu") +
                  glob.glob(f"{root}/machine/qemu-*-{name}.libvirt-qemu"))
