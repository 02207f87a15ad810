/* SPDX-License-Identifier: Apache-2.0 */
/* `barra scan PATH...`: options, worker threads, progress bar, exit status. */
#include "config.h"

#include "cli/scan.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char scan_usage[] =
    "Usage: barra scan [OPTIONS] PATH...\n"
    "\n"
    "Finds personal data in files, folders (recursively) or standard input (-): identity documents of\n"
    "mainland China, Hong Kong, Macau and Taiwan, permits, passports, phone numbers, bank cards and\n"
    "accounts, company codes, e-mail, plates, dates of birth, and PIPL Art. 28 sensitive terms.\n"
    "\n"
    "Input\n"
    "  --input-format FMT    auto (by file name, the default), text, jsonl, csv or tsv\n"
    "  --jsonl-field NAME    scan this string field of each JSON Lines record (a dotted path; may be\n"
    "                        repeated); default: every string value\n"
    "  --id-field NAME       report this field of each JSON Lines record as the finding's \"id\"\n"
    "  --no-header           CSV/TSV: the first row is data, not column names\n"
    "  --max-record SIZE     longest JSON Lines record or CSV row accepted (default 64M)\n"
    "  --exclude PATTERN     skip paths matching a .gitignore-style pattern (may be repeated)\n"
    "  --exclude-from FILE   read exclude patterns from FILE, one a line\n"
    "\n"
    "Output\n"
    "  -f, --format FMT      human (default), json (a summary) or jsonl (one finding a line)\n"
    "  --show-values         include matched values (personal data!) instead of masked ones\n"
    "  --all                 human format: list every finding, not the first 10 per type and file\n"
    "  --types LIST          report only these types (comma-separated)\n"
    "  --min-score X         report findings scoring at least X in [0,1] (default 0.5)\n"
    "  --color WHEN          auto (default), always or never\n"
    "  --progress WHEN       auto (default: on a terminal), always or never\n"
    "\n"
    "Policy\n"
    "  --policy FILE         decide about each file (text, CSV) or JSON Lines record with this\n"
    "                        policy (docs/policy.md) and report the decision\n"
    "  --event FILE          JSON fields every record's event starts from: source, destination,\n"
    "                        sender, conversation, ... (docs/events.md)\n"
    "  --consents FILE       consent records for the policy's consent conditions\n"
    "  --key FILE            on-prem key for references and pseudonyms in decisions\n"
    "  --redact DIR          write a copy of each text file under DIR with every finding redacted\n"
    "                        (by the policy's redaction methods; full masks without --policy)\n"
    "\n"
    "Engine\n"
    "  -j, --jobs N          threads (default: the number of CPUs)\n"
    "  --rules DIR           entity rules to compile instead of the built-in ones\n"
    "  --reference-date D    YYYY-MM-DD used as today (birth dates, minors); default today\n"
    "\n"
    "Exit status: 0 nothing found, 1 personal data found, 2 an error kept part of the input from\n"
    "being scanned (an error wins). See barra-scan(1) and docs/scan.md.\n";

enum {
    OPT_INPUT_FORMAT = 256,
    OPT_JSONL_FIELD,
    OPT_ID_FIELD,
    OPT_NO_HEADER,
    OPT_MAX_RECORD,
    OPT_EXCLUDE,
    OPT_EXCLUDE_FROM,
    OPT_SHOW_VALUES,
    OPT_ALL,
    OPT_TYPES,
    OPT_MIN_SCORE,
    OPT_COLOR,
    OPT_PROGRESS,
    OPT_RULES,
    OPT_REFERENCE_DATE,
    OPT_POLICY,
    OPT_EVENT,
    OPT_CONSENTS,
    OPT_KEY,
    OPT_REDACT,
};

static const struct option scan_long_options[] = {
    {"format", required_argument, NULL, 'f'},
    {"jobs", required_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {"input-format", required_argument, NULL, OPT_INPUT_FORMAT},
    {"jsonl-field", required_argument, NULL, OPT_JSONL_FIELD},
    {"id-field", required_argument, NULL, OPT_ID_FIELD},
    {"no-header", no_argument, NULL, OPT_NO_HEADER},
    {"max-record", required_argument, NULL, OPT_MAX_RECORD},
    {"exclude", required_argument, NULL, OPT_EXCLUDE},
    {"exclude-from", required_argument, NULL, OPT_EXCLUDE_FROM},
    {"show-values", no_argument, NULL, OPT_SHOW_VALUES},
    {"all", no_argument, NULL, OPT_ALL},
    {"types", required_argument, NULL, OPT_TYPES},
    {"min-score", required_argument, NULL, OPT_MIN_SCORE},
    {"color", required_argument, NULL, OPT_COLOR},
    {"colour", required_argument, NULL, OPT_COLOR},
    {"progress", required_argument, NULL, OPT_PROGRESS},
    {"rules", required_argument, NULL, OPT_RULES},
    {"reference-date", required_argument, NULL, OPT_REFERENCE_DATE},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"event", required_argument, NULL, OPT_EVENT},
    {"consents", required_argument, NULL, OPT_CONSENTS},
    {"key", required_argument, NULL, OPT_KEY},
    {"redact", required_argument, NULL, OPT_REDACT},
    {NULL, 0, NULL, 0},
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "barra scan: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'barra scan --help'.\n");
    va_end(ap);
    return 2;
}

static int parse_size(const char *s, size_t *ret)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s) {
        return -1;
    }
    unsigned long long mul = 1;
    if (*end == 'k' || *end == 'K') {
        mul = 1ull << 10;
        end++;
    } else if (*end == 'm' || *end == 'M') {
        mul = 1ull << 20;
        end++;
    } else if (*end == 'g' || *end == 'G') {
        mul = 1ull << 30;
        end++;
    }
    if (*end != '\0' || v == 0 || v > (1ull << 40) / mul) {
        return -1;
    }
    *ret = (size_t)(v * mul);
    return 0;
}

static int parse_when(const char *s, bool is_tty, bool *ret)
{
    if (strcmp(s, "auto") == 0) {
        *ret = is_tty;
    } else if (strcmp(s, "always") == 0) {
        *ret = true;
    } else if (strcmp(s, "never") == 0) {
        *ret = false;
    } else {
        return -1;
    }
    return 0;
}

static int parse_date(const char *s, int32_t *ret)
{
    int y, m, d;
    char tail;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1 || d > 31) {
        return -1;
    }
    *ret = y * 10000 + m * 100 + d;
    return 0;
}

static int split_types(const char *s, struct scan_options *o)
{
    char *copy = strdup(s);
    if (copy == NULL) {
        return -1;
    }
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char **q = reallocarray(o->types, o->ntypes + 1, sizeof(char *));
        if (q == NULL) {
            free(copy);
            return -1;
        }
        o->types = q;
        o->types[o->ntypes] = strdup(tok);
        if (o->types[o->ntypes] == NULL) {
            free(copy);
            return -1;
        }
        o->ntypes++;
    }
    free(copy);
    return 0;
}

static int parse_options(int argc, char **argv, struct scan_options *o)
{
    bool stdout_tty = isatty(STDOUT_FILENO), stderr_tty = isatty(STDERR_FILENO);
    const char *no_color = getenv("NO_COLOR");
    o->color = stdout_tty && (no_color == NULL || *no_color == '\0');
    o->progress = stderr_tty;
    o->min_score = -1;
    o->max_record = 64u << 20;
    o->csv_header = true;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o->jobs = cpus > 0 ? (unsigned)cpus : 1;
    o->excludes = glob_list_new();
    if (o->excludes == NULL) {
        return 2;
    }
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:j:h", scan_long_options, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(scan_usage, stdout);
            return 0;
        case 'f':
            if (strcmp(optarg, "human") == 0) {
                o->format = OUT_HUMAN;
            } else if (strcmp(optarg, "json") == 0) {
                o->format = OUT_JSON;
            } else if (strcmp(optarg, "jsonl") == 0) {
                o->format = OUT_JSONL;
            } else {
                return usage_error("unknown format \"%s\" (human, json or jsonl)", optarg);
            }
            break;
        case 'j': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 1024) {
                return usage_error("--jobs takes a number from 1 to 1024, not \"%s\"", optarg);
            }
            o->jobs = (unsigned)n;
            break;
        }
        case OPT_INPUT_FORMAT:
            if (strcmp(optarg, "auto") == 0) {
                o->input_format = IN_AUTO;
            } else if (strcmp(optarg, "text") == 0) {
                o->input_format = IN_TEXT;
            } else if (strcmp(optarg, "jsonl") == 0) {
                o->input_format = IN_JSONL;
            } else if (strcmp(optarg, "csv") == 0) {
                o->input_format = IN_CSV;
            } else if (strcmp(optarg, "tsv") == 0) {
                o->input_format = IN_TSV;
            } else {
                return usage_error("unknown input format \"%s\" (auto, text, jsonl, csv, tsv)",
                                   optarg);
            }
            break;
        case OPT_JSONL_FIELD: {
            char **q = reallocarray(o->jsonl_fields, o->njsonl_fields + 1, sizeof(char *));
            if (q == NULL) {
                return 2;
            }
            o->jsonl_fields = q;
            o->jsonl_fields[o->njsonl_fields++] = optarg;
            break;
        }
        case OPT_ID_FIELD:
            o->id_field = optarg;
            break;
        case OPT_NO_HEADER:
            o->csv_header = false;
            break;
        case OPT_MAX_RECORD:
            if (parse_size(optarg, &o->max_record) < 0) {
                return usage_error("--max-record takes a size like 64M, not \"%s\"", optarg);
            }
            break;
        case OPT_EXCLUDE:
            if (glob_list_add(o->excludes, optarg) < 0) {
                return 2;
            }
            break;
        case OPT_EXCLUDE_FROM: {
            int r = glob_list_add_file(o->excludes, optarg);
            if (r < 0) {
                fprintf(stderr, "barra scan: cannot read %s: %s\n", optarg, strerror(-r));
                return 2;
            }
            break;
        }
        case OPT_SHOW_VALUES:
            o->show_values = true;
            break;
        case OPT_ALL:
            o->all_occurrences = true;
            break;
        case OPT_TYPES:
            if (split_types(optarg, o) < 0) {
                return 2;
            }
            break;
        case OPT_MIN_SCORE: {
            char *end;
            double v = strtod(optarg, &end);
            if (*end || end == optarg || v < 0 || v > 1) {
                return usage_error("--min-score takes a number from 0 to 1, not \"%s\"", optarg);
            }
            o->min_score = v;
            break;
        }
        case OPT_COLOR:
            if (parse_when(optarg, stdout_tty, &o->color) < 0) {
                return usage_error("--color takes auto, always or never, not \"%s\"", optarg);
            }
            break;
        case OPT_PROGRESS:
            if (parse_when(optarg, stderr_tty, &o->progress) < 0) {
                return usage_error("--progress takes auto, always or never, not \"%s\"", optarg);
            }
            break;
        case OPT_RULES:
            o->rules_dir = optarg;
            break;
        case OPT_REFERENCE_DATE:
            if (parse_date(optarg, &o->reference_date) < 0) {
                return usage_error("--reference-date takes YYYY-MM-DD, not \"%s\"", optarg);
            }
            break;
        case OPT_POLICY:
            o->policy_path = optarg;
            break;
        case OPT_EVENT:
            o->event_path = optarg;
            break;
        case OPT_CONSENTS:
            o->consents_path = optarg;
            break;
        case OPT_KEY:
            o->key_path = optarg;
            break;
        case OPT_REDACT:
            o->redact_dir = optarg;
            break;
        default:
            fprintf(stderr, "Try 'barra scan --help'.\n");
            return 2;
        }
    }
    if ((o->event_path || o->consents_path) && o->policy_path == NULL) {
        return usage_error("%s", "--event and --consents need --policy");
    }
    if (o->format != OUT_HUMAN) {
        o->color = false;
    }
    return -1;
}

/* ---- threads ---- */

struct pool {
    const struct scan_options *opts;
    const struct scan_policy *policy;
    const struct input_list *inputs;
    barra_detector_t *det;
    struct output *out;
    atomic_size_t next;
    atomic_uint running;
    int failed;
    pthread_mutex_t lock;
    pthread_cond_t finished; /* signalled as each worker ends */
};

static void *worker_main(void *arg)
{
    struct pool *p = arg;
    struct scan_worker w = {.opts = p->opts, .out = p->out, .policy = p->policy};
    struct barra_error err;
    if (barra_scanner_new(p->det, BARRA_SCAN_LINES | BARRA_SCAN_CHECK_UTF8, &w.scanner, &err) < 0 ||
        barra_jsonl_new((const char *const *)p->opts->jsonl_fields, p->opts->njsonl_fields,
                        p->opts->id_field, &w.jsonl, &err) < 0) {
        fprintf(stderr, "barra scan: %s\n", err.message);
        p->failed = 1;
    }
    if (w.policy && barra_findings_new(&w.findings) < 0) {
        fprintf(stderr, "barra scan: out of memory\n");
        p->failed = 1;
    }
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->inputs->n) {
            break;
        }
        struct file_result *fr = output_file(p->out, i);
        if (fr == NULL) {
            p->failed = 1;
            break;
        }
        if (w.scanner && w.jsonl && (w.policy == NULL || w.findings)) {
            scan_one(&w, &p->inputs->v[i], fr);
        } else {
            output_error(p->out, fr, 0, "not scanned: the scanner could not start");
        }
        output_file_done(p->out, fr);
    }
    scan_batch_free(&w);
    barra_findings_free(w.findings);
    barra_scanner_free(w.scanner);
    barra_jsonl_free(w.jsonl);
    pthread_mutex_lock(&p->lock);
    atomic_fetch_sub(&p->running, 1);
    pthread_cond_signal(&p->finished);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void draw_progress(struct output *out, const struct input_list *in, double elapsed)
{
    uint64_t bytes;
    size_t files;
    output_progress(out, &bytes, &files);
    double pct = in->total_bytes ? 100.0 * (double)bytes / (double)in->total_bytes : 0;
    if (pct > 100) {
        pct = 100;
    }
    int width = 30, fill = (int)(pct * width / 100);
    char bar[64];
    for (int i = 0; i < width; i++) {
        bar[i] = i < fill ? '#' : '.';
    }
    bar[width] = '\0';
    double mibs = elapsed > 0 ? (double)bytes / elapsed / (1024.0 * 1024.0) : 0;
    output_lock_stderr(out);
    fprintf(stderr, "scanning [%s] %3.0f%%  %zu/%zu files  %.0f MiB/s", bar, pct, files, in->n,
            mibs);
    fflush(stderr);
    output_unlock_stderr(out);
}

static int run_pool(struct pool *p, unsigned jobs, double start)
{
    if (jobs > p->inputs->n) {
        jobs = p->inputs->n ? (unsigned)p->inputs->n : 1;
    }
    pthread_t *threads = calloc(jobs, sizeof(*threads));
    if (threads == NULL) {
        return -1;
    }
    atomic_store(&p->running, jobs);
    unsigned started = 0;
    for (; started < jobs; started++) {
        if (pthread_create(&threads[started], NULL, worker_main, p) != 0) {
            atomic_fetch_sub(&p->running, jobs - started);
            break;
        }
    }
    if (started == 0) {
        free(threads);
        return -1;
    }
    bool drawn = false;
    pthread_mutex_lock(&p->lock);
    while (atomic_load(&p->running) > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&p->finished, &p->lock, &ts);
        double elapsed = now_seconds() - start;
        if (p->opts->progress && elapsed > 0.5 && atomic_load(&p->running) > 0) {
            draw_progress(p->out, p->inputs, elapsed);
            drawn = true;
        }
    }
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    if (drawn) {
        output_lock_stderr(p->out);
        output_unlock_stderr(p->out);
    }
    free(threads);
    return 0;
}

int cmd_scan(int argc, char **argv)
{
    double start = now_seconds();
    struct scan_options opts;
    memset(&opts, 0, sizeof(opts));
    int rc = parse_options(argc, argv, &opts);
    struct input_list inputs = {0};
    barra_detector_t *det = NULL;
    struct scan_policy *policy = NULL;
    struct output *out = NULL;
    if (rc >= 0) {
        goto out_free;
    }
    if (optind >= argc) {
        rc = usage_error("%s", "no PATH given (use - for standard input)");
        goto out_free;
    }
    rc = inputs_collect(&inputs, argv + optind, (size_t)(argc - optind), opts.excludes) ? 2 : 0;
    struct barra_detector_options dopts;
    barra_detector_options_init(&dopts);
    dopts.rules_dir = opts.rules_dir;
    dopts.min_score = opts.min_score;
    dopts.reference_date = opts.reference_date;
    struct barra_error err;
    if (barra_detector_new(&dopts, &det, &err) < 0) {
        if (err.file[0]) {
            fprintf(stderr, "barra scan: %s:%u:%u: %s\n", err.file, err.line, err.column,
                    err.message);
        } else {
            fprintf(stderr, "barra scan: %s\n", err.message);
        }
        rc = 2;
        goto out_free;
    }
    for (size_t i = 0; i < opts.ntypes; i++) {
        bool known = false;
        for (size_t t = 0; t < barra_detector_type_count(det); t++) {
            known |= strcmp(barra_detector_type_name(det, t), opts.types[i]) == 0;
        }
        if (!known) {
            rc = usage_error("unknown type \"%s\" in --types", opts.types[i]);
            goto out_free;
        }
    }
    if ((opts.policy_path || opts.redact_dir) && scan_policy_open(&opts, det, &policy) != 0) {
        rc = 2;
        goto out_free;
    }
    out = output_new(&opts, &inputs, det);
    if (out == NULL) {
        fprintf(stderr, "barra scan: out of memory\n");
        rc = 2;
        goto out_free;
    }
    struct pool pool = {.opts = &opts, .policy = policy, .inputs = &inputs, .det = det, .out = out};
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.finished, NULL);
    if (run_pool(&pool, opts.jobs, start) < 0) {
        fprintf(stderr, "barra scan: cannot start threads\n");
        rc = 2;
        goto out_free;
    }
    pthread_mutex_destroy(&pool.lock);
    pthread_cond_destroy(&pool.finished);
    int status = output_finish(out, now_seconds() - start);
    rc = rc ? rc : pool.failed ? 2 : status;
out_free:
    output_free(out);
    scan_policy_free(policy);
    barra_detector_unref(det);
    inputs_free(&inputs);
    glob_list_free(opts.excludes);
    free(opts.jsonl_fields);
    for (size_t i = 0; i < opts.ntypes; i++) {
        free(opts.types[i]);
    }
    free(opts.types);
    return rc;
}
