/* SPDX-License-Identifier: Apache-2.0 */
/* barra-serve: the program `barra serve` runs (core/helper.h); the gateway's libraries are loaded
 * by this program only. */
#include "config.h"

#include "cli/serve.h"

int main(int argc, char **argv)
{
    return cmd_serve(argc, argv);
}
