/* The Hub's JSON API: a revision resolved to its commit, and the tree at that commit. */
#ifndef HF_API_H
#define HF_API_H

#include <jansson.h>
#include <stdbool.h>

#include "http.h"
#include "repo.h"
#include "tree.h"

#define HF_MAX_TREE_PAGES 10000

typedef struct {
    char commit[41];
    char *id;            /* the repository's id as the Hub names it (after a rename) */
    char *last_modified; /* ISO 8601, may be NULL */
    bool is_private;
    char *gated;       /* "false", "auto" or "manual" */
    json_t *card_data; /* the model card's YAML front matter as JSON, or NULL */
} hf_repo_info;

void hf_repo_info_free(hf_repo_info *info);

/* GET /api/{type}s/{id}/revision/{rev}: the commit the revision points to now. A revision
 * that is already a commit must come back unchanged (HF_EINTEGRITY otherwise). */
hf_code hf_api_repo_info(hf_client *c, const hf_repo *repo, const char *revision, hf_repo_info *out,
                         hf_error *err);

/* One page of a paginated listing: its body. Set *stop to ask for no further page. */
typedef hf_code (*hf_page_fn)(const char *body, size_t len, void *arg, bool *stop, hf_error *err);

/* GET first_url, then every `Link: rel="next"` page (relative targets resolved against the
 * page), each body handed to on_page, until there is no next page or on_page stops. A page
 * URL seen twice, more than HF_MAX_TREE_PAGES pages or a next link that is not HTTP is
 * HF_EINTEGRITY; `what` names the listing in messages ("tree", "search"). */
hf_code hf_api_pages(hf_client *c, const char *first_url, const hf_req_ctx *ctx, const char *what,
                     hf_page_fn on_page, void *arg, hf_error *err);

/* The tree at commit (below path when not NULL), following every `Link: rel="next"` page.
 * A page URL seen twice or more than HF_MAX_TREE_PAGES pages is HF_EINTEGRITY. The entries
 * come back sorted and checked by hf_entries_sort; `revision` only names what was asked for
 * in messages. */
hf_code hf_api_tree(hf_client *c, const hf_repo *repo, const char *commit, const char *revision,
                    const char *path, bool recursive, hf_entries *out, hf_error *err);
/* The same, handing each entry to sink as its page is parsed, unsorted and unchecked: the
 * caller keeps them as it likes, then runs hf_tree_check on the whole. */
hf_code hf_api_tree_each(hf_client *c, const hf_repo *repo, const char *commit,
                         const char *revision, const char *path, bool recursive, hf_entry_sink sink,
                         void *ctx, hf_error *err);

#endif
