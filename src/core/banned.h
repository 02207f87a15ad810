/* SPDX-License-Identifier: Apache-2.0 */
/* Functions the project must not call (STYLE.md §8). Included by every file outside the allocator.
 */
#ifndef BARRA_CORE_BANNED_H
#define BARRA_CORE_BANNED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#undef alloca
#pragma GCC poison sprintf vsprintf strcpy strcat strncpy gets strtok atoi atol atoll rand srand   \
    alloca
#pragma GCC poison gmtime localtime ctime asctime
#pragma GCC poison malloc calloc realloc reallocarray strdup strndup

#endif
