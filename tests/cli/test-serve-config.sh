#!/bin/sh
# barra serve --check-config and --new-token: every configuration error is named with its place.
. "$(dirname "$0")/lib.sh" "$@"
ROOT=${BARRA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}

good() {
    cat <<YAML
listen: 127.0.0.1:0
policy: $ROOT/rules/policies/general.yaml
tokens:
  - name: app
    sha256: c1392bc0ba9d650f106ab2270f7374b8852c51f515897dbe4ea22ccdb25ad6bf
    scopes: [events, consents:read]
routes:
  local-vault: {type: vault}
YAML
}

good >"$T/good.yaml"
expect_status 0 "$BARRA" serve --config "$T/good.yaml" --check-config
expect_grep "$T/out" 'ok \(policy "general-office", 7 rules; 1 tokens; 1 routes\)'

# Each broken variant: the exit status is 2 and the message names the line and the problem.
bad() { # NAME SED-EXPRESSION PATTERN
    good | sed "$2" >"$T/$1.yaml"
    expect_status 2 "$BARRA" serve --config "$T/$1.yaml" --check-config
    expect_grep "$T/err" "$3"
}
bad unknown-key 's/^listen:/lisen:/' ':1:1: unknown key "lisen" in the configuration'
bad bad-listen 's/^listen: .*/listen: localhost/' ':1:9: listen is HOST:PORT'
bad short-hash 's/sha256: c139/sha256: c13/' ':5:13: a token.s sha256 is 64'
bad bad-scope 's/consents:read/consent/' ':6:22: unknown scope "consent"'
bad bad-route-type 's/type: vault/type: ftp/' "a route's type is vault or webdav"
bad no-route 's/local-vault:/other:/' 'routes content to "local-vault", which the configuration'
bad no-policy '/^policy:/d' 'the configuration needs a policy'
bad bad-size 's/^listen: .*/&\nlimits: {max_body: 10 MB}/' 'max_body must be a whole number of bytes'
bad tiny-burst 's/^listen: .*/&\nlimits: {rate: 1000, burst: 1}/' 'burst \(1\) should hold'
good | sed 's/^routes:/routes:\n  nas: {type: webdav, url: "http:\/\/dav.example\/files"}/' >"$T/dav.yaml"
expect_status 2 "$BARRA" serve --config "$T/dav.yaml" --check-config
expect_grep "$T/err" "names a folder and ends with '/'"
# The DingTalk connector: each part that calls DingTalk needs the app's secret; limits are DingTalk's.
printf 'dingclient\n' >"$T/dt-secret"
dingtalk() { # NAME YAML-LINES PATTERN
    { good; printf 'connectors:\n  dingtalk:\n    client_id: dingclient0001\n%s\n' "$2"; } >"$T/$1.yaml"
    expect_status 2 "$BARRA" serve --config "$T/$1.yaml" --check-config
    expect_grep "$T/err" "$3"
}
dingtalk dt-no-secret '    stream: true' 'give client_secret_file'
dingtalk dt-half-push "    token_file: $T/dt-secret" 'HTTP push needs both token_file and aes_key_file'
dingtalk dt-fast-alerts "    alerts: {webhook_file: $T/dt-secret, secret_file: $T/dt-secret}" 'the robot webhook is an https:// URL'
dingtalk dt-page "    client_secret_file: $T/dt-secret
    file_audit: {page_size: 501}" 'page_size'
dingtalk dt-approval "    client_secret_file: $T/dt-secret
    approval: {process_code: PROC-1}" 'approval needs process_code'
{ good; printf 'connectors:\n  dingtalk:\n    client_id: dingclient0001\n    client_secret_file: %s\n    stream: true\n' "$T/dt-secret"; } >"$T/dt-good.yaml"
expect_status 0 "$BARRA" serve --config "$T/dt-good.yaml" --check-config
# The activity monitor: its rules are loaded by --check-config; its alert destinations checked.
monitor() { # NAME YAML-LINES STATUS PATTERN
    { good; printf 'monitor:\n%s\n' "$2"; } >"$T/$1.yaml"
    expect_status "$3" "$BARRA" serve --config "$T/$1.yaml" --check-config
    if [ "$3" = 0 ]; then expect_grep "$T/out" "$4"; else expect_grep "$T/err" "$4"; fi
}
monitor mon-good "  rules: $ROOT/rules/monitor" 0 'monitor: 22 rules\)'
mkdir -p "$T/bad-rules"
printf 'title: t\nid: x\ndetection:\n  s:\n    user: bob\n  condition: s\n' >"$T/bad-rules/r.yml"
monitor mon-bad-rule "  rules: $T/bad-rules" 2 'r.yml:5:5: unknown field "user"'
monitor mon-key "  rules: $ROOT/rules/monitor
  window: 5" 2 'unknown key "window"'
monitor mon-hook "  rules: $ROOT/rules/monitor
  alerts: {webhook: {url: 'http://hooks.example/x', secret_file: $T/dt-secret}}" 2 'https://HOST URL'
monitor mon-mail "  rules: $ROOT/rules/monitor
  alerts: {email: {url: 'smtps://mail.example:465', from: barra, to: [dpo@example.mo]}}" 2 'from is a plain e-mail address'
expect_status 2 "$BARRA" serve --config "$T/missing.yaml" --check-config
expect_grep "$T/err" 'missing.yaml'
expect_status 2 "$BARRA" serve --config "$T/good.yaml" stray
expect_grep "$T/err" 'unexpected argument "stray"'

# Tokens: printed once, and only their hash goes into the configuration.
expect_status 0 "$BARRA" serve --new-token ci --scopes events,metrics
expect_grep "$T/out" '^token: barra_[0-9a-f]{64}$'
token=$(sed -n 's/^token: //p' "$T/out")
hash=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
expect_grep "$T/out" "sha256: $hash"
expect_grep "$T/out" 'scopes: \[events, metrics\]'
expect_status 2 "$BARRA" serve --new-token ci --scopes events,everything
expect_grep "$T/err" 'unknown scope "everything"'
expect_status 0 "$BARRA" serve --help
expect_grep "$T/out" 'SIGHUP reloads the policy'

# The documentation keeps up with the code: every endpoint the server routes is in the OpenAPI file,
# every configuration key in docs/serve.md.
checks=$((checks + 1))
python3 - "$ROOT" <<'PY' >"$T/docs" 2>&1 || fail "docs: $(cat "$T/docs")"
import re, sys
root = sys.argv[1]
http = open(root + "/src/server/http.c").read()
api = open(root + "/docs/openapi.yaml").read()
missing = []
for method, path in re.findall(r'\{"(GET|POST)", "([^"]+)", (?:true|false)', http):
    want = path if path == "/" else path.rstrip("/") + ("/{" if path.endswith("/") else ":")
    if ("\n  " + want) not in api:
        missing.append(method + " " + path)
for code, doc in (("gw-config.c", "serve.md"), ("gw-config-dingtalk.c", "dingtalk.md")):
    conf = open(root + "/src/server/" + code).read()
    text = open(root + "/docs/" + doc).read()
    for block in re.findall(r'keys\[\] = \{([^}]*)\}', conf):
        for key in re.findall(r'"([a-z_]+)"', block):
            if not re.search(r'\b%s:' % key, text):
                missing.append("config key %s (docs/%s)" % (key, doc))
if missing:
    print("undocumented: " + ", ".join(missing))
    sys.exit(1)
PY
finish
