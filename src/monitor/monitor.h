/* SPDX-License-Identifier: Apache-2.0 */
/* The activity monitor (docs/monitor.md): activity events (who did what, when, from where) run
 * through Sigma rules — single-event detections, correlations over time windows per group key —
 * and Barra's extensions (off-hours against a working calendar, first-seen values, dormant
 * accounts), giving alerts. Events are taken in event-time order: a reorder buffer holds each one
 * for the lateness allowance, so that events arriving out of order give the alerts they would
 * have given in order. */
#ifndef BARRA_MONITOR_MONITOR_H
#define BARRA_MONITOR_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <barra/error.h>

#include "core/buf.h"

/* ---- Activity events (activity.c) ---- */

/* The fields rules can name. Strings, except count and bytes, which are numbers too. */
enum mon_field {
    MF_ID,
    MF_ACTOR,
    MF_ACTION,
    MF_RESOURCE,
    MF_COUNT,
    MF_BYTES,
    MF_IP,
    MF_COUNTRY,
    MF_CLIENT,
    MF_DEVICE,
    MF_DEPARTMENT,
    MF_OUTCOME,
    MF_TIER,
    MF_PLUGIN,
    MF_DEST_HOST,
    MF_DEST_IP,
    MF_DEST_REGION,
    MF_SOURCE,
    MF_NFIELDS
};

/* The field's name in events and rules ("destination.host"), and the field of a name. */
const char *mon_field_name(enum mon_field f);
int mon_field_of(const char *name, enum mon_field *ret);

/* One event in one allocation: the strings follow the struct. */
struct mon_event {
    int64_t time_ms;    /* UTC */
    int32_t offset_min; /* the offset it was written with */
    uint64_t seq;       /* arrival order, for equal times */
    int64_t count, bytes;
    const char *f[MF_NFIELDS]; /* NUL-terminated; NULL when absent */
    char ref[48];              /* what alerts call it: its id, or "source:line" */
    /* from the geo database, when there is one and it knows the ip */
    char geo_country[8];
    bool located;
    double lat, lon;
    char geo_region[16]; /* destination.region from destination.ip's country, when missing */
};

/* Reads one JSON event (docs/monitor.md, "Activity events"). `ref` names it when it has no id.
 * Returns 0 with *ret owned (free with barra_free), or -BARRA_EFORMAT with err set. */
int mon_event_from_json(const char *text, size_t len, const char *ref, struct mon_event **ret,
                        struct barra_error *err);
/* The same, with the time and source taken from the defaults (a syslog header's) when the event
 * has none. */
int mon_event_from_json_at(const char *text, size_t len, const char *ref, const char *default_time,
                           const char *default_source, struct mon_event **ret,
                           struct barra_error *err);
/* An event from an RFC 5424 syslog message (without its transport framing): the MSG is a JSON
 * event, or the SD-ELEMENT "activity" (any SD-ID starting with it, such as activity@32473) holds
 * the fields as SD-PARAMs, or (APP-NAME squid or nginx) the MSG is a line of their access log;
 * the header's TIMESTAMP stands in for a missing time, and "syslog:HOSTNAME" for a missing
 * source. */
int mon_event_from_syslog(const char *msg, size_t len, const char *ref, struct mon_event **ret,
                          struct barra_error *err);
/* The same from a parsed JSON object (one of an array of events). */
struct jr_value;
int mon_event_from_jr(const struct jr_value *obj, const char *ref, const char *default_time,
                      const char *default_source, struct mon_event **ret, struct barra_error *err);
/* A plugin_sync event from an egress proxy's access log line (proxy-log.c): Squid's native
 * format, or nginx's "combined". */
int mon_event_from_squid(const char *line, size_t len, const char *ref, struct mon_event **ret,
                         struct barra_error *err);
int mon_event_from_nginx(const char *line, size_t len, const char *ref, struct mon_event **ret,
                         struct barra_error *err);
/* An event as JSON that mon_event_from_json reads back the same (its ref as "ref"). */
void mon_event_json(const struct mon_event *ev, struct buf *out);
/* An event from its fields' texts (CSV rows, log lines): names[i] = values[i]. */
int mon_event_from_fields(const char *const *names, const char *const *values, size_t n,
                          const char *ref, struct mon_event **ret, struct barra_error *err);

/* ---- Working calendar (calendar.c) ---- */

struct mon_calendar;

/* Loads a calendar file (docs/monitor.md, "Working calendar"); holiday files it names are read
 * relative to it. */
int mon_calendar_load(const char *path, struct mon_calendar **ret, struct barra_error *err);
struct mon_calendar *mon_calendar_free(struct mon_calendar *c);
/* Whether the moment is outside the working hours of the department (NULL: the default). */
bool mon_calendar_off_hours(const struct mon_calendar *c, int64_t time_ms, const char *department);
/* The last day the holiday table covers (packed YYYYMMDD), 0 when it has none. */
int32_t mon_calendar_valid_until(const struct mon_calendar *c);
/* The UTC offset, in seconds, of the calendar's time zone at a moment. */
int32_t mon_calendar_utc_offset(const struct mon_calendar *c, int64_t time_ms);

/* ---- Where addresses are (geo.c) ---- */

struct mon_geo;
struct mon_place {
    char country[8]; /* ISO 3166 code, "" when unknown */
    bool located;
    double lat, lon;
};

/* Opens a MaxMind-format database (GeoIP2/GeoLite2 City or alike) the user provides. */
int mon_geo_open(const char *path, struct mon_geo **ret, struct barra_error *err);
struct mon_geo *mon_geo_close(struct mon_geo *g);
/* Whether the database knows the address; fills what it knows. */
bool mon_geo_lookup(const struct mon_geo *g, const char *ip, struct mon_place *ret);
/* Great-circle distance in km. */
double mon_geo_km(double lat1, double lon1, double lat2, double lon2);

/* ---- Rules (rule-parse.c, rule-match.c) ---- */

struct mon_rules;

/* Loads every *.yml / *.yaml file of a directory (or one file): Sigma detection and correlation
 * rules, one or more YAML documents a file. The calendar (may be NULL) serves off-hours rules. */
int mon_rules_load(const char *path, const struct mon_calendar *cal, struct mon_rules **ret,
                   struct barra_error *err);
/* Gives the rules a geo database (may be NULL): events with an ip but no country get the
 * database's, and geo_velocity rules need it. Returns how many rules stay inactive for want of
 * one; *first names the first of them. */
size_t mon_rules_set_geo(struct mon_rules *r, const struct mon_geo *geo, const char **first);
const struct mon_geo *mon_rules_geo(const struct mon_rules *r);
/* The same from one file's text (NUL-terminated at len); `name` names it in errors. */
int mon_rules_from_text(const char *text, size_t len, const char *name,
                        const struct mon_calendar *cal, struct mon_rules **ret,
                        struct barra_error *err);
struct mon_rules *mon_rules_free(struct mon_rules *r);
size_t mon_rules_count(const struct mon_rules *r);

/* ---- The engine (engine.c) ---- */

struct mon_alert {
    const char *rule_id, *title, *level; /* the rule's */
    int64_t time_ms;                     /* the event that completed it */
    int32_t offset_min;
    const char *group;       /* "actor=alice" style, "" for single events */
    const char *actor;       /* when the rule concerns one actor */
    const char *const *refs; /* the events behind it, oldest first */
    size_t nrefs;
    uint64_t count;      /* events (or distinct values, or the sum) that made it */
    uint64_t suppressed; /* alerts of the same rule and group held back since the last */
    const char *const *articles, *const *controls;
    size_t narticles, ncontrols;
    const char *detail; /* e.g. the new value */
};

struct mon_options {
    int64_t lateness_ms; /* how late an event may arrive and still be placed in order */
    size_t max_keys;     /* per rule; the least recently seen are evicted beyond it */
    size_t max_pending;  /* events held in the reorder buffer at most */
    void (*on_alert)(void *ud, const struct mon_alert *a);
    void *userdata;
};

struct mon_stats {
    uint64_t events, late, evicted, alerts, suppressed, pending;
};

struct mon_engine;

int mon_engine_new(const struct mon_rules *rules, const struct mon_options *opt,
                   struct mon_engine **ret);
struct mon_engine *mon_engine_free(struct mon_engine *e);
/* Takes an event (owned from now on). Alerts come through on_alert as events leave the reorder
 * buffer. Returns 0, 1 when the event was too late to be placed (dropped, counted), or
 * -BARRA_ENOMEM. */
int mon_engine_push(struct mon_engine *e, struct mon_event *ev);
/* Moves the engine's clock on to `now_ms` (wall-clock time, when no events come) and processes
 * the held events older than now_ms minus the lateness allowance. */
int mon_engine_advance(struct mon_engine *e, int64_t now_ms);
/* Processes every event still held (the end of the input). */
int mon_engine_flush(struct mon_engine *e);
void mon_engine_stats(const struct mon_engine *e, struct mon_stats *ret);

/* State across restarts (state.c): windows, seen values, suppression, and the events still held
 * in the reorder buffer, written atomically to a file and read back. */
int mon_engine_save(const struct mon_engine *e, const char *path, struct barra_error *err);
int mon_engine_restore(struct mon_engine *e, const char *path, struct barra_error *err);

/* ---- Alerts as text (alert.c) ---- */

/* A moment as an RFC 3339 time in the offset given: 2026-11-23T10:00:00.000+08:00 (29 bytes
 * and a NUL fit in 32; fewer when cap is smaller). mon_write_time appends it in JSON quotes. */
void mon_format_time(char *out, size_t cap, int64_t ms, int32_t offset_min);
void mon_write_time(struct buf *b, int64_t ms, int32_t offset_min);
/* A duration: "30s", "15m", "24h", "30d" (at most ten years). -1 when it is not one. */
int mon_parse_span(const char *s, int64_t *ret_ms);
/* One alert as a JSON object (docs/monitor.md, "Alerts"), no newline. */
int mon_alert_json(const struct mon_alert *a, struct buf *out);
/* ECS and OCSF (Detection Finding) JSON, and CEF. */
int mon_alert_ecs(const struct mon_alert *a, struct buf *out);
int mon_alert_ocsf(const struct mon_alert *a, struct buf *out);
int mon_alert_cef(const struct mon_alert *a, struct buf *out);

#endif
