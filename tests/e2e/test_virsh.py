#!/usr/bin/python3
"""Real virsh (Debian's libvirt-clients) against a real virtd under a temporary root.

Every line virsh prints is virsh's own formatting around what the daemon answered, so the
expected texts below are what virsh prints against the reference libvirtd for the same
commands, with the daemon's own messages where virtd words them itself."""
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import xml.etree.ElementTree as ET

import virtd

UUID_A = "6d3f2a40-0b1c-4c3e-9a55-1f0e2d3c4b5a"
UUID_B = "7e4a3b51-1c2d-4d4f-8b66-2a1f3e4d5c6b"
UUID_C = "8f5b4c62-2d3e-4e50-9c77-3b2a4f5e6d7c"
UUID_VI = "263dd1d8-5619-48d9-827e-1495b609a94d"

# What `virt-install --print-xml` writes for a small q35 guest, with domain type 'qemu'
# (no /dev/kvm on these machines) and a disk.
VIRT_INSTALL_XML = f"""<domain type="qemu">
  <name>vi1</name>
  <uuid>{UUID_VI}</uuid>
  <metadata>
    <libosinfo:libosinfo xmlns:libosinfo="http://libosinfo.org/xmlns/libvirt/domain/1.0">
      <libosinfo:os id="http://debian.org/debian/12"/>
    </libosinfo:libosinfo>
  </metadata>
  <memory>262144</memory>
  <currentMemory>262144</currentMemory>
  <vcpu>2</vcpu>
  <os>
    <type arch="x86_64" machine="q35">hvm</type>
    <boot dev="hd"/>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <clock offset="utc">
    <timer name="rtc" tickpolicy="catchup"/>
    <timer name="pit" tickpolicy="delay"/>
    <timer name="hpet" present="no"/>
  </clock>
  <pm>
    <suspend-to-mem enabled="no"/>
    <suspend-to-disk enabled="no"/>
  </pm>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type="file" device="disk">
      <driver name="qemu" type="qcow2"/>
      <source file="/var/lib/libvirt/images/vi1.qcow2"/>
      <target dev="vda" bus="virtio"/>
    </disk>
    <controller type="usb" model="qemu-xhci" ports="15"/>
    <controller type="pci" model="pcie-root"/>
    <controller type="pci" model="pcie-root-port"/>
    <controller type="pci" model="pcie-root-port"/>
    <interface type="network">
      <source network="default"/>
      <mac address="52:54:00:c2:90:33"/>
      <model type="virtio"/>
    </interface>
    <interface type="user">
      <model type="virtio"/>
    </interface>
    <console type="pty"/>
    <channel type="unix">
      <source mode="bind"/>
      <target type="virtio" name="org.qemu.guest_agent.0"/>
    </channel>
    <input type="tablet" bus="usb"/>
    <graphics type="vnc" port="-1"/>
    <video>
      <model type="virtio"/>
    </video>
    <memballoon model="virtio"/>
    <rng model="virtio">
      <backend model="random">/dev/urandom</backend>
    </rng>
  </devices>
</domain>
"""


def host_memory_kib():
    """What libvirt reports as the host's memory: the sum of the NUMA nodes, else meminfo."""
    node_dir = "/sys/devices/system/node"
    total = 0
    nodes = [n for n in os.listdir(node_dir) if re.fullmatch(r"node\d+", n)] \
        if os.path.isdir(node_dir) else []
    for n in nodes:
        with open(os.path.join(node_dir, n, "meminfo")) as f:
            total += int(re.search(r"MemTotal:\s+(\d+) kB", f.read()).group(1))
    if nodes:
        return total
    with open("/proc/meminfo") as f:
        return int(re.search(r"MemTotal:\s+(\d+) kB", f.read()).group(1))


def host_cpu_mhz():
    with open("/proc/cpuinfo") as f:
        m = re.search(r"^cpu MHz\s*:\s*([\d.]+)", f.read(), re.M)
    return int(float(m.group(1)))


def qemu_version():
    out = subprocess.run(["/usr/bin/qemu-system-x86_64", "--version"], capture_output=True,
                         text=True, check=True).stdout
    return re.search(r"version (\d+\.\d+\.\d+)", out).group(1)


def client_version():
    return subprocess.run(["virsh", "--version"], capture_output=True, text=True,
                          check=True).stdout.strip()


def machine_id_uuid():
    for path in ("/var/lib/dbus/machine-id", "/etc/machine-id"):
        try:
            with open(path) as f:
                i = f.read().strip()
        except OSError:
            continue
        if len(i) == 32:
            return f"{i[:8]}-{i[8:12]}-{i[12:16]}-{i[16:20]}-{i[20:]}"
    return None


class EventWatcher:
    """`virsh event --loop --all` in the background; its lines go to a queue."""

    def __init__(self, d):
        self.proc = subprocess.Popen(["virsh", "-c", d.uri, "event", "--loop", "--all"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True)
        self.lines = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def next(self, timeout=5.0):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def sync(self, d, tc):
        """Return once virsh has registered: define throw-away domains until one of their
        events shows, then a marker whose event is the last line before what the test
        does next."""
        for attempt in range(100):
            tc.define(f"evsync{attempt}")
            line = self.next(timeout=0.2)
            if line is not None:
                break
        else:
            raise AssertionError("virsh event never printed an event")
        tc.define("evmark")
        while True:
            line = self.next()
            if line is None:
                raise AssertionError("the marker's event never came")
            if line == "event 'lifecycle' for domain 'evmark': Defined Added":
                return

    def stop(self):
        """Stop virsh by its pid."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.thread.join(5)
        self.proc.stdout.close()
        self.proc.stderr.close()


class VirshTest(virtd.DaemonTestCase):

    def write(self, name, text):
        path = os.path.join(self.d.root, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def assert_virsh(self, args, stdout, stderr="", rc=0, **kw):
        res = self.d.virsh(*args, check=False, quiet=False, **kw)
        self.assertEqual((res.returncode, res.stdout, res.stderr), (rc, stdout, stderr),
                         f"virsh {' '.join(args)}")
        return res

    def names(self, *flags):
        out = self.d.virsh("list", "--name", *flags).stdout
        return [line for line in out.splitlines() if line]

    # ---- connection-level commands -------------------------------------------------

    def test_version(self):
        lib = client_version()
        self.assert_virsh(["version"],
                          f"Compiled against library: libvirt {lib}\n"
                          f"Using library: libvirt {lib}\n"
                          f"Using API: QEMU {lib}\n"
                          f"Running hypervisor: QEMU {qemu_version()}\n\n")

    def test_hostname(self):
        self.assert_virsh(["hostname"], socket.gethostname() + "\n\n")

    def test_uri(self):
        self.assert_virsh(["uri"], self.d.uri + "\n\n")

    def test_virtqemud_socket_names_answer_too(self):
        run = os.path.join(self.d.root, "run", "libvirt")
        for sock in ("virtqemud-sock", "virtqemud-sock-ro", "libvirt-sock-ro"):
            self.assert_virsh(["hostname"], socket.gethostname() + "\n\n",
                              uri=f"qemu:///system?socket={run}/{sock}")

    def test_nodeinfo_matches_host(self):
        out = self.d.virsh("nodeinfo", quiet=False).stdout
        info = dict(re.findall(r"^([^:\n]+):\s+(.*)$", out, re.M))
        self.assertEqual(info["CPU model"], os.uname().machine)
        self.assertEqual(int(info["CPU(s)"]), os.cpu_count())
        self.assertEqual(info["CPU frequency"], f"{host_cpu_mhz()} MHz")
        self.assertEqual(info["Memory size"], f"{host_memory_kib()} KiB")
        topo = (int(info["CPU socket(s)"]) * int(info["Core(s) per socket"]) *
                int(info["Thread(s) per core"]) * int(info["NUMA cell(s)"]))
        self.assertEqual(topo, os.cpu_count())
        # The whole text is what the reference libvirtd on this host says.
        ref = reference_virsh("nodeinfo")
        if ref is not None:
            self.assertEqual(out, ref)

    def test_capabilities(self):
        caps = ET.fromstring(self.d.virsh("capabilities").stdout)
        self.assertEqual(caps.tag, "capabilities")
        uuid = caps.findtext("host/uuid")
        self.assertRegex(uuid, r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        expected_uuid = machine_id_uuid()
        if expected_uuid:
            self.assertEqual(uuid, expected_uuid)
        self.assertEqual(caps.findtext("host/cpu/arch"), "x86_64")
        guests = {g.find("arch").get("name"): g for g in caps.findall("guest")}
        self.assertIn("x86_64", guests)
        g = guests["x86_64"]
        self.assertEqual(g.findtext("os_type"), "hvm")
        self.assertEqual(g.findtext("arch/wordsize"), "64")
        self.assertEqual(g.findtext("arch/emulator"), "/usr/bin/qemu-system-x86_64")
        self.assertIn("qemu", [dom.get("type") for dom in g.findall("arch/domain")])
        machines = [m.text for m in g.findall("arch/machine")]
        self.assertIn("pc", machines)
        self.assertIn("q35", machines)

    def test_domcapabilities(self):
        caps = ET.fromstring(self.d.virsh("domcapabilities", "--virttype", "qemu").stdout)
        self.assertEqual(caps.tag, "domainCapabilities")
        self.assertEqual(caps.findtext("path"), "/usr/bin/qemu-system-x86_64")
        self.assertEqual(caps.findtext("domain"), "qemu")
        self.assertEqual(caps.findtext("arch"), "x86_64")
        self.assertRegex(caps.findtext("machine"), r"^pc-i440fx-\d+\.\d+$")
        self.assertGreater(int(caps.find("vcpu").get("max")), 1)
        q35 = ET.fromstring(self.d.virsh("domcapabilities", "--virttype", "qemu",
                                         "--machine", "q35").stdout)
        self.assertRegex(q35.findtext("machine"), r"^pc-q35-\d+\.\d+$")

    def test_sysinfo(self):
        info = ET.fromstring(self.d.virsh("sysinfo").stdout)
        self.assertEqual(info.tag, "sysinfo")
        self.assertEqual(info.get("type"), "smbios")
        self.assertGreaterEqual(len(info.findall("processor")), 1)

    # ---- define, list, info ----------------------------------------------------------

    def test_define_virt_install_xml_and_dumpxml_round_trip(self):
        path = self.write("vi1.xml", VIRT_INSTALL_XML)
        self.assert_virsh(["define", path], f"Domain 'vi1' defined from {path}\n\n")
        xml = self.d.virsh("dumpxml", "vi1").stdout
        dom = ET.fromstring(xml)
        self.assertEqual(dom.get("type"), "qemu")
        self.assertEqual(dom.findtext("name"), "vi1")
        self.assertEqual(dom.findtext("uuid"), UUID_VI)
        self.assertEqual((dom.find("memory").get("unit"), dom.findtext("memory")),
                         ("KiB", "262144"))
        self.assertEqual(dom.findtext("currentMemory"), "262144")
        self.assertEqual(dom.findtext("vcpu"), "2")
        self.assertRegex(dom.find("os/type").get("machine"), r"^pc-q35-\d+\.\d+$")
        self.assertEqual(dom.find("os/type").get("arch"), "x86_64")
        self.assertEqual(dom.find("metadata")[0].tag,
                         "{http://libosinfo.org/xmlns/libvirt/domain/1.0}libosinfo")
        self.assertEqual(dom.find("devices/disk/source").get("file"),
                         "/var/lib/libvirt/images/vi1.qcow2")
        self.assertEqual(dom.find("devices/disk/target").get("dev"), "vda")
        macs = [i.find("mac").get("address") for i in dom.findall("devices/interface")]
        self.assertEqual(len(macs), 2)
        self.assertEqual(macs[0], "52:54:00:c2:90:33")
        self.assertRegex(macs[1], r"^52:54:00(:[0-9a-f]{2}){3}$")  # generated
        self.assertEqual(dom.find("devices/channel/target").get("name"),
                         "org.qemu.guest_agent.0")
        self.assertEqual(dom.find("devices/graphics").get("type"), "vnc")
        self.assertEqual(dom.findtext("devices/rng/backend"), "/dev/urandom")
        # Inactive domain: the inactive XML is the same.
        self.assertEqual(self.d.virsh("dumpxml", "--inactive", "vi1").stdout, xml)
        # Round trip: defining what dumpxml gave changes nothing.
        again = self.write("vi1-dumped.xml", xml)
        self.d.virsh("define", again)
        self.assertEqual(self.d.virsh("dumpxml", "vi1").stdout, xml)
        # And from scratch: undefine, define the dumped XML, same XML again.
        self.d.virsh("undefine", "vi1")
        self.d.virsh("define", again)
        self.assertEqual(self.d.virsh("dumpxml", "vi1").stdout, xml)
        # The definition on disk is the inactive XML.
        with open(os.path.join(self.d.config_dir, "vi1.xml")) as f:
            self.assertEqual(ET.fromstring(f.read()).findtext("uuid"), UUID_VI)

    def test_dumpxml_of_a_minimal_definition_is_libvirts(self):
        # What the reference libvirtd 9.0 answers for virtd.domain_xml("a", UUID_A) on a
        # host with QEMU 7.2 and no /dev/kvm, with the machine alias resolved the same way
        # (pc -> its canonical machine type in the capabilities). PCI addresses left out.
        caps = ET.fromstring(self.d.virsh("capabilities").stdout)
        pc = [m.get("canonical") for m in caps.iter("machine") if m.text == "pc"][0]
        self.define("a", UUID_A)
        xml = self.d.virsh("dumpxml", "a").stdout
        self.assertEqual(re.sub(r"\n *<address [^>]*/>", "",
                                re.sub(r"(<(controller|memballoon)[^>]*)>\n *<address [^>]*/>\n"
                                       r" *</\2>", r"\1/>", xml)), f"""<domain type='qemu'>
  <name>a</name>
  <uuid>{UUID_A}</uuid>
  <memory unit='KiB'>131072</memory>
  <currentMemory unit='KiB'>131072</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='{pc}'>hvm</type>
    <boot dev='hd'/>
  </os>
  <cpu mode='custom' match='exact' check='none'>
    <model fallback='forbid'>qemu64</model>
  </cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' index='0' model='piix3-uhci'/>
    <controller type='pci' index='0' model='pci-root'/>
    <input type='mouse' bus='ps2'/>
    <input type='keyboard' bus='ps2'/>
    <audio id='1' type='none'/>
    <memballoon model='virtio'/>
  </devices>
</domain>
""")
        # A definition without a uuid gets a random one.
        self.define("nouuid")
        self.assertRegex(self.d.virsh("domuuid", "nouuid").stdout,
                         r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$")

    def test_list_filters(self):
        self.define("a", UUID_A)
        self.define("b", UUID_B)
        self.define("c", UUID_C)
        self.d.virsh("autostart", "a")
        self.assertEqual(self.names(), [])  # nothing runs
        self.assertEqual(self.names("--all"), ["a", "b", "c"])
        self.assertEqual(self.names("--inactive"), ["a", "b", "c"])
        self.assertEqual(self.names("--persistent"), [])
        self.assertEqual(self.names("--all", "--persistent"), ["a", "b", "c"])
        self.assertEqual(self.names("--all", "--transient"), [])
        self.assertEqual(self.names("--all", "--autostart"), ["a"])
        self.assertEqual(self.names("--all", "--no-autostart"), ["b", "c"])
        self.assertEqual(self.names("--inactive", "--no-autostart"), ["b", "c"])
        self.assertEqual(self.names("--all", "--with-managed-save"), [])
        self.assertEqual(self.names("--all", "--without-managed-save"), ["a", "b", "c"])
        self.assertEqual(self.names("--all", "--with-snapshot"), [])
        self.assert_virsh(["list", "--all", "--uuid"], f"{UUID_A}\n{UUID_B}\n{UUID_C}\n\n")
        self.assert_virsh(["list", "--all", "--name"], "a\nb\nc\n\n")
        rows = [line.split() for line in self.d.virsh("list", "--all").stdout.splitlines()
                if line.strip()]
        self.assertEqual(rows, [["-", "a", "shut", "off"], ["-", "b", "shut", "off"],
                                ["-", "c", "shut", "off"]])
        # The header is virsh's; the row widths follow the longest name.
        self.assert_virsh(["list", "--all"],
                          " Id   Name   State\n" + "-" * 23 + "\n"
                          " -    a      shut off\n"
                          " -    b      shut off\n"
                          " -    c      shut off\n\n")

    def test_dominfo_and_domstate(self):
        self.define("a", UUID_A)
        self.assert_virsh(["dominfo", "a"],
                          "Id:             -\n"
                          "Name:           a\n"
                          f"UUID:           {UUID_A}\n"
                          "OS Type:        hvm\n"
                          "State:          shut off\n"
                          "CPU(s):         1\n"
                          "Max memory:     131072 KiB\n"
                          "Used memory:    131072 KiB\n"
                          "Persistent:     yes\n"
                          "Autostart:      disable\n"
                          "Managed save:   no\n"
                          "Security model: none\n"
                          "Security DOI:   0\n"
                          "\n")
        self.assert_virsh(["domstate", "a"], "shut off\n\n")
        self.assert_virsh(["domstate", "a", "--reason"], "shut off (unknown)\n\n")
        self.assert_virsh(["domid", "a"], "-\n\n")
        self.assert_virsh(["domuuid", "a"], f"{UUID_A}\n\n")
        self.assert_virsh(["domname", UUID_A], "a\n\n")
        self.d.virsh("autostart", "a")
        self.assertIn("Autostart:      enable\n", self.d.virsh("dominfo", "a").stdout)
        # Lookups by uuid work wherever a name does.
        self.assert_virsh(["domstate", UUID_A], "shut off\n\n")

    def test_vcpucount_setvcpus_setmem_config(self):
        self.define("a", UUID_A)
        self.d.virsh("setvcpus", "a", "4", "--config", "--maximum")
        self.d.virsh("setvcpus", "a", "3", "--config")
        self.d.virsh("setmem", "a", "64M", "--config")
        self.assert_virsh(["vcpucount", "a", "--config", "--maximum"], "4\n\n")
        self.assert_virsh(["vcpucount", "a", "--config", "--current"], "3\n\n")
        info = self.d.virsh("dominfo", "a").stdout
        self.assertIn("CPU(s):         3\n", info)
        self.assertIn("Used memory:    65536 KiB\n", info)
        dom = ET.fromstring(self.d.virsh("dumpxml", "a").stdout)
        self.assertEqual((dom.findtext("vcpu"), dom.find("vcpu").get("current")), ("4", "3"))
        self.assertEqual(dom.findtext("currentMemory"), "65536")

    # ---- autostart, desc, rename, undefine ---------------------------------------------

    def test_autostart(self):
        self.define("a", UUID_A)
        link = os.path.join(self.d.config_dir, "autostart", "a.xml")
        self.assert_virsh(["autostart", "a"], "Domain 'a' marked as autostarted\n\n")
        self.assertTrue(os.path.islink(link))
        self.assertEqual(os.path.realpath(link),
                         os.path.realpath(os.path.join(self.d.config_dir, "a.xml")))
        self.assertEqual(self.names("--all", "--autostart"), ["a"])
        self.assert_virsh(["autostart", "a", "--disable"],
                          "Domain 'a' unmarked as autostarted\n\n")
        self.assertFalse(os.path.lexists(link))
        self.assertEqual(self.names("--all", "--autostart"), [])
        # Setting it twice is harmless.
        self.d.virsh("autostart", "a")
        self.d.virsh("autostart", "a")
        self.assertTrue(os.path.islink(link))

    def test_desc_and_title(self):
        self.define("a", UUID_A)
        self.assert_virsh(["desc", "a"], "No description for domain: a\n")
        self.assert_virsh(["desc", "a", "--title"], "No title for domain: a\n")
        self.assert_virsh(["desc", "a", "--config", "hello world"],
                          "Domain description updated successfully\n")
        self.assert_virsh(["desc", "a", "--config", "--title", "My title"],
                          "Domain title updated successfully\n")
        self.assert_virsh(["desc", "a"], "hello world\n")
        self.assert_virsh(["desc", "a", "--config"], "hello world\n")
        self.assert_virsh(["desc", "a", "--title"], "My title\n")
        dom = ET.fromstring(self.d.virsh("dumpxml", "a").stdout)
        self.assertEqual((dom.findtext("title"), dom.findtext("description")),
                         ("My title", "hello world"))
        rows = [line.split(None, 4) for line in
                self.d.virsh("list", "--all", "--title").stdout.splitlines() if line.strip()]
        self.assertEqual(rows, [["-", "a", "shut", "off", "My title"]])
        # Persisted: the file on disk has them.
        with open(os.path.join(self.d.config_dir, "a.xml")) as f:
            disk = ET.fromstring(f.read())
        self.assertEqual(disk.findtext("description"), "hello world")
        # An empty description removes it.
        self.d.virsh("desc", "a", "--config", "")
        self.assert_virsh(["desc", "a"], "No description for domain: a\n")

    def test_domrename(self):
        self.define("a", UUID_A)
        self.d.virsh("autostart", "a")
        self.assert_virsh(["domrename", "a", "b"], "Domain successfully renamed\n\n")
        self.assertEqual(self.names("--all"), ["b"])
        self.assert_virsh(["domuuid", "b"], f"{UUID_A}\n\n")
        self.assertFalse(os.path.exists(os.path.join(self.d.config_dir, "a.xml")))
        self.assertTrue(os.path.exists(os.path.join(self.d.config_dir, "b.xml")))
        self.assertFalse(os.path.lexists(os.path.join(self.d.config_dir, "autostart", "a.xml")))
        self.assertTrue(os.path.islink(os.path.join(self.d.config_dir, "autostart", "b.xml")))
        self.assertEqual(self.names("--all", "--autostart"), ["b"])
        self.assertEqual(ET.fromstring(self.d.virsh("dumpxml", "b").stdout).findtext("name"), "b")
        # Errors.
        self.define("c", UUID_C)
        self.assert_virsh(["domrename", "b", "c"], "\n",
                          "error: Requested operation is not valid: domain 'c' already exists\n",
                          rc=1)
        self.assert_virsh(["domrename", "b", "b"], "\n",
                          "error: Requested operation is not valid: "
                          "domain 'b' already has that name\n", rc=1)
        self.assert_virsh(["domrename", "b", "x/y"], "\n",
                          "error: invalid argument: domain name 'x/y' must not contain '/'\n",
                          rc=1)
        self.assert_virsh(["domrename", "nosuch", "x"], "\n",
                          "error: failed to get domain 'nosuch'\n", rc=1)
        self.assertEqual(self.names("--all"), ["b", "c"])

    def test_undefine(self):
        self.define("a", UUID_A)
        self.d.virsh("autostart", "a")
        self.assert_virsh(["undefine", "a"], "Domain 'a' has been undefined\n\n")
        self.assertEqual(self.names("--all"), [])
        self.assertFalse(os.path.exists(os.path.join(self.d.config_dir, "a.xml")))
        self.assertFalse(os.path.lexists(os.path.join(self.d.config_dir, "autostart", "a.xml")))
        self.assert_virsh(["undefine", "a"], "\n", "error: failed to get domain 'a'\n", rc=1)
        # A new domain of the same name does not inherit the old autostart.
        self.define("a", UUID_B)
        self.assertEqual(self.names("--all", "--autostart"), [])

    # ---- events ------------------------------------------------------------------------

    def test_event_loop_sees_define_rename_undefine_in_order(self):
        ev = EventWatcher(self.d)
        self.addCleanup(ev.stop)
        ev.sync(self.d, self)
        self.define("e1", UUID_A)
        self.define("e1", UUID_A)  # redefine
        self.d.virsh("desc", "e1", "--config", "hello")
        self.d.virsh("domrename", "e1", "e2")
        self.d.virsh("undefine", "e2")
        expected = [
            "event 'lifecycle' for domain 'e1': Defined Added",
            "event 'lifecycle' for domain 'e1': Defined Updated",
            "event 'metadata-change' for domain 'e1': type description, uri <null>",
            "event 'lifecycle' for domain 'e1': Undefined Renamed",
            "event 'lifecycle' for domain 'e2': Defined Renamed",
            "event 'lifecycle' for domain 'e2': Undefined Removed",
        ]
        got = [ev.next() for _ in expected]
        self.assertEqual(got, expected)
        # Failed operations emit nothing.
        self.d.virsh("undefine", "e2", check=False)
        self.assertIsNone(ev.next(timeout=0.5))

    # ---- errors ------------------------------------------------------------------------

    def test_define_malformed_xml(self):
        path = self.write("bad.xml", "<domain type='qemu'><name>bad</name>\n"
                                     "<memory>128</memory\n</domain>\n")
        self.assert_virsh(["define", path], "\n",
                          f"error: Failed to define domain from {path}\n"
                          "error: malformed XML at line 3: expected '>'\n", rc=1)
        self.assertEqual(self.names("--all"), [])
        self.assertEqual(config_files(self.d), [])

    def test_define_name_with_slash(self):
        path = self.write("slash.xml", virtd.domain_xml("a/b"))
        self.assert_virsh(["define", path], "\n",
                          f"error: Failed to define domain from {path}\n"
                          "error: XML error: domain name 'a/b' must not contain '/'\n", rc=1)
        self.assertEqual(self.names("--all"), [])

    def test_define_without_os_type(self):
        path = self.write("noos.xml", "<domain type='qemu'><name>x</name>"
                                      "<memory>131072</memory></domain>")
        self.assert_virsh(["define", path], "\n",
                          f"error: Failed to define domain from {path}\n"
                          "error: XML error: missing element 'os'\n", rc=1)
        self.assertEqual(self.names("--all"), [])

    def test_unknown_domain(self):
        for cmd in (["dominfo", "nosuch"], ["domstate", "--reason", "nosuch"],
                    ["dumpxml", "nosuch"], ["autostart", "nosuch"], ["undefine", "nosuch"],
                    ["desc", "nosuch"]):
            self.assert_virsh(cmd, "\n", "error: failed to get domain 'nosuch'\n", rc=1)

    def test_duplicate_uuid_and_duplicate_name(self):
        self.define("a", UUID_A)
        path = self.write("dup.xml", virtd.domain_xml("other", UUID_A))
        self.assert_virsh(["define", path], "\n",
                          f"error: Failed to define domain from {path}\n"
                          f"error: operation failed: uuid '{UUID_A}' is already used by "
                          "domain 'a'\n", rc=1)
        path = self.write("dupname.xml", virtd.domain_xml("a", UUID_B))
        self.assert_virsh(["define", path], "\n",
                          f"error: Failed to define domain from {path}\n"
                          f"error: operation failed: domain 'a' already exists with uuid "
                          f"'{UUID_A}'\n", rc=1)
        self.assert_virsh(["list", "--all", "--uuid"], f"{UUID_A}\n\n")

    def test_readonly(self):
        self.define("a", UUID_A)
        path = self.write("b.xml", virtd.domain_xml("b", UUID_B))
        denied = "error: operation forbidden: read only access prevents {}\n"
        # `virsh -r`: libvirt's client library refuses by itself, naming its API; the
        # read-only socket (no -r): the daemon refuses, naming the procedure.
        for args, kw, names in (
                (["-r"], {}, ("virDomainDefineXML", "virDomainUndefineFlags",
                              "virDomainSetAutostart", "virDomainSetMetadata")),
                ([], {"readonly": True}, ("DOMAIN_DEFINE_XML", "DOMAIN_UNDEFINE_FLAGS",
                                          "DOMAIN_SET_AUTOSTART", "DOMAIN_SET_METADATA"))):
            self.assert_virsh([*args, "define", path], "\n",
                              f"error: Failed to define domain from {path}\n" +
                              denied.format(names[0]), rc=1, **kw)
            self.assert_virsh([*args, "undefine", "a"], "\n",
                              "error: Failed to undefine domain 'a'\n" +
                              denied.format(names[1]), rc=1, **kw)
            self.assert_virsh([*args, "autostart", "a"], "\n",
                              "error: Failed to mark domain 'a' as autostarted\n" +
                              denied.format(names[2]), rc=1, **kw)
            self.assert_virsh([*args, "desc", "a", "--config", "x"], "\n",
                              "error: Failed to set new domain description\n" +
                              denied.format(names[3]), rc=1, **kw)
            # Reads work.
            self.assertEqual(self.d.virsh(*args, "list", "--all", "--name", **kw).stdout, "a\n")
            self.assertIn("Name:           a\n", self.d.virsh(*args, "dominfo", "a", **kw).stdout)
            self.d.virsh(*args, "dumpxml", "a", **kw)
            self.d.virsh(*args, "capabilities", **kw)
            self.d.virsh(*args, "nodeinfo", **kw)
        self.assertEqual(self.names("--all"), ["a"])
        self.assert_virsh(["desc", "a"], "No description for domain: a\n")


def config_files(d):
    """The NAME.xml files in the daemon's qemu config dir, sorted."""
    if not os.path.isdir(d.config_dir):
        return []
    return sorted(f for f in os.listdir(d.config_dir) if f.endswith(".xml"))


def reference_virsh(*args):
    """The output of the same virsh command against the reference libvirtd on this host,
    or None when it does not run here."""
    sock = "/run/libvirt/libvirt-sock"
    if not os.path.exists(sock):
        return None
    res = subprocess.run(["virsh", "-r", "-c", f"qemu:///system?socket={sock}", *args],
                         capture_output=True, text=True, timeout=30)
    return res.stdout if res.returncode == 0 else None


if __name__ == "__main__":
    virtd.main()
