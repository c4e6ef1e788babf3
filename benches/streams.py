#!/usr/bin/env python3
"""Streaming fidelity and scale, measured on loopback:

1. sim: accuracy against `agentload mock` (a separate process) streaming 5 steps with a fixed
   time to first step (200 ms) and step gap (50 ms) to 500 concurrent streams (closed model,
   500 virtual users): the medians of `ttfs` and `inter_step` within 2 ms of the truth, no
   errors, exactly 5 steps a stream.
2. foreign: the same against a server that is not ours, written here on asyncio: HTTP/1.1 with
   chunked bodies, and every valid SSE framing that trips decoders -- a BOM, CRLF, CR and LF line
   ends, comments and keep-alive lines, multi-line `data`, `event: step` with the optional space,
   a `ping` event and an `event:  step` (two spaces: its type is " step", not a step), events
   split across TCP writes mid-line, mid-character and between CR and LF, with pauses so the reads
   really split. Each step's last byte is written at a known time (ttfs T, gap G after it); the
   medians must be within 2 ms, and the step count, steps by role and other events exact.
3. scale: 10,000 concurrent streams from one agentload process against `agentload mock` (its own
   process, so its memory is not counted): all complete without errors; agentload's peak RSS
   minus its RSS for a one-stream run, per stream.

    python3 benches/streams.py [sim] [foreign] [scale]     # all three by default

Prints each measurement beside its target and PASS or MISS; exits 1 on a miss. AGENTLOAD_ARGS adds
flags to every `agentload run` (e.g. AGENTLOAD_ARGS="--threads 4"). Sends traffic to
127.0.0.1 only; every child process is bounded in time. Python 3 standard library only.
"""

import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from nginx_bench import build_agentload, free_port

TOKEN = "streams-bench-token"
# Extra flags for every `agentload run`, e.g. AGENTLOAD_ARGS="--threads 4".
EXTRA_ARGS = os.environ.get("AGENTLOAD_ARGS", "").split()
TEAM = 1
TOLERANCE_MS = 2.0
ROLES = ["system", "user", "tool", "tool", "assistant"]

misses = 0


def check(name, value, ok, target):
    global misses
    misses += 0 if ok else 1
    print(f"{'PASS' if ok else 'MISS'}  {name:<46} {value:<24} target {target}", flush=True)


def wait_for_port(port, what, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{what} did not start listening on 127.0.0.1:{port}")


def raise_nofile():
    """This script's own limit, for the servers it runs in-process and its children."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Mock:
    """`agentload mock` on a free loopback port, in its own process."""

    def __init__(self, binary, *flags):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/api/v2"
        self.command = [binary, "mock", "--addr", f"127.0.0.1:{self.port}", "--token", TOKEN,
                        *flags]

    def __enter__(self):
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_for_port(self.port, "agentload mock")
        return self

    def cpu_s(self):
        """CPU seconds the mock has used so far."""
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def open_files(self):
        try:
            return len(os.listdir(f"/proc/{self.process.pid}/fd"))
        except OSError:
            return 0

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def run_agentload(binary, work, name, scenario, target, limit_s, poll=None):
    """Runs `agentload run` on `scenario` against `target`, killed after `limit_s`. Returns the
    summary, agentload's peak RSS in KiB, and what `poll()` returned at its highest while the
    run went (polled every 0.2 s)."""
    path = os.path.join(work, f"{name}.toml")
    with open(path, "w") as f:
        f.write(scenario)
    out = os.path.join(work, name)
    stderr_path = os.path.join(work, f"{name}.stderr")
    with open(stderr_path, "w") as stderr:
        child = subprocess.Popen(
            [binary, "run", path, "--target", target, "--team-id", str(TEAM),
             "--make-connection-id", "1", "--quiet", "--out", out, *EXTRA_ARGS],
            env={**os.environ, "MAKE_API_TOKEN": TOKEN},
            stdout=subprocess.DEVNULL, stderr=stderr,
        )
    killer = threading.Timer(limit_s, child.kill)
    killer.start()
    peak = [0]
    sched = {}  # worker thread id -> (seconds on a CPU, seconds runnable but waiting for one)
    done = threading.Event()

    def poller():
        while not done.wait(0.1):
            if poll:
                peak[0] = max(peak[0], poll())
            sched.update(worker_schedstat(child.pid))

    watcher = threading.Thread(target=poller)
    watcher.start()
    # wait4 reports this child's own peak RSS, not the largest of all children so far.
    _, status, usage = os.wait4(child.pid, 0)
    done.set()
    killer.cancel()
    watcher.join()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        with open(stderr_path) as f:
            sys.exit(f"agentload run {name} exited with {code} (killed after {limit_s} s if -9):\n"
                     f"{f.read()}")
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    summary["cpu_s"] = usage.ru_utime + usage.ru_stime
    summary["worker_on_cpu_s"] = sum(on for on, _ in sched.values())
    summary["worker_waiting_s"] = sum(waiting for _, waiting in sched.values())
    return summary, usage.ru_maxrss, peak[0]


def worker_schedstat(pid):
    """(on a CPU, runnable but waiting for a CPU) in seconds, of each of agentload's worker
    threads, from /proc/<pid>/task/<tid>/schedstat: how much the machine delayed them."""
    found = {}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if not f.read().startswith("agentload-work"):
                    continue
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                on_cpu, waiting, _ = (int(x) for x in f.read().split())
            found[tid] = (on_cpu / 1e9, waiting / 1e9)
        except (OSError, ValueError):
            pass
    return found


def report_scheduling(summary):
    print(f"      (agentload's worker threads: {summary['worker_on_cpu_s']:.2f} s on a CPU, "
          f"{summary['worker_waiting_s']:.2f} s runnable but waiting for one, in a "
          f"{summary['duration_s']:.1f} s run)", flush=True)


def stream_scenario(name, agent, vus, iterations, think_time, ramp=None):
    """Streams from `vus` virtual users (reached over `ramp` seconds when given), `iterations`
    in all."""
    agent_keys = (f'id = "{agent}"' if agent else
                  'model = "gpt-4o-mini"\nsystem_prompt = "Answer briefly."')
    users = (f'vus = {vus}' if ramp is None else
             f'stages = [{{ duration = "{ramp}s", target = {vus} }}, '
             f'{{ duration = "240s", target = {vus} }}]')
    return f"""name = "{name}"
[target]
timeout = {{ connect = "30s", first_step = "60s", idle = "60s", total = "180s" }}

[[agents]]
name = "bench"
{agent_keys}

[load]
{users}
iterations = {iterations}
think_time = "{think_time}"

[[mix]]
op = "run_stream"
"""


def check_accuracy(label, stats, ttfs_ms, gap_ms, steps):
    metrics = stats["metrics"]
    ttfs = metrics["ttfs"]["p50"]
    gap = metrics["inter_step"]["p50"]
    check(f"{label}: errors", f"{stats['errors']} of {stats['requests']}", stats["errors"] == 0,
          "0")
    check(f"{label}: ttfs p50", f"{ttfs:.2f} ms", abs(ttfs - ttfs_ms) <= TOLERANCE_MS,
          f"{ttfs_ms} +- {TOLERANCE_MS} ms")
    check(f"{label}: inter_step p50", f"{gap:.2f} ms", abs(gap - gap_ms) <= TOLERANCE_MS,
          f"{gap_ms} +- {TOLERANCE_MS} ms")
    lo, hi = metrics["steps"]["min"], metrics["steps"]["max"]
    check(f"{label}: steps per stream", f"{lo:g}..{hi:g}", lo == hi == steps, f"exactly {steps}")
    print(f"      (ttfs p90 {metrics['ttfs']['p90']:.2f} p99 {metrics['ttfs']['p99']:.2f} ms; "
          f"inter_step p90 {metrics['inter_step']['p90']:.2f} p99 "
          f"{metrics['inter_step']['p99']:.2f} ms; ttfb p50 {metrics['ttfb']['p50']:.2f} ms; "
          f"{stats['requests']} streams)", flush=True)


# 1. Accuracy against the simulator.

def bench_sim(binary, work):
    ttfs, gap, steps, vus, iterations = 200, 50, 5, 500, 5000
    print(f"sim: agentload mock --ttfs {ttfs}ms --step-gap {gap}ms --steps {steps}; "
          f"{vus} virtual users, {iterations} streams", flush=True)
    with Mock(binary, "--ttfs", f"{ttfs}ms", "--step-gap", f"{gap}ms", "--steps",
              str(steps)) as mock:
        scenario = stream_scenario("streams-sim", None, vus, iterations, "0ms..300ms")
        summary, _, _ = run_agentload(binary, work, "sim", scenario, mock.base_url, 300)
    check_accuracy("sim", summary["ops"]["run_stream"], ttfs, gap, steps)
    report_scheduling(summary)


# 2. Accuracy against a server that is not ours.

AGENT_ID = "4ebb9c59-ab75-41d5-8146-7407ce71f484"
AGENT_JSON = json.dumps({
    "id": AGENT_ID, "name": "foreign-bench", "teamId": TEAM,
    "createdAt": "2026-11-29T00:00:00.000Z", "systemPrompt": "Answer briefly.",
    "defaultModel": "gpt-4o-mini",
}).encode()
FOREIGN_TTFS_MS = 200
FOREIGN_GAP_MS = 50
# Non-step events per stream: a `ping`, and an `event:  step` whose type is " step".
FOREIGN_OTHER_EVENTS = 2


def step_event(k, role, ends):
    """Step `k` as SSE text with line ends `ends`, its JSON split over two `data` lines, a comment
    inside the event, and `event: step` with the optional space (or none, alternately)."""
    payload = json.dumps({"role": role, "content": f"étape {k} ✓ — 日本語 🎉",
                          "id": f"s{k}", "agentIterationId": "it-1"}, ensure_ascii=False)
    cut = payload.index(', "content"') + 1
    event_line = "event: step" if k % 2 == 0 else "event:step"
    lines = [event_line, f"id: e{k}", f"data: {payload[:cut]}", ": a comment inside the event",
             f"data:{payload[cut:]}", ""]
    return ends.join(lines) + ends


def awkward_pieces(event):
    """`event` cut into three writes: inside the `data:` name, then mid-character (or between a
    CR and its LF); the last piece always holds the blank line that completes the event."""
    final_line_end = len(event) - 2 if event.endswith(b"\r\n\r\n") else len(event) - 1
    first = event.index(b"da") + 2
    multibyte = next(i for i in range(first + 1, final_line_end) if event[i] >= 0xC0) + 1
    crlf = event.find(b"\r\n", multibyte, final_line_end - 1)
    second = crlf + 1 if crlf > 0 else multibyte
    second = min(max(second, first + 1), final_line_end - 1)
    return [event[:first], event[first:second], event[second:]]


class Foreign:
    """An HTTP/1.1 server on asyncio, in a thread of its own: GET of one agent, and its
    run/stream with every framing above, keep-alive, chunked. Written on asyncio's low-level
    protocols and timers (one `call_at` per write, no task per stream) so that Python keeps up
    with 500 streams; it records how late it wrote each step's last byte, by its own clock."""

    def __init__(self):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/api/v2"
        self.lateness = []  # seconds between a step's due time and its last byte's write
        self.written = []  # per stream: (request received, [each step's last byte written])
        self.streams = 0
        self.ready = threading.Event()

    def __enter__(self):
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()
        self.ready.wait(10)
        wait_for_port(self.port, "the foreign server")
        return self

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)

    def serve(self):
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self.main())

    async def main(self):
        self.stop = asyncio.Event()
        server = await self.loop.create_server(lambda: Connection(self), "127.0.0.1", self.port,
                                               backlog=4096)
        self.ready.set()
        async with server:
            await self.stop.wait()


class Connection(asyncio.Protocol):
    """One client connection of the foreign server: requests parsed as they arrive, one at a
    time (the client waits for each response)."""

    def __init__(self, server):
        self.server = server
        self.loop = server.loop
        self.buffer = b""
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc):
        self.transport = None

    def data_received(self, data):
        received = self.loop.time()
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            request_line, *header_lines = self.buffer[:head_end].decode("latin-1").split("\r\n")
            headers = {}
            for line in header_lines:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body_end = head_end + 4 + int(headers.get("content-length", "0"))
            if len(self.buffer) < body_end:
                return
            body = self.buffer[head_end + 4:body_end]
            self.buffer = self.buffer[body_end:]
            method, target, _ = request_line.split(" ", 2)
            self.route(method, target.split("?", 1)[0], headers, body, received)

    def route(self, method, path, headers, body, received):
        agent = f"/api/v2/ai-agents/v1/agents/{AGENT_ID}"
        if headers.get("authorization") != f"Token {TOKEN}":
            self.respond("401 Unauthorized", b'{"detail":"Invalid token"}')
        elif method == "GET" and path == agent:
            self.respond("200 OK", AGENT_JSON)
        elif method == "POST" and path == f"{agent}/run/stream" and b"messages" in body:
            self.stream(received)
        else:
            self.respond("404 Not Found", b'{"detail":"no route"}')

    def respond(self, status, body):
        self.transport.write(f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                             f"Content-Length: {len(body)}\r\n\r\n".encode() + body)

    def write(self, data, due=None, last=False, written=None):
        """One write of one HTTP chunk (plus the end of the body if `last`); with `due`, the
        last byte of a step: its lateness and time are recorded."""
        if self.transport is None:
            return
        out = f"{len(data):x}\r\n".encode() + data + b"\r\n"
        if last:
            out += b"5\r\n:bye\n\r\n0\r\n\r\n"
        self.transport.write(out)
        if due is not None:
            now = self.loop.time()
            self.server.lateness.append(now - due)
            written.append(now)

    def stream(self, received):
        n = self.server.streams
        self.server.streams += 1
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8"
                             b"\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n")
        self.write("\ufeff: stream opened\r\nretry: 1500\r\n\r\n".encode())
        written = []  # when each step's last byte was written
        self.server.written.append((received, written))
        for k in range(len(ROLES)):
            due = received + (FOREIGN_TTFS_MS + k * FOREIGN_GAP_MS) / 1000
            first, second, last = stream_pieces(k, (n + k) % 3)
            # The first pieces a few ms early, the last byte on time.
            self.loop.call_at(due - 0.004, self.write, first)
            self.loop.call_at(due - 0.002, self.write, second)
            self.loop.call_at(due, self.write, last, due, k == len(ROLES) - 1, written)


PIECES = {}


def stream_pieces(k, style):
    """The three writes of step `k` with line-end style `style` (CRLF, CR, LF), the `ping`
    event before step 1 and the `event:  step` decoy before step 3 in the first. Computed once:
    the server must keep up with 500 streams."""
    if (k, style) not in PIECES:
        ends = ["\r\n", "\r", "\n"][style]
        pieces = awkward_pieces(step_event(k, ROLES[k], ends).encode())
        if k == 1:
            pieces[0] = f"event: ping{ends}data: {{}}{ends}{ends}:keep-alive{ends}".encode() \
                + pieces[0]
        if k == 3:
            pieces[0] = f"event:  step{ends}data: not a step{ends}{ends}".encode() + pieces[0]
        PIECES[(k, style)] = pieces
    return PIECES[(k, style)]


def bench_foreign(binary, work):
    vus, iterations = 500, 2500
    print(f"foreign: asyncio server, ttfs {FOREIGN_TTFS_MS} ms, gap {FOREIGN_GAP_MS} ms, "
          f"{len(ROLES)} steps + {FOREIGN_OTHER_EVENTS} other events, split writes; {vus} virtual "
          f"users, {iterations} streams", flush=True)
    with Foreign() as server:
        scenario = stream_scenario("streams-foreign", AGENT_ID, vus, iterations, "0ms..400ms")
        summary, _, _ = run_agentload(binary, work, "foreign", scenario, server.base_url, 300)
        lateness = sorted(server.lateness)
        written = list(server.written)
    stats = summary["ops"]["run_stream"]
    check_accuracy("foreign", stats, FOREIGN_TTFS_MS, FOREIGN_GAP_MS, len(ROLES))
    report_scheduling(summary)
    ok = stats["ok"]
    expected_roles = {"system": ok, "user": ok, "tool": 2 * ok, "assistant": ok}
    by_role = {role: n for role, n in (stats.get("steps_by_role") or {}).items() if n}
    check("foreign: steps_by_role", json.dumps(by_role, separators=(",", ":")),
          by_role == expected_roles, "1 system, 1 user, 2 tool, 1 assistant a stream")
    check("foreign: other_events", stats.get("other_events"),
          stats.get("other_events") == FOREIGN_OTHER_EVENTS * ok, f"{FOREIGN_OTHER_EVENTS} a stream")
    # What the server actually did, by its own clock: from reading the request to writing the
    # first step's last byte, and between steps' last bytes. agentload's medians against these
    # say how exactly it measures, whatever the server's own lateness.
    ttfs_done = [w[0] - r for r, w in written if w]
    gaps_done = [b - a for _, w in written for a, b in zip(w, w[1:])]
    if lateness and ttfs_done and gaps_done:
        ttfs_true = statistics.median(ttfs_done) * 1000
        gap_true = statistics.median(gaps_done) * 1000
        ttfs = stats["metrics"]["ttfs"]["p50"]
        gap = stats["metrics"]["inter_step"]["p50"]
        print(f"      (the server wrote each step's last byte {statistics.median(lateness) * 1000:.2f}"
              f" ms late at the median, {lateness[int(len(lateness) * 0.99)] * 1000:.2f} ms at p99,"
              f" by its own clock)", flush=True)
        check("foreign: ttfs p50 vs the server's actual", f"{ttfs:.2f} vs {ttfs_true:.2f} ms",
              abs(ttfs - ttfs_true) <= TOLERANCE_MS, f"+- {TOLERANCE_MS} ms")
        check("foreign: inter_step p50 vs the server's actual", f"{gap:.2f} vs {gap_true:.2f} ms",
              abs(gap - gap_true) <= TOLERANCE_MS, f"+- {TOLERANCE_MS} ms")


# 3. Scale.

def bench_scale(binary, work):
    streams = 10_000
    # The users ramp up over 4 s: 10,000 connects at once would overflow the mock's accept
    # queue, and the kernel's retries of the handshake would show as seconds of ttfb.
    print(f"scale: {streams} concurrent streams against agentload mock (its own process), "
          f"ttfs 5s, 5 steps 1s apart, users ramped up over 4 s", flush=True)
    with Mock(binary, "--ttfs", "5s", "--step-gap", "1s", "--steps", "5") as mock:
        idle, base_rss, _ = run_agentload(
            binary, work, "scale-baseline",
            stream_scenario("streams-baseline", None, 1, 1, "0s"), mock.base_url, 120)
        mock_cpu = mock.cpu_s()
        summary, peak_rss, peak_files = run_agentload(
            binary, work, "scale",
            stream_scenario("streams-scale", None, streams, streams, "0s", ramp=4), mock.base_url,
            300,
            poll=mock.open_files)
        mock_cpu = mock.cpu_s() - mock_cpu
    stats = summary["ops"]["run_stream"]
    check("scale: streams completed", f"{stats['ok']} of {stats['requests']}",
          stats["ok"] == streams and stats["requests"] == streams, f"{streams}")
    check("scale: errors", json.dumps(stats["error_classes"]), stats["errors"] == 0, "0")
    check("scale: concurrent at the server (open fds)", peak_files, peak_files >= streams,
          f">= {streams}")
    per_stream = (peak_rss - base_rss) * 1024 / streams
    print(f"      peak RSS {peak_rss / 1024:.1f} MiB, one-stream run {base_rss / 1024:.1f} MiB: "
          f"{per_stream / 1024:.1f} KiB per stream; run took {summary['duration_s']:.1f} s, "
          f"ttfs p50 {stats['metrics']['ttfs']['p50']:.1f} ms p99 "
          f"{stats['metrics']['ttfs']['p99']:.1f} ms, ttfb p50 {stats['metrics']['ttfb']['p50']:.1f}"
          f" ms; CPU: agentload {summary['cpu_s']:.1f} s, mock {mock_cpu:.1f} s", flush=True)
    report_scheduling(summary)
    assert idle["ops"]["run_stream"]["ok"] == 1


def main():
    which = sys.argv[1:] or ["sim", "foreign", "scale"]
    unknown = set(which) - {"sim", "foreign", "scale"}
    if unknown:
        sys.exit(f"unknown bench {sorted(unknown)}; choose from sim, foreign, scale")
    nofile = raise_nofile()
    if "scale" in which and nofile < 10_100:
        sys.exit(f"the open-file hard limit is {nofile}; the scale bench needs 10100")
    binary = build_agentload()
    work = tempfile.mkdtemp(prefix="agentload-streams-")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"agentload {commit} {' '.join(EXTRA_ARGS)}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}; reports in {work}", flush=True)
    for name in which:
        {"sim": bench_sim, "foreign": bench_foreign, "scale": bench_scale}[name](binary, work)
    sys.exit(1 if misses else 0)


if __name__ == "__main__":
    main()
