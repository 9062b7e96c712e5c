#!/usr/bin/env bash
# Builds the DocC documentation of the two library products, HelsenorgeMessages and TimebokXML,
# into .build/docs/<Module>.doccarchive (each a static site: serve the folder with any web server and
# open /documentation/<module, lower case>/, or run `docc preview` on the catalog).
#
# Builds only those targets (and TimebokCore, which HelsenorgeMessages imports), never the whole
# package, then extracts each module's public symbol graph from its built module, so an up-to-date
# build still yields the graphs. Needs libxml2-dev and pkg-config (scripts/setup.sh). Every symbol
# link in the catalogs must resolve: docc's warnings fail the script.
set -euo pipefail
cd "$(dirname "$0")/.."

out=.build/docs
swift build --target HelsenorgeMessages   # also builds TimebokXML and TimebokCore
bin=$(swift build --show-bin-path)
triple=$(swiftc -print-target-info | sed -n 's/^ *"triple": "\(.*\)",*$/\1/p' | head -n 1)
xcc=()
for flag in $(pkg-config --cflags-only-I libxml-2.0); do xcc+=(-Xcc "$flag"); done

for module in HelsenorgeMessages TimebokXML; do
    graphs="$out/symbol-graphs/$module"
    rm -rf "$graphs" "$out/$module.doccarchive"
    mkdir -p "$graphs"
    swift symbolgraph-extract -module-name "$module" -target "$triple" \
        -I "$bin/Modules" -I Sources/CLibXML2 "${xcc[@]}" \
        -minimum-access-level public -skip-inherited-docs -emit-extension-block-symbols -output-dir "$graphs"
    docc convert "Sources/$module/$module.docc" --additional-symbol-graph-dir "$graphs" \
        --fallback-display-name "$module" --fallback-bundle-identifier "no.timebok.$module" \
        --output-path "$out/$module.doccarchive" --analyze --warnings-as-errors
    echo "docs: $out/$module.doccarchive"
done
