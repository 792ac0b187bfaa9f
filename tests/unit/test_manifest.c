/* The manifest: strict reading, stable writing, round trips. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"
#include "unit.h"

#define C40 "0123456789abcdef0123456789abcdef01234567"
#define S64 "a7a17d6d844b5de815ccab5f42cad6d24496db3850a2a43d8258221018ce87d2"

static const char *good =
    "{\"repo_id\":\"org/name\",\"repo_type\":\"dataset\",\"revision\":\"main\","
    "\"commit\":\"" C40 "\",\"commit_date\":\"2024-01-01T00:00:00.000Z\","
    "\"endpoint\":\"https://hub.example\","
    "\"files\":[{\"path\":\"b/c.txt\",\"size\":3,\"lfs\":false,\"sha256\":\"" S64 "\","
    "\"git_oid\":\"" C40 "\",\"url\":\"ignored\"},"
    "{\"path\":\"a.bin\",\"size\":10,\"lfs\":true,\"sha256\":\"" S64 "\",\"git_oid\":\"" C40
    "\"}],\"tool\":{\"name\":\"hf-fetch\",\"version\":\"0.1.0\"},\"fetched_at\":null}";

START_TEST(reads_and_sorts) {
    hf_manifest m;
    hf_error err = {0};
    ck_assert_int_eq(hf_manifest_parse(good, strlen(good), &m, &err), HF_OK);
    ck_assert_str_eq(m.repo_id, "org/name");
    ck_assert_int_eq(m.repo_type, HF_DATASET);
    ck_assert_str_eq(m.commit, C40);
    ck_assert_str_eq(m.commit_date, "2024-01-01T00:00:00.000Z");
    ck_assert_uint_eq(m.files.n, 2);
    ck_assert_str_eq(m.files.v[0].path, "a.bin");
    ck_assert(m.files.v[0].lfs);
    ck_assert_int_eq(m.files.v[1].size, 3);
    ck_assert_ptr_null(m.fetched_at);
    hf_manifest_free(&m);
}
END_TEST

START_TEST(writes_in_a_fixed_order) {
    hf_manifest m;
    ck_assert_int_eq(hf_manifest_parse(good, strlen(good), &m, NULL), HF_OK);
    json_t *o = hf_manifest_json(&m);
    char *text = json_dumps(o, 0);
    const char *keys[] = {"\"repo_id\"", "\"repo_type\"", "\"revision\"", "\"commit\"",
                          "\"commit_date\"", "\"endpoint\"", "\"files\"", "\"tool\"",
                          "\"fetched_at\""};
    const char *at = text;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const char *k = strstr(at, keys[i]);
        ck_assert_msg(k != NULL, "%s missing or out of order", keys[i]);
        at = k;
    }
    ck_assert_ptr_nonnull(
        strstr(text, "\"url\": \"https://hub.example/datasets/org/name/resolve/" C40 "/b/c.txt\""));
    /* round trip: what was written reads back the same */
    hf_manifest again;
    ck_assert_int_eq(hf_manifest_parse(text, strlen(text), &again, NULL), HF_OK);
    json_t *o2 = hf_manifest_json(&again);
    char *text2 = json_dumps(o2, 0);
    ck_assert_str_eq(text, text2);
    free(text);
    free(text2);
    json_decref(o);
    json_decref(o2);
    hf_manifest_free(&m);
    hf_manifest_free(&again);
}
END_TEST

START_TEST(refuses_bad_manifests) {
    const char *bad[] = {
        "",
        "[]",
        "{\"repo_id\":\"org/name\"}",
        "{\"repo_id\":\"bad--id\",\"repo_type\":\"model\",\"commit\":\"" C40 "\",\"files\":[]}",
        "{\"repo_id\":\"o/n\",\"repo_type\":\"widget\",\"commit\":\"" C40 "\",\"files\":[]}",
        "{\"repo_id\":\"o/n\",\"repo_type\":\"model\",\"commit\":\"main\",\"files\":[]}",
        "{\"repo_id\":\"o/n\",\"repo_type\":\"model\",\"commit\":\"" C40 "\",\"files\":{}}",
        "{\"repo_id\":\"o/n\",\"repo_type\":\"model\",\"commit\":\"" C40 "\",\"files\":[{"
        "\"path\":\"../x\",\"size\":1,\"lfs\":false,\"sha256\":\"" S64 "\",\"git_oid\":\"" C40
        "\"}]}",
        "{\"repo_id\":\"o/n\",\"repo_type\":\"model\",\"commit\":\"" C40 "\",\"files\":[{"
        "\"path\":\"x\",\"size\":-1,\"lfs\":false,\"sha256\":\"" S64 "\",\"git_oid\":\"" C40
        "\"}]}",
        "{\"repo_id\":\"o/n\",\"repo_type\":\"model\",\"commit\":\"" C40 "\",\"files\":[{"
        "\"path\":\"x\",\"size\":1,\"lfs\":false,\"sha256\":\"abc\",\"git_oid\":\"" C40 "\"}]}",
        "{\"repo_id\":\"o/n\",\"repo_type\":\"model\",\"commit\":\"" C40 "\",\"files\":[{"
        "\"path\":\"x\",\"size\":1,\"lfs\":\"no\",\"sha256\":\"" S64 "\",\"git_oid\":\"" C40
        "\"}]}",
        "{\"repo_id\":\"o/n\",\"repo_type\":\"model\",\"commit\":\"" C40 "\",\"files\":[{"
        "\"path\":\"x\",\"size\":1,\"lfs\":false,\"sha256\":\"" S64 "\",\"git_oid\":\"" C40
        "\"},{\"path\":\"x\",\"size\":1,\"lfs\":false,\"sha256\":\"" S64 "\",\"git_oid\":\"" C40
        "\"}]}",
        "{\"repo_id\":\"o/n\",\"repo_type\":\"model\",\"revision\":\"a\\u0001\",\"commit\":\"" C40
        "\",\"files\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hf_manifest m;
        hf_error err = {0};
        ck_assert_msg(hf_manifest_parse(bad[i], strlen(bad[i]), &m, &err) == HF_EUSAGE,
                      "accepted case %zu", i);
        ck_assert_ptr_nonnull(strstr(err.msg, "manifest"));
    }
}
END_TEST

START_TEST(file_round_trip) {
    char dir[] = "/tmp/hf-manifest-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/m.json", dir);
    hf_manifest m, back;
    ck_assert_int_eq(hf_manifest_parse(good, strlen(good), &m, NULL), HF_OK);
    ck_assert_int_eq(hf_manifest_write(&m, path, NULL), HF_OK);
    ck_assert_int_eq(hf_manifest_read(path, &back, NULL), HF_OK);
    ck_assert_uint_eq(back.files.n, 2);
    ck_assert_str_eq(back.files.v[1].path, "b/c.txt");
    hf_error err = {0};
    hf_manifest none;
    snprintf(path, sizeof path, "%s/missing.json", dir);
    ck_assert_int_eq(hf_manifest_read(path, &none, &err), HF_EUSAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "does not exist"));
    hf_manifest_free(&m);
    hf_manifest_free(&back);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("manifest");
    ADD_TEST(s, reads_and_sorts);
    ADD_TEST(s, writes_in_a_fixed_order);
    ADD_TEST(s, refuses_bad_manifests);
    ADD_TEST(s, file_round_trip);
    return s;
}
