"""Storage quotas: set with `rampart user quota`, reported by IMAP QUOTA (RFC 9208),
enforced on IMAP APPEND/COPY (NO [OVERQUOTA]) and at SMTP RCPT (552 5.2.2)."""

import imaplib
import smtplib

from harness import InstanceTest

PASSWORD = "a-long-password"


class Quota(InstanceTest):
    services = ["smtp", "imap"]

    def setUp(self):
        super().setUp()
        self.instance.add_account("carol@example.test", PASSWORD)
        self.instance.start()

    def imap(self):
        client = imaplib.IMAP4("127.0.0.1", self.instance.ports["imap"], timeout=30)
        client.login("carol@example.test", PASSWORD)
        self.addCleanup(client.logout)
        return client

    def test_cli_parses_sizes_and_refuses_nonsense(self):
        cli = self.instance.cli
        done = cli("user", "quota", "carol@example.test", "2K")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("2048 bytes", done.stdout)
        self.assertEqual(cli("user", "quota", "carol@example.test", "2X").returncode, 2)
        self.assertEqual(cli("user", "quota", "carol@example.test", "-1").returncode, 2)
        self.assertNotEqual(cli("user", "quota", "nobody@example.test", "1M").returncode, 0)
        self.assertEqual(cli("user", "quota", "carol@example.test", "none").returncode, 0)

    def test_new_accounts_get_the_default_quota(self):
        # limits.default_quota_mib, 10240 unless configured.
        typ, data = self.imap().getquotaroot("INBOX")
        self.assertEqual(typ, "OK")
        self.assertIn(b"(STORAGE 0 10485760)", data[1][0])

    def test_no_quota_means_no_quota_root(self):
        self.assertEqual(self.instance.cli("user", "quota", "carol@example.test", "none").returncode, 0)
        client = self.imap()
        self.assertIn(b"QUOTA=RES-STORAGE", client.capability()[1][0].split())
        typ, data = client.getquotaroot("INBOX")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0], [b'"INBOX"'])
        self.assertEqual(client.getquota('""')[0], "NO")
        self.assertEqual(client.setquota('""', "(STORAGE 10)")[0], "NO")

    def test_quota_is_reported_and_enforced(self):
        self.assertEqual(self.instance.cli("user", "quota", "carol@example.test", "4K").returncode, 0)
        client = self.imap()
        small = b"Subject: small\r\n\r\n" + b"x" * 1300 + b"\r\n"
        self.assertEqual(client.append("INBOX", None, None, small)[0], "OK")
        typ, data = client.getquotaroot("INBOX")
        self.assertEqual(data[0], [b'"INBOX" ""'])
        self.assertEqual(data[1], [b'"" (STORAGE 2 4)'])  # 1320 bytes, rounded up
        typ, data = client.append("INBOX", None, None, b"Subject: big\r\n\r\n" + b"y" * 5000 + b"\r\n")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[OVERQUOTA]", data[0])
        client.select("INBOX")
        for _ in range(2):
            self.assertEqual(client.copy("1", "Archive")[0], "OK")
        typ, data = client.copy("1", "Archive")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[OVERQUOTA]", data[0])
        # Mail is still accepted below the limit (and may end above it), then refused
        # per recipient.
        with smtplib.SMTP("127.0.0.1", self.instance.ports["smtp"], timeout=30) as smtp:
            smtp.sendmail("x@remote.test", ["carol@example.test"], small)
            smtp.mail("x@remote.test")
            code, message = smtp.rcpt("carol@example.test")
            self.assertEqual(code, 552)
            self.assertIn(b"5.2.2", message)
