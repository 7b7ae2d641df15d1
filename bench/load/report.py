#!/usr/bin/env python3
"""Turns one scripts/bench run (a directory of per-run JSON files, each
{"server", "round", "config", "result"}) into one table on stdout and one
JSON file: the median over rounds of each figure for each server, and
Rampart's ratio to each peer (Rampart / peer).

    report.py SCENARIO RUNS_DIR OUT_JSON --limits JSON --skipped FILE --parameters JSON
"""
import argparse
import glob
import json
import os
import platform
import statistics

# (figure, direction): "+" more is better, "-" less is better, "=" must be 0.
Figure = tuple[str, str]


def figures(scenario: str, config: str, result: dict) -> list[tuple[str, str, float | None]]:
    out = []
    if scenario in ("smtp", "smtp-checks"):
        out.append((f"{config} msg/s", "+", result.get("messages_per_s")))
        out.append((f"{config} p50 ms", "-", result.get("p50_ms")))
        out.append((f"{config} p99 ms", "-", result.get("p99_ms")))
        out.append((f"{config} lost", "=", result.get("lost")))
        out.append((f"{config} refused", "-", result.get("errors")))
    elif scenario == "imap":
        out.append((f"{config} ops/s (all commands)", "+", result.get("operations_per_s")))
        for name, stats in sorted(result.get("commands", {}).items()):
            if ":" in name:
                continue
            out.append((f"{config} {name} p50 ms", "-", stats.get("p50_ms")))
            out.append((f"{config} {name} p99 ms", "-", stats.get("p99_ms")))
        out.append((f"{config} IDLE wake-ups missed", "-", result.get("idle_wakeups_missed")))
        out.append((f"{config} errors", "-", result.get("errors")))
    elif scenario == "imap-rate":
        if config == "max":   # the search for the highest rate with p99 under the target
            search = result.get("search", {})
            out.append((f"max rate p99<{search.get('p99_target_ms', 50):g}ms", "+", search.get("max_rate")))
            return out
        out.append((f"{config} achieved/s", "+", result.get("achieved_per_s")))
        out.append((f"{config} all p50 ms", "-", result.get("p50_ms")))
        out.append((f"{config} all p99 ms", "-", result.get("p99_ms")))
        for name, stats in sorted(result.get("commands", {}).items()):
            if ":" in name:
                continue
            out.append((f"{config} {name} p50 ms", "-", stats.get("p50_ms")))
            out.append((f"{config} {name} p99 ms", "-", stats.get("p99_ms")))
        out.append((f"{config} errors", "-", result.get("errors")))
        out.append((f"{config} unanswered", "-", result.get("unfinished")))
        out.append((f"{config} tool lag p99 ms", "-", result.get("client_lag_p99_ms")))
    elif scenario == "idle":
        out.append((f"{config} connections idling", "+", result.get("established")))
        out.append((f"{config} alive at end", "+", result.get("alive_at_end")))
        out.append((f"{config} RSS KiB/connection", "-", result.get("rss_kib_per_connection")))
        out.append((f"{config} PSS KiB/connection", "-", result.get("pss_kib_per_connection")))
        out.append((f"{config} RSS total MiB", "-", result.get("rss_total_mib")))
        out.append((f"{config} PSS total MiB", "-", result.get("pss_total_mib")))
        out.append((f"{config} seconds to open all", "-", result.get("open_seconds")))
    elif scenario == "outbound":   # one config: relayed to the sink
        out.append(("msg/s submitted to sink-accepted", "+", result.get("messages_per_s")))
        out.append(("p50 ms submitted to sink-accepted", "-", result.get("p50_ms")))
        out.append(("p99 ms submitted to sink-accepted", "-", result.get("p99_ms")))
        out.append(("lost", "=", result.get("lost")))
        out.append(("duplicated", "=", result.get("duplicated")))
        out.append(("submission msg/s", "+", result.get("submitted_per_s")))
        out.append(("submission p99 ms", "-", result.get("submit_p99_ms")))
        out.append(("submissions refused", "-", result.get("errors")))
        out.append(("SMTP sessions at the sink", "-", result.get("sink_sessions")))
        out.append(("  of which with TLS", "+", result.get("sink_tls_sessions")))
        out.append(("sink's own delivery lag p99 ms", "-", result.get("sink_lag_p99_ms")))
    elif scenario == "jmap":
        out.append(("requests/s", "+", result.get("requests_per_s")))
        for name, stats in sorted(result.get("calls", {}).items()):
            if ":" in name:
                continue
            out.append((f"{name}/s", "+", stats.get("per_s")))
            out.append((f"{name} p50 ms", "-", stats.get("p50_ms")))
            out.append((f"{name} p99 ms", "-", stats.get("p99_ms")))
        out.append(("errors", "-", result.get("errors")))
    return out


def machine() -> dict:
    memory_kib = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    cpu = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cores": os.cpu_count(), "memory_mib": memory_kib // 1024, "cpu": cpu,
            "kernel": platform.release(), "load_average": os.getloadavg()}


def fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value != value:
        return "-"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario")
    parser.add_argument("runs_dir")
    parser.add_argument("out")
    parser.add_argument("--limits", default="{}")
    parser.add_argument("--skipped", help="file of server<TAB>why lines")
    parser.add_argument("--parameters", default="{}")
    args = parser.parse_args()

    paths = sorted(glob.glob(os.path.join(args.runs_dir, "*.json")), key=os.path.getmtime)
    runs = [json.load(open(path)) for path in paths]   # in the order they ran
    skipped = {}
    if args.skipped and os.path.exists(args.skipped):
        for line in open(args.skipped):
            if "\t" in line:
                server, why = line.rstrip("\n").split("\t", 1)
                skipped[server] = why
    servers: list[str] = []
    values: dict[tuple[str, str], list] = {}
    directions: dict[str, str] = {}
    order: list[str] = []
    for run in runs:
        if run["server"] not in servers:
            servers.append(run["server"])
        for name, direction, value in figures(args.scenario, run["config"], run["result"]):
            if name not in directions:
                directions[name] = direction
                order.append(name)
            if value is not None:
                values.setdefault((run["server"], name), []).append(value)

    def median(server: str, name: str):
        found = values.get((server, name))
        if not found:
            return None
        if directions[name] == "=":
            return sum(found)   # losses add up over rounds
        return statistics.median(found)

    servers.sort(key=lambda server: server != "rampart")   # Rampart first, peers in run order
    table = {server: {name: median(server, name) for name in order} for server in servers}
    peers = [s for s in servers if s != "rampart"]
    has_rampart = "rampart" in servers
    columns = servers + ([f"rampart/{p}" for p in peers] if has_rampart else [])
    width = max([len(n) for n in order] + [10]) + 2
    limits = json.loads(args.limits)

    print()
    print(f"scenario {args.scenario}: median of {max([r['round'] for r in runs] + [0])} round(s); "
          "+ more is better, - less is better, = must be 0")
    m = machine()
    print(f"machine: {m['cores']} cores, {m['memory_mib']} MiB, {m['cpu']}; "
          f"disk {fmt(limits.get('fsyncs_per_s'))} fsync/s ({fmt(limits.get('fsync_ms'))} ms each), "
          f"loopback {fmt(limits.get('loopback_MB_per_s'))} MB/s")
    print("".ljust(width + 2) + "".join(c.rjust(max(12, len(c) + 2)) for c in columns))
    for name in order:
        row = f"{directions[name]} {name.ljust(width)}"
        for server in servers:
            row += fmt(table[server][name]).rjust(max(12, len(server) + 2))
        if has_rampart:
            for peer in peers:
                mine, theirs = table["rampart"][name], table[peer][name]
                ratio = "-" if mine is None or not theirs or mine != mine or theirs != theirs else f"{mine / theirs:.2f}x"
                row += ratio.rjust(max(12, len(f"rampart/{peer}") + 2))
        print(row)
    if args.scenario == "imap-rate":   # how each search went: rate, pass or fail, p99
        for run in runs:
            search = run["result"].get("search")
            if search:
                steps = ", ".join(f"{s['rate']:g} {'ok' if s['passed'] else 'FAIL'} ({fmt(s['p99_ms'])} ms)"
                                  for s in search["steps"])
                print(f"search {run['server']} r{run['round']}: {steps} -> {fmt(search['max_rate'])}"
                      f"{'' if search['settled'] else ' (unsettled: out of time or past the highest rate tried)'}")
    for server, why in skipped.items():
        print(why if why.startswith(server) else f"{server}: {why}")
    lost = {f"{s} {n}": table[s][n] for s in servers for n in order if directions[n] == "=" and table[s][n]}
    if lost:
        print(f"NOT ZERO (acknowledged messages lost or delivered twice): {lost}")

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as out:
        json.dump({"scenario": args.scenario, "machine": m, "limits": limits,
                   "parameters": json.loads(args.parameters), "skipped": skipped,
                   "medians": table, "directions": directions, "runs": runs}, out, indent=1)
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
