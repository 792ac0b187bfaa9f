/* Repository ids, types and revisions. */
#include <string.h>

#include "repo.h"
#include "unit.h"

START_TEST(repo_ids_accepted) {
    const char *good[] = {"gpt2", "openai/whisper-tiny", "a/b", "A_b.c-d/x.y_z", "x1/y2",
                          "bert-base-uncased", "org/n.a.m.e"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        ck_assert_msg(hf_repo_id_check(good[i], NULL) == HF_OK, "%s refused", good[i]);
}
END_TEST

START_TEST(repo_ids_refused) {
    char long_id[120];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    const char *bad[] = {"", "/", "a/", "/b", "a/b/c", "a--b/c", "a/b..c", "-a/b", "a./b",
                         "a/b-", "a b/c", "a/é", "a\nb", "../x", "a/.b", long_id, "a//b"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hf_error err = {0};
        ck_assert_msg(hf_repo_id_check(bad[i], &err) == HF_EUSAGE, "'%s' accepted", bad[i]);
        ck_assert_int_eq(err.code, HF_EUSAGE);
        ck_assert_ptr_null(strchr(err.msg, '\n'));
    }
}
END_TEST

START_TEST(revisions) {
    const char *good[] = {"main", "v1.0", "refs/pr/1", "feature/x-y",
                          "0123456789abcdef0123456789abcdef01234567", "HEAD", "refs/convert/parquet"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        ck_assert_msg(hf_revision_check(good[i], NULL) == HF_OK, "%s refused", good[i]);
    const char *bad[] = {"", "ma\tin", "a\x01", "a b", "a..b", "/main", "main/", "a//b",
                         "x.lock", "a~1", "a^", "a:b", "a?", "a*", "a[", "a\\b", "@", "a@{1}",
                         ".hidden", "a/.b", "main."};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hf_error err = {0};
        ck_assert_msg(hf_revision_check(bad[i], &err) == HF_EUSAGE, "'%s' accepted", bad[i]);
        for (const char *p = err.msg; *p; p++)
            ck_assert_msg((unsigned char)*p >= 0x20, "control byte in message");
    }
}
END_TEST

START_TEST(types_and_names) {
    hf_repo_type t;
    ck_assert(hf_repo_type_parse("dataset", &t) && t == HF_DATASET);
    ck_assert(hf_repo_type_parse("spaces", &t) && t == HF_SPACE);
    ck_assert(hf_repo_type_parse("model", &t) && t == HF_MODEL);
    ck_assert(!hf_repo_type_parse("Model", &t));
    ck_assert(!hf_repo_type_parse("", &t));
    ck_assert_str_eq(hf_repo_type_api(HF_DATASET), "datasets");
    ck_assert_str_eq(hf_repo_type_url_prefix(HF_MODEL), "");
    ck_assert_str_eq(hf_repo_type_url_prefix(HF_SPACE), "spaces/");
    hf_repo r = {HF_DATASET, "org/name"};
    char *n = hf_repo_cache_name(&r);
    ck_assert_str_eq(n, "datasets--org--name");
    free(n);
    hf_repo solo = {HF_MODEL, "gpt2"};
    n = hf_repo_cache_name(&solo);
    ck_assert_str_eq(n, "models--gpt2");
    free(n);
}
END_TEST

START_TEST(commits_and_hex) {
    ck_assert(hf_is_commit("0123456789abcdef0123456789abcdef01234567"));
    ck_assert(!hf_is_commit("0123456789ABCDEF0123456789abcdef01234567"));
    ck_assert(!hf_is_commit("0123456789abcdef0123456789abcdef0123456"));
    ck_assert(!hf_is_commit("0123456789abcdef0123456789abcdef012345678"));
    ck_assert(!hf_is_commit("main"));
    ck_assert(!hf_is_commit(NULL));
    ck_assert(hf_is_hex("ab", 2));
    ck_assert(!hf_is_hex("ag", 2));
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("repo");
    ADD_TEST(s, repo_ids_accepted);
    ADD_TEST(s, repo_ids_refused);
    ADD_TEST(s, revisions);
    ADD_TEST(s, types_and_names);
    ADD_TEST(s, commits_and_hex);
    return s;
}
