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
    ck_assert_int_eq(hf_store_commit(&s, &e, fd, false, &changed, NULL), HF_OK);
    ck_assert(!changed);
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

/* Python's repr(float), the form of huggingface_hub's metadata time stamps (vectors made by
 * Python 3: repr(ns / 1e9) and a few edges). */
START_TEST(float_text_as_python) {
    static const struct {
        double x;
        const char *text;
    } v[] = {
        {1732999999.1234567, "1732999999.1234567"},
        {1732999999.0, "1732999999.0"},
        {1700000000.0, "1700000000.0"},
        {1e+16, "1e+16"},
        {1.5e+16, "1.5e+16"},
        {0.0001, "0.0001"},
        {1.234e-05, "1.234e-05"},
        {123.456, "123.456"},
        {0.5, "0.5"},
        {1764543123.9, "1764543123.9"},
        {1764543123.05, "1764543123.05"},
        {1756900062.3927493, "1756900062.3927493"},
        {1706958807.5929692, "1706958807.5929692"},
        {1713565570.6066656, "1713565570.6066656"},
        {1783988602.4399774, "1783988602.4399774"},
        {1730941268.702351, "1730941268.702351"},
        {1712386299.29565, "1712386299.29565"},
        {1760264960.0303695, "1760264960.0303695"},
        {1734683192.6550887, "1734683192.6550887"},
        {1779414276.4051313, "1779414276.4051313"},
        {1708518721.562561, "1708518721.562561"},
        {1781490466.7577112, "1781490466.7577112"},
        {1790882771.662549, "1790882771.662549"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char out[40];
        hf_store_float_text(v[i].x, out);
        ck_assert_str_eq(out, v[i].text);
    }
}
END_TEST

/* Local folders: hf download's names where they fit, the name's short hash where not. */
START_TEST(local_names_fit_name_max) {
    hf_repo repo = {HF_MODEL, "org/name"};
    hf_store s;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/names", root);
    ck_assert_int_eq(hf_store_open(&s, HF_STORE_DIR, dir, &repo, C40, true, NULL), HF_OK);
    hf_entry e = {.path = "a/config.json", .size = 13};
    memcpy(e.git_oid, OID, 41);
    char *rel = hf_store_incomplete_rel(&s, &e);
    /* base64.urlsafe_b64encode(sha1(b"config.json.metadata").digest()) */
    ck_assert_str_eq(rel, ".cache/huggingface/download/a/8_PA_wEVGiVa2goH2H4KQOQpvVY=." OID
                          ".incomplete");
    free(rel);
    rel = hf_store_lock_rel(&s, &e);
    ck_assert_str_eq(rel, ".cache/huggingface/download/a/config.json.lock");
    free(rel);
    char name[251];
    memset(name, 'n', 250);
    name[250] = '\0';
    rel = hf_store_metadata_rel(&s, name);
    /* base64.urlsafe_b64encode(sha1(b"n" * 250).digest()) */
    ck_assert_str_eq(rel, ".cache/huggingface/download/udz1YGHQ1BzDY4ZwByanxr-ghfk=.metadata");
    free(rel);
    hf_store_close(&s);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_add_unchecked_fixture(tc, setup, NULL);
    tcase_add_test(tc, cache_paths_and_commit);
    tcase_add_test(tc, changed_files_are_not_present);
    tcase_add_test(tc, default_cache);
    tcase_add_test(tc, float_text_as_python);
    tcase_add_test(tc, local_names_fit_name_max);
    suite_add_tcase(s, tc);
    return s;
}
