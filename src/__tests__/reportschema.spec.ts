import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import * as ts from 'typescript';

import { VALGRIND_KINDS, VERDICT_KINDS } from '../protocol';

const ROOT = path.resolve(__dirname, '..', '..');
const GENERATED = path.join(ROOT, 'src', 'reportschema.ts');

interface IJsonSchema {
  properties?: Record<string, IJsonSchema>;
  items?: IJsonSchema;
  enum?: unknown[];
}

const schema: IJsonSchema = JSON.parse(
  fs.readFileSync(path.join(ROOT, 'protocol', 'report.schema.json'), 'utf8')
);

describe('src/reportschema.ts, generated from protocol/report.schema.json', () => {
  it('is up to date (else: npm run schema:types)', () => {
    expect(() =>
      execFileSync(
        'node',
        [path.join(ROOT, 'scripts', 'gen-report-types.mjs'), '--check'],
        { cwd: ROOT, stdio: 'pipe' }
      )
    ).not.toThrow();
  });

  it('has every property of the schema, at every depth, in IReport', () => {
    const program = ts.createProgram([GENERATED], {
      strict: true,
      noEmit: true,
      skipLibCheck: true
    });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(GENERATED)!;
    const symbol = checker
      .getExportsOfModule(checker.getSymbolAtLocation(source)!)
      .find(s => s.name === 'IReport')!;
    const missing: string[] = [];
    const visit = (sub: IJsonSchema, type: ts.Type, where: string): void => {
      let inner = checker.getNonNullableType(type);
      if (sub.items) {
        inner = inner.getNumberIndexType() ?? inner;
        visit(sub.items, inner, `${where}[]`);
        return;
      }
      for (const [name, child] of Object.entries(sub.properties ?? {})) {
        const property = inner.getProperty(name);
        if (!property) {
          missing.push(`${where}.${name}`);
          continue;
        }
        visit(
          child,
          checker.getTypeOfSymbolAtLocation(property, source),
          `${where}.${name}`
        );
      }
    };
    visit(schema, checker.getDeclaredTypeOfSymbol(symbol), 'IReport');
    expect(missing).toEqual([]);
  });

  it('agrees with the kinds the views know', () => {
    const verdict = schema.properties!.verdict.properties!.kind.enum;
    expect([...VERDICT_KINDS].sort()).toEqual([...verdict!].sort());
    const valgrind =
      schema.properties!.valgrind.properties!.records.items!.properties!.kind
        .enum;
    expect([...VALGRIND_KINDS].sort()).toEqual([...valgrind!].sort());
  });
});
