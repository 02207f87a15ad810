/* SPDX-License-Identifier: Apache-2.0 */
/* The engine's state in a file, so that a restart does not reset a 30-day window or forget which
 * countries a user has been seen in: every group's window and suppression under every rule (by
 * rule id: rules added since start empty, rules removed are dropped), the learning clock, and the
 * events still waiting in the reorder buffer. JSON, written to a temporary file, synced and
 * renamed over the old one. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/jsonr.h"
#include "core/jsonw.h"
#include "monitor/engine-int.h"

#include "core/banned.h"

enum { STATE_VERSION = 1 };
#define MAX_STATE_BYTES (1ull << 31)

static void write_key(struct buf *b, const struct mon_key *k)
{
    (void)buf_append_str(b, "{\"key\":");
    (void)jsonw_string(b, k->key);
    (void)buf_printf(b,
                     ",\"seen\":%" PRId64 ",\"quiet_until\":%" PRId64 ",\"suppressed\":%" PRIu64
                     ",\"progress\":%u,\"entries\":[",
                     k->seen_ms, k->quiet_until, k->suppressed, k->progress);
    for (size_t i = 0; i < k->n; i++) {
        const struct mon_entry *x = &k->e[k->head + i];
        (void)buf_printf(b, "%s[%" PRId64 ",%.0f,", i ? "," : "", x->t, x->amount);
        (void)jsonw_string(b, x->value);
        (void)buf_append_char(b, ',');
        (void)jsonw_string(b, x->ref);
        (void)buf_append_char(b, ']');
    }
    (void)buf_append_str(b, "],\"hits\":[");
    for (size_t i = 0; k->hits && i < MON_MAX_REFS; i++) {
        (void)buf_printf(b, "%s[%" PRId64 ",", i ? "," : "", k->hits->t[i]);
        (void)jsonw_string(b, k->hits->ref[i]);
        (void)buf_append_char(b, ']');
    }
    (void)buf_append_str(b, "]}");
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int mon_engine_save(const struct mon_engine *e, const char *path, struct barra_error *err)
{
    struct buf b;
    buf_init(&b, MAX_STATE_BYTES);
    (void)buf_printf(&b,
                     "{\"barra_monitor_state\":%d,\"started\":%s,\"first\":%" PRId64
                     ",\"processed\":%" PRId64 ",\"max_seen\":%" PRId64 ",\"rules\":{",
                     STATE_VERSION, e->started ? "true" : "false", e->first_ms, e->processed,
                     e->max_seen);
    bool comma = false;
    for (size_t i = 0; i < e->rules->n; i++) {
        const struct mon_table *t = &e->tables[i];
        if (t->n == 0) {
            continue;
        }
        (void)buf_append_str(&b, comma ? "," : "");
        (void)jsonw_key(&b, e->rules->r[i].id);
        (void)buf_append_char(&b, '[');
        for (const struct mon_key *k = t->oldest; k; k = k->next) {
            write_key(&b, k);
            (void)buf_append_str(&b, k->next ? "," : "");
        }
        (void)buf_append_char(&b, ']');
        comma = true;
    }
    (void)buf_append_str(&b, "},\"pending\":[");
    for (size_t i = 0; i < e->nheap; i++) {
        (void)buf_append_str(&b, i ? "," : "");
        mon_event_json(e->heap[i], &b);
    }
    (void)buf_append_str(&b, "]}\n");
    if (b.err) {
        buf_done(&b);
        return barra_error_set(err, -BARRA_ENOMEM, "the monitor state is larger than 2 GiB");
    }
    char tmp[4096];
    (void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int r = fd < 0 || write_all(fd, b.data, b.len) < 0 || fsync(fd) < 0 ? -1 : 0;
    if (fd >= 0 && close(fd) < 0) {
        r = -1;
    }
    if (r == 0 && rename(tmp, path) < 0) {
        r = -1;
    }
    buf_done(&b);
    if (r < 0) {
        int saved = errno;
        (void)unlink(tmp);
        return barra_error_set(err, -BARRA_EIO, "%s: cannot write the monitor state: %s", path,
                               strerror(saved));
    }
    return 0;
}

static int64_t int_of(const struct jr_value *v)
{
    return v && v->type == JR_INTEGER ? v->u.i : 0;
}

static const char *str_of(const struct jr_value *v)
{
    return v && v->type == JR_STRING && strlen(v->u.s) == v->n ? v->u.s : NULL;
}

static int restore_key(struct mon_engine *e, struct mon_table *t, const struct jr_value *o)
{
    const char *key = str_of(jr_get(o, "key"));
    const struct jr_value *entries = jr_get(o, "entries"), *hits = jr_get(o, "hits");
    if (key == NULL || entries == NULL || entries->type != JR_ARRAY || hits == NULL ||
        hits->type != JR_ARRAY || hits->n > MON_MAX_REFS) {
        return -BARRA_EFORMAT;
    }
    struct mon_key *k = mon_table_get(e, t, key, strlen(key), true);
    if (k == NULL) {
        return -BARRA_ENOMEM;
    }
    k->seen_ms = int_of(jr_get(o, "seen"));
    k->quiet_until = int_of(jr_get(o, "quiet_until"));
    k->suppressed = (uint64_t)int_of(jr_get(o, "suppressed"));
    k->progress = (unsigned)int_of(jr_get(o, "progress"));
    if (k->progress > MON_MAX_REFS) {
        return -BARRA_EFORMAT;
    }
    for (uint32_t i = 0; i < entries->n; i++) {
        const struct jr_value *x = &entries->u.items[i];
        if (x->type != JR_ARRAY || x->n != 4 || x->u.items[0].type != JR_INTEGER ||
            x->u.items[1].type != JR_INTEGER || str_of(&x->u.items[3]) == NULL) {
            return -BARRA_EFORMAT;
        }
        if (k->n == k->cap) {
            size_t cap = k->cap ? k->cap * 2 : 4;
            struct mon_entry *v = barra_reallocarray(k->e, cap, sizeof(*v));
            if (v == NULL) {
                return -BARRA_ENOMEM;
            }
            k->e = v;
            k->cap = cap;
        }
        struct mon_entry *m = &k->e[k->n];
        const char *value = str_of(&x->u.items[2]);
        *m = (struct mon_entry){.t = x->u.items[0].u.i, .amount = (double)x->u.items[1].u.i};
        m->ref = barra_strdup(str_of(&x->u.items[3]));
        m->value = value ? barra_strdup(value) : NULL;
        if (m->ref == NULL || (value && m->value == NULL)) {
            barra_free(m->ref);
            barra_free(m->value);
            return -BARRA_ENOMEM;
        }
        k->n++;
    }
    if (hits->n && k->hits == NULL && (k->hits = barra_calloc(1, sizeof(*k->hits))) == NULL) {
        return -BARRA_ENOMEM;
    }
    for (uint32_t i = 0; i < hits->n; i++) {
        const struct jr_value *x = &hits->u.items[i];
        if (x->type != JR_ARRAY || x->n != 2) {
            return -BARRA_EFORMAT;
        }
        k->hits->t[i] = int_of(&x->u.items[0]);
        const char *ref = str_of(&x->u.items[1]);
        barra_free(k->hits->ref[i]);
        k->hits->ref[i] = NULL;
        if (ref && (k->hits->ref[i] = barra_strdup(ref)) == NULL) {
            return -BARRA_ENOMEM;
        }
    }
    return 0;
}

static int restore(struct mon_engine *e, const struct jr_value *root)
{
    const struct jr_value *rules = jr_get(root, "rules"), *pending = jr_get(root, "pending");
    if (int_of(jr_get(root, "barra_monitor_state")) != STATE_VERSION || rules == NULL ||
        rules->type != JR_OBJECT || pending == NULL || pending->type != JR_ARRAY) {
        return -BARRA_EFORMAT;
    }
    const struct jr_value *started = jr_get(root, "started");
    e->started = started && started->type == JR_TRUE;
    e->first_ms = int_of(jr_get(root, "first"));
    e->processed = int_of(jr_get(root, "processed"));
    e->max_seen = int_of(jr_get(root, "max_seen"));
    for (uint32_t i = 0; i < rules->n; i++) {
        const struct jr_member *m = &rules->u.members[i];
        size_t at = 0;
        while (at < e->rules->n && strcmp(e->rules->r[at].id, m->key) != 0) {
            at++;
        }
        if (at == e->rules->n) {
            continue; /* a rule no longer loaded */
        }
        if (m->value.type != JR_ARRAY) {
            return -BARRA_EFORMAT;
        }
        for (uint32_t k = 0; k < m->value.n; k++) {
            int r = restore_key(e, &e->tables[at], &m->value.u.items[k]);
            if (r < 0) {
                return r;
            }
        }
    }
    int r = 0;
    for (uint32_t i = 0; r == 0 && i < pending->n; i++) {
        const struct jr_value *ev = &pending->u.items[i];
        const char *ref = str_of(jr_get(ev, "ref"));
        struct mon_event *parsed = NULL;
        r = ev->type != JR_OBJECT || ref == NULL
                ? -BARRA_EFORMAT
                : mon_event_from_jr(ev, ref, NULL, NULL, &parsed, NULL);
        if (r == 0) {
            (void)snprintf(parsed->ref, sizeof(parsed->ref), "%s", ref);
            r = mon_engine_hold(e, parsed); /* accepted before the restart: held again */
        }
    }
    return r;
}

int mon_engine_restore(struct mon_engine *e, const char *path, struct barra_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return errno == ENOENT ? 0
                               : barra_error_set(err, -BARRA_EIO, "%s: %s", path, strerror(errno));
    }
    struct buf text;
    buf_init(&text, MAX_STATE_BYTES);
    char chunk[65536];
    size_t k;
    while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        (void)buf_append(&text, chunk, k);
    }
    bool bad_read = ferror(f);
    (void)fclose(f);
    if (bad_read || text.err) {
        buf_done(&text);
        return barra_error_set(err, -BARRA_EIO, "%s: cannot be read whole", path);
    }
    struct jr_doc doc;
    struct jr_error jerr;
    int r = jr_parse(text.data ? text.data : "", text.len, &doc, &jerr);
    if (r == 0) {
        r = restore(e, &doc.root);
    }
    jr_free(&doc);
    buf_done(&text);
    if (r == -BARRA_ENOMEM) {
        return barra_error_set(err, r, "out of memory reading %s", path);
    }
    if (r < 0) {
        return barra_error_set(err, -BARRA_EFORMAT,
                               "%s: not a monitor state file of this version (move it aside to "
                               "start afresh)",
                               path);
    }
    return 0;
}
