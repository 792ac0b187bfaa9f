/* Repo info and tree listing. */
#include "api.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "secret.h"
#include "url.h"

#define HF_MAX_API_BODY (64u << 20)

void hf_repo_info_free(hf_repo_info *info) {
    free(info->id);
    free(info->last_modified);
    free(info->gated);
    json_decref(info->card_data);
    memset(info, 0, sizeof *info);
}

static char *string_field(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

hf_code hf_api_repo_info(hf_client *c, const hf_repo *repo, const char *revision, hf_repo_info *out,
                         hf_error *err) {
    memset(out, 0, sizeof *out);
    char *url = hf_url_repo_info(hf_client_endpoint(c), repo, revision);
    hf_response resp = {.content_length = -1};
    hf_req_ctx ctx = {repo->id, revision, NULL, false};
    hf_code rc = url ? hf_http_get(c, url, HF_MAX_API_BODY, &ctx, &resp, err)
                     : hf_fail(err, HF_EOTHER, "out of memory");
    json_t *root = NULL;
    if (rc == HF_OK) {
        json_error_t jerr;
        root = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, &jerr);
        json_t *sha = json_object_get(root, "sha");
        if (!json_is_object(root))
            rc = hf_fail(err, HF_EINTEGRITY, "malformed repository info from the server: %s",
                         root ? "not an object" : jerr.text);
        else if (hf_secret_in_json(root))
            rc = hf_fail(err, HF_EINTEGRITY,
                         "the server's repository info for %s holds the access token: refused",
                         repo->id);
        else if (!json_is_string(sha) || !hf_is_commit(json_string_value(sha)))
            rc = hf_fail(err, HF_EINTEGRITY,
                         "the server's repository info for %s has no valid commit sha", repo->id);
        else if (hf_is_commit(revision) && strcmp(json_string_value(sha), revision) != 0)
            rc = hf_fail(err, HF_EINTEGRITY,
                         "the server resolved commit %s to a different commit %s", revision,
                         json_string_value(sha));
    }
    if (rc == HF_OK) {
        memcpy(out->commit, json_string_value(json_object_get(root, "sha")), 41);
        out->id = string_field(root, "id");
        out->last_modified = string_field(root, "lastModified");
        out->is_private = json_is_true(json_object_get(root, "private"));
        json_t *g = json_object_get(root, "gated");
        out->gated = strdup(json_is_string(g) ? json_string_value(g) : "false");
        json_t *card = json_object_get(root, "cardData");
        if (json_is_object(card))
            out->card_data = json_incref(card);
        /* The commit the answer names in its header must agree with the body, when given. */
        if (resp.repo_commit && *resp.repo_commit && strcmp(resp.repo_commit, out->commit) != 0)
            rc = hf_fail(err, HF_EINTEGRITY,
                         "the server's answer names two commits for %s: %s and %s", revision,
                         out->commit, resp.repo_commit);
    }
    json_decref(root);
    hf_response_clear(&resp);
    free(url);
    if (rc != HF_OK)
        hf_repo_info_free(out);
    return rc;
}

/* FNV-1a: page URLs are remembered by hash to spot a cursor that comes back. */
static uint64_t fnv1a(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Resolves a Link target against the page it came from (it may be relative). */
static char *absolute_url(const char *base, const char *ref) {
    CURLU *u = curl_url();
    char *out = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, ref, 0) == CURLUE_OK) {
        char *s = NULL;
        if (curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK) {
            out = strdup(s);
            curl_free(s);
        }
    }
    curl_url_cleanup(u);
    return out;
}

hf_code hf_api_pages(hf_client *c, const char *first_url, const hf_req_ctx *ctx, const char *what,
                     hf_page_fn on_page, void *arg, hf_error *err) {
    const char *name = ctx && ctx->repo_id ? ctx->repo_id : "the Hub";
    char *url = strdup(first_url);
    uint64_t *seen = NULL;
    size_t pages = 0;
    bool stop = false;
    hf_code rc = url ? HF_OK : hf_fail(err, HF_EOTHER, "out of memory");
    while (rc == HF_OK && url && !stop) {
        uint64_t h = fnv1a(url);
        for (size_t i = 0; i < pages; i++)
            if (seen[i] == h) {
                rc = hf_fail(err, HF_EINTEGRITY,
                             "the server's %s pagination for %s repeats a page: refused", what,
                             name);
                break;
            }
        if (rc != HF_OK)
            break;
        if (pages >= HF_MAX_TREE_PAGES) {
            rc = hf_fail(err, HF_EINTEGRITY,
                         "the server's %s listing for %s goes on for more than %d pages: "
                         "refused",
                         what, name, HF_MAX_TREE_PAGES);
            break;
        }
        uint64_t *grown = realloc(seen, (pages + 1) * sizeof *seen);
        if (!grown) {
            rc = hf_fail(err, HF_EOTHER, "out of memory");
            break;
        }
        seen = grown;
        seen[pages++] = h;

        hf_response resp = {.content_length = -1};
        rc = hf_http_get(c, url, HF_MAX_API_BODY, ctx, &resp, err);
        if (rc == HF_OK)
            rc = on_page(resp.body.data ? resp.body.data : "", resp.body.len, arg, &stop, err);
        char *next = NULL;
        if (rc == HF_OK && !stop && resp.link) {
            char *target = hf_link_next(resp.link);
            if (target) {
                next = absolute_url(url, target);
                free(target);
                if (!next || !hf_url_is_http(next))
                    rc = hf_fail(err, HF_EINTEGRITY,
                                 "the server's %s pagination link is not an HTTP URL", what);
                else if (hf_secret_in(next, strlen(next)))
                    rc = hf_fail(err, HF_EINTEGRITY,
                                 "the server's %s pagination link holds the access token: refused",
                                 what);
            }
        }
        hf_response_clear(&resp);
        free(url);
        url = next;
        if (rc != HF_OK) {
            free(url);
            url = NULL;
        }
    }
    free(url);
    free(seen);
    return rc;
}

/* The tree's pages, each entry handed to a sink as its page is parsed. */
typedef struct {
    hf_entry_sink sink;
    void *ctx;
} tree_pages;

static hf_code tree_page(const char *body, size_t len, void *arg, bool *stop, hf_error *err) {
    (void)stop;
    tree_pages *t = arg;
    return hf_tree_parse_each(body, len, t->sink, t->ctx, err);
}

hf_code hf_api_tree(hf_client *c, const hf_repo *repo, const char *commit, const char *revision,
                    const char *path, bool recursive, hf_entries *out, hf_error *err) {
    hf_code rc =
        hf_api_tree_each(c, repo, commit, revision, path, recursive, hf_entries_sink, out, err);
    /* the whole tree, every page together: a listing no tree can hold stops every tool here */
    if (rc == HF_OK)
        rc = hf_entries_sort(out, err);
    return rc;
}

hf_code hf_api_tree_each(hf_client *c, const hf_repo *repo, const char *commit,
                         const char *revision, const char *path, bool recursive, hf_entry_sink sink,
                         void *sink_ctx, hf_error *err) {
    char *url = hf_url_tree(hf_client_endpoint(c), repo, commit, path, recursive);
    if (!url)
        return hf_fail(err, HF_EOTHER, "out of memory");
    hf_req_ctx ctx = {repo->id, revision ? revision : commit, path, false};
    tree_pages t = {sink, sink_ctx};
    hf_code rc = hf_api_pages(c, url, &ctx, "tree", tree_page, &t, err);
    free(url);
    return rc;
}
