/* The card writer: YAML that parses back to the same mapping (tricky strings quoted), checks,
 * merge into an existing README, and the sources' repositories. */
#include <string.h>

#include "bundle_card.h"
#include "card_write.h"
#include "unit.h"

static json_t *parse_yaml(const char *yaml) {
    json_t *out = NULL;
    hf_error err = {0};
    ck_assert_msg(hf_card_yaml_to_json(yaml, strlen(yaml), &out, &err) == HF_OK, "%s: %s", yaml,
                  err.msg);
    return out;
}

/* Writes v as YAML, reads it back, and checks that the two are the same. Returns the YAML. */
static char *round_trip(json_t *v) {
    char *yaml = hf_card_yaml(v);
    ck_assert_ptr_nonnull(yaml);
    json_t *back = parse_yaml(yaml);
    ck_assert_msg(json_equal(v, back), "round trip changed the value:\n%s", yaml);
    json_decref(back);
    return yaml;
}

START_TEST(tricky_strings_round_trip) {
    static const char *const tricky[] = {
        "yes",       "no",          "Yes",        "NO",       "on",       "off",         "y",
        "n",         "true",        "False",      "null",     "Null",     "~",           "",
        "1e3",       "1E3",         "0x10",       "012",      "1.5",      "-1",          "+1",
        ".5",        "1_000",       "2024-01-01", "a: b",     "a:b",      "key:",        "- item",
        "-",         "#comment",    "a #b",       "ünïcödé",  "日本語",   "emoji 😀",     " leading",
        "trailing ", "multi\nline", "tab\there",  "quote\"s", "it's",     "back\\slash", "[list]",
        "{map}",     "&anchor",     "*alias",     "!tag",     "|",        ">",           "%percent",
        "@at",       "`tick",       "?q",         ",comma",   "ok plain", NULL};
    json_t *list = json_array();
    json_t *map = json_object();
    for (size_t i = 0; tricky[i]; i++) {
        json_array_append_new(list, json_string(tricky[i]));
        json_object_set_new(map, tricky[i], json_string(tricky[i]));
    }
    json_t *v = json_pack("{s:o, s:o, s:s}", "tags", list, "nested", map, "license", "mit");
    char *yaml = round_trip(v);
    /* quoted as YAML 1.1 readers (PyYAML, the Hub) need, not only YAML 1.2 ones */
    ck_assert_ptr_nonnull(strstr(yaml, "- \"yes\"\n"));
    ck_assert_ptr_nonnull(strstr(yaml, "- \"no\"\n"));
    ck_assert_ptr_nonnull(strstr(yaml, "- \"null\"\n"));
    ck_assert_ptr_nonnull(strstr(yaml, "- \"1e3\"\n"));
    ck_assert_ptr_nonnull(strstr(yaml, "- \"a: b\"\n"));
    ck_assert_ptr_nonnull(strstr(yaml, "- \"- item\"\n"));
    ck_assert_ptr_nonnull(strstr(yaml, "- \"ünïcödé\"\n")); /* UTF-8 as is, quoted */
    ck_assert_ptr_nonnull(strstr(yaml, "license: mit\n"));  /* plain when safe */
    ck_assert_ptr_nonnull(strstr(yaml, "- ok plain\n"));
    free(yaml);
    json_decref(v);
}
END_TEST

START_TEST(other_values_round_trip) {
    json_t *v =
        json_pack("{s:i, s:f, s:f, s:b, s:b, s:n, s:[], s:{}, s:[{s:s, s:[i, s]}], s:I}", "int", 3,
                  "real", 1.5, "whole", 2.0, "t", 1, "f", 0, "nothing", "empty", "none",
                  "model-index", "name", "x", "results", 1, "two", "big", (json_int_t)1 << 40);
    free(round_trip(v));
    json_decref(v);
}
END_TEST

START_TEST(checks_like_the_hub) {
    hf_error err = {0};
    json_t *ok =
        json_pack("{s:s, s:[s, s], s:s, s:[s], s:s, s:s}", "license", "apache-2.0", "tags", "a",
                  "b", "base_model", "acme/tiny-model", "datasets", "acme/tiny-dataset", "language",
                  "en", "pipeline_tag", "text-generation");
    ck_assert_int_eq(hf_card_check(ok, &err), HF_OK);
    json_decref(ok);
    struct {
        const char *json, *word;
    } bad[] = {{"{\"license\": \"proprietary\"}", "license"},
               {"{\"license\": [\"mit\", 3]}", "license"},
               {"{\"base_model\": \"no-owner\"}", "base_model"},
               {"{\"base_model\": \"a b/c\"}", "base_model"},
               {"{\"datasets\": [\"ok/ok\", \"--x\"]}", "datasets"},
               {"{\"tags\": [\"a\", 1]}", "tags"},
               {"{\"tags\": {\"a\": 1}}", "tags"},
               {"{\"pipeline_tag\": 3}", "pipeline_tag"},
               {"[1]", "mapping"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *v = json_loads(bad[i].json, 0, NULL);
        ck_assert_int_eq(hf_card_check(v, &err), HF_EUSAGE);
        ck_assert_msg(strstr(err.msg, bad[i].word), "%s: %s", bad[i].json, err.msg);
        json_decref(v);
    }
    ck_assert(hf_card_license_known("cc-by-4.0"));
    ck_assert(!hf_card_license_known("CC-BY-4.0"));
}
END_TEST

START_TEST(merge_keeps_body_and_other_keys) {
    const char *readme = "---\nlicense: apache-2.0\nlibrary_name: transformers\ntags:\n- a\n"
                         "---\n\n# Title\n\nBody text: kept.\n";
    json_t *given = json_pack("{s:s, s:[s]}", "license", "mit", "tags", "yes");
    char *out = NULL;
    hf_error err = {0};
    ck_assert_int_eq(hf_card_merge(readme, strlen(readme), given, &out, &err), HF_OK);
    json_t *meta = NULL;
    ck_assert_int_eq(hf_card_parse(out, strlen(out), &meta, &err), HF_OK);
    json_t *want = json_pack("{s:s, s:s, s:[s]}", "license", "mit", "library_name", "transformers",
                             "tags", "yes");
    ck_assert_msg(json_equal(meta, want), "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "\n---\n\n# Title\n\nBody text: kept.\n"));
    json_decref(want);
    json_decref(meta);
    free(out);
    /* a README without front matter keeps all of its text as the body */
    ck_assert_int_eq(hf_card_merge("# Hi\n", 5, given, &out, &err), HF_OK);
    ck_assert_str_eq(out + strlen(out) - 5, "# Hi\n");
    ck_assert(strncmp(out, "---\n", 4) == 0);
    free(out);
    /* front matter that is not a mapping */
    const char *list = "---\n- a\n---\nx\n";
    ck_assert_int_eq(hf_card_merge(list, strlen(list), given, &out, &err), HF_EUSAGE);
    ck_assert_ptr_null(out);
    json_decref(given);
}
END_TEST

START_TEST(sources_and_tags) {
    hf_manifest m[3] = {{.repo_id = "acme/base", .repo_type = HF_MODEL},
                        {.repo_id = "acme/data", .repo_type = HF_DATASET},
                        {.repo_id = "acme/base", .repo_type = HF_MODEL}};
    json_t *meta = json_pack("{s:s}", "base_model", "org/other");
    hf_error err = {0};
    ck_assert_int_eq(hf_card_add_sources(meta, m, 3, &err), HF_OK);
    const char *tags[] = {"galaxy", "galaxy"};
    ck_assert_int_eq(hf_card_add_tags(meta, tags, 2, &err), HF_OK);
    json_t *want = json_pack("{s:[s, s], s:s, s:[s]}", "base_model", "org/other", "acme/base",
                             "datasets", "acme/data", "tags", "galaxy");
    ck_assert(json_equal(meta, want));
    json_decref(want);
    json_decref(meta);
}
END_TEST

START_TEST(compose_and_body) {
    hf_upload_file f[2] = {{.path = "a|b.txt", .size = 2048}, {.path = "README.md", .size = 1}};
    memset(f[0].sha256, 'a', 64);
    hf_upload_files files = {f, 2, 2};
    hf_manifest src = {.repo_id = "acme/base", .repo_type = HF_MODEL, .revision = "main"};
    memset(src.commit, 'c', 40);
    hf_card_body_info bi = {"alice/new", "What it is.", &src, 1, "hf-upload 0.1.0", &files};
    char *body = hf_card_body(&bi);
    ck_assert_ptr_nonnull(strstr(body, "# new\n\nWhat it is.\n"));
    ck_assert_ptr_nonnull(strstr(body, "acme/base"));
    ck_assert_ptr_nonnull(strstr(body, src.commit));
    ck_assert_ptr_nonnull(strstr(body, "(revision `main`)"));
    ck_assert_ptr_nonnull(strstr(body, "| a\\|b.txt | 2.0 KiB |"));
    ck_assert_ptr_null(strstr(body, "| README.md"));
    json_t *meta = json_pack("{s:s}", "license", "mit");
    char *card = hf_card_compose(meta, body);
    ck_assert(strncmp(card, "---\nlicense: mit\n---\n\n# new\n", 28) == 0);
    json_decref(meta);
    free(card);
    free(body);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("card_write");
    ADD_TEST(s, tricky_strings_round_trip);
    ADD_TEST(s, other_values_round_trip);
    ADD_TEST(s, checks_like_the_hub);
    ADD_TEST(s, merge_keeps_body_and_other_keys);
    ADD_TEST(s, sources_and_tags);
    ADD_TEST(s, compose_and_body);
    return s;
}
