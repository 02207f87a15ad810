/* SPDX-License-Identifier: Apache-2.0 */
/* The detector: a refcounted, immutable catalogue plus scan settings. */
#include "config.h"

#include <string.h>

#include <barra/detect.h>

#include "core/alloc.h"
#include "core/date.h"
#include "core/error.h"
#include "detect/detect-rules.h"
#include "detect/detect-scan-int.h"

#include "core/banned.h"

/* The shipped catalogue, compiled from rules/entities/ at build time (builtin-catalog.c). */
extern const unsigned char barra_builtin_catalog[];
extern const size_t barra_builtin_catalog_len;

BARRA_EXPORT const char *barra_version(void)
{
    return BARRA_VERSION;
}

BARRA_EXPORT void barra_detector_options_init(struct barra_detector_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->min_score = -1;
}

BARRA_EXPORT int barra_detector_new(const struct barra_detector_options *opts,
                                    barra_detector_t **ret, struct barra_error *reterr)
{
    struct barra_detector_options defaults;
    if (ret == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no place to return the detector");
    }
    if (opts == NULL) {
        barra_detector_options_init(&defaults);
        opts = &defaults;
    }
    if (opts->min_score > 1) {
        return barra_error_set(reterr, -BARRA_EINVAL, "minimum score %g is above 1",
                               opts->min_score);
    }
    int32_t today = opts->reference_date ? opts->reference_date : date_today();
    if (!date_is_valid(today / 10000, today / 100 % 100, today % 100)) {
        return barra_error_set(reterr, -BARRA_EINVAL,
                               "reference date %d is not a real date (YYYYMMDD)", (int)today);
    }
    struct det_catalog *cat = NULL;
    int r = opts->rules_dir
                ? det_catalog_compile(opts->rules_dir, &cat, reterr)
                : det_catalog_load(barra_builtin_catalog, barra_builtin_catalog_len, &cat, reterr);
    if (r < 0) {
        return r;
    }
    barra_detector_t *d = barra_calloc(1, sizeof(*d));
    if (d == NULL) {
        det_catalog_free(cat);
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory creating the detector");
    }
    atomic_init(&d->refs, 1);
    d->cat = cat;
    d->min_score = opts->min_score >= 0 ? (float)opts->min_score : cat->scoring.threshold;
    d->today = today;
    *ret = d;
    return 0;
}

BARRA_EXPORT barra_detector_t *barra_detector_ref(barra_detector_t *d)
{
    if (d) {
        atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
    }
    return d;
}

BARRA_EXPORT barra_detector_t *barra_detector_unref(barra_detector_t *d)
{
    if (d && atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) == 1) {
        det_catalog_free(d->cat);
        barra_free(d);
    }
    return NULL;
}

BARRA_EXPORT const char *barra_detector_rules_version(const barra_detector_t *d)
{
    return d ? d->cat->version : NULL;
}

extern const char det_engine_version[]; /* generated: the release and a hash of the sources */

BARRA_EXPORT const char *barra_detector_engine_version(const barra_detector_t *d)
{
    (void)d;
    return det_engine_version;
}

BARRA_EXPORT size_t barra_detector_type_count(const barra_detector_t *d)
{
    return d ? d->cat->ntypes : 0;
}

BARRA_EXPORT const char *barra_detector_type_name(const barra_detector_t *d, size_t i)
{
    return d && i < d->cat->ntypes ? d->cat->types[i].name : NULL;
}

BARRA_EXPORT const char *barra_detector_type_category(const barra_detector_t *d, size_t i)
{
    return d && i < d->cat->ntypes ? d->cat->types[i].category : NULL;
}
