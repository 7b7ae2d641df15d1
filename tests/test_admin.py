"""The admin API on its Unix socket: the `rampart` command goes through the running
server, the socket admits only root and the server's user, a request is typed JSON
(an unknown call or field, junk or an oversize line gets a clear error and the
connection goes on), every call is audited, and no call takes a mail password."""

import json
import os
import socket
import subprocess
import unittest

from harness import InstanceTest

PASSWORD = "a-long-password"


class AdminApi(InstanceTest):
    services = ["imap", "submission"]

    def setUp(self):
        super().setUp()
        self.instance.add_account("ivan@example.test", PASSWORD)  # no server yet: in-process
        self.instance.start()
        self.path = os.path.join(self.instance.data, "admin.sock")

    def connect(self):
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.settimeout(30)
        client.connect(self.path)
        self.addCleanup(client.close)
        return client, client.makefile("rb")

    def ask(self, client, lines, request):
        client.sendall(request + b"\n")
        return json.loads(lines.readline())

    def test_the_command_goes_through_the_running_server(self):
        added = self.instance.cli("user", "add", "judy@example.test", stdin=PASSWORD + "\n")
        self.assertEqual(added.returncode, 0, added.stderr)
        self.instance.wait_for_log(f"admin: uid {os.getuid()} pid ")
        self.assertEqual(self.instance.cli("user", "list").stdout,
                         "ivan@example.test\njudy@example.test\n")
        refused = self.instance.cli("user", "add", "judy@example.test", stdin=PASSWORD + "\n")
        self.assertEqual(refused.returncode, 1)
        self.assertIn("rampart: cannot add judy@example.test: already exists", refused.stderr)

    def test_typed_requests_and_clear_errors(self):
        client, lines = self.connect()
        answer = self.ask(client, lines, b'{"call":"domain.list"}')
        self.assertEqual(answer, {"ok": True, "result": ["example.test"]})
        for request, error in [(b"not json", "bad-input"),
                               (b'{"call":"login","address":"ivan@example.test","password":"x"}',
                                "not-found"),
                               (b'{"call":"user.add","address":"x@example.test"}', "bad-input"),
                               (b'{"call":"domain.add","name":"a.test","owner":"me"}', "bad-input"),
                               (b'{"call":"user.remove","address":"nobody@example.test"}',
                                "not-found"),
                               (b'{"call":"domain.add","name":"../../etc"}', "bad-input"),
                               (b'{"call":"domain.add","name":"a\\u0000b.test"}', "bad-input")]:
            answer = self.ask(client, lines, request)
            self.assertEqual((answer["ok"], answer["error"]), (False, error), request)
            self.assertTrue(answer["message"])
        # Still serving on the same connection.
        self.assertTrue(self.ask(client, lines, b'{"call":"user.list"}')["ok"])
        client.sendall(b"x" * 70000 + b"\n")
        self.assertEqual(json.loads(lines.readline())["error"], "too-big")

    def test_every_call_is_audited(self):
        client, lines = self.connect()
        self.ask(client, lines, b'{"call":"user.passwd","address":"ivan@example.test",'
                                b'"password":"a-new-long-password"}')
        records = json.loads(self.instance.cli("audit", "--json", "--kind", "admin").stdout)
        passwd = [r for r in records if r["detail"].startswith("user.passwd")]
        self.assertEqual(len(passwd), 1)
        self.assertEqual(passwd[0]["account"], "ivan@example.test")
        self.assertNotIn("a-new-long-password", json.dumps(records))

    @unittest.skipUnless(os.geteuid() == 0, "needs another user to connect as")
    def test_the_outbound_queue_is_shown_held_retried_and_removed(self):
        import smtplib
        with smtplib.SMTP("127.0.0.1", self.instance.ports["submission"], timeout=30) as client:
            client.login("ivan@example.test", PASSWORD)
            for n in (1, 2):
                client.sendmail("ivan@example.test", [f"far{n}@remote.test", "other@remote.test"],
                                f"From: ivan@example.test\r\nSubject: {n}\r\n\r\nbody\r\n".encode())

        def cli(*args):
            done = self.instance.cli("queue", *args)
            return done.returncode, done.stdout

        code, listed = cli("list")
        self.assertEqual(code, 0)
        self.assertIn("2 message(s) queued", listed)
        ids = [int(line.split()[0]) for line in listed.splitlines() if " bytes " in line]
        self.assertEqual(len(ids), 2)
        code, shown = cli("show", str(ids[0]))
        self.assertEqual(code, 0)
        self.assertIn("<ivan@example.test>", shown)
        self.assertIn("-> <far1@remote.test>  pending", shown)
        self.assertIn("-> <other@remote.test>  pending", shown)
        self.assertEqual(cli("hold", str(ids[0]))[0], 0)
        self.assertRegex(cli("show", str(ids[0]))[1], r"attempts 0  held")
        self.assertEqual(cli("retry")[1].strip(), "1 message(s) due now")  # the held one waits
        self.assertNotEqual(cli("retry", str(ids[0]))[0], 0)
        self.assertEqual(cli("release", str(ids[0]))[0], 0)
        self.assertEqual(cli("retry", str(ids[0]))[1].strip(), "1 message(s) due now")
        self.assertEqual(cli("remove", str(ids[1]))[0], 0)
        code, listed = cli("list")
        self.assertIn("1 message(s) queued", listed)
        self.assertNotEqual(cli("show", str(ids[1]))[0], 0)
        self.assertNotEqual(cli("remove", "999999")[0], 0)
        # Each was an admin call, in the audit trail.
        calls = [r["detail"] for r in self.instance.audit("--kind", "admin")]
        for call in ("queue.hold", "queue.release", "queue.retry", "queue.remove"):
            self.assertTrue(any(call in detail for detail in calls), (call, calls))

    def test_only_root_and_the_servers_user_are_admitted(self):
        os.chmod(self.instance.data, 0o755)
        os.chmod(self.path, 0o777)  # let the kernel pass `nobody`: the server must refuse
        # The server answers a refused peer at once, before any request, and hangs up.
        probe = ("import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
                 "print(s.makefile().readline())")
        done = subprocess.run(["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c", probe,
                               self.path], capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 0, done.stderr)
        answer = json.loads(done.stdout)
        self.assertEqual((answer["ok"], answer["error"]), (False, "no-permission"))
        self.instance.wait_for_log("admin: refused a connection from uid")


if __name__ == "__main__":
    unittest.main()
