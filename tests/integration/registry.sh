# SPDX-License-Identifier: LGPL-2.1-or-later
# What the scripts that talk to a real docker-registry share (pull.t,
# push.t): a store of their own, a home and runtime dir in $T, the tools
# checked, the servers they start killed at exit, and waits on a port or a
# file that poll instead of sleeping. Sourced after lib.sh.
HELP=$(dirname "$0")/registryhelp.py
NET=$(dirname "$0")/nethelp.py
R=$T/store
H() { hutch --root "$R" "$@"; }
at_exit '"$HUTCH" --root "$R" unshare rm -rf "$R" 2>/dev/null'
export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_RUNTIME_DIR=$T/run
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 0700 "$XDG_RUNTIME_DIR"
for tool in docker-registry skopeo openssl htpasswd; do
  if ! command -v "$tool" >/dev/null; then
    skip "$tool is not installed (helpers/run-tests installs it)"
    exit 0
  fi
done
pids=()
at_exit 'for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null; done'
wait_port() { # PORT: until 127.0.0.1:PORT accepts (10 s at most)
  local i
  for i in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    tick
  done
  echo "# nothing listens on $1" >&2
  return 1
}
wait_file() { # FILE: until it exists (10 s at most)
  local i
  for i in $(seq 200); do [ -s "$1" ] && return 0; tick; done
  return 1
}

# new_store VAR: a fresh store path in $VAR, removed (in the user namespace) at exit
new_store() {
  printf -v "$1" '%s' "$T/$1"
  at_exit "\"\$HUTCH\" --root \"$T/$1\" unshare rm -rf \"$T/$1\" 2>/dev/null"
}
