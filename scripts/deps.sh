#!/usr/bin/env bash
# Installs what Wisp's tests need on a fresh Debian machine: the guest
# toolchains (clang + wasi-libc for C guests, Debian's rustc with the
# wasm32-wasi standard library for Rust guests, wabt) and load tools.
# Idempotent: does nothing when everything is present.
set -euo pipefail

need=()
command -v clang-19 >/dev/null || need+=(clang-19 lld-19)
[ -f /usr/lib/wasm32-wasi/crt1-command.o ] || need+=(wasi-libc)
compgen -G "/usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a" >/dev/null \
  || need+=(libclang-rt-19-dev-wasm32)
[ -x /usr/bin/rustc ] || need+=(rustc)
compgen -G "/usr/lib/rustlib/wasm32-wasi*" >/dev/null || need+=(libstd-rust-dev-wasm32)
command -v wat2wasm >/dev/null || need+=(wabt)
command -v curl >/dev/null || need+=(curl)
command -v npm >/dev/null || need+=(nodejs npm)

if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing ${need[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# jco, the independent wasi:http host the comparison tests run beside Wisp
# (pinned in tools/jco/package.json; `npm ci` is unreliable on this registry).
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -x "$root/tools/jco/node_modules/.bin/jco" ]; then
  echo "deps: npm install tools/jco"
  (cd "$root/tools/jco" && npm install --no-audit --no-fund --loglevel=error)
fi

# wasm-tools for the component conformance tests comes inside this Go module.
(cd "$root" && go mod download go.bytecodealliance.org@v0.7.0)
(cd "$root/tools/registry" && go mod download) # the OCI tests' registry (internal/oci/registrytest builds it)
