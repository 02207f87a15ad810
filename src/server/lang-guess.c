/* SPDX-License-Identifier: Apache-2.0 */
/* Guessing the language of a message (lang-guess.h). */
#include "config.h"

#include "server/lang-guess.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/utf8.h"

#include "core/banned.h"

/* Frequent characters written differently in the two scripts, as (traditional, simplified) pairs:
 * 這/这, 個/个, 們/们, 發/发, 說/说, 時/时, 會/会, 為/为, 國/国, 對/对, 來/来, 號/号, 證/证,
 * 資/资, 請/请, 醫/医, 銀/银, 護/护, 員/员, 與/与, 給/给, 轉/转, 傳/传, 檔/档, 裡/里, 後/后,
 * 開/开, 關/关, 還/还, 讓/让, 經/经, 過/过, 錢/钱, 問/问, 題/题, 實/实, 認/认, 體/体, 樣/样,
 * 麼/么. */
static const uint32_t pairs[][2] = {
    {0x9019, 0x8FD9}, {0x500B, 0x4E2A}, {0x5011, 0x4EEC}, {0x767C, 0x53D1}, {0x8AAA, 0x8BF4},
    {0x6642, 0x65F6}, {0x6703, 0x4F1A}, {0x70BA, 0x4E3A}, {0x570B, 0x56FD}, {0x5C0D, 0x5BF9},
    {0x4F86, 0x6765}, {0x865F, 0x53F7}, {0x8B49, 0x8BC1}, {0x8CC7, 0x8D44}, {0x8ACB, 0x8BF7},
    {0x91AB, 0x533B}, {0x9280, 0x94F6}, {0x8B77, 0x62A4}, {0x54E1, 0x5458}, {0x8207, 0x4E0E},
    {0x7D66, 0x7ED9}, {0x8F49, 0x8F6C}, {0x50B3, 0x4F20}, {0x6A94, 0x6863}, {0x88E1, 0x91CC},
    {0x5F8C, 0x540E}, {0x958B, 0x5F00}, {0x95DC, 0x5173}, {0x9084, 0x8FD8}, {0x8B93, 0x8BA9},
    {0x7D93, 0x7ECF}, {0x904E, 0x8FC7}, {0x9322, 0x94B1}, {0x554F, 0x95EE}, {0x984C, 0x9898},
    {0x5BE6, 0x5B9E}, {0x8A8D, 0x8BA4}, {0x9AD4, 0x4F53}, {0x6A23, 0x6837}, {0x9EBC, 0x4E48},
};

/* Whole words, lower case, surrounded by spaces in the lowered sample. */
static const char *const pt_words[] = {
    " não ", " de ",  " do ",       " da ",       " que ",     " para ",   " com ", " os ",
    " uma ", " por ", " obrigado ", " obrigada ", " cliente ", " número ", " olá "};
static const char *const en_words[] = {" the ",  " and ",    " is ",   " to ",
                                       " of ",   " please ", " for ",  " with ",
                                       " this ", " number ", " hello "};

static size_t count_words(const char *s, const char *const *words, size_t n)
{
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        for (const char *p = strstr(s, words[i]); p; p = strstr(p + 1, words[i])) {
            hits++;
        }
    }
    return hits;
}

const char *gw_guess_lang(const char *text, size_t len)
{
    if (text == NULL) {
        return "en";
    }
    size_t hant = 0, hans = 0, han = 0, pt_letters = 0;
    char sample[2048]; /* the start, lowered (ASCII), spaces at both ends for whole words */
    size_t k = 0;
    sample[k++] = ' ';
    const uint8_t *p = (const uint8_t *)text, *end = p + len;
    while (p < end) {
        uint32_t cp;
        size_t n = utf8_decode(p, end, &cp);
        if (cp >= 0x4E00 && cp <= 0x9FFF) {
            han++;
            for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
                hant += cp == pairs[i][0];
                hans += cp == pairs[i][1];
            }
        }
        /* ã õ ç â ê ô (and capitals) are common in Portuguese and rare in English. */
        pt_letters += cp == 0xE3 || cp == 0xF5 || cp == 0xE7 || cp == 0xE2 || cp == 0xEA ||
                      cp == 0xF4 || cp == 0xC3 || cp == 0xD5 || cp == 0xC7;
        if (k + n + 2 < sizeof(sample)) {
            bool punct = n == 1 && (*p == ',' || *p == '.' || *p == '!' || *p == '?' ||
                                    *p == '\n' || *p == '\t' || *p == ':' || *p == ';');
            for (size_t i = 0; i < n; i++) {
                char c = punct ? ' ' : (char)p[i];
                sample[k++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
            }
        }
        p += n ? n : 1;
    }
    sample[k++] = ' ';
    sample[k] = '\0';
    if (han * 3 * 4 >= len && han > 0) {            /* a quarter of the bytes or more are Chinese */
        return hans > hant ? "zh-Hans" : "zh-Hant"; /* Macau and Hong Kong write traditional */
    }
    size_t pt = count_words(sample, pt_words, sizeof(pt_words) / sizeof(pt_words[0])) + pt_letters;
    size_t en = count_words(sample, en_words, sizeof(en_words) / sizeof(en_words[0]));
    if (han > 0 && pt == 0 && en == 0) {
        return hans > hant ? "zh-Hans" : "zh-Hant";
    }
    return pt > en ? "pt" : "en";
}
