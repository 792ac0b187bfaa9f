/* The transfer engine's decisions: the budget of tries and resumes, and what a storage host's
 * refusal looks like. */
#include <string.h>

#include "retry.h"
#include "transfer.h"
#include "unit.h"

START_TEST(no_progress_spends_the_tries) {
    int tries = 0, resumes = 0, next = 0;
    long long mark = 500;
    long wait = 0;
    long expect[] = {1000, 2000, 4000, 8000, 8000};
    for (int i = 0; i < HF_MAX_RETRIES; i++) {
        /* an answer that brought no new byte (a 206 without a body, a resume that starts where
         * it stopped) is a failed try like any other, with the backoff */
        ck_assert(hf_xfer_budget(&tries, &resumes, &mark, 500, NULL, NULL, &wait, &next));
        ck_assert_int_eq(wait, expect[i]);
        ck_assert_int_eq(next, i + 2);
    }
    ck_assert(!hf_xfer_budget(&tries, &resumes, &mark, 500, NULL, NULL, &wait, &next));
    ck_assert_int_eq(resumes, 0);
}
END_TEST

START_TEST(progress_is_a_resume_and_resumes_are_capped) {
    int tries = 0, resumes = 0, next = 0;
    long long mark = 0;
    long wait = 0;
    ck_assert(hf_xfer_budget(&tries, &resumes, &mark, 0, NULL, NULL, &wait, &next));
    ck_assert(hf_xfer_budget(&tries, &resumes, &mark, 0, NULL, NULL, &wait, &next));
    ck_assert_int_eq(tries, 2);
    /* a server that sends one byte per connection for ever: each try moves on, so the tries
     * start afresh and it resumes at once, but no more than HF_XFER_MAX_RESUMES times */
    long long have = 0;
    for (int i = 0; i < HF_XFER_MAX_RESUMES; i++) {
        ck_assert(hf_xfer_budget(&tries, &resumes, &mark, ++have, NULL, NULL, &wait, &next));
        ck_assert_int_eq(tries, 0);
        ck_assert_int_eq(wait, 0);
        ck_assert_int_eq(next, 1);
    }
    /* a failure without progress after a resume backs off from the start again */
    ck_assert(hf_xfer_budget(&tries, &resumes, &mark, have, NULL, NULL, &wait, &next));
    ck_assert_int_eq(wait, 1000);
    ck_assert(!hf_xfer_budget(&tries, &resumes, &mark, ++have, NULL, NULL, &wait, &next));
    ck_assert_int_eq(resumes, HF_XFER_MAX_RESUMES + 1);
}
END_TEST

START_TEST(server_given_waits) {
    int tries = 0, resumes = 0, next = 0;
    long long mark = 0;
    long wait = 0;
    ck_assert(hf_xfer_budget(&tries, &resumes, &mark, 0, "3", NULL, &wait, &next));
    ck_assert_int_eq(wait, 3000);
    ck_assert(hf_xfer_budget(&tries, &resumes, &mark, 0, NULL, "\"api\";r=0;t=4", &wait, &next));
    ck_assert_int_eq(wait, 5000);
}
END_TEST

START_TEST(storage_refusals) {
    const char *expired = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied"
                          "</Code><Message>Request has expired</Message></Error>";
    ck_assert(hf_xfer_storage_refused(403, NULL, 0));
    ck_assert(hf_xfer_storage_refused(401, NULL, 0));
    ck_assert(hf_xfer_storage_refused(400, expired, strlen(expired)));
    ck_assert(hf_xfer_storage_refused(400, "Request has expired", 19));
    ck_assert(!hf_xfer_storage_refused(404, "<Code>NoSuchKey</Code>", 22));
    ck_assert(!hf_xfer_storage_refused(500, NULL, 0));
    ck_assert(!hf_xfer_storage_refused(200, expired, strlen(expired)));
    ck_assert(hf_xfer_is_redirect(307) && hf_xfer_is_redirect(302) && !hf_xfer_is_redirect(304));
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("transfer");
    ADD_TEST(s, no_progress_spends_the_tries);
    ADD_TEST(s, progress_is_a_resume_and_resumes_are_capped);
    ADD_TEST(s, server_given_waits);
    ADD_TEST(s, storage_refusals);
    return s;
}
