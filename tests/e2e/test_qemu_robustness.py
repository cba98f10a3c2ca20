#!/usr/bin/python3
"""virtd never hangs and never loses a VM, proven with real QEMU (TCG), real virsh and
python3-libvirt: kill -9 of QEMU, kill -9 (and a clean stop) of the daemon with VMs running
then re-attach, a VM that died while the daemon was down, a SIGSTOPped QEMU (timeouts on it,
everything else served as before, destroy still works), a second job on a stuck domain,
10 VMs started in parallel, and the time `virsh start` takes.

None of these needs the guest to boot: QEMU runs from `cont` on, whatever the guest does."""
import os
import queue
import re
import signal
import threading
import time

import libvirt

import virtd
from test_qemu_domains import Events  # also sets up libvirt's event loop thread

QMP_TIMEOUT = 10.0   # virtd's timeout on every QMP command
JOB_WAIT = 30.0      # how long a second state change waits for the domain's job
FAST = 2.0           # what "served normally" means while another domain is stuck


class QemuRobustnessTest(virtd.DaemonTestCase):

    maxDiff = None

    def setUp(self):
        virtd.guest()  # skips when QEMU or the guest is unavailable
        super().setUp()

    # ---- helpers -------------------------------------------------------------------

    def connect(self):
        conn = libvirt.open(self.d.uri)
        self.addCleanup(conn.close)
        return conn

    def define_guest(self, name, memory_mib=256):
        path = os.path.join(self.d.root, f"{name}.xml")
        with open(path, "w") as f:
            f.write(virtd.guest_xml(name, memory_mib=memory_mib))
        self.d.virsh("define", path)
        self.addCleanup(self.d.virsh, "destroy", name, check=False, timeout=60)

    def start_guest(self, name, *flags):
        self.define_guest(name)
        self.d.virsh("start", *flags, name)
        pid = virtd.qemu_pid(self.d, name)
        self.assertIsNotNone(pid, f"no QEMU found for {name}")
        return pid

    def state(self, name):
        return self.d.virsh("domstate", "--reason", name).stdout.strip()

    def wait_state(self, name, want, timeout):
        got = virtd.wait_for(lambda: self.state(name) == want, timeout, interval=0.1)
        self.assertTrue(got, f"{name}: still '{self.state(name)}' {timeout} s later, "
                             f"expected '{want}'")

    def listing(self):
        """{name: (id, state)} from `virsh list --all`."""
        out = self.d.virsh("list", "--all").stdout
        rows = (line.split(None, 2) for line in out.splitlines() if line.strip())
        return {r[1]: (r[0], r[2]) for r in rows}

    def timed_virsh(self, *args, **kw):
        t0 = time.monotonic()
        res = self.d.virsh(*args, check=False, **kw)
        return res, time.monotonic() - t0

    def assert_fast(self, *args):
        res, took = self.timed_virsh(*args)
        self.assertEqual(res.returncode, 0, f"virsh {' '.join(args)}: {res.stderr}")
        self.assertLess(took, FAST, f"virsh {' '.join(args)} took {took:.1f} s")
        return res

    def assert_nothing_left(self, name):
        self.assertIsNone(virtd.qemu_pid(self.d, name), f"a QEMU of {name} is still running")
        self.assertFalse(os.path.exists(virtd.status_file(self.d, name)),
                         f"status file of {name} left behind")
        run_dir = os.path.dirname(virtd.status_file(self.d, name))
        left = [e for e in os.listdir(run_dir) if e.endswith(f"-{name}")] \
            if os.path.isdir(run_dir) else []
        self.assertEqual(left, [], f"per-domain directory of {name} left behind")
        self.assertEqual(virtd.vm_cgroups_left(name), [], f"cgroup of {name} left behind")

    # ---- QEMU dies -----------------------------------------------------------------

    def test_kill9_of_qemu_is_reported_crashed(self):
        conn = self.connect()
        ev = Events()
        cb = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         ev.lifecycle, None)
        self.addCleanup(conn.domainEventDeregisterAny, cb)
        pid = self.start_guest("a")
        self.assertEqual(ev.take(2), [("a", "Defined Added"), ("a", "Started Booted")])
        self.assertTrue(os.path.exists(virtd.status_file(self.d, "a")))

        t0 = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        self.wait_state("a", "shut off (crashed)", 5)
        print(f"  seen crashed {time.monotonic() - t0:.2f} s after kill -9", flush=True)
        self.assertEqual(ev.take(1), [("a", "Stopped Failed")])
        self.assertEqual(ev.drain(), [])
        self.assertNotIn("a", self.d.virsh("list", "--name").stdout.split())
        self.assert_nothing_left("a")
        # And it starts again.
        self.d.virsh("start", "a")
        self.assertEqual(self.state("a"), "running (booted)")
        self.d.virsh("destroy", "a")

    # ---- the daemon dies -----------------------------------------------------------

    def test_kill9_of_daemon_leaves_vms_running_and_reattaches(self):
        pid_a = self.start_guest("a")
        pid_b = self.start_guest("b")
        self.d.virsh("suspend", "b")
        before = self.listing()
        self.assertEqual({n: s for n, (_, s) in before.items()},
                         {"a": "running", "b": "paused"})
        states = {n: self.state(n) for n in ("a", "b")}
        self.assertEqual(states, {"a": "running (booted)", "b": "paused (user)"})

        self.d.kill9()
        time.sleep(0.5)
        for name, pid in (("a", pid_a), ("b", pid_b)):
            self.assertTrue(virtd.process_alive(pid), f"QEMU of {name} died with the daemon")
            self.assertTrue(os.path.exists(virtd.status_file(self.d, name)))

        self.d.start()
        self.assertEqual(self.listing(), before)
        self.assertEqual({n: self.state(n) for n in ("a", "b")}, states)
        self.assertEqual((virtd.qemu_pid(self.d, "a"), virtd.qemu_pid(self.d, "b")),
                         (pid_a, pid_b))
        # The re-attached monitors work, and so do new starts (with a fresh id).
        self.d.virsh("suspend", "a")
        self.assertEqual(self.state("a"), "paused (user)")
        self.d.virsh("resume", "b")
        self.assertEqual(self.state("b"), "running (unpaused)")
        out = self.d.virsh("qemu-monitor-command", "a", "--hmp", "info status").stdout
        self.assertEqual(out.strip(), "VM status: paused")
        pid_c = self.start_guest("c")
        ids = {n: i for n, (i, _) in self.listing().items()}
        self.assertEqual(len({ids["a"], ids["b"], ids["c"]}), 3, f"ids collide: {ids}")

        # A clean stop (SIGTERM) leaves them running too.
        self.assertEqual(self.d.stop(), 0, self.d.stderr())
        for pid in (pid_a, pid_b, pid_c):
            self.assertTrue(virtd.process_alive(pid), f"QEMU {pid} died with the daemon")
        self.d.start()
        before = self.listing()
        self.assertEqual({n: s for n, (_, s) in before.items()},
                         {"a": "paused", "b": "running", "c": "running"})
        self.assertEqual(self.state("b"), "running (unpaused)")

        for name in ("a", "b", "c"):
            self.d.virsh("destroy", name)
            self.assertEqual(self.state(name), "shut off (destroyed)")
            self.assert_nothing_left(name)
        for pid in (pid_a, pid_b, pid_c):
            self.assertFalse(virtd.process_alive(pid))

    def test_vm_that_died_while_daemon_was_down_is_crashed(self):
        pid_a = self.start_guest("a")
        pid_b = self.start_guest("b")
        ids = {n: i for n, (i, _) in self.listing().items()}
        self.d.kill9()
        os.kill(pid_a, signal.SIGKILL)
        self.assertTrue(virtd.wait_for(lambda: not virtd.process_alive(pid_a), 5))
        self.d.start()
        self.assertEqual(self.state("a"), "shut off (crashed)")
        self.assertEqual(self.state("b"), "running (booted)")
        self.assertEqual(self.listing(), {"a": ("-", "shut off"), "b": (ids["b"], "running")})
        self.assert_nothing_left("a")
        self.assertEqual(virtd.qemu_pid(self.d, "b"), pid_b)
        self.d.virsh("suspend", "b")
        self.assertEqual(self.state("b"), "paused (user)")
        # The re-attached QEMU is not the new daemon's child: its death is still seen at
        # once, and told to the clients of the new daemon.
        conn = self.connect()
        ev = Events()
        cb = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         ev.lifecycle, None)
        self.addCleanup(conn.domainEventDeregisterAny, cb)
        os.kill(pid_b, signal.SIGKILL)
        self.wait_state("b", "shut off (crashed)", 5)
        self.assertEqual(ev.take(1), [("b", "Stopped Failed")])
        self.assert_nothing_left("b")
        # The crashed one starts again.
        self.d.virsh("start", "a")
        self.assertEqual(self.state("a"), "running (booted)")
        self.d.virsh("destroy", "a")

    # ---- a QEMU that stops answering -----------------------------------------------

    def test_sigstopped_qemu_times_out_alone(self):
        pid_a = self.start_guest("a")
        self.start_guest("b")
        os.kill(pid_a, signal.SIGSTOP)
        self.addCleanup(lambda: virtd.process_alive(pid_a) and os.kill(pid_a, signal.SIGCONT))

        results = queue.Queue()

        def suspend_a():
            results.put(self.timed_virsh("suspend", "a", timeout=60))
        t = threading.Thread(target=suspend_a)
        t.start()
        time.sleep(0.5)
        # While a's suspend waits on its QEMU, everything else is served as usual.
        out = self.assert_fast("list").stdout
        self.assertRegex(out, r"(?m)^\s*\d+\s+a\s+running$")
        self.assertRegex(out, r"(?m)^\s*\d+\s+b\s+running$")
        self.assertRegex(self.assert_fast("dominfo", "a").stdout, r"(?m)^State:\s+running$")
        self.assertEqual(self.assert_fast("domstate", "--reason", "a").stdout.strip(),
                         "running (booted)")
        self.assert_fast("suspend", "b")
        self.assertEqual(self.state("b"), "paused (user)")
        self.assert_fast("resume", "b")
        self.assertEqual(self.state("b"), "running (unpaused)")
        self.assert_fast("qemu-monitor-command", "b", "--hmp", "info status")
        self.assert_fast("dumpxml", "a")

        t.join(QMP_TIMEOUT + 10)
        res, took = results.get_nowait()
        print(f"  virsh suspend of the stopped QEMU failed after {took:.1f} s:\n    "
              + res.stderr.strip().replace("\n", "\n    "), flush=True)
        self.assertNotEqual(res.returncode, 0)
        self.assertLess(took, 15)
        self.assertGreaterEqual(took, QMP_TIMEOUT - 0.5)
        self.assertEqual(res.stderr.strip().splitlines(), [
            "error: Failed to suspend domain 'a'",
            "error: Timed out during operation: QEMU did not answer 'stop' within 10000 ms"])
        self.assertEqual(self.state("a"), "running (booted)")

        # Destroy works on it, still stopped (SIGTERM stays pending on a stopped process,
        # so this takes the SIGTERM grace period before SIGKILL).
        res, took = self.timed_virsh("destroy", "a", timeout=60)
        print(f"  virsh destroy of the stopped QEMU took {took:.1f} s", flush=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertLess(took, 20)
        self.assertEqual(self.state("a"), "shut off (destroyed)")
        self.assertFalse(virtd.process_alive(pid_a))
        self.assert_nothing_left("a")
        self.assertEqual(self.state("b"), "running (unpaused)")
        self.d.virsh("destroy", "b")

    def test_second_job_on_stuck_domain_names_the_job_holding_it(self):
        # Takes ~31 s: virtd's job wait is 30 s and every QMP command times out after 10 s,
        # so a waiter only times out when the jobs ahead of it keep the domain for 30 s:
        # the stuck suspend, then the waiters one after the other (10 s each); the fourth
        # waiter, which arrived 0.5 s after the suspend, gives up at 30.5 s.
        pid = self.start_guest("a")
        os.kill(pid, signal.SIGSTOP)
        self.addCleanup(lambda: virtd.process_alive(pid) and os.kill(pid, signal.SIGCONT))
        jobs = {"suspend": "suspend", "resume": "resume", "reset": "reset",
                "reboot": "reboot", "shutdown": "shut down"}
        results = queue.Queue()

        def run(cmd):
            res, took = self.timed_virsh(cmd, "a", timeout=90)
            results.put((cmd, res, took))
        threads = [threading.Thread(target=run, args=("suspend",))]
        threads[0].start()
        time.sleep(0.5)
        for cmd in ("resume", "reset", "reboot", "shutdown"):
            threads.append(threading.Thread(target=run, args=(cmd,)))
            threads[-1].start()

        timed_out = None
        done = []
        deadline = time.monotonic() + JOB_WAIT + 10
        while timed_out is None and time.monotonic() < deadline:
            try:
                cmd, res, took = results.get(timeout=1)
            except queue.Empty:
                continue
            done.append((cmd, res.stderr.strip().splitlines()[-1:], round(took, 1)))
            if "still holds it" in res.stderr:
                timed_out = (cmd, res, took)
        # Unstick it so that whatever is in flight ends, then end the VM.
        os.kill(pid, signal.SIGCONT)
        self.d.virsh("destroy", "a", timeout=60)
        for th in threads:
            th.join(30)
        print(f"  finished before the job timeout: {done}", flush=True)
        self.assertIsNotNone(timed_out, f"no call failed waiting for the job: {done}")
        cmd, res, took = timed_out
        print(f"  virsh {cmd} gave up after {took:.1f} s:\n    "
              + res.stderr.strip().replace("\n", "\n    "), flush=True)
        self.assertNotEqual(cmd, "suspend")
        m = re.fullmatch(r"error: Timed out during operation: cannot (.+) domain 'a': "
                         r"job '(.+)' still holds it after 30 s",
                         res.stderr.strip().splitlines()[-1])
        self.assertIsNotNone(m, res.stderr)
        self.assertEqual(m.group(1), jobs[cmd])
        self.assertIn(m.group(2), jobs.values())
        self.assertNotEqual(m.group(2), jobs[cmd])
        self.assertGreater(took, JOB_WAIT - 1)
        self.assertLess(took, JOB_WAIT + 5)
        # The first (stuck) suspend failed on the QMP timeout, in about 10 s.
        first = [d for d in done if d[0] == "suspend"]
        self.assertEqual(len(first), 1, done)
        self.assertEqual(first[0][1], ["error: Timed out during operation: "
                                       "QEMU did not answer 'stop' within 10000 ms"])
        self.assertLess(first[0][2], QMP_TIMEOUT + 5)
        self.assertEqual(self.state("a"), "shut off (destroyed)")
        self.assert_nothing_left("a")

    # ---- many at once --------------------------------------------------------------

    def test_ten_vms_started_in_parallel(self):
        names = [f"p{i}" for i in range(10)]
        for n in names:
            self.define_guest(n, memory_mib=128)
        barrier = threading.Barrier(len(names))
        results = {}

        def start(name):
            try:
                conn = libvirt.open(self.d.uri)
                try:
                    dom = conn.lookupByName(name)
                    barrier.wait(10)
                    t0 = time.monotonic()
                    dom.create()
                    results[name] = (time.monotonic() - t0, dom.ID())
                finally:
                    conn.close()
            except Exception as e:  # reported below
                results[name] = e
        t0 = time.monotonic()
        threads = [threading.Thread(target=start, args=(n,)) for n in names]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        total = time.monotonic() - t0
        errors = {n: r for n, r in results.items() if isinstance(r, Exception)}
        self.assertEqual(errors, {})
        self.assertEqual(sorted(results), names)
        print(f"  10 parallel creates: all returned within {total:.2f} s; slowest "
              f"{max(r[0] for r in results.values()):.2f} s", flush=True)

        listing = self.listing()
        self.assertEqual({n: s for n, (_, s) in listing.items()},
                         {n: "running" for n in names})
        ids = [int(listing[n][0]) for n in names]
        self.assertEqual(len(set(ids)), 10, f"ids not unique: {ids}")
        self.assertEqual(sorted(ids), sorted(r[1] for r in results.values()))
        pids = [virtd.qemu_pid(self.d, n) for n in names]
        self.assertNotIn(None, pids)
        self.assertEqual(len(set(pids)), 10)
        for n in names:
            self.assertEqual(self.state(n), "running (booted)")

        for n in names:
            self.d.virsh("destroy", n)
        self.assertEqual({n: s for n, (_, s) in self.listing().items()},
                         {n: "shut off" for n in names})
        for n in names:
            self.assert_nothing_left(n)
        self.assertEqual(self.d.qemu_pids(), [])
        run_dir = os.path.dirname(virtd.status_file(self.d, "x"))
        self.assertEqual(os.listdir(run_dir) if os.path.isdir(run_dir) else [], [])

    def test_start_time(self):
        self.define_guest("t")
        times = []
        for _ in range(3):
            t0 = time.monotonic()
            self.d.virsh("start", "t")
            times.append(time.monotonic() - t0)
            self.assertEqual(self.state("t"), "running (booted)")
            self.d.virsh("destroy", "t")
        conn = self.connect()
        dom = conn.lookupByName("t")
        t0 = time.monotonic()
        dom.create()
        api = time.monotonic() - t0
        dom.destroy()
        print("  virsh start (call to return, virsh's own start-up included): "
              + ", ".join(f"{t * 1000:.0f} ms" for t in times)
              + f"; virDomainCreate: {api * 1000:.0f} ms", flush=True)


if __name__ == "__main__":
    virtd.main()
