"""The remote MX for outbound delivery tests: a private Postfix instance (Debian's
postfix, multi-instance style like bench/peers/postfix.sh: config, queue, mail and log
in a temporary directory, /etc/postfix untouched) accepting mail for some domains on a
loopback address and delivering it into a Maildir per domain that the test reads back.

    with PostfixSink(reject={"nobody@remote.example"}, defer={"later@remote.example"},
                     tls=(cert, key)) as sink:  # SMTP on sink.address:sink.port
        message = sink.wait_for("bob@remote.example", count=1, timeout=30)[0]
        sink.set_defer(set())  # from the next session on, a 250 for later@
        assert "TLS connection established from" in sink.log()

At RCPT `reject` gets "550 5.1.1", `defer` "450 4.2.0", other domains "554 5.7.1". A
message comes back as it arrived in DATA (CRLF line ends) below Postfix's Received
line ("with ESMTPS" after STARTTLS), without the Return-Path, X-Original-To and
Delivered-To lines delivery prepends; senders() has the envelope senders; arrivals()
has every message with the times the sink accepted and delivered it (scripts/bench
outbound). The fixture's own probe sessions come from PROBE_SOURCE (on 127/8), which
connections() leaves out."""

import contextlib
import functools
import glob
import os
import pty
import pwd
import re
import select
import socket
import subprocess
import tempfile
import time

PROBE_SOURCE = "127.0.0.254"

MASTER_CF = """# service type private unpriv chroot wakeup maxproc command
{listen} inet n - n - - smtpd
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
proxymap  unix - - n - - proxymap
error     unix - - n - - error
retry     unix - - n - - error
virtual   unix - n n - - virtual
anvil     unix - - n - 1 anvil
tlsmgr    unix - - n 1000? 1 tlsmgr
postlog   unix-dgram n - n - 1 postlogd
"""


# Postfix's base-52 digits (src/global/mail_queue.h): a long queue ID is the time in
# seconds (six or more digits) and microseconds (four), "z", then the inode number.
QUEUE_ID_DIGITS = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"


def queue_id_time(queue_id):
    """The time, in seconds since the epoch, that a long queue ID was made."""
    time_part = queue_id[:queue_id.rindex("z")]
    number = lambda digits: functools.reduce(lambda n, d: n * 52 + QUEUE_ID_DIGITS.index(d), digits, 0)
    return number(time_part[:-4]) + number(time_part[-4:]) / 1e6


def free_port(address):
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


class PostfixSink:
    """start() and stop(), or `with`; see the module docstring."""

    def __init__(self, address="127.0.0.2", port=None, domains=("remote.example",), reject=(),
                 defer=(), tls=None, max_size=None, hostname=None, main_cf=""):
        self.address, self.port = address, port or free_port(address)
        self.domains, self.tls, self.max_size = tuple(d.lower() for d in domains), tls, max_size
        self.hostname = hostname or "mx." + self.domains[0]
        self.reject, self.defer = {a.lower() for a in reject}, {a.lower() for a in defer}
        self.main_cf = main_cf  # more main.cf lines
        self.dir = None

    def start(self):
        self.dir = tempfile.TemporaryDirectory(prefix="rampart-postfix-")
        self.root, self.etc = self.dir.name, os.path.join(self.dir.name, "etc")
        os.chmod(self.root, 0o755)  # the daemons run as `postfix` below it
        owner = pwd.getpwnam("postfix")
        for sub in ("etc", "queue", "data", "mail", "log"):
            os.mkdir(os.path.join(self.root, sub), 0o755)
            if sub in ("data", "mail"):  # virtual(8) delivers as `postfix` too
                os.chown(os.path.join(self.root, sub), owner.pw_uid, owner.pw_gid)
        self._write_access()
        self._write("mailboxes", "".join(f"@{d} {d}/\n" for d in self.domains))  # a Maildir per domain
        tls = ("smtpd_tls_security_level = may\nsmtpd_tls_cert_file = %s\nsmtpd_tls_key_file = %s\n"
               "smtpd_tls_loglevel = 1\nsmtpd_tls_received_header = yes" % self.tls if self.tls
               else "smtpd_tls_security_level = none")
        self._write("main.cf", f"""# Written by tests/postfix_sink.py; not the system's /etc/postfix.
compatibility_level = 3.6
queue_directory = {self.root}/queue
data_directory = {self.root}/data
myhostname = {self.hostname}
mydestination =
inet_interfaces = loopback-only
inet_protocols = {"ipv6" if ":" in self.address else "ipv4"}
mynetworks = 127.0.0.0/8 [::1]/128
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access texthash:{self.etc}/access
smtpd_peername_lookup = no
enable_long_queue_ids = yes
local_header_rewrite_clients =
default_transport = error:5.3.0 this sink delivers nowhere else
alias_maps =
virtual_mailbox_domains = {" ".join(self.domains)}
virtual_mailbox_maps = texthash:{self.etc}/mailboxes
virtual_mailbox_base = {self.root}/mail
virtual_uid_maps = static:{owner.pw_uid}
virtual_gid_maps = static:{owner.pw_gid}
virtual_minimum_uid = 1
virtual_mailbox_limit = 0
{f"message_size_limit = {self.max_size}" if self.max_size else ""}
maillog_file_prefixes = {self.root}/log
maillog_file = {self.root}/log/postfix.log
{tls}
{self.main_cf}
""")
        host = f"[{self.address}]" if ":" in self.address else self.address
        self._write("master.cf", MASTER_CF.format(listen=f"{host}:{self.port}"))
        status, output = self._postfix("start")
        deadline = time.monotonic() + 20
        while status == 0 and time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if self._probe()[0] == b"220":
                    return self
            time.sleep(0.1)
        report = (f"Postfix did not come up on {host}:{self.port} (postfix start exited {status}, "
                  f"waited up to 20 s for its banner):\n{output}{self.log()}")
        self.stop()
        raise RuntimeError(report)

    def stop(self):
        """`postfix stop`, then `abort`, then SIGKILL, each given 10 s, until none of its
        processes is left; then the directory goes."""
        if self.dir is None:
            return
        for step in ("stop", "abort", "kill"):
            if not self.processes():
                break
            if step != "kill":
                self._postfix(step)
            for pid in self.processes() if step == "kill" else ():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)
            deadline = time.monotonic() + 10
            while self.processes() and time.monotonic() < deadline:
                time.sleep(0.05)
        self.dir.cleanup()
        self.dir = None
        if self.processes():
            raise RuntimeError(f"Postfix processes left after stop: {self.processes()}")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def processes(self):
        """{pid: name} of the instance's live processes, which all have MAIL_CONFIG=its
        etc in their environment (their command lines do not name it: pgrep -f misses them)."""
        marker, found = f"\0MAIL_CONFIG={self.etc}\0".encode(), {}
        for entry in glob.glob("/proc/[0-9]*"):
            with contextlib.suppress(OSError):  # a zombie's environ (PID 1 reaps late here) is ESRCH
                with open(entry + "/environ", "rb") as f, open(entry + "/comm") as comm:
                    if marker in b"\0" + f.read():
                        found[int(entry[6:])] = comm.read().strip()
        return found

    def _postfix(self, command):
        """(exit status, output) of `postfix -c ETC command`; the output goes to a pty,
        as Postfix prints its errors only to a terminal."""
        reader, writer = pty.openpty()
        process = subprocess.Popen(["postfix", "-c", self.etc, command], stdin=subprocess.DEVNULL,
                                   stdout=writer, stderr=writer)
        os.close(writer)
        output, deadline = b"", time.monotonic() + 60
        while time.monotonic() < deadline:  # the daemons it starts may keep the pty
            if select.select([reader], [], [], 0.1)[0]:
                try:
                    output += os.read(reader, 4096)
                except OSError:
                    break
            elif process.poll() is not None:
                break
        os.close(reader)
        return process.wait(timeout=60), output.decode(errors="replace").replace("\r\n", "\n")

    def _probe(self, *commands):
        """The reply codes to the banner, each command and QUIT, in one session."""
        with socket.socket(socket.AF_INET6 if ":" in self.address else socket.AF_INET) as sock:
            sock.settimeout(10)
            if self.address.startswith("127."):
                sock.bind((PROBE_SOURCE, 0))
            sock.connect((self.address, self.port))
            lines, codes = sock.makefile("rb"), []
            for command in (None, *commands, "QUIT"):
                if command:
                    sock.sendall(command.encode() + b"\r\n")
                while (reply := lines.readline())[3:4] == b"-":
                    pass
                codes.append(reply[:3])
            return codes

    def _write(self, name, text):
        """Dated back: Postfix waits ~2 s for a table file changed in the last second to
        "cool down" before it reads it."""
        with open(os.path.join(self.etc, name), "w") as f:
            f.write(text)
        os.utime(f.name, (time.time() - 10, time.time() - 10))

    def _write_access(self):  # a texthash map, read when smtpd starts: hence the reload
        self._write("access", "".join([f"{a} 550 5.1.1 no such user\n" for a in sorted(self.reject)]
                                      + [f"{a} 450 4.2.0 try again\n" for a in sorted(self.defer)
                                         if a not in self.reject]))

    def set_reject(self, addresses, timeout=20):
        self._reload({a.lower() for a in addresses}, self.defer, timeout)

    def set_defer(self, addresses, timeout=20):
        self._reload(self.reject, {a.lower() for a in addresses}, timeout)

    def _reload(self, reject, defer, timeout):
        """Rewrites the access map and reloads; returns once new sessions see it: the
        smtpd processes from before are gone and a probe gets the new codes."""
        expected = {a: b"250" for a in self.reject | self.defer}
        expected.update({a: b"450" for a in defer} | {a: b"550" for a in reject})
        expected = {a: code for a, code in expected.items() if a.rpartition("@")[2] in self.domains}
        self.reject, self.defer = reject, defer
        self._write_access()
        before = {pid for pid, name in self.processes().items() if name == "smtpd"}
        status, output = self._postfix("reload")
        if status != 0:
            raise RuntimeError(f"postfix reload failed:\n{output}{self.log()}")
        rcpts = [f"RCPT TO:<{a}>" for a in expected]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not before & set(self.processes()):
                with contextlib.suppress(OSError):
                    if self._probe("HELO probe", "MAIL FROM:<>", *rcpts)[3:-1] == [*expected.values()]:
                        return
            time.sleep(0.1)
        raise RuntimeError(f"reload not in effect after {timeout} s:\n{self.log()}")

    def log(self):
        try:
            with open(os.path.join(self.root, "log", "postfix.log"), errors="replace") as f:
                return f.read()
        except (AttributeError, FileNotFoundError):
            return ""

    def connections(self):
        """The client address of each SMTP session so far, the fixture's own left out."""
        found = re.findall(r"smtpd\[\d+\]: connect from [^\[]*\[([^\]]+)\]", self.log())
        return [address for address in found if address != PROBE_SOURCE]

    def _delivered(self):
        """(file name, queue ID, {Return-Path, X-Original-To, Delivered-To}, message) of every
        delivered file, the message without those lines; the queue ID is the sink's own, from
        its Received line, the first "(Postfix) with" in the message."""
        found = []
        for path in glob.glob(os.path.join(self.root, "mail", "*", "new", "*")):
            with open(path, "rb") as f:
                data = f.read()
            head = {}
            while match := re.match(rb"(Return-Path|X-Original-To|Delivered-To): <?([^>\n]*)>?\n", data):
                head[match[1]], data = match[2].decode(), data[match.end():]
            queue_id = re.search(rb"\(Postfix\) with \w+ id (\w+)", data)[1].decode()
            found.append((os.path.basename(path), queue_id, head, data.replace(b"\n", b"\r\n")))
        return found

    def _deliveries(self, recipient):
        # A long queue ID starts with its arrival time, in digits that sort as such.
        found = sorted((queue_id, head.get(b"Return-Path"), data)
                       for _, queue_id, head, data in self._delivered()
                       if head.get(b"Delivered-To", "").lower() == recipient.lower())
        return [(sender, data) for _, sender, data in found]

    def delivered_count(self):
        """How many messages the sink has delivered so far, for all recipients (cheap)."""
        return len(glob.glob(os.path.join(self.root, "mail", "*", "new", "*")))

    def arrivals(self):
        """Every message delivered so far, for any recipient, as (accepted, delivered,
        message) with times in seconds since the epoch, to the microsecond, as the sink
        recorded them. `accepted` is in the queue ID: Postfix names the queue file after the
        time it creates it, which smtpd has it do once the first recipient is accepted
        (smtpd_delay_open_until_valid_rcpt), so it leaves out the DATA that follows and the
        fsync before "250". `delivered` is in the Maildir file's name (virtual(8) writes
        "SECONDS.V<dev>I<inode>M<microseconds>.HOST")."""
        found = []
        for name, queue_id, _, data in self._delivered():
            seconds, microseconds = re.match(r"(\d+)\.V\w+?I\w+?M(\d+)\.", name).groups()
            found.append((queue_id_time(queue_id), int(seconds) + int(microseconds) / 1e6, data))
        return found

    def messages(self, recipient):
        """The messages delivered to `recipient` so far, in the order they arrived."""
        return [data for _, data in self._deliveries(recipient)]

    def senders(self, recipient):
        """The envelope sender of each of messages(recipient), "" for <>."""
        return [sender for sender, _ in self._deliveries(recipient)]

    def wait_for(self, recipient, count=1, timeout=30):
        """messages(recipient) once there are at least `count`; fails after `timeout`."""
        deadline = time.monotonic() + timeout
        while len(found := self.messages(recipient)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} of {count} messages for {recipient} in "
                                     f"{timeout} s:\n{self.log()}")
            time.sleep(0.1)
        return found
