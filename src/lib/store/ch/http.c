/* http.c - ClickHouse's HTTP interface over libcurl (docs/clickhouse.md:
 * what 18.16 offers): statements as POST bodies or URL parameters, rows
 * in and out as RowBinary, the server's exceptions as one-line errors,
 * and string literals that no value can break out of. */
#include "store/ch/ch_int.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ch_conn {
    CURL *curl;
    char base[256];
    char user[64];
    char *password; /* from the environment, or NULL */
    /* "Expect:" (none): 100-continue would cost a round trip per
     * insert */
    struct curl_slist *headers;
};

/* ---- buffers ---- */

void aipm_ch__buf_free(ch_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

static int reserve(ch_buf *b, size_t more)
{
    size_t cap;
    char *p;

    if (b->oom)
        return -1;
    if (b->n + more + 1 <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < b->n + more + 1)
        cap *= 2;
    if ((p = realloc(b->p, cap)) == NULL) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void aipm_ch__put(ch_buf *b, const void *p, size_t n)
{
    if (reserve(b, n) != 0)
        return;
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void aipm_ch__puts(ch_buf *b, const char *s)
{
    aipm_ch__put(b, s, strlen(s));
}

void aipm_ch__putf(ch_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

void aipm_ch__lit(ch_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;

    if (s == NULL) {
        aipm_ch__puts(b, "NULL");
        return;
    }
    aipm_ch__put(b, "'", 1);
    for (; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || *p == ' ' || *p == '_' || *p == '-' ||
            *p == '.' || *p == ':' || *p == '/') {
            aipm_ch__put(b, p, 1);
        } else {
            char e[4] = {'\\', 'x', hex[*p >> 4], hex[*p & 15]};

            aipm_ch__put(b, e, 4);
        }
    }
    aipm_ch__put(b, "'", 1);
}

/* ---- RowBinary ---- */

static void leb128(ch_buf *b, uint64_t v)
{
    unsigned char out[10];
    size_t n = 0;

    do {
        out[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            out[n] |= 0x80;
        n++;
    } while (v);
    aipm_ch__put(b, out, n);
}

void aipm_ch__rb_str(ch_buf *b, const char *s, size_t n)
{
    leb128(b, n);
    if (n)
        aipm_ch__put(b, s, n);
}

void aipm_ch__rb_i64(ch_buf *b, int64_t v)
{
    uint64_t u = (uint64_t)v;
    unsigned char out[8];
    int i;

    for (i = 0; i < 8; i++)
        out[i] = (unsigned char)(u >> (8 * i));
    aipm_ch__put(b, out, 8);
}

void aipm_ch__rb_u8(ch_buf *b, unsigned v)
{
    unsigned char c = (unsigned char)v;

    aipm_ch__put(b, &c, 1);
}

int aipm_ch__get_u64(ch_rd *r, uint64_t *v)
{
    uint64_t u = 0;
    int i;

    if (r->end - r->p < 8)
        return -1;
    for (i = 0; i < 8; i++)
        u |= (uint64_t)r->p[i] << (8 * i);
    r->p += 8;
    *v = u;
    return 0;
}

int aipm_ch__get_i64(ch_rd *r, int64_t *v)
{
    uint64_t u;

    if (aipm_ch__get_u64(r, &u) != 0)
        return -1;
    *v = (int64_t)u;
    return 0;
}

int aipm_ch__get_f64(ch_rd *r, double *v)
{
    uint64_t u;

    if (aipm_ch__get_u64(r, &u) != 0)
        return -1;
    memcpy(v, &u, sizeof(*v));
    return 0;
}

int aipm_ch__get_u8(ch_rd *r, unsigned *v)
{
    if (r->p >= r->end)
        return -1;
    *v = *r->p++;
    return 0;
}

int aipm_ch__get_str(ch_rd *r, const char **s, size_t *n)
{
    const unsigned char *p = r->p;
    uint64_t len = 0;
    int shift = 0;

    for (;;) {
        if (p >= r->end || shift > 63)
            return -1;
        len |= (uint64_t)(*p & 0x7f) << shift;
        shift += 7;
        if (!(*p++ & 0x80))
            break;
    }
    if ((uint64_t)(r->end - p) < len)
        return -1;
    *s = (const char *)p;
    *n = (size_t)len;
    r->p = p + len;
    return 0;
}

/* ---- the connection ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

ch_conn *aipm_ch__connect(const char *base, const char *user, aipm_error *err)
{
    ch_conn *c;
    const char *pw = getenv("AIPM_CLICKHOUSE_PASSWORD");

    pthread_once(&curl_once, curl_init);
    if ((c = calloc(1, sizeof(*c))) == NULL ||
        (c->curl = curl_easy_init()) == NULL) {
        free(c);
        aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        return NULL;
    }
    snprintf(c->base, sizeof(c->base), "%s", base);
    snprintf(c->user, sizeof(c->user), "%s", user ? user : "");
    if ((c->headers = curl_slist_append(NULL, "Expect:")) == NULL ||
        (pw && *pw && (c->password = strdup(pw)) == NULL)) {
        aipm_ch__close(c);
        aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        return NULL;
    }
    return c;
}

void aipm_ch__close(ch_conn *c)
{
    if (c == NULL)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    free(c->password);
    free(c);
}

/* What a response is being read into. */
typedef struct answer {
    ch_rows rows;  /* the rows (with a row function), or all the bytes */
    int status200; /* only then are the bytes rows */
} answer;

static void parse_rows(ch_rows *rs)
{
    ch_rd r = {(const unsigned char *)rs->body.p,
               (const unsigned char *)rs->body.p + rs->body.n};
    size_t used;

    while (rs->stop == 0 && r.p < r.end) {
        ch_rd at = r;
        int rc = rs->fn(&at, rs->ctx);

        if (rc == CH_ROW_CUT)
            break; /* a row split between reads */
        if (rc != 0) {
            rs->stop = rc;
            break;
        }
        r = at;
    }
    used = (size_t)(r.p - (const unsigned char *)rs->body.p);
    if (used) {
        memmove(rs->body.p, rs->body.p + used, rs->body.n - used);
        rs->body.n -= used;
    }
}

int aipm_ch__rows_feed(ch_rows *rs, const void *p, size_t n)
{
    if (rs->stop)
        return rs->stop;
    aipm_ch__put(&rs->body, p, n);
    if (rs->body.oom)
        return AIPM_ENOMEM;
    if (rs->fn)
        parse_rows(rs);
    return rs->stop;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *ctx)
{
    answer *a = ctx;
    size_t n = size * nmemb;

    if (a->rows.stop)
        return 0; /* ends the transfer */
    if (a->rows.fn && a->status200)
        aipm_ch__rows_feed(&a->rows, p, n);
    else
        aipm_ch__put(&a->rows.body, p, n);
    return a->rows.body.oom ? 0 : n;
}

/* The answer's status line: rows are parsed only after a 200. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *ctx)
{
    answer *a = ctx;
    size_t n = size * nmemb;

    if (n > 9 && strncmp(p, "HTTP/", 5) == 0) {
        const char *sp = memchr(p, ' ', n);

        a->status200 =
            sp && (size_t)(sp - p) + 4 <= n && strncmp(sp + 1, "200", 3) == 0;
    }
    return n;
}

/* The server's message, on one line, at most 300 bytes. */
static void one_line(char *out, size_t cap, const char *p, size_t n)
{
    size_t i, j = 0;

    for (i = 0; i < n && j + 1 < cap && j < 300; i++)
        out[j++] = (p[i] == '\n' || p[i] == '\r' || p[i] == '\t') ? ' ' : p[i];
    while (j > 0 && out[j - 1] == ' ')
        j--;
    out[j] = '\0';
}

static void url_escape(ch_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            aipm_ch__put(b, s, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};

            aipm_ch__put(b, e, 3);
        }
    }
}

int aipm_ch__run(ch_conn *c, const char *db, const char *sql,
                 const char *params, const void *data, size_t n, ch_row_fn fn,
                 void *ctx, ch_buf *out, aipm_error *err)
{
    CURL *h = c->curl;
    ch_buf url = {0};
    answer a = {{{0}, fn, ctx, 0}, 0};
    char msg[320], shown[120];
    CURLcode cc;
    long code = 0;
    int rc = AIPM_OK;

    /* The whole result is made before the first byte is sent: an error
     * half-way is then a status, not text after some rows. */
    aipm_ch__putf(&url, "%s/?wait_end_of_query=1", c->base);
    if (db) {
        aipm_ch__puts(&url, "&database=");
        url_escape(&url, db);
    }
    if (params)
        aipm_ch__putf(&url, "&%s", params);
    if (data) {
        aipm_ch__puts(&url, "&query=");
        url_escape(&url, sql);
    }
    if (url.oom) {
        aipm_ch__buf_free(&url);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url.p);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    if (data) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    } else {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, sql);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)strlen(sql));
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &a);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    if (c->user[0])
        curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
    if (c->password)
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (a.rows.stop != 0) {
        rc = a.rows.stop; /* the callback's own answer, or its error */
    } else if (a.rows.body.oom) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    } else if (cc != CURLE_OK) {
        rc = aipm_error_set(err, AIPM_EIO, "ClickHouse at %s: %s", c->base,
                            curl_easy_strerror(cc));
    } else if (code != 200) {
        one_line(shown, sizeof(shown), sql, strlen(sql));
        one_line(msg, sizeof(msg), a.rows.body.p ? a.rows.body.p : "",
                 a.rows.body.n);
        rc = aipm_error_set(err, AIPM_EIO,
                            "ClickHouse at %s refused '%.60s...' (HTTP %ld): "
                            "%s",
                            c->base, shown, code, msg);
    } else if (fn && a.rows.body.n > 0) {
        one_line(shown, sizeof(shown), sql, strlen(sql));
        rc = aipm_error_set(err, AIPM_EIO,
                            "ClickHouse at %s: %zu bytes after the last row "
                            "of '%.60s...'",
                            c->base, a.rows.body.n, shown);
    } else if (out) {
        *out = a.rows.body;
        a.rows.body.p = NULL;
    }
    aipm_ch__buf_free(&a.rows.body);
    aipm_ch__buf_free(&url);
    return rc;
}

int aipm_ch__scalar(ch_conn *c, const char *db, const char *sql, int64_t *v,
                    aipm_error *err)
{
    ch_buf out = {0};
    char *end;
    int rc;

    if ((rc = aipm_ch__run(c, db, sql, NULL, NULL, 0, NULL, NULL, &out, err)) !=
        0)
        return rc;
    *v = out.p ? strtoll(out.p, &end, 10) : 0;
    if (out.p == NULL || end == out.p || (*end != '\n' && *end != '\0')) {
        char shown[120];

        one_line(shown, sizeof(shown), out.p ? out.p : "", out.n);
        rc = aipm_error_set(err, AIPM_EIO,
                            "ClickHouse answered '%s' where a number was "
                            "expected",
                            shown);
    }
    aipm_ch__buf_free(&out);
    return rc;
}
