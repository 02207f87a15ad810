/* SPDX-License-Identifier: Apache-2.0 */
/* E-mail (RFC 5322 with MIME, as .eml files are saved) and HTML. A message gives its headers
 * (From, To, Cc, Subject, with RFC 2047 encoded words decoded: they name people) as "headers",
 * each text part decoded (base64, quoted-printable) and converted from its charset, and each
 * attachment extracted in its turn as "mail.eml/report.docx". HTML becomes its text: tags dropped,
 * scripts and styles skipped, entities decoded. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/utf8.h"
#include "extract/extract-int.h"

#include "core/banned.h"

enum { MAX_MIME_DEPTH = 8 };

/* ---- small decoders ---- */

static int b64_value(int c)
{
    return c >= 'A' && c <= 'Z'   ? c - 'A'
           : c >= 'a' && c <= 'z' ? c - 'a' + 26
           : c >= '0' && c <= '9' ? c - '0' + 52
           : c == '+'             ? 62
           : c == '/'             ? 63
                                  : -1;
}

/* Base64, skipping line breaks and anything else outside the alphabet (as mail readers do). */
static void base64_decode(const char *s, size_t n, struct buf *out)
{
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0) {
            continue;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            (void)buf_append_char(out, (char)(acc >> bits & 0xff));
        }
    }
}

static int hex_value(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : -1;
}

/* Quoted-printable; `header` also reads '_' as a space (RFC 2047's Q encoding). */
static void qp_decode(const char *s, size_t n, bool header, struct buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=' && i + 2 < n && hex_value((unsigned char)s[i + 1]) >= 0 &&
            hex_value((unsigned char)s[i + 2]) >= 0) {
            (void)buf_append_char(out, (char)(hex_value((unsigned char)s[i + 1]) * 16 +
                                              hex_value((unsigned char)s[i + 2])));
            i += 2;
        } else if (s[i] == '=' && i + 1 < n && (s[i + 1] == '\n' || s[i + 1] == '\r')) {
            i += s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n' ? 2 : 1; /* soft break */
        } else {
            (void)buf_append_char(out, header && s[i] == '_' ? ' ' : s[i]);
        }
    }
}

/* Appends s[0..n) in `charset` as UTF-8 (invalid input bytes dropped). */
static void to_utf8(const char *charset, const char *s, size_t n, struct buf *out)
{
    if (charset == NULL || charset[0] == '\0' || strcasecmp(charset, "utf-8") == 0 ||
        strcasecmp(charset, "us-ascii") == 0) {
        (void)buf_append(out, s, n);
        return;
    }
    /* GB2312 and GBK text is valid GB18030, which is the one converter opened ahead. */
    const char *from =
        strcasecmp(charset, "gb2312") == 0 || strcasecmp(charset, "gbk") == 0 ? "GB18030" : charset;
    iconv_t cd = ex_iconv(from);
    if (cd == (iconv_t)-1) {
        (void)buf_append(out, s, n); /* an unknown charset: the bytes as they are */
        return;
    }
    (void)iconv(cd, NULL, NULL, NULL, NULL);
    char *in = (char *)(uintptr_t)s;
    size_t left = n;
    while (left > 0 && !out->err) {
        char chunk[4096], *o = chunk;
        size_t room = sizeof(chunk);
        size_t r = iconv(cd, &in, &left, &o, &room);
        (void)buf_append(out, chunk, (size_t)(o - chunk));
        if (r == (size_t)-1 && errno != E2BIG) { /* a bad byte: skip it */
            in++;
            left--;
        }
    }
}

/* ---- headers ---- */

/* The value of header `name` in head[0..n) (unfolded, without the name), or false. */
static bool header(const char *head, size_t n, const char *name, struct buf *out)
{
    size_t k = strlen(name);
    for (size_t i = 0; i < n;) {
        const char *line = head + i, *eol = memchr(line, '\n', n - i);
        size_t len = eol ? (size_t)(eol - line) : n - i;
        if (len > k && strncasecmp(line, name, k) == 0 && line[k] == ':') {
            buf_clear(out);
            (void)buf_append(out, line + k + 1, len - k - 1);
            i += len + 1;
            while (i < n && (head[i] == ' ' || head[i] == '\t')) { /* folded lines */
                const char *cont = head + i, *e2 = memchr(cont, '\n', n - i);
                size_t l2 = e2 ? (size_t)(e2 - cont) : n - i;
                (void)buf_append(out, cont, l2);
                i += l2 + 1;
            }
            while (out->len &&
                   (out->data[out->len - 1] == '\r' || out->data[out->len - 1] == ' ')) {
                out->data[--out->len] = '\0';
            }
            return true;
        }
        i += len + 1;
    }
    return false;
}

/* A parameter of a header value ("boundary", "charset", "filename", "name"), unquoted. */
static bool param(const char *value, const char *name, char *out, size_t size)
{
    size_t k = strlen(name);
    for (const char *p = value; (p = strcasestr(p, name)) != NULL; p += k) {
        if ((p != value && !(p[-1] == ';' || p[-1] == ' ' || p[-1] == '\t')) || p[k] != '=') {
            continue;
        }
        const char *v = p + k + 1;
        bool quoted = *v == '"';
        v += quoted;
        size_t len = strcspn(v, quoted ? "\"" : "; \t\r\n");
        (void)snprintf(out, size, "%.*s", (int)(len < size ? len : size - 1), v);
        return true;
    }
    return false;
}

/* RFC 2047 encoded words (=?charset?B|Q?text?=) decoded; the rest as it is. */
static void decode_words(const char *s, size_t n, struct buf *out)
{
    size_t i = 0;
    while (i < n) {
        const char *start = memmem(s + i, n - i, "=?", 2);
        if (start == NULL) {
            (void)buf_append(out, s + i, n - i);
            return;
        }
        (void)buf_append(out, s + i, (size_t)(start - (s + i)));
        const char *q1 = memchr(start + 2, '?', (size_t)(s + n - start - 2));
        const char *q2 = q1 && q1 + 2 < s + n && q1[2] == '?' ? q1 + 2 : NULL;
        const char *end = q2 ? memmem(q2 + 1, (size_t)(s + n - q2 - 1), "?=", 2) : NULL;
        if (end == NULL) {
            (void)buf_append(out, start, 2);
            i = (size_t)(start - s) + 2;
            continue;
        }
        char charset[64];
        (void)snprintf(charset, sizeof(charset), "%.*s", (int)(q1 - start - 2), start + 2);
        struct buf raw;
        buf_init(&raw, 0);
        if (q1[1] == 'B' || q1[1] == 'b') {
            base64_decode(q2 + 1, (size_t)(end - q2 - 1), &raw);
        } else {
            qp_decode(q2 + 1, (size_t)(end - q2 - 1), true, &raw);
        }
        to_utf8(charset, raw.data ? raw.data : "", raw.len, out);
        buf_done(&raw);
        i = (size_t)(end - s) + 2;
        /* white space between two encoded words is not part of the text */
        size_t j = i;
        while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n')) {
            j++;
        }
        if (j + 1 < n && s[j] == '=' && s[j + 1] == '?') {
            i = j;
        }
    }
}

/* ---- HTML ---- */

static const struct {
    const char *name;
    const char *utf8;
} entities[] = {{"amp", "&"},  {"lt", "<"},     {"gt", ">"},    {"quot", "\""},
                {"apos", "'"}, {"nbsp", " "},   {"ensp", " "},  {"emsp", " "},
                {"copy", "©"}, {"middot", "·"}, {"mdash", "—"}, {"ndash", "–"}};

void ex_html_text(const char *s, size_t n, struct buf *out)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] == '<') {
            const char *close = memchr(s + i, '>', n - i);
            if (close == NULL) {
                break;
            }
            size_t tl = (size_t)(close - (s + i));
            /* Blocks end lines, cells are apart, inline tags (b, span, a, ...) join. */
            static const struct {
                const char *tag;
                char sep;
            } seps[] = {{"p", '\n'},      {"/p", '\n'}, {"br", '\n'}, {"div", '\n'},
                        {"/div", '\n'},   {"tr", '\n'}, {"li", '\n'}, {"h1", '\n'},
                        {"h2", '\n'},     {"h3", '\n'}, {"h4", '\n'}, {"table", '\n'},
                        {"/table", '\n'}, {"td", '\t'}, {"th", '\t'}, {"/td", '\t'},
                        {"/th", '\t'}};
            char sepc = '\0';
            for (size_t k = 0; k < sizeof(seps) / sizeof(seps[0]) && !sepc; k++) {
                size_t bl = strlen(seps[k].tag);
                if (tl > bl && strncasecmp(s + i + 1, seps[k].tag, bl) == 0 &&
                    !isalnum((unsigned char)s[i + 1 + bl])) {
                    sepc = seps[k].sep;
                }
            }
            static const char *const skipped[] = {"script", "style"};
            for (size_t k = 0; k < 2; k++) {
                size_t kl = strlen(skipped[k]);
                if (tl > kl && strncasecmp(s + i + 1, skipped[k], kl) == 0) {
                    char endtag[16];
                    (void)snprintf(endtag, sizeof(endtag), "</%s", skipped[k]);
                    const char *e = strcasestr(close, endtag); /* NUL-free: checked by caller */
                    close = e && e < s + n ? memchr(e, '>', (size_t)(s + n - e)) : NULL;
                    close = close ? close : s + n - 1;
                }
            }
            if (sepc) {
                (void)buf_append_char(out, sepc);
            }
            i = (size_t)(close - s) + 1;
        } else if (s[i] == '&') {
            const char *semi = memchr(s + i, ';', n - i < 12 ? n - i : 12);
            bool done = false;
            if (semi && s[i + 1] == '#') {
                bool hex = s[i + 2] == 'x' || s[i + 2] == 'X';
                unsigned long cp = strtoul(s + i + 2 + hex, NULL, hex ? 16 : 10);
                char enc[4];
                size_t k = cp > 0 && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF)
                               ? utf8_encode((uint32_t)cp, enc)
                               : 0;
                (void)buf_append(out, enc, k);
                done = true;
            } else if (semi) {
                for (size_t k = 0; k < sizeof(entities) / sizeof(entities[0]) && !done; k++) {
                    size_t el = strlen(entities[k].name);
                    if ((size_t)(semi - (s + i + 1)) == el &&
                        strncmp(s + i + 1, entities[k].name, el) == 0) {
                        (void)buf_append_str(out, entities[k].utf8);
                        done = true;
                    }
                }
            }
            if (done) {
                i = (size_t)(semi - s) + 1;
            } else {
                (void)buf_append_char(out, '&');
                i++;
            }
        } else {
            const char *next = s + i;
            size_t k = strcspn(next, "<&");
            k = k > n - i ? n - i : k;
            (void)buf_append(out, next, k);
            i += k;
        }
    }
}

int ex_html(struct ex_ctx *c, const uint8_t *d, size_t n, const char *path)
{
    struct buf text;
    buf_init(&text, c->lim->max_file + 16);
    char *copy = barra_strndup((const char *)d, n); /* NUL-terminated for the searches */
    if (copy == NULL) {
        return c->stop = -BARRA_ENOMEM;
    }
    ex_html_text(copy, strlen(copy), &text);
    barra_free(copy);
    int r = text.err ? (c->stop = -BARRA_ENOMEM)
                     : ex_text(c, (const uint8_t *)text.data, text.len, path);
    buf_done(&text);
    return r;
}

/* ---- MIME ---- */

static void part(struct ex_ctx *c, const char *s, size_t n, const char *path, unsigned depth,
                 unsigned *attachments);

/* Splits a multipart body at its boundary lines and reads each part. */
static void multipart(struct ex_ctx *c, const char *body, size_t n, const char *boundary,
                      const char *path, unsigned depth, unsigned *attachments)
{
    char delim[220];
    int dl = snprintf(delim, sizeof(delim), "--%s", boundary);
    if (dl <= 2 || (size_t)dl >= sizeof(delim)) {
        return;
    }
    const char *p = memmem(body, n, delim, (size_t)dl);
    while (p && !ex_stopped(c)) {
        const char *start = p + dl;
        if (start + 2 <= body + n && start[0] == '-' && start[1] == '-') {
            return; /* the closing delimiter */
        }
        start = memchr(start, '\n', (size_t)(body + n - start));
        if (start == NULL) {
            return;
        }
        start++;
        const char *next = memmem(start, (size_t)(body + n - start), delim, (size_t)dl);
        const char *end = next ? next : body + n;
        part(c, start, (size_t)(end - start), path, depth + 1, attachments);
        p = next;
    }
}

static void part(struct ex_ctx *c, const char *s, size_t n, const char *path, unsigned depth,
                 unsigned *attachments)
{
    if (depth > MAX_MIME_DEPTH) {
        ex_notef(c, path, EX_NOTE_LIMIT, "MIME parts nested more than %d deep", MAX_MIME_DEPTH);
        return;
    }
    const char *sep = memmem(s, n, "\n\n", 2), *sep2 = memmem(s, n, "\r\n\r\n", 4);
    size_t head_len = sep2 && (!sep || sep2 < sep) ? (size_t)(sep2 - s) + 2
                      : sep                        ? (size_t)(sep - s) + 1
                                                   : n;
    const char *body = s + head_len + (sep2 && (!sep || sep2 < sep) ? 2 : sep ? 1 : 0);
    size_t body_len = body <= s + n ? (size_t)(s + n - body) : 0;
    struct buf ctype, cte, disp;
    buf_init(&ctype, 4096);
    buf_init(&cte, 256);
    buf_init(&disp, 4096);
    bool has_type = header(s, head_len, "Content-Type", &ctype);
    (void)header(s, head_len, "Content-Transfer-Encoding", &cte);
    (void)header(s, head_len, "Content-Disposition", &disp);
    const char *type =
        has_type && ctype.data ? ctype.data + strspn(ctype.data, " \t") : "text/plain";
    char boundary[200], charset[64] = "", name[256] = "";
    if (strncasecmp(type, "multipart/", 10) == 0 &&
        param(type, "boundary", boundary, sizeof(boundary))) {
        multipart(c, body, body_len, boundary, path, depth, attachments);
    } else {
        struct buf raw;
        buf_init(&raw, c->lim->max_file);
        const char *enc = cte.data ? cte.data + strspn(cte.data, " \t") : "";
        if (strncasecmp(enc, "base64", 6) == 0) {
            base64_decode(body, body_len, &raw);
        } else if (strncasecmp(enc, "quoted-printable", 16) == 0) {
            qp_decode(body, body_len, false, &raw);
        } else {
            (void)buf_append(&raw, body, body_len);
        }
        bool named = (disp.data && param(disp.data, "filename", name, sizeof(name))) ||
                     param(type, "name", name, sizeof(name));
        bool attachment = (disp.data && strncasecmp(disp.data + strspn(disp.data, " \t"),
                                                    "attachment", 10) == 0) ||
                          named || (strncasecmp(type, "text/", 5) != 0);
        if (raw.err) {
            ex_notef(c, path, EX_NOTE_LIMIT, "a part larger than %llu bytes",
                     (unsigned long long)c->lim->max_file);
        } else if (attachment) {
            char apath[4096];
            struct buf fname;
            buf_init(&fname, 1024);
            decode_words(name, strlen(name), &fname);
            if (fname.len == 0) {
                (void)buf_printf(&fname, "attachment-%u", *attachments + 1);
            }
            (*attachments)++;
            (void)snprintf(apath, sizeof(apath), "%s/%s", path, fname.data ? fname.data : "");
            buf_done(&fname);
            (void)ex_dispatch(c, (const uint8_t *)(raw.data ? raw.data : ""), raw.len, apath);
        } else {
            (void)param(type, "charset", charset, sizeof(charset));
            struct buf text;
            buf_init(&text, c->lim->max_file * 4 + 16);
            to_utf8(charset, raw.data ? raw.data : "", raw.len, &text);
            const char *t = text.data ? text.data : "";
            if (strncasecmp(type, "text/html", 9) == 0 && !text.err) {
                (void)ex_html(c, (const uint8_t *)t, text.len, path);
            } else if (!text.err && utf8_is_valid(t, text.len) && !memchr(t, '\0', text.len)) {
                (void)ex_emit(c, path, "body", t, text.len);
            } else if (!text.err) { /* a charset it did not name: the encodings are detected */
                (void)ex_text(c, (const uint8_t *)t, text.len, path);
            }
            buf_done(&text);
        }
        if (raw.data) {
            explicit_bzero(raw.data, raw.len);
        }
        buf_done(&raw);
    }
    buf_done(&ctype);
    buf_done(&cte);
    buf_done(&disp);
}

bool ex_is_mail(const uint8_t *d, size_t n)
{
    static const char *const starts[] = {
        "Received:",     "Return-Path:", "From:",         "MIME-Version:", "Message-ID:", "Date:",
        "Delivered-To:", "X-",           "Content-Type:", "To:",           "Subject:"};
    bool head = false;
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        size_t k = strlen(starts[i]);
        head |= n > k && strncasecmp((const char *)d, starts[i], k) == 0;
    }
    size_t probe = n < 16384 ? n : 16384;
    bool subject = (n > 8 && strncasecmp((const char *)d, "Subject:", 8) == 0) ||
                   memmem(d, probe, "\nSubject:", 9) != NULL;
    return head && subject && (memmem(d, probe, "\n\n", 2) || memmem(d, probe, "\r\n\r\n", 4));
}

int ex_mail(struct ex_ctx *c, const uint8_t *d, size_t n, const char *path)
{
    const char *s = (const char *)d;
    const char *sep = memmem(s, n, "\n\n", 2), *sep2 = memmem(s, n, "\r\n\r\n", 4);
    size_t head_len = sep2 && (!sep || sep2 < sep) ? (size_t)(sep2 - s)
                      : sep                        ? (size_t)(sep - s)
                                                   : n;
    struct buf v, heads;
    buf_init(&v, 1 << 16);
    buf_init(&heads, 1 << 18);
    static const char *const names[] = {"From", "To", "Cc", "Reply-To", "Subject"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (header(s, head_len, names[i], &v)) {
            const char *value = v.data ? v.data + strspn(v.data, " \t") : "";
            (void)buf_printf(&heads, "%s: ", names[i]);
            decode_words(value, strlen(value), &heads);
            (void)buf_append_char(&heads, '\n');
        }
    }
    if (heads.len && !heads.err && utf8_is_valid(heads.data, heads.len)) {
        (void)ex_emit(c, path, "headers", heads.data, heads.len);
    }
    buf_done(&v);
    buf_done(&heads);
    unsigned attachments = 0;
    part(c, s, n, path, 0, &attachments);
    return c->stop;
}
