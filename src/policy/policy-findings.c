/* SPDX-License-Identifier: Apache-2.0 */
/* Collecting the classifier's findings for a decision. The matched values are kept (references and
 * pseudonyms are computed from them) and wiped as soon as they are no longer needed. */
#include "config.h"

#include <string.h>

#include "core/alloc.h"
#include "policy/policy-int.h"

#include "core/banned.h"

#define FINDINGS_MAX 10000000 /* about 1 GB of findings: a bound, not a target */

BARRA_EXPORT int barra_findings_new(barra_findings_t **ret)
{
    if (ret == NULL) {
        return -BARRA_EINVAL;
    }
    *ret = barra_calloc(1, sizeof(**ret));
    return *ret ? 0 : -BARRA_ENOMEM;
}

BARRA_EXPORT int barra_findings_add(barra_findings_t *fs, const struct barra_finding *f)
{
    if (fs == NULL || f == NULL || f->type == NULL) {
        return -BARRA_EINVAL;
    }
    if (fs->n >= FINDINGS_MAX) {
        return -BARRA_ELIMIT;
    }
    if (fs->n == fs->cap) {
        size_t cap = fs->cap ? fs->cap * 2 : 16;
        struct pol_finding *items = barra_reallocarray(fs->items, cap, sizeof(*items));
        if (items == NULL) {
            return -BARRA_ENOMEM;
        }
        fs->items = items;
        fs->cap = cap;
    }
    const char *v = f->normalized ? f->normalized : f->value;
    size_t vn = f->normalized ? f->normalized_len : f->value_len;
    struct pol_finding *pf = &fs->items[fs->n];
    *pf = (struct pol_finding){
        .type = f->type,
        .subtype = f->subtype,
        .category = f->category,
        .jurisdiction = f->jurisdiction,
        .start = f->start,
        .end = f->end,
        .score = f->score,
        .flags = f->flags,
        .normalized_len = (uint32_t)(vn < UINT32_MAX ? vn : 0),
    };
    pf->normalized = barra_malloc(pf->normalized_len + 1);
    if (pf->normalized == NULL) {
        return -BARRA_ENOMEM;
    }
    if (pf->normalized_len) {
        memcpy(pf->normalized, v, pf->normalized_len);
    }
    pf->normalized[pf->normalized_len] = '\0';
    fs->n++;
    return 0;
}

BARRA_EXPORT int barra_findings_collect(const struct barra_finding *f, void *userdata)
{
    return barra_findings_add(userdata, f);
}

void pol_finding_wipe(struct pol_finding *f)
{
    if (f->normalized) {
        explicit_bzero(f->normalized, f->normalized_len);
        barra_free(f->normalized);
        f->normalized = NULL;
    }
}

BARRA_EXPORT void barra_findings_clear(barra_findings_t *fs)
{
    if (fs) {
        for (size_t i = 0; i < fs->n; i++) {
            pol_finding_wipe(&fs->items[i]);
        }
        fs->n = 0;
    }
}

BARRA_EXPORT size_t barra_findings_count(const barra_findings_t *fs)
{
    return fs ? fs->n : 0;
}

BARRA_EXPORT barra_findings_t *barra_findings_free(barra_findings_t *fs)
{
    if (fs) {
        barra_findings_clear(fs);
        barra_free(fs->items);
        barra_free(fs);
    }
    return NULL;
}
