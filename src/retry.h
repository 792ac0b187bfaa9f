/* When to try a request again, and how long to wait first. */
#ifndef HF_RETRY_H
#define HF_RETRY_H

#include <stdbool.h>

#define HF_MAX_RETRIES 5

/* 408, 429, 500, 502, 503, 504. */
bool hf_retry_status(long status);

/* Milliseconds to wait before retry number `attempt` (0-based): 1, 2, 4, 8, 8 s, unless the
 * answer said otherwise: `RateLimit: ...;t=N` (N+1 s) or an integer `Retry-After` (either
 * may be NULL). Server-given waits are capped at 300 s. */
long hf_retry_delay_ms(int attempt, const char *retry_after, const char *ratelimit);

#endif
