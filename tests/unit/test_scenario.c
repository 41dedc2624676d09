/* test_scenario.c - unit tests of the scenario file loader (scenario.h).
 *
 * The expected values are the ones written in the YAML text of each test,
 * read by eye; error cases check the code, that the message names the
 * file and the line of the offending value (counted by hand in the text,
 * 1-based) and a phrase of the message (the did-you-mean for a misspelled
 * key). The canonical JSON of the example was written by hand from
 * docs/scenarios.md; python3's json.dumps(sort_keys=True, separators=(',',
 * ':')) gives the same bytes, and its SHA-256 is sha256sum's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aipm/scenario.h"

#include <jansson.h>
#include "testutil.h"

/* The example of issue 17 and docs/scenarios.md, line numbers at left:
 *  1 objective:            12   - name: status_quo
 *  2   kpi:                13   - name: reporting_push
 *  3   horizon_days:       14     description:
 *  4 baseline:             15     build:
 *  5 risk_aversion:        16     rollouts:
 *  6 tail:                 17       - {feature: export ...}
 *  7 capacity:             18     experiments:
 *  8   weeks_per_period:   19       - {experiment: ...}
 *  9   periods:            20     assume:
 * 10 budget:               21       effort:
 * 11 scenarios:            22       value:
 *                          23       market_growth: */
static const char example[] =
    "objective:\n"
    "  kpi: weekly_active_users      # a KPI key of aipm.yaml\n"
    "  horizon_days: 180\n"
    "baseline: status_quo            # a scenario name\n"
    "risk_aversion: 0.5              # in [0, 1]; default 0.5\n"
    "tail: 0.05                      # CVaR level; default 0.05\n"
    "capacity:                       # optional\n"
    "  weeks_per_period: 12          # person-weeks per period, > 0\n"
    "  periods: 2                    # whole number >= 1\n"
    "budget: 250000                  # optional, >= 0\n"
    "scenarios:\n"
    "  - name: status_quo            # unique, [A-Za-z0-9_-], required\n"
    "  - name: reporting_push\n"
    "    description: Ship the reporting items first\n"
    "    build: [BL-12, BL-40]       # backlog item ids\n"
    "    rollouts:\n"
    "      - {feature: export, segments: [plan=pro], start: 2027-01-15, "
    "ramp_days: 14}\n"
    "    experiments:\n"
    "      - {experiment: new_onboarding, ship: treatment}\n"
    "    assume:                     # a PM's overrides\n"
    "      effort: {BL-12: 3}        # person-weeks, > 0\n"
    "      value: {BL-40: 120}       # the item's value, >= 0\n"
    "      market_growth: 0.05       # relative, per 30 days\n";

static const char example_json[] =
    "{\"baseline\":\"status_quo\",\"budget\":250000,\"capacity\":{"
    "\"periods\":2,\"weeks_per_period\":12},\"objective\":{\"horizon_"
    "days\":180,\"kpi\":\"weekly_active_users\"},\"risk_aversion\":0.5,"
    "\"scenarios\":[{\"assume\":{\"effort\":{},\"value\":{}},\"build\":[],"
    "\"experiments\":[],\"name\":\"status_quo\",\"rollouts\":[]},{"
    "\"assume\":{\"effort\":{\"BL-12\":3},\"market_growth\":0.05,\"value\":{"
    "\"BL-40\":120}},\"build\":[\"BL-12\",\"BL-40\"],\"description\":\"Ship "
    "the reporting items first\",\"experiments\":[{\"experiment\":\"new_"
    "onboarding\",\"ship\":\"treatment\"}],\"name\":\"reporting_push\","
    "\"rollouts\":[{\"feature\":\"export\",\"ramp_days\":14,\"segments\":["
    "\"plan=pro\"],\"start\":\"2027-01-15\"}]}],\"tail\":0.05}";
/* printf '%s' "$example_json" | sha256sum */
static const char example_sha[] =
    "f46c65e0aa26aabe2d2c529b24cbf063c171b47b0abb46999a223d883820a2db";

/* 2027-01-15T00:00:00Z and 2027-01-15T08:30:00Z in ms since the epoch:
 * python3 datetime(2027, 1, 15, tzinfo=timezone.utc).timestamp() * 1000. */
#define JAN15_MS 1799971200000LL
#define JAN15_0830_MS 1800001800000LL

static int load(const char *yaml, aipm_scenario_file **f, aipm_error *err)
{
    memset(err, 0, sizeof(*err));
    return aipm_scenario_file_load_buffer(f, yaml, strlen(yaml), "s.yaml", err);
}

static aipm_scenario_file *load_ok(const char *yaml)
{
    aipm_scenario_file *f = NULL;
    aipm_error err;
    int rc = load(yaml, &f, &err);

    if (rc != AIPM_OK)
        print_error("unexpected error: %s\n", err.msg);
    assert_int_equal(rc, AIPM_OK);
    assert_non_null(f);
    return f;
}

/* The load fails with EINVALID, the message names s.yaml:line and holds
 * want. */
static void expect_error(const char *yaml, int line, const char *want)
{
    aipm_scenario_file *f = (aipm_scenario_file *)1;
    aipm_error err;
    char where[64];
    int rc = load(yaml, &f, &err);

    snprintf(where, sizeof(where), "s.yaml:%d: ", line);
    if (rc != AIPM_EINVALID || strncmp(err.msg, where, strlen(where)) != 0 ||
        strstr(err.msg, want) == NULL)
        print_error("want '%s...%s' (EINVALID), got %d '%s'\nfor:\n%s\n", where,
                    want, rc, err.msg, yaml);
    assert_int_equal(rc, AIPM_EINVALID);
    assert_null(f);
    assert_true(strncmp(err.msg, where, strlen(where)) == 0);
    assert_non_null(strstr(err.msg, want));
}

static char *json_of(const aipm_scenario_file *f, char sha[65])
{
    char *json = NULL;
    aipm_error err = {0, ""};

    assert_int_equal(aipm_scenario_file_json(&json, sha, f, &err), AIPM_OK);
    assert_non_null(json);
    return json;
}

static void test_example(void **state)
{
    aipm_scenario_file *f = load_ok(example);
    const aipm_scenario *a, *b;
    const aipm_scenario_rollout *ro;

    (void)state;
    assert_string_equal(f->path, "s.yaml");
    assert_string_equal(f->objective.kpi, "weekly_active_users");
    assert_int_equal(f->objective.kind, AIPM_SCENARIO_KPI_CONFIG);
    assert_null(f->objective.feature);
    assert_int_equal(f->objective.horizon_days, 180);
    assert_int_equal(f->objective.line, 2);
    assert_int_equal(f->baseline, 0);
    assert_true(f->risk_aversion == 0.5);
    assert_true(f->tail == 0.05);
    assert_int_equal(f->has_capacity, 1);
    assert_true(f->weeks_per_period == 12);
    assert_int_equal(f->periods, 2);
    assert_int_equal(f->has_budget, 1);
    assert_true(f->budget == 250000);
    assert_int_equal(f->n_scenarios, 2);

    a = &f->scenarios[0];
    assert_string_equal(a->name, "status_quo");
    assert_null(a->description);
    assert_int_equal(a->line, 12);
    assert_int_equal(a->n_build, 0);
    assert_int_equal(a->n_rollouts, 0);
    assert_int_equal(a->n_experiments, 0);
    assert_int_equal(a->n_effort, 0);
    assert_int_equal(a->n_value, 0);
    assert_int_equal(a->has_market_growth, 0);

    b = &f->scenarios[1];
    assert_string_equal(b->name, "reporting_push");
    assert_int_equal(b->line, 13);
    assert_string_equal(b->description, "Ship the reporting items first");
    assert_int_equal(b->n_build, 2);
    assert_string_equal(b->build[0].id, "BL-12");
    assert_string_equal(b->build[1].id, "BL-40");
    assert_int_equal(b->build[0].line, 15);
    assert_int_equal(b->build[1].line, 15);
    assert_int_equal(b->n_rollouts, 1);
    ro = &b->rollouts[0];
    assert_string_equal(ro->feature, "export");
    assert_int_equal(ro->n_segments, 1);
    assert_string_equal(ro->segments[0], "plan=pro");
    assert_int_equal(ro->start_ms, JAN15_MS);
    assert_int_equal(ro->ramp_days, 14);
    assert_int_equal(ro->line, 17);
    assert_int_equal(b->n_experiments, 1);
    assert_string_equal(b->experiments[0].experiment, "new_onboarding");
    assert_string_equal(b->experiments[0].ship, "treatment");
    assert_int_equal(b->experiments[0].line, 19);
    assert_int_equal(b->n_effort, 1);
    assert_string_equal(b->effort[0].item, "BL-12");
    assert_true(b->effort[0].value == 3);
    assert_int_equal(b->effort[0].line, 21);
    assert_int_equal(b->n_value, 1);
    assert_string_equal(b->value[0].item, "BL-40");
    assert_true(b->value[0].value == 120);
    assert_int_equal(b->value[0].line, 22);
    assert_int_equal(b->has_market_growth, 1);
    assert_true(b->market_growth == 0.05);

    assert_int_equal(aipm_scenario_file_find(f, "reporting_push"), 1);
    assert_int_equal(aipm_scenario_file_find(f, "status_quo"), 0);
    assert_int_equal(aipm_scenario_file_find(f, "nope"), -1);
    aipm_scenario_file_free(f);
    aipm_scenario_file_free(NULL);
}

static void test_defaults(void **state)
{
    aipm_scenario_file *f =
        load_ok("objective: {kpi: value, horizon_days: 30}\n"
                "capacity: {weeks_per_period: 2.5}\n"
                "scenarios:\n"
                "  - name: first\n"
                "  - name: second\n"
                "    rollouts:\n"
                "      - feature: export\n"
                "        start: 2027-01-15\n");

    (void)state;
    assert_int_equal(f->objective.kind, AIPM_SCENARIO_KPI_VALUE);
    assert_int_equal(f->baseline, 0); /* the first scenario */
    assert_true(f->risk_aversion == 0.5);
    assert_true(f->tail == 0.05);
    assert_int_equal(f->has_capacity, 1);
    assert_true(f->weeks_per_period == 2.5);
    assert_int_equal(f->periods, 1);
    assert_int_equal(f->has_budget, 0);
    assert_int_equal(f->scenarios[1].rollouts[0].ramp_days, 0);
    assert_int_equal(f->scenarios[1].rollouts[0].n_segments, 0);
    assert_int_equal(f->scenarios[1].rollouts[0].line, 7);
    aipm_scenario_file_free(f);

    /* No capacity at all; other values than the defaults are kept. */
    f = load_ok("objective: {kpi: 'adopters:export', horizon_days: 1}\n"
                "baseline: b\n"
                "risk_aversion: 0\n"
                "tail: 1\n"
                "budget: 0\n"
                "scenarios: [{name: a}, {name: b}]\n");
    assert_int_equal(f->objective.kind, AIPM_SCENARIO_KPI_ADOPTERS);
    assert_string_equal(f->objective.feature, "export");
    assert_int_equal(f->has_capacity, 0);
    assert_int_equal(f->baseline, 1);
    assert_true(f->risk_aversion == 0);
    assert_true(f->tail == 1);
    assert_int_equal(f->has_budget, 1);
    assert_true(f->budget == 0);
    aipm_scenario_file_free(f);
}

typedef struct bad_case {
    const char *yaml;
    int line;
    const char *want;
} bad_case;

#define OBJ "objective: {kpi: value, horizon_days: 90}\n" /* line 1 */

static const bad_case bad_cases[] = {
    /* unknown keys, with a did-you-mean, at every level */
    {OBJ "baselin: a\nscenarios: [{name: a}]\n", 2,
     "unknown key 'baselin'; did you mean 'baseline'?"},
    {OBJ "scenarios:\n  - name: a\n    biuld: [x]\n", 4,
     "unknown key 'biuld' in scenarios; did you mean 'build'?"},
    {OBJ "scenarios:\n  - name: a\n    rollouts:\n"
         "      - {feature: f, start: 2027-01-01, ramp_day: 3}\n",
     5, "in scenarios.rollouts; did you mean 'ramp_days'?"},
    {OBJ "scenarios:\n  - name: a\n    assume:\n      efort: {x: 1}\n", 5,
     "in scenarios.assume; did you mean 'effort'?"},
    {"objective: {kpi: value, horizon: 90}\nscenarios: [{name: a}]\n", 1,
     "unknown key 'horizon' in objective"},
    {OBJ "capacity: {weeks_per_periods: 3}\nscenarios: [{name: a}]\n", 2,
     "did you mean 'weeks_per_period'?"},
    {OBJ "scenarios:\n  - name: a\n    build: [x]\n    effort: {x: 1}\n", 5,
     "it belongs under 'assume:'"},
    {OBJ "zzzzzz: 1\nscenarios: [{name: a}]\n", 2,
     "the known ones are objective, baseline, risk_aversion"},
    {OBJ "scenarios:\n  - name: a\n    name: b\n", 4,
     "'name' is given twice in scenarios (first on line 3)"},
    {OBJ "scenarios: [{name: a}]\n[a]: 1\n", 3, "a key must be plain text"},
    /* the shape of the file */
    {"", 1, "the file is empty"},
    {"# only a comment\n", 1, "the file is empty"},
    {"- a\n", 1, "expected a mapping at the top level"},
    {"scenarios: [{name: a}]\n", 1, "objective: is missing"},
    {"objective: {kpi: value}\nscenarios: [{name: a}]\n", 1,
     "needs kpi and horizon_days"},
    {"objective: {kpi: [a], horizon_days: 9}\nscenarios: [{name: a}]\n", 1,
     "objective.kpi: expected a text value, not a list"},
    {"objective: {kpi: 'adopters:', horizon_days: 9}\n"
     "scenarios: [{name: a}]\n",
     1, "adopters: needs a feature"},
    {OBJ, 1, "scenarios: is missing"},
    {OBJ "scenarios: []\n", 2, "list at least one scenario"},
    {OBJ "scenarios:\n", 2, "scenarios: expected a list"},
    {OBJ "scenarios: [a]\n", 2, "each scenario is a mapping"},
    {OBJ "scenarios:\n  - description: x\n", 3, "a scenario needs a name"},
    {OBJ "scenarios:\n  - name: a\n  - name: b\n  - name: a\n", 5,
     "the name 'a' is given twice (first on line 3)"},
    {OBJ "scenarios: [{name: a b}]\n", 2, "may hold only letters, digits"},
    {OBJ "scenarios:\n  - name: a\n    description: \"x\\x01y\"\n", 4,
     "holds a control character (U+0001)"},
    {OBJ "scenarios: [{name: \"a\\nb\"}]\n", 2,
     "scenarios.name holds a control character (U+000A)"},
    /* a value quoted in a message keeps it one line */
    {OBJ "\"ba\\nd\": 1\nscenarios: [{name: a}]\n", 2, "unknown key 'ba?d'"},
    {OBJ "budget: \"1\\n2\"\nscenarios: [{name: a}]\n", 2, "got '1?2'"},
    {OBJ "scenarios:\n  - name: a\n    description: \"x\\0y\"\n", 4,
     "holds a NUL byte"},
    {OBJ "scenarios:\n  - name: a\n    description: \"\"\n", 4,
     "scenarios.description is empty"},
    /* ranges */
    {"objective: {kpi: value, horizon_days: 0}\nscenarios: [{name: a}]\n", 1,
     "objective.horizon_days must be a whole number from 1 to 36500, got 0"},
    {"objective: {kpi: value, horizon_days: 1.5}\nscenarios: [{name: a}]\n", 1,
     "whole number from 1 to 36500, got 1.5"},
    {"objective:\n  kpi: value\n  horizon_days: 36501\n"
     "scenarios: [{name: a}]\n",
     3, "got 36501"},
    {OBJ "baseline: status_qo\nscenarios: [{name: status_quo}]\n", 2,
     "baseline 'status_qo' is not a scenario of this file; did you mean "
     "'status_quo'?"},
    {OBJ "baseline: zzz\nscenarios: [{name: status_quo}]\n", 2,
     "baseline 'zzz' is not a scenario of this file"},
    {OBJ "risk_aversion: 1.5\nscenarios: [{name: a}]\n", 2,
     "risk_aversion must be between 0 and 1, got 1.5"},
    {OBJ "risk_aversion: -0.1\nscenarios: [{name: a}]\n", 2,
     "risk_aversion must be between 0 and 1"},
    {OBJ "tail: 0\nscenarios: [{name: a}]\n", 2, "tail (the CVaR level)"},
    {OBJ "tail: 1.5\nscenarios: [{name: a}]\n", 2, "must be in (0, 1]"},
    {OBJ "budget: -1\nscenarios: [{name: a}]\n", 2, "budget must be >= 0"},
    {OBJ "risk_aversion: 0x1p-1\nscenarios: [{name: a}]\n", 2,
     "risk_aversion: expected a decimal number (like 3 or 0.05), got "
     "'0x1p-1'"},
    {OBJ "budget: inf\nscenarios: [{name: a}]\n", 2,
     "budget: expected a decimal number"},
    {OBJ "budget: [1]\nscenarios: [{name: a}]\n", 2,
     "budget: expected a decimal number, not a list"},
    {OBJ "capacity: {weeks_per_period: 0}\nscenarios: [{name: a}]\n", 2,
     "capacity.weeks_per_period must be > 0"},
    {OBJ "capacity:\n  weeks_per_period: 10\n  periods: 0\n"
         "scenarios: [{name: a}]\n",
     4, "capacity.periods must be a whole number from 1 to 90, got 0"},
    {OBJ "capacity:\n  weeks_per_period: 10\n  periods: 2.5\n"
         "scenarios: [{name: a}]\n",
     4, "got 2.5"},
    {OBJ "capacity:\n  weeks_per_period: 10\n  periods: 91\n"
         "scenarios: [{name: a}]\n",
     4, "from 1 to 90, got 91"},
    {OBJ "capacity: {periods: 2}\nscenarios: [{name: a}]\n", 2,
     "capacity: needs weeks_per_period"},
    {OBJ "capacity: 3\nscenarios: [{name: a}]\n", 2,
     "capacity: expected a mapping"},
    /* build */
    {OBJ "scenarios:\n  - name: a\n    build: [BL-1, \"\"]\n", 4,
     "build: an item id is empty"},
    {OBJ "scenarios:\n  - name: a\n    build:\n      - BL-1\n      - BL-1\n", 6,
     "build: item 'BL-1' is listed twice (first on line 5)"},
    {OBJ "scenarios:\n  - name: a\n    build: BL-1\n", 4,
     "build: expected a list"},
    {OBJ "scenarios:\n  - name: a\n    build: [[BL-1]]\n", 4,
     "build: an item id: expected a text value, not a list"},
    /* rollouts */
    {OBJ "scenarios:\n  - name: a\n    rollouts:\n      - {feature: export}\n",
     5, "a rollout needs feature and start"},
    {OBJ "scenarios:\n  - name: a\n    rollouts:\n"
         "      - {start: 2027-01-01}\n",
     5, "a rollout needs feature and start"},
    {OBJ "scenarios:\n  - name: a\n    rollouts:\n"
         "      - {feature: f, start: 2027-01-01, ramp_days: -1}\n",
     5, "rollouts.ramp_days must be a whole number from 0 to 36500"},
    {OBJ "scenarios:\n  - name: a\n    rollouts:\n"
         "      - {feature: f, start: 2027-02-30}\n",
     5, "rollouts.start is not an ISO 8601 date"},
    {OBJ "scenarios:\n  - name: a\n    rollouts:\n"
         "      - {feature: f, start: 1969-12-31}\n",
     5, "rollouts.start is outside 1970-01-01 .. 9999-12-31"},
    {OBJ "scenarios:\n  - name: a\n    rollouts:\n"
         "      - {feature: f, start: 2027-01-01, segments: [plan]}\n",
     5, "'plan' is not property=value"},
    {OBJ "scenarios:\n  - name: a\n    rollouts:\n"
         "      - {feature: f, start: 2027-01-01, segments: [=pro]}\n",
     5, "'=pro' is not property=value"},
    {OBJ "scenarios:\n  - name: a\n    rollouts:\n"
         "      - {feature: f, start: 2027-01-01, segments: [a=1, a=1]}\n",
     5, "feature 'f' reaches segment 'a=1' twice (first on line 5)"},
    {OBJ "scenarios:\n  - name: a\n    rollouts:\n"
         "      - {feature: f, start: 2027-01-01, segments: [a=1]}\n"
         "      - {feature: g, start: 2027-01-01, segments: [a=1]}\n"
         "      - {feature: f, start: 2027-03-01, segments: [a=2, a=1]}\n",
     7, "feature 'f' reaches segment 'a=1' twice (first on line 5)"},
    {OBJ "scenarios:\n  - name: a\n    rollouts:\n"
         "      - {feature: f, start: 2027-01-01}\n"
         "      - {feature: f, start: 2027-02-01}\n",
     6, "feature 'f' is rolled out to everyone on line 5"},
    {OBJ "scenarios:\n  - name: a\n    rollouts:\n"
         "      - {feature: f, start: 2027-01-01}\n"
         "      - {feature: f, start: 2027-02-01, segments: [a=1]}\n",
     6, "feature 'f' is rolled out to everyone on line 5"},
    {OBJ "scenarios:\n  - name: a\n    rollouts:\n"
         "      - {feature: f, start: 2027-01-01, segments: [a=1]}\n"
         "      - {feature: f, start: 2027-02-01}\n",
     6, "to everyone here and to segments on line 5"},
    {OBJ "scenarios:\n  - name: a\n    rollouts: [export]\n", 4,
     "rollouts: each rollout is a mapping"},
    /* experiments */
    {OBJ "scenarios:\n  - name: a\n    experiments:\n      - {experiment: e}\n",
     5, "an entry needs experiment and ship"},
    {OBJ "scenarios:\n  - name: a\n    experiments:\n      - {ship: t}\n", 5,
     "an entry needs experiment and ship"},
    {OBJ "scenarios:\n  - name: a\n    experiments:\n"
         "      - {experiment: e, ship: t}\n"
         "      - {experiment: e, ship: c}\n",
     6, "'e' is decided twice (first on line 5)"},
    /* assume */
    {OBJ "scenarios:\n  - name: a\n    build: [BL-12]\n    assume:\n"
         "      effort: {BL-21: 3}\n",
     6,
     "assume.effort: scenario 'a' does not build 'BL-21', so the "
     "assumption would do nothing; did you mean 'BL-12'?"},
    {OBJ "scenarios:\n  - name: a\n    build: [BL-12]\n    assume:\n"
         "      effort: {BL-12: 3}\n"
         "  - name: b\n    assume:\n      effort: {BL-12: 3}\n",
     9, "scenario 'b' does not build 'BL-12'"},
    {OBJ "scenarios:\n  - name: a\n    build: [BL-12]\n    assume:\n"
         "      value: {ZZZ-999: 1}\n",
     6,
     "does not build 'ZZZ-999', so the assumption would do nothing; add "
     "it to build or remove it"},
    {OBJ "scenarios:\n  - name: a\n    build: [BL-12]\n    assume:\n"
         "      effort: {BL-12: 0}\n",
     6, "assume.effort: 'BL-12' must be > 0 person-weeks, got 0"},
    {OBJ "scenarios:\n  - name: a\n    build: [BL-12]\n    assume:\n"
         "      value: {BL-12: -1}\n",
     6, "assume.value: 'BL-12' must be >= 0, got -1"},
    {OBJ "scenarios:\n  - name: a\n    build: [BL-12]\n    assume:\n"
         "      value: {BL-12: lots}\n",
     6, "assume.value.BL-12: expected a decimal number"},
    {OBJ "scenarios:\n  - name: a\n    build: [BL-12]\n    assume:\n"
         "      effort:\n        BL-12: 1\n        BL-12: 2\n",
     8, "assume.effort: 'BL-12' is given twice (first on line 7)"},
    {OBJ "scenarios:\n  - name: a\n    build: [BL-12]\n    assume:\n"
         "      effort: [BL-12]\n",
     6, "assume.effort: expected a mapping of item ids"},
    {OBJ "scenarios:\n  - name: a\n    assume:\n      market_growth: -1\n", 5,
     "assume.market_growth is relative growth per 30 days and must be > -1"},
    {OBJ "scenarios:\n  - name: a\n    assume: 0.05\n", 4,
     "assume: expected a mapping"},
    /* YAML features refused */
    {"objective: &o {kpi: value, horizon_days: 90}\n"
     "scenarios: [{name: a}]\nbaseline: *o\n",
     3, "YAML aliases (*o) are not supported"},
    {OBJ "scenarios: [{name: a}]\n---\nfoo: 1\n", 3,
     "a second YAML document (---)"},
};

static void test_errors(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
        expect_error(bad_cases[i].yaml, bad_cases[i].line, bad_cases[i].want);
}

static void test_bad_yaml(void **state)
{
    aipm_scenario_file *f = (aipm_scenario_file *)1;
    aipm_error err;

    (void)state;
    /* An unclosed flow list: libyaml's own message, with its line. */
    assert_int_equal(load(OBJ "scenarios: [{name: a}\n", &f, &err),
                     AIPM_EINVALID);
    assert_null(f);
    assert_true(strncmp(err.msg, "s.yaml:", 7) == 0);
    /* A tab where YAML wants spaces. */
    f = (aipm_scenario_file *)1;
    assert_int_equal(load(OBJ "scenarios:\n\t- name: a\n", &f, &err),
                     AIPM_EINVALID);
    assert_null(f);
    assert_true(strncmp(err.msg, "s.yaml:", 7) == 0);
}

/* The text yaml with "%s" replaced by n copies of c, then n copies of
 * close (none when close is 0): "[[[]]]" for c '[' and close ']'. */
static char *with_run(const char *yaml, char c, char close, size_t n)
{
    const char *at = strstr(yaml, "%s");
    size_t pre = (size_t)(at - yaml), post = strlen(at + 2),
           n_close = close ? n : 0;
    char *s = malloc(pre + n + n_close + post + 1);

    assert_non_null(s);
    memcpy(s, yaml, pre);
    memset(s + pre, c, n);
    memset(s + pre + n, close, n_close);
    memcpy(s + pre + n + n_close, at + 2, post + 1);
    return s;
}

/* Append to buf (cap bytes, *len used) like snprintf. */
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < cap - *len);
    *len += (size_t)n;
}

static void test_limits(void **state)
{
    aipm_scenario_file *f = (aipm_scenario_file *)1;
    aipm_error err = {0, ""};
    char *s;
    size_t i, n, len, cap;
    int k;

    (void)state;
    /* Over AIPM_SCENARIO_MAX_BYTES, refused before parsing. */
    n = AIPM_SCENARIO_MAX_BYTES + 1;
    s = malloc(n);
    assert_non_null(s);
    memset(s, '#', n);
    assert_int_equal(aipm_scenario_file_load_buffer(&f, s, n, "s.yaml", &err),
                     AIPM_EINVALID);
    assert_null(f);
    assert_non_null(strstr(err.msg, "over the 1048576"));
    free(s);

    /* Nesting: the top mapping and 15 lists are 16 levels (the unknown
     * key is the error); one more list is too deep, on its line. */
    s = with_run(OBJ "scenarios: [{name: a}]\nx: %s\n", '[', ']', 15);
    expect_error(s, 3, "unknown key 'x'");
    free(s);
    s = with_run(OBJ "scenarios: [{name: a}]\nx: %s\n", '[', ']', 16);
    expect_error(s, 3, "nested more than 16 levels deep");
    free(s);

    /* A name of AIPM_SCENARIO_MAX_NAME bytes, and one more. */
    s = with_run(OBJ "scenarios: [{name: %s}]\n", 'n', 0,
                 AIPM_SCENARIO_MAX_NAME);
    f = load_ok(s);
    assert_int_equal(strlen(f->scenarios[0].name), AIPM_SCENARIO_MAX_NAME);
    aipm_scenario_file_free(f);
    free(s);
    s = with_run(OBJ "scenarios: [{name: %s}]\n", 'n', 0,
                 AIPM_SCENARIO_MAX_NAME + 1);
    expect_error(s, 2, "is 65 bytes long, over the 64 allowed");
    free(s);

    /* An item id of AIPM_SCENARIO_MAX_ID bytes, and one more. */
    s = with_run(OBJ "scenarios: [{name: a, build: [%s]}]\n", 'i', 0,
                 AIPM_SCENARIO_MAX_ID);
    f = load_ok(s);
    assert_int_equal(strlen(f->scenarios[0].build[0].id), AIPM_SCENARIO_MAX_ID);
    aipm_scenario_file_free(f);
    free(s);
    s = with_run(OBJ "scenarios: [{name: a, build: [%s]}]\n", 'i', 0,
                 AIPM_SCENARIO_MAX_ID + 1);
    expect_error(s, 2, "is 257 bytes long, over the 256 allowed");
    free(s);

    /* AIPM_SCENARIO_MAX_SCENARIOS scenarios, and one more (line 2). */
    for (k = 0; k <= 1; k++) {
        int count = AIPM_SCENARIO_MAX_SCENARIOS + k;

        cap = (size_t)count * 16 + 64;
        len = 0;
        s = malloc(cap);
        assert_non_null(s);
        append(s, cap, &len, OBJ "scenarios: [");
        for (i = 0; i < (size_t)count; i++)
            append(s, cap, &len, "%s{name: s%zu}", i ? "," : "", i);
        append(s, cap, &len, "]\n");
        if (k == 0) {
            f = load_ok(s);
            assert_int_equal(f->n_scenarios, AIPM_SCENARIO_MAX_SCENARIOS);
            assert_string_equal(f->scenarios[999].name, "s999");
            aipm_scenario_file_free(f);
        } else {
            expect_error(s, 2, "scenarios: 1001 entries, over the 1000");
        }
        free(s);
    }

    /* AIPM_SCENARIO_MAX_ENTRIES items in build, and one more (line 4). */
    for (k = 0; k <= 1; k++) {
        int count = AIPM_SCENARIO_MAX_ENTRIES + k;

        cap = (size_t)count * 12 + 128;
        len = 0;
        s = malloc(cap);
        assert_non_null(s);
        append(s, cap, &len, OBJ "scenarios:\n  - name: a\n    build: [");
        for (i = 0; i < (size_t)count; i++)
            append(s, cap, &len, "%sBL-%zu", i ? "," : "", i);
        append(s, cap, &len, "]\n");
        if (k == 0) {
            f = load_ok(s);
            assert_int_equal(f->scenarios[0].n_build,
                             AIPM_SCENARIO_MAX_ENTRIES);
            assert_string_equal(f->scenarios[0].build[9999].id, "BL-9999");
            aipm_scenario_file_free(f);
        } else {
            expect_error(s, 4, "build: 10001 entries, over the 10000");
        }
        free(s);
    }

    /* Days: the bounds themselves are accepted. */
    f = load_ok("objective: {kpi: value, horizon_days: 36500}\n"
                "capacity: {weeks_per_period: 1, periods: 36500}\n"
                "scenarios:\n  - name: a\n    rollouts:\n"
                "      - {feature: f, start: 9999-12-31, ramp_days: 36500}\n"
                "      - {feature: g, start: 1970-01-01, ramp_days: 0}\n");
    assert_int_equal(f->objective.horizon_days, 36500);
    assert_int_equal(f->periods, 36500);
    assert_int_equal(f->scenarios[0].rollouts[0].ramp_days, 36500);
    assert_int_equal(f->scenarios[0].rollouts[1].start_ms, 0);
    aipm_scenario_file_free(f);
}

static void test_json(void **state)
{
    aipm_scenario_file *f = load_ok(example), *g;
    char sha[65], sha2[65], *json, *json2, *dumped;
    json_t *parsed;
    json_error_t jerr;

    (void)state;
    json = json_of(f, sha);
    assert_string_equal(json, example_json);
    assert_string_equal(sha, example_sha);

    /* Sorted and compact by jansson's account too (precision 15 prints
     * 0.05 and 0.5 as written; the integers are integers). */
    parsed = json_loads(json, 0, &jerr);
    assert_non_null(parsed);
    dumped = json_dumps(parsed, JSON_COMPACT | JSON_SORT_KEYS |
                                    JSON_REAL_PRECISION(15));
    assert_string_equal(dumped, json);
    free(dumped);
    json_decref(parsed);

    /* The JSON is a scenario file that loads to the same JSON. */
    g = load_ok(json);
    json2 = json_of(g, sha2);
    assert_string_equal(json2, json);
    assert_string_equal(sha2, sha);
    free(json2);
    aipm_scenario_file_free(g);

    /* The same meaning written another way: defaults left out, keys and
     * the assumption maps in another order, other spellings of the
     * numbers and the date, comments. */
    g = load_ok("scenarios:\n"
                "- name: status_quo\n"
                "  build: []\n"
                "- assume:\n"
                "    market_growth: 5e-2\n"
                "    value:\n"
                "      BL-40: 1.2e2\n"
                "    effort: {BL-12: 3.0}\n"
                "  experiments: [{ship: treatment, experiment: "
                "new_onboarding}]\n"
                "  rollouts:\n"
                "  - start: 2027-01-15T00:00:00Z\n"
                "    segments: [plan=pro]\n"
                "    feature: export\n"
                "    ramp_days: 14\n"
                "  build: [BL-12, BL-40]\n"
                "  name: reporting_push\n"
                "  description: \"Ship the reporting items first\"\n"
                "budget: 2.5e5\n"
                "capacity: {periods: 2, weeks_per_period: 12}\n"
                "objective: {horizon_days: 180, kpi: weekly_active_users}\n");
    json2 = json_of(g, sha2);
    assert_string_equal(json2, example_json);
    assert_string_equal(sha2, example_sha);
    free(json2);
    aipm_scenario_file_free(g);

    /* A different meaning gives a different digest. */
    g = load_ok("objective: {kpi: weekly_active_users, horizon_days: 181}\n"
                "scenarios: [{name: status_quo}]\n");
    json2 = json_of(g, sha2);
    assert_string_not_equal(sha2, example_sha);
    free(json2);
    aipm_scenario_file_free(g);

    free(json);
    assert_int_equal(aipm_scenario_file_json(&json, NULL, f, NULL), AIPM_OK);
    assert_string_equal(json, example_json);
    free(json);
    aipm_scenario_file_free(f);
}

/* Sorting of the assumption maps, a time of day, text that needs escapes
 * and numbers whose shortest form is long; and back again. */
static void test_json_details(void **state)
{
    aipm_scenario_file *f, *g;
    char *json, *json2;
    const char *want;

    (void)state;
    f = load_ok("objective: {kpi: value, horizon_days: 90}\n"
                "risk_aversion: 0.1\n"
                "tail: 0.3333333333333333\n"
                "scenarios:\n"
                "  - name: a\n"
                "    description: \"say \\\"hi\\\"\\\\\\n\\tthen\\u2028go\"\n"
                "    build: [b, a, B]\n"
                "    assume:\n"
                "      effort: {b: 1, a: 2, B: 0.5}\n"
                "      market_growth: -0.0\n"
                "    rollouts:\n"
                "      - {feature: f, start: '2027-01-15T09:30:00+01:00'}\n");
    assert_int_equal(f->scenarios[0].rollouts[0].start_ms, JAN15_0830_MS);
    assert_string_equal(f->scenarios[0].description,
                        "say \"hi\"\\\n\tthen\xe2\x80\xa8go");
    json = json_of(f, NULL);
    want = "{\"baseline\":\"a\",\"objective\":{\"horizon_days\":90,\"kpi\":"
           "\"value\"},\"risk_aversion\":0.1,\"scenarios\":[{\"assume\":{"
           "\"effort\":{\"B\":0.5,\"a\":2,\"b\":1},\"market_growth\":0,"
           "\"value\":{}},\"build\":[\"b\",\"a\",\"B\"],\"description\":"
           "\"say \\\"hi\\\"\\\\\\n\\tthen\\u2028go\",\"experiments\":[],"
           "\"name\":\"a\",\"rollouts\":[{\"feature\":\"f\",\"ramp_days\":0,"
           "\"segments\":[],\"start\":\"2027-01-15T08:30:00.000Z\"}]}],"
           "\"tail\":0.3333333333333333}";
    assert_string_equal(json, want);
    g = load_ok(json);
    assert_true(g->tail == f->tail);
    assert_string_equal(g->scenarios[0].description,
                        f->scenarios[0].description);
    json2 = json_of(g, NULL);
    assert_string_equal(json2, json);
    free(json2);
    free(json);
    aipm_scenario_file_free(g);
    aipm_scenario_file_free(f);

    /* Code points libyaml skips (a BOM) or refuses raw (U+FFFE, U+FFFF)
     * but makes from escapes: escaped in the JSON, so it loads again (a
     * fuzzer's find). */
    f = load_ok(OBJ "scenarios:\n  - name: a\n"
                    "    description: \"x\\ufeff\\ufffe\\uffffy\"\n");
    assert_string_equal(f->scenarios[0].description,
                        "x\xef\xbb\xbf\xef\xbf\xbe\xef\xbf\xbfy");
    json = json_of(f, NULL);
    assert_non_null(
        strstr(json, "\"description\":\"x\\ufeff\\ufffe\\uffffy\""));
    g = load_ok(json);
    assert_string_equal(g->scenarios[0].description,
                        f->scenarios[0].description);
    free(json);
    aipm_scenario_file_free(g);
    aipm_scenario_file_free(f);
}

typedef struct tmp {
    char dir[256];
    char path[300];
} tmp;

static int setup(void **state)
{
    tmp *t = calloc(1, sizeof(*t));

    if (t == NULL || tu_mkdtemp(t->dir, sizeof(t->dir)) == NULL)
        return -1;
    snprintf(t->path, sizeof(t->path), "%s/scenarios.yaml", t->dir);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tmp *t = *state;

    tu_rmtree(t->dir);
    free(t);
    return 0;
}

static void test_files(void **state)
{
    tmp *t = *state;
    aipm_scenario_file *f = (aipm_scenario_file *)1;
    aipm_error err = {0, ""};
    char other[400], want[400];
    const char *bad = OBJ "scenarios:\n  - name: a\n    biuld: [x]\n";

    assert_int_equal(tu_write(t->path, example, strlen(example)), 0);
    assert_int_equal(aipm_scenario_file_load(&f, t->path, &err), AIPM_OK);
    assert_non_null(f);
    assert_string_equal(f->path, t->path);
    assert_int_equal(f->n_scenarios, 2);
    aipm_scenario_file_free(f);

    /* An error in a file names the file and line. */
    assert_int_equal(tu_write(t->path, bad, strlen(bad)), 0);
    memset(&err, 0, sizeof(err));
    assert_int_equal(aipm_scenario_file_load(&f, t->path, &err), AIPM_EINVALID);
    assert_null(f);
    snprintf(want, sizeof(want), "%s:4: unknown key 'biuld'", t->path);
    assert_true(strncmp(err.msg, want, strlen(want)) == 0);

    /* Missing, a folder, a FIFO (refused at once, never waited on). */
    snprintf(other, sizeof(other), "%s/none.yaml", t->dir);
    memset(&err, 0, sizeof(err));
    assert_int_equal(aipm_scenario_file_load(&f, other, &err), AIPM_ENOTFOUND);
    assert_null(f);
    memset(&err, 0, sizeof(err));
    assert_int_equal(aipm_scenario_file_load(&f, t->dir, &err), AIPM_EINVALID);
    assert_null(f);
    snprintf(other, sizeof(other), "%s/fifo.yaml", t->dir);
    assert_int_equal(mkfifo(other, 0600), 0);
    memset(&err, 0, sizeof(err));
    assert_int_equal(aipm_scenario_file_load(&f, other, &err), AIPM_EINVALID);
    assert_null(f);
    assert_non_null(strstr(err.msg, "not a regular file"));

    /* Over the size limit: refused from its size, not read. */
    snprintf(other, sizeof(other), "%s/big.yaml", t->dir);
    {
        FILE *big = fopen(other, "wb");

        assert_non_null(big);
        assert_int_equal(fseek(big, AIPM_SCENARIO_MAX_BYTES, SEEK_SET), 0);
        assert_int_equal(fputc('\n', big), '\n');
        assert_int_equal(fclose(big), 0);
    }
    memset(&err, 0, sizeof(err));
    assert_int_equal(aipm_scenario_file_load(&f, other, &err), AIPM_EINVALID);
    assert_null(f);
    assert_non_null(strstr(err.msg, "too large"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_bad_yaml),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_details),
        cmocka_unit_test_setup_teardown(test_files, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
