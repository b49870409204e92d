#!/usr/bin/env bash
# Installing tally: scripts/install into a temporary prefix (the release
# build in build-release/), then the installed binary run from outside the
# tree (with the tree hidden where a mount namespace is allowed), its man
# pages, libtally.so with tally.h and tally.pc, the completions, and a
# DESTDIR install.  Prints TAP lines and "install: N passed, N failed".
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tally-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

if ! "$repo/scripts/install" "$prefix" >"$work/install.log" 2>&1; then
	cat "$work/install.log"
	echo "not ok 1 - install: scripts/install $prefix"
	echo "install: 0 passed, 1 failed"
	exit 1
fi

export TALLY=$prefix/bin/tally
# test-lib.sh puts $TALLY on PATH and gives every test a scratch directory
# outside the source tree
. "$repo/tests/t/test-lib.sh"
TEST_NAME=install
trap 'test_cleanup; rm -rf "$work"' EXIT
libdir=$(dirname "$(find "$prefix" -name 'libtally.so.0.*' | head -n 1)")

test_expect_success 'scripts/install put everything under the prefix' '
	test -x "$prefix/bin/tally" &&
	test -f "$prefix/include/tally.h" &&
	test -f "$libdir/libtally.so.0.1.0" &&
	test "$(readlink "$libdir/libtally.so.0")" = libtally.so.0.1.0 &&
	test "$(readlink "$libdir/libtally.so")" = libtally.so.0 &&
	test -f "$libdir/pkgconfig/tally.pc" &&
	test -f "$prefix/share/man/man1/tally.1" &&
	test -f "$prefix/share/man/man1/tally-run.1" &&
	test -f "$prefix/share/man/man5/tally-run-format.5" &&
	test -f "$prefix/share/man/man7/tally-query.7" &&
	test "$(ls "$prefix/share/man/man1" | wc -l)" -eq $(($(tally __commands | wc -l) + 1)) &&
	test -f "$prefix/share/bash-completion/completions/tally" &&
	test -f "$prefix/share/zsh/vendor-completions/_tally" &&
	test -f "$prefix/share/fish/vendor_completions.d/tally.fish"
'

test_expect_success 'libtally.so: versioned soname, only what tally.h declares is exported' '
	objdump -p "$libdir/libtally.so.0.1.0" | grep -q "SONAME *libtally.so.0$" &&
	nm -D --defined-only "$libdir/libtally.so.0.1.0" | awk "\$2 == \"T\" { sub(/@.*/, \"\", \$3); print \$3 }" | sort >exported &&
	test "$(wc -l <exported)" -gt 50 &&
	! grep -v "^tally_[a-z]" exported &&
	! grep "^tally__" exported &&
	"$PYTHON" "$repo/scripts/gen-exports.py" "$prefix/include/tally.h" map &&
	sed -n "s/^    \(tally_[a-z0-9_]*\);$/\1/p" map | sort >declared &&
	test_cmp declared exported
'

# hidden CMD…: run CMD with the source tree hidden under an empty tmpfs when
# a mount namespace may be made (root, unprivileged namespaces), else as is.
if unshare -m true 2>/dev/null; then
	hidden() { unshare -m -- sh -c 'mount -t tmpfs tmpfs "$0" && exec "$@"' "$repo" "$@"; }
	where="with the source tree hidden"
else
	hidden() { "$@"; }
	where="(a mount namespace is not allowed here: the tree stays visible)"
fi

cat >train.py <<'PY'
import argparse
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.01)
a = p.parse_args()
for step in range(3):
    print(f"step: {step}")
    print(f"loss: {1.0 / (step + 1) * a.lr}")
PY

test_expect_success "the installed tally runs, lists and reports $where" '
	hidden tally run -q train.py lr=0.5 >/dev/null 2>&1 &&
	hidden tally runs --format csv >runs.csv &&
	grep -q "completed" runs.csv && grep -q "0.5" runs.csv &&
	hidden tally flags train.py >flags.txt && grep -q "^  lr  *0.01 " flags.txt &&
	hidden tally report -o report.html 1 >/dev/null &&
	grep -q "<html" report.html &&
	hidden tally --version >version && grep -q "^tally 0\.1\.0" version
'

test_expect_success 'tally help CMD and TOPIC show the installed man pages' '
	MANPAGER=cat MANWIDTH=80 hidden tally help runs >page &&
	grep -q "TALLY-RUNS(1)" page && grep -q "^SYNOPSIS" page &&
	MANPAGER=cat MANWIDTH=80 hidden tally help query >page &&
	grep -q "TALLY-QUERY(7)" page &&
	MANPAGER=cat MANWIDTH=80 hidden tally help run-format >page &&
	grep -q "TALLY-RUN-FORMAT(5)" page
'

test_expect_success 'every man page renders without a warning (man -l, groff -ww)' '
	for page in "$prefix"/share/man/man?/*; do
		MANROFFOPT=-ww MANWIDTH=80 man -l "$page" >out 2>err || { echo "$page: man failed"; return 1; }
		test ! -s err || { echo "$page:"; cat err; return 1; }
		groff -ww -man -Tutf8 -z "$page" 2>err && test ! -s err || { echo "$page:"; cat err; return 1; }
		test "$(wc -l <out)" -gt 10 || return 1
	done
'

test_expect_success 'each command page holds every option its --help names' '
	for c in $(tally __commands | cut -f1); do
		MANWIDTH=200 man -l "$prefix/share/man/man1/tally-$c.1" >page 2>/dev/null &&
		tally $c --help | grep -o -- "--[a-z][a-z-]*" | sort -u >options &&
		while read -r o; do
			grep -q -- "$o" page || { echo "tally-$c(1) lacks $o"; return 1; }
		done <options || return 1
	done
'

test_expect_success 'a C program builds with pkg-config against the installed libtally and tracks itself' '
	export PKG_CONFIG_PATH="$libdir/pkgconfig" &&
	pkg-config --modversion tally >v && test "$(cat v)" = 0.1.0 &&
	cc -o train_c "$repo/examples/c/train_c.c" $(pkg-config --cflags --libs tally) &&
	LD_LIBRARY_PATH="$libdir" ./train_c "$PWD/c-runs" >id &&
	tally --runs-dir c-runs show --format json >show.json &&
	grep -q "\"completed\"" show.json &&
	tally --runs-dir c-runs scalars --summary >summary &&
	grep -q " loss  *100 " summary
'

test_expect_success 'the installed bash completion asks the installed tally' '
	bash -c ". \"$prefix/share/bash-completion/completions/tally\"
		COMP_WORDS=(tally run train.py \"\") COMP_CWORD=3 COMP_LINE=\"tally run train.py \" COMP_POINT=19
		_tally tally \"\" train.py
		printf \"%s\n\" \"\${COMPREPLY[@]}\"" >c &&
	test "$(cat c)" = "lr="
'

test_expect_success 'the Python package is installed for the python3 meson found, and works from there' '
	init=$(find "$prefix" -path "*/tally/__init__.py" | head -n 1) &&
	test -n "$init" &&
	site=$(dirname "$(dirname "$init")") &&
	cd "$TRASH" && rm -rf runs &&
	hidden tally run -q train.py lr=0.25 >/dev/null 2>&1 &&
	PYTHONPATH="$site" TALLY_LIBRARY="$libdir/libtally.so.0" hidden "$PYTHON" -c "
import tally
df = tally.runs()
assert len(df) == 1 and df[\"flag_lr\"][0] == 0.25, df
assert tally.__file__.startswith(\"$site\")
"
'

test_expect_success 'DESTDIR stages the same files under another root' '
	DESTDIR="$PWD/stage" meson install -C "$repo/build-release" --no-rebuild --quiet >/dev/null &&
	(cd "$prefix" && find . -type f | sort) >installed &&
	(cd "stage$prefix" && find . -type f | sort) >staged &&
	test_cmp installed staged
'

test_done
