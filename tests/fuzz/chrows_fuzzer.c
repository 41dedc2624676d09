/* chrows_fuzzer.c - libFuzzer target for the ClickHouse backend's reader
 * of RowBinary answers (store/ch/http.c, store/ch/store.c).
 *
 * The first byte picks a piece size (1..64) and a row shape; the rest is
 * taken as an answer's bytes. They are parsed twice: whole, and fed in
 * pieces of that size as libcurl hands them over. Rows are read as the
 * events table's rows (aipm_ch__read_event, then aipm_ch__event_row and
 * the rows digest, as `aipm data verify` reads them) or as a row of every
 * other type the backend reads (String, UInt8, UInt64, Int64, Float64).
 * A row whose batch id (or first integer) is 7 stops the walk, as a
 * callback's error does. Both parses must see the same rows, digest and
 * stop, and leave the same bytes unparsed; the sanitizers see any read
 * past the answer.
 *
 * Linked with replay_main.c into replay_chrows_fuzzer, which ctest runs
 * over tests/fuzz/corpus/chrows_fuzzer/.
 */
#include "store/ch/ch_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct walk {
    int64_t rows;
    aipm_sha256 h;
    ch_buf scratch;
} walk;

static int event_row(ch_rd *r, void *ctx)
{
    walk *w = ctx;
    aipm_event_row row;
    ch_event e;

    if (aipm_ch__read_event(r, &e) != 0)
        return CH_ROW_CUT;
    if (aipm_ch__event_row(&e, &w->scratch, &row) != 0)
        return AIPM_ENOMEM;
    aipm_store__event_digest(&w->h, &row);
    w->rows++;
    return e.batch_id == 7 ? AIPM_EINVALID : 0;
}

static int typed_row(ch_rd *r, void *ctx)
{
    walk *w = ctx;
    const char *s;
    size_t n;
    unsigned u8;
    uint64_t u;
    int64_t i;
    double d;

    if (aipm_ch__get_u8(r, &u8) || aipm_ch__get_str(r, &s, &n) ||
        aipm_ch__get_u64(r, &u) || aipm_ch__get_i64(r, &i) ||
        aipm_ch__get_f64(r, &d))
        return CH_ROW_CUT;
    aipm_sha256_update(&w->h, &u8, sizeof(u8));
    aipm_sha256_update(&w->h, s, n);
    aipm_sha256_update(&w->h, &u, sizeof(u));
    aipm_sha256_update(&w->h, &i, sizeof(i));
    aipm_sha256_update(&w->h, &d, sizeof(d));
    w->rows++;
    return u == 7 ? AIPM_EINVALID : 0;
}

/* Parse p (n bytes) in pieces of piece bytes; the digest into sha. */
static void parse(const uint8_t *p, size_t n, size_t piece, int shape, walk *w,
                  ch_rows *rs, uint8_t sha[32])
{
    size_t at;

    memset(w, 0, sizeof(*w));
    aipm_sha256_init(&w->h);
    memset(rs, 0, sizeof(*rs));
    rs->fn = shape ? typed_row : event_row;
    rs->ctx = w;
    for (at = 0; at < n; at += piece) {
        size_t k = n - at < piece ? n - at : piece;

        if (aipm_ch__rows_feed(rs, p + at, k) != 0)
            break;
    }
    aipm_sha256_final(&w->h, sha);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    walk whole, pieces;
    ch_rows a, b;
    uint8_t sa[32], sb[32];
    size_t piece;
    int shape;

    if (size == 0)
        return 0;
    piece = (size_t)(data[0] & 63) + 1;
    shape = data[0] >> 7;
    parse(data + 1, size - 1, size, shape, &whole, &a, sa);
    parse(data + 1, size - 1, piece, shape, &pieces, &b, sb);
    if (whole.rows != pieces.rows || a.stop != b.stop ||
        memcmp(sa, sb, 32) != 0)
        abort();
    /* Not stopped: the same bytes left over (a row cut short). */
    if (a.stop == 0 &&
        (a.body.n != b.body.n ||
         (a.body.n && memcmp(a.body.p, b.body.p, a.body.n) != 0)))
        abort();
    aipm_ch__buf_free(&a.body);
    aipm_ch__buf_free(&b.body);
    aipm_ch__buf_free(&whole.scratch);
    aipm_ch__buf_free(&pieces.scratch);
    return 0;
}
