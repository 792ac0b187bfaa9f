/* Secrets: masked before a message is cut, found in server data. */
#include <jansson.h>
#include <string.h>

#include "error.h"
#include "hub_error.h"
#include "secret.h"
#include "unit.h"

#define TOKEN "made-up-secret-0123456789abcdef0123456789abcdef"

START_TEST(mask_then_shorten) {
    hf_secret_add(TOKEN);
    char out[64];
    hf_secret_mask("a " TOKEN " b", out, sizeof out);
    ck_assert_str_eq(out, "a *** b");
    /* the token straddles the cut: nothing of it shows, the cut is marked */
    char in[200];
    snprintf(in, sizeof in, "%s%s", "0123456789012345678901234567890123456789012345678", TOKEN);
    hf_secret_mask(in, out, sizeof out);
    ck_assert_str_eq(out, "0123456789012345678901234567890123456789012345678***");
    /* then shortened, the cut marked */
    snprintf(in, sizeof in, "%s%s%s", "0123456789012345678901234567890123456789012345678", TOKEN,
             " and the rest of a long message");
    hf_secret_mask(in, out, sizeof out);
    ck_assert_ptr_null(strstr(out, "made-up"));
    ck_assert_ptr_nonnull(strstr(out, "..."));
    ck_assert_int_eq(strlen(out), 63);
    hf_secret_mask("line\none", out, sizeof out);
    ck_assert_str_eq(out, "line one");
    hf_secret_clear();
    hf_secret_mask(TOKEN, out, sizeof out);
    ck_assert_str_eq(out, TOKEN);
}
END_TEST

START_TEST(messages_mask_first) {
    hf_secret_add(TOKEN);
    hf_error e = {0};
    char pad[2000];
    memset(pad, 'x', sizeof pad);
    pad[1010] = '\0'; /* the token starts 13 bytes before the 1023-byte cut of hf_fail */
    hf_fail(&e, HF_EOTHER, "%s%s tail", pad, TOKEN);
    ck_assert_ptr_null(strstr(e.msg, "made-up"));
    ck_assert_ptr_null(strstr(e.msg, "0123456789abcdef"));
    /* the Hub's message and request id, each cut to length by the mapping */
    char msg[400], rid[100];
    snprintf(msg, sizeof msg, "%.*s%s", 280, pad, TOKEN);
    snprintf(rid, sizeof rid, "%.*s%s", 50, pad, TOKEN);
    hf_hub_answer a = {500, NULL, msg, rid, NULL, 0};
    hf_req_ctx ctx = {"org/name", "main", NULL, true};
    hf_hub_error(&a, &ctx, &e);
    ck_assert_ptr_null(strstr(e.msg, "made-up"));
    ck_assert_ptr_null(strstr(e.msg, "01234567"));
    hf_secret_clear();
}
END_TEST

START_TEST(found_in_json) {
    json_t *v = json_pack("{s:[{s:s},{s:s}]}", "files", "path", "a.bin", "path", "b/" TOKEN);
    json_t *k = json_pack("{s:i}", TOKEN, 1);
    json_t *clean = json_pack("{s:s}", "path", "a.bin");
    ck_assert(!hf_secret_in_json(v)); /* no secret known yet */
    hf_secret_add(TOKEN);
    ck_assert(hf_secret_in_json(v));
    ck_assert(hf_secret_in_json(k));
    ck_assert(!hf_secret_in_json(clean));
    ck_assert(hf_secret_in("x" TOKEN, strlen(TOKEN) + 1));
    ck_assert(!hf_secret_in("x" TOKEN, 10));
    hf_secret_add("abc"); /* too short to be told from data: masked, not refused */
    ck_assert(!hf_secret_in("xabcx", 5));
    json_decref(v);
    json_decref(k);
    json_decref(clean);
    hf_secret_clear();
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("secret");
    ADD_TEST(s, mask_then_shorten);
    ADD_TEST(s, messages_mask_first);
    ADD_TEST(s, found_in_json);
    return s;
}
