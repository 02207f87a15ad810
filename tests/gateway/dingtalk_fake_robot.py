# SPDX-License-Identifier: Apache-2.0
"""The robots of the DingTalk fake: inbound robot messages (reference/dingtalk.md §3.1) and their
sessionWebhook, attachment download codes, and the custom group robot webhook with its signature,
keywords and 20-per-minute throttle (§4).

Simulator-only (not in the reference): sendBySession answers errcode 300001 for an unknown or
expired session; the download endpoint's error bodies."""

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
import uuid

MSGTYPES = ("text", "link", "markdown", "actionCard", "feedCard")

_NICKS = {"zh-Hans": "张伟", "zh-Hant": "陳大文", "en": "Alex Chan"}


def robot_sign(secret, timestamp):
    """Base64(HMAC-SHA256(key=secret, timestamp + "\\n" + secret)), before URL-encoding."""
    mac = hmac.new(secret.encode(), ("%s\n%s" % (timestamp, secret)).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def _self_test():
    # §4's vector (custom robot), then §3.1's (HTTP-mode robot callback): different secrets.
    s = robot_sign("this is secret", "1577262236757")
    assert s == "hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM="
    assert urllib.parse.quote(s, safe="") == "hmPWwU%2B7lVdm3ZZz0r9tSfx0L4Q26jWOZr9%2BGs6EZQM%3D"
    assert robot_sign("this is a secret", "1577262236757") == "DJrE6qdyVGCQz9z5r2MDuNcNAhwYnuAkyj13cx169CA="


_self_test()


class RobotMixin:
    def _robot_init(self, robot_secret):
        self.robot_secret = robot_secret
        self.robot_access_token = "sim-robot-" + uuid.uuid4().hex
        self.robot_keywords = None     # list of words: a message must contain one, else 310000
        self.robot_code = self.client_id
        self.rate_limit = 20
        self.rate_window = 60.0
        self.throttle_seconds = 600.0
        self.robot_messages = []       # accepted custom robot bodies
        self.robot_throttled = []      # bodies refused with 410100
        self.robot_refused = []        # (errcode, body) refused for other reasons
        self._robot_times = []
        self._throttled_until = 0.0
        self.sessions = {}             # session -> expiry (s)
        self.session_replies = []      # (session, body)
        self.files = {}                # downloadCode -> bytes
        self.downloads = []            # download requests' bodies

    def _robot_routes(self):
        return [("POST", "/robot/send", self._robot_send, True),
                ("POST", "/robot/sendBySession", self._send_by_session, True),
                ("POST", "/v1.0/robot/messageFiles/download", self._download, True),
                ("GET", "/files/", self._file, True)]

    # -- inbound robot messages --------------------------------------------------------------

    def robot_message(self, text, sender_staff_id="u1", conversation_type="1", lang_hint=None):
        """A text robot message as DingTalk delivers it (§3.1), with a live sessionWebhook.
        lang_hint ("zh-Hans", "zh-Hant", "en") only picks the sender's nickname: DingTalk's
        message has no language field."""
        now = int(time.time() * 1000)
        session = uuid.uuid4().hex
        with self.lock:
            self.sessions[session] = time.time() + 90 * 60
        msg = {
            "msgtype": "text",
            "text": {"content": text},
            "msgId": "msg" + uuid.uuid4().hex,
            "createAt": now,
            "conversationType": conversation_type,
            "conversationId": "cid" + uuid.uuid5(uuid.NAMESPACE_OID, sender_staff_id).hex[:20],
            "senderId": "$:LWCP_v1:$" + uuid.uuid5(uuid.NAMESPACE_DNS, sender_staff_id).hex,
            "senderNick": _NICKS.get(lang_hint, "Test User " + sender_staff_id),
            "senderStaffId": sender_staff_id,
            "senderCorpId": self.corp_id,
            "isAdmin": False,
            "chatbotCorpId": self.corp_id,
            "chatbotUserId": "$:LWCP_v1:$robot",
            "robotCode": self.robot_code,
            "isInAtList": True,
            "sessionWebhook": "%s/robot/sendBySession?session=%s" % (self.base, session),
            "sessionWebhookExpiredTime": now + 90 * 60 * 1000,
        }
        if conversation_type == "2":
            msg["conversationTitle"] = "Test group"
            msg["atUsers"] = [{"dingtalkId": "$:LWCP_v1:$robot"}]
        return msg

    def _send_by_session(self, req):
        session = req["query"].get("session", "")
        if self.sessions.get(session, 0) < time.time():
            return 200, {"errcode": 300001, "errmsg": "simulator: unknown or expired session"}
        self.session_replies.append((session, req["json"]))
        return 200, {"errcode": 0, "errmsg": "ok"}

    # -- attachments ------------------------------------------------------------------------

    def add_file(self, download_code, data):
        with self.lock:
            self.files[download_code] = bytes(data)

    def _download(self, req):
        b = req["json"] if isinstance(req["json"], dict) else {}
        self.downloads.append(b)
        if b.get("robotCode") != self.robot_code or b.get("downloadCode") not in self.files:
            return 400, {"code": "simulator.invalidParameter",
                         "message": "simulator: unknown downloadCode or robotCode"}
        return 200, {"downloadUrl": "%s/files/%s" % (self.base, urllib.parse.quote(b["downloadCode"], safe=""))}

    def _file(self, req):
        data = self.files.get(urllib.parse.unquote(req["path"][len("/files/"):]))
        if data is None:
            return 404, b"not found", "text/plain"
        return 200, data, "application/octet-stream"

    # -- custom group robot -----------------------------------------------------------------

    def _robot_send(self, req):
        q, body = req["query"], req["json"]
        if q.get("access_token") != self.robot_access_token:
            return self._robot_refuse(400101, "access_token is not valid", body)
        now = time.time()
        if now < self._throttled_until:
            self.robot_throttled.append(body)
            return 200, {"errcode": 410100, "errmsg": "send too fast, exceed 20 times per minute"}
        if self.robot_secret is not None:
            ts = q.get("timestamp", "")
            if not ts.isdigit() or abs(int(ts) - now * 1000) > 3600 * 1000:
                return self._robot_refuse(310000, "timestamp missing or more than 1 h off", body)
            if not hmac.compare_digest(q.get("sign", ""), robot_sign(self.robot_secret, ts)):
                return self._robot_refuse(310000, "sign not match", body)
        if self.robot_keywords:
            text = json.dumps(body, ensure_ascii=False)
            if not any(k in text for k in self.robot_keywords):
                return self._robot_refuse(310000, "keywords not in content", body)
        if not isinstance(body, dict) or body.get("msgtype") not in MSGTYPES:
            return self._robot_refuse(400105, "unsupported msgtype", body)
        self._robot_times = [t for t in self._robot_times if t > now - self.rate_window]
        if len(self._robot_times) >= self.rate_limit:
            self._throttled_until = now + self.throttle_seconds
            self.robot_throttled.append(body)
            return 200, {"errcode": 410100, "errmsg": "send too fast, exceed 20 times per minute"}
        self._robot_times.append(now)
        self.robot_messages.append(body)
        return 200, {"errcode": 0, "errmsg": "ok"}

    def _robot_refuse(self, errcode, errmsg, body):
        self.robot_refused.append((errcode, body))
        return 200, {"errcode": errcode, "errmsg": errmsg}
