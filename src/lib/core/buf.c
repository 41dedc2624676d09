/* buf.c - growable byte buffers with a ceiling, UTF-8 validation and cuts,
 * and the plain-decimal number check shared by ingest and config.
 *
 * An aipm_buf always keeps one NUL byte after its contents so it can be
 * read as a C string; growth doubles and is overflow-checked against the
 * buffer's maximum, which callers set from what the input may sensibly hold
 * (curl's DYNBUF.md).
 */
#include "aipm/core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void aipm_buf_init(aipm_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : (size_t)1 << 30;
}

void aipm_buf_free(aipm_buf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

int aipm_grow(void *ptrp, size_t *cap, size_t need, size_t elem)
{
    void *old, *p;
    size_t n = *cap ? *cap : 16;

    if (need <= *cap)
        return AIPM_OK;
    while (n < need)
        n *= 2;
    if (elem && n > SIZE_MAX / elem)
        return AIPM_ENOMEM;
    memcpy(&old, ptrp, sizeof(old));
    if ((p = realloc(old, n * elem)) == NULL)
        return AIPM_ENOMEM;
    memset((char *)p + *cap * elem, 0, (n - *cap) * elem);
    memcpy(ptrp, &p, sizeof(p));
    *cap = n;
    return AIPM_OK;
}

void aipm_buf_reset(aipm_buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

static int grow(aipm_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra > b->max || b->len > b->max - extra)
        return AIPM_EINVALID;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return AIPM_OK;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->ptr, cap);
    if (p == NULL)
        return AIPM_ENOMEM;
    b->ptr = p;
    b->cap = cap;
    return AIPM_OK;
}

int aipm_buf_put(aipm_buf *b, const void *data, size_t len)
{
    int rc = grow(b, len);

    if (rc)
        return rc;
    if (len)
        memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
    return AIPM_OK;
}

char *aipm_buf_append(aipm_buf *b, size_t n)
{
    char *p;

    if (grow(b, n) != 0)
        return NULL;
    p = b->ptr + b->len;
    b->len += n;
    b->ptr[b->len] = '\0';
    return p;
}

int aipm_buf_puts(aipm_buf *b, const char *s)
{
    return aipm_buf_put(b, s, strlen(s));
}

int aipm_buf_printf(aipm_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return AIPM_ERROR;
    if ((rc = grow(b, (size_t)n)) != 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return AIPM_OK;
}

int aipm_buf_put_json_str(aipm_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;
    int rc;

    if ((rc = aipm_buf_put(b, "\"", 1)) != 0)
        return rc;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7];
        size_t n = 0;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if ((rc = aipm_buf_put(b, s + run, i - run)) != 0)
            return rc;
        esc[n++] = '\\';
        switch (c) {
        case '"':
            esc[n++] = '"';
            break;
        case '\\':
            esc[n++] = '\\';
            break;
        case '\n':
            esc[n++] = 'n';
            break;
        case '\r':
            esc[n++] = 'r';
            break;
        case '\t':
            esc[n++] = 't';
            break;
        default:
            esc[n++] = 'u';
            esc[n++] = '0';
            esc[n++] = '0';
            esc[n++] = hex[c >> 4];
            esc[n++] = hex[c & 15];
        }
        if ((rc = aipm_buf_put(b, esc, n)) != 0)
            return rc;
        run = i + 1;
    }
    if ((rc = aipm_buf_put(b, s + run, len - run)) != 0)
        return rc;
    return aipm_buf_put(b, "\"", 1);
}

const char *aipm_buf_cstr(aipm_buf *b)
{
    return b->ptr ? b->ptr : "";
}

int aipm_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < len) {
        unsigned c = s[i];

        /* ASCII fast path: eight bytes at a time. */
        if (c < 0x80) {
            uint64_t w;

            while (i + 8 <= len) {
                memcpy(&w, s + i, 8);
                if (w & 0x8080808080808080ULL)
                    break;
                i += 8;
            }
            while (i < len && s[i] < 0x80)
                i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            if (i + 1 >= len || (s[i + 1] & 0xc0) != 0x80)
                return 0;
            i += 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;

            if (i + 2 >= len || s[i + 1] < lo || s[i + 1] > hi ||
                (s[i + 2] & 0xc0) != 0x80)
                return 0;
            i += 3;
        } else if (c >= 0xf0 && c <= 0xf4) {
            unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;

            if (i + 3 >= len || s[i + 1] < lo || s[i + 1] > hi ||
                (s[i + 2] & 0xc0) != 0x80 || (s[i + 3] & 0xc0) != 0x80)
                return 0;
            i += 4;
        } else {
            return 0;
        }
    }
    return 1;
}

size_t aipm_utf8_cut(const char *s, size_t len, size_t max)
{
    size_t n = len < max ? len : max, back = 0;

    if (n == len)
        return n;
    /* s[n] is the first byte dropped: while it continues a character,
     * that character would be split, so drop its first bytes too. */
    while (back < 3 && n > back && ((unsigned char)s[n - back] & 0xc0) == 0x80)
        back++;
    if (((unsigned char)s[n - back] & 0xc0) == 0x80)
        return n; /* not UTF-8 at all: a plain byte cut is as good */
    return n - back;
}

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

int aipm_decimal_valid(const char *s)
{
    int digits = 0;

    if (*s == '+' || *s == '-')
        s++;
    for (; is_digit(*s); s++)
        digits++;
    if (*s == '.')
        for (s++; is_digit(*s); s++)
            digits++;
    if (digits == 0)
        return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!is_digit(*s))
            return 0;
        while (is_digit(*s))
            s++;
    }
    return *s == '\0';
}

int aipm_decimal_parse(const char *s, double *out)
{
    char *end;
    double d;

    if (!aipm_decimal_valid(s))
        return AIPM_EINVALID;
    d = strtod(s, &end);
    /* errno is not looked at: ERANGE also flags underflow (a tiny or
     * subnormal result, rounded toward 0), which is a fine number; an
     * overflow is +-HUGE_VAL, caught as not finite. */
    if (*end != '\0' || !isfinite(d))
        return AIPM_EINVALID;
    *out = d;
    return AIPM_OK;
}
