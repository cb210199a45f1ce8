/**
 * The voice prompts the agent speaks on the hot-desk line
 * (docs/voice.md), loaded once into memory as 8000 Hz 16-bit samples.
 *
 * Where each prompt comes from, first match wins:
 * 1. the site's recording `<data>/prompts/<language>/<id>.wav`;
 * 2. the shipped `prompts/<language>/<id>.wav` of the installed package;
 * 3. English: the site's `<data>/prompts/en/<id>.wav`, then the shipped one.
 *
 * A site recording must be 8000 Hz mono 16-bit PCM, μ-law or A-law WAV
 * (protocols/wav.ts); any other file is refused with a warning naming the file
 * and the reason, and the next source is used. Files in the override directory
 * that are not prompt ids are reported and ignored.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HotdeskError } from '../../core/errors.js';
import { VOICE_PROMPT_IDS, isVoicePromptId, type VoicePromptId } from '../../core/voice-prompts.js';
import { PROJECT_ROOT } from '../../paths.js';
import { durationMs, parseWav, PROMPT_RATE, type WavEncoding } from '../../protocols/wav.js';
import type { Logger } from '../logger.js';

/** The shipped prompts: `<dir>/<lang>/<id>.wav` and `<dir>/texts.json`. */
export const SHIPPED_PROMPTS_DIR: string = join(PROJECT_ROOT, 'prompts');

/** Silence between the parts of a {@link PromptLibrary.sequence} (150 ms). */
export const SEQUENCE_GAP_SAMPLES = (PROMPT_RATE * 150) / 1000;

/** Site recordings larger than this are refused (about 4 minutes of 16-bit audio). */
export const MAX_PROMPT_BYTES = 4 * 1024 * 1024;

/** Language every other one falls back to. */
export const FALLBACK_LANGUAGE = 'en';

const LANGUAGE_RE = /^[a-z]{2,3}$/;

/** Options of {@link PromptLibrary.load}. */
export interface PromptLibraryOptions {
  /** Site language (`en`, `nl`, `de`, or any other the site records itself); default `en`. */
  readonly language?: string;
  /** Data directory holding the site's recordings under `prompts/<language>/`; none: shipped prompts only. */
  readonly dataDir?: string;
  /** Where refused recordings are reported. */
  readonly log?: Logger;
  /** The shipped prompts (tests); default {@link SHIPPED_PROMPTS_DIR}. */
  readonly shippedDir?: string;
}

/** Where one prompt's audio came from. */
export interface PromptSource {
  readonly id: VoicePromptId;
  /** Language of the audio used (the site language, or English as fallback). */
  readonly language: string;
  readonly origin: 'shipped' | 'override';
  readonly file: string;
  readonly encoding: WavEncoding;
  readonly durationMs: number;
}

interface Loaded {
  readonly samples: ReadonlyMap<VoicePromptId, Int16Array>;
  readonly sources: readonly PromptSource[];
  /** Languages shipped in the package when the files were read. */
  readonly shipped: readonly string[];
}

/** What {@link readPrompt} found at one path. */
type ReadResult =
  | { readonly kind: 'ok'; readonly samples: Int16Array; readonly encoding: WavEncoding }
  | { readonly kind: 'missing' }
  | { readonly kind: 'bad'; readonly reason: string };

/** Reads and checks one WAV file. */
export async function readPrompt(file: string): Promise<ReadResult> {
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) return { kind: 'bad', reason: 'not a regular file' };
    size = st.size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'bad', reason: `cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  if (size > MAX_PROMPT_BYTES) return { kind: 'bad', reason: `${size} bytes, larger than ${MAX_PROMPT_BYTES}` };
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    return { kind: 'bad', reason: `cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  const parsed = parseWav(bytes);
  return parsed.ok ? { kind: 'ok', samples: parsed.samples, encoding: parsed.encoding } : { kind: 'bad', reason: parsed.error };
}

/** The languages shipped in `dir` (sub-directories holding WAV files), sorted. */
export async function shippedLanguages(dir: string = SHIPPED_PROMPTS_DIR): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of entries.sort()) {
    if (!LANGUAGE_RE.test(name)) continue;
    try {
      if ((await readdir(join(dir, name))).some((f) => f.endsWith('.wav'))) out.push(name);
    } catch {
      // not a directory
    }
  }
  return out;
}

/** The shipped wording, `{ id: { lang: text } }` (prompts/texts.json); empty when absent. */
export async function loadPromptTexts(dir: string = SHIPPED_PROMPTS_DIR): Promise<Record<string, Record<string, string>>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(dir, 'texts.json'), 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, Record<string, string>>) : {};
  } catch {
    return {};
  }
}

/** The voice prompts of one site language, in memory. */
export class PromptLibrary {
  private loaded: Loaded;

  private constructor(
    private readonly opts: Required<Pick<PromptLibraryOptions, 'language' | 'shippedDir'>> & PromptLibraryOptions,
    loaded: Loaded,
  ) {
    this.loaded = loaded;
  }

  /**
   * Loads every prompt for `language` (default `en`). Refused site
   * recordings are logged and replaced by the shipped audio. Throws
   * `bad-request` for a language that is not 2-3 lowercase letters and
   * `not-found` when a prompt has no usable audio at all (the shipped English
   * prompts are missing or damaged).
   */
  static async load(options: PromptLibraryOptions = {}): Promise<PromptLibrary> {
    const language = options.language ?? FALLBACK_LANGUAGE;
    if (!LANGUAGE_RE.test(language)) throw new HotdeskError('bad-request', `voice prompt language '${language}' is not 2-3 lowercase letters`);
    const opts = { ...options, language, shippedDir: options.shippedDir ?? SHIPPED_PROMPTS_DIR };
    const loaded = await loadAll(opts);
    if (!loaded.shipped.includes(language)) {
      options.log?.warn('no shipped voice prompts for this language: English where the site has no recording', { language });
    }
    return new PromptLibrary(opts, loaded);
  }

  /** The site language. */
  get language(): string {
    return this.opts.language;
  }

  /** The samples of one prompt (shared: do not modify). */
  get(id: VoicePromptId): Int16Array {
    const s = this.loaded.samples.get(id);
    if (s === undefined) throw new HotdeskError('not-found', `no voice prompt '${id}'`);
    return s;
  }

  /** The prompts `ids` one after the other, with {@link SEQUENCE_GAP_SAMPLES} of silence between parts. */
  sequence(ids: readonly VoicePromptId[]): Int16Array {
    const parts = ids.map((id) => this.get(id));
    const total = parts.reduce((n, p) => n + p.length, 0) + Math.max(0, parts.length - 1) * SEQUENCE_GAP_SAMPLES;
    const out = new Int16Array(total);
    let at = 0;
    for (const [i, p] of parts.entries()) {
      if (i > 0) at += SEQUENCE_GAP_SAMPLES;
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Where every prompt came from, in {@link VOICE_PROMPT_IDS} order. */
  sources(): readonly PromptSource[] {
    return this.loaded.sources;
  }

  /** Reads every file again (after IT recorded new prompts). When that throws, the prompts loaded before stay. */
  async reload(): Promise<void> {
    this.loaded = await loadAll(this.opts);
  }

  /** The languages the package ships prompts for (`de`, `en`, `nl`), sorted. */
  languages(): readonly string[] {
    return this.loaded.shipped;
  }
}

interface Candidate {
  readonly language: string;
  readonly origin: 'shipped' | 'override';
  readonly dir: string;
}

function candidates(o: PromptLibraryOptions & { language: string; shippedDir: string }): Candidate[] {
  const overrides = o.dataDir === undefined ? null : join(o.dataDir, 'prompts');
  const langs = o.language === FALLBACK_LANGUAGE ? [o.language] : [o.language, FALLBACK_LANGUAGE];
  return langs.flatMap((language): Candidate[] => [
    ...(overrides === null ? [] : [{ language, origin: 'override' as const, dir: join(overrides, language) }]),
    { language, origin: 'shipped' as const, dir: join(o.shippedDir, language) },
  ]);
}

interface Resolved {
  readonly samples: Int16Array | null;
  readonly source: PromptSource | null;
  readonly refused: readonly { readonly file: string; readonly reason: string; readonly origin: Candidate['origin'] }[];
}

/** The first usable audio for `id` among `where`, and the files refused on the way. */
async function resolvePrompt(id: VoicePromptId, where: readonly Candidate[]): Promise<Resolved> {
  const refused: { file: string; reason: string; origin: Candidate['origin'] }[] = [];
  for (const c of where) {
    const file = join(c.dir, `${id}.wav`);
    const r = await readPrompt(file);
    if (r.kind === 'missing') continue;
    if (r.kind === 'bad') {
      refused.push({ file, reason: r.reason, origin: c.origin });
      continue;
    }
    const source: PromptSource = { id, language: c.language, origin: c.origin, file, encoding: r.encoding, durationMs: durationMs(r.samples) };
    return { samples: r.samples, source, refused };
  }
  return { samples: null, source: null, refused };
}

async function loadAll(o: PromptLibraryOptions & { language: string; shippedDir: string }): Promise<Loaded> {
  const where = candidates(o);
  // Every id at once (the files are small); warnings and sources in id order.
  const resolved = await Promise.all(VOICE_PROMPT_IDS.map((id) => resolvePrompt(id, where)));
  const samples = new Map<VoicePromptId, Int16Array>();
  const sources: PromptSource[] = [];
  for (const [i, r] of resolved.entries()) {
    const id = VOICE_PROMPT_IDS[i] as VoicePromptId;
    for (const f of r.refused) {
      const what = f.origin === 'override' ? 'voice prompt recording refused, using the next source' : 'shipped voice prompt damaged';
      o.log?.warn(what, { file: f.file, reason: f.reason, prompt: id });
    }
    if (r.samples === null || r.source === null) {
      throw new HotdeskError('not-found', `no usable audio for voice prompt '${id}' (looked in ${where.map((c) => c.dir).join(', ')})`);
    }
    samples.set(id, r.samples);
    sources.push(r.source);
  }
  if (o.dataDir !== undefined) await reportStrays(join(o.dataDir, 'prompts', o.language), o.log);
  return { samples, sources, shipped: await shippedLanguages(o.shippedDir) };
}

/** Warns about files in the override directory that no prompt uses (a typo in a name). */
async function reportStrays(dir: string, log: Logger | undefined): Promise<void> {
  if (log === undefined) return;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names.sort()) {
    const id = name.endsWith('.wav') ? name.slice(0, -4) : null;
    if (id === null || !isVoicePromptId(id)) {
      log.warn('voice prompt recording ignored', { file: join(dir, name), reason: 'not <id>.wav for a prompt id (hotdesk prompts list)' });
    }
  }
}
