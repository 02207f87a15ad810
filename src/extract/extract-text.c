/* SPDX-License-Identifier: Apache-2.0 */
/* Text in the encodings Chinese text comes in, detected rather than assumed: a byte-order mark
 * (UTF-8, UTF-16 LE/BE), else valid UTF-8, else GB18030 or Big5 — both decoded with iconv, and the
 * one whose characters are common Chinese ones wins (a Big5 text read as GB18030 decodes, but into
 * rare characters). Text is handed on in pieces of at most 1 MiB, cut at line ends. */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/utf8.h"
#include "extract/extract-int.h"

#include "core/banned.h"

#define PIECE (1u << 20)

/* The converters, opened once and kept: the worker opens them before its seccomp filter, since
 * iconv loads its modules from files. */
static const char *const charsets[] = {"UTF-16LE",   "UTF-16BE",   "GB18030",
                                       "BIG5-HKSCS", "ISO-8859-1", "WINDOWS-1252",
                                       "UTF-16",     "SHIFT_JIS",  "EUC-KR"};
enum { NCHARSETS = sizeof(charsets) / sizeof(charsets[0]) };
static iconv_t converters[NCHARSETS];
static bool converters_open;

void ex_text_warm_up(void)
{
    if (converters_open) {
        return;
    }
    for (size_t i = 0; i < NCHARSETS; i++) {
        converters[i] = iconv_open("UTF-8", charsets[i]);
    }
    converters_open = true;
}

iconv_t ex_iconv(const char *charset)
{
    static const struct {
        const char *alias, *name;
    } aliases[] = {{"big5", "BIG5-HKSCS"},
                   {"gb2312", "GB18030"},
                   {"gbk", "GB18030"},
                   {"latin1", "ISO-8859-1"},
                   {"cp1252", "WINDOWS-1252"}};
    ex_text_warm_up();
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        if (strcasecmp(charset, aliases[i].alias) == 0) {
            charset = aliases[i].name;
        }
    }
    for (size_t i = 0; i < NCHARSETS; i++) {
        if (strcasecmp(charsets[i], charset) == 0) {
            return converters[i];
        }
    }
    return (iconv_t)-1;
}

/* Decodes d[0..n) from `charset` into a new UTF-8 buffer; NULL when it is not valid in it. */
static char *convert(const char *charset, const uint8_t *d, size_t n, size_t *ret_len)
{
    iconv_t cd = ex_iconv(charset);
    if (cd == (iconv_t)-1) {
        return NULL;
    }
    (void)iconv(cd, NULL, NULL, NULL, NULL); /* back to the initial state */
    size_t cap = n * 2 + 16; /* UTF-16 and the CJK encodings at most grow 3:2, U+FFFF 3:2 too */
    char *out = barra_malloc(cap), *in = (char *)(uintptr_t)d, *o = out;
    size_t left = n, room = cap;
    bool ok = out != NULL && iconv(cd, &in, &left, &o, &room) != (size_t)-1 && left == 0;
    if (!ok) {
        barra_free(out);
        return NULL;
    }
    *ret_len = (size_t)(o - out);
    return out;
}

/* Characters among the most frequent of written Chinese, in both scripts. */
static const char common[] = "的一是不了人在有我他這这個个們们中大為为上來来說说國国年號号證证"
                             "身份日月時时會会到要以也就出和會對对生地於于公司員员工資资請请電电"
                             "話话客戶户名字地址銀银行卡本人已經经可能用過过還还將将與与及其";

static size_t common_share(const char *s, size_t n)
{
    size_t hits = 0;
    const uint8_t *p = (const uint8_t *)s, *end = p + n;
    while (p < end) {
        uint32_t cp;
        size_t k = utf8_decode(p, end, &cp);
        k = k ? k : 1;
        if (cp >= 0x4E00 && cp <= 0x9FFF) {
            char ch[5] = {0};
            memcpy(ch, p, k < 4 ? k : 4);
            hits += strstr(common, ch) != NULL;
        }
        p += k;
    }
    return hits;
}

static int emit_pieces(struct ex_ctx *c, const char *path, const char *s, size_t n)
{
    size_t off = 0;
    while (off < n && !ex_stopped(c)) {
        size_t k = n - off < PIECE ? n - off : PIECE;
        if (off + k < n) {
            const char *nl = memrchr(s + off, '\n', k);
            k = nl ? (size_t)(nl - (s + off)) + 1 : utf8_complete_prefix(s + off, k);
        }
        if (k == 0) {
            break;
        }
        (void)ex_emit(c, path, "", s + off, k);
        off += k;
    }
    return c->stop;
}

/* UTF-8 with bad bytes that no other encoding explains: noted, and handed on as it is (ex_emit
 * replaces each bad sequence with U+FFFD), so that what is readable is still classified. */
static int lossy_utf8(struct ex_ctx *c, const uint8_t *d, size_t n, const char *path)
{
    ex_notef(c, path, EX_NOTE_CORRUPT,
             "invalid UTF-8, and not GB18030 or Big5 either: read with the bad bytes replaced");
    return emit_pieces(c, path, (const char *)d, n);
}

int ex_text(struct ex_ctx *c, const uint8_t *d, size_t n, const char *path)
{
    static const uint8_t bom8[] = {0xef, 0xbb, 0xbf};
    const char *charset = NULL;
    size_t skip = 0;
    if (n == 0) {
        return 0;
    }
    if (n >= 3 && memcmp(d, bom8, 3) == 0) {
        skip = 3;
    } else if (n >= 2 && d[0] == 0xff && d[1] == 0xfe) {
        charset = "UTF-16LE";
        skip = 2;
    } else if (n >= 2 && d[0] == 0xfe && d[1] == 0xff) {
        charset = "UTF-16BE";
        skip = 2;
    }
    d += skip;
    n -= skip;
    if (charset == NULL && utf8_is_valid((const char *)d, n)) {
        if (memchr(d, '\0', n)) {
            ex_notef(c, path, EX_NOTE_UNSUPPORTED, "binary content of an unknown type");
            return 0;
        }
        return emit_pieces(c, path, (const char *)d, n);
    }
    size_t len = 0, len2 = 0;
    char *text = charset ? convert(charset, d, n, &len) : NULL;
    if (charset == NULL) {
        char *gb = convert("GB18030", d, n, &len), *big5 = convert("BIG5-HKSCS", d, n, &len2);
        if (gb && big5) { /* both decode: the one that reads as common Chinese */
            bool pick_big5 = common_share(big5, len2) > common_share(gb, len);
            text = pick_big5 ? big5 : gb;
            barra_free(pick_big5 ? gb : big5);
            len = pick_big5 ? len2 : len;
        } else {
            text = gb ? gb : big5;
            len = gb ? len : len2;
        }
    }
    if (text == NULL && charset == NULL && memchr(d, '\0', n) == NULL) {
        return lossy_utf8(c, d, n, path);
    }
    if (text == NULL || memchr(text, '\0', len)) {
        barra_free(text);
        ex_notef(c, path, EX_NOTE_UNSUPPORTED,
                 "neither text in UTF-8, UTF-16, GB18030 or Big5 nor a known file type");
        return 0;
    }
    int r = emit_pieces(c, path, text, len);
    explicit_bzero(text, len);
    barra_free(text);
    return r;
}
