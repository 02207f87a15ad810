/* SPDX-License-Identifier: Apache-2.0 */
/* An open-addressing hash table keyed by (subject reference, purpose), under a read-write lock:
 * decisions read it on every event, consents are recorded rarely. */
#include "config.h"

#include "server/consents.h"

#include <pthread.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

struct slot {
    char ref[65];
    char purpose[65];
    enum barra_consent_state state; /* MISSING marks an empty slot */
    int64_t expires;
};

struct gw_consents {
    pthread_rwlock_t lock;
    const barra_key_t *key;
    struct slot *slots;
    size_t cap, used; /* cap is a power of two */
};

static uint64_t hash(const char *ref, const char *purpose)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *p = ref; *p; p++) {
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    }
    h = (h ^ 0xff) * 1099511628211ull;
    for (const char *p = purpose; *p; p++) {
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    }
    return h;
}

static struct slot *find(struct slot *slots, size_t cap, const char *ref, const char *purpose)
{
    for (size_t i = hash(ref, purpose) & (cap - 1);; i = (i + 1) & (cap - 1)) {
        struct slot *s = &slots[i];
        if (s->state == BARRA_CONSENT_MISSING ||
            (strcmp(s->ref, ref) == 0 && strcmp(s->purpose, purpose) == 0)) {
            return s;
        }
    }
}

static int grow(struct gw_consents *c)
{
    size_t cap = c->cap ? c->cap * 2 : 1024;
    struct slot *slots = barra_calloc(cap, sizeof(*slots));
    if (slots == NULL) {
        return -BARRA_ENOMEM;
    }
    for (size_t i = 0; i < c->cap; i++) {
        if (c->slots[i].state != BARRA_CONSENT_MISSING) {
            *find(slots, cap, c->slots[i].ref, c->slots[i].purpose) = c->slots[i];
        }
    }
    barra_free(c->slots);
    c->slots = slots;
    c->cap = cap;
    return 0;
}

int gw_consents_apply(struct gw_consents *c, const struct consent_record *r)
{
    if (r->state == BARRA_CONSENT_MISSING) {
        return -BARRA_EINVAL;
    }
    pthread_rwlock_wrlock(&c->lock);
    int ret = 0;
    if ((c->used + 1) * 4 > c->cap * 3) {
        ret = grow(c);
    }
    if (ret == 0) {
        struct slot *s = find(c->slots, c->cap, r->subject_ref, r->purpose);
        if (s->state == BARRA_CONSENT_MISSING) {
            c->used++;
            memcpy(s->ref, r->subject_ref, sizeof(s->ref));
            memcpy(s->purpose, r->purpose, sizeof(s->purpose));
        }
        s->state = r->state;
        s->expires = r->expires;
    }
    pthread_rwlock_unlock(&c->lock);
    return ret;
}

enum barra_consent_state gw_consents_state(struct gw_consents *c, const char *subject_ref,
                                           const char *purpose, int64_t at)
{
    pthread_rwlock_rdlock(&c->lock);
    enum barra_consent_state st = BARRA_CONSENT_MISSING;
    if (c->cap) {
        const struct slot *s = find(c->slots, c->cap, subject_ref, purpose);
        st = s->state;
        if (st == BARRA_CONSENT_GRANTED && s->expires != 0 && at >= s->expires) {
            st = BARRA_CONSENT_EXPIRED;
        }
    }
    pthread_rwlock_unlock(&c->lock);
    return st;
}

static int lookup(void *userdata, const char *subject, const char *purpose, int64_t at,
                  enum barra_consent_state *ret_state)
{
    struct gw_consents *c = userdata;
    char ref[65];
    if (barra_key_subject_ref(c->key, subject, ref) < 0) {
        return -BARRA_EIO;
    }
    *ret_state = gw_consents_state(c, ref, purpose, at);
    return 0;
}

struct barra_consent_provider gw_consents_provider(struct gw_consents *c)
{
    return (struct barra_consent_provider){.lookup = lookup, .userdata = c};
}

static int load_one(const struct consent_record *r, void *userdata)
{
    return gw_consents_apply(userdata, r);
}

int gw_consents_open(struct store *store, const barra_key_t *key, struct gw_consents **ret,
                     struct barra_error *reterr)
{
    struct gw_consents *c = barra_calloc(1, sizeof(*c));
    if (c == NULL || grow(c) < 0) {
        barra_free(c);
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    pthread_rwlock_init(&c->lock, NULL);
    c->key = key;
    int r = store->ops->consent_each(store, NULL, NULL, load_one, c, reterr);
    if (r < 0) {
        gw_consents_close(c);
        return r;
    }
    *ret = c;
    return 0;
}

void gw_consents_close(struct gw_consents *c)
{
    if (c) {
        pthread_rwlock_destroy(&c->lock);
        barra_free(c->slots);
        barra_free(c);
    }
}
