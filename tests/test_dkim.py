"""DKIM signing (RFC 6376, RFC 8463) of mail leaving for other servers, checked by an
independent verifier: Debian's dkimpy, with the keys `rampart dns-records` prints."""

import os
import smtplib
import sqlite3
import subprocess
import unittest

import dkim

from harness import Instance
from knot_zone import KnotZones

PASSWORD = "correct horse battery"


def txt_value(zone_value):
    """A TXT record's text from its zone-file form ("a" "b" -> ab)."""
    parts = zone_value.split('"')[1::2]
    return "".join(parts)


class Dkim(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.instance = Instance(["smtp", "submission", "imap"])
        cls.instance.add_account("alice@example.test", PASSWORD)
        cls.instance.start()

    @classmethod
    def tearDownClass(cls):
        cls.instance.close()

    def records(self, *args):
        done = self.instance.cli(*args)
        self.assertEqual(done.returncode, 0, done.stderr)
        out = {}
        for line in done.stdout.splitlines():
            name, _, kind, value = line.split("\t", 3)
            out.setdefault((name, kind), []).append(value)
        return out

    def dns(self):
        """What dkimpy asks DNS, answered from `rampart dns-records`."""
        records = self.records("dns-records", "example.test")

        def lookup(name, timeout=5):
            name = name.decode() if isinstance(name, bytes) else name
            values = records.get((name.rstrip(".") + ".", "TXT"), [])
            return txt_value(values[0]).encode() if values else None

        return lookup

    def send(self, message, recipient="bob@remote.test"):
        with smtplib.SMTP("127.0.0.1", self.instance.ports["submission"], timeout=30) as client:
            client.login("alice@example.test", PASSWORD)
            client.sendmail("alice@example.test", [recipient], message)

    def last_queued(self):
        """The bytes of the newest message in the outbound queue."""
        with sqlite3.connect(os.path.join(self.instance.data, "rampart.db")) as db:
            (blob_id,) = db.execute("SELECT blob_id FROM queue ORDER BY id DESC LIMIT 1").fetchone()
        return self.instance.read_blob(blob_id)

    def verify_all(self, signed):
        lookup = self.dns()
        verifier = dkim.DKIM(signed)
        count = signed.count(b"DKIM-Signature:")
        self.assertEqual(count, 2, signed[:600])
        for index in range(count):
            self.assertTrue(verifier.verify(idx=index, dnsfunc=lookup), (index, signed[:800]))
        return signed

    def test_every_kind_of_message_verifies_with_both_keys(self):
        messages = {
            "plain": b"From: Alice <alice@example.test>\r\nTo: bob@remote.test\r\nSubject: hello\r\n"
                     b"Date: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <a1@example.test>\r\n\r\n"
                     b"Hello Bob.\r\n",
            "8-bit and trailing space": "From: alice@example.test\r\nTo: bob@remote.test\r\n"
                     "Subject: =?utf-8?q?gr=C3=BC=C3=9Fe?=\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                     "Grüße aus Köln   \r\n\t tabs\r\n\r\n\r\n".encode(),
            "long lines and folded headers": b"From: alice@example.test\r\nTo: bob@remote.test,\r\n"
                     b"\tcarol@remote.test\r\nSubject: a subject\r\n  folded  over\r\n   three lines\r\n\r\n"
                     + b"x" * 990 + b"\r\n" + b"y " * 400 + b"\r\n",
            "attachment": b"From: alice@example.test\r\nTo: bob@remote.test\r\nSubject: report\r\n"
                     b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                     b"--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
                     b"--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
                     b"Content-Disposition: attachment; filename=\"r.bin\"\r\n\r\nAAECAwQFBgcICQ==\r\n--b1--\r\n",
            "empty body": b"From: alice@example.test\r\nTo: bob@remote.test\r\nSubject: nothing\r\n\r\n",
        }
        for name, message in messages.items():
            with self.subTest(name):
                self.send(message)
                signed = self.verify_all(self.last_queued())
                self.assertIn(b"d=example.test;", signed)
                self.assertIn(b"a=ed25519-sha256;", signed)
                # Changed in transit: no longer verifies.
                tampered = signed.replace(b"\r\n\r\n", b"\r\n\r\nX", 1)
                self.assertFalse(dkim.verify(tampered, dnsfunc=self.dns()))

    def test_a_second_from_cannot_be_added(self):
        self.send(b"From: alice@example.test\r\nTo: bob@remote.test\r\nSubject: once\r\n\r\nbody\r\n")
        signed = self.verify_all(self.last_queued())
        self.assertRegex(signed, rb"h=from:from:")
        forged = b"From: mallory@example.test\r\n" + signed
        self.assertFalse(dkim.verify(forged, dnsfunc=self.dns()))

    def test_rotation_signs_with_the_new_selector(self):
        before = self.records("domain", "dkim", "example.test")
        after = self.records("domain", "dkim", "example.test", "--rotate")
        self.assertEqual(len(before), 2)
        self.assertEqual(len(after), 2)
        self.assertFalse(set(before) & set(after), "new selectors")
        self.send(b"From: alice@example.test\r\nTo: bob@remote.test\r\nSubject: rotated\r\n\r\nbody\r\n")
        signed = self.verify_all(self.last_queued())
        for (name, _kind) in after:
            self.assertIn(b"s=" + name.split(".")[0].encode() + b";", signed)

    def test_local_mail_and_foreign_domains_are_not_signed(self):
        self.instance.add_account("bob@example.test", PASSWORD)
        self.send(b"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: in house\r\n\r\nhi\r\n",
                  recipient="bob@example.test")
        db = sqlite3.connect(os.path.join(self.instance.data, "rampart.db"))
        self.addCleanup(db.close)
        for (blob_id,) in db.execute("SELECT b.id FROM messages m JOIN blobs b ON b.id = m.blob_id"):
            self.assertNotIn(b"DKIM-Signature", self.instance.read_blob(blob_id))

    def test_dns_records_are_complete(self):
        records = self.records("dns-records", "example.test")
        kinds = {(name, kind) for name, kind in records}
        self.assertIn(("example.test.", "MX"), kinds)
        self.assertEqual(records[("example.test.", "MX")], ["10 mail.test."])
        self.assertEqual(txt_value(records[("example.test.", "TXT")][0]), "v=spf1 mx -all")
        self.assertTrue(txt_value(records[("_dmarc.example.test.", "TXT")][0]).startswith("v=DMARC1; p="))
        self.assertIn(("_smtp._tls.example.test.", "TXT"), kinds)
        self.assertIn(("_submission._tcp.example.test.", "SRV"), kinds)
        self.assertIn(("_imap._tcp.example.test.", "SRV"), kinds)
        self.assertNotIn(("_pop3s._tcp.example.test.", "SRV"), kinds)  # not configured
        keys = [name for name, kind in kinds if "._domainkey." in name]
        self.assertEqual(len(keys), 2)
        # Every TXT string within the 255-byte limit of RFC 1035.
        for (name, kind), values in records.items():
            for value in values:
                if kind == "TXT":
                    self.assertTrue(all(len(part) <= 255 for part in value.split('"')[1::2]), name)
        missing = self.instance.cli("dns-records", "nowhere.test")
        self.assertNotEqual(missing.returncode, 0)

    def test_dns_records_load_into_a_signed_zone_that_verifies_the_signatures(self):
        """The output of `rampart dns-records` pasted into a real zone: Knot loads and signs
        it, and dkimpy verifies a message with the keys Knot then serves."""
        printed = self.instance.cli("dns-records", "example.test")
        self.assertEqual(printed.returncode, 0, printed.stderr)
        zone = ("$TTL 300\nexample.test. SOA ns.example.test. admin.example.test. 1 3600 600 86400 300\n"
                "example.test. NS ns.example.test.\nns.example.test. A 127.0.0.3\n" + printed.stdout)
        with KnotZones({"example.test": zone}, signed={"example.test"}) as knot:
            def kdig(*query):
                done = subprocess.run(["kdig", f"@{knot.address}", "-p", str(knot.port), "+short",
                                       *query], capture_output=True, text=True, timeout=30)
                return done.stdout.strip()

            self.assertEqual(kdig("MX", "example.test"), "10 mail.test.")
            self.assertIn("v=TLSRPTv1", kdig("TXT", "_smtp._tls.example.test"))
            self.assertTrue(kdig("SRV", "_submission._tcp.example.test").endswith("mail.test."))

            def lookup(name, timeout=5):
                name = name.decode() if isinstance(name, bytes) else name
                answer = kdig("TXT", name)
                return txt_value(answer).encode() if answer else None

            self.send(b"From: alice@example.test\r\nTo: bob@remote.test\r\nSubject: zone\r\n\r\nhi\r\n")
            signed = self.last_queued()
            verifier = dkim.DKIM(signed)
            for index in range(signed.count(b"DKIM-Signature:")):
                self.assertTrue(verifier.verify(idx=index, dnsfunc=lookup), index)


if __name__ == "__main__":
    unittest.main()
