/* --version: the version, the libraries' own version strings and the build's provenance. */
#include "version.h"

#include <archive.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <yaml.h>

/* The static build defines HF_BUILT_FROM as the Debian source packages it was built from
 * ("zlib=1:1.2.13.dfsg-1 openssl=3.0.22-1~deb12u2 ...", from build/static/VERSIONS). */
#ifndef HF_BUILT_FROM
#define HF_BUILT_FROM "the system's shared libraries"
#endif

void hf_version_print(FILE *out, const char *prog, int verbose) {
    fprintf(out, "%s %s\n", prog, HF_VERSION);
    if (!verbose)
        return;
    fprintf(out, "libcurl: %s\n", curl_version());
    fprintf(out, "libcrypto: %s\n", OpenSSL_version(OPENSSL_VERSION));
    fprintf(out, "libarchive: %s\n", archive_version_details());
    fprintf(out, "libyaml: %s\n", yaml_get_version_string());
    fprintf(out, "jansson: %s\n", jansson_version_str());
    fprintf(out, "built from: %s\n", HF_BUILT_FROM);
}
