#!/usr/bin/env bash
# The R package (r/): installed from source against a tally build into a
# temporary library, its testthat tests, then `R CMD check --no-manual`
# (no error, no warning).  Prints TAP-style lines and "r: N passed, N failed".
# usage: tests/r/test-r.sh BUILD_DIR
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: tests/r/test-r.sh BUILD_DIR}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tally-r.XXXXXX")
trap 'rm -rf "$work"' EXIT
export TALLY_BUILD_DIR=$build R_LIBS=$work/lib TALLY_BIN=$build/tally
mkdir -p "$R_LIBS"
unset TALLY_RUNS_DIR

if ! R CMD INSTALL -l "$R_LIBS" "$repo/r" >"$work/install.log" 2>&1; then
	sed 's/^/#   /' "$work/install.log" | tail -n 30
	echo "not ok - r: R CMD INSTALL r"
	echo "r: 0 passed, 1 failed"
	exit 1
fi

# testthat: one line per expectation that failed, then the counts
cat >"$work/run.R" <<'R'
library(testthat)
results <- as.data.frame(test_dir(file.path(Sys.getenv("REPO"), "r", "tests", "testthat"),
                                  reporter = "silent", stop_on_failure = FALSE, package = "tally",
                                  load_package = "installed"))
for (i in seq_len(nrow(results))) {
  bad <- results$failed[i] > 0 || isTRUE(results$error[i])
  cat(sprintf("%s - r: %s: %s (%d expectations)\n", if (bad) "not ok" else "ok", results$file[i],
              results$test[i], results$nb[i]))
}
R
REPO=$repo Rscript "$work/run.R" >"$work/tap" 2>"$work/tests.err" </dev/null
cat "$work/tap"
if ! grep -q "^ok \|^not ok " "$work/tap"; then
	sed 's/^/#   /' "$work/tests.err" | tail -n 30
	echo "not ok - r: testthat ran no test" | tee -a "$work/tap"
elif grep -q "^not ok " "$work/tap"; then
	# the details, from the summary reporter
	REPO=$repo Rscript -e 'testthat::test_dir(file.path(Sys.getenv("REPO"), "r/tests/testthat"), reporter = "summary",
		stop_on_failure = FALSE, package = "tally", load_package = "installed")' 2>&1 </dev/null |
		sed -n '/Failed/,$p' | sed 's/^/#   /' | head -n 60
fi

# R CMD check on the source package, as CRAN would build it
(cd "$work" && R CMD build --no-build-vignettes "$repo/r" >build.log 2>&1 &&
	_R_CHECK_FORCE_SUGGESTS_=false R CMD check --no-manual tally_*.tar.gz >check.log 2>&1)
status=$(grep '^Status:' "$work/check.log" 2>/dev/null)
if [ "$status" = "Status: OK" ] || echo "$status" | grep -qE '^Status: [0-9]+ NOTEs?$'; then
	echo "ok - r: R CMD check --no-manual ($status)" | tee -a "$work/tap"
else
	cat "$work/build.log" "$work/check.log" 2>/dev/null | grep -B2 -A12 "ERROR\|WARNING" | sed 's/^/#   /' | head -n 60
	echo "not ok - r: R CMD check --no-manual (${status:-did not finish})" | tee -a "$work/tap"
fi
echo "r: $(grep -c '^ok ' "$work/tap") passed, $(grep -c '^not ok ' "$work/tap") failed"
! grep -q '^not ok ' "$work/tap"
