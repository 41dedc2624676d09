/* ingest_int.h - the ingest module's internal pieces: the streaming line
 * reader, the NDJSON event parser and the CSV record splitter.
 *
 * Each piece is usable on its own (the fuzz targets drive them directly)
 * and none of them touches the store; ingest.c strings them together.
 */
#ifndef AIPM_INGEST_INT_H
#define AIPM_INGEST_INT_H

#include "aipm/core.h"

#define AIPM_DEFAULT_MAX_LINE ((size_t)1 << 20) /* 1 MiB */
#define AIPM_RAW_KEEP 4096 /* bytes of a quarantined row's raw text kept */

/* ---- reader: file (plain or gzip, by magic bytes) -> lines ---- */

typedef struct aipm_reader aipm_reader;

typedef struct aipm_line {
    const char *ptr;   /* borrowed until the next call; no '\n' or '\r\n' */
    size_t len;        /* bytes at ptr (a prefix when too_long) */
    uint64_t full_len; /* the line's real length */
    uint64_t lineno;   /* 1-based */
    int too_long;      /* longer than max_line: ptr holds its first bytes */
} aipm_line;

/* Open path for reading. Errors (AIPM_ENOTFOUND, AIPM_EINVALID for a
 * directory, AIPM_EIO) carry a one-line message naming the file. */
int aipm_reader__open_file(aipm_reader **out, const char *path, size_t max_line,
                           aipm_error *err);
/* Read from memory (fuzzing, tests); data must outlive the reader. */
int aipm_reader__open_mem(aipm_reader **out, const void *data, size_t len,
                          size_t max_line, aipm_error *err);
/* Next line: 1 with *line filled, 0 at the end, or a negative error (a
 * truncated or corrupt gzip stream, a read error). */
int aipm_reader__next(aipm_reader *r, aipm_line *line, aipm_error *err);
/* Before the first _next: the first byte that is not white space in the
 * first decoded chunk (*byte = -1 when there is none), without consuming
 * anything; how standard input tells NDJSON ('{') from CSV. Returns
 * AIPM_OK or a read error. */
int aipm_reader__peek(aipm_reader *r, int *byte, aipm_error *err);
/* SHA-256 (hex) of the raw bytes read so far: the source file's hash once
 * the reader reached its end. */
void aipm_reader__sha256(aipm_reader *r, char hex[65]);
uint64_t aipm_reader__raw_read(const aipm_reader *r);
uint64_t aipm_reader__raw_size(const aipm_reader *r);
int aipm_reader__is_gzip(const aipm_reader *r);
void aipm_reader__free(aipm_reader *r);

/* ---- NDJSON Segment event parser ---- */

typedef enum aipm_jtype {
    AIPM_J_NULL = 0,
    AIPM_J_BOOLEAN,
    AIPM_J_NUMBER,
    AIPM_J_STRING,
    AIPM_J_OBJECT,
    AIPM_J_ARRAY,
    AIPM_J_COUNT
} aipm_jtype;

extern const char *const aipm_jtype_names[AIPM_J_COUNT];

typedef struct aipm_prop {
    const char *key;
    aipm_jtype type;
} aipm_prop;

#define AIPM_MAX_PROPS 256

typedef struct aipm_event {
    const char *type, *message_id, *user_id, *anonymous_id, *event, *group_id,
        *timestamp;
    int64_t ts_ms;
    const char *payload; /* properties/traits object text, in the line */
    size_t payload_len;
    aipm_prop props[AIPM_MAX_PROPS];
    int n_props;
    int props_truncated; /* more than AIPM_MAX_PROPS properties */
} aipm_event;

typedef struct aipm_event_parser aipm_event_parser;

int aipm_event_parser__new(aipm_event_parser **out, aipm_error *err);
void aipm_event_parser__free(aipm_event_parser *p);

/* Parse and validate one line against the event contract, given the time
 * window [min_ms, max_ms]. Returns NULL and fills *ev (pointers valid until
 * the next call) when the line is a valid event, else the quarantine
 * reason code; *detail then says what is wrong (static or parser-owned). */
const char *aipm_event_parser__parse(aipm_event_parser *p, const char *line,
                                     size_t len, int64_t min_ms, int64_t max_ms,
                                     aipm_event *ev, const char **detail);

/* 1 when s[0..n) holds only spaces, tabs and carriage returns. */
int aipm_ingest__blank(const char *s, size_t n);

/* ---- CSV record splitter (libcsv, strict quoting) ---- */

typedef struct aipm_csv aipm_csv;

typedef struct aipm_csv_record {
    char **fields; /* NUL-terminated; borrowed until the next call */
    int n_fields;
    const char *raw; /* the record's raw text, lines joined with '\n' */
    size_t raw_len;
    uint64_t lineno;   /* first line of the record */
    const char *error; /* NULL, or "malformed_csv" / "invalid_utf8" /
                          "line_too_long" / "bad_value" (a NUL byte) */
    const char *detail;
} aipm_csv_record;

/* Split the reader's lines into CSV records. A record may span lines
 * (quoted newlines), at most max_record bytes. */
int aipm_csv__new(aipm_csv **out, aipm_reader *r, size_t max_record,
                  aipm_error *err);
/* Tell the splitter the header's field count: a record spanning lines
 * that closes with another count is then taken for a stray quote, and its
 * first line alone is the bad record (see csv.c). 0: unknown. */
void aipm_csv__expect_fields(aipm_csv *c, int n_fields);
/* 1 with *rec, 0 at the end, negative on a reader error. A bad record
 * (rec->error set) is either one physical line (a stray quote, a line too
 * long) or a whole record that parsed but holds bytes that are not UTF-8
 * or a NUL; the lines a failed multi-line record swallowed come back as
 * records of their own. */
int aipm_csv__next(aipm_csv *c, aipm_csv_record *rec, aipm_error *err);
void aipm_csv__free(aipm_csv *c);

#endif
