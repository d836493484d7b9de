#!/usr/bin/python3
"""vigilctl's zsh completion (data/completion/_vigilctl), driven by a real interactive zsh.

zsh-complete.zsh runs zsh in a pseudo-terminal (zsh/zpty) with compinit and data/completion
first in $fpath, types the line and a TAB, and prints the matches zsh's completion system
keeps: commands, subcommands, options, option values, rule keywords and their values, program
paths, and the ids of the rules the user may see, which come from the real vigilctl talking to
a real vigild on a private system bus.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
COMPLETION_DIR = os.path.join(SOURCE_ROOT, 'data', 'completion')
HARNESS = os.path.join(HERE, 'zsh-complete.zsh')
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))
sys.path.insert(0, HERE)
import completion_cases  # noqa: E402

VIGILCTL = os.environ.get('VIGILCTL', os.path.join(SOURCE_ROOT, 'build/vigilctl/vigilctl'))

_dump_dir = tempfile.TemporaryDirectory()
# compinit's dump: made by the first completion, read by the others (seconds saved each)
DUMP = os.path.join(_dump_dir.name, 'zcompdump')


def complete(line, env=None):
    """What zsh offers for @line with the cursor at its end (sorted, each once)."""
    env = dict(env or os.environ)
    env['PATH'] = os.path.dirname(os.path.abspath(VIGILCTL)) + ':' + env.get('PATH', '')
    env.pop('ZDOTDIR', None)
    res = subprocess.run(['zsh', '-f', HARNESS, COMPLETION_DIR, line, DUMP], env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, 'zsh-complete.zsh failed (%d): %s' % (res.returncode,
                                                                      res.stderr)
    return sorted(set(w for w in res.stdout.split('\n') if w))


def check_installed():
    assert shutil.which('zsh'), 'zsh is not installed'


class ZshCompletion(completion_cases.shared_case(complete, check_installed)):
    def test_everything_vigilctl_help_lists(self):
        completion_cases.assert_help_is_completed(self, complete)

    def test_options(self):
        self.assertEqual(complete('vigilctl --j'), ['--json'])
        self.assertIn('--version', complete('vigilctl --'))
        got = complete('vigilctl log --')
        for o in ('--program', '--verdict', '--uid', '--since', '--limit', '--json'):
            self.assertIn(o, got)
        self.assertIn('--lines', complete('vigilctl monitor --'))
        self.assertIn('--sort', complete('vigilctl top --'))
        self.assertIn('--mine', complete('vigilctl rules add --'))
        self.assertNotIn('--mine', complete('vigilctl rules list --'))
        # options after the command too, as vigilctl takes them
        self.assertIn('--json', complete('vigilctl rules list --'))

    def test_option_values(self):
        self.assertEqual(complete('vigilctl log -v d'), ['deny', 'drop'])
        self.assertEqual(complete('vigilctl monitor --verdict=a'), ['--verdict=allow'])
        self.assertEqual(complete('vigilctl top --sort=de'),
                         ['--sort=denied', '--sort=destinations'])
        self.assertEqual(complete('vigilctl config fail-mode=c'), ['fail-mode=closed'])
        self.assertEqual(complete('vigilctl config default-action=d'), ['default-action=deny'])
        self.assertEqual(complete('vigilctl config '),
                         ['default-action', 'fail-mode', 'prompt-timeout'])
        self.assertIn('0', complete('vigilctl log -u '))  # root's uid

    def test_program_paths(self):
        self.assertEqual(complete('vigilctl log -p ' + self.prog[:-3]), [self.prog])
        self.assertEqual(complete('vigilctl log --program=' + self.prog[:-3]),
                         ['--program=' + self.prog])
        self.assertEqual(complete('vigilctl rules add deny app ' + self.prog[:-3]), [self.prog])
        self.assertIn('sh', complete('vigilctl monitor -p s'))  # a command in $PATH
        self.assertEqual(complete('vigilctl rules import ' + self.prog[:-3]), [self.prog])

    def test_rule_word_unknown(self):
        self.assertEqual(complete('vigilctl rules add deny app un'), ['unknown'])


RuleIds = completion_cases.rule_ids_case(complete)
if RuleIds is None:
    del RuleIds


if __name__ == '__main__':
    unittest.main(verbosity=2)
