#!/usr/bin/python3
"""A user's overlay over a user's FUSE file system, in a user namespace of theirs (issue 14).

    unshare -Urm fuse-overlay.py FUSE-DEVICE DIR PROGRAM

Run as an unprivileged user in a user and mount namespace of their own (`unshare -Urm`, which
any user may run where user namespaces are enabled, as on Debian). Mounts stall-fs.py (a FUSE
file system whose server stops answering on SIGUSR1) at DIR/fuse, serving a copy of PROGRAM,
and an overlay at DIR/ovl whose lower layer is DIR/fuse (upper layer on a tmpfs), as the user
may in that namespace. Prints "server PID" (the FUSE server, for the caller's SIGUSR1), then
runs DIR/ovl/prog in its place: the program runs from the overlay, and every read of its file
is a read from the FUSE server, but the mount the program's executable is on is the overlay,
not FUSE. FUSE-DEVICE is /dev/fuse, or a node of it (the test makes one with Debian's mode,
0666, where the machine's has 0600).
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def mount(source, target, fstype, options):
    subprocess.run(['mount', '-t', fstype, '-o', options, source, target], check=True)


def main():
    device, top, program = sys.argv[1:4]
    fuse, upper, ovl = (os.path.join(top, name) for name in ('fuse', 'upper', 'ovl'))
    for path in (fuse, upper, ovl):
        os.mkdir(path)
    server = subprocess.Popen(['/usr/bin/python3', os.path.join(HERE, 'stall-fs.py'), fuse,
                               program, str(os.getuid())],
                              env=dict(os.environ, VIGIL_FUSE_DEV=device),
                              stdout=subprocess.PIPE, text=True)
    if server.stdout.readline().strip() != 'ready':
        sys.exit('the FUSE server did not start')
    mount('tmpfs', upper, 'tmpfs', 'mode=0755')
    os.mkdir(os.path.join(upper, 'data'))
    os.mkdir(os.path.join(upper, 'work'))
    mount('overlay', ovl, 'overlay', 'lowerdir=%s,upperdir=%s/data,workdir=%s/work'
          % (fuse, upper, upper))
    print('server %d' % server.pid, flush=True)
    prog = os.path.join(ovl, 'prog')
    os.execv(prog, [prog])


if __name__ == '__main__':
    main()
