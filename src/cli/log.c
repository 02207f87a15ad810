/* SPDX-License-Identifier: Apache-2.0 */
/* `barra log append|verify|proof|checkpoint|key`: the audit log from the command line. */
#include "config.h"

#include "cli/log.h"

#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <barra/barra.h>

static const char log_usage[] =
    "Usage: barra log append [--log DIR] [--type TYPE] [-j N] [--checkpoint-dir DIR] [--syslog]\n"
    "                        < records.jsonl\n"
    "       barra log verify [--log DIR] [--key VERIFIER-KEY] [--trusted-checkpoint FILE]\n"
    "                        [--checkpoint FILE]... [--checkpoints-from DIR]\n"
    "       barra log proof [--log DIR] --index N [--size S]\n"
    "       barra log proof [--log DIR] --from M --to N\n"
    "       barra log checkpoint [--log DIR]\n"
    "       barra log key [--log DIR]\n"
    "       barra log export [--log DIR] OUTDIR\n"
    "       barra log prune [--log DIR] (--keep-days N | --before TIME)\n"
    "       barra log check-proof --key VERIFIER-KEY PROOF.json CHECKPOINT\n"
    "       barra log rotate-key [--log DIR]\n"
    "\n"
    "append      appends each line of standard input (a JSON record) and prints its index once it\n"
    "            is durable, one a line; bad lines are reported and skipped\n"
    "verify      checks every entry, tree hash, checkpoint and signature, the checkpoints given,\n"
    "            payload digests and prune records; names the first that does not hold\n"
    "proof       an entry's inclusion proof, or the consistency proof between two tree sizes\n"
    "            (JSON, docs/audit-log.md); exits 0 only if the proof exists and checks\n"
    "checkpoint  signs a checkpoint of the log now and prints it\n"
    "key         prints the verifier key that auditors use (--key of verify)\n"
    "rotate-key  replaces the signing key: both keys endorse each other in a logged entry\n"
    "prune       removes entries older than the retention period (in groups of 256, after a\n"
    "            signed prune record); their hashes stay, so the log still verifies\n"
    "check-proof checks a proof (from `barra log proof`) against a checkpoint signed by the\n"
    "            verifier key, without the log: what an auditor runs\n"
    "export      writes the entries, checkpoints and verifier key to OUTDIR for an outside\n"
    "            verifier (tests/audit/verify-export.py is one)\n"
    "\n"
    "Options\n"
    "  --log DIR               the log's folder (default: $BARRA_DATA_DIR/audit, else\n"
    "                          ./barra-data/audit)\n"
    "  --type TYPE             append: the entries' type (default \"record\")\n"
    "  -j, --jobs N            append: appends in flight at once (default 16)\n"
    "  --key TEXT              verify: the verifier key (default: from the log's own key)\n"
    "  --trusted-checkpoint F  verify: a checkpoint kept outside the log's folder; the log must\n"
    "                          contain its tree; replaced by the newest one when all verifies\n"
    "  --checkpoint F          verify: another checkpoint to hold the log against (repeatable)\n"
    "  --checkpoints-from DIR  verify: every *.checkpoint file in DIR (a --checkpoint-dir copy)\n"
    "  --checkpoint-dir DIR    append, checkpoint: copy each new checkpoint to DIR (a file share)\n"
    "  --syslog                append, checkpoint: and log it to syslog (authpriv.notice)\n"
    "  --keep-days N           prune: keep the entries of the last N days\n"
    "  --before TIME           prune: remove entries older than TIME (RFC 3339)\n"
    "\n"
    "Exit status: 0 success; 1 verification failed or the proof does not hold; 2 usage or I/O.\n";

enum {
    OPT_LOG = 256,
    OPT_TYPE,
    OPT_KEY,
    OPT_TRUSTED,
    OPT_CHECKPOINT,
    OPT_INDEX,
    OPT_SIZE,
    OPT_FROM,
    OPT_TO,
    OPT_KEEP_DAYS,
    OPT_BEFORE,
    OPT_CHECKPOINT_DIR,
    OPT_CHECKPOINTS_FROM,
    OPT_SYSLOG,
};

static const struct option log_options[] = {
    {"log", required_argument, NULL, OPT_LOG},
    {"type", required_argument, NULL, OPT_TYPE},
    {"jobs", required_argument, NULL, 'j'},
    {"key", required_argument, NULL, OPT_KEY},
    {"trusted-checkpoint", required_argument, NULL, OPT_TRUSTED},
    {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
    {"index", required_argument, NULL, OPT_INDEX},
    {"size", required_argument, NULL, OPT_SIZE},
    {"from", required_argument, NULL, OPT_FROM},
    {"to", required_argument, NULL, OPT_TO},
    {"keep-days", required_argument, NULL, OPT_KEEP_DAYS},
    {"before", required_argument, NULL, OPT_BEFORE},
    {"checkpoint-dir", required_argument, NULL, OPT_CHECKPOINT_DIR},
    {"checkpoints-from", required_argument, NULL, OPT_CHECKPOINTS_FROM},
    {"syslog", no_argument, NULL, OPT_SYSLOG},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct log_args {
    const char *dir;
    const char *type;
    unsigned jobs;
    const char *key;
    const char *trusted;
    const char **checkpoints;
    size_t ncheckpoints;
    long long index, size, from, to;
    long long keep_days;
    const char *before;
    const char *checkpoint_dir;
    const char *checkpoints_from;
    bool syslog;
};

static int open_log(const struct log_args *a, bool read_only, barra_audit_t **ret)
{
    struct barra_audit_options o;
    struct barra_error err;
    barra_audit_options_init(&o);
    o.dir = a->dir;
    o.read_only = read_only;
    o.checkpoint_dir = a->checkpoint_dir;
    o.checkpoint_syslog = a->syslog;
    if (barra_audit_open(&o, ret, &err) < 0) {
        fprintf(stderr, "barra log: %s\n", err.message);
        return -1;
    }
    return 0;
}

/* ---- append: several lines in flight, each printed once durable ---- */

struct appender {
    barra_audit_t *log;
    const char *type;
    pthread_mutex_t lock; /* over reading stdin and writing stdout */
    unsigned long long line;
    int failed;
    char *buf;
    size_t cap;
};

static void *append_worker(void *arg)
{
    struct appender *ap = arg;
    char *line = NULL;
    size_t cap = 0;
    for (;;) {
        pthread_mutex_lock(&ap->lock);
        ssize_t n = getline(&line, &cap, stdin);
        unsigned long long no = ++ap->line;
        pthread_mutex_unlock(&ap->lock);
        if (n < 0) {
            break;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            line[--n] = '\0';
        }
        if (n == 0) {
            continue;
        }
        json_error_t jerr;
        json_t *j = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
        bool object = json_is_object(j);
        json_decref(j);
        struct barra_error err;
        uint64_t index;
        if (!object) {
            pthread_mutex_lock(&ap->lock);
            fprintf(stderr, "barra log: line %llu: not a JSON object (%s), skipped\n", no,
                    j ? "another JSON value" : jerr.text);
            ap->failed = 1;
            pthread_mutex_unlock(&ap->lock);
            continue;
        }
        if (barra_audit_append(ap->log, ap->type, line, (size_t)n, NULL, 0, &index, &err) < 0) {
            pthread_mutex_lock(&ap->lock);
            fprintf(stderr, "barra log: line %llu: %s\n", no, err.message);
            ap->failed = 2;
            pthread_mutex_unlock(&ap->lock);
            break; /* the log stopped: nothing more will be acknowledged */
        }
        pthread_mutex_lock(&ap->lock);
        printf("%llu\n", (unsigned long long)index);
        fflush(stdout);
        pthread_mutex_unlock(&ap->lock);
    }
    free(line);
    return NULL;
}

static int cmd_append(const struct log_args *a)
{
    struct appender ap = {.type = a->type};
    if (open_log(a, false, &ap.log) < 0) {
        return 2;
    }
    pthread_mutex_init(&ap.lock, NULL);
    pthread_t threads[256];
    unsigned started = 0;
    for (; started < a->jobs; started++) {
        if (pthread_create(&threads[started], NULL, append_worker, &ap) != 0) {
            break;
        }
    }
    if (started == 0) {
        append_worker(&ap);
    }
    for (unsigned i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    pthread_mutex_destroy(&ap.lock);
    struct barra_error err;
    if (barra_audit_close(ap.log, &err) < 0) {
        fprintf(stderr, "barra log: %s\n", err.message);
        return 2;
    }
    return ap.failed;
}

/* The *.checkpoint files of a folder, added to the list of checkpoints to verify against. */
static int add_checkpoint_dir(const char *dir, const char ***list, size_t *n)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return -1;
    }
    struct dirent *e;
    int r = 0;
    while (r == 0 && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 11 || strcmp(e->d_name + len - 11, ".checkpoint") != 0) {
            continue;
        }
        const char **l = realloc(*list, (*n + 1) * sizeof(char *));
        char *path = malloc(strlen(dir) + len + 2);
        if (l == NULL || path == NULL) {
            free(path);
            r = -1;
            if (l) {
                *list = l;
            }
            break;
        }
        sprintf(path, "%s/%s", dir, e->d_name);
        l[(*n)++] = path;
        *list = l;
    }
    closedir(d);
    return r;
}

static int cmd_verify(const struct log_args *a)
{
    const char **files = NULL;
    size_t nfiles = 0;
    files = calloc(a->ncheckpoints + 1, sizeof(char *));
    for (size_t i = 0; files && i < a->ncheckpoints; i++) {
        files[nfiles++] = a->checkpoints[i];
    }
    if (files == NULL ||
        (a->checkpoints_from && add_checkpoint_dir(a->checkpoints_from, &files, &nfiles) < 0)) {
        fprintf(stderr, "barra log: %s \"%s\"\n",
                files ? "cannot read the checkpoints in" : "out of memory",
                a->checkpoints_from ? a->checkpoints_from : "");
        for (size_t i = a->ncheckpoints; files && i < nfiles; i++) {
            free((char *)files[i]);
        }
        free(files);
        return 2;
    }
    struct barra_audit_verify_options o = {
        .dir = a->dir,
        .verifier_key = a->key,
        .checkpoint_files = files,
        .ncheckpoint_files = nfiles,
        .trusted_checkpoint = a->trusted,
        .update_trusted = true,
    };
    struct barra_audit_verify_report rep;
    struct barra_error err;
    int r = barra_audit_verify(&o, &rep, &err);
    for (size_t i = a->ncheckpoints; i < nfiles; i++) {
        free((char *)files[i]); /* the paths read from --checkpoints-from */
    }
    free(files);
    if (r < 0) {
        printf("FAILED: %s\n", err.message);
        return r == -BARRA_ERULES || r == -BARRA_EACCES ? 1 : 2;
    }
    printf("ok: %llu entries (%llu pruned), %llu checkpoints, %llu payloads checked, %llu "
           "erased\n",
           (unsigned long long)rep.size, (unsigned long long)rep.min_index,
           (unsigned long long)rep.checkpoints, (unsigned long long)rep.payloads,
           (unsigned long long)rep.erased);
    if (rep.unsigned_entries) {
        printf("note: the newest %llu entries are not yet covered by a checkpoint\n",
               (unsigned long long)rep.unsigned_entries);
    }
    if (rep.clock_steps_back) {
        printf("note: the clock went back %llu times between entries\n",
               (unsigned long long)rep.clock_steps_back);
    }
    return 0;
}

static void b64(const uint8_t *h, char out[48])
{
    (void)EVP_EncodeBlock((unsigned char *)out, h, 32);
}

static void print_hashes(const uint8_t proof[][32], size_t n)
{
    printf("[");
    for (size_t i = 0; i < n; i++) {
        char h[48];
        b64(proof[i], h);
        printf("%s\"%s\"", i ? ", " : "", h);
    }
    printf("]");
}

static int cmd_proof(const struct log_args *a)
{
    barra_audit_t *log;
    if (open_log(a, true, &log) < 0) {
        return 2;
    }
    uint8_t proof[BARRA_AUDIT_MAX_PROOF][32], r1[32], r2[32], leaf[32];
    size_t n = 0;
    struct barra_error err;
    int status = 0;
    uint64_t have = 0;
    (void)barra_audit_head(log, &have, NULL, &err);
    if (a->index >= 0) {
        uint64_t size = a->size > 0 ? (uint64_t)a->size : have;
        if (barra_audit_inclusion_proof(log, (uint64_t)a->index, size, proof, &n, leaf, r1, &err) <
            0) {
            fprintf(stderr, "barra log: %s\n", err.message);
            status = 1;
        } else {
            char lh[48], rh[48];
            b64(leaf, lh);
            b64(r1, rh);
            printf("{\"type\": \"inclusion\", \"index\": %lld, \"size\": %llu, \"leaf_hash\": "
                   "\"%s\", \"root\": \"%s\", \"proof\": ",
                   a->index, (unsigned long long)size, lh, rh);
            print_hashes(proof, n);
            printf("}\n");
            status =
                barra_audit_check_inclusion(leaf, (uint64_t)a->index, size, r1, proof, n) ? 0 : 1;
        }
    } else {
        uint64_t to = a->to > 0 ? (uint64_t)a->to : have;
        if (barra_audit_consistency_proof(log, (uint64_t)a->from, to, proof, &n, r1, r2, &err) <
            0) {
            fprintf(stderr, "barra log: %s\n", err.message);
            status = 1;
        } else {
            char h1[48], h2[48];
            b64(r1, h1);
            b64(r2, h2);
            printf("{\"type\": \"consistency\", \"old_size\": %lld, \"new_size\": %llu, "
                   "\"old_root\": \"%s\", \"new_root\": \"%s\", \"proof\": ",
                   a->from, (unsigned long long)to, h1, h2);
            print_hashes(proof, n);
            printf("}\n");
            status = barra_audit_check_consistency((uint64_t)a->from, to, r1, r2, proof, n) ? 0 : 1;
        }
    }
    (void)barra_audit_close(log, NULL);
    return status;
}

static int cmd_checkpoint(const struct log_args *a, bool key_only)
{
    barra_audit_t *log;
    if (open_log(a, false, &log) < 0) {
        return 2;
    }
    struct barra_error err;
    char *text = NULL;
    int r = key_only ? barra_audit_verifier_key(log, &text, &err)
                     : barra_audit_checkpoint(log, &text, &err);
    if (r < 0) {
        fprintf(stderr, "barra log: %s\n", err.message);
    } else {
        fputs(text, stdout);
        if (key_only) {
            fputc('\n', stdout);
        }
    }
    barra_audit_free(text);
    if (barra_audit_close(log, &err) < 0 && r == 0) {
        fprintf(stderr, "barra log: %s\n", err.message);
        r = -1;
    }
    return r < 0 ? 2 : 0;
}

static int cmd_export(const struct log_args *a, const char *outdir)
{
    barra_audit_t *log;
    if (open_log(a, true, &log) < 0) {
        return 2;
    }
    struct barra_error err;
    int r = barra_audit_export(log, outdir, &err);
    if (r < 0) {
        fprintf(stderr, "barra log: %s\n", err.message);
    }
    (void)barra_audit_close(log, NULL);
    return r < 0 ? 2 : 0;
}

/* RFC 3339 with a zone, to Unix nanoseconds. */
static bool parse_time(const char *s, int64_t *ret)
{
    struct tm tm = {0};
    char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest == NULL) {
        return false;
    }
    long off = 0;
    if (*rest == 'Z' && rest[1] == '\0') {
        off = 0;
    } else if ((*rest == '+' || *rest == '-') && strlen(rest) == 6 && rest[3] == ':') {
        off = (atol(rest + 1) * 60 + atol(rest + 4)) * 60 * (*rest == '-' ? -1 : 1);
    } else {
        return false;
    }
    *ret = ((int64_t)timegm(&tm) - off) * 1000000000;
    return true;
}

static int cmd_prune(const struct log_args *a)
{
    int64_t before;
    if (a->before) {
        if (!parse_time(a->before, &before)) {
            fprintf(stderr,
                    "barra log prune: --before takes RFC 3339, e.g. 2026-01-01T00:00:00+08:00\n");
            return 2;
        }
    } else if (a->keep_days > 0) {
        before = ((int64_t)time(NULL) - a->keep_days * 86400) * 1000000000;
    } else {
        fprintf(stderr, "barra log prune: give --keep-days N or --before TIME\n");
        return 2;
    }
    barra_audit_t *log;
    if (open_log(a, false, &log) < 0) {
        return 2;
    }
    struct barra_error err;
    uint64_t min;
    int r = barra_audit_prune(log, before, &min, &err);
    if (r < 0) {
        fprintf(stderr, "barra log: %s\n", err.message);
    } else {
        printf("entries before %llu are pruned; their hashes are kept\n", (unsigned long long)min);
    }
    if (barra_audit_close(log, &err) < 0 && r == 0) {
        fprintf(stderr, "barra log: %s\n", err.message);
        r = -1;
    }
    return r < 0 ? 2 : 0;
}

static char *slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rbe");
    char *buf = f ? malloc(1 << 20) : NULL;
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    if (f) {
        fclose(f);
    }
    if (buf) {
        buf[n] = '\0';
        *ret_len = n;
    }
    return buf;
}

static int cmd_check_proof(const struct log_args *a, const char *proof_path, const char *cp_path)
{
    if (a->key == NULL) {
        fprintf(stderr, "barra log check-proof: give the verifier key with --key\n");
        return 2;
    }
    size_t plen = 0, clen = 0;
    char *proof = slurp(proof_path, &plen), *cp = slurp(cp_path, &clen);
    if (proof == NULL || cp == NULL) {
        fprintf(stderr, "barra log check-proof: cannot read \"%s\"\n",
                proof ? cp_path : proof_path);
        free(proof);
        free(cp);
        return 2;
    }
    struct barra_error err;
    int r = barra_audit_check_proof(proof, plen, cp, clen, a->key, &err);
    free(proof);
    free(cp);
    if (r < 0) {
        printf("FAILED: %s\n", err.message);
        return r == -BARRA_ERULES ? 1 : 2;
    }
    printf("ok: the proof holds against the checkpoint\n");
    return 0;
}

static const char *default_dir(char *buf, size_t cap)
{
    const char *base = secure_getenv("BARRA_DATA_DIR");
    (void)snprintf(buf, cap, "%s/audit", base && *base ? base : "barra-data");
    return buf;
}

static bool number(const char *s, long long *ret)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0) {
        return false;
    }
    *ret = v;
    return true;
}

int cmd_log(int argc, char **argv)
{
    char dirbuf[4096];
    struct log_args a = {
        .type = "record", .jobs = 16, .index = -1, .size = -1, .from = -1, .to = -1};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(log_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    argc--;
    argv++;
    const char *checkpoints[64];
    a.checkpoints = checkpoints;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "j:h", log_options, NULL)) != -1) {
        long long v;
        switch (c) {
        case OPT_LOG:
            a.dir = optarg;
            break;
        case OPT_TYPE:
            a.type = optarg;
            break;
        case 'j':
            if (!number(optarg, &v) || v < 1 || v > 256) {
                fprintf(stderr, "barra log: --jobs takes 1 to 256\n");
                return 2;
            }
            a.jobs = (unsigned)v;
            break;
        case OPT_KEY:
            a.key = optarg;
            break;
        case OPT_TRUSTED:
            a.trusted = optarg;
            break;
        case OPT_CHECKPOINT:
            if (a.ncheckpoints == 64) {
                fprintf(stderr, "barra log: at most 64 --checkpoint files\n");
                return 2;
            }
            checkpoints[a.ncheckpoints++] = optarg;
            break;
        case OPT_INDEX:
        case OPT_SIZE:
        case OPT_FROM:
        case OPT_TO:
            if (!number(optarg, &v)) {
                fprintf(stderr, "barra log: --%s takes a whole number\n",
                        c == OPT_INDEX  ? "index"
                        : c == OPT_SIZE ? "size"
                        : c == OPT_FROM ? "from"
                                        : "to");
                return 2;
            }
            *(c == OPT_INDEX  ? &a.index
              : c == OPT_SIZE ? &a.size
              : c == OPT_FROM ? &a.from
                              : &a.to) = v;
            break;
        case OPT_KEEP_DAYS:
            if (!number(optarg, &a.keep_days) || a.keep_days > 100000) {
                fprintf(stderr, "barra log: --keep-days takes a number of days\n");
                return 2;
            }
            break;
        case OPT_BEFORE:
            a.before = optarg;
            break;
        case OPT_CHECKPOINT_DIR:
            a.checkpoint_dir = optarg;
            break;
        case OPT_CHECKPOINTS_FROM:
            a.checkpoints_from = optarg;
            break;
        case OPT_SYSLOG:
            a.syslog = true;
            break;
        case 'h':
            fputs(log_usage, stdout);
            return 0;
        default:
            fputs("Run 'barra log --help' for the options.\n", stderr);
            return 2;
        }
    }
    const char *outdir = NULL;
    if (strcmp(sub, "export") == 0 && optind + 1 == argc) {
        outdir = argv[optind++];
    }
    if (strcmp(sub, "check-proof") == 0) {
        return optind + 2 == argc ? cmd_check_proof(&a, argv[optind], argv[optind + 1])
                                  : (fprintf(stderr, "barra log check-proof: give a proof and a "
                                                     "checkpoint file\n"),
                                     2);
    }
    if (optind != argc || (strcmp(sub, "export") == 0 && outdir == NULL)) {
        fprintf(stderr, "barra log: %s\n",
                optind != argc ? "unexpected argument" : "export needs an output folder");
        return 2;
    }
    if (a.dir == NULL) {
        a.dir = default_dir(dirbuf, sizeof(dirbuf));
    }
    if (strcmp(sub, "append") == 0) {
        return cmd_append(&a);
    }
    if (strcmp(sub, "verify") == 0) {
        return cmd_verify(&a);
    }
    if (strcmp(sub, "proof") == 0) {
        if ((a.index >= 0) == (a.from >= 0)) {
            fprintf(stderr, "barra log proof: give --index N, or --from M (and --to N)\n");
            return 2;
        }
        return cmd_proof(&a);
    }
    if (strcmp(sub, "export") == 0) {
        return cmd_export(&a, outdir);
    }
    if (strcmp(sub, "prune") == 0) {
        return cmd_prune(&a);
    }
    if (strcmp(sub, "rotate-key") == 0) {
        barra_audit_t *log;
        struct barra_error err;
        if (open_log(&a, false, &log) < 0) {
            return 2;
        }
        int r = barra_audit_rotate_key(log, &err);
        if (r < 0) {
            fprintf(stderr, "barra log: %s\n", err.message);
        }
        char *key = NULL;
        if (r == 0 && barra_audit_verifier_key(log, &key, &err) == 0) {
            printf("new verifier key: %s\n", key);
        }
        barra_audit_free(key);
        if (barra_audit_close(log, &err) < 0 && r == 0) {
            fprintf(stderr, "barra log: %s\n", err.message);
            r = -1;
        }
        return r < 0 ? 2 : 0;
    }
    if (strcmp(sub, "checkpoint") == 0 || strcmp(sub, "key") == 0) {
        return cmd_checkpoint(&a, strcmp(sub, "key") == 0);
    }
    fprintf(stderr, "barra log: unknown subcommand \"%s\"\n\n%s", sub, log_usage);
    return 2;
}
