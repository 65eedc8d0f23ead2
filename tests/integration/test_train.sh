#!/bin/sh
# statecast train end to end: the untrained model, a short run on synthetic
# plus EVAL.md data, an interrupted run resumed from its checkpoint equal to
# the straight one (same model file bytes), and the trained model scored by
# statecast eval; also models/default.model loads and runs in eval.
set -u
cd "$(dirname "$0")/../.."
BIN=${STATECAST:-build/statecast}
DATA=bench/data/public
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); printf 'ok   %s\n' "$1"; }
bad() { fail=$((fail + 1)); printf 'FAIL %s\n' "$1"; }
small="--batch 8 --chunk 16 --max-len 200 --d-model 8 --n-state 4 --log-every 2"

if "$BIN" train --init-only --out "$tmp/u.model" >"$tmp/u.log" 2>&1 &&
	[ -s "$tmp/u.model" ]; then
	ok "train --init-only writes the untrained model"
else
	bad "train --init-only"; cat "$tmp/u.log"
fi

if "$BIN" train $small --steps 6 --data "$DATA" --out "$tmp/a.model" \
	>"$tmp/a.log" 2>&1 && grep -q 'train: step 6/6' "$tmp/a.log"; then
	ok "train runs on synthetic + EVAL.md data and logs progress"
else
	bad "train runs"; cat "$tmp/a.log"
fi

"$BIN" train $small --steps 6 --stop-after 3 --data "$DATA" \
	--checkpoint "$tmp/c.ckpt" --out "$tmp/b3.model" >"$tmp/b.log" 2>&1
if "$BIN" train --resume "$tmp/c.ckpt" --data "$DATA" \
	--out "$tmp/b.model" >>"$tmp/b.log" 2>&1 &&
	cmp -s "$tmp/a.model" "$tmp/b.model"; then
	ok "a run resumed from its checkpoint equals the straight run"
else
	bad "resume is bit-exact"; cat "$tmp/b.log"
fi

if "$BIN" eval --data "$DATA" --no-timing --model "$tmp/a.model" \
	>"$tmp/e.log" 2>&1 && grep -q 'method model: 22 series' "$tmp/e.log"; then
	ok "eval scores the trained model on 22 series"
else
	bad "eval --model"; cat "$tmp/e.log"
fi

if [ -f models/default.model ] &&
	"$BIN" eval --data "$DATA" --no-timing --model models/default.model \
		>"$tmp/d.log" 2>&1 && grep -q 'method model: 22 series' "$tmp/d.log"; then
	ok "models/default.model loads and forecasts"
else
	bad "models/default.model"; cat "$tmp/d.log" 2>/dev/null
fi

if "$BIN" train --out "$tmp/x.model" --bogus >/dev/null 2>&1; then
	bad "unknown options are refused"
else
	ok "unknown options are refused"
fi
printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" -eq 0 ]
