/* SPDX-License-Identifier: Apache-2.0 */
/* barra-extract-worker: reads one file for Barra in a confined process (extract/extract-worker.h);
 * the extractors' libraries are loaded by this program only. */
#include "config.h"

#include "extract/extract-worker.h"

int main(int argc, char **argv)
{
    return ex_worker_main(argc, argv);
}
