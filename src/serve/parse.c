/* parse.c - what the server reads from a request's words: its path into
 * segments, a path against a route's pattern, If-None-Match lists and
 * query strings. Pure functions over bounded buffers, apart from
 * libmicrohttpd (which parsed the request line and headers before), so
 * tests/fuzz/serve_fuzzer.c runs them on arbitrary bytes. */
#include "serve.h"

#include <string.h>

int srv_path_split(const char *path, char seg[MAX_SEGMENTS][SEGMENT_MAX],
                   int *n)
{
    const char *p = path;

    *n = 0;
    while (*p == '/')
        p++;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);

        if (*n == MAX_SEGMENTS || len >= SEGMENT_MAX)
            return -1;
        memcpy(seg[*n], p, len);
        seg[(*n)++][len] = '\0';
        p += len;
        while (*p == '/')
            p++;
    }
    return 0;
}

int srv_segment_ok(const char *s)
{
    if (*s == '\0' || *s == '.')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.' ||
              *s == ':' || *s == '@'))
            return 0;
    return 1;
}

int srv_path_match(const char *pattern, char seg[MAX_SEGMENTS][SEGMENT_MAX],
                   int n, const char *params[2])
{
    char pat[MAX_SEGMENTS][SEGMENT_MAX];
    const char *got[2] = {NULL, NULL};
    int m, i, k = 0;

    if (srv_path_split(pattern, pat, &m) != 0 || m != n)
        return 0;
    for (i = 0; i < n; i++) {
        if (strcmp(pat[i], "*") == 0) {
            if (k == 2 || !srv_segment_ok(seg[i]))
                return 0;
            got[k++] = seg[i];
        } else if (strcmp(pat[i], seg[i]) != 0) {
            return 0;
        }
    }
    params[0] = got[0];
    params[1] = got[1];
    return 1;
}

int srv_etag_matches(const char *list, const char *etag)
{
    size_t n = strlen(etag);
    const char *p;

    if (list == NULL || n == 0)
        return 0;
    for (p = list; *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, n) == 0 &&
            (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
            return 1;
        while (*p && *p != ',')
            p++;
    }
    return 0;
}

int srv_query_split(char *query, const char **names, const char **values,
                    int max)
{
    char *p = query;
    int n = 0;

    while (*p && n < max) {
        char *amp = strchr(p, '&'), *eq;

        if (amp)
            *amp = '\0';
        if (*p && *p != '=') { /* no name: skipped */
            if ((eq = strchr(p, '=')) != NULL)
                *eq = '\0';
            names[n] = p;
            values[n++] = eq ? eq + 1 : "";
        }
        if (amp == NULL)
            break;
        p = amp + 1;
    }
    return n;
}
