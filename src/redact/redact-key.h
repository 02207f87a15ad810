/* SPDX-License-Identifier: Apache-2.0 */
/* Keyed hashing with a barra_key_t (private to the library). */
#ifndef BARRA_REDACT_KEY_H
#define BARRA_REDACT_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <barra/policy.h>

/* HMAC-SHA256 of a || b under k. */
int redact_key_hmac(const barra_key_t *k, const void *a, size_t alen, const void *b, size_t blen,
                    uint8_t out[32]);

#endif
