/* SPDX-License-Identifier: Apache-2.0 */
/* The consent registry the policy consults while deciding: the latest record per subject and
 * purpose, kept in memory (loaded from the store at start, updated as consents are recorded) so
 * that a decision never waits on the database. Subjects are keyed references only. */
#ifndef BARRA_SERVER_CONSENTS_H
#define BARRA_SERVER_CONSENTS_H

#include <barra/policy.h>

#include "store/store.h"

struct gw_consents;

/* Loads every record of `store`; `key` makes subject references from the identifiers events name.
 */
int gw_consents_open(struct store *store, const barra_key_t *key, struct gw_consents **ret,
                     struct barra_error *reterr);
void gw_consents_close(struct gw_consents *c);
/* Takes a record into account (the latest record for a subject and purpose wins). */
int gw_consents_apply(struct gw_consents *c, const struct consent_record *r);
/* The state now for a subject reference and purpose. */
enum barra_consent_state gw_consents_state(struct gw_consents *c, const char *subject_ref,
                                           const char *purpose, int64_t at);
/* The provider for barra_decide (borrows c). */
struct barra_consent_provider gw_consents_provider(struct gw_consents *c);

#endif
