# SPDX-License-Identifier: Apache-2.0
"""DingTalk's Stream mode (reference/dingtalk.md §2) for the DingTalk fake: registration at
POST /v1.0/gateway/connections/open, single-use 90 s tickets, the WebSocket at /connect, downstream
frames {specVersion, type, headers, data: "<JSON string>"}, ack checking and EVENT redelivery.

Each connection is served by its own HTTP handler thread, which does all of that socket's reading
and writing (TLS objects are not shared between threads); control methods queue frames for it and
the thread picks them up within POLL seconds.

Which connection gets a frame: the newest live connection that subscribed to the frame's type and
topic and has not been told to disconnect (DingTalk picks one at random among several; the fake
is deterministic). An EVENT stays pending until a client acks it with status SUCCESS; it is sent
again, same messageId and eventId, redeliver_after seconds after its last sending (an ack with
LATER changes nothing), and right away on the next connection if its connection went away.
CALLBACK frames (robot messages) are fire-and-forget: never redelivered, dropped into `undelivered`
if nobody subscribed is connected."""

import json
import socket
import ssl
import time
import uuid

import ws_server as ws

POLL = 0.02          # how often a connection's thread looks for queued frames (s)
SEND_TIMEOUT = 10.0  # a client that reads nothing for this long loses its connection (s)


class _Conn:
    def __init__(self, cid, subscriptions, peer):
        self.id = cid
        self.subscriptions = subscriptions
        self.peer = peer
        self.outbox = []        # encoded frames waiting for the connection's thread
        self.close_at = None    # set by push_disconnect: TCP close time
        self.drop = False       # set by drop_connection / stop: close TCP now
        self.gone = False

    def wants(self, ftype, topic):
        if ftype == "SYSTEM":
            return True
        return any(s.get("type") == ftype and s.get("topic") == topic for s in self.subscriptions)


class StreamMixin:
    def _stream_init(self):
        self.ticket_lifetime = 90
        self.redeliver_after = 2.0
        self.disconnect_grace = 1.0
        self.tickets = {}           # ticket -> {"expires", "used", "subscriptions"}
        self.registrations = []     # accepted connections/open bodies
        self.connections = 0        # successful WebSocket upgrades
        self.live = []              # _Conn, oldest first
        self.acks = []              # every client text message, parsed
        self.ack_errors = []        # protocol violations seen in client messages
        self.frames_sent = []       # {"conn", "time", "frame"} for every frame written
        self.sent_by_id = {}        # messageId -> frame, for ack checking
        self.pending = {}           # messageId -> {"frame", "sent_at", "conn", "deliveries"}
        self.acked_events = []      # messageIds acked SUCCESS
        self.undelivered = []       # CALLBACK/SYSTEM frames nobody could take
        self.pings = {}             # messageId -> opaque of SYSTEM pings sent
        self.ping_echoes = 0        # ping acks that echoed the opaque
        self.ws_pings_received = 0  # WebSocket-level pings from clients (answered with pong)
        self.ws_pongs_received = 0
        self.ws_closes = []         # (by, code, reason): by "client" or "server"

    def _stream_routes(self):
        return [("POST", "/v1.0/gateway/connections/open", self._open, True),
                ("GET", "/connect", self._connect, False)]

    # -- registration and handshake ------------------------------------------------------

    def _open(self, req):
        if "application/json" not in req["headers"].get("accept", ""):
            # DingTalk answers XML without this header (reference §2.1); the fake refuses.
            return 406, {"code": "simulator.acceptJsonRequired",
                         "message": "simulator: send Accept: application/json"}
        b = req["json"] if isinstance(req["json"], dict) else {}
        if b.get("clientId") != self.client_id or b.get("clientSecret") != self.client_secret:
            return 401, {"code": "simulator.invalidClient", "message": "simulator: bad clientId/clientSecret"}
        subs = b.get("subscriptions")
        ok = isinstance(subs, list) and subs and all(
            isinstance(s, dict) and isinstance(s.get("topic"), str)
            and (s.get("type") == "CALLBACK" or (s.get("type") == "EVENT" and s["topic"] == "*"))
            for s in subs)
        if not ok:
            return 400, {"code": "simulator.invalidSubscriptions",
                         "message": "simulator: subscriptions must be [{type: EVENT (topic *) | CALLBACK, topic}]"}
        ticket = str(uuid.uuid4())
        self.tickets[ticket] = {"expires": time.time() + self.ticket_lifetime, "used": False,
                                "subscriptions": subs}
        self.registrations.append(b)
        return 200, {"endpoint": "wss://127.0.0.1:%d/connect" % self.port, "ticket": ticket}

    def _connect(self, req, http):
        problem = ws.handshake_problem(http.command, http.headers)
        if problem:
            return problem[0], {"code": "simulator.badHandshake", "message": problem[1]}
        with self.lock:
            t = self.tickets.get(req["query"].get("ticket", ""))
            if not t or t["used"] or t["expires"] < time.time():
                return 401, {"code": "simulator.invalidTicket",
                             "message": "simulator: unknown, used or expired ticket"}
            t["used"] = True
        http.send_response(101, "Switching Protocols")
        http.send_header("Upgrade", "websocket")
        http.send_header("Connection", "Upgrade")
        http.send_header("Sec-WebSocket-Accept", ws.accept_key(http.headers["Sec-WebSocket-Key"].strip()))
        http.end_headers()
        http.wfile.flush()
        http.close_connection = True
        with self.lock:
            self.connections += 1
            conn = _Conn(self.connections, t["subscriptions"], http.client_address)
            self.live.append(conn)
        self._serve_socket(conn, http.connection)
        return None

    # -- the connection's thread ---------------------------------------------------------

    def _serve_socket(self, conn, sock):
        reader = ws.FrameReader()
        try:
            while True:
                with self.lock:
                    if conn.drop:
                        break
                    out, conn.outbox = conn.outbox, []
                    out += self._due_events(conn)
                    stop = conn.close_at is not None and time.time() >= conn.close_at
                if out:
                    sock.settimeout(SEND_TIMEOUT)
                    for frame in out:
                        sock.sendall(frame)
                if stop:
                    break
                sock.settimeout(POLL)
                try:
                    data = sock.recv(65536)
                except socket.timeout:
                    continue
                if not data:
                    break
                try:
                    messages = reader.feed(data)
                except ws.ProtocolError as e:
                    self._close(sock, e.code, e.reason)
                    break
                if not self._handle(conn, sock, messages):
                    break
        except (OSError, ssl.SSLError):
            pass
        finally:
            with self.lock:
                self._gone(conn)
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _handle(self, conn, sock, messages):
        """False once the connection is over."""
        for m in messages:
            if m[0] == "text":
                with self.lock:
                    self._client_text(conn, m[1])
            elif m[0] == "ping":
                with self.lock:
                    self.ws_pings_received += 1
                sock.settimeout(SEND_TIMEOUT)
                sock.sendall(ws.encode_frame(ws.PONG, m[1]))
            elif m[0] == "pong":
                with self.lock:
                    self.ws_pongs_received += 1
            elif m[0] == "close":
                with self.lock:
                    self.ws_closes.append(("client", m[1], m[2]))
                self._close(sock, 1000 if m[1] == 1005 else m[1], "")
                return False
            else:
                self._close(sock, 1003, "only text messages are spoken")
                return False
        return True

    def _close(self, sock, code, reason):
        with self.lock:
            self.ws_closes.append(("server", code, reason))
        sock.settimeout(SEND_TIMEOUT)
        sock.sendall(ws.close_frame(code, reason))

    def _gone(self, conn):
        conn.gone = True
        if conn in self.live:
            self.live.remove(conn)
        for p in self.pending.values():
            if p["conn"] is conn:
                p["conn"], p["sent_at"] = None, None

    # -- frames ----------------------------------------------------------------------------

    def _pick(self, ftype, topic):
        for conn in reversed(self.live):
            if not conn.drop and conn.close_at is None and conn.wants(ftype, topic):
                return conn
        return None

    def _frame(self, ftype, topic, data, extra_headers=None):
        now = str(int(time.time() * 1000))
        headers = {"topic": topic, "messageId": str(uuid.uuid4()), "contentType": "application/json",
                   "time": now}
        headers.update(extra_headers or {})
        return {"specVersion": "1.0", "type": ftype, "headers": headers,
                "data": json.dumps(data, ensure_ascii=False)}

    def _write(self, conn, frame):
        """Encodes a frame for conn's thread and logs it (the caller sends or queues it)."""
        self.frames_sent.append({"conn": conn.id, "time": time.time(), "frame": frame})
        return ws.encode_frame(ws.TEXT, json.dumps(frame, ensure_ascii=False).encode())

    def _send(self, frame):
        self.sent_by_id[frame["headers"]["messageId"]] = frame
        conn = self._pick(frame["type"], frame["headers"]["topic"])
        if conn is None:
            self.undelivered.append(frame)
            return False
        conn.outbox.append(self._write(conn, frame))
        return True

    def _due_events(self, conn):
        now, out = time.time(), []
        for p in self.pending.values():
            if p["sent_at"] is not None and now < p["sent_at"] + self.redeliver_after:
                continue
            f = p["frame"]
            if self._pick(f["type"], f["headers"]["topic"]) is not conn:
                continue
            p.update(conn=conn, sent_at=now, deliveries=p["deliveries"] + 1)
            out.append(self._write(conn, f))
        return out

    # -- acks ------------------------------------------------------------------------------

    def _client_text(self, conn, text):
        try:
            msg = json.loads(text)
        except ValueError:
            self.ack_errors.append("conn %d: not JSON: %r" % (conn.id, text[:200]))
            return
        self.acks.append(msg)
        headers = msg.get("headers") if isinstance(msg, dict) else None
        mid = headers.get("messageId") if isinstance(headers, dict) else None
        frame = self.sent_by_id.get(mid)
        if frame is None:
            self.ack_errors.append("conn %d: ack without a known headers.messageId: %r" % (conn.id, text[:200]))
            return
        if not isinstance(msg.get("code"), int):
            self.ack_errors.append("ack %s: code is not a number" % mid)
        if frame["type"] == "CALLBACK":
            return
        data = msg.get("data")
        try:
            parsed = json.loads(data) if isinstance(data, str) else None
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            self.ack_errors.append("ack %s: data is not a string holding a JSON object: %r" % (mid, data))
            return
        if frame["type"] == "EVENT":
            if parsed.get("status") == "SUCCESS":
                if self.pending.pop(mid, None) is not None:
                    self.acked_events.append(mid)
            elif parsed.get("status") != "LATER":
                self.ack_errors.append("ack %s: EVENT status must be SUCCESS or LATER: %r" % (mid, data))
        elif frame["headers"]["topic"] == "ping":
            if mid in self.pings and parsed.get("opaque") == self.pings[mid]:
                self.ping_echoes += 1
            else:
                self.ack_errors.append("ack %s: ping ack does not echo the opaque: %r" % (mid, data))

    # -- control methods -------------------------------------------------------------------

    def connected(self):
        """True while a connection is up that has not been told to disconnect."""
        with self.lock:
            return any(not c.drop and c.close_at is None for c in self.live)

    def push_event(self, event_type, data, event_id=None):
        """Queues an EVENT frame; returns its messageId. Pending until acked SUCCESS."""
        with self.lock:
            now = str(int(time.time() * 1000))
            frame = self._frame("EVENT", "*", data, {
                "eventType": event_type, "eventId": event_id or uuid.uuid4().hex,
                "eventCorpId": self.corp_id, "eventBornTime": now,
                "eventUnifiedAppId": self.unified_app_id})
            mid = frame["headers"]["messageId"]
            self.sent_by_id[mid] = frame
            self.pending[mid] = {"frame": frame, "sent_at": None, "conn": None, "deliveries": 0}
            return mid

    def push_robot_message(self, msg):
        """Sends a robot message as a CALLBACK frame (fire-and-forget); returns its messageId."""
        with self.lock:
            frame = self._frame("CALLBACK", "/v1.0/im/bot/messages/get", msg)
            self._send(frame)
            return frame["headers"]["messageId"]

    def push_ping(self):
        """Sends a SYSTEM ping; returns its opaque (None if nobody is connected)."""
        with self.lock:
            opaque = str(uuid.uuid4())
            frame = self._frame("SYSTEM", "ping", {"opaque": opaque})
            if not self._send(frame):
                return None
            self.pings[frame["headers"]["messageId"]] = opaque
            return opaque

    def push_disconnect(self):
        """Tells every live connection to go away, and closes its TCP disconnect_grace seconds
        later (no close frame). Returns how many connections were told."""
        with self.lock:
            told = 0
            for conn in self.live:
                if conn.close_at is None and not conn.drop:
                    frame = self._frame("SYSTEM", "disconnect", {"reason": "persistent connection is timeout"})
                    self.sent_by_id[frame["headers"]["messageId"]] = frame
                    conn.outbox.append(self._write(conn, frame))
                    conn.close_at = time.time() + self.disconnect_grace
                    told += 1
            return told

    def drop_connection(self, timeout=2.0):
        """Closes every live connection's TCP at once (no close frame) and waits until they are gone."""
        with self.lock:
            conns = list(self.live)
            for conn in conns:
                conn.drop = True
        self.wait_for(lambda: all(c.gone for c in conns), timeout)
        return len(conns)

    def ws_ping(self, payload=b"barra"):
        """Sends a WebSocket ping control frame on every live connection."""
        with self.lock:
            for conn in self.live:
                conn.outbox.append(ws.encode_frame(ws.PING, payload))
            return len(self.live)

    def deliveries(self, message_id):
        """How many times a frame was written to a connection."""
        with self.lock:
            return sum(1 for f in self.frames_sent if f["frame"]["headers"]["messageId"] == message_id)
