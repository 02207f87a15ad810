/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "cli/glob.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct glob_pattern {
    char *text;    /* without '!', leading '/' and trailing '/' */
    bool negate;   /* "!pattern" */
    bool dir_only; /* "pattern/" */
    bool anchored; /* contains a '/' before its end: matched against the whole relative path */
};

struct glob_list {
    struct glob_pattern *p;
    size_t n;
};

struct glob_list *glob_list_new(void)
{
    return calloc(1, sizeof(struct glob_list));
}

void glob_list_free(struct glob_list *l)
{
    if (l == NULL) {
        return;
    }
    for (size_t i = 0; i < l->n; i++) {
        free(l->p[i].text);
    }
    free(l->p);
    free(l);
}

static bool class_match(const char **pp, char c)
{
    const char *p = *pp + 1;
    bool negate = *p == '!' || *p == '^';
    if (negate) {
        p++;
    }
    bool hit = false;
    bool first = true;
    while (*p && (*p != ']' || first)) {
        first = false;
        char lo = *p, hi = *p;
        if (p[1] == '-' && p[2] && p[2] != ']') {
            hi = p[2];
            p += 2;
        }
        if (c >= lo && c <= hi) {
            hit = true;
        }
        p++;
    }
    if (*p != ']') {
        /* An unclosed '[' is a literal. */
        return c == '[';
    }
    *pp = p;
    return hit != negate;
}

bool glob_match(const char *pat, const char *text)
{
    while (*pat) {
        if (pat[0] == '*' && pat[1] == '*') {
            const char *rest = pat + 2;
            if (*rest == '/') {
                rest++;
                /* "**\/x": x here or after any number of folders. */
                for (const char *t = text;; t++) {
                    if ((t == text || t[-1] == '/') && glob_match(rest, t)) {
                        return true;
                    }
                    if (*t == '\0') {
                        return false;
                    }
                }
            }
            for (const char *t = text;; t++) {
                if (glob_match(rest, t)) {
                    return true;
                }
                if (*t == '\0') {
                    return false;
                }
            }
        }
        if (*pat == '*') {
            for (const char *t = text;; t++) {
                if (glob_match(pat + 1, t)) {
                    return true;
                }
                if (*t == '\0' || *t == '/') {
                    return false;
                }
            }
        }
        if (*text == '\0') {
            return false;
        }
        if (*pat == '?') {
            if (*text == '/') {
                return false;
            }
        } else if (*pat == '[') {
            const char *q = pat;
            if (*text == '/' || !class_match(&q, *text)) {
                return false;
            }
            pat = q;
        } else {
            if (*pat == '\\' && pat[1]) {
                pat++;
            }
            if (*pat != *text) {
                return false;
            }
        }
        pat++;
        text++;
    }
    return *text == '\0';
}

int glob_list_add(struct glob_list *l, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ')) {
        n--;
    }
    if (n == 0 || line[0] == '#') {
        return 0;
    }
    struct glob_pattern g = {0};
    if (line[0] == '!') {
        g.negate = true;
        line++;
        n--;
    }
    if (n && line[n - 1] == '/') {
        g.dir_only = true;
        n--;
    }
    if (n && line[0] == '/') {
        g.anchored = true;
        line++;
        n--;
    }
    if (n == 0) {
        return 0;
    }
    if (memchr(line, '/', n)) {
        g.anchored = true;
    }
    g.text = strndup(line, n);
    void *q = reallocarray(l->p, l->n + 1, sizeof(*l->p));
    if (g.text == NULL || q == NULL) {
        free(g.text);
        free(q == l->p ? NULL : q);
        return -ENOMEM;
    }
    l->p = q;
    l->p[l->n++] = g;
    return 0;
}

int glob_list_add_file(struct glob_list *l, const char *path)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        return -errno;
    }
    char *line = NULL;
    size_t cap = 0;
    int r = 0;
    while (r == 0 && getline(&line, &cap, f) >= 0) {
        r = glob_list_add(l, line);
    }
    free(line);
    (void)fclose(f);
    return r;
}

bool glob_list_excludes(const struct glob_list *l, const char *rel, bool is_dir)
{
    if (l == NULL) {
        return false;
    }
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    bool excluded = false;
    for (size_t i = 0; i < l->n; i++) {
        const struct glob_pattern *g = &l->p[i];
        if (g->dir_only && !is_dir) {
            continue;
        }
        bool hit = g->anchored ? glob_match(g->text, rel) : glob_match(g->text, base);
        if (hit) {
            excluded = !g->negate;
        }
    }
    return excluded;
}
