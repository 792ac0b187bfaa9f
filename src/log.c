/* Formats a message and hands it to the logger's sink. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void hf_log(const hf_logger *lg, hf_log_level level, const char *fmt, ...) {
    if (!lg || !lg->fn)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    lg->fn(lg->ctx, level, msg);
}
