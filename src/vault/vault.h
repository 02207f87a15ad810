/* SPDX-License-Identifier: Apache-2.0 */
/* Barra's own encrypted store for content routed away from the platform: one file per item,
 * AES-256-GCM under a key kept in the data folder (mode 0600), the item's id bound in as
 * associated data so that files cannot be swapped between ids. */
#ifndef BARRA_VAULT_VAULT_H
#define BARRA_VAULT_VAULT_H

#include <stddef.h>

#include <barra/error.h>

#include "core/buf.h"

struct vault;

/* Opens `dir` (created 0700), loading or creating its key `dir`/vault.key. */
int vault_open(const char *dir, struct vault **ret, struct barra_error *reterr);
void vault_close(struct vault *v);
/* Encrypts data into a new item; id_out receives its id (32 hex digits, random). Durable when it
 * returns (file and folder synced). */
int vault_put(struct vault *v, const void *data, size_t len, char id_out[33],
              struct barra_error *reterr);
/* Decrypts item `id` into out. -BARRA_ENOENT for no such item, -BARRA_EFORMAT when the file was
 * altered (authentication failed). */
int vault_get(struct vault *v, const char *id, struct buf *out, struct barra_error *reterr);
/* Removes item `id`. Without the key the file is unreadable, so erasing backups needs only the
 * key's destruction (not yet per item: docs/serve.md). */
int vault_remove(struct vault *v, const char *id, struct barra_error *reterr);
/* A new random item id: 32 hex digits and a NUL. */
int vault_id_random(char id[33]);
/* Whether `id` has the form of an item id (32 lowercase hex digits). */
int vault_id_valid(const char *id);

#endif
