/* SPDX-License-Identifier: Apache-2.0 */
/* The client side of RFC 6455 WebSocket framing, without I/O: the opening handshake's key and
 * response check, frame encoding (masked, as a client must) and an incremental decoder for what a
 * server sends. ws-client.c puts it on a TLS connection for DingTalk's Stream mode. */
#ifndef BARRA_CONNECT_WS_FRAME_H
#define BARRA_CONNECT_WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <barra/error.h>

#include "core/buf.h"

enum ws_opcode {
    WS_OP_CONTINUATION = 0x0,
    WS_OP_TEXT = 0x1,
    WS_OP_BINARY = 0x2,
    WS_OP_CLOSE = 0x8,
    WS_OP_PING = 0x9,
    WS_OP_PONG = 0xA,
};

/* Close status codes (RFC 6455 §7.4.1) the client sends or reports. */
#define WS_CLOSE_NORMAL         1000
#define WS_CLOSE_GOING_AWAY     1001
#define WS_CLOSE_PROTOCOL_ERROR 1002
#define WS_CLOSE_NO_STATUS      1005 /* reported for a close frame without a code; never sent */
#define WS_CLOSE_INVALID_DATA   1007
#define WS_CLOSE_TOO_BIG        1009
#define WS_CLOSE_INTERNAL       1011

#define WS_KEY_CHARS           24  /* Base64 of 16 bytes */
#define WS_MAX_CONTROL         125 /* payload limit of ping, pong and close frames */
#define WS_MAX_HEAD            ((size_t)16 * 1024) /* limit of the response head */
#define WS_DEFAULT_MAX_MESSAGE (16u << 20)

/* A fresh Sec-WebSocket-Key: 16 random bytes in Base64, NUL-terminated. Returns 0, or -BARRA_EIO
 * when the random source fails. */
int ws_client_key(char out[WS_KEY_CHARS + 1]);

/* Whether `accept` is the Sec-WebSocket-Accept that answers `key`: Base64(SHA-1(key + the RFC's
 * GUID)). Compared in constant time; NULL matches nothing. */
bool ws_accept_ok(const char *key, const char *accept);

/* Parses the server's response head to an upgrade request sent with `key`, from data[0..len).
 * Returns 0 when the head is complete and is a valid 101 upgrade (Upgrade: websocket, a Connection
 * token "upgrade", the right Sec-WebSocket-Accept, no extension or subprotocol since none was
 * asked for), with *consumed = the head's length including its blank line (what follows is the
 * start of the frame stream). Returns 1 when more bytes are needed. Errors: -BARRA_ELIMIT when no
 * head ends within WS_MAX_HEAD bytes, -BARRA_EFORMAT otherwise (a refused upgrade, e.g. HTTP 401
 * for a stale ticket, or a malformed or wrong response). *status is the HTTP status code once the
 * status line has been read (also on errors), else 0. Lines must end in CRLF; header names are
 * case-insensitive. */
int ws_parse_upgrade(const char *data, size_t len, const char *key, size_t *consumed, int *status,
                     struct barra_error *reterr);

/* Appends one client frame to out: FIN set (messages are never fragmented), masked with a fresh
 * random key, payload length in the shortest form. Text must be valid UTF-8; ping, pong and close
 * payloads are at most WS_MAX_CONTROL bytes. Returns 0; -BARRA_EINVAL for a bad opcode
 * (continuation included), an oversized control payload or invalid UTF-8 in text; -BARRA_EIO when
 * the random source fails; or the buffer's -BARRA_ENOMEM / -BARRA_ELIMIT. On error nothing is
 * appended. */
int ws_encode(struct buf *out, int opcode, const void *payload, size_t len);

/* One message from the server. */
struct ws_message {
    int opcode; /* WS_OP_TEXT, _BINARY (continuation fragments joined), _CLOSE, _PING or _PONG */
    /* The payload, followed by a NUL byte that len does not count. Borrowed from the decoder:
     * valid until the next ws_decode() (or ws_recv()) on it, or its free. Text is valid UTF-8. */
    const uint8_t *data;
    size_t len;
    uint16_t close_code;      /* WS_OP_CLOSE: the status, WS_CLOSE_NO_STATUS when none; else 0 */
    const char *close_reason; /* WS_OP_CLOSE: the reason (UTF-8, NUL-terminated), "" when none */
    size_t close_reason_len;
};

/* Incremental decoder of server frames. Memory: the message being reassembled, up to max_message
 * bytes, grown as its bytes arrive (never from a declared length alone). */
struct ws_decoder {
    struct buf message;                  /* data fragments so far */
    uint8_t control[WS_MAX_CONTROL + 1]; /* the control frame being read, NUL-terminated */
    size_t control_len;
    uint8_t head[10]; /* the frame header being read (servers never mask) */
    size_t head_len, head_need;
    uint64_t remaining;   /* payload bytes of the current frame still to come */
    bool in_payload;      /* the header is complete */
    bool fin;             /* of the current frame */
    int frame_opcode;     /* of the current frame */
    int message_opcode;   /* WS_OP_TEXT or _BINARY while one is open, else 0 */
    bool release_message; /* handed out by the last call: dropped by the next */
    int err;              /* the first failure: the stream cannot resynchronise */
};

/* Initialises a decoder for messages of at most max_message bytes (0: WS_DEFAULT_MAX_MESSAGE).
 * Control frames never count against it. */
void ws_decoder_init(struct ws_decoder *d, size_t max_message);
/* Wipes (messages may hold personal data) and frees what the decoder holds; it can be initialised
 * again. */
void ws_decoder_done(struct ws_decoder *d);

/* Consumes bytes from data[0..len) and sets *used to how many. Returns 1 with *msg filled as soon
 * as a message is complete (the rest of the input is left for the next call), 0 when all the input
 * was consumed without completing one, or a negative code: -BARRA_EFORMAT for a protocol
 * violation (close with 1002), -BARRA_EILSEQ for invalid UTF-8 in a text message or close reason
 * (1007), -BARRA_ELIMIT for a message above max_message (1009), -BARRA_ENOMEM. After an error
 * every later call fails the same way. Control frames between the fragments of a message are
 * returned on their own as they complete. */
int ws_decode(struct ws_decoder *d, const uint8_t *data, size_t len, size_t *used,
              struct ws_message *msg, struct barra_error *reterr);

/* The close code that answers a ws_decode() error: 1002, 1007, 1009, or 1011 (out of memory). */
uint16_t ws_close_code_for(int err);

#endif
