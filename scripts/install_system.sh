#!/usr/bin/env bash
# Installs the Debian packages Castmill needs when they are missing.
# As root it runs apt-get; otherwise it names the packages to install and fails.
set -euo pipefail

missing=()
have() { command -v "$1" >/dev/null 2>&1; }
have ffmpeg && have ffprobe || missing+=(ffmpeg)
have espeak-ng || missing+=(espeak-ng)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
have fc-match || missing+=(fontconfig)  # caption fonts are looked up by family name
have chromium || missing+=(chromium)  # the real-browser dashboard test (Playwright drives it)
have node && have npm || missing+=(nodejs npm)  # the Bluesky server of the publisher test (needs Node >= 18)
have caddy || missing+=(caddy)  # the HTTPS proxy of `castmill deploy`, and its real-browser test
have certutil || missing+=(libnss3-tools)  # that test trusts Caddy's local CA in a throwaway browser profile
have systemd-analyze || missing+=(systemd)  # `systemd-analyze verify` checks deploy's units (init is left as it is)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "castmill needs these system packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
