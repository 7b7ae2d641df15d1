"""Outbound delivery end to end against real servers on loopback: Knot serves the
remote domain's MX (DNSSEC-signed), a real Postfix on 127.0.0.2:25 is that MX (with
STARTTLS, a recipient it refuses and one it defers), and Rampart sends what its user
submits: delivered over TLS and DKIM-signed, refused and undeliverable recipients
bounced to the sender's INBOX as RFC 3464 reports, the deferred one retried after
`rampart queue retry`, and the queue empty at the end."""

import email
import imaplib
import os
import smtplib
import subprocess
import tempfile
import time
import unittest

from harness import Instance, openssl
from knot_zone import KnotZones
from postfix_sink import PostfixSink

PASSWORD = "correct horse battery"

REMOTE_ZONE = """$ORIGIN remote.example.
$TTL 300
@ SOA ns.remote.example. admin.remote.example. 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.3
@ MX 10 mx
mx A 127.0.0.2
null MX 0 .
"""


class Outbound(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = []
        cls.tmp = tempfile.TemporaryDirectory(prefix="rampart-outbound-")
        cert, key = os.path.join(cls.tmp.name, "mx.pem"), os.path.join(cls.tmp.name, "mx.key")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                "/CN=mx.remote.example", "-keyout", key, "-out", cert)
        cls.dns = KnotZones({"remote.example": REMOTE_ZONE}, signed={"remote.example"}).__enter__()
        cls.sink = PostfixSink(address="127.0.0.2", port=25, domains=("remote.example",),
                               reject={"nobody@remote.example"}, defer={"later@remote.example"},
                               tls=(cert, key))
        cls.sink.start()
        cls.instance = Instance(["smtp", "submission", "imap"], extra=cls.dns.delivery_config())
        cls.instance.add_account("alice@example.test", PASSWORD)
        cls.instance.start()

    @classmethod
    def tearDownClass(cls):
        cls.instance.close()
        cls.sink.stop()
        cls.dns.__exit__(None, None, None)
        cls.tmp.cleanup()

    def submit(self, recipients, subject):
        message = (f"From: Alice <alice@example.test>\r\nTo: {', '.join(recipients)}\r\n"
                   f"Subject: {subject}\r\nMessage-ID: <{subject}@example.test>\r\n\r\n"
                   f"Grüße, {subject}.\r\n").encode()
        with smtplib.SMTP("127.0.0.1", self.instance.ports["submission"], timeout=30) as client:
            client.login("alice@example.test", PASSWORD)
            client.sendmail("alice@example.test", recipients, message)

    def inbox(self, wanted, timeout=60):
        """Alice's INBOX once it holds `wanted` messages."""
        end = time.monotonic() + timeout
        while True:
            client = imaplib.IMAP4("127.0.0.1", self.instance.ports["imap"], timeout=30)
            client.login("alice@example.test", PASSWORD)
            count = int(client.select("INBOX")[1][0])
            messages = [client.fetch(str(n), "(BODY.PEEK[])")[1][0][1] for n in range(1, count + 1)]
            client.logout()
            if len(messages) >= wanted or time.monotonic() > end:
                return messages
            time.sleep(0.3)

    def queue(self):
        return self.instance.cli("queue", "list").stdout

    def test_delivered_bounced_deferred_then_retried(self):
        self.submit(["bob@remote.example", "nobody@remote.example", "later@remote.example",
                     "x@null.remote.example", "y@nowhere.remote.example"], "mixed")
        # Delivered to the MX, over TLS, signed.
        [received] = self.sink.wait_for("bob@remote.example", count=1, timeout=60)
        self.assertIn(b"with ESMTPS", received)
        self.assertIn(b"DKIM-Signature: v=1; a=rsa-sha256;", received)
        self.assertIn("Grüße, mixed.".encode(), received)
        # Refused (550), null MX and a domain that does not exist: one report, at once.
        [report] = self.inbox(1)
        parsed = email.message_from_bytes(report)
        self.assertEqual(parsed.get_content_type(), "multipart/report")
        status = report.decode(errors="replace")
        self.assertIn("Final-Recipient: rfc822; nobody@remote.example", status)
        self.assertIn("Status: 5.1.1", status)
        self.assertIn("Final-Recipient: rfc822; x@null.remote.example", status)
        self.assertIn("Status: 5.1.10", status)
        self.assertIn("Final-Recipient: rfc822; y@nowhere.remote.example", status)
        self.assertIn("Status: 5.1.2", status)
        self.assertNotIn("bob@remote.example", status.split("message/delivery-status")[1].split("message/rfc822")[0])
        self.assertNotIn("later@remote.example>: failed", status)
        # The deferred one waits, with its reply.
        listed = self.queue()
        self.assertIn("<later@remote.example>  deferred  450 4.2.0", listed)
        self.assertIn("<bob@remote.example>  delivered", listed)
        # Accepted now: retried on request, delivered, and the queue empties.
        self.sink.set_defer(set())
        self.assertEqual(self.instance.cli("queue", "retry").returncode, 0)
        self.sink.wait_for("later@remote.example", count=1, timeout=60)
        end = time.monotonic() + 30
        while "0 message(s) queued" not in self.queue() and time.monotonic() < end:
            time.sleep(0.2)
        self.assertIn("0 message(s) queued", self.queue())
        # Exactly once each.
        self.assertEqual(len(self.sink.messages("bob@remote.example")), 1)
        self.assertEqual(len(self.sink.messages("later@remote.example")), 1)
        self.assertEqual(len(self.inbox(1, timeout=0)), 1)


SLOW_ZONE = """$ORIGIN slow.example.
$TTL 300
@ SOA ns.slow.example. admin.slow.example. 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.3
@ MX 10 mx
mx A 127.0.0.7
"""


class DelayReport(unittest.TestCase):
    """A recipient the MX keeps deferring: retried on its own (`retry_first`), the sender
    told once that the message is late (`delay_notice`), and given up on and bounced
    after `give_up`."""

    def setUp(self):
        self.dns = KnotZones({"slow.example": SLOW_ZONE}).__enter__()
        self.addCleanup(self.dns.__exit__, None, None, None)
        self.sink = PostfixSink(address="127.0.0.7", port=25, domains=("slow.example",),
                                defer={"slow@slow.example"})
        self.sink.start()
        self.addCleanup(self.sink.stop)
        extra = (self.dns.delivery_config() +
                 'retry_first = "2s"\nretry_max = "2s"\ndelay_notice = "3s"\ngive_up = "9s"\n')
        self.instance = Instance(["submission", "imap"], extra=extra)
        self.addCleanup(self.instance.close)
        self.instance.add_account("alice@example.test", PASSWORD)
        self.instance.start()

    def test_delay_then_failure_reported_once_each(self):
        with smtplib.SMTP("127.0.0.1", self.instance.ports["submission"], timeout=30) as client:
            client.login("alice@example.test", PASSWORD)
            client.sendmail("alice@example.test", ["slow@slow.example"],
                            b"From: alice@example.test\r\nTo: slow@slow.example\r\n"
                            b"Subject: slow\r\nMessage-ID: <slow@example.test>\r\n\r\nHi.\r\n")
        reports = Outbound.inbox(self, 2, timeout=40)
        self.assertEqual(len(reports), 2, "a delay report, then the failure")
        delay, failure = (r.decode(errors="replace") for r in reports)
        self.assertIn("Action: delayed", delay)
        self.assertIn("Status: 4.2.0", delay)
        self.assertIn("Will-Retry-Until:", delay)
        self.assertIn("Action: failed", failure)
        self.assertIn("4.4.7", failure)
        # Tried several times, reported twice only, and the queue is empty.
        self.assertGreaterEqual(self.sink.log().count("<slow@slow.example>: Recipient address rejected"), 3)
        time.sleep(3)
        self.assertEqual(len(Outbound.inbox(self, 3, timeout=0)), 2)
        self.assertIn("0 message(s) queued", self.instance.cli("queue", "list").stdout)


if __name__ == "__main__":
    unittest.main()
