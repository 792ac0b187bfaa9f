/* The card writer: YAML read into JSON (as --card files and existing README.md are), checked,
 * written back with libyaml's emitter, which must read back to the same value; and the merge
 * of metadata into the input taken as a README.md. */
#include "bundle_card.h"
#include "card_write.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    json_t *v = NULL;
    hf_error err = {0};
    hf_code rc = hf_card_yaml_to_json(text, size, &v, &err);
    if (rc == HF_OK && v) {
        hf_error e2 = {0};
        fuzz_check_error(&e2, hf_card_check(v, &e2));
        char *yaml = hf_card_yaml(v);
        if (yaml) {
            json_t *back = NULL;
            hf_error e3 = {0};
            FUZZ_CHECK(hf_card_yaml_to_json(yaml, strlen(yaml), &back, &e3) == HF_OK);
            FUZZ_CHECK(json_equal(v, back));
            json_decref(back);
            free(yaml);
        }
    }
    json_decref(v);

    json_t *given = json_pack("{s:s, s:[s, s]}", "license", "mit", "tags", "yes", "a: b");
    char *out = NULL;
    hf_error e4 = {0};
    rc = hf_card_merge(text, size, given, &out, &e4);
    fuzz_check_error(&e4, rc);
    FUZZ_CHECK((rc == HF_OK) == (out != NULL));
    if (out) {
        json_t *meta = NULL;
        hf_error e5 = {0};
        FUZZ_CHECK(hf_card_parse(out, strlen(out), &meta, &e5) == HF_OK);
        FUZZ_CHECK(json_equal(json_object_get(meta, "tags"), json_object_get(given, "tags")));
        json_decref(meta);
        free(out);
    }
    json_decref(given);
    return 0;
}
