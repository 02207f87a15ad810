/* SPDX-License-Identifier: Apache-2.0 */
/* `barra scan --policy FILE`: a decision per file (text, CSV) or per JSON Lines record, and
 * `--redact DIR`: redacted copies of text files. Each record becomes a content event built from the
 * --event template, so the policy sees the same event a gateway would send it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/scan.h"

struct scan_policy {
    barra_policy_t *policy; /* NULL with --redact alone: full masks */
    barra_key_t *key;
    barra_consent_memory_t *consents;
    struct barra_consent_provider provider;
    json_t *event_template;
    barra_detector_t *det;
    char now[32]; /* the time of records whose template gives none */
};

void scan_policy_free(struct scan_policy *sp)
{
    if (sp) {
        barra_policy_unref(sp->policy);
        barra_key_free(sp->key);
        barra_consent_memory_free(sp->consents);
        json_decref(sp->event_template);
        free(sp);
    }
}

static int open_fail(struct scan_policy *sp, const struct barra_error *err, const char *file)
{
    if (err->line) {
        fprintf(stderr, "barra scan: %s:%u:%u: %s\n", err->file[0] ? err->file : file, err->line,
                err->column, err->message);
    } else {
        fprintf(stderr, "barra scan: %s\n", err->message);
    }
    scan_policy_free(sp);
    return 2;
}

/* Builds the event for one record from the template; the caller parses it. */
static char *event_json(const struct scan_policy *sp, const struct scan_input *in, bool whole_file,
                        const char *text, size_t text_len, const char *id, size_t id_len,
                        uint64_t line)
{
    json_t *e = sp->event_template ? json_deep_copy(sp->event_template) : json_object();
    if (e == NULL) {
        return NULL;
    }
    int bad = 0;
    bad |= json_object_set_new(e, "kind", json_string(whole_file ? "file" : "message"));
    if (json_object_get(e, "source") == NULL) {
        bad |= json_object_set_new(e, "source", json_string("scan"));
    }
    if (json_object_get(e, "time") == NULL) {
        bad |= json_object_set_new(e, "time", json_string(sp->now));
    }
    char lid[64];
    if (id) {
        bad |= json_object_set_new(e, "id", json_stringn(id, id_len));
    } else if (whole_file) {
        bad |= json_object_set_new(e, "id", json_string(in->path));
    } else if (line) {
        (void)snprintf(lid, sizeof(lid), "line-%llu", (unsigned long long)line);
        bad |= json_object_set_new(e, "id", json_string(lid));
    }
    if (whole_file) {
        json_t *f = json_pack("{s:s, s:I}", "name", in->path, "size", (json_int_t)in->size);
        bad |= json_object_set_new(e, "file", f);
        (void)json_object_del(e, "text");
    } else {
        json_t *t = text ? json_stringn(text, text_len) : json_string("");
        bad |= json_object_set_new(e, "text", t ? t : json_string(""));
        (void)json_object_del(e, "file");
    }
    char *s = bad ? NULL : json_dumps(e, JSON_COMPACT);
    json_decref(e);
    return s;
}

int scan_policy_open(const struct scan_options *o, barra_detector_t *det, struct scan_policy **ret)
{
    struct barra_error err = {0};
    struct scan_policy *sp = calloc(1, sizeof(*sp));
    if (sp == NULL) {
        fprintf(stderr, "barra scan: out of memory\n");
        return 2;
    }
    sp->det = det;
    time_t now = time(NULL);
    struct tm tm;
    (void)strftime(sp->now, sizeof(sp->now), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    if (o->policy_path) {
        struct barra_policy_options po;
        barra_policy_options_init(&po);
        po.detector = det;
        if (barra_policy_load(o->policy_path, &po, &sp->policy, &err) < 0) {
            return open_fail(sp, &err, o->policy_path);
        }
    }
    if (o->key_path && barra_key_load(o->key_path, false, &sp->key, &err) < 0) {
        return open_fail(sp, &err, o->key_path);
    }
    if (barra_consent_memory_new(&sp->consents) < 0) {
        return open_fail(sp, &(struct barra_error){.message = "out of memory"}, "");
    }
    if (o->consents_path &&
        barra_consent_memory_load_file(sp->consents, o->consents_path, &err) < 0) {
        return open_fail(sp, &err, o->consents_path);
    }
    sp->provider = barra_consent_memory_provider(sp->consents);
    if (o->event_path) {
        json_error_t jerr;
        sp->event_template = json_load_file(o->event_path, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(sp->event_template)) {
            fprintf(stderr, "barra scan: %s:%d:%d: the event template must be a JSON object%s%s\n",
                    o->event_path, jerr.line, jerr.column, sp->event_template ? "" : ": ",
                    sp->event_template ? "" : jerr.text);
            scan_policy_free(sp);
            return 2;
        }
        /* Try the template once now rather than fail on every record. */
        struct scan_input probe = {.path = "probe"};
        char *s = event_json(sp, &probe, false, "", 0, NULL, 0, 1);
        barra_event_t *e = NULL;
        int r = s ? barra_event_parse(s, strlen(s), &e, &err) : -BARRA_ENOMEM;
        free(s);
        barra_event_free(e);
        if (r < 0) {
            (void)snprintf(err.file, sizeof(err.file), "%s", o->event_path);
            err.line = 0;
            fprintf(stderr, "barra scan: %s: %s\n", o->event_path, err.message);
            scan_policy_free(sp);
            return 2;
        }
    }
    *ret = sp;
    return 0;
}

void scan_policy_decide(struct scan_worker *w, const struct scan_input *in, struct file_result *fr,
                        bool whole_file, const char *text, size_t text_len, const char *id,
                        size_t id_len, uint64_t line)
{
    const struct scan_policy *sp = w->policy;
    if (sp == NULL || sp->policy == NULL) {
        return;
    }
    struct barra_error err;
    barra_event_t *e = NULL;
    barra_decision_t *d = NULL;
    char *json = NULL;
    char *s = event_json(sp, in, whole_file, text, text_len, id, id_len, line);
    if (s == NULL) {
        output_error(w->out, fr, line, "out of memory building the event");
        goto out;
    }
    if (barra_event_parse(s, strlen(s), &e, &err) < 0) {
        output_error(w->out, fr, line, "cannot build the event: %s", err.message);
        goto out;
    }
    struct barra_decide_options opts = {
        .consent = &sp->provider,
        .key = sp->key,
        .detector = sp->det,
    };
    if (barra_decide(sp->policy, e, w->findings, &opts, &d, &err) < 0 ||
        barra_decision_format_json(d, 0, &json, &err) < 0) {
        output_error(w->out, fr, line, "no decision: %s", err.message);
        goto out;
    }
    output_decision(w->out, fr, d, json, id, id_len, line);
out:
    barra_string_free(json);
    barra_decision_free(d);
    barra_event_free(e);
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
    barra_findings_clear(w->findings);
}

/* ---- redacted copies ---- */

/* DIR/PATH with "/" at the start and ".." parts made harmless, so every copy lands inside DIR. */
static char *output_path(const char *dir, const char *path)
{
    size_t n = strlen(dir) + strlen(path) + 2;
    char *out = malloc(n + 2 * strlen(path));
    if (out == NULL) {
        return NULL;
    }
    char *p = out + sprintf(out, "%s/", dir);
    for (const char *s = path; *s;) {
        while (*s == '/') {
            s++;
        }
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 0) {
            break;
        }
        if ((len == 2 && s[0] == '.' && s[1] == '.') || (len == 1 && s[0] == '.')) {
            memcpy(p, "__", 2);
            p += 2;
        } else {
            memcpy(p, s, len);
            p += len;
        }
        s += len;
        if (*s) {
            *p++ = '/';
        }
    }
    *p = '\0';
    return out;
}

static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            int r = mkdir(path, 0700);
            *p = '/';
            if (r < 0 && errno != EEXIST) {
                return -errno;
            }
        }
    }
    return 0;
}

static int write_fd(void *ud, const char *data, size_t len)
{
    int fd = *(int *)ud;
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -BARRA_EIO;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

void scan_policy_redact(struct scan_worker *w, const struct scan_input *in, struct file_result *fr,
                        const char *data, size_t len)
{
    const struct scan_policy *sp = w->policy;
    const char *dir = w->opts->redact_dir;
    if (sp == NULL || dir == NULL) {
        return;
    }
    char *path = output_path(dir, in->is_stdin ? "stdin.txt" : in->path);
    char *tmp = path ? malloc(strlen(path) + 16) : NULL;
    if (tmp == NULL) {
        output_error(w->out, fr, 0, "out of memory");
        free(path);
        return;
    }
    (void)sprintf(tmp, "%s.tmp%ld", path, (long)getpid());
    struct stat a, b;
    int fd = -1, r = make_dirs(path);
    if (r == 0 && !in->is_stdin && stat(in->path, &a) == 0 && stat(path, &b) == 0 &&
        a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
        output_error(w->out, fr, 0,
                     "the redacted copy would replace the input itself; choose "
                     "another --redact directory");
        goto out;
    }
    if (r == 0) {
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        r = fd < 0 ? -errno : 0;
    }
    if (r == 0) {
        r = barra_policy_redact(sp->policy, data, len, w->findings, sp->key, write_fd, &fd);
    }
    if (r == 0 && (fsync(fd) < 0 || close(fd) < 0)) {
        r = -BARRA_EIO;
    } else if (fd >= 0 && r < 0) {
        (void)close(fd);
    }
    fd = -1;
    if (r == 0 && rename(tmp, path) < 0) {
        r = -errno;
    }
    if (r < 0) {
        (void)unlink(tmp);
        output_error(w->out, fr, 0, "cannot write the redacted copy \"%s\": %s", path,
                     r == -BARRA_EINVAL ? "the policy asks for pseudonyms: give --key FILE"
                                        : barra_strerror(r));
    }
out:
    free(tmp);
    free(path);
}
