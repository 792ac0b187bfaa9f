/* What a failed Hub answer means: its status, X-Error-Code and message, as an hf_code. */
#ifndef HF_HUB_ERROR_H
#define HF_HUB_ERROR_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* What the client asked for, so the message can name it. */
typedef struct {
    const char *repo_id;
    const char *revision; /* may be NULL */
    const char *path;     /* may be NULL */
    bool token_sent;
} hf_req_ctx;

/* The parts of an error answer the mapping reads (any may be NULL). */
typedef struct {
    long status;
    const char *error_code;    /* X-Error-Code */
    const char *error_message; /* X-Error-Message */
    const char *request_id;    /* X-Request-Id */
    const char *body;          /* {"error": ...} or {"errors": [{"message": ...}]} */
    size_t body_len;
} hf_hub_answer;

/* Maps a non-2xx answer to a code and a one-line message naming what failed and what to do:
 * 401/403 to HF_EAUTH (gated, private, bad token, disabled), 404 to HF_ENOTFOUND, 408, 429
 * and 5xx to HF_ENETWORK, anything else to HF_EOTHER. */
hf_code hf_hub_error(const hf_hub_answer *a, const hf_req_ctx *ctx, hf_error *err);

#endif
