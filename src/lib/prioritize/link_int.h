/* link_int.h - what link.c (the linker) and link_assoc.c (its learnt term
 * associations) share: the limits, the query, example and labelled-row
 * types and the linker's state. */
#ifndef AIPM_PRIORITIZE_LINK_INT_H
#define AIPM_PRIORITIZE_LINK_INT_H

#include "aipm/feedback.h"
#include "aipm/text.h"

#include <stddef.h>
#include <stdint.h>

#define MAX_ITEMS (1 << 22)
#define MAX_CORRECTIONS (1 << 24)

#define MAX_SURF (1 << 24)

#define N_FOLDS 5
#define CV_MAX_ROWS 10000
#define CAND_TOP 10
#define MAX_CAND (3 * CAND_TOP + 1)
#define N_W 6
#define NEG_WEIGHT 0.25
#define COLD_WEIGHT 0.25
#define EX_PER_ROW 3
#define MAX_Q 256    /* distinct terms of a query */
#define FUZZY_K 3    /* known terms that may stand for one typo */
#define FUZZY_W1 0.7 /* weight of a term one edit away */
#define FUZZY_W2 0.5 /* two edits */
#define MAX_SEGMENTS 6
/* Learnt associations of a feedback term with item-text terms: kept when
 * at least ASSOC_SUPPORT labelled rows hold the term, the share of them
 * whose item's text holds the item term (smoothed toward its share among
 * all labelled rows, prior weight ASSOC_PRIOR) is at least ASSOC_MIN and
 * ASSOC_LIFT times that base share; per term the ASSOC_K with the highest
 * share times log(lift), so a word seen in one labelled row points at its
 * item's rarest words (the feature's), not at the ones every item of a
 * surface shares. */
#define ASSOC_SUPPORT 1
#define ASSOC_PRIOR 1.0
#define ASSOC_MIN 0.4
#define ASSOC_LIFT 3.0
#define ASSOC_K 3
#define MAX_X 512 /* item terms an expanded query holds */

/* A query: distinct terms with weights and their ids in each index (id_u:
 * in the index of all labelled rows, for the associations), and the item
 * terms the associations add (xid, xw). */
typedef struct query {
    int n, n_terms; /* entries; distinct terms of the text */
    int id_item[MAX_Q], id_lab[MAX_Q], id_u[MAX_Q];
    double w[MAX_Q];
    int nx;
    int xid[MAX_X];
    double xw[MAX_X];
} query;

/* Associations of one fold: for feedback term u (an id of the index of all
 * labelled rows), the item terms v[start[u] .. start[u + 1]) with their
 * strengths. */
typedef struct assoc {
    size_t *start;
    int *v;
    float *a;
} assoc;

/* One option of the conditional logit: an item (or -1: none). */
typedef struct option {
    int item;
    double x[N_W];
} option;

typedef struct example {
    int n_opt, answer; /* answer: index into the options */
    int row;           /* of L->lab_rows, in cross-validation */
    int added;         /* the answer was not retrieved: added, last */
    double weight;
    option opt[MAX_CAND + 1];
} example;

typedef struct labelled {
    char *text;
    uint64_t key; /* the sample keeps the smallest keys */
    int n_items;  /* 0: about no item (unlinked) */
    int items[AIPM_LINK_MAX_ITEMS];
    int fold, cv;
} labelled;

/* A person's corrections of one row: the items they linked it to (those
 * still in the backlog), or that it is about no item. */
typedef struct correction {
    int n, none;
    int item[AIPM_LINK_MAX_ITEMS];
} correction;

typedef struct linker {
    aipm_tokenizer *tok;
    aipm_bm25 *ix;                  /* item titles and descriptions */
    aipm_bm25 *lab[N_FOLDS + 1];    /* labelled text; [N_FOLDS]: all */
    int64_t *n_lab[N_FOLDS + 1];    /* labelled rows per item in each */
    int64_t lab_total[N_FOLDS + 1]; /* and in all */
    aipm_fuzzy *fuzzy; /* the words of the items and labelled rows */
    aipm_strmap surf;  /* such a word -> its stem in surf_stem[] */
    char **surf_stem;
    size_t cap_surf;
    assoc ax[N_FOLDS + 1]; /* learnt from the same rows as lab[] */
    int *x_at;             /* item term -> 1 + its place in a query */
    double *xs;            /* per item: the associations' score */
    int *xs_touched, n_xs; /* items with xs != 0 */
    aipm_strmap items;     /* item id -> document index */
    char **titles;
    size_t cap_titles;
    aipm_strmap corr;           /* feedback id -> corrections[] */
    struct correction *corr_of; /* by correction index */
    size_t n_corr_cap;
    labelled *lab_rows;
    size_t n_lab_rows, cap_lab_rows, max_lab;
    struct pred *pred; /* held-out predictions */
    size_t n_pred;
    double w[N_W];
    double threshold;
    aipm_link_cb cb;
    void *ctx;
    aipm_link_stats stats;
    int64_t total;
    const aipm_link_opts *o;
    aipm_error *err;
    int failed; /* an error was set while loading */
} linker;

/* link_assoc.c: the associations of each fold, learnt from the labelled
 * rows (step 4 of link.c); a query's expansion into the item terms its
 * terms stand for; every item's associations' score for a query (into
 * L->xs, the CAND_TOP best into hits; returns how many); and the clearing
 * of L->xs after an example's features are taken. */
int aipm_link__build_assoc(linker *L);
void aipm_link__expand(linker *L, int f, query *q);
int aipm_link__assoc_scores(linker *L, const query *q, aipm_bm25_hit *hits);
void aipm_link__assoc_clear(linker *L);

#endif
