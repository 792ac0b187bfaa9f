/* Listing output and the compact entry store: the JSON written as it goes is byte for byte
 * what jansson writes for the same object with JSON_INDENT(2); packed entries come back
 * unchanged, sorted and checked. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compact.h"
#include "listing.h"
#include "unit.h"

#define OID "9eb98c817f04b051b3bcca591bcd4e03cec88018"
#define SHA "a7a17d6d844b5de815ccab5f42cad6d24496db3850a2a43d8258221018ce87d2"

static const hf_entry sample[] = {
    {"z/last.bin", 1LL << 40, false, true, OID, SHA},
    {"a \"quoted\" \\ name\t.txt", 3, false, false, OID, ""},
    {"données/é.txt", 0, false, false, OID, ""},
    {"ctl\x01\x1f/x", 7, false, false, OID, ""},
    {"dir", 0, true, false, OID, ""},
    {"dir2", 0, true, false, "", ""},
};
#define NSAMPLE (sizeof sample / sizeof sample[0])

/* What hf-list wrote with jansson before it streamed: the reference. */
static char *reference_json(const hf_listing *l) {
    json_t *files = json_array();
    for (size_t i = 0; i < l->compact->n; i++) {
        hf_entry e;
        hf_compact_get(l->compact, i, &e);
        char path[256];
        snprintf(path, sizeof path, "%s%s", e.path, e.is_dir ? "/" : "");
        json_array_append_new(files,
                              json_pack("{s:s, s:I, s:b, s:o, s:o}", "path", path, "size",
                                        (json_int_t)(e.is_dir ? 0 : e.size), "lfs", e.lfs, "sha256",
                                        e.lfs ? json_string(e.sha256) : json_null(), "git_oid",
                                        e.git_oid[0] ? json_string(e.git_oid) : json_null()));
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "repo_id", l->repo.id, "repo_type",
                          hf_repo_type_name(l->repo.type), "revision", l->revision, "commit",
                          l->commit, "endpoint", l->endpoint, "files", files);
    char *text = json_dumps(o, JSON_INDENT(2));
    json_decref(o);
    char *out = malloc(strlen(text) + 2);
    sprintf(out, "%s\n", text);
    free(text);
    return out;
}

static char *written_json(const hf_listing *l) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(hf_listing_write_json(f, l), 0);
    fclose(f);
    return buf;
}

START_TEST(json_as_jansson_writes_it) {
    hf_compact c = {0};
    hf_error err = {0};
    for (size_t i = 0; i < NSAMPLE; i++)
        ck_assert(hf_compact_add(&c, &sample[i]));
    ck_assert_int_eq(hf_compact_sort(&c, &err), HF_OK);
    hf_repo repo = {.id = "acme/tiny-model", .type = HF_DATASET};
    hf_listing l = {repo, "refs/pr/1", OID, "http://127.0.0.1:1/a\"b", NULL, &c};
    for (int pass = 0; pass < 2; pass++) { /* every entry, then none */
        char *want = reference_json(&l), *got = written_json(&l);
        ck_assert_str_eq(got, want);
        free(want);
        free(got);
        c.n = 0;
    }
    hf_compact_free(&c);
}
END_TEST

START_TEST(compact_round_trip_sorted) {
    hf_compact c = {0};
    hf_entries e = {0};
    hf_error err = {0};
    for (size_t i = 0; i < NSAMPLE; i++) {
        ck_assert(hf_compact_add(&c, &sample[i]));
        ck_assert(hf_entries_push(&e, &sample[i]));
    }
    ck_assert_int_eq(hf_compact_sort(&c, &err), HF_OK);
    ck_assert_int_eq(hf_entries_sort(&e, &err), HF_OK);
    ck_assert_uint_eq(c.n, e.n);
    for (size_t i = 0; i < c.n; i++) {
        hf_entry got;
        hf_compact_get(&c, i, &got);
        ck_assert_str_eq(got.path, e.v[i].path);
        ck_assert_int_eq(got.size, e.v[i].size);
        ck_assert_int_eq(got.is_dir, e.v[i].is_dir);
        ck_assert_int_eq(got.lfs, e.v[i].lfs);
        ck_assert_str_eq(got.git_oid, e.v[i].git_oid);
        ck_assert_str_eq(got.sha256, e.v[i].sha256);
    }
    hf_entries_free(&e);
    hf_compact_free(&c);
}
END_TEST

static bool files_only(void *ctx, const hf_entry *e) {
    (void)ctx;
    return !e->is_dir;
}

START_TEST(compact_keep_and_tree_check) {
    hf_compact c = {0};
    hf_error err = {0};
    for (size_t i = 0; i < NSAMPLE; i++)
        ck_assert(hf_compact_add(&c, &sample[i]));
    ck_assert_int_eq(hf_compact_sort(&c, &err), HF_OK);
    hf_compact_keep(&c, files_only, NULL);
    ck_assert_uint_eq(c.n, NSAMPLE - 2);
    hf_entry first;
    hf_compact_get(&c, 0, &first);
    ck_assert_str_eq(first.path, "a \"quoted\" \\ name\t.txt");
    /* a file under a file: the same check as hf_entries_sort */
    hf_entry under = sample[1];
    under.path = "z/last.bin/x";
    ck_assert(hf_compact_add(&c, &under));
    ck_assert_int_eq(hf_compact_sort(&c, &err), HF_EINTEGRITY);
    ck_assert_ptr_nonnull(strstr(err.msg, "'z/last.bin' is a file and a folder"));
    hf_compact_free(&c);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("listing");
    ADD_TEST(s, json_as_jansson_writes_it);
    ADD_TEST(s, compact_round_trip_sorted);
    ADD_TEST(s, compact_keep_and_tree_check);
    return s;
}
