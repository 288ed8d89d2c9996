/** The bad values probes are drawn from, and helpers that place them in a request body. */
import { percentEncode } from '../rawHttp';

/** Raw bytes placed inside a JSON string: invalid UTF-8 the body parser must cope with. */
export interface RawBytes {
  bytes: Buffer;
}
export type UnicodeValue = string | RawBytes;

export const UNICODE: readonly UnicodeValue[] = [
  '\ud800', // lone high surrogate, sent escaped as "\ud800"
  '\udfff', // lone low surrogate
  '\udc00\ud800', // a pair the wrong way round
  'x\ud83dy', // half an emoji
  '\u0000',
  'a\u0000b',
  '\u202eexe.pdf', // right-to-left override
  '\u202d\u202c\u2066\u2069',
  '😀',
  '👩‍👩‍👧‍👦', // ZWJ sequence
  '🏳️‍🌈',
  'e\u0301', // combining acute
  `Z${'\u0336\u0301\u0308'.repeat(40)}`, // stacked combining marks
  '\ufeff', // BOM
  '\uffff',
  '\ufffe',
  '\u200b\u200c\u200d',
  '\u2028\u2029',
  '\u0085',
  'İı', // Turkish dotted/dotless i: case folding traps
  'ß',
  'ﬃ', // ligature
  'ａｄｍｉｎ', // fullwidth
  '𝒶𝒹𝓂𝒾𝓃', // mathematical letters
  'مرحبا',
  'שלום',
  'नमस्ते',
  '\u{10ffff}',
  '\u{e0041}', // tag character
  '\u3000', // ideographic space
  { bytes: Buffer.from([0xff]) },
  { bytes: Buffer.from([0xc0, 0xaf]) }, // overlong "/"
  { bytes: Buffer.from([0xed, 0xa0, 0x80]) }, // CESU-8 surrogate
  { bytes: Buffer.from([0xf4, 0x90, 0x80, 0x80]) }, // above U+10FFFF
  { bytes: Buffer.from([0xe2, 0x82]) }, // truncated sequence
];

export const OPERATORS: readonly unknown[] = [
  { $gt: '' },
  { $ne: null },
  { $where: 'sleep(1000) || true' },
  { $regex: '.*' },
  { $regex: '^', $options: 'i' },
  { $in: ['a', 'b'] },
  { $nin: [] },
  { $exists: true },
  { $expr: { $eq: [1, 1] } },
  { $or: [{}, { _id: { $ne: null } }] },
  { $function: { body: 'return true', args: [], lang: 'js' } },
  { $jsonSchema: {} },
  { $not: { $eq: '' } },
  { $type: 2 },
  { $gt: { $gt: '' } },
  [{ $ne: null }],
];

export const OPERATOR_QUERIES = [
  'cursor[$gt]=',
  'after[$ne]=',
  'limit[$gt]=0',
  'path[$regex]=.*',
  'path[$ne]=',
  'kind[$ne]=x',
  '$where=1',
  'filter[$where]=sleep(1000)',
  '__proto__[isAdmin]=1',
  'constructor[prototype][isAdmin]=1',
  'projectId[$ne]=',
  '_id[$gt]=',
  'after[]=',
  'limit[]=1',
] as const;

export const OPERATOR_IDS = [
  '$gt',
  '%24gt',
  '%24where',
  percentEncode('{"$ne":null}'),
  percentEncode('[$ne]'),
  percentEncode('[object Object]'),
  '__proto__',
  'constructor',
  'prototype',
  percentEncode('{}'),
] as const;

export const MALFORMED: readonly string[] = [
  '{',
  '[',
  '}',
  '{{}}',
  '}{',
  "{'name':'x'}",
  '{name:"x"}',
  '{"a" 1}',
  '{"a":1,,"b":2}',
  '{"a":1,}',
  '[1,2,]',
  '{"v":NaN}',
  '{"v":Infinity}',
  '{"v":undefined}',
  '{"v":0x10}',
  '{"v":01}',
  '{"v":.5}',
  '{"v":+1}',
  '{"v":1e}',
  '/* comment */ {}',
  '{"a":1 // comment\n}',
  '{"a":"\\x41"}',
  '{"a":"\\u12"}',
  '{"a":"\\ud800\\u"}',
  '{"a":"line\nbreak"}',
  '{"a":"tab\tinside"}',
  '"unterminated',
  'true false',
  '\\',
  'nul',
  'tru',
  '{"a":1}}',
  '{"a":[1,2}',
  '\u0000',
  '{"a":"\u0000"',
  'name=x&features=1',
  '<xml/>',
];

/** Deep copy with `field` (dotted) set to `value`, or deleted when value is `DELETE`. */
export const DELETE = Symbol('delete');
export function withField(
  body: Record<string, unknown>,
  field: string,
  value: unknown,
): Record<string, unknown> {
  const copy = structuredClone(body);
  const parts = field.split('.');
  let target: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) target = target[part] as Record<string, unknown>;
  const last = parts[parts.length - 1]!;
  if (value === DELETE) delete target[last];
  else target[last] = value;
  return copy;
}

export function valueAt(body: Record<string, unknown>, field: string): unknown {
  return field.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], body);
}

export function leafFields(body: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(body).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? [`${prefix}${k}`, ...leafFields(v as Record<string, unknown>, `${prefix}${k}.`)]
      : [`${prefix}${k}`],
  );
}

/** JSON text of `body`, with any RawBytes values spliced in as the bytes themselves. */
export function encodeBody(body: unknown): Buffer {
  const raws: Buffer[] = [];
  const text = JSON.stringify(body, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && 'bytes' in v && Buffer.isBuffer((v as RawBytes).bytes)) {
      raws.push((v as RawBytes).bytes);
      return `@@RAW${raws.length - 1}@@`;
    }
    return v;
  });
  const pieces = text.split(/@@RAW(\d+)@@/u);
  return Buffer.concat(
    pieces.map((piece, i) => (i % 2 === 1 ? raws[Number(piece)]! : Buffer.from(piece, 'utf8'))),
  );
}

export function unicodeText(value: UnicodeValue): string {
  return typeof value === 'string' ? value : value.bytes.toString('latin1');
}
