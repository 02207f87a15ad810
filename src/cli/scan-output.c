/* SPDX-License-Identifier: Apache-2.0 */
/* What `barra scan` prints: a report for people (values masked, grouped by file and type, colour on
 * a terminal), a JSON summary, or one JSON object per finding. Files are reported in the order
 * given, whatever order the threads finish them in; the file being reported streams its output, the
 * others wait in memory. */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/sbuf.h"
#include "cli/scan.h"

#define HUMAN_SHOWN_PER_TYPE 10
#define NACTIONS             (BARRA_ACTION_BLOCK + 1)
#define FLUSH_AT             (1u << 20)

/* A finding kept for the human report, value already masked. */
struct shown {
    uint32_t type;
    uint64_t line, column, row;
    char *where; /* field or id, or NULL */
    char *value;
    double score;
    uint32_t flags;
    const char *subtype;
};

struct file_result {
    size_t index;
    bool done;
    struct sbuf out;  /* stdout text not yet written */
    struct sbuf err;  /* stderr text not yet written */
    uint64_t *counts; /* per type */
    uint64_t findings;
    uint64_t errors;
    char *note;
    struct shown *shown;
    size_t nshown, capshown;
    struct sbuf json_errors;    /* for the JSON summary: a JSON array body */
    uint64_t actions[NACTIONS]; /* policy decisions by action */
    struct sbuf decisions;      /* human format: the decisions worth showing */
    uint64_t decisions_shown;
};

/* What the JSON summary needs of a file once its output is written. */
struct file_summary {
    uint64_t findings, errors;
    char *note;
    char *errors_json;
    uint64_t *counts;
    uint64_t actions[NACTIONS];
};

struct output {
    const struct scan_options *opts;
    const struct input_list *inputs;
    barra_detector_t *det;
    size_t ntypes;
    const char **type_names; /* the detector's own strings, which findings point to */
    pthread_mutex_t lock;
    pthread_mutex_t stderr_lock;
    struct file_result **files;
    size_t next; /* the file whose output is being written */
    struct file_summary *summaries;
    uint64_t *total_counts;
    uint64_t total_findings, total_errors, files_with_findings, skipped;
    uint64_t total_actions[NACTIONS];
    atomic_uint_fast64_t bytes_done;
    atomic_size_t files_done;
};

static const char *color(const struct output *o, const char *code)
{
    return o->opts->color ? code : "";
}

struct output *output_new(const struct scan_options *opts, const struct input_list *inputs,
                          barra_detector_t *det)
{
    struct output *o = calloc(1, sizeof(*o));
    if (o == NULL) {
        return NULL;
    }
    o->opts = opts;
    o->inputs = inputs;
    o->det = det;
    o->ntypes = barra_detector_type_count(det);
    o->files = calloc(inputs->n ? inputs->n : 1, sizeof(*o->files));
    o->summaries = calloc(inputs->n ? inputs->n : 1, sizeof(*o->summaries));
    o->total_counts = calloc(o->ntypes ? o->ntypes : 1, sizeof(uint64_t));
    o->type_names = calloc(o->ntypes ? o->ntypes : 1, sizeof(*o->type_names));
    if (o->files == NULL || o->summaries == NULL || o->total_counts == NULL ||
        o->type_names == NULL) {
        output_free(o);
        return NULL;
    }
    for (size_t i = 0; i < o->ntypes; i++) {
        o->type_names[i] = barra_detector_type_name(det, i);
    }
    pthread_mutex_init(&o->lock, NULL);
    pthread_mutex_init(&o->stderr_lock, NULL);
    return o;
}

static void file_result_free(struct file_result *fr)
{
    if (fr == NULL) {
        return;
    }
    sbuf_free(&fr->out);
    sbuf_free(&fr->err);
    sbuf_free(&fr->json_errors);
    sbuf_free(&fr->decisions);
    for (size_t i = 0; i < fr->nshown; i++) {
        free(fr->shown[i].where);
        if (fr->shown[i].value) {
            memset(fr->shown[i].value, 0, strlen(fr->shown[i].value));
        }
        free(fr->shown[i].value);
    }
    free(fr->shown);
    free(fr->counts);
    free(fr->note);
    free(fr);
}

void output_free(struct output *o)
{
    if (o == NULL) {
        return;
    }
    for (size_t i = 0; o->files && i < o->inputs->n; i++) {
        file_result_free(o->files[i]);
    }
    for (size_t i = 0; o->summaries && i < o->inputs->n; i++) {
        free(o->summaries[i].note);
        free(o->summaries[i].errors_json);
        free(o->summaries[i].counts);
    }
    free(o->files);
    free(o->summaries);
    free(o->total_counts);
    free(o->type_names);
    pthread_mutex_destroy(&o->lock);
    pthread_mutex_destroy(&o->stderr_lock);
    free(o);
}

struct file_result *output_file(struct output *o, size_t index)
{
    struct file_result *fr = calloc(1, sizeof(*fr));
    if (fr == NULL) {
        return NULL;
    }
    fr->index = index;
    fr->counts = calloc(o->ntypes ? o->ntypes : 1, sizeof(uint64_t));
    if (fr->counts == NULL) {
        free(fr);
        return NULL;
    }
    pthread_mutex_lock(&o->lock);
    o->files[index] = fr;
    pthread_mutex_unlock(&o->lock);
    return fr;
}

void output_lock_stderr(struct output *o)
{
    pthread_mutex_lock(&o->stderr_lock);
    if (o->opts->progress) {
        fputs("\r\033[K", stderr);
    }
}

void output_unlock_stderr(struct output *o)
{
    pthread_mutex_unlock(&o->stderr_lock);
}

void output_progress(struct output *o, uint64_t *ret_bytes, size_t *ret_files)
{
    *ret_bytes = atomic_load(&o->bytes_done);
    *ret_files = atomic_load(&o->files_done);
}

void output_bytes(struct output *o, struct file_result *fr, uint64_t n)
{
    (void)fr;
    atomic_fetch_add(&o->bytes_done, n);
}

/* ---- masking ---- */

static size_t cp_len(unsigned char c)
{
    return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

/* Keeps the first and last few characters and separators, stars the rest: enough to recognise a
 * value one already knows, not enough to learn it. */
static char *mask_value(const char *v, size_t n, bool is_email)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i += cp_len((unsigned char)v[i])) {
        chars++;
    }
    size_t keep = chars >= 12 ? 3 : chars >= 6 ? 2 : 1;
    const char *at = is_email ? memchr(v, '@', n) : NULL;
    struct sbuf b = {0};
    size_t k = 0;
    for (size_t i = 0; i < n; k++) {
        size_t l = cp_len((unsigned char)v[i]);
        if (i + l > n) {
            l = n - i;
        }
        bool sep = l == 1 && (v[i] == ' ' || v[i] == '-' || v[i] == '(' || v[i] == ')' ||
                              v[i] == '/' || v[i] == '.' || v[i] == '+');
        bool visible;
        if (at) {
            visible = (const char *)v + i >= at || k == 0;
        } else {
            visible = sep || k < keep || k >= chars - keep;
        }
        if (visible) {
            sbuf_add(&b, v + i, l);
        } else {
            sbuf_putc(&b, '*');
        }
        i += l;
    }
    if (b.oom) {
        sbuf_free(&b);
        return strdup("***");
    }
    return b.data ? b.data : strdup("");
}

static bool sensitive_category(const char *c)
{
    static const char *const names[] = {"medical",   "biometric",   "religion", "specific_identity",
                                        "financial", "whereabouts", "minor"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(c, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

static size_t type_index(const struct output *o, const char *type)
{
    /* Type names are the detector's own strings: compare pointers, then (defensively) text. */
    for (size_t i = 0; i < o->ntypes; i++) {
        if (o->type_names[i] == type) {
            return i;
        }
    }
    for (size_t i = 0; i < o->ntypes; i++) {
        if (strcmp(o->type_names[i], type) == 0) {
            return i;
        }
    }
    return 0;
}

/* ---- writing in order ---- */

static void write_buffers(struct output *o, struct file_result *fr)
{
    if (fr->err.len) {
        output_lock_stderr(o);
        fwrite(fr->err.data, 1, fr->err.len, stderr);
        output_unlock_stderr(o);
        sbuf_clear(&fr->err);
    }
    if (fr->out.len) {
        fwrite(fr->out.data, 1, fr->out.len, stdout);
        sbuf_clear(&fr->out);
    }
}

static void maybe_flush(struct output *o, struct file_result *fr)
{
    if (fr->out.len < FLUSH_AT && fr->err.len < FLUSH_AT) {
        return;
    }
    pthread_mutex_lock(&o->lock);
    if (o->next == fr->index) {
        write_buffers(o, fr);
    }
    pthread_mutex_unlock(&o->lock);
}

void output_finding(struct output *o, struct file_result *fr, const struct barra_finding *f,
                    const struct finding_where *w)
{
    size_t t = type_index(o, f->type);
    fr->counts[t]++;
    fr->findings++;
    if (o->opts->format == OUT_HUMAN) {
        if (!o->opts->all_occurrences && fr->counts[t] > HUMAN_SHOWN_PER_TYPE) {
            return;
        }
        if (fr->nshown == fr->capshown) {
            size_t cap = fr->capshown ? fr->capshown * 2 : 16;
            void *q = reallocarray(fr->shown, cap, sizeof(*fr->shown));
            if (q == NULL) {
                return;
            }
            fr->shown = q;
            fr->capshown = cap;
        }
        struct shown *s = &fr->shown[fr->nshown++];
        memset(s, 0, sizeof(*s));
        s->type = (uint32_t)t;
        s->line = w->line;
        s->column = w->column;
        s->row = w->row;
        s->score = f->score;
        s->flags = f->flags;
        s->subtype = f->subtype;
        if (w->field || w->record_id || w->path || w->location) {
            struct sbuf where = {0};
            if (w->path) {
                sbuf_puts(&where, w->path);
                sbuf_puts(&where, w->location && w->location[0] ? " " : "");
            }
            if (w->location) {
                sbuf_puts(&where, w->location);
            }
            if (w->record_id) {
                sbuf_puts(&where, "id ");
                sbuf_add(&where, w->record_id, w->record_id_len);
                sbuf_puts(&where, w->field ? ", " : "");
            }
            if (w->field) {
                sbuf_add(&where, w->field, w->field_len);
            }
            s->where = where.data;
        }
        bool term = f->flags & BARRA_FINDING_TERM;
        if (o->opts->show_values || term) {
            s->value = strndup(f->value, f->value_len);
        } else {
            s->value = mask_value(f->value, f->value_len, strcmp(f->type, "email") == 0);
        }
        return;
    }
    if (o->opts->format != OUT_JSONL) {
        return;
    }
    struct sbuf *b = &fr->out;
    const char *path = w->path ? w->path : w->input->path;
    sbuf_puts(b, "{\"path\":");
    sbuf_json_string(b, path, strlen(path));
    if (w->location && w->location[0]) {
        sbuf_puts(b, ",\"location\":");
        sbuf_json_string(b, w->location, strlen(w->location));
    }
    if (w->record_id) {
        sbuf_puts(b, ",\"id\":");
        sbuf_json_string(b, w->record_id, w->record_id_len);
    }
    if (w->line) {
        sbuf_printf(b, ",\"line\":%llu", (unsigned long long)w->line);
    }
    if (w->column) {
        sbuf_printf(b, ",\"column\":%llu", (unsigned long long)w->column);
    }
    if (w->row) {
        sbuf_printf(b, ",\"row\":%llu", (unsigned long long)w->row);
    }
    if (w->field) {
        sbuf_puts(b, ",\"field\":");
        sbuf_json_string(b, w->field, w->field_len);
    }
    sbuf_printf(b, ",\"start\":%llu,\"end\":%llu,\"type\":", (unsigned long long)f->start,
                (unsigned long long)f->end);
    sbuf_json_string(b, f->type, strlen(f->type));
    if (f->subtype) {
        sbuf_puts(b, ",\"subtype\":");
        sbuf_json_string(b, f->subtype, strlen(f->subtype));
    }
    sbuf_puts(b, ",\"category\":");
    sbuf_json_string(b, f->category, strlen(f->category));
    sbuf_puts(b, ",\"jurisdiction\":");
    sbuf_json_string(b, f->jurisdiction, strlen(f->jurisdiction));
    sbuf_printf(b, ",\"score\":%.3f,\"masked\":%s,\"minor\":%s,\"sensitive\":%s", f->score,
                (f->flags & BARRA_FINDING_MASKED) ? "true" : "false",
                (f->flags & BARRA_FINDING_MINOR) ? "true" : "false",
                sensitive_category(f->category) ? "true" : "false");
    if (o->opts->show_values) {
        sbuf_puts(b, ",\"value\":");
        sbuf_json_string(b, f->value, f->value_len);
        sbuf_puts(b, ",\"normalized\":");
        sbuf_json_string(b, f->normalized, f->normalized_len);
        if (f->birth_date) {
            sbuf_printf(b, ",\"birth_date\":\"%04d-%02d-%02d\"", f->birth_date / 10000,
                        f->birth_date / 100 % 100, f->birth_date % 100);
        }
    }
    sbuf_puts(b, "}\n");
    maybe_flush(o, fr);
}

void output_decision(struct output *o, struct file_result *fr, const barra_decision_t *d,
                     const char *json, const char *record_id, size_t record_id_len, uint64_t line)
{
    enum barra_action a = barra_decision_action(d);
    fr->actions[a]++;
    if (o->opts->format == OUT_JSONL) {
        struct sbuf *b = &fr->out;
        const char *path = o->inputs->v[fr->index].path;
        sbuf_puts(b, "{\"path\":");
        sbuf_json_string(b, path, strlen(path));
        if (record_id) {
            sbuf_puts(b, ",\"id\":");
            sbuf_json_string(b, record_id, record_id_len);
        }
        if (line) {
            sbuf_printf(b, ",\"line\":%llu", (unsigned long long)line);
        }
        sbuf_printf(b, ",\"decision\":%s}\n", json);
        maybe_flush(o, fr);
        return;
    }
    if (o->opts->format != OUT_HUMAN || (a == BARRA_ACTION_ALLOW && line) ||
        fr->decisions_shown++ >= HUMAN_SHOWN_PER_TYPE) {
        return;
    }
    const char *rule = barra_decision_deciding_rule(d);
    sbuf_puts(&fr->decisions, "  ");
    if (line) {
        sbuf_printf(&fr->decisions, "line %llu: ", (unsigned long long)line);
    }
    sbuf_printf(&fr->decisions, "%sdecision %s%s, tier %s", color(o, "\033[1m"),
                barra_action_name(a), color(o, "\033[0m"), barra_decision_tier(d));
    if (rule) {
        sbuf_printf(&fr->decisions, " (rule %s)", rule);
    }
    sbuf_putc(&fr->decisions, '\n');
}

__attribute__((format(printf, 5, 0))) static void vmessage(struct output *o, struct file_result *fr,
                                                           uint64_t line, bool error,
                                                           const char *fmt, va_list ap)
{
    char msg[1024];
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    const char *path = o->inputs->v[fr->index].path;
    if (line) {
        sbuf_printf(&fr->err, "barra: %s:%llu: %s\n", path, (unsigned long long)line, msg);
    } else {
        sbuf_printf(&fr->err, "barra: %s: %s\n", path, msg);
    }
    if (error) {
        fr->errors++;
        if (fr->json_errors.len) {
            sbuf_putc(&fr->json_errors, ',');
        }
        sbuf_printf(&fr->json_errors, "{\"line\":%llu,\"message\":", (unsigned long long)line);
        sbuf_json_string(&fr->json_errors, msg, strlen(msg));
        sbuf_putc(&fr->json_errors, '}');
    } else if (fr->note == NULL) {
        fr->note = strdup(msg);
    }
    maybe_flush(o, fr);
}

void output_error(struct output *o, struct file_result *fr, uint64_t line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(o, fr, line, true, fmt, ap);
    va_end(ap);
}

void output_note(struct output *o, struct file_result *fr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(o, fr, 0, false, fmt, ap);
    va_end(ap);
}

/* ---- the human report, one file at a time ---- */

static void human_file(struct output *o, struct file_result *fr, struct sbuf *b)
{
    if (fr->findings == 0 && fr->decisions.len == 0) {
        return;
    }
    const char *path = o->inputs->v[fr->index].path;
    sbuf_printf(b, "%s%s%s  (%llu finding%s)\n", color(o, "\033[1m"), path, color(o, "\033[0m"),
                (unsigned long long)fr->findings, fr->findings == 1 ? "" : "s");
    for (size_t t = 0; t < o->ntypes; t++) {
        if (fr->counts[t] == 0) {
            continue;
        }
        sbuf_printf(b, "  %s%s%s  %llu\n", color(o, "\033[36m"),
                    barra_detector_type_name(o->det, t), color(o, "\033[0m"),
                    (unsigned long long)fr->counts[t]);
        for (size_t i = 0; i < fr->nshown; i++) {
            const struct shown *s = &fr->shown[i];
            if (s->type != t) {
                continue;
            }
            char loc[64];
            if (s->row) {
                (void)snprintf(loc, sizeof(loc), "row %llu", (unsigned long long)s->row);
            } else if (s->column) {
                (void)snprintf(loc, sizeof(loc), "%llu:%llu", (unsigned long long)s->line,
                               (unsigned long long)s->column);
            } else {
                (void)snprintf(loc, sizeof(loc), "line %llu", (unsigned long long)s->line);
            }
            sbuf_printf(b, "    %-12s %s", loc, s->value);
            sbuf_printf(b, "  %s%.2f", color(o, "\033[2m"), s->score);
            if (s->subtype) {
                sbuf_printf(b, " %s", s->subtype);
            }
            if (s->flags & BARRA_FINDING_MASKED) {
                sbuf_puts(b, " masked");
            }
            if (s->flags & BARRA_FINDING_MINOR) {
                sbuf_puts(b, " minor");
            }
            if (s->where) {
                sbuf_printf(b, " (%s)", s->where);
            }
            sbuf_printf(b, "%s\n", color(o, "\033[0m"));
        }
        if (!o->opts->all_occurrences && fr->counts[t] > HUMAN_SHOWN_PER_TYPE) {
            sbuf_printf(b, "    ... and %llu more (--all shows every one)\n",
                        (unsigned long long)(fr->counts[t] - HUMAN_SHOWN_PER_TYPE));
        }
    }
    if (fr->decisions.len) {
        sbuf_add(b, fr->decisions.data, fr->decisions.len);
    }
    if (fr->decisions_shown > HUMAN_SHOWN_PER_TYPE) {
        sbuf_printf(b, "  ... and %llu more decisions\n",
                    (unsigned long long)(fr->decisions_shown - HUMAN_SHOWN_PER_TYPE));
    }
    sbuf_putc(b, '\n');
}

/* Moves what the summary needs out of a written file's result. */
static void keep_summary(struct output *o, struct file_result *fr)
{
    struct file_summary *s = &o->summaries[fr->index];
    s->findings = fr->findings;
    s->errors = fr->errors;
    s->note = fr->note;
    fr->note = NULL;
    s->errors_json = fr->json_errors.data;
    fr->json_errors.data = NULL;
    for (size_t t = 0; t < o->ntypes; t++) {
        o->total_counts[t] += fr->counts[t];
    }
    if (o->opts->format == OUT_JSON) {
        s->counts = fr->counts;
        fr->counts = NULL;
    }
    for (size_t a = 0; a < NACTIONS; a++) {
        s->actions[a] = fr->actions[a];
        o->total_actions[a] += fr->actions[a];
    }
    o->total_findings += fr->findings;
    o->total_errors += fr->errors;
    o->files_with_findings += fr->findings > 0;
    o->skipped += s->note != NULL;
}

void output_file_done(struct output *o, struct file_result *fr)
{
    pthread_mutex_lock(&o->lock);
    fr->done = true;
    while (o->next < o->inputs->n && o->files[o->next] && o->files[o->next]->done) {
        struct file_result *cur = o->files[o->next];
        if (o->opts->format == OUT_HUMAN) {
            human_file(o, cur, &cur->out);
        }
        write_buffers(o, cur);
        keep_summary(o, cur);
        file_result_free(cur);
        o->files[o->next] = NULL;
        o->next++;
        atomic_fetch_add(&o->files_done, 1);
    }
    pthread_mutex_unlock(&o->lock);
}

/* ---- the end ---- */

static bool any_decision(const uint64_t *actions)
{
    for (size_t a = 0; a < NACTIONS; a++) {
        if (actions[a]) {
            return true;
        }
    }
    return false;
}

static void human_summary(struct output *o, double seconds)
{
    FILE *f = stdout;
    double mib = (double)atomic_load(&o->bytes_done) / (1024.0 * 1024.0);
    fprintf(f, "%sScanned %zu file%s (%.1f MiB) in %.2f s: ", color(o, "\033[1m"), o->inputs->n,
            o->inputs->n == 1 ? "" : "s", mib, seconds);
    if (o->total_findings == 0) {
        fprintf(f, "no personal data found.%s\n", color(o, "\033[0m"));
    } else {
        fprintf(f, "%llu finding%s in %llu file%s.%s\n", (unsigned long long)o->total_findings,
                o->total_findings == 1 ? "" : "s", (unsigned long long)o->files_with_findings,
                o->files_with_findings == 1 ? "" : "s", color(o, "\033[0m"));
        for (size_t t = 0; t < o->ntypes; t++) {
            if (o->total_counts[t]) {
                fprintf(f, "  %-26s %8llu\n", barra_detector_type_name(o->det, t),
                        (unsigned long long)o->total_counts[t]);
            }
        }
    }
    if (any_decision(o->total_actions)) {
        fprintf(f, "Decisions:");
        for (size_t a = 0; a < NACTIONS; a++) {
            if (o->total_actions[a]) {
                fprintf(f, " %s %llu", barra_action_name((enum barra_action)a),
                        (unsigned long long)o->total_actions[a]);
            }
        }
        fputc('\n', f);
    }
    if (o->skipped) {
        fprintf(f, "%llu file%s skipped (see the notes above).\n", (unsigned long long)o->skipped,
                o->skipped == 1 ? "" : "s");
    }
    if (o->total_errors) {
        fprintf(f, "%s%llu error%s: part of the input was not scanned (see above).%s\n",
                color(o, "\033[31m"), (unsigned long long)o->total_errors,
                o->total_errors == 1 ? "" : "s", color(o, "\033[0m"));
    }
    const char *v = barra_detector_rules_version(o->det);
    fprintf(f, "%sbarra %s, rules %.12s%s\n", color(o, "\033[2m"), barra_version(), v,
            color(o, "\033[0m"));
}

static void json_counts(struct sbuf *b, const struct output *o, const uint64_t *counts)
{
    sbuf_putc(b, '{');
    bool first = true;
    for (size_t t = 0; counts && t < o->ntypes; t++) {
        if (counts[t]) {
            const char *name = barra_detector_type_name(o->det, t);
            sbuf_printf(b, "%s", first ? "" : ",");
            sbuf_json_string(b, name, strlen(name));
            sbuf_printf(b, ":%llu", (unsigned long long)counts[t]);
            first = false;
        }
    }
    sbuf_putc(b, '}');
}

static void json_actions(struct sbuf *b, const uint64_t *actions)
{
    sbuf_puts(b, ",\"decisions\":{");
    for (size_t a = 0; a < NACTIONS; a++) {
        sbuf_printf(b, "%s\"%s\":%llu", a ? "," : "", barra_action_name((enum barra_action)a),
                    (unsigned long long)actions[a]);
    }
    sbuf_putc(b, '}');
}

static void json_summary(struct output *o, double seconds)
{
    struct sbuf b = {0};
    sbuf_printf(&b,
                "{\"barra\":\"%s\",\"rules_version\":\"%s\",\"files\":%zu,"
                "\"files_with_findings\":%llu,\"bytes\":%llu,\"seconds\":%.3f,\"findings\":%llu,"
                "\"errors\":%llu,\"skipped\":%llu,\"by_type\":",
                barra_version(), barra_detector_rules_version(o->det), o->inputs->n,
                (unsigned long long)o->files_with_findings,
                (unsigned long long)atomic_load(&o->bytes_done), seconds,
                (unsigned long long)o->total_findings, (unsigned long long)o->total_errors,
                (unsigned long long)o->skipped);
    json_counts(&b, o, o->total_counts);
    if (o->opts->policy_path) {
        json_actions(&b, o->total_actions);
    }
    sbuf_puts(&b, ",\"per_file\":[");
    for (size_t i = 0; i < o->inputs->n; i++) {
        const struct file_summary *s = &o->summaries[i];
        sbuf_printf(&b, "%s{\"path\":", i ? "," : "");
        sbuf_json_string(&b, o->inputs->v[i].path, strlen(o->inputs->v[i].path));
        sbuf_printf(&b, ",\"findings\":%llu,\"by_type\":", (unsigned long long)s->findings);
        json_counts(&b, o, s->counts);
        sbuf_printf(&b, ",\"errors\":[%s]", s->errors_json ? s->errors_json : "");
        if (any_decision(s->actions)) {
            json_actions(&b, s->actions);
        }
        if (s->note) {
            sbuf_puts(&b, ",\"skipped\":");
            sbuf_json_string(&b, s->note, strlen(s->note));
        }
        sbuf_putc(&b, '}');
    }
    sbuf_puts(&b, "]}\n");
    fwrite(b.data, 1, b.len, stdout);
    sbuf_free(&b);
}

int output_finish(struct output *o, double seconds)
{
    if (o->opts->format == OUT_HUMAN) {
        human_summary(o, seconds);
    } else if (o->opts->format == OUT_JSON) {
        json_summary(o, seconds);
    }
    fflush(stdout);
    if (o->total_errors) {
        return 2;
    }
    return o->total_findings ? 1 : 0;
}
