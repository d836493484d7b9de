#!/usr/bin/python3
"""End-to-end: vigild names destinations from the DNS answers to this host's own queries.

A real DNS server (dnsmasq) serves the test names from the peer namespace; programs in
the client namespace resolve them through it with the C library (the namespace's own
resolv.conf) and connect. The names show in vigild's log and rules match them.
"""
import os
import re
import signal
import subprocess
import time
import unittest

from test_dbus import DBusTestCase
from vigiltest import E2ETestCase, PEER_V4, PEER_V6, CLIENT_V4, netfilter_dump, run

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = os.path.realpath("/usr/bin/python3")


def cache_constant(name):
    """A constant of the DNS cache, read from its header so the test follows the code."""
    with open(os.path.join(HERE, "../../daemon/vigil-dns-cache.h")) as f:
        return int(re.search(r"#define %s\s+(\d+)" % name, f.read()).group(1))


TTL_FLOOR = cache_constant("VIGIL_DNS_CACHE_TTL_FLOOR_S")

# test names and the peer addresses they resolve to (never the DNS server's own address)
OK, BAD, UNNAMED = "10.201.0.10", "10.201.0.11", "10.201.0.12"
SHORT, LONG = "10.201.0.13", "10.201.0.14"
V6 = "fd00:201::10"
PEER_EXTRA = [OK, BAD, UNNAMED, SHORT, LONG, V6]
HOST_RECORDS = [
    "ok.example.test," + OK,
    "bad.example.test," + BAD,
    "short.example.test,%s,1" % SHORT,
    "long.example.test,%s,%d" % (LONG, TTL_FLOOR * 4),
    "v6.example.test," + V6,
]
CNAMES = ["www.example.test,ok.example.test"]

# resolves a name with the C library and connects to what it gave; prints
# "ok ADDR", "error ERRNO ADDR" or "noname ERROR"
RESOLVE_AND_CONNECT = r"""
import errno, socket, sys
name, port, family = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fam = {"4": socket.AF_INET, "6": socket.AF_INET6, "any": socket.AF_UNSPEC}[family]
try:
    infos = socket.getaddrinfo(name, port, fam, socket.SOCK_STREAM)
except socket.gaierror as e:
    print("noname", e)
    sys.exit(0)
af, _, _, _, addr = infos[0]
s = socket.socket(af, socket.SOCK_STREAM)
s.settimeout(3)
try:
    s.connect(addr)
    print("ok", addr[0])
except OSError as e:
    print("error", errno.errorcode.get(e.errno, "timeout"), addr[0])
"""

# connects to a literal address, no lookup; prints "ok" or "error ERRNO"
CONNECT = r"""
import errno, socket, sys
af = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(af, socket.SOCK_STREAM)
s.settimeout(3)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("ok")
except OSError as e:
    print("error", errno.errorcode.get(e.errno, "timeout"))
"""

# from the peer: a DNS answer nobody asked for, sent from the server's address and port 53
# with a raw socket (the real server holds port 53)
FORGE = r"""
import socket, struct, sys
client, dport, name, addr = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
qname = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
dns = struct.pack("!6H", 0x4242, 0x8180, 1, 1, 0, 0) + qname + struct.pack("!2H", 1, 1)
dns += struct.pack("!H2HIH", 0xc00c, 1, 1, 3600, 4) + socket.inet_aton(addr)
udp = struct.pack("!4H", 53, dport, 8 + len(dns), 0) + dns
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
for _ in range(3):
    s.sendto(udp, (client, 0))
"""


class DnsSetup:
    """A mixin: dnsmasq serving the test names in the peer namespace, and the client's
    resolv.conf pointing at it."""

    def setUp(self):
        super().setUp()
        for addr in PEER_EXTRA:
            v6 = ":" in addr
            run(["ip", "-n", self.nets.peer, "addr", "add", addr + ("/128" if v6 else "/32"),
                 "dev", self.nets.veth_peer] + (["nodad"] if v6 else []))
        self.dnsmasq_log = os.path.join("/tmp", "vigil-dns-%s.log" % self.nets.peer)
        self.addCleanup(lambda: os.path.exists(self.dnsmasq_log) and os.unlink(self.dnsmasq_log))
        self.start_dnsmasq(self.nets.peer, [PEER_V4, PEER_V6],
                           ["--local-ttl=60"] +
                           ["--host-record=" + r for r in HOST_RECORDS] +
                           ["--cname=" + c for c in CNAMES])
        self.set_resolver(PEER_V4)

    def start_dnsmasq(self, ns, addresses, extra, log=None):
        log = log or self.dnsmasq_log
        out = open(log, "w")
        self.addCleanup(out.close)
        self.nets.spawn(ns, ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv",
                             "--no-hosts", "--bind-interfaces", "--pid-file=", "--user=nobody",
                             "--log-facility=-", "--log-queries"] +
                        ["--listen-address=" + a for a in addresses] + extra,
                        stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(log, errors="replace") as f:
                if "started, version" in f.read():
                    return
            time.sleep(0.05)
        with open(log, errors="replace") as f:
            self.fail("dnsmasq did not start:\n" + f.read())

    def set_resolver(self, nameserver, options=""):
        """resolv.conf for the client namespace: `ip netns exec` mounts /etc/netns/NS/."""
        d = "/etc/netns/%s" % self.nets.client
        if not os.path.isdir(d):
            os.makedirs(d)
            self.addCleanup(self._remove_netns_dir, d)
        with open(os.path.join(d, "resolv.conf"), "w") as f:
            f.write("nameserver %s\n%s\n" % (nameserver, options))

    @staticmethod
    def _remove_netns_dir(d):
        for name in os.listdir(d):
            os.unlink(os.path.join(d, name))
        os.rmdir(d)
        try:
            os.rmdir("/etc/netns")  # only if no one else uses it
        except OSError:
            pass

    def as_user(self, cmd, user):
        if user is None:
            return cmd
        return ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd

    def resolve_and_connect(self, name, port=80, family="4", user=None):
        res = self.nets.client_run(self.as_user([PYTHON, "-c", RESOLVE_AND_CONNECT, name,
                                                 str(port), family], user))
        self.assertEqual(res.returncode, 0, res.stderr)
        return res.stdout.split()

    def connect(self, addr, port=80, user=None):
        res = self.nets.client_run(self.as_user([PYTHON, "-c", CONNECT, addr, str(port)], user))
        self.assertEqual(res.returncode, 0, res.stderr)
        return res.stdout.split()

    def decisions_to(self, vigild, dst, port):
        return [d for d in vigild.decisions() if d["dst"] == dst and d["port"] == str(port)]

    def wait_decisions_to(self, vigild, dst, port, n):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = self.decisions_to(vigild, dst, port)
            if len(found) >= n:
                return found
            time.sleep(0.05)
        self.fail("expected %d decisions for %s port %s:\n%s" % (n, dst, port, vigild.log()))



class Dns(DnsSetup, E2ETestCase):

    def test_log_line_carries_the_name(self):
        d = self.vigild("")
        self.assertEqual(self.resolve_and_connect("ok.example.test"), ["ok", OK])
        self.assertDecision(d, verdict="allow", dst=OK, host="ok.example.test", port=80,
                            program=PYTHON)
        # an address no lookup gave is shown as the address alone
        self.assertEqual(self.connect(UNNAMED), ["ok"])
        self.assertIsNone(self.wait_decisions_to(d, UNNAMED, 80, 1)[0]["host"])
        # a clean stop (under AddressSanitizer: without leaks) takes the DNS copying along
        self.assertEqual(d.stop(signal.SIGTERM), 0, d.log())
        self.assertFalse([l for l in netfilter_dump(self.nets) if "VIGIL" in l or "NFLOG" in l])

    def test_cname_names_the_address_by_the_name_asked_for(self):
        d = self.vigild("")
        self.assertEqual(self.resolve_and_connect("www.example.test"), ["ok", OK])
        self.assertDecision(d, verdict="allow", dst=OK, host="www.example.test", port=80)

    def test_deny_domain_allow_host(self):
        d = self.vigild("deny to *.example.test\nallow to ok.example.test\n")
        self.assertEqual(self.resolve_and_connect("ok.example.test"), ["ok", OK])
        # refused, not timed out (the client waits 3 s): the deny reset the connection; a
        # bound of 2 s on the whole resolve-and-connect, process start included, only
        # measured the machine's load
        self.assertEqual(self.resolve_and_connect("bad.example.test"),
                         ["error", "ECONNREFUSED", BAD])
        allow = self.assertDecision(d, verdict="allow", dst=OK, host="ok.example.test")
        deny = self.assertDecision(d, verdict="deny", dst=BAD, host="bad.example.test")
        self.assertNotIn(allow["rule"], ("default", "0"))
        self.assertNotIn(deny["rule"], ("default", "0"))
        self.assertNotEqual(allow["rule"], deny["rule"])
        # a name rule never matches an address the name was not seen resolving to
        self.assertEqual(self.connect(UNNAMED), ["ok"])
        self.assertEqual(self.wait_decisions_to(d, UNNAMED, 80, 1)[0]["rule"], "default")

    def test_forged_answer_without_query_changes_nothing(self):
        d = self.vigild("deny to evil.example.test\n")
        # a socket on the client that the forgery reaches, though it asked nothing
        listener = self.nets.spawn(self.nets.client, [PYTHON, "-c",
                                   "import socket,time; s=socket.socket(socket.AF_INET,"
                                   "socket.SOCK_DGRAM); s.bind(('%s', 40053)); print('up', "
                                   "flush=True); s.recv(4096); time.sleep(30)" % CLIENT_V4],
                                   stdout=subprocess.PIPE, text=True)
        self.assertEqual(listener.stdout.readline().strip(), "up")
        res = run(self.nets.exec_args(self.nets.peer, [PYTHON, "-c", FORGE, CLIENT_V4, "40053",
                                                       "evil.example.test", UNNAMED]),
                  check=False)
        self.assertEqual(res.returncode, 0, res.stderr)
        # vigild reads every DNS copy that waits before it decides a connection
        self.assertEqual(self.connect(UNNAMED), ["ok"], "the forged name must not deny")
        dec = self.wait_decisions_to(d, UNNAMED, 80, 1)[0]
        self.assertIsNone(dec["host"])
        self.assertEqual(dec["rule"], "default")
        # it did see the forgery, and set it aside
        d.wait_for_log("ignored DNS answer from %s#53 to %s#40053" % (PEER_V4, CLIENT_V4))
        # while real answers to real queries still name
        self.assertEqual(self.resolve_and_connect("ok.example.test"), ["ok", OK])
        self.assertDecision(d, dst=OK, host="ok.example.test")

    def test_ttl_expiry_with_floor(self):
        d = self.vigild("")
        t0 = time.monotonic()
        self.assertEqual(self.resolve_and_connect("short.example.test"), ["ok", SHORT])
        self.assertEqual(self.resolve_and_connect("long.example.test"), ["ok", LONG])
        self.assertDecision(d, dst=SHORT, host="short.example.test")
        self.assertDecision(d, dst=LONG, host="long.example.test")
        # past the 1 s TTL but within the floor: a program connecting again still names it
        time.sleep(max(0, t0 + 2.5 - time.monotonic()))
        self.assertEqual(self.connect(SHORT), ["ok"])
        self.assertEqual(self.wait_decisions_to(d, SHORT, 80, 2)[1]["host"],
                         "short.example.test")
        # past the floor: the short name is forgotten, the long one (TTL 4x the floor) is not
        time.sleep(max(0, t0 + TTL_FLOOR + 1.5 - time.monotonic()))
        self.assertEqual(self.connect(SHORT), ["ok"])
        self.assertEqual(self.connect(LONG), ["ok"])
        self.assertIsNone(self.wait_decisions_to(d, SHORT, 80, 3)[2]["host"])
        self.assertEqual(self.wait_decisions_to(d, LONG, 80, 2)[1]["host"], "long.example.test")

    def test_ipv6_aaaa_over_ipv6_transport(self):
        self.set_resolver(PEER_V6)
        d = self.vigild("deny to v6.example.test\n")
        self.assertEqual(self.resolve_and_connect("v6.example.test", family="6"),
                         ["error", "ECONNREFUSED", V6])
        self.assertDecision(d, verdict="deny", dst=V6, host="v6.example.test", port=80)

    def test_dns_over_tcp(self):
        self.set_resolver(PEER_V4, "options use-vc")
        d = self.vigild("")
        self.assertEqual(self.resolve_and_connect("ok.example.test"), ["ok", OK])
        self.assertDecision(d, dst=OK, host="ok.example.test")
        # the query did go over TCP
        self.assertDecision(d, dst=PEER_V4, port=53, proto="tcp")

    def test_names_are_per_user(self):
        d = self.vigild("")
        self.assertEqual(self.resolve_and_connect("ok.example.test"), ["ok", OK])
        self.assertDecision(d, dst=OK, uid=0, host="ok.example.test")
        # nobody did not look the name up: their connection to the address is not named
        self.assertEqual(self.connect(OK, user=65534), ["ok"])
        self.assertIsNone(self.assertDecision(d, dst=OK, uid=65534)["host"])
        # nobody's own lookup names it for them
        self.assertEqual(self.resolve_and_connect("ok.example.test", user=65534), ["ok", OK])
        found = self.wait_decisions_to(d, OK, 80, 3)
        self.assertEqual([x["host"] for x in found if x["uid"] == "65534"],
                         [None, "ok.example.test"])

    def test_loopback_stub_resolver(self):
        # a caching stub on 127.0.0.53 in the client namespace, running as nobody, asks the
        # peer; root's name comes from the stub's answer over lo, not the stub's own lookup
        self.start_dnsmasq(self.nets.client, ["127.0.0.53"], ["--server=" + PEER_V4],
                           log=self.dnsmasq_log + ".stub")
        self.addCleanup(lambda: os.unlink(self.dnsmasq_log + ".stub"))
        self.set_resolver("127.0.0.53")
        d = self.vigild("deny to bad.example.test\n")
        self.assertEqual(self.resolve_and_connect("bad.example.test"),
                         ["error", "ECONNREFUSED", BAD])
        self.assertDecision(d, verdict="deny", dst=BAD, uid=0, host="bad.example.test")


class DnsPrompts(DnsSetup, DBusTestCase):
    """The prompt an agent gets carries the name the program looked up."""

    def resolve_and_connect_async(self, name):
        return self.nets.spawn(self.nets.client, [PYTHON, "-c", RESOLVE_AND_CONNECT, name, "80",
                                                  "4"], stdout=subprocess.PIPE, text=True)

    def test_prompt_carries_the_name_and_offers_its_domain(self):
        # the lookup itself is let through by a rule; the connection is asked about
        self.start_vigild("allow proto udp port 53\n")
        agent = self.agent()
        client = self.resolve_and_connect_async("ok.example.test")
        prompt = agent.wait_event("prompt")
        conn = prompt["connection"]
        self.assertEqual(conn["destination"], OK)
        self.assertEqual(conn["hostname"], "ok.example.test")
        self.assertEqual(conn["host-target"], "ok.example.test")
        self.assertEqual(conn["domain-target"], "*.example.test")
        self.assertTrue(agent.reply(prompt["request"], "allow", duration="forever",
                                    **{"host-scope": "domain"})["ok"])
        out, _ = client.communicate(timeout=15)
        self.assertEqual(out.split(), ["ok", OK])
        made = [r for r in self.rules().values() if r.get("to") == "*.example.test"]
        self.assertEqual(len(made), 1, self.rules())
        # the domain rule now decides another name of the domain without asking
        self.assertEqual(self.resolve_and_connect("www.example.test"), ["ok", OK])
        self.assertDecision(self.d, dst=OK, host="www.example.test", rule=str(made[0]["id"]))

    def test_prompt_without_a_name_has_no_hostname(self):
        self.start_vigild("allow proto udp port 53\n")
        agent = self.agent()
        client = self.nets.spawn(self.nets.client, [PYTHON, "-c", CONNECT, UNNAMED, "80"],
                                 stdout=subprocess.PIPE, text=True)
        conn = agent.wait_event("prompt")["connection"]
        self.assertEqual(conn["destination"], UNNAMED)
        self.assertNotIn("hostname", conn)
        self.assertEqual(conn["host-target"], UNNAMED)
        self.assertNotIn("domain-target", conn)
        client.kill()


if __name__ == "__main__":
    unittest.main(verbosity=2)
