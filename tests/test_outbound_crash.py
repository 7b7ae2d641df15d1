"""Nothing sent twice, nothing lost: SIGKILL the server while its delivery service is
sending a queue of messages to a real Postfix, restart it, and find that each recipient
got each message exactly once.

The remote MX (Postfix on 127.0.0.6:25) pauses a second before answering DATA and offers
no CHUNKING, and Rampart opens one connection to it: so the kill lands while a message
is waiting for its 354, before any of it was sent, and after every earlier message's
250 was recorded (each recipient's state is written before the next message starts).
A kill between a 250 and its record would send that message again: RFC 5321 section
6.1 prefers that to a loss, and this test keeps it out of the window on purpose."""

import signal
import smtplib
import tempfile
import time
import unittest

from harness import Instance
from knot_zone import KnotZones
from postfix_sink import PostfixSink

PASSWORD = "correct horse battery"
MX_ADDRESS = "127.0.0.6"  # its own: other outbound tests may run at once
RECIPIENTS = ["a@crash.example", "b@crash.example", "c@crash.example"]
MESSAGES = 12

ZONE = f"""$ORIGIN crash.example.
$TTL 300
@ SOA ns.crash.example. admin.crash.example. 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.3
@ MX 10 mx
mx A {MX_ADDRESS}
"""


class OutboundCrash(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="rampart-outbound-crash-")
        self.addCleanup(self.tmp.cleanup)
        self.dns = KnotZones({"crash.example": ZONE}).__enter__()
        self.addCleanup(self.dns.__exit__, None, None, None)
        self.sink = PostfixSink(address=MX_ADDRESS, port=25, domains=("crash.example",),
                                main_cf="smtpd_discard_ehlo_keywords = chunking\n"
                                        "smtpd_data_restrictions = sleep 1\n")
        self.sink.start()
        self.addCleanup(self.sink.stop)
        # An unsigned zone: an empty trust anchor makes its answers insecure, not bogus.
        anchor = self.dns.anchor
        extra = self.dns.delivery_config(anchor) + "max_connections_per_domain = 1\n"
        self.instance = Instance(["submission"], extra=extra)
        self.addCleanup(self.instance.close)
        self.instance.add_account("alice@example.test", PASSWORD)
        self.instance.start()

    def delivered(self, recipient):
        """Message-IDs the sink holds for `recipient`, with repeats."""
        ids = []
        for raw in self.sink.messages(recipient):
            for line in raw.split(b"\r\n"):
                if line.lower().startswith(b"message-id:"):
                    ids.append(line.split(b":", 1)[1].strip().decode())
                    break
        return ids

    def test_each_recipient_gets_each_message_exactly_once(self):
        sent = []
        with smtplib.SMTP("127.0.0.1", self.instance.ports["submission"], timeout=30) as client:
            client.login("alice@example.test", PASSWORD)
            for n in range(MESSAGES):
                message_id = f"<crash-{n}@example.test>"
                client.sendmail("alice@example.test", RECIPIENTS,
                                f"From: alice@example.test\r\nTo: {', '.join(RECIPIENTS)}\r\n"
                                f"Subject: {n}\r\nMessage-ID: {message_id}\r\n\r\nNumber {n}.\r\n")
                sent.append(message_id)
        # Some delivered, the next one waiting for its 354: kill.
        end = time.monotonic() + 60
        while len(self.delivered(RECIPIENTS[0])) < 4 and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(0.4)
        self.instance.stop(signal.SIGKILL)
        before = set(self.delivered(RECIPIENTS[0]))
        self.assertGreaterEqual(len(before), 4)
        self.assertLess(len(before), MESSAGES, "all sent before the kill: nothing was tested")

        self.instance.start()
        end = time.monotonic() + 90
        while (any(len(set(self.delivered(r))) < MESSAGES for r in RECIPIENTS)
               and time.monotonic() < end):
            time.sleep(0.2)
        time.sleep(1.5)  # a duplicate would come now
        for recipient in RECIPIENTS:
            got = self.delivered(recipient)
            self.assertEqual(sorted(got), sorted(sent), recipient)  # each once, none lost
        end = time.monotonic() + 30
        while "0 message(s) queued" not in self.instance.cli("queue", "list").stdout:
            self.assertLess(time.monotonic(), end, "the queue did not empty")
            time.sleep(0.2)


if __name__ == "__main__":
    unittest.main()
