/* parse.c - what the server reads from a request's words: its path into
 * segments, a path against a route's pattern, If-None-Match lists and
 * query strings. Pure functions over bounded buffers, apart from
 * libmicrohttpd (which parsed the request line and headers before), so
 * tests/fuzz/serve_fuzzer.c runs them on arbitrary bytes. */
#include "serve.h"

#include <ctype.h>

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

/* One coding of an Accept-Encoding list at p: its name (into name, cut
 * at size - 1) and its q (1 when not given; a malformed q is 0, which
 * refuses rather than guesses); the position after it. */
static const char *coding_next(const char *p, char *name, size_t size,
                               double *q)
{
    size_t n = 0;

    while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
    while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t') {
        if (n + 1 < size)
            name[n++] = (char)tolower((unsigned char)*p);
        p++;
    }
    name[n] = '\0';
    *q = 1;
    while (*p && *p != ',') {
        if (*p == ';') {
            p++;
            while (*p == ' ' || *p == '\t')
                p++;
            if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
                /* qvalue: "0" or "1" with at most three decimals. */
                const char *v = p + 2;
                double x = 0, scale = 1;
                int ok = (*v == '0' || *v == '1'), digits = 0;

                x = *v == '1';
                if (ok && *++v == '.')
                    for (v++; *v >= '0' && *v <= '9' && digits < 3;
                         v++, digits++) {
                        scale /= 10;
                        x += (*v - '0') * scale;
                    }
                if (!ok || x > 1 ||
                    (*v && *v != ',' && *v != ';' && *v != ' ' && *v != '\t'))
                    x = 0;
                *q = x;
                p = v;
                continue;
            }
        }
        if (*p && *p != ',')
            p++;
    }
    return p;
}

int srv_accepts_gzip(const char *list)
{
    char name[16];
    double q, star = -1, gzip = -1;
    const char *p = list;

    if (list == NULL)
        return 0;
    while (*p) {
        p = coding_next(p, name, sizeof(name), &q);
        if (strcmp(name, "gzip") == 0 || strcmp(name, "x-gzip") == 0)
            gzip = gzip < 0 ? q : (q > gzip ? q : gzip);
        else if (strcmp(name, "*") == 0)
            star = q;
    }
    return gzip >= 0 ? gzip > 0 : star > 0;
}
