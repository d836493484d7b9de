#!/usr/bin/python3
"""vigilctl's bash completion (data/completion/vigilctl.bash), driven as bash drives it.

Each case sets COMP_WORDS/COMP_CWORD/COMP_LINE/COMP_POINT the way readline splits the line
(COMP_WORDBREAKS: "=" is a word of its own), calls the completion function with
bash-completion loaded, and reads COMPREPLY: commands, subcommands, options, option values,
rule keywords and their values, program paths, and the ids of the rules the user may see,
which come from the real vigilctl talking to a real vigild on a private system bus.
"""
import os
import shlex
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
COMPLETION = os.path.join(SOURCE_ROOT, 'data', 'completion', 'vigilctl.bash')
BASH_COMPLETION = '/usr/share/bash-completion/bash_completion'
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))
import completion_cases  # noqa: E402

VIGILCTL = os.environ.get('VIGILCTL', os.path.join(SOURCE_ROOT, 'build/vigilctl/vigilctl'))


def readline_words(line):
    """The words bash hands a completion function for @line (cursor at its end)."""
    words = []
    for token in line.split(' '):
        parts = token.split('=')
        for i, part in enumerate(parts):
            if i > 0:
                words.append('=')
            if part or i == len(parts) - 1:
                words.append(part)
    return [w for i, w in enumerate(words) if w or i == len(words) - 1]


def complete(line, env=None):
    words = readline_words(line)
    script = '\n'.join([
        'source %s' % shlex.quote(BASH_COMPLETION),
        'source %s' % shlex.quote(COMPLETION),
        'COMP_WORDS=(%s)' % ' '.join(shlex.quote(w) for w in words),
        'COMP_CWORD=%d' % (len(words) - 1),
        'COMP_LINE=%s' % shlex.quote(line),
        'COMP_POINT=%d' % len(line),
        'COMP_TYPE=9',
        '_vigilctl vigilctl %s %s' % (shlex.quote(words[-1]),
                                      shlex.quote(words[-2] if len(words) > 1 else '')),
        'printf "%s\\n" "${COMPREPLY[@]}"',
    ])
    env = dict(env or os.environ)
    env['PATH'] = os.path.dirname(os.path.abspath(VIGILCTL)) + ':' + env.get('PATH', '')
    res = subprocess.run(['bash', '--norc', '--noprofile', '-c', script], env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stderr == '', res.stderr
    return sorted(w for w in res.stdout.split('\n') if w)


def check_installed():
    assert os.path.isfile(BASH_COMPLETION), 'bash-completion is not installed'


class Completion(completion_cases.shared_case(complete, check_installed)):
    def test_everything_vigilctl_help_lists(self):
        completion_cases.assert_help_is_completed(self, complete, lambda words: {w.rstrip('=') for w in words})

    def test_options(self):
        self.assertIn('--json', complete('vigilctl --j'))
        self.assertIn('--version', complete('vigilctl --'))
        got = complete('vigilctl log --')
        for o in ('--program=', '--verdict=', '--uid=', '--since=', '--limit=', '--json'):
            self.assertIn(o, got)
        self.assertIn('--lines=', complete('vigilctl monitor --'))
        self.assertIn('--mine', complete('vigilctl rules add --'))
        self.assertNotIn('--mine', complete('vigilctl rules list --'))

    def test_option_values(self):
        self.assertEqual(complete('vigilctl log -v d'), ['deny', 'drop'])
        self.assertEqual(complete('vigilctl monitor --verdict=a'), ['allow'])
        self.assertEqual(complete('vigilctl top --sort=de'), ['denied', 'destinations'])
        self.assertEqual(complete('vigilctl config fail-mode=c'), ['closed'])
        self.assertEqual(complete('vigilctl config default-action=d'), ['deny'])
        self.assertIn('prompt-timeout=', complete('vigilctl config '))

    def test_program_paths(self):
        self.assertIn(self.prog, complete('vigilctl log -p ' + self.prog[:-3]))
        self.assertIn(self.prog, complete('vigilctl log --program=' + self.prog[:-3]))
        self.assertIn(self.prog, complete('vigilctl rules add deny app ' + self.prog[:-3]))



RuleIds = completion_cases.rule_ids_case(complete)
if RuleIds is None:
    del RuleIds


if __name__ == '__main__':
    unittest.main(verbosity=2)
