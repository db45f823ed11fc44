#!/usr/bin/env bash
# Install stagebox as a service on Raspberry Pi OS (bookworm): `sudo ./install.sh`.
#
# What it does, in order (each step says "changed" or "unchanged"; running it again changes
# nothing that is already right):
#   0. refuses a 32-bit OS (armv7l): stagebox needs 64-bit Raspberry Pi OS
#   1. Debian packages needed to build and run stagebox, the display's libraries and font
#      (apt-get, only the missing ones)
#   2. a virtual environment in /opt/stagebox/venv with stagebox[stage,pi] (rpi-lgpio GPIO)
#   3. the docs, firmware fragment and pin map in /opt/stagebox
#   4. the `stagebox` system user and groups (systemd-sysusers) and its folders (systemd-tmpfiles)
#      and the i2c-dev module at boot (/etc/modules-load.d/stagebox-i2c.conf)
#   5. the default config at /etc/stagebox/stagebox.toml, never overwriting an existing one
#   6. the systemd unit, enabled (not started: see the message at the end)
#   7. the firmware lines of the config's audio HAT for /boot/firmware/config.txt: shown, or
#      appended when you agree (the stock dtoverlay=vc4-kms-v3d gives way to its ,noaudio form)
#
# Options (see --help): --dry-run, --root DIR, --uninstall [--purge], --yes, --no-firmware,
# --source PATH, --pip-args ARGS, --python PY. Walkthrough: docs/install.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
    cat <<'EOF'
usage: sudo ./install.sh [options]

  --dry-run        print every action, change nothing
  --root DIR       install into DIR as if it were / (also $STAGEBOX_INSTALL_ROOT): no apt-get,
                   no service (re)starts; users, folders and the unit are set up inside DIR
  --uninstall      remove the service, the venv and the unit; keep config and takes
  --purge          with --uninstall: also delete /etc/stagebox and /var/lib/stagebox (takes!)
  --yes            answer yes: append the firmware lines to config.txt, confirm --purge
  --no-firmware    leave /boot/firmware/config.txt alone (only show the lines)
  --source PATH    stagebox source folder or wheel to install (default: this checkout)
  --pip-args ARGS  extra pip arguments, e.g. an offline wheelhouse:
                   --pip-args "--no-index --find-links /media/usb/wheels"
  --python PY      Python used to create the venv (default: python3, 3.11 or newer)
  -h, --help       this help
EOF
}

dry_run=0
uninstall=0
purge=0
assume_yes=0
firmware=1
root=${STAGEBOX_INSTALL_ROOT:-}
source_path=$here
pip_args=""
python=${PYTHON:-python3}

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) dry_run=1 ;;
        --root) root=${2:?--root needs a folder}; shift ;;
        --root=*) root=${1#--root=} ;;
        --uninstall) uninstall=1 ;;
        --purge) purge=1 ;;
        --yes|-y) assume_yes=1 ;;
        --no-firmware) firmware=0 ;;
        --source) source_path=${2:?--source needs a path}; shift ;;
        --source=*) source_path=${1#--source=} ;;
        --pip-args) pip_args=${2?--pip-args needs a value}; shift ;;
        --pip-args=*) pip_args=${1#--pip-args=} ;;
        --python) python=${2:?--python needs a command}; shift ;;
        --python=*) python=${1#--python=} ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [ "$purge" = 1 ] && [ "$uninstall" = 0 ]; then
    echo "install.sh: --purge only goes with --uninstall" >&2; exit 2
fi

# Paths, all under $root when installing into a folder.
if [ -n "$root" ]; then
    root=$(cd "$root" 2>/dev/null && pwd) || { echo "install.sh: --root $root: no such folder" >&2; exit 2; }
fi
R=${root%/}                                  # "" for the real system
opt=$R/opt/stagebox
venv=$opt/venv
etc=$R/etc/stagebox
config=$etc/stagebox.toml
unit=$R/etc/systemd/system/stagebox.service
sysusers=$R/usr/lib/sysusers.d/stagebox.conf
tmpfiles=$R/usr/lib/tmpfiles.d/stagebox.conf
state=$R/var/lib/stagebox

changed=0
say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }
done_changed() {
    changed=$((changed + 1))
    if [ "$dry_run" = 1 ]; then say "   would change: $*"; else say "   changed: $*"; fi
}
done_unchanged() { say "   unchanged: $*"; }
# Run a command, or print it under --dry-run.
run() {
    if [ "$dry_run" = 1 ]; then say "   would run: $*"; else "$@"; fi
}
is_tty() { [ -t 0 ] && [ -t 1 ]; }
ask() {  # ask "question": yes with --yes, else only on a terminal
    if [ "$assume_yes" = 1 ]; then return 0; fi
    if ! is_tty; then return 1; fi
    local answer
    read -r -p "$1 [y/N] " answer
    case "$answer" in y|Y|yes|YES) return 0 ;; *) return 1 ;; esac
}

# Install file $1 as $2 with mode $3, only when the content or mode differs.
put_file() {
    local src=$1 dst=$2 mode=$3
    if [ -f "$dst" ] && cmp -s "$src" "$dst" && [ "$(stat -c %a "$dst")" = "${mode#0}" ]; then
        done_unchanged "$dst"; return
    fi
    if [ "$dry_run" = 1 ]; then say "   would install: $src -> $dst (mode $mode)"; changed=$((changed + 1)); return; fi
    install -D -m "$mode" "$src" "$dst"
    done_changed "$dst"
}

# Copy folder $1 to $2 (files only, mode 0644), reporting whether anything changed.
put_tree() {
    local src=$1 dst=$2 file rel n=0
    while IFS= read -r -d '' file; do
        rel=${file#"$src"/}
        if [ -f "$dst/$rel" ] && cmp -s "$file" "$dst/$rel"; then continue; fi
        n=$((n + 1))
        if [ "$dry_run" = 1 ]; then say "   would install: $file -> $dst/$rel"; continue; fi
        install -D -m 0644 "$file" "$dst/$rel"
    done < <(find "$src" -type f ! -name '*.pyc' -print0 | sort -z)
    if [ "$n" -gt 0 ]; then
        if [ "$dry_run" = 1 ]; then changed=$((changed + 1)); else done_changed "$dst ($n files)"; fi
    else
        done_unchanged "$dst"
    fi
}

# Numeric gid of group $1 on the target system.
target_gid() {
    if [ -n "$R" ]; then
        awk -F: -v g="$1" '$1 == g { print $3 }' "$R/etc/group" 2>/dev/null
    else
        getent group "$1" | cut -d: -f3
    fi
}

# True when the user and every group membership of sysusers.conf already exist (then
# systemd-sysusers is not run at all, so a second install touches nothing in /etc).
sysusers_satisfied() {
    grep -q '^stagebox:' "$R/etc/passwd" 2>/dev/null || return 1
    [ -n "$(target_gid stagebox)" ] || return 1
    local group
    while read -r group; do
        awk -F: -v g="$group" '$1 == g { n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == "stagebox") found = 1 }
            END { exit !found }' "$R/etc/group" 2>/dev/null || return 1
    done < <(awk '$1 == "m" { print $3 }' "$here/systemd/sysusers.conf")
}

need_root() {
    if [ -z "$R" ] && [ "$dry_run" = 0 ] && [ "$(id -u)" != 0 ]; then
        echo "install.sh: run it as root: sudo ./install.sh $*" >&2; exit 1
    fi
}

firmware_file() {
    local f
    for f in "$R/boot/firmware/config.txt" "$R/boot/config.txt"; do
        if [ -f "$f" ]; then printf '%s' "$f"; return; fi
    done
}

# The firmware fragment of the configured audio HAT (audio.hat): firmware/config.txt for the
# default HiFiBerry DAC+ ADC Pro, firmware/config-<hat>.txt for the others (each with its
# overlay and the gpio= lines of its own pin map).
firmware_fragment() {
    local name="" py=$venv/bin/python
    if [ -x "$py" ] && [ -f "$config" ]; then
        name=$("$py" -c 'import sys
from stagebox.config import ConfigError, load_config
from stagebox.hats import profile
try:
    print(profile(load_config(sys.argv[1]).audio.hat).firmware)
except ConfigError:
    pass' "$config" 2>/dev/null) || name=""
    fi
    printf '%s' "$here/firmware/${name:-config.txt}"
}

# The fragment's setting lines (no comments, no blanks), one per line.
firmware_lines() { grep -vE '^\s*(#|$)' "$1"; }

# ----------------------------------------------------------------------------------------
uninstall_all() {
    step "stop and disable the service"
    if [ -n "$R" ]; then
        if [ -L "$R/etc/systemd/system/multi-user.target.wants/stagebox.service" ]; then
            run systemctl --root="$R" disable stagebox.service
            done_changed "disabled in $R"
        else
            done_unchanged "not enabled"
        fi
    elif systemctl list-unit-files stagebox.service >/dev/null 2>&1 && [ -f "$unit" ]; then
        run systemctl disable --now stagebox.service
        done_changed "stopped and disabled"
    else
        done_unchanged "no stagebox service"
    fi

    step "remove the program, the unit and the system entries"
    local path
    for path in "$unit" "$sysusers" "$tmpfiles" "$R/$MODULES_CONF" "$opt"; do
        if [ -e "$path" ]; then
            run rm -rf -- "$path"
            done_changed "removed $path"
        else
            done_unchanged "$path already gone"
        fi
    done
    if [ -z "$R" ]; then run systemctl daemon-reload; fi

    step "config and takes"
    if [ "$purge" = 1 ]; then
        local takes=$state/takes count=0
        if [ -d "$takes" ]; then count=$(find "$takes" -type f -name '*.wav' | wc -l); fi
        if [ "$count" -gt 0 ] && [ "$assume_yes" = 0 ]; then
            if ! ask "--purge deletes $count take(s) in $takes. Really delete them?"; then
                echo "install.sh: not purging: $count take(s) in $takes (add --yes to confirm)" >&2
                exit 1
            fi
        fi
        for path in "$etc" "$state"; do
            if [ -e "$path" ]; then
                run rm -rf -- "$path"
                done_changed "removed $path"
            else
                done_unchanged "$path already gone"
            fi
        done
    else
        say "   kept: $etc (config) and $state (takes); --uninstall --purge deletes them"
    fi
    say "   kept: the 'stagebox' system user and group (harmless; 'sudo userdel stagebox' removes them)"
    local fw
    fw=$(firmware_file)
    if [ -n "$fw" ] && grep -q "^# stagebox: lines for" "$fw"; then
        say "   kept: the stagebox lines in $fw (remove that block by hand if the HAT goes)"
    fi
    printf '\nuninstall: %d change(s)%s\n' "$changed" "$([ "$dry_run" = 1 ] && echo ' (dry run: nothing done)')"
}

# ----------------------------------------------------------------------------------------
# Build headers for pyalsaaudio and systemd-python; alsa-utils (arecord -L, alsamixer),
# i2c-tools (i2cdetect) and rsync (collecting takes) for the engineer. The display: the
# pygame-ce wheel's SDL loads libgbm, libEGL and libGLESv2 from the system at run time and
# Mesa's DRI driver draws through them (libgbm1 libegl1 libgles2 libgl1-mesa-dri); the
# streamer font is DejaVu Sans Bold (fonts-dejavu-core): without it the display process
# stops at its first frame and restarts every 2 s.
APT_PACKAGES=(python3-venv python3-dev gcc pkg-config libasound2-dev libsystemd-dev
              alsa-utils i2c-tools rsync
              libgbm1 libegl1 libgles2 libgl1-mesa-dri fonts-dejavu-core)

apt_step() {
    step "Debian packages"
    if [ -n "$R" ]; then done_unchanged "skipped under --root (on the Pi: ${APT_PACKAGES[*]})"; return; fi
    local packages=("${APT_PACKAGES[@]}")
    local missing=() p
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then done_unchanged "${packages[*]}"; return; fi
    run apt-get update -qq
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    done_changed "installed ${missing[*]}"
}

source_fingerprint() {
    if [ -f "$source_path" ]; then
        sha256sum "$source_path" | cut -d' ' -f1
    else
        (cd "$source_path" && find pyproject.toml stagebox -type f \( -name '*.py' -o -name '*.toml' -o -name 'pyproject.toml' -o -path '*/data/*' \) ! -name '*.pyc' -print0 \
            | sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
    fi
}

venv_step() {
    step "Python environment $venv"
    if [ ! -e "$source_path" ]; then echo "install.sh: --source $source_path does not exist" >&2; exit 2; fi
    # The `pi` extra: rpi-lgpio, the RPi.GPIO module on lgpio, on every bookworm Pi (classic
    # RPi.GPIO cannot add edge detection on kernel 6.6+ and cannot reach a Pi 5's pins). It
    # must replace a classic RPi.GPIO in the venv: both install the module `RPi`.
    local spec target=$source_path
    if [ -d "$source_path" ]; then target=$(cd "$source_path" && pwd); fi
    spec=("${target}[stage,pi]")
    local want stamp=$venv/.stagebox-install
    want=$(printf '%s\n' "$(source_fingerprint)" "${spec[*]}" "$pip_args" | sha256sum | cut -d' ' -f1)
    if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        done_unchanged "stagebox already installed from $source_path"; return
    fi
    if [ ! -x "$venv/bin/python" ]; then
        if [ "$dry_run" = 0 ]; then
            "$python" -c 'import sys; assert sys.version_info >= (3, 11), "stagebox needs Python 3.11 or newer"'
        fi
        run "$python" -m venv "$venv"
    fi
    if [ -x "$venv/bin/python" ] && "$venv/bin/python" -m pip show -q RPi.GPIO >/dev/null 2>&1; then
        run "$venv/bin/python" -m pip uninstall -q -y RPi.GPIO   # an older install's classic RPi.GPIO
    fi
    # shellcheck disable=SC2086  # pip_args is a list of words on purpose
    run "$venv/bin/python" -m pip install -q --disable-pip-version-check $pip_args "${spec[@]}"
    if [ "$dry_run" = 0 ]; then printf '%s\n' "$want" >"$stamp"; fi
    done_changed "installed ${spec[*]}"
}

# The I2C bus for the front panel: dtparam=i2c_arm=on is in the firmware lines; the i2c-dev
# module makes /dev/i2c-1 appear for smbus2 (raspi-config's do_i2c loads it the same way).
MODULES_CONF=etc/modules-load.d/stagebox-i2c.conf
i2c_step() {
    step "I2C device nodes (i2c-dev)"
    local conf=$R/$MODULES_CONF tmp
    tmp=$(mktemp)
    printf '# stagebox: /dev/i2c-N for the front-panel OLED (installed by install.sh)\ni2c-dev\n' >"$tmp"
    put_file "$tmp" "$conf" 0644
    rm -f "$tmp"
    if [ -z "$R" ] && [ "$dry_run" = 0 ] && ! [ -e /sys/module/i2c_dev ]; then
        modprobe i2c-dev 2>/dev/null || say "   (i2c-dev loads at the next boot)"
    fi
}

# stagebox runs on 64-bit Raspberry Pi OS only: pygame-ce publishes no 32-bit ARM wheel (with
# SDL's KMS/DRM driver) and rpi-lgpio is installed for aarch64. A 32-bit userland on a 64-bit
# kernel (uname says aarch64) is caught by its 32-bit longs. STAGEBOX_INSTALL_ARCH
# ("machine/bits") stands in for the machine in tests.
arch_check() {
    local arch=${STAGEBOX_INSTALL_ARCH:-$(uname -m)/$(getconf LONG_BIT)}
    case "$arch" in
        armv6l/*|armv7l/*|armv8l/*|*/32)
            echo "install.sh: this is a 32-bit system ($arch): stagebox needs 64-bit Raspberry Pi OS" >&2
            echo "  (bookworm, arm64). pygame-ce has no 32-bit ARM wheel and the GPIO stack is installed" >&2
            echo "  for aarch64. Flash 'Raspberry Pi OS Lite (64-bit)' with Raspberry Pi Imager and run" >&2
            echo "  install.sh again; takes and config can be copied over from this card." >&2
            exit 1 ;;
    esac
}

files_step() {
    step "docs, firmware fragment and pin map in $opt"
    put_tree "$here/docs" "$opt/docs"
    put_tree "$here/firmware" "$opt/firmware"
    put_tree "$here/hardware" "$opt/hardware"
}

users_step() {
    step "system user and folders"
    put_file "$here/systemd/sysusers.conf" "$sysusers" 0644
    put_file "$here/systemd/tmpfiles.conf" "$tmpfiles" 0644
    local rootopt=()
    if [ -n "$R" ]; then rootopt=(--root="$R"); run mkdir -p "$R/etc"; fi
    if sysusers_satisfied; then
        done_unchanged "user stagebox and its groups"
    else
        run systemd-sysusers "${rootopt[@]}" "$sysusers"
        done_changed "user stagebox and its groups"
    fi
    if [ -d "$state/takes" ] && [ -d "$R/run/stagebox" ]; then
        run systemd-tmpfiles --create "${rootopt[@]}" "$tmpfiles"
        done_unchanged "$state/takes"
    else
        run systemd-tmpfiles --create "${rootopt[@]}" "$tmpfiles"
        done_changed "$state/takes and $R/run/stagebox"
    fi
    # The engineer who ran sudo may use the control socket and read the takes.
    if [ -z "$R" ] && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
        if id -nG "$SUDO_USER" 2>/dev/null | tr ' ' '\n' | grep -qx stagebox; then
            done_unchanged "$SUDO_USER in group stagebox"
        else
            run usermod -aG stagebox "$SUDO_USER"
            done_changed "$SUDO_USER added to group stagebox (log in again to use it)"
        fi
    fi
}

config_step() {
    step "config $config"
    local py=$venv/bin/python
    if [ -f "$config" ]; then
        done_unchanged "$config exists: kept as it is"
        if [ "$dry_run" = 0 ] && [ -x "$py" ]; then
            if ! "$py" -c 'import sys
from stagebox.config import ConfigError, load_config
try:
    load_config(sys.argv[1])
except ConfigError as exc:
    print("\n".join(f"   {p}" for p in exc.problems))
    sys.exit(1)' "$config"; then
                say "   WARNING: the service will refuse to start until these are fixed"
            fi
        fi
        return
    fi
    if [ "$dry_run" = 1 ]; then
        say "   would write the default config (stagebox config default) to $config"
        changed=$((changed + 1)); return
    fi
    local tmp gid
    tmp=$(mktemp)
    "$py" -c 'import sys; from stagebox.config import default_config_text; sys.stdout.write(default_config_text())' >"$tmp"
    install -D -m 0640 "$tmp" "$config"
    rm -f "$tmp"
    gid=$(target_gid stagebox)
    if [ -n "$gid" ]; then chown "0:$gid" "$config" "$etc"; fi
    chmod 0750 "$etc"
    done_changed "wrote the default config"
}

unit_step() {
    step "systemd unit"
    put_file "$here/systemd/stagebox.service" "$unit" 0644
    local wants=$R/etc/systemd/system/multi-user.target.wants/stagebox.service
    if [ -n "$R" ]; then
        if [ -L "$wants" ]; then done_unchanged "enabled"; else
            run systemctl --root="$R" enable stagebox.service
            done_changed "enabled (in $R)"
        fi
        return
    fi
    run systemctl daemon-reload
    if systemctl is-enabled --quiet stagebox.service 2>/dev/null; then
        done_unchanged "enabled"
    else
        run systemctl enable stagebox.service
        done_changed "enabled: starts at boot"
    fi
}

firmware_step() {
    step "firmware settings (config.txt)"
    local fw missing=() line fragment
    fragment=$(firmware_fragment)
    fw=$(firmware_file)
    if [ -z "$fw" ]; then
        say "   no $R/boot/firmware/config.txt here: on the Pi, append these lines to it:"
        sed 's/^/     /' "$fragment"
        return
    fi
    while IFS= read -r line; do
        grep -qxF "$line" "$fw" || missing+=("$line")
    done < <(firmware_lines "$fragment")
    if [ ${#missing[@]} -eq 0 ]; then done_unchanged "$fw has every stagebox line"; return; fi
    say "   $fw lacks:"
    printf '     %s\n' "${missing[@]}"
    say "   the lines to append ($fragment; firmware/README.md explains each):"
    sed 's/^/     /' "$fragment"
    if grep -q "^# stagebox: lines for" "$fw"; then
        say "   $fw already has a stagebox block that differs: edit it by hand (not appending twice)"
        return
    fi
    if [ "$firmware" = 1 ] && ask "Append them to $fw now (a backup is kept)?"; then
        run cp -p "$fw" "$fw.stagebox-backup"
        if [ "$dry_run" = 1 ]; then say "   would append firmware/$(basename "$fragment") to $fw"; changed=$((changed + 1)); return; fi
        # The fragment's vc4-kms-v3d,noaudio line replaces the stock plain one (loaded once).
        sed -i -E 's/^(dtoverlay=vc4-kms-v3d)[[:space:]]*$/#\1   # stagebox: replaced by vc4-kms-v3d,noaudio below/' "$fw"
        { printf '\n'; cat "$fragment"; } >>"$fw"
        done_changed "appended $(basename "$fragment") to $fw (backup: $fw.stagebox-backup); reboot to apply"
    else
        say "   not changed: append them by hand, then reboot"
    fi
}

install_all() {
    arch_check
    apt_step
    venv_step
    files_step
    users_step
    i2c_step
    config_step
    unit_step
    firmware_step
    printf '\ninstall: %d change(s)%s\n' "$changed" "$([ "$dry_run" = 1 ] && echo ' (dry run: nothing done)')"
    if [ -z "$R" ] && [ "$dry_run" = 0 ]; then
        say "next: edit $config, check it with '$venv/bin/stagebox config check',"
        say "      then reboot (firmware changes) or 'sudo systemctl restart stagebox'."
        say "      (install.sh never restarts a running service: a take may be open.)"
    fi
}

need_root "$@"
if [ "$dry_run" = 1 ]; then say "dry run: printing what would be done, changing nothing"; fi
if [ -n "$R" ]; then say "installing into $R (not the running system)"; fi
if [ "$uninstall" = 1 ]; then uninstall_all; else install_all; fi
