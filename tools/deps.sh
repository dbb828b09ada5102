# Sourced by tools/test and tools/quickstart: install frost's Debian packages
# if any is missing (as root, or through sudo). A second run installs nothing.
FROST_PACKAGES=(
  meson ninja-build pkg-config gcc
  libopenblas-dev libopenblas-openmp-dev libhdf5-dev libconfig-dev libcriterion-dev libmetis-dev zlib1g-dev
  gnuplot-nox
  openmpi-bin libopenmpi-dev
)

frost_install_deps() {
  local missing=()
  for p in "${FROST_PACKAGES[@]}" "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "frost: installing ${missing[*]}" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "frost: need root (or sudo) to install ${missing[*]}" >&2; return 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Configure (once) and build incrementally in DIR with extra meson options.
frost_build() {
  local dir="$1"; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >/dev/null
  fi
  ninja -C "$dir" >/dev/null
}
