"""Password guessing: after enough failures an account is refused to networks it has
not logged in from lately, while its owner's network keeps working; unknown names are
treated the same; SMTP AUTH shares the guard. Attackers come from many loopback
addresses (127.0.0.x), so each address stays under its own delay threshold."""

import base64
import smtplib
import socket
import unittest

from harness import InstanceTest

PASSWORD = "a-long-password"
USER = "gina@example.test"


class LoginAbuse(InstanceTest):
    services = ["imap", "submission"]

    def setUp(self):
        super().setUp()
        self.instance.add_account(USER, PASSWORD)
        self.instance.start()

    def login(self, source, user, password):
        """The tagged reply to LOGIN from 127.0.0.`source`."""
        with socket.create_connection(("127.0.0.1", self.instance.ports["imap"]), timeout=60,
                                      source_address=(f"127.0.0.{source}", 0)) as raw:
            lines = raw.makefile("rb")
            lines.readline()
            raw.sendall(f"a LOGIN {user} {password}\r\n".encode())
            return lines.readline()

    def test_an_attacked_account_still_opens_from_its_owners_network(self):
        self.assertTrue(self.login(100, USER, PASSWORD).startswith(b"a OK"))
        for source in range(2, 12):
            self.assertTrue(self.login(source, USER, "guess").startswith(b"a NO [AUTHENTICATIONFAILED]"))
        # Even the right password is refused from a network the account does not know.
        self.assertTrue(self.login(50, USER, PASSWORD).startswith(b"a NO [UNAVAILABLE]"))
        self.assertTrue(self.login(100, USER, PASSWORD).startswith(b"a OK"))
        # SMTP AUTH is guarded by the same record.
        with smtplib.SMTP("127.0.0.1", self.instance.ports["submission"], timeout=60,
                          source_address=("127.0.0.51", 0)) as smtp:
            smtp.ehlo("client.test")
            token = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
            code, message = smtp.docmd("AUTH", "PLAIN " + token)
            self.assertEqual(code, 454, message)
        self.assertIn("refused: too many failures", self.instance.log_text())

    def test_unknown_names_are_treated_like_real_ones(self):
        answers = set()
        for source in range(2, 12):
            answers.add(self.login(source, "nobody@example.test", "guess"))
        self.assertEqual(answers, {b"a NO [AUTHENTICATIONFAILED] Authentication failed\r\n"})
        self.assertTrue(self.login(60, "nobody@example.test", "guess").startswith(b"a NO [UNAVAILABLE]"))


if __name__ == "__main__":
    unittest.main()
