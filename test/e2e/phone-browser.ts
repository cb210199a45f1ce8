/**
 * A phone's XML browser, as a test drives it (docs/vendors.md "XML browser dialects"): finds the hot-desk
 * menu URL in the phone's own config file, fetches screens with the phone's
 * User-Agent, parses them the way the phone reads them (Yealink XML objects,
 * Snom minibrowser XML, Poly XHTML parsed as XML) into one neutral shape, and
 * submits forms by the vendor's convention:
 * - Yealink `YealinkIPPhoneInputScreen`: `?<Parameter>=<value>&...` appended to `<URL>`;
 * - Snom `SnomIPPhoneInput`: `?<QueryStringParam>=<value>` appended to `<URL>` (one field);
 * - Poly XHTML `<form method="get">`: the query of `action` replaced by the form data (HTML forms).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { DemoPhone } from '../helpers/agent-harness.js';

export type Vendor = DemoPhone['vendor'];

/** A followable link on a screen (menu item, soft key, anchor). */
export interface Link {
  readonly text: string;
  readonly url: string;
}

/** An input on a form. */
export interface Field {
  readonly name: string;
  readonly password: boolean;
}

/** A screen as the phone understands it. */
export type Screen =
  | { readonly kind: 'menu'; readonly root: string; readonly title: string; readonly links: readonly Link[] }
  | {
      readonly kind: 'form';
      readonly root: string;
      readonly title: string;
      readonly action: string;
      readonly fields: readonly Field[];
      readonly links: readonly Link[];
    }
  | { readonly kind: 'text'; readonly root: string; readonly title: string; readonly text: string; readonly links: readonly Link[] };

/** One fetched screen. */
export interface Fetched {
  readonly url: string;
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly bytes: number;
}

type Node = Record<string, unknown>;

const ARRAYS = new Set(['MenuItem', 'InputField', 'InputItem', 'SoftKey', 'SoftKeyItem', 'p', 'a', 'input', 'form', 'h1']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
  isArray: (name) => ARRAYS.has(name),
});

/** Parses `body` as XML; throws when it is not well-formed (a phone would show an error). */
export function parseXml(body: string): Node {
  const valid = XMLValidator.validate(body);
  if (valid !== true) throw new Error(`not well-formed XML: ${JSON.stringify(valid.err)}`);
  return parser.parse(body) as Node;
}

function str(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && '#text' in (v as Node)) return str((v as Node)['#text']);
  return '';
}

function arr(v: unknown): Node[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => (typeof x === 'object' && x !== null ? (x as Node) : { '#text': x }));
}

/** Every element named `name` below `node` (depth first). */
function findAll(node: unknown, name: string, out: Node[] = []): Node[] {
  if (Array.isArray(node)) {
    for (const n of node) findAll(n, name, out);
  } else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node as Node)) {
      if (k.startsWith('@_') || k === '#text') continue;
      if (k === name) out.push(...arr(v));
      findAll(v, name, out);
    }
  }
  return out;
}

function rootOf(doc: Node): [string, Node] {
  const names = Object.keys(doc).filter((k) => !k.startsWith('?') && !k.startsWith('!') && !k.startsWith('#'));
  if (names.length !== 1) throw new Error(`expected one root element, got ${names.join(',')}`);
  const name = names[0] as string;
  const v = doc[name];
  return [name, typeof v === 'object' && v !== null ? (v as Node) : {}];
}

/** Soft keys that open a URL (internal `SoftKey:...` actions are the phone's own). */
function httpLinks(links: Link[]): Link[] {
  return links.filter((l) => /^https?:\/\//.test(l.url));
}

function parseYealink(doc: Node): Screen {
  const [root, r] = rootOf(doc);
  const title = str(r['Title']);
  const softKeys = httpLinks(arr(r['SoftKey']).map((k) => ({ text: str(k['Label']), url: str(k['URI']) })));
  switch (root) {
    case 'YealinkIPPhoneTextMenu':
      return { kind: 'menu', root, title, links: [...arr(r['MenuItem']).map((m) => ({ text: str(m['Prompt']), url: str(m['URI']) })), ...softKeys] };
    case 'YealinkIPPhoneInputScreen':
      return {
        kind: 'form',
        root,
        title,
        action: str(r['URL']),
        fields: arr(r['InputField']).map((f) => ({ name: str(f['Parameter']), password: f['@_password'] === 'yes' })),
        links: softKeys,
      };
    case 'YealinkIPPhoneTextScreen':
      return { kind: 'text', root, title, text: str(r['Text']), links: softKeys };
    default:
      throw new Error(`not a Yealink XML object: ${root}`);
  }
}

function parseSnom(doc: Node): Screen {
  const [root, r] = rootOf(doc);
  const title = str(r['Title']);
  const softKeys = httpLinks(arr(r['SoftKeyItem']).map((k) => ({ text: str(k['Label']) || str(k['Name']), url: str(k['URL']) })));
  const fetches = httpLinks(arr(r['fetch']).map((f) => ({ text: 'fetch', url: str(f) })));
  switch (root) {
    case 'SnomIPPhoneMenu':
      return { kind: 'menu', root, title, links: [...arr(r['MenuItem']).map((m) => ({ text: str(m['Name']), url: str(m['URL']) })), ...softKeys] };
    case 'SnomIPPhoneInput':
      return {
        kind: 'form',
        root,
        title,
        action: str(r['URL']),
        fields: arr(r['InputItem']).map((f) => ({ name: str(f['QueryStringParam']), password: str(f['InputFlags']).includes('p') })),
        links: softKeys,
      };
    case 'SnomIPPhoneText':
      return { kind: 'text', root, title, text: str(r['Text']), links: [...softKeys, ...fetches] };
    default:
      throw new Error(`not a Snom minibrowser object: ${root}`);
  }
}

function parsePoly(doc: Node): Screen {
  const [root, html] = rootOf(doc);
  if (root !== 'html' || html['@_xmlns'] !== 'http://www.w3.org/1999/xhtml') throw new Error('not an XHTML page');
  const body = (html['body'] ?? {}) as Node;
  const title = str(arr(body['h1'])[0]) || str((html['head'] as Node | undefined)?.['title']);
  const links = findAll(body, 'a').map((a) => ({ text: str(a), url: str(a['@_href']) }));
  const forms = findAll(body, 'form');
  if (forms.length > 1) throw new Error('one form per page expected');
  const form = forms[0];
  if (form) {
    if (str(form['@_method']).toLowerCase() !== 'get') throw new Error('forms must use GET');
    const fields = findAll(form, 'input')
      .filter((i) => str(i['@_name']) !== '' && str(i['@_type']) !== 'submit')
      .map((i) => ({ name: str(i['@_name']), password: str(i['@_type']) === 'password' }));
    return { kind: 'form', root, title, action: str(form['@_action']), fields, links };
  }
  const plain = arr(body['p'])
    .filter((p) => p['a'] === undefined)
    .map((p) => str(p));
  if (plain.length > 0) return { kind: 'text', root, title, text: plain.join('\n'), links };
  return { kind: 'menu', root, title, links };
}

/** Parses a screen body as `vendor`'s browser would. */
export function parseScreen(vendor: Vendor, body: string): Screen {
  const doc = parseXml(body);
  if (vendor === 'yealink') return parseYealink(doc);
  if (vendor === 'snom') return parseSnom(doc);
  return parsePoly(doc);
}

/** The URL a phone requests when the user submits `form` with `values` (by field name). */
export function submitUrl(vendor: Vendor, form: Extract<Screen, { kind: 'form' }>, values: Readonly<Record<string, string>>): string {
  const pairs = form.fields.map((f) => {
    const v = values[f.name];
    if (v === undefined) throw new Error(`no value for field ${f.name}`);
    return `${encodeURIComponent(f.name)}=${encodeURIComponent(v)}`;
  });
  if (vendor === 'poly') {
    const u = new URL(form.action);
    u.search = pairs.join('&');
    return u.toString();
  }
  return `${form.action}${form.action.includes('?') ? '&' : '?'}${pairs.join('&')}`;
}

function decodeXmlText(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e] ?? '');
}

/**
 * The hot-desk menu URL as the phone finds it in its own config file:
 * Yealink a line, expansion-module or programmable key of type 27 (XML browser, URL in `.value`);
 * Snom a function key `url <URL>`; Poly a soft key action (and `mb.main.home`).
 * Returns undefined when the file programs no such key.
 */
export function menuUrlFromConfig(vendor: Vendor, file: string): string | undefined {
  if (vendor === 'yealink') {
    for (const m of file.matchAll(/^((?:linekey|programablekey|expansion_module\.\d+\.key)\.\d+)\.type = 27$/gm)) {
      const key = (m[1] as string).replace(/\./g, '\\.');
      const v = new RegExp(`^${key}\\.value = (\\S+)$`, 'm').exec(file)?.[1];
      if (v !== undefined && /^https?:/.test(v)) return v;
    }
    return undefined;
  }
  if (vendor === 'snom') {
    const v = /<fkey [^>]*>url (https?:[^<]+)<\/fkey>/.exec(file)?.[1];
    return v === undefined ? undefined : decodeXmlText(v.trim());
  }
  const v = /softkey\.\d+\.action="(https?:[^"]+)"/.exec(file)?.[1];
  return v === undefined ? undefined : decodeXmlText(v);
}

/** Poly's `mb.main.home` (microbrowser home page), if set. */
export function polyHomeUrl(file: string): string | undefined {
  const v = /mb\.main\.home="(https?:[^"]+)"/.exec(file)?.[1];
  return v === undefined ? undefined : decodeXmlText(v);
}

/** A parsed screen with the response it came from. */
export type Opened = Screen & { readonly fetched: Fetched };

/** The phone's XML browser: GETs with the phone's User-Agent. */
export class PhoneBrowser {
  constructor(
    readonly vendor: Vendor,
    private readonly userAgent: string,
  ) {}

  /** Fetches `url` as the phone does. */
  async get(url: string): Promise<Fetched> {
    const res = await fetch(url, { headers: { 'user-agent': this.userAgent, accept: '*/*' } });
    const buf = Buffer.from(await res.arrayBuffer());
    return { url, status: res.status, contentType: res.headers.get('content-type') ?? '', body: buf.toString('utf8'), bytes: buf.length };
  }

  /** Fetches and parses `url`; throws unless 200 with a parseable screen. */
  async open(url: string): Promise<Opened> {
    const f = await this.get(url);
    if (f.status !== 200) throw new Error(`${url} answered ${f.status}: ${f.body.slice(0, 200)}`);
    return { ...parseScreen(this.vendor, f.body), fetched: f };
  }

  /** Follows the link whose text matches `text`. */
  async follow(screen: Screen, text: RegExp): Promise<Opened> {
    const link = screen.links.find((l) => text.test(l.text));
    if (!link) throw new Error(`no link ${String(text)} on ${screen.root} (${screen.links.map((l) => l.text).join(' | ')})`);
    return this.open(link.url);
  }

  /** Submits `form` with `values`. */
  async submit(form: Screen, values: Readonly<Record<string, string>>): Promise<Opened> {
    if (form.kind !== 'form') throw new Error(`not a form: ${form.root}`);
    return this.open(submitUrl(this.vendor, form, values));
  }
}
