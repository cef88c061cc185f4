#!/usr/bin/env bash
# Side-by-side figures: coopledger check (parallel scan; polars; row-by-row fold), the dry-run
# close, and DuckDB's GROUP BY member_id, unit on the same generated patronage.csv (a consumer
# co-op with rows/100 members, at least 1,000: 100,000 members at 10M rows). DuckDB is timed as a
# process (like coopledger) and, for fairness, also by its own clock around the query alone.
# Prints a Markdown table.
#
# usage: benches/compare.sh [RUNS] [ROWS...]     (defaults: 3 runs, 1000000 10000000 rows)
# needs: a release build (cargo build --release), python3 with duckdb (pip install duckdb),
#        GNU time at /usr/bin/time. Books go to a temporary directory, removed at the end.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
bin="${COOPLEDGER_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/coopledger}"
runs="${1:-3}"
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 10000000)
[ -x "$bin" ] || { echo "no release binary at $bin; run cargo build --release" >&2; exit 2; }
python3 -c 'import duckdb' 2>/dev/null || { echo "python3 cannot import duckdb; pip install duckdb" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# one timed run: prints "seconds peak_mb" (GNU time: elapsed wall clock, maximum resident set)
measure() {
  local log="$work/time.log"
  /usr/bin/time -v "$@" >"$work/out.log" 2>"$log" || { cat "$work/out.log" "$log" >&2; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  # wall is m:ss.ss or h:mm:ss
  python3 -c "import sys; p=[float(x) for x in sys.argv[1].split(':')]; s=sum(v*60**(len(p)-1-i) for i,v in enumerate(p)); print(f'{s:.2f} {int(sys.argv[2])/1024:.0f}')" "$wall" "$rss"
}

# the median of several runs, and the peak memory of the runs
median_of() {
  local -a secs=() mbs=()
  for _ in $(seq "$runs"); do
    read -r s m < <(measure "$@")
    secs+=("$s"); mbs+=("$m")
  done
  python3 -c "import statistics,sys; a=sys.argv[1].split(); b=sys.argv[2].split(); print(f'{statistics.median(map(float,a)):.2f} {max(map(float,b)):.0f} {min(map(float,a)):.2f} {max(map(float,a)):.2f}')" "${secs[*]}" "${mbs[*]}"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "coopledger: $("$bin" --version); duckdb: $(python3 -c 'import duckdb; print(duckdb.__version__)'); runs: $runs (median; min-max)"
echo
echo "| rows | patronage.csv | tool | wall s (median) | min-max s | peak RSS MB |"
echo "|---:|---:|---|---:|---:|---:|"
for rows in "${sizes[@]}"; do
  book="$work/book-$rows"
  members=$(( rows / 100 > 1000 ? rows / 100 : 1000 ))
  "$bin" gen "$book" --members "$members" --rows "$rows" --seed 42
  size=$(du -m "$book/patronage.csv" | cut -f1)
  # warm the page cache once so every tool reads from memory
  cat "$book/patronage.csv" >/dev/null
  read -r s m lo hi < <(median_of "$bin" check "$book")
  echo "| $rows | ${size} MB | coopledger check (parallel scan, default) | $s | $lo-$hi | $m |"
  read -r s m lo hi < <(median_of env COOPLEDGER_NO_SCAN=1 "$bin" check "$book")
  echo "| $rows | ${size} MB | coopledger check (polars streaming) | $s | $lo-$hi | $m |"
  read -r s m lo hi < <(median_of env COOPLEDGER_NO_SCAN=1 COOPLEDGER_NO_POLARS=1 "$bin" check "$book")
  echo "| $rows | ${size} MB | coopledger check (fold, one thread) | $s | $lo-$hi | $m |"
  read -r s m lo hi < <(median_of "$bin" close "$book" --year 2025 --dry-run)
  echo "| $rows | ${size} MB | coopledger close --dry-run | $s | $lo-$hi | $m |"
  read -r s m lo hi < <(median_of "$bin" close "$book" --year 2025 --dry-run -O json)
  echo "| $rows | ${size} MB | coopledger close --dry-run -O json | $s | $lo-$hi | $m |"
  read -r s m lo hi < <(median_of python3 "$here/duckdb_groupby.py" "$book")
  echo "| $rows | ${size} MB | DuckDB GROUP BY member_id, unit (process) | $s | $lo-$hi | $m |"
  q=$(for _ in $(seq "$runs"); do python3 "$here/duckdb_groupby.py" "$book" | awk '{print $(NF-1)}'; done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)] " " a[1] "-" a[NR]}')
  echo "| $rows | ${size} MB | DuckDB GROUP BY member_id, unit (query only, timed inside Python) | ${q% *} | ${q#* } | - |"
  rm -rf "$book"
done
