/* Mapping the Hub's error answers to exit codes and messages. */
#include <string.h>

#include "hub_error.h"
#include "unit.h"

static hf_code map(long status, const char *code, const char *msg, const char *body, bool token,
                   hf_error *err) {
    hf_hub_answer a = {status, code, msg, "req-1", body, body ? strlen(body) : 0};
    hf_req_ctx ctx = {"org/name", "main", "a.txt", token};
    return hf_hub_error(&a, &ctx, err);
}

START_TEST(the_table) {
    hf_error e = {0};
    ck_assert_int_eq(map(401, "RepoNotFound", NULL, NULL, false, &e), HF_EAUTH);
    ck_assert_ptr_nonnull(strstr(e.msg, "private"));
    ck_assert_ptr_nonnull(strstr(e.msg, "req-1"));
    ck_assert_int_eq(map(404, "RepoNotFound", NULL, NULL, true, &e), HF_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, "org/name"));
    ck_assert_int_eq(map(404, "RevisionNotFound", NULL, NULL, false, &e), HF_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, "revision 'main'"));
    ck_assert_int_eq(map(404, "EntryNotFound", NULL, NULL, false, &e), HF_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, "a.txt"));
    ck_assert_int_eq(map(401, "GatedRepo", NULL, NULL, false, &e), HF_EAUTH);
    ck_assert_ptr_nonnull(strstr(e.msg, "token is needed"));
    ck_assert_int_eq(map(403, "GatedRepo", NULL, NULL, true, &e), HF_EAUTH);
    ck_assert_ptr_nonnull(strstr(e.msg, "request access"));
    ck_assert_int_eq(
        map(401, NULL, "Invalid credentials in Authorization header", NULL, true, &e), HF_EAUTH);
    ck_assert_ptr_nonnull(strstr(e.msg, "refused the token"));
    ck_assert_int_eq(map(403, NULL, NULL, "{\"error\":\"Access to this resource is disabled.\"}",
                         false, &e),
                     HF_EAUTH);
    ck_assert_ptr_nonnull(strstr(e.msg, "disabled"));
    ck_assert_int_eq(map(404, NULL, NULL, NULL, false, &e), HF_ENOTFOUND);
    ck_assert_int_eq(map(429, NULL, NULL, NULL, false, &e), HF_ENETWORK);
    ck_assert_int_eq(map(503, NULL, NULL, NULL, false, &e), HF_ENETWORK);
    ck_assert_int_eq(map(400, NULL, NULL, "{\"errors\":[{\"message\":\"bad thing\"}]}", false, &e),
                     HF_EOTHER);
    ck_assert_ptr_nonnull(strstr(e.msg, "bad thing"));
}
END_TEST

START_TEST(hostile_messages) {
    hf_error e = {0};
    char big[4000];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    map(500, NULL, big, NULL, false, &e);
    ck_assert(strlen(e.msg) < sizeof e.msg);
    map(403, NULL, "line1\r\nline2\x1b[31m", NULL, false, &e);
    for (const char *p = e.msg; *p; p++)
        ck_assert((unsigned char)*p >= 0x20 && *p != 0x7f);
    map(403, NULL, NULL, "{not json", false, &e);
    ck_assert_int_eq(e.code, HF_EAUTH);
    map(403, NULL, NULL, "{\"error\":17}", false, &e);
    ck_assert_int_eq(e.code, HF_EAUTH);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("hub_error");
    ADD_TEST(s, the_table);
    ADD_TEST(s, hostile_messages);
    return s;
}
