/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "connect/ws-frame.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/utf8.h"

#include "core/banned.h"

/* RFC 6455 §1.3: appended to the key before hashing. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

#define WS_ACCEPT_CHARS 28 /* Base64 of a SHA-1 digest */

/* A decoder drops a reassembly buffer bigger than this once its message is handed out, so one large
 * message does not pin max_message bytes for the connection's life. */
#define WS_KEEP_BUFFER ((size_t)64 * 1024)

int ws_client_key(char out[WS_KEY_CHARS + 1])
{
    uint8_t raw[16];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        return -BARRA_EIO;
    }
    (void)EVP_EncodeBlock((unsigned char *)out, raw, sizeof(raw)); /* 24 characters and a NUL */
    return 0;
}

static bool accept_value(const char *key, char out[WS_ACCEPT_CHARS + 1])
{
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md && EVP_DigestInit_ex(md, EVP_sha1(), NULL) == 1 &&
              EVP_DigestUpdate(md, key, strlen(key)) == 1 &&
              EVP_DigestUpdate(md, ws_guid, sizeof(ws_guid) - 1) == 1 &&
              EVP_DigestFinal_ex(md, digest, &dlen) == 1 && dlen == 20;
    EVP_MD_CTX_free(md);
    if (ok) {
        (void)EVP_EncodeBlock((unsigned char *)out, digest, 20);
    }
    return ok;
}

bool ws_accept_ok(const char *key, const char *accept)
{
    char want[WS_ACCEPT_CHARS + 1];
    if (key == NULL || accept == NULL || strlen(accept) != WS_ACCEPT_CHARS ||
        !accept_value(key, want)) {
        return false;
    }
    return CRYPTO_memcmp(want, accept, WS_ACCEPT_CHARS) == 0;
}

/* ---- The opening handshake's response ---- */

static bool is_tchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool name_is(const char *name, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

static bool value_is(const char *v, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(v, want, n) == 0;
}

/* Whether the comma-separated list v[0..n) has the token `want` (case-insensitive). */
static bool list_has(const char *v, size_t n, const char *want)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) {
            i++;
        }
        size_t start = i;
        while (i < n && v[i] != ',') {
            i++;
        }
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t')) {
            end--;
        }
        if (end > start && value_is(v + start, end - start, want)) {
            return true;
        }
    }
    return false;
}

/* What the header lines said that matters. */
struct upgrade_headers {
    bool upgrade, connection, accept_seen, accept_good;
};

/* Checks one header line p[0..n) (without its CRLF). */
static int upgrade_header(const char *p, size_t n, const char *key, struct upgrade_headers *h,
                          struct barra_error *reterr)
{
    if (n == 0 || p[0] == ' ' || p[0] == '\t') {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "WebSocket handshake: folded header lines are not allowed");
    }
    const char *colon = memchr(p, ':', n);
    size_t nlen = colon ? (size_t)(colon - p) : 0;
    for (size_t i = 0; i < nlen; i++) {
        if (!is_tchar(p[i])) {
            nlen = 0;
        }
    }
    if (nlen == 0) {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "WebSocket handshake: a malformed header line in the response");
    }
    const char *v = colon + 1, *end = p + n;
    for (const char *q = v; q < end; q++) {
        if ((unsigned char)*q < 0x20 && *q != '\t') {
            return barra_error_set(reterr, -BARRA_EFORMAT,
                                   "WebSocket handshake: a control character in a header value");
        }
    }
    while (v < end && (*v == ' ' || *v == '\t')) {
        v++;
    }
    while (end > v && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }
    size_t vlen = (size_t)(end - v);
    if (name_is(p, nlen, "upgrade")) {
        if (!value_is(v, vlen, "websocket")) {
            return barra_error_set(reterr, -BARRA_EFORMAT,
                                   "WebSocket handshake: the response upgrades to something else");
        }
        h->upgrade = true;
    } else if (name_is(p, nlen, "connection")) {
        h->connection = h->connection || list_has(v, vlen, "upgrade");
    } else if (name_is(p, nlen, "sec-websocket-accept")) {
        if (h->accept_seen) {
            return barra_error_set(reterr, -BARRA_EFORMAT,
                                   "WebSocket handshake: Sec-WebSocket-Accept appears twice");
        }
        h->accept_seen = true;
        char accept[WS_ACCEPT_CHARS + 1];
        if (vlen == WS_ACCEPT_CHARS) {
            memcpy(accept, v, vlen);
            accept[vlen] = '\0';
            h->accept_good = ws_accept_ok(key, accept);
        }
    } else if ((name_is(p, nlen, "sec-websocket-extensions") ||
                name_is(p, nlen, "sec-websocket-protocol")) &&
               vlen > 0) {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "WebSocket handshake: the server chose an extension or subprotocol "
                               "the client did not offer");
    }
    return 0;
}

int ws_parse_upgrade(const char *data, size_t len, const char *key, size_t *consumed, int *status,
                     struct barra_error *reterr)
{
    *status = 0;
    size_t scan = len < WS_MAX_HEAD ? len : WS_MAX_HEAD;
    const char *blank = memmem(data, scan, "\r\n\r\n", 4);
    if (blank == NULL) {
        if (len >= WS_MAX_HEAD) {
            return barra_error_set(reterr, -BARRA_ELIMIT,
                                   "WebSocket handshake: the response head exceeds %zu bytes",
                                   WS_MAX_HEAD);
        }
        return 1;
    }
    const char *lines_end = blank + 2; /* every line up to here ends in CRLF */
    const char *eol = memmem(data, (size_t)(lines_end - data), "\r\n", 2);
    size_t slen = (size_t)(eol - data);
    /* HTTP/1.x SP 3DIGIT [SP reason] */
    if (slen < 12 || memcmp(data, "HTTP/1.", 7) != 0 || data[7] < '0' || data[7] > '9' ||
        data[8] != ' ' || data[9] < '1' || data[9] > '5' || data[10] < '0' || data[10] > '9' ||
        data[11] < '0' || data[11] > '9' || (slen > 12 && data[12] != ' ')) {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "WebSocket handshake: the response is not HTTP (no status line)");
    }
    *status = (data[9] - '0') * 100 + (data[10] - '0') * 10 + (data[11] - '0');
    if (*status != 101) {
        char reason[81];
        size_t n = 0;
        for (size_t i = 13; i < slen && n < sizeof(reason) - 1; i++) {
            char c = data[i];
            if (c < 0x20 || c >= 0x7F) {
                c = '?';
            }
            reason[n++] = c;
        }
        reason[n] = '\0';
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "WebSocket handshake: the server refused the upgrade with HTTP %d "
                               "\"%s\"",
                               *status, reason);
    }
    if (data[7] != '1') {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "WebSocket handshake: a 101 response must be HTTP/1.1");
    }
    struct upgrade_headers h = {0};
    for (const char *p = eol + 2; p < lines_end; p = eol + 2) {
        eol = memmem(p, (size_t)(lines_end - p), "\r\n", 2);
        int r = upgrade_header(p, (size_t)(eol - p), key, &h, reterr);
        if (r < 0) {
            return r;
        }
    }
    if (!h.upgrade || !h.connection) {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "WebSocket handshake: the 101 response lacks \"Upgrade: "
                               "websocket\" or \"Connection: upgrade\"");
    }
    if (!h.accept_good) {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "WebSocket handshake: Sec-WebSocket-Accept is %s",
                               h.accept_seen ? "wrong for the key sent" : "missing");
    }
    *consumed = (size_t)(blank + 4 - data);
    return 0;
}

/* ---- Frames ---- */

static bool is_control(int opcode)
{
    return opcode == WS_OP_CLOSE || opcode == WS_OP_PING || opcode == WS_OP_PONG;
}

int ws_encode(struct buf *out, int opcode, const void *payload, size_t len)
{
    bool control = is_control(opcode);
    if ((!control && opcode != WS_OP_TEXT && opcode != WS_OP_BINARY) ||
        (control && len > WS_MAX_CONTROL) || (len > 0 && payload == NULL) ||
        (opcode == WS_OP_TEXT && !utf8_is_valid(payload, len))) {
        return -BARRA_EINVAL;
    }
    uint8_t head[14];
    size_t n = 0;
    head[n++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        head[n++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xFFFF) {
        head[n++] = 0x80 | 126;
        head[n++] = (uint8_t)(len >> 8);
        head[n++] = (uint8_t)len;
    } else {
        head[n++] = 0x80 | 127;
        for (int shift = 56; shift >= 0; shift -= 8) {
            head[n++] = (uint8_t)((uint64_t)len >> shift);
        }
    }
    uint8_t *mask = head + n;
    if (RAND_bytes(mask, 4) != 1) {
        return -BARRA_EIO;
    }
    n += 4;
    if (len > SIZE_MAX - n) {
        return -BARRA_ELIMIT;
    }
    int r = buf_reserve(out, n + len);
    if (r == 0) {
        r = buf_append(out, head, n);
    }
    if (r == 0) {
        r = buf_append(out, payload, len);
    }
    if (r < 0) {
        return r;
    }
    uint8_t *p = (uint8_t *)out->data + out->len - len;
    for (size_t i = 0; i < len; i++) {
        p[i] ^= mask[i & 3];
    }
    return 0;
}

void ws_decoder_init(struct ws_decoder *d, size_t max_message)
{
    memset(d, 0, sizeof(*d));
    buf_init(&d->message, max_message ? max_message : WS_DEFAULT_MAX_MESSAGE);
    d->head_need = 2;
}

void ws_decoder_done(struct ws_decoder *d)
{
    buf_done(&d->message);
    explicit_bzero(d->control, sizeof(d->control));
}

uint16_t ws_close_code_for(int err)
{
    switch (err) {
    case -BARRA_EILSEQ:
        return WS_CLOSE_INVALID_DATA;
    case -BARRA_ELIMIT:
        return WS_CLOSE_TOO_BIG;
    case -BARRA_ENOMEM:
        return WS_CLOSE_INTERNAL;
    default:
        return WS_CLOSE_PROTOCOL_ERROR;
    }
}

static int fail(struct ws_decoder *d, struct barra_error *reterr, int code, const char *what)
{
    d->err = code;
    return barra_error_set(reterr, code, "WebSocket: %s", what);
}

/* Checks the first two bytes of a frame and works out how long its header is. */
static int head_start(struct ws_decoder *d, struct barra_error *reterr)
{
    uint8_t b0 = d->head[0], b1 = d->head[1];
    int op = b0 & 0x0F;
    bool control = is_control(op);
    if (b0 & 0x70) {
        return fail(d, reterr, -BARRA_EFORMAT, "a frame has reserved bits set");
    }
    if (b1 & 0x80) {
        return fail(d, reterr, -BARRA_EFORMAT, "the server masked a frame");
    }
    if (!control && op != WS_OP_CONTINUATION && op != WS_OP_TEXT && op != WS_OP_BINARY) {
        return fail(d, reterr, -BARRA_EFORMAT, "a frame has an unknown opcode");
    }
    if (control && !(b0 & 0x80)) {
        return fail(d, reterr, -BARRA_EFORMAT, "a control frame is fragmented");
    }
    if (control && (b1 & 0x7F) > WS_MAX_CONTROL) {
        return fail(d, reterr, -BARRA_EFORMAT, "a control frame is longer than 125 bytes");
    }
    if (op == WS_OP_CONTINUATION && d->message_opcode == 0) {
        return fail(d, reterr, -BARRA_EFORMAT, "a continuation frame continues no message");
    }
    if (op != WS_OP_CONTINUATION && !control && d->message_opcode != 0) {
        return fail(d, reterr, -BARRA_EFORMAT, "a message began inside a fragmented one");
    }
    d->fin = (b0 & 0x80) != 0;
    d->frame_opcode = op;
    size_t len7 = b1 & 0x7F;
    d->head_need = len7 == 126 ? 4 : len7 == 127 ? 10 : 2;
    return 0;
}

/* Reads the payload length once the header is complete. Strict: RFC 6455 §5.2 says the minimal
 * number of bytes MUST be used, so a 16-bit length below 126 or a 64-bit one below 65536 is a
 * protocol error (as is a 64-bit length with its most significant bit set). */
static int head_end(struct ws_decoder *d, struct barra_error *reterr)
{
    uint64_t len = d->head[1] & 0x7F;
    if (len == 126) {
        len = (uint64_t)d->head[2] << 8 | d->head[3];
        if (len < 126) {
            return fail(d, reterr, -BARRA_EFORMAT, "a 16-bit length is not minimal");
        }
    } else if (len == 127) {
        len = 0;
        for (size_t i = 2; i < 10; i++) {
            len = len << 8 | d->head[i];
        }
        if (len >> 63) {
            return fail(d, reterr, -BARRA_EFORMAT, "a 64-bit length has its top bit set");
        }
        if (len <= 0xFFFF) {
            return fail(d, reterr, -BARRA_EFORMAT, "a 64-bit length is not minimal");
        }
    }
    if (is_control(d->frame_opcode)) {
        d->control_len = 0;
    } else {
        if (len > d->message.max - d->message.len) {
            d->err = -BARRA_ELIMIT;
            return barra_error_set(reterr, -BARRA_ELIMIT,
                                   "WebSocket: a message is larger than the limit of %zu bytes",
                                   d->message.max);
        }
        if (d->frame_opcode != WS_OP_CONTINUATION) {
            d->message_opcode = d->frame_opcode;
        }
    }
    d->remaining = len;
    d->in_payload = true;
    return 0;
}

/* Codes a close frame may carry: RFC 6455 §7.4's defined ones (not 1004, nor 1005, 1006 and 1015,
 * which are never sent), 1012-1014 registered with IANA since, and the 3000-4999 ranges for
 * libraries and applications. */
static bool close_code_ok(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/* A close frame is complete: checks its code and reason. */
static int close_message(struct ws_decoder *d, struct ws_message *m, struct barra_error *reterr)
{
    size_t n = d->control_len;
    if (n == 1) {
        return fail(d, reterr, -BARRA_EFORMAT, "a close frame has a 1-byte payload");
    }
    m->close_code = WS_CLOSE_NO_STATUS;
    if (n >= 2) {
        m->close_code = (uint16_t)(d->control[0] << 8 | d->control[1]);
        m->close_reason = (const char *)d->control + 2;
        m->close_reason_len = n - 2;
        if (!close_code_ok(m->close_code)) {
            return fail(d, reterr, -BARRA_EFORMAT, "a close frame has an invalid code");
        }
        if (!utf8_is_valid(m->close_reason, m->close_reason_len)) {
            return fail(d, reterr, -BARRA_EILSEQ, "a close reason is not valid UTF-8");
        }
    }
    return 0;
}

/* A frame's payload is complete: returns 1 with a message, 0 to go on, or an error. */
static int frame_end(struct ws_decoder *d, struct ws_message *msg, struct barra_error *reterr)
{
    d->in_payload = false;
    d->head_len = 0;
    d->head_need = 2;
    if (is_control(d->frame_opcode)) {
        d->control[d->control_len] = '\0';
        struct ws_message m = {
            .opcode = d->frame_opcode, .data = d->control, .len = d->control_len};
        m.close_reason = "";
        if (d->frame_opcode == WS_OP_CLOSE) {
            int r = close_message(d, &m, reterr);
            if (r < 0) {
                return r;
            }
        }
        *msg = m;
        return 1;
    }
    if (!d->fin) {
        return 0;
    }
    const char *text = d->message.data ? d->message.data : "";
    if (d->message_opcode == WS_OP_TEXT && !utf8_is_valid(text, d->message.len)) {
        return fail(d, reterr, -BARRA_EILSEQ, "a text message is not valid UTF-8");
    }
    *msg = (struct ws_message){
        .opcode = d->message_opcode, .data = (const uint8_t *)text, .len = d->message.len};
    msg->close_reason = "";
    d->message_opcode = 0;
    d->release_message = true;
    return 1;
}

int ws_decode(struct ws_decoder *d, const uint8_t *data, size_t len, size_t *used,
              struct ws_message *msg, struct barra_error *reterr)
{
    *used = 0;
    if (d->err < 0) {
        return barra_error_set(reterr, d->err, "WebSocket: the stream failed before");
    }
    if (d->release_message) {
        d->release_message = false;
        if (d->message.cap > WS_KEEP_BUFFER) {
            buf_done(&d->message);
        } else {
            buf_clear(&d->message);
        }
    }
    size_t i = 0;
    int r = 0;
    for (;;) {
        if (!d->in_payload) {
            while (d->head_len < d->head_need && i < len) {
                d->head[d->head_len++] = data[i++];
            }
            if (d->head_len < d->head_need) {
                break;
            }
            if (d->head_len == 2) {
                r = head_start(d, reterr);
            }
            if (r == 0 && d->head_len == d->head_need) {
                r = head_end(d, reterr);
            }
            if (r < 0) {
                break;
            }
            if (!d->in_payload) {
                continue; /* an extended length follows */
            }
        }
        size_t take = len - i;
        if (d->remaining < take) {
            take = (size_t)d->remaining;
        }
        if (is_control(d->frame_opcode)) {
            memcpy(d->control + d->control_len, data + i, take);
            d->control_len += take;
        } else if (buf_append(&d->message, data + i, take) < 0) {
            r = fail(d, reterr, -BARRA_ENOMEM, "out of memory");
            break;
        }
        i += take;
        d->remaining -= take;
        if (d->remaining > 0) {
            break;
        }
        r = frame_end(d, msg, reterr);
        if (r != 0) {
            break;
        }
    }
    *used = i;
    return r;
}
