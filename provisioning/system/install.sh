#!/usr/bin/env bash
# `make install [DESTDIR=…]`: install the appliance where the systemd units expect it.
#
#   /opt/sohoa              the code (service, firmware, kiosk_ui, provisioning, province_gateway,
#                           models with the derived int8 recognizer), README and docs
#   /opt/sohoa/.venv        a venv made with --system-site-packages (Raspberry Pi OS's
#                           python3-picamera2 stays importable) holding requirements.lock exactly
#   /etc/systemd/system     sohoa-kiosk, sohoa-sync, sohoa-screen (Chromium in kiosk mode)
#   /etc/sysusers.d, /etc/tmpfiles.d   the service user and /var/lib/sohoa
#
# With DESTDIR the tree is staged under it (a package build or a test): users, directories and
# enablement are applied to that root (`--root`), nothing on this machine changes, and the venv's
# scripts are rewritten to run from /opt/sohoa once the tree is copied to /.
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
dest="${DESTDIR:-}"
prefix="/opt/sohoa"
python="${PYTHON:-python3}"
root="${dest:-/}"
[ "$(id -u)" -eq 0 ] || { echo "install: run as root (sudo make install)" >&2; exit 1; }
[ -f "$src/models/asternet-int8.onnx" ] || { echo "install: models/asternet-int8.onnx missing: run 'make setup' first" >&2; exit 1; }
[ -f "$src/models/det-ppocrv4-int8.onnx" ] || { echo "install: models/det-ppocrv4-int8.onnx missing: run 'make setup' first" >&2; exit 1; }

if [ -z "$dest" ]; then
  bash "$src/provisioning/system/setup-host.sh"
fi

app="$dest$prefix"
echo "install: code → $app"
mkdir -p "$app"
for item in service firmware kiosk_ui provisioning province_gateway models systemd docs \
            pyproject.toml requirements.lock README.md; do
  rm -rf "${app:?}/$item"
  cp -a "$src/$item" "$app/$item"
done
find "$app" -depth -name __pycache__ -type d -exec rm -rf {} +
chown -R root:root "$app"
chmod -R u=rwX,go=rX "$app"

echo "install: venv → $app/.venv (--system-site-packages)"
if [ ! -x "$app/.venv/bin/python" ]; then
  "$python" -m venv --copies --system-site-packages "$app/.venv"
fi
"$app/.venv/bin/python" -m pip install -q --disable-pip-version-check -r "$app/requirements.lock"
"$app/.venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation "$app"
rm -rf "$app/build" "$app"/*.egg-info
if [ -n "$dest" ]; then  # the venv will run from $prefix, not from the staging folder
  grep -rlI --null "$dest$prefix" "$app/.venv/bin" "$app/.venv/pyvenv.cfg" 2>/dev/null |
    xargs -0 -r sed -i "s#$dest$prefix#$prefix#g"
fi

echo "install: systemd units, users, state directories"
units="$dest/etc/systemd/system"
mkdir -p "$units" "$dest/etc/sysusers.d" "$dest/etc/tmpfiles.d"
for unit in sohoa-kiosk.service sohoa-sync.service sohoa-screen.service; do
  install -m 0644 "$src/systemd/$unit" "$units/$unit"
done
install -m 0644 "$src/systemd/sohoa.sysusers.conf" "$dest/etc/sysusers.d/sohoa.conf"
install -m 0644 "$src/systemd/sohoa.tmpfiles.conf" "$dest/etc/tmpfiles.d/sohoa.conf"
install -m 0644 "$src/systemd/sohoa-screen.sysusers.conf" "$dest/etc/sysusers.d/sohoa-screen.conf"
mkdir -p "$dest/etc/sohoa"
if [ -n "$dest" ]; then
  systemd-sysusers --root="$root" "$dest/etc/sysusers.d/sohoa.conf" "$dest/etc/sysusers.d/sohoa-screen.conf"
  systemd-tmpfiles --create --root="$root" "$dest/etc/tmpfiles.d/sohoa.conf"
  systemctl --root="$root" enable sohoa-kiosk.service sohoa-sync.service sohoa-screen.service >/dev/null 2>&1
else
  systemd-sysusers /etc/sysusers.d/sohoa.conf /etc/sysusers.d/sohoa-screen.conf
  systemd-tmpfiles --create /etc/tmpfiles.d/sohoa.conf
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable sohoa-kiosk.service sohoa-sync.service sohoa-screen.service
  else
    systemctl --root=/ enable sohoa-kiosk.service sohoa-sync.service sohoa-screen.service
  fi
fi
echo "install: done. Next: runuser -u sohoa -- env SOHOA_HOME=/var/lib/sohoa $prefix/.venv/bin/sohoa provision"
