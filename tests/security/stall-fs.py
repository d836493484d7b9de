#!/usr/bin/python3
"""A FUSE file system whose server stops answering on demand (tests/security/test_fuse_stall.py).

Speaks the kernel's FUSE protocol on /dev/fuse itself (no libfuse, no package): one directory
holding one executable, "prog", a copy of the file given. Attributes are never cached by the
kernel (attr_valid and entry_valid 0), so every stat() of prog asks this server.

    stall-fs.py MOUNTPOINT SOURCE-FILE UID

As root it opens /dev/fuse and mounts (fd=,user_id=UID,allow_other: what fusermount3 does for
a user when /etc/fuse.conf says user_allow_other), then drops to UID and serves as that user.
Run as UID already (root of a user namespace of its own: tests/security/fuse-overlay.py), it
mounts there, as a user may; $VIGIL_FUSE_DEV names the device to open instead of /dev/fuse.
It prints "ready" once the kernel's INIT is answered. SIGUSR1: stop answering (every request
stays unanswered; the callers wait, as with a stuck sshfs); SIGUSR2: answer again. Killing it
aborts the connection (pending calls fail with ENOTCONN); the caller unmounts.
"""
import ctypes
import errno
import os
import signal
import stat
import struct
import sys

LOOKUP, FORGET, GETATTR, OPEN, READ, STATFS, RELEASE = 1, 2, 3, 14, 15, 17, 18
GETXATTR, LISTXATTR, FLUSH, INIT, OPENDIR, READDIR, RELEASEDIR = 22, 23, 25, 26, 27, 28, 29
ACCESS, INTERRUPT, DESTROY, BATCH_FORGET = 34, 36, 38, 42
NO_REPLY = (FORGET, BATCH_FORGET, INTERRUPT)

IN_HDR = struct.Struct('<IIQQIIIHH')
OUT_HDR = struct.Struct('<IiQ')
ATTR = struct.Struct('<QQQQQQIIIIIIIIII')
ROOT, PROG = 1, 2

stalled = False


def attr(node, size):
    now = 1700000000
    if node == ROOT:
        return ATTR.pack(ROOT, 0, 0, now, now, now, 0, 0, 0, stat.S_IFDIR | 0o755, 2,
                         0, 0, 0, 4096, 0)
    return ATTR.pack(PROG, size, (size + 511) // 512, now, now, now, 0, 0, 0,
                     stat.S_IFREG | 0o755, 1, 0, 0, 0, 4096, 0)


def reply(fd, unique, error=0, data=b''):
    try:
        os.write(fd, OUT_HDR.pack(OUT_HDR.size + len(data), -error, unique) + data)
    except OSError as e:
        if e.errno != errno.ENOENT:  # the caller was interrupted meanwhile
            raise


def answer(fd, opcode, unique, nodeid, body, content):
    size = len(content)
    if opcode == INIT:
        # 7.31: the full init_out, no optional flags; max_write 128 KiB
        reply(fd, unique, data=struct.pack('<IIIIHHIIHHII6I', 7, 31, 131072, 0, 0, 0, 131072,
                                           1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    elif opcode == LOOKUP:
        name = body.split(b'\0', 1)[0]
        if nodeid != ROOT or name != b'prog':
            reply(fd, unique, errno.ENOENT)
            return
        reply(fd, unique, data=struct.pack('<QQQQII', PROG, 1, 0, 0, 0, 0) + attr(PROG, size))
    elif opcode == GETATTR:
        reply(fd, unique, data=struct.pack('<QII', 0, 0, 0) + attr(nodeid, size))
    elif opcode in (OPEN, OPENDIR):
        reply(fd, unique, data=struct.pack('<QII', 0, 0, 0))
    elif opcode == READ:
        _, offset, length = struct.unpack_from('<QQI', body)
        reply(fd, unique, data=content[offset:offset + length] if nodeid == PROG else b'')
    elif opcode == READDIR:
        reply(fd, unique)
    elif opcode == STATFS:
        reply(fd, unique, data=struct.pack('<QQQQQIIII6I', 0, 0, 0, 0, 0, 4096, 255, 4096, 0,
                                           0, 0, 0, 0, 0, 0))
    elif opcode in (RELEASE, RELEASEDIR, FLUSH):
        reply(fd, unique)
    else:  # GETXATTR, LISTXATTR, ACCESS, ...: the kernel stops asking
        reply(fd, unique, errno.ENOSYS)


def main():
    global stalled
    mountpoint, source, uid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(source, 'rb') as f:
        content = f.read()
    fd = os.open(os.environ.get('VIGIL_FUSE_DEV', '/dev/fuse'), os.O_RDWR | os.O_CLOEXEC)
    libc = ctypes.CDLL(None, use_errno=True)
    opts = 'fd=%d,rootmode=40000,user_id=%d,group_id=%d,allow_other' % (fd, uid, uid)
    if libc.mount(b'vigil-stall', mountpoint.encode(), b'fuse.vigilstall', 0,
                  opts.encode()) != 0:
        e = ctypes.get_errno()
        raise OSError(e, 'mount: ' + os.strerror(e))
    if os.getuid() != uid:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)

    held = []

    def on_signal(signum, frame):
        global stalled
        stalled = signum == signal.SIGUSR1
        while not stalled and held:
            answer(fd, *held.pop(0), content)

    signal.signal(signal.SIGUSR1, on_signal)
    signal.signal(signal.SIGUSR2, on_signal)
    while True:
        try:
            msg = os.read(fd, 1 << 20)
        except OSError as e:
            if e.errno == errno.ENODEV:  # unmounted
                return
            if e.errno in (errno.EINTR, errno.ENOENT):
                continue
            raise
        _, opcode, unique, nodeid = IN_HDR.unpack_from(msg)[:4]
        body = msg[IN_HDR.size:]
        if opcode in NO_REPLY:
            continue
        if opcode == DESTROY:
            return
        if stalled:
            held.append((opcode, unique, nodeid, body))
            continue
        answer(fd, opcode, unique, nodeid, body, content)
        if opcode == INIT:
            print('ready', flush=True)


if __name__ == '__main__':
    main()
