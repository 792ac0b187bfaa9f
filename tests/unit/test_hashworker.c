/* The hash worker: bytes fed through a track hash to the digest of the whole file, whether
 * they came from the ring or were read back (chunks larger than the ring, more tracks than
 * rings, a reset, a resumed file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "hashworker.h"
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
    char name[] = "/tmp/hf-hashworker-XXXXXX";
    int fd = mkstemp(name);
    ck_assert_int_ge(fd, 0);
    unlink(name);
    return fd;
}

/* One file being written and fed, `step` bytes at a time (growing by `grow`). */
typedef struct {
    int fd;
    hf_hashtrack *t;
    long long at;
    long long step;
    long long grow;
} feeder;

static bool feed_some(feeder *f, long long size) {
    if (f->at >= size)
        return false;
    long long n = f->step < size - f->at ? f->step : size - f->at;
    ck_assert_int_eq(pwrite(f->fd, data + f->at, (size_t)n, f->at), n);
    hf_hashtrack_feed(f->t, data + f->at, (size_t)n);
    f->at += n;
    f->step += f->grow;
    return true;
}

static void check_finish(hf_hashtrack *t, long long size) {
    bool ok = false;
    hf_hasher *h = hf_hashtrack_finish(t, &ok);
    ck_assert(ok);
    char got[65], want[65];
    ck_assert(hf_hasher_final(h, got, NULL));
    hf_hasher_free(h);
    digest(data, size, want);
    ck_assert_str_eq(got, want);
}

START_TEST(many_tracks_small_and_large_chunks) {
    hf_hashworker *w = hf_hashworker_new();
    ck_assert_ptr_nonnull(w);
    /* three tracks (one more than there are rings), chunks from 1 byte to past the ring */
    feeder f[3] = {{scratch(), NULL, 0, 1, 4099},
                   {scratch(), NULL, 0, 16384, 0},
                   {scratch(), NULL, 0, 5 << 20, 0}};
    for (int i = 0; i < 3; i++)
        f[i].t = hf_hashworker_track(w, f[i].fd, hf_hasher_new_sha256(SIZE), 0);
    bool more = true;
    while (more) {
        more = false;
        for (int i = 0; i < 3; i++)
            more |= feed_some(&f[i], SIZE);
    }
    for (int i = 0; i < 3; i++) {
        hf_hashtrack_written(f[i].t, SIZE);
        check_finish(f[i].t, SIZE);
        close(f[i].fd);
    }
    hf_hashworker_free(w);
}
END_TEST

START_TEST(reset_and_resume) {
    hf_hashworker *w = hf_hashworker_new();
    /* a reset halfway: the file starts over, what was hashed before is dropped */
    feeder f = {scratch(), NULL, 0, 300000, 0};
    f.t = hf_hashworker_track(w, f.fd, hf_hasher_new_sha256(SIZE), 0);
    while (f.at < SIZE / 2)
        feed_some(&f, SIZE);
    ck_assert_int_eq(ftruncate(f.fd, 0), 0);
    hf_hashtrack_reset(f.t, hf_hasher_new_sha256(SIZE));
    f.at = 0;
    while (feed_some(&f, SIZE))
        ;
    check_finish(f.t, SIZE);
    close(f.fd);
    /* a resumed file: the first 3 MiB were hashed inline, the rest through the track */
    long long have = 3 << 20;
    hf_hasher *h = hf_hasher_new_sha256(SIZE);
    hf_hasher_update(h, data, (size_t)have);
    feeder g = {scratch(), NULL, have, 65536, 0};
    ck_assert_int_eq(pwrite(g.fd, data, (size_t)have, 0), have);
    g.t = hf_hashworker_track(w, g.fd, h, have);
    while (feed_some(&g, SIZE))
        ;
    check_finish(g.t, SIZE);
    close(g.fd);
    hf_hashworker_free(w);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("hashworker");
    TCase *tc = tcase_create("hashworker");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, many_tracks_small_and_large_chunks);
    tcase_add_test(tc, reset_and_resume);
    suite_add_tcase(s, tc);
    return s;
}
