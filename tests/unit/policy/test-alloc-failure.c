/* SPDX-License-Identifier: Apache-2.0 */
/* Compiling a policy, parsing an event and deciding, with each allocation made to fail in turn:
 * every failure is an error return, never a crash or a leak (the ASan run checks leaks). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <barra/policy.h>

#include "core/alloc.h"
#include "fixture.h"

static const char policy[] =
    "policy: {name: t}\n"
    "tiers: [{name: low}, {name: high, when: {any: [{categories: [medical]}, {count: 3}]}}]\n"
    "redaction: {default: mask, types: {email: pseudonym, cn_resident_id: {method: partial, "
    "keep_last: 4}}}\n"
    "rules:\n"
    "  - id: consent\n"
    "    when: {tier: high, destination: {region: cn-mainland}, not: {consent: {purpose: x}}}\n"
    "    action: require_consent\n    consent_purpose: x\n"
    "    tip: {en: e, zh-Hant: t, zh-Hans: s, pt: p}\n    citations: [CN-PIPL-39]\n"
    "  - id: mask\n    when: {types: [cn_resident_id, email]}\n    action: redact\n"
    "    tip: {en: e, zh-Hant: t, zh-Hans: s, pt: p}\n    citations: [MO-PDPA-5]\n"
    "  - id: tag\n    when: {sender: {department: hr}, time: {hours: \"09:00-18:00\"}}\n"
    "    action: tag\n    tags: [hr]\n"
    "    tip: {en: e, zh-Hant: t, zh-Hans: s, pt: p}\n    citations: [CN-PIPL-51]\n";

static const char event[] =
    "{\"kind\":\"message\",\"id\":\"e1\",\"text\":\"ID 11010519491231002X a@b.co\",\"source\":"
    "\"s\",\"sender\":{\"department\":\"HR\"},\"destination\":{\"region\":\"cn-mainland\"},"
    "\"recipients\":[{\"id\":\"r\"}],\"subjects\":[\"p1\"],\"time\":\"2026-11-23T10:00:00+08:00\"}";

static int whole_path(void)
{
    struct barra_policy_options o;
    barra_policy_options_init(&o);
    o.detector = detector;
    barra_policy_t *p = NULL;
    barra_event_t *e = NULL;
    barra_findings_t *fs = NULL;
    barra_decision_t *d = NULL;
    barra_key_t *k = NULL;
    barra_consent_memory_t *m = NULL;
    char *json = NULL;
    int r = barra_policy_compile(policy, strlen(policy), "t.yaml", &o, &p, NULL);
    r = r ? r : barra_event_parse(event, strlen(event), &e, NULL);
    r = r ? r : barra_findings_new(&fs);
    r = r ? r : barra_key_from_bytes("0123456789abcdef0123456789abcdef", 32, &k, NULL);
    r = r ? r : barra_consent_memory_new(&m);
    r = r ? r : barra_consent_memory_set(m, "p1", "x", BARRA_CONSENT_GRANTED, 0);
    struct barra_finding f1 = {.type = "cn_resident_id",
                               .category = "identity",
                               .jurisdiction = "cn",
                               .start = 3,
                               .end = 21,
                               .score = 1,
                               .value = event,
                               .value_len = 18};
    struct barra_finding f2 = {.type = "email",
                               .category = "contact",
                               .jurisdiction = "unknown",
                               .start = 22,
                               .end = 28,
                               .score = 1,
                               .value = "a@b.co",
                               .value_len = 6};
    r = r ? r : barra_findings_add(fs, &f1);
    r = r ? r : barra_findings_add(fs, &f2);
    struct barra_consent_provider prov = barra_consent_memory_provider(m);
    struct barra_decide_options opts = {.key = k, .consent = &prov, .explain = true};
    r = r ? r : barra_decide(p, e, fs, &opts, &d, NULL);
    r = r ? r : barra_decision_format_json(d, BARRA_DECISION_REASONS, &json, NULL);
    barra_string_free(json);
    barra_decision_free(d);
    barra_consent_memory_free(m);
    barra_key_free(k);
    barra_findings_free(fs);
    barra_event_free(e);
    barra_policy_unref(p);
    return r;
}

static void test_fail_each(void **state)
{
    (void)state;
    barra_alloc_fail_at(0);
    assert_int_equal(whole_path(), 0);
    int failures = 0;
    for (int n = 1; n <= 2000; n++) {
        barra_alloc_fail_at(n);
        int r = whole_path();
        barra_alloc_fail_at(0);
        if (r == 0) {
            break; /* n is past the last allocation */
        }
        failures++;
    }
    /* Not a trivially short path: many allocations were failed and survived. */
    assert_true(failures > 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fail_each)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
