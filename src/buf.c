/* The growable buffer. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool hf_buf_reserve(hf_buf *b, size_t extra) {
    if (extra > (size_t)-1 - b->len - 1)
        return false;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > (size_t)-1 / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return false;
    b->data = p;
    b->cap = cap;
    return true;
}

bool hf_buf_add(hf_buf *b, const void *data, size_t len) {
    if (!hf_buf_reserve(b, len))
        return false;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return true;
}

bool hf_buf_adds(hf_buf *b, const char *s) {
    return hf_buf_add(b, s, strlen(s));
}

bool hf_buf_addf(hf_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !hf_buf_reserve(b, (size_t)n))
        return false;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

void hf_buf_reset(hf_buf *b) {
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void hf_buf_free(hf_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *hf_buf_take(hf_buf *b) {
    if (!b->data && !hf_buf_reserve(b, 0))
        return NULL;
    if (b->len == 0)
        b->data[0] = '\0';
    char *s = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}
