/* SPDX-License-Identifier: Apache-2.0 */
/* The current policy of a running service. Reload compiles the new file aside and swaps it in only
 * when it is valid; a reader holds its own reference, so a swap never pulls a policy from under a
 * decision in flight. */
#include "config.h"

#include <pthread.h>

#include "core/alloc.h"
#include "core/error.h"
#include "policy/policy-int.h"

#include "core/banned.h"

struct barra_policy_slot {
    pthread_mutex_t lock; /* held only to copy or swap the pointer and count a reference */
    barra_policy_t *current;
};

BARRA_EXPORT int barra_policy_slot_new(barra_policy_t *initial, barra_policy_slot_t **ret)
{
    if (initial == NULL || ret == NULL) {
        return -BARRA_EINVAL;
    }
    barra_policy_slot_t *s = barra_calloc(1, sizeof(*s));
    if (s == NULL) {
        return -BARRA_ENOMEM;
    }
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        barra_free(s);
        return -BARRA_ENOMEM;
    }
    s->current = barra_policy_ref(initial);
    *ret = s;
    return 0;
}

BARRA_EXPORT barra_policy_t *barra_policy_slot_get(barra_policy_slot_t *s)
{
    if (s == NULL) {
        return NULL;
    }
    (void)pthread_mutex_lock(&s->lock);
    barra_policy_t *p = barra_policy_ref(s->current);
    (void)pthread_mutex_unlock(&s->lock);
    return p;
}

BARRA_EXPORT void barra_policy_slot_set(barra_policy_slot_t *s, barra_policy_t *p)
{
    if (s == NULL || p == NULL) {
        return;
    }
    barra_policy_ref(p);
    (void)pthread_mutex_lock(&s->lock);
    barra_policy_t *old = s->current;
    s->current = p;
    (void)pthread_mutex_unlock(&s->lock);
    barra_policy_unref(old); /* outside the lock: freeing a policy takes a while */
}

BARRA_EXPORT int barra_policy_slot_reload(barra_policy_slot_t *s, const char *path,
                                          const struct barra_policy_options *opts,
                                          struct barra_error *reterr)
{
    if (s == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no policy slot");
    }
    barra_policy_t *p;
    int r = barra_policy_load(path, opts, &p, reterr);
    if (r < 0) {
        return r;
    }
    barra_policy_slot_set(s, p);
    barra_policy_unref(p);
    return 0;
}

BARRA_EXPORT barra_policy_slot_t *barra_policy_slot_free(barra_policy_slot_t *s)
{
    if (s) {
        barra_policy_unref(s->current);
        (void)pthread_mutex_destroy(&s->lock);
        barra_free(s);
    }
    return NULL;
}
