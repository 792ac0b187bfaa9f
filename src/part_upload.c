/* PUT of a byte range through the transfer engine, and what a storage host's refusal says. */
#include "part_upload.h"

#include <stdlib.h>
#include <string.h>

#include "retry.h"
#include "transfer.h"

/* The answer of a successful PUT carries nothing but its ETag header. */
static hf_code drop(void *ctx, const void *data, size_t len, hf_error *err) {
    (void)ctx, (void)data, (void)len, (void)err;
    return HF_OK;
}

static hf_code start_over(void *ctx, hf_error *err) {
    (void)ctx, (void)err;
    return HF_OK;
}

/* The <Message> of a storage error (S3's XML), else the start of the body, on one line. */
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

hf_code hf_part_put(hf_client *c, const hf_part *part, char **etag, bool *refused, hf_error *err) {
    *etag = NULL;
    *refused = false;
    CURL *easy = curl_easy_init();
    if (!easy)
        return hf_fail(err, HF_EOTHER, "out of memory");
    hf_xfer_upload body = {part->fd, part->offset, part->length, part->sent, part->sent_ctx};
    hf_xfer_opts o = {.client = c,
                      .url = part->url,
                      .kind = HF_REQ_FILE,
                      .size = -1,
                      .what = part->what,
                      .upload = &body,
                      .sink = {drop, start_over, NULL}};
    hf_xfer x;
    hf_code rc = hf_xfer_init(&x, &o, err);
    if (rc == HF_OK)
        rc = hf_xfer_run(&x, easy, err);
    if (rc == HF_OK) {
        const char *t = x.resp.etag ? x.resp.etag : "";
        size_t n = strlen(t);
        if (n >= 2 && t[0] == '"' && t[n - 1] == '"')
            t++, n -= 2;
        *etag = strndup(t, n);
        if (!*etag)
            rc = hf_fail(err, HF_EOTHER, "out of memory");
    } else if (x.start && x.resp.status >= 400) {
        /* the storage host's own words; never its pre-signed URL */
        char said[300];
        storage_message(&x.errbody, said, sizeof said);
        bool transient = hf_retry_status(x.resp.status);
        *refused = x.refused;
        hf_code code = x.refused                                      ? HF_EAUTH
                       : transient                                    ? HF_ENETWORK
                       : x.resp.status == 401 || x.resp.status == 403 ? HF_EAUTH
                                                                      : HF_EOTHER;
        rc = hf_fail(err, code, "storage refused %s (HTTP %ld)%s%s%s", part->what, x.resp.status,
                     said[0] ? ": " : "", said, transient ? ", and kept refusing it" : "");
    }
    if (x.start)
        hf_xfer_free(&x);
    curl_easy_cleanup(easy);
    return rc;
}
