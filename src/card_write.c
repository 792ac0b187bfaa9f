/* Writing model cards: checks, libyaml emitter, merge and body. */
#include "card_write.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "buf.h"
#include "bundle_card.h"
#include "fsutil.h"
#include "progress.h"
#include "repo.h"

/* The identifiers @huggingface/hub 2.x lists (hub-protocol.md). */
static const char *const licenses[] = {"apache-2.0",
                                       "mit",
                                       "openrail",
                                       "bigscience-openrail-m",
                                       "creativeml-openrail-m",
                                       "bigscience-bloom-rail-1.0",
                                       "bigcode-openrail-m",
                                       "afl-3.0",
                                       "artistic-2.0",
                                       "bsl-1.0",
                                       "bsd",
                                       "bsd-2-clause",
                                       "bsd-3-clause",
                                       "bsd-3-clause-clear",
                                       "c-uda",
                                       "cc",
                                       "cc0-1.0",
                                       "cc-by-2.0",
                                       "cc-by-2.5",
                                       "cc-by-3.0",
                                       "cc-by-4.0",
                                       "cc-by-sa-3.0",
                                       "cc-by-sa-4.0",
                                       "cc-by-nc-2.0",
                                       "cc-by-nc-3.0",
                                       "cc-by-nc-4.0",
                                       "cc-by-nd-4.0",
                                       "cc-by-nc-nd-3.0",
                                       "cc-by-nc-nd-4.0",
                                       "cc-by-nc-sa-2.0",
                                       "cc-by-nc-sa-3.0",
                                       "cc-by-nc-sa-4.0",
                                       "cdla-sharing-1.0",
                                       "cdla-permissive-1.0",
                                       "cdla-permissive-2.0",
                                       "wtfpl",
                                       "ecl-2.0",
                                       "epl-1.0",
                                       "epl-2.0",
                                       "etalab-2.0",
                                       "eupl-1.1",
                                       "agpl-3.0",
                                       "gfdl",
                                       "gpl",
                                       "gpl-2.0",
                                       "gpl-3.0",
                                       "lgpl",
                                       "lgpl-2.1",
                                       "lgpl-3.0",
                                       "isc",
                                       "lppl-1.3c",
                                       "ms-pl",
                                       "mpl-2.0",
                                       "odc-by",
                                       "odbl",
                                       "openrail++",
                                       "osl-3.0",
                                       "postgresql",
                                       "ofl-1.1",
                                       "ncsa",
                                       "unlicense",
                                       "zlib",
                                       "pddl",
                                       "lgpl-lr",
                                       "deepfloyd-if-license",
                                       "llama2",
                                       "llama3",
                                       "llama3.1",
                                       "llama3.2",
                                       "llama3.3",
                                       "gemma",
                                       "apple-ascl",
                                       "apple-amlr",
                                       "unknown",
                                       "other",
                                       NULL};

bool hf_card_license_known(const char *s) {
    for (const char *const *l = licenses; *l; l++)
        if (strcmp(s, *l) == 0)
            return true;
    return false;
}

static bool is_repo_id(const char *s) {
    return hf_repo_id_check(s, NULL) == HF_OK;
}

static bool is_model_id(const char *s) {
    return strchr(s, '/') && is_repo_id(s);
}

static bool is_language(const char *s) {
    size_t n = 0;
    while (islower((unsigned char)s[n]))
        n++;
    if (n < 2 || n > 3)
        return false;
    for (const char *p = s + n; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
            return false;
    return s[n] == '\0' || ((s[n] == '-' || s[n] == '_') && s[n + 1]);
}

/* A key whose value is a string or a list of strings, each passing ok (NULL: any). */
static void check_strings(const json_t *meta, const char *key, bool (*ok)(const char *),
                          const char *what, hf_buf *problems) {
    const json_t *v = json_object_get(meta, key);
    if (!v || json_is_null(v))
        return;
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *x = json_is_array(v) ? json_array_get(v, i) : v;
        if (!json_is_string(x)) {
            hf_buf_addf(problems, "; \"%s\" must be a string or a list of strings", key);
            return;
        }
        if (ok && !ok(json_string_value(x)))
            hf_buf_addf(problems, "; \"%s\": \"%.80s\" is not %s", key, json_string_value(x), what);
    }
}

hf_code hf_card_check(const json_t *meta, hf_error *err) {
    if (!json_is_object(meta))
        return hf_fail(err, HF_EUSAGE, "invalid card metadata: it must be a YAML mapping");
    hf_buf p = {0};
    check_strings(meta, "license", hf_card_license_known, "a license identifier the Hub knows", &p);
    check_strings(meta, "base_model", is_model_id, "a repository id (owner/name)", &p);
    check_strings(meta, "datasets", is_repo_id, "a repository id", &p);
    check_strings(meta, "language", is_language, "a language code", &p);
    check_strings(meta, "tags", NULL, NULL, &p);
    check_strings(meta, "library_name", NULL, NULL, &p);
    const json_t *pt = json_object_get(meta, "pipeline_tag");
    if (pt && !json_is_null(pt) && !json_is_string(pt))
        hf_buf_adds(&p, "; \"pipeline_tag\" must be a string");
    if (!p.len) {
        hf_buf_free(&p);
        return HF_OK;
    }
    hf_code rc = hf_fail(err, HF_EUSAGE, "invalid card metadata: %.900s", p.data + 2);
    hf_buf_free(&p);
    return rc;
}

/* -- YAML ---------------------------------------------------------------------------------- */

static bool word_in(const char *s, const char *const *words) {
    for (; *words; words++)
        if (strcasecmp(s, *words) == 0)
            return true;
    return false;
}

/* Whether a plain scalar s could be read as something other than this string: YAML 1.1
 * booleans and nulls, anything starting like a number, an indicator or white space,
 * ": " and " #", and any byte outside printable ASCII. */
static bool needs_quotes(const char *s, size_t n) {
    static const char *const words[] = {"y",    "n",     "yes",  "no", "on", "off",
                                        "true", "false", "null", "~",  NULL};
    if (!n || word_in(s, words))
        return true;
    if (strchr("-?:,[]{}#&*!|>'\"%@`+.0123456789 ", s[0]))
        return true;
    if (s[n - 1] == ' ' || s[n - 1] == ':')
        return true;
    if (strstr(s, ": ") || strstr(s, " #"))
        return true;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            return true;
    return false;
}

static bool scalar(yaml_emitter_t *em, const char *s, size_t n, bool is_string) {
    yaml_event_t ev;
    bool quote = is_string && needs_quotes(s, n);
    yaml_scalar_style_t style = quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE;
    if (n > INT_MAX || !yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n,
                                                     !quote, quote, style))
        return false;
    return yaml_emitter_emit(em, &ev) != 0;
}

static bool emit(yaml_emitter_t *em, const json_t *v, int depth) {
    yaml_event_t ev;
    char num[64];
    if (depth > HF_CARD_MAX_DEPTH)
        return false;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        bool flow = json_object_size(v) == 0;
        if (!yaml_mapping_start_event_initialize(
                &ev, NULL, NULL, 1, flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE) ||
            !yaml_emitter_emit(em, &ev))
            return false;
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            if (!scalar(em, k, strlen(k), true) || !emit(em, x, depth + 1))
                return false;
        }
        return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(em, &ev);
    }
    case JSON_ARRAY: {
        bool flow = json_array_size(v) == 0;
        if (!yaml_sequence_start_event_initialize(
                &ev, NULL, NULL, 1, flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE) ||
            !yaml_emitter_emit(em, &ev))
            return false;
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (!emit(em, x, depth + 1))
                return false;
        }
        return yaml_sequence_end_event_initialize(&ev) && yaml_emitter_emit(em, &ev);
    }
    case JSON_STRING:
        return scalar(em, json_string_value(v), json_string_length(v), true);
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return scalar(em, num, strlen(num), false);
    case JSON_REAL: {
        double d = json_real_value(v);
        snprintf(num, sizeof num, "%.17g", d);
        if (!strpbrk(num, ".eEn"))
            strcat(num, ".0");
        if (strpbrk(num, "n")) /* inf and nan: JSON has none, and YAML spells them .inf */
            return false;
        return scalar(em, num, strlen(num), false);
    }
    case JSON_TRUE:
        return scalar(em, "true", 4, false);
    case JSON_FALSE:
        return scalar(em, "false", 5, false);
    default:
        return scalar(em, "null", 4, false);
    }
}

static int to_buf(void *data, unsigned char *buffer, size_t size) {
    return hf_buf_add(data, buffer, size) ? 1 : 0;
}

char *hf_card_yaml(const json_t *meta) {
    yaml_emitter_t em;
    yaml_event_t ev;
    hf_buf out = {0};
    if (!yaml_emitter_initialize(&em))
        return NULL;
    yaml_emitter_set_output(&em, to_buf, &out);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1);
    yaml_emitter_set_indent(&em, 2);
    bool ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
              yaml_emitter_emit(&em, &ev) &&
              yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
              yaml_emitter_emit(&em, &ev) && emit(&em, meta, 0) &&
              yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&em, &ev) &&
              yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev) &&
              yaml_emitter_flush(&em);
    yaml_emitter_delete(&em);
    if (!ok) {
        hf_buf_free(&out);
        return NULL;
    }
    return hf_buf_take(&out);
}

hf_code hf_card_read_meta(const char *path, json_t **out, hf_error *err) {
    char *text;
    size_t len;
    *out = NULL;
    hf_code rc = hf_read_file(path, HF_CARD_MAX_YAML, &text, &len, err);
    if (rc == HF_ENOTFOUND)
        return hf_fail(err, HF_EUSAGE, "card file %s does not exist", path);
    if (rc != HF_OK)
        return rc;
    const char *fm;
    size_t n;
    if (hf_card_front_matter(text, len, &fm, &n))
        rc = hf_card_yaml_to_json(fm, n, out, err);
    else
        rc = hf_card_yaml_to_json(text, len, out, err);
    free(text);
    if (rc == HF_OK && !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        rc = hf_fail(err, HF_EUSAGE, "card file %s: the metadata must be a YAML mapping", path);
    }
    return rc;
}

/* -- metadata from the inputs -------------------------------------------------------------- */

/* Adds s to meta[key] unless there: a string becomes a list of two. */
static bool add_once(json_t *meta, const char *key, const char *s) {
    json_t *v = json_object_get(meta, key);
    if (!v || json_is_null(v))
        return json_object_set_new(meta, key, json_string(s)) == 0;
    if (json_is_string(v)) {
        if (strcmp(json_string_value(v), s) == 0)
            return true;
        json_t *l = json_pack("[O, s]", v, s);
        return l && json_object_set_new(meta, key, l) == 0;
    }
    if (!json_is_array(v))
        return true; /* hf_card_check names it */
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
        if (json_is_string(x) && strcmp(json_string_value(x), s) == 0)
            return true;
    }
    return json_array_append_new(v, json_string(s)) == 0;
}

hf_code hf_card_add_sources(json_t *meta, const hf_manifest *sources, size_t n, hf_error *err) {
    for (size_t i = 0; i < n; i++) {
        const hf_manifest *m = &sources[i];
        const char *key = m->repo_type == HF_DATASET ? "datasets" : "base_model";
        if (m->repo_type != HF_SPACE && !add_once(meta, key, m->repo_id))
            return hf_fail(err, HF_EOTHER, "out of memory");
    }
    return HF_OK;
}

hf_code hf_card_add_tags(json_t *meta, const char *const *tags, size_t n, hf_error *err) {
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(meta, "tags");
        if (!v || json_is_null(v)) {
            if (json_object_set_new(meta, "tags", json_pack("[s]", tags[i])) != 0)
                return hf_fail(err, HF_EOTHER, "out of memory");
        } else if (!add_once(meta, "tags", tags[i])) {
            return hf_fail(err, HF_EOTHER, "out of memory");
        }
    }
    return HF_OK;
}

/* -- body ---------------------------------------------------------------------------------- */

/* Markdown table cells: '|' and line ends would break the row. */
static void cell(hf_buf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '|')
            hf_buf_adds(b, "\\|");
        else if (*s == '\n' || *s == '\r')
            hf_buf_adds(b, " ");
        else
            hf_buf_add(b, s, 1);
    }
}

char *hf_card_body(const hf_card_body_info *in) {
    hf_buf b = {0};
    const char *name = strrchr(in->repo_id, '/');
    hf_buf_addf(&b, "\n# %s\n\n", name ? name + 1 : in->repo_id);
    if (in->description && *in->description)
        hf_buf_addf(&b, "%s\n\n", in->description);
    hf_buf_adds(&b, "## Provenance\n\n");
    for (size_t i = 0; i < in->n_sources; i++) {
        const hf_manifest *m = &in->sources[i];
        hf_buf_addf(&b, "- %s [%s](%s/%s%s/tree/%s) at commit `%s`",
                    hf_repo_type_name(m->repo_type), m->repo_id,
                    m->endpoint ? m->endpoint : "https://huggingface.co",
                    hf_repo_type_url_prefix(m->repo_type), m->repo_id, m->commit, m->commit);
        if (m->revision && strcmp(m->revision, m->commit) != 0)
            hf_buf_addf(&b, " (revision `%s`)", m->revision);
        hf_buf_adds(&b, "\n");
    }
    hf_buf_addf(&b,
                "- uploaded with %s\n\n## Files\n\n| path | size | sha256 |\n| --- | --- | --- |\n",
                in->tool);
    for (size_t i = 0; in->files && i < in->files->n; i++) {
        const hf_upload_file *f = &in->files->v[i];
        if (strcmp(f->path, "README.md") == 0)
            continue;
        char size[32];
        hf_format_bytes(f->size, size);
        hf_buf_adds(&b, "| ");
        cell(&b, f->path);
        hf_buf_addf(&b, " | %s | `%s` |\n", size, f->sha256);
    }
    return hf_buf_take(&b);
}

char *hf_card_compose(const json_t *meta, const char *body) {
    char *yaml = hf_card_yaml(meta);
    if (!yaml)
        return NULL;
    hf_buf b = {0};
    hf_buf_addf(&b, "---\n%s---\n%s", yaml, body ? body : "");
    free(yaml);
    return hf_buf_take(&b);
}

/* Where the body of a README starts: after the front matter's closing "---" line. */
static const char *after_front_matter(const char *readme, size_t len, const char *fm, size_t n) {
    const char *p = fm + n;
    const char *end = readme + len;
    while (p < end && (*p == '\n' || *p == '\r'))
        p++;
    p += 3; /* the closing --- */
    if (p < end && *p == '\r')
        p++;
    if (p < end && *p == '\n')
        p++;
    return p > end ? end : p;
}

hf_code hf_card_merge(const char *readme, size_t len, const json_t *given, char **out,
                      hf_error *err) {
    const char *fm, *body = readme;
    size_t n;
    json_t *meta = NULL;
    *out = NULL;
    if (hf_card_front_matter(readme, len, &fm, &n)) {
        hf_code rc = hf_card_yaml_to_json(fm, n, &meta, err);
        if (rc != HF_OK) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err ? err->msg : "");
            return hf_fail(err, HF_EUSAGE, "the repository's README.md: %.900s", why);
        }
        if (meta && !json_is_object(meta)) {
            json_decref(meta);
            return hf_fail(err, HF_EUSAGE,
                           "the repository's README.md: its metadata is not a YAML mapping");
        }
        body = after_front_matter(readme, len, fm, n);
    }
    if (!meta)
        meta = json_object();
    if (!meta || json_object_update(meta, (json_t *)given) != 0) {
        json_decref(meta);
        return hf_fail(err, HF_EOTHER, "out of memory");
    }
    hf_buf rest = {0};
    hf_buf_add(&rest, body, (size_t)(readme + len - body));
    *out = hf_card_compose(meta, rest.data ? rest.data : "");
    hf_buf_free(&rest);
    json_decref(meta);
    return *out ? HF_OK : hf_fail(err, HF_EOTHER, "cannot write the card's metadata as YAML");
}
