#!/usr/bin/python3
"""The real vigil-tray against the real vigild: prompts for real connections, answered by clicks.

vigild runs in a network namespace of its own on a private system bus with a mock polkitd
(tests/e2e/test_dbus.py's DBusTestCase); vigil-tray runs as the user nobody in a session
with Xvfb, a session bus, AT-SPI and a test StatusNotifierWatcher (guitest.py). Programs run
as nobody in the namespace, so their connections are held for nobody's agent: the tray.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))
sys.path.insert(0, os.path.join(HERE, '..', 'dbus'))

import guitest  # noqa: E402
from guitest import GuiSession, wait_until  # noqa: E402
import bus as testbus  # noqa: E402
from test_dbus import DBusTestCase, ERR, PROBE_EXE  # noqa: E402
from vigiltest import PEER_V4, PROBE, write_connect_scripts  # noqa: E402

NOBODY = 65534
TITLE = 'Vigil: Connection Request'
MAIN = 'Vigil'  # the main window: its pages are the rules, the monitor and the preferences
DURATION, DESTINATION, PORT = 'Duration:', 'Destination:', 'Port:'  # the combo boxes
SCRIPT = 'Script:'  # only for an interpreter running a script
VIGILCTL = os.environ.get('VIGILCTL', os.path.join(guitest.BUILD, 'vigilctl', 'vigilctl'))
# where the screenshots go: VIGIL_SCREENSHOT_DIR=$PWD/docs/screenshots refreshes the README's
SCREENSHOTS = os.environ.get('VIGIL_SCREENSHOT_DIR') or os.environ.get(
    'VIGIL_SCREENSHOT_DEFAULT_DIR', os.path.join(guitest.BUILD, 'tests', 'gui', 'screenshots'))


def shown_texts(win):
    """The texts a window shows: its labels, and the names of its expanders ("2 more
    waiting" opens the list of the waiting requests)."""
    return win['labels'] + list(win['toggles'])


class TrayTestCase(DBusTestCase):
    """vigild (DefaultAction deny) and vigil-tray registered as nobody's agent."""

    prompt_timeout = 30
    default_action = 'deny'
    start_tray_at_once = True  # False: the test calls start_tray() itself
    notification_daemon = False
    tray_host = True  # False: no StatusNotifierWatcher in the session (stock GNOME)
    wayland = False  # True: a Wayland session (weston headless), no X11 display

    def setUp(self):
        super().setUp()
        self.start_vigild(config={'PromptTimeout': str(self.prompt_timeout),
                                  'DefaultAction': self.default_action})
        self.session = GuiSession(uid=NOBODY, wayland=self.wayland)
        self.session.__enter__()
        self.addCleanup(self.session.stop)
        self.addCleanup(self._dump_logs)
        if self.tray_host:
            self.session.start_watcher()
        if self.notification_daemon:
            self.session.start_notification_daemon()
        if self.start_tray_at_once:
            self.start_tray()

    def start_tray(self):
        self.session.start_tray(self.bus.address)
        self.item = self.session.wait_for_item()
        self.ui = self.session.ui('vigil-tray')
        # vigild counts the tray as an agent once it registered
        wait_until(lambda: self.prop('Stats')['agents'] == 1, 20, 'the tray to register')
        wait_until(lambda: self.session.item_property(self.item, 'IconName')
                   == 'org.vigil.Tray-filtering-symbolic', 10, 'the filtering icon')

    def open_page(self, menu, page=None):
        """Clicks the tray menu's item @menu: the main window shows, at its page @page (by
        default the item's name); returns the window."""
        page = page or menu
        entry = wait_until(lambda: self.session.menu_entry(self.item, menu), 10, menu)
        self.assertTrue(entry['enabled'])
        self.session.click_menu(self.item, entry['id'])
        return self.wait_page(page)

    def wait_page(self, page):
        """The main window, once it shows its page @page."""
        try:
            return wait_until(lambda: [w for w in [self.ui.window(MAIN)]
                                       if w and w['pages'].get(page)],
                              20, 'the main window at its page %r' % page)[0]
        except guitest.GuiError as e:
            win = self.ui.window(MAIN)
            raise guitest.GuiError('%s; the windows: %r; its pages: %r' % (
                e, self.ui.windows(), win))

    def _dump_logs(self):
        # meson shows it when the test fails
        sys.stderr.write('--- vigil-tray log ---\n' + self.session.tray_log())
        if os.path.exists(self.d.log_path):
            sys.stderr.write('--- vigild log (last 60 lines) ---\n' +
                             ''.join(self.d.log().splitlines(True)[-60:]))

    def rules_of(self, uid):
        """`vigilctl --json rules list` run as @uid: the rules that user sees."""
        out = subprocess.run(['setpriv', '--reuid=%d' % uid, '--regid=%d' % uid,
                              '--clear-groups', '--', VIGILCTL, '--json', 'rules', 'list'],
                             env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def prompt(self):
        return self.ui.wait_for_window(TITLE)

    def assertPromptShows(self, win, port):
        labels = win['labels']
        headline = labels[0]
        self.assertIn('vigil-probe', headline)
        self.assertIn(PEER_V4, headline)
        self.assertIn('port %d' % port, headline)
        self.assertIn(PROBE_EXE, labels)
        self.assertIn(PEER_V4, labels)
        self.assertIn(str(port), labels)
        self.assertIn('TCP/IPv4', labels)
        self.assertTrue([t for t in labels if t.startswith('PID ') and t.endswith(', user nobody')],
                        labels)
        self.assertEqual(set(win['buttons']), {'Allow', 'Deny', 'Drop'})


class Prompts(TrayTestCase):
    def test_prompt_names_program_destination_port_and_deny_forever_makes_a_rule(self):
        s = self.session
        probe = self.probe_async(9000, user=NOBODY)
        win = self.prompt()
        self.assertPromptShows(win, 9000)
        # the tray asks for attention and counts the request
        self.assertEqual(s.item_property(self.item, 'Status'), 'NeedsAttention')
        self.assertEqual(s.item_property(self.item, 'AttentionIconName'),
                         'org.vigil.Tray-prompt-symbolic')
        self.assertTrue(s.menu_entry(self.item, '1 connection request waiting'))
        self.assertIsNone(probe.poll(), 'the connection waits for the answer')
        # an answer is for once unless the user chose another default (Preferences)
        self.assertEqual(win['combos'][DURATION]['name'], 'Once')
        self.assertEqual(win['combos'][DESTINATION]['name'], 'Only ' + PEER_V4)
        self.assertEqual(win['combos'][PORT]['name'], 'Only port 9000')
        # the buttons wake up after a second
        wait_until(lambda: self.ui.window(TITLE)['buttons']['Deny']['sensitive'], 5, 'Deny')
        s.screenshot(os.path.join(SCREENSHOTS, 'prompt.png'),
                     self.ui.wait_for_window(TITLE)['extents'])

        self.ui.select(TITLE, DURATION, 'Forever')
        start = time.monotonic()
        self.ui.click(TITLE, 'Deny')
        words = self.probe_result(probe)
        self.assertEqual(words[:2], ['error', 'ECONNREFUSED'], words)
        self.assertLess(time.monotonic() - start, 5.0, 'deny fails the connection at once')
        self.ui.wait_gone(TITLE)

        made = [r for r in self.rules_of(NOBODY) if r.get('program') == PROBE_EXE]
        self.assertEqual(len(made), 1, made)
        rule = made[0]
        self.assertEqual((rule['action'], rule['to'], rule['port'], rule['proto'],
                          rule['lifetime'], rule['uid']),
                         ('deny', PEER_V4, '9000', 'tcp', 'forever', NOBODY))
        # the rule decides from now on: no prompt, the connection fails
        words = self.probe_result(self.probe_async(9000, user=NOBODY))
        self.assertEqual(words[:2], ['error', 'ECONNREFUSED'])
        self.assertIsNone(self.ui.window(TITLE))
        wait_until(lambda: s.item_property(self.item, 'Status') == 'Active', 5, 'no attention')

    def test_drop_is_silent_and_deny_is_not_drawn_as_a_danger(self):
        probe = self.probe_async(9000, user=NOBODY, timeout_ms=4000)
        self.prompt()
        win = wait_until(lambda: [w for w in [self.ui.window(TITLE)]
                                  if w['buttons']['Drop']['sensitive']], 5, 'Drop')[0]
        # Deny is the safe answer: a plain button, not red like a destructive action
        # (Adwaita's destructive-action red is #e01b24), and Allow keeps its accent
        pixels = self.session.pixels(win['buttons']['Deny']['extents'])
        red = [p for p in pixels if p[0] > 150 and p[1] < 90 and p[2] < 90]
        self.assertLess(len(red), len(pixels) // 20, 'Deny is drawn red')

        # drop forever: no answer to the program (it times out, no refusal), a drop rule
        self.ui.select(TITLE, DURATION, 'Forever')
        self.ui.click(TITLE, 'Drop')
        self.ui.wait_gone(TITLE)
        # it waited in vain until its own timeout (4 s), where a deny fails it at once
        words = self.probe_result(probe)
        self.assertEqual(words[0], 'timeout', 'a drop refuses nothing: %r' % words)
        self.assertDecision(self.d, verdict='drop', program=PROBE_EXE, port=9000)
        made = [r for r in self.rules_of(NOBODY) if r.get('program') == PROBE_EXE]
        self.assertEqual([(r['action'], r['port'], r['lifetime']) for r in made],
                         [('drop', '9000', 'forever')])

    def test_the_queue_is_listed_and_one_answer_covers_a_program(self):
        # another program: a copy of vigil-probe under another name
        other = os.path.join(os.path.realpath(self.session.tmpdir), 'other-probe')
        shutil.copy(PROBE_EXE, other)
        os.chmod(other, 0o755)
        first = self.probe_async(9000, user=NOBODY)
        self.prompt()
        more = [self.probe_async(port, user=NOBODY) for port in (8080, 443)]
        stranger = self.nets.spawn(self.nets.client, testbus.as_user_argv(NOBODY) + [
            other, 'tcp', PEER_V4, '80', '--timeout', '20000'], stdout=subprocess.PIPE,
            text=True)
        wait_until(lambda: '3 more waiting' in shown_texts(self.ui.window(TITLE)), 15,
                   '3 more waiting')
        # the queue, listed on demand
        self.ui.expand(TITLE, '3 more waiting')
        waiting = ('vigil-probe to %s, port 8080' % PEER_V4, 'vigil-probe to %s, port 443'
                   % PEER_V4, 'other-probe to %s, port 80' % PEER_V4)
        win = wait_until(lambda: [w for w in [self.ui.window(TITLE)]
                                  if all(any(t.startswith(x) for t in w['labels'])
                                         for x in waiting)], 10, 'the waiting requests')[0]
        answer_all = 'Answer the 2 other requests from vigil-probe the same way'
        self.assertIn(answer_all, win['checks'])
        self.assertFalse(win['checks'][answer_all]['checked'])
        self.session.screenshot(os.path.join(SCREENSHOTS, 'prompt-queue.png'), win['extents'])

        # one answer for the three of vigil-probe; other-probe's waits for its own
        self.ui.check(TITLE, answer_all)
        wait_until(lambda: self.ui.window(TITLE)['checks'][answer_all]['checked'], 5,
                   'answer all checked')
        self.ui.select(TITLE, DURATION, 'Once')
        self.ui.click(TITLE, 'Deny', timeout=10)
        for probe in [first] + more:
            self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])
        win = wait_until(lambda: [w for w in [self.ui.window(TITLE)]
                                  if 'other-probe' in w['labels'][0]], 10,
                         'the other program\'s request')[0]
        self.assertNotIn('more waiting', ' '.join(shown_texts(win)))
        self.assertNotIn(answer_all, win['checks'])
        self.assertIsNone(stranger.poll(), 'the other program still waits')
        self.ui.select(TITLE, DURATION, 'Once')
        self.ui.click(TITLE, 'Allow', timeout=10)
        self.assertEqual(self.probe_result(stranger)[0], 'ok')
        self.assertFalse([r for r in self.rules_of(NOBODY)], 'once: no rules')

    def test_an_interpreter_is_allowed_for_one_script_only(self):
        folder = os.path.realpath(self.session.tmpdir)
        sync, other = write_connect_scripts(folder, 'sync.py', 'other.py')
        python = os.path.basename(os.path.realpath('/usr/bin/python3'))

        def run(script, port):
            return self.nets.spawn(self.nets.client, testbus.as_user_argv(NOBODY) + [
                '/usr/bin/python3', script, PEER_V4, str(port)], stdout=subprocess.PIPE,
                text=True)

        probe = run(sync, 9000)
        win = self.prompt()
        self.assertEqual(win['combos'][SCRIPT]['items'],
                         ['Anything %s runs' % python, 'Only ' + sync])
        self.assertEqual(win['combos'][SCRIPT]['name'], 'Anything %s runs' % python)
        self.ui.select(TITLE, DURATION, 'Forever')
        self.ui.select(TITLE, SCRIPT, 'Only ' + sync)
        self.ui.click(TITLE, 'Allow', timeout=10)
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        [rule] = [r for r in self.rules_of(NOBODY)]
        self.assertEqual((rule['action'], rule['program'], rule['args'], rule['port']),
                         ('allow', os.path.realpath('/usr/bin/python3'), '/usr/bin/python3 %s*' % sync,
                          '9000'))
        # the script again: allowed by the rule, nobody asked
        self.assertEqual(self.probe_result(run(sync, 9000))[0], 'ok')
        self.assertIsNone(self.ui.window(TITLE))
        # another script of the same interpreter is asked about
        probe = run(other, 9000)
        win = self.prompt()
        self.assertEqual(win['combos'][SCRIPT]['items'][1], 'Only ' + other)
        self.ui.select(TITLE, DURATION, 'Once')
        self.ui.click(TITLE, 'Deny', timeout=10)
        self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])

    def test_allow_once_lets_it_through_and_makes_no_rule(self):
        before = self.rules_of(NOBODY)
        probe = self.probe_async(9000, user=NOBODY)
        self.assertPromptShows(self.prompt(), 9000)
        self.ui.select(TITLE, DURATION, 'Once')
        # where a rule would apply does not matter for a single answer
        win = self.ui.window(TITLE)
        self.assertFalse(win['combos'][DESTINATION]['sensitive'])
        self.assertFalse(win['combos'][PORT]['sensitive'])
        self.ui.click(TITLE, 'Allow')
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        self.ui.wait_gone(TITLE)
        self.assertEqual(self.rules_of(NOBODY), before)
        self.assertDecision(self.d, verdict='allow', program=PROBE_EXE, port=9000, rule='reply')

    def test_parallel_connections_of_one_program_show_one_prompt(self):
        client = self.connect_async(9000, 3, user=NOBODY)
        self.prompt()
        # vigild holds all three in the one request
        wait_until(lambda: [c for c in self.call('GetPending')[0]
                            if c[1].get('connections') == 3], 10, 'three held connections')
        self.assertEqual(len(self.call('GetPending')[0]), 1)
        win = self.ui.window(TITLE)
        self.assertFalse([t for t in shown_texts(win) if 'more waiting' in t], win['labels'])
        self.assertEqual(len([w for w in self.ui.windows() if w['showing']]), 1)
        self.assertTrue(self.session.menu_entry(self.item, '1 connection request waiting'))
        self.ui.select(TITLE, DURATION, 'Once')
        self.ui.click(TITLE, 'Allow')
        out, _ = client.communicate(timeout=30)
        self.assertEqual(json.loads(out)['ok'], 3, out)
        self.ui.wait_gone(TITLE)

    def test_requests_of_two_programs_stack_in_one_window(self):
        first = self.probe_async(9000, user=NOBODY)
        self.prompt()
        second = self.connect_async(8080, 1, user=NOBODY)
        wait_until(lambda: '1 more waiting' in shown_texts(self.ui.window(TITLE)), 10,
                   '"1 more waiting"')
        self.assertEqual(len([w for w in self.ui.windows() if w['showing']]), 1,
                         'one window, never a storm of them')
        self.assertTrue(self.session.menu_entry(self.item, '2 connection requests waiting'))
        wait_until(lambda: self.ui.window(TITLE)['buttons']['Allow']['sensitive'], 5, 'Allow')
        self.session.screenshot(os.path.join(SCREENSHOTS, 'prompt-stacked.png'),
                                self.ui.wait_for_window(TITLE)['extents'])
        self.ui.select(TITLE, DURATION, 'Once')
        self.ui.click(TITLE, 'Allow')
        self.assertEqual(self.probe_result(first)[0], 'ok')
        # the next request takes the window
        win = wait_until(lambda: [w for w in [self.ui.window(TITLE)]
                                  if w and any('port 8080' in t for t in w['labels'])], 10,
                         'the second request')[0]
        # the headline names the executable; the system's .desktop file that runs
        # /usr/bin/python3 adds its name ("Python (v3.11)") below it
        self.assertIn(os.path.basename(os.path.realpath('/usr/bin/python3')), win['labels'][0])
        self.assertNotIn('Python', win['labels'][0])
        self.assertTrue([t for t in win['labels'] if t.startswith('Application: Python')],
                        win['labels'])
        self.assertFalse([t for t in win['labels'] if 'unverified' in t], win['labels'])
        self.assertFalse([t for t in shown_texts(win) if 'more waiting' in t])
        self.ui.select(TITLE, DURATION, 'Once')
        self.ui.click(TITLE, 'Deny')
        out, _ = second.communicate(timeout=30)
        self.assertEqual(json.loads(out)['refused'], 1, out)
        self.ui.wait_gone(TITLE)

    def test_details_show_cmdline_and_sha256(self):
        probe = self.probe_async(9000, user=NOBODY)
        self.prompt()
        self.ui.expand(TITLE, 'Details')
        pending = self.call('GetPending')[0][0][1]
        win = wait_until(lambda: [w for w in [self.ui.window(TITLE)]
                                  if pending['sha256'] in w['labels']], 5, 'the details')[0]
        self.assertTrue(win['toggles']['Details']['expanded'])
        self.assertIn(pending['cmdline'], win['labels'])
        wait_until(lambda: self.ui.window(TITLE)['buttons']['Allow']['sensitive'], 5, 'Allow')
        self.session.screenshot(os.path.join(SCREENSHOTS, 'prompt-details.png'),
                                self.ui.wait_for_window(TITLE)['extents'])
        self.ui.select(TITLE, DURATION, 'Once')
        self.ui.click(TITLE, 'Allow')
        self.assertEqual(self.probe_result(probe)[0], 'ok')

    def test_a_program_started_with_ld_preload_is_flagged(self):
        # another program of the user can make any program run its code this way
        # in the AddressSanitizer build the probe's runtime must accept a library preloaded
        # before it (otherwise it exits at once and nothing is asked)
        cmd = testbus.as_user_argv(NOBODY) + ['env', 'LD_PRELOAD=libm.so.6',
                                              'ASAN_OPTIONS=verify_asan_link_order=0',
                                              PROBE, 'tcp', PEER_V4, '9000', '--timeout', '20000']
        probe = self.nets.spawn(self.nets.client, cmd, stdout=subprocess.PIPE, text=True)
        win = self.prompt()
        warnings = [t for t in win['labels'] if 'preloaded libraries (LD_PRELOAD' in t]
        self.assertTrue(warnings, win['labels'])
        self.assertNotIn('traced', warnings[0])
        self.ui.select(TITLE, DURATION, 'Once')
        self.ui.click(TITLE, 'Allow')
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        self.ui.wait_gone(TITLE)


def cgroup2_mount():
    """Where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid
    layout), from mountinfo."""
    with open('/proc/self/mountinfo', encoding='utf-8') as f:
        for line in f:
            fields = line.split()
            if fields[fields.index('-') + 1] == 'cgroup2':
                return fields[4]
    raise RuntimeError('no cgroup2 mount in /proc/self/mountinfo')


# what a process may choose about itself: its file's name, its argv, its cgroup's name
RLO, LRI, LINE_SEP, NEL = '\u202e', '\u2066', '\u2028', '\u0085'
# characters no label may show raw: controls (but the window's own line breaks) and the ones
# that reorder or hide text
UNSAFE = {chr(c) for c in range(0x20) if c != 0x0a} | {chr(c) for c in range(0x7f, 0xa0)} | {
    '\u061c', '\u200b', '\u200c', '\u200d', '\u200e', '\u200f', '\ufeff'} | {
    chr(c) for c in range(0x2028, 0x202f)} | {chr(c) for c in range(0x2060, 0x2070)}


class UntrustedNames(TrayTestCase):
    """A program that names itself: a file name with a right-to-left override and a newline,
    an argv with bidi controls, a cgroup that claims the snap firefox, and a .desktop file
    of the user's that calls that app id "Firefox". The prompt's headline names the file
    vigild verified, escaped; "Firefox" appears only marked unverified."""

    start_tray_at_once = False

    def setUp(self):
        super().setUp()
        # the user's own .desktop file for the claimed app id: anybody's process could
        # have written it
        apps = os.path.join(self.session.home, '.local', 'share', 'applications')
        os.makedirs(apps)
        with open(os.path.join(apps, 'firefox.desktop'), 'w', encoding='utf-8') as f:
            f.write('[Desktop Entry]\nType=Application\nName=Firefox\nIcon=firefox\n'
                    'Exec=true %u\n')
        for path in (os.path.join(self.session.home, '.local'),
                     os.path.join(self.session.home, '.local', 'share'), apps,
                     os.path.join(apps, 'firefox.desktop')):
            os.chown(path, NOBODY, NOBODY)
        # the program: a copy of vigil-probe under a name that reads "…exe.jpg" backwards
        self.dir = os.path.realpath(self.session.tmpdir)
        self.exe = os.path.join(self.dir, 'invoice' + RLO + 'gpj.exe\nPID 1, user root')
        shutil.copy(PROBE_EXE, self.exe)
        os.chmod(self.exe, 0o755)
        # a cgroup whose name claims the snap "firefox" (any user can make one:
        # systemd-run --user --scope --unit=snap.firefox.x)
        self.cgroup = os.path.join(cgroup2_mount(), 'snap.firefox.vigiltest%d.scope' % os.getpid())
        os.mkdir(self.cgroup)
        self.addCleanup(self._remove_cgroup)
        self.start_tray()

    def _remove_cgroup(self):
        for _ in range(100):
            try:
                os.rmdir(self.cgroup)
                return
            except OSError:
                time.sleep(0.1)  # its last process is still exiting

    def spawn_claiming_probe(self, port):
        argv0 = 'firefox ' + RLO + 'fdp.exe\n--private ' + LINE_SEP + 'PID 1' + NEL + LRI
        # the shell says its pid and waits while the test moves it into the cgroup (`ip
        # netns exec` mounts a sysfs of its own, without the cgroup tree), then runs the copy
        # as nobody with the chosen argv
        cmd = ['sh', '-c', 'echo $$; read go; exec "$@"', 'sh'] + \
            testbus.as_user_argv(NOBODY) + \
            ['/usr/bin/python3', '-c', 'import os, sys; os.execv(sys.argv[1], sys.argv[2:])',
             self.exe, argv0, 'tcp', PEER_V4, str(port), '--timeout', '20000']
        proc = self.nets.spawn(self.nets.client, cmd, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
        pid = proc.stdout.readline().strip()
        with open(os.path.join(self.cgroup, 'cgroup.procs'), 'w', encoding='ascii') as f:
            f.write(pid)
        proc.stdin.write('go\n')
        proc.stdin.close()
        proc.stdin = None  # so that communicate() reads the probe's result only
        return proc

    def assertNoUnsafeText(self, labels):
        for text in labels:
            bad = sorted({'U+%04X' % ord(c) for c in text if c in UNSAFE})
            self.assertFalse(bad, 'label %r shows %s raw' % (text, bad))
            # no line a process wrote may pass for one of the window's own
            self.assertFalse([line for line in text.split('\n')
                              if line.startswith('PID 1, user root')], text)

    def test_headline_names_the_verified_file_and_the_claimed_name_is_unverified(self):
        probe = self.spawn_claiming_probe(9000)
        win = self.prompt()
        pending = self.call('GetPending')[0][0][1]
        # vigild saw what the process chose (the test's premise)
        self.assertEqual(pending['program'], self.exe)
        self.assertEqual(pending['appid'], 'firefox')
        self.assertIn(RLO, pending['cmdline'])

        shown_name = 'invoice\\u202egpj.exe\\x0aPID 1, user root'
        labels = win['labels']
        headline = labels[0]
        self.assertTrue(headline.startswith(shown_name + ' wants to connect to ' + PEER_V4),
                        headline)
        self.assertNotIn('Firefox', headline)
        self.assertNotIn('firefox', headline)
        self.assertIn(self.dir + '/' + shown_name, labels)
        self.assertIn('Claims to be: Firefox (unverified)', labels)
        self.assertFalse([t for t in labels if t.startswith('Application:')], labels)

        self.ui.expand(TITLE, 'Details')
        win = wait_until(lambda: [w for w in [self.ui.window(TITLE)]
                                  if 'firefox (unverified)' in w['labels']], 5,
                         'the details')[0]
        cmdline = [t for t in win['labels'] if t.startswith('firefox \\u202efdp.exe')]
        self.assertEqual(len(cmdline), 1, win['labels'])
        for escaped in ('\\u202e', '\\u2028', '\\x85', '\\u2066'):
            self.assertIn(escaped, cmdline[0])
        self.assertNoUnsafeText(win['labels'])
        self.assertNoUnsafeText(win['combos'][DESTINATION]['items'])
        self.assertEqual(self.ui.window(TITLE)['title'], TITLE)

        wait_until(lambda: self.ui.window(TITLE)['buttons']['Allow']['sensitive'], 5, 'Allow')
        self.session.screenshot(os.path.join(SCREENSHOTS, 'prompt-unverified.png'),
                                self.ui.wait_for_window(TITLE)['extents'])
        # deny forever: a rule for that file
        self.ui.select(TITLE, DURATION, 'Forever')
        self.ui.click(TITLE, 'Deny')
        self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])
        self.ui.wait_gone(TITLE)
        self.assertEqual([r['program'] for r in self.rules_of(NOBODY)], [self.exe])

        # the Rules and the Network Monitor pages show the path escaped too
        for menu in ('Rules', 'Network Monitor'):
            self.open_page(menu)
            win = wait_until(lambda: [w for w in [self.ui.window(MAIN)]
                                      if w and w['pages'].get(menu)
                                      and any(self.dir + '/' + shown_name in cell
                                              for table in w['tables']
                                              for row in table for cell in row)],
                             20, 'the path on the page %s' % menu)[0]
            self.assertNoUnsafeText(win['labels'])
            self.assertNoUnsafeText([cell for table in win['tables'] for row in table
                                     for cell in row])


MOUNT_NS_WARNING = ('The program runs in another mount namespace (e.g. a container): its path '
                    'may name another file there.')


class AppSandbox(TrayTestCase):
    """A snap's process runs in the snap's mount namespace (as every test client does in
    `ip netns exec`'s): that is no reason to doubt its path when the executable is the snap's
    own file, which vigild checks against the host (the snap's revision mounted by root at
    /snap/NAME/current). A cgroup that only claims the snap still gets the warning."""

    def setUp(self):
        super().setUp()
        self.name = 'vigiltest%d' % os.getpid()
        self.made_root = not os.path.exists('/snap')
        self.revision = os.path.join('/snap', self.name, '1')
        os.makedirs(self.revision, 0o755)
        self.addCleanup(self._remove_snap)
        # the revision's file system, as snapd mounts a squashfs there
        subprocess.run(['mount', '-t', 'tmpfs', '-o', 'mode=0755,size=64m', 'vigiltest',
                        self.revision], check=True)
        self.exe = os.path.join(self.revision, 'vigil-probe')
        shutil.copy(PROBE_EXE, self.exe)
        os.chmod(self.exe, 0o755)
        os.symlink('1', os.path.join('/snap', self.name, 'current'))
        # its processes' cgroup, as snapd names it
        self.cgroup = os.path.join(cgroup2_mount(), 'snap.%s.app.scope' % self.name)
        os.mkdir(self.cgroup)
        self.addCleanup(self._remove_cgroup)

    def _remove_snap(self):
        subprocess.run(['umount', '-l', self.revision], stderr=subprocess.DEVNULL)
        for path in (os.path.join('/snap', self.name, 'current'),):
            if os.path.islink(path):
                os.unlink(path)
        for path in (self.revision, os.path.join('/snap', self.name)) + (
                ('/snap',) if self.made_root else ()):
            try:
                os.rmdir(path)
            except OSError:
                pass

    def _remove_cgroup(self):
        for _ in range(100):
            try:
                os.rmdir(self.cgroup)
                return
            except OSError:
                time.sleep(0.1)  # its last process is still exiting

    def spawn_in_cgroup(self, exe, port):
        cmd = ['sh', '-c', 'echo $$; read go; exec "$@"', 'sh'] + \
            testbus.as_user_argv(NOBODY) + [exe, 'tcp', PEER_V4, str(port), '--timeout', '20000']
        proc = self.nets.spawn(self.nets.client, cmd, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
        pid = proc.stdout.readline().strip()
        with open(os.path.join(self.cgroup, 'cgroup.procs'), 'w', encoding='ascii') as f:
            f.write(pid)
        proc.stdin.write('go\n')
        proc.stdin.close()
        proc.stdin = None
        return proc

    def test_the_snaps_own_file_is_no_warning_a_claim_still_is(self):
        probe = self.spawn_in_cgroup(self.exe, 9000)
        win = self.prompt()
        self.assertEqual(win['labels'][1], self.exe)
        self.assertNotIn(MOUNT_NS_WARNING, win['labels'])
        self.ui.expand(TITLE, 'Details')
        sandbox = 'The snap %s: the program is the snap\'s own file, in the snap\'s mount ' \
            'namespace' % self.name
        win = wait_until(lambda: [w for w in [self.ui.window(TITLE)]
                                  if sandbox in w['labels']], 5, 'the sandbox in Details')[0]
        self.assertIn('Sandbox:', win['labels'])
        self.assertNotIn(MOUNT_NS_WARNING, win['labels'])
        self.session.screenshot(os.path.join(SCREENSHOTS, 'prompt-sandbox.png'), win['extents'])
        self.ui.select(TITLE, DURATION, 'Once')
        self.ui.click(TITLE, 'Deny', timeout=10)
        self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])
        self.ui.wait_gone(TITLE)

        # another file, in a cgroup that claims the same snap: warned
        probe = self.spawn_in_cgroup(PROBE_EXE, 9000)
        win = self.prompt()
        self.assertIn(MOUNT_NS_WARNING, win['labels'])
        self.assertNotIn('Sandbox:', win['labels'])
        self.ui.select(TITLE, DURATION, 'Once')
        self.ui.click(TITLE, 'Deny', timeout=10)
        self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])
        self.ui.wait_gone(TITLE)

        # the snap's own file system, shown under another path (a bind mount anyone can make
        # in a namespace of their own): the path names another file than the snap's, warned
        alias = tempfile.mkdtemp(prefix='vigil-snap-alias-')
        self.addCleanup(os.rmdir, alias)
        subprocess.run(['mount', '--bind', self.revision, alias], check=True)
        self.addCleanup(subprocess.run, ['umount', '-l', alias], stderr=subprocess.DEVNULL)
        probe = self.spawn_in_cgroup(os.path.join(alias, 'vigil-probe'), 9000)
        win = self.prompt()
        self.assertEqual(win['labels'][1], os.path.join(alias, 'vigil-probe'))
        self.assertIn(MOUNT_NS_WARNING, win['labels'])
        self.assertNotIn('Sandbox:', win['labels'])
        self.ui.select(TITLE, DURATION, 'Once')
        self.ui.click(TITLE, 'Deny', timeout=10)
        self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])


class PromptTimeout(TrayTestCase):
    prompt_timeout = 4

    def test_the_countdown_waits_while_the_details_are_open(self):
        paused = 'The countdown waits while the details are open (a few minutes at most).'
        probe = self.probe_async(9000, user=NOBODY)
        self.prompt()
        self.ui.expand(TITLE, 'Details')
        wait_until(lambda: paused in self.ui.window(TITLE)['labels'], 5, 'the countdown paused')
        # more than twice PromptTimeout: unheld, vigild would have applied DefaultAction
        time.sleep(10)
        self.assertIsNotNone(self.ui.window(TITLE), 'the prompt is still there')
        self.assertIsNone(probe.poll(), 'the program still waits for the answer')
        [(request, conn)] = self.call('GetPending')[0]
        self.assertGreater(conn['timeout'], 0)
        # only the agent the prompt went to may hold it
        self.assertCallError(ERR + 'NotPending', 'HoldRequest', 't', (request,))
        # closed: the countdown runs again, from what vigild gave
        self.ui.expand(TITLE, 'Details')
        wait_until(lambda: [t for t in self.ui.window(TITLE)['labels']
                            if 'will be denied once' in t], 5, 'the countdown again')
        self.ui.select(TITLE, DURATION, 'Once')
        self.ui.click(TITLE, 'Allow', timeout=10)
        self.assertEqual(self.probe_result(probe)[0], 'ok')

    def test_unanswered_prompt_times_out_and_closes(self):
        start = time.monotonic()
        probe = self.probe_async(9000, user=NOBODY)
        win = self.prompt()
        self.assertTrue([t for t in win['labels'] if 'will be denied once' in t], win['labels'])
        self.ui.wait_gone(TITLE, timeout=15)
        words = self.probe_result(probe)
        self.assertEqual(words[:2], ['error', 'ECONNREFUSED'], 'DefaultAction deny, once')
        self.assertGreater(time.monotonic() - start, 3.0)
        self.assertFalse([r for r in self.rules_of(NOBODY) if r.get('program') == PROBE_EXE])
        self.assertDecision(self.d, verdict='deny', port=9000, rule='timeout')
        wait_until(lambda: self.session.item_property(self.item, 'Status') == 'Active', 5,
                   'no attention')


if __name__ == '__main__':
    unittest.main(verbosity=2)
