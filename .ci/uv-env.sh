# Sourced by .ci/lowest and .ci/lock: uv reads no pip configuration, so hand it pip's indexes and
# find-links (this machine's mirrors, whatever they are) and let it pick the best match among them.
export UV_INDEX_STRATEGY=unsafe-best-match
extra="$(pip config get global.extra-index-url 2>/dev/null || true)"
links="$(pip config get global.find-links 2>/dev/null || true)"
if [ -n "$extra" ]; then export UV_EXTRA_INDEX_URL="$extra"; fi
if [ -n "$links" ]; then export UV_FIND_LINKS="$links"; fi
