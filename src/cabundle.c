/* CA bundle probing: libcurl has no built-in bundle in the static build and ignores
 * CURL_CA_BUNDLE (only the curl program reads it), so the binaries look for one. */
#include "cabundle.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_file(const char *p) {
    struct stat st;
    return p && *p && stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, R_OK) == 0;
}

const char *hf_ca_file(void) {
    static const char *const paths[] = {
        "/etc/ssl/certs/ca-certificates.crt",                /* Debian, Ubuntu, Alpine */
        "/etc/pki/tls/certs/ca-bundle.crt",                  /* RHEL, Fedora */
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* RHEL 7+ */
        "/etc/ssl/ca-bundle.pem",                            /* SUSE */
        "/etc/ssl/cert.pem",                                 /* Alpine, macOS-like layouts */
        "/etc/pki/tls/cacert.pem",                           /* OpenELEC */
    };
    const char *env = getenv("CURL_CA_BUNDLE");
    if (is_file(env))
        return env;
    env = getenv("SSL_CERT_FILE");
    if (is_file(env))
        return env;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (is_file(paths[i]))
            return paths[i];
    return NULL;
}

const char *hf_ca_dir(void) {
    const char *dir = getenv("SSL_CERT_DIR");
    struct stat st;
    if (dir && *dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return dir;
    return NULL;
}
