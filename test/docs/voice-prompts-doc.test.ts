/**
 * docs/voice.md shows the shipped wording of every prompt in every
 * language exactly as prompts/texts.json has it, and the English sentences
 * it quotes for each outcome are the ones the agent speaks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outcomeSpeech, VOICE_PROMPT_IDS, VOICE_PROMPT_TEXT } from '../../agent/core/voice-prompts.js';
import { PROJECT_ROOT } from '../../agent/paths.js';

const DOC = readFileSync(join(PROJECT_ROOT, 'docs', 'voice.md'), 'utf8');
const TEXTS = JSON.parse(readFileSync(join(PROJECT_ROOT, 'prompts', 'texts.json'), 'utf8')) as Record<string, Record<string, string>>;

/** Rows of the markdown table whose header starts with `| <first> |`. */
function table(first: string): string[][] {
  const lines = DOC.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  expect(start, `table "${first}"`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split(' | ')
        .map((c) => c.trim()),
    );
  }
  return rows;
}

describe('docs/voice.md', () => {
  it('lists every prompt with the wording of prompts/texts.json in en, nl and de', () => {
    const rows = table('id');
    expect(rows.map((r) => r[0])).toEqual(VOICE_PROMPT_IDS.map((id) => `\`${id}\``));
    for (const [cell, en, nl, de] of rows) {
      const id = (cell ?? '').replace(/`/g, '');
      expect([en, nl, de], id).toEqual([TEXTS[id]?.['en'], TEXTS[id]?.['nl'], TEXTS[id]?.['de']]);
    }
  });

  it('quotes what the agent says for each outcome', () => {
    const said = new Map(table('outcome').map(([o, s]) => [(o ?? '').replace(/`/g, '').split(' ')[0] ?? '', s ?? '']));
    const spoken = (code: Parameters<typeof outcomeSpeech>[0]['code'], user?: string): string =>
      outcomeSpeech({ code, prompt: null, phone: '001565aaaa01', message: '', ...(user !== undefined ? { user } : {}) })
        .map((id) => `"${VOICE_PROMPT_TEXT[id]}"`)
        .join(' ')
        .replace('"one" "zero" "one"', '"one zero one"');
    for (const code of ['ask-extension', 'ask-pin', 'wrong-pin', 'locked', 'not-allowed', 'already-logged-in', 'not-hotdesk-code'] as const) {
      expect(said.get(code), code).toBe(spoken(code));
    }
    for (const code of ['logged-in', 'switched', 'logged-out'] as const) expect(said.get(code), code).toBe(spoken(code, '101'));
  });
});
