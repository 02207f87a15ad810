/* SPDX-License-Identifier: Apache-2.0 */
/* JSON values written into a buffer (see jsonw.h). */
#include "config.h"

#include "core/jsonw.h"

#include <string.h>

#include "core/utf8.h"

#include "core/banned.h"

int jsonw_string_n(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (s == NULL) {
        return buf_append(b, "null", 4);
    }
    int r = buf_reserve(b, n + 2);
    if (r < 0) {
        return r;
    }
    r = buf_append_char(b, '"');
    const uint8_t *p = (const uint8_t *)s, *end = p + n;
    while (r == 0 && p < end) {
        /* Copy the longest run that needs no escaping in one go. */
        const uint8_t *run = p;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
            p++;
        }
        if (p > run && (r = buf_append(b, run, (size_t)(p - run))) < 0) {
            break;
        }
        if (p == end) {
            break;
        }
        if (*p >= 0x80) {
            uint32_t cp;
            size_t len = utf8_decode(p, end, &cp);
            if (len == 1) { /* a non-ASCII byte alone: a broken sequence */
                r = buf_append(b, "\xef\xbf\xbd", 3);
                p++;
            } else {
                r = buf_append(b, p, len);
                p += len;
            }
            continue;
        }
        char esc[7] = {'\\', 0};
        switch (*p) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            break;
        }
        r = buf_append(b, esc, esc[1] == 'u' ? 6 : 2);
        p++;
    }
    return r < 0 ? r : buf_append_char(b, '"');
}

int jsonw_string(struct buf *b, const char *s)
{
    return jsonw_string_n(b, s, s ? strlen(s) : 0);
}

int jsonw_key(struct buf *b, const char *key)
{
    int r = jsonw_string(b, key);
    return r < 0 ? r : buf_append_char(b, ':');
}

int jsonw_uint(struct buf *b, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return buf_append(b, tmp + sizeof(tmp) - n, n);
}

int jsonw_score(struct buf *b, double v)
{
    if (!(v >= 0)) {
        v = 0;
    }
    uint64_t milli = (uint64_t)(v * 1000 + 0.5);
    int r = jsonw_uint(b, milli / 1000);
    unsigned frac = (unsigned)(milli % 1000);
    if (r == 0 && frac) {
        char d[5] = {'.', (char)('0' + frac / 100), (char)('0' + frac / 10 % 10),
                     (char)('0' + frac % 10), 0};
        size_t len = 4;
        while (d[len - 1] == '0') {
            len--;
        }
        r = buf_append(b, d, len);
    }
    return r;
}
