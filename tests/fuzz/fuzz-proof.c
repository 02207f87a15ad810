/* SPDX-License-Identifier: Apache-2.0 */
/* Proofs in their JSON form, checked against a fixed signed checkpoint: malformed input is refused
 * and only a proof that holds is accepted. The key and checkpoint come from a log whose signing
 * key is 32 bytes of 0x11 (the seeds are proofs from that log). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <barra/audit.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char key[] = "barra/audit+f9c29b41+AdBKsjJ0K7SrOhNovUYV5ObQIkq3GgFrr4UgozLJd4c3";
static const char checkpoint[] =
    "barra/audit\n40\nGj1gbca0QIx9EC2mkhjek8L6lpHG44gXexblryhWOiA=\n\n"
    "\xe2\x80\x94 barra/audit "
    "+cKbQbSsBkgpJOnUl9ijYFot9ACOhaZFzo/DQlo3x4FMUvlgJQGxzux4dZGoy2pdSNC9nOeYmiGbcps6GRwfGGQVpQE=\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct barra_error err;
    int r = barra_audit_check_proof((const char *)data, size, checkpoint, sizeof(checkpoint) - 1,
                                    key, &err);
    if (r != 0 && r != -BARRA_EFORMAT && r != -BARRA_ERULES) {
        abort(); /* only "malformed" or "does not hold" */
    }
    return 0;
}
