/* SPDX-License-Identifier: Apache-2.0 */
/* Word 97–2003 documents (.doc). The "WordDocument" stream starts with the FIB, which says whether
 * the document is encrypted, which table stream ("0Table" or "1Table") holds its structures, how
 * many characters each part of the document has (main text, footnotes, headers, comments,
 * endnotes, text boxes — in that order), and where the piece table (CLX) is. The piece table maps
 * character positions to byte ranges of the WordDocument stream, each either UTF-16LE or
 * "compressed" (one Windows-1252 byte a character). Paragraphs end at 0x0D (and table cells at
 * 0x07); of a field, only its shown result is text, not its instructions. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/utf8.h"
#include "extract/extract-ole.h"

#include "core/banned.h"

enum {
    WORD_IDENT = 0xA5EC,
    FIRST_NFIB_97 = 0x0069, /* below it: Word 6.0/95, whose FIB differs */
    F_ENCRYPTED = 0x0100,
    F_TABLE1 = 0x0200,
    F_OBFUSCATED = 0x8000,
    LW_CCP_TEXT = 3, /* FibRgLw97: ccpText, ccpFtn, ccpHdd, reserved, ccpAtn, ccpEdn, ccpTxbx, … */
    FCLCB_CLX = 33,  /* FibRgFcLcb97: fcClx, lcbClx */
    MAX_FIELDS = 64,
};

static uint32_t le16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
    return le16(p) | le16(p + 2) << 16;
}

static const char *const part_names[] = {
    "",          "footnotes ", "headers ",    "macros ",
    "comments ", "endnotes ",  "text boxes ", "header text boxes "};
enum { PARTS = sizeof(part_names) / sizeof(part_names[0]) };

/* The text being assembled: the current paragraph, which part of the document it is in, and the
 * fields open around it. */
struct doc_text {
    struct ex_ctx *c;
    const char *path;
    uint32_t part_end[PARTS]; /* the first character position after each part */
    unsigned part, paragraph;
    uint32_t cp; /* the position of the next character */
    struct buf para;
    uint8_t fields[MAX_FIELDS]; /* per open field: 1 while in its instructions, 0 in its result */
    unsigned open;
    unsigned hidden; /* open fields in their instructions */
};

static void end_paragraph(struct doc_text *t)
{
    t->paragraph++;
    if (t->para.len && !t->para.err) {
        char where[64];
        (void)snprintf(where, sizeof(where), "%sparagraph %u", part_names[t->part], t->paragraph);
        (void)ex_emit(t->c, t->path, where, t->para.data, t->para.len);
    } else if (t->para.err) {
        t->c->stop = -BARRA_ENOMEM;
    }
    buf_clear(&t->para);
}

static void put_char(struct doc_text *t, uint32_t ch)
{
    while (t->part + 1 < PARTS && t->cp >= t->part_end[t->part]) {
        if (t->para.len) {
            end_paragraph(t);
        }
        t->part++;
        t->paragraph = 0;
        t->open = t->hidden = 0;
    }
    t->cp++;
    switch (ch) {
    case 0x13: /* field begins: its instructions follow */
        if (t->open < MAX_FIELDS) {
            t->fields[t->open++] = 1;
            t->hidden++;
        }
        return;
    case 0x14: /* field separator: its result follows */
        if (t->open && t->fields[t->open - 1]) {
            t->fields[t->open - 1] = 0;
            t->hidden--;
        }
        return;
    case 0x15: /* field ends */
        if (t->open) {
            t->hidden -= t->fields[--t->open];
        }
        return;
    default:
        break;
    }
    if (t->hidden) {
        return;
    }
    if (ch == 0x0D || ch == 0x07 || ch == 0x0C) { /* paragraph, table cell, page or section */
        end_paragraph(t);
        return;
    }
    if (ch == 0x0B) { /* a line break inside the paragraph */
        ch = '\n';
    } else if (ch == 0x1E) { /* non-breaking hyphen */
        ch = '-';
    } else if (ch < 0x20 && ch != '\t') { /* soft hyphen, pictures, note marks, … */
        return;
    }
    char enc[4];
    (void)buf_append(&t->para, enc, utf8_encode(ch, enc));
}

/* The pieces of the CLX: [Prc…] then Pcdt (0x02, size, PlcPcd: n+1 positions, n 8-byte PCDs). */
static int read_pieces(struct doc_text *t, const uint8_t *word, size_t wn, const uint8_t *clx,
                       size_t n)
{
    size_t i = 0;
    while (i < n && clx[i] == 0x01) { /* Prc: formatting, skipped */
        if (n - i < 3) {
            return -1;
        }
        i += 3 + (uint16_t)le16(clx + i + 1);
    }
    if (i >= n || clx[i] != 0x02 || n - i < 5) {
        return -1;
    }
    size_t lcb = le32(clx + i + 1);
    const uint8_t *plc = clx + i + 5;
    if (lcb > n - i - 5 || lcb < 16 || (lcb - 4) % 12) {
        return -1;
    }
    size_t pieces = (lcb - 4) / 12;
    const uint8_t *pcd = plc + (pieces + 1) * 4;
    for (size_t k = 0; k < pieces && !ex_stopped(t->c); k++) {
        uint32_t from = le32(plc + k * 4), to = le32(plc + k * 4 + 4);
        uint32_t fc = le32(pcd + k * 8 + 2);
        if (to < from || from != t->cp) {
            return -1;
        }
        size_t count = to - from;
        bool compressed = fc & 0x40000000u;
        size_t at = compressed ? (fc & 0x3FFFFFFFu) / 2 : fc;
        size_t bytes = compressed ? count : count * 2;
        if (at > wn || bytes > wn - at) {
            return -1;
        }
        for (size_t j = 0; j < count && !ex_stopped(t->c); j++) {
            put_char(t, compressed ? ex_cp1252(word[at + j]) : le16(word + at + j * 2));
        }
    }
    if (t->para.len) {
        end_paragraph(t);
    }
    return 0;
}

int ex_doc(struct ex_ctx *c, GsfInfile *ole, const uint8_t *w, size_t wn, const char *path)
{
    if (wn < 34 || le16(w) != WORD_IDENT) {
        ex_notef(c, path, EX_NOTE_CORRUPT, "a Word document stream without a valid header");
        return 0;
    }
    if (le16(w + 2) < FIRST_NFIB_97) {
        ex_notef(c, path, EX_NOTE_UNSUPPORTED, "a Word 6.0/95 document: save it as .docx");
        return 0;
    }
    uint32_t flags = le16(w + 0x0A);
    if (flags & (F_ENCRYPTED | F_OBFUSCATED)) {
        ex_notef(c, path, EX_NOTE_ENCRYPTED, "a password-protected Word document");
        return 0;
    }
    /* FibBase (32 bytes), csw + FibRgW, cslw + FibRgLw, cbRgFcLcb + FibRgFcLcb */
    size_t off = 32;
    size_t csw = le16(w + off);
    off += 2 + csw * 2;
    size_t cslw = off + 2 <= wn ? le16(w + off) : 0;
    size_t lw = off + 2;
    off = lw + cslw * 4;
    size_t pairs = off + 2 <= wn ? le16(w + off) : 0;
    size_t fclcb = off + 2;
    if (cslw < LW_CCP_TEXT + 8 || pairs <= FCLCB_CLX || fclcb + pairs * 8 > wn) {
        ex_notef(c, path, EX_NOTE_CORRUPT, "a Word document header that is too short");
        return 0;
    }
    struct doc_text t = {.c = c, .path = path};
    uint32_t end = 0;
    for (size_t k = 0; k < PARTS; k++) {
        uint32_t len = le32(w + lw + (LW_CCP_TEXT + k) * 4);
        end = len > UINT32_MAX - end ? UINT32_MAX : end + len;
        t.part_end[k] = end;
    }
    uint32_t fc = le32(w + fclcb + FCLCB_CLX * 8), lcb = le32(w + fclcb + FCLCB_CLX * 8 + 4);
    struct buf table;
    buf_init(&table, c->lim->max_file);
    buf_init(&t.para, c->lim->max_text);
    const char *name = flags & F_TABLE1 ? "1Table" : "0Table";
    if (!ex_ole_stream(ole, name, c->lim->max_file, &table) || fc > table.len ||
        lcb > table.len - fc) {
        ex_notef(c, path, EX_NOTE_CORRUPT, "the Word document's piece table is missing");
    } else if (read_pieces(&t, w, wn, (const uint8_t *)(table.data ? table.data : "") + fc, lcb) <
                   0 &&
               !ex_stopped(c)) {
        ex_notef(c, path, EX_NOTE_CORRUPT,
                 "the Word document's piece table is malformed: "
                 "the rest was not read");
    }
    buf_done(&t.para);
    buf_done(&table);
    return c->stop;
}
