/* SPDX-License-Identifier: Apache-2.0 */
/* The WebSocket client's readers on arbitrary server bytes: ws_parse_upgrade on the input (as the
 * answer to RFC 6455 §1.3's key), then the frame decoder on what follows a valid head, or on the
 * whole input when there is none. The decoder is fed all at once and one byte at a time, which
 * must agree message for message and on where an error is; every message keeps the codec's
 * promises (valid opcode, text and close reasons UTF-8, sizes within their limits). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connect/ws-frame.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MESSAGE 4096

static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";

struct trace {
    uint64_t hash;
    size_t count, consumed;
    int status;
};

static void mix(struct trace *t, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        t->hash = (t->hash ^ b[i]) * 0x100000001b3ull;
    }
}

static void check(const struct ws_message *m)
{
    bool control = m->opcode == WS_OP_CLOSE || m->opcode == WS_OP_PING || m->opcode == WS_OP_PONG;
    if ((!control && m->opcode != WS_OP_TEXT && m->opcode != WS_OP_BINARY) || m->data == NULL ||
        m->data[m->len] != 0 || (control && m->len > WS_MAX_CONTROL) || m->len > MAX_MESSAGE ||
        (m->opcode == WS_OP_TEXT && !utf8_is_valid((const char *)m->data, m->len))) {
        abort();
    }
    if (m->opcode == WS_OP_CLOSE) {
        bool empty = m->len == 0 && m->close_code == WS_CLOSE_NO_STATUS && m->close_reason_len == 0;
        bool coded = m->len >= 2 && m->close_code >= 1000 && m->close_code != WS_CLOSE_NO_STATUS &&
                     m->close_reason_len == m->len - 2 &&
                     m->close_reason == (const char *)m->data + 2 &&
                     utf8_is_valid(m->close_reason, m->close_reason_len);
        if (!empty && !coded) {
            abort();
        }
    } else if (m->close_code != 0) {
        abort();
    }
}

/* Decodes data[0..n) in chunks of `step` bytes (0: all at once). */
static void run(const uint8_t *data, size_t n, size_t step, struct trace *t)
{
    memset(t, 0, sizeof(*t));
    t->hash = 0xcbf29ce484222325ull;
    struct ws_decoder d;
    ws_decoder_init(&d, MAX_MESSAGE);
    size_t pos = 0;
    while (pos < n && t->status == 0) {
        size_t chunk = step == 0 || n - pos < step ? n - pos : step, off = 0;
        while (t->status == 0) {
            size_t used = 0;
            struct ws_message m;
            int r = ws_decode(&d, data + pos + off, chunk - off, &used, &m, NULL);
            if (used > chunk - off) {
                abort();
            }
            off += used;
            if (r < 0) {
                t->status = r;
            } else if (r == 1) {
                check(&m);
                t->count++;
                mix(t, &m.opcode, sizeof(m.opcode));
                mix(t, &m.len, sizeof(m.len));
                mix(t, m.data, m.len);
            } else if (off != chunk) {
                abort();
            } else {
                break;
            }
        }
        pos += off;
        if (t->status == 0 && off != chunk) {
            abort();
        }
    }
    t->consumed = pos;
    ws_decoder_done(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t consumed = 0, again = 0;
    int status = 0;
    int r = ws_parse_upgrade((const char *)data, size, key, &consumed, &status, NULL);
    if (r == 0) {
        /* The head alone parses the same; one byte less needs more. */
        if (status != 101 || consumed > size || consumed > WS_MAX_HEAD ||
            ws_parse_upgrade((const char *)data, consumed, key, &again, &status, NULL) != 0 ||
            again != consumed ||
            ws_parse_upgrade((const char *)data, consumed - 1, key, &again, &status, NULL) != 1) {
            abort();
        }
    } else if (r == 1) {
        if (size >= WS_MAX_HEAD) {
            abort();
        }
        consumed = 0;
    } else if (r != -BARRA_EFORMAT && r != -BARRA_ELIMIT) {
        abort();
    } else {
        consumed = 0;
    }
    struct trace whole, bytes;
    run(data + consumed, size - consumed, 0, &whole);
    run(data + consumed, size - consumed, 1, &bytes);
    if (whole.hash != bytes.hash || whole.count != bytes.count || whole.status != bytes.status ||
        whole.consumed != bytes.consumed) {
        abort();
    }
    return 0;
}
