#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration tests of the DingTalk connector: `barra serve` on loopback against the DingTalk
simulator (tests/gateway/dingtalk_fake.py, which speaks DingTalk's wire protocols and checks
itself against the official test vectors), over TLS verified against a CA made for the test.

    test-dingtalk.py BARRA

Covers Stream mode (pings, events and their redelivery, disconnect, a dropped connection), robot
messages answered in the sender's language, an approval round trip through a consent approval,
Exclusive DingTalk's file-send check and file-audit polling across a restart, and alerts through
the custom robot. Prints "N checks, N failed"."""

import glob
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_harness import Daemon, base_config, check, new_token, run  # noqa: E402
from dingtalk_fake import DingTalkFake, make_cert, wait_for  # noqa: E402

CLIENT_ID, CLIENT_SECRET = "dingbarratest0001", "barra-test-secret-7f3a"
ROBOT_TOKEN = "alert-robot-token-7f3a"
HKID = "A123456(3)"  # check digit from tests/corpus, computed independently of Barra
TOKEN, TOKEN_CFG = new_token("app", "metrics,decisions")


def start(tmp, extra="", robot_secret=None, per_minute=None, fake_setup=None):
    """The simulator and a daemon configured for it; returns (fake, daemon)."""
    ca, cert, key = make_cert(tmp)
    fake = DingTalkFake(cert, key, CLIENT_ID, CLIENT_SECRET, robot_secret=robot_secret)
    if fake_setup:
        fake_setup(fake)
    fake.start()
    with open(os.path.join(tmp, "dt-secret"), "w") as f:
        f.write(CLIENT_SECRET + "\n")
    cfg = ("connectors:\n  dingtalk:\n    client_id: %s\n    client_secret_file: dt-secret\n"
           "    api_base: %s\n    oapi_base: %s\n    ca_file: %s\n    stream: true\n"
           % (CLIENT_ID, fake.base, fake.base, ca))
    if robot_secret:
        with open(os.path.join(tmp, "robot-url"), "w") as f:
            f.write("%s/robot/send?access_token=%s\n" % (fake.base, ROBOT_TOKEN))
        with open(os.path.join(tmp, "robot-secret"), "w") as f:
            f.write(robot_secret + "\n")
        cfg += "    alerts: {webhook_file: robot-url, secret_file: robot-secret%s}\n" % (
            ", per_minute: %d" % per_minute if per_minute else "")
    d = Daemon(tmp, base_config(tmp, TOKEN_CFG, cfg + extra)).start()
    check(fake.wait_for(fake.connected, 15), "the gateway connects over Stream mode")
    return fake, d


def audit_records(tmp, type_=None):
    """The audit log's records (decoded JSON), oldest first."""
    out = []
    for path in glob.glob(os.path.join(tmp, "data", "audit", "*.db")):
        db = sqlite3.connect(path)
        for t, rec in db.execute("SELECT type, record FROM entries ORDER BY seq"):
            if type_ is None or t == type_:
                out.append(json.loads(rec))
        db.close()
    return out


def state_rows(tmp, sql):
    db = sqlite3.connect(os.path.join(tmp, "data", "state.db"))
    rows = db.execute(sql).fetchall()
    db.close()
    return rows


def metric(d, name):
    _, _, body = d.call("GET", "/metrics", token=TOKEN)
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def test_stream(tmp):
    fake, d = start(tmp)
    regs = fake.registrations
    check(regs and regs[0]["clientId"] == CLIENT_ID and
          {"type": "CALLBACK", "topic": "/v1.0/im/bot/messages/get"} in regs[0]["subscriptions"],
          "registration names the app and subscribes to events and robot messages: %s" % regs)
    opaque = fake.push_ping()
    check(fake.wait_for(lambda: fake.ping_echoes >= 1, 5), "DingTalk's ping is answered, echoing %s" % opaque)
    mid = fake.push_event("user_add_org", {"timeStamp": "1685501863357", "userId": ["u-new"]}, "ev-1")
    check(fake.wait_for(lambda: mid in fake.acked_events, 5), "an event is acknowledged SUCCESS once stored")
    # The same event again (DingTalk redelivers): acknowledged, stored once.
    mid2 = fake.push_event("user_add_org", {"timeStamp": "1685501863357", "userId": ["u-new"]}, "ev-1")
    check(fake.wait_for(lambda: mid2 in fake.acked_events, 5), "a redelivered event is acknowledged again")
    told = fake.push_disconnect()
    check(told == 1 and fake.wait_for(lambda: fake.connections >= 2 and fake.connected(), 10),
          "after disconnect the gateway reconnects with a new ticket (connections %d)" % fake.connections)
    check(len(fake.registrations) >= 2, "a new ticket was asked for")
    fake.drop_connection()
    check(fake.wait_for(lambda: fake.connections >= 3 and fake.connected(), 15),
          "after a dropped connection the gateway reconnects")
    mid3 = fake.push_event("user_leave_org", {"userId": ["u-old"]}, "ev-2")
    check(fake.wait_for(lambda: mid3 in fake.acked_events, 5), "events flow on the new connection")
    check(metric(d, "barra_dingtalk_stream_up") == 1, "/metrics says the stream is up")
    check(not fake.ack_errors, "every acknowledgement is well-formed: %s" % fake.ack_errors[:3])
    d.stop()
    rows = state_rows(tmp, "SELECT event_id, type FROM inbound ORDER BY event_id")
    check(rows == [("ev-1", "user_add_org"), ("ev-2", "user_leave_org")], "each event stored once: %s" % rows)
    pending = state_rows(tmp, "SELECT key, value FROM kv WHERE ns = 'dingtalk.pending'")
    check(pending == [], "processed events leave nothing pending: %s" % pending)
    fake.stop()


def test_robot(tmp):
    fake, d = start(tmp)
    cases = [
        # (text, conversation type, language the reply must be in, rule whose tip is expected)
        ("請幫我登記，身份證號碼 %s，謝謝" % HKID, "1", "zh-Hant", "由於平台將訊息儲存於中國內地"),
        ("请帮我登记这个人的身份证 %s" % HKID, "1", "zh-Hans", "由于平台将消息存储于中国内地"),
        ("O cliente não tem o número %s para o registo" % HKID, "1", "pt", "Os números de identificação"),
        ("Patient diagnosed with diabetes, please arrange the insurance claim", "2", "en",
         "This message is on hold"),
        ("Lunch at noon?", "1", None, None),
    ]
    for text, conv, lang, tip in cases:
        before = len(fake.session_replies)
        fake.push_robot_message(fake.robot_message(text, sender_staff_id="u-%s" % (lang or "x"),
                                                   conversation_type=conv))
        if tip is None:
            time.sleep(1.0)
            check(len(fake.session_replies) == before, "content that may go as it is gets no reply")
            continue
        got = fake.wait_for(lambda: len(fake.session_replies) > before, 10)
        reply = fake.session_replies[-1][1] if got else {}
        content = reply.get("text", {}).get("content", "")
        check(tip in content, "a %s message is answered in %s with its tip: %r" % (lang, lang, content))
        if "身份" in text or "número" in text:
            check(HKID not in content and "*" in content,
                  "the reply carries the text with the HKID masked: %r" % content)
        if conv == "2":
            check(reply.get("at", {}).get("atUserIds") == ["u-en"], "in a group the sender is @-mentioned")
    # A file sent to the robot one-to-one: its contents are fetched and classified.
    for code, data in (("dc-text", b"Customer list: HKID A123456(3), account 7"), ("dc-binary", b"PK\x03\x04\x00\x00binary")):
        fake.add_file(code, data)
        msg = fake.robot_message("", sender_staff_id="u-file")
        msg.update(msgtype="file", content={"downloadCode": code, "fileName": "customers.txt"})
        del msg["text"]
        before = len(fake.session_replies)
        fake.push_robot_message(msg)
        if code == "dc-text":
            fake.wait_for(lambda: len(fake.session_replies) > before, 10)
            content = fake.session_replies[-1][1].get("text", {}).get("content", "") \
                if len(fake.session_replies) > before else ""
            check("were partly masked" in content and HKID not in content,
                  "a text file's contents are classified, and the sender told: %r" % content)
    check(fake.wait_for(lambda: len(fake.downloads) == 2, 10), "both files were downloaded")
    d.stop()
    decisions = [r for r in audit_records(tmp, "decision") if r.get("via") == "dingtalk-robot"]
    check(len(decisions) == 7, "every robot message is recorded on arrival: %d" % len(decisions))
    check(decisions and decisions[-1]["decision"]["action"] == "block",
          "a file that cannot be read is decided by the exception action (block): %s"
          % (decisions[-1]["decision"] if decisions else None))
    actions = [r for r in audit_records(tmp, "action") if r.get("action") == "reply"]
    check(len(actions) >= 5 and all(a["ok"] for a in actions), "each reply is recorded: %s" % actions)
    log = json.dumps(audit_records(tmp))
    check(HKID not in log and "diabetes" not in log, "the audit log holds no matched value or text")
    fake.stop()


def test_approval(tmp):
    extra = ("    approval: {process_code: PROC-GATE, approver: barra-approver, "
             "subject_field: Employee, consent_process: PROC-CONSENT}\n")
    fake, d = start(tmp, extra)
    plain = fake.start_instance("PROC-GATE", "u-alice", {"Employee": "u-bob", "Reason": "Team dinner budget"})
    check(fake.wait_for(lambda: any(e["processInstanceId"] == plain for e in fake.executions), 10),
          "a form without personal data is decided")
    ex = [e for e in fake.executions if e["processInstanceId"] == plain]
    check(ex and ex[0]["result"] == "agree" and ex[0]["actionerUserId"] == "barra-approver",
          "and approved by Barra's approver: %s" % ex)
    medical = fake.start_instance("PROC-GATE", "u-alice", {"Employee": "u-bob",
                                                           "Reason": "Patient diagnosed with diabetes; insurance claim"})
    check(fake.wait_for(lambda: fake.created_instances, 10), "sensitive data starts a consent approval")
    created = fake.created_instances[0] if fake.created_instances else {}
    body = created.get("request", created)
    check(body.get("processCode") == "PROC-CONSENT" and
          body.get("approvers", [{}])[0].get("userIds") == ["u-bob"],
          "the consent approval goes to the data subject: %s" % body)
    check(not any(e["processInstanceId"] == medical for e in fake.executions),
          "the gated instance waits for the consent")
    consent_id = created.get("processInstanceId") or created.get("instanceId")
    fake.finish_instance(consent_id, "agree")
    check(fake.wait_for(lambda: any(e["processInstanceId"] == medical for e in fake.executions), 10),
          "once the subject agrees, the gated instance is decided again")
    ex = [e for e in fake.executions if e["processInstanceId"] == medical]
    check(ex and ex[0]["result"] == "agree", "and approved: %s" % ex)
    refused = fake.start_instance("PROC-GATE", "u-alice", {"Employee": "u-carol",
                                                           "Reason": "Patient diagnosed with diabetes"})
    check(fake.wait_for(lambda: len(fake.created_instances) >= 2, 10), "a second consent approval starts")
    fake.finish_instance(fake.created_instances[1].get("processInstanceId") or
                         fake.created_instances[1].get("instanceId"), "refuse")
    check(fake.wait_for(lambda: any(e["processInstanceId"] == refused for e in fake.executions), 10),
          "a refused consent decides the gated instance")
    ex = [e for e in fake.executions if e["processInstanceId"] == refused]
    check(ex and ex[0]["result"] == "refuse" and "on hold" in ex[0].get("remark", ""),
          "which is refused with the policy tip: %s" % ex)
    # Attachments are read: a medical report attached to a plain form needs consent too; a file
    # that cannot be read refuses the instance (fail closed).
    fake.add_file("f-report", "診斷：糖尿病 diagnosed with diabetes".encode())
    fake.add_file("f-binary", b"\x89PNG\r\n\x1a\n\x00\x00")
    n_created = len(fake.created_instances)
    fake.start_instance("PROC-GATE", "u-alice", {"Employee": "u-dan", "Reason": "Claim"},
                        files=[{"fileId": "f-report", "fileName": "report.txt", "spaceId": "1"}])
    check(fake.wait_for(lambda: len(fake.created_instances) > n_created, 10),
          "an attachment's contents lead to a consent approval")
    scan = fake.start_instance("PROC-GATE", "u-alice", {"Employee": "u-dan", "Reason": "Claim"},
                               files=[{"fileId": "f-binary", "fileName": "scan.png", "spaceId": "1"}])
    check(fake.wait_for(lambda: any(e["processInstanceId"] == scan for e in fake.executions), 10)
          and [e["result"] for e in fake.executions if e["processInstanceId"] == scan] == ["refuse"],
          "an attachment that cannot be read refuses the instance")
    d.stop()
    rows = state_rows(tmp, "SELECT state, evidence FROM consents ORDER BY recorded_at")
    check(len(rows) == 2 and rows[0][1].startswith("dingtalk:approval:"),
          "both answers are in the consent registry with the approval as evidence: %s" % rows)
    kinds = [r.get("action") for r in audit_records(tmp, "action")]
    check(kinds.count("request_consent") == 3 and kinds.count("approve") == 2 and kinds.count("refuse") == 2,
          "every approval action is recorded: %s" % kinds)
    fake.stop()


def test_exclusive(tmp):
    extra = "    file_check: true\n    file_audit: {interval: 1, page_size: 100, lookback: 86400}\n"
    # Records are at most 120 s apart: 250 from ten hours ago end before now - 1.6 h, and the 30
    # added while the gateway is down (from 4000 s ago) come after them and before now.
    start_ms = int(time.time() * 1000) - 10 * 3600 * 1000

    def setup(fake):
        fake.add_audit_records(250, start_ms, seed=7)
        fake.token_lifetime = 4  # seconds: the gateway must fetch new ones before they expire

    fake, d = start(tmp, extra, fake_setup=setup)
    recs = fake.push_file_send_check([{"fileName": "meeting-notes.docx"},
                                      {"fileName": "copy of %s.jpg" % HKID},
                                      {"fileName": "diagnosis diabetes report.pdf"}])
    check(fake.wait_for(lambda: sum(len(s["requestIds"]) for s in fake.file_statuses) >= 3, 10),
          "every file of the send check is answered")
    status = {rid: s["status"] for s in fake.file_statuses for rid in s["requestIds"]}
    check([status.get(r["requestId"]) for r in recs] == [1, 2, 3],
          "pass, fail, needs approval as the policy decides: %s" % status)
    check(wait_for(lambda: state_rows(tmp, "SELECT count(*) FROM kv WHERE ns = 'activity'")[0][0] == 250, 20),
          "all 250 file-audit records become activity events")
    d.stop()
    queries_before = len(fake.audit_queries)
    fake.add_audit_records(30, int(time.time() * 1000) - 4000 * 1000, seed=8)
    d = Daemon(tmp, open(d.path).read()).start()
    check(wait_for(lambda: state_rows(tmp, "SELECT count(*) FROM kv WHERE ns = 'activity'")[0][0] == 280, 20),
          "after a restart polling goes on: 280 events, none twice")
    after = fake.audit_queries[queries_before:]
    check(after and "nextGmtCreate" in after[0] and "nextBizId" in after[0],
          "the first poll after the restart starts from the stored cursor: %s" % after[:1])
    issued = fake.tokens_issued
    time.sleep(6)  # polls every second for longer than a token lives
    check(fake.tokens_issued >= issued + 1 and not fake.auth_failures,
          "access tokens are fetched again before they expire (%d fetched, %d refused calls)"
          % (fake.tokens_issued, len(fake.auth_failures)))
    d.stop()
    events = [json.loads(v) for (v,) in state_rows(tmp, "SELECT value FROM kv WHERE ns = 'activity'")]
    by_code = {e["dingtalk_action"]: e["action"] for e in events}
    check(by_code.get(2) == "file_download" and by_code.get(5) == "share_link" and
          by_code.get(12) == "file_export" and by_code.get(8) == "file_forward",
          "DingTalk's action codes map to activity actions: %s" % by_code)
    check(all(e["time"].endswith("Z") and e["source"] == "dingtalk.file_audit" for e in events),
          "activity events carry an RFC 3339 time and their source")
    fake.stop()


def test_alerts(tmp):
    secret = "SEC" + "7f3a" * 16

    fake, d = start(tmp, robot_secret=secret)  # the fake's robot token is not ROBOT_TOKEN yet
    for i in range(5):
        fake.push_robot_message(fake.robot_message("Patient %d diagnosed with diabetes" % i, sender_staff_id="u%d" % i))
    check(fake.wait_for(lambda: len(fake.robot_refused) >= 1, 10), "the first alert was refused")
    check(wait_for(lambda: metric(d, 'barra_dingtalk_alerts{state="pending"}') == 5, 10),
          "refused alerts wait; none is dropped")
    with fake.lock:
        fake.robot_access_token = ROBOT_TOKEN
    check(fake.wait_for(lambda: fake.robot_messages, 20), "alerts go once the robot accepts them")
    msgs = list(fake.robot_messages)
    text = " ".join(m["markdown"]["text"] for m in msgs if m.get("msgtype") == "markdown")
    check(len(msgs) == 1 and "5 notices" in text, "the waiting alerts were merged into one digest: %s" % msgs)
    check(all("diabetes" not in json.dumps(m) for m in msgs), "alerts carry no message text")
    check(not fake.robot_throttled, "the robot was never throttled")
    check(wait_for(lambda: metric(d, 'barra_dingtalk_alerts{state="sent"}') == 5, 5),
          "/metrics counts the 5 notices sent")
    d.stop()
    fake.stop()


def main():
    run([test_stream, test_robot, test_approval, test_exclusive, test_alerts])


main()
