/* SPDX-License-Identifier: Apache-2.0 */
/* Deciding about content that arrives other than as an HTTP request of Barra's API (a DingTalk
 * robot message, an approval, a file-send check): classify, decide, and record the decision in
 * the audit log, waiting until it is durable. The caller then carries the decision out on the
 * platform and records that too. */
#ifndef BARRA_SERVER_VERDICT_H
#define BARRA_SERVER_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include <barra/policy.h>

#include "server/server.h"

struct gw_verdict {
    enum barra_action action;
    bool deliver;          /* allow, tag, or redact with a redacted text */
    char *text;            /* the redacted text, or NULL */
    char *tip;             /* in the language asked for, or NULL */
    char *consent_purpose; /* when require_consent */
    char decision_id[24];  /* the audit entry's index */
};

/* Classifies text[0..len) into the thread's findings. False when classification failed. */
bool gw_classify(struct gw *gw, struct gw_worker *wk, const char *text, size_t len);
/* Decides about e from the thread's findings into wk->decision, with the consent registry, under
 * the current policy, which it returns (release it with barra_policy_unref()). */
barra_policy_t *gw_decide(struct gw *gw, struct gw_worker *wk, const barra_event_t *e,
                          bool classification_failed);
/* The redacted text for a redact decision (made here when the decision has none), or NULL. */
char *gw_redacted_text(const barra_policy_t *p, const barra_decision_t *d, const char *text,
                       size_t len, const barra_findings_t *findings, const barra_key_t *key);

/* Decides about e (borrowed; text[0..len) becomes its text, so that a redaction follows the
 * deciding rule) and records the decision; `via` names the path in the record ("dingtalk-robot").
 * text NULL means the content could not be read: the policy's exception action decides. On
 * failure nothing was recorded and v says block. */
int gw_verdict_decide(struct gw *gw, barra_event_t *e, const char *text, size_t len,
                      const char *lang, const char *via, struct gw_verdict *v,
                      struct barra_error *reterr);
/* Records an action carried out for v's decision (a reply, an approval), waiting until durable. */
int gw_verdict_action(struct gw *gw, const struct gw_verdict *v, const char *connector,
                      const char *action, bool ok, const char *error);
void gw_verdict_done(struct gw_verdict *v);

#endif
