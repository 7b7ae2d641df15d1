"""IMAP to the letter: the edges of RFC 9051, RFC 3501 and the extensions' RFCs that
real clients reach (Thunderbird's tags, old IMAP4rev1 clients, Apple Mail), each
checked on a raw socket, exactly as the RFC text words it."""

import re
import unittest

from test_imap import ImapTest, simple


def untagged(lines, prefix):
    """The untagged responses starting with `prefix` (bytes), in order."""
    return [line for line in lines if line.startswith(b"* " + prefix)]


class ImapRfcTest(ImapTest):
    """One server for the class (test_imap's); each test uses its own mailbox names."""

    def append(self, raw, mailbox, message, flags=""):
        lines = raw.command("", raw=f'APPEND "{mailbox}" {flags} {{{len(message)}+}}\r\n'.encode()
                            + message)
        self.assertIn(b" OK ", lines[-1], lines)
        return lines


class Keywords(ImapRfcTest):
    """RFC 9051 section 7.3.5, RFC 3501 section 7.2.6: a keyword is in an untagged
    FLAGS response before any FETCH shows it."""

    def test_store_announces_a_new_keyword_to_every_session_first(self):
        first, second = self.raw(), self.raw()
        self.append(first, "INBOX", simple("tagged"))
        first.command("SELECT INBOX")
        second.command("SELECT INBOX")
        lines = first.command("STORE 1 +FLAGS ($Important)")
        flags = [i for i, line in enumerate(lines) if line.startswith(b"* FLAGS ")]
        fetch = [i for i, line in enumerate(lines) if b"FETCH" in line]
        self.assertTrue(flags and fetch and flags[0] < fetch[0], lines)
        self.assertIn(b"$Important", lines[flags[0]])
        self.assertTrue(any(b"PERMANENTFLAGS" in line and b"$Important" in line for line in lines))
        # The other session learns of it on its next command, also before the FETCH.
        lines = second.command("NOOP")
        flags = [i for i, line in enumerate(lines) if line.startswith(b"* FLAGS ")]
        fetch = [i for i, line in enumerate(lines) if b"FETCH" in line and b"$Important" in line]
        self.assertTrue(flags and fetch and flags[0] < fetch[0], lines)
        # Once told, never again.
        lines = first.command("FETCH 1 FLAGS")
        self.assertEqual(untagged(lines, b"FLAGS"), [], lines)

    def test_append_and_copy_bring_keywords_announced_with_exists(self):
        watcher, writer = self.raw(), self.raw()
        writer.command("CREATE kw-copy")
        watcher.command("SELECT kw-copy")
        self.append(writer, "kw-copy", simple("one"), "($Label1)")
        lines = watcher.command("NOOP")
        self.assertTrue(any(line.startswith(b"* FLAGS ") and b"$Label1" in line for line in lines),
                        lines)
        self.append(writer, "INBOX", simple("two"), "($Label2)")
        writer.command("SELECT INBOX")
        writer.command("UID COPY 1:* kw-copy")
        lines = watcher.command("NOOP")
        flags = [i for i, line in enumerate(lines) if line.startswith(b"* FLAGS ")]
        exists = [i for i, line in enumerate(lines) if line.endswith(b" EXISTS\r\n")]
        self.assertTrue(flags and exists and flags[-1] < exists[0], lines)
        self.assertIn(b"$Label2", lines[flags[-1]])
        lines = watcher.command("FETCH 2 FLAGS")
        self.assertEqual(untagged(lines, b"FLAGS"), [], lines)
        self.assertIn(b"$Label2", lines[0])

    def test_nil_is_a_keyword_like_any_other(self):
        raw = self.raw()
        raw.command("CREATE kw-nil")
        self.append(raw, "kw-nil", simple("nil"))
        raw.command("SELECT kw-nil")
        lines = raw.command("STORE 1 +FLAGS (NIL)")
        self.assertIn(b" OK ", lines[-1], lines)
        self.assertTrue(any(re.search(rb"FETCH \(FLAGS \(NIL( \\Recent)?\)\)", line)
                            for line in lines), lines)
        self.assertIn(b"BAD", raw.command("STORE 1 +FLAGS (a]b)")[-1])


class Recent(ImapRfcTest):
    """RFC 3501 section 2.3.2: a message is \\Recent in exactly one IMAP4rev1 session,
    the first to be told of it; IMAP4rev2 sessions never see \\Recent."""

    def test_exactly_one_session_sees_a_delivery_as_recent(self):
        first, second, writer = self.raw(), self.raw(), self.raw()
        first.command("CREATE recent-a")
        lines = first.command("SELECT recent-a")
        self.assertIn(b"* 0 RECENT\r\n", lines)
        second.command("SELECT recent-a")
        self.append(writer, "recent-a", simple("new"))
        # Whichever session hears first claims it; the other gets 0.
        one = first.command("NOOP")
        two = second.command("NOOP")
        counts = sorted(untagged(one, b"1 RECENT") + untagged(two, b"0 RECENT") +
                        untagged(one, b"0 RECENT") + untagged(two, b"1 RECENT"))
        self.assertEqual(counts, [b"* 0 RECENT\r\n", b"* 1 RECENT\r\n"], (one, two))
        holder = first if untagged(one, b"1 RECENT") else second
        other = second if holder is first else first
        self.assertIn(b"\\Recent", b"".join(holder.command("FETCH 1 FLAGS")))
        self.assertNotIn(b"\\Recent", b"".join(other.command("FETCH 1 FLAGS")))
        self.assertEqual(untagged(holder.command("SEARCH RECENT"), b"SEARCH"), [b"* SEARCH 1\r\n"])
        self.assertEqual(untagged(holder.command("SEARCH NEW"), b"SEARCH"), [b"* SEARCH 1\r\n"])
        self.assertEqual(untagged(other.command("SEARCH OLD"), b"SEARCH"), [b"* SEARCH 1\r\n"])
        # Reselecting: nothing is recent any more (the first session was told).
        self.assertIn(b"* 0 RECENT\r\n", holder.command("SELECT recent-a"))

    def test_status_counts_unclaimed_messages_and_examine_does_not_claim(self):
        raw = self.raw()
        raw.command("CREATE recent-b")
        self.append(raw, "recent-b", simple("one"))
        self.append(raw, "recent-b", simple("two"))
        lines = raw.command("STATUS recent-b (RECENT MESSAGES)")
        self.assertIn(b'* STATUS "recent-b" (RECENT 2 MESSAGES 2)\r\n', lines)
        lines = raw.command("EXAMINE recent-b")
        self.assertIn(b"* 2 RECENT\r\n", lines)
        self.assertIn(b"\\Recent", b"".join(raw.command("FETCH 1 FLAGS")))
        raw.command("CLOSE")
        self.assertIn(b"(RECENT 2)", b"".join(raw.command("STATUS recent-b (RECENT)")))
        lines = raw.command("SELECT recent-b")
        self.assertIn(b"* 2 RECENT\r\n", lines)
        raw.command("CLOSE")
        self.assertIn(b"(RECENT 0)", b"".join(raw.command("STATUS recent-b (RECENT)")))

    def test_imap4rev2_sessions_never_see_recent(self):
        raw = self.raw()
        raw.command("ENABLE IMAP4rev2")
        raw.command("CREATE recent-c")
        self.append(raw, "recent-c", simple("rev2"))
        lines = raw.command("SELECT recent-c")
        self.assertEqual(untagged(lines, b"0 RECENT") + untagged(lines, b"1 RECENT"), [], lines)
        self.assertNotIn(b"\\Recent", b"".join(raw.command("FETCH 1 FLAGS")))


class Atoms(ImapRfcTest):
    """RFC 3501 section 9: "[" is an ATOM-CHAR and "]" an ASTRING-CHAR."""

    def test_mailbox_names_with_every_atom_char(self):
        raw = self.raw()
        # "&-" is modified UTF-7's "&" (RFC 3501 section 5.1.3).
        name = "!#$&-'+,-.0123456789:;<=>?@^_`|[}~"
        self.assertIn(b" OK ", raw.command(f"CREATE {name}")[-1])
        lines = raw.command(f"SELECT {name}")
        self.assertIn(b" OK ", lines[-1], lines)
        self.assertIn(b" OK ", raw.command("CREATE a]b")[-1])
        self.assertIn(b" OK ", raw.command("SELECT a]b")[-1])
        self.assertIn(b" OK ", raw.command("CREATE NIL")[-1])
        self.assertTrue(any(b'"NIL"' in line for line in raw.command('LIST "" NIL')))


NESTED = (b"From: a@b.test\r\nTo: x@y.test\r\nSubject: n\r\nMIME-Version: 1.0\r\n"
          b"Content-Type: multipart/mixed; boundary=A\r\n\r\n"
          b"--A\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
          b"--A\r\nContent-Type: multipart/alternative; boundary=B\r\n\r\n"
          b"--B\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
          b"aGVsbG8gd29ybGQ=\r\n--B\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--B--\r\n--A--\r\n")


class Binary(ImapRfcTest):
    """RFC 3516: BINARY, BINARY.PEEK and BINARY.SIZE take a section-part, nested
    part numbers included."""

    def test_binary_of_a_nested_part(self):
        raw = self.raw()
        raw.command("CREATE binary-nested")
        self.append(raw, "binary-nested", NESTED)
        raw.command("SELECT binary-nested")
        lines = raw.command("FETCH 1 (BINARY.SIZE[2.1] BINARY.PEEK[2.1]<0.5>)")
        self.assertIn(b"BINARY.SIZE[2.1] 11", lines[0], lines)
        self.assertTrue(re.search(rb"BINARY\[2\.1\]<0> ~?\{5\}", lines[0]), lines)
        self.assertEqual(lines[1], b"hello)\r\n", lines)
        lines = raw.command("FETCH 1 (BINARY[2.1])")
        self.assertTrue(re.search(rb"BINARY\[2\.1\] ~?\{11\}", lines[0]), lines)
        self.assertIn(b"BAD", raw.command("FETCH 1 (BINARY[2.MIME])")[-1])


GROUPS = (b"From: Ann <ann@remote.test>\r\nTo: undisclosed-recipients:;\r\n"
          b"Cc: Team: a@b.test, \"B C\" <b@c.test>;, d@e.test\r\n"
          b"Bcc: <@route.test,@two.test:x@y.test>\r\nSubject: g\r\n\r\nbody\r\n")


class Envelope(ImapRfcTest):
    """RFC 3501 section 7.4.2: group syntax, the source route in adl, NIL names."""

    def test_groups_routes_and_bare_addresses(self):
        raw = self.raw()
        raw.command("CREATE envelope-groups")
        self.append(raw, "envelope-groups", GROUPS)
        raw.command("SELECT envelope-groups")
        line = raw.command("FETCH 1 ENVELOPE")[0]
        self.assertIn(b'((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) '
                      b'((NIL NIL "Team" NIL)(NIL NIL "a" "b.test")("B C" NIL "b" "c.test")'
                      b'(NIL NIL NIL NIL)(NIL NIL "d" "e.test")) '
                      b'((NIL "@route.test,@two.test" "x" "y.test"))', line)


class Esearch(ImapRfcTest):
    """RFC 7162 section 3.1.5: ESEARCH with a MODSEQ criterion returns MODSEQ: the
    highest of the messages MIN and MAX return, or of all found for ALL and COUNT."""

    def test_modseq_in_esearch(self):
        raw = self.raw()
        raw.command("CREATE esearch-modseq")
        for subject in ("one", "two", "three"):
            self.append(raw, "esearch-modseq", simple(subject))
        raw.command("SELECT esearch-modseq")
        raw.command("STORE 2 +FLAGS (\\Flagged)")
        modseq = {}
        lines = raw.command("FETCH 1:3 (MODSEQ)")
        # RFC 7162 section 3.1: the first CONDSTORE-enabling command with a mailbox
        # selected tells where its MODSEQ stands.
        self.assertTrue(lines[0].startswith(b"* OK [HIGHESTMODSEQ "), lines)
        for line in lines[1:-1]:
            number, value = re.match(rb"\* (\d) FETCH \(MODSEQ \((\d+)\)\)", line).groups()
            modseq[int(number)] = int(value)
        self.assertEqual(untagged(raw.command("FETCH 1 (MODSEQ)"), b"OK"), [])
        self.assertTrue(modseq[2] > modseq[3] > modseq[1], modseq)

        def esearch(returns):
            lines = raw.command(f"SEARCH RETURN ({returns}) MODSEQ 1")
            return re.search(rb"MODSEQ (\d+)", untagged(lines, b"ESEARCH")[0]).group(1)

        self.assertEqual(int(esearch("MIN")), modseq[1])
        self.assertEqual(int(esearch("MAX")), modseq[3])
        self.assertEqual(int(esearch("MIN MAX")), modseq[3])
        self.assertEqual(int(esearch("COUNT")), modseq[2])
        self.assertEqual(int(esearch("ALL")), modseq[2])
        self.assertEqual(int(esearch("MIN COUNT")), modseq[2])



class Expunged(ImapRfcTest):
    """A message another session expunged, not yet reported to this one: FETCH answers
    the rest and says so (RFC 5530 EXPUNGEISSUED), never a bare NO."""

    def test_fetch_of_a_message_expunged_meanwhile(self):
        reader, other = self.raw(), self.raw()
        reader.command("CREATE expunged")
        for subject in ("one", "two"):
            self.append(reader, "expunged", simple(subject))
        reader.command("SELECT expunged")
        other.command("SELECT expunged")
        other.command("STORE 1 +FLAGS.SILENT (\\Deleted)")
        other.command("EXPUNGE")
        lines = reader.command("FETCH 1:2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertTrue(lines[-1].endswith(b" OK [EXPUNGEISSUED] Some messages were expunged "
                                           b"meanwhile\r\n"), lines)
        self.assertIn(b"Subject: two", b"".join(lines))
        # Told now; the next command sees one message, and plain OK.
        self.assertIn(b"* 1 EXPUNGE\r\n", reader.command("NOOP"))


class AppendToSelected(ImapRfcTest):
    """RFC 9051 section 6.3.12: APPEND (and COPY) into the selected mailbox is followed
    by EXISTS at once, so the UID that APPENDUID names is one the next UID STORE reaches."""

    def test_appenduid_is_usable_at_once(self):
        raw = self.raw()
        raw.command("CREATE append-selected")
        raw.command("SELECT append-selected")
        lines = self.append(raw, "append-selected", simple("mine"))
        self.assertIn(b"* 1 EXISTS\r\n", lines)
        uid = re.search(rb"APPENDUID \d+ (\d+)", lines[-1]).group(1).decode()
        lines = raw.command(f"UID STORE {uid} +FLAGS (\\Flagged)")
        self.assertTrue(any(b"FETCH" in line and b"\\Flagged" in line for line in lines), lines)
        lines = raw.command(f"UID COPY {uid} append-selected")
        self.assertIn(b"* 2 EXISTS\r\n", lines)


class ObjectId(ImapRfcTest):
    """RFC 8474: MAILBOXID, EMAILID and THREADID, the same ids JMAP gives."""

    def test_ids_of_mailboxes_messages_and_threads(self):
        raw = self.raw()
        lines = raw.command("CREATE objectid")
        mailbox = re.search(rb"OK \[MAILBOXID \((M\d+)\)\] ", lines[-1]).group(1)
        self.assertIn(b"* OK [MAILBOXID (" + mailbox + b")] Ok\r\n", raw.command("SELECT objectid"))
        self.assertIn(b"MAILBOXID (" + mailbox + b")",
                      b"".join(raw.command("STATUS objectid (MAILBOXID MESSAGES)")))
        self.append(raw, "objectid", simple("first", extra="Message-ID: <o1@x>\r\n"))
        self.append(raw, "objectid", simple("Re: first", extra="In-Reply-To: <o1@x>\r\n"))
        lines = raw.command("FETCH 1:2 (EMAILID THREADID)")
        ids = [re.search(rb"EMAILID \((E\d+)\) THREADID \((T\d+)\)", line).groups()
               for line in lines[:2]]
        self.assertNotEqual(ids[0][0], ids[1][0])
        self.assertEqual(ids[0][1], ids[1][1])  # one conversation
        self.assertEqual(untagged(raw.command(f"SEARCH EMAILID {ids[1][0].decode()}"), b"SEARCH"),
                         [b"* SEARCH 2\r\n"])
        self.assertEqual(untagged(raw.command(f"SEARCH THREADID {ids[0][1].decode()}"), b"SEARCH"),
                         [b"* SEARCH 1 2\r\n"])


BINARY_PART = (b"From: a@b.test\r\nSubject: bin\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
               b"Content-Transfer-Encoding: binary\r\n\r\n\x00\xed\n\r\n\n\r\n--b--\r\n")


class NoNulInLiterals(ImapRfcTest):
    """RFC 9051 section 4.3: a literal holds no NUL (CHAR8); BODY of binary content is
    sent in base64, BINARY in literal8."""

    def test_body_of_a_binary_part(self):
        raw = self.raw()
        raw.command("CREATE nul-parts")
        lines = raw.command("", raw=f"APPEND nul-parts ~{{{len(BINARY_PART)}+}}\r\n".encode()
                            + BINARY_PART)
        self.assertIn(b" OK ", lines[-1], lines)
        raw.command("SELECT nul-parts")
        lines = raw.command("FETCH 1 (BODY.PEEK[1])")
        self.assertEqual(lines[:2], [b"* 1 FETCH (BODY[1] {8}\r\n", b"AO0KDQoK)\r\n"], lines)
        lines = raw.command("FETCH 1 (BINARY.PEEK[1])")
        self.assertIn(b"~{6}", lines[0], lines)
        self.assertNotIn(b"\x00", b"".join(raw.command("FETCH 1 (BODY.PEEK[])")))


class Addresses(ImapRfcTest):
    """A bare address followed by a comment: the comment is its display name, in
    ENVELOPE and for SEARCH FROM/TO/CC/BCC (as Dovecot reads it)."""

    def test_trailing_comment_is_the_name(self):
        raw = self.raw()
        raw.command("CREATE comments")
        message = (b"From: user-from@domain.org (RealFrom)\r\nTo: user-to@domain.org (RealTo)\r\n"
                   b"Subject: c\r\n\r\nbody\r\n")
        self.append(raw, "comments", message)
        raw.command("SELECT comments")
        self.assertIn(b'(("RealFrom" NIL "user-from" "domain.org"))',
                      raw.command("FETCH 1 ENVELOPE")[0])
        for key in ("FROM realfrom", "FROM ealfro", "FROM ser-fro", "FROM user-from@domain",
                    "TO realto"):
            self.assertEqual(untagged(raw.command(f"SEARCH {key}"), b"SEARCH"),
                             [b"* SEARCH 1\r\n"], key)


class Subscriptions(ImapRfcTest):
    """RFC 3501 section 6.3.9 LSUB and RFC 5258 RECURSIVEMATCH: a subscribed mailbox
    below what "%" reaches is told of through its parent."""

    def test_lsub_percent_and_childinfo(self):
        raw = self.raw()
        for name in ("subs/a", "subs/b/deep", "subs/c"):
            raw.command(f"CREATE {name}")
        raw.command("SUBSCRIBE subs/a")
        raw.command("SUBSCRIBE subs/b/deep")
        lines = untagged(raw.command('LSUB "" subs/%'), b"LSUB")
        self.assertEqual(lines, [b'* LSUB () "/" "subs/a"\r\n',
                                 b'* LSUB (\\Noselect) "/" "subs/b"\r\n'])
        self.assertEqual(untagged(raw.command('LSUB "" subs/*'), b"LSUB"),
                         [b'* LSUB () "/" "subs/a"\r\n', b'* LSUB () "/" "subs/b/deep"\r\n'])
        lines = untagged(raw.command('LIST (SUBSCRIBED RECURSIVEMATCH) "" subs/%'), b"LIST")
        self.assertIn(b'"subs/b" ("CHILDINFO" ("SUBSCRIBED"))', b"".join(lines))
        lines = raw.command('LIST (SUBSCRIBED RECURSIVEMATCH) "" (subs/b subs/b/deep)')
        self.assertNotIn(b"CHILDINFO", b"".join(lines))

    def test_subscriptions_outlive_their_mailbox(self):
        # RFC 3501 section 6.3.6: DELETE leaves the name subscribed; RFC 5258: LIST
        # (SUBSCRIBED) shows it as \NonExistent.
        raw = self.raw()
        raw.command("CREATE gone/a")
        raw.command("SUBSCRIBE gone/a")
        raw.command("DELETE gone/a")
        lines = raw.command('LIST (SUBSCRIBED) "" gone/*')
        self.assertIn(b'* LIST (\\Subscribed \\NonExistent) "/" "gone/a"\r\n', lines)
        self.assertIn(b'* LSUB () "/" "gone/a"\r\n', raw.command('LSUB "" gone/*'))
        self.assertEqual(untagged(raw.command('LIST "" gone/*'), b"LIST"), [])
        # A mailbox created under the name takes the subscription over.
        raw.command("CREATE gone/a")
        self.assertIn(b'* LIST (\\HasNoChildren \\Subscribed) "/" "gone/a"\r\n',
                      raw.command('LIST (SUBSCRIBED) "" gone/*'))
        # A name no mailbox has can be subscribed and unsubscribed.
        self.assertIn(b" OK ", raw.command("SUBSCRIBE never/there")[-1])
        self.assertIn(b"never/there", b"".join(raw.command('LSUB "" never/*')))
        self.assertIn(b" OK ", raw.command("UNSUBSCRIBE never/there")[-1])
        self.assertIn(b" NO ", raw.command("UNSUBSCRIBE never/there")[-1])

    def test_names_without_a_mailbox_are_bounded(self):
        # docs/security.md: at most 1000 subscribed names without a mailbox per account.
        raw = self.raw()
        kept = sum(1 for line in raw.command('LIST (SUBSCRIBED) "" *') if b"NonExistent" in line)
        room = 1000 - kept
        payload = b"".join(b"s%d SUBSCRIBE many/%d\r\n" % (i, i) for i in range(room))
        raw.send(payload)
        for i in range(room):
            line = raw.file.readline()
            while not line.startswith(b"s%d " % i):
                line = raw.file.readline()
            self.assertIn(b" OK ", line)
        lines = raw.command("SUBSCRIBE many/one-too-many")
        self.assertIn(b" NO [TOOBIG] ", lines[-1], lines)
        self.assertEqual(len(untagged(raw.command('LSUB "" many/*'), b"LSUB")), room)
        self.assertIn(b" OK ", raw.command("UNSUBSCRIBE many/0")[-1])
        self.assertIn(b" OK ", raw.command("SUBSCRIBE many/one-too-many")[-1])
        for i in range(1, room):  # leave the account as it was for the other tests
            raw.command(f"UNSUBSCRIBE many/{i}")
        raw.command("UNSUBSCRIBE many/one-too-many")


class Notify(ImapRfcTest):
    """RFC 5465: the events a client asks for, sent between commands too."""

    def unsolicited(self, raw, until, seconds=5):
        """The lines the server sends with no command outstanding, up to the first one
        containing `until` (bytes)."""
        raw.sock.settimeout(seconds)
        lines = []
        try:
            while True:
                line = raw.file.readline()
                self.assertTrue(line, f"connection closed after {lines}")
                lines.append(line)
                if until in line:
                    return lines
        finally:
            raw.sock.settimeout(30)

    def test_the_rules_of_section_5_and_8(self):
        raw = self.raw()
        self.assertIn(b"NOTIFY", b"".join(raw.command("CAPABILITY")))
        for arguments in ["SET (selected (MessageNew))",             # needs MessageExpunge too
                          "SET (personal (FlagChange))",             # needs both
                          "SET (personal (MessageNew (UID) MessageExpunge))",  # fetch-att: selected only
                          "SET (selected (MessageNew MessageExpunge MailboxName))",
                          "SET (selected NONE) (selected-delayed NONE)",
                          "SET (elsewhere (MailboxName))",
                          "SET", "BOGUS"]:
            self.assertIn(b" BAD ", raw.command("NOTIFY " + arguments)[-1], arguments)
        lines = raw.command("NOTIFY SET (personal (MessageNew MessageExpunge AnnotationChange))")
        self.assertRegex(lines[-1], rb" NO \[BADEVENT \(MessageNew MessageExpunge FlagChange "
                                    rb"MailboxName SubscriptionChange\)\]")
        self.assertIn(b" OK ", raw.command("NOTIFY SET (mailboxes (nowhere-1 nowhere-2) "
                                           "(MessageNew MessageExpunge))")[-1])
        self.assertIn(b" OK ", raw.command("NOTIFY NONE")[-1])
        # docs/security.md: at most 1000 mailbox names in one NOTIFY.
        names = " ".join(f"n{i}" for i in range(1001))
        lines = raw.command(f"NOTIFY SET (mailboxes ({names}) (MessageNew MessageExpunge))")
        self.assertIn(b" NO [NOTIFICATIONOVERFLOW]", lines[-1])
        self.assertIn(b" OK ", raw.command("NOOP")[-1])

    def test_status_gives_the_state_to_start_from(self):
        raw = self.raw()
        raw.command("CREATE nt-status")
        self.append(raw, "nt-status", simple("one"))
        lines = raw.command("NOTIFY SET STATUS (mailboxes nt-status (MessageNew MessageExpunge FlagChange))")
        status = untagged(lines, b"STATUS")
        self.assertEqual(len(status), 1, lines)
        for item in (b"MESSAGES 1", b"UIDNEXT 2", b"UIDVALIDITY ", b"HIGHESTMODSEQ "):
            self.assertIn(item, status[0])
        lines = raw.command("NOTIFY SET (mailboxes nt-status (MessageNew MessageExpunge FlagChange))")
        self.assertEqual(untagged(lines, b"STATUS"), [], lines)

    def test_other_mailboxes_between_commands(self):
        watcher, other = self.raw(), self.raw()
        other.command("CREATE nt-other")
        watcher.command("ENABLE CONDSTORE")
        lines = watcher.command("NOTIFY SET (personal (MessageNew MessageExpunge FlagChange "
                                "MailboxName SubscriptionChange))")
        self.assertIn(b" OK ", lines[-1])
        self.append(other, "nt-other", simple("new"))
        lines = self.unsolicited(watcher, b"STATUS")
        self.assertRegex(lines[-1], rb'^\* STATUS "?nt-other"? \(MESSAGES 1 UIDNEXT 2 UNSEEN 1 '
                                    rb'HIGHESTMODSEQ \d+\)')
        other.command("SELECT nt-other")
        other.command("STORE 1 +FLAGS (\\Seen)")
        lines = self.unsolicited(watcher, b"STATUS")
        self.assertRegex(lines[-1], rb"UNSEEN 0 UIDVALIDITY \d+ HIGHESTMODSEQ \d+")
        other.command("CREATE nt-made")
        self.assertRegex(self.unsolicited(watcher, b"nt-made")[-1],
                         rb'^\* LIST \(\\HasNoChildren\) "/" "?nt-made"?')
        other.command("RENAME nt-made nt-renamed")
        self.assertRegex(self.unsolicited(watcher, b"nt-renamed")[-1],
                         rb'^\* LIST \([^)]*\) "/" "?nt-renamed"? \("OLDNAME" \("?nt-made"?\)\)')
        other.command("SUBSCRIBE nt-renamed")
        self.assertIn(b"\\Subscribed", self.unsolicited(watcher, b"nt-renamed")[-1])
        other.command("DELETE nt-renamed")
        self.assertRegex(self.unsolicited(watcher, b"nt-renamed")[-1],
                         rb'^\* LIST \(\\NonExistent\) "/" "?nt-renamed"?')
        # NOTIFY NONE: nothing more.
        watcher.command("NOTIFY NONE")
        self.append(other, "nt-other", simple("unheard"))
        self.assertEqual(untagged(watcher.command("NOOP"), b"STATUS"), [])

    def test_the_selected_mailbox(self):
        watcher, other = self.raw(), self.raw()
        other.command("CREATE nt-sel")
        self.append(other, "nt-sel", simple("first"))
        watcher.command("SELECT nt-sel")
        watcher.command("NOTIFY SET (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange))")
        self.append(other, "nt-sel", simple("second"))
        lines = self.unsolicited(watcher, b"FETCH")
        self.assertIn(b"* 2 EXISTS\r\n", lines)
        # An IMAP4rev1 session: the new message is \\Recent in it.
        self.assertRegex(lines[-1], rb"^\* 2 FETCH \(UID 2 FLAGS \(\\Recent\)\)")
        other.command("SELECT nt-sel")
        other.command("STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.assertIn(b"\\Deleted", self.unsolicited(watcher, b"FETCH")[-1])
        other.command("EXPUNGE")
        self.assertEqual(self.unsolicited(watcher, b"EXPUNGE")[-1], b"* 1 EXPUNGE\r\n")
        # selected-delayed: expunges wait for a command that allows them.
        watcher.command("NOTIFY SET (selected-delayed (MessageNew MessageExpunge))")
        other.command("STORE 1 +FLAGS.SILENT (\\Deleted)")
        other.command("EXPUNGE")
        self.append(other, "nt-sel", simple("third"))
        lines = self.unsolicited(watcher, b"EXISTS")
        self.assertFalse(any(b"EXPUNGE" in line for line in lines), lines)
        self.assertIn(b"* 1 EXPUNGE\r\n", watcher.command("NOOP"))
        # No "selected" group: the selected mailbox's messages are not reported at all.
        watcher.command("NOTIFY SET (personal (MailboxName))")
        self.append(other, "nt-sel", simple("fourth"))
        lines = watcher.command("NOOP")
        self.assertEqual(untagged(lines[:-1], b""), [], lines)

    def test_idle_sends_what_notify_asked_for(self):
        watcher, other = self.raw(), self.raw()
        other.command("CREATE nt-idle")
        watcher.command("NOTIFY SET (mailboxes nt-idle (MessageNew MessageExpunge))")
        watcher.send(b"i IDLE\r\n")
        self.assertTrue(watcher.file.readline().startswith(b"+ "))
        self.append(other, "nt-idle", simple("during idle"))
        self.assertIn(b"MESSAGES 1", self.unsolicited(watcher, b"STATUS")[-1])
        watcher.send(b"DONE\r\n")
        self.assertTrue(watcher.file.readline().startswith(b"i OK"))


if __name__ == "__main__":
    unittest.main()
