/* The transfer engine: one request to the Hub followed to its end, for every binary. It follows
 * redirects by hand (at most 10 hops, http(s) only, the token only to the endpoint's origin),
 * retries transient failures with the Hub's backoff (Retry-After, RateLimit), resumes a body
 * with Range from the byte reached, caps resumes that crawl forward, counts an answer that
 * brings no new byte as a failed try, and goes back to the Hub's URL for a fresh storage URL
 * when the storage host refuses an expired one. hf-fetch drives many at once through curl
 * multi (hf_xfer_setup, then hf_xfer_after when a request ends); hf-bundle --repo and the API
 * requests run one to its end (hf_xfer_run). */
#ifndef HF_TRANSFER_H
#define HF_TRANSFER_H

#include <curl/curl.h>
#include <stdbool.h>

#include "buf.h"
#include "error.h"
#include "http.h"
#include "hub_error.h"

/* Resumes that made progress do not count as failed tries; this many end it all the same
 * (a server that sends a few bytes per connection for ever). */
#define HF_XFER_MAX_RESUMES 100
/* Fresh storage URLs asked of the Hub in a row, without progress, when the storage host
 * refuses the one it gave. */
#define HF_XFER_MAX_REFRESHES 3

/* Where the body of a 2xx answer goes. */
typedef struct {
    /* The next bytes, in order, from the byte reached (hf_xfer.have before the call). Anything
     * but HF_OK stops the transfer with that error. */
    hf_code (*write)(void *ctx, const void *data, size_t len, hf_error *err);
    /* The body starts over at byte 0: forget what was written. Called before every try of an
     * answer of unknown size, and for a server that cannot resume a known one (416). NULL:
     * such a server is refused (a sink that cannot take bytes back, like an archive). */
    hf_code (*restart)(void *ctx, hf_error *err);
    void *ctx;
} hf_xfer_sink;

/* The body of a PUT: a byte range of an open file, read with pread (an upload's part). */
typedef struct {
    int fd;
    long long offset, length;
    void (*sent)(void *ctx, long long delta); /* bytes that went out; negative when a try
                                                 starts the range again (may be NULL) */
    void *sent_ctx;
} hf_xfer_upload;

typedef struct {
    hf_client *client;
    const char *url; /* where it starts, and starts again for a fresh storage URL */
    int kind;        /* HF_REQ_API: a total deadline per try; HF_REQ_FILE: low-speed limit only */
    long long size;  /* the body's size, resumed with Range; -1: unknown, fetched whole */
    long long have;  /* bytes already held (an earlier run's .incomplete): resume there */
    const hf_req_ctx *ctx; /* names the request in messages (copied) */
    const char *commit;    /* when set: a redirect naming another commit is warned about */
    const char *what;      /* what is transferred, for messages (e.g. the file's path) */
    /* A request body (an API POST): sent whole again by every try; a 3xx answer to it is
     * not followed but is a failure. NULL: a GET. */
    const hf_http_body *send;
    /* A file's byte range as the request body: a PUT to a pre-signed storage URL (kind
     * HF_REQ_FILE), or the body of `send` when that says from_fd (a POST). Sent whole by every
     * try (and rewound when libcurl sends it again on its own); a 3xx answer is not followed,
     * and a storage host refusing the URL is a failure the caller answers (`refused` set: it
     * needs fresh URLs from the Hub's LFS batch endpoint, not the same URL again). NULL: no
     * such body. */
    const hf_xfer_upload *upload;
    hf_xfer_sink sink;
} hf_xfer_opts;

/* What to do after a request ended. */
typedef enum {
    HF_XFER_SEND,   /* send the next request now (a redirect, a fresh storage URL) */
    HF_XFER_WAIT,   /* a failed try: send the next request after wait_ms */
    HF_XFER_DONE,   /* the whole body was received (resp holds the last answer's headers) */
    HF_XFER_FAILED, /* err says why */
} hf_xfer_step;

typedef struct {
    hf_xfer_opts o;
    hf_req_ctx ctx;
    char *start, *current; /* the first URL, and the one of this hop */
    char *shown;           /* current for messages: a storage host's query (its pre-signed,
                            * short-lived credentials) left out */
    char *start_shown;     /* start, the same way */
    hf_response resp;      /* the last answer's headers (and, for errors, nothing else) */
    long long have;        /* bytes delivered to the sink */
    long long skip;        /* bytes of a 200 answer already held: dropped */
    long long mark;        /* `have` at the last failed try */
    long long refresh_mark;
    int hops, tries, resumes, refreshes;
    long wait_ms;   /* for HF_XFER_WAIT */
    int body;       /* what this answer's body is (transfer.c) */
    hf_buf errbody; /* an error answer's body, for its message */
    char errbuf[CURL_ERROR_SIZE];
    char range[48];
    struct curl_slist *send_headers; /* the request's headers when it has a body */
    long long up_done;               /* bytes of the upload's range read by this try */
    int up_errno;                    /* the upload's file could not be read: errno, or -1 */
    long long answer_ms;             /* when this request's answer was first seen (0: not yet) */
    bool deadline_hit;               /* an error answer's body took longer than the API deadline */
    bool refused; /* the storage host refused the pre-signed URL (an upload's: not retried) */
    hf_code stop; /* a failure found inside the write callback */
    hf_error stop_err;
} hf_xfer;

hf_code hf_xfer_init(hf_xfer *x, const hf_xfer_opts *o, hf_error *err);
void hf_xfer_free(hf_xfer *x);

/* Sets easy (reset here; not in a multi handle) up for the next request: the hop's URL with
 * the client's headers (hf_client_setup), Range from the byte reached, the body into the
 * sink. */
hf_code hf_xfer_setup(hf_xfer *x, CURL *easy, hf_error *err);

/* The request on easy ended with cc: what comes next. */
hf_xfer_step hf_xfer_after(hf_xfer *x, CURL *easy, CURLcode cc, hf_error *err);

/* Runs the transfer to its end on easy (setup, perform, after, sleep): HF_OK once done. */
hf_code hf_xfer_run(hf_xfer *x, CURL *easy, hf_error *err);

/* The decisions, apart (the engine's own, exposed for its unit tests). */
/* A 3xx that is followed. */
bool hf_xfer_is_redirect(long status);
/* Whether an error answer of the storage host (a URL of another origin than the endpoint,
 * answering without the Hub's X-Error-Code) means it refused a pre-signed URL: 401, 403, or
 * an S3 XML error AccessDenied / "Request has expired". */
bool hf_xfer_storage_refused(long status, const char *body, size_t len);
/* A failed try, after which `have` bytes are held: false when the budget is spent (the
 * caller fails); else *wait_ms is how long to wait (the backoff, or the answer's Retry-After /
 * RateLimit, either may be NULL) and *try is the try that comes next (1-based) of
 * HF_MAX_RETRIES + 1 without progress. A try that brought no new byte is a failed try with
 * backoff; one that moved on since the last failure resumes at once with a fresh count of
 * tries, but is one of at most HF_XFER_MAX_RESUMES resumes. */
bool hf_xfer_budget(int *tries, int *resumes, long long *mark, long long have,
                    const char *retry_after, const char *ratelimit, long *wait_ms, int *try);

#endif
