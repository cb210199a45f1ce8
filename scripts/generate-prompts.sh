#!/usr/bin/env bash
# Regenerates the shipped voice prompts prompts/<lang>/<id>.wav from the
# wording in prompts/texts.json, with espeak-ng (speech) and sox (format).
# Output: 8000 Hz, mono, 16-bit signed PCM WAV, normalised to -3 dBFS,
# leading and trailing silence trimmed, 100 ms of silence kept at the end.
# See docs/voice.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEXTS="$ROOT/prompts/texts.json"
OUT="$ROOT/prompts"
SPEED=150
LANGS=()
ONLY=()

usage() {
  cat <<'EOF'
Usage: scripts/generate-prompts.sh [--lang LANG]... [--only ID]... [--out DIR]
                                   [--texts FILE] [--speed WPM]

Speaks every prompt of prompts/texts.json with espeak-ng and writes
DIR/<lang>/<id>.wav (8000 Hz mono 16-bit PCM, normalised to -3 dBFS,
silence trimmed, 100 ms tail), the format the agent plays on the hot-desk
line and Asterisk/FreeSWITCH accept.

Options:
  --lang LANG   only this language (en, nl, de; repeatable; default: every
                language in the texts file)
  --only ID     only this prompt id (repeatable; default: every id)
  --out DIR     output directory (default: the repository's prompts/)
  --texts FILE  wording file (default: prompts/texts.json)
  --speed WPM   speaking rate in words per minute (default: 150)
  -h, --help    show this help

Needs espeak-ng, sox and node (apt-get install espeak-ng sox).
EOF
}

die() {
  echo "generate-prompts: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --lang) [ $# -ge 2 ] || die "--lang needs a value"; LANGS+=("$2"); shift 2 ;;
    --only) [ $# -ge 2 ] || die "--only needs a value"; ONLY+=("$2"); shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a value"; OUT="$2"; shift 2 ;;
    --texts) [ $# -ge 2 ] || die "--texts needs a value"; TEXTS="$2"; shift 2 ;;
    --speed) [ $# -ge 2 ] || die "--speed needs a value"; SPEED="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done

missing=()
for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] || die "${missing[*]} not found: install with 'apt-get install espeak-ng sox' (Debian/Ubuntu)"
command -v node >/dev/null 2>&1 || die "node not found (Node 20 runs the agent and reads the texts file)"
[ -f "$TEXTS" ] || die "no texts file at $TEXTS"
[[ "$SPEED" =~ ^[0-9]+$ ]] && [ "$SPEED" -ge 80 ] && [ "$SPEED" -le 450 ] || die "--speed must be 80..450"

# One "lang<TAB>id<TAB>text" line per prompt to speak, filtered by --lang/--only.
list="$(
  HD_LANGS="${LANGS[*]-}" HD_ONLY="${ONLY[*]-}" node -e '
    const fs = require("node:fs");
    const texts = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const langs = (process.env.HD_LANGS || "").split(" ").filter(Boolean);
    const only = (process.env.HD_ONLY || "").split(" ").filter(Boolean);
    const all = [...new Set(Object.values(texts).flatMap((t) => Object.keys(t)))];
    const fail = (m) => { process.stderr.write(`generate-prompts: ${m}\n`); process.exit(1); };
    for (const l of langs) if (!all.includes(l)) fail(`no texts for language ${l} (texts have: ${all.join(", ")})`);
    for (const id of only) if (!(id in texts)) fail(`unknown prompt id ${id}`);
    for (const [id, byLang] of Object.entries(texts)) {
      if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) fail(`bad prompt id ${JSON.stringify(id)}`);
      if (only.length > 0 && !only.includes(id)) continue;
      for (const [lang, text] of Object.entries(byLang)) {
        if (!/^[a-z]{2,3}$/.test(lang)) fail(`bad language ${JSON.stringify(lang)} for ${id}`);
        if (langs.length > 0 && !langs.includes(lang)) continue;
        const line = String(text).replace(/\s+/g, " ").trim();
        if (line === "") fail(`empty text for ${lang}/${id}`);
        console.log(`${lang}\t${id}\t${line}`);
      }
    }' "$TEXTS"
)"
[ -n "$list" ] || die "nothing to generate"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

count=0
while IFS=$'\t' read -r lang id text; do
  mkdir -p "$OUT/$lang"
  # espeak-ng: UTF-8 text on stdin (never parsed as options), 22050 Hz mono.
  printf '%s\n' "$text" | espeak-ng -v "$lang" -s "$SPEED" -b 1 --stdin -w "$tmp/raw.wav" ||
    die "espeak-ng failed for $lang/$id (is there a voice '$lang'? espeak-ng --voices)"
  # sox: trim leading and trailing silence, resample to 8 kHz, normalise to -3 dBFS,
  # add a 100 ms tail; -D: no dither, so regenerating gives the same bytes.
  sox -D -V1 "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$tmp/out.wav" \
    silence 1 0.01 -50d reverse silence 1 0.01 -50d reverse \
    rate -v 8000 norm -3 pad 0 0.1 ||
    die "sox failed for $lang/$id"
  mv "$tmp/out.wav" "$OUT/$lang/$id.wav"
  count=$((count + 1))
done <<<"$list"

echo "generate-prompts: wrote $count prompt(s) under $OUT"
