"""`rampart serve`: listeners, TLS, a greeting on each, clean shutdown."""

import imaplib
import os
import poplib
import pwd
import shutil
import socket
import signal
import smtplib
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from harness import RAMPART, Instance, InstanceTest, readable_by_server


class Serve(InstanceTest):
    def test_logs_listeners_answers_and_stops_on_sigterm(self):
        instance = self.instance
        instance.start()
        for service, port in instance.ports.items():
            self.assertIn(f"listening on 127.0.0.1:{port} ({service})", instance.log_text())
        self.assertIn("self-signed certificate", instance.log_text())

        with smtplib.SMTP("127.0.0.1", instance.ports["smtp"], timeout=10) as client:
            self.assertEqual(client.noop()[0], 250)

        with imaplib.IMAP4("127.0.0.1", instance.ports["imap"], timeout=10) as client:
            self.assertIn("STARTTLS", client.capabilities)

        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with imaplib.IMAP4_SSL("127.0.0.1", instance.ports["imaps"], ssl_context=context,
                               timeout=10) as client:
            self.assertIn("AUTH=PLAIN", client.capabilities)

        client = poplib.POP3("127.0.0.1", instance.ports["pop3"], timeout=10)
        self.assertIn("STLS", client.capa())
        client.quit()
        client = poplib.POP3_SSL("127.0.0.1", instance.ports["pop3s"], timeout=10, context=context)
        self.assertTrue(client.getwelcome().startswith(b"+OK"))
        client.quit()

        with urllib.request.urlopen(f"http://127.0.0.1:{instance.ports['http']}/health",
                                    timeout=10) as health:
            self.assertEqual(health.status, 200)

        self.assertEqual(instance.stop(signal.SIGTERM), 0)
        self.assertIn("received SIGTERM", instance.log_text())
        self.assertIn("stopped", instance.log_text())

    def test_tls_is_1_2_or_newer(self):
        self.instance.start()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.maximum_version = ssl.TLSVersion.TLSv1_1
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("ALL:@SECLEVEL=0")
        import socket
        with socket.create_connection(("127.0.0.1", self.instance.ports["imaps"]), timeout=10) as raw:
            with self.assertRaises(ssl.SSLError):
                context.wrap_socket(raw).do_handshake()

    def test_port_in_use_refuses_to_start(self):
        import socket
        holder = socket.socket()
        holder.bind(("127.0.0.1", self.instance.ports["imap"]))
        holder.listen()
        self.addCleanup(holder.close)
        result = self.instance.cli("serve")
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"cannot listen on 127.0.0.1:{self.instance.ports['imap']}", result.stderr)


def landlock_abi():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.syscall(444, None, 0, 1)  # landlock_create_ruleset(VERSION)


class TlsReload(unittest.TestCase):
    """SIGHUP: new connections get the certificate now in the files; a connection that
    is open keeps working; a broken pair is refused and the old one stays."""

    def make_pair(self, directory, name, common_name):
        cert, key = os.path.join(directory, f"{name}.crt"), os.path.join(directory, f"{name}.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-days", "2", "-subj", f"/CN={common_name}", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        return cert, key

    def served_certificate(self, port):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with context.wrap_socket(raw) as tls:
                return tls.getpeercert(binary_form=True)

    @unittest.skipUnless(landlock_abi() >= 1, "no Landlock in this kernel")
    def test_only_the_configured_key_is_readable(self):
        # Another key beside ours (as in /etc/ssl/private) stays out of reach, even
        # renamed into our key's place: the rule is for the configured file, not its
        # directory; a key rewritten in place is still read on SIGHUP.
        work = tempfile.mkdtemp(prefix="rampart-tls-")
        self.addCleanup(shutil.rmtree, work, True)
        cert, key = self.make_pair(work, "ours", "ours.test")
        other_cert, other_key = self.make_pair(work, "other", "other.test")
        readable_by_server(cert, key, other_cert, other_key)
        instance = Instance(["imaps"], extra=f'[tls]\ncert = "{cert}"\nkey = "{key}"')
        self.addCleanup(instance.close)
        instance.start()
        confined = next(line for line in instance.log if "confined:" in line)
        self.assertNotIn(work + " ", confined + " ")
        self.assertNotIn("/etc/ssl ", confined + " ")
        self.assertIn(key, confined)
        with open(other_key, "rb") as f:
            other = f.read()
        with open(key, "wb") as f:  # the same file, new bytes: readable
            f.write(other)
        instance.process.send_signal(signal.SIGHUP)
        instance.wait_for_log("reload failed, keeping the old certificate")  # key and cert differ
        os.replace(other_key, key)  # another file in its place: not readable
        shutil.copy(other_cert, cert)
        instance.process.send_signal(signal.SIGHUP)
        end = time.monotonic() + 10
        while instance.log_text().count("reload failed") < 2 and time.monotonic() < end:
            time.sleep(0.05)
        self.assertIn("Permission denied", instance.log_text().split("reload failed")[-1])

    def test_sighup_reloads_the_certificate_without_dropping_connections(self):
        work = tempfile.mkdtemp(prefix="rampart-tls-")
        self.addCleanup(shutil.rmtree, work, True)
        cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
        first = self.make_pair(work, "first", "first.test")
        second = self.make_pair(work, "second", "second.test")
        shutil.copy(first[0], cert)
        shutil.copy(first[1], key)
        readable_by_server(cert, key)
        instance = Instance(["imaps"], extra=f'[tls]\ncert = "{cert}"\nkey = "{key}"')
        self.addCleanup(instance.close)
        instance.start()
        port = instance.ports["imaps"]
        with open(first[0]) as f:
            first_der = ssl.PEM_cert_to_DER_cert(f.read())
        self.assertEqual(self.served_certificate(port), first_der)

        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        held = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=context, timeout=10)

        shutil.copy(second[0], cert)
        shutil.copy(second[1], key)
        instance.process.send_signal(signal.SIGHUP)
        instance.wait_for_log("certificate and key reloaded")
        with open(second[0]) as f:
            self.assertEqual(self.served_certificate(port), ssl.PEM_cert_to_DER_cert(f.read()))
        self.assertEqual(held.noop()[0], "OK")

        with open(key, "w") as f:
            f.write("not a key")
        instance.process.send_signal(signal.SIGHUP)
        instance.wait_for_log("reload failed, keeping the old certificate")
        with open(second[0]) as f:
            self.assertEqual(self.served_certificate(port), ssl.PEM_cert_to_DER_cert(f.read()))
        held.logout()


class LeastPrivilege(InstanceTest):
    """Started as root, the server binds its ports, confines itself with Landlock and
    runs as the user `rampart` (docs/architecture.md, rule 5)."""

    services = ["imap"]

    def status(self):
        with open(f"/proc/{self.instance.process.pid}/status") as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)

    @unittest.skipUnless(os.geteuid() == 0, "needs root")
    def test_runs_as_the_service_user_without_capabilities(self):
        user = pwd.getpwnam("rampart")
        self.instance.start()
        status = self.status()
        self.assertEqual(status["Uid"].split(), [str(user.pw_uid)] * 4)
        self.assertEqual(status["Gid"].split(), [str(user.pw_gid)] * 4)
        self.assertNotIn("0", status["Groups"].split())
        self.assertEqual(int(status["CapEff"], 16), 0)
        self.assertEqual(int(status["CapPrm"], 16), 0)
        self.assertEqual(status["NoNewPrivs"].strip(), "1")
        self.assertIn("running as user rampart", self.instance.log_text())
        # Everything in the data directory is the service user's and nobody else's.
        for directory, subdirectories, files in os.walk(self.instance.data):
            for name in [directory] + [os.path.join(directory, f) for f in files]:
                info = os.lstat(name)
                self.assertEqual(info.st_uid, user.pw_uid, name)
                self.assertEqual(info.st_mode & 0o077, 0, name)
        # And it still serves.
        with imaplib.IMAP4("127.0.0.1", self.instance.ports["imap"], timeout=10) as client:
            self.assertEqual(client.noop()[0], "OK")

    @unittest.skipUnless(os.geteuid() == 0, "needs root")
    def test_a_data_dir_left_by_root_is_handed_over(self):
        os.makedirs(os.path.join(self.instance.data, "blobs"))
        with open(os.path.join(self.instance.data, "blobs", "old"), "w") as f:
            f.write("x")
        self.instance.start()
        uid = pwd.getpwnam("rampart").pw_uid
        self.assertEqual(os.stat(os.path.join(self.instance.data, "blobs", "old")).st_uid, uid)
        self.assertIn("giving", self.instance.log_text())

    @unittest.skipUnless(os.geteuid() == 0, "needs root")
    def test_refuses_a_missing_service_user(self):
        instance = Instance(self.services, extra='user = "no-such-user"')
        self.addCleanup(instance.close)
        served = subprocess.run([RAMPART, "serve", "--config", instance.config],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(served.returncode, 1)
        self.assertIn("service user no-such-user does not exist", served.stderr)

    @unittest.skipUnless(landlock_abi() >= 1, "no Landlock in this kernel")
    def test_confined_by_landlock(self):
        self.instance.start()
        self.assertRegex(self.instance.log_text(),
                         r"confined: Landlock ABI \d+: writes under " + self.instance.data + ";")
        self.assertIn("nothing executed", self.instance.log_text())


if __name__ == "__main__":
    unittest.main()
