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
#
# Updates (the AppImage updates itself; src-tauri/src/commands/updates.rs): a release build
# names where its updates come from and the key they must be signed with, from
#   SPOKES_UPDATE_ENDPOINT   the update manifest's address (https), e.g. .../latest.json
#   SPOKES_UPDATE_PUBKEY     the public key from `npx @tauri-apps/cli signer generate`
# and, with TAURI_SIGNING_PRIVATE_KEY (and _PASSWORD) set, signs the AppImage for its version
# and writes the manifest to serve beside it (latest.json; SPOKES_UPDATE_BASE_URL is where the
# AppImage will be downloaded from). Without them the build offers no updates.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-deb,appimage}"
target="${CARGO_TARGET_DIR:-target}"
version="$(sed -n 's/^ *"version": *"\(.*\)",/\1/p' src-tauri/tauri.conf.json | head -1)"
(cd ui && npm run build)
config="{}"
if [ -n "${SPOKES_UPDATE_ENDPOINT:-}" ] && [ -n "${SPOKES_UPDATE_PUBKEY:-}" ]; then
  config="$(python3 -c 'import json, os; print(json.dumps({"plugins": {"updater": {"endpoints": [os.environ["SPOKES_UPDATE_ENDPOINT"]], "pubkey": os.environ["SPOKES_UPDATE_PUBKEY"]}}}))')"
fi
# The CLI finds src-tauri/tauri.conf.json from the repository root.
npx --yes @tauri-apps/cli@2.12.5 build --no-bundle --ci --config "$config"
if [[ "$what" == *deb* ]]; then
  packaging/build-deb.sh --binary "$target/release/spokes-app" \
    --out "$target/release/bundle/deb/Spokes_${version}_amd64.deb" >/dev/null
fi
if [[ "$what" == *appimage* ]]; then
  appimage="$target/release/bundle/appimage/Spokes_${version}_amd64.AppImage"
  packaging/build-appimage.sh --binary "$target/release/spokes-app" --out "$appimage" >/dev/null
  if [ -n "${TAURI_SIGNING_PRIVATE_KEY:-}${TAURI_SIGNING_PRIVATE_KEY_PATH:-}" ]; then
    # A detached minisign signature bound to this version, and the manifest that offers it.
    npx --yes @tauri-apps/cli@2.12.5 signer sign --app-version "$version" "$appimage" >/dev/null
    python3 - "$version" "$appimage" "${SPOKES_UPDATE_BASE_URL:?say where the AppImage is downloaded from}" > "$(dirname "$appimage")/latest.json" <<'PY'
import datetime, json, os, sys
version, image, base = sys.argv[1:]
print(json.dumps({
    "version": version,
    "notes": os.environ.get("SPOKES_UPDATE_NOTES", ""),
    "pub_date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "platforms": {"linux-x86_64": {
        "url": base.rstrip("/") + "/" + os.path.basename(image),
        "signature": open(image + ".sig").read().strip(),
    }},
}, indent=2))
PY
  fi
fi
ls -1d "$target"/release/bundle/*/Spokes_*.{deb,AppImage} 2>/dev/null || true
