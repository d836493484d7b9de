#!/usr/bin/python3
"""A program that makes vigild's search for its socket slow, then connects once.

Usage: slow-owner.py HOST PORT CHILDREN FDS. It fills its fd table with FDS copies of
/dev/null and forks CHILDREN idle copies of itself, which are newer than it: vigild reads
every fd link of the user's processes, newest first, before it reaches the connecting one
(about 100 us a link here), so the lookup outlasts the 3 s attribution deadline. Then it
connects to HOST:PORT and prints one line: ok, refused, or error NAME.
"""
import errno
import os
import signal
import socket
import sys


def main():
    host, port, children, fds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    null = os.open('/dev/null', os.O_RDONLY)
    for _ in range(fds):
        os.dup(null)
    kids = []
    for _ in range(children):
        pid = os.fork()
        if pid == 0:
            signal.pause()
            os._exit(0)
        kids.append(pid)
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(30)
        try:
            sock.connect((host, port))
            print('ok', flush=True)
        except ConnectionRefusedError:
            print('refused', flush=True)
        except OSError as e:
            print('error', errno.errorcode.get(e.errno, str(e)), flush=True)
    finally:
        for pid in kids:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


if __name__ == '__main__':
    main()
