#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The activity monitor inside `barra serve`, fed by every input at once: the DingTalk file audit
(the simulator's fileAuditLogs API, polled through the connector), syslog (RFC 5424 over TCP, both
framings) and POST /v1/activity. Alerts must come out of GET /v1/alerts, the audit log and the
DingTalk simulator's custom-robot endpoint, which refuses anything not signed with the robot's
secret; windows must survive a restart. Alerts also go to a webhook (signature checked here
with the Standard Webhooks scheme), to syslog over TLS and to an SMTP server, all on loopback.

    test-monitor-serve.py BARRA"""

import base64
import datetime
import glob
import hashlib
import hmac
import http.server
import json
import os
import re
import socket
import sqlite3
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_harness import ROOT, Daemon, base_config, check, free_port, new_token, run  # noqa: E402
from dingtalk_fake import DingTalkFake, make_cert, wait_for  # noqa: E402

CLIENT_ID, CLIENT_SECRET = "dingbarratest0001", "barra-test-secret-7f3a"
ROBOT_TOKEN, ROBOT_SECRET = "alert-robot-token-7f3a", "SEC" + "5b1c" * 16
TOKEN, TOKEN_CFG = new_token("feeds", "activity,alerts,metrics")


def iso(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).isoformat()


def config(tmp, fake, ca, syslog_port):
    for name, text in (("dt-secret", CLIENT_SECRET), ("robot-url", "%s/robot/send?access_token=%s"
                                                      % (fake.base, ROBOT_TOKEN)),
                       ("robot-secret", ROBOT_SECRET)):
        with open(os.path.join(tmp, name), "w") as f:
            f.write(text + "\n")
    extra = ("connectors:\n  dingtalk:\n    client_id: %s\n    client_secret_file: dt-secret\n"
             "    api_base: %s\n    oapi_base: %s\n    ca_file: %s\n"
             "    file_audit: {interval: 1, page_size: 100, lookback: 86400}\n"
             "    alerts: {webhook_file: robot-url, secret_file: robot-secret}\n"
             "monitor:\n  rules: %s\n  lateness: 2\n  syslog_listen: 127.0.0.1:%d\n"
             % (CLIENT_ID, fake.base, fake.base, ca, os.path.join(ROOT, "rules", "monitor"),
                syslog_port))
    return base_config(tmp, TOKEN_CFG, extra)


def bulk_records(fake, user, start_ms, n):
    """n downloads (DingTalk file-audit action 2) of different files, 3 s apart."""
    recs = [{"userId": user, "realName": "Bulk", "operatorName": "Bulk", "action": 2,
             "actionView": "下载", "resource": "contract-%03d.pdf" % i, "resourceExtension": "pdf",
             "resourceSize": 20000 + i, "bizId": str(9100000000 + i), "ipAddress": "10.0.0.9",
             "platform": 11, "platformView": "Windows", "gmtCreate": start_ms + 3000 * i,
             "gmtModified": start_ms + 3000 * i, "orgName": fake.org_name, "receiverName": "",
             "receiverType": 2, "operateModule": 1, "targetSpaceId": "1", "status": 0}
            for i in range(n)]
    with fake.lock:
        fake.audit_records = sorted(fake.audit_records + recs,
                                    key=lambda r: (r["gmtCreate"], r["bizId"]))


def syslog_send(port, messages):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    for framing, msg in messages:
        data = msg.encode()
        s.sendall(b"%d %s" % (len(data), data) if framing == "octets" else data + b"\n")
    s.close()


def alerts(d):
    status, _, body = d.call("GET", "/v1/alerts?limit=1000", token=TOKEN)
    return json.loads(body)["alerts"] if status == 200 else []


def audit_alerts(tmp):
    out = []
    for path in glob.glob(os.path.join(tmp, "data", "audit", "*.db")):
        db = sqlite3.connect(path)
        out += [json.loads(r) for (r,) in db.execute("SELECT record FROM entries WHERE type = 'alert'")]
        db.close()
    return out


def test_feeds(tmp):
    ca, cert, key = make_cert(tmp)
    fake = DingTalkFake(cert, key, CLIENT_ID, CLIENT_SECRET, robot_secret=ROBOT_SECRET)
    fake.robot_access_token = ROBOT_TOKEN
    now = int(time.time() * 1000)
    bulk_records(fake, "u-bulk", now - 40 * 60 * 1000, 110)
    fake.start()
    port = free_port()
    d = Daemon(tmp, config(tmp, fake, ca, port)).start()
    check(any("syslog (RFC 5424 over TCP) on 127.0.0.1:%d" % port in l for l in [d.read_line(5) or ""]),
          "serve says where syslog is taken")
    # The engine holds events only `lateness` (2 s) for time order: the file audit's downloads, 40
    # minutes old, must be in before the newer events below, or they are rightly counted late.
    check(wait_for(lambda: any(a["rule"] == "barra-bulk-download" for a in alerts(d)), 30),
          "the file audit, polled at start, gives the bulk download alert")
    # the API: ten external share links by eve (20 minutes ago), before syslog's newer events
    events = [{"time": iso(now - 20 * 60 * 1000 + 60000 * i), "actor": "eve", "action": "share_link",
               "resource": "plan-%d.pdf" % i} for i in range(10)]
    status, _, body = d.call("POST", "/v1/activity", json.dumps(events + [{"time": iso(now), "action": "login"}]),
                             token=TOKEN, headers={"Content-Type": "application/json"})
    answer = json.loads(body)
    check(status == 202 and answer["accepted"] == 10 and len(answer["refused"]) == 1 and
          answer["refused"][0]["index"] == 10 and "actor" in answer["refused"][0]["error"],
          "POST /v1/activity keeps the good events and names the refused one: %s %s" % (status, body))
    # syslog: an SD-ELEMENT event with octet counting, a JSON event a line, and a stray message
    stamp = iso(now - 10 * 60 * 1000)
    syslog_send(port, [
        ("octets", '<134>1 %s proxy1 squid - - [activity@32473 actor="crm-bot" action="plugin_sync" '
                   'plugin="crm" destination.host="api.crm.example.sg" destination.region="sg"]' % stamp),
        ("line", '<14>1 %s hr1 hrapp - - - \ufeff{"actor":"gina","action":"file_download",'
                 '"resource":"salaries.xlsx","tier":"confidential"}' % stamp),
        ("line", "<14>1 - - - - - - not an event"),
        ("line", "<134>1 %s proxy2 squid - - - %.3f 120 10.0.0.9 TCP_TUNNEL/200 4096 CONNECT "
                 "upload.example.us:443 hr-sync HIER_DIRECT/- -" % (stamp, (now - 9 * 60 * 1000) / 1000)),
    ])
    status, _, body = d.call("POST", "/v1/activity", json.dumps({"actor": "x"}), token=TOKEN,
                             headers={"Content-Type": "application/json"})
    check(status == 400, "a batch with nothing acceptable is 400 (%d)" % status)
    status, _, _ = d.call("POST", "/v1/activity", json.dumps(events[:1]),
                          headers={"Content-Type": "application/json"})
    check(status == 401, "POST /v1/activity needs a token (%d)" % status)

    wanted = {("barra-bulk-download", "u-bulk"), ("barra-plugin-overseas", "crm-bot"),
              ("barra-external-share-burst", "eve"), ("barra-plugin-overseas", "hr-sync")}
    check(wait_for(lambda: wanted <= {(a["rule"], a.get("actor")) for a in alerts(d)}, 30),
          "file audit, syslog (JSON, structured data, a Squid line) and API events give their alerts: %s" %
          sorted({(a["rule"], a.get("actor")) for a in alerts(d)}))
    got = {a["rule"]: a for a in alerts(d)}
    bulk = got.get("barra-bulk-download", {})
    check(bulk.get("count") == 100 and all(e.startswith("dingtalk:") for e in bulk.get("events", [])),
          "the bulk download counts 100 files from the DingTalk file audit: %s" % str(bulk)[:300])
    check(not any(a.get("actor") == "gina" and a["rule"] != "barra-off-hours-file-download"
                  for a in alerts(d)), "a single ordinary download gives no alert")
    logged = {(a["rule"], a.get("actor")) for a in audit_alerts(tmp)}
    check(wanted <= logged, "every alert is in the audit log: %s" % sorted(logged))
    check(fake.wait_for(lambda: any("Bulk download" in json.dumps(m, ensure_ascii=False)
                                    for m in fake.robot_messages), 20),
          "the alert reaches the DingTalk robot, signed (the simulator refuses a bad signature)")
    check(not fake.robot_refused, "no robot message was refused: %s" % fake.robot_refused[:1])
    text = json.dumps(list(fake.robot_messages), ensure_ascii=False)
    check("salaries" not in text and "plan-3.pdf" not in text,
          "robot alerts name rules and people, not files")
    _, _, metrics = d.call("GET", "/metrics", token=TOKEN)
    check(b'barra_monitor_alerts_total' in metrics and b'barra_monitor_events_total{state="processed"}' in metrics,
          "/metrics counts the monitor's events and alerts")

    # a window across a restart: six links before, four after
    t0 = now - 5 * 60 * 1000
    first = [{"time": iso(t0 + 1000 * i), "actor": "frank", "action": "share_link", "resource": "f%d" % i}
             for i in range(6)]
    d.call("POST", "/v1/activity", json.dumps(first), token=TOKEN, headers={"Content-Type": "application/json"})
    time.sleep(4)
    d.stop()
    check(os.path.exists(os.path.join(tmp, "data", "monitor.state")), "the monitor's state is saved on stop")
    db = sqlite3.connect(os.path.join(tmp, "data", "state.db"))
    left = db.execute("SELECT count(*) FROM kv WHERE ns = 'activity'").fetchone()[0]
    db.close()
    check(left == 0, "events counted in the saved state are no longer kept to be fed (%d left)" % left)
    d = Daemon(tmp, open(d.path).read()).start()
    second = [{"time": iso(t0 + 10000 + 1000 * i), "actor": "frank", "action": "share_link",
               "resource": "g%d" % i} for i in range(4)]
    d.call("POST", "/v1/activity", json.dumps(second), token=TOKEN, headers={"Content-Type": "application/json"})
    check(wait_for(lambda: any(a["rule"] == "barra-external-share-burst" and a.get("actor") == "frank"
                               and a["count"] == 10 for a in alerts(d)), 20),
          "six links before a restart and four after make the burst")
    d.stop()
    fake.stop()


class Receivers:
    """Independent receivers on loopback: a webhook (its first request answered 500, to exercise
    the retry), a syslog server over TLS (RFC 5425 frames) and an SMTP server."""

    def __init__(self, tmp, cert, key):
        self.webhooks, self.frames, self.mails, self.calls = [], [], [], 0
        self.lock = threading.Lock()
        outer = self

        class Hook(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    outer.calls += 1
                    first = outer.calls == 1
                    if not first:
                        outer.webhooks.append((dict(self.headers), body))
                self.send_response(500 if first else 204)
                self.end_headers()

            def log_message(self, *a):
                pass
        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.tls = ctx.wrap_socket(socket.create_server(("127.0.0.1", 0)), server_side=True)
        threading.Thread(target=self._syslog, daemon=True).start()
        self.smtp = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._smtp, daemon=True).start()
        self.ports = (self.http.server_address[1], self.tls.getsockname()[1],
                      self.smtp.getsockname()[1])

    def _syslog(self):
        while True:
            try:
                conn, _ = self.tls.accept()
            except (OSError, ssl.SSLError):
                continue
            data = b""
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            conn.close()
            while data:  # octet counting: LEN SP MSG
                length, _, rest = data.partition(b" ")
                n = int(length)
                with self.lock:
                    self.frames.append(rest[:n].decode())
                data = rest[n:]

    def _smtp(self):
        while True:
            conn, _ = self.smtp.accept()
            f = conn.makefile("rwb")

            def say(line):
                f.write(line.encode() + b"\r\n")
                f.flush()
            say("220 test ESMTP")
            mail = {"rcpt": []}
            while True:
                line = f.readline().decode().rstrip("\r\n")
                if not line:
                    break
                verb = line.split(" ")[0].upper()
                if verb in ("EHLO", "HELO"):
                    say("250 test")
                elif verb == "MAIL":
                    mail["from"] = line
                    say("250 ok")
                elif verb == "RCPT":
                    mail["rcpt"].append(line)
                    say("250 ok")
                elif verb == "DATA":
                    say("354 go on")
                    body = b""
                    while True:
                        l2 = f.readline()
                        if l2 in (b".\r\n", b".\n", b""):
                            break
                        body += l2
                    mail["data"] = body.decode()
                    with self.lock:
                        self.mails.append(dict(mail))
                    say("250 queued")
                elif verb == "QUIT":
                    say("221 bye")
                    break
                else:
                    say("250 ok")
            conn.close()


def test_sinks(tmp):
    ca, cert, key = make_cert(tmp)
    rx = Receivers(tmp, cert, key)
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    with open(os.path.join(tmp, "hook-secret"), "w") as f:
        f.write(secret + "\n")
    extra = ("monitor:\n  rules: %s\n  lateness: 1\n  alerts:\n"
             "    webhook: {url: 'http://127.0.0.1:%d/alerts', secret_file: hook-secret, format: ecs}\n"
             "    syslog: {url: 'tls://127.0.0.1:%d', ca_file: %s, format: cef}\n"
             "    email: {url: 'smtp://127.0.0.1:%d', from: barra@example.mo, to: [dpo@example.mo]}\n"
             % (os.path.join(ROOT, "rules", "monitor"), rx.ports[0], rx.ports[1], ca, rx.ports[2]))
    d = Daemon(tmp, base_config(tmp, TOKEN_CFG, extra)).start()
    now = int(time.time() * 1000)
    sync = {"time": iso(now - 60000), "actor": "crm-bot", "action": "plugin_sync", "plugin": "crm",
            "destination": {"host": "api.crm.example.sg", "region": "sg"}}
    status, _, _ = d.call("POST", "/v1/activity", json.dumps(sync), token=TOKEN,
                          headers={"Content-Type": "application/json"})
    check(status == 202, "the event is taken (%d)" % status)
    check(wait_for(lambda: rx.webhooks and rx.frames and rx.mails, 30),
          "the alert reaches the webhook (after a retry), syslog over TLS and SMTP: %d %d %d"
          % (len(rx.webhooks), len(rx.frames), len(rx.mails)))
    if rx.webhooks:
        headers, body = rx.webhooks[0]
        key = base64.b64decode(secret[len("whsec_"):])
        signed = ("%s.%s." % (headers["webhook-id"], headers["webhook-timestamp"])).encode() + body
        want = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        check(headers.get("webhook-signature") == want, "the webhook is signed as Standard Webhooks says")
        check(abs(int(headers["webhook-timestamp"]) - time.time()) < 60, "with a current timestamp")
        doc = json.loads(body)
        check(doc["rule"]["id"] == "barra-plugin-overseas" and doc["event"]["kind"] == "alert",
              "in ECS: %s" % body[:200])
        check(rx.calls >= 2, "a refused delivery is tried again (%d calls)" % rx.calls)
    if rx.frames:
        frame = rx.frames[0]
        check(re.match(r"<107>1 \d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d) \S+ barra - alert - CEF:0\|Barra\|Barra\|", frame) is not None
              and "|barra-plugin-overseas|" in frame and "suser=crm-bot" in frame,
              "syslog: RFC 5424 over TLS, facility log audit, severity error, CEF: %r" % frame[:160])
    if rx.mails:
        mail = rx.mails[0]
        check("dpo@example.mo" in " ".join(mail["rcpt"]) and "barra@example.mo" in mail["from"],
              "the mail goes from and to the configured addresses")
        check("Subject: Barra alert: Plugin sending data outside the allowed regions (high)" in mail["data"]
              and "crm-bot" not in mail["data"].split("\r\n\r\n")[0],
              "the subject names the rule and no one: %r" % mail["data"][:300])
        check("Group: actor=crm-bot" in mail["data"], "the body names the group")
    _, _, metrics = d.call("GET", "/metrics", token=TOKEN)
    check(b'barra_monitor_alerts_delivered_total{to="webhook",state="failed"} 1' in metrics and
          b'barra_monitor_alerts_delivered_total{to="syslog",state="sent"} 1' in metrics,
          "/metrics counts deliveries and failures")
    d.stop()


def main():
    run([test_feeds, test_sinks])


main()
