#!/usr/bin/python3
"""attacker.py: sends org.vigil.Firewall1 calls as whoever runs it, and counts the answers.

    attacker.py METHOD TYPE DATA_FILE [--repeat N] [--window W] [--connections K]
                [--interactive] [--timeout-ms T] [--hold-s S]
    attacker.py --batch LIST_FILE

With --batch, LIST_FILE holds JSON [[METHOD, TYPE, DATA_FILE], ...]: each call is made once,
one after another on one connection, and the output is {"results": [[answer, message,
seconds], ...]} in their order.

The arguments are the serialised GVariant of type TYPE in DATA_FILE (raw bytes, as
GLib.Variant.get_data_as_bytes() gives them), so that a test can send what Python's
dictionaries cannot say (a key twice) and what a text format would take long to read.
Each of K connections sends the call N times, at most W at a time. With --hold-s the
connections stay open S seconds after the last answer (a test looks at vigild meanwhile).
Prints one JSON line: {"answers": {"ok" or error name: count}, "messages": {name: first
message}, "max_s": slowest answer, "no_answer": count}.
"""
import argparse
import json
import os
import sys
import time

import gi

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

NAME = 'org.vigil.Firewall1'
PATH = '/org/vigil/Firewall1'
IFACE = 'org.vigil.Firewall1'


def connect():
    flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
             | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
    return Gio.DBusConnection.new_for_address_sync(os.environ['DBUS_SYSTEM_BUS_ADDRESS'],
                                                   flags, None, None)


def load_params(type_string, path):
    if type_string == '()':
        return None
    with open(path, 'rb') as f:
        data = GLib.Bytes.new(f.read())
    return GLib.Variant.new_from_bytes(GLib.VariantType(type_string), data, False)


def batch(path, timeout_ms):
    with open(path) as f:
        calls = json.load(f)
    conn = connect()
    results = []
    for method, type_string, data in calls:
        params = load_params(type_string, data)
        start = time.monotonic()
        try:
            conn.call_sync(NAME, PATH, IFACE, method, params, None, Gio.DBusCallFlags.NONE,
                           timeout_ms, None)
            answer, message = 'ok', ''
        except GLib.Error as e:
            answer = Gio.DBusError.get_remote_error(e) or 'local:' + e.message
            message = e.message
            if answer.startswith('local:'):
                conn = connect()  # the bus may have closed a connection that sent junk
        results.append([answer, message[:2000], time.monotonic() - start])
    print(json.dumps({'results': results}), flush=True)
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--batch':
        return batch(sys.argv[2], 30000)
    parser = argparse.ArgumentParser()
    parser.add_argument('method')
    parser.add_argument('type')
    parser.add_argument('data')
    parser.add_argument('--repeat', type=int, default=1)
    parser.add_argument('--window', type=int, default=8)
    parser.add_argument('--connections', type=int, default=1)
    parser.add_argument('--interactive', action='store_true')
    parser.add_argument('--timeout-ms', type=int, default=30000)
    parser.add_argument('--hold-s', type=float, default=0)
    args = parser.parse_args()

    params = load_params(args.type, args.data)
    flags = Gio.DBusCallFlags.NONE
    if args.interactive:
        flags |= Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION
    loop = GLib.MainLoop()
    answers, messages = {}, {}
    state = {'max_s': 0.0, 'outstanding': 0}
    conns = [connect() for _ in range(args.connections)]

    def send(conn, left):
        if left[0] == 0:
            return
        left[0] -= 1
        state['outstanding'] += 1
        start = time.monotonic()
        conn.call(NAME, PATH, IFACE, args.method, params, None, flags, args.timeout_ms, None,
                  done, (conn, left, start))

    def done(conn, result, data):
        _, left, start = data
        try:
            conn.call_finish(result)
            name = 'ok'
        except GLib.Error as e:
            name = Gio.DBusError.get_remote_error(e) or 'local:' + e.message
            messages.setdefault(name, e.message)
        answers[name] = answers.get(name, 0) + 1
        state['max_s'] = max(state['max_s'], time.monotonic() - start)
        state['outstanding'] -= 1
        send(conn, left)
        if state['outstanding'] == 0:
            loop.quit()

    for conn in conns:
        left = [args.repeat]
        for _ in range(min(args.window, args.repeat)):
            send(conn, left)
    if state['outstanding'] > 0:
        loop.run()
    if args.hold_s > 0:
        print(json.dumps({'holding': True}), flush=True)
        time.sleep(args.hold_s)
    total = args.repeat * args.connections
    print(json.dumps({'answers': answers, 'messages': messages, 'max_s': state['max_s'],
                      'no_answer': total - sum(answers.values())}), flush=True)
    for conn in conns:
        conn.close_sync(None)
    return 0


if __name__ == '__main__':
    sys.exit(main())
