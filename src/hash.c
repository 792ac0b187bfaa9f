/* Hashing over OpenSSL's EVP. */
#include "hash.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct hf_hasher {
    EVP_MD_CTX *sha256;
    EVP_MD_CTX *sha1;
    long long size;
    long long seen;
};

void hf_hex(const unsigned char *d, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static hf_hasher *make(long long size, bool git) {
    hf_hasher *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->size = size;
    h->sha256 = EVP_MD_CTX_new();
    if (!h->sha256 || !EVP_DigestInit_ex(h->sha256, EVP_sha256(), NULL)) {
        hf_hasher_free(h);
        return NULL;
    }
    if (git) {
        char header[48];
        int n = snprintf(header, sizeof header, "blob %lld", size);
        h->sha1 = EVP_MD_CTX_new();
        if (!h->sha1 || !EVP_DigestInit_ex(h->sha1, EVP_sha1(), NULL) ||
            !EVP_DigestUpdate(h->sha1, header, (size_t)n + 1)) { /* the header ends with NUL */
            hf_hasher_free(h);
            return NULL;
        }
    }
    return h;
}

hf_hasher *hf_hasher_new(long long size) {
    return make(size, true);
}

hf_hasher *hf_hasher_new_sha256(long long size) {
    return make(size, false);
}

bool hf_hasher_update(hf_hasher *h, const void *data, size_t len) {
    h->seen += (long long)len;
    return EVP_DigestUpdate(h->sha256, data, len) &&
           (!h->sha1 || EVP_DigestUpdate(h->sha1, data, len));
}

bool hf_hasher_final(hf_hasher *h, char sha256[65], char git_sha1[41]) {
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n;
    if (!EVP_DigestFinal_ex(h->sha256, d, &n))
        return false;
    hf_hex(d, n, sha256);
    if (h->sha1) {
        if (!EVP_DigestFinal_ex(h->sha1, d, &n))
            return false;
        if (git_sha1)
            hf_hex(d, n, git_sha1);
    } else if (git_sha1) {
        git_sha1[0] = '\0';
    }
    return h->seen == h->size;
}

long long hf_hasher_seen(const hf_hasher *h) {
    return h->seen;
}

void hf_hasher_free(hf_hasher *h) {
    if (!h)
        return;
    EVP_MD_CTX_free(h->sha256);
    EVP_MD_CTX_free(h->sha1);
    free(h);
}

bool hf_hash_file(const char *path, long long size, char sha256[65], char git_sha1[41],
                  long long *seen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = hf_hash_fd(fd, size, sha256, git_sha1, seen);
    close(fd);
    return ok;
}

bool hf_hash_fd(int fd, long long size, char sha256[65], char git_sha1[41], long long *seen) {
    if (size < 0) {
        off_t end = lseek(fd, 0, SEEK_END);
        if (end < 0)
            return false;
        size = end;
    }
    if (lseek(fd, 0, SEEK_SET) != 0)
        return false;
    hf_hasher *h = git_sha1 ? hf_hasher_new(size) : hf_hasher_new_sha256(size);
    static __thread unsigned char buf[1 << 17];
    bool ok = h != NULL;
    long long left = size;
    while (ok && left > 0) {
        ssize_t n = read(fd, buf, left < (long long)sizeof buf ? (size_t)left : sizeof buf);
        if (n <= 0)
            break;
        ok = hf_hasher_update(h, buf, (size_t)n);
        left -= n;
    }
    if (seen)
        *seen = h ? hf_hasher_seen(h) : 0;
    ok = ok && hf_hasher_final(h, sha256, git_sha1);
    hf_hasher_free(h);
    return ok;
}
