#!/usr/bin/env bash
# THE run command: installs what is missing, builds a Release livebuyd into build/, starts a private MariaDB in
# .data/mariadb (kept between runs), migrates, loads the demo data, prints URLs and demo tokens, then runs livebuyd
# in the foreground (Ctrl-C stops it; MariaDB keeps running: scripts/mariadb.sh stop .data/mariadb). The demo runs
# with the payment sandbox (a cashier at /pay/{order_id}; refunds pushed to the sandbox's own receiver), never for
# production: LIVEBUY_PAYMENT_SANDBOX=0 turns it off.
# Usage: scripts/run.sh [livebuyd options...]
# Environment (defaults in brackets): LIVEBUY_LISTEN [127.0.0.1:8080], LIVEBUY_ADMIN_TOKEN [livebuy-demo-admin],
#   LIVEBUY_BUYER_SECRET, LIVEBUY_PAYMENT_SECRET, LIVEBUY_SHIPPING_SECRET [livebuy-demo-*-secret],
#   LIVEBUY_PAYMENT_SANDBOX [1], LIVEBUY_REFUND_URL [the sandbox's receiver, http://LISTEN/sandbox/refunds, while the
#   sandbox is on], LIVEBUY_DB [the private MariaDB's socket]; with LIVEBUY_DB set, no private MariaDB is started and the database
#   named there is used (created if missing, demo data loaded into it). Any other LIVEBUY_* setting passes through.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# Percent-encodes everything but unreserved characters and '/', for a path inside a URL.
urlencode_path() {
    local LC_ALL=C s=$1 out="" c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
            [A-Za-z0-9/._~-]) out+=$c ;;
            *) out+=$(printf '%%%02X' "'$c") ;;
        esac
    done
    printf '%s' "$out"
}

urldecode() {
    local s=${1//\\/\\\\}
    printf '%b' "${s//%/\\x}"
}

# 1. Packages and build.
bash scripts/deps.sh openssl
say "building Release into build/"
build_into build -DCMAKE_BUILD_TYPE=Release

# 2. Settings: environment overrides, else demo defaults. Exported so livebuyd reads them (flags given to this
#    script still win), and so secrets stay out of the process list.
export LIVEBUY_LISTEN=${LIVEBUY_LISTEN:-127.0.0.1:8080}
export LIVEBUY_ADMIN_TOKEN=${LIVEBUY_ADMIN_TOKEN:-livebuy-demo-admin}
export LIVEBUY_BUYER_SECRET=${LIVEBUY_BUYER_SECRET:-livebuy-demo-buyer-secret}
export LIVEBUY_PAYMENT_SECRET=${LIVEBUY_PAYMENT_SECRET:-livebuy-demo-payment-secret}
export LIVEBUY_SHIPPING_SECRET=${LIVEBUY_SHIPPING_SECRET:-livebuy-demo-shipping-secret}
export LIVEBUY_PAYMENT_SANDBOX=${LIVEBUY_PAYMENT_SANDBOX:-1}
# The product photos' files: the demo's own folder, beside its private MariaDB (a flag to this script still wins).
export LIVEBUY_MEDIA_DIR=${LIVEBUY_MEDIA_DIR:-$root/.data/media}
unset LIVEBUY_MIGRATE_ONLY

# The same settings given as flags to this script, for the printed URLs and the minted buyer token.
listen=$LIVEBUY_LISTEN admin_token=$LIVEBUY_ADMIN_TOKEN buyer_secret=$LIVEBUY_BUYER_SECRET tls=${LIVEBUY_TLS_CERT:-}
sandbox=$LIVEBUY_PAYMENT_SANDBOX
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    a=${args[i]} next=${args[i + 1]:-}
    case $a in
        --listen=*) listen=${a#*=} ;;
        --listen) listen=$next ;;
        --admin-token=*) admin_token=${a#*=} ;;
        --admin-token) admin_token=$next ;;
        --buyer-secret=*) buyer_secret=${a#*=} ;;
        --buyer-secret) buyer_secret=$next ;;
        --tls-cert=*) tls=${a#*=} ;;
        --tls-cert) tls=$next ;;
        --payment-sandbox) sandbox=1 ;;
        --db=*) export LIVEBUY_DB=${a#*=} ;;
        --db) export LIVEBUY_DB=$next ;;
        --help | -h) exec build/livebuyd --help ;;
    esac
done

# 3. The database: the private MariaDB unless LIVEBUY_DB names another one.
mariadb_dir=$root/.data/mariadb
client=()
if [ -z "${LIVEBUY_DB:-}" ]; then
    scripts/mariadb.sh start "$mariadb_dir"
    private=1
    db_name=livebuy
    LIVEBUY_DB="mysql://root@localhost/$db_name?socket=$(urlencode_path "$mariadb_dir/mysqld.sock")"
    export LIVEBUY_DB
    client=(mariadb --no-defaults --socket="$mariadb_dir/mysqld.sock" --user=root)
else
    private=0
    # mysql://USER[:PASS]@HOST[:PORT]/DB[?socket=PATH]
    re='^mysql://([^:@/]+)(:([^@]*))?@([^:/]+)(:([0-9]+))?/([^?]+)(\?socket=(.+))?$'
    [[ $LIVEBUY_DB =~ $re ]] || die "LIVEBUY_DB must look like mysql://USER[:PASS]@HOST[:PORT]/DB[?socket=PATH]"
    db_name=$(urldecode "${BASH_REMATCH[7]}")
    client=(mariadb --no-defaults --user="$(urldecode "${BASH_REMATCH[1]}")" --host="${BASH_REMATCH[4]}")
    [ -z "${BASH_REMATCH[6]}" ] || client+=(--port="${BASH_REMATCH[6]}" --protocol=TCP)
    [ -z "${BASH_REMATCH[9]}" ] || client+=(--socket="$(urldecode "${BASH_REMATCH[9]}")")
    # The client takes the password from MYSQL_PWD, keeping it out of the process list.
    if [ -n "${BASH_REMATCH[2]}" ]; then
        MYSQL_PWD=$(urldecode "${BASH_REMATCH[3]}")
        export MYSQL_PWD
    fi
    say "using the database in LIVEBUY_DB (no private MariaDB)"
fi
client+=(--default-character-set=utf8mb4)

[[ $db_name =~ ^[A-Za-z0-9_]+$ ]] || die "database name \"$db_name\" is not a plain identifier"
"${client[@]}" -e "CREATE DATABASE IF NOT EXISTS \`$db_name\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" ||
    die "could not create database $db_name"
say "applying migrations from sql/"
build/livebuyd --migrate-only "$@" || die "migration failed (build/livebuyd --migrate-only)"
say "loading demo data (scripts/demo.sql)"
"${client[@]}" "$db_name" <scripts/demo.sql || die "loading scripts/demo.sql failed"
unset MYSQL_PWD

# 4. A demo buyer token: b1.USER_ID.EXPIRY.SIG, SIG = hex HMAC-SHA256 of "b1.USER_ID.EXPIRY" under the buyer secret.
buyer_payload="b1.1001.$(($(date +%s) + 30 * 86400))"
buyer_sig=$(printf '%s' "$buyer_payload" | openssl dgst -sha256 -hmac "$buyer_secret" | awk '{print tolower($NF)}')
[[ $buyer_sig =~ ^[0-9a-f]{64}$ ]] || die "could not sign the demo buyer token with openssl"
buyer_token=$buyer_payload.$buyer_sig

# 5. What to open, what to paste.
host=${listen%:*} port=${listen##*:}
case $host in
    '' | 0.0.0.0 | '*') host=127.0.0.1 ;;
    '[::]' | '::') host='[::1]' ;;
esac
scheme=http curl_opts="--http2-prior-knowledge"
if [ -n "$tls" ]; then
    scheme=https curl_opts="--http2 -k"
fi
base="$scheme://$host:$port"

# 6. The sandbox's refund receiver takes the demo's refunds (livebuyd pushes them to itself), unless a refund URL is
#    set. A push to https would check the demo's certificate, so with TLS the refunds wait (pending) instead.
refund_note=""
if [ "$sandbox" = 1 ] && [ -z "${LIVEBUY_REFUND_URL:-}" ] && [[ " $* " != *" --refund-url"* ]]; then
    if [ -z "$tls" ]; then
        export LIVEBUY_REFUND_URL="http://$host:$port/sandbox/refunds"
        refund_note="refunds    pushed to $LIVEBUY_REFUND_URL (the sandbox's receiver: every refund goes back)"
    else
        refund_note="refunds    wait, pending (with TLS the sandbox's receiver is not used: set LIVEBUY_REFUND_URL)"
    fi
fi

cat >&2 <<EOF

livebuy: ready to serve on $base
  health     $base/healthz
  readiness  $base/readyz
  metrics    $base/metrics
  SKU        $base/v1/skus/1
  live       $base/v1/lives/1
  shop page  $base/shop/1
  co-op page $base/coop
  host page  $base/host        (the host console, phone first)
  overlay    $base/overlay/1   (an OBS browser source: transparent)
  group-buy  $base/group/1     (the villagers' page; $base/group/2 closes ten minutes after loading)
  photo      $base/media/...    (each product's photos: GET $base/v1/products/1 gives their URLs)
  station    $base/station     (the village station keeper's page: pick lists, 领取)

EOF
if [ "$sandbox" = 1 ]; then
    cat >&2 <<EOF
livebuy: the payment sandbox is on (a demo: buyers pay without paying; LIVEBUY_PAYMENT_SANDBOX=0 turns it off)
  cashier    $base/pay/{order_id}   (the shop's 我的订单 -> 去付款 leads there)
  ${refund_note:-refunds    pushed to ${LIVEBUY_REFUND_URL:-the --refund-url given}}

EOF
fi
cat >&2 <<EOF
livebuy: demo tokens (Authorization: Bearer ...)
  admin    $admin_token
  co-op    livebuy-demo-coop-token      (merchant 1, 武乡县岭头小米专业合作社)
  host     livebuy-demo-host-token      (merchant 2, 长治直播间)
  shipper  livebuy-demo-shipper-token   (merchant 3)
  station  livebuy-demo-station-token   (merchant 4, 岭头村村级服务站)
  buyer    $buyer_token   (user 1001, 30 days)

livebuy: try
  curl $curl_opts -sS -H 'Authorization: Bearer $buyer_token' $base/v1/skus/1
  curl $curl_opts -sS -H 'Authorization: Bearer $buyer_token' $base/v1/orders      (the buyer's orders)
  the tour: open the shop page as the buyer ($base/shop/1?token=$buyer_token),
            buy, 我的订单 -> 去付款, 确认支付 in the cashier, back in the shop 申请退款 -> 已退款
  the group-buy: join $base/group/2?token=$buyer_token with 2 bags and pay; past its cut-off it succeeds and
            its shipment goes to the station; say it was delivered (a signed shipping event):
            s=SHIPMENT_ID; body="{\\"shipment_id\\":\$s,\\"type\\":\\"delivered\\",\\"tracking_no\\":\\"YZ1\\"}"; ts=\$(date +%s)
            sig=\$(printf '%s.%s' "\$ts" "\$body" | openssl dgst -sha256 -hmac "$LIVEBUY_SHIPPING_SECRET" | awk '{print \$NF}')
            curl $curl_opts -sS --json "\$body" -H "X-Livebuy-Timestamp: \$ts" -H "X-Livebuy-Signature: sha256=\$sig" \\
                $base/v1/shipments/\$s/events
            then $base/station as the station: 拣货单 -> 领取; the co-op's 团购 tab counts it collected

EOF
if [ "$private" = 1 ]; then
    say "Ctrl-C stops livebuyd; MariaDB keeps running. Stop it with: scripts/mariadb.sh stop .data/mariadb (in $root)"
else
    say "Ctrl-C stops livebuyd"
fi
say "starting build/livebuyd $*"
build/livebuyd "$@" &
server=$!
trap 'kill -TERM $server 2>/dev/null' INT TERM

# 7. The demo products' photos (scripts/demo-photos.py draws them), through the real upload route once livebuyd
#    answers, as the co-op: the same bytes again are the photo it has, so a second run adds nothing.
for _ in $(seq 100); do
    curl $curl_opts -sS -o /dev/null "$base/healthz" 2>/dev/null && break
    kill -0 $server 2>/dev/null || break
    sleep 0.1
done
while read -r product path; do
    url=$(curl $curl_opts -sS -H 'Authorization: Bearer livebuy-demo-coop-token' -H 'Content-Type: image/png' \
        --data-binary "@$path" "$base/v1/products/$product/images" | sed -n 's/.*"url":"\([^"]*\)".*/\1/p')
    [ -n "$url" ] && say "photo of product $product: $base$url" || say "could not upload the photo of product $product"
done < <(python3 scripts/demo-photos.py "$root/.data/demo-photos")
wait $server || wait $server
