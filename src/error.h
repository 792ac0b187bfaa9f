/* Error codes shared by every binary (they are the exit codes) and the error record. */
#ifndef HF_ERROR_H
#define HF_ERROR_H

#include <stdarg.h>
#include <stddef.h>

typedef enum {
    HF_OK = 0,
    HF_EOTHER = 1,     /* anything else */
    HF_EUSAGE = 2,     /* bad usage or input */
    HF_ENOTFOUND = 3,  /* repository, revision, path or cached file not found */
    HF_EAUTH = 4,      /* authentication or authorization */
    HF_EINTEGRITY = 5, /* integrity or unsafe data from the server */
    HF_ENETWORK = 6,   /* network or server failure after retries */
    HF_EIO = 7,        /* local I/O error */
    HF_ECONFLICT = 8,  /* the branch moved, or the Hub refused a commit as conflicting */
} hf_code;

/* The library never prints: a failing call fills one of these and returns its code. */
typedef struct {
    hf_code code;
    char msg[1024];
} hf_error;

/* Records code and message (printf-style) in err (which may be NULL); returns code. */
hf_code hf_fail(hf_error *err, hf_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void hf_error_clear(hf_error *err);

/* Formats into out (cap bytes) as one line: the whole message first, then every secret masked
 * (secret.h), then control bytes replaced and the result cut to length. */
void hf_vformat_masked(char *out, size_t cap, const char *fmt, va_list ap);

/* A short word for the code ("not found", "integrity", ...). */
const char *hf_code_name(hf_code code);

#endif
