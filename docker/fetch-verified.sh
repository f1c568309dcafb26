#!/bin/sh
# fetch-verified.sh URL SHA256: downloads URL into the current directory and keeps it only when its SHA-256 is
# the one given (installed in the image as eventproc-fetch-verified).
set -eu
url="$1"
sha="$2"
name="$(basename "$url")"
curl -fsSL -o "$name.part" "$url"
echo "$sha  $name.part" | sha256sum -c - >/dev/null || { echo "checksum mismatch for $url" >&2; rm -f "$name.part"; exit 1; }
mv "$name.part" "$name"
