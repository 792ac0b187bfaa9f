/* RO-Crate metadata: the root Dataset, the files, licenses from the card. */
#include <stdlib.h>
#include <string.h>

#include "bundle_card.h"
#include "bundle_rocrate.h"
#include "unit.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"
#define SHA "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

static hf_manifest manifest(void) {
    const char *json = "{\"repo_id\":\"acme/tiny\",\"repo_type\":\"dataset\",\"commit\":\"" COMMIT
                       "\",\"endpoint\":\"http://127.0.0.1:9\",\"files\":["
                       "{\"path\":\"a b/é.txt\",\"size\":6,\"lfs\":false,\"sha256\":\"" SHA
                       "\",\"git_oid\":\"ce013625030ba8dba906f756967f9e9ca394464a\"},"
                       "{\"path\":\"x%y.bin\",\"size\":6,\"lfs\":true,\"sha256\":\"" SHA
                       "\",\"git_oid\":\"ce013625030ba8dba906f756967f9e9ca394464a\"}]}";
    hf_manifest m;
    ck_assert_int_eq(hf_manifest_parse(json, strlen(json), &m, NULL), HF_OK);
    return m;
}

static json_t *build(const hf_manifest *m, const char *card_yaml, long long date) {
    json_t *card = NULL;
    if (card_yaml)
        ck_assert_int_eq(hf_card_yaml_to_json(card_yaml, strlen(card_yaml), &card, NULL), HF_OK);
    hf_rocrate_in in = {m, "hf-manifest.json", 12, SHA, card, date};
    char *text = hf_rocrate_build(&in);
    ck_assert_ptr_nonnull(text);
    ck_assert(text[strlen(text) - 1] == '\n');
    json_t *doc = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    /* the same input, the same bytes */
    char *again = hf_rocrate_build(&in);
    ck_assert_str_eq(text, again);
    free(again);
    free(text);
    json_decref(card);
    return doc;
}

static json_t *entity(json_t *doc, const char *id) {
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(doc, "@graph"), i, v) {
        if (strcmp(json_string_value(json_object_get(v, "@id")), id) == 0)
            return v;
    }
    return NULL;
}

START_TEST(structure) {
    hf_manifest m = manifest();
    json_t *doc = build(&m, "license: cc-by-4.0\npretty_name: Tiny data\n", 1709280900);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "@context")),
                     "https://w3id.org/ro/crate/1.1/context");
    json_t *meta = entity(doc, "ro-crate-metadata.json");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(meta, "about"), "@id")),
                     "./");
    json_t *root = entity(doc, "./");
    ck_assert_str_eq(json_string_value(json_object_get(root, "@type")), "Dataset");
    ck_assert_str_eq(json_string_value(json_object_get(root, "name")), "Tiny data");
    ck_assert_str_eq(json_string_value(json_object_get(root, "datePublished")),
                     "2024-03-01T08:15:00Z");
    ck_assert_str_eq(json_string_value(json_object_get(root, "version")), COMMIT);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(root, "isBasedOn"), "@id")),
                     "http://127.0.0.1:9/datasets/acme/tiny/tree/" COMMIT);
    json_t *parts = json_object_get(root, "hasPart");
    ck_assert_uint_eq(json_array_size(parts), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(parts, 1), "@id")),
                     "a%20b/%C3%A9.txt");
    json_t *f = entity(doc, "x%25y.bin");
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(json_string_value(json_object_get(f, "@type")), "File");
    ck_assert_str_eq(json_string_value(json_object_get(f, "name")), "x%y.bin");
    ck_assert_str_eq(json_string_value(json_object_get(f, "contentSize")), "6");
    ck_assert_str_eq(json_string_value(json_object_get(f, "sha256")), SHA);
    json_t *lic = json_object_get(root, "license");
    ck_assert_str_eq(json_string_value(json_object_get(lic, "@id")), "#license-cc-by-4.0");
    ck_assert_ptr_nonnull(entity(doc, "#license-cc-by-4.0"));
    json_decref(doc);
    hf_manifest_free(&m);
}
END_TEST

START_TEST(without_card_or_date) {
    hf_manifest m = manifest();
    free(m.endpoint);
    m.endpoint = NULL;
    json_t *doc = build(&m, NULL, -1);
    json_t *root = entity(doc, "./");
    ck_assert_str_eq(json_string_value(json_object_get(root, "name")), "acme/tiny");
    ck_assert_ptr_null(json_object_get(root, "license"));
    ck_assert_ptr_null(json_object_get(root, "datePublished"));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(root, "isBasedOn"), "@id")),
                     "https://huggingface.co/datasets/acme/tiny/tree/" COMMIT);
    json_decref(doc);
    hf_manifest_free(&m);
}
END_TEST

START_TEST(several_and_linked_licenses) {
    hf_manifest m = manifest();
    json_t *doc = build(&m, "license: [mit, \"a b\", https://example.org/l]\n", -1);
    json_t *lic = json_object_get(entity(doc, "./"), "license");
    ck_assert_uint_eq(json_array_size(lic), 3);
    ck_assert_ptr_nonnull(entity(doc, "#license-a%20b"));
    ck_assert_ptr_nonnull(entity(doc, "https://example.org/l"));
    json_decref(doc);
    doc =
        build(&m, "license: other\nlicense_name: acme-1\nlicense_link: https://acme.test/L\n", -1);
    json_t *e = entity(doc, "https://acme.test/L");
    ck_assert_str_eq(json_string_value(json_object_get(e, "name")), "acme-1");
    json_decref(doc);
    doc = build(&m, "license: 2.0\n", -1);
    ck_assert_ptr_null(json_object_get(entity(doc, "./"), "license"));
    json_decref(doc);
    hf_manifest_free(&m);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("bundle_rocrate");
    ADD_TEST(s, structure);
    ADD_TEST(s, without_card_or_date);
    ADD_TEST(s, several_and_linked_licenses);
    return s;
}
