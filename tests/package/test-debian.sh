#!/usr/bin/env bash
# The Debian packages: `dpkg-buildpackage -us -uc` on a copy of the tree
# builds tally, libtally0 and libtally-dev; lintian finds no error and no
# warning; the packages install (dpkg -i where this user may, else unpacked
# with dpkg-deb -x), work, and are purged again.  Prints TAP lines and
# "debian: N passed, N failed".
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tally-deb.XXXXXX")
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - debian: $1"; }
not_ok() {
	fail=$((fail + 1))
	echo "not ok $((pass + fail)) - debian: $1"
	[ -f "${2:-}" ] && tail -n 30 "$2" | sed 's/^/#   /'
}
finish() {
	echo "# debian: $pass passed, $fail failed"
	rm -rf "$work"
	[ "$fail" -eq 0 ]
	exit
}

for tool in dpkg-buildpackage dh lintian; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "$tool is missing — scripts/install-deps installs debhelper and lintian"
		finish
	fi
done

# the tracked and new files of the tree, as a clean clone would have them
src=$work/tally
mkdir -p "$src"
(cd "$repo" && git ls-files -co --exclude-standard -z | tar --null -T - --ignore-failed-read -cf -) | tar -xf - -C "$src"
if (cd "$src" && dpkg-buildpackage -us -uc >"$work/build.log" 2>&1); then
	ok "dpkg-buildpackage -us -uc builds the packages"
else
	not_ok "dpkg-buildpackage -us -uc" "$work/build.log"
	finish
fi

debs=("$work"/tally_*.deb "$work"/libtally0_*.deb "$work"/libtally-dev_*.deb)
if [ -f "${debs[0]}" ] && [ -f "${debs[1]}" ] && [ -f "${debs[2]}" ] && [ -f "$work"/tally_*.dsc ]; then
	ok "tally, libtally0, libtally-dev and the source package are there"
else
	not_ok "missing packages: $(ls "$work")"
fi

contents() { dpkg-deb -c "$1" | awk '{ print $6 }'; }
if contents "${debs[0]}" | grep -q '^./usr/bin/tally$' &&
	contents "${debs[0]}" | grep -q '^./usr/share/man/man1/tally-run.1.gz$' &&
	contents "${debs[0]}" | grep -q '^./usr/share/man/man7/tally-query.7.gz$' &&
	contents "${debs[0]}" | grep -q '^./usr/share/bash-completion/completions/tally$' &&
	contents "${debs[1]}" | grep -q '/libtally.so.0.1.0$' &&
	contents "${debs[2]}" | grep -q '^./usr/include/tally.h$' &&
	contents "${debs[2]}" | grep -q '/pkgconfig/tally.pc$'; then
	ok "each package holds its files"
else
	not_ok "package contents"
fi

# lintian's errors and warnings fail; informational tags are shown
if lintian --allow-root --fail-on error,warning "$work"/tally_*.changes >"$work/lintian.log" 2>&1; then
	ok "lintian: no error, no warning"
	grep "^I: " "$work/lintian.log" | sed "s/^/#   /"
else
	not_ok "lintian reports errors or warnings (or could not run)" "$work/lintian.log"
fi

# Install for real where this user may, and purge again; else unpack.
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"
if [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; then
	if dpkg-query -W tally >/dev/null 2>&1; then
		ok "# SKIP install: a tally package is installed already; left alone"
		finish
	fi
	if $sudo dpkg -i "${debs[@]}" >"$work/install.log" 2>&1 &&
		/usr/bin/tally --version | grep -q '^tally 0.1.0' &&
		MANPAGER=cat man tally-runs 2>/dev/null | grep -q 'TALLY-RUNS(1)' &&
		pkg-config --modversion tally | grep -qx 0.1.0 &&
		cc -o "$work/train_c" "$repo/examples/c/train_c.c" $(pkg-config --cflags --libs tally) &&
		"$work/train_c" "$work/runs" >/dev/null &&
		/usr/bin/tally --runs-dir "$work/runs" runs --format csv | grep -q completed; then
		ok "dpkg -i installs them; tally, its man pages and libtally work"
	else
		not_ok "dpkg -i and use" "$work/install.log"
	fi
	if $sudo dpkg --purge tally libtally-dev libtally0 >>"$work/install.log" 2>&1 && ! test -e /usr/bin/tally; then
		ok "dpkg --purge removes them"
	else
		not_ok "dpkg --purge" "$work/install.log"
	fi
else
	root=$work/root
	for d in "${debs[@]}"; do dpkg-deb -x "$d" "$root"; done
	if "$root/usr/bin/tally" --version | grep -q '^tally 0.1.0' &&
		MANPAGER=cat "$root/usr/bin/tally" help runs | grep -q 'TALLY-RUNS(1)'; then
		ok "unpacked (no root here to dpkg -i): tally runs and finds its man pages"
	else
		not_ok "unpacked tally"
	fi
fi
finish
