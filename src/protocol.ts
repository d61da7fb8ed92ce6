/**
 * The memdiag report contract (protocol/report.schema.json) and the comm messages
 * (protocol/README.md), with type guards: everything that arrives from a kernel or
 * from notebook metadata is untrusted until one of these guards accepts it.
 *
 * Pure module: no JupyterLab imports.
 */

/** The report schema version this frontend understands. */
export const SCHEMA_VERSION = 1;

/** The comm protocol version this frontend understands. */
export const PROTOCOL_VERSION = 1;

export type VerdictKind = 'ok' | 'retains' | 'leak' | 'cycles' | 'native';

export const VERDICT_KINDS: ReadonlyArray<VerdictKind> = ['ok', 'retains', 'leak', 'cycles', 'native'];

export interface IRss {
  before: number;
  after: number;
  peak: number | null;
  limit?: number | null;
}

export interface ITracedSite {
  file: string;
  line: number;
  code?: string;
  size: number;
  count: number;
}

export interface ITraced {
  enabled: boolean;
  retained?: number | null;
  /** Everything Python held more after the cell, IPython's own caches included. */
  retained_all?: number | null;
  top?: ITracedSite[];
}

export interface ITypeGrowth {
  type: string;
  count: number;
  size: number;
}

export interface ICycle {
  types: string[];
  objects: number;
  size: number;
  edges?: string[];
}

export interface IChainLink {
  label: string;
  edge: string;
}

export interface IBackref {
  type: string;
  root: string;
  /** Bytes the target keeps: its own size, its untracked payload, a view's base. */
  size?: number;
  /** The standard fix for this root, when there is one (`%reset -f out`, `plt.close(fig)`...). */
  advice?: string;
  /** Chains merged into this one (they differ only in their last step); `size` is their sum. */
  count?: number;
  chain: IChainLink[];
}

export interface IVerdict {
  kind: VerdictKind;
  flags: string[];
  bytes_per_run: number | null;
  reason: string;
}

export interface ILineIncrement {
  line: number;
  code: string;
  increment: number;
}

/** The allocators' own counters before and after the cell; null where they cannot be read. */
export interface IHeap {
  before?: number | null;
  after?: number | null;
  blocks_before?: number | null;
  blocks_after?: number | null;
  /** Why the malloc counter cannot be read on this platform or build, in words. */
  skipped?: string;
}

/** Bytes IPython's own caches took for this run: Out[n] and the history's output reprs. */
export interface IIPythonCache {
  out?: number;
  history?: number;
}

export type ValgrindKind = 'definitely' | 'indirectly' | 'possibly';

export const VALGRIND_KINDS: ReadonlyArray<ValgrindKind> = ['definitely', 'indirectly', 'possibly'];

export interface IValgrindRecord {
  bytes: number;
  blocks: number;
  /** memcheck's kind of loss; `possibly`: a big block the cell's own code allocated. */
  kind?: ValgrindKind;
  /** Frame texts, innermost first. */
  stack: string[];
}

export interface IValgrind {
  definitely_lost: number;
  indirectly_lost: number;
  possibly_lost?: number;
  records: IValgrindRecord[];
}

/** One stack memray saw allocate what the cell still held (`%%memdiag --native`). */
export interface INativeAllocation {
  size: number;
  count: number;
  /** Frame texts, innermost first; the cell's own frames end in `(cell line N)`. */
  stack: string[];
}

export interface INative {
  unexplained: number | null;
  /** Why RSS Python does not explain cannot be judged native on this build, in words. */
  skipped?: string;
  /** `%%memdiag --native`: memray's allocations still held at the cell's end, biggest first. */
  allocations?: INativeAllocation[];
  /** memray: bytes the cell allocated and still held. */
  held?: number;
  /** memray: the peak of tracked memory while the cell ran. */
  tracked_peak?: number;
}

export interface IReport {
  schema: number;
  cell_id: string | null;
  execution_count: number | null;
  run: number;
  duration_s: number;
  overhead_s: number;
  rss: IRss;
  traced?: ITraced;
  /** `skipped`: why no census was taken for this cell, in words. */
  objects?: { new: number; growth: ITypeGrowth[]; skipped?: string };
  /** `skipped`: why cyclic garbage was not looked for in this cell, in words. */
  gc?: { collected: number; cycles: ICycle[]; skipped?: string };
  backrefs?: IBackref[];
  native?: INative;
  verdict: IVerdict;
  errors: string[];
  lines?: ILineIncrement[];
  valgrind?: IValgrind;
  heap?: IHeap;
  ipython?: IIPythonCache;
}

/** The kernel-side configuration, as the `hello` and `config` messages carry it. */
export interface IKernelConfig {
  [key: string]: unknown;
}

export interface IHelloMessage {
  type: 'hello';
  protocol: number;
  version: string;
  config: IKernelConfig;
  history: IReport[];
}

export interface IReportMessage {
  type: 'report';
  report: IReport;
}

export interface IConfigMessage {
  type: 'config';
  config: IKernelConfig;
}

export interface IReplyMessage {
  type: 'reply';
  request_id: string;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export type KernelMessage = IHelloMessage | IReportMessage | IConfigMessage | IReplyMessage;

/** Why a message was refused, for a message the user can act on. */
export class ProtocolError extends Error {}

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

function isNum(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isStr(value: unknown): value is string {
  return typeof value === 'string';
}

function isIntOrNull(value: unknown): value is number | null {
  return value === null || isInt(value);
}

function isSize(value: unknown): value is number {
  return isInt(value) && value >= 0;
}

function isArrayOf<T>(value: unknown, guard: (item: unknown) => item is T): value is T[] {
  return Array.isArray(value) && value.every(guard);
}

function optional(value: unknown, guard: (v: unknown) => boolean): boolean {
  return value === undefined || guard(value);
}

function isRss(v: unknown): v is IRss {
  return (
    isDict(v) && isInt(v.before) && isInt(v.after) && isIntOrNull(v.peak) && optional(v.limit, isIntOrNull)
  );
}

function isTracedSite(v: unknown): v is ITracedSite {
  return (
    isDict(v) && isStr(v.file) && isInt(v.line) && optional(v.code, isStr) && isInt(v.size) && isInt(v.count)
  );
}

function isTraced(v: unknown): v is ITraced {
  return (
    isDict(v) &&
    typeof v.enabled === 'boolean' &&
    optional(v.retained, isIntOrNull) &&
    optional(v.retained_all, isIntOrNull) &&
    optional(v.top, t => isArrayOf(t, isTracedSite))
  );
}

function isTypeGrowth(v: unknown): v is ITypeGrowth {
  return isDict(v) && isStr(v.type) && isInt(v.count) && isInt(v.size);
}

function isCycle(v: unknown): v is ICycle {
  return (
    isDict(v) &&
    isArrayOf(v.types, isStr) &&
    isInt(v.objects) &&
    isInt(v.size) &&
    optional(v.edges, e => isArrayOf(e, isStr))
  );
}

function isChainLink(v: unknown): v is IChainLink {
  return isDict(v) && isStr(v.label) && isStr(v.edge);
}

function isBackref(v: unknown): v is IBackref {
  return (
    isDict(v) &&
    isStr(v.type) &&
    isStr(v.root) &&
    optional(v.size, isInt) &&
    optional(v.advice, isStr) &&
    optional(v.count, isInt) &&
    isArrayOf(v.chain, isChainLink)
  );
}

function isVerdict(v: unknown): v is IVerdict {
  return (
    isDict(v) &&
    VERDICT_KINDS.includes(v.kind as VerdictKind) &&
    isArrayOf(v.flags, isStr) &&
    isIntOrNull(v.bytes_per_run) &&
    isStr(v.reason)
  );
}

function isLine(v: unknown): v is ILineIncrement {
  return isDict(v) && isInt(v.line) && isStr(v.code) && isInt(v.increment);
}

function isHeap(v: unknown): v is IHeap {
  return (
    isDict(v) &&
    optional(v.before, isIntOrNull) &&
    optional(v.after, isIntOrNull) &&
    optional(v.blocks_before, isIntOrNull) &&
    optional(v.blocks_after, isIntOrNull) &&
    optional(v.skipped, isStr)
  );
}

function isIPythonCache(v: unknown): v is IIPythonCache {
  return isDict(v) && optional(v.out, isSize) && optional(v.history, isSize);
}

function isValgrindRecord(v: unknown): v is IValgrindRecord {
  return (
    isDict(v) &&
    isInt(v.bytes) &&
    isInt(v.blocks) &&
    optional(v.kind, k => VALGRIND_KINDS.includes(k as ValgrindKind)) &&
    isArrayOf(v.stack, isStr)
  );
}

function isValgrind(v: unknown): v is IValgrind {
  return (
    isDict(v) &&
    isInt(v.definitely_lost) &&
    isInt(v.indirectly_lost) &&
    optional(v.possibly_lost, isInt) &&
    isArrayOf(v.records, isValgrindRecord)
  );
}

function isNativeAllocation(v: unknown): v is INativeAllocation {
  return isDict(v) && isInt(v.size) && isInt(v.count) && isArrayOf(v.stack, isStr);
}

function isNative(v: unknown): v is INative {
  return (
    isDict(v) &&
    isIntOrNull(v.unexplained) &&
    optional(v.skipped, isStr) &&
    optional(v.allocations, a => isArrayOf(a, isNativeAllocation)) &&
    optional(v.held, isInt) &&
    optional(v.tracked_peak, isInt)
  );
}

/**
 * Whether a value is a well-formed report of the schema version this frontend knows.
 * Unknown extra fields are allowed (the contract is extended, never renamed).
 */
export function isReport(v: unknown): v is IReport {
  return (
    isDict(v) &&
    v.schema === SCHEMA_VERSION &&
    (v.cell_id === null || isStr(v.cell_id)) &&
    isIntOrNull(v.execution_count) &&
    isInt(v.run) &&
    isNum(v.duration_s) &&
    isNum(v.overhead_s) &&
    isRss(v.rss) &&
    optional(v.traced, isTraced) &&
    optional(
      v.objects,
      o => isDict(o) && isInt(o.new) && isArrayOf(o.growth, isTypeGrowth) && optional(o.skipped, isStr)
    ) &&
    optional(
      v.gc,
      g => isDict(g) && isInt(g.collected) && isArrayOf(g.cycles, isCycle) && optional(g.skipped, isStr)
    ) &&
    optional(v.backrefs, b => isArrayOf(b, isBackref)) &&
    optional(v.native, isNative) &&
    isVerdict(v.verdict) &&
    isArrayOf(v.errors, isStr) &&
    optional(v.lines, l => isArrayOf(l, isLine)) &&
    optional(v.valgrind, isValgrind) &&
    optional(v.heap, isHeap) &&
    optional(v.ipython, isIPythonCache)
  );
}

/**
 * Whether a report carries a schema version newer than this frontend knows: the user should
 * update memdiag rather than see nothing.
 */
export function isNewerSchema(v: unknown): boolean {
  return isDict(v) && isInt(v.schema) && v.schema > SCHEMA_VERSION;
}

/**
 * Parse a comm message from the kernel. Returns null for anything malformed.
 * Throws a ProtocolError when the kernel speaks a newer protocol than this frontend.
 */
export function parseKernelMessage(data: unknown): KernelMessage | null {
  if (!isDict(data) || !isStr(data.type)) {
    return null;
  }
  switch (data.type) {
    case 'hello':
      if (isInt(data.protocol) && data.protocol > PROTOCOL_VERSION) {
        throw new ProtocolError(`protocol ${data.protocol}`);
      }
      if (
        data.protocol === PROTOCOL_VERSION &&
        isStr(data.version) &&
        isDict(data.config) &&
        Array.isArray(data.history)
      ) {
        return {
          type: 'hello',
          protocol: data.protocol,
          version: data.version,
          config: data.config,
          // One bad report must not hide the others.
          history: data.history.filter(isReport)
        };
      }
      return null;
    case 'report':
      if (isNewerSchema(data.report)) {
        throw new ProtocolError(`report schema ${(data.report as Dict).schema}`);
      }
      return isReport(data.report) ? { type: 'report', report: data.report } : null;
    case 'config':
      return isDict(data.config) ? { type: 'config', config: data.config } : null;
    case 'reply':
      if (isStr(data.request_id) && typeof data.ok === 'boolean' && optional(data.error, isStr)) {
        return {
          type: 'reply',
          request_id: data.request_id,
          ok: data.ok,
          result: data.result,
          error: data.error as string | undefined
        };
      }
      return null;
    default:
      return null;
  }
}
