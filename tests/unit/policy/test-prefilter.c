/* SPDX-License-Identifier: Apache-2.0 */
/* Deciding takes shortcuts: rule sets by finding type, tier and event field; gates whose
 * conditions are not evaluated again; conditions evaluated cheapest first; the answer for an
 * empty message given at once. None may change a decision. Random policies (every kind of
 * condition, nested), random events and random findings (fixed seed) are decided with every
 * shortcut and with none (the prefilter off, explanations on), and the two must agree. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <barra/policy.h>

#include "fixture.h"
#include "policy/policy-int.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint32_t pick(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *const regions[] = {"mo", "hk", "cn-mainland", "sg"};
static const char *const depts[] = {"hr", "finance", "sales", "it"};
static const char *const convs[] = {"direct", "group", "external_group"};
static const char *const dirs[] = {"inbound", "outbound", "internal"};
static const char *const types[] = {"cn_resident_id", "hk_id_card",   "phone_mo",     "email",
                                    "bank_card",      "medical_term", "religion_term"};
static const char *const cats[] = {"identity", "contact", "financial", "medical", "religion"};
static const char *const jurs[] = {"cn", "hk", "mo", "unknown"};

/* One condition; lists nest up to `depth` more levels. */
static void condition(char *out, size_t cap, int depth)
{
    uint32_t k = pick(depth > 0 ? 16 : 13);
    switch (k) {
    case 0:
        (void)snprintf(out, cap, "{kind: %s}", pick(2) ? "message" : "file");
        break;
    case 1:
        (void)snprintf(out, cap, "{conversation: {type: [%s, %s]}}", convs[pick(3)],
                       convs[pick(3)]);
        break;
    case 2:
        (void)snprintf(out, cap, "{direction: %s}", dirs[pick(3)]);
        break;
    case 3:
        (void)snprintf(out, cap, "{destination: {region: [%s, %s]}}", regions[pick(4)],
                       regions[pick(4)]);
        break;
    case 4:
        (void)snprintf(out, cap, "{sender: {department: %s}}", depts[pick(4)]);
        break;
    case 5:
        (void)snprintf(out, cap, "{sender: {department: %s, role: boss}}", depts[pick(4)]);
        break;
    case 6:
        (void)snprintf(out, cap, "{recipient: {department: %s}}", depts[pick(4)]);
        break;
    case 7:
        (void)snprintf(out, cap, "{tier: {at_least: %s}}", pick(2) ? "internal" : "restricted");
        break;
    case 8:
        (void)snprintf(out, cap, "{types: [%s, %s]}", types[pick(7)], types[pick(7)]);
        break;
    case 9:
        (void)snprintf(out, cap, "{findings: {categories: [%s], min_score: 0.%u, count: %u}}",
                       cats[pick(5)], 5 + pick(5), 1 + pick(2));
        break;
    case 10:
        (void)snprintf(out, cap, "{jurisdictions: [%s]}", jurs[pick(4)]);
        break;
    case 11: {
        uint32_t from = pick(24);
        (void)snprintf(out, cap, "{time: {hours: \"%02u:00-%02u:00\"}}", from,
                       (from + 1 + pick(23)) % 24);
        break;
    }
    case 12:
        (void)snprintf(out, cap, "{consent: {purpose: cross_border, state: %s}}",
                       pick(2) ? "granted" : "missing");
        break;
    default: {
        static const char *const lists[] = {"all", "any", "not"};
        const char *list = lists[k - 13];
        char a[600], b[600];
        condition(a, sizeof(a), depth - 1);
        condition(b, sizeof(b), depth - 1);
        (void)snprintf(out, cap, "{%s: [%s, %s]}", list, a, b);
        break;
    }
    }
}

static barra_policy_t *random_policy(void)
{
    static char text[65536];
    size_t used = (size_t)snprintf(text, sizeof(text),
                                   "policy: {name: random}\n"
                                   "tiers:\n  - name: public\n"
                                   "  - name: internal\n    when: {categories: [contact]}\n"
                                   "  - name: restricted\n    when: {categories: [medical]}\n"
                                   "rules:\n");
    static const char *const actions[] = {"block", "tag\n    tags: [x]",
                                          "route_local\n    route: v",
                                          "require_consent\n    consent_purpose: cross_border"};
    for (int i = 0; i < 24; i++) {
        /* Several conditions side by side make a top-level `all`: the gates' source. */
        char when[3000] = "";
        size_t w = 0;
        uint32_t n = 1 + pick(3);
        for (uint32_t j = 0; j < n; j++) {
            char c[1400];
            condition(c, sizeof(c), 2);
            w += (size_t)snprintf(when + w, sizeof(when) - w, "%s%s", j ? ", " : "", c);
        }
        used += (size_t)snprintf(text + used, sizeof(text) - used,
                                 "  - id: r%d\n    when: {all: [%s]}\n    action: %s\n"
                                 "    tip: {en: e, zh-Hant: t, zh-Hans: s, pt: p}\n"
                                 "    citations: [CN-PIPL-28]\n",
                                 i, when, actions[pick(4)]);
    }
    struct barra_policy_options o;
    barra_policy_options_init(&o);
    o.detector = detector;
    barra_policy_t *p = NULL;
    struct barra_error err;
    if (barra_policy_compile(text, used, "random.yaml", &o, &p, &err) < 0) {
        fail_msg("random policy rejected: %s:%u:%u: %s", err.file, err.line, err.column,
                 err.message);
    }
    return p;
}

static barra_event_t *random_event(void)
{
    char json[1024];
    bool file = pick(2);
    char recipients[200] = "";
    if (pick(2)) {
        (void)snprintf(recipients, sizeof(recipients),
                       ",\"recipients\":[{\"id\":\"r1\",\"department\":\"%s\"}]", depts[pick(4)]);
    }
    (void)snprintf(json, sizeof(json),
                   "{\"kind\":\"%s\",\"text\":\"x\",\"source\":\"dingtalk\","
                   "\"conversation\":{\"id\":\"c\",\"type\":\"%s\"},"
                   "\"sender\":{\"id\":\"u\",\"department\":\"%s\",\"role\":\"%s\"},"
                   "\"destination\":{\"platform\":\"dingtalk\",\"region\":\"%s\"},"
                   "\"direction\":\"%s\",\"time\":\"2026-11-%02uT%02u:30:00+08:00\","
                   "\"subjects\":[\"%s\"]%s%s}",
                   file ? "file" : "message", convs[pick(3)], depts[pick(4)],
                   pick(2) ? "boss" : "clerk", regions[pick(4)], dirs[pick(3)], 1 + pick(28),
                   pick(24), pick(2) ? "a" : "b", recipients,
                   file ? ",\"file\":{\"name\":\"f.xlsx\",\"size\":2000}" : "");
    barra_event_t *e = NULL;
    struct barra_error err;
    if (barra_event_parse(json, strlen(json), &e, &err) < 0) {
        fail_msg("random event rejected: %s\n%s", err.message, json);
    }
    return e;
}

static barra_findings_t *random_findings(void)
{
    barra_findings_t *fs = NULL;
    assert_int_equal(barra_findings_new(&fs), 0);
    for (uint32_t n = pick(4); n > 0; n--) {
        uint32_t t = pick(7);
        static const char *const cat_of[] = {"identity",  "identity", "contact", "contact",
                                             "financial", "medical",  "religion"};
        struct barra_finding f = {.type = types[t],
                                  .category = cat_of[t],
                                  .jurisdiction = jurs[pick(4)],
                                  .score = 0.5 + 0.1 * pick(6),
                                  .start = 0,
                                  .end = 1,
                                  .value = "x",
                                  .value_len = 1};
        assert_int_equal(barra_findings_add(fs, &f), 0);
    }
    return fs;
}

static void same_decision(const barra_decision_t *a, const barra_decision_t *b)
{
    assert_int_equal(barra_decision_action(a), barra_decision_action(b));
    assert_int_equal(barra_decision_rule_count(a), barra_decision_rule_count(b));
    for (size_t i = 0; i < barra_decision_rule_count(a); i++) {
        assert_string_equal(barra_decision_rule_id(a, i), barra_decision_rule_id(b, i));
    }
}

static void test_shortcuts_change_nothing(void **state)
{
    (void)state;
    barra_consent_memory_t *m = NULL;
    assert_int_equal(barra_consent_memory_new(&m), 0);
    assert_int_equal(barra_consent_memory_set(m, "a", "cross_border", BARRA_CONSENT_GRANTED, 0), 0);
    struct barra_consent_provider prov = barra_consent_memory_provider(m);
    struct barra_decide_options plain = {.consent = &prov}, explained = plain;
    explained.explain = true;
    size_t fired = 0, decided = 0;
    for (int policy = 0; policy < 200; policy++) {
        barra_policy_t *p = random_policy();
        barra_decision_t *reused = NULL;
        assert_int_equal(barra_decision_new(&reused), 0);
        for (int i = 0; i < 300; i++) {
            barra_event_t *e = random_event();
            barra_findings_t *fs = pick(3) ? random_findings() : NULL;
            barra_decision_t *slow = NULL, *fast = NULL;
            struct barra_error err;
            pol_prefilter_off = true;
            assert_int_equal(barra_decide(p, e, fs, &explained, &slow, &err), 0);
            pol_prefilter_off = false;
            assert_int_equal(barra_decide(p, e, fs, &plain, &fast, &err), 0);
            assert_int_equal(barra_decide_into(p, e, fs, &plain, reused, &err), 0);
            same_decision(slow, fast);
            same_decision(slow, reused);
            fired += barra_decision_rule_count(slow);
            decided++;
            barra_decision_free(slow);
            barra_decision_free(fast);
            barra_findings_free(fs);
            barra_event_free(e);
        }
        barra_decision_free(reused);
        barra_policy_unref(p);
    }
    /* The random rules must fire often enough for the comparison to mean something. */
    assert_true(fired > decided / 4);
    barra_consent_memory_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shortcuts_change_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
