#!/usr/bin/python3
"""Every module declares its API in its own header: each function a .c file defines for
other files (not static) is declared in the .h of the same name beside it. Prints the
functions declared elsewhere (or nowhere) and fails.

vigilctl/ is left out: its command files declare into vigilctl.h, the one internal header
of a program that exports nothing.

    check-own-headers.py [SOURCE_ROOT]
"""
import os
import re
import sys

DIRS = ['common', 'daemon', 'libvigil-client', 'gui']
# a function definition's name at the start of a line, its return type on the line before
DEFINITION = re.compile(r'^([a-z_][a-z0-9_]*)\(', re.M)


def exported_functions(source):
    """the names of the non-static functions @source defines"""
    lines = source.split('\n')
    names = []
    for i, line in enumerate(lines[1:], start=1):
        match = DEFINITION.match(line)
        previous = lines[i - 1]
        if not match or match.group(1) == 'main':
            continue
        # a return type alone on the line before: "char *", "gboolean", not "static ..."
        if not re.match(r'^[A-Za-z_][A-Za-z0-9_ *]*$', previous) or \
                previous.startswith('static') or previous.startswith('G_'):
            continue
        names.append(match.group(1))
    return names


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(here)
    missing = []
    checked = 0
    for d in DIRS:
        folder = os.path.join(root, d)
        for name in sorted(os.listdir(folder)):
            if not name.endswith('.c'):
                continue
            with open(os.path.join(folder, name), encoding='utf-8') as f:
                names = exported_functions(f.read())
            if not names:
                continue
            header_path = os.path.join(folder, name[:-2] + '.h')
            header = ''
            if os.path.exists(header_path):
                with open(header_path, encoding='utf-8') as f:
                    header = f.read()
            for fn in names:
                checked += 1
                if not re.search(r'\b%s\s*\(' % re.escape(fn), header):
                    missing.append('%s/%s: %s is not declared in %s' %
                                   (d, name, fn, os.path.basename(header_path)))
    if checked == 0:
        print('no functions found under %s' % root)
        return 1
    if missing:
        print('\n'.join(missing))
        return 1
    print('%d functions, each declared in its own module\'s header' % checked)
    return 0


if __name__ == '__main__':
    sys.exit(main())
