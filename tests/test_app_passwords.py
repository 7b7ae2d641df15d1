"""App passwords: made and revoked with `rampart user app-password`, accepted by IMAP,
SMTP AUTH and HTTP (Basic or bearer) instead of the account's password, refused once
revoked, also on connections and sessions that logged in with them before."""

import base64
import http.client
import imaplib
import json
import random
import smtplib
import socket

import ws_client
from harness import InstanceTest

PASSWORD = "a-long-password"
USER = "jane@example.test"


class AppPasswords(InstanceTest):
    services = ["imap", "submission", "http"]

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

    def app_password(self, device="phone"):
        made = self.instance.cli("user", "app-password", "add", USER, device)
        self.assertEqual(made.returncode, 0, made.stderr)
        return made.stdout.strip()

    def revoke(self, device="phone"):
        done = self.instance.cli("user", "app-password", "remove", USER, device)
        self.assertEqual(done.returncode, 0, done.stderr)

    def session_status(self, authorization, source="127.0.0.1", sock=None):
        """The status of GET /jmap/session, on `sock` if given (kept alive)."""
        sock = sock or self.http_socket(source)
        sock.sendall(f"GET /jmap/session HTTP/1.1\r\nHost: x\r\nAuthorization: {authorization}\r\n\r\n".encode())
        response = http.client.HTTPResponse(sock)
        response.begin()
        response.read()
        return response.status

    def http_socket(self, source="127.0.0.1"):
        sock = socket.create_connection(("127.0.0.1", self.instance.ports["http"]), timeout=30,
                                        source_address=(source, 0))
        self.addCleanup(sock.close)
        return sock

    def test_bogus_bearer_tokens_do_not_lock_out_the_real_one(self):
        secret = self.app_password()
        self.instance.start()
        alphabet = "abcdefghijklmnopqrstuvwxyz23456789"
        for source in range(2, 6):
            for _ in range(3):
                bogus = "-".join("".join(random.choices(alphabet, k=4)) for _ in range(6))
                self.assertNotEqual(self.session_status(f"Bearer {bogus}", f"127.0.0.{source}"), 200)
        self.assertEqual(self.session_status(f"Bearer {secret}", "127.0.0.6"), 200)

    def test_revoked_token_is_refused_on_a_kept_alive_connection(self):
        secret = self.app_password()
        self.instance.start()
        sock = self.http_socket()
        self.assertEqual(self.session_status(f"Bearer {secret}", sock=sock), 200)
        self.revoke()
        self.assertEqual(self.session_status(f"Bearer {secret}", sock=sock), 401)

    def test_changed_password_is_refused_on_a_kept_alive_connection(self):
        self.instance.start()
        basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        sock = self.http_socket()
        self.assertEqual(self.session_status(basic, sock=sock), 200)
        done = self.instance.cli("user", "passwd", USER, stdin="another-password\n")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(self.session_status(basic, sock=sock), 401)

    def test_revoking_ends_an_imap_session_that_used_it(self):
        secret = self.app_password()
        self.instance.start()
        client = imaplib.IMAP4("127.0.0.1", self.instance.ports["imap"], timeout=30)
        self.addCleanup(client.shutdown)
        client.login(USER, secret)
        self.assertEqual(client.noop()[0], "OK")
        self.revoke()
        with self.assertRaises(imaplib.IMAP4.abort):
            client.noop()
        self.assertIn("BYE", client.untagged_responses)

    def test_revoking_closes_a_websocket_that_used_it(self):
        secret = self.app_password()
        self.instance.start()
        ws = ws_client.WebSocket(self.instance.ports["http"], f"Bearer {secret}")
        self.addCleanup(ws.close)

        def request(request_id):
            ws.send(ws_client.TEXT, json.dumps({"@type": "Request", "id": request_id, "using": [
                "urn:ietf:params:jmap:core"], "methodCalls": [["Core/echo", {}, "e"]]}).encode())

        request("before")
        opcode, payload = ws.receive()
        self.assertEqual(json.loads(payload)["requestId"], "before")
        self.revoke()
        try:
            request("after")
        except OSError:
            pass  # already closed
        while (received := ws.receive()) is not None:
            opcode, payload = received
            self.assertNotEqual(opcode, ws_client.TEXT, f"answered after the revocation: {payload[:200]}")
