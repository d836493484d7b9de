#!/usr/bin/python3
"""The symbolic icons (the tray's state icons and org.vigil.Tray-symbolic) as a desktop shows
them: GTK recolours the fills of a symbolic icon to the panel's colour but leaves strokes as
drawn, so an icon drawn with strokes stays dark on a dark panel. Every shape has a fill and no
stroke; installed where `meson install` puts them, the icon theme finds each one as a symbolic
icon, and rendered as a panel renders it, light on dark and dark on light, most of it shows
in the panel's colour.

    test_icons.py BUILD_DIR   (run under with-display.py)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

import gi

gi.require_version('Gtk', '3.0')
gi.require_version('Gdk', '3.0')
from gi.repository import Gdk, Gtk  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(SOURCE_ROOT, 'build')
ICONS = os.path.join(SOURCE_ROOT, 'data', 'icons', 'hicolor')
SYMBOLIC = os.path.join(ICONS, 'symbolic', 'apps')
NAMES = ['org.vigil.Tray-filtering-symbolic', 'org.vigil.Tray-paused-symbolic',
         'org.vigil.Tray-prompt-symbolic', 'org.vigil.Tray-offline-symbolic',
         'org.vigil.Tray-symbolic']
SHAPES = {'path', 'rect', 'circle', 'ellipse', 'line', 'polyline', 'polygon'}
SVG = '{http://www.w3.org/2000/svg}'


def paint(element, name):
    """The element's @name (fill or stroke) from its attribute or its style, or None."""
    for decl in element.get('style', '').split(';'):
        key, _, value = decl.partition(':')
        if key.strip() == name:
            return value.strip()
    return element.get(name)


class SymbolicIcons(unittest.TestCase):
    def test_every_shape_is_filled_not_stroked(self):
        files = sorted(f for f in os.listdir(SYMBOLIC) if f.endswith('.svg'))
        self.assertEqual(sorted(f[:-4] for f in files), sorted(NAMES))
        for f in files:
            root = ET.parse(os.path.join(SYMBOLIC, f)).getroot()
            shapes = [e for e in root.iter() if e.tag[len(SVG):] in SHAPES]
            self.assertTrue(shapes, f)
            for e in shapes:
                what = '%s: <%s %s>' % (f, e.tag[len(SVG):], e.get('d', '')[:30])
                self.assertNotIn(paint(e, 'fill'), ('none', 'transparent'),
                                 '%s is not filled' % what)
                self.assertIn(paint(e, 'stroke'), (None, 'none'), '%s has a stroke' % what)

    def test_the_installed_icons_are_found_and_show_on_light_and_dark_panels(self):
        # where `meson install` puts data/icons/hicolor
        installed = json.loads(subprocess.run(
            ['meson', 'introspect', '--installed', BUILD], check=True, stdout=subprocess.PIPE,
            text=True).stdout)
        target = installed.get(ICONS)
        self.assertTrue(target, 'data/icons/hicolor is not installed')
        self.assertEqual(os.path.basename(target), 'hicolor')
        with tempfile.TemporaryDirectory() as destdir:
            theme_dir = destdir + target
            shutil.copytree(ICONS, theme_dir)
            # hicolor's index.theme comes from the hicolor-icon-theme package
            shutil.copy('/usr/share/icons/hicolor/index.theme', theme_dir)
            theme = Gtk.IconTheme.new()
            theme.set_search_path([os.path.dirname(theme_dir)])
            for name in NAMES:
                info = theme.lookup_icon(name, 16, 0)
                self.assertIsNotNone(info, '%s is not found' % name)
                self.assertEqual(info.get_filename(),
                                 os.path.join(theme_dir, 'symbolic', 'apps', name + '.svg'))
                self.assertTrue(info.is_symbolic(), name)
                for panel, fg in (('dark', Gdk.RGBA(1, 1, 1, 1)),
                                  ('light', Gdk.RGBA(0, 0, 0, 1))):
                    self.assertShowsIn(theme, name, fg, panel)

    def assertShowsIn(self, theme, name, fg, panel):
        """Rendered with @fg (a panel's text colour), the drawn pixels are in that colour:
        none stay dark on a dark panel."""
        info = theme.lookup_icon(name, 64, Gtk.IconLookupFlags.FORCE_SIZE)
        pixbuf, _ = info.load_symbolic(fg, None, None, None)
        data = pixbuf.get_pixels()
        n, stride = pixbuf.get_n_channels(), pixbuf.get_rowstride()
        self.assertEqual(n, 4)
        drawn = off = 0
        target = (round(fg.red * 255), round(fg.green * 255), round(fg.blue * 255))
        for y in range(pixbuf.get_height()):
            for x in range(pixbuf.get_width()):
                r, g, b, a = data[y * stride + x * 4:y * stride + x * 4 + 4]
                if a < 128:
                    continue
                drawn += 1
                if max(abs(r - target[0]), abs(g - target[1]), abs(b - target[2])) > 64:
                    off += 1
        self.assertGreater(drawn, 64 * 64 // 20, '%s draws almost nothing' % name)
        self.assertLess(off, drawn // 20, '%s on a %s panel: %d of %d pixels not in the '
                        'panel\'s colour' % (name, panel, off, drawn))


if __name__ == '__main__':
    unittest.main(verbosity=2)
