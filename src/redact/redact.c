/* SPDX-License-Identifier: Apache-2.0 */
/* Applying masks, pseudonyms and removals to spans of a text. */
#include "config.h"

#include "redact/redact.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "redact/redact-key.h"

#include "core/banned.h"

const char *redact_kind_name(enum redact_kind k)
{
    switch (k) {
    case REDACT_MASK:
        return "mask";
    case REDACT_PARTIAL:
        return "partial";
    case REDACT_PSEUDONYM:
        return "pseudonym";
    case REDACT_REMOVE:
        return "remove";
    }
    return "?";
}

/* Length of the UTF-8 sequence starting at p (1 for a broken one, so progress is always made). */
static size_t seq_len(const unsigned char *p, size_t avail)
{
    size_t n = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 1;
    if (n > avail) {
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 1;
        }
    }
    return n;
}

/* Separators (spaces, hyphens, brackets, dots, slashes, plus signs, their full-width forms) stay
 * visible in a mask, so a masked value keeps its shape and the text stays readable. */
static bool is_separator(const unsigned char *p, size_t n)
{
    if (n == 1) {
        unsigned char c = p[0];
        return !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
    }
    if (n == 3) {
        static const char *const wide[] = {"\u3000", "\uff08", "\uff09", "\uff0d", "\uff0e",
                                           "\uff0f", "\uff0b", "\u2010", "\u2011", "\u2013"};
        for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
            if (memcmp(p, wide[i], 3) == 0) {
                return true;
            }
        }
    }
    return false;
}

static int write_mask(const char *v, size_t n, uint32_t keep_last, redact_write_fn write, void *ud)
{
    const unsigned char *p = (const unsigned char *)v;
    size_t chars = 0;
    for (size_t i = 0; i < n;) {
        size_t l = seq_len(p + i, n - i);
        chars += !is_separator(p + i, l);
        i += l;
    }
    size_t masked = chars > keep_last ? chars - keep_last : 0, seen = 0;
    for (size_t i = 0; i < n;) {
        size_t l = seq_len(p + i, n - i);
        bool sep = is_separator(p + i, l);
        int r = (sep || seen >= masked) ? write(ud, v + i, l) : write(ud, "*", 1);
        if (r < 0) {
            return r;
        }
        seen += !sep;
        i += l;
    }
    return 0;
}

static int write_pseudonym(const struct redact_span *s, const barra_key_t *key,
                           redact_write_fn write, void *ud)
{
    if (key == NULL) {
        return -BARRA_EINVAL;
    }
    char label[96];
    int ln = snprintf(label, sizeof(label), "barra/pseudonym/v1%c%s%c", 0, s->type, 0);
    if (ln < 0 || (size_t)ln >= sizeof(label)) {
        return -BARRA_EINVAL;
    }
    uint8_t mac[32];
    int r = redact_key_hmac(key, label, (size_t)ln, s->normalized, s->normalized_len, mac);
    if (r < 0) {
        return r;
    }
    char out[96];
    int on = snprintf(out, sizeof(out), "<%s:%02x%02x%02x%02x%02x%02x%02x%02x>", s->type, mac[0],
                      mac[1], mac[2], mac[3], mac[4], mac[5], mac[6], mac[7]);
    if (on < 0 || (size_t)on >= sizeof(out)) {
        return -BARRA_EINVAL;
    }
    return write(ud, out, (size_t)on);
}

int redact_apply(const char *text, size_t len, const struct redact_span *spans, size_t n,
                 const barra_key_t *key, redact_write_fn write, void *userdata)
{
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const struct redact_span *s = &spans[i];
        if (s->start < at || s->end > len || s->end <= s->start) {
            continue;
        }
        int r = write(userdata, text + at, s->start - at);
        if (r < 0) {
            return r;
        }
        const char *v = text + s->start;
        size_t vn = s->end - s->start;
        switch (s->method.kind) {
        case REDACT_MASK:
            r = write_mask(v, vn, 0, write, userdata);
            break;
        case REDACT_PARTIAL:
            r = write_mask(v, vn, s->method.keep_last, write, userdata);
            break;
        case REDACT_PSEUDONYM:
            r = write_pseudonym(s, key, write, userdata);
            break;
        case REDACT_REMOVE:
            r = 0;
            break;
        }
        if (r < 0) {
            return r;
        }
        at = s->end;
    }
    return write(userdata, text + at, len - at);
}

int redact_reference(const barra_key_t *key, const char *type, const char *value, size_t len,
                     char out[77])
{
    char label[96];
    int ln = snprintf(label, sizeof(label), "barra/ref/v1%c%s%c", 0, type, 0);
    if (ln < 0 || (size_t)ln >= sizeof(label)) {
        return -BARRA_EINVAL;
    }
    uint8_t mac[32];
    int r = redact_key_hmac(key, label, (size_t)ln, value, len, mac);
    if (r < 0) {
        return r;
    }
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "hmac-sha256:", 12);
    for (size_t i = 0; i < 32; i++) {
        out[12 + 2 * i] = hex[mac[i] >> 4];
        out[12 + 2 * i + 1] = hex[mac[i] & 15];
    }
    out[76] = '\0';
    return 0;
}
