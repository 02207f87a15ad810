/* SPDX-License-Identifier: Apache-2.0 */
/* One built-in detector for a whole test program: policies are compiled against it. */
#ifndef BARRA_TEST_POLICY_FIXTURE_H
#define BARRA_TEST_POLICY_FIXTURE_H

#include <barra/detect.h>

static barra_detector_t *detector;

static int setup(void **state)
{
    (void)state;
    return barra_detector_new(NULL, &detector, NULL);
}

static int teardown(void **state)
{
    (void)state;
    barra_detector_unref(detector);
    return 0;
}

#endif
