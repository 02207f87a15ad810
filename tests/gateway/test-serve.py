#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration tests of `barra serve`: the real daemon on loopback with a temporary data folder,
talked to over HTTP and HTTPS; a real WebDAV server (Apache with mod_dav, from Debian) as a route;
a small HTTP server standing in for a generic connector's reply URL.

    test-serve.py BARRA

Proofs are checked with tests/audit/verify-export.py's RFC 9162 and signed-note code, which
shares nothing with Barra's C code but the documented formats. Prints "N checks, N failed"."""

import base64
import http.client
import http.server
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_harness import BARRA, ROOT, Daemon, base_config, check, free_port, new_token, run  # noqa: E402

spec = importlib.util.spec_from_file_location("verify_export",
                                              os.path.join(ROOT, "tests/audit/verify-export.py"))
vx = importlib.util.module_from_spec(spec)
spec.loader.exec_module(vx)

# Valid identifiers (checksums from tests/corpus, computed independently of Barra).
CN_ID = "11010519491231002X"
HKID = "A123456(3)"
# A pay sheet from HR to the mainland: the general policy routes it to its local store.
PAY_SHEET = ("姓名,身份證,月薪\n陳大文,%s,32000\n" % CN_ID).encode()
PAY_SHEET_UPLOAD = ({"sender.department": "HR", "destination.region": "cn-mainland"}, "pay.csv",
                    PAY_SHEET)


def event(text, region="cn-mainland", **extra):
    e = {"kind": "message", "text": text, "source": "api", "time": "2026-11-23T10:00:00+08:00",
         "destination": {"platform": "dingtalk", "region": region}}
    e.update(extra)
    return e


def multipart(fields, file_name=None, file_bytes=None):
    boundary = "barra-test-boundary-7f3a"
    out = b""
    for k, v in fields.items():
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                % (boundary, k, v)).encode()
    if file_name is not None:
        out += ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n" % (boundary, file_name)).encode()
        out += file_bytes + b"\r\n"
    out += ("--%s--\r\n" % boundary).encode()
    return out, {"Content-Type": "multipart/form-data; boundary=" + boundary}


def verify_decision_proof(d, decision_id):
    """GET /v1/decisions/{id}: the entry's leaf hash, its inclusion proof and the signed checkpoint,
    all checked with the outside verifier's code."""
    st, _, body = d.json("GET", "/v1/decisions/%s" % decision_id, token=TOKEN)
    if not check(st == 200, "GET decision %s: %s %s" % (decision_id, st, body)):
        return
    entry, proof = body["entry"], body["proof"]
    record = base64.b64decode(entry["record_base64"])
    check(json.loads(record) == entry["record"], "record_base64 is the record")
    leaf = vx.leaf_hash(vx.leaf_bytes({"seq": entry["index"], "time_ns": entry["time_ns"],
                                       "type_base64": base64.b64encode(entry["type"].encode()),
                                       "record_base64": entry["record_base64"],
                                       "payload_digest": None}))
    check(leaf == base64.b64decode(proof["leaf_hash"]), "the leaf hash is the entry's")
    key_text = open(os.path.join(d.tmp, "verifier.key")).read()
    name, key_id, pub = vx.parse_key(key_text)
    size, root = vx.parse_checkpoint(body["checkpoint"], name, key_id, pub)
    check(size == proof["size"] and root == base64.b64decode(proof["root"]),
          "the proof is for the checkpoint's tree")
    check(vx.verify_inclusion(leaf, entry["index"], size, root,
                              [base64.b64decode(p) for p in proof["proof"]]),
          "the inclusion proof of decision %s verifies" % decision_id)
    # Tampered: another leaf must not verify.
    check(not vx.verify_inclusion(vx.leaf_hash(b"forged"), entry["index"], size, root,
                                  [base64.b64decode(p) for p in proof["proof"]]),
          "a forged leaf does not verify")


# ---------------------------------------------------------------------------------------------

TOKEN, TOKEN_CFG = new_token("app", "classify,events,files,consents,decisions,vault,metrics,connectors")
NARROW, NARROW_CFG = new_token("classifier", "classify")


def test_core(tmp):
    d = Daemon(tmp, base_config(tmp, TOKEN_CFG + NARROW_CFG)).start()
    with open(os.path.join(tmp, "verifier.key"), "w") as f:
        f.write(subprocess.run([BARRA, "log", "key", "--log", os.path.join(tmp, "data", "audit")],
                               capture_output=True, text=True).stdout)
    st, _, body = d.json("GET", "/healthz")
    check(st == 200 and body.get("status") == "ok", "healthz: %s %s" % (st, body))

    # Authentication and scopes.
    st, r, body = d.json("POST", "/v1/classify", {"text": "x"})
    check(st == 401 and r.getheader("WWW-Authenticate", "").startswith("Bearer"),
          "no token: 401 with WWW-Authenticate (got %s)" % st)
    wrong = TOKEN[:-1] + ("1" if TOKEN[-1] == "0" else "0")  # differs in its last digit, always
    st, _, _ = d.json("POST", "/v1/classify", {"text": "x"}, token=wrong)
    check(st == 401, "a wrong token: 401 (got %s)" % st)
    st, _, body = d.json("POST", "/v1/events", event("hi"), token=NARROW)
    check(st == 403 and "scope" in body["error"]["message"], "a token without the scope: 403")
    st, _, body = d.json("GET", "/metrics", token=NARROW)
    check(st == 403, "metrics need their scope (got %s)" % st)

    # Classify: offsets in bytes of the text sent.
    text = "請核對身份證 %s 及電話 13800138000。" % CN_ID
    st, _, body = d.json("POST", "/v1/classify", {"text": text}, token=NARROW)
    found = {f["type"]: f for f in body.get("findings", [])}
    raw = text.encode()
    ok = st == 200 and "cn_resident_id" in found
    check(ok, "classify finds the ID number: %s %s" % (st, body))
    if ok:
        f = found["cn_resident_id"]
        check(raw[f["start"]:f["end"]].decode() == CN_ID, "classify's offsets are the ID's bytes")
        check(CN_ID not in json.dumps(body), "classify never echoes the value")
    check("phone_cn" in found, "classify finds the phone number")

    # Events: redact to the mainland; the answer is the masked text.
    st, _, body = d.json("POST", "/v1/events", event("陳小姐 身份證 %s 請處理" % CN_ID), token=TOKEN)
    ok = st == 200 and body["action"] == "redact" and body["deliver"] is True
    check(ok, "events: an ID number to the mainland is redacted: %s %s" % (st, body))
    if ok:
        check(CN_ID not in body["text"] and body["text"].endswith("請處理") and "002X" in body["text"],
              "the redacted text keeps the last 4 digits only: %r" % body["text"])
        verify_decision_proof(d, body["decision_id"])
    redact_id = body.get("decision_id")

    # Allowed: plain text.
    st, _, body = d.json("POST", "/v1/events", event("明天十點開會"), token=TOKEN)
    check(st == 200 and body["action"] == "allow" and body["deliver"] and body["text"] is None,
          "plain text is allowed: %s %s" % (st, body))

    # Require consent: sensitive data to the mainland, then the subject consents.
    sensitive = event("員工 %s 確診糖尿病，需要病假" % CN_ID, subjects=["emp-1024"])
    st, _, body = d.json("POST", "/v1/events", sensitive, token=TOKEN, headers={"Accept-Language": "zh-Hant"})
    check(st == 200 and body["action"] == "require_consent" and body["deliver"] is False,
          "sensitive data without consent is held: %s %s" % (st, body.get("action")))
    check(body.get("lang") == "zh-Hant", "the tip's language follows Accept-Language")
    st, _, body = d.json("POST", "/v1/consents", {"subject": "emp-1024", "purpose": "cross_border",
                                                  "evidence": "approval 2026-0042",
                                                  "expires": "2030-01-01T00:00:00+08:00"},
                         token=TOKEN)
    check(st == 201 and body["consent"]["state"] == "granted", "consent recorded: %s %s" % (st, body))
    check("emp-1024" not in json.dumps(body), "the consent names the subject only by reference")
    ref = body.get("consent", {}).get("subject_ref", "")
    st, _, body = d.json("POST", "/v1/events", sensitive, token=TOKEN)
    check(st == 200 and body["action"] != "require_consent",
          "with consent the same content is no longer held (got %s)" % body.get("action"))
    st, _, body = d.json("GET", "/v1/consents?subject=emp-1024&purpose=cross_border", token=TOKEN)
    check(st == 200 and body["current"] == "granted" and body["subject_ref"] == ref
          and len(body["records"]) == 1, "consents listed by subject and purpose: %s" % body)
    st, _, body = d.json("POST", "/v1/consents/withdraw", {"subject_ref": ref, "purpose": "cross_border"},
                         token=TOKEN)
    check(st == 201 and body["consent"]["state"] == "withdrawn", "consent withdrawn: %s" % body)
    st, _, body = d.json("POST", "/v1/events", sensitive, token=TOKEN)
    check(body.get("action") == "require_consent", "after withdrawal it is held again")

    # Block: restricted data in an external group.
    st, _, body = d.json("POST", "/v1/events?lang=pt",
                         event("病人 %s 的病歷" % CN_ID, region="mo",
                               conversation={"id": "g1", "type": "external_group"}), token=TOKEN)
    check(st == 200 and body["action"] == "block" and body["deliver"] is False and body["text"] is None,
          "restricted data in an external group is blocked: %s" % body.get("action"))
    check(body.get("lang") == "pt" and "não foi enviada" in (body.get("tip") or ""),
          "a block carries its tip in the language asked for: %r" % body.get("tip"))
    check("tip" not in body.get("decision", {}), "the recorded decision names its rule, not the tip text")

    # Files: a payroll sheet from HR is routed to the vault; the link gives the same bytes back.
    body_bytes, h = multipart(*PAY_SHEET_UPLOAD)
    st, _, body = d.json("POST", "/v1/files", body_bytes, token=TOKEN, headers=h)
    ok = st == 200 and body["action"] == "route_local" and body["link"]
    check(ok, "an HR payroll file is routed locally: %s %s" % (st, body))
    if ok:
        vault_path = "/v1/vault/" + body["link"].rsplit("/", 1)[1]
        st, _, got = d.call("GET", vault_path, token=TOKEN)
        check(st == 200 and got == PAY_SHEET, "the vault link gives the file back")
        st, _, _ = d.call("GET", vault_path, token=NARROW)
        check(st == 403, "the vault needs its scope")
        items = [f for f in os.listdir(os.path.join(tmp, "data", "vault")) if f.endswith(".item")]
        check(len(items) == 1, "one item in the vault folder")
        for it in items:
            blob = open(os.path.join(tmp, "data", "vault", it), "rb").read()
            check(CN_ID.encode() not in blob and "陳大文".encode() not in blob,
                  "the vault item is encrypted")
    bb, h = multipart({"destination.region": "mo"}, "blob.bin", b"\x00\xff\xfe binary")
    st, _, body = d.json("POST", "/v1/files", bb, token=TOKEN, headers=h)
    check(st == 200 and body["action"] == "block" and "exception" in body["decision"],
          "a file that cannot be read takes the exception action (block): %s" % body.get("action"))
    # Office documents and archives are read through the extraction worker; an encrypted one is
    # not waved through.
    sys.path.insert(0, os.path.join(ROOT, "tests", "extract"))
    import make_files
    docx = make_files.docx(["員工資料", "身份證號碼：%s" % HKID])
    bb, h = multipart({"destination.region": "cn-mainland"}, "staff.docx", docx)
    st, _, body = d.json("POST", "/v1/files", bb, token=TOKEN, headers=h)
    check(st == 200 and body["action"] == "redact" and HKID not in (body.get("text") or HKID),
          "a Word document's identity number is found and masked: %s" % body.get("action"))
    zipped = make_files._zip([("hr/staff.docx", docx)])
    bb, h = multipart({"destination.region": "cn-mainland"}, "export.zip", zipped)
    st, _, body = d.json("POST", "/v1/files", bb, token=TOKEN, headers=h)
    check(st == 200 and body["action"] == "redact", "and inside a ZIP archive: %s" % body.get("action"))
    bb, h = multipart({"destination.region": "mo"}, "secret.zip",
                      make_files.encrypted_zip("salaries.txt", b"salary 32000"))
    st, _, body = d.json("POST", "/v1/files", bb, token=TOKEN, headers=h)
    check(st == 200 and body["action"] == "block" and "exception" in body["decision"],
          "an encrypted archive takes the exception action (block): %s" % body.get("action"))
    bb, h = multipart({"text": "HKID %s" % HKID, "destination.region": "hk"})
    st, _, body = d.json("POST", "/v1/files", bb, token=TOKEN, headers=h)
    check(st == 200 and body["action"] in ("redact", "tag", "allow"), "pasted text through the form: %s" % body)

    # The upload page.
    st, r, page = d.call("GET", "/")
    check(st == 200 and b"/v1/files" in page and r.getheader("Content-Type").startswith("text/html"),
          "the upload page is served")

    # Metrics.
    st, r, m = d.call("GET", "/metrics", token=TOKEN)
    m = m.decode()
    check(st == 200 and re.search(r'barra_decisions_total\{action="redact"\} [1-9]', m)
          and re.search(r'barra_rejected_total\{reason="auth"\} [1-9]', m), "metrics count decisions and refusals")
    # The audit log's group commit: every decision above went through it.
    def metric(name):
        found = re.search(r'^%s (\S+)$' % re.escape(name), m, re.M)
        return float(found.group(1)) if found else -1
    commits, entries = metric("barra_audit_commits_total"), metric("barra_audit_committed_entries_total")
    waits = [float(v) for v in re.findall(r'^barra_audit_ack_wait_seconds_bucket\{le="[^"]+"\} (\S+)$', m, re.M)]
    check(commits >= 1 and entries >= commits
          and metric("barra_audit_commit_seconds_count") == commits
          and metric("barra_audit_ack_wait_seconds_count") == entries
          and waits == sorted(waits) and waits and waits[-1] == entries,
          "metrics show the audit log's commits and waits: %s commits, %s entries, buckets %s" % (commits, entries, waits))

    # Nothing matched is stored in the clear outside the vault.
    d.stop()
    for db in ["audit/audit.db", "state.db"]:
        raw = b""
        for suffix in ["", "-wal"]:
            p = os.path.join(tmp, "data", db + suffix)
            if os.path.exists(p):
                raw += open(p, "rb").read()
        check(CN_ID.encode() not in raw and b"emp-1024" not in raw and "陳大文".encode() not in raw,
              "%s holds no matched value or subject identifier" % db)
    r = subprocess.run([BARRA, "log", "verify", "--log", os.path.join(tmp, "data", "audit")],
                       capture_output=True, text=True)
    check(r.returncode == 0, "the audit log verifies after the run: %s" % r.stderr)

    # After a restart: decisions and consents are still there.
    d = Daemon(tmp, base_config(tmp, TOKEN_CFG)).start()
    if redact_id:
        st, _, _ = d.json("GET", "/v1/decisions/" + redact_id, token=TOKEN)
        check(st == 200, "a decision survives a restart")
    st, _, body = d.json("GET", "/v1/consents?subject_ref=%s&purpose=cross_border" % ref, token=TOKEN)
    check(body.get("current") == "withdrawn" and len(body.get("records", [])) == 2,
          "consents survive a restart: %s" % body)
    d.stop()


def test_bad_input(tmp):
    cfg = base_config(tmp, TOKEN_CFG + NARROW_CFG,
                      "limits:\n  max_body: 4KiB\n  in_flight: 2\n  rate: 5\n  burst: 5\n  timeout: 2\n")
    d = Daemon(tmp, cfg).start()
    # Oversize with Content-Length: refused before the body is read.
    st, _, body = d.json("POST", "/v1/events", {"kind": "message", "text": "x" * 10000}, token=TOKEN)
    check(st == 413, "an oversize body is refused: %s" % st)
    # Oversize without Content-Length (chunked): refused once it passes the limit.
    c = d.conn()
    c.putrequest("POST", "/v1/events")
    c.putheader("Authorization", "Bearer " + TOKEN)
    c.putheader("Content-Type", "application/json")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    for _ in range(10):
        chunk = b"x" * 1000
        c.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    c.send(b"0\r\n\r\n")
    r = c.getresponse()
    check(r.status == 413, "an oversize chunked body is refused: %s" % r.status)
    c.close()
    st, _, body = d.json("POST", "/v1/events", '{"kind": "message", "text": ', token=TOKEN)
    check(st == 400 and "JSON" in body["error"]["message"] or "json" in body["error"]["message"].lower(),
          "malformed JSON: 400 naming the problem: %s" % body)
    st, _, body = d.json("POST", "/v1/events", {"kind": "message", "text": "x", "source": "api",
                                                "time": "2026-11-23T10:00:00Z", "destinaton": {}},
                         token=NARROW)  # wrong scope first
    check(st == 403, "scope is checked before the body")
    time.sleep(1.2)  # the rate bucket refills
    st, _, body = d.json("POST", "/v1/events", {"kind": "message", "text": "x", "source": "api",
                                                "time": "2026-11-23T10:00:00Z", "destinaton": {}},
                         token=TOKEN)
    check(st == 400 and "destinaton" in body["error"]["message"], "an unknown field is named: %s" % body)
    st, _, body = d.json("POST", "/v1/events", "kind=message", token=TOKEN,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 415, "a form-encoded body is refused (a browser cannot post JSON cross-site): %s" % st)
    st, _, body = d.json("GET", "/v1/nothing", token=TOKEN)
    check(st == 404, "an unknown endpoint: 404")
    st, r, body = d.json("GET", "/v1/events", token=TOKEN)
    check(st == 405 and r.getheader("Allow") == "POST", "a wrong method: 405 with Allow")
    st, _, body = d.json("POST", "/v1/consents", {"subject": "a", "purpose": "Cross Border"}, token=TOKEN)
    check(st == 400 and "purpose" in body["error"]["message"], "a bad consent purpose is named")
    st, _, body = d.json("POST", "/v1/consents", {"subject": "a", "purpose": "x", "colour": 1}, token=TOKEN)
    check(st == 400 and "colour" in body["error"]["message"], "an unknown consent field is named: %s" % body)
    time.sleep(1.2)

    # Rate: five in a burst, then 429 with Retry-After.
    statuses = [d.json("POST", "/v1/classify", {"text": "x"}, token=NARROW)[0] for _ in range(8)]
    check(statuses.count(429) >= 2 and statuses[0] == 200, "over the rate: 429 (%s)" % statuses)
    st, r, _ = d.json("POST", "/v1/classify", {"text": "x"}, token=NARROW)
    check(st != 429 or r.getheader("Retry-After"), "429 carries Retry-After")

    # Slow clients: two requests that never finish their bodies fill the in-flight limit...
    time.sleep(1.2)
    slow = []
    for _ in range(2):
        s = socket.create_connection((d.host, d.port))
        s.sendall(("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                   "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{" % TOKEN).encode())
        slow.append(s)
    time.sleep(0.3)
    st, r, body = d.json("POST", "/v1/events", event("hi"), token=TOKEN)
    check(st == 503 and r.getheader("Retry-After") == "1", "beyond the in-flight limit: 503 with Retry-After (%s)" % st)
    st, _, _ = d.json("GET", "/healthz")
    check(st == 200, "health answers while the limit is reached")
    # ...and are cut off after the idle timeout, after which the server serves again.
    time.sleep(3.5)
    for s in slow:
        s.settimeout(2)
        try:
            gone = s.recv(100) == b""
        except (ConnectionResetError, socket.timeout):
            gone = True
        check(gone, "a stalled client is disconnected after the timeout")
        s.close()
    time.sleep(1.2)
    st, _, body = d.json("POST", "/v1/events", event("hi"), token=TOKEN)
    check(st == 200, "the daemon serves again after slow clients: %s %s" % (st, body))
    check(d.stop() == 0, "a clean stop")


def test_disk_full(tmp):
    """The data folder cannot grow (RLIMIT_FSIZE makes writes fail as on a full disk): decisions
    are refused with 503, health says why, and every decision acknowledged before is in the log."""
    d = Daemon(tmp, base_config(tmp, TOKEN_CFG, "audit:\n  checkpoint_interval: 1\n"), fsize=1200000).start()
    acked, refused = [], 0
    msg = event("會議紀錄 " + "今日討論預算與人手安排。" * 60)
    for i in range(3000):
        st, _, body = d.json("POST", "/v1/events", msg, token=TOKEN)
        if st == 200:
            acked.append(body["decision_id"])
        elif st == 503:
            refused += 1
            check(body["error"]["code"] == "audit_unavailable", "a full disk gives audit_unavailable")
            if refused >= 3:
                break
        else:
            check(False, "unexpected status %s: %s" % (st, body))
            break
    check(len(acked) > 10 and refused >= 3, "some decisions acknowledged (%d), then refused (%d)"
          % (len(acked), refused))
    st, _, body = d.json("GET", "/healthz")
    check(st == 503 and body.get("status") == "failing", "health reports the failing log: %s" % body)
    st, _, body = d.json("POST", "/v1/classify", {"text": CN_ID}, token=TOKEN)
    check(st == 200, "classification still answers")
    d.stop()
    d = Daemon(tmp, base_config(tmp, TOKEN_CFG)).start()
    lost = [i for i in acked if d.json("GET", "/v1/decisions/" + i, token=TOKEN)[0] != 200]
    check(not lost, "every acknowledged decision is in the log (lost: %s)" % lost[:5])
    d.stop()
    r = subprocess.run([BARRA, "log", "verify", "--log", os.path.join(tmp, "data", "audit")],
                       capture_output=True, text=True)
    check(r.returncode == 0, "the log verifies after the full disk: %s" % r.stderr)


def test_concurrent(tmp):
    """Many clients at once: every answer has its own decision, all in the log."""
    d = Daemon(tmp, base_config(tmp, TOKEN_CFG)).start()
    ids, errors = [], []
    lock = threading.Lock()

    def client(n):
        for i in range(40):
            st, _, body = d.json("POST", "/v1/events", event("客戶 %d-%d 電話 13800138000" % (n, i)), token=TOKEN)
            with lock:
                (ids.append(body["decision_id"]) if st == 200 else errors.append(st))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors and len(ids) == 320 and len(set(ids)) == 320,
          "320 concurrent decisions, 320 distinct ids (errors %s)" % errors[:5])
    d.stop()
    db = sqlite3.connect(os.path.join(tmp, "data", "audit", "audit.db"))
    have = {str(r[0]) for r in db.execute("SELECT seq FROM entries WHERE type = 'decision'")}
    check(set(ids) <= have, "every acknowledged decision is an entry of the log")


def test_reload(tmp):
    policy = os.path.join(tmp, "policy.yaml")
    shutil.copy(os.path.join(ROOT, "rules/policies/general.yaml"), policy)
    d = Daemon(tmp, base_config(tmp, TOKEN_CFG, policy=policy)).start()
    with open(policy, "a") as f:
        f.write("\n  - id: broken\n    action: explode\n")
    d.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    st, _, body = d.json("POST", "/v1/events", event("hi"), token=TOKEN)
    check(st == 200 and body["decision"]["versions"]["policy_name"] == "general-office",
          "a bad policy on reload keeps the old one")
    text = open(os.path.join(ROOT, "rules/policies/general.yaml")).read()
    with open(policy, "w") as f:
        f.write(text.replace("name: general-office", "name: general-office-2027", 1))
    d.proc.send_signal(signal.SIGHUP)
    line = d.read_line(5)
    check(line and "policy reloaded" in line, "a good policy is reloaded: %r" % line)
    st, _, body = d.json("POST", "/v1/events", event("hi"), token=TOKEN)
    check(body["decision"]["versions"]["policy_name"] != "general-office", "the new policy decides")
    d.stop()
    check("reload refused" in d.stderr and "broken" in d.stderr, "the refusal says why: %r" % d.stderr[-300:])


def test_https(tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    d = Daemon(tmp, base_config(tmp, TOKEN_CFG, "tls:\n  certificate: %s\n  key: %s\n" % (cert, key))).start()
    check(d.scheme == "https", "the daemon says it serves https")
    ctx = ssl.create_default_context(cafile=cert)
    st, _, body = d.call("POST", "/v1/classify", json.dumps({"text": CN_ID}).encode(), token=TOKEN,
                         headers={"Content-Type": "application/json"}, context=ctx)
    check(st == 200 and b"cn_resident_id" in body, "a request over verified TLS works")
    st, _, body = d.call("POST", "/v1/events", json.dumps(event("身份證 " + CN_ID)).encode(),
                         token=TOKEN, headers={"Content-Type": "application/json"}, context=ctx)
    check(st == 200 and json.loads(body)["action"] == "redact",
          "a decision over TLS (suspended until durable, then resumed) is answered")
    plain = http.client.HTTPConnection(d.host, d.port, timeout=5)
    try:
        plain.request("GET", "/healthz")
        ok = plain.getresponse().status != 200
    except (http.client.HTTPException, OSError):
        ok = True
    check(ok, "plain HTTP to the TLS port is not served")
    d.stop()


# Nextcloud's OCS share API as its documentation describes it: POST shareType=3 (a public link)
# and the path under the user's files, with the header OCS-APIRequest: true; the answer (JSON when
# asked for) is {"ocs": {"meta": {...}, "data": {"url": ...}}}. Each request is logged for the
# test; a file named ocs-refuse makes it answer as Nextcloud does when sharing is not allowed. It
# runs as Apache's user, so under Debian's own Python.
OCS_SHARES = r"""#!/usr/bin/python3
import json, os, secrets, sys, urllib.parse
form = urllib.parse.parse_qs(sys.stdin.read(int(os.environ.get("CONTENT_LENGTH") or 0)))
path = form.get("path", [""])[0]
seen = dict(method=os.environ.get("REQUEST_METHOD"), user=os.environ.get("REMOTE_USER"),
            ocs=os.environ.get("HTTP_OCS_APIREQUEST"), share_type=form.get("shareType", [""])[0],
            path=path)
with open("{tmp}/ocs/requests.log", "a") as log:
    log.write(json.dumps(seen) + "\n")
def answer(status, code, message, data):
    print("Status: %d" % status)
    print("Content-Type: application/json")
    print()
    print(json.dumps(dict(ocs=dict(meta=dict(status="ok" if code == 200 else "failure",
                                             statuscode=code, message=message), data=data))))
if seen["ocs"] != "true":
    answer(400, 997, "CSRF check failed", [])
elif os.path.exists("{tmp}/ocs-refuse"):
    answer(403, 403, "Public link sharing is disabled by the administrator", [])
elif seen["share_type"] != "3" or not os.path.isfile("{dav}" + path):
    answer(404, 404, "Wrong path, file/folder does not exist", [])
else:
    token = secrets.token_urlsafe(12)
    answer(200, 200, "OK", dict(id="7", share_type=3, token=token, path=path,
                                url="http://127.0.0.1:{port}/s/" + token))
"""


def start_apache(tmp):
    dav, locks, ocs = (os.path.join(tmp, d) for d in ("dav", "locks", "ocs"))
    for d in (dav, locks, ocs):
        os.makedirs(d)
    port = free_port()
    mods = "/usr/lib/apache2/modules"
    subprocess.run(["htpasswd", "-bc", os.path.join(tmp, "htpasswd"), "barra", "s3cret"],
                   check=True, capture_output=True)
    user = ""
    if os.geteuid() == 0:
        user = "User www-data\nGroup www-data\n"
        for d in (dav, locks, ocs):
            shutil.chown(d, "www-data", "www-data")
        os.chmod(tmp, 0o755)
    conf = os.path.join(tmp, "httpd.conf")
    with open(conf, "w") as f:
        f.write("""ServerRoot /usr/lib/apache2
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile {tmp}/httpd.pid
ErrorLog {tmp}/httpd-error.log
{user}LoadModule mpm_event_module {m}/mod_mpm_event.so
LoadModule authz_core_module {m}/mod_authz_core.so
LoadModule authz_user_module {m}/mod_authz_user.so
LoadModule authn_core_module {m}/mod_authn_core.so
LoadModule authn_file_module {m}/mod_authn_file.so
LoadModule auth_basic_module {m}/mod_auth_basic.so
LoadModule dav_module {m}/mod_dav.so
LoadModule dav_fs_module {m}/mod_dav_fs.so
LoadModule alias_module {m}/mod_alias.so
LoadModule cgid_module {m}/mod_cgid.so
DavLockDB {tmp}/locks/davlock
ScriptSock {tmp}/cgid.sock
DocumentRoot {dav}
<Directory {dav}>
  Dav On
  AuthType Basic
  AuthName barra
  AuthUserFile {tmp}/htpasswd
  Require valid-user
</Directory>
# Nextcloud's layout: the user's files under /remote.php/dav/files/USER/ (the same folder) and
# its OCS sharing API, played by a CGI program (Nextcloud is not packaged in Debian).
Alias /remote.php/dav/files/barra {dav}
ScriptAlias /ocs/v2.php/apps/files_sharing/api/v1/shares {tmp}/ocs-shares.py
<Location /ocs/>
  AuthType Basic
  AuthName barra
  AuthUserFile {tmp}/htpasswd
  Require valid-user
</Location>
""".format(port=port, tmp=tmp, user=user, m=mods, dav=dav))
    with open(os.path.join(tmp, "ocs-shares.py"), "w") as f:
        f.write(OCS_SHARES.format(dav=dav, port=port, tmp=tmp))
    os.chmod(os.path.join(tmp, "ocs-shares.py"), 0o755)
    proc = subprocess.Popen(["/usr/sbin/apache2", "-f", conf, "-DFOREGROUND"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port, dav
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("apache2 did not start: " + proc.stderr.read().decode())


def webdav_config(tmp, name, where):
    """A configuration whose policy routes to a WebDAV route `name` at `where` (its url and other
    keys), logging in as the Apache of start_apache."""
    with open(os.path.join(tmp, "dav-password"), "w") as f:
        f.write("s3cret\n")
    policy = os.path.join(tmp, "policy.yaml")
    text = open(os.path.join(ROOT, "rules/policies/general.yaml")).read()
    with open(policy, "w") as f:
        f.write(text.replace("route: local-vault", "route: " + name))
    route = "  %s: {type: webdav, %s, username: barra, password_file: dav-password}\n" % (name, where)
    return base_config(tmp, TOKEN_CFG, policy=policy).replace("routes:\n", "routes:\n" + route)


def test_webdav(tmp):
    apache, port, dav = start_apache(tmp)
    try:
        with open(os.path.join(tmp, "wrong-password"), "w") as f:
            f.write("nope\n")
        cfg = webdav_config(tmp, "nas", "url: \"http://127.0.0.1:%d/\"" % port)
        d = Daemon(tmp, cfg).start()
        bb, h = multipart(*PAY_SHEET_UPLOAD)
        st, _, body = d.json("POST", "/v1/files", bb, token=TOKEN, headers=h)
        ok = st == 200 and body["action"] == "route_local" and (body["link"] or "").startswith(
            "http://127.0.0.1:%d/" % port)
        check(ok, "routed to WebDAV: %s %s" % (st, body))
        files = os.listdir(dav)
        check(len(files) == 1 and open(os.path.join(dav, files[0]), "rb").read() == PAY_SHEET,
              "the WebDAV server holds the file")
        check(files and "pay" not in files[0] and files[0].endswith(".csv"),
              "the stored name says nothing about the content: %s" % files)
        d.stop()
        # Wrong credentials: the route fails, the content is not delivered, the reason is recorded.
        cfg2 = cfg.replace("dav-password", "wrong-password")
        d = Daemon(tmp, cfg2).start()
        st, _, body = d.json("POST", "/v1/files", bb, token=TOKEN, headers=h)
        check(st == 200 and body["deliver"] is False and "401" in (body.get("route_error") or ""),
              "a failing route delivers nothing and says why: %s" % body)
        d.stop()
    finally:
        apache.terminate()
        apache.wait()


def test_nextcloud_share(tmp):
    """The Nextcloud route: the file is uploaded under /remote.php/dav/files/USER/, then a public
    link is asked for through the OCS API and handed back instead of the file's own URL."""
    apache, port, dav = start_apache(tmp)
    try:
        cfg = webdav_config(tmp, "cloud", "url: \"http://127.0.0.1:%d/remote.php/dav/files/barra/\", "
                            "share: nextcloud" % port)
        d = Daemon(tmp, cfg).start()
        bb, h = multipart(*PAY_SHEET_UPLOAD)
        st, _, body = d.json("POST", "/v1/files", bb, token=TOKEN, headers=h)
        link = body.get("link") or ""
        check(st == 200 and body["action"] == "route_local" and body["deliver"] is True and
              re.fullmatch(r"http://127\.0\.0\.1:%d/s/[A-Za-z0-9_-]+" % port, link) is not None,
              "routed to Nextcloud, answered with the public link: %s %s" % (st, body))
        files = os.listdir(dav)
        check(len(files) == 1 and open(os.path.join(dav, files[0]), "rb").read() == PAY_SHEET,
              "the file is in the user's folder: %s" % files)
        seen = [json.loads(x) for x in open(os.path.join(tmp, "ocs", "requests.log"))]
        check(len(seen) == 1 and seen[0] == {"method": "POST", "user": "barra", "ocs": "true",
                                             "share_type": "3", "path": "/" + (files or ["?"])[0]},
              "one public-link request for that file, as the OCS API wants it: %s" % seen)
        # Sharing refused by the server: nothing delivered, the reason recorded.
        open(os.path.join(tmp, "ocs-refuse"), "w").close()
        st, _, body = d.json("POST", "/v1/files", bb, token=TOKEN, headers=h)
        check(st == 200 and body["deliver"] is False and not body.get("link") and
              "no share link (HTTP 403)" in (body.get("route_error") or ""),
              "a refused share delivers nothing and says why: %s" % body)
        d.stop()
    finally:
        apache.terminate()
        apache.wait()


def test_generic_connector(tmp):
    received = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    extra = ("connectors:\n  generic:\n    - name: helpdesk\n      reply_url: http://127.0.0.1:%d/reply\n"
             % srv.server_port)
    d = Daemon(tmp, base_config(tmp, TOKEN_CFG, extra)).start()
    ev = event("客戶 HKID %s 投訴" % HKID, region="cn-mainland", id="ticket-9",
               conversation={"id": "conv-3", "type": "direct"})
    st, _, body = d.json("POST", "/v1/connectors/generic/helpdesk", ev, token=TOKEN)
    check(st == 200 and body.get("reply_error") is None, "the connector decides and replies: %s" % body)
    check(len(received) == 1 and received[0]["event_id"] == "ticket-9"
          and received[0]["conversation_id"] == "conv-3"
          and received[0]["decision_id"] == body.get("decision_id"), "the reply reached the platform: %s" % received)
    check(received and HKID not in json.dumps(received[0], ensure_ascii=False).replace(received[0].get("text") or "", ""),
          "the reply carries no value outside the text to post")
    st, _, body = d.json("POST", "/v1/connectors/generic/other", ev, token=TOKEN)
    check(st == 404, "an unknown connector: 404")
    d.stop()
    db = sqlite3.connect(os.path.join(tmp, "data", "audit", "audit.db"))
    actions = [json.loads(r[0]) for r in db.execute("SELECT record FROM entries WHERE type = 'action'")]
    check(len(actions) == 1 and actions[0]["ok"] is True and received
          and actions[0]["decision_id"] == received[0]["decision_id"], "the reply is recorded: %s" % actions)
    srv.shutdown()


def test_dingtalk_callback(tmp):
    """DingTalk's HTTP push, played by the simulator (tests/gateway/dingtalk_sim.py)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import dingtalk_sim as sim
    aes_key, token, owner = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "barraToken1", "dingbarra0001"
    key = sim.derive_key(aes_key)
    with open(os.path.join(tmp, "dt-token"), "w") as f:
        f.write(token + "\n")
    with open(os.path.join(tmp, "dt-aes"), "w") as f:
        f.write(aes_key + "\n")
    extra = ("connectors:\n  dingtalk: {token_file: dt-token, aes_key_file: dt-aes, client_id: %s}\n"
             % owner)
    d = Daemon(tmp, base_config(tmp, TOKEN_CFG, extra)).start()

    def push(message, ts=None, nonce="n0nce123", sign=True, enc_owner=owner, spelling="msg_signature"):
        ts = ts or str(int(time.time() * 1000))
        enc = sim.encrypt(key, enc_owner, json.dumps(message).encode())
        sig = sim.signature(token, ts, nonce, enc) if sign else "0" * 40
        path = "/v1/connectors/dingtalk/callback?%s=%s&timestamp=%s&nonce=%s" % (spelling, sig, ts, nonce)
        return d.json("POST", path, {"encrypt": enc})

    def acked(st, body):
        if st != 200:
            return False
        ok = sim.signature(token, body["timeStamp"], body["nonce"], body["encrypt"]) == body["msg_signature"]
        return ok and sim.decrypt(key, owner, body["encrypt"]) == b"success"

    st, _, body = push({"EventType": "check_url"})
    check(acked(st, body), "the check_url handshake gets the encrypted, signed success: %s %s" % (st, body))
    st, _, body = push({"EventType": "check_url"}, spelling="signature", ts=str(int(time.time())))
    check(acked(st, body), "the older spelling and a timestamp in seconds are accepted")
    st, _, body = push({"EventType": "check_url"}, sign=False)
    check(st == 403 and "900005" in body["error"]["message"], "a bad signature is refused: %s" % body)
    st, _, body = push({"EventType": "check_url"}, ts=str(int(time.time() * 1000) - 3600 * 1000))
    check(st == 403 and body["error"]["code"] == "stale_timestamp", "a stale timestamp is refused (a replay)")
    st, _, body = push({"EventType": "check_url"}, enc_owner="dingsomeoneelse")
    check(st == 403 and "900010" in body["error"]["message"], "another app's message is refused: %s" % body)
    st, _, body = d.json("POST", "/v1/connectors/dingtalk/callback?msg_signature=x&timestamp=1&nonce=n",
                         {"encrypt": "abc", "extra": 1})
    check(st == 400, "a malformed callback is refused")
    event = {"EventType": "user_add_org", "eventId": "ev-7f3a", "CorpId": "ding1", "EventTime": 1}
    answers = [push(event) for _ in range(3)]  # DingTalk redelivers
    check(all(acked(st, body) for st, _, body in answers), "an event and its redeliveries are acknowledged")
    d.stop()
    db = sqlite3.connect(os.path.join(tmp, "data", "state.db"))
    rows = db.execute("SELECT source, event_id, type FROM inbound").fetchall()
    check(rows == [("dingtalk", "ev-7f3a", "user_add_org")], "the event is stored once: %s" % rows)


def main():
    run([test_core, test_bad_input, test_disk_full, test_concurrent, test_reload, test_https,
         test_webdav, test_nextcloud_share, test_generic_connector, test_dingtalk_callback])


main()
