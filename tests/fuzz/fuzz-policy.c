/* SPDX-License-Identifier: Apache-2.0 */
/* Policy files on arbitrary bytes; whatever compiles then decides about a fixed event, with
 * explanations and JSON, so the evaluator runs over every policy the fuzzer finds. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <barra/policy.h>

#include "policy/policy-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static barra_detector_t *detector;
static barra_event_t *event;
static barra_findings_t *findings;
static barra_key_t *key;

static void setup(void)
{
    static const char json[] =
        "{\"kind\":\"message\",\"id\":\"f\",\"text\":\"ID 11010519491231002X tel 66123456\","
        "\"source\":\"dingtalk\",\"conversation\":{\"id\":\"c\",\"type\":\"external_group\"},"
        "\"sender\":{\"id\":\"u\",\"department\":\"hr\",\"role\":\"m\"},\"recipients\":[{\"id\":"
        "\"r\",\"department\":\"finance\"}],\"destination\":{\"platform\":\"dingtalk\",\"region\":"
        "\"cn-mainland\"},\"direction\":\"outbound\",\"time\":\"2026-11-27T23:00:00+08:00\","
        "\"subjects\":[\"a\",\"b\"]}";
    if (barra_detector_new(NULL, &detector, NULL) < 0 ||
        barra_event_parse(json, strlen(json), &event, NULL) < 0 ||
        barra_findings_new(&findings) < 0 ||
        barra_key_from_bytes("fuzz-key-fuzz-key-fuzz-key-fuzz-key", 32, &key, NULL) < 0) {
        abort();
    }
    struct barra_finding f1 = {.type = "cn_resident_id",
                               .category = "identity",
                               .jurisdiction = "cn",
                               .start = 3,
                               .end = 21,
                               .score = 0.99,
                               .value = json,
                               .value_len = 18};
    struct barra_finding f2 = {.type = "phone_mo",
                               .category = "contact",
                               .jurisdiction = "mo",
                               .start = 26,
                               .end = 34,
                               .score = 0.7,
                               .flags = BARRA_FINDING_MASKED,
                               .value = "66123456",
                               .value_len = 8};
    if (barra_findings_add(findings, &f1) < 0 || barra_findings_add(findings, &f2) < 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (detector == NULL) {
        setup();
    }
    struct barra_policy_options o;
    barra_policy_options_init(&o);
    o.detector = detector;
    barra_policy_t *p = NULL;
    struct barra_error err;
    if (barra_policy_compile((const char *)data, size, "fuzz", &o, &p, &err) < 0) {
        if (p != NULL || err.message[0] == '\0') {
            abort(); /* a failure always explains itself and returns nothing */
        }
        return 0;
    }
    barra_decision_t *d = NULL;
    struct barra_decide_options opts = {.key = key, .explain = true};
    /* The prefilter may only skip rules that cannot fire: with it and without it, the same rules
     * fire, with no findings and with some; and the same without explanations (deciding then
     * takes shortcuts of its own). */
    struct barra_decide_options quiet = opts;
    quiet.explain = false;
    for (int pass = 0; pass < 2; pass++) {
        barra_findings_t *fs = pass ? findings : NULL;
        barra_decision_t *a = NULL, *b = NULL, *q = NULL;
        pol_prefilter_off = true;
        int ra = barra_decide(p, event, fs, &opts, &a, &err);
        pol_prefilter_off = false;
        int rb = barra_decide(p, event, fs, &opts, &b, &err);
        int rq = barra_decide(p, event, fs, &quiet, &q, &err);
        if (ra < 0 || rb < 0 || rq < 0 || barra_decision_action(a) != barra_decision_action(b) ||
            barra_decision_rule_count(a) != barra_decision_rule_count(b) ||
            barra_decision_action(a) != barra_decision_action(q) ||
            barra_decision_rule_count(a) != barra_decision_rule_count(q)) {
            abort();
        }
        for (size_t i = 0; i < barra_decision_rule_count(a); i++) {
            if (strcmp(barra_decision_rule_id(a, i), barra_decision_rule_id(b, i)) != 0 ||
                strcmp(barra_decision_rule_id(a, i), barra_decision_rule_id(q, i)) != 0) {
                abort();
            }
        }
        barra_decision_free(a);
        barra_decision_free(b);
        barra_decision_free(q);
    }
    if (barra_decide(p, event, findings, &opts, &d, &err) < 0) {
        abort();
    }
    char *json = NULL;
    /* A decision never holds a found value in the clear (unless the policy's own text, a tip for
     * instance, happens to contain it). */
    static const char value[] = "11010519491231002X";
    if (barra_decision_format_json(d, BARRA_DECISION_REASONS, &json, &err) < 0 ||
        (strstr(json, value) != NULL && memmem(data, size, value, sizeof(value) - 1) == NULL)) {
        abort();
    }
    barra_string_free(json);
    barra_decision_free(d);
    barra_policy_unref(p);
    return 0;
}
