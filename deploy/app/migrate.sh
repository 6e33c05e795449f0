#!/bin/sh
# Schema migrations of the handoff service, then its admin account: the Kubernetes migration Job and
# compose's `migrate` service run this before the handoff service starts (scripts/prod.py does the same).
#
#   HANDOFF_ADMIN_EMAIL     the admin's login (default admin@nordnet.example)
#   HANDOFF_ADMIN_PASSWORD  its password; empty = no admin account is made here
#
# Safe to run again: a current schema stays as it is, an existing admin is kept (password unchanged).
set -eu

PYTHON="${PYTHON:-python}"
ADMIN_EMAIL="${HANDOFF_ADMIN_EMAIL:-admin@nordnet.example}"

"$PYTHON" -m handoff migrate

if [ -z "${HANDOFF_ADMIN_PASSWORD:-}" ]; then
    echo "HANDOFF_ADMIN_PASSWORD is empty: no admin account made (python -m handoff create-agent makes one)"
    exit 0
fi
if output=$("$PYTHON" -m handoff create-agent --email "$ADMIN_EMAIL" --name Admin --role admin \
        --password-env HANDOFF_ADMIN_PASSWORD 2>&1); then
    echo "$output"
else
    case "$output" in
        *"exists already"*) echo "admin $ADMIN_EMAIL exists already: kept as it is" ;;
        *) echo "$output" >&2; exit 1 ;;
    esac
fi
