/* SPDX-License-Identifier: Apache-2.0 */
/* A small generator for test data that must be the same on every run: a 64-bit linear
 * congruential generator (Knuth's MMIX constants), its high bits taken. */
#ifndef BARRA_TESTS_SEEDED_RANDOM_H
#define BARRA_TESTS_SEEDED_RANDOM_H

#include <stdint.h>

static inline uint32_t seeded_random(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*state >> 33);
}

#endif
