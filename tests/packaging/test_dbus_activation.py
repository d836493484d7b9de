#!/usr/bin/python3
"""D-Bus activation never starts a vigild the administrator disabled.

The installed files follow systemd's pattern: the activation file names
SystemdService=dbus-org.vigil.Firewall1.service and Exec=/bin/false; vigild.service has
Alias=dbus-org.vigil.Firewall1.service, a name that exists only while the unit is enabled.
Checked here with the built files on a private system bus (tests/dbus/bus.py: Debian's system
bus policy) with the activation file in its service directory:

- with systemd activation (dbus-daemon --systemd-activation) and fake-systemd.py, which knows
  a unit by its file name and by its aliases only while enabled: `vigilctl status` from
  uid 65534 exits 4 ("not running") while vigild.service is disabled and nothing is started;
  enabled, the bus starts the real vigild (in a network namespace of its own) and status works;
- without systemd (no --systemd-activation), the bus runs Exec=, which fails: exit 4.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'dbus'))
import bus as testbus  # noqa: E402

SERVICE_FILE = os.environ.get('VIGIL_DBUS_SERVICE_FILE', 'build/data/org.vigil.Firewall1.service')
UNIT_FILE = os.environ.get('VIGIL_SERVICE_UNIT', 'build/data/vigild.service')
VIGILCTL = os.environ.get('VIGILCTL', 'build/vigilctl/vigilctl')
VIGILD = os.environ.get('VIGILD', 'build/daemon/vigild')
ALIAS = 'dbus-org.vigil.Firewall1.service'
EXIT_NOT_RUNNING = 4


def keyfile(path):
    values = {}
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if line and not line.startswith(('#', '[')):
                key, _, value = line.partition('=')
                values.setdefault(key.strip(), []).append(value.strip())
    return values


class ActivationFiles(unittest.TestCase):
    def test_service_file_names_the_alias(self):
        service = keyfile(SERVICE_FILE)
        self.assertEqual(service['SystemdService'], [ALIAS])
        # without systemd, the bus runs Exec=: it must not start vigild
        self.assertEqual(service['Exec'], ['/bin/false'])

    def test_unit_has_the_alias(self):
        self.assertIn(ALIAS, keyfile(UNIT_FILE).get('Alias', []))


class ActivationBus(unittest.TestCase):
    """A private system bus whose service directory holds the built activation file."""

    systemd = True

    def setUp(self):
        # the content checks come first: with an Exec= that starts a program, this bus
        # would start it outside any namespace
        self.assertEqual(keyfile(SERVICE_FILE)['Exec'], ['/bin/false'])
        self.assertTrue(os.access(VIGILCTL, os.X_OK), VIGILCTL)
        self.tmp = tempfile.mkdtemp(prefix='vigil-activation-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        os.chmod(self.tmp, 0o755)
        services = os.path.join(self.tmp, 'system-services')
        os.mkdir(services)
        shutil.copy(SERVICE_FILE, services)
        socket_path = os.path.join(self.tmp, 'system_bus_socket')
        config = testbus.system_bus_config(
            socket_path, [testbus.VIGIL_POLICY, os.path.join(HERE, 'systemd-mock.conf')])
        config = config.replace('</busconfig>',
                                '<servicedir>%s</servicedir>\n</busconfig>' % services)
        config_path = os.path.join(self.tmp, 'system.conf')
        with open(config_path, 'w') as f:
            f.write(config)
        argv = ['dbus-daemon', '--config-file=' + config_path, '--nofork', '--nopidfile',
                '--print-address=1']
        if self.systemd:
            argv.append('--systemd-activation')
        self.daemon_log = open(os.path.join(self.tmp, 'dbus-daemon.log'), 'wb')
        self.addCleanup(self.daemon_log.close)
        self.bus = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.daemon_log)
        self.addCleanup(self._stop, self.bus)
        self.address = self.bus.stdout.readline().decode().strip()
        self.assertTrue(self.address.startswith('unix:'), self.log())
        self.env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.address, LANGUAGE='',
                        LC_ALL='C.UTF-8')
        self.requests = os.path.join(self.tmp, 'requests')

    @staticmethod
    def _stop(proc):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def log(self):
        with open(os.path.join(self.tmp, 'dbus-daemon.log'), errors='replace') as f:
            return f.read()

    def start_systemd(self, state):
        rules = os.path.join(self.tmp, 'rules.d')
        os.mkdir(rules)
        # never the attribution programs on the machine's root cgroup: /proc only
        config = os.path.join(self.tmp, 'vigild.conf')
        with open(config, 'w') as f:
            f.write('[Daemon]\nAttribution=queue\n')
        # what systemd would run: the built vigild, in an empty network namespace of its own
        vigild = ['unshare', '--net', '--', VIGILD, '--foreground', '--config', config,
                  '--rules-dir', rules, '--learned-rules', os.path.join(self.tmp, 'learned')]
        proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, 'fake-systemd.py'), self.address, UNIT_FILE,
             state, self.requests, '--'] + vigild,
            stdout=subprocess.PIPE, env=self.env)
        self.addCleanup(self._stop, proc)
        self.assertEqual(proc.stdout.readline().decode().strip(), 'ready')

    def status(self):
        return subprocess.run(testbus.as_user_argv(testbus.NOBODY) + [VIGILCTL, 'status'],
                              env=self.env, capture_output=True, text=True, timeout=60)

    def requested(self):
        if not os.path.exists(self.requests):
            return []
        with open(self.requests) as f:
            return f.read().split('\n')[:-1]


class WithSystemd(ActivationBus):
    def test_disabled_vigild_is_not_started(self):
        self.start_systemd('disabled')
        res = self.status()
        self.assertEqual(res.returncode, EXIT_NOT_RUNNING, res.stdout + res.stderr)
        self.assertIn('not running', res.stderr)
        self.assertEqual(self.requested(), ['refused ' + ALIAS])

    def test_enabled_vigild_is_started(self):
        self.start_systemd('enabled')
        res = self.status()
        self.assertEqual(self.requested(), ['started ' + ALIAS], res.stderr)
        # vigild owns its name once it filters; the first call may have raced its start
        deadline = time.monotonic() + 30
        while res.returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.5)
            res = self.status()
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr + self.log())


class WithoutSystemd(ActivationBus):
    systemd = False

    def test_exec_fails(self):
        res = self.status()
        self.assertEqual(res.returncode, EXIT_NOT_RUNNING, res.stdout + res.stderr)
        self.assertIn('not running', res.stderr)


if __name__ == '__main__':
    unittest.main(verbosity=2)
