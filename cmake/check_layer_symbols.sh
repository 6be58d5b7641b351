#!/usr/bin/env bash
# Fails when a library of src/ uses a function or variable that only a folder above it defines. The
# static libraries alone do not catch it when the executable already pulled the upper object in for
# its own use; this reads the archives' symbol tables instead. Run by the build (target
# mmmove_layer_symbols) after the libraries are built:
#   check_layer_symbols.sh NM STAMP LAYER=ARCHIVE:BELOW1,BELOW2,... ...
# BELOW lists every folder LAYER may use (cmake/layers.cmake). Weak symbols (inline functions,
# templates) are left to cmake/check_layers.cmake, which checks the includes that bring them.
set -euo pipefail
nm=$1 stamp=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

declare -A archive below
for spec in "$@"; do
  layer=${spec%%=*} rest=${spec#*=}
  archive[$layer]=${rest%%:*}
  below[$layer]=${rest#*:}
done
# "symbol layer" for every function and variable a library defines (text, data, bss, read-only).
for layer in "${!archive[@]}"; do
  "$nm" -g -P --defined-only "${archive[$layer]}" 2>/dev/null |
    awk -v layer="$layer" 'NF >= 2 && $2 ~ /^[TDBR]$/ { print $1, layer }'
done | sort -u > "$work/defined"

status=0
for layer in "${!archive[@]}"; do
  # "symbol object" for what the library's objects use but do not define themselves.
  "$nm" -g -P -A -u "${archive[$layer]}" 2>/dev/null |
    awk '{ file = $1; sub(/^.*\[/, "", file); sub(/\]:$/, "", file); print $2, file }' | sort -u > "$work/used"
  wrong=$(awk -v layer="$layer" -v allowed=",${below[$layer]}," '
      NR == FNR { if ($2 != layer) owner[$1] = owner[$1] " " $2; next }
      ($1 in owner) {
        n = split(owner[$1], owners, " ")
        for (i = 1; i <= n; i++) if (index(allowed, "," owners[i] ",") == 0) print $2, owners[i], $1
      }' "$work/defined" "$work/used")
  [ -z "$wrong" ] && continue
  status=1
  allowed="only ${below[$layer]//,/, }"
  [ -n "${below[$layer]}" ] || allowed="no other folder of src/"
  while read -r object owner symbol; do
    echo "  src/$layer (${object%.o}) uses $(echo "$symbol" | c++filt), which src/$owner defines:" \
         "$layer may use $allowed" >&2
  done <<< "$wrong"
done
if [ $status != 0 ]; then
  echo "Wrong-way uses (the layering is in cmake/layers.cmake: a folder uses only the folders below it)." >&2
  echo "Move what both need down into the lower folder, or call the upper folder from the layer above both." >&2
  exit 1
fi
touch "$stamp"
