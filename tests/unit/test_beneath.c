/* Writes below a root: made where asked, never through a link, by openat2 and by the walk. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"
#include "unit.h"

static char dir[] = "/tmp/hf-beneath-XXXXXX";
static char rootdir[300], outside[300];

static void setup(void) {
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* A fresh root and an outside folder for each run of a test (a number keeps them apart). */
static void fresh(const char *tag, int walk) {
    snprintf(rootdir, sizeof rootdir, "%s/%s-%d/root", dir, tag, walk);
    snprintf(outside, sizeof outside, "%s/%s-%d/outside", dir, tag, walk);
    char parent[320];
    snprintf(parent, sizeof parent, "%s/%s-%d", dir, tag, walk);
    ck_assert_int_eq(mkdir(parent, 0755), 0);
    ck_assert_int_eq(mkdir(outside, 0755), 0);
    hf_beneath_use_openat2(!walk);
}

static bool empty_outside(void) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", outside);
    return system(cmd) == 0;
}

static void plant(const char *rel) {
    char at[400];
    snprintf(at, sizeof at, "%s/%s", rootdir, rel);
    ck_assert_int_eq(symlink(outside, at), 0);
}

START_TEST(writes_below_and_makes_folders) {
    fresh("make", _i);
    hf_root r;
    ck_assert_int_eq(hf_root_open(&r, rootdir, true, NULL), HF_OK);
    ck_assert_int_eq(hf_beneath_write(&r, "a/b/c.txt", "hi\n", 3, true, NULL), HF_OK);
    char *data = NULL;
    size_t len = 0;
    ck_assert_int_eq(hf_beneath_read(&r, "a/b/c.txt", 100, &data, &len, NULL), HF_OK);
    ck_assert_str_eq(data, "hi\n");
    free(data);
    ck_assert_int_eq(hf_beneath_rename(&r, "a/b/c.txt", "x/y.txt", NULL), HF_OK);
    struct stat st;
    ck_assert_int_eq(hf_beneath_lstat(&r, "x/y.txt", &st, NULL), HF_OK);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_int_eq(hf_beneath_lstat(&r, "a/b/c.txt", &st, NULL), HF_ENOTFOUND);
    ck_assert_int_eq(hf_beneath_lstat(&r, "no/such/thing", &st, NULL), HF_ENOTFOUND);
    ck_assert_int_eq(hf_beneath_symlink(&r, "../x/y.txt", "l/link"), 0);
    ck_assert_int_eq(hf_beneath_lstat(&r, "l/link", &st, NULL), HF_OK);
    ck_assert(S_ISLNK(st.st_mode));
    ck_assert_int_eq(hf_beneath_unlink(&r, "l/link"), 0);
    hf_root_close(&r);
}
END_TEST

START_TEST(folder_links_are_refused) {
    fresh("refuse", _i);
    hf_root r;
    ck_assert_int_eq(hf_root_open(&r, rootdir, true, NULL), HF_OK);
    ck_assert_int_eq(mkdir(strcat(strcpy((char[400]){0}, rootdir), "/a"), 0755), 0);
    plant("a/b");
    plant("top");
    hf_error err = {0};
    ck_assert_int_eq(hf_beneath_write(&r, "a/b/c.txt", "x", 1, false, &err), HF_EINTEGRITY);
    ck_assert_ptr_nonnull(strstr(err.msg, "/a/b"));
    ck_assert_ptr_nonnull(strstr(err.msg, "link"));
    int fd = 7;
    ck_assert_int_eq(hf_beneath_open(&r, "top/f", O_WRONLY | O_CREAT, 0644, &fd, &err),
                     HF_EINTEGRITY);
    ck_assert_int_eq(fd, -1);
    ck_assert_int_eq(hf_beneath_rename(&r, "a/x", "top/y", &err), HF_EINTEGRITY);
    ck_assert_int_eq(hf_beneath_symlink(&r, "t", "top/l"), -1);
    int dirfd;
    ck_assert_int_eq(hf_beneath_dir(&r, "a/b/deeper", true, &dirfd, &err), HF_EINTEGRITY);
    ck_assert_int_eq(hf_beneath_dir(&r, "a/../..", true, &dirfd, &err), HF_EINTEGRITY);
    ck_assert(empty_outside());
    hf_root_close(&r);
}
END_TEST

START_TEST(file_links_are_replaced_not_followed) {
    fresh("replace", _i);
    hf_root r;
    ck_assert_int_eq(hf_root_open(&r, rootdir, true, NULL), HF_OK);
    char victim[400], at[400];
    snprintf(victim, sizeof victim, "%s/victim", outside);
    FILE *f = fopen(victim, "w");
    fputs("precious", f);
    fclose(f);
    snprintf(at, sizeof at, "%s/name", rootdir);
    ck_assert_int_eq(symlink(victim, at), 0);
    int fd;
    ck_assert_int_eq(hf_beneath_open(&r, "name", O_WRONLY | O_CREAT, 0644, &fd, NULL), HF_OK);
    ck_assert_int_eq(fd, -1);
    ck_assert_int_eq(errno, ELOOP);
    ck_assert_int_eq(hf_beneath_write(&r, "name", "new", 3, false, NULL), HF_OK);
    struct stat st;
    ck_assert_int_eq(lstat(at, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_int_eq(stat(victim, &st), 0);
    ck_assert_int_eq(st.st_size, 8);
    hf_root_close(&r);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("beneath");
    TCase *tc = tcase_create("beneath");
    tcase_add_unchecked_fixture(tc, setup, NULL);
    /* _i = 0: openat2 first; _i = 1: the component walk alone */
    tcase_add_loop_test(tc, writes_below_and_makes_folders, 0, 2);
    tcase_add_loop_test(tc, folder_links_are_refused, 0, 2);
    tcase_add_loop_test(tc, file_links_are_replaced_not_followed, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}
