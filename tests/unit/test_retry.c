/* Retry policy: which answers are retried and how long to wait. */
#include "retry.h"
#include "unit.h"

START_TEST(retried_statuses) {
    long yes[] = {408, 429, 500, 502, 503, 504};
    long no[] = {200, 301, 400, 401, 403, 404, 416, 501, 505};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        ck_assert(hf_retry_status(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        ck_assert(!hf_retry_status(no[i]));
}
END_TEST

START_TEST(backoff) {
    ck_assert_int_eq(hf_retry_delay_ms(0, NULL, NULL), 1000);
    ck_assert_int_eq(hf_retry_delay_ms(1, NULL, NULL), 2000);
    ck_assert_int_eq(hf_retry_delay_ms(2, NULL, NULL), 4000);
    ck_assert_int_eq(hf_retry_delay_ms(3, NULL, NULL), 8000);
    ck_assert_int_eq(hf_retry_delay_ms(4, NULL, NULL), 8000);
    ck_assert_int_eq(hf_retry_delay_ms(9, NULL, NULL), 8000);
}
END_TEST

START_TEST(server_says) {
    ck_assert_int_eq(hf_retry_delay_ms(0, "3", NULL), 3000);
    ck_assert_int_eq(hf_retry_delay_ms(2, " 0 ", NULL), 0);
    ck_assert_int_eq(hf_retry_delay_ms(0, NULL, "\"api\";r=0;t=55"), 56000);
    ck_assert_int_eq(hf_retry_delay_ms(0, "3", "\"api\";r=0;t=1"), 2000);
    ck_assert_int_eq(hf_retry_delay_ms(0, "99999", NULL), 300000);
    /* unusable values fall back to the backoff */
    ck_assert_int_eq(hf_retry_delay_ms(1, "Wed, 21 Oct 2015 07:28:00 GMT", NULL), 2000);
    ck_assert_int_eq(hf_retry_delay_ms(1, "-5", NULL), 2000);
    ck_assert_int_eq(hf_retry_delay_ms(1, NULL, "\"api\";r=0;t=x"), 2000);
    ck_assert_int_eq(hf_retry_delay_ms(1, "99999999999999", NULL), 2000);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("retry");
    ADD_TEST(s, retried_statuses);
    ADD_TEST(s, backoff);
    ADD_TEST(s, server_says);
    return s;
}
