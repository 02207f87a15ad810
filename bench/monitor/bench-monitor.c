/* SPDX-License-Identifier: Apache-2.0 */
/* The activity monitor's speed and memory. Generated activity events (fixed seed: 20,000 people,
 * the shipped mix of actions) are (1) only parsed, the baseline, and (2) parsed and run through
 * the engine with 50 rules — the shipped rules plus generated detection and correlation rules
 * over the same fields — on one core; events per second side by side with their ratio. Then
 * (3) one million distinct people each log in once from a country, and the memory the engine's
 * state takes (the allocator's bytes in use) is printed, in bytes per person. Target: >= 100,000
 * events/s with 50 rules.
 *
 * Usage: bench-monitor RULES-DIR [EVENTS]   (RULES-DIR: rules/monitor) */
#include "config.h"

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "monitor/monitor.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint32_t next(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *const actions[] = {"file_download", "file_download", "file_download",
                                      "file_preview",  "login",         "message_send",
                                      "file_export",   "share_link",    "share_internal",
                                      "plugin_sync",   "file_forward",  "file_upload"};
static const char *const countries[] = {"MO", "MO", "MO", "MO", "HK", "HK", "CN", "SG", "JP"};
static const char *const tiers[] = {"public", "internal", "confidential", "restricted"};
static const char *const regions[] = {"mo", "hk", "cn-mainland", "sg", "us"};
static const char *const departments[] = {
    "Finance", "HR", "Sales", "Casino Operations", "Security Operations", "Legal"};

/* One event a line, times rising 2 ms apart from a Monday morning (some nights and weekends). */
static char **make_events(size_t n, size_t people, size_t *ret_bytes)
{
    char **v = barra_calloc(n, sizeof(*v));
    size_t bytes = 0;
    struct buf b;
    buf_init(&b, 1 << 16);
    int64_t t = 1772416800000; /* 2026-03-02T10:00:00+08:00 */
    for (size_t i = 0; v && i < n; i++) {
        t += 2 + next(300) * (next(1000) == 0 ? 3600 : 1);
        time_t s = (time_t)(t / 1000) + 8 * 3600;
        struct tm tm;
        gmtime_r(&s, &tm);
        const char *action = actions[next(sizeof(actions) / sizeof(actions[0]))];
        buf_clear(&b);
        (void)buf_printf(
            &b,
            "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03d+08:00\",\"actor\":\"user%05u\","
            "\"action\":\"%s\",\"resource\":\"file-%u.xlsx\",\"count\":1,\"bytes\":%u,"
            "\"ip\":\"10.%u.%u.%u\",\"country\":\"%s\",\"client\":\"windows\","
            "\"department\":\"%s\",\"tier\":\"%s\"",
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
            (int)(t % 1000), next((uint32_t)people), action, next(50000), next(50000000), next(256),
            next(256), next(256), countries[next(sizeof(countries) / sizeof(countries[0]))],
            departments[next(6)], tiers[next(4)]);
        if (strcmp(action, "plugin_sync") == 0) {
            (void)buf_printf(&b,
                             ",\"plugin\":\"plugin%u\",\"destination\":{\"host\":\"h%u.example\","
                             "\"region\":\"%s\"}",
                             next(20), next(40), regions[next(5)]);
        }
        (void)buf_append_char(&b, '}');
        v[i] = barra_strndup(b.data, b.len);
        bytes += b.len;
    }
    buf_done(&b);
    *ret_bytes = bytes;
    return v;
}

/* More rules, so that 50 run with the shipped ones: detections on each action with field tests of
 * every kind, and correlations (a quarter of them) counting them. */
static char *generated_rules(int count)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    static const char *const tests[] = {
        "    tier: restricted\n",           "    country: [SG, JP, US]\n",
        "    resource|endswith: .xlsx\n",   "    ip|cidr: 10.0.0.0/8\n",
        "    bytes|gte: 40000000\n",        "    resource|contains: '-4'\n",
        "    department|startswith: Fin\n", "    client: [mac, ios]\n"};
    int ncorr = count / 4, ndet = count - ncorr;
    for (int i = 0; i < ndet; i++) {
        (void)buf_printf(&b,
                         "%stitle: generated %d\nid: gen-%d\nname: gen-%d\nlogsource:\n"
                         "  category: %s\ndetection:\n  s:\n    action: %s\n%s  f:\n"
                         "    outcome: failure\n  condition: s and not f\nlevel: low\n"
                         "x-barra:\n  suppress: 1h\n",
                         i ? "---\n" : "", i, i, i, actions[i % 12], actions[i % 12], tests[i % 8]);
    }
    static const char *const corr[] = {"event_count", "value_count", "event_count", "value_sum"};
    for (int i = 0; i < ncorr; i++) {
        (void)buf_printf(&b,
                         "---\ntitle: generated correlation %d\nid: gen-corr-%d\ncorrelation:\n"
                         "  type: %s\n  rules: [gen-%d]\n  group-by: [actor]\n  timespan: 10m\n"
                         "%s  condition: {gte: %s}\nlevel: medium\n",
                         i, i, corr[i % 4], i,
                         i % 4 == 1   ? "  field: resource\n"
                         : i % 4 == 3 ? "  field: bytes\n"
                                      : "",
                         i % 4 == 3 ? "400000000" : "30");
    }
    char *s = barra_strndup(b.data, b.len);
    buf_done(&b);
    return s;
}

static uint64_t alerts;

static void count_alert(void *ud, const struct mon_alert *a)
{
    (void)ud, (void)a;
    alerts++;
}

/* Bytes the allocator has handed out and not had back: what the state holds, whatever the
 * allocator keeps from earlier rounds. */
static size_t in_use(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench-monitor RULES-DIR [EVENTS]\n");
        return 2;
    }
    size_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000, bytes = 0;
    char cal_path[1024];
    (void)snprintf(cal_path, sizeof(cal_path), "%s/calendar/default.yaml", argv[1]);
    struct mon_calendar *cal = NULL;
    struct barra_error err = {0};
    if (mon_calendar_load(cal_path, &cal, &err) < 0) {
        fprintf(stderr, "%s\n", err.message);
        return 2;
    }
    /* the shipped rules and the generated ones, in one folder */
    char dir[] = "/tmp/barra-bench-monitor-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        return 2;
    }
    char cmd[4096];
    (void)snprintf(cmd, sizeof(cmd), "cp %s/*.yml %s/", argv[1], dir);
    if (system(cmd) != 0) {
        return 2;
    }
    struct mon_rules *shipped = NULL;
    if (mon_rules_load(dir, cal, &shipped, &err) < 0) {
        fprintf(stderr, "%s:%u: %s\n", err.file, err.line, err.message);
        return 2;
    }
    int extra = 50 - (int)mon_rules_count(shipped);
    mon_rules_free(shipped);
    char *gen = generated_rules(extra > 0 ? extra : 0);
    char path[1100];
    (void)snprintf(path, sizeof(path), "%s/zz-generated.yml", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs(gen, f) < 0 || fclose(f) != 0) {
        return 2;
    }
    barra_free(gen);
    struct mon_rules *rs = NULL;
    if (mon_rules_load(dir, cal, &rs, &err) < 0) {
        fprintf(stderr, "%s:%u: %s\n", err.file, err.line, err.message);
        return 2;
    }
    (void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    (void)system(cmd);
    char **ev = make_events(n, 20000, &bytes);
    printf("%zu events (%.0f bytes each), %zu rules, one core, best of 3\n", n,
           (double)bytes / (double)n, mon_rules_count(rs));
    double best_parse = 1e9, best_engine = 1e9;
    for (int round = 0; round < 3; round++) {
        double t0 = now();
        for (size_t i = 0; i < n; i++) {
            struct mon_event *e = NULL;
            if (mon_event_from_json(ev[i], strlen(ev[i]), "bench", &e, NULL) == 0) {
                barra_free(e);
            }
        }
        double t1 = now();
        struct mon_options opt = {.lateness_ms = 60000, .on_alert = count_alert};
        struct mon_engine *eng = NULL;
        if (mon_engine_new(rs, &opt, &eng) < 0) {
            return 2;
        }
        alerts = 0;
        double t2 = now();
        for (size_t i = 0; i < n; i++) {
            struct mon_event *e = NULL;
            if (mon_event_from_json(ev[i], strlen(ev[i]), "bench", &e, NULL) == 0) {
                (void)mon_engine_push(eng, e);
            }
        }
        (void)mon_engine_flush(eng);
        double t3 = now();
        mon_engine_free(eng);
        best_parse = t1 - t0 < best_parse ? t1 - t0 : best_parse;
        best_engine = t3 - t2 < best_engine ? t3 - t2 : best_engine;
    }
    printf("%-34s %12.0f events/s\n", "parsing only (baseline)", (double)n / best_parse);
    printf("%-34s %12.0f events/s   %.2f of parsing, %llu alerts\n", "parsing + the rules",
           (double)n / best_engine, best_parse / best_engine, (unsigned long long)alerts);
    for (size_t i = 0; i < n; i++) {
        barra_free(ev[i]);
    }
    barra_free(ev);

    /* memory: one million distinct people, one login each, from a country */
    struct mon_options opt = {.lateness_ms = 0, .on_alert = count_alert};
    struct mon_engine *eng = NULL;
    if (mon_engine_new(rs, &opt, &eng) < 0) {
        return 2;
    }
    size_t before = in_use();
    size_t people = 1000000;
    char line[256];
    for (size_t i = 0; i < people; i++) {
        int k = snprintf(line, sizeof(line),
                         "{\"time\":\"2026-03-02T10:%02zu:%02zu+08:00\",\"actor\":\"person%07zu\","
                         "\"action\":\"login\",\"country\":\"%s\"}",
                         i * 60 / people, i * 3600 / people % 60, i, countries[i % 9]);
        struct mon_event *e = NULL;
        if (mon_event_from_json(line, (size_t)k, "bench", &e, NULL) == 0) {
            (void)mon_engine_push(eng, e);
        }
    }
    (void)mon_engine_flush(eng);
    size_t after = in_use();
    printf("%-34s %12.0f bytes per person (%zu MB for %zu people, each known to the two "
           "shipped rules that remember people: new country, dormant account)\n",
           "memory at 1,000,000 people", (double)(after - before) / (double)people,
           (after - before) >> 20, people);
    mon_engine_free(eng);
    mon_rules_free(rs);
    mon_calendar_free(cal);
    return 0;
}
