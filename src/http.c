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
#include "url.h"

#define HF_MAX_REDIRECTS 10

struct hf_client {
    char *endpoint;
    char *token;
    char *user_agent;
    hf_logger log;
    struct curl_slist *api_auth, *api_anon, *file_auth, *file_anon;
    long connect_timeout;
    long low_speed_time;
    CURL *easy; /* reused by hf_http_get so pages share a connection */
};

/* HF_HUB_DOWNLOAD_TIMEOUT / HF_HUB_ETAG_TIMEOUT: seconds, default 10. */
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
    hf_buf auth = {0};
    if (opts->token) {
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

typedef struct {
    hf_buf *body;
    size_t max;
    bool too_large;
} body_sink;

static size_t body_cb(char *data, size_t size, size_t n, void *userp) {
    body_sink *s = userp;
    size_t len = size * n;
    if (s->body->len + len > s->max) {
        s->too_large = true;
        return 0;
    }
    return hf_buf_add(s->body, data, len) ? len : 0;
}

static bool is_redirect(long st) {
    return st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
}

/* The method, body and Content-Type of a request with a body: the client's headers for url
 * (the token only to the endpoint's origin) plus Content-Type, without curl's Expect. */
static hf_code with_body(hf_client *c, CURL *easy, const char *url, const hf_http_body *send,
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
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, send->data ? send->data : "");
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)send->len);
    return HF_OK;
}

/* One attempt: the request and its redirects. *retry says whether a failure is transient. */
static hf_code get_once(hf_client *c, const char *url, const hf_http_body *send, size_t max_body,
                        hf_response *resp, bool *retry, bool *token_sent, hf_error *err) {
    char *current = strdup(url);
    hf_code rc = HF_OK;
    *retry = false;
    for (int hop = 0; current; hop++) {
        if (hop > HF_MAX_REDIRECTS) {
            rc = hf_fail(err, HF_EINTEGRITY, "too many redirects fetching %s", url);
            break;
        }
        hf_response_clear(resp);
        curl_easy_reset(c->easy);
        *token_sent = hf_client_sends_token(c, current);
        if ((rc = hf_client_setup(c, c->easy, current, HF_REQ_API, resp, err)) != HF_OK)
            break;
        body_sink sink = {&resp->body, max_body, false};
        char detail[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, body_cb);
        curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, &sink);
        curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, detail);
        struct curl_slist *extra = NULL;
        if (send && (rc = with_body(c, c->easy, current, send, &extra, err)) != HF_OK) {
            free_headers(extra);
            break;
        }
        CURLcode cc = curl_easy_perform(c->easy);
        curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, NULL);
        curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, NULL);
        free_headers(extra);
        if (sink.too_large) {
            rc = hf_fail(err, HF_EINTEGRITY, "answer from %s is larger than %zu bytes", current,
                         max_body);
            break;
        }
        if (cc != CURLE_OK) {
            *retry = hf_curl_retryable(cc);
            rc = hf_curl_error(cc, current, detail, err);
            break;
        }
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &resp->status);
        hf_log(&c->log, HF_LOG_DEBUG, "%s %s -> %ld", send ? send->method : "GET", current,
               resp->status);
        if (!is_redirect(resp->status) || send)
            break;
        char *next = NULL;
        curl_easy_getinfo(c->easy, CURLINFO_REDIRECT_URL, &next);
        if (!next) {
            rc = hf_fail(err, HF_EINTEGRITY, "redirect without a usable Location from %s", current);
            break;
        }
        if (!hf_url_is_http(next)) {
            rc = hf_fail(err, HF_EINTEGRITY, "refusing a redirect to a non-HTTP URL from %s",
                         current);
            break;
        }
        char *copy = strdup(next);
        free(current);
        current = copy;
    }
    free(current);
    return rc;
}

hf_code hf_http_get(hf_client *c, const char *url, size_t max_body, const hf_req_ctx *ctx,
                    hf_response *resp, hf_error *err) {
    return hf_http_send(c, url, NULL, max_body, ctx, resp, err);
}

hf_code hf_http_send(hf_client *c, const char *url, const hf_http_body *send, size_t max_body,
                     const hf_req_ctx *ctx, hf_response *resp, hf_error *err) {
    for (int attempt = 0;; attempt++) {
        bool retry, token_sent = false;
        hf_code rc = get_once(c, url, send, max_body, resp, &retry, &token_sent, err);
        if (rc == HF_OK && resp->status >= 200 && resp->status < 300)
            return HF_OK;
        if (rc == HF_OK)
            retry = hf_retry_status(resp->status);
        if (!retry || attempt >= HF_MAX_RETRIES) {
            if (rc != HF_OK)
                return rc;
            hf_req_ctx x = ctx ? *ctx : (hf_req_ctx){0};
            x.token_sent = token_sent; /* by the request that got this answer */
            hf_hub_answer a = {resp->status,     resp->error_code, resp->error_message,
                               resp->request_id, resp->body.data,  resp->body.len};
            return hf_hub_error(&a, &x, err);
        }
        long wait = hf_retry_delay_ms(attempt, rc == HF_OK ? resp->retry_after : NULL,
                                      rc == HF_OK ? resp->ratelimit : NULL);
        if (rc == HF_OK)
            hf_log(&c->log, HF_LOG_INFO, "HTTP %ld from %s, retrying in %.1f s", resp->status, url,
                   wait / 1000.0);
        else
            hf_log(&c->log, HF_LOG_INFO, "%s; retrying in %.1f s", err->msg, wait / 1000.0);
        hf_sleep_ms(wait);
    }
}
