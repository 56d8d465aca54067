#!/usr/bin/env bash
# Checks the layer rule of docs/design.md: a file of server/ or include/livebuy/ includes livebuy headers of its own
# layer or lower ones only (so no layer calls up and there is no include circle between layers).
# Usage: scripts/check-layers.sh [ROOT]      exit 1 and one line per breach when the rule is broken
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd -P)}
cd "$root"

# The layers, lowest first (model: the plain structs of the domain, no I/O; handlers/ and the app that wires everything
# are the top).
layers=(base model codec db store order jobs http feed handlers app)
rank_of() {
    local i
    for i in "${!layers[@]}"; do
        [ "${layers[$i]}" = "$1" ] && { echo "$i"; return; }
    done
    echo "unknown layer: $1" >&2
    exit 2
}
# A file's layer from its path.
layer_of() {
    case $1 in
        include/livebuy/common.h) echo base ;;
        include/livebuy/handlers.h | handlers/*) echo handlers ;;
        server/main.c) echo app ;;
        server/*/* | include/livebuy/*/*) local rest=${1#*/}; rest=${rest#livebuy/}; echo "${rest%%/*}" ;;
        *) echo "no layer for $1" >&2; exit 2 ;;
    esac
}

# The files to check: git's list in a checkout, else every C file of the layered folders (a source tarball).
sources() {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files 'server/*.c' 'server/*.h' 'include/livebuy/*.h' 'handlers/*.c' 'handlers/*.h'
    else
        find server include/livebuy handlers -name '*.[ch]' | sort
    fi
}

breaches=0
while IFS= read -r file; do
    own=$(rank_of "$(layer_of "$file")")
    while IFS= read -r header; do
        used=$(layer_of "include/$header")
        if [ "$(rank_of "$used")" -gt "$own" ]; then
            echo "$file ($(layer_of "$file")) includes $header ($used): a lower layer may not use a higher one"
            breaches=$((breaches + 1))
        fi
    done < <(sed -n 's/^#include "\(livebuy\/[^"]*\)"/\1/p' "$file")
done < <(sources)

if [ "$breaches" -ne 0 ]; then
    echo "$breaches include(s) break the layer rule" >&2
    exit 1
fi
echo "layers: every include goes to the same layer or a lower one"
