/* The tree listing with its pagination: the real hf_api_tree of src/api.c over the fake HTTP
 * layer (fake_http.c). Input: the folder asked for (a line; used when it is a safe path), then
 * pages separated by the byte 0x1e, each a Link header line (empty: none) and the JSON body.
 * Every page is parsed and checked, a Link is resolved against the page's URL and must stay
 * HTTP, a repeated page URL stops the listing. */
#include "api.h"
#include "fake_http.h"
#include "fuzz.h"
#include "pathsafe.h"

#define MAX_PAGES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *p = data, *end = data + size;
    char *path = fuzz_field(&p, end, '\n', NULL);
    fake_answer pages[MAX_PAGES];
    char *owned[2 * MAX_PAGES];
    size_t n = 0, k = 0;
    while (p < end && n < MAX_PAGES) {
        const uint8_t *q = p;
        while (q < end && *q != 0x1e)
            q++;
        const uint8_t *page = p;
        char *link = fuzz_field(&page, q, '\n', NULL);
        size_t len;
        char *body = fuzz_rest(page, q, &len);
        owned[k++] = link;
        owned[k++] = body;
        pages[n++] = (fake_answer){link[0] ? link : NULL, NULL, body, len};
        p = q < end ? q + 1 : q;
    }
    fake_answers = pages;
    fake_n = n;
    fake_next = 0;
    fake_requests = 0;
    hf_repo repo = {HF_DATASET, "acme/tiny-dataset"};
    const char *commit = "0123456789abcdef0123456789abcdef01234567";
    hf_entries out = {0};
    hf_error err = {0};
    hf_code rc = hf_api_tree(fake_client("http://127.0.0.1:8765/mirror"), &repo, commit, "main",
                             hf_path_is_safe(path, NULL) ? path : NULL, true, &out, &err);
    fuzz_check_error(&err, rc);
    FUZZ_CHECK(fake_requests >= 1 && fake_requests <= n + 1);
    if (rc == HF_OK) {
        FUZZ_CHECK(fake_requests <= n);
        for (size_t i = 0; i < out.n; i++)
            FUZZ_CHECK(hf_path_is_safe(out.v[i].path, NULL));
    }
    hf_entries_free(&out);
    for (size_t i = 0; i < k; i++)
        free(owned[i]);
    free(path);
    fake_answers = NULL;
    return 0;
}
