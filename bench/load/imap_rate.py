#!/usr/bin/env python3
"""IMAP at a fixed offered rate, open loop: commands arrive at --rate per
second in all (Poisson arrivals, or evenly spaced with --arrivals uniform),
spread over --connections connections (connection i as user (i mod N)+1), each
command drawn from imap_mix.OPEN_MIX. The whole schedule is drawn before the
load starts (from a seed fixed per rate, so every server gets the same one)
and does not wait for the server: a connection whose previous command is still
outstanding sends the next one as soon as it is answered (no pipelining), and
every command's latency runs from its scheduled time, not from when it could
be sent, so time spent queued behind a slow answer counts (no coordinated
omission). (A command may be sent up to 1 ms before its time, asyncio's timers
being millisecond-grained; it is then timed from its sending.)

One step: open the connections (LOGIN once each, mailboxes prepared with
imap_mix.prepare: --seed messages in INBOX, the same folders everywhere,
what earlier steps appended expunged), run the schedule for --duration
seconds (commands scheduled in the first --warmup seconds are sent but not
counted), wait at most --drain seconds for the last answers, LOGOUT.

    imap_rate.py --rate R [--duration S]          one step at R commands/s
    imap_rate.py --find-max [--p99-ms 50]         the highest rate that passes

--find-max searches for the highest rate at which a step passes: p99 over all
commands under --p99-ms, no errors, nothing left unanswered. It doubles from
--start-rate until a step fails, then bisects until the bounds are within
--precision, with steps of --step-seconds, stopping early (with the bounds
found so far) when --search-seconds would be exceeded.

Prints one JSON object: per step, achieved rate, p50/p99 per command and over
all, errors; and how late the tool itself sent commands whose connection was
free (client lag: if that grows, the tool is the limit, not the server).
"""
import asyncio
import random
import time
import uuid

from common import (Imap, ImapError, Latencies, base_arguments, check_loopback,
                    emit, now, percentile, raise_fd_limit)
from imap_mix import OPEN_MIX, Session, execute, prepare

EARLY = 0.001
FAILURES = (ImapError, ConnectionError, OSError, asyncio.TimeoutError, asyncio.IncompleteReadError)


def schedule(rate: float, duration: float, connections: int, arrivals: str, seed: int) -> list[list[tuple[float, str]]]:
    """Per connection, its (offset in seconds, command) in time order. Poisson:
    exponential gaps over the total rate, each arrival on a random connection
    (so each connection is a Poisson stream of rate/connections); uniform:
    every 1/rate seconds, round robin."""
    rng = random.Random(seed)
    names = [name for name, _ in OPEN_MIX]
    weights = [weight for _, weight in OPEN_MIX]
    plans: list[list[tuple[float, str]]] = [[] for _ in range(connections)]
    t, k = 0.0, 0
    while True:
        t = t + rng.expovariate(rate) if arrivals == "poisson" else k / rate
        if t >= duration:
            return plans
        target = rng.randrange(connections) if arrivals == "poisson" else k % connections
        plans[target].append((t, rng.choices(names, weights)[0]))
        k += 1


async def open_session(args, index: int, run_id: str) -> Session:
    user = index % args.users + 1
    client = await Imap.connect(args.host, args.port)
    try:
        await client.login(args.user_format.format(n=user), args.password)
        exists = await prepare(client, args.seed, args.size, run_id, trim=True)
    except BaseException:
        client.close()
        raise
    return Session(client, index, user, exists, args.size, run_id)


class Step:
    """What one step records: latencies from scheduled time, the tool's own
    lateness, errors, and per connection the first command not yet answered."""

    def __init__(self, connections: int) -> None:
        self.stats = Latencies()
        self.everything: list[float] = []
        self.lag: list[float] = []
        self.completed = 0
        self.last_done = 0.0
        self.next: list[int] = [0] * connections


async def paced(args, session: Session, plan: list, origin: float, warmup: float, step: Step, slot: int) -> None:
    for position, (offset, name) in enumerate(plan):
        due = origin + offset
        delay = due - now()
        if delay > 0:
            # Timers fire up to 1 ms late (epoll's millisecond timeout), so
            # wake 1 ms early; a command sent early is timed from its sending.
            if delay > EARLY:
                await asyncio.sleep(delay - EARLY)
            step.lag.append(max(0.0, now() - due))   # the connection was free: lateness is the tool's
        start = min(due, now())   # late: from the schedule; early: from the sending
        try:
            if session.client is None:   # the last command lost the connection
                client = await Imap.connect(args.host, args.port)
                try:
                    await client.login(args.user_format.format(n=session.user), args.password)
                    session.exists = await client.select("INBOX")
                except BaseException:
                    client.close()
                    raise
                session.client = client
            await execute(session, name)
        except FAILURES as error:
            step.next[slot] = position + 1
            step.stats.error(name)
            step.stats.error(f"{name}: {str(error).split(' ', 2)[-1][:100]}")
            if session.client and (not isinstance(error, ImapError) or "connection closed" in str(error)):
                session.client.close()
                session.client = None
            continue
        done = now()
        step.next[slot] = position + 1
        if offset >= warmup:
            step.stats.add(name, done - start)
            step.everything.append(done - start)
            step.completed += 1
            step.last_done = done


async def run_step(args, rate: float, duration: float, run_id: str) -> dict:
    warmup = min(args.warmup, duration / 4)
    plans = schedule(rate, duration, args.connections, args.arrivals, seed=int(rate * 1000))
    setup_started = now()
    opened = await asyncio.gather(*(open_session(args, i, run_id) for i in range(args.connections)),
                                  return_exceptions=True)
    sessions = [o for o in opened if isinstance(o, Session)]
    failures = [str(o)[:80] for o in opened if isinstance(o, BaseException)]
    setup_seconds = now() - setup_started
    step = Step(len(sessions))
    for failure in failures:
        step.stats.error(f"connect: {failure}")
    await asyncio.sleep(args.settle)   # let the server finish what preparing (expunges) started
    origin = now() + 0.05
    tasks = [asyncio.create_task(paced(args, session, plans[slot], origin, warmup, step, slot))
             for slot, session in enumerate(sessions)]
    late: set = set()
    if tasks:
        _, late = await asyncio.wait(tasks, timeout=origin + duration + args.drain - now())
    cut = now()
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    # Commands still unanswered at the cut count as taking at least until the
    # cut, so they weigh on the percentiles instead of vanishing from them.
    unfinished = 0
    for slot in range(len(sessions)):
        for offset, _ in plans[slot][step.next[slot]:]:
            if offset >= warmup:
                unfinished += 1
                step.everything.append(max(0.0, cut - (origin + offset)))
    # The plans of connections that never opened are errors.
    never_sent = sum(1 for plan in plans[len(sessions):] for offset, _ in plan if offset >= warmup)
    await asyncio.gather(*(s.client.logout() for slot, s in enumerate(sessions)
                           if s.client and tasks[slot] not in late))
    for slot in range(len(sessions)):
        if sessions[slot].client and tasks[slot] in late:
            sessions[slot].client.close()
    window_start = origin + warmup
    scheduled = sum(1 for plan in plans for offset, _ in plan if offset >= warmup)
    span = max(step.last_done - window_start, duration - warmup)
    errors = sum(v for k, v in step.stats.errors.items() if ":" not in k) + len(failures) + never_sent
    p50 = percentile(step.everything, 50) if step.everything else None
    p99 = percentile(step.everything, 99) if step.everything else None
    lag_ms = lambda p: round(1000 * percentile(step.lag, p), 3) if step.lag else None
    return {
        "rate": rate, "arrivals": args.arrivals, "connections": args.connections,
        "connections_opened": len(sessions), "duration": duration, "warmup": warmup,
        "setup_seconds": round(setup_seconds, 2), "scheduled": scheduled,
        "offered_per_s": round(scheduled / (duration - warmup), 1),
        "completed": step.completed, "achieved_per_s": round(step.completed / span, 1),
        "unfinished": unfinished,
        "p50_ms": None if p50 is None else round(1000 * p50, 3),
        "p99_ms": None if p99 is None else round(1000 * p99, 3),
        "commands": step.stats.summary(span),
        "client_lag_p50_ms": lag_ms(50), "client_lag_p99_ms": lag_ms(99),
        "errors": errors, "error_kinds": step.stats.errors,
        "passed": p99 is not None and 1000 * p99 < args.p99_ms and errors == 0 and unfinished == 0,
    }


async def find_max(args, run_id: str) -> dict:
    """Doubling from --start-rate until a step fails, then bisecting between
    the highest rate that passed and the lowest that failed; bounded by
    --search-seconds (judged by the slowest step so far)."""
    started = time.monotonic()
    steps: list[dict] = []
    passed, failed = 0.0, None   # highest rate that passed, lowest that failed

    def settled() -> bool:
        if failed is None:
            return False
        if passed:
            return failed - passed <= args.precision * passed
        return failed <= args.start_rate / 8   # fails even at a trickle

    rate = args.start_rate
    while not settled() and rate <= args.max_rate:
        slowest = max([s["seconds"] for s in steps] + [args.step_seconds + 5])
        if time.monotonic() - started + slowest > args.search_seconds:
            break
        step_started = time.monotonic()
        result = await run_step(args, rate, args.step_seconds, run_id)
        result["seconds"] = round(time.monotonic() - step_started, 2)
        steps.append(result)
        if result["passed"]:
            passed = max(passed, rate)
        else:
            failed = rate if failed is None else min(failed, rate)
        rate = rate * 2 if failed is None else round((passed + failed) / 2)
        await asyncio.sleep(args.pause)
    return {"max_rate": passed, "lowest_failed_rate": failed, "settled": settled(),
            "p99_target_ms": args.p99_ms, "step_seconds": args.step_seconds,
            "search_seconds": round(time.monotonic() - started, 1),
            "steps": [{k: s[k] for k in ("rate", "passed", "achieved_per_s", "p50_ms", "p99_ms", "errors",
                                          "unfinished", "client_lag_p99_ms", "seconds")} for s in steps]}


async def run(args) -> dict:
    run_id = "r" + uuid.uuid4().hex[:12]
    out = {"tool": "imap_rate", "label": args.label, "users": min(args.users, args.connections),
           "seed_messages": args.seed, "message_size": args.size,
           "mix": {name: weight for name, weight in OPEN_MIX}}
    if args.find_max:
        out["search"] = await find_max(args, run_id)
    else:
        out.update(await run_step(args, args.rate, args.duration, run_id))
    return out


def main() -> None:
    parser = base_arguments(__doc__.split("\n")[0], 143)
    parser.add_argument("--rate", type=float, help="commands per second in all (one step)")
    parser.add_argument("--find-max", action="store_true", help="search for the highest passing rate")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--arrivals", choices=["poisson", "uniform"], default="poisson")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of schedule (one step)")
    parser.add_argument("--warmup", type=float, default=1.0, help="first seconds of a step not counted")
    parser.add_argument("--drain", type=float, default=5.0, help="seconds to wait for answers after the schedule")
    parser.add_argument("--settle", type=float, default=1.0, help="pause between preparing and the schedule")
    parser.add_argument("--pause", type=float, default=0.5, help="pause between search steps")
    parser.add_argument("--p99-ms", type=float, default=50.0, help="a step passes with p99 under this")
    parser.add_argument("--start-rate", type=float, default=250.0)
    parser.add_argument("--max-rate", type=float, default=32000.0)
    parser.add_argument("--precision", type=float, default=0.1, help="bisect until within this fraction")
    parser.add_argument("--step-seconds", type=float, default=5.0, help="schedule length of a search step")
    parser.add_argument("--search-seconds", type=float, default=150.0, help="bound on the whole search")
    parser.add_argument("--seed", type=int, default=100, help="messages per INBOX before each step")
    parser.add_argument("--size", type=int, default=4096, help="size of seeded and appended messages")
    args = parser.parse_args()
    check_loopback(args.host)
    if bool(args.rate) == args.find_max:
        parser.error("give either --rate R or --find-max")
    raise_fd_limit(2 * args.connections + 256)
    args.duration = min(args.duration, args.time_limit)
    args.search_seconds = min(args.search_seconds, args.time_limit)
    emit(asyncio.run(asyncio.wait_for(run(args), args.time_limit + 60)))


if __name__ == "__main__":
    main()
