#!/usr/bin/env bash
# Builds the Spokes desktop app's installable bundles: a .deb (Debian, Ubuntu) and an
# .AppImage (Linux with WebKitGTK 4.1; see build-appimage.sh). Run it through `./x package`,
# which first installs what it needs. `./x package deb` or `./x package appimage` builds one.
#
# Output: $CARGO_TARGET_DIR/release/bundle/deb/Spokes_<version>_<arch>.deb
#         $CARGO_TARGET_DIR/release/bundle/appimage/Spokes_<version>_<arch>.AppImage
#
# Both are packed from one release build: the .deb by build-deb.sh (the Tauri bundler,
# @tauri-apps/cli fetched by npx, with dependencies, manual page, changelog and copyright as
# lintian asks), the AppImage by build-appimage.sh (the bundler's own AppImage step downloads
# linuxdeploy from GitHub, which build machines often cannot reach).
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-deb,appimage}"
target="${CARGO_TARGET_DIR:-target}"
version="$(sed -n 's/^ *"version": *"\(.*\)",/\1/p' src-tauri/tauri.conf.json | head -1)"
(cd ui && npm run build)
# The CLI finds src-tauri/tauri.conf.json from the repository root.
npx --yes @tauri-apps/cli@2.12.5 build --no-bundle --ci
if [[ "$what" == *deb* ]]; then
  packaging/build-deb.sh --binary "$target/release/spokes-app" \
    --out "$target/release/bundle/deb/Spokes_${version}_amd64.deb" >/dev/null
fi
if [[ "$what" == *appimage* ]]; then
  packaging/build-appimage.sh --binary "$target/release/spokes-app" \
    --out "$target/release/bundle/appimage/Spokes_${version}_amd64.AppImage" >/dev/null
fi
ls -1d "$target"/release/bundle/*/Spokes_*.{deb,AppImage} 2>/dev/null || true
