/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_main - one main() for every Check unit test: runs the suite and
 * writes TAP to stdout, so the test harness counts each test case.
 * A test file includes this once and defines `Suite *make_suite(void)`.
 */
#ifndef MXD_CHECK_MAIN_H
#define MXD_CHECK_MAIN_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * A case that cannot test here (no root, say) calls SKIP_CASE(why) and
 * returns: Check has no skip of its own, so the case still reads "ok", but
 * the line "# SKIP case NAME: why" is in its log, and tests/run-suite.sh
 * counts it as skipped, never as passed.
 */
#define SKIP_CASE(why) do { \
        printf("# SKIP case %s: %s\n", __func__, (why)); \
        fflush(stdout); \
        return; \
    } while (0)

Suite *make_suite(void);

int main(void)
{
    SRunner *sr = srunner_create(make_suite());
    int failed;

    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
