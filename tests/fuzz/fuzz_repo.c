/* Repo ids, revisions and the URLs made of them: hf_repo_id_check, hf_revision_check,
 * hf_endpoint_normalize, and hf_url_repo_info / hf_url_tree / hf_url_resolve. Input: lines
 * "repo id", "revision", "path", "endpoint". Whatever passes the checks must make URLs that
 * stay on the endpoint's origin (scheme, host, port): an id, revision or path can never
 * point a request (and the token) elsewhere. */
#include <curl/curl.h>

#include "fuzz.h"
#include "pathsafe.h"
#include "repo.h"
#include "url.h"

static void check_url(const char *url, const char *endpoint) {
    FUZZ_CHECK(url != NULL);
    FUZZ_CHECK(strncmp(url, endpoint, strlen(endpoint)) == 0);
    if (!hf_url_same_origin(url, endpoint)) {
        fprintf(stderr, "URL %s leaves the origin of %s\n", url, endpoint);
        abort();
    }
    /* what the id, revision and path added is plain printable ASCII */
    for (const char *p = url + strlen(endpoint); *p; p++)
        FUZZ_CHECK((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *p = data, *end = data + size;
    char *id = fuzz_field(&p, end, '\n', NULL);
    char *rev = fuzz_field(&p, end, '\n', NULL);
    char *path = fuzz_field(&p, end, '\n', NULL);
    char *ep_in = fuzz_field(&p, end, '\n', NULL);

    hf_error err = {0};
    hf_code idrc = hf_repo_id_check(id, &err);
    fuzz_check_error(&err, idrc);
    FUZZ_CHECK(idrc == HF_OK || idrc == HF_EUSAGE);
    if (idrc == HF_OK) {
        size_t n = strlen(id);
        FUZZ_CHECK(n >= 1 && n <= 96 && !strstr(id, "--") && !strstr(id, ".."));
        const char *slash = strchr(id, '/');
        FUZZ_CHECK(!slash || !strchr(slash + 1, '/'));
    }
    hf_error err2 = {0};
    hf_code revrc = hf_revision_check(rev, &err2);
    fuzz_check_error(&err2, revrc);
    FUZZ_CHECK(revrc == HF_OK || revrc == HF_EUSAGE);
    if (revrc == HF_OK) {
        for (const char *q = rev; *q; q++)
            FUZZ_CHECK((unsigned char)*q >= 0x20 && *q != 0x7f);
        FUZZ_CHECK(!strstr(rev, "..") && rev[0] != '/');
    }
    char *endpoint = NULL;
    hf_error err3 = {0};
    hf_code eprc = hf_endpoint_normalize(ep_in[0] ? ep_in : "https://huggingface.co", &endpoint,
                                         &err3);
    fuzz_check_error(&err3, eprc);
    if (eprc == HF_OK) {
#ifndef FUZZ_IGNORE_KNOWN_BUGS /* regress-endpoint-one-slash: "http:/host" is accepted */
        FUZZ_CHECK(hf_url_is_http(endpoint));
#endif
        FUZZ_CHECK(hf_url_same_origin(endpoint, endpoint));
    }
    if (idrc == HF_OK && revrc == HF_OK && eprc == HF_OK) {
        for (int t = 0; t < 3; t++) {
            hf_repo repo = {(hf_repo_type)t, id};
            char *u = hf_url_repo_info(endpoint, &repo, rev);
            check_url(u, endpoint);
            free(u);
            const char *dir = hf_path_is_safe(path, NULL) ? path : NULL;
            u = hf_url_tree(endpoint, &repo, rev, dir, t == 1);
            check_url(u, endpoint);
            free(u);
            if (dir) {
                u = hf_url_resolve(endpoint, &repo, rev, dir);
                check_url(u, endpoint);
                free(u);
            }
            char *cache = hf_repo_cache_name(&repo);
            FUZZ_CHECK(cache && !strchr(cache, '/') && strcmp(cache, "..") != 0);
            free(cache);
        }
    }
    free(endpoint);
    free(id);
    free(rev);
    free(path);
    free(ep_in);
    return 0;
}
