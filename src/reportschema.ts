/**
 * The report contract, generated from protocol/report.schema.json by `npm run schema:types`
 * (scripts/gen-report-types.mjs): do not edit. Types say what a report holds; REPORT_SCHEMA is what
 * isReport checks at runtime, so the two can't disagree.
 */
import type { ISchema } from './schemaguard';

export type VerdictKind = 'ok' | 'retains' | 'leak' | 'cycles' | 'native';
/**
 * how line events were followed: sys.monitoring on Python 3.12+, sys.settrace before
 */
export type LinesBackend = 'sys.monitoring' | 'sys.settrace';
/**
 * what the line increments measure: Python-level traced memory (exact) or resident memory
 */
export type LinesBasis = 'tracemalloc' | 'rss';
/**
 * memcheck's word; possibly: a block of 64 KiB or more the cell's own code allocated (valgrind.POSSIBLY_LOST_MIN_BYTES)
 */
export type ValgrindKind = 'definitely' | 'indirectly' | 'possibly';
/**
 * default: cheap probes; traced: tracemalloc on for this run (suspect or always policy, or asked for); deep: %%memdiag.
 */
export type ReportMode = 'default' | 'traced' | 'deep';
export type VariableStatus = 'new' | 'rebound' | 'grown' | 'deleted';
export type ClusterVerdictKind = 'ok' | 'retains' | 'leak';
export type WorkerGlobalStatus = 'new' | 'grown' | 'rebound';

/**
 * One cell's memory report, schema version 1. Extend with optional properties; never rename.
 */
export interface IReport {
  schema: 1;
  cell_id: string | null;
  execution_count: number | null;
  run: number;
  duration_s: number;
  overhead_s: number;
  /**
   * When the cell started: wall-clock Unix time in seconds, read by the kernel. Orders a notebook's history. Absent in older reports.
   */
  started_at?: number;
  /**
   * The kernel process's session id (ipykernel's Session.session): reports with different ids ran in different kernels, a restart or a kernel change between them. Absent without a kernel (terminal IPython) and in older reports.
   */
  kernel_session?: string;
  rss: IRss;
  traced?: ITraced;
  objects?: IObjects;
  gc?: IGc;
  backrefs?: IBackref[];
  native?: INative;
  verdict: IVerdict;
  errors: string[];
  lines?: ILineIncrement[];
  lines_backend?: LinesBackend;
  lines_basis?: LinesBasis;
  valgrind?: IValgrind;
  /**
   * sha1 prefix of the cell's source: the cell's key when it has no cell id.
   */
  source_hash?: string;
  mode?: ReportMode;
  /**
   * The cell raised an exception.
   */
  raised?: boolean;
  /**
   * The exception was a KeyboardInterrupt (the user stopped the cell); only when true. Absent in older reports.
   */
  interrupted?: boolean;
  /**
   * User names the cell bound anew, rebound, grew in place or deleted, the biggest change first (a deleted name only when memdiag sized its value on an earlier run).
   */
  variables?: IVariable[];
  imports?: IImports;
  /**
   * the backref search ran out of its time budget before every target had its chain
   */
  backrefs_truncated?: boolean;
  heap?: IHeap;
  ipython?: IIPythonCache;
  cluster?: ICluster;
}
export interface IRss {
  before: number;
  /**
   * RSS read right after the cell, before memdiag's own work
   */
  after: number;
  /**
   * RSS read right after memdiag's malloc_trim, only when it trimmed (native.trimmed, or a traced run, whose tracemalloc tables are given back): where the next cell starts from, so the frontend's RSS after and Δ RSS are this one and the runs' Δ RSS add up to the kernel's growth. Absent in older reports.
   */
  after_trim?: number;
  peak: number | null;
  limit?: number | null;
}
export interface ITraced {
  enabled: boolean;
  /**
   * bytes the cell's own code (its lines and the functions and libraries they called) allocated while it ran and still held after it; not the kernel machinery's (IPython's output cache, history and formatter, ipykernel's messages), not memdiag's or tracemalloc's
   */
  retained?: number | null;
  /**
   * bytes Python allocated while the cell ran and still held after it, the kernel machinery's included (IPython's output cache, history, formatter and displayhook); memdiag's and tracemalloc's own excluded
   */
  retained_all?: number | null;
  /**
   * stack frames traced per allocation on this run (deeper stacks find the cell line below a library call, at a cost)
   */
  frames?: number;
  top?: ITracedSite[];
  /**
   * bytes used by tracemalloc's own tables when RSS was read (discounted from growth)
   */
  overhead?: number | null;
}
export interface ITracedSite {
  file: string;
  line: number;
  code?: string;
  size: number;
  count: number;
  /**
   * the site is a line of this cell (line numbers are the cell's own)
   */
  in_cell?: boolean;
  /**
   * the library lines (innermost frame that is not the kernel's) through which this site allocated, biggest first: a pandas line under the cell line that called pandas. file is `cell`, `In[n]` (an earlier cell) or a package-relative path
   */
  via?: ITracedVia[];
}
export interface ITracedVia {
  file: string;
  line: number;
  code?: string;
  size: number;
}
export interface IObjects {
  new: number;
  growth: ITypeGrowth[];
  bound?: IBoundValues;
  /**
   * estimated bytes of the new survivors, with the untracked objects they hold
   */
  size?: number;
  /**
   * why no census was taken for this cell (e.g. the user froze the gc)
   */
  skipped?: string;
  /**
   * an import cell (not run in depth): what the modules left behind is summarised by package in report.imports, not counted by type; new counts every survivor, the kernel's included
   */
  imports?: boolean;
  machinery?: IMachineryObjects;
}
export interface ITypeGrowth {
  /**
   * a type's qualified name, or "other" for the rows past the first 8
   */
  type: string;
  count: number;
  /**
   * bytes of these objects themselves (payload is its own row)
   */
  size: number;
  /**
   * how many of `count` are untracked payload (bytes, arrays, str) reached from survivors, names or Out[n]
   */
  payload?: number;
  /**
   * bytes of payload these objects hold, counted in the payload's own rows
   */
  holds?: number;
  /**
   * for the "other" row: how many types are summed into it
   */
  types?: number;
}
/**
 * untracked values bound to names or Out[n] by the cell: in the rows, not in `size`
 */
export interface IBoundValues {
  count?: number;
  size?: number;
}
/**
 * survivors of the kernel machinery's types (IPython, ipykernel, asyncio, memdiag...: memdiag/machinery.py), left out of new, size and growth
 */
export interface IMachineryObjects {
  count?: number;
  size?: number;
}
export interface IGc {
  collected: number;
  cycles: ICycle[];
  /**
   * why cyclic garbage was not looked for in this cell (e.g. the user froze or disabled the gc)
   */
  skipped?: string;
  machinery?: IMachineryCycles;
  /**
   * objects freed by automatic collections while the cell ran
   */
  during?: number;
}
export interface ICycle {
  types: string[];
  objects: number;
  size: number;
  edges?: string[];
  /**
   * garbage made by IPython itself (e.g. formatting a traceback): not counted in the verdict
   */
  internal?: boolean;
}
/**
 * cyclic garbage the kernel machinery made (IPython formatting a traceback...), left out of cycles
 */
export interface IMachineryCycles {
  groups?: number;
  objects?: number;
  size?: number;
}
export interface IBackref {
  type: string;
  root: string;
  /**
   * bytes the target keeps (its own size, its untracked payload, a view's base)
   */
  size?: number;
  /**
   * the standard fix for this root, when there is one
   */
  advice?: string;
  /**
   * chains merged into this one: they differ only in their last step (size is their sum)
   */
  count?: number;
  chain: IChainLink[];
}
export interface IChainLink {
  label: string;
  edge: string;
}
export interface INative {
  unexplained: number | null;
  /**
   * why RSS that Python does not explain cannot be judged native on this build (no malloc_trim, free-threaded)
   */
  skipped?: string;
  /**
   * Python-level bytes this run retained (tracemalloc when traced, else census and names)
   */
  explained?: number | null;
  /**
   * bytes malloc_trim(0) gave back right after the cell (allocator retention, not held by the cell)
   */
  trimmed?: number | null;
  /**
   * bytes of this run's RSS growth that were pages the previous cell's malloc_trim gave back, touched again (allocator retention, not held by the cell; only when this run did not trim)
   */
  refaulted?: number;
  /**
   * %%memdiag --native (memray): what the cell allocated and still held at its end, biggest first
   */
  allocations?: INativeAllocation[];
  /**
   * memray: bytes the cell allocated and still held
   */
  held?: number;
  /**
   * memray: the peak of tracked memory while the cell ran
   */
  tracked_peak?: number;
  tracked_allocations?: number;
  /**
   * memray: bytes held by the kernel's own code, not counted
   */
  kernel_noise?: number;
}
export interface INativeAllocation {
  size: number;
  count: number;
  stack: string[];
}
export interface IVerdict {
  kind: VerdictKind;
  flags: string[];
  /**
   * what each of the last re-runs kept on average (bytes Python accounts for that the allocators kept too; for a native verdict said per re-run, the native memory each re-run kept); never negative: a release is said in the reason
   */
  bytes_per_run: number | null;
  /**
   * bytes this run kept from its start to its end, measured as a re-run's toward a leak (what Python accounts for, as far as the allocators kept it too), for every run; a rebinding re-run keeps about nothing; null when not measured. Absent in older reports.
   */
  kept?: number | null;
  reason: string;
  /**
   * the figure the reason states for the verdict's kind, in bytes: a leak's bytes per re-run, what a retains cell holds, the cyclic garbage seen, the RSS growth Python does not explain; null for ok (absent in older reports)
   */
  bytes?: number | null;
  /**
   * true when `bytes` is what each re-run keeps (a leak, a native leak repeated on every re-run) rather than one run's figure (absent in older reports)
   */
  per_run?: boolean;
}
export interface ILineIncrement {
  line: number;
  code: string;
  increment: number;
  /**
   * how far above its starting point the memory went while the line ran (highest run); on the rss basis the RSS high-water mark of a top-level simple statement, null for the lines of a loop or other compound statement
   */
  peak?: number | null;
  /**
   * the increment of resident memory (native allocations show only here)
   */
  rss_increment?: number;
  /**
   * how many times the line ran
   */
  hits?: number;
  /**
   * the -f function this line belongs to (absent: the cell's own line)
   */
  func?: string;
  /**
   * the function's file; "cell" when the cell itself defines it (line is then the cell's)
   */
  file?: string;
}
export interface IValgrind {
  definitely_lost: number;
  indirectly_lost: number;
  records: IValgrindRecord[];
  possibly_lost?: number;
  skipped?: IValgrindSkipped;
  /**
   * records kept before the biggest were chosen
   */
  record_count?: number;
  exit_code?: number | null;
  duration_s?: number;
  /**
   * the end of the interpreter's stdout and stderr
   */
  output?: string;
}
export interface IValgrindRecord {
  bytes: number;
  blocks: number;
  stack: string[];
  kind?: ValgrindKind;
}
/**
 * records of the interpreter's own start-up and shutdown, not counted
 */
export interface IValgrindSkipped {
  records?: number;
  bytes?: number;
}
export interface IVariable {
  name: string;
  status: VariableStatus;
  type: string;
  /**
   * bytes the name keeps alive on its own: its value, the untracked payload it holds, and the tracked objects below it that nothing else holds (sampled); for a deleted name, what it kept when last read
   */
  size: number;
  /**
   * bytes this run added under the name: its size; 0 when another name held the value before the run; for a rebound name, less the old value's size when only the name held it and it was freed (may be negative); for grown containers, the newest items; for a deleted name, minus the bytes its deletion freed, 0 when something else still held the value
   */
  delta: number;
  /**
   * items added to a grown container
   */
  added?: number;
}
/**
 * Modules the cell imported: their memory is not counted as retained.
 */
export interface IImports {
  count: number;
  modules: string[];
  /**
   * The top-level packages imported, most modules first (at most 8).
   */
  packages?: {
    name: string;
    modules: number;
  }[];
}
/**
 * The allocators' own counters before and after the cell: the net measure of what a run kept, blind to RSS's lies (a warm allocator absorbing new blocks, calloc'd pages not resident yet).
 */
export interface IHeap {
  /**
   * bytes glibc's malloc had in use before the cell (mallinfo2 uordblks + hblkhd), null where unavailable
   */
  before?: number | null;
  /**
   * the same, after the cell and its cyclic garbage were freed
   */
  after?: number | null;
  /**
   * sys.getallocatedblocks() before the cell
   */
  blocks_before?: number | null;
  /**
   * sys.getallocatedblocks() after the cell
   */
  blocks_after?: number | null;
  /**
   * blocks_before is the count read at the end of the previous cell: the kernel stayed idle since (glibc's in-use bytes and RSS each moved by less than 1 MiB), and reading it again visits every pymalloc pool
   */
  blocks_carried?: boolean;
  /**
   * why the malloc counter cannot be read on this platform or build
   */
  skipped?: string;
}
/**
 * What IPython's own caches took for this run: held by Python objects, never native.
 */
export interface IIPythonCache {
  /**
   * bytes of the values the cell left in Out[n] (also _n, _oh, _)
   */
  out?: number;
  /**
   * bytes of the output bundles and text reprs HistoryManager keeps for the cell
   */
  history?: number;
  /**
   * the Out[n] keys this run added
   */
  keys?: number[];
  /**
   * bytes of out that a name's delta counted already (a cell ending in `df` shows the frame it bound to df): the verdict counts them once
   */
  named?: number;
}
/**
 * The Dask workers of the kernel's default dask.distributed Client, read fresh (client.run) before and after the cell; only when distributed is imported and a Client is active. Figures in Dask's own terms (distributed.scheduler.MemoryState), bytes.
 */
export interface ICluster {
  /**
   * the scheduler's address
   */
  scheduler: string | null;
  /**
   * every worker read after the cell, in name order
   */
  workers: IClusterWorker[];
  /**
   * workers read before the cell and not after it: died, or removed by the scheduler
   */
  lost?: ILostWorker[];
  /**
   * bytes malloc_trim gave back on all workers before the verdict (asked only when the growth crossed the leak threshold)
   */
  trimmed?: number;
  /**
   * seconds memdiag spent reading the workers for this cell
   */
  duration_s?: number;
  /**
   * why the workers were not read (no running client, a timeout, a client closed during or between cells)
   */
  skipped?: string;
  /**
   * per-worker failures (a worker's answer, --workers tracing)
   */
  errors?: string[];
  verdict?: IClusterVerdict;
  traced?: IClusterTraced;
}
export interface IClusterWorker {
  name: string;
  address: string;
  /**
   * the worker process's RSS before the cell; null for a worker that joined during it
   */
  rss_before: number | null;
  /**
   * RSS after the cell (after malloc_trim when the probe trimmed)
   */
  rss_after: number;
  /**
   * sizeof() of the keys the worker holds in memory, after the cell
   */
  managed: number;
  /**
   * rss_after - managed
   */
  unmanaged: number;
  /**
   * bytes of keys spilled to disk
   */
  spilled: number;
  /**
   * the worker's memory limit, null when it has none
   */
  memory_limit?: number | null;
  managed_before?: number | null;
  unmanaged_before?: number | null;
  /**
   * RSS malloc_trim(0) gave back after the cell
   */
  trimmed?: number;
  /**
   * the worker was not there before the cell
   */
  joined?: boolean;
}
export interface ILostWorker {
  name: string;
  address: string;
  rss_before?: number;
  why?: string;
}
export interface IClusterVerdict {
  kind: ClusterVerdictKind;
  /**
   * unmanaged bytes each re-run left on the workers in total (the leak's slope, averaged over the last leak_runs re-runs; this re-run's otherwise)
   */
  bytes_per_run: number | null;
  reason: string;
  /**
   * the workers that grow (a leak only), biggest first
   */
  workers?: IClusterVerdictWorker[];
}
export interface IClusterVerdictWorker {
  name: string;
  address: string;
  bytes_per_run: number;
}
/**
 * %%memdiag --workers: tracemalloc on the workers for the cell
 */
export interface IClusterTraced {
  workers?: ITracedWorker[];
  /**
   * module globals in the worker processes that the cell's tasks created, grew or rebound, merged over the workers, biggest first; in the style of backrefs (root, chain, advice)
   */
  globals?: IWorkerGlobal[];
}
export interface ITracedWorker {
  name: string;
  address: string;
  /**
   * bytes allocated during the cell and still held on the worker
   */
  retained?: number;
  /**
   * the part of retained the worker's own machinery allocated (messages, bookkeeping)
   */
  machinery?: number | null;
  /**
   * tracemalloc's peak during the cell
   */
  peak?: number;
  sites: IWorkerSite[];
}
export interface IWorkerSite {
  /**
   * "cell" (this cell), "In[n]" (an earlier cell), a shortened path, or a note when a cloudpickled function cannot be found back
   */
  file: string;
  line: number;
  code?: string;
  size: number;
  count: number;
  /**
   * the notebook function the site is in (sent by value, found back by its line)
   */
  function?: string;
}
export interface IWorkerGlobal {
  /**
   * module.name
   */
  root: string;
  type: string;
  status: WorkerGlobalStatus;
  /**
   * bytes it keeps now, summed over the workers
   */
  size: number;
  /**
   * items the cell added, summed over the workers
   */
  added?: number | null;
  /**
   * bytes of what the cell added (the whole value when new or rebound)
   */
  added_size?: number;
  /**
   * names of the workers where it grew
   */
  workers: string[];
  chain: IWorkerChainLink[];
  advice?: string;
}
export interface IWorkerChainLink {
  label: string;
  edge: string;
}

/** protocol/report.schema.json without its annotations. */
export const REPORT_SCHEMA: ISchema = {
  type: 'object',
  required: [
    'schema',
    'cell_id',
    'execution_count',
    'run',
    'duration_s',
    'overhead_s',
    'rss',
    'verdict',
    'errors'
  ],
  properties: {
    schema: { const: 1 },
    cell_id: { type: ['string', 'null'] },
    execution_count: { type: ['integer', 'null'] },
    run: { type: 'integer', minimum: 1 },
    duration_s: { type: 'number', minimum: 0 },
    overhead_s: { type: 'number', minimum: 0 },
    started_at: { type: 'number', minimum: 0 },
    kernel_session: { type: 'string' },
    rss: {
      type: 'object',
      required: ['before', 'after', 'peak'],
      properties: {
        before: { type: 'integer', minimum: 0 },
        after: { type: 'integer', minimum: 0 },
        after_trim: { type: 'integer', minimum: 0 },
        peak: { type: ['integer', 'null'], minimum: 0 },
        limit: { type: ['integer', 'null'], minimum: 0 }
      }
    },
    traced: {
      type: 'object',
      required: ['enabled'],
      properties: {
        enabled: { type: 'boolean' },
        retained: { type: ['integer', 'null'] },
        retained_all: { type: ['integer', 'null'] },
        frames: { type: 'integer', minimum: 1 },
        top: {
          type: 'array',
          items: {
            type: 'object',
            required: ['file', 'line', 'size', 'count'],
            properties: {
              file: { type: 'string' },
              line: { type: 'integer' },
              code: { type: 'string' },
              size: { type: 'integer' },
              count: { type: 'integer' },
              in_cell: { type: 'boolean' },
              via: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['file', 'line', 'size'],
                  properties: {
                    file: { type: 'string' },
                    line: { type: 'integer' },
                    code: { type: 'string' },
                    size: { type: 'integer' }
                  }
                }
              }
            }
          }
        },
        overhead: { type: ['integer', 'null'] }
      }
    },
    objects: {
      type: 'object',
      required: ['new', 'growth'],
      properties: {
        new: { type: 'integer', minimum: 0 },
        growth: {
          type: 'array',
          items: {
            type: 'object',
            required: ['type', 'count', 'size'],
            properties: {
              type: { type: 'string' },
              count: { type: 'integer' },
              size: { type: 'integer' },
              payload: { type: 'integer' },
              holds: { type: 'integer' },
              types: { type: 'integer' }
            }
          }
        },
        bound: {
          type: 'object',
          properties: { count: { type: 'integer' }, size: { type: 'integer' } }
        },
        size: { type: 'integer', minimum: 0 },
        skipped: { type: 'string' },
        imports: { type: 'boolean' },
        machinery: {
          type: 'object',
          properties: {
            count: { type: 'integer', minimum: 0 },
            size: { type: 'integer', minimum: 0 }
          }
        }
      }
    },
    gc: {
      type: 'object',
      required: ['collected', 'cycles'],
      properties: {
        collected: { type: 'integer', minimum: 0 },
        cycles: {
          type: 'array',
          items: {
            type: 'object',
            required: ['types', 'objects', 'size'],
            properties: {
              types: { type: 'array', items: { type: 'string' } },
              objects: { type: 'integer', minimum: 0 },
              size: { type: 'integer', minimum: 0 },
              edges: { type: 'array', items: { type: 'string' } },
              internal: { type: 'boolean' }
            }
          }
        },
        skipped: { type: 'string' },
        machinery: {
          type: 'object',
          properties: {
            groups: { type: 'integer', minimum: 0 },
            objects: { type: 'integer', minimum: 0 },
            size: { type: 'integer', minimum: 0 }
          }
        },
        during: { type: 'integer', minimum: 0 }
      }
    },
    backrefs: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type', 'root', 'chain'],
        properties: {
          type: { type: 'string' },
          root: { type: 'string' },
          size: { type: 'integer' },
          advice: { type: 'string' },
          count: { type: 'integer', minimum: 1 },
          chain: {
            type: 'array',
            items: {
              type: 'object',
              required: ['label', 'edge'],
              properties: {
                label: { type: 'string' },
                edge: { type: 'string' }
              }
            }
          }
        }
      }
    },
    native: {
      type: 'object',
      required: ['unexplained'],
      properties: {
        unexplained: { type: ['integer', 'null'] },
        skipped: { type: 'string' },
        explained: { type: ['integer', 'null'] },
        trimmed: { type: ['integer', 'null'] },
        refaulted: { type: 'integer', minimum: 1 },
        allocations: {
          type: 'array',
          items: {
            type: 'object',
            required: ['size', 'count', 'stack'],
            properties: {
              size: { type: 'integer' },
              count: { type: 'integer' },
              stack: { type: 'array', items: { type: 'string' } }
            }
          }
        },
        held: { type: 'integer' },
        tracked_peak: { type: 'integer' },
        tracked_allocations: { type: 'integer' },
        kernel_noise: { type: 'integer' }
      }
    },
    verdict: {
      type: 'object',
      required: ['kind', 'flags', 'bytes_per_run', 'reason'],
      properties: {
        kind: { enum: ['ok', 'retains', 'leak', 'cycles', 'native'] },
        flags: { type: 'array', items: { type: 'string' } },
        bytes_per_run: { type: ['integer', 'null'] },
        kept: { type: ['integer', 'null'], minimum: 0 },
        reason: { type: 'string' },
        bytes: { type: ['integer', 'null'] },
        per_run: { type: 'boolean' }
      }
    },
    errors: { type: 'array', items: { type: 'string' } },
    lines: {
      type: 'array',
      items: {
        type: 'object',
        required: ['line', 'code', 'increment'],
        properties: {
          line: { type: 'integer' },
          code: { type: 'string' },
          increment: { type: 'integer' },
          peak: { type: ['integer', 'null'] },
          rss_increment: { type: 'integer' },
          hits: { type: 'integer', minimum: 0 },
          func: { type: 'string' },
          file: { type: 'string' }
        }
      }
    },
    lines_backend: { enum: ['sys.monitoring', 'sys.settrace'] },
    lines_basis: { enum: ['tracemalloc', 'rss'] },
    valgrind: {
      type: 'object',
      required: ['definitely_lost', 'indirectly_lost', 'records'],
      properties: {
        definitely_lost: { type: 'integer' },
        indirectly_lost: { type: 'integer' },
        records: {
          type: 'array',
          items: {
            type: 'object',
            required: ['bytes', 'blocks', 'stack'],
            properties: {
              bytes: { type: 'integer' },
              blocks: { type: 'integer' },
              stack: { type: 'array', items: { type: 'string' } },
              kind: { enum: ['definitely', 'indirectly', 'possibly'] }
            }
          }
        },
        possibly_lost: { type: 'integer' },
        skipped: {
          type: 'object',
          properties: {
            records: { type: 'integer' },
            bytes: { type: 'integer' }
          }
        },
        record_count: { type: 'integer' },
        exit_code: { type: ['integer', 'null'] },
        duration_s: { type: 'number', minimum: 0 },
        output: { type: 'string' }
      }
    },
    source_hash: { type: 'string' },
    mode: { enum: ['default', 'traced', 'deep'] },
    raised: { type: 'boolean' },
    interrupted: { type: 'boolean' },
    variables: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'status', 'type', 'size', 'delta'],
        properties: {
          name: { type: 'string' },
          status: { enum: ['new', 'rebound', 'grown', 'deleted'] },
          type: { type: 'string' },
          size: { type: 'integer' },
          delta: { type: 'integer' },
          added: { type: 'integer' }
        }
      }
    },
    imports: {
      type: 'object',
      required: ['count', 'modules'],
      properties: {
        count: { type: 'integer', minimum: 0 },
        modules: { type: 'array', items: { type: 'string' } },
        packages: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'modules'],
            properties: {
              name: { type: 'string' },
              modules: { type: 'integer', minimum: 1 }
            }
          }
        }
      }
    },
    backrefs_truncated: { type: 'boolean' },
    heap: {
      type: 'object',
      properties: {
        before: { type: ['integer', 'null'] },
        after: { type: ['integer', 'null'] },
        blocks_before: { type: ['integer', 'null'] },
        blocks_after: { type: ['integer', 'null'] },
        blocks_carried: { type: 'boolean' },
        skipped: { type: 'string' }
      }
    },
    ipython: {
      type: 'object',
      properties: {
        out: { type: 'integer', minimum: 0 },
        history: { type: 'integer', minimum: 0 },
        keys: { type: 'array', items: { type: 'integer' } },
        named: { type: 'integer', minimum: 0 }
      }
    },
    cluster: {
      type: 'object',
      required: ['scheduler', 'workers'],
      properties: {
        scheduler: { type: ['string', 'null'] },
        workers: {
          type: 'array',
          items: {
            type: 'object',
            required: [
              'name',
              'address',
              'rss_before',
              'rss_after',
              'managed',
              'unmanaged',
              'spilled'
            ],
            properties: {
              name: { type: 'string' },
              address: { type: 'string' },
              rss_before: { type: ['integer', 'null'] },
              rss_after: { type: 'integer' },
              managed: { type: 'integer', minimum: 0 },
              unmanaged: { type: 'integer' },
              spilled: { type: 'integer', minimum: 0 },
              memory_limit: { type: ['integer', 'null'] },
              managed_before: { type: ['integer', 'null'] },
              unmanaged_before: { type: ['integer', 'null'] },
              trimmed: { type: 'integer', minimum: 0 },
              joined: { type: 'boolean' }
            }
          }
        },
        lost: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'address'],
            properties: {
              name: { type: 'string' },
              address: { type: 'string' },
              rss_before: { type: 'integer' },
              why: { type: 'string' }
            }
          }
        },
        trimmed: { type: 'integer', minimum: 0 },
        duration_s: { type: 'number', minimum: 0 },
        skipped: { type: 'string' },
        errors: { type: 'array', items: { type: 'string' } },
        verdict: {
          type: 'object',
          required: ['kind', 'bytes_per_run', 'reason'],
          properties: {
            kind: { enum: ['ok', 'retains', 'leak'] },
            bytes_per_run: { type: ['integer', 'null'], minimum: 0 },
            reason: { type: 'string' },
            workers: {
              type: 'array',
              items: {
                type: 'object',
                required: ['name', 'address', 'bytes_per_run'],
                properties: {
                  name: { type: 'string' },
                  address: { type: 'string' },
                  bytes_per_run: { type: 'integer' }
                }
              }
            }
          }
        },
        traced: {
          type: 'object',
          properties: {
            workers: {
              type: 'array',
              items: {
                type: 'object',
                required: ['name', 'address', 'sites'],
                properties: {
                  name: { type: 'string' },
                  address: { type: 'string' },
                  retained: { type: 'integer', minimum: 0 },
                  machinery: { type: ['integer', 'null'], minimum: 0 },
                  peak: { type: 'integer', minimum: 0 },
                  sites: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['file', 'line', 'size', 'count'],
                      properties: {
                        file: { type: 'string' },
                        line: { type: 'integer' },
                        code: { type: 'string' },
                        size: { type: 'integer', minimum: 0 },
                        count: { type: 'integer', minimum: 0 },
                        function: { type: 'string' }
                      }
                    }
                  }
                }
              }
            },
            globals: {
              type: 'array',
              items: {
                type: 'object',
                required: [
                  'root',
                  'type',
                  'status',
                  'size',
                  'workers',
                  'chain'
                ],
                properties: {
                  root: { type: 'string' },
                  type: { type: 'string' },
                  status: { enum: ['new', 'grown', 'rebound'] },
                  size: { type: 'integer', minimum: 0 },
                  added: { type: ['integer', 'null'] },
                  added_size: { type: 'integer', minimum: 0 },
                  workers: { type: 'array', items: { type: 'string' } },
                  chain: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['label', 'edge'],
                      properties: {
                        label: { type: 'string' },
                        edge: { type: 'string' }
                      }
                    }
                  },
                  advice: { type: 'string' }
                }
              }
            }
          }
        }
      }
    }
  }
};
