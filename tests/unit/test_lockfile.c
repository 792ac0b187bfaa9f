/* Lock files: exclusive, released, and broken only when stale. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lockfile.h"
#include "unit.h"

static char dir[] = "/tmp/hf-lock-XXXXXX";
static char path[300];
static const char *rel = "sub/x.lock";
static hf_root root;

static void setup(void) {
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/sub/x.lock", dir);
    ck_assert_int_eq(hf_root_open(&root, dir, false, NULL), HF_OK);
}

START_TEST(exclusive) {
    hf_lock a = {0}, b = {0};
    bool taken;
    ck_assert_int_eq(hf_lock_try(&a, &root, rel, &taken, NULL), HF_OK);
    ck_assert(taken);
    ck_assert_int_eq(hf_lock_try(&b, &root, rel, &taken, NULL), HF_OK);
    ck_assert(!taken); /* held by a live process: this one */
    hf_lock_release(&a);
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_int_eq(hf_lock_try(&b, &root, rel, &taken, NULL), HF_OK);
    ck_assert(taken);
    hf_lock_release(&b);
}
END_TEST

START_TEST(dead_owner_on_this_host) {
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    FILE *f = fopen(path, "w");
    fprintf(f, "%s %d\n", host, 999999999); /* no such pid */
    fclose(f);
    hf_lock l = {0};
    bool taken;
    ck_assert_int_eq(hf_lock_try(&l, &root, rel, &taken, NULL), HF_OK);
    ck_assert(taken);
    hf_lock_release(&l);
}
END_TEST

START_TEST(other_host_until_stale) {
    FILE *f = fopen(path, "w");
    fprintf(f, "another-host.example 1234\n");
    fclose(f);
    hf_lock l = {0};
    bool taken;
    ck_assert_int_eq(hf_lock_try(&l, &root, rel, &taken, NULL), HF_OK);
    ck_assert(!taken); /* it may be alive over there */
    struct timespec old[2] = {{time(NULL) - HF_LOCK_STALE_SECONDS - 10, 0},
                              {time(NULL) - HF_LOCK_STALE_SECONDS - 10, 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, old, 0), 0);
    ck_assert_int_eq(hf_lock_try(&l, &root, rel, &taken, NULL), HF_OK);
    ck_assert(taken);
    hf_lock_release(&l);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("lockfile");
    TCase *tc = tcase_create("lockfile");
    tcase_add_unchecked_fixture(tc, setup, NULL);
    tcase_add_test(tc, exclusive);
    tcase_add_test(tc, dead_owner_on_this_host);
    tcase_add_test(tc, other_host_until_stale);
    suite_add_tcase(s, tc);
    return s;
}
