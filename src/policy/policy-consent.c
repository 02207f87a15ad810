/* SPDX-License-Identifier: Apache-2.0 */
/* The in-memory consent registry and its JSON-file loader: enough to decide and to test; the
 * gateway's store implements the same provider interface on SQLite or PostgreSQL. */
#include "config.h"

#include <jansson.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "policy/policy-int.h"

#include "core/banned.h"

#define CONSENT_MAX_FIELD 1024

struct consent_record {
    enum barra_consent_state state;
    int64_t expires;
};

struct barra_consent_memory {
    struct pol_syms keys; /* "subject\x1fpurpose" -> index into records */
    struct consent_record *records;
    uint32_t cap;
};

BARRA_EXPORT int barra_consent_memory_new(barra_consent_memory_t **ret)
{
    if (ret == NULL) {
        return -BARRA_EINVAL;
    }
    *ret = barra_calloc(1, sizeof(**ret));
    return *ret ? 0 : -BARRA_ENOMEM;
}

BARRA_EXPORT barra_consent_memory_t *barra_consent_memory_free(barra_consent_memory_t *m)
{
    if (m) {
        pol_syms_done(&m->keys);
        barra_free(m->records);
        barra_free(m);
    }
    return NULL;
}

static int make_key(const char *subject, const char *purpose, char *out, size_t cap)
{
    size_t a = strlen(subject), b = strlen(purpose);
    if (a == 0 || b == 0 || a > CONSENT_MAX_FIELD || b > CONSENT_MAX_FIELD || a + b + 2 > cap ||
        strchr(subject, '\x1f') || strchr(purpose, '\x1f')) {
        return -BARRA_EINVAL;
    }
    memcpy(out, subject, a);
    out[a] = '\x1f';
    memcpy(out + a + 1, purpose, b + 1);
    return 0;
}

BARRA_EXPORT int barra_consent_memory_set(barra_consent_memory_t *m, const char *subject,
                                          const char *purpose, enum barra_consent_state state,
                                          int64_t expires)
{
    char key[2 * CONSENT_MAX_FIELD + 2];
    if (m == NULL || subject == NULL || purpose == NULL || state > BARRA_CONSENT_EXPIRED ||
        make_key(subject, purpose, key, sizeof(key)) < 0) {
        return -BARRA_EINVAL;
    }
    uint32_t id;
    if (pol_syms_intern(&m->keys, key, &id) < 0) {
        return -BARRA_ENOMEM;
    }
    if (id >= m->cap) {
        uint32_t cap = m->cap ? m->cap * 2 : 64;
        while (cap <= id) {
            cap *= 2;
        }
        struct consent_record *r = barra_reallocarray(m->records, cap, sizeof(*r));
        if (r == NULL) {
            return -BARRA_ENOMEM;
        }
        m->records = r;
        m->cap = cap;
    }
    m->records[id] = (struct consent_record){.state = state, .expires = expires};
    return 0;
}

static int memory_lookup(void *userdata, const char *subject, const char *purpose, int64_t at,
                         enum barra_consent_state *ret_state)
{
    const barra_consent_memory_t *m = userdata;
    char key[2 * CONSENT_MAX_FIELD + 2];
    if (make_key(subject, purpose, key, sizeof(key)) < 0) {
        *ret_state = BARRA_CONSENT_MISSING;
        return 0;
    }
    uint32_t id = pol_syms_find(&m->keys, key);
    if (id == POL_NO_SYM) {
        *ret_state = BARRA_CONSENT_MISSING;
        return 0;
    }
    const struct consent_record *r = &m->records[id];
    *ret_state = r->state == BARRA_CONSENT_GRANTED && r->expires != 0 && at >= r->expires
                     ? BARRA_CONSENT_EXPIRED
                     : r->state;
    return 0;
}

BARRA_EXPORT struct barra_consent_provider barra_consent_memory_provider(barra_consent_memory_t *m)
{
    return (struct barra_consent_provider){.lookup = memory_lookup, .userdata = m};
}

static int load_record(barra_consent_memory_t *m, json_t *rec, size_t i, const char *path,
                       struct barra_error *reterr)
{
    const char *subject = NULL, *purpose = NULL, *state = NULL, *expires = NULL;
    json_error_t jerr;
    if (json_unpack_ex(rec, &jerr, JSON_STRICT, "{s:s, s:s, s:s, s?:s}", "subject", &subject,
                       "purpose", &purpose, "state", &state, "expires", &expires) < 0) {
        return barra_error_set(reterr, -BARRA_EFORMAT, "%s: consent %zu: %s", path, i + 1,
                               jerr.text);
    }
    int st = -1;
    for (int s = BARRA_CONSENT_MISSING; s <= BARRA_CONSENT_EXPIRED; s++) {
        if (strcmp(state, barra_consent_state_name((enum barra_consent_state)s)) == 0) {
            st = s;
        }
    }
    if (st < 0) {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "%s: consent %zu: state is granted, refused, withdrawn, expired or "
                               "missing",
                               path, i + 1);
    }
    int64_t until = 0;
    int32_t offset;
    if (expires && pol_parse_time(expires, &until, &offset) < 0) {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "%s: consent %zu: expires must be RFC 3339, e.g. "
                               "2027-01-01T00:00:00+08:00",
                               path, i + 1);
    }
    int r = barra_consent_memory_set(m, subject, purpose, (enum barra_consent_state)st, until);
    if (r < 0) {
        return barra_error_set(reterr, r, "%s: consent %zu: %s", path, i + 1,
                               r == -BARRA_EINVAL ? "subject or purpose is empty or too long"
                                                  : "out of memory");
    }
    return 0;
}

BARRA_EXPORT int barra_consent_memory_load_file(barra_consent_memory_t *m, const char *path,
                                                struct barra_error *reterr)
{
    if (m == NULL || path == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no registry or file");
    }
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        return barra_error_set_at(reterr, -BARRA_EFORMAT, path, (uint32_t)jerr.line,
                                  (uint32_t)jerr.column, "%s", jerr.text);
    }
    json_t *list = json_object_get(root, "consents");
    int r = 0;
    if (!json_is_object(root) || !json_is_array(list) || json_object_size(root) != 1) {
        r = barra_error_set(reterr, -BARRA_EFORMAT,
                            "%s: expected {\"consents\": [...]} and nothing else", path);
    }
    size_t i;
    json_t *rec;
    json_array_foreach(list, i, rec)
    {
        if (r < 0 || (r = load_record(m, rec, i, path, reterr)) < 0) {
            break;
        }
    }
    json_decref(root);
    return r;
}
