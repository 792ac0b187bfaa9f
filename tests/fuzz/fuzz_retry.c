/* Retry-After and RateLimit from a 429/5xx answer: hf_retry_delay_ms. Input: the attempt
 * number (first byte), then "Retry-After" and "RateLimit" lines ("-" for absent). The wait
 * must never be negative nor longer than 300 s, whatever the server says. */
#include "fuzz.h"
#include "retry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    int attempt = (int)(signed char)data[0];
    const uint8_t *p = data + 1, *end = data + size;
    char *ra = fuzz_field(&p, end, '\n', NULL);
    char *rl = fuzz_field(&p, end, '\n', NULL);
    long ms = hf_retry_delay_ms(attempt, strcmp(ra, "-") ? ra : NULL, strcmp(rl, "-") ? rl : NULL);
    FUZZ_CHECK(ms >= 0 && ms <= 300000);
    long plain = hf_retry_delay_ms(attempt, NULL, NULL);
    FUZZ_CHECK(plain >= 1000 && plain <= 8000);
    free(ra);
    free(rl);
    return 0;
}
