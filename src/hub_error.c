/* Error mapping for the Hub's answers (the table in the protocol notes). */
#include "hub_error.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The server's own words: X-Error-Message, else the body's "error" or errors[0].message.
 * Copied into out, shortened and stripped of control bytes. */
static void server_message(const hf_hub_answer *a, char *out, size_t cap) {
    out[0] = '\0';
    const char *msg = a->error_message;
    json_t *root = NULL;
    if ((!msg || !*msg) && a->body && a->body_len && a->body_len < 65536) {
        root = json_loadb(a->body, a->body_len, 0, NULL);
        json_t *e = json_object_get(root, "error");
        if (json_is_string(e)) {
            msg = json_string_value(e);
        } else {
            json_t *first = json_array_get(json_object_get(root, "errors"), 0);
            json_t *m = json_object_get(first, "message");
            if (json_is_string(m))
                msg = json_string_value(m);
        }
    }
    if (msg) {
        size_t k = 0;
        for (size_t i = 0; msg[i] && k + 1 < cap; i++)
            out[k++] = ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f) ? ' ' : msg[i];
        out[k] = '\0';
        if (msg[0] && k + 1 >= cap && cap > 4)
            memcpy(out + cap - 4, "...", 4);
    }
    json_decref(root);
}

static bool code_is(const hf_hub_answer *a, const char *code) {
    return a->error_code && strcasecmp(a->error_code, code) == 0;
}

hf_code hf_hub_error(const hf_hub_answer *a, const hf_req_ctx *ctx, hf_error *err) {
    char said[300];
    server_message(a, said, sizeof said);
    char rid[96] = "";
    if (a->request_id && *a->request_id) {
        snprintf(rid, sizeof rid, " (request id %.64s)", a->request_id);
        for (char *p = rid; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = ' ';
    }
    const char *repo = ctx && ctx->repo_id ? ctx->repo_id : "?";
    const char *rev = ctx && ctx->revision ? ctx->revision : "";
    const char *path = ctx && ctx->path ? ctx->path : NULL;
    bool token = ctx && ctx->token_sent;
    long st = a->status;
    const char *sep = said[0] ? ": " : "";

    if (code_is(a, "GatedRepo")) {
        if (st == 403 || token)
            return hf_fail(err, HF_EAUTH,
                           "repository %s is gated and this token has not been granted access: "
                           "request access on the repository's page on the Hub, then retry%s%s%s",
                           repo, sep, said, rid);
        return hf_fail(err, HF_EAUTH,
                       "repository %s is gated: a token is needed (set HF_TOKEN or --token-file) "
                       "from an account that has been granted access%s%s%s",
                       repo, sep, said, rid);
    }
    if (code_is(a, "RepoNotFound")) {
        if (st == 401 && !token)
            return hf_fail(err, HF_EAUTH,
                           "repository %s not found, or private and no token was given (set "
                           "HF_TOKEN or --token-file)%s",
                           repo, rid);
        return hf_fail(err, HF_ENOTFOUND,
                       "repository %s not found (or this token cannot read it)%s", repo, rid);
    }
    if (code_is(a, "RevisionNotFound"))
        return hf_fail(err, HF_ENOTFOUND, "revision '%s' not found in %s%s", rev, repo, rid);
    if (code_is(a, "EntryNotFound"))
        return hf_fail(err, HF_ENOTFOUND, "'%s' not found in %s at %s%s", path ? path : "?", repo,
                       rev, rid);
    if (st == 401) {
        if (token)
            return hf_fail(err, HF_EAUTH,
                           "the Hub refused the token (invalid credentials): check HF_TOKEN or "
                           "--token-file%s%s%s",
                           sep, said, rid);
        return hf_fail(err, HF_EAUTH,
                       "authentication required for %s: set HF_TOKEN or --token-file%s%s%s", repo,
                       sep, said, rid);
    }
    if (st == 403)
        return hf_fail(err, HF_EAUTH, "access to %s refused (HTTP 403)%s%s%s", repo, sep, said,
                       rid);
    if (st == 404) {
        if (path)
            return hf_fail(err, HF_ENOTFOUND, "'%s' not found in %s at %s%s%s%s", path, repo, rev,
                           sep, said, rid);
        return hf_fail(err, HF_ENOTFOUND, "%s not found (HTTP 404)%s%s%s", repo, sep, said, rid);
    }
    if (st == 408 || st == 429 || st >= 500)
        return hf_fail(err, HF_ENETWORK, "the Hub kept failing (HTTP %ld) after retries%s%s%s", st,
                       sep, said, rid);
    return hf_fail(err, HF_EOTHER, "unexpected answer from the Hub (HTTP %ld)%s%s%s", st, sep, said,
                   rid);
}
