/* Locks: flock on lock files that stay (free when nobody holds them, held against another
 * process), and the O_EXCL lock files used where flock fails (released, broken when stale). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* Writes text to the lock file (as another client leaves it), then expects the lock free. */
static void free_after(const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    hf_lock l = {0};
    bool taken;
    ck_assert_int_eq(hf_lock_try(&l, &root, rel, &taken, NULL), HF_OK);
    ck_assert(taken);
    hf_lock_release(&l);
}

static void each(void) {
    unlink(path);
    hf_lock_force_exclusive_files(false);
}

START_TEST(flock_exclusive_and_left_behind) {
    hf_lock a = {0}, b = {0};
    bool taken;
    ck_assert_int_eq(hf_lock_try(&a, &root, rel, &taken, NULL), HF_OK);
    ck_assert(taken);
    ck_assert(!a.exclusive_file);
    ck_assert_int_eq(hf_lock_try(&b, &root, rel, &taken, NULL), HF_OK);
    ck_assert(!taken); /* flock conflicts between two opens, even in one process */
    hf_lock_release(&a);
    ck_assert_int_eq(access(path, F_OK), 0); /* the file stays, as filelock leaves it */
    ck_assert_int_eq(hf_lock_try(&b, &root, rel, &taken, NULL), HF_OK);
    ck_assert(taken);
    hf_lock_release(&b);
}
END_TEST

START_TEST(flock_left_file_is_free_held_file_is_not) {
    free_after(""); /* left behind by another client: nobody holds it */
    hf_lock l = {0};
    bool taken;
    int ready[2];
    ck_assert_int_eq(pipe(ready), 0);
    pid_t child = fork();
    if (child == 0) { /* another process holds flock on it, as Python's filelock does */
        int fd = open(path, O_RDWR);
        flock(fd, LOCK_EX);
        (void)!write(ready[1], "x", 1);
        pause();
        _exit(0);
    }
    char c;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    ck_assert_int_eq(hf_lock_try(&l, &root, rel, &taken, NULL), HF_OK);
    ck_assert(!taken);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    ck_assert_int_eq(hf_lock_try(&l, &root, rel, &taken, NULL), HF_OK);
    ck_assert(taken);
    hf_lock_release(&l);
    close(ready[0]);
    close(ready[1]);
}
END_TEST

START_TEST(exclusive_files) {
    hf_lock_force_exclusive_files(true);
    hf_lock a = {0}, b = {0};
    bool taken;
    ck_assert_int_eq(hf_lock_try(&a, &root, rel, &taken, NULL), HF_OK);
    ck_assert(taken);
    ck_assert(a.exclusive_file);
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
    hf_lock_force_exclusive_files(true);
    char host[256] = "", text[300];
    gethostname(host, sizeof host - 1);
    snprintf(text, sizeof text, "%s %d\n", host, 999999999); /* no such pid */
    free_after(text);
}
END_TEST

START_TEST(other_host_until_stale) {
    hf_lock_force_exclusive_files(true);
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
    tcase_add_checked_fixture(tc, each, NULL);
    tcase_add_test(tc, flock_exclusive_and_left_behind);
    tcase_add_test(tc, flock_left_file_is_free_held_file_is_not);
    tcase_add_test(tc, exclusive_files);
    tcase_add_test(tc, dead_owner_on_this_host);
    tcase_add_test(tc, other_host_until_stale);
    suite_add_tcase(s, tc);
    return s;
}
