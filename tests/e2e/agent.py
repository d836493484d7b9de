#!/usr/bin/python3
"""agent.py: a prompt agent for tests: registers with vigild, reports, answers when told.

Talks JSON lines. On stdout it reports what happens:
    {"event": "registered", "name": ":1.5"}
    {"event": "register-failed", "error": "org.vigil.Firewall1.Error.Exists", "message": ...}
    {"event": "prompt", "request": 3, "connection": {...}}
    {"event": "cancel", "request": 3, "reason": "timeout"}
    {"event": "notify", "kind": "blocked", "details": {...}}
    {"event": "result", "tag": ..., "ok": true} or {..., "ok": false, "error": NAME, "message": ...}
On stdin it takes commands:
    {"cmd": "reply", "request": 3, "verdict": "allow", "options": {"duration": "forever"}, "tag": 1}
        (an answer that makes a rule is refused with TooSoon in the first second after the
        prompt; the agent answers again until it is taken, unless the command has
        "retry": false; the result then has "too_soon": how many times it was refused)
    {"cmd": "call", "method": "GetPending", "signature": "", "args": [], "tag": 2}
    {"cmd": "unregister", "tag": 3}
    {"cmd": "register", "tag": 4}  (again, after unregister; the result is a "result" event)
    {"cmd": "quit"}
"call" results carry "value" (the unpacked reply). With --answer VERDICT it replies to every
prompt itself (options from --options JSON). The bus is DBUS_SYSTEM_BUS_ADDRESS.
"""
import argparse
import json
import os
import sys

import gi

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

NAME = 'org.vigil.Firewall1'
PATH = '/org/vigil/Firewall1'
IFACE = 'org.vigil.Firewall1'
AGENT_PATH = '/org/vigil/test/Agent'
AGENT_XML = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'dbus',
                         'org.vigil.Firewall1.Agent.xml')
TOO_SOON = 'org.vigil.Firewall1.Error.TooSoon'
OPTION_TYPES = {'duration': 's', 'seconds': 'u', 'host-scope': 's', 'port-scope': 's'}


def emit(**event):
    sys.stdout.write(json.dumps(event, default=str) + '\n')
    sys.stdout.flush()


def to_variant_dict(options, types=OPTION_TYPES):
    """{"duration": "forever"} -> a{sv}; a value given as [TYPE, VALUE] keeps that type."""
    out = {}
    for key, value in options.items():
        if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
            out[key] = GLib.Variant(value[0], value[1])
        else:
            out[key] = GLib.Variant(types.get(key, 's'), value)
    return out


def error_name(error):
    return Gio.DBusError.get_remote_error(error) or str(error)


class Agent:
    def __init__(self, args):
        self.args = args
        self.loop = GLib.MainLoop()
        if args.bus_fd is not None:
            self.bus = self.bus_from_fd(args.bus_fd)
        else:
            self.bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
        with open(AGENT_XML, encoding='utf-8') as f:
            info = Gio.DBusNodeInfo.new_for_xml(f.read()).interfaces[0]
        self.bus.register_object(AGENT_PATH, info, self.on_agent_call, None, None)
        GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()),
                          GLib.PRIORITY_DEFAULT, GLib.IOCondition.IN | GLib.IOCondition.HUP,
                          self.on_stdin)

    @staticmethod
    def bus_from_fd(fd):
        """A message bus connection on socket @fd, which another process may have opened."""
        socket = Gio.Socket.new_from_fd(fd)
        stream = socket.connection_factory_create_connection()
        flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
                 | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
        return Gio.DBusConnection.new_sync(stream, None, flags, None, None)

    def daemon_owner(self):
        reply = self.bus.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                   'org.freedesktop.DBus', 'GetNameOwner',
                                   GLib.Variant('(s)', (NAME,)), None,
                                   Gio.DBusCallFlags.NONE, -1, None)
        return reply.unpack()[0]

    def on_agent_call(self, conn, sender, path, iface, method, params, invocation):
        # only vigild may call an agent
        if sender != self.daemon_owner():
            invocation.return_dbus_error('org.freedesktop.DBus.Error.AccessDenied',
                                         'only vigild may call this agent')
            return
        args = params.unpack()
        if method == 'Prompt':
            emit(event='prompt', request=args[0], connection=args[1])
            if self.args.answer:
                GLib.idle_add(self.reply, args[0], self.args.answer,
                              json.loads(self.args.options), None)
        elif method == 'Cancel':
            emit(event='cancel', request=args[0], reason=args[1])
        elif method == 'Notify':
            emit(event='notify', kind=args[0], details=args[1])
        invocation.return_value(None)

    def call(self, method, variant, tag, reply_type=None, retry_error=None, tries=0):
        def done(conn, result):
            try:
                value = conn.call_finish(result)
                emit(event='result', tag=tag, ok=True, too_soon=tries,
                     value=value.unpack() if value is not None else None)
            except GLib.Error as e:
                name = error_name(e)
                Gio.DBusError.strip_remote_error(e)
                if name == retry_error and tries < 50:
                    # as a person would: the prompt is still there, answer again a bit later
                    def again():
                        self.call(method, variant, tag, reply_type, retry_error, tries + 1)
                        return False
                    GLib.timeout_add(100, again)
                    return
                emit(event='result', tag=tag, ok=False, error=name, message=e.message,
                     too_soon=tries)
        self.bus.call(NAME, PATH, IFACE, method, variant, reply_type, Gio.DBusCallFlags.NONE,
                      30000, None, done)

    def reply(self, request, verdict, options, tag, retry=True):
        self.call('Reply', GLib.Variant('(tsa{sv})', (request, verdict,
                                                      to_variant_dict(options))), tag,
                  retry_error=TOO_SOON if retry else None)
        return False

    def register(self):
        try:
            self.bus.call_sync(NAME, PATH, IFACE, 'RegisterAgent',
                               GLib.Variant('(o)', (AGENT_PATH,)), None,
                               Gio.DBusCallFlags.NONE, 30000, None)
            emit(event='registered', name=self.bus.get_unique_name())
        except GLib.Error as e:
            emit(event='register-failed', error=error_name(e), message=e.message)

    def on_stdin(self, channel, condition):
        line = sys.stdin.readline()
        if not line:
            self.loop.quit()
            return False
        cmd = json.loads(line)
        tag = cmd.get('tag')
        if cmd['cmd'] == 'reply':
            self.reply(cmd['request'], cmd['verdict'], cmd.get('options', {}), tag,
                       cmd.get('retry', True))
        elif cmd['cmd'] == 'call':
            args = [to_variant_dict(a, {}) if isinstance(a, dict) else a
                    for a in cmd.get('args', [])]
            variant = GLib.Variant('(%s)' % cmd['signature'], tuple(args)) \
                if cmd['signature'] else None
            self.call(cmd['method'], variant, tag)
        elif cmd['cmd'] == 'unregister':
            self.call('UnregisterAgent', None, tag)
        elif cmd['cmd'] == 'register':
            self.call('RegisterAgent', GLib.Variant('(o)', (AGENT_PATH,)), tag)
        elif cmd['cmd'] == 'quit':
            self.loop.quit()
            return False
        return True

    def run(self):
        if not self.args.no_register:
            self.register()
        else:
            emit(event='connected', name=self.bus.get_unique_name())
        self.loop.run()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--answer', help='reply VERDICT to every prompt at once')
    parser.add_argument('--options', default='{}', help='Reply options as JSON')
    parser.add_argument('--no-register', action='store_true',
                        help='do not register: a plain client driven over stdin')
    parser.add_argument('--bus-fd', type=int,
                        help='use this inherited socket, connected to the bus, not a new one')
    Agent(parser.parse_args()).run()


if __name__ == '__main__':
    main()
