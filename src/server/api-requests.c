/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "server/api-requests.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "vault/vault.h"

#include "core/banned.h"

static bool valid_purpose(const char *p)
{
    size_t n = strlen(p);
    return n > 0 && n < 65 && strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

void consent_request_free(struct consent_request *r)
{
    if (r) {
        barra_free(r->scope);
        barra_free(r->evidence);
        barra_free(r);
    }
}

static int state_from(const char *s, enum barra_consent_state *ret)
{
    static const enum barra_consent_state states[] = {BARRA_CONSENT_GRANTED, BARRA_CONSENT_REFUSED,
                                                      BARRA_CONSENT_WITHDRAWN};
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(s, barra_consent_state_name(states[i])) == 0) {
            *ret = states[i];
            return 0;
        }
    }
    return -1;
}

int consent_request_parse(const char *body, size_t len, bool withdraw, const barra_key_t *key,
                          int64_t now, struct consent_request **ret, struct barra_error *reterr)
{
    *ret = NULL;
    json_error_t jerr;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *subject = NULL, *subject_ref = NULL, *purpose = NULL, *state = NULL, *scope = NULL,
               *evidence = NULL, *expires = NULL;
    if (!json_is_object(j) ||
        json_unpack_ex(j, &jerr, JSON_STRICT, "{s?s, s?s, s:s, s?s, s?s, s?s, s?s}", "subject",
                       &subject, "subject_ref", &subject_ref, "purpose", &purpose, "state", &state,
                       "scope", &scope, "evidence", &evidence, "expires", &expires) < 0) {
        int r = barra_error_set(reterr, -BARRA_EFORMAT,
                                "%s (a consent is {\"subject\" or \"subject_ref\", \"purpose\", "
                                "\"state\", \"scope\", \"evidence\", \"expires\"})",
                                j && json_is_object(j) ? jerr.text
                                : j                    ? "the body must be a JSON object"
                                                       : "the body is not valid JSON");
        json_decref(j);
        return r;
    }
    struct consent_request *c = barra_calloc(1, sizeof(*c));
    const char *problem = NULL;
    enum barra_consent_state st = withdraw ? BARRA_CONSENT_WITHDRAWN : BARRA_CONSENT_GRANTED;
    if (c == NULL) {
        problem = "out of memory";
    } else if ((subject == NULL) == (subject_ref == NULL)) {
        problem = "give the data subject's identifier as \"subject\" (Barra keeps only its keyed "
                  "reference) or the reference itself as \"subject_ref\", not both";
    } else if (subject_ref &&
               (strlen(subject_ref) != 64 || strspn(subject_ref, "0123456789abcdef") != 64)) {
        problem = "\"subject_ref\" is 64 lowercase hex digits";
    } else if (!valid_purpose(purpose)) {
        problem = "\"purpose\" is a word of a-z, 0-9, '_' and '-' (cross_border, sensitive_data)";
    } else if (withdraw && state) {
        problem = "a withdrawal takes no \"state\"";
    } else if (state && state_from(state, &st) < 0) {
        problem = "\"state\" is granted, refused or withdrawn";
    } else if (expires && barra_time_parse(expires, &c->rec.expires) < 0) {
        problem = "\"expires\" is an RFC 3339 time with a zone, e.g. 2027-11-23T00:00:00+08:00";
    } else if (subject && barra_key_subject_ref(key, subject, c->rec.subject_ref) < 0) {
        problem = "the subject cannot be referenced";
    } else if (vault_id_random(c->rec.id) < 0) {
        problem = "no random bytes for an id";
    } else if ((scope && (c->scope = barra_strdup(scope)) == NULL) ||
               (evidence && (c->evidence = barra_strdup(evidence)) == NULL)) {
        problem = "out of memory";
    }
    if (problem) {
        int r = barra_error_set(reterr, c ? -BARRA_EINVAL : -BARRA_ENOMEM, "%s", problem);
        json_decref(j);
        consent_request_free(c);
        return r;
    }
    if (subject_ref) {
        memcpy(c->rec.subject_ref, subject_ref, 65);
    }
    (void)snprintf(c->rec.purpose, sizeof(c->rec.purpose), "%s", purpose);
    c->rec.state = st;
    c->rec.recorded_at = now;
    c->rec.scope = c->scope;
    c->rec.evidence = c->evidence;
    json_decref(j);
    *ret = c;
    return 0;
}

int classify_request_parse(const char *body, size_t len, char **ret_text, size_t *ret_len,
                           struct barra_error *reterr)
{
    *ret_text = NULL;
    json_error_t jerr;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *text = NULL;
    size_t tl = 0;
    if (!json_is_object(j) ||
        json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s%}", "text", &text, &tl) < 0) {
        int r = barra_error_set(reterr, -BARRA_EFORMAT, "%s (classify takes {\"text\": \"...\"})",
                                j && json_is_object(j) ? jerr.text
                                : j                    ? "the body must be a JSON object"
                                                       : "the body is not valid JSON");
        json_decref(j);
        return r;
    }
    /* The text may hold "\u0000": copied by length, not as a C string. */
    if ((*ret_text = barra_malloc(tl + 1)) != NULL) {
        memcpy(*ret_text, text, tl);
        (*ret_text)[tl] = '\0';
        *ret_len = tl;
    }
    json_decref(j);
    return *ret_text ? 0 : barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
}

bool decision_id_parse(const char *s, uint64_t *ret)
{
    if (s == NULL || *s < '0' || *s > '9' || strlen(s) > 19 || (s[0] == '0' && s[1] != '\0')) {
        return false;
    }
    char *end;
    *ret = strtoull(s, &end, 10);
    return *end == '\0';
}
