/* The Hub's write calls and the parsers of their answers. */
#include "hub_write.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "commit_body.h"
#include "url.h"

#define MAX_ANSWER (16u << 20)
#define PREUPLOAD_BATCH 250

/* {endpoint}/api/{type}s/{id}/VERB/{rev} */
static char *api_url(hf_client *c, const hf_repo *repo, const char *verb, const char *rev) {
    hf_buf b = {0};
    hf_buf_addf(&b, "%s/api/%s/%s/%s/", hf_client_endpoint(c), hf_repo_type_api(repo->type),
                repo->id, verb);
    hf_url_encode(&b, rev, false);
    return hf_buf_take(&b);
}

/* The server's words of a failed answer (for messages that hf_hub_error does not make). */
static void said(const hf_response *r, char *out, size_t cap) {
    out[0] = '\0';
    json_t *root = r->body.data ? json_loadb(r->body.data, r->body.len, 0, NULL) : NULL;
    const char *m = json_string_value(json_object_get(root, "error"));
    if (!m)
        m = r->error_message;
    if (!m)
        m = "";
    size_t k = 0;
    for (; m[k] && k + 1 < cap; k++)
        out[k] = m[k] == '\n' ? ' ' : ((unsigned char)m[k] < 0x20 ? ' ' : m[k]);
    out[k] = '\0';
    json_decref(root);
}

/* POST with the client's retries; failures the Hub explains (412, 409, a refused card) get
 * their own code. */
/* POSTs body (len bytes; read from fd when fd >= 0) and maps the Hub's refusals. */
static hf_code post(hf_client *c, const char *url, const char *ctype, const char *body, int fd,
                    size_t len, const hf_repo *repo, const char *rev, hf_response *resp,
                    hf_error *err) {
    /* the git-LFS API answers in its own media type */
    const char *lfs = "application/vnd.git-lfs+json";
    hf_http_body b = {"POST", ctype, body, len, strcmp(ctype, lfs) == 0 ? lfs : NULL, fd >= 0, fd};
    hf_req_ctx ctx = {repo->id, rev, NULL, hf_client_has_token(c)};
    hf_code rc = hf_http_send(c, url, &b, MAX_ANSWER, &ctx, resp, err);
    if (rc == HF_OK || resp->status == 0)
        return rc;
    char msg[600];
    said(resp, msg, sizeof msg);
    if (resp->status == 412 || resp->status == 409)
        return hf_fail(err, HF_ECONFLICT,
                       "the Hub refused the commit to %s@%s as conflicting (HTTP %ld): %s; "
                       "nothing was committed",
                       repo->id, rev, resp->status, msg);
    if (resp->status == 400 && strstr(msg, "Invalid metadata"))
        return hf_fail(err, HF_EUSAGE, "the Hub refused the model card: %s", msg);
    if (resp->status == 403 && strstr(msg, "write token"))
        return hf_fail(err, HF_EAUTH,
                       "this token cannot write to %s: %s (use a token with write access)",
                       repo->id, msg);
    return rc;
}

static hf_code post_json(hf_client *c, const char *url, const char *ctype, json_t *body,
                         const hf_repo *repo, const char *rev, hf_response *resp, hf_error *err) {
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return hf_fail(err, HF_EOTHER, "out of memory");
    hf_code rc = post(c, url, ctype, text, -1, strlen(text), repo, rev, resp, err);
    free(text);
    return rc;
}

static json_t *answer_json(const hf_response *r, const char *what, hf_error *err) {
    json_t *root = r->body.data ? json_loadb(r->body.data, r->body.len, 0, NULL) : NULL;
    if (!root)
        hf_fail(err, HF_EINTEGRITY, "the Hub's answer to %s is not JSON", what);
    return root;
}

bool hf_space_sdk_valid(const char *sdk) {
    static const char *const sdks[] = {"gradio", "streamlit", "docker", "static"};
    for (size_t i = 0; sdk && i < sizeof sdks / sizeof sdks[0]; i++)
        if (strcmp(sdk, sdks[i]) == 0)
            return true;
    return false;
}

hf_code hf_hub_create_repo(hf_client *c, const hf_repo *repo, bool is_private,
                           const char *space_sdk, bool *existed, hf_error *err) {
    const char *slash = strchr(repo->id, '/');
    char *org = slash ? strndup(repo->id, (size_t)(slash - repo->id)) : NULL;
    json_t *body = json_pack("{s:s, s:s?, s:s, s:b, s:s?}", "name", slash ? slash + 1 : repo->id,
                             "organization", org, "type", hf_repo_type_name(repo->type), "private",
                             is_private, "sdk", repo->type == HF_SPACE ? space_sdk : NULL);
    free(org);
    hf_buf url = {0};
    hf_buf_addf(&url, "%s/api/repos/create", hf_client_endpoint(c));
    hf_response resp = {0};
    *existed = false;
    hf_code rc = post_json(c, url.data, "application/json", body, repo, NULL, &resp, err);
    if (rc == HF_ECONFLICT && resp.status == 409) {
        *existed = true;
        rc = HF_OK;
    }
    hf_response_clear(&resp);
    hf_buf_free(&url);
    return rc;
}

/* base64 of a file's first 512 bytes (or of in-memory content). */
static char *sample(const hf_upload_file *f) {
    char buf[512];
    ssize_t n;
    if (f->data) {
        n = f->size < 512 ? (ssize_t)f->size : 512;
        memcpy(buf, f->data, (size_t)n);
    } else {
        int fd = open(f->local, O_RDONLY | O_CLOEXEC);
        n = fd >= 0 ? pread(fd, buf, sizeof buf, 0) : -1;
        if (fd >= 0)
            close(fd);
        if (n < 0)
            return NULL;
    }
    return hf_base64(buf, (size_t)n);
}

static hf_code preupload_batch(hf_client *c, const hf_repo *repo, const char *rev,
                               hf_upload_file **batch, size_t n, hf_error *err) {
    json_t *files = json_array();
    for (size_t i = 0; files && i < n; i++) {
        char *s = sample(batch[i]);
        if (!s) {
            json_decref(files);
            return hf_fail(err, HF_EIO, "cannot read %s", batch[i]->local);
        }
        json_array_append_new(files, json_pack("{s:s, s:I, s:s}", "path", batch[i]->path, "size",
                                               (json_int_t)batch[i]->size, "sample", s));
        free(s);
    }
    char *url = api_url(c, repo, "preupload", rev);
    hf_response resp = {0};
    hf_code rc = url ? post_json(c, url, "application/json", json_pack("{s:o}", "files", files),
                                 repo, rev, &resp, err)
                     : hf_fail(err, HF_EOTHER, "out of memory");
    json_t *root = rc == HF_OK ? answer_json(&resp, "preupload", err) : NULL;
    if (rc == HF_OK && !root)
        rc = HF_EINTEGRITY;
    json_t *arr = json_object_get(root, "files");
    for (size_t i = 0; rc == HF_OK && i < n; i++) {
        bool found = false;
        size_t k;
        json_t *e;
        json_array_foreach(arr, k, e) {
            const char *p = json_string_value(json_object_get(e, "path"));
            const char *mode = json_string_value(json_object_get(e, "uploadMode"));
            if (p && mode && strcmp(p, batch[i]->path) == 0) {
                found = true;
                batch[i]->lfs = strcmp(mode, "lfs") == 0;
            }
        }
        if (!found)
            rc = hf_fail(err, HF_EINTEGRITY, "the Hub's preupload answer leaves out '%s'",
                         batch[i]->path);
    }
    json_decref(root);
    hf_response_clear(&resp);
    free(url);
    return rc;
}

hf_code hf_hub_preupload(hf_client *c, const hf_repo *repo, const char *rev, hf_upload_files *f,
                         hf_error *err) {
    hf_upload_file *batch[PREUPLOAD_BATCH];
    size_t n = 0;
    hf_code rc = HF_OK;
    for (size_t i = 0; rc == HF_OK && i <= f->n; i++) {
        if (i < f->n && f->v[i].unchanged)
            continue;
        if (i < f->n)
            batch[n++] = &f->v[i];
        if (n && (n == PREUPLOAD_BATCH || i == f->n)) {
            rc = preupload_batch(c, repo, rev, batch, n, err);
            n = 0;
        }
    }
    return rc;
}

/* -- LFS batch ------------------------------------------------------------------------------ */

static char *http_url(json_t *v) {
    const char *s = json_string_value(v);
    return s && hf_url_is_http(s) ? strdup(s) : NULL;
}

static hf_code parse_object(json_t *o, size_t i, hf_lfs_object *out, hf_error *err) {
    const char *oid = json_string_value(json_object_get(o, "oid"));
    json_t *size = json_object_get(o, "size");
    if (!oid || !hf_is_hex(oid, 64) || !json_is_integer(size) || json_integer_value(size) < 0)
        return hf_fail(err, HF_EINTEGRITY, "LFS batch answer: object %zu has no valid oid and size",
                       i);
    memcpy(out->oid, oid, 65);
    out->size = json_integer_value(size);
    json_t *e = json_object_get(o, "error");
    if (e) {
        const char *m = json_string_value(json_object_get(e, "message"));
        return hf_fail(err, HF_EOTHER, "the Hub refused LFS object %.12s: %.300s (code %lld)", oid,
                       m ? m : "no message",
                       (long long)json_integer_value(json_object_get(e, "code")));
    }
    json_t *actions = json_object_get(o, "actions");
    json_t *up = json_object_get(actions, "upload");
    json_t *verify = json_object_get(actions, "verify");
    if (!up) {
        out->present = true;
        return HF_OK;
    }
    if (!(out->upload_href = http_url(json_object_get(up, "href"))))
        return hf_fail(err, HF_EINTEGRITY, "LFS batch answer: object %.12s has no usable href",
                       oid);
    if (verify && !(out->verify_href = http_url(json_object_get(verify, "href"))))
        return hf_fail(err, HF_EINTEGRITY,
                       "LFS batch answer: object %.12s has no usable verify href", oid);
    json_t *header = json_object_get(up, "header");
    const char *chunk = json_string_value(json_object_get(header, "chunk_size"));
    if (!chunk)
        return HF_OK; /* basic */
    char *end;
    long long cs = strtoll(chunk, &end, 10);
    if (*end || cs <= 0 || out->size == 0)
        return hf_fail(err, HF_EINTEGRITY, "LFS batch answer: object %.12s has a bad chunk_size",
                       oid);
    long long n = out->size / cs + (out->size % cs != 0);
    if (n > 100000)
        return hf_fail(err, HF_EINTEGRITY, "LFS batch answer: object %.12s has too many parts",
                       oid);
    out->chunk_size = cs;
    out->parts = calloc((size_t)n, sizeof *out->parts);
    if (!out->parts)
        return hf_fail(err, HF_EOTHER, "out of memory");
    out->n_parts = (size_t)n;
    for (long long k = 1; k <= n; k++) {
        char key[24];
        snprintf(key, sizeof key, "%05lld", k);
        if (!(out->parts[k - 1] = http_url(json_object_get(header, key))))
            return hf_fail(err, HF_EINTEGRITY,
                           "LFS batch answer: object %.12s lacks a usable URL for part %lld of "
                           "%lld",
                           oid, k, n);
    }
    return HF_OK;
}

hf_code hf_lfs_batch_parse(const char *json, size_t len, hf_lfs_objects *out, hf_error *err) {
    memset(out, 0, sizeof *out);
    json_t *root = json_loadb(json, len, 0, NULL);
    json_t *objs = json_object_get(root, "objects");
    hf_code rc = HF_OK;
    if (!json_is_array(objs))
        rc = hf_fail(err, HF_EINTEGRITY, "the LFS batch answer has no objects list");
    else if (json_array_size(objs) && !(out->v = calloc(json_array_size(objs), sizeof *out->v)))
        rc = hf_fail(err, HF_EOTHER, "out of memory");
    for (size_t i = 0; rc == HF_OK && i < json_array_size(objs); i++) {
        out->n++;
        rc = parse_object(json_array_get(objs, i), i, &out->v[i], err);
    }
    json_decref(root);
    if (rc != HF_OK)
        hf_lfs_objects_free(out);
    return rc;
}

void hf_lfs_objects_free(hf_lfs_objects *o) {
    for (size_t i = 0; i < o->n; i++) {
        hf_lfs_object *x = &o->v[i];
        free(x->upload_href);
        free(x->verify_href);
        for (size_t k = 0; k < x->n_parts; k++)
            free(x->parts[k]);
        free(x->parts);
    }
    free(o->v);
    memset(o, 0, sizeof *o);
}

hf_code hf_lfs_batch(hf_client *c, const hf_repo *repo, const char *rev,
                     const hf_upload_file *const *files, size_t n, hf_lfs_objects *out,
                     hf_error *err) {
    memset(out, 0, sizeof *out);
    json_t *objs = json_array();
    for (size_t i = 0; objs && i < n; i++)
        json_array_append_new(objs, json_pack("{s:s, s:I}", "oid", files[i]->sha256, "size",
                                              (json_int_t)files[i]->size));
    json_t *body =
        json_pack("{s:s, s:[s, s], s:o, s:s, s:{s:s}}", "operation", "upload", "transfers", "basic",
                  "multipart", "objects", objs, "hash_algo", "sha256", "ref", "name", rev);
    hf_buf url = {0};
    hf_buf_addf(&url, "%s/%s%s.git/info/lfs/objects/batch", hf_client_endpoint(c),
                hf_repo_type_url_prefix(repo->type), repo->id);
    hf_response resp = {0};
    hf_code rc =
        post_json(c, url.data, "application/vnd.git-lfs+json", body, repo, rev, &resp, err);
    if (rc == HF_OK)
        rc = hf_lfs_batch_parse(resp.body.data ? resp.body.data : "", resp.body.len, out, err);
    for (size_t i = 0; rc == HF_OK && i < n; i++)
        if (i >= out->n || strcmp(out->v[i].oid, files[i]->sha256) != 0 ||
            out->v[i].size != files[i]->size)
            rc = hf_fail(err, HF_EINTEGRITY,
                         "the LFS batch answer does not match the objects asked for (%s)",
                         files[i]->path);
    if (rc != HF_OK)
        hf_lfs_objects_free(out);
    hf_response_clear(&resp);
    hf_buf_free(&url);
    return rc;
}

hf_code hf_lfs_complete(hf_client *c, const hf_lfs_object *o, char *const *etags, hf_error *err) {
    json_t *parts = json_array();
    for (size_t k = 0; parts && k < o->n_parts; k++)
        json_array_append_new(
            parts, json_pack("{s:I, s:s}", "partNumber", (json_int_t)(k + 1), "etag", etags[k]));
    hf_repo none = {HF_MODEL, "storage"};
    hf_response resp = {0};
    hf_code rc =
        post_json(c, o->upload_href, "application/vnd.git-lfs+json",
                  json_pack("{s:s, s:o}", "oid", o->oid, "parts", parts), &none, NULL, &resp, err);
    if (rc != HF_OK) {
        char msg[600];
        said(&resp, msg, sizeof msg);
        rc = hf_fail(err, rc, "completing the multipart upload of %.12s failed (HTTP %ld)%s%s",
                     o->oid, resp.status, msg[0] ? ": " : "", msg);
    }
    hf_response_clear(&resp);
    return rc;
}

hf_code hf_lfs_verify(hf_client *c, const hf_lfs_object *o, hf_error *err) {
    hf_repo none = {HF_MODEL, "storage"};
    hf_response resp = {0};
    hf_code rc = post_json(c, o->verify_href, "application/vnd.git-lfs+json",
                           json_pack("{s:s, s:I}", "oid", o->oid, "size", (json_int_t)o->size),
                           &none, NULL, &resp, err);
    if (rc != HF_OK) {
        char msg[600];
        said(&resp, msg, sizeof msg);
        rc = hf_fail(err, rc == HF_ENOTFOUND ? HF_EINTEGRITY : rc,
                     "the Hub could not verify LFS object %.12s (HTTP %ld)%s%s", o->oid,
                     resp.status, msg[0] ? ": " : "", msg);
    }
    hf_response_clear(&resp);
    return rc;
}

/* -- commit --------------------------------------------------------------------------------- */

hf_code hf_commit_answer_parse(const char *json, size_t len, hf_commit_answer *out, hf_error *err) {
    memset(out, 0, sizeof *out);
    json_t *root = json_loadb(json, len, 0, NULL);
    const char *oid = json_string_value(json_object_get(root, "commitOid"));
    hf_code rc = HF_OK;
    if (!oid || !hf_is_commit(oid)) {
        rc = hf_fail(err, HF_EINTEGRITY, "the Hub's answer to the commit has no valid commitOid");
    } else {
        memcpy(out->commit, oid, 41);
        out->commit_url = http_url(json_object_get(root, "commitUrl"));
        out->pr_url = http_url(json_object_get(root, "pullRequestUrl"));
    }
    json_decref(root);
    return rc;
}

void hf_commit_answer_free(hf_commit_answer *a) {
    free(a->commit_url);
    free(a->pr_url);
    memset(a, 0, sizeof *a);
}

hf_code hf_hub_commit(hf_client *c, const hf_repo *repo, const char *rev, bool create_pr,
                      int body_fd, size_t len, hf_commit_answer *out, hf_error *err) {
    memset(out, 0, sizeof *out);
    char *base = api_url(c, repo, "commit", rev);
    hf_buf url = {0};
    hf_buf_addf(&url, "%s%s", base ? base : "", create_pr ? "?create_pr=1" : "");
    free(base);
    hf_response resp = {0};
    hf_code rc =
        post(c, url.data, "application/x-ndjson", NULL, body_fd, len, repo, rev, &resp, err);
    if (rc == HF_OK)
        rc = hf_commit_answer_parse(resp.body.data ? resp.body.data : "", resp.body.len, out, err);
    hf_response_clear(&resp);
    hf_buf_free(&url);
    return rc;
}
