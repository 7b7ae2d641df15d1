"""Ten IMAP sessions on one account race each other for 30 seconds (RAMPART_LOAD_SECONDS
changes that), and every response is checked against RFC 9051, RFC 3501 and RFC 7162
(with UIDPLUS RFC 4315, MOVE RFC 6851, ESEARCH RFC 4731). Any violation is recorded
as a protocol error with the client, the command and the offending line; the summary
gives the commands per kind and the errors per kind with an example, and the test
fails unless there are none. RAMPART_LOAD_VERBOSE=1 adds each kind's transcript.

The sessions: c0, c1 IMAP4rev1; c2, c3 ENABLE IMAP4rev2; c4, c5 CONDSTORE; c6 QRESYNC;
c7 IMAP4rev2 + QRESYNC; c8 IMAP4rev2 + CONDSTORE; c9 IMAP4rev1 living in Archive. The
others live in INBOX, where SMTP also delivers. Each loops over a random mix: APPEND
(flags, keywords, LITERAL+, synchronizing literals, MULTIAPPEND), SELECT/EXAMINE (QRESYNC
ones resynchronize from what they kept), FETCH and UID FETCH (FLAGS UID RFC822.SIZE
BODY.PEEK[] ENVELOPE BODYSTRUCTURE INTERNALDATE MODSEQ; CHANGEDSINCE/VANISHED), STORE
and UID STORE (+FLAGS -FLAGS FLAGS, .SILENT, UNCHANGEDSINCE; system flags, $Label1..5,
other keywords, NIL), COPY/MOVE and their UID forms between INBOX and Archive,
EXPUNGE/UID EXPUNGE, SEARCH/UID SEARCH (SEARCH and ESEARCH), NOOP, IDLE, STATUS,
CLOSE/UNSELECT. Clients read raw sockets (never imaplib), so they see every untagged
response in order, and keep a view of the selected mailbox made only of what the
server told them: number -> UID, flags, \\Recent, MODSEQ, FLAGS, PERMANENTFLAGS,
UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ.

What is caught (error kinds):
- syntax: a response off the grammar (RFC 9051/3501 section 9, RFC 7162 section 7):
  unbalanced lists, an ENVELOPE or BODYSTRUCTURE of the wrong shape, SP between
  addresses, "{n+}" from the server, no SP after a response code, message number 0...
- bad, untagged-bad, untagged-no, bye, *-no: BAD for a valid command; NO where nothing
  explains it (see below); a BYE.
- expunge-outside-command, expunge-during-seqnum-command, vanished-during-uid-search,
  expunge-during-close: EXPUNGE/VANISHED with no command in progress (or before a
  literal's continuation), during FETCH/STORE/SEARCH, during a UID SEARCH holding
  message numbers, during CLOSE (RFC 9051 7.5.1 and 6.4.1, RFC 7162 3.2.10.2).
- expunge-out-of-range, exists-decreased, fetch-beyond-exists, uid-order, uid-changed,
  uid-not-below-uidnext, new-uid-below-uidnext: message numbers and UIDs (RFC 9051
  2.3.1, 7.4.1, 7.5); expunge-with-qresync, vanished-without-qresync,
  vanished-unknown-uid, vanished-earlier-unasked (RFC 7162 3.2.10).
- keyword-not-announced, flag-extension, permanentflags-not-in-flags (RFC 9051 7.3.5,
  7.1); recent-in-imap4rev2, recent-changed, recent-twice (two selections both see a
  message \\Recent), recent-count (RFC 3501 2.3.2, 7.3.2; RFC 9051 Appendix E).
- modseq-decreased, modseq-flags-conflict (one MODSEQ, two flag sets, across all
  sessions), highestmodseq-below-seen, fetch-without-modseq, fetch-without-uid,
  changedsince-*, modified-*, move-without-highestmodseq (RFC 7162 3.1, 3.1.3,
  3.1.4.1, 3.2.4, 3.2.6; RFC 6851 4.4).
- store-without-fetch: a STORE without .SILENT is answered by a FETCH whose FLAGS show
  the change (RFC 9051 6.4.6), one with UNCHANGEDSINCE by a FETCH with MODSEQ even when
  .SILENT, unless the message is in MODIFIED (RFC 7162 3.1.3).
- fetch-missing-data, size-mismatch, static-changed, body-changed, envelope-wrong,
  bodystructure-wrong: every item asked for comes back; BODY[] has RFC822.SIZE octets;
  the static items of a UID never change, in any session, and a copy has its
  original's; an appended message (unique Message-ID) comes back byte for byte.
- no-appenduid, appenduid-*, no-copyuid, copyuid-*, move-copyuid-tagged,
  copyuid-after-expunge, move-not-expunged: UIDPLUS codes name new UIDs, above every
  UID seen before and ascending, and MOVE reports its expunges after an untagged
  COPYUID (RFC 4315 section 3, RFC 9051 6.3.12, 6.4.7, 6.4.8, RFC 6851 3.3).
- uidvalidity-changed, uidnext-not-above-uids, uidnext-decreased, status-*: UIDVALIDITY
  never changes; UIDNEXT (SELECT, STATUS) exceeds every UID seen before (RFC 9051
  2.3.1.1, 6.3.11).
- select-incomplete, no-closed, examine-not-read-only: FLAGS, EXISTS, RECENT (rev1),
  LIST (rev2), PERMANENTFLAGS, UIDNEXT, UIDVALIDITY, HIGHESTMODSEQ (CONDSTORE); OK
  [CLOSED] when another mailbox was selected (RFC 9051 6.3.2-3, RFC 3501 6.3.1, RFC
  7162 3.1.2).
- search-*, esearch-*: one SEARCH (IMAP4rev1) or one ESEARCH (IMAP4rev2, RETURN) with
  its TAG and UID marker; COUNT, MIN, MAX, ALL agree; numbers within the mailbox and
  the criteria's set; UIDs the session knows; MODSEQ for MODSEQ criteria (RFC 9051
  6.4.4, 6.4.9; RFC 7162 3.1.6, 3.1.10).
- qresync-count, qresync-order: after SELECT (QRESYNC), the kept messages minus
  VANISHED (EARLIER), plus those FETCHed, are the mailbox, in order (RFC 7162 3.2.5.1).
- final-view-differs: after the load, every session, brought up to date by NOOP, has
  the UIDs and flags (\\Recent aside) of a fresh SELECT and FETCH 1:* (UID FLAGS).

NO, and data left out: another session may expunge a message this one still
addresses. Left-out data (FETCH items, a STORE's FETCH, a message missing from COPYUID
or from a CHANGEDSINCE answer) is accepted only if the next NOOP reports the message
expunged (RFC 2180 section 4). NO is accepted only from COPY/MOVE by message number,
and only when the expunge of one of its messages is reported (RFC 2180 4.4.1).
FETCH and STORE never answer NO: the expunge is held back while they run (RFC 9051
7.5.1), the server says so with OK [EXPUNGEISSUED] at most (docs/imap.md); UID
commands never do (RFC 9051 6.4.9: a UID that is gone is ignored).

That it detects: CheckerSelfTest feeds canned broken responses to a client and
expects each kind above it names. And while this was written, mutating the checker's
own expectations (the server untouched) for 6 s runs gave: UID FETCH treated as a
sequence-number command, 402 expunge-during-seqnum-command; UIDs expected to descend,
4854 uid-order; +FLAGS expected to remove, 764 store-without-fetch; one flag added to
the fresh SELECT's answer, 10 final-view-differs (every session); $Label3 dropped from
each FLAGS, 2726 keyword-not-announced; a session's name mixed into the flags it
records per MODSEQ, 5851 modseq-flags-conflict; into the BODY[] it records, 413
static-changed.
"""

import asyncio
import base64
import collections
import hashlib
import os
import random
import re
import smtplib
import sys
import time
import traceback
import unittest

from harness import Instance

USER = "load@example.test"
PASSWORD = "a-long-password"
SECONDS = float(os.environ.get("RAMPART_LOAD_SECONDS", "30"))
SHARED, OTHER = "INBOX", "Archive"
SYSTEM_FLAGS = ("\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft")
SYSTEM_LOWER = frozenset(f.lower() for f in SYSTEM_FLAGS)
KEYWORDS = ("$Label1", "$Label2", "$Label3", "$Label4", "$Label5", "Project", "todo", "NIL")
VERBOSE = os.environ.get("RAMPART_LOAD_VERBOSE") == "1"  # transcripts with the errors
RESPONSE_TIMEOUT = 30    # seconds the server has for each response
BIG = 120                # a mailbox larger than this gets more expunges than appends


# ---------------------------------------------------------------------------------
# The wire: complete responses (their literals included) out of the byte stream.

class Closed(Exception):
    pass


class Dead(Exception):
    """The connection is unusable (closed, or silent past the timeout)."""


LITERAL_AT_END = re.compile(rb"\{(\d+)\+?\}\r\n\Z")


class Wire(asyncio.Protocol):
    def __init__(self):
        self.buf = bytearray()
        self.wake = asyncio.Event()
        self.closed = False
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buf += data
        self.wake.set()

    def eof_received(self):
        self.closed = True
        self.wake.set()
        return False

    def connection_lost(self, exc):
        self.closed = True
        self.wake.set()

    def write(self, data):
        self.transport.write(data)

    def take(self):
        """One complete response from what has arrived, or None: a line, and when it
        ends in a literal's {n}, the n bytes and the rest of the response."""
        buf, pos = self.buf, 0
        while True:
            end = buf.find(b"\r\n", pos)
            if end < 0:
                return None
            end += 2
            literal = LITERAL_AT_END.search(buf, pos, end)
            if literal:
                pos = end + int(literal.group(1))
                if len(buf) < pos:
                    return None
                continue
            data = bytes(buf[:end])
            del buf[:end]
            return data

    async def response(self):
        while True:
            data = self.take()
            if data is not None:
                return data
            if self.closed:
                raise Closed()
            self.wake.clear()
            await self.wake.wait()


# ---------------------------------------------------------------------------------
# The response grammar (RFC 9051 section 9, RFC 3501 section 9, RFC 7162 section 7,
# RFC 4315 section 4, RFC 4731 section 3).

class Unparsable(Exception):
    pass


SPECIALS = frozenset(b'(){ %*"\\]') | frozenset(range(0x20)) | {0x7F}
DATE_TIME = re.compile(rb'"[ \d]\d-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{4} '
                       rb'\d\d:\d\d:\d\d [+-]\d{4}"')
NO_ARGUMENT_CODES = {"ALERT", "PARSE", "READ-ONLY", "READ-WRITE", "TRYCREATE", "UIDNOTSTICKY",
                     "UNAVAILABLE", "AUTHENTICATIONFAILED", "AUTHORIZATIONFAILED", "EXPIRED",
                     "PRIVACYREQUIRED", "CONTACTADMIN", "NOPERM", "INUSE", "EXPUNGEISSUED",
                     "CORRUPTION", "SERVERBUG", "CLIENTBUG", "CANNOT", "LIMIT", "OVERQUOTA",
                     "ALREADYEXISTS", "NONEXISTENT", "NOTSAVED", "HASCHILDREN", "CLOSED",
                     "UNKNOWN-CTE", "NOMODSEQ", "COMPRESSIONACTIVE"}


class Parser:
    def __init__(self, data):
        self.d = data
        self.i = 0

    def fail(self, what):
        raise Unparsable(f"{what} at offset {self.i}: "
                         f"{self.d[max(0, self.i - 40):self.i]!r} ^ {self.d[self.i:self.i + 40]!r}")

    def at(self, s):
        return self.d.startswith(s, self.i)

    def take(self, s):
        if self.d.startswith(s, self.i):
            self.i += len(s)
            return True
        return False

    def expect(self, s):
        if not self.take(s):
            self.fail(f"expected {s!r}")

    def sp(self):
        self.expect(b" ")

    def end(self):
        self.expect(b"\r\n")
        if self.i != len(self.d):
            self.fail("data after the response's CRLF")

    def _run(self, extra=b""):
        d, j = self.d, self.i
        while j < len(d) and d[j] < 0x80 and (d[j] not in SPECIALS or d[j] in extra):
            j += 1
        return j

    def atom(self):
        j = self._run()
        if j == self.i:
            self.fail("expected an atom")
        s = self.d[self.i:j].decode()
        self.i = j
        return s

    def word(self):
        return self.atom().upper()

    def number(self, limit=2 ** 32, nonzero=False):
        d, j = self.d, self.i
        while j < len(d) and 0x30 <= d[j] <= 0x39:
            j += 1
        if j == self.i:
            self.fail("expected a number")
        if nonzero and d[self.i] == 0x30:
            self.fail("expected a non-zero number")
        value = int(d[self.i:j])
        if value >= limit:
            self.fail("number out of range")
        self.i = j
        return value

    def nz(self):
        return self.number(nonzero=True)

    def number64(self, nonzero=False):
        return self.number(limit=2 ** 63, nonzero=nonzero)

    def quoted(self):
        self.expect(b'"')
        out, d = bytearray(), self.d
        while True:
            if self.i >= len(d):
                self.fail("unterminated quoted string")
            c = d[self.i]
            if c == 0x22:
                self.i += 1
                return bytes(out)
            if c == 0x5C:
                special = d[self.i + 1:self.i + 2]
                if special not in (b'"', b"\\"):
                    self.fail("backslash before a character that is not a quoted-special")
                out += special
                self.i += 2
                continue
            if c in (0x00, 0x0A, 0x0D):
                self.fail("NUL, CR or LF in a quoted string")
            out.append(c)
            self.i += 1

    def literal(self):
        self.expect(b"{")
        n = self.number64()
        if self.at(b"+"):
            self.fail("non-synchronizing literal sent by the server")
        self.expect(b"}\r\n")
        if self.i + n > len(self.d):
            self.fail("literal shorter than announced")
        value = self.d[self.i:self.i + n]
        if b"\0" in value:
            self.fail("NUL in a literal")
        self.i += n
        return value

    def string(self):
        if self.at(b'"'):
            return self.quoted()
        if self.at(b"{"):
            return self.literal()
        self.fail("expected a string")

    def nil(self):
        if self.d[self.i:self.i + 3].upper() == b"NIL" and self._run_at(self.i + 3) == self.i + 3:
            self.i += 3
            return True
        return False

    def _run_at(self, j):
        d = self.d
        while j < len(d) and d[j] < 0x80 and d[j] not in SPECIALS:
            return j + 1
        return j

    def nstring(self):
        return None if self.nil() else self.string()

    def astring(self):
        if self.at(b'"') or self.at(b"{"):
            return self.string()
        j = self._run(extra=b"]")
        if j == self.i:
            self.fail("expected an astring")
        s = self.d[self.i:j]
        self.i = j
        return s

    def flag(self, perm=False):
        if self.take(b"\\"):
            if perm and self.take(b"*"):
                return "\\*"
            return "\\" + self.atom()
        return self.atom()

    def flag_list(self, perm=False):
        self.expect(b"(")
        out = []
        if self.take(b")"):
            return out
        while True:
            out.append(self.flag(perm))
            if self.take(b")"):
                return out
            self.sp()

    def number_set(self, star=False):
        """sequence-set / uid-set as a list of numbers ("*" as None) in the given order;
        a range a:b stands for min..max (RFC 9051 section 9, RFC 4315 section 3)."""
        out = []
        while True:
            first = None if (star and self.take(b"*")) else self.nz()
            if self.take(b":"):
                last = None if (star and self.take(b"*")) else self.nz()
                if first is None or last is None:
                    out.append(None)
                    out.append(first if first is not None else last)
                else:
                    low, high = min(first, last), max(first, last)
                    if high - low > 100000:
                        self.fail("implausibly large range")
                    out.extend(range(low, high + 1))
            else:
                out.append(first)
            if not self.take(b","):
                return out

    def text_to_end(self):
        """resp-text's text: everything up to the final CRLF, no CR or LF in it."""
        end = len(self.d) - 2
        if end < self.i or self.d[end:] != b"\r\n":
            self.fail("no CRLF at the end")
        text = self.d[self.i:end]
        if b"\r" in text or b"\n" in text or b"\0" in text:
            self.fail("CR, LF or NUL in a response's text")
        self.i = end
        self.end()
        return text


class Resp:
    """One parsed server response: kind is "TAGGED", "CONTINUE", a status ("OK", "NO",
    "BAD", "BYE"), or the untagged response's name ("EXISTS", "FETCH", ...)."""

    __slots__ = ("raw", "kind", "tag", "num", "code", "args", "text", "data")

    def __init__(self, raw, kind):
        self.raw = raw
        self.kind = kind
        self.tag = self.num = self.code = self.args = self.text = self.data = None


def parse_code(p):
    """resp-text-code: (name, arguments)."""
    name = p.word()
    if name == "PERMANENTFLAGS":
        p.sp()
        return name, p.flag_list(perm=True)
    if name in ("UIDNEXT", "UIDVALIDITY", "UNSEEN"):
        p.sp()
        return name, p.nz()
    if name == "HIGHESTMODSEQ":
        p.sp()
        return name, p.number64(nonzero=True)
    if name == "APPENDUID":
        p.sp()
        validity = p.nz()
        p.sp()
        return name, (validity, p.number_set())
    if name == "COPYUID":
        p.sp()
        validity = p.nz()
        p.sp()
        source = p.number_set()
        p.sp()
        return name, (validity, source, p.number_set())
    if name == "MODIFIED":
        p.sp()
        return name, p.number_set()
    if name == "CAPABILITY":
        caps = []
        while p.take(b" "):
            caps.append(p.atom())
        return name, caps
    if name == "BADCHARSET":
        if p.take(b" "):
            p.expect(b"(")
            while not p.take(b")"):
                p.astring()
                p.take(b" ")
        return name, None
    if name in NO_ARGUMENT_CODES:
        return name, None
    if p.take(b" "):  # atom [SP 1*<any TEXT-CHAR except "]">]
        j = p.d.find(b"]", p.i)
        if j <= p.i:
            p.fail("unterminated response code")
        p.i = j
    return name, None


def parse_resp_text(p, r):
    """resp-text = ["[" resp-text-code "]" SP] [text] (RFC 9051 section 9)."""
    if p.take(b"["):
        r.code, r.args = parse_code(p)
        p.expect(b"]")
        if p.at(b"\r\n"):
            p.fail('no SP after the response code\'s "]"')
        p.sp()
    r.text = p.text_to_end()


def parse_envelope(p):
    p.expect(b"(")
    date = p.nstring()
    p.sp()
    subject = p.nstring()
    addresses = []
    for _ in range(6):
        p.sp()
        addresses.append(parse_address_list(p))
    p.sp()
    in_reply_to = p.nstring()
    p.sp()
    message_id = p.nstring()
    p.expect(b")")
    return (date, subject, *addresses, in_reply_to, message_id)


def parse_address_list(p):
    if p.nil():
        return None
    p.expect(b"(")
    out = []
    while p.at(b"("):  # 1*address, no SP between them
        p.expect(b"(")
        parts = [p.nstring()]
        for _ in range(3):
            p.sp()
            parts.append(p.nstring())
        p.expect(b")")
        out.append(tuple(parts))
    if not out:
        p.fail("empty address list (must be NIL)")
    p.expect(b")")
    return tuple(out)


def parse_param(p):
    if p.nil():
        return None
    p.expect(b"(")
    out = []
    while True:
        key = p.string()
        p.sp()
        out.append((key, p.string()))
        if p.take(b")"):
            return tuple(out)
        p.sp()


def parse_body_extension(p):
    if p.take(b"("):
        parse_body_extension(p)
        while p.take(b" "):
            parse_body_extension(p)
        p.expect(b")")
    elif p.d[p.i:p.i + 1].isdigit():
        p.number64()
    else:
        p.nstring()


def parse_extension_tail(p):
    """[SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]]]"""
    if not p.take(b" "):
        return
    if not p.nil():
        p.expect(b"(")
        p.string()
        p.sp()
        parse_param(p)
        p.expect(b")")
    if not p.take(b" "):
        return
    if p.take(b"("):
        p.string()
        while p.take(b" "):
            p.string()
        p.expect(b")")
    else:
        p.nstring()
    if not p.take(b" "):
        return
    p.nstring()
    while p.take(b" "):
        parse_body_extension(p)


def parse_body(p, extensible=True):
    """body (RFC 9051 section 9); returns (type, subtype, octets, lines, parts)."""
    p.expect(b"(")
    if p.at(b"("):
        parts = []
        while p.at(b"("):  # 1*body, no SP between them
            parts.append(parse_body(p, extensible))
        p.sp()
        subtype = p.string()
        if extensible and p.take(b" "):
            parse_param(p)
            parse_extension_tail(p)
        p.expect(b")")
        return (b"MULTIPART", subtype.upper(), None, None, tuple(parts))
    media = p.string().upper()
    p.sp()
    subtype = p.string().upper()
    p.sp()
    parse_param(p)
    p.sp()
    p.nstring()  # id
    p.sp()
    p.nstring()  # description
    p.sp()
    p.string()   # encoding
    p.sp()
    octets = p.number()
    lines = None
    if media == b"MESSAGE" and subtype in (b"RFC822", b"GLOBAL"):
        p.sp()
        parse_envelope(p)
        p.sp()
        parse_body(p, extensible)
        p.sp()
        lines = p.number64()
    elif media == b"TEXT":
        p.sp()
        lines = p.number64()
    if extensible and p.take(b" "):
        p.nstring()  # md5
        parse_extension_tail(p)
    p.expect(b")")
    return (media, subtype, octets, lines, ())


def parse_msg_att(p):
    """msg-att as a dict: FLAGS, UID, RFC822.SIZE, INTERNALDATE, ENVELOPE,
    BODYSTRUCTURE, BODY[], MODSEQ."""
    p.expect(b"(")
    items = {}
    while True:
        name = p.word()  # "[" is an atom character: BODY[ ends at the "]"
        if name in items:
            p.fail(f"{name} twice in one FETCH response")
        if name != "BODY[":
            p.sp()
        if name == "FLAGS":
            items[name] = p.flag_list()
        elif name == "UID":
            items[name] = p.nz()
        elif name == "RFC822.SIZE":
            items[name] = p.number64()
        elif name == "INTERNALDATE":
            start = p.i
            p.quoted()
            if not DATE_TIME.fullmatch(p.d, start, p.i):
                p.fail("INTERNALDATE is not a date-time")
            items[name] = p.d[start:p.i]
        elif name == "ENVELOPE":
            items[name] = parse_envelope(p)
        elif name == "BODYSTRUCTURE":
            items[name] = parse_body(p)
        elif name == "BODY[":
            p.expect(b"]")
            if p.at(b"<"):
                p.fail("an origin on a BODY[] that was fetched whole")
            p.sp()
            items["BODY[]"] = p.nstring()
        elif name == "MODSEQ":
            p.expect(b"(")
            items[name] = p.number64(nonzero=True)
            p.expect(b")")
        else:
            p.fail(f"unexpected FETCH data item {name}")
        if p.take(b")"):
            return items
        p.sp()


def parse_response(raw):
    p = Parser(raw)
    if p.take(b"+"):
        r = Resp(raw, "CONTINUE")
        if p.take(b" "):
            r.text = p.text_to_end()
        else:
            p.end()
        return r
    if not p.take(b"* "):
        j = p._run(extra=b"]")
        if j == 0 or b"+" in raw[:j]:
            p.fail("neither *, + nor a tag")
        r = Resp(raw, "TAGGED")
        r.tag = raw[:j].decode()
        p.i = j
        p.sp()
        r.data = p.word()
        if r.data not in ("OK", "NO", "BAD"):
            p.fail("tagged response that is not OK, NO or BAD")
        p.sp()
        parse_resp_text(p, r)
        return r
    if p.d[p.i:p.i + 1].isdigit():
        number = p.number()
        p.sp()
        name = p.word()
        r = Resp(raw, name)
        r.num = number
        if name in ("EXISTS", "RECENT"):
            p.end()
        elif name == "EXPUNGE":
            if number == 0:
                p.fail("EXPUNGE of message 0")
            p.end()
        elif name == "FETCH":
            if number == 0:
                p.fail("FETCH of message 0")
            p.sp()
            r.data = parse_msg_att(p)
            p.end()
        else:
            p.fail(f"unknown message data {name}")
        return r
    name = p.word()
    r = Resp(raw, name)
    if name in ("OK", "NO", "BAD", "BYE"):
        p.sp()
        parse_resp_text(p, r)
    elif name == "FLAGS":
        p.sp()
        r.data = p.flag_list()
        p.end()
    elif name in ("CAPABILITY", "ENABLED"):
        r.data = []
        while p.take(b" "):
            r.data.append(p.atom().upper())
        p.end()
    elif name == "LIST":
        p.sp()
        r.data = {"flags": p.flag_list()}
        p.sp()
        if not p.nil():
            p.quoted()
        p.sp()
        r.data["mailbox"] = p.astring()
        if p.take(b" "):
            p.i = len(raw) - 2  # mbox-list-extended: not asked for here
        p.end()
    elif name == "STATUS":
        p.sp()
        mailbox = p.astring()
        p.sp()
        p.expect(b"(")
        items = collections.OrderedDict()
        duplicate = None
        while not p.take(b")"):
            key = p.word()
            p.sp()
            if key in items:
                duplicate = key
            items[key] = p.number64()
            if not p.at(b")"):
                p.sp()
        if duplicate:
            p.fail(f"{duplicate} twice in STATUS")
        r.data = (mailbox, items)
        p.end()
    elif name == "SEARCH":
        numbers, modseq = [], None
        while p.take(b" "):
            if p.take(b"(MODSEQ "):
                modseq = p.number64(nonzero=True)
                p.expect(b")")
                break
            numbers.append(p.nz())
        r.data = (numbers, modseq)
        p.end()
    elif name == "ESEARCH":
        data = {"TAG": None, "UID": False}
        if p.take(b" (TAG "):
            data["TAG"] = p.astring().decode()
            p.expect(b")")
        if p.at(b" UID") and p.d[p.i + 4:p.i + 5] in (b" ", b"\r"):
            p.i += 4
            data["UID"] = True
        while p.take(b" "):
            key = p.word()
            p.sp()
            if key in data:
                p.fail(f"{key} twice in ESEARCH")
            if key in ("MIN", "MAX"):
                data[key] = p.nz()
            elif key == "COUNT":
                data[key] = p.number()
            elif key == "ALL":
                data[key] = p.number_set()
            elif key == "MODSEQ":
                data[key] = p.number64(nonzero=True)
            else:
                p.fail(f"ESEARCH return data {key} that was not asked for")
        r.data = data
        p.end()
    elif name == "VANISHED":
        p.sp()
        earlier = p.take(b"(EARLIER) ")
        r.data = (earlier, p.number_set())
        p.end()
    else:
        p.fail(f"unknown untagged response {name}")
    return r


# ---------------------------------------------------------------------------------
# What every client saw, and the errors.

class World:
    """State shared by the clients: the errors, command counts, and what the server
    said about each mailbox (UIDVALIDITY, the highest UID and MODSEQ anyone has seen,
    the static data of each message, which session holds each \\Recent)."""

    def __init__(self):
        self.errors = collections.OrderedDict()   # kind -> [count, examples]
        self.commands = collections.Counter()
        self.nos = collections.Counter()
        self.uidvalidity = {}
        self.max_uid = collections.defaultdict(int)
        self.max_modseq = collections.defaultdict(int)
        self.static = {}                           # (mailbox, uid) -> {item: value}
        self.appended = {}                         # Message-ID -> bytes
        self.recent = {}                           # (mailbox, uid) -> selection
        self.shapes = {}                           # (mailbox, uid) -> (subject, id, octets, lines)
        self.modseq_flags = {}                     # (mailbox, uid, modseq) -> flags

    def error(self, kind, client, command, line, detail, transcript=()):
        entry = self.errors.setdefault(kind, [0, [], list(transcript)])
        entry[0] += 1
        if len(entry[1]) < 3:
            entry[1].append((client, command, line, detail))

    def total(self):
        return sum(entry[0] for entry in self.errors.values())

    def summary(self, seconds, clients):
        out = [f"IMAP load: {clients} clients for {seconds:.0f} s, "
               f"{sum(self.commands.values())} commands"]
        for kind, count in sorted(self.commands.items()):
            nos = f" ({self.nos[kind]} NO)" if self.nos[kind] else ""
            out.append(f"  {kind:<12} {count:>6}{nos}")
        out.append(f"protocol errors: {self.total()}")
        for kind, (count, examples, transcript) in self.errors.items():
            client, command, line, detail = examples[0]
            out.append(f"  {kind}: {count}")
            out.append(f"      client {client}, command {command!r}")
            if line:
                out.append(f"      response {line!r}")
            out.append(f"      {detail}")
            for other in examples[1:] if VERBOSE else ():
                out.append(f"      also: client {other[0]}, command {other[1]!r}")
                if other[2]:
                    out.append(f"            response {other[2]!r}")
                out.append(f"            {other[3]}")
            if VERBOSE and transcript:
                out.append("      the client's last exchanges:")
                out.extend(f"        {t}" for t in transcript)
        return "\n".join(out)


def digest(data):
    return hashlib.sha1(data).hexdigest()[:16]


MESSAGE_ID = re.compile(rb"^Message-ID: (<[^>\r\n]+>)", re.M | re.I)


class Msg:
    """One message in a client's view: known UID (or None), flags without \\Recent
    (lower case; None when not reported yet), whether it is \\Recent, its MODSEQ,
    and whether it arrived after SELECT."""

    __slots__ = ("uid", "flags", "recent", "modseq", "new", "gone")

    def __init__(self, new):
        self.uid = self.flags = self.recent = self.modseq = None
        self.new = new
        self.gone = False


class View:
    """A client's picture of its selected mailbox, made only of what the server said."""

    def __init__(self, name, readonly, selection):
        self.name = name
        self.readonly = readonly
        self.selection = selection
        self.slots = []
        self.by_uid = {}
        self.announced = None       # FLAGS, lower case
        self.permanent = None       # PERMANENTFLAGS, lower case
        self.uidvalidity = self.uidnext = self.highestmodseq = self.recent = None
        self.unseen = None
        self.listed = False
        self.nomodseq = False
        self.select_uidnext = self.select_modseq = None
        self.counted = False        # the SELECT's EXISTS has come
        self.counted_msgs = []      # the messages it counted
        self.counted_recent = False

    def index(self, msg):
        for i, m in enumerate(self.slots):
            if m is msg:
                return i
        return None

    def remove(self, i):
        msg = self.slots.pop(i)
        msg.gone = True
        if msg.uid is not None:
            self.by_uid.pop(msg.uid, None)
        return msg

    def state(self):
        return [(m.uid, m.flags) for m in self.slots]


class Cmd:
    """A command in progress and what came back for it."""

    def __init__(self, tag, kind, line):
        self.tag = tag
        self.kind = kind
        self.line = line
        # RFC 9051 7.5.1: no EXPUNGE while a FETCH, STORE or SEARCH (by sequence
        # number) is in progress; RFC 7162 3.2.10.2: no VANISHED either, nor during a
        # UID SEARCH with message numbers in its criteria.
        self.seqnum = kind in ("FETCH", "STORE", "SEARCH")
        self.no_vanished = self.seqnum
        self.negotiating = False
        self.untagged = []
        self.fetched = []        # (msg, items) for every FETCH response
        self.removed = []        # messages removed by EXPUNGE/VANISHED during the command
        self.earlier = []        # UIDs of VANISHED (EARLIER)
        self.vanished = []       # UIDs of any VANISHED
        self.copyuid = None      # from an untagged OK (MOVE)
        self.highestmodseq = None
        self.searches = []       # (resp, count of messages when it arrived)
        self.status = self.code = self.args = self.text = None
        self.raw_tagged = None
        self.max_uid = {}
        self.max_modseq = {}
        self.targets = ()        # the messages the command names (for FETCH: solicited)
        self.target_ids = set()
        self.vanished_ok = False # VANISHED (EARLIER) may answer it
        self.select = None       # SELECT/EXAMINE: (mailbox, examine, old view, cache)


# ---------------------------------------------------------------------------------
# One client.

class Client:
    def __init__(self, world, cid, port, rev2=False, condstore=False, qresync=False, home=SHARED):
        self.world = world
        self.cid = cid
        self.port = port
        self.rev2 = rev2
        self.qresync = qresync
        self.condstore = condstore or qresync
        self.home = home
        self.wire = None
        self.n = 0
        self.cmd = None
        self.view = None
        self.selections = 0
        self.desynced = False
        self.cache = {}          # mailbox -> (uidvalidity, modseq, {uid: (flags, modseq)})
        self.uidnext_seen = {}
        self.messages = 0
        self.transcript = collections.deque(maxlen=60 if VERBOSE else 0)
        self.last = None         # the last command, for checks made after it ended

    @property
    def name(self):
        mode = "IMAP4rev2" if self.rev2 else "IMAP4rev1"
        if self.qresync:
            mode += "+QRESYNC"
        elif self.condstore:
            mode += "+CONDSTORE"
        return f"c{self.cid} ({mode})"

    def error(self, kind, detail, line=None, cmd=None):
        cmd = cmd or self.cmd or self.last
        cmd = cmd.line if cmd else "(between commands)"
        if isinstance(line, bytes):
            line = line[:300].decode("latin-1")
        self.world.error(kind, self.name, cmd, line, detail, self.transcript)

    # -- connection and command plumbing ------------------------------------------

    async def connect(self):
        loop = asyncio.get_running_loop()
        _, self.wire = await loop.create_connection(Wire, "127.0.0.1", self.port)
        greeting = self.parse(await self.next_raw())
        if greeting is not None and greeting.kind != "OK":
            self.error("greeting", f"greeting is {greeting.kind}", greeting.raw)
        cmd = await self.execute("LOGIN", f"LOGIN {USER} {PASSWORD}")
        if cmd.status != "OK":
            raise Dead(f"LOGIN answered {cmd.status}")
        enable = (["IMAP4rev2"] if self.rev2 else []) + \
                 (["QRESYNC"] if self.qresync else ["CONDSTORE"] if self.condstore else [])
        if enable:
            cmd = await self.execute("ENABLE", "ENABLE " + " ".join(enable))
            enabled = {c for r in cmd.untagged if r.kind == "ENABLED" for c in r.data}
            for capability in enable:
                if capability.upper() not in enabled:
                    self.error("enable", f"ENABLE {capability} not confirmed by * ENABLED "
                                         f"(RFC 5161 section 3.2)")

    def send(self, data):
        self.transcript.append("C: " + data[:200].decode("latin-1").split("\r\n")[0])
        self.wire.write(data)

    async def next_raw(self):
        try:
            return await asyncio.wait_for(self.wire.response(), RESPONSE_TIMEOUT)
        except asyncio.TimeoutError:
            raise Dead(f"no response within {RESPONSE_TIMEOUT} s") from None
        except Closed:
            raise Dead("connection closed by the server") from None

    def parse(self, raw):
        self.transcript.append("S: " + raw[:200].decode("latin-1").rstrip("\r\n"))
        try:
            return parse_response(raw)
        except Unparsable as e:
            self.error("syntax", f"does not parse (RFC 9051 section 9): {e}", raw)
            return None

    def drain(self):
        """Responses that arrived while no command was in progress."""
        while True:
            raw = self.wire.take()
            if raw is None:
                return
            r = self.parse(raw)
            if r is None:
                continue
            if r.kind in ("TAGGED", "CONTINUE"):
                self.error("stray-response", "tagged or continuation response with no command "
                                             "in progress", raw)
                continue
            self.untagged(r)

    async def execute(self, kind, line, literal=None, sync=False, idle=None, multi=None,
                      targets=(), vanished_ok=False, select=None, no_vanished=False):
        self.drain()
        self.n += 1
        tag = f"c{self.cid}.{self.n}"
        cmd = Cmd(tag, kind, f"{tag} {line}"[:200])
        cmd.targets = targets
        cmd.target_ids = {id(m) for m in targets}
        cmd.vanished_ok = vanished_ok
        cmd.select = select
        cmd.no_vanished = cmd.no_vanished or no_vanished
        cmd.max_uid = dict(self.world.max_uid)
        cmd.max_modseq = dict(self.world.max_modseq)
        self.world.commands[kind] += 1
        self.cmd = cmd
        if multi:  # MULTIAPPEND with LITERAL+: [flags] {n+} message, repeated
            data = f"{tag} {line}".encode()
            for flags, message in multi:
                data += (f" ({' '.join(flags)})" if flags else "").encode()
                data += b" {%d+}\r\n" % len(message) + message
            self.send(data + b"\r\n")
        elif literal is None:
            self.send(f"{tag} {line}\r\n".encode())
        elif not sync:
            self.send(f"{tag} {line} {{{len(literal)}+}}\r\n".encode() + literal + b"\r\n")
        else:
            self.send(f"{tag} {line} {{{len(literal)}}}\r\n".encode())
            cmd.negotiating = True  # RFC 9051 7.5.1: not "in progress" until all of it is sent
            if await self.read_until(cmd, continuation=True):
                cmd.negotiating = False
                self.send(literal + b"\r\n")
        if idle is not None and cmd.status is None:
            if await self.read_until(cmd, continuation=True):
                end = time.monotonic() + idle
                while cmd.status is None:
                    left = end - time.monotonic()
                    if left <= 0:
                        break
                    try:
                        raw = await asyncio.wait_for(self.wire.response(), left)
                    except asyncio.TimeoutError:
                        break
                    except Closed:
                        raise Dead("connection closed by the server") from None
                    self.handle(cmd, raw)
                self.send(b"DONE\r\n")
        if cmd.status is None:
            await self.read_until(cmd)
        self.last = cmd
        if select is not None:
            self.apply_select(cmd)
        if cmd.code == "HIGHESTMODSEQ" and self.view is not None:
            cmd.highestmodseq = cmd.args
            self.check_highestmodseq(self.view.name, cmd.args, cmd.raw_tagged)
        self.cmd = None
        if cmd.status == "NO":
            self.world.nos[kind] += 1
        if cmd.status == "BAD":
            self.error("bad", f"{kind} answered BAD, but the command is valid", cmd.raw_tagged)
        self.after_command(cmd)
        return cmd

    async def read_until(self, cmd, continuation=False):
        """Reads responses until the tagged one (or a continuation request when
        `continuation`); returns True for the continuation."""
        while cmd.status is None:
            raw = await self.next_raw()
            if self.handle(cmd, raw) == "CONTINUE":
                if continuation:
                    return True
                self.error("unexpected-continuation", "continuation request nobody asked for", raw)
        return False

    def handle(self, cmd, raw):
        r = self.parse(raw)
        if r is None:
            if raw.startswith(cmd.tag.encode() + b" "):  # unparsable, but ends the command
                cmd.status = raw.split(b" ")[1].decode("latin-1").upper()
                cmd.raw_tagged = raw
            return None
        if r.kind == "TAGGED":
            if r.tag != cmd.tag:
                self.error("wrong-tag", f"tagged response for {r.tag}, command is {cmd.tag}", raw)
                return None
            cmd.status, cmd.code, cmd.args, cmd.text = r.data, r.code, r.args, r.text
            cmd.raw_tagged = raw
            return "TAGGED"
        if r.kind == "CONTINUE":
            return "CONTINUE"
        if cmd.select is not None:
            cmd.untagged.append(r)  # applied once the command is done (split at [CLOSED])
        else:
            self.untagged(r)
        return r.kind

    # -- applying untagged responses to the view ---------------------------------

    def untagged(self, r):
        cmd = self.cmd
        if cmd is not None:
            cmd.untagged.append(r)
        kind = r.kind
        if kind in ("OK", "NO", "BAD", "BYE"):
            if kind == "BAD":
                self.error("untagged-bad", "untagged BAD: the server found fault with a valid "
                                           "command", r.raw)
            elif kind == "NO":
                self.error("untagged-no", "untagged NO (a warning) during a valid command", r.raw)
            elif kind == "BYE" and not (cmd and cmd.kind == "LOGOUT"):
                self.error("bye", "the server ends the session", r.raw)
            self.response_code(r)
            return
        if kind in ("CAPABILITY", "ENABLED", "LIST", "STATUS"):
            return
        if kind in ("SEARCH", "ESEARCH"):
            if cmd is None or "SEARCH" not in cmd.kind:
                self.error("unasked-search", f"{kind} response without a SEARCH", r.raw)
            else:
                cmd.searches.append((r, len(self.view.slots) if self.view else 0))
            return
        v = self.view
        if v is None:
            if kind != "VANISHED" or not r.data[0]:
                self.error("not-selected", f"{kind} while no mailbox is selected", r.raw)
            return
        if self.desynced:
            return
        if kind == "EXISTS":
            self.on_exists(r)
        elif kind == "RECENT":
            if v.recent is None and not v.counted_recent:
                v.recent = r.num  # the SELECT's own count; later ones follow EXISTS
            v.counted_recent = True
        elif kind == "EXPUNGE":
            self.on_expunge(r)
        elif kind == "VANISHED":
            self.on_vanished(r)
        elif kind == "FETCH":
            self.on_fetch(r)
        elif kind == "FLAGS":
            flags = [f.lower() for f in r.data]
            if "\\*" in flags:
                self.error("flags-syntax", "\\* in FLAGS (only PERMANENTFLAGS may hold it)", r.raw)
            v.announced = set(flags)

    def response_code(self, r):
        v, cmd, code = self.view, self.cmd, r.code
        if code is None:
            return
        if code == "PERMANENTFLAGS" and v is not None:
            v.permanent = {f.lower() for f in r.args}
            if "\\recent" in v.permanent:
                self.error("permanentflags-recent", "\\Recent in PERMANENTFLAGS: no client can "
                                                    "change it (RFC 3501 2.3.2)", r.raw)
        elif code == "UIDVALIDITY" and v is not None:
            if v.uidvalidity is not None and v.uidvalidity != r.args:
                self.error("uidvalidity-changed", f"UIDVALIDITY {r.args} in a session that was "
                           f"told {v.uidvalidity} (RFC 9051 2.3.1.1)", r.raw)
            v.uidvalidity = r.args
        elif code == "UIDNEXT" and v is not None:
            v.uidnext = r.args
        elif code == "UNSEEN" and v is not None:
            v.unseen = r.args
        elif code == "NOMODSEQ" and v is not None:
            v.nomodseq = True
        elif code == "HIGHESTMODSEQ":
            if cmd is not None:
                cmd.highestmodseq = r.args
            if v is not None:
                self.check_highestmodseq(v.name, r.args, r.raw)
                v.highestmodseq = r.args
        elif code == "COPYUID" and cmd is not None and "MOVE" in cmd.kind:
            cmd.copyuid = r.args
            removed = {m.uid for m in cmd.removed}
            early = [u for u in r.args[1] if u in removed]
            if early:
                self.error("copyuid-after-expunge", f"COPYUID names UIDs {early} already reported "
                           f"expunged: RFC 9051 6.4.8 wants COPYUID before the EXPUNGEs", r.raw)

    def check_highestmodseq(self, mailbox, value, raw):
        cmd = self.cmd or self.last
        seen = cmd.max_modseq.get(mailbox, 0) if cmd else 0
        if value < seen:
            self.error("highestmodseq-below-seen", f"HIGHESTMODSEQ {value} for {mailbox}, but "
                       f"MODSEQ {seen} was reported before this command (RFC 7162 3.1.2.1: "
                       f"the highest of all messages; 3.2: it never decreases)", raw)

    def desync(self, why):
        """The view cannot follow the server any more (`why`, already reported): stop
        checking it until the mailbox is selected afresh."""
        self.desynced = True

    def expunge_allowed(self, r, vanished):
        cmd = self.cmd
        what = "VANISHED" if vanished else "EXPUNGE"
        if cmd is None or cmd.negotiating:
            self.error("expunge-outside-command", f"{what} while no command is in progress "
                       f"(RFC 9051 7.5.1, RFC 7162 3.2.10.2)", r.raw)
        elif cmd.seqnum:
            self.error("expunge-during-seqnum-command", f"{what} during {cmd.kind} (RFC 9051 "
                       f"7.5.1: not while responding to FETCH, STORE or SEARCH)", r.raw)
        elif vanished and cmd.no_vanished:
            self.error("vanished-during-uid-search", "VANISHED during a UID SEARCH with message "
                       "numbers in its criteria (RFC 7162 3.2.10.2)", r.raw)
        elif cmd.kind == "CLOSE":
            self.error("expunge-during-close", f"{what} during CLOSE (RFC 9051 6.4.1: no "
                       f"untagged EXPUNGE responses are sent)", r.raw)

    def on_exists(self, r):
        v = self.view
        if r.num < len(v.slots):
            self.error("exists-decreased", f"EXISTS {r.num} but {len(v.slots)} messages and no "
                       f"EXPUNGE for the difference (RFC 9051 7.4.1, 7.5.1)", r.raw)
            self.desync("EXISTS went down")
            return
        # The first EXISTS of a SELECT counts the mailbox (its messages have UIDs below
        # UIDNEXT); any later one announces messages that arrived since.
        new = v.counted
        v.counted = True
        while len(v.slots) < r.num:
            v.slots.append(Msg(new=new))
            if not new:
                v.counted_msgs.append(v.slots[-1])

    def on_expunge(self, r):
        v = self.view
        if self.qresync:
            self.error("expunge-with-qresync", "EXPUNGE after ENABLE QRESYNC (RFC 7162 3.2.10: "
                       "VANISHED instead)", r.raw)
        self.expunge_allowed(r, vanished=False)
        if r.num > len(v.slots):
            self.error("expunge-out-of-range", f"EXPUNGE {r.num} of {len(v.slots)} messages",
                       r.raw)
            self.desync("EXPUNGE out of range")
            return
        msg = v.remove(r.num - 1)
        if self.cmd is not None:
            self.cmd.removed.append(msg)

    def on_vanished(self, r):
        earlier, uids = r.data
        cmd = self.cmd
        if not self.qresync:
            self.error("vanished-without-qresync", "VANISHED before ENABLE QRESYNC", r.raw)
        if cmd is not None:
            cmd.vanished.extend(uids)
        if earlier:
            if cmd is None or not getattr(cmd, "vanished_ok", False):
                self.error("vanished-earlier-unasked", "VANISHED (EARLIER) outside SELECT/EXAMINE "
                           "(QRESYNC) and UID FETCH (VANISHED) (RFC 7162 3.2.10.1)", r.raw)
            elif cmd is not None:
                cmd.earlier.extend(uids)
            return
        self.expunge_allowed(r, vanished=True)
        v = self.view
        for uid in uids:
            msg = v.by_uid.get(uid)
            if msg is not None:
                i = v.index(msg)
            else:
                candidates = self.unknown_slots_for(uid)
                if not candidates:
                    self.error("vanished-unknown-uid", f"VANISHED {uid}: no such message in this "
                               f"session (RFC 7162 3.2.10.2: only messages visible to the client)",
                               r.raw)
                    continue
                for other in candidates[1:]:
                    v.slots[other].flags = None  # which one went is not known
                i = candidates[0]
            msg = v.remove(i)
            if cmd is not None:
                cmd.removed.append(msg)

    def unknown_slots_for(self, uid):
        """Indexes of messages without a known UID that could have `uid` (UIDs ascend)."""
        v, out, before = self.view, [], 0
        run = []
        for i, msg in enumerate(v.slots):
            if msg.uid is None:
                run.append(i)
                continue
            if before < uid < msg.uid:
                out.extend(run)
            run, before = [], msg.uid
        if before < uid:
            out.extend(run)
        return out

    def assign_uid(self, i, msg, uid, raw):
        v = self.view
        if msg.uid is not None:
            if msg.uid != uid:
                self.error("uid-changed", f"message {i + 1} has UID {msg.uid}, now reported as "
                           f"UID {uid} (RFC 9051 2.3.1.1: UIDs do not change)", raw)
                self.desync("UID changed")
            return
        before = next((m.uid for m in reversed(v.slots[:i]) if m.uid is not None), 0)
        after = next((m.uid for m in v.slots[i + 1:] if m.uid is not None), None)
        if uid <= before or (after is not None and uid >= after):
            self.error("uid-order", f"message {i + 1} reported as UID {uid}, between UIDs {before} "
                       f"and {after} (RFC 9051 2.3.1.1: UIDs ascend with sequence numbers)", raw)
            self.desync("UID order")
            return
        if v.select_uidnext is not None:
            if not msg.new and uid >= v.select_uidnext:
                self.error("uid-not-below-uidnext", f"UID {uid} of a message counted at SELECT, "
                           f"whose UIDNEXT was {v.select_uidnext} (RFC 9051 2.3.1.1)", raw)
            if msg.new and uid < v.select_uidnext:
                self.error("new-uid-below-uidnext", f"UID {uid} of a message that arrived after "
                           f"SELECT, whose UIDNEXT was {v.select_uidnext} (RFC 9051 2.3.1.1)", raw)
        msg.uid = uid
        v.by_uid[uid] = msg
        if uid > self.world.max_uid[v.name]:
            self.world.max_uid[v.name] = uid

    def on_fetch(self, r):
        v, cmd, items = self.view, self.cmd, r.data
        if r.num > len(v.slots):
            self.error("fetch-beyond-exists", f"FETCH for message {r.num} of {len(v.slots)} "
                       f"(RFC 9051 7.4.1: EXISTS must announce a message first)", r.raw)
            return
        i = r.num - 1
        msg = v.slots[i]
        if "UID" in items:
            self.assign_uid(i, msg, items["UID"], r.raw)
            if self.desynced:
                return
        if cmd is not None:
            cmd.fetched.append((msg, items))
        solicited = cmd is not None and cmd.kind in ("FETCH", "UID FETCH") \
            and id(msg) in cmd.target_ids
        if not solicited and ("FLAGS" in items or "MODSEQ" in items):
            # RFC 7162 3.1: MODSEQ in every FETCH a STORE or another session causes;
            # 3.2.4: a QRESYNC server includes UID too.
            if self.condstore and "MODSEQ" not in items and not v.nomodseq:
                self.error("fetch-without-modseq", "FETCH of a flag change without MODSEQ after "
                           "a CONDSTORE enabling command (RFC 7162 3.1)", r.raw)
            if self.qresync and "UID" not in items:
                self.error("fetch-without-uid", "FETCH of a flag change without UID after ENABLE "
                           "QRESYNC (RFC 7162 3.2.4)", r.raw)
        flags = None
        if "FLAGS" in items:
            flags = self.on_flags(msg, items["FLAGS"], r.raw)
        if "MODSEQ" in items:
            self.on_modseq(msg, items["MODSEQ"], flags, r.raw)
        self.check_static(msg, items, r.raw)

    def on_flags(self, msg, flags, raw):
        v = self.view
        lower = [f.lower() for f in flags]
        recent = "\\recent" in lower
        if recent and self.rev2:
            self.error("recent-in-imap4rev2", "\\Recent in an IMAP4rev2 session (RFC 9051 2.3.2, "
                       "Appendix E.12)", raw)
        for flag, low in zip(flags, lower):
            if low.startswith("\\"):
                if low not in SYSTEM_LOWER and low != "\\recent":
                    self.error("flag-extension", f"{flag}: servers generate no flag-extension "
                               f"(RFC 9051 section 9)", raw)
            elif v.announced is None or low not in v.announced:
                self.error("keyword-not-announced", f"keyword {flag} in FETCH before a FLAGS "
                           f"response listed it (RFC 9051 7.3.5, RFC 3501 7.2.6)", raw)
        if not self.rev2 and not v.readonly:
            if msg.recent is None:
                msg.recent = recent
            elif msg.recent != recent:
                self.error("recent-changed", f"\\Recent {'appeared' if recent else 'vanished'} "
                           f"in one session (RFC 3501 2.3.2)", raw)
            if recent and msg.uid is not None:
                holder = self.world.recent.setdefault((v.name, msg.uid), (self.name, v.selection))
                if holder != (self.name, v.selection):
                    self.error("recent-twice", f"UID {msg.uid} is \\Recent here and was in "
                               f"{holder[0]} selection {holder[1]} (RFC 3501 2.3.2: only the "
                               f"first session told of a message sees \\Recent)", raw)
        msg.flags = frozenset(low for low in lower if low != "\\recent")
        return msg.flags

    def on_modseq(self, msg, modseq, flags, raw):
        v = self.view
        if msg.modseq is not None and modseq < msg.modseq:
            self.error("modseq-decreased", f"UID {msg.uid}: MODSEQ {modseq} after {msg.modseq} "
                       f"(RFC 7162 3.1: it only grows)", raw)
        msg.modseq = modseq if msg.modseq is None else max(msg.modseq, modseq)
        if modseq > self.world.max_modseq[v.name]:
            self.world.max_modseq[v.name] = modseq
        if flags is not None and msg.uid is not None:
            key = (v.name, msg.uid, modseq)
            known = self.world.modseq_flags.setdefault(key, flags)
            if known != flags:
                self.error("modseq-flags-conflict", f"UID {msg.uid} MODSEQ {modseq} with flags "
                           f"{sorted(flags)}, elsewhere {sorted(known)} at the same MODSEQ "
                           f"(RFC 7162 3.1: every change raises the MODSEQ)", raw)

    def check_static(self, msg, items, raw):
        """RFC 9051 section 9, msg-att-static: these never change for a message."""
        if "BODY[]" in items and "RFC822.SIZE" in items:
            body = items["BODY[]"] or b""
            if len(body) != items["RFC822.SIZE"]:
                self.error("size-mismatch", f"BODY[] has {len(body)} octets, RFC822.SIZE says "
                           f"{items['RFC822.SIZE']} (RFC 9051 6.4.5)", raw)
        if "BODY[]" in items and items["BODY[]"] is not None:
            body = items["BODY[]"]
            mid = MESSAGE_ID.search(body)
            mine = self.world.appended.get(mid.group(1)) if mid else None
            if mine is not None and mine != body:
                self.error("body-changed", f"an appended message ({mid.group(1).decode()}, "
                           f"{len(mine)} octets) comes back as {len(body)} different octets", raw)
        if msg.uid is None:
            return
        key = (self.view.name, msg.uid)
        shape = self.world.shapes.get(key)
        if shape is not None:
            subject, message_id, octets, lines = shape
            envelope = items.get("ENVELOPE")
            if envelope is not None and (envelope[1], envelope[9]) != (subject, message_id):
                self.error("envelope-wrong", f"ENVELOPE subject/message-id {envelope[1]!r}/"
                           f"{envelope[9]!r}, the message has {subject!r}/{message_id!r} "
                           f"(RFC 9051 7.5.2)", raw)
            structure = items.get("BODYSTRUCTURE")
            if structure is not None and octets is not None and \
                    (structure[0], structure[1], structure[2], structure[3]) != \
                    (b"TEXT", b"PLAIN", octets, lines):
                self.error("bodystructure-wrong", f"BODYSTRUCTURE {structure[:4]}, the message is "
                           f"TEXT/PLAIN of {octets} octets in {lines} lines (RFC 9051 7.5.2)", raw)
        known = self.world.static.setdefault(key, {})
        for item in ("RFC822.SIZE", "BODY[]", "ENVELOPE", "BODYSTRUCTURE", "INTERNALDATE"):
            if item not in items:
                continue
            value = items[item]
            if item == "BODY[]":
                value = digest(value or b"")
            old = known.setdefault(item, value)
            if old != value:
                self.error("static-changed", f"{self.view.name} UID {msg.uid}: {item} differs "
                           f"from an earlier FETCH or the APPEND/COPY (RFC 9051 section 9, "
                           f"msg-att-static)", raw)

    def after_command(self, cmd):
        v = self.view
        if v is None or self.desynced or v.permanent is None or v.announced is None:
            return
        missing = {f for f in v.permanent if f != "\\*" and not f.startswith("\\")} - v.announced
        if missing:
            self.error("permanentflags-not-in-flags", f"PERMANENTFLAGS lists {sorted(missing)}, "
                       f"which FLAGS does not (RFC 9051 7.1: which of the known flags)",
                       cmd.raw_tagged if hasattr(cmd, "raw_tagged") else None)

    # -- commands -------------------------------------------------------------------

    async def noop(self):
        cmd = await self.execute("NOOP", "NOOP")
        self.expect_ok(cmd)
        return cmd

    def expect_ok(self, cmd):
        if cmd.status == "NO":
            self.error(f"{cmd.kind.lower().replace(' ', '-')}-no", f"{cmd.kind} failed though "
                       f"nothing explains it", cmd.raw_tagged)
        return cmd.status == "OK"

    async def justify(self, msgs, kind, what):
        """Messages a command left out, or named in a NO, must have been expunged by
        another session: the next NOOP reports it at the latest (RFC 2180 section 4)."""
        pending = [m for m in msgs if not m.gone]
        if not pending:
            return
        cmd = self.last
        await self.noop()
        for msg in pending:
            if not msg.gone and not self.desynced:
                self.error(kind, f"{what} UID {msg.uid}, which is still there after NOOP",
                           cmd.raw_tagged, cmd=cmd)

    async def select(self, mailbox, examine=False, use_qresync=True):
        kind = "EXAMINE" if examine else "SELECT"
        old = self.view
        if old is not None and not self.desynced:
            self.remember(old)
        cache = self.cache.get(mailbox) if (self.qresync and use_qresync) else None
        line = f"{kind} {mailbox}"
        if cache:
            line += f" (QRESYNC ({cache[0]} {cache[1]}))"
        self.selections += 1
        cmd = await self.execute(kind, line, select=(mailbox, examine, old, cache),
                                 vanished_ok=bool(cache))
        if cmd.status == "OK":
            await self.fill()
            self.check_recent_count(cmd)
        return cmd

    def apply_select(self, cmd):
        """The responses to SELECT/EXAMINE, once the tagged one is in: those before
        OK [CLOSED] still belong to the mailbox being left (RFC 9051 6.3.2)."""
        mailbox, examine, old, cache = cmd.select
        responses = cmd.untagged
        cmd.untagged = []
        closed = next((i for i, r in enumerate(responses) if r.kind == "OK" and r.code == "CLOSED"),
                      None)
        if closed is not None:
            if old is None:
                self.error("closed-without-mailbox", "OK [CLOSED] though no mailbox was selected",
                           responses[closed].raw)
            for r in responses[:closed]:
                self.untagged(r)
            responses = responses[closed + 1:]
        elif old is not None and (self.rev2 or self.qresync):
            self.error("no-closed", "SELECT with a mailbox selected, but no OK [CLOSED] "
                       "(RFC 9051 6.3.2, RFC 7162 3.2.11)", cmd.raw_tagged)
        self.desynced = False
        self.view = v = View(mailbox, examine, self.selections)
        for r in responses:
            if r.kind == "LIST" and r.data["mailbox"].upper() == mailbox.encode().upper():
                v.listed = True
            self.untagged(r)
        if cmd.status != "OK":
            self.view = None
            return
        v.select_modseq = v.highestmodseq
        self.check_selected(cmd, mailbox, examine, responses)
        if cache and not self.desynced:
            self.resync(cmd, cache)

    def check_selected(self, cmd, mailbox, examine, responses):
        v = self.view
        kinds = {r.kind for r in responses}
        required = ["FLAGS", "EXISTS"] + (["RECENT"] if not self.rev2 else [])
        for name in required:
            if name not in kinds:
                self.error("select-incomplete", f"no untagged {name} (RFC 9051 6.3.2, RFC 3501 "
                           f"6.3.1: REQUIRED)", cmd.raw_tagged)
        for name, value in (("PERMANENTFLAGS", v.permanent), ("UIDNEXT", v.uidnext),
                            ("UIDVALIDITY", v.uidvalidity)):
            if value is None:
                self.error("select-incomplete", f"no OK [{name}] (RFC 9051 6.3.2: REQUIRED)",
                           cmd.raw_tagged)
        if self.rev2 and not v.listed:
            self.error("select-incomplete", "no LIST response with the mailbox name (RFC 9051 "
                       "6.3.2: REQUIRED)", cmd.raw_tagged)
        if self.condstore and v.highestmodseq is None and not v.nomodseq:
            self.error("select-incomplete", "neither HIGHESTMODSEQ nor NOMODSEQ after a CONDSTORE "
                       "enabling command (RFC 7162 3.1.2)", cmd.raw_tagged)
        if examine and cmd.code != "READ-ONLY":
            self.error("examine-not-read-only", "EXAMINE's OK does not begin with [READ-ONLY] "
                       "(RFC 9051 6.3.3)", cmd.raw_tagged)
        if not examine and cmd.code == "READ-ONLY":
            self.error("select-read-only", "SELECT of the account's own mailbox is READ-ONLY",
                       cmd.raw_tagged)
        if v.uidvalidity is not None:
            known = self.world.uidvalidity.setdefault(mailbox, v.uidvalidity)
            if known != v.uidvalidity:
                self.error("uidvalidity-changed", f"UIDVALIDITY {v.uidvalidity} for {mailbox}, "
                           f"was {known} (RFC 9051 2.3.1.1)", cmd.raw_tagged)
        if v.uidnext is not None:
            v.select_uidnext = v.uidnext
            self.check_uidnext(cmd, mailbox, v.uidnext)
        if v.recent is not None and v.recent > len(v.slots):
            self.error("recent-count", f"RECENT {v.recent} of {len(v.slots)} messages",
                       cmd.raw_tagged)
        if v.unseen is not None and not 1 <= v.unseen <= len(v.slots):
            self.error("unseen-out-of-range", f"UNSEEN {v.unseen} of {len(v.slots)} messages",
                       cmd.raw_tagged)

    def check_uidnext(self, cmd, mailbox, uidnext):
        seen = cmd.max_uid.get(mailbox, 0)
        if uidnext <= seen:
            self.error("uidnext-not-above-uids", f"UIDNEXT {uidnext} for {mailbox}, but UID {seen} "
                       f"was reported before this command (RFC 9051 2.3.1.1)", cmd.raw_tagged)
        last = self.uidnext_seen.get(mailbox, 0)
        if uidnext < last:
            self.error("uidnext-decreased", f"UIDNEXT {uidnext} for {mailbox} after {last} "
                       f"(RFC 9051 2.3.1.1)", cmd.raw_tagged)
        self.uidnext_seen[mailbox] = max(last, uidnext)

    def remember(self, v):
        """What a QRESYNC client keeps of a mailbox it leaves, to resynchronize later."""
        if not self.qresync or v.highestmodseq is None or v.uidvalidity is None:
            return
        if any(m.uid is None or m.flags is None for m in v.slots):
            return
        self.cache[v.name] = (v.uidvalidity, v.select_modseq,
                              {m.uid: (m.flags, m.modseq) for m in v.slots})

    def resync(self, cmd, cache):
        """After SELECT (QRESYNC): the cached messages minus VANISHED (EARLIER), plus
        those the FETCH responses reported, must be exactly the EXISTS count, in UID
        order (RFC 7162 3.2.5.1)."""
        v = self.view
        if v.uidvalidity != cache[0]:
            return
        vanished = set(cmd.vanished)  # (EARLIER), and any expunged during the SELECT
        counted = [m for m in v.slots if not m.new]
        reported = {m.uid for m in counted if m.uid is not None}
        kept = sorted(set(cache[2]) - vanished - reported)
        unknown = [i for i, m in enumerate(counted) if m.uid is None]
        if len(kept) != len(unknown):
            self.error("qresync-count", f"after SELECT (QRESYNC): {len(counted)} messages, "
                       f"{len(reported)} reported by FETCH and {len(kept)} cached ones neither "
                       f"reported nor VANISHED (RFC 7162 3.2.5.1)", cmd.raw_tagged)
            return
        every = sorted(reported | set(kept))
        for i, msg in enumerate(counted):
            if msg.uid is not None and msg.uid != every[i]:
                self.error("qresync-order", f"FETCH gave message {i + 1} UID {msg.uid}; the "
                           f"resynchronized mailbox has UID {every[i]} there", cmd.raw_tagged)
                self.desync("QRESYNC order")
                return
        for i in unknown:
            msg = counted[i]
            uid = every[i]
            self.assign_uid(v.index(msg), msg, uid, cmd.raw_tagged)
            msg.flags, msg.modseq = cache[2][uid]

    # ... (operations follow)

    def check_recent_count(self, cmd):
        """RFC 3501 7.3.2: SELECT's RECENT counts the messages with \\Recent."""
        v = self.view
        if v is None or self.rev2 or v.readonly or v.recent is None or self.desynced:
            return
        counted = v.counted_msgs  # expunged ones too, if FETCH told their flags first
        if any(m.recent is None for m in counted):
            return
        have = sum(1 for m in counted if m.recent)
        if have != v.recent:
            self.error("recent-count", f"SELECT said {v.recent} RECENT, but {have} of its messages "
                       f"have \\Recent in FETCH (RFC 3501 7.3.2)", cmd.raw_tagged)

    # -- choosing messages --------------------------------------------------------

    def pick(self, most=5):
        """Indexes of a few messages: a run, a scattering, one, or the last few."""
        n = len(self.view.slots)
        if n == 0:
            return None
        how = random.random()
        if how < 0.4:
            start = random.randrange(n)
            return list(range(start, min(n, start + random.randint(1, most))))
        if how < 0.7:
            return sorted(random.sample(range(n), min(n, random.randint(1, most))))
        if how < 0.85:
            return [random.randrange(n)]
        return list(range(max(0, n - random.randint(1, 3)), n))

    def spec(self, idx, use_uid):
        """A sequence set (or UID set) naming the messages, sometimes ending in "*"."""
        v = self.view
        tail = len(idx) > 1 and idx == list(range(idx[0], len(v.slots))) and random.random() < 0.5
        if use_uid:
            uids = [v.slots[i].uid for i in idx]
            text = f"{uids[0]}:*" if tail else compress(uids)
        else:
            text = f"{idx[0] + 1}:*" if tail else compress([i + 1 for i in idx])
        return text, [v.slots[i] for i in idx]

    def flag_pool(self):
        return list(SYSTEM_FLAGS) + list(KEYWORDS) + [f"kw{self.cid}"]

    def make_message(self):
        self.messages += 1
        mid = f"<c{self.cid}.{self.messages}.{random.randrange(10 ** 9)}@load.test>"
        subject = f"load c{self.cid} message {self.messages}"
        head = (f"From: Client {self.cid} <c{self.cid}@load.test>\r\nTo: {USER}\r\n"
                f"Subject: {subject}\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\n"
                f"Message-ID: {mid}\r\nMIME-Version: 1.0\r\n")
        text = "".join(" ".join(random.choices(WORDS, k=random.randint(1, 12))) + "\r\n"
                       for _ in range(random.randint(1, 60))).encode()
        if random.random() < 0.7:
            message = (head + "Content-Type: text/plain; charset=us-ascii\r\n\r\n").encode() + text
            shape = (subject.encode(), mid.encode(), len(text), text.count(b"\r\n"))
        else:
            blob = base64.encodebytes(os.urandom(random.randint(10, 3000))).replace(b"\n", b"\r\n")
            first = ('Content-Type: multipart/mixed; boundary="b0"\r\n\r\n'
                     "--b0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
            second = ("--b0\r\nContent-Type: application/octet-stream\r\n"
                      "Content-Transfer-Encoding: base64\r\n\r\n")
            message = (head + first).encode() + text + second.encode() + blob + b"--b0--\r\n"
            shape = (subject.encode(), mid.encode(), None, None)
        self.world.appended[mid.encode()] = message
        return message, shape

    # -- the operations -------------------------------------------------------------

    async def op_noop(self):
        await self.noop()

    async def op_idle(self):
        cmd = await self.execute("IDLE", "IDLE", idle=random.uniform(0.05, 0.6))
        self.expect_ok(cmd)

    async def op_select(self):
        other = OTHER if self.home == SHARED else SHARED
        mailbox = self.home if random.random() < 0.7 else other
        await self.select(mailbox, examine=random.random() < 0.15,
                          use_qresync=random.random() < 0.7)

    async def op_close(self):
        v = self.view
        self.remember(v)
        kind = random.choice(["CLOSE", "UNSELECT"])
        cmd = await self.execute(kind, kind)
        self.expect_ok(cmd)
        if kind == "CLOSE" and self.qresync and cmd.code == "HIGHESTMODSEQ":
            self.error("close-highestmodseq", "HIGHESTMODSEQ in CLOSE's OK (RFC 7162 3.2.8: MUST "
                       "NOT)", cmd.raw_tagged)
        self.view = None
        await self.select(self.home)

    async def op_status(self):
        mailbox = OTHER if self.view is not None and self.view.name == SHARED else SHARED
        pool = ["MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED", "SIZE"]
        if self.condstore:
            pool.append("HIGHESTMODSEQ")  # a CONDSTORE enabling command (RFC 7162 3.1)
        if not self.rev2:
            pool.append("RECENT")
        items = random.sample(pool, random.randint(1, len(pool)))
        cmd = await self.execute("STATUS", f"STATUS {mailbox} ({' '.join(items)})")
        if not self.expect_ok(cmd):
            return
        answers = [r for r in cmd.untagged if r.kind == "STATUS"]
        if len(answers) != 1:
            self.error("status-responses", f"{len(answers)} STATUS responses (RFC 9051 6.3.11)",
                       cmd.raw_tagged)
            return
        r = answers[0]
        name, values = r.data
        if name.upper() != mailbox.encode().upper():
            self.error("status-mailbox", f"STATUS for {name!r}, asked {mailbox}", r.raw)
        if set(values) != set(items):
            self.error("status-items", f"asked {sorted(items)}, got {sorted(values)} (RFC 9051 "
                       f"6.3.11)", r.raw)
        if "UIDVALIDITY" in values:
            known = self.world.uidvalidity.setdefault(mailbox, values["UIDVALIDITY"])
            if known != values["UIDVALIDITY"]:
                self.error("uidvalidity-changed", f"UIDVALIDITY {values['UIDVALIDITY']} for "
                           f"{mailbox}, was {known} (RFC 9051 2.3.1.1)", r.raw)
        if "UIDNEXT" in values:
            self.check_uidnext(cmd, mailbox, values["UIDNEXT"])
        if "HIGHESTMODSEQ" in values:
            self.check_highestmodseq(mailbox, values["HIGHESTMODSEQ"], r.raw)
        for item in ("UNSEEN", "DELETED", "RECENT"):
            if item in values and "MESSAGES" in values and values[item] > values["MESSAGES"]:
                self.error("status-counts", f"{item} {values[item]} > MESSAGES "
                           f"{values['MESSAGES']}", r.raw)

    async def op_append(self):
        v = self.view
        here = v.name if v is not None else self.home
        mailbox = here if random.random() < 0.6 else (OTHER if here == SHARED else SHARED)
        pool = self.flag_pool()
        count = 2 if random.random() < 0.1 else 1
        made = [self.make_message() for _ in range(count)]
        flags = [random.sample(pool, random.randint(0, 3)) for _ in made]
        if count > 1:  # MULTIAPPEND (RFC 3502) with LITERAL+
            cmd = await self.execute("APPEND", f"APPEND {mailbox}",
                                     multi=list(zip(flags, [m for m, _ in made])))
        else:
            line = f"APPEND {mailbox}" + (f" ({' '.join(flags[0])})" if flags[0] else "")
            cmd = await self.execute("APPEND", line, literal=made[0][0],
                                     sync=random.random() < 0.5)
        if not self.expect_ok(cmd):
            return
        if cmd.code != "APPENDUID":
            self.error("no-appenduid", "APPEND OK without APPENDUID (RFC 9051 6.3.12, RFC 4315 "
                       "section 3)", cmd.raw_tagged)
            return
        validity, uids = cmd.args
        known = self.world.uidvalidity.setdefault(mailbox, validity)
        if known != validity:
            self.error("uidvalidity-changed", f"APPENDUID's UIDVALIDITY {validity} for {mailbox}, "
                       f"was {known}", cmd.raw_tagged)
        if len(uids) != count or None in uids:
            self.error("appenduid-count", f"{count} messages appended, APPENDUID names {uids} "
                       f"(RFC 4315 section 3)", cmd.raw_tagged)
            return
        self.new_uids(cmd, mailbox, uids, "APPENDUID")
        for uid, (message, shape) in zip(uids, made):
            self.expect_static(mailbox, uid, {"RFC822.SIZE": len(message),
                                              "BODY[]": digest(message)}, shape, cmd.raw_tagged)

    def new_uids(self, cmd, mailbox, uids, what):
        """UIDs just assigned: above every UID seen before the command, ascending
        (RFC 9051 2.3.1.1, RFC 4315 section 3)."""
        seen = cmd.max_uid.get(mailbox, 0)
        old = [u for u in uids if u <= seen]
        if old:
            self.error(f"{what.lower()}-not-new", f"{what} gives {mailbox} UIDs {old}, but UID "
                       f"{seen} was reported before the command (UIDs are assigned in strictly "
                       f"ascending order, RFC 9051 2.3.1.1)", cmd.raw_tagged)
        if uids != sorted(set(uids)):
            self.error(f"{what.lower()}-order", f"{what} UIDs {uids} do not ascend with the "
                       f"messages (RFC 4315 section 3)", cmd.raw_tagged)
        if uids and max(uids) > self.world.max_uid[mailbox]:
            self.world.max_uid[mailbox] = max(uids)

    def expect_static(self, mailbox, uid, values, shape, raw):
        known = self.world.static.setdefault((mailbox, uid), {})
        for item, value in values.items():
            if known.setdefault(item, value) != value:
                self.error("static-changed", f"{mailbox} UID {uid}: {item} of the new message "
                           f"differs from what a FETCH of that UID returned (a UID reused?)", raw)
        if shape is not None:
            self.world.shapes[(mailbox, uid)] = shape

    async def op_fetch(self):
        pool = ["FLAGS", "UID", "RFC822.SIZE", "BODY.PEEK[]", "ENVELOPE", "BODYSTRUCTURE",
                "INTERNALDATE"] + (["MODSEQ"] if self.condstore else [])
        items = random.sample(pool, random.randint(1, 4))
        idx = self.pick(3 if "BODY.PEEK[]" in items else 6)
        if idx is None:
            return await self.op_append()
        use_uid = random.random() < 0.5
        spec, targets = self.spec(idx, use_uid)
        await self.fetch(use_uid, spec, targets, items)

    async def fetch(self, use_uid, spec, targets, items):
        kind = "UID FETCH" if use_uid else "FETCH"
        cmd = await self.execute(kind, f"{kind} {spec} ({' '.join(items)})", targets=tuple(targets))
        if cmd.status == "NO":
            self.error("fetch-no", f"{kind} answered NO, but every message it names is still in "
                       f"this session (RFC 9051 7.5.1: an expunge by another session is held back "
                       f"during FETCH; 6.4.9: a missing UID is ignored, not an error)",
                       cmd.raw_tagged)
        if cmd.status != "OK" or self.desynced:
            return cmd
        want = {ITEM_NAMES.get(i, i) for i in items} | ({"UID"} if use_uid else set())
        got = collections.defaultdict(set)
        for msg, values in cmd.fetched:
            got[id(msg)] |= values.keys()
        missing = [m for m in targets if want - got[id(m)]]
        await self.justify(missing, "fetch-missing-data",
                           f"{kind} returned only {{{', '.join(sorted(want))}}} in part for")
        return cmd

    async def op_store(self, flags=None, op=None, silent=None, idx=None, use_uid=None):
        if idx is None:
            idx = self.pick()
        if idx is None:
            return await self.op_append()
        if use_uid is None:
            use_uid = random.random() < 0.5
        op = op or random.choice(["+FLAGS", "+FLAGS", "-FLAGS", "FLAGS"])
        if silent is None:
            silent = random.random() < 0.2
        if flags is None:
            flags = random.sample(self.flag_pool(), random.randint(0 if op == "FLAGS" else 1, 3))
        spec, targets = self.spec(idx, use_uid)
        seqs = {id(m): i + 1 for i, m in zip(idx, targets)}
        since = None
        if self.condstore and random.random() < 0.25 and all(m.modseq for m in targets):
            since = min(m.modseq for m in targets)
        kind = "UID STORE" if use_uid else "STORE"
        modifier = f"(UNCHANGEDSINCE {since}) " if since is not None else ""
        line = f"{kind} {spec} {modifier}{op}{'.SILENT' if silent else ''} ({' '.join(flags)})"
        cmd = await self.execute(kind, line, targets=tuple(targets))
        if cmd.status == "NO":
            self.error("store-no", f"{kind} answered NO, but every message it names is still in "
                       f"this session (RFC 9051 7.5.1, 6.4.9)", cmd.raw_tagged)
        if cmd.status != "OK" or self.desynced:
            return targets
        wanted = frozenset(f.lower() for f in flags)
        modified = set()
        if cmd.code == "MODIFIED":
            if since is None:
                self.error("modified-unasked", "MODIFIED without UNCHANGEDSINCE", cmd.raw_tagged)
            named = set(cmd.args)
            for m in targets:
                if (m.uid if use_uid else seqs[id(m)]) in named:
                    modified.add(id(m))
            if len(modified) != len(named):
                self.error("modified-not-named", f"MODIFIED {sorted(named)} names messages the "
                           f"STORE did not (RFC 7162 3.1.3)", cmd.raw_tagged)
        left = []
        for m in targets:
            if id(m) in modified:
                continue
            reports = [values for msg, values in cmd.fetched if msg is m]
            if not silent:
                showing = [values for values in reports if "FLAGS" in values
                           and reflects(op, wanted, values["FLAGS"])]
                if not showing:
                    left.append(m)
                elif use_uid and not any("UID" in values for values in showing):
                    self.error("uid-command-fetch-without-uid", "FETCH caused by UID STORE without "
                               "UID (RFC 9051 6.4.9)", cmd.raw_tagged)
            elif since is not None and not any("MODSEQ" in values for values in reports):
                left.append(m)
            if silent and not m.gone and m.flags is not None and \
                    not any("FLAGS" in values for values in reports):
                m.flags = applied(op, wanted, m.flags)
        what = ("neither a FETCH with MODSEQ nor a place in MODIFIED (RFC 7162 3.1.3: MUST, "
                "even with .SILENT)" if silent else "no FETCH showing the change (RFC 9051 6.4.6)")
        await self.justify(left, "store-without-fetch", f"{kind} OK, but {what} for")
        if modified:
            await self.check_modified([m for m in targets if id(m) in modified], since)
        return targets

    async def check_modified(self, msgs, since):
        """RFC 7162 3.1.3: MODIFIED names messages whose MODSEQ exceeds UNCHANGEDSINCE."""
        msgs = [m for m in msgs if not m.gone]
        if not msgs or self.view is None:
            return
        await self.fetch(True, compress([m.uid for m in msgs]), msgs, ["MODSEQ"])
        for m in msgs:
            if not m.gone and m.modseq is not None and m.modseq <= since:
                self.error("modified-but-unchanged", f"UID {m.uid} in MODIFIED, but its MODSEQ is "
                           f"{m.modseq} <= UNCHANGEDSINCE {since} (RFC 7162 3.1.3)")

    async def op_expunge(self):
        idx = self.pick(8 if len(self.view.slots) > BIG else 3)
        if idx is None:
            return await self.op_append()
        targets = await self.op_store(flags=["\\Deleted"], op="+FLAGS",
                                      silent=random.random() < 0.5, idx=idx)
        if self.view is None or self.desynced or self.view.readonly:
            return
        uids = [m.uid for m in targets if not m.gone]
        if random.random() < 0.5 or not uids:
            cmd = await self.execute("EXPUNGE", "EXPUNGE")
        else:
            cmd = await self.execute("UID EXPUNGE", f"UID EXPUNGE {compress(uids)}")
        self.expect_ok(cmd)

    async def op_copy(self, move=False):
        v = self.view
        idx = self.pick()
        if idx is None:
            return await self.op_append()
        use_uid = random.random() < 0.5
        spec, targets = self.spec(idx, use_uid)
        dest = OTHER if v.name == SHARED else SHARED
        kind = ("UID " if use_uid else "") + ("MOVE" if move else "COPY")
        newest = max(v.by_uid, default=0)
        cmd = await self.execute(kind, f"{kind} {spec} {dest}", targets=tuple(targets))
        if cmd.status == "NO":
            if use_uid:
                self.error("uid-copy-no", f"{kind} answered NO (RFC 9051 6.4.9: a UID that is gone "
                           f"is ignored, not an error)", cmd.raw_tagged)
                return
            if not any(m.gone for m in targets):
                await self.noop()
            if not any(m.gone for m in targets):
                self.error("copy-no", f"{kind} answered NO, and none of its messages was expunged "
                           f"(RFC 2180 4.4.1 allows NO only for that)", cmd.raw_tagged)
            return
        if cmd.status != "OK" or self.desynced:
            return
        copyuid = cmd.copyuid
        if cmd.code == "COPYUID":
            if move and copyuid is None:
                self.error("move-copyuid-tagged", "MOVE's COPYUID in the tagged OK, not in an "
                           "untagged OK before the EXPUNGEs (RFC 9051 6.4.8: REQUIRED)",
                           cmd.raw_tagged)
            copyuid = copyuid or cmd.args
        if copyuid is None:
            await self.justify([m for m in targets if not m.gone], "no-copyuid",
                               f"{kind} OK without COPYUID (RFC 9051 6.4.7, RFC 4315 section 3), "
                               f"yet it must have copied")
            return
        validity, source, destination = copyuid
        known = self.world.uidvalidity.setdefault(dest, validity)
        if known != validity:
            self.error("uidvalidity-changed", f"COPYUID's UIDVALIDITY {validity} for {dest}, was "
                       f"{known}", cmd.raw_tagged)
        if len(source) != len(destination) or None in source or None in destination:
            self.error("copyuid-sets", f"COPYUID source {source} and destination {destination} "
                       f"do not pair up (RFC 4315 section 3)", cmd.raw_tagged)
            return
        asked = {m.uid for m in targets}
        extra = [u for u in source if u not in asked and u <= newest]
        if extra:
            self.error("copyuid-not-asked", f"COPYUID source has UIDs {extra} the command did not "
                       f"name", cmd.raw_tagged)
        pairs = sorted(zip(source, destination))
        self.new_uids(cmd, dest, [d for _, d in pairs], "COPYUID")
        for s, d in pairs:
            known = self.world.static.get((v.name, s), {})
            carried = {k: known[k] for k in ("RFC822.SIZE", "BODY[]", "ENVELOPE", "BODYSTRUCTURE")
                       if k in known}
            self.expect_static(dest, d, carried, self.world.shapes.get((v.name, s)), cmd.raw_tagged)
        copied = set(source)
        if move:
            stayed = [m.uid for m in targets if m.uid in copied and not m.gone]
            if stayed:
                self.error("move-not-expunged", f"MOVE OK, but UIDs {stayed} it moved were not "
                           f"reported expunged (RFC 6851 3.3: as UID EXPUNGE, before the OK)",
                           cmd.raw_tagged)
            if self.qresync and copied and cmd.highestmodseq is None:
                self.error("move-without-highestmodseq", "MOVE moved messages, but no OK "
                           "[HIGHESTMODSEQ] (RFC 6851 4.4: MUST with QRESYNC)", cmd.raw_tagged)
        await self.justify([m for m in targets if m.uid not in copied], "copy-skipped",
                           f"{kind} OK, but COPYUID leaves out")

    async def op_move(self):
        await self.op_copy(move=True)

    async def op_search(self):
        v = self.view
        use_uid = random.random() < 0.5
        criteria, allowed, uses_seqs, modseq = self.criteria(use_uid)
        returns = None
        if self.rev2 or random.random() < 0.4:
            if random.random() < 0.6:
                returns = random.sample(["MIN", "MAX", "COUNT", "ALL"], random.randint(1, 4))
            elif not self.rev2:
                returns = []
        kind = "UID SEARCH" if use_uid else "SEARCH"
        ret = f"RETURN ({' '.join(returns)}) " if returns is not None else ""
        newest = max(v.by_uid, default=0)
        cmd = await self.execute(kind, f"{kind} {ret}{criteria}", no_vanished=use_uid and uses_seqs)
        if not self.expect_ok(cmd) or self.desynced:
            return
        extended = self.rev2 or returns is not None
        plain = [(r, n) for r, n in cmd.searches if r.kind == "SEARCH"]
        esearch = [(r, n) for r, n in cmd.searches if r.kind == "ESEARCH"]
        if extended:
            if plain:
                self.error("search-not-esearch", "SEARCH response where ESEARCH is due (RFC 9051 "
                           "6.4.4, RFC 4731 section 3)", plain[0][0].raw)
            if len(esearch) != 1:
                self.error("esearch-count", f"{len(esearch)} ESEARCH responses (RFC 9051 6.4.4: "
                           f"a single one)", cmd.raw_tagged)
                return
            r, count = esearch[0]
            results = self.check_esearch(cmd, r, use_uid, returns or ["ALL"], modseq)
        else:
            if esearch:
                self.error("esearch-unasked", "ESEARCH for a SEARCH without RETURN in an IMAP4rev1 "
                           "session", esearch[0][0].raw)
            if len(plain) != 1:
                self.error("search-count", f"{len(plain)} SEARCH responses (RFC 3501 6.4.4)",
                           cmd.raw_tagged)
                return
            r, count = plain[0]
            results, found_modseq = r.data
            if modseq and results and found_modseq is None:
                self.error("search-without-modseq", "SEARCH MODSEQ found messages, but no (MODSEQ "
                           "n) in the response (RFC 7162 3.1.6)", r.raw)
        if results is None:
            return
        if allowed is not None:
            outside = [n for n in results if n not in allowed]
            if outside:
                self.error("search-outside-criteria", f"{outside} match, but are outside the set "
                           f"in the criteria", r.raw)
        if not use_uid:
            beyond = [n for n in results if n > count]
            if beyond:
                self.error("search-beyond-exists", f"SEARCH found messages {beyond} of {count}",
                           r.raw)
        else:
            gone = {m.uid for m in cmd.removed}
            unknown = [u for u in results if u not in v.by_uid and u not in gone and u <= newest]
            if unknown:
                self.error("search-unknown-uid", f"UID SEARCH found UIDs {unknown[:5]} that are "
                           f"not in the mailbox as this session knows it", r.raw)

    def check_esearch(self, cmd, r, use_uid, returns, modseq):
        d = r.data
        if d["TAG"] is not None and d["TAG"] != cmd.tag:
            self.error("esearch-tag", f"ESEARCH (TAG {d['TAG']!r}) for command {cmd.tag}", r.raw)
        if d["UID"] != use_uid:
            self.error("esearch-uid", f"UID indicator {'present' if d['UID'] else 'missing'} "
                       f"(RFC 9051 6.4.9, RFC 4731 section 3.1)", r.raw)
        items = {k for k in d if k not in ("TAG", "UID")}
        unasked = items - set(returns) - ({"MODSEQ"} if modseq else set())
        if unasked:
            self.error("esearch-unasked-item", f"{sorted(unasked)} not asked for", r.raw)
        if "COUNT" in returns and "COUNT" not in d:
            self.error("esearch-no-count", "COUNT asked, not returned (RFC 9051 6.4.4: MUST always "
                       "be included)", r.raw)
        everything = d.get("ALL")
        if everything is not None and None in everything:
            self.error("esearch-star", "* in ESEARCH ALL", r.raw)
            return None
        count = d.get("COUNT", len(everything) if everything is not None else None)
        if everything is not None and len(set(everything)) != count:
            self.error("esearch-count-mismatch", f"COUNT {count}, ALL has {len(set(everything))}",
                       r.raw)
        if count == 0:
            present = [k for k in ("MIN", "MAX", "ALL") if k in d]
            if present:
                self.error("esearch-empty-items", f"{present} for an empty result (RFC 9051 "
                           f"6.4.4: MUST NOT)", r.raw)
        elif count:
            for k in ("MIN", "MAX", "ALL"):
                if k in returns and k not in d:
                    self.error("esearch-missing-item", f"{k} asked and {count} found, but no {k}",
                               r.raw)
        if everything:
            if "MIN" in d and d["MIN"] != min(everything):
                self.error("esearch-min", f"MIN {d['MIN']}, ALL's lowest {min(everything)}", r.raw)
            if "MAX" in d and d["MAX"] != max(everything):
                self.error("esearch-max", f"MAX {d['MAX']}, ALL's highest {max(everything)}", r.raw)
        if "MIN" in d and "MAX" in d and d["MIN"] > d["MAX"]:
            self.error("esearch-min", f"MIN {d['MIN']} > MAX {d['MAX']}", r.raw)
        if modseq and count and "MODSEQ" not in d:
            self.error("search-without-modseq", "ESEARCH for MODSEQ criteria without MODSEQ "
                       "(RFC 7162 3.1.10)", r.raw)
        if everything is not None:
            return everything
        return [d[k] for k in ("MIN", "MAX") if k in d]

    def criteria(self, use_uid):
        """Search criteria: (text, numbers the results must lie in or None, whether
        the criteria hold message numbers, whether they hold MODSEQ)."""
        v = self.view
        how = random.random()
        idx = self.pick(8) if v.slots else None
        if how < 0.2 and idx:
            uids = [v.slots[i].uid for i in idx]
            text = compress(uids)
            return f"UID {text} {random.choice(['ALL', 'UNDELETED', 'FLAGGED'])}", \
                (expand(text) if use_uid else None), False, False
        if how < 0.3 and idx:
            text = compress([i + 1 for i in idx])
            return f"{text} NOT SEEN", (None if use_uid else expand(text)), True, False
        if how < 0.4 and self.condstore:
            known = [m.modseq for m in v.slots if m.modseq]
            if known:
                return f"MODSEQ {random.choice(known)}", None, False, True
        options = ["ALL", "FLAGGED", "UNSEEN", "SEEN DELETED", "NOT DELETED", "KEYWORD $Label1",
                   "UNKEYWORD todo", "LARGER 1500", "SMALLER 2500", "OR FLAGGED KEYWORD $Label2",
                   "SUBJECT load", "HEADER Message-ID load.test", "SINCE 1-Jan-2020",
                   "ANSWERED UNDRAFT", "KEYWORD NIL", f"KEYWORD kw{self.cid}"]
        if not self.rev2:
            options += ["RECENT", "NEW", "OLD"]
        return random.choice(options), None, False, False

    async def op_changedsince(self):
        """UID FETCH (CHANGEDSINCE m VANISHED), RFC 7162 3.1.4.1 and 3.2.6: every
        message whose MODSEQ this session knows to be above m must be reported."""
        v = self.view
        known = sorted(m.modseq for m in v.slots if m.modseq)
        if not known:
            return await self.noop()
        since = random.choice(known)
        due = [m for m in v.slots if m.modseq is not None and m.modseq > since]
        line = f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {since} VANISHED)"
        cmd = await self.execute("UID FETCH", line, targets=tuple(v.slots), vanished_ok=True)
        if cmd.status == "NO":
            self.error("fetch-no", "UID FETCH (CHANGEDSINCE) answered NO", cmd.raw_tagged)
        if cmd.status != "OK" or self.desynced:
            return
        reported = set()
        for msg, values in cmd.fetched:
            reported.add(id(msg))
            if "UID" not in values:
                self.error("uid-command-fetch-without-uid", "UID FETCH response without UID (RFC "
                           "9051 6.4.9)", cmd.raw_tagged)
            if "MODSEQ" not in values:
                self.error("changedsince-without-modseq", "CHANGEDSINCE implies the MODSEQ item "
                           "(RFC 7162 3.1.4.1)", cmd.raw_tagged)
            elif values["MODSEQ"] <= since:
                self.error("changedsince-unchanged", f"UID {msg.uid} reported with MODSEQ "
                           f"{values['MODSEQ']}, not above CHANGEDSINCE {since} (RFC 7162 3.1.4.1)",
                           cmd.raw_tagged)
        # Left out of both FETCH and VANISHED (EARLIER): only if expunged meanwhile.
        vanished = set(cmd.earlier)
        await self.justify([m for m in due if id(m) not in reported and m.uid not in vanished],
                           "changedsince-missing", f"MODSEQ above {since}, yet in neither a FETCH "
                           f"nor VANISHED (EARLIER) (RFC 7162 3.1.4.1, 3.2.6):")
        present = [v.by_uid[u] for u in cmd.earlier if u in v.by_uid]
        await self.justify(present, "vanished-earlier-but-present",
                           "VANISHED (EARLIER) reported the expunge of")

    # -- the loop -------------------------------------------------------------------

    def choose(self):
        v = self.view
        size = len(v.slots)
        ops = [(self.op_fetch, 18), (self.op_search, 8), (self.op_noop, 5), (self.op_idle, 3),
               (self.op_status, 5), (self.op_select, 3),
               (self.op_append, 2 if size > BIG else 30 if size < 10 else 10)]
        if v.readonly:
            ops.append((self.op_select, 12))
        else:
            ops += [(self.op_store, 18), (self.op_copy, 5), (self.op_move, 5 if size < BIG else 12),
                    (self.op_expunge, 30 if size > BIG else 6), (self.op_close, 1)]
        if self.qresync:
            ops.append((self.op_changedsince, 3))
        functions, weights = zip(*ops)
        return random.choices(functions, weights)[0]

    async def run(self, deadline):
        await self.connect()
        await self.select(self.home)
        while time.monotonic() < deadline:
            if self.view is None or self.desynced:
                await self.select(self.view.name if self.view else self.home, use_qresync=False)
                continue
            await self.fill()
            if self.view is None or self.desynced or \
                    any(m.uid is None or m.flags is None for m in self.view.slots):
                continue  # more arrived meanwhile: commands name only messages it knows
            await self.choose()()
            if random.random() < 0.2:
                await asyncio.sleep(random.uniform(0, 0.02))

    async def fill(self):
        """Learns the UID and flags of every message it does not know yet."""
        for _ in range(5):
            v = self.view
            if v is None or self.desynced:
                return
            first = next((i for i, m in enumerate(v.slots) if m.uid is None or m.flags is None),
                         None)
            if first is None:
                return
            items = ["UID", "FLAGS"] + (["MODSEQ"] if self.condstore else [])
            await self.fetch(False, f"{first + 1}:*", v.slots[first:], items)

    async def settle(self):
        """After the load: brought up to date by NOOP, this session's mailbox."""
        if self.view is None or self.desynced:
            await self.select(self.home, use_qresync=False)
        await self.noop()
        await self.fill()
        return self.view.name, self.view.state()

    async def logout(self):
        cmd = await self.execute("LOGOUT", "LOGOUT")
        self.expect_ok(cmd)


def compress(numbers):
    out, numbers = [], sorted(set(numbers))
    i = 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        out.append(str(numbers[i]) if i == j else f"{numbers[i]}:{numbers[j]}")
        i = j + 1
    return ",".join(out)


def expand(text):
    out = set()
    for part in text.split(","):
        low, _, high = part.partition(":")
        out.update(range(int(low), int(high or low) + 1))
    return out


def reflects(op, wanted, flags):
    got = {f.lower() for f in flags} - {"\\recent"}
    if op == "+FLAGS":
        return wanted <= got
    if op == "-FLAGS":
        return not wanted & got
    return got == wanted


def applied(op, wanted, flags):
    if op == "+FLAGS":
        return flags | wanted
    if op == "-FLAGS":
        return flags - wanted
    return wanted


ITEM_NAMES = {"BODY.PEEK[]": "BODY[]"}
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
         "november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee "
         "zulu load test mailbox rampart message").split()


def deliver(port, deadline, problems):
    """Deliveries to INBOX over SMTP while the clients run."""
    sent = 0
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        while time.monotonic() < deadline:
            sent += 1
            message = (f"From: Remote <r@remote.test>\r\nTo: {USER}\r\nSubject: delivery {sent}\r\n"
                       f"Message-ID: <smtp.{sent}@load.test>\r\n\r\nDelivery number {sent}.\r\n")
            try:
                smtp.sendmail("r@remote.test", [USER], message)
            except smtplib.SMTPException as e:
                problems.append(f"delivery {sent}: {e}")
            time.sleep(random.uniform(0.2, 0.6))
    return sent


MODES = [dict(), dict(), dict(rev2=True), dict(rev2=True), dict(condstore=True),
         dict(condstore=True), dict(qresync=True), dict(rev2=True, qresync=True),
         dict(rev2=True, condstore=True), dict(home=OTHER)]


async def load(instance, world, seconds):
    port = instance.ports["imap"]
    clients = [Client(world, i, port, **mode) for i, mode in enumerate(MODES)]
    deadline = time.monotonic() + seconds
    problems = []

    async def one(client):
        try:
            await client.run(deadline)
            return True
        except Dead as e:
            client.error("connection", str(e))
        except Exception:  # a bug in this checker: fail loudly, with where
            client.error("checker-exception", traceback.format_exc())
        return False

    results = await asyncio.gather(asyncio.to_thread(deliver, instance.ports["smtp"], deadline,
                                                     problems),
                                   *[one(c) for c in clients])
    world.commands["(SMTP)"] = results[0]
    for problem in problems:
        world.error("smtp", "SMTP", "", None, problem)
    # Everything is committed now: each session, after NOOP, must see exactly what a
    # fresh SELECT sees.
    states = {}
    for client, alive in zip(clients, results[1:]):
        if alive:
            try:
                states[client] = await client.settle()
            except Dead as e:
                client.error("connection", str(e))
    fresh = Client(world, len(clients), port, rev2=True)
    truth = {}
    try:
        await fresh.connect()
        for mailbox in sorted({name for name, _ in states.values()}):
            await fresh.select(mailbox)
            truth[mailbox] = fresh.view.state()
    except Dead as e:
        fresh.error("connection", str(e))
    for client, (mailbox, state) in states.items():
        if mailbox in truth and state != truth[mailbox]:
            client.error("final-view-differs", describe(state, truth[mailbox]))
    for client in list(states) + [fresh]:
        try:
            await client.logout()
        except Dead:
            pass


def describe(state, truth):
    mine, theirs = dict(state), dict(truth)
    out = []
    if [u for u, _ in state] != [u for u, _ in truth]:
        out.append(f"UIDs: {len(state)} here, {len(truth)} in a fresh SELECT; only here "
                   f"{sorted(set(mine) - set(theirs))[:5]}, only there "
                   f"{sorted(set(theirs) - set(mine))[:5]}")
    for uid in sorted(set(mine) & set(theirs)):
        if mine[uid] != theirs[uid]:
            out.append(f"UID {uid} flags {sorted(mine[uid] or ())} here, "
                       f"{sorted(theirs[uid] or ())} there")
            if len(out) > 3:
                break
    return "; ".join(out)


class CheckerSelfTest(unittest.TestCase):
    """The checker on canned responses, no server: each mistake below is recorded as
    the error kind named, and correct traffic records nothing."""

    CASES = [
        # (session mode, command in progress, responses, error kind or None)
        ({}, "FETCH", [b"* 2 EXPUNGE"], "expunge-during-seqnum-command"),
        ({}, "UID FETCH", [b"* 2 EXPUNGE"], None),
        ({}, None, [b"* 2 EXPUNGE"], "expunge-outside-command"),
        ({}, "CLOSE", [b"* 2 EXPUNGE"], "expunge-during-close"),
        ({}, "NOOP", [b"* 4 EXPUNGE"], "expunge-out-of-range"),
        ({}, "NOOP", [b"* 2 EXISTS"], "exists-decreased"),
        ({}, "NOOP", [b"* 4 FETCH (FLAGS ())"], "fetch-beyond-exists"),
        ({}, "NOOP", [b"* 2 FETCH (UID 13 FLAGS ())"], "uid-changed"),
        ({}, "NOOP", [b"* 4 EXISTS", b"* 4 FETCH (UID 9 FLAGS ())"], "uid-order"),
        ({}, "NOOP", [b"* 1 FETCH (FLAGS ($Label2))"], "keyword-not-announced"),
        ({}, "NOOP", [b"* FLAGS (\\Seen $Label2)", b"* 1 FETCH (FLAGS ($Label2))"], None),
        ({}, "NOOP", [b"* 1 FETCH (FLAGS (\\Seen \\Junk))"], "flag-extension"),
        ({}, "NOOP", [b"* 1 FETCH (FLAGS (\\Recent))"], "recent-changed"),
        (dict(rev2=True), "NOOP", [b"* 1 FETCH (FLAGS (\\Seen \\Recent))"], "recent-in-imap4rev2"),
        (dict(condstore=True), "NOOP", [b"* 1 FETCH (FLAGS (\\Seen) MODSEQ (20))",
                                        b"* 1 FETCH (FLAGS (\\Seen) MODSEQ (19))"],
         "modseq-decreased"),
        (dict(condstore=True), "NOOP", [b"* 1 FETCH (FLAGS (\\Seen))"], "fetch-without-modseq"),
        (dict(qresync=True), "STORE", [b"* 1 FETCH (FLAGS (\\Seen) MODSEQ (20))"],
         "fetch-without-uid"),
        (dict(qresync=True), "NOOP", [b"* 1 EXPUNGE"], "expunge-with-qresync"),
        (dict(qresync=True), "SEARCH", [b"* VANISHED 10"], "expunge-during-seqnum-command"),
        (dict(qresync=True), "NOOP", [b"* VANISHED 99"], "vanished-unknown-uid"),
        (dict(qresync=True), "NOOP", [b"* VANISHED 10:11", b"* 1 EXISTS"], None),
        ({}, "NOOP", [b"* 1 FETCH (FLAGS (\\Seen)"], "syntax"),
        ({}, "NOOP", [b"* 1 FETCH (ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL))"], "syntax"),
        ({}, "NOOP", [b"* OK [UIDNEXT 0] next"], "syntax"),
        ({}, "NOOP", [b"* OK [CLOSED]"], "syntax"),
        ({}, "NOOP", [b"* 1 FETCH (UID 10 BODY[] {4+}\r\nabcd)"], "syntax"),
        ({}, "NOOP", [b"* 1 FETCH (UID 10 RFC822.SIZE 5 BODY[] {4}\r\nabcd)"], "size-mismatch"),
        ({}, "NOOP", [b"* 3 EXPUNGE", b"* 3 EXISTS", b"* 3 FETCH (UID 20 FLAGS (\\Seen))",
                      b"* 1 FETCH (UID 10 RFC822.SIZE 4 BODY[] {4}\r\nabcd)"], None),
    ]

    def session(self, mode):
        world = World()
        client = Client(world, 0, 0, **mode)
        client.view = v = View(SHARED, False, 1)
        v.announced = set(SYSTEM_LOWER) | {"$label1"}
        v.counted = True
        for uid in (10, 11, 12):
            msg = Msg(new=False)
            msg.uid, msg.flags, msg.recent = uid, frozenset(), False
            v.slots.append(msg)
            v.by_uid[uid] = msg
        return world, client

    def test_each_mistake_is_caught(self):
        for mode, command, lines, expected in self.CASES:
            with self.subTest(mode=mode, command=command, lines=lines):
                world, client = self.session(mode)
                if command is not None:
                    client.cmd = Cmd("t1", command, f"t1 {command}")
                for line in lines:
                    r = client.parse(line + b"\r\n")
                    if r is not None:
                        client.untagged(r)
                kinds = list(world.errors)
                self.assertEqual(kinds, [expected] if expected else [], world.summary(0, 1))


class ImapLoad(unittest.TestCase):
    def test_ten_clients_race_on_one_mailbox_and_every_response_follows_the_rfcs(self):
        instance = Instance(["smtp", "imap"])
        self.addCleanup(instance.close)
        instance.add_account(USER, PASSWORD)
        instance.start()
        world = World()
        started = time.monotonic()
        asyncio.run(load(instance, world, SECONDS))
        summary = world.summary(time.monotonic() - started, len(MODES))
        print("\n" + summary, file=sys.stderr)
        self.assertEqual(world.total(), 0, summary)


if __name__ == "__main__":
    unittest.main()
