// Generates src/reportschema.ts from protocol/report.schema.json: the report's TypeScript interfaces
// (json-schema-to-typescript) and the schema itself, without its annotations, for the runtime guard
// (src/schemaguard.ts). `npm run schema:types` writes the file; `--check` only says whether it is stale.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { compile } from 'json-schema-to-typescript';
import prettier from 'prettier';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCHEMA = join(ROOT, 'protocol', 'report.schema.json');
const OUTPUT = join(ROOT, 'src', 'reportschema.ts');

// Interface and type names for the schema's objects and enums, by JSON pointer. An object the schema
// gains without a name here is inlined into its parent's interface.
const NAMES = {
  '': 'IReport',
  '/properties/rss': 'IRss',
  '/properties/traced': 'ITraced',
  '/properties/traced/properties/top/items': 'ITracedSite',
  '/properties/traced/properties/top/items/properties/via/items': 'ITracedVia',
  '/properties/objects': 'IObjects',
  '/properties/objects/properties/growth/items': 'ITypeGrowth',
  '/properties/objects/properties/bound': 'IBoundValues',
  '/properties/objects/properties/machinery': 'IMachineryObjects',
  '/properties/gc': 'IGc',
  '/properties/gc/properties/cycles/items': 'ICycle',
  '/properties/gc/properties/machinery': 'IMachineryCycles',
  '/properties/backrefs/items': 'IBackref',
  '/properties/backrefs/items/properties/chain/items': 'IChainLink',
  '/properties/native': 'INative',
  '/properties/native/properties/allocations/items': 'INativeAllocation',
  '/properties/verdict': 'IVerdict',
  '/properties/verdict/properties/kind': 'VerdictKind',
  '/properties/lines/items': 'ILineIncrement',
  '/properties/lines_backend': 'LinesBackend',
  '/properties/lines_basis': 'LinesBasis',
  '/properties/valgrind': 'IValgrind',
  '/properties/valgrind/properties/records/items': 'IValgrindRecord',
  '/properties/valgrind/properties/records/items/properties/kind':
    'ValgrindKind',
  '/properties/valgrind/properties/skipped': 'IValgrindSkipped',
  '/properties/mode': 'ReportMode',
  '/properties/variables/items': 'IVariable',
  '/properties/variables/items/properties/status': 'VariableStatus',
  '/properties/imports': 'IImports',
  '/properties/heap': 'IHeap',
  '/properties/ipython': 'IIPythonCache',
  '/properties/cluster': 'ICluster',
  '/properties/cluster/properties/workers/items': 'IClusterWorker',
  '/properties/cluster/properties/lost/items': 'ILostWorker',
  '/properties/cluster/properties/verdict': 'IClusterVerdict',
  '/properties/cluster/properties/verdict/properties/kind':
    'ClusterVerdictKind',
  '/properties/cluster/properties/verdict/properties/workers/items':
    'IClusterVerdictWorker',
  '/properties/cluster/properties/traced': 'IClusterTraced',
  '/properties/cluster/properties/traced/properties/workers/items':
    'ITracedWorker',
  '/properties/cluster/properties/traced/properties/workers/items/properties/sites/items':
    'IWorkerSite',
  '/properties/cluster/properties/traced/properties/globals/items':
    'IWorkerGlobal',
  '/properties/cluster/properties/traced/properties/globals/items/properties/status':
    'WorkerGlobalStatus',
  '/properties/cluster/properties/traced/properties/globals/items/properties/chain/items':
    'IWorkerChainLink'
};

// What src/schemaguard.ts checks; anything else in the schema would be silently unchecked, so it is refused.
const CHECKED = new Set([
  'type',
  'const',
  'enum',
  'required',
  'properties',
  'items',
  'minimum',
  'maximum'
]);
const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description']);

// Keywords the runtime guard leaves out, by JSON pointer, and why.
const LENIENT = {
  // memdiag before issue 13 saved negative values in notebooks; the views clamp them.
  '/properties/verdict/properties/bytes_per_run': ['minimum']
};

/** Visit every subschema with its JSON pointer. */
function walk(schema, visit, pointer = '') {
  visit(schema, pointer);
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    walk(sub, visit, `${pointer}/properties/${name}`);
  }
  if (schema.items) {
    walk(schema.items, visit, `${pointer}/items`);
  }
}

/** The schema with the names above as titles (json-schema-to-typescript names a type after its title). */
function titled(schema) {
  const copy = structuredClone(schema);
  walk(copy, (sub, pointer) => {
    delete sub.title;
    if (NAMES[pointer]) {
      sub.title = NAMES[pointer];
    }
  });
  return copy;
}

/** The schema without annotations: the validation keywords only. */
function bare(schema, pointer = '') {
  const copy = {};
  for (const [key, value] of Object.entries(schema)) {
    if (ANNOTATIONS.has(key) || LENIENT[pointer]?.includes(key)) {
      continue;
    }
    if (!CHECKED.has(key)) {
      throw new Error(
        `report.schema.json uses "${key}", which src/schemaguard.ts does not check: teach it first`
      );
    }
    if (key === 'properties') {
      copy.properties = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [
          name,
          bare(sub, `${pointer}/properties/${name}`)
        ])
      );
    } else if (key === 'items') {
      copy.items = bare(value, `${pointer}/items`);
    } else {
      copy[key] = value;
    }
  }
  return copy;
}

export async function generate() {
  const schema = JSON.parse(await readFile(SCHEMA, 'utf8'));
  const types = await compile(titled(schema), 'IReport', {
    additionalProperties: false,
    bannerComment: '',
    format: false,
    strictIndexSignatures: true,
    unknownAny: true
  });
  const source = [
    '/**',
    ' * The report contract, generated from protocol/report.schema.json by `npm run schema:types`',
    ' * (scripts/gen-report-types.mjs): do not edit. Types say what a report holds; REPORT_SCHEMA is what',
    " * isReport checks at runtime, so the two can't disagree.",
    ' */',
    "import type { ISchema } from './schemaguard';",
    '',
    types,
    '',
    '/** protocol/report.schema.json without its annotations. */',
    `export const REPORT_SCHEMA: ISchema = ${JSON.stringify(bare(schema))};`,
    ''
  ].join('\n');
  const options = await prettier.resolveConfig(OUTPUT);
  return prettier.format(source, { ...options, filepath: OUTPUT });
}

async function main() {
  const generated = await generate();
  const name = relative(ROOT, OUTPUT);
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = await readFile(OUTPUT, 'utf8');
    } catch {
      // A missing file is as stale as an old one.
    }
    if (current !== generated) {
      console.error(
        `${name} is stale: protocol/report.schema.json changed. Run \`npm run schema:types\` and commit it.`
      );
      process.exit(1);
    }
    console.log(`${name} is up to date`);
    return;
  }
  await writeFile(OUTPUT, generated);
  console.log(`wrote ${name}`);
}

await main();
