/* language.c - how the demo's PM and customers write about the backlog.
 *
 * A backlog item is a product concept (a "pivot table", a "webhook", "SSO
 * login"; seven per area) combined with an action ("scheduled delivery",
 * "permissions", "version history"; shared by every area). The PM writes
 * titles and descriptions with the concept's and the action's own terms.
 * Customers use those terms only some of the time (DEMO_OWN_TERM_SHARE);
 * otherwise they use one of their own phrasings ("cross tab" for a pivot
 * table, "sign in with okta" for SSO), which the item text does not
 * contain or only hints at. Items of one area share the area's words and
 * items with the same concept or action share those, so the linking
 * problem has near misses.
 *
 * A feedback text is one to three asks (sentences from ask templates, joined
 * by ". ", "also" or "and") between an optional greeting and sign-off, or,
 * for a row about no item, chatter or a complaint that still names product
 * things (a hard negative). Then typos: each word of DEMO_TYPO_MIN_LETTERS
 * letters or more gets one with probability DEMO_TYPO_SHARE, a swap of two
 * adjacent letters, a dropped letter, a doubled letter or a neighbouring
 * key on a QWERTY keyboard.
 *
 * The tables are written for this generator. Every draw comes from the
 * caller's generator, in a fixed order.
 */
#include "demo/demo_int.h"

#include <ctype.h>
#include <string.h>

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* area: 0 reporting, 1 dashboards, 2 alerts, 3 data, 4 collaboration,
 * 5 admin (demo_areas). */
const demo_concept demo_concepts[DEMO_N_CONCEPTS] = {
    {0,
     "pivot table",
     {"cross tab", "crosstab", "group by rows and columns", "summary grid"}},
    {0,
     "CSV export",
     {"download as excel", "spreadsheet download", "xlsx file", NULL}},
    {0, "PDF report", {"printable version", "print it out", "pdf copy", NULL}},
    {0,
     "report builder",
     {"make my own report", "drag and drop editor", "custom views", NULL}},
    {0,
     "email digest",
     {"weekly summary mail", "numbers in my inbox", "morning recap", NULL}},
    {0,
     "chart annotations",
     {"notes on the graph", "mark events on the line", "comment on a point",
      NULL}},
    {0,
     "period comparison",
     {"compare to last month", "year over year", "versus previous week", NULL}},
    {1, "metric widget", {"kpi tile", "number card", "big number box", NULL}},
    {1,
     "dashboard filter",
     {"filter bar", "slicer", "dropdown to narrow things", NULL}},
    {1,
     "dark mode",
     {"night theme", "black background", "easier on the eyes", NULL}},
    {1,
     "drill-down",
     {"click into the numbers", "zoom into details", "rows behind a chart",
      NULL}},
    {1,
     "TV mode",
     {"wall display", "full screen on the office tv", "kiosk screen", NULL}},
    {1,
     "layout grid",
     {"move the boxes around", "resize panels", "rearrange charts", NULL}},
    {1,
     "embedded dashboard",
     {"put it in our intranet", "iframe", "show charts on our website", NULL}},
    {2,
     "threshold alert",
     {"ping me when it drops", "warn when numbers go below", "limit alarm",
      NULL}},
    {2,
     "Slack notification",
     {"post to our channel", "message in slack", "chat ping", NULL}},
    {2,
     "anomaly detection",
     {"spot weird spikes", "something looks off warning", "unusual dips",
      NULL}},
    {2,
     "webhook",
     {"call our endpoint", "http callback", "post json to our server", NULL}},
    {2,
     "alert digest",
     {"fewer alert emails", "one summary instead of fifty mails",
      "batch the pings", NULL}},
    {2,
     "push notification",
     {"buzz on my phone", "phone alert", "app badge", NULL}},
    {2, "SMS alert", {"text message", "text me", "message to my cell", NULL}},
    {3,
     "Salesforce connector",
     {"sfdc sync", "crm import", "pull deals from our crm", NULL}},
    {3,
     "CSV import",
     {"upload a spreadsheet", "load an excel file", "bring in a file", NULL}},
    {3,
     "data refresh",
     {"numbers are stale", "update more often", "live numbers", NULL}},
    {3,
     "calculated field",
     {"custom formula", "computed column", "add my own math", NULL}},
    {3,
     "warehouse sync",
     {"connect bigquery", "snowflake tables", "our dwh", NULL}},
    {3,
     "data retention",
     {"keep history longer", "older than a year", "how long you store things",
      NULL}},
    {3,
     "field mapping",
     {"match columns", "rename source fields", "map our columns", NULL}},
    {4,
     "comment thread",
     {"leave notes for coworkers", "discuss on the chart", "reply to a note",
      NULL}},
    {4,
     "user mentions",
     {"tag a colleague", "at sign someone", "notify a teammate by name", NULL}},
    {4,
     "shared folder",
     {"team space", "common place for reports", "where everyone sees it",
      NULL}},
    {4,
     "guest access",
     {"invite outside people", "external viewer",
      "client login without a "
      "seat",
      NULL}},
    {4,
     "activity feed",
     {"what teammates changed", "recent changes list", "timeline of edits",
      NULL}},
    {4,
     "approval workflow",
     {"sign off before publishing", "review step", "manager ok first", NULL}},
    {4,
     "co-editing",
     {"edit together at the same time", "google docs style",
      "two people in "
      "one report",
      NULL}},
    {5,
     "SSO login",
     {"sign in with okta", "single sign on", "azure ad login", "saml"}},
    {5,
     "audit log",
     {"who did what", "track admin changes", "security trail", NULL}},
    {5,
     "user roles",
     {"read only access", "viewer role", "limit what interns can do", NULL}},
    {5,
     "two-factor authentication",
     {"2fa", "authenticator app code", "extra login code", NULL}},
    {5,
     "SCIM provisioning",
     {"auto create accounts from okta", "sync people from our directory",
      "remove leavers automatically", NULL}},
    {5,
     "billing page",
     {"see what we pay for", "invoice breakdown", "seat count on the bill",
      NULL}},
    {5,
     "IP allowlist",
     {"office network only", "block outside addresses", "vpn only", NULL}},
};

const demo_action demo_actions[DEMO_N_ACTIONS] = {
    {"Scheduled delivery",
     "deliver on a schedule",
     {"send it automatically every monday", "recurring", "on a timer", NULL}},
    {"Bulk editing",
     "edit many at once",
     {"change them all in one go", "select all", "mass update", NULL}},
    {"Permissions",
     "control who can view and change",
     {"lock it down", "hide from some people", "private", NULL}},
    {"Templates",
     "start from a template",
     {"presets", "copy a previous one", "starter layouts", NULL}},
    {"Performance",
     "load faster",
     {"takes forever", "spinner for ages", "so slow", NULL}},
    {"Mobile support",
     "work on phones and tablets",
     {"on my phone", "ipad", "iphone app", NULL}},
    {"API access",
     "manage through the public API",
     {"script it", "an endpoint", "automate with code", NULL}},
    {"Version history",
     "keep previous versions",
     {"undo", "go back to yesterday", "restore an old copy", NULL}},
    {"Search",
     "find quickly by name",
     {"cannot find anything", "look up by keyword", "where did it go", NULL}},
    {"Custom formatting",
     "change colours, fonts and number formats",
     {"brand colors", "decimals", "make it look nicer", NULL}},
    {"Sharing links",
     "share by link",
     {"send a link to my boss", "public url", "share outside", NULL}},
    {"Localization",
     "translate the interface and date formats",
     {"in german", "european dates", "other languages", NULL}},
};

/* {C}: the concept, {A}: the action. */
static const char *const ask_templates[] = {
    "we need {A} for the {C}",
    "is there any way to get {A} on {C}",
    "{C} - {A} please",
    "our team keeps asking for {A} with the {C}",
    "would love {A} in {C}",
    "the {C} has no {A} and that hurts",
    "any plans for {A} on the {C}",
    "{A} for {C} would save us hours",
    "cannot believe {C} still lacks {A}",
    "when will {C} get {A}",
};

/* {P}: a product thing named in passing. */
static const char *const noise_templates[] = {
    "billing question about our invoice",
    "the {P} was slow this morning, thanks for the help",
    "thanks for the quick help with the {P} yesterday",
    "can someone reset my password, locked out again",
    "love the {P}, great work team",
    "the {P} showed an error earlier but works after a refresh",
    "who is our account manager now",
    "please update the credit card on file",
    "our trial ends soon, can we talk about pricing",
    "the {P} looked broken in firefox today, fine now",
    "just saying the new {P} looks great",
    "is the {P} included in our plan or extra",
};

static const char *const openers[] = {"",
                                      "",
                                      "",
                                      "hi, ",
                                      "hello team, ",
                                      "hey there, ",
                                      "quick feedback: ",
                                      "from our ops team: ",
                                      "feature request: "};

static const char *const closers[] = {"",
                                      "",
                                      "",
                                      " thanks",
                                      " thanks!",
                                      " cheers",
                                      " this would help a lot",
                                      " otherwise great product",
                                      " we are on the enterprise plan"};

static const char *const joiners[] = {". ", " also ", " and ", ". also "};

/* QWERTY neighbours of a..z. */
static const char *const neighbours[26] = {
    "qwsz",   "vghn", "xdfv",   "serfcx", "wsdr",   "drtgvc", "ftyhbv",
    "gyujnb", "ujko", "huikmn", "jiolm",  "kop",    "njk",    "bhjm",
    "iklp",   "ol",   "wa",     "edft",   "awedxz", "rfgy",   "yhji",
    "cfgb",   "qase", "zsdc",   "tghu",   "asx"};

static int uniform_int(gsl_rng *r, int lo, int hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int)gsl_rng_uniform_int(r, (unsigned long)(hi - lo + 1));
}

static int n_phrases(const char *const p[DEMO_MAX_PHRASES])
{
    int n = 0;

    while (n < DEMO_MAX_PHRASES && p[n])
        n++;
    return n;
}

/* Append s to out[len..cap), lowercased when lower; returns the length. */
static size_t put(char *out, size_t cap, size_t len, const char *s, int lower)
{
    for (; *s && len + 1 < cap; s++)
        out[len++] = lower ? (char)tolower((unsigned char)*s) : *s;
    out[len] = '\0';
    return len;
}

/* Fill a template: {C}, {A} and {P} replaced by the given strings. */
static size_t fill(char *out, size_t cap, size_t len, const char *tmpl,
                   const char *c, const char *a, const char *p)
{
    while (*tmpl && len + 1 < cap) {
        if (tmpl[0] == '{' && tmpl[1] && tmpl[2] == '}') {
            const char *v = tmpl[1] == 'C' ? c : tmpl[1] == 'A' ? a : p;

            len = put(out, cap, len, v ? v : "", 0);
            tmpl += 3;
        } else {
            out[len++] = *tmpl++;
        }
    }
    out[len] = '\0';
    return len;
}

void demo_lang_title(gsl_rng *r, const demo_item *it, char *out, size_t cap)
{
    const demo_concept *c = &demo_concepts[it->concept];
    const demo_action *a = &demo_actions[it->action];
    char lower[64];

    snprintf(lower, sizeof(lower), "%s", a->title);
    lower[0] = (char)tolower((unsigned char)lower[0]);
    switch (uniform_int(r, 0, 2)) {
    case 0:
        snprintf(out, cap, "%s for the %s", a->title, c->term);
        break;
    case 1:
        snprintf(out, cap, "%s: %s", c->term, lower);
        break;
    default:
        snprintf(out, cap, "%s %s: %s", demo_areas[c->area], c->term, lower);
        break;
    }
    out[0] = (char)toupper((unsigned char)out[0]);
}

void demo_lang_description(gsl_rng *r, const demo_item *it, char *out,
                           size_t cap)
{
    const demo_concept *c = &demo_concepts[it->concept];
    const demo_action *a = &demo_actions[it->action];
    const char *area = demo_areas[c->area];

    switch (uniform_int(r, 0, 3)) {
    case 0:
        snprintf(out, cap,
                 "Let teams use the %s to %s in %s; several accounts asked.",
                 c->term, a->desc, area);
        break;
    case 1:
        snprintf(out, cap, "Today the %s cannot %s. Part of the %s roadmap.",
                 c->term, a->desc, area);
        break;
    case 2:
        snprintf(out, cap, "Follow-up from %s reviews: the %s should %s.", area,
                 c->term, a->desc);
        break;
    default:
        snprintf(out, cap, "As a %s user I want the %s to %s.", area, c->term,
                 a->desc);
        break;
    }
}

/* The item's own term (lowercased, as customers type) with probability
 * DEMO_OWN_TERM_SHARE, else one of the customers' phrasings. */
static void pick_ref(gsl_rng *r, const char *term,
                     const char *const phrases[DEMO_MAX_PHRASES], char *out,
                     size_t cap)
{
    if (gsl_rng_uniform(r) < DEMO_OWN_TERM_SHARE) {
        put(out, cap, 0, term, 1);
    } else {
        int n = n_phrases(phrases);

        put(out, cap, 0, phrases[uniform_int(r, 0, n - 1)], 0);
    }
}

size_t demo_lang_ask(gsl_rng *r, const demo_item *it, int quote, char *out,
                     size_t cap, size_t len)
{
    const demo_concept *c = &demo_concepts[it->concept];
    const demo_action *a = &demo_actions[it->action];
    char cref[96], aref[96], quoted[100];
    const char *concept = cref;

    pick_ref(r, c->term, c->phrases, cref, sizeof(cref));
    pick_ref(r, a->title, a->phrases, aref, sizeof(aref));
    if (quote && gsl_rng_uniform(r) < 0.1) {
        snprintf(quoted, sizeof(quoted), "\"%s\"", cref);
        concept = quoted;
    }
    return fill(out, cap, len,
                ask_templates[uniform_int(r, 0, N(ask_templates) - 1)], concept,
                aref, NULL);
}

size_t demo_lang_noise(gsl_rng *r, char *out, size_t cap, size_t len)
{
    const char *tmpl =
        noise_templates[uniform_int(r, 0, N(noise_templates) - 1)];
    const demo_concept *c =
        &demo_concepts[uniform_int(r, 0, DEMO_N_CONCEPTS - 1)];
    char pref[96];

    pick_ref(r, c->term, c->phrases, pref, sizeof(pref));
    return fill(out, cap, len, tmpl, NULL, NULL, pref);
}

size_t demo_lang_opener(gsl_rng *r, char *out, size_t cap, size_t len)
{
    return put(out, cap, len, openers[uniform_int(r, 0, N(openers) - 1)], 0);
}

size_t demo_lang_closer(gsl_rng *r, char *out, size_t cap, size_t len)
{
    return put(out, cap, len, closers[uniform_int(r, 0, N(closers) - 1)], 0);
}

size_t demo_lang_joiner(gsl_rng *r, char *out, size_t cap, size_t len)
{
    return put(out, cap, len, joiners[uniform_int(r, 0, N(joiners) - 1)], 0);
}

/* One typo in word w (n lowercase letters, n >= 5) into out; returns the
 * new length. */
static size_t typo(gsl_rng *r, const char *w, size_t n, char *out)
{
    size_t at, len = 0, i;
    const char *nb;

    switch (uniform_int(r, 0, 3)) {
    case 0: /* swap two adjacent letters */
        memcpy(out, w, n);
        at = (size_t)uniform_int(r, 0, (int)n - 2);
        out[at] = w[at + 1];
        out[at + 1] = w[at];
        return n;
    case 1: /* drop a letter */
        at = (size_t)uniform_int(r, 0, (int)n - 1);
        for (i = 0; i < n; i++)
            if (i != at)
                out[len++] = w[i];
        return len;
    case 2: /* double a letter */
        at = (size_t)uniform_int(r, 0, (int)n - 1);
        for (i = 0; i < n; i++) {
            out[len++] = w[i];
            if (i == at)
                out[len++] = w[i];
        }
        return len;
    default: /* a neighbouring key */
        memcpy(out, w, n);
        at = (size_t)uniform_int(r, 0, (int)n - 1);
        nb = neighbours[w[at] - 'a'];
        out[at] = nb[uniform_int(r, 0, (int)strlen(nb) - 1)];
        return n;
    }
}

void demo_lang_typos(gsl_rng *r, char *text, size_t cap)
{
    char out[DEMO_TEXT_MAX + 64];
    size_t i = 0, len = 0, n = strlen(text);

    while (i < n && len + DEMO_TYPO_MIN_LETTERS + 40 < sizeof(out)) {
        size_t j = i;

        while (j < n && text[j] >= 'a' && text[j] <= 'z')
            j++;
        if (j - i >= DEMO_TYPO_MIN_LETTERS && j - i < 32 &&
            (j == n || !isalnum((unsigned char)text[j])) &&
            (i == 0 || !isalnum((unsigned char)text[i - 1])) &&
            gsl_rng_uniform(r) < DEMO_TYPO_SHARE) {
            len += typo(r, text + i, j - i, out + len);
            i = j;
        } else if (j > i) {
            if (len + (j - i) + 1 >= sizeof(out))
                break;
            memcpy(out + len, text + i, j - i);
            len += j - i;
            i = j;
        } else {
            out[len++] = text[i++];
        }
    }
    out[len] = '\0';
    snprintf(text, cap, "%s", out);
}

/* Add the words of s (lowercase letter runs) to the set. */
static void add_words(json_t *set, const char *s)
{
    char w[64];
    size_t n = 0;

    for (;; s++) {
        if (*s && isalpha((unsigned char)*s)) {
            if (n + 1 < sizeof(w))
                w[n++] = (char)tolower((unsigned char)*s);
            continue;
        }
        if (n) {
            w[n] = '\0';
            json_object_set_new(set, w, json_true());
            n = 0;
        }
        if (!*s)
            break;
    }
}

json_t *demo_lang_truth(void)
{
    json_t *set = json_object(), *words = json_array();
    const char *key;
    json_t *v;
    int i, k;

    for (i = 0; i < DEMO_N_CONCEPTS; i++) {
        add_words(set, demo_concepts[i].term);
        for (k = 0; k < n_phrases(demo_concepts[i].phrases); k++)
            add_words(set, demo_concepts[i].phrases[k]);
    }
    for (i = 0; i < DEMO_N_ACTIONS; i++) {
        add_words(set, demo_actions[i].title);
        for (k = 0; k < n_phrases(demo_actions[i].phrases); k++)
            add_words(set, demo_actions[i].phrases[k]);
    }
    for (i = 0; i < N(ask_templates); i++)
        add_words(set, ask_templates[i]);
    for (i = 0; i < N(noise_templates); i++)
        add_words(set, noise_templates[i]);
    for (i = 0; i < N(openers); i++)
        add_words(set, openers[i]);
    for (i = 0; i < N(closers); i++)
        add_words(set, closers[i]);
    for (i = 0; i < N(joiners); i++)
        add_words(set, joiners[i]);
    json_object_foreach(set, key, v)
    {
        /* c and p are the templates' {C} and {P}, not words */
        if (strcmp(key, "c") != 0 && strcmp(key, "p") != 0)
            json_array_append_new(words, json_string(key));
    }
    json_decref(set);
    return json_pack(
        "{s:s, s:f, s:f, s:i, s:f, s:f, s:f, s:o}", "meaning",
        "each item is a concept and an action; a feedback ask names each "
        "by the item's own term with probability own_term_share, else by a "
        "customer phrasing (backlog.items[].concept_phrases, "
        "action_phrases); each word of typo_min_letters letters or more "
        "gets one typo (adjacent swap, dropped letter, doubled letter, "
        "neighbouring key) with probability typo_share; a row about an "
        "item carries 2-3 asks with probability multi_ask_share; rows "
        "about no item are noise_rows_per_item_row of the item rows; a "
        "row about an item names its first ask in item_id with "
        "probability tagged_share; vocabulary: every word the text "
        "tables use",
        "own_term_share", DEMO_OWN_TERM_SHARE, "typo_share", DEMO_TYPO_SHARE,
        "typo_min_letters", DEMO_TYPO_MIN_LETTERS, "multi_ask_share",
        DEMO_MULTI_ASK_SHARE, "noise_rows_per_item_row", DEMO_NOISE_PER_ITEM,
        "tagged_share", DEMO_TAGGED_SHARE, "vocabulary", words);
}
