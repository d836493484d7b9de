#!/usr/bin/python3
"""The Network Monitor's history views against the real vigild and its history on disk: two
programs (curl and python3) download from a peer as the tray's user; the Traffic chart states
the bytes vigild counted, for all programs and for one, over the range chosen; the Programs
table sorts by bytes; a program's page lists its destinations; Export writes the CSV that
`vigilctl export` writes; the chart reads in a light and a dark theme.
"""
import csv
import io
import json
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from guitest import wait_until  # noqa: E402
from test_prompt import MAIN, NOBODY, SCREENSHOTS, VIGILCTL, TrayTestCase  # noqa: E402
from vigiltest import PEER_V4  # noqa: E402

CURL = os.path.realpath('/usr/bin/curl')
PYTHON = os.path.realpath('/usr/bin/python3')
CHART = 'Traffic over time'
EXPORT = 'Export Connections'
# a peer that answers one HTTP request with SIZE bytes
SERVE = ("import socket, sys\n"
         "s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
         "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
         "s.bind(('0.0.0.0', int(sys.argv[1])))\n"
         "s.listen(1)\n"
         "print('ready', flush=True)\n"
         "c, _ = s.accept()\n"
         "c.recv(4096)\n"
         "size = int(sys.argv[2])\n"
         "c.sendall(b'HTTP/1.0 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n' % size)\n"
         "c.sendall(b'v' * size)\n"
         "c.close()\n")
FETCH = ("import sys, urllib.request\n"
         "print(len(urllib.request.urlopen(sys.argv[1], timeout=20).read()))\n")
AS_NOBODY = ['setpriv', '--reuid=%d' % NOBODY, '--regid=%d' % NOBODY, '--clear-groups', '--']


def human(n):
    """A byte count as GLib's g_format_size_full(IEC units) writes it, which the tray uses."""
    if n < 1024:
        return '%d byte%s' % (n, '' if n == 1 else 's')
    for unit in ('KiB', 'MiB', 'GiB', 'TiB', 'PiB'):
        n /= 1024.0
        if n < 1024 or unit == 'PiB':
            return '%.1f\u00a0%s' % (n, unit)  # a no-break space, as GLib writes it


class TrafficTestCase(TrayTestCase):
    """vigild with the history on, rules that let curl and python3 through, and the tray."""

    start_tray_at_once = False

    def start_vigild(self, rules='', config=None, learned=''):
        d = super().start_vigild(rules='allow app %s\nallow app %s\n' % (CURL, PYTHON),
                                 config=config, learned=learned)
        d.wait_for_log('conntrack accounting')
        return d

    def vigilctl_json(self, *args):
        out = subprocess.run(AS_NOBODY + [VIGILCTL, '--json'] + list(args), env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def download(self, argv, port, size):
        """@argv fetches @size bytes from the peer at @port, as the tray's user."""
        server = self.nets.spawn(self.nets.peer, ['/usr/bin/python3', '-c', SERVE, str(port),
                                                  str(size)], stdout=subprocess.PIPE, text=True)
        self.assertEqual(server.stdout.readline().strip(), 'ready')
        url = 'http://%s:%d/' % (PEER_V4, port)
        res = self.nets.client_run(AS_NOBODY + argv + [url], timeout=60)
        self.assertEqual(res.stdout.strip(), str(size), res.stderr)

    def top(self):
        """What vigild counted per program over the last hour (GetProgramHistory), by path."""
        return {p['program']: p for p in self.vigilctl_json('top', '--since', '1h')}

    def chart(self):
        win = self.ui.window(MAIN)
        return win['charts'].get(CHART) if win else None

    def wait_chart_says(self, text, timeout=30):
        try:
            return wait_until(lambda: [c for c in [self.chart()] if c and c['description'] == text],
                              timeout, 'the chart to say %r' % text)[0]
        except Exception as e:
            raise AssertionError('%s; it says %r' % (e, self.chart())) from None


class TrafficCharts(TrafficTestCase):
    def test_chart_programs_destinations_and_export_show_the_history(self):
        self.download(['curl', '-s', '-o', '/dev/null', '-w', '%{size_download}',
                       '--max-time', '20'], 8097, 1 << 20)
        self.download(['/usr/bin/python3', '-c', FETCH], 8098, 256 << 10)
        # conntrack tells the counters at the flow's end; vigild writes them to the history
        top = wait_until(lambda: [t for t in [self.top()]
                                  if t.get(CURL, {}).get('bytes-in', 0) >= 1 << 20
                                  and t.get(PYTHON, {}).get('bytes-in', 0) >= 256 << 10],
                         90, 'the bytes of both downloads in the history')[0]
        total_in = sum(p.get('bytes-in', 0) for p in top.values())
        total_out = sum(p.get('bytes-out', 0) for p in top.values())
        curl = top[CURL]

        self.start_tray()
        self.open_page('Network Monitor')
        self.ui.tab(MAIN, 'Traffic')
        # the chart states what it plots: all programs' bytes over the last hour
        self.wait_chart_says('All programs: %s received, %s sent in the last hour'
                             % (human(total_in), human(total_out)))
        win = self.ui.window(MAIN)
        self.assertEqual(win['combos']['Range:']['items'], ['Last hour', 'Last day', 'Last week'])
        self.assertEqual(set(win['combos']['Show:']['items']), {'All programs', 'curl',
                                                                os.path.basename(PYTHON)})
        # one program, then another range
        self.ui.select(MAIN, 'Show:', 'curl')
        self.wait_chart_says('curl: %s received, %s sent in the last hour'
                             % (human(curl['bytes-in']), human(curl['bytes-out'])))
        self.assertTrue(human(curl['bytes-in']).endswith('\u00a0MiB'), curl)
        self.session.screenshot(os.path.join(SCREENSHOTS, 'monitor-traffic.png'),
                                self.ui.window(MAIN)['extents'])
        self.assertChartDrawn(dark=False)
        self.ui.select(MAIN, 'Range:', 'Last day')
        self.wait_chart_says('curl: %s received, %s sent in the last day'
                             % (human(curl['bytes-in']), human(curl['bytes-out'])))

        # Programs: bytes per program, sorted by the column clicked (twice: the most first)
        self.ui.tab(MAIN, 'Programs')
        rows = wait_until(lambda: [t for t in [self.ui.window(MAIN)['tables']]
                                   if t and len(t[0]) == 2 and len(t[0][0]) == 8], 20,
                          'the programs of the range')[0][0]
        by_program = {r[0]: r for r in rows}
        self.assertEqual(by_program[CURL][1], str(curl['connections']))
        self.assertEqual(by_program[CURL][5:7], [human(curl['bytes-in']),
                                                 human(curl['bytes-out'])])
        self.assertEqual(by_program[PYTHON][5], human(top[PYTHON]['bytes-in']))
        self.ui.sort(MAIN, 'Received')
        wait_until(lambda: self.ui.window(MAIN)['tables'][0][0][0] == PYTHON, 10,
                   'the fewest bytes first')
        self.ui.sort(MAIN, 'Received')
        wait_until(lambda: self.ui.window(MAIN)['tables'][0][0][0] == CURL, 10,
                   'the most bytes first: curl')

        # a program's page: its destinations, with counts, bytes and verdicts
        self.ui.activate_row(MAIN, CURL)
        page = self.ui.wait_for_window('Destinations of curl')
        dests = wait_until(lambda: [t for t in self.ui.window('Destinations of curl')['tables']
                                    if t], 20, 'the destinations')[0]
        self.assertEqual([d[:6] for d in dests],
                         [[PEER_V4, '1', '1', '0', human(curl['bytes-in']),
                           human(curl['bytes-out'])]])
        self.assertIn('%s, in the last day' % CURL, page['labels'])

        # Export: the range's connections as `vigilctl export` writes them
        path = os.path.join(self.session.home, 'connections.csv')
        self.ui.click(MAIN, 'Export…')
        self.ui.wait_for_window(EXPORT)
        self.ui.fill(EXPORT, 'Name:', path)
        self.ui.click(EXPORT, 'Export')
        self.ui.wait_gone(EXPORT)
        try:
            wait_until(lambda: any('connections exported' in t
                                   for t in self.ui.window(MAIN)['labels']), 30,
                       'the export to end')
        except Exception as e:
            raise AssertionError('%s; the window says %r' % (e, self.ui.window(MAIN)['labels']))
        with open(path, newline='') as f:
            exported = f.read()
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600, 'the history is the user\'s')
        out = subprocess.run(AS_NOBODY + [VIGILCTL, 'export', '--since', '1d'], env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(exported, out.stdout.decode())
        rows = list(csv.DictReader(io.StringIO(exported, newline='')))
        self.assertEqual(sorted(r['program'] for r in rows), sorted([CURL, PYTHON]))
        self.assertIn('%d connections exported' % len(rows), self.ui.window(MAIN)['labels'])

    def test_the_chart_reads_in_a_dark_theme(self):
        self.download(['curl', '-s', '-o', '/dev/null', '-w', '%{size_download}',
                       '--max-time', '20'], 8097, 512 << 10)
        top = wait_until(lambda: [t for t in [self.top()]
                                  if t.get(CURL, {}).get('bytes-in', 0) >= 512 << 10],
                         90, 'the bytes of the download in the history')[0]
        self.session.start_tray(self.bus.address, args=['--page=monitor'],
                                extra_env={'GTK_THEME': 'Adwaita:dark'})
        self.ui = self.session.ui('vigil-tray')
        self.wait_page('Network Monitor')
        self.ui.tab(MAIN, 'Traffic')
        self.wait_chart_says('All programs: %s received, %s sent in the last hour'
                             % (human(top[CURL]['bytes-in']), human(top[CURL]['bytes-out'])))
        self.session.screenshot(os.path.join(SCREENSHOTS, 'monitor-traffic-dark.png'),
                                self.ui.window(MAIN)['extents'])
        self.assertChartDrawn(dark=True)

    def assertChartDrawn(self, dark):
        """The chart's pixels: the theme's background (light or dark), text and grid in the
        theme's foreground, and bars in colour."""
        extents = self.chart()['extents']
        # the chart draws once it is shown: give it a moment under load
        deadline = time.monotonic() + 10
        while True:
            pixels = self.session.pixels(extents)
            colourful = [p for p in pixels if max(p) - min(p) > 80]
            if len(colourful) > 50 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        luma = sorted(0.299 * r + 0.587 * g + 0.114 * b for r, g, b in pixels)
        background = luma[len(luma) // 2]  # most of a chart is background
        if dark:
            self.assertLess(background, 100, 'a dark background')
            self.assertGreater(luma[-1], background + 100, 'light text on it')
        else:
            self.assertGreater(background, 180, 'a light background')
            self.assertLess(luma[0], background - 100, 'dark text on it')
        self.assertGreater(len(colourful), 50, 'bars in colour')


if __name__ == '__main__':
    unittest.main(verbosity=2)
