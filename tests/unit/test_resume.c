/* Resume arithmetic: Content-Range parsing and what an answer means. */
#include "resume.h"
#include "unit.h"

START_TEST(parsing) {
    long long a, b, n;
    ck_assert(hf_content_range_parse("bytes 100-199/1000", &a, &b, &n));
    ck_assert(a == 100 && b == 199 && n == 1000);
    ck_assert(hf_content_range_parse("bytes */1000", &a, &b, &n));
    ck_assert(a == -1 && n == 1000);
    ck_assert(hf_content_range_parse("bytes 0-25165823/25165824", &a, &b, &n));
    const char *bad[] = {NULL, "", "bytes", "bytes 1-2", "bytes 2-1/10", "bytes 1-10/10",
                         "bytes -1-2/3", "items 1-2/3", "bytes 1-2/3x", "bytes a-b/c",
                         "bytes 1-2/99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!hf_content_range_parse(bad[i], &a, &b, &n), "accepted %s", bad[i]);
}
END_TEST

START_TEST(decisions) {
    ck_assert_int_eq(hf_resume_decide(200, NULL, 0, 10), HF_RESUME_APPEND);
    ck_assert_int_eq(hf_resume_decide(200, NULL, 5, 10), HF_RESUME_RESTART);
    ck_assert_int_eq(hf_resume_decide(206, "bytes 5-9/10", 5, 10), HF_RESUME_APPEND);
    ck_assert_int_eq(hf_resume_decide(206, "bytes 5-7/10", 5, 10), HF_RESUME_APPEND);
    ck_assert_int_eq(hf_resume_decide(206, "bytes 0-9/10", 5, 10), HF_RESUME_BAD);
    ck_assert_int_eq(hf_resume_decide(206, "bytes 5-9/11", 5, 10), HF_RESUME_BAD);
    ck_assert_int_eq(hf_resume_decide(206, NULL, 5, 10), HF_RESUME_BAD);
    ck_assert_int_eq(hf_resume_decide(416, "bytes */10", 10, 10), HF_RESUME_COMPLETE);
    ck_assert_int_eq(hf_resume_decide(416, "bytes */12", 10, 10), HF_RESUME_RESTART);
    ck_assert_int_eq(hf_resume_decide(416, NULL, 3, 10), HF_RESUME_RESTART);
    ck_assert_int_eq(hf_resume_decide(500, NULL, 3, 10), HF_RESUME_BAD);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("resume");
    ADD_TEST(s, parsing);
    ADD_TEST(s, decisions);
    return s;
}
