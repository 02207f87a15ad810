/* SPDX-License-Identifier: Apache-2.0 */
/* Every condition and every action of the policy language, each shown to hold and shown not to
 * hold, on hand-made findings (so a classifier change cannot hide a policy bug). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <barra/policy.h>

#include "fixture.h"

/* Tiers used by every policy below; rules are appended by each test. */
static const char head[] = "policy: {name: t}\n"
                           "tiers:\n"
                           "  - name: public\n"
                           "  - name: internal\n"
                           "    when: {categories: [contact]}\n"
                           "  - name: restricted\n"
                           "    when: {any: [{categories: [medical]}, {minor: true}]}\n"
                           "rules:\n";

static const char tip[] = "    tip: {en: e, zh-Hant: t, zh-Hans: s, pt: p}\n"
                          "    citations: [CN-PIPL-28]\n";

static barra_policy_t *compile(const char *rules)
{
    char text[8192];
    (void)snprintf(text, sizeof(text), "%s%s", head, rules);
    struct barra_policy_options o;
    barra_policy_options_init(&o);
    o.detector = detector;
    barra_policy_t *p = NULL;
    struct barra_error err;
    if (barra_policy_compile(text, strlen(text), "test.yaml", &o, &p, &err) < 0) {
        fail_msg("policy did not compile: %s:%u:%u: %s\n%s", err.file, err.line, err.column,
                 err.message, text);
    }
    return p;
}

/* One rule with the condition `when` (YAML flow mapping) and action block. */
static barra_policy_t *one_rule(const char *when)
{
    char rules[4096];
    (void)snprintf(rules, sizeof(rules), "  - id: r\n    when: %s\n    action: block\n%s", when,
                   tip);
    return compile(rules);
}

static barra_event_t *event(const char *json)
{
    barra_event_t *e = NULL;
    struct barra_error err;
    if (barra_event_parse(json, strlen(json), &e, &err) < 0) {
        fail_msg("event rejected: %s\n%s", err.message, json);
    }
    return e;
}

static const char base_event[] = "{\"kind\":\"message\",\"text\":\"x\",\"source\":\"DingTalk\"";

/* A finding as the classifier would report it. */
static void add(barra_findings_t *fs, const char *type, const char *category, const char *jur,
                double score, uint32_t flags)
{
    struct barra_finding f = {
        .type = type,
        .category = category,
        .jurisdiction = jur,
        .score = score,
        .flags = flags,
        .start = 0,
        .end = 1,
        .value = "x",
        .value_len = 1,
    };
    assert_int_equal(barra_findings_add(fs, &f), 0);
}

static enum barra_action decide_with(barra_policy_t *p, const char *event_tail,
                                     barra_findings_t *fs,
                                     const struct barra_consent_provider *consent)
{
    char json[4096];
    (void)snprintf(json, sizeof(json), "%s%s%s}", base_event, event_tail,
                   strstr(event_tail, "\"time\"") ? "" : ",\"time\":\"2026-11-23T10:00:00+08:00\"");
    barra_event_t *e = event(json);
    barra_decision_t *d = NULL;
    struct barra_decide_options o = {.consent = consent};
    struct barra_error err;
    assert_int_equal(barra_decide(p, e, fs, &o, &d, &err), 0);
    enum barra_action a = barra_decision_action(d);
    barra_decision_free(d);
    barra_event_free(e);
    return a;
}

/* Whether the single rule `when` fires for the event tail and findings. */
static bool fires(const char *when, const char *event_tail, barra_findings_t *fs)
{
    barra_policy_t *p = one_rule(when);
    bool r = decide_with(p, event_tail, fs, NULL) == BARRA_ACTION_BLOCK;
    barra_policy_unref(p);
    return r;
}

static void test_findings_conditions(void **state)
{
    (void)state;
    barra_findings_t *fs;
    assert_int_equal(barra_findings_new(&fs), 0);
    add(fs, "cn_resident_id", "identity", "cn", 0.99, 0);
    add(fs, "cn_resident_id", "identity", "cn", 0.95, BARRA_FINDING_MASKED);
    add(fs, "phone_mo", "contact", "mo", 0.7, 0);
    add(fs, "medical_term", "medical", "unknown", 0.75, BARRA_FINDING_TERM);

    assert_true(fires("{types: [cn_resident_id]}", "", fs));
    assert_false(fires("{types: [hk_id_card]}", "", fs));
    assert_true(fires("{categories: [contact]}", "", fs));
    assert_false(fires("{categories: [financial]}", "", fs));
    assert_true(fires("{jurisdictions: [mo]}", "", fs));
    assert_false(fires("{jurisdictions: [tw]}", "", fs));
    assert_true(fires("{count: 4}", "", fs));
    assert_false(fires("{count: 5}", "", fs));
    assert_true(fires("{count: {max: 4}}", "", fs));
    assert_false(fires("{count: {max: 3}}", "", fs));
    assert_true(fires("{findings: {types: [cn_resident_id], count: 2}}", "", fs));
    assert_false(fires("{findings: {types: [cn_resident_id], count: 3}}", "", fs));
    assert_true(
        fires("{findings: {types: [cn_resident_id], masked: false, count: {max: 1}}}", "", fs));
    assert_true(fires("{masked: true}", "", fs));
    assert_false(fires("{findings: {categories: [contact], masked: true}}", "", fs));
    assert_true(fires("{score: {min: 0.99}}", "", fs));
    assert_false(fires("{findings: {types: [phone_mo], min_score: 0.8}}", "", fs));
    assert_true(fires("{findings: {kind: term}}", "", fs));
    assert_false(fires("{findings: {kind: term, categories: [identity]}}", "", fs));
    assert_false(fires("{minor: true}", "", fs));
    assert_true(fires("{tier: restricted}", "", fs));
    assert_true(fires("{tier: {at_least: internal}}", "", fs));
    assert_false(fires("{tier: {at_most: internal}}", "", fs));
    assert_false(fires("{tier: [public, internal]}", "", fs));

    barra_findings_clear(fs);
    assert_int_equal(barra_findings_count(fs), 0);
    add(fs, "cn_resident_id", "identity", "cn", 0.99, BARRA_FINDING_MINOR);
    assert_true(fires("{minor: true}", "", fs));
    assert_true(fires("{tier: restricted}", "", fs));
    barra_findings_clear(fs);
    assert_true(fires("{tier: public}", "", fs));
    assert_true(fires("{count: {max: 0}}", "", fs));
    assert_false(fires("{count: 1}", "", NULL));
    barra_findings_free(fs);
}

static void test_event_conditions(void **state)
{
    (void)state;
    const char *full = ",\"conversation\":{\"id\":\"cid-1\",\"type\":\"external_group\"},"
                       "\"sender\":{\"id\":\"U1\",\"department\":\"HR\",\"role\":\"Manager\"},"
                       "\"recipients\":[{\"id\":\"u2\",\"department\":\"Sales\"},"
                       "{\"id\":\"u3\",\"department\":\"Finance\",\"role\":\"clerk\"}],"
                       "\"destination\":{\"platform\":\"DingTalk\",\"region\":\"cn-mainland\"},"
                       "\"direction\":\"outbound\"";
    assert_true(fires("{kind: message}", full, NULL));
    assert_false(fires("{kind: file}", full, NULL));
    /* Names compare without regard to ASCII case, except ids. */
    assert_true(fires("{source: dingtalk}", full, NULL));
    assert_false(fires("{source: [wecom, slack]}", full, NULL));
    assert_true(fires("{conversation: {type: external_group}}", full, NULL));
    assert_false(fires("{conversation: {type: [direct, group]}}", full, NULL));
    assert_true(fires("{conversation: {id: cid-1}}", full, NULL));
    assert_false(fires("{conversation: {id: CID-1}}", full, NULL));
    assert_true(fires("{sender: {department: hr}}", full, NULL));
    assert_true(fires("{sender: {department: hr, role: manager}}", full, NULL));
    assert_false(fires("{sender: {department: hr, role: clerk}}", full, NULL));
    assert_true(fires("{sender: {id: U1}}", full, NULL));
    assert_false(fires("{sender: {id: u1}}", full, NULL));
    /* recipient: one recipient must match every part. */
    assert_true(fires("{recipient: {department: finance, role: clerk}}", full, NULL));
    assert_false(fires("{recipient: {department: sales, role: clerk}}", full, NULL));
    assert_true(fires("{destination: {region: cn-mainland}}", full, NULL));
    assert_true(
        fires("{destination: {platform: dingtalk, region: [mo, cn-mainland]}}", full, NULL));
    assert_false(fires("{destination: {region: [mo, hk]}}", full, NULL));
    assert_true(fires("{direction: outbound}", full, NULL));
    assert_false(fires("{direction: [inbound, internal]}", full, NULL));
    /* Missing fields never match, so `not` of them holds: write rules with that in mind. */
    assert_false(fires("{destination: {region: cn-mainland}}", "", NULL));
    assert_true(fires("{not: {destination: {region: mo}}}", "", NULL));
    assert_false(fires("{direction: outbound}", "", NULL));
    assert_false(fires("{recipient: {department: sales}}", "", NULL));
    /* Combinators. */
    assert_true(fires("{all: [{kind: message}, {direction: outbound}]}", full, NULL));
    assert_false(fires("{all: [{kind: message}, {direction: inbound}]}", full, NULL));
    assert_true(fires("{any: [{kind: file}, {direction: outbound}]}", full, NULL));
    assert_false(fires("{any: [{kind: file}, {direction: inbound}]}", full, NULL));
    assert_false(fires("{not: {kind: message}}", full, NULL));
    assert_true(fires("{not: [{kind: file}, {direction: inbound}]}", full, NULL));
    assert_false(fires("{not: [{kind: file}, {direction: outbound}]}", full, NULL));
    assert_true(fires("{kind: message, direction: outbound}", full, NULL));
    assert_false(fires("{kind: message, direction: internal}", full, NULL));
}

static void test_file_conditions(void **state)
{
    (void)state;
    /* A message has no file, so file conditions do not hold. */
    assert_false(fires("{file: {type: xlsx}}", "", NULL));
    barra_policy_t *p;
    barra_event_t *e;
    barra_decision_t *d;
    struct {
        const char *when;
        uint64_t size;
        bool want;
    } cases[] = {
        {"{file: {size: {min: 2MB}}}", 2000000, true},
        {"{file: {size: {min: 2MB}}}", 1999999, false},
        {"{file: {size: {max: 1KiB}}}", 1024, true},
        {"{file: {size: {max: 1KiB}}}", 1025, false},
        {"{file: {type: [pdf, docx]}}", 10, false},
        {"{file: {type: xlsx}}", 10, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        p = one_rule(cases[i].when);
        assert_int_equal(barra_event_new("file", &e), 0);
        assert_int_equal(barra_event_set(e, "source", "s", NULL), 0);
        /* The type comes from the name's extension, lowercased. */
        assert_int_equal(barra_event_set(e, "file.name", "reports/Q3.XLSX", NULL), 0);
        assert_int_equal(barra_event_set_file_size(e, cases[i].size), 0);
        assert_int_equal(barra_decide(p, e, NULL, NULL, &d, NULL), 0);
        if ((barra_decision_action(d) == BARRA_ACTION_BLOCK) != cases[i].want) {
            fail_msg("%s with %llu bytes", cases[i].when, (unsigned long long)cases[i].size);
        }
        barra_decision_free(d);
        barra_event_free(e);
        barra_policy_unref(p);
    }
}

static bool fires_at(const char *when, const char *time)
{
    char tail[128];
    (void)snprintf(tail, sizeof(tail), ",\"time\":\"%s\"", time);
    return fires(when, tail, NULL);
}

static void test_time_conditions(void **state)
{
    (void)state;
    /* 2026-11-23 is a Monday; Macau time is UTC+8. */
    const char *office = "{time: {hours: \"09:00-18:00\", days: weekdays}}";
    assert_true(fires_at(office, "2026-11-23T09:00:00+08:00"));
    assert_false(fires_at(office, "2026-11-23T18:00:00+08:00"));
    assert_true(fires_at(office, "2026-11-23T01:30:00Z"));       /* 09:30 in Macau */
    assert_false(fires_at(office, "2026-11-23T00:30:00Z"));      /* 08:30 */
    assert_false(fires_at(office, "2026-11-22T10:00:00+08:00")); /* Sunday */
    /* A night range belongs to the day it starts on: Friday 23:00 to Saturday 07:00. */
    const char *friday_night = "{time: {hours: \"20:00-07:00\", days: [fri]}}";
    assert_true(fires_at(friday_night, "2026-11-27T23:00:00+08:00"));
    assert_true(fires_at(friday_night, "2026-11-28T06:59:00+08:00"));
    assert_false(fires_at(friday_night, "2026-11-28T07:00:00+08:00"));
    assert_false(fires_at(friday_night, "2026-11-28T23:00:00+08:00")); /* Saturday night */
    assert_false(fires_at(friday_night, "2026-11-27T06:00:00+08:00")); /* Thursday night */
    /* Another offset. */
    const char *utc = "{time: {hours: \"00:00-01:00\", utc_offset: \"+00:00\"}}";
    assert_true(fires_at(utc, "2026-11-23T08:30:00+08:00"));
    assert_false(fires_at(utc, "2026-11-23T09:30:00+08:00"));
    assert_true(fires_at("{time: {days: weekend}}", "2026-11-22T12:00:00+08:00"));
    assert_false(fires_at("{time: {days: weekend}}", "2026-11-23T12:00:00+08:00"));
}

static enum barra_action consent_action(const char *when, barra_consent_memory_t *m,
                                        const char *subjects)
{
    barra_policy_t *p = one_rule(when);
    struct barra_consent_provider prov = barra_consent_memory_provider(m);
    enum barra_action a = decide_with(p, subjects, NULL, &prov);
    barra_policy_unref(p);
    return a;
}

/* Counts its calls (userdata: an unsigned); nobody has consented. */
static int counting_registry(void *ud, const char *subject, const char *purpose, int64_t at,
                             enum barra_consent_state *ret)
{
    (void)subject;
    (void)purpose;
    (void)at;
    (*(unsigned *)ud)++;
    *ret = BARRA_CONSENT_MISSING;
    return 0;
}

static int broken_registry(void *ud, const char *subject, const char *purpose, int64_t at,
                           enum barra_consent_state *ret)
{
    (void)ud;
    (void)subject;
    (void)purpose;
    (void)at;
    (void)ret;
    return -BARRA_EIO;
}

static void test_consent_conditions(void **state)
{
    (void)state;
    barra_consent_memory_t *m;
    assert_int_equal(barra_consent_memory_new(&m), 0);
    assert_int_equal(barra_consent_memory_set(m, "a", "cross_border", BARRA_CONSENT_GRANTED, 0), 0);
    assert_int_equal(barra_consent_memory_set(m, "b", "cross_border", BARRA_CONSENT_GRANTED, 0), 0);
    assert_int_equal(barra_consent_memory_set(m, "c", "cross_border", BARRA_CONSENT_WITHDRAWN, 0),
                     0);
    /* granted until 2026-01-01T00:00:00Z (Unix 1767225600), before the events' time */
    assert_int_equal(
        barra_consent_memory_set(m, "d", "cross_border", BARRA_CONSENT_GRANTED, 1767225600), 0);
    assert_int_equal(barra_consent_memory_set(m, "a", "marketing", BARRA_CONSENT_REFUSED, 0), 0);
    const char *granted = "{consent: {purpose: cross_border}}";
    const char *blocks = "{consent: {purpose: cross_border, state: [withdrawn, refused], of: any}}";
    enum barra_action block = BARRA_ACTION_BLOCK, allow = BARRA_ACTION_ALLOW;
    assert_int_equal(consent_action(granted, m, ",\"subjects\":[\"a\",\"b\"]"), block);
    assert_int_equal(consent_action(granted, m, ",\"subjects\":[\"a\",\"c\"]"), allow);
    assert_int_equal(consent_action(granted, m, ",\"subjects\":[\"a\",\"zz\"]"), allow);
    assert_int_equal(consent_action(granted, m, ",\"subjects\":[\"d\"]"), allow); /* expired */
    assert_int_equal(consent_action(granted, m, ""), allow); /* nobody named: no consent */
    assert_int_equal(consent_action(blocks, m, ",\"subjects\":[\"a\",\"c\"]"), block);
    assert_int_equal(consent_action(blocks, m, ",\"subjects\":[\"a\",\"b\"]"), allow);
    assert_int_equal(consent_action("{consent: {purpose: marketing, state: refused}}", m,
                                    ",\"subjects\":[\"a\"]"),
                     block);
    assert_int_equal(consent_action("{consent: {purpose: cross_border, state: expired}}", m,
                                    ",\"subjects\":[\"d\"]"),
                     block);
    assert_int_equal(consent_action("{consent: {purpose: cross_border, state: missing}}", m,
                                    ",\"subjects\":[\"zz\"]"),
                     block);

    /* A registry that cannot answer fails closed: the exception action, block by default. */
    barra_policy_t *p = compile("  - id: ok-with-consent\n"
                                "    when: {consent: {purpose: cross_border}}\n"
                                "    action: allow\n");
    struct barra_consent_provider broken = {.lookup = broken_registry};
    assert_int_equal(decide_with(p, ",\"subjects\":[\"a\"]", NULL, &broken), BARRA_ACTION_BLOCK);
    barra_policy_unref(p);

    /* The registry is asked last, whatever the order the conditions are written in: a rule
     * that fails on the event (its source: a condition no prefilter looks at) does not call it;
     * one that holds on the event does. */
    static const char *const sources[] = {"slack", "dingtalk"};
    for (unsigned k = 0; k < 2; k++) {
        char rule[512];
        (void)snprintf(rule, sizeof(rule),
                       "  - id: without-consent\n"
                       "    when: {all: [{not: {consent: {purpose: cross_border}}},\n"
                       "                 {source: [%s]}]}\n"
                       "    action: block\n%s",
                       sources[k], tip);
        p = compile(rule);
        unsigned calls = 0;
        struct barra_consent_provider counting = {.lookup = counting_registry, .userdata = &calls};
        assert_int_equal(decide_with(p, ",\"subjects\":[\"a\"]", NULL, &counting),
                         k ? BARRA_ACTION_BLOCK : BARRA_ACTION_ALLOW);
        assert_int_equal(calls, k);
        barra_policy_unref(p);
    }
    barra_consent_memory_free(m);
}

static void test_conflicts(void **state)
{
    (void)state;
    /* Every action fires; block wins. Then without block, require_consent; and so on. */
    static const char *const order[] = {"allow",           "tag",  "redact", "route_local",
                                        "require_consent", "block"};
    for (size_t top = 0; top < 6; top++) {
        char rules[8192] = "";
        size_t used = 0;
        /* Listed least restrictive last, so policy order cannot be what decides. */
        for (size_t k = top + 1; k-- > 0;) {
            const char *extra = strcmp(order[k], "tag") == 0           ? "    tags: [x]\n"
                                : strcmp(order[k], "route_local") == 0 ? "    route: vault\n"
                                : strcmp(order[k], "require_consent") == 0
                                    ? "    consent_purpose: cross_border\n"
                                    : "";
            used += (size_t)snprintf(rules + used, sizeof(rules) - used,
                                     "  - id: r-%s\n    when: always\n    action: %s\n%s%s",
                                     order[k], order[k], extra, tip);
        }
        barra_policy_t *p = compile(rules);
        assert_int_equal(decide_with(p, "", NULL, NULL), (enum barra_action)top);
        barra_policy_unref(p);
    }
    /* An override rule decides alone, even against a more restrictive rule. */
    barra_policy_t *p = compile("  - id: strict\n    when: always\n    action: block\n"
                                "    tip: {en: e, zh-Hant: t, zh-Hans: s, pt: p}\n"
                                "    citations: [CN-PIPL-28]\n"
                                "  - id: approved\n    when: {conversation: {id: cid-ok}}\n"
                                "    action: tag\n    tags: [approved]\n    override: true\n"
                                "    tip: {en: e, zh-Hant: t, zh-Hans: s, pt: p}\n"
                                "    citations: [CN-PIPL-38]\n");
    assert_int_equal(decide_with(p, ",\"conversation\":{\"id\":\"cid-ok\"}", NULL, NULL),
                     BARRA_ACTION_TAG);
    assert_int_equal(decide_with(p, ",\"conversation\":{\"id\":\"cid-other\"}", NULL, NULL),
                     BARRA_ACTION_BLOCK);
    barra_policy_unref(p);
    /* No rule fires: the default action. */
    p = compile("  - id: never\n    when: {kind: file}\n    action: block\n"
                "    tip: {en: e, zh-Hant: t, zh-Hans: s, pt: p}\n    citations: [CN-PIPL-28]\n");
    assert_int_equal(decide_with(p, "", NULL, NULL), BARRA_ACTION_ALLOW);
    barra_policy_unref(p);
}

static void test_decision_contents(void **state)
{
    (void)state;
    barra_policy_t *p =
        compile("  - id: mask-ids\n    when: {types: [cn_resident_id]}\n    action: redact\n"
                "    redact: {types: [cn_resident_id]}\n"
                "    tip: {en: masked, zh-Hant: 已遮蓋, zh-Hans: 已遮盖, pt: ocultado}\n"
                "    citations: [MO-PDPA-5, CN-PIPL-51]\n"
                "  - id: tag-all\n    when: {count: 1}\n    action: tag\n    tags: [pd, audit]\n"
                "    tip: {en: e, zh-Hant: t, zh-Hans: s, pt: p}\n    citations: [CN-PIPL-51]\n");
    const char *text = "ID 11010519491231002X tel 66123456";
    char json[512];
    (void)snprintf(json, sizeof(json),
                   "{\"id\":\"m-7\",\"kind\":\"message\",\"text\":\"%s\",\"source\":\"dingtalk\","
                   "\"time\":\"2026-11-23T10:00:00+08:00\"}",
                   text);
    barra_event_t *e = event(json);
    barra_findings_t *fs;
    assert_int_equal(barra_findings_new(&fs), 0);
    struct barra_finding f = {.type = "cn_resident_id",
                              .category = "identity",
                              .jurisdiction = "cn",
                              .start = 3,
                              .end = 21,
                              .score = 0.99,
                              .value = text + 3,
                              .value_len = 18,
                              .normalized = "11010519491231002X",
                              .normalized_len = 18};
    assert_int_equal(barra_findings_add(fs, &f), 0);
    f = (struct barra_finding){.type = "phone_mo",
                               .category = "contact",
                               .jurisdiction = "mo",
                               .start = 26,
                               .end = 34,
                               .score = 0.9,
                               .value = text + 26,
                               .value_len = 8,
                               .normalized = "66123456",
                               .normalized_len = 8};
    assert_int_equal(barra_findings_add(fs, &f), 0);
    barra_key_t *key;
    assert_int_equal(barra_key_from_bytes("0123456789abcdef0123456789abcdef", 32, &key, NULL), 0);
    barra_decision_t *d;
    struct barra_decide_options o = {.key = key, .explain = true};
    assert_int_equal(barra_decide(p, e, fs, &o, &d, NULL), 0);
    assert_int_equal(barra_decision_action(d), BARRA_ACTION_REDACT);
    assert_string_equal(barra_decision_deciding_rule(d), "mask-ids");
    assert_int_equal(barra_decision_rule_count(d), 2);
    assert_string_equal(barra_decision_rule_id(d, 1), "tag-all");
    assert_string_equal(barra_decision_tip(d, "zh-Hant"), "已遮蓋");
    assert_null(barra_decision_tip(d, "fr"));
    size_t n;
    /* Only the ID number is redacted (the rule's selection), with the default full mask. */
    assert_string_equal(barra_decision_redacted_text(d, &n), "ID ****************** tel 66123456");
    assert_int_equal(n, strlen(text));
    char *out;
    assert_int_equal(barra_decision_format_json(d, BARRA_DECISION_REASONS, &out, NULL), 0);
    /* The decision names what was found but never holds a value, whole or in part. */
    assert_null(strstr(out, "11010519491231002X"));
    assert_null(strstr(out, "1231002X"));
    assert_null(strstr(out, "66123456"));
    assert_non_null(strstr(out, "\"event_id\":\"m-7\""));
    assert_non_null(strstr(out, "\"action\":\"redact\""));
    assert_non_null(strstr(out, "\"tags\":[\"pd\",\"audit\"]"));
    assert_non_null(strstr(out, "\"citations\":[\"MO-PDPA-5\",\"CN-PIPL-51\"]"));
    assert_non_null(strstr(out, "\"reasons\":[\"1 finding of cn_resident_id (needs at least 1): "
                                "cn_resident_id\"]"));
    assert_non_null(strstr(out, "\"key_id\":\""));
    assert_non_null(strstr(out, "\"classifier\":\"" BARRA_VERSION "+src."));
    assert_non_null(strstr(out, barra_policy_version(p)));
    assert_non_null(strstr(out, "\"ref\":\"hmac-sha256:"));
    barra_string_free(out);
    barra_decision_free(d);

    /* The exception action when classification failed: highest tier, no rules, the default tip. */
    o.classification_failed = true;
    assert_int_equal(barra_decide(p, e, fs, &o, &d, NULL), 0);
    assert_int_equal(barra_decision_action(d), BARRA_ACTION_BLOCK);
    assert_int_equal(barra_decision_rule_count(d), 0);
    assert_string_equal(barra_decision_tier(d), "restricted");
    assert_non_null(strstr(barra_decision_tip(d, "pt"), "Barra"));
    barra_decision_free(d);

    barra_key_free(key);
    barra_findings_free(fs);
    barra_event_free(e);
    barra_policy_unref(p);
}

static void test_slot_reload(void **state)
{
    (void)state;
    barra_policy_t *a = compile("  []\n");
    barra_policy_slot_t *slot;
    assert_int_equal(barra_policy_slot_new(a, &slot), 0);
    barra_policy_t *held = barra_policy_slot_get(slot);
    assert_ptr_equal(held, a);
    char path[] = "/tmp/barra-slot-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *bad = "policy: {name: broken}\ntiers: []\nrules: []\n";
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    struct barra_policy_options o;
    barra_policy_options_init(&o);
    o.detector = detector;
    struct barra_error err;
    /* A broken file changes nothing. */
    assert_true(barra_policy_slot_reload(slot, path, &o, &err) < 0);
    barra_policy_t *now = barra_policy_slot_get(slot);
    assert_ptr_equal(now, a);
    barra_policy_unref(now);
    /* A good one is swapped in; the reference held from before still works. */
    const char *good = "policy: {name: second}\ntiers: [{name: only}]\nrules: []\n";
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(pwrite(fd, good, strlen(good), 0), (ssize_t)strlen(good));
    close(fd);
    assert_int_equal(barra_policy_slot_reload(slot, path, &o, &err), 0);
    now = barra_policy_slot_get(slot);
    assert_string_equal(barra_policy_name(now), "second");
    assert_string_equal(barra_policy_name(held), "t");
    barra_policy_unref(now);
    barra_policy_unref(held);
    barra_policy_unref(a);
    barra_policy_slot_free(slot);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_findings_conditions), cmocka_unit_test(test_event_conditions),
        cmocka_unit_test(test_file_conditions),     cmocka_unit_test(test_time_conditions),
        cmocka_unit_test(test_consent_conditions),  cmocka_unit_test(test_conflicts),
        cmocka_unit_test(test_decision_contents),   cmocka_unit_test(test_slot_reload),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
