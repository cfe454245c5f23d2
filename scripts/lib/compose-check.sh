# Sourced by scripts/test: validates docker-compose.yml with a real validator, Compose's own
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
  local broken
  broken=$(mktemp)
  sed 's/^    command:/    comand:/' docker-compose.yml >"$broken"
  if ROSTER_MASTER_KEY=validation "${compose[@]}" -f "$broken" config --quiet 2>/dev/null; then
    rm -f "$broken"
    echo "the compose validator accepted a broken file" >&2
    return 1
  fi
  rm -f "$broken"
  echo "docker-compose.yml is valid (docker-compose $("${compose[@]}" version --short))"
}
