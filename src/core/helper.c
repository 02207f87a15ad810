/* SPDX-License-Identifier: Apache-2.0 */
/* Finding Barra's helper programs (helper.h). */
#include "config.h"

#include "core/helper.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/banned.h"

bool helper_path(const char *name, char *out, size_t size)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash != NULL) {
            *slash = '\0';
            int k = snprintf(out, size, "%s/%s", self, name);
            if (k > 0 && (size_t)k < size && access(out, X_OK) == 0) {
                return true;
            }
        }
    }
    int k = snprintf(out, size, "%s/%s", BARRA_LIBEXECDIR, name);
    return k > 0 && (size_t)k < size && access(out, X_OK) == 0;
}
