/* plan.c - `aipm plan`: search for the plan with the best risk-adjusted
 * objective, and write it as a scenario file (sim_run.h).
 *
 * A candidate plan is a scenario; a round's candidates are one scenario
 * file, simulated together by sim_evaluate on common random numbers, so
 * the comparison of two plans carries no noise from what they share
 * (each item's draws follow its id, whatever file it is in: a round too
 * big for one file is cut into files that still compare exactly). The
 * files are made as JSON and read by the scenario loader, so a plan the
 * search tries is a plan the loader accepts.
 */
#include "aipm/experiment.h"
#include "aipm/prioritize.h"
#include "aipm/scenario.h"
#include "aipm/sim_run.h"
#include "simulate/sim_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL
#define CHUNK 900  /* scenarios a file, below AIPM_SCENARIO_MAX_SCENARIOS */
#define MAX_ADD 64 /* items outside the plan tried as additions */
#define FINAL_SEED_MIX 0x9E3779B97F4A7C15ull

typedef struct cand {
    const char *id;        /* an open item, or an experiment */
    const char *variation; /* a KPI plan's variation; NULL for items */
    double effort;
    double ra; /* risk-adjusted value of the item alone */
} cand;

typedef struct nb {
    int *seq; /* candidates, in build order */
    int n;
    char what[160];
    int kind; /* the move */
} nb;

enum { MV_EARLIER, MV_DROP, MV_ADD, MV_SWAP, MV_SWITCH, MV_KINDS };
static const char *const move_names[MV_KINDS] = {"earlier", "drop", "add",
                                                 "replace", "switch"};

typedef struct planner {
    aipm_store *st;
    const aipm_config *cfg;
    const aipm_plan_opts *o;
    int value; /* else a KPI */
    int down;  /* the KPI is better lower */
    aipm_pz_sim_inputs *vin;
    cand *c;
    int n_c;
    json_t *notes;
} planner;

void aipm_plan_opts_init(aipm_plan_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->periods = 1;
    o->horizon_days = AIPM_PLAN_DEFAULT_HORIZON;
    o->risk_aversion = NAN;
    o->tail = NAN;
    o->draws = AIPM_PLAN_DEFAULT_DRAWS;
    o->final_draws = AIPM_SIMULATE_DEFAULT_DRAWS;
    o->seed = 1;
    o->threads = 1;
}

static double risk_adj(const planner *P, const aipm_sim_summary *m)
{
    return m->mean - P->o->risk_aversion * (m->mean - m->cvar);
}

/* ---- candidate plans as scenario files ---- */

static json_t *file_head(const planner *P, int capacity)
{
    json_t *f = json_pack("{s:{s:s, s:i}, s:f, s:f, s:[]}", "objective", "kpi",
                          P->o->objective, "horizon_days", P->o->horizon_days,
                          "risk_aversion", P->o->risk_aversion, "tail",
                          P->o->tail, "scenarios");

    if (f && capacity)
        json_object_set_new(f, "capacity",
                            json_pack("{s:f, s:i}", "weeks_per_period",
                                      P->o->capacity_weeks / P->o->periods,
                                      "periods", P->o->periods));
    return f;
}

static json_t *scenario(const planner *P, const char *name, const int *seq,
                        int n)
{
    json_t *s = json_pack("{s:s}", "name", name), *list = json_array();
    int i;

    for (i = 0; i < n && list; i++) {
        const cand *c = &P->c[seq[i]];

        json_array_append_new(list, P->value ? json_string(c->id)
                                             : json_pack("{s:s, s:s}",
                                                         "experiment", c->id,
                                                         "ship", c->variation));
    }
    if (s && list)
        json_object_set_new(s, P->value ? "build" : "experiments", list);
    else
        json_decref(list);
    return s;
}

/* Simulate the scenarios of file (its scenarios[] all set) into sum[]. */
static int eval_file(planner *P, json_t *file, size_t draws, uint64_t seed,
                     aipm_sim_summary *sum, double *beats, aipm_error *err)
{
    char *text = json_dumps(file, JSON_COMPACT);
    aipm_scenario_file *f = NULL;
    aipm_simulate_opts so;
    int rc;

    if (text == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    rc = aipm_scenario_file_load_buffer(&f, text, strlen(text), "(plan)", err);
    free(text);
    if (rc != AIPM_OK)
        return rc;
    aipm_simulate_opts_init(&so);
    so.draws = draws;
    so.seed = seed;
    so.threads = P->o->threads;
    so.now_ms = P->o->now_ms;
    so.value_version = P->o->value_version;
    rc = sim_evaluate(sum, beats, P->st, P->cfg, f, &so, P->vin, err);
    aipm_scenario_file_free(f);
    return rc;
}

/* The risk-adjusted objective of each of n plans (seq[k], len[k]), in
 * files of at most CHUNK scenarios. */
static int eval_plans(planner *P, int *const *seq, const int *len, int n,
                      int capacity, double *ra, aipm_sim_summary *keep,
                      aipm_error *err)
{
    aipm_sim_summary *sum = malloc((CHUNK + 1) * sizeof(*sum));
    int k0, k, rc = AIPM_OK;
    char name[32];

    if (sum == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    for (k0 = 0; k0 < n && rc == AIPM_OK; k0 += CHUNK) {
        json_t *f = file_head(P, capacity), *list;
        int m = n - k0 < CHUNK ? n - k0 : CHUNK;

        list = json_object_get(f, "scenarios");
        for (k = 0; k < m && list; k++) {
            snprintf(name, sizeof(name), "p%d", k0 + k);
            if (json_array_append_new(
                    list, scenario(P, name, seq[k0 + k], len[k0 + k])) != 0)
                list = NULL; /* out of memory: never a file one short */
        }
        rc = f && list
                 ? eval_file(P, f, P->o->draws, P->o->seed, sum, NULL, err)
                 : aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        json_decref(f);
        for (k = 0; k < m && rc == AIPM_OK; k++) {
            ra[k0 + k] = risk_adj(P, &sum[k]);
            if (keep)
                keep[k0 + k] = sum[k];
        }
    }
    free(sum);
    return rc;
}

/* ---- the value planner's start ---- */

static int cmp_density(const void *a, const void *b, void *ctx)
{
    const planner *P = ctx;
    const cand *x = &P->c[*(const int *)a], *y = &P->c[*(const int *)b];
    double dx = x->ra / x->effort, dy = y->ra / y->effort;

    if (dx != dy)
        return dx < dy ? 1 : -1;
    return (*(const int *)a > *(const int *)b) -
           (*(const int *)a < *(const int *)b);
}

/* Order seq by risk-adjusted value per week, best first (ties: backlog
 * order): an insertion sort, n is a plan's length. */
static void smith_order(planner *P, int *seq, int n)
{
    int i, j;

    for (i = 1; i < n; i++) {
        int v = seq[i];

        for (j = i; j > 0 && cmp_density(&seq[j - 1], &v, P) > 0; j--)
            seq[j] = seq[j - 1];
        seq[j] = v;
    }
}

static int value_start(planner *P, int *start, int *n_start, aipm_error *err)
{
    int i, rc, cap = (int)floor(2 * P->o->capacity_weeks + 1e-9);
    int **seq = malloc((size_t)P->n_c * sizeof(*seq));
    int *one = malloc((size_t)P->n_c * sizeof(int));
    int *len = malloc((size_t)P->n_c * sizeof(int));
    int *w = malloc((size_t)P->n_c * sizeof(int));
    double *ra = malloc((size_t)P->n_c * sizeof(double));
    unsigned char *chosen = calloc((size_t)P->n_c, 1);

    if (!seq || !one || !len || !w || !ra || !chosen) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    /* each item alone, live over the whole horizon */
    for (i = 0; i < P->n_c; i++) {
        one[i] = i;
        seq[i] = &one[i];
        len[i] = 1;
    }
    rc = eval_plans(P, seq, len, P->n_c, 0, ra, NULL, err);
    if (rc != AIPM_OK)
        goto done;
    for (i = 0; i < P->n_c; i++) {
        P->c[i].ra = ra[i];
        w[i] = (int)ceil(2 * P->c[i].effort - 1e-9);
        if (w[i] < 1)
            w[i] = 1;
    }
    if (isnan(aipm_knapsack(w, ra, P->n_c, cap, chosen))) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    *n_start = 0;
    for (i = 0; i < P->n_c; i++)
        if (chosen[i])
            start[(*n_start)++] = i;
    smith_order(P, start, *n_start);
done:
    free(seq);
    free(one);
    free(len);
    free(w);
    free(ra);
    free(chosen);
    return rc;
}

/* ---- neighbours ---- */

static int in_plan(const int *seq, int n, int c)
{
    int i;

    for (i = 0; i < n; i++)
        if (seq[i] == c)
            return 1;
    return 0;
}

static double weeks(const planner *P, const int *seq, int n)
{
    double w = 0;
    int i;

    for (i = 0; i < n; i++)
        w += P->c[seq[i]].effort;
    return w;
}

static nb *push(nb **v, int *n, int *cap, const int *seq, int len, int kind)
{
    nb *x;

    if (*n == *cap) {
        int c = *cap ? 2 * *cap : 64;
        nb *p = realloc(*v, (size_t)c * sizeof(*p));

        if (p == NULL)
            return NULL;
        *v = p;
        *cap = c;
    }
    x = &(*v)[*n];
    x->seq = malloc(((size_t)len + 1) * sizeof(int));
    if (x->seq == NULL)
        return NULL;
    memcpy(x->seq, seq, (size_t)len * sizeof(int));
    x->n = len;
    x->kind = kind;
    x->what[0] = '\0';
    (*n)++;
    return x;
}

/* The neighbours of plan cur (n long): NULL when out of memory. */
static nb *neighbours(planner *P, const int *cur, int n, int *n_out)
{
    nb *v = NULL, *x;
    int cap = 0, m = 0, i, j, k, *tmp = malloc(((size_t)n + 2) * sizeof(int));
    int *out_items = NULL;
    double used = weeks(P, cur, n);

    *n_out = 0;
    if (tmp == NULL)
        return NULL;
    if (P->value) {
        int n_out_c = 0, *out;

        out = out_items = malloc(((size_t)P->n_c + 1) * sizeof(int));

        if (out == NULL)
            goto oom;
        for (i = 1; i < n; i++) { /* one place earlier */
            memcpy(tmp, cur, (size_t)n * sizeof(int));
            tmp[i - 1] = cur[i];
            tmp[i] = cur[i - 1];
            if ((x = push(&v, &m, &cap, tmp, n, MV_EARLIER)) == NULL)
                goto oom_out;
            snprintf(x->what, sizeof(x->what), "build %s before %s",
                     P->c[cur[i]].id, P->c[cur[i - 1]].id);
        }
        for (i = 0; i < n; i++) { /* drop */
            for (j = 0, k = 0; j < n; j++)
                if (j != i)
                    tmp[k++] = cur[j];
            if ((x = push(&v, &m, &cap, tmp, n - 1, MV_DROP)) == NULL)
                goto oom_out;
            snprintf(x->what, sizeof(x->what), "drop %s", P->c[cur[i]].id);
        }
        /* the items outside, best per week first */
        for (i = 0; i < P->n_c; i++)
            if (!in_plan(cur, n, i) && P->c[i].ra > 0)
                out[n_out_c++] = i;
        smith_order(P, out, n_out_c);
        for (i = 0, k = 0; i < n_out_c && k < MAX_ADD; i++) { /* add */
            const cand *c = &P->c[out[i]];

            if (used + c->effort > P->o->capacity_weeks + 1e-9)
                continue;
            memcpy(tmp, cur, (size_t)n * sizeof(int));
            tmp[n] = out[i];
            if ((x = push(&v, &m, &cap, tmp, n + 1, MV_ADD)) == NULL)
                goto oom_out;
            snprintf(x->what, sizeof(x->what), "add %s last", c->id);
            k++;
        }
        for (i = 0; i < n; i++) /* replace */
            for (j = 0, k = 0; j < n_out_c && k < AIPM_PLAN_REPLACE_TOP; j++) {
                const cand *c = &P->c[out[j]];

                if (used - P->c[cur[i]].effort + c->effort >
                    P->o->capacity_weeks + 1e-9)
                    continue;
                memcpy(tmp, cur, (size_t)n * sizeof(int));
                tmp[i] = out[j];
                if ((x = push(&v, &m, &cap, tmp, n, MV_SWAP)) == NULL)
                    goto oom_out;
                snprintf(x->what, sizeof(x->what), "build %s instead of %s",
                         c->id, P->c[cur[i]].id);
                k++;
            }
        free(out_items);
        out_items = NULL;
    } else {
        for (i = 0; i < P->n_c; i++) {
            const cand *c = &P->c[i];
            int other = -1, kind;

            for (j = 0; j < n; j++)
                if (cur[j] != i && strcmp(P->c[cur[j]].id, c->id) == 0)
                    other = j;
            if (in_plan(cur, n, i)) { /* stop shipping it */
                for (j = 0, k = 0; j < n; j++)
                    if (cur[j] != i)
                        tmp[k++] = cur[j];
                kind = MV_DROP;
            } else if (other >= 0) { /* another variation instead */
                memcpy(tmp, cur, (size_t)n * sizeof(int));
                tmp[other] = i;
                k = n;
                kind = MV_SWITCH;
            } else {
                memcpy(tmp, cur, (size_t)n * sizeof(int));
                tmp[n] = i;
                k = n + 1;
                kind = MV_ADD;
            }
            if ((x = push(&v, &m, &cap, tmp, k, kind)) == NULL)
                goto oom;
            snprintf(x->what, sizeof(x->what), "%s %s of %s",
                     kind == MV_DROP ? "stop shipping" : "ship", c->variation,
                     c->id);
        }
    }
    free(tmp);
    *n_out = m;
    return v ? v : calloc(1, sizeof(nb));
oom_out:
    free(out_items);
oom:
    free(tmp);
    for (i = 0; i < m; i++)
        free(v[i].seq);
    free(v);
    return NULL;
}

/* ---- the written plan ---- */

static void put_str(FILE *fp, const char *s)
{
    json_t *j = json_string(s);
    char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

    fputs(t ? t : "\"\"", fp);
    free(t);
    json_decref(j);
}

/* The shortest %g that reads back to x. */
static void put_num(FILE *fp, double x)
{
    char b[40];
    int prec;

    for (prec = 1; prec < 17; prec++) {
        snprintf(b, sizeof(b), "%.*g", prec, x);
        if (strtod(b, NULL) == x)
            break;
    }
    snprintf(b, sizeof(b), "%.*g", prec, x);
    fputs(b, fp);
}

static void put_scenario(FILE *fp, const planner *P, const char *name,
                         const char *description, const int *seq, int n)
{
    int i;

    fprintf(fp, "  - name: %s\n    description: ", name);
    put_str(fp, description);
    fputc('\n', fp);
    if (n == 0)
        return;
    if (P->value) {
        fputs("    build: [", fp);
        for (i = 0; i < n; i++) {
            fputs(i ? ", " : "", fp);
            put_str(fp, P->c[seq[i]].id);
        }
        fputs("]\n", fp);
    } else {
        fputs("    experiments:\n", fp);
        for (i = 0; i < n; i++) {
            fputs("      - {experiment: ", fp);
            put_str(fp, P->c[seq[i]].id);
            fputs(", ship: ", fp);
            put_str(fp, P->c[seq[i]].variation);
            fputs("}\n", fp);
        }
    }
}

static int write_plan(const planner *P, const int *start, int n_start,
                      const int *best, int n_best, aipm_error *err)
{
    const aipm_plan_opts *o = P->o;
    char tmp[4096], day[32];
    aipm_scenario_file *check = NULL;
    FILE *fp;
    int rc;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", o->out_path) >= (int)sizeof(tmp))
        return aipm_error_set(err, AIPM_EINVALID, "the path %s is too long",
                              o->out_path);
    if ((fp = fopen(tmp, "w")) == NULL)
        return aipm_error_set(err, AIPM_EIO, "cannot write %s: %s", tmp,
                              strerror(errno));
    aipm_time_format(day, o->now_ms);
    day[10] = '\0';
    fprintf(fp,
            "# Written by `aipm plan` on %s (seed %llu): the plan with the "
            "best\n# risk-adjusted %s over %d days within %g person-weeks. "
            "Edit it and run\n# `aipm simulate FILE`; docs/scenarios.md "
            "lists every key.\n",
            day, (unsigned long long)o->seed, o->objective, o->horizon_days,
            o->capacity_weeks);
    fputs("objective: {kpi: ", fp);
    put_str(fp, o->objective);
    fprintf(fp, ", horizon_days: %d}\nbaseline: status_quo\nrisk_aversion: ",
            o->horizon_days);
    put_num(fp, o->risk_aversion);
    fputs("\ntail: ", fp);
    put_num(fp, o->tail);
    fputc('\n', fp);
    if (P->value) {
        fputs("capacity: {weeks_per_period: ", fp);
        put_num(fp, o->capacity_weeks / o->periods);
        fprintf(fp, ", periods: %d}\n", o->periods);
    }
    fputs("scenarios:\n", fp);
    put_scenario(fp, P, "status_quo",
                 P->value ? "build nothing" : "ship no variation", NULL, 0);
    if (P->value)
        put_scenario(fp, P, "knapsack",
                     "the search's start: the best set of items by each "
                     "one's risk-adjusted value alone, within the capacity, "
                     "by value per week",
                     start, n_start);
    put_scenario(fp, P, "plan", "the plan aipm plan found", best, n_best);
    if (fclose(fp) != 0 || rename(tmp, o->out_path) != 0) {
        rc = aipm_error_set(err, AIPM_EIO, "cannot write %s: %s", o->out_path,
                            strerror(errno));
        remove(tmp);
        return rc;
    }
    /* what was written must load */
    rc = aipm_scenario_file_load(&check, o->out_path, err);
    aipm_scenario_file_free(check);
    return rc;
}

/* ---- the search ---- */

static json_t *ids_json(const planner *P, const int *seq, int n)
{
    json_t *a = json_array();
    int i;

    for (i = 0; i < n && a; i++)
        json_array_append_new(
            a, P->value ? json_string(P->c[seq[i]].id)
                        : json_pack("{s:s, s:s}", "experiment", P->c[seq[i]].id,
                                    "ship", P->c[seq[i]].variation));
    return a;
}

static double shown(const planner *P, double x)
{
    return P->down ? -x : x;
}

static json_t *summary_json(const planner *P, const aipm_sim_summary *m)
{
    return json_pack(
        "{s:f, s:f, s:f, s:f, s:f, s:f}", "mean", shown(P, m->mean), "p10",
        shown(P, P->down ? m->p90 : m->p10), "p50", shown(P, m->p50), "p90",
        shown(P, P->down ? m->p10 : m->p90), "cvar", shown(P, m->cvar),
        "risk_adjusted", shown(P, risk_adj(P, m)));
}

static int candidates(planner *P, aipm_error *err)
{
    int i, j, rc;

    if (P->value) {
        rc = aipm_pz_sim_inputs_new(&P->vin, P->st, P->cfg, P->o->value_version,
                                    P->o->now_ms, err);
        if (rc != AIPM_OK)
            return rc;
        P->c = calloc((size_t)P->vin->n_items + 1, sizeof(*P->c));
        if (P->c == NULL)
            return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        for (i = 0; i < P->vin->n_items; i++)
            if (P->vin->items[i].open) {
                P->c[P->n_c].id = P->vin->items[i].id;
                P->c[P->n_c].effort = P->vin->items[i].effort;
                P->n_c++;
            }
        if (P->n_c == 0)
            return aipm_error_set(err, AIPM_EINVALID,
                                  "no open items (idea, planned, in_progress) "
                                  "in the backlog to plan");
        return AIPM_OK;
    }
    {
        const aipm_kpi *k = NULL;
        int n = 0;

        for (i = 0; i < P->cfg->n_kpis; i++)
            if (strcmp(P->cfg->kpis[i].key, P->o->objective) == 0)
                k = &P->cfg->kpis[i];
        if (k == NULL)
            return aipm_error_set(err, AIPM_EINVALID,
                                  "--objective: '%s' is not value nor a KPI "
                                  "of aipm.yaml (kpis:)",
                                  P->o->objective);
        P->down = k->direction_down;
        for (i = 0; i < P->cfg->n_experiments; i++)
            n += P->cfg->experiments[i].n_variations;
        P->c = calloc((size_t)n + 1, sizeof(*P->c));
        if (P->c == NULL)
            return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        for (i = 0; i < P->cfg->n_experiments; i++) {
            const aipm_experiment_def *e = &P->cfg->experiments[i];

            for (j = 1; j < e->n_variations; j++) {
                aipm_experiment_lift l;
                aipm_error e2 = {0, ""};

                rc = aipm_experiment_lift_get(&l, P->st, P->cfg, e->key,
                                              e->variations[j], k->metric,
                                              P->o->now_ms, &e2);
                if (rc == AIPM_ENOTFOUND)
                    break; /* it does not measure the KPI's metric */
                if (rc == AIPM_EINVALID) {
                    json_array_append_new(
                        P->notes, json_sprintf("%s %s: %s", e->key,
                                               e->variations[j], e2.msg));
                    continue;
                }
                if (rc != AIPM_OK)
                    return aipm_error_set(err, rc, "%s", e2.msg);
                P->c[P->n_c].id = e->key;
                P->c[P->n_c].variation = e->variations[j];
                P->c[P->n_c].effort = 1;
                P->n_c++;
            }
        }
        if (P->n_c == 0)
            return aipm_error_set(err, AIPM_EINVALID,
                                  "no experiment of aipm.yaml measures %s, "
                                  "the metric of KPI %s, with an estimate: "
                                  "nothing to plan",
                                  k->metric, k->key);
        json_array_append_new(
            P->notes, json_sprintf("backlog items do not enter KPI %s: the "
                                   "plan chooses experiment variations to "
                                   "ship",
                                   k->key));
    }
    return AIPM_OK;
}

int aipm_plan(json_t **out, aipm_store *st, const aipm_config *cfg,
              const aipm_plan_opts *o_in, aipm_error *err)
{
    aipm_plan_opts oo = *o_in, *o = &oo;
    planner P;
    int *cur = NULL, n_cur = 0, *start = NULL, n_start = 0, r, rc;
    int tried_total = 0, improved = 0;
    json_t *rounds = json_array(), *doc = NULL, *reasons = NULL;
    aipm_sim_summary fin[3];
    double beats[9], ra_start = NAN;
    char buf[512];

    *out = NULL;
    /* the risk settings not given: policies.scenarios' (or its defaults) */
    if (isnan(o->risk_aversion))
        o->risk_aversion = cfg ? cfg->scenarios.risk_aversion
                               : AIPM_SCENARIO_DEFAULT_RISK_AVERSION;
    if (isnan(o->tail))
        o->tail = cfg ? cfg->scenarios.tail : AIPM_SCENARIO_DEFAULT_TAIL;
    memset(&P, 0, sizeof(P));
    P.st = st;
    P.cfg = cfg;
    P.o = o;
    P.value = strcmp(o->objective, "value") == 0;
    P.notes = json_array();
    if (!(o->capacity_weeks > 0) || o->periods < 1 || o->horizon_days < 1 ||
        o->horizon_days > AIPM_SCENARIO_MAX_DAYS ||
        o->periods > o->horizon_days)
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "plan: capacity must be > 0 and periods 1 to "
                            "the horizon's days (1 to %d)",
                            AIPM_SCENARIO_MAX_DAYS);
    else if (strncmp(o->objective, "adopters:", 9) == 0)
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "--objective %s: nothing to search, since a "
                            "rollout costs no capacity and an earlier one "
                            "to more segments always has more adopters; "
                            "compare rollouts with `aipm simulate`",
                            o->objective);
    else
        rc = AIPM_OK;
    if (rc != AIPM_OK)
        goto done;
    if (rounds == NULL || P.notes == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = candidates(&P, err)) != AIPM_OK)
        goto done;
    cur = malloc(((size_t)P.n_c + 2) * sizeof(int));
    start = malloc(((size_t)P.n_c + 2) * sizeof(int));
    if (cur == NULL || start == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    if (P.value && (rc = value_start(&P, start, &n_start, err)) != AIPM_OK)
        goto done;
    memcpy(cur, start, (size_t)n_start * sizeof(int));
    n_cur = n_start;
    for (r = 1; r <= AIPM_PLAN_MAX_ROUNDS; r++) {
        int n_nb = 0, best = -1, counts[MV_KINDS] = {0}, k;
        nb *v = neighbours(&P, cur, n_cur, &n_nb);
        int **seq = NULL, *len = NULL;
        double *ra = NULL;
        json_t *tried;

        if (v == NULL) {
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
        seq = malloc(((size_t)n_nb + 1) * sizeof(*seq));
        len = malloc(((size_t)n_nb + 1) * sizeof(int));
        ra = malloc(((size_t)n_nb + 1) * sizeof(double));
        if (seq && len && ra) {
            seq[0] = cur, len[0] = n_cur;
            for (k = 0; k < n_nb; k++)
                seq[k + 1] = v[k].seq, len[k + 1] = v[k].n;
            rc = eval_plans(&P, seq, len, n_nb + 1, P.value, ra, NULL, err);
        } else
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        if (rc == AIPM_OK) {
            if (r == 1)
                ra_start = ra[0];
            for (k = 0; k < n_nb; k++) {
                counts[v[k].kind]++;
                if (ra[k + 1] > ra[0] + 1e-12 * fmax(1, fabs(ra[0])) &&
                    (best < 0 || ra[k + 1] > ra[best + 1]))
                    best = k;
            }
            tried = json_object();
            for (k = 0; k < MV_KINDS; k++)
                if (counts[k])
                    json_object_set_new(tried, move_names[k],
                                        json_integer(counts[k]));
            tried_total += n_nb;
            json_array_append_new(
                rounds, json_pack("{s:i, s:i, s:o, s:f, s:s?, s:o}", "round", r,
                                  "plans_tried", n_nb, "moves", tried, "before",
                                  shown(&P, ra[0]), "move",
                                  best >= 0 ? v[best].what : NULL, "after",
                                  json_real(shown(&P, best >= 0 ? ra[best + 1]
                                                                : ra[0]))));
            if (best >= 0) {
                memcpy(cur, v[best].seq, (size_t)v[best].n * sizeof(int));
                n_cur = v[best].n;
                improved++;
            }
        }
        for (k = 0; k < n_nb; k++)
            free(v[k].seq);
        free(v);
        free(seq);
        free(len);
        free(ra);
        if (rc != AIPM_OK)
            goto done;
        if (best < 0)
            break;
    }
    /* the check on fresh draws: status quo, start, plan */
    {
        json_t *f = file_head(&P, P.value),
               *list = json_object_get(f, "scenarios");
        aipm_plan_opts fo = *o;

        if (f == NULL || list == NULL) {
            json_decref(f);
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
        json_array_append_new(list, scenario(&P, "status_quo", NULL, 0));
        json_array_append_new(list, scenario(&P, "start", start, n_start));
        json_array_append_new(list, scenario(&P, "plan", cur, n_cur));
        fo.draws = o->final_draws;
        P.o = &fo;
        rc = eval_file(&P, f, o->final_draws, o->seed ^ FINAL_SEED_MIX, fin,
                       beats, err);
        P.o = o;
        json_decref(f);
        if (rc != AIPM_OK)
            goto done;
    }
    if (o->out_path &&
        (rc = write_plan(&P, start, n_start, cur, n_cur, err)) != AIPM_OK)
        goto done;
    reasons = json_array();
    snprintf(buf, sizeof(buf),
             "on %zu fresh draws, the plan's risk-adjusted %s is %.4g, "
             "against %.4g for the %s and %.4g for the status quo",
             o->final_draws, o->objective, shown(&P, risk_adj(&P, &fin[2])),
             shown(&P, risk_adj(&P, &fin[1])),
             P.value ? "knapsack start" : "start (no variation)",
             shown(&P, risk_adj(&P, &fin[0])));
    json_array_append_new(reasons, json_string(buf));
    snprintf(buf, sizeof(buf),
             "it beats the status quo in %.1f%% of draws and the start in "
             "%.1f%% (the start beats it in %.1f%%)",
             100 * beats[2 * 3 + 0], 100 * beats[2 * 3 + 1],
             100 * beats[1 * 3 + 2]);
    json_array_append_new(reasons, json_string(buf));
    snprintf(buf, sizeof(buf),
             "the search simulated %d candidate plans over %d rounds; %d "
             "moves improved the plan",
             tried_total, (int)json_array_size(rounds), improved);
    json_array_append_new(reasons, json_string(buf));
    if (P.value) {
        snprintf(buf, sizeof(buf),
                 "it builds %d of %d open items, %.3g of %.3g person-weeks by "
                 "their estimates",
                 n_cur, P.n_c, weeks(&P, cur, n_cur), o->capacity_weeks);
        json_array_append_new(reasons, json_string(buf));
    }
    doc = json_pack(
        "{s:{s:s, s:i, s:s}, s:f, s:i, s:f, s:f, s:I, s:I, s:I, s:i, "
        "s:{s:s, s:o, s:o}, s:o, s:{s:o, s:o}, s:{s:o, s:o, s:o, s:o, s:{s:f, "
        "s:f, s:f}}, s:o, s:O, s:s?}",
        "objective", "kpi", o->objective, "horizon_days", o->horizon_days,
        "better", P.down ? "lower" : "higher", "capacity_weeks",
        o->capacity_weeks, "periods", o->periods, "risk_aversion",
        o->risk_aversion, "tail", o->tail, "draws_per_round",
        (json_int_t)o->draws, "final_draws", (json_int_t)o->final_draws, "seed",
        (json_int_t)o->seed, "candidates", P.n_c, "start", "method",
        P.value ? "0/1 knapsack of each open item's risk-adjusted value "
                  "alone (effort in half-weeks) within the capacity, built "
                  "in order of risk-adjusted value per week"
                : "no variation shipped",
        "plan", ids_json(&P, start, n_start), "risk_adjusted",
        json_real(shown(&P, isnan(ra_start) ? 0 : ra_start)), "rounds", rounds,
        "plan", "plan", ids_json(&P, cur, n_cur), "summary",
        summary_json(&P, &fin[2]), "final", "scenarios",
        json_pack("[s, s, s]", "status_quo", "start", "plan"), "status_quo",
        summary_json(&P, &fin[0]), "start", summary_json(&P, &fin[1]), "plan",
        summary_json(&P, &fin[2]), "beats", "plan_over_status_quo",
        beats[2 * 3 + 0], "plan_over_start", beats[2 * 3 + 1],
        "start_over_plan", beats[1 * 3 + 2], "reasons", reasons, "notes",
        P.notes, "file", o->out_path);
    rounds = reasons = NULL;
    if (doc == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    *out = doc;
done:
    json_decref(rounds);
    json_decref(reasons);
    json_decref(P.notes);
    free(cur);
    free(start);
    free(P.c);
    aipm_pz_sim_inputs_free(P.vin);
    return rc;
}
