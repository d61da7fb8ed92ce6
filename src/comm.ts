/**
 * The comm contract on target `memdiag` (protocol/README.md): the kernel's messages, and the frontend's
 * requests typed per action, as @jupyterlab/debugger types its requests: `IRequestMap` maps an action to its
 * args, `IReplyMap` to the result of its reply. Every message from the kernel is parsed here before anything
 * trusts its shape: the kernel may run an older memdiag, or be hostile.
 *
 * Pure module: no JupyterLab imports.
 */
import type { JSONObject } from '@lumino/coreutils';

import { isKernelConfigKey, isKernelConfigValue, TracePolicy } from './config';
import {
  IBackref,
  isNewerSchema,
  isReport,
  IReport,
  REPORT_SCHEMA
} from './protocol';
import { ISchema, matchesSchema } from './schemaguard';

/** The comm protocol version this frontend understands. */
export const PROTOCOL_VERSION = 1;

/** The kernel-side settings (python/memdiag/settings.py DEFAULTS), as `hello`, `config` and the config reply carry them. */
export interface IKernelConfig {
  /** Snapshots after every cell. */
  enabled: boolean;
  /** The tracemalloc policy. */
  trace: TracePolicy;
  /** Reports the kernel keeps. */
  history_limit: number;
  /** Bytes a cell must still hold to be `retains`. */
  retain_bytes: number;
  /** Bytes each re-run must keep to be `leak`. */
  leak_bytes_per_run: number;
  /** Consecutive re-runs that make a leak. */
  leak_runs: number;
  /** Bytes of cyclic garbage that make `cycles`. */
  cycle_bytes: number;
  /** Objects of cyclic garbage that make `cycles`. */
  cycle_objects: number;
  /** Bytes of RSS growth no Python object holds that make `native`. */
  native_bytes: number;
}

/**
 * The settings a kernel reported: a kernel may run an older or newer memdiag, so any key may be missing;
 * keys this frontend does not know are dropped.
 */
export type KernelConfig = Partial<IKernelConfig>;

// Request args are type aliases, not interfaces: only those are assignable to the JSON the comm sends.

/** The args of `trace_next` and `deep_next`. */
export type CellArgs = {
  /** The notebook cell id. */
  cell_id: string;
};

/** The args of `why`. */
export type WhyArgs = {
  /** A user variable name or an expression, evaluated in the user's namespace. */
  name: string;
};

/** The result of `trace_next` and `deep_next`. */
export interface ICellResult {
  /** The cell the kernel will trace or diagnose on its next run. */
  cell_id: string;
}

/** The result of `why`: what keeps a value alive. */
export interface IWhyResult {
  /** The expression asked about (capped by the kernel). */
  name: string;
  /** Its type's qualified name. */
  type: string;
  /** References to it, why's own left out; null for an immortal object (PEP 683). */
  refcount: number | null;
  /** The interpreter never frees it (Python 3.12+): its refcount is a constant. */
  immortal?: boolean;
  /** A sentence for an immortal object, instead of referrers. */
  summary?: string;
  /** Bytes it keeps alive: a view's base buffer, a DataFrame's blocks, a container's payload. */
  size?: number;
  /** Bytes of the object itself (its getsizeof). */
  own_size?: number;
  /** Its direct holders, as `type.edge`. */
  referrers?: string[];
  /** Chains from named roots down to it, as in a report. */
  backrefs?: IBackref[];
}

/** The result of `history`. */
export interface IHistoryResult {
  /** The kept reports, oldest first; malformed ones are dropped. */
  history: IReport[];
}

/** One Dask worker in the result of `give_back`. */
export interface IGiveBackWorker {
  name: string | number;
  address: string;
  /** Bytes of RSS malloc_trim(0) gave back. */
  trimmed: number;
  rss: number | null;
  managed: number | null;
  unmanaged: number | null;
  spilled: number | null;
  memory_limit: number | null;
  /** False where the worker has no malloc_trim. */
  trim?: boolean;
}

/** The result of `give_back`: the Dask workers returned free memory to the OS. */
export interface IGiveBackResult {
  /** The scheduler's address, `?` when unknown. */
  scheduler: string;
  /** Bytes given back in all. */
  trimmed: number;
  workers: IGiveBackWorker[];
  /** Workers that did not answer, in words. */
  errors: string[];
}

/** What each request action takes as `args`. */
export interface IRequestMap {
  /** Any subset of the settings. */
  config: KernelConfig;
  why: WhyArgs;
  /** Trace the next run of that cell with tracemalloc. */
  trace_next: CellArgs;
  /** Diagnose the next run of that cell in depth, as `%%memdiag` does, and display its report. */
  deep_next: CellArgs;
  history: Record<string, never>;
  /** The Dask workers of the kernel's default Client return free memory to the OS, between cells. */
  give_back: Record<string, never>;
}

/** What the reply to each request action carries as `result`. */
export interface IReplyMap {
  /** Every setting, after the change. */
  config: KernelConfig;
  why: IWhyResult;
  trace_next: ICellResult;
  deep_next: ICellResult;
  history: IHistoryResult;
  give_back: IGiveBackResult;
}

/** A request's action. */
export type RequestAction = keyof IRequestMap;

/** Frontend → kernel. */
export interface IRequestMessage<K extends RequestAction = RequestAction> {
  type: 'request';
  request_id: string;
  action: K;
  args: IRequestMap[K];
}

/** Kernel → frontend, on comm_open: who is talking, its settings and its history. */
export interface IHelloMessage {
  type: 'hello';
  protocol: number;
  /** memdiag's version in the kernel. */
  version: string;
  config: KernelConfig;
  /** The kept reports, oldest first; malformed ones are dropped. */
  history: IReport[];
}

/** Kernel → frontend, after every cell. */
export interface IReportMessage {
  type: 'report';
  report: IReport;
}

/** Kernel → frontend, after any settings change (a magic, a request). */
export interface IConfigMessage {
  type: 'config';
  config: KernelConfig;
}

/**
 * Kernel → frontend, the answer to a request. `result` is checked against the request's action with
 * `parseReplyResult`, by whoever knows which action `request_id` asked for.
 */
export interface IReplyMessage {
  type: 'reply';
  request_id: string;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** What memdiag's post-cell work is busy with, as `progress` names it. */
export const PROGRESS_STAGES = [
  'tracing',
  'backrefs',
  'leak-check',
  'lines',
  'native',
  'workers',
  'other'
] as const;
export type ProgressStage = (typeof PROGRESS_STAGES)[number];

/**
 * Kernel → frontend, a few times at most per cell while memdiag's own work for it runs long (past
 * ~0.3 s, or when a traced run starts); the cell's report ends it.
 */
export interface IProgressMessage {
  type: 'progress';
  /** The notebook cell id, null when the kernel does not know it. */
  cell_id: string | null;
  execution_count: number | null;
  stage: ProgressStage;
  /** A sentence for the user ("memdiag: tracing this run…"), capped here. */
  text: string;
  /** Seconds memdiag has worked on this cell so far. */
  elapsed_s: number;
}

export type CommMessage =
  | IHelloMessage
  | IReportMessage
  | IConfigMessage
  | IReplyMessage
  | IProgressMessage;

/** Progress text longer than this is cut: it is one line on a badge. */
const MAX_PROGRESS_CHARS = 200;

/** The kernel speaks a newer protocol or report schema than this frontend: the user should update memdiag. */
export class ProtocolError extends Error {}

/** The kernel's memdiag speaks an older protocol than this frontend: the kernel's memdiag should be updated. */
export class OldProtocolError extends Error {}

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The settings in a kernel's message: the keys this frontend knows, each of the right type, the others
 * dropped. Null when the value is not an object or a known key has a value of the wrong type.
 */
export function parseKernelConfig(value: unknown): KernelConfig | null {
  if (!isDict(value)) {
    return null;
  }
  const config: KernelConfig = {};
  for (const [key, item] of Object.entries(value)) {
    if (!isKernelConfigKey(key)) {
      continue;
    }
    if (!isKernelConfigValue(key, item)) {
      return null;
    }
    Object.assign(config, { [key]: item });
  }
  return config;
}

const BACKREFS_SCHEMA: ISchema = REPORT_SCHEMA.properties?.backrefs ?? {
  type: 'array'
};

/** What `isWhyResult` checks. */
const WHY_SCHEMA: ISchema = {
  type: 'object',
  required: ['name', 'type', 'refcount'],
  properties: {
    name: { type: 'string' },
    type: { type: 'string' },
    refcount: { type: ['integer', 'null'] },
    immortal: { type: 'boolean' },
    summary: { type: 'string' },
    size: { type: 'integer', minimum: 0 },
    own_size: { type: 'integer', minimum: 0 },
    referrers: { type: 'array', items: { type: 'string' } },
    backrefs: BACKREFS_SCHEMA
  }
};

export function isWhyResult(value: unknown): value is IWhyResult {
  return matchesSchema(WHY_SCHEMA, value);
}

const MEASURE: ISchema = { type: ['integer', 'null'] };

/** What `isGiveBackResult` checks. */
const GIVE_BACK_SCHEMA: ISchema = {
  type: 'object',
  required: ['scheduler', 'trimmed', 'workers', 'errors'],
  properties: {
    scheduler: { type: 'string' },
    trimmed: { type: 'integer' },
    errors: { type: 'array', items: { type: 'string' } },
    workers: {
      type: 'array',
      items: {
        type: 'object',
        required: [
          'name',
          'address',
          'trimmed',
          'rss',
          'managed',
          'unmanaged',
          'spilled',
          'memory_limit'
        ],
        properties: {
          name: { type: ['string', 'integer'] },
          address: { type: 'string' },
          trimmed: { type: 'integer' },
          rss: MEASURE,
          managed: MEASURE,
          unmanaged: MEASURE,
          spilled: MEASURE,
          memory_limit: MEASURE,
          trim: { type: 'boolean' }
        }
      }
    }
  }
};

export function isGiveBackResult(value: unknown): value is IGiveBackResult {
  return matchesSchema(GIVE_BACK_SCHEMA, value);
}

function parseCellResult(value: unknown): ICellResult | null {
  return isDict(value) && typeof value.cell_id === 'string'
    ? { cell_id: value.cell_id }
    : null;
}

/** A checker per action for the result of its reply. */
const REPLY_PARSERS: {
  [K in RequestAction]: (result: unknown) => IReplyMap[K] | null;
} = {
  config: parseKernelConfig,
  why: result => (isWhyResult(result) ? result : null),
  trace_next: parseCellResult,
  deep_next: parseCellResult,
  history: result =>
    isDict(result) && Array.isArray(result.history)
      ? { history: result.history.filter(isReport) }
      : null,
  give_back: result => (isGiveBackResult(result) ? result : null)
};

/** The result of an ok reply to `action`, checked; null when it is not what that action answers. */
export function parseReplyResult<K extends RequestAction>(
  action: K,
  result: unknown
): IReplyMap[K] | null {
  return REPLY_PARSERS[action](result);
}

/** The data of a request message, as the comm sends it. */
export function requestMessage<K extends RequestAction>(
  requestId: string,
  action: K,
  args: IRequestMap[K]
): JSONObject {
  const message = {
    type: 'request',
    request_id: requestId,
    action,
    args
  } satisfies IRequestMessage<K>;
  return message;
}

/** A progress message, checked; an unknown stage (a newer kernel) reads as `other`. */
function parseProgress(data: Dict): IProgressMessage | null {
  const { cell_id, execution_count, stage, text, elapsed_s } = data;
  if (
    (cell_id !== null && typeof cell_id !== 'string') ||
    (execution_count !== null &&
      !(
        typeof execution_count === 'number' && Number.isInteger(execution_count)
      )) ||
    typeof stage !== 'string' ||
    typeof text !== 'string' ||
    typeof elapsed_s !== 'number' ||
    !Number.isFinite(elapsed_s) ||
    elapsed_s < 0 ||
    !text.trim()
  ) {
    return null;
  }
  const line = text.trim();
  return {
    type: 'progress',
    cell_id,
    execution_count,
    stage: PROGRESS_STAGES.find(known => known === stage) ?? 'other',
    text:
      line.length > MAX_PROGRESS_CHARS
        ? `${line.slice(0, MAX_PROGRESS_CHARS - 1)}…`
        : line,
    elapsed_s
  };
}

/**
 * Parse a comm message from the kernel. Returns null for anything malformed.
 * Throws a ProtocolError when the kernel speaks a newer protocol or report schema than this frontend, an
 * OldProtocolError when its hello says an older protocol (or none).
 */
export function parseKernelMessage(data: unknown): CommMessage | null {
  if (!isDict(data) || typeof data.type !== 'string') {
    return null;
  }
  switch (data.type) {
    case 'hello': {
      const protocol = data.protocol;
      if (
        typeof protocol === 'number' &&
        Number.isInteger(protocol) &&
        protocol > PROTOCOL_VERSION
      ) {
        throw new ProtocolError(`protocol ${protocol}`);
      }
      if (
        typeof protocol !== 'number' ||
        !Number.isInteger(protocol) ||
        protocol < PROTOCOL_VERSION
      ) {
        throw new OldProtocolError(
          `protocol ${typeof protocol === 'number' ? protocol : 'none'}`
        );
      }
      const config = parseKernelConfig(data.config);
      if (
        protocol !== PROTOCOL_VERSION ||
        typeof data.version !== 'string' ||
        config === null ||
        !Array.isArray(data.history)
      ) {
        return null;
      }
      return {
        type: 'hello',
        protocol,
        version: data.version,
        config,
        // One bad report must not hide the others.
        history: data.history.filter(isReport)
      };
    }
    case 'report': {
      const report = data.report;
      if (isNewerSchema(report)) {
        throw new ProtocolError(
          `report schema ${isDict(report) ? String(report.schema) : '?'}`
        );
      }
      return isReport(report) ? { type: 'report', report } : null;
    }
    case 'config': {
      const config = parseKernelConfig(data.config);
      return config ? { type: 'config', config } : null;
    }
    case 'progress':
      return parseProgress(data);
    case 'reply': {
      const { request_id, ok, error } = data;
      if (
        typeof request_id !== 'string' ||
        typeof ok !== 'boolean' ||
        (error !== undefined && typeof error !== 'string')
      ) {
        return null;
      }
      return { type: 'reply', request_id, ok, result: data.result, error };
    }
    default:
      return null;
  }
}
