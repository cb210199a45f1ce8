/**
 * Shared pieces of the hot-desk line's end-to-end tests (test/e2e/voice-*):
 * an agent with short voice timers, a data dir from another directory file,
 * the phone's hot-desk line credentials read from its own secret file, a
 * sipp phone on that line with its RTP socket, and the audio the agent
 * should send for a prompt sequence.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importDirectory } from '../../agent/directory/import-directory.js';
import { loadDirectoryFile } from '../../agent/directory/load-directory.js';
import type { DeskOutcome } from '../../agent/core/model.js';
import { outcomeSpeech, type VoicePromptId } from '../../agent/core/voice-prompts.js';
import type { G711Codec } from '../../agent/protocols/g711.js';
import { PromptLibrary } from '../../agent/shell/voice/prompt-library.js';
import { openSqliteStore } from '../../agent/store/sqlite-store.js';
import { startHarness, type DemoPhone, type Harness } from './agent-harness.js';
import { hotdeskLineAccount, type LineAccount } from './hotdesk-line-file.js';
import { expect } from 'vitest';
import { commonPrefix, expectedPayload, findAtPacket, startRtpListener, type RtpListener } from './rtp-listener.js';
import { startSippUac, type SippUacOptions, type SippUacRun } from './sipp-uac.js';

/** Cleanups registered by a test, run in reverse order by {@link runCleanups}. */
export type Cleanups = Array<() => Promise<void> | void>;

export async function runCleanups(cleanups: Cleanups): Promise<void> {
  while (cleanups.length) {
    try {
      await cleanups.pop()?.();
    } catch {
      // keep cleaning up
    }
  }
}

/** Imports `yamlFile` into a fresh temp data dir. */
export async function dataDirFrom(yamlFile: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hotdesk-voice-'));
  const store = openSqliteStore(dir);
  try {
    await importDirectory(store, loadDirectoryFile(yamlFile), Date.now());
  } finally {
    await store.close();
  }
  return dir;
}

/** Starts the harness agent with voice timings short enough for tests; registered for cleanup. */
export async function voiceHarness(cleanups: Cleanups, opts: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness({ voiceTiming: { firstDigitMs: 6_000, interDigitMs: 3_000, maxCallMs: 40_000 }, ...opts });
  cleanups.push(() => h.stop());
  return h;
}

/** The phone boots (fetches its secret file) and reads its hot-desk line out of it. */
export async function bootAndReadLine(h: Harness, phone: DemoPhone): Promise<LineAccount> {
  const boot = await h.fetchAs(phone);
  if (boot.status !== 200) throw new Error(`${phone.vendor}: boot fetch answered ${boot.status}`);
  return hotdeskLineAccount(phone.vendor, boot.body);
}

/** English prompts as shipped (what the demo site speaks). */
let shipped: Promise<PromptLibrary> | null = null;
export function shippedPrompts(): Promise<PromptLibrary> {
  shipped ??= PromptLibrary.load();
  return shipped;
}

/** The payload bytes the agent must send for `ids` spoken as one sequence, in `codec`, padded to whole packets. */
export async function expectedSpeech(ids: readonly VoicePromptId[], codec: G711Codec): Promise<Buffer> {
  return expectedPayload((await shippedPrompts()).sequence(ids), codec);
}

/**
 * The phone registers its hot-desk line `line` with sipp (voice-register.xml:
 * 401 then 200) from local port `port` (default: a free one); resolves with
 * that port once sipp passed.
 */
export async function registerLine(cleanups: Cleanups, h: Harness, line: LineAccount, port?: number): Promise<number> {
  const reg = await startSippUac({
    scenario: 'voice-register.xml',
    remote: `127.0.0.1:${h.agent.sipPort}`,
    auth: { username: line.username, password: line.password },
    keys: { lineuser: line.username },
    timeoutS: 10,
    ...(port !== undefined ? { port } : {}),
  });
  cleanups.push(() => reg.kill());
  const r = await reg.exit;
  if (r.code !== 0) throw new Error(`REGISTER of ${line.username} failed:\n${r.out}`);
  return reg.port;
}

/** A sipp phone on the hot-desk line plus the test's RTP socket its SDP points at. */
export interface LinePhone {
  readonly sipp: SippUacRun;
  readonly rtp: RtpListener;
}

/**
 * The phone registers its hot-desk line (unless `register` is false), then
 * calls `service` over it from the same port with `scenario`, offering
 * `codecs` and telephone-event at `te`, its SDP pointing RTP at a fresh
 * listener; the check-sync NOTIFY is answered by voice-notify-uas.xml.
 * Everything is registered for cleanup.
 */
export async function startLinePhone(
  cleanups: Cleanups,
  h: Harness,
  line: LineAccount,
  o: {
    scenario: string;
    service: string;
    codecs?: string;
    te?: number;
    expectFormats?: string;
    expectNotify?: boolean;
    globals?: Record<string, string>;
    register?: boolean;
    /** Address the SDP gives for media (default 127.0.0.1, the SIP address). */
    mediaIp?: string;
    timeoutS?: number;
  },
): Promise<LinePhone> {
  const port = o.register === false ? undefined : await registerLine(cleanups, h, line);
  const rtp = await startRtpListener(o.mediaIp);
  cleanups.push(() => rtp.close());
  const codecs = o.codecs ?? '0 8';
  const te = o.te ?? 101;
  const first = codecs.split(' ')[0] ?? '0';
  const remote = `127.0.0.1:${h.agent.sipPort}`;
  const options: SippUacOptions = {
    scenario: o.scenario,
    remote,
    service: o.service,
    auth: { username: line.username, password: line.password },
    authUri: `${o.service}@${remote}`,
    keys: { lineuser: line.username, rtp_port: String(rtp.port), codecs, te: String(te) },
    globals: {
      expect_fmts: o.expectFormats ?? `${first} ${te}`,
      expect_notify: o.expectNotify === false ? '0' : '1',
      expect_ruser: line.username,
      ...o.globals,
    },
    ooc: 'voice-notify-uas.xml',
    timeoutS: o.timeoutS ?? 20,
    ...(o.mediaIp !== undefined ? { mediaIp: o.mediaIp } : {}),
    ...(port !== undefined ? { port } : {}),
  };
  const sipp = await startSippUac(options);
  cleanups.push(() => sipp.kill());
  return { sipp, rtp };
}

/** The prompts the agent speaks for an outcome `code` naming `user` (core/voice-prompts.ts). */
export function speechOf(code: DeskOutcome['code'], user?: string): VoicePromptId[] {
  return outcomeSpeech({ code, prompt: null, phone: '', message: '', ...(user !== undefined ? { user } : {}) });
}

/** 200 ms of audio: enough to tell two prompts apart. */
const START = 1600;

/**
 * Asserts that `heard` (μ-law payload bytes) is the questions `asked`, in
 * order, each at least started (a key may cut it short), then the whole
 * `final` sequence, and nothing after it.
 */
export async function expectDialog(heard: Buffer, asked: readonly (readonly VoicePromptId[])[], final: readonly VoicePromptId[]): Promise<void> {
  let at = 0;
  for (const [i, ids] of asked.entries()) {
    const want = await expectedSpeech(ids, 'PCMU');
    const found = i === 0 ? (commonPrefix(heard, want) >= START ? 0 : -1) : findAtPacket(heard, want, at, START);
    expect(found, `question ${i + 1} (${ids.join(', ')}) not heard after byte ${at}`).toBeGreaterThanOrEqual(0);
    at = found + Math.floor(commonPrefix(heard.subarray(found), want) / 160) * 160;
  }
  const last = await expectedSpeech(final, 'PCMU');
  const found = findAtPacket(heard, last, at);
  expect(found, `final speech (${final.join(', ')}) not heard in full after byte ${at}`).toBeGreaterThanOrEqual(0);
  expect(found + last.length).toBe(heard.length);
}
