#!/usr/bin/env python3
"""A trivial asyncio server speaking just enough SMTP/LMTP and IMAP for the
load tools, storing nothing but counts: run the tools against it to find the
tools' own ceiling (if a real server comes near it, the tool is the
bottleneck, not the server).

    sink.py --smtp-port P --imap-port Q [--seconds S]

SMTP accepts every transaction and remembers, per recipient user, how many
messages carried each X-Bench-Run value; IMAP accepts any LOGIN, answers
SELECT with a fixed mailbox, FETCH with canned headers/bodies, STORE, SEARCH
(HEADER X-Bench-Run answers from the SMTP counts), APPEND (waking that user's
IDLE sessions), IDLE, NOOP, LOGOUT. Exits after --seconds.
"""
import argparse
import asyncio
import collections
import re

received: dict[tuple[str, str], int] = collections.Counter()
appended: dict[str, int] = collections.Counter()
idlers: dict[str, set] = collections.defaultdict(set)
EXISTS = 100
HEADER = (b"From: a@example.test\r\nTo: b@example.test\r\nSubject: bench alpha\r\n"
          b"Message-ID: <x@example.test>\r\n\r\n")
BODY = HEADER + b"x" * 4000 + b"\r\n"


async def smtp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"220 sink ESMTP\r\n")
    recipients: list[str] = []
    try:
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"LHLO"):
                writer.write(b"250-sink\r\n250 PIPELINING\r\n")
            elif verb == b"HELO" or verb == b"NOOP" or verb == b"RSET":
                recipients = []
                writer.write(b"250 ok\r\n")
            elif verb == b"MAIL":
                recipients = []
                writer.write(b"250 ok\r\n")
            elif verb == b"RCPT":
                address = line[line.find(b"<") + 1:line.find(b">")].decode()
                recipients.append(address.split("@")[0])
                writer.write(b"250 ok\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go\r\n")
                await writer.drain()
                run_id = ""
                while (data := await reader.readline()) not in (b".\r\n", b""):
                    if not run_id and data.startswith(b"X-Bench-Run: "):
                        run_id = data[13:].strip().decode()
                for user in recipients:
                    received[(user, run_id)] += 1
                writer.write(b"250 ok\r\n" * (len(recipients) if line[:4] == b"LHLO" else 1))
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"500 what\r\n")
            await writer.drain()
    except ConnectionError:
        pass
    writer.close()


async def imap(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"* OK sink IMAP4rev1\r\n")
    user = ""
    wake = asyncio.Event()
    try:
        while line := await reader.readline():
            tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
            verb, _, args = rest.partition(b" ")
            verb = verb.upper()
            if verb == b"LOGIN":
                user = args.split()[0].strip(b'"').decode().split("@")[0]
                writer.write(tag + b" OK logged in\r\n")
            elif verb in (b"SELECT", b"EXAMINE"):
                writer.write(b"* %d EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen \\Flagged)\r\n" % (EXISTS + appended[user]))
                writer.write(tag + b" OK [READ-WRITE] done\r\n")
            elif verb == b"FETCH":
                seqs = args.split()[0]
                low, _, high = seqs.partition(b":")
                payload = BODY if b"BODY.PEEK[]" in args else HEADER
                for seq in range(int(low), int(high or low) + 1):
                    writer.write(b"* %d FETCH (UID %d FLAGS () RFC822.SIZE %d BODY[] {%d}\r\n" % (seq, seq, len(payload), len(payload)))
                    writer.write(payload + b")\r\n")
                writer.write(tag + b" OK done\r\n")
            elif verb == b"STORE":
                writer.write(b"* %s FETCH (FLAGS (\\Seen))\r\n" % args.split()[0])
                writer.write(tag + b" OK done\r\n")
            elif verb == b"SEARCH":
                match = re.search(rb"X-Bench-Run (\S+)", args)
                count = received[(user, match.group(1).decode())] if match else 7
                writer.write(b"* SEARCH" + b"".join(b" %d" % i for i in range(1, count + 1)) + b"\r\n")
                writer.write(tag + b" OK done\r\n")
            elif verb == b"APPEND":
                size = int(args[args.rfind(b"{") + 1:args.rfind(b"}")].rstrip(b"+"))
                writer.write(b"+ go\r\n")
                await writer.drain()
                await reader.readexactly(size)
                await reader.readline()
                appended[user] += 1
                for other in idlers[user]:
                    other.set()
                writer.write(tag + b" OK done\r\n")
            elif verb == b"IDLE":
                writer.write(b"+ idling\r\n")
                await writer.drain()
                idlers[user].add(wake)
                done = asyncio.create_task(reader.readline())
                while True:
                    waiter = asyncio.create_task(wake.wait())
                    finished, _ = await asyncio.wait({done, waiter}, return_when=asyncio.FIRST_COMPLETED)
                    if waiter in finished:
                        wake.clear()
                        writer.write(b"* %d EXISTS\r\n" % (EXISTS + appended[user]))
                        await writer.drain()
                    if done in finished:
                        waiter.cancel()
                        break
                idlers[user].discard(wake)
                writer.write(tag + b" OK idle done\r\n")
            elif verb == b"LOGOUT":
                writer.write(b"* BYE\r\n" + tag + b" OK bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(tag + b" OK done\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    writer.close()


async def main(args) -> None:
    servers = [await asyncio.start_server(smtp, "127.0.0.1", args.smtp_port),
               await asyncio.start_server(imap, "127.0.0.1", args.imap_port, limit=1 << 20)]
    print("sink: listening", flush=True)
    await asyncio.sleep(args.seconds)
    for server in servers:
        server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smtp-port", type=int, default=19025)
    parser.add_argument("--imap-port", type=int, default=19143)
    parser.add_argument("--seconds", type=float, default=300)
    asyncio.run(main(parser.parse_args()))
