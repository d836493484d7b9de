#!/usr/bin/python3
"""handoff.py: the fork trick against AgentExecutables, run by a program that is not allowed.

    handoff.py PINNED MODE [agent.py options]

Opens a connection to the system bus (DBUS_SYSTEM_BUS_ADDRESS, unix:path=...), so that the
bus records this process as the one that opened it, and forks. This process then execs
PINNED (an allowed agent executable, a copy of python told to sleep), and the child, still
the program that started here, hands the connection to agent.py (--bus-fd) once its parent
runs PINNED: for the child's RegisterAgent the bus names PINNED's process.

MODE "moved": the parent's copy closes at exec, the child alone holds the connection;
"shared": the parent keeps its copy across exec (both hold it, only the child uses it).
agent.py reports on stdout as usual; the parent's pid (PINNED's) is the launcher's.
"""
import os
import socket
import sys
import time

AGENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'e2e', 'agent.py')


def main():
    pinned, mode = sys.argv[1], sys.argv[2]
    address = os.environ['DBUS_SYSTEM_BUS_ADDRESS']
    assert address.startswith('unix:path='), address
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(address[len('unix:path='):].split(',')[0])
    parent = os.getpid()
    if os.fork() != 0:
        # the parent becomes the allowed program; the connection goes along or not
        os.set_inheritable(conn.fileno(), mode == 'shared')
        os.execv(pinned, [pinned, '-c', 'import time; time.sleep(600)'])
    # the child waits until the process the bus knows runs the allowed program
    deadline = time.monotonic() + 20
    while os.readlink('/proc/%d/exe' % parent) != pinned:
        if time.monotonic() > deadline:
            sys.exit('the parent did not exec %s' % pinned)
        time.sleep(0.01)
    os.set_inheritable(conn.fileno(), True)
    os.execv(sys.executable, [sys.executable, AGENT, '--bus-fd', str(conn.fileno())]
             + sys.argv[3:])


if __name__ == '__main__':
    main()
