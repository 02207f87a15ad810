/* SPDX-License-Identifier: Apache-2.0 */
/* Event files for `barra monitor run`: JSON Lines (one event a line), CSV with a header row naming
 * the fields (time, actor, action, …; destination_host for destination.host), or an egress
 * proxy's access log (Squid native, nginx combined). */
#include "config.h"

#include "cli/monitor-input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

enum { MAX_LINE = 1 << 20, MAX_COLUMNS = 64 };

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

/* Splits one CSV record (RFC 4180: quoted fields, doubled quotes) in place. */
static int split_csv(char *line, char **cells, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max) {
            return -1;
        }
        char *out = p;
        cells[n++] = p;
        if (*p == '"') {
            char *r = p + 1;
            for (;;) {
                if (*r == '\0') {
                    return -1; /* an unclosed quote */
                }
                if (*r == '"' && r[1] == '"') {
                    *out++ = '"';
                    r += 2;
                } else if (*r == '"') {
                    r++;
                    break;
                } else {
                    *out++ = *r++;
                }
            }
            if (*r != ',' && *r != '\0') {
                return -1;
            }
            bool more = *r == ',';
            *out = '\0';
            if (!more) {
                return n;
            }
            p = r + 1;
        } else {
            char *comma = strchr(p, ',');
            if (comma == NULL) {
                return n;
            }
            *comma = '\0';
            p = comma + 1;
        }
    }
}

int monitor_read_events(const struct monitor_args *a, const char *path, struct mon_engine *e,
                        uint64_t *rejected)
{
    bool csv = a->input_format ? strcmp(a->input_format, "csv") == 0 : ends_with(path, ".csv");
    bool squid = a->input_format && strcmp(a->input_format, "squid") == 0;
    bool nginx = a->input_format && strcmp(a->input_format, "nginx") == 0;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "barra monitor: %s: %s\n", path, strerror(errno));
        return 2;
    }
    const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    char *line = NULL, *header[MAX_COLUMNS];
    char *header_line = NULL;
    int ncols = 0, rc = 0;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
            line[--len] = '\0';
        }
        if (len == 0) {
            continue;
        }
        char ref[48];
        (void)snprintf(ref, sizeof(ref), "%.32s:%lu", base, lineno);
        if ((size_t)len > MAX_LINE) {
            fprintf(stderr, "%s:%lu: error: a line longer than 1 MiB\n", name, lineno);
            (*rejected)++;
            continue;
        }
        struct barra_error err = {0};
        struct mon_event *ev = NULL;
        int r;
        if (csv && header_line == NULL) {
            if ((header_line = barra_strdup(line)) == NULL) {
                rc = 2;
                break;
            }
            ncols = split_csv(header_line, header, MAX_COLUMNS);
            if (ncols <= 0) {
                fprintf(stderr, "%s:%lu: error: the header row is not CSV\n", name, lineno);
                rc = 2;
            }
            continue;
        }
        if (csv) {
            char *cells[MAX_COLUMNS];
            int k = split_csv(line, cells, MAX_COLUMNS);
            if (k != ncols) {
                fprintf(stderr, "%s:%lu: error: %d cells where the header has %d\n", name, lineno,
                        k, ncols);
                (*rejected)++;
                continue;
            }
            r = mon_event_from_fields((const char *const *)header, (const char *const *)cells,
                                      (size_t)k, ref, &ev, &err);
        } else if (squid) {
            r = mon_event_from_squid(line, (size_t)len, ref, &ev, &err);
        } else if (nginx) {
            r = mon_event_from_nginx(line, (size_t)len, ref, &ev, &err);
        } else {
            r = mon_event_from_json(line, (size_t)len, ref, &ev, &err);
        }
        if (r == -BARRA_ENOMEM) {
            fprintf(stderr, "barra monitor: out of memory\n");
            rc = 2;
        } else if (r < 0) {
            fprintf(stderr, "%s:%lu: error: %s\n", name, lineno, err.message);
            (*rejected)++;
        } else if ((r = mon_engine_push(e, ev)) < 0) {
            fprintf(stderr, "barra monitor: out of memory\n");
            rc = 2;
        } else if (r == 1) {
            fprintf(stderr,
                    "%s:%lu: warning: the event is older than events already processed (more "
                    "than --lateness behind the latest): not placed\n",
                    name, lineno);
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "barra monitor: %s: read error\n", name);
        rc = 2;
    }
    free(line);
    barra_free(header_line);
    if (f != stdin) {
        (void)fclose(f);
    }
    return rc;
}
