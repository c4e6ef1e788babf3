#!/usr/bin/env python3
"""The open model's accuracy targets, measured against one nginx on loopback:

1. 5000/s constant for 10 s: requests within 0.5% of 50,000, nothing dropped, `wait` p99 < 1 ms.
2. A server that freezes for 1 s (nginx stopped with SIGSTOP) during a run at 200/s with
   max_in_flight 8: the freeze shows in `latency` (p95 >= 300 ms), not in `service_time`
   (p90 < 50 ms) -- coordinated omission corrected.
3. Peak memory independent of run length: a 16 s run at 3000/s within 1.2x of a 4 s run.

    python3 benches/accuracy.py

Prints each measurement beside its target and PASS or MISS; exits 1 on a miss. Needs nginx
(apt-get install nginx). Sends traffic to 127.0.0.1 only.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time

from nginx_bench import Nginx, build_agentload, require


def run(binary, nginx, out, *flags):
    """Runs agentload against nginx; returns (summary, its peak RSS in KiB)."""
    child = subprocess.Popen(
        [binary, "run", "--target", nginx.base_url, "--team-id", "1", "--op", "get",
         "--agent-id", "bench-agent", "--quiet", "--out", out, *flags],
        env={**os.environ, "MAKE_API_TOKEN": "bench"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    # wait4 reports this child's own peak, not the largest of all children so far.
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"agentload exited with {child.returncode}")
    with open(os.path.join(out, "summary.json")) as f:
        return json.load(f), usage.ru_maxrss


misses = 0


def check(name, value, ok, target):
    global misses
    misses += 0 if ok else 1
    print(f"{'PASS' if ok else 'MISS'}  {name:<44} {value:<22} target {target}")


def main():
    require("nginx", "apt-get install nginx")
    binary = build_agentload()
    work = tempfile.mkdtemp(prefix="agentload-accuracy-")
    with Nginx(work) as nginx:
        # 1. Exact rate.
        summary, _ = run(binary, nginx, f"{work}/rate", "--rate", "5000/s", "--arrival", "constant",
                         "--duration", "10s")
        get = summary["ops"]["get"]
        requests = get["requests"]
        wait_p99 = get["metrics"]["wait"]["p99"]
        check("5000/s x 10 s: requests", requests, abs(requests - 50_000) <= 250, "50,000 +- 0.5%")
        check("5000/s x 10 s: errors", get["errors"], get["errors"] == 0, "0")
        check("5000/s x 10 s: dropped", summary["load"]["dropped_iterations"],
              summary["load"]["dropped_iterations"] == 0, "0")
        check("5000/s x 10 s: wait p99", f"{wait_p99:.3f} ms", wait_p99 < 1.0, "< 1 ms")

        # 2. A 1 s freeze: coordinated omission.
        def freeze_later():
            time.sleep(2.0)
            nginx.freeze()
            time.sleep(1.0)
            nginx.thaw()

        freezer = threading.Thread(target=freeze_later)
        freezer.start()
        summary, _ = run(binary, nginx, f"{work}/freeze", "--rate", "200/s", "--max-in-flight", "8",
                         "--duration", "6s")
        freezer.join()
        metrics = summary["ops"]["get"]["metrics"]
        latency_p95 = metrics["latency"]["p95"]
        service_p90 = metrics["service_time"]["p90"]
        check("freeze 1 s at 200/s: latency p95", f"{latency_p95:.1f} ms", latency_p95 >= 300, ">= 300 ms")
        check("freeze 1 s at 200/s: service_time p90", f"{service_p90:.1f} ms", service_p90 < 50, "< 50 ms")
        print(f"      (service_time p99 {metrics['service_time']['p99']:.1f} ms, "
              f"wait p95 {metrics['wait']['p95']:.1f} ms)")

        # 3. Memory does not grow with the run's length.
        _, short_kib = run(binary, nginx, f"{work}/short", "--rate", "3000/s", "--duration", "4s")
        _, long_kib = run(binary, nginx, f"{work}/long", "--rate", "3000/s", "--duration", "16s")
        ratio = long_kib / short_kib
        check("peak RSS 16 s / 4 s at 3000/s", f"{long_kib / 1024:.1f} / {short_kib / 1024:.1f} MiB = {ratio:.2f}x",
              ratio <= 1.2, "<= 1.2x")
    sys.exit(1 if misses else 0)


if __name__ == "__main__":
    main()
