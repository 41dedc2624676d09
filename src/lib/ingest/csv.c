/* csv.c - split a line stream into CSV records with libcsv.
 *
 * libcsv is a push parser: each line (plus its newline) is fed to it, and a
 * record ends when it reports an end of row, which can only happen at the
 * newline we fed, so one line yields at most one record while quoted fields
 * may carry a record across lines. Strict mode turns stray quotes into
 * errors. A bad record is returned with its reason and raw text; the parser
 * is then reset, so one bad row never poisons the rows after it.
 */
#include "ingest/ingest_int.h"

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 1024

struct aipm_csv {
    aipm_reader *reader;
    struct csv_parser parser;
    int parser_ready;
    aipm_buf raw;    /* raw text of the record so far */
    aipm_buf values; /* field values, NUL-separated */
    aipm_buf kept;   /* a bad record's raw text, kept across the reset */
    size_t offs[MAX_FIELDS];
    char *fields[MAX_FIELDS];
    int n_fields;
    int too_many;
    int row_done;
    uint64_t first_line;
    size_t max_record;
};

static void on_field(void *data, size_t len, void *ctx)
{
    aipm_csv *c = ctx;

    if (c->n_fields == MAX_FIELDS) {
        c->too_many = 1;
        return;
    }
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
    aipm_buf_reset(&c->raw);
    aipm_buf_reset(&c->values);
    c->n_fields = 0;
    c->too_many = 0;
    c->row_done = 0;
    c->first_line = 0;
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
    aipm_buf_init(&c->raw, c->max_record + 2);
    aipm_buf_init(&c->values, c->max_record + 2 * MAX_FIELDS + 2);
    aipm_buf_init(&c->kept, c->max_record + 2);
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
    aipm_buf_free(&c->raw);
    aipm_buf_free(&c->values);
    aipm_buf_free(&c->kept);
    free(c);
}

int aipm_ingest__blank(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

/* Fill rec as a bad record from what has accumulated, then reset. The raw
 * text is copied to `kept` so it survives the parser reset. */
static void bad_record(aipm_csv *c, aipm_csv_record *rec, const char *reason,
                       const char *detail)
{
    aipm_buf_reset(&c->kept);
    aipm_buf_put(&c->kept, c->raw.ptr ? c->raw.ptr : "", c->raw.len);
    rec->lineno = c->first_line;
    parser_reset(c);
    rec->fields = NULL;
    rec->n_fields = 0;
    rec->raw = c->kept.ptr ? c->kept.ptr : "";
    rec->raw_len = c->kept.len;
    rec->error = reason;
    rec->detail = detail;
}

int aipm_csv__next(aipm_csv *c, aipm_csv_record *rec, aipm_error *err)
{
    aipm_line line;
    int rc, i;

    /* The previous record's buffers are ours to clear now. */
    if (c->row_done || c->first_line == 0) {
        aipm_buf_reset(&c->raw);
        aipm_buf_reset(&c->values);
        c->n_fields = 0;
        c->too_many = 0;
        c->row_done = 0;
    }
    for (;;) {
        size_t fed;

        rc = aipm_reader__next(c->reader, &line, err);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            if (c->first_line == 0)
                return 0;
            /* End of input inside a record: an unterminated quote, or a
             * last line that libcsv has not closed yet. */
            if (csv_fini(&c->parser, on_field, on_row, c) != 0 ||
                !c->row_done) {
                bad_record(c, rec, "malformed_csv",
                           "unterminated quoted field at the end of input");
                c->first_line = 0;
                return 1;
            }
            break;
        }
        if (c->first_line == 0 && !line.too_long &&
            aipm_ingest__blank(line.ptr, line.len))
            continue;
        if (c->first_line == 0)
            c->first_line = line.lineno;
        if (c->raw.len)
            aipm_buf_put(&c->raw, "\n", 1);
        if (line.too_long || aipm_buf_put(&c->raw, line.ptr, line.len) != 0) {
            aipm_buf_put(&c->raw, line.ptr,
                         line.len < AIPM_RAW_KEEP ? line.len : AIPM_RAW_KEEP);
            bad_record(c, rec, "line_too_long",
                       "record longer than the maximum line length");
            c->first_line = 0;
            return 1;
        }
        if (!aipm_utf8_valid(line.ptr, line.len)) {
            bad_record(c, rec, "invalid_utf8", "bytes that are not UTF-8");
            c->first_line = 0;
            return 1;
        }
        fed = csv_parse(&c->parser, line.ptr, line.len, on_field, on_row, c);
        if (fed == line.len)
            fed += csv_parse(&c->parser, "\n", 1, on_field, on_row, c) - 1;
        if (fed != line.len || c->too_many) {
            bad_record(c, rec, "malformed_csv",
                       c->too_many ? "too many fields"
                                   : "bad quoting (a stray or unclosed quote)");
            c->first_line = 0;
            return 1;
        }
        if (c->row_done)
            break;
    }
    for (i = 0; i < c->n_fields; i++)
        c->fields[i] = c->values.ptr + c->offs[i];
    rec->fields = c->fields;
    rec->n_fields = c->n_fields;
    rec->raw = c->raw.ptr ? c->raw.ptr : "";
    rec->raw_len = c->raw.len;
    rec->lineno = c->first_line;
    rec->error = NULL;
    rec->detail = NULL;
    c->first_line = 0;
    c->row_done = 1;
    return 1;
}
