"""The HTTP server: /health over http and https with curl, keep-alive and pipelining,
authentication for every route but the anonymous ones, the JMAP session and API
endpoints, and hostile requests (ambiguous targets, oversize headers and bodies, junk,
slow clients) answered with the right 4xx while normal clients go on being served."""

import base64
import json
import socket
import subprocess
import time
import unittest

from harness import Instance

USER = "kate@example.test"
PASSWORD = "a-long-password"
CORE = "urn:ietf:params:jmap:core"
OTHER = "lee@example.test"


class Http(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.instance = Instance(["http", "https"], extra=f'[http]\nmetrics_accounts = ["{USER}"]')
        cls.instance.add_account(USER, PASSWORD)
        cls.instance.add_account(OTHER, PASSWORD)
        cls.instance.start()
        cls.base = f"http://127.0.0.1:{cls.instance.ports['http']}"

    @classmethod
    def tearDownClass(cls):
        cls.instance.close()

    def tearDown(self):
        self.assertEqual(self.curl("/health")[0], "200")
        self.assertIsNone(self.instance.process.poll(), "the server is still running")

    def curl(self, path, *args, base=None):
        done = subprocess.run(["curl", "-sk", "--path-as-is", "-o", "-", "-w", "\n%{http_code}",
                               *args, (base or self.base) + path],
                              capture_output=True, text=True, timeout=30)
        body, _, code = done.stdout.rpartition("\n")
        return code, body

    def raw(self, request, read_all=True):
        with socket.create_connection(("127.0.0.1", self.instance.ports["http"]), timeout=30) as sock:
            sock.sendall(request)
            if not read_all:
                return sock.recv(65536)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            return data

    def test_mta_sts_policy_of_each_hosted_domain(self):
        # RFC 8461 section 3.3: at https://mta-sts.DOMAIN/.well-known/mta-sts.txt.
        https = f"https://127.0.0.1:{self.instance.ports['https']}"
        code, body = self.curl("/.well-known/mta-sts.txt", "-H", "Host: mta-sts.example.test",
                               base=https)
        self.assertEqual(code, "200")
        # (Text mode reads its CRLF line ends as LF.)
        self.assertEqual(body, "version: STSv1\nmode: enforce\nmx: mail.test\nmax_age: 604800\n")
        for host in ("mta-sts.other.test", "example.test", "mta-sts.example.test.evil"):
            code, _ = self.curl("/.well-known/mta-sts.txt", "-H", f"Host: {host}", base=https)
            self.assertEqual(code, "404", host)
        # The records announce it, with an id that changes with the policy.
        records = self.instance.cli("dns-records", "example.test").stdout
        self.assertRegex(records, r"_mta-sts\.example\.test\.\tIN\tTXT\t\"v=STSv1; id=[0-9a-f]{20}\"")
        self.assertIn("mta-sts.example.test.\tIN\tCNAME\tmail.test.", records)

    def test_health_over_http_and_https(self):
        self.assertEqual(self.curl("/health"), ("200", "ok\n"))
        https = f"https://127.0.0.1:{self.instance.ports['https']}"
        self.assertEqual(self.curl("/health", base=https), ("200", "ok\n"))
        headers = subprocess.run(["curl", "-sI", self.base + "/health"], capture_output=True,
                                 text=True, timeout=30).stdout
        self.assertIn("X-Content-Type-Options: nosniff", headers)
        self.assertIn("Content-Length: 3", headers)
        self.assertEqual(self.curl("/health/")[0], "200")

    def test_unknown_paths_and_methods(self):
        self.assertEqual(self.curl("/")[0], "404")
        self.assertEqual(self.curl("/nope")[0], "404")
        self.assertEqual(self.curl("/health", "-X", "POST", "-d", "x")[0], "405")
        reply = self.raw(b"DELETE /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 405"))
        self.assertIn(b"Allow: GET, HEAD", reply)

    def test_keep_alive_and_pipelining(self):
        reply = self.raw(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" * 50 +
                         b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(reply.count(b"HTTP/1.1 200 OK"), 51)
        done = subprocess.run(["curl", "-s", "-o", "/dev/null", "-o", "/dev/null", "-w",
                               "%{num_connects}\n", self.base + "/health", self.base + "/health"],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(done.stdout.split(), ["1", "0"])  # the second request reused it

    def test_ambiguous_targets_are_refused(self):
        for target in ["/health/../health", "/./health", "//health", "/health%2f", "/%68ealth%00",
                       "/health;x=1", "/he%5calth", "/%2e%2e/etc/passwd", "/health%252e",
                       "/h%c3%28", "*", "http://127.0.0.1/health", "/health#x"]:
            reply = self.raw(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            self.assertTrue(reply.startswith(b"HTTP/1.1 400"), (target, reply[:60]))

    def test_oversize_and_junk(self):
        big_header = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
        self.assertTrue(self.raw(big_header).startswith(b"HTTP/1.1 431"))
        many = b"GET /health HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(5000)) + b"\r\n"
        self.assertTrue(self.raw(many).startswith(b"HTTP/1.1 431"))
        long_target = b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        self.assertTrue(self.raw(long_target)[:12] in (b"HTTP/1.1 414", b"HTTP/1.1 431"))
        body = b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n"
        self.assertTrue(self.raw(body, read_all=False).startswith(b"HTTP/1.1 413"))
        for junk in [b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,
                     b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", b"GET /health HTTP/9.9\r\n\r\n",
                     b"GET /health\r\n\r\n", b"\x00\x01\x02\r\n\r\n",
                     b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     b"Content-Length: 5\r\n\r\n0\r\n\r\n"]:
            reply = self.raw(junk)
            self.assertTrue(reply[:10] in (b"HTTP/1.1 4", b"HTTP/1.1 5"), (junk[:20], reply[:40]))

    def test_slow_client_does_not_block_others(self):
        with socket.create_connection(("127.0.0.1", self.instance.ports["http"]), timeout=30) as slow:
            for byte in b"GET /health HTTP/1.1\r\nHost: x\r\n":
                slow.sendall(bytes([byte]))
            started = time.monotonic()
            self.assertEqual(self.curl("/health")[0], "200")
            self.assertLess(time.monotonic() - started, 10)
            slow.sendall(b"Connection: close\r\n\r\n")
            self.assertTrue(slow.recv(100).startswith(b"HTTP/1.1 200"))

    def test_routes_that_need_an_account_ask_for_one(self):
        code, _ = self.curl("/jmap/session")
        self.assertEqual(code, "401")
        headers = subprocess.run(["curl", "-si", self.base + "/jmap/session"], capture_output=True,
                                 text=True, timeout=30).stdout
        self.assertIn('WWW-Authenticate: Basic realm="Rampart", charset="UTF-8"', headers)
        self.assertEqual(self.curl("/jmap/session", "-u", f"{USER}:wrong-password")[0], "401")
        self.assertEqual(self.curl("/jmap/session", "-H", "Authorization: Bearer x")[0], "401")
        self.assertEqual(self.curl("/jmap/session", "-H", "Authorization: Basic %%%")[0], "401")

    def test_jmap_session_and_core_echo(self):
        code, body = self.curl("/jmap/session", "-u", f"{USER}:{PASSWORD}")
        self.assertEqual(code, "200", body)
        session = json.loads(body)
        self.assertEqual(session["username"], USER)
        self.assertEqual(sorted(session["capabilities"]), [CORE] + [f"urn:ietf:params:jmap:{c}" for c in ("mail", "submission", "vacationresponse", "websocket")])
        self.assertEqual(session["apiUrl"], "https://mail.test/jmap/api")
        [account_id] = session["accounts"]
        self.assertEqual(session["accounts"][account_id]["name"], USER)

        request = {"using": [CORE], "methodCalls": [["Core/echo", {"hello": "wörld"}, "c1"],
                                                   ["Mailbox/get", {}, "c2"]]}
        code, body = self.curl("/jmap/api", "-u", f"{USER}:{PASSWORD}", "-H",
                               "Content-Type: application/json", "--data-binary", json.dumps(request))
        self.assertEqual(code, "200", body)
        answer = json.loads(body)
        self.assertEqual(answer["methodResponses"][0], ["Core/echo", {"hello": "wörld"}, "c1"])
        self.assertEqual(answer["methodResponses"][1][1]["type"], "unknownMethod")
        code, body = self.curl("/jmap/api", "-u", f"{USER}:{PASSWORD}", "--data-binary", "{nope")
        self.assertEqual(code, "400")
        self.assertEqual(json.loads(body)["type"], "urn:ietf:params:jmap:error:notJSON")
        self.assertEqual(self.curl("/jmap/api", "-u", f"{USER}:{PASSWORD}")[0], "405")

    def test_one_login_per_connection_and_app_passwords(self):
        made = self.instance.cli("user", "app-password", "add", USER, "jmap-client")
        secret = made.stdout.strip()
        before = len(json.loads(self.instance.cli("audit", "--json", "--kind", "login",
                                                  "--limit", "1000").stdout))
        urls = [self.base + "/jmap/session"] * 3
        done = subprocess.run(["curl", "-s", "-u", f"{USER}:{secret}", "-o", "/dev/null", "-o",
                               "/dev/null", "-o", "/dev/null", "-w", "%{http_code} ", *urls],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(done.stdout.split(), ["200", "200", "200"])
        deadline = time.monotonic() + 20
        while True:
            logins = json.loads(self.instance.cli("audit", "--json", "--kind", "login",
                                                  "--limit", "1000").stdout)
            if len(logins) > before or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(len(logins), before + 1)
        self.assertEqual(logins[-1]["protocol"], "http")

    def test_app_passwords_are_bearer_tokens(self):
        secret = self.instance.cli("user", "app-password", "add", USER, "bearer-client").stdout.strip()
        code, body = self.curl("/jmap/session", "-H", f"Authorization: Bearer {secret}")
        self.assertEqual(code, "200")
        self.assertEqual(json.loads(body)["username"], USER)
        self.assertEqual(self.curl("/jmap/session", "-H", "Authorization: Bearer not-a-token")[0], "401")
        self.assertEqual(self.curl("/jmap/session", "-H", f"Authorization: Bearer {PASSWORD}")[0], "401")
        self.assertEqual(self.instance.cli("user", "app-password", "remove", USER, "bearer-client").returncode, 0)
        self.assertEqual(self.curl("/jmap/session", "-H", f"Authorization: Bearer {secret}")[0], "401")
        deadline = time.monotonic() + 20
        while True:
            failed = [r for r in json.loads(self.instance.cli("audit", "--json", "--kind", "login-failed",
                                                              "--limit", "1000").stdout)
                      if r["detail"] == "unknown bearer token"]
            if len(failed) >= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(len(failed), 3)

    def test_metrics_for_the_accounts_configured(self):
        self.assertEqual(self.curl("/metrics")[0], "401")
        self.assertEqual(self.curl("/metrics", "-u", f"{OTHER}:{PASSWORD}")[0], "403")
        code, body = self.curl("/metrics", "-u", f"{USER}:{PASSWORD}")
        self.assertEqual(code, "200")
        self.assertIn('rampart_logins_total{protocol="http",result="success"}', body)
        self.assertIn('rampart_connections_open{service="http"}', body)
        self.assertIn("# TYPE rampart_http_requests_total counter", body)
        self.assertIn("rampart_accounts 2\n", body)
        self.assertIn("process_resident_memory_bytes", body)
        for line in body.splitlines():  # the text format: comments and "name{labels} value"
            self.assertRegex(line, r'^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? -?[0-9.e+]+)$')

    def test_three_failed_logins_close_the_connection(self):
        token = base64.b64encode(f"{USER}:wrong".encode()).decode()
        request = (f"GET /jmap/session HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {token}\r\n\r\n"
                   .encode())
        with socket.create_connection(("127.0.0.1", self.instance.ports["http"]), timeout=30,
                                      source_address=("127.0.5.1", 0)) as sock:
            sock.sendall(request * 10)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        self.assertEqual(data.count(b"HTTP/1.1 401"), 3)
        self.assertTrue(data.endswith(b"authentication failed\n"))


if __name__ == "__main__":
    unittest.main()
