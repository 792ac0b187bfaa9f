/* Hub search: the query's URL, the answer's parser, its pages and its output. */
#include "search.h"

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "buf.h"
#include "url.h"

static const char *const sort_names[] = {NULL, "downloads", "likes", "lastModified",
                                         "trendingScore"};

bool hf_search_sort_parse(const char *s, hf_search_sort *out) {
    for (int i = HF_SORT_DOWNLOADS; i <= HF_SORT_TRENDING; i++)
        if (s && strcmp(s, sort_names[i]) == 0) {
            *out = (hf_search_sort)i;
            return true;
        }
    return false;
}

const char *hf_search_sort_name(hf_search_sort s) {
    return s >= HF_SORT_DOWNLOADS && s <= HF_SORT_TRENDING ? sort_names[s] : NULL;
}

static bool has_control(const char *s) {
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

hf_code hf_search_check(const hf_search_query *q, hf_error *err) {
    if (q->limit < 1 || q->limit > HF_SEARCH_MAX_LIMIT)
        return hf_fail(err, HF_EUSAGE, "--limit must be between 1 and %d", HF_SEARCH_MAX_LIMIT);
    if (has_control(q->search) || (q->search && strlen(q->search) > 256))
        return hf_fail(err, HF_EUSAGE,
                       "the search text holds a control character or is longer "
                       "than 256 bytes");
    if (q->author) {
        hf_error sub = {0};
        if (strchr(q->author, '/') || hf_repo_id_check(q->author, &sub) != HF_OK)
            return hf_fail(err, HF_EUSAGE,
                           "invalid --author '%s': an owner's name is letters, "
                           "digits, '-', '_' and '.'",
                           q->author);
    }
    if (q->n_filters > HF_SEARCH_MAX_FILTERS)
        return hf_fail(err, HF_EUSAGE, "at most %d --filter", HF_SEARCH_MAX_FILTERS);
    for (size_t i = 0; i < q->n_filters; i++)
        if (!*q->filters[i] || has_control(q->filters[i]) || strlen(q->filters[i]) > 256)
            return hf_fail(err, HF_EUSAGE,
                           "invalid --filter: empty, too long or a control "
                           "character");
    return HF_OK;
}

/* What each listing can expand (the Hub answers 400 to a field the type does not have). */
static const char *const model_fields[] = {
    "pipeline_tag", "library_name", "downloads", "likes", "lastModified",
    "private",      "gated",        "sha",       "tags",  NULL};
static const char *const dataset_fields[] = {"downloads", "likes", "lastModified", "private",
                                             "gated",     "sha",   "tags",         NULL};
static const char *const space_fields[] = {"likes", "lastModified", "private", "sha", "tags", NULL};

static bool add_param(hf_buf *b, const char *key, const char *value) {
    return hf_buf_add(b, b->data && strchr(b->data, '?') ? "&" : "?", 1) && hf_buf_adds(b, key) &&
           hf_buf_adds(b, "=") && hf_url_encode(b, value, false);
}

char *hf_search_url(const char *endpoint, const hf_search_query *q) {
    hf_buf b = {0};
    bool ok = hf_buf_addf(&b, "%s/api/%s", endpoint, hf_repo_type_api(q->type));
    if (ok && q->search && *q->search)
        ok = add_param(&b, "search", q->search);
    if (ok && q->author)
        ok = add_param(&b, "author", q->author);
    for (size_t i = 0; ok && i < q->n_filters; i++)
        ok = add_param(&b, "filter", q->filters[i]);
    if (ok && q->sort != HF_SORT_NONE)
        ok =
            add_param(&b, "sort", hf_search_sort_name(q->sort)) && add_param(&b, "direction", "-1");
    char limit[24];
    snprintf(limit, sizeof limit, "%zu", q->limit);
    if (ok)
        ok = add_param(&b, "limit", limit);
    const char *const *fields = q->type == HF_MODEL     ? model_fields
                                : q->type == HF_DATASET ? dataset_fields
                                                        : space_fields;
    for (; ok && *fields; fields++)
        ok = add_param(&b, "expand", *fields);
    if (!ok) {
        hf_buf_free(&b);
        return NULL;
    }
    return hf_buf_take(&b);
}

static void hit_free(hf_search_hit *h) {
    free(h->id);
    free(h->pipeline_tag);
    free(h->library);
    free(h->license);
    free(h->last_modified);
    free(h->gated);
    free(h->sha);
}

void hf_search_hits_free(hf_search_hits *h) {
    for (size_t i = 0; i < h->n; i++)
        hit_free(&h->v[i]);
    free(h->v);
    memset(h, 0, sizeof *h);
}

/* An optional string field: absent or null is NULL; anything but a short string without
 * control characters is refused. */
static bool opt_string(json_t *o, const char *key, size_t max, char **out, bool *oom) {
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v) || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v) || has_control(json_string_value(v)))
        return false;
    *out = strdup(json_string_value(v));
    *oom = *oom || !*out;
    return true;
}

static bool opt_count(json_t *o, const char *key, long long *out) {
    json_t *v = json_object_get(o, key);
    *out = -1;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = json_integer_value(v);
    return true;
}

/* The license: the first "license:NAME" tag. */
static bool license_from_tags(json_t *o, char **out, bool *oom) {
    json_t *tags = json_object_get(o, "tags"), *t;
    size_t i;
    *out = NULL;
    if (!tags || json_is_null(tags))
        return true;
    if (!json_is_array(tags))
        return false;
    json_array_foreach(tags, i, t) {
        if (!json_is_string(t))
            return false;
        const char *s = json_string_value(t);
        if (strncmp(s, "license:", 8) == 0 && !*out) {
            if (has_control(s) || strlen(s) != json_string_length(t) || strlen(s) > 128 + 8)
                return false;
            *out = strdup(s + 8);
            *oom = *oom || !*out;
        }
    }
    return true;
}

static const char *parse_hit(json_t *o, hf_search_hit *h, bool *oom) {
    memset(h, 0, sizeof *h);
    h->is_private = -1;
    if (!json_is_object(o))
        return "an entry is not an object";
    json_t *id = json_object_get(o, "id");
    hf_error sub = {0};
    if (!json_is_string(id) || strlen(json_string_value(id)) != json_string_length(id) ||
        hf_repo_id_check(json_string_value(id), &sub) != HF_OK)
        return "an entry has no valid repository id";
    h->id = strdup(json_string_value(id));
    *oom = !h->id;
    if (!opt_string(o, "pipeline_tag", 128, &h->pipeline_tag, oom) ||
        !opt_string(o, "library_name", 128, &h->library, oom))
        return "an entry has a malformed pipeline_tag or library_name";
    if (!opt_string(o, "lastModified", 64, &h->last_modified, oom))
        return "an entry has a malformed lastModified";
    if (!opt_count(o, "downloads", &h->downloads) || !opt_count(o, "likes", &h->likes))
        return "an entry has a malformed downloads or likes count";
    if (!license_from_tags(o, &h->license, oom))
        return "an entry has malformed tags";
    json_t *priv = json_object_get(o, "private");
    if (priv && !json_is_null(priv)) {
        if (!json_is_boolean(priv))
            return "an entry has a malformed private flag";
        h->is_private = json_is_true(priv);
    }
    json_t *gated = json_object_get(o, "gated");
    if (gated && !json_is_null(gated)) {
        const char *g = json_is_boolean(gated)  ? (json_is_true(gated) ? "true" : "false")
                        : json_is_string(gated) ? json_string_value(gated)
                                                : NULL;
        if (!g ||
            (strcmp(g, "true") && strcmp(g, "false") && strcmp(g, "auto") && strcmp(g, "manual")))
            return "an entry has a malformed gated value";
        h->gated = strdup(g);
        *oom = *oom || !h->gated;
    }
    json_t *sha = json_object_get(o, "sha");
    if (sha && !json_is_null(sha)) {
        if (!json_is_string(sha) || !hf_is_commit(json_string_value(sha)))
            return "an entry's sha is not a commit id";
        h->sha = strdup(json_string_value(sha));
        *oom = *oom || !h->sha;
    }
    return NULL;
}

static bool already_there(const hf_search_hits *out, const char *id) {
    for (size_t i = 0; i < out->n; i++)
        if (strcmp(out->v[i].id, id) == 0)
            return true;
    return false;
}

hf_code hf_search_parse(const char *body, size_t len, size_t max, hf_search_hits *out,
                        hf_error *err) {
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_array(root)) {
        hf_code rc = hf_fail(err, HF_EINTEGRITY, "malformed search answer from the server: %s",
                             root ? "not an array" : jerr.text);
        json_decref(root);
        return rc;
    }
    hf_code rc = HF_OK;
    size_t i;
    json_t *o;
    json_array_foreach(root, i, o) {
        if (out->n >= max)
            break;
        hf_search_hit h;
        bool oom = false;
        const char *why = parse_hit(o, &h, &oom);
        if (why || oom) {
            hit_free(&h);
            rc = oom && !why
                     ? hf_fail(err, HF_EOTHER, "out of memory")
                     : hf_fail(err, HF_EINTEGRITY,
                               "malformed search answer from the server: %s (entry %zu)", why, i);
            break;
        }
        if (already_there(out, h.id)) {
            hit_free(&h);
            continue;
        }
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 64;
            hf_search_hit *grown = realloc(out->v, cap * sizeof *grown);
            if (!grown) {
                hit_free(&h);
                rc = hf_fail(err, HF_EOTHER, "out of memory");
                break;
            }
            out->v = grown;
            out->cap = cap;
        }
        out->v[out->n++] = h;
    }
    json_decref(root);
    return rc;
}

typedef struct {
    hf_search_hits *out;
    size_t limit;
} search_pages;

static hf_code search_page(const char *body, size_t len, void *arg, bool *stop, hf_error *err) {
    search_pages *p = arg;
    hf_code rc = hf_search_parse(body, len, p->limit, p->out, err);
    *stop = p->out->n >= p->limit;
    return rc;
}

hf_code hf_search(hf_client *c, const hf_search_query *q, hf_search_hits *out, hf_error *err) {
    hf_code rc = hf_search_check(q, err);
    if (rc != HF_OK)
        return rc;
    char *url = hf_search_url(hf_client_endpoint(c), q);
    if (!url)
        return hf_fail(err, HF_EOTHER, "out of memory");
    /* the "repository" of messages: what was searched */
    char what[96];
    snprintf(what, sizeof what, "the %s search", hf_repo_type_name(q->type));
    hf_req_ctx ctx = {what, NULL, NULL, false};
    search_pages pages = {out, q->limit};
    rc = hf_api_pages(c, url, &ctx, "search", search_page, &pages, err);
    free(url);
    return rc;
}

static void put_field(FILE *f, const char *s, bool last) {
    fputs(s ? s : "", f);
    fputc(last ? '\n' : '\t', f);
}

static void put_count(FILE *f, long long n) {
    if (n >= 0)
        fprintf(f, "%lld", n);
    fputc('\t', f);
}

int hf_search_write_tsv(FILE *f, const hf_search_hits *h) {
    fputs("#id\tpipeline_tag\tlibrary\tlicense\tdownloads\tlikes\tlastModified\tprivate\tgated"
          "\tcommit\n",
          f);
    for (size_t i = 0; i < h->n; i++) {
        const hf_search_hit *e = &h->v[i];
        put_field(f, e->id, false);
        put_field(f, e->pipeline_tag, false);
        put_field(f, e->library, false);
        put_field(f, e->license, false);
        put_count(f, e->downloads);
        put_count(f, e->likes);
        put_field(f, e->last_modified, false);
        put_field(f, e->is_private < 0 ? NULL : e->is_private ? "true" : "false", false);
        put_field(f, e->gated, false);
        put_field(f, e->sha, true);
    }
    return ferror(f) ? -1 : 0;
}

static json_t *str_or_null(const char *s) {
    return s ? json_string(s) : json_null();
}

static json_t *count_or_null(long long n) {
    return n >= 0 ? json_integer(n) : json_null();
}

json_t *hf_search_json(const hf_search_query *q, const char *endpoint, const hf_search_hits *h) {
    json_t *filters = json_array();
    for (size_t i = 0; filters && i < q->n_filters; i++)
        json_array_append_new(filters, json_string(q->filters[i]));
    json_t *results = json_array();
    for (size_t i = 0; results && i < h->n; i++) {
        const hf_search_hit *e = &h->v[i];
        json_array_append_new(
            results,
            json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", e->id,
                      "pipeline_tag", str_or_null(e->pipeline_tag), "library",
                      str_or_null(e->library), "license", str_or_null(e->license), "downloads",
                      count_or_null(e->downloads), "likes", count_or_null(e->likes), "lastModified",
                      str_or_null(e->last_modified), "private",
                      e->is_private < 0 ? json_null() : json_boolean(e->is_private), "gated",
                      str_or_null(e->gated), "commit", str_or_null(e->sha)));
    }
    json_t *query =
        json_pack("{s:s, s:o, s:o, s:o, s:o, s:I}", "repo_type", hf_repo_type_name(q->type),
                  "search", str_or_null(q->search && *q->search ? q->search : NULL), "author",
                  str_or_null(q->author), "filter", filters ? filters : json_null(), "sort",
                  str_or_null(hf_search_sort_name(q->sort)), "limit", (json_int_t)q->limit);
    if (!query || !results) {
        json_decref(query);
        json_decref(results);
        return NULL;
    }
    return json_pack("{s:o, s:s, s:o}", "query", query, "endpoint", endpoint, "results", results);
}
