/* Hub search: the query's checks and URL, the answer's parser, the TSV and JSON output. */
#include <string.h>

#include "search.h"
#include "unit.h"

static hf_search_hits parse_ok(const char *body, size_t max) {
    hf_search_hits h = {0};
    hf_error err = {0};
    hf_code rc = hf_search_parse(body, strlen(body), max, &h, &err);
    ck_assert_msg(rc == HF_OK, "%s: %s", body, err.msg);
    return h;
}

static void parse_refused(const char *body) {
    hf_search_hits h = {0};
    hf_error err = {0};
    ck_assert_msg(hf_search_parse(body, strlen(body), 100, &h, &err) == HF_EINTEGRITY,
                  "accepted %s", body);
    ck_assert_msg(strstr(err.msg, "malformed search answer"), "%s", err.msg);
    hf_search_hits_free(&h);
}

START_TEST(parses_every_field) {
    const char *body =
        "[{\"_id\":\"x\",\"id\":\"acme/m\",\"pipeline_tag\":\"fill-mask\",\"library_name\":"
        "\"transformers\",\"downloads\":12,\"likes\":3,\"lastModified\":\"2024-01-01T00:00:00."
        "000Z\","
        "\"private\":false,\"gated\":\"manual\",\"sha\":"
        "\"0123456789abcdef0123456789abcdef01234567\","
        "\"tags\":[\"en\",\"license:mit\",\"license:other\"]},"
        "{\"id\":\"solo\",\"gated\":false,\"private\":true}]";
    hf_search_hits h = parse_ok(body, 100);
    ck_assert_uint_eq(h.n, 2);
    hf_search_hit *a = &h.v[0], *b = &h.v[1];
    ck_assert_str_eq(a->id, "acme/m");
    ck_assert_str_eq(a->pipeline_tag, "fill-mask");
    ck_assert_str_eq(a->library, "transformers");
    ck_assert_str_eq(a->license, "mit"); /* the first license tag */
    ck_assert_int_eq(a->downloads, 12);
    ck_assert_int_eq(a->likes, 3);
    ck_assert_str_eq(a->gated, "manual");
    ck_assert_int_eq(a->is_private, 0);
    ck_assert_str_eq(a->sha, "0123456789abcdef0123456789abcdef01234567");
    ck_assert_str_eq(b->id, "solo");
    ck_assert_ptr_null(b->pipeline_tag);
    ck_assert_ptr_null(b->sha);
    ck_assert_int_eq(b->downloads, -1);
    ck_assert_str_eq(b->gated, "false");
    ck_assert_int_eq(b->is_private, 1);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(hf_search_write_tsv(f, &h), 0);
    fclose(f);
    ck_assert_str_eq(buf, "#id\tpipeline_tag\tlibrary\tlicense\tdownloads\tlikes\tlastModified\t"
                          "private\tgated\tcommit\n"
                          "acme/m\tfill-mask\ttransformers\tmit\t12\t3\t2024-01-01T00:00:00.000Z\t"
                          "false\tmanual\t0123456789abcdef0123456789abcdef01234567\n"
                          "solo\t\t\t\t\t\t\ttrue\tfalse\t\n");
    free(buf);

    hf_search_query q = {.type = HF_DATASET, .search = "m", .limit = 5};
    json_t *j = hf_search_json(&q, "http://h", &h);
    ck_assert_ptr_nonnull(j);
    json_t *r0 = json_array_get(json_object_get(j, "results"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(r0, "commit")), a->sha);
    ck_assert(json_is_null(
        json_object_get(json_array_get(json_object_get(j, "results"), 1), "downloads")));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "query"), "repo_type")),
                     "dataset");
    json_decref(j);
    hf_search_hits_free(&h);
}
END_TEST

START_TEST(stops_at_max_and_skips_repeats) {
    hf_search_hits h = parse_ok("[{\"id\":\"a\"},{\"id\":\"b\"},{\"id\":\"c\"}]", 2);
    ck_assert_uint_eq(h.n, 2);
    /* a second page repeating an id (the ranking moved): kept once */
    hf_error err = {0};
    const char *next = "[{\"id\":\"b\"},{\"id\":\"d\"}]";
    ck_assert_int_eq(hf_search_parse(next, strlen(next), 10, &h, &err), HF_OK);
    ck_assert_uint_eq(h.n, 3);
    ck_assert_str_eq(h.v[2].id, "d");
    hf_search_hits_free(&h);
    h = parse_ok("[]", 10);
    ck_assert_uint_eq(h.n, 0);
    hf_search_hits_free(&h);
}
END_TEST

START_TEST(refuses_malformed_answers) {
    parse_refused("{}");
    parse_refused("[1]");
    parse_refused("[{\"id\":\"a/b/c\"}]");
    parse_refused("[{\"id\":\"../x\"}]");
    parse_refused("[{}]");
    parse_refused("[{\"id\":\"a\",\"pipeline_tag\":\"x\\ty\"}]"); /* a tab would break the TSV */
    parse_refused("[{\"id\":\"a\",\"library_name\":\"x\\ny\"}]"); /* and a line break */
    parse_refused("[{\"id\":\"a\",\"library_name\":\"x\\u0000y\"}]");
    parse_refused("[{\"id\":\"a\",\"downloads\":-1}]");
    parse_refused("[{\"id\":\"a\",\"likes\":\"3\"}]");
    parse_refused("[{\"id\":\"a\",\"private\":\"no\"}]");
    parse_refused("[{\"id\":\"a\",\"gated\":\"sometimes\"}]");
    parse_refused("[{\"id\":\"a\",\"sha\":\"main\"}]");
    parse_refused("[{\"id\":\"a\",\"tags\":\"license:mit\"}]");
    parse_refused("[{\"id\":\"a\",\"tags\":[\"license:x\\ty\"]}]");
    parse_refused("[{\"id\":\"a\",\"id\":\"b\"}]");
    hf_search_hits h = {0};
    hf_error err = {0};
    ck_assert_int_eq(hf_search_parse("[", 1, 10, &h, &err), HF_EINTEGRITY);
}
END_TEST

START_TEST(urls_and_checks) {
    hf_search_query q = {.type = HF_MODEL,
                         .search = "bert base&x",
                         .author = "google",
                         .filters = {"license:mit", "a b"},
                         .n_filters = 2,
                         .sort = HF_SORT_TRENDING,
                         .limit = 7};
    hf_error err = {0};
    ck_assert_int_eq(hf_search_check(&q, &err), HF_OK);
    char *url = hf_search_url("http://h", &q);
    ck_assert_str_eq(url, "http://h/api/models?search=bert%20base%26x&author=google"
                          "&filter=license%3Amit&filter=a%20b&sort=trendingScore&direction=-1"
                          "&limit=7&expand=pipeline_tag&expand=library_name&expand=downloads"
                          "&expand=likes&expand=lastModified&expand=private&expand=gated"
                          "&expand=sha&expand=tags");
    free(url);
    hf_search_query s = {.type = HF_SPACE, .limit = 1};
    url = hf_search_url("http://h", &s);
    ck_assert_str_eq(url, "http://h/api/spaces?limit=1&expand=likes&expand=lastModified"
                          "&expand=private&expand=sha&expand=tags");
    free(url);

    hf_search_sort sort;
    ck_assert(hf_search_sort_parse("lastModified", &sort) && sort == HF_SORT_LAST_MODIFIED);
    ck_assert(!hf_search_sort_parse("stars", &sort));
    ck_assert(!hf_search_sort_parse("", &sort));

    hf_search_query bad = q;
    bad.limit = 0;
    ck_assert_int_eq(hf_search_check(&bad, &err), HF_EUSAGE);
    bad.limit = 1001;
    ck_assert_int_eq(hf_search_check(&bad, &err), HF_EUSAGE);
    bad = q;
    bad.author = "a/b";
    ck_assert_int_eq(hf_search_check(&bad, &err), HF_EUSAGE);
    bad = q;
    bad.search = "a\nb";
    ck_assert_int_eq(hf_search_check(&bad, &err), HF_EUSAGE);
    bad = q;
    bad.filters[1] = "";
    ck_assert_int_eq(hf_search_check(&bad, &err), HF_EUSAGE);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("search");
    ADD_TEST(s, parses_every_field);
    ADD_TEST(s, stops_at_max_and_skips_repeats);
    ADD_TEST(s, refuses_malformed_answers);
    ADD_TEST(s, urls_and_checks);
    return s;
}
