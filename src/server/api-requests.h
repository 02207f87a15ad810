/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the JSON bodies of API requests, apart from HTTP, so that each reader can be tested and
 * fuzzed alone. Every reader refuses unknown fields and names what is wrong. */
#ifndef BARRA_SERVER_API_REQUESTS_H
#define BARRA_SERVER_API_REQUESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <barra/error.h>
#include <barra/policy.h>

#include "store/store.h"

/* POST /v1/consents and /v1/consents/withdraw: {"subject" | "subject_ref", "purpose", "state",
 * "scope", "evidence", "expires"}. The subject's identifier is replaced by its keyed reference at
 * once; `now` is the recording time (Unix seconds). */
struct consent_request {
    struct consent_record rec; /* its scope and evidence point into this request */
    char *scope, *evidence;
};
int consent_request_parse(const char *body, size_t len, bool withdraw, const barra_key_t *key,
                          int64_t now, struct consent_request **ret, struct barra_error *reterr);
void consent_request_free(struct consent_request *r);

/* POST /v1/classify: {"text": "..."}. *ret_text is owned (free with barra_free). */
int classify_request_parse(const char *body, size_t len, char **ret_text, size_t *ret_len,
                           struct barra_error *reterr);

/* A decision id in a path: the audit index, decimal, no sign or leading junk. */
bool decision_id_parse(const char *s, uint64_t *ret);

#endif
