/* SPDX-License-Identifier: Apache-2.0 */
/* Listing what to scan: files as given, folders walked recursively in name order (symbolic links to
 * folders are not followed, so a link cycle cannot loop), excludes matched on the path relative to
 * the folder given. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/scan.h"

static int add_input(struct input_list *l, const char *path, bool is_stdin, uint64_t size)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        void *q = reallocarray(l->v, cap, sizeof(*l->v));
        if (q == NULL) {
            return -ENOMEM;
        }
        l->v = q;
        l->cap = cap;
    }
    char *copy = strdup(path);
    if (copy == NULL) {
        return -ENOMEM;
    }
    l->v[l->n++] = (struct scan_input){copy, is_stdin, size};
    l->total_bytes += size;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(struct input_list *l, int fd_dir, const char *shown, const char *rel,
                const struct glob_list *ex, int depth)
{
    if (depth > 256) {
        fprintf(stderr, "barra: %s: folders nested too deeply, skipped\n", shown);
        return 1;
    }
    DIR *d = fdopendir(fd_dir);
    if (d == NULL) {
        fprintf(stderr, "barra: %s: %s\n", shown, strerror(errno));
        close(fd_dir);
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int rc = 0;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **q = reallocarray(names, cap, sizeof(*names));
            if (q == NULL) {
                rc = 1;
                break;
            }
            names = q;
        }
        names[n] = strdup(e->d_name);
        if (names[n] == NULL) {
            rc = 1;
            break;
        }
        n++;
    }
    if (errno && rc == 0) {
        fprintf(stderr, "barra: %s: %s\n", shown, strerror(errno));
        rc = 1;
    }
    if (n > 1) {
        qsort(names, n, sizeof(*names), cmp_names);
    }
    for (size_t i = 0; i < n; i++) {
        char *child_shown = NULL, *child_rel = NULL;
        if (asprintf(&child_shown, "%s/%s", shown, names[i]) < 0 ||
            asprintf(&child_rel, "%s%s%s", rel, *rel ? "/" : "", names[i]) < 0) {
            free(child_shown);
            rc = 1;
            break;
        }
        struct stat st;
        if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
            fprintf(stderr, "barra: %s: %s\n", child_shown, strerror(errno));
            rc = 1;
        } else if (S_ISDIR(st.st_mode)) {
            if (!glob_list_excludes(ex, child_rel, true)) {
                int fd =
                    openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0) {
                    fprintf(stderr, "barra: %s: %s\n", child_shown, strerror(errno));
                    rc = 1;
                } else {
                    rc |= walk(l, fd, child_shown, child_rel, ex, depth + 1);
                }
            }
        } else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
            struct stat target;
            bool regular = S_ISREG(st.st_mode) || (fstatat(dirfd(d), names[i], &target, 0) == 0 &&
                                                   S_ISREG(target.st_mode));
            if (regular && !glob_list_excludes(ex, child_rel, false) &&
                add_input(l, child_shown, false, (uint64_t)st.st_size) < 0) {
                rc = 1;
            }
        }
        free(child_shown);
        free(child_rel);
    }
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    closedir(d);
    return rc;
}

int inputs_collect(struct input_list *list, char **paths, size_t npaths, const struct glob_list *ex)
{
    int rc = 0;
    for (size_t i = 0; i < npaths; i++) {
        const char *p = paths[i];
        if (strcmp(p, "-") == 0) {
            if (add_input(list, "-", true, 0) < 0) {
                return 2;
            }
            continue;
        }
        struct stat st;
        if (stat(p, &st) < 0) {
            fprintf(stderr, "barra: %s: %s\n", p, strerror(errno));
            rc = 1;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0) {
                fprintf(stderr, "barra: %s: %s\n", p, strerror(errno));
                rc = 1;
                continue;
            }
            size_t len = strlen(p);
            char *shown = strdup(p);
            if (shown == NULL) {
                close(fd);
                return 2;
            }
            while (len > 1 && shown[len - 1] == '/') {
                shown[--len] = '\0';
            }
            rc |= walk(list, fd, shown, "", ex, 0);
            free(shown);
        } else if (add_input(list, p, false, S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0) < 0) {
            return 2;
        }
    }
    return rc;
}

void inputs_free(struct input_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        free(list->v[i].path);
    }
    free(list->v);
    memset(list, 0, sizeof(*list));
}
