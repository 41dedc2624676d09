/* test_reader.c - unit tests of ingest's reader, NDJSON parser and CSV
 * splitter (ingest_int.h).
 *
 * Inputs are built in the test (so the expected lines are known by
 * construction) or taken from tests/data, whose README and manifests were
 * written independently of the code. Hashes: python3 hashlib over the
 * files' bytes. Timestamps: python3 datetime.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <zlib.h>

#include "ingest/ingest_int.h"
#include "testutil.h"

#define KiB ((size_t)1024)
#define CHUNK (256 * KiB) /* reader.c's read size, from its header comment */

/* Read every line of r into a flat list: returns count, or the negative
 * error of the first failure (lines before it are still counted in *n). */
typedef struct line_copy {
    char *text;
    size_t len;
    uint64_t full_len, lineno;
    int too_long;
} line_copy;

static int read_all(aipm_reader *r, line_copy *out, int cap, int *n,
                    aipm_error *err)
{
    aipm_line line;
    int rc;

    *n = 0;
    while ((rc = aipm_reader__next(r, &line, err)) == 1) {
        if (*n < cap) {
            out[*n].text = malloc(line.len + 1);
            assert_non_null(out[*n].text);
            memcpy(out[*n].text, line.ptr, line.len);
            out[*n].text[line.len] = '\0';
            out[*n].len = line.len;
            out[*n].full_len = line.full_len;
            out[*n].lineno = line.lineno;
            out[*n].too_long = line.too_long;
        }
        (*n)++;
    }
    return rc;
}

static void free_lines(line_copy *l, int n)
{
    int i;

    for (i = 0; i < n; i++)
        free(l[i].text);
}

/* ---- reader ---- */

static void test_reader_lf_crlf_last(void **state)
{
    static const char in[] = "a\nbb\r\n\n\r\nccc";
    aipm_reader *r = NULL;
    aipm_error err = {0};
    line_copy l[8];
    int n = 0;

    (void)state;
    assert_int_equal(aipm_reader__open_mem(&r, in, strlen(in), 0, &err),
                     AIPM_OK);
    assert_int_equal(read_all(r, l, 8, &n, &err), 0);
    /* By construction: "a", "bb" (CR stripped), "", "" (CRLF), "ccc"
     * (the last line has no newline). */
    assert_int_equal(n, 5);
    assert_string_equal(l[0].text, "a");
    assert_string_equal(l[1].text, "bb");
    assert_int_equal(l[1].full_len, 2);
    assert_string_equal(l[2].text, "");
    assert_string_equal(l[3].text, "");
    assert_string_equal(l[4].text, "ccc");
    assert_int_equal(l[4].lineno, 5);
    assert_int_equal(l[0].lineno, 1);
    assert_int_equal(aipm_reader__is_gzip(r), 0);
    assert_int_equal(aipm_reader__raw_read(r), strlen(in));
    /* The end is sticky. */
    assert_int_equal(aipm_reader__next(r, &(aipm_line){0}, &err), 0);
    free_lines(l, n);
    aipm_reader__free(r);
}

static void test_reader_empty(void **state)
{
    aipm_reader *r = NULL;
    aipm_error err = {0};
    aipm_line line;
    char hex[65];

    (void)state;
    assert_int_equal(aipm_reader__open_mem(&r, "", 0, 0, &err), AIPM_OK);
    assert_int_equal(aipm_reader__next(r, &line, &err), 0);
    aipm_reader__sha256(r, hex);
    /* reference: python3 hashlib.sha256(b"").hexdigest() */
    assert_string_equal(
        hex,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    aipm_reader__free(r);
    aipm_reader__free(NULL);
}

static void test_reader_chunk_boundary(void **state)
{
    /* Line 1 ends 10 bytes before the 256 KiB boundary, line 2 (100 bytes)
     * straddles it, line 3 has its CR as the last byte of the second chunk
     * and its LF as the first byte of the third. */
    size_t len1 = CHUNK - 11, len2 = 100;
    size_t len3 = 2 * CHUNK - (len1 + 1) - (len2 + 1) - 1; /* then '\r' */
    size_t total = len1 + 1 + len2 + 1 + len3 + 2 + 5;
    char *buf = malloc(total), *p = buf;
    aipm_reader *r = NULL;
    aipm_error err = {0};
    aipm_line line;
    size_t i;

    (void)state;
    assert_non_null(buf);
    memset(p, 'x', len1), p += len1, *p++ = '\n';
    for (i = 0; i < len2; i++)
        *p++ = (char)('a' + i % 26);
    *p++ = '\n';
    memset(p, 'z', len3), p += len3;
    assert_int_equal((size_t)(p - buf), 2 * CHUNK - 1);
    *p++ = '\r', *p++ = '\n';
    memcpy(p, "tail\n", 5), p += 5;
    assert_int_equal((size_t)(p - buf), total);

    assert_int_equal(aipm_reader__open_mem(&r, buf, total, 0, &err), AIPM_OK);
    assert_int_equal(aipm_reader__next(r, &line, &err), 1);
    assert_int_equal(line.len, len1);
    assert_int_equal(line.ptr[0], 'x');
    assert_int_equal(line.ptr[len1 - 1], 'x');
    assert_int_equal(aipm_reader__next(r, &line, &err), 1);
    assert_int_equal(line.len, len2);
    assert_int_equal(line.full_len, len2);
    assert_false(line.too_long);
    for (i = 0; i < len2; i++)
        assert_int_equal(line.ptr[i], (char)('a' + i % 26));
    assert_int_equal(aipm_reader__next(r, &line, &err), 1);
    assert_int_equal(line.len, len3); /* the CR is stripped */
    assert_int_equal(line.full_len, len3);
    assert_int_equal(line.ptr[len3 - 1], 'z');
    assert_int_equal(line.lineno, 3);
    assert_int_equal(aipm_reader__next(r, &line, &err), 1);
    assert_int_equal(line.len, 4);
    assert_memory_equal(line.ptr, "tail", 4);
    assert_int_equal(aipm_reader__next(r, &line, &err), 0);
    aipm_reader__free(r);
    free(buf);
}

/* Regression (code review): a line of exactly max_line bytes plus CRLF is
 * within the limit wherever the chunk boundary falls. Here the 118-byte
 * line starts 60 bytes before the 256 KiB boundary, so it is assembled
 * across two chunks; with max_line 118 it must not be too long. */
static void test_reader_crlf_at_limit_across_chunks(void **state)
{
    size_t pre = CHUNK - 61, len = 118;
    size_t total = pre + 1 + len + 2;
    char *buf = malloc(total);
    aipm_reader *r = NULL;
    aipm_error err = {0};
    aipm_line line;
    int too_long = -1;
    size_t got = 0;

    (void)state;
    assert_non_null(buf);
    memset(buf, 'x', pre);
    buf[pre] = '\n';
    memset(buf + pre + 1, 'y', len);
    buf[pre + 1 + len] = '\r';
    buf[pre + 2 + len] = '\n';
    /* Line 1 is far over the limit (too long, skipped); line 2 is the
     * one under test. */
    assert_int_equal(aipm_reader__open_mem(&r, buf, total, len, &err), AIPM_OK);
    assert_int_equal(aipm_reader__next(r, &line, &err), 1); /* line 1 */
    assert_int_equal(aipm_reader__next(r, &line, &err), 1); /* line 2 */
    too_long = line.too_long;
    got = line.full_len;
    aipm_reader__free(r);
    free(buf);
    assert_int_equal(too_long, 0);
    assert_int_equal(got, len);
}

static void test_reader_max_line(void **state)
{
    /* max_line 100: a 100-byte line is fine, 101 is too long; a 5000-byte
     * line inside one chunk and a 300 KiB line across chunks are too long
     * with their full length and a prefix of at most 4096 bytes (the
     * AIPM_RAW_KEEP of ingest_int.h); the line after each is intact. */
    size_t big = 300 * KiB;
    size_t total = 101 + 102 + 5001 + big + 1 + 3;
    char *buf = malloc(total), *p = buf;
    aipm_reader *r = NULL;
    aipm_error err = {0};
    aipm_line line;
    size_t i;

    (void)state;
    assert_non_null(buf);
    memset(p, 'a', 100), p += 100, *p++ = '\n';
    memset(p, 'b', 101), p += 101, *p++ = '\n';
    for (i = 0; i < 5000; i++)
        *p++ = (char)('0' + i % 10);
    *p++ = '\n';
    for (i = 0; i < big; i++)
        *p++ = (char)('A' + i % 26);
    *p++ = '\n';
    memcpy(p, "ok\n", 3), p += 3;
    assert_int_equal((size_t)(p - buf), total);

    assert_int_equal(aipm_reader__open_mem(&r, buf, total, 100, &err), AIPM_OK);
    assert_int_equal(aipm_reader__next(r, &line, &err), 1);
    assert_false(line.too_long);
    assert_int_equal(line.len, 100);

    assert_int_equal(aipm_reader__next(r, &line, &err), 1);
    assert_true(line.too_long);
    assert_int_equal(line.full_len, 101);
    assert_true(line.len >= 1 && line.len <= 101);
    assert_int_equal(line.ptr[0], 'b');

    assert_int_equal(aipm_reader__next(r, &line, &err), 1);
    assert_true(line.too_long);
    assert_int_equal(line.full_len, 5000);
    assert_true(line.len >= 1 && line.len <= 4096);
    for (i = 0; i < line.len; i++)
        assert_int_equal(line.ptr[i], (char)('0' + i % 10));
    assert_int_equal(line.lineno, 3);

    assert_int_equal(aipm_reader__next(r, &line, &err), 1);
    assert_true(line.too_long);
    assert_int_equal(line.full_len, big);
    assert_true(line.len >= 1 && line.len <= 4096);
    for (i = 0; i < line.len; i++)
        assert_int_equal(line.ptr[i], (char)('A' + i % 26));
    assert_int_equal(line.lineno, 4);

    assert_int_equal(aipm_reader__next(r, &line, &err), 1);
    assert_false(line.too_long);
    assert_int_equal(line.len, 2);
    assert_memory_equal(line.ptr, "ok", 2);
    assert_int_equal(line.lineno, 5);
    assert_int_equal(aipm_reader__next(r, &line, &err), 0);
    aipm_reader__free(r);
    free(buf);
}

static void test_reader_too_long_last_line(void **state)
{
    /* A too-long last line without a newline spanning chunks. */
    size_t big = CHUNK + 77;
    char *buf = malloc(big);
    aipm_reader *r = NULL;
    aipm_error err = {0};
    aipm_line line;

    (void)state;
    assert_non_null(buf);
    memset(buf, 'q', big);
    assert_int_equal(aipm_reader__open_mem(&r, buf, big, 1000, &err), AIPM_OK);
    assert_int_equal(aipm_reader__next(r, &line, &err), 1);
    assert_true(line.too_long);
    assert_int_equal(line.full_len, big);
    assert_true(line.len >= 1 && line.len <= 4096);
    assert_int_equal(line.ptr[0], 'q');
    assert_int_equal(aipm_reader__next(r, &line, &err), 0);
    aipm_reader__free(r);
    free(buf);
}

/* Review finding: the 4 KiB kept of a too-long line was cut in the middle
 * of a 2-byte character. "a" then 3,000 'é' (0xc3 0xa9) is 6,001 bytes,
 * over a 5,000-byte limit; byte 4,096 (index 4095) is the 0xa9 of the
 * 2,048th 'é', so the cut backs up to 1 + 2 * 2047 = 4,095 bytes, valid
 * UTF-8. */
static void test_reader_too_long_cut_utf8(void **state)
{
    size_t n = 1 + 2 * 3000, i;
    char *buf = malloc(n + 1);
    aipm_reader *r = NULL;
    aipm_error err = {0};
    aipm_line line;

    (void)state;
    assert_non_null(buf);
    buf[0] = 'a';
    for (i = 0; i < 3000; i++) {
        buf[1 + 2 * i] = (char)0xc3;
        buf[2 + 2 * i] = (char)0xa9;
    }
    buf[n] = '\n';
    assert_int_equal(aipm_reader__open_mem(&r, buf, n + 1, 5000, &err),
                     AIPM_OK);
    assert_int_equal(aipm_reader__next(r, &line, &err), 1);
    assert_true(line.too_long);
    assert_int_equal(line.full_len, n);
    assert_int_equal(line.len, 4095);
    assert_true(aipm_utf8_valid(line.ptr, line.len));
    aipm_reader__free(r);
    free(buf);
}

static void test_reader_open_errors(void **state)
{
    aipm_reader *r = (aipm_reader *)1;
    aipm_error err = {0};
    char path[1024];

    (void)state;
    tu_data(path, sizeof(path), "no-such-file.ndjson");
    assert_int_equal(aipm_reader__open_file(&r, path, 0, &err), AIPM_ENOTFOUND);
    assert_null(r);
    assert_non_null(strstr(err.msg, "no-such-file.ndjson"));
    memset(&err, 0, sizeof(err));
    tu_data(path, sizeof(path), "");
    assert_int_equal(aipm_reader__open_file(&r, path, 0, &err), AIPM_EINVALID);
    assert_null(r);
}

static void test_reader_file_plain_vs_gzip(void **state)
{
    /* bad_events.ndjson.gz is the same bytes as bad_events.ndjson
     * (tests/data/README.md): the same 97 lines, in order. Hashes are of
     * the raw file bytes. reference: python3 hashlib.sha256(open(f,
     * 'rb').read()).hexdigest() */
    enum { CAP = 128 };
    line_copy *a = calloc(CAP, sizeof(*a)), *b = calloc(CAP, sizeof(*b));
    aipm_reader *ra = NULL, *rb = NULL;
    aipm_error err = {0};
    char path[1024], hex[65];
    int na = 0, nb = 0, i;

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    tu_data(path, sizeof(path), "bad_events.ndjson");
    assert_int_equal(aipm_reader__open_file(&ra, path, 0, &err), AIPM_OK);
    assert_int_equal(aipm_reader__raw_size(ra), 17754); /* ls -l */
    assert_int_equal(read_all(ra, a, CAP, &na, &err), 0);
    tu_data(path, sizeof(path), "bad_events.ndjson.gz");
    assert_int_equal(aipm_reader__open_file(&rb, path, 0, &err), AIPM_OK);
    assert_int_equal(aipm_reader__raw_size(rb), 3434); /* ls -l */
    assert_int_equal(read_all(rb, b, CAP, &nb, &err), 0);
    assert_int_equal(na, 97); /* README: 97 physical lines */
    assert_int_equal(nb, 97);
    for (i = 0; i < na; i++) {
        assert_int_equal(a[i].len, b[i].len);
        assert_memory_equal(a[i].text, b[i].text, a[i].len);
        assert_int_equal(a[i].lineno, (uint64_t)i + 1);
        assert_int_equal(b[i].lineno, (uint64_t)i + 1);
    }
    /* README: be-031 is the one 2446-byte line; everything else < 1024. */
    {
        int n_long = 0;

        for (i = 0; i < na; i++)
            if (a[i].len == 2446)
                n_long++;
            else
                assert_true(a[i].len < 1024);
        assert_int_equal(n_long, 1);
    }
    assert_int_equal(aipm_reader__is_gzip(ra), 0);
    assert_int_equal(aipm_reader__is_gzip(rb), 1);
    aipm_reader__sha256(ra, hex);
    assert_string_equal(
        hex,
        "502b79f32361c38bc7e055b7d95b22d4f4f78198762fc6066801181a80430d79");
    aipm_reader__sha256(rb, hex);
    assert_string_equal(
        hex,
        "5f39d0ad936256122a66414dd8efd85ad94196a4310a63343a9f446d312e3e79");
    assert_int_equal(aipm_reader__raw_read(ra), 17754);
    assert_int_equal(aipm_reader__raw_read(rb), 3434);
    free_lines(a, na);
    free_lines(b, nb);
    free(a);
    free(b);
    aipm_reader__free(ra);
    aipm_reader__free(rb);
}

static void test_reader_gzip_members(void **state)
{
    /* Two gzip members written with zlib (gzopen "wb" then "ab" appends a
     * second member, as `cat a.gz b.gz` would). Member one ends mid-line:
     * the line continues in member two. Expected lines by construction. */
    char dir[256], path[300];
    aipm_reader *r = NULL;
    aipm_error err = {0};
    line_copy l[8];
    int n = 0;
    gzFile gz;

    (void)state;
    assert_non_null(tu_mkdtemp(dir, sizeof(dir)));
    snprintf(path, sizeof(path), "%s/two.ndjson.gz", dir);
    gz = gzopen(path, "wb");
    assert_non_null(gz);
    assert_int_equal(gzputs(gz, "first\nsecond\nspl"), 16);
    assert_int_equal(gzclose(gz), Z_OK);
    gz = gzopen(path, "ab");
    assert_non_null(gz);
    assert_int_equal(gzputs(gz, "it\r\nthird\n"), 10);
    assert_int_equal(gzclose(gz), Z_OK);

    assert_int_equal(aipm_reader__open_file(&r, path, 0, &err), AIPM_OK);
    assert_int_equal(read_all(r, l, 8, &n, &err), 0);
    assert_int_equal(aipm_reader__is_gzip(r), 1);
    assert_int_equal(n, 4);
    assert_string_equal(l[0].text, "first");
    assert_string_equal(l[1].text, "second");
    assert_string_equal(l[2].text, "split");
    assert_string_equal(l[3].text, "third");
    free_lines(l, n);
    aipm_reader__free(r);
    tu_rmtree(dir);
}

static void test_reader_gzip_truncated(void **state)
{
    /* tests/data/truncated.expect.json: the prefix holds 287 complete
     * lines, then a 35-byte partial line, and no trailer. The reader must
     * fail with a message saying so, and must never hand out the partial
     * line as if it were complete. */
    enum { CAP = 600 };
    line_copy *l = calloc(CAP, sizeof(*l));
    aipm_reader *r = NULL;
    aipm_error err = {0};
    char path[1024], hex[65];
    int n = 0, rc, i;

    (void)state;
    assert_non_null(l);
    tu_data(path, sizeof(path), "truncated.ndjson.gz");
    assert_int_equal(aipm_reader__open_file(&r, path, 0, &err), AIPM_OK);
    rc = read_all(r, l, CAP, &n, &err);
    assert_true(rc < 0);
    assert_non_null(strstr(err.msg, "truncated"));
    assert_true(n <= 287);
    for (i = 0; i < n && i < CAP; i++) {
        assert_true(l[i].len > 2);
        assert_int_equal(l[i].text[0], '{');
        assert_int_equal(l[i].text[l[i].len - 1], '}');
    }
    /* reference: python3 hashlib.sha256(open('truncated.ndjson.gz','rb')
     * .read()).hexdigest() -- the compressed bytes. */
    aipm_reader__sha256(r, hex);
    assert_string_equal(
        hex,
        "99c788d93b418889137188daa8e35ce1bf4a12d1129bdddc3ddb285541f00c0f");
    free_lines(l, n < CAP ? n : CAP);
    free(l);
    aipm_reader__free(r);
}

static void test_reader_gzip_corrupt(void **state)
{
    /* The gzip magic followed by bytes that are not a deflate stream. */
    static const unsigned char bad[] = {0x1f, 0x8b, 0x08, 0x00, 0,    0,
                                        0,    0,    0x00, 0x03, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    aipm_reader *r = NULL;
    aipm_error err = {0};
    aipm_line line;
    int rc;

    (void)state;
    assert_int_equal(aipm_reader__open_mem(&r, bad, sizeof(bad), 0, &err),
                     AIPM_OK);
    while ((rc = aipm_reader__next(r, &line, &err)) == 1)
        ;
    assert_true(rc < 0);
    assert_true(strlen(err.msg) > 0);
    aipm_reader__free(r);
}

static void test_reader_mem_sha256(void **state)
{
    static const char in[] = "abc";
    aipm_reader *r = NULL;
    aipm_error err = {0};
    aipm_line line;
    char hex[65];

    (void)state;
    assert_int_equal(aipm_reader__open_mem(&r, in, 3, 0, &err), AIPM_OK);
    while (aipm_reader__next(r, &line, &err) == 1)
        ;
    aipm_reader__sha256(r, hex);
    /* reference: python3 hashlib.sha256(b"abc").hexdigest() */
    assert_string_equal(
        hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    aipm_reader__free(r);
}

/* ---- NDJSON event parser ---- */

/* The window of tests/data/README.md for now = 2026-11-27T00:00:00Z:
 * [2006-11-27T00:00:00Z, 2026-11-28T00:00:00Z].
 * reference: python3 datetime(...).timestamp() * 1000 */
#define MIN_MS 1164585600000LL
#define MAX_MS 1795824000000LL

static const char *parse(aipm_event_parser *p, const char *line, aipm_event *ev)
{
    const char *detail = NULL;
    const char *code = aipm_event_parser__parse(p, line, strlen(line), MIN_MS,
                                                MAX_MS, ev, &detail);

    assert_non_null(detail);
    return code;
}

static void test_ndjson_track(void **state)
{
    static const char props[] =
        "{ \"fmt\" : \"pdf\", \"pages\":3, \"ok\":true, \"n\":null, "
        "\"tags\":[1,{\"x\":2}], \"o\":{\"a\":{\"b\":1}}, \"f\":-1.5e3 }";
    char line[512];
    aipm_event_parser *p = NULL;
    aipm_event *ev = malloc(sizeof(*ev));
    aipm_error err = {0};

    (void)state;
    assert_non_null(ev);
    snprintf(line, sizeof(line),
             "{\"type\":\"track\",\"messageId\":\"m-1\",\"userId\":\"u-1\","
             "\"event\":\"Report Exported\",\"context\":{\"ip\":\"1.2.3.4\","
             "\"properties\":{\"not\":\"these\"}},"
             "\"timestamp\":\"2026-10-03T12:00:00+02:00\",\"properties\": %s}",
             props);
    assert_int_equal(aipm_event_parser__new(&p, &err), AIPM_OK);
    assert_null(parse(p, line, ev));
    assert_string_equal(ev->type, "track");
    assert_string_equal(ev->message_id, "m-1");
    assert_string_equal(ev->user_id, "u-1");
    assert_null(ev->anonymous_id);
    assert_string_equal(ev->event, "Report Exported");
    assert_null(ev->group_id);
    assert_string_equal(ev->timestamp, "2026-10-03T12:00:00+02:00");
    /* reference: python3 datetime.fromisoformat(
     * '2026-10-03T12:00:00+02:00').timestamp() * 1000 */
    assert_int_equal(ev->ts_ms, 1791021600000LL);
    /* The payload is the properties object exactly as written. */
    assert_int_equal(ev->payload_len, strlen(props));
    assert_memory_equal(ev->payload, props, strlen(props));
    assert_int_equal(ev->n_props, 7);
    assert_false(ev->props_truncated);
    assert_string_equal(ev->props[0].key, "fmt");
    assert_int_equal(ev->props[0].type, AIPM_J_STRING);
    assert_string_equal(ev->props[1].key, "pages");
    assert_int_equal(ev->props[1].type, AIPM_J_NUMBER);
    assert_string_equal(ev->props[2].key, "ok");
    assert_int_equal(ev->props[2].type, AIPM_J_BOOLEAN);
    assert_string_equal(ev->props[3].key, "n");
    assert_int_equal(ev->props[3].type, AIPM_J_NULL);
    assert_string_equal(ev->props[4].key, "tags");
    assert_int_equal(ev->props[4].type, AIPM_J_ARRAY);
    assert_string_equal(ev->props[5].key, "o");
    assert_int_equal(ev->props[5].type, AIPM_J_OBJECT);
    assert_string_equal(ev->props[6].key, "f");
    assert_int_equal(ev->props[6].type, AIPM_J_NUMBER);
    assert_string_equal(aipm_jtype_names[AIPM_J_BOOLEAN], "boolean");
    aipm_event_parser__free(p);
    free(ev);
}

static void test_ndjson_identify_group_escapes(void **state)
{
    static const char traits[] = "{\"name\":\"Z\\u00f6e\",\"seats\":120}";
    char line[512];
    aipm_event_parser *p = NULL;
    aipm_event *ev = malloc(sizeof(*ev));
    aipm_error err = {0};

    (void)state;
    assert_non_null(ev);
    assert_int_equal(aipm_event_parser__new(&p, &err), AIPM_OK);
    /* \u00e9 is é (UTF-8 c3 a9); \ud83d\ude80 is U+1F680 (f0 9f 9a 80). */
    snprintf(line, sizeof(line),
             "{\"type\":\"identify\",\"messageId\":\"m-\\u00e9\","
             "\"anonymousId\":\"a-\\ud83d\\ude80\","
             "\"timestamp\":\"2026-10-03T12:00:00.5Z\",\"traits\":%s}",
             traits);
    assert_null(parse(p, line, ev));
    assert_string_equal(ev->type, "identify");
    assert_string_equal(ev->message_id, "m-\xc3\xa9");
    assert_string_equal(ev->anonymous_id, "a-\xf0\x9f\x9a\x80");
    assert_null(ev->user_id);
    assert_null(ev->event);
    /* reference: python3 datetime 2026-10-03T12:00:00.5Z */
    assert_int_equal(ev->ts_ms, 1791028800500LL);
    assert_int_equal(ev->payload_len, strlen(traits));
    assert_memory_equal(ev->payload, traits, strlen(traits));
    assert_int_equal(ev->n_props, 2);
    assert_int_equal(ev->props[1].type, AIPM_J_NUMBER);

    assert_null(parse(p,
                      "{\"type\":\"group\",\"messageId\":\"g-1\","
                      "\"userId\":\"u-1\",\"groupId\":\"acct-1\","
                      "\"timestamp\":\"2026-10-01T15:13:01.037Z\"}",
                      ev));
    assert_string_equal(ev->group_id, "acct-1");
    assert_null(ev->payload);
    assert_int_equal(ev->n_props, 0);
    /* reference: python3 datetime 2026-10-01T15:13:01.037Z */
    assert_int_equal(ev->ts_ms, 1790867581037LL);

    /* A track without properties, and one with {}. */
    assert_null(parse(p,
                      "{\"type\":\"track\",\"messageId\":\"t-1\","
                      "\"anonymousId\":\"a\",\"event\":\"E\","
                      "\"timestamp\":\"2026-10-01T00:00:00Z\"}",
                      ev));
    assert_int_equal(ev->n_props, 0);
    assert_null(parse(p,
                      "{\"type\":\"track\",\"messageId\":\"t-2\","
                      "\"anonymousId\":\"a\",\"event\":\"E\","
                      "\"timestamp\":\"2026-10-01T00:00:00Z\","
                      "\"properties\":{}}",
                      ev));
    assert_int_equal(ev->n_props, 0);
    assert_int_equal(ev->payload_len, 2);
    assert_memory_equal(ev->payload, "{}", 2);
    aipm_event_parser__free(p);
    free(ev);
}

typedef struct reason_case {
    const char *line;
    const char *reason;
} reason_case;

#define TS "\"timestamp\":\"2026-10-03T12:00:00Z\""
#define OK_TRACK                                                               \
    "\"type\":\"track\",\"messageId\":\"m\",\"userId\":\"u\","                 \
    "\"event\":\"E\""

static void test_ndjson_reasons(void **state)
{
    /* Reasons and their order from tests/data/README.md ("Conventions"):
     * malformed_json -> missing_field -> unsupported_type -> bad_value ->
     * bad_timestamp; each line has exactly one defect. */
    static const reason_case cases[] = {
        {"[1]", "malformed_json"},
        {"[1,2]", "malformed_json"},
        {"{\"type\":", "malformed_json"},
        {"{" OK_TRACK "," TS "} x", "malformed_json"},
        {"{" OK_TRACK "," TS "}{}", "malformed_json"},
        {"this is not json", "malformed_json"},
        {"\"just a string\"", "malformed_json"},
        {"42", "malformed_json"},
        {"", "malformed_json"},
        {"{\"type\":\"track\" \"messageId\":\"m\"}", "malformed_json"},
        {"{\"messageId\":\"m\",\"userId\":\"u\",\"event\":\"E\"," TS "}",
         "missing_field"},
        {"{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\"," TS "}",
         "missing_field"},
        {"{\"type\":\"track\",\"messageId\":\"m\",\"event\":\"E\"," TS "}",
         "missing_field"},
        {"{" OK_TRACK "}", "missing_field"},
        {"{\"type\":\"track\",\"messageId\":\"m\",\"userId\":\"u\"," TS "}",
         "missing_field"},
        {"{\"type\":\"group\",\"messageId\":\"m\",\"userId\":\"u\"," TS "}",
         "missing_field"},
        {"{\"type\":\"page\",\"messageId\":\"m\",\"userId\":\"u\"," TS "}",
         "unsupported_type"},
        {"{\"type\":\"screen\",\"messageId\":\"m\",\"userId\":\"u\"," TS "}",
         "unsupported_type"},
        {"{\"type\":\"alias\",\"messageId\":\"m\",\"userId\":\"u\"," TS "}",
         "unsupported_type"},
        {"{\"type\":\"track\",\"messageId\":\"m\",\"userId\":42,"
         "\"anonymousId\":\"a\",\"event\":\"E\"," TS "}",
         "bad_value"},
        {"{" OK_TRACK "," TS ",\"properties\":\"oops\"}", "bad_value"},
        {"{\"type\":\"identify\",\"messageId\":\"m\",\"userId\":\"u\"," TS
         ",\"traits\":[1,2]}",
         "bad_value"},
        {"{\"type\":3,\"messageId\":\"m\",\"userId\":\"u\"," TS "}",
         "bad_value"},
        {"{\"type\":\"track\",\"messageId\":12345,\"userId\":\"u\","
         "\"event\":\"E\"," TS "}",
         "bad_value"},
        {"{\"type\":\"group\",\"messageId\":\"m\",\"userId\":\"u\","
         "\"groupId\":7," TS "}",
         "bad_value"},
        {"{" OK_TRACK ",\"timestamp\":1791000000}", "bad_value"},
        {"{" OK_TRACK ",\"timestamp\":\"2026-10-03 12:00\"}", "bad_timestamp"},
        {"{" OK_TRACK ",\"timestamp\":\"yesterday\"}", "bad_timestamp"},
        {"{" OK_TRACK ",\"timestamp\":\"2026-13-01T00:00:00Z\"}",
         "bad_timestamp"},
        {"{" OK_TRACK ",\"timestamp\":\"2026-10-03T12:00:00\"}",
         "bad_timestamp"},
        {"{" OK_TRACK ",\"timestamp\":\"2026-02-30T12:00:00Z\"}",
         "bad_timestamp"},
        {"{" OK_TRACK ",\"timestamp\":\"1999-01-01T00:00:00Z\"}",
         "bad_timestamp"},
        {"{" OK_TRACK ",\"timestamp\":\"2027-06-01T00:00:00Z\"}",
         "bad_timestamp"},
        /* One millisecond past each end of the window. */
        {"{" OK_TRACK ",\"timestamp\":\"2026-11-28T00:00:00.001Z\"}",
         "bad_timestamp"},
        {"{" OK_TRACK ",\"timestamp\":\"2006-11-26T23:59:59.999Z\"}",
         "bad_timestamp"},
    };
    aipm_event_parser *p = NULL;
    aipm_event *ev = malloc(sizeof(*ev));
    aipm_error err = {0};
    size_t i;

    (void)state;
    assert_non_null(ev);
    assert_int_equal(aipm_event_parser__new(&p, &err), AIPM_OK);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = parse(p, cases[i].line, ev);

        if (got == NULL || strcmp(got, cases[i].reason) != 0)
            print_error("line %s: want %s, got %s\n", cases[i].line,
                        cases[i].reason, got ? got : "(valid)");
        assert_non_null(got);
        assert_string_equal(got, cases[i].reason);
    }
    /* The window's ends themselves are inside it. */
    assert_null(
        parse(p, "{" OK_TRACK ",\"timestamp\":\"2026-11-28T00:00:00Z\"}", ev));
    assert_int_equal(ev->ts_ms, MAX_MS);
    assert_null(
        parse(p, "{" OK_TRACK ",\"timestamp\":\"2006-11-27T00:00:00Z\"}", ev));
    assert_int_equal(ev->ts_ms, MIN_MS);
    aipm_event_parser__free(p);
    free(ev);
}

/* ---- CSV splitter ---- */

static void test_csv_records(void **state)
{
    static const char in[] = "id,name,note\n"           /* 1 */
                             "1,\"x,y\",plain\n"        /* 2 */
                             "2,\"multi\n"              /* 3 */
                             "line\",z\n"               /* 4 */
                             "3,ab\"c,w\n"              /* 5: stray " */
                             "4,ok,fine\n"              /* 6 */
                             "\n"                       /* 7: blank */
                             "   \n"                    /* 8: blank */
                             "5,\"say \"\"hi\"\"\",x\n" /* 9 */
                             "6,\xff,x\n"               /* 10: bad UTF-8 */
                             "7,after,utf8\n"           /* 11 */
                             "8,\"quoted\"junk,x\n"     /* 12: stray */
                             "9,,\r\n"                  /* 13: CRLF */
                             "10,last,no-newline";      /* 14 */
    aipm_reader *r = NULL;
    aipm_csv *c = NULL;
    aipm_csv_record rec;
    aipm_error err = {0};

    (void)state;
    assert_int_equal(aipm_reader__open_mem(&r, in, strlen(in), 0, &err),
                     AIPM_OK);
    assert_int_equal(aipm_csv__new(&c, r, 0, &err), AIPM_OK);

    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    assert_null(rec.error);
    assert_int_equal(rec.lineno, 1);
    assert_int_equal(rec.n_fields, 3);
    assert_string_equal(rec.fields[0], "id");
    assert_string_equal(rec.fields[2], "note");

    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    assert_null(rec.error);
    assert_int_equal(rec.lineno, 2);
    assert_int_equal(rec.n_fields, 3);
    assert_string_equal(rec.fields[1], "x,y");
    assert_string_equal(rec.fields[2], "plain");

    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    assert_null(rec.error);
    assert_int_equal(rec.lineno, 3); /* the first line of the record */
    assert_int_equal(rec.n_fields, 3);
    assert_string_equal(rec.fields[1], "multi\nline");
    assert_string_equal(rec.fields[2], "z");
    assert_int_equal(rec.raw_len, strlen("2,\"multi\nline\",z"));
    assert_memory_equal(rec.raw, "2,\"multi\nline\",z", rec.raw_len);

    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    assert_non_null(rec.error);
    assert_string_equal(rec.error, "malformed_csv");
    assert_int_equal(rec.lineno, 5);
    /* Its raw text is checked in test_csv_bad_record_keeps_raw. */

    /* The record after a bad one is parsed normally. */
    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    assert_null(rec.error);
    assert_int_equal(rec.lineno, 6);
    assert_int_equal(rec.n_fields, 3);
    assert_string_equal(rec.fields[0], "4");
    assert_string_equal(rec.fields[1], "ok");
    assert_string_equal(rec.fields[2], "fine");

    /* Blank lines 7 and 8 are skipped. */
    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    assert_null(rec.error);
    assert_int_equal(rec.lineno, 9);
    assert_string_equal(rec.fields[1], "say \"hi\"");

    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    assert_non_null(rec.error);
    assert_string_equal(rec.error, "invalid_utf8");
    assert_int_equal(rec.lineno, 10);

    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    assert_null(rec.error);
    assert_int_equal(rec.lineno, 11);
    assert_string_equal(rec.fields[1], "after");

    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    assert_non_null(rec.error);
    assert_string_equal(rec.error, "malformed_csv");
    assert_int_equal(rec.lineno, 12);

    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    assert_null(rec.error);
    assert_int_equal(rec.lineno, 13);
    assert_int_equal(rec.n_fields, 3);
    assert_string_equal(rec.fields[0], "9");
    assert_string_equal(rec.fields[1], ""); /* empty, no CR left over */
    assert_string_equal(rec.fields[2], "");

    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    assert_null(rec.error);
    assert_int_equal(rec.lineno, 14);
    assert_string_equal(rec.fields[2], "no-newline");

    assert_int_equal(aipm_csv__next(c, &rec, &err), 0);
    aipm_csv__free(c);
    aipm_reader__free(r);
}

/* Regression (fixed in csv.c, bad_record): a bad record's raw text comes back
 * empty. bad_record() copies c->raw into c->values "so it survives the parser
 * reset", then calls parser_reset(), which resets c->values too; rec.raw
 * is "" and rec.raw_len 0. DESIGN.md section 4: a bad row goes to
 * quarantine "with the file, line number, a reason code and the raw
 * text" -- CSV quarantine rows (malformed_csv, invalid_utf8,
 * line_too_long) lose it. Expected: raw is the record's text. */
static void test_csv_bad_record_keeps_raw(void **state)
{
    static const char in[] = "a,b,c\n"
                             "3,ab\"c,w\n"
                             "6,\xff,x\n"
                             "ok,ok,ok\n";
    aipm_reader *r = NULL;
    aipm_csv *c = NULL;
    aipm_csv_record rec;
    aipm_error err = {0};

    (void)state;
    assert_int_equal(aipm_reader__open_mem(&r, in, strlen(in), 0, &err),
                     AIPM_OK);
    assert_int_equal(aipm_csv__new(&c, r, 0, &err), AIPM_OK);
    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    assert_null(rec.error);
    {
        /* Copy out, free, then assert (no leak on failure). */
        char raw1[32] = "", raw2[32] = "";
        const char *err1, *err2;

        assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
        err1 = rec.error;
        if (rec.raw_len < sizeof(raw1))
            memcpy(raw1, rec.raw, rec.raw_len);
        assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
        err2 = rec.error;
        if (rec.raw_len < sizeof(raw2))
            memcpy(raw2, rec.raw, rec.raw_len);
        aipm_csv__free(c);
        aipm_reader__free(r);
        assert_non_null(err1);
        assert_string_equal(err1, "malformed_csv");
        assert_non_null(err2);
        assert_string_equal(err2, "invalid_utf8");
        assert_string_equal(raw1, "3,ab\"c,w");
        assert_string_equal(raw2, "6,\xff,x");
    }
}

/* Regression (found by the CSV fuzzer): libcsv ends a row at a bare '\r'
 * by default, so "a,b\rc,d" came back as one record of 4 fields. Only
 * '\n' ends a row; a '\r' inside a line is data. Hand-derived: the line
 * has two commas, so 3 fields: "a", "b\rc", "d". */
static void test_csv_bare_cr_is_data(void **state)
{
    static const char in[] = "a,b\rc,d\nx,y,z\n";
    aipm_reader *r = NULL;
    aipm_csv *c = NULL;
    aipm_csv_record rec;
    aipm_error err = {0};
    int n1, n2;
    char mid[8] = "";

    (void)state;
    assert_int_equal(aipm_reader__open_mem(&r, in, strlen(in), 0, &err),
                     AIPM_OK);
    assert_int_equal(aipm_csv__new(&c, r, 0, &err), AIPM_OK);
    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    n1 = rec.n_fields;
    if (n1 == 3 && strlen(rec.fields[1]) < sizeof(mid))
        memcpy(mid, rec.fields[1], strlen(rec.fields[1]) + 1);
    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    n2 = rec.n_fields;
    aipm_csv__free(c);
    aipm_reader__free(r);
    assert_int_equal(n1, 3);
    assert_string_equal(mid, "b\rc");
    assert_int_equal(n2, 3);
}

/* Regression (found by reading the fuzz target's paths): a decoded
 * \u0000 would cut a C string short, making "a\u0000b" and "a\u0000c"
 * the same messageId. Such a field is a bad_value. */
static void test_ndjson_nul_in_field(void **state)
{
    static const char *const lines[] = {
        "{\"type\":\"track\",\"messageId\":\"a\\u0000b\",\"userId\":\"u\","
        "\"event\":\"E\",\"timestamp\":\"2026-10-01T00:00:00Z\"}",
        "{\"type\":\"track\",\"messageId\":\"m\",\"userId\":\"u\","
        "\"event\":\"E\",\"timestamp\":\"2026-10-01T00:00:00Z\","
        "\"properties\":{\"k\\u0000x\":1}}",
    };
    aipm_event_parser *p = NULL;
    aipm_event *ev = malloc(sizeof(*ev));
    aipm_error err = {0};
    const char *detail, *code[2];
    int i;

    (void)state;
    assert_non_null(ev);
    assert_int_equal(aipm_event_parser__new(&p, &err), AIPM_OK);
    for (i = 0; i < 2; i++)
        code[i] = aipm_event_parser__parse(p, lines[i], strlen(lines[i]),
                                           INT64_MIN, INT64_MAX, ev, &detail);
    aipm_event_parser__free(p);
    free(ev);
    assert_non_null(code[0]);
    assert_string_equal(code[0], "bad_value");
    assert_non_null(code[1]);
    assert_string_equal(code[1], "bad_value");
}

static void test_csv_unterminated(void **state)
{
    static const char in[] = "a,b\n1,\"open\n2,x\n";
    aipm_reader *r = NULL;
    aipm_csv *c = NULL;
    aipm_csv_record rec;
    aipm_error err = {0};

    (void)state;
    assert_int_equal(aipm_reader__open_mem(&r, in, strlen(in), 0, &err),
                     AIPM_OK);
    assert_int_equal(aipm_csv__new(&c, r, 0, &err), AIPM_OK);
    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    assert_null(rec.error);
    /* The quote opened on line 2 never closes: line 2 alone is the bad
     * record (issue 12: it used to swallow line 3 too), then line 3 is
     * read again as a record of its own. */
    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    assert_non_null(rec.error);
    assert_string_equal(rec.error, "malformed_csv");
    assert_int_equal(rec.lineno, 2);
    assert_int_equal(rec.raw_len, strlen("1,\"open"));
    assert_memory_equal(rec.raw, "1,\"open", rec.raw_len);
    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    assert_null(rec.error);
    assert_int_equal(rec.lineno, 3);
    assert_int_equal(rec.n_fields, 2);
    assert_string_equal(rec.fields[0], "2");
    assert_string_equal(rec.fields[1], "x");
    assert_int_equal(aipm_csv__next(c, &rec, &err), 0);
    aipm_csv__free(c);
    aipm_reader__free(r);
}

static void test_csv_too_long(void **state)
{
    /* max_record 50: a 60-byte record is line_too_long (its own reason in
     * the header's list), the next record is fine. */
    char in[256];
    aipm_reader *r = NULL;
    aipm_csv *c = NULL;
    aipm_csv_record rec;
    aipm_error err = {0};

    (void)state;
    memset(in, 0, sizeof(in));
    memcpy(in, "a,b\n", 4);
    memset(in + 4, 'x', 60);
    memcpy(in + 64, ",y\nc,d\n", 7);
    assert_int_equal(aipm_reader__open_mem(&r, in, strlen(in), 50, &err),
                     AIPM_OK);
    assert_int_equal(aipm_csv__new(&c, r, 50, &err), AIPM_OK);
    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    assert_null(rec.error);
    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    assert_non_null(rec.error);
    assert_string_equal(rec.error, "line_too_long");
    assert_int_equal(rec.lineno, 2);
    assert_int_equal(aipm_csv__next(c, &rec, &err), 1);
    assert_null(rec.error);
    assert_int_equal(rec.lineno, 3);
    assert_string_equal(rec.fields[0], "c");
    assert_int_equal(aipm_csv__next(c, &rec, &err), 0);
    aipm_csv__free(c);
    aipm_reader__free(r);
}

/* Issue 12: a stray quote in one field must cost that line only. Each
 * case lists, for a small input, the records expected as (first line,
 * error or NULL, field count), worked out by hand from the CSV rules:
 * a quote opened on a line and never properly closed makes that line the
 * bad record and every line after it is read again. */
typedef struct want_rec {
    uint64_t lineno;
    const char *error;
    int n_fields;
} want_rec;

static void expect_records(const char *in, size_t len, size_t max_record,
                           int expected_fields, const want_rec *want,
                           int n_want)
{
    aipm_reader *r = NULL;
    aipm_csv *c = NULL;
    aipm_csv_record rec;
    aipm_error err = {0};
    uint64_t got_line[32];
    const char *got_error[32];
    int got_fields[32], n = 0, rc, i;

    assert_int_equal(aipm_reader__open_mem(&r, in, len, max_record, &err),
                     AIPM_OK);
    assert_int_equal(aipm_csv__new(&c, r, max_record, &err), AIPM_OK);
    aipm_csv__expect_fields(c, expected_fields);
    while (n < 32 && (rc = aipm_csv__next(c, &rec, &err)) == 1) {
        got_line[n] = rec.lineno;
        got_error[n] = rec.error;
        got_fields[n] = rec.n_fields;
        n++;
    }
    aipm_csv__free(c);
    aipm_reader__free(r);
    for (i = 0; i < n && i < n_want; i++)
        if (got_line[i] != want[i].lineno ||
            (got_error[i] == NULL) != (want[i].error == NULL) ||
            (got_error[i] && strcmp(got_error[i], want[i].error) != 0) ||
            (!want[i].error && got_fields[i] != want[i].n_fields))
            print_error("record %d: line %llu %s %d, want line %llu %s %d\n", i,
                        (unsigned long long)got_line[i],
                        got_error[i] ? got_error[i] : "ok", got_fields[i],
                        (unsigned long long)want[i].lineno,
                        want[i].error ? want[i].error : "ok", want[i].n_fields);
    assert_int_equal(n, n_want);
    for (i = 0; i < n; i++) {
        assert_int_equal(got_line[i], want[i].lineno);
        if (want[i].error == NULL) {
            assert_null(got_error[i]);
            assert_int_equal(got_fields[i], want[i].n_fields);
        } else {
            assert_non_null(got_error[i]);
            assert_string_equal(got_error[i], want[i].error);
        }
    }
}

static void test_csv_stray_quote_resync(void **state)
{
    /* Line 3's quote never closes; lines 4-6 have no quote, line 7 does:
     * its first quote would close line 3's field and "b" after it breaks
     * strict quoting. Before the fix: one bad record (line 3), lines 4-7
     * lost. Now: 3 bad, 4, 5, 6 and 7 fine. */
    static const char in[] = "a,b,c\n"       /* 1 header */
                             "1,x,y\n"       /* 2 */
                             "2,\"stray,y\n" /* 3 stray quote */
                             "3,x,y\n"       /* 4 */
                             "4,x,y\n"       /* 5 */
                             "5,x,y\n"       /* 6 */
                             "6,\"b\",y\n";  /* 7 quoted field */
    static const want_rec want[] = {
        {1, NULL, 3}, {2, NULL, 3}, {3, "malformed_csv", 0},
        {4, NULL, 3}, {5, NULL, 3}, {6, NULL, 3},
        {7, NULL, 3}};
    /* Line 2's quote closes at the end of line 4 ("z,x" then a quote and
     * the newline): lines 2-4 form one record of 2 fields ("1" and the
     * rest), not the header's 4, so line 2 alone is bad; line 3 is a
     * record, and line 4 alone breaks strict quoting (a quote inside an
     * unquoted field). */
    static const char in2[] = "a,b,c,d\n"  /* 1 */
                              "1,\"open\n" /* 2 */
                              "2,x,y,z\n"  /* 3 */
                              "z,x\"\n";   /* 4 */
    static const want_rec want2[] = {{1, NULL, 4},
                                     {2, "malformed_csv", 0},
                                     {3, NULL, 4},
                                     {4, "malformed_csv", 0}};
    /* A legitimate quoted field over three lines is one record. */
    static const char in3[] = "a,b\n"
                              "1,\"one\n"
                              "two\n"
                              "three\"\n"
                              "2,x\n";
    static const want_rec want3[] = {{1, NULL, 2}, {2, NULL, 2}, {5, NULL, 2}};
    /* Past the record limit (40 bytes): the record opened on line 2 runs
     * over it on line 4 (11 + 1 + 12 + 1 + 20 = 45 > 40); line 2 alone is
     * bad, 3, 4 and 5 are records. */
    static const char in4[] = "a,b\n"
                              "1,\"open....\n"         /* 11 bytes */
                              "2,xxxxxxxxxx\n"         /* 12 bytes */
                              "3,xxxxxxxxxxxxxxxxxx\n" /* 20 bytes */
                              "4,x\n";
    static const want_rec want4[] = {{1, NULL, 2},
                                     {2, "malformed_csv", 0},
                                     {3, NULL, 2},
                                     {4, NULL, 2},
                                     {5, NULL, 2}};

    /* A quoted field over two lines that closes properly but holds a byte
     * that is not UTF-8 is one bad record (invalid_utf8) from line 2;
     * line 4 follows. */
    static const char in5[] = "a,b\n"
                              "1,\"x\n"
                              "\xff\"\n"
                              "2,y\n";
    static const want_rec want5[] = {
        {1, NULL, 2}, {2, "invalid_utf8", 0}, {4, NULL, 2}};

    /* Review finding: a stray quote on line 2 closed by line 4's quote
     * gave one 4-field record swallowing line 3. Line 3 alone is a full
     * 4-field record, so the quote is stray: line 2 bad, line 3 fine,
     * line 4 alone breaks strict quoting (a quote in an unquoted field),
     * line 5 fine. */
    static const char in6[] = "id,created_at,source,text\n"
                              "1,2024-01-01,app,\"oops\n"
                              "2,2024-01-01,app,x\n"
                              "3,2024-01-01,app,y\"\n"
                              "4,2024-01-01,app,z\n";
    static const want_rec want6[] = {{1, NULL, 4},
                                     {2, "malformed_csv", 0},
                                     {3, NULL, 4},
                                     {4, "malformed_csv", 0},
                                     {5, NULL, 4}};
    /* A legitimate text over three lines with commas inside: its inner
     * line "second, with, commas" has 3 fields, not the header's 4, so
     * lines 2-4 stay one record; line 5 follows. */
    static const char in7[] = "a,b,c,d\n"
                              "1,x,y,\"first line\n"
                              "second, with, commas\n"
                              "end\"\n"
                              "2,x,y,z\n";
    static const want_rec want7[] = {{1, NULL, 4}, {2, NULL, 4}, {5, NULL, 4}};

    (void)state;
    expect_records(in6, strlen(in6), 0, 4, want6, 5);
    expect_records(in7, strlen(in7), 0, 4, want7, 3);
    expect_records(in5, strlen(in5), 0, 2, want5, 3);
    expect_records(in, strlen(in), 0, 3, want, 7);
    expect_records(in2, strlen(in2), 0, 4, want2, 4);
    expect_records(in3, strlen(in3), 0, 2, want3, 3);
    expect_records(in4, strlen(in4), 40, 2, want4, 5);
}

/* Issue 12: a raw NUL inside a quoted field used to cut the value short
 * (the field is a C string); the record is now a bad_value, and the
 * record after it is fine. */
static void test_csv_nul_in_field(void **state)
{
    static const char in[] = "a,b\n1,\"x\0y\"\n2,z\n";
    static const want_rec want[] = {
        {1, NULL, 2}, {2, "bad_value", 0}, {3, NULL, 2}};

    (void)state;
    expect_records(in, sizeof(in) - 1, 0, 2, want, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_lf_crlf_last),
        cmocka_unit_test(test_reader_empty),
        cmocka_unit_test(test_reader_chunk_boundary),
        cmocka_unit_test(test_reader_max_line),
        cmocka_unit_test(test_reader_too_long_last_line),
        cmocka_unit_test(test_reader_too_long_cut_utf8),
        cmocka_unit_test(test_reader_open_errors),
        cmocka_unit_test(test_reader_file_plain_vs_gzip),
        cmocka_unit_test(test_reader_gzip_members),
        cmocka_unit_test(test_reader_gzip_truncated),
        cmocka_unit_test(test_reader_gzip_corrupt),
        cmocka_unit_test(test_reader_mem_sha256),
        cmocka_unit_test(test_ndjson_track),
        cmocka_unit_test(test_ndjson_identify_group_escapes),
        cmocka_unit_test(test_ndjson_reasons),
        cmocka_unit_test(test_csv_records),
        cmocka_unit_test(test_csv_bad_record_keeps_raw),
        cmocka_unit_test(test_csv_bare_cr_is_data),
        cmocka_unit_test(test_reader_crlf_at_limit_across_chunks),
        cmocka_unit_test(test_ndjson_nul_in_field),
        cmocka_unit_test(test_csv_unterminated),
        cmocka_unit_test(test_csv_stray_quote_resync),
        cmocka_unit_test(test_csv_nul_in_field),
        cmocka_unit_test(test_csv_too_long),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
