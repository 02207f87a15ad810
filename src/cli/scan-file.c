/* SPDX-License-Identifier: Apache-2.0 */
/* Scanning one input: plain text streamed in constant memory, JSON Lines record by record, CSV/TSV
 * row by row (the column header is context for its cells). Problems are reported with the file and
 * line, and the scan goes on with the rest of the input. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/sbuf.h"
#include "cli/scan.h"
#include "extract/extract-worker.h"

#define READ_CHUNK (1u << 20)

static enum in_format format_of(const struct scan_options *o, const struct scan_input *in)
{
    if (o->input_format != IN_AUTO) {
        return o->input_format;
    }
    const char *dot = strrchr(in->path, '.');
    if (dot && (strcasecmp(dot, ".jsonl") == 0 || strcasecmp(dot, ".ndjson") == 0 ||
                strcasecmp(dot, ".jsonlines") == 0)) {
        return IN_JSONL;
    }
    if (dot && strcasecmp(dot, ".csv") == 0) {
        return IN_CSV;
    }
    if (dot && (strcasecmp(dot, ".tsv") == 0 || strcasecmp(dot, ".tab") == 0)) {
        return IN_TSV;
    }
    return IN_TEXT;
}

static bool type_selected(const struct scan_options *o, const char *type)
{
    if (o->types == NULL) {
        return true;
    }
    for (size_t i = 0; i < o->ntypes; i++) {
        if (strcmp(o->types[i], type) == 0) {
            return true;
        }
    }
    return false;
}

/* Reads up to `cap` bytes, retrying short reads; returns the count, 0 at end, -errno on error. */
static ssize_t read_full(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    while (got < cap) {
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return got ? (ssize_t)got : -errno;
        }
        if (n == 0) {
            break;
        }
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* ---- plain text ---- */

struct text_ctx {
    struct scan_worker *w;
    const struct scan_input *in;
    struct file_result *fr;
    uint64_t reported; /* bytes already counted for the progress bar */
};

/* With a policy, every finding counts towards the decision, whatever --types reports. */
static void collect(struct scan_worker *w, struct file_result *fr, const struct barra_finding *f)
{
    if (w->findings && barra_findings_add(w->findings, f) < 0) {
        output_error(w->out, fr, f->line, "too many findings to decide about");
    }
}

static int on_text_finding(const struct barra_finding *f, void *ud)
{
    struct text_ctx *c = ud;
    collect(c->w, c->fr, f);
    if (type_selected(c->w->opts, f->type)) {
        struct finding_where where = {.input = c->in, .line = f->line, .column = f->column};
        output_finding(c->w->out, c->fr, f, &where);
    }
    return 0;
}

static void report_utf8(struct scan_worker *w, struct file_result *fr, uint64_t line)
{
    struct barra_scan_stats st;
    barra_scanner_stats(w->scanner, &st);
    if (st.invalid_utf8 == 0) {
        return;
    }
    output_error(w->out, fr, line ? line : st.first_invalid_line,
                 "invalid UTF-8 (%llu bad sequence%s, the first at byte %llu); only UTF-8 text is "
                 "classified reliably: is the file in another encoding?",
                 (unsigned long long)st.invalid_utf8, st.invalid_utf8 == 1 ? "" : "s",
                 (unsigned long long)st.first_invalid + 1);
}

static void on_progress(uint64_t done, void *ud)
{
    struct text_ctx *c = ud;
    output_bytes(c->w->out, c->fr, done - c->reported);
    c->reported = done;
}

/* A mapped file is scanned in place: for redaction, which needs the whole text. */
static void scan_text_mapped(struct scan_worker *w, const char *data, size_t len,
                             const struct scan_input *in, struct file_result *fr)
{
    struct text_ctx ctx = {w, in, fr, 0};
    barra_scanner_set_progress(w->scanner, on_progress, &ctx);
    int r = barra_scanner_scan(w->scanner, data, len, NULL, 0, on_text_finding, &ctx);
    barra_scanner_set_progress(w->scanner, NULL, NULL);
    if (r < 0) {
        output_error(w->out, fr, 0, "scan failed: %s", barra_strerror(r));
    }
    output_bytes(w->out, fr, len - ctx.reported);
    report_utf8(w, fr, 0);
    scan_policy_redact(w, in, fr, data, len);
    scan_policy_decide(w, in, fr, true, NULL, 0, NULL, 0, 0);
}

static void scan_text(struct scan_worker *w, int fd, const struct scan_input *in,
                      struct file_result *fr, char *buf, ssize_t first_len)
{
    struct text_ctx ctx = {w, in, fr, 0};
    ssize_t n = first_len;
    for (;;) {
        if (n < 0) {
            output_error(w->out, fr, 0, "read error: %s", strerror((int)-n));
            break;
        }
        if (n == 0) {
            break;
        }
        int r = barra_scanner_feed(w->scanner, buf, (size_t)n, on_text_finding, &ctx);
        if (r < 0) {
            output_error(w->out, fr, 0, "scan failed: %s", barra_strerror(r));
            break;
        }
        output_bytes(w->out, fr, (uint64_t)n);
        n = read_full(fd, buf, READ_CHUNK);
    }
    int r = barra_scanner_finish(w->scanner, on_text_finding, &ctx);
    if (r < 0) {
        output_error(w->out, fr, 0, "scan failed: %s", barra_strerror(r));
    }
    report_utf8(w, fr, 0);
    if (w->opts->redact_dir) {
        output_error(w->out, fr, 0,
                     "only files that can be mapped are redacted, not pipes or "
                     "standard input");
    }
    scan_policy_decide(w, in, fr, true, NULL, 0, NULL, 0, 0);
}

/* ---- records: a line splitter with a size limit ---- */

typedef void (*record_fn)(struct scan_worker *w, const struct scan_input *in,
                          struct file_result *fr, const char *rec, size_t len, uint64_t line);

/* Splits the input into lines and hands each to `fn`; a line longer than max_record is reported and
 * skipped without being held in memory. */
static void for_each_line(struct scan_worker *w, int fd, const struct scan_input *in,
                          struct file_result *fr, char *buf, ssize_t first_len, record_fn fn)
{
    size_t max = w->opts->max_record;
    char *rec = NULL;
    size_t rec_len = 0, rec_cap = 0;
    bool skipping = false;
    uint64_t line = 1;
    ssize_t n = first_len;
    while (n > 0) {
        output_bytes(w->out, fr, (uint64_t)n);
        const char *p = buf, *end = buf + n;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *stop = nl ? nl : end;
            size_t take = (size_t)(stop - p);
            if (!skipping && rec_len + take > max) {
                output_error(w->out, fr, line,
                             "record longer than %zu bytes (--max-record), skipped", max);
                skipping = true;
                rec_len = 0;
            }
            if (!skipping && take) {
                if (rec_len + take > rec_cap) {
                    size_t cap = rec_cap ? rec_cap : 4096;
                    while (cap < rec_len + take) {
                        cap *= 2;
                    }
                    char *q = realloc(rec, cap);
                    if (q == NULL) {
                        output_error(w->out, fr, line, "out of memory");
                        free(rec);
                        return;
                    }
                    rec = q;
                    rec_cap = cap;
                }
                memcpy(rec + rec_len, p, take);
                rec_len += take;
            }
            if (nl == NULL) {
                break;
            }
            if (!skipping) {
                fn(w, in, fr, rec ? rec : "", rec_len, line);
            }
            skipping = false;
            rec_len = 0;
            line++;
            p = nl + 1;
        }
        n = read_full(fd, buf, READ_CHUNK);
    }
    if (n < 0) {
        output_error(w->out, fr, line, "read error: %s", strerror((int)-n));
    } else if (!skipping && rec_len) {
        fn(w, in, fr, rec, rec_len, line);
    }
    if (rec) {
        explicit_bzero(rec, rec_cap);
    }
    free(rec);
}

/* Hands each line of a mapped file to `fn`, without copying. */
static void for_each_mapped_line(struct scan_worker *w, const char *data, size_t len,
                                 const struct scan_input *in, struct file_result *fr, record_fn fn)
{
    uint64_t line = 1;
    size_t reported = 0;
    for (const char *p = data, *end = data + len; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        size_t n = (size_t)(stop - p);
        if (n > w->opts->max_record) {
            output_error(w->out, fr, line, "record longer than %zu bytes (--max-record), skipped",
                         w->opts->max_record);
        } else {
            fn(w, in, fr, p, n, line);
        }
        p = nl ? nl + 1 : end;
        if ((size_t)(p - data) - reported >= READ_CHUNK) {
            output_bytes(w->out, fr, (size_t)(p - data) - reported);
            reported = (size_t)(p - data);
        }
    }
    output_bytes(w->out, fr, len - reported);
}

/* ---- JSON Lines ---- */

struct record_ctx {
    struct scan_worker *w;
    const struct scan_input *in;
    struct file_result *fr;
    struct finding_where where;
};

static int on_record_finding(const struct barra_finding *f, void *ud)
{
    struct record_ctx *c = ud;
    collect(c->w, c->fr, f);
    if (type_selected(c->w->opts, f->type)) {
        output_finding(c->w->out, c->fr, f, &c->where);
    }
    return 0;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
            return false;
        }
    }
    return true;
}

/* ---- JSON Lines in batches ---- */

/* Records are scanned together up to this many bytes: one call instead of one per record. */
#define BATCH_BYTES (256u << 10)

struct batch_ctx {
    struct scan_worker *w;
    const struct scan_input *in;
    struct file_result *fr;
};

/* Maps a finding in the batch back to its record. */
static int on_batch_finding(const struct barra_finding *f, void *ud)
{
    struct batch_ctx *c = ud;
    const struct jsonl_batch *b = &c->w->batch;
    if (!type_selected(c->w->opts, f->type)) {
        return 0;
    }
    size_t lo = 0, hi = b->n;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (b->recs[mid].off <= f->start) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    const struct batch_record *r = &b->recs[lo];
    if (f->start < r->off || f->end > r->off + r->len) {
        return 0; /* cannot happen: findings do not span the blank lines between records */
    }
    struct barra_finding g = *f;
    g.start -= r->off;
    g.end -= r->off;
    const char *field = c->w->opts->jsonl_fields[0];
    struct finding_where where = {
        .input = c->in,
        .record_id = r->has_id ? b->ids.data + r->id_off : NULL,
        .record_id_len = r->id_len,
        .field = field,
        .field_len = strlen(field),
        .line = r->line,
    };
    output_finding(c->w->out, c->fr, &g, &where);
    return 0;
}

static void flush_batch(struct scan_worker *w, const struct scan_input *in, struct file_result *fr)
{
    struct jsonl_batch *b = &w->batch;
    if (b->n == 0) {
        return;
    }
    struct batch_ctx ctx = {w, in, fr};
    const char *field = w->opts->jsonl_fields[0];
    int r = barra_scanner_scan(w->scanner, b->text.data, b->text.len, field, strlen(field),
                               on_batch_finding, &ctx);
    if (r < 0) {
        output_error(w->out, fr, b->recs[0].line, "scan failed: %s", barra_strerror(r));
    }
    sbuf_clear(&b->text);
    sbuf_clear(&b->ids);
    b->n = 0;
}

static void batch_add(struct scan_worker *w, const struct scan_input *in, struct file_result *fr,
                      const struct barra_jsonl_field *f, uint64_t line)
{
    struct jsonl_batch *b = &w->batch;
    if (b->n && b->text.len + f->value_len + 2 > BATCH_BYTES) {
        flush_batch(w, in, fr);
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        struct batch_record *q = reallocarray(b->recs, cap, sizeof(*q));
        if (q == NULL) {
            output_error(w->out, fr, line, "out of memory");
            return;
        }
        b->recs = q;
        b->cap = cap;
    }
    if (b->n) {
        sbuf_add(&b->text, "\n\n", 2);
    }
    struct batch_record *r = &b->recs[b->n++];
    memset(r, 0, sizeof(*r));
    r->off = b->text.len;
    r->len = f->value_len;
    r->line = line;
    sbuf_add(&b->text, f->value, f->value_len);
    size_t n;
    const char *id = barra_jsonl_id(w->jsonl, &n);
    if (id) {
        r->has_id = true;
        r->id_off = b->ids.len;
        r->id_len = n;
        sbuf_add(&b->ids, id, n);
    }
}

void scan_batch_free(struct scan_worker *w)
{
    sbuf_free(&w->batch.text);
    sbuf_free(&w->batch.ids);
    free(w->batch.recs);
    memset(&w->batch, 0, sizeof(w->batch));
}

/* One record: with a single field asked for, it joins the batch; otherwise each string value is
 * scanned on its own, labelled with its path. */
static void scan_jsonl_record(struct scan_worker *w, const struct scan_input *in,
                              struct file_result *fr, const char *rec, size_t len, uint64_t line)
{
    if (blank(rec, len)) {
        return;
    }
    struct barra_error err;
    if (barra_jsonl_parse(w->jsonl, rec, len, &err) < 0) {
        output_error(w->out, fr, line, "broken JSON record (%s), skipped", err.message);
        return;
    }
    bool batched = w->opts->njsonl_fields == 1 && w->findings == NULL;
    struct record_ctx ctx = {w, in, fr, {.input = in, .line = line}};
    ctx.where.record_id = barra_jsonl_id(w->jsonl, &ctx.where.record_id_len);
    uint64_t invalid = 0;
    for (size_t i = 0; i < barra_jsonl_field_count(w->jsonl); i++) {
        const struct barra_jsonl_field *f = barra_jsonl_field(w->jsonl, i);
        if (barra_utf8_check(f->value, f->value_len) != f->value_len) {
            invalid++;
        }
        if (batched) {
            batch_add(w, in, fr, f, line);
            continue;
        }
        ctx.where.field = f->path;
        ctx.where.field_len = f->path_len;
        int r = barra_scanner_scan(w->scanner, f->value, f->value_len, f->path, f->path_len,
                                   on_record_finding, &ctx);
        if (r < 0) {
            output_error(w->out, fr, line, "scan failed: %s", barra_strerror(r));
            return;
        }
    }
    if (invalid) {
        output_error(w->out, fr, line, "invalid UTF-8 in %llu string value%s",
                     (unsigned long long)invalid, invalid == 1 ? "" : "s");
    }
    /* The record's text is its field when one is asked for; otherwise the decision rests on the
     * findings alone. */
    const struct barra_jsonl_field *only =
        w->opts->njsonl_fields == 1 && barra_jsonl_field_count(w->jsonl) == 1
            ? barra_jsonl_field(w->jsonl, 0)
            : NULL;
    scan_policy_decide(w, in, fr, false, only ? only->value : NULL, only ? only->value_len : 0,
                       ctx.where.record_id, ctx.where.record_id_len, line);
}

/* ---- CSV / TSV ---- */

struct csv_ctx {
    struct scan_worker *w;
    const struct scan_input *in;
    struct file_result *fr;
    char **header;
    size_t nheader;
    bool want_header;
    uint64_t row;
};

static void csv_error(const struct barra_error *err, void *ud)
{
    struct csv_ctx *c = ud;
    output_error(c->w->out, c->fr, err->line, "%s", err->message);
}

/* The context of one cell: its column's name, then the other short cells of the row that hold no
 * digits ("證件類型: 外地僱員身份認別證" tells what the number next to it is). */
static void cell_label(const struct csv_ctx *c, const struct barra_csv_cell *cells, size_t n,
                       size_t i, struct sbuf *out)
{
    sbuf_clear(out);
    if (i < c->nheader) {
        sbuf_puts(out, c->header[i]);
    }
    for (size_t k = 0; k < n; k++) {
        const struct barra_csv_cell *o = &cells[k];
        if (k == i || o->value_len == 0 || o->value_len > 64) {
            continue;
        }
        bool digits = false;
        for (size_t b = 0; b < o->value_len && !digits; b++) {
            digits = o->value[b] >= '0' && o->value[b] <= '9';
        }
        if (!digits) {
            sbuf_puts(out, " | ");
            sbuf_add(out, o->value, o->value_len);
        }
    }
}

static int csv_row(const struct barra_csv_cell *cells, size_t n, uint64_t line, void *ud)
{
    struct csv_ctx *c = ud;
    if (c->want_header) {
        c->want_header = false;
        c->header = calloc(n ? n : 1, sizeof(char *));
        for (size_t i = 0; c->header && i < n; i++) {
            c->header[i] = strndup(cells[i].value, cells[i].value_len);
            c->nheader += c->header[i] != NULL;
        }
        return 0;
    }
    c->row++;
    struct record_ctx ctx = {c->w, c->in, c->fr, {.input = c->in, .line = line, .row = c->row}};
    uint64_t invalid = 0;
    struct sbuf label = {0};
    for (size_t i = 0; i < n; i++) {
        char index[32];
        const char *name = i < c->nheader ? c->header[i] : NULL;
        if (name == NULL) {
            (void)snprintf(index, sizeof(index), "%zu", i + 1);
        }
        ctx.where.field = name ? name : index;
        ctx.where.field_len = strlen(ctx.where.field);
        cell_label(c, cells, n, i, &label);
        int r = barra_scanner_scan(c->w->scanner, cells[i].value, cells[i].value_len, label.data,
                                   label.len, on_record_finding, &ctx);
        if (r < 0) {
            output_error(c->w->out, c->fr, line, "scan failed: %s", barra_strerror(r));
            sbuf_free(&label);
            return 1;
        }
        struct barra_scan_stats st;
        barra_scanner_stats(c->w->scanner, &st);
        invalid += st.invalid_utf8;
    }
    sbuf_free(&label);
    if (invalid) {
        output_error(c->w->out, c->fr, line, "invalid UTF-8 in this row (%llu bad sequence%s)",
                     (unsigned long long)invalid, invalid == 1 ? "" : "s");
    }
    return 0;
}

static void scan_csv(struct scan_worker *w, int fd, const struct scan_input *in,
                     struct file_result *fr, const char *mapped, size_t mapped_len, char *buf,
                     ssize_t first_len, char delim)
{
    barra_csv_t *csv;
    struct barra_error err;
    if (barra_csv_new(delim, w->opts->max_record, &csv, &err) < 0) {
        output_error(w->out, fr, 0, "%s", err.message);
        return;
    }
    struct csv_ctx ctx = {w, in, fr, NULL, 0, w->opts->csv_header, 0};
    ssize_t n = mapped ? 0 : first_len;
    if (mapped) {
        for (size_t off = 0; off < mapped_len; off += READ_CHUNK) {
            size_t k = mapped_len - off < READ_CHUNK ? mapped_len - off : READ_CHUNK;
            output_bytes(w->out, fr, k);
            if (barra_csv_feed(csv, mapped + off, k, csv_row, csv_error, &ctx) < 0) {
                break;
            }
        }
    }
    while (n > 0) {
        output_bytes(w->out, fr, (uint64_t)n);
        if (barra_csv_feed(csv, buf, (size_t)n, csv_row, csv_error, &ctx) < 0) {
            break;
        }
        n = read_full(fd, buf, READ_CHUNK);
    }
    if (n < 0) {
        output_error(w->out, fr, 0, "read error: %s", strerror((int)-n));
    }
    (void)barra_csv_finish(csv, csv_row, csv_error, &ctx);
    if (w->opts->redact_dir) {
        output_note(w->out, fr, "CSV and TSV files are not redacted yet");
    }
    scan_policy_decide(w, in, fr, true, NULL, 0, NULL, 0, 0);
    for (size_t i = 0; i < ctx.nheader; i++) {
        free(ctx.header[i]);
    }
    free(ctx.header);
    barra_csv_free(csv);
}

/* ---- files for the extractors (docs/files.md) ---- */

struct piece_ctx {
    struct scan_worker *w;
    const struct scan_input *in;
    struct file_result *fr;
    const char *path, *where;
};

static int on_piece_finding(const struct barra_finding *f, void *ud)
{
    struct piece_ctx *c = ud;
    collect(c->w, c->fr, f);
    if (type_selected(c->w->opts, f->type)) {
        struct finding_where where = {.input = c->in,
                                      .line = f->line,
                                      .column = f->column,
                                      .path = strcmp(c->path, c->in->path) ? c->path : NULL,
                                      .location = c->where};
        output_finding(c->w->out, c->fr, f, &where);
    }
    return 0;
}

static int on_piece(void *ud, const char *path, const char *where, const char *text, size_t len)
{
    struct piece_ctx pc = *(struct piece_ctx *)ud;
    pc.path = path;
    pc.where = where;
    int r = barra_scanner_scan(pc.w->scanner, text, len, NULL, 0, on_piece_finding, &pc);
    if (r < 0) {
        output_error(pc.w->out, pc.fr, 0, "%s: scan failed: %s", path, barra_strerror(r));
    }
    output_bytes(pc.w->out, pc.fr, len);
    return 0;
}

/* What could not be read is an error (the exit status says the scan is incomplete); a type
 * without an extractor is a note. Encrypted files are named "unscannable_encrypted". */
static void on_piece_note(void *ud, const char *path, enum ex_note kind, const char *message)
{
    struct piece_ctx *c = ud;
    /* The file's own path is already in front of the message: name only the member. */
    size_t n = strlen(c->in->path);
    const char *member = strncmp(path, c->in->path, n) == 0 ? path + n : path;
    member += member[0] == '/';
    const char *sep = member[0] ? ": " : "";
    if (kind == EX_NOTE_UNSUPPORTED) {
        output_note(c->w->out, c->fr, "%s%s%s, skipped", member, sep, message);
    } else {
        output_error(c->w->out, c->fr, 0, "%s%s%s: %s", member, sep, ex_note_name(kind), message);
    }
}

static void scan_extracted(struct scan_worker *w, int fd, const struct scan_input *in,
                           struct file_result *fr)
{
    struct ex_limits lim;
    struct ex_sandbox sb;
    ex_limits_default(&lim);
    ex_sandbox_default(&sb);
    struct piece_ctx pc = {w, in, fr, NULL, NULL};
    struct ex_sink sink = {.text = on_piece, .note = on_piece_note, .userdata = &pc};
    struct barra_error err;
    if (lseek(fd, 0, SEEK_SET) != 0 ||
        ex_extract_isolated(fd, in->path, &lim, &sb, NULL, &sink, &err) < 0) {
        output_error(w->out, fr, 0, "cannot extract: %s",
                     lseek(fd, 0, SEEK_CUR) != 0 ? "not a regular file" : err.message);
    }
    scan_policy_decide(w, in, fr, true, NULL, 0, NULL, 0, 0);
}

/* ---- one input ---- */

/* Maps a regular file for reading; NULL when it cannot be (then it is read instead). */
static const char *map_file(int fd, size_t *ret_len)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (uint64_t)st.st_size > SIZE_MAX) {
        return NULL;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    (void)madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
    *ret_len = (size_t)st.st_size;
    return p;
}

/* Refuses what is not text: UTF-16 (not supported yet: an error) and binary files (a note). */
static bool looks_scannable(struct scan_worker *w, struct file_result *fr, const char *p, size_t n)
{
    size_t probe = n < 8192 ? n : 8192;
    if (probe >= 2 && (((unsigned char)p[0] == 0xFF && (unsigned char)p[1] == 0xFE) ||
                       ((unsigned char)p[0] == 0xFE && (unsigned char)p[1] == 0xFF))) {
        output_error(w->out, fr, 0, "UTF-16 text is not supported; convert it to UTF-8 first");
        return false;
    }
    if (memchr(p, '\0', probe)) {
        output_note(w->out, fr, "binary file, skipped");
        return false;
    }
    return true;
}

static void scan_mapped(struct scan_worker *w, const char *data, size_t len,
                        const struct scan_input *in, struct file_result *fr)
{
    if (!looks_scannable(w, fr, data, len)) {
        return;
    }
    switch (format_of(w->opts, in)) {
    case IN_JSONL:
        for_each_mapped_line(w, data, len, in, fr, scan_jsonl_record);
        flush_batch(w, in, fr);
        break;
    case IN_CSV:
        scan_csv(w, -1, in, fr, data, len, NULL, 0, ',');
        break;
    case IN_TSV:
        scan_csv(w, -1, in, fr, data, len, NULL, 0, '\t');
        break;
    default:
        scan_text_mapped(w, data, len, in, fr);
        break;
    }
}

static void scan_read(struct scan_worker *w, int fd, const struct scan_input *in,
                      struct file_result *fr)
{
    char *buf = malloc(READ_CHUNK);
    if (buf == NULL) {
        output_error(w->out, fr, 0, "out of memory");
        return;
    }
    ssize_t n = read_full(fd, buf, READ_CHUNK);
    if (n < 0) {
        output_error(w->out, fr, 0, "cannot read: %s", strerror((int)-n));
    } else if (looks_scannable(w, fr, buf, (size_t)n)) {
        switch (format_of(w->opts, in)) {
        case IN_JSONL:
            for_each_line(w, fd, in, fr, buf, n, scan_jsonl_record);
            flush_batch(w, in, fr);
            break;
        case IN_CSV:
            scan_csv(w, fd, in, fr, NULL, 0, buf, n, ',');
            break;
        case IN_TSV:
            scan_csv(w, fd, in, fr, NULL, 0, buf, n, '\t');
            break;
        default:
            scan_text(w, fd, in, fr, buf, n);
            break;
        }
    }
    explicit_bzero(buf, READ_CHUNK);
    free(buf);
}

void scan_one(struct scan_worker *w, const struct scan_input *in, struct file_result *fr)
{
    int fd = in->is_stdin ? STDIN_FILENO : open(in->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        output_error(w->out, fr, 0, "cannot open: %s", strerror(errno));
        return;
    }
    size_t len = 0;
    const char *mapped = in->is_stdin ? NULL : map_file(fd, &len);
    if (mapped && ex_needs_extraction(mapped, len)) {
        munmap((void *)mapped, len);
        scan_extracted(w, fd, in, fr);
    } else if (mapped && (format_of(w->opts, in) != IN_TEXT || w->opts->redact_dir)) {
        scan_mapped(w, mapped, len, in, fr);
        munmap((void *)mapped, len);
    } else {
        /* Plain text is read in pieces into one buffer rather than scanned where it is mapped:
         * the kernel's copy is cheap, and each of the scanner's passes then finds the piece in
         * the cache instead of taking the mapped pages' misses (0.30 s against 0.26 s per 100 MB
         * of chat, bench/scan (d)). Redaction needs the whole text: it keeps the mapping. */
        if (mapped) {
            munmap((void *)mapped, len);
        }
        if (!in->is_stdin) {
            (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        }
        scan_read(w, fd, in, fr);
    }
    if (!in->is_stdin) {
        close(fd);
    }
}
