/* The answer's header lines as libcurl hands them over: hf_response_header_cb (src/http.c)
 * keeps the ones the protocol relies on. Input: header lines separated by '\n' (each passed
 * with its "\r\n", as libcurl does). Kept values must be free of control bytes. */
#include "fuzz.h"
#include "http.h"

static void check_value(const char *v) {
    if (!v)
        return;
    size_t n = strlen(v);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((unsigned char)v[i] >= 0x20 && v[i] != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hf_response r = {.content_length = -1};
    const uint8_t *p = data, *end = data + size;
    while (p < end) {
        size_t n;
        char *line = fuzz_field(&p, end, '\n', &n);
        char *full = malloc(n + 3);
        FUZZ_CHECK(full != NULL);
        memcpy(full, line, n);
        memcpy(full + n, "\r\n", 3);
        FUZZ_CHECK(hf_response_header_cb(full, 1, n + 2, &r) == n + 2);
        free(full);
        free(line);
    }
    const char *fields[] = {r.location,    r.error_code,    r.error_message, r.request_id,
                            r.link,        r.repo_commit,   r.etag,          r.linked_etag,
                            r.linked_size, r.retry_after,   r.ratelimit,     r.content_range,
                            r.content_type};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        check_value(fields[i]);
    FUZZ_CHECK(r.content_length >= -1);
    hf_response_clear(&r);
    return 0;
}
