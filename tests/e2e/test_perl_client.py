#!/usr/bin/python3
"""Runs test_perl_client.pl (Perl Sys::Virt) against a virtd this wrapper starts, and
checks its TAP output: every test ok, none failed, the plan complete."""
import os
import re
import subprocess

import virtd

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_perl_client.pl")


class PerlClientTest(virtd.DaemonTestCase):

    def test_sys_virt_script(self):
        res = subprocess.run(["/usr/bin/perl", SCRIPT, self.d.uri, self.d.uri_ro],
                             capture_output=True, text=True, timeout=60)
        report = f"stdout:\n{res.stdout}\nstderr:\n{res.stderr}"
        lines = res.stdout.splitlines()
        plan = [line for line in lines if re.fullmatch(r"1\.\.\d+", line)]
        self.assertEqual(len(plan), 1, report)
        count = int(plan[0][3:])
        oks = [line for line in lines if re.match(r"ok \d+ - ", line)]
        not_oks = [line for line in lines if line.startswith("not ok")]
        self.assertEqual(not_oks, [], report)
        self.assertEqual(len(oks), count, report)
        self.assertGreaterEqual(count, 30, report)
        self.assertEqual(res.returncode, 0, report)
        # Sys::Virt prints nothing on its own: libvirt errors are only in the exceptions.
        self.assertEqual(res.stderr, "", report)


if __name__ == "__main__":
    virtd.main()
