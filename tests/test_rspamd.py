"""Spam filtering with a real rspamd (Debian's rspamd) and its Bayes classifier on a
private redis-server, offline: the test's rspamd configuration turns off every module
that looks names up (RBLs, SPF, DKIM, DMARC, fuzzy, ...) and enables rspamd's GTUBE
test patterns, whose variants ask for each action (X: reject, Y: add header, Z: rewrite
subject). On the MX: GTUBE is refused with 550 5.7.1, the add-header variant lands in
Junk marked, the rewrite-subject variant gets rspamd's Subject, a clean message lands in
INBOX with its score. With rspamd down, the default accepts the message with a header
saying so; an instance set to defer answers 451 and delivers the message once rspamd
answers again. Filing teaches rspamd: IMAP MOVE into Junk learns spam, JMAP Email/set
out of Junk learns ham, as the controller's /stat and the classifier's counts show. A
user's Sieve script reads rspamd's score through spamtest."""

import base64
import http.client
import imaplib
import json
import os
import pwd
import random
import shutil
import smtplib
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

import test_sieve  # its ManageSieve client (the module, so its tests are not run here)
from harness import Instance, free_ports

PASSWORD = "correct horse battery"
BOB = "Bob <bob@example.test>"
CONTROLLER_PASSWORD = "learn-secret"
GTUBE = "JS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
# Modules that would look names up or need what the test does not run.
DISABLED = ["rbl", "spf", "dkim", "dmarc", "arc", "asn", "fuzzy_check", "mx_check", "greylist",
            "ratelimit", "neural", "replies", "reputation", "phishing", "dkim_signing", "emails",
            "hfilter", "url_redirector", "rspamd_update", "surbl", "bimi", "external_services",
            "external_relay", "p0f", "dcc", "spamtrap", "multimap", "whitelist", "trie",
            "history_redis", "metadata_exporter", "clickhouse", "elastic", "antivirus",
            "maillist", "mid", "once_received", "force_actions", "metric_exporter"]
WORDS = ("budget meeting quarterly report project deadline schedule review agenda minutes "
         "team office lunch proposal contract invoice customer delivery planning").split()


def message(subject, body, message_id, author="Alice <alice@sender.example>"):
    return (f"From: {author}\r\nTo: Bob <bob@example.test>\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{message_id}@sender.example>\r\n"
            f"Date: Fri, 04 Dec 2026 10:00:00 +0000\r\n"
            f"X-Spam: No\r\n\r\n{body}\r\n").encode()


def prose(seed):
    rng = random.Random(seed)
    return "\r\n".join(" ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(15))


class Rspamd:
    """A private redis-server on a Unix socket and an rspamd on two loopback ports."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="rampart-rspamd-")
        self.root = self.tmp.name
        os.chmod(self.root, 0o755)
        for name in ("conf/local.d", "conf/override.d", "db", "run", "log"):
            os.makedirs(os.path.join(self.root, name))
        self.scan_port, self.controller_port = free_ports(2)
        self.redis_socket = os.path.join(self.root, "run", "redis.sock")
        files = {
            "override.d/worker-normal.inc": f'bind_socket = "127.0.0.1:{self.scan_port}";\ncount = 1;\n',
            "override.d/worker-controller.inc":
                f'bind_socket = "127.0.0.1:{self.controller_port}";\ncount = 1;\n'
                f'password = "{CONTROLLER_PASSWORD}";\nsecure_ip = "192.0.2.1";\n',
            "override.d/worker-proxy.inc": "count = -1;\n",
            "override.d/worker-fuzzy.inc": "count = -1;\n",
            "local.d/options.inc": 'dns { nameserver = ["127.0.0.1:9"]; timeout = 0.2s; '
                                   "retransmits = 1; }\nenable_test_patterns = true;\n",
            "local.d/redis.conf": f'servers = "{self.redis_socket}";\n',
            "local.d/classifier-bayes.conf": f'servers = "{self.redis_socket}";\nmin_learns = 1;\n',
        }
        for module in DISABLED:
            files[f"local.d/{module}.conf"] = "enabled = false;\n"
        for name, text in files.items():
            with open(os.path.join(self.root, "conf", name), "w") as f:
                f.write(text)
        self.user = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("_rspamd")
            for name in ("db", "run", "log"):
                os.chown(os.path.join(self.root, name), account.pw_uid, account.pw_gid)
            self.user = ["-u", "_rspamd", "-g", "_rspamd"]
        self.redis = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", self.redis_socket,
             "--unixsocketperm", "777", "--dir", os.path.join(self.root, "db"), "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.process = None
        self.start()

    def start(self):
        var = lambda name, where: ["--var", f"{name}={os.path.join(self.root, where)}"]
        self.process = subprocess.Popen(
            ["rspamd", "-f", *self.user, "-c", "/etc/rspamd/rspamd.conf",
             *var("LOCAL_CONFDIR", "conf"), *var("DBDIR", "db"), *var("RUNDIR", "run"),
             *var("LOGDIR", "log")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # rspamd compiles its URL suffixes and regular expressions first: minutes on a busy
        # machine. Ready when the normal worker answers /ping.
        end = time.monotonic() + 600
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise AssertionError("rspamd exited:\n" + self.log()[-4000:])
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.scan_port}/ping", timeout=5) as r:
                    if r.read().strip() == b"pong":
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError("rspamd did not start:\n" + self.log()[-4000:])

    def log(self):
        try:
            with open(os.path.join(self.root, "log", "rspamd.log")) as f:
                return f.read()
        except OSError:
            return ""

    def stat(self):
        request = urllib.request.Request(f"http://127.0.0.1:{self.controller_port}/stat",
                                         headers={"Password": CONTROLLER_PASSWORD})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def learns(self, kind):
        """What the classifier counted: spam or ham messages learned."""
        done = subprocess.run(["redis-cli", "-s", self.redis_socket, "HGET", "RS", f"learns_{kind}"],
                              capture_output=True, text=True, timeout=30)
        return int(done.stdout.strip() or 0)

    def close(self):
        for process in (self.process, self.redis):
            if process and process.poll() is None:
                process.terminate()
                process.wait(60)
        self.tmp.cleanup()


class Forwarder:
    """Where an rspamd that comes back listens: connections to `port` passed on to the
    real one."""

    def __init__(self, port, target):
        self.listener = socket.create_server(("127.0.0.1", port))
        self.target = target
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        self.listener.close()


class RspamdFilter(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("rspamd") or not shutil.which("redis-server"):
            raise unittest.SkipTest("rspamd and redis-server are not installed (scripts/setup)")
        cls.rspamd = Rspamd()
        extra = (f'[filter]\nsender_checks = false\n'
                 f'rspamd_url = "http://127.0.0.1:{cls.rspamd.scan_port}"\n'
                 f'rspamd_controller_url = "http://127.0.0.1:{cls.rspamd.controller_port}/"\n'
                 f'rspamd_password = "{CONTROLLER_PASSWORD}"\nrspamd_timeout = "60s"\n'
                 f'[http]\nmetrics_accounts = ["bob@example.test"]\n')
        cls.instance = Instance(["smtp", "submission", "imap", "http", "managesieve"], extra=extra)
        cls.instance.add_account("bob@example.test", PASSWORD)
        cls.instance.start()

    @classmethod
    def tearDownClass(cls):
        cls.instance.close()
        cls.rspamd.close()

    def send(self, raw, instance=None, port="smtp"):
        instance = instance or self.instance
        with smtplib.SMTP("127.0.0.1", instance.ports[port], timeout=120) as client:
            if port == "submission":
                client.login("bob@example.test", PASSWORD)
                client.sendmail("bob@example.test", ["bob@example.test"], raw)
            else:
                client.sendmail("alice@sender.example", ["bob@example.test"], raw)

    def fetch(self, mailbox, subject, instance=None):
        """The full messages in `mailbox` whose Subject holds `subject`."""
        client = imaplib.IMAP4("127.0.0.1", (instance or self.instance).ports["imap"], timeout=30)
        client.login("bob@example.test", PASSWORD)
        client.select(mailbox)
        found = client.search(None, "SUBJECT", f'"{subject}"')[1][0].split()
        raws = [client.fetch(number, "(BODY.PEEK[])")[1][0][1] for number in found]
        client.logout()
        return raws

    def metrics(self):
        return urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{self.instance.ports['http']}/metrics",
            headers={"Authorization": "Basic " + base64.b64encode(
                f"bob@example.test:{PASSWORD}".encode()).decode()}), timeout=30).read().decode()

    def test_gtube_is_refused_at_data(self):
        with self.assertRaises(smtplib.SMTPDataError) as refused:
            self.send(message("gtube", "X" + GTUBE, "gtube"))
        self.assertEqual(refused.exception.smtp_code, 550)
        self.assertIn(b"5.7.1", refused.exception.smtp_error)
        self.assertEqual(self.fetch("INBOX", "gtube") + self.fetch("Junk", "gtube"), [])
        records = self.instance.wait_for_audit(
            lambda r: any(x["kind"] == "refused" for x in r), "--limit", "1000")
        self.assertTrue(any(x["kind"] == "refused" and "spam" in x["detail"] for x in records),
                        records)
        self.assertRegex(self.metrics(), r'rampart_rspamd_total\{result="reject"\} [1-9]')

    def test_add_header_lands_in_junk_marked(self):
        self.send(message("probably spam", "Y" + GTUBE, "addheader"))
        self.assertEqual(self.fetch("INBOX", "probably spam"), [])
        [raw] = self.fetch("Junk", "probably spam")
        self.assertIn(b"X-Spamd-Result: add header; 6.00 / 15.00", raw)
        self.assertIn(b"X-Spam: Yes\r\n", raw)
        self.assertNotIn(b"X-Spam: No", raw)  # what the sender wrote is gone

    def test_rewrite_subject_takes_rspamds_subject(self):
        self.send(message("rewrite me", "Z" + GTUBE, "rewrite"))
        [raw] = self.fetch("INBOX", "rewrite me")
        self.assertIn(b"\r\nSubject: *** SPAM *** rewrite me\r\n", raw)
        self.assertIn(b"X-Spamd-Result: rewrite subject;", raw)

    def test_clean_mail_is_delivered_with_its_score(self):
        self.send(message("quarterly", prose(1), "clean"))
        [raw] = self.fetch("INBOX", "quarterly")
        self.assertIn(b"X-Spamd-Result: no action; ", raw)
        self.assertNotIn(b"X-Spam: ", raw)
        # The delivery's audit record says what rspamd said.
        records = self.instance.wait_for_audit(
            lambda r: any(x["kind"] == "delivery" and "rspamd no action" in x["detail"] for x in r),
            "--limit", "1000")
        self.assertTrue(any(x["kind"] == "delivery" and "rspamd no action" in x["detail"]
                            for x in records), records)

    def test_submission_is_refused_only_for_reject(self):
        with self.assertRaises(smtplib.SMTPDataError) as refused:
            self.send(message("outgoing gtube", "X" + GTUBE, "out1", BOB), port="submission")
        self.assertEqual(refused.exception.smtp_code, 550)
        # Add header on submission: delivered as it is, no spam fields on mail leaving.
        self.send(message("outgoing maybe", "Y" + GTUBE, "out2", BOB), port="submission")
        [raw] = self.fetch("INBOX", "outgoing maybe")
        self.assertNotIn(b"X-Spamd-Result", raw)

    def test_filing_teaches_rspamd(self):
        self.send(message("learn me", prose(2), "learn"))
        [raw] = self.fetch("INBOX", "learn me")
        learned = self.rspamd.stat()["learned"]
        spam, ham = self.rspamd.learns("spam"), self.rspamd.learns("ham")
        # IMAP MOVE into Junk: learned as spam.
        client = imaplib.IMAP4("127.0.0.1", self.instance.ports["imap"], timeout=30)
        client.login("bob@example.test", PASSWORD)
        client.select("INBOX")
        [uid] = client.uid("SEARCH", None, "SUBJECT", '"learn me"')[1][0].split()
        self.assertEqual(client.uid("MOVE", uid, "Junk")[0], "OK")
        client.logout()
        self.wait(lambda: self.rspamd.learns("spam") > spam, "learned as spam")
        self.assertGreater(self.rspamd.stat()["learned"], learned)
        # JMAP Email/set out of Junk into INBOX: learned as ham.
        jmap = http.client.HTTPConnection("127.0.0.1", self.instance.ports["http"], timeout=30)
        token = base64.b64encode(f"bob@example.test:{PASSWORD}".encode()).decode()
        headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}

        def call(name, arguments):
            body = {"using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
                    "methodCalls": [[name, arguments, "c"]]}
            jmap.request("POST", "/jmap/api", body=json.dumps(body), headers=headers)
            response = jmap.getresponse()
            self.assertEqual(response.status, 200)
            return json.loads(response.read())["methodResponses"][0][1]

        jmap.request("GET", "/jmap/session", headers=headers)
        session = json.loads(jmap.getresponse().read())
        account = session["primaryAccounts"]["urn:ietf:params:jmap:mail"]
        mailboxes = {m["role"]: m["id"] for m in call("Mailbox/get", {"accountId": account})["list"]}
        [email] = call("Email/query", {"accountId": account,
                                       "filter": {"inMailbox": mailboxes["junk"],
                                                  "subject": "learn me"}})["ids"]
        updated = call("Email/set", {"accountId": account,
                                     "update": {email: {"mailboxIds": {mailboxes["inbox"]: True}}}})
        self.assertIn(email, updated.get("updated") or {}, updated)
        jmap.close()
        self.wait(lambda: self.rspamd.learns("ham") > ham, "learned as ham")
        self.assertRegex(self.metrics(), r'rampart_rspamd_learn_total\{result="ham"\} [1-9]')

    def test_sieve_spamtest_reads_rspamds_score(self):
        """The add-header GTUBE scores 6 of 15: spamtest 5 (RFC 5235), which the user's
        script files; a clean message scores 1 and is kept."""
        client = test_sieve.Sieve(self.instance.ports["managesieve"])
        try:
            client.login("bob@example.test", PASSWORD)
            client.put("spam", 'require ["spamtest", "relational", "comparator-i;ascii-numeric",'
                               ' "fileinto", "mailbox"];\r\n'
                               'if spamtest :value "ge" :comparator "i;ascii-numeric" "5" {\r\n'
                               '  fileinto :create "Spamtest";\r\n}\r\n')
            self.send(message("scored five", "Y" + GTUBE, "spamtest1"))
            self.send(message("scored one", prose(6), "spamtest2"))
            self.assertEqual(len(self.fetch("Spamtest", "scored five")), 1)
            self.assertEqual(len(self.fetch("INBOX", "scored one")), 1)
        finally:
            client.command('SETACTIVE ""')
            client.close()

    def test_rspamd_down(self):
        """Down by default: accepted with a header, as is a message over the size limit.
        Set to defer: 451, then delivered once rspamd answers again (here: on the port
        the instance was given)."""
        [dead_port] = free_ports(1)
        for accept in ("true", "false"):
            extra = (f'[filter]\nsender_checks = false\n'
                     f'rspamd_url = "http://127.0.0.1:{dead_port}"\n'
                     f'rspamd_accept_unscanned = {accept}\nrspamd_max_size_mib = 1\n')
            instance = Instance(["smtp", "imap"], extra=extra)
            try:
                instance.add_account("bob@example.test", PASSWORD)
                instance.start()
                if accept == "true":
                    self.send(message("unscanned", prose(3), "down1"), instance)
                    [raw] = self.fetch("INBOX", "unscanned", instance)
                    self.assertIn(b"X-Spamd-Result: unscanned (rspamd at 127.0.0.1:", raw)
                    # Over rspamd_max_size_mib: not sent to rspamd at all.
                    filler = ("x" * 76 + "\r\n") * 16000
                    self.send(message("oversized", prose(5) + "\r\n" + filler, "big"), instance)
                    [raw] = self.fetch("INBOX", "oversized", instance)
                    self.assertIn(b"X-Spamd-Result: unscanned (too big: ", raw)
                    continue
                with self.assertRaises(smtplib.SMTPDataError) as deferred:
                    self.send(message("deferred", prose(4), "down2"), instance)
                self.assertEqual(deferred.exception.smtp_code, 451)
                self.assertIn(b"4.7.1", deferred.exception.smtp_error)
                self.assertEqual(self.fetch("INBOX", "deferred", instance), [])
                forwarder = Forwarder(dead_port, self.rspamd.scan_port)
                try:
                    self.send(message("deferred", prose(4), "down2"), instance)
                finally:
                    forwarder.close()
                [raw] = self.fetch("INBOX", "deferred", instance)
                self.assertIn(b"X-Spamd-Result: no action; ", raw)
            finally:
                instance.close()

    def wait(self, predicate, what, deadline=60):
        end = time.monotonic() + deadline
        while not predicate():
            if time.monotonic() > end:
                raise AssertionError(f"not {what} within {deadline} s:\n" +
                                     self.instance.log_text()[-3000:])
            time.sleep(0.2)


if __name__ == "__main__":
    unittest.main()
