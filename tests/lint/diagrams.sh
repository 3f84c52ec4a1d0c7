#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Every picture in docs/diagrams is made from its Graphviz source in the
# tree: the committed SVG must be what `dot` makes of the .dot next to it
# (`make diagrams` remakes them). Usage: tests/lint/diagrams.sh [--write]
set -eu
cd "$(dirname "$0")/../../docs/diagrams"
command -v dot >/dev/null || { echo "diagrams: dot is missing (Debian's graphviz; ci/deps.sh test installs it)" >&2; exit 1; }
stale=0
for src in *.dot; do
	svg=${src%.dot}.svg
	tmp=$(mktemp)
	dot -Tsvg "$src" -o "$tmp"
	if [ "${1:-}" = --write ]; then
		mv "$tmp" "$svg"
		echo "diagrams: made $svg"
	elif ! cmp -s "$tmp" "$svg"; then
		rm -f "$tmp"
		echo "diagrams: docs/diagrams/$svg is not what $src makes: run make diagrams" >&2
		stale=1
	else
		rm -f "$tmp"
	fi
done
[ "$stale" = 0 ] && [ "${1:-}" != --write ] && echo "diagrams: ok, every SVG matches its source"
exit "$stale"
