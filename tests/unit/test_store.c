/* Store layouts: paths, verification of what is present, moving into place, refs. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "store.h"
#include "unit.h"

#define C40 "0123456789abcdef0123456789abcdef01234567"
/* "Hello, World!" */
#define OID "b45ef6fec89518d314f546fd6c3025367b721684"
#define SHA "dffd6021bb2bd5b0af676290809ec3a53191dd81c7f70a4b28688a362182986f"

static char root[] = "/tmp/hf-store-XXXXXX";

static void setup(void) {
    ck_assert_ptr_nonnull(mkdtemp(root));
    unsetenv("HF_HUB_DISABLE_SYMLINKS");
}

static void put(const char *path, const char *text) {
    hf_mkparent(path, NULL);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

START_TEST(cache_paths_and_commit) {
    hf_repo repo = {HF_MODEL, "org/name"};
    hf_store s;
    ck_assert_int_eq(hf_store_open(&s, HF_STORE_CACHE, root, &repo, C40, true, NULL), HF_OK);
    hf_entry e = {.path = "a/b/c.txt", .size = 13};
    memcpy(e.git_oid, OID, 41);
    char *inc = hf_store_incomplete_path(&s, &e);
    char want[512];
    snprintf(want, sizeof want, "%s/models--org--name/blobs/" OID ".incomplete", root);
    ck_assert_str_eq(inc, want);
    char *lock = hf_store_lock_rel(&s, &e);
    ck_assert_str_eq(lock, ".locks/models--org--name/" OID ".lock");
    put(inc, "Hello, World!");
    int fd = open(inc, O_RDONLY);
    bool changed = true;
    ck_assert_int_eq(hf_store_commit(&s, &e, fd, &changed, NULL), HF_OK);
    ck_assert(!changed);
    close(fd);
    char *final = hf_store_final_path(&s, &e);
    char target[256] = "";
    ck_assert(readlink(final, target, sizeof target - 1) > 0);
    ck_assert_str_eq(target, "../../../../blobs/" OID);
    bool present;
    char sha[65];
    ck_assert_int_eq(hf_store_check(&s, &e, &present, sha, NULL), HF_OK);
    ck_assert(present);
    ck_assert_str_eq(sha, SHA);
    ck_assert_int_eq(hf_store_write_ref(&s, "refs/pr/1", NULL), HF_OK);
    char commit[41];
    ck_assert_int_eq(hf_store_read_ref(root, &repo, "refs/pr/1", commit, NULL), HF_OK);
    ck_assert_str_eq(commit, C40);
    ck_assert_int_eq(hf_store_read_ref(root, &repo, "main", commit, NULL), HF_ENOTFOUND);
    free(inc);
    free(lock);
    free(final);
    hf_store_close(&s);
}
END_TEST

START_TEST(changed_files_are_not_present) {
    hf_repo repo = {HF_MODEL, "org/name"};
    hf_store s;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/local", root);
    ck_assert_int_eq(hf_store_open(&s, HF_STORE_DIR, dir, &repo, C40, true, NULL), HF_OK);
    hf_entry e = {.path = "x.txt", .size = 13};
    memcpy(e.git_oid, OID, 41);
    char *final = hf_store_final_path(&s, &e);
    put(final, "Hello, World?"); /* same size, other bytes */
    bool present = true;
    char sha[65];
    ck_assert_int_eq(hf_store_check(&s, &e, &present, sha, NULL), HF_OK);
    ck_assert(!present);
    put(final, "Hello, World!");
    ck_assert_int_eq(hf_store_check(&s, &e, &present, sha, NULL), HF_OK);
    ck_assert(present);
    /* an LFS entry is checked by its sha256 */
    hf_entry lfs = {.path = "x.txt", .size = 13, .lfs = true};
    memcpy(lfs.sha256, SHA, 65);
    ck_assert_str_eq(hf_store_etag(&lfs), SHA);
    ck_assert_int_eq(hf_store_check(&s, &lfs, &present, sha, NULL), HF_OK);
    ck_assert(present);
    lfs.sha256[0] = 'e';
    ck_assert_int_eq(hf_store_check(&s, &lfs, &present, sha, NULL), HF_OK);
    ck_assert(!present);
    free(final);
    hf_store_close(&s);
}
END_TEST

START_TEST(default_cache) {
    setenv("HF_HUB_CACHE", "/x/hub-cache", 1);
    char *c = hf_store_default_cache();
    ck_assert_str_eq(c, "/x/hub-cache");
    free(c);
    unsetenv("HF_HUB_CACHE");
    unsetenv("HUGGINGFACE_HUB_CACHE");
    setenv("HF_HOME", "/y", 1);
    c = hf_store_default_cache();
    ck_assert_str_eq(c, "/y/hub");
    free(c);
    unsetenv("HF_HOME");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/u", 1);
    c = hf_store_default_cache();
    ck_assert_str_eq(c, "/home/u/.cache/huggingface/hub");
    free(c);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_add_unchecked_fixture(tc, setup, NULL);
    tcase_add_test(tc, cache_paths_and_commit);
    tcase_add_test(tc, changed_files_are_not_present);
    tcase_add_test(tc, default_cache);
    suite_add_tcase(s, tc);
    return s;
}
