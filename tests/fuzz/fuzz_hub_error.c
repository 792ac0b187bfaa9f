/* What a failed Hub answer means: hf_hub_error on an arbitrary status, X-Error-Code,
 * X-Error-Message, X-Request-Id and body. Input: lines "status", "error code",
 * "error message", "request id", "path" (a header that is absent: "-"), then the body. The
 * message must be one printable line and the code must follow the status, and a token the
 * server echoes (FUZZ_TOKEN, a secret of the process) never shows, not even in part where the
 * message is cut. */
#include "fuzz.h"
#include "hub_error.h"
#include "pathsafe.h"
#include "secret.h"

#define FUZZ_TOKEN "hf_fuzzTOKENfuzz"

/* Whether s holds a piece of FUZZ_TOKEN that is not part of the whole token. */
static bool has_piece(const char *s, size_t len) {
    char *copy = strndup(s ? s : "", len);
    if (!copy)
        abort();
    for (char *hit; (hit = strstr(copy, FUZZ_TOKEN));)
        memset(hit, '*', strlen(FUZZ_TOKEN));
    bool piece = strstr(copy, "hf_fuzzTOKEN") || strstr(copy, "TOKENfuzz");
    free(copy);
    return piece;
}

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
    hf_secret_add(FUZZ_TOKEN);
    hf_hub_answer a = {st, opt(code), opt(msg), opt(rid), body_len ? body : NULL, body_len};
    for (int token = 0; token < 2; token++) {
        /* what the client asked for was checked before the request */
        hf_req_ctx ctx = {"acme/tiny-model", "main", hf_path_is_safe(path, NULL) ? path : NULL,
                          token != 0};
        hf_error err = {0};
        hf_code rc = hf_hub_error(&a, &ctx, &err);
        fuzz_check_error(&err, rc);
        FUZZ_CHECK(rc != HF_OK);
        FUZZ_CHECK(!strstr(err.msg, FUZZ_TOKEN));
        /* pieces the server sent itself may show (or JSON escapes hide from has_piece); none
         * that a cut made of the whole token */
        if (!has_piece(code, strlen(code)) && !has_piece(msg, strlen(msg)) &&
            !has_piece(rid, strlen(rid)) && !has_piece(path, strlen(path)) &&
            !has_piece(body, body_len) && !(body_len && memchr(body, '\\', body_len)))
            FUZZ_CHECK(!has_piece(err.msg, strlen(err.msg)));
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
