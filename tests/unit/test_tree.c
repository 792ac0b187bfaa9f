/* Tree answers: well-formed pages, malformed and hostile ones. */
#include <stdio.h>
#include <string.h>

#include "tree.h"
#include "unit.h"

#define OID "9eb98c817f04b051b3bcca591bcd4e03cec88018"
#define SHA "a7a17d6d844b5de815ccab5f42cad6d24496db3850a2a43d8258221018ce87d2"

static hf_code parse(const char *json, hf_entries *e, hf_error *err) {
    return hf_tree_parse(json, strlen(json), e, err);
}

START_TEST(good_page) {
    hf_entries e = {0};
    hf_error err = {0};
    const char *page = "[{\"type\":\"file\",\"oid\":\"" OID "\",\"size\":10,\"path\":\"b.txt\"},"
                       "{\"type\":\"directory\",\"oid\":\"" OID "\",\"size\":0,\"path\":\"sub\"},"
                       "{\"type\":\"file\",\"oid\":\"" OID "\",\"size\":536063208,"
                       "\"path\":\"sub/tf_model.h5\",\"xetHash\":\"ab\","
                       "\"lfs\":{\"oid\":\"" SHA "\",\"size\":536063208,\"pointerSize\":134}}]";
    ck_assert_int_eq(parse(page, &e, &err), HF_OK);
    ck_assert_uint_eq(e.n, 3);
    ck_assert_int_eq(hf_entries_sort(&e, &err), HF_OK);
    ck_assert_str_eq(e.v[0].path, "b.txt");
    ck_assert(!e.v[0].lfs && !e.v[0].is_dir);
    ck_assert_str_eq(e.v[0].git_oid, OID);
    ck_assert_str_eq(e.v[0].sha256, "");
    ck_assert(e.v[1].is_dir);
    ck_assert(e.v[2].lfs);
    ck_assert_int_eq(e.v[2].size, 536063208);
    ck_assert_str_eq(e.v[2].sha256, SHA);
    const hf_entry *f = hf_entries_find(&e, "sub/tf_model.h5");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_null(hf_entries_find(&e, "nope"));
    hf_entries_free(&e);
}
END_TEST

START_TEST(empty_page) {
    hf_entries e = {0};
    ck_assert_int_eq(parse("[]", &e, NULL), HF_OK);
    ck_assert_uint_eq(e.n, 0);
}
END_TEST

START_TEST(malformed_pages) {
    const char *bad[] = {
        "",
        "{",
        "{}",
        "null",
        "[1]",
        "[{\"type\":\"file\"}]",
        "[{\"type\":\"file\",\"path\":\"a\",\"oid\":\"xyz\",\"size\":1}]",
        "[{\"type\":\"file\",\"path\":\"a\",\"oid\":\"" OID "\",\"size\":-1}]",
        "[{\"type\":\"file\",\"path\":\"a\",\"oid\":\"" OID "\",\"size\":\"1\"}]",
        "[{\"type\":\"file\",\"path\":\"a\",\"oid\":\"" OID "\",\"size\":1.5}]",
        "[{\"type\":\"file\",\"path\":\"a\",\"oid\":\"" OID "\",\"size\":1,"
        "\"lfs\":{\"oid\":\"abc\",\"size\":1}}]",
        "[{\"type\":\"file\",\"path\":\"a\",\"oid\":\"" OID "\",\"size\":1,"
        "\"lfs\":{\"oid\":\"" SHA "\",\"size\":2}}]",
        "[{\"type\":\"file\",\"path\":\"a\",\"path\":\"b\",\"oid\":\"" OID "\",\"size\":1}]",
        "[{\"type\":7,\"path\":\"a\",\"oid\":\"" OID "\",\"size\":1}]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hf_entries e = {0};
        hf_error err = {0};
        ck_assert_msg(parse(bad[i], &e, &err) == HF_EINTEGRITY, "accepted: %s", bad[i]);
        ck_assert(strlen(err.msg) > 0);
        hf_entries_free(&e);
    }
}
END_TEST

START_TEST(unsafe_paths) {
    const char *paths[] = {"../x", "/etc/passwd", "a\\\\b",      "ctl\\u0001x",
                           "a//b", "a/../b",      "./a",         "a/.",
                           "",     "a/",          "nul\\u0000x", "\\u00e9\\udc80"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        char page[256];
        snprintf(page, sizeof page,
                 "[{\"type\":\"file\",\"path\":\"%s\",\"oid\":\"" OID "\",\"size\":1}]", paths[i]);
        hf_entries e = {0};
        hf_error err = {0};
        ck_assert_msg(parse(page, &e, &err) == HF_EINTEGRITY, "accepted: %s", paths[i]);
        ck_assert_uint_eq(e.n, 0);
        hf_entries_free(&e);
    }
}
END_TEST

START_TEST(duplicates_refused) {
    hf_entries e = {0};
    hf_error err = {0};
    const char *p1 = "[{\"type\":\"file\",\"path\":\"a\",\"oid\":\"" OID "\",\"size\":1}]";
    ck_assert_int_eq(parse(p1, &e, &err), HF_OK);
    ck_assert_int_eq(parse(p1, &e, &err), HF_OK);
    ck_assert_int_eq(hf_entries_sort(&e, &err), HF_EINTEGRITY);
    ck_assert_ptr_nonnull(strstr(err.msg, "twice"));
    hf_entries_free(&e);
}
END_TEST

/* Parses one entry per "type:path" into e and sorts them. */
static hf_code sorted_listing(const char *const *items, size_t n, hf_entries *e, hf_error *err) {
    char json[4096] = "[";
    for (size_t i = 0; i < n; i++) {
        bool dir = items[i][0] == 'd';
        size_t len = strlen(json);
        snprintf(json + len, sizeof json - len,
                 "%s{\"type\":\"%s\",\"path\":\"%s\",\"oid\":\"" OID "\"%s}", i ? "," : "",
                 dir ? "directory" : "file", items[i] + 2, dir ? "" : ",\"size\":1");
    }
    strcat(json, "]");
    hf_code rc = parse(json, e, err);
    return rc == HF_OK ? hf_entries_sort(e, err) : rc;
}

START_TEST(file_with_entries_below_refused) {
    static const char *const bad[][4] = {
        {"f:a", "f:a/b", NULL},
        {"f:a/b", "f:a", NULL},
        {"f:x/y", "f:x/y-z", "f:x/y/z/w", NULL},
        {"f:x/y", "d:x/y/z", NULL},
        {"d:p/q", "f:p/q", NULL},
        {"f:m", "f:m!", "f:m.txt", "f:m/n"}, /* names between 'm' and 'm/n' in byte order */
    };
    for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
        hf_entries e = {0};
        hf_error err = {0};
        size_t n = 0;
        while (n < 4 && bad[c][n])
            n++;
        ck_assert_int_eq(sorted_listing(bad[c], n, &e, &err), HF_EINTEGRITY);
        ck_assert_ptr_nonnull(strstr(err.msg, c == 4 ? "twice" : "is a file and a folder"));
        hf_entries_free(&e);
    }
    /* names that only share a beginning are fine, and folders hold files */
    static const char *const good[] = {"f:n",    "f:n-1", "f:n.txt", "d:n0",
                                       "f:n0/f", "d:d",   "d:d/e",   "f:d/e/f"};
    hf_entries e = {0};
    hf_error err = {0};
    ck_assert_int_eq(sorted_listing(good, 8, &e, &err), HF_OK);
    ck_assert(hf_entries_has_below(&e, "n0", 2));
    ck_assert(hf_entries_has_below(&e, "d/e", 3));
    ck_assert(!hf_entries_has_below(&e, "n", 1));
    ck_assert(!hf_entries_has_below(&e, "d/e/f", 5));
    hf_entries_free(&e);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("tree");
    ADD_TEST(s, good_page);
    ADD_TEST(s, empty_page);
    ADD_TEST(s, malformed_pages);
    ADD_TEST(s, unsafe_paths);
    ADD_TEST(s, duplicates_refused);
    ADD_TEST(s, file_with_entries_below_refused);
    return s;
}
