# Sourced by scripts/test: validates docker-compose.yml (and, layered over it,
# docker-compose.kurrentdb.yml) with a real validator, Compose's own
# `docker-compose config` (1.29.2, from PyPI, installed into .tools/compose with the pinned
# dependencies in tests/support/compose-requirements.txt; no Docker daemon is needed), then
# checks that a broken file is refused, so a validator that accepts anything fails the run.
check_compose() {
  local requirements=tests/support/compose-requirements.txt
  if ! cmp -s "$requirements" .tools/compose/.requirements; then
    mkdir -p .tools
    local partial=".tools/compose.partial-$$"
    rm -rf "$partial"
    python3 -m venv "$partial"
    "$partial/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$requirements"
    cp "$requirements" "$partial/.requirements"
    rm -rf .tools/compose
    mv "$partial" .tools/compose
    # A venv records its own path: made elsewhere and moved, its scripts are run through python.
  fi
  local compose=(env PYTHONWARNINGS=ignore .tools/compose/bin/python -c
    'import sys; from compose.cli.main import main; sys.argv[0] = "docker-compose"; main()')
  ROSTER_MASTER_KEY=validation "${compose[@]}" -f docker-compose.yml config --quiet
  ROSTER_MASTER_KEY=validation "${compose[@]}" -f docker-compose.yml --profile kurrentdb config --services >/dev/null
  # The KurrentDB variant: both files together; every Roster process keeps PostgreSQL for the
  # SQL side and gets the KurrentDB log, and waits for the node to be healthy.
  local merged
  merged=$(ROSTER_MASTER_KEY=validation "${compose[@]}" -f docker-compose.yml \
    -f docker-compose.kurrentdb.yml --profile kurrentdb config)
  local service
  for service in roster-api roster-workers roster-projections; do
    ROSTER_MERGED="$merged" .tools/compose/bin/python - "$service" <<'PY'
import os, sys, yaml
service = yaml.safe_load(os.environ["ROSTER_MERGED"])["services"][sys.argv[1]]
env = service["environment"]
assert env["ROSTER_KURRENTDB_URL"].startswith("esdb://kurrentdb:2113"), env
assert env["ROSTER_DATABASE_URL"].startswith("postgres://"), env
assert service["depends_on"]["kurrentdb"]["condition"] == "service_healthy", service
assert service["depends_on"]["postgres"]["condition"] == "service_healthy", service
PY
  done
  local broken
  broken=$(mktemp)
  sed 's/^    command:/    comand:/' docker-compose.yml >"$broken"
  if ROSTER_MASTER_KEY=validation "${compose[@]}" -f "$broken" config --quiet 2>/dev/null; then
    rm -f "$broken"
    echo "the compose validator accepted a broken file" >&2
    return 1
  fi
  rm -f "$broken"
  echo "docker-compose.yml and docker-compose.kurrentdb.yml are valid (docker-compose $("${compose[@]}" version --short))"
}
