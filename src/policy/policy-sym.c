/* SPDX-License-Identifier: Apache-2.0 */
/* Interned names: every string a policy compares against becomes a small integer once, at compile
 * time. */
#include "config.h"

#include <string.h>

#include "core/alloc.h"
#include "policy/policy-int.h"

#include "core/banned.h"

static uint32_t hash_name(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 16777619u;
    }
    return h;
}

uint32_t pol_syms_find(const struct pol_syms *s, const char *name)
{
    if (s->nslots == 0 || name == NULL) {
        return POL_NO_SYM;
    }
    for (uint32_t i = hash_name(name) & (s->nslots - 1);; i = (i + 1) & (s->nslots - 1)) {
        uint32_t v = s->slots[i];
        if (v == 0) {
            return POL_NO_SYM;
        }
        if (strcmp(s->names[v - 1], name) == 0) {
            return v - 1;
        }
    }
}

static int rehash(struct pol_syms *s, uint32_t nslots)
{
    uint32_t *slots = barra_calloc(nslots, sizeof(*slots));
    if (slots == NULL) {
        return -BARRA_ENOMEM;
    }
    for (uint32_t id = 0; id < s->n; id++) {
        uint32_t i = hash_name(s->names[id]) & (nslots - 1);
        while (slots[i] != 0) {
            i = (i + 1) & (nslots - 1);
        }
        slots[i] = id + 1;
    }
    barra_free(s->slots);
    s->slots = slots;
    s->nslots = nslots;
    return 0;
}

int pol_syms_intern(struct pol_syms *s, const char *name, uint32_t *ret_id)
{
    uint32_t id = pol_syms_find(s, name);
    if (id != POL_NO_SYM) {
        *ret_id = id;
        return 0;
    }
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 32;
        char **names = barra_reallocarray(s->names, cap, sizeof(*names));
        if (names == NULL) {
            return -BARRA_ENOMEM;
        }
        s->names = names;
        s->cap = cap;
    }
    char *copy = barra_strdup(name);
    if (copy == NULL) {
        return -BARRA_ENOMEM;
    }
    s->names[s->n++] = copy;
    /* Keep the table at most half full. */
    if (2 * s->n > s->nslots) {
        if (rehash(s, s->nslots ? s->nslots * 2 : 64) < 0) {
            barra_free(s->names[--s->n]);
            return -BARRA_ENOMEM;
        }
    } else {
        uint32_t i = hash_name(copy) & (s->nslots - 1);
        while (s->slots[i] != 0) {
            i = (i + 1) & (s->nslots - 1);
        }
        s->slots[i] = s->n;
    }
    *ret_id = s->n - 1;
    return 0;
}

void pol_syms_done(struct pol_syms *s)
{
    for (uint32_t i = 0; i < s->n; i++) {
        barra_free(s->names[i]);
    }
    barra_free(s->names);
    barra_free(s->slots);
    memset(s, 0, sizeof(*s));
}
