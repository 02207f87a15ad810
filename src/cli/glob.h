/* SPDX-License-Identifier: Apache-2.0 */
/* Exclude patterns with .gitignore semantics: `*`, `?`, `[...]`, `**`, a leading `/` or an inner
 * `/` anchors to the scanned folder, a trailing `/` matches folders only, `!` re-includes, the last
 * matching pattern wins. */
#ifndef BARRA_CLI_GLOB_H
#define BARRA_CLI_GLOB_H

#include <stdbool.h>
#include <stddef.h>

struct glob_list;

/* Returns owned (free with glob_list_free()); NULL on out of memory. */
struct glob_list *glob_list_new(void);
void glob_list_free(struct glob_list *l);
/* Adds one pattern line (blank lines and # comments are ignored). 0, or -ENOMEM. */
int glob_list_add(struct glob_list *l, const char *line);
/* Reads patterns from a file, one a line. 0, or a negative errno. */
int glob_list_add_file(struct glob_list *l, const char *path);
/* Whether `rel` (a path relative to the scanned folder, '/'-separated) is excluded. */
bool glob_list_excludes(const struct glob_list *l, const char *rel, bool is_dir);
/* Matches one glob against a string; `**` spans '/', `*` and `?` do not. Exposed for tests. */
bool glob_match(const char *pattern, const char *text);

#endif
