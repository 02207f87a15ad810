/* SPDX-License-Identifier: Apache-2.0 */
/* Version and symbol-visibility macros shared by every public Barra header. */
#ifndef BARRA_VERSION_H
#define BARRA_VERSION_H

#define BARRA_VERSION_MAJOR 0
#define BARRA_VERSION_MINOR 1
#define BARRA_VERSION_PATCH 0
#define BARRA_VERSION       "0.1.0"

#if defined(BARRA_BUILDING_LIBRARY) && defined(__GNUC__)
#define BARRA_EXPORT __attribute__((visibility("default")))
#else
#define BARRA_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Returns the library's version string, e.g. "0.1.0". Static storage. */
BARRA_EXPORT const char *barra_version(void);

#ifdef __cplusplus
}
#endif

#endif
