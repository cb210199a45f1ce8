/**
 * The firmware-profile schema (JSON Schema 2020-12 subset, see
 * schema-check.ts). `firmware-profiles/schema.json` is this object written
 * out for editors; a test keeps the two identical.
 *
 * Pure module.
 */
import type { SchemaNode } from './schema-check.js';

const keyCode: SchemaNode = { type: ['integer', 'string'] };

/**
 * The schema every merged profile (`firmware-profiles/<vendor>/<MODEL>.json`
 * over its family bases, see profile-families.ts) must match. Family bases
 * (`<vendor>/families/<name>.json`) hold the same fields, all optional, and no
 * `model`; only the merged result is validated.
 */
export const FIRMWARE_PROFILE_SCHEMA: SchemaNode = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://hotdesk.invalid/firmware-profile.schema.json',
  title: 'hotdesk firmware profile',
  description: 'Per-model facts of a desk phone: key and account counts, file names, key codes, capabilities.',
  type: 'object',
  additionalProperties: false,
  required: [
    'vendor',
    'model',
    'userAgentNames',
    'fileModelName',
    'lineKeys',
    'lineAppearanceKeys',
    'expansionModules',
    'accounts',
    'keyTypes',
    'capabilities',
    'softKeys',
    'sources',
  ],
  properties: {
    $schema: { type: 'string' },
    extends: {
      type: 'string',
      pattern: '^families/[A-Za-z0-9][A-Za-z0-9_-]{0,63}$',
      description:
        'Family base this file builds on: families/<name> relative to the vendor folder, without .json. Objects merge key by key, arrays and scalars replace, unverified and sources concatenate.',
    },
    vendor: { enum: ['yealink', 'snom', 'poly'], description: 'Vendor id.' },
    model: {
      type: 'string',
      pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$',
      description: 'Model id used by the directory (T46U, D785, VVX450); equals the file name.',
    },
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
        firstKeyIndex: {
          type: 'integer',
          minimum: 0,
          description: 'Vendor key index of the first module key where modules continue the phone key numbering (Snom fkey idx).',
        },
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
    firmwareFamilies: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['prefix'],
        properties: {
          prefix: { type: 'string', pattern: '^[0-9]{1,3}$', description: 'Leading number of the firmware version (Yealink ROM prefix 108 in 108.86.0.45).' },
          releases: {
            type: 'array',
            uniqueItems: true,
            items: { type: 'string', pattern: '^[0-9]{1,3}$' },
            description: 'Releases seen with this prefix (Yealink 84, 86: the second number of the version).',
          },
          rom: { type: 'string', minLength: 1, description: 'Firmware file name as published (informational).' },
        },
      },
      description: 'Firmware generations the model runs; a User-Agent firmware version starts with one of the prefixes.',
    },
    sources: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', minLength: 1 },
      description: 'Citations for the facts: vendor guide title and section or URL, or a field-used template set (repository and path).',
    },
    unverified: { type: 'array', items: { type: 'string' }, description: 'Fields no primary source confirmed.' },
    notes: { type: 'string' },
  },
};
