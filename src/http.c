/* The HTTP client over libcurl's easy interface. */
#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cabundle.h"
#include "retry.h"
#include "secret.h"
#include "transfer.h"
#include "url.h"

struct hf_client {
    char *endpoint;
    char *token;
    char *user_agent;
    hf_logger log;
    struct curl_slist *api_auth, *api_anon, *file_auth, *file_anon;
    long connect_timeout;
    long low_speed_time;
    long api_timeout_ms; /* each API request's total deadline */
    CURL *easy;          /* reused by hf_http_get so pages share a connection */
};

/* HF_HUB_DOWNLOAD_TIMEOUT / HF_HUB_ETAG_TIMEOUT (default 10), HF_HUB_API_TIMEOUT (default
 * 60): whole seconds. */
static long env_seconds(const char *name, long dflt) {
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    double d = strtod(v, &end);
    if (*end || d <= 0 || d > 86400)
        return dflt;
    return d < 1 ? 1 : (long)d;
}

bool hf_http_global_init(void) {
    static bool done;
    if (done)
        return true;
    /* The host's openssl.cnf must never be read: it can make a static binary load modules. */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    done = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    return done;
}

static struct curl_slist *headers(const char *auth, bool identity) {
    struct curl_slist *l = NULL, *t;
    if (auth && !(l = curl_slist_append(l, auth)))
        return NULL;
    /* curl sends "Expect: 100-continue" on some POSTs and its own Accept; keep them plain */
    t = curl_slist_append(l, identity ? "Accept-Encoding: identity" : "Accept: application/json");
    if (!t) {
        curl_slist_free_all(l);
        return NULL;
    }
    return t;
}

static void free_headers(struct curl_slist *l) {
    for (struct curl_slist *p = l; p; p = p->next)
        explicit_bzero(p->data, strlen(p->data));
    curl_slist_free_all(l);
}

hf_code hf_client_new(const hf_client_opts *opts, hf_client **out, hf_error *err) {
    *out = NULL;
    if (!hf_http_global_init())
        return hf_fail(err, HF_EOTHER, "cannot initialise libcurl");
    hf_client *c = calloc(1, sizeof *c);
    if (!c)
        return hf_fail(err, HF_EOTHER, "out of memory");
    c->endpoint = strdup(opts->endpoint);
    c->user_agent = strdup(opts->user_agent ? opts->user_agent : "hf-galaxy");
    c->log = opts->log;
    c->connect_timeout = env_seconds("HF_HUB_ETAG_TIMEOUT", 10);
    c->low_speed_time = env_seconds("HF_HUB_DOWNLOAD_TIMEOUT", 10);
    c->api_timeout_ms = env_seconds("HF_HUB_API_TIMEOUT", 60) * 1000;
    hf_buf auth = {0};
    if (opts->token) {
        hf_secret_add(opts->token);
        c->token = strdup(opts->token);
        hf_buf_addf(&auth, "Authorization: Bearer %s", opts->token);
    }
    c->api_anon = headers(NULL, false);
    c->file_anon = headers(NULL, true);
    c->api_auth = opts->token ? headers(auth.data, false) : NULL;
    c->file_auth = opts->token ? headers(auth.data, true) : NULL;
    if (auth.data)
        explicit_bzero(auth.data, auth.len);
    hf_buf_free(&auth);
    c->easy = curl_easy_init();
    if (!c->endpoint || !c->user_agent || !c->api_anon || !c->file_anon || !c->easy ||
        (opts->token && (!c->token || !c->api_auth || !c->file_auth))) {
        hf_client_free(c);
        return hf_fail(err, HF_EOTHER, "out of memory");
    }
    *out = c;
    return HF_OK;
}

void hf_client_free(hf_client *c) {
    if (!c)
        return;
    if (c->token) {
        explicit_bzero(c->token, strlen(c->token));
        free(c->token);
    }
    free_headers(c->api_auth);
    free_headers(c->file_auth);
    free_headers(c->api_anon);
    free_headers(c->file_anon);
    if (c->easy)
        curl_easy_cleanup(c->easy);
    free(c->endpoint);
    free(c->user_agent);
    free(c);
}

const char *hf_client_endpoint(const hf_client *c) {
    return c->endpoint;
}

bool hf_client_has_token(const hf_client *c) {
    return c->token != NULL;
}

bool hf_client_sends_token(const hf_client *c, const char *url) {
    return c->token && hf_url_same_origin(url, c->endpoint);
}

long hf_client_api_timeout_ms(const hf_client *c) {
    return c->api_timeout_ms;
}

const hf_logger *hf_client_logger(const hf_client *c) {
    return &c->log;
}

void hf_response_clear(hf_response *r) {
    char **fields[] = {&r->location,    &r->error_code,  &r->error_message, &r->request_id,
                       &r->link,        &r->repo_commit, &r->etag,          &r->linked_etag,
                       &r->linked_size, &r->retry_after, &r->ratelimit,     &r->content_range,
                       &r->content_type};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
    hf_buf_free(&r->body);
    r->status = 0;
    r->content_length = -1;
}

/* Copies a header value: surrounding white space trimmed, control bytes dropped. */
static char *header_value(const char *v, size_t n) {
    while (n && (*v == ' ' || *v == '\t'))
        v++, n--;
    while (n && isspace((unsigned char)v[n - 1]))
        n--;
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] >= 0x20 && v[i] != 0x7f)
            s[k++] = v[i];
    s[k] = '\0';
    return s;
}

size_t hf_response_header_cb(char *line, size_t size, size_t n, void *response) {
    hf_response *r = response;
    size_t len = size * n;
    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* a new answer (after a 1xx, say): forget the previous one's headers */
        hf_buf body = r->body;
        r->body = (hf_buf){0};
        hf_response_clear(r);
        r->body = body;
        const char *sp = memchr(line, ' ', len);
        if (sp)
            r->status = strtol(sp + 1, NULL, 10);
        return len;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return len;
    size_t name_len = (size_t)(colon - line);
    const char *v = colon + 1;
    size_t vlen = len - name_len - 1;
    static const struct {
        const char *name;
        size_t off;
    } wanted[] = {
        {"location", offsetof(hf_response, location)},
        {"x-error-code", offsetof(hf_response, error_code)},
        {"x-error-message", offsetof(hf_response, error_message)},
        {"x-request-id", offsetof(hf_response, request_id)},
        {"link", offsetof(hf_response, link)},
        {"x-repo-commit", offsetof(hf_response, repo_commit)},
        {"etag", offsetof(hf_response, etag)},
        {"x-linked-etag", offsetof(hf_response, linked_etag)},
        {"x-linked-size", offsetof(hf_response, linked_size)},
        {"retry-after", offsetof(hf_response, retry_after)},
        {"ratelimit", offsetof(hf_response, ratelimit)},
        {"content-range", offsetof(hf_response, content_range)},
        {"content-type", offsetof(hf_response, content_type)},
    };
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
        if (strlen(wanted[i].name) == name_len &&
            strncasecmp(line, wanted[i].name, name_len) == 0) {
            char **slot = (char **)((char *)r + wanted[i].off);
            free(*slot);
            *slot = header_value(v, vlen);
            return len;
        }
    }
    if (name_len == 14 && strncasecmp(line, "content-length", 14) == 0) {
        char *s = header_value(v, vlen);
        char *end;
        errno = 0;
        long long cl = s ? strtoll(s, &end, 10) : -1;
        r->content_length = (s && *s && !*end && errno == 0 && cl >= 0) ? cl : -1;
        free(s);
    }
    return len;
}

hf_code hf_client_setup(hf_client *c, CURL *easy, const char *url, int kind, hf_response *resp,
                        hf_error *err) {
    bool same = hf_client_sends_token(c, url);
    struct curl_slist *h = kind == HF_REQ_FILE ? (same ? c->file_auth : c->file_anon)
                                               : (same ? c->api_auth : c->api_anon);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, c->connect_timeout);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, c->low_speed_time);
    /* an API answer that drips a byte now and then never trips the low-speed limit: each API
     * request has a total deadline too; a download has none (it may take hours) */
    if (kind == HF_REQ_API)
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, c->api_timeout_ms);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, kind == HF_REQ_FILE ? NULL : "");
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, hf_response_header_cb);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, resp);
    if (strncasecmp(url, "https://", 8) == 0) {
        const char *ca = hf_ca_file();
        const char *dir = hf_ca_dir();
        if (!ca && !dir)
            return hf_fail(err, HF_ENETWORK,
                           "no CA certificates found to verify %s: set SSL_CERT_FILE to a PEM "
                           "bundle (looked at $CURL_CA_BUNDLE, $SSL_CERT_FILE, $SSL_CERT_DIR and "
                           "the usual /etc/ssl and /etc/pki bundles)",
                           url);
        curl_easy_setopt(easy, CURLOPT_CAINFO, ca);
        curl_easy_setopt(easy, CURLOPT_CAPATH, dir);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    return HF_OK;
}

bool hf_curl_retryable(CURLcode cc) {
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        return false;
    }
}

hf_code hf_curl_error(CURLcode cc, const char *url, const char *detail, hf_error *err) {
    const char *what = detail && *detail ? detail : curl_easy_strerror(cc);
    if (cc == CURLE_WRITE_ERROR)
        return hf_fail(err, HF_EIO, "writing the download of %s failed", url);
    if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE)
        return hf_fail(err, HF_ENETWORK, "TLS verification failed for %s: %s", url, what);
    return hf_fail(err, HF_ENETWORK, "request to %s failed: %s", url, what);
}

void hf_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* An API answer's body, buffered up to a size. */
typedef struct {
    hf_buf *body;
    size_t max;
    const char *shown; /* the URL as messages show it */
} api_body;

static hf_code api_write(void *ctx, const void *data, size_t len, hf_error *err) {
    api_body *b = ctx;
    if (b->body->len + len > b->max)
        return hf_fail(err, HF_EINTEGRITY, "answer from %s is larger than %zu bytes", b->shown,
                       b->max);
    return hf_buf_add(b->body, data, len) ? HF_OK : hf_fail(err, HF_EOTHER, "out of memory");
}

static hf_code api_restart(void *ctx, hf_error *err) {
    (void)err;
    hf_buf_reset(((api_body *)ctx)->body);
    return HF_OK;
}

hf_code hf_client_setup_body(hf_client *c, CURL *easy, const char *url, const hf_http_body *send,
                             struct curl_slist **extra, hf_error *err) {
    bool same = hf_client_sends_token(c, url);
    char ctype[160], accept[160];
    snprintf(ctype, sizeof ctype, "Content-Type: %s", send->content_type);
    snprintf(accept, sizeof accept, "Accept: %s", send->accept ? send->accept : "");
    for (const struct curl_slist *p = same ? c->api_auth : c->api_anon; p; p = p->next) {
        if (send->accept && strncasecmp(p->data, "Accept:", 7) == 0)
            continue;
        struct curl_slist *t = curl_slist_append(*extra, p->data);
        if (!t)
            return hf_fail(err, HF_EOTHER, "out of memory");
        *extra = t;
    }
    const char *more[] = {ctype, "Expect:", accept};
    for (size_t i = 0; i < (send->accept ? 3u : 2u); i++) {
        struct curl_slist *t = curl_slist_append(*extra, more[i]);
        if (!t)
            return hf_fail(err, HF_EOTHER, "out of memory");
        *extra = t;
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, *extra);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, send->method);
    if (!send->from_fd) { /* else the transfer's upload reads it (CURLOPT_READFUNCTION) */
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, send->data ? send->data : "");
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)send->len);
    }
    return HF_OK;
}

hf_code hf_http_get(hf_client *c, const char *url, size_t max_body, const hf_req_ctx *ctx,
                    hf_response *resp, hf_error *err) {
    return hf_http_send(c, url, NULL, max_body, ctx, resp, err);
}

hf_code hf_http_send(hf_client *c, const char *url, const hf_http_body *send, size_t max_body,
                     const hf_req_ctx *ctx, hf_response *resp, hf_error *err) {
    hf_buf body = {0};
    api_body b = {&body, max_body, NULL}; /* shown: set once the transfer has it */
    hf_xfer_upload from = {send && send->from_fd ? send->fd : -1, 0,
                           send ? (long long)send->len : 0, NULL, NULL};
    hf_xfer_opts o = {.client = c,
                      .url = url,
                      .kind = HF_REQ_API,
                      .size = -1,
                      .ctx = ctx,
                      .send = send,
                      .upload = send && send->from_fd ? &from : NULL,
                      .sink = {api_write, api_restart, &b}};
    hf_xfer x;
    hf_code rc = hf_xfer_init(&x, &o, err);
    if (rc != HF_OK)
        return rc;
    b.shown = x.start_shown;
    rc = hf_xfer_run(&x, c->easy, err);
    hf_response_clear(resp);
    /* the last answer's headers, and its body: what was asked, or the error's */
    *resp = x.resp;
    x.resp = (hf_response){.content_length = -1};
    if (rc == HF_OK) {
        resp->body = body;
    } else {
        hf_buf_free(&body);
        resp->body = x.errbody;
        x.errbody = (hf_buf){0};
    }
    hf_xfer_free(&x);
    return rc;
}
