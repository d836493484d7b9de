#!/usr/bin/python3
"""The man pages: built, lint-clean, and complete.

- `mandoc -T lint` and `man --warnings` (groff's warnings, what lintian checks) report
  nothing on each page. The one mandoc warning allowed is scdoc's habit of a paragraph macro
  right after a section heading or another paragraph macro ("skipping paragraph macro"),
  which changes nothing in the output.
- vigilctl(1) documents every command, rules subcommand and option that vigilctl's own
  --help lists, and every config setting of `vigilctl config --help`;
- vigild(8) every option of `vigild --help`, vigil-tray(1) every one of `vigil-tray --help`;
- vigild.conf(5) every key of vigild's settings table (common/vigil-settings.c);
- vigil.rules(5) every rule keyword of docs/rules.md's keyword table.

The German and French pages (man/po/LANG.po applied to the English pages by po4a, see
man/po4a.cfg) get the same checks, and two more:
- every paragraph of the English pages has its translation in man/po/LANG.po (a new or changed
  paragraph, such as a new config key, fails with the text to translate);
- a translated page names every option the English page names.
"""
import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
MAN_DIR = os.environ.get('VIGIL_MAN_DIR', os.path.join(SOURCE_ROOT, 'build', 'man'))
VIGILCTL = os.environ.get('VIGILCTL', os.path.join(SOURCE_ROOT, 'build/vigilctl/vigilctl'))
VIGILD = os.environ.get('VIGILD', os.path.join(SOURCE_ROOT, 'build/daemon/vigild'))
PAGES = os.environ.get('VIGIL_MAN_PAGES',
                       'vigild.8 vigilctl.1 vigild.conf.5 vigil.rules.5 vigil-tray.1').split()
ENV = dict(os.environ, LANGUAGE='', LC_ALL='C.UTF-8')
MAN_SOURCE = os.path.join(SOURCE_ROOT, 'man')
# the languages of man/po/*.po, and those the build made pages of (none without po4a)
LANGS = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(MAN_SOURCE, 'po', '*.po')))
BUILT_LANGS = os.environ.get('VIGIL_MAN_LANGS', ' '.join(LANGS)).split()
LANGUAGE_NAMES = {'de': 'German', 'fr': 'French'}
# the headings the checks look in, as the translations write them
HEADINGS = {
    'de': {'OPTIONS': 'OPTIONEN', 'COMMANDS': 'BEFEHLE', 'KEYS': 'SCHLÜSSEL',
           'FORMAT': 'FORMAT'},
    'fr': {'OPTIONS': 'OPTIONS', 'COMMANDS': 'COMMANDES', 'KEYS': 'CLÉS', 'FORMAT': 'FORMAT'},
}


def page_path(name, lang=None):
    return os.path.join(MAN_DIR, lang, name) if lang else os.path.join(MAN_DIR, name)


def page_title(name, lang=None):
    """How a failure names a page: vigild.conf(5), or the German vigild.conf(5) and its po."""
    stem, sect = name.rsplit('.', 1)
    title = '%s(%s)' % (stem, sect)
    if lang:
        return 'the %s %s (man/po/%s.po)' % (LANGUAGE_NAMES.get(lang, lang), title, lang)
    return title


def rendered(name, lang=None):
    """The page as a reader sees it, without hyphenation or line breaks inside words."""
    out = subprocess.run(['mandoc', '-T', 'utf8', '-O', 'width=1000', page_path(name, lang)],
                         capture_output=True, text=True, check=True, env=ENV).stdout
    return re.sub('.\b', '', out)


def section(text, title, lang=None):
    """The text of section @title (a heading at the start of a line, translated for @lang) up
    to the next heading (or the footer: the only other lines that start unindented)."""
    title = HEADINGS[lang][title] if lang else title
    m = re.search(r'^%s\n(.*?)(?=^\S|\Z)' % re.escape(title), text, re.M | re.S)
    assert m, 'no section %s' % title
    return m.group(1)


def setting_keys():
    """The keys of vigild.conf: the names in vigild's settings table (common/vigil-settings.c),
    given as a string or as a VIGIL_CONFIG_KEY_ macro of dbus/vigil-dbus.h."""
    with open(os.path.join(SOURCE_ROOT, 'dbus', 'vigil-dbus.h')) as f:
        macros = dict(re.findall(r'#define\s+(VIGIL_CONFIG_KEY_\w+)\s+"(\w+)"', f.read()))
    with open(os.path.join(SOURCE_ROOT, 'common', 'vigil-settings.c')) as f:
        table = re.search(r'VigilSetting settings\[\]\s*=\s*\{(.*?)\n\};', f.read(), re.S)
    assert table, 'no settings table in common/vigil-settings.c'
    names = re.findall(r'\.name\s*=\s*(?:"(\w+)"|(VIGIL_CONFIG_KEY_\w+))', table.group(1))
    return [name or macros[macro] for name, macro in names]


def all_pages():
    """(name, lang) of every page the build made: English (lang None) and translated."""
    return [(name, lang) for lang in [None] + BUILT_LANGS for name in PAGES]


def po_entries(path):
    """The entries of a po file: dicts with msgid, msgstr, fuzzy, refs (obsolete ones left out)."""
    entries = []
    with open(path, encoding='utf-8') as f:
        blocks = f.read().split('\n\n')
    for block in blocks:
        lines = [line for line in block.splitlines() if not line.startswith('#~')]
        entry = {'msgid': None, 'msgstr': None, 'fuzzy': False, 'refs': [], 'previous': ''}
        key = None
        for line in lines:
            if line.startswith('#,'):
                entry['fuzzy'] |= 'fuzzy' in line
            elif line.startswith('#:'):
                entry['refs'] += line[2:].split()
            elif line.startswith('#| msgid '):
                entry['previous'] = eval(line[len('#| msgid '):])
            elif line.startswith('#| "'):
                entry['previous'] += eval(line[3:])
            elif line.startswith('msgid '):
                key, entry['msgid'] = 'msgid', eval(line[6:])
            elif line.startswith('msgstr '):
                key, entry['msgstr'] = 'msgstr', eval(line[7:])
            elif line.startswith('"') and key:
                entry[key] += eval(line)
        if entry['msgid']:  # the header's msgid is empty
            entries.append(entry)
    return entries


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
        self.assertEqual(BUILT_LANGS, LANGS,
                         'the man pages of these languages are built (po4a is a build '
                         'dependency of the translated pages)')
        for name, lang in all_pages():
            self.assertTrue(os.path.isfile(page_path(name, lang)),
                            '%s is not built' % page_path(name, lang))

    def test_mandoc_lint(self):
        self.assertIsNotNone(shutil.which('mandoc'), 'mandoc is not installed')
        for name, lang in all_pages():
            res = subprocess.run(['mandoc', '-T', 'lint', '-W', 'warning', page_path(name, lang)],
                                 capture_output=True, text=True, env=ENV)
            problems = [line for line in (res.stdout + res.stderr).splitlines()
                        if 'skipping paragraph macro' not in line]
            self.assertEqual(problems, [], page_title(name, lang))

    def test_man_warnings(self):
        self.assertIsNotNone(shutil.which('man'), 'man-db is not installed')
        for name, lang in all_pages():
            res = subprocess.run(['man', '--warnings', '-E', 'UTF-8', '-l', '-Tutf8', '-Z',
                                  page_path(name, lang)], capture_output=True, text=True,
                                 env=dict(ENV, MANWIDTH='80', MANROFFSEQ=''))
            self.assertEqual(res.returncode, 0, page_title(name, lang))
            self.assertEqual(res.stderr, '', page_title(name, lang))

    def test_vigilctl_commands_and_options(self):
        top = help_text()
        commands = first_words(help_block(top, 'Commands:'))
        self.assertIn('rules', commands)
        rules = first_words(help_block(help_text('rules'), 'Commands:'))
        self.assertIn('import', rules)
        wanted = {(None, o) for o in options(top)}
        for c in commands:
            wanted |= {(c, o) for o in options(help_text(c))}
        for r in rules:
            wanted |= {('rules ' + r, o) for o in options(help_text('rules', r))}
        self.assertIn(('log', '--since'), wanted)
        settings = first_words(help_block(help_text('config'), 'Settings:'))
        keys = [s.split('=')[0] for s in settings if '=' in s]
        self.assertIn('fail-mode', keys)

        for lang in [None] + BUILT_LANGS:
            title = page_title('vigilctl.1', lang)
            page = rendered('vigilctl.1', lang)
            commands_section = section(page, 'COMMANDS', lang)
            missing = [c for c in commands
                       if not re.search(r'^\s+%s\b' % re.escape(c), commands_section, re.M)]
            missing += ['rules ' + r for r in rules if 'rules ' + r not in commands_section]
            self.assertEqual(missing, [], 'commands %s does not describe' % title)
            missing = sorted('%s %s' % (c or 'vigilctl', o) for c, o in wanted
                             if not re.search(r'(?<![\w-])%s(?![\w-])' % re.escape(o), page))
            self.assertEqual(missing, [], 'options %s does not describe' % title)
            self.assertEqual([k for k in keys if k + '=' not in commands_section], [],
                             'config settings %s does not describe' % title)

    def test_vigild_options(self):
        wanted = options(help_text(program=VIGILD))
        self.assertIn('--learned-rules', wanted)
        for lang in [None] + BUILT_LANGS:
            page = section(rendered('vigild.8', lang), 'OPTIONS', lang)
            self.assertEqual(sorted(o for o in wanted if not re.search(
                r'(?<![\w-])%s(?![\w-])' % re.escape(o), page)), [],
                'options %s does not describe' % page_title('vigild.8', lang))

    def test_vigil_tray_options(self):
        tray = os.environ.get('VIGIL_TRAY')
        if 'vigil-tray.1' not in PAGES:
            return  # vigil-tray is not built (no GTK): neither is its page
        self.assertTrue(tray and os.access(tray, os.X_OK), 'VIGIL_TRAY is not set')
        wanted = options(help_text(program=tray))
        self.assertIn('--display', wanted)
        for lang in [None] + BUILT_LANGS:
            page = section(rendered('vigil-tray.1', lang), 'OPTIONS', lang)
            self.assertEqual(sorted(o for o in wanted if not re.search(
                r'(?<![\w-])%s(?![\w-])' % re.escape(o), page)), [],
                'options %s does not describe' % page_title('vigil-tray.1', lang))

    def test_config_keys(self):
        keys = setting_keys()
        self.assertIn('FailMode', keys)
        for lang in [None] + BUILT_LANGS:
            page = section(rendered('vigild.conf.5', lang), 'KEYS', lang)
            self.assertEqual([k for k in keys if not re.search(r'^\s+%s=' % k, page, re.M)],
                             [], 'keys %s does not describe' % page_title('vigild.conf.5', lang))

    def test_rule_keywords(self):
        with open(os.path.join(SOURCE_ROOT, 'docs', 'rules.md')) as f:
            docs = f.read()
        table = docs[docs.index('| keyword |'):]
        table = table[:table.index('\n\n')]
        keywords = re.findall(r'^\| `([\w-]+)` \|', table, re.M)
        self.assertIn('until-quit', keywords)
        for lang in [None] + BUILT_LANGS:
            page = section(rendered('vigil.rules.5', lang), 'FORMAT', lang)
            self.assertEqual(
                [k for k in keywords if not re.search(r'^\s+%s\b' % k, page, re.M)], [],
                'rule keywords %s does not describe' % page_title('vigil.rules.5', lang))

    def test_translations_complete(self):
        """Every paragraph of the English pages is translated in man/po/LANG.po: what po4a
        would leave English (new paragraphs, and changed ones, which msgmerge marks fuzzy)
        is listed with the text to translate."""
        self.assertIsNotNone(shutil.which('po4a'), 'po4a is not installed')
        with open(os.path.join(MAN_SOURCE, 'po4a.cfg')) as f:
            cfg = f.read()
        sources = sorted(os.path.basename(p) for p in glob.glob(os.path.join(MAN_SOURCE, '*.scd')))
        self.assertEqual([s for s in sources if '[type: text] %s ' % s not in cfg], [],
                         'English pages man/po4a.cfg does not list (add a [type: text] line)')
        with tempfile.TemporaryDirectory() as tmp:
            # po4a updates the po files from the English pages, in a copy of man/
            shutil.copytree(MAN_SOURCE, os.path.join(tmp, 'man'),
                            ignore=shutil.ignore_patterns('meson.build', 'de', 'fr'))
            # (--force: po4a skips the update when the po files look newer than the pages,
            # as after a checkout)
            res = subprocess.run(['po4a', '--no-translations', '--force', 'po4a.cfg'],
                                 cwd=os.path.join(tmp, 'man'), capture_output=True,
                                 text=True, env=ENV)
            self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
            problems = []
            for lang in LANGS:
                res = subprocess.run(['msgfmt', '-c', '-o', '/dev/null',
                                      os.path.join(MAN_SOURCE, 'po', lang + '.po')],
                                     capture_output=True, text=True, env=ENV)
                self.assertEqual(res.returncode, 0, 'man/po/%s.po: %s' % (lang, res.stderr))
                po = os.path.join(tmp, 'man', 'po', lang + '.po')
                lacking = [e for e in po_entries(po) if not e['msgstr'] or e['fuzzy']]
                if lacking:
                    problems.append(self.lacking_message(lang, lacking))
            if problems:
                self.fail('\n'.join(problems))

    @staticmethod
    def lacking_message(lang, lacking):
        name = LANGUAGE_NAMES.get(lang, lang)
        text = ['\nman/po/%s.po has no %s for %d paragraph(s) of the English man pages '
                '(the %s pages show them in English). To add them: `ninja -C build '
                'man-update-po` (po4a brings man/po/*.po up to date with man/*.scd), then in '
                'man/po/%s.po write the %s msgstr of each entry below and delete its '
                '"#, fuzzy" flag; keep the scdoc markup, the tab indentation and every '
                'option, key and keyword as in English (terms: po/%s.po).'
                % (lang, name, len(lacking), name, lang, name, lang)]
        for e in lacking:
            text.append('--- %s%s:\n%s' % (' '.join(e['refs']),
                                          ' (changed; was: %r)' % e['previous']
                                          if e['previous'] else '', e['msgid']))
        return '\n'.join(text)

    def test_translations_keep_options(self):
        """A translated page names every option (-x, --long) its English page names."""
        option = r'(?<![\w-])--?[a-zA-Z][\w-]*'
        for name, lang in all_pages():
            if not lang:
                continue
            english = set(re.findall(option, rendered(name)))
            translated = set(re.findall(option, rendered(name, lang)))
            self.assertEqual(sorted(english - translated), [],
                             'options the English %s names and %s lacks: keep them in the '
                             'msgstr' % (name, page_title(name, lang)))


if __name__ == '__main__':
    unittest.main(verbosity=2)
