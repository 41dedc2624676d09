/* series.c - a `period,adopters` CSV file, read strictly.
 *
 * The header must be `period,adopters`; every other non-empty line is
 * LABEL,NUMBER: a label of 1 to 64 bytes of valid UTF-8 without quotes or
 * commas, and a finite number >= 0 (strtod, the whole field). CR LF line
 * ends and spaces around fields are accepted. At most 1,000,000 rows. Any
 * other line is refused with its line number: a series is small, and a
 * silently skipped row would shift every period after it.
 */
#include "aipm/forecast.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 1000000
#define MAX_LABEL 64

static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
}

void aipm_series_free(aipm_series *s)
{
    int i;

    for (i = 0; s->labels && i < s->n; i++)
        free(s->labels[i]);
    free(s->labels);
    free(s->values);
    memset(s, 0, sizeof(*s));
}

static int add_row(aipm_series *out, size_t *cap, const char *label,
                   size_t label_len, double value)
{
    char *l;

    if ((size_t)out->n == *cap) {
        size_t c = *cap, c2 = c;

        if (aipm_grow(&out->labels, &c, (size_t)out->n + 1,
                      sizeof(*out->labels)) != 0 ||
            aipm_grow(&out->values, &c2, (size_t)out->n + 1,
                      sizeof(*out->values)) != 0)
            return AIPM_ENOMEM;
        *cap = c < c2 ? c : c2;
    }
    if ((l = malloc(label_len + 1)) == NULL)
        return AIPM_ENOMEM;
    memcpy(l, label, label_len);
    l[label_len] = '\0';
    out->labels[out->n] = l;
    out->values[out->n++] = value;
    return AIPM_OK;
}

int aipm_series_parse(aipm_series *out, const char *text, size_t len,
                      aipm_error *err)
{
    const char *p = text, *end = text + len;
    size_t cap = 0;
    int line = 0, header = 0, rc;

    memset(out, 0, sizeof(*out));
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end, *s = p, *comma, *ls, *le, *vs, *ve;
        char num[64], *stop;
        double v;

        line++;
        p = nl ? nl + 1 : end;
        trim(&s, &e);
        if (s == e)
            continue;
        if (!aipm_utf8_valid(s, (size_t)(e - s)) ||
            memchr(s, '\0', (size_t)(e - s))) {
            rc = aipm_error_set(err, AIPM_EINVALID, "line %d: not UTF-8 text",
                                line);
            goto fail;
        }
        comma = memchr(s, ',', (size_t)(e - s));
        if (comma == NULL || memchr(comma + 1, ',', (size_t)(e - comma - 1)) ||
            memchr(s, '"', (size_t)(e - s))) {
            rc = aipm_error_set(err, AIPM_EINVALID,
                                "line %d: expected two fields, "
                                "period,adopters",
                                line);
            goto fail;
        }
        ls = s;
        le = comma;
        vs = comma + 1;
        ve = e;
        trim(&ls, &le);
        trim(&vs, &ve);
        if (!header) {
            if (le - ls != 6 || strncmp(ls, "period", 6) != 0 || ve - vs != 8 ||
                strncmp(vs, "adopters", 8) != 0) {
                rc = aipm_error_set(err, AIPM_EINVALID,
                                    "line %d: the header must be "
                                    "period,adopters",
                                    line);
                goto fail;
            }
            header = 1;
            continue;
        }
        if (le == ls || le - ls > MAX_LABEL) {
            rc = aipm_error_set(err, AIPM_EINVALID,
                                "line %d: the period label must have 1 to "
                                "%d bytes",
                                line, MAX_LABEL);
            goto fail;
        }
        if (ve == vs || (size_t)(ve - vs) >= sizeof(num)) {
            rc =
                aipm_error_set(err, AIPM_EINVALID,
                               "line %d: adopters must be a number >= 0", line);
            goto fail;
        }
        memcpy(num, vs, (size_t)(ve - vs));
        num[ve - vs] = '\0';
        v = strtod(num, &stop);
        if (*stop != '\0' || !isfinite(v) || v < 0) {
            rc = aipm_error_set(err, AIPM_EINVALID,
                                "line %d: adopters must be a number >= 0, "
                                "got '%s'",
                                line, num);
            goto fail;
        }
        if (out->n == MAX_ROWS) {
            rc = aipm_error_set(err, AIPM_EINVALID, "more than %d periods",
                                MAX_ROWS);
            goto fail;
        }
        if (add_row(out, &cap, ls, (size_t)(le - ls), v) != AIPM_OK) {
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto fail;
        }
    }
    if (!header) {
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "empty series: expected the header "
                            "period,adopters");
        goto fail;
    }
    return AIPM_OK;
fail:
    aipm_series_free(out);
    return rc;
}
