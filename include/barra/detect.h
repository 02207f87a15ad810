/* SPDX-License-Identifier: Apache-2.0 */
/* The classifier: finds personal data (identity documents, phones, cards, e-mail, plates, dates of
 * birth, PIPL Art. 28 sensitive terms) in UTF-8 text.
 *
 * A detector is the compiled, immutable entity catalogue; share one between threads. A scanner is
 * the per-thread scratch that scans with it. Text can be scanned in one call or streamed in pieces
 * of any size, in constant memory; findings come back through a callback in order of their start
 * offset. */
#ifndef BARRA_DETECT_H
#define BARRA_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <barra/error.h>
#include <barra/version.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct barra_detector barra_detector_t;
typedef struct barra_scanner barra_scanner_t;

enum barra_finding_flags {
    BARRA_FINDING_MASKED = 1u << 0, /* the value is partly masked, e.g. 138****5678 */
    BARRA_FINDING_MINOR = 1u << 1,  /* the value implies a data subject under 14 */
    BARRA_FINDING_TERM = 1u << 2,   /* a sensitive-category word, not an identifier */
};

struct barra_finding {
    const char *type;         /* e.g. "cn_resident_id"; static for the detector's lifetime */
    const char *subtype;      /* e.g. "hk_residence_permit", or NULL */
    const char *category;     /* PIPL category: identity, contact, financial, medical, ... */
    const char *jurisdiction; /* of the data subject: "cn", "hk", "mo", "tw" or "unknown" */
    uint64_t start;           /* byte offsets into the scanned text (the whole stream) */
    uint64_t end;
    uint64_t line;      /* 1-based line of `start`, when BARRA_SCAN_LINES is set; else 0 */
    uint64_t column;    /* 1-based byte column of `start` in that line, likewise */
    double score;       /* confidence in [0, 1] */
    uint32_t flags;     /* enum barra_finding_flags */
    int32_t birth_date; /* YYYYMMDD when the value encodes a birth date, else 0 */
    /* The matched bytes and a canonical form (full-width folded, separators removed). Both point
     * into memory that is valid only during the callback. Personal data: never log them. */
    const char *value;
    size_t value_len;
    const char *normalized;
    size_t normalized_len;
};

/* Called for each finding. Return 0 to go on, non-zero to stop the scan (which then returns
 * -BARRA_ECANCELED). */
typedef int (*barra_finding_fn)(const struct barra_finding *finding, void *userdata);

struct barra_detector_options {
    /* Directory of entity rules to compile instead of the built-in catalogue; NULL for built-in. */
    const char *rules_dir;
    /* Findings scoring below this are not reported; a negative value means the catalogue's default.
     */
    double min_score;
    /* Reference date YYYYMMDD for "birth date not in the future" and "under 14"; 0 means today. */
    int32_t reference_date;
};

/* Sets options to their defaults. */
BARRA_EXPORT void barra_detector_options_init(struct barra_detector_options *opts);

/* Builds a detector. opts may be NULL (defaults). Returns owned; release with
 * barra_detector_unref(). */
BARRA_EXPORT int barra_detector_new(const struct barra_detector_options *opts,
                                    barra_detector_t **ret, struct barra_error *reterr);
BARRA_EXPORT barra_detector_t *barra_detector_ref(barra_detector_t *d);
/* Drops a reference; frees on the last one. Returns NULL. */
BARRA_EXPORT barra_detector_t *barra_detector_unref(barra_detector_t *d);
/* Content hash (hex SHA-256) of the compiled entity catalogue: names the rules a finding came from.
 */
BARRA_EXPORT const char *barra_detector_rules_version(const barra_detector_t *d);
/* The classifier's own version: the release and a hash of its sources, e.g. "0.1.0+src.1a2b...". */
BARRA_EXPORT const char *barra_detector_engine_version(const barra_detector_t *d);
/* Number of finding types and the name of type i (0 <= i < count); static for the detector's life.
 */
BARRA_EXPORT size_t barra_detector_type_count(const barra_detector_t *d);
BARRA_EXPORT const char *barra_detector_type_name(const barra_detector_t *d, size_t i);
/* The PIPL category of type i ("identity", "contact", "medical", ...). */
BARRA_EXPORT const char *barra_detector_type_category(const barra_detector_t *d, size_t i);

enum barra_scan_flags {
    BARRA_SCAN_LINES = 1u << 0,      /* fill finding->line and ->column */
    BARRA_SCAN_CHECK_UTF8 = 1u << 1, /* record where the text is not valid UTF-8 */
};

/* A scanner for one thread. Returns owned; free with barra_scanner_free(). */
BARRA_EXPORT int barra_scanner_new(barra_detector_t *d, uint32_t flags, barra_scanner_t **ret,
                                   struct barra_error *reterr);
BARRA_EXPORT barra_scanner_t *barra_scanner_free(barra_scanner_t *s);

/* Scans text[0..len) in one call; offsets count from text. `label` (may be NULL) is a field name or
 * column header that describes the text; its words count as context placed just before the text. */
BARRA_EXPORT int barra_scanner_scan(barra_scanner_t *s, const char *text, size_t len,
                                    const char *label, size_t label_len, barra_finding_fn fn,
                                    void *userdata);

/* Streaming: feed pieces of any size, then finish. Findings arrive once enough text follows them;
 * offsets count from the first byte fed since the last finish (or since creation). */
BARRA_EXPORT int barra_scanner_feed(barra_scanner_t *s, const char *data, size_t len,
                                    barra_finding_fn fn, void *userdata);
BARRA_EXPORT int barra_scanner_finish(barra_scanner_t *s, barra_finding_fn fn, void *userdata);

/* Called after each part of a long text or stream is scanned, with the bytes scanned so far; NULL
 * to stop. Optional: for progress bars. */
typedef void (*barra_progress_fn)(uint64_t bytes_done, void *userdata);
BARRA_EXPORT void barra_scanner_set_progress(barra_scanner_t *s, barra_progress_fn fn,
                                             void *userdata);

struct barra_scan_stats {
    uint64_t bytes;         /* bytes scanned since the last finish */
    uint64_t invalid_utf8;  /* number of invalid UTF-8 sequences (with BARRA_SCAN_CHECK_UTF8) */
    uint64_t first_invalid; /* offset of the first one */
    uint64_t first_invalid_line; /* its line (with BARRA_SCAN_LINES), else 0 */
};

/* Statistics of the current (or, right after finish, the last finished) stream. */
BARRA_EXPORT void barra_scanner_stats(const barra_scanner_t *s, struct barra_scan_stats *ret);

#ifdef __cplusplus
}
#endif

#endif
