/* hf-bundle's flows through the library: SOURCE checks, bundling, --verify and --list, and the
 * shared helpers (prefix, dates, names). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "bundle.h"
#include "bundle_source.h"
#include "fsutil.h"
#include "hash.h"
#include "unit.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"

static char dir[64];
static hf_buf files_json;

static void setup(void) {
    strcpy(dir, "/tmp/hf-bundle-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("TZ", "UTC", 1);
    hf_buf_reset(&files_json);
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    hf_buf_free(&files_json);
}

static char *at(const char *name) {
    static char buf[4][512];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static void put(const char *rel, const char *content) {
    char *p = at(rel);
    ck_assert_int_eq(hf_mkparent(p, NULL), HF_OK);
    ck_assert_int_eq(hf_write_atomic(p, content, strlen(content), NULL), HF_OK);
}

/* A file in SOURCE (dir/src) and its manifest entry. */
static void add_file(const char *path, const char *content) {
    char rel[300];
    snprintf(rel, sizeof rel, "src/%s", path);
    put(rel, content);
    hf_hasher *h = hf_hasher_new((long long)strlen(content));
    hf_hasher_update(h, content, strlen(content));
    char sha[65], oid[41];
    ck_assert(hf_hasher_final(h, sha, oid));
    hf_hasher_free(h);
    hf_buf_addf(
        &files_json,
        "%s{\"path\":\"%s\",\"size\":%zu,\"lfs\":false,\"sha256\":\"%s\",\"git_oid\":\"%s\"}",
        files_json.len ? "," : "", path, strlen(content), sha, oid);
}

static void write_manifest(const char *where, const char *extra) {
    hf_buf b = {0};
    hf_buf_addf(&b,
                "{\"repo_id\":\"acme/tiny\",\"repo_type\":\"model\",\"revision\":\"main\","
                "\"commit\":\"%s\",\"endpoint\":\"http://127.0.0.1:1\",\"files\":[%s]%s}\n",
                COMMIT, files_json.data ? files_json.data : "", extra ? extra : "");
    put(where, b.data);
    hf_buf_free(&b);
}

static void sample(void) {
    add_file("README.md", "---\nlicense: mit\npretty_name: Tiny\n---\n# tiny\n");
    add_file("config.json", "{\"a\": 1}\n");
    add_file("sub dir/é.txt", "accent\n");
    add_file("z/deep/x.bin", "0123456789");
    write_manifest("src/hf-manifest.json", ",\"commit_date\":\"2024-03-01T08:15:00.000Z\"");
}

static hf_bundle_opts opts(hf_archive_format f) {
    hf_bundle_opts o = {.format = f, .level = -1, .threads = 1, .mtime = -1};
    return o;
}

/* ---- helpers ---- */

START_TEST(prefixes) {
    hf_manifest m = {.repo_id = "acme/tiny-model", .commit = COMMIT};
    char *p;
    hf_error err = {0};
    ck_assert_int_eq(hf_bundle_prefix(&m, NULL, &p, &err), HF_OK);
    ck_assert_str_eq(p, "tiny-model-0123456789ab");
    free(p);
    m.repo_id = "gpt2";
    ck_assert_int_eq(hf_bundle_prefix(&m, NULL, &p, &err), HF_OK);
    ck_assert_str_eq(p, "gpt2-0123456789ab");
    free(p);
    ck_assert_int_eq(hf_bundle_prefix(&m, "a/b//", &p, &err), HF_OK);
    ck_assert_str_eq(p, "a/b");
    free(p);
    ck_assert_int_eq(hf_bundle_prefix(&m, "", &p, &err), HF_OK);
    ck_assert_str_eq(p, "");
    char *name = hf_bundle_entry_name(p, "x/y");
    ck_assert_str_eq(name, "x/y");
    free(name);
    free(p);
    name = hf_bundle_entry_name("pre", "x/y");
    ck_assert_str_eq(name, "pre/x/y");
    free(name);
    const char *bad[] = {"../a", "/abs", "a/../b", "a\\b", "./a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(hf_bundle_prefix(&m, bad[i], &p, &err), HF_EUSAGE);
        ck_assert_ptr_null(p);
    }
}
END_TEST

START_TEST(times) {
    long long t;
    ck_assert(hf_bundle_parse_time("2024-03-01T08:15:00.000Z", &t));
    ck_assert_int_eq(t, 1709280900);
    ck_assert(hf_bundle_parse_time("2024-03-01T08:15:00Z", &t));
    ck_assert_int_eq(t, 1709280900);
    ck_assert(hf_bundle_parse_time("2024-03-01T10:15:00+02:00", &t));
    ck_assert_int_eq(t, 1709280900);
    ck_assert(hf_bundle_parse_time("2024-03-01T03:15:00.5-05:00", &t));
    ck_assert_int_eq(t, 1709280900);
    ck_assert(hf_bundle_parse_time("1970-01-01T00:00:00Z", &t));
    ck_assert_int_eq(t, 0);
    const char *bad[] = {NULL,
                         "",
                         "2024-03-01",
                         "2024-03-01T08:15:00",
                         "2024-13-01T00:00:00Z",
                         "2024-03-01T08:15:00.Z",
                         "2024-03-01T08:15:00Zjunk",
                         "yesterday",
                         "2024-03-01T08:15:00+0200"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!hf_bundle_parse_time(bad[i], &t), "%zu", i);
    char out[32];
    hf_bundle_format_time(1709280900, out);
    ck_assert_str_eq(out, "2024-03-01T08:15:00Z");
}
END_TEST

START_TEST(colliding_names) {
    hf_manifest m = {0};
    hf_entry e = {.path = "hf-manifest.json"};
    hf_error err = {0};
    ck_assert_int_eq(hf_bundle_check_names(&m, true, &err), HF_OK);
    ck_assert(hf_entries_push(&m.files, &e));
    ck_assert_int_eq(hf_bundle_check_names(&m, false, &err), HF_EUSAGE);
    hf_entries_free(&m.files);
    e.path = "ro-crate-metadata.json";
    ck_assert(hf_entries_push(&m.files, &e));
    ck_assert_int_eq(hf_bundle_check_names(&m, false, &err), HF_OK);
    ck_assert_int_eq(hf_bundle_check_names(&m, true, &err), HF_EUSAGE);
    hf_entries_free(&m.files);
}
END_TEST

/* ---- SOURCE checks ---- */

static hf_code check(bool allow_extra, hf_source *s, hf_error *err) {
    hf_manifest m;
    hf_code rc = hf_manifest_read(at("src/hf-manifest.json"), &m, err);
    ck_assert_int_eq(rc, HF_OK);
    rc = hf_source_check(at("src"), &m, allow_extra, NULL, NULL, s, err);
    hf_manifest_free(&m);
    return rc;
}

START_TEST(source_good) {
    sample();
    put("src/.cache/huggingface/download/config.json.metadata", "x\n");
    hf_source s;
    hf_error err = {0};
    ck_assert_int_eq(check(false, &s, &err), HF_OK);
    ck_assert_uint_eq(s.n, 4);
    for (size_t i = 0; i < s.n; i++)
        ck_assert_ptr_nonnull(s.real[i]);
    ck_assert_int_eq(s.bytes, 46 + 9 + 7 + 10);
    hf_source_free(&s);
    const char *why = NULL;
    char *found = hf_source_find_manifest(at("src"), &why);
    ck_assert_str_eq(found, at("src/hf-manifest.json"));
    free(found);
    ck_assert_ptr_null(hf_source_find_manifest(at("src/z"), &why));
    /* a second manifest (a repository file at the other place): which is ours is unknown */
    put("src/.cache/huggingface/hf-manifest.json", "{}\n");
    ck_assert_ptr_null(hf_source_find_manifest(at("src"), &why));
    ck_assert_str_eq(why, "found both");
    /* a cache snapshot: every file is the repository's */
    put("c/models--a--b/snapshots/0123456789abcdef0123456789abcdef01234567/hf-manifest.json",
        "{}\n");
    ck_assert_ptr_null(hf_source_find_manifest(
        at("c/models--a--b/snapshots/0123456789abcdef0123456789abcdef01234567"), &why));
}
END_TEST

START_TEST(source_problems) {
    sample();
    hf_source s;
    hf_error err = {0};
    put("src/extra.txt", "x");
    ck_assert_int_eq(check(false, &s, &err), HF_EINTEGRITY);
    ck_assert(strstr(err.msg, "extra.txt") != NULL);
    ck_assert_int_eq(check(true, &s, &err), HF_OK);
    hf_source_free(&s);
    put("src/config.json", "{}");
    ck_assert_int_eq(check(true, &s, &err), HF_EINTEGRITY);
    ck_assert(strstr(err.msg, "config.json: changed") != NULL);
    unlink(at("src/config.json"));
    ck_assert_int_eq(check(true, &s, &err), HF_EINTEGRITY);
    ck_assert(strstr(err.msg, "config.json: missing") != NULL);
    /* a folder where a file should be */
    ck_assert_int_eq(mkdir(at("src/config.json"), 0755), 0);
    ck_assert_int_eq(check(true, &s, &err), HF_EINTEGRITY);
    rmdir(at("src/config.json"));
    /* symlinks: inside is fine, outside is refused, dangling is refused */
    put("src/real.json", "{\"a\": 1}\n");
    ck_assert_int_eq(symlink("real.json", at("src/config.json")), 0);
    ck_assert_int_eq(check(true, &s, &err), HF_OK);
    hf_source_free(&s);
    unlink(at("src/config.json"));
    put("elsewhere.json", "{\"a\": 1}\n");
    ck_assert_int_eq(symlink(at("elsewhere.json"), at("src/config.json")), 0);
    ck_assert_int_eq(check(true, &s, &err), HF_EINTEGRITY);
    ck_assert(strstr(err.msg, "outside") != NULL);
    unlink(at("src/config.json"));
    ck_assert_int_eq(symlink("nowhere", at("src/config.json")), 0);
    ck_assert_int_eq(check(true, &s, &err), HF_EINTEGRITY);
    /* not a folder */
    hf_manifest m = {0};
    ck_assert_int_eq(hf_source_check(at("src/real.json"), &m, false, NULL, NULL, &s, &err),
                     HF_EUSAGE);
    ck_assert_int_eq(hf_source_check(at("none"), &m, false, NULL, NULL, &s, &err), HF_EUSAGE);
}
END_TEST

START_TEST(source_cache_snapshot) {
    /* models--acme--tiny/snapshots/COMMIT/x -> ../../blobs/B */
    put("models--acme--tiny/blobs/b1", "hello\n");
    ck_assert_int_eq(hf_mkdirs(at("models--acme--tiny/snapshots/" COMMIT), NULL), HF_OK);
    ck_assert_int_eq(symlink("../../blobs/b1", at("models--acme--tiny/snapshots/" COMMIT "/x")), 0);
    const char *json = "{\"repo_id\":\"acme/tiny\",\"repo_type\":\"model\",\"commit\":\"" COMMIT
                       "\",\"files\":[{\"path\":\"x\",\"size\":6,\"lfs\":false,\"sha256\":"
                       "\"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\","
                       "\"git_oid\":\"ce013625030ba8dba906f756967f9e9ca394464a\"}]}";
    hf_manifest m;
    hf_error err = {0};
    ck_assert_int_eq(hf_manifest_parse(json, strlen(json), &m, &err), HF_OK);
    hf_source s;
    ck_assert_int_eq(hf_source_check(at("models--acme--tiny/snapshots/" COMMIT), &m, false, NULL,
                                     NULL, &s, &err),
                     HF_OK);
    ck_assert(strstr(s.boundary, "models--acme--tiny") != NULL);
    hf_source_free(&s);
    /* another repository's manifest */
    free(m.repo_id);
    m.repo_id = strdup("acme/other");
    ck_assert_int_eq(hf_source_check(at("models--acme--tiny/snapshots/" COMMIT), &m, false, NULL,
                                     NULL, &s, &err),
                     HF_EINTEGRITY);
    hf_manifest_free(&m);
}
END_TEST

/* ---- bundling, verifying, listing ---- */

typedef struct {
    int ok, bad;
    char last[600];
} tally;

static void count(void *ctx, const char *path, const char *problem) {
    tally *t = ctx;
    if (problem) {
        t->bad++;
        snprintf(t->last, sizeof t->last, "%s: %s", path, problem);
    } else {
        t->ok++;
    }
}

START_TEST(bundle_verify_list) {
    sample();
    hf_archive_format fs[] = {HF_FMT_TAR, HF_FMT_TGZ, HF_FMT_TZST, HF_FMT_ZIP};
    const char *names[] = {"a.tar", "a.tgz", "a.tar.zst", "a.zip"};
    for (size_t i = 0; i < 4; i++) {
        hf_bundle_opts o = opts(fs[i]);
        o.ro_crate = true;
        hf_bundle_result res;
        hf_error err = {0};
        ck_assert_int_eq(hf_bundle_source(at("src"), NULL, at(names[i]), &o, &res, &err), HF_OK);
        ck_assert_str_eq(res.prefix, "tiny-0123456789ab");
        ck_assert_int_eq(res.mtime, 1709280900);
        ck_assert(res.date_known);
        ck_assert_uint_eq(res.files, 4);
        hf_bundle_result_free(&res);
        tally t = {0};
        hf_manifest m;
        size_t n;
        ck_assert_int_eq(hf_bundle_verify(at(names[i]), count, &t, &m, &n, &err), HF_OK);
        ck_assert_int_eq(t.bad, 0);
        ck_assert_int_eq(t.ok, 5); /* and the RO-Crate metadata */
        ck_assert_uint_eq(n, 4);
        ck_assert_str_eq(m.repo_id, "acme/tiny");
        hf_manifest_free(&m);
        hf_bundle_listing l;
        ck_assert_int_eq(hf_bundle_list(at(names[i]), &l, &err), HF_OK);
        ck_assert_str_eq(l.prefix, "tiny-0123456789ab");
        ck_assert_str_eq(l.commit_date, "2024-03-01T08:15:00.000Z");
        ck_assert_uint_eq(l.n, 1 + 2 + 4 + 3); /* folders, manifest + crate, files */
        ck_assert_str_eq(l.items[1].path, "tiny-0123456789ab/hf-manifest.json");
        ck_assert_str_eq(l.items[2].path, "tiny-0123456789ab/ro-crate-metadata.json");
        hf_bundle_listing_free(&l);
    }
}
END_TEST

START_TEST(bundle_refuses_changed_files) {
    sample();
    put("src/config.json", "{\"a\": 2}\n"); /* same size */
    put("src/z/deep/x.bin", "9876543210");
    hf_bundle_opts o = opts(HF_FMT_TAR);
    hf_bundle_result res;
    hf_error err = {0};
    ck_assert_int_eq(hf_bundle_source(at("src"), NULL, at("a.tar"), &o, &res, &err), HF_EINTEGRITY);
    ck_assert(strstr(err.msg, "2 changed files") != NULL);
    ck_assert(strstr(err.msg, "config.json") != NULL);
    ck_assert_int_ne(access(at("a.tar"), F_OK), 0);
    /* nothing left next to it */
    char cmd[200];
    snprintf(cmd, sizeof cmd, "ls %s | grep -q tmp", dir);
    ck_assert_int_ne(system(cmd), 0);
}
END_TEST

START_TEST(bundle_dates) {
    sample();
    write_manifest("plain.json", NULL); /* no commit_date */
    hf_bundle_opts o = opts(HF_FMT_TAR);
    hf_bundle_result res;
    hf_error err = {0};
    ck_assert_int_eq(hf_bundle_source(at("src"), at("plain.json"), at("a.tar"), &o, &res, &err),
                     HF_OK);
    ck_assert(!res.date_known);
    ck_assert_int_eq(res.mtime, 0);
    hf_bundle_result_free(&res);
    o.mtime = 1234567890;
    ck_assert_int_eq(hf_bundle_source(at("src"), at("plain.json"), at("b.tar"), &o, &res, &err),
                     HF_OK);
    ck_assert(res.date_known);
    ck_assert_int_eq(res.mtime, 1234567890);
    hf_bundle_result_free(&res);
    hf_bundle_listing l;
    ck_assert_int_eq(hf_bundle_list(at("b.tar"), &l, &err), HF_OK);
    for (size_t i = 0; i < l.n; i++)
        ck_assert_int_eq(l.items[i].mtime, 1234567890);
    ck_assert_ptr_null(l.commit_date);
    hf_bundle_listing_free(&l);
}
END_TEST

/* Flips one byte of the first occurrence of needle in the file. */
static void flip(const char *path, const char *needle) {
    char *data;
    size_t len;
    ck_assert_int_eq(hf_read_file(path, 1 << 24, &data, &len, NULL), HF_OK);
    char *p = memmem(data, len, needle, strlen(needle));
    ck_assert_ptr_nonnull(p);
    p[1] ^= 0x01;
    ck_assert_int_eq(hf_write_atomic(path, data, len, NULL), HF_OK);
    free(data);
}

START_TEST(verify_tampered) {
    sample();
    hf_bundle_opts o = opts(HF_FMT_TAR);
    o.prefix = "";
    hf_bundle_result res;
    hf_error err = {0};
    ck_assert_int_eq(hf_bundle_source(at("src"), NULL, at("a.tar"), &o, &res, &err), HF_OK);
    hf_bundle_result_free(&res);
    flip(at("a.tar"), "accent");
    tally t = {0};
    ck_assert_int_eq(hf_bundle_verify(at("a.tar"), count, &t, NULL, NULL, &err), HF_EINTEGRITY);
    ck_assert_int_eq(t.bad, 1);
    ck_assert_int_eq(t.ok, 3);
    ck_assert(strstr(t.last, "sub dir/é.txt: changed: sha256") != NULL);
    ck_assert(strstr(err.msg, "1 place") != NULL);
    /* the manifest itself changed: what it lists no longer matches (or it no longer parses) */
    ck_assert_int_eq(hf_bundle_source(at("src"), NULL, at("b.tar"), &o, &res, &err), HF_OK);
    hf_bundle_result_free(&res);
    flip(at("b.tar"), "\"size\":9");
    tally u = {0};
    ck_assert_int_eq(hf_bundle_verify(at("b.tar"), count, &u, NULL, NULL, &err), HF_EINTEGRITY);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("bundle");
    TCase *tc = tcase_create("bundle");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, prefixes);
    tcase_add_test(tc, times);
    tcase_add_test(tc, colliding_names);
    tcase_add_test(tc, source_good);
    tcase_add_test(tc, source_problems);
    tcase_add_test(tc, source_cache_snapshot);
    tcase_add_test(tc, bundle_verify_list);
    tcase_add_test(tc, bundle_refuses_changed_files);
    tcase_add_test(tc, bundle_dates);
    tcase_add_test(tc, verify_tampered);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
