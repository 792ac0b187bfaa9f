/* Shared scaffolding of the Check suites: each test file defines make_suite(). */
#ifndef HF_UNIT_H
#define HF_UNIT_H

#include <check.h>
#include <stdlib.h>

Suite *make_suite(void);

int main(void) {
    SRunner *sr = srunner_create(make_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* One test case per TCase, named after the test. */
#define ADD_TEST(suite, fn)                                                                        \
    do {                                                                                           \
        TCase *tc_ = tcase_create(#fn);                                                            \
        tcase_add_test(tc_, fn);                                                                   \
        suite_add_tcase(suite, tc_);                                                               \
    } while (0)

#endif
