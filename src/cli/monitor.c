/* SPDX-License-Identifier: Apache-2.0 */
/* `barra monitor`: run activity rules over event files and print alerts, check rules, or run the
 * rules' test cases (events → expected alerts, out-of-order arrival and restarts included). */
#include "config.h"

#include "cli/monitor.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/monitor-input.h"
#include "core/alloc.h"
#include "core/date.h"
#include "monitor/monitor.h"

static const char monitor_usage[] =
    "Usage: barra monitor run --rules DIR [OPTIONS] EVENTS...\n"
    "       barra monitor test [OPTIONS] RULES CASES...\n"
    "       barra monitor check [OPTIONS] RULES\n"
    "\n"
    "run    reads activity events (JSON Lines or CSV; - is standard input) in event-time order\n"
    "       and prints one alert a line\n"
    "test   runs test cases (YAML: events and the alerts they must give, docs/monitor.md)\n"
    "       against the rules; prints each failure and a summary\n"
    "check  loads the rules and reports every error with its file, line and column\n"
    "\n"
    "Options\n"
    "  --rules DIR           the rules (a folder of *.yml/*.yaml, or one file)\n"
    "  --calendar FILE       the working calendar for off-hours rules (default:\n"
    "                        RULES/calendar/default.yaml when it exists)\n"
    "  --geoip FILE          a MaxMind-format database (GeoIP2/GeoLite2 City): countries for\n"
    "                        events with an ip but no country, and impossible travel\n"
    "  -f, --format FMT      run: alerts as json (default), ecs, ocsf or cef\n"
    "  --input-format FMT    run: jsonl, csv, squid or nginx (access logs of an egress proxy:\n"
    "                        plugin traffic); default: csv for *.csv, else jsonl\n"
    "  --lateness DURATION   how late an event may arrive and still be put in order (default 5m)\n"
    "  --state FILE          run: restore the windows from FILE first and save them there at\n"
    "                        the end, so that a later run goes on where this one stopped\n"
    "  --max-keys N          groups kept per rule before the least recently seen are evicted\n"
    "                        (default 1000000)\n"
    "  -v, --verbose         test: list passing cases too\n"
    "\n"
    "Exit status: 0 success, 1 an event was rejected or a case failed, 2 a usage or rule error.\n"
    "See barra-monitor(1) and docs/monitor.md.\n";

enum {
    OPT_RULES = 256,
    OPT_CALENDAR,
    OPT_INPUT_FORMAT,
    OPT_LATENESS,
    OPT_STATE,
    OPT_MAX_KEYS,
    OPT_GEOIP
};

static const struct option monitor_options[] = {
    {"rules", required_argument, NULL, OPT_RULES},
    {"calendar", required_argument, NULL, OPT_CALENDAR},
    {"geoip", required_argument, NULL, OPT_GEOIP},
    {"format", required_argument, NULL, 'f'},
    {"input-format", required_argument, NULL, OPT_INPUT_FORMAT},
    {"lateness", required_argument, NULL, OPT_LATENESS},
    {"state", required_argument, NULL, OPT_STATE},
    {"max-keys", required_argument, NULL, OPT_MAX_KEYS},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void print_error(const struct barra_error *err)
{
    if (err->file[0] && err->line) {
        fprintf(stderr, "%s:%u:%u: error: %s\n", err->file, err->line, err->column, err->message);
    } else {
        fprintf(stderr, "barra: %s\n", err->message);
    }
}

/* The rules and their calendar: --calendar, else RULES/calendar/default.yaml if there is one. */
int monitor_load(const struct monitor_args *a, const char *rules, struct mon_calendar **cal,
                 struct mon_rules **rs)
{
    struct barra_error err = {0};
    char def[1024];
    const char *calendar = a->calendar;
    struct stat st;
    (void)snprintf(def, sizeof(def), "%s/calendar/default.yaml", rules);
    if (calendar == NULL && stat(def, &st) == 0) {
        calendar = def;
    }
    *cal = NULL;
    *rs = NULL;
    if (calendar && mon_calendar_load(calendar, cal, &err) < 0) {
        print_error(&err);
        return 2;
    }
    struct mon_geo *geo = NULL;
    if (a->geoip && mon_geo_open(a->geoip, &geo, &err) < 0) {
        print_error(&err);
        *cal = mon_calendar_free(*cal);
        return 2;
    }
    if (mon_rules_load(rules, *cal, rs, &err) < 0) {
        print_error(&err);
        *cal = mon_calendar_free(*cal);
        mon_geo_close(geo);
        return 2;
    }
    const char *first = NULL;
    size_t inactive = mon_rules_set_geo(*rs, geo, &first);
    if (inactive) {
        fprintf(stderr,
                "barra: warning: %zu rule%s (%s%s) need%s a MaxMind-format database (--geoip) and "
                "stay%s inactive\n",
                inactive, inactive == 1 ? "" : "s", first, inactive > 1 ? ", …" : "",
                inactive == 1 ? "s" : "", inactive == 1 ? "s" : "");
    }
    if (*cal && mon_calendar_valid_until(*cal)) {
        int32_t until = mon_calendar_valid_until(*cal);
        int32_t today = date_today();
        int32_t days_left = date_to_days(until / 10000, until / 100 % 100, until % 100) -
                            date_to_days(today / 10000, today / 100 % 100, today % 100);
        if (days_left < 90) {
            fprintf(stderr,
                    "barra: warning: the holiday table of the working calendar ends on "
                    "%04d-%02d-%02d%s: add the next year's public holidays\n",
                    until / 10000, until / 100 % 100, until % 100,
                    days_left < 0 ? " (already past)" : "");
        }
    }
    return 0;
}

void monitor_unload(struct mon_calendar *cal, struct mon_rules *rs)
{
    if (rs) {
        struct mon_geo *geo = (struct mon_geo *)mon_rules_geo(rs);
        mon_rules_free(rs);
        mon_geo_close(geo);
    }
    mon_calendar_free(cal);
}

static void print_alert(void *ud, const struct mon_alert *al)
{
    const struct monitor_args *a = ud;
    struct buf b;
    buf_init(&b, 1 << 22);
    int r = a->format == 1   ? mon_alert_ecs(al, &b)
            : a->format == 2 ? mon_alert_ocsf(al, &b)
            : a->format == 3 ? mon_alert_cef(al, &b)
                             : mon_alert_json(al, &b);
    if (r == 0 && !b.err) {
        fwrite(b.data, 1, b.len, stdout);
        fputc('\n', stdout);
    }
    buf_done(&b);
}

static int run(struct monitor_args *a, int n, char **files)
{
    if (a->rules == NULL) {
        fprintf(stderr, "barra monitor run: --rules DIR is required\n");
        return 2;
    }
    struct mon_calendar *cal;
    struct mon_rules *rs;
    int rc = monitor_load(a, a->rules, &cal, &rs);
    if (rc) {
        return rc;
    }
    struct mon_options opt = {.lateness_ms = a->lateness_ms,
                              .max_keys = a->max_keys,
                              .on_alert = print_alert,
                              .userdata = a};
    struct mon_engine *e = NULL;
    struct barra_error err = {0};
    if (mon_engine_new(rs, &opt, &e) < 0) {
        fprintf(stderr, "barra: out of memory\n");
        rc = 2;
    } else if (a->state && mon_engine_restore(e, a->state, &err) < 0) {
        print_error(&err);
        rc = 2;
    }
    uint64_t rejected = 0;
    for (int i = 0; rc == 0 && i < (n ? n : 1); i++) {
        rc = monitor_read_events(a, n ? files[i] : "-", e, &rejected);
    }
    if (rc == 0 && a->state) {
        if (mon_engine_save(e, a->state, &err) < 0) {
            print_error(&err);
            rc = 2;
        }
    } else if (rc == 0 && mon_engine_flush(e) < 0) {
        fprintf(stderr, "barra: out of memory\n");
        rc = 2;
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "barra: cannot write the alerts\n");
        rc = 2;
    }
    struct mon_stats st;
    if (e) {
        mon_engine_stats(e, &st);
        fprintf(stderr,
                "barra monitor: %llu events, %llu alerts (%llu held back as repeats), %llu too "
                "late to place, %llu rejected, %llu groups evicted%s\n",
                (unsigned long long)st.events, (unsigned long long)st.alerts,
                (unsigned long long)st.suppressed, (unsigned long long)st.late,
                (unsigned long long)rejected, (unsigned long long)st.evicted,
                a->state ? "; the latest events wait in the state file" : "");
    }
    mon_engine_free(e);
    monitor_unload(cal, rs);
    return rc ? rc : rejected ? 1 : 0;
}

static int check(struct monitor_args *a, const char *rules)
{
    struct mon_calendar *cal;
    struct mon_rules *rs;
    int rc = monitor_load(a, rules, &cal, &rs);
    if (rc == 0) {
        printf("%s: %zu rules, all valid\n", rules, mon_rules_count(rs));
    }
    monitor_unload(cal, rs);
    return rc;
}

int cmd_monitor(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(monitor_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    struct monitor_args a = {.lateness_ms = 300000};
    optind = 1;
    int c;
    while ((c = getopt_long(argc - 1, argv + 1, "f:vh", monitor_options, NULL)) != -1) {
        switch (c) {
        case OPT_RULES:
            a.rules = optarg;
            break;
        case OPT_CALENDAR:
            a.calendar = optarg;
            break;
        case OPT_GEOIP:
            a.geoip = optarg;
            break;
        case 'f':
            a.format = strcmp(optarg, "json") == 0   ? 0
                       : strcmp(optarg, "ecs") == 0  ? 1
                       : strcmp(optarg, "ocsf") == 0 ? 2
                       : strcmp(optarg, "cef") == 0  ? 3
                                                     : -1;
            if (a.format < 0) {
                fprintf(stderr, "barra monitor: --format is json, ecs, ocsf or cef\n");
                return 2;
            }
            break;
        case OPT_INPUT_FORMAT:
            if (strcmp(optarg, "jsonl") && strcmp(optarg, "csv") && strcmp(optarg, "squid") &&
                strcmp(optarg, "nginx")) {
                fprintf(stderr, "barra monitor: --input-format is jsonl, csv, squid or nginx\n");
                return 2;
            }
            a.input_format = optarg;
            break;
        case OPT_LATENESS:
            if (strcmp(optarg, "0") == 0) {
                a.lateness_ms = 0;
            } else if (mon_parse_span(optarg, &a.lateness_ms) < 0) {
                fprintf(stderr, "barra monitor: --lateness is a duration: 0, 30s, 5m, 1h\n");
                return 2;
            }
            break;
        case OPT_STATE:
            a.state = optarg;
            break;
        case OPT_MAX_KEYS: {
            char *end = NULL;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (end == optarg || *end || v == 0 || v > 100000000ULL) {
                fprintf(stderr, "barra monitor: --max-keys is a number from 1 to 100000000\n");
                return 2;
            }
            a.max_keys = (size_t)v;
            break;
        }
        case 'v':
            a.verbose = true;
            break;
        case 'h':
            fputs(monitor_usage, stdout);
            return 0;
        default:
            fputs(monitor_usage, stderr);
            return 2;
        }
    }
    /* argv[1], the subcommand, stood in for the program name: the operands follow the options */
    int rest = argc - 1 - optind;
    char **args = argv + 1 + optind;
    if (strcmp(sub, "run") == 0) {
        return run(&a, rest, args);
    }
    if (strcmp(sub, "check") == 0 && rest == 1) {
        return check(&a, args[0]);
    }
    if (strcmp(sub, "test") == 0 && rest >= 2) {
        return monitor_test(&a, args[0], rest - 1, args + 1);
    }
    fprintf(stderr, "barra monitor: unknown or incomplete subcommand \"%s\"\n\n%s", sub,
            monitor_usage);
    return 2;
}
