#!/usr/bin/env bash
# Builds the Spokes desktop app's installable bundles: a .deb (Debian, Ubuntu) and an
# .AppImage (any Linux). Run it through `./x package`, which first installs what it needs.
#
# Output: $CARGO_TARGET_DIR/release/bundle/deb/Spokes_<version>_<arch>.deb
#         $CARGO_TARGET_DIR/release/bundle/appimage/Spokes_<version>_<arch>.AppImage
#
# The bundles come from the Tauri bundler (@tauri-apps/cli, the version below, fetched by npx
# into npm's cache: it is not in ui/package.json because its lock entries for other platforms
# cannot be resolved everywhere), with the settings under `bundle` in src-tauri/tauri.conf.json. Making the AppImage downloads
# linuxdeploy from GitHub the first time; on a machine without that access, build the .deb alone
# with `./x package deb`.
set -euo pipefail
cd "$(dirname "$0")/.."
bundles="${1:-deb,appimage}"
(cd ui && npm run build)
# The CLI finds src-tauri/tauri.conf.json from the repository root.
npx --yes @tauri-apps/cli@2.12.5 build --bundles "$bundles" --ci
ls -1 "$CARGO_TARGET_DIR"/release/bundle/*/Spokes_* 2>/dev/null || true
