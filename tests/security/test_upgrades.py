#!/usr/bin/python3
"""Rules pinned to a program's sha256 follow the upgrades dpkg vouches for, and only those
(issue 10, item 2).

A real vigild on a private system bus with a real prompt agent (tests/e2e/test_dbus.py), and a
real Debian package built here with dpkg-deb in two versions: its program is a copy of
vigil-probe (version 2 has a few more bytes). Version 1 is installed with dpkg, rules are made
by answering prompts (they pin its sha256), version 2 is installed with `dpkg -i`: the next
connections are decided by the same rules (ids and hit counts kept), pinned to the new hash,
without a prompt. A file changed outside dpkg is asked about again, with the reason. The
package is purged at the end.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))
sys.path.insert(0, os.path.join(HERE, '..', 'dbus'))

from vigiltest import PEER_V4, PROBE  # noqa: E402
from test_dbus import DBusTestCase, rule_lines  # noqa: E402

# the dpkg database is the machine's: a name of this run's own (tests may run side by side)
PACKAGE = 'vigil-upgrade-test-%d' % os.getpid()
CLIENT = '/usr/lib/%s/client' % PACKAGE
DPKG_ENV = dict(os.environ, DEBIAN_FRONTEND='noninteractive')


def dpkg(*args):
    """dpkg with @args, waiting for its lock while apt or another dpkg holds it."""
    deadline = time.monotonic() + 120
    while True:
        res = subprocess.run(['dpkg'] + list(args), env=DPKG_ENV, capture_output=True,
                             text=True)
        if res.returncode == 0:
            return res
        if 'lock' not in res.stderr or time.monotonic() > deadline:
            raise AssertionError('dpkg %s: %s%s' % (' '.join(args), res.stdout, res.stderr))
        time.sleep(1)


def build_deb(workdir, version, content):
    """A .deb of PACKAGE @version whose CLIENT holds @content, with its md5sums."""
    root = os.path.join(workdir, 'v' + version)
    os.makedirs(os.path.join(root, 'DEBIAN'))
    os.makedirs(os.path.dirname(root + CLIENT))
    with open(root + CLIENT, 'wb') as f:
        f.write(content)
    os.chmod(root + CLIENT, 0o755)
    with open(os.path.join(root, 'DEBIAN', 'control'), 'w') as f:
        f.write('Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: Vigil tests '
                '<tests@vigil.invalid>\nDescription: a program of the upgrade test\n'
                % (PACKAGE, version))
    with open(os.path.join(root, 'DEBIAN', 'md5sums'), 'w') as f:
        f.write('%s  %s\n' % (hashlib.md5(content).hexdigest(), CLIENT[1:]))
    deb = os.path.join(workdir, '%s_%s_all.deb' % (PACKAGE, version))
    subprocess.run(['dpkg-deb', '--root-owner-group', '--build', root, deb], check=True,
                   capture_output=True)
    return deb


def purge():
    dpkg('--purge', PACKAGE)


class Upgrades(DBusTestCase):
    def setUp(self):
        super().setUp()
        self.work = tempfile.mkdtemp(prefix='vigil-upgrades-')
        self.addCleanup(shutil.rmtree, self.work, True)
        with open(PROBE, 'rb') as f:
            probe = f.read()
        self.v1 = probe
        self.v2 = probe + b'\0vigil upgrade test: version 2\0'
        self.sha1 = hashlib.sha256(self.v1).hexdigest()
        self.sha2 = hashlib.sha256(self.v2).hexdigest()
        self.deb1 = build_deb(self.work, '1.0', self.v1)
        self.deb2 = build_deb(self.work, '2.0', self.v2)
        purge()  # what an interrupted run may have left
        dpkg('-i', self.deb1)
        self.addCleanup(lambda: self.assertFalse(os.path.exists(CLIENT), 'the package stayed'))
        self.addCleanup(purge)

    def client_async(self, port):
        cmd = [CLIENT, 'tcp', PEER_V4, str(port), '--timeout', '20000']
        return self.nets.spawn(self.nets.client, cmd, stdout=subprocess.PIPE, text=True)

    def pin_by_prompts(self, agent):
        """Rules for CLIENT made by answering prompts: allow port 9000, deny port 8080."""
        for port, verdict, words in ((9000, 'allow', 'ok'), (8080, 'deny', 'error')):
            client = self.client_async(port)
            prompt = agent.wait_event('prompt')['connection']
            self.assertEqual((prompt['program'], prompt['sha256']), (CLIENT, self.sha1))
            self.assertTrue(agent.reply(agent.seen[-1]['request'], verdict,
                                        duration='forever')['ok'])
            self.assertEqual(self.probe_result(client)[0], words)
        rules = {rid: r for rid, r in self.rules().items() if r.get('program') == CLIENT}
        self.assertEqual(len(rules), 2, rules)
        self.assertEqual({r['sha256'] for r in rules.values()}, {self.sha1})
        # vigild looked up the package of the pinned file in the dpkg database
        self.d.wait_for_log("is package %s's file" % PACKAGE, timeout=60)
        return rules

    def assertNoPrompt(self, agent, port, words):
        self.assertEqual(self.probe_result(self.client_async(port))[0], words)
        agent.no_event('prompt', 0.5)

    def test_rules_follow_a_dpkg_upgrade(self):
        self.start_vigild(config={'DefaultAction': 'deny'})
        agent = self.agent()
        before = self.pin_by_prompts(agent)
        self.assertNoPrompt(agent, 9000, 'ok')

        dpkg('-i', self.deb2)
        with open(CLIENT, 'rb') as f:
            self.assertEqual(f.read(), self.v2, 'dpkg did not upgrade the program')

        # the next connections: decided by the same rules, no new prompt
        self.assertNoPrompt(agent, 9000, 'ok')
        self.assertNoPrompt(agent, 8080, 'error')
        log = self.d.wait_for_log('follow the upgrade of package %s' % PACKAGE)
        self.assertIn('follow the upgrade of package %s: sha256 %s → %s'
                      % (PACKAGE, self.sha1, self.sha2), log)
        self.assertEqual(log.count('follow the upgrade of package'), 1, log)

        after = {rid: r for rid, r in self.rules().items() if r.get('program') == CLIENT}
        self.assertEqual(set(after), set(before), 'rule ids changed')
        for rid, rule in after.items():
            self.assertEqual(rule['sha256'], self.sha2)
            self.assertEqual(rule['action'], before[rid]['action'])
            # counters kept: one hit more each since (the 9000 rule had two before)
            self.assertEqual(rule['hits'], before[rid]['hits'] + 1 +
                             (rule['action'] == 'allow'), (before[rid], rule))
        # persisted: the learned file pins the new hash
        text = '\n'.join(rule_lines(self.d.learned))
        self.assertNotIn(self.sha1, text)
        self.assertEqual(text.count(self.sha2), 2, text)
        agent.no_event('prompt', 0.5)

    def test_a_file_changed_outside_dpkg_is_asked_about(self):
        self.start_vigild(config={'DefaultAction': 'deny'})
        agent = self.agent()
        before = self.pin_by_prompts(agent)

        # root copies another build over the program: no package installed it
        tmp = CLIENT + '.tmp'
        with open(tmp, 'wb') as f:
            f.write(self.v2)
        os.chmod(tmp, 0o755)
        os.rename(tmp, CLIENT)

        client = self.client_async(9000)
        prompt = agent.wait_event('prompt')
        conn = prompt['connection']
        self.assertEqual(conn['sha256'], self.sha2)
        self.assertTrue(conn.get('binary-changed'))
        self.assertEqual(conn.get('binary-changed-reason'), 'checksum-differs')
        self.assertEqual(conn.get('binary-changed-package'), PACKAGE)
        self.assertTrue(agent.reply(prompt['request'], 'deny')['ok'])
        self.assertEqual(self.probe_result(client)[0], 'error')
        after = {rid: r for rid, r in self.rules().items() if r.get('program') == CLIENT}
        self.assertEqual({rid: r['sha256'] for rid, r in after.items()},
                         {rid: self.sha1 for rid in before})
        self.assertNotIn('follow the upgrade', self.d.log())

    def test_a_pin_not_of_the_package_is_asked_about(self):
        # a pin of content the package never installed (made by hand): nothing vouches
        other = '0' * 64
        self.start_vigild(learned='allow user 0 app %s sha256 %s port 9000 id 7\n'
                          % (CLIENT, other), config={'DefaultAction': 'deny'})
        agent = self.agent()
        client = self.client_async(9000)
        conn = agent.wait_event('prompt')['connection']
        self.assertTrue(conn.get('binary-changed'))
        self.assertEqual(conn.get('binary-changed-reason'), 'not-packaged')
        self.assertNotIn('binary-changed-package', conn)
        self.assertTrue(agent.reply(agent.seen[-1]['request'], 'deny')['ok'])
        self.assertEqual(self.probe_result(client)[0], 'error')
        self.assertEqual(self.rules()[7]['sha256'], other)


if __name__ == '__main__':
    unittest.main()
