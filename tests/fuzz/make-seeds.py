#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/) from the project's own
rules and test cases; run from the repository root. The catalogue seed comes from
`barra-rulec --binary tests/fuzz/rules-min OUT` (pass the binary as the first argument)."""

import glob
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(os.path.join(d, name), mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as f:
        f.write(data)


def main():
    types = sorted(glob.glob(os.path.join(ROOT, "rules/entities/types/*.yaml")))
    patterns = []
    for path in types:
        patterns += re.findall(r"regex: '([^']*)'", open(path, encoding="utf-8").read())
    for i, p in enumerate(patterns[:40]):
        write("shape", "p%02d" % i, p)
    write("shape", "multi", "\n".join(patterns[:6]))
    for path in [os.path.join(ROOT, "rules/entities/catalog.yaml")] + types[:3]:
        write("yaml", os.path.basename(path), open(path, encoding="utf-8").read())
    write("yaml", "small.yaml", "a: [1, {b: c}]\n")
    lines = []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/corpus/cases/*.txt"))):
        for line in open(path, encoding="utf-8"):
            if line.startswith(("#", "@")) or not line.strip():
                continue
            lines.append(re.sub(r"\{\{[^|]*\|([^}]*)\}\}", r"\1", line))
    for i in range(0, len(lines), 12):
        write("detect", "c%03d" % (i // 12), "".join(lines[i:i + 12]))
    records = [
        '{"id": 1, "text": "身份证 11010519491231002X", "meta": {"id": "x"}}',
        '{"text": "a\\u00e9\\ud83d\\ude00", "a": {"b": "13812345678"}, "x": ["y", 2, true, null, 1.5e3]}',
        '{"id": "r", "text": "\\"q\\" \\\\ \\/ \\b\\f\\n\\r\\t"}',
        "{}",
        '{"a": [[[[]]]]}',
    ]
    for i, r in enumerate(records):
        write("jsonl", "r%d" % i, r)
    write("csv", "a", 'name,id\r\n"Chan, T",A123456(3)\r\n"multi\nline","say ""hi"""\nlast,row')
    write("csv", "b", '\x01a\tb\n1\t2\n"unterminated')
    for path in sorted(glob.glob(os.path.join(ROOT, "rules/policies/*.yaml"))):
        if not path.endswith(".cases.yaml"):
            write("policy", os.path.basename(path), open(path, encoding="utf-8").read())
    write("policy", "small.yaml", "policy: {name: s}\ntiers: [{name: a}, {name: b, when: "
          "{any: [{count: {min: 1, max: 3}}, {not: {minor: true}}]}}]\nrules:\n  - {id: r, when: "
          "{tier: {at_least: b}, time: {hours: '22:00-06:00', days: weekend}}, action: allow}\n")
    events = [
        '{"kind":"message","text":"x","source":"dingtalk","time":"2026-11-23T10:00:00+08:00"}',
        '{"schema":"barra.event/1","id":"e","kind":"file","file":{"name":"a.XLSX","size":5000,'
        '"path":"/x","sha256":"' + "ab" * 32 + '"},"source":"dingtalk","conversation":{"id":"c",'
        '"type":"external_group"},"sender":{"id":"u1","department":"HR","role":"boss"},'
        '"recipients":[{"id":"r","department":"x"},{}],"destination":{"platform":"dingtalk",'
        '"region":"cn-mainland"},"direction":"outbound","time":"2026-11-27T23:30:00.5-00:00",'
        '"subjects":["a","b"]}',
        '{"kind":"message","text":"\u8eab\u4efd\u8bc1","source":"s","time":"2026-02-29T00:00:00Z"}',
        '{"kind":"message","text":"x","source":"s","time":"2024-02-29T23:59:60Z","subjects":["a"],'
        '"destination":{"region":"cn-mainland"},"direction":"outbound"}',
    ]
    for i, e in enumerate(events):
        write("event", "e%d.json" % i, e)
    ws_frame_seeds()
    dingtalk_stream_seeds()
    extract_seeds()
    monitor_seeds()
    if len(sys.argv) > 1:
        out = os.path.join(OUT, "catalog", "min.bin")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        subprocess.run([sys.argv[1], "--binary", os.path.join(ROOT, "tests/fuzz/rules-min"), out], check=True)


def ws_frame_seeds():
    """Server bytes for the WebSocket client: an upgrade response (for RFC 6455 §1.3's key) and
    frames after it, or frames alone; valid and invalid."""
    head = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
    ping = b'{"specVersion":"1.0","type":"SYSTEM","headers":{"topic":"ping","messageId":"m1"},' \
           b'"data":"{\\"opaque\\":\\"o1\\"}"}'
    seeds = {
        "hello": b"\x81\x05Hello",
        "fragmented": b"\x01\x03Hel\x80\x02lo",
        "ping-between-fragments": b"\x01\x03Hel\x89\x05Hello\x80\x02lo",
        "binary-256": b"\x82\x7e\x01\x00" + bytes(range(256)),
        "binary-64bit-cut": b"\x82\x7f" + (65536).to_bytes(8, "big") + bytes(64),
        "close": b"\x88\x05\x03\xe8bye",
        "close-empty": b"\x81\x00\x88\x00",
        "masked": b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
        "utf8-split": b"\x01\x01\xc3\x80\x01\xa9\x81\x02\xc3\x28",
        "upgrade-frames": head + b"\x81\x05Hello\x8a\x00\x88\x02\x03\xe9",
        "upgrade-dingtalk": head + b"\x81" + bytes([len(ping)]) + ping,
        "upgrade-mixed-case": b"HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nCONNECTION: keep-alive, "
                              b"Upgrade\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                              b"Sec-WebSocket-Extensions:\r\n\r\n\x89\x00",
        "upgrade-401": b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
    }
    for name, data in seeds.items():
        write("ws-frame", name, data)



def dingtalk_stream_seeds():
    """DingTalk Stream frames (reference/dingtalk.md §2): as JSON alone, and inside a WebSocket
    text frame; the documented shapes, their known variations, and broken ones."""
    def frame(ftype, headers, data):
        return json.dumps({"specVersion": "1.0", "type": ftype, "headers": headers,
                           "data": data if isinstance(data, str) or data is None else json.dumps(data)}).encode()
    seeds = {
        "ping": frame("SYSTEM", {"topic": "ping", "messageId": "m1"}, {"opaque": "o-1"}),
        "ping-no-id": b'{"type":"SYSTEM","headers":{"topic":"ping"},"data":"{\\"opaque\\":\\"o\\"}"}',
        "disconnect": frame("SYSTEM", {"topic": "disconnect"}, {"reason": "persistent connection is timeout"}),
        "event": frame("EVENT", {"topic": "*", "messageId": "m2", "eventType": "user_add_org",
                                 "eventId": "e1", "eventCorpId": "ding1", "eventBornTime": "1685501863357",
                                 "contentType": "application/json", "time": "1685501863357"},
                       {"timeStamp": "1685501863357", "userId": ["015xxxx227"]}),
        "event-header-spelling": b'{"type":"EVENT","header":{"topic":"*","messageId":"m3","eventId":"e2",'
                                 b'"eventType":"bpms_instance_change"},"data":"{\\"type\\":\\"start\\"}"}',
        "robot": frame("CALLBACK", {"topic": "/v1.0/im/bot/messages/get", "messageId": "m4"},
                       {"msgtype": "text", "text": {"content": "hi"}, "conversationType": "1"}),
        "data-not-object": frame("CALLBACK", {"topic": "x", "messageId": "m5"}, "[1,2]"),
        "data-not-string": b'{"type":"EVENT","headers":{"topic":"*","messageId":"m6"},"data":{"a":1}}',
        "unknown-type": frame("PUSH", {"topic": "x"}, {}),
    }
    for name, data in seeds.items():
        write("dingtalk-stream", name, data)
        write("dingtalk-stream", "ws-" + name, b"\x81" + (bytes([len(data)]) if len(data) < 126
                                                          else b"\x7e" + len(data).to_bytes(2, "big")) + data)


# Which extractor's own fuzz target (tests/fuzz/fuzz-extract-one.c) each seed also feeds.
EXTRACTOR_OF = {"docx": "archive", "xlsx": "archive", "pptx": "archive", "nested.zip": "archive",
                "export.tar.gz": "archive", "secret.zip": "archive", "laughs.docx": "archive",
                "gb18030.txt": "text", "utf16.txt": "text", "locked.docx": "ole", "letter.doc": "ole",
                "roster.xls": "ole", "message.eml": "mail", "page.html": "mail", "report.pdf": "pdf",
                "locked.pdf": "pdf", "tiny.png": "image"}


def tiny_png():
    """A 48×16 greyscale PNG of stripes: small enough for OCR to finish at once."""
    import struct
    import zlib

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))
    rows = b"".join(b"\0" + bytes(255 if (x // 4 + y // 4) % 2 else 0 for x in range(48))
                    for y in range(16))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 48, 16, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def monitor_seeds():
    """The shipped activity rules, and events from their test cases, as JSON and as CSV rows."""
    for path in sorted(glob.glob(os.path.join(ROOT, "rules/monitor/*.yml"))):
        write("monitor-rules", os.path.basename(path), open(path, encoding="utf-8").read())
    write("monitor-rules", "bad-modifier.yml", "title: t\nid: x\ndetection:\n  s:\n    actor|wide: a\n"
          "  condition: s\n")
    write("monitor-rules", "regex-cidr.yml", "title: t\nid: x\ndetection:\n  s:\n    ip|cidr: 10.0.0.0/8\n"
          "    resource|re: '^r[0-9]+$'\n  condition: 1 of s*\n")
    events = {
        "download.json": {"time": "2026-03-02T10:00:00+08:00", "actor": "bob", "action": "file_download",
                          "resource": "doc-1", "count": 1, "bytes": 2048, "tier": "restricted"},
        "plugin.json": {"time": "2026-03-02T10:00:00.250Z", "actor": "crm-bot", "action": "plugin_sync",
                        "plugin": "crm", "destination": {"host": "api.example.sg", "region": "sg"}},
        "bad-time.json": {"time": "2026-02-30T10:00:00+08:00", "actor": "a", "action": "login"},
    }
    for name, ev in events.items():
        write("monitor-event", name, json.dumps(ev, ensure_ascii=False))
    write("monitor-event", "squid.log", "1772416800.123    250 10.0.0.5 TCP_TUNNEL/200 5120 CONNECT "
          "api.crm.example.sg:443 crm-bot HIER_DIRECT/203.0.113.5 -\n")
    write("monitor-event", "nginx.log", '10.0.0.7 - hr-plugin [02/Mar/2026:10:00:00 +0800] "POST '
          'https://user:pw@[2001:db8::1]:8443/upload?x=1 HTTP/1.1" 200 1234 "-" "curl/8"\n')
    write("monitor-event", "syslog-sd.txt", '<134>1 2026-03-02T10:00:00+08:00 proxy1 squid - - '
          '[activity@32473 actor="crm-bot" action="plugin_sync" destination.host="a\\"b\\]c"]\n')
    write("monitor-event", "row.csv", "2026-03-02T10:00:00+08:00,bob,file_download,doc-1,1,2048,10.0.0.1,mo")


def extract_seeds():
    """Small files of each kind the extractors read, from the extraction tests' generator."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "extract"))
    import make_files as mf
    ids = {"hk": "A123456(3)", "cn": "11010519491231002X", "mo": "1234567(8)"}
    seeds = {
        "docx": mf.docx(["身份證號碼：" + ids["hk"]], header="Tel 6123 4567"),
        "xlsx": mf.xlsx([("Staff", [["姓名", "身份證號碼"], ["陳大文", ids["hk"]], [1, "inline:x"]])]),
        "pptx": mf.pptx([["a"], ["HKID", ids["hk"]]], notes={2: "n"}),
        "nested.zip": mf.nested_zip(3, "deep " + ids["cn"]),
        "export.tar.gz": mf.tar_gz([("a/b.txt", ("客戶 " + ids["hk"]).encode("big5"))]),
        "gb18030.txt": ("客户身份证号码 " + ids["cn"]).encode("gb18030"),
        "utf16.txt": b"\xff\xfe" + ("員工 " + ids["hk"]).encode("utf-16-le"),
        "secret.zip": mf.encrypted_zip("s.txt", b"salary"),
        "locked.docx": mf.encrypted_office(),
        "laughs.docx": mf.docx(["&lol;"], doctype='<!DOCTYPE l [<!ENTITY lol "lol">]>'),
        "message.eml": mf.eml(ids["hk"], ids["cn"], b"attached " + ids["cn"].encode()),
        "page.html": ("<html><body><p>身份證 <b>%s</b>&nbsp;&#x624B;</p><script>x</script>"
                      "</body></html>" % ids["hk"]).encode(),
    }
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        mf.pdfs(tmp, ids["hk"], ids["cn"])
        for name in ("report.pdf", "locked.pdf"):
            seeds[name] = open(os.path.join(tmp, name), "rb").read()
    # Word and Excel 97–2003 files saved by LibreOffice.
    with tempfile.TemporaryDirectory() as tmp:
        mf.office_files(tmp, ids["hk"], ids["cn"], ids["mo"])
        for name in ("letter.doc", "roster.xls"):
            seeds[name] = open(os.path.join(tmp, name), "rb").read()
    seeds["tiny.png"] = tiny_png()
    for name, data in seeds.items():
        write("extract", name, data)
        write("extract-" + EXTRACTOR_OF[name], name, data)
    # An Outlook message, written by the tests' libgsf tool when it has been built.
    tool = os.path.join(ROOT, "build", "tests", "make-msg")
    if os.path.exists(tool):
        with tempfile.TemporaryDirectory() as tmp:
            docx = os.path.join(tmp, "s.docx")
            with open(docx, "wb") as f:
                f.write(mf.docx(["HKID " + ids["hk"]]))
            subprocess.run([tool, os.path.join(OUT, "extract", "outlook.msg"), "Subject " + ids["hk"],
                            "body " + ids["cn"], "s.docx", docx], check=True)
            write("extract-ole", "outlook.msg", open(os.path.join(OUT, "extract", "outlook.msg"), "rb").read())
    # The worker's frames (src/extract/extract-frames.c): text, a note, the end; and broken ones.
    def s(b):
        return len(b).to_bytes(4, "little") + b
    text = b"T" + s(b"export.zip/staff.docx") + s(b"paragraph 2") + s("身份證 A123456(3)".encode())
    note = b"N\x00" + s(b"secret.zip/s.txt") + s(b"an encrypted archive member")
    frames = {"text-note-end": text + note + b"E", "end-only": b"E", "text-cut": text[:-3],
              "bad-kind": b"N\x09" + s(b"p") + s(b"m") + b"E", "after-end": b"E" + text,
              "nul-in-text": b"T" + s(b"p") + s(b"") + s(b"a\x00b") + b"E"}
    for name, data in frames.items():
        write("extract-frames", name, data)

if __name__ == "__main__":
    main()
