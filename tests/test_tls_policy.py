"""The TLS policy of outbound delivery against real servers on loopback, strictest
first (docs/delivery.md "TLS policy"): Knot serves signed and unsigned zones whose MX
is one real Postfix on 127.0.0.5:25, with a certificate from a test CA naming
mx.dane.example and mx.sts.example; an HTTPS server on 127.0.0.4:443 serves MTA-STS
policies. Cases:
- DANE: a validated TLSA record matching the certificate, delivered over authenticated
  TLS; one that does not match (DANE-EE and DANE-TA), deferred with 4.7.5 and never
  sent, in the clear or otherwise; the same mismatch with `dane = "off"` for the domain,
  delivered opportunistically.
- MTA-STS enforce: the certificate names the MX, delivered with it verified; it does
  not, deferred; the policy's MX list leaves the host out, deferred. Testing mode with a
  wrong certificate: delivered anyway.
- require_tls for an unsigned domain whose MX's certificate does not name it: deferred.
- TLS reports (RFC 8460): the domains that publish `_smtp._tls` get, each period, a
  report of the sessions to them: successes, and each failure with its result type.
Each recipient's outcome and TLS is on its queue entry (`rampart queue list`)."""

import email
import gzip
import hashlib
import http.server
import imaplib
import json
import os
import smtplib
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from harness import Instance, openssl
from knot_zone import KnotZones
from postfix_sink import PostfixSink

PASSWORD = "correct horse battery"
RUA = '_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.test"\n'
HTTPS_ADDRESS = "127.0.0.4"
MX_ADDRESS = "127.0.0.5"  # not test_outbound's 127.0.0.2: the two may run at once


def zone(name, extra="", mx_host="mx"):
    return f"""$ORIGIN {name}.
$TTL 300
@ SOA ns.{name}. admin.{name}. 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.3
@ MX 10 {mx_host}
mx A {MX_ADDRESS}
mta-sts A {HTTPS_ADDRESS}
{extra}"""


def spki_sha256(cert_path):
    der = subprocess.run(["openssl", "x509", "-in", cert_path, "-noout", "-pubkey"],
                         check=True, capture_output=True).stdout
    spki = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=der,
                          check=True, capture_output=True).stdout
    return hashlib.sha256(spki).hexdigest()


def cert_sha256(cert_path):
    der = subprocess.run(["openssl", "x509", "-in", cert_path, "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


POLICIES = {
    "mta-sts.sts.example": "version: STSv1\r\nmode: enforce\r\nmx: mx.sts.example\r\nmax_age: 86400\r\n",
    # The MX's certificate does not name mx.badcert.example.
    "mta-sts.badcert.example": "version: STSv1\r\nmode: enforce\r\nmx: mx.badcert.example\r\nmax_age: 86400\r\n",
    # The policy names another host than the MX.
    "mta-sts.othermx.example": "version: STSv1\nmode: enforce\nmx: *.elsewhere.example\nmax_age: 86400\n",
    "mta-sts.many.example": "version: STSv1\r\nmode: enforce\r\nmx: mx.many.example\r\nmax_age: 86400\r\n",
    # Over the 64 KiB a policy may have: the fetch stops reading, and no policy holds.
    "mta-sts.huge.example": "version: STSv1\r\nmode: enforce\r\nmx: elsewhere.example\r\n"
                            "max_age: 86400\r\n" + "x-padding: " + "x" * 100_000 + "\r\n",
    "mta-sts.testing.example": "version: STSv1\r\nmode: testing\r\nmx: mx.testing.example\r\nmax_age: 86400\r\n",
}


class PolicyServer(http.server.BaseHTTPRequestHandler):
    requests = []

    def do_GET(self):
        host = self.headers.get("Host", "")
        PolicyServer.requests.append((host, self.path))
        body = POLICIES.get(host)
        if self.path != "/.well-known/mta-sts.txt" or body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


class TlsPolicy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="rampart-tls-policy-")
        os.chmod(cls.tmp.name, 0o755)  # the server's user reads the CA file
        path = lambda name: os.path.join(cls.tmp.name, name)
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2",
                "-subj", "/CN=Rampart test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        os.chmod(path("ca.pem"), 0o644)
        # The MX: named for two of the domains, not for the others.
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", path("mx.key"), "-out",
                path("mx.pem"), "-days", "2", "-subj", "/CN=mx.dane.example", "-CA",
                path("ca.pem"), "-CAkey", path("ca.key"), "-addext",
                "subjectAltName=DNS:mx.dane.example,DNS:mx.sts.example,DNS:mx.lax.example,"
                "DNS:mx.tamail.example,DNS:mx.many.example")
        # The policy server: every mta-sts name.
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", path("sts.key"), "-out", path("sts.pem"), "-days", "2",
                "-subj", "/CN=mta-sts", "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
                "-addext", "subjectAltName=" + ",".join("DNS:" + name for name in POLICIES))
        # A CA of no one's: DANE-TA naming it does not match.
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", path("other.key"), "-out", path("other.pem"), "-days", "2",
                "-subj", "/CN=Another CA")
        # Postfix sends the chain: DANE-TA needs the trust anchor in it (RFC 7672 3.1.1).
        with open(path("mx-chain.pem"), "w") as chain:
            for part in ("mx.pem", "ca.pem"):
                with open(path(part)) as pem:
                    chain.write(pem.read())
        good_ee = spki_sha256(path("mx.pem"))
        wrong_ee = hashlib.sha256(b"not this key").hexdigest()
        ca_ta = cert_sha256(path("ca.pem"))
        other_ta = cert_sha256(path("other.pem"))
        zones = {
            "dane.example": zone("dane.example", f"_25._tcp.mx TLSA 3 1 1 {good_ee}\n" + RUA),
            "wrong.example": zone("wrong.example", f"_25._tcp.mx TLSA 3 1 1 {wrong_ee}\n" + RUA),
            "tamail.example": zone("tamail.example", f"_25._tcp.mx TLSA 2 0 1 {ca_ta}\n"),
            "wrongta.example": zone("wrongta.example", f"_25._tcp.mx TLSA 2 0 1 {other_ta}\n"),
            "lax.example": zone("lax.example", f"_25._tcp.mx TLSA 3 1 1 {wrong_ee}\n"),
            "sts.example": zone("sts.example", '_mta-sts TXT "v=STSv1; id=1"\n'),
            "badcert.example": zone("badcert.example", '_mta-sts TXT "v=STSv1; id=1"\n' + RUA),
            "othermx.example": zone("othermx.example", '_mta-sts TXT "v=STSv1; id=1"\n'),
            "testing.example": zone("testing.example", '_mta-sts TXT "v=STSv1; id=1"\n'),
            "many.example": zone("many.example", '_mta-sts TXT "v=STSv1; id=1"\n'),
            "huge.example": zone("huge.example", '_mta-sts TXT "v=STSv1; id=1"\n'),
            "strict.example": zone("strict.example"),
        }
        signed = {"dane.example", "wrong.example", "tamail.example", "wrongta.example",
                  "lax.example"}
        cls.dns = KnotZones(zones, signed=signed).__enter__()
        cls.sink = PostfixSink(address=MX_ADDRESS, port=25, domains=tuple(zones),
                               tls=(path("mx-chain.pem"), path("mx.key")))
        cls.sink.start()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(path("sts.pem"), path("sts.key"))
        cls.https = http.server.ThreadingHTTPServer((HTTPS_ADDRESS, 443), PolicyServer)
        cls.https.socket = context.wrap_socket(cls.https.socket, server_side=True)
        threading.Thread(target=cls.https.serve_forever, daemon=True).start()
        extra = (cls.dns.delivery_config() + f'ca_file = "{path("ca.pem")}"\n'
                 'tls_report_period = "4s"\nreport_from = "tls-reports@example.test"\n'
                 '[delivery.domains."lax.example"]\ndane = "off"\n'
                 '[delivery.domains."strict.example"]\nrequire_tls = true\n')
        cls.instance = Instance(["submission", "imap"], extra=extra)
        cls.instance.add_account("alice@example.test", PASSWORD)
        cls.instance.add_account("tlsrpt@example.test", PASSWORD)
        cls.instance.start()

    @classmethod
    def tearDownClass(cls):
        cls.instance.close()
        cls.https.shutdown()
        cls.https.server_close()
        cls.sink.stop()
        cls.dns.__exit__(None, None, None)
        cls.tmp.cleanup()

    def submit(self, recipient):
        subject = recipient.replace("@", "-at-")
        message = (f"From: alice@example.test\r\nTo: {recipient}\r\nSubject: {subject}\r\n"
                   f"Message-ID: <{subject}@example.test>\r\n\r\nFor {recipient}.\r\n").encode()
        with smtplib.SMTP("127.0.0.1", self.instance.ports["submission"], timeout=30) as client:
            client.login("alice@example.test", PASSWORD)
            client.sendmail("alice@example.test", [recipient], message)

    def queued_line(self, recipient, timeout=60):
        """The queue's line for `recipient` once its first attempt was made."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            listed = self.instance.cli("queue", "list").stdout
            line = next((l for l in listed.splitlines() if f"<{recipient}>" in l), "")
            if " deferred " in line or " failed " in line:
                return line
            time.sleep(0.2)
        self.fail(f"no attempt for {recipient}: {listed}")

    def assert_never_sent(self, recipient):
        time.sleep(0.5)
        self.assertEqual(self.sink.messages(recipient), [])

    def test_dane_ee_match_is_delivered_authenticated(self):
        self.submit("bob@dane.example")
        [received] = self.sink.wait_for("bob@dane.example", count=1, timeout=60)
        self.assertIn(b"with ESMTPS", received)
        self.instance.wait_for_log("to <bob@dane.example> via mx.dane.example[127.0.0.5] dane TLS")

    def test_dane_ta_match_is_delivered(self):
        self.submit("bob@tamail.example")
        self.sink.wait_for("bob@tamail.example", count=1, timeout=60)
        self.instance.wait_for_log("to <bob@tamail.example> via mx.tamail.example[127.0.0.5] dane TLS")

    def test_dane_mismatch_defers_and_never_sends(self):
        for recipient in ("bob@wrong.example", "bob@wrongta.example"):
            self.submit(recipient)
            line = self.queued_line(recipient)
            self.assertIn("deferred  451 4.7.5", line)
            self.assertIn("certificate not accepted (dane)", line)
            self.assert_never_sent(recipient)

    def test_dane_off_for_a_domain_delivers_opportunistically(self):
        self.submit("bob@lax.example")
        [received] = self.sink.wait_for("bob@lax.example", count=1, timeout=60)
        self.assertIn(b"with ESMTPS", received)

    def test_mta_sts_enforce_delivers_with_a_verified_certificate(self):
        self.submit("bob@sts.example")
        self.sink.wait_for("bob@sts.example", count=1, timeout=60)
        self.instance.wait_for_log("to <bob@sts.example> via mx.sts.example[127.0.0.5] verify TLS")
        self.assertIn(("mta-sts.sts.example", "/.well-known/mta-sts.txt"), PolicyServer.requests)

    def test_mta_sts_policy_is_fetched_once_for_many_connections(self):
        recipients = [f"r{n}@many.example" for n in range(8)]
        threads = [threading.Thread(target=self.submit, args=(r,)) for r in recipients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for recipient in recipients:
            self.sink.wait_for(recipient, count=1, timeout=60)
        fetched = [r for r in PolicyServer.requests if r[0] == "mta-sts.many.example"]
        self.assertEqual(len(fetched), 1, PolicyServer.requests)

    def test_an_oversized_mta_sts_policy_is_not_read_whole_nor_enforced(self):
        self.submit("bob@huge.example")
        # The policy (naming another MX) is refused for its size, so the MX is used.
        self.sink.wait_for("bob@huge.example", count=1, timeout=60)
        self.instance.wait_for_log("MTA-STS policy of huge.example: mta-sts.huge.example: "
                                   "the policy is over 64 KiB")

    def test_mta_sts_enforce_with_a_wrong_certificate_defers(self):
        self.submit("bob@badcert.example")
        line = self.queued_line("bob@badcert.example")
        self.assertIn("deferred  451 4.7.5", line)
        self.assertIn("certificate not accepted (verify)", line)
        self.assert_never_sent("bob@badcert.example")

    def test_mta_sts_enforce_skips_an_mx_the_policy_does_not_name(self):
        self.submit("bob@othermx.example")
        line = self.queued_line("bob@othermx.example")
        self.assertIn("not an MX host of othermx.example's MTA-STS policy", line)
        self.assert_never_sent("bob@othermx.example")

    def test_mta_sts_testing_delivers_despite_a_wrong_certificate(self):
        self.submit("bob@testing.example")
        self.sink.wait_for("bob@testing.example", count=1, timeout=60)
        self.instance.wait_for_log("MTA-STS (testing) for testing.example: 451 4.7.5")
        self.instance.wait_for_log(
            "to <bob@testing.example> via mx.testing.example[127.0.0.5] opportunistic TLS")

    def test_require_tls_defers_when_the_certificate_does_not_name_the_mx(self):
        self.submit("bob@strict.example")
        line = self.queued_line("bob@strict.example")
        self.assertIn("deferred  451 4.7.5", line)
        self.assert_never_sent("bob@strict.example")

    def reports(self):
        """The TLS reports in tlsrpt@'s INBOX: (mail, JSON) pairs."""
        client = imaplib.IMAP4("127.0.0.1", self.instance.ports["imap"], timeout=30)
        client.login("tlsrpt@example.test", PASSWORD)
        count = int(client.select("INBOX")[1][0])
        found = []
        for n in range(1, count + 1):
            mail = email.message_from_bytes(client.fetch(str(n), "(BODY.PEEK[])")[1][0][1])
            for part in mail.walk():
                if part.get_content_type() == "application/tlsrpt+gzip":
                    found.append((mail, json.loads(gzip.decompress(part.get_payload(decode=True)))))
        client.logout()
        return found

    def test_tls_reports_tell_each_domain_its_successes_and_failures(self):
        self.submit("carol@dane.example")
        self.submit("carol@wrong.example")
        self.submit("carol@badcert.example")
        self.sink.wait_for("carol@dane.example", count=1, timeout=60)
        wanted = {"dane.example", "wrong.example", "badcert.example"}
        end = time.monotonic() + 60
        while True:
            found = {mail["TLS-Report-Domain"] for mail, _ in self.reports()}
            if wanted <= found or time.monotonic() > end:
                break
            time.sleep(0.5)
        by_domain = {}
        for mail, report in self.reports():
            self.assertEqual(mail["TLS-Report-Submitter"], "example.test")  # report_from's
            self.assertEqual(mail.get_content_type(), "multipart/report")
            self.assertEqual(mail.get_param("report-type"), "tlsrpt")
            self.assertEqual(report["organization-name"], "mail.test")
            by_domain.setdefault(mail["TLS-Report-Domain"], []).append(report)
        self.assertTrue(wanted <= set(by_domain), by_domain.keys())
        # No record, no report: lax.example publishes none.
        self.assertNotIn("lax.example", by_domain)

        def policies(domain):
            return [p for report in by_domain[domain] for p in report["policies"]]

        dane = [p for p in policies("dane.example") if p["policy"]["policy-type"] == "tlsa"]
        self.assertTrue(dane)
        self.assertGreaterEqual(sum(p["summary"]["total-successful-session-count"] for p in dane), 1)
        self.assertEqual(dane[0]["policy"]["policy-domain"], "mx.dane.example")
        self.assertRegex(dane[0]["policy"]["policy-string"][0], r"^3 1 1 [0-9a-f]{64}$")

        wrong = [p for p in policies("wrong.example") if p["policy"]["policy-type"] == "tlsa"]
        failures = [f for p in wrong for f in p.get("failure-details", [])]
        self.assertTrue(failures)
        self.assertEqual(failures[0]["result-type"], "validation-failure")
        self.assertEqual(failures[0]["receiving-mx-hostname"], "mx.wrong.example")
        self.assertEqual(failures[0]["receiving-ip"], MX_ADDRESS)
        self.assertEqual(sum(p["summary"]["total-successful-session-count"] for p in wrong), 0)

        sts = [p for p in policies("badcert.example") if p["policy"]["policy-type"] == "sts"]
        self.assertTrue(sts)
        self.assertIn("mode: enforce", sts[0]["policy"]["policy-string"])
        self.assertEqual(sts[0]["policy"]["mx-host"], ["mx.badcert.example"])
        failures = [f for p in sts for f in p.get("failure-details", [])]
        self.assertIn("certificate-host-mismatch", {f["result-type"] for f in failures})


if __name__ == "__main__":
    unittest.main()
