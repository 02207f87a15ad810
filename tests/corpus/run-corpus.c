/* SPDX-License-Identifier: Apache-2.0 */
/* Data-driven classifier cases. Each line of a case file is a text in which the expected findings
 * are marked {{type|value}} or {{type/subtype|value}}; the marks are removed, the text is scanned,
 * and the findings must be exactly the marked spans: nothing missing, nothing extra. Directives:
 *   # comment
 *   @types T1 T2 ...     compare only these types in the lines that follow ("@types all" resets)
 *   @min-score X         report threshold for the lines that follow
 * Usage: run-corpus FILE... ; exit status 1 if any case fails. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <barra/detect.h>

#define MAX_MARKS 32

struct mark {
    char type[48];
    char subtype[48];
    size_t start, end;
};

struct found {
    struct mark v[64];
    size_t n;
};

static int collect(const struct barra_finding *f, void *ud)
{
    struct found *r = ud;
    if (r->n < 64) {
        struct mark *m = &r->v[r->n++];
        snprintf(m->type, sizeof(m->type), "%s", f->type);
        snprintf(m->subtype, sizeof(m->subtype), "%s", f->subtype ? f->subtype : "");
        m->start = (size_t)f->start;
        m->end = (size_t)f->end;
    }
    return 0;
}

/* Strips the marks from `line` into `text`; returns the number of marks or -1 on bad markup. */
static int parse_marks(const char *line, char *text, struct mark *marks)
{
    size_t t = 0;
    int n = 0;
    for (const char *p = line; *p;) {
        if (p[0] == '{' && p[1] == '{') {
            const char *bar = strchr(p, '|');
            const char *close = bar ? strstr(bar, "}}") : NULL;
            if (!bar || !close || n == MAX_MARKS) {
                return -1;
            }
            struct mark *m = &marks[n++];
            memset(m, 0, sizeof(*m));
            size_t tl = (size_t)(bar - p - 2);
            const char *slash = memchr(p + 2, '/', tl);
            size_t typelen = slash ? (size_t)(slash - p - 2) : tl;
            snprintf(m->type, sizeof(m->type), "%.*s", (int)typelen, p + 2);
            if (slash) {
                snprintf(m->subtype, sizeof(m->subtype), "%.*s", (int)(bar - slash - 1), slash + 1);
            }
            m->start = t;
            size_t vl = (size_t)(close - bar - 1);
            memcpy(text + t, bar + 1, vl);
            t += vl;
            m->end = t;
            p = close + 2;
        } else {
            text[t++] = *p++;
        }
    }
    text[t] = '\0';
    return n;
}

static bool selected(char types[][48], int ntypes, const char *type)
{
    if (ntypes == 0) {
        return true;
    }
    for (int i = 0; i < ntypes; i++) {
        if (strcmp(types[i], type) == 0) {
            return true;
        }
    }
    return false;
}

static barra_scanner_t *scanner_for(double min_score, barra_detector_t **det)
{
    struct barra_detector_options o;
    barra_detector_options_init(&o);
    o.reference_date = 20261123;
    o.min_score = min_score;
    barra_detector_unref(*det);
    *det = NULL;
    struct barra_error err;
    barra_scanner_t *s = NULL;
    if (barra_detector_new(&o, det, &err) < 0 || barra_scanner_new(*det, 0, &s, &err) < 0) {
        fprintf(stderr, "run-corpus: %s\n", err.message);
        exit(2);
    }
    return s;
}

static void report(const char *file, unsigned lineno, const char *text, const struct mark *want,
                   int nwant, const struct found *got, char types[][48], int ntypes)
{
    fprintf(stderr, "%s:%u: FAILED\n  text: %s\n  want:", file, lineno, text);
    for (int i = 0; i < nwant; i++) {
        fprintf(stderr, " %s%s%s[%zu,%zu)=%.*s", want[i].type, want[i].subtype[0] ? "/" : "",
                want[i].subtype, want[i].start, want[i].end, (int)(want[i].end - want[i].start),
                text + want[i].start);
    }
    fprintf(stderr, "\n  got: ");
    for (size_t i = 0; i < got->n; i++) {
        if (selected(types, ntypes, got->v[i].type)) {
            fprintf(stderr, " %s/%s[%zu,%zu)=%.*s", got->v[i].type, got->v[i].subtype,
                    got->v[i].start, got->v[i].end, (int)(got->v[i].end - got->v[i].start),
                    text + got->v[i].start);
        }
    }
    fprintf(stderr, "\n");
}

static bool matches(const struct mark *want, int nwant, const struct found *got, char types[][48],
                    int ntypes)
{
    int counted = 0;
    for (size_t i = 0; i < got->n; i++) {
        const struct mark *g = &got->v[i];
        if (!selected(types, ntypes, g->type)) {
            continue;
        }
        counted++;
        bool ok = false;
        for (int k = 0; k < nwant && !ok; k++) {
            ok = strcmp(want[k].type, g->type) == 0 && want[k].start == g->start &&
                 want[k].end == g->end &&
                 (!want[k].subtype[0] || strcmp(want[k].subtype, g->subtype) == 0);
        }
        if (!ok) {
            return false;
        }
    }
    return counted == nwant;
}

int main(int argc, char **argv)
{
    barra_detector_t *det = NULL;
    unsigned passed = 0, failed = 0;
    for (int a = 1; a < argc; a++) {
        FILE *f = fopen(argv[a], "r");
        if (f == NULL) {
            perror(argv[a]);
            return 2;
        }
        double min_score = -1;
        barra_scanner_t *s = scanner_for(min_score, &det);
        char types[32][48];
        int ntypes = 0;
        char line[8192], text[8192];
        unsigned lineno = 0;
        while (fgets(line, sizeof(line), f)) {
            lineno++;
            line[strcspn(line, "\n")] = '\0';
            if (line[0] == '\0' || line[0] == '#') {
                continue;
            }
            if (strncmp(line, "@types ", 7) == 0) {
                ntypes = 0;
                for (char *save = NULL, *tok = strtok_r(line + 7, " ", &save); tok && ntypes < 32;
                     tok = strtok_r(NULL, " ", &save)) {
                    if (strcmp(tok, "all") != 0) {
                        snprintf(types[ntypes++], 48, "%s", tok);
                    }
                }
                continue;
            }
            if (strncmp(line, "@min-score ", 11) == 0) {
                min_score = strtod(line + 11, NULL);
                barra_scanner_free(s);
                s = scanner_for(min_score, &det);
                continue;
            }
            struct mark want[MAX_MARKS];
            int nwant = parse_marks(line, text, want);
            if (nwant < 0) {
                fprintf(stderr, "%s:%u: bad markup\n", argv[a], lineno);
                failed++;
                continue;
            }
            struct found got = {.n = 0};
            if (barra_scanner_scan(s, text, strlen(text), NULL, 0, collect, &got) < 0) {
                fprintf(stderr, "%s:%u: scan failed\n", argv[a], lineno);
                failed++;
                continue;
            }
            if (matches(want, nwant, &got, types, ntypes)) {
                passed++;
            } else {
                report(argv[a], lineno, text, want, nwant, &got, types, ntypes);
                failed++;
            }
        }
        barra_scanner_free(s);
        fclose(f);
    }
    barra_detector_unref(det);
    printf("%u cases passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
