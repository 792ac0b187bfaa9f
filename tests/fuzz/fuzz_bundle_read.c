/* Reading an archive someone hands over: hf-bundle --verify and --list (hf_bundle_verify,
 * hf_bundle_list: libarchive's tar, gzip, zstd and zip readers, the manifest inside, the
 * RO-Crate metadata, every entry hashed against the manifest). The input is written to a
 * file, as those take a path. */
#include <fcntl.h>
#include <unistd.h>

#include "bundle.h"
#include "fuzz.h"
#include "pathsafe.h"

static char path[64];

static void cleanup(void) {
    if (path[0])
        unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    snprintf(path, sizeof path, "/tmp/hf-fuzz-bundle-%ld.bin", (long)getpid());
    atexit(cleanup);
    return 0;
}

static size_t calls;

static void on_entry(void *ctx, const char *p, const char *problem) {
    (void)ctx;
    FUZZ_CHECK(p != NULL);
    FUZZ_CHECK(!problem || problem[0]);
    calls++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
    close(fd);

    hf_manifest m = {0};
    size_t files = 0;
    hf_error err = {0};
    calls = 0;
    hf_code rc = hf_bundle_verify(path, on_entry, NULL, &m, &files, &err);
    fuzz_check_error(&err, rc);
    if (rc == HF_OK) {
        FUZZ_CHECK(m.repo_id != NULL && files == m.files.n);
        for (size_t i = 0; i < m.files.n; i++)
            FUZZ_CHECK(hf_path_is_safe(m.files.v[i].path, NULL));
    } else {
        FUZZ_CHECK(rc == HF_EINTEGRITY || rc == HF_EUSAGE || rc == HF_EOTHER);
    }
    hf_manifest_free(&m);

    hf_bundle_listing l;
    hf_error err2 = {0};
    rc = hf_bundle_list(path, &l, &err2);
    fuzz_check_error(&err2, rc);
    if (rc == HF_OK) {
        FUZZ_CHECK(l.m.repo_id != NULL && l.prefix != NULL && l.n >= 1);
        for (size_t i = 0; i < l.n; i++)
            FUZZ_CHECK(l.items[i].path != NULL);
        hf_bundle_listing_free(&l);
    } else {
        FUZZ_CHECK(l.items == NULL && l.m.repo_id == NULL);
    }
    return 0;
}
