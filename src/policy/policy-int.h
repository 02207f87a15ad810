/* SPDX-License-Identifier: Apache-2.0 */
/* The compiled policy, events, findings and decisions: private to src/policy/. */
#ifndef BARRA_POLICY_INT_H
#define BARRA_POLICY_INT_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <barra/policy.h>

#include "redact/redact.h"

#define POL_NO_SYM UINT32_MAX

/* Every name a policy mentions (types, departments, regions, ...) is interned once at compile time
 * so that deciding compares small integers, not strings. */
struct pol_syms {
    char **names;
    uint32_t n, cap;
    uint32_t *slots; /* open addressing: index + 1, 0 = empty */
    uint32_t nslots;
};

int pol_syms_intern(struct pol_syms *s, const char *name, uint32_t *ret_id);
/* The id of name, or POL_NO_SYM when the policy never mentions it. */
uint32_t pol_syms_find(const struct pol_syms *s, const char *name);
/* As pol_syms_find for names the policy stores in lowercase (all but ids). */
uint32_t pol_syms_find_folded(const struct pol_syms *s, const char *name);
void pol_syms_done(struct pol_syms *s);

/* A set of symbol ids (usually one to five). */
struct pol_set {
    uint32_t *ids;
    uint32_t n;
};

static inline bool pol_set_has(const struct pol_set *s, uint32_t id)
{
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->ids[i] == id) {
            return true;
        }
    }
    return false;
}

enum pol_conv_type {
    POL_CONV_UNKNOWN,
    POL_CONV_DIRECT,
    POL_CONV_GROUP,
    POL_CONV_EXTERNAL_GROUP,
};

enum pol_direction {
    POL_DIR_UNKNOWN,
    POL_DIR_INBOUND,
    POL_DIR_OUTBOUND,
    POL_DIR_INTERNAL,
};

enum pol_kind {
    POL_KIND_MESSAGE,
    POL_KIND_FILE,
};

/* ---- Conditions ---- */

enum pol_pred_kind {
    PRED_ALL,
    PRED_ANY,
    PRED_NOT,
    PRED_TIER,
    PRED_FINDINGS,
    /* from here on, conditions about the event (the order matters: see pol_pred_eval) */
    PRED_KIND,
    PRED_SOURCE,
    PRED_CONVERSATION,
    PRED_SENDER,
    PRED_RECIPIENT,
    PRED_DESTINATION,
    PRED_DIRECTION,
    PRED_FILE,
    PRED_TIME,
    PRED_CONSENT,
};

struct pol_findings_sel {
    struct pol_set types, categories, jurisdictions; /* empty = any */
    double min_score;
    int8_t masked; /* -1 any, 0 only unmasked, 1 only masked */
    int8_t minor;  /* -1 any, 1 only values of minors */
    int8_t terms;  /* -1 any, 0 identifiers only, 1 sensitive terms only */
    uint32_t min, max;
};

struct pol_party_sel {
    struct pol_set ids, departments, roles;
};

struct pol_pred {
    enum pol_pred_kind kind;
    uint32_t line, column;
    union {
        struct {
            struct pol_pred **kids;  /* as written: reasons are given in this order */
            struct pol_pred **order; /* the same, cheapest first: deciding goes in this order */
            uint32_t n;
        } list;
        uint32_t tiers; /* bit i = tier i */
        struct pol_findings_sel findings;
        struct pol_set set; /* source */
        uint32_t mask;      /* kind, direction: bits of the enum values */
        struct {
            uint32_t types; /* bits of enum pol_conv_type */
            struct pol_set ids;
        } conversation;
        struct pol_party_sel party;
        struct {
            struct pol_set platforms, regions;
        } destination;
        struct {
            struct pol_set types;
            uint64_t min_size, max_size;
        } file;
        struct {
            int32_t from, to; /* minutes after midnight; from > to wraps past midnight */
            uint8_t days;     /* bit 0 = Monday; 0x7f = every day */
            int32_t offset;   /* minutes east of UTC */
        } time;
        struct {
            uint32_t purpose; /* index into the policy's purposes */
            uint32_t states;  /* bits of enum barra_consent_state */
            bool all;         /* every subject (true) or any subject */
        } consent;
    } u;
};

/* ---- Policy ---- */

/* The compiled conditions live in one arena per policy: close together in memory, because deciding
 * walks them for every message right after the classifier has filled the cache with its own data,
 * and freed all at once with the policy. */
struct pol_arena_chunk {
    struct pol_arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
};

/* Zeroed memory that lives as long as the policy; NULL when out of memory. */
void *pol_arena_alloc(struct barra_policy *p, size_t count, size_t size);

/* Enum values a gate can name (bits of its uint8_t masks). */
#define POL_GATE_VALUES 8

/* What deciding needs of a rule to skip it or evaluate it, packed together. */
struct pol_rule_gate {
    uint64_t needs_types;
    uint32_t tiers;
    /* From the rule's top-level conditions on the event (0 or NULL: no such condition): the kinds,
     * conversation types and directions it accepts (bits), the destination regions and sender
     * departments (symbols). */
    uint8_t kinds, conversation_types, directions;
    bool needs_recipient; /* a condition on the recipients: an event naming none fails it */
    const struct pol_set *regions, *departments;
    const struct pol_pred *when;
    /* What the gate does not guarantee of `when`, cheapest first: all deciding evaluates once the
     * gate has let the event through (NULL: nothing, the rule fires). */
    const struct pol_pred *rest;
};

struct pol_ctx;

/* Fills the event part of a rule's gate from its condition. */
void pol_gate_from_event_conditions(struct pol_rule_gate *g, const struct pol_pred *when);
/* Sets g->rest, once the gate is complete (tiers included). Returns 0 or -BARRA_ENOMEM. */
struct barra_policy;
int pol_gate_rest(struct barra_policy *p, struct pol_rule_gate *g);
/* The rules (bit r = rule r, `p->rule_words` words) the event part of their gates lets through. A
 * gate's mask of 0 is no gate: two conditions that exclude each other intersect to 0, and the
 * evaluator then turns the rule down itself. */
void pol_rules_admitted(struct pol_ctx *c, uint64_t *out);

#define POL_LANGS        4
#define POL_MAX_PURPOSES 8
#define POL_MAX_TIERS    32
extern const char *const pol_lang_names[POL_LANGS]; /* "en", "zh-Hant", "zh-Hans", "pt" */

struct pol_tip {
    char *text[POL_LANGS];
};

struct pol_tier {
    char *name;
    char *description;
    struct pol_pred *when; /* NULL for the lowest tier */
};

struct pol_rule {
    char *id;
    char *description;
    struct pol_pred *when;
    enum barra_action action;
    bool override;
    char **tags;
    uint32_t ntags;
    char *consent_purpose;          /* require_consent */
    char *route;                    /* route_local */
    struct pol_findings_sel redact; /* which findings a redact rule masks */
    char **citations;
    uint32_t ncitations;
    struct pol_tip tip;
    uint32_t line;
    bool needs_findings;  /* cannot fire when nothing was found: skipped then */
    uint64_t needs_types; /* fires only if a finding of one of these types (bits) was made;
                             0 = no such condition */
    uint32_t tiers;       /* fires only in these tiers (bits) */
};

struct pol_redaction {
    struct redact_method fallback;
    uint32_t *type_syms; /* per-type methods */
    struct redact_method *methods;
    uint32_t n;
};

struct barra_policy {
    atomic_uint refs;
    /* What deciding about a message without findings reads, together. */
    enum barra_action default_action;
    uint32_t npurposes;
    uint32_t empty_tier;   /* the tier of content with no findings */
    uint32_t nempty_rules; /* how many rules may fire with no findings */
    char *name;
    char *description;
    char version[65]; /* hex SHA-256 of the policy text */
    char rules_version[65];
    char engine_version[96];
    enum barra_action exception_action;
    struct pol_tip exception_tip;
    struct pol_syms syms;
    struct pol_tier *tiers;
    uint32_t ntiers;
    struct pol_rule *rules;
    uint32_t nrules;
    struct pol_redaction redaction;
    struct pol_articles *articles;
    char *purposes[POL_MAX_PURPOSES]; /* consent purposes the rules ask about */
    /* The prefilter: most messages hold no personal data, and most rules need some. */
    uint32_t *empty_rules; /* the rules that may fire with no findings, in order */
    /* Bit i of a type mask stands for the catalogue's type i: its symbol and its category's. */
    uint32_t type_syms[64], type_category_syms[64];
    uint32_t ntypes;
    struct pol_rule_gate *gates; /* one per rule */
    /* Rule sets (bit r = rule r) for finding content: the rules that need no particular type,
     * those a finding of type t lets through, those possible in tier k. */
    uint32_t rule_words;
    uint64_t *rules_any_type;
    uint64_t *rules_by_type[64];
    uint64_t *rules_by_tier[POL_MAX_TIERS];
    /* ... and those the event lets through, from the gates: by its kind, conversation type and
     * direction (enum values), by its destination region and sender department (symbols; NULL:
     * a symbol no gate names, so only the rules without such a gate). */
    uint64_t *rules_by_kind[POL_GATE_VALUES], *rules_by_conversation[POL_GATE_VALUES],
        *rules_by_direction[POL_GATE_VALUES];
    uint64_t *rules_any_region, **rules_by_region;
    uint64_t *rules_any_department, **rules_by_department;
    bool gates_on_region, gates_on_department; /* some gate names a region / department */
    uint64_t *rules_without_recipient; /* those an event naming no recipients lets through */
    bool uses_jurisdictions;           /* some condition selects findings by jurisdiction */
    struct pol_arena_chunk *arena;
};

/* ---- Events ---- */

struct pol_party {
    char *id, *department, *role;
};

struct barra_event {
    enum pol_kind kind;
    bool has_time;
    int64_t time;       /* Unix seconds */
    int32_t utc_offset; /* minutes, as written in the event */
    char *id;
    char *text;
    size_t text_len;
    char *source;
    char *conversation_id;
    enum pol_conv_type conversation_type;
    struct pol_party sender;
    struct pol_party *recipients;
    uint32_t nrecipients;
    char *destination_platform, *destination_region;
    enum pol_direction direction;
    char *file_name, *file_type, *file_path, *file_sha256;
    uint64_t file_size;
    bool has_file_size;
    char **subjects;
    uint32_t nsubjects;
};

const char *pol_conv_type_name(enum pol_conv_type t);
const char *pol_direction_name(enum pol_direction d);
const char *pol_kind_name(enum pol_kind k);
/* Parses RFC 3339 ("2026-11-23T10:00:00+08:00", "...Z", fractions allowed). */
int pol_parse_time(const char *s, int64_t *ret_time, int32_t *ret_offset);

/* ---- Findings ---- */

struct pol_finding {
    const char *type, *subtype, *category, *jurisdiction; /* static for the detector's life */
    uint64_t start, end;
    double score;
    uint32_t flags;
    char *normalized; /* personal data: wiped when freed */
    uint32_t normalized_len;
};

struct barra_findings {
    struct pol_finding *items;
    size_t n, cap;
};

/* Wipes and frees the value a finding holds. */
void pol_finding_wipe(struct pol_finding *f);

/* ---- Deciding ---- */

/* Event fields that conditions compare with the policy's names. */
enum pol_field {
    POL_F_SOURCE,
    POL_F_CONVERSATION_ID,
    POL_F_DEST_PLATFORM,
    POL_F_DEST_REGION,
    POL_F_FILE_TYPE,
    POL_F_SENDER_ID,
    POL_F_SENDER_DEPARTMENT,
    POL_F_SENDER_ROLE,
    POL_NFIELDS,
};

/* What a decision needs to know about each finding, with the policy's symbols resolved. */
struct pol_ctx_finding {
    const struct pol_finding *f;
    uint32_t type, category, jurisdiction;
};

/* The bit of a type symbol in type masks (0 for a type the catalogue does not have). */
uint64_t pol_type_bit(const struct barra_policy *p, uint32_t type_sym);

struct pol_consent_memo {
    const char *purpose;
    uint32_t states_seen; /* bits of enum barra_consent_state */
    uint32_t granted, total;
    int err;
};

struct pol_ctx {
    const struct barra_policy *p;
    const struct barra_event *e;
    struct pol_ctx_finding *findings;
    size_t nfindings;
    uint32_t tier;
    /* event fields as symbols, each looked up the first time a condition needs it */
    uint32_t resolved; /* bit f: field[f] is set */
    uint32_t field[POL_NFIELDS];
    const struct barra_consent_provider *consent;
    /* What was asked of the registry, per purpose: the decision's own array (it reports the
     * answers), so nothing is copied after deciding. */
    struct pol_consent_memo *memo;
    uint8_t *asked; /* bit i: memo[i] holds the registry's answers */
    int consent_err;
};

/* Whether the condition holds; with `why` non-NULL, appends one reason per condition that decided
 * it (struct buf of NUL-separated strings). */
struct buf;
bool pol_pred_eval(const struct pol_pred *pr, struct pol_ctx *c, struct buf *why);
/* Whether a condition can only hold when something was found (for the prefilter). */
bool pol_pred_needs_findings(const struct pol_pred *pr, uint32_t empty_tier);
/* The types (bits) one of which a finding must have for the condition to hold; 0 when the
 * condition asks for no finding in particular. */
uint64_t pol_pred_needs_types(const struct pol_pred *pr, const struct barra_policy *p);
/* Test hook: evaluate every rule, prefilter or not (the fuzzer checks both give the same). */
extern bool pol_prefilter_off;

/* The tiers (bits) in which the condition can hold. */
uint32_t pol_pred_tiers(const struct pol_pred *pr, uint32_t all);
/* The tier of the findings in c (the highest whose condition holds). */
uint32_t pol_assign_tier(struct pol_ctx *c);
uint32_t pol_findings_count(const struct pol_findings_sel *sel, const struct pol_ctx *c);
bool pol_finding_selected(const struct pol_findings_sel *sel, const struct pol_ctx_finding *f);

/* Condition parsing (policy-pred-parse.c). `in_tier` forbids conditions on the event. */
struct ynode;
struct pol_parser;
int pol_pred_parse(struct pol_parser *ps, const struct ynode *n, bool in_tier,
                   struct pol_pred **ret);
void pol_findings_sel_init(struct pol_findings_sel *sel);
int pol_parse_findings_sel(struct pol_parser *ps, const struct ynode *n,
                           struct pol_findings_sel *sel);

struct pol_parser {
    struct barra_policy *p;
    const char *file;
    const barra_detector_t *detector;
    struct pol_articles *articles;
    struct barra_error *reterr;
};

int pol_fail(struct pol_parser *ps, const struct ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int pol_oom(struct pol_parser *ps);
/* A list of names from a scalar or a sequence of scalars, interned. `check` validates each. */
int pol_parse_set(struct pol_parser *ps, const struct ynode *n, const char *what,
                  int (*check)(struct pol_parser *ps, const struct ynode *item), bool fold,
                  struct pol_set *ret);
int pol_check_keys(struct pol_parser *ps, const struct ynode *map, const char *what,
                   const char *const *allowed);
int pol_parse_action(struct pol_parser *ps, const struct ynode *n, enum barra_action *ret);

/* Citable articles (policy-articles.c): from a file, or the built-in rules/law/articles.yaml when
 * path is NULL. */
struct pol_article {
    char *id, *law, *article, *confidence, *title;
};
struct pol_articles;
int pol_articles_load(const char *path, struct pol_articles **ret, struct barra_error *reterr);
bool pol_articles_has(const struct pol_articles *a, const char *id);
const struct pol_article *pol_articles_get(const struct pol_articles *a, const char *id);
struct pol_articles *pol_articles_free(struct pol_articles *a);

/* Redaction (policy-redact.c): the method the policy gives a type, and spans in text order. */
const struct redact_method *pol_redact_method(const struct barra_policy *p, uint32_t type_sym);
void pol_sort_spans(struct redact_span *spans, size_t n);

/* ---- Decisions ---- */

struct barra_decision {
    /* What every decision sets or checks, together at the start: most decisions are about
     * messages without findings and touch nothing else. */
    struct barra_policy *policy;           /* a reference */
    const barra_detector_t *versions_from; /* what the versions were worked out for */
    const struct barra_policy *versions_of;
    const char *rules_version, *engine_version; /* the policy's, or own_... below */
    char *event_id;
    int64_t time;
    bool has_time;
    const barra_key_t *key; /* borrowed from the options: references are made with it */
    uint8_t asked;          /* bit i: memo[i] below holds the registry's answers for purpose i */
    enum barra_action action;
    uint32_t tier;
    const char *exception_reason; /* static text when the exception action applied, else NULL */
    int32_t deciding;             /* rule index, or -1 */
    uint32_t *fired;
    uint32_t nfired, fired_cap;
    bool overridden; /* an override rule fired, so only override rules counted */
    char *reasons; /* with explain: per fired rule, NUL-terminated reasons ending in an empty one */
    size_t reasons_len;
    /* The findings as the decision records them. Their JSON form carries a keyed reference, never
     * the value; the values are kept (in `values`, which they point into and which is wiped) only
     * to make those references when the record is written: an HMAC costs more than deciding. */
    struct pol_finding *findings;
    size_t nfindings, findings_cap;
    char *redacted;
    size_t redacted_len;
    char *values; /* personal data: wiped on reuse and free */
    size_t values_len, values_cap;
    struct pol_consent_memo memo[POL_MAX_PURPOSES];
    char own_rules_version[65];
    char own_engine_version[96];
};

#endif
