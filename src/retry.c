/* The retry policy of the official Python client. */
#include "retry.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

bool hf_retry_status(long status) {
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
           status == 504;
}

/* A non-negative decimal integer filling the whole of [s, end); -1 otherwise. */
static long parse_seconds(const char *s, const char *end) {
    while (s < end && isspace((unsigned char)*s))
        s++;
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    if (s == end || end - s > 9)
        return -1;
    long v = 0;
    for (; s < end; s++) {
        if (!isdigit((unsigned char)*s))
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

/* The t= parameter of an IETF RateLimit header: `"api";r=0;t=55`. */
static long ratelimit_t(const char *h) {
    for (const char *p = h; (p = strchr(p, ';')) != NULL;) {
        p++;
        while (*p == ' ')
            p++;
        if (p[0] == 't' && p[1] == '=') {
            const char *v = p + 2;
            const char *end = v;
            while (*end && *end != ';' && *end != ',')
                end++;
            return parse_seconds(v, end);
        }
    }
    return -1;
}

long hf_retry_delay_ms(int attempt, const char *retry_after, const char *ratelimit) {
    static const long backoff[] = {1000, 2000, 4000, 8000, 8000};
    long server = -1;
    if (ratelimit) {
        long t = ratelimit_t(ratelimit);
        if (t >= 0)
            server = (t + 1) * 1000;
    }
    if (server < 0 && retry_after) {
        long s = parse_seconds(retry_after, retry_after + strlen(retry_after));
        if (s >= 0)
            server = s * 1000;
    }
    if (server >= 0)
        return server > 300000 ? 300000 : server;
    if (attempt < 0)
        attempt = 0;
    return backoff[attempt < 5 ? attempt : 4];
}
