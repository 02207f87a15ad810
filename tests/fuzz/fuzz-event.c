/* SPDX-License-Identifier: Apache-2.0 */
/* Content events on arbitrary bytes; whatever parses is decided on by a policy that uses every
 * condition about events, and the decision is written as JSON. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <barra/policy.h>

#include "policy/policy-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static barra_policy_t *policy;
static barra_consent_memory_t *consents;

static const char policy_text[] =
    "policy: {name: fuzz}\n"
    "tiers: [{name: low}, {name: high, when: {count: 1}}]\n"
    "redaction: {default: {method: partial, keep_last: 2}}\n"
    "rules:\n"
    "  - id: a\n"
    "    when: {all: [{kind: file}, {file: {type: [xlsx, csv], size: {min: 1KB}}}]}\n"
    "    action: route_local\n    route: vault\n"
    "    tip: {en: e, zh-Hant: t, zh-Hans: s, pt: p}\n    citations: [CN-PIPL-51]\n"
    "  - id: b\n"
    "    when: {any: [{conversation: {type: external_group}}, {recipient: {department: x}},\n"
    "                 {sender: {id: u1, role: boss}}, {source: [dingtalk, mail]}]}\n"
    "    action: tag\n    tags: [t]\n"
    "    tip: {en: e, zh-Hant: t, zh-Hans: s, pt: p}\n    citations: [CN-PIPL-51]\n"
    "  - id: c\n"
    "    when: {destination: {region: cn-mainland}, not: {consent: {purpose: cross_border}},\n"
    "           time: {hours: \"20:00-07:00\", days: [fri, sat]}, direction: outbound}\n"
    "    action: require_consent\n    consent_purpose: cross_border\n"
    "    tip: {en: e, zh-Hant: t, zh-Hans: s, pt: p}\n    citations: [CN-PIPL-39]\n"
    "  - id: e\n    when: {kind: file, destination: {region: [mo, hk]}, sender: {department: hr},\n"
    "           conversation: {type: [group, direct]}, direction: [inbound, internal]}\n"
    "    action: block\n"
    "    tip: {en: e, zh-Hant: t, zh-Hans: s, pt: p}\n    citations: [CN-PIPL-51]\n"
    "  - id: d\n    when: {kind: message}\n    action: redact\n"
    "    tip: {en: e, zh-Hant: t, zh-Hans: s, pt: p}\n    citations: [MO-PDPA-5]\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (policy == NULL &&
        (barra_policy_compile(policy_text, strlen(policy_text), "fuzz", NULL, &policy, NULL) < 0 ||
         barra_consent_memory_new(&consents) < 0 ||
         barra_consent_memory_set(consents, "a", "cross_border", BARRA_CONSENT_GRANTED, 0) < 0)) {
        abort();
    }
    barra_event_t *e = NULL;
    struct barra_error err;
    if (barra_event_parse((const char *)data, size, &e, &err) < 0) {
        if (e != NULL || err.message[0] == '\0') {
            abort();
        }
        return 0;
    }
    struct barra_consent_provider prov = barra_consent_memory_provider(consents);
    struct barra_decide_options opts = {.consent = &prov, .explain = true};
    barra_decision_t *d = NULL, *all = NULL, *quiet = NULL;
    /* The prefilter's gates on the event must never change which rules fire, with explanations
     * or without. */
    struct barra_decide_options no_explain = opts;
    no_explain.explain = false;
    pol_prefilter_off = true;
    int r = barra_decide(policy, e, NULL, &opts, &all, &err);
    pol_prefilter_off = false;
    if (r < 0 || barra_decide(policy, e, NULL, &opts, &d, &err) < 0 ||
        barra_decide(policy, e, NULL, &no_explain, &quiet, &err) < 0 ||
        barra_decision_rule_count(all) != barra_decision_rule_count(d) ||
        barra_decision_action(all) != barra_decision_action(d) ||
        barra_decision_rule_count(all) != barra_decision_rule_count(quiet) ||
        barra_decision_action(all) != barra_decision_action(quiet)) {
        abort();
    }
    barra_decision_free(all);
    barra_decision_free(quiet);
    char *json = NULL;
    if (barra_decision_format_json(d, BARRA_DECISION_REASONS | BARRA_DECISION_PRETTY, &json, &err) <
        0) {
        abort();
    }
    barra_string_free(json);
    barra_decision_free(d);
    barra_event_free(e);
    return 0;
}
