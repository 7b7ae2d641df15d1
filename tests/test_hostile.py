"""Hostile input against IMAP and SMTP: each attack gets a clear error (or a closed
connection), and afterwards the server still serves a normal client promptly."""

import base64
import imaplib
import smtplib
import socket
import ssl
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
        with smtplib.SMTP("127.0.0.1", self.instance.ports["smtp"], timeout=10) as smtp:
            self.assertEqual(smtp.ehlo("client.test")[0], 250)
            self.assertEqual(smtp.noop()[0], 250)
        self.assertIsNone(self.instance.process.poll(), "the server is still running")

    def raw(self, source="127.0.0.1"):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30,
                                        source_address=(source, 0))
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
        for _ in range(2000):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            if sock.makefile("rb").readline():
                held.append(sock)
            else:
                closed += 1
                sock.close()
        self.assertEqual(len(held), 50)  # the 51st and later get no greeting
        self.assertEqual(closed, 1950)
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

    def test_mailboxes_per_account_are_bounded(self):
        # 10000 in all (docs/security.md): the account's six, "f" and 9993 below it.
        self.instance.add_account("boxes@example.test", PASSWORD)
        sock, lines = self.raw()
        sock.sendall(f"a LOGIN boxes@example.test {PASSWORD}\r\n".encode())
        self.assertTrue(lines.readline().startswith(b"a OK"))
        sock.sendall(b"".join(b"c%d CREATE f/%d\r\n" % (i, i) for i in range(9993)))
        for i in range(9993):
            self.assertTrue(lines.readline().startswith(b"c%d OK " % i))
        sock.sendall(b"x CREATE one-more\r\ny CREATE f/9993\r\nz DELETE f/0\r\nw CREATE g\r\n")
        self.assertTrue(lines.readline().startswith(b"x NO [TOOBIG]"))
        self.assertTrue(lines.readline().startswith(b"y NO [TOOBIG]"))
        self.assertTrue(lines.readline().startswith(b"z OK"))
        self.assertTrue(lines.readline().startswith(b"w OK"))

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

    # SMTP: raw commands on one connection.
    def smtp_raw(self):
        sock = socket.create_connection(("127.0.0.1", self.instance.ports["smtp"]), timeout=30)
        self.addCleanup(sock.close)
        lines = sock.makefile("rb")
        self.assertTrue(lines.readline().startswith(b"220"))
        return sock, lines

    @staticmethod
    def smtp_reply(lines):
        """The last line of one (possibly multi-line) reply."""
        while True:
            line = lines.readline()
            if not line or line[3:4] != b"-":
                return line

    def test_smtp_nul_invalid_utf8_and_oversize_in_commands(self):
        sock, lines = self.smtp_raw()
        sock.sendall(b"EHLO client.test\r\n")
        self.assertTrue(self.smtp_reply(lines).startswith(b"250"))
        for command in (b"MAIL FROM:<a\x00b@remote.test>", b"MAIL FROM:<\xff\xfe@remote.test>",
                        b"MAIL FROM:<" + b"a" * 2000 + b"@remote.test>", b"MAIL FROM:<a@remote.test> X=\x01"):
            sock.sendall(command + b"\r\n")
            reply = self.smtp_reply(lines)
            self.assertTrue(reply[:1] == b"5", (command, reply))
        sock.sendall(b"MAIL FROM:<ok@remote.test>\r\n")
        self.assertTrue(self.smtp_reply(lines).startswith(b"250"))
        for command in (b"RCPT TO:<hank\x00@example.test>", b"RCPT TO:<\xc3\x28@example.test>",
                        b"RCPT TO:<../../etc/passwd@example.test>", b"RCPT TO:<hank@example.test/../x>"):
            sock.sendall(command + b"\r\n")
            reply = self.smtp_reply(lines)
            self.assertTrue(reply[:1] == b"5", (command, reply))
        sock.sendall(b"NOOP " + b"x" * 100000 + b"\r\nNOOP\r\n")
        self.assertTrue(self.smtp_reply(lines)[:1] == b"5")
        self.assertTrue(self.smtp_reply(lines).startswith(b"250"))

    def test_starttls_injection_is_discarded(self):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        # SMTP: a command pipelined after STARTTLS must not run inside the TLS session.
        sock, lines = self.smtp_raw()
        sock.sendall(b"EHLO client.test\r\n")
        self.smtp_reply(lines)
        sock.sendall(b"STARTTLS\r\nMAIL FROM:<injected@remote.test>\r\n")
        reply = self.smtp_reply(lines)
        if reply.startswith(b"220"):
            tls = context.wrap_socket(sock, server_hostname="mail.test")
            secure = tls.makefile("rb")
            tls.sendall(b"EHLO client.test\r\n")
            self.assertTrue(self.smtp_reply(secure).startswith(b"250"))
            tls.sendall(b"MAIL FROM:<real@remote.test>\r\n")
            self.assertTrue(self.smtp_reply(secure).startswith(b"250"), "no MAIL was injected")
            tls.close()
        else:
            self.assertTrue(reply[:1] in (b"5", b""), reply)
        # IMAP: the same.
        sock, lines = self.raw()
        sock.sendall(b"a STARTTLS\r\nb LOGIN hank@example.test a-long-password\r\n")
        reply = lines.readline()
        if reply.startswith(b"a OK"):
            tls = context.wrap_socket(sock, server_hostname="mail.test")
            secure = tls.makefile("rb")
            tls.sendall(b"c SELECT INBOX\r\n")
            reply = secure.readline()
            self.assertTrue(reply.startswith(b"c BAD") or reply.startswith(b"c NO"),
                            "the injected LOGIN must not have run: " + repr(reply))
            tls.close()
        else:
            self.assertTrue(reply[:1] in (b"a", b""), reply)

    def test_endless_headers_and_deep_mime_nesting(self):
        headers = b"".join(b"X-Filler-%d: value\r\n" % i for i in range(100000))
        nested = b""
        depth = 2000
        for level in range(depth):
            nested += b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (level, level)
        nested += b"Content-Type: text/plain\r\n\r\ndeep\r\n"
        for level in reversed(range(depth)):
            nested += b"--b%d--\r\n" % level
        with smtplib.SMTP("127.0.0.1", self.instance.ports["smtp"], timeout=60) as smtp:
            smtp.ehlo("client.test")
            for body in (headers + b"Subject: endless\r\n\r\nbody\r\n",
                         b"Subject: nested\r\nMIME-Version: 1.0\r\n" + nested,
                         b"Subject: long header\r\nX-Long: " + b"y" * 500000 + b"\r\n\r\nbody\r\n"):
                smtp.mail("x@remote.test")
                smtp.rcpt(USER)
                code, message = smtp.data(body)
                self.assertIn(code, (250, 552, 554), message)
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        client.login(USER, PASSWORD)
        client.select("INBOX")
        typ, data = client.fetch("1:*", "(BODYSTRUCTURE ENVELOPE BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(typ, "OK")
        typ, data = client.search(None, "TEXT", "deep")
        self.assertEqual(typ, "OK")
        client.logout()

    def test_odd_bytes_in_user_names_and_flags(self):
        # Each from an address of its own: the failures must not slow the next attempt.
        attempts = 0
        for user in (b'"us\x01er@example.test"', b"{12+}\r\nhank\x00@exampl", b'"' + b"u" * 5000 + b'"',
                     b'"hank@example.test\xff"', b'"../../hank@example.test"'):
            attempts += 1
            sock, lines = self.raw(f"127.0.3.{attempts}")
            sock.sendall(b"a LOGIN " + user + b" a-long-password\r\n")
            reply = lines.readline()
            self.assertTrue(reply.startswith(b"a NO") or reply.startswith(b"a BAD"), (user, reply))
        for blob in (b"\x00\x00\x00", b"\x00hank@example.test", b"a\x00b\x00c\x00d",
                     b"\x00" + b"x" * 3000 + b"\x00y"):
            attempts += 1
            sock, lines = self.raw(f"127.0.3.{attempts}")
            sock.sendall(b"a AUTHENTICATE PLAIN " + base64.b64encode(blob) + b"\r\n")
            reply = lines.readline()
            self.assertTrue(reply.startswith(b"a NO") or reply.startswith(b"a BAD"), (blob, reply))
        sock, lines = self.logged_in()
        sock.sendall(b"s SELECT INBOX\r\n")
        while not lines.readline().startswith(b"s "):
            pass
        for flags in (b"(a]b)", b"(\xff)", b"(" + b"k" * 5000 + b")", b"(a\x00b)", b"(a b (c))",
                      b"(" + b" ".join(b"k%d" % i for i in range(5000)) + b")"):
            sock.sendall(b"t STORE 1 +FLAGS " + flags + b"\r\n")
            while True:
                reply = lines.readline()
                if reply.startswith(b"t "):
                    break
            self.assertTrue(reply.startswith(b"t NO") or reply.startswith(b"t BAD"), (flags[:20], reply))

    def test_login_flood_on_one_connection(self):
        sock, lines = self.raw("127.0.4.1")
        sock.sendall(b"".join(b"l%d LOGIN hank@example.test wrong%d\r\n" % (i, i) for i in range(500)))
        replies = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = lines.readline()
            if not line:
                break
            replies.append(line)
        self.assertEqual(replies, [b"l0 NO [AUTHENTICATIONFAILED] Authentication failed\r\n",
                                   b"l1 NO [AUTHENTICATIONFAILED] Authentication failed\r\n",
                                   b"l2 NO [AUTHENTICATIONFAILED] Authentication failed\r\n",
                                   b"* BYE Too many failed logins\r\n"])


if __name__ == "__main__":
    unittest.main()
