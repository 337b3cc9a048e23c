#!/usr/bin/env bash
# Requests a promotion with the Airlock CLI from a CI job and reports the outcome: the one script
# behind the GitHub Action (action.yml) and the GitLab CI template (ci/gitlab/airlock.gitlab-ci.yml).
#
# Input (environment): AIRLOCK_ARTIFACT, AIRLOCK_ENVIRONMENT (required); AIRLOCK_SERVER;
# AIRLOCK_WAIT (true: wait until promoted, the default; false: until the checks are over);
# AIRLOCK_TIMEOUT (e.g. 30m); AIRLOCK_METADATA (key=value lines); AIRLOCK_IDEMPOTENCY_KEY;
# AIRLOCK_CLI (how to run the CLI, default `airlock`). The token is the job's own OIDC token (the
# CLI asks GitHub's endpoint, or reads GitLab's id_tokens variable) or AIRLOCK_TOKEN.
#
# Output: the promotion as JSON in AIRLOCK_RESULT_FILE (default airlock-promotion.json); on GitHub
# also `promotion-id`, `status` and `digest` in $GITHUB_OUTPUT. Exit code: the CLI's (0 promoted,
# 2 rejected, 3 expired or cancelled, 4 failed, 5 timed out, 1 error).
set -uo pipefail

: "${AIRLOCK_ARTIFACT:?AIRLOCK_ARTIFACT is required (registry/repository:tag or @sha256:…)}"
: "${AIRLOCK_ENVIRONMENT:?AIRLOCK_ENVIRONMENT is required}"
result="${AIRLOCK_RESULT_FILE:-airlock-promotion.json}"
read -r -a cli <<<"${AIRLOCK_CLI:-airlock}"

args=(promote "$AIRLOCK_ARTIFACT" --env "$AIRLOCK_ENVIRONMENT" --output json)
case "${AIRLOCK_WAIT:-true}" in
  true) args+=(--wait) ;;
  false) ;;
  *) echo "AIRLOCK_WAIT must be true or false" >&2; exit 1 ;;
esac
[[ -n "${AIRLOCK_TIMEOUT:-}" ]] && args+=(--timeout "$AIRLOCK_TIMEOUT")
# A CI re-run of the same job must find the same promotion, not request a second one.
key="${AIRLOCK_IDEMPOTENCY_KEY:-}"
if [[ -z "$key" && -n "${GITHUB_RUN_ID:-}" ]]; then
  key="gh-${GITHUB_REPOSITORY:-repo}-${GITHUB_RUN_ID}-${GITHUB_JOB:-job}-${AIRLOCK_ENVIRONMENT}"
elif [[ -z "$key" && -n "${CI_JOB_ID:-}" ]]; then
  key="gl-${CI_PROJECT_PATH:-project}-${CI_PIPELINE_ID:-pipeline}-${CI_JOB_NAME:-job}-${AIRLOCK_ENVIRONMENT}"
fi
[[ -n "$key" ]] && args+=(--idempotency-key "${key//[^A-Za-z0-9._\/-]/-}")
while IFS= read -r line; do
  [[ -n "${line// /}" ]] && args+=(--metadata "$line")
done <<<"${AIRLOCK_METADATA:-}"

"${cli[@]}" "${args[@]}" >"$result"
code=$?

if [[ -s "$result" ]] && command -v node >/dev/null; then
  fields=$(node -e '
    const p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const digest = (p.artifact || "").split("@")[1] || "";
    console.log([p.id || "", p.status || "", digest].join(" "));
  ' "$result" 2>/dev/null) || fields=""
  read -r id status digest <<<"$fields"
  echo "airlock: promotion ${id:-?} ${status:-?} (exit $code)" >&2
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    { echo "promotion-id=${id:-}"; echo "status=${status:-}"; echo "digest=${digest:-}"; } >>"$GITHUB_OUTPUT"
  fi
fi
exit "$code"
