#!/usr/bin/env python3
"""The LP relaxation of a `quan allocate` instance by HiGHS (scipy's linprog(method="highs")),
solved independently of quan: x in [0, 1] per pair of positive value, sum of x <= 1 per member,
sum of cost * x <= budget, sum of x <= N per stocked option. Prints one JSON line with the LP
optimum, the time to build and solve, and the versions.

Usage: highs.py FILE --budget B [--stock OPTION=N ...]
"""
import argparse
import json
import time

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import scipy
import scipy.sparse as sp
from scipy.optimize import linprog


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--budget", type=float, required=True)
    ap.add_argument("--stock", action="append", default=[])
    a = ap.parse_args()
    t = pacsv.read_csv(a.file) if a.file.endswith(".csv") else pq.read_table(a.file)
    started = time.perf_counter()
    member = t.column("member_id").to_pandas()
    option = t.column("option").to_pandas().astype(str)
    cost = t.column("cost").to_numpy().astype(float)
    value = t.column("value").to_numpy().astype(float)
    keep = value > 0
    member, option, cost, value = member[keep], option[keep].to_numpy(), cost[keep], value[keep]
    m_index, _ = member.factorize()
    n = len(value)
    rows = [sp.csr_matrix((np.ones(n), (m_index, np.arange(n)))), sp.csr_matrix(cost[None, :])]
    rhs = [np.ones(m_index.max() + 1), [a.budget]]
    for s in a.stock:
        name, count = s.rsplit("=", 1)
        rows.append(sp.csr_matrix((option == name).astype(float)[None, :]))
        rhs.append([float(count)])
    A = sp.vstack(rows).tocsr()
    b = np.concatenate([np.asarray(r, dtype=float) for r in rhs])
    built = time.perf_counter()
    r = linprog(-value, A_ub=A, b_ub=b, bounds=(0, 1), method="highs")
    done = time.perf_counter()
    print(json.dumps({
        "status": r.message,
        "lp_objective": -r.fun,
        "build_seconds": built - started,
        "solve_seconds": done - built,
        "scipy": scipy.__version__,
        "numpy": np.__version__,
    }))


if __name__ == "__main__":
    main()
