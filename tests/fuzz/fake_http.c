/* A stand-in for src/http.c in the fuzz targets of src/api.c: hf_http_get answers from the
 * fuzz input instead of the network, so the real hf_api_repo_info and hf_api_tree (JSON
 * checks, Link pagination, page repeat detection) run unchanged on arbitrary answers. */
#include "fake_http.h"

#include <stdlib.h>
#include <string.h>

fake_answer *fake_answers;
size_t fake_n, fake_next;
size_t fake_requests;

struct hf_client {
    const char *endpoint;
};

static hf_client the_client = {"https://hub.invalid"};

hf_client *fake_client(const char *endpoint) {
    the_client.endpoint = endpoint;
    return &the_client;
}

const char *hf_client_endpoint(const hf_client *c) {
    return c->endpoint;
}

bool hf_client_has_token(const hf_client *c) {
    (void)c;
    return false;
}

void hf_response_clear(hf_response *r) {
    char **fields[] = {&r->location,   &r->error_code,  &r->error_message, &r->request_id,
                       &r->link,       &r->repo_commit, &r->etag,          &r->linked_etag,
                       &r->linked_size, &r->retry_after, &r->ratelimit,    &r->content_range,
                       &r->content_type};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
    hf_buf_free(&r->body);
    r->status = 0;
    r->content_length = -1;
}

static char *dup_or_null(const char *s) {
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

hf_code hf_http_get(hf_client *c, const char *url, size_t max_body, const hf_req_ctx *ctx,
                    hf_response *resp, hf_error *err) {
    (void)c;
    (void)ctx;
    fake_requests++;
    if (!url || strncmp(url, "http", 4) != 0)
        abort(); /* api.c must only ever ask for HTTP(S) URLs */
    if (fake_next >= fake_n)
        return hf_fail(err, HF_ENOTFOUND, "no more fake answers for %s", url);
    const fake_answer *a = &fake_answers[fake_next++];
    if (a->body_len > max_body)
        return hf_fail(err, HF_EINTEGRITY, "answer from %s is larger than %zu bytes", url,
                       max_body);
    resp->status = 200;
    resp->link = dup_or_null(a->link);
    resp->repo_commit = dup_or_null(a->repo_commit);
    if (a->body_len && !hf_buf_add(&resp->body, a->body, a->body_len))
        abort();
    return HF_OK;
}
