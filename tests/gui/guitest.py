"""guitest.py: a desktop session for GUI tests: Xvfb (or a Wayland compositor, weston
headless: GuiSession(wayland=True)), a session bus, AT-SPI, a tray host.

    with GuiSession() as s:                  # Xvfb + a private session bus
        s.start_watcher()                    # a StatusNotifierWatcher (tests/gui/sni-watcher.py)
        s.start_tray(system_bus_address)     # the real vigil-tray, as the session's user
        item = s.wait_for_item()             # its StatusNotifierItem
        menu = s.menu(item)                  # com.canonical.dbusmenu layout, read over D-Bus
        ui = s.ui('vigil-tray')              # its windows through AT-SPI
        win = ui.wait_for_window('Vigil: Connection Request')
        s.screenshot('prompt.png')

When the tests run as root, the session (the session bus, vigil-tray, and everything the bus
activates, like the AT-SPI bus) runs as the user nobody, as on a desktop where a user's tray
talks to the root daemon; Xvfb and the test itself stay root and reach the session because
its bus config lets root in (the AT-SPI bus's own config does too).
"""
import ctypes
import json
import os
import re
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
NOTIFICATIONS = 'org.freedesktop.Notifications'
NOTIFICATIONS_PATH = '/org/freedesktop/Notifications'
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
        except (GLib.Error, TypeError, KeyError) as e:
            # a window not (yet) there reads as None; a D-Bus call can fail while a
            # process starts
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


def start_xvfb(log_path=os.devnull):
    """Starts Xvfb on a free display (it picks one: -displayfd); returns (process, ":N", the
    opened log file)."""
    if shutil.which('Xvfb') is None:
        raise GuiError('Xvfb is not installed (package xvfb)')
    log = open(log_path, 'wb')
    r, w = os.pipe()
    proc = subprocess.Popen(['Xvfb', '-displayfd', str(w), '-screen', '0', '1280x1024x24',
                             '-nolisten', 'tcp', '-noreset'],
                            pass_fds=[w], stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=_die_with_parent)
    os.close(w)
    with os.fdopen(r) as f:
        number = f.readline().strip()
    if not number.isdigit():
        proc.kill()
        proc.wait()
        log.close()
        raise GuiError('Xvfb did not start (see %s)' % log_path)
    return proc, ':' + number, log


class GuiSession:
    def __init__(self, uid=None, wayland=False):
        if uid is None:
            uid = NOBODY if os.geteuid() == 0 else os.geteuid()
        self.uid = uid
        # a Wayland session (weston's headless backend) instead of Xvfb: no X11 display at all
        self.wayland = wayland
        self.wayland_display = None
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
        if self.wayland:
            self._start_weston()
        else:
            self._start_xvfb()
        self._start_session_bus()
        # the test's own AT-SPI and D-Bus clients find the session through these
        if self.display:
            os.environ['DISPLAY'] = self.display
        else:
            os.environ.pop('DISPLAY', None)
        os.environ['DBUS_SESSION_BUS_ADDRESS'] = self.bus_address
        os.environ.pop('NO_AT_BRIDGE', None)
        os.environ.pop('AT_SPI_BUS_ADDRESS', None)

    def _start_xvfb(self):
        proc, self.display, log = start_xvfb(os.path.join(self.tmpdir, 'xvfb.log'))
        self.procs.append(proc)
        self._logs.append(log)

    def _start_weston(self):
        """weston with its headless backend, as the session's user, its socket in the
        session's XDG_RUNTIME_DIR: a Wayland desktop without a screen (desktop-shell, as
        weston starts by default; pixman renders the windows in memory)."""
        if shutil.which('weston') is None:
            raise GuiError('weston is not installed (package weston)')
        self.wayland_display = 'wayland-vigil'
        proc = subprocess.Popen(
            self._user_argv() + ['weston', '--backend=headless-backend.so',
                                 '--socket=' + self.wayland_display, '--idle-time=0',
                                 '--use-pixman', '--width=1280', '--height=1024'],
            stdout=self._log('weston.log'), stderr=subprocess.STDOUT,
            env=self.session_env(), preexec_fn=_die_with_parent)
        self.procs.append(proc)
        socket_path = os.path.join(self.runtime, self.wayland_display)
        try:
            wait_until(lambda: os.path.exists(socket_path) or proc.poll() is not None, 30,
                       'weston to listen')
        except GuiError:
            pass
        if proc.poll() is not None or not os.path.exists(socket_path):
            raise GuiError('weston did not start: %s' % self.read_log('weston.log'))

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
            'GDK_BACKEND': 'wayland' if self.wayland else 'x11',
            'GTK_THEME': 'Adwaita',
            'GSETTINGS_BACKEND': 'memory',
            'NO_AT_BRIDGE': '0',
        }
        if self.display:
            env['DISPLAY'] = self.display
        if self.wayland_display:
            env['WAYLAND_DISPLAY'] = self.wayland_display
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

    def start_notification_daemon(self, capabilities='body actions'):
        """python3-dbusmock's notification daemon: it records Notify() calls (notifications())
        and can invoke an action (invoke_action()). Start it before the tray: libnotify would
        otherwise try to activate a real one."""
        proc = subprocess.Popen([PYTHON, '-m', 'dbusmock', '--session', '--template',
                                 'notification_daemon', '--parameters',
                                 json.dumps({'capabilities': capabilities})],
                                env=self.session_env(), stdout=self._log('notifyd.log'),
                                stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        self.procs.append(proc)
        wait_until(lambda: self._name_has_owner(NOTIFICATIONS), 15,
                   'the notification daemon (%s)' % self.read_log('notifyd.log'))

    def _name_has_owner(self, name):
        reply = self.bus().call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                     'org.freedesktop.DBus', 'NameHasOwner',
                                     GLib.Variant('(s)', (name,)), None,
                                     Gio.DBusCallFlags.NONE, 5000, None)
        return reply.unpack()[0]

    def notifications(self):
        """The Notify() calls the mock got, oldest first, each {id, summary, body, icon,
        actions: {name: label}, hints}; ids as the mock handed them out."""
        reply = self.bus().call_sync(NOTIFICATIONS, NOTIFICATIONS_PATH, 'org.freedesktop.DBus.Mock',
                                     'GetCalls', None, None, Gio.DBusCallFlags.NONE, 5000, None)
        out = []
        next_id = 1
        for _time, method, args in reply.unpack()[0]:
            if method != 'Notify':
                continue
            _app, replaces, icon, summary, body, actions, hints = args[:7]
            if replaces:
                nid = replaces
            else:
                nid, next_id = next_id, next_id + 1
            out.append({'id': nid, 'summary': summary, 'body': body, 'icon': icon,
                        'actions': dict(zip(actions[0::2], actions[1::2])),
                        'hints': hints})
        return out

    def wait_for_notification(self, summary, timeout=60):
        # the deadline only tells a hang: on a loaded machine (2 CPUs, several suites) the
        # tray's report can take longer than 15 s, and a pass never waits for it
        return wait_until(lambda: [n for n in self.notifications() if n['summary'] == summary],
                          timeout, 'notification %r (got %r)' % (
                              summary, [n['summary'] for n in self.notifications()]))[-1]

    def invoke_action(self, notification_id, action):
        """The user clicked @action of the notification: the server's ActionInvoked signal."""
        self.bus().call_sync(NOTIFICATIONS, NOTIFICATIONS_PATH, 'org.freedesktop.DBus.Mock',
                             'EmitSignal',
                             GLib.Variant('(sssav)', (NOTIFICATIONS, 'ActionInvoked', 'us',
                                                      [GLib.Variant('u', notification_id),
                                                       GLib.Variant('s', action)])),
                             None, Gio.DBusCallFlags.NONE, 5000, None)

    def start_tray(self, system_bus_address='unix:path=/nonexistent', extra_env=None,
                   args=('--background',)):
        """Starts the real vigil-tray in the session as its user, with @args: by default as
        the autostart entry starts it at login (no window at once); its log: tray_log()."""
        if not os.access(VIGIL_TRAY, os.X_OK):
            raise GuiError('%s is not built' % VIGIL_TRAY)
        env = self.session_env({'DBUS_SYSTEM_BUS_ADDRESS': system_bus_address,
                                'G_MESSAGES_DEBUG': 'vigil-tray',
                                # GTK's own leaks are not ours to fix
                                'ASAN_OPTIONS': 'detect_leaks=0'})
        env.update(extra_env or {})
        self.tray_log_path = os.path.join(self.tmpdir, 'vigil-tray.log')
        self.tray = subprocess.Popen(self._user_argv() + [VIGIL_TRAY] + list(args), env=env,
                                     stdout=self._log('vigil-tray.log'),
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        self.procs.append(self.tray)
        return self.tray

    def run_tray(self, args, system_bus_address='unix:path=/nonexistent'):
        """Runs another vigil-tray with @args to its end (it hands them to the running one)."""
        env = self.session_env({'DBUS_SYSTEM_BUS_ADDRESS': system_bus_address,
                                'ASAN_OPTIONS': 'detect_leaks=0'})
        return subprocess.run(self._user_argv() + [VIGIL_TRAY] + list(args), env=env,
                              timeout=60, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)

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
            for f in (proc.stdin, proc.stdout):
                if f is not None:
                    f.close()
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

    def wait_for_item(self, timeout=60):
        """The tray's item as (bus name, object path). The wait is long: under ASan, with
        other tests and fuzzers on both CPUs, the tray once took more than 20 s to show."""
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

    def ui(self, app):
        """An AT-SPI client, as the session's user, for the windows of @app (see Ui)."""
        return Ui(self, app)

    def right_click(self, extents):
        """A real right click (XTEST, as a user's mouse) in the middle of @extents."""
        x, y, w, h = extents
        subprocess.run(['xdotool', 'mousemove', '--sync', str(x + w // 2), str(y + h // 2),
                        'click', '3'], env=dict(os.environ, DISPLAY=self.display),
                       check=True, timeout=30)

    def keys(self, title, *keys):
        """Real key presses (XTEST, as a user's keyboard), e.g. 'ctrl+l', into the window
        @title, which gets the keyboard focus first."""
        env = dict(os.environ, DISPLAY=self.display)
        wid = subprocess.run(['xdotool', 'search', '--sync', '--limit', '1', '--name',
                              '^%s$' % re.sub(r'([][.*+?(){}|^$\\])', r'\\\1', title)],
                             env=env, check=True, timeout=30,
                             stdout=subprocess.PIPE, text=True).stdout.split()[0]
        argv = ['xdotool', 'windowfocus', '--sync', wid]
        for key in keys:
            # held for a moment, as by a hand: GTK may not have realized the widget a key
            # press focused (the file chooser's location entry) for the release a moment later
            argv += ['keydown', key, 'sleep', '0.1', 'keyup', key]
        subprocess.run(argv, env=env, check=True, timeout=30)

    def pixels(self, extents):
        """The pixels of the screen in @extents ([x, y, width, height]) as (r, g, b) tuples:
        what the user sees there."""
        x, y, w, h = extents
        out = subprocess.run(['import', '-display', self.display, '-window', 'root', '-crop',
                              '%dx%d+%d+%d' % (w, h, x, y), '+repage', '-depth', '8', 'ppm:-'],
                             check=True, timeout=30, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE).stdout
        # binary PPM: "P6\n<width> <height>\n<maxval>\n" and the RGB bytes
        fields = out.split(maxsplit=4)
        if fields[0] != b'P6':
            raise GuiError('not a PPM image: %r' % out[:16])
        data = fields[4]
        return [tuple(data[i:i + 3]) for i in range(0, len(data) - 2, 3)]

    def screenshot(self, path, extents=None, margin=16):
        """Writes the screen to @path (PNG), or only the rectangle @extents ([x, y, width,
        height], e.g. a window's from Ui.window()) with @margin pixels around it."""
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        argv = ['import', '-display', self.display, '-window', 'root']
        if extents is not None:
            x, y, w, h = extents
            x0, y0 = max(x - margin, 0), max(y - margin, 0)
            argv += ['-crop', '%dx%d+%d+%d' % (w + x - x0 + margin, h + y - y0 + margin, x0, y0),
                     '+repage']
        subprocess.run(argv + [path], check=True, timeout=30, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)


# -- windows through AT-SPI ----------------------------------------------------------------------

class Ui:
    """Windows of @app read and operated through AT-SPI by atspi-driver.py, which runs as the
    session's user like any assistive technology (GTK's AT-SPI bridge serves no other user)."""

    def __init__(self, session, app):
        self.app = app
        self.proc = subprocess.Popen(session._user_argv() + [PYTHON,
                                                             os.path.join(HERE, 'atspi-driver.py')],
                                     env=session.session_env(), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=session._log('atspi.log'),
                                     text=True, preexec_fn=_die_with_parent)
        session.procs.append(self.proc)
        ready = self.proc.stdout.readline()
        if not ready or not json.loads(ready).get('ready'):
            raise GuiError('the AT-SPI driver did not start: %s' % session.read_log('atspi.log'))

    def _call(self, **cmd):
        cmd.setdefault('app', self.app)
        self.proc.stdin.write(json.dumps(cmd) + '\n')
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise GuiError('the AT-SPI driver exited')
        return json.loads(line)

    def call(self, **cmd):
        # a "transient" failure means the tree changed while the driver looked (a list was
        # refreshed) before it did anything: the command is sent again
        for _ in range(20):
            answer = self._call(**cmd)
            if answer['ok'] or not answer.get('transient'):
                break
            time.sleep(0.1)
        if not answer['ok']:
            raise GuiError(answer['error'])
        return answer

    def window(self, title):
        """The showing window @title, or None: {title, extents ([x, y, width, height] on the
        screen), description (its accessible description), announced (the texts of its showing
        notifications and alerts, which a screen reader reads out), labels (texts), buttons (name
        -> {sensitive}), combos (label -> {name, items, sensitive}), toggles (name -> {expanded}),
        entries (label -> {text, sensitive, focused}), ...}."""
        for _ in range(20):
            answer = self._call(cmd='window', title=title)
            if answer['ok'] or not answer.get('transient'):
                break
            time.sleep(0.1)
        return answer if answer['ok'] else None

    def windows(self):
        return self.call(cmd='windows')['windows']

    def wait_for_window(self, title, timeout=20):
        try:
            return wait_until(lambda: self.window(title), timeout, 'window %r' % title)
        except GuiError as e:
            raise GuiError('%s; %s has %r' % (e, self.app, self._call(cmd='windows')))

    def wait_gone(self, title, timeout=20):
        wait_until(lambda: self.window(title) is None, timeout, 'window %r to close' % title)

    def click(self, title, button, timeout=5):
        """Clicks @button, waiting (up to @timeout) until it is sensitive."""
        wait_until(lambda: self.window(title)['buttons'][button]['sensitive'], timeout,
                   '%r to become sensitive' % button)
        self.call(cmd='click', title=title, button=button)

    def select(self, title, combo, item):
        self.call(cmd='select', title=title, combo=combo, item=item)
        wait_until(lambda: self.window(title)['combos'][combo]['name'] == item, 5,
                   'combo box %r to show %r' % (combo, item))

    def expand(self, title, name):
        self.call(cmd='expand', title=title, name=name)

    def select_row(self, title, cell):
        self.call(cmd='select_row', title=title, cell=cell)

    def cell_extents(self, title, cell):
        return self.call(cmd='cell_extents', title=title, cell=cell)['extents']

    def menu_item(self, name, timeout=5):
        """Activates @name in a menu that is shown (e.g. a context menu)."""
        wait_until(lambda: self._call(cmd='menu_item', name=name)['ok'], timeout,
                   'menu item %r' % name)

    def sort(self, title, column):
        """Clicks the header of the column @column of the showing table (GTK sorts by it, or
        turns the order round)."""
        self.call(cmd='sort', title=title, column=column)

    def activate_row(self, title, cell):
        """Activates the row with a cell @cell, as a double click or Enter does."""
        self.call(cmd='activate_row', title=title, cell=cell)

    def switch(self, title, name):
        """Shows the page @name of a stack (clicks its switcher button) and waits until it
        shows."""
        self.call(cmd='switch', title=title, name=name)
        wait_until(lambda: self.window(title)['pages'].get(name), 5, 'the page %r' % name)

    def check(self, title, name):
        self.call(cmd='check', title=title, name=name)

    def set_value(self, title, label, value):
        self.call(cmd='set_value', title=title, label=label, value=value)

    def tab(self, title, name):
        self.call(cmd='tab', title=title, name=name)

    def fill(self, title, label, text):
        """Sets the text of the field labelled @label (None: the field with the focus) and
        waits until the window shows it."""
        self.call(cmd='fill', title=title, label=label, text=text)
        # JSON has no None keys: an unlabelled field is under 'null'
        key = 'null' if label is None else label
        wait_until(lambda: self.window(title)['entries'][key]['text'] == text, 5,
                   'the field %r to show %r' % (label, text))
