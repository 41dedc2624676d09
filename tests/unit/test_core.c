/* test_core.c - unit tests of core/: time, UTF-8, buffers, strmap, SHA-256.
 *
 * Every expected value is computed outside libaipm, with its source noted
 * next to it: Python 3's datetime for timestamps, hashlib for digests,
 * bytes.decode('utf-8') for UTF-8 validity, json.dumps for escaping. Round
 * trips (format then parse) check properties, never pasted output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aipm/core.h"
#include "aipm/store.h"
#include "testutil.h"

/* ---- time ---- */

typedef struct time_case {
    const char *text;
    int64_t ms;
} time_case;

static void test_time_parse_valid(void **state)
{
    /* reference: python3, for each s:
     *   d = datetime.fromisoformat(s.replace('Z', '+00:00'))
     *   (d - datetime(1970,1,1,tzinfo=timezone.utc)) in whole ms
     * (fractions below 1 ms truncated, as microseconds // 1000). */
    static const time_case cases[] = {
        {"2026-11-27T00:00:00Z", 1795737600000LL},
        {"2024-02-29T23:59:59.999+00:00", 1709251199999LL},
        {"2026-10-03T12:00:00+02:00", 1791021600000LL},
        {"2026-10-03T12:00:00-05:00", 1791046800000LL},
        {"2026-10-03T12:00:00.5Z", 1791028800500LL},
        {"2026-10-03T12:00:00.123456Z", 1791028800123LL},
        {"1970-01-01T00:00:00Z", 0LL},
        {"1969-12-31T23:59:59.001Z", -999LL},
        {"2000-02-29T00:00:00Z", 951782400000LL},
        {"2026-03-01T00:00:00+14:00", 1772272800000LL},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t ms = 42;
        int rc = aipm_time_parse(&ms, cases[i].text, strlen(cases[i].text), 0);

        if (rc != AIPM_OK || ms != cases[i].ms)
            print_error("case %s: rc %d ms %lld\n", cases[i].text, rc,
                        (long long)ms);
        assert_int_equal(rc, AIPM_OK);
        assert_int_equal(ms, cases[i].ms);
    }
}

static void test_time_parse_respects_len(void **state)
{
    const char *s = "2026-11-27T00:00:00Zgarbage";
    int64_t ms = 0;

    (void)state;
    /* Only the first 20 bytes are the timestamp. reference: python3
     * datetime(2026,11,27,tzinfo=timezone.utc).timestamp() * 1000 */
    assert_int_equal(aipm_time_parse(&ms, s, 20, 0), AIPM_OK);
    assert_int_equal(ms, 1795737600000LL);
    assert_int_equal(aipm_time_parse(&ms, s, strlen(s), 0), AIPM_EINVALID);
}

static void test_time_parse_date_only(void **state)
{
    int64_t ms = 0;

    (void)state;
    /* reference: python3 (date(2024,2,29) - date(1970,1,1)).days * 86400000 */
    assert_int_equal(aipm_time_parse(&ms, "2024-02-29", 10, 1), AIPM_OK);
    assert_int_equal(ms, 1709164800000LL);
    assert_int_equal(aipm_time_parse(&ms, "2024-02-29", 10, 0), AIPM_EINVALID);
    /* 2023 and 1900 are not leap years (python3 calendar.isleap). */
    assert_int_equal(aipm_time_parse(&ms, "2023-02-29", 10, 1), AIPM_EINVALID);
    assert_int_equal(aipm_time_parse(&ms, "1900-02-29", 10, 1), AIPM_EINVALID);
}

static void test_time_parse_invalid(void **state)
{
    /* Each is rejected by RFC 3339 section 5.6 (and by python3
     * datetime.fromisoformat, or it lacks the mandatory offset). */
    static const char *const bad[] = {
        "2026-02-30T00:00:00Z",      /* Feb 30 */
        "2026-13-01T00:00:00Z",      /* month 13 */
        "2026-00-10T00:00:00Z",      /* month 0 */
        "2026-04-31T00:00:00Z",      /* April has 30 days */
        "2023-02-29T00:00:00Z",      /* not a leap year */
        "2026-10-03T12:00:00",       /* missing offset */
        "2026-10-03T12:00:00.250",   /* fraction, missing offset */
        "2026-10-03 12:00",          /* no seconds, no offset */
        "2026-10-03T24:00:00Z",      /* hour 24 */
        "2026-10-03T12:60:00Z",      /* minute 60 */
        "2026-10-03T12:00:00.Z",     /* empty fraction */
        "2026-10-03T12:00:00+2:00",  /* one-digit offset hour */
        "2026-10-03T12:00:00+02",    /* offset without minutes */
        "2026-10-03T12:00:00+24:00", /* offset hour 24 */
        "2026-10-03T12:00:00ZZ",     /* trailing garbage */
        "10/03/2026",
        "yesterday",
        "",
        "2026-1-03T12:00:00Z",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms = 0;
        int rc = aipm_time_parse(&ms, bad[i], strlen(bad[i]), 0);

        if (rc != AIPM_EINVALID)
            print_error("accepted invalid '%s'\n", bad[i]);
        assert_int_equal(rc, AIPM_EINVALID);
    }
    /* A plain date is invalid without allow_date even if it is real. */
    assert_int_equal(aipm_time_parse(&(int64_t){0}, "2026-10-03", 10, 0),
                     AIPM_EINVALID);
    /* Feb 30 as a date-only value is invalid even with allow_date. */
    assert_int_equal(aipm_time_parse(&(int64_t){0}, "2026-02-30", 10, 1),
                     AIPM_EINVALID);
}

static void test_time_format(void **state)
{
    /* reference: python3 (datetime(1970,1,1,tzinfo=timezone.utc) +
     * timedelta(milliseconds=ms)).isoformat(timespec='milliseconds'),
     * with +00:00 written as Z. */
    static const struct {
        int64_t ms;
        const char *text;
    } cases[] = {
        {1791028800500LL, "2026-10-03T12:00:00.500Z"},
        {-999LL, "1969-12-31T23:59:59.001Z"},
        {0LL, "1970-01-01T00:00:00.000Z"},
        {1709251199999LL, "2024-02-29T23:59:59.999Z"},
        {253402300799999LL, "9999-12-31T23:59:59.999Z"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[32];

        aipm_time_format(out, cases[i].ms);
        assert_string_equal(out, cases[i].text);
    }
}

static void test_time_round_trip(void **state)
{
    /* Property: parse(format(ms)) == ms over a spread of values, negative
     * ones included (a linear congruential walk, Knuth MMIX constants). */
    uint64_t x = 12345;
    int i;

    (void)state;
    for (i = 0; i < 20000; i++) {
        int64_t ms, back = 0;
        char out[32];

        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        /* [-1e12, 1e13): 1938 .. 2286 */
        ms = (int64_t)(x >> 20) % 11000000000000LL - 1000000000000LL;
        aipm_time_format(out, ms);
        assert_int_equal(strlen(out), 24);
        assert_int_equal(aipm_time_parse(&back, out, strlen(out), 0), AIPM_OK);
        assert_int_equal(back, ms);
    }
}

static void test_now_env(void **state)
{
    (void)state;
    setenv("AIPM_NOW", "2026-11-27T00:00:00Z", 1);
    /* reference: python3 datetime(2026,11,27,tzinfo=timezone.utc) */
    assert_int_equal(aipm_now_ms(), 1795737600000LL);
    unsetenv("AIPM_NOW");
    /* Unset: the real clock, which is after 2024-01-01 (1704067200000). */
    assert_true(aipm_now_ms() > 1704067200000LL);
}

/* ---- UTF-8 ---- */

static void test_utf8(void **state)
{
    /* reference: python3: 1 if bytes.fromhex(h).decode('utf-8') succeeds,
     * else 0 (Python's decoder rejects overlongs, surrogates, > U+10FFFF). */
    static const struct {
        const char *hex;
        int valid;
    } cases[] = {
        {"41", 1},       {"c3a9", 1},     {"e697a5e69cace8aa9e", 1},
        {"f09f9a80", 1}, {"c280", 1},     {"e0a080", 1},
        {"efbfbf", 1},   {"f48fbfbf", 1}, {"dfbf", 1},
        {"00", 1},       {"c0af", 0},     {"c1bf", 0},
        {"e080af", 0},   {"f08080af", 0}, {"eda080", 0},
        {"edbfbf", 0},   {"f4908080", 0}, {"f5808080", 0},
        {"ff", 0},       {"fe", 0},       {"c3", 0},
        {"e282", 0},     {"f09f9a", 0},   {"80", 0},
        {"c328", 0},     {"e228a1", 0},   {"f09f28bc", 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char b[16];
        size_t n = tu_unhex(b, cases[i].hex);

        if (aipm_utf8_valid((const char *)b, n) != cases[i].valid)
            print_error("utf8 case %s\n", cases[i].hex);
        assert_int_equal(aipm_utf8_valid((const char *)b, n), cases[i].valid);
    }
    assert_int_equal(aipm_utf8_valid("", 0), 1);
}

/* aipm_utf8_cut backs a cut up to a character boundary. Bytes by hand:
 * "xé€😀" is 78 | c3 a9 | e2 82 ac | f0 9f 98 80 (10 bytes). */
static void test_utf8_cut(void **state)
{
    static const char s[] = "x\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    /* want[max]: the longest prefix of at most max bytes ending on a
     * boundary: boundaries at 0, 1, 3, 6, 10. */
    static const size_t want[11] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10};
    size_t max;

    (void)state;
    for (max = 0; max <= 10; max++)
        assert_int_equal(aipm_utf8_cut(s, 10, max), want[max]);
    assert_int_equal(aipm_utf8_cut(s, 3, 100), 3); /* shorter than max */
    /* Not UTF-8 (continuation bytes only): a plain byte cut. */
    assert_int_equal(aipm_utf8_cut("\x80\x80\x80\x80\x80", 5, 4), 4);
}

/* aipm_decimal_parse: plain decimals only; underflow is a number (1e-310
 * is subnormal, strtod sets ERANGE), overflow (1e400 > DBL_MAX ~1.8e308)
 * is not. */
static void test_decimal_parse(void **state)
{
    double d = -1;

    (void)state;
    assert_int_equal(aipm_decimal_parse("1e-310", &d), AIPM_OK);
    assert_true(d > 0 && d < 1e-300);
    assert_int_equal(aipm_decimal_parse("1e-400", &d), AIPM_OK);
    assert_true(d == 0);
    assert_int_equal(aipm_decimal_parse("-2.5e1", &d), AIPM_OK);
    assert_true(d == -25);
    assert_int_equal(aipm_decimal_parse("1e400", &d), AIPM_EINVALID);
    assert_int_equal(aipm_decimal_parse("-1e400", &d), AIPM_EINVALID);
    assert_int_equal(aipm_decimal_parse("0x10", &d), AIPM_EINVALID);
    assert_int_equal(aipm_decimal_parse("0x1p-1", &d), AIPM_EINVALID);
    assert_int_equal(aipm_decimal_parse("inf", &d), AIPM_EINVALID);
    assert_int_equal(aipm_decimal_parse(" 1", &d), AIPM_EINVALID);
    assert_int_equal(aipm_decimal_parse("", &d), AIPM_EINVALID);
    assert_int_equal(aipm_decimal_parse(".", &d), AIPM_EINVALID);
}

static void test_utf8_in_long_ascii(void **state)
{
    /* The bad byte sits after 8-byte-aligned ASCII runs and at the very
     * end, so the ASCII fast path must hand over to the slow one. */
    char buf[64];
    size_t pos;

    (void)state;
    for (pos = 0; pos < sizeof(buf); pos++) {
        memset(buf, 'a', sizeof(buf));
        buf[pos] = (char)0xff;
        assert_int_equal(aipm_utf8_valid(buf, sizeof(buf)), 0);
        /* A valid 2-byte sequence in the same spot passes. */
        if (pos + 1 < sizeof(buf)) {
            buf[pos] = (char)0xc3;
            buf[pos + 1] = (char)0xa9;
            assert_int_equal(aipm_utf8_valid(buf, sizeof(buf)), 1);
            /* ... and cut in half by len fails. */
            assert_int_equal(aipm_utf8_valid(buf, pos + 1), 0);
        }
    }
}

/* ---- aipm_buf ---- */

static void test_buf_max(void **state)
{
    aipm_buf b;

    (void)state;
    aipm_buf_init(&b, 10);
    assert_int_equal(aipm_buf_put(&b, "0123456789", 10), AIPM_OK);
    assert_int_equal(b.len, 10);
    assert_int_equal(aipm_buf_put(&b, "x", 1), AIPM_EINVALID);
    assert_int_equal(b.len, 10);
    assert_string_equal(aipm_buf_cstr(&b), "0123456789");
    assert_int_equal(aipm_buf_printf(&b, "%d", 7), AIPM_EINVALID);
    assert_int_equal(aipm_buf_put(&b, "", 0), AIPM_OK);
    aipm_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(aipm_buf_cstr(&b), "");
    assert_int_equal(aipm_buf_printf(&b, "%s-%03d", "ab", 7), AIPM_OK);
    assert_string_equal(aipm_buf_cstr(&b), "ab-007");
    /* 11 bytes at once also fail without partial writes. */
    aipm_buf_reset(&b);
    assert_int_equal(aipm_buf_put(&b, "01234567890", 11), AIPM_EINVALID);
    assert_int_equal(b.len, 0);
    /* A huge length must not wrap around the overflow check. */
    assert_int_equal(aipm_buf_put(&b, "x", SIZE_MAX), AIPM_EINVALID);
    aipm_buf_free(&b);

    /* Growth past the initial capacity keeps every byte. */
    aipm_buf_init(&b, 0);
    {
        int i;

        for (i = 0; i < 10000; i++)
            assert_int_equal(aipm_buf_put(&b, "abc", 3), AIPM_OK);
        assert_int_equal(b.len, 30000);
        for (i = 0; i < 10000; i++)
            assert_memory_equal(b.ptr + 3 * i, "abc", 3);
        assert_int_equal(b.ptr[b.len], '\0');
    }
    aipm_buf_free(&b);
    aipm_buf_free(&b); /* freeing twice is harmless */
}

static void test_buf_json_str(void **state)
{
    /* s = 'a"b\\c\n\t\x01\x1f\x7fé/'
     * reference: python3 json.dumps(s, ensure_ascii=False) */
    const char in[] = "a\"b\\c\n\t\x01\x1f\x7f\xc3\xa9/";
    const char want[] = "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\x7f\xc3\xa9/\"";
    aipm_buf b;

    (void)state;
    aipm_buf_init(&b, 0);
    assert_int_equal(aipm_buf_put_json_str(&b, in, strlen(in)), AIPM_OK);
    assert_string_equal(aipm_buf_cstr(&b), want);
    aipm_buf_free(&b);
}

static void test_buf_json_str_round_trip(void **state)
{
    /* Every byte 0x00..0x7f, NUL included: jansson (an independent JSON
     * decoder) must read back exactly the input. */
    char in[128];
    aipm_buf b;
    json_t *v;
    json_error_t jerr;
    int i;

    (void)state;
    for (i = 0; i < 128; i++)
        in[i] = (char)i;
    aipm_buf_init(&b, 0);
    assert_int_equal(aipm_buf_put_json_str(&b, in, sizeof(in)), AIPM_OK);
    /* Raw control characters are not allowed in JSON strings. */
    for (i = 1; i + 1 < (int)b.len; i++)
        assert_true((unsigned char)b.ptr[i] >= 0x20);
    v = json_loadb(b.ptr, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    assert_non_null(v);
    assert_true(json_is_string(v));
    assert_int_equal(json_string_length(v), sizeof(in));
    assert_memory_equal(json_string_value(v), in, sizeof(in));
    json_decref(v);
    /* The empty string. */
    aipm_buf_reset(&b);
    assert_int_equal(aipm_buf_put_json_str(&b, "", 0), AIPM_OK);
    assert_string_equal(aipm_buf_cstr(&b), "\"\"");
    /* The escape that pushes past max fails. */
    aipm_buf_free(&b);
    aipm_buf_init(&b, 4);
    assert_int_equal(aipm_buf_put_json_str(&b, "\x01", 1), AIPM_EINVALID);
    aipm_buf_free(&b);
}

/* ---- aipm_strmap ---- */

static void test_strmap_grow(void **state)
{
    aipm_strmap m;
    char key[32];
    int i, idx, added;

    (void)state;
    aipm_strmap_init(&m, 0);
    assert_int_equal(aipm_strmap_find(&m, "a", 1), -1);
    /* 5000 keys: far past the first table of 64 slots, many rehashes. */
    for (i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        assert_int_equal(aipm_strmap_put(&m, key, strlen(key), &idx, &added),
                         AIPM_OK);
        assert_int_equal(added, 1);
        assert_int_equal(idx, i); /* dense, insertion order */
    }
    assert_int_equal(m.n_keys, 5000);
    for (i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        assert_int_equal(aipm_strmap_find(&m, key, strlen(key)), i);
        assert_string_equal(m.keys[i], key);
        assert_int_equal(aipm_strmap_put(&m, key, strlen(key), &idx, &added),
                         AIPM_OK);
        assert_int_equal(added, 0);
        assert_int_equal(idx, i);
    }
    assert_int_equal(aipm_strmap_find(&m, "key-5000", 8), -1);
    /* Lengths matter: "key-1" is not "key-10"'s prefix match. */
    assert_int_equal(aipm_strmap_find(&m, "key-10", 5), 1);
    /* Keys with NUL bytes are distinct by length. */
    assert_int_equal(aipm_strmap_put(&m, "a\0b", 3, &idx, &added), AIPM_OK);
    assert_int_equal(idx, 5000);
    assert_int_equal(aipm_strmap_put(&m, "a\0c", 3, &idx, &added), AIPM_OK);
    assert_int_equal(idx, 5001);
    assert_int_equal(aipm_strmap_find(&m, "a", 1), -1);
    aipm_strmap_free(&m);
}

/* reserve: room for n keys in one step, so that adding them neither
 * rehashes (the slot array stays the same one) nor moves the key arrays;
 * then it grows on as usual. 3000 keys need 8192 slots (load below 1/2). */
static void test_strmap_reserve(void **state)
{
    aipm_strmap m;
    char key[32];
    const uint64_t *slots;
    char **keys;
    int i, idx, added;

    (void)state;
    aipm_strmap_init(&m, 0);
    assert_int_equal(aipm_strmap_put(&m, "first", 5, &idx, &added), AIPM_OK);
    assert_int_equal(aipm_strmap_reserve(&m, 3000), AIPM_OK);
    assert_int_equal(m.n_slots, 8192);
    assert_true(m.cap_keys >= 3000);
    assert_int_equal(aipm_strmap_find(&m, "first", 5), 0); /* rehashed */
    slots = m.slots;
    keys = m.keys;
    for (i = 1; i < 3000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        assert_int_equal(aipm_strmap_put(&m, key, strlen(key), &idx, &added),
                         AIPM_OK);
        assert_int_equal(idx, i);
    }
    assert_ptr_equal(m.slots, slots);
    assert_ptr_equal(m.keys, keys);
    assert_int_equal(aipm_strmap_reserve(&m, 10), AIPM_OK); /* no-op */
    assert_ptr_equal(m.slots, slots);
    for (i = 3000; i < 6000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        assert_int_equal(aipm_strmap_put(&m, key, strlen(key), &idx, &added),
                         AIPM_OK);
    }
    for (i = 1; i < 6000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        assert_int_equal(aipm_strmap_find(&m, key, strlen(key)), i);
    }
    aipm_strmap_free(&m);
}

static void test_strmap_max_keys(void **state)
{
    aipm_strmap m;
    int i, idx = -7, added = 7;

    (void)state;
    aipm_strmap_init(&m, 5);
    for (i = 0; i < 5; i++) {
        char key[8];

        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(aipm_strmap_put(&m, key, strlen(key), &idx, &added),
                         AIPM_OK);
    }
    assert_int_equal(aipm_strmap_put(&m, "k5", 2, &idx, &added), AIPM_EINVALID);
    assert_int_equal(added, 0);
    assert_int_equal(m.n_keys, 5);
    assert_int_equal(aipm_strmap_find(&m, "k5", 2), -1);
    /* An existing key is still found through put. */
    assert_int_equal(aipm_strmap_put(&m, "k3", 2, &idx, &added), AIPM_OK);
    assert_int_equal(idx, 3);
    assert_int_equal(added, 0);
    aipm_strmap_free(&m);
}

/* ---- SHA-256, hex, UUID, errors ---- */

static void test_sha256(void **state)
{
    uint8_t d[32];
    char hex[65];
    aipm_sha256 h;

    (void)state;
    /* reference: python3 hashlib.sha256(b"abc").hexdigest() */
    aipm_sha256_oneshot(d, "abc", 3);
    aipm_hex(hex, d, 32);
    assert_string_equal(
        hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    aipm_sha256_init(&h);
    aipm_sha256_update(&h, "a", 1);
    aipm_sha256_update(&h, "", 0);
    aipm_sha256_update(&h, "bc", 2);
    aipm_sha256_final(&h, d);
    tu_hex(hex, d, 32);
    assert_string_equal(
        hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* reference: python3 hashlib.sha256(b"").hexdigest() */
    aipm_sha256_oneshot(d, "", 0);
    tu_hex(hex, d, 32);
    assert_string_equal(
        hex,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_sha256_1mb_pieces(void **state)
{
    /* buf = bytes((i*7+3) & 0xff for i in range(1<<20))
     * reference: python3 hashlib.sha256(buf).hexdigest() */
    static const char want[] =
        "172c15dc2e12b50e523d8e657cbe7fbb11c1053252bbf1e1431077d57d8128fd";
    static const size_t pieces[] = {1,   63,   64, 65, 0,
                                    127, 4096, 55, 56, 100003};
    size_t n = (size_t)1 << 20, i, off = 0, k = 0;
    unsigned char *buf = malloc(n);
    aipm_sha256 h;
    uint8_t d[32];
    char hex[65];

    (void)state;
    assert_non_null(buf);
    for (i = 0; i < n; i++)
        buf[i] = (unsigned char)((i * 7 + 3) & 0xff);
    aipm_sha256_init(&h);
    while (off < n) {
        size_t take = pieces[k++ % (sizeof(pieces) / sizeof(pieces[0]))];

        if (take > n - off)
            take = n - off;
        aipm_sha256_update(&h, buf + off, take);
        off += take;
    }
    aipm_sha256_final(&h, d);
    tu_hex(hex, d, 32);
    assert_string_equal(hex, want);
    aipm_sha256_oneshot(d, buf, n);
    tu_hex(hex, d, 32);
    assert_string_equal(hex, want);
    free(buf);
}

static void test_hex(void **state)
{
    static const uint8_t in[] = {0x00, 0x0f, 0xa0, 0xff, 0x5c};
    char out[11];

    (void)state;
    aipm_hex(out, in, sizeof(in));
    assert_string_equal(out, "000fa0ff5c"); /* by hand */
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void test_uuid4(void **state)
{
    char a[37], b[37];
    int i, k;

    (void)state;
    for (k = 0; k < 200; k++) {
        aipm_uuid4(a);
        /* RFC 4122 section 4.4: xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx with
         * V in 8, 9, a, b. */
        assert_int_equal(strlen(a), 36);
        for (i = 0; i < 36; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23)
                assert_int_equal(a[i], '-');
            else
                assert_true(is_hex(a[i]));
        }
        assert_int_equal(a[14], '4');
        assert_non_null(strchr("89ab", a[19]));
        aipm_uuid4(b);
        assert_string_not_equal(a, b);
    }
}

static void test_error_set_once(void **state)
{
    aipm_error err;

    (void)state;
    memset(&err, 0, sizeof(err));
    assert_int_equal(aipm_error_set(&err, AIPM_EINVALID, "first %d", 1),
                     AIPM_EINVALID);
    assert_int_equal(aipm_error_set(&err, AIPM_EIO, "second"), AIPM_EIO);
    assert_int_equal(err.code, AIPM_EINVALID);
    assert_string_equal(err.msg, "first 1");
    aipm_error_clear(&err);
    assert_int_equal(err.code, 0);
    assert_string_equal(err.msg, "");
    assert_int_equal(aipm_error_set(NULL, AIPM_ENOMEM, "x"), AIPM_ENOMEM);
}

/* ---- files (core/file.c) ---- */

/* The safe writer: content and a private mode; a link planted at its
 * temporary name (path.tmp.<pid>) removed, not written through; a
 * destination that is a FIFO or a folder refused, not waited on. The
 * expected bytes are the ones written; the mode is 0600 by issue 12. */
static void test_file_write(void **state)
{
    char dir[256], path[300], victim[300], tmp[400], *text;
    aipm_error err = {0};
    struct stat sb;
    mode_t old = umask(022);

    (void)state;
    assert_non_null(tu_mkdtemp(dir, sizeof(dir)));
    snprintf(path, sizeof(path), "%s/out", dir);
    snprintf(victim, sizeof(victim), "%s/victim", dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    assert_int_equal(tu_write(victim, "keep", 4), 0);
    assert_int_equal(symlink(victim, tmp), 0);
    assert_int_equal(aipm_file_write(path, "hello\n", 6, 0600, &err), AIPM_OK);
    text = tu_read(victim, NULL);
    assert_string_equal(text, "keep");
    free(text);
    text = tu_read(path, NULL);
    assert_string_equal(text, "hello\n");
    free(text);
    assert_int_equal(lstat(path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(lstat(tmp, &sb), -1);
    /* Replacing: a link at the destination itself is replaced, the file
     * it pointed to untouched. */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink(victim, path), 0);
    assert_int_equal(aipm_file_write(path, "new", 3, 0600, &err), AIPM_OK);
    text = tu_read(victim, NULL);
    assert_string_equal(text, "keep");
    free(text);
    assert_int_equal(lstat(path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    /* A FIFO or a folder at the destination: refused, with what it is. */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(aipm_file_write(path, "x", 1, 0600, &err), AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "a FIFO"));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0700), 0);
    aipm_error_clear(&err);
    assert_int_equal(aipm_file_write(path, "x", 1, 0600, &err), AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "a folder"));
    assert_int_equal(rmdir(path), 0);
    umask(old);
    tu_rmtree(dir);
}

/* The reader: whole regular files only; a FIFO is refused at once (a
 * blocking open would wait for a writer forever), a link refused. */
static void test_file_read(void **state)
{
    char dir[256], path[400], link_path[400], *text = NULL;
    aipm_error err = {0};
    size_t len = 0;

    (void)state;
    assert_non_null(tu_mkdtemp(dir, sizeof(dir)));
    snprintf(path, sizeof(path), "%s/in", dir);
    snprintf(link_path, sizeof(link_path), "%s/link", dir);
    assert_int_equal(aipm_file_read(&text, &len, path, 100, &err),
                     AIPM_ENOTFOUND);
    assert_int_equal(tu_write(path, "abc\0def", 7), 0);
    assert_int_equal(aipm_file_read(&text, &len, path, 100, &err), AIPM_OK);
    assert_int_equal(len, 7);
    assert_memory_equal(text, "abc\0def", 8); /* and the NUL after */
    free(text);
    aipm_error_clear(&err);
    assert_int_equal(aipm_file_read(&text, &len, path, 6, &err),
                     AIPM_EINVALID); /* larger than max */
    assert_int_equal(symlink(path, link_path), 0);
    aipm_error_clear(&err);
    assert_int_equal(aipm_file_read(&text, &len, link_path, 100, &err),
                     AIPM_EINVALID);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkfifo(path, 0600), 0);
    aipm_error_clear(&err);
    assert_int_equal(aipm_file_read(&text, &len, path, 100, &err),
                     AIPM_EINVALID);
    assert_non_null(strstr(err.msg, "a FIFO"));
    assert_null(text);
    tu_rmtree(dir);
}

/* Regression (fix audit): passwords in store URLs. The expected texts are
 * written by hand from the rules in the README ("shown as *** in every
 * message"): every password= / password: value, any case of the key, and
 * the userinfo password of any scheme, which runs to the LAST '@' before
 * the first '/' (libpq's rule: '?' and '#' do not end it). */
static void test_store_url_redact(void **state)
{
    static const char *const cases[][2] = {
        {"postgresql://h/db?sslpassword=x&password=secret",
         "postgresql://h/db?sslpassword=***&password=***"},
        {"postgresql://u:se?cret@h/db", "postgresql://u:***@h/db"},
        {"postgresql://u:se#cret@h/db", "postgresql://u:***@h/db"},
        {"postgresql://u:p@ss@h/db?x=1", "postgresql://u:***@h/db?x=1"},
        {"mysql://u:secret@h/db", "mysql://u:***@h/db"},
        {"Postgresql://u:secret@h/db", "Postgresql://u:***@h/db"},
        {"sqlite://u:secret@h/db", "sqlite://u:***@h/db"},
        {"host=h password=secret", "host=h password=***"},
        {"host=h PassWord = 'se cret' user=u",
         "host=h PassWord = '***' user=u"},
        {"postgresql://h/db?password=a1&PASSWORD=b2#f",
         "postgresql://h/db?password=***&PASSWORD=***#f"},
        {"postgresql://u@h/db", "postgresql://u@h/db"},
        {"/srv/aipm/aipm.db", "/srv/aipm/aipm.db"},
    };
    char out[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        aipm_store_url_redact(out, sizeof(out), cases[i][0]);
        assert_string_equal(out, cases[i][1]);
    }
    /* Cut short: still terminated, no password. */
    aipm_store_url_redact(out, 20, "postgresql://u:secretpw@h/db");
    assert_true(strlen(out) < 20);
    assert_null(strstr(out, "secret"));
}

/* Every message aipm_store_open gives hides the password, whichever
 * backend wrote it (these URLs reached the SQLite branch, whose "does not
 * exist" message showed them raw). */
static void test_store_open_hides_password(void **state)
{
    static const char *const urls[] = {
        "postgresql://h/db?sslpassword=x&password=secret",
        "postgresql://u:se?cret@h/db",
        "postgresql://u:se#cret@h/db",
        "mysql://u:secret@h/db",
        "Postgresql://u:secret@h/db",
        "sqlite://u:secret@h/db",
        "sqlite:host=h password=secret",
        "host=h password=secret",
        "/nonexistent-aipm/u:secret@h/db?password=secret",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        aipm_store *st = NULL;
        aipm_error err = {0, ""};

        assert_int_not_equal(aipm_store_open(&st, urls[i], 0, &err), AIPM_OK);
        assert_null(st);
        assert_true(err.msg[0] != '\0');
        if (strstr(err.msg, "cret") != NULL)
            fail_msg("%s: %s", urls[i], err.msg);
        assert_non_null(strstr(err.msg, "***"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_parse_valid),
        cmocka_unit_test(test_time_parse_respects_len),
        cmocka_unit_test(test_time_parse_date_only),
        cmocka_unit_test(test_time_parse_invalid),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_time_round_trip),
        cmocka_unit_test(test_now_env),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_utf8_in_long_ascii),
        cmocka_unit_test(test_utf8_cut),
        cmocka_unit_test(test_decimal_parse),
        cmocka_unit_test(test_buf_max),
        cmocka_unit_test(test_buf_json_str),
        cmocka_unit_test(test_buf_json_str_round_trip),
        cmocka_unit_test(test_strmap_grow),
        cmocka_unit_test(test_strmap_reserve),
        cmocka_unit_test(test_strmap_max_keys),
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_sha256_1mb_pieces),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_uuid4),
        cmocka_unit_test(test_error_set_once),
        cmocka_unit_test(test_file_write),
        cmocka_unit_test(test_file_read),
        cmocka_unit_test(test_store_url_redact),
        cmocka_unit_test(test_store_open_hides_password),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
