# SPDX-License-Identifier: Apache-2.0
"""An in-process DingTalk for tests: one HTTPS server on 127.0.0.1 that answers both
api.dingtalk.com paths (/v1.0/...) and oapi.dingtalk.com paths (/robot/...), plus Stream mode's
WebSocket, following reference/dingtalk.md. Tests run it in threads and steer it through control
methods; everything it receives is kept for inspection.

    fake = DingTalkFake(cert_file, key_file, "dingclient", "secret", robot_secret="SEC...")
    fake.start()            # fake.base == "https://127.0.0.1:PORT"
    ...
    fake.stop()

Parts, one file each: dingtalk_fake_stream.py (Stream mode), dingtalk_fake_robot.py (robot
messages, session webhooks, downloads, custom group robot), dingtalk_fake_workflow.py
(approvals), dingtalk_fake_exclusive.py (DLP hook, audit log); ws_server.py (RFC 6455 framing),
tls_testca.py (make_cert), dingtalk_sim.py (HTTP push crypto).

Every /v1.0/ endpoint but accessToken and gateway/connections/open wants the header
x-acs-dingtalk-access-token with an unexpired token, else 401 InvalidAuthentication.AccessToken.
Error bodies whose code starts with "simulator." are the fake's own (the reference documents no
body for those cases); invalidClientIdOrSecret on the token endpoint is likewise not in the
reference. State lives behind one re-entrant lock, `lock`."""

import http.client
import http.server
import json
import secrets
import ssl
import string
import sys
import threading
import time
import traceback
import urllib.parse

import dingtalk_sim as sim
from dingtalk_fake_exclusive import ExclusiveMixin
from dingtalk_fake_robot import RobotMixin, robot_sign  # noqa: F401 (re-exported for tests)
from dingtalk_fake_stream import StreamMixin
from dingtalk_fake_workflow import WorkflowMixin
from tls_testca import make_cert  # noqa: F401 (re-exported for tests)

NO_TOKEN = ("/v1.0/oauth2/accessToken", "/v1.0/gateway/connections/open")


def wait_for(predicate, timeout=10.0, interval=0.02):
    """Polls predicate until it returns something true (returned) or timeout passes (last value)."""
    end = time.time() + timeout
    while True:
        value = predicate()
        if value or time.time() >= end:
            return value
        time.sleep(interval)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.fake._dispatch(self)

    do_POST = do_PUT = do_DELETE = do_GET


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, context, fake):
        self.context, self.fake = context, fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the request's thread, so a slow client blocks nobody.
        try:
            request.settimeout(10)
            tls = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            tls.close()

    def handle_error(self, request, client_address):
        pass


class DingTalkFake(StreamMixin, RobotMixin, WorkflowMixin, ExclusiveMixin):
    def __init__(self, cert_file, key_file, client_id, client_secret, robot_secret=None,
                 approver="barra-approver"):
        self.cert_file, self.key_file = cert_file, key_file
        self.client_id, self.client_secret = client_id, client_secret
        self.corp_id = "dingsimcorp0001"
        self.unified_app_id = "sim-unified-app"
        self.lock = threading.RLock()
        self.requests = []        # {"method", "path", "query", "headers" (lower-case), "json", "body", "time"}
        self.errors = []          # tracebacks of handler crashes (the fake's own bugs)
        self.token_lifetime = 7200
        self.tokens = {}          # accessToken -> expiry (s)
        self.tokens_issued = 0
        self.auth_failures = []   # requests refused for a missing, unknown or expired token
        self.http_pushes = []     # {"url", "message", "status", "reply", "seconds"}
        self.port, self.base = None, None
        self._stream_init()
        self._robot_init(robot_secret)
        self._workflow_init(approver)
        self._exclusive_init()
        self._routes = {}
        for method, path, fn, locked in (
                [("POST", "/v1.0/oauth2/accessToken", self._access_token, True)] + self._stream_routes()
                + self._robot_routes() + self._workflow_routes() + self._exclusive_routes()):
            self._routes[(method, path)] = (fn, locked)

    def start(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        self._server = _Server(context, self)
        self.port = self._server.server_address[1]
        self.base = "https://127.0.0.1:%d" % self.port
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        with self.lock:
            for conn in self.live:
                conn.drop = True
        self._server.shutdown()
        self._server.server_close()
        self.wait_for(lambda: not self.live, 2)

    def wait_for(self, predicate, timeout=10.0, interval=0.02):
        """wait_for with predicate evaluated under the fake's lock."""
        def locked():
            with self.lock:
                return predicate()
        return wait_for(locked, timeout, interval)

    # -- HTTP plumbing ---------------------------------------------------------------------

    def _dispatch(self, h):
        url = urllib.parse.urlsplit(h.path)
        body = self._read_body(h)
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        req = {"method": h.command, "path": url.path,
               "query": dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True)),
               "headers": {k.lower(): v for k, v in h.headers.items()},
               "json": parsed, "body": body, "time": time.time()}
        with self.lock:
            self.requests.append(req)
        route = self._routes.get((h.command, url.path))
        if route is None and url.path.startswith("/files/"):
            route = self._routes.get((h.command, "/files/"))
        try:
            if route is None:
                result = 404, {"code": "simulator.notFound", "message": "no such endpoint: %s %s" % (h.command, url.path)}
            elif url.path.startswith("/v1.0/") and url.path not in NO_TOKEN and not self._authorized(req):
                result = 401, {"code": "InvalidAuthentication.AccessToken",
                               "message": "missing, unknown or expired x-acs-dingtalk-access-token"}
            elif route[1]:
                with self.lock:
                    result = route[0](req)
            else:
                result = route[0](req, h)
        except Exception:
            with self.lock:
                self.errors.append(traceback.format_exc())
            traceback.print_exc(file=sys.stderr)
            result = 500, {"code": "simulator.crash", "message": "the fake crashed; see its errors"}
        if result is not None:
            self._reply(h, *result)

    @staticmethod
    def _read_body(h):
        if "chunked" in (h.headers.get("Transfer-Encoding") or "").lower():
            out = b""
            while True:
                size = int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += h.rfile.read(size)
                h.rfile.readline()
        n = int(h.headers.get("Content-Length") or 0)
        return h.rfile.read(n) if n else b""

    @staticmethod
    def _reply(h, status, payload, content_type="application/json;charset=utf-8"):
        if not isinstance(payload, bytes):
            payload = json.dumps(payload, ensure_ascii=False).encode()
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)

    def _authorized(self, req):
        token = req["headers"].get("x-acs-dingtalk-access-token", "")
        with self.lock:
            if self.tokens.get(token, 0) > time.time():
                return True
            self.auth_failures.append(req)
            return False

    def _access_token(self, req):
        b = req["json"] if isinstance(req["json"], dict) else {}
        if b.get("appKey") != self.client_id or b.get("appSecret") != self.client_secret:
            return 400, {"code": "invalidClientIdOrSecret", "message": "wrong appKey or appSecret"}
        token = secrets.token_hex(16)
        self.tokens[token] = time.time() + self.token_lifetime
        self.tokens_issued += 1
        return 200, {"accessToken": token, "expireIn": self.token_lifetime}

    # -- HTTP push to the gateway (reference §1) -----------------------------------------

    def push_http(self, callback_url, message, token, aes_key, owner, ssl_context=None, timeout=10):
        """POSTs message (a dict) encrypted and signed as DingTalk's HTTP push does. Returns
        (HTTP status, decrypted reply) where the reply is None unless it is JSON
        {msg_signature, timeStamp, nonce, encrypt} with a valid signature and owner key."""
        key = sim.derive_key(aes_key)
        ts = str(int(time.time() * 1000))
        nonce = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(8))
        enc = sim.encrypt(key, owner, json.dumps(message, ensure_ascii=False).encode())
        query = urllib.parse.urlencode({"msg_signature": sim.signature(token, ts, nonce, enc),
                                        "timestamp": ts, "nonce": nonce})
        url = urllib.parse.urlsplit(callback_url)
        cls = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        kw = {"context": ssl_context} if url.scheme == "https" else {}
        conn = cls(url.hostname, url.port, timeout=timeout, **kw)
        started = time.time()
        try:
            conn.request("POST", (url.path or "/") + ("?%s&%s" % (url.query, query) if url.query else "?" + query),
                         json.dumps({"encrypt": enc}), {"Content-Type": "application/json"})
            resp = conn.getresponse()
            status, raw = resp.status, resp.read()
        finally:
            conn.close()
        reply = None
        try:
            r = json.loads(raw)
            if sim.signature(token, r["timeStamp"], r["nonce"], r["encrypt"]) == r["msg_signature"]:
                reply = sim.decrypt(key, owner, r["encrypt"]).decode()
        except Exception:  # not JSON, fields missing, bad Base64, padding or owner: no valid reply
            pass
        with self.lock:
            self.http_pushes.append({"url": callback_url, "message": message, "status": status,
                                     "reply": reply, "seconds": time.time() - started})
        return status, reply
