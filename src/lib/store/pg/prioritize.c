/* prioritize.c - the push-down reads of the backlog prioritizer (store.h,
 * "push-down reads for prioritize (signals)") in PostgreSQL's dialect,
 * statement for statement the SQLite backend's (sqlite/prioritize.c).
 *
 * Number columns of the datasets are DOUBLE PRECISION here: NULL (an
 * empty column) is NAN, anything else the stored double, which PostgreSQL
 * prints in the shortest text that reads back exactly.
 *
 * The payload properties the item and account reads take (item_id, arr,
 * plan) come out as the source text of the JSON value (json's ->, which
 * keeps a value as written: "1E2", "x\u0041", { "a" : 1 }); this file
 * then gives them SQLite's meaning, so that both backends agree on what
 * json_extract makes of them: the store.h rule "a JSON value as text"
 * (value_text) and SQLite's conversion to a real (value_real). Item ids
 * are grouped as SQLite's GROUP BY groups json_extract's results (see
 * item_users_sql): the string "1" apart from the number 1; 1, 1.0 and
 * true together; "xA" with "x\u0041".
 *
 * Known differences, all on payloads no ingest test writes: of a key
 * repeated in one object (or written both plainly and with escapes),
 * PostgreSQL reads the last value and SQLite the first plain one; two
 * reals (written with a point or an exponent) that are different decimals
 * but the same double are two item ids here and one in SQLite; a payload
 * holding \u0000 or an unpaired surrogate escape is an error here
 * (PostgreSQL's JSON functions refuse it), as it is for every other
 * PostgreSQL read of the properties (aipm_get).
 */
#include "store/pg/pg_int.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RELAY(cb, ctx) (&(aipm_pg__relay){(void (*)(void))(cb), (ctx)})

/* The newest accepted version of each backlog item, in the order stored. */
static const char items_sql[] =
    "SELECT id, title, area, feature_key, status, effort, created_at,"
    " shipped_at, reach, impact, confidence FROM v_backlog WHERE rid IN"
    " (SELECT max(rid) FROM v_backlog GROUP BY key) ORDER BY rid";

/* Integer division of a bigint truncates toward zero, as SQLite's. */
static const char dau_sql[] =
    "SELECT ts / 86400000, count(DISTINCT user_id) FROM v_events"
    " WHERE user_id IS NOT NULL GROUP BY 1 ORDER BY 1";

/* $1: [[event, label], ...], one small table the events join. */
static const char key_users_sql[] =
    "WITH fe(ev, k) AS MATERIALIZED (SELECT DISTINCT value ->> 0,"
    " value ->> 1 FROM jsonb_array_elements($1::jsonb))"
    " SELECT fe.k, e.ts / 86400000, count(DISTINCT e.user_id)"
    " FROM v_events e JOIN fe ON fe.ev = e.event"
    " WHERE e.user_id IS NOT NULL GROUP BY 1, 2";

/* SQLite's json_extract finds a key only as written, without escapes, so
 * a payload without "item_id" literally has none (SQLite's LIKE there is
 * the same filter, before the JSON parse). Each (value, day) group is
 * SQLite's GROUP BY on json_extract's result: numbers (true and false are
 * 1 and 0) by their value, strings, objects and arrays by their text
 * (objects and arrays written without the spaces between tokens); a JSON
 * null is no item_id. The key column is the source text of the group's
 * first row stored, the row SQLite takes the group's value from. */
static const char item_users_sql[] =
    "WITH x AS MATERIALIZED (SELECT rid, ts / 86400000 AS day, user_id,"
    "  payload::json -> 'item_id' AS v FROM v_events"
    "  WHERE type = 'track' AND user_id IS NOT NULL"
    "  AND strpos(payload, '\"item_id\"') > 0),"
    " g AS (SELECT CASE json_typeof(v)"
    "   WHEN 'number' THEN 'n' || trim_scale(v::text::numeric)::text"
    "   WHEN 'boolean' THEN CASE WHEN v::text = 'true' THEN 'n1' ELSE 'n0' END"
    "   WHEN 'string' THEN 't' || (v #>> '{}')"
    "   ELSE 't' || regexp_replace(v::text,"
    "    '(\"(?:[^\"\\\\]|\\\\.)*\")|[ \\t\\n\\r]+', '\\1', 'g') END AS k,"
    "  day, min(rid) AS first, count(DISTINCT user_id) AS users FROM x"
    "  WHERE json_typeof(v) <> 'null' GROUP BY 1, 2)"
    " SELECT x.v::text, g.day, g.users FROM g JOIN x ON x.rid = g.first";

/* Every version of every row, in the order stored. */
static const char signals_sql[] =
    "SELECT coalesce(area, ''), signal, date, value FROM v_signals"
    " ORDER BY rid";

/* Each account's newest group traits before $1 (the as-of time); on a tie
 * of timestamps the row stored first, the one SQLite's max(ts) keeps (its
 * bare columns come from the first row holding the maximum). */
static const char accounts_sql[] =
    "SELECT DISTINCT ON (group_id COLLATE \"C\") group_id,"
    " CASE WHEN strpos(payload, '\"arr\"') > 0"
    "  THEN (payload::json -> 'arr')::text END,"
    " CASE WHEN strpos(payload, '\"plan\"') > 0"
    "  THEN (payload::json -> 'plan')::text END, ts"
    " FROM v_events WHERE type = 'group' AND group_id IS NOT NULL"
    " AND ts < $1 ORDER BY group_id COLLATE \"C\", ts DESC, rid";

/* A number column: NAN when NULL, else the stored double. */
static double num_or_nan(PGresult *r, int col)
{
    const char *text = aipm_pg__col(r, col);

    return text ? strtod(text, NULL) : NAN;
}

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    return s;
}

static unsigned hex4(const char *s)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        char c = s[i];

        v = v * 16 + (unsigned)(c >= '0' && c <= '9'   ? c - '0'
                                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                       : 0);
    }
    return v;
}

/* A JSON string literal (s at its opening quote, valid JSON: the server
 * checked it) decoded as SQLite 3.40's json_extract decodes it: escapes
 * resolved, a surrogate pair as one code point, any other \uXXXX as its
 * own UTF-8 bytes, and \u0000 ending the text. malloc'd; NULL when out of
 * memory. */
static char *json_string_text(const char *s)
{
    size_t n = strlen(s), i, j = 0;
    char *out = malloc(n + 1); /* decoding never lengthens */

    if (out == NULL)
        return NULL;
    for (i = 1; i < n && s[i] != '"'; i++) {
        char c = s[i];
        unsigned v, lo;

        if (c != '\\') {
            out[j++] = c;
            continue;
        }
        c = s[++i];
        if (c != 'u') {
            out[j++] = c == 'b'   ? '\b'
                       : c == 'f' ? '\f'
                       : c == 'n' ? '\n'
                       : c == 'r' ? '\r'
                       : c == 't' ? '\t'
                                  : c;
            continue;
        }
        v = hex4(s + i + 1);
        i += 4;
        if (v == 0)
            break;
        if (v <= 0x7f) {
            out[j++] = (char)v;
        } else if (v <= 0x7ff) {
            out[j++] = (char)(0xc0 | (v >> 6));
            out[j++] = (char)(0x80 | (v & 0x3f));
        } else if ((v & 0xfc00) == 0xd800 && i + 6 < n && s[i + 1] == '\\' &&
                   s[i + 2] == 'u' &&
                   ((lo = hex4(s + i + 3)) & 0xfc00) == 0xdc00) {
            v = ((v & 0x3ff) << 10) + (lo & 0x3ff) + 0x10000;
            i += 6;
            out[j++] = (char)(0xf0 | (v >> 18));
            out[j++] = (char)(0x80 | ((v >> 12) & 0x3f));
            out[j++] = (char)(0x80 | ((v >> 6) & 0x3f));
            out[j++] = (char)(0x80 | (v & 0x3f));
        } else {
            out[j++] = (char)(0xe0 | (v >> 12));
            out[j++] = (char)(0x80 | ((v >> 6) & 0x3f));
            out[j++] = (char)(0x80 | (v & 0x3f));
        }
    }
    out[j] = '\0';
    return out;
}

/* A JSON object or array as SQLite shows it: its source text without the
 * whitespace between tokens. malloc'd; NULL when out of memory. */
static char *json_minified(const char *s)
{
    char *out = malloc(strlen(s) + 1);
    size_t j = 0;
    int in_string = 0;

    if (out == NULL)
        return NULL;
    for (; *s; s++) {
        if (in_string) {
            out[j++] = *s;
            if (*s == '\\' && s[1])
                out[j++] = *++s;
            else if (*s == '"')
                in_string = 0;
        } else if (*s == '"') {
            out[j++] = *s;
            in_string = 1;
        } else if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') {
            out[j++] = *s;
        }
    }
    out[j] = '\0';
    return out;
}

/* A JSON number literal as SQLite's json_extract returns it: an integer
 * when it is one that fits 64 bits, else a real (*is_int says which). */
static double json_number(const char *s, int64_t *i, int *is_int)
{
    char *end;

    *is_int = 0;
    if (strpbrk(s, ".eE") == NULL) {
        errno = 0;
        *i = strtoll(s, &end, 10);
        if (errno == 0) {
            *is_int = 1;
            return (double)*i;
        }
    }
    return strtod(s, NULL);
}

/* A real as SQLite 3.40 prints it ("%!.15g"): 15 significant digits, a
 * ".0" where the digits would read as an integer, Inf for infinity. */
static void real_text(char *buf, size_t cap, double v)
{
    char *e;
    size_t n;

    if (isinf(v)) {
        snprintf(buf, cap, "%s", v < 0 ? "-Inf" : "Inf");
        return;
    }
    if (v == 0)
        v = 0; /* SQLite prints -0.0 as 0.0 */
    n = (size_t)snprintf(buf, cap, "%.15g", v);
    if (n + 3 > cap || strchr(buf, '.'))
        return;
    if ((e = strchr(buf, 'e')) != NULL) {
        memmove(e + 2, e, strlen(e) + 1);
        memcpy(e, ".0", 2);
    } else {
        memcpy(buf + n, ".0", 3);
    }
}

/* A JSON value's source text as text (store.h: "a JSON value as text"):
 * NULL for NULL or JSON null, else malloc'd (*oom set when it could not
 * be). */
static char *value_text(const char *raw, int *oom)
{
    char buf[64], *out;
    int64_t i;
    int is_int;
    double v;

    if (raw == NULL || *(raw = skip_ws(raw)) == 'n')
        return NULL;
    if (*raw == '"')
        out = json_string_text(raw);
    else if (*raw == '{' || *raw == '[')
        out = json_minified(raw);
    else if (*raw == 't' || *raw == 'f')
        out = strdup(*raw == 't' ? "1" : "0");
    else {
        v = json_number(raw, &i, &is_int);
        if (is_int)
            snprintf(buf, sizeof(buf), "%lld", (long long)i);
        else
            real_text(buf, sizeof(buf), v);
        out = strdup(buf);
    }
    *oom = out == NULL;
    return out;
}

/* Text converted to a real as SQLite converts it: the decimal number its
 * text begins with after leading spaces (sign, digits, point, exponent;
 * no hexadecimal, no "inf"), 0 when none. */
static double text_real(const char *s)
{
    const char *start, *p, *q;
    char buf[512], *copy;
    size_t n;
    int digits = 0;
    double v;

    while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        s++;
    start = p = s;
    if (*p == '+' || *p == '-')
        p++;
    for (; *p >= '0' && *p <= '9'; p++)
        digits++;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits++;
    if (digits == 0)
        return *start == '-' ? -0.0 : 0.0; /* SQLite's sign of zero */
    if (*p == 'e' || *p == 'E') {
        q = p + 1;
        if (*q == '+' || *q == '-')
            q++;
        if (*q >= '0' && *q <= '9') {
            while (*q >= '0' && *q <= '9')
                q++;
            p = q;
        }
    }
    n = (size_t)(p - start);
    copy = n < sizeof(buf) ? buf : malloc(n + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, start, n);
    copy[n] = '\0';
    v = strtod(copy, NULL);
    if (copy != buf)
        free(copy);
    return v;
}

/* A JSON value's source text as a number (store.h, aipm_account_arr_plan
 * .arr): NAN for NULL, JSON null or the empty string. *oom set when out of
 * memory. */
static double value_real(const char *raw, int *oom)
{
    char *text;
    int64_t i;
    int is_int;
    double v;

    if (raw == NULL || *(raw = skip_ws(raw)) == 'n')
        return NAN;
    if (*raw == 't' || *raw == 'f')
        return *raw == 't';
    if (*raw == '{' || *raw == '[')
        return 0;
    if (*raw != '"')
        return json_number(raw, &i, &is_int);
    if ((text = json_string_text(raw)) == NULL) {
        *oom = 1;
        return NAN;
    }
    v = *text ? text_real(text) : NAN;
    free(text);
    return v;
}

static int item_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_backlog_item row;

    row.id = aipm_pg__col(r, 0);
    row.title = aipm_pg__col(r, 1);
    row.area = aipm_pg__col(r, 2);
    row.feature_key = aipm_pg__col(r, 3);
    row.status = aipm_pg__col(r, 4);
    row.effort = num_or_nan(r, 5);
    row.created_at = aipm_pg__col(r, 6);
    row.shipped_at = aipm_pg__col(r, 7);
    row.reach = num_or_nan(r, 8);
    row.impact = num_or_nan(r, 9);
    row.confidence = num_or_nan(r, 10);
    return ((aipm_backlog_item_cb)rl->cb)(rl->ctx, &row);
}

int pg_backlog_items(aipm_store *base, aipm_backlog_item_cb cb, void *ctx,
                     aipm_error *err)
{
    return aipm_pg__each_row((pg_store *)base, items_sql, NULL, item_each,
                             RELAY(cb, ctx), err);
}

/* A (key, day, users) row, or (day, users) for a statement without a key
 * column. */
static int users_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    int k = PQnfields(r) == 3;
    aipm_daily_users row;

    row.key = k ? aipm_pg__col(r, 0) : NULL;
    row.day = aipm_pg__col_int(r, k);
    row.users = aipm_pg__col_int(r, k + 1);
    if (k && row.key == NULL)
        return 0;
    return ((aipm_daily_users_cb)rl->cb)(rl->ctx, &row);
}

int pg_daily_active_users(aipm_store *base, aipm_daily_users_cb cb, void *ctx,
                          aipm_error *err)
{
    return aipm_pg__each_row((pg_store *)base, dau_sql, NULL, users_each,
                             RELAY(cb, ctx), err);
}

int pg_event_daily_users(aipm_store *base, const char *const *events,
                         const char *const *labels, int n,
                         aipm_daily_users_cb cb, void *ctx, aipm_error *err)
{
    pg_params p = {0};
    char *pairs;
    int rc;

    if (n <= 0)
        return AIPM_OK;
    if ((pairs = aipm_store__label_pairs_json(events, labels, n)) == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    aipm_pg__text(&p, pairs);
    rc = aipm_pg__each_row((pg_store *)base, key_users_sql, &p, users_each,
                           RELAY(cb, ctx), err);
    free(pairs);
    return rc;
}

typedef struct item_relay {
    aipm_daily_users_cb cb;
    void *ctx;
    int oom;
} item_relay;

static int item_users_each(PGresult *r, void *ctx)
{
    item_relay *rl = ctx;
    aipm_daily_users row;
    char *key;
    int rc;

    key = value_text(aipm_pg__col(r, 0), &rl->oom);
    if (key == NULL)
        return rl->oom ? AIPM_ENOMEM : 0;
    row.key = key;
    row.day = aipm_pg__col_int(r, 1);
    row.users = aipm_pg__col_int(r, 2);
    rc = rl->cb(rl->ctx, &row);
    free(key);
    return rc;
}

int pg_item_daily_users(aipm_store *base, aipm_daily_users_cb cb, void *ctx,
                        aipm_error *err)
{
    item_relay rl = {cb, ctx, 0};
    int rc = aipm_pg__each_row((pg_store *)base, item_users_sql, NULL,
                               item_users_each, &rl, err);

    return rl.oom ? aipm_error_set(err, AIPM_ENOMEM, "out of memory") : rc;
}

static int signal_each(PGresult *r, void *ctx)
{
    aipm_pg__relay *rl = ctx;
    aipm_market_signal row;

    row.area = aipm_pg__col(r, 0);
    row.signal = aipm_pg__col(r, 1);
    row.date = aipm_pg__col(r, 2);
    row.value = num_or_nan(r, 3);
    return ((aipm_market_signal_cb)rl->cb)(rl->ctx, &row);
}

int pg_market_signals(aipm_store *base, aipm_market_signal_cb cb, void *ctx,
                      aipm_error *err)
{
    return aipm_pg__each_row((pg_store *)base, signals_sql, NULL, signal_each,
                             RELAY(cb, ctx), err);
}

typedef struct account_relay {
    aipm_account_arr_plan_cb cb;
    void *ctx;
    int oom;
} account_relay;

static int account_each(PGresult *r, void *ctx)
{
    account_relay *rl = ctx;
    aipm_account_arr_plan row;
    char *plan;
    int rc;

    row.account_id = aipm_pg__col(r, 0);
    row.arr = value_real(aipm_pg__col(r, 1), &rl->oom);
    plan = value_text(aipm_pg__col(r, 2), &rl->oom);
    if (rl->oom) {
        free(plan);
        return AIPM_ENOMEM;
    }
    row.plan = plan;
    row.time_ms = aipm_pg__col_int(r, 3);
    rc = rl->cb(rl->ctx, &row);
    free(plan);
    return rc;
}

int pg_account_arr_plan(aipm_store *base, int64_t before_ms,
                        aipm_account_arr_plan_cb cb, void *ctx, aipm_error *err)
{
    account_relay rl = {cb, ctx, 0};
    pg_params p = {0};
    int rc;

    aipm_pg__int(&p, before_ms);
    rc = aipm_pg__each_row((pg_store *)base, accounts_sql, &p, account_each,
                           &rl, err);
    return rl.oom ? aipm_error_set(err, AIPM_ENOMEM, "out of memory") : rc;
}
