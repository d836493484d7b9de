#!/usr/bin/python3
"""The man pages: built, lint-clean, and complete.

- `mandoc -T lint` and `man --warnings` (groff's warnings, what lintian checks) report
  nothing on each page. The one mandoc warning allowed is scdoc's habit of a paragraph macro
  right after a section heading or another paragraph macro ("skipping paragraph macro"),
  which changes nothing in the output.
- vigilctl(1) documents every command, rules subcommand and option that vigilctl's own
  --help lists, and every config setting of `vigilctl config --help`;
- vigild(8) every option of `vigild --help`, vigil-tray(1) every one of `vigil-tray --help`;
- vigild.conf(5) every key of vigild's key table (daemon/vigil-config.c, known_keys);
- vigil.rules(5) every rule keyword of docs/rules.md's keyword table.
"""
import os
import re
import shutil
import subprocess
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
MAN_DIR = os.environ.get('VIGIL_MAN_DIR', os.path.join(SOURCE_ROOT, 'build', 'man'))
VIGILCTL = os.environ.get('VIGILCTL', os.path.join(SOURCE_ROOT, 'build/vigilctl/vigilctl'))
VIGILD = os.environ.get('VIGILD', os.path.join(SOURCE_ROOT, 'build/daemon/vigild'))
PAGES = os.environ.get('VIGIL_MAN_PAGES',
                       'vigild.8 vigilctl.1 vigild.conf.5 vigil.rules.5 vigil-tray.1').split()
ENV = dict(os.environ, LANGUAGE='', LC_ALL='C.UTF-8')


def page_path(name):
    return os.path.join(MAN_DIR, name)


def rendered(name):
    """The page as a reader sees it, without hyphenation or line breaks inside words."""
    out = subprocess.run(['mandoc', '-T', 'utf8', '-O', 'width=1000', page_path(name)],
                         capture_output=True, text=True, check=True, env=ENV).stdout
    return re.sub('.\b', '', out)


def section(text, title):
    """The text of section @title (a heading at the start of a line) up to the next one."""
    m = re.search(r'^%s\n(.*?)(?=^[A-Z][A-Z ]+\n|\Z)' % re.escape(title), text, re.M | re.S)
    assert m, 'no section %s' % title
    return m.group(1)


def help_text(*args, program=VIGILCTL):
    return subprocess.run([program] + list(args) + ['--help'], capture_output=True, text=True,
                          env=ENV, check=True).stdout


def help_block(text, heading):
    """The indented lines under @heading ("Commands:", "Application Options:") of a --help."""
    m = re.search(r'^%s\n((?:  .*\n)+)' % re.escape(heading), text, re.M)
    return m.group(1) if m else ''


def options(text):
    """-x and --long option names of a --help's Application Options."""
    return set(re.findall(r'(?<![\w-])(--?[a-zA-Z][\w-]*)', '\n'.join(
        line.split('  ')[1] if line.startswith('  ') else line
        for line in help_block(text, 'Application Options:').splitlines()
        for line in [line.strip()])))


def first_words(block):
    return [line.split()[0] for line in block.splitlines() if line.strip()]


class ManPages(unittest.TestCase):
    def test_pages_are_built(self):
        for name in PAGES:
            self.assertTrue(os.path.isfile(page_path(name)), '%s is not built' % name)

    def test_mandoc_lint(self):
        self.assertIsNotNone(shutil.which('mandoc'), 'mandoc is not installed')
        for name in PAGES:
            res = subprocess.run(['mandoc', '-T', 'lint', '-W', 'warning', page_path(name)],
                                 capture_output=True, text=True, env=ENV)
            problems = [line for line in (res.stdout + res.stderr).splitlines()
                        if 'skipping paragraph macro' not in line]
            self.assertEqual(problems, [], name)

    def test_man_warnings(self):
        self.assertIsNotNone(shutil.which('man'), 'man-db is not installed')
        for name in PAGES:
            res = subprocess.run(['man', '--warnings', '-E', 'UTF-8', '-l', '-Tutf8', '-Z',
                                  page_path(name)], capture_output=True, text=True,
                                 env=dict(ENV, MANWIDTH='80', MANROFFSEQ=''))
            self.assertEqual(res.returncode, 0, name)
            self.assertEqual(res.stderr, '', name)

    def test_vigilctl_commands_and_options(self):
        page = rendered('vigilctl.1')
        commands_section = section(page, 'COMMANDS')
        top = help_text()
        commands = first_words(help_block(top, 'Commands:'))
        self.assertIn('rules', commands)
        missing = [c for c in commands
                   if not re.search(r'^\s+%s\b' % re.escape(c), commands_section, re.M)]
        rules = first_words(help_block(help_text('rules'), 'Commands:'))
        self.assertIn('import', rules)
        missing += ['rules ' + r for r in rules if 'rules ' + r not in commands_section]
        self.assertEqual(missing, [], 'commands vigilctl(1) does not describe')

        wanted = {(None, o) for o in options(top)}
        for c in commands:
            wanted |= {(c, o) for o in options(help_text(c))}
        for r in rules:
            wanted |= {('rules ' + r, o) for o in options(help_text('rules', r))}
        self.assertIn(('log', '--since'), wanted)
        missing = sorted('%s %s' % (c or 'vigilctl', o) for c, o in wanted
                         if not re.search(r'(?<![\w-])%s(?![\w-])' % re.escape(o), page))
        self.assertEqual(missing, [], 'options vigilctl(1) does not describe')

        settings = first_words(help_block(help_text('config'), 'Settings:'))
        keys = [s.split('=')[0] for s in settings if '=' in s]
        self.assertIn('fail-mode', keys)
        self.assertEqual([k for k in keys if k + '=' not in commands_section], [],
                         'config settings vigilctl(1) does not describe')

    def test_vigild_options(self):
        page = section(rendered('vigild.8'), 'OPTIONS')
        wanted = options(help_text(program=VIGILD))
        self.assertIn('--learned-rules', wanted)
        self.assertEqual(sorted(o for o in wanted if not re.search(
            r'(?<![\w-])%s(?![\w-])' % re.escape(o), page)), [],
            'options vigild(8) does not describe')

    def test_vigil_tray_options(self):
        tray = os.environ.get('VIGIL_TRAY')
        if 'vigil-tray.1' not in PAGES:
            return  # vigil-tray is not built (no GTK): neither is its page
        self.assertTrue(tray and os.access(tray, os.X_OK), 'VIGIL_TRAY is not set')
        page = section(rendered('vigil-tray.1'), 'OPTIONS')
        wanted = options(help_text(program=tray))
        self.assertIn('--display', wanted)
        self.assertEqual(sorted(o for o in wanted if not re.search(
            r'(?<![\w-])%s(?![\w-])' % re.escape(o), page)), [],
            'options vigil-tray(1) does not describe')

    def test_config_keys(self):
        with open(os.path.join(SOURCE_ROOT, 'daemon', 'vigil-config.c')) as f:
            table = re.search(r'known_keys\[\]\s*=\s*\{(.*?)\};', f.read(), re.S).group(1)
        keys = re.findall(r'"(\w+)"', table)
        self.assertIn('FailMode', keys)
        page = section(rendered('vigild.conf.5'), 'KEYS')
        self.assertEqual([k for k in keys if not re.search(r'^\s+%s=' % k, page, re.M)], [],
                         'keys vigild.conf(5) does not describe')

    def test_rule_keywords(self):
        with open(os.path.join(SOURCE_ROOT, 'docs', 'rules.md')) as f:
            docs = f.read()
        table = docs[docs.index('| keyword |'):]
        table = table[:table.index('\n\n')]
        keywords = re.findall(r'^\| `([\w-]+)` \|', table, re.M)
        self.assertIn('until-quit', keywords)
        page = section(rendered('vigil.rules.5'), 'FORMAT')
        self.assertEqual([k for k in keywords if not re.search(r'^\s+%s\b' % k, page, re.M)],
                         [], 'rule keywords vigil.rules(5) does not describe')


if __name__ == '__main__':
    unittest.main(verbosity=2)
