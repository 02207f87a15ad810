/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 of sixteen messages at once must give, lane by lane, what OpenSSL's one-shot digest gives
 * for each message alone: FIPS 180-4's examples, every length across the padding boundaries, and
 * random lengths and lane counts (fixed seed). On a CPU without AVX-512 only the fallback runs,
 * and the test says so. */
#include "config.h"

#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../seeded-random.h"
#include "audit/sha256-lanes.h"

typedef void (*lanes_fn)(const uint8_t *const msg[], const size_t len[], size_t n,
                         uint8_t out[][32]);

static void reference_digest(const uint8_t *msg, size_t len, uint8_t out[32])
{
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(msg, len, out, &n, EVP_sha256(), NULL), 1);
    assert_int_equal(n, 32);
}

/* Hashes n messages with fn and compares every lane with OpenSSL. */
static void check_lanes(lanes_fn fn, const uint8_t *const msg[], const size_t len[], size_t n)
{
    uint8_t got[SHA256_LANES][32], want[32];
    memset(got, 0xa5, sizeof(got));
    fn(msg, len, n, got);
    for (size_t i = 0; i < n; i++) {
        reference_digest(msg[i], len[i], want);
        if (memcmp(got[i], want, 32) != 0) {
            fail_msg("lane %zu of %zu, %zu bytes: digest differs from OpenSSL's", i, n, len[i]);
        }
    }
}

static lanes_fn versions[2];
static size_t nversions;

static int pick_versions(void **state)
{
    (void)state;
    versions[nversions++] = sha256_lanes_one_by_one;
    if (sha256_lanes_vectorised()) {
        versions[nversions++] = sha256_lanes_avx512;
    } else {
        printf("# this CPU has no AVX-512: only the one-by-one version is tested\n");
    }
    return 0;
}

static void test_fips_examples(void **state)
{
    (void)state;
    static const struct {
        const char *msg;
        const char *hex;
    } examples[] = {
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    };
    for (size_t v = 0; v < nversions; v++) {
        for (size_t k = 0; k < sizeof(examples) / sizeof(examples[0]); k++) {
            const uint8_t *msg[1] = {(const uint8_t *)examples[k].msg};
            size_t len[1] = {strlen(examples[k].msg)};
            uint8_t out[1][32];
            versions[v](msg, len, 1, out);
            char hex[65];
            for (int i = 0; i < 32; i++) {
                (void)snprintf(hex + 2 * i, 3, "%02x", out[0][i]);
            }
            assert_string_equal(hex, examples[k].hex);
        }
    }
}

static uint64_t rng = 0x5eed2026;

static uint32_t next_random(void)
{
    return seeded_random(&rng);
}

#define MAXLEN 5000
static uint8_t pool[SHA256_LANES][MAXLEN];

static void fill_pool(void)
{
    for (size_t i = 0; i < SHA256_LANES; i++) {
        for (size_t j = 0; j < MAXLEN; j++) {
            pool[i][j] = (uint8_t)next_random();
        }
    }
}

/* Every length from 0 to 300 (the padding needs one block or two around 55, 56, 63, 64 and their
 * multiples), each lane a different length so that lanes end at different blocks. */
static void test_every_length(void **state)
{
    (void)state;
    fill_pool();
    for (size_t v = 0; v < nversions; v++) {
        for (size_t base = 0; base <= 300; base++) {
            const uint8_t *msg[SHA256_LANES];
            size_t len[SHA256_LANES];
            for (size_t i = 0; i < SHA256_LANES; i++) {
                msg[i] = pool[i];
                len[i] = (base + 17 * i) % 301;
            }
            check_lanes(versions[v], msg, len, SHA256_LANES);
        }
    }
}

/* Random lane counts and lengths, messages starting at odd offsets, some lanes sharing bytes. */
static void test_random_batches(void **state)
{
    (void)state;
    fill_pool();
    for (size_t v = 0; v < nversions; v++) {
        for (int round = 0; round < 2000; round++) {
            size_t n = 1 + next_random() % SHA256_LANES;
            const uint8_t *msg[SHA256_LANES];
            size_t len[SHA256_LANES];
            for (size_t i = 0; i < n; i++) {
                size_t off = next_random() % 64;
                len[i] = next_random() % (round % 10 == 0 ? MAXLEN - 64 : 1100);
                msg[i] = pool[next_random() % SHA256_LANES] + off;
            }
            check_lanes(versions[v], msg, len, n);
        }
    }
}

/* A message that ends exactly at the end of its buffer: nothing past it may be read (ASan). */
static void test_no_read_past_the_end(void **state)
{
    (void)state;
    for (size_t v = 0; v < nversions; v++) {
        for (size_t len = 0; len <= 200; len++) {
            uint8_t *buf = test_malloc(len > 0 ? len : 1);
            for (size_t j = 0; j < len; j++) {
                buf[j] = (uint8_t)(j * 7 + len);
            }
            const uint8_t *msg[1] = {buf};
            size_t lens[1] = {len};
            check_lanes(versions[v], msg, lens, 1);
            test_free(buf);
        }
    }
}

static void test_dispatch_matches(void **state)
{
    (void)state;
    fill_pool();
    const uint8_t *msg[SHA256_LANES];
    size_t len[SHA256_LANES];
    for (size_t i = 0; i < SHA256_LANES; i++) {
        msg[i] = pool[i];
        len[i] = 600 + 13 * i;
    }
    check_lanes(sha256_lanes, msg, len, SHA256_LANES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fips_examples),    cmocka_unit_test(test_every_length),
        cmocka_unit_test(test_random_batches),   cmocka_unit_test(test_no_read_past_the_end),
        cmocka_unit_test(test_dispatch_matches),
    };
    return cmocka_run_group_tests(tests, pick_versions, NULL);
}
