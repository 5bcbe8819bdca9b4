#ifndef THEPRED_CCURL_SHIM_H
#define THEPRED_CCURL_SHIM_H
// The gcc type-check macros wrap curl_easy_setopt in statement expressions; the typed wrappers
// below do that job, so plain declarations are enough.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call: one typed
// wrapper per argument type.

static inline CURLcode thepred_curl_global_init(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}

static inline CURLcode thepred_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode thepred_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode thepred_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode thepred_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode thepred_curl_setopt_write_callback(CURL *handle, curl_write_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

/// The last transfer's HTTP status, or 0 when no response came.
static inline long thepred_curl_getinfo_response_code(CURL *handle) {
    long code = 0;
    if (curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK) return 0;
    return code;
}

/// Bytes of the last transfer's request body that were written out, or -1 when unknown. Zero
/// after a failure before the request went out (connect, proxy CONNECT, TLS).
static inline long long thepred_curl_getinfo_uploaded(CURL *handle) {
    curl_off_t size = 0;
    if (curl_easy_getinfo(handle, CURLINFO_SIZE_UPLOAD_T, &size) != CURLE_OK) return -1;
    return (long long)size;
}

#endif
