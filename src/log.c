/* Formats a message and hands it to the logger's sink. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

#include "error.h"

void hf_log(const hf_logger *lg, hf_log_level level, const char *fmt, ...) {
    if (!lg || !lg->fn)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    hf_vformat_masked(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lg->fn(lg->ctx, level, msg);
}
