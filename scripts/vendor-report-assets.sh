#!/usr/bin/env bash
# Re-fetches the third-party assets that `mrhost report` embeds in its HTML page, with
# `npm pack` (the npm registry's tarballs, integrity-checked by npm), at the pinned versions
# below, into host/assets/report/vendor/, with their licence files; each vendored file is the
# upstream file with the licence texts of what it contains prepended as a /*! */ comment.
# Writes manifest.txt (the order the host inlines them in) and VERSIONS.txt (package,
# version, licence, sha256 of the upstream file).
#
# Run it only to change a version: the vendored files are committed, so neither a build nor
# a test needs the network. Needs `npm` and `tar`.
set -euo pipefail
cd "$(dirname "$0")/.."

D3=7.9.0                  # ISC; the global `d3` that Plot's UMD build expects
PLOT=0.6.17               # ISC; @observablehq/plot: heat map, bars, history (SVG)
GRIDJS=6.2.0              # MIT; Grid.js: sortable, paginated tables (styled by report.css)
# Bundled inside the files above; packed only for their licence texts.
PREACT=10.11.3            # MIT; inside gridjs.umd.js
INTERVAL_TREE=1.0.4       # MIT; inside plot.umd.min.js
BINARY_SEARCH_BOUNDS=2.0.5 # MIT; inside plot.umd.min.js (through interval-tree-1d)
ISOFORMAT=0.2.1           # ISC; inside plot.umd.min.js

out=host/assets/report/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pack() { # pack NAME@VERSION DIR: unpacks the tarball's package/ into $work/DIR
  local spec=$1 dir=$2
  (cd "$work" && npm pack --silent "$spec" >/dev/null)
  mkdir -p "$work/$dir"
  tar -xzf "$work"/*.tgz -C "$work/$dir" --strip-components=1
  rm -f "$work"/*.tgz
}

pack "d3@$D3" d3
pack "@observablehq/plot@$PLOT" plot
pack "gridjs@$GRIDJS" gridjs
pack "preact@$PREACT" preact
pack "interval-tree-1d@$INTERVAL_TREE" interval-tree-1d
pack "binary-search-bounds@$BINARY_SEARCH_BOUNDS" binary-search-bounds
pack "isoformat@$ISOFORMAT" isoformat

rm -rf "$out"
mkdir -p "$out"
for p in d3 plot gridjs preact interval-tree-1d binary-search-bounds isoformat; do
  lic=$(ls "$work/$p" | grep -iE '^(licen[cs]e|copying)(\.md|\.txt)?$' | head -1)
  [ -n "$lic" ] || { echo "no licence file in $p" >&2; exit 1; }
  cp "$work/$p/$lic" "$out/LICENSE.$p.txt"
done

# Each inlined file starts with the licence texts of the code it holds, in a /*! */ comment,
# so that every copy of a report carries them.
vendor() { # vendor SOURCE NAME PACKAGE...
  local src=$1 name=$2; shift 2
  {
    printf '/*!\n'
    for p in "$@"; do
      printf ' * %s\n *\n' "$(grep -o '"version": *"[^"]*"' "$work/$p/package.json" | head -1 | sed "s/.*\"\([^\"]*\)\"$/$p \1/")"
      sed -e 's#\*/#* /#g' -e 's/^/ * /' -e 's/ *$//' "$out/LICENSE.$p.txt"
      printf ' *\n'
    done
    printf ' */\n'
    cat "$src"
  } > "$out/$name"
}
vendor "$work/d3/dist/d3.min.js" d3.min.js d3
vendor "$work/plot/dist/plot.umd.min.js" plot.umd.min.js plot interval-tree-1d binary-search-bounds isoformat
vendor "$work/gridjs/dist/gridjs.umd.js" gridjs.umd.js gridjs preact

# The inlining order: d3 before Plot (Plot's UMD build reads the global d3).
# (.css files would go to /*MRHOST_VENDOR_CSS*/; none is needed: report.css styles Grid.js.)
printf '%s\n' d3.min.js plot.umd.min.js gridjs.umd.js > "$out/manifest.txt"

# Nothing vendored may close the <script>/<style> element it is inlined into.
if grep -il -e '</script' -e '</style' -e '<!--' "$out"/*.js; then
  echo "a vendored file contains </script, </style or <!--: it cannot be inlined as is" >&2
  exit 1
fi

{
  echo "# package version licence file sha256-of-the-upstream-file (scripts/vendor-report-assets.sh)"
  sha() { sha256sum "$work/$1" | cut -c1-64; }
  echo "d3 $D3 ISC d3.min.js $(sha d3/dist/d3.min.js)"
  echo "@observablehq/plot $PLOT ISC plot.umd.min.js $(sha plot/dist/plot.umd.min.js)"
  echo "gridjs $GRIDJS MIT gridjs.umd.js $(sha gridjs/dist/gridjs.umd.js)"
  echo "preact $PREACT MIT (bundled in gridjs.umd.js) -"
  echo "interval-tree-1d $INTERVAL_TREE MIT (bundled in plot.umd.min.js) -"
  echo "binary-search-bounds $BINARY_SEARCH_BOUNDS MIT (bundled in plot.umd.min.js) -"
  echo "isoformat $ISOFORMAT ISC (bundled in plot.umd.min.js) -"
} > "$out/VERSIONS.txt"

total=$(cat "$out"/*.js | wc -c)
echo "vendored into $out: $(wc -l < "$out/manifest.txt") files, $total bytes" >&2
