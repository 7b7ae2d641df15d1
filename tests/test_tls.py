"""TLS on every listener, judged by testssl.sh (Debian's), and the self-signed pair
the server makes and renews when no certificate is configured."""

import concurrent.futures
import datetime
import json
import os
import socket
import ssl
import subprocess
import tempfile
import unittest

from harness import Instance, InstanceTest, make_ca_signed_pair, openssl, readable_by_server

SEVERITIES = ["OK", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]


def not_after(cert_path):
    text = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", cert_path],
                          check=True, capture_output=True, text=True).stdout
    return datetime.datetime.strptime(text.strip().split("=", 1)[1], "%b %d %H:%M:%S %Y %Z")


class TestSslTest(unittest.TestCase):
    """testssl.sh against each TLS listener (STARTTLS ones through their protocol);
    any finding of severity MEDIUM or above fails.

    Every listener serves the one TLS context (net/tls.cc), so the whole scan (about 150 s
    of CPU each) runs on one STARTTLS listener, one implicit-TLS mail listener and HTTPS;
    the others are checked for the protocols they offer, which is what their own
    handshake path could change."""

    # (service, testssl's STARTTLS protocol or None for implicit TLS, whole scan)
    LISTENERS = [("smtp", "smtp", True), ("submission", "smtp", False),
                 ("submissions", None, False), ("imap", "imap", False), ("imaps", None, True),
                 ("pop3", "pop3", False), ("pop3s", None, False), ("https", None, True)]

    def test_no_finding_of_medium_or_above_on_any_listener(self):
        work = tempfile.TemporaryDirectory(prefix="rampart-testssl-")
        self.addCleanup(work.cleanup)
        ca, cert, key = make_ca_signed_pair(work.name)
        readable_by_server(cert, key)
        instance = Instance([service for service, _, _ in self.LISTENERS],
                            extra=f'[tls]\ncert = "{cert}"\nkey = "{key}"')
        self.addCleanup(instance.close)
        instance.start()

        def scan(listener):
            service, starttls, whole = listener
            report = os.path.join(work.name, f"{service}.json")
            # Protocols, cipher categories, forward secrecy, certificate and server
            # defaults, cipher order and the known vulnerabilities; not the per-cipher
            # listing or client simulation, which rate nothing.
            checks = ["-p", "-s", "-f", "-S", "-P", "-U"] if whole else ["-p"]
            command = ["testssl", "--quiet", "--warnings", "off", "--color", "0",
                       "--add-ca", ca, "--ip", "127.0.0.1", *checks,
                       "--severity", "MEDIUM", "--jsonfile", report]
            if starttls:
                command += ["-t", starttls]
            command.append(f"mail.test:{instance.ports[service]}")
            run = subprocess.run(command, capture_output=True, text=True, timeout=900)
            with open(report) as f:
                findings = json.load(f)
            return service, run, findings

        with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
            results = list(pool.map(scan, self.LISTENERS))
        for service, run, findings in results:
            with self.subTest(listener=service):
                # A scan that could not connect reports "scanProblem" and nothing else.
                self.assertFalse(any(f["id"] == "scanProblem" for f in findings), run.stdout[-2000:])
                serious = [f"{f['id']} {f['severity']}: {f['finding']}" for f in findings
                           if f["severity"] in SEVERITIES[SEVERITIES.index("MEDIUM"):]]
                self.assertEqual(serious, [], run.stdout[-4000:])


class SelfSignedTest(InstanceTest):
    services = ["imaps"]

    def cert_path(self):
        return os.path.join(self.instance.data, "tls", "cert.pem")

    def served_not_after(self):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", self.instance.ports["imaps"]), timeout=10) as raw:
            with context.wrap_socket(raw) as tls:
                der = tls.getpeercert(binary_form=True)
        pem = ssl.DER_cert_to_PEM_cert(der)
        path = os.path.join(self.instance.dir.name, "served.pem")
        with open(path, "w") as f:
            f.write(pem)
        return not_after(path)

    def test_made_for_at_most_398_days(self):
        self.instance.start()
        self.assertIn("made a self-signed certificate", self.instance.log_text())
        days = (self.served_not_after() - datetime.datetime.utcnow()).days
        self.assertGreater(days, 300)
        self.assertLessEqual(days, 398)

    def test_renewed_when_about_to_expire(self):
        tls_dir = os.path.join(self.instance.data, "tls")
        os.makedirs(tls_dir)
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", os.path.join(tls_dir, "key.pem"), "-out", self.cert_path(),
                "-days", "10", "-subj", "/CN=mail.test")
        self.instance.start()
        self.assertIn("made a self-signed certificate", self.instance.log_text())
        self.assertGreater((self.served_not_after() - datetime.datetime.utcnow()).days, 300)

    def test_kept_while_valid(self):
        self.instance.start()
        first = not_after(self.cert_path())
        self.instance.stop()
        self.instance.log.clear()
        self.instance.start()
        self.assertNotIn("made a self-signed certificate", self.instance.log_text())
        self.assertEqual(not_after(self.cert_path()), first)


if __name__ == "__main__":
    unittest.main()
