/* SPDX-License-Identifier: Apache-2.0 */
/* The human layout of `barra policy explain`, read from the decision's JSON form so that what is
 * shown is exactly what would be logged. */
#include "config.h"

#include <jansson.h>
#include <string.h>

#include "cli/policy.h"

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void print_findings(json_t *findings, FILE *out)
{
    size_t i;
    json_t *f;
    fprintf(out, "findings  %s\n", json_array_size(findings) ? "" : "none");
    json_array_foreach(findings, i, f)
    {
        fprintf(out, "  %-22s %-12s %-8s bytes %lld-%lld  score %.2f%s%s\n", str(f, "type"),
                str(f, "category"), str(f, "jurisdiction"),
                (long long)json_integer_value(json_object_get(f, "start")),
                (long long)json_integer_value(json_object_get(f, "end")),
                json_real_value(json_object_get(f, "score")),
                json_is_true(json_object_get(f, "masked")) ? "  masked" : "",
                json_object_get(f, "ref") ? "  ref " : "");
        if (json_object_get(f, "ref")) {
            fprintf(out, "    %s\n", str(f, "ref"));
        }
    }
}

static void print_rules(json_t *rules, FILE *out)
{
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        fprintf(out, "rule      %s -> %s%s%s\n", str(r, "id"), str(r, "action"),
                json_is_true(json_object_get(r, "override")) ? " (override)" : "",
                json_is_false(json_object_get(r, "counted")) ? " (not counted: an override rule "
                                                               "fired)"
                                                             : "");
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(r, "reasons"), k, v)
        {
            fprintf(out, "  because %s\n", json_string_value(v));
        }
        json_t *cites = json_object_get(r, "citations");
        if (json_array_size(cites)) {
            fprintf(out, "  cites  ");
            json_array_foreach(cites, k, v)
            {
                fprintf(out, " %s", json_string_value(v));
            }
            fputc('\n', out);
        }
    }
}

void barra_explain_print(const char *decision_json, FILE *out)
{
    json_t *d = json_loads(decision_json, 0, NULL);
    if (d == NULL) {
        return;
    }
    if (json_object_get(d, "exception")) {
        fprintf(out, "exception %s: the policy's exception action applied\n", str(d, "exception"));
    }
    print_findings(json_object_get(d, "findings"), out);
    print_rules(json_object_get(d, "rules"), out);
    if (json_object_get(d, "route")) {
        fprintf(out, "route     %s\n", str(d, "route"));
    }
    if (json_object_get(d, "consent_purpose")) {
        fprintf(out, "consent   asked for: %s\n", str(d, "consent_purpose"));
    }
    json_t *v = json_object_get(d, "versions");
    fprintf(out, "versions  policy %.12s (%s), entity rules %.12s, classifier %s\n",
            str(v, "policy"), str(v, "policy_name"), str(v, "entity_rules"), str(v, "classifier"));
    json_decref(d);
}
