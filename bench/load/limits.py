#!/usr/bin/env python3
"""The machine's physical limits that bound every server: how many fsyncs per
second the disk under DIR completes (a 4 KiB write + fsync each, one thread,
which is what one durable delivery costs at least), and how many bytes per
second one TCP connection over loopback carries. Prints JSON.

    limits.py DIR [--seconds S]
"""
import argparse
import json
import os
import socket
import threading
import time


def fsync_rate(directory: str, seconds: float) -> dict:
    path = os.path.join(directory, f".fsync-probe-{os.getpid()}")
    block = os.urandom(4096)
    count = 0
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        start = time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline and count < 1_000_000:
            os.write(fd, block)
            os.fsync(fd)
            count += 1
        elapsed = time.perf_counter() - start
    finally:
        os.close(fd)
        os.unlink(path)
    return {"fsyncs_per_s": round(count / elapsed, 1), "fsync_ms": round(1000 * elapsed / max(count, 1), 3)}


def loopback_bandwidth(seconds: float) -> dict:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    received = [0]

    def drain():
        conn, _ = listener.accept()
        with conn:
            while True:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    return
                received[0] += len(chunk)

    thread = threading.Thread(target=drain)
    thread.start()
    payload = b"x" * (1 << 20)
    with socket.create_connection(listener.getsockname()) as sender:
        start = time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline:
            sender.sendall(payload)
    thread.join(timeout=10)
    elapsed = time.perf_counter() - start
    listener.close()
    return {"loopback_MB_per_s": round(received[0] / elapsed / 1e6, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir")
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    result = fsync_rate(args.dir, args.seconds)
    result.update(loopback_bandwidth(args.seconds))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
