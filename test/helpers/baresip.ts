/**
 * Runs Debian's baresip as a desk phone: a temp config dir made from
 * test/fixtures/baresip/config (loopback SIP, a long WAV as microphone, the
 * decoded audio of every call recorded by the sndfile module), one account,
 * and control over ctrl_tcp: netstring-framed JSON commands in, responses
 * and events (REGISTER_OK, CALL_ESTABLISHED, CALL_CLOSED, …) out.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import dgram from 'node:dgram';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'baresip', 'config');
const MODULE_DIRS = ['/usr/lib/baresip/modules', '/usr/lib/x86_64-linux-gnu/baresip/modules', '/usr/local/lib/baresip/modules'];

/** Where baresip's modules are, or null when baresip (with the modules the tests need) is not installed. */
export function baresipModules(): string | null {
  if (spawnSync('baresip', ['-h']).error !== undefined) return null;
  return (
    MODULE_DIRS.find((d) => ['g711', 'aufile', 'aubridge', 'sndfile', 'account', 'menu', 'ctrl_tcp'].every((m) => fs.existsSync(path.join(d, `${m}.so`)))) ??
    null
  );
}

/** One JSON message from ctrl_tcp. */
export interface BaresipMessage {
  readonly event?: boolean;
  readonly response?: boolean;
  readonly type?: string;
  readonly class?: string;
  readonly param?: string;
  readonly ok?: boolean;
  readonly data?: string;
  readonly token?: string;
  readonly [k: string]: unknown;
}

export interface Baresip {
  readonly dir: string;
  readonly sipPort: number;
  /** Every message received so far. */
  readonly messages: BaresipMessage[];
  /** Sends a command (e.g. `dial`, `hangup`) and resolves with its response. */
  command(command: string, params?: string): Promise<BaresipMessage>;
  /** Resolves with the first message (past or future) matching `match`. */
  waitFor(match: (m: BaresipMessage) => boolean, timeoutMs?: number, what?: string): Promise<BaresipMessage>;
  /** WAV files the sndfile module wrote (decoded = what baresip heard). */
  recordings(): { decoded: string[]; encoded: string[] };
  /** stdout/stderr so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

function netstring(s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]);
}

/** Writes `seconds` of 8 kHz mono 16-bit silence as a WAV file. */
function writeSilence(file: string, seconds: number): void {
  const data = Buffer.alloc(8000 * 2 * seconds);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(16000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  fs.writeFileSync(file, Buffer.concat([h, data]));
}

/**
 * A port free for both UDP and TCP on loopback (baresip listens for SIP on both with one number): both
 * are bound at once, then released. Another process may still take it before baresip binds it, so
 * {@link startBaresip} starts again on a fresh port when baresip reports the address in use.
 */
async function freeSipPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const { port } = udp.address();
    const tcp = net.createServer();
    const ok = await new Promise<boolean>((r) => {
      tcp.once('error', () => r(false));
      tcp.listen(port, '127.0.0.1', () => r(true));
    });
    await new Promise<void>((r) => udp.close(() => r()));
    if (ok) {
      await new Promise<void>((r) => tcp.close(() => r()));
      return port;
    }
  }
  throw new Error('no port free for both UDP and TCP on 127.0.0.1');
}

async function freeTcpPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/**
 * Starts baresip with one account line (`accounts` file syntax, e.g.
 * `<sip:user@host:port>;auth_pass=…;regint=60`) and connects to its control
 * port. Register `stop` with your cleanup.
 */
export async function startBaresip(o: { account: string; modules: string }): Promise<Baresip> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startBaresipOnce(o);
    } catch (e) {
      // A port taken by another process between our check and baresip's bind: try fresh ports.
      if (attempt >= 3 || !String(e).includes('Address already in use')) throw e;
    }
  }
}

async function startBaresipOnce(o: { account: string; modules: string }): Promise<Baresip> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baresip-'));
  const recordDir = path.join(dir, 'recordings');
  fs.mkdirSync(recordDir);
  const sourceWav = path.join(dir, 'silence.wav');
  writeSilence(sourceWav, 60);
  const sipPort = await freeSipPort();
  const ctrlPort = await freeTcpPort();
  const config = fs
    .readFileSync(FIXTURE, 'utf8')
    .replaceAll('@SIP_PORT@', String(sipPort))
    .replaceAll('@SOURCE_WAV@', sourceWav)
    .replaceAll('@RECORD_DIR@', recordDir)
    .replaceAll('@RTP_MIN@', '42000')
    .replaceAll('@RTP_MAX@', '42998')
    .replaceAll('@MODULE_PATH@', o.modules)
    .replaceAll('@CTRL_PORT@', String(ctrlPort));
  fs.writeFileSync(path.join(dir, 'config'), config);
  fs.writeFileSync(path.join(dir, 'accounts'), `${o.account}\n`);
  fs.writeFileSync(path.join(dir, 'contacts'), '');
  const child = spawn('baresip', ['-f', dir], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString('utf8')).slice(-6000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));

  // Connect to ctrl_tcp once baresip listens.
  let sock: net.Socket | null = null;
  for (let i = 0; i < 100 && sock === null; i++) {
    sock = await new Promise<net.Socket | null>((resolve) => {
      const s = net.connect(ctrlPort, '127.0.0.1');
      s.once('connect', () => resolve(s));
      s.once('error', () => resolve(null));
    });
    if (sock === null) {
      if (child.exitCode !== null) throw new Error(`baresip exited (${child.exitCode}):\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  if (sock === null) throw new Error(`baresip control port did not open:\n${out}`);
  const ctrl = sock;
  const messages: BaresipMessage[] = [];
  let buf = Buffer.alloc(0);
  ctrl.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const colon = buf.indexOf(0x3a);
      if (colon < 0) break;
      const len = Number(buf.subarray(0, colon).toString());
      if (buf.length < colon + 1 + len + 1) break;
      const text = buf.subarray(colon + 1, colon + 1 + len).toString('utf8');
      buf = buf.subarray(colon + 2 + len);
      try {
        messages.push(JSON.parse(text) as BaresipMessage);
      } catch {
        messages.push({ data: text });
      }
    }
  });
  const waitFor = async (match: (m: BaresipMessage) => boolean, timeoutMs = 10_000, what = 'message'): Promise<BaresipMessage> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = messages.find(match);
      if (m) return m;
      if (Date.now() > end) throw new Error(`baresip: timed out waiting for ${what}; got ${JSON.stringify(messages)}\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  let tokens = 0;
  return {
    dir,
    sipPort,
    messages,
    async command(command, params = '') {
      const token = `t${++tokens}`;
      ctrl.write(netstring(JSON.stringify({ command, params, token })));
      return waitFor((m) => m.response === true && m.token === token, 5_000, `response to ${command}`);
    },
    waitFor,
    recordings() {
      const files = fs.readdirSync(recordDir).map((f) => path.join(recordDir, f));
      return { decoded: files.filter((f) => f.endsWith('-dec.wav')), encoded: files.filter((f) => f.endsWith('-enc.wav')) };
    },
    log: () => out,
    async stop() {
      ctrl.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The 16-bit mono samples of a PCM WAV file (chunks walked, so extra chunks are skipped). */
export function readPcmWav(file: string): { rate: number; samples: Int16Array } {
  const b = fs.readFileSync(file);
  if (b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') throw new Error(`${file}: not a WAV file`);
  let rate = 0;
  let bits = 0;
  let channels = 0;
  for (let at = 12; at + 8 <= b.length; ) {
    const id = b.toString('latin1', at, at + 4);
    const size = b.readUInt32LE(at + 4);
    const body = b.subarray(at + 8, Math.min(b.length, at + 8 + size));
    if (id === 'fmt ') {
      channels = body.readUInt16LE(2);
      rate = body.readUInt32LE(4);
      bits = body.readUInt16LE(14);
    } else if (id === 'data') {
      if (bits !== 16 || channels !== 1) throw new Error(`${file}: ${bits}-bit ${channels}-channel, expected 16-bit mono`);
      const samples = new Int16Array(Math.floor(body.length / 2));
      for (let i = 0; i < samples.length; i++) samples[i] = body.readInt16LE(i * 2);
      return { rate, samples };
    }
    at += 8 + size + (size % 2);
  }
  throw new Error(`${file}: no data chunk`);
}
