"""Runs the real `rampart` binary for integration tests: a temporary data directory,
free loopback ports, and the server's log collected for assertions."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

RAMPART = os.environ.get("RAMPART_BIN", os.path.join(os.path.dirname(__file__), "..", "build", "rampart"))
SERVICES = ["smtp", "submission", "submissions", "lmtp", "imap", "imaps", "pop3", "pop3s", "managesieve", "http",
            "https"]


def free_ports(count):
    """`count` distinct ports free on 127.0.0.1: all bound at once, then let go (one at
    a time could hand the same port out twice)."""
    sockets = []
    try:
        for _ in range(count):
            probe = socket.socket()
            probe.bind(("127.0.0.1", 0))
            sockets.append(probe)
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def free_port():
    return free_ports(1)[0]


def readable_by_server(*paths):
    """Lets the server read files a test made (as root, the server runs as `rampart`):
    their directories become passable and the files belong to that user."""
    if os.geteuid() != 0:
        return
    import pwd
    user = pwd.getpwnam("rampart")
    for path in paths:
        os.chmod(os.path.dirname(path), 0o755)
        os.chown(path, user.pw_uid, user.pw_gid)


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def make_ca_signed_pair(directory):
    """A test CA and a certificate for mail.test signed by it, with the revocation
    pointers a real CA puts in (testssl.sh rates their absence HIGH). Returns the
    paths (ca, cert, key)."""
    path = lambda name: os.path.join(directory, name)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "90",
            "-subj", "/CN=Rampart Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", path("key.pem"), "-out", path("cert.csr"), "-subj", "/CN=mail.test")
    with open(path("ext.cnf"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=DNS:mail.test\n"
                "crlDistributionPoints=URI:http://127.0.0.1:9/test-ca.crl\n"
                "authorityInfoAccess=OCSP;URI:http://127.0.0.1:9/ocsp\n")
    openssl("x509", "-req", "-in", path("cert.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
            "-CAcreateserial", "-out", path("cert.pem"), "-days", "90", "-extfile", path("ext.cnf"))
    return path("ca.pem"), path("cert.pem"), path("key.pem")


def run(args, stdin=None, config=None):
    """Runs `rampart ARGS --config CONFIG`; returns the CompletedProcess."""
    command = [RAMPART, *args]
    if config:
        command += ["--config", config]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=120)


class Instance:
    """A data directory and config; start()/stop() run `rampart serve` on it."""

    def __init__(self, services=SERVICES, extra=""):
        self.dir = tempfile.TemporaryDirectory(prefix="rampart-test-")
        # Started as root (as in CI), the server runs as the user `rampart`, which must
        # pass through this directory to its data and read the files tests put here.
        os.chmod(self.dir.name, 0o755)
        self.data = os.path.join(self.dir.name, "data")
        self.config = os.path.join(self.dir.name, "rampart.toml")
        self.ports = dict(zip(services, free_ports(len(services))))
        self.lmtp_socket = os.path.join(self.dir.name, "lmtp.sock")  # LMTP also listens here
        listen = "\n".join(f'{s} = ["127.0.0.1:{p}"' + (f', "unix:{self.lmtp_socket}"' if s == "lmtp" else "") + "]"
                           for s, p in self.ports.items())
        with open(self.config, "w") as f:
            # Mail for other servers stays queued unless a test sends it (test_outbound).
            queue_only = "" if "[delivery]" in extra else "[delivery]\nqueue_only = true\n"
            # No DNS here but the tests' own: the MX's sender checks only where a test asks.
            queue_only += "" if "[filter]" in extra else "[filter]\nsender_checks = false\n"
            f.write(f'data_dir = "{self.data}"\nhostname = "mail.test"\n{extra}\n{queue_only}[listen]\n{listen}\n')
        self.process = None
        self.log = []
        self._log_lock = threading.Lock()

    def cli(self, *args, stdin=None):
        return run(list(args), stdin=stdin, config=self.config)

    def audit(self, *args):
        """The audit trail's records, as `rampart audit --json ARGS` prints them."""
        done = self.cli("audit", "--json", *args)
        if done.returncode != 0:
            raise AssertionError(done.stderr)
        return json.loads(done.stdout)

    def wait_for_audit(self, predicate, *args, deadline=20):
        """The records `audit ARGS` returns once `predicate` holds for them (or the
        last ones, at the deadline)."""
        end = time.monotonic() + deadline
        while True:
            records = self.audit(*args)
            if predicate(records) or time.monotonic() > end:
                return records
            time.sleep(0.1)

    def multiappend(self, user, password, messages, mailbox="INBOX"):
        """Appends the messages as they are, over IMAP in MULTIAPPEND commands of 100
        with LITERAL+."""
        with socket.create_connection(("127.0.0.1", self.ports["imap"]), timeout=60) as raw:
            lines = raw.makefile("rb")
            lines.readline()
            raw.sendall(f"a LOGIN {user} {password}\r\n".encode())
            if not lines.readline().startswith(b"a OK"):
                raise AssertionError("LOGIN refused")
            for start in range(0, len(messages), 100):
                command = f"b APPEND {mailbox}".encode()
                for body in messages[start:start + 100]:
                    command += f" {{{len(body)}+}}\r\n".encode() + body
                raw.sendall(command + b"\r\n")
                reply = lines.readline()
                if not reply.startswith(b"b OK [APPENDUID"):
                    raise AssertionError(reply)
            raw.sendall(b"c LOGOUT\r\n")

    def read_blob(self, blob_id):
        """A stored blob's bytes: from its row (small blobs), else its file."""
        with sqlite3.connect(os.path.join(self.data, "rampart.db")) as db:
            row = db.execute("SELECT content FROM blobs WHERE id = ?", (blob_id,)).fetchone()
        if row and row[0] is not None:
            return bytes(row[0])
        with open(os.path.join(self.data, "blobs", blob_id[:2], blob_id[2:]), "rb") as f:
            return f.read()

    def add_account(self, address, password):
        """Adds `address` (and its domain, the first time) through the CLI."""
        domain = address.split("@", 1)[1]
        if domain not in self.cli("domain", "list").stdout.split():
            added = self.cli("domain", "add", domain)
            assert added.returncode == 0, added.stderr
        added = self.cli("user", "add", address, stdin=password + "\n")
        assert added.returncode == 0, added.stderr

    def start(self):
        self.process = subprocess.Popen([RAMPART, "serve", "--config", self.config],
                                        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._read_log, daemon=True).start()
        self.wait_for_log("ready")

    def _read_log(self):
        for line in self.process.stderr:
            with self._log_lock:
                self.log.append(line.rstrip("\n"))

    def log_text(self):
        with self._log_lock:
            return "\n".join(self.log)

    def wait_for_log(self, text, deadline=30):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if text in self.log_text():
                return
            if self.process.poll() is not None and text not in self.log_text():
                time.sleep(0.05)  # let the reader thread drain the pipe
                if text in self.log_text():
                    return
                raise AssertionError(f"server exited ({self.process.returncode}) before '{text}':\n{self.log_text()}")
            time.sleep(0.02)
        raise AssertionError(f"'{text}' not logged within {deadline}s:\n{self.log_text()}")

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)
        return self.process.returncode if self.process else None

    def close(self):
        # A server that died by itself during the test: its log says why.
        if self.process and self.process.poll() is not None and self.process.returncode != 0:
            sys.stderr.write(f"rampart exited with {self.process.returncode} during the test:\n"
                             f"{self.log_text()[-6000:]}\n")
        self.stop(signal.SIGKILL)
        self.dir.cleanup()


class InstanceTest(unittest.TestCase):
    services = SERVICES

    def setUp(self):
        self.instance = Instance(self.services)
        self.addCleanup(self.instance.close)
