/* Include and exclude patterns as `hf download` reads them. */
#include "filter.h"
#include "unit.h"

START_TEST(no_patterns_take_all) {
    hf_filter f = {0};
    ck_assert(hf_filter_is_empty(&f));
    ck_assert(hf_filter_match(&f, "anything/at/all"));
}
END_TEST

START_TEST(star_crosses_slash) {
    hf_filter f = {0};
    hf_filter_add(&f, true, "*.json");
    ck_assert(hf_filter_match(&f, "config.json"));
    ck_assert(hf_filter_match(&f, "tokenizer/tokenizer.json"));
    ck_assert(!hf_filter_match(&f, "model.safetensors"));
    ck_assert(!hf_filter_match(&f, "a.JSON"));
    hf_filter_free(&f);
}
END_TEST

START_TEST(trailing_slash_means_below) {
    hf_filter f = {0};
    hf_filter_add(&f, true, "sub dir/");
    ck_assert(hf_filter_match(&f, "sub dir/file with spaces.txt"));
    ck_assert(hf_filter_match(&f, "sub dir/a/b"));
    ck_assert(!hf_filter_match(&f, "sub dirx"));
    ck_assert(!hf_filter_match(&f, "other/sub dir/x"));
    hf_filter_free(&f);
}
END_TEST

START_TEST(exclude_wins) {
    hf_filter f = {0};
    hf_filter_add(&f, true, "*.bin");
    hf_filter_add(&f, true, "*.json");
    hf_filter_add(&f, false, "weights/*");
    ck_assert(hf_filter_match(&f, "pytorch_model.bin"));
    ck_assert(!hf_filter_match(&f, "weights/part-00001.bin"));
    ck_assert(hf_filter_match(&f, "config.json"));
    ck_assert(!hf_filter_match(&f, "README.md"));
    hf_filter_free(&f);
    hf_filter_add(&f, false, "*.md");
    ck_assert(hf_filter_match(&f, "config.json"));
    ck_assert(!hf_filter_match(&f, "README.md"));
    hf_filter_free(&f);
}
END_TEST

START_TEST(classes_and_questions) {
    hf_filter f = {0};
    hf_filter_add(&f, true, "shard-000[12]/*");
    hf_filter_add(&f, true, "f?.txt");
    ck_assert(hf_filter_match(&f, "shard-0001/x"));
    ck_assert(hf_filter_match(&f, "shard-0002/y/z"));
    ck_assert(!hf_filter_match(&f, "shard-0003/x"));
    ck_assert(hf_filter_match(&f, "f1.txt"));
    ck_assert(!hf_filter_match(&f, "f10.txt"));
    hf_filter_free(&f);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("filter");
    ADD_TEST(s, no_patterns_take_all);
    ADD_TEST(s, star_crosses_slash);
    ADD_TEST(s, trailing_slash_means_below);
    ADD_TEST(s, exclude_wins);
    ADD_TEST(s, classes_and_questions);
    return s;
}
