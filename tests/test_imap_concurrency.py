"""Several IMAP sessions on one mailbox, changed by each other and by SMTP: after
every step each session, brought up to date by NOOP (or woken in IDLE), must see
exactly the state the store holds: the same UIDs in the same order, the same flags."""

import imaplib
import re
import smtplib
import socket
import time
import unittest

from harness import InstanceTest

PASSWORD = "a-long-password"
USER = "dana@example.test"


class View:
    """One client's picture of the selected mailbox, kept from untagged responses only,
    the way a real client keeps it: EXISTS, EXPUNGE and FETCH (UID n FLAGS (...))."""

    def __init__(self, port):
        self.client = imaplib.IMAP4("127.0.0.1", port, timeout=30)
        self.client.login(USER, PASSWORD)
        typ, data = self.client.select("INBOX")
        assert typ == "OK", data
        self.uids = []
        self.flags = {}
        self.sync_all()

    def sync_all(self):
        typ, data = self.client.uid("FETCH", "1:*", "(UID FLAGS)")
        assert typ == "OK", data
        self.uids = []
        self.flags = {}
        for item in data:
            if item is None:
                continue
            uid, flags = self.parse_fetch(item)
            self.uids.append(uid)
            self.flags[uid] = flags

    def parse_fetch(self, item):
        """(uid, flags) of one FETCH response; without UID, the sequence number
        says which message it is."""
        text = item.decode() if isinstance(item, bytes) else item[0].decode()
        uid = re.search(r"UID (\d+)", text)
        uid = int(uid.group(1)) if uid else self.uids[int(text.split()[0]) - 1]
        # \Recent belongs to one session (RFC 3501 2.3.2), not to the shared state.
        flags = frozenset(re.search(r"FLAGS \(([^)]*)\)", text).group(1).split()) - {"\\Recent"}
        return uid, flags

    def store(self, *args, uid=False):
        """STORE (or UID STORE), applying the FETCH responses it returns, which imaplib
        hands back instead of keeping."""
        typ, data = self.client.uid("STORE", *args) if uid else self.client.store(*args)
        assert typ == "OK", data
        for item in data:
            if item:
                uid_value, flags = self.parse_fetch(item)
                self.flags[uid_value] = flags

    def expunge(self):
        """EXPUNGE, applying the EXPUNGE responses imaplib hands back."""
        typ, data = self.client.expunge()
        assert typ == "OK", data
        for number in data:
            if number:
                del self.uids[int(number) - 1]

    def apply_untagged(self):
        """Applies what NOOP brought: EXPUNGE (sequence numbers, in order), EXISTS
        (then fetch the new UIDs), FETCH flag updates."""
        typ, _ = self.client.noop()
        assert typ == "OK"
        responses = self.client.untagged_responses
        for number in responses.pop("EXPUNGE", []):
            del self.uids[int(number) - 1]
        for item in responses.pop("FETCH", []):
            uid, flags = self.parse_fetch(item)
            self.flags[uid] = flags
        exists = responses.pop("EXISTS", [])
        if exists:
            count = int(exists[-1])
            if count > len(self.uids):
                since = (self.uids[-1] + 1) if self.uids else 1
                typ, data = self.client.uid("FETCH", f"{since}:*", "(UID FLAGS)")
                for item in data:
                    if item is None:
                        continue
                    uid, flags = self.parse_fetch(item)
                    if uid not in self.flags or uid not in self.uids:
                        self.uids.append(uid)
                    self.flags[uid] = flags
            assert count == len(self.uids), (count, self.uids)
        responses.clear()
        return self.state()

    def state(self):
        return [(uid, self.flags[uid]) for uid in self.uids]


class Concurrency(InstanceTest):
    services = ["smtp", "imap"]

    def setUp(self):
        super().setUp()
        self.instance.add_account(USER, PASSWORD)
        self.instance.start()
        self.port = self.instance.ports["imap"]

    def deliver(self, n):
        with smtplib.SMTP("127.0.0.1", self.instance.ports["smtp"], timeout=30) as smtp:
            for i in range(n):
                smtp.sendmail("x@remote.test", [USER],
                              f"Subject: message {i}\r\nMessage-ID: <{time.time()}.{i}@x>\r\n\r\nbody {i}\r\n")

    def truth(self):
        fresh = View(self.port)
        try:
            return fresh.state()
        finally:
            fresh.client.logout()

    def test_every_session_sees_the_same_state_after_every_step(self):
        self.deliver(6)
        views = [View(self.port) for _ in range(4)]
        self.addCleanup(lambda: [v.client.logout() for v in views])
        a, b, c, d = views
        steps = [
            ("flag by a", lambda: a.store("1:3", "+FLAGS", "(\\Flagged)")),
            ("seen by b", lambda: b.store("2,4", "+FLAGS", "(\\Seen)", uid=True)),
            ("delivery", lambda: self.deliver(2)),
            ("delete and expunge by c", lambda: (c.store("2", "+FLAGS", "(\\Deleted)"),
                                                 c.expunge())),
            ("move by d", lambda: d.client.uid("MOVE", str(d.uids[0]), "Archive")),
            ("append by a", lambda: a.client.append("INBOX", "($Label1)", None,
                                                    b"Subject: appended\r\n\r\nx\r\n")),
            ("copy into INBOX by b", lambda: (b.client.uid("COPY", str(b.uids[-1]), "Archive"),
                                              b.client.select("Archive"),
                                              b.client.uid("COPY", "1:*", "INBOX"),
                                              b.client.select("INBOX"))),
            ("replace flags by c", lambda: c.store("1:*", "FLAGS", "(\\Answered)")),
            ("uid expunge by d", lambda: (d.store("1:*", "+FLAGS", "(\\Deleted)", uid=True),
                                          d.client.uid("EXPUNGE", f"{d.uids[0]}:{d.uids[1]}"))),
        ]
        for name, step in steps:
            step()
            expected = self.truth()
            for i, view in enumerate(views):
                if name.startswith("copy") and view is b:
                    view.sync_all()  # b re-selected INBOX: its view starts afresh
                self.assertEqual(view.apply_untagged(), expected, f"session {i} after {name}")
        self.assertTrue(expected, "the steps must leave messages to compare")

    def test_idle_sessions_are_told_of_every_change(self):
        watcher = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        self.addCleanup(watcher.close)
        lines = watcher.makefile("rb")
        lines.readline()
        watcher.sendall(f"a LOGIN {USER} {PASSWORD}\r\nb SELECT INBOX\r\nc IDLE\r\n".encode())
        while not lines.readline().startswith(b"+"):
            pass

        def wait_for(pattern):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                line = lines.readline()
                if re.search(pattern, line):
                    return line
            self.fail(f"no {pattern!r} while idling")

        self.deliver(1)
        wait_for(rb"^\* 1 EXISTS")
        other = View(self.port)
        self.addCleanup(other.client.logout)
        other.client.store("1", "+FLAGS", "(\\Flagged)")
        self.assertIn(b"\\Flagged", wait_for(rb"^\* 1 FETCH"))
        other.client.store("1", "+FLAGS", "(\\Deleted)")
        other.client.expunge()
        wait_for(rb"^\* 1 EXPUNGE")
        watcher.sendall(b"DONE\r\n")
        self.assertTrue(wait_for(rb"^c OK").startswith(b"c OK"))


if __name__ == "__main__":
    unittest.main()
