#!/usr/bin/python3
"""make-corpus.py: writes the seed corpora of the fuzz targets into tests/fuzz/corpus/.

The seeds are committed; rerun this only to change them. Each seed is a small, valid
input of the kind the target parses, so the fuzzer starts from the interesting paths.
"""
import os
import socket
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def name(text):
    if not text:
        return b"\0"
    return b"".join(bytes([len(l)]) + l.encode() for l in text.split(".")) + b"\0"


def header(qid, flags, an=0, ns=0, ar=0):
    return struct.pack("!6H", qid, flags, 1, an, ns, ar)


def query(qid, qname, qtype=1):
    return header(qid, 0x0100) + name(qname) + struct.pack("!2H", qtype, 1)


def rr(owner, rtype, ttl, rdata):
    return owner + struct.pack("!2HIH", rtype, 1, ttl, len(rdata)) + rdata


PTR_Q = b"\xc0\x0c"  # a pointer to the question's name


def a(addr):
    return socket.inet_aton(addr)


def aaaa(addr):
    return socket.inet_pton(socket.AF_INET6, addr)


def answer(qid, qname, qtype, records, ns=b"", ar=b"", counts=None):
    an, nsc, arc = counts or (len(records), 1 if ns else 0, 1 if ar else 0)
    return (header(qid, 0x8180, an, nsc, arc) + name(qname) + struct.pack("!2H", qtype, 1)
            + b"".join(records) + ns + ar)


def dns_messages():
    opt = b"\0" + struct.pack("!2HIH", 41, 1232, 0, 0)
    cname_target = name("cdn.example.net")
    return {
        "query-a": query(0x1234, "ok.example.test"),
        "query-aaaa": query(0x1235, "v6.example.test", 28),
        "answer-a": answer(0x1234, "ok.example.test", 1, [rr(PTR_Q, 1, 60, a("10.201.0.10"))]),
        "answer-aaaa": answer(0x1235, "v6.example.test", 28,
                              [rr(PTR_Q, 28, 60, aaaa("fd00:201::10"))]),
        "answer-cname-chain": answer(
            7, "www.example.com", 1,
            [rr(PTR_Q, 5, 300, cname_target),
             rr(b"\xc0\x2d", 1, 120, a("198.51.100.7")),
             rr(b"\xc0\x2d", 28, 120, aaaa("2001:db8::7"))],
            ar=opt),
        "answer-nxdomain": header(9, 0x8183) + name("nope.example") + struct.pack("!2H", 1, 1),
        "answer-pointer-loop": answer(7, "x.example", 1, [rr(b"\xc0\x1b", 1, 60, a("1.2.3.4"))]),
        "answer-oversized-count": answer(7, "x.example", 1, [rr(PTR_Q, 1, 60, a("1.2.3.4"))],
                                         counts=(65535, 0, 0)),
    }


def ipv4(proto, src, dst, payload):
    total = 20 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0x4000, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return hdr + payload


def ipv6(proto, src, dst, payload, ext=b""):
    first = proto
    if ext:
        first = 0  # hop-by-hop, then proto
        ext = bytes([proto, 0]) + ext[2:]
    return (struct.pack("!IHBB", 0x60000000, len(ext) + len(payload), first, 64)
            + socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
            + ext + payload)


def udp(sport, dport, data):
    return struct.pack("!4H", sport, dport, 8 + len(data), 0) + data


def tcp(sport, dport, seq, flags, data=b""):
    return struct.pack("!2HIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0) + data


def watch_record(received, uid_known, seconds, packet):
    flags = (1 if received else 0) | (2 if uid_known else 0) | (seconds << 2)
    return struct.pack("!BH", flags, len(packet)) + packet


def watch_seeds(msgs):
    c4, s4 = "10.0.0.1", "10.0.0.53"
    c6, s6 = "fd00:201::1", "fd00:201::2"
    q, ans = msgs["query-a"], msgs["answer-a"]
    framed_q = struct.pack("!H", len(q)) + q
    framed_a = struct.pack("!H", len(ans)) + ans
    return {
        "udp4-query-answer": watch_record(False, True, 0, ipv4(17, c4, s4, udp(40000, 53, q)))
        + watch_record(True, False, 0, ipv4(17, s4, c4, udp(53, 40000, ans))),
        "udp6-query-answer": watch_record(False, True, 0, ipv6(17, c6, s6, udp(5555, 53,
                                                                              msgs["query-aaaa"])))
        + watch_record(True, False, 1, ipv6(17, s6, c6, udp(53, 5555, msgs["answer-aaaa"]),
                                            ext=b"\0\0" + b"\x01\x04\0\0\0\0")),
        "unsolicited": watch_record(True, False, 0, ipv4(17, s4, c4, udp(53, 40000, ans))),
        "tcp-split": watch_record(False, True, 0, ipv4(6, c4, s4, tcp(41000, 53, 100, 0x02)))
        + watch_record(False, True, 0, ipv4(6, c4, s4, tcp(41000, 53, 101, 0x18, framed_q)))
        + watch_record(True, False, 0, ipv4(6, s4, c4, tcp(53, 41000, 900, 0x12)))
        + watch_record(True, False, 0, ipv4(6, s4, c4, tcp(53, 41000, 901, 0x18, framed_a[:7])))
        + watch_record(True, False, 0, ipv4(6, s4, c4, tcp(53, 41000, 901, 0x18, framed_a[:7])))
        + watch_record(True, False, 0, ipv4(6, s4, c4, tcp(53, 41000, 908, 0x19, framed_a[7:]))),
        "expired": watch_record(False, True, 0, ipv4(17, c4, s4, udp(40000, 53, q)))
        + watch_record(True, False, 40, ipv4(17, s4, c4, udp(53, 40000, ans))),
    }


def packet_seeds():
    c4, s4 = "10.201.0.1", "10.201.0.2"
    c6, s6 = "fd00:201::1", "fd00:201::2"
    icmp_echo = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"ping"
    icmp6_echo = struct.pack("!BBHHH", 128, 0, 0, 1, 1) + b"ping"
    frag = struct.pack("!BBHI", 6, 0, 0, 42)
    syn4 = ipv4(6, c4, s4, tcp(40000, 443, 1, 0x02))
    return {
        "tcp4-syn": b"\0\0" + syn4,
        "tcp4-syn-cut": struct.pack("!H", len(syn4) + 1000) + syn4,
        "udp4": b"\0\0" + ipv4(17, c4, s4, udp(40000, 53, b"x" * 12)),
        "icmp4-echo": b"\0\0" + ipv4(1, c4, s4, icmp_echo),
        "tcp6-syn": b"\0\0" + ipv6(6, c6, s6, tcp(40000, 80, 1, 0x02)),
        "udp6-hbh": b"\0\0" + ipv6(17, c6, s6, udp(40000, 5353, b"y"),
                                   ext=b"\0\0" + b"\x01\x04\0\0\0\0"),
        "icmp6-echo": b"\0\0" + ipv6(58, c6, s6, icmp6_echo),
        "tcp6-fragment": b"\0\0" + ipv6(44, c6, s6, frag + tcp(40000, 80, 1, 0x02)),
    }


def nflog_message(hook, payload, group=53054):
    """One NFULNL_MSG_PACKET: nfgenmsg, NFULA_PACKET_HDR, NFULA_PAYLOAD."""
    def attr(kind, data):
        a = struct.pack("=HH", 4 + len(data), kind) + data
        return a + b"\0" * ((4 - len(a) % 4) % 4)
    body = struct.pack("=BBH", socket.AF_INET, 0, socket.htons(group))
    body += attr(1, struct.pack("!HBB", 0x0800, hook, 0))  # NFULA_PACKET_HDR
    body += attr(9, payload)  # NFULA_PAYLOAD
    return struct.pack("=IHHII", 16 + len(body), (4 << 8) | 0, 0, 0, 0) + body


def pcapng_header(comment):
    """A Section Header Block with a comment, as vigild writes it (little-endian here)."""
    opt = struct.pack("<HH", 1, len(comment)) + comment + b"\0" * ((4 - len(comment) % 4) % 4)
    opt += struct.pack("<HH", 0, 0)
    length = 28 + len(opt)
    return struct.pack("<IIIHHq", 0x0A0D0D0A, length, 0x1A2B3C4D, 1, 0, -1) + opt + \
        struct.pack("<I", length)


def capture_seeds():
    """fuzz-capture: copied packets (no length prefix), an NFLOG datagram, a file's start."""
    seeds = {k: v[2:] for k, v in packet_seeds().items()}
    syn4 = seeds["tcp4-syn"]
    seeds["nflog-out"] = nflog_message(3, syn4)  # NF_INET_LOCAL_OUT
    seeds["nflog-two"] = nflog_message(3, syn4) + nflog_message(1, syn4)
    seeds["pcapng-header"] = pcapng_header(b"vigild capture, rule 7: /usr/bin/curl")
    return seeds


RULE_SEEDS = [
    "allow app /usr/bin/apt-get to *.debian.org port 80,443 proto tcp",
    "deny  app /usr/bin/curl port 443",
    "deny  to 203.0.113.0/24",
    "allow user alice app /usr/lib/firefox-esr/firefox-esr",
    "drop  app /usr/bin/nc proto udp",
    "allow app /usr/bin/ssh to git.example.org port 22 until 2026-12-31T00:00:00Z",
    "deny app unknown",
    'allow app "/opt/My App/bin/app" to fd00::/8 port 1000-2000,3000 # a note',
    "deny user 1000 to example.com proto icmp",
    "allow to 10.0.0.1 port any proto any",
]


def dbus_args_seeds():
    """fuzz-dbus-args: a method byte (the target's order), then the arguments serialised."""
    import gi
    gi.require_version("GLib", "2.0")
    from gi.repository import GLib

    def v(t, x):
        return GLib.Variant(t, x)

    def vardict(pairs):
        return GLib.Variant.new_array(GLib.VariantType("{sv}"), [
            GLib.Variant.new_dict_entry(GLib.Variant("s", k), GLib.Variant("v", x))
            for k, x in pairs])

    def seed(method, *children):
        return bytes([method]) + GLib.Variant.new_tuple(*children).get_data_as_bytes().get_data()

    set_config, add_rule, update_rule, import_rules, get_connections, reply = range(6)
    return {
        "set-config": seed(set_config, vardict([("DefaultAction", v("s", "deny")),
                                                ("PromptTimeout", v("u", 30)),
                                                ("FailMode", v("s", "closed"))])),
        "set-config-twice": seed(set_config, vardict([("PromptTimeout", v("u", 5))] * 3)),
        "add-rule": seed(add_rule, vardict([
            ("action", v("s", "allow")), ("program", v("s", "/usr/bin/curl")),
            ("to", v("s", "*.example.org")), ("port", v("s", "80,443")),
            ("proto", v("s", "tcp")), ("note", v("s", "web")),
            ("enabled", v("b", True))])),
        "add-rule-until": seed(add_rule, vardict([
            ("action", v("s", "deny")), ("uid", v("u", 1000)), ("lifetime", v("s", "until")),
            ("until", v("x", 4102444800)), ("sha256", v("s", "0" * 64))])),
        "add-rule-text": seed(add_rule, vardict([("text", v("s", RULE_SEEDS[0]))])),
        "update-rule": seed(update_rule, v("t", 7), vardict([("port", v("s", "any")),
                                                             ("user", v("s", "all"))])),
        "import-rules": seed(import_rules, v("s", "\n".join(RULE_SEEDS) + "\n")),
        "get-connections": seed(get_connections, vardict([
            ("program", v("s", "/usr/bin/curl")), ("verdict", v("s", "deny")),
            ("since", v("x", 0)), ("after", v("t", 5)), ("uid", v("u", 1000)),
            ("limit", v("u", 10))])),
        "reply": seed(reply, v("t", 1), v("s", "allow"), vardict([
            ("duration", v("s", "seconds")), ("seconds", v("u", 600)),
            ("host-scope", v("s", "domain")), ("port-scope", v("s", "any"))])),
    }


def conntrack_seeds():
    """fuzz-conntrack: ctnetlink messages: a flow's end with counters, a dump entry (IPv6)."""
    def attr(kind, payload, nested=False):
        kind |= 0x8000 if nested else 0
        length = 4 + len(payload)
        return struct.pack("=HH", length, kind) + payload + b"\0" * (-length % 4)

    def message(msg_type, family, src, dst, with_counters):
        ip_kind = (1, 2) if family == socket.AF_INET else (3, 4)  # CTA_IP_V4/V6_SRC, _DST
        ip = (attr(ip_kind[0], socket.inet_pton(family, src)) +
              attr(ip_kind[1], socket.inet_pton(family, dst)))
        proto = (attr(1, bytes([6])) + attr(2, struct.pack("!H", 40000)) +  # PROTO_NUM, ports
                 attr(3, struct.pack("!H", 443)))
        body = attr(1, attr(1, ip, True) + attr(2, proto, True), True)  # TUPLE_ORIG: IP, PROTO
        body += attr(8, struct.pack("!I", 0x00100000))  # CTA_MARK
        if with_counters:
            for kind, packets, octets in ((9, 12, 900), (10, 800, 1049000)):  # ORIG, REPLY
                body += attr(kind, attr(1, struct.pack("!Q", packets)) +
                             attr(2, struct.pack("!Q", octets)), True)
        payload = struct.pack("=BBH", family, 0, 0) + body  # nfgenmsg
        return struct.pack("=IHHII", 16 + len(payload), (1 << 8) | msg_type, 0, 0, 0) + payload

    return {
        "destroy-v4": message(2, socket.AF_INET, "10.0.0.1", "10.0.0.2", True),
        "dump-v6": message(0, socket.AF_INET6, "fd00::1", "fd00::2", False),
    }


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for key, data in seeds.items():
        with open(os.path.join(d, key), "wb") as f:
            f.write(data)


def main():
    msgs = dns_messages()
    write("fuzz-conntrack", conntrack_seeds())
    write("fuzz-dns", msgs)
    write("fuzz-dns-watch", watch_seeds(msgs))
    write("fuzz-packet", packet_seeds())
    write("fuzz-capture", capture_seeds())
    write("fuzz-rule", {"rule-%02d" % i: (line.encode()) for i, line in enumerate(RULE_SEEDS)})
    write("fuzz-dbus-args", dbus_args_seeds())


if __name__ == "__main__":
    main()
