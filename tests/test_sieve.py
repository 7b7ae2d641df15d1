"""Sieve filtering and ManageSieve against the real server. ManageSieve (RFC 5804)
through a raw client written from the RFC's text, Debian's `sieve-connect` and
python3-sievelib; scripts stored that way then run on mail delivered by SMTP, the
outcome checked over IMAP: fileinto (:create), imap4flags, discard, reject (a DSN to
the sender), redirect (to another account, never back to the sender), vacation (once
per sender), editheader, a failing script (kept), and the audit trail's record."""

import base64
import email
import imaplib
import os
import re
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import InstanceTest

PASSWORD = "a-long-password"
USER = "sam@example.test"
OTHER = "olga@example.test"


class Sieve:
    """A ManageSieve connection driven command by command."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.file = self.sock.makefile("rb")
        status, self.capabilities = self.response()
        assert status.startswith(b"OK"), status

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        """One response line with any literal it ends with read in."""
        line = self.file.readline()
        if not line:
            raise AssertionError("connection closed")
        out = line
        while (m := re.search(rb"\{(\d+)\}\r\n$", out)):
            out = out[: m.start()] + self.file.read(int(m.group(1)))
            rest = self.file.readline()
            out += rest
        return out

    def response(self):
        """(the OK/NO/BYE line, the lines before it)."""
        lines = []
        while True:
            line = self.line()
            if re.match(rb"(OK|NO|BYE)( |\r\n)", line):
                return line, lines
            lines.append(line)

    def command(self, text):
        self.send(text if isinstance(text, bytes) else text + "\r\n")
        return self.response()

    def login(self, user=USER, password=PASSWORD):
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        status, _ = self.command(f'AUTHENTICATE "PLAIN" "{token}"')
        assert status.startswith(b"OK"), status

    def put(self, name, script, activate=True):
        body = script.encode()
        status, _ = self.command(f'PUTSCRIPT "{name}" {{{len(body)}+}}\r\n'.encode() + body + b"\r\n")
        assert status.startswith(b"OK"), status
        if activate:
            status, _ = self.command(f'SETACTIVE "{name}"')
            assert status.startswith(b"OK"), status

    def close(self):
        self.file.close()
        self.sock.close()


def capabilities(lines):
    out = {}
    for line in lines:
        parts = re.findall(rb'"((?:[^"\\]|\\.)*)"', line)
        out[parts[0].decode().upper()] = parts[1].decode() if len(parts) > 1 else None
    return out


class SieveTest(InstanceTest):
    def setUp(self):
        super().setUp()
        self.instance.add_account(USER, PASSWORD)
        self.instance.add_account(OTHER, PASSWORD)
        self.instance.start()

    def sieve(self, login=True):
        client = Sieve(self.instance.ports["managesieve"])
        self.addCleanup(client.close)
        if login:
            client.login()
        return client

    def deliver(self, subject, to=USER, sender="ann@remote.test", extra="", rcpt=None):
        raw = (f"From: Ann <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
               f"Message-ID: <{abs(hash((subject, to, time.time())))}@remote.test>\r\n{extra}\r\n"
               f"Body of {subject}.\r\n")
        with smtplib.SMTP("127.0.0.1", self.instance.ports["smtp"], timeout=30) as smtp:
            smtp.sendmail(sender, rcpt or [to], raw.encode())

    def imap(self, user=USER):
        client = imaplib.IMAP4("127.0.0.1", self.instance.ports["imap"])
        client.login(user, PASSWORD)
        self.addCleanup(client.logout)
        return client

    def subjects(self, mailbox="INBOX", user=USER, flags=False):
        """{subject: flags} (without \\Recent) of the mailbox's messages; None when there is
        no such mailbox."""
        client = imaplib.IMAP4("127.0.0.1", self.instance.ports["imap"])
        try:
            client.login(user, PASSWORD)
            status, count = client.select(f'"{mailbox}"')
            if status != "OK":
                return None
            out = {}
            if int(count[0]) > 0:
                _, data = client.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
                for item in data:
                    if isinstance(item, tuple):
                        subject = email.message_from_bytes(item[1])["Subject"]
                        found = re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1).decode().split()
                        out[subject] = set(found) - {"\\Recent"}
            return out if flags else set(out)
        finally:
            client.logout()

    def eventually(self, produce, expected, deadline=20):
        end = time.monotonic() + deadline
        while True:
            got = produce()
            if got == expected or time.monotonic() > end:
                return got
            time.sleep(0.1)


class ManageSieveTest(SieveTest):
    def test_greeting_lists_the_capabilities_rfc_5804_names(self):
        client = self.sieve(login=False)
        caps = capabilities(client.capabilities)
        self.assertEqual(caps["IMPLEMENTATION"], "Rampart")
        self.assertEqual(caps["VERSION"], "1.0")
        self.assertEqual(caps["SASL"], "PLAIN LOGIN")  # loopback: plaintext allowed
        self.assertIn("STARTTLS", caps)
        self.assertEqual(caps["MAXREDIRECTS"], "4")
        for extension in ["fileinto", "reject", "envelope", "imap4flags", "vacation", "variables",
                          "body", "copy", "editheader", "include", "duplicate", "regex"]:
            self.assertIn(extension, caps["SIEVE"].split())
        status, lines = client.command("CAPABILITY")
        self.assertEqual(status, b"OK\r\n")
        self.assertEqual(capabilities(lines), caps)
        # Before a login, nothing about scripts.
        status, _ = client.command("LISTSCRIPTS")
        self.assertTrue(status.startswith(b"NO"))
        client.login()
        caps = capabilities(client.command("CAPABILITY")[1])
        self.assertEqual(caps["OWNER"], USER)
        self.assertNotIn("STARTTLS", caps)

    def test_authenticate_with_and_without_initial_response(self):
        client = self.sieve(login=False)
        status, _ = client.command('AUTHENTICATE "PLAIN" "' + base64.b64encode(
            f"\0{USER}\0wrong".encode()).decode() + '"')
        self.assertTrue(status.startswith(b"NO"), status)
        # No initial response: the server sends an empty challenge string.
        client.send('AUTHENTICATE "PLAIN"\r\n')
        self.assertEqual(client.line(), b'""\r\n')
        token = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode())
        status, _ = client.command(b"{%d+}\r\n" % len(token) + token + b"\r\n")
        self.assertEqual(status, b'OK "Logged in"\r\n')
        status, _ = client.command('AUTHENTICATE "PLAIN" "x"')
        self.assertTrue(status.startswith(b"NO"))
        # LOGIN, and a client that cancels with "*".
        other = self.sieve(login=False)
        other.send('AUTHENTICATE "LOGIN"\r\n')
        self.assertEqual(other.line(), b'"VXNlcm5hbWU6"\r\n')
        status, _ = other.command('"*"')
        self.assertTrue(status.startswith(b"NO"), status)
        other.send('AUTHENTICATE "LOGIN"\r\n')
        other.line()
        other.send(f'"{base64.b64encode(USER.encode()).decode()}"\r\n')
        self.assertEqual(other.line(), b'"UGFzc3dvcmQ6"\r\n')
        status, _ = other.command(f'"{base64.b64encode(PASSWORD.encode()).decode()}"')
        self.assertTrue(status.startswith(b"OK"), status)

    def test_script_commands_and_their_response_codes(self):
        client = self.sieve()
        self.assertEqual(client.command('HAVESPACE "first" 1000')[0], b"OK\r\n")
        status, _ = client.command('HAVESPACE "first" 9999999')
        self.assertTrue(status.startswith(b"NO (QUOTA/MAXSIZE)"), status)
        # A script that does not parse is refused, with the line it fails on.
        status, _ = client.command('PUTSCRIPT "bad" "if true { frobnicate; }"')
        self.assertTrue(status.startswith(b"NO"), status)
        self.assertIn(b"line 1", status)
        self.assertTrue(client.command('CHECKSCRIPT "require \\"fileinto\\"; fileinto \\"x\\";"')[0]
                        .startswith(b"OK"))
        self.assertTrue(client.command('CHECKSCRIPT "fileinto \\"x\\";"')[0].startswith(b"NO"))
        client.put("first", "keep;\r\n", activate=False)
        client.put("second", 'require "fileinto";\r\nfileinto "Archive";\r\n')
        status, lines = client.command("LISTSCRIPTS")
        self.assertEqual(status, b"OK\r\n")
        self.assertEqual(sorted(lines), [b'"first"\r\n', b'"second" ACTIVE\r\n'])
        client.send('GETSCRIPT "second"\r\n')
        script = b'require "fileinto";\r\nfileinto "Archive";\r\n'
        self.assertEqual(client.file.readline(), b"{%d}\r\n" % len(script))
        self.assertEqual(client.file.read(len(script) + 2), script + b"\r\n")
        self.assertEqual(client.file.readline(), b"OK\r\n")
        self.assertTrue(client.command('GETSCRIPT "none"')[0].startswith(b"NO (NONEXISTENT)"))
        self.assertTrue(client.command('SETACTIVE "none"')[0].startswith(b"NO (NONEXISTENT)"))
        self.assertTrue(client.command('DELETESCRIPT "second"')[0].startswith(b"NO (ACTIVE)"))
        self.assertTrue(client.command('RENAMESCRIPT "first" "second"')[0].startswith(b"NO (ALREADYEXISTS)"))
        self.assertTrue(client.command('RENAMESCRIPT "second" "third"')[0].startswith(b"OK"))
        self.assertIn(b'"third" ACTIVE\r\n', client.command("LISTSCRIPTS")[1])
        self.assertTrue(client.command('SETACTIVE ""')[0].startswith(b"OK"))
        self.assertTrue(client.command('DELETESCRIPT "third"')[0].startswith(b"OK"))
        self.assertEqual(client.command("LISTSCRIPTS")[1], [b'"first"\r\n'])
        self.assertEqual(client.command('NOOP "tag-1"')[0], b'OK (TAG "tag-1") "Done"\r\n')
        self.assertEqual(client.command("LOGOUT")[0], b'OK "Logout"\r\n')
        # Every change is in the audit trail.
        records = self.instance.wait_for_audit(
            lambda rs: any("deleted" in r["detail"] for r in rs), "--account", USER)
        details = [r["detail"] for r in records if r["protocol"] == "managesieve"]
        self.assertIn('sieve script "second" activated', details)
        self.assertIn('sieve script "third" deleted', details)

    def test_limits_on_names_sizes_and_counts(self):
        client = self.sieve()
        # A literal over the script limit is read past, refused, and the session goes on.
        big = b"#" * (64 * 1024 + 1)
        status, _ = client.command(b'PUTSCRIPT "big" {%d+}\r\n' % len(big) + big + b"\r\n")
        self.assertTrue(status.startswith(b"NO (QUOTA/MAXSIZE)"), status)
        self.assertTrue(client.command('PUTSCRIPT "bad\\\\name\x01" "keep;"')[0].startswith(b"NO"))
        for n in range(32):
            client.put(f"s{n}", "keep;", activate=False)
        status, _ = client.command('PUTSCRIPT "one-more" "keep;"')
        self.assertTrue(status.startswith(b"NO (QUOTA/MAXSCRIPTS)"), status)
        self.assertTrue(client.command('HAVESPACE "one-more" 10')[0].startswith(b"NO (QUOTA/MAXSCRIPTS)"))
        # Replacing one that exists still fits.
        self.assertTrue(client.command('PUTSCRIPT "s0" "discard;"')[0].startswith(b"OK"))
        # A quoted string is at most 1024 octets; a line at most 8 KiB.
        status, _ = client.command('NOOP "' + "x" * 1025 + '"')
        self.assertTrue(status.startswith(b"NO"))
        status, _ = client.command("NOOP " + "x" * 9000)
        self.assertTrue(status.startswith(b"NO"))
        self.assertTrue(client.command("NOOP")[0].startswith(b"OK"))
        # Errors in a row end the connection with BYE.
        for _ in range(19):
            client.send("BOGUS\r\n")
        for _ in range(19):
            self.assertTrue(client.response()[0].startswith(b"NO"))
        status, _ = client.command("BOGUS")
        self.assertTrue(status.startswith(b"NO"), status)
        self.assertTrue(client.line().startswith(b"BYE"))

    def test_starttls_reissues_the_capabilities(self):
        client = self.sieve(login=False)
        self.assertEqual(client.command("STARTTLS")[0], b'OK "Begin TLS negotiation"\r\n')
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        client.sock = context.wrap_socket(client.sock)
        client.file = client.sock.makefile("rb")
        status, lines = client.response()
        self.assertTrue(status.startswith(b"OK"))
        caps = capabilities(lines)
        self.assertNotIn("STARTTLS", caps)
        self.assertEqual(caps["SASL"], "PLAIN LOGIN")
        client.login()
        self.assertEqual(client.command("LISTSCRIPTS")[0], b"OK\r\n")

    def test_sieve_connect_uploads_lists_downloads_and_activates(self):
        work = tempfile.mkdtemp()
        local = os.path.join(work, "rules.sieve")
        with open(local, "w") as f:
            f.write('require ["fileinto"];\r\nif header :contains "subject" "report" {\r\n'
                    '  fileinto "Reports";\r\n}\r\n')

        def connect(*args):
            read, write = os.pipe()
            os.write(write, (PASSWORD + "\n").encode())
            os.close(write)
            done = subprocess.run(
                ["sieve-connect", "--server", "127.0.0.1", "--port", str(self.instance.ports["managesieve"]),
                 "--user", USER, "--passwordfd", str(read), "--notlsverify", "--authmech", "PLAIN", *args],
                capture_output=True, text=True, timeout=60, pass_fds=(read,))
            os.close(read)
            self.assertEqual(done.returncode, 0, done.stderr + done.stdout)
            return done.stdout

        connect("--upload", "--localsieve", local, "--remotesieve", "rules")
        connect("--activate", "--remotesieve", "rules")
        self.assertIn("rules", connect("--list"))
        downloaded = os.path.join(work, "back.sieve")
        connect("--download", "--remotesieve", "rules", "--localsieve", downloaded)
        with open(local, "rb") as a, open(downloaded, "rb") as b:
            self.assertEqual(a.read().replace(b"\r\n", b"\n"), b.read().replace(b"\r\n", b"\n"))
        self.imap().create("Reports")  # fileinto without :create needs the mailbox
        self.deliver("Monthly report")
        self.deliver("Lunch")
        self.assertEqual(self.eventually(lambda: self.subjects("Reports"), {"Monthly report"}),
                         {"Monthly report"})
        self.assertEqual(self.subjects(), {"Lunch"})

    def test_sievelib_client(self):
        from sievelib.managesieve import Client
        client = Client("127.0.0.1", self.instance.ports["managesieve"])
        self.assertTrue(client.connect(USER, PASSWORD, starttls=False, authmech="PLAIN"))
        self.assertIn("fileinto", client.get_sieve_capabilities())
        self.assertTrue(client.putscript("lib", 'require "fileinto";\nfileinto "Lib";\n'))
        self.assertTrue(client.setactive("lib"))
        active, others = client.listscripts()
        self.assertEqual(active, "lib")
        self.assertEqual(client.getscript("lib"), 'require "fileinto";\nfileinto "Lib";\n')
        self.assertFalse(client.putscript("broken", "if {"))
        self.assertTrue(client.havespace("x", 100))
        client.logout()


class SieveDeliveryTest(SieveTest):
    def test_fileinto_create_flags_and_discard(self):
        self.sieve().put("main", (
            'require ["fileinto", "mailbox", "imap4flags"];\r\n'
            'if header :contains "subject" "invoice" {\r\n'
            '  fileinto :create :flags ["\\\\Flagged", "$Invoice"] "Money/Invoices"; stop;\r\n}\r\n'
            'if header :contains "subject" "spam" { discard; stop; }\r\n'
            'if address :domain "from" "remote.test" { addflag "\\\\Seen"; }\r\n'))
        self.deliver("Your invoice 42")
        self.deliver("Buy spam now")
        self.deliver("Hello")
        got = self.eventually(lambda: self.subjects("Money/Invoices", flags=True),
                              {"Your invoice 42": {"\\Flagged", "$Invoice"}})
        self.assertEqual(got, {"Your invoice 42": {"\\Flagged", "$Invoice"}})
        self.assertEqual(self.subjects(flags=True), {"Hello": {"\\Seen"}})
        record = self.instance.wait_for_audit(
            lambda rs: any("Invoices" in r["mailbox"] for r in rs), "--account", USER)
        delivery = [r for r in record if r["kind"] == "delivery" and "Invoices" in r["mailbox"]]
        self.assertIn("sieve: fileinto Money/Invoices", delivery[0]["detail"])
        self.instance.wait_for_log(f"delivery: {USER}: sieve: discard")

    def test_reject_redirect_and_vacation_answer_a_local_sender(self):
        self.sieve().put("main", (
            'require ["reject", "vacation", "copy"];\r\n'
            'if header :contains "subject" "unwanted" { reject "Not here, thanks."; stop; }\r\n'
            f'if header :contains "subject" "share" {{ redirect :copy "{OTHER}"; }}\r\n'
            'vacation :days 3 :subject "Away" "I am away until Monday.";\r\n'))
        self.deliver("An unwanted offer", sender=OTHER)
        self.deliver("Please share this")
        self.deliver("Question one", sender=OTHER)
        self.deliver("Question two", sender=OTHER)
        # The sender of the refused message hears why; the redirected copy reaches the
        # other account; vacation answers the first question only.
        want = {"Please share this", "Away"}
        got = self.eventually(lambda: {s for s in self.subjects(user=OTHER) if not s.startswith("Undeliver")} , want)
        self.assertEqual(got, want)
        inbox = self.subjects(user=OTHER)
        bounces = [s for s in inbox if s.startswith("Undeliver")]
        self.assertEqual(len(bounces), 1, inbox)
        self.assertEqual(self.subjects(), {"Please share this", "Question one", "Question two"})
        client = self.imap(OTHER)
        client.select("INBOX")
        _, found = client.search(None, "SUBJECT", "Undeliver")
        _, data = client.fetch(found[0].split()[0], "(BODY.PEEK[])")
        self.assertIn(b"Not here, thanks.", data[0][1])
        _, found = client.search(None, "SUBJECT", "share")
        _, data = client.fetch(found[0].split()[0], "(BODY.PEEK[HEADER])")
        self.assertIn(f"X-Sieve-Redirected-From: {USER}".encode(), data[0][1])
        _, found = client.search(None, "SUBJECT", "Away")
        _, data = client.fetch(found[0].split()[0], "(BODY.PEEK[])")
        self.assertIn(b"Auto-Submitted: auto-replied", data[0][1])
        self.assertIn(b"I am away until Monday.", data[0][1])

    def test_redirect_never_goes_back_to_the_sender_and_loops_end(self):
        # Each account redirects everything to the other: one copy each, no loop.
        self.sieve().put("main", f'redirect "{OTHER}";\r\n')
        other = Sieve(self.instance.ports["managesieve"])
        self.addCleanup(other.close)
        other.login(OTHER)
        other.put("main", f'redirect "{USER}";\r\n')
        self.deliver("Ping pong", sender="ann@remote.test")
        self.instance.wait_for_log("a loop")
        self.assertEqual(self.subjects(), set())
        # Redirecting to the message's own sender is not done: the message is dropped
        # here (redirect replaced the keep) but nothing goes back.
        other.put("main", "keep;\r\n")
        self.sieve().put("main", 'redirect "ann@remote.test";\r\n')
        self.deliver("Back to you", sender="ann@remote.test")
        self.instance.wait_for_log("back to the sender")
        self.assertNotIn("ann@remote.test", self.instance.cli("queue", "list").stdout)

    def test_editheader_and_a_script_that_fails_keeps_the_message(self):
        self.sieve().put("main", (
            'require ["editheader", "variables"];\r\n'
            'if header :matches "subject" "*tagged*" { addheader "X-Filtered" "by ${1}rule"; }\r\n'))
        self.deliver("This is tagged mail")
        client = self.imap()
        client.select("INBOX")
        _, found = client.search(None, "HEADER", "X-Filtered", "rule")
        self.assertEqual(len(found[0].split()), 1)
        # A script that runs past its limits at delivery keeps the message in INBOX.
        self.sieve().put("main", 'require "variables";\r\n' + "".join(
            f'set "v{n}" "x";\r\n' for n in range(300)))
        self.deliver("Still here")
        self.assertIn("Still here", self.eventually(self.subjects, {"This is tagged mail", "Still here"}))
        self.instance.wait_for_log("failed")


if __name__ == "__main__":
    unittest.main()
