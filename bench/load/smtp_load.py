#!/usr/bin/env python3
"""SMTP (or LMTP) ingest: M messages of the given sizes, round-robin to users
user1..userN, over C connections, each message one MAIL/RCPT/DATA
transaction. Reports messages/s and the per-message latency (MAIL FROM sent to
the final 250), then logs in over IMAP as every user that was sent mail and
counts, with SEARCH HEADER X-Bench-Run, what arrived, waiting up to
--drain-timeout for a queue to deliver. Loss = acknowledged - arrived.
Prints one JSON object.
"""
import asyncio
import itertools
import time
import uuid

from common import (Imap, Latencies, base_arguments, check_loopback, emit,
                    make_message, now, raise_fd_limit)


class SmtpError(Exception):
    pass


async def read_reply(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    lines = []
    while True:
        line = await reader.readline()
        if not line:
            raise SmtpError("connection closed")
        lines.append(line)
        if len(line) < 4 or line[3:4] != b"-":
            return int(line[:3]), b"".join(lines)


async def expect(reader, writer, line: bytes | None, ok: range) -> bytes:
    if line is not None:
        writer.write(line)
        await writer.drain()
    code, text = await read_reply(reader)
    if code not in ok:
        raise SmtpError(f"{(line or b'greeting').split()[0]!r}: {text[:200]!r}")
    return text


async def sender(args, index, work, stats, acked, deadline):
    reader, writer = await asyncio.wait_for(asyncio.open_connection(args.host, args.port), 30)
    try:
        await expect(reader, writer, None, range(220, 221))
        hello = b"LHLO" if args.lmtp else b"EHLO"
        await expect(reader, writer, hello + b" bench.example.test\r\n", range(250, 251))
        for n, size, user in work:
            if time.monotonic() > deadline:
                break
            recipient = f"user{user}@{args.domain}"
            message = args.messages_by_size[size].replace(b"{N}", str(n).encode().rjust(8, b"0"))
            message = message.replace(b"{TO}", recipient.encode(), 1)
            start = now()
            try:
                await expect(reader, writer, f"MAIL FROM:<{args.sender}>\r\n".encode(), range(250, 251))
                await expect(reader, writer, f"RCPT TO:<{recipient}>\r\n".encode(), range(250, 252))
                await expect(reader, writer, b"DATA\r\n", range(354, 355))
                await expect(reader, writer, message + b".\r\n", range(250, 251))
            except SmtpError:
                stats.error(f"{size}")
                writer.write(b"RSET\r\n")
                await writer.drain()
                await read_reply(reader)
                continue
            stats.add(f"{size}", now() - start)
            acked[user] = acked.get(user, 0) + 1
        writer.write(b"QUIT\r\n")
        await writer.drain()
        await asyncio.wait_for(read_reply(reader), 5)
    except (SmtpError, asyncio.TimeoutError, ConnectionError) as error:
        stats.error(f"connection: {error}"[:120])
    finally:
        writer.close()


async def count_arrived(args, run_id: str, acked: dict[int, int], deadline: float) -> dict[int, int]:
    arrived: dict[int, int] = {}

    async def one(user: int) -> None:
        client = await Imap.connect(args.verify_host, args.verify_port)
        try:
            await client.login(args.user_format.format(n=user), args.password)
            while True:
                await client.select("INBOX")
                arrived[user] = await client.search_count(f"HEADER X-Bench-Run {run_id}")
                if arrived[user] >= acked[user] or time.monotonic() > deadline:
                    return
                await asyncio.sleep(0.5)
        finally:
            await client.logout()

    users = sorted(acked)
    for start in range(0, len(users), 16):   # at most 16 IMAP sessions at once
        await asyncio.gather(*(one(user) for user in users[start:start + 16]))
    return arrived


async def run(args) -> dict:
    run_id = "r" + uuid.uuid4().hex[:16]
    sizes = [int(size) for size in args.sizes.split(",")]
    args.messages_by_size = {
        size: make_message(size, run_id, 0, args.sender, "{TO}")
        .replace(f"{run_id} 0\r\n".encode(), f"{run_id} {{N}}\r\n".encode())
        .replace(f"<{run_id}.0@".encode(), f"<{run_id}.{{N}}@".encode())
        for size in sizes
    }
    if args.dkim_key:
        # Signed once per size over what every message of that size shares (From, Date,
        # the MIME fields and the body), so each one verifies though To, Subject and
        # Message-ID differ; signed before the clock starts.
        import dkim
        with open(args.dkim_key, "rb") as f:
            key = f.read()
        for size, message in args.messages_by_size.items():
            signature = dkim.sign(message, b"s1", args.sender.split("@")[1].encode(), key,
                                  include_headers=[b"from", b"date", b"mime-version", b"content-type"])
            args.messages_by_size[size] = signature + message
    # One shared iterator: each connection takes the next message.
    work = ((n, sizes[n % len(sizes)], n % args.users + 1) for n in range(args.messages))
    stats = Latencies()
    acked: dict[int, int] = {}
    started = time.monotonic()
    deadline = started + args.time_limit
    start = now()
    await asyncio.gather(*(sender(args, i, work, stats, acked, deadline) for i in range(args.connections)))
    elapsed = now() - start
    total_acked = sum(acked.values())
    result = {
        "tool": "smtp", "label": args.label, "run_id": run_id,
        "protocol": "lmtp" if args.lmtp else "smtp",
        "connections": args.connections, "sizes": sizes, "messages_requested": args.messages,
        "acknowledged": total_acked, "seconds": round(elapsed, 3),
        "messages_per_s": round(total_acked / elapsed, 2) if elapsed else 0.0,
        "latency": stats.summary(elapsed),
    }
    all_samples = list(itertools.chain.from_iterable(stats.samples.values()))
    from common import percentile
    result["p50_ms"] = round(1000 * percentile(all_samples, 50), 3)
    result["p99_ms"] = round(1000 * percentile(all_samples, 99), 3)
    result["errors"] = sum(stats.errors.values())
    result["error_kinds"] = stats.errors
    if args.verify_port and total_acked:
        drain_start = time.monotonic()
        drain_deadline = drain_start + args.drain_timeout
        arrived = await asyncio.wait_for(
            count_arrived(args, run_id, acked, drain_deadline), args.drain_timeout + 60)
        total_arrived = sum(arrived.values())
        result.update({
            "arrived": total_arrived,
            "lost": sum(max(0, acked[u] - arrived.get(u, 0)) for u in acked),
            "drain_seconds": round(time.monotonic() - drain_start, 2),
        })
    return result


def main() -> None:
    parser = base_arguments(__doc__.split("\n")[0], 25)
    parser.add_argument("--messages", type=int, default=1000, help="M, total messages")
    parser.add_argument("--connections", type=int, default=8, help="C")
    parser.add_argument("--sizes", default="4096", help="comma-separated sizes in bytes, used round-robin")
    parser.add_argument("--domain", default="example.test")
    parser.add_argument("--lmtp", action="store_true", help="speak LMTP (LHLO) instead of SMTP")
    parser.add_argument("--verify-host", default="127.0.0.1")
    parser.add_argument("--verify-port", type=int, default=0, help="IMAP port to count arrivals on; 0: skip")
    parser.add_argument("--drain-timeout", type=float, default=60.0)
    parser.add_argument("--sender", default="bench@sender.example.test", help="MAIL FROM and From")
    parser.add_argument("--dkim-key", help="sign every message with this RSA key (PEM), selector s1,"
                        " for the --sender's domain")
    args = parser.parse_args()
    check_loopback(args.host)
    check_loopback(args.verify_host)
    raise_fd_limit(args.connections + 256)
    emit(asyncio.run(asyncio.wait_for(run(args), args.time_limit + args.drain_timeout + 90)))


if __name__ == "__main__":
    main()
