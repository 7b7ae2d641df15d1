"""Third-party IMAP clients against the real server: curl reading messages, Node's
imapflow syncing a mailbox, and mbsync (isync) syncing a few thousand messages both
ways, then incrementally. Missing tools fail with a pointer to scripts/setup."""

import glob
import imaplib
import json
import re
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import InstanceTest

PASSWORD = "a-long-password"
USER = "erin@example.test"
NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")


def require(tool):
    path = shutil.which(tool)
    if path is None:
        raise AssertionError(f"{tool} is not installed: run scripts/setup")
    return path


def message(i, extra=""):
    return (f"From: Sender {i} <sender{i}@remote.test>\r\nTo: {USER}\r\n"
            f"Subject: message number {i}\r\nMessage-ID: <m{i}@remote.test>\r\n{extra}\r\n"
            f"This is the body of message {i}.\r\n").encode()


class Clients(InstanceTest):
    services = ["imap", "imaps"]

    def setUp(self):
        super().setUp()
        self.instance.add_account(USER, PASSWORD)
        self.instance.start()
        self.port = self.instance.ports["imap"]

    def imap(self):
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=60)
        client.login(USER, PASSWORD)
        self.addCleanup(client.logout)
        return client

    def test_curl_reads_messages_lists_and_searches(self):
        curl = require("curl")
        self.instance.multiappend(USER, PASSWORD, [message(1), message(2)])
        base = f"imap://127.0.0.1:{self.port}"
        user = ["--user", f"{USER}:{PASSWORD}"]
        body = subprocess.run([curl, "-sS", *user, f"{base}/INBOX;UID=2"], capture_output=True,
                              timeout=60, check=True).stdout
        self.assertEqual(body, message(2))
        listing = subprocess.run([curl, "-sS", *user, f"{base}/"], capture_output=True, timeout=60,
                                 check=True).stdout
        self.assertIn(b'(\\HasNoChildren \\Sent) "/" "Sent"', listing)
        found = subprocess.run([curl, "-sS", *user, f"{base}/INBOX?SUBJECT%20%22number%201%22"],
                               capture_output=True, timeout=60, check=True).stdout
        self.assertEqual(found.strip(), b"* SEARCH 1")
        # Implicit TLS, certificate not checked (self-signed).
        secure = subprocess.run([curl, "-sS", "-k", *user,
                                 f"imaps://127.0.0.1:{self.instance.ports['imaps']}/INBOX;MAILINDEX=1"],
                                capture_output=True, timeout=60, check=True).stdout
        self.assertEqual(secure, message(1))

    def test_imapflow_syncs_a_mailbox(self):
        node = require("node")
        if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "imapflow")):
            raise AssertionError("imapflow is not installed: run scripts/setup")
        self.instance.multiappend(USER, PASSWORD, [message(i) for i in range(1, 26)])
        self.imap().select("INBOX")
        done = subprocess.run([node, os.path.join(NODE_DIR, "imapflow_sync.mjs"), str(self.port),
                               USER, PASSWORD, "INBOX"], capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        seen = json.loads(done.stdout)
        self.assertIn("CONDSTORE", seen["capabilities"])
        self.assertIn({"path": "Sent", "specialUse": "\\Sent"}, seen["mailboxes"])
        self.assertEqual(seen["exists"], 25)
        self.assertEqual([m["uid"] for m in seen["messages"]], list(range(1, 26)))
        self.assertEqual(seen["messages"][4]["subject"], "message number 5")
        self.assertEqual(seen["messages"][4]["from"], ["sender5@remote.test"])
        self.assertEqual(seen["firstBody"].encode(), message(1))
        self.assertIn("\\Flagged", seen["flagsAfter"])
        self.assertIn("$Imapflow", seen["flagsAfter"])
        self.assertEqual(seen["search"], list(range(1, 26)))
        # What imapflow changed is what the server holds.
        typ, data = self.imap().select("INBOX")
        client = self.imap()
        client.select("INBOX")
        typ, data = client.uid("FETCH", "1", "(FLAGS)")
        self.assertIn(b"\\Flagged", data[0])
        self.assertIn(b"$Imapflow", data[0])

    def test_mbsync_full_then_incremental_two_way_sync(self):
        mbsync = require("mbsync")
        count = 2000
        self.instance.multiappend(USER, PASSWORD, [message(i) for i in range(1, count + 1)])
        home = tempfile.mkdtemp(prefix="rampart-mbsync-")
        self.addCleanup(shutil.rmtree, home, True)
        maildir = os.path.join(home, "mail")
        os.makedirs(maildir)
        config = os.path.join(home, "mbsyncrc")
        with open(config, "w") as f:
            f.write(f"""IMAPAccount rampart
Host 127.0.0.1
Port {self.port}
User {USER}
Pass {PASSWORD}
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account rampart

MaildirStore local
Path {maildir}/
Inbox {maildir}/INBOX
SubFolders Verbatim

Channel everything
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""")

        def sync():
            done = subprocess.run([mbsync, "-c", config, "-a"], capture_output=True, text=True,
                                  timeout=600, env={**os.environ, "HOME": home})
            self.assertEqual(done.returncode, 0, done.stdout + done.stderr)

        def near_files(folder="INBOX"):
            return sorted(glob.glob(os.path.join(maildir, folder, "cur", "*")) +
                          glob.glob(os.path.join(maildir, folder, "new", "*")))

        def read(path):
            with open(path, "rb") as f:
                return f.read()

        def message_id(path):
            """mbsync stores LF line ends and adds X-TUID: compare by Message-ID."""
            found = re.search(rb"Message-ID: <([^>]+)>", read(path))
            return found.group(1).decode() if found else None

        sync()
        files = near_files()
        self.assertEqual(len(files), count)
        by_id = {message_id(path): path for path in files}
        self.assertEqual(len(by_id), count)
        for i in (1, 999, count):
            self.assertIn(f"This is the body of message {i}.".encode(), read(by_id[f"m{i}@remote.test"]))
        for folder in ("Sent", "Drafts", "Trash", "Junk", "Archive"):
            self.assertTrue(os.path.isdir(os.path.join(maildir, folder, "cur")), folder)

        # Changes on both sides.
        server = self.imap()
        server.select("INBOX")
        server.uid("STORE", "1", "+FLAGS", "(\\Flagged)")
        server.uid("STORE", "2", "+FLAGS", "(\\Deleted)")
        server.expunge()
        server.append("INBOX", None, None, message(count + 1))
        by_id = {message_id(path): path for path in near_files()}
        seen_here = by_id["m10@remote.test"]
        os.rename(seen_here, os.path.join(maildir, "INBOX", "cur",
                                          os.path.basename(seen_here).split(":")[0] + ":2,S"))
        os.remove(by_id["m20@remote.test"])
        with open(os.path.join(maildir, "INBOX", "new", "1700000000.rampart-test.local"), "wb") as f:
            f.write(message(count + 2))
        os.makedirs(os.path.join(maildir, "Projects", "cur"))
        os.makedirs(os.path.join(maildir, "Projects", "new"))
        os.makedirs(os.path.join(maildir, "Projects", "tmp"))
        with open(os.path.join(maildir, "Projects", "new", "1700000001.rampart-test.local"), "wb") as f:
            f.write(message(count + 3))

        sync()
        # Both sides now hold the same messages and flags.
        server.noop()
        typ, data = server.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        server_ids = {}
        for item in data:
            if isinstance(item, tuple):
                server_ids[item[1].split(b"<")[1].split(b">")[0]] = item[0]
        self.assertEqual(len(server_ids), count)  # -1 -1 +1 +1
        self.assertIn(b"\\Seen", server_ids[b"m10@remote.test"])
        self.assertNotIn(b"m2@remote.test", server_ids)
        self.assertNotIn(b"m20@remote.test", server_ids)
        self.assertIn(f"m{count + 2}@remote.test".encode(), server_ids)
        self.assertIn(f"m{count + 1}@remote.test".encode(), server_ids)
        near = near_files()
        self.assertEqual(len(near), count)
        flagged = [path for path in near if message_id(path) == "m1@remote.test"]
        self.assertEqual(len(flagged), 1)
        self.assertIn("F", flagged[0].rsplit(":2,", 1)[1])
        self.assertEqual(server.select("Projects")[0], "OK")
        self.assertEqual(server.uid("SEARCH", "ALL")[1], [b"1"])


if __name__ == "__main__":
    unittest.main()
