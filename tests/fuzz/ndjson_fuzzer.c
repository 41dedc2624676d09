/* ndjson_fuzzer.c - libFuzzer target for the line reader and the NDJSON
 * event parser.
 *
 * The input is a file as `aipm ingest` would read it: plain text, or gzip
 * when it starts with the gzip magic (the reader decides, not us). Each
 * line is copied to a buffer of exactly its length before parsing, so
 * AddressSanitizer catches a read one byte past the line, which the
 * reader's 256 KiB chunk would otherwise hide. Every pointer the parser
 * hands back is then read in full: strings up to their NUL, the payload
 * as bytes that must lie inside the line, property keys and types. The
 * max_line of 4096 makes the reader's over-long-line path reachable from
 * inputs of libFuzzer's usual sizes.
 *
 * The same entry point is linked with replay_main.c into replay_ndjson_fuzzer
 * so ctest replays the corpus in tests/fuzz/corpus/ndjson_fuzzer/.
 */
#include "ingest/ingest_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINE 4096
/* A 64 KiB gzip input can inflate to ~64 MB; stop early so one input
 * cannot stall the fuzzer. The reader's bounded memory is not at stake. */
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

static void check_event(const aipm_event *ev, const char *line, size_t len)
{
    int i;

    touch(ev->type);
    touch(ev->message_id);
    touch(ev->user_id);
    touch(ev->anonymous_id);
    touch(ev->event);
    touch(ev->group_id);
    touch(ev->timestamp);
    /* The contract: a valid event has a type, a messageId, a timestamp and
     * a user; the payload is a sub-range of the line. */
    if (ev->type == NULL || ev->message_id == NULL || ev->timestamp == NULL ||
        (ev->user_id == NULL && ev->anonymous_id == NULL))
        abort();
    if (ev->payload != NULL) {
        if (ev->payload < line || ev->payload_len > len ||
            (size_t)(ev->payload - line) > len - ev->payload_len ||
            ev->payload_len < 2 || ev->payload[0] != '{' ||
            ev->payload[ev->payload_len - 1] != '}')
            abort();
        touch_bytes(ev->payload, ev->payload_len);
    }
    if (ev->n_props < 0 || ev->n_props > AIPM_MAX_PROPS)
        abort();
    for (i = 0; i < ev->n_props; i++) {
        touch(ev->props[i].key);
        if ((int)ev->props[i].type < 0 || ev->props[i].type >= AIPM_J_COUNT)
            abort();
        touch(aipm_jtype_names[ev->props[i].type]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aipm_reader *reader = NULL;
    aipm_event_parser *parser = NULL;
    aipm_event *ev = NULL;
    aipm_line line;
    aipm_error err = {0};
    uint64_t decoded = 0, last_lineno = 0;
    char hex[65];
    int rc;

    if (aipm_reader__open_mem(&reader, data, size, MAX_LINE, &err) != 0)
        goto done;
    if (aipm_event_parser__new(&parser, &err) != 0)
        goto done;
    if ((ev = malloc(sizeof(*ev))) == NULL)
        goto done;
    while ((rc = aipm_reader__next(reader, &line, &err)) == 1) {
        const char *reason, *detail = NULL;
        char *copy;

        if (line.lineno != last_lineno + 1 || line.full_len < line.len ||
            (!line.too_long && line.len > MAX_LINE) ||
            (line.too_long && line.full_len <= MAX_LINE))
            abort();
        last_lineno = line.lineno;
        decoded += line.full_len + 1;
        if (decoded > MAX_DECODED)
            break;
        /* An exact-size copy (no NUL after it) so over-reads are caught. */
        if ((copy = malloc(line.len ? line.len : 1)) == NULL)
            break;
        if (line.len)
            memcpy(copy, line.ptr, line.len);
        if (aipm_utf8_valid(copy, line.len) && !line.too_long) {
            memset(ev, 0xa5, sizeof(*ev));
            reason = aipm_event_parser__parse(parser, copy, line.len, INT64_MIN,
                                              INT64_MAX, ev, &detail);
            if (reason == NULL)
                check_event(ev, copy, line.len);
            else
                touch(reason);
            if (detail == NULL)
                abort();
            touch(detail);
        }
        free(copy);
    }
    if (rc < 0)
        touch(err.msg);
    aipm_reader__sha256(reader, hex);
    touch(hex);
    sink += (size_t)aipm_reader__raw_read(reader) +
            (size_t)aipm_reader__raw_size(reader) +
            (size_t)aipm_reader__is_gzip(reader);
done:
    free(ev);
    aipm_event_parser__free(parser);
    aipm_reader__free(reader);
    return 0;
}
