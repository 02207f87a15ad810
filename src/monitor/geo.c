/* SPDX-License-Identifier: Apache-2.0 */
/* Where an address is: a MaxMind-format database (GeoLite2/GeoIP2 City, DB-IP, or one made with
 * MaxMind's writer) that the user provides, read with libmaxminddb. Gives the country (ISO code)
 * and coordinates of an IP address, for impossible travel and for events that carry an address
 * but no country. */
#include "config.h"

#include <math.h>
#include <maxminddb.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "monitor/monitor.h"

#include "core/banned.h"

struct mon_geo {
    MMDB_s db;
};

int mon_geo_open(const char *path, struct mon_geo **ret, struct barra_error *err)
{
    *ret = NULL;
    struct mon_geo *g = barra_calloc(1, sizeof(*g));
    if (g == NULL) {
        return barra_error_set(err, -BARRA_ENOMEM, "out of memory");
    }
    int r = MMDB_open(path, MMDB_MODE_MMAP, &g->db);
    if (r != MMDB_SUCCESS) {
        barra_free(g);
        return barra_error_set(err, -BARRA_EINVAL, "%s: not a MaxMind-format database: %s", path,
                               MMDB_strerror(r));
    }
    *ret = g;
    return 0;
}

struct mon_geo *mon_geo_close(struct mon_geo *g)
{
    if (g) {
        MMDB_close(&g->db);
        barra_free(g);
    }
    return NULL;
}

bool mon_geo_lookup(const struct mon_geo *g, const char *ip, struct mon_place *ret)
{
    int gai = 0, mmdb = 0;
    MMDB_lookup_result_s res = MMDB_lookup_string((MMDB_s *)&g->db, ip, &gai, &mmdb);
    if (gai != 0 || mmdb != MMDB_SUCCESS || !res.found_entry) {
        return false;
    }
    memset(ret, 0, sizeof(*ret));
    MMDB_entry_data_s d;
    if (MMDB_get_value(&res.entry, &d, "country", "iso_code", NULL) == MMDB_SUCCESS && d.has_data &&
        d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size < sizeof(ret->country)) {
        memcpy(ret->country, d.utf8_string, d.data_size);
        ret->country[d.data_size] = '\0';
    }
    double lat = 0, lon = 0;
    bool has_lat = MMDB_get_value(&res.entry, &d, "location", "latitude", NULL) == MMDB_SUCCESS &&
                   d.has_data && d.type == MMDB_DATA_TYPE_DOUBLE;
    lat = has_lat ? d.double_value : 0;
    bool has_lon = MMDB_get_value(&res.entry, &d, "location", "longitude", NULL) == MMDB_SUCCESS &&
                   d.has_data && d.type == MMDB_DATA_TYPE_DOUBLE;
    lon = has_lon ? d.double_value : 0;
    ret->located = has_lat && has_lon && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180;
    ret->lat = lat;
    ret->lon = lon;
    return ret->country[0] || ret->located;
}

double mon_geo_km(double lat1, double lon1, double lat2, double lon2)
{
    /* the haversine formula on a sphere of the Earth's mean radius */
    const double r = 6371.0, rad = M_PI / 180;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * atan2(sqrt(a), sqrt(1 - a));
}
