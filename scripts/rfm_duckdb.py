#!/usr/bin/env python3
"""Reference RFM computation over The Complete Journey Parquet files, using DuckDB.

This is the benchmark baseline for quan's own RFM recompute, with the same definition:
members are households, an order is a basket, its amount is the sum over its lines of
round(sales_value * 100) cents, and its paid time is the basket's transaction_timestamp
(stored without a time zone, read as UTC). Orders count when
as_of - window_days < paid_at <= as_of. Each member with an order in the window gets
r, f and m = NTILE(5) over last paid time, order count and amount sum (ties broken by the
member id compared as a string), and a tier from r + f + m: S >= 13, A >= 10, B >= 7, else C.

The whole query, from the Parquet files to the materialized per-member result, is timed
--repeat times with a fresh connection each time; it prints the median and minimum time and
a checksum block to compare with quan's result (or one JSON object with --json).

Usage: python3 scripts/rfm_duckdb.py [--data DIR] [--as-of RFC3339] [--window-days N]
                                     [--repeat N] [--json]
Needs: pip install duckdb
"""

import argparse
import json
import statistics
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

DEFAULT_DATA = Path(__file__).resolve().parent.parent / ".." / "shared" / "data" / "completejourney"
SAMPLE_MEMBERS = ["1", "2", "100", "2469"]

QUERY = """
WITH orders AS (
    SELECT CAST(household_id AS VARCHAR) AS member_id,
           max(transaction_timestamp) AS paid_at,
           sum(CAST(round(sales_value * 100) AS BIGINT)) AS amount
    FROM read_parquet(?)
    GROUP BY basket_id, household_id
),
members AS (
    SELECT member_id,
           max(paid_at) AS last_paid,
           count(*) AS frequency,
           CAST(sum(amount) AS BIGINT) AS monetary
    FROM orders
    WHERE paid_at > ? AND paid_at <= ?
    GROUP BY member_id
),
scored AS (
    SELECT member_id, last_paid, frequency, monetary,
           NTILE(5) OVER (ORDER BY last_paid ASC, member_id ASC) AS r,
           NTILE(5) OVER (ORDER BY frequency ASC, member_id ASC) AS f,
           NTILE(5) OVER (ORDER BY monetary ASC, member_id ASC) AS m
    FROM members
)
SELECT member_id, last_paid, frequency, monetary, r, f, m,
       CASE WHEN r + f + m >= 13 THEN 'S'
            WHEN r + f + m >= 10 THEN 'A'
            WHEN r + f + m >= 7 THEN 'B'
            ELSE 'C' END AS tier
FROM scored
"""


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="directory of the Parquet files")
    p.add_argument("--as-of", default="2018-01-01T00:00:00Z", help="RFC 3339 instant (default %(default)s)")
    p.add_argument("--window-days", type=int, default=365, help="window length in days (default %(default)s)")
    p.add_argument("--repeat", type=int, default=5, help="timed runs (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return p.parse_args()


def window(as_of_text, days):
    """The window bounds as naive UTC timestamps (the Parquet timestamps carry no zone)."""
    as_of = datetime.fromisoformat(as_of_text.replace("Z", "+00:00"))
    if as_of.tzinfo is None:
        raise SystemExit("--as-of needs a UTC offset or Z (RFC 3339)")
    as_of = as_of.astimezone(timezone.utc).replace(tzinfo=None)
    return as_of - timedelta(days=days), as_of


def run_once(path, start, end):
    """One timed run on a fresh connection; returns (milliseconds, rows)."""
    began = time.perf_counter()
    con = duckdb.connect()
    rows = con.execute(QUERY, [str(path), start, end]).fetchall()
    con.close()
    return (time.perf_counter() - began) * 1000.0, rows


def checksum(rows):
    by_id = {row[0]: row for row in rows}
    tiers = {t: sum(1 for row in rows if row[7] == t) for t in "SABC"}
    samples = {}
    for mid in SAMPLE_MEMBERS:
        row = by_id.get(mid)
        samples[mid] = None if row is None else {"r": row[4], "f": row[5], "m": row[6], "tier": row[7]}
    return {
        "members": len(rows),
        "tiers": tiers,
        "sum_r": sum(row[4] for row in rows),
        "sum_f": sum(row[5] for row in rows),
        "sum_m": sum(row[6] for row in rows),
        "sum_monetary": sum(row[3] for row in rows),
        "samples": samples,
    }


def main():
    args = parse_args()
    path = (args.data / "transactions.parquet").resolve()
    start, end = window(args.as_of, args.window_days)
    times, rows = [], []
    for _ in range(max(1, args.repeat)):
        ms, rows = run_once(path, start, end)
        times.append(ms)
    result = {
        "engine": f"duckdb {duckdb.__version__}",
        "data": str(path),
        "as_of": args.as_of,
        "window_days": args.window_days,
        "repeat": len(times),
        "median_ms": round(statistics.median(times), 1),
        "min_ms": round(min(times), 1),
        **checksum(rows),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['engine']}  as_of {args.as_of}  window {args.window_days} days  {path}")
    print(f"median {result['median_ms']} ms  min {result['min_ms']} ms  ({len(times)} runs)")
    print(f"members {result['members']}")
    print("tiers " + " ".join(f"{t}={n}" for t, n in result["tiers"].items()))
    print(f"sum_r {result['sum_r']}  sum_f {result['sum_f']}  sum_m {result['sum_m']}")
    print(f"sum_monetary {result['sum_monetary']}")
    for mid, s in result["samples"].items():
        print(f"member {mid}: " + ("not scored" if s is None else f"r={s['r']} f={s['f']} m={s['m']} tier={s['tier']}"))


if __name__ == "__main__":
    main()
