/* Resume arithmetic. */
#include "resume.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A non-negative decimal number at *p, advancing p; -1 when there is none. */
static long long number(const char **p) {
    if (!isdigit((unsigned char)**p))
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(*p, &end, 10);
    if (errno)
        return -1;
    *p = end;
    return v;
}

bool hf_content_range_parse(const char *h, long long *first, long long *last, long long *total) {
    if (!h || strncasecmp(h, "bytes", 5) != 0)
        return false;
    const char *p = h + 5;
    while (*p == ' ')
        p++;
    if (*p == '*') {
        *first = *last = -1;
        p++;
    } else {
        *first = number(&p);
        if (*first < 0 || *p++ != '-')
            return false;
        *last = number(&p);
        if (*last < *first)
            return false;
    }
    if (*p++ != '/')
        return false;
    *total = number(&p);
    if (*total < 0 || *p != '\0')
        return false;
    return *first < 0 || *last < *total;
}

hf_resume_action hf_resume_decide(long status, const char *content_range, long long have,
                                  long long size) {
    long long first, last, total;
    switch (status) {
    case 200:
        return have > 0 ? HF_RESUME_RESTART : HF_RESUME_APPEND;
    case 206:
        if (hf_content_range_parse(content_range, &first, &last, &total) && first == have &&
            total == size)
            return HF_RESUME_APPEND;
        return HF_RESUME_BAD;
    case 416:
        if (hf_content_range_parse(content_range, &first, &last, &total) && first < 0 &&
            total == size && have == size)
            return HF_RESUME_COMPLETE;
        return HF_RESUME_RESTART;
    default:
        return HF_RESUME_BAD;
    }
}
