#!/usr/bin/env python3
"""The baseline beside `quan model backtest`: a plain logistic regression on RFM features.

Computed independently of quan from the same Parquet files with the same as-of rule: for each
(household, campaign) pair, recency, frequency and monetary come from the household's
transactions strictly before the campaign's start. It trains on the same campaigns (ended
before --train-until, not the test campaign, with at least one redemption in the file),
labels a pair 1 when the household redeemed at least one coupon of the campaign, and prints
the AUC and the Brier score on the test campaign's households.

Usage: backtest_baseline.py --data DIR --train-until 2017-08-01 --test-campaign 13
"""

import argparse
import sys
import time

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def rfm(tx, households, start):
    """Recency (days), frequency (baskets) and monetary (dollars) before `start`."""
    before = tx[(tx.transaction_timestamp < start) & tx.household_id.isin(households)]
    g = before.groupby("household_id")
    out = pd.DataFrame(
        {
            "last": g.transaction_timestamp.max(),
            "frequency": g.basket_id.nunique(),
            "monetary": g.sales_value.sum(),
        }
    ).reindex(households)
    out["recency"] = (start - out["last"]).dt.total_seconds() / 86400.0
    # A household with no purchase yet: as old as the data allows, none bought.
    out["recency"] = out["recency"].fillna(365.0)
    out["frequency"] = out["frequency"].fillna(0.0)
    out["monetary"] = out["monetary"].fillna(0.0)
    return np.column_stack(
        [out.recency, np.log1p(out.frequency), np.log1p(out.monetary.clip(lower=0))]
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--train-until", required=True)
    p.add_argument("--test-campaign", type=int, required=True)
    a = p.parse_args()
    started = time.time()
    d = a.data.rstrip("/") + "/"
    tx = pd.read_parquet(
        d + "transactions.parquet",
        columns=["household_id", "basket_id", "sales_value", "transaction_timestamp"],
    )
    desc = pd.read_parquet(d + "campaign_descriptions.parquet").set_index("campaign_id")
    sent = pd.read_parquet(d + "campaigns.parquet")
    red = pd.read_parquet(d + "coupon_redemptions.parquet")
    redeemed = red.groupby("campaign_id").household_id.apply(set).to_dict()
    until = pd.Timestamp(a.train_until)

    def pairs(cid):
        hh = sorted(sent[sent.campaign_id == cid].household_id.unique())
        x = rfm(tx, hh, desc.loc[cid, "start_date"])
        y = np.array([h in redeemed.get(cid, set()) for h in hh], dtype=int)
        return hh, x, y

    train = [
        c
        for c in desc.index
        if c != a.test_campaign and desc.loc[c, "end_date"] < until and c in redeemed
    ]
    xs, ys = [], []
    for c in sorted(train):
        _, x, y = pairs(c)
        xs.append(x)
        ys.append(y)
    x, y = np.vstack(xs), np.concatenate(ys)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(x, y)
    print(
        f"baseline train: campaigns {', '.join(map(str, sorted(train)))}: "
        f"{len(y)} sends, {y.sum()} redeemed"
    )
    hh, xt, yt = pairs(a.test_campaign)
    pt = model.predict_proba(xt)[:, 1]
    if a.test_campaign not in redeemed:
        print("baseline AUC: no ground truth")
        return 0
    print(
        f"baseline AUC {roc_auc_score(yt, pt):.4f} (logistic regression on RFM; "
        f"{yt.sum()} of {len(yt)} households redeemed); Brier {brier_score_loss(yt, pt):.4f}; "
        f"{time.time() - started:.1f} s"
    )
    print(
        f"baseline versions: python {sys.version.split()[0]}, scikit-learn {sklearn.__version__}, "
        f"pandas {pd.__version__}, numpy {np.__version__}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
