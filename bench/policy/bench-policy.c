/* SPDX-License-Identifier: Apache-2.0 */
/* What deciding costs next to classifying: chat messages (one a line) are classified, then decided
 * on by a generated policy of 100 rules, and the two times are printed side by side with their
 * ratio. Target: deciding adds under 10% to classifying.
 *
 * Usage: bench-policy CHAT.txt [MESSAGES [POLICY-OUT]]   (bench/run.sh makes CHAT.txt with a
 * fixed seed; POLICY-OUT receives the generated policy, to read or to profile with). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <barra/policy.h>

#define NRULES 100

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x9e3779b97f4a7c15u; /* fixed seed: the same policy every run */

static uint32_t next(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *const departments[] = {"hr", "finance", "sales",     "legal",
                                          "it", "ops",     "marketing", "payroll"};
static const char *const regions[] = {"mo", "hk", "cn-mainland", "sg", "tw", "us"};
static const char *const types[] = {"cn_resident_id", "hk_id_card", "mo_id_card", "phone_cn",
                                    "phone_mo",       "email",      "bank_card",  "medical_term",
                                    "religion_term",  "cn_passport"};
static const char *const categories[] = {"identity", "contact",  "financial",
                                         "medical",  "religion", "whereabouts"};

/* One rule of a kind chosen by the generator: the mix a real policy has (data conditions, event
 * conditions, combinators, consent, time). */
static void add_rule(char *out, size_t cap, size_t *used, int i)
{
    char when[600];
    const char *d = departments[next(8)], *r = regions[next(6)], *t = types[next(10)],
               *c = categories[next(6)];
    switch (next(8)) {
    case 0:
        (void)snprintf(when, sizeof(when),
                       "{tier: {at_least: confidential}, destination: "
                       "{region: %s}}",
                       r);
        break;
    case 1:
        (void)snprintf(when, sizeof(when), "{types: [%s], sender: {department: %s}}", t, d);
        break;
    case 2:
        (void)snprintf(when, sizeof(when),
                       "{any: [{categories: [%s]}, {findings: {types: [%s], count: 3}}], "
                       "conversation: {type: external_group}}",
                       c, t);
        break;
    case 3:
        (void)snprintf(when, sizeof(when),
                       "{tier: restricted, destination: {region: %s}, not: {consent: {purpose: "
                       "cross_border}}}",
                       r);
        break;
    case 4:
        (void)snprintf(when, sizeof(when),
                       "{time: {hours: \"20:00-07:00\"}, count: {min: 2}, sender: {department: "
                       "[%s, %s]}}",
                       d, departments[next(8)]);
        break;
    case 5:
        (void)snprintf(when, sizeof(when),
                       "{kind: file, file: {type: [xlsx, csv], size: {min: 1MB}}, categories: "
                       "[%s]}",
                       c);
        break;
    case 6:
        (void)snprintf(when, sizeof(when),
                       "{all: [{jurisdictions: [cn, mo]}, {not: {destination: {region: %s}}}, "
                       "{recipient: {department: %s}}]}",
                       r, d);
        break;
    default:
        (void)snprintf(when, sizeof(when),
                       "{findings: {categories: [%s], min_score: 0.8}, "
                       "direction: outbound}",
                       c);
        break;
    }
    static const char *const actions[] = {"block", "redact", "tag\n    tags: [x]",
                                          "route_local\n    route: vault",
                                          "require_consent\n    consent_purpose: cross_border"};
    *used += (size_t)snprintf(out + *used, cap - *used,
                              "  - id: rule-%03d\n    when: %s\n    action: %s\n"
                              "    tip: {en: e, zh-Hant: t, zh-Hans: s, pt: p}\n"
                              "    citations: [CN-PIPL-51]\n",
                              i, when, actions[next(5)]);
}

static char *make_policy(void)
{
    size_t cap = 1 << 20, used = 0;
    char *p = malloc(cap);
    if (p == NULL) {
        return NULL;
    }
    used += (size_t)snprintf(p, cap,
                             "policy: {name: bench-100}\n"
                             "tiers:\n  - name: public\n"
                             "  - name: internal\n    when: {categories: [contact]}\n"
                             "  - name: confidential\n    when: {categories: [identity, "
                             "financial]}\n"
                             "  - name: restricted\n    when: {any: [{categories: [medical, "
                             "religion]}, {count: 5}]}\n"
                             "rules:\n");
    for (int i = 0; i < NRULES; i++) {
        add_rule(p, cap, &used, i);
    }
    return p;
}

/* A realistic event around each message: who sends it, where it goes, when. */
static barra_event_t *make_event(size_t i, const char *text, size_t len)
{
    barra_event_t *e;
    char t[40];
    static const char *const conv[] = {"direct", "group", "external_group"};
    (void)snprintf(t, sizeof(t), "2026-11-%02zuT%02zu:%02zu:00+08:00", 1 + i % 28, i % 24, i % 60);
    char *copy = strndup(text, len);
    if (copy == NULL || barra_event_new("message", &e) < 0 ||
        barra_event_set(e, "text", copy, NULL) < 0 ||
        barra_event_set(e, "source", "dingtalk", NULL) < 0 ||
        barra_event_set(e, "conversation.type", conv[i % 3], NULL) < 0 ||
        barra_event_set(e, "sender.department", departments[i % 8], NULL) < 0 ||
        barra_event_set(e, "destination.region", regions[i % 6], NULL) < 0 ||
        barra_event_set(e, "direction", "outbound", NULL) < 0 ||
        barra_event_set(e, "time", t, NULL) < 0 || barra_event_add_subject(e, "emp-1") < 0) {
        fprintf(stderr, "bench-policy: cannot build event %zu\n", i);
        exit(2);
    }
    free(copy);
    return e;
}

/* Messages go through in batches of BATCH, as a gateway's worker takes them: the events of a batch
 * are built (not timed), classified (timed), then decided on (timed) while they are still in the
 * cache, then the decisions are written as JSON (timed apart). */
#define BATCH 64

struct totals {
    double classify, decide, fresh, json;
    size_t found, fired, json_bytes;
    size_t actions[BARRA_ACTION_BLOCK + 1];
};

struct engine {
    barra_detector_t *det;
    barra_scanner_t *sc;
    barra_policy_t *pol;
    barra_key_t *key;
    barra_decision_t *d;
    struct barra_decide_options opts;
};

static int run_batch(struct engine *en, char **lines, size_t *lens, size_t first, size_t n,
                     struct totals *t)
{
    barra_event_t *events[BATCH];
    barra_findings_t *fs[BATCH];
    struct barra_error err;
    for (size_t i = 0; i < n; i++) {
        events[i] = make_event(first + i, lines[first + i], lens[first + i]);
        if (barra_findings_new(&fs[i]) < 0) {
            return -1;
        }
    }
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        if (barra_scanner_scan(en->sc, lines[first + i], lens[first + i], NULL, 0,
                               barra_findings_collect, fs[i]) < 0) {
            return -1;
        }
    }
    double t1 = now();
    for (size_t i = 0; i < n; i++) {
        if (barra_decide_into(en->pol, events[i], fs[i], &en->opts, en->d, &err) < 0) {
            return -1;
        }
        t->actions[barra_decision_action(en->d)]++;
        t->fired += barra_decision_rule_count(en->d);
    }
    double t2 = now();
    for (size_t i = 0; i < n; i++) {
        barra_decision_t *fresh;
        if (barra_decide(en->pol, events[i], fs[i], &en->opts, &fresh, &err) < 0) {
            return -1;
        }
        barra_decision_free(fresh);
    }
    double t3 = now();
    for (size_t i = 0; i < n; i++) {
        char *json;
        if (barra_decide_into(en->pol, events[i], fs[i], &en->opts, en->d, &err) < 0 ||
            barra_decision_format_json(en->d, 0, &json, &err) < 0) {
            return -1;
        }
        t->json_bytes += strlen(json);
        barra_string_free(json);
    }
    double t4 = now();
    t->classify += t1 - t0;
    t->decide += t2 - t1;
    t->fresh += t3 - t2;
    t->json += t4 - t3;
    for (size_t i = 0; i < n; i++) {
        t->found += barra_findings_count(fs[i]);
        barra_findings_free(fs[i]);
        barra_event_free(events[i]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench-policy CHAT.txt [MESSAGES]\n");
        return 2;
    }
    size_t limit = argc > 2 ? strtoul(argv[2], NULL, 10) : 200000;
    FILE *f = fopen(argv[1], "r");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    char **lines = calloc(limit, sizeof(char *));
    size_t *lens = calloc(limit, sizeof(size_t));
    size_t n = 0, cap = 0, bytes = 0;
    char *line = NULL;
    ssize_t got;
    while (lines && lens && n < limit && (got = getline(&line, &cap, f)) > 0) {
        lens[n] = (size_t)got;
        bytes += (size_t)got;
        lines[n++] = strndup(line, (size_t)got);
    }
    free(line);
    fclose(f);

    struct engine en = {0};
    struct barra_error err;
    char *text = make_policy();
    struct barra_policy_options po;
    barra_policy_options_init(&po);
    if (text == NULL || barra_detector_new(NULL, &en.det, &err) < 0 ||
        barra_scanner_new(en.det, 0, &en.sc, &err) < 0 ||
        (po.detector = en.det,
         barra_policy_compile(text, strlen(text), "bench", &po, &en.pol, &err)) < 0 ||
        barra_key_from_bytes("bench-key-bench-key-bench-key-bench", 32, &en.key, &err) < 0 ||
        barra_decision_new(&en.d) < 0) {
        fprintf(stderr, "bench-policy: %s (%s:%u)\n", err.message, err.file, err.line);
        return 2;
    }
    if (argc > 3) {
        FILE *out = fopen(argv[3], "w");
        if (out == NULL || fputs(text, out) < 0 || fclose(out) != 0) {
            perror(argv[3]);
            return 2;
        }
    }
    free(text);
    barra_consent_memory_t *mem;
    if (barra_consent_memory_new(&mem) < 0 ||
        barra_consent_memory_set(mem, "emp-1", "cross_border", BARRA_CONSENT_GRANTED, 0) < 0) {
        return 2;
    }
    struct barra_consent_provider prov = barra_consent_memory_provider(mem);
    en.opts = (struct barra_decide_options){.consent = &prov, .key = en.key, .detector = en.det};

    struct totals t = {0};
    for (size_t first = 0; first < n; first += BATCH) {
        if (run_batch(&en, lines, lens, first, n - first < BATCH ? n - first : BATCH, &t) < 0) {
            fprintf(stderr, "bench-policy: a batch failed\n");
            return 2;
        }
    }

    printf("messages %zu (%.1f MB), findings %zu, rules %zu, rules fired %zu\n", n, bytes / 1e6,
           t.found, barra_policy_rule_count(en.pol), t.fired);
    printf("actions: allow %zu, tag %zu, redact %zu, route_local %zu, require_consent %zu, block "
           "%zu\n",
           t.actions[0], t.actions[1], t.actions[2], t.actions[3], t.actions[4], t.actions[5]);
    printf("%-34s %8.3f s %10.0f msg/s\n", "classify (baseline)", t.classify, n / t.classify);
    printf("%-34s %8.3f s %10.0f decisions/s %6.1f%% of classify\n", "decide, 100 rules (reused)",
           t.decide, n / t.decide, 100 * t.decide / t.classify);
    printf("%-34s %8.3f s %10.0f decisions/s %6.1f%% of classify\n", "decide, new decision each",
           t.fresh, n / t.fresh, 100 * t.fresh / t.classify);
    printf("%-34s %8.3f s %10.0f decisions/s %6.1f%% of classify (%.0f bytes each)\n",
           "decide + decision JSON", t.json, n / t.json, 100 * t.json / t.classify,
           (double)t.json_bytes / (double)n);
    printf("target: deciding adds under 10%% to classifying: %s\n",
           t.decide < 0.10 * t.classify ? "met" : "NOT met");

    for (size_t i = 0; i < n; i++) {
        free(lines[i]);
    }
    free(lines);
    free(lens);
    barra_consent_memory_free(mem);
    barra_decision_free(en.d);
    barra_key_free(en.key);
    barra_policy_unref(en.pol);
    barra_scanner_free(en.sc);
    barra_detector_unref(en.det);
    return 0;
}
