'''polkitd mock template for Vigil's tests: python3-dbusmock's polkitd, plus failures

Like dbusmock's own polkitd template (SetAllowed, AllowUnknown, SetDelay, SimulateHang,
SimulateHangActions, ReleaseHangingCalls, HaveHangingCalls), and:
- SetErrors({action: error_name}): CheckAuthorization for the action answers with that
  D-Bus error instead of a result ("any polkit error denies" is tested with it);
- SetChallenge(actions): the actions answer "not authorised, but authentication would
  help" (is_challenge), as polkit does for auth_admin;
- HangingCallCount(): how many CheckAuthorization calls wait for ReleaseHangingCalls.
'''

import time

import dbus

from dbusmock import MOCK_IFACE

BUS_NAME = 'org.freedesktop.PolicyKit1'
MAIN_OBJ = '/org/freedesktop/PolicyKit1/Authority'
MAIN_IFACE = 'org.freedesktop.PolicyKit1.Authority'
SYSTEM_BUS = True


def load(mock, _parameters):
    mock.AddProperties(MAIN_IFACE,
                       dbus.Dictionary({
                           'BackendName': 'local',
                           'BackendVersion': '0.8.15',
                           'BackendFeatures': dbus.UInt32(1, variant_level=1),
                       }, signature='sv'))
    mock.allow_unknown = False
    mock.allowed = []
    mock.delay = 0
    mock.simulate_hang = False
    mock.hanging_actions = []
    mock.hanging_calls = []
    mock.errors = {}
    mock.challenge = []


@dbus.service.method(MAIN_IFACE,
                     in_signature='(sa{sv})sa{ss}us',
                     out_signature='(bba{ss})',
                     async_callbacks=('ok_cb', 'err_cb'))
def CheckAuthorization(self, _subject, action_id, _details, _flags,
                       _cancellation_id, ok_cb, err_cb):
    time.sleep(self.delay)
    if action_id in self.errors:
        err_cb(dbus.exceptions.DBusException('polkit mock: failing as told',
                                             name=self.errors[action_id]))
        return
    allowed = action_id in self.allowed or self.allow_unknown
    ret = (allowed, not allowed and action_id in self.challenge, {'test': 'test'})
    if self.simulate_hang or action_id in self.hanging_actions:
        self.hanging_calls.append((ok_cb, ret))
    else:
        ok_cb(ret)


@dbus.service.method(MAIN_IFACE, in_signature='(sa{sv})ss')
def RegisterAuthenticationAgent(_self, _subject, _locale, _object_path):
    pass


@dbus.service.method(MOCK_IFACE, in_signature='b', out_signature='')
def AllowUnknown(self, default):
    self.allow_unknown = default


@dbus.service.method(MOCK_IFACE, in_signature='as', out_signature='')
def SetAllowed(self, actions):
    self.allowed = actions


@dbus.service.method(MOCK_IFACE, in_signature='d', out_signature='')
def SetDelay(self, delay):
    self.delay = delay


@dbus.service.method(MOCK_IFACE, in_signature='b', out_signature='')
def SimulateHang(self, hang):
    self.simulate_hang = hang


@dbus.service.method(MOCK_IFACE, in_signature='as', out_signature='')
def SimulateHangActions(self, actions):
    self.hanging_actions = actions


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='')
def ReleaseHangingCalls(self):
    for (cb, ret) in self.hanging_calls:
        cb(ret)
    self.hanging_calls = []


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='b')
def HaveHangingCalls(self):
    return len(self.hanging_calls) > 0


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='u')
def HangingCallCount(self):
    return len(self.hanging_calls)


@dbus.service.method(MOCK_IFACE, in_signature='a{ss}', out_signature='')
def SetErrors(self, errors):
    self.errors = dict(errors)


@dbus.service.method(MOCK_IFACE, in_signature='as', out_signature='')
def SetChallenge(self, actions):
    self.challenge = actions
