#!/usr/bin/python3
"""Test peer for Vigil's end-to-end tests: runs in the "remote" network namespace.

Serves a minimal HTTP response on each TCP port and echoes UDP datagrams, on IPv4
and IPv6, until killed. Prints "ready" once every socket listens.
"""
import selectors
import socket
import sys


def main():
    tcp_ports = [int(p) for p in sys.argv[1].split(",") if p]
    udp_ports = [int(p) for p in sys.argv[2].split(",") if p]
    sel = selectors.DefaultSelector()
    for port in tcp_ports:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", port))
        s.listen(512)
        sel.register(s, selectors.EVENT_READ, "tcp")
    for port in udp_ports:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", port))
        sel.register(s, selectors.EVENT_READ, "udp")
    print("ready", flush=True)
    body = b"hello from the peer\n"
    response = (b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                % len(body)) + body
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if key.data == "tcp":
                try:
                    conn, _ = s.accept()
                except OSError:
                    continue
                conn.settimeout(0.5)
                try:
                    conn.recv(4096)
                    conn.sendall(response)
                except OSError:
                    pass
                conn.close()
            else:
                data, addr = s.recvfrom(65536)
                s.sendto(data, addr)


if __name__ == "__main__":
    main()
