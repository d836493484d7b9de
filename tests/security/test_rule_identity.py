#!/usr/bin/python3
"""Adversarial: a rule's program path names a file, not a string (issue 13, item 4).

A real vigild in network namespaces of its own (tests/e2e/vigiltest.py). The adversary is an
ordinary user (uid 65534) who, in a user and mount namespace of their own (`unshare -Urm`,
which Debian 12 allows any user), bind-mounts another program over the path of an allowed
one: /proc/PID/exe then shows the allowed path, but the file is theirs. Conversely a rule for
a symbolic link (/usr/bin/python3 -> python3.11, every alternatives-managed command) names
the file the link points to, and follows it when the link or the file is replaced.
"""
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))
sys.path.insert(0, os.path.join(HERE, '..', 'dbus'))

from vigiltest import E2ETestCase, PEER_V4, PROBE  # noqa: E402
from test_dbus import DBusTestCase  # noqa: E402

NOBODY = 65534
AS_NOBODY = ['setpriv', '--reuid=%d' % NOBODY, '--regid=%d' % NOBODY, '--clear-groups', '--']


class ProgramFiles(E2ETestCase):
    """Copies of vigil-probe in a directory every user can read: the programs of the tests."""

    def setUp(self):
        super().setUp()
        self.dir = self.shared_dir('vigil-identity-')

    def program(self, name, extra=b''):
        """A copy of vigil-probe at DIR/name; @extra bytes make it another file's content."""
        path = os.path.join(self.dir, name)
        with open(PROBE, 'rb') as src, open(path + '.tmp', 'wb') as dst:
            dst.write(src.read() + extra)
        os.chmod(path + '.tmp', 0o755)
        os.rename(path + '.tmp', path)  # as dpkg does: a new inode at the path
        return path

    def run_probe(self, exe, port, script=None):
        """vigil-probe (as @exe) connecting to the peer as uid 65534, optionally run by a shell
        @script inside `unshare -Urm`; returns its first words."""
        probe = [exe, 'tcp', PEER_V4, str(port), '--timeout', '1500']
        if script is None:
            cmd = AS_NOBODY + probe
        else:
            cmd = AS_NOBODY + ['unshare', '-Urm', 'sh', '-c', script + ' && exec "$@"', 'sh'] + probe
        res = self.nets.client_run(cmd, timeout=20)
        words = res.stdout.split()
        self.assertTrue(words, 'vigil-probe printed nothing: %s' % res.stderr)
        return words[:2]


class Impostor(ProgramFiles):
    def test_bind_mount_over_an_allowed_path_is_another_program(self):
        allowed = self.program('allowed')
        impostor = self.program('impostor', extra=b'\0impostor')
        d = self.vigild('allow app %s port 9000\n' % allowed,
                        config={'DefaultAction': 'deny'})
        self.assertEqual(self.run_probe(allowed, 9000)[0], 'ok')

        # the premise: an unprivileged user can do this here
        words = self.run_probe(allowed, 80, 'mount --bind %s %s' % (impostor, allowed))
        self.assertEqual(words, ['error', 'ECONNREFUSED'], 'DefaultAction=deny applies')

        words = self.run_probe(allowed, 9000, 'mount --bind %s %s' % (impostor, allowed))
        self.assertEqual(words, ['error', 'ECONNREFUSED'],
                         'the impostor got through the rule for the file it covered')
        # logged with the path it shows, which is not the file the rule names
        self.assertDecision(d, port=9000, program=allowed, verdict='deny', rule='default',
                            uid=NOBODY)

        # and the real program still is what the rule allows
        self.assertEqual(self.run_probe(allowed, 9000)[0], 'ok')

    def test_rule_follows_a_package_upgrade(self):
        allowed = self.program('allowed')
        impostor = self.program('impostor', extra=b'\0impostor')
        self.vigild('allow app %s port 9000\n' % allowed, config={'DefaultAction': 'deny'})
        self.assertEqual(self.run_probe(allowed, 9000)[0], 'ok')
        before = os.stat(allowed).st_ino
        self.program('allowed', extra=b'\0version 2')  # a new file at the path
        self.assertNotEqual(os.stat(allowed).st_ino, before)
        self.assertEqual(self.run_probe(allowed, 9000)[0], 'ok')
        words = self.run_probe(allowed, 9000, 'mount --bind %s %s' % (impostor, allowed))
        self.assertEqual(words, ['error', 'ECONNREFUSED'])


class SymbolicLinks(ProgramFiles):
    def test_rule_for_a_link_matches_the_file_it_points_to(self):
        target = self.program('probe-1.0')
        link = os.path.join(self.dir, 'probe')
        os.symlink('probe-1.0', link)
        d = self.vigild('allow app %s port 8080\n' % link, config={'DefaultAction': 'deny'})
        # run through the link or by the file's own name: the kernel shows the file
        self.assertEqual(self.run_probe(link, 8080)[0], 'ok')
        self.assertEqual(self.run_probe(target, 8080)[0], 'ok')
        self.assertDecision(d, port=8080, program=target, verdict='allow')
        self.assertEqual(self.run_probe(target, 9000), ['error', 'ECONNREFUSED'])
        # and vigild says what the rule names
        self.assertIn('app %s is a symbolic link: the rule matches %s' % (link, target), d.log())

    def test_rule_follows_a_link_that_changes(self):
        one = self.program('probe-1')
        two = self.program('probe-2', extra=b'\0two')
        link = os.path.join(self.dir, 'probe')
        os.symlink('probe-1', link)
        d = self.vigild('allow app %s port 8080\n' % link, config={'DefaultAction': 'deny'})
        self.assertEqual(self.run_probe(one, 8080)[0], 'ok')
        self.assertEqual(self.run_probe(two, 8080), ['error', 'ECONNREFUSED'])

        # update-alternatives: a new link renamed over the old one
        os.symlink('probe-2', link + '.new')
        os.rename(link + '.new', link)
        d.wait_for_log('app %s now names %s' % (link, two), timeout=10)
        self.assertEqual(self.run_probe(two, 8080)[0], 'ok')
        self.assertEqual(self.run_probe(one, 8080), ['error', 'ECONNREFUSED'])


class SymbolicLinksShown(ProgramFiles, DBusTestCase):
    def test_get_rules_and_vigilctl_show_the_file_a_link_names(self):
        target = self.program('probe-1.0')
        link = os.path.join(self.dir, 'probe')
        os.symlink('probe-1.0', link)
        self.start_vigild('allow app %s port 8080\nallow app %s port 80\n' % (link, target))
        rules = {r['program']: r for _, r in self.call('GetRules')[0]}
        self.assertEqual(rules[link]['program-target'], target)
        self.assertNotIn('program-target', rules[target])
        out = subprocess.run([os.environ['VIGILCTL'], 'rules', 'list'], env=self.env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertIn('allow app %s port 8080 (-> %s)' % (link, target), out.stdout, out.stderr)


if __name__ == '__main__':
    unittest.main(verbosity=2)
