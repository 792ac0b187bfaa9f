/* The hash writer: whatever the sizes of the pieces appended, the file holds exactly the bytes
 * and the digest is theirs; a reset starts both over; a resumed file goes on from its offset;
 * a cancel leaves the file holding exactly the bytes hashed; a failed write is reported. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "hashwriter.h"
#include "unit.h"

#define SIZE (20 << 20)

static unsigned char *data;

static void setup(void) {
    data = malloc(SIZE);
    ck_assert_ptr_nonnull(data);
    unsigned x = 12345;
    for (size_t i = 0; i < SIZE; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (unsigned char)(x >> 16);
    }
}

static void teardown(void) {
    free(data);
}

static void digest(const unsigned char *d, long long n, char sha[65]) {
    hf_hasher *h = hf_hasher_new_sha256(n);
    hf_hasher_update(h, d, (size_t)n);
    ck_assert(hf_hasher_final(h, sha, NULL));
    hf_hasher_free(h);
}

static int scratch(void) {
    char name[] = "/tmp/hf-hashwriter-XXXXXX";
    int fd = mkstemp(name);
    ck_assert_int_ge(fd, 0);
    unlink(name);
    return fd;
}

/* Appends data[from, to) in pieces of `step` bytes, growing by `grow`. */
static void append(hf_hashwriter *w, long long from, long long to, long long step, long long grow) {
    for (long long at = from; at < to; step += grow) {
        long long n = step < to - at ? step : to - at;
        ck_assert(hf_hashwriter_append(w, data + at, (size_t)n));
        at += n;
    }
}

/* The file holds data[0, size) and nothing more. */
static void check_file(int fd, long long size) {
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    ck_assert_int_eq(st.st_size, size);
    unsigned char *back = malloc((size_t)size + 1);
    ck_assert_int_eq(pread(fd, back, (size_t)size, 0), size);
    ck_assert_int_eq(memcmp(back, data, (size_t)size), 0);
    free(back);
}

static void check_digest(hf_hasher *h, long long size) {
    char got[65], want[65];
    ck_assert(hf_hasher_final(h, got, NULL));
    hf_hasher_free(h);
    digest(data, size, want);
    ck_assert_str_eq(got, want);
}

static void finish_and_check(hf_hashwriter *w, int fd, long long size) {
    hf_hasher *h = NULL;
    ck_assert(hf_hashwriter_finish(w, &h));
    check_file(fd, size);
    check_digest(h, size);
}

START_TEST(pieces_of_every_size) {
    static const long long steps[][2] = {{1, 4099}, {16384, 0}, {5 << 20, 0}, {524288, 0}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int fd = scratch();
        hf_hashwriter *w = hf_hashwriter_new(fd, hf_hasher_new_sha256(SIZE), 0);
        ck_assert_ptr_nonnull(w);
        append(w, 0, SIZE, steps[i][0], steps[i][1]);
        finish_and_check(w, fd, SIZE);
        close(fd);
    }
}
END_TEST

START_TEST(several_at_once) {
    /* as with --jobs: writers of different files interleaved, each with its own thread */
    int fd[3];
    hf_hashwriter *w[3];
    for (int i = 0; i < 3; i++) {
        fd[i] = scratch();
        w[i] = hf_hashwriter_new(fd[i], hf_hasher_new_sha256(SIZE), 0);
        ck_assert_ptr_nonnull(w[i]);
    }
    for (long long at = 0; at < SIZE; at += 100000)
        for (int i = 0; i < 3; i++)
            append(w[i], at, at + 100000 < SIZE ? at + 100000 : SIZE, 7000 * (i + 1), 0);
    for (int i = 0; i < 3; i++) {
        finish_and_check(w[i], fd[i], SIZE);
        close(fd[i]);
    }
}
END_TEST

START_TEST(reset_then_resume) {
    /* a reset halfway: the caller truncates, what was gathered or hashed before is dropped */
    int fd = scratch();
    hf_hashwriter *w = hf_hashwriter_new(fd, hf_hasher_new_sha256(SIZE), 0);
    append(w, 0, SIZE / 2 + 12345, 300000, 0);
    ck_assert_int_eq(ftruncate(fd, 0), 0);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    hf_hashwriter_reset(w, hf_hasher_new_sha256(SIZE));
    append(w, 0, SIZE, 65536, 0);
    finish_and_check(w, fd, SIZE);
    close(fd);
    /* a resumed file: its first 3 MiB were hashed inline by the caller */
    long long have = 3 << 20;
    hf_hasher *h = hf_hasher_new_sha256(SIZE);
    hf_hasher_update(h, data, (size_t)have);
    fd = scratch();
    ck_assert_int_eq(write(fd, data, (size_t)have), have);
    w = hf_hashwriter_new(fd, h, have);
    append(w, have, SIZE, 16384, 0);
    finish_and_check(w, fd, SIZE);
    close(fd);
}
END_TEST

START_TEST(cancel_keeps_what_was_hashed) {
    int fd = scratch();
    hf_hashwriter *w = hf_hashwriter_new(fd, hf_hasher_new_sha256(SIZE), 0);
    append(w, 0, (3 << 20) + 1000, 16384, 0);
    hf_hasher *h = hf_hashwriter_cancel(w);
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    ck_assert_int_lt(st.st_size, (3 << 20) + 1000); /* the last, gathered part is dropped */
    check_file(fd, st.st_size);
    /* the hasher has seen exactly the file's bytes: the rest appended inline completes it */
    hf_hasher_update(h, data + st.st_size, (size_t)(SIZE - st.st_size));
    check_digest(h, SIZE);
    close(fd);
}
END_TEST

START_TEST(failed_write_is_reported) {
    int fd = open("/dev/null", O_RDONLY);
    ck_assert_int_ge(fd, 0);
    hf_hashwriter *w = hf_hashwriter_new(fd, hf_hasher_new_sha256(SIZE), 0);
    bool ok = true;
    for (long long at = 0; ok && at < SIZE; at += 16384)
        ok = hf_hashwriter_append(w, data + at, 16384);
    ck_assert(!ok);
    ck_assert_int_eq(errno, EBADF);
    hf_hasher_free(hf_hashwriter_cancel(w));
    /* and a failure of the last write, at finish */
    w = hf_hashwriter_new(fd, hf_hasher_new_sha256(SIZE), 0);
    ck_assert(hf_hashwriter_append(w, data, 1000));
    hf_hasher *h = NULL;
    ck_assert(!hf_hashwriter_finish(w, &h));
    ck_assert_int_eq(errno, EBADF);
    ck_assert_ptr_nonnull(h);
    hf_hasher_free(h);
    close(fd);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("hashwriter");
    TCase *tc = tcase_create("hashwriter");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, pieces_of_every_size);
    tcase_add_test(tc, several_at_once);
    tcase_add_test(tc, reset_then_resume);
    tcase_add_test(tc, cancel_keeps_what_was_hashed);
    tcase_add_test(tc, failed_write_is_reported);
    suite_add_tcase(s, tc);
    return s;
}
