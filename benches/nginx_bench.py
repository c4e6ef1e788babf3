"""Shared by the side-by-side scripts: an nginx on a free loopback port that answers every path
with a small agent object, and the release build of agentload."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

AGENT_JSON = ('{"id":"bench-agent","name":"agentload-bench","teamId":1,'
              '"createdAt":"2026-11-29T00:00:00Z","systemPrompt":"Answer briefly.",'
              '"defaultModel":"gpt-4o-mini"}')

CONFIG = """
worker_processes 1;
master_process off;
daemon off;
error_log {dir}/error.log;
pid {dir}/nginx.pid;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
    listen 127.0.0.1:{port};
    default_type application/json;
    location / {{ return 200 '{body}'; }}
  }}
}}
"""


def require(command, install):
    if shutil.which(command) is None:
        sys.exit(f"{command} is not installed; install it with: {install}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_agentload():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "release", "agentload")


def agent_url(nginx):
    return f"{nginx.base_url}/ai-agents/v1/agents/bench-agent?teamId=1"


class Nginx:
    """nginx in the foreground as one process (no master), so it can be frozen with SIGSTOP."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "nginx")
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/api/v2"
        self.process = None

    def __enter__(self):
        os.makedirs(self.dir, exist_ok=True)
        config = os.path.join(self.dir, "nginx.conf")
        with open(config, "w") as f:
            f.write(CONFIG.format(dir=self.dir, port=self.port, body=AGENT_JSON))
        self.process = subprocess.Popen(["nginx", "-c", config, "-p", self.dir],
                                        stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return self
            except OSError:
                time.sleep(0.05)
        sys.exit("nginx did not start")

    def freeze(self):
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self):
        os.kill(self.process.pid, signal.SIGCONT)

    def __exit__(self, *exc):
        self.thaw()
        self.process.terminate()
        self.process.wait()
