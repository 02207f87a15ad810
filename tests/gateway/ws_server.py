# SPDX-License-Identifier: Apache-2.0
"""The server's half of RFC 6455 (WebSocket), small and strict: the opening handshake's checks and
accept key, frames out (a server never masks), and a reader that turns a client's bytes into
messages and refuses what a client must not send (unmasked frames, reserved bits, unknown opcodes,
fragmented or oversized control frames, a continuation with nothing to continue, bad UTF-8).
No extensions and no subprotocols are negotiated."""

import base64
import hashlib
import struct

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3

TEXT, BINARY, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0


class ProtocolError(Exception):
    """A client broke the protocol; `code` is the close status the server answers with."""

    def __init__(self, code, reason):
        super().__init__("%d %s" % (code, reason))
        self.code = code
        self.reason = reason


def accept_key(key):
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 §4.2.2)."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def handshake_problem(method, headers):
    """None if an opening handshake is acceptable, else (HTTP status, reason). `headers` is looked
    up case-insensitively (an http.server message object or a dict with lower-case keys)."""
    def h(name):
        return (headers.get(name) or headers.get(name.lower()) or "").strip()
    if method != "GET":
        return 405, "the opening handshake is a GET"
    if h("Upgrade").lower() != "websocket":
        return 400, "Upgrade: websocket is missing"
    if "upgrade" not in [t.strip().lower() for t in h("Connection").split(",")]:
        return 400, "Connection: Upgrade is missing"
    if h("Sec-WebSocket-Version") != "13":
        return 426, "only Sec-WebSocket-Version 13 is spoken"
    try:
        if len(base64.b64decode(h("Sec-WebSocket-Key"), validate=True)) != 16:
            raise ValueError
    except ValueError:
        return 400, "Sec-WebSocket-Key must be 16 bytes in Base64"
    return None


def encode_frame(opcode, payload=b"", fin=True):
    """One unmasked frame, as a server sends it."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + struct.pack(">H", n)
    else:
        head += bytes([127]) + struct.pack(">Q", n)
    return head + payload


def close_frame(code, reason=""):
    return encode_frame(CLOSE, struct.pack(">H", code) + reason.encode()[:120])


def unmask(mask, payload):
    n = len(payload)
    if not n:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


class FrameReader:
    """Feed it a client's bytes; `feed` returns complete messages as tuples: ("text", str),
    ("binary", bytes), ("ping", bytes), ("pong", bytes), ("close", code, reason). Raises
    ProtocolError on anything a client must not send."""

    def __init__(self, max_message=1 << 20):
        self.buf = bytearray()
        self.max_message = max_message
        self.kind = None      # opcode of a fragmented message in progress
        self.parts = []

    def feed(self, data):
        self.buf += data
        out = []
        while True:
            frame = self._frame()
            if frame is None:
                return out
            fin, opcode, payload = frame
            if opcode >= 0x8:
                out.append(self._control(fin, opcode, payload))
            elif opcode == CONTINUATION:
                if self.kind is None:
                    raise ProtocolError(1002, "continuation frame without a message to continue")
                self._add(payload)
                if fin:
                    out.append(self._finish())
            elif opcode in (TEXT, BINARY):
                if self.kind is not None:
                    raise ProtocolError(1002, "new message inside a fragmented one")
                self.kind, self.parts = opcode, []
                self._add(payload)
                if fin:
                    out.append(self._finish())
            else:
                raise ProtocolError(1002, "unknown opcode %d" % opcode)

    def _frame(self):
        b = self.buf
        if len(b) < 2:
            return None
        if b[0] & 0x70:
            raise ProtocolError(1002, "reserved bits set without an extension")
        if not b[1] & 0x80:
            raise ProtocolError(1002, "client frame not masked")
        n, at = b[1] & 0x7F, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, at = struct.unpack(">H", b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, at = struct.unpack(">Q", b[2:10])[0], 10
            if n >> 63:
                raise ProtocolError(1002, "64-bit length with the high bit set")
        if n > self.max_message:
            raise ProtocolError(1009, "frame too big")
        if len(b) < at + 4 + n:
            return None
        mask = bytes(b[at:at + 4])
        payload = unmask(mask, bytes(b[at + 4:at + 4 + n]))
        fin, opcode = bool(b[0] & 0x80), b[0] & 0x0F
        del b[:at + 4 + n]
        return fin, opcode, payload

    def _control(self, fin, opcode, payload):
        if not fin or len(payload) > 125:
            raise ProtocolError(1002, "control frame fragmented or longer than 125 bytes")
        if opcode == PING:
            return ("ping", payload)
        if opcode == PONG:
            return ("pong", payload)
        if opcode == CLOSE:
            if not payload:
                return ("close", 1005, "")
            if len(payload) == 1:
                raise ProtocolError(1002, "close payload of one byte")
            try:
                reason = payload[2:].decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolError(1007, "close reason is not UTF-8")
            return ("close", struct.unpack(">H", payload[:2])[0], reason)
        raise ProtocolError(1002, "unknown control opcode %d" % opcode)

    def _add(self, payload):
        self.parts.append(payload)
        if sum(len(p) for p in self.parts) > self.max_message:
            raise ProtocolError(1009, "message too big")

    def _finish(self):
        kind, data = self.kind, b"".join(self.parts)
        self.kind, self.parts = None, []
        if kind == BINARY:
            return ("binary", data)
        try:
            return ("text", data.decode("utf-8"))
        except UnicodeDecodeError:
            raise ProtocolError(1007, "text message is not UTF-8")


# The worked example of RFC 6455 §1.3.
assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
