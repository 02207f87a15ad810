/* SPDX-License-Identifier: Apache-2.0 */
/* Excel 97–2003 workbooks (.xls, BIFF8). The "Workbook" stream is a run of records (type, size,
 * data). The workbook's globals come first: BOUNDSHEET8 names each sheet and gives the stream
 * offset of its own records; SST holds the shared strings, split over CONTINUE records when long;
 * FILEPASS means the workbook is encrypted. A sheet's records hold its cells: strings (LABELSST, an
 * index into SST; LABEL and RSTRING inline), numbers (NUMBER, RK, MULRK) and formulas (FORMULA,
 * with a string result in the STRING record after it). Cells are emitted as in .xlsx, "Staff!B2",
 * with their column's header as context. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/utf8.h"
#include "extract/extract-ole.h"

#include "core/banned.h"

enum {
    R_FORMULA = 0x0006,
    R_EOF = 0x000A,
    R_FILEPASS = 0x002F,
    R_CONTINUE = 0x003C,
    R_BOUNDSHEET = 0x0085,
    R_MULRK = 0x00BD,
    R_RSTRING = 0x00D6,
    R_SST = 0x00FC,
    R_LABELSST = 0x00FD,
    R_NUMBER = 0x0203,
    R_LABEL = 0x0204,
    R_STRING = 0x0207,
    R_RK = 0x027E,
    R_BOF = 0x0809,
};
enum { BIFF8 = 0x0600, MAX_SHARED = 1 << 20, MAX_NESTED = 16 };

static uint32_t le16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
    return le16(p) | le16(p + 2) << 16;
}

struct rec {
    uint32_t type;
    const uint8_t *p;
    size_t n;
    size_t next; /* the offset of the record after it */
};

static bool rec_at(const uint8_t *d, size_t n, size_t off, struct rec *r)
{
    if (off > n || n - off < 4 || n - off - 4 < le16(d + off + 2)) {
        return false;
    }
    r->type = le16(d + off);
    r->n = le16(d + off + 2);
    r->p = d + off + 4;
    r->next = off + 4 + r->n;
    return true;
}

/* Characters p[0..count) (one byte each, Latin-1, or UTF-16LE when `wide`) as UTF-8. */
static void chars_utf8(const uint8_t *p, size_t count, bool wide, struct buf *out)
{
    if (wide) {
        ex_utf16le(p, count * 2, false, out);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        char enc[4];
        (void)buf_append(out, enc, utf8_encode(p[i], enc));
    }
}

/* An XLUnicodeString in one record (LABEL, RSTRING, STRING): count, flags, characters. */
static bool unicode_string(const uint8_t *p, size_t n, struct buf *out)
{
    if (n < 3) {
        return false;
    }
    size_t count = le16(p);
    bool wide = p[2] & 1;
    size_t avail = (n - 3) / (wide ? 2 : 1);
    chars_utf8(p + 3, count < avail ? count : avail, wide, out);
    return true;
}

/* A ShortXLUnicodeString (a sheet's name): count (one byte), flags, characters. */
static void short_string(const uint8_t *p, size_t n, struct buf *out)
{
    bool wide = p[1] & 1;
    size_t avail = (n - 2) / (wide ? 2 : 1);
    chars_utf8(p + 2, p[0] < avail ? p[0] : avail, wide, out);
}

/* The SST record's data followed by its CONTINUE records, read as one. A string's characters
 * that go on into the next record start it with a new flags byte (they may change width there);
 * everything else just goes on. */
struct sst_reader {
    const uint8_t *d;
    size_t n;
    struct rec cur;
    size_t pos; /* in cur */
    bool ok;
};

static bool sst_next_segment(struct sst_reader *r)
{
    struct rec next;
    if (!rec_at(r->d, r->n, r->cur.next, &next) || next.type != R_CONTINUE) {
        return r->ok = false;
    }
    r->cur = next;
    r->pos = 0;
    return true;
}

static bool sst_bytes(struct sst_reader *r, uint8_t *out, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        while (r->pos == r->cur.n) {
            if (!sst_next_segment(r)) {
                return false;
            }
        }
        uint8_t b = r->cur.p[r->pos++];
        if (out) {
            out[i] = b;
        }
    }
    return true;
}

static bool sst_skip(struct sst_reader *r, size_t k)
{
    while (k > 0) {
        while (r->pos == r->cur.n) {
            if (!sst_next_segment(r)) {
                return false;
            }
        }
        size_t step = r->cur.n - r->pos < k ? r->cur.n - r->pos : k;
        r->pos += step;
        k -= step;
    }
    return true;
}

static bool sst_chars(struct sst_reader *r, size_t count, bool wide, struct buf *out)
{
    while (count > 0) {
        if (r->pos == r->cur.n) {
            if (!sst_next_segment(r) || r->cur.n == 0) {
                return r->ok = false;
            }
            wide = r->cur.p[r->pos++] & 1;
        }
        size_t avail = (r->cur.n - r->pos) / (wide ? 2 : 1);
        size_t take = count < avail ? count : avail;
        if (take == 0) { /* half a character left: malformed */
            return r->ok = false;
        }
        chars_utf8(r->cur.p + r->pos, take, wide, out);
        r->pos += take * (wide ? 2 : 1);
        count -= take;
    }
    return true;
}

/* Each XLUnicodeRichExtendedString: count, flags, [runs], [extension size], characters,
 * [runs], [extension]. */
static int read_sst(struct ex_ctx *c, const uint8_t *d, size_t n, const struct rec *sst,
                    struct ex_strings *shared)
{
    struct sst_reader r = {.d = d, .n = n, .cur = *sst, .pos = 8, .ok = true};
    if (sst->n < 8) {
        return 0;
    }
    uint32_t unique = le32(sst->p + 4);
    struct buf s;
    buf_init(&s, c->lim->max_file);
    for (uint32_t i = 0; i < unique && i < MAX_SHARED && r.ok; i++) {
        uint8_t head[3], extra[4];
        if (!sst_bytes(&r, head, 3)) {
            break;
        }
        size_t count = le16(head), runs = 0, ext = 0;
        if ((head[2] & 0x08) && sst_bytes(&r, extra, 2)) {
            runs = le16(extra);
        }
        if ((head[2] & 0x04) && sst_bytes(&r, extra, 4)) {
            ext = le32(extra);
        }
        buf_clear(&s);
        if (!r.ok || !sst_chars(&r, count, head[2] & 1, &s) || s.err ||
            ex_strings_add(shared, s.data, s.len) < 0 || !sst_skip(&r, runs * 4 + ext)) {
            break;
        }
    }
    if (s.err || !r.ok) {
        buf_done(&s);
        return s.err ? -BARRA_ENOMEM : 1;
    }
    buf_done(&s);
    return 0;
}

/* An RK number: 30 bits of an integer or of a double's high half, maybe times 100. */
static double rk_value(uint32_t rk)
{
    double v;
    if (rk & 2) {
        v = (double)((int32_t)rk >> 2);
    } else {
        uint64_t bits = (uint64_t)(rk & 0xFFFFFFFCu) << 32;
        memcpy(&v, &bits, sizeof(v));
    }
    return rk & 1 ? v / 100 : v;
}

static double f64_at(const uint8_t *p)
{
    uint64_t bits = (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
    double v;
    memcpy(&v, &bits, sizeof(v));
    return v;
}

struct sheet {
    struct ex_ctx *c;
    const char *path, *name;
    const struct ex_strings *shared;
    struct ex_strings header;
};

static void put_text(struct sheet *s, uint32_t row, uint32_t col, const char *v, size_t len)
{
    (void)ex_cell(s->c, &s->header, s->path, s->name, row + 1, col + 1, v, len);
}

/* Whole numbers as digits (a phone number stored as a number: "85361234567"), others in full. */
static void put_number(struct sheet *s, uint32_t row, uint32_t col, double v)
{
    char t[40];
    if (v != v || v - v != 0) { /* NaN or infinite */
        return;
    }
    bool whole = v > -1e15 && v < 1e15 && v == (double)(long long)v;
    int k =
        whole ? snprintf(t, sizeof(t), "%lld", (long long)v) : snprintf(t, sizeof(t), "%.15g", v);
    put_text(s, row, col, t, (size_t)k);
}

/* One sheet's records from its BOF to its EOF (charts inside it have their own pair). Returns the
 * offset after its EOF. */
static size_t read_sheet(struct sheet *s, const uint8_t *d, size_t n, size_t off)
{
    struct rec r;
    int depth = 0;
    struct buf t;
    buf_init(&t, s->c->lim->max_file);
    uint32_t formula_row = 0, formula_col = 0;
    bool formula_string = false;
    while (!ex_stopped(s->c) && rec_at(d, n, off, &r)) {
        off = r.next;
        const uint8_t *p = r.p;
        buf_clear(&t);
        if (r.type == R_BOF) {
            if (++depth > MAX_NESTED) {
                break;
            }
        } else if (r.type == R_EOF) {
            if (--depth <= 0) {
                break;
            }
        } else if (depth == 1 && r.type == R_LABELSST && r.n >= 10) {
            uint32_t i = le32(p + 6);
            if (i < s->shared->n) {
                put_text(s, le16(p), le16(p + 2), s->shared->v[i], strlen(s->shared->v[i]));
            }
        } else if (depth == 1 && (r.type == R_LABEL || r.type == R_RSTRING) && r.n >= 9) {
            if (unicode_string(p + 6, r.n - 6, &t) && !t.err) {
                put_text(s, le16(p), le16(p + 2), t.data ? t.data : "", t.len);
            }
        } else if (depth == 1 && r.type == R_NUMBER && r.n >= 14) {
            put_number(s, le16(p), le16(p + 2), f64_at(p + 6));
        } else if (depth == 1 && r.type == R_RK && r.n >= 10) {
            put_number(s, le16(p), le16(p + 2), rk_value(le32(p + 6)));
        } else if (depth == 1 && r.type == R_MULRK && r.n >= 12) {
            uint32_t row = le16(p), col = le16(p + 2);
            for (size_t k = 0; k < (r.n - 6) / 6; k++) {
                put_number(s, row, col + (uint32_t)k, rk_value(le32(p + 4 + k * 6 + 2)));
            }
        } else if (depth == 1 && r.type == R_FORMULA && r.n >= 14) {
            bool special = p[12] == 0xFF && p[13] == 0xFF;
            formula_string = special && p[6] == 0;
            formula_row = le16(p);
            formula_col = le16(p + 2);
            if (!special) {
                put_number(s, formula_row, formula_col, f64_at(p + 6));
            }
        } else if (depth == 1 && r.type == R_STRING && formula_string) {
            formula_string = false;
            if (unicode_string(p, r.n, &t) && !t.err) {
                put_text(s, formula_row, formula_col, t.data ? t.data : "", t.len);
            }
        }
    }
    buf_done(&t);
    return off;
}

int ex_xls(struct ex_ctx *c, GsfInfile *ole, const uint8_t *d, size_t n, const char *path)
{
    (void)ole;
    struct rec r;
    if (!rec_at(d, n, 0, &r) || r.type != R_BOF || r.n < 4) {
        ex_notef(c, path, EX_NOTE_CORRUPT, "an Excel workbook stream that does not start with BOF");
        return 0;
    }
    if (le16(r.p) != BIFF8) {
        ex_notef(c, path, EX_NOTE_UNSUPPORTED,
                 "an Excel workbook older than Excel 97 (BIFF version %04x)", le16(r.p));
        return 0;
    }
    struct ex_strings shared = {0}, names = {0};
    uint32_t offsets[4096];
    size_t sheets = 0;
    int bad = 0;
    for (size_t off = r.next; rec_at(d, n, off, &r) && r.type != R_EOF; off = r.next) {
        if (r.type == R_FILEPASS) {
            ex_notef(c, path, EX_NOTE_ENCRYPTED, "a password-protected Excel workbook");
            bad = -1;
            break;
        }
        if (r.type == R_SST && shared.n == 0) {
            bad = read_sst(c, d, n, &r, &shared);
            if (bad < 0) {
                c->stop = bad;
                break;
            }
        } else if (r.type == R_BOUNDSHEET && r.n >= 8 && r.p[5] == 0 &&
                   sheets < sizeof(offsets) / sizeof(offsets[0])) {
            struct buf name;
            buf_init(&name, 1024);
            short_string(r.p + 6, r.n - 6, &name);
            if (name.err || ex_strings_add(&names, name.data, name.len) < 0) {
                c->stop = -BARRA_ENOMEM;
            }
            buf_done(&name);
            offsets[sheets++] = le32(r.p);
        }
    }
    if (bad > 0) {
        ex_notef(c, path, EX_NOTE_CORRUPT, "the shared strings end early: the rest was not read");
    }
    /* Sheets in their order in the stream, none overlapping another: every record is read once. */
    size_t done = 0;
    for (size_t i = 0; bad >= 0 && i < sheets && i < names.n && !ex_stopped(c); i++) {
        if (offsets[i] < done || !rec_at(d, n, offsets[i], &r) || r.type != R_BOF) {
            ex_notef(c, path, EX_NOTE_CORRUPT, "sheet \"%s\" is not where the workbook says",
                     names.v[i]);
            continue;
        }
        struct sheet s = {.c = c, .path = path, .name = names.v[i], .shared = &shared};
        done = read_sheet(&s, d, n, offsets[i]);
        ex_strings_free(&s.header);
    }
    ex_strings_free(&shared);
    ex_strings_free(&names);
    return c->stop;
}
