#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Self-test of the DingTalk fake (tests/gateway/dingtalk_fake.py), without Barra: every endpoint
is called over verified TLS by a small client of this file's own, including a minimal WebSocket
client (masking, handshake check) for Stream mode. Prints "N passed, M failed"; exits 1 on a
failure."""

import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import shutil
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dingtalk_fake  # noqa: E402
import dingtalk_sim as sim  # noqa: E402

passed = failed = 0
CLIENT_ID, CLIENT_SECRET, ROBOT_SECRET = "dingsimclient", "sim-client-secret", "SECsimrobotsecret"
SUBS = [{"type": "EVENT", "topic": "*"}, {"type": "CALLBACK", "topic": "/v1.0/im/bot/messages/get"}]


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what, file=sys.stderr)
    return cond


class Client:
    """HTTPS to the fake, verifying its certificate against the throwaway CA."""

    def __init__(self, fake, ctx):
        self.fake, self.ctx, self.token = fake, ctx, None

    def call(self, method, path, body=None, headers=None, auth=True):
        h = dict(headers or {})
        if auth and self.token:
            h["x-acs-dingtalk-access-token"] = self.token
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        c = http.client.HTTPSConnection("127.0.0.1", self.fake.port, context=self.ctx, timeout=10)
        try:
            c.request(method, path, data, h)
            r = c.getresponse()
            raw = r.read()
        finally:
            c.close()
        try:
            return r.status, json.loads(raw)
        except ValueError:
            return r.status, raw

    def login(self):
        st, body = self.call("POST", "/v1.0/oauth2/accessToken", {"appKey": CLIENT_ID, "appSecret": CLIENT_SECRET})
        self.token = body["accessToken"]
        return st, body

    def register(self, subs=SUBS):
        return self.call("POST", "/v1.0/gateway/connections/open",
                         {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "subscriptions": subs,
                          "ua": "barra-selftest/1"}, {"Accept": "application/json"})


class WS:
    """A minimal RFC 6455 client: masked frames out, unmasked frames in."""

    RFC_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, endpoint, ticket, ctx):
        u = urllib.parse.urlsplit(endpoint)
        raw = socket.create_connection((u.hostname, u.port), timeout=5)
        self.sock = ctx.wrap_socket(raw, server_hostname=u.hostname)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s?ticket=%s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                           % (u.path, ticket, u.hostname, u.port, key)).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            buf += chunk
        head, _, self.buf = buf.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
        want = base64.b64encode(hashlib.sha1((key + self.RFC_GUID).encode()).digest()).decode()
        self.accept_ok = self.headers.get("sec-websocket-accept") == want
        self.closed = False

    def send(self, opcode, payload=b"", fin=True, mask=True):
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode])
        m = 0x80 if mask else 0
        if n < 126:
            head += bytes([m | n])
        elif n < 65536:
            head += bytes([m | 126]) + struct.pack(">H", n)
        else:
            head += bytes([m | 127]) + struct.pack(">Q", n)
        if mask:
            k = os.urandom(4)
            head += k
            payload = bytes(b ^ k[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + payload)

    def send_json(self, obj):
        self.send(0x1, json.dumps(obj).encode())

    def _need(self, n, end):
        while len(self.buf) < n:
            self.sock.settimeout(max(0.01, end - time.time()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            if not chunk:
                self.closed = True
                raise EOFError
            self.buf += chunk
        return True

    def frame(self, timeout=3.0):
        """(opcode, payload, masked) or None on timeout; EOFError when TCP closes."""
        end = time.time() + timeout
        if not self._need(2, end):
            return None
        b0, b1 = self.buf[0], self.buf[1]
        n, at = b1 & 0x7F, 2
        if n == 126:
            self._need(4, end)
            n, at = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10, end)
            n, at = struct.unpack(">Q", self.buf[2:10])[0], 10
        if not self._need(at + n, end + 2):
            return None
        payload = self.buf[at:at + n]
        self.buf = self.buf[at + n:]
        return b0 & 0x0F, payload, bool(b1 & 0x80)

    def json(self, timeout=3.0):
        """The next text message, parsed; None on timeout or close."""
        end = time.time() + timeout
        try:
            while time.time() < end:
                f = self.frame(end - time.time())
                if f is None:
                    return None
                if f[0] == 0x1:
                    return json.loads(f[1])
        except EOFError:
            return None
        return None

    def ack(self, frame, data, code=200):
        self.send_json({"code": code, "headers": {"messageId": frame["headers"]["messageId"],
                                                  "contentType": "application/json"},
                        "message": "OK", "data": json.dumps(data)})

    def close(self):
        self.sock.close()


def connect(client, ctx, subs=SUBS):
    st, body = client.register(subs)
    return WS(body["endpoint"], body["ticket"], ctx)


# -- tests ---------------------------------------------------------------------------------


def test_tls(fake, ca):
    ctx = ssl.create_default_context(cafile=ca)
    for host in ("127.0.0.1", "localhost"):
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", fake.port), timeout=5), server_hostname=host)
        check(s.version() is not None, "verified TLS with hostname %s" % host)
        s.close()
    try:
        ssl.create_default_context().wrap_socket(socket.create_connection(("127.0.0.1", fake.port), timeout=5),
                                                 server_hostname="127.0.0.1")
        check(False, "a client without the CA must not verify the fake")
    except ssl.SSLCertVerificationError:
        check(True, "")


def test_token(fake, c):
    st, body = c.call("POST", "/v1.0/oauth2/accessToken", {"appKey": CLIENT_ID, "appSecret": "wrong"})
    check(st == 400 and body["code"] == "invalidClientIdOrSecret", "wrong credentials refused: %s %s" % (st, body))
    st, body = c.call("GET", "/v1.0/exclusive/fileAuditLogs?startDate=0&endDate=1&pageSize=1", auth=False)
    check(st == 401 and body["code"] == "InvalidAuthentication.AccessToken", "no token: 401 %s" % body)
    fake.token_lifetime = 1
    st, body = c.login()
    check(st == 200 and body["expireIn"] == 1 and len(body["accessToken"]) >= 16, "token issued: %s" % body)
    check(c.call("GET", "/v1.0/exclusive/fileAuditLogs?startDate=0&endDate=1&pageSize=1")[0] == 200, "token accepted")
    time.sleep(1.2)
    check(c.call("GET", "/v1.0/exclusive/fileAuditLogs?startDate=0&endDate=1&pageSize=1")[0] == 401, "expired token refused")
    check(len(fake.auth_failures) == 2 and fake.tokens_issued == 1, "refusals and issues counted")
    fake.token_lifetime = 7200
    c.login()
    # Two requests on one kept-alive connection, the second with a chunked body (as libcurl may send).
    conn = http.client.HTTPSConnection("127.0.0.1", fake.port, context=c.ctx, timeout=10)
    statuses = []
    for chunked in (False, True):
        body = json.dumps({"appKey": CLIENT_ID, "appSecret": CLIENT_SECRET}).encode()
        conn.request("POST", "/v1.0/oauth2/accessToken", iter([body[:7], body[7:]]) if chunked else body,
                     {"Content-Type": "application/json"}, encode_chunked=chunked)
        r = conn.getresponse()
        statuses.append((r.status, "accessToken" in json.loads(r.read())))
    conn.close()
    check(statuses == [(200, True), (200, True)], "keep-alive and chunked bodies: %s" % statuses)


def test_registration(fake, c, ctx):
    body = {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "subscriptions": SUBS}
    check(c.call("POST", "/v1.0/gateway/connections/open", body)[0] == 406, "no Accept: application/json, no ticket")
    st, _ = c.call("POST", "/v1.0/gateway/connections/open", dict(body, clientSecret="x"), {"Accept": "application/json"})
    check(st == 401, "bad client secret: 401")
    st, _ = c.call("POST", "/v1.0/gateway/connections/open", dict(body, subscriptions=[{"type": "EVENT", "topic": "x"}]),
                   {"Accept": "application/json"})
    check(st == 400, "EVENT subscription topic must be *")
    st, r = c.register()
    check(st == 200 and r["endpoint"] == "wss://127.0.0.1:%d/connect" % fake.port and r["ticket"], "endpoint and ticket: %s" % r)
    check(WS(r["endpoint"], "nope", ctx).status == 401, "unknown ticket: 401")
    w = WS(r["endpoint"], r["ticket"], ctx)
    check(w.status == 101 and w.accept_ok, "upgrade with the RFC 6455 accept key: %s %s" % (w.status, w.headers))
    check(WS(r["endpoint"], r["ticket"], ctx).status == 401, "a ticket is single-use")
    w.close()
    fake.ticket_lifetime = 0.2
    st, r = c.register()
    time.sleep(0.3)
    check(WS(r["endpoint"], r["ticket"], ctx).status == 401, "an expired ticket is refused")
    fake.ticket_lifetime = 90
    check(fake.wait_for(lambda: not fake.live, 2), "closed sockets leave the live list")


def test_stream(fake, c, ctx):
    w = connect(c, ctx)
    check(fake.wait_for(fake.connected, 2), "connected() after the upgrade")
    opaque = fake.push_ping()
    f = w.json()
    check(f and f["type"] == "SYSTEM" and f["headers"]["topic"] == "ping" and json.loads(f["data"])["opaque"] == opaque,
          "SYSTEM ping with the opaque in a JSON string: %s" % f)
    w.ack(f, {"opaque": opaque})
    check(fake.wait_for(lambda: fake.ping_echoes == 1, 2), "ping ack echoing the opaque counted")
    w.send(0x9, b"hi")
    fr = w.frame()
    check(fr and fr[0] == 0xA and fr[1] == b"hi" and not fr[2], "WebSocket ping answered by an unmasked pong")
    fake.ws_ping(b"srv")
    fr = w.frame()
    check(fr and fr[0] == 0x9 and fr[1] == b"srv", "server WebSocket ping")
    w.send(0xA, b"srv")
    check(fake.wait_for(lambda: fake.ws_pongs_received == 1, 2), "client pong counted")

    fake.redeliver_after = 0.4
    mid = fake.push_event("user_add_org", {"timeStamp": "1", "userId": ["u9"]}, event_id="ev-1")
    f1 = w.json()
    h = f1["headers"] if f1 else {}
    check(f1 and f1["specVersion"] == "1.0" and f1["type"] == "EVENT" and h["topic"] == "*" and h["messageId"] == mid
          and h["eventType"] == "user_add_org" and h["eventId"] == "ev-1" and h["eventCorpId"] and h["eventBornTime"]
          and h["contentType"] == "application/json" and h["time"] and json.loads(f1["data"])["userId"] == ["u9"],
          "EVENT frame per §2.2: %s" % f1)
    started = time.time()
    f2 = w.json(2)
    check(f2 and f2["headers"]["messageId"] == mid and f2["headers"]["eventId"] == "ev-1"
          and time.time() - started >= 0.3, "unacked EVENT redelivered with the same ids")
    w.ack(f2, {"status": "LATER", "message": "busy"})
    f3 = w.json(2)
    check(f3 and f3["headers"]["messageId"] == mid, "LATER means redeliver")
    # A fragmented ack: a text frame without FIN, then a continuation.
    text = json.dumps({"code": 200, "headers": {"messageId": mid, "contentType": "application/json"},
                       "message": "OK", "data": json.dumps({"status": "SUCCESS"})}).encode()
    w.send(0x1, text[:10], fin=False)
    w.send(0x0, text[10:])
    check(fake.wait_for(lambda: mid in fake.acked_events, 2), "SUCCESS ack (fragmented) ends the event")
    check(w.json(0.8) is None and fake.deliveries(mid) == 3, "no redelivery after SUCCESS")

    w.send_json({"code": 200, "headers": {"messageId": "bogus"}, "data": "{}"})
    check(fake.wait_for(lambda: any("bogus" in e for e in fake.ack_errors), 2), "ack with an unknown messageId flagged")
    errors = len(fake.ack_errors)
    mid = fake.push_event("user_leave_org", {"userId": ["u9"]})
    f = w.json()
    w.ack(f, {"status": "DONE"})
    check(fake.wait_for(lambda: len(fake.ack_errors) == errors + 1, 2), "EVENT ack status other than SUCCESS/LATER flagged")
    w.ack(f, {"status": "SUCCESS"})
    fake.wait_for(lambda: mid in fake.acked_events, 2)

    msg = fake.robot_message("我的身份证号码", sender_staff_id="u7", conversation_type="2", lang_hint="zh-Hans")
    mid = fake.push_robot_message(msg)
    f = w.json()
    d = json.loads(f["data"]) if f else {}
    check(f and f["type"] == "CALLBACK" and f["headers"]["topic"] == "/v1.0/im/bot/messages/get"
          and d["text"]["content"] == "我的身份证号码" and d["senderStaffId"] == "u7" and d["conversationType"] == "2"
          and d["sessionWebhookExpiredTime"] - d["createAt"] == 90 * 60 * 1000 and d["robotCode"] == CLIENT_ID,
          "robot message as a CALLBACK frame: %s" % d)
    w.ack(f, {"response": None})
    check(w.json(0.8) is None, "robot messages are not redelivered")
    path = d["sessionWebhook"][len(fake.base):]
    st, r = c.call("POST", path, {"msgtype": "text", "text": {"content": "已屏蔽"}}, auth=False)
    check(st == 200 and r["errcode"] == 0 and fake.session_replies[-1][1]["text"]["content"] == "已屏蔽",
          "session webhook reply recorded")
    st, r = c.call("POST", "/robot/sendBySession?session=unknown", {"msgtype": "text", "text": {"content": "x"}})
    check(r["errcode"] == 300001, "unknown session refused")

    # Drop: the pending event comes back on the next connection.
    mid = fake.push_event("chat_add_member", {"chatId": "c1"})
    f = w.json()
    check(f and f["headers"]["messageId"] == mid, "event before the drop")
    fake.drop_connection()
    check(w.json(1) is None and w.closed, "drop_connection closes TCP without a close frame")
    check(not fake.connected(), "not connected after the drop")
    w = connect(c, ctx)
    f = w.json()
    check(f and f["headers"]["messageId"] == mid, "unacked event redelivered on the next connection")
    w.ack(f, {"status": "SUCCESS"})
    fake.wait_for(lambda: mid in fake.acked_events, 2)

    fake.disconnect_grace = 0.3
    check(fake.push_disconnect() == 1, "one connection told to disconnect")
    f = w.json()
    check(f and f["type"] == "SYSTEM" and f["headers"]["topic"] == "disconnect"
          and json.loads(f["data"])["reason"] == "persistent connection is timeout", "SYSTEM disconnect: %s" % f)
    check(not fake.connected(), "a connection told to disconnect no longer counts")
    started = time.time()
    check(w.json(3) is None and w.closed and 0.15 < time.time() - started < 2, "TCP closed after the grace")

    w = connect(c, ctx)
    w.send(0x1, b"{}", mask=False)
    fr = w.frame()
    check(fr and fr[0] == 0x8 and struct.unpack(">H", fr[1][:2])[0] == 1002, "unmasked client frame: close 1002")
    w.close()
    for payload, opcode, code in ((b"\xff\xfe", 0x1, 1007), (b"{}", 0x0, 1002), (b"", 0x3, 1002)):
        w = connect(c, ctx)
        w.send(opcode, payload)
        fr = w.frame()
        check(fr and fr[0] == 0x8 and struct.unpack(">H", fr[1][:2])[0] == code,
              "opcode %d %r: close %d (%s)" % (opcode, payload, code, fr))
        w.close()
    w = connect(c, ctx)
    w.send(0x8, struct.pack(">H", 1000))
    fr = w.frame()
    check(fr and fr[0] == 0x8 and struct.unpack(">H", fr[1][:2])[0] == 1000, "close handshake echoed")
    w.close()
    w = connect(c, ctx, subs=[{"type": "EVENT", "topic": "*"}])
    fake.wait_for(fake.connected, 2)
    fake.push_robot_message(fake.robot_message("hi"))
    check(w.json(0.5) is None and fake.undelivered, "no CALLBACK frames without the subscription")
    w.close()
    check(fake.connections == 9, "upgrades counted: %d" % fake.connections)


def test_custom_robot(fake, c):
    def send(body, ts=None, token=None, secret=ROBOT_SECRET, raw_sign=None):
        ts = str(ts or int(time.time() * 1000))
        sign = raw_sign or base64.b64encode(hmac.new(secret.encode(), (ts + "\n" + secret).encode(),
                                                     hashlib.sha256).digest()).decode()
        q = urllib.parse.urlencode({"access_token": token or fake.robot_access_token, "timestamp": ts, "sign": sign})
        return c.call("POST", "/robot/send?" + q, body, auth=False)[1]["errcode"]

    text = {"msgtype": "text", "text": {"content": "alert"}}
    check(send(text) == 0, "signed message accepted")
    check(send(text, token="wrong") == 400101, "bad access_token: 400101")
    check(send(text, secret="SECother") == 310000, "bad sign: 310000")
    check(send(text, ts=int(time.time() * 1000) - 3700 * 1000) == 310000, "stale timestamp: 310000")
    check(send(text, raw_sign="hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM=") == 310000, "someone else's sign")
    check(send({"msgtype": "voice"}) == 400105, "unsupported msgtype: 400105")
    codes = [send({"msgtype": "markdown", "markdown": {"title": "t", "text": "#%d" % i}}) for i in range(19)]
    check(codes == [0] * 19, "20 messages in a minute accepted")
    check(send(text) == 410100, "the 21st is throttled")
    fake.throttle_seconds = 0.5
    check(send(text) == 410100 and len(fake.robot_throttled) == 2, "still throttled")
    check(len(fake.robot_messages) == 20, "accepted messages recorded")


def test_approvals(fake, c, ctx):
    w = connect(c, ctx)
    iid = fake.start_instance("PROC-CONSENT", "u3", {"reason": "外发客户名单"}, files=[{"fileName": "a.xlsx"}])
    f = w.json()
    d = json.loads(f["data"]) if f else {}
    check(f and f["headers"]["eventType"] == "bpms_instance_change" and d["type"] == "start"
          and d["processInstanceId"] == iid and d["staffId"] == "u3" and d["bizCategoryId"] == "", "start event: %s" % d)
    w.ack(f, {"status": "SUCCESS"})
    st, r = c.call("GET", "/v1.0/workflow/processInstances?processInstanceId=" + iid)
    task = r["result"]["tasks"][0] if st == 200 else {}
    check(st == 200 and r["success"] and r["result"]["status"] == "RUNNING" and task["userId"] == "barra-approver"
          and task["status"] == "RUNNING" and r["result"]["formComponentValues"][1]["componentType"] == "DDAttachment",
          "instance readable: %s" % r)
    check(c.call("GET", "/v1.0/workflow/processInstances?processInstanceId=nope")[1]["code"] == "processInstanceNotFound",
          "unknown instance")
    ex = {"processInstanceId": iid, "result": "agree", "actionerUserId": "u9", "taskId": task.get("taskId"), "remark": "ok"}
    st, r = c.call("POST", "/v1.0/workflow/processInstances/execute", ex)
    check(st == 400 and r["code"] == "taskNotFound", "someone else's task refused")
    st, r = c.call("POST", "/v1.0/workflow/processInstances/execute", dict(ex, actionerUserId="barra-approver"))
    check(st == 200 and r == {"success": True, "result": True} and len(fake.executions) == 1, "task executed")
    f = w.json()
    d = json.loads(f["data"]) if f else {}
    check(d.get("type") == "finish" and d.get("result") == "agree" and d.get("finishTime"), "finish event: %s" % d)
    w.ack(f, {"status": "SUCCESS"})
    st, r = c.call("POST", "/v1.0/workflow/processInstances/execute", dict(ex, actionerUserId="barra-approver"))
    check(st == 400, "a finished task cannot be executed again")

    body = {"originatorUserId": "barra-bot", "processCode": "PROC-CONSENT", "deptId": -1}
    st, r = c.call("POST", "/v1.0/workflow/processInstances", body)
    check(st == 400 and r["code"] == "processInstanceInvalidParameter", "formComponentValues required")
    body["formComponentValues"] = [{"name": "reason", "value": "upload of id card"}]
    st, r = c.call("POST", "/v1.0/workflow/processInstances", body)
    check(st == 200 and r["instanceId"] and fake.created_instances[-1]["processInstanceId"] == r["instanceId"],
          "instance created: %s" % r)
    f = w.json()
    check(f and json.loads(f["data"])["type"] == "start", "start event for the created instance")
    w.ack(f, {"status": "SUCCESS"})
    fake.finish_instance(r["instanceId"], "refuse")
    f = w.json()
    d = json.loads(f["data"]) if f else {}
    check(d.get("type") == "finish" and d.get("result") == "refuse" and d.get("processCode") == "PROC-CONSENT",
          "the human approver refuses: %s" % d)
    w.ack(f, {"status": "SUCCESS"})
    w.close()


def test_exclusive(fake, c, ctx):
    w = connect(c, ctx)
    recs = fake.push_file_send_check([{"fileName": "客户名单.xlsx", "userId": "u2"}])
    f = w.json()
    d = json.loads(f["data"]) if f else {}
    check(f and f["headers"]["eventType"] == "org_file_send_check" and d["fileRecords"][0]["requestId"] == recs[0]["requestId"]
          and set(d["fileRecords"][0]) == {"openCid", "fileName", "ossKey", "requestId", "userId"}, "DLP event: %s" % d)
    w.ack(f, {"status": "SUCCESS"})
    w.close()
    st, r = c.call("PUT", "/v1.0/exclusive/sending/files/status", {"requestIds": [recs[0]["requestId"]], "status": 2})
    check(st == 200 and r == {"result": True} and fake.file_statuses[-1]["status"] == 2, "DLP verdict recorded")
    check(c.call("PUT", "/v1.0/exclusive/sending/files/status", {"requestIds": [], "status": 2})[0] == 400, "empty verdict refused")

    queries = len(fake.audit_queries)
    start = 1700000000000
    a = fake.add_audit_records(1200, start, seed=7)
    other = dingtalk_fake.DingTalkFake("c", "k", "x", "y")
    check(other.add_audit_records(1200, start, seed=7) == a, "audit records are reproducible")
    check({2, 5, 8, 12} <= {r["action"] for r in a} and {r["action"] for r in a} - {2, 5, 8, 12},
          "a mix of actions")
    lo, hi = a[100]["gmtCreate"], a[1100]["gmtCreate"]
    want = [r for r in fake.audit_records if lo <= r["gmtCreate"] <= hi]
    got, cursor, pages = [], {}, 0
    while True:
        q = dict({"startDate": lo, "endDate": hi, "pageSize": 300}, **cursor)
        st, r = c.call("GET", "/v1.0/exclusive/fileAuditLogs?" + urllib.parse.urlencode(q))
        if not check(st == 200, "audit page: %s" % r):
            break
        got += r["list"]
        pages += 1
        if len(r["list"]) < 300:
            break
        cursor = {"nextGmtCreate": r["list"][-1]["gmtCreate"], "nextBizId": r["list"][-1]["bizId"]}
    keys = [(r["gmtCreate"], r["bizId"]) for r in got]
    check(got == want and keys == sorted(keys) and len(set(keys)) == len(keys) and pages == 4,
          "cursor paging returns the window once, in order (%d of %d in %d pages)" % (len(got), len(want), pages))
    check(len({r["gmtCreate"] for r in want}) < len(want), "some records share a gmtCreate (the bizId tiebreak is used)")
    fields = {"userId", "realName", "operatorName", "action", "actionView", "resource", "resourceExtension",
              "resourceSize", "bizId", "ipAddress", "platform", "platformView", "gmtCreate", "gmtModified",
              "orgName", "receiverName", "receiverType", "operateModule", "targetSpaceId", "status"}
    check(set(got[0]) == fields, "§3.3 fields: %s" % sorted(got[0]))
    st, r = c.call("GET", "/v1.0/exclusive/fileAuditLogs?startDate=0&endDate=1&pageSize=501")
    check(st == 400 and r["code"] == "param.invalid", "pageSize over 500 refused")
    st, r = c.call("GET", "/v1.0/exclusive/fileAuditLogs?startDate=0&endDate=1&pageSize=5&nextBizId=1")
    check(st == 400 and r["code"] == "param.error", "half a cursor refused")
    check(len(fake.audit_queries) == queries + pages + 2, "audit queries recorded")


def test_download(fake, c):
    fake.add_file("dc-1", b"\x00secret bytes")
    st, r = c.call("POST", "/v1.0/robot/messageFiles/download", {"downloadCode": "dc-1", "robotCode": CLIENT_ID})
    check(st == 200 and r["downloadUrl"] == fake.base + "/files/dc-1", "download URL: %s" % r)
    st, data = c.call("GET", r["downloadUrl"][len(fake.base):], auth=False)
    check(st == 200 and data == b"\x00secret bytes", "file served")
    check(c.call("POST", "/v1.0/robot/messageFiles/download", {"downloadCode": "x", "robotCode": CLIENT_ID})[0] == 400,
          "unknown download code refused")


def test_http_push(fake):
    token, aes_key, owner = "tok123", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "dingowner"
    key = sim.derive_key(aes_key)
    seen = []

    class Barra(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            enc = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["encrypt"]
            ok = sim.signature(token, q["timestamp"], q["nonce"], enc) == q["msg_signature"]
            seen.append((ok, json.loads(sim.decrypt(key, owner, enc))))
            ts, nonce = "1700000000", "abcdEFGH"
            e = sim.encrypt(key, owner if self.path.startswith("/good") else "dingother", b"success")
            body = json.dumps({"msg_signature": sim.signature(token, ts, nonce, e), "timeStamp": ts,
                               "nonce": nonce, "encrypt": e}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = http.server.HTTPServer(("127.0.0.1", 0), Barra)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/good/callback" % srv.server_address[1]
    st, reply = fake.push_http(url, {"EventType": "check_url"}, token, aes_key, owner)
    check(st == 200 and reply == "success" and seen[-1] == (True, {"EventType": "check_url"}),
          "HTTP push encrypted, signed, reply verified: %s %s %s" % (st, reply, seen))
    st, reply = fake.push_http(url.replace("/good", "/bad"), {"EventType": "check_url"}, token, aes_key, owner)
    check(st == 200 and reply is None, "a reply for another owner is not accepted")
    srv.shutdown()


def main():
    tmp = tempfile.mkdtemp(prefix="dingtalk-fake-")
    fake = None
    started = time.time()
    try:
        ca, cert, key = dingtalk_fake.make_cert(tmp)
        fake = dingtalk_fake.DingTalkFake(cert, key, CLIENT_ID, CLIENT_SECRET, robot_secret=ROBOT_SECRET).start()
        ctx = ssl.create_default_context(cafile=ca)
        c = Client(fake, ctx)
        for name, run in [("tls", lambda: test_tls(fake, ca)), ("token", lambda: test_token(fake, c)),
                          ("registration", lambda: test_registration(fake, c, ctx)),
                          ("stream", lambda: test_stream(fake, c, ctx)),
                          ("custom robot", lambda: test_custom_robot(fake, c)),
                          ("approvals", lambda: test_approvals(fake, c, ctx)),
                          ("exclusive", lambda: test_exclusive(fake, c, ctx)),
                          ("download", lambda: test_download(fake, c)), ("http push", lambda: test_http_push(fake))]:
            try:
                run()
            except Exception:
                import traceback
                traceback.print_exc()
                check(False, "%s raised" % name)
        check(not fake.errors, "the fake did not crash: %s" % fake.errors)
        check(len(fake.requests) > 50 and all({"method", "path", "query", "headers", "json"} <= set(r) for r in fake.requests),
              "requests recorded")
    finally:
        if fake:
            fake.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed (%.1f s)" % (passed, failed, time.time() - started))
    sys.exit(1 if failed else 0)


main()
