#!/usr/bin/python3
"""vigil-tray's Rules page (of the main window) against the real vigild: opened from the tray menu, it lists the
user's rules and the system's grouped by program, marks what needs an administrator, and
removes a rule; its dialog adds and edits rules, and when vigild refuses one it stays open with
what was typed and says why; Import… and Export… read and write rules files through the GTK
file chooser.
"""
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from guitest import GuiError, wait_until  # noqa: E402
from test_prompt import MAIN, NOBODY, SCREENSHOTS, VIGILCTL, TrayTestCase  # noqa: E402
from test_dbus import CONFIGURE, OWN, PROBE_EXE, USER_ACTIONS  # noqa: E402
from vigiltest import PEER_V4  # noqa: E402

RULES = MAIN  # the Rules page of the main window
SYSTEM_RULE = 'deny app /usr/bin/curl port 443'
TITLE = 2  # the cells of a row: on, icon, program or rule, action, destination, ...
# the rule dialog, its fields (by their labels) and its actions
ADD, EDIT = 'Add Rule', 'Edit Rule'
ACTION, PROGRAM, DESTINATION, PORT, PROTOCOL, NOTE = (
    'Action:', 'Program:', 'Destination:', 'Port:', 'Protocol:', 'Note:')
ALL_USERS = 'For all users (needs an administrator)'
CAPTURE = 'Capture packets (needs an administrator)'
ALLOW, DENY = 'Allow', 'Deny (the program fails at once)'
# the file choosers (GtkFileChooserNative: a GtkFileChooserDialog where there is no portal)
IMPORT, EXPORT = 'Import Rules', 'Export Rules'
# what a rule dictionary says about where the rule applies, and to whom
FIELDS = ('action', 'program', 'to', 'port', 'proto', 'note', 'uid', 'user', 'lifetime',
          'enabled', 'system', 'sha256', 'args', 'appid')


class RulesTestCase(TrayTestCase):
    """vigild with a system rule, the tray, and the Rules window's controls."""

    def start_vigild(self, rules='', config=None, learned=''):
        return super().start_vigild(rules=SYSTEM_RULE + '\n', config=config, learned=learned)

    def vigilctl(self, *args):
        out = subprocess.run(['setpriv', '--reuid=%d' % NOBODY, '--regid=%d' % NOBODY,
                              '--clear-groups', '--', VIGILCTL] + list(args), env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def open_rules(self):
        return self.open_page('Rules')

    def rows(self):
        win = self.ui.window(RULES)
        return win['tables'][0] if win and win['tables'] else []

    def row(self, text):
        """The list's row of the rule @text, once it shows."""
        return wait_until(lambda: [r for r in self.rows() if r[TITLE] == text], 10,
                          'the rule %r in the list' % text)[0]

    def mine(self):
        """nobody's own rules in vigild, by id."""
        return {r['id']: r for r in self.rules_of(NOBODY) if r.get('uid') == NOBODY}

    def status(self):
        """The status line of the Rules page (with the window's own status line)."""
        return ' '.join(self.ui.window(RULES)['labels'])

    def wait_status(self, text):
        """The status line, once it says @text."""
        return wait_until(lambda: [t for t in [self.status()] if text in t], 10,
                          'the status line to say %r' % text)[0]

    def open_dialog(self, button, title):
        self.ui.click(RULES, button)
        return self.ui.wait_for_window(title)

    def fill_dialog(self, title, action=None, protocol=None, **fields):
        """Sets the dialog's fields: action and protocol by the combo boxes' items, the text
        fields by their labels."""
        if action is not None:
            self.ui.select(title, ACTION, action)
        if protocol is not None:
            self.ui.select(title, PROTOCOL, protocol)
        for label, text in fields.items():
            self.ui.fill(title, label, text)

    def save(self, title):
        self.ui.click(title, 'Save')
        self.ui.wait_gone(title)

    def choose_file(self, button, title, path):
        """Clicks @button and picks @path in the file chooser it opens, as a user types a
        path: Ctrl+L and the location field to open a file, the name field to save one."""
        self.ui.click(RULES, button)
        self.ui.wait_for_window(title)
        if title == IMPORT:
            self.session.keys(title, 'ctrl+l')
            wait_until(lambda: self.ui.window(title)['entries']['null']['focused'], 10,
                       'the location field')
            self.ui.fill(title, None, path)
            self.ui.click(title, 'Import')
        else:
            self.ui.fill(title, 'Name:', path)
            self.ui.click(title, 'Export')
        self.ui.wait_gone(title)

    def user_file(self, name, data):
        """A file the tray's user may read and write, in its home directory."""
        path = os.path.join(self.session.home, name)
        with open(path, 'wb') as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.chown(path, NOBODY, NOBODY)
        return path


class RulesWindow(RulesTestCase):
    def test_lists_rules_by_program_and_removes_one(self):
        self.vigilctl('rules', 'add', '--mine', 'deny app %s port 9000 proto tcp' % PROBE_EXE)
        mine = [r for r in self.rules_of(NOBODY) if r.get('program') == PROBE_EXE]
        self.assertEqual(len(mine), 1)
        text = mine[0]['text']
        self.open_rules()
        rows = wait_until(lambda: [r for r in [self.rows()] if any(text in x for x in r)], 10,
                          'the rule in the list')[0]
        titles = [r[TITLE] for r in rows]
        # a program row, then its rules
        self.assertIn(PROBE_EXE, titles)
        self.assertLess(titles.index(PROBE_EXE), titles.index(text))
        self.assertIn(SYSTEM_RULE, titles)
        self.assertIn('/usr/bin/curl', [t.split(' — ')[-1] for t in titles])
        own = rows[titles.index(text)]
        self.assertIn('Denied', own)
        self.assertIn('9000', own)
        self.assertIn('nobody', own)

        # a system rule cannot be changed here
        self.ui.select_row(RULES, SYSTEM_RULE)
        wait_until(lambda: not self.ui.window(RULES)['buttons']['Remove']['sensitive'] and
                   not self.ui.window(RULES)['buttons']['Edit…']['sensitive'], 5,
                   'Remove to stay insensitive for a system rule')
        self.ui.select_row(RULES, text)
        wait_until(lambda: self.ui.window(RULES)['buttons']['Remove']['sensitive'], 5,
                   'Remove to become sensitive')
        self.session.screenshot(os.path.join(SCREENSHOTS, 'rules.png'),
                                self.ui.wait_for_window(RULES)['extents'])
        self.ui.click(RULES, 'Remove')
        wait_until(lambda: not [r for r in self.rules_of(NOBODY)
                                if r.get('program') == PROBE_EXE], 10, 'the rule to go')
        wait_until(lambda: not [r for r in self.rows() if text in r], 10,
                   'the rule to leave the list')
        self.assertIn(SYSTEM_RULE, [r[TITLE] for r in self.rows()])

    def test_search(self):
        self.vigilctl('rules', 'add', '--mine', 'allow app %s port 8080 proto tcp' % PROBE_EXE)
        self.open_rules()
        wait_until(lambda: len(self.rows()) >= 4, 10, 'two programs with a rule each')
        self.ui.call(cmd='type', title=RULES, text='curl')
        rows = wait_until(lambda: [r for r in [self.rows()] if len(r) == 2], 10,
                          'only curl and its rule')[0]
        self.assertEqual(rows[1][TITLE], SYSTEM_RULE)


class RuleDialog(RulesTestCase):
    def test_add_makes_the_rule_entered(self):
        self.open_rules()
        wait_until(lambda: self.rows(), 10, 'the list')
        win = self.open_dialog('Add…', ADD)
        # a new rule starts as "deny, anything" for this user alone
        self.assertEqual(win['combos'][ACTION]['name'], DENY)
        self.assertEqual(win['combos'][PROTOCOL]['name'], 'Any')
        self.assertEqual({label: e['text'] for label, e in win['entries'].items()},
                         {PROGRAM: '', DESTINATION: '', PORT: '', NOTE: ''})
        self.assertFalse(win['checks'][ALL_USERS]['checked'])
        self.fill_dialog(ADD, action=ALLOW, protocol='TCP', **{
            PROGRAM: PROBE_EXE, DESTINATION: '*.example.org', PORT: '443,8000-8080',
            NOTE: 'updates only'})
        self.save(ADD)

        rule = wait_until(lambda: list(self.mine().values()), 10, 'the new rule')
        self.assertEqual(len(rule), 1, rule)
        rule = rule[0]
        self.assertEqual({k: rule[k] for k in FIELDS if k in rule}, {
            'action': 'allow', 'program': PROBE_EXE, 'to': '*.example.org',
            'port': '443,8000-8080', 'proto': 'tcp', 'note': 'updates only', 'uid': NOBODY,
            'user': 'nobody', 'lifetime': 'forever', 'enabled': True, 'system': False})
        self.wait_status('Rule %d added' % rule['id'])
        row = self.row(rule['text'])
        self.assertEqual(row[TITLE + 1:TITLE + 6],
                         ['Allowed', '*.example.org', '443,8000-8080', 'tcp', 'nobody'])
        titles = [r[TITLE] for r in self.rows()]
        self.assertLess(titles.index(PROBE_EXE), titles.index(rule['text']),
                        'the rule under its program')

    def test_add_for_all_users(self):
        self.open_rules()
        self.open_dialog('Add…', ADD)
        self.fill_dialog(ADD, protocol='UDP', **{PORT: '5353'})
        self.ui.check(ADD, ALL_USERS)
        wait_until(lambda: self.ui.window(ADD)['checks'][ALL_USERS]['checked'], 5,
                   'the check box to be checked')
        self.save(ADD)
        rule = wait_until(lambda: [r for r in self.rules_of(NOBODY) if not r['system']], 10,
                          'the new rule')
        self.assertEqual(len(rule), 1, rule)
        rule = rule[0]
        self.assertEqual({k: rule[k] for k in FIELDS if k in rule}, {
            'action': 'deny', 'port': '5353', 'proto': 'udp', 'user': 'all',
            'lifetime': 'forever', 'enabled': True, 'system': False})
        row = self.row(rule['text'])
        self.assertEqual(row[TITLE + 1:TITLE + 6], ['Denied', 'any', '5353', 'udp', 'all users'])

    def test_capture_packets_makes_a_capture_rule_or_says_why_not(self):
        self.open_rules()
        wait_until(lambda: self.rows(), 10, 'the list')
        win = self.open_dialog('Add…', ADD)
        # only an allow rule lets packets through to record
        self.assertEqual(win['checks'][CAPTURE], {'checked': False, 'sensitive': False})
        self.fill_dialog(ADD, action=ALLOW, protocol='TCP', **{
            PROGRAM: PROBE_EXE, DESTINATION: PEER_V4, PORT: '8443'})
        wait_until(lambda: self.ui.window(ADD)['checks'][CAPTURE]['sensitive'], 5,
                   'the check box to become sensitive')
        self.ui.check(ADD, CAPTURE)
        wait_until(lambda: self.ui.window(ADD)['checks'][CAPTURE]['checked'], 5,
                   'the check box to be checked')
        self.save(ADD)
        rule = wait_until(lambda: list(self.mine().values()), 10, 'the new rule')[0]
        self.assertEqual((rule['action'], rule['capture'], rule['port']), ('allow', True, '8443'))
        self.assertTrue(rule['text'].endswith(' capture'), rule['text'])

        # editing it shows the capture, and to deny turns it off
        self.ui.select_row(RULES, rule['text'])
        win = self.open_dialog('Edit…', EDIT)
        self.assertEqual(win['checks'][CAPTURE], {'checked': True, 'sensitive': True})
        self.ui.select(EDIT, ACTION, DENY)
        wait_until(lambda: not self.ui.window(EDIT)['checks'][CAPTURE]['sensitive'], 5,
                   'the check box to become insensitive')
        self.save(EDIT)
        rule = wait_until(lambda: [r for r in self.mine().values() if r['action'] == 'deny'],
                          10, 'the changed rule')[0]
        self.assertFalse(rule['capture'])

        # capture rules need an administrator: without, vigild's refusal shows in the dialog
        self.polkit.set_allowed(USER_ACTIONS + [CONFIGURE])
        before = self.mine()
        self.open_dialog('Add…', ADD)
        self.fill_dialog(ADD, action=ALLOW, **{PROGRAM: PROBE_EXE, PORT: '8444'})
        self.ui.check(ADD, CAPTURE)
        wait_until(lambda: self.ui.window(ADD)['checks'][CAPTURE]['checked'], 5,
                   'the check box to be checked')
        self.ui.click(ADD, 'Save')
        win, said = self.wait_dialog_says(
            ADD, 'Only an administrator may make rules that capture packets')
        self.assertIn('not authorised: org.vigil.firewall.manage-all-rules', said)
        self.assertEqual(self.mine(), before)
        self.ui.click(ADD, 'Cancel')
        self.ui.wait_gone(ADD)

    def test_edit_changes_the_rule_in_place(self):
        self.vigilctl('rules', 'add', '--mine',
                      'deny app %s to %s port 9000 proto tcp note "no probes"'
                      % (PROBE_EXE, PEER_V4))
        (rid, before), = self.mine().items()
        self.open_rules()
        self.row(before['text'])
        self.ui.select_row(RULES, before['text'])
        win = self.open_dialog('Edit…', EDIT)
        # the dialog shows the rule as it is
        self.assertEqual(win['combos'][ACTION]['name'], DENY)
        self.assertEqual(win['combos'][PROTOCOL]['name'], 'TCP')
        self.assertEqual({label: e['text'] for label, e in win['entries'].items()},
                         {PROGRAM: PROBE_EXE, DESTINATION: PEER_V4, PORT: '9000',
                          NOTE: 'no probes'})
        self.assertFalse(win['checks'][ALL_USERS]['sensitive'], 'who it is for stays')
        self.fill_dialog(EDIT, action=ALLOW, **{PORT: '8080'})
        self.save(EDIT)

        after = wait_until(lambda: [r for r in [self.mine().get(rid)]
                                    if r and r['port'] == '8080'], 10, 'the changed rule')[0]
        self.assertEqual(list(self.mine()), [rid], 'the same rule, no new one')
        expected = {k: before[k] for k in FIELDS if k in before}
        expected.update(action='allow', port='8080')
        self.assertEqual({k: after[k] for k in FIELDS if k in after}, expected)
        self.assertEqual(after['created'], before['created'])
        row = self.row(after['text'])
        self.assertEqual(row[TITLE + 1:TITLE + 6], ['Allowed', PEER_V4, '8080', 'tcp', 'nobody'])
        wait_until(lambda: not [r for r in self.rows() if r[TITLE] == before['text']], 10,
                   'the old rule to leave the list')
        # and it decides: nobody's probe to port 8080 goes through, without a prompt
        self.assertEqual(self.probe_result(self.probe_async(8080, user=NOBODY))[0], 'ok')
        self.assertDecision(self.d, verdict='allow', port=8080, rule=rid)

    def test_bad_input_says_why_in_the_dialog_and_keeps_it(self):
        self.vigilctl('rules', 'add', '--mine', 'deny app %s port 9000 proto tcp' % PROBE_EXE)
        (rid, rule), = self.mine().items()
        self.open_rules()
        self.row(rule['text'])
        # each message differs from the one before, so none can be a stale one; each fix is
        # what the user types next into the same dialog
        cases = [
            ({PORT: '99999'}, None, "port: '99999' is not a port (1-65535)", {PORT: '9999'}),
            ({PORT: 'abc'}, None, "port: 'abc' is not a port (1-65535)", {PORT: '8080'}),
            ({PROGRAM: 'curl'}, None, "program: 'curl' is not an absolute path",
             {PROGRAM: VIGILCTL}),
            ({PROGRAM: '/usr/bin/no-such-program'}, None,
             "program: '/usr/bin/no-such-program' does not exist", {PROGRAM: PROBE_EXE}),
            ({DESTINATION: '10.0.0.1/8'}, None,
             "to: '10.0.0.1/8' has host bits set (did you mean 10.0.0.0/8?)",
             {DESTINATION: '10.0.0.0/8'}),
            ({PORT: '443'}, 'ICMP', 'port: icmp has no ports', {PORT: ''}),
        ]
        for button, title in (('Add…', ADD), ('Edit…', EDIT)):
            for fields, protocol, message, fix in cases:
                with self.subTest(fields=fields, protocol=protocol, dialog=title):
                    try:
                        self.refused_then_fixed(button, title, rid, fields, protocol, message,
                                                fix)
                    finally:
                        # a failed case leaves no dialog in the way of the next
                        if self.ui.window(title) is not None:
                            self.ui.click(title, 'Cancel')
                            self.ui.wait_gone(title)

    def wait_dialog_says(self, title, message):
        """The dialog @title, once a label of it says @message where the user looks, in a
        notification, which a screen reader reads out, and in its description; and what the
        label says. AT-SPI may tell of the label before its notification shows."""
        try:
            return wait_until(lambda: [(w, said) for w in [self.ui.window(title)] if w
                                       for said in w['labels'] if message in said
                                       if w['announced'] == [said]
                                       and w['description'] == said], 10,
                              'the dialog to say %r' % message)[0]
        except GuiError as e:
            raise GuiError('%s; it shows %r' % (e, self.ui.window(title))) from None

    def refused_then_fixed(self, button, title, rid, fields, protocol, message, fix):
        """Saves @fields in the dialog @title, which vigild refuses with @message: the dialog
        stays with what was typed and says why, vigild's rules stay as they were; then with
        @fix Save makes the rule (Add) or changes rule @rid (Edit) and closes the dialog."""
        before = self.mine()
        if title == EDIT:
            self.ui.select_row(RULES, before[rid]['text'])
        self.open_dialog(button, title)
        self.fill_dialog(title, protocol=protocol, **fields)
        typed = self.ui.window(title)
        for label, text in fields.items():
            self.assertEqual(typed['entries'][label]['text'], text)
        self.ui.click(title, 'Save')
        # vigild's reason, where the user looks and where a screen reader reads it out
        win, said = self.wait_dialog_says(title, message)
        self.assertNotIn(message, self.status(), 'said in the dialog, not behind it')
        # everything typed is still there, and Save may be clicked again
        self.assertEqual({k: e['text'] for k, e in win['entries'].items()},
                         {k: e['text'] for k, e in typed['entries'].items()})
        self.assertEqual({k: c['name'] for k, c in win['combos'].items()},
                         {k: c['name'] for k, c in typed['combos'].items()})
        self.assertEqual(win['checks'], typed['checks'])
        self.assertTrue(win['buttons']['Save']['sensitive'])
        # and nothing changed in vigild
        self.assertEqual(self.mine(), before, message)
        self.assertEqual(len([r for r in self.rows() if r[TITLE + 1] in
                              ('Allowed', 'Denied', 'Dropped')]), len(before) + 1,
                         'the list shows the same rules')

        # fixed, the rule is saved and the dialog closes
        self.fill_dialog(title, **fix)
        self.save(title)
        after = self.mine()
        keys = {PROGRAM: 'program', DESTINATION: 'to', PORT: 'port', NOTE: 'note'}
        if title == ADD:
            new = [r for i, r in after.items() if i not in before]
            self.assertEqual(len(new), 1, after)
            changed, expected = new[0], {'action': 'deny'}
            for label, text in dict(fields, **fix).items():
                if text:
                    expected[keys[label]] = text
            self.wait_status('Rule %d added' % changed['id'])
        else:
            self.assertEqual(set(after), set(before), 'the same rules, no new one')
            changed = after[rid]
            expected = {k: before[rid][k] for k in FIELDS if k in before[rid]}
            for label, text in dict(fields, **fix).items():
                if text:
                    expected[keys[label]] = text
                else:
                    expected.pop(keys[label], None)
        if protocol is not None:
            expected['proto'] = protocol.lower()
        self.assertEqual({k: changed[k] for k in expected if k in changed}, expected)
        self.assertNotIn(message, self.status())
        self.row(changed['text'])

    def test_cancel_while_vigild_decides(self):
        self.open_rules()
        self.row(SYSTEM_RULE)
        self.open_dialog('Add…', ADD)
        self.fill_dialog(ADD, **{PORT: '7000', NOTE: 'cancelled'})
        # polkit keeps vigild waiting: the dialog waits too, with Save insensitive
        self.polkit.simulate_hang_actions([OWN])
        try:
            self.ui.click(ADD, 'Save')
            wait_until(self.polkit.have_hanging_calls, 10, 'the check to reach polkit')
            win = self.ui.window(ADD)
            self.assertFalse(win['buttons']['Save']['sensitive'], 'one Save at a time')
            self.assertEqual(win['entries'][PORT]['text'], '7000')
            # Cancel closes it; the call goes on
            self.ui.click(ADD, 'Cancel')
            self.ui.wait_gone(ADD)
            self.assertEqual(self.mine(), {})
        finally:
            self.polkit.simulate_hang_actions([])
            self.polkit.release_hanging_calls()
        # vigild answers after all: the window says what became of the rule
        rule = wait_until(lambda: list(self.mine().values()), 10, 'the rule')
        self.assertEqual(len(rule), 1, rule)
        self.assertEqual((rule[0]['port'], rule[0]['note']), ('7000', 'cancelled'))
        self.wait_status('Rule %d added' % rule[0]['id'])
        self.row(rule[0]['text'])
        self.assertIsNone(self.session.tray.poll(), 'vigil-tray still runs')


class ImportExport(RulesTestCase):
    def test_import_adds_the_files_rules_once(self):
        path = self.user_file('mine.rules', (
            '# my rules\n'
            'allow user nobody app %s to %s port 8080 proto tcp\n'
            '\n'
            'deny user nobody to *.example.org note "trackers"\n') % (PROBE_EXE, PEER_V4))
        self.open_rules()
        self.row(SYSTEM_RULE)
        self.choose_file('Import…', IMPORT, path)
        self.wait_status('2 rules imported')
        mine = sorted(self.mine().values(), key=lambda r: r['id'])
        self.assertEqual([{k: r[k] for k in FIELDS if k in r} for r in mine], [
            {'action': 'allow', 'program': PROBE_EXE, 'to': PEER_V4, 'port': '8080',
             'proto': 'tcp', 'uid': NOBODY, 'user': 'nobody', 'lifetime': 'forever',
             'enabled': True, 'system': False},
            {'action': 'deny', 'to': '*.example.org', 'note': 'trackers', 'uid': NOBODY,
             'user': 'nobody', 'lifetime': 'forever', 'enabled': True, 'system': False}])
        for rule in mine:
            self.row(rule['text'])
        # what was imported, exported and imported again, adds nothing
        exported = os.path.join(self.session.home, 'exported.rules')
        self.choose_file('Export…', EXPORT, exported)
        self.wait_status('Rules exported')
        self.choose_file('Import…', IMPORT, exported)
        self.wait_status('2 rules imported')
        self.assertEqual(sorted(self.mine().values(), key=lambda r: r['id']), mine)

    def test_a_file_that_is_not_rules_says_why_and_changes_nothing(self):
        self.vigilctl('rules', 'add', '--mine', 'deny app %s port 9000 proto tcp' % PROBE_EXE)
        before = self.rules_of(NOBODY)
        self.open_rules()
        self.row(before[0]['text'])
        cases = [
            ('picture.png', b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00',
             'The file is not a rules file (not UTF-8 text)'),
            ('letter.txt', 'Dear Vigil,\nplease block the adverts.\n',
             "line 1: a rule starts with allow, deny or drop ('Dear')"),
            # all or none: the good first line is not added either
            ('half.rules', 'allow user nobody port 8080\nallow to nowhere..example\n',
             "line 2: to: 'nowhere..example' is not a host name"),
        ]
        for name, data, message in cases:
            with self.subTest(file=name):
                self.assertNotIn(message, self.status())
                self.choose_file('Import…', IMPORT, self.user_file(name, data))
                said = self.wait_status(message)
                self.assertEqual(self.rules_of(NOBODY), before, said)

    def test_export_writes_the_users_rules(self):
        self.vigilctl('rules', 'add', '--mine', 'deny app %s port 9000 proto tcp' % PROBE_EXE)
        self.vigilctl('rules', 'add', '--mine', 'allow to *.example.org port 443 note "web"')
        path = os.path.join(self.session.home, 'exported.rules')
        self.open_rules()
        self.row(SYSTEM_RULE)
        self.choose_file('Export…', EXPORT, path)
        self.wait_status('Rules exported')
        with open(path, encoding='utf-8') as f:
            written = f.read().splitlines()
        expected = self.vigilctl('rules', 'export').splitlines()
        # the first line says what the file is and when it was written
        self.assertTrue(written[0].startswith('# Vigil rules exported by vigild'), written)
        self.assertEqual(written[1:], expected[1:])
        self.assertEqual(sorted(written[1:]), sorted([
            'deny user nobody app %s port 9000 proto tcp' % PROBE_EXE,
            'allow user nobody to *.example.org port 443 note web']), written)
        self.assertNotIn(SYSTEM_RULE, '\n'.join(written), 'system rules are in their files')
        self.assertEqual(os.stat(path).st_uid, NOBODY, 'written by the tray, as its user')


if __name__ == '__main__':
    unittest.main(verbosity=2)
