/**
 * The firmware-profile schema (JSON Schema 2020-12 subset, see
 * schema-check.ts). `firmware-profiles/schema.json` is this object written
 * out for editors; a test keeps the two identical.
 *
 * Pure module.
 */
import type { SchemaNode } from './schema-check.js';

const keyCode: SchemaNode = { type: ['integer', 'string'] };

/** The schema every `firmware-profiles/<vendor>/<MODEL>.json` must match. */
export const FIRMWARE_PROFILE_SCHEMA: SchemaNode = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://hotdesk.invalid/firmware-profile.schema.json',
  title: 'hotdesk firmware profile',
  description: 'Per-model facts of a desk phone: key and account counts, file names, key codes, capabilities.',
  type: 'object',
  additionalProperties: false,
  required: ['vendor', 'model', 'userAgentNames', 'fileModelName', 'lineKeys', 'lineAppearanceKeys', 'expansionModules', 'accounts', 'keyTypes', 'capabilities', 'softKeys'],
  properties: {
    $schema: { type: 'string' },
    vendor: { enum: ['yealink', 'snom', 'poly'], description: 'Vendor id.' },
    model: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$', description: 'Model id used by the directory (T46U, D785, VVX450); equals the file name.' },
    family: { type: 'string', description: 'Free-text model family.' },
    userAgentNames: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', minLength: 1 },
      description: 'Model tokens as they appear in User-Agent headers (SIP-T46U, snomD785, VVX_450); matched case-insensitively.',
    },
    fileModelName: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$', description: 'Model name inside file names (Snom snom<NAME>.htm).' },
    lineKeys: { type: 'integer', minimum: 0, maximum: 200, description: 'Programmable keys on the phone itself (all pages).' },
    lineAppearanceKeys: { type: 'integer', minimum: 0, maximum: 1, description: 'Keys at the start kept as the line appearance of account 1 (0 or 1).' },
    expansionModules: {
      type: 'object',
      additionalProperties: false,
      required: ['max', 'keysPerModule'],
      properties: {
        max: { type: 'integer', minimum: 0, maximum: 6 },
        keysPerModule: { type: 'integer', minimum: 0, maximum: 200 },
        firstKeyIndex: { type: 'integer', minimum: 0, description: 'Vendor key index of the first module key where modules continue the phone key numbering (Snom fkey idx).' },
      },
    },
    accounts: { type: 'integer', minimum: 1, maximum: 64, description: 'SIP account slots (Yealink accounts, Snom identities, Poly registrations).' },
    keyTypes: {
      type: 'object',
      additionalProperties: false,
      required: ['speed', 'line', 'blf', 'url', 'none'],
      properties: { speed: keyCode, line: keyCode, blf: keyCode, url: keyCode, none: keyCode },
      description: 'Vendor codes of key kinds (Yealink numbers; Snom fkey types; Poly lineKey categories).',
    },
    commonFile: { type: 'string', pattern: '^y[0-9]{12}\\.cfg$', description: 'Yealink per-family common file.' },
    firmware: {
      type: 'object',
      additionalProperties: false,
      required: ['version', 'file'],
      properties: { version: { type: 'string', minLength: 1 }, file: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' } },
    },
    capabilities: {
      type: 'object',
      additionalProperties: false,
      required: ['xmlBrowser', 'efk', 'actionUrl', 'checkSync', 'urlKeys'],
      properties: {
        xmlBrowser: { type: 'boolean', description: 'Has an XML browser / microbrowser for the hot-desk screens.' },
        efk: { type: 'boolean', description: 'Poly enhanced feature keys (one-touch dial on a line key).' },
        actionUrl: { type: 'boolean', description: 'Can report outgoing calls (action URL / telephony notification).' },
        checkSync: { enum: ['notify', 'notify-reboot-false', 'none'], description: 'How a re-sync is requested.' },
        urlKeys: { enum: ['line-key', 'soft-key'], description: 'Where URL keys (hot-desk menu) go.' },
      },
    },
    softKeys: { type: 'integer', minimum: 0, maximum: 20, description: 'Programmable soft keys usable for URL keys.' },
    unverified: { type: 'array', items: { type: 'string' }, description: 'Fields no primary source confirmed.' },
    notes: { type: 'string' },
  },
};
