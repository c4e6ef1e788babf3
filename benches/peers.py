#!/usr/bin/env python3
"""Throughput side by side: agentload, oha and wrk, alternately, against one nginx on loopback.

Closed loop, 32 connections, a small JSON GET (an agent object, as the API's get returns it).
Each tool runs ROUNDS times for DURATION seconds, in rotating order so drift in the machine's
load hits all of them alike; the script prints every round, each tool's median, and the ratios.

    python3 benches/peers.py                 # 5 rounds of 10 s
    ROUNDS=3 DURATION=5 python3 benches/peers.py

Needs nginx, wrk (apt-get install nginx wrk) and oha (cargo install oha). Builds agentload in
release mode first. Sends traffic to 127.0.0.1 only.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from nginx_bench import Nginx, agent_url, build_agentload, require

ROUNDS = int(os.environ.get("ROUNDS", "5"))
DURATION = int(os.environ.get("DURATION", "10"))
CONNECTIONS = 32


def run_agentload(binary, nginx, workdir, round_no):
    out = os.path.join(workdir, f"agentload-{round_no}")
    subprocess.run(
        [binary, "run", "--target", nginx.base_url, "--team-id", "1", "--op", "get",
         "--agent-id", "bench-agent", "--vus", str(CONNECTIONS), "--duration", f"{DURATION}s",
         "--quiet", "--out", out],
        env={**os.environ, "MAKE_API_TOKEN": "bench"}, check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    get = summary["ops"]["get"]
    if get["errors"]:
        sys.exit(f"agentload saw errors: {get['error_classes']}")
    return get["requests"] / summary["duration_s"]


def run_oha(nginx):
    result = subprocess.run(
        ["oha", "-z", f"{DURATION}s", "-c", str(CONNECTIONS), "--no-tui", "--output-format", "json",
         agent_url(nginx)],
        check=True, capture_output=True, text=True,
    )
    summary = json.loads(result.stdout)
    if summary["summary"]["successRate"] < 1.0:
        sys.exit("oha saw errors")
    return summary["summary"]["requestsPerSec"]


def run_wrk(nginx):
    result = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", agent_url(nginx)],
        check=True, capture_output=True, text=True,
    )
    for line in result.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    sys.exit(f"cannot read wrk's output:\n{result.stdout}")


def main():
    require("nginx", "apt-get install nginx")
    require("wrk", "apt-get install wrk")
    require("oha", "cargo install oha")
    binary = build_agentload()
    workdir = tempfile.mkdtemp(prefix="agentload-peers-")
    tools = {
        "agentload": lambda nginx, r: run_agentload(binary, nginx, workdir, r),
        "oha": lambda nginx, r: run_oha(nginx),
        "wrk": lambda nginx, r: run_wrk(nginx),
    }
    results = {name: [] for name in tools}
    names = list(tools)
    try:
        with Nginx(workdir) as nginx:
            print(f"nginx on {nginx.base_url}; {ROUNDS} rounds of {DURATION} s, {CONNECTIONS} connections, closed loop")
            for r in range(ROUNDS):
                order = names[r % len(names):] + names[:r % len(names)]
                row = []
                for name in order:
                    rate = tools[name](nginx, r)
                    results[name].append(rate)
                    row.append(f"{name} {rate:9.0f}/s")
                print(f"round {r + 1}: " + "   ".join(row), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    medians = {name: statistics.median(rates) for name, rates in results.items()}
    print()
    for name, median in medians.items():
        print(f"median {name:9} {median:9.0f} requests/s")
    print(f"ratio agentload/oha {medians['agentload'] / medians['oha']:.2f}x")
    print(f"ratio agentload/wrk {medians['agentload'] / medians['wrk']:.2f}x")
    print(f"ratio wrk/oha       {medians['wrk'] / medians['oha']:.2f}x")


if __name__ == "__main__":
    main()
