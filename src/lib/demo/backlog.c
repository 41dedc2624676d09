/* backlog.c - the demo's backlog, feedback and market signals, with truth.
 *
 * demo_backlog_make draws N_ITEMS backlog items once the product and the
 * users exist: each is a product concept and an action (language.c; no
 * two items share both, and the concept sets the area), maybe a catalog
 * feature, an effort, a hidden demand (the expected number of feedback
 * rows) and a true value (users per 10,000 DAU) from a log-linear model of
 * demand and the area's hidden reach and trend. About three in four items
 * carry the PM's RICE guesses: informative, but noisy.
 *
 * demo_backlog_write writes backlog.csv, feedback.csv and signals.csv and
 * adds their truth. Feedback is written the way customers write
 * (language.c): their own words for a feature, typos, several asks in one
 * message, chatter about no item; a few rows carry the item_id support
 * gave them, and DEMO_CORRECTIONS untagged rows are the links a PM makes
 * while reviewing (truth.json "feedback.corrections"; `aipm demo` applies
 * them). A CSV file is built in memory as a list of good lines,
 * a list of bad lines and a list of "extras" (a bad line, or an exact
 * re-send of a good line) each placed before a good line. Bad lines go at
 * random positions, re-sends after their original; each bad line breaks
 * exactly one rule of the contract, so its quarantine reason is certain.
 *
 * Every draw comes from d->rng in a fixed order: the same seed gives the
 * same bytes. Nothing here is shared between threads.
 */
#include "demo/demo_int.h"

#include <ctype.h>
#include <errno.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_ITEMS 160
#define TEXT_MAX DEMO_TEXT_MAX

/* The value model (truth.json "backlog.value_model"). */
#define V_INTERCEPT 1.0
#define V_LOG1P_DEMAND 0.45
#define V_AREA_REACH 2.0
#define V_AREA_TREND 1.5
#define V_NOISE_SD 0.35

static const char *const sources[] = {"support", "sales_call", "nps",
                                      "community", "in_app"};
static const double source_cum[] = {0.35, 0.50, 0.65, 0.80, 1.0};

static const char *const signal_names[] = {"search_volume",
                                           "competitor_mentions"};

/* The kinds of bad CSV rows planted, by their names in demo_bad_kinds. */
enum { K_MALFORMED, K_MISSING, K_VALUE, K_TIMESTAMP, K_UTF8, N_KINDS };
static const char *const kind_names[N_KINDS] = {
    "malformed_csv", "missing_field", "bad_value", "bad_timestamp",
    "invalid_utf8"};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- small helpers ---- */

static int uniform_int(gsl_rng *r, int lo, int hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int)gsl_rng_uniform_int(r, (unsigned long)(hi - lo + 1));
}

static int status_index(const char *name)
{
    int i;

    for (i = 0; i < 5; i++)
        if (strcmp(demo_statuses[i], name) == 0)
            return i;
    return -1;
}

static int bad_kind_index(const char *name)
{
    int i;

    for (i = 0; i < N_BAD_KINDS; i++)
        if (strcmp(demo_bad_kinds[i], name) == 0)
            return i;
    return -1;
}

static int64_t share_count(double share, int64_t rows)
{
    int64_t n = (int64_t)llround(share * (double)rows);

    return n < 1 ? 1 : n;
}

/* ---- making the items ---- */

/* Draw the concept and action of items[idx], redrawn until no earlier
 * item has both (160 of 504 pairs in use: a redraw is cheap). */
static void make_concept(gsl_rng *r, demo_item *items, int idx)
{
    demo_item *it = &items[idx];
    int i, taken;

    do {
        it->concept = uniform_int(r, 0, DEMO_N_CONCEPTS - 1);
        it->action = uniform_int(r, 0, DEMO_N_ACTIONS - 1);
        for (taken = 0, i = 0; i < idx && !taken; i++)
        taken =
            items[i].concept == it->concept && items[i].action == it->action;
    } while (taken);
    it->area = demo_concepts[it->concept].area;
}

typedef struct ranked {
    double score;
    int item;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;

    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return x->item - y->item;
}

int demo_backlog_make(demo *d, aipm_error *err)
{
    static const double impacts[] = {0.25, 0.5, 1, 2, 3};
    static const double impact_cum[] = {0.15, 0.40, 0.70, 0.90, 1.0};
    gsl_rng *r = d->rng;
    demo_item *items;
    int perm[N_ITEMS], n_shipped = (int)lround(N_ITEMS / 3.0);
    int st_shipped = status_index("shipped"), others[4], i, k, n_rice = 0;
    ranked rank[N_ITEMS];
    int days = d->o.days;

    if (st_shipped < 0 || (others[0] = status_index("idea")) < 0 ||
        (others[1] = status_index("planned")) < 0 ||
        (others[2] = status_index("in_progress")) < 0 ||
        (others[3] = status_index("dropped")) < 0)
        return aipm_error_set(err, AIPM_ERROR, "demo: unknown status names");
    if (days < 1)
        return aipm_error_set(err, AIPM_EINVALID, "demo: no days");
    items = calloc(N_ITEMS, sizeof(*items));
    if (items == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");

    for (i = 0; i < N_ITEMS; i++) {
        demo_item *it = &items[i];
        double log_value;

        snprintf(it->id, sizeof(it->id), "BL-%d", i + 1);
        make_concept(r, items, i);
        it->feature = -1;
        if (gsl_rng_uniform(r) < 0.7) {
            int n_in_area = 0, pick;

            for (k = 0; k < d->n_features; k++)
                n_in_area += d->features[k].area == it->area;
            if (n_in_area > 0) {
                pick = uniform_int(r, 0, n_in_area - 1);
                for (k = 0; k < d->n_features; k++)
                    if (d->features[k].area == it->area && pick-- == 0)
                        it->feature = k;
            }
        }
        demo_lang_title(r, it, it->title, 120);
        /* Effort: lognormal, median 3 person-weeks, to the half week. */
        it->effort = gsl_ran_lognormal(r, log(3.0), 0.8);
        it->effort = fmin(20.0, fmax(0.5, round(it->effort * 2) / 2));
        it->demand = gsl_ran_gamma(r, 1.5, 4.0);
        log_value = V_INTERCEPT + V_LOG1P_DEMAND * log1p(it->demand) +
                    V_AREA_REACH * d->area_reach[it->area] +
                    V_AREA_TREND * d->area_trend[it->area] +
                    gsl_ran_gaussian(r, V_NOISE_SD);
        it->value = exp(log_value);
        it->created_day = uniform_int(r, -60, days - 30);
    }

    /* Exactly a third ship, chosen at random; each shipped item has at
     * least 21 days of outcome data in the period (when it is long
     * enough: days >= 28). */
    for (i = 0; i < N_ITEMS; i++)
        perm[i] = i;
    gsl_ran_shuffle(r, perm, N_ITEMS, sizeof(int));
    for (i = 0; i < N_ITEMS; i++)
        items[i].status = -1;
    for (i = 0; i < n_shipped; i++)
        items[perm[i]].status = st_shipped;
    for (i = 0; i < N_ITEMS; i++) {
        demo_item *it = &items[i];

        if (it->status == st_shipped) {
            int lo = it->created_day + 7 > 7 ? it->created_day + 7 : 7;
            int hi = days - 21;

            it->shipped_day = hi >= lo ? uniform_int(r, lo, hi) : hi;
            if (it->shipped_day < 0)
                it->shipped_day = 0;
        } else {
            double u = gsl_rng_uniform(r);

            it->status = others[u < 0.35 ? 0 : u < 0.60 ? 1 : u < 0.80 ? 2 : 3];
            it->shipped_day = -1;
        }
    }

    /* RICE guesses. Reach scales with the true value times lognormal
     * noise; impact is the value's noisy rank cut into the usual five
     * steps; confidence is the PM's mood. */
    for (i = 0; i < N_ITEMS; i++) {
        demo_item *it = &items[i];
        double u;

        it->has_rice = gsl_rng_uniform(r) < 0.75;
        if (!it->has_rice)
            continue;
        it->reach = round(it->value * 40 * gsl_ran_lognormal(r, 0, 0.5));
        rank[n_rice].score = log(it->value) + gsl_ran_gaussian(r, 0.6);
        rank[n_rice].item = i;
        n_rice++;
        u = gsl_rng_uniform(r);
        it->confidence = u < 0.3 ? 0.5 : u < 0.75 ? 0.8 : 1.0;
    }
    qsort(rank, (size_t)n_rice, sizeof(rank[0]), cmp_ranked);
    for (i = 0; i < n_rice; i++) {
        double q = (i + 0.5) / n_rice;

        for (k = 0; k < 4 && q >= impact_cum[k]; k++)
            ;
        items[rank[i].item].impact = impacts[k];
    }
    d->items = items;
    d->n_items = N_ITEMS;
    return AIPM_OK;
}

/* ---- CSV files in memory: good lines, bad lines, extras ---- */

typedef struct lines {
    aipm_buf text; /* the lines, each ending in \n */
    size_t *off;   /* line i is text[off[i], off[i + 1]) */
    size_t n, cap;
    int failed; /* an allocation failed: report once, at the end */
} lines;

typedef struct extra {
    size_t before; /* written just before good line `before` (n: at end) */
    size_t seq;    /* creation order: ties keep it */
    int bad;       /* 1: bad line `line`; 0: re-send of good line `line` */
    size_t line;
} extra;

static void lines_init(lines *l)
{
    aipm_buf_init(&l->text, (size_t)1 << 30);
    l->off = NULL;
    l->n = l->cap = 0;
    l->failed = 0;
}

static void lines_free(lines *l)
{
    aipm_buf_free(&l->text);
    free(l->off);
    l->off = NULL;
}

/* Start a line; the offset array keeps one spare slot for the end. */
static void line_begin(lines *l)
{
    if (l->n + 2 > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        size_t *off = realloc(l->off, cap * sizeof(*off));

        if (off == NULL) {
            l->failed = 1;
            return;
        }
        l->off = off;
        l->cap = cap;
    }
    if (l->failed)
        return;
    l->off[l->n++] = l->text.len;
    l->off[l->n] = l->text.len;
}

static void line_put(lines *l, const char *s, size_t len)
{
    if (!l->failed && aipm_buf_put(&l->text, s, len) != 0)
        l->failed = 1;
}

static void line_end(lines *l)
{
    line_put(l, "\n", 1);
    if (!l->failed)
        l->off[l->n] = l->text.len;
}

/* One CSV record. RFC 4180: a field holding a comma, a quote, CR or LF is
 * quoted and its quotes doubled. Fields in raw_mask are written as they
 * are (how a stray quote gets into an unquoted field). A NULL field is
 * empty. */
static void put_record(lines *l, const char *const *fields, int n,
                       unsigned raw_mask)
{
    int i;

    line_begin(l);
    for (i = 0; i < n; i++) {
        const char *s = fields[i] ? fields[i] : "";

        if (i)
            line_put(l, ",", 1);
        if ((raw_mask >> i & 1u) || strpbrk(s, ",\"\r\n") == NULL) {
            line_put(l, s, strlen(s));
            continue;
        }
        line_put(l, "\"", 1);
        for (; *s; s++) {
            if (*s == '"')
                line_put(l, "\"\"", 2);
            else
                line_put(l, s, 1);
        }
        line_put(l, "\"", 1);
    }
    line_end(l);
}

static int cmp_extra(const void *a, const void *b)
{
    const extra *x = a, *y = b;

    if (x->before != y->before)
        return x->before < y->before ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Write header, good lines and extras (sorted here) to outdir/name. */
static int write_csv(const char *outdir, const char *name, const char *header,
                     const lines *good, const lines *bad, extra *extras,
                     size_t n_extras, aipm_error *err)
{
    char path[4200];
    aipm_file_out out;
    FILE *f;
    size_t g, e = 0;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", outdir, name);
    if (n_extras)
        qsort(extras, n_extras, sizeof(*extras), cmp_extra);
    if ((rc = aipm_file_out_open(&out, path, 0600, err)) != 0)
        return rc;
    f = out.f;
    fputs(header, f);
    fputc('\n', f);
    for (g = 0; g <= good->n; g++) {
        for (; e < n_extras && extras[e].before == g; e++) {
            const lines *src = extras[e].bad ? bad : good;
            size_t k = extras[e].line;

            fwrite(src->text.ptr + src->off[k], 1,
                   src->off[k + 1] - src->off[k], f);
        }
        if (g < good->n)
            fwrite(good->text.ptr + good->off[g], 1,
                   good->off[g + 1] - good->off[g], f);
    }
    return aipm_file_out_commit(&out, err);
}

/* Exact re-sends: max(1, round(share * rows)) good lines (drawn with
 * replacement), each placed after its original. Returns the count. */
static size_t add_resends(gsl_rng *r, double share, const lines *good,
                          extra *extras, size_t *n_extras)
{
    size_t n = 0, want, i;

    if (share <= 0 || good->n == 0)
        return 0;
    want = (size_t)share_count(share, (int64_t)good->n);
    if (want > good->n)
        want = good->n;
    for (i = 0; i < want; i++) {
        size_t line = (size_t)uniform_int(r, 0, (int)good->n - 1);
        extra *x = &extras[(*n_extras)++];

        x->line = line;
        x->before = (size_t)uniform_int(r, (int)line + 1, (int)good->n);
        x->seq = *n_extras;
        x->bad = 0;
        n++;
    }
    return n;
}

/* Record a bad line just written to `bad`, at a random position. */
static void add_bad(gsl_rng *r, const lines *good, const lines *bad,
                    extra *extras, size_t *n_extras)
{
    extra *x = &extras[(*n_extras)++];

    x->line = bad->n - 1;
    x->before = (size_t)uniform_int(r, 0, (int)good->n);
    x->seq = *n_extras;
    x->bad = 1;
}

static json_t *kind_counts(const int64_t counts[N_KINDS])
{
    json_t *o = json_object();
    int k;

    for (k = 0; k < N_KINDS; k++)
        if (counts[k])
            json_object_set_new(o, kind_names[k], json_integer(counts[k]));
    return o;
}

/* s with a byte inserted after its first `at` characters. */
static void insert_byte(char *out, size_t cap, const char *s, size_t at,
                        const char *byte)
{
    size_t len = strlen(s);

    if (at > len)
        at = len;
    snprintf(out, cap, "%.*s%s%s", (int)at, s, byte, s + at);
}

/* ---- backlog.csv ---- */

typedef struct bl_row {
    char effort[24], created[16], shipped[16], reach[32], impact[16], conf[16];
    const char *f[12];
} bl_row;

static void backlog_fields(const demo *d, const demo_item *it, const char *desc,
                           bl_row *row)
{
    demo_date(d, it->created_day, row->created);
    if (it->shipped_day >= 0)
        demo_date(d, it->shipped_day, row->shipped);
    snprintf(row->effort, sizeof(row->effort), "%.1f", it->effort);
    snprintf(row->reach, sizeof(row->reach), "%.0f", it->reach);
    snprintf(row->impact, sizeof(row->impact), "%g", it->impact);
    snprintf(row->conf, sizeof(row->conf), "%.1f", it->confidence);
    row->f[0] = it->id;
    row->f[1] = it->title;
    row->f[2] = desc;
    row->f[3] = demo_areas[it->area];
    row->f[4] = row->effort;
    row->f[5] = demo_statuses[it->status];
    row->f[6] = row->created;
    row->f[7] = it->shipped_day >= 0 ? row->shipped : NULL;
    row->f[8] = it->feature >= 0 ? d->features[it->feature].key : NULL;
    row->f[9] = it->has_rice ? row->reach : NULL;
    row->f[10] = it->has_rice ? row->impact : NULL;
    row->f[11] = it->has_rice ? row->conf : NULL;
}

/* Add the item's concept and action and the customers' phrasings of each
 * to its truth object o; returns o. */
static json_t *item_language(const demo_item *it, json_t *o)
{
    const demo_concept *c = &demo_concepts[it->concept];
    const demo_action *a = &demo_actions[it->action];
    json_t *cp = json_array(), *ap = json_array();
    int k;

    for (k = 0; k < DEMO_MAX_PHRASES; k++) {
        if (c->phrases[k])
            json_array_append_new(cp, json_string(c->phrases[k]));
        if (a->phrases[k])
            json_array_append_new(ap, json_string(a->phrases[k]));
    }
    json_object_set_new(o, "concept", json_string(c->term));
    json_object_set_new(o, "action", json_string(a->title));
    json_object_set_new(o, "concept_phrases", cp);
    json_object_set_new(o, "action_phrases", ap);
    return o;
}

static int write_backlog(demo *d, const char *outdir, json_t *truth,
                         const int64_t *feedback_rows, int64_t bad_counts[],
                         int64_t *resent, aipm_error *err)
{
    static const char header[] = "id,title,description,area,effort,status,"
                                 "created_at,shipped_at,feature_key,reach,"
                                 "impact,confidence";
    gsl_rng *r = d->rng;
    char(*desc)[256] = NULL;
    lines good, bad;
    extra *extras = NULL;
    size_t n_extras = 0, max_extras;
    int64_t per_kind = 0;
    json_t *items_json = json_array(), *model;
    int i, k, rc = AIPM_OK, n_bad_id = 0;

    lines_init(&good);
    lines_init(&bad);
    desc = calloc(N_ITEMS, sizeof(*desc));
    if (d->o.bad_share > 0)
        per_kind = share_count(d->o.bad_share, d->n_items);
    max_extras = (size_t)(per_kind * N_KINDS) + (size_t)d->n_items + 1;
    extras = calloc(max_extras, sizeof(*extras));
    if (desc == NULL || extras == NULL || items_json == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < d->n_items; i++) {
        const demo_item *it = &d->items[i];
        bl_row row;
        char shipped[16];

        demo_lang_description(r, it, desc[i], sizeof(desc[i]));
        backlog_fields(d, it, desc[i], &row);
        put_record(&good, row.f, 12, 0);
        if (it->shipped_day >= 0)
            demo_date(d, it->shipped_day, shipped);
        json_array_append_new(
            items_json,
            item_language(
                it,
                json_pack(
                    "{s:s, s:s, s:o, s:s, s:o, s:o, s:f, s:f, s:f, s:I}", "id",
                    it->id, "area", demo_areas[it->area], "feature_key",
                    it->feature >= 0 ? json_string(d->features[it->feature].key)
                                     : json_null(),
                    "status", demo_statuses[it->status], "shipped_day",
                    it->shipped_day >= 0 ? json_integer(it->shipped_day)
                                         : json_null(),
                    "shipped_at",
                    it->shipped_day >= 0 ? json_string(shipped) : json_null(),
                    "effort", it->effort, "demand", it->demand, "value",
                    it->value, "feedback_rows", (json_int_t)feedback_rows[i])));
    }

    /* Bad rows: a copy of a random item under a new id (BL-X<n>), with
     * exactly one rule broken. */
    for (k = 0; k < N_KINDS; k++) {
        int64_t j;

        for (j = 0; j < per_kind; j++) {
            int base = uniform_int(r, 0, d->n_items - 1);
            int variant = gsl_rng_uniform(r) < 0.5;
            const demo_item *it = &d->items[base];
            char id[24], field[160];
            bl_row row;
            unsigned raw = 0;
            const char *f[13];
            int n_fields = 12;

            backlog_fields(d, it, desc[base], &row);
            memcpy(f, row.f, sizeof(row.f));
            snprintf(id, sizeof(id), "BL-X%d", ++n_bad_id);
            f[0] = id;
            switch (k) {
            case K_MALFORMED:
                if (variant) {
                    f[n_fields++] = "extra";
                } else { /* a stray quote inside an unquoted title */
                    insert_byte(field, sizeof(field), it->title, 2, "\"");
                    f[1] = field;
                    raw = 1u << 1;
                }
                break;
            case K_MISSING:
                f[variant ? 0 : 1] = NULL;
                break;
            case K_VALUE:
                if (variant)
                    f[4] = "-1";
                else
                    f[5] = "someday";
                break;
            case K_TIMESTAMP:
                f[6] = variant ? "last week" : "2026-13-45";
                break;
            default: /* K_UTF8 */
                insert_byte(field, sizeof(field), it->title, 4, "\xff");
                f[1] = field;
                break;
            }
            put_record(&bad, f, n_fields, raw);
            if (!bad.failed)
                add_bad(r, &good, &bad, extras, &n_extras);
            bad_counts[k]++;
        }
    }
    *resent = (int64_t)add_resends(r, d->o.dup_share, &good, extras, &n_extras);
    if (good.failed || bad.failed) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = write_csv(outdir, "backlog.csv", header, &good, &bad, extras,
                        n_extras, err)) != 0)
        goto done;
    model =
        json_pack("{s:f, s:f, s:f, s:f, s:f}", "intercept", V_INTERCEPT,
                  "log1p_demand", V_LOG1P_DEMAND, "area_reach", V_AREA_REACH,
                  "area_trend", V_AREA_TREND, "noise_sd", V_NOISE_SD);
    json_object_set_new(
        truth, "backlog",
        json_pack("{s:o, s:O}", "value_model", model, "items", items_json));
done:
    json_decref(items_json);
    free(extras);
    free(desc);
    lines_free(&good);
    lines_free(&bad);
    return rc;
}

/* ---- feedback.csv ---- */

typedef struct fb_row {
    int day, item, source, score, tagged; /* item -1: about no item;
                                             score 0: none */
    int n_asks, asks[3]; /* asks[0] == item; more: other items */
    int64_t user;
    size_t seq;
    char text[TEXT_MAX];
} fb_row;

static int cmp_fb(const void *a, const void *b)
{
    const fb_row *x = a, *y = b;

    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A feedback text: a greeting, the asks about the items in asks (none:
 * chatter about no item), a sign-off and an end mark, then typos. Unless
 * plain, sometimes an ask's concept in quotes (a "" in the CSV), a
 * capital; plain text has no comma or quote. */
static void make_text(demo *d, gsl_rng *r, const int *asks, int n_asks,
                      int plain, char *out, size_t cap)
{
    size_t len = 0;
    int i;

    out[0] = '\0';
    len = demo_lang_opener(r, out, cap, len);
    if (n_asks == 0)
        len = demo_lang_noise(r, out, cap, len);
    for (i = 0; i < n_asks; i++) {
        if (i)
            len = demo_lang_joiner(r, out, cap, len);
        len = demo_lang_ask(r, &d->items[asks[i]], !plain, out, cap, len);
    }
    len = demo_lang_closer(r, out, cap, len);
    if (!plain) {
        double u = gsl_rng_uniform(r);
        const char *mark = u < 0.4 ? "." : u < 0.55 ? "!" : u < 0.65 ? "?" : "";

        snprintf(out + len, cap - len, "%s", mark);
    }
    demo_lang_typos(r, out, cap);
    if (plain) {
        char *w = out, *c;

        for (c = out; *c; c++)
            if (*c != ',' && *c != '"')
                *w++ = *c;
        *w = '\0';
    } else if (gsl_rng_uniform(r) < 0.5 && islower((unsigned char)out[0])) {
        out[0] = (char)toupper((unsigned char)out[0]);
    }
}

/* A user who had signed up by `day` (signup days never decrease with the
 * user index, so the first `hi` users qualify). */
static int64_t pick_user(const demo *d, gsl_rng *r, int day)
{
    int64_t lo = 0, hi = d->o.users;

    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;

        if (d->user_signup_day[mid] <= day)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (hi < 1)
        hi = d->o.users;
    return (int64_t)floor(gsl_rng_uniform(r) * (double)hi);
}

static void fill_row(demo *d, gsl_rng *r, fb_row *row, int item)
{
    const demo_item *it = item >= 0 ? &d->items[item] : NULL;
    int first = it && it->created_day > 0 ? it->created_day : 0;
    double u;
    int s;

    row->item = item;
    row->day = uniform_int(r, first, d->o.days - 1);
    u = gsl_rng_uniform(r);
    for (s = 0; s < N(sources) - 1 && u >= source_cum[s]; s++)
        ;
    row->source = s;
    row->user = pick_user(d, r, row->day);
    row->score = 0;
    if (gsl_rng_uniform(r) < 0.4) {
        u = gsl_rng_uniform(r);
        row->score = u < 0.15   ? 1
                     : u < 0.30 ? 2
                     : u < 0.50 ? 3
                     : u < 0.75 ? 4
                                : 5;
    }
    row->tagged = it && gsl_rng_uniform(r) < DEMO_TAGGED_SHARE;
    row->n_asks = 0;
    if (it) {
        row->asks[row->n_asks++] = item;
        if (gsl_rng_uniform(r) < DEMO_MULTI_ASK_SHARE) {
            int want = gsl_rng_uniform(r) < 0.7 ? 2 : 3;

            /* Other items, each once. */
            while (row->n_asks < want) {
                int other = uniform_int(r, 0, d->n_items - 1), k, dup = 0;

                for (k = 0; k < row->n_asks; k++)
                    dup |= row->asks[k] == other;
                if (!dup)
                    row->asks[row->n_asks++] = other;
            }
        }
    }
    make_text(d, r, row->asks, row->n_asks, 0, row->text, sizeof(row->text));
}

typedef struct fb_fields {
    char id[24], date[16], user[32], account[32], score[8];
    const char *f[8];
} fb_fields;

static void feedback_fields(const demo *d, const fb_row *row, int64_t number,
                            fb_fields *out)
{
    snprintf(out->id, sizeof(out->id), "FB-%lld", (long long)number);
    demo_date(d, row->day, out->date);
    snprintf(out->user, sizeof(out->user), "u-%lld", (long long)row->user);
    snprintf(out->account, sizeof(out->account), "acct-%d",
             (int)d->user_account[row->user]);
    snprintf(out->score, sizeof(out->score), "%d", row->score);
    out->f[0] = out->id;
    out->f[1] = out->date;
    out->f[2] = sources[row->source];
    out->f[3] = row->text;
    out->f[4] = out->user;
    out->f[5] = out->account;
    out->f[6] = row->score ? out->score : NULL;
    out->f[7] = row->tagged ? d->items[row->item].id : NULL;
}

static int write_feedback(demo *d, const char *outdir, json_t *truth,
                          int64_t *feedback_rows, int64_t bad_counts[],
                          int64_t *resent, aipm_error *err)
{
    static const char header[] =
        "id,created_at,source,text,user_id,account_id,score,item_id";
    gsl_rng *r = d->rng;
    double scale = d->o.users / 3000.0;
    fb_row *rows = NULL;
    size_t n_rows = 0, cap = 0, i, n_extras = 0, max_extras;
    unsigned int *counts = NULL;
    int64_t per_kind = 0, n_item_rows = 0, n_noise;
    lines good, bad;
    extra *extras = NULL;
    json_t *item_of = json_object(), *items_of = json_object();
    json_t *corrections = json_array();
    size_t *cand = NULL, *chosen = NULL, n_cand = 0, n_chosen;
    int k, rc = AIPM_OK, n_bad_id = 0;

    lines_init(&good);
    lines_init(&bad);
    scale = scale < 0.2 ? 0.2 : scale > 20 ? 20 : scale;
    counts = calloc((size_t)d->n_items, sizeof(*counts));
    if (counts == NULL || item_of == NULL || items_of == NULL ||
        corrections == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (k = 0; k < d->n_items; k++) {
        counts[k] = gsl_ran_poisson(r, d->items[k].demand * scale);
        n_item_rows += counts[k];
    }
    n_noise = (int64_t)llround(DEMO_NOISE_PER_ITEM * (double)n_item_rows);
    cap = (size_t)(n_item_rows + n_noise);
    rows = calloc(cap ? cap : 1, sizeof(*rows));
    if (rows == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (k = 0; k < d->n_items; k++) {
        unsigned int j;

        for (j = 0; j < counts[k]; j++) {
            rows[n_rows].seq = n_rows;
            fill_row(d, r, &rows[n_rows++], k);
        }
        feedback_rows[k] = counts[k];
    }
    for (; n_rows < cap;) {
        rows[n_rows].seq = n_rows;
        fill_row(d, r, &rows[n_rows++], -1);
    }
    /* Ids follow the date, as an export would number them. */
    qsort(rows, n_rows, sizeof(*rows), cmp_fb);
    for (i = 0; i < n_rows; i++) {
        fb_fields ff;

        feedback_fields(d, &rows[i], (int64_t)i + 1, &ff);
        put_record(&good, ff.f, 8, 0);
        json_object_set_new(item_of, ff.id,
                            rows[i].item >= 0
                                ? json_string(d->items[rows[i].item].id)
                                : json_null());
        {
            json_t *all = json_array();
            int a;

            for (a = 0; a < rows[i].n_asks; a++)
                json_array_append_new(
                    all, json_string(d->items[rows[i].asks[a]].id));
            json_object_set_new(items_of, ff.id, all);
        }
    }
    /* The PM's corrections: untagged rows about an item, linked to each
     * item they ask for (one entry per item), chosen at random in id
     * order. */
    cand = calloc(n_rows + 1, sizeof(*cand));
    chosen = calloc(DEMO_CORRECTIONS, sizeof(*chosen));
    if (cand == NULL || chosen == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n_rows; i++)
        if (rows[i].item >= 0 && !rows[i].tagged)
            cand[n_cand++] = i;
    n_chosen = n_cand < DEMO_CORRECTIONS ? n_cand : DEMO_CORRECTIONS;
    if (n_chosen > 0)
        gsl_ran_choose(r, chosen, n_chosen, cand, n_cand, sizeof(*cand));
    for (i = 0; i < n_chosen; i++) {
        char id[24];
        int a;

        snprintf(id, sizeof(id), "FB-%lld", (long long)chosen[i] + 1);
        for (a = 0; a < rows[chosen[i]].n_asks; a++)
            json_array_append_new(
                corrections,
                json_pack("{s:s, s:s}", "feedback_id", id, "item_id",
                          d->items[rows[chosen[i]].asks[a]].id));
    }
    /* And rows about no item that the PM unlinks (from the first item:
     * an unlink leaves a row with no item whatever it was linked to):
     * every eighth untagged one in id order, without a draw, so the
     * random stream stays as it was. */
    for (i = 0, n_cand = 0; i < n_rows && n_cand < DEMO_UNLINKS * 8; i++)
        if (rows[i].item < 0 && !rows[i].tagged && n_cand++ % 8 == 3) {
            char id[24];

            snprintf(id, sizeof(id), "FB-%lld", (long long)i + 1);
            json_array_append_new(
                corrections, json_pack("{s:s, s:s, s:b}", "feedback_id", id,
                                       "item_id", d->items[0].id, "unlink", 1));
        }

    if (d->o.bad_share > 0)
        per_kind = share_count(d->o.bad_share, (int64_t)n_rows);
    max_extras = (size_t)(per_kind * N_KINDS) + n_rows + 1;
    extras = calloc(max_extras, sizeof(*extras));
    if (extras == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    /* Bad rows: a fresh row about no item under a new id (FB-X<n>), with
     * exactly one rule broken. */
    for (k = 0; k < N_KINDS; k++) {
        int64_t j;

        for (j = 0; j < per_kind; j++) {
            fb_row row;
            fb_fields ff;
            int variant = gsl_rng_uniform(r) < 0.5;
            char text[TEXT_MAX + 8];
            const char *f[9];
            int n_fields = 8;
            unsigned raw = 0;

            fill_row(d, r, &row, -1);
            feedback_fields(d, &row, 0, &ff);
            memcpy(f, ff.f, sizeof(ff.f));
            snprintf(ff.id, sizeof(ff.id), "FB-X%d", ++n_bad_id);
            f[0] = ff.id;
            switch (k) {
            case K_MALFORMED:
                if (variant) {
                    f[n_fields++] = "extra";
                } else { /* a stray quote inside an unquoted text */
                    char plain[TEXT_MAX];

                    make_text(d, r, NULL, 0, 1, plain, sizeof(plain));
                    insert_byte(text, sizeof(text), plain, 2, "\"");
                    f[3] = text;
                    raw = 1u << 3;
                }
                break;
            case K_MISSING:
                f[variant ? 0 : 3] = NULL;
                break;
            case K_VALUE:
                f[6] = "five";
                break;
            case K_TIMESTAMP:
                f[1] = variant ? "last week" : "2026-13-45";
                break;
            default: /* K_UTF8 */
                insert_byte(text, sizeof(text), row.text, 3, "\xff");
                f[3] = text;
                break;
            }
            put_record(&bad, f, n_fields, raw);
            if (!bad.failed)
                add_bad(r, &good, &bad, extras, &n_extras);
            bad_counts[k]++;
        }
    }
    *resent = (int64_t)add_resends(r, d->o.dup_share, &good, extras, &n_extras);
    if (good.failed || bad.failed) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = write_csv(outdir, "feedback.csv", header, &good, &bad, extras,
                        n_extras, err)) != 0)
        goto done;
    d->n_feedback = (int64_t)n_rows;
    json_object_set_new(truth, "feedback",
                        json_pack("{s:I, s:O, s:O, s:O, s:o}", "rows",
                                  (json_int_t)n_rows, "item_of", item_of,
                                  "items_of", items_of, "corrections",
                                  corrections, "language", demo_lang_truth()));
done:
    json_decref(item_of);
    json_decref(items_of);
    json_decref(corrections);
    free(cand);
    free(chosen);
    free(extras);
    free(rows);
    free(counts);
    lines_free(&good);
    lines_free(&bad);
    return rc;
}

/* ---- signals.csv ---- */

static int write_signals(demo *d, const char *outdir, json_t *truth,
                         aipm_error *err)
{
    gsl_rng *r = d->rng;
    lines good;
    json_t *trend = json_object();
    int a, s, t, rc = AIPM_OK;
    int64_t n = 0;

    lines_init(&good);
    for (a = 0; a < N_AREAS; a++) {
        for (s = 0; s < N(signal_names); s++) {
            double base = 50 + 450 * gsl_rng_uniform(r);

            for (t = 0; t < d->o.days; t += 7) {
                /* A linear trend, floored so a long period with a falling
                 * trend never goes negative. */
                double level = 1 + d->area_trend[a] * t / 30.0;
                double v = base * (level < 0.1 ? 0.1 : level) *
                           (1 + gsl_ran_gaussian(r, 0.05));
                char date[16], value[32];
                const char *f[4];

                demo_date(d, t, date);
                snprintf(value, sizeof(value), "%.1f", v);
                f[0] = date;
                f[1] = signal_names[s];
                f[2] = value;
                f[3] = demo_areas[a];
                put_record(&good, f, 4, 0);
                n++;
            }
        }
        json_object_set_new(trend, demo_areas[a], json_real(d->area_trend[a]));
    }
    if (good.failed || trend == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = write_csv(outdir, "signals.csv", "date,signal,value,area", &good,
                        NULL, NULL, 0, err)) != 0)
        goto done;
    d->n_signals = n;
    json_object_set_new(
        truth, "signals",
        json_pack("{s:I, s:O}", "rows", (json_int_t)n, "area_trend", trend));
done:
    json_decref(trend);
    lines_free(&good);
    return rc;
}

int demo_backlog_write(demo *d, const char *outdir, json_t *truth,
                       aipm_error *err)
{
    int64_t *feedback_rows = NULL;
    int64_t bad_bl[N_KINDS] = {0}, bad_fb[N_KINDS] = {0};
    int64_t resent_bl = 0, resent_fb = 0;
    int kind_index[N_KINDS], k, rc;

    for (k = 0; k < N_KINDS; k++)
        if ((kind_index[k] = bad_kind_index(kind_names[k])) < 0)
            return aipm_error_set(err, AIPM_ERROR,
                                  "demo: unknown bad row kind %s",
                                  kind_names[k]);
    feedback_rows = calloc((size_t)d->n_items + 1, sizeof(*feedback_rows));
    if (feedback_rows == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    /* Feedback first: the backlog's truth counts each item's rows. */
    if ((rc = write_feedback(d, outdir, truth, feedback_rows, bad_fb,
                             &resent_fb, err)) != 0 ||
        (rc = write_backlog(d, outdir, truth, feedback_rows, bad_bl, &resent_bl,
                            err)) != 0 ||
        (rc = write_signals(d, outdir, truth, err)) != 0)
        goto done;
    for (k = 0; k < N_KINDS; k++)
        d->csv_bad[kind_index[k]] += bad_bl[k] + bad_fb[k];
    json_object_set_new(truth, "csv_bad_rows",
                        json_pack("{s:o, s:o}", "backlog", kind_counts(bad_bl),
                                  "feedback", kind_counts(bad_fb)));
    json_object_set_new(truth, "csv_resent",
                        json_pack("{s:I, s:I}", "backlog",
                                  (json_int_t)resent_bl, "feedback",
                                  (json_int_t)resent_fb));
done:
    free(feedback_rows);
    return rc;
}
