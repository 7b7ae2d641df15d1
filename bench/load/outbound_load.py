#!/usr/bin/env python3
"""Outbound relaying: M messages submitted over C SMTP connections to a relay (the
server under test), which sends them on to another domain's MX. Brings up that other
side itself, fresh for each run and stopped after it: Knot serving remote.example
(MX mx.remote.example, 127.0.0.2; tests/knot_zone.py) on --dns-address:--dns-port, and
a real Postfix on 127.0.0.2:25 with STARTTLS taking mail for remote.example into a
Maildir (tests/postfix_sink.py). Each message has a unique Message-ID.

Per message: from the client's reading of the "250" after DATA to the time the sink
accepted it (the time in its queue ID, to the microsecond: PostfixSink.arrivals).
Messages/s = messages arrived / (first MAIL FROM sent to the last sink acceptance).
Afterwards every message must be at the sink exactly once, by Message-ID: lost =
acknowledged but never arrived (within --drain-timeout), duplicated = copies beyond
the first. Prints one JSON object.
"""
import asyncio
import base64
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid

from common import (Latencies, base_arguments, check_loopback, emit, make_message, now,
                    percentile)
from smtp_load import SmtpError, expect, read_reply

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))
from knot_zone import KnotZones  # noqa: E402
from postfix_sink import PROBE_SOURCE, PostfixSink  # noqa: E402

REMOTE_DOMAIN = "remote.example"
SINK_ADDRESS = "127.0.0.2"   # the zone's MX address; the relays send to port 25
ZONE = f"""$ORIGIN {REMOTE_DOMAIN}.
$TTL 3600
@ SOA ns admin 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.3
@ MX 10 mx
mx A {SINK_ADDRESS}
"""


@contextlib.contextmanager
def remote_side(args):
    """Knot and the Postfix sink (with a throwaway certificate) until the block ends."""
    with tempfile.TemporaryDirectory(prefix="rampart-bench-outbound-") as tmp, \
            contextlib.ExitStack() as stack:
        cert, key = os.path.join(tmp, "mx.pem"), os.path.join(tmp, "mx.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", f"/CN=mx.{REMOTE_DOMAIN}", "-keyout", key, "-out", cert],
                       check=True, capture_output=True, timeout=60)
        stack.enter_context(KnotZones({REMOTE_DOMAIN: ZONE}, address=args.dns_address,
                                      port=args.dns_port))
        wait_for_mx(args)
        yield stack.enter_context(PostfixSink(address=SINK_ADDRESS, port=25,
                                              domains=(REMOTE_DOMAIN,), tls=(cert, key)))


def wait_for_mx(args) -> None:
    deadline = time.monotonic() + 20
    while True:
        done = subprocess.run(["kdig", f"@{args.dns_address}", "-p", str(args.dns_port), "+short",
                               "+time=1", "MX", REMOTE_DOMAIN], capture_output=True, text=True)
        if done.stdout.strip() == f"10 mx.{REMOTE_DOMAIN}.":
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"Knot does not answer MX {REMOTE_DOMAIN} on "
                               f"{args.dns_address}:{args.dns_port} (port taken?): {done.stdout}{done.stderr}")
        time.sleep(0.2)


async def submitter(args, index, work, run_id, submitted, stats, deadline):
    """One connection: AUTH (with --auth) as user (index mod users)+1, then the next
    message from `work` until there is none; submitted[n] = (MAIL sent, 250 read), wall
    clock, as the sink's times are."""
    user = index % args.users + 1
    sender = f"user{user}@{args.domain}"
    recipient = f"bench@{REMOTE_DOMAIN}"
    reader, writer = await asyncio.wait_for(asyncio.open_connection(args.host, args.port), 30)
    try:
        await expect(reader, writer, None, range(220, 221))
        await expect(reader, writer, b"EHLO bench.example.test\r\n", range(250, 251))
        if args.auth:
            login = args.user_format.format(n=user)
            token = base64.b64encode(f"\0{login}\0{args.password}".encode())
            await expect(reader, writer, b"AUTH PLAIN " + token + b"\r\n", range(235, 236))
        for n in work:
            if time.monotonic() > deadline:
                break
            message = make_message(args.size, run_id, n, sender, recipient)
            start, wall = now(), time.time()
            try:
                await expect(reader, writer, f"MAIL FROM:<{sender}>\r\n".encode(), range(250, 251))
                await expect(reader, writer, f"RCPT TO:<{recipient}>\r\n".encode(), range(250, 252))
                await expect(reader, writer, b"DATA\r\n", range(354, 355))
                await expect(reader, writer, message + b".\r\n", range(250, 251))
            except SmtpError as error:
                stats.error(f"submit: {error}"[:120])
                writer.write(b"RSET\r\n")
                await writer.drain()
                await read_reply(reader)
                continue
            submitted[n] = (wall, time.time())
            stats.add("submit", now() - start)
        writer.write(b"QUIT\r\n")
        await writer.drain()
        await asyncio.wait_for(read_reply(reader), 5)
    except (SmtpError, asyncio.TimeoutError, ConnectionError) as error:
        stats.error(f"connection: {error}"[:120])
    finally:
        writer.close()


async def wait_for_arrivals(args, sink, run_id, submitted) -> dict[int, list[tuple[float, float]]]:
    """{n: [(accepted, delivered), ...]} for each of this run's messages at the sink, once
    every acknowledged one is there or --drain-timeout has passed, and --settle s more
    (for a duplicate close behind)."""
    pattern = re.compile(rb"^Message-ID: <" + run_id.encode() + rb"\.(\d+)@", re.M | re.I)

    def collect():
        arrived: dict[int, list[tuple[float, float]]] = {}
        for accepted, delivered, data in sink.arrivals():
            if match := pattern.search(data):
                arrived.setdefault(int(match[1]), []).append((accepted, delivered))
        return arrived

    deadline = time.monotonic() + args.drain_timeout
    while time.monotonic() < deadline:
        # Counting files is cheap; reading them all only once there are enough.
        if sink.delivered_count() >= len(submitted) and set(submitted) <= set(collect()):
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(args.settle)
    return collect()


def sink_sessions(sink) -> tuple[int, int]:
    """(SMTP sessions, of which with TLS) at the sink, its own probes left out."""
    tls = re.findall(r"smtpd\[\d+\]: \w* ?TLS connection established from [^\[]*\[([^\]]+)\]", sink.log())
    return len(sink.connections()), len([address for address in tls if address != PROBE_SOURCE])


def ms(seconds: float) -> float:
    return round(1000 * seconds, 3)


async def run(args, sink) -> dict:
    run_id = "r" + uuid.uuid4().hex[:16]
    work = iter(range(args.messages))   # shared: each connection takes the next message
    stats = Latencies()
    submitted: dict[int, tuple[float, float]] = {}
    deadline = time.monotonic() + args.time_limit
    await asyncio.gather(*(submitter(args, i, work, run_id, submitted, stats, deadline)
                           for i in range(args.connections)))
    drain_start = time.monotonic()
    arrived = await wait_for_arrivals(args, sink, run_id, submitted)
    result = {"tool": "outbound", "label": args.label, "run_id": run_id,
              "connections": args.connections, "size": args.size, "messages_requested": args.messages,
              "acknowledged": len(submitted), "errors": sum(stats.errors.values()),
              "error_kinds": stats.errors, "drain_seconds": round(time.monotonic() - drain_start, 2)}
    if submitted:
        first = min(start for start, _ in submitted.values())
        last_ack = max(acked for _, acked in submitted.values())
        samples = stats.samples.get("submit", [])
        result.update({"submitted_per_s": round(len(submitted) / (last_ack - first), 2),
                       "submit_p50_ms": ms(percentile(samples, 50)),
                       "submit_p99_ms": ms(percentile(samples, 99))})
    # Each message's first copy at the sink counts; any further copy is a duplicate.
    firsts = {n: min(copies) for n, copies in arrived.items() if n in submitted}
    latencies = [firsts[n][0] - submitted[n][1] for n in firsts]
    sink_lag = [delivered - accepted for accepted, delivered in firsts.values()]
    result.update({
        "arrived": len(firsts),
        "lost": len(set(submitted) - set(arrived)),
        "duplicated": sum(len(copies) - 1 for copies in arrived.values()),
        "arrived_unacknowledged": len(set(arrived) - set(submitted)),
    })
    if firsts:
        last_accepted = max(accepted for accepted, _ in firsts.values())
        result.update({
            "seconds": round(last_accepted - first, 3),
            "messages_per_s": round(len(firsts) / (last_accepted - first), 2),
            "p50_ms": ms(percentile(latencies, 50)), "p99_ms": ms(percentile(latencies, 99)),
            "max_ms": ms(max(latencies)),
            "sink_lag_p99_ms": ms(percentile(sink_lag, 99)),
        })
    result["sink_sessions"], result["sink_tls_sessions"] = sink_sessions(sink)
    return result


def main() -> None:
    parser = base_arguments(__doc__.split("\n")[0], 587)
    parser.add_argument("--messages", type=int, default=2000, help="M, total messages")
    parser.add_argument("--connections", type=int, default=16, help="C, concurrent submitters")
    parser.add_argument("--size", type=int, default=4096, help="message size in bytes")
    parser.add_argument("--domain", default="example.test", help="the senders' domain")
    parser.add_argument("--auth", action="store_true", help="AUTH PLAIN as the user on each connection")
    parser.add_argument("--dns-address", default="127.0.0.3")
    parser.add_argument("--dns-port", type=int, default=14053)
    parser.add_argument("--drain-timeout", type=float, default=300.0,
                        help="how long to wait after the last submission for everything to arrive")
    parser.add_argument("--settle", type=float, default=1.0,
                        help="seconds to wait after that for late duplicates")
    args = parser.parse_args()
    check_loopback(args.host)
    check_loopback(args.dns_address)
    # Stopped from outside: leave through the `with`, so Knot and the sink stop too.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda number, _: sys.exit(128 + number))
    with remote_side(args) as sink:
        limit = args.time_limit + args.drain_timeout + args.settle + 60
        emit(asyncio.run(asyncio.wait_for(run(args, sink), limit)))


if __name__ == "__main__":
    main()
