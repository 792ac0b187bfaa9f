/* The error record: formatting a failure into a bounded, single-line message. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

hf_code hf_fail(hf_error *err, hf_code code, const char *fmt, ...) {
    if (!err)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    /* One line, no control bytes: messages may quote what a server said. */
    for (char *p = err->msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
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
