/* Streaming hashes: sha256 and the git blob sha1. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "unit.h"

START_TEST(hello_world) {
    hf_hasher *h = hf_hasher_new(13);
    hf_hasher_update(h, "Hello, ", 7);
    hf_hasher_update(h, "World!", 6);
    char sha[65], oid[41];
    ck_assert(hf_hasher_final(h, sha, oid));
    ck_assert_str_eq(oid, "b45ef6fec89518d314f546fd6c3025367b721684");
    ck_assert_str_eq(sha, "dffd6021bb2bd5b0af676290809ec3a53191dd81c7f70a4b28688a362182986f");
    hf_hasher_free(h);
}
END_TEST

START_TEST(empty_and_wrong_size) {
    hf_hasher *h = hf_hasher_new(0);
    char sha[65], oid[41];
    ck_assert(hf_hasher_final(h, sha, oid));
    ck_assert_str_eq(oid, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"); /* git's empty blob */
    hf_hasher_free(h);
    h = hf_hasher_new(5);
    hf_hasher_update(h, "abc", 3);
    ck_assert(!hf_hasher_final(h, sha, oid));
    hf_hasher_free(h);
}
END_TEST

START_TEST(files) {
    char path[] = "/tmp/hf-hash-XXXXXX";
    int fd = mkstemp(path);
    ck_assert(write(fd, "Hello, World!", 13) == 13);
    close(fd);
    char sha[65], oid[41];
    long long seen;
    ck_assert(hf_hash_file(path, -1, sha, oid, &seen));
    ck_assert_int_eq(seen, 13);
    ck_assert_str_eq(oid, "b45ef6fec89518d314f546fd6c3025367b721684");
    ck_assert(hf_hash_file(path, 5, sha, oid, &seen)); /* "Hello" */
    ck_assert_str_eq(sha, "185f8db32271fe25f561a6fc938b2e264306ec304eda518007d1764826381969");
    ck_assert(!hf_hash_file(path, 20, sha, oid, &seen)); /* shorter than said */
    unlink(path);
    ck_assert(!hf_hash_file(path, -1, sha, oid, &seen));
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("hash");
    ADD_TEST(s, hello_world);
    ADD_TEST(s, empty_and_wrong_size);
    ADD_TEST(s, files);
    return s;
}
