#!/usr/bin/env bash
# The audit log in a real PostgreSQL: installs Debian's PostgreSQL (and jq)
# when missing, starts a throwaway cluster in a temporary folder listening
# on 127.0.0.1 only, on a free port, loads the demo's log with the README's
# schema and COPY command, runs the README's four queries in SQL and checks
# that they answer what jq answers from the same log, checks that every line
# loaded byte for byte and that a record with a NUL byte loads, then stops
# and removes the cluster.
#
#   bash .ci/postgres.sh          # as root (CI), or as a user who can run initdb
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

install=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || install+=(postgresql)
command -v jq >/dev/null || install+=(jq)
if [ ${#install[@]} -gt 0 ]; then
	echo "postgres: installing ${install[*]} from Debian's packages"
	export DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1
	# The package would create and start a cluster of its own on port 5432;
	# this script needs none (ucf keeps this file when the package installs).
	mkdir -p /etc/postgresql-common
	[ -e /etc/postgresql-common/createcluster.conf ] || echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "${install[@]}" >/dev/null
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

# initdb refuses to run as root: the cluster belongs to postgres then.
tmp=$(mktemp -d)
as=()
if [ "$(id -u)" = 0 ]; then
	chown postgres: "$tmp"
	as=(runuser -u postgres --)
fi
cleanup() {
	"${as[@]}" "$bin/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

"${as[@]}" "$bin/initdb" -D "$tmp/data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
# A port nobody listens on; another process may take it first, so try a few.
started=
for _ in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 20000))
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
	if "${as[@]}" "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 start \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $tmp -c fsync=off" >/dev/null; then
		started=1
		break
	fi
done
if [ -z "$started" ]; then
	cat "$tmp/server.log" >&2
	exit 1
fi
echo "postgres: $("$bin/postgres" --version), cluster on 127.0.0.1:$port"
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres
psql() { command "$bin/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

# The README's commands.
log=$tmp/audit.ndjson
go run ./examples/fileserver >"$log" 2>/dev/null
psql -f testdata/postgres/schema.sql
psql -c "COPY audit_log (line) FROM STDIN WITH (FORMAT csv, QUOTE e'\x01', DELIMITER e'\x02')" <"$log"

fail=0
check() { # what, got, want
	if [ "$2" == "$3" ]; then
		echo "postgres: ok: $1"
	else
		echo "postgres: FAIL: $1"
		diff <(echo "$3") <(echo "$2") | sed 's/^/    /' || true
		fail=1
	fi
}

check "every line loaded, byte for byte" \
	"$(psql -At -c "SELECT line FROM audit_log ORDER BY id")" "$(cat "$log")"

# The README's queries, taken from it: each "go run ./examples/fileserver |
# jq ..." command, run on the same log, and the SQL block after the "In SQL"
# line that follows it. Answers are compared as JSON values (jq -S sorts
# keys: jsonb does not keep them in the order written).
mapfile -t jqs < <(sed -n 's/^go run \.\/examples\/fileserver | jq //p' README.md)
awk -v dir="$tmp" '
	/^```sql$/ && prev ~ /^In SQL/ { n++; out = dir "/q" n ".sql"; insql = 1; next }
	insql && /^```$/ { insql = 0; close(out); next }
	insql { print > out; next }
	NF { prev = $0 }
' README.md
if [ "${#jqs[@]}" != 4 ] || ! [ -f "$tmp/q4.sql" ] || [ -f "$tmp/q5.sql" ]; then
	echo "postgres: FAIL: want the README's four jq queries, each with its SQL (found ${#jqs[@]} jq)"
	exit 1
fi
for i in 1 2 3 4; do
	what=$(grep -B4 -F -- "${jqs[$i-1]}" README.md | grep -v '^```\|^$' | head -n 1)
	want=$(eval "jq ${jqs[$i-1]}" <"$log" | jq -S -c .)
	got=$(psql -At -f "$tmp/q$i.sql" | jq -S -c .)
	if [ -z "$want" ]; then
		echo "postgres: FAIL: query $i: jq found nothing"
		fail=1
	fi
	check "query $i, $what ($(echo "$want" | wc -l) lines)" "$got" "$want"
done

# A record with NUL bytes, as slog's JSONHandler writes it.
psql -c "COPY audit_log (line) FROM STDIN WITH (FORMAT csv, QUOTE e'\x01', DELIMITER e'\x02')" <testdata/postgres/nul.ndjson
check "a record with NUL bytes loads, its line byte for byte" \
	"$(psql -At -c "SELECT line FROM audit_log WHERE doc->>'event' = 'test.nul'")" "$(cat testdata/postgres/nul.ndjson)"
check "NUL reads as ␀ in doc, escaped backslashes stay" \
	"$(psql -At -F '|' -c "SELECT doc->>'name', doc->>'nuls', doc->>'text', doc->>'both', doc->>'path' FROM audit_log WHERE doc->>'event' = 'test.nul'")" \
	'a␀b|␀␀|\u0000 is six characters here|\␀|C:\temp\new'

[ "$fail" = 0 ]
echo "postgres: passed in $((SECONDS - start)) s"
