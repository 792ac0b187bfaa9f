/* PUT of a byte range with retries. */
#include "part_upload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "retry.h"

typedef struct {
    const hf_part *part;
    long long done;
    bool read_failed;
    int read_errno;
} reader;

static size_t read_cb(char *buf, size_t size, size_t n, void *userp) {
    reader *r = userp;
    long long left = r->part->length - r->done;
    size_t want = size * n < (size_t)left ? size * n : (size_t)left;
    if (want == 0)
        return 0;
    ssize_t got = pread(r->part->fd, buf, want, r->part->offset + r->done);
    if (got <= 0) {
        r->read_failed = true;
        r->read_errno = got < 0 ? errno : 0;
        return CURL_READFUNC_ABORT;
    }
    r->done += got;
    if (r->part->sent)
        r->part->sent(r->part->sent_ctx, got);
    return (size_t)got;
}

static size_t keep_body(char *data, size_t size, size_t n, void *userp) {
    hf_buf *b = userp;
    size_t len = size * n;
    if (b->len < 65536)
        hf_buf_add(b, data, len < 65536 ? len : 65536);
    return len;
}

/* The <Message> of a storage error (S3's XML), else the start of the body. */
static void storage_message(const hf_buf *b, char *out, size_t cap) {
    out[0] = '\0';
    if (!b->data)
        return;
    const char *s = strstr(b->data, "<Message>");
    const char *e = s ? strstr(s, "</Message>") : NULL;
    size_t n = s && e ? (size_t)(e - s - 9) : b->len;
    s = s && e ? s + 9 : b->data;
    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
    out[n] = '\0';
}

hf_code hf_part_put(hf_client *c, const hf_part *part, char **etag, hf_error *err) {
    CURL *easy = curl_easy_init();
    hf_response resp = {0};
    hf_code rc = HF_OK;
    *etag = NULL;
    if (!easy)
        return hf_fail(err, HF_EOTHER, "out of memory");
    for (int attempt = 0;; attempt++) {
        reader r = {part, 0, false, 0};
        char detail[CURL_ERROR_SIZE] = "";
        hf_response_clear(&resp);
        curl_easy_reset(easy);
        if ((rc = hf_client_setup(c, easy, part->url, HF_REQ_FILE, &resp, err)) != HF_OK)
            break;
        curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(easy, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(easy, CURLOPT_READDATA, &r);
        curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)part->length);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, keep_body);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, &resp.body);
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, detail);
        CURLcode cc = curl_easy_perform(easy);
        if (r.read_failed) {
            rc = hf_fail(err, HF_EIO, "cannot read %s: %s", part->what,
                         r.read_errno ? strerror(r.read_errno) : "the file got shorter");
            break;
        }
        bool retry;
        if (cc != CURLE_OK) {
            retry = hf_curl_retryable(cc);
            rc = hf_curl_error(cc, "storage", detail, err);
            /* the message names the storage host, never its pre-signed query */
            hf_fail(err, rc, "uploading %s failed: %s", part->what,
                    detail[0] ? detail : curl_easy_strerror(cc));
        } else {
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp.status);
            if (resp.status >= 200 && resp.status < 300) {
                const char *t = resp.etag ? resp.etag : "";
                size_t n = strlen(t);
                if (n >= 2 && t[0] == '"' && t[n - 1] == '"')
                    t++, n -= 2;
                *etag = strndup(t, n);
                rc = *etag ? HF_OK : hf_fail(err, HF_EOTHER, "out of memory");
                break;
            }
            retry = hf_retry_status(resp.status);
            char said[300];
            storage_message(&resp.body, said, sizeof said);
            hf_code code = retry ? HF_ENETWORK : resp.status == 403 ? HF_EAUTH : HF_EOTHER;
            rc = hf_fail(err, code, "storage refused %s (HTTP %ld)%s%s%s", part->what, resp.status,
                         said[0] ? ": " : "", said, retry ? " after retries" : "");
        }
        if (part->sent && r.done)
            part->sent(part->sent_ctx, -r.done);
        if (!retry || attempt >= HF_MAX_RETRIES)
            break;
        long wait = hf_retry_delay_ms(attempt, cc == CURLE_OK ? resp.retry_after : NULL,
                                      cc == CURLE_OK ? resp.ratelimit : NULL);
        hf_log(hf_client_logger(c), HF_LOG_INFO, "%s; retrying in %.1f s", err->msg, wait / 1000.0);
        hf_sleep_ms(wait);
    }
    hf_response_clear(&resp);
    curl_easy_cleanup(easy);
    return rc;
}
