/* The model card (README.md) front matter: hf_card_front_matter and hf_card_yaml_to_json
 * (libyaml into JSON, with limits on aliases, values and depth), then what hf-bundle reads
 * from it. The input is tried both as a whole README and as bare YAML. */
#include "bundle.h"
#include "bundle_card.h"
#include "fuzz.h"

static void use(json_t *card) {
    if (!card)
        return;
    char *text = json_dumps(card, JSON_ENCODE_ANY | JSON_COMPACT);
    FUZZ_CHECK(text != NULL); /* a value made of valid JSON parts */
    free(text);
    const char *lic[8];
    size_t n = hf_card_licenses(card, lic, 8);
    FUZZ_CHECK(n <= 8);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(lic[i] && lic[i][0]);
    const char *name = hf_card_name(card);
    FUZZ_CHECK(!name || name[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    const char *fm;
    size_t n;
    if (hf_card_front_matter(text, size, &fm, &n))
        FUZZ_CHECK(fm >= text && fm + n <= text + size);

    json_t *card = NULL;
    hf_error err = {0};
    hf_code rc = hf_card_parse(text, size, &card, &err);
    fuzz_check_error(&err, rc);
    FUZZ_CHECK(rc == HF_OK || card == NULL);
    use(card);
    json_decref(card);

    json_t *y = NULL;
    hf_error err2 = {0};
    rc = hf_card_yaml_to_json(text, size, &y, &err2);
    fuzz_check_error(&err2, rc);
    FUZZ_CHECK(rc == HF_OK || y == NULL);
    use(y);
    json_decref(y);

    json_t *b = hf_bundle_card(text, size, NULL);
    FUZZ_CHECK(b == NULL || json_is_object(b));
    use(b);
    json_decref(b);
    return 0;
}
