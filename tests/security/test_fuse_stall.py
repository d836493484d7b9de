#!/usr/bin/python3
"""Adversarial: a program on a FUSE file system whose server stops answering (issue 14).

A real vigild in network namespaces of its own, on a private system bus
(tests/e2e/test_dbus.py). The adversary is uid 65534 with a FUSE file system of its own
(tests/security/stall-fs.py, speaking the kernel's protocol on /dev/fuse; mounted with
allow_other, as fusermount3 does for a user where /etc/fuse.conf says user_allow_other, and
served by 65534). It runs a program from there, then makes its server stop answering: every
stat(), open() or lookup of that file then waits, for ever, for an answer that never comes.
vigild must not be one of the waiters: root's connections are still decided at once, D-Bus
answers, the stuck program's connections are decided (as an unknown program's, never let
through), and vigild stops on SIGTERM.

On the code before the fix vigild's main loop stat()ed the executable of a known process
(and, when a rule needed its hash, opened it) and hung there: this test then fails with
root's connection timing out.
"""
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))

from test_dbus import DBusTestCase, PROBE_EXE, PYTHON_EXE, NOBODY, s  # noqa: E402
from vigiltest import PEER_V4, copy_program, run  # noqa: E402
from gi.repository import Gio, GLib  # noqa: E402
import bus as testbus  # noqa: E402

STALL_FS = os.path.join(HERE, 'stall-fs.py')
STUCK_AGENT = os.path.join(HERE, 'stuck-agent.py')
FUSE_OVERLAY = os.path.join(HERE, 'fuse-overlay.py')
CONNECT_LATER = os.environ.get('VIGIL_CONNECT_LATER')
HOLD_MMAP_LOCK = os.environ.get('VIGIL_HOLD_MMAP_LOCK')
AS_NOBODY = ['setpriv', '--reuid=%d' % NOBODY, '--regid=%d' % NOBODY, '--clear-groups', '--']
# the attribution deadline is 3 s: "at once" leaves room for a loaded machine (and a
# sanitizer build), not for the deadline; root's 'ok' itself says its rule decided it (at the
# deadline it would be an unknown program, denied)
PROMPTLY = 2.5


class FuseStall(DBusTestCase):
    def setUp(self):
        super().setUp()
        self.assertTrue(os.path.exists('/dev/fuse'), 'the kernel has no FUSE (/dev/fuse)')
        self.assertTrue(CONNECT_LATER and os.access(CONNECT_LATER, os.X_OK),
                        'connect-later is not built')
        self.mnt = tempfile.mkdtemp(prefix='vigil-fuse-')
        os.chmod(self.mnt, 0o755)
        self.server = subprocess.Popen(['/usr/bin/python3', STALL_FS, self.mnt, CONNECT_LATER,
                                        str(NOBODY)], stdout=subprocess.PIPE, text=True)
        self.addCleanup(self.unmount)
        self.assertEqual(self.server.stdout.readline().strip(), 'ready')
        self.prog = os.path.join(self.mnt, 'prog')
        self.waiters = []

    def unmount(self):
        # killing the server aborts the connection: whoever still waits gets ENOTCONN
        if self.server.poll() is None:
            self.server.kill()
        self.server.wait(10)
        self.server.stdout.close()
        for proc in self.waiters:
            proc.kill()
            proc.wait(10)
        run(['umount', '-l', self.mnt], check=False)
        shutil.rmtree(self.mnt, ignore_errors=True)

    def stall(self):
        self.server.send_signal(signal.SIGUSR1)
        # the server is stuck once a stat() of its file no longer returns
        probe = subprocess.Popen(['stat', self.prog], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        # a request the server has read holds its caller, even against SIGKILL, until the
        # server answers or is gone: reaped in unmount()
        self.waiters.append(probe)
        time.sleep(0.5)
        self.assertIsNone(probe.poll(), 'the FUSE server still answers')

    def start_program(self):
        """The program from the FUSE file system, as uid 65534, waiting for orders."""
        proc = self.nets.spawn(self.nets.client, AS_NOBODY + [self.prog],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.assertEqual(proc.stdout.readline().strip(), 'started')
        return proc

    @staticmethod
    def order(proc, port):
        proc.stdin.write('%s %d\n' % (PEER_V4, port))
        proc.stdin.flush()

    def assert_root_decided_at_once(self, times=1):
        """root's connection to port 8080 (@times in a row) is decided by its rule at once"""
        for _ in range(times):
            start = time.monotonic()
            words = self.probe('tcp', PEER_V4, 8080, timeout_ms=10000)
            elapsed = time.monotonic() - start
            self.assertEqual(words[0], 'ok', self.d.log()[-3000:])
            self.assertLess(elapsed, PROMPTLY, 'root waited %.2f s' % elapsed)

    def assert_stops_at_once(self):
        """vigild stops on SIGTERM, cleanly, within 10 s"""
        start = time.monotonic()
        rc = self.d.stop()
        self.assertEqual(rc, 0, self.d.log()[-3000:])
        self.assertLess(time.monotonic() - start, 10)

    def timed_call(self, method, signature='', args=()):
        start = time.monotonic()
        params = GLib.Variant('(%s)' % signature, tuple(args)) if signature else None
        reply = self.conn.call_sync(testbus.BUS_NAME, testbus.OBJECT_PATH, testbus.INTERFACE,
                                    method, params, None, Gio.DBusCallFlags.NONE, 5000, None)
        return reply.unpack(), time.monotonic() - start

    def test_stuck_fuse_server_stalls_nothing(self):
        self.start_vigild('allow app %s port 8080\n' % PROBE_EXE)
        prog = self.start_program()
        self.addCleanup(prog.kill)
        # while its server answers: denied (DefaultAction=deny, no agent)
        self.order(prog, 9000)
        self.assertEqual(prog.stdout.readline().split(), ['error', 'ECONNREFUSED'])

        self.stall()
        self.order(prog, 8080)
        self.order(prog, 9000)

        # root's connections are decided by their rule at once
        self.assert_root_decided_at_once(times=3)

        # D-Bus answers
        _, elapsed = self.timed_call('GetProgramStats')
        self.assertLess(elapsed, PROMPTLY)
        start = time.monotonic()
        self.prop('Stats')
        self.assertLess(time.monotonic() - start, PROMPTLY)
        # published once a second
        self.wait_for(lambda: self.prop('Stats')['queued'] >= 4, 'Stats queued')

        # the stuck program's connections are decided, as an unknown program's: not let out
        for port in (8080, 9000):
            self.assertEqual(prog.stdout.readline().split(), ['error', 'ECONNREFUSED'])
        conns, elapsed = self.timed_call('GetConnections', 'a{sv}', [{}])
        self.assertLess(elapsed, PROMPTLY)
        theirs = [c for c in conns[0] if c.get('uid') == NOBODY]
        self.assertEqual(sorted(c['port'] for c in theirs), [8080, 9000, 9000], theirs)
        self.assertTrue(all(c['verdict'] == 'deny' for c in theirs), theirs)
        self.assertTrue(all(c.get('program', '') != self.prog for c in theirs[1:]), theirs)
        self.assertEqual(sum(1 for c in conns[0]
                             if c.get('uid') == 0 and c['verdict'] == 'allow'), 3, conns)

        # and it stops on SIGTERM with the server still stuck
        self.assert_stops_at_once()

    def test_rule_through_a_stuck_fuse_file_system(self):
        """A rule's program path into the stuck file system: refused by name, not waited on;
        and rules that named it at start match nothing."""
        self.start_vigild('allow app %s\nallow app %s port 8080\n' % (self.prog, PROBE_EXE))
        prog = self.start_program()
        self.addCleanup(prog.kill)
        self.stall()
        start = time.monotonic()
        with self.assertRaises(GLib.Error) as cm:
            self.call('AddRule', 'a{sv}', [{'action': s('allow'), 'program': s(self.prog),
                                            'port': s('9000')}])
        self.assertLess(time.monotonic() - start, PROMPTLY)
        self.assertEqual(Gio.DBusError.get_remote_error(cm.exception),
                         'org.vigil.Firewall1.Error.InvalidArgument', cm.exception.message)
        self.assertIn('FUSE', cm.exception.message)
        # the rule for its path lets nothing of it out
        self.order(prog, 9000)
        self.assertEqual(prog.stdout.readline().split(), ['error', 'ECONNREFUSED'])
        self.assert_root_decided_at_once()


    def start_holder(self):
        """hold-mmap-lock as uid 65534, with the stall file system's file mapped."""
        self.assertTrue(HOLD_MMAP_LOCK and os.access(HOLD_MMAP_LOCK, os.X_OK),
                        'hold-mmap-lock is not built')
        proc = self.nets.spawn(self.nets.client, AS_NOBODY + [HOLD_MMAP_LOCK, self.prog],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.assertEqual(proc.stdout.readline().strip(), 'started')
        return proc

    def test_process_holding_its_mmap_lock(self):
        """A process can hold its own mmap lock (a thread faulting in a page of a file whose
        FUSE server does not answer, another waiting to map memory): reading its cmdline or
        environ then waits for ever. vigild reads them to attribute its connections, in a
        lookup thread: its user's connections hold that user's share of the threads, not every
        thread, and root's connections are still decided by their rule at once.

        On the code before the fix lookups ran in GLib's shared pool of threads, first come
        first served: root's connection waited behind the stuck lookups until the pool had
        grown past them (one thread each 0.1 s and more), and was decided at its deadline as
        an unknown program's, denied; and an until-quit rule naming the process had the main
        loop read its cmdline: the AddRule call timed out, and the main loop never came back."""
        self.start_vigild('allow app %s port 8080\n' % PROBE_EXE)
        holder = self.start_holder()
        self.addCleanup(holder.kill)
        self.stall()
        holder.stdin.write('hold\n')
        holder.stdin.flush()
        self.assertEqual(holder.stdout.readline().strip(), 'held')
        # its cmdline cannot be read now: whoever reads it waits (until the server is gone)
        reader = subprocess.Popen(['cat', '/proc/%d/cmdline' % holder.pid],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.waiters.append(reader)
        time.sleep(0.5)
        self.assertIsNone(reader.poll(), 'the process does not hold its mmap lock')

        # a burst of its connections: each lookup of them would wait for ever
        holder.stdin.write('%s 9000 48\n' % PEER_V4)
        holder.stdin.flush()
        time.sleep(1)
        self.assert_root_decided_at_once(times=3)
        # D-Bus answers, also a call about that very process (an until-quit rule names it:
        # the main loop reads it, without its cmdline)
        _, elapsed = self.timed_call('GetProgramStats')
        self.assertLess(elapsed, PROMPTLY)
        start = time.monotonic()
        try:
            self.call('AddRule', 'a{sv}', [{'action': s('allow'), 'program': s(PROBE_EXE),
                                            'port': s('9100'), 'lifetime': s('until-quit'),
                                            'pid': GLib.Variant('u', holder.pid)}])
        except GLib.Error as e:  # not root's process: refused, by name (not timed out)
            self.assertEqual(Gio.DBusError.get_remote_error(e),
                             'org.vigil.Firewall1.Error.InvalidArgument', e.message)
        self.assertLess(time.monotonic() - start, PROMPTLY)

        # its own connections are decided at their deadline, as an unknown program's: none out
        words = holder.stdout.readline().split()
        self.assertEqual(words[0], 'done', words)
        ok, refused, other = map(int, words[1:])
        self.assertEqual(ok, 0, words)
        self.assertEqual(refused + other, 48, words)

        # and vigild stops on SIGTERM, not waiting for the lookups held
        self.assert_stops_at_once()


    def test_overlay_over_fuse_in_a_user_namespace(self):
        """A user's overlay whose lower layer is the user's FUSE file system, both mounted in
        a user namespace of theirs (unshare -Urm: Linux lets an unprivileged user mount both
        there). The program runs from the overlay: its mount table shows an overlay, and the
        stat of its executable a device of the overlay's, never FUSE; a read of its file is a
        read from the FUSE server, which stops answering. It is an unknown program (as one
        run from FUSE), vigild never reads it, and stops on SIGTERM at once.

        On the code before the fix vigild took it for a known program and hashed it for the
        prompt: a pool thread then waited in the FUSE server's read, which not even SIGKILL
        ends, and vigild could not exit (this test fails with its stop timing out)."""
        d = self.start_vigild('allow app %s port 8080\n' % PROBE_EXE)
        # a prompt wants the program's hash (shown, and pinned by a rule made from it)
        self.agent(uid=NOBODY, answer='deny')
        top = tempfile.mkdtemp(prefix='vigil-overlay-')
        os.chmod(top, 0o755)
        self.addCleanup(shutil.rmtree, top, ignore_errors=True)
        # /dev/fuse as Debian's udev makes it (0666): this machine's has 0600
        node = os.path.join(top, 'fuse')
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(10, 229))
        os.chmod(node, 0o666)
        work = os.path.join(top, 'ns')
        os.mkdir(work)
        os.chown(work, NOBODY, NOBODY)
        prog = self.nets.spawn(self.nets.client,
                               AS_NOBODY + ['unshare', '-Urm', '--', '/usr/bin/python3',
                                            FUSE_OVERLAY, node, work, CONNECT_LATER],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        words = prog.stdout.readline().split()
        self.assertEqual(words[:1], ['server'], 'no overlay over FUSE in a user namespace')
        server = int(words[1])

        def stop_overlay():
            # the server gone, whoever waits for it gets ENOTCONN
            try:
                os.kill(server, signal.SIGKILL)
            except ProcessLookupError:
                pass
            prog.kill()
            prog.wait(10)
        self.addCleanup(stop_overlay)
        self.assertEqual(prog.stdout.readline().strip(), 'started')
        # its mount table shows the overlay, where the executable is, and FUSE only beside
        with open('/proc/%d/mountinfo' % prog.pid, encoding='utf-8') as f:
            mounts = f.read()
        self.assertIn(' - overlay ', mounts)
        self.assertTrue(os.readlink('/proc/%d/exe' % prog.pid).endswith('/ovl/prog'))

        os.kill(server, signal.SIGUSR1)
        # a read of the program's file, as a hash would read it, waits
        reader = subprocess.Popen(['cat', '/proc/%d/exe' % prog.pid], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        self.waiters.append(reader)
        time.sleep(0.5)
        self.assertIsNone(reader.poll(), 'the FUSE server under the overlay still answers')

        self.order(prog, 9000)
        self.assertEqual(prog.stdout.readline().split(), ['error', 'ECONNREFUSED'])
        conns, _ = self.timed_call('GetConnections', 'a{sv}', [{}])
        theirs = [c for c in conns[0] if c.get('uid') == NOBODY]
        self.assertEqual([c['port'] for c in theirs], [9000], theirs)
        self.assertEqual(theirs[0]['verdict'], 'deny', theirs)
        self.assertFalse(theirs[0].get('program', '').endswith('/ovl/prog'), theirs)
        self.assertNotIn('hashing ', d.log())
        # root's connections are still decided by their rule at once
        self.assert_root_decided_at_once()

        self.assert_stops_at_once()


    def test_agent_executables_through_a_stuck_fuse_mount(self):
        """An administrator's AgentExecutables path that leads into a user's FUSE file
        system, whose server stops answering: a RegisterAgent is refused at once (the path
        names no file for vigild), and the main loop goes on deciding.

        On the code before the fix the main loop stat()ed the path for every RegisterAgent and
        waited for the FUSE server: this test fails with the agent's call unanswered and
        root's connection timing out."""
        self.start_vigild('allow app %s port 8080\n' % PROBE_EXE,
                          config={'AgentExecutables': self.prog})
        self.stall()
        agent = self.agent(uid=NOBODY, expect_failure=True,
                           prefix=self.nets.exec_args(self.nets.client, []))
        self.assertIsNotNone(agent.failure, 'the agent was registered: %r' % agent.seen)
        self.assertEqual(agent.failure['error'], 'org.vigil.Firewall1.Error.PermissionDenied',
                         agent.failure)
        self.assert_root_decided_at_once()

    def test_agent_holding_its_mmap_lock(self):
        """An allowed agent executable whose bus connection is also held by a process that
        holds its own mmap lock (an allowed program too: a user can do it with a preloaded
        library whose constructor does what hold-mmap-lock does) registers an agent. vigild
        reads the environment of each process holding the connection (a preloaded library):
        in a thread, in the user's share, never on the main loop. Root's connections are
        still decided at once, D-Bus answers, the registration is refused by name (Busy)
        after its deadline, and vigild stops on SIGTERM.

        On the code before the fix the main loop read the holder's environ and waited for
        ever: root's connection timed out and RegisterAgent had no reply."""
        self.assertTrue(HOLD_MMAP_LOCK and os.access(HOLD_MMAP_LOCK, os.X_OK),
                        'hold-mmap-lock is not built')
        # root-owned copies, as an administrator installs agents
        where = self.shared_dir('vigil-sec-')
        python = copy_program(PYTHON_EXE, os.path.join(where, 'vigil-agent'))
        holder_exe = copy_program(HOLD_MMAP_LOCK, os.path.join(where, 'vigil-agent-helper'))
        d = self.start_vigild('allow app %s port 8080\n' % PROBE_EXE,
                              config={'AgentExecutables': '%s;%s' % (python, holder_exe)})
        # in vigild's network namespace: vigild finds who holds the connection there
        agent = subprocess.Popen(self.nets.exec_args(self.nets.client, AS_NOBODY + [
            python, STUCK_AGENT, holder_exe, self.prog]), env=self.env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(agent.wait, 10)
        self.addCleanup(agent.kill)
        words = agent.stdout.readline().split()
        self.assertEqual(words[:1], ['started'], words)
        holder_pid = int(words[1])

        self.stall()
        agent.stdin.write('hold\n')
        agent.stdin.flush()
        self.assertEqual(agent.stdout.readline().strip(), 'held')
        reader = subprocess.Popen(['cat', '/proc/%d/environ' % holder_pid],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.waiters.append(reader)
        time.sleep(0.5)
        self.assertIsNone(reader.poll(), 'the holder does not hold its mmap lock')

        agent.stdin.write('register\n')
        agent.stdin.flush()
        time.sleep(1)  # vigild has found the holders and reads their environments
        self.assert_root_decided_at_once(times=3)
        for method in ('GetRules', 'GetProgramStats'):
            _, elapsed = self.timed_call(method)
            self.assertLess(elapsed, 1.0, '%s took %.2f s' % (method, elapsed))
        start = time.monotonic()
        self.prop('Stats')
        self.assertLess(time.monotonic() - start, 1.0)

        # refused by name once its deadline (5 s) is over: not registered, not left unanswered
        words = agent.stdout.readline().split()
        self.assertEqual(words[:2], ['refused', 'org.vigil.Firewall1.Error.Busy'],
                         '%r %s' % (words, d.log()[-3000:]))
        self.assertLess(float(words[2]), 15, words)

        self.assert_stops_at_once()


if __name__ == '__main__':
    unittest.main(verbosity=2)
