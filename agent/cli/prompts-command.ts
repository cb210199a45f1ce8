/**
 * `hotdesk prompts list` and `hotdesk prompts export`: the voice prompts the
 * agent speaks on the hot-desk line (docs/voice.md), as the prompt
 * library loads them (the site's recordings in `<data>/prompts/<lang>/`
 * first, then the shipped audio, then English), and the same audio written
 * out for a PBX that plays the prompts itself (docs/pbx.md):
 *
 * - Asterisk: `DIR/<lang>/hotdesk/hotdesk-<id>.wav`, so with
 *   `DIR = /var/lib/asterisk/sounds` the dialplan's
 *   `Playback(hotdesk/hotdesk-<id>)` finds it in the caller's language;
 * - FreeSWITCH: `DIR/<lang>/hotdesk/8000/hotdesk-<id>.wav`: mod_sndfile looks
 *   for `<dir>/<rate>/<file>` before `<dir>/<file>`, so a script playing
 *   `DIR/<lang>/hotdesk/hotdesk-<id>.wav` on a G.711 call gets it.
 *
 * File names are the `audio` names the PBX endpoint answers (core/prompts.ts,
 * `hotdesk-<id>`); `hotdesk-error` (the snippets' "service not available")
 * is the `unavailable` prompt. Every file is 8000 Hz mono 16-bit PCM WAV.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { VOICE_PROMPT_IDS } from '../core/voice-prompts.js';
import { buildWav } from '../protocols/wav.js';
import type { Logger, LogFields } from '../shell/logger.js';
import { loadPromptTexts, PromptLibrary, shippedLanguages } from '../shell/voice/prompt-library.js';
import {
  COMMON_HELP,
  EXIT,
  JSON_OPTION,
  UsageError,
  dataDir,
  defineCommand,
  optFlag,
  optString,
  printJson,
  type Command,
  type Io,
  type Parsed,
} from './cli-kit.js';
import { formatTable } from './table.js';

const help = `Usage: hotdesk prompts list [--lang LANG] [--json] [--data DIR]
       hotdesk prompts export --format asterisk|freeswitch [--lang LANG] [--data DIR] DIR

The voice prompts the agent speaks on the hot-desk line. Each prompt is the
site's own recording <data>/prompts/<lang>/<id>.wav when there is a valid one
(8000 Hz mono WAV: 16-bit PCM, mu-law or A-law), else the shipped audio, else
the English prompt. A recording in another format is refused with a warning.

list    every prompt id with its source (shipped, override, or English
        fallback), its length and its wording
export  write the prompts as 8000 Hz 16-bit PCM WAV files for a PBX that
        plays them itself:
          asterisk    DIR/<lang>/hotdesk/hotdesk-<id>.wav
                      (DIR = /var/lib/asterisk/sounds: Playback(hotdesk/hotdesk-<id>))
          freeswitch  DIR/<lang>/hotdesk/8000/hotdesk-<id>.wav
        plus hotdesk-error.wav (the "service not available" prompt)

Options:
  --lang LANG    one language (en, nl, de, or one the site recorded itself);
                 default: every shipped language
  --format FMT   export layout: asterisk or freeswitch
  --json         print JSON (list: the prompts; export: the files written)
${COMMON_HELP}

Examples:
  hotdesk prompts list --lang nl
  hotdesk prompts export --format asterisk /var/lib/asterisk/sounds
`;

const OPTIONS = { ...JSON_OPTION, lang: { type: 'string' }, format: { type: 'string' } } as const;

type ExportFormat = 'asterisk' | 'freeswitch';

/** Where `hotdesk-<name>.wav` goes for `format` and `lang` under `dir`. */
export function exportPath(format: ExportFormat, dir: string, lang: string, name: string): string {
  const base = join(dir, lang, 'hotdesk');
  return join(format === 'asterisk' ? base : join(base, '8000'), `hotdesk-${name}.wav`);
}

/** Warnings of the prompt library (refused recordings) on standard error. */
function stderrLogger(io: Io): Logger {
  const line = (level: string) => (msg: string, fields?: LogFields) => {
    const extra = Object.entries(fields ?? {})
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    io.err(`hotdesk prompts: ${level}: ${msg}${extra === '' ? '' : ` (${extra})`}`);
  };
  const quiet = (): void => {};
  return { debug: quiet, info: quiet, warn: line('warning'), error: line('error') };
}

async function languagesOf(p: Parsed): Promise<string[]> {
  const lang = optString(p, 'lang');
  if (lang !== undefined) {
    if (!/^[a-z]{2,3}$/.test(lang)) throw new UsageError(`--lang must be a language code like en, nl or de (got '${lang}')`);
    return [lang];
  }
  return shippedLanguages();
}

async function libraries(p: Parsed, io: Io): Promise<PromptLibrary[]> {
  const data = dataDir(p, io);
  const log = stderrLogger(io);
  const out: PromptLibrary[] = [];
  for (const language of await languagesOf(p)) out.push(await PromptLibrary.load({ language, dataDir: data, log }));
  return out;
}

async function list(p: Parsed, io: Io): Promise<number> {
  if (optString(p, 'format') !== undefined) throw new UsageError('--format is for export');
  const texts = await loadPromptTexts();
  const rows = (await libraries(p, io)).flatMap((lib) =>
    lib.sources().map((s) => ({
      lang: lib.language,
      id: s.id,
      source: s.origin === 'override' ? 'override' : s.language === lib.language ? 'shipped' : `shipped (${s.language})`,
      durationMs: s.durationMs,
      text: s.origin === 'override' ? null : (texts[s.id]?.[s.language] ?? null),
      file: s.file,
    })),
  );
  if (optFlag(p, 'json')) printJson(io, rows);
  else {
    const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
    io.out(
      formatTable(
        ['lang', 'id', 'source', 'length', 'text'],
        rows.map((r) => [r.lang, r.id, r.source, secs(r.durationMs), r.text ?? '(site recording)']),
      ),
    );
  }
  return EXIT.ok;
}

async function exportPrompts(p: Parsed, io: Io, target: string | undefined): Promise<number> {
  const format = optString(p, 'format');
  if (format !== 'asterisk' && format !== 'freeswitch') {
    throw new UsageError(format === undefined ? '--format is required (asterisk or freeswitch)' : `--format must be asterisk or freeswitch (got '${format}')`);
  }
  if (target === undefined || target === '') throw new UsageError('missing DIR');
  const dir = resolve(io.cwd, target);
  const written: string[] = [];
  for (const lib of await libraries(p, io)) {
    const files: [string, Int16Array][] = VOICE_PROMPT_IDS.map((id) => [id, lib.get(id)]);
    files.push(['error', lib.get('unavailable')]);
    for (const [name, samples] of files) {
      const file = exportPath(format, dir, lib.language, name);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, buildWav(samples));
      written.push(file);
    }
    if (!optFlag(p, 'json')) io.out(`${lib.language}: ${files.length} files in ${dirname(exportPath(format, dir, lib.language, 'error'))}\n`);
  }
  if (optFlag(p, 'json')) printJson(io, { format, files: written });
  return EXIT.ok;
}

/** `hotdesk prompts`. */
export const promptsCommand: Command = defineCommand(
  { name: 'prompts', help, options: OPTIONS, positionals: { min: 1, max: 2, what: 'action (list or export)' } },
  async (p, io) => {
    const [action, target] = p.positionals;
    if (action === 'list') {
      if (target !== undefined) throw new UsageError(`unexpected argument '${target}'`);
      return list(p, io);
    }
    if (action === 'export') return exportPrompts(p, io, target);
    throw new UsageError(`unknown action '${action ?? ''}' (list or export)`);
  },
);
