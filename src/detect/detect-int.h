/* SPDX-License-Identifier: Apache-2.0 */
/* The detector's compiled catalogue: everything rules/entities/ says, in the form the scanner uses.
 * Private to src/detect/. */
#ifndef BARRA_DETECT_INT_H
#define BARRA_DETECT_INT_H

#include <hs/hs.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum det_kind {
    DET_KIND_IDENTIFIER = 0, /* found by shape (a pattern) and confirmed by a validator */
    DET_KIND_TERM = 1,       /* found as a dictionary word (PIPL Art. 28 categories) */
};

/* Checks that confirm (or refine) a shape match. Names as written in the rules files. */
enum det_validator {
    DET_V_NONE = 0,
    DET_V_CN_RESIDENT_ID,     /* 18 digits: MOD 11-2, birth date, GB/T 2260 region; sets subtype */
    DET_V_CN_RESIDENT_ID_15,  /* legacy 15 digits: region and date, no check digit */
    DET_V_CN_DISABILITY,      /* 20 digits: a valid 18-digit ID + category + grade */
    DET_V_CN_RESIDENT_MASKED, /* 18 characters with '*': region of the visible prefix */
    DET_V_HKID,               /* weighted mod 11 */
    DET_V_TW_ID,              /* letter + 9 digits, weighted mod 10 (citizens and new ARC) */
    DET_V_TW_ARC_OLD,         /* 2 letters + 8 digits */
    DET_V_USCC,               /* GB 32100 mod 31, plus the embedded GB 11714 check */
    DET_V_CARD,               /* IIN ranges + Luhn; sets subtype (brand) */
    DET_V_CARD_NO_LUHN,       /* UnionPay 62 that fails Luhn (legacy cards): keyword-driven */
    DET_V_CARD_MASKED,        /* IIN of the visible prefix, length */
    DET_V_DATE,    /* a real calendar date not after the reference date; minors flagged */
    DET_V_EMAIL,   /* set by the e-mail matcher, never by a pattern */
    DET_V_MRZ_DOC, /* document number followed by its ICAO 9303 7-3-1 check digit */
    DET_V_COUNT
};

enum det_role {
    DET_ROLE_CONTEXT = 0,  /* raises the score of nearby findings of the type */
    DET_ROLE_NEGATIVE = 1, /* lowers it (order, invoice, tracking numbers ...) */
    DET_ROLE_TERM = 2,     /* is itself a finding of a term type */
    DET_ROLE_EXCLUDE = 3, /* a longer word that cancels a term inside it (人工智能 vs 人工) */
    DET_ROLE_TRIGGER = 4, /* look for keyword-triggered patterns (dates of birth) next to it */
};

enum det_pattern_flags {
    DET_PAT_MASKED = 1u << 0,     /* the shape contains mask characters */
    DET_PAT_ON_KEYWORD = 1u << 1, /* tried only next to a TRIGGER keyword, not from digits */
};

enum det_keyword_flags {
    DET_KW_WORD = 1u << 0,     /* ASCII letters may not touch it on either side */
    DET_KW_CASELESS = 1u << 1, /* ASCII letters match in either case */
    DET_KW_GLOBAL = 1u << 2,   /* looked for in all text, not only around candidates */
};

struct det_type {
    char *name;
    char *category;
    char *jurisdiction;
    uint8_t kind;  /* enum det_kind */
    uint8_t order; /* tie-break between equal scores: lower wins */
};

struct det_pattern {
    char *name;
    char *subtype;      /* NULL: none, or as the validator decides */
    char *jurisdiction; /* NULL: the type's, or as the validator decides */
    float base;         /* score with no context */
    float cap;          /* highest score it can reach, context included (1 unless limited) */
    uint16_t type;
    uint16_t verify;   /* id in the catalogue's verify automaton, or DET_NO_VERIFY */
    uint8_t validator; /* enum det_validator */
    uint8_t flags;     /* enum det_pattern_flags */
};

#define DET_NO_VERIFY UINT16_MAX

struct det_keyword {
    char *text;         /* the literal */
    uint32_t len;       /* bytes of the literal */
    uint32_t first_ref; /* refs[first_ref .. first_ref + nrefs) */
    uint16_t nrefs;
    uint8_t flags; /* enum det_keyword_flags */
    /* Derived, not stored: bit (type % 64) for each type the word is context for, and for each
     * type it is context or a lowering word for. A clear bit lets a hit be passed over without
     * reading its refs. */
    uint64_t context_types, scoring_types;
    uint8_t roles; /* derived: bit (1 << role) for each role the word has */
};

static inline uint64_t det_type_bit(uint16_t type)
{
    return (uint64_t)1 << (type & 63);
}

enum det_side {
    DET_SIDE_BEFORE = 1u << 0, /* the word counts when it precedes the value ("订单号 123") */
    DET_SIDE_AFTER = 1u << 1,  /* ... when it follows it ("500 元") */
    DET_SIDE_BOTH = DET_SIDE_BEFORE | DET_SIDE_AFTER,
};

struct det_keyword_ref {
    float weight; /* boost, penalty or term score */
    uint16_t type;
    uint8_t role; /* enum det_role */
    uint8_t side; /* enum det_side */
};

/* A deterministic automaton over folded code points (see detect-shape.c). */
struct det_dfa {
    uint32_t nstates; /* state 0 is dead, 1 is the start */
    uint32_t nclasses;
    uint16_t *trans;        /* nstates * nclasses */
    uint32_t *accept_index; /* nstates + 1 offsets into accept_list */
    uint16_t *accept_list;  /* pattern ids */
    uint32_t naccept;
    uint16_t ascii_class[128];
    uint32_t nranges; /* code points >= 128: ranges[i] .. ranges[i+1]-1 map to range_class[i] */
    uint32_t *range_lo;
    uint16_t *range_class;
    /* Derived: which code points below U+10000 can begin a match (bit per code point), after
     * folding. Lets the scanner skip most start positions without running the automaton. */
    uint8_t *can_start;
};

/* A mail domain suffix and the jurisdiction it suggests (qq.com -> cn). */
struct det_domain_hint {
    char *suffix;
    char *jurisdiction;
};

struct det_scoring {
    float threshold;      /* findings below are not reported */
    uint32_t before;      /* bytes before a candidate searched for keywords */
    uint32_t after;       /* bytes after it */
    uint32_t near;        /* a keyword this close counts in full */
    float far_factor;     /* weight of a keyword farther away */
    float blocked_factor; /* weight of a keyword with another candidate in between */
    uint32_t cooccur;     /* weak terms count when another finding is this close */
    float cooccur_boost;  /* ... and are raised by this much */
};

struct det_catalog {
    _Atomic uint32_t refs;
    char version[65]; /* hex SHA-256 of the serialized catalogue */
    uint32_t ntypes, npatterns, nkeywords, nrefs;
    struct det_type *types;
    struct det_pattern *patterns;
    struct det_keyword *keywords;
    struct det_keyword_ref *refs_list;
    int32_t email_pattern;      /* the pattern e-mail findings use, or -1 */
    uint32_t max_local_keyword; /* bytes of the longest keyword in the local database */
    uint32_t max_keyword;       /* ... in either database */
    uint32_t nhints;
    struct det_domain_hint *hints;
    struct det_dfa digit_dfa;           /* patterns tried at digit runs */
    struct det_dfa keyword_dfa;         /* patterns tried next to TRIGGER keywords */
    struct det_dfa verify_dfa;          /* full-match checks on normalised values (number ranges) */
    uint8_t prefectures[10000 / 8 + 1]; /* GB/T 2260 four-digit prefixes, current and historical */
    struct det_scoring scoring;
    /* Keywords in two Vectorscan databases: the global one (strong terms, date-of-birth triggers,
     * exclusions) runs over all text; the local one (context, negative words, weak terms) only
     * around candidates and strong terms, which is a small part of most text. */
    hs_database_t *hs[2];
};

enum { DET_DB_GLOBAL = 0, DET_DB_LOCAL = 1 };

static inline bool det_prefecture_valid(const struct det_catalog *c, unsigned code4)
{
    return code4 < 10000 && (c->prefectures[code4 >> 3] >> (code4 & 7)) & 1;
}

/* Validator names as written in the rules files. */
const char *det_validator_name(enum det_validator v);
int det_validator_from_name(const char *name);

/* Frees a catalogue built by det_catalog_compile() or det_catalog_load(). */
void det_catalog_free(struct det_catalog *c);

#endif
