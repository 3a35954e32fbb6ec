#!/usr/bin/env bash
# Names every missing prerequisite at once instead of failing on the first.
missing=()
have() { command -v "$1" >/dev/null 2>&1; }
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

if have python3 && python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then :; else missing+=("Python >= 3.11 (python3)"); fi
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=("python3 venv/ensurepip module (Debian: python3-venv)")
if have node && version_ge "$(node -p 'process.versions.node')" 20.0.0; then :; else missing+=("Node.js >= 20 (node)"); fi
have npm || missing+=("npm")
if have java && java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])'; then :; else missing+=("Java >= 17 (java)"); fi
have mvn || missing+=("Maven (mvn)")
have curl || missing+=("curl")
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || have initdb || missing+=("PostgreSQL 15 server binaries (Debian: postgresql-15)")
if [ "$(id -u)" -eq 0 ]; then have runuser || missing+=("runuser (util-linux), to run PostgreSQL as a non-root user"); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "Missing prerequisites:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi
