/* SPDX-License-Identifier: Apache-2.0 */
/* The gateway's state behind one interface (a struct of function pointers), so that the embedded
 * SQLite store and a shared PostgreSQL one are interchangeable: consents and the metadata of what
 * the vault holds. Nothing here holds a matched value or a data subject's identifier in the clear:
 * subjects are keyed references (barra_key_subject_ref). */
#ifndef BARRA_STORE_STORE_H
#define BARRA_STORE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <barra/error.h>
#include <barra/policy.h>

#include "core/buf.h"

struct consent_record {
    char id[33];          /* random, hex */
    char subject_ref[65]; /* barra_key_subject_ref of the subject's identifier */
    char purpose[65];     /* "cross_border", "sensitive_data", ... */
    enum barra_consent_state state;
    const char *scope;    /* what the consent covers, in the words of whoever recorded it */
    const char *evidence; /* where the proof is: an approval instance, a signed form's number */
    int64_t recorded_at;  /* Unix seconds */
    int64_t expires;      /* Unix seconds; 0 for never */
};

struct vault_item {
    char id[33];
    const char *route;     /* the route that put it there */
    const char *extension; /* ".xlsx", ".txt": file names may themselves be personal data */
    uint64_t size;
    int64_t created; /* Unix seconds */
};

typedef int (*store_consent_fn)(const struct consent_record *c, void *userdata);
typedef int (*store_vault_fn)(const struct vault_item *v, void *userdata);
typedef int (*store_kv_fn)(const char *key, const char *value, void *userdata);

struct store;

struct store_ops {
    const char *name;
    /* Adds a consent record (records are never changed: a withdrawal is a new record). */
    int (*consent_add)(struct store *s, const struct consent_record *c, struct barra_error *reterr);
    /* Calls fn for each record of the subject (or of everyone when subject_ref is NULL) and purpose
     * (or every purpose when NULL), oldest first; a non-zero return from fn stops and is returned.
     */
    int (*consent_each)(struct store *s, const char *subject_ref, const char *purpose,
                        store_consent_fn fn, void *userdata, struct barra_error *reterr);
    int (*vault_add)(struct store *s, const struct vault_item *v, struct barra_error *reterr);
    /* Calls fn with the item `id`; -BARRA_ENOENT when there is none. */
    int (*vault_find)(struct store *s, const char *id, store_vault_fn fn, void *userdata,
                      struct barra_error *reterr);
    int (*vault_remove)(struct store *s, const char *id, struct barra_error *reterr);
    /* Remembers an event a platform delivered (platforms redeliver): 0 when it is new and now
     * durable, -BARRA_EEXIST when it was seen before. */
    int (*inbound_add)(struct store *s, const char *source, const char *event_id, const char *type,
                       int64_t received_at, struct barra_error *reterr);
    /* Small named values in namespaces, for connectors' own state: events waiting to be processed,
     * poll cursors, pending consent approvals, activity events for the monitor. put with
     * `replace` false is -BARRA_EEXIST when the key exists; get is -BARRA_ENOENT when it does not
     * and writes the value to `value` (a struct buf). each goes through a namespace in key order.
     */
    int (*kv_put)(struct store *s, const char *ns, const char *key, const char *value, bool replace,
                  struct barra_error *reterr);
    int (*kv_get)(struct store *s, const char *ns, const char *key, struct buf *value,
                  struct barra_error *reterr);
    int (*kv_delete)(struct store *s, const char *ns, const char *key, struct barra_error *reterr);
    int (*kv_each)(struct store *s, const char *ns, store_kv_fn fn, void *userdata,
                   struct barra_error *reterr);
    void (*close)(struct store *s);
};

struct store {
    const struct store_ops *ops;
};

/* Opens (creating) the SQLite store `dir`/state.db. */
int store_sqlite_open(const char *dir, struct store **ret, struct barra_error *reterr);

#endif
