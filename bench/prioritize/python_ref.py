#!/usr/bin/python3
"""python_ref.py MODE DB DRAWS: the prioritization benchmark's peer, written
the way a data team would, on the same aipm.db.

MODE link: feedback linked to backlog items with scikit-learn's
  TfidfVectorizer (English stop words) and cosine similarity, in chunks of
  20,000 rows (the full 1M x 10k similarity matrix does not fit; each
  chunk's stays sparse), best item per row, a link when the cosine is at
  least 0.2.
MODE rank: link as above, then per item: demand = linked rows, the shipped
  items' outcome with pandas (item users per day / daily actives x 10,000),
  a least-squares fit of log(1 + outcome) on [1, log1p(demand), RICE
  features], and a numpy Monte Carlo of DRAWS draws per open item (normal
  residuals on the log scale, lognormal effort): mean, P10/P50/P90, CVaR10,
  risk-adjusted score per effort, ranked.
Prints one JSON line of counts (so the work cannot be skipped).
"""
import json
import sqlite3
import sys

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer


def link(db):
    items = pd.read_sql("SELECT id, title, coalesce(description, '') AS d FROM v_backlog", db)
    fb = pd.read_sql("SELECT id, text, item_id, account_id, created_at FROM v_feedback", db)
    vec = TfidfVectorizer(stop_words="english")
    X_items = vec.fit_transform(items["title"] + "\n" + items["d"])
    best = np.empty(len(fb), dtype=np.int64)
    score = np.empty(len(fb))
    for start in range(0, len(fb), 20000):
        X = vec.transform(fb["text"].iloc[start:start + 20000])
        sims = (X @ X_items.T).tocsr()  # sparse: most pairs share no word
        n = sims.shape[0]
        best[start:start + n] = np.asarray(sims.argmax(axis=1)).ravel()
        score[start:start + n] = sims.max(axis=1).toarray().ravel()
    fb["model_item"] = items["id"].to_numpy()[best]
    fb["score"] = score
    known = fb["item_id"].isin(set(items["id"]))
    fb["link"] = np.where(known, fb["item_id"], np.where(score >= 0.2, fb["model_item"], None))
    return items, fb


def rank(db, draws):
    items, fb = link(db)
    bl = pd.read_sql("SELECT id, effort, status, shipped_at, reach, impact, confidence FROM v_backlog", db)
    demand = fb.dropna(subset=["link"]).groupby("link")["account_id"].nunique()
    bl["demand"] = bl["id"].map(demand).fillna(0)
    ev = pd.read_sql("SELECT user_id, ts, payload FROM v_events WHERE type = 'track'", db)
    ev["day"] = ev["ts"] // 86400000
    dau = ev.groupby("day")["user_id"].nunique()
    tagged = ev[ev["payload"].str.contains('"item_id"')].copy()
    tagged["item"] = tagged["payload"].map(lambda p: json.loads(p).get("item_id"))
    use = tagged.groupby(["item", "day"])["user_id"].nunique().reset_index()
    outcome = {}
    for item, g in use.groupby("item"):
        outcome[item] = 10000 * g["user_id"].sum() / dau.loc[g["day"]].sum()
    bl["outcome"] = bl["id"].map(outcome)
    has = bl["reach"].notna()
    X = np.column_stack([np.ones(len(bl)), np.log1p(bl["demand"]), has,
                         np.where(has, np.log1p(bl["reach"].fillna(0)), 0),
                         np.where(has, np.log(bl["impact"].fillna(1)), 0),
                         np.where(has, np.log(bl["confidence"].fillna(1)), 0)])
    train = bl["outcome"].notna().to_numpy()
    y = np.log1p(bl["outcome"][train].to_numpy())
    beta, *_ = np.linalg.lstsq(X[train], y, rcond=None)
    sigma = np.std(y - X[train] @ beta)
    cand = bl["status"].isin(["idea", "planned", "in_progress"]).to_numpy()
    mu = X[cand] @ beta
    effort = bl["effort"].to_numpy()[cand]
    rng = np.random.default_rng(1)
    out = []
    for start in range(0, len(mu), 1000):
        m = mu[start:start + 1000, None]
        value = np.maximum(np.expm1(m + sigma * rng.standard_normal((len(m), draws))), 0)
        eff = effort[start:start + 1000, None] * np.exp(0.5 * rng.standard_normal((len(m), draws)))
        score = value / eff
        q = np.percentile(value, [10, 50, 90], axis=1)
        k = max(1, int(np.ceil(0.1 * draws)))
        cvar = np.partition(score, k - 1, axis=1)[:, :k].mean(axis=1)
        s_mean = score.mean(axis=1)
        out.append(np.column_stack([value.mean(axis=1), q.T, s_mean - 0.5 * (s_mean - cvar)]))
    res = np.vstack(out)
    order = np.argsort(-res[:, 4])
    return {"items": int(cand.sum()), "trained_on": int(train.sum()), "top": str(bl["id"][cand].iloc[order[0]]),
            "linked": int(fb["link"].notna().sum())}


def main():
    mode, path, draws = sys.argv[1], sys.argv[2], int(sys.argv[3])
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    if mode == "link":
        items, fb = link(db)
        print(json.dumps({"rows": len(fb), "linked": int(fb["link"].notna().sum())}))
    else:
        print(json.dumps(rank(db, draws)))


if __name__ == "__main__":
    main()
