/* The Hub's URLs: endpoint checks, percent-encoding and the API, tree and resolve URLs. */
#ifndef HF_URL_H
#define HF_URL_H

#include <stdbool.h>

#include "buf.h"
#include "error.h"
#include "repo.h"

/* Percent-encodes every byte but the unreserved ones (A-Z a-z 0-9 - . _ ~);
 * keep_slash keeps '/' as is (for repository paths). */
bool hf_url_encode(hf_buf *b, const char *s, bool keep_slash);

/* Checks that url is http(s)://host[:port][/path] and returns a copy without trailing '/'. */
hf_code hf_endpoint_normalize(const char *url, char **out, hf_error *err);

/* GET {endpoint}/api/{type}s/{id}/revision/{rev} (rev encoded as one segment). */
char *hf_url_repo_info(const char *endpoint, const hf_repo *repo, const char *rev);
/* GET {endpoint}/api/{type}s/{id}/tree/{rev}[/{path}]?recursive=..&expand=false */
char *hf_url_tree(const char *endpoint, const hf_repo *repo, const char *rev, const char *path,
                  bool recursive);
/* {endpoint}/{prefix}{id}/resolve/{rev}/{path} */
char *hf_url_resolve(const char *endpoint, const hf_repo *repo, const char *rev, const char *path);

/* True when a and b have the same scheme, host (case-insensitive) and port. */
bool hf_url_same_origin(const char *a, const char *b);

/* url as messages show it (caller frees; NULL when out of memory): its query becomes "?..."
 * on another origin than the endpoint's (a storage host's pre-signed URL) and wherever a key
 * of it names a signature, a key, a token, a credential or an expiry (S3's X-Amz-*, GCS's
 * X-Goog-Signature, Azure's sig, CloudFront's Key-Pair-Id, the Hub's signed completion URLs). */
char *hf_url_for_message(const char *url, const char *endpoint);
/* True when url's scheme is http or https. */
bool hf_url_is_http(const char *url);

#endif
