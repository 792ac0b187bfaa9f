/* The secrets this process holds (the access token): found in server data, masked in every
 * message before it is cut to length, so no part of one ever shows. */
#ifndef HF_SECRET_H
#define HF_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/* Remembers s (copied) as a secret; NULL, empty and already known values are ignored. */
void hf_secret_add(const char *s);
/* Forgets every secret (their copies are wiped). */
void hf_secret_clear(void);

/* Secrets shorter than this are masked in messages but not looked for in data. */
#define HF_SECRET_MIN_IN_DATA 8

/* True when the len bytes at text hold one of the secrets (of HF_SECRET_MIN_IN_DATA bytes or
 * more). */
bool hf_secret_in(const char *text, size_t len);

/* True when a string of the JSON value v (an object's keys too, at any depth) holds one of
 * the secrets: server data that echoes the token is refused before it reaches any output. */
struct json_t;
bool hf_secret_in_json(const struct json_t *v);

/* Copies in to out (cap > 4 bytes): every secret replaced by "***" first, then control bytes
 * by spaces, then cut to cap - 1 bytes, ending in "..." when it was cut. */
void hf_secret_mask(const char *in, char *out, size_t cap);

#endif
