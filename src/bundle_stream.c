/* Streaming one file of the Hub into a sink, with redirects, retries and resume. */
#include "bundle_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retry.h"
#include "url.h"

#define MAX_REDIRECTS 10
#define MAX_ERROR_BODY (64u << 10)

typedef struct {
    hf_response *resp;
    long long size;
    long long skip; /* bytes of a 200 answer already taken by an earlier attempt */
    bool checked;   /* the answer's headers were looked at */
    hf_hasher *h;
    hf_stream_sink sink;
    void *sink_ctx;
    hf_buf errbody;
    /* what stopped the transfer from the callback */
    hf_code stop;
    hf_error *err;
    const char *url;
} stream;

static bool is_redirect(long st) {
    return st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
}

/* The first bytes of a 2xx answer: is it the body we expect, from where we are? */
static bool check_answer(stream *s) {
    long long reached = hf_hasher_seen(s->h);
    hf_response *r = s->resp;
    if (r->status == 206) {
        long long a, b, total;
        if (!r->content_range ||
            sscanf(r->content_range, "bytes %lld-%lld/%lld", &a, &b, &total) != 3) {
            s->stop = hf_fail(s->err, HF_EINTEGRITY,
                              "a partial answer without a usable "
                              "Content-Range from %s",
                              s->url);
            return false;
        }
        if (a != reached || total != s->size || b != s->size - 1) {
            s->stop = hf_fail(s->err, HF_EINTEGRITY,
                              "%s sent bytes %lld-%lld of %lld; asked for %lld- of %lld bytes",
                              s->url, a, b, total, reached, s->size);
            return false;
        }
        return true;
    }
    if (r->status != 200) {
        s->stop = hf_fail(s->err, HF_EINTEGRITY, "unexpected HTTP %ld with a body from %s",
                          r->status, s->url);
        return false;
    }
    if (r->content_length >= 0 && r->content_length != s->size) {
        s->stop = hf_fail(s->err, HF_EINTEGRITY,
                          "%s sends %lld bytes; the listing says the file has %lld", s->url,
                          r->content_length, s->size);
        return false;
    }
    s->skip = reached; /* a server that ignores Range starts over */
    return true;
}

static size_t write_cb(char *data, size_t sz, size_t n, void *userp) {
    stream *s = userp;
    size_t len = sz * n;
    long st = s->resp->status;
    if (st < 200 || st >= 300) {
        /* an error page (kept for its message) or a redirect's body */
        if (s->errbody.len < MAX_ERROR_BODY &&
            !hf_buf_add(&s->errbody, data,
                        len < MAX_ERROR_BODY - s->errbody.len ? len
                                                              : MAX_ERROR_BODY - s->errbody.len))
            return 0;
        return len;
    }
    if (!s->checked) {
        s->checked = true;
        if (!check_answer(s))
            return 0;
    }
    const char *p = data;
    size_t left = len;
    if (s->skip > 0) {
        size_t k = (long long)left < s->skip ? left : (size_t)s->skip;
        s->skip -= (long long)k;
        p += k;
        left -= k;
    }
    if (left == 0)
        return len;
    if ((long long)left > s->size - hf_hasher_seen(s->h)) {
        s->stop = hf_fail(s->err, HF_EINTEGRITY,
                          "%s sends more than the %lld bytes the listing "
                          "gives",
                          s->url, s->size);
        return 0;
    }
    if (!hf_hasher_update(s->h, p, left)) {
        s->stop = hf_fail(s->err, HF_EOTHER, "hashing failed");
        return 0;
    }
    hf_code rc = s->sink(s->sink_ctx, p, left, s->err);
    if (rc != HF_OK) {
        s->stop = rc;
        return 0;
    }
    return len;
}

/* One attempt: the request and its redirects, from the byte reached. *retry says whether a
 * failure is worth another attempt. */
static hf_code attempt(hf_client *c, CURL *easy, const char *url, stream *s, bool *retry,
                       bool *answer, hf_error *err) {
    char *current = strdup(url);
    hf_code rc = current ? HF_OK : hf_fail(err, HF_EOTHER, "out of memory");
    *retry = *answer = false;
    for (int hop = 0; rc == HF_OK; hop++) {
        if (hop > MAX_REDIRECTS) {
            rc = hf_fail(err, HF_EINTEGRITY, "too many redirects fetching %s", url);
            break;
        }
        hf_response_clear(s->resp);
        hf_buf_reset(&s->errbody);
        s->checked = false;
        s->skip = 0;
        s->stop = HF_OK;
        s->url = current;
        curl_easy_reset(easy);
        if ((rc = hf_client_setup(c, easy, current, HF_REQ_FILE, s->resp, err)) != HF_OK)
            break;
        long long reached = hf_hasher_seen(s->h);
        char range[48];
        if (reached > 0) {
            snprintf(range, sizeof range, "%lld-", reached);
            curl_easy_setopt(easy, CURLOPT_RANGE, range);
        }
        char detail[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, 256L << 10); /* fewer, larger writes */
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, detail);
        CURLcode cc = curl_easy_perform(easy);
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL);
        if (s->stop != HF_OK) {
            rc = s->stop;
            break;
        }
        if (cc != CURLE_OK) {
            *retry = hf_curl_retryable(cc);
            rc = hf_curl_error(cc, current, detail, err);
            break;
        }
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &s->resp->status);
        hf_log(hf_client_logger(c), HF_LOG_DEBUG, "GET %s%s%s -> %ld", current,
               reached ? " from byte " : "", reached ? range : "", s->resp->status);
        long st = s->resp->status;
        if (is_redirect(st)) {
            char *next = NULL;
            curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &next);
            if (!next) {
                rc = hf_fail(err, HF_EINTEGRITY, "redirect without a usable Location from %s",
                             current);
            } else if (!hf_url_is_http(next)) {
                rc = hf_fail(err, HF_EINTEGRITY, "refusing a redirect to a non-HTTP URL from %s",
                             current);
            } else {
                char *copy = strdup(next);
                free(current);
                current = copy;
                if (!current)
                    rc = hf_fail(err, HF_EOTHER, "out of memory");
            }
            continue;
        }
        if (st >= 200 && st < 300) {
            if (hf_hasher_seen(s->h) < s->size) {
                *retry = true;
                rc = hf_fail(err, HF_ENETWORK, "%s ended after %lld of %lld bytes", current,
                             hf_hasher_seen(s->h), s->size);
            }
            break;
        }
        /* an error answer: the caller maps it once retries are over */
        *retry = hf_retry_status(st);
        *answer = true;
        rc = HF_EOTHER;
        break;
    }
    free(current);
    return rc;
}

hf_code hf_stream_get(hf_client *c, CURL *easy, const char *url, long long size,
                      const hf_req_ctx *ctx, hf_hasher *h, hf_stream_sink sink, void *sink_ctx,
                      hf_error *err) {
    hf_error local = {0};
    if (!err)
        err = &local;
    hf_response resp = {.content_length = -1};
    stream s = {
        .resp = &resp, .size = size, .h = h, .sink = sink, .sink_ctx = sink_ctx, .err = err};
    hf_code rc = HF_OK;
    for (int tries = 0;; tries++) {
        long long before = hf_hasher_seen(h);
        bool retry, http_answer;
        rc = attempt(c, easy, url, &s, &retry, &http_answer, err);
        if (rc == HF_OK)
            break;
        if (hf_hasher_seen(h) > before)
            tries = 0; /* progress was made: a fresh budget of retries */
        if (!retry || tries >= HF_MAX_RETRIES) {
            if (http_answer) {
                hf_req_ctx x = ctx ? *ctx : (hf_req_ctx){0};
                x.token_sent = hf_client_has_token(c);
                hf_hub_answer a = {resp.status,     resp.error_code, resp.error_message,
                                   resp.request_id, s.errbody.data,  s.errbody.len};
                rc = hf_hub_error(&a, &x, err);
            }
            break;
        }
        long wait = hf_retry_delay_ms(tries, http_answer ? resp.retry_after : NULL,
                                      http_answer ? resp.ratelimit : NULL);
        if (http_answer)
            hf_log(hf_client_logger(c), HF_LOG_INFO, "HTTP %ld from %s, retrying in %.1f s",
                   resp.status, url, wait / 1000.0);
        else
            hf_log(hf_client_logger(c), HF_LOG_INFO, "%s; retrying in %.1f s", err->msg,
                   wait / 1000.0);
        hf_sleep_ms(wait);
    }
    hf_response_clear(&resp);
    hf_buf_free(&s.errbody);
    return rc;
}
