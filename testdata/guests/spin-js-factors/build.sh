#!/bin/sh
# Rebuild spin-js-factors.wasm from scratch with the Spin JS SDK 2.0.0
# (@fermyon/spin-sdk from npm). Needs node >= 20 and the npm registry.
#
# Differences from the SDK 2.0 http-js template's `npm install && npm run build`
# (see README.md):
#  * @fermyon/spin-sdk 2.0.0 depends on "@fermyon/knitwit" by a git URL,
#    which npm cannot fetch here; package.json's "overrides" pins knitwit
#    0.3.1 from the npm registry instead.
#  * the template's `knitwit` step is left out: knitwit 0.3.1 rejects the
#    SDK's WIT (`float32`), and the combined WIT it writes uses nested-package
#    syntax that ComponentizeJS 0.10.5 cannot parse. j2w runs on the SDK's own
#    WIT instead (its default --wit-path) with the SDK's world spin-http.
#  * `npm ci` fails on the filtered registry used here; use `npm install`.
#  * --ignore-scripts: the only install script is the SDK's
#    knitwit-postinstall, which only registers the SDK in knitwit.json (for
#    the skipped knitwit step) and fails when npm installs from the lock file.
set -eu
cd "$(dirname "$0")"
rm -rf node_modules dist.js knitwit.json combined-wit
npm install --no-audit --no-fund --ignore-scripts
npx webpack --mode=production
npx j2w -i dist.js -n spin-http -o spin-js-factors.wasm
npx jco wit spin-js-factors.wasm > spin-js-factors.world.wit
ls -l spin-js-factors.wasm
sha256sum spin-js-factors.wasm
