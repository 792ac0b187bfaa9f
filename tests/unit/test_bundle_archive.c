/* Deterministic archives: formats, fixed metadata, the temporary file, reading back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle_archive.h"
#include "fsutil.h"
#include "unit.h"

static char dir[64];

static void setup(void) {
    strcpy(dir, "/tmp/hf-archive-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("TZ", "UTC", 1);
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static char *at(const char *name) {
    static char buf[4][256];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

/* Writes the same three entries in a given format. */
static void write_sample(const char *path, hf_archive_format f, int level) {
    hf_archive_opts o = {f, level, 2, 1709280900};
    hf_archive_writer *w;
    hf_error err = {0};
    ck_assert_int_eq(hf_archive_create(path, &o, &w, &err), HF_OK);
    ck_assert_int_eq(hf_archive_add_bytes(w, "p/hf-manifest.json", "{}\n", 3, &err), HF_OK);
    ck_assert_int_eq(hf_archive_add_bytes(w, "p/a.txt", "alpha\n", 6, &err), HF_OK);
    ck_assert_int_eq(hf_archive_begin_file(w, "p/données/é.txt", 10, &err), HF_OK);
    ck_assert_int_eq(hf_archive_write(w, "01234", 5, &err), HF_OK);
    ck_assert_int_eq(hf_archive_write(w, "56789", 5, &err), HF_OK);
    ck_assert_int_eq(hf_archive_end_file(w, &err), HF_OK);
    char *tmp = strdup(hf_archive_tmp_path(w));
    ck_assert_int_eq(access(tmp, F_OK), 0);
    ck_assert_int_ne(access(path, F_OK), 0); /* nothing at the name before the commit */
    ck_assert_int_eq(hf_archive_commit(w, &err), HF_OK);
    ck_assert_int_ne(access(tmp, F_OK), 0);
    free(tmp);
}

static void read_sample(const char *path) {
    hf_archive_reader *r;
    hf_error err = {0};
    ck_assert_int_eq(hf_archive_open_read(path, &r, &err), HF_OK);
    const char *want[] = {"p/", "p/hf-manifest.json", "p/a.txt", "p/données/", "p/données/é.txt"};
    hf_archive_type types[] = {HF_AE_DIR, HF_AE_FILE, HF_AE_FILE, HF_AE_DIR, HF_AE_FILE};
    for (size_t i = 0; i < 5; i++) {
        hf_archive_entry e;
        bool end;
        ck_assert_int_eq(hf_archive_next(r, &e, &end, &err), HF_OK);
        ck_assert(!end);
        ck_assert_str_eq(e.path, want[i]);
        ck_assert_int_eq(e.type, types[i]);
        ck_assert_int_eq(e.mtime, 1709280900);
        ck_assert_int_eq(e.mode, types[i] == HF_AE_DIR ? 0755 : 0644);
        if (i == 4) {
            char buf[32];
            size_t got, total = 0;
            while (hf_archive_read(r, buf + total, sizeof buf - total, &got, &err) == HF_OK &&
                   got > 0)
                total += got;
            ck_assert_uint_eq(total, 10);
            ck_assert(memcmp(buf, "0123456789", 10) == 0);
        }
    }
    hf_archive_entry e;
    bool end;
    ck_assert_int_eq(hf_archive_next(r, &e, &end, &err), HF_OK);
    ck_assert(end);
    hf_archive_close_read(r);
}

static void same_file(const char *a, const char *b) {
    char *da, *db;
    size_t la, lb;
    ck_assert_int_eq(hf_read_file(a, 1 << 24, &da, &la, NULL), HF_OK);
    ck_assert_int_eq(hf_read_file(b, 1 << 24, &db, &lb, NULL), HF_OK);
    ck_assert_uint_eq(la, lb);
    ck_assert(memcmp(da, db, la) == 0);
    free(da);
    free(db);
}

START_TEST(formats_by_name) {
    hf_archive_format f;
    ck_assert(hf_archive_format_from_path("x/a.tar", &f) && f == HF_FMT_TAR);
    ck_assert(hf_archive_format_from_path("a.tar.gz", &f) && f == HF_FMT_TGZ);
    ck_assert(hf_archive_format_from_path("a.tgz", &f) && f == HF_FMT_TGZ);
    ck_assert(hf_archive_format_from_path("a.tar.zst", &f) && f == HF_FMT_TZST);
    ck_assert(hf_archive_format_from_path("a.zip", &f) && f == HF_FMT_ZIP);
    ck_assert(!hf_archive_format_from_path("a.gz", &f));
    ck_assert(!hf_archive_format_from_path(".zip", &f));
    ck_assert(!hf_archive_format_from_path("a.rar", &f));
    ck_assert(hf_archive_format_parse("tar.zst", &f) && f == HF_FMT_TZST);
    ck_assert(hf_archive_format_parse("tgz", &f) && f == HF_FMT_TGZ);
    ck_assert(!hf_archive_format_parse("TAR", &f));
    ck_assert_str_eq(hf_archive_format_name(HF_FMT_TZST), "tar.zst");
    int lo, hi;
    ck_assert(!hf_archive_level_range(HF_FMT_TAR, &lo, &hi));
    ck_assert(hf_archive_level_range(HF_FMT_TZST, &lo, &hi) && lo == 1 && hi == 22);
    ck_assert(hf_archive_level_range(HF_FMT_ZIP, &lo, &hi) && lo == 0 && hi == 9);
}
END_TEST

START_TEST(round_trip_and_determinism) {
    const char *names[] = {"a.tar", "a.tgz", "a.tar.zst", "a.zip"};
    hf_archive_format fs[] = {HF_FMT_TAR, HF_FMT_TGZ, HF_FMT_TZST, HF_FMT_ZIP};
    for (size_t i = 0; i < 4; i++) {
        char *a = at(names[i]);
        write_sample(a, fs[i], -1);
        read_sample(a);
        char b[300];
        snprintf(b, sizeof b, "%s/b-%s", dir, names[i]);
        setenv("TZ", "UTC", 1);
        write_sample(b, fs[i], -1);
        same_file(a, b);
    }
    /* levels are taken */
    write_sample(at("9.tgz"), HF_FMT_TGZ, 9);
    read_sample(at("9.tgz"));
    write_sample(at("0.zip"), HF_FMT_ZIP, 0);
    read_sample(at("0.zip"));
    write_sample(at("19.tar.zst"), HF_FMT_TZST, 19);
    read_sample(at("19.tar.zst"));
}
END_TEST

START_TEST(gzip_header_has_no_time) {
    write_sample(at("h.tgz"), HF_FMT_TGZ, -1);
    FILE *f = fopen(at("h.tgz"), "rb");
    unsigned char h[10];
    ck_assert_uint_eq(fread(h, 1, 10, f), 10);
    fclose(f);
    ck_assert(h[0] == 0x1f && h[1] == 0x8b && h[3] == 0); /* no FNAME, no FEXTRA */
    ck_assert(h[4] == 0 && h[5] == 0 && h[6] == 0 && h[7] == 0);
}
END_TEST

START_TEST(sizes_are_enforced) {
    hf_archive_opts o = {HF_FMT_TAR, -1, 1, 0};
    hf_archive_writer *w;
    hf_error err = {0};
    ck_assert_int_eq(hf_archive_create(at("s.tar"), &o, &w, &err), HF_OK);
    ck_assert_int_eq(hf_archive_begin_file(w, "x", 3, &err), HF_OK);
    ck_assert_int_eq(hf_archive_write(w, "abcd", 4, &err), HF_EINTEGRITY);
    ck_assert_int_eq(hf_archive_write(w, "ab", 2, &err), HF_OK);
    ck_assert_int_eq(hf_archive_end_file(w, &err), HF_EINTEGRITY);
    char *tmp = strdup(hf_archive_tmp_path(w));
    hf_archive_abort(w);
    ck_assert_int_ne(access(tmp, F_OK), 0);
    ck_assert_int_ne(access(at("s.tar"), F_OK), 0);
    free(tmp);
    hf_archive_abort(NULL);
}
END_TEST

START_TEST(create_fails_cleanly) {
    hf_archive_opts o = {HF_FMT_TAR, -1, 1, 0};
    hf_archive_writer *w = NULL;
    hf_error err = {0};
    ck_assert_int_eq(hf_archive_create("/nonexistent/dir/a.tar", &o, &w, &err), HF_EIO);
    ck_assert_ptr_null(w);
    ck_assert(strstr(err.msg, "/nonexistent/dir/a.tar") != NULL);
}
END_TEST

START_TEST(reading_what_is_not_an_archive) {
    hf_archive_reader *r = NULL;
    hf_error err = {0};
    ck_assert_int_eq(hf_archive_open_read(at("missing.tar"), &r, &err), HF_EUSAGE);
    ck_assert_int_eq(hf_archive_open_read(dir, &r, &err), HF_EUSAGE);
    ck_assert_int_eq(hf_write_atomic(at("t.tar"), "hello, this is text\n", 20, &err), HF_OK);
    ck_assert_int_eq(hf_archive_open_read(at("t.tar"), &r, &err), HF_EINTEGRITY);
    ck_assert_ptr_null(r);
    /* a truncated tar.gz */
    write_sample(at("cut.tgz"), HF_FMT_TGZ, -1);
    ck_assert_int_eq(truncate(at("cut.tgz"), 40), 0);
    hf_code rc = hf_archive_open_read(at("cut.tgz"), &r, &err);
    if (rc == HF_OK) {
        hf_archive_entry e;
        bool end = false;
        hf_code last = HF_OK;
        for (int i = 0; i < 10 && last == HF_OK && !end; i++) {
            last = hf_archive_next(r, &e, &end, &err);
            char buf[64];
            size_t got;
            while (last == HF_OK && !end &&
                   (last = hf_archive_read(r, buf, sizeof buf, &got, &err)) == HF_OK && got)
                ;
        }
        ck_assert_int_eq(last, HF_EINTEGRITY);
        hf_archive_close_read(r);
    } else {
        ck_assert_int_eq(rc, HF_EINTEGRITY);
    }
}
END_TEST

START_TEST(long_and_deep_names) {
    hf_archive_opts o = {HF_FMT_TAR, -1, 1, 0};
    hf_archive_writer *w;
    hf_error err = {0};
    char name[400];
    memset(name, 'n', sizeof name);
    memcpy(name, "p/", 2);
    name[150] = '/';
    name[399] = '\0';
    ck_assert_int_eq(hf_archive_create(at("l.tar"), &o, &w, &err), HF_OK);
    ck_assert_int_eq(hf_archive_add_bytes(w, name, "x", 1, &err), HF_OK);
    ck_assert_int_eq(hf_archive_add_bytes(w, "p/b/c/d/e.txt", "", 0, &err), HF_OK);
    ck_assert_int_eq(hf_archive_add_bytes(w, "p/b/c/f.txt", "", 0, &err), HF_OK);
    ck_assert_int_eq(hf_archive_add_bytes(w, "p/z.txt", "", 0, &err), HF_OK);
    ck_assert_int_eq(hf_archive_commit(w, &err), HF_OK);
    hf_archive_reader *r;
    ck_assert_int_eq(hf_archive_open_read(at("l.tar"), &r, &err), HF_OK);
    const char *want[] = {
        "p/", NULL, NULL, "p/b/", "p/b/c/", "p/b/c/d/", "p/b/c/d/e.txt", "p/b/c/f.txt", "p/z.txt"};
    for (size_t i = 0; i < 9; i++) {
        hf_archive_entry e;
        bool end;
        ck_assert_int_eq(hf_archive_next(r, &e, &end, &err), HF_OK);
        ck_assert(!end);
        if (i == 2)
            ck_assert_str_eq(e.path, name);
        else if (want[i])
            ck_assert_str_eq(e.path, want[i]);
    }
    hf_archive_close_read(r);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("bundle_archive");
    TCase *tc = tcase_create("archive");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, formats_by_name);
    tcase_add_test(tc, round_trip_and_determinism);
    tcase_add_test(tc, gzip_header_has_no_time);
    tcase_add_test(tc, sizes_are_enforced);
    tcase_add_test(tc, create_fails_cleanly);
    tcase_add_test(tc, reading_what_is_not_an_archive);
    tcase_add_test(tc, long_and_deep_names);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
