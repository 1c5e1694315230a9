#!/usr/bin/env bash
# Host applications the bridge tests drive for real (tests/test_bridges_*.py):
#   GIMP 2.10 (Debian 12) or GIMP 3 (Debian 13, with its Python introspection bindings),
#   darktable (Lua API), Xvfb + xauth for darktable's GUI path, curl (the darktable plug-in's HTTP),
#   and the X11 libraries the companion's window needs (tests/test_desktop_check.py).
# Safe to run again: it installs only what is missing. Needs root (CI) or sudo.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

need=()
command -v gimp-console >/dev/null 2>&1 || command -v gimp-console-3.0 >/dev/null 2>&1 || need+=(gimp)
command -v darktable-cli >/dev/null 2>&1 || need+=(darktable)
command -v xvfb-run >/dev/null 2>&1 || need+=(xvfb)
command -v xauth >/dev/null 2>&1 || need+=(xauth)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# The Ray cluster tests (tests/clusterhelp.py) run in a loopback-only network namespace: ip and ss
# (iproute2; in a standard Debian 12 install, not in the slim container images) and unshare and
# nsenter (util-linux; Essential in Debian 12, so always there, checked anyway).
command -v ip >/dev/null 2>&1 && command -v ss >/dev/null 2>&1 || need+=(iproute2)
command -v unshare >/dev/null 2>&1 && command -v nsenter >/dev/null 2>&1 || need+=(util-linux)

if [ ${#need[@]} -gt 0 ]; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The companion's window (Qt's xcb platform plug-in; `python -m silverprint.desktop_check` names what
# is missing). The same list as silverprint.desktop_check.DESKTOP_PACKAGES and README.md.
desktop=(libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 libxcb-util1 libxcb-randr0
         libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 libx11-xcb1 libegl1 libgl1
         libfontconfig1 libdbus-1-3)
want=()
for pkg in "${desktop[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || want+=("$pkg"); done
if [ ${#want[@]} -gt 0 ]; then
    [ ${#need[@]} -gt 0 ] || $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
fi

# GIMP 3 (Debian 13 and later): its Python plug-ins need PyGObject and the Gimp typelib.
if apt-cache show gir1.2-gimp-3.0 >/dev/null 2>&1 && ! dpkg -s gir1.2-gimp-3.0 >/dev/null 2>&1; then
    $SUDO apt-get install -y -qq --no-install-recommends python3-gi gir1.2-gimp-3.0 >/dev/null
fi

# Opt-in on Debian 12 (SILVERPRINT_CI_GIMP3=1, root): GIMP 3 from a Debian 13 chroot, reached through a
# wrapper named gimp-console-3.0 on PATH (host /tmp and /dev bind-mounted so test files are shared).
# ~1 GB and a few minutes; the GIMP 3 bridge test runs whenever gimp-console-3.0 is found.
install_gimp3_chroot() {
    local root=/srv/silverprint-trixie mirror
    command -v debootstrap >/dev/null 2>&1 || $SUDO apt-get install -y -qq debootstrap >/dev/null
    if [ ! -x "$root/usr/bin/gimp-console-3.0" ]; then
        # the same Debian mirror this machine's apt uses (debootstrap's default otherwise)
        mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
        $SUDO debootstrap --variant=minbase trixie "$root" ${mirror:+"$mirror"} >/dev/null || return 1
        $SUDO chroot "$root" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends gimp python3-gi gir1.2-gimp-3.0 python3 >/dev/null" || return 1
    fi
    $SUDO tee /usr/local/bin/gimp-console-3.0 >/dev/null <<WRAP
#!/bin/sh
# GIMP 3 from the Debian 13 chroot $root (written by .ci/install-bridges.sh)
mountpoint -q $root/tmp || mount --bind /tmp $root/tmp
mountpoint -q $root/dev || mount --bind /dev $root/dev
exec chroot $root /usr/bin/gimp-console-3.0 "\$@"
WRAP
    $SUDO chmod 755 /usr/local/bin/gimp-console-3.0
}
if [ "${SILVERPRINT_CI_GIMP3:-0}" = "1" ] && ! command -v gimp-console-3.0 >/dev/null 2>&1; then
    # Optional: without it the GIMP 3 test is skipped with its reason, the GIMP 2.10 tests still run.
    install_gimp3_chroot || echo "install-bridges: GIMP 3 chroot not available; its test will be skipped" >&2
fi

for tool in darktable-cli darktable xvfb-run curl; do
    command -v "$tool" >/dev/null 2>&1 || { echo "install-bridges: $tool is still missing" >&2; exit 1; }
done
gimp=$(command -v gimp-console-3.0 || command -v gimp-console || true)
[ -n "$gimp" ] || { echo "install-bridges: no gimp-console" >&2; exit 1; }
echo "install-bridges: $("$gimp" --version | head -1); $(darktable-cli --version 2>/dev/null | head -1)"
