#!/usr/bin/env node
// Regenerates the supported-models table of docs/firmware-profiles.md from the merged firmware
// profiles (every vendor, every family). Needs the build: `npx tsc -p tsconfig.build.json` first.
// Usage: node scripts/profiles-table.mjs [--check]   (--check exits 1 when the document is stale)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { loadFirmwareProfiles } = await import(join(root, 'dist/agent/vendors/firmware-profile.js'));
const { withProfilesTable } = await import(join(root, 'dist/agent/vendors/profiles-table.js'));
const docPath = join(root, 'docs/firmware-profiles.md');
const doc = readFileSync(docPath, 'utf8');
const next = withProfilesTable(doc, loadFirmwareProfiles(join(root, 'firmware-profiles')).all());
if (process.argv.includes('--check')) {
  if (next !== doc) {
    console.error('docs/firmware-profiles.md is out of date: run node scripts/profiles-table.mjs');
    process.exit(1);
  }
} else if (next !== doc) {
  writeFileSync(docPath, next);
  console.log('docs/firmware-profiles.md updated');
}
