#!/usr/bin/env python3
"""The same aggregation with DuckDB, for benches/compare.sh.

usage: duckdb_groupby.py BOOK_DIR

Runs SELECT member_id, unit, SUM(amount) ... GROUP BY member_id, unit over BOOK_DIR/patronage.csv
(amount read as DECIMAL(18,2), exact) and prints the number of groups and the grand total.
"""
import sys
import time

import duckdb


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = f"{sys.argv[1]}/patronage.csv"
    t0 = time.perf_counter()
    con = duckdb.connect()
    rows = con.execute(
        """
        SELECT member_id, unit, SUM(amount) AS total, COUNT(*) AS n
        FROM read_csv(?, header = true, columns = {
            'date': 'VARCHAR', 'member_id': 'VARCHAR', 'unit': 'VARCHAR',
            'measure': 'VARCHAR', 'amount': 'DECIMAL(18,2)'})
        GROUP BY member_id, unit
        """,
        [path],
    ).fetchall()
    elapsed = time.perf_counter() - t0
    total = sum(r[2] for r in rows)
    n = sum(r[3] for r in rows)
    print(f"duckdb {duckdb.__version__}: {len(rows)} groups, {n} rows, total {total}, {elapsed:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
