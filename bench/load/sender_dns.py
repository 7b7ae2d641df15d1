#!/usr/bin/env python3
"""The sending domain of the smtp-checks scenario, as DNS serves it: Knot
(tests/knot_zone.py) authoritative for sender.example on ADDRESS:PORT with
the SPF record allowing 127.0.0.1, the DKIM key (selector s1) made from --key, and
a p=reject DMARC record. Runs until SIGTERM; prints "ready" once Knot answers."""
import argparse
import base64
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))
from knot_zone import KnotZones  # noqa: E402

# Not under .test, which resolvers (unbound among them) answer themselves (RFC 6761).
DOMAIN = "sender.example"


def txt(value):
    return " ".join('"' + value[i:i + 255] + '"' for i in range(0, len(value), 255))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", default="127.0.0.3")
    parser.add_argument("--port", type=int, default=53)
    parser.add_argument("--key", required=True, help="the signer's private key (PEM)")
    args = parser.parse_args()
    public = subprocess.run(["openssl", "pkey", "-in", args.key, "-pubout", "-outform", "DER"],
                            check=True, capture_output=True).stdout
    record = "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode()
    zone = (f"$ORIGIN {DOMAIN}.\n$TTL 3600\n@ SOA ns admin 1 3600 600 86400 300\n@ NS ns\n"
            f"ns A {args.address}\n"
            '@ TXT "v=spf1 ip4:127.0.0.1 -all"\n'
            f"s1._domainkey TXT {txt(record)}\n"
            '_dmarc TXT "v=DMARC1; p=reject"\n')
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with KnotZones({DOMAIN: zone}, address=args.address, port=args.port):
        for _ in range(100):
            done = subprocess.run(["kdig", f"@{args.address}", "-p", str(args.port), "+short", "TXT",
                                   f"_dmarc.{DOMAIN}"], capture_output=True, text=True)
            if "DMARC1" in done.stdout:
                break
            time.sleep(0.1)
        print("ready", flush=True)
        while not stop:
            time.sleep(0.2)


if __name__ == "__main__":
    main()
