/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 of many independent messages at once. Verifying the audit log hashes hundreds of
 * thousands of short entries; one message per 32-bit lane of the CPU's 512-bit registers does
 * sixteen of them in about the time the SHA instructions take for five. */
#ifndef BARRA_AUDIT_SHA256_LANES_H
#define BARRA_AUDIT_SHA256_LANES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_LANES 16

/* out[i] = SHA-256 of len[i] bytes at msg[i], for i < n (n <= SHA256_LANES). Vectorised when the
 * CPU has AVX-512, otherwise one message after another through OpenSSL. */
void sha256_lanes(const uint8_t *const msg[], const size_t len[], size_t n, uint8_t out[][32]);

/* Whether sha256_lanes() runs vectorised on this CPU. */
bool sha256_lanes_vectorised(void);

/* The two versions themselves, for tests: the vectorised one only where
 * sha256_lanes_vectorised() is true. */
void sha256_lanes_avx512(const uint8_t *const msg[], const size_t len[], size_t n,
                         uint8_t out[][32]);
void sha256_lanes_one_by_one(const uint8_t *const msg[], const size_t len[], size_t n,
                             uint8_t out[][32]);

#endif
