#!/usr/bin/env bash
# Build the HTML documentation into docs/_build/html; warnings are errors.
# Needs the docs extra: pip install -e ".[docs]". Works offline.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s.%N)
python -m sphinx -b html -W --keep-going docs docs/_build/html "$@"
echo "docs built in $(python -c "print(f'{$(date +%s.%N) - $started:.1f}')") s: docs/_build/html/index.html"
