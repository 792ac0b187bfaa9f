/* What the fuzz targets share: cutting an input into NUL-terminated fields, and checks that
 * abort (so libFuzzer reports them) when an invariant of the library does not hold. */
#ifndef HF_FUZZ_H
#define HF_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define FUZZ_CHECK(cond)                                                                          \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "fuzz invariant failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
            abort();                                                                              \
        }                                                                                         \
    } while (0)

/* Cuts the next field, up to the separator byte `sep` (or the end), off [*p, end). Returns a
 * malloc'd NUL-terminated copy (NUL bytes inside are kept, so strlen may be shorter), and
 * its length in *n when given. */
static inline char *fuzz_field(const uint8_t **p, const uint8_t *end, uint8_t sep, size_t *n) {
    const uint8_t *s = *p;
    const uint8_t *e = s;
    while (e < end && *e != sep)
        e++;
    size_t len = (size_t)(e - s);
    char *out = malloc(len + 1);
    if (!out)
        abort();
    memcpy(out, s, len);
    out[len] = '\0';
    *p = e < end ? e + 1 : e;
    if (n)
        *n = len;
    return out;
}

/* The rest of the input as a NUL-terminated copy. */
static inline char *fuzz_rest(const uint8_t *p, const uint8_t *end, size_t *n) {
    size_t len = (size_t)(end - p);
    char *out = malloc(len + 1);
    if (!out)
        abort();
    memcpy(out, p, len);
    out[len] = '\0';
    if (n)
        *n = len;
    return out;
}

/* An error record is either untouched (code OK, empty message) or a failure with a one-line
 * message of printable text. */
static inline void fuzz_check_error(const hf_error *err, hf_code rc) {
    FUZZ_CHECK((int)rc >= 0 && (int)rc <= 8);
    if (rc == 0)
        return;
    FUZZ_CHECK(err->code == rc);
    FUZZ_CHECK(err->msg[0] != '\0');
    FUZZ_CHECK(memchr(err->msg, '\0', sizeof err->msg) != NULL);
    for (const char *m = err->msg; *m; m++)
        FUZZ_CHECK((unsigned char)*m >= 0x20 && *m != 0x7f);
}

#endif
