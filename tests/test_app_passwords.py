"""App passwords: made and revoked with `rampart user app-password`, accepted by IMAP
and SMTP AUTH instead of the account's password, refused once revoked."""

import imaplib
import smtplib

from harness import InstanceTest

PASSWORD = "a-long-password"
USER = "jane@example.test"


class AppPasswords(InstanceTest):
    services = ["imap", "submission"]

    def setUp(self):
        super().setUp()
        self.instance.add_account(USER, PASSWORD)

    def login(self, password):
        client = imaplib.IMAP4("127.0.0.1", self.instance.ports["imap"], timeout=30)
        try:
            return client.login(USER, password)[0]
        except imaplib.IMAP4.error:
            return "NO"
        finally:
            client.shutdown()

    def test_add_use_list_revoke(self):
        cli = self.instance.cli
        made = cli("user", "app-password", "add", USER, "phone")
        self.assertEqual(made.returncode, 0, made.stderr)
        secret = made.stdout.strip()
        self.assertRegex(secret, r"^([a-z2-9]{4}-){5}[a-z2-9]{4}$")
        self.assertIn("shown once", made.stderr)
        self.assertNotEqual(cli("user", "app-password", "add", USER, "phone").returncode, 0)
        listed = cli("user", "app-password", "list", USER)
        self.assertRegex(listed.stdout, r"^phone\tcreated \d{4}-\d\d-\d\d \d\d:\d\d UTC\n$")
        self.assertNotIn(secret, listed.stdout)
        self.instance.start()
        self.assertEqual(self.login(secret), "OK")
        self.assertEqual(self.login(PASSWORD), "OK")
        with smtplib.SMTP("127.0.0.1", self.instance.ports["submission"], timeout=30) as smtp:
            smtp.ehlo("client.test")
            self.assertEqual(smtp.login(USER, secret)[0], 235)
        self.assertEqual(cli("user", "app-password", "remove", USER, "phone").returncode, 0)
        self.assertEqual(self.login(secret), "NO")
        self.assertEqual(self.login(PASSWORD), "OK")
        self.assertNotEqual(cli("user", "app-password", "remove", USER, "phone").returncode, 0)
