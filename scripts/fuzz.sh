#!/usr/bin/env bash
# Coverage-guided fuzzing of the core's parsers (cargo-fuzz + libFuzzer, nightly toolchain).
#   bash scripts/fuzz.sh                     every target in fuzz/fuzz_targets/, one at a time
#   bash scripts/fuzz.sh resp redirect       just these
#   FUZZ_SECONDS=60 bash scripts/fuzz.sh     seconds per target (default 600)
#   FUZZ_KEEP_GOING=1 bash scripts/fuzz.sh   keep fuzzing after a crash (libFuzzer -fork=1
#                                            -ignore_crashes=1), to look past a known one; slow
#                                            when a shallow bug kills nearly every job
# Each target starts from fuzz/seeds/<target>/ plus its growing corpus fuzz/corpus/<target>/
# (not in git). Of the crash, timeout and out-of-memory inputs libFuzzer writes, one per
# distinct failure (panic location) not already there is copied to fuzz/regressions/<target>/
# (replayed by `cargo test`, core/tests/fuzz_regressions.rs); any failure makes the script
# exit non-zero. The full libFuzzer log is fuzz/artifacts/<target>/fuzz.log.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-600}"

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz (crates.io)"
  cargo +nightly install --locked cargo-fuzz
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in fuzz/fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi

# Longest input per target: enough for a real reply or config, small enough to stay fast.
max_len() {
  case "$1" in
  redirect) echo 256 ;;
  command_keys) echo 1024 ;;
  config_text) echo 2048 ;;
  *) echo 4096 ;;
  esac
}

# Keep-going mode: one forked worker that survives crashes (still one core).
extra=()
if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
  extra=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi

# Where an input fails: the panic location, else the first sanitizer/libFuzzer error line.
signature() {
  local out
  out=$("$1" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 "$2" 2>&1 || true)
  grep -m1 -oE 'panicked at [^ ]+' <<<"$out" ||
    grep -m1 -oE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer): [^(]*' <<<"$out" ||
    echo "no failure on replay"
}

summary=()
failed=0
for t in "${targets[@]}"; do
  if [ ! -f "fuzz/fuzz_targets/$t.rs" ]; then
    echo "fuzz.sh: no fuzz target $t (see fuzz/fuzz_targets/)" >&2
    exit 2
  fi
  echo "== $t: building"
  nice -n 10 cargo +nightly fuzz build --fuzz-dir fuzz --debug-assertions "$t"
  artifacts="fuzz/artifacts/$t"
  mkdir -p "fuzz/corpus/$t" "$artifacts"
  log="$artifacts/fuzz.log"
  before=$(ls "$artifacts" | grep -E '^(crash|timeout|oom|leak)-' || true)
  echo "== $t: fuzzing for ${seconds}s (log: $log)"
  status=0
  started=$SECONDS
  # -timeout: a single input running 10 s is a hang; -malloc_limit_mb: no input this small
  # may make the parsers allocate 256 MiB at once (a size announced, not received).
  nice -n 10 cargo +nightly fuzz run --fuzz-dir fuzz --debug-assertions "$t" \
    "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=256 -timeout=10 \
    -max_len="$(max_len "$t")" -print_final_stats=1 ${extra[@]+"${extra[@]}"} \
    >"$log" 2>&1 || status=$?
  elapsed=$((SECONDS - started))

  # libFuzzer's last status line: "#N DONE cov: C ft: F corp: …" (or "#N: cov: …" when forked).
  last=$(grep -E '^#[0-9]+:?[[:space:]].*cov: [0-9]+' "$log" | tail -n 1 || true)
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  [ -n "$execs" ] || execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corpus=$(find "fuzz/corpus/$t" -type f | wc -l)

  # Keep one input per distinct failure (panic location, else the sanitizer's or libFuzzer's
  # verdict), the smallest, unless fuzz/regressions/<target>/ already has one.
  binary="fuzz/target/x86_64-unknown-linux-gnu/release/$t"
  declare -A seen=()
  for f in "fuzz/regressions/$t"/*; do
    if [ -f "$f" ]; then seen["$(signature "$binary" "$f")"]=1; fi
  done
  found=()
  dupes=0
  for f in $(cd "$artifacts" && ls -S -r | grep -E '^(crash|timeout|oom|leak)-' || true); do
    grep -qxF "$f" <<<"$before" && continue
    sig=$(signature "$binary" "$artifacts/$f")
    if [ -n "${seen[$sig]:-}" ]; then
      dupes=$((dupes + 1))
      continue
    fi
    seen["$sig"]=1
    mkdir -p "fuzz/regressions/$t"
    cp "$artifacts/$f" "fuzz/regressions/$t/$f"
    found+=("fuzz/regressions/$t/$f ($sig)")
  done
  unset seen
  if [ "${#found[@]}" -gt 0 ] || [ "$dupes" -gt 0 ] || [ "$status" -ne 0 ]; then
    failed=1
    result="FAILED (exit status $status): new: ${found[*]:-none}; $dupes more of known failures (inputs in $artifacts/)"
  else
    result="no crash"
  fi
  line="$t: ${execs:-?} execs in ${elapsed}s, cov ${cov:-?} ft ${ft:-?}, corpus $corpus, $result"
  echo "$line"
  summary+=("$line")
done

echo "== fuzzing summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
