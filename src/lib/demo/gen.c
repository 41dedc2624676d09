/* gen.c - the demo product and its event stream, generated day by day.
 *
 * The product: 10 catalog features in 6 areas, accounts on three plans
 * (the segments), users who sign up over the period (user index order is
 * signup order), each a member of an account and sometimes invited by the
 * account's previous member. Each day, every signed-up user is active with
 * a probability that decays with age since signup (a retention curve per
 * plan); an active user emits a session, page views, the core events four
 * experiments act on, the events of the features they adopted, and the
 * events of shipped backlog items (property item_id).
 *
 * Adoption is a diffusion per feature and plan driven by the graph: an
 * eligible user (probability m) who has not adopted adopts on an active day
 * with probability h = 1 / (1 + e^-(logit p + g * share)), share = the
 * fraction of their neighbours (earlier members of their account, and
 * their inviter) who adopted before that day: p the innovation, g the
 * graph coefficient on the log-odds scale. Adoptions take effect at the
 * end of the day, so "before" holds.
 *
 * Memory: a few arrays of one entry per user and per account (about 20
 * bytes a user); events are formatted into a 1 MB buffer and streamed to
 * gzip. Randomness: one MT19937 drawn in a fixed order.
 */
#include "demo/demo_int.h"

#include <errno.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

const char *const demo_plans[N_PLANS] = {"free", "pro", "enterprise"};
const char *const demo_areas[N_AREAS] = {"reporting", "dashboards",    "alerts",
                                         "data",      "collaboration", "admin"};
const char *const demo_bad_kinds[N_BAD_KINDS] = {
    "malformed_json", "missing_field", "bad_timestamp", "unsupported_type",
    "bad_value",      "invalid_utf8",  "line_too_long", "malformed_csv"};
const char *const demo_statuses[5] = {"idea", "planned", "in_progress",
                                      "shipped", "dropped"};

static const char *const industries[] = {"retail", "fintech",   "healthcare",
                                         "media",  "logistics", "education"};
static const char *const platforms[] = {"web", "web", "web", "ios", "android"};

/* Retention per plan: P(active at age a days) = r * (f + (1-f) e^(-a/tau)),
 * and always active on the signup day. */
static const double ret_r[N_PLANS] = {0.30, 0.40, 0.50};
static const double ret_f[N_PLANS] = {0.02, 0.04, 0.07};
static const double ret_tau[N_PLANS] = {4, 8, 12};

/* Core events per active day (Poisson means) and the experiment acting on
 * each (index into experiments, or -1). */
static const struct core_event {
    const char *name;
    double rate;
    int experiment;
} core_events[] = {
    {"Page Viewed", 0.7, -1},     {"Dashboard Viewed", 0.6, 0},
    {"Report Viewed", 0.5, 1},    {"Notification Clicked", 0.3, 2},
    {"Search Performed", 0.4, 3},
};
#define N_CORE ((int)(sizeof(core_events) / sizeof(core_events[0])))

#define DAY_MS 86400000LL
#define OUT_FLUSH ((size_t)1 << 20)

void aipm_demo_opts_init(aipm_demo_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->users = 3000;
    o->days = 120;
    o->seed = 1;
    o->end_ms = aipm_now_ms();
    o->bad_share = 0.002;
    o->dup_share = 0.005;
}

void demo_date(const demo *d, int day, char out[16])
{
    char full[32];

    aipm_time_format(full, (d->day0 + day) * DAY_MS);
    snprintf(out, 16, "%.10s", full);
}

/* ---- the product ---- */

static void define_product(demo *d)
{
    static const struct {
        const char *key, *name, *event;
        int area;
        double launch; /* fraction of the period; negative: before */
        int depends_on;
        double use_rate;
    } catalog[] = {
        {"export", "Report export", "Report Exported", 0, -0.25, -1, 0.35},
        {"schedule", "Scheduled reports", "Report Scheduled", 0, 0.25, 0, 0.20},
        {"dashboard", "Dashboards", "Dashboard Created", 1, -0.5, -1, 0.30},
        {"share", "Dashboard sharing", "Dashboard Shared", 1, -0.1, 2, 0.20},
        {"alerts", "Alerts", "Alert Configured", 2, -0.4, -1, 0.25},
        {"query", "SQL queries", "Query Run", 3, -0.75, -1, 0.45},
        {"connectors", "Data connectors", "Connector Added", 3, 0.4, -1, 0.15},
        {"comments", "Comments", "Comment Posted", 4, -0.2, -1, 0.30},
        {"invites", "Team invites", "Teammate Invited", 4, -0.75, -1, 0.10},
        {"sso", "Single sign-on", "SSO Enabled", 5, 0.5, -1, 0.05},
    };
    static const double m_lo[N_PLANS] = {0.25, 0.40, 0.55};
    static const double m_hi[N_PLANS] = {0.60, 0.80, 0.90};
    int i, k;

    d->n_features = (int)(sizeof(catalog) / sizeof(catalog[0]));
    for (i = 0; i < d->n_features; i++) {
        demo_feature *f = &d->features[i];

        f->key = catalog[i].key;
        f->name = catalog[i].name;
        f->event = catalog[i].event;
        f->area = catalog[i].area;
        f->launch_day = (int)floor(catalog[i].launch * d->o.days);
        f->depends_on = catalog[i].depends_on;
        f->use_rate = catalog[i].use_rate;
        for (k = 0; k < N_PLANS; k++) {
            f->p[k] = 0.002 + 0.010 * gsl_rng_uniform(d->rng);
            f->g[k] = 1.5 + 4.0 * gsl_rng_uniform(d->rng);
            f->m[k] = m_lo[k] + (m_hi[k] - m_lo[k]) * gsl_rng_uniform(d->rng);
        }
        if (strcmp(f->key, "sso") == 0) /* an enterprise feature */
            f->m[0] = 0.02, f->m[1] = 0.10;
    }
    for (i = 0; i < N_AREAS; i++)
        d->area_trend[i] = -0.10 + 0.40 * gsl_rng_uniform(d->rng);

    /* Four experiments, one of each kind the analyses must tell apart. */
    {
        int D = d->o.days;
        demo_experiment *e = d->experiments;

        e[0] = (demo_experiment){"onboarding_checklist",
                                 "Dashboard Viewed",
                                 "dashboards_viewed",
                                 "sessions",
                                 D * 3 / 10,
                                 D * 7 / 10,
                                 1,
                                 0.20,
                                 0.0,
                                 0.0,
                                 "winner"};
        e[1] = (demo_experiment){"new_navigation",
                                 "Report Viewed",
                                 "reports_viewed",
                                 "sessions",
                                 D / 2,
                                 D - 1,
                                 0,
                                 0.0,
                                 0.0,
                                 0.0,
                                 "null"};
        e[2] = (demo_experiment){"aggressive_notifications",
                                 "Notification Clicked",
                                 "notifications_clicked",
                                 "sessions",
                                 D / 2,
                                 D - 1,
                                 0,
                                 0.15,
                                 -0.15,
                                 0.0,
                                 "harms_guardrail"};
        e[3] = (demo_experiment){"search_redesign",
                                 "Search Performed",
                                 "searches",
                                 "sessions",
                                 D / 2,
                                 D - 1,
                                 0,
                                 0.05,
                                 0.0,
                                 0.20,
                                 "srm"};
        d->n_experiments = 4;
    }
}

/* ---- users and accounts ---- */

static int make_population(demo *d, aipm_error *err)
{
    int64_t n = d->o.users, na, i;
    int f;

    na = n / 8 > 1 ? n / 8 : 1;
    d->n_accounts = na;
    d->acct_plan = calloc((size_t)na, 1);
    d->acct_industry = calloc((size_t)na, 1);
    d->acct_seats = calloc((size_t)na, sizeof(int32_t));
    d->acct_members = calloc((size_t)na, sizeof(int32_t));
    d->acct_last = malloc((size_t)na * sizeof(int32_t));
    d->acct_adopted = calloc((size_t)na * MAX_FEATURES, sizeof(uint32_t));
    d->user_signup_day = malloc((size_t)n * sizeof(int32_t));
    d->user_account = malloc((size_t)n * sizeof(int32_t));
    d->user_inviter = malloc((size_t)n * sizeof(int32_t));
    d->user_eligible = calloc((size_t)n, sizeof(uint16_t));
    d->user_adopted = calloc((size_t)n, sizeof(uint16_t));
    d->user_exposed = calloc((size_t)n, 1);
    if (!d->acct_plan || !d->acct_industry || !d->acct_seats ||
        !d->acct_members || !d->acct_last || !d->acct_adopted ||
        !d->user_signup_day || !d->user_account || !d->user_inviter ||
        !d->user_eligible || !d->user_adopted || !d->user_exposed)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");

    for (i = 0; i < na; i++) {
        double u = gsl_rng_uniform(d->rng);
        int plan = u < 0.6 ? 0 : u < 0.9 ? 1 : 2;

        d->acct_plan[i] = (uint8_t)plan;
        d->acct_industry[i] = (uint8_t)gsl_rng_uniform_int(d->rng, 6);
        d->acct_seats[i] = plan == 0 ? 1 + (int)gsl_rng_uniform_int(d->rng, 5)
                           : plan == 1
                               ? 5 + (int)gsl_rng_uniform_int(d->rng, 46)
                               : 50 + (int)gsl_rng_uniform_int(d->rng, 451);
        d->acct_last[i] = -1;
    }
    /* Users join accounts in proportion to seats (bigger accounts have
     * more users): a cumulative table and a binary search. */
    {
        double *cum = malloc((size_t)na * sizeof(double)), total = 0;

        if (cum == NULL)
            return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        for (i = 0; i < na; i++)
            cum[i] = total += d->acct_seats[i];
        for (i = 0; i < n; i++) {
            double x = gsl_rng_uniform(d->rng) * total;
            int64_t lo = 0, hi = na - 1, a;

            while (lo < hi) {
                int64_t mid = (lo + hi) / 2;

                if (cum[mid] > x)
                    hi = mid;
                else
                    lo = mid + 1;
            }
            a = lo;
            /* Signups spread over the first 90% of the period. */
            d->user_signup_day[i] =
                (int32_t)((double)i * (d->o.days * 0.9) / (double)n);
            d->user_account[i] = (int32_t)a;
            d->user_inviter[i] =
                d->acct_last[a] >= 0 && gsl_rng_uniform(d->rng) < 0.35
                    ? d->acct_last[a]
                    : -1;
            d->acct_last[a] = (int32_t)i;
            for (f = 0; f < d->n_features; f++)
                if (gsl_rng_uniform(d->rng) < d->features[f].m[d->acct_plan[a]])
                    d->user_eligible[i] |= (uint16_t)(1u << f);
        }
        free(cum);
    }
    /* acct_last is reused below as "newest member so far". */
    for (i = 0; i < na; i++)
        d->acct_last[i] = -1;
    /* Hidden reach per area: the mean eligibility of its features. */
    for (f = 0; f < d->n_features; f++) {
        int a = d->features[f].area;

        d->area_reach[a] +=
            (0.6 * d->features[f].m[0] + 0.3 * d->features[f].m[1] +
             0.1 * d->features[f].m[2]) /
            2.0;
    }
    for (i = 0; i < N_AREAS; i++)
        if (d->area_reach[i] > 1)
            d->area_reach[i] = 1;
    return AIPM_OK;
}

/* ---- output ---- */

typedef struct out {
    gzFile gz;
    aipm_buf buf;
    int failed;
} out;

static void out_flush(out *o)
{
    if (o->buf.len && !o->failed &&
        gzwrite(o->gz, o->buf.ptr, (unsigned)o->buf.len) != (int)o->buf.len)
        o->failed = 1;
    aipm_buf_reset(&o->buf);
}

/* A ring of recent good lines: the source of exact re-sends. */
#define RING 256

typedef struct gen {
    demo *d;
    out o;
    uint64_t msg_seq;
    aipm_buf line;
    char *ring[RING];
    size_t ring_len[RING], ring_cap[RING];
    int ring_n, ring_pos;
    int bad_next; /* round-robin over the event bad kinds */
    int long_line_done;
    int64_t type_mismatch;
    /* pending adoptions of the current day */
    int32_t *pend_user;
    uint8_t *pend_feature;
    size_t n_pend, cap_pend;
} gen;

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* Variation of user u in experiment e: 0 control, 1 treatment (50/50),
 * a hash of seed, experiment and user (stable, like a feature flag). */
static int variation(const demo *d, int e, int64_t u)
{
    return (int)(mix64(d->o.seed * 1000003ULL + (uint64_t)e * 7919ULL +
                       (uint64_t)u) &
                 1);
}

static void emit_raw(gen *g, const char *text, size_t len)
{
    aipm_buf_put(&g->o.buf, text, len);
    if (g->o.buf.len >= OUT_FLUSH)
        out_flush(&g->o);
}

static void emit_bad(gen *g, int64_t ts)
{
    demo *d = g->d;
    char when[32], line[512];
    int kind = g->bad_next;
    int n = 0;

    g->bad_next = (g->bad_next + 1) % 7; /* event kinds: 0..6 */
    aipm_time_format(when, ts);
    switch (kind) {
    case 0: /* malformed_json: a truncated line */
        n = snprintf(line, sizeof(line),
                     "{\"type\":\"track\",\"messageId\":\"bad-%llu\","
                     "\"userId\":\"u-1\",\"event\":\"Page Vie\n",
                     (unsigned long long)g->msg_seq++);
        break;
    case 1: /* missing_field: no messageId */
        n = snprintf(line, sizeof(line),
                     "{\"type\":\"track\",\"userId\":\"u-1\",\"event\":"
                     "\"Page Viewed\",\"timestamp\":\"%s\"}\n",
                     when);
        break;
    case 2: /* bad_timestamp */
        n = snprintf(line, sizeof(line),
                     "{\"type\":\"track\",\"messageId\":\"bad-%llu\","
                     "\"userId\":\"u-1\",\"event\":\"Page Viewed\","
                     "\"timestamp\":\"%.10s %.8s\"}\n",
                     (unsigned long long)g->msg_seq++, when, when + 11);
        break;
    case 3: /* unsupported_type */
        n = snprintf(line, sizeof(line),
                     "{\"type\":\"page\",\"messageId\":\"bad-%llu\","
                     "\"userId\":\"u-1\",\"name\":\"Home\","
                     "\"timestamp\":\"%s\"}\n",
                     (unsigned long long)g->msg_seq++, when);
        break;
    case 4: /* bad_value: userId a number */
        n = snprintf(line, sizeof(line),
                     "{\"type\":\"track\",\"messageId\":\"bad-%llu\","
                     "\"userId\":12345,\"event\":\"Page Viewed\","
                     "\"timestamp\":\"%s\"}\n",
                     (unsigned long long)g->msg_seq++, when);
        break;
    case 5: /* invalid_utf8 */
        n = snprintf(line, sizeof(line),
                     "{\"type\":\"track\",\"messageId\":\"bad-%llu\","
                     "\"userId\":\"u-1\",\"event\":\"Page Viewed\","
                     "\"timestamp\":\"%s\",\"properties\":{\"path\":"
                     "\"/caf\xe9\"}}\n",
                     (unsigned long long)g->msg_seq++, when);
        break;
    case 6: /* line_too_long: once, 1.1 MB of properties */
        if (g->long_line_done) {
            emit_bad(g, ts); /* take the next kind instead */
            return;
        }
        g->long_line_done = 1;
        {
            size_t pad = (size_t)1100 * 1024, k;

            n = snprintf(line, sizeof(line),
                         "{\"type\":\"track\",\"messageId\":\"bad-%llu\","
                         "\"userId\":\"u-1\",\"event\":\"Page Viewed\","
                         "\"timestamp\":\"%s\",\"properties\":{\"blob\":\"",
                         (unsigned long long)g->msg_seq++, when);
            emit_raw(g, line, (size_t)n);
            for (k = 0; k < pad / 64; k++)
                emit_raw(g,
                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                         "xxxxxxxxxxxx",
                         64);
            emit_raw(g, "\"}}\n", 4);
            d->bad[kind]++;
            d->stats.bad_lines++;
            return;
        }
    }
    emit_raw(g, line, (size_t)n);
    d->bad[kind]++;
    d->stats.bad_lines++;
}

/* After a good line: remember it, then perhaps a bad line, perhaps an
 * exact re-send of a recent line. */
static void after_line(gen *g, int64_t ts)
{
    demo *d = g->d;
    size_t len = g->line.len;
    int k = g->ring_pos;

    if (g->ring_cap[k] < len) {
        char *p = realloc(g->ring[k], len);

        if (p == NULL)
            return; /* no re-send of this one; the run goes on */
        g->ring[k] = p;
        g->ring_cap[k] = len;
    }
    memcpy(g->ring[k], g->line.ptr, len);
    g->ring_len[k] = len;
    g->ring_pos = (k + 1) % RING;
    if (g->ring_n < RING)
        g->ring_n++;

    if (d->o.bad_share > 0 && gsl_rng_uniform(d->rng) < d->o.bad_share * 7)
        emit_bad(g, ts);
    /* A valid line whose property type contradicts the schema learned so
     * far (plan is a string everywhere else): a schema change under
     * on_schema_change: warn, quarantined as type_mismatch under block.
     * Only once Session Started has been seen with its usual types. */
    if (d->o.bad_share > 0 && d->stats.events > 100 &&
        gsl_rng_uniform(d->rng) < d->o.bad_share) {
        char when[32], text[300];
        int n;

        aipm_time_format(when, ts);
        n = snprintf(text, sizeof(text),
                     "{\"type\":\"track\",\"messageId\":\"tm-%llx\","
                     "\"userId\":\"u-0\",\"timestamp\":\"%s\","
                     "\"event\":\"Session Started\",\"properties\":"
                     "{\"plan\":2,\"platform\":\"web\"}}\n",
                     (unsigned long long)g->msg_seq++, when);
        emit_raw(g, text, (size_t)n);
        g->type_mismatch++;
    }
    if (d->o.dup_share > 0 && gsl_rng_uniform(d->rng) < d->o.dup_share) {
        k = (int)gsl_rng_uniform_int(d->rng, (unsigned long)g->ring_n);
        emit_raw(g, g->ring[k], g->ring_len[k]);
        d->stats.resent++;
    }
}

/* Start a track event line in g->line (up to the end of the properties'
 * common part); the caller appends specific properties, then end_track. */
static void begin_event(gen *g, const char *type, int64_t user, int64_t ts)
{
    char when[32];

    aipm_time_format(when, ts);
    aipm_buf_reset(&g->line);
    aipm_buf_printf(&g->line,
                    "{\"type\":\"%s\",\"messageId\":\"m%llx-%llx\","
                    "\"userId\":\"u-%lld\",\"timestamp\":\"%s\"",
                    type, (unsigned long long)g->d->o.seed,
                    (unsigned long long)g->msg_seq++, (long long)user, when);
}

static void end_event(gen *g, int64_t ts)
{
    aipm_buf_put(&g->line, "}\n", 2);
    emit_raw(g, g->line.ptr, g->line.len);
    g->d->stats.events++;
    after_line(g, ts);
}

static void track(gen *g, int64_t user, int64_t ts, const char *event,
                  const char *extra)
{
    demo *d = g->d;
    int plan = d->acct_plan[d->user_account[user]];

    begin_event(g, "track", user, ts);
    aipm_buf_printf(&g->line,
                    ",\"event\":\"%s\",\"properties\":{\"plan\":\"%s\","
                    "\"platform\":\"%s\"%s}",
                    event, demo_plans[plan],
                    platforms[(user * 2654435761u) % 5], extra ? extra : "");
    end_event(g, ts);
}

/* The signup day: identify and group calls. */
static void signup(gen *g, int64_t user, int64_t ts)
{
    demo *d = g->d;
    int64_t a = d->user_account[user];
    int plan = d->acct_plan[a];
    char when[32];

    aipm_time_format(when, ts);
    begin_event(g, "identify", user, ts);
    aipm_buf_printf(&g->line,
                    ",\"traits\":{\"email\":\"u-%lld@acct-%lld.example\","
                    "\"plan\":\"%s\",\"created_at\":\"%s\"}",
                    (long long)user, (long long)a, demo_plans[plan], when);
    end_event(g, ts);
    ts += 1000;
    begin_event(g, "group", user, ts);
    aipm_buf_printf(&g->line,
                    ",\"groupId\":\"acct-%lld\",\"traits\":{\"name\":\"Account "
                    "%lld\",\"plan\":\"%s\",\"industry\":\"%s\",\"seats\":%d,"
                    "\"arr\":%d}",
                    (long long)a, (long long)a, demo_plans[plan],
                    industries[d->acct_industry[a]], (int)d->acct_seats[a],
                    plan == 0   ? 0
                    : plan == 1 ? d->acct_seats[a] * 300
                                : d->acct_seats[a] * 600);
    end_event(g, ts);
}

static int pend(gen *g, int64_t user, int f)
{
    if (g->n_pend == g->cap_pend) {
        size_t cap = g->cap_pend ? g->cap_pend * 2 : 1024;
        int32_t *u = realloc(g->pend_user, cap * sizeof(*u));
        uint8_t *fe;

        if (u == NULL)
            return AIPM_ENOMEM;
        g->pend_user = u;
        fe = realloc(g->pend_feature, cap);
        if (fe == NULL)
            return AIPM_ENOMEM;
        g->pend_feature = fe;
        g->cap_pend = cap;
    }
    g->pend_user[g->n_pend] = (int32_t)user;
    g->pend_feature[g->n_pend] = (uint8_t)f;
    g->n_pend++;
    return AIPM_OK;
}

/* The share of a user's neighbours who adopted f before today: the other
 * members of the account signed up so far, and the inviter (counted once:
 * here always a member of the same account). */
static double neighbour_share(const demo *d, int64_t user, int f)
{
    int64_t a = d->user_account[user], inv = d->user_inviter[user];
    double adopted = d->acct_adopted[a * MAX_FEATURES + f];
    double n = d->acct_members[a] - 1;

    if (d->user_adopted[user] & (1u << f))
        adopted -= 1;
    if (inv >= 0 && d->user_account[inv] != a) {
        n += 1;
        adopted += (d->user_adopted[inv] >> f) & 1;
    }
    return n > 0 ? adopted / n : 0;
}

/* One active user-day. */
static int active_day(gen *g, int64_t user, int day, int64_t t0)
{
    demo *d = g->d;
    int plan = d->acct_plan[d->user_account[user]];
    double mult[MAX_EXPERIMENTS];
    int64_t ts = t0;
    int e, f, k, rc;
    unsigned n;
    char extra[96];

    /* Experiments: exposure on the first active day in the window (at
     * signup for onboarding tests), then the treatment's effect. */
    for (e = 0; e < d->n_experiments; e++) {
        demo_experiment *x = &d->experiments[e];
        int exposed = (d->user_exposed[user] >> e) & 1;

        mult[e] = 1;
        if (!exposed && day >= x->start_day && day <= x->end_day &&
            (!x->new_users_only || d->user_signup_day[user] == day)) {
            int v = variation(d, e, user);

            d->user_exposed[user] |= (uint8_t)(1u << e);
            exposed = 1;
            /* SRM: some treatment exposures are never logged. */
            if (!(v == 1 && x->lost_exposures > 0 &&
                  gsl_rng_uniform(d->rng) < x->lost_exposures)) {
                snprintf(extra, sizeof(extra),
                         ",\"experiment_id\":\"%s\",\"variation_id\":\"%s\"",
                         x->key, v ? "treatment" : "control");
                track(g, user, ts, "Experiment Viewed", extra);
                ts += 2000;
            }
        }
        if (exposed && variation(d, e, user) == 1)
            mult[e] = 1 + x->lift;
    }
    track(g, user, ts, "Session Started", NULL);
    for (k = 0; k < N_CORE; k++) {
        double rate = core_events[k].rate;

        if (core_events[k].experiment >= 0)
            rate *= mult[core_events[k].experiment];
        for (n = gsl_ran_poisson(d->rng, rate); n > 0; n--) {
            ts += 5000 + (int64_t)gsl_rng_uniform_int(d->rng, 120000);
            if (k == 0) {
                snprintf(extra, sizeof(extra), ",\"path\":\"/%s\"",
                         demo_areas[gsl_rng_uniform_int(d->rng, N_AREAS)]);
                track(g, user, ts, core_events[k].name, extra);
            } else {
                track(g, user, ts, core_events[k].name, NULL);
            }
        }
    }
    /* Features: use what was adopted; maybe adopt (Bass with the graph). */
    for (f = 0; f < d->n_features; f++) {
        demo_feature *ft = &d->features[f];

        if (day < ft->launch_day)
            continue;
        if (d->user_adopted[user] & (1u << f)) {
            if (gsl_rng_uniform(d->rng) < ft->use_rate) {
                ts += 5000 + (int64_t)gsl_rng_uniform_int(d->rng, 120000);
                track(g, user, ts, ft->event, NULL);
            }
        } else if (d->user_eligible[user] & (1u << f)) {
            double z = log(ft->p[plan] / (1 - ft->p[plan])) +
                       ft->g[plan] * neighbour_share(d, user, f);
            double h = 1 / (1 + exp(-z));

            if (gsl_rng_uniform(d->rng) < h) {
                ts += 5000 + (int64_t)gsl_rng_uniform_int(d->rng, 120000);
                track(g, user, ts, ft->event, NULL);
                if ((rc = pend(g, user, f)) != 0)
                    return rc;
            }
        }
    }
    /* Shipped backlog items: used by value/10000 of active users a day, as
     * "Item Used" (a feature's own events mean its adoption). */
    for (k = 0; k < d->n_items; k++) {
        demo_item *it = &d->items[k];

        if (it->shipped_day < 0 || day < it->shipped_day)
            continue;
        if (gsl_rng_uniform(d->rng) < it->value / 10000.0) {
            ts += 5000 + (int64_t)gsl_rng_uniform_int(d->rng, 120000);
            snprintf(extra, sizeof(extra), ",\"item_id\":\"%s\"", it->id);
            track(g, user, ts, "Item Used", extra);
        }
    }
    return AIPM_OK;
}

static void apply_adoptions(gen *g)
{
    demo *d = g->d;
    size_t i;

    for (i = 0; i < g->n_pend; i++) {
        int64_t u = g->pend_user[i];
        int f = g->pend_feature[i];

        if (!(d->user_adopted[u] & (1u << f))) {
            d->user_adopted[u] |= (uint16_t)(1u << f);
            d->acct_adopted[(int64_t)d->user_account[u] * MAX_FEATURES + f]++;
        }
    }
    g->n_pend = 0;
}

static int run_days(gen *g)
{
    demo *d = g->d;
    int64_t signed_up = 0, u;
    int day, rc, e;

    for (day = 0; day < d->o.days; day++) {
        int64_t day_ms = (d->day0 + day) * DAY_MS;

        /* Today's signups join their accounts. */
        while (signed_up < d->o.users && d->user_signup_day[signed_up] <= day) {
            int64_t a = d->user_account[signed_up];

            d->acct_members[a]++;
            signed_up++;
        }
        for (u = 0; u < signed_up; u++) {
            int plan = d->acct_plan[d->user_account[u]];
            int age = day - d->user_signup_day[u];
            double p_active =
                age == 0 ? 1.0
                         : ret_r[plan] *
                               (ret_f[plan] +
                                (1 - ret_f[plan]) * exp(-age / ret_tau[plan]));
            int64_t t0;

            for (e = 0; e < d->n_experiments; e++)
                if (((d->user_exposed[u] >> e) & 1) && variation(d, e, u) == 1)
                    p_active *= 1 + d->experiments[e].activity_lift;
            if (gsl_rng_uniform(d->rng) >= p_active)
                continue;
            t0 = day_ms + 6 * 3600000LL +
                 (int64_t)gsl_rng_uniform_int(d->rng, 14 * 3600000UL);
            if (age == 0) {
                signup(g, u, t0);
                t0 += 3000;
            }
            if ((rc = active_day(g, u, day, t0)) != 0)
                return rc;
        }
        apply_adoptions(g);
        if (d->o.progress)
            d->o.progress(d->o.progress_ctx, (uint64_t)day + 1,
                          (uint64_t)d->o.days);
        if (g->o.failed)
            return AIPM_EIO;
    }
    return AIPM_OK;
}

static int write_graph(demo *d, const char *path, aipm_error *err)
{
    aipm_file_out file;
    FILE *f;
    int64_t u;
    int rc;

    if ((rc = aipm_file_out_open(&file, path, 0600, err)) != 0)
        return rc;
    f = file.f;
    fputs("src,relation,dst\n", f);
    for (u = 0; u < d->o.users; u++)
        if (d->user_inviter[u] >= 0) {
            fprintf(f, "user:u-%lld,invited,user:u-%lld\n",
                    (long long)d->user_inviter[u], (long long)u);
            d->stats.edges++;
        }
    return aipm_file_out_commit(&file, err);
}

static void demo_free(demo *d)
{
    free(d->acct_plan);
    free(d->acct_industry);
    free(d->acct_seats);
    free(d->acct_members);
    free(d->acct_last);
    free(d->acct_adopted);
    free(d->user_signup_day);
    free(d->user_account);
    free(d->user_inviter);
    free(d->user_eligible);
    free(d->user_adopted);
    free(d->user_exposed);
    free(d->items);
    if (d->rng)
        gsl_rng_free(d->rng);
}

int aipm_demo_generate(const char *outdir, const aipm_demo_opts *opts,
                       aipm_demo_stats *stats, aipm_error *err)
{
    demo *d = NULL;
    gen *g = NULL;
    json_t *truth = NULL;
    char path[4200], gz_tmp[4240];
    int rc = AIPM_OK, i, gz_fd = -1;

    if (opts->users < 1 || opts->users > 100000000 || opts->days < 14 ||
        opts->days > 3650 || opts->bad_share < 0 || opts->bad_share > 0.1 ||
        opts->dup_share < 0 || opts->dup_share > 0.5)
        return aipm_error_set(err, AIPM_EINVALID,
                              "demo: users 1..1e8, days 14..3650, bad share "
                              "0..0.1, re-send share 0..0.5");
    if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
        return aipm_error_set(err, AIPM_EIO, "cannot create %s: %s", outdir,
                              strerror(errno));
    d = calloc(1, sizeof(*d));
    g = calloc(1, sizeof(*g));
    if (d == NULL || g == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    d->o = *opts;
    d->rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (d->rng == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    gsl_rng_set(d->rng, (unsigned long)opts->seed);
    /* Day index days-1 is the day of end_ms. */
    d->day0 = (opts->end_ms >= 0 ? opts->end_ms / DAY_MS
                                 : -((-opts->end_ms + DAY_MS - 1) / DAY_MS)) -
              (opts->days - 1);
    g->d = d;
    aipm_buf_init(&g->o.buf, OUT_FLUSH * 4);
    aipm_buf_init(&g->line, (size_t)1 << 20);

    define_product(d);
    if ((rc = make_population(d, err)) != 0 ||
        (rc = demo_backlog_make(d, err)) != 0)
        goto done;

    snprintf(path, sizeof(path), "%s/events.ndjson.gz", outdir);
    /* Through core's safe writer: zlib writes to a duplicate of the
     * temporary file's descriptor, which the commit then syncs and
     * renames. */
    if ((rc = aipm_file_tmp_open(&gz_fd, gz_tmp, sizeof(gz_tmp), path, 0600,
                                 err)) != 0)
        goto done;
    {
        int dup_fd = dup(gz_fd);

        g->o.gz = dup_fd >= 0 ? gzdopen(dup_fd, "wb1") : NULL;
        if (g->o.gz == NULL) {
            if (dup_fd >= 0)
                close(dup_fd);
            rc = aipm_error_set(err, AIPM_EIO, "cannot write %s", path);
            goto done;
        }
    }
    gzbuffer(g->o.gz, 256 * 1024);
    rc = run_days(g);
    out_flush(&g->o);
    if (gzclose(g->o.gz) != Z_OK || g->o.failed) {
        g->o.gz = NULL;
        rc = aipm_error_set(err, AIPM_EIO, "cannot write %s", path);
        goto done;
    }
    g->o.gz = NULL;
    if (rc == 0) {
        rc = aipm_file_tmp_commit(gz_fd, gz_tmp, path, err);
        close(gz_fd);
        gz_fd = -1;
        if (rc)
            goto done;
    }
    if (rc) {
        rc = aipm_error_set(err, rc, "demo: out of memory");
        goto done;
    }
    snprintf(path, sizeof(path), "%s/graph.csv", outdir);
    if ((rc = write_graph(d, path, err)) != 0)
        goto done;
    truth = demo_truth_core(d);
    json_object_set_new(truth, "type_mismatch_rows",
                        json_integer(g->type_mismatch));
    if ((rc = demo_backlog_write(d, outdir, truth, err)) != 0 ||
        (rc = demo_write_yaml(d, outdir, err)) != 0)
        goto done;
    {
        json_t *bad = json_object();

        for (i = 0; i < N_BAD_KINDS; i++)
            if (d->bad[i])
                json_object_set_new(bad, demo_bad_kinds[i],
                                    json_integer(d->bad[i]));
        json_object_set_new(truth, "event_bad_rows", bad);
    }
    json_object_set_new(truth, "events",
                        json_pack("{s:I, s:I, s:I}", "good_lines",
                                  (json_int_t)d->stats.events, "bad_lines",
                                  (json_int_t)d->stats.bad_lines,
                                  "resent_lines", (json_int_t)d->stats.resent));
    snprintf(path, sizeof(path), "%s/truth.json", outdir);
    {
        char *text = json_dumps(truth, JSON_INDENT(1) | JSON_SORT_KEYS);

        if (text == NULL) {
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
        rc = aipm_file_write(path, text, strlen(text), 0600, err);
        free(text);
        if (rc)
            goto done;
    }
    d->stats.accounts = d->n_accounts;
    d->stats.items = d->n_items;
    d->stats.feedback = d->n_feedback;
    d->stats.signals = d->n_signals;
    if (stats)
        *stats = d->stats;
done:
    if (g && g->o.gz) {
        gzclose(g->o.gz);
        g->o.gz = NULL;
    }
    if (gz_fd >= 0)
        aipm_file_tmp_abort(gz_fd, gz_tmp);
    if (g) {
        aipm_buf_free(&g->o.buf);
        aipm_buf_free(&g->line);
        for (i = 0; i < RING; i++)
            free(g->ring[i]);
        free(g->pend_user);
        free(g->pend_feature);
        free(g);
    }
    json_decref(truth);
    if (d) {
        demo_free(d);
        free(d);
    }
    return rc;
}
