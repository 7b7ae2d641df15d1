"""The MX's sender checks end to end (docs/filtering.md): Knot serves the senders' SPF,
DKIM and DMARC records; messages signed by Debian's dkimpy arrive over SMTP from
127.0.0.1; Rampart's Authentication-Results must agree with dkimpy (the oracle for
DKIM) on the same keys and with the records' evident SPF answers, DMARC's reject is
refused at the end of DATA with 550 5.7.1, its quarantine lands in Junk, and an
Authentication-Results field claiming to be ours is removed."""

import base64
import imaplib
import os
import re
import sqlite3
import tempfile
import time
import smtplib
import subprocess
import urllib.request
import unittest

import dkim

from harness import Instance
from knot_zone import KnotZones
from opendmarc_oracle import SPF_FAIL, SPF_NONE, SPF_PASS, OpenDmarc
from test_sieve import Sieve

PASSWORD = "correct horse battery"


def zone(name, records):
    return (f"$ORIGIN {name}.\n$TTL 300\n@ SOA ns.{name}. admin.{name}. 1 3600 600 86400 300\n"
            f"@ NS ns\nns A 127.0.0.3\n{records}")


def txt(value):
    """A TXT record's value in zone-file form, in strings of at most 255 bytes."""
    return " ".join('"' + value[i:i + 255] + '"' for i in range(0, len(value), 255))


class SenderChecks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.private = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                                      "rsa_keygen_bits:2048"], check=True, capture_output=True).stdout
        public = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"], input=cls.private,
                                check=True, capture_output=True).stdout
        cls.key_record = "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode()
        zones = {
            # Passes everything: SPF allows 127.0.0.1, DKIM key published, DMARC reject.
            "good.example": zone("good.example",
                                 '@ TXT "v=spf1 ip4:127.0.0.1 -all"\n'
                                 f"s1._domainkey TXT {txt(cls.key_record)}\n"
                                 '_dmarc TXT "v=DMARC1; p=reject"\n'
                                 'bounces TXT "v=spf1 ip4:127.0.0.1 -all"\n'),
            # Not allowed to send from here, no signature, reject: refused.
            "forged.example": zone("forged.example",
                                   '@ TXT "v=spf1 ip4:192.0.2.1 -all"\n'
                                   '_dmarc TXT "v=DMARC1; p=reject"\n'),
            # The same with quarantine: to Junk.
            "doubtful.example": zone("doubtful.example",
                                     '@ TXT "v=spf1 -all"\n'
                                     '_dmarc TXT "v=DMARC1; p=quarantine"\n'),
            # A subdomain under its organizational domain's record with sp=none.
            "parent.example": zone("parent.example",
                                   '_dmarc TXT "v=DMARC1; p=reject; sp=none"\n'
                                   'news TXT "v=spf1 -all"\n'),
            # No records at all.
            "plain.example": zone("plain.example", ""),
            # Strict alignment for both methods.
            "strict.example": zone("strict.example",
                                   '@ TXT "v=spf1 ip4:127.0.0.1 -all"\n'
                                   'bounces TXT "v=spf1 ip4:127.0.0.1 -all"\n'
                                   f"s1._domainkey TXT {txt(cls.key_record)}\n"
                                   '_dmarc TXT "v=DMARC1; p=reject; adkim=s; aspf=s"\n'),
        }
        cls.dns = KnotZones(zones).__enter__()
        extra = (cls.dns.delivery_config() + "[filter]\nsender_checks = true\n"
                 'arc_trusted_sealers = ["good.example"]\n'
                 '[http]\nmetrics_accounts = ["bob@example.test"]\n')
        cls.instance = Instance(["smtp", "imap", "http", "managesieve"], extra=extra)
        cls.instance.add_account("bob@example.test", PASSWORD)
        cls.instance.start()

    @classmethod
    def tearDownClass(cls):
        cls.instance.close()
        cls.dns.__exit__(None, None, None)

    def kdig_txt(self, name):
        done = subprocess.run(["kdig", f"@{self.dns.address}", "-p", str(self.dns.port), "+short",
                               "TXT", name], capture_output=True, text=True, timeout=30)
        return "".join(done.stdout.strip().split('"')[1::2]).encode() or None

    def message(self, sender, subject, sign=False):
        raw = (f"From: {sender}\r\nTo: bob@example.test\r\nSubject: {subject}\r\n"
               f"Message-ID: <{subject}@test>\r\n"
               "Authentication-Results: mail.test; spf=pass; dkim=pass; dmarc=pass\r\n"
               f"\r\nHello from {sender}.\r\n").encode()
        if sign:
            domain = sender.split("@")[1].encode()
            signature = dkim.sign(raw, b"s1", domain, self.private,
                                  include_headers=[b"from", b"to", b"subject", b"message-id"])
            raw = signature + raw
            # The oracle: dkimpy verifies it with the keys Knot serves.
            self.assertTrue(dkim.verify(raw, dnsfunc=lambda name, timeout=5: self.kdig_txt(
                name.decode() if isinstance(name, bytes) else name)))
        return raw

    def send(self, sender, raw):
        with smtplib.SMTP("127.0.0.1", self.instance.ports["smtp"], local_hostname="client.test",
                          timeout=30) as client:
            client.sendmail(sender, ["bob@example.test"], raw)

    def fetch(self, mailbox, subject):
        client = imaplib.IMAP4("127.0.0.1", self.instance.ports["imap"], timeout=30)
        client.login("bob@example.test", PASSWORD)
        client.select(mailbox)
        _, found = client.search(None, "SUBJECT", subject)
        numbers = found[0].split()
        messages = [client.fetch(n, "(BODY.PEEK[])")[1][0][1] for n in numbers]
        client.logout()
        return messages

    def results_of(self, raw):
        header = raw.split(b"\r\n\r\n", 1)[0].decode()
        fields = [f for f in header.replace("\r\n\t", " ").replace("\r\n ", " ").split("\r\n")
                  if f.lower().startswith("authentication-results:")]
        return fields

    def test_a_signed_aligned_message_passes_everything(self):
        self.send("alice@good.example", self.message("alice@good.example", "good", sign=True))
        [raw] = self.fetch("INBOX", "good")
        [field] = self.results_of(raw)  # ours only: the forged one is gone
        self.assertTrue(raw.startswith(b"Return-Path:"))
        self.assertIn("Authentication-Results: mail.test;", field)
        self.assertRegex(field, r"spf=pass( \([^)]*\))? smtp\.mailfrom=alice@good\.example")
        self.assertIn("dkim=pass header.d=good.example header.s=s1", field)
        self.assertIn("dmarc=pass header.from=good.example", field)

    def test_a_changed_signed_message_fails_dkim_as_dkimpy_says(self):
        raw = self.message("alice@good.example", "changed", sign=True).replace(b"Hello", b"Jello")
        self.assertFalse(dkim.verify(raw, dnsfunc=lambda name, timeout=5: self.kdig_txt(
            name.decode() if isinstance(name, bytes) else name)))
        self.send("alice@good.example", raw)  # SPF still passes and aligns: delivered
        [delivered] = self.fetch("INBOX", "changed")
        [field] = self.results_of(delivered)
        self.assertIn("dkim=fail", field)
        self.assertIn("dmarc=pass", field)  # by SPF

    def test_dmarc_reject_is_refused_at_the_end_of_data(self):
        with self.assertRaises(smtplib.SMTPDataError) as refused:
            self.send("ceo@forged.example", self.message("ceo@forged.example", "forged"))
        self.assertEqual(refused.exception.smtp_code, 550)
        self.assertIn(b"5.7.1", refused.exception.smtp_error)
        self.assertIn(b"forged.example", refused.exception.smtp_error)
        self.assertEqual(self.fetch("INBOX", "forged"), [])

    def dns_txt(self, name, timeout=5):
        return self.kdig_txt(name.decode() if isinstance(name, bytes) else name)

    def arc_sealed(self, subject):
        """A message from plain.example (no records: SPF none, no DKIM) that a forwarder,
        good.example, sealed with dkimpy's arc_sign: its ARC set vouches for what it saw."""
        raw = (f"From: alice@plain.example\r\nTo: bob@example.test\r\nSubject: {subject}\r\n"
               f"Message-ID: <{subject}@plain.example>\r\n"
               "Authentication-Results: good.example; spf=pass smtp.mailfrom=alice@plain.example\r\n"
               f"\r\nForwarded to you.\r\n").encode()
        arc_set = dkim.arc_sign(raw, b"s1", b"good.example", self.private, srv_id=b"good.example",
                                include_headers=[b"from", b"to", b"subject", b"message-id"])
        return b"".join(arc_set) + raw

    def test_an_arc_chain_is_validated_as_dkimpy_validates_it(self):
        sealed = self.arc_sealed("forwarded")
        self.assertEqual(dkim.arc_verify(sealed, dnsfunc=self.dns_txt)[0], dkim.CV_Pass)
        self.send("alice@plain.example", sealed)
        [delivered] = self.fetch("INBOX", "forwarded")
        [field] = [f for f in self.results_of(delivered) if "mail.test;" in f]
        self.assertRegex(field, r"arc=pass \(1 sets, the last sealed by good\.example\)")
        # Changed after the seal: dkimpy and Rampart both say fail.
        changed = self.arc_sealed("tampered").replace(b"Forwarded to you", b"Wire the money")
        self.assertEqual(dkim.arc_verify(changed, dnsfunc=self.dns_txt)[0], dkim.CV_Fail)
        self.send("alice@plain.example", changed)
        [delivered] = self.fetch("INBOX", "tampered")
        [field] = [f for f in self.results_of(delivered) if "mail.test;" in f]
        self.assertIn("arc=fail (ARC-Message-Signature i=1: body hash did not verify)", field)
        # No chain: none.
        self.send("alice@plain.example", self.message("alice@plain.example", "unforwarded"))
        [delivered] = self.fetch("INBOX", "unforwarded")
        self.assertIn("arc=none", self.results_of(delivered)[0])

    def test_a_redirected_message_is_arc_sealed_for_the_next_hop(self):
        # bob's script sends everything on to another server: the copy that leaves gets
        # this server's ARC set (i=2 on a chain that passed), which dkimpy validates
        # with the key `rampart dns-records` publishes.
        sieve = Sieve(self.instance.ports["managesieve"])
        self.addCleanup(sieve.close)
        sieve.login("bob@example.test", PASSWORD)
        sieve.put("forward", 'redirect "carol@elsewhere.example";\r\n')
        self.addCleanup(sieve.command, 'SETACTIVE ""')
        self.send("alice@plain.example", self.arc_sealed("sealed again"))
        published = {}
        for line in self.instance.cli("dns-records", "example.test").stdout.splitlines():
            name, _, kind, value = line.split("\t", 3)
            if kind == "TXT" and "._domainkey." in name:
                published[name] = "".join(value.split('"')[1::2]).encode()

        def lookup(name, timeout=5):
            name = name.decode() if isinstance(name, bytes) else name
            return published.get(name) or self.dns_txt(name)

        end = time.monotonic() + 20
        while True:
            with sqlite3.connect(os.path.join(self.instance.data, "rampart.db")) as db:
                rows = db.execute("SELECT q.blob_id FROM queue q JOIN queue_recipients r ON r.queue = q.id"
                                  " WHERE r.address = 'carol@elsewhere.example'").fetchall()
            if rows or time.monotonic() > end:
                break
            time.sleep(0.1)
        self.assertEqual(len(rows), 1)
        forwarded = self.instance.read_blob(rows[0][0])
        self.assertTrue(forwarded.startswith(b"ARC-Seal: i=2; a=rsa-sha256;"), forwarded[:1500])
        self.assertIn(b"ARC-Authentication-Results: i=2; mail.test;", forwarded)
        cv, results, comment = dkim.arc_verify(forwarded, dnsfunc=lookup)
        self.assertEqual(cv, dkim.CV_Pass, comment)
        self.assertEqual([r["instance"] for r in results], [2, 1])

    def spf_by_pyspf(self, mail_from):
        """pyspf's SPF result for 127.0.0.1 and `mail_from`, its DNS answered by Knot."""
        import spf

        def lookup(name, qtype, *args, **kwargs):
            if qtype != "TXT":
                return []
            done = subprocess.run(["kdig", f"@{self.dns.address}", "-p", str(self.dns.port), "+short",
                                   "TXT", name], capture_output=True, text=True, timeout=30)
            return [((name, "TXT"), ["".join(line.split('"')[1::2]).encode()])
                    for line in done.stdout.splitlines() if line.strip()]

        saved = spf.DNSLookup
        spf.DNSLookup = lookup
        try:
            result = spf.check2(i="127.0.0.1", s=mail_from, h="client.test")[0]
        finally:
            spf.DNSLookup = saved
        return {"pass": SPF_PASS, "none": SPF_NONE}.get(result, SPF_FAIL)

    def test_dmarc_verdicts_agree_with_opendmarc(self):
        # Each case: From, MAIL FROM, the domain that signs (or none). OpenDMARC's
        # library decides from what pyspf, dkimpy and Knot say; Rampart from its own checks.
        cases = [
            ("alice@good.example", "alice@good.example", "good.example"),
            ("ceo@forged.example", "ceo@forged.example", None),
            ("x@doubtful.example", "x@doubtful.example", None),
            ("x@news.parent.example", "x@news.parent.example", None),
            ("x@plain.example", "x@plain.example", None),
            ("alice@good.example", "bounce@plain.example", "good.example"),
            ("alice@good.example", "bounce@plain.example", None),
            ("alice@good.example", "list@bounces.good.example", None),
            ("a@mail.strict.example", "a@mail.strict.example", "strict.example"),
            ("a@strict.example", "a@strict.example", "strict.example"),
            ("a@strict.example", "list@bounces.strict.example", None),
            ("a@news.good.example", "a@news.good.example", "good.example"),
        ]
        oracle = OpenDmarc()
        for n, (author, mail_from, signer) in enumerate(cases):
            subject = f"oracle-{n}"
            raw = (f"From: {author}\r\nTo: bob@example.test\r\nSubject: {subject}\r\n"
                   f"Message-ID: <{subject}@test>\r\n\r\nCase {n}.\r\n").encode()
            if signer:
                raw = dkim.sign(raw, b"s1", signer.encode(), self.private,
                                include_headers=[b"from", b"to", b"subject", b"message-id"]) + raw
            passed = [signer] if signer and dkim.verify(raw, dnsfunc=self.dns_txt) else []
            # The record as DNS has it: the From domain's, else its organizational domain's.
            from_domain = author.split("@")[1]
            organizational = ".".join(from_domain.split(".")[-2:])
            record, record_from = self.kdig_txt(f"_dmarc.{from_domain}"), from_domain
            if record is None and organizational != from_domain:
                record, record_from = self.kdig_txt(f"_dmarc.{organizational}"), organizational
            expected = oracle.policy(
                from_domain, record.decode() if record else None, from_domain,
                organizational if record_from != from_domain else None,
                (mail_from.split("@")[1], self.spf_by_pyspf(mail_from)), passed)
            try:
                self.send(mail_from, raw)
            except smtplib.SMTPDataError as refused:
                self.assertEqual((n, refused.smtp_code, expected), (n, 550, "reject"))
                continue
            [delivered] = self.fetch("Junk" if expected == "quarantine" else "INBOX", subject)
            [field] = self.results_of(delivered)
            ours = re.search(r"dmarc=(\w+)( \(p=(\w+))?", field)
            got = {"pass": "pass", "none": "absent"}.get(ours.group(1), ours.group(3))
            self.assertEqual((n, got), (n, expected), field)

    def test_a_message_signed_by_opendkim_with_rsa_sha1_is_refused_as_rfc_8301_says(self):
        # OpenDKIM's own signer (opendkim-testmsg) signs with rsa-sha1. dkimpy still
        # passes that; RFC 8301 section 3.1 says verifiers must not, and Rampart does not:
        # the signature is a permerror, and DMARC passes by SPF alone.
        with tempfile.NamedTemporaryFile(suffix=".pem") as key:
            key.write(self.private)
            key.flush()
            unsigned = (b"From: alice@good.example\nTo: bob@example.test\nSubject: opendkim\n"
                        b"Date: Fri, 04 Dec 2026 10:00:00 +0000\nMessage-ID: <opendkim@good.example>\n"
                        b"\nSigned by OpenDKIM.\n")
            signed = subprocess.run(["opendkim-testmsg", "-C", "-d", "good.example", "-s", "s1",
                                     "-k", key.name], input=unsigned, capture_output=True,
                                    check=True, timeout=30).stdout
        raw = signed.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        self.assertIn(b"a=rsa-sha1;", raw)
        self.assertTrue(dkim.verify(raw, dnsfunc=self.dns_txt))
        self.send("alice@good.example", raw)
        [delivered] = self.fetch("INBOX", "opendkim")
        [field] = self.results_of(delivered)
        self.assertIn(r"dkim=permerror (rsa-sha1 is not accepted \(RFC 8301\))", field)
        self.assertIn("dmarc=pass", field)

    def test_a_trusted_sealer_overrides_a_dmarc_failure(self):
        # forged.example's p=reject fails here (its SPF does not allow 127.0.0.1), but a
        # forwarder sealed it after seeing it pass. good.example is trusted by the config;
        # strict.example, whose key is as good, is not.
        def sealed_by(sealer, subject):
            raw = (f"From: ceo@forged.example\r\nTo: bob@example.test\r\nSubject: {subject}\r\n"
                   f"Message-ID: <{subject}@forged.example>\r\n"
                   f"Authentication-Results: {sealer}; dmarc=pass header.from=forged.example\r\n"
                   "\r\nThrough the list.\r\n").encode()
            return b"".join(dkim.arc_sign(raw, b"s1", sealer.encode(), self.private,
                                          srv_id=sealer.encode())) + raw

        self.send("ceo@forged.example", sealed_by("good.example", "trusted-list"))
        [delivered] = self.fetch("INBOX", "trusted-list")
        [field] = [f for f in self.results_of(delivered) if "mail.test;" in f]
        self.assertIn("dmarc=fail (p=reject, overridden by the ARC seal of good.example)", field)
        self.assertIn("arc=pass", field)
        with self.assertRaises(smtplib.SMTPDataError) as refused:
            self.send("ceo@forged.example", sealed_by("strict.example", "untrusted-list"))
        self.assertEqual(refused.exception.smtp_code, 550)

    def test_dmarc_quarantine_lands_in_junk(self):
        self.send("news@doubtful.example", self.message("news@doubtful.example", "doubtful"))
        self.assertEqual(self.fetch("INBOX", "doubtful"), [])
        [raw] = self.fetch("Junk", "doubtful")
        [field] = self.results_of(raw)
        self.assertIn("spf=fail", field)
        self.assertIn("dmarc=fail (p=quarantine)", field)

    def test_a_subdomain_follows_sp(self):
        self.send("x@news.parent.example", self.message("x@news.parent.example", "subdomain"))
        [raw] = self.fetch("INBOX", "subdomain")  # sp=none: delivered despite failing
        [field] = self.results_of(raw)
        self.assertIn("dmarc=fail (p=none)", field)

    def test_no_records_is_none_everywhere(self):
        self.send("a@plain.example", self.message("a@plain.example", "plain"))
        [raw] = self.fetch("INBOX", "plain")
        [field] = self.results_of(raw)
        self.assertIn("spf=none", field)
        self.assertIn("dkim=none", field)
        self.assertIn("dmarc=none", field)

    def test_the_null_sender_is_checked_by_its_helo(self):
        self.send("", self.message("mailer-daemon@plain.example", "bounce"))
        [raw] = self.fetch("INBOX", "bounce")
        self.assertIn("smtp.helo=client.test", self.results_of(raw)[0])

    def test_verdicts_are_counted_in_metrics(self):
        with self.assertRaises(smtplib.SMTPDataError):
            self.send("boss@forged.example", self.message("boss@forged.example", "counted"))
        body = urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{self.instance.ports['http']}/metrics",
            headers={"Authorization": "Basic " + base64.b64encode(
                f"bob@example.test:{PASSWORD}".encode()).decode()}), timeout=30).read().decode()
        self.assertRegex(body, r'rampart_sender_checks_total\{method="spf",result="fail"\} [1-9]')
        self.assertRegex(body, r'rampart_sender_checks_total\{method="dmarc",result="fail"\} [1-9]')
        self.assertRegex(body, r'rampart_sender_checks_total\{method="arc",result="none"\} [1-9]')
        self.assertRegex(body, r'rampart_smtp_refused_total\{reason="dmarc"\} [1-9]')


if __name__ == "__main__":
    unittest.main()
