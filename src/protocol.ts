/**
 * The memdiag report contract (protocol/report.schema.json): its types, generated into reportschema.ts,
 * and the guard that accepts a report. Everything that arrives from a kernel or from notebook metadata is
 * untrusted until `isReport` accepts it. The comm messages are in comm.ts.
 *
 * Pure module: no JupyterLab imports.
 */
import {
  REPORT_SCHEMA,
  IReport,
  ValgrindKind,
  VerdictKind
} from './reportschema';
import { matchesSchema } from './schemaguard';

export * from './reportschema';

/** The report schema version this frontend understands. */
export const SCHEMA_VERSION: IReport['schema'] = 1;

/** Every verdict, mildest first (a test checks it against the schema's enum). */
export const VERDICT_KINDS: ReadonlyArray<VerdictKind> = [
  'ok',
  'retains',
  'leak',
  'cycles',
  'native'
];

/** Every kind of valgrind record (a test checks it against the schema's enum). */
export const VALGRIND_KINDS: ReadonlyArray<ValgrindKind> = [
  'definitely',
  'indirectly',
  'possibly'
];

/**
 * Whether a value is a well-formed report of the schema version this frontend knows: valid against
 * protocol/report.schema.json. Unknown extra fields are allowed (the contract is extended, never renamed).
 */
export function isReport(value: unknown): value is IReport {
  return matchesSchema(REPORT_SCHEMA, value);
}

/**
 * Whether a report carries a schema version newer than this frontend knows: the user should
 * update memdiag rather than see nothing.
 */
export function isNewerSchema(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    'schema' in value &&
    typeof value.schema === 'number' &&
    Number.isInteger(value.schema) &&
    value.schema > SCHEMA_VERSION
  );
}
