#!/usr/bin/python3
"""End-to-end: another program holds vigild's NFLOG group (53053) before vigild starts.

vigild says `hostnames unknown` and goes on: connections are still decided, by address,
port and program rules and DefaultAction; a rule for a name matches nothing (no answer was
seen naming the address), and the log line has no host=.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_dns import DnsSetup, OK, UNNAMED, PYTHON  # noqa: E402
from vigiltest import E2ETestCase  # noqa: E402

# binds an NFLOG group with a raw nfnetlink message (NFULNL_MSG_CONFIG, NFULNL_CFG_CMD_BIND)
# and holds it until stdin closes; prints "bound" or the kernel's error
BIND_NFLOG = r"""
import os, socket, struct, sys
group = int(sys.argv[1])
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)  # NETLINK_NETFILTER
s.bind((0, 0))
NFNL_SUBSYS_ULOG, NFULNL_MSG_CONFIG, NFULA_CFG_CMD, NFULNL_CFG_CMD_BIND = 4, 1, 1, 1
attr = struct.pack("=HHB3x", 5, NFULA_CFG_CMD, NFULNL_CFG_CMD_BIND)
body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(group)) + attr
header = struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG,
                     0x1 | 0x4, 1, 0)  # NLM_F_REQUEST | NLM_F_ACK
s.send(header + body)
reply = s.recv(4096)
error = struct.unpack_from("=i", reply, 16)[0]
print("bound" if error == 0 else "error %d" % -error, flush=True)
sys.stdin.read()
"""

NFLOG_GROUP = 53053


class NflogTaken(DnsSetup, E2ETestCase):
    def test_group_taken_hostnames_unknown_connections_decided(self):
        holder = self.nets.spawn(self.nets.client, [PYTHON, "-c", BIND_NFLOG, str(NFLOG_GROUP)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.assertEqual(holder.stdout.readline().strip(), "bound")

        d = self.vigild("deny to ok.example.test port 80\n"
                        "deny to %s port 80\n" % UNNAMED)
        d.wait_for_log("hostnames unknown")
        # the lookup works (the DNS packets themselves pass), but names nothing: the name rule
        # does not match, DefaultAction (allow) decides, and the line has no host=
        self.assertEqual(self.resolve_and_connect("ok.example.test"), ["ok", OK])
        decision = self.wait_decisions_to(d, OK, 80, 1)[0]
        self.assertEqual(decision["verdict"], "allow")
        self.assertEqual(decision["rule"], "default")
        self.assertIsNone(decision["host"])
        self.assertEqual(decision["program"], PYTHON)
        # rules by address still decide
        self.assertEqual(self.connect(UNNAMED), ["error", "ECONNREFUSED"])
        self.assertEqual(self.wait_decisions_to(d, UNNAMED, 80, 1)[0]["verdict"], "deny")
        self.assertIsNone(d.proc.poll(), "vigild exited")
        holder.stdin.close()


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
