#!/usr/bin/env python3
"""Does the server at HOST:PORT serve PROTOCOL (smtp, imap or http)? Exit 0 if
it greets as a working server (220, * OK, or for JMAP an HTTP answer to
/.well-known/jmap other than 404 or 503),
1 otherwise, printing what it said.

    probe.py smtp|imap|http HOST PORT
"""
import socket
import sys


def main() -> int:
    protocol, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if not (host.startswith("127.") or host == "::1"):
        sys.exit("probe: loopback addresses only")
    try:
        with socket.create_connection((host, port), timeout=5) as conn:
            conn.settimeout(5)
            if protocol == "http":
                conn.sendall(f"GET /.well-known/jmap HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            line = conn.makefile("rb").readline(512)
    except OSError as error:
        print(f"no answer: {error}")
        return 1
    served = {"smtp": line.startswith(b"220"), "imap": line.startswith(b"* OK") or line.startswith(b"* PREAUTH"),
              "http": line.startswith(b"HTTP/") and line.split()[1:2] not in ([b"404"], [b"503"])}[protocol]
    print(line.decode(errors="replace").strip())
    return 0 if served else 1


if __name__ == "__main__":
    sys.exit(main())
