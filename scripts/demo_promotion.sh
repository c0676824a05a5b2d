#!/usr/bin/env bash
# The README's staging -> prod demo, end to end, on a throw-away local registry.
#
#   bash scripts/demo_promotion.sh
#
# Needs gate on PATH (the project's venv), docker-registry and skopeo
# (Debian/Ubuntu: apt-get install docker-registry skopeo). Everything stays on 127.0.0.1:
# the registry listens on a free loopback port (or $DEMO_PORT), stores in a temp dir, and is
# stopped and removed on exit. Exit 0 when every step did what the README says, else 1.
#
# The image is fixtures/oci/hello (scripts/make_demo_image.py), the reports about it are
# fixtures/demo/; they were made on 2024-10-14, so every step is judged --at that day.
set -euo pipefail

cd "$(dirname "$0")/.."
for tool in gate docker-registry skopeo python3; do
    command -v "$tool" >/dev/null || { echo "demo: $tool is not installed" >&2; exit 1; }
done

port="${DEMO_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
[[ "$port" =~ ^[0-9]+$ ]] || { echo "demo: DEMO_PORT must be a port number" >&2; exit 1; }
work="$(mktemp -d)"
registry_pid=""
cleanup() {
    if [[ -n "$registry_pid" ]]; then
        kill "$registry_pid" 2>/dev/null || true
        wait "$registry_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/config.yml" <<EOF
version: 0.1
log: {level: info, accesslog: {disabled: true}}
storage:
  filesystem: {rootdirectory: $work/data}
  maintenance: {uploadpurging: {enabled: false}}
http: {addr: "127.0.0.1:$port", secret: gate-demo-only}
EOF
: >"$work/registry.log"
docker-registry serve "$work/config.yml" >>"$work/registry.log" 2>&1 &
registry_pid=$!
# Ready when the registry itself says it listens: a connection alone could reach whatever
# else holds the port (the registry then exits: address already in use).
for waited in $(seq 200) never; do
    grep -q "listening on 127.0.0.1:$port" "$work/registry.log" && break
    if [[ "$waited" == never ]] || ! kill -0 "$registry_pid" 2>/dev/null; then
        echo "demo: the registry did not start on 127.0.0.1:$port" >&2
        cat "$work/registry.log" >&2
        exit 1
    fi
    sleep 0.1
done

image="127.0.0.1:$port/acme/hello"
reports=(fixtures/demo/hello.grype.json fixtures/demo/hello.syft.json
    fixtures/demo/hello.slsa.json fixtures/demo/hello.cosign.json)
sign=(--sign-key fixtures/keys/release.key)
trust=(--trust-key fixtures/keys/release.pub)

step() { printf '\n### %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; }
# run EXPECTED COMMAND...: show the command, run it, and stop the demo unless it exits EXPECTED
run() {
    local expected=$1 code=0
    shift
    show "$@"
    "$@" || code=$?
    if [[ "$code" != "$expected" ]]; then
        echo "demo: expected exit $expected, got $code" >&2
        exit 1
    fi
}
digest_of() { skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$image:$1"; }

step "push the image (same manifest bytes as the layout: the digest the reports name)"
run 0 skopeo copy --quiet --dest-tls-verify=false --preserve-digests \
    oci:fixtures/oci/hello:1.0.0 "docker://$image:1.0.0"
digest="$(digest_of 1.0.0)"
echo "$image:1.0.0 is $digest"

step "dev: gate the image read from the registry; attach the signed verdict to its digest"
run 0 gate check "registry://$image:1.0.0" "${reports[@]}" --stage dev --attach "${sign[@]}" \
    "${trust[@]}" --at 2024-10-14T12:00:00Z

step "prod before staging is refused: no staging verdict of this digest (exit 1, no tag written)"
run 1 gate promote "${reports[@]}" --image "registry://$image:1.0.0" --to 1.0.0-prod \
    --stage prod "${sign[@]}" "${trust[@]}" --at 2024-10-14T12:30:00Z
if digest_of 1.0.0-prod >/dev/null 2>&1; then
    echo "demo: a refused promotion wrote 1.0.0-prod" >&2
    exit 1
fi

step "staging: promote 1.0.0 to 1.0.0-staging"
run 0 gate promote "${reports[@]}" --image "registry://$image:1.0.0" --to 1.0.0-staging \
    --stage staging "${sign[@]}" "${trust[@]}" --at 2024-10-14T13:00:00Z

step "prod: promote 1.0.0-staging to 1.0.0-prod, 1.0 and 1 (needs the signed staging verdict)"
run 0 gate promote "${reports[@]}" --image "registry://$image:1.0.0-staging" \
    --to 1.0.0-prod --to 1.0 --to 1 --stage prod "${sign[@]}" "${trust[@]}" \
    --at 2024-10-14T14:00:00Z

step "every tag is the gated digest"
for tag in 1.0.0-staging 1.0.0-prod 1.0 1; do
    show skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$image:$tag"
    found="$(digest_of "$tag")"
    echo "$found"
    [[ "$found" == "$digest" ]] || { echo "demo: $tag is $found, not $digest" >&2; exit 1; }
done

step "the verdicts attached to the digest, signatures checked"
run 0 gate verdicts "registry://$image:1.0.0-prod" "${trust[@]}"

step "a staging verdict signed by a key prod does not trust does not count (exit 1)"
run 1 gate promote "${reports[@]}" --image "registry://$image:1.0.0-staging" --to 1.0.0-prod \
    --stage prod "${sign[@]}" --trust-key fixtures/keys/other.pub --at 2024-10-14T14:00:00Z

printf '\ndemo: every step did what the README says\n'
