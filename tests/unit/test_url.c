/* URL building, percent-encoding and origins. */
#include <string.h>

#include "url.h"
#include "unit.h"

static const char *EP = "https://hub.example";

START_TEST(encoding) {
    hf_buf b = {0};
    hf_url_encode(&b, "a b#c?d%e/f~g", false);
    ck_assert_str_eq(b.data, "a%20b%23c%3Fd%25e%2Ff~g");
    hf_buf_reset(&b);
    hf_url_encode(&b, "sub dir/données/é.txt", true);
    ck_assert_str_eq(b.data, "sub%20dir/donn%C3%A9es/%C3%A9.txt");
    hf_buf_free(&b);
}
END_TEST

START_TEST(info_urls) {
    hf_repo m = {HF_MODEL, "org/name"};
    char *u = hf_url_repo_info(EP, &m, "refs/pr/1");
    ck_assert_str_eq(u, "https://hub.example/api/models/org/name/revision/refs%2Fpr%2F1"
                        "?expand=sha&expand=lastModified&expand=private&expand=cardData"
                        "&expand=gated");
    free(u);
    hf_repo d = {HF_DATASET, "org/data"};
    u = hf_url_repo_info(EP, &d, NULL);
    ck_assert_str_eq(u, "https://hub.example/api/datasets/org/data?expand=sha&expand=lastModified"
                        "&expand=private&expand=cardData&expand=gated");
    free(u);
    hf_repo s = {HF_SPACE, "org/app"};
    u = hf_url_repo_info(EP, &s, "main");
    ck_assert_str_eq(u, "https://hub.example/api/spaces/org/app/revision/main?expand=sha"
                        "&expand=lastModified&expand=private&expand=cardData");
    free(u);
}
END_TEST

START_TEST(tree_urls) {
    hf_repo s = {HF_SPACE, "org/app"};
    char *u = hf_url_tree(EP, &s, "v1.0", "a b/c", true);
    ck_assert_str_eq(u, "https://hub.example/api/spaces/org/app/tree/v1.0/a%20b/c"
                        "?recursive=true&expand=false");
    free(u);
    u = hf_url_tree(EP, &s, "main", NULL, false);
    ck_assert_str_eq(u, "https://hub.example/api/spaces/org/app/tree/main"
                        "?recursive=false&expand=false");
    free(u);
}
END_TEST

START_TEST(resolve_urls) {
    hf_repo m = {HF_MODEL, "gpt2"};
    char *u = hf_url_resolve(EP, &m, "0123456789abcdef0123456789abcdef01234567", "x/y z#.bin");
    ck_assert_str_eq(u, "https://hub.example/gpt2/resolve/"
                        "0123456789abcdef0123456789abcdef01234567/x/y%20z%23.bin");
    free(u);
    hf_repo d = {HF_DATASET, "o/d"};
    u = hf_url_resolve(EP, &d, "refs/pr/2", "a%b");
    ck_assert_str_eq(u, "https://hub.example/datasets/o/d/resolve/refs%2Fpr%2F2/a%25b");
    free(u);
}
END_TEST

START_TEST(endpoints) {
    char *out;
    ck_assert_int_eq(hf_endpoint_normalize("http://127.0.0.1:8765/", &out, NULL), HF_OK);
    ck_assert_str_eq(out, "http://127.0.0.1:8765");
    free(out);
    ck_assert_int_eq(hf_endpoint_normalize("https://mirror.example/hf//", &out, NULL), HF_OK);
    ck_assert_str_eq(out, "https://mirror.example/hf");
    free(out);
    const char *bad[] = {"",
                         "ftp://x",
                         "file:///etc",
                         "not a url",
                         "http://u:p@host",
                         "http://host/?q=1",
                         "http://host/#f"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hf_error err = {0};
        ck_assert_msg(hf_endpoint_normalize(bad[i], &out, &err) == HF_EUSAGE, "%s", bad[i]);
        ck_assert_ptr_null(out);
    }
}
END_TEST

START_TEST(origins) {
    ck_assert(hf_url_same_origin("http://127.0.0.1:8765/a", "http://127.0.0.1:8765"));
    ck_assert(hf_url_same_origin("https://HUB.example/x", "https://hub.example:443"));
    ck_assert(!hf_url_same_origin("http://localhost:8765/a", "http://127.0.0.1:8765"));
    ck_assert(!hf_url_same_origin("http://127.0.0.1:8766/a", "http://127.0.0.1:8765"));
    ck_assert(!hf_url_same_origin("https://127.0.0.1:8765/a", "http://127.0.0.1:8765"));
    ck_assert(!hf_url_same_origin("garbage", "http://127.0.0.1:8765"));
    ck_assert(hf_url_is_http("HTTPS://x"));
    ck_assert(!hf_url_is_http("file:///etc/passwd"));
    ck_assert(!hf_url_is_http("ftp://x"));
}
END_TEST

START_TEST(urls_in_messages) {
    struct {
        const char *url, *shown;
    } cases[] = {
        /* the endpoint's own queries are shown */
        {"https://hub.example/api/models/a/b/tree/main?recursive=true&expand=false",
         "https://hub.example/api/models/a/b/tree/main?recursive=true&expand=false"},
        {"https://hub.example/api/models?search=bert&sort=downloads&limit=5",
         "https://hub.example/api/models?search=bert&sort=downloads&limit=5"},
        /* unless a key may carry credentials */
        {"https://hub.example/api/complete_multipart?uploadId=1&signature=abc&expiration=9",
         "https://hub.example/api/complete_multipart?..."},
        {"https://hub.example/x?Key-Pair-Id=K&Policy=p", "https://hub.example/x?..."},
        {"https://hub.example/x?a=1&access_token=t", "https://hub.example/x?..."},
        /* a value naming those words is not a key */
        {"https://hub.example/api/models?search=signature",
         "https://hub.example/api/models?search=signature"},
        /* another origin: never its query */
        {"https://cdn.example/lfs/abc?response-content-type=x", "https://cdn.example/lfs/abc?..."},
        {"https://hub.example:8443/lfs/abc?X-Amz-Signature=s",
         "https://hub.example:8443/lfs/abc?..."},
        {"https://cdn.example/lfs/abc", "https://cdn.example/lfs/abc"},
        {"https://cdn.example/lfs/abc#frag", "https://cdn.example/lfs/abc#frag"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = hf_url_for_message(cases[i].url, EP);
        ck_assert_str_eq(got, cases[i].shown);
        free(got);
    }
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("url");
    ADD_TEST(s, encoding);
    ADD_TEST(s, info_urls);
    ADD_TEST(s, tree_urls);
    ADD_TEST(s, resolve_urls);
    ADD_TEST(s, endpoints);
    ADD_TEST(s, origins);
    ADD_TEST(s, urls_in_messages);
    return s;
}
