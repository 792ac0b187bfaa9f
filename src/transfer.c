/* The transfer engine: a request's hops, retries, resumes and fresh storage URLs. */
#include "transfer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "resume.h"
#include "retry.h"
#include "secret.h"
#include "url.h"

#define MAX_HOPS 10
#define ERROR_BODY_MAX (64u << 10)

enum { BODY_UNKNOWN, BODY_DATA, BODY_DISCARD, BODY_ERROR };

bool hf_xfer_is_redirect(long st) {
    return st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
}

bool hf_xfer_storage_refused(long status, const char *body, size_t len) {
    if (status == 401 || status == 403)
        return true;
    if (status < 400 || !body)
        return false;
    return memmem(body, len, "<Code>AccessDenied</Code>", 25) ||
           memmem(body, len, "Request has expired", 19);
}

bool hf_xfer_budget(int *tries, int *resumes, long long *mark, long long have,
                    const char *retry_after, const char *ratelimit, long *wait_ms, int *try) {
    bool moved = have > *mark;
    *mark = have;
    if (moved) {
        /* it moved on: not the same failure again, so the tries start afresh and it resumes
         * at once (unless the server asked for a wait); only the resumes are counted */
        *tries = 0;
        if (++*resumes > HF_XFER_MAX_RESUMES)
            return false;
        *wait_ms = retry_after || ratelimit ? hf_retry_delay_ms(0, retry_after, ratelimit) : 0;
        *try = 1;
        return true;
    }
    if (*tries >= HF_MAX_RETRIES)
        return false;
    *wait_ms = hf_retry_delay_ms((*tries)++, retry_after, ratelimit);
    *try = *tries + 1;
    return true;
}

static const char *what(const hf_xfer *x) {
    return x->o.what ? x->o.what : x->start_shown;
}

static const hf_logger *logger(const hf_xfer *x) {
    return hf_client_logger(x->o.client);
}

/* The hop's URL becomes url (NULL when out of memory), and what messages show of it: the
 * query is left out on another origin than the endpoint's (a storage host's pre-signed URL)
 * and wherever it may carry credentials. */
static void set_current(hf_xfer *x, char *url) {
    free(x->current);
    free(x->shown);
    x->current = url;
    x->shown = NULL;
    if (url)
        x->shown = hf_url_for_message(url, hf_client_endpoint(x->o.client));
}

hf_code hf_xfer_init(hf_xfer *x, const hf_xfer_opts *o, hf_error *err) {
    memset(x, 0, sizeof *x);
    x->o = *o;
    if (o->ctx)
        x->ctx = *o->ctx;
    x->start = strdup(o->url);
    x->start_shown = hf_url_for_message(o->url, hf_client_endpoint(o->client));
    set_current(x, strdup(o->url));
    x->have = x->mark = x->refresh_mark = o->have > 0 ? o->have : 0;
    x->resp.content_length = -1;
    if (!x->start || !x->start_shown || !x->current || !x->shown) {
        hf_xfer_free(x);
        return hf_fail(err, HF_EOTHER, "out of memory");
    }
    return HF_OK;
}

void hf_xfer_free(hf_xfer *x) {
    curl_slist_free_all(x->send_headers);
    x->send_headers = NULL;
    free(x->start);
    free(x->start_shown);
    x->start_shown = NULL;
    set_current(x, NULL);
    hf_response_clear(&x->resp);
    hf_buf_free(&x->errbody);
    x->start = NULL;
}

/* The first bytes (or the end) of an answer: what its body is, and whether a 2xx one is the
 * body asked for, from the byte reached. */
/* Whether a 3xx answer is followed: not for a request whose body cannot be sent again to
 * wherever the Location points. */
static bool follows(const hf_xfer *x, long st) {
    return hf_xfer_is_redirect(st) && !x->o.send && !x->o.upload;
}

static void decide_body(hf_xfer *x) {
    long st = x->resp.status;
    if (follows(x, st)) {
        x->body = BODY_DISCARD;
        return;
    }
    if (st < 200 || st >= 300) {
        x->body = BODY_ERROR;
        return;
    }
    x->body = BODY_DATA;
    if (x->o.size < 0)
        return;
    long long first, last, total;
    if (st == 206) {
        if (!hf_content_range_parse(x->resp.content_range, &first, &last, &total) ||
            first != x->have || total != x->o.size)
            x->stop = hf_fail(&x->stop_err, HF_EINTEGRITY,
                              "the server answered the range request for '%s' with the wrong "
                              "range (%s; wanted bytes %lld- of %lld)",
                              what(x), x->resp.content_range ? x->resp.content_range : "none",
                              x->have, x->o.size);
    } else if (st != 200) {
        x->stop = hf_fail(&x->stop_err, HF_EINTEGRITY, "unexpected answer for '%s' (HTTP %ld)",
                          what(x), st);
    } else {
        x->skip = x->have; /* a server that ignores Range starts over: drop what we hold */
    }
}

static size_t on_body(char *data, size_t size, size_t n, void *userp) {
    hf_xfer *x = userp;
    size_t len = size * n;
    if (x->body == BODY_UNKNOWN)
        decide_body(x);
    if (x->stop != HF_OK)
        return 0;
    if (x->body == BODY_DISCARD)
        return len;
    if (x->body == BODY_ERROR) {
        size_t room = ERROR_BODY_MAX - x->errbody.len;
        if (room && !hf_buf_add(&x->errbody, data, len < room ? len : room))
            return 0;
        return len;
    }
    const char *p = data;
    size_t left = len;
    if (x->skip > 0) {
        size_t k = (long long)left < x->skip ? left : (size_t)x->skip;
        x->skip -= (long long)k;
        p += k;
        left -= k;
    }
    if (left == 0)
        return len;
    if (x->o.size >= 0 && (long long)left > x->o.size - x->have) {
        x->stop =
            hf_fail(&x->stop_err, HF_EINTEGRITY,
                    "the server sent more than the %lld bytes listed for '%s'", x->o.size, what(x));
        return 0;
    }
    hf_code rc = x->o.sink.write(x->o.sink.ctx, p, left, &x->stop_err);
    if (rc != HF_OK) {
        x->stop = rc;
        return 0;
    }
    x->have += (long long)left;
    return len;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A download or an upload has no total deadline, but the body of an error answer (or of a
 * redirect) is an API answer like any other: it gets HF_HUB_API_TIMEOUT from when the answer
 * began (an upload may take long before it), so one that drips cannot hang. */
static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    hf_xfer *x = userp;
    long st = x->resp.status;
    if (st == 0 || (st >= 200 && st < 300))
        return 0;
    if (!x->answer_ms)
        x->answer_ms = now_ms();
    if (now_ms() - x->answer_ms <= hf_client_api_timeout_ms(x->o.client))
        return 0;
    x->deadline_hit = true;
    return 1;
}

/* The upload's next bytes, read from its file at the range's offset. */
static size_t on_upload_read(char *buf, size_t size, size_t n, void *userp) {
    hf_xfer *x = userp;
    const hf_xfer_upload *u = x->o.upload;
    long long left = u->length - x->up_done;
    size_t want = size * n < (size_t)left ? size * n : (size_t)left;
    if (want == 0)
        return 0;
    ssize_t got = pread(u->fd, buf, want, u->offset + x->up_done);
    if (got <= 0) {
        x->up_errno = got < 0 ? errno : -1;
        return CURL_READFUNC_ABORT;
    }
    x->up_done += got;
    if (u->sent)
        u->sent(u->sent_ctx, got);
    return (size_t)got;
}

/* libcurl sends an upload again from the start on its own (a reused connection found closed,
 * say): it seeks back, and what was counted as sent is taken back. */
static int on_upload_seek(void *userp, curl_off_t offset, int origin) {
    hf_xfer *x = userp;
    const hf_xfer_upload *u = x->o.upload;
    if (origin != SEEK_SET || offset < 0 || offset > u->length)
        return CURL_SEEKFUNC_CANTSEEK;
    if (u->sent)
        u->sent(u->sent_ctx, (long long)offset - x->up_done);
    x->up_done = (long long)offset;
    return CURL_SEEKFUNC_OK;
}

hf_code hf_xfer_setup(hf_xfer *x, CURL *easy, hf_error *err) {
    if (x->o.size < 0 && x->have > 0) {
        /* an answer of unknown size is fetched whole by every try */
        hf_code rc = x->o.sink.restart ? x->o.sink.restart(x->o.sink.ctx, err)
                                       : hf_fail(err, HF_EOTHER, "cannot restart %s", what(x));
        if (rc != HF_OK)
            return rc;
        x->have = x->mark = 0;
    }
    curl_easy_reset(easy);
    hf_response_clear(&x->resp);
    hf_buf_reset(&x->errbody);
    x->body = BODY_UNKNOWN;
    x->skip = 0;
    x->stop = HF_OK;
    x->errbuf[0] = '\0';
    x->range[0] = '\0';
    x->deadline_hit = false;
    x->answer_ms = 0;
    curl_slist_free_all(x->send_headers); /* the last request's, unused since the reset */
    x->send_headers = NULL;
    hf_code rc = hf_client_setup(x->o.client, easy, x->current, x->o.kind, &x->resp, err);
    if (rc == HF_OK && x->o.send)
        rc = hf_client_setup_body(x->o.client, easy, x->current, x->o.send, &x->send_headers, err);
    if (rc != HF_OK)
        return rc;
    if (x->o.upload) { /* every try sends the whole range again */
        if (x->up_done > 0 && x->o.upload->sent)
            x->o.upload->sent(x->o.upload->sent_ctx, -x->up_done);
        x->up_done = 0;
        x->up_errno = 0;
        curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_upload_read);
        curl_easy_setopt(easy, CURLOPT_READDATA, x);
        curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, on_upload_seek);
        curl_easy_setopt(easy, CURLOPT_SEEKDATA, x);
        curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->o.upload->length);
    }
    if (x->o.size >= 0 && x->have > 0) {
        snprintf(x->range, sizeof x->range, "%lld-", x->have);
        curl_easy_setopt(easy, CURLOPT_RANGE, x->range);
    }
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, 512L * 1024); /* fewer, larger writes */
    if (x->o.kind == HF_REQ_FILE) {
        curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(easy, CURLOPT_XFERINFODATA, x);
        curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    }
    return HF_OK;
}

/* A failed try: wait and try again, or, when the tries are spent, fail with `final` (the
 * message for the end; `now` says what happened, for the retry's log line). */
static hf_xfer_step failed_try(hf_xfer *x, const hf_error *final, const char *now,
                               const char *retry_after, const char *ratelimit, hf_error *err) {
    int try = 0;
    /* an answer of unknown size starts over on each try: what it got is no progress */
    long long reached = x->o.size >= 0 ? x->have : 0;
    if (!hf_xfer_budget(&x->tries, &x->resumes, &x->mark, reached, retry_after, ratelimit,
                        &x->wait_ms, &try)) {
        if (x->resumes > HF_XFER_MAX_RESUMES)
            hf_fail(err, HF_ENETWORK,
                    "gave up on %s after %d resumes (the server keeps ending the transfer "
                    "early): %s",
                    what(x), HF_XFER_MAX_RESUMES, now);
        else
            *err = *final;
        return HF_XFER_FAILED;
    }
    char from[64] = "";
    if (x->have > 0 && x->o.size >= 0)
        snprintf(from, sizeof from, " from byte %lld", x->have);
    hf_log(logger(x), HF_LOG_INFO, "%s; retrying in %.1f s%s (try %d of %d)", now,
           x->wait_ms / 1000.0, from, try, HF_MAX_RETRIES + 1);
    return HF_XFER_WAIT;
}

static hf_xfer_step follow(hf_xfer *x, CURL *easy, hf_error *err) {
    char *next = NULL;
    curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &next);
    if (++x->hops > MAX_HOPS) {
        hf_fail(err, HF_EINTEGRITY, "too many redirects fetching %s", what(x));
        return HF_XFER_FAILED;
    }
    if (!next) {
        hf_fail(err, HF_EINTEGRITY, "redirect without a usable Location from %s", x->shown);
        return HF_XFER_FAILED;
    }
    if (!hf_url_is_http(next)) {
        hf_fail(err, HF_EINTEGRITY, "refusing a redirect to a non-HTTP URL from %s", x->shown);
        return HF_XFER_FAILED;
    }
    if (hf_secret_in(next, strlen(next))) {
        hf_fail(err, HF_EINTEGRITY,
                "refusing a redirect from %s: its Location carries the access token", x->shown);
        return HF_XFER_FAILED;
    }
    if (x->o.commit && x->resp.repo_commit && strcmp(x->resp.repo_commit, x->o.commit) != 0)
        hf_log(logger(x), HF_LOG_WARN, "'%s': the server names commit %s, not %s", what(x),
               x->resp.repo_commit, x->o.commit);
    set_current(x, strdup(next));
    if (!x->current || !x->shown) {
        hf_fail(err, HF_EOTHER, "out of memory");
        return HF_XFER_FAILED;
    }
    return HF_XFER_SEND;
}

/* The storage host refused its pre-signed URL: ask the Hub for a fresh one, a few times. */
static hf_xfer_step refresh(hf_xfer *x, long st, hf_error *err) {
    if (x->have > x->refresh_mark)
        x->refreshes = 0;
    x->refresh_mark = x->have;
    if (x->refreshes >= HF_XFER_MAX_REFRESHES) {
        hf_fail(err, HF_ENETWORK,
                "the storage host kept refusing %s (HTTP %ld) after %d fresh URLs from the Hub",
                what(x), st, HF_XFER_MAX_REFRESHES);
        return HF_XFER_FAILED;
    }
    x->refreshes++;
    hf_log(logger(x), HF_LOG_INFO,
           "%s: the storage URL expired or was refused, fetching a new one (HTTP %ld)", what(x),
           st);
    set_current(x, strdup(x->start));
    if (!x->current || !x->shown) {
        hf_fail(err, HF_EOTHER, "out of memory");
        return HF_XFER_FAILED;
    }
    x->hops = 0;
    return HF_XFER_SEND;
}

/* The answer's own message, mapped as the Hub's errors are. */
static hf_code hub_error(hf_xfer *x, long st, hf_error *err) {
    hf_req_ctx ctx = x->ctx;
    ctx.token_sent = hf_client_sends_token(x->o.client, x->current); /* by this request */
    hf_hub_answer a = {st,
                       x->resp.error_code,
                       x->resp.error_message,
                       x->resp.request_id,
                       x->errbody.data,
                       x->errbody.len};
    return hf_hub_error(&a, &ctx, err);
}

hf_xfer_step hf_xfer_after(hf_xfer *x, CURL *easy, CURLcode cc, hf_error *err) {
    if (x->body == BODY_UNKNOWN && cc == CURLE_OK)
        decide_body(x); /* an empty body never reached the write callback */
    if (x->stop != HF_OK) {
        *err = x->stop_err;
        return HF_XFER_FAILED;
    }
    if (x->o.upload && x->up_errno) {
        hf_fail(err, HF_EIO, "cannot read %s: %s", what(x),
                x->up_errno > 0 ? strerror(x->up_errno) : "the file got shorter");
        return HF_XFER_FAILED;
    }
    hf_error final = {0};
    if (cc != CURLE_OK) {
        double secs = 0;
        curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &secs);
        long deadline = hf_client_api_timeout_ms(x->o.client);
        if ((cc == CURLE_OPERATION_TIMEDOUT && x->o.kind == HF_REQ_API &&
             secs * 1000 >= deadline - 50) ||
            (cc == CURLE_ABORTED_BY_CALLBACK && x->deadline_hit))
            hf_fail(&final, HF_ENETWORK,
                    "no complete answer from %s within %.1f s (HF_HUB_API_TIMEOUT)", x->shown,
                    deadline / 1000.0);
        else {
            /* a storage URL is shown without its query: the file it serves is named instead */
            char where[2300];
            if (x->o.what && strcmp(x->shown, x->current) != 0)
                snprintf(where, sizeof where, "%s (%s)", x->shown, x->o.what);
            else
                snprintf(where, sizeof where, "%s", x->shown);
            hf_curl_error(cc, where, x->errbuf, &final);
        }
        if (!hf_curl_retryable(cc) && !x->deadline_hit) {
            *err = final;
            return HF_XFER_FAILED;
        }
        return failed_try(x, &final, final.msg, NULL, NULL, err);
    }
    long st = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &st);
    hf_log(logger(x), HF_LOG_DEBUG, "%s %s%s%s -> %ld",
           x->o.send     ? x->o.send->method
           : x->o.upload ? "PUT"
                         : "GET",
           x->shown, x->range[0] ? " from byte " : "", x->range, st);
    if (follows(x, st))
        return follow(x, easy, err);
    if (st >= 200 && st < 300) {
        if (x->o.size < 0 || x->have == x->o.size)
            return HF_XFER_DONE;
        hf_fail(&final, HF_ENETWORK, "%s ended after %lld of %lld bytes of %s", x->shown, x->have,
                x->o.size, what(x));
        return failed_try(x, &final, final.msg, NULL, NULL, err);
    }
    if (st == 416 && x->o.size >= 0) {
        if (hf_resume_decide(st, x->resp.content_range, x->have, x->o.size) == HF_RESUME_COMPLETE)
            return HF_XFER_DONE;
        if (!x->o.sink.restart || x->have == 0) {
            hf_fail(err, HF_EINTEGRITY,
                    "the server refused the range request for '%s' (HTTP 416, bytes %lld- of "
                    "%lld)",
                    what(x), x->have, x->o.size);
            return HF_XFER_FAILED;
        }
        if (x->o.sink.restart(x->o.sink.ctx, err) != HF_OK)
            return HF_XFER_FAILED;
        hf_fail(&final, HF_EINTEGRITY, "the server cannot resume '%s' from byte %lld", what(x),
                x->have);
        x->have = 0; /* starting over is a failed try: a server answering 416 for ever ends */
        return failed_try(x, &final, final.msg, NULL, NULL, err);
    }
    /* the storage host (another origin, answering as S3 does, not as the Hub or a mirror of
     * it with its X-Error-Code) refused the pre-signed URL the Hub gave */
    if (x->o.kind == HF_REQ_FILE && !x->resp.error_code &&
        !hf_url_same_origin(x->current, hf_client_endpoint(x->o.client)) &&
        hf_xfer_storage_refused(st, x->errbody.data, x->errbody.len)) {
        if (!x->o.upload)
            return refresh(x, st, err);
        x->refused = true; /* the uploader asks the Hub for fresh URLs */
        hf_fail(err, HF_EAUTH, "the storage host refused %s (HTTP %ld)", what(x), st);
        return HF_XFER_FAILED;
    }
    hub_error(x, st, &final);
    if (hf_retry_status(st)) {
        char now[512];
        snprintf(now, sizeof now, "HTTP %ld from %s", st, x->shown);
        return failed_try(x, &final, now, x->resp.retry_after, x->resp.ratelimit, err);
    }
    *err = final;
    return HF_XFER_FAILED;
}

hf_code hf_xfer_run(hf_xfer *x, CURL *easy, hf_error *err) {
    hf_error local = {0};
    if (!err)
        err = &local;
    for (;;) {
        hf_code rc = hf_xfer_setup(x, easy, err);
        if (rc != HF_OK)
            return rc;
        CURLcode cc = curl_easy_perform(easy);
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL);
        switch (hf_xfer_after(x, easy, cc, err)) {
        case HF_XFER_DONE:
            return HF_OK;
        case HF_XFER_FAILED:
            return err->code != HF_OK ? err->code : HF_EOTHER;
        case HF_XFER_WAIT:
            hf_sleep_ms(x->wait_ms);
            break;
        case HF_XFER_SEND:
            break;
        }
    }
}
