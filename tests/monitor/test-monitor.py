#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""`barra monitor` from the outside: rule errors with file, line and column; JSON Lines and CSV
input with bad events reported and the rest kept; state carried across runs; ECS, OCSF and CEF
output; the working calendar's time zones and holidays checked against Python's zoneinfo and the
holiday table itself (both independent of Barra's TZif reader and date arithmetic); places from a
MaxMind-format database written by MaxMind's own writer.

    test-monitor.py BARRA"""

import csv
import datetime
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import zoneinfo

BARRA = os.path.abspath(sys.argv[1])
ROOT = os.environ.get("BARRA_SOURCE_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
RULES = os.path.join(ROOT, "rules", "monitor")
checks = failures = 0


def check(cond, what):
    global checks, failures
    checks += 1
    if not cond:
        failures += 1
        print("FAIL: " + what, file=sys.stderr)


def barra(*args, stdin=None):
    p = subprocess.run([BARRA, "monitor", *args], input=stdin, capture_output=True, text=True,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr


def write(folder, name, text):
    path = os.path.join(folder, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def rule_errors(tmp):
    bad = {
        "field.yml": ("title: t\nid: a\ndetection:\n  s:\n    user: bob\n  condition: s\n",
                      ":5:5:", "unknown field \"user\""),
        "modifier.yml": ("title: t\nid: a\ndetection:\n  s:\n    actor|wide: bob\n  condition: s\n",
                         ":5:5:", "unknown modifier \"wide\""),
        "key.yml": ("title: t\nid: a\nseverity: high\ndetection:\n  s:\n    actor: b\n  condition: s\n",
                    ":3:1:", "unknown key \"severity\""),
        "condition.yml": ("title: t\nid: a\ndetection:\n  s:\n    actor: b\n  condition: s and t\n",
                          ":6:14:", "not a selection"),
        "ref.yml": ("title: t\nid: a\ncorrelation:\n  type: event_count\n  rules: [nope]\n"
                    "  group-by: [actor]\n  timespan: 1h\n  condition: {gte: 3}\n",
                    ":5:11:", "no rule has the id or name \"nope\""),
        "fewer.yml": ("title: b\nid: b\nname: b\ndetection:\n  s:\n    actor: x\n  condition: s\n---\n"
                      "title: t\nid: a\ncorrelation:\n  type: event_count\n  rules: [b]\n"
                      "  group-by: [actor]\n  timespan: 1h\n  condition: {lt: 3}\n",
                      ":16:15:", "fewer-than"),
        "regex.yml": ("title: t\nid: a\ndetection:\n  s:\n    resource|re: '(['\n  condition: s\n",
                      ":5:18:", "regular expression"),
        "costly.yml": ("title: t\nid: a\ndetection:\n  s:\n    resource|re: 'a+++++b'\n  condition: s\n",
                       ":5:18:", "too costly"),
        "offhours.yml": ("title: t\nid: a\ndetection:\n  s:\n    action: login\n  condition: s\n"
                         "x-barra:\n  off_hours: true\n", ":1:1:", "give a working calendar"),
    }
    for name, (text, where, message) in bad.items():
        folder = os.path.join(tmp, "bad-" + name.split(".")[0])
        path = write(folder, name, text)
        rc, out, err = barra("check", folder)
        check(rc == 2, "%s: check exits 2 (%d)" % (name, rc))
        check(path + where in err and message in err,
              "%s: error at %s saying %r (got %r)" % (name, where, message, err.strip()))
    rc, out, _ = barra("check", RULES)
    check(rc == 0 and "22 rules, all valid" in out, "the shipped rules load (%r)" % out)


def bulk_events(n, start="2026-03-02T10:00:00+08:00", actor="bob"):
    t0 = datetime.datetime.fromisoformat(start)
    return [{"time": (t0 + datetime.timedelta(seconds=5 * i)).isoformat(), "actor": actor,
             "action": "file_download", "resource": "doc-%d" % i} for i in range(n)]


def alerts(text):
    return [json.loads(line) for line in text.splitlines()]


def inputs(tmp):
    events = bulk_events(100)
    lines = [json.dumps(e) for e in events]
    lines.insert(10, '{"time": "yesterday", "actor": "bob", "action": "file_download"}')
    lines.insert(20, "not json")
    lines.insert(30, '{"time": "2026-03-02T10:00:00+08:00", "action": "login"}')
    path = write(tmp, "in/events.jsonl", "\n".join(lines) + "\n")
    rc, out, err = barra("run", "--rules", RULES, path)
    got = alerts(out)
    check(rc == 1, "rejected events make the exit status 1 (%d)" % rc)
    check("events.jsonl:11: error:" in err and "RFC 3339" in err, "a bad time is reported with its line")
    check("events.jsonl:21: error:" in err and "not JSON" in err, "a line that is not JSON is reported")
    check("events.jsonl:31: error:" in err and "\"actor\"" in err, "a missing actor is reported")
    check([a["rule"] for a in got] == ["barra-bulk-download"] and got[0]["count"] == 100,
          "the good events still give the bulk-download alert (%s)" % got)
    check(got and got[0]["time"] == "2026-03-02T10:08:15.000+08:00" and got[0]["actor"] == "bob"
          and len(got[0]["events"]) == 50 and got[0]["events"][-1] == "events.jsonl:103",
          "the alert's time, actor and events (%s)" % (got[0] if got else None))
    # the same events as CSV, with the columns in another order
    rows = [["resource", "actor", "time", "action"]] + [[e["resource"], e["actor"], e["time"],
                                                         e["action"]] for e in events]
    path = os.path.join(tmp, "in", "events.csv")
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    rc, out, err = barra("run", "--rules", RULES, path)
    got_csv = alerts(out)
    check(rc == 0 and [(a["rule"], a["count"], a["time"]) for a in got_csv] ==
          [(a["rule"], a["count"], a["time"]) for a in got], "CSV gives the same alert (%s)" % err)
    # standard input, and the formats
    stdin = "\n".join(json.dumps(e) for e in events)
    for fmt in ("ecs", "ocsf"):
        rc, out, _ = barra("run", "--rules", RULES, "--format", fmt, "-", stdin=stdin)
        doc = json.loads(out.splitlines()[0]) if rc == 0 and out else {}
        if fmt == "ecs":
            check(doc.get("event", {}).get("kind") == "alert" and doc["rule"]["id"] ==
                  "barra-bulk-download" and doc["user"]["name"] == "bob", "ECS alert: %s" % doc)
        else:
            check(doc.get("class_uid") == 2004 and doc.get("type_uid") == 200401 and
                  doc["finding_info"]["analytic"]["uid"] == "barra-bulk-download" and
                  doc["actor"]["user"]["name"] == "bob", "OCSF Detection Finding: %s" % doc)
    rc, out, _ = barra("run", "--rules", RULES, "--format", "cef", "-", stdin=stdin)
    check(rc == 0 and out.startswith("CEF:0|Barra|Barra|") and "|barra-bulk-download|" in out
          and " suser=bob " in out and "cs1=actor\\=bob" in out, "CEF alert: %r" % out[:200])


def state(tmp):
    events = bulk_events(100)
    first = write(tmp, "state/a.jsonl", "\n".join(json.dumps(e) for e in events[:60]) + "\n")
    second = write(tmp, "state/b.jsonl", "\n".join(json.dumps(e) for e in events[60:]) + "\n")
    st = os.path.join(tmp, "state", "monitor.state")
    # without a lateness allowance nothing waits in the reorder buffer between the runs
    rc1, out1, err1 = barra("run", "--rules", RULES, "--lateness", "0", "--state", st, first)
    rc2, out2, err2 = barra("run", "--rules", RULES, "--lateness", "0", "--state", st, second)
    check(rc1 == 0 and out1 == "" and os.path.exists(st), "the first half alerts nothing (%s)" % err1)
    got = alerts(out2)
    check(rc2 == 0 and [(a["rule"], a["count"]) for a in got] == [("barra-bulk-download", 100)],
          "the second half completes the window kept in the state file (%s %s)" % (out2, err2))
    check(oct(os.stat(st).st_mode & 0o777) == "0o600", "the state file is private")
    # with one, the events still held are saved with the windows and placed in the next run
    st2 = os.path.join(tmp, "state", "held.state")
    rc1, out1, _ = barra("run", "--rules", RULES, "--state", st2, first)
    rc2, out2, _ = barra("run", "--rules", RULES, "--state", st2, second)
    later = write(tmp, "state/c.jsonl", json.dumps(
        {"time": "2026-03-02T11:00:00+08:00", "actor": "zed", "action": "login"}) + "\n")
    rc3, out3, _ = barra("run", "--rules", RULES, "--state", st2, later)
    check(out1 == out2 == "" and [a["rule"] for a in alerts(out3)] == ["barra-bulk-download"],
          "held events wait in the state file until later events pass them (%r)" % out3)
    write(tmp, "state/broken.state", "{not a state")
    rc, _, err = barra("run", "--rules", RULES, "--state", os.path.join(tmp, "state", "broken.state"),
                       first)
    check(rc == 2 and "not a monitor state file" in err, "a broken state file is refused (%s)" % err)
    # an event later than the allowance is reported, not silently lost
    late = events[:50] + [events[49] | {"time": "2026-03-02T10:30:00+08:00", "actor": "zed"},
                          events[10] | {"resource": "late"}]
    rc, _, err = barra("run", "--rules", RULES, "-", stdin="\n".join(json.dumps(e) for e in late))
    check("stdin:52: warning:" in err and "1 too late" in err, "a late event is reported (%s)" % err)


def calendar_zone(tmp):
    """Off-hours in a zone with daylight saving, against Python's zoneinfo: 400 logins at seeded
    random moments over 2025-2027, each alerting exactly when New York's local time is outside
    Monday-Friday 09:00-17:00."""
    folder = os.path.join(tmp, "ny")
    write(folder, "calendar/default.yaml",
          'timezone: America/New_York\nhours: "09:00-17:00"\ndays: [mon, tue, wed, thu, fri]\n')
    write(folder, "login.yml", "title: Login\nid: login-off-hours\ndetection:\n  s:\n"
          "    action: login\n  condition: s\nx-barra:\n  off_hours: true\n")
    rnd = random.Random(20261205)
    zone = zoneinfo.ZoneInfo("America/New_York")
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc).timestamp()
    end = datetime.datetime(2027, 12, 31, tzinfo=datetime.timezone.utc).timestamp()
    moments = sorted(rnd.uniform(start, end) // 60 * 60 for _ in range(400))
    # around the daylight-saving changes too
    for day in ("2026-03-08", "2026-11-01"):
        base = datetime.datetime.fromisoformat(day + "T00:00:00+00:00").timestamp()
        moments += [base + h * 1800 for h in range(48)]
    moments = sorted(set(moments))
    events, expected = [], set()
    for i, m in enumerate(moments):
        utc = datetime.datetime.fromtimestamp(m, datetime.timezone.utc)
        local = utc.astimezone(zone)
        off = local.weekday() >= 5 or not (9 * 60 <= local.hour * 60 + local.minute < 17 * 60)
        events.append({"time": utc.strftime("%Y-%m-%dT%H:%M:%SZ"), "actor": "u%d" % i,
                       "action": "login"})
        if off:
            expected.add("u%d" % i)
    rc, out, err = barra("run", "--rules", folder, "-",
                         stdin="\n".join(json.dumps(e) for e in events))
    got = {a["actor"] for a in alerts(out)}
    check(rc == 0 and got == expected,
          "New York off-hours as zoneinfo says: %d expected, %d got, differing %s" %
          (len(expected), len(got), sorted(got ^ expected)[:5]))


def calendar_holidays(tmp):
    """Every full-day holiday of the shipped table at 10:00 Macau time is off-hours; the working
    day before each of them (when it is a weekday and not a holiday) is not."""
    table = open(os.path.join(RULES, "calendar", "macau-holidays.yaml"), encoding="utf-8").read()
    full, half = set(), set()
    for m in re.finditer(r"- date: (\d{4}-\d{2}-\d{2})\n((?:    .*\n)*)", table):
        (half if "half_day: afternoon" in m.group(2) else full).add(m.group(1))
    check(len(full) >= 60 and len(half) >= 4, "the table has its holidays (%d, %d)" % (len(full), len(half)))
    folder = os.path.join(tmp, "mo")
    os.makedirs(folder)
    write(folder, "login.yml", "title: Login\nid: login-off-hours\ndetection:\n  s:\n"
          "    action: login\n  condition: s\nx-barra:\n  off_hours: true\n")
    events, expected = [], set()
    for day in sorted(full | half):
        d = datetime.date.fromisoformat(day)
        events.append({"time": day + "T10:00:00+08:00", "actor": "h" + day, "action": "login"})
        if day in full:
            expected.add("h" + day)
        if day in half:
            events.append({"time": day + "T15:00:00+08:00", "actor": "a" + day, "action": "login"})
            expected.add("a" + day)
        before = d - datetime.timedelta(days=1)
        if before.weekday() < 5 and before.isoformat() not in full | half:
            events.append({"time": before.isoformat() + "T10:00:00+08:00", "actor": "w" + day,
                           "action": "login"})
    events.sort(key=lambda e: e["time"])
    rc, out, err = barra("run", "--rules", folder, "--calendar",
                         os.path.join(RULES, "calendar", "default.yaml"), "-",
                         stdin="\n".join(json.dumps(e) for e in events))
    got = {a["actor"] for a in alerts(out)}
    check(rc == 0 and got == expected, "holidays off, working days on: differing %s" %
          sorted(got ^ expected)[:6])
    # a table that has run out is warned about
    write(folder, "calendar/old.yaml", "valid_until: 2020-12-31\nholidays:\n"
          "  - {date: 2020-12-25, kind: public}\n")
    write(folder, "calendar/default.yaml", "timezone: Asia/Macau\nholidays:\n  file: old.yaml\n"
          "  kinds: [public]\n")
    rc, _, err = barra("check", folder)
    check(rc == 0 and "warning" in err and "2020-12-31" in err,
          "an expired holiday table is warned about (%s)" % err)


def geo(tmp):
    """Places from a MaxMind-format database written by MaxMind's own Perl writer: the rules'
    geo cases pass, and the distance an alert reports agrees with the haversine formula computed
    here."""
    db = os.path.join(tmp, "places.mmdb")
    subprocess.run(["perl", os.path.join(ROOT, "tests", "monitor", "make-mmdb.pl"), db], check=True)
    rc, out, err = barra("test", "--geoip", db, RULES, os.path.join(RULES, "tests", "geo"))
    check(rc == 0 and "0 failed" in out, "the geo cases pass: %s %s" % (out.strip(), err.strip()))
    events = [{"time": "2026-03-02T10:00:00+08:00", "actor": "a", "action": "login", "ip": "10.1.0.1"},
              {"time": "2026-03-02T12:00:00+08:00", "actor": "a", "action": "login", "ip": "10.2.0.1"}]
    rc, out, err = barra("run", "--rules", RULES, "--geoip", db, "--lateness", "0", "-",
                         stdin="\n".join(json.dumps(e) for e in events))
    got = [a for a in alerts(out) if a["rule"] == "barra-impossible-travel"]
    import math
    lat1, lon1, lat2, lon2 = map(math.radians, (22.1987, 113.5439, 51.5072, -0.1276))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    km = 2 * 6371.0 * math.asin(math.sqrt(h))
    m = re.match(r"MO to GB: (\d+) km in 2.0 h \((\d+) km/h\)", got[0].get("detail", "") if got else "")
    check(m and abs(int(m.group(1)) - km) < 1 and abs(int(m.group(2)) - km / 2) < 1,
          "Macau to London: %.0f km by the formula, the alert says %r" % (km, got[0].get("detail") if got else None))
    rc, _, err = barra("check", RULES)
    check(rc == 0 and "barra-impossible-travel" in err and "--geoip" in err,
          "without a database the travel rule is named as inactive (%s)" % err.strip())
    bad = write(tmp, "not.mmdb", "not a database")
    rc, _, err = barra("check", "--geoip", bad, RULES)
    check(rc == 2 and "not a MaxMind-format database" in err, "a bad database is refused (%s)" % err.strip())


def proxy_logs(tmp):
    """Plugin traffic from egress-proxy logs: Squid's native lines (with the server's address,
    placed by the database) and nginx's combined lines; malformed lines are refused by number."""
    db = os.path.join(tmp, "places.mmdb")
    if not os.path.exists(db):
        subprocess.run(["perl", os.path.join(ROOT, "tests", "monitor", "make-mmdb.pl"), db], check=True)
    squid = write(tmp, "proxy/access.log", "\n".join([
        "1772416800.123    250 10.0.0.5 TCP_TUNNEL/200 5120 CONNECT api.crm.example.mo:443 crm HIER_DIRECT/10.1.2.3 -",
        "1772416801.500     12 10.0.0.6 TCP_MISS/200 880 POST https://sync.example.com/v1/push hr HIER_DIRECT/10.2.7.7 application/json",
        "1772416802.000      3 10.0.0.6 TCP_DENIED/403 0 GET http://x.example/ - HIER_NONE/- text/html",
        "not a squid line",
    ]) + "\n")
    rc, out, err = barra("run", "--rules", RULES, "--geoip", db, "--input-format", "squid",
                         "--lateness", "0", squid)
    got = [(a["rule"], a["actor"]) for a in alerts(out)]
    check(rc == 1 and "access.log:4: error:" in err and "Squid" in err,
          "a malformed Squid line is refused by its number (%s)" % err.strip()[-200:])
    check(("barra-plugin-overseas", "hr") in got and ("barra-plugin-overseas", "crm") not in got,
          "Squid: the London server alerts, the Macau one is allowed (its region from the database): %s" % got)
    check(("barra-plugin-overseas", "10.0.0.6") in got,
          "a request without a user is the client address's, and a server of unknown region is not allowed: %s" % got)
    nginx = write(tmp, "proxy/nginx.log", "\n".join([
        '10.0.0.7 - hr-plugin [02/Mar/2026:10:00:00 +0800] "POST https://api.hr.example.sg/upload HTTP/1.1" 200 1234 "-" "curl/8"',
        '10.0.0.8 - - [02/Mar/2026:10:00:01 +0800] "CONNECT files.example.hk:443 HTTP/1.1" 200 0 "-" "x"',
        '10.0.0.9 - - [31/Feb/2026:10:00:01 +0800] "GET / HTTP/1.1" 200 0 "-" "x"',
        '10.0.0.9 - - [02/Mar/2026:10:00:01 +0800] "GET / HTTP/1.1" OK 0',
    ]) + "\n")
    rc, out, err = barra("run", "--rules", RULES, "--input-format", "nginx", "--lateness", "0", nginx)
    got = alerts(out)
    check(rc == 1 and "nginx.log:3: error:" in err and "nginx.log:4: error:" in err,
          "an impossible date and a status that is not a number are refused (%s)" % err.strip()[-300:])
    check([(a["rule"], a["actor"], a["time"]) for a in got][:1] ==
          [("barra-plugin-overseas", "hr-plugin", "2026-03-02T10:00:00.000+08:00")],
          "nginx: the user, the time in its own offset: %s" % got[:1])


def main():
    tmp = tempfile.mkdtemp(prefix="barra-monitor-")
    rule_errors(tmp)
    inputs(tmp)
    state(tmp)
    calendar_zone(tmp)
    calendar_holidays(tmp)
    geo(tmp)
    proxy_logs(tmp)
    print("%d checks, %d failed" % (checks, failures))
    sys.exit(1 if failures else 0)


main()
