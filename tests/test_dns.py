"""Routing mail by DNS (RFC 5321 section 5, RFC 7505, DNSSEC) against a real
authoritative server: Debian's Knot serves a zone it signs itself and an unsigned one
on a loopback address, and `rampart route` looks them up through libunbound with the
test zone's key as its trust anchor, as delivery will."""

import os
import subprocess
import tempfile
import unittest

from harness import RAMPART
from knot_zone import KnotZones

SIGNED_ZONE = """$ORIGIN remote.example.
$TTL 300
@ SOA ns.remote.example. admin.remote.example. 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.3
@ MX 20 backup
@ MX 10 mx
@ MX 10 mx2
mx A 127.0.0.2
mx AAAA ::1
mx2 CNAME mx
backup A 127.0.0.4
_25._tcp.mx TLSA 3 1 1 2bb1a4d8a7cbd64b5da0d3a5a1f3c5e5a1f3c5e5a1f3c5e5a1f3c5e5a1f3c5e5
null MX 0 .
nohost MX 10 missing.remote.example.
"""

PLAIN_ZONE = """$ORIGIN plain.example.
$TTL 300
@ SOA ns.plain.example. admin.plain.example. 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.3
@ A 127.0.0.2
@ AAAA ::1
"""


class Dns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dns = KnotZones({"remote.example": SIGNED_ZONE, "plain.example": PLAIN_ZONE},
                            signed={"remote.example"}).__enter__()
        cls.dir = tempfile.TemporaryDirectory(prefix="rampart-dns-")
        cls.config = cls.write_config("good", cls.dns.anchor)

    @classmethod
    def write_config(cls, name, anchor):
        path = os.path.join(cls.dir.name, name + ".toml")
        with open(path, "w") as f:
            f.write(f'data_dir = "{cls.dir.name}/data"\n' + cls.dns.delivery_config(anchor))
        return path

    @classmethod
    def tearDownClass(cls):
        cls.dns.__exit__(None, None, None)
        cls.dir.cleanup()

    def route(self, domain, config=None):
        done = subprocess.run([RAMPART, "route", domain, "--config", config or self.config],
                              capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout

    def test_mx_hosts_in_order_with_their_addresses(self):
        code, out = self.route("remote.example")
        self.assertEqual(code, 0, out)
        lines = out.splitlines()
        self.assertEqual(lines[0], "remote.example: MX, DNSSEC secure")
        hosts = [line.split()[1] for line in lines if line.startswith("  ") and not line.startswith("    ")]
        # Preference 10 first (the two in either order), then 20.
        self.assertEqual(sorted(hosts[:2]), ["mx.remote.example", "mx2.remote.example"])
        self.assertEqual(hosts[2], "backup.remote.example")
        # IPv6 before IPv4; a CNAME followed to its addresses.
        for line in lines:
            if line.startswith("  10 mx"):
                self.assertIn("::1 127.0.0.2  DNSSEC secure", line)
        self.assertIn("    TLSA 3 1 1 2bb1a4d8", out)

    def test_null_mx_and_a_missing_domain_are_permanent(self):
        code, out = self.route("null.remote.example")
        self.assertEqual((code, out.strip()), (1, "null.remote.example: null MX (RFC 7505): accepts no mail"))
        code, out = self.route("nowhere.remote.example")
        self.assertEqual((code, out.strip()), (1, "nowhere.remote.example: no such domain"))

    def test_no_mx_means_the_domain_itself_and_unsigned_is_insecure(self):
        code, out = self.route("plain.example")
        self.assertEqual(code, 0, out)
        self.assertIn("plain.example: no MX, the domain itself, DNSSEC insecure", out)
        self.assertIn("0 plain.example  ::1 127.0.0.2  DNSSEC insecure", out)

    def test_an_mx_host_without_addresses_cannot_be_routed(self):
        code, out = self.route("nohost.remote.example")
        self.assertEqual(code, 1)
        self.assertIn("cannot be routed now", out)

    def test_a_wrong_trust_anchor_makes_answers_bogus(self):
        wrong = os.path.join(self.dir.name, "wrong-anchor")
        with open(wrong, "w") as f:
            # A key that did not sign the zone.
            f.write("remote.example. IN DNSKEY 257 3 13 "
                    "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n")
        code, out = self.route("remote.example", self.write_config("wrong", wrong))
        self.assertEqual(code, 1, out)
        self.assertIn("DNSSEC validation failed", out)
        # The unsigned zone is outside the anchor: still insecure, still routed.
        code, out = self.route("plain.example", self.write_config("wrong", wrong))
        self.assertEqual(code, 0, out)


if __name__ == "__main__":
    unittest.main()
