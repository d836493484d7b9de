#!/usr/bin/python3
"""with-display.py: runs a command with a private Xvfb display, for GTK unit tests.

    with-display.py PROGRAM [ARGS...]

The program's stdout and stderr are passed through (TAP works) and its exit status returned.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guitest import GuiError, start_xvfb  # noqa: E402


def main():
    xvfb, display, log = start_xvfb()
    try:
        env = dict(os.environ, DISPLAY=display, GDK_BACKEND='x11', GTK_THEME='Adwaita',
                   GSETTINGS_BACKEND='memory', NO_AT_BRIDGE='1')
        return subprocess.run(sys.argv[1:], env=env).returncode
    finally:
        xvfb.terminate()
        xvfb.wait(10)
        log.close()


if __name__ == '__main__':
    try:
        sys.exit(main())
    except GuiError as e:
        sys.exit('with-display.py: %s' % e)
