#!/usr/bin/python3
"""A stand-in for systemd-machined on a private D-Bus, for tests.

Owns org.freedesktop.machine1 on the bus at --address and answers the Manager calls virtd
makes (CreateMachineWithNetwork, CreateMachine, TerminateMachine), appending each call to
--log as "METHOD ARGS" with ARGS in GVariant text form. Writes --ready once it owns the name.

--fail NAME:MESSAGE   answer every CreateMachine* with that D-Bus error
--no-network          offer no CreateMachineWithNetwork (an old machined)
--delay SECONDS       answer every call that late
--cgroup-dirs D1,D2   play systemd: create the machine's scope below each hierarchy
                      directory (<dir>/machine.slice/machine-<escaped name>.scope), move the
                      leader into it, and remove the scope (and an emptied machine.slice)
                      again on TerminateMachine
"""
import argparse
import os
import signal
import sys

from gi.repository import Gio, GLib

NAME = "org.freedesktop.machine1"
PATH = "/org/freedesktop/machine1"

METHODS = {
    "CreateMachineWithNetwork": [("name", "s"), ("id", "ay"), ("service", "s"),
                                 ("class", "s"), ("leader", "u"), ("root_directory", "s"),
                                 ("ifindices", "ai"), ("scope_properties", "a(sv)")],
    "CreateMachine": [("name", "s"), ("id", "ay"), ("service", "s"), ("class", "s"),
                      ("leader", "u"), ("root_directory", "s"),
                      ("scope_properties", "a(sv)")],
    "TerminateMachine": [("id", "s")],
}


def introspection(no_network):
    out = ['<node><interface name="org.freedesktop.machine1.Manager">']
    for method, args in METHODS.items():
        if no_network and method == "CreateMachineWithNetwork":
            continue
        out.append('<method name="%s">' % method)
        out += ['<arg name="%s" type="%s" direction="in"/>' % a for a in args]
        if method.startswith("Create"):
            out.append('<arg name="path" type="o" direction="out"/>')
        out.append('</method>')
    out.append('</interface></node>')
    return "".join(out)


def unit_escape(text):
    out = []
    for i, ch in enumerate(text):
        if ch == "/":
            out.append("-")
        elif (i == 0 and ch == ".") or not (ch.isascii() and (ch.isalnum() or ch in ":_.")):
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


class Machined:
    def __init__(self, opts):
        self.opts = opts
        self.machines = {}  # name -> [scope directories]

    def record(self, method, params):
        with open(self.opts.log, "a") as f:
            f.write("%s %s\n" % (method, params.print_(True)))

    def make_scope(self, name, leader):
        dirs = []
        unit = "machine-%s.scope" % unit_escape(name)
        for base in self.opts.cgroup_dirs:
            scope = os.path.join(base, "machine.slice", unit)
            os.makedirs(scope, exist_ok=True)
            with open(os.path.join(scope, "cgroup.procs"), "w") as f:
                f.write(str(leader))
            dirs.append(scope)
        return dirs

    def remove_scope(self, dirs):
        for scope in dirs:
            # deepest first: what virtd left below the scope goes too, as with systemd
            for root, _, _ in os.walk(scope, topdown=False):
                try:
                    os.rmdir(root)
                except OSError:
                    pass
            try:
                os.rmdir(os.path.dirname(scope))  # machine.slice, when nobody else is in it
            except OSError:
                pass

    def answer(self, method, params, invocation):
        self.record(method, params)
        args = params.unpack()
        if method.startswith("Create"):
            if self.opts.fail:
                err, _, message = self.opts.fail.partition(":")
                invocation.return_dbus_error(err, message)
                return False
            name, leader = args[0], args[4]
            if name in self.machines:
                invocation.return_dbus_error("org.freedesktop.machine1.MachineExists",
                                             "Machine '%s' already exists" % name)
                return False
            try:
                self.machines[name] = self.make_scope(name, leader)
            except OSError as e:
                invocation.return_dbus_error("org.freedesktop.DBus.Error.Failed", str(e))
                return False
            invocation.return_value(GLib.Variant("(o)", (PATH + "/machine/x",)))
        else:
            name = args[0]
            if name not in self.machines:
                invocation.return_dbus_error("org.freedesktop.machine1.NoSuchMachine",
                                             "No machine '%s' known" % name)
                return False
            self.remove_scope(self.machines.pop(name))
            invocation.return_value(None)
        return False

    def on_call(self, conn, sender, path, iface, method, params, invocation):
        if self.opts.delay:
            GLib.timeout_add(int(self.opts.delay * 1000), self.answer, method, params,
                             invocation)
        else:
            self.answer(method, params, invocation)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--address", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--ready")
    p.add_argument("--fail")
    p.add_argument("--no-network", action="store_true")
    p.add_argument("--delay", type=float, default=0)
    p.add_argument("--cgroup-dirs", type=lambda s: [d for d in s.split(",") if d],
                   default=[])
    opts = p.parse_args()

    machined = Machined(opts)
    flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
             Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
    conn = Gio.DBusConnection.new_for_address_sync(opts.address, flags, None, None)
    info = Gio.DBusNodeInfo.new_for_xml(introspection(opts.no_network)).interfaces[0]
    conn.register_object(PATH, info, machined.on_call, None, None)
    reply = conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus",
                           "org.freedesktop.DBus", "RequestName",
                           GLib.Variant("(su)", (NAME, 4)), GLib.VariantType("(u)"),
                           Gio.DBusCallFlags.NONE, 5000, None)
    if reply.unpack()[0] != 1:
        sys.exit("cannot own %s" % NAME)
    if opts.ready:
        with open(opts.ready, "w") as f:
            f.write("%d\n" % os.getpid())

    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    conn.connect("closed", lambda *a: loop.quit())
    loop.run()
    # leave no scope behind
    for dirs in machined.machines.values():
        machined.remove_scope(dirs)


if __name__ == "__main__":
    main()
