#!/usr/bin/python3
"""Code the same user may put into a program shows in its prompt: a process started with
LD_PRELOAD carries `preload`, a process under a tracer `traced-by` (the tracer's pid), in
Agent.Prompt() and in GetConnections(); an ordinary process carries neither.

A real vigild in a network namespace on a private system bus, a prompt agent of uid 65534
(nobody), and connections of nobody: one plain, one with LD_PRELOAD, one traced by its parent
(a ptrace-ing Python, as a debugger or an injecting trojan would be).
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "dbus"))

import bus as testbus  # noqa: E402
from test_dbus import DBusTestCase, NOBODY, PEER_V4, PROBE, PROBE_EXE, PYTHON  # noqa: E402

# test_systemd_unit.py --traced-run ARGV...: runs ARGV under a ptrace-ing parent
TRACER = os.path.join(HERE, "..", "test_systemd_unit.py")
# in the AddressSanitizer build the probe's runtime must accept a preloaded library before
# it, and cannot look for leaks under a tracer
ASAN_OPTIONS = "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0"


class TaintPrompt(DBusTestCase):
    def connect(self, prefix=(), env=()):
        cmd = (testbus.as_user_argv(NOBODY) + ["env", "-i", ASAN_OPTIONS] + list(env) +
               list(prefix) +
               [PROBE, "tcp", PEER_V4, "9000", "--timeout", "20000"])
        return self.nets.spawn(self.nets.client, cmd, stdout=subprocess.PIPE,
                               text=True)

    def prompt_of(self, agent, proc):
        prompt = agent.wait_event("prompt")
        connection = prompt["connection"]
        self.assertEqual(connection["program"], PROBE_EXE)
        self.assertEqual(connection["uid"], NOBODY)
        self.assertTrue(agent.reply(prompt["request"], "allow")["ok"])
        self.assertEqual(self.probe_result(proc)[0], "ok")
        return connection

    def test_preload_and_tracer_in_prompt_and_history(self):
        self.start_vigild()
        agent = self.agent(uid=NOBODY)

        plain = self.prompt_of(agent, self.connect())
        self.assertNotIn("preload", plain)
        self.assertNotIn("traced-by", plain)

        preloaded = self.prompt_of(agent, self.connect(env=["LD_PRELOAD=libm.so.6"]))
        self.assertIs(preloaded["preload"], True)
        self.assertNotIn("traced-by", preloaded)

        proc = self.connect(prefix=[PYTHON, TRACER, "--traced-run"])
        traced = self.prompt_of(agent, proc)
        # ip netns exec, setpriv, env and python exec in turn: the tracer has the spawned pid
        self.assertEqual(traced["traced-by"], proc.pid)
        self.assertNotIn("preload", traced)

        # the decisions' history keeps the flags, and the log lines say them
        seen = agent.call("GetConnections", "a{sv}", {})
        self.assertTrue(seen["ok"], seen)
        history = sorted((c for c in seen["value"][0] if c.get("program") == PROBE_EXE),
                         key=lambda c: c["id"])
        self.assertEqual([("preload" in c, c.get("traced-by")) for c in history],
                         [(False, None), (True, None), (False, proc.pid)])
        lines = [l for l in self.d.log().splitlines() if "program=" + PROBE_EXE + " " in l
                 and "vigil-decision:" in l]
        self.assertEqual(len(lines), 3, lines)
        self.assertNotIn("taint=", lines[0])
        self.assertTrue(lines[1].endswith(" taint=preload"), lines[1])
        self.assertTrue(lines[2].endswith(" taint=traced"), lines[2])


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
