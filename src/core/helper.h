/* SPDX-License-Identifier: Apache-2.0 */
/* Barra's helper programs: the parts of Barra that need large libraries (the extractors' PDF,
 * OCR and Office libraries; the gateway's HTTP, TLS and curl) are programs of their own, so that
 * `barra scan` loads none of them (loading them took most of a short scan's time). */
#ifndef BARRA_CORE_HELPER_H
#define BARRA_CORE_HELPER_H

#include <stdbool.h>
#include <stddef.h>

/* Writes the path of helper `name` to out: the program of that name beside the running one (a
 * build tree, or helpers installed beside `barra`), else the one in Barra's libexec directory.
 * False when neither can be run (out then names the libexec path, for the message). */
bool helper_path(const char *name, char *out, size_t size);

#endif
