/* SPDX-License-Identifier: Apache-2.0 */
/* Compiling a rules directory (rules/entities/ layout, docs/entities.md) into a catalogue, and the
 * catalogue's binary form that is embedded in the library and loaded at start-up. */
#ifndef BARRA_DETECT_RULES_H
#define BARRA_DETECT_RULES_H

#include <stddef.h>
#include <stdint.h>

#include <barra/error.h>

#include "core/buf.h"
#include "detect/detect-int.h"

/* Compiles dir/catalog.yaml and dir/types/\*.yaml. Returns owned; free with det_catalog_free(). */
int det_catalog_compile(const char *dir, struct det_catalog **ret, struct barra_error *reterr);

/* Appends the binary form of c to out (the Vectorscan database included, for this CPU family). */
int det_catalog_serialize(const struct det_catalog *c, struct buf *out);

/* Loads a binary catalogue. If its Vectorscan database does not fit this CPU or library, the
 * database is rebuilt from the literals it carries. Returns owned; free with det_catalog_free(). */
int det_catalog_load(const void *data, size_t len, struct det_catalog **ret,
                     struct barra_error *reterr);

/* Computes the fields derived from the keywords (done by both of the above). */
void det_catalog_derive(struct det_catalog *c);

/* (Re)builds the keyword databases c->hs from c->keywords. */
int det_catalog_build_hs(struct det_catalog *c, struct barra_error *reterr);

#endif
