/* URL building and origin checks, over libcurl's URL API. */
#include "url.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool hf_url_encode(hf_buf *b, const char *s, bool keep_slash) {
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/');
        char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
        if (!(plain ? hf_buf_add(b, p, 1) : hf_buf_add(b, esc, 3)))
            return false;
    }
    return true;
}

hf_code hf_endpoint_normalize(const char *url, char **out, hf_error *err) {
    *out = NULL;
    if (!url || !*url)
        return hf_fail(err, HF_EUSAGE, "empty endpoint URL");
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    hf_code rc = HF_OK;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = hf_fail(err, HF_EUSAGE, "invalid endpoint URL '%s'", url);
    } else if ((strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
               !hf_url_is_http(url)) {
        rc = hf_fail(err, HF_EUSAGE, "invalid endpoint URL '%s': only http and https are supported",
                     url);
    } else if (strpbrk(url, "?#") || strchr(url, '@')) {
        rc = hf_fail(err, HF_EUSAGE,
                     "invalid endpoint URL '%s': no query, fragment or credentials allowed", url);
    } else {
        size_t n = strlen(url);
        while (n > 0 && url[n - 1] == '/')
            n--;
        *out = strndup(url, n);
        if (!*out)
            rc = hf_fail(err, HF_EOTHER, "out of memory");
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

char *hf_url_repo_info(const char *endpoint, const hf_repo *repo, const char *rev) {
    hf_buf b = {0};
    hf_buf_addf(&b, "%s/api/%s/%s", endpoint, hf_repo_type_api(repo->type), repo->id);
    if (rev) {
        hf_buf_adds(&b, "/revision/");
        hf_url_encode(&b, rev, false);
    }
    /* Only the fields the tools read: without `expand` the Hub lists every file of the
     * repository in `siblings`, which can be far larger than the rest (a server that does not
     * know `expand` sends everything, which is read all the same). Spaces have no `gated`. */
    hf_buf_adds(&b, "?expand=sha&expand=lastModified&expand=private&expand=cardData");
    if (repo->type != HF_SPACE)
        hf_buf_adds(&b, "&expand=gated");
    return hf_buf_take(&b);
}

char *hf_url_tree(const char *endpoint, const hf_repo *repo, const char *rev, const char *path,
                  bool recursive) {
    hf_buf b = {0};
    hf_buf_addf(&b, "%s/api/%s/%s/tree/", endpoint, hf_repo_type_api(repo->type), repo->id);
    hf_url_encode(&b, rev, false);
    if (path && *path) {
        hf_buf_adds(&b, "/");
        hf_url_encode(&b, path, true);
    }
    hf_buf_addf(&b, "?recursive=%s&expand=false", recursive ? "true" : "false");
    return hf_buf_take(&b);
}

char *hf_url_resolve(const char *endpoint, const hf_repo *repo, const char *rev, const char *path) {
    hf_buf b = {0};
    hf_buf_addf(&b, "%s/%s%s/resolve/", endpoint, hf_repo_type_url_prefix(repo->type), repo->id);
    hf_url_encode(&b, rev, false);
    hf_buf_adds(&b, "/");
    hf_url_encode(&b, path, true);
    return hf_buf_take(&b);
}

/* Splits url into scheme, lowercase host and port (the scheme's default when absent). */
static bool origin_of(const char *url, char **scheme, char **host, char **port) {
    CURLU *u = curl_url();
    *scheme = *host = *port = NULL;
    bool ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK;
    curl_url_cleanup(u);
    if (!ok) {
        curl_free(*scheme);
        curl_free(*host);
        curl_free(*port);
        *scheme = *host = *port = NULL;
    }
    return ok;
}

bool hf_url_same_origin(const char *a, const char *b) {
    char *sa, *ha, *pa, *sb, *hb, *pb;
    bool oka = origin_of(a, &sa, &ha, &pa);
    bool okb = origin_of(b, &sb, &hb, &pb);
    bool same =
        oka && okb && strcasecmp(sa, sb) == 0 && strcasecmp(ha, hb) == 0 && strcmp(pa, pb) == 0;
    if (oka) {
        curl_free(sa);
        curl_free(ha);
        curl_free(pa);
    }
    if (okb) {
        curl_free(sb);
        curl_free(hb);
        curl_free(pb);
    }
    return same;
}

bool hf_url_is_http(const char *url) {
    return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

/* Whether a key of the query q names something secret (see hf_url_for_message). */
static bool query_is_secret(const char *q) {
    static const char *const marks[] = {"sig", "key", "token", "credential", "expir", "x-amz"};
    while (*q && *q != '#') {
        size_t key = strcspn(q, "=&#");
        for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++)
            for (size_t i = 0, ml = strlen(marks[m]); i + ml <= key; i++)
                if (strncasecmp(q + i, marks[m], ml) == 0)
                    return true;
        q += strcspn(q, "&#");
        if (*q == '&')
            q++;
    }
    return false;
}

char *hf_url_for_message(const char *url, const char *endpoint) {
    size_t n = strcspn(url, "?#");
    if (url[n] != '?' || (hf_url_same_origin(url, endpoint) && !query_is_secret(url + n + 1)))
        return strdup(url);
    char *out = malloc(n + 5);
    if (out)
        snprintf(out, n + 5, "%.*s?...", (int)n, url);
    return out;
}
