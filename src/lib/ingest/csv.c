/* csv.c - split a line stream into CSV records with libcsv.
 *
 * libcsv is a push parser: each physical line (plus its newline) is fed to
 * it, and a record ends when it reports an end of row, which can only happen
 * at the newline we fed, so one line yields at most one record while quoted
 * fields may carry a record across lines. Strict mode turns stray quotes into
 * errors.
 *
 * Re-synchronisation. The lines of the record being parsed are kept in a
 * window (`win`, each line followed by '\n', so a record's raw text is one
 * contiguous slice) with a table of where each line starts. When a record
 * that spans several lines fails -- its quote is still open at the end of
 * the input or past the record limit, a later line breaks strict quoting,
 * or it closes with a field count other than the header's -- the likely
 * cause is one stray quote on its FIRST line. Only that line is returned as
 * a bad record, and parsing restarts at the next line: the lines the failed
 * record had swallowed are fed again from the window. So one stray quote
 * costs one line, not every row up to the limit. A record that closes
 * properly, however many lines it spans, is one record -- unless its inner
 * lines (every line after the first but the closing one) each parse alone
 * as a complete record with the header's field count. Then the opening
 * quote is taken as stray, and the first line is returned bad and the rest
 * read again as above: `1,a,b,"oops` / `2,a,b,x` / `3,a,b,y"` would
 * otherwise be one valid record swallowing row 2. A legitimate multi-line
 * text rarely has a line that is itself a full record of the header's
 * width; one that does is split, and costs its first and last lines.
 *
 * Cost: a record that fails after k lines is re-read from its second line.
 * Those lines held no unescaped quote of their own (each would have closed
 * or broken the open field), so on the second pass each is a record by
 * itself: every line is parsed at most about twice. The window is bounded by
 * two records' worth of bytes (the current record plus the line that took
 * it past the limit).
 *
 * A record with bytes that are not UTF-8, or with a NUL byte in a field
 * (which would cut the C string short), is parsed to its end and then
 * returned as a bad record (invalid_utf8, bad_value), so it costs one row.
 */
#include "ingest/ingest_int.h"

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 1024

typedef struct win_line {
    size_t off, len; /* bytes in win (without the '\n' that follows) */
    uint64_t lineno;
    int too_long; /* the reader cut it: only its first bytes are here */
} win_line;

struct aipm_csv {
    aipm_reader *reader;
    struct csv_parser parser;
    int parser_ready;
    aipm_buf win;    /* lines[first..n_lines), each + '\n' */
    win_line *lines; /* the window's line table */
    size_t n_lines, cap_lines;
    size_t first;    /* the current record's first line */
    size_t next;     /* the next line to feed */
    int drop;        /* the last record is returned: drop its lines */
    int eof;         /* the reader is done */
    aipm_buf values; /* field values, NUL-separated */
    size_t offs[MAX_FIELDS];
    char *fields[MAX_FIELDS];
    int n_fields;
    int too_many;
    int has_nul;
    int bad_utf8;
    int row_done;
    int expected_fields; /* 0: unknown */
    size_t rec_bytes;    /* raw bytes of the record so far */
    size_t max_record;
    char detail[256];
};

static void on_field(void *data, size_t len, void *ctx)
{
    aipm_csv *c = ctx;

    if (c->n_fields == MAX_FIELDS) {
        c->too_many = 1;
        return;
    }
    if (data && memchr(data, '\0', len) != NULL)
        c->has_nul = 1;
    c->offs[c->n_fields++] = c->values.len;
    if (aipm_buf_put(&c->values, data ? data : "", len) != 0 ||
        aipm_buf_put(&c->values, "", 1) != 0)
        c->too_many = 1;
}

static void on_row(int ch, void *ctx)
{
    (void)ch;
    ((aipm_csv *)ctx)->row_done = 1;
}

/* Only '\n' ends a row. libcsv also ends one at a bare '\r', which would
 * break "one line, at most one record"; the reader already strips the
 * '\r' of a CRLF, so a '\r' left inside a line is data. */
static int is_lf(unsigned char ch)
{
    return ch == '\n';
}

static int parser_reset(aipm_csv *c)
{
    if (c->parser_ready)
        csv_free(&c->parser);
    c->parser_ready = 0;
    if (csv_init(&c->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL))
        return AIPM_ENOMEM;
    c->parser_ready = 1;
    csv_set_term_func(&c->parser, is_lf);
    return AIPM_OK;
}

int aipm_csv__new(aipm_csv **out, aipm_reader *r, size_t max_record,
                  aipm_error *err)
{
    aipm_csv *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    c->reader = r;
    c->max_record = max_record ? max_record : AIPM_DEFAULT_MAX_LINE;
    /* The current record (at most max_record) plus the line that took it
     * past the limit (at most max_record, or AIPM_RAW_KEEP when cut). */
    aipm_buf_init(&c->win, 2 * c->max_record + AIPM_RAW_KEEP + 16);
    aipm_buf_init(&c->values, c->max_record + 2 * MAX_FIELDS + 2);
    if (parser_reset(c) != 0) {
        aipm_csv__free(c);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    *out = c;
    return AIPM_OK;
}

void aipm_csv__free(aipm_csv *c)
{
    if (c == NULL)
        return;
    if (c->parser_ready)
        csv_free(&c->parser);
    aipm_buf_free(&c->win);
    aipm_buf_free(&c->values);
    free(c->lines);
    free(c);
}

void aipm_csv__expect_fields(aipm_csv *c, int n_fields)
{
    c->expected_fields = n_fields;
}

int aipm_ingest__blank(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

/* Forget the window's lines before `first`; empty it when nothing is left. */
static void window_drop(aipm_csv *c)
{
    if (c->first >= c->n_lines) {
        aipm_buf_reset(&c->win);
        c->n_lines = c->first = c->next = 0;
    }
}

/* Append a line read from the reader to the window, moving the current
 * record's lines to the front first. */
static int window_add(aipm_csv *c, const aipm_line *line, aipm_error *err)
{
    win_line *l;

    if (c->first > 0) {
        size_t base = c->lines[c->first].off, i;

        memmove(c->win.ptr, c->win.ptr + base, c->win.len - base);
        c->win.len -= base;
        for (i = c->first; i < c->n_lines; i++) {
            c->lines[i - c->first] = c->lines[i];
            c->lines[i - c->first].off -= base;
        }
        c->n_lines -= c->first;
        c->next -= c->first;
        c->first = 0;
    }
    if (aipm_grow(&c->lines, &c->cap_lines, c->n_lines + 1,
                  sizeof(*c->lines)) != 0)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    l = &c->lines[c->n_lines];
    l->off = c->win.len;
    l->len = line->len;
    l->lineno = line->lineno;
    l->too_long = line->too_long || line->len > c->max_record;
    if (l->too_long) /* kept whole characters only */
        l->len = aipm_utf8_cut(line->ptr, l->len, AIPM_RAW_KEEP);
    if (aipm_buf_put(&c->win, line->ptr, l->len) != 0 ||
        aipm_buf_put(&c->win, "\n", 1) != 0)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    c->n_lines++;
    return AIPM_OK;
}

static void record_clear(aipm_csv *c)
{
    aipm_buf_reset(&c->values);
    c->n_fields = 0;
    c->too_many = 0;
    c->has_nul = 0;
    c->bad_utf8 = 0;
    c->row_done = 0;
    c->rec_bytes = 0;
}

typedef struct probe_count {
    int fields, rows;
} probe_count;

static void probe_field(void *data, size_t len, void *ctx)
{
    (void)data;
    (void)len;
    ((probe_count *)ctx)->fields++;
}

static void probe_row(int ch, void *ctx)
{
    (void)ch;
    ((probe_count *)ctx)->rows++;
}

/* 1 when the line alone parses as one complete record of n fields. */
static int line_is_record(const char *p, size_t len, int n)
{
    struct csv_parser probe;
    probe_count count = {0, 0};
    int ok;

    if (csv_init(&probe, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL))
        return 0;
    csv_set_term_func(&probe, is_lf);
    ok = csv_parse(&probe, p, len, probe_field, probe_row, &count) == len &&
         csv_parse(&probe, "\n", 1, probe_field, probe_row, &count) == 1 &&
         count.rows == 1 && count.fields == n;
    csv_free(&probe);
    return ok;
}

/* 1 when the record [first, next) has inner lines and each of them is a
 * complete record of the expected width: its opening quote was stray. */
static int inner_lines_are_records(const aipm_csv *c)
{
    size_t i;

    if (c->expected_fields <= 0 || c->next - c->first < 3)
        return 0;
    for (i = c->first + 1; i + 1 < c->next; i++)
        if (!line_is_record(c->win.ptr + c->lines[i].off, c->lines[i].len,
                            c->expected_fields))
            return 0;
    return 1;
}

/* Return the lines [first, next) as one bad record. */
static int bad_record(aipm_csv *c, aipm_csv_record *rec, const char *reason,
                      const char *detail)
{
    const win_line *a = &c->lines[c->first], *z = &c->lines[c->next - 1];

    parser_reset(c);
    rec->fields = NULL;
    rec->n_fields = 0;
    rec->raw = c->win.ptr + a->off;
    rec->raw_len = z->off + z->len - a->off;
    rec->lineno = a->lineno;
    rec->error = reason;
    rec->detail = detail;
    c->drop = 1;
    return 1;
}

/* A record spanning lines [first, next) failed: return its first line as
 * the bad row and feed the others again. */
static int resync(aipm_csv *c, aipm_csv_record *rec, const char *why)
{
    snprintf(c->detail, sizeof(c->detail),
             "a quoted field opened on this line runs into the next lines "
             "and fails there (%s); those lines were read again as rows",
             why);
    c->next = c->first + 1;
    return bad_record(c, rec, "malformed_csv", c->detail);
}

int aipm_csv__next(aipm_csv *c, aipm_csv_record *rec, aipm_error *err)
{
    int rc, i;

    if (c->drop) {
        c->first = c->next;
        c->drop = 0;
        window_drop(c);
    }
    record_clear(c);
    for (;;) {
        const win_line *l;
        const char *p;
        size_t fed, multi;

        if (c->next == c->n_lines) {
            aipm_line line;

            rc = c->eof ? 0 : aipm_reader__next(c->reader, &line, err);
            if (rc < 0)
                return rc;
            if (rc == 0) {
                c->eof = 1;
                if (c->next == c->first)
                    return 0;
                /* End of input inside a record: an unterminated quote
                 * (every line is fed with its newline, so nothing else
                 * can leave a record open). */
                csv_fini(&c->parser, on_field, on_row, c);
                if (c->next - c->first > 1)
                    return resync(c, rec, "the input ends inside it");
                return bad_record(
                    c, rec, "malformed_csv",
                    "unterminated quoted field at the end of input");
            }
            if (c->next == c->first && !line.too_long &&
                aipm_ingest__blank(line.ptr, line.len))
                continue;
            if ((rc = window_add(c, &line, err)) != 0)
                return rc;
        } else if (c->next == c->first && !c->lines[c->next].too_long &&
                   aipm_ingest__blank(c->win.ptr + c->lines[c->next].off,
                                      c->lines[c->next].len)) {
            /* A blank line met again while re-reading. */
            c->first = ++c->next;
            window_drop(c);
            continue;
        }
        l = &c->lines[c->next++];
        p = c->win.ptr + l->off;
        multi = c->next - c->first > 1;
        if (l->too_long) {
            if (multi)
                return resync(c, rec, "a later line is over the length limit");
            return bad_record(c, rec, "line_too_long",
                              "record longer than the maximum line length");
        }
        c->rec_bytes += l->len + (multi ? 1 : 0);
        if (c->rec_bytes > c->max_record)
            return resync(c, rec, "the record passes the length limit");
        if (!c->bad_utf8 && !aipm_utf8_valid(p, l->len))
            c->bad_utf8 = 1;
        fed = csv_parse(&c->parser, p, l->len, on_field, on_row, c);
        if (fed == l->len)
            fed += csv_parse(&c->parser, "\n", 1, on_field, on_row, c) - 1;
        if (fed != l->len || c->too_many) {
            if (multi)
                return resync(c, rec,
                              c->too_many ? "too many fields"
                                          : "a later line breaks the quoting");
            if (c->bad_utf8) /* the line's first fault, as before parsing */
                return bad_record(c, rec, "invalid_utf8",
                                  "bytes that are not UTF-8");
            return bad_record(c, rec, "malformed_csv",
                              c->too_many
                                  ? "too many fields"
                                  : "bad quoting (a stray or unclosed quote)");
        }
        if (c->row_done)
            break;
    }
    if (c->next - c->first > 1 && c->expected_fields > 0 &&
        c->n_fields != c->expected_fields) {
        char why[64];

        snprintf(why, sizeof(why), "the record it starts has %d fields, not %d",
                 c->n_fields, c->expected_fields);
        return resync(c, rec, why);
    }
    if (inner_lines_are_records(c))
        return resync(c, rec, "the lines inside it are complete rows");
    if (c->bad_utf8)
        return bad_record(c, rec, "invalid_utf8", "bytes that are not UTF-8");
    if (c->has_nul)
        return bad_record(c, rec, "bad_value", "a NUL byte inside a field");
    for (i = 0; i < c->n_fields; i++)
        c->fields[i] = c->values.ptr + c->offs[i];
    rec->fields = c->fields;
    rec->n_fields = c->n_fields;
    rec->raw = c->win.ptr + c->lines[c->first].off;
    rec->raw_len = c->lines[c->next - 1].off + c->lines[c->next - 1].len -
                   c->lines[c->first].off;
    rec->lineno = c->lines[c->first].lineno;
    rec->error = NULL;
    rec->detail = NULL;
    c->drop = 1;
    return 1;
}
