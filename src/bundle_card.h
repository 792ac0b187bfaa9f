/* The model card's YAML front matter (README.md), read with libyaml into JSON, and the
 * license and name it gives. */
#ifndef HF_BUNDLE_CARD_H
#define HF_BUNDLE_CARD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define HF_CARD_MAX_YAML (1u << 20) /* front matter larger than this is not read */
#define HF_CARD_MAX_NODES 100000    /* JSON values made from one document, aliases expanded */
#define HF_CARD_MAX_DEPTH 64

/* The front matter of a card, as huggingface_hub finds it: after optional white space, a line
 * "---", then the text up to the next line that is "---". False when there is none. */
bool hf_card_front_matter(const char *text, size_t len, const char **start, size_t *n);

/* The first YAML document of `yaml` as JSON: mappings become objects (scalar keys as their
 * text; other keys are left out; a repeated key keeps its last value), sequences arrays,
 * quoted and block scalars strings, and plain scalars what YAML 1.2's core schema makes of
 * them (null, true/false, integers, floats, else strings). Aliases are expanded, within
 * HF_CARD_MAX_NODES values and HF_CARD_MAX_DEPTH levels (so alias bombs and cycles are
 * refused); the documents after the first are not read. *out is NULL for an empty document.
 * Invalid or refused YAML is HF_EUSAGE. */
hf_code hf_card_yaml_to_json(const char *yaml, size_t len, json_t **out, hf_error *err);

/* Both at once: the card data of a README.md, *out NULL when it has no front matter. */
hf_code hf_card_parse(const char *readme, size_t len, json_t **out, hf_error *err);

/* The licenses the card names: `license` when it is a string, or the strings of a `license`
 * list (other values are ignored). Returns how many were put in out (borrowed from card). */
size_t hf_card_licenses(const json_t *card, const char **out, size_t max);

/* A name for the repository from the card: pretty_name, model_name or model-index[0].name
 * (the first that is a non-empty string), else NULL (borrowed from card). */
const char *hf_card_name(const json_t *card);

#endif
