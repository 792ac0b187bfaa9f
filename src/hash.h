/* Streaming hashes of file content: sha256 and the git blob sha1 at once. */
#ifndef HF_HASH_H
#define HF_HASH_H

#include <stdbool.h>
#include <stddef.h>

typedef struct hf_hasher hf_hasher;

/* A hasher for content of `size` bytes (the git blob header carries the size up front). */
hf_hasher *hf_hasher_new(long long size);
/* The same without the git blob sha1 (LFS files are checked by sha256 alone). */
hf_hasher *hf_hasher_new_sha256(long long size);
bool hf_hasher_update(hf_hasher *h, const void *data, size_t len);
/* Hex digests (git_sha1 may be NULL, and is "" for a sha256-only hasher); false if the bytes
 * seen differ from the size given. */
bool hf_hasher_final(hf_hasher *h, char sha256[65], char git_sha1[41]);
long long hf_hasher_seen(const hf_hasher *h);
void hf_hasher_free(hf_hasher *h);

/* Hashes a whole file (or its first `size` bytes when size >= 0; -1 for all of it); git_sha1
 * may be NULL to compute the sha256 alone. */
bool hf_hash_file(const char *path, long long size, char sha256[65], char git_sha1[41],
                  long long *seen);
/* The same from an open file, read from its start. */
bool hf_hash_fd(int fd, long long size, char sha256[65], char git_sha1[41], long long *seen);

/* n bytes as 2n lowercase hex digits and a NUL. */
void hf_hex(const unsigned char *d, size_t n, char *out);

#endif
