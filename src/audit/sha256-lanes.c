/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 (FIPS 180-4) of up to 16 messages together: message i lives in 32-bit lane i of AVX-512
 * registers, so each working variable and each schedule word is one register and every round is
 * the same dozen instructions for all sixteen. Messages of different lengths run as long as the
 * longest; a lane whose message has ended leaves its state alone (masked adds). */
#include "config.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SHA256_HAVE_AVX512_PATH 1
#endif

#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <string.h>

#include "audit/sha256-lanes.h"

#include "core/banned.h"

#ifdef SHA256_HAVE_AVX512_PATH
#define AVX512 __attribute__((target("avx512f,avx512bw")))

static const uint32_t round_constants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t initial_state[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* One message: its whole blocks are read where they are; the rest, the 0x80 marker, the zeros
 * and the length in bits are laid out in one or two tail blocks. */
struct lane {
    const uint8_t *msg;
    size_t whole;  /* blocks read in place */
    size_t blocks; /* whole + the tail blocks */
    uint8_t tail[128];
};

static void lane_init(struct lane *l, const uint8_t *msg, size_t len)
{
    size_t rest = len % 64, tail_blocks = rest + 9 <= 64 ? 1 : 2;
    l->msg = msg;
    l->whole = len / 64;
    l->blocks = l->whole + tail_blocks;
    memset(l->tail, 0, sizeof(l->tail));
    if (rest > 0) {
        memcpy(l->tail, msg + 64 * l->whole, rest);
    }
    l->tail[rest] = 0x80;
    uint64_t bits = (uint64_t)len * 8;
    for (uint8_t *p = l->tail + 64 * tail_blocks - 1; bits > 0; p--) {
        *p = (uint8_t)bits;
        bits >>= 8;
    }
}

static const uint8_t *lane_block(const struct lane *l, size_t b)
{
    return b < l->whole ? l->msg + 64 * b : l->tail + 64 * (b - l->whole);
}

/* Reverses the bytes of each 32-bit word (the message words are big-endian). */
#define WORD_BYTES(i) i + 3, i + 2, i + 1, i
static const uint8_t big_endian_words[64] = {
    WORD_BYTES(0),  WORD_BYTES(4),  WORD_BYTES(8),  WORD_BYTES(12), WORD_BYTES(16), WORD_BYTES(20),
    WORD_BYTES(24), WORD_BYTES(28), WORD_BYTES(32), WORD_BYTES(36), WORD_BYTES(40), WORD_BYTES(44),
    WORD_BYTES(48), WORD_BYTES(52), WORD_BYTES(56), WORD_BYTES(60),
};

/* Sixteen 64-byte blocks, one per lane, turned into sixteen registers: w[j] holds word j of every
 * lane's block. A 16x16 transpose of 32-bit words in four steps of shuffles. */
AVX512 static void load_words(const uint8_t *const rows[SHA256_LANES], __m512i w[16])
{
    const __m512i swap = _mm512_loadu_si512(big_endian_words);
    __m512i r[16], a[16], b[16];
    for (int i = 0; i < 16; i++) {
        r[i] = _mm512_shuffle_epi8(_mm512_loadu_si512(rows[i]), swap);
    }
    /* a[2k], a[2k+1]: rows 2k and 2k+1 interleaved word by word within each 128-bit part */
    for (int k = 0; k < 8; k++) {
        a[2 * k] = _mm512_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
        a[2 * k + 1] = _mm512_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
    }
    /* b[4k+m], 128-bit part c: word 4c+m of rows 4k..4k+3 */
    for (int k = 0; k < 4; k++) {
        b[4 * k] = _mm512_unpacklo_epi64(a[4 * k], a[4 * k + 2]);
        b[4 * k + 1] = _mm512_unpackhi_epi64(a[4 * k], a[4 * k + 2]);
        b[4 * k + 2] = _mm512_unpacklo_epi64(a[4 * k + 1], a[4 * k + 3]);
        b[4 * k + 3] = _mm512_unpackhi_epi64(a[4 * k + 1], a[4 * k + 3]);
    }
    /* w[4c+m] gathers part c of b[m], b[4+m], b[8+m], b[12+m] */
    for (int m = 0; m < 4; m++) {
        __m512i lo01 = _mm512_shuffle_i32x4(b[m], b[4 + m], 0x44);
        __m512i hi01 = _mm512_shuffle_i32x4(b[m], b[4 + m], 0xee);
        __m512i lo23 = _mm512_shuffle_i32x4(b[8 + m], b[12 + m], 0x44);
        __m512i hi23 = _mm512_shuffle_i32x4(b[8 + m], b[12 + m], 0xee);
        w[m] = _mm512_shuffle_i32x4(lo01, lo23, 0x88);
        w[4 + m] = _mm512_shuffle_i32x4(lo01, lo23, 0xdd);
        w[8 + m] = _mm512_shuffle_i32x4(hi01, hi23, 0x88);
        w[12 + m] = _mm512_shuffle_i32x4(hi01, hi23, 0xdd);
    }
}

/* Three-input bitwise functions by truth table (inputs 0xf0, 0xcc, 0xaa). */
#define XOR3(x, y, z)     _mm512_ternarylogic_epi32((x), (y), (z), 0x96)
#define CHOOSE(x, y, z)   _mm512_ternarylogic_epi32((x), (y), (z), 0xca)
#define MAJORITY(x, y, z) _mm512_ternarylogic_epi32((x), (y), (z), 0xe8)
#define ROR(x, n)         _mm512_ror_epi32((x), (n))
#define ADD(x, y)         _mm512_add_epi32((x), (y))

/* The 64 rounds over one block per lane: v holds a..h on entry and on return (before the
 * state is added back). */
AVX512 static void rounds(__m512i v[8], __m512i w[16])
{
    __m512i a = v[0], b = v[1], c = v[2], d = v[3], e = v[4], f = v[5], g = v[6], h = v[7];
    for (int t = 0; t < 64; t++) {
        if (t >= 16) {
            __m512i w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
            __m512i s0 = XOR3(ROR(w15, 7), ROR(w15, 18), _mm512_srli_epi32(w15, 3));
            __m512i s1 = XOR3(ROR(w2, 17), ROR(w2, 19), _mm512_srli_epi32(w2, 10));
            w[t & 15] = ADD(ADD(w[t & 15], s0), ADD(w[(t - 7) & 15], s1));
        }
        __m512i kw = ADD(_mm512_set1_epi32((int)round_constants[t]), w[t & 15]);
        __m512i t1 = ADD(ADD(h, XOR3(ROR(e, 6), ROR(e, 11), ROR(e, 25))), ADD(CHOOSE(e, f, g), kw));
        __m512i t2 = ADD(XOR3(ROR(a, 2), ROR(a, 13), ROR(a, 22)), MAJORITY(a, b, c));
        h = g;
        g = f;
        f = e;
        e = ADD(d, t1);
        d = c;
        c = b;
        b = a;
        a = ADD(t1, t2);
    }
    v[0] = a, v[1] = b, v[2] = c, v[3] = d, v[4] = e, v[5] = f, v[6] = g, v[7] = h;
}

AVX512 void sha256_lanes_avx512(const uint8_t *const msg[], const size_t len[], size_t n,
                                uint8_t out[][32])
{
    static const uint8_t idle_block[64];
    struct lane lanes[SHA256_LANES];
    size_t most = 0;
    for (size_t i = 0; i < n; i++) {
        lane_init(&lanes[i], msg[i], len[i]);
        most = lanes[i].blocks > most ? lanes[i].blocks : most;
    }
    __m512i state[8];
    for (int j = 0; j < 8; j++) {
        state[j] = _mm512_set1_epi32((int)initial_state[j]);
    }
    for (size_t blk = 0; blk < most; blk++) {
        const uint8_t *rows[SHA256_LANES];
        __mmask16 live = 0;
        for (size_t i = 0; i < SHA256_LANES; i++) {
            rows[i] = idle_block;
            if (i < n && blk < lanes[i].blocks) {
                rows[i] = lane_block(&lanes[i], blk);
                live |= (__mmask16)(1u << i);
            }
        }
        __m512i w[16], v[8];
        load_words(rows, w);
        for (int j = 0; j < 8; j++) {
            v[j] = state[j];
        }
        rounds(v, w);
        for (int j = 0; j < 8; j++) {
            state[j] = _mm512_mask_add_epi32(state[j], live, state[j], v[j]);
        }
    }
    uint32_t words[8][SHA256_LANES];
    for (int j = 0; j < 8; j++) {
        _mm512_storeu_si512(words[j], state[j]);
    }
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < 8; j++) {
            uint32_t x = words[j][i];
            out[i][4 * j] = (uint8_t)(x >> 24);
            out[i][4 * j + 1] = (uint8_t)(x >> 16);
            out[i][4 * j + 2] = (uint8_t)(x >> 8);
            out[i][4 * j + 3] = (uint8_t)x;
        }
    }
}

#else
void sha256_lanes_avx512(const uint8_t *const msg[], const size_t len[], size_t n,
                         uint8_t out[][32])
{
    sha256_lanes_one_by_one(msg, len, n, out);
}
#endif

void sha256_lanes_one_by_one(const uint8_t *const msg[], const size_t len[], size_t n,
                             uint8_t out[][32])
{
    for (size_t i = 0; i < n; i++) {
        SHA256_CTX c;
        SHA256_Init(&c);
        SHA256_Update(&c, msg[i], len[i]);
        SHA256_Final(out[i], &c);
    }
}

bool sha256_lanes_vectorised(void)
{
#ifdef SHA256_HAVE_AVX512_PATH
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
#else
    return false;
#endif
}

void sha256_lanes(const uint8_t *const msg[], const size_t len[], size_t n, uint8_t out[][32])
{
    if (sha256_lanes_vectorised()) {
        sha256_lanes_avx512(msg, len, n, out);
    } else {
        sha256_lanes_one_by_one(msg, len, n, out);
    }
}
