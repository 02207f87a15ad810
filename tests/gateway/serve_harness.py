# SPDX-License-Identifier: Apache-2.0
"""What the gateway's integration tests share: checks that count, `barra serve` started in a
folder of its own with a configuration written for it, API tokens made by `barra serve
--new-token`, and a runner that gives each test a fresh temporary folder."""

import http.client
import json
import os
import re
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

BARRA = os.path.abspath(sys.argv[1])
ROOT = os.environ.get("BARRA_SOURCE_ROOT",
                      os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
counts = {"checks": 0, "failures": 0}


def check(cond, what):
    counts["checks"] += 1
    if not cond:
        counts["failures"] += 1
        print("FAIL: " + what, file=sys.stderr)
    return cond


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def new_token(name, scopes):
    out = subprocess.run([BARRA, "serve", "--new-token", name, "--scopes", scopes],
                         capture_output=True, text=True, check=True).stdout
    token = re.search(r"^token: (\S+)", out, re.M).group(1)
    digest = re.search(r"sha256: ([0-9a-f]{64})", out).group(1)
    return token, "  - name: %s\n    sha256: %s\n    scopes: [%s]\n" % (name, digest, scopes)


class Daemon:
    """barra serve in a folder of its own; `url` once it listens."""

    def __init__(self, tmp, config, fsize=None):
        self.tmp = tmp
        self.path = os.path.join(tmp, "barra.yaml")
        with open(self.path, "w") as f:
            f.write(config)
        self.fsize = fsize
        self.lines = []

    def start(self):
        def limits():
            if self.fsize:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (self.fsize, self.fsize))
        self.proc = subprocess.Popen([BARRA, "serve", "--config", self.path],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     preexec_fn=limits)
        line = self.read_line(20)
        m = re.search(r"listening on (https?)://([0-9.]+):(\d+)", line or "")
        if not m:
            err = self.proc.stderr.read1(4096).decode(errors="replace") if self.proc.poll() is not None else ""
            raise RuntimeError("barra serve did not start: %r %s" % (line, err))
        self.scheme, self.host, self.port = m.group(1), m.group(2), int(m.group(3))
        return self

    def read_line(self, timeout):
        end = time.time() + timeout
        buf = b""
        while time.time() < end:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                c = os.read(self.proc.stdout.fileno(), 1)
                if not c:
                    break
                if c == b"\n":
                    line = buf.decode(errors="replace")
                    self.lines.append(line)
                    return line
                buf += c
        return None

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        self.stderr = err.decode(errors="replace")
        return self.proc.returncode

    def conn(self, timeout=10, context=None):
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout,
                                               context=context)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def call(self, method, path, body=None, token=None, headers=None, context=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if isinstance(body, (dict, list)):
            body = json.dumps(body, ensure_ascii=False).encode()
            h.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        c = self.conn(context=context)
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, r, data

    def json(self, method, path, body=None, token=None, headers=None):
        status, r, data = self.call(method, path, body, token, headers)
        try:
            return status, r, json.loads(data)
        except ValueError:
            return status, r, {"raw": data.decode(errors="replace")}


def base_config(tmp, tokens, extra="", policy=None):
    return ("listen: 127.0.0.1:0\ndata_dir: %s\npolicy: %s\ntokens:\n%s"
            "routes:\n  local-vault: {type: vault}\n%s"
            % (os.path.join(tmp, "data"), policy or os.path.join(ROOT, "rules/policies/general.yaml"),
               tokens, extra))


def run(tests):
    """Runs each test in a temporary folder of its own; a crash is a failure and the others still
    run. BARRA_TEST_ONLY=name runs one. Exits 1 when a check failed."""
    only = os.environ.get("BARRA_TEST_ONLY")
    for t in tests:
        if only and t.__name__ != only:
            continue
        tmp = tempfile.mkdtemp(prefix="barra-serve-")
        try:
            t(tmp)
        except Exception as e:
            traceback.print_exc()
            check(False, "%s raised %r" % (t.__name__, e))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print("%s done" % t.__name__)
    print("%d checks, %d failed" % (counts["checks"], counts["failures"]))
    sys.exit(1 if counts["failures"] else 0)
