"""Shared by the load tools: arguments, latency statistics, a minimal asyncio
IMAP client, test messages and server memory from /proc. Standard library only.
"""
import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import time


def base_arguments(description: str, default_port: int) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument("--users", type=int, default=50, help="users user1..userN exist")
    parser.add_argument("--user-format", default="user{n}",
                        help="login name of user n, e.g. user{n}@example.test")
    parser.add_argument("--password", default="bench-password")
    parser.add_argument("--time-limit", type=float, default=120.0,
                        help="hard bound in seconds on the whole run")
    parser.add_argument("--label", default="", help="copied into the output")
    return parser


def check_loopback(host: str) -> None:
    if not (host.startswith("127.") or host in ("::1", "localhost")):
        sys.exit(f"refusing to load {host}: benchmarks only target loopback addresses")


def raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(wanted, soft), hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class Latencies:
    """Latencies in seconds per operation name."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}

    def add(self, name: str, seconds: float) -> None:
        self.samples.setdefault(name, []).append(seconds)

    def error(self, name: str) -> None:
        self.errors[name] = self.errors.get(name, 0) + 1

    def summary(self, elapsed: float) -> dict:
        out = {}
        for name, values in sorted(self.samples.items()):
            out[name] = {
                "count": len(values),
                "per_s": round(len(values) / elapsed, 2) if elapsed > 0 else 0.0,
                "p50_ms": round(1000 * percentile(values, 50), 3),
                "p99_ms": round(1000 * percentile(values, 99), 3),
                "errors": self.errors.get(name, 0),
            }
        for name, count in self.errors.items():
            out.setdefault(name, {"count": 0, "per_s": 0.0, "p50_ms": None, "p99_ms": None, "errors": count})
        return out


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def emit(result: dict) -> None:
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


def make_message(size: int, run_id: str, n: int, sender: str, recipient: str) -> bytes:
    """An RFC 5322 message of about `size` bytes, CRLF, safe for DATA (no line
    starts with a dot)."""
    subject_word = random.choice(["alpha", "bravo", "charlie", "delta", "echo"])
    head = (
        f"From: Bench <{sender}>\r\n"
        f"To: <{recipient}>\r\n"
        f"Subject: bench {subject_word} {run_id} {n}\r\n"
        f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n"
        f"Message-ID: <{run_id}.{n}@bench.example.test>\r\n"
        f"X-Bench-Run: {run_id}\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
    ).encode()
    line = b"The quick brown fox jumps over the lazy dog, then files a report. 0123456\r\n"
    body_len = max(0, size - len(head))
    body = (line * (body_len // len(line) + 1))[:body_len]
    if body and not body.endswith(b"\r\n"):
        body = body[:-2] + b"\r\n" if len(body) >= 2 else b"\r\n"
    return head + body


class ImapError(Exception):
    pass


class Imap:
    """Just enough IMAP4rev1 for benchmarks: tagged commands, literals in
    responses, APPEND with a synchronising literal, IDLE."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.counter = 0

    @classmethod
    async def connect(cls, host: str, port: int, timeout: float = 30.0) -> "Imap":
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, limit=1 << 20), timeout)
        client = cls(reader, writer)
        greeting = await asyncio.wait_for(reader.readline(), timeout)
        if not greeting.startswith(b"* OK") and not greeting.startswith(b"* PREAUTH"):
            writer.close()
            raise ImapError(f"greeting: {greeting[:200]!r}")
        return client

    async def read_response_line(self) -> bytes:
        """One response line with any literals it carries inlined."""
        line = await self.reader.readline()
        if not line:
            raise ImapError("connection closed")
        parts = [line]
        while line.endswith(b"}\r\n"):
            start = line.rfind(b"{")
            size = int(line[start + 1:-3].rstrip(b"+"))
            parts.append(await self.reader.readexactly(size))
            line = await self.reader.readline()
            if not line:
                raise ImapError("connection closed in a literal")
            parts.append(line)
        return b"".join(parts)

    async def command(self, text: str, literal: bytes | None = None) -> list[bytes]:
        """Sends one command; returns its untagged lines; raises on NO/BAD."""
        self.counter += 1
        tag = f"a{self.counter}".encode()
        if literal is None:
            self.writer.write(tag + b" " + text.encode() + b"\r\n")
        else:
            self.writer.write(tag + b" " + text.encode() + f" {{{len(literal)}}}\r\n".encode())
            await self.writer.drain()
            while True:
                line = await self.read_response_line()
                if line.startswith(b"+"):
                    break
                if line.startswith(tag + b" "):
                    raise ImapError(f"{text.split()[0]}: {line[:200]!r}")
            self.writer.write(literal + b"\r\n")
        await self.writer.drain()
        untagged = []
        while True:
            line = await self.read_response_line()
            if line.startswith(tag + b" "):
                if line[len(tag) + 1:len(tag) + 3] != b"OK":
                    raise ImapError(f"{text.split()[0]}: {line[:200]!r}")
                return untagged
            untagged.append(line)

    async def login(self, user: str, password: str) -> None:
        await self.command(f"LOGIN {quote(user)} {quote(password)}")

    async def select(self, mailbox: str = "INBOX") -> int:
        exists = 0
        for line in await self.command(f"SELECT {mailbox}"):
            words = line.split()
            if len(words) >= 3 and words[2] == b"EXISTS":
                exists = int(words[1])
        return exists

    async def search_count(self, criteria: str) -> int:
        count = 0
        for line in await self.command(f"SEARCH {criteria}"):
            if line.startswith(b"* SEARCH"):
                count += len(line.split()) - 2
        return count

    async def logout(self) -> None:
        try:
            await asyncio.wait_for(self.command("LOGOUT"), 5)
        except Exception:
            pass
        self.close()

    def close(self) -> None:
        try:
            self.writer.close()
        except Exception:
            pass


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Server memory: the processes named by a command that prints PIDs (the peer
# scripts' "pids" action), RSS summed and PSS summed (PSS divides shared pages
# among the processes sharing them, so it does not count the same library once
# per process).

def server_pids(pids_command: str) -> list[int]:
    output = subprocess.run(pids_command, shell=True, capture_output=True, text=True, timeout=60).stdout
    return [int(word) for word in output.split() if word.isdigit()]


def memory_of(pids: list[int]) -> dict:
    rss = pss = 0
    counted = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
            counted += 1
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return {"processes": counted, "rss_kib": rss, "pss_kib": pss}


def now() -> float:
    return time.perf_counter()
