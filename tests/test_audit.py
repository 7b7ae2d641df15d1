"""The audit trail: logins (good and bad), mailbox reads with their UIDs and the
client's address, changes, deliveries and admin commands are recorded; `rampart audit`
filters them as text or JSON; `rampart audit verify` finds an edited record; alerts for
a new network, bulk download, mass deletion and failed logins reach the log and a
webhook. Clients come from several loopback addresses (127.0.0.x and 127.0.1.x are
different /24 networks)."""

import http.server
import imaplib
import json
import socket
import sqlite3
import smtplib
import threading
import time
import os

from harness import Instance, InstanceTest

PASSWORD = "a-long-password"
USER = "hana@example.test"


class SourcedIMAP(imaplib.IMAP4):
    """imaplib from a chosen loopback source address."""

    def __init__(self, port, source):
        self.source = source
        super().__init__("127.0.0.1", port, timeout=30)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self.source, 0))


def message(subject):
    return (f"From: sender@elsewhere.test\r\nTo: {USER}\r\nSubject: {subject}\r\n\r\n"
            f"Body of {subject}.\r\n").encode()


class Webhook:
    """An HTTP server on loopback that keeps the JSON bodies POSTed to it."""

    def __init__(self):
        self.bodies = []
        received = self.bodies

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                received.append((self.path, json.loads(self.rfile.read(length))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class AuditTest(InstanceTest):
    services = ["smtp", "imap"]
    extra = ""

    def setUp(self):
        self.webhook = Webhook()
        self.addCleanup(self.webhook.close)
        self.instance = Instance(self.services, extra=self.extra.format(webhook=self.webhook.port))
        self.addCleanup(self.instance.close)
        self.instance.add_account(USER, PASSWORD)
        self.instance.start()

    def imap(self, source="127.0.0.1"):
        client = SourcedIMAP(self.instance.ports["imap"], source)
        client.login(USER, PASSWORD)
        self.addCleanup(client.logout)
        return client

    def deliver(self, count):
        with smtplib.SMTP("127.0.0.1", self.instance.ports["smtp"], timeout=30) as smtp:
            for i in range(count):
                smtp.sendmail("sender@elsewhere.test", [USER], message(f"message {i}"))


class Trail(AuditTest):
    def test_logins_reads_changes_deliveries_and_admin_commands_are_recorded(self):
        self.deliver(3)
        client = self.imap("127.0.0.1")
        client.select("INBOX")
        client.uid("FETCH", "1:2", "(BODY.PEEK[])")
        client.uid("FETCH", "1:*", "(FLAGS)")  # flags alone are not a read of the mail
        client.uid("STORE", "3", "+FLAGS", "(\\Flagged)")
        with self.assertRaises(imaplib.IMAP4.error):
            SourcedIMAP(self.instance.ports["imap"], "127.0.0.9").login(USER, "wrong")

        # The trail is written asynchronously: wait for the last of these.
        records = self.instance.wait_for_audit(lambda r: {"change", "login-failed"} <= {x["kind"] for x in r},
                                "--account", USER)
        kinds = [record["kind"] for record in records]
        for kind in ["admin", "delivery", "login", "open", "read", "change", "login-failed"]:
            self.assertIn(kind, kinds)
        self.assertEqual(kinds.count("delivery"), 3)
        self.assertEqual(kinds.count("read"), 1)
        read = next(record for record in records if record["kind"] == "read")
        self.assertEqual((read["address"], read["protocol"], read["mailbox"], read["count"]),
                         ("127.0.0.1", "imap", "INBOX", 2))
        self.assertIn("UID 1:2", read["detail"])
        change = next(record for record in records if record["kind"] == "change")
        self.assertIn("\\Flagged", change["detail"])
        self.assertIn("UID 3", change["detail"])
        delivery = next(record for record in records if record["kind"] == "delivery")
        self.assertIn("<sender@elsewhere.test>", delivery["detail"])
        admin = next(record for record in records if record["kind"] == "admin")
        self.assertEqual((admin["actor"], admin["protocol"]), ("admin", "admin"))
        self.assertRegex(admin["detail"], rf"^user.add address={USER} \(by uid {os.getuid()} pid \d+\)$")
        self.assertNotIn(PASSWORD, json.dumps(self.instance.audit("--limit", "1000000")))

        failed = self.instance.audit("--kind", "login-failed")
        self.assertEqual([(r["account"], r["address"]) for r in failed], [(USER, "127.0.0.9")])
        self.assertEqual({r["kind"] for r in self.instance.audit("--address", "127.0.0.9")}, {"login-failed"})
        self.assertTrue(self.instance.audit("--kind", "login", "--since", "1h"))
        self.assertEqual(self.instance.audit("--kind", "login", "--until", "2000-01-01"), [])
        self.assertTrue(self.instance.audit("--since", time.strftime("%Y-%m-%d", time.gmtime())))
        self.assertEqual(len(self.instance.audit("--limit", "2")), 2)
        self.assertEqual(self.instance.cli("audit", "--since", "yesterday").returncode, 2)
        # Text: one tab-separated line per record, the newest last.
        text = self.instance.cli("audit", "--account", USER, "--kind", "read").stdout.splitlines()
        self.assertEqual(len(text), 1)
        fields = text[0].split("\t")
        self.assertEqual(fields[2:9], ["read", USER, USER, "127.0.0.1", "imap", "INBOX", "2"])

    def test_start_and_reload_are_recorded(self):
        self.instance.process.send_signal(1)  # SIGHUP
        records = self.instance.wait_for_audit(lambda r: len(r) >= 2, "--kind", "config")
        self.assertIn("started with", records[0]["detail"])
        self.assertIn("SIGHUP", records[1]["detail"])

    def test_verify_finds_an_edited_record(self):
        self.deliver(1)
        client = SourcedIMAP(self.instance.ports["imap"], "127.0.0.1")
        client.login(USER, PASSWORD)
        client.select("INBOX")
        client.logout()
        self.instance.wait_for_audit(lambda r: r, "--kind", "open")
        self.instance.stop()
        verified = self.instance.cli("audit", "verify")
        self.assertEqual(verified.returncode, 0, verified.stderr)
        self.assertRegex(verified.stdout, r"^audit trail intact: \d+ records, head [0-9a-f]{64}\n$")

        # Someone with the file hides where a login came from.
        database = sqlite3.connect(os.path.join(self.instance.data, "audit.db"))
        with self.assertRaises(sqlite3.DatabaseError):
            database.execute("UPDATE events SET address = '10.0.0.1' WHERE kind = 'login'")
        seq = database.execute("SELECT seq FROM events WHERE kind = 'login'").fetchone()[0]
        database.execute("DROP TRIGGER events_no_update")
        database.execute("UPDATE events SET address = '10.0.0.1' WHERE kind = 'login'")
        database.commit()
        database.close()
        broken = self.instance.cli("audit", "verify")
        self.assertEqual(broken.returncode, 1)
        self.assertIn(f"broken at record {seq}", broken.stderr)


class Alerts(AuditTest):
    extra = """
[audit]
alert_webhook = "http://127.0.0.1:{webhook}/hooks/rampart"
alert_mail = "hana@example.test"
bulk_read_messages = 5
mass_delete_messages = 5
failed_logins = 3
window_seconds = 600
"""

    def alerts(self, kind):
        end = time.monotonic() + 20
        while time.monotonic() < end:
            found = [body for path, body in self.webhook.bodies if body["kind"] == kind]
            if found:
                return found
            time.sleep(0.1)
        self.fail(f"no {kind} alert; the webhook had {self.webhook.bodies}\n{self.instance.log_text()}")

    def test_a_login_from_a_new_network(self):
        self.imap("127.0.0.1")  # the first login ever: nothing to compare with
        self.instance.wait_for_audit(lambda r: r, "--kind", "login")
        self.imap("127.0.0.77")  # the same /24
        self.instance.wait_for_audit(lambda r: len(r) == 2, "--kind", "login")
        self.imap("127.0.1.1")  # a new one
        [alert] = self.alerts("new-network")
        self.assertEqual((alert["account"], alert["address"], alert["server"]),
                         (USER, "127.0.1.1", "mail.test"))
        self.assertIn("127.0.1.1", alert["text"])
        self.assertEqual(self.webhook.bodies[0][0], "/hooks/rampart")
        self.assertIn("alert: new-network", self.instance.log_text())
        recorded = self.instance.wait_for_audit(lambda r: r, "--kind", "alert")
        self.assertEqual(recorded[0]["detail"].split(":")[0], "new-network")

    def test_bulk_download_and_mass_deletion(self):
        self.deliver(8)
        client = self.imap()
        client.select("INBOX")
        client.fetch("1:*", "(BODY.PEEK[])")
        [bulk] = self.alerts("bulk-download")
        self.assertEqual(bulk["account"], USER)
        client.store("1:*", "+FLAGS", "(\\Deleted)")
        client.expunge()
        [mass] = self.alerts("mass-deletion")
        self.assertEqual(mass["address"], "127.0.0.1")

    def test_many_failed_logins_for_one_account(self):
        for source in range(20, 23):
            with self.assertRaises(imaplib.IMAP4.error):
                SourcedIMAP(self.instance.ports["imap"], f"127.0.0.{source}").login(USER, "guess")
        [alert] = self.alerts("failed-logins")
        self.assertEqual(alert["account"], USER)
        # The same alert by mail, here to the account itself.
        client = self.imap()
        deadline = time.monotonic() + 20
        while True:
            client.select("INBOX")
            typ, data = client.search(None, "SUBJECT", '"[Rampart alert] failed-logins"')
            if data[0] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(len(data[0].split()), 1)
        typ, data = client.fetch(data[0], "(BODY.PEEK[])")
        self.assertIn(b"Auto-Submitted: auto-generated", data[0][1])
        self.assertIn(b"3 failed logins for account " + USER.encode(), data[0][1])


if __name__ == "__main__":
    import unittest
    unittest.main()
