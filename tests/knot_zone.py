"""DNS zones for tests: Debian's Knot, authoritative on a loopback address, serving zones
it signs itself (DNSSEC) and unsigned ones, with the trust anchor a resolver needs to
validate the signed ones. Rampart points `[delivery] resolvers` and `trust_anchor` at it.

    with KnotZones({"remote.example": ZONE}, signed={"remote.example"}) as dns:
        dns.address, dns.port, dns.anchor, dns.delivery_config()
"""

import os
import subprocess
import tempfile
import time

from harness import free_port


class KnotZones:
    def __init__(self, zones, signed=(), address="127.0.0.3", port=None):
        self.zones = dict(zones)   # name -> zone file text
        self.signed = set(signed)
        self.address = address
        self.port = port or free_port()
        self.dir = None
        self.process = None
        self.anchor = None

    def __enter__(self):
        self.dir = tempfile.TemporaryDirectory(prefix="rampart-knot-")
        root = self.dir.name
        # Readable by the server's user (it reads the anchor after dropping root).
        os.chmod(root, 0o755)
        for name, text in self.zones.items():
            with open(os.path.join(root, name + ".zone"), "w") as f:
                f.write(text)
        os.mkdir(os.path.join(root, "db"))
        zones = "".join(f"  - domain: {name}\n" + ("    dnssec-signing: on\n    dnssec-policy: test\n"
                                                   if name in self.signed else "")
                        for name in self.zones)
        with open(os.path.join(root, "knot.conf"), "w") as f:
            f.write(f"""server:
    rundir: "{root}"
    listen: {self.address}@{self.port}
database:
    storage: "{root}/db"
log:
  - target: stderr
    any: warning
policy:
  - id: test
    algorithm: ecdsap256sha256
    ksk-lifetime: 0
    zsk-lifetime: 0
template:
  - id: default
    storage: "{root}"
    file: "%s.zone"
    journal-content: none
zone:
{zones}""")
        self.process = subprocess.Popen(["knotd", "-c", os.path.join(root, "knot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        anchors = []
        for name in sorted(self.signed):
            # Signed once Knot serves the zone's key-signing key: the trust anchor.
            deadline = time.monotonic() + 30
            key = ""
            while not key and time.monotonic() < deadline:
                done = subprocess.run(["kdig", f"@{self.address}", "-p", str(self.port), "+short",
                                       "DNSKEY", name], capture_output=True, text=True)
                key = next((line for line in done.stdout.splitlines() if line.startswith("257 ")), "")
                if not key:
                    time.sleep(0.2)
            if not key:
                self.__exit__(None, None, None)
                raise AssertionError(f"Knot did not serve the signed zone {name}")
            anchors.append(f"{name}. IN DNSKEY {key}\n")
        self.anchor = os.path.join(root, "anchor")
        with open(self.anchor, "w") as f:
            f.write("".join(anchors))
        os.chmod(self.anchor, 0o644)
        return self

    def delivery_config(self, anchor=None):
        """The [delivery] section that makes Rampart ask this server."""
        return (f'[delivery]\nresolvers = ["{self.address}:{self.port}"]\n'
                f'trust_anchor = "{anchor or self.anchor}"\n')

    def __exit__(self, *exc):
        if self.process:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
        if self.dir:
            self.dir.cleanup()
            self.dir = None
