/* SPDX-License-Identifier: Apache-2.0 */
/* The records the gateway writes into the audit log (docs/serve.md, "What the log holds"): a
 * decision with where the content came from and what was done with it, and each action carried
 * out on a platform afterwards. No text, no sender or subject identifiers. */
#ifndef BARRA_SERVER_RECORD_H
#define BARRA_SERVER_RECORD_H

#include <stdbool.h>

#include <barra/policy.h>

#include "core/buf.h"
#include "store/store.h"

/* Appends ,"key":value (a JSON string, or null for NULL). */
void rec_field(struct buf *b, const char *key, const char *value);

struct rec_outcome {
    bool deliver;
    const char *vault_id, *link, *route_error; /* NULL when not routed */
};

/* A barra.gateway/1 record. */
void rec_decision(struct buf *b, const char *via, const char *token, const barra_event_t *e,
                  const char *decision_json, const struct rec_outcome *o);
/* A barra.action/1 record: `action` ("reply", "approve", ...) done for decision_id. */
void rec_action(struct buf *b, const char *decision_id, const char *connector, const char *action,
                bool ok, const char *error);

/* A consent as the API shows it and barra.consent/1 records hold it. */
void rec_consent(struct buf *b, const struct consent_record *c);

#endif
