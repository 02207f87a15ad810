/* SPDX-License-Identifier: Apache-2.0 */
/* The language to answer someone in, guessed from what they wrote, for platforms that do not say
 * (a DingTalk robot message carries no locale): Traditional or Simplified Chinese by characters
 * that exist in only one of the two scripts, Portuguese by its letters and small words, English
 * otherwise. Policy tips exist in exactly these four. */
#ifndef BARRA_SERVER_LANG_GUESS_H
#define BARRA_SERVER_LANG_GUESS_H

#include <stddef.h>

/* "zh-Hant", "zh-Hans", "pt" or "en". */
const char *gw_guess_lang(const char *text, size_t len);

#endif
