/* The error record: formatting a failure into a bounded, single-line message. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

void hf_vformat_masked(char *out, size_t cap, const char *fmt, va_list ap) {
    /* whole first, so a secret is masked before the message is cut to cap */
    char *full = NULL;
    va_list copy;
    va_copy(copy, ap);
    if (vasprintf(&full, fmt, copy) < 0)
        full = NULL;
    va_end(copy);
    if (full) {
        hf_secret_mask(full, out, cap);
        free(full);
        return;
    }
    char tmp[4096]; /* out of memory: a bounded copy, masked all the same */
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    hf_secret_mask(tmp, out, cap);
}

hf_code hf_fail(hf_error *err, hf_code code, const char *fmt, ...) {
    if (!err)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    hf_vformat_masked(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

void hf_error_clear(hf_error *err) {
    if (err) {
        err->code = HF_OK;
        err->msg[0] = '\0';
    }
}

const char *hf_code_name(hf_code code) {
    switch (code) {
    case HF_OK:
        return "ok";
    case HF_EUSAGE:
        return "usage";
    case HF_ENOTFOUND:
        return "not found";
    case HF_EAUTH:
        return "authentication";
    case HF_EINTEGRITY:
        return "integrity";
    case HF_ENETWORK:
        return "network";
    case HF_EIO:
        return "I/O";
    case HF_ECONFLICT:
        return "conflict";
    default:
        return "error";
    }
}
