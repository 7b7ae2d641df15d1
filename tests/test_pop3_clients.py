"""Third-party POP3 clients from Debian against the real server over TLS, with the
certificate checked against a test CA: fetchmail (STLS and pop3s) and getmail6
(pop3s), each downloading a mailbox once keeping the messages (a second run finds
nothing new: the UIDLs are stable) and once deleting them (the mailbox is then empty).
Missing tools fail with a pointer to scripts/setup."""

import imaplib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

from harness import Instance, InstanceTest, make_ca_signed_pair, readable_by_server

PASSWORD = "a-long-password"
USER = "quinn@example.test"
COUNT = 30

# An MDA for both clients: each message into a file of its own in the directory given.
SAVE = """import os, sys, uuid
with open(os.path.join(sys.argv[1], uuid.uuid4().hex), "wb") as f:
    f.write(sys.stdin.buffer.read())
"""


def require(tool):
    path = shutil.which(tool)
    if path is None:
        raise AssertionError(f"{tool} is not installed: run scripts/setup")
    return path


def message(i):
    return (f"From: Sender {i} <sender{i}@remote.test>\r\nTo: {USER}\r\n"
            f"Subject: message number {i}\r\nMessage-ID: <m{i}@remote.test>\r\n\r\n"
            f"This is the body of message {i}.\r\n.A line that starts with a dot\r\n").encode()


class Clients(InstanceTest):
    services = ["imap", "pop3", "pop3s"]

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="rampart-pop3-clients-")
        self.addCleanup(shutil.rmtree, self.work, True)
        self.ca, cert, key = make_ca_signed_pair(self.work)
        readable_by_server(cert, key)
        self.instance = Instance(self.services, extra=f'[tls]\ncert = "{cert}"\nkey = "{key}"')
        self.addCleanup(self.instance.close)
        self.instance.add_account(USER, PASSWORD)
        self.instance.start()
        self.append([message(i) for i in range(1, COUNT + 1)])
        self.save = os.path.join(self.work, "save.py")
        with open(self.save, "w") as f:
            f.write(SAVE)

    def imap(self):
        client = imaplib.IMAP4("127.0.0.1", self.instance.ports["imap"], timeout=60)
        client.login(USER, PASSWORD)
        return client

    def append(self, messages):
        client = self.imap()
        for body in messages:
            typ, _ = client.append("INBOX", None, None, body)
            self.assertEqual(typ, "OK")
        client.logout()

    def inbox_count(self):
        client = self.imap()
        typ, data = client.select("INBOX", readonly=True)
        client.logout()
        return int(data[0])

    def directory(self, name):
        path = os.path.join(self.work, name)
        os.makedirs(path)
        return path

    def check_saved(self, directory):
        """Every message arrived once, whole: its subject, body and unstuffed dot line."""
        saved = []
        for name in os.listdir(directory):
            with open(os.path.join(directory, name), "rb") as f:
                saved.append(f.read().replace(b"\r\n", b"\n"))
        self.assertEqual(len(saved), COUNT)
        subjects = set()
        for text in saved:
            number = int(text.split(b"Subject: message number ", 1)[1].split(b"\n", 1)[0])
            subjects.add(number)
            self.assertTrue(text.endswith(message(number).replace(b"\r\n", b"\n").split(b"\n\n", 1)[1]))
        self.assertEqual(subjects, set(range(1, COUNT + 1)))

    # fetchmail

    def fetchmail(self, name, tls, keep):
        """Runs fetchmail once; returns (exit code, output, the directory it delivered to)."""
        fetchmail = require("fetchmail")
        home = self.directory(f"{name}-home")
        mail = self.directory(f"{name}-mail")
        port = self.instance.ports["pop3s" if tls == "ssl" else "pop3"]
        rc = os.path.join(home, "fetchmailrc")
        with open(rc, "w") as f:
            f.write("set no bouncemail\n"
                    f"poll mail.test via 127.0.0.1 service {port} protocol POP3 uidl\n"
                    f'  user "{USER}" there with password "{PASSWORD}" is root here\n'
                    f"  {'ssl' if tls == 'ssl' else 'sslproto tls1.2+'} sslcertck\n"
                    f'  sslcertfile "{self.ca}" sslcommonname mail.test\n'
                    f'  mda "{sys.executable} {self.save} {mail}"\n'
                    f"  {'keep' if keep else 'nokeep'} no rewrite\n")
        os.chmod(rc, stat.S_IRUSR | stat.S_IWUSR)
        environment = dict(os.environ, FETCHMAILHOME=home, HOME=home)
        run = lambda: subprocess.run([fetchmail, "--nodetach", "--nosyslog", "-v", "-f", rc,
                                      "--idfile", os.path.join(home, "ids")],
                                     capture_output=True, text=True, timeout=300, env=environment)
        return run, mail

    def test_fetchmail_over_stls_keeps_then_finds_nothing_new(self):
        run, mail = self.fetchmail("stls", "stls", keep=True)
        done = run()
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("STLS", done.stdout + done.stderr)
        self.check_saved(mail)
        self.assertEqual(self.inbox_count(), COUNT)
        again = run()
        self.assertEqual(again.returncode, 1, again.stdout + again.stderr)  # 1: no new mail
        self.assertEqual(len(os.listdir(mail)), COUNT)
        self.assertEqual(self.inbox_count(), COUNT)

    def test_fetchmail_over_pop3s_deletes(self):
        run, mail = self.fetchmail("pop3s", "ssl", keep=False)
        done = run()
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.check_saved(mail)
        self.assertEqual(self.inbox_count(), 0)

    # getmail6

    def getmail(self, name, delete):
        getmail = require("getmail")
        home = self.directory(f"{name}-home")
        mail = self.directory(f"{name}-mail")
        with open(os.path.join(home, "getmailrc"), "w") as f:
            f.write("[retriever]\ntype = SimplePOP3SSLRetriever\nserver = 127.0.0.1\n"
                    f"port = {self.instance.ports['pop3s']}\nusername = {USER}\n"
                    f"password = {PASSWORD}\nca_certs = {self.ca}\nssl_cert_hostname = mail.test\n"
                    "[destination]\ntype = MDA_external\n"
                    f"path = {sys.executable}\narguments = (\"{self.save}\", \"{mail}\")\n"
                    "allow_root_commands = true\n"
                    f"[options]\ndelete = {'true' if delete else 'false'}\nread_all = false\n"
                    "received = false\ndelivered_to = false\nverbose = 1\n")
        run = lambda: subprocess.run([getmail, "--getmaildir", home, "--rcfile", "getmailrc"],
                                     capture_output=True, text=True, timeout=300,
                                     env=dict(os.environ, HOME=home))
        return run, mail

    def test_getmail_over_pop3s_keeps_then_finds_nothing_new(self):
        run, mail = self.getmail("keep", delete=False)
        done = run()
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.check_saved(mail)
        self.assertEqual(self.inbox_count(), COUNT)
        again = run()
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assertIn("0 messages", again.stdout + again.stderr)
        self.assertEqual(len(os.listdir(mail)), COUNT)

    def test_getmail_over_pop3s_deletes(self):
        run, mail = self.getmail("delete", delete=True)
        done = run()
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.check_saved(mail)
        self.assertEqual(self.inbox_count(), 0)


if __name__ == "__main__":
    unittest.main()
