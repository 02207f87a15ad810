/* SPDX-License-Identifier: Apache-2.0 */
/* Malformed policies: each must be refused with a message that says what is wrong and where. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <barra/policy.h>

#include "fixture.h"

#define HEAD "policy: {name: t}\ntiers:\n  - name: low\n  - name: high\n    when: {count: 2}\n"
#define TIP  "    tip: {en: e, zh-Hant: t, zh-Hans: s, pt: p}\n"
#define CITE "    citations: [CN-PIPL-28]\n"

struct bad {
    const char *yaml;
    const char *message; /* a part of the expected message */
    uint32_t line, column;
};

static const struct bad cases[] = {
    {"", "missing \"policy\"", 1, 1},
    {"- a\n- b\n", "takes a mapping", 1, 1},
    {"policy: {name: t}\nrules: []\n", "missing \"tiers\"", 1, 1},
    {"policy: {name: t}\ntiers: [{name: a}]\n", "missing \"rules\"", 1, 1},
    {"policy: {name: t}\ntiers: [{name: a}]\nrules: []\nextra: 1\n", "unknown key \"extra\"", 4, 1},
    {"policy: {}\ntiers: [{name: a}]\nrules: []\n", "missing \"name\"", 1, 9},
    {"policy: {name: t, default_action: maybe}\ntiers: [{name: a}]\nrules: []\n",
     "an action is one of", 1, 35},
    {"policy: {name: t, exception_action: route_local}\ntiers: [{name: a}]\nrules: []\n",
     "exception action is block", 1, 37},
    {"policy: {name: t}\ntiers: []\nrules: []\n", "list of tiers", 2, 8},
    {"policy: {name: t}\ntiers: [{name: a, when: {count: 1}}]\nrules: []\n",
     "first tier is the default", 2, 25},
    {"policy: {name: t}\ntiers: [{name: a}, {name: b}]\nrules: []\n", "needs a \"when\"", 2, 20},
    {"policy: {name: t}\ntiers: [{name: a}, {name: a, when: {count: 1}}]\nrules: []\n",
     "defined twice", 2, 27},
    {"policy: {name: t}\ntiers: [{name: a}, {name: b, when: {kind: file}}]\nrules: []\n",
     "tier depends on the data alone", 2, 37},
    {"policy: {name: t}\ntiers: [{name: a}, {name: b, when: {tier: a}}]\nrules: []\n",
     "cannot depend on the tier", 2, 37},
    {HEAD "rules:\n  - {id: r, action: allow}\n", "has no \"when\"", 7, 5},
    {HEAD "rules:\n  - {id: r, when: always}\n", "has no \"action\"", 7, 5},
    {HEAD "rules:\n  - {id: Bad Id, when: always, action: allow}\n", "must be lowercase", 7, 10},
    {HEAD "rules:\n  - {id: r, when: always, action: allow}\n  - {id: r, when: always, action: "
          "allow}\n",
     "used twice (first on line 7)", 8, 10},
    {HEAD "rules:\n  - {id: r, when: {colour: red}, action: allow}\n",
     "unknown condition \"colour\"", 7, 20},
    {HEAD "rules:\n  - {id: r, when: {types: [passport]}, action: allow}\n",
     "unknown finding type \"passport\"", 7, 28},
    {HEAD "rules:\n  - {id: r, when: {categories: health}, action: allow}\n",
     "unknown category \"health\"", 7, 32},
    {HEAD "rules:\n  - {id: r, when: {jurisdictions: [uk]}, action: allow}\n",
     "unknown jurisdiction \"uk\"", 7, 36},
    {HEAD "rules:\n  - {id: r, when: {tier: medium}, action: allow}\n", "unknown tier \"medium\"",
     7, 26},
    {HEAD "rules:\n  - {id: r, when: {tier: {above: low}}, action: allow}\n",
     "unknown key \"above\" in tier", 7, 27},
    {HEAD "rules:\n  - {id: r, when: {destination: {region: Macau}}, action: allow}\n",
     "not a lowercase region code", 7, 42},
    {HEAD "rules:\n  - {id: r, when: {destination: {}}, action: allow}\n", "destination is empty",
     7, 33},
    {HEAD "rules:\n  - {id: r, when: {count: many}, action: allow}\n", "whole number", 7, 27},
    {HEAD "rules:\n  - {id: r, when: {count: {min: 3, max: 1}}, action: allow}\n",
     "count.min is greater than count.max", 7, 27},
    {HEAD "rules:\n  - {id: r, when: {score: {min: 2}}, action: allow}\n", "number from 0 to 1", 7,
     33},
    {HEAD "rules:\n  - {id: r, when: {minor: false}, action: allow}\n", "write not: {minor: true}",
     7, 27},
    {HEAD "rules:\n  - {id: r, when: {direction: sideways}, action: allow}\n",
     "direction is one of: inbound, outbound, internal", 7, 31},
    {HEAD "rules:\n  - {id: r, when: {conversation: {type: channel}}, action: allow}\n",
     "conversation type is one of: direct, group, external_group", 7, 41},
    {HEAD "rules:\n  - {id: r, when: {file: {size: {min: 10 parsecs}}}, action: allow}\n",
     "a size is a number of bytes", 7, 39},
    {HEAD "rules:\n  - {id: r, when: {time: {hours: \"9-5\"}}, action: allow}\n",
     "hours is a range HH:MM-HH:MM", 7, 34},
    {HEAD "rules:\n  - {id: r, when: {time: {days: [someday]}}, action: allow}\n", "day is one of",
     7, 34},
    {HEAD "rules:\n  - {id: r, when: {time: {utc_offset: \"8\"}}, action: allow}\n",
     "utc_offset is written +HH:MM", 7, 39},
    {HEAD "rules:\n  - {id: r, when: {consent: {state: granted}}, action: allow}\n",
     "consent needs a purpose", 7, 29},
    {HEAD "rules:\n  - {id: r, when: {consent: {purpose: Cross Border}}, action: allow}\n",
     "lowercase letters, digits and underscores", 7, 39},
    {HEAD "rules:\n  - {id: r, when: {consent: {purpose: x, of: most}}, action: allow}\n",
     "consent of is all or any", 7, 46},
    {HEAD "rules:\n  - {id: r, when: {all: {kind: file}}, action: allow}\n",
     "all takes a list of conditions", 7, 25},
    {HEAD "rules:\n  - {id: r, when: {any: []}, action: allow}\n", "any has no conditions", 7, 25},
    {HEAD "rules:\n  - {id: r, when: [kind], action: allow}\n", "a condition is a mapping", 7, 19},
    {HEAD "rules:\n  - {id: r, when: {}, action: allow}\n", "empty condition", 7, 19},
    {HEAD "rules:\n  - {id: r, when: always, action: block}\n", "needs citations", 7, 5},
    {HEAD "rules:\n  - {id: r, when: always, action: block, citations: [GDPR-5]}\n",
     "unknown article \"GDPR-5\"", 7, 54},
    {HEAD "rules:\n  - {id: r, when: always, action: block, citations: [CN-PIPL-28]}\n",
     "needs a tip", 7, 5},
    {HEAD "rules:\n  - id: r\n    when: always\n    action: block\n" CITE
          "    tip: {en: e, zh-Hant: t, pt: p}\n",
     "no \"zh-Hans\" text", 11, 10},
    {HEAD "rules:\n  - id: r\n    when: always\n    action: block\n" CITE
          "    tip: {en: e, zh-Hant: t, zh-Hans: s, pt: p, fr: f}\n",
     "unknown key \"fr\" in tip", 11, 49},
    {HEAD "rules:\n  - id: r\n    when: always\n    action: tag\n" TIP CITE, "needs tags", 7, 5},
    {HEAD "rules:\n  - id: r\n    when: always\n    action: route_local\n" TIP CITE, "needs route",
     7, 5},
    {HEAD "rules:\n  - id: r\n    when: always\n    action: require_consent\n" TIP CITE,
     "needs consent_purpose", 7, 5},
    {HEAD "rules:\n  - id: r\n    when: always\n    action: block\n    route: vault\n" TIP CITE,
     "\"route\" belongs to rules whose action is route_local", 10, 12},
    {HEAD "rules:\n  - id: r\n    when: always\n    action: tag\n    tags: [x]\n    redact: "
          "{types: [email]}\n" TIP CITE,
     "\"redact\" belongs to rules whose action is redact", 11, 13},
    {HEAD
     "rules:\n  - id: r\n    when: always\n    action: redact\n    redact: {count: 1}\n" TIP CITE,
     "it has no count", 10, 21},
    {HEAD "rules:\n  - id: r\n    when: always\n    action: allow\n    override: yes\n",
     "override must be true or false", 10, 15},
    {HEAD "redaction: {default: blur}\nrules: []\n", "mask, partial, pseudonym or remove", 6, 22},
    {HEAD "redaction: {default: {method: partial}}\nrules: []\n", "needs keep_last", 6, 22},
    {HEAD "redaction: {default: {method: partial, keep_last: [4]}}\nrules: []\n", "needs keep_last",
     6, 51},
    {HEAD "redaction: {default: {method: mask, keep_last: 2}}\nrules: []\n",
     "keep_last applies only to the partial method", 6, 48},
    {HEAD "redaction: {types: {ssn: mask}}\nrules: []\n", "unknown finding type \"ssn\"", 6, 21},
    {HEAD "rules:\n  - {id: r, when: {kind: file, kind: message}, action: allow}\n",
     "duplicate key \"kind\"", 7, 32},
    {HEAD "rules:\n  - &a {id: r, when: always, action: allow}\n", "anchors", 7, 5},
    {"policy: {name: t}\ntiers: [{name: a}\nrules: []\n", "", 0, 0}, /* YAML syntax error */
};

static void test_each_error(void **state)
{
    (void)state;
    struct barra_policy_options o;
    barra_policy_options_init(&o);
    o.detector = detector;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct bad *c = &cases[i];
        barra_policy_t *p = NULL;
        struct barra_error err;
        memset(&err, 0, sizeof(err));
        int r = barra_policy_compile(c->yaml, strlen(c->yaml), "bad.yaml", &o, &p, &err);
        if (r >= 0) {
            barra_policy_unref(p);
            fail_msg("case %zu compiled:\n%s", i, c->yaml);
        }
        assert_int_equal(r, -BARRA_EPARSE);
        assert_null(p);
        if (strstr(err.message, c->message) == NULL) {
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err.message, c->message);
        }
        assert_string_equal(err.file, "bad.yaml");
        if (c->line && (err.line != c->line || err.column != c->column)) {
            fail_msg("case %zu (\"%s\"): at %u:%u, expected %u:%u", i, err.message, err.line,
                     err.column, c->line, c->column);
        }
        if (c->line == 0) {
            assert_true(err.line > 0);
        }
    }
}

static void test_missing_file(void **state)
{
    (void)state;
    barra_policy_t *p = NULL;
    struct barra_error err;
    assert_int_equal(barra_policy_load("/nonexistent/policy.yaml", NULL, &p, &err), -BARRA_ENOENT);
    assert_non_null(strstr(err.message, "/nonexistent/policy.yaml"));
    assert_int_equal(barra_policy_compile(NULL, 0, NULL, NULL, &p, &err), -BARRA_EINVAL);
}

static void test_shipped_articles(void **state)
{
    (void)state;
    /* Every article id in rules/law/articles.yaml can be cited; a near miss cannot. */
    const char *ok = HEAD "rules:\n  - id: r\n    when: always\n    action: block\n" TIP
                          "    citations: [MO-PDPA-19, MO-PDPA-20, CN-PIPL-38, CN-PIPL-39, "
                          "HK-PDPO-DPP4, HK-PCPD-ID-CODE, CN-CBDF-5]\n";
    struct barra_policy_options o;
    barra_policy_options_init(&o);
    o.detector = detector;
    barra_policy_t *p = NULL;
    struct barra_error err;
    assert_int_equal(barra_policy_compile(ok, strlen(ok), "ok.yaml", &o, &p, &err), 0);
    barra_policy_unref(p);
    const char *near = HEAD "rules:\n  - id: r\n    when: always\n    action: block\n" TIP
                            "    citations: [MO-PDPA-99]\n";
    assert_int_equal(barra_policy_compile(near, strlen(near), "n.yaml", &o, &p, &err),
                     -BARRA_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_error),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_shipped_articles),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
