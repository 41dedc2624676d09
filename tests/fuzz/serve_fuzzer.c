/* serve_fuzzer.c - libFuzzer target for what aipm serve reads from a
 * request's words (src/serve/parse.c): the path split into segments and
 * matched against the route patterns, If-None-Match lists, Accept-Encoding
 * lists, query strings.
 *
 * The input is cut at its first two newlines into a path, a header value
 * and a query. Invariants checked: a split path has at most MAX_SEGMENTS
 * segments, none empty, none with '/', each shorter than SEGMENT_MAX; a
 * pattern match's '*' parameters are segments srv_segment_ok takes (never
 * "..", never empty, no byte outside its alphabet), so nothing a request
 * sends reaches a route as a path; an ETag always matches a list made of
 * itself and never one made of a different tag; an Accept-Encoding list
 * is read without a bad read, and one that ends in a plain "gzip" always
 * takes gzip, whatever came before it; query names are non-empty
 * and contain neither '&' nor '='. Anything else aborts; the sanitizers see
 * any bad read.
 *
 * Linked with replay_main.c into replay_serve_fuzzer, which ctest runs
 * over tests/fuzz/corpus/serve_fuzzer/.
 */
#include "serve.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const patterns[] = {"/api/v1",
                                       "/api/v1/kpis",
                                       "/api/v1/forecasts/*",
                                       "/api/v1/models/*",
                                       "/api/v1/decisions/*/*",
                                       "/api/v1/audit/verify",
                                       NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *path, *header, *query, *nl;
    char seg[MAX_SEGMENTS][SEGMENT_MAX];
    const char *names[16], *values[16];
    int n, i, k;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    path = text;
    header = (nl = strchr(path, '\n')) ? (*nl = '\0', nl + 1) : "";
    query = (nl = strchr(header, '\n')) ? (*nl = '\0', nl + 1) : "";

    if (srv_path_split(path, seg, &n) == 0) {
        if (n < 0 || n > MAX_SEGMENTS)
            abort();
        for (i = 0; i < n; i++)
            if (seg[i][0] == '\0' || strchr(seg[i], '/') ||
                strlen(seg[i]) >= SEGMENT_MAX)
                abort();
        for (k = 0; patterns[k]; k++) {
            const char *params[2] = {NULL, NULL};

            if (!srv_path_match(patterns[k], seg, n, params))
                continue;
            for (i = 0; i < 2; i++) {
                const char *p = params[i];

                if (p == NULL)
                    continue;
                if (!srv_segment_ok(p) || p[0] == '.' || strcmp(p, "..") == 0 ||
                    strspn(p, "abcdefghijklmnopqrstuvwxyz"
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "0123456789-_.:@") != strlen(p))
                    abort();
            }
        }
    }

    /* If-None-Match: a tag matches itself, alone, weak or in a list. */
    {
        char tag[80], list[200];

        srv_etag_matches(header, "\"0123456789abcdef\"");
        snprintf(tag, sizeof(tag), "\"%.60s\"", header);
        if (strchr(header, ',') == NULL && strchr(header, ' ') == NULL &&
            strchr(header, '\t') == NULL && strchr(header, '*') == NULL &&
            strlen(header) <= 60) {
            snprintf(list, sizeof(list), "W/%s, \"x\"", tag);
            if (!srv_etag_matches(tag, tag) || !srv_etag_matches(list, tag))
                abort();
            if (srv_etag_matches("\"another-tag\"", tag) &&
                strcmp(tag, "\"another-tag\"") != 0)
                abort();
        }
    }

    /* Accept-Encoding: the header as it came, then with ", gzip" after. */
    {
        size_t hl = strlen(header);
        char *list = malloc(hl + 8);
        int r = srv_accepts_gzip(header);

        if (r != 0 && r != 1)
            abort();
        if (list) {
            memcpy(list, header, hl);
            memcpy(list + hl, ", gzip", 7);
            if (!srv_accepts_gzip(list))
                abort();
            free(list);
        }
    }

    n = srv_query_split(query, names, values, 16);
    if (n < 0 || n > 16)
        abort();
    for (i = 0; i < n; i++)
        if (names[i][0] == '\0' || strchr(names[i], '&') ||
            strchr(names[i], '=') || strchr(values[i], '&'))
            abort();
    free(text);
    return 0;
}
