/* The answers the fake hf_http_get (fake_http.c) gives, one per request, in order. */
#ifndef HF_FAKE_HTTP_H
#define HF_FAKE_HTTP_H

#include <stddef.h>

#include "http.h"

typedef struct {
    const char *link;        /* Link header, or NULL */
    const char *repo_commit; /* X-Repo-Commit header, or NULL */
    const char *body;
    size_t body_len;
} fake_answer;

extern fake_answer *fake_answers;
extern size_t fake_n, fake_next;
extern size_t fake_requests;

hf_client *fake_client(const char *endpoint);

#endif
