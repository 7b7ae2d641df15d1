#!/usr/bin/env python3
"""JMAP: C clients over keep-alive HTTP/1.1 with Basic auth, client i working
as user (i mod N)+1. Each first seeds its Inbox to --seed messages with
Email/set create (not measured), then until --duration: Email/query (Inbox,
newest 20) + Email/get of those ids in one request (back-reference), Email/set
update of keywords ($flagged on/off) on one of them, and Email/set create of a
new message. Prints requests/s and p50/p99 per kind as JSON.
"""
import asyncio
import base64
import json
import random
import time
import urllib.parse
import uuid

from common import Latencies, base_arguments, check_loopback, emit, now, raise_fd_limit

USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]


class Http:
    def __init__(self, host: str, port: int, user: str, password: str) -> None:
        self.host, self.port = host, port
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: dict | None = None) -> dict:
        if self.writer is None:
            self.reader, self.writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), 30)
        data = json.dumps(body).encode() if body is not None else b""
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAuthorization: {self.auth}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\nAccept: application/json\r\n\r\n")
        self.writer.write(head.encode() + data)
        await self.writer.drain()
        status = await self.reader.readline()
        headers = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            payload = b""
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                payload += await self.reader.readexactly(size)
                await self.reader.readline()
        else:
            payload = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.writer.close()
            self.writer = None
        code = int(status.split()[1])
        if code in (301, 302, 307, 308) and "location" in headers:
            return {"_redirect": headers["location"]}
        if code != 200 and code != 201:
            raise RuntimeError(f"HTTP {code} for {path}: {payload[:200]!r}")
        return json.loads(payload) if payload else {}


def check(response: dict) -> list:
    calls = response.get("methodResponses", [])
    for name, result, _ in calls:
        if name == "error" or result.get("notCreated") or result.get("notUpdated"):
            raise RuntimeError(f"{name}: {json.dumps(result)[:200]}")
    return calls


async def session(http: Http) -> tuple[str, str]:
    for path in ("/.well-known/jmap", "/jmap/", "/jmap"):
        try:
            info = await http.request("GET", path)
            if "_redirect" in info:
                info = await http.request("GET", info["_redirect"])
            if "apiUrl" in info:
                account = info["primaryAccounts"].get("urn:ietf:params:jmap:mail") or next(iter(info["accounts"]))
                # An absolute URL names this server (the load is loopback only): its path.
                return urllib.parse.urlsplit(info["apiUrl"]).path or info["apiUrl"], account
        except (RuntimeError, ValueError):
            continue
    raise RuntimeError("no JMAP session resource")


def create_call(account: str, inbox: str, tag: str, size: int) -> list:
    body = ("The quick brown fox jumps over the lazy dog. " * (size // 46 + 1))[:size]
    return ["Email/set", {"accountId": account, "create": {"m": {
        "mailboxIds": {inbox: True}, "subject": f"bench {tag}", "from": [{"email": "bench@example.test"}],
        "to": [{"email": "user@example.test"}], "keywords": {"$seen": True},
        "bodyValues": {"b": {"value": body}}, "textBody": [{"partId": "b", "type": "text/plain"}]}}}, "c"]


async def prepare(args, index: int, run_id: str) -> tuple:
    """Logs in, finds the Inbox, seeds it to --seed messages (not measured)."""
    http = Http(args.host, args.port, args.user_format.format(n=index % args.users + 1), args.password)
    api, account = await session(http)
    calls = check(await http.request("POST", api, {"using": USING, "methodCalls": [
        ["Mailbox/query", {"accountId": account, "filter": {"role": "inbox"}}, "q"]]}))
    inbox = calls[0][1]["ids"][0]
    query = check(await http.request("POST", api, {"using": USING, "methodCalls": [
        ["Email/query", {"accountId": account, "filter": {"inMailbox": inbox}, "calculateTotal": True}, "q"]]}))
    for n in range(query[0][1].get("total", 0), args.seed):
        check(await http.request("POST", api, {"using": USING, "methodCalls": [
            create_call(account, inbox, f"{run_id}-{index}-{n}", args.size)]}))
    return http, api, account, inbox


async def client(args, index: int, prepared: tuple, stats: Latencies, deadline: float, run_id: str) -> None:
    http, api, account, inbox = prepared
    ids: list = []
    rng = random.Random(index)
    created = 0
    while time.monotonic() < deadline and args.budget[0] > 0:
        args.budget[0] -= 1
        kind = rng.choices(["query+get", "set-keywords", "set-create"], [60, 25, 15])[0]
        start = now()
        try:
            if kind == "query+get":
                calls = check(await http.request("POST", api, {"using": USING, "methodCalls": [
                    ["Email/query", {"accountId": account, "filter": {"inMailbox": inbox},
                                     "sort": [{"property": "receivedAt", "isAscending": False}], "limit": 20}, "q"],
                    ["Email/get", {"accountId": account, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                                   "properties": ["subject", "from", "receivedAt", "keywords", "preview"]}, "g"]]}))
                ids = calls[0][1]["ids"]
            elif kind == "set-keywords":
                if not ids:
                    continue
                flag = rng.random() < 0.5
                check(await http.request("POST", api, {"using": USING, "methodCalls": [
                    ["Email/set", {"accountId": account, "update": {rng.choice(ids): {"keywords/$flagged": flag or None}}}, "s"]]}))
            else:
                created += 1
                check(await http.request("POST", api, {"using": USING, "methodCalls": [create_call(account, inbox, f"{run_id}-{index}-new{created}", args.size)]}))
        except (RuntimeError, KeyError, ValueError) as error:
            stats.error(kind)
            stats.error(f"{kind}: {str(error)[:100]}")
            continue
        stats.add(kind, now() - start)


async def run(args) -> dict:
    run_id = "j" + uuid.uuid4().hex[:10]
    stats = Latencies()
    args.budget = [args.max_requests]
    started = time.monotonic()
    prepared = []
    for start in range(0, args.clients, 8):
        prepared += await asyncio.gather(*(prepare(args, i, run_id) for i in range(start, min(args.clients, start + 8))))
    seed_seconds = time.monotonic() - started
    deadline = time.monotonic() + min(args.duration, max(1.0, args.time_limit - seed_seconds))
    start = now()
    outcomes = await asyncio.gather(*(client(args, i, prepared[i], stats, deadline, run_id) for i in range(args.clients)),
                                    return_exceptions=True)
    elapsed = now() - start
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            stats.error(f"client: {str(outcome)[:100]}")
    summary = stats.summary(elapsed)
    requests = sum(v["count"] for v in summary.values())
    return {"tool": "jmap", "label": args.label, "clients": args.clients, "seconds": round(elapsed, 3),
            "requests": requests, "requests_per_s": round(requests / elapsed, 2) if elapsed else 0.0,
            "seed_seconds": round(seed_seconds, 2),
            "calls": summary, "errors": sum(stats.errors.values()), "error_kinds": stats.errors}


def main() -> None:
    parser = base_arguments(__doc__.split("\n")[0], 8080)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=50)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--max-requests", type=int, default=100_000)
    args = parser.parse_args()
    check_loopback(args.host)
    raise_fd_limit(args.clients + 256)
    emit(asyncio.run(asyncio.wait_for(run(args), args.time_limit + 60)))


if __name__ == "__main__":
    main()
