#!/usr/bin/python3
"""connect.py: opens COUNT TCP connections to HOST:PORT at the same time, for tests.

    connect.py HOST PORT COUNT TIMEOUT_S [--wait]

Prints one JSON line: {"ok": N, "refused": N, "timeout": N, "other": N, "seconds": S}, where
seconds is how long until the last attempt ended. With --wait it then waits for a line on
stdin before it exits (a process that stays, for until-quit rules), and after that line
connects once more and prints the same summary for that one connection.
"""
import errno
import json
import select
import socket
import sys
import time


def attempt_all(host, port, count, timeout):
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    socks = []
    start = time.monotonic()
    result = {'ok': 0, 'refused': 0, 'timeout': 0, 'other': 0}
    for _ in range(count):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((host, port))
        if err not in (0, errno.EINPROGRESS):
            result['refused' if err == errno.ECONNREFUSED else 'other'] += 1
            s.close()
            continue
        socks.append(s)
    deadline = start + timeout
    pending = {s.fileno(): s for s in socks}
    poller = select.poll()
    for fd in pending:
        poller.register(fd, select.POLLOUT | select.POLLERR | select.POLLHUP)
    while pending:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for fd, _ in poller.poll(left * 1000):
            s = pending.pop(fd)
            poller.unregister(fd)
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err == 0:
                result['ok'] += 1
            elif err == errno.ECONNREFUSED:
                result['refused'] += 1
            else:
                result['other'] += 1
            s.close()
    result['timeout'] += len(pending)
    for s in pending.values():
        s.close()
    result['seconds'] = round(time.monotonic() - start, 3)
    return result


def main():
    host, port, count, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
        float(sys.argv[4])
    print(json.dumps(attempt_all(host, port, count, timeout)), flush=True)
    if '--wait' in sys.argv[5:]:
        sys.stdin.readline()
        print(json.dumps(attempt_all(host, port, 1, timeout)), flush=True)
        sys.stdin.readline()


if __name__ == '__main__':
    main()
