#!/usr/bin/env bash
# vcan-setup.sh - bring up / tear down virtual CAN (vcan) interfaces for the
# test bench. See `./vcan-setup.sh --help`.
#
# Exit codes:
#   0  success (including "already up" / "does not exist" no-ops)
#   1  missing prerequisite (root, iproute2) or an ip command failed
#   2  usage error (unknown command/option, invalid interface name or MTU)
#   3  the running kernel has no vcan module
set -euo pipefail

PROG=${0##*/}
DEFAULT_NAME=vcan0

usage() {
    cat <<EOF
Usage: ${PROG} [--dry-run] COMMAND [NAME] [OPTIONS]

Bring up virtual CAN (vcan) interfaces for bench testing.

Commands:
  up [NAME]      load the vcan kernel module if needed, create NAME if it does
                 not exist and set it up (default NAME: ${DEFAULT_NAME}).
                 Idempotent: says "already up" when there is nothing to do.
  down [NAME]    set NAME down and delete it. Idempotent: an absent interface
                 is reported and is not an error.
  status [NAME]  show whether the vcan module is loaded/available and list the
                 vcan interfaces with their state (NAME only filters the list).

Options (accepted anywhere on the command line):
  --dry-run      print each command that would run (prefixed "+ ") without
                 running anything. The full sequence is printed; the current
                 state is not inspected and root is not required.
  --mtu N        up only: set the MTU, 16 (classic CAN, default) or 72 (CAN FD).
  -h, --help     show this help and exit.

NAME is an interface name: 1-15 characters from [A-Za-z0-9_.-].

up/down need root (run with sudo). Without the vcan kernel module, python-can's
'virtual' interface still works: assistant monitor --scenario NAME

Examples:
  sudo ./${PROG} up                 # vcan0
  sudo ./${PROG} up vcan1 --mtu 72  # CAN FD capable
  ./${PROG} status
  ./${PROG} down vcan1 --dry-run
EOF
}

die() {
    # die EXIT_CODE MESSAGE...
    local code=$1
    shift
    printf '%s: %s\n' "${PROG}" "$*" >&2
    exit "${code}"
}

usage_error() {
    printf '%s: %s\n\n' "${PROG}" "$*" >&2
    usage >&2
    exit 2
}

info() {
    printf '%s\n' "$*"
}

# ---------------------------------------------------------------- arguments

DRY_RUN=0
MTU=""
COMMAND=""
NAME=""
NAME_GIVEN=0

while (($# > 0)); do
    case $1 in
        -h | --help)
            usage
            exit 0
            ;;
        --dry-run)
            DRY_RUN=1
            ;;
        --mtu)
            (($# >= 2)) || usage_error "--mtu needs a value (16 or 72)"
            MTU=$2
            shift
            ;;
        --mtu=*)
            MTU=${1#--mtu=}
            ;;
        --)
            shift
            break
            ;;
        -*)
            usage_error "unknown option: $1"
            ;;
        *)
            if [[ -z ${COMMAND} ]]; then
                COMMAND=$1
            elif ((NAME_GIVEN == 0)); then
                NAME=$1
                NAME_GIVEN=1
            else
                usage_error "unexpected argument: $1"
            fi
            ;;
    esac
    shift
done
# Anything after "--" is positional.
while (($# > 0)); do
    if [[ -z ${COMMAND} ]]; then
        COMMAND=$1
    elif ((NAME_GIVEN == 0)); then
        NAME=$1
        NAME_GIVEN=1
    else
        usage_error "unexpected argument: $1"
    fi
    shift
done

case ${COMMAND} in
    up | down | status) ;;
    "") usage_error "missing command (up, down or status)" ;;
    *) usage_error "unknown command: ${COMMAND}" ;;
esac

if ((NAME_GIVEN == 0)); then
    NAME=${DEFAULT_NAME}
fi
# Same rules as the kernel's dev_valid_name(), restricted to a safe charset.
if [[ ! ${NAME} =~ ^[A-Za-z0-9_.-]{1,15}$ || ${NAME} == "." || ${NAME} == ".." ]]; then
    usage_error "invalid interface name '${NAME}': use 1-15 characters from [A-Za-z0-9_.-]"
fi

if [[ -n ${MTU} ]]; then
    [[ ${COMMAND} == up ]] || usage_error "--mtu only applies to 'up'"
    case ${MTU} in
        16 | 72) ;;
        *) usage_error "invalid --mtu '${MTU}': use 16 (classic CAN) or 72 (CAN FD)" ;;
    esac
fi

# ---------------------------------------------------------------- helpers

# run CMD ARGS...: echo the command, then run it unless --dry-run.
run() {
    printf '+ %s\n' "$*"
    if ((DRY_RUN == 0)); then
        "$@"
    fi
}

require_root() {
    if ((DRY_RUN == 0)) && ((EUID != 0)); then
        die 1 "needs root: run with sudo (sudo ./${PROG} ${COMMAND} ${NAME})"
    fi
}

require_ip() {
    if ! command -v ip >/dev/null 2>&1; then
        die 1 "'ip' not found: install iproute2 (sudo apt-get install iproute2)"
    fi
}

# kernel_release: best effort, for messages only.
kernel_release() {
    uname -r 2>/dev/null || echo unknown
}

# kconfig_vcan: prints y, m or "" for CONFIG_CAN_VCAN when the kernel config is
# readable; returns 1 when it is not.
kconfig_vcan() {
    local cfg line
    if [[ -r /proc/config.gz ]] && command -v zcat >/dev/null 2>&1; then
        cfg=$(zcat /proc/config.gz 2>/dev/null) || return 1
    elif [[ -r /boot/config-$(kernel_release) ]]; then
        cfg=$(<"/boot/config-$(kernel_release)")
    else
        return 1
    fi
    line=$(grep -E '^CONFIG_CAN_VCAN=' <<<"${cfg}" || true)
    printf '%s\n' "${line#CONFIG_CAN_VCAN=}"
}

no_vcan_help() {
    cat <<EOF
  To fix, either:
    - install the extra kernel modules for this kernel:
        sudo apt-get install linux-modules-extra-\$(uname -r)
    - or boot a kernel built with CONFIG_CAN_VCAN=m (or =y).
  Inside a container, load the module on the host (sudo modprobe vcan).
  No vcan needed for simulation: python-can's 'virtual' interface works without
  it, e.g.  assistant monitor --scenario NAME
EOF
}

# die_no_vcan DETAIL: the exit-3 path.
die_no_vcan() {
    {
        printf '%s: the kernel (%s) has no vcan module: cannot create %s\n' \
            "${PROG}" "$(kernel_release)" "${NAME}"
        if [[ -n ${1:-} ]]; then
            printf '  %s\n' "$1"
        fi
        no_vcan_help
    } >&2
    exit 3
}

link_exists() {
    ip link show dev "$1" >/dev/null 2>&1
}

# link_kind NAME: prints "vcan" for a vcan link, otherwise the rtnetlink kind
# (veth, ifb, ...) when ip shows one, or "" (physical NICs, lo).
link_kind() {
    local out
    if [[ -n $(ip -o link show dev "$1" type vcan 2>/dev/null || true) ]]; then
        echo vcan
        return 0
    fi
    out=$(ip -details -o link show dev "$1" 2>/dev/null) || return 0
    # With -o the detail lines are joined with "\"; the kind starts its own
    # line: "...\    link/ether ... \    ifb addrgenmode ...".
    if [[ ${out} =~ \\[[:space:]]+([a-z0-9_]+)[[:space:]] ]]; then
        echo "${BASH_REMATCH[1]}"
    fi
}

# link_is_up NAME: administratively up (IFF_UP flag).
link_is_up() {
    local out
    out=$(ip -o link show dev "$1" 2>/dev/null) || return 1
    [[ ${out} =~ \<([^>]*)\> ]] || return 1
    [[ ,${BASH_REMATCH[1]}, == *,UP,* ]]
}

link_mtu() {
    local out
    out=$(ip -o link show dev "$1" 2>/dev/null) || return 1
    [[ ${out} =~ [[:space:]]mtu[[:space:]]+([0-9]+) ]] || return 1
    echo "${BASH_REMATCH[1]}"
}

require_vcan_link() {
    local kind
    kind=$(link_kind "$1")
    if [[ ${kind} != vcan ]]; then
        die 1 "${1} exists but is not a vcan interface (type: ${kind:-none}); refusing to touch it"
    fi
}

# ---------------------------------------------------------------- commands

cmd_up() {
    if ((DRY_RUN)); then
        run modprobe vcan
        run ip link add dev "${NAME}" type vcan
        if [[ -n ${MTU} ]]; then
            run ip link set dev "${NAME}" mtu "${MTU}"
        fi
        run ip link set dev "${NAME}" up
        return 0
    fi

    require_root
    require_ip

    if link_exists "${NAME}"; then
        require_vcan_link "${NAME}"
        local changed=0
        if [[ -n ${MTU} && $(link_mtu "${NAME}" || true) != "${MTU}" ]]; then
            # vcan refuses MTU changes while up (EBUSY).
            if link_is_up "${NAME}"; then
                run ip link set dev "${NAME}" down
            fi
            run ip link set dev "${NAME}" mtu "${MTU}"
            changed=1
        fi
        if link_is_up "${NAME}"; then
            info "${NAME} is already up"
            return 0
        fi
        run ip link set dev "${NAME}" up
        if ((changed)); then
            info "${NAME} is up (mtu ${MTU})"
        else
            info "${NAME} is up"
        fi
        return 0
    fi

    # Make sure the vcan module is loaded. If modprobe fails, still try to add
    # the link: vcan may be built into the kernel (no /sys/module/vcan then).
    local modprobe_err=""
    if [[ ! -d /sys/module/vcan ]]; then
        if command -v modprobe >/dev/null 2>&1; then
            printf '+ %s\n' "modprobe vcan"
            if ! modprobe_err=$(modprobe vcan 2>&1); then
                modprobe_err="modprobe vcan failed: ${modprobe_err:-no output}"
            else
                modprobe_err=""
            fi
        else
            modprobe_err="modprobe not found (install kmod: sudo apt-get install kmod)"
        fi
    fi

    local add_err
    printf '+ %s\n' "ip link add dev ${NAME} type vcan"
    if ! add_err=$(ip link add dev "${NAME}" type vcan 2>&1); then
        if [[ -n ${modprobe_err} || ${add_err} == *"Unknown device type"* ]]; then
            die_no_vcan "${modprobe_err:-ip link add: ${add_err}}"
        fi
        die 1 "ip link add dev ${NAME} type vcan failed: ${add_err}"
    fi
    if [[ -n ${MTU} ]]; then
        run ip link set dev "${NAME}" mtu "${MTU}"
    fi
    run ip link set dev "${NAME}" up
    info "${NAME} is up${MTU:+ (mtu ${MTU})}"
}

cmd_down() {
    if ((DRY_RUN)); then
        run ip link set dev "${NAME}" down
        run ip link delete dev "${NAME}"
        return 0
    fi

    require_root
    require_ip

    if ! link_exists "${NAME}"; then
        info "${NAME} does not exist: nothing to do"
        return 0
    fi
    require_vcan_link "${NAME}"
    run ip link set dev "${NAME}" down
    run ip link delete dev "${NAME}"
    info "${NAME} removed"
}

cmd_status() {
    # Read-only: --dry-run changes nothing here and root is not needed.
    require_ip
    local cfg
    if [[ -d /sys/module/vcan ]]; then
        info "vcan module: loaded"
    elif command -v modinfo >/dev/null 2>&1 && modinfo vcan >/dev/null 2>&1; then
        info "vcan module: available, not loaded (sudo ./${PROG} up loads it)"
    else
        cfg=$(kconfig_vcan || echo unknown)
        case ${cfg} in
            y) info "vcan module: built into the kernel" ;;
            m) info "vcan module: configured (CONFIG_CAN_VCAN=m), not loaded; 'up' will try modprobe" ;;
            *)
                info "vcan module: not available in this kernel ($(kernel_release))"
                no_vcan_help
                ;;
        esac
    fi

    local listing
    if ((NAME_GIVEN)); then
        if ! link_exists "${NAME}"; then
            info "${NAME}: does not exist"
            return 0
        fi
        listing=$(ip -details link show dev "${NAME}" type vcan 2>/dev/null || true)
        if [[ -z ${listing} ]]; then
            info "${NAME}: exists but is not a vcan interface"
            return 0
        fi
    else
        listing=$(ip -details link show type vcan 2>/dev/null || true)
    fi
    if [[ -z ${listing} ]]; then
        info "vcan interfaces: none"
    else
        info "vcan interfaces:"
        printf '%s\n' "${listing}"
    fi
}

case ${COMMAND} in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
esac
