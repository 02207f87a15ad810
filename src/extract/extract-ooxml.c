/* SPDX-License-Identifier: Apache-2.0 */
/* Office Open XML: Word paragraphs ("paragraph 12"; headers, footers, footnotes and comments
 * too), Excel cells ("Staff!B2", with the column's header from row 1 as context: "身份證號碼:
 * A123456(3)"), PowerPoint slides ("slide 3"; notes too). XML is read with expat; a part with a
 * DOCTYPE is refused (no entity can expand), and a malformed part is noted and skipped. */
#include "config.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "extract/extract-int.h"

#include "core/banned.h"

enum { MAX_SHARED = 1 << 20 };

struct xml_run {
    struct ex_ctx *c;
    const char *path;
    XML_Parser p;
    bool refused;
    /* what the handlers collect */
    struct buf text;
    bool in_text; /* inside w:t, a:t, t */
    /* callbacks by element, set per part kind */
    void (*start)(struct xml_run *r, const char *name, const char **attrs);
    void (*end)(struct xml_run *r, const char *name);
    void *state;
};

static const char *local(const char *name)
{
    const char *colon = strrchr(name, ':');
    return colon ? colon + 1 : name;
}

static const char *attr(const char **attrs, const char *want)
{
    for (size_t i = 0; attrs[i]; i += 2) {
        if (strcmp(local(attrs[i]), want) == 0) {
            return attrs[i + 1];
        }
    }
    return NULL;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct xml_run *r = ud;
    r->start(r, local(name), attrs);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct xml_run *r = ud;
    r->end(r, local(name));
}

static void XMLCALL on_chars(void *ud, const XML_Char *s, int len)
{
    struct xml_run *r = ud;
    if (r->in_text) {
        (void)buf_append(&r->text, s, (size_t)len);
    }
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    struct xml_run *r = ud;
    r->refused = true;
    XML_StopParser(r->p, XML_FALSE);
}

/* Parses one part with the run's handlers; false (noted) when it is malformed or refused. */
static bool parse(struct xml_run *r, const struct ex_part *part, const char *where)
{
    r->p = XML_ParserCreate("UTF-8");
    if (r->p == NULL) {
        r->c->stop = -BARRA_ENOMEM;
        return false;
    }
    XML_SetUserData(r->p, r);
    XML_SetElementHandler(r->p, on_start, on_end);
    XML_SetCharacterDataHandler(r->p, on_chars);
    XML_SetStartDoctypeDeclHandler(r->p, on_doctype);
    bool ok =
        part->len <= (size_t)INT32_MAX &&
        XML_Parse(r->p, (const char *)part->data, (int)part->len, XML_TRUE) == XML_STATUS_OK &&
        !r->refused;
    if (!ok) {
        ex_notef(r->c, r->path, EX_NOTE_CORRUPT, "%s: %s", where,
                 r->refused ? "XML with a DOCTYPE is refused"
                            : XML_ErrorString(XML_GetErrorCode(r->p)));
    }
    XML_ParserFree(r->p);
    r->p = NULL;
    return ok;
}

static const struct ex_part *find(const struct ex_part *parts, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(parts[i].name, name) == 0) {
            return &parts[i];
        }
    }
    return NULL;
}

bool ex_ooxml_is_document(const struct ex_part *parts, size_t n)
{
    return find(parts, n, "[Content_Types].xml") &&
           (find(parts, n, "word/document.xml") || find(parts, n, "xl/workbook.xml") ||
            find(parts, n, "ppt/presentation.xml"));
}

/* ---- Word and PowerPoint: paragraphs ---- */

struct para_state {
    unsigned unit;    /* the slide's number, or 0 to count paragraphs */
    bool notes;       /* a slide's notes */
    const char *part; /* a Word part other than the body ("header1.xml"), or NULL */
    unsigned paragraphs;
};

static void para_flush(struct xml_run *r)
{
    struct para_state *s = r->state;
    s->paragraphs++;
    if (r->text.len && !r->text.err) {
        char where[160];
        if (s->unit) {
            (void)snprintf(where, sizeof(where), "%sslide %u", s->notes ? "notes of " : "",
                           s->unit);
        } else {
            (void)snprintf(where, sizeof(where), "%s%sparagraph %u", s->part ? s->part : "",
                           s->part ? " " : "", s->paragraphs);
        }
        (void)ex_emit(r->c, r->path, where, r->text.data, r->text.len);
    }
    buf_clear(&r->text);
}

static void para_start(struct xml_run *r, const char *name, const char **attrs)
{
    (void)attrs;
    if (strcmp(name, "t") == 0) {
        r->in_text = true;
    } else if (strcmp(name, "tab") == 0) {
        (void)buf_append_char(&r->text, '\t');
    } else if (strcmp(name, "br") == 0 || strcmp(name, "cr") == 0) {
        (void)buf_append_char(&r->text, '\n');
    }
}

static void para_end(struct xml_run *r, const char *name)
{
    if (strcmp(name, "t") == 0) {
        r->in_text = false;
    } else if (strcmp(name, "p") == 0) {
        struct para_state *s = r->state;
        if (s->unit) { /* a slide is one piece: its paragraphs joined by lines */
            (void)buf_append_char(&r->text, '\n');
        } else {
            para_flush(r);
        }
    }
}

static int by_number(const void *a, const void *b)
{
    const struct ex_part *const *x = a, *const *y = b;
    const char *dx = strpbrk((*x)->name, "0123456789"), *dy = strpbrk((*y)->name, "0123456789");
    long nx = dx ? strtol(dx, NULL, 10) : 0, ny = dy ? strtol(dy, NULL, 10) : 0;
    return nx < ny ? -1 : nx > ny;
}

static int word(struct ex_ctx *c, const struct ex_part *parts, size_t n, const char *path)
{
    static const char *const prefixes[] = {"word/document.xml", "word/header",
                                           "word/footer",       "word/footnotes.xml",
                                           "word/endnotes.xml", "word/comments.xml"};
    for (size_t k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
        for (size_t i = 0; i < n && !ex_stopped(c); i++) {
            if (strncmp(parts[i].name, prefixes[k], strlen(prefixes[k])) != 0 ||
                strstr(parts[i].name, ".rels")) {
                continue;
            }
            struct para_state s = {.part = k == 0 ? NULL : parts[i].name + 5};
            struct xml_run r = {
                .c = c, .path = path, .start = para_start, .end = para_end, .state = &s};
            buf_init(&r.text, c->lim->max_file);
            (void)parse(&r, &parts[i], parts[i].name + 5);
            buf_done(&r.text);
        }
    }
    return c->stop;
}

static int slides(struct ex_ctx *c, const struct ex_part *parts, size_t n, const char *path)
{
    const struct ex_part **list = barra_calloc(n ? n : 1, sizeof(*list));
    if (list == NULL) {
        return c->stop = -BARRA_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if ((strncmp(parts[i].name, "ppt/slides/slide", 16) == 0 ||
             strncmp(parts[i].name, "ppt/notesSlides/notesSlide", 26) == 0) &&
            strstr(parts[i].name, ".rels") == NULL) {
            list[k++] = &parts[i];
        }
    }
    qsort(list, k, sizeof(*list), by_number);
    for (size_t i = 0; i < k && !ex_stopped(c); i++) {
        bool notes = strstr(list[i]->name, "notesSlide") != NULL;
        const char *digits = strpbrk(list[i]->name + 4, "0123456789");
        struct para_state s = {.notes = notes,
                               .unit = digits ? (unsigned)strtoul(digits, NULL, 10) : 1};
        struct xml_run r = {
            .c = c, .path = path, .start = para_start, .end = para_end, .state = &s};
        buf_init(&r.text, c->lim->max_file);
        if (parse(&r, list[i], list[i]->name + 4)) {
            para_flush(&r);
        }
        buf_done(&r.text);
    }
    barra_free(list);
    return c->stop;
}

/* ---- Excel: shared strings, sheet names, cells ---- */

/* sharedStrings.xml: <si> items, each the text of its <t> runs. */
static void sst_start(struct xml_run *r, const char *name, const char **attrs)
{
    (void)attrs;
    if (strcmp(name, "si") == 0) {
        buf_clear(&r->text);
    } else if (strcmp(name, "t") == 0) {
        r->in_text = true;
    }
}

static void sst_end(struct xml_run *r, const char *name)
{
    struct ex_strings *s = r->state;
    if (strcmp(name, "t") == 0) {
        r->in_text = false;
    } else if (strcmp(name, "si") == 0 && s->n < MAX_SHARED &&
               ex_strings_add(s, r->text.data, r->text.len) < 0) {
        r->c->stop = -BARRA_ENOMEM;
        XML_StopParser(r->p, XML_FALSE);
    }
}

struct sheet_state {
    const struct ex_strings *shared;
    const char *sheet;
    struct ex_strings header; /* row 1, by column */
    char ref[16];             /* the cell being read: "B2" */
    char type[16];            /* its t attribute */
    bool in_value, in_inline;
};

static unsigned column_of(const char *ref, unsigned *row)
{
    unsigned col = 0;
    const char *p = ref;
    while (*p >= 'A' && *p <= 'Z' && col <= EX_MAX_COLS) {
        col = col * 26 + (unsigned)(*p - 'A' + 1);
        p++;
    }
    *row = (unsigned)strtoul(p, NULL, 10);
    return col;
}

static void sheet_start(struct xml_run *r, const char *name, const char **attrs)
{
    struct sheet_state *s = r->state;
    if (strcmp(name, "c") == 0) {
        const char *ref = attr(attrs, "r"), *t = attr(attrs, "t");
        (void)snprintf(s->ref, sizeof(s->ref), "%s", ref ? ref : "");
        (void)snprintf(s->type, sizeof(s->type), "%s", t ? t : "n");
        buf_clear(&r->text);
    } else if (strcmp(name, "v") == 0 || (strcmp(name, "t") == 0 && s->in_inline)) {
        r->in_text = true;
    } else if (strcmp(name, "is") == 0) {
        s->in_inline = true;
    }
}

static void sheet_cell(struct xml_run *r, struct sheet_state *s)
{
    const char *value = r->text.data ? r->text.data : "";
    size_t len = r->text.len;
    if (strcmp(s->type, "s") == 0) { /* an index into the shared strings */
        char *end = NULL;
        unsigned long i = strtoul(value, &end, 10);
        if (end == value || i >= s->shared->n) {
            return;
        }
        value = s->shared->v[i];
        len = strlen(value);
    }
    if (s->ref[0] != '\0') {
        unsigned row = 0, col = column_of(s->ref, &row);
        (void)ex_cell(r->c, &s->header, r->path, s->sheet, row, col, value, len);
    }
}

static void sheet_end(struct xml_run *r, const char *name)
{
    struct sheet_state *s = r->state;
    if (strcmp(name, "v") == 0 || strcmp(name, "t") == 0) {
        r->in_text = false;
    } else if (strcmp(name, "is") == 0) {
        s->in_inline = false;
    } else if (strcmp(name, "c") == 0) {
        sheet_cell(r, s);
        if (ex_stopped(r->c)) {
            XML_StopParser(r->p, XML_FALSE);
        }
    }
}

/* workbook.xml's sheets (name, relationship id) and its .rels (id -> target) */
struct book_state {
    struct ex_strings names, ids, rel_ids, targets;
};

static void book_start(struct xml_run *r, const char *name, const char **attrs)
{
    struct book_state *b = r->state;
    const char *n = attr(attrs, "name"), *id = attr(attrs, "id"), *target = attr(attrs, "Target");
    int e = 0;
    if (strcmp(name, "sheet") == 0 && n && id) {
        e = ex_strings_add(&b->names, n, strlen(n)) < 0 ||
            ex_strings_add(&b->ids, id, strlen(id)) < 0;
    } else if (strcmp(name, "Relationship") == 0 && attr(attrs, "Id") && target) {
        const char *rid = attr(attrs, "Id");
        e = ex_strings_add(&b->rel_ids, rid, strlen(rid)) < 0 ||
            ex_strings_add(&b->targets, target, strlen(target)) < 0;
    }
    if (e) {
        r->c->stop = -BARRA_ENOMEM;
        XML_StopParser(r->p, XML_FALSE);
    }
}

static void no_end(struct xml_run *r, const char *name)
{
    (void)r, (void)name;
}

static int excel(struct ex_ctx *c, const struct ex_part *parts, size_t n, const char *path)
{
    struct ex_strings shared = {0};
    struct book_state book = {0};
    const struct ex_part *p;
    if ((p = find(parts, n, "xl/sharedStrings.xml"))) {
        struct xml_run r = {
            .c = c, .path = path, .start = sst_start, .end = sst_end, .state = &shared};
        buf_init(&r.text, c->lim->max_file);
        (void)parse(&r, p, "sharedStrings.xml");
        buf_done(&r.text);
    }
    static const char *const book_parts[] = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels"};
    for (size_t k = 0; k < 2; k++) {
        if ((p = find(parts, n, book_parts[k]))) {
            struct xml_run r = {
                .c = c, .path = path, .start = book_start, .end = no_end, .state = &book};
            buf_init(&r.text, 0);
            (void)parse(&r, p, book_parts[k] + 3);
            buf_done(&r.text);
        }
    }
    for (size_t i = 0; i < book.names.n && !ex_stopped(c); i++) {
        const char *target = NULL;
        for (size_t j = 0; j < book.rel_ids.n; j++) {
            if (strcmp(book.rel_ids.v[j], book.ids.v[i]) == 0) {
                target = book.targets.v[j];
            }
        }
        char name[600];
        if (target == NULL) {
            continue;
        }
        (void)snprintf(name, sizeof(name), "%s%s", target[0] == '/' ? "" : "xl/",
                       target[0] == '/' ? target + 1 : target);
        if ((p = find(parts, n, name)) == NULL) {
            ex_notef(c, path, EX_NOTE_CORRUPT, "sheet \"%s\" is missing (%s)", book.names.v[i],
                     name);
            continue;
        }
        struct sheet_state s = {.shared = &shared, .sheet = book.names.v[i]};
        struct xml_run r = {
            .c = c, .path = path, .start = sheet_start, .end = sheet_end, .state = &s};
        buf_init(&r.text, c->lim->max_file);
        (void)parse(&r, p, name + 3);
        buf_done(&r.text);
        ex_strings_free(&s.header);
    }
    ex_strings_free(&shared);
    ex_strings_free(&book.names);
    ex_strings_free(&book.ids);
    ex_strings_free(&book.rel_ids);
    ex_strings_free(&book.targets);
    return c->stop;
}

int ex_ooxml(struct ex_ctx *c, const struct ex_part *parts, size_t n, const char *path)
{
    if (find(parts, n, "word/document.xml")) {
        return word(c, parts, n, path);
    }
    if (find(parts, n, "xl/workbook.xml")) {
        return excel(c, parts, n, path);
    }
    return slides(c, parts, n, path);
}
