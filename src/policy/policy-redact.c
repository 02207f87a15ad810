/* SPDX-License-Identifier: Apache-2.0 */
/* How a policy redacts: the method for each finding type, and redacting a whole text. */
#include "config.h"

#include <stdlib.h>

#include "core/alloc.h"
#include "policy/policy-int.h"

#include "core/banned.h"

const struct redact_method *pol_redact_method(const struct barra_policy *p, uint32_t type_sym)
{
    static const struct redact_method full_mask = {.kind = REDACT_MASK};
    if (p == NULL) {
        return &full_mask;
    }
    for (uint32_t i = 0; i < p->redaction.n; i++) {
        if (p->redaction.type_syms[i] == type_sym) {
            return &p->redaction.methods[i];
        }
    }
    return &p->redaction.fallback;
}

static int cmp_span(const void *a, const void *b)
{
    const struct redact_span *x = a, *y = b;
    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    return (x->end < y->end) - (x->end > y->end); /* the longer span first: it covers the other */
}

void pol_sort_spans(struct redact_span *spans, size_t n)
{
    if (n > 1) {
        qsort(spans, n, sizeof(*spans), cmp_span);
    }
}

BARRA_EXPORT int barra_policy_redact(const barra_policy_t *p, const char *text, size_t len,
                                     const barra_findings_t *findings, const barra_key_t *key,
                                     barra_write_fn write, void *userdata)
{
    if (text == NULL || write == NULL) {
        return -BARRA_EINVAL;
    }
    size_t n = findings ? findings->n : 0;
    struct redact_span *spans = barra_calloc(n + 1, sizeof(*spans));
    if (spans == NULL) {
        return -BARRA_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct pol_finding *f = &findings->items[i];
        uint32_t sym = p ? pol_syms_find(&p->syms, f->type) : POL_NO_SYM;
        spans[i] = (struct redact_span){
            .start = f->start,
            .end = f->end,
            .method = *pol_redact_method(p, sym),
            .type = f->type,
            .normalized = f->normalized,
            .normalized_len = f->normalized_len,
        };
    }
    pol_sort_spans(spans, n);
    int r = redact_apply(text, len, spans, n, key, write, userdata);
    barra_free(spans);
    return r;
}
