#!/usr/bin/env python3
"""IMAP mixed sessions, closed loop: C clients, client i working as user
(i mod N)+1, each repeatedly LOGIN, SELECT INBOX, then --ops-per-session
commands drawn from a mix (imap_mix.MIX: FETCH of headers, FETCH of a whole
body, STORE flags, SEARCH, APPEND), each sent as soon as the last is answered,
then LOGOUT; plus one IDLE watcher per user in use, which measures how long
after an APPEND starts the watcher is told (* n EXISTS): the IDLE wake-up.
Each user's INBOX is first filled to --seed messages (not measured). Bounded
by --duration and --max-ops. Prints one JSON object: operations/s and latency
percentiles per command.
"""
import asyncio
import collections
import time
import uuid

from common import (Imap, ImapError, Latencies, base_arguments, check_loopback,
                    emit, now, raise_fd_limit)
from imap_mix import MIX, Session, execute, prepare


async def seed(args, user: int, run_id: str) -> None:
    client = await Imap.connect(args.host, args.port)
    try:
        await client.login(args.user_format.format(n=user), args.password)
        await prepare(client, args.seed, args.size, run_id)
    finally:
        await client.logout()


class Watchers:
    """Per user, the start times of APPENDs not yet announced to its watcher."""

    def __init__(self) -> None:
        self.pending: dict[int, collections.deque] = collections.defaultdict(collections.deque)


async def watcher(args, user: int, watchers: Watchers, stats: Latencies, stop: asyncio.Event) -> None:
    client = await Imap.connect(args.host, args.port)
    try:
        await client.login(args.user_format.format(n=user), args.password)
        known = await client.select("INBOX")
        client.counter += 1
        tag = f"a{client.counter}".encode()
        client.writer.write(tag + b" IDLE\r\n")
        await client.writer.drain()
        line = await client.read_response_line()
        if not line.startswith(b"+"):
            raise ImapError(f"IDLE: {line[:200]!r}")
        while not stop.is_set():
            try:
                line = await asyncio.wait_for(client.read_response_line(), 0.5)
            except asyncio.TimeoutError:
                continue
            words = line.split()
            if len(words) >= 3 and words[0] == b"*" and words[2] == b"EXISTS":
                exists = int(words[1])
                arrived = now()
                for _ in range(max(0, exists - known)):
                    if watchers.pending[user]:
                        stats.add("IDLE_WAKEUP", arrived - watchers.pending[user].popleft())
                known = max(known, exists)
        client.writer.write(b"DONE\r\n")
        await client.writer.drain()
        while not (await asyncio.wait_for(client.read_response_line(), 10)).startswith(tag):
            pass
    finally:
        await client.logout()


async def worker(args, index: int, watchers: Watchers, stats: Latencies, budget: list, deadline: float, run_id: str) -> None:
    user = index % args.users + 1
    session = Session(None, index, user, 0, args.size, run_id)   # one per client, across its logins
    names = [name for name, _ in MIX]
    weights = [weight for _, weight in MIX]
    while time.monotonic() < deadline and budget[0] > 0:
        client = None
        try:
            start = now()
            client = await Imap.connect(args.host, args.port)
            await client.login(args.user_format.format(n=user), args.password)
            stats.add("LOGIN", now() - start)   # connect + greeting + LOGIN
            start = now()
            session.client, session.exists = client, await client.select("INBOX")
            stats.add("SELECT", now() - start)
            budget[0] -= 2
            for _ in range(args.ops_per_session):
                if time.monotonic() >= deadline or budget[0] <= 0:
                    break
                budget[0] -= 1
                name = session.rng.choices(names, weights)[0]
                start = now()
                try:
                    await execute(session, name, on_append=lambda: watchers.pending[user].append(now()))
                except ImapError as error:
                    stats.error(name)
                    stats.error(f"{name}: {str(error).split(' ', 2)[-1][:100]}")
                    continue
                stats.add(name, now() - start)
            await client.logout()
        except (ImapError, ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError) as error:
            stats.error(f"session: {str(error)[:80]}")
            if client:
                client.close()
            await asyncio.sleep(0.2)


async def run(args) -> dict:
    run_id = "i" + uuid.uuid4().hex[:12]
    users = sorted({i % args.users + 1 for i in range(args.clients)})
    started = time.monotonic()
    for start in range(0, len(users), 8):
        await asyncio.gather(*(seed(args, user, run_id) for user in users[start:start + 8]))
    seed_seconds = time.monotonic() - started
    stats = Latencies()
    watchers = Watchers()
    stop = asyncio.Event()
    watcher_tasks = [asyncio.create_task(watcher(args, user, watchers, stats, stop)) for user in users] if args.idle else []
    await asyncio.sleep(1.0)   # let the watchers reach IDLE
    deadline = time.monotonic() + args.duration
    budget = [args.max_ops]
    start = now()
    await asyncio.gather(*(worker(args, i, watchers, stats, budget, deadline, run_id) for i in range(args.clients)))
    elapsed = now() - start
    await asyncio.sleep(1.0)   # late wake-ups
    stop.set()
    results = await asyncio.gather(*watcher_tasks, return_exceptions=True)
    for outcome in results:
        if isinstance(outcome, Exception):
            stats.error(f"watcher: {str(outcome)[:80]}")
    unanswered = sum(len(queue) for queue in watchers.pending.values())
    summary = stats.summary(elapsed)
    operations = sum(v["count"] for k, v in summary.items() if k != "IDLE_WAKEUP")
    return {
        "tool": "imap", "label": args.label, "clients": args.clients, "users": len(users),
        "seed_messages": args.seed, "message_size": args.size, "seed_seconds": round(seed_seconds, 2),
        "seconds": round(elapsed, 3), "operations": operations,
        "operations_per_s": round(operations / elapsed, 2) if elapsed else 0.0,
        "commands": summary, "idle_wakeups_missed": unanswered,
        "errors": sum(stats.errors.values()), "error_kinds": stats.errors,
    }


def main() -> None:
    parser = base_arguments(__doc__.split("\n")[0], 143)
    parser.add_argument("--clients", type=int, default=16, help="C")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    parser.add_argument("--max-ops", type=int, default=200_000, help="bound on commands in all")
    parser.add_argument("--ops-per-session", type=int, default=50)
    parser.add_argument("--seed", type=int, default=100, help="messages per INBOX before the load")
    parser.add_argument("--size", type=int, default=4096, help="size of seeded and appended messages")
    parser.add_argument("--no-idle", dest="idle", action="store_false", help="no IDLE watchers")
    args = parser.parse_args()
    check_loopback(args.host)
    raise_fd_limit(2 * args.clients + 256)
    args.duration = min(args.duration, args.time_limit)
    emit(asyncio.run(asyncio.wait_for(run(args), args.time_limit + 60)))


if __name__ == "__main__":
    main()
