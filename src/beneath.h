/* Every write below a target root (a --local-dir, a cache, the folder of hf-bundle's output):
 * paths resolved from a descriptor of the root, component by component, never through a
 * link (openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where the kernel has it, else a
 * walk with O_NOFOLLOW), so a link planted below the root cannot steer a write outside it. */
#ifndef HF_BENEATH_H
#define HF_BENEATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "error.h"

typedef struct {
    int fd;     /* the root folder (the root itself may be a link: the user chose it) */
    char *path; /* for messages */
} hf_root;

/* Opens the root folder, creating it (mkdir -p) when create is set. */
hf_code hf_root_open(hf_root *r, const char *path, bool create, hf_error *err);
void hf_root_close(hf_root *r);

/* The root's path joined to rel, for messages (caller frees). */
char *hf_root_show(const hf_root *r, const char *rel);

/* The folder that holds rel (its folders made when create), as a descriptor, and rel's last
 * component. A link, or "." / "..", on the way is refused: HF_EINTEGRITY naming it; a
 * missing folder (create unset) is HF_ENOTFOUND. */
hf_code hf_beneath_parent(const hf_root *r, const char *rel, bool create, int *dirfd,
                          const char **name, hf_error *err);
/* The folder rel itself (made when create). */
hf_code hf_beneath_dir(const hf_root *r, const char *rel, bool create, int *dirfd, hf_error *err);

/* open(2) of rel with O_NOFOLLOW | O_CLOEXEC added; the folders are made when O_CREAT is in
 * flags. errno-style result in *fd (-1 and errno set when the last step failed: ELOOP for a
 * link there); the return code reports a problem on the way only. */
hf_code hf_beneath_open(const hf_root *r, const char *rel, int flags, mode_t mode, int *fd,
                        hf_error *err);
/* lstat(2) of rel: HF_ENOTFOUND when it (or a folder on the way) is missing. */
hf_code hf_beneath_lstat(const hf_root *r, const char *rel, struct stat *st, hf_error *err);
/* rename(2) of one name below the root to another (the target's folders are made). */
hf_code hf_beneath_rename(const hf_root *r, const char *from, const char *to, hf_error *err);
/* symlink(2): rel becomes a link holding target (made as given, never followed). */
int hf_beneath_symlink(const hf_root *r, const char *target, const char *rel);
/* unlink(2) of rel; 0 or -1 with errno. */
int hf_beneath_unlink(const hf_root *r, const char *rel);

/* Writes data to a fresh temporary name in rel's folder, then renames it over rel: readers
 * see all or nothing, and a link at rel is replaced, not followed. durable adds the
 * fsyncs. */
hf_code hf_beneath_write(const hf_root *r, const char *rel, const void *data, size_t len,
                         bool durable, hf_error *err);
/* Makes a fresh temporary file in dirfd (O_EXCL, never through a link) named after base;
 * the name chosen is written to tmp (cap bytes). With ticket, the name is registered for
 * removal on cancellation (cancel.h) before the file exists: *ticket for hf_cancel_untrack
 * once it is renamed or removed (dirfd must stay open until then). */
int hf_beneath_mktemp(int dirfd, const char *base, char *tmp, size_t cap, int *ticket);
/* rel becomes a link holding target: made in one step when the name is free, else through a
 * temporary link renamed over whatever is there (a link planted there included); nothing
 * when the right link is there already. 0, or -1 with errno. */
int hf_beneath_put_link(const hf_root *r, const char *target, const char *rel);
/* rel becomes a copy of in (read from its start), through a temporary name and a rename. */
hf_code hf_beneath_put_copy(const hf_root *r, const char *rel, int in, hf_error *err);
/* An unnamed temporary file in the folder of path (an output the user named): O_TMPFILE where
 * the file system has it, else a fresh name removed at once. -1 with errno on failure. */
int hf_beneath_scratch(const char *path);
/* Reads a whole (small) file below the root, at most max bytes, NUL-terminated. */
hf_code hf_beneath_read(const hf_root *r, const char *rel, size_t max, char **data, size_t *len,
                        hf_error *err);

/* Tests only: false makes every lookup take the component walk, as on kernels without
 * openat2. */
void hf_beneath_use_openat2(bool on);

#endif
