/* What a failed Hub answer means: hf_hub_error on an arbitrary status, X-Error-Code,
 * X-Error-Message, X-Request-Id and body. Input: lines "status", "error code",
 * "error message", "request id", "path" (a header that is absent: "-"), then the body. The
 * message must be one printable line and the code must follow the status. */
#include "fuzz.h"
#include "hub_error.h"
#include "pathsafe.h"

static char *opt(char *s) {
    return strcmp(s, "-") == 0 ? NULL : s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *p = data, *end = data + size;
    char *status = fuzz_field(&p, end, '\n', NULL);
    char *code = fuzz_field(&p, end, '\n', NULL);
    char *msg = fuzz_field(&p, end, '\n', NULL);
    char *rid = fuzz_field(&p, end, '\n', NULL);
    char *path = fuzz_field(&p, end, '\n', NULL);
    size_t body_len;
    char *body = fuzz_rest(p, end, &body_len);
    long st = strtol(status, NULL, 10);
    hf_hub_answer a = {st, opt(code), opt(msg), opt(rid), body_len ? body : NULL, body_len};
    for (int token = 0; token < 2; token++) {
        /* what the client asked for was checked before the request */
        hf_req_ctx ctx = {"acme/tiny-model", "main",
                          hf_path_is_safe(path, NULL) ? path : NULL, token != 0};
        hf_error err = {0};
        hf_code rc = hf_hub_error(&a, &ctx, &err);
        fuzz_check_error(&err, rc);
        FUZZ_CHECK(rc != HF_OK);
        if (st == 401 || st == 403)
            FUZZ_CHECK(rc == HF_EAUTH || rc == HF_ENOTFOUND);
        if (rc == HF_EAUTH)
            FUZZ_CHECK(st == 401 || st == 403 || a.error_code);
        if ((st == 408 || st == 429 || st >= 500) && !a.error_code)
            FUZZ_CHECK(rc == HF_ENETWORK);
    }
    free(status);
    free(code);
    free(msg);
    free(rid);
    free(path);
    free(body);
    return 0;
}
