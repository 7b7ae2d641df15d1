"""Virus scanning with a real clamd (Debian's clamav-daemon), offline: its database is
one signature, EICAR's MD5 made with sigtool, so no freshclam is needed. A message with
the EICAR test file attached is refused at the end of DATA with 554 5.7.1 and recorded
in the audit trail; a clean attachment is delivered; with clamd stopped the message is
deferred with 451 4.7.1 and nothing is stored, so the sender keeps it and tries again."""

import base64
import imaplib
import os
import smtplib
import subprocess
import tempfile
import time
import unittest

from harness import Instance
from test_sieve import Sieve

PASSWORD = "correct horse battery"
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def message(subject, attachment):
    return (f"From: alice@sender.example\r\nTo: bob@example.test\r\nSubject: {subject}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
            "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
            "--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename=\"file.com\"\r\n\r\n"
            + base64.b64encode(attachment).decode() + "\r\n--b--\r\n").encode()


class Clamav(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="rampart-clamav-")
        root = cls.tmp.name
        os.chmod(root, 0o755)  # the server's user reaches the socket
        os.mkdir(os.path.join(root, "db"))
        with open(os.path.join(root, "eicar.com"), "wb") as f:
            f.write(EICAR)
        signature = subprocess.run(["sigtool", "--md5", os.path.join(root, "eicar.com")],
                                   check=True, capture_output=True).stdout
        with open(os.path.join(root, "db", "test.hdb"), "wb") as f:
            f.write(signature)
        cls.socket = os.path.join(root, "clamd.sock")
        cls.conf = os.path.join(root, "clamd.conf")
        with open(cls.conf, "w") as f:
            f.write(f"LocalSocket {cls.socket}\nLocalSocketMode 666\nDatabaseDirectory {root}/db\n"
                    f"Foreground yes\nLogFile {root}/clamd.log\nStreamMaxLength 25M\n")
        cls.clamd = None
        cls.start_clamd()
        extra = f'[filter]\nsender_checks = false\nclamav_socket = "{cls.socket}"\nclamav_timeout = "20s"\n'
        cls.instance = Instance(["smtp", "imap", "managesieve"], extra=extra)
        cls.instance.add_account("bob@example.test", PASSWORD)
        cls.instance.start()

    @classmethod
    def start_clamd(cls):
        cls.clamd = subprocess.Popen(["clamd", "-c", cls.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        end = time.monotonic() + 60
        while not os.path.exists(cls.socket) and time.monotonic() < end:
            time.sleep(0.1)
        if not os.path.exists(cls.socket):
            raise AssertionError("clamd did not start")

    @classmethod
    def stop_clamd(cls):
        if cls.clamd and cls.clamd.poll() is None:
            cls.clamd.terminate()
            cls.clamd.wait(30)
        if os.path.exists(cls.socket):
            os.unlink(cls.socket)

    @classmethod
    def tearDownClass(cls):
        cls.instance.close()
        cls.stop_clamd()
        cls.tmp.cleanup()

    def send(self, raw):
        with smtplib.SMTP("127.0.0.1", self.instance.ports["smtp"], timeout=60) as client:
            client.sendmail("alice@sender.example", ["bob@example.test"], raw)

    def inbox(self, subject, mailbox="INBOX"):
        client = imaplib.IMAP4("127.0.0.1", self.instance.ports["imap"], timeout=30)
        client.login("bob@example.test", PASSWORD)
        client.select(mailbox)
        found = client.search(None, "SUBJECT", subject)[1][0].split()
        client.logout()
        return found

    def test_1_eicar_is_refused_and_audited(self):
        with self.assertRaises(smtplib.SMTPDataError) as refused:
            self.send(message("infected", EICAR))
        self.assertEqual(refused.exception.smtp_code, 554)
        self.assertIn(b"5.7.1", refused.exception.smtp_error)
        self.assertIn(b"virus", refused.exception.smtp_error)
        self.assertEqual(self.inbox("infected"), [])
        records = self.instance.wait_for_audit(
            lambda r: any(x["kind"] == "refused" for x in r), "--limit", "1000")
        refusal = [x for x in records if x["kind"] == "refused"]
        self.assertTrue(refusal, records)
        self.assertEqual(refusal[0]["account"], "bob@example.test")
        self.assertIn("virus", refusal[0]["detail"])

    def test_2_a_clean_attachment_is_delivered(self):
        self.send(message("clean", b"just some bytes\n" * 100))
        self.assertEqual(len(self.inbox("clean")), 1)
        # The delivery record says the message was scanned.
        records = self.instance.wait_for_audit(
            lambda r: any(x["kind"] == "delivery" for x in r), "--limit", "1000")
        self.assertIn("virus=clean", [x for x in records if x["kind"] == "delivery"][-1]["detail"])

    def test_2b_sieve_virustest_sees_the_scan(self):
        # RFC 3685: 1 is "tested, no virus found"; a script can act on it.
        sieve = Sieve(self.instance.ports["managesieve"])
        self.addCleanup(sieve.close)
        sieve.login("bob@example.test", PASSWORD)
        sieve.put("scan", 'require ["virustest", "fileinto", "mailbox", "relational",'
                          ' "comparator-i;ascii-numeric"];\r\n'
                          'if virustest :value "eq" :comparator "i;ascii-numeric" "1" {'
                          ' fileinto :create "Scanned"; }\r\n')
        self.addCleanup(sieve.command, 'SETACTIVE ""')
        self.send(message("scanned", b"clean bytes\n"))
        self.assertEqual(len(self.inbox("scanned", "Scanned")), 1)

    def test_3_clamd_down_defers_and_stores_nothing(self):
        self.stop_clamd()
        try:
            with self.assertRaises(smtplib.SMTPDataError) as deferred:
                self.send(message("offline", b"clean bytes\n"))
            self.assertEqual(deferred.exception.smtp_code, 451)
            self.assertIn(b"4.7.1", deferred.exception.smtp_error)
            self.assertEqual(self.inbox("offline"), [])
        finally:
            self.start_clamd()
        # The sender tries again once clamd is back: delivered.
        self.send(message("offline", b"clean bytes\n"))
        self.assertEqual(len(self.inbox("offline")), 1)


if __name__ == "__main__":
    unittest.main()
