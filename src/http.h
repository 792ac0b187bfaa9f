/* The HTTP client: one configuration (endpoint, token, timeouts, CA) applied to every
 * libcurl handle, redirects followed by hand so the token only goes to the Hub's origin,
 * retries with the Hub's backoff, and the answer's headers the protocol relies on. */
#ifndef HF_HTTP_H
#define HF_HTTP_H

#include <curl/curl.h>
#include <stdbool.h>

#include "buf.h"
#include "error.h"
#include "hub_error.h"
#include "log.h"

typedef struct {
    const char *endpoint;   /* normalized (no trailing '/') */
    const char *token;      /* may be NULL; copied */
    const char *user_agent; /* e.g. "hf-list/0.1.0" */
    hf_logger log;
} hf_client_opts;

typedef struct hf_client hf_client;

/* Once, before anything else (mains call it first): OpenSSL without the host's openssl.cnf
 * (a hash computed earlier would load it), then libcurl. False when libcurl fails. */
bool hf_http_global_init(void);

hf_code hf_client_new(const hf_client_opts *opts, hf_client **out, hf_error *err);
void hf_client_free(hf_client *c);
const char *hf_client_endpoint(const hf_client *c);
bool hf_client_has_token(const hf_client *c);
/* Whether a request to url carries the token (it has the endpoint's origin). */
bool hf_client_sends_token(const hf_client *c, const char *url);
const hf_logger *hf_client_logger(const hf_client *c);
/* Each API request's total deadline: $HF_HUB_API_TIMEOUT seconds, default 60. */
long hf_client_api_timeout_ms(const hf_client *c);

/* One HTTP answer: its status and the headers the protocol relies on (values trimmed, with
 * control bytes removed). */
typedef struct {
    long status;
    long long content_length; /* -1 when absent */
    char *location;           /* absolute redirect target for 3xx */
    char *error_code, *error_message, *request_id, *link, *repo_commit, *etag, *linked_etag,
        *linked_size, *retry_after, *ratelimit, *content_range, *content_type;
    hf_buf body; /* buffered bodies only */
} hf_response;

void hf_response_clear(hf_response *r);

/* libcurl header callback filling a hf_response (pass the response as CURLOPT_HEADERDATA).
 * A new status line clears what an earlier answer left. */
size_t hf_response_header_cb(char *line, size_t size, size_t n, void *response);

enum { HF_REQ_API = 0, HF_REQ_FILE = 1 };

/* Sets up an easy handle for one hop to url: user agent, timeouts, CA bundle, http(s) only,
 * no automatic redirects, the header callback into resp, and the Authorization header only
 * when url has the endpoint's origin. HF_REQ_FILE asks for identity encoding (sizes and
 * hashes are of the raw bytes).
 * HF_ENETWORK when no CA bundle can be found for an https URL. */
hf_code hf_client_setup(hf_client *c, CURL *easy, const char *url, int kind, hf_response *resp,
                        hf_error *err);

/* Maps a failed libcurl transfer to HF_ENETWORK (or HF_EIO for local write errors). */
hf_code hf_curl_error(CURLcode cc, const char *url, const char *detail, hf_error *err);
/* True for libcurl failures worth another try (timeouts, resets, refused connections). */
bool hf_curl_retryable(CURLcode cc);

/* Sleeps ms milliseconds (a retry's wait). */
void hf_sleep_ms(long ms);

/* GET url and buffer the body (at most max_body bytes) through the transfer engine
 * (transfer.h: redirects, retries, and the API's total deadline per try). HF_OK only for a
 * 2xx answer, which is left in resp; any other answer is mapped with hf_hub_error using ctx. */
hf_code hf_http_get(hf_client *c, const char *url, size_t max_body, const hf_req_ctx *ctx,
                    hf_response *resp, hf_error *err);

/* A request body: its method ("POST"), Content-Type and bytes, and the Accept header when it
 * is not application/json (may be NULL). With from_fd the len bytes are read from fd (from
 * offset 0, again for every try) instead of data: a body too large to hold in memory. */
typedef struct {
    const char *method;
    const char *content_type;
    const void *data;
    size_t len;
    const char *accept;
    bool from_fd;
    int fd;
} hf_http_body;

/* hf_http_get with a body, through the same engine: the same retries and deadline, no
 * redirects followed (a 3xx is a failure). On a failure mapped from an answer, that answer
 * stays in resp (status, headers, body) so the caller may read more into it than hf_hub_error
 * does; after a network failure resp->status is 0. */
hf_code hf_http_send(hf_client *c, const char *url, const hf_http_body *body, size_t max_body,
                     const hf_req_ctx *ctx, hf_response *resp, hf_error *err);

/* After hf_client_setup of an API request to url: the method, body, Content-Type (and Accept)
 * of send, with the client's headers for url (the token only to the endpoint's origin) and no
 * `Expect:`. *extra is the header list curl uses: the caller frees it after the request. */
hf_code hf_client_setup_body(hf_client *c, CURL *easy, const char *url, const hf_http_body *send,
                             struct curl_slist **extra, hf_error *err);

#endif
