"""POP3 against the real server with Python's poplib and raw sockets: USER/PASS and AUTH
PLAIN, CAPA, the TRANSACTION commands with exact sizes and dot-stuffing, DELE applied
only at QUIT (and seen by IMAP), RSET, STLS and pop3s with a test CA, the maildrop lock,
UIDLs equal to IMAP's UID and UIDVALIDITY across a restart, the login guard, line and
error limits, pipelining, revocation, the audit trail, 2000 messages downloaded and
deleted, and a kill -9 between RETR and QUIT that loses nothing."""

import base64
import imaplib
import os
import poplib
import signal
import socket
import ssl
import tempfile
import time
import urllib.request

from harness import Instance, InstanceTest, make_ca_signed_pair, readable_by_server

PASSWORD = "a-long-password"
USER = "paula@example.test"


def message(i, extra=""):
    return (f"From: Sender {i} <sender{i}@remote.test>\r\nTo: {USER}\r\n"
            f"Subject: message number {i}\r\nMessage-ID: <m{i}@remote.test>\r\n{extra}\r\n"
            f"This is the body of message {i}.\r\n.A line that starts with a dot\r\n").encode()


def crlf(raw):
    """What RETR sends of stored bytes: line ends as CRLF, a last line ended too."""
    out = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    return out if out.endswith(b"\r\n") or not out else out + b"\r\n"


class Raw:
    """A POP3 connection driven line by line."""

    def __init__(self, port, source="127.0.0.1"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30,
                                             source_address=(source, 0))
        self.lines = self.sock.makefile("rb")
        self.greeting = self.line()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        return self.lines.readline()

    def command(self, text):
        self.send(text + "\r\n")
        return self.line()

    def multiline(self):
        out = []
        while (line := self.line()) != b".\r\n":
            if not line:
                raise AssertionError("connection closed inside a multi-line response")
            out.append(line)
        return out

    def closed(self):
        """True once the server has closed the connection (EOF within the timeout)."""
        try:
            while self.lines.read1(65536):
                pass
            return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def close(self):
        self.lines.close()
        self.sock.close()


class Pop3Test(InstanceTest):
    services = ["smtp", "imap", "pop3", "pop3s"]

    def setUp(self):
        self.instance = Instance(self.services, extra=self.instance_extra())
        self.addCleanup(self.instance.close)
        self.instance.add_account(USER, PASSWORD)
        self.instance.start()
        self.port = self.instance.ports["pop3"]

    def instance_extra(self):
        return ""

    def pop(self, password=PASSWORD):
        client = poplib.POP3("127.0.0.1", self.port, timeout=60)
        client.user(USER)
        client.pass_(password)
        return client

    def pop_after_close(self):
        """A login right after a connection was closed without QUIT: the server frees the
        maildrop when it reads the close, which may come after the next login's PASS
        (-ERR [IN-USE], temporary: RFC 2449 section 8.1.1), so log in again."""
        for _ in range(50):
            try:
                return self.pop()
            except poplib.error_proto as error:
                if not error.args[0].startswith(b"-ERR [IN-USE]"):
                    raise
                time.sleep(0.1)
        return self.pop()

    def raw(self, source="127.0.0.1"):
        raw = Raw(self.port, source)
        self.addCleanup(raw.close)
        return raw

    def imap(self):
        client = imaplib.IMAP4("127.0.0.1", self.instance.ports["imap"], timeout=60)
        client.login(USER, PASSWORD)
        self.addCleanup(client.logout)
        return client

    def imap_uids(self):
        """(UIDVALIDITY, [UID...]) of INBOX as IMAP reports them."""
        client = imaplib.IMAP4("127.0.0.1", self.instance.ports["imap"], timeout=60)
        client.login(USER, PASSWORD)
        client.select("INBOX")
        uidvalidity = int(client.response("UIDVALIDITY")[1][0])
        typ, data = client.uid("SEARCH", "ALL")
        client.logout()
        return uidvalidity, [int(uid) for uid in data[0].split()]

class Transaction(Pop3Test):
    def test_capa_before_and_after_login(self):
        client = poplib.POP3("127.0.0.1", self.port, timeout=30)
        self.assertTrue(client.getwelcome().startswith(b"+OK"))
        capabilities = client.capa()
        for name in ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "USER", "STLS"]:
            self.assertIn(name, capabilities)
        self.assertEqual(capabilities["SASL"], ["PLAIN", "LOGIN"])
        client.user(USER)
        client.pass_(PASSWORD)
        after = client.capa()
        self.assertIn("UIDL", after)
        self.assertNotIn("USER", after)
        self.assertNotIn("STLS", after)
        client.quit()

    def test_stat_list_uidl_top_retr_with_exact_sizes_and_dot_stuffing(self):
        odd = [b"Subject: bare lf\n\nline one\n.dot\nlast line without an end",
               b"Subject: lone cr\r\n\r\none\rtwo\r\n..two dots\r\n",
               b"Subject: empty body\r\n\r\n"]
        self.instance.multiappend(USER, PASSWORD, [message(1), message(2)] + odd)
        stored = [message(1), message(2)] + odd
        client = self.pop()
        self.assertEqual(client.stat(), (5, sum(len(crlf(raw)) for raw in stored)))
        response, listing, _ = client.list()
        self.assertEqual(response, f"+OK 5 messages ({sum(len(crlf(r)) for r in stored)} octets)".encode())
        sizes = [int(line.split()[1]) for line in listing]
        self.assertEqual(sizes, [len(crlf(raw)) for raw in stored])
        self.assertEqual(client.list(3), f"+OK 3 {sizes[2]}".encode())
        for number, raw in enumerate(stored, 1):
            response, lines, octets = client.retr(number)
            self.assertEqual(response, f"+OK {sizes[number - 1]} octets".encode())
            self.assertEqual(octets, sizes[number - 1])  # what LIST said, unstuffed
            self.assertEqual(b"\r\n".join(lines) + b"\r\n", crlf(raw))
        # TOP: the header, the blank line and that many body lines.
        response, lines, _ = client.top(1, 1)
        self.assertEqual(lines[-2:], [b"", b"This is the body of message 1."])
        self.assertEqual(client.top(3, 0)[1], [b"Subject: bare lf", b""])
        self.assertEqual(client.top(3, 2)[1], [b"Subject: bare lf", b"", b"line one", b".dot"])
        with self.assertRaises(poplib.error_proto):
            client.retr(6)
        client.quit()

    def test_dele_counts_only_at_quit_rset_undoes_and_imap_sees_the_expunge(self):
        self.instance.multiappend(USER, PASSWORD, [message(i) for i in range(1, 6)])
        watcher = self.imap()
        watcher.select("INBOX")
        client = self.pop()
        total = client.stat()[1]
        self.assertEqual(client.dele(2), b"+OK Message 2 deleted")
        with self.assertRaises(poplib.error_proto) as again:
            client.dele(2)
        self.assertIn(b"is deleted", again.exception.args[0])
        with self.assertRaises(poplib.error_proto):
            client.retr(2)
        self.assertEqual(client.stat(), (4, total - len(crlf(message(2)))))
        self.assertEqual([int(line.split()[0]) for line in client.list()[1]], [1, 3, 4, 5])
        client.rset()
        self.assertEqual(client.stat(), (5, total))
        client.dele(1)
        client.dele(5)
        # Nothing is gone until QUIT.
        self.assertEqual(self.imap_uids()[1], [1, 2, 3, 4, 5])
        self.assertEqual(client.quit(), b"+OK Rampart POP3 signing off (2 messages deleted)")
        self.assertEqual(self.imap_uids()[1], [2, 3, 4])
        # A selected IMAP session is told through the change log.
        watcher.noop()
        self.assertEqual(len(watcher.response("EXPUNGE")[1]), 2)
        # A connection that ends without QUIT deletes nothing.
        client = self.pop()
        client.dele(1)
        client.close()
        client = self.pop_after_close()
        self.assertEqual(client.stat()[0], 3)
        client.quit()

    def test_the_maildrop_is_a_snapshot_from_login(self):
        self.instance.multiappend(USER, PASSWORD, [message(1)])
        client = self.pop()
        self.instance.multiappend(USER, PASSWORD, [message(2)])
        self.assertEqual(client.stat()[0], 1)
        client.quit()
        client = self.pop()
        self.assertEqual(client.stat()[0], 2)
        # Expunged by IMAP meanwhile: RETR says so; QUIT's DELE of it is no error.
        imap = self.imap()
        imap.select("INBOX")
        imap.uid("STORE", "1", "+FLAGS", "(\\Deleted)")
        imap.expunge()
        with self.assertRaises(poplib.error_proto) as gone:
            client.retr(1)
        self.assertIn(b"removed by another session", gone.exception.args[0])
        client.dele(1)
        self.assertTrue(client.quit().startswith(b"+OK"))

    def test_uidl_is_imap_uid_and_uidvalidity_and_survives_a_restart(self):
        self.instance.multiappend(USER, PASSWORD, [message(i) for i in range(1, 4)])
        uidvalidity, uids = self.imap_uids()
        expected = [f"{uid:08X}{uidvalidity:08X}".encode() for uid in uids]
        client = self.pop()
        self.assertEqual([line.split()[1] for line in client.uidl()[1]], expected)
        self.assertEqual(client.uidl(2), b"+OK 2 " + expected[1])
        client.quit()
        self.instance.stop()
        self.instance.log.clear()
        self.instance.start()
        client = self.pop()
        self.assertEqual([line.split()[1] for line in client.uidl()[1]], expected)
        client.dele(1)
        client.quit()
        client = self.pop()
        self.assertEqual([line.split()[1] for line in client.uidl()[1]], expected[1:])
        client.quit()

    def test_pipelined_commands_are_answered_in_order(self):
        self.instance.multiappend(USER, PASSWORD, [message(1), message(2)])
        raw = self.raw()
        raw.send(f"USER {USER}\r\nPASS {PASSWORD}\r\nSTAT\r\nLIST\r\nUIDL 2\r\nRETR 2\r\n"
                 "NOOP\r\nBOGUS\r\nQUIT\r\n")
        self.assertTrue(raw.line().startswith(b"+OK"))
        self.assertTrue(raw.line().startswith(b"+OK Logged in, 2 messages"))
        self.assertTrue(raw.line().startswith(b"+OK 2 "))
        raw.line()
        self.assertEqual(len(raw.multiline()), 2)
        self.assertTrue(raw.line().startswith(b"+OK 2 00000002"))
        raw.line()
        self.assertIn(b"This is the body of message 2.\r\n", raw.multiline())
        self.assertEqual(raw.line(), b"+OK\r\n")
        self.assertEqual(raw.line(), b"-ERR Unknown command\r\n")
        self.assertTrue(raw.line().startswith(b"+OK Rampart POP3 signing off"))
        self.assertTrue(raw.closed())

    def test_commands_out_of_state_are_refused(self):
        raw = self.raw()
        self.assertEqual(raw.command("STAT"), b"-ERR Log in first\r\n")
        self.assertEqual(raw.command(f"PASS {PASSWORD}"), b"-ERR Send USER first\r\n")
        raw.command(f"USER {USER}")
        self.assertTrue(raw.command(f"PASS {PASSWORD}").startswith(b"+OK Logged in"))
        self.assertEqual(raw.command("USER x"), b"-ERR Already logged in\r\n")
        self.assertEqual(raw.command("STLS"), b"-ERR Already logged in\r\n")
        self.assertEqual(raw.command("RETR 0"), b"-ERR No such message\r\n")
        self.assertEqual(raw.command("RETR x"), b"-ERR Invalid message number\r\n")


class Authentication(Pop3Test):
    def plain(self, user=USER, password=PASSWORD):
        return base64.b64encode(f"\0{user}\0{password}".encode()).decode()

    def test_auth_plain_with_an_initial_response_and_after_a_continuation(self):
        raw = self.raw()
        self.assertTrue(raw.command(f"AUTH PLAIN {self.plain()}").startswith(b"+OK Logged in"))
        raw.command("QUIT")
        raw = self.raw()
        self.assertEqual(raw.command("AUTH PLAIN"), b"+ \r\n")
        self.assertTrue(raw.command(self.plain()).startswith(b"+OK Logged in"))
        raw.command("QUIT")
        raw = self.raw()
        self.assertEqual(raw.command("AUTH PLAIN"), b"+ \r\n")
        self.assertEqual(raw.command("*"), b"-ERR Authentication cancelled\r\n")
        self.assertEqual(raw.command(f"AUTH PLAIN {self.plain(password='wrong')}"),
                         b"-ERR [AUTH] Authentication failed\r\n")
        self.assertEqual(raw.command("AUTH CRAM-MD5"), b"-ERR Unsupported authentication mechanism\r\n")
        self.assertEqual(raw.command("AUTH"), b"+OK Mechanisms follow\r\n")
        self.assertEqual(raw.multiline(), [b"PLAIN\r\n", b"LOGIN\r\n"])
        # LOGIN: the user name and the password, each after its challenge.
        self.assertEqual(raw.command("AUTH LOGIN"), b"+ VXNlcm5hbWU6\r\n")
        self.assertEqual(raw.command(base64.b64encode(USER.encode()).decode()), b"+ UGFzc3dvcmQ6\r\n")
        self.assertTrue(raw.command(base64.b64encode(PASSWORD.encode()).decode())
                        .startswith(b"+OK Logged in"))

    def test_wrong_passwords_go_through_the_login_guard(self):
        raw = self.raw("127.0.0.100")
        raw.command(f"USER {USER}")
        self.assertTrue(raw.command(f"PASS {PASSWORD}").startswith(b"+OK"))
        raw.command("QUIT")
        # Three failures end a connection.
        raw = self.raw("127.0.0.2")
        for _ in range(3):
            raw.command(f"USER {USER}")
            self.assertEqual(raw.command("PASS guess"), b"-ERR [AUTH] Authentication failed\r\n")
        self.assertTrue(raw.closed())
        # Failures from networks the account does not know lock them out, not its owner.
        for source in range(3, 12):
            raw = self.raw(f"127.0.0.{source}")
            raw.command(f"USER {USER}")
            raw.command("PASS guess")
        raw = self.raw("127.0.0.50")
        raw.command(f"USER {USER}")
        self.assertTrue(raw.command(f"PASS {PASSWORD}").startswith(b"-ERR [SYS/TEMP]"))
        raw = self.raw("127.0.0.100")
        raw.command(f"USER {USER}")
        self.assertTrue(raw.command(f"PASS {PASSWORD}").startswith(b"+OK"))
        self.assertIn("pop3: login for", self.instance.log_text())
        failed = self.instance.wait_for_audit(lambda r: len(r) >= 12, "--kind", "login-failed")
        self.assertTrue(failed)
        self.assertEqual({record["protocol"] for record in failed}, {"pop3"})

    def test_a_second_login_to_a_locked_maildrop_is_told_in_use(self):
        first = self.pop()
        raw = self.raw()
        raw.command(f"USER {USER}")
        self.assertTrue(raw.command(f"PASS {PASSWORD}").startswith(b"-ERR [IN-USE]"))
        # Still in the AUTHORIZATION state: it may try again once the lock is gone.
        first.quit()
        raw.command(f"USER {USER}")
        self.assertTrue(raw.command(f"PASS {PASSWORD}").startswith(b"+OK Logged in"))
        # A connection that drops releases the lock too.
        raw.close()
        end = time.monotonic() + 20
        while True:
            again = self.raw()
            again.command(f"USER {USER}")
            if again.command(f"PASS {PASSWORD}").startswith(b"+OK") or time.monotonic() > end:
                break
        self.assertLess(time.monotonic(), end)

    def test_revoked_credentials_end_the_session_and_delete_nothing(self):
        self.instance.multiappend(USER, PASSWORD, [message(1)])
        made = self.instance.cli("user", "app-password", "add", USER, "phone")
        self.assertEqual(made.returncode, 0, made.stderr)
        client = self.pop(made.stdout.strip())
        client.dele(1)
        self.assertEqual(self.instance.cli("user", "app-password", "remove", USER, "phone").returncode, 0)
        with self.assertRaises(poplib.error_proto) as ended:
            client.stat()
        self.assertEqual(ended.exception.args[0], b"-ERR [AUTH] Credentials changed: log in again")
        self.instance.wait_for_log("credentials changed, session ended")  # logged as it ends
        client = self.pop()
        self.assertEqual(client.stat()[0], 1)
        client.quit()


class Limits(Pop3Test):
    def test_a_line_too_long_is_refused_and_the_session_goes_on(self):
        raw = self.raw()
        self.assertEqual(raw.command("USER " + "x" * 300),
                         b"-ERR Line too long: a command is at most 255 octets\r\n")
        self.assertEqual(raw.command("NOOP"), b"-ERR Log in first\r\n")
        raw.command(f"USER {USER}")
        self.assertTrue(raw.command(f"PASS {PASSWORD}").startswith(b"+OK"))
        self.assertEqual(raw.command("NOOP " + "y" * 100000),
                         b"-ERR Line too long: a command is at most 255 octets\r\n")
        self.assertEqual(raw.command("NOOP"), b"+OK\r\n")

    def test_twenty_errors_in_a_row_end_the_connection(self):
        raw = self.raw()
        raw.send("BOGUS\r\n" * 19 + "CAPA\r\n")
        for _ in range(19):
            self.assertEqual(raw.line(), b"-ERR Unknown command\r\n")
        self.assertTrue(raw.line().startswith(b"+OK"))  # a good reply starts the count again
        raw.multiline()
        raw.send(("z" * 400 + "\r\n") * 25)
        for _ in range(20):
            self.assertTrue(raw.line().startswith(b"-ERR Line too long"))
        self.assertTrue(raw.closed())
        # Others are still served.
        client = self.pop()
        client.quit()


class Metrics(InstanceTest):
    services = ["pop3", "http"]

    def test_pop3_connections_and_logins_are_counted(self):
        instance = Instance(self.services, extra=f'[http]\nmetrics_accounts = ["{USER}"]')
        self.addCleanup(instance.close)
        instance.add_account(USER, PASSWORD)
        instance.start()
        client = poplib.POP3("127.0.0.1", instance.ports["pop3"], timeout=30)
        client.user(USER)
        client.pass_(PASSWORD)
        client.quit()
        request = urllib.request.Request(f"http://127.0.0.1:{instance.ports['http']}/metrics")
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read().decode()
        self.assertIn('rampart_logins_total{protocol="pop3",result="success"} 1', body)
        self.assertIn('rampart_connections_total{service="pop3"} 1', body)


class Tls(Pop3Test):
    def instance_extra(self):
        work = tempfile.TemporaryDirectory(prefix="rampart-pop3-tls-")
        self.addCleanup(work.cleanup)
        ca, cert, key = make_ca_signed_pair(work.name)
        readable_by_server(cert, key)
        self.context = ssl.create_default_context(cafile=ca)
        return f'[tls]\ncert = "{cert}"\nkey = "{key}"'

    def test_stls_then_login_with_the_certificate_checked(self):
        self.instance.multiappend(USER, PASSWORD, [message(1)])
        client = MailTest(self.port)
        self.assertIn("STLS", client.capa())
        client.stls(self.context)
        self.assertNotIn("STLS", client.capa())
        client.user(USER)
        client.pass_(PASSWORD)
        self.assertEqual(client.retr(1)[1][-1], b".A line that starts with a dot")
        client.quit()

    def test_pop3s_with_the_certificate_checked(self):
        self.instance.multiappend(USER, PASSWORD, [message(1), message(2)])
        client = MailTestSsl(self.instance.ports["pop3s"], self.context)
        self.assertNotIn("STLS", client.capa())
        client.user(USER)
        client.pass_(PASSWORD)
        self.assertEqual(client.stat()[0], 2)
        client.dele(1)
        client.quit()
        self.assertEqual(self.imap_uids()[1], [2])

    def test_pipelined_bytes_after_stls_are_discarded(self):
        raw = self.raw()
        raw.send(f"STLS\r\nUSER {USER}\r\n")
        self.assertEqual(raw.line(), b"+OK Begin TLS negotiation\r\n")
        tls = self.context.wrap_socket(raw.sock, server_hostname="mail.test")
        tls.sendall(b"PASS " + PASSWORD.encode() + b"\r\n")
        self.assertEqual(tls.recv(1000), b"-ERR Send USER first\r\n")
        tls.close()


class Durability(Pop3Test):
    def test_two_thousand_messages_downloaded_deleted_and_gone(self):
        count = 2000
        self.instance.multiappend(USER, PASSWORD, [message(i) for i in range(1, count + 1)])
        client = self.pop()
        self.assertEqual(client.stat()[0], count)
        sizes = [int(line.split()[1]) for line in client.list()[1]]
        for number in range(1, count + 1):
            response, lines, octets = client.retr(number)
            self.assertEqual(octets, sizes[number - 1])
            self.assertEqual(lines[2], f"Subject: message number {number}".encode())
            client.dele(number)
        self.assertEqual(client.stat(), (0, 0))
        self.assertTrue(client.quit().startswith(b"+OK"))
        self.assertEqual(self.imap_uids()[1], [])
        client = self.pop()
        self.assertEqual(client.stat(), (0, 0))
        client.quit()
        # Reads and deletions count towards the audit trail's alerts, as IMAP's do.
        self.instance.wait_for_log("alert: bulk-download")
        self.instance.wait_for_log("alert: mass-deletion")

    def test_a_kill_between_retr_and_quit_loses_nothing(self):
        self.instance.multiappend(USER, PASSWORD, [message(i) for i in range(1, 51)])
        before = self.imap_uids()
        client = self.pop()
        for number in range(1, 21):
            client.retr(number)
            client.dele(number)
        self.instance.stop(signal.SIGKILL)
        client.close()
        self.instance.log.clear()
        self.instance.start()
        self.assertEqual(self.imap_uids(), before)
        client = self.pop()
        self.assertEqual(client.stat()[0], 50)
        for number in (1, 20, 50):
            self.assertEqual(b"\r\n".join(client.retr(number)[1]) + b"\r\n", crlf(message(number)))
        client.quit()

    def test_reads_and_deletions_are_audited(self):
        self.instance.multiappend(USER, PASSWORD, [message(1), message(2)])
        client = self.pop()
        client.retr(1)
        client.top(2, 0)
        client.dele(2)
        client.quit()
        reads = self.instance.wait_for_audit(lambda r: len(r) >= 2, "--kind", "read")
        self.assertEqual(sorted(record["detail"] for record in reads),
                         ["RETR UID 1 with content", "TOP UID 2 (header and 0 body lines)"])
        for record in reads:
            self.assertEqual((record["account"], record["address"], record["protocol"],
                              record["mailbox"], record["count"]),
                             (USER, "127.0.0.1", "pop3", "INBOX", 1))
        expunged = self.instance.wait_for_audit(lambda r: r, "--kind", "expunge")
        self.assertEqual([(r["protocol"], r["count"], r["detail"]) for r in expunged],
                         [("pop3", 1, "QUIT: UID 2")])
        opened = self.instance.audit("--kind", "open")
        self.assertEqual([(r["protocol"], r["count"], r["detail"]) for r in opened],
                         [("pop3", 2, "POP3 maildrop")])
        self.assertIn("pop3", {r["protocol"] for r in self.instance.audit("--kind", "login")})


def routable_address():
    """This machine's address towards the Internet (no packet is sent), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


class Plaintext(InstanceTest):
    services = ["pop3"]

    def test_no_password_without_tls_off_loopback(self):
        address = routable_address()
        if address is None:
            self.skipTest("no address other than loopback on this machine")
        with open(self.instance.config) as f:
            config = f.read()
        with open(self.instance.config, "w") as f:
            f.write(config.replace("127.0.0.1", address))
        self.instance.add_account(USER, PASSWORD)
        self.instance.start()
        client = poplib.POP3(address, self.instance.ports["pop3"], timeout=30)
        capabilities = client.capa()
        self.assertIn("STLS", capabilities)
        self.assertNotIn("USER", capabilities)
        self.assertNotIn("SASL", capabilities)
        with self.assertRaises(poplib.error_proto) as refused:
            client.user(USER)
        self.assertIn(b"use STLS first", refused.exception.args[0])
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        client.stls(context)
        client.user(USER)
        client.pass_(PASSWORD)
        client.quit()


class MailTest(poplib.POP3):
    """poplib to 127.0.0.1 that checks the certificate's name as mail.test."""

    def __init__(self, port):
        super().__init__("mail.test", port, timeout=30)

    def _create_socket(self, timeout):
        return socket.create_connection(("127.0.0.1", self.port), timeout)


class MailTestSsl(poplib.POP3_SSL):
    def __init__(self, port, context):
        super().__init__("mail.test", port, timeout=30, context=context)

    def _create_socket(self, timeout):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout)
        return self.context.wrap_socket(sock, server_hostname=self.host)
