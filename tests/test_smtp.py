"""SMTP with real clients (smtplib, swaks, curl): MX, submission with STARTTLS and
implicit TLS, AUTH, BDAT, pipelining, SMTPUTF8, smuggling; every accepted message is
then read back from the store byte for byte."""

import base64
import os
import re
import smtplib
import socket
import sqlite3
import ssl
import subprocess
import time
import unittest

from harness import InstanceTest

PASSWORD = "a-long-password"


def insecure_context():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class SmtpFixture(InstanceTest):
    """Two users and an alias on a started server; helpers to read INBOXes."""

    services = ["smtp", "submission", "submissions", "lmtp"]

    def setUp(self):
        super().setUp()
        cli = self.instance.cli
        self.assertEqual(cli("domain", "add", "example.test").returncode, 0)
        for user in ("alice", "bob"):
            self.assertEqual(cli("user", "add", f"{user}@example.test", stdin=PASSWORD + "\n").returncode, 0)
        self.assertEqual(cli("alias", "add", "sales@example.test", "bob@example.test").returncode, 0)
        self.instance.start()

    def port(self, service):
        return self.instance.ports[service]

    def inbox(self, user):
        """Raw messages in the user's INBOX, oldest first, read from the store itself."""
        db = sqlite3.connect(f"file:{self.instance.data}/rampart.db?mode=ro", uri=True)
        try:
            rows = db.execute(
                "SELECT m.blob_id FROM messages m JOIN mailboxes b ON b.id = m.mailbox "
                "JOIN accounts a ON a.id = b.account WHERE a.address = ? AND b.name = 'INBOX' "
                "ORDER BY m.uid", (user,)).fetchall()
        finally:
            db.close()
        return [self.instance.read_blob(blob) for (blob,) in rows]

    def body_of(self, raw):
        """The message as the client sent it: after our Return-Path and Received."""
        text = raw.decode("utf-8", "surrogateescape")
        self.assertTrue(text.startswith("Return-Path: <"), text[:80])
        received = text.index("Received: ")
        end = text.index("\r\n", text.index("; ", received)) + 2
        return text[end:].encode("utf-8", "surrogateescape")


class SmtpTest(SmtpFixture):

    def test_mx_delivers_to_local_users_only(self):
        message = b"From: someone@remote.test\r\nTo: alice@example.test\r\nSubject: hi\r\n\r\nHello\r\n..dot\r\n"
        with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=30) as client:
            code, features = client.ehlo("client.remote.test")
            self.assertEqual(code, 250)
            for extension in ("pipelining", "size", "8bitmime", "smtputf8", "enhancedstatuscodes",
                              "chunking", "dsn", "starttls"):
                self.assertTrue(client.has_extn(extension), extension)
            self.assertFalse(client.has_extn("auth"), "no AUTH on the MX port")
            refused = client.sendmail("someone@remote.test",
                                      ["alice@example.test", "Sales+tag@Example.test", "nobody@example.test"],
                                      message)
            self.assertEqual(list(refused), ["nobody@example.test"])
            self.assertEqual(refused["nobody@example.test"][0], 550)
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as relay:
                client.sendmail("someone@remote.test", ["victim@elsewhere.test"], message)
            self.assertEqual(relay.exception.recipients["victim@elsewhere.test"][0], 554)
        self.assertEqual([self.body_of(m) for m in self.inbox("alice@example.test")], [message])
        bob = self.inbox("bob@example.test")
        self.assertEqual(len(bob), 1)
        self.assertIn(b"Return-Path: <someone@remote.test>\r\nReceived: from client.remote.test ([127.0.0.1])", bob[0])

    def test_submission_needs_auth_and_owned_sender(self):
        with smtplib.SMTP("127.0.0.1", self.port("submission"), timeout=30) as client:
            client.ehlo("laptop")
            self.assertTrue(client.has_extn("auth"), "AUTH is offered on loopback")
            with self.assertRaises(smtplib.SMTPSenderRefused) as unauthenticated:
                client.sendmail("alice@example.test", ["bob@example.test"], b"Subject: x\r\n\r\nx\r\n")
            self.assertEqual(unauthenticated.exception.smtp_code, 530)
            with self.assertRaises(smtplib.SMTPAuthenticationError):
                client.login("alice@example.test", "wrong-password")
            client.login("alice@example.test", PASSWORD)
            with self.assertRaises(smtplib.SMTPSenderRefused) as spoof:
                client.sendmail("bob@example.test", ["bob@example.test"], b"Subject: x\r\n\r\nx\r\n")
            self.assertEqual(spoof.exception.smtp_code, 553)
            with self.assertRaises(smtplib.SMTPDataError) as forged:
                client.sendmail("alice@example.test", ["bob@example.test"],
                                b"From: Boss <bob@example.test>\r\nSubject: forged\r\n\r\nx\r\n")
            self.assertEqual(forged.exception.smtp_code, 553)
            client.sendmail("alice+work@example.test", ["bob@example.test"],
                            b"From: alice@example.test\r\nSubject: from alice\r\n\r\nbody\r\n")
        [raw] = self.inbox("bob@example.test")
        self.assertIn(b"with ESMTPA", raw)
        self.assertTrue(raw.endswith(b"Subject: from alice\r\n\r\nbody\r\n"))

    def test_submission_refuses_a_foreign_sender_and_a_second_from(self):
        with smtplib.SMTP("127.0.0.1", self.port("submission"), timeout=30) as client:
            client.login("alice@example.test", PASSWORD)
            with self.assertRaises(smtplib.SMTPDataError) as sender:
                client.sendmail("alice@example.test", ["bob@example.test"],
                                b"From: alice@example.test\r\nSender: bob@example.test\r\nSubject: x\r\n\r\nx\r\n")
            self.assertEqual(sender.exception.smtp_code, 553)
            self.assertIn(b"5.7.1", sender.exception.smtp_error)
            with self.assertRaises(smtplib.SMTPDataError) as two:
                client.sendmail("alice@example.test", ["bob@example.test"],
                                b"From: alice@example.test\r\nFrom: bob@example.test\r\nSubject: x\r\n\r\nx\r\n")
            self.assertEqual(two.exception.smtp_code // 100, 5)
            # Authors another program would read: after a bare CR, past a line that is
            # not a field, or in Resent-From.
            for hidden in [b"From: alice@example.test (\rFrom: bob@example.test)\r\n",
                           b"From: alice@example.test\r\nJunk\r\nFrom: bob@example.test\r\n",
                           b"From: alice@example.test\r\nResent-From: bob@example.test\r\n"]:
                with self.assertRaises(smtplib.SMTPDataError, msg=hidden) as refused:
                    client.sendmail("alice@example.test", ["bob@example.test"],
                                    hidden + b"Subject: x\r\n\r\nx\r\n")
                self.assertEqual(refused.exception.smtp_code // 100, 5)
        self.assertEqual(self.inbox("bob@example.test"), [])

    def test_submission_queues_remote_recipients(self):
        with smtplib.SMTP("127.0.0.1", self.port("submission"), timeout=30) as client:
            client.login("alice@example.test", PASSWORD)
            client.ehlo("laptop")
            refused = client.sendmail("alice@example.test", ["friend@elsewhere.test", "bob@example.test"],
                                      b"From: alice@example.test\r\nSubject: out\r\n\r\nhello world\r\n",
                                      rcpt_options=["NOTIFY=FAILURE"])
            self.assertEqual(refused, {})
        self.assertEqual(len(self.inbox("bob@example.test")), 1)
        queue = self.instance.cli("queue", "list")
        self.assertEqual(queue.returncode, 0, queue.stderr)
        self.assertIn("<alice@example.test>", queue.stdout)
        self.assertIn("-> <friend@elsewhere.test>", queue.stdout)
        self.assertNotIn("bob@example.test", queue.stdout)
        self.assertIn("1 message(s) queued", queue.stdout)

    def test_starttls_then_auth_login(self):
        with smtplib.SMTP("127.0.0.1", self.port("submission"), timeout=30) as client:
            client.starttls(context=insecure_context())
            client.ehlo("laptop")
            self.assertFalse(client.has_extn("starttls"))
            client.login("bob@example.test", PASSWORD)  # smtplib prefers... PLAIN/LOGIN
            client.sendmail("sales@example.test", ["alice@example.test"], b"From: sales@example.test\r\nSubject: tls\r\n\r\nsecret\r\n")
        [raw] = self.inbox("alice@example.test")
        self.assertIn(b"with ESMTPSA", raw)
        self.assertIn(b"TLSv1.", raw)

    def test_implicit_tls_and_auth_login_mechanism(self):
        with smtplib.SMTP_SSL("127.0.0.1", self.port("submissions"), context=insecure_context(), timeout=30) as client:
            client.ehlo("laptop")
            code, _ = client.docmd("AUTH", "LOGIN")
            self.assertEqual(code, 334)
            code, _ = client.docmd(base64.b64encode(b"alice@example.test").decode())
            self.assertEqual(code, 334)
            code, _ = client.docmd(base64.b64encode(PASSWORD.encode()).decode())
            self.assertEqual(code, 235)
            client.sendmail("alice@example.test", ["bob@example.test"], b"From: alice@example.test\r\nSubject: 465\r\n\r\nx\r\n")
        self.assertEqual(len(self.inbox("bob@example.test")), 1)

    def test_bdat_chunks(self):
        with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=30) as client:
            client.ehlo("c")
            self.assertEqual(client.docmd("MAIL", "FROM:<x@remote.test>")[0], 250)
            self.assertEqual(client.docmd("RCPT", "TO:<alice@example.test>")[0], 250)
            part1, part2 = b"Subject: bdat\r\n\r\n.leading dot", b"\r\nend\r\n"
            client.send(b"BDAT %d\r\n" % len(part1) + part1)
            self.assertEqual(client.getreply()[0], 250)
            client.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
            self.assertEqual(client.getreply()[0], 250)
        self.assertEqual([self.body_of(m) for m in self.inbox("alice@example.test")], [part1 + part2])

    def test_pipelining_and_smtputf8(self):
        message = "From: Jörg <jörg@remote.test>\r\nSubject: Grüße\r\n\r\nÜmläut\r\n".encode()
        with socket.create_connection(("127.0.0.1", self.port("smtp")), timeout=30) as raw:
            stream = raw.makefile("rwb")
            stream.readline()
            stream.write(b"EHLO c\r\n")
            stream.flush()
            while not stream.readline().startswith(b"250 "):
                pass
            stream.write("MAIL FROM:<jörg@remote.test> SMTPUTF8 BODY=8BITMIME\r\nRCPT TO:<alice@example.test>\r\n"
                         "RCPT TO:<ghost@example.test>\r\nDATA\r\n".encode())
            stream.flush()
            replies = [stream.readline()[:3] for _ in range(4)]
            self.assertEqual(replies, [b"250", b"250", b"550", b"354"])
            stream.write(message + b".\r\nQUIT\r\n")
            stream.flush()
            self.assertEqual(stream.readline()[:3], b"250")
            self.assertEqual(stream.readline()[:3], b"221")
        self.assertEqual([self.body_of(m) for m in self.inbox("alice@example.test")], [message])

    def test_smuggling_sequences_do_not_end_data(self):
        with socket.create_connection(("127.0.0.1", self.port("smtp")), timeout=30) as raw:
            stream = raw.makefile("rwb")
            stream.readline()
            stream.write(b"HELO c\r\nMAIL FROM:<x@remote.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
            stream.flush()
            self.assertEqual([stream.readline()[:3] for _ in range(4)], [b"250", b"250", b"250", b"354"])
            smuggled = (b"Subject: a\r\n\r\nA\n.\nMAIL FROM:<x@remote.test>\nRCPT TO:<bob@example.test>\nDATA\n"
                        b"Subject: smuggled\n\n.\r.\r\n")
            stream.write(smuggled + b".\r\n")
            stream.flush()
            self.assertEqual(stream.readline()[:3], b"250")
        [raw_message] = self.inbox("alice@example.test")
        self.assertTrue(self.body_of(raw_message).endswith(b"Subject: smuggled\n\n.\r.\r\n"))
        self.assertEqual(self.inbox("bob@example.test"), [])

    def test_starttls_discards_pipelined_plaintext(self):
        with socket.create_connection(("127.0.0.1", self.port("smtp")), timeout=30) as raw:
            raw.recv(1000)
            raw.sendall(b"EHLO c\r\n")
            ehlo, deadline = b"", time.monotonic() + 30
            while not re.search(rb"(^|\n)250 [^\n]*\n$", ehlo):  # up to EHLO's last line
                self.assertLess(time.monotonic(), deadline, ehlo)
                chunk = raw.recv(1000)
                self.assertTrue(chunk, "the connection ended during EHLO")
                ehlo += chunk
            raw.sendall(b"STARTTLS\r\nRSET\r\n")  # RSET injected before the handshake
            reply = b""
            while not reply.endswith(b"\r\n"):
                reply += raw.recv(1)
            self.assertTrue(reply.startswith(b"220"))
            tls = insecure_context().wrap_socket(raw)
            tls.sendall(b"NOOP\r\n")
            self.assertTrue(tls.recv(1000).startswith(b"250 2.0.0 Ok"), "only NOOP's reply, no RSET reply")

    def test_limits_and_errors(self):
        with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=30) as client:
            client.ehlo("c")
            self.assertEqual(client.docmd("RCPT", "TO:<alice@example.test>")[0], 503)
            self.assertEqual(client.docmd("MAIL", "FROM:<x@r.test> SIZE=999999999999")[0], 552)
            self.assertEqual(client.docmd("NOOP " + "x" * 10000)[0], 500)
            self.assertEqual(client.docmd("VRFY", "alice@example.test")[0], 252)
            self.assertEqual(client.docmd("AUTH", "PLAIN AGFAYg==")[0], 502)
        with socket.create_connection(("127.0.0.1", self.port("smtp")), timeout=30) as raw:
            stream = raw.makefile("rwb")
            stream.readline()
            stream.write(b"BOGUS\r\n" * 20)
            stream.flush()
            replies = [stream.readline() for _ in range(11)]
            self.assertEqual([r[:3] for r in replies], [b"500"] * 10 + [b"421"])
            self.assertEqual(stream.readline(), b"", "the server hung up")
        with socket.create_connection(("127.0.0.1", self.port("smtp")), timeout=30) as raw:
            stream = raw.makefile("rwb")
            stream.readline()
            stream.write(b"NOOP\r\n" * 101)
            stream.flush()
            replies = [stream.readline()[:3] for _ in range(101)]
            self.assertEqual(replies, [b"250"] * 100 + [b"421"])
            self.assertEqual(stream.readline(), b"", "the server hung up")

    def test_ehlo_with_a_bare_cr_is_refused(self):
        with socket.create_connection(("127.0.0.1", self.port("smtp")), timeout=30) as raw:
            stream = raw.makefile("rwb")
            stream.readline()

            def command(line):
                stream.write(line)
                stream.flush()
                while (reply := stream.readline())[3:4] == b"-":
                    pass
                return reply[:3]

            # No space: a name with one was always refused.
            self.assertEqual(command(b"EHLO evil.test\rAuthentication-Results:x\r\n"), b"501")
            self.assertEqual(command(b"EHLO [127.0.0.1]\r\n"), b"250")
            self.assertEqual(command(b"EHLO mail.example.org\r\n"), b"250")
            self.assertEqual(command(b"MAIL FROM:<x@remote.test>\r\n"), b"250")
            self.assertEqual(command(b"RCPT TO:<alice@example.test>\r\n"), b"250")
            self.assertEqual(command(b"DATA\r\n"), b"354")
            self.assertEqual(command(b"Subject: after EHLO\r\n\r\nx\r\n.\r\n"), b"250")
        [raw_message] = self.inbox("alice@example.test")
        received = re.search(rb"^Received: .*?\r\n(?![ \t])", raw_message, re.M | re.S).group(0)
        self.assertIn(b"mail.example.org", received)
        self.assertNotIn(b"\r", received.replace(b"\r\n", b""))

    def test_lmtp_on_a_unix_socket(self):
        with smtplib.LMTP(self.instance.lmtp_socket, timeout=30) as client:
            client.sendmail("x@remote.test", ["alice@example.test"], b"Subject: via socket\r\n\r\nx\r\n")
        [raw] = self.inbox("alice@example.test")
        self.assertRegex(raw, rb"Received: from \S+ \(local socket\)\r\n")
        self.assertIn(b"with LMTP", raw)

    def test_lmtp_replies_per_recipient(self):
        with smtplib.LMTP("127.0.0.1", self.port("lmtp"), timeout=30) as client:
            self.assertEqual(client.docmd("EHLO", "mta")[0], 500, "LMTP refuses EHLO")
            self.assertEqual(client.ehlo("mta")[0], 250)  # smtplib.LMTP sends LHLO
            self.assertEqual(client.docmd("MAIL", "FROM:<x@remote.test>")[0], 250)
            self.assertEqual(client.docmd("RCPT", "TO:<alice@example.test>")[0], 250)
            self.assertEqual(client.docmd("RCPT", "TO:<bob@example.test>")[0], 250)
            self.assertEqual(client.docmd("DATA")[0], 354)
            client.send(b"Subject: lmtp\r\n\r\nx\r\n.\r\n")
            self.assertEqual(client.getreply()[0], 250)
            self.assertEqual(client.getreply()[0], 250)
        self.assertIn(b"with LMTP", self.inbox("alice@example.test")[0])
        self.assertEqual(len(self.inbox("bob@example.test")), 1)

    def test_connections_per_address_are_capped(self):
        held = []
        try:
            for _ in range(100):
                connection = socket.create_connection(("127.0.0.1", self.port("smtp")), timeout=30)
                held.append(connection)
                self.assertTrue(connection.recv(1000).startswith(b"220"))
            with socket.create_connection(("127.0.0.1", self.port("smtp")), timeout=30) as extra:
                self.assertEqual(extra.recv(1000), b"", "the 101st connection is closed at once")
        finally:
            for connection in held:
                connection.close()
        self.instance.wait_for_log("over 100 from that address")
        deadline = time.monotonic() + 30
        while True:  # the server notices the closed connections as they go
            try:
                with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=30) as client:
                    self.assertEqual(client.noop()[0], 250)
                break
            except smtplib.SMTPServerDisconnected:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.05)

    def test_swaks_and_curl(self):
        swaks = subprocess.run(["swaks", "--server", f"127.0.0.1:{self.port('submission')}", "--tls",
                                "--auth", "PLAIN", "--auth-user", "alice@example.test", "--auth-password", PASSWORD,
                                "--from", "alice@example.test", "--to", "bob@example.test",
                                "--header", "Subject: from swaks", "--body", "swaks body"],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(swaks.returncode, 0, swaks.stdout + swaks.stderr)
        mail = os.path.join(self.instance.dir.name, "curl.eml")
        with open(mail, "wb") as f:
            f.write(b"From: alice@example.test\r\nSubject: from curl\r\n\r\ncurl body\r\n")
        curl = subprocess.run(["curl", "-sS", "--ssl-reqd", "-k", f"smtp://127.0.0.1:{self.port('submission')}",
                               "--user", f"alice@example.test:{PASSWORD}", "--mail-from", "alice@example.test",
                               "--mail-rcpt", "bob@example.test", "--upload-file", mail],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(curl.returncode, 0, curl.stderr)
        bob = self.inbox("bob@example.test")
        self.assertEqual(len(bob), 2)
        self.assertIn(b"Subject: from swaks", bob[0])
        self.assertTrue(bob[1].endswith(b"Subject: from curl\r\n\r\ncurl body\r\n"))


if __name__ == "__main__":
    unittest.main()
