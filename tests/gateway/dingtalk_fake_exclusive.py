# SPDX-License-Identifier: Apache-2.0
"""Exclusive DingTalk (专属钉钉) in the DingTalk fake (reference/dingtalk.md §3.3): the native DLP
hook (event org_file_send_check answered with PUT /v1.0/exclusive/sending/files/status) and the
file operation audit log GET /v1.0/exclusive/fileAuditLogs with its (gmtCreate, bizId) cursor.

The audit log answers {"list": [...]} only; a page shorter than pageSize is the last one (the
reference names no other end marker). Records are ordered by (gmtCreate, bizId) ascending, bizId
compared as a string. The error code param.invalid on the status endpoint and the actionView /
platformView texts (the reference's English meanings) are the fake's own choices."""

import random
import uuid

ACTION_VIEW = {0: "upload", 1: "delete file", 2: "download", 3: "preview", 5: "create external share link",
               6: "rename file", 7: "move", 8: "copy/forward", 12: "export doc", 13: "preview doc",
               15: "in-app share doc", 32: "KB download"}
PLATFORM_VIEW = {0: "iOS", 1: "Android", 2: "Web", 11: "Windows", 12: "Mac"}
_USERS = [("u1", "张伟"), ("u2", "陳大文"), ("u3", "Alex Chan"), ("u4", "李娜"), ("u5", "黃志明")]
_FILES = [("客户名单", "xlsx"), ("合同草稿", "docx"), ("salary-2024", "xlsx"), ("身份证扫描", "pdf"),
          ("roadmap", "pptx"), ("会议纪要", "docx"), ("photo", "jpg")]
# Weighted so the compliance-relevant actions (2, 5, 8, 12) are common but not alone.
_ACTIONS = [2, 2, 2, 5, 5, 8, 8, 12, 12, 0, 1, 3, 6, 7, 13, 15, 32]


def _bad(code, message):
    return 400, {"code": code, "message": message}


class ExclusiveMixin:
    def _exclusive_init(self):
        self.org_name = "Barra Test Org"
        self.file_checks = {}      # requestId -> file record pushed in org_file_send_check
        self.file_statuses = []    # PUT bodies: {"requestIds", "status"}
        self.audit_records = []    # sorted by (gmtCreate, bizId)
        self.audit_queries = []    # query dicts of every fileAuditLogs call

    def _exclusive_routes(self):
        return [("PUT", "/v1.0/exclusive/sending/files/status", self._file_status, True),
                ("GET", "/v1.0/exclusive/fileAuditLogs", self._audit_logs, True)]

    # -- DLP hook --------------------------------------------------------------------------

    def push_file_send_check(self, records):
        """Pushes EVENT org_file_send_check; missing openCid / ossKey / requestId are made up.
        Returns the file records as sent."""
        out = []
        for r in records:
            r = dict(r)
            r.setdefault("openCid", "cid" + uuid.uuid4().hex[:16])
            r.setdefault("fileName", "file.bin")
            r.setdefault("ossKey", "oss/" + uuid.uuid4().hex)
            r.setdefault("requestId", uuid.uuid4().hex)
            r.setdefault("userId", "u1")
            out.append(r)
        with self.lock:
            for r in out:
                self.file_checks[r["requestId"]] = r
            self.push_event("org_file_send_check", {"fileRecords": out})
        return out

    def _file_status(self, req):
        b = req["json"] if isinstance(req["json"], dict) else {}
        ids = b.get("requestIds")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids) \
                or b.get("status") not in (1, 2, 3):
            return _bad("param.invalid", "requestIds (strings) and status 1|2|3 are required")
        self.file_statuses.append({"requestIds": ids, "status": b["status"]})
        return 200, {"result": True}

    # -- audit log -------------------------------------------------------------------------

    def add_audit_records(self, n, start_ms, seed):
        """Adds n reproducible records from start_ms on (some share a gmtCreate, some a bizId,
        never both); returns them."""
        rng = random.Random(seed)
        files = [(rng.randrange(10**10, 10**11), name, ext, rng.randrange(1000, 5 * 10**7))
                 for name, ext in _FILES for _ in range(3)]
        t, out, seen = start_ms, [], set()
        with self.lock:
            seen.update((r["gmtCreate"], r["bizId"]) for r in self.audit_records)
            while len(out) < n:
                t += 0 if rng.random() < 0.15 else rng.randrange(1, 120000)
                biz, name, ext, size = rng.choice(files)
                if (t, str(biz)) in seen:
                    continue
                seen.add((t, str(biz)))
                user, real = rng.choice(_USERS)
                action = rng.choice(_ACTIONS)
                platform = rng.choice(list(PLATFORM_VIEW))
                forward = action == 8
                out.append({
                    "userId": user, "realName": real, "operatorName": real,
                    "action": action, "actionView": ACTION_VIEW[action],
                    "resource": "%s.%s" % (name, ext), "resourceExtension": ext, "resourceSize": size,
                    "bizId": str(biz), "ipAddress": "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)),
                    "platform": platform, "platformView": PLATFORM_VIEW[platform],
                    "gmtCreate": t, "gmtModified": t, "orgName": self.org_name,
                    "receiverName": rng.choice(["李娜", "Project X group"]) if forward else "",
                    "receiverType": rng.choice([0, 1]) if forward else 2,
                    "operateModule": rng.randrange(24), "targetSpaceId": str(rng.randrange(10**9, 10**10)),
                    "status": 1 if action == 1 else 0})
            self.audit_records = sorted(self.audit_records + out, key=lambda r: (r["gmtCreate"], r["bizId"]))
        return [dict(r) for r in out]

    def _audit_logs(self, req):
        q = req["query"]
        self.audit_queries.append(dict(q))
        try:
            start, end, size = int(q["startDate"]), int(q["endDate"]), int(q["pageSize"])
        except (KeyError, ValueError):
            return _bad("param.invalid", "startDate, endDate and pageSize are required numbers")
        if not 1 <= size <= 500:
            return _bad("param.invalid", "pageSize must be 1..500")
        if ("nextGmtCreate" in q) != ("nextBizId" in q):
            return _bad("param.error", "nextGmtCreate and nextBizId must be used together")
        after = None
        if "nextGmtCreate" in q:
            try:
                after = (int(q["nextGmtCreate"]), q["nextBizId"])
            except ValueError:
                return _bad("param.invalid", "nextGmtCreate must be a number")
        page = []
        for r in self.audit_records:
            key = (r["gmtCreate"], r["bizId"])
            if start <= r["gmtCreate"] <= end and (after is None or key > after):
                page.append(dict(r))
                if len(page) == size:
                    break
        return 200, {"list": page}
