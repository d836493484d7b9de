"""Completion cases the bash and the zsh completion share: both must complete everything
vigilctl's own --help lists, and the rule ids a real vigild gives the calling user."""
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))
sys.path.insert(0, HERE)


def assert_help_is_completed(test, complete, offered=set):
    """The commands, subcommands and options of vigilctl's own --help, so that a new one
    cannot be left out of the completion; @offered turns a completion's words into the
    option names it offers."""
    from test_man_pages import first_words, help_block, help_text, options
    top = help_text()
    commands = first_words(help_block(top, 'Commands:'))
    test.assertEqual(sorted(set(commands) - set(complete('vigilctl '))), [])
    rules = first_words(help_block(help_text('rules'), 'Commands:'))
    test.assertEqual(sorted(set(rules) - set(complete('vigilctl rules '))), [])
    lines = [('', top)] + [(c, help_text(c)) for c in commands] + \
        [('rules ' + r, help_text('rules', r)) for r in rules]
    for words, text in lines:
        got = offered(complete(('vigilctl %s -' % words).replace('  ', ' ')))
        test.assertEqual(sorted(options(text) - got), [], 'vigilctl %s' % words)


def shared_case(complete, check_installed):
    """The base of both completions' test cases: a program file to complete (self.prog) and
    the cases whose answers are the same in bash and zsh; @check_installed asserts that the
    shell's completion can run at all."""

    class SharedCases(unittest.TestCase):
        @classmethod
        def setUpClass(cls):
            check_installed()
            cls.tmp = tempfile.TemporaryDirectory()
            cls.prog = os.path.join(cls.tmp.name, 'myprog')
            with open(cls.prog, 'w') as f:
                f.write('#!/bin/sh\n')
            os.chmod(cls.prog, 0o755)

        @classmethod
        def tearDownClass(cls):
            cls.tmp.cleanup()

        def test_commands(self):
            got = complete('vigilctl ')
            for c in ('status', 'rules', 'pending', 'log', 'top', 'monitor', 'prompt', 'enable',
                      'disable', 'config'):
                self.assertIn(c, got)
            self.assertEqual(complete('vigilctl ru'), ['rules'])
            self.assertEqual(complete('vigilctl --json st'), ['status'])

        def test_rules_subcommands(self):
            self.assertEqual(complete('vigilctl rules '),
                             sorted('list add edit remove enable disable import export'.split()))
            self.assertEqual(complete('vigilctl rules e'), ['edit', 'enable', 'export'])

        def test_rule_words(self):
            self.assertEqual(complete('vigilctl rules add d'), ['deny', 'disabled', 'drop'])
            self.assertIn('proto', complete('vigilctl rules add deny app /usr/bin/curl p'))
            self.assertEqual(complete('vigilctl rules add deny proto udp'), ['udp', 'udplite'])
            self.assertIn('root', complete('vigilctl rules add allow user ro'))

        def test_no_vigild_no_ids(self):
            env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS='unix:path=/nonexistent')
            self.assertEqual(complete('vigilctl rules remove ', env), [])

    return SharedCases


def rule_ids_case(complete):
    """A test case class for the ids of rules from vigild, or None outside meson test (no
    VIGILD: the rest still runs)."""
    try:
        from test_vigilctl import VigilctlTestCase
    except ImportError as e:
        print('rule ids not tested: %s' % e, file=sys.stderr)
        return None

    class RuleIds(VigilctlTestCase):
        """The ids come from vigild: the rules the calling user may see."""

        def test_rule_ids(self):
            self.start_vigild(rules='deny app /usr/bin/curl port 443\n')
            self.ok('rules', 'add', 'allow app /usr/bin/ssh port 22')
            ids = sorted(str(i) for i in self.rule_ids())
            self.assertEqual(len(ids), 2, ids)
            self.assertEqual(complete('vigilctl rules remove ', self.env), ids)
            self.assertEqual(complete('vigilctl rules edit ', self.env), ids)
            self.assertEqual(complete('vigilctl --json rules disable ', self.env), ids)
            # after the id of "edit" comes a rule
            self.assertIn('allow', complete('vigilctl rules edit %s ' % ids[0], self.env))

    return RuleIds
