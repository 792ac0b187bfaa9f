/* One file of the Hub streamed into a sink, hashed on the way: redirects followed by hand,
 * transient failures retried, an interrupted body resumed with Range from the byte reached. */
#ifndef HF_BUNDLE_STREAM_H
#define HF_BUNDLE_STREAM_H

#include <curl/curl.h>

#include "error.h"
#include "hash.h"
#include "http.h"
#include "hub_error.h"

/* Takes the next bytes of the body; anything but HF_OK stops the transfer with that error. */
typedef hf_code (*hf_stream_sink)(void *ctx, const void *data, size_t len, hf_error *err);

/* GETs url expecting exactly `size` bytes. Each hop is set up by hf_client_setup (so the token
 * only goes to the endpoint's origin); at most 10 redirects, to http(s) only. Network failures
 * and the statuses of hf_retry_status are retried (HF_MAX_RETRIES times without progress, with
 * the Hub's backoff); a body cut short is resumed from the byte reached with `Range`, and a
 * server that ignores Range has the bytes already taken skipped. Every byte goes to h and then
 * to sink exactly once, in order. More bytes than size, a Content-Length or Content-Range that
 * disagrees with size are HF_EINTEGRITY; an error answer is mapped by hf_hub_error with ctx.
 * easy is a handle the caller keeps (reset here), so connections are reused. The hashes are
 * the caller's to check (hf_hasher_final). */
hf_code hf_stream_get(hf_client *c, CURL *easy, const char *url, long long size,
                      const hf_req_ctx *ctx, hf_hasher *h, hf_stream_sink sink, void *sink_ctx,
                      hf_error *err);

#endif
