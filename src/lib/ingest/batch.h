/* batch.h - state shared by the pieces of one ingest batch (private).
 *
 * ingest.c owns the batch: it opens the reader, the transaction and the
 * batch row, and at the end computes the gates and writes the report. The
 * dataset-specific loops (events.c, rows.c) feed rows through the helpers
 * below, which keep every counter of the report in one place.
 */
#ifndef AIPM_INGEST_BATCH_H
#define AIPM_INGEST_BATCH_H

#include "aipm/ingest.h"
#include "ingest/ingest_int.h"

enum reason {
    R_MALFORMED_JSON,
    R_MALFORMED_CSV,
    R_MISSING_FIELD,
    R_BAD_TIMESTAMP,
    R_TYPE_MISMATCH,
    R_UNSUPPORTED_TYPE,
    R_BAD_VALUE,
    R_INVALID_UTF8,
    R_LINE_TOO_LONG,
    R_COUNT
};

extern const char *const aipm_ingest__reasons[R_COUNT];

/* Learned type of one (event, property): a mask of aipm_jtype bits. */
typedef struct prop_stat {
    int event_idx;    /* index in batch.events */
    unsigned allowed; /* bit per aipm_jtype seen (null excluded) */
    int version;
    int dirty;         /* new or changed in this batch: persist */
    int64_t nonnull;   /* accepted rows where it was present and not null */
    uint64_t seen_row; /* parser: the last row that had it (dedupe keys) */
} prop_stat;

#define MAX_EVENT_NAMES 20000
#define MAX_PROPS 50000
#define MAX_DAYS 100000

typedef struct batch {
    aipm_store *st;
    const aipm_ingest_opts *opts;
    aipm_data_policy policy;
    const char *dataset;
    const char *path;
    char source[4096]; /* absolute path */
    aipm_reader *reader;
    int64_t id;
    char run_id[37];
    int64_t started_ms, now_ms;
    int64_t clock_start_ms; /* monotonic, for elapsed_s */

    int64_t read, accepted, duplicates, quarantined;
    int64_t reasons[R_COUNT];
    int64_t not_stored[R_COUNT]; /* counted, raw text not stored (cap) */
    aipm_sha256 content;         /* over accepted row keys */
    int64_t max_ts, min_ts;
    int have_ts;
    uint64_t lines_since_progress;

    aipm_strmap days; /* 8-byte day number -> index */
    int64_t *day_rows;

    /* events */
    aipm_strmap events; /* schema namespace (event name, $identify, ...) */
    int64_t *event_rows;
    aipm_strmap props; /* "ns\x1fproperty" */
    prop_stat *prop_stats;
    int prop_idx[AIPM_MAX_PROPS]; /* the current row's property indexes */
    uint64_t rows_parsed;         /* parser: rows through check_schema */
    int64_t untracked_props;
    void *schema_changes; /* json_t array */

    /* CSV datasets */
    const aipm_dataset_def *def;
    int64_t col_nonnull[64];
    void *ignored_columns; /* json_t array */
    uint64_t *key_table;   /* keys met in this file (rows.c, track_key) */
    size_t key_slots, n_file_keys;
    int format_sniffed;     /* the format came from the first byte */
    int64_t key_conflicts;  /* rows whose key came earlier, other content */
    void *conflict_samples; /* json_t array: the first few such keys */

    aipm_buf scratch;
    struct aipm_pipe *pipe; /* events: the writer thread (pipeline.c) */
    uint64_t audit_size;    /* the audit log after this batch's entry */
    uint8_t audit_head[32];
} batch;

/* Count a read row, reporting progress now and then. */
void aipm_ingest__row_read(batch *b);
/* Quarantine one row: always counted; its raw text (first AIPM_RAW_KEEP
 * bytes) is stored while its reason has fewer than the policy's
 * max_quarantine_samples rows stored in this batch. */
int aipm_ingest__quarantine(batch *b, uint64_t lineno, enum reason why,
                            const char *detail, const char *raw, size_t raw_len,
                            aipm_error *err);
/* Record an accepted row's key and time for the report. */
void aipm_ingest__accepted(batch *b, const char *key, size_t key_len,
                           int have_ts, int64_t ts_ms);
/* Reason code for a name returned by a parser. */
enum reason aipm_ingest__reason(const char *code);

/* Open the CSV splitter on b's reader and read the header row into *rec;
 * an empty file or an unreadable header is an error (rows.c). */
int aipm_ingest__csv_header(batch *b, aipm_csv **csv, aipm_csv_record *rec,
                            aipm_error *err);

/* The dataset (other than not_this) whose contract the column names fit:
 * "events" for Segment fields, else a CSV dataset all of whose required
 * columns are there; NULL when none fits. For the wrong-file hints. */
const char *aipm_ingest__guess_dataset(const char *const *names, int n,
                                       const char *not_this);

/* The dataset loops. */
int aipm_ingest__events(batch *b, int csv, aipm_error *err);
int aipm_ingest__rows(batch *b, int csv, aipm_error *err);
/* Learned schema in and out (events.c). */
int aipm_ingest__schema_load(batch *b, aipm_error *err);
int aipm_ingest__schema_save(batch *b, aipm_error *err);

#endif
