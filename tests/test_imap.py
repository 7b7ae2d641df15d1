"""IMAP commands through Python's imaplib (and a raw socket where imaplib cannot say
it: SASL-IR, LITERAL+, MULTIAPPEND, COMPRESS, QRESYNC): every command the server
offers, with the exact responses RFC 9051 and the extensions' RFCs ask for."""

import base64
import imaplib
import re
import socket
import smtplib
import time
import unittest
import zlib

from harness import Instance

PASSWORD = "a-long-password"
USER = "frank@example.test"

MULTIPART = (b"From: Ann Example <ann@remote.test>\r\nTo: frank@example.test\r\n"
             b"Cc: Carl <carl@remote.test>\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= report\r\n"
             b"Date: Tue, 03 Nov 2026 10:00:00 +0100\r\nMessage-ID: <report@remote.test>\r\n"
             b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
             b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nquarterly numbers inside\r\n"
             b"--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
             + base64.b64encode(b"\x00\x01binary\x02") + b"\r\n--XX--\r\n")


def simple(subject, body="hello", sender="bob@remote.test", extra=""):
    return (f"From: {sender}\r\nTo: {USER}\r\nSubject: {subject}\r\n{extra}\r\n{body}\r\n").encode()


class Raw:
    """A raw IMAP connection for what imaplib cannot send."""

    def __init__(self, port, login=True):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.file = self.sock.makefile("rb")
        self.greeting = self.file.readline()
        self.counter = 0
        if login:
            self.command(f"LOGIN {USER} {PASSWORD}")

    def send(self, data):
        self.sock.sendall(data)

    def command(self, text, raw=None):
        """Sends `text` (or the bytes `raw`, tagged) and returns all lines up to the
        tagged response; the last line is the tagged one."""
        self.counter += 1
        tag = f"t{self.counter}".encode()
        self.send(tag + b" " + (raw if raw is not None else text.encode()) + b"\r\n")
        lines = []
        while True:
            line = self.file.readline()
            if not line:
                raise AssertionError(f"connection closed after {lines}")
            lines.append(line)
            if line.startswith(tag + b" "):
                return lines

    def close(self):
        self.sock.close()


class ImapTest(unittest.TestCase):
    """One server for the class; each test uses its own mailbox names."""

    @classmethod
    def setUpClass(cls):
        cls.instance = Instance(["smtp", "imap", "imaps"])
        cls.instance.add_account(USER, PASSWORD)
        cls.instance.start()
        cls.port = cls.instance.ports["imap"]

    @classmethod
    def tearDownClass(cls):
        cls.instance.close()

    def client(self):
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        client.login(USER, PASSWORD)
        self.addCleanup(client.logout)
        return client

    def raw(self, login=True):
        raw = Raw(self.port, login)
        self.addCleanup(raw.close)
        return raw

    def mailbox(self, client, name, messages):
        client.create(name)
        for message in messages:
            self.assertEqual(client.append(name, None, None, message)[0], "OK")
        typ, data = client.select(name)
        self.assertEqual(typ, "OK", data)
        return client


class Authentication(ImapTest):
    def test_capabilities_before_and_after_login(self):
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        for capability in ("IMAP4REV1", "IMAP4REV2", "STARTTLS", "AUTH=PLAIN", "SASL-IR", "LITERAL+"):
            self.assertIn(capability, client.capabilities)
        self.assertNotIn("QRESYNC", client.capabilities)
        client.login(USER, PASSWORD)
        after = client.capability()[1][0].split()
        for capability in (b"QRESYNC", b"CONDSTORE", b"MOVE", b"UIDPLUS", b"ESEARCH", b"SEARCHRES",
                           b"LIST-EXTENDED", b"LIST-STATUS", b"SPECIAL-USE", b"MULTIAPPEND",
                           b"BINARY", b"SORT", b"SORT=DISPLAY", b"THREAD=REFERENCES", b"UTF8=ACCEPT",
                           b"COMPRESS=DEFLATE", b"OBJECTID", b"IDLE", b"NAMESPACE", b"UNSELECT", b"STATUS=SIZE"):
            self.assertIn(capability, after)
        self.assertNotIn(b"AUTH=PLAIN", after)
        client.logout()

    def test_wrong_password_and_unknown_user_get_the_same_answer(self):
        answers = []
        for user, password in ((USER, "wrong-password"), ("nobody@example.test", PASSWORD)):
            raw = self.raw(login=False)
            answers.append(raw.command(f"LOGIN {user} {password}")[-1].split(b" ", 1)[1])
        self.assertEqual(answers[0], answers[1])
        self.assertTrue(answers[0].startswith(b"NO [AUTHENTICATIONFAILED]"))

    def test_authenticate_plain_with_and_without_initial_response(self):
        token = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
        raw = self.raw(login=False)
        self.assertTrue(raw.command(f"AUTHENTICATE PLAIN {token}")[-1].startswith(b"t1 OK [CAPABILITY"))
        raw = self.raw(login=False)
        raw.send(b"a AUTHENTICATE PLAIN\r\n")
        self.assertEqual(raw.file.readline(), b"+ \r\n")
        raw.send(token.encode() + b"\r\n")
        self.assertTrue(raw.file.readline().startswith(b"a OK"))
        raw = self.raw(login=False)
        raw.send(b"b AUTHENTICATE PLAIN\r\n")
        raw.file.readline()
        raw.send(b"*\r\n")
        self.assertTrue(raw.file.readline().startswith(b"b BAD"))

    def test_authenticate_login(self):
        raw = self.raw(login=False)
        raw.send(b"a AUTHENTICATE LOGIN\r\n")
        self.assertEqual(raw.file.readline(), b"+ VXNlcm5hbWU6\r\n")
        raw.send(base64.b64encode(USER.encode()) + b"\r\n")
        self.assertEqual(raw.file.readline(), b"+ UGFzc3dvcmQ6\r\n")
        raw.send(base64.b64encode(PASSWORD.encode()) + b"\r\n")
        self.assertTrue(raw.file.readline().startswith(b"a OK"))

    def test_starttls_then_login_and_implicit_tls(self):
        import ssl
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        client.starttls(context)
        self.assertEqual(client.login(USER, PASSWORD)[0], "OK")
        client.logout()
        client = imaplib.IMAP4_SSL("127.0.0.1", self.instance.ports["imaps"], ssl_context=context, timeout=30)
        self.assertEqual(client.login(USER, PASSWORD)[0], "OK")
        client.logout()

    def test_commands_need_login_and_bad_input_gets_bad(self):
        raw = self.raw(login=False)
        self.assertIn(b"BAD", raw.command("SELECT INBOX")[-1])
        raw.command(f"LOGIN {USER} {PASSWORD}")
        self.assertIn(b"BAD", raw.command("FROBNICATE")[-1])
        self.assertIn(b"BAD", raw.command("FETCH 1 FLAGS")[-1])  # nothing selected
        self.assertIn(b"BAD [TOOBIG]", raw.command("", raw=b"APPEND INBOX {999999999999+}")[-1])

    def test_id_namespace_enable(self):
        client = self.client()
        typ, data = client.xatom("ID", "NIL")
        self.assertEqual(typ, "OK")
        self.assertIn(b'"name" "Rampart"', client.untagged_responses["ID"][0])
        self.assertEqual(client.namespace()[1], [b'(("" "/")) NIL NIL'])
        self.assertEqual(client.enable("CONDSTORE")[0], "OK")
        self.assertEqual(client.untagged_responses.pop("ENABLED"), [b"CONDSTORE"])


class Mailboxes(ImapTest):
    def test_new_accounts_have_special_use_folders(self):
        typ, data = self.client().list()
        self.assertIn(b'(\\HasNoChildren \\Drafts) "/" "Drafts"', data)
        for role, name in (("Sent", "Sent"), ("Trash", "Trash"), ("Junk", "Junk"), ("Archive", "Archive")):
            self.assertIn(f'(\\HasNoChildren \\{role}) "/" "{name}"'.encode(), data)

    def test_list_extended_subscribed_children_status(self):
        client = self.client()
        for name in ("Proj", "Proj/A", "Proj/B"):
            self.assertEqual(client.create(name)[0], "OK")
        client.subscribe("Proj/A")
        typ, data = client._simple_command("LIST", "(SUBSCRIBED)", '""', '"Proj*"')
        lines = client.untagged_responses.pop("LIST", [])
        self.assertEqual(lines, [b'(\\HasNoChildren \\Subscribed) "/" "Proj/A"'])
        client._simple_command("LIST", "(SUBSCRIBED RECURSIVEMATCH)", '""', '"Proj%"')
        lines = client.untagged_responses.pop("LIST", [])
        self.assertEqual(lines, [b'(\\HasChildren) "/" "Proj" ("CHILDINFO" ("SUBSCRIBED"))'])
        client._simple_command("LIST", '""', '"Proj%"', "RETURN", "(CHILDREN STATUS (MESSAGES UIDNEXT))")
        self.assertEqual(client.untagged_responses.pop("LIST", []), [b'(\\HasChildren) "/" "Proj"'])
        self.assertEqual(client.untagged_responses.pop("STATUS", []), [b'"Proj" (MESSAGES 0 UIDNEXT 1)'])
        client._simple_command("LIST", "(SPECIAL-USE)", '""', "*")
        special = client.untagged_responses.pop("LIST", [])
        self.assertEqual(len(special), 5)
        client._simple_command("LIST", '""', '""')
        self.assertEqual(client.untagged_responses.pop("LIST", []), [b'(\\Noselect) "/" ""'])
        typ, data = client.lsub('""', '"Proj*"')
        self.assertEqual(data, [b'() "/" "Proj/A"'])
        client.unsubscribe("Proj/A")
        self.assertEqual(client.lsub('""', '"Proj*"')[1], [None])

    def test_create_rename_delete_with_hierarchy(self):
        client = self.client()
        self.assertEqual(client.create("Tree/Branch/Leaf/")[0], "OK")
        typ, data = client.create("Tree")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[ALREADYEXISTS]", data[0])
        self.assertEqual(client.rename("Tree", "Forest")[0], "OK")
        names = [line.split(b'"/" ')[1] for line in client.list('""', '"Forest*"')[1]]
        self.assertEqual(names, [b'"Forest"', b'"Forest/Branch"', b'"Forest/Branch/Leaf"'])
        typ, data = client.delete("Forest")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[INUSE]", data[0])
        self.assertEqual(client.delete("Forest/Branch/Leaf")[0], "OK")
        typ, data = client.select("Forest/Branch/Leaf")
        self.assertIn(b"[NONEXISTENT]", data[0])
        self.assertEqual(client.delete("INBOX")[0], "NO")

    def test_status_items(self):
        client = self.client()
        self.mailbox(client, "Stat", [simple("one"), simple("two")])
        client.store("1", "+FLAGS", "(\\Deleted \\Seen)")
        typ, data = client.status("Stat", "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ)")
        match = re.match(rb'"Stat" \(MESSAGES 2 UIDNEXT 3 UIDVALIDITY \d+ UNSEEN 1 DELETED 1 SIZE (\d+) '
                         rb'HIGHESTMODSEQ \d+\)', data[0])
        self.assertTrue(match, data)
        self.assertEqual(int(match.group(1)), len(simple("one")) + len(simple("two")))

    def test_utf8_and_modified_utf7_names(self):
        client = self.client()
        self.assertEqual(client.create("&AMk-t&AOk-")[0], "OK")  # "Été" in modified UTF-7
        self.assertIn(b'(\\HasNoChildren) "/" "&AMk-t&AOk-"', client.list('""', '"&AMk-*"')[1])
        raw = self.raw()
        raw.command("ENABLE UTF8=ACCEPT")
        listed = raw.command("", raw='LIST "" "Ét*"'.encode())
        self.assertIn('* LIST (\\HasNoChildren) "/" "Été"\r\n'.encode(), listed)


class Messages(ImapTest):
    def test_append_with_flags_date_and_appenduid(self):
        client = self.client()
        client.create("Appended")
        date = imaplib.Time2Internaldate(time.mktime((2025, 7, 17, 2, 44, 25, 0, 0, -1)))
        typ, data = client.append("Appended", "(\\Seen $Work)", date, simple("dated"))
        self.assertEqual(typ, "OK")
        self.assertTrue(re.match(rb"\[APPENDUID \d+ 1\]", data[0]), data)
        client.select("Appended")
        typ, data = client.fetch("1", "(FLAGS INTERNALDATE)")
        # An IMAP4rev1 session is the first told of the message: \Recent (RFC 3501 2.3.2).
        self.assertIn(b"FLAGS ($Work \\Seen \\Recent)", data[0])
        typ, data = client.append("Missing", None, None, simple("x"))
        self.assertIn(b"[TRYCREATE]", data[0])

    def test_multiappend_and_literal_plus(self):
        raw = self.raw()
        raw.command("CREATE Multi")
        one, two = simple("first"), simple("second")
        reply = raw.command("", raw=b"APPEND Multi (\\Flagged) {%d+}\r\n%s {%d+}\r\n%s" % (
            len(one), one, len(two), two))[-1]
        self.assertTrue(re.match(rb"t\d+ OK \[APPENDUID \d+ 1:2\]", reply), reply)
        # Synchronizing literal: the server asks for it.
        raw.send(b"s APPEND Multi {%d}\r\n" % len(one))
        self.assertTrue(raw.file.readline().startswith(b"+ "))
        raw.send(one + b"\r\n")
        self.assertTrue(raw.file.readline().startswith(b"s OK [APPENDUID"))
        self.assertIn(b"MESSAGES 3", raw.command("STATUS Multi (MESSAGES)")[0])

    def test_fetch_every_item(self):
        client = self.mailbox(self.client(), "Fetch", [MULTIPART])
        typ, data = client.fetch("1", "(FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE UID)")
        text = data[0] if isinstance(data[0], bytes) else data[0][0]
        self.assertIn(b"UID 1", text)
        self.assertIn(b"RFC822.SIZE %d" % len(MULTIPART), text)
        self.assertIn(b'ENVELOPE ("Tue, 03 Nov 2026 10:00:00 +0100" "=?utf-8?q?Gr=C3=BC=C3=9Fe?= report" '
                      b'(("Ann Example" NIL "ann" "remote.test"))', text)
        self.assertIn(b'BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 24 1', text)
        self.assertIn(b'"MIXED" ("BOUNDARY" "XX")', text)
        typ, data = client.fetch("1", "(BODY)")
        self.assertNotIn(b"BOUNDARY", data[0])  # BODY has no extension data
        typ, data = client.fetch("1", "(BODY.PEEK[1]<0.9> BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(data[0][0].split(b"(", 1)[1], b"BODY[1]<0> {9}")
        self.assertEqual(data[0][1], b"quarterly")
        self.assertEqual(data[1][1], b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= report\r\n\r\n")
        # PEEK kept it unseen (and \Recent: this IMAP4rev1 session was the first to see it)
        self.assertEqual(client.fetch("1", "(FLAGS)")[1], [b"1 (FLAGS (\\Recent))"])
        typ, data = client.fetch("1", "(BINARY.PEEK[2] BINARY.SIZE[2])")
        self.assertIn(b"~{9}", data[0][0])
        self.assertEqual(data[0][1], b"\x00\x01binary\x02")
        self.assertIn(b"BINARY.SIZE[2] 9", data[1])
        typ, data = client.fetch("1", "(BODY[])")
        self.assertEqual(data[0][1], MULTIPART)
        self.assertIn(b"\\Seen", data[1])  # BODY[] set \Seen and says so
        typ, data = client.fetch("1", "(RFC822.HEADER INTERNALDATE)")
        self.assertTrue(data[0][1].endswith(b"boundary=XX\r\n\r\n"))
        self.assertTrue(re.search(rb'INTERNALDATE "\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d \+0000"', data[1]))
        typ, data = client.fetch("1", "ALL")
        self.assertEqual(typ, "OK")
        with self.assertRaisesRegex(imaplib.IMAP4.error, "BAD"):
            client.fetch("2", "(FLAGS)")  # beyond EXISTS
        with self.assertRaisesRegex(imaplib.IMAP4.error, "BAD"):
            client.fetch("1", "(NOSUCHITEM)")

    def test_store_flags_silent_and_unchangedsince(self):
        client = self.client()
        client.enable("CONDSTORE")
        self.mailbox(client, "Store", [simple("a"), simple("b")])
        typ, data = client.store("1:2", "+FLAGS", "(\\Flagged $Todo)")
        self.assertTrue(re.match(rb"1 \(FLAGS \(\$Todo \\Flagged \\Recent\) MODSEQ \(\d+\)\)", data[0]),
                        data)
        typ, data = client.store("1", "-FLAGS.SILENT", "($Todo)")
        self.assertTrue(re.match(rb"1 \(MODSEQ \(\d+\)\)", data[0]), data)  # CONDSTORE: MODSEQ only
        typ, data = client.store("1", "FLAGS", "(\\Answered)")
        self.assertTrue(data[0].startswith(b"1 (FLAGS (\\Answered \\Recent) MODSEQ"), data)
        typ, data = client.fetch("2", "(MODSEQ)")
        modseq = int(re.search(rb"MODSEQ \((\d+)\)", data[0]).group(1))
        client.store("1", "+FLAGS", "(\\Seen)")  # no effect on 2's MODSEQ
        typ, data = client.store("1:2", "(UNCHANGEDSINCE %d) +FLAGS" % modseq, "(\\Draft)")
        self.assertEqual(typ, "OK")
        typ, data = client.fetch("2", "(FLAGS)")
        self.assertIn(b"\\Draft", data[0])
        with self.assertRaisesRegex(imaplib.IMAP4.error, "BAD"):
            client.store("1", "+FLAGS", "(\\Recent)")

    def test_modified_response_code(self):
        raw = self.raw()
        raw.command("CREATE Cond")
        raw.command("", raw=b"APPEND Cond {%d+}\r\n%s" % (len(simple("c")), simple("c")))
        raw.command("SELECT Cond (CONDSTORE)")
        modseq = int(re.search(rb"MODSEQ \((\d+)\)", b"".join(raw.command("FETCH 1 (MODSEQ)"))).group(1))
        raw.command("STORE 1 +FLAGS (\\Seen)")
        lines = raw.command(f"STORE 1 (UNCHANGEDSINCE {modseq}) +FLAGS (\\Draft)")
        self.assertTrue(lines[-1].split(b" ", 1)[1].startswith(b"OK [MODIFIED 1]"), lines)

    def test_copy_move_expunge_uidplus(self):
        client = self.mailbox(self.client(), "Source", [simple(f"m{i}") for i in range(1, 6)])
        client.create("Dest")
        typ, data = client.copy("1:2", "Dest")
        self.assertTrue(re.match(rb"\[COPYUID \d+ 1,2 1,2\] COPY completed", data[0]), data)
        typ, data = client.copy("1", "NoSuchBox")
        self.assertIn(b"[TRYCREATE]", data[0])
        typ, data = client.uid("MOVE", "3", "Dest")
        self.assertEqual(typ, "OK")
        self.assertTrue(any(re.match(rb"\[COPYUID \d+ 3 3\]", line or b"")
                            for line in client.untagged_responses.pop("OK", [])))
        self.assertEqual(client.untagged_responses.pop("EXPUNGE", []), [b"3"])
        client.store("1:2", "+FLAGS", "(\\Deleted)")
        typ, data = client.uid("EXPUNGE", "2")
        self.assertEqual(client.untagged_responses.pop("EXPUNGE", []), [b"2"])
        typ, data = client.expunge()
        self.assertEqual(data, [b"1"])
        self.assertEqual(client.status("Dest", "(MESSAGES)")[1], [b'"Dest" (MESSAGES 3)'])

    def test_examine_is_read_only_and_close_expunges_silently(self):
        client = self.mailbox(self.client(), "Closing", [simple("x"), simple("y")])
        client.store("1", "+FLAGS", "(\\Deleted)")
        typ, data = client.select("Closing", readonly=True)
        self.assertEqual(client.store("2", "+FLAGS", "(\\Seen)")[0], "NO")
        self.assertEqual(client.fetch("2", "(BODY[])")[0], "OK")
        self.assertEqual(client.fetch("2", "(FLAGS)")[1], [b"2 (FLAGS ())"])  # EXAMINE sets nothing
        client.select("Closing")
        typ, data = client.close()
        self.assertEqual(typ, "OK")
        self.assertNotIn("EXPUNGE", client.untagged_responses)
        self.assertEqual(client.status("Closing", "(MESSAGES)")[1], [b'"Closing" (MESSAGES 1)'])
        client.select("Closing")
        self.assertEqual(client.unselect()[0], "OK")


class Search(ImapTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        client = imaplib.IMAP4("127.0.0.1", cls.port, timeout=30)
        client.login(USER, PASSWORD)
        client.create("Search")
        messages = [
            simple("Lunch plans", "see you at noon", "alice@remote.test",
                   "Date: Mon, 02 Nov 2026 12:00:00 +0000\r\nMessage-ID: <l1@x>\r\n"),
            simple("Re: Lunch plans", "noon works", "bob@remote.test",
                   "Date: Tue, 03 Nov 2026 12:00:00 +0000\r\nMessage-ID: <l2@x>\r\nReferences: <l1@x>\r\n"),
            simple("Budget", "numbers attached " + "x" * 3000, "carol@remote.test",
                   "Date: Wed, 04 Nov 2026 12:00:00 +0000\r\nX-Priority: 1\r\n"),
            simple("Grüße", "ünïcode body", "dave@remote.test",
                   "Date: Thu, 05 Nov 2026 12:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n"),
        ]
        for message in messages:
            client.append("Search", None, None, message)
        client.select("Search")
        client.store("2", "+FLAGS", "(\\Flagged \\Seen)")
        client.logout()

    def search(self, *criteria, uid=False):
        client = self.client()
        client.select("Search")
        typ, data = client.uid("SEARCH", *criteria) if uid else client.search(None, *criteria)
        self.assertEqual(typ, "OK", data)
        return data[0].split()

    def test_keys(self):
        self.assertEqual(self.search("ALL"), [b"1", b"2", b"3", b"4"])
        self.assertEqual(self.search("FLAGGED"), [b"2"])
        self.assertEqual(self.search("UNSEEN"), [b"1", b"3", b"4"])
        self.assertEqual(self.search("SEEN", "UNFLAGGED"), [])
        self.assertEqual(self.search("FROM", "carol"), [b"3"])
        self.assertEqual(self.search("TO", "frank@"), [b"1", b"2", b"3", b"4"])
        self.assertEqual(self.search("SUBJECT", "lunch"), [b"1", b"2"])
        self.assertEqual(self.search("BODY", "noon"), [b"1", b"2"])
        self.assertEqual(self.search("TEXT", "budget"), [b"3"])
        self.assertEqual(self.search("HEADER", "X-Priority", "1"), [b"3"])
        self.assertEqual(self.search("HEADER", "Message-ID", '""'), [b"1", b"2"])
        self.assertEqual(self.search("LARGER", "2000"), [b"3"])
        self.assertEqual(self.search("SMALLER", "2000"), [b"1", b"2", b"4"])
        self.assertEqual(self.search("SENTBEFORE", "4-Nov-2026"), [b"1", b"2"])
        self.assertEqual(self.search("SENTON", "4-Nov-2026"), [b"3"])
        self.assertEqual(self.search("SENTSINCE", "4-Nov-2026"), [b"3", b"4"])
        self.assertEqual(self.search("SINCE", "1-Jan-2020"), [b"1", b"2", b"3", b"4"])
        self.assertEqual(self.search("BEFORE", "1-Jan-2020"), [])
        self.assertEqual(self.search("OR", "FROM", "alice", "FROM", "dave"), [b"1", b"4"])
        self.assertEqual(self.search("NOT", "FROM", "alice"), [b"2", b"3", b"4"])
        self.assertEqual(self.search("2:3"), [b"2", b"3"])
        self.assertEqual(self.search("UID", "3:*"), [b"3", b"4"])
        self.assertEqual(self.search("YOUNGER", "3600"), [b"1", b"2", b"3", b"4"])
        self.assertEqual(self.search("FLAGGED", uid=True), [b"2"])

    def test_charset_and_utf8(self):
        client = self.client()
        client.select("Search")
        typ, data = client.search("UTF-8", "SUBJECT", '"Grüße"'.encode())
        self.assertEqual(data, [b"4"])
        typ, data = client.search("UTF-8", "BODY", "ünïcode".encode())
        self.assertEqual(data, [b"4"])
        typ, data = client.search("KOI8-R", "ALL")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[BADCHARSET", data[0])

    def test_esearch_and_searchres(self):
        raw = self.raw()
        raw.command("SELECT Search")
        lines = raw.command("SEARCH RETURN (MIN MAX COUNT ALL) NOT FLAGGED")
        self.assertEqual(lines[0], b'* ESEARCH (TAG "t%d") MIN 1 MAX 4 COUNT 3 ALL 1,3:4\r\n' % raw.counter)
        lines = raw.command("UID SEARCH RETURN (COUNT) FROM nobody")
        self.assertEqual(lines[0], b'* ESEARCH (TAG "t%d") UID COUNT 0\r\n' % raw.counter)
        lines = raw.command("SEARCH RETURN (SAVE) SUBJECT lunch")
        self.assertEqual(len(lines), 1)  # SAVE alone answers nothing
        lines = raw.command("FETCH $ (UID)")
        self.assertEqual(lines[:2], [b"* 1 FETCH (UID 1)\r\n", b"* 2 FETCH (UID 2)\r\n"])
        lines = raw.command("UID SEARCH $ FLAGGED")
        self.assertEqual(lines[0], b"* SEARCH 2\r\n")
        lines = raw.command("SEARCH MODSEQ 1")
        # The first CONDSTORE-enabling command says where MODSEQ stands (RFC 7162 3.1).
        self.assertTrue(lines[0].startswith(b"* OK [HIGHESTMODSEQ "), lines)
        self.assertTrue(re.match(rb"\* SEARCH 1 2 3 4 \(MODSEQ \d+\)", lines[1]), lines)

    def test_sort_and_thread(self):
        client = self.client()
        client.select("Search")
        self.assertEqual(client.sort("(SUBJECT)", "UTF-8", "ALL")[1], [b"3 4 1 2"])
        self.assertEqual(client.sort("(REVERSE DATE)", "UTF-8", "ALL")[1], [b"4 3 2 1"])
        self.assertEqual(client.sort("(FROM)", "UTF-8", "NOT", "FROM", "bob")[1], [b"1 3 4"])
        self.assertEqual(client.uid("SORT", "(SIZE)", "UTF-8", "ALL")[1][0].split()[-1], b"3")
        self.assertEqual(client.thread("REFERENCES", "UTF-8", "ALL")[1], [b"(1 2)(3)(4)"])
        self.assertEqual(client.thread("ORDEREDSUBJECT", "UTF-8", "ALL")[1], [b"(1 2)(3)(4)"])
        with self.assertRaises(imaplib.IMAP4.error):
            client.sort("(COLOUR)", "UTF-8", "ALL")


class Condstore(ImapTest):
    def test_changedsince_and_qresync(self):
        raw = self.raw()
        raw.command("CREATE Sync")
        for i in range(5):
            body = simple(f"sync {i}")
            raw.command("", raw=b"APPEND Sync {%d+}\r\n%s" % (len(body), body))
        self.assertIn(b"* ENABLED QRESYNC\r\n", raw.command("ENABLE QRESYNC"))
        lines = raw.command("SELECT Sync")
        uidvalidity = int(re.search(rb"UIDVALIDITY (\d+)", b"".join(lines)).group(1))
        highest = int(re.search(rb"HIGHESTMODSEQ (\d+)", b"".join(lines)).group(1))
        raw.command("STORE 2 +FLAGS.SILENT (\\Answered)")
        raw.command("STORE 4 +FLAGS (\\Deleted)")
        raw.command("UID EXPUNGE 4")
        lines = raw.command(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {highest} VANISHED)")
        self.assertEqual(lines[0], b"* VANISHED (EARLIER) 4\r\n")
        self.assertTrue(re.match(rb"\* 2 FETCH \(UID 2 FLAGS \(\\Answered \\Recent\) MODSEQ \(\d+\)\)",
                                 lines[1]), lines)
        self.assertEqual(len(lines), 3)
        raw.command("UNSELECT")
        lines = raw.command(f"SELECT Sync (QRESYNC ({uidvalidity} {highest} 1:5))")
        self.assertIn(b"* VANISHED (EARLIER) 4\r\n", lines)
        self.assertTrue(any(re.match(rb"\* 2 FETCH \(UID 2 FLAGS \(\\Answered\) MODSEQ", l) for l in lines))
        self.assertTrue(lines[-1].split(b" ", 1)[1].startswith(b"OK [READ-WRITE]"))
        # Another session's expunge reaches this one as VANISHED.
        other = self.client()
        other.select("Sync")
        other.store("1", "+FLAGS", "(\\Deleted)")
        other.expunge()
        self.assertIn(b"* VANISHED 1\r\n", raw.command("NOOP"))


class Idle(ImapTest):
    def test_idle_reports_delivery_and_done_ends_it(self):
        raw = self.raw()
        raw.command("SELECT INBOX")
        raw.send(b"i IDLE\r\n")
        self.assertEqual(raw.file.readline(), b"+ idling\r\n")
        with smtplib.SMTP("127.0.0.1", self.instance.ports["smtp"], timeout=30) as smtp:
            smtp.sendmail("x@remote.test", [USER], simple("wake up"))
        self.assertTrue(re.match(rb"\* \d+ EXISTS", raw.file.readline()))
        self.assertTrue(re.match(rb"\* \d+ RECENT", raw.file.readline()))  # IMAP4rev1
        raw.send(b"DONE\r\n")
        self.assertEqual(raw.file.readline(), b"i OK IDLE terminated\r\n")


class Compress(ImapTest):
    def test_deflate(self):
        raw = self.raw()
        self.assertEqual(raw.command("COMPRESS DEFLATE")[-1], b"t2 OK DEFLATE active\r\n")
        out, into = zlib.compressobj(wbits=-15), zlib.decompressobj(wbits=-15)
        raw.send(out.compress(b"c1 LIST \"\" INBOX\r\n") + out.flush(zlib.Z_SYNC_FLUSH))
        received = b""
        while b"c1 OK" not in received:
            received += into.decompress(raw.sock.recv(4096))
        self.assertIn(b'* LIST (\\HasNoChildren) "/" "INBOX"\r\n', received)
        raw.send(out.compress(b"c2 COMPRESS DEFLATE\r\n") + out.flush(zlib.Z_SYNC_FLUSH))
        received = b""
        while b"c2 " not in received:
            received += into.decompress(raw.sock.recv(4096))
        self.assertIn(b"c2 NO [COMPRESSIONACTIVE]", received)


class LargeMailbox(ImapTest):
    """Small reads run on the connection's thread, larger ones on the blocking pool
    (docs/imap.md, "Where commands run"): past 2,000 messages, past 256 KiB of bytes
    and when \\Seen is set, the answers are the same."""

    def test_past_the_inline_bounds(self):
        count = 2100
        messages = [simple(f"bulk {n}", body="x" * 4000) for n in range(count)]
        client = self.client()
        client.create("bulk")
        self.instance.multiappend(USER, PASSWORD, messages, mailbox="bulk")
        typ, data = client.select("bulk")
        self.assertEqual((typ, data[0]), ("OK", str(count).encode()))
        typ, data = client.search(None, "UNSEEN")
        self.assertEqual(len(data[0].split()), count)
        typ, data = client.search(None, "SUBJECT", '"bulk 2099"')
        self.assertEqual(data[0], str(count).encode())
        typ, data = client.status("bulk", "(MESSAGES UNSEEN)")
        self.assertIn(f"MESSAGES {count} UNSEEN {count}".encode(), data[0])
        # 100 whole messages, about 400 KiB: one batch past the byte bound.
        typ, data = client.fetch("1:100", "(BODY.PEEK[])")
        bodies = [part[1] for part in data if isinstance(part, tuple)]
        self.assertEqual(len(bodies), 100)
        self.assertEqual(bodies[41], messages[41])
        # Without .PEEK: \\Seen is set, and reported.
        typ, data = client.fetch("5", "(BODY[HEADER.FIELDS (SUBJECT)] FLAGS)")
        self.assertIn(b"\\Seen", data[0][0] + data[1])
        typ, data = client.search(None, "UNSEEN")
        self.assertEqual(len(data[0].split()), count - 1)
        # Another session's change reaches a session's update past the bound too.
        watcher = self.raw()
        watcher.command("SELECT bulk")
        client.store("7", "+FLAGS", "(\\Flagged)")
        lines = watcher.command("NOOP")
        self.assertTrue(any(line.startswith(b"* 7 FETCH") and b"\\Flagged" in line
                            for line in lines), lines)


if __name__ == "__main__":
    unittest.main()
