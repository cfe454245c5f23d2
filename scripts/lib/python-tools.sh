# Sourced by scripts/test and the benchmarks: installs the Python test servers (aiosmtpd for the
# mail tests, localstripe for the payment tests; pinned in tests/support/requirements.txt) into
# .tools/python. An installation keeps a copy of the requirements it was made from
# (.requirements) and is made anew when they changed. Installed beside, then moved into place,
# so an interrupted install is never mistaken for a finished one (tests/support/python.rs does
# the same for a test binary run on its own).
install_python_tools() {
  if ! cmp -s tests/support/requirements.txt .tools/python/.requirements; then
    mkdir -p .tools
    local partial=".tools/python.partial-$$"
    rm -rf "$partial"
    python3 -m pip install --quiet --disable-pip-version-check --no-warn-conflicts \
      --root-user-action=ignore --target "$partial" -r tests/support/requirements.txt
    cp tests/support/requirements.txt "$partial/.requirements"
    rm -rf .tools/python
    mv "$partial" .tools/python
  fi
}
