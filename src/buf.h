/* A growable byte buffer, always NUL-terminated, used for URLs and response bodies. */
#ifndef HF_BUF_H
#define HF_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *data; /* NUL-terminated; NULL until something is added */
    size_t len;
    size_t cap;
} hf_buf;

/* Each returns false only when memory runs out. */
bool hf_buf_add(hf_buf *b, const void *data, size_t len);
bool hf_buf_adds(hf_buf *b, const char *s);
bool hf_buf_addf(hf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hf_buf_reset(hf_buf *b);
/* Room for `extra` more bytes (and the NUL) without another allocation. */
bool hf_buf_reserve(hf_buf *b, size_t extra);
void hf_buf_free(hf_buf *b);
/* Hands the string over to the caller (never NULL unless out of memory). */
char *hf_buf_take(hf_buf *b);

#endif
