/* SPDX-License-Identifier: Apache-2.0 */
/* The WebSocket codec against RFC 6455's own examples (§1.3's handshake, §5.7's frames), fed whole
 * and one byte at a time, every protocol error the decoder must refuse, and the encoder's frames
 * unmasked here independently of the library. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "connect/ws-frame.h"
#include "core/buf.h"

/* ---- Helpers ---- */

struct got {
    int opcode;
    size_t len;
    uint8_t *data;
    uint16_t close_code;
    char reason[WS_MAX_CONTROL];
};

#define MAX_GOT 16

struct run {
    struct got msgs[MAX_GOT];
    size_t count;
    int status; /* 0: everything consumed; else the error */
    size_t consumed;
};

static void run_free(struct run *r)
{
    for (size_t i = 0; i < r->count; i++) {
        free(r->msgs[i].data);
    }
    memset(r, 0, sizeof(*r));
}

static void keep(struct run *r, const struct ws_message *m)
{
    assert_true(r->count < MAX_GOT);
    struct got *g = &r->msgs[r->count++];
    g->opcode = m->opcode;
    g->len = m->len;
    g->data = malloc(m->len + 1);
    assert_non_null(g->data);
    memcpy(g->data, m->data, m->len + 1);
    assert_int_equal(g->data[m->len], 0); /* NUL after the payload */
    g->close_code = m->close_code;
    if (m->opcode == WS_OP_CLOSE) {
        assert_true(m->close_reason_len < sizeof(g->reason));
        memcpy(g->reason, m->close_reason, m->close_reason_len);
    }
}

/* Feeds data[0..n) in chunks of `step` bytes (0: all at once). */
static void feed(struct run *r, size_t max_message, const uint8_t *data, size_t n, size_t step)
{
    memset(r, 0, sizeof(*r));
    struct ws_decoder d;
    ws_decoder_init(&d, max_message);
    size_t pos = 0;
    while (pos < n && r->status == 0) {
        size_t chunk = step == 0 || n - pos < step ? n - pos : step;
        size_t off = 0;
        while (r->status == 0) {
            size_t used = 0;
            struct ws_message m;
            struct barra_error err;
            int s = ws_decode(&d, data + pos + off, chunk - off, &used, &m, &err);
            assert_true(used <= chunk - off);
            off += used;
            r->consumed = pos + off;
            if (s < 0) {
                r->status = s;
                assert_int_equal(err.code, s);
                /* An error sticks. */
                static const uint8_t ok[] = {0x81, 0x01, 'x'};
                assert_int_equal(ws_decode(&d, ok, sizeof(ok), &used, &m, NULL), s);
                assert_int_equal(used, 0);
            } else if (s == 1) {
                keep(r, &m);
            } else {
                assert_int_equal(off, chunk); /* 0 only once the input is used up */
                break;
            }
        }
        pos += chunk;
    }
    ws_decoder_done(&d);
}

/* Feeds whole and byte by byte, which must agree; the whole run is left in r. */
static void feed_both(struct run *r, size_t max_message, const uint8_t *data, size_t n)
{
    struct run bytewise;
    feed(&bytewise, max_message, data, n, 1);
    feed(r, max_message, data, n, 0);
    assert_int_equal(bytewise.status, r->status);
    assert_int_equal(bytewise.consumed, r->consumed);
    assert_int_equal(bytewise.count, r->count);
    for (size_t i = 0; i < r->count; i++) {
        assert_int_equal(bytewise.msgs[i].opcode, r->msgs[i].opcode);
        assert_int_equal(bytewise.msgs[i].len, r->msgs[i].len);
        assert_memory_equal(bytewise.msgs[i].data, r->msgs[i].data, r->msgs[i].len);
        assert_int_equal(bytewise.msgs[i].close_code, r->msgs[i].close_code);
    }
    run_free(&bytewise);
}

/* Undoes a client frame's mask in the test itself: checks the header and returns the payload
 * (malloc'd) and the frame's unmasked server form (malloc'd) in ret_server. */
static uint8_t *unmask(const uint8_t *f, size_t n, int *ret_opcode, size_t *ret_len,
                       uint8_t **ret_server, size_t *ret_server_len)
{
    assert_true(n >= 6);
    assert_int_equal(f[0] & 0xF0, 0x80); /* FIN, no RSV */
    assert_int_equal(f[1] & 0x80, 0x80); /* masked */
    size_t len = f[1] & 0x7F, h = 2;
    if (len == 126) {
        len = (size_t)f[2] << 8 | f[3];
        h = 4;
        assert_true(len >= 126);
    } else if (len == 127) {
        len = 0;
        for (size_t i = 2; i < 10; i++) {
            len = len << 8 | f[i];
        }
        h = 10;
        assert_true(len > 0xFFFF);
    }
    assert_int_equal(n, h + 4 + len);
    const uint8_t *mask = f + h;
    uint8_t *p = malloc(len + 1), *s = malloc(h + len + 1);
    assert_non_null(p);
    assert_non_null(s);
    for (size_t i = 0; i < len; i++) {
        p[i] = f[h + 4 + i] ^ mask[i % 4];
    }
    memcpy(s, f, h);
    s[1] &= 0x7F;
    memcpy(s + h, p, len);
    *ret_opcode = f[0] & 0x0F;
    *ret_len = len;
    *ret_server = s;
    *ret_server_len = h + len;
    return p;
}

/* ---- RFC 6455 §1.3 ---- */

static void test_handshake_example(void **state)
{
    (void)state;
    assert_true(ws_accept_ok("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    assert_false(ws_accept_ok("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOp="));
    assert_false(ws_accept_ok("dGhlIHNhbXBsZSBub25jZR==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    assert_false(ws_accept_ok("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo"));
    assert_false(ws_accept_ok("dGhlIHNhbXBsZSBub25jZQ==", ""));
    assert_false(ws_accept_ok(NULL, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    assert_false(ws_accept_ok("dGhlIHNhbXBsZSBub25jZQ==", NULL));

    char a[WS_KEY_CHARS + 1], b[WS_KEY_CHARS + 1];
    assert_int_equal(ws_client_key(a), 0);
    assert_int_equal(ws_client_key(b), 0);
    assert_int_equal(strlen(a), 24);
    assert_string_equal(a + 22, "=="); /* 16 bytes */
    assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
                     22);
    assert_string_not_equal(a, b);
}

static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";

static int upgrade(const char *resp, size_t *consumed, int *status)
{
    struct barra_error err;
    int r = ws_parse_upgrade(resp, strlen(resp), key, consumed, status, &err);
    if (r < 0) {
        assert_int_equal(err.code, r);
        assert_true(strlen(err.message) > 0);
    }
    return r;
}

static void test_upgrade_ok(void **state)
{
    (void)state;
    static const char head[] = "HTTP/1.1 101 Switching Protocols\r\n"
                               "Upgrade: websocket\r\n"
                               "Connection: Upgrade\r\n"
                               "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                               "\r\n";
    char resp[512];
    (void)snprintf(resp, sizeof(resp), "%s\x81\x02hi", head);
    size_t consumed = 0;
    int status = -1;
    assert_int_equal(upgrade(resp, &consumed, &status), 0);
    assert_int_equal(status, 101);
    assert_int_equal(consumed, strlen(head));
    /* Every proper prefix of the head needs more. */
    for (size_t n = 0; n < strlen(head); n++) {
        consumed = 0;
        assert_int_equal(ws_parse_upgrade(resp, n, key, &consumed, &status, NULL), 1);
        assert_int_equal(consumed, 0);
    }
    /* Names and values are case-insensitive, Connection is a list, unknown headers pass, and an
     * empty extensions header chooses nothing. */
    assert_int_equal(upgrade("HTTP/1.1 101 OK\r\nuPGRADE:WebSocket \r\nserver: x\r\n"
                             "CONNECTION: keep-alive,\t upgrade\r\nSEC-WEBSOCKET-ACCEPT:   "
                             "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\t\r\nSec-WebSocket-Extensions:\r\n\r\n",
                             &consumed, &status),
                     0);
    assert_int_equal(upgrade("HTTP/1.1 101\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                             &consumed, &status),
                     0);
}

static void test_upgrade_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        /* no upgrade header / wrong upgrade */
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        /* no Connection: upgrade */
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        /* accept missing, wrong, twice */
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOp=\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        /* an extension or subprotocol nobody asked for */
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
        /* folded line, no colon, space before the colon, control character */
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n  x\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade websocket\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade : websocket\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nX: a\x01z\r\n\r\n",
        /* not HTTP, or not 1.1 for a 101 */
        "SSH-2.0-OpenSSH_9.2\r\n\r\n",
        "HTTP/1.1 1O1 Switching Protocols\r\n\r\n",
        "HTTP/1.1  101 x\r\n\r\n",
        "HTTP/1.0 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t consumed = 12345;
        int status = 0;
        if (upgrade(bad[i], &consumed, &status) != -BARRA_EFORMAT) {
            fail_msg("accepted response %zu", i);
        }
        assert_int_equal(consumed, 12345);
    }

    /* A refused ticket: the status comes back with the error. */
    size_t consumed = 0;
    int status = 0;
    struct barra_error err;
    static const char refused[] = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(ws_parse_upgrade(refused, strlen(refused), key, &consumed, &status, &err),
                     -BARRA_EFORMAT);
    assert_int_equal(status, 401);
    assert_non_null(strstr(err.message, "401"));
    assert_int_equal(upgrade("HTTP/1.0 403 Forbidden\r\n\r\n", &consumed, &status), -BARRA_EFORMAT);
    assert_int_equal(status, 403);
    assert_int_equal(upgrade("HTTP/1.1 200 OK\r\n\r\n", &consumed, &status), -BARRA_EFORMAT);
    assert_int_equal(status, 200);

    /* The head is capped at 16 KiB. */
    size_t big = WS_MAX_HEAD + 100;
    char *p = malloc(big + 1);
    assert_non_null(p);
    memset(p, 'a', big);
    memcpy(p, "HTTP/1.1 101 OK\r\nX: ", 20);
    p[big] = '\0';
    assert_int_equal(ws_parse_upgrade(p, WS_MAX_HEAD - 1, key, &consumed, &status, NULL), 1);
    assert_int_equal(ws_parse_upgrade(p, WS_MAX_HEAD, key, &consumed, &status, &err),
                     -BARRA_ELIMIT);
    memcpy(p + WS_MAX_HEAD - 2, "\r\n\r\n", 4); /* ends 2 bytes past the cap */
    assert_int_equal(ws_parse_upgrade(p, big, key, &consumed, &status, &err), -BARRA_ELIMIT);
    free(p);
}

/* ---- RFC 6455 §5.7 ---- */

static void test_rfc_examples(void **state)
{
    (void)state;
    struct run r;
    static const uint8_t hello[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    feed_both(&r, 0, hello, sizeof(hello));
    assert_int_equal(r.status, 0);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.msgs[0].opcode, WS_OP_TEXT);
    assert_int_equal(r.msgs[0].len, 5);
    assert_memory_equal(r.msgs[0].data, "Hello", 5);
    run_free(&r);

    static const uint8_t fragmented[] = {0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f};
    feed_both(&r, 0, fragmented, sizeof(fragmented));
    assert_int_equal(r.status, 0);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.msgs[0].opcode, WS_OP_TEXT);
    assert_int_equal(r.msgs[0].len, 5);
    assert_memory_equal(r.msgs[0].data, "Hello", 5);
    run_free(&r);

    static const uint8_t ping[] = {0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    feed_both(&r, 0, ping, sizeof(ping));
    assert_int_equal(r.count, 1);
    assert_int_equal(r.msgs[0].opcode, WS_OP_PING);
    assert_memory_equal(r.msgs[0].data, "Hello", 5);
    run_free(&r);

    /* The masked examples are client frames: a server that sends one breaks the protocol. */
    static const uint8_t masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                     0x7f, 0x9f, 0x4d, 0x51, 0x58};
    feed_both(&r, 0, masked, sizeof(masked));
    assert_int_equal(r.status, -BARRA_EFORMAT);
    assert_int_equal(r.consumed, 2); /* refused at the header */
    static const uint8_t masked_pong[] = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                          0x7f, 0x9f, 0x4d, 0x51, 0x58};
    feed_both(&r, 0, masked_pong, sizeof(masked_pong));
    assert_int_equal(r.status, -BARRA_EFORMAT);
    /* Unmasked by the test, the masked example is the unmasked one. */
    int op = 0;
    size_t len = 0, slen = 0;
    uint8_t *server = NULL;
    uint8_t *payload = unmask(masked, sizeof(masked), &op, &len, &server, &slen);
    assert_int_equal(op, WS_OP_TEXT);
    assert_memory_equal(payload, "Hello", 5);
    assert_int_equal(slen, sizeof(hello));
    assert_memory_equal(server, hello, sizeof(hello));
    free(payload);
    free(server);

    /* 256 bytes (16-bit length) and 64 KiB (64-bit length) of binary data. */
    static const size_t sizes[] = {256, 65536};
    for (size_t k = 0; k < 2; k++) {
        size_t n = sizes[k], h = n == 256 ? 4 : 10;
        uint8_t *f = malloc(h + n);
        assert_non_null(f);
        f[0] = 0x82;
        if (n == 256) {
            memcpy(f + 1, "\x7e\x01\x00", 3);
        } else {
            memcpy(f + 1, "\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 9);
        }
        for (size_t i = 0; i < n; i++) {
            f[h + i] = (uint8_t)(i * 7 + 3);
        }
        feed_both(&r, 0, f, h + n);
        assert_int_equal(r.status, 0);
        assert_int_equal(r.count, 1);
        assert_int_equal(r.msgs[0].opcode, WS_OP_BINARY);
        assert_int_equal(r.msgs[0].len, n);
        assert_memory_equal(r.msgs[0].data, f + h, n);
        run_free(&r);
        free(f);
    }
}

static void test_stream(void **state)
{
    (void)state;
    /* Several messages in one buffer, control frames between fragments, empty frames, a
     * fragmented UTF-8 character, a close with code and reason. */
    static const uint8_t s[] = {
        0x01, 0x03, 'H',  'e',  'l',             /* text, first fragment */
        0x89, 0x00,                              /* ping, empty, between fragments */
        0x00, 0x00,                              /* empty continuation */
        0x8a, 0x02, 'p',  'o',                   /* pong */
        0x80, 0x02, 'l',  'o',                   /* last fragment: "Hello" */
        0x81, 0x00,                              /* empty text */
        0x02, 0x01, 0xff, 0x80, 0x01, 0x00,      /* binary in two fragments */
        0x01, 0x01, 0xc3, 0x80, 0x01, 0xa9,      /* "é" split across fragments */
        0x88, 0x05, 0x03, 0xe8, 'b',  'y',  'e', /* close 1000 "bye" */
        0x88, 0x00,                              /* close without a code */
    };
    struct run r;
    feed_both(&r, 0, s, sizeof(s));
    assert_int_equal(r.status, 0);
    assert_int_equal(r.consumed, sizeof(s));
    assert_int_equal(r.count, 8);
    static const int ops[] = {WS_OP_PING,   WS_OP_PONG, WS_OP_TEXT,  WS_OP_TEXT,
                              WS_OP_BINARY, WS_OP_TEXT, WS_OP_CLOSE, WS_OP_CLOSE};
    static const char *const data[] = {
        "", "po", "Hello", "", "\xff\x00", "\xc3\xa9", "\x03\xe8\x62\x79\x65", "",
    };
    static const size_t lens[] = {0, 2, 5, 0, 2, 2, 5, 0};
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(r.msgs[i].opcode, ops[i]);
        assert_int_equal(r.msgs[i].len, lens[i]);
        assert_memory_equal(r.msgs[i].data, data[i], lens[i]);
    }
    assert_int_equal(r.msgs[6].close_code, 1000);
    assert_string_equal(r.msgs[6].reason, "bye");
    assert_int_equal(r.msgs[7].close_code, WS_CLOSE_NO_STATUS);
    assert_string_equal(r.msgs[7].reason, "");
    run_free(&r);

    /* Valid close codes. */
    static const unsigned codes[] = {1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        uint8_t f[] = {0x88, 0x02, (uint8_t)(codes[i] >> 8), (uint8_t)codes[i]};
        feed_both(&r, 0, f, sizeof(f));
        assert_int_equal(r.status, 0);
        assert_int_equal(r.msgs[0].close_code, codes[i]);
        run_free(&r);
    }

    /* A large message, then a small one: the decoder lets go of the big buffer in between. */
    size_t n = 200000;
    uint8_t *f = malloc(n + 10 + 3);
    assert_non_null(f);
    memcpy(f, "\x82\x7f\x00\x00\x00\x00\x00\x03\x0d\x40", 10);
    memset(f + 10, 'z', n);
    memcpy(f + 10 + n, "\x81\x01y", 3);
    feed(&r, 0, f, n + 13, 4096);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.msgs[0].len, n);
    assert_int_equal(r.msgs[1].len, 1);
    assert_memory_equal(r.msgs[1].data, "y", 1);
    run_free(&r);
    free(f);

    /* Nothing in, nothing out. */
    struct ws_decoder d;
    ws_decoder_init(&d, 0);
    size_t used = 7;
    struct ws_message m;
    assert_int_equal(ws_decode(&d, (const uint8_t *)"", 0, &used, &m, NULL), 0);
    assert_int_equal(used, 0);
    ws_decoder_done(&d);
}

/* ---- Protocol errors ---- */

struct bad_case {
    const char *what;
    const char *bytes;
    size_t len;
    int err;
};

#define BAD(what, bytes, err)                                                                      \
    {                                                                                              \
        what, bytes, sizeof(bytes) - 1, err                                                        \
    }

static void test_protocol_errors(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        BAD("masked", "\x81\x81\x00\x00\x00\x00x", -BARRA_EFORMAT),
        BAD("RSV1", "\xc1\x01x", -BARRA_EFORMAT),
        BAD("RSV2", "\xa1\x01x", -BARRA_EFORMAT),
        BAD("RSV3", "\x91\x01x", -BARRA_EFORMAT),
        BAD("opcode 3", "\x83\x00", -BARRA_EFORMAT),
        BAD("opcode 7", "\x87\x00", -BARRA_EFORMAT),
        BAD("opcode B", "\x8b\x00", -BARRA_EFORMAT),
        BAD("opcode F", "\x8f\x00", -BARRA_EFORMAT),
        BAD("fragmented ping", "\x09\x00", -BARRA_EFORMAT),
        BAD("fragmented close", "\x08\x02\x03\xe8", -BARRA_EFORMAT),
        BAD("ping of 126", "\x89\x7e\x00\x7e", -BARRA_EFORMAT),
        BAD("pong of 64-bit length", "\x8a\x7f\x00\x00\x00\x00\x00\x00\x00\x01", -BARRA_EFORMAT),
        BAD("continuation first", "\x80\x01x", -BARRA_EFORMAT),
        BAD("continuation after a whole message", "\x81\x01x\x80\x01y", -BARRA_EFORMAT),
        BAD("text inside a fragmented text", "\x01\x01x\x81\x01y", -BARRA_EFORMAT),
        BAD("binary inside a fragmented text", "\x01\x01x\x02\x01y", -BARRA_EFORMAT),
        BAD("64-bit length, top bit", "\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", -BARRA_EFORMAT),
        BAD("16-bit length below 126", "\x82\x7e\x00\x05xxxxx", -BARRA_EFORMAT),
        BAD("64-bit length below 65536", "\x82\x7f\x00\x00\x00\x00\x00\x00\xff\xff",
            -BARRA_EFORMAT),
        BAD("over max_message", "\x82\x11xxxxxxxxxxxxxxxxx", -BARRA_ELIMIT),
        BAD("fragments over max_message", "\x02\x08xxxxxxxx\x00\x08xxxxxxxx\x80\x01x",
            -BARRA_ELIMIT),
        BAD("huge length", "\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff", -BARRA_ELIMIT),
        BAD("invalid UTF-8", "\x81\x02\xc3\x28", -BARRA_EILSEQ),
        BAD("truncated UTF-8", "\x81\x01\xc3", -BARRA_EILSEQ),
        BAD("surrogate", "\x81\x03\xed\xa0\x80", -BARRA_EILSEQ),
        BAD("invalid UTF-8 across fragments", "\x01\x01\xc3\x80\x01\x28", -BARRA_EILSEQ),
        BAD("close of 1 byte", "\x88\x01\x03", -BARRA_EFORMAT),
        BAD("close 0", "\x88\x02\x00\x00", -BARRA_EFORMAT),
        BAD("close 999", "\x88\x02\x03\xe7", -BARRA_EFORMAT),
        BAD("close 1004", "\x88\x02\x03\xec", -BARRA_EFORMAT),
        BAD("close 1005", "\x88\x02\x03\xed", -BARRA_EFORMAT),
        BAD("close 1006", "\x88\x02\x03\xee", -BARRA_EFORMAT),
        BAD("close 1015", "\x88\x02\x03\xf7", -BARRA_EFORMAT),
        BAD("close 1016", "\x88\x02\x03\xf8", -BARRA_EFORMAT),
        BAD("close 2999", "\x88\x02\x0b\xb7", -BARRA_EFORMAT),
        BAD("close 5000", "\x88\x02\x13\x88", -BARRA_EFORMAT),
        BAD("close reason not UTF-8", "\x88\x04\x03\xe8\xff\xfe", -BARRA_EILSEQ),
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct bad_case *c = &cases[i];
        struct run r;
        feed_both(&r, 16, (const uint8_t *)c->bytes, c->len);
        if (r.status != c->err) {
            fail_msg("%s: got %d, want %d", c->what, r.status, c->err);
        }
        run_free(&r);
    }
    /* The messages before an error come out; nothing after it. */
    struct run r;
    static const uint8_t s[] = {0x81, 0x01, 'a', 0x89, 0x00, 0x81, 0x81, 0, 0, 0, 0, 'b'};
    feed_both(&r, 0, s, sizeof(s));
    assert_int_equal(r.status, -BARRA_EFORMAT);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.consumed, 7);
    run_free(&r);

    assert_int_equal(ws_close_code_for(-BARRA_EFORMAT), WS_CLOSE_PROTOCOL_ERROR);
    assert_int_equal(ws_close_code_for(-BARRA_EILSEQ), WS_CLOSE_INVALID_DATA);
    assert_int_equal(ws_close_code_for(-BARRA_ELIMIT), WS_CLOSE_TOO_BIG);
}

/* ---- Encoding ---- */

static void test_encode(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 5, 125, 126, 127, 65535, 65536, 70001};
    uint8_t *payload = malloc(70001);
    assert_non_null(payload);
    for (size_t i = 0; i < 70001; i++) {
        payload[i] = (uint8_t)(i * 31 + 7);
    }
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t n = sizes[k];
        struct buf b;
        buf_init(&b, 0);
        assert_int_equal(ws_encode(&b, WS_OP_BINARY, payload, n), 0);
        size_t first = b.len;
        assert_int_equal(ws_encode(&b, WS_OP_BINARY, payload, n), 0); /* appends */
        assert_int_equal(b.len, 2 * first);
        assert_int_equal(first, n + 4 + (n < 126 ? 2 : n <= 0xFFFF ? 4 : 10));
        int op = 0;
        size_t len = 0, slen = 0;
        uint8_t *server = NULL;
        uint8_t *got = unmask((const uint8_t *)b.data, first, &op, &len, &server, &slen);
        assert_int_equal(op, WS_OP_BINARY);
        assert_int_equal(len, n);
        assert_memory_equal(got, payload, n);
        if (n >= 8) { /* fresh masks: the two frames differ */
            assert_memory_not_equal(b.data, b.data + first, first);
        }
        /* And the decoder reads the unmasked form back. */
        struct run r;
        feed(&r, 0, server, slen, 0);
        assert_int_equal(r.status, 0);
        assert_int_equal(r.count, 1);
        assert_int_equal(r.msgs[0].len, n);
        assert_memory_equal(r.msgs[0].data, payload, n);
        run_free(&r);
        free(got);
        free(server);
        buf_done(&b);
    }
    free(payload);

    /* The masked example of §5.7, made by the encoder: "Hello" as a text frame. */
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(ws_encode(&b, WS_OP_TEXT, "Hello", 5), 0);
    assert_int_equal(b.len, 11);
    assert_int_equal((uint8_t)b.data[0], 0x81);
    assert_int_equal((uint8_t)b.data[1], 0x85);
    int op = 0;
    size_t len = 0, slen = 0;
    uint8_t *server = NULL;
    uint8_t *got = unmask((const uint8_t *)b.data, b.len, &op, &len, &server, &slen);
    static const uint8_t hello[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    assert_int_equal(slen, sizeof(hello));
    assert_memory_equal(server, hello, sizeof(hello));
    free(got);
    free(server);

    /* Control frames and text rules. */
    buf_clear(&b);
    char big[126];
    memset(big, 'p', sizeof(big));
    assert_int_equal(ws_encode(&b, WS_OP_PING, big, 125), 0);
    assert_int_equal(ws_encode(&b, WS_OP_PONG, big, 0), 0);
    assert_int_equal(ws_encode(&b, WS_OP_CLOSE, "\x03\xe8", 2), 0);
    size_t before = b.len;
    assert_int_equal(ws_encode(&b, WS_OP_PING, big, 126), -BARRA_EINVAL);
    assert_int_equal(ws_encode(&b, WS_OP_CLOSE, big, 126), -BARRA_EINVAL);
    assert_int_equal(ws_encode(&b, WS_OP_CONTINUATION, "x", 1), -BARRA_EINVAL);
    assert_int_equal(ws_encode(&b, 3, "x", 1), -BARRA_EINVAL);
    assert_int_equal(ws_encode(&b, WS_OP_TEXT, "\xc3\x28", 2), -BARRA_EINVAL);
    assert_int_equal(ws_encode(&b, WS_OP_TEXT, NULL, 1), -BARRA_EINVAL);
    assert_int_equal(b.len, before);
    assert_int_equal(ws_encode(&b, WS_OP_TEXT, NULL, 0), 0);
    buf_done(&b);

    /* A buffer's limit holds. */
    buf_init(&b, 10);
    assert_int_equal(ws_encode(&b, WS_OP_BINARY, "0123456789", 10), -BARRA_ELIMIT);
    buf_done(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_example),
        cmocka_unit_test(test_upgrade_ok),
        cmocka_unit_test(test_upgrade_refused),
        cmocka_unit_test(test_rfc_examples),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_protocol_errors),
        cmocka_unit_test(test_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
