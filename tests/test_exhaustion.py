"""Resource exhaustion: requests that cost the attacker little must not cost the server
much memory or CPU (unfinished HTTP headers, slow drips, JMAP result references, an
unread WebSocket, a COMPRESS bomb, pre-auth literals), mail loops and a nearly full
disk are refused, and new accounts get a quota. After each attack a normal client is
still served. Memory is the server's peak RSS (VmHWM, reset before each attack); a
watchdog kills a server that runs away so that a failing run cannot take the machine."""

import base64
import contextlib
import http.client
import imaplib
import json
import os
import re
import select
import signal
import smtplib
import socket
import tempfile
import threading
import time
import unittest
import zlib

import ws_client
from harness import Instance

USER = "ivy@example.test"
PASSWORD = "a-long-password"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
CORE = "urn:ietf:params:jmap:core"
MAIL = "urn:ietf:params:jmap:mail"
MIB = 1024 * 1024



def status_mib(pid, field):
    """A VmRSS-like field of /proc/PID/status, in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for {pid}")


def rss_mib(pid):
    return status_mib(pid, "VmRSS")


def cpu_seconds(pid):
    """The CPU time (user + system, all threads) the process has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Watchdog(threading.Thread):
    """Samples the server's RSS and kills it once it passes `kill_at` MiB."""

    def __init__(self, pid, kill_at):
        super().__init__(daemon=True)
        self.pid, self.kill_at = pid, kill_at
        self.peak, self.killed = 0, False
        self.done = threading.Event()
        self.start()

    def run(self):
        while not self.done.wait(0.01):
            try:
                rss = rss_mib(self.pid)
            except (OSError, AssertionError):
                return  # the server is gone
            self.peak = max(self.peak, rss)
            if rss > self.kill_at:
                self.killed = True
                os.kill(self.pid, signal.SIGKILL)
                return

    def stop(self):
        self.done.set()
        self.join()


class ExhaustionTest(unittest.TestCase):
    """One server per class, with USER; helpers to bound memory and check service."""

    services = ["smtp", "imap", "http"]
    extra = ""

    @classmethod
    def setUpClass(cls):
        cls.instance = Instance(cls.services, extra=cls.extra)
        cls.instance.add_account(USER, PASSWORD)
        cls.instance.start()

    @classmethod
    def tearDownClass(cls):
        cls.instance.close()

    def setUp(self):
        if self.instance.process.poll() is not None:  # an earlier attack's watchdog killed it
            self.instance.log.clear()
            self.instance.start()

    @property
    def pid(self):
        return self.instance.process.pid

    def port(self, service):
        return self.instance.ports[service]

    @contextlib.contextmanager
    def memory_bound(self, mib):
        """Asserts the server's RSS grows by less than `mib` MiB during the block."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")  # reset VmHWM to the current RSS
            hwm_reset = True
        except OSError:
            hwm_reset = False  # then the watchdog's samples are the measure
        start = rss_mib(self.pid)
        watchdog = Watchdog(self.pid, start + mib + 1024)
        try:
            yield
        finally:
            watchdog.stop()
            if watchdog.killed:
                self.fail(f"the server's RSS grew by over {mib + 1024} MiB (bound {mib}); killed")
        peak = max(watchdog.peak, status_mib(self.pid, "VmHWM") if hwm_reset else 0)
        self.assertLess(peak - start, mib, f"the server's RSS grew from {start:.0f} to {peak:.0f} MiB")

    def assert_served(self):
        """A normal client is served, each step within 5 s: IMAP LOGIN, SELECT, LOGOUT
        and HTTP GET /health."""
        self.assertIsNone(self.instance.process.poll(), "the server is running")
        client = imaplib.IMAP4("127.0.0.1", self.port("imap"), timeout=5)
        self.assertEqual(client.login(USER, PASSWORD)[0], "OK")
        self.assertEqual(client.select("INBOX")[0], "OK")
        self.assertEqual(client.logout()[0], "BYE")
        connection = http.client.HTTPConnection("127.0.0.1", self.port("http"), timeout=5)
        try:
            connection.request("GET", "/health")
            response = connection.getresponse()
            self.assertEqual((response.status, response.read()), (200, b"ok\n"))
        finally:
            connection.close()

    def connect(self, service, timeout=30, source="127.0.0.1"):
        sock = socket.create_connection(("127.0.0.1", self.port(service)), timeout=timeout,
                                        source_address=(source, 0))
        self.addCleanup(sock.close)
        return sock

    def drip(self, seconds, reconnect, interval=0.5):
        """Sends one byte of a request header every `interval` s on each of 4 HTTP connections
        for up to `seconds` (opening a new one for each the server closes, if
        `reconnect`); returns how many the server closed. Without `reconnect` it stops
        once all are closed."""
        header = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Drip: "
        sockets = {self.connect("http"): 0 for _ in range(4)}
        closed = 0
        end = time.monotonic() + seconds
        next_byte = time.monotonic()
        while sockets and time.monotonic() < end:
            if time.monotonic() >= next_byte:
                next_byte += interval
                for sock, sent in list(sockets.items()):
                    try:
                        sock.send(header[sent:sent + 1] or b"a")
                        sockets[sock] = sent + 1
                    except OSError:
                        pass  # closed: recv below sees it
            ready, _, _ = select.select(list(sockets), [], [], max(0.0, next_byte - time.monotonic()))
            for sock in ready:
                try:
                    data = sock.recv(65536)  # the server may say 408 before it closes
                except OSError:
                    data = b""
                if not data:
                    del sockets[sock]
                    closed += 1
                    if reconnect:
                        sockets[self.connect("http")] = 0
        return closed

    def poll(self, predicate, deadline=20):
        """predicate()'s first true value within the deadline, else its last value."""
        end = time.monotonic() + deadline
        while not (value := predicate()) and time.monotonic() < end:
            time.sleep(0.1)
        return value


class HttpPreAuth(ExhaustionTest):
    extra = f'[limits]\nconnections_per_ip = 1000\n[http]\nmetrics_accounts = ["{USER}"]'

    def open_http_connections(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port("http"), timeout=10)
        try:
            connection.request("GET", "/metrics", headers={"Authorization": BASIC})
            body = connection.getresponse().read().decode()
        finally:
            connection.close()
        found = re.search(r'^rampart_connections_open\{service="http"\} (\d+)', body, re.M)
        return int(found.group(1)) if found else 0

    def test_many_unfinished_headers_hold_little_memory(self):
        with self.memory_bound(150):
            for _ in range(300):
                self.connect("http").sendall(b"GET /health HTTP/1.1\r\n")
            # All accepted (the /metrics connection is one more).
            self.assertTrue(self.poll(lambda: self.open_http_connections() > 300), "300 connections open")
            self.assert_served()

    def test_bogus_credentials_are_refused_before_the_body(self):
        # A body is read only once its credentials are accepted: a bogus Authorization
        # header gets 401 at once, without the 10 MB it announces.
        sock = self.connect("http", timeout=10)
        sock.sendall(b"POST /jmap/api HTTP/1.1\r\nHost: x\r\nAuthorization: Basic eA==\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 10485759\r\n\r\n")
        self.assertTrue(sock.recv(4096).startswith(b"HTTP/1.1 401"))

    def test_slow_drip_costs_little_cpu(self):
        before = cpu_seconds(self.pid)
        self.drip(6, reconnect=True, interval=0.01)  # 400 one-byte reads a second
        self.assertLess(cpu_seconds(self.pid) - before, 2.0, "CPU seconds for 6 s of drip")
        self.assert_served()


class HttpHeaderTimeout(ExhaustionTest):
    extra = "[http]\nheader_timeout = 3"

    def test_slow_drip_is_closed_after_the_header_timeout(self):
        self.assertEqual(self.drip(15, reconnect=False), 4, "every dripping connection is closed")
        self.assert_served()


class JmapAmplification(ExhaustionTest):
    def post(self, calls, using=(CORE,), limit=25_000_000):
        """Status and decoded body of a JMAP request; fails unread over `limit` bytes."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port("http"), timeout=60)
        self.addCleanup(connection.close)
        body = json.dumps({"using": list(using), "methodCalls": calls})
        connection.request("POST", "/jmap/api", body=body,
                           headers={"Authorization": BASIC, "Content-Type": "application/json"})
        response = connection.getresponse()
        length = int(response.getheader("Content-Length", "0"))
        self.assertLess(length, limit, "the response's size")
        return response.status, json.loads(response.read())

    @staticmethod
    def references(call_id, path, count):
        return {f"#r{n}": {"resultOf": call_id, "name": "Core/echo", "path": path} for n in range(count)}

    def flat_request(self):
        return [["Core/echo", {"big": "x" * 1_000_000}, "a"],
                ["Core/echo", self.references("a", "/big", 500), "b"]]

    def test_many_references_in_one_call_are_refused(self):
        with self.memory_bound(200):
            status, body = self.post(self.flat_request(), limit=5_000_000)
        self.assertEqual(status, 200)
        [echo, refused] = body["methodResponses"]
        self.assertEqual(echo[0], "Core/echo")
        self.assertEqual((refused[0], refused[1]["type"], refused[2]), ("error", "requestTooLarge", "b"))
        self.assert_served()

    def test_chained_references_stop_at_the_request_budget(self):
        # Each call refers 16 times (within the per-call cap) to the whole answer of the
        # one before: 10 kB, 160 kB, 2.5 MB, 41 MB (past the 10 MB budget), ...
        calls = [["Core/echo", {"big": "x" * 10_000}, "c0"],
                 ["Core/echo", self.references("c0", "/big", 16), "c1"]]
        calls += [["Core/echo", self.references(f"c{n - 1}", "", 16), f"c{n}"] for n in range(2, 6)]
        with self.memory_bound(300):
            status, body = self.post(calls)
        self.assertEqual(status, 200)
        answers = body["methodResponses"]
        self.assertEqual([a[2] for a in answers], [f"c{n}" for n in range(6)])
        self.assertEqual([a[0] for a in answers[:3]], ["Core/echo"] * 3)
        self.assertEqual(len(answers[2][1]["r15"]["r15"]), 10_000)
        self.assertEqual((answers[3][0], answers[3][1]["type"]), ("error", "requestTooLarge"))
        for name, arguments, _ in answers[4:]:  # they refer to an error: nothing to copy
            self.assertEqual(name, "error")
            self.assertIn(arguments["type"], ("requestTooLarge", "invalidResultReference"))
        self.assert_served()

    def test_a_response_past_its_limit_answers_the_rest_with_errors(self):
        client = imaplib.IMAP4("127.0.0.1", self.port("imap"), timeout=30)
        client.login(USER, PASSWORD)
        line = b"y" * 998 + b"\r\n"
        client.append("INBOX", None, None, b"Subject: eight megabytes\r\n\r\n" + line * 8000)
        client.logout()
        session = http.client.HTTPConnection("127.0.0.1", self.port("http"), timeout=30)
        self.addCleanup(session.close)
        session.request("GET", "/jmap/session", headers={"Authorization": BASIC})
        account = json.loads(session.getresponse().read())["primaryAccounts"][MAIL]
        _, body = self.post([["Email/query", {"accountId": account, "filter": {"subject": "eight megabytes"}}, "q"]],
                            using=(CORE, MAIL))
        [email] = body["methodResponses"][0][1]["ids"]
        get = {"accountId": account, "ids": [email], "properties": ["bodyValues"], "fetchAllBodyValues": True}
        with self.memory_bound(300):
            status, body = self.post([["Email/get", get, c] for c in "abc"], using=(CORE, MAIL))
        self.assertEqual(status, 200)
        answers = body["methodResponses"]
        self.assertEqual([a[0] for a in answers[:2]], ["Email/get", "Email/get"])
        self.assertEqual((answers[2][0], answers[2][1]["type"], answers[2][2]), ("error", "requestTooLarge", "c"))
        self.assert_served()

    def test_many_references_over_websocket_are_refused(self):
        ws = ws_client.WebSocket(self.port("http"), BASIC, timeout=60)
        self.addCleanup(ws.close)
        request = {"@type": "Request", "id": "big", "using": [CORE], "methodCalls": self.flat_request()}
        with self.memory_bound(200):
            ws.send(ws_client.TEXT, json.dumps(request).encode())
            opcode, payload = ws.receive(max_length=5_000_000)
        self.assertEqual(opcode, ws_client.TEXT)
        answer = json.loads(payload)
        self.assertEqual((answer["@type"], answer["requestId"]), ("Response", "big"))
        refused = answer["methodResponses"][1]
        self.assertEqual((refused[0], refused[1]["type"], refused[2]), ("error", "requestTooLarge", "b"))
        self.assert_served()


class UnreadWebSocket(ExhaustionTest):
    def test_pings_from_a_client_that_never_reads(self):
        ws = ws_client.WebSocket(self.port("http"), BASIC)
        self.addCleanup(ws.close)
        pings = ws_client.frame(ws_client.PING, b"p" * 100) * 1000
        ws.sock.settimeout(2)
        with self.memory_bound(100):
            end = time.monotonic() + 10
            while time.monotonic() < end:
                try:
                    ws.sock.sendall(pings)
                except TimeoutError:  # the server stopped reading, as it should
                    break
            self.assert_served()


class CompressBomb(ExhaustionTest):
    def test_deflate_bomb_from_ten_connections(self):
        bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
        data = bomb.compress(b"a" * (64 * MIB)) + bomb.compress(b"\r\nd NOOP\r\n") + bomb.flush(zlib.Z_SYNC_FLUSH)
        with self.memory_bound(200):
            sockets = []
            for _ in range(10):
                sock = self.connect("imap", timeout=60)
                lines = sock.makefile("rb")
                lines.readline()
                sock.sendall(f"a LOGIN {USER} {PASSWORD}\r\nc COMPRESS DEFLATE\r\n".encode())
                self.assertTrue(lines.readline().startswith(b"a OK"))
                self.assertTrue(lines.readline().startswith(b"c OK"))
                sock.sendall(data)
                sockets.append(sock)
            for sock in sockets:
                self.assertTrue(self.refused_or_closed(sock), "BAD [TOOBIG] or a closed connection")
            self.assert_served()

    @staticmethod
    def refused_or_closed(sock):
        """Reads the deflated answers until BAD [TOOBIG] or the end of the connection."""
        inflate = zlib.decompressobj(-15)
        text = b""
        while len(text) < MIB:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            text += inflate.decompress(chunk)
            if re.search(rb"(^|\n)\S+ BAD \[TOOBIG\]", text):
                return True
        return False


class PreAuthLiterals(ExhaustionTest):
    services = ["imap", "http"]

    def greeted(self, source="127.0.0.1"):
        sock = self.connect("imap", source=source)
        lines = sock.makefile("rb")
        self.assertTrue(lines.readline().startswith(b"* OK"))
        return sock, lines

    def test_big_literal_before_login_gets_no_continuation(self):
        sock, lines = self.greeted()
        sock.sendall(b"a LOGIN {1048576}\r\n")
        reply = lines.readline()
        self.assertTrue(reply.startswith(b"a BAD") and b"[TOOBIG]" in reply, reply)
        self.assert_served()

    def test_small_literal_before_login_works(self):
        sock, lines = self.greeted()
        sock.sendall(b"b LOGIN {%d}\r\n" % len(USER))
        self.assertTrue(lines.readline().startswith(b"+ "))
        sock.sendall(f"{USER} {PASSWORD}\r\n".encode())
        self.assertTrue(lines.readline().startswith(b"b OK"))

    def test_big_non_synchronizing_literals_before_login(self):
        with self.memory_bound(50):
            sockets = []
            for n in range(20):  # each from an address of its own, in case they count as failed logins
                sock, lines = self.greeted(f"127.0.6.{n + 1}")
                try:
                    sock.sendall(b"c LOGIN {1048576+}\r\n" + b"u" * MIB + b" password\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # closed on the spot: fine
                sockets.append(lines)
            for lines in sockets:
                try:
                    reply = lines.readline()
                except ConnectionResetError:
                    reply = b""
                self.assertTrue(reply == b"" or (reply.startswith(b"c BAD") and b"[TOOBIG]" in reply), reply)
        self.assert_served()

    def test_big_literal_after_login_still_works(self):
        client = imaplib.IMAP4("127.0.0.1", self.port("imap"), timeout=30)
        self.addCleanup(client.logout)
        client.login(USER, PASSWORD)
        message = b"Subject: one mebibyte\r\n\r\n" + (b"z" * 1022 + b"\r\n") * 1024
        self.assertEqual(client.append("INBOX", None, None, message)[0], "OK")


class MailLoops(ExhaustionTest):
    def send(self, hops):
        received = "".join(f"Received: from hop{n}.remote.test by hop{n + 1}.remote.test; "
                           f"Mon, 23 Nov 2026 10:00:{n % 60:02d} +0000\r\n" for n in range(hops))
        with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=30) as smtp:
            smtp.sendmail("loop@remote.test", [USER],
                          f"{received}From: loop@remote.test\r\nSubject: {hops} hops\r\n\r\nround\r\n".encode())

    def test_a_message_that_went_round_too_often_is_refused(self):
        with self.assertRaises(smtplib.SMTPDataError) as refused:
            self.send(60)
        self.assertEqual(refused.exception.smtp_code, 554)
        self.assertIn(b"5.4.6", refused.exception.smtp_error)
        self.send(10)


class SmtpMessageBudget(ExhaustionTest):
    """Messages in transit share limits.message_memory_mib beyond the first MiB of
    each: big unfinished DATA from many connections is told 421, small mail still
    flows."""
    extra = "[limits]\nmessage_memory_mib = 16"

    def start_data(self):
        sock = self.connect("smtp")
        stream = sock.makefile("rb")
        stream.readline()
        for line in [b"EHLO big.test", b"MAIL FROM:<big@remote.test>", f"RCPT TO:<{USER}>".encode(), b"DATA"]:
            sock.sendall(line + b"\r\n")
            while (reply := stream.readline())[3:4] == b"-":
                pass
            self.assertIn(reply[:3], (b"250", b"354"), reply)
        return sock, stream

    def test_big_unfinished_messages_share_one_budget(self):
        with self.memory_bound(150):
            senders = [self.start_data() for _ in range(4)]
            chunk = (b"x" * 998 + b"\r\n") * 1024  # 1 MiB of lines
            refused = 0
            for sock, stream in senders:
                sock.settimeout(10)
                try:
                    for _ in range(10):  # 10 MiB each, 40 MiB in all: past 16 + 4 x 1
                        sock.sendall(chunk)
                except OSError:
                    pass  # closed after its 421
                sock.settimeout(10)
                try:
                    reply = stream.readline()
                except OSError:
                    reply = b""
                if reply.startswith(b"421"):
                    self.assertIn(b"4.3.2", reply)
                    refused += 1
            self.assertGreater(refused, 0, "no sender was told 421")
            # Small mail goes through while the others still hold the budget.
            with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=10) as smtp:
                smtp.sendmail("small@remote.test", [USER], b"Subject: small\r\n\r\nfits\r\n")
        self.assert_served()


class DiskReserve(ExhaustionTest):
    # More free space asked for than the disk has: the reserve is always short.
    disk = os.statvfs(tempfile.gettempdir())
    extra = f"[limits]\nreserve_free_mib = {disk.f_bavail * disk.f_frsize // MIB + 1000}"

    def test_deliveries_are_refused_for_now_and_an_alert_raised(self):
        with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=30) as smtp:
            with self.assertRaises(smtplib.SMTPDataError) as refused:
                smtp.sendmail("x@remote.test", [USER], b"Subject: no room\r\n\r\nx\r\n")
        self.assertEqual(refused.exception.smtp_code, 452)
        self.assertIn(b"4.3.1", refused.exception.smtp_error)
        client = imaplib.IMAP4("127.0.0.1", self.port("imap"), timeout=30)
        self.addCleanup(client.logout)
        client.login(USER, PASSWORD)
        typ, data = client.append("INBOX", None, None, b"Subject: no room\r\n\r\nx\r\n")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[OVERQUOTA]", data[0])
        alerts = self.poll(lambda: [line for line in self.instance.cli("audit", "--kind", "alert").stdout.splitlines()
                                    if "disk-low" in line])
        self.assertTrue(alerts, "a disk-low alert in the audit trail")
        logins = self.poll(lambda: self.instance.cli("audit", "--kind", "login", "--account", USER).stdout)
        self.assertIn("imap", logins, "the trail still records")


class DefaultQuota(ExhaustionTest):
    services = ["imap"]
    extra = "[limits]\ndefault_quota_mib = 7"

    def quota(self, address, instance=None):
        """The QUOTA response for the account's INBOX (None: no quota root)."""
        instance = instance or self.instance
        client = imaplib.IMAP4("127.0.0.1", instance.ports["imap"], timeout=30)
        self.addCleanup(client.logout)
        client.login(address, PASSWORD)
        return client.getquotaroot("INBOX")[1][1][0]

    def other_instance(self, extra):
        other = Instance(["imap"], extra=extra)
        self.addCleanup(other.close)
        other.add_account(USER, PASSWORD)
        other.start()
        return other

    def test_new_accounts_get_the_default_quota(self):
        self.assertEqual(self.quota(USER), b'"" (STORAGE 0 7168)')
        self.instance.add_account("later@example.test", PASSWORD)  # through the running server
        self.assertEqual(self.quota("later@example.test"), b'"" (STORAGE 0 7168)')

    def test_the_default_is_ten_gibibytes_and_zero_is_none(self):
        self.assertEqual(self.quota(USER, self.other_instance("")), b'"" (STORAGE 0 10485760)')
        self.assertIsNone(self.quota(USER, self.other_instance("[limits]\ndefault_quota_mib = 0")))


if __name__ == "__main__":
    unittest.main()
