#!/usr/bin/env python3
"""Idle connections: K connections that LOGIN, SELECT INBOX and IDLE (at most
--parallel opening at once), then the server's memory is read from /proc,
summed over all its processes (listed by --pids-command, e.g. "bench/peers/
dovecot.sh pids"), before the first connection and once all K idle. Memory per
connection = (after - before) / established, for RSS (what the issue asks) and
PSS (shared pages divided among sharers, so a library mapped by 1000 processes
is not counted 1000 times). Finally every connection ends IDLE and must get
its tagged OK: a server that dropped idle connections shows as alive < K.
Prints one JSON object.
"""
import asyncio
import time

from common import (Imap, ImapError, base_arguments, check_loopback, emit,
                    memory_of, raise_fd_limit, server_pids)


async def open_idle(args, index: int, gate: asyncio.Semaphore, deadline: float) -> Imap | None:
    async with gate:
        if time.monotonic() > deadline:
            return None
        client = await Imap.connect(args.host, args.port)
        try:
            await client.login(args.user_format.format(n=index % args.users + 1), args.password)
            await client.select("INBOX")
            client.writer.write(b"idle1 IDLE\r\n")
            await client.writer.drain()
            line = await asyncio.wait_for(client.read_response_line(), 30)
            if not line.startswith(b"+"):
                raise ImapError(f"IDLE: {line[:100]!r}")
            return client
        except Exception:
            client.close()
            raise


async def end_idle(client: Imap) -> bool:
    try:
        client.writer.write(b"DONE\r\n")
        await client.writer.drain()
        while True:
            line = await asyncio.wait_for(client.read_response_line(), 30)
            if line.startswith(b"idle1 "):
                return line.startswith(b"idle1 OK")
    except Exception:
        return False
    finally:
        await client.logout()


async def run(args) -> dict:
    pids = server_pids(args.pids_command)
    before = memory_of(pids)
    gate = asyncio.Semaphore(args.parallel)
    started = time.monotonic()
    deadline = started + args.time_limit
    outcomes = await asyncio.gather(*(open_idle(args, i, gate, deadline) for i in range(args.connections)),
                                    return_exceptions=True)
    clients = [c for c in outcomes if isinstance(c, Imap)]
    failures: dict[str, int] = {}
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            key = f"{type(outcome).__name__}: {str(outcome)[:80]}"
            failures[key] = failures.get(key, 0) + 1
    open_seconds = time.monotonic() - started
    await asyncio.sleep(args.settle)
    pids = server_pids(args.pids_command)
    after = memory_of(pids)
    alive = 0
    for start in range(0, len(clients), args.parallel):
        alive += sum(await asyncio.gather(*(end_idle(c) for c in clients[start:start + args.parallel])))
    established = len(clients)
    per = max(established, 1)
    return {
        "tool": "idle", "label": args.label, "requested": args.connections,
        "established": established, "alive_at_end": alive, "open_seconds": round(open_seconds, 2),
        "memory_before": before, "memory_after": after,
        "rss_total_mib": round(after["rss_kib"] / 1024, 1),
        "pss_total_mib": round(after["pss_kib"] / 1024, 1),
        "rss_kib_per_connection": round((after["rss_kib"] - before["rss_kib"]) / per, 1),
        "pss_kib_per_connection": round((after["pss_kib"] - before["pss_kib"]) / per, 1),
        "errors": sum(failures.values()), "error_kinds": failures,
    }


def main() -> None:
    parser = base_arguments(__doc__.split("\n")[0], 143)
    parser.add_argument("--connections", type=int, default=1000, help="K")
    parser.add_argument("--parallel", type=int, default=50, help="connections being opened at once")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds idle before measuring")
    parser.add_argument("--pids-command", required=True, help="prints the server's PIDs")
    args = parser.parse_args()
    check_loopback(args.host)
    raise_fd_limit(args.connections + 256)
    emit(asyncio.run(asyncio.wait_for(run(args), args.time_limit + args.settle + 120)))


if __name__ == "__main__":
    main()
