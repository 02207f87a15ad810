/* SPDX-License-Identifier: Apache-2.0 */
/* The policy engine: decides what happens to a message or a file given what the classifier found in
 * it and where it is going.
 *
 * A policy (docs/policy.md) is compiled once from YAML into an immutable, reference-counted object
 * that any number of threads share. An event (docs/events.md) is parsed from JSON. A decision
 * (allow, tag, redact, require_consent, route_local, block) names the tier, the rules that fired,
 * the articles they rest on, a policy tip in four languages and the versions of everything that
 * produced it; it never holds matched values in the clear. */
#ifndef BARRA_POLICY_H
#define BARRA_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <barra/detect.h>
#include <barra/error.h>
#include <barra/version.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct barra_policy barra_policy_t;
typedef struct barra_policy_slot barra_policy_slot_t;
typedef struct barra_event barra_event_t;
typedef struct barra_findings barra_findings_t;
typedef struct barra_decision barra_decision_t;
typedef struct barra_key barra_key_t;
typedef struct barra_consent_memory barra_consent_memory_t;

/* Ordered from least to most restrictive: when rules conflict the largest value wins. */
enum barra_action {
    BARRA_ACTION_ALLOW,
    BARRA_ACTION_TAG,
    BARRA_ACTION_REDACT,
    BARRA_ACTION_ROUTE_LOCAL,
    BARRA_ACTION_REQUIRE_CONSENT,
    BARRA_ACTION_BLOCK,
};

/* "allow", "tag", ... ; NULL for an unknown value. */
BARRA_EXPORT const char *barra_action_name(enum barra_action a);

/* ---- Keys: the on-prem secret behind value references and pseudonyms ---- */

/* Loads a key file (at least 32 random bytes; docs/policy.md). If it does not exist and `create` is
 * true, makes one from the system's random source with mode 0600. Refuses a key file that others
 * can read. Returns owned; free with barra_key_free(). */
BARRA_EXPORT int barra_key_load(const char *path, bool create, barra_key_t **ret,
                                struct barra_error *reterr);
/* A key from bytes (tests and embedders); len must be at least 32. Returns owned. */
BARRA_EXPORT int barra_key_from_bytes(const void *bytes, size_t len, barra_key_t **ret,
                                      struct barra_error *reterr);
/* A public identifier of the key (16 hex digits), stored in decisions to say which key made their
 * references. */
BARRA_EXPORT const char *barra_key_id(const barra_key_t *k);
BARRA_EXPORT barra_key_t *barra_key_free(barra_key_t *k);
/* How a data subject is named where Barra stores consents and requests: 64 hex digits of
 * HMAC-SHA256, under k, of the label "barra/subject/v1", a NUL and the subject's identifier (an
 * employee id, an ID number). Writes a NUL-terminated string into ret. */
BARRA_EXPORT int barra_key_subject_ref(const barra_key_t *k, const char *subject, char ret[65]);

/* ---- Consent: the registry interface (the gateway's store implements it) ---- */

enum barra_consent_state {
    BARRA_CONSENT_MISSING, /* nothing recorded */
    BARRA_CONSENT_GRANTED,
    BARRA_CONSENT_REFUSED,
    BARRA_CONSENT_WITHDRAWN,
    BARRA_CONSENT_EXPIRED,
};

BARRA_EXPORT const char *barra_consent_state_name(enum barra_consent_state s);

struct barra_consent_provider {
    /* The state of `subject`'s consent to `purpose` at `at` (Unix seconds). Return 0, or a negative
     * BARRA_E* code when the registry cannot answer (the decision then fails closed). */
    int (*lookup)(void *userdata, const char *subject, const char *purpose, int64_t at,
                  enum barra_consent_state *ret_state);
    void *userdata;
};

/* An in-memory registry. Returns owned; free with barra_consent_memory_free(). */
BARRA_EXPORT int barra_consent_memory_new(barra_consent_memory_t **ret);
/* Records a state; `expires` is Unix seconds, 0 for never. A later record replaces an earlier one.
 */
BARRA_EXPORT int barra_consent_memory_set(barra_consent_memory_t *m, const char *subject,
                                          const char *purpose, enum barra_consent_state state,
                                          int64_t expires);
/* Loads records from a JSON file (docs/policy.md, "Consent files") into m. */
BARRA_EXPORT int barra_consent_memory_load_file(barra_consent_memory_t *m, const char *path,
                                                struct barra_error *reterr);
/* A provider that reads m (borrowed: m must outlive its use). */
BARRA_EXPORT struct barra_consent_provider barra_consent_memory_provider(barra_consent_memory_t *m);
BARRA_EXPORT barra_consent_memory_t *barra_consent_memory_free(barra_consent_memory_t *m);

/* ---- Policies ---- */

struct barra_policy_options {
    /* Validates type names in the policy against this detector's catalogue; NULL for the built-in
     * one. Borrowed during compilation only; its rules and engine versions are recorded. */
    barra_detector_t *detector;
    /* The file of citable articles; NULL for the built-in list (rules/law/articles.yaml). */
    const char *articles_path;
};

BARRA_EXPORT void barra_policy_options_init(struct barra_policy_options *opts);

/* Compiles a policy from YAML text or a file. `name` appears in error messages. Errors carry the
 * line and column. Returns owned; release with barra_policy_unref(). */
BARRA_EXPORT int barra_policy_compile(const char *yaml, size_t len, const char *name,
                                      const struct barra_policy_options *opts, barra_policy_t **ret,
                                      struct barra_error *reterr);
BARRA_EXPORT int barra_policy_load(const char *path, const struct barra_policy_options *opts,
                                   barra_policy_t **ret, struct barra_error *reterr);
BARRA_EXPORT barra_policy_t *barra_policy_ref(barra_policy_t *p);
BARRA_EXPORT barra_policy_t *barra_policy_unref(barra_policy_t *p);
/* The policy's name (from the file) and content hash (hex SHA-256 of the file). */
BARRA_EXPORT const char *barra_policy_name(const barra_policy_t *p);
BARRA_EXPORT const char *barra_policy_version(const barra_policy_t *p);
BARRA_EXPORT size_t barra_policy_rule_count(const barra_policy_t *p);

/* A slot holding the current policy of a running service. Reload builds the new policy aside and
 * swaps it in atomically only if it compiles; readers in flight keep the one they took. */
BARRA_EXPORT int barra_policy_slot_new(barra_policy_t *initial, barra_policy_slot_t **ret);
/* Returns a new reference to the current policy; release with barra_policy_unref(). */
BARRA_EXPORT barra_policy_t *barra_policy_slot_get(barra_policy_slot_t *s);
/* Replaces the current policy (takes a reference to p). */
BARRA_EXPORT void barra_policy_slot_set(barra_policy_slot_t *s, barra_policy_t *p);
/* Compiles path and swaps it in; on failure the current policy stays and the error is returned. */
BARRA_EXPORT int barra_policy_slot_reload(barra_policy_slot_t *s, const char *path,
                                          const struct barra_policy_options *opts,
                                          struct barra_error *reterr);
BARRA_EXPORT barra_policy_slot_t *barra_policy_slot_free(barra_policy_slot_t *s);

/* ---- Events ---- */

/* Parses a content event from JSON (docs/events.md). Unknown or ill-typed fields are errors, so a
 * misspelt field can never slip past a rule. Returns owned; free with barra_event_free(). */
BARRA_EXPORT int barra_event_parse(const char *json, size_t len, barra_event_t **ret,
                                   struct barra_error *reterr);
/* An event with only `kind` set ("message" or "file"); fill it with the setters below. */
BARRA_EXPORT int barra_event_new(const char *kind, barra_event_t **ret);
BARRA_EXPORT barra_event_t *barra_event_free(barra_event_t *e);
/* Setters for fields of the JSON form, by dotted path: "id", "text", "source", "conversation.id",
 * "conversation.type", "sender.id", "sender.department", "sender.role", "destination.platform",
 * "destination.region", "direction", "file.name", "file.type", "file.path", "time" (RFC 3339).
 * Values are validated as in the JSON form. */
BARRA_EXPORT int barra_event_set(barra_event_t *e, const char *field, const char *value,
                                 struct barra_error *reterr);
BARRA_EXPORT int barra_event_set_file_size(barra_event_t *e, uint64_t size);
BARRA_EXPORT int barra_event_add_subject(barra_event_t *e, const char *subject);
/* A field of the event by the dotted path of barra_event_set() (and "kind", "file.sha256"), or NULL
 * when it is not given. Borrowed from e. */
BARRA_EXPORT const char *barra_event_get(const barra_event_t *e, const char *field);
/* Reads an RFC 3339 time with a zone, as events' "time" is read, into Unix seconds; -BARRA_EINVAL
 * for anything else. */
BARRA_EXPORT int barra_time_parse(const char *s, int64_t *ret);
BARRA_EXPORT size_t barra_event_subject_count(const barra_event_t *e);
BARRA_EXPORT const char *barra_event_subject(const barra_event_t *e, size_t i);
/* Replaces the text (a file's extracted text, which may be larger than a JSON field allows). The
 * text must not hold a NUL byte. */
BARRA_EXPORT int barra_event_set_text(barra_event_t *e, const char *text, size_t len);
/* The text of a message event, or NULL. */
BARRA_EXPORT const char *barra_event_text(const barra_event_t *e, size_t *ret_len);

/* ---- Findings: what the classifier found in the event's text ---- */

/* A collector of findings. Holds the matched values (to make references and pseudonyms) and wipes
 * them when cleared or freed. Returns owned; free with barra_findings_free(). */
BARRA_EXPORT int barra_findings_new(barra_findings_t **ret);
BARRA_EXPORT int barra_findings_add(barra_findings_t *fs, const struct barra_finding *f);
/* A barra_finding_fn that adds to the collector passed as userdata. */
BARRA_EXPORT int barra_findings_collect(const struct barra_finding *f, void *userdata);
BARRA_EXPORT void barra_findings_clear(barra_findings_t *fs);
BARRA_EXPORT size_t barra_findings_count(const barra_findings_t *fs);
BARRA_EXPORT barra_findings_t *barra_findings_free(barra_findings_t *fs);

/* ---- Redacting whole texts ---- */

typedef int (*barra_write_fn)(void *userdata, const char *data, size_t len);

/* Writes text[0..len) with every finding redacted by the policy's redaction methods (p may be NULL:
 * full masks). Findings' offsets count from text. `key` is needed for pseudonyms. Returns 0, the
 * writer's negative code, or -BARRA_EINVAL when a pseudonym is asked for without a key. */
BARRA_EXPORT int barra_policy_redact(const barra_policy_t *p, const char *text, size_t len,
                                     const barra_findings_t *findings, const barra_key_t *key,
                                     barra_write_fn write, void *userdata);

/* ---- Decisions ---- */

struct barra_decide_options {
    const struct barra_consent_provider *consent; /* NULL: every consent is missing */
    /* Makes the references (HMAC) of findings and the pseudonyms of redaction. Without a key,
     * findings carry no reference and pseudonymising fails closed (the exception action).
     * Borrowed until the decision is freed or reused: references are made when it is formatted. */
    const barra_key_t *key;
    /* The detector the findings came from, for the versions a decision names; NULL means the one
     * the policy was compiled against. */
    const barra_detector_t *detector;
    /* The classifier failed for this event: the policy's exception action applies. */
    bool classification_failed;
    /* Record why each fired rule's conditions held (for explaining; costs time). */
    bool explain;
};

/* Decides. `findings` may be NULL (nothing found). Returns owned; free with
 * barra_decision_free(). Fails only on bad arguments or memory; a consent registry that cannot
 * answer makes a decision with the exception action. */
BARRA_EXPORT int barra_decide(const barra_policy_t *p, const barra_event_t *e,
                              const barra_findings_t *findings,
                              const struct barra_decide_options *opts, barra_decision_t **ret,
                              struct barra_error *reterr);
/* The same, into a decision made once with barra_decision_new() and filled again for each event
 * (one per thread): a service saves an allocation per event. On failure d holds the exception
 * action, never a partial answer. */
BARRA_EXPORT int barra_decision_new(barra_decision_t **ret);
BARRA_EXPORT int barra_decide_into(const barra_policy_t *p, const barra_event_t *e,
                                   const barra_findings_t *findings,
                                   const struct barra_decide_options *opts, barra_decision_t *d,
                                   struct barra_error *reterr);
BARRA_EXPORT barra_decision_t *barra_decision_free(barra_decision_t *d);

BARRA_EXPORT enum barra_action barra_decision_action(const barra_decision_t *d);
BARRA_EXPORT const char *barra_decision_tier(const barra_decision_t *d);
/* The rules that fired, in policy order. */
BARRA_EXPORT size_t barra_decision_rule_count(const barra_decision_t *d);
BARRA_EXPORT const char *barra_decision_rule_id(const barra_decision_t *d, size_t i);
/* The rule whose action was chosen, or NULL (no rule fired, or the exception action applied). */
BARRA_EXPORT const char *barra_decision_deciding_rule(const barra_decision_t *d);
/* The deciding rule's `route` (route_local) and `consent_purpose` (require_consent), or NULL. */
BARRA_EXPORT const char *barra_decision_route(const barra_decision_t *d);
BARRA_EXPORT const char *barra_decision_consent_purpose(const barra_decision_t *d);
/* The i-th route a rule of the policy names (repeats included), or NULL past the last: a service
 * checks that it has a destination for each before it takes the policy. */
BARRA_EXPORT const char *barra_policy_route(const barra_policy_t *p, size_t i);
/* The tip for the sender in "en", "zh-Hant", "zh-Hans" or "pt"; NULL when there is none. */
BARRA_EXPORT const char *barra_decision_tip(const barra_decision_t *d, const char *lang);
/* For redact decisions on message events: the redacted text (owned by d). Otherwise NULL. */
BARRA_EXPORT const char *barra_decision_redacted_text(const barra_decision_t *d, size_t *ret_len);

enum barra_decision_format_flags {
    BARRA_DECISION_PRETTY = 1u << 0,  /* indented JSON */
    BARRA_DECISION_REASONS = 1u << 1, /* each fired rule's reasons (why each condition held) */
    /* Leaves out "tip": a record kept for every decision (the audit log's) need not repeat the
     * policy's text in four languages; the policy version and deciding rule name it. */
    BARRA_DECISION_NO_TIP = 1u << 2,
};

/* The decision as JSON (docs/events.md, "Decisions"). Returns an owned NUL-terminated string; free
 * with barra_string_free(). */
BARRA_EXPORT int barra_decision_format_json(const barra_decision_t *d, uint32_t flags,
                                            char **ret_json, struct barra_error *reterr);
BARRA_EXPORT void barra_string_free(char *s);

/* ---- Policy test cases (docs/policy.md, "Test cases") ---- */

struct barra_policy_case_result {
    const char *name;
    uint32_t line; /* of the case in the cases file */
    bool passed;
    const char *failure;              /* what differed, when it failed; else NULL */
    const barra_decision_t *decision; /* what was decided (NULL if the case could not run) */
};

typedef void (*barra_policy_case_fn)(const struct barra_policy_case_result *r, void *userdata);

/* Runs every case of a cases file: classifies each event's text with `detector` (NULL: the built-in
 * one), decides with the consents the case lists, and compares with what the case expects. Cases
 * run with a fixed, public test key so that pseudonyms are reproducible; never use that key for
 * real data. Calls fn (may be NULL) for each case. Returns the number of failed cases, or a
 * negative code when the file cannot be read or is malformed (reterr says where). */
BARRA_EXPORT int barra_policy_test(const barra_policy_t *p, const char *cases_path,
                                   barra_detector_t *detector, barra_policy_case_fn fn,
                                   void *userdata, struct barra_error *reterr);

#ifdef __cplusplus
}
#endif

#endif
