/* Hub search: GET /api/{models,datasets,spaces}?search=..., the query and its URL, the parser
 * of one answer page, every page followed up to the limit, and the TSV and JSON output. */
#ifndef HF_SEARCH_H
#define HF_SEARCH_H

#include <jansson.h>
#include <stdio.h>

#include "http.h"
#include "repo.h"

#define HF_SEARCH_DEFAULT_LIMIT 50
#define HF_SEARCH_MAX_LIMIT 1000
#define HF_SEARCH_MAX_FILTERS 32

typedef enum {
    HF_SORT_NONE,
    HF_SORT_DOWNLOADS,
    HF_SORT_LIKES,
    HF_SORT_LAST_MODIFIED,
    HF_SORT_TRENDING
} hf_search_sort;

/* "downloads", "likes", "lastModified" or "trendingScore". */
bool hf_search_sort_parse(const char *s, hf_search_sort *out);
const char *hf_search_sort_name(hf_search_sort s); /* NULL for HF_SORT_NONE */

typedef struct {
    hf_repo_type type;
    const char *search; /* NULL or "" for any */
    const char *author; /* NULL for any */
    const char *filters[HF_SEARCH_MAX_FILTERS];
    size_t n_filters;
    hf_search_sort sort; /* descending */
    size_t limit;        /* 1 to HF_SEARCH_MAX_LIMIT */
} hf_search_query;

/* Checks the query: a limit in range, an author that could own a repository, filters and a
 * search text without control characters. HF_EUSAGE otherwise. */
hf_code hf_search_check(const hf_search_query *q, hf_error *err);

/* One repository of the answer; strings NULL and numbers -1 when the answer does not give
 * them. No string holds a control character. */
typedef struct {
    char *id;
    char *pipeline_tag, *library, *license, *last_modified;
    char *gated; /* "false", "true", "auto" or "manual" */
    char *sha;   /* the current commit, 40 hex digits */
    long long downloads, likes;
    int is_private; /* -1, 0 or 1 */
} hf_search_hit;

typedef struct {
    hf_search_hit *v;
    size_t n, cap;
} hf_search_hits;

void hf_search_hits_free(hf_search_hits *h);

/* {endpoint}/api/{type}s?search=..&author=..&filter=..&sort=..&direction=-1&limit=..
 * &expand=.. (the fields the output needs, as huggingface_hub's list_models asks them). */
char *hf_search_url(const char *endpoint, const hf_search_query *q);

/* One answer page: a JSON array of repositories, appended to out until it holds max; a
 * repository already there is skipped (a ranking that moved between pages). Anything that is
 * not an array of objects with a valid id and well-typed fields is HF_EINTEGRITY. */
hf_code hf_search_parse(const char *body, size_t len, size_t max, hf_search_hits *out,
                        hf_error *err);

/* The whole search: the first page, then every `Link: rel="next"` page until q->limit
 * repositories (or the end of the listing). */
hf_code hf_search(hf_client *c, const hf_search_query *q, hf_search_hits *out, hf_error *err);

/* A header line "#id\tpipeline_tag\tlibrary\tlicense\tdownloads\tlikes\tlastModified\t
 * private\tgated\tcommit", then a line per repository (empty for what is unknown).
 * 0, or -1 on a write error. */
int hf_search_write_tsv(FILE *f, const hf_search_hits *h);

/* {"query": {...}, "endpoint": ..., "results": [{"id", ..., "commit"}]}; NULL when out of
 * memory. */
json_t *hf_search_json(const hf_search_query *q, const char *endpoint, const hf_search_hits *h);

#endif
