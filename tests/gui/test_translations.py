#!/usr/bin/python3
"""Every language in po/LINGUAS translates every string of the current sources (vigil-tray's and
vigilctl's), with the same printf placeholders (msgfmt --check-format), every source file that
marks strings is in po/POTFILES, and the .desktop and metainfo files carry them.

    test_translations.py BUILD_DIR
"""
import glob
import os
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
PO = os.path.join(SOURCE_ROOT, 'po')
BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(SOURCE_ROOT, 'build')
# as meson's glib preset calls it
XGETTEXT = ['xgettext', '--from-code=UTF-8', '--add-comments', '--keyword=_', '--keyword=N_',
            '--keyword=C_:1c,2', '--keyword=NC_:1c,2', '--keyword=g_dngettext:2,3',
            '--keyword=ngettext:1,2']


# the programs whose strings go through gettext
TRANSLATED_DIRS = ['common', 'gui', 'libvigil-client', 'vigilctl']
MARKED = re.compile(r'\b(?:N?_|C_|ngettext)\(|translatable="yes"')


def linguas():
    with open(os.path.join(PO, 'LINGUAS'), encoding='utf-8') as f:
        return [w for line in f for w in line.split('#')[0].split()]


class Translations(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.pot = os.path.join(cls.tmp.name, 'vigil.pot')
        subprocess.run(XGETTEXT + ['--directory=' + SOURCE_ROOT,
                                   '--files-from=' + os.path.join(PO, 'POTFILES'),
                                   '-o', cls.pot], check=True, stderr=subprocess.DEVNULL)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_german_and_french_at_least(self):
        self.assertLessEqual({'de', 'fr'}, set(linguas()))

    def test_potfiles_lists_every_file_with_strings(self):
        with open(os.path.join(PO, 'POTFILES'), encoding='utf-8') as f:
            listed = {line.strip() for line in f if line.strip() and not line.startswith('#')}
        marking = set()
        for d in TRANSLATED_DIRS:
            for path in glob.glob(os.path.join(SOURCE_ROOT, d, '*.[cu]*')):
                with open(path, encoding='utf-8') as f:
                    if MARKED.search(f.read()):
                        marking.add(os.path.relpath(path, SOURCE_ROOT))
        self.assertTrue(any(p.startswith('vigilctl/') for p in marking))
        self.assertLessEqual(marking, listed)

    def test_every_string_translated(self):
        for lang in linguas():
            po = os.path.join(PO, lang + '.po')
            # msgcmp counts untranslated and fuzzy entries as missing
            res = subprocess.run(['msgcmp', po, self.pot], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
            self.assertEqual(res.returncode, 0, '%s:\n%s' % (lang, res.stdout))
            res = subprocess.run(['msgfmt', '--check', '--statistics', '-o', os.devnull, po],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            self.assertEqual(res.returncode, 0, res.stdout)
            self.assertNotIn('untranslated', res.stdout)
            self.assertNotIn('fuzzy', res.stdout)

    def test_desktop_and_metainfo_translated(self):
        with open(os.path.join(BUILD, 'data', 'org.vigil.Tray.desktop'), encoding='utf-8') as f:
            desktop = f.read()
        with open(os.path.join(BUILD, 'data', 'org.vigil.Tray.metainfo.xml'),
                  encoding='utf-8') as f:
            metainfo = f.read()
        for lang in linguas():
            self.assertIn('Comment[%s]=' % lang, desktop)
            self.assertIn('xml:lang="%s"' % lang, metainfo)
        self.assertIn('GenericName[de]=Anwendungs-Firewall', desktop)
        self.assertIn('GenericName[fr]=Pare-feu applicatif', desktop)


if __name__ == '__main__':
    unittest.main(verbosity=2)
