#!/usr/bin/env python3
"""The rspamd of the smtp-checks scenario, shared by both servers: Debian's rspamd with
its Bayes classifier on a private redis-server, offline (every module that looks names
up is off: the servers check SPF, DKIM and DMARC themselves), two scanning processes
for each way in: the normal worker on 127.0.0.1:--scan-port (Rampart's /checkv2) and the
proxy worker in milter mode scanning itself on --milter-port (Postfix's milter). Runs
until SIGTERM; prints "ready" once both answer. --stat prints how many messages the
running one has scanned."""
import argparse
import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

# The modules the tests turn off (tests/test_rspamd.py) for the same reason.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))
from test_rspamd import DISABLED  # noqa: E402


def answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scan-port", type=int, default=14333)
    parser.add_argument("--milter-port", type=int, default=14332)
    parser.add_argument("--controller-port", type=int, default=14334)
    parser.add_argument("--stat", action="store_true")
    args = parser.parse_args()
    if args.stat:
        with urllib.request.urlopen(f"http://127.0.0.1:{args.controller_port}/stat", timeout=30) as r:
            print(json.loads(r.read())["scanned"])
        return
    with tempfile.TemporaryDirectory(prefix="rampart-bench-rspamd-") as root:
        os.chmod(root, 0o755)
        for name in ("conf/local.d", "conf/override.d", "db", "run", "log"):
            os.makedirs(os.path.join(root, name))
        redis_socket = os.path.join(root, "run", "redis.sock")
        files = {
            "override.d/worker-normal.inc": f'bind_socket = "127.0.0.1:{args.scan_port}";\ncount = 2;\n',
            "override.d/worker-proxy.inc":
                f'bind_socket = "127.0.0.1:{args.milter_port}";\nmilter = yes;\ncount = 2;\n'
                'timeout = 120s;\nupstream "local" {\n  default = yes;\n  self_scan = yes;\n}\n',
            "override.d/worker-controller.inc":
                f'bind_socket = "127.0.0.1:{args.controller_port}";\ncount = 1;\n'
                'secure_ip = "127.0.0.1";\n',
            "override.d/worker-fuzzy.inc": "count = -1;\n",
            "local.d/options.inc": 'dns { nameserver = ["127.0.0.1:9"]; timeout = 0.2s; '
                                   "retransmits = 1; }\n",
            "local.d/redis.conf": f'servers = "{redis_socket}";\n',
            "local.d/classifier-bayes.conf": f'servers = "{redis_socket}";\n',
            # What the milter adds, as Rampart adds X-Spamd-Result.
            "local.d/milter_headers.conf": 'use = ["x-spamd-result"];\nskip_local = false;\n'
                                           'skip_authenticated = false;\n',
        }
        for module in DISABLED:
            files[f"local.d/{module}.conf"] = "enabled = false;\n"
        for name, text in files.items():
            with open(os.path.join(root, "conf", name), "w") as f:
                f.write(text)
        user = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("_rspamd")
            for name in ("db", "run", "log"):
                os.chown(os.path.join(root, name), account.pw_uid, account.pw_gid)
            user = ["-u", "_rspamd", "-g", "_rspamd"]
        redis = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", redis_socket,
                                  "--unixsocketperm", "777", "--dir", os.path.join(root, "db"),
                                  "--save", "", "--appendonly", "no"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        var = lambda name, where: ["--var", f"{name}={os.path.join(root, where)}"]
        rspamd = subprocess.Popen(["rspamd", "-f", *user, "-c", "/etc/rspamd/rspamd.conf",
                                   *var("LOCAL_CONFDIR", "conf"), *var("DBDIR", "db"),
                                   *var("RUNDIR", "run"), *var("LOGDIR", "log")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        try:
            end = time.monotonic() + 600
            while not (answers(args.scan_port) and answers(args.milter_port)):
                if rspamd.poll() is not None or time.monotonic() > end:
                    with open(os.path.join(root, "log", "rspamd.log")) as f:
                        sys.stderr.write(f.read()[-4000:])
                    raise SystemExit("rspamd did not start")
                time.sleep(0.5)
            print("ready", flush=True)
            while not stop:
                time.sleep(0.2)
        finally:
            for process in (rspamd, redis):
                process.terminate()
                process.wait(60)


if __name__ == "__main__":
    main()
