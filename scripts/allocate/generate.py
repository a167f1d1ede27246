#!/usr/bin/env python3
"""Synthetic `quan allocate` instances: MEMBERS members x 5 coupons, deterministic by --seed.

Each member has a base chance of buying in the period (Beta(2, 6)) and an average order value
(log-normal around 80). A coupon of face value F lifts the chance of buying with diminishing
returns in F relative to the member's order value:
    p(F) = base + (0.9 - base) * (1 - exp(-F / (k * aov)))      k ~ U(0.3, 1.5) per member
so deeper coupons buy less extra response per unit of face value. Then, per pair:
    cost  = p(F) * F                    (expected face value redeemed)
    value = (p(F) - base) * aov * 0.35  (expected incremental margin, 35% gross margin)
            - 0.02 * F                  (a little cannibalisation), times 5% noise.
Rows are grouped by member, as `quan allocate` requires. Writes Parquet (.parquet) or CSV.

Usage: generate.py --members N --out FILE [--seed S]
"""
import argparse

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FACES = np.array([5.0, 10.0, 20.0, 30.0, 50.0])
NAMES = ["c5", "c10", "c20", "c30", "c50"]


def instance(n, seed):
    rng = np.random.default_rng(seed)
    base = rng.beta(2.0, 6.0, n)
    aov = rng.lognormal(np.log(80.0), 0.5, n)
    k = rng.uniform(0.3, 1.5, n)
    f = FACES[None, :]
    p = base[:, None] + (0.9 - base[:, None]) * (1.0 - np.exp(-f / (k[:, None] * aov[:, None])))
    cost = p * f
    value = ((p - base[:, None]) * aov[:, None] * 0.35 - 0.02 * f) * rng.normal(1.0, 0.05, (n, 5))
    ids = np.char.add("m", np.char.zfill(np.arange(n).astype(str), 9))
    members = pa.array(ids).take(pa.array(np.repeat(np.arange(n), 5)))
    options = pa.DictionaryArray.from_arrays(pa.array(np.tile(np.arange(5, dtype=np.int8), n)), pa.array(NAMES)).cast(pa.string())
    return pa.table({
        "member_id": members,
        "option": options,
        "cost": pa.array(np.round(cost, 4).ravel()),
        "value": pa.array(np.round(value, 4).ravel()),
    })


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=12)
    a = ap.parse_args()
    t = instance(a.members, a.seed)
    if a.out.endswith(".csv"):
        pacsv.write_csv(t, a.out)
    else:
        pq.write_table(t, a.out, compression="snappy", row_group_size=1 << 20)


if __name__ == "__main__":
    main()
