"""Hostile input against IMAP and SMTP: each attack gets a clear error (or a closed
connection), and afterwards the server still serves a normal client promptly."""

import imaplib
import smtplib
import socket
import time
import unittest

from harness import Instance

PASSWORD = "a-long-password"
USER = "hank@example.test"


class Hostile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.instance = Instance(["smtp", "imap"], extra="[limits]\nconnections_per_ip = 50")
        cls.instance.add_account(USER, PASSWORD)
        cls.instance.start()
        cls.port = cls.instance.ports["imap"]

    @classmethod
    def tearDownClass(cls):
        cls.instance.close()

    def tearDown(self):
        # After every attack a normal client logs in, lists and reads promptly.
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        self.assertEqual(client.login(USER, PASSWORD)[0], "OK")
        self.assertEqual(client.select("INBOX")[0], "OK")
        client.logout()
        self.assertIsNone(self.instance.process.poll(), "the server is still running")

    def raw(self):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        self.addCleanup(sock.close)
        lines = sock.makefile("rb")
        lines.readline()
        return sock, lines

    def logged_in(self):
        sock, lines = self.raw()
        sock.sendall(f"a LOGIN {USER} {PASSWORD}\r\n".encode())
        self.assertTrue(lines.readline().startswith(b"a OK"))
        return sock, lines

    def test_oversize_line_gets_toobig(self):
        sock, lines = self.raw()
        sock.sendall(b"a NOOP " + b"x" * (200 * 1024) + b"\r\nb NOOP\r\n")
        self.assertTrue(lines.readline().startswith(b"a BAD [TOOBIG]"))
        self.assertTrue(lines.readline().startswith(b"b OK"))

    def test_oversize_literals_are_refused_before_they_are_sent(self):
        sock, lines = self.logged_in()
        sock.sendall(b"a APPEND INBOX {100000000}\r\n")
        self.assertTrue(lines.readline().startswith(b"a BAD [TOOBIG]"))
        sock.sendall(b"b APPEND INBOX {100000000+}\r\n")
        self.assertTrue(lines.readline().startswith(b"b BAD [TOOBIG]"))

    def test_deep_nesting_gets_limit(self):
        sock, lines = self.logged_in()
        sock.sendall(b"a SEARCH " + b"(" * 100 + b"ALL" + b")" * 100 + b"\r\n")
        self.assertTrue(lines.readline().startswith(b"a BAD [LIMIT]"))

    def test_nul_bytes_and_bad_names_never_reach_the_store(self):
        sock, lines = self.logged_in()
        for name in (b"{5+}\r\na\x00b/c", b'"../../etc/passwd"', b'"/absolute"', b'"a//b"',
                     b'"\xff\xfe"', b'"&Jjo"', b'"' + b"x" * 2000 + b'"'):
            sock.sendall(b"c CREATE " + name + b"\r\n")
            reply = lines.readline()
            self.assertTrue(reply.startswith(b"c NO") or reply.startswith(b"c BAD"), (name, reply))
        sock.sendall(b"d ENABLE UTF8=ACCEPT\r\n")
        lines.readline(), lines.readline()
        sock.sendall(b'e CREATE "bad \xc3\x28 utf8"\r\n')
        self.assertTrue(lines.readline().startswith(b"e BAD"))
        sock.sendall(b"f SELECT INBOX\r\n")
        while not lines.readline().startswith(b"f "):
            pass
        sock.sendall(b"g STORE 1:* +FLAGS (\\Bogus)\r\n")
        self.assertTrue(lines.readline()[:5] in (b"g BAD", b"g NO "))

    def test_endless_bad_commands_end_the_connection(self):
        sock, lines = self.raw()
        sock.sendall(b"x BOGUS\r\n" * 100)
        replies = []
        while True:
            line = lines.readline()
            if not line:
                break
            replies.append(line)
        self.assertIn(b"* BYE Too many invalid commands\r\n", replies)
        self.assertLess(len(replies), 30)

    def test_slow_drip_client_does_not_block_others(self):
        sock, lines = self.raw()
        for byte in b"a NOOP":
            sock.sendall(bytes([byte]))
            # Meanwhile another client is served at once.
            other = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
            other.noop()
            other.logout()
        sock.sendall(b"\r\n")
        self.assertTrue(lines.readline().startswith(b"a OK"))

    def test_many_connections_from_one_address_are_capped(self):
        held = []
        closed = 0
        for _ in range(60):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            held.append(sock)
            if not sock.makefile("rb").readline():
                closed += 1
        self.assertGreaterEqual(closed, 10)  # the 51st and later get no greeting
        for sock in held:
            sock.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the server notices the closes
            try:
                client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
                client.logout()
                break
            except (imaplib.IMAP4.abort, OSError):
                time.sleep(0.05)

    def test_pipelined_flood_of_commands_is_answered_in_order(self):
        sock, lines = self.logged_in()
        sock.sendall(b"".join(b"n%d NOOP\r\n" % i for i in range(2000)))
        for i in range(2000):
            self.assertEqual(lines.readline(), b"n%d OK NOOP completed\r\n" % i)

    def test_smtp_smuggling_and_bare_lf_stay_in_one_message(self):
        with smtplib.SMTP("127.0.0.1", self.instance.ports["smtp"], timeout=30) as smtp:
            smtp.ehlo("client.test")
            smtp.mail("x@remote.test")
            smtp.rcpt(USER)
            code, _ = smtp.data(b"Subject: one\r\n\r\nline\n.\nMAIL FROM:<evil@remote.test>\r\n")
            self.assertEqual(code, 250)
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(USER, PASSWORD)
        client.select("INBOX")
        typ, data = client.search(None, "FROM", "evil")
        self.assertEqual(data, [b""])
        client.logout()


if __name__ == "__main__":
    unittest.main()
