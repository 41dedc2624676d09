/* csv_fuzzer.c - libFuzzer target for the line reader and the CSV record
 * splitter.
 *
 * The input is a CSV file, plain or gzip (the reader decides by the magic
 * bytes). Every record the splitter returns is read in full: each field up
 * to its NUL, the raw text byte by byte, the error reason and detail, so
 * AddressSanitizer sees any pointer into a freed or moved buffer. The
 * limits are small (4 KiB lines, 6000-byte records) so the over-long-line
 * and over-long-record paths are reachable from small inputs; a quoted
 * record that spans two long lines takes the second one.
 *
 * The first good record's field count is given to the splitter as the
 * header's, so the re-synchronisation after a multi-line record with the
 * wrong count is reached too; the line numbers must still only grow.
 *
 * The same entry point is linked with replay_main.c into replay_csv_fuzzer
 * so ctest replays the corpus in tests/fuzz/corpus/csv_fuzzer/.
 */
#include "ingest/ingest_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINE 4096
#define MAX_RECORD 6000
#define MAX_FIELDS 1024 /* csv.c's limit; more is a malformed_csv record */
/* Stop a gzip input that inflates to megabytes of records early. */
#define MAX_DECODED ((uint64_t)8 << 20)

static volatile size_t sink;

static void touch(const char *s)
{
    if (s != NULL)
        sink += strlen(s);
}

static void touch_bytes(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        sink += (unsigned char)p[i];
}

static void check_record(const aipm_csv_record *rec, uint64_t prev_lineno)
{
    int i;

    if (rec->lineno == 0 || rec->lineno <= prev_lineno || rec->raw == NULL)
        abort();
    /* raw is kept in a buffer capped at the record limit (+2 for the
     * joining newline and slack, as csv.c sizes it). */
    if (rec->raw_len > MAX_RECORD + 2)
        abort();
    touch_bytes(rec->raw, rec->raw_len);
    if (rec->error != NULL) {
        if (rec->n_fields != 0 || rec->detail == NULL)
            abort();
        touch(rec->error);
        touch(rec->detail);
        return;
    }
    if (rec->n_fields < 1 || rec->n_fields > MAX_FIELDS || rec->fields == NULL)
        abort();
    for (i = 0; i < rec->n_fields; i++) {
        if (rec->fields[i] == NULL)
            abort();
        touch(rec->fields[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aipm_reader *reader = NULL;
    aipm_csv *csv = NULL;
    aipm_csv_record rec;
    aipm_error err = {0};
    uint64_t decoded = 0, prev_lineno = 0;
    int rc;

    if (aipm_reader__open_mem(&reader, data, size, MAX_LINE, &err) != 0)
        goto done;
    if (aipm_csv__new(&csv, reader, MAX_RECORD, &err) != 0)
        goto done;
    while ((rc = aipm_csv__next(csv, &rec, &err)) == 1) {
        check_record(&rec, prev_lineno);
        if (prev_lineno == 0 && rec.error == NULL)
            aipm_csv__expect_fields(csv, rec.n_fields);
        prev_lineno = rec.lineno;
        decoded += rec.raw_len + 1;
        if (decoded > MAX_DECODED)
            break;
    }
    if (rc < 0)
        touch(err.msg);
done:
    aipm_csv__free(csv);
    aipm_reader__free(reader);
    return 0;
}
