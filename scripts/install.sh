#!/bin/sh
# wren installer: k3s's install.sh contract, with WREN in place of K3S.
#
#   curl -sfL <url>/install.sh | sh -                                   # a server
#   curl -sfL <url>/install.sh | WREN_URL=https://srv:6443 WREN_TOKEN=... sh -   # an agent
#   curl -sfL <url>/install.sh | sh -s - server --cluster-cidr 10.50.0.0/16      # flags
#
# Environment:
#   INSTALL_WREN_VERSION        release to install (default: the mirror's stable.txt)
#   INSTALL_WREN_DOWNLOAD_URL   release base URL (mirrors, air-gapped installs); it serves
#                               stable.txt and <version>/{wren-<arch>,sha256sum.txt,sha256sum.txt.sig}
#   INSTALL_WREN_SKIP_DOWNLOAD  true: use the wren already in the bin dir
#   INSTALL_WREN_BIN_DIR        where wren and its links go (default /usr/local/bin, /opt/bin if read-only)
#   INSTALL_WREN_SYSTEMD_DIR    where the unit goes (default /etc/systemd/system)
#   INSTALL_WREN_EXEC           command and flags: "server --flag ...", "agent ..." or flags alone
#   INSTALL_WREN_NAME           service name suffix: wren-<name>
#   INSTALL_WREN_SKIP_ENABLE    true: do not enable the service
#   INSTALL_WREN_SKIP_START     true: do not start the service
#   INSTALL_WREN_FORCE_RESTART  true: restart even when nothing changed
#   INSTALL_WREN_SYMLINK        skip: no kubectl/crictl/ctr links; force: replace existing ones
#   WREN_URL, WREN_TOKEN, WREN_TOKEN_FILE, WREN_AGENT_TOKEN, WREN_DATA_DIR ... (WREN_*): passed
#                               to the service through its environment file
#
# The checksum file is verified against the public key below (make release
# puts its signing key's public half there) before the binary's sha256 is
# checked against it.
set -e
set -o noglob

WREN_RELEASE_PUBKEY='-----BEGIN PUBLIC KEY-----
@WREN_RELEASE_PUBKEY@
-----END PUBLIC KEY-----'

DEFAULT_DOWNLOAD_URL=https://github.com/wren-k8s/wren/releases/download

info() { echo "[INFO]  $*"; }
warn() { echo "[WARN]  $*" >&2; }
fatal() {
    echo "[ERROR] $*" >&2
    exit 1
}

# --- arguments and environment ---
quote() {
    for arg in "$@"; do
        printf '%s\n' "$arg" | sed "s/'/'\\\\''/g;1s/^/'/;\$s/\$/'/"
    done
}
quote_indent() {
    printf ' \\\n'
    for arg in "$@"; do
        printf '\t%s \\\n' "$(quote "$arg")"
    done
}
escape_dq() { printf '%s' "$@" | sed -e 's/"/\\"/g'; }

setup_env() {
    # The command comes first in INSTALL_WREN_EXEC or the arguments.
    # shellcheck disable=SC2086
    set -- ${INSTALL_WREN_EXEC} "$@"
    case "$1" in
        server | agent)
            CMD_WREN=$1
            shift
            ;;
        *)
            if [ -n "${WREN_URL}" ]; then CMD_WREN=agent; else CMD_WREN=server; fi
            ;;
    esac
    if [ "${CMD_WREN}" = agent ]; then
        [ -n "${WREN_URL}" ] || fatal "WREN_URL: required to install an agent (https://<server>:6443)"
        case "${WREN_URL}" in https://*) ;; *) fatal "WREN_URL ${WREN_URL}: must start with https://" ;; esac
        [ -n "${WREN_TOKEN}${WREN_TOKEN_FILE}" ] || fatal "WREN_TOKEN or WREN_TOKEN_FILE: required to install an agent"
    fi
    CMD_WREN_EXEC="${CMD_WREN}$(quote_indent "$@")"

    if [ -n "${INSTALL_WREN_NAME}" ]; then
        SYSTEM_NAME="wren-$(echo "${INSTALL_WREN_NAME}" | sed -e 's/[][!#$%&()*;<=>?\_`{|}/[:space:]]/^/g')"
    elif [ "${CMD_WREN}" = server ]; then
        SYSTEM_NAME=wren
    else
        SYSTEM_NAME=wren-${CMD_WREN}
    fi
    case "${SYSTEM_NAME}" in *^*) fatal "INSTALL_WREN_NAME ${INSTALL_WREN_NAME}: invalid characters for a service name" ;; esac

    SUDO=sudo
    [ "$(id -u)" -eq 0 ] && SUDO=
    BIN_DIR=${INSTALL_WREN_BIN_DIR:-/usr/local/bin}
    if [ -z "${INSTALL_WREN_BIN_DIR}" ] && ! $SUDO sh -c "mkdir -p '${BIN_DIR}' && touch '${BIN_DIR}/.wren-ro-test' && rm -f '${BIN_DIR}/.wren-ro-test'" 2>/dev/null; then
        BIN_DIR=/opt/bin
    fi
    SYSTEMD_DIR=${INSTALL_WREN_SYSTEMD_DIR:-/etc/systemd/system}
    FILE_WREN_SERVICE=${SYSTEMD_DIR}/${SYSTEM_NAME}.service
    FILE_WREN_ENV=${SYSTEMD_DIR}/${SYSTEM_NAME}.service.env
    UNINSTALL_WREN_SH=${BIN_DIR}/${SYSTEM_NAME}-uninstall.sh
    KILLALL_WREN_SH=${BIN_DIR}/wren-killall.sh
    DOWNLOAD_URL=${INSTALL_WREN_DOWNLOAD_URL:-${DEFAULT_DOWNLOAD_URL}}
    DOWNLOAD_URL=${DOWNLOAD_URL%/}
}

# --- the init system ---
verify_system() {
    if [ -x /sbin/openrc-run ]; then
        FILE_WREN_SERVICE=/etc/init.d/${SYSTEM_NAME}
        FILE_WREN_ENV=/etc/wren/${SYSTEM_NAME}.env
        return
    fi
    if [ -d /run/systemd/system ]; then
        HAS_SYSTEMD=true
        return
    fi
    fatal "neither systemd nor openrc found to run wren as a service"
}

# --- download and verify ---
setup_arch() {
    case "${ARCH:-$(uname -m)}" in
        amd64 | x86_64) ARCH=amd64 ;;
        arm64 | aarch64) ARCH=arm64 ;;
        armv7* | armv8l | armhf | arm) ARCH=armv7 ;;
        *) fatal "architecture $(uname -m): not supported (amd64, arm64, armv7)" ;;
    esac
}

download() { # url file
    case "${DOWNLOADER}" in
        curl) curl -fsSL -o "$2" "$1" ;;
        wget) wget -qO "$2" "$1" ;;
    esac || fatal "download of $1 failed"
}

setup_download() {
    if command -v curl >/dev/null 2>&1; then
        DOWNLOADER=curl
    elif command -v wget >/dev/null 2>&1; then
        DOWNLOADER=wget
    else
        fatal "neither curl nor wget found to download wren"
    fi
    command -v openssl >/dev/null 2>&1 || fatal "openssl not found: it verifies the release's signature"
    command -v sha256sum >/dev/null 2>&1 || fatal "sha256sum not found: it verifies the download"
    TMP_DIR=$(mktemp -d -t wren-install.XXXXXXXXXX)
    trap 'rm -rf "${TMP_DIR}"' EXIT
    if [ -z "${INSTALL_WREN_VERSION}" ]; then
        download "${DOWNLOAD_URL}/stable.txt" "${TMP_DIR}/stable.txt"
        INSTALL_WREN_VERSION=$(head -n1 "${TMP_DIR}/stable.txt" | tr -d '[:space:]')
        [ -n "${INSTALL_WREN_VERSION}" ] || fatal "${DOWNLOAD_URL}/stable.txt names no version"
    fi
    case "${INSTALL_WREN_VERSION}" in *[!A-Za-z0-9.+_-]*) fatal "INSTALL_WREN_VERSION ${INSTALL_WREN_VERSION}: not a version" ;; esac
    info "wren ${INSTALL_WREN_VERSION} for ${ARCH} from ${DOWNLOAD_URL}"
}

verify_checksums() {
    base=${DOWNLOAD_URL}/${INSTALL_WREN_VERSION}
    download "${base}/sha256sum.txt" "${TMP_DIR}/sha256sum.txt"
    download "${base}/sha256sum.txt.sig" "${TMP_DIR}/sha256sum.txt.sig"
    case "${WREN_RELEASE_PUBKEY}" in
        *@WREN_RELEASE_PUBKEY@*) fatal "this install.sh carries no release key: use the one served with the release (make release)" ;;
    esac
    printf '%s\n' "${WREN_RELEASE_PUBKEY}" >"${TMP_DIR}/release.pub"
    if ! openssl dgst -sha256 -verify "${TMP_DIR}/release.pub" -signature "${TMP_DIR}/sha256sum.txt.sig" \
        "${TMP_DIR}/sha256sum.txt" >/dev/null 2>&1; then
        fatal "sha256sum.txt of ${INSTALL_WREN_VERSION}: its signature does not match this installer's release key"
    fi
    HASH_EXPECTED=$(awk -v f="wren-${ARCH}" '$2 == f || $2 == "*" f { print $1 }' "${TMP_DIR}/sha256sum.txt")
    [ -n "${HASH_EXPECTED}" ] || fatal "sha256sum.txt of ${INSTALL_WREN_VERSION} lists no wren-${ARCH}"
}

installed_matches() {
    [ -x "${BIN_DIR}/wren" ] && [ "$(sha256sum "${BIN_DIR}/wren" | awk '{print $1}')" = "${HASH_EXPECTED}" ]
}

download_binary() {
    download "${DOWNLOAD_URL}/${INSTALL_WREN_VERSION}/wren-${ARCH}" "${TMP_DIR}/wren"
    got=$(sha256sum "${TMP_DIR}/wren" | awk '{print $1}')
    [ "${got}" = "${HASH_EXPECTED}" ] || fatal "wren-${ARCH}: sha256 ${got} does not match the signed checksum ${HASH_EXPECTED}"
    chmod 755 "${TMP_DIR}/wren"
    $SUDO mkdir -p "${BIN_DIR}"
    $SUDO mv -f "${TMP_DIR}/wren" "${BIN_DIR}/wren.new"
    $SUDO mv -f "${BIN_DIR}/wren.new" "${BIN_DIR}/wren"
    info "installed ${BIN_DIR}/wren"
}

install_binary() {
    if [ "${INSTALL_WREN_SKIP_DOWNLOAD}" = true ]; then
        [ -x "${BIN_DIR}/wren" ] || fatal "INSTALL_WREN_SKIP_DOWNLOAD: ${BIN_DIR}/wren is missing or not executable"
        info "skipping the download: using ${BIN_DIR}/wren"
        return
    fi
    setup_arch
    setup_download
    verify_checksums
    if installed_matches; then
        info "${BIN_DIR}/wren is already ${INSTALL_WREN_VERSION}"
        return
    fi
    download_binary
}

# --- links and scripts ---
create_symlinks() {
    [ "${INSTALL_WREN_SYMLINK}" = skip ] && return
    for cmd in kubectl crictl ctr; do
        link=${BIN_DIR}/${cmd}
        if [ -L "${link}" ] && [ "$(readlink "${link}")" = "${BIN_DIR}/wren" ]; then
            continue
        fi
        if [ "${INSTALL_WREN_SYMLINK}" != force ] && { [ -e "${link}" ] || [ -L "${link}" ] || command -v "${cmd}" >/dev/null 2>&1; }; then
            info "skipping the ${cmd} link: ${cmd} exists (INSTALL_WREN_SYMLINK=force replaces it)"
            continue
        fi
        $SUDO ln -sf "${BIN_DIR}/wren" "${link}"
        info "linked ${link} → ${BIN_DIR}/wren"
    done
}

write_file() { # path mode: content on stdin; written only when it differs
    tmp=${TMP_DIR:-/tmp}/write.$$
    cat >"${tmp}"
    if [ -f "$1" ] && cmp -s "${tmp}" "$1"; then
        rm -f "${tmp}"
        return
    fi
    $SUDO mkdir -p "$(dirname "$1")"
    $SUDO cp "${tmp}" "$1.tmp"
    $SUDO chmod "$2" "$1.tmp"
    $SUDO mv -f "$1.tmp" "$1"
    rm -f "${tmp}"
}

create_killall() {
    write_file "${KILLALL_WREN_SH}" 755 <<EOF
#!/bin/sh
# Stops every wren service and everything wren started: pods, containerd,
# mounts, interfaces and firewall rules.
[ "\$(id -u)" -eq 0 ] || exec sudo "\$0" "\$@"
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    for unit in \$(systemctl list-units --all --plain --no-legend 'wren*.service' | awk '{print \$1}'); do
        systemctl stop "\${unit}"
    done
fi
if [ -x /sbin/openrc-run ]; then
    for svc in /etc/init.d/wren*; do [ -x "\${svc}" ] && "\${svc}" stop; done
fi
exec "${BIN_DIR}/wren" killall
EOF
}

create_uninstall() {
    write_file "${UNINSTALL_WREN_SH}" 755 <<EOF
#!/bin/sh
# Removes what the wren installer created for ${SYSTEM_NAME}, and wren's data.
set -x
[ "\$(id -u)" -eq 0 ] || exec sudo "\$0" "\$@"
"${KILLALL_WREN_SH}"
if command -v systemctl >/dev/null 2>&1 && [ -f "${SYSTEMD_DIR}/${SYSTEM_NAME}.service" ]; then
    systemctl disable "${SYSTEM_NAME}" || true
    rm -f "${SYSTEMD_DIR}/${SYSTEM_NAME}.service" "${SYSTEMD_DIR}/${SYSTEM_NAME}.service.env"
    systemctl daemon-reload || true
    systemctl reset-failed "${SYSTEM_NAME}" 2>/dev/null || true
fi
if [ -f "/etc/init.d/${SYSTEM_NAME}" ]; then
    rc-update delete "${SYSTEM_NAME}" default 2>/dev/null || true
    rm -f "/etc/init.d/${SYSTEM_NAME}" "/etc/wren/${SYSTEM_NAME}.env"
fi
remaining() { ls "${SYSTEMD_DIR}"/wren*.service /etc/init.d/wren* 2>/dev/null; }
if [ -n "\$(remaining)" ]; then
    rm -f "\$0"
    exit 0 # another wren service still uses the binary and the data
fi
for cmd in kubectl crictl ctr; do
    if [ -L "${BIN_DIR}/\${cmd}" ] && [ "\$(readlink "${BIN_DIR}/\${cmd}")" = "${BIN_DIR}/wren" ]; then
        rm -f "${BIN_DIR}/\${cmd}"
    fi
done
rm -rf /etc/wren /var/lib/wren /var/lib/kubelet /run/wren /run/flannel /var/log/wren*
rm -f "${BIN_DIR}/wren" "${KILLALL_WREN_SH}" "\$0"
EOF
}

# --- the service ---
create_env_file() {
    umask 077
    env | grep -E '^WREN_' | grep -vE '^WREN_(UNINSTALL|KILLALL)_' | sort | while IFS= read -r line; do
        printf '%s="%s"\n' "${line%%=*}" "$(escape_dq "${line#*=}")"
    done | write_file "${FILE_WREN_ENV}" 600
    umask 022
}

create_systemd_unit() {
    write_file "${FILE_WREN_SERVICE}" 644 <<EOF
[Unit]
Description=wren: lightweight Kubernetes
Documentation=https://github.com/wren-k8s/wren
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
Type=notify
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
EnvironmentFile=-${FILE_WREN_ENV}
KillMode=process
Delegate=yes
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStart=${BIN_DIR}/wren \\
    ${CMD_WREN_EXEC}
EOF
}

create_openrc_service() {
    write_file "${FILE_WREN_SERVICE}" 755 <<EOF
#!/sbin/openrc-run
description="wren: lightweight Kubernetes"

depend() {
    after network-online
    want cgroups
}

start_pre() {
    rm -f /tmp/wren.*
}

supervisor=supervise-daemon
name=${SYSTEM_NAME}
command="${BIN_DIR}/wren"
command_args="$(escape_dq "${CMD_WREN_EXEC}")
    >>/var/log/${SYSTEM_NAME}.log 2>&1"
output_log=/var/log/${SYSTEM_NAME}.log
error_log=/var/log/${SYSTEM_NAME}.log
pidfile="/var/run/${SYSTEM_NAME}.pid"
respawn_delay=5
respawn_max=0

set -o allexport
if [ -f /etc/environment ]; then . /etc/environment; fi
if [ -f ${FILE_WREN_ENV} ]; then . ${FILE_WREN_ENV}; fi
set +o allexport
EOF
}

# installed_hashes identifies what the service runs: binary, unit, environment.
installed_hashes() {
    $SUDO sha256sum "${BIN_DIR}/wren" "${FILE_WREN_SERVICE}" "${FILE_WREN_ENV}" 2>&1 || true
}

service_enable_and_start() {
    if [ "${HAS_SYSTEMD}" = true ]; then
        [ "${PRE_HASHES}" = "$(installed_hashes)" ] || $SUDO systemctl daemon-reload
        [ "${INSTALL_WREN_SKIP_ENABLE}" = true ] || $SUDO systemctl enable "${SYSTEM_NAME}" >/dev/null
    else
        [ "${INSTALL_WREN_SKIP_ENABLE}" = true ] || $SUDO rc-update add "${SYSTEM_NAME}" default >/dev/null
    fi
    [ "${INSTALL_WREN_SKIP_START}" = true ] && return
    if [ "${PRE_HASHES}" = "$(installed_hashes)" ] && [ "${INSTALL_WREN_FORCE_RESTART}" != true ] && service_running; then
        info "nothing changed: ${SYSTEM_NAME} keeps running"
        return
    fi
    info "starting ${SYSTEM_NAME}"
    if [ "${HAS_SYSTEMD}" = true ]; then
        $SUDO systemctl restart "${SYSTEM_NAME}"
    else
        $SUDO "${FILE_WREN_SERVICE}" restart
    fi
}

service_running() {
    if [ "${HAS_SYSTEMD}" = true ]; then
        $SUDO systemctl is-active --quiet "${SYSTEM_NAME}"
    else
        $SUDO "${FILE_WREN_SERVICE}" status >/dev/null 2>&1
    fi
}

main() {
    setup_env "$@"
    verify_system
    PRE_HASHES=$(installed_hashes)
    install_binary
    create_symlinks
    create_killall
    create_uninstall
    create_env_file
    if [ "${HAS_SYSTEMD}" = true ]; then create_systemd_unit; else create_openrc_service; fi
    service_enable_and_start
    info "done: ${SYSTEM_NAME} (${CMD_WREN}); ${UNINSTALL_WREN_SH} removes it"
}

main "$@"
