"""guitest.py: a desktop session for GUI tests: Xvfb, a session bus, AT-SPI, a tray host.

    with GuiSession() as s:                  # Xvfb + a private session bus
        s.start_watcher()                    # a StatusNotifierWatcher (tests/gui/sni-watcher.py)
        s.start_tray(system_bus_address)     # the real vigil-tray, as the session's user
        item = s.wait_for_item()             # its StatusNotifierItem
        menu = s.menu(item)                  # com.canonical.dbusmenu layout, read over D-Bus
        win = s.wait_for_window('Vigil: Connection Request')   # through AT-SPI
        s.screenshot('prompt.png')

When the tests run as root, the session (the session bus, vigil-tray, and everything the bus
activates, like the AT-SPI bus) runs as the user nobody, as on a desktop where a user's tray
talks to the root daemon; Xvfb and the test itself stay root and reach the session because
its bus config lets root in (the AT-SPI bus's own config does too).
"""
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

import gi

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get('VIGIL_BUILD_DIR', os.path.join(SOURCE_ROOT, 'build'))
VIGIL_TRAY = os.environ.get('VIGIL_TRAY', os.path.join(BUILD, 'gui', 'vigil-tray'))
PYTHON = '/usr/bin/python3'
NOBODY = 65534
SESSION_CONF = '/usr/share/dbus-1/session.conf'

SNI_INTERFACE = 'org.kde.StatusNotifierItem'
DBUSMENU_INTERFACE = 'com.canonical.dbusmenu'


class GuiError(Exception):
    pass


def _die_with_parent():
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _exit_on_sigterm():
    if (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL):
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def _stop(proc, timeout=5.0):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_until(predicate, timeout=10.0, what='condition', interval=0.05):
    """Calls @predicate until it returns something true, and returns that."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except GLib.Error as e:
            last_error = e
        time.sleep(interval)
    raise GuiError('timed out after %.0f s waiting for %s%s' % (
        timeout, what, ' (last error: %s)' % last_error if last_error else ''))


def session_bus_config(socket_path, extra_uid):
    """Debian's session.conf, listening at @socket_path, also letting @extra_uid connect."""
    root = ET.parse(SESSION_CONF).getroot()
    for child in list(root):
        # the machine's local additions have no place in a test
        if child.tag in ('include', 'includedir'):
            root.remove(child)
    listens = root.findall('listen')
    listens[0].text = 'unix:path=' + socket_path
    for extra in listens[1:]:
        root.remove(extra)
    if extra_uid is not None:
        policy = ET.SubElement(root, 'policy', context='default')
        ET.SubElement(policy, 'allow', user=str(extra_uid))
    return ('<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"\n'
            ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n'
            + ET.tostring(root, encoding='unicode') + '\n')


class GuiSession:
    def __init__(self, uid=None):
        if uid is None:
            uid = NOBODY if os.geteuid() == 0 else os.geteuid()
        self.uid = uid
        self.procs = []
        self.tmpdir = None
        self.display = None
        self.bus_address = None
        self._bus = None
        self._logs = []
        self.tray = None
        self.tray_log_path = None
        self.watcher = None

    # -- setup -----------------------------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _user_argv(self):
        if self.uid == os.geteuid():
            return []
        return ['setpriv', '--reuid=%d' % self.uid, '--regid=%d' % self.uid, '--clear-groups',
                '--']

    def _mkdir(self, name, mode=0o700):
        path = os.path.join(self.tmpdir, name)
        os.mkdir(path, mode)
        if os.geteuid() == 0:
            os.chown(path, self.uid, self.uid)
        return path

    def _log(self, name):
        f = open(os.path.join(self.tmpdir, name), 'wb')
        self._logs.append(f)
        return f

    def read_log(self, name):
        with open(os.path.join(self.tmpdir, name), encoding='utf-8', errors='replace') as f:
            return f.read()

    def start(self):
        _exit_on_sigterm()
        self.tmpdir = tempfile.mkdtemp(prefix='vigil-gui-')
        os.chmod(self.tmpdir, 0o755)
        self.home = self._mkdir('home')
        self.runtime = self._mkdir('runtime')
        self.bus_dir = self._mkdir('bus', 0o755)
        self._start_xvfb()
        self._start_session_bus()
        # the test's own AT-SPI and D-Bus clients find the session through these
        os.environ['DISPLAY'] = self.display
        os.environ['DBUS_SESSION_BUS_ADDRESS'] = self.bus_address
        os.environ.pop('NO_AT_BRIDGE', None)
        os.environ.pop('AT_SPI_BUS_ADDRESS', None)

    def _start_xvfb(self):
        if shutil.which('Xvfb') is None:
            raise GuiError('Xvfb is not installed (package xvfb)')
        r, w = os.pipe()
        proc = subprocess.Popen(['Xvfb', '-displayfd', str(w), '-screen', '0', '1024x768x24',
                                 '-nolisten', 'tcp', '-noreset'],
                                pass_fds=[w], stdout=self._log('xvfb.log'),
                                stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        os.close(w)
        self.procs.append(proc)
        with os.fdopen(r) as f:
            number = f.readline().strip()
        if not number.isdigit():
            raise GuiError('Xvfb did not start: %s' % self.read_log('xvfb.log'))
        self.display = ':' + number

    def _start_session_bus(self):
        socket_path = os.path.join(self.bus_dir, 'session_bus_socket')
        config = os.path.join(self.tmpdir, 'session.conf')
        with open(config, 'w', encoding='utf-8') as f:
            f.write(session_bus_config(socket_path,
                                       os.geteuid() if self.uid != os.geteuid() else None))
        proc = subprocess.Popen(
            self._user_argv() + ['dbus-daemon', '--config-file=' + config, '--nofork',
                                 '--nopidfile', '--print-address=1'],
            stdout=subprocess.PIPE, stderr=self._log('session-bus.log'),
            env=self.session_env(), preexec_fn=_die_with_parent)
        self.procs.append(proc)
        line = proc.stdout.readline().decode().strip()
        if not line.startswith('unix:'):
            raise GuiError('the session bus did not start: %s' % self.read_log('session-bus.log'))
        self.bus_address = line

    def session_env(self, extra=None):
        """The environment of a program in the session."""
        env = {
            'PATH': '/usr/local/bin:/usr/bin:/bin',
            'HOME': self.home,
            'XDG_RUNTIME_DIR': self.runtime,
            'XDG_CONFIG_HOME': os.path.join(self.home, '.config'),
            'XDG_CACHE_HOME': os.path.join(self.home, '.cache'),
            'XDG_DATA_HOME': os.path.join(self.home, '.local', 'share'),
            # the source tree's icons and .desktop files before the machine's
            'XDG_DATA_DIRS': os.path.join(SOURCE_ROOT, 'data') + ':/usr/local/share:/usr/share',
            'LANG': 'C.UTF-8',
            'GDK_BACKEND': 'x11',
            'GTK_THEME': 'Adwaita',
            'GSETTINGS_BACKEND': 'memory',
            'NO_AT_BRIDGE': '0',
        }
        if self.display:
            env['DISPLAY'] = self.display
        if self.bus_address:
            env['DBUS_SESSION_BUS_ADDRESS'] = self.bus_address
        for key in ('ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS', 'G_MESSAGES_DEBUG',
                    'LANGUAGE'):
            if key in os.environ:
                env[key] = os.environ[key]
        env.update(extra or {})
        del env['NO_AT_BRIDGE']
        return env

    def bus(self):
        """The test's connection to the session bus."""
        if self._bus is None:
            self._bus = Gio.DBusConnection.new_for_address_sync(
                self.bus_address,
                Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
                | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        return self._bus

    def start_watcher(self):
        """A StatusNotifierWatcher, so that vigil-tray exports a StatusNotifierItem."""
        self.watcher = subprocess.Popen([PYTHON, os.path.join(HERE, 'sni-watcher.py')],
                                        stdout=subprocess.PIPE, stderr=self._log('watcher.log'),
                                        env=self.session_env(), text=True,
                                        preexec_fn=_die_with_parent)
        self.procs.append(self.watcher)
        if self.watcher.stdout.readline().strip() != 'ready':
            raise GuiError('the StatusNotifierWatcher did not start: %s'
                           % self.read_log('watcher.log'))

    def start_tray(self, system_bus_address='unix:path=/nonexistent', extra_env=None):
        """Starts the real vigil-tray in the session as its user; its log: tray_log()."""
        if not os.access(VIGIL_TRAY, os.X_OK):
            raise GuiError('%s is not built' % VIGIL_TRAY)
        env = self.session_env({'DBUS_SYSTEM_BUS_ADDRESS': system_bus_address,
                                'G_MESSAGES_DEBUG': 'vigil-tray',
                                # GTK's own leaks are not ours to fix
                                'ASAN_OPTIONS': 'detect_leaks=0'})
        env.update(extra_env or {})
        self.tray_log_path = os.path.join(self.tmpdir, 'vigil-tray.log')
        self.tray = subprocess.Popen(self._user_argv() + [VIGIL_TRAY], env=env,
                                     stdout=self._log('vigil-tray.log'),
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        self.procs.append(self.tray)
        return self.tray

    def tray_log(self):
        return self.read_log('vigil-tray.log') if self.tray_log_path else ''

    def stop(self):
        if self._bus is not None:
            try:
                self._bus.close_sync(None)
            except GLib.Error:
                pass
            self._bus = None
        for proc in reversed(self.procs):
            _stop(proc)
            if proc.stdout is not None:
                proc.stdout.close()
        self.procs = []
        for f in self._logs:
            f.close()
        self._logs = []
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    # -- the tray icon over D-Bus ------------------------------------------------------------

    def items(self):
        reply = self.bus().call_sync('org.kde.StatusNotifierWatcher', '/StatusNotifierWatcher',
                                     'org.freedesktop.DBus.Properties', 'Get',
                                     GLib.Variant('(ss)', ('org.kde.StatusNotifierWatcher',
                                                           'RegisteredStatusNotifierItems')),
                                     None, Gio.DBusCallFlags.NONE, 5000, None)
        return reply.unpack()[0]

    def wait_for_item(self, timeout=20):
        """The tray's item as (bus name, object path)."""
        item = wait_until(lambda: self.items(), timeout, 'a StatusNotifierItem')[0]
        name, path = item.split('/', 1)
        return name, '/' + path

    def item_property(self, item, prop):
        reply = self.bus().call_sync(item[0], item[1], 'org.freedesktop.DBus.Properties', 'Get',
                                     GLib.Variant('(ss)', (SNI_INTERFACE, prop)), None,
                                     Gio.DBusCallFlags.NONE, 5000, None)
        return reply.unpack()[0]

    def menu(self, item):
        """The item's menu as a list of dicts (id, label, enabled, visible, type), top level."""
        path = self.item_property(item, 'Menu')
        reply = self.bus().call_sync(item[0], path, DBUSMENU_INTERFACE, 'GetLayout',
                                     GLib.Variant('(iias)', (0, -1, [])), None,
                                     Gio.DBusCallFlags.NONE, 5000, None)
        _revision, (_id, _props, children) = reply.unpack()
        entries = []
        for child_id, props, _sub in children:
            entry = {'id': child_id, 'label': props.get('label', ''),
                     'enabled': props.get('enabled', True),
                     'visible': props.get('visible', True),
                     'type': props.get('type', 'standard')}
            entries.append(entry)
        return entries

    def menu_entry(self, item, label_prefix):
        for entry in self.menu(item):
            if entry['label'].replace('_', '').startswith(label_prefix):
                return entry
        return None

    def click_menu(self, item, entry_id):
        path = self.item_property(item, 'Menu')
        self.bus().call_sync(item[0], path, DBUSMENU_INTERFACE, 'Event',
                             GLib.Variant('(isvu)', (entry_id, 'clicked', GLib.Variant('i', 0),
                                                     int(time.time()))),
                             None, Gio.DBusCallFlags.NONE, 5000, None)

    # -- windows through AT-SPI ---------------------------------------------------------------

    def screenshot(self, path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        subprocess.run(['import', '-display', self.display, '-window', 'root', path],
                       check=True, timeout=30, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)


# -- AT-SPI ------------------------------------------------------------------------------------

def _atspi():
    # imported late: it reads DISPLAY and the session bus address when first used
    gi.require_version('Atspi', '2.0')
    from gi.repository import Atspi
    return Atspi


def walk(acc):
    """@acc and everything under it, depth first."""
    yield acc
    for i in range(acc.get_child_count()):
        child = acc.get_child_at_index(i)
        if child is not None:
            yield from walk(child)


def find_app(name):
    desktop = _atspi().get_desktop(0)
    for i in range(desktop.get_child_count()):
        app = desktop.get_child_at_index(i)
        if app is not None and app.get_name() == name:
            return app
    return None


def is_showing(acc):
    return acc.get_state_set().contains(_atspi().StateType.SHOWING)


def is_sensitive(acc):
    return acc.get_state_set().contains(_atspi().StateType.SENSITIVE)


def find_window(app_name, title):
    """The showing top-level window of @app_name titled @title, or None."""
    app = find_app(app_name)
    if app is None:
        return None
    for i in range(app.get_child_count()):
        win = app.get_child_at_index(i)
        if win is not None and win.get_name() == title and is_showing(win):
            return win
    return None


def wait_for_window(app_name, title, timeout=20):
    return wait_until(lambda: find_window(app_name, title), timeout,
                      'window %r of %s' % (title, app_name))


def wait_for_window_gone(app_name, title, timeout=20):
    wait_until(lambda: find_window(app_name, title) is None, timeout,
               'window %r of %s to close' % (title, app_name))


def find_all(acc, role):
    Atspi = _atspi()
    role = getattr(Atspi.Role, role)
    return [a for a in walk(acc) if a.get_role() == role]


def label_texts(win, showing_only=True):
    return [a.get_name() for a in find_all(win, 'LABEL') if not showing_only or is_showing(a)]


def find_by_name(win, role, name):
    for acc in find_all(win, role):
        if acc.get_name() == name:
            return acc
    return None


def click(acc):
    """Runs the widget's first action (a button's "click")."""
    action = acc.get_action_iface()
    if action is None or not action.do_action(0):
        raise GuiError('cannot click %s' % acc.get_name())


def combo_items(combo):
    menus = [c for c in (combo.get_child_at_index(i) for i in range(combo.get_child_count()))
             if c is not None]
    if not menus:
        return []
    menu = menus[0]
    return [menu.get_child_at_index(i).get_name() for i in range(menu.get_child_count())]


def select_combo(combo, item_name):
    """Makes @item_name the combo box's active item."""
    items = combo_items(combo)
    if item_name not in items:
        raise GuiError('%r is not one of %r' % (item_name, items))
    selection = combo.get_selection_iface()
    if selection is None or not selection.select_child(items.index(item_name)):
        raise GuiError('cannot select %r' % item_name)
    wait_until(lambda: combo.get_name() == item_name, 5, 'combo box to show %r' % item_name)
