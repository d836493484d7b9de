"""bus.py: a private "system" D-Bus for tests, with Debian's real system bus policy plus Vigil's.

The bus config is derived from the machine's /usr/share/dbus-1/system.conf, so that the
test bus denies what a user's system bus denies (every method call no policy allows),
with only the parts that need a real system removed (user, fork, pid file, syslog,
activation, the machine's own policy directories) and the listen address moved into a
temporary directory. data/org.vigil.Firewall1.conf from this source tree is included, and
a small policy that lets a mock polkitd (python3-dbusmock) run as root.

    from bus import PrivateSystemBus, as_user_argv, NOBODY

    with PrivateSystemBus() as bus:                 # starts dbus-daemon
        env = bus.env()                             # os.environ + DBUS_SYSTEM_BUS_ADDRESS
        conn = bus.connect()                        # a Gio.DBusConnection to it
        polkit = bus.start_mock_polkitd()           # org.freedesktop.PolicyKit1 on the bus
        polkit.set_allowed(['org.vigil.firewall.read'])
        subprocess.run(as_user_argv(NOBODY) + [sys.executable, 'client.py'], env=env)
    # dbus-daemon and the mock are stopped, the temporary directory removed

Run as a script, it prints the derived config: python3 tests/dbus/bus.py [SOCKET_PATH]
"""

import ctypes
import os
import shutil
import signal
import subprocess
import threading
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import gi

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))

SYSTEM_CONF = '/usr/share/dbus-1/system.conf'
VIGIL_POLICY = os.path.join(SOURCE_ROOT, 'data', 'org.vigil.Firewall1.conf')
POLKIT_MOCK_POLICY = os.path.join(HERE, 'polkit-mock.conf')
# dbusmock's polkitd template, plus error answers and a count of held checks
POLKIT_TEMPLATE = os.path.join(HERE, 'polkitd_template.py')
FIREWALL_XML = os.path.join(SOURCE_ROOT, 'dbus', 'org.vigil.Firewall1.xml')
AGENT_XML = os.path.join(SOURCE_ROOT, 'dbus', 'org.vigil.Firewall1.Agent.xml')

BUS_NAME = 'org.vigil.Firewall1'
OBJECT_PATH = '/org/vigil/Firewall1'
INTERFACE = 'org.vigil.Firewall1'
AGENT_INTERFACE = 'org.vigil.Firewall1.Agent'
POLKIT_NAME = 'org.freedesktop.PolicyKit1'
POLKIT_PATH = '/org/freedesktop/PolicyKit1/Authority'
POLKIT_INTERFACE = 'org.freedesktop.PolicyKit1.Authority'
MOCK_INTERFACE = 'org.freedesktop.DBus.Mock'

NOBODY = 65534
PYTHON = '/usr/bin/python3'  # has the GObject bindings; a python3 earlier on PATH may not

# elements of system.conf that only make sense for the machine's real system bus
_DROPPED = {
    'user',  # we run as whoever runs the test
    'fork',
    'pidfile',
    'syslog',  # log to stderr, which we keep
    'servicehelper',  # no activation on the test bus
    'standard_system_servicedirs',
    'servicedir',
    'include',  # /etc/dbus-1/system.conf, system-local.conf, SELinux contexts
    'includedir',  # system.d: the machine's policies, maybe an installed older copy of ours
}

_DOCTYPE = ('<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"\n'
            ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n')


class BusError(Exception):
    pass


def _check_default_denies(root):
    """The point of deriving the config: the default policy must deny method calls."""
    for policy in root.findall('policy'):
        if policy.get('context') != 'default':
            continue
        for deny in policy.findall('deny'):
            if deny.attrib == {'send_type': 'method_call'}:
                return
    raise BusError(f'{SYSTEM_CONF} no longer denies method calls by default: '
                   'the test bus would not behave like a real system bus')


def system_bus_config(socket_path, policy_files=None, system_conf=SYSTEM_CONF):
    """Returns the text of a bus config derived from @system_conf that listens on
    unix:path=@socket_path and includes @policy_files (default: Vigil's policy and the
    mock polkitd's)."""
    if policy_files is None:
        policy_files = [VIGIL_POLICY, POLKIT_MOCK_POLICY]
    try:
        root = ET.parse(system_conf).getroot()
    except (OSError, ET.ParseError) as e:
        raise BusError(f'cannot read {system_conf} (package dbus-system-bus-common): {e}')
    if root.tag != 'busconfig' or root.findtext('type') != 'system':
        raise BusError(f'{system_conf} is not a system bus config')
    _check_default_denies(root)

    for child in list(root):
        if child.tag in _DROPPED:
            root.remove(child)
    listens = root.findall('listen')
    if not listens:
        raise BusError(f'{system_conf} has no <listen>')
    listens[0].text = 'unix:path=' + socket_path
    for extra in listens[1:]:
        root.remove(extra)
    for path in policy_files:
        if not os.path.isfile(path):
            raise BusError(f'policy file {path} does not exist')
        ET.SubElement(root, 'include').text = os.path.abspath(path)
    ET.indent(root)
    return _DOCTYPE + ET.tostring(root, encoding='unicode') + '\n'


def as_user_argv(uid=NOBODY, gid=None):
    """The command prefix that runs a program as @uid (group @gid, default the same number)
    with no supplementary groups: how tests make the bus see an unprivileged caller."""
    if gid is None:
        gid = uid
    return ['setpriv', f'--reuid={uid}', f'--regid={gid}', '--clear-groups', '--']


def connect(address):
    """A new Gio.DBusConnection to the bus at @address (not shared with anything else)."""
    flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
             | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
    return Gio.DBusConnection.new_for_address_sync(address, flags, None, None)


def name_has_owner(conn, name):
    reply = conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                           'org.freedesktop.DBus', 'NameHasOwner', GLib.Variant('(s)', (name,)),
                           GLib.VariantType('(b)'), Gio.DBusCallFlags.NONE, 5000, None)
    return reply.unpack()[0]


def wait_for_name(conn, name, timeout=10.0, process=None):
    """Waits until @name has an owner on @conn's bus; fails early when @process exits."""
    deadline = time.monotonic() + timeout
    while not name_has_owner(conn, name):
        if process is not None and process.poll() is not None:
            raise BusError(f'the process that should own {name} exited with {process.returncode}')
        if time.monotonic() > deadline:
            raise BusError(f'{name} did not appear on the bus within {timeout} s')
        time.sleep(0.02)


def load_interface(xml_path, name):
    """The Gio.DBusInterfaceInfo of @name from an introspection file (e.g. FIREWALL_XML)."""
    with open(xml_path, encoding='utf-8') as f:
        node = Gio.DBusNodeInfo.new_for_xml(f.read())
    info = node.lookup_interface(name)
    if info is None:
        raise BusError(f'{xml_path} has no interface {name}')
    return info


def _die_with_parent():
    """preexec_fn: the child gets SIGTERM when the test that started it dies, so a test
    killed by a timeout leaves no dbus-daemon or mock behind."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _exit_on_sigterm():
    """Turns SIGTERM (meson's timeout) into SystemExit, so that context managers clean up."""
    if (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL):
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def _stop_process(process, timeout=5.0):
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class MockPolkit:
    """python3-dbusmock with tests/dbus/polkitd_template.py (dbusmock's polkitd, plus errors)
    on a private bus. It rejects every action until told otherwise; it does not look at the
    subject, so it answers the same for every caller."""

    def __init__(self, bus):
        self.bus = bus
        self.log_path = os.path.join(bus.tmpdir, 'polkitd-mock.log')
        self._log = open(self.log_path, 'wb')
        self.process = subprocess.Popen(
            [PYTHON, '-m', 'dbusmock', '--system', '--template', POLKIT_TEMPLATE],
            env=bus.env(), stdout=self._log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent)
        self._conn = connect(bus.address)
        try:
            wait_for_name(self._conn, POLKIT_NAME, process=self.process)
        except BusError as e:
            self.stop()
            raise BusError(f'{e}; log: {self.log()}')

    def log(self):
        with open(self.log_path, encoding='utf-8', errors='replace') as f:
            return f.read()

    def _mock_call(self, method, signature, args):
        self._conn.call_sync(POLKIT_NAME, POLKIT_PATH, MOCK_INTERFACE, method,
                             GLib.Variant(signature, args), None, Gio.DBusCallFlags.NONE,
                             5000, None)

    def set_allowed(self, actions):
        """Only @actions (polkit action ids) are authorised from now on."""
        self._mock_call('SetAllowed', '(as)', (list(actions),))

    def allow_unknown(self, allow):
        """Whether actions not given to set_allowed() are authorised."""
        self._mock_call('AllowUnknown', '(b)', (allow,))

    def set_delay(self, seconds):
        """CheckAuthorization answers after @seconds (the mock blocks meanwhile)."""
        self._mock_call('SetDelay', '(d)', (float(seconds),))

    def simulate_hang(self, hang):
        """CheckAuthorization calls get no answer until release_hanging_calls()."""
        self._mock_call('SimulateHang', '(b)', (hang,))

    def simulate_hang_actions(self, actions):
        """CheckAuthorization calls for @actions (polkit action ids) get no answer until
        release_hanging_calls(); an empty list ends that."""
        self._mock_call('SimulateHangActions', '(as)', (list(actions),))

    def release_hanging_calls(self):
        self._mock_call('ReleaseHangingCalls', '()', ())

    def hanging_call_count(self):
        """How many CheckAuthorization calls wait for release_hanging_calls()."""
        reply = self._conn.call_sync(POLKIT_NAME, POLKIT_PATH, MOCK_INTERFACE,
                                     'HangingCallCount', None, GLib.VariantType('(u)'),
                                     Gio.DBusCallFlags.NONE, 5000, None)
        return reply.unpack()[0]

    def set_errors(self, errors):
        """CheckAuthorization for each action of @errors ({action: D-Bus error name}) fails
        with that error from now on ({} ends that)."""
        self._mock_call('SetErrors', '(a{ss})', (dict(errors),))

    def set_challenge(self, actions):
        """@actions not allowed answer is_challenge (authentication would help)."""
        self._mock_call('SetChallenge', '(as)', (list(actions),))

    def have_hanging_calls(self):
        reply = self._conn.call_sync(POLKIT_NAME, POLKIT_PATH, MOCK_INTERFACE,
                                     'HaveHangingCalls', None, GLib.VariantType('(b)'),
                                     Gio.DBusCallFlags.NONE, 5000, None)
        return reply.unpack()[0]

    def record_cancels(self):
        """Adds CancelCheckAuthorization, which the template lacks; cancels() lists its calls."""
        self._mock_call('AddMethod', '(sssss)', (POLKIT_INTERFACE, 'CancelCheckAuthorization',
                                                 's', '', ''))

    def cancels(self):
        """The cancellation ids CancelCheckAuthorization was called with, in order."""
        reply = self._conn.call_sync(POLKIT_NAME, POLKIT_PATH, MOCK_INTERFACE, 'GetMethodCalls',
                                     GLib.Variant('(s)', ('CancelCheckAuthorization',)),
                                     GLib.VariantType('(a(tav))'), Gio.DBusCallFlags.NONE,
                                     5000, None)
        return [args[0] for _, args in reply.unpack()[0]]

    def check_authorization(self, action, pid=None):
        """Asks the mock like a daemon would (subject: a unix process); returns
        is_authorized."""
        subject = ('unix-process', {'pid': GLib.Variant('u', pid or os.getpid()),
                                    'start-time': GLib.Variant('t', 0)})
        reply = self._conn.call_sync(
            POLKIT_NAME, POLKIT_PATH, POLKIT_INTERFACE, 'CheckAuthorization',
            GLib.Variant('((sa{sv})sa{ss}us)', (subject, action, {}, 0, '')),
            GLib.VariantType('((bba{ss}))'), Gio.DBusCallFlags.NONE, 5000, None)
        return reply.unpack()[0][0]

    def stop(self):
        if self.process is not None:
            _stop_process(self.process)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._conn is not None:
            self._conn.close_sync(None)
            self._conn = None


class PrivateSystemBus:
    """A dbus-daemon with a config derived from the machine's system.conf (see
    system_bus_config()), in a temporary directory that any user can reach.

    Attributes once started: address, socket_path, config_path, tmpdir, process."""

    def __init__(self, policy_files=None, system_conf=SYSTEM_CONF):
        self.policy_files = policy_files
        self.system_conf = system_conf
        self.tmpdir = None
        self.process = None
        self.address = None
        self.socket_path = None
        self.config_path = None
        self._polkits = []
        self._stderr = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        if shutil.which('dbus-daemon') is None:
            raise BusError('dbus-daemon is not installed (package dbus-daemon)')
        _exit_on_sigterm()
        self.tmpdir = tempfile.mkdtemp(prefix='vigil-bus-')
        # other users' test clients must reach the socket
        os.chmod(self.tmpdir, 0o755)
        self.socket_path = os.path.join(self.tmpdir, 'system_bus_socket')
        self.config_path = os.path.join(self.tmpdir, 'system.conf')
        with open(self.config_path, 'w', encoding='utf-8') as f:
            f.write(system_bus_config(self.socket_path, self.policy_files, self.system_conf))
        self._stderr = open(os.path.join(self.tmpdir, 'dbus-daemon.log'), 'wb')
        self.process = subprocess.Popen(
            ['dbus-daemon', '--config-file=' + self.config_path, '--nofork', '--nopidfile',
             '--print-address=1'],
            stdout=subprocess.PIPE, stderr=self._stderr, preexec_fn=_die_with_parent)
        line = self.process.stdout.readline().decode().strip()
        if not line.startswith('unix:'):
            self.process.wait(5)
            log = self.daemon_log()
            self.stop()
            raise BusError(f'dbus-daemon did not start: {log}')
        self.address = line
        return self

    def daemon_log(self):
        """What dbus-daemon wrote to stderr (config errors, policy warnings)."""
        with open(os.path.join(self.tmpdir, 'dbus-daemon.log'), encoding='utf-8',
                  errors='replace') as f:
            return f.read()

    def env(self, base=None):
        """@base (default os.environ) with DBUS_SYSTEM_BUS_ADDRESS pointing at this bus."""
        env = dict(os.environ if base is None else base)
        env['DBUS_SYSTEM_BUS_ADDRESS'] = self.address
        return env

    def connect(self):
        """A new connection to this bus, as the calling process's user."""
        return connect(self.address)

    def start_mock_polkitd(self):
        """Starts python3-dbusmock's polkitd on this bus; stopped with the bus."""
        polkit = MockPolkit(self)
        self._polkits.append(polkit)
        return polkit

    def stop(self):
        for polkit in self._polkits:
            polkit.stop()
        self._polkits = []
        if self.process is not None:
            _stop_process(self.process)
            self.process.stdout.close()
            self.process = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None


if __name__ == '__main__':
    print(system_bus_config(sys.argv[1] if len(sys.argv) > 1 else '/tmp/vigil-test-bus'),
          end='')
