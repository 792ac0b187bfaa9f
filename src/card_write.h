/* The model card hf-upload writes: metadata checked as the Hub checks it, YAML front matter
 * written with libyaml's emitter, merged into an existing README.md, and the body (title,
 * description, provenance, the files). */
#ifndef HF_CARD_WRITE_H
#define HF_CARD_WRITE_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"
#include "manifest.h"
#include "upload_plan.h"

/* Metadata the Hub would refuse: not a mapping, a license that is not one of the Hub's
 * identifiers, base_model or datasets that are not repository ids, tags, language or
 * library_name that are not strings (or lists of strings), a pipeline_tag that is not a string.
 * HF_EUSAGE naming every problem. */
hf_code hf_card_check(const json_t *meta, hf_error *err);

/* Whether s is one of the Hub's license identifiers. */
bool hf_card_license_known(const char *s);

/* The YAML of a JSON value (block style, UTF-8, no line wrapping), strings quoted whenever a
 * YAML 1.1 or 1.2 reader could take them for something else (yes, no, null, 1e3, ': ',
 * leading '-', non-ASCII, ...). NULL when out of memory or for values YAML cannot hold. */
char *hf_card_yaml(const json_t *meta);

/* Reads a --card file: a YAML mapping (a README.md's front matter is taken too). HF_EUSAGE
 * when it is not one. */
hf_code hf_card_read_meta(const char *path, json_t **out, hf_error *err);

/* Adds what manifests of the inputs say to the metadata: model repositories to base_model,
 * dataset repositories to datasets (as a string when alone, else a list; kept once). */
hf_code hf_card_add_sources(json_t *meta, const hf_manifest *sources, size_t n, hf_error *err);
/* Adds tags (kept once). */
hf_code hf_card_add_tags(json_t *meta, const char *const *tags, size_t n, hf_error *err);

typedef struct {
    const char *repo_id;
    const char *description;    /* may be NULL */
    const hf_manifest *sources; /* the inputs, each at its commit */
    size_t n_sources;
    const char *tool; /* "hf-upload 0.1.0" */
    const hf_upload_files *files;
} hf_card_body_info;

/* The Markdown body of a new card (caller frees). */
char *hf_card_body(const hf_card_body_info *info);

/* "---\n" YAML "---\n" body (caller frees); NULL when out of memory. */
char *hf_card_compose(const json_t *meta, const char *body);

/* An existing README.md with given's keys replacing its metadata's (the others stay) and its
 * body kept (caller frees *out). HF_EUSAGE when its front matter is not a mapping. */
hf_code hf_card_merge(const char *readme, size_t len, const json_t *given, char **out,
                      hf_error *err);

#endif
