/* Cancellation: registered temporaries removed by the signal handler, exit 128+signal. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cancel.h"
#include "unit.h"

static void touch(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

/* In a child: two temporaries, one forgotten again, then sig. */
static int run_child(int sig, const char *kept, const char *tracked, const char *untracked) {
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        hf_cancel_install();
        touch(tracked);
        touch(untracked);
        (void)hf_cancel_track(tracked);
        hf_cancel_untrack(hf_cancel_track(untracked));
        touch(kept);
        raise(sig);
        _exit(99);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

START_TEST(signal_removes_tracked_and_exits) {
    char dir[] = "/tmp/hf-cancel-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < 3; i++) {
        char kept[64], tracked[64], untracked[64];
        snprintf(kept, sizeof kept, "%s/kept", dir);
        snprintf(tracked, sizeof tracked, "%s/out.tmp-1", dir);
        snprintf(untracked, sizeof untracked, "%s/final", dir);
        ck_assert_int_eq(run_child(sigs[i], kept, tracked, untracked), 128 + sigs[i]);
        ck_assert_int_ne(access(tracked, F_OK), 0);
        ck_assert_int_eq(access(untracked, F_OK), 0);
        ck_assert_int_eq(access(kept, F_OK), 0);
        unlink(kept);
        unlink(untracked);
    }
    rmdir(dir);
}
END_TEST

START_TEST(slots_run_out_gracefully) {
    int t[100];
    int got = 0;
    for (int i = 0; i < 100; i++)
        if ((t[i] = hf_cancel_track("/nonexistent/x.tmp-1")) >= 0)
            got++;
    ck_assert_int_gt(got, 8);
    ck_assert_int_lt(got, 100);
    for (int i = 0; i < 100; i++)
        hf_cancel_untrack(t[i]); /* -1 included: a no-op */
    ck_assert_int_ge(hf_cancel_track("/nonexistent/y.tmp-1"), 0);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("cancel");
    ADD_TEST(s, signal_removes_tracked_and_exits);
    ADD_TEST(s, slots_run_out_gracefully);
    return s;
}
