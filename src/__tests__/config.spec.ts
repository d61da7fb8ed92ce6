import { parseKernelConfig } from '../comm';
import { configMatches, kernelConfig } from '../config';

describe('the settings schema', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const schema = require('../../schema/plugin.json');

  it('gives thresholds in MiB, with a title and a description in words (no Markdown)', () => {
    for (const key of ['retainMiB', 'leakMiBPerRun', 'cycleMiB', 'nativeMiB']) {
      const property = schema.properties[key];
      expect(property.type).toBe('number');
      expect(property.title).toContain('MiB');
      expect(property.description).toContain('MiB');
    }
    for (const [key, property] of Object.entries<any>(schema.properties)) {
      expect([key, typeof property.title]).toEqual([key, 'string']);
      expect([key, typeof property.description]).toEqual([key, 'string']);
      expect(property.description).not.toContain('`');
    }
    // The defaults are the kernel's own (python/memdiag/settings.py), in MiB.
    expect(
      kernelConfig(
        Object.fromEntries(
          Object.entries<any>(schema.properties).map(([k, p]) => [k, p.default])
        )
      )
    ).toMatchObject({
      retain_bytes: 10 * 1_048_576,
      leak_bytes_per_run: 2 * 1_048_576,
      cycle_bytes: 1_048_576,
      native_bytes: 20 * 1_048_576
    });
  });

  it("puts its cell commands in a group of their own after JupyterLab's, after a separator", () => {
    const context = schema['jupyter.lab.menus'].context;
    expect(context[0].type).toBe('separator');
    // JupyterLab's own notebook context menu ends at rank 60 (log console).
    expect(Math.min(...context.map((item: any) => item.rank))).toBeGreaterThan(
      60
    );
    expect(context.slice(1).map((item: any) => item.command)).toEqual([
      'memdiag:diagnose-cell',
      'memdiag:check-leaks',
      'memdiag:why-alive'
    ]);
  });
});

describe('kernelConfig', () => {
  it('maps settings to kernel keys', () => {
    expect(
      kernelConfig({
        enabled: false,
        trace: 'always',
        leakMiBPerRun: 2,
        retainMiB: 0.5,
        cycleMiB: 1,
        nativeMiB: 20,
        cycleObjects: 1000,
        historyLength: 50,
        autoLoad: true
      })
    ).toEqual({
      enabled: false,
      trace: 'always',
      leak_bytes_per_run: 2_097_152,
      retain_bytes: 524_288,
      cycle_bytes: 1_048_576,
      native_bytes: 20_971_520,
      cycle_objects: 1000,
      history_limit: 50
    });
  });

  it('leaves out values of the wrong type', () => {
    expect(
      kernelConfig({
        enabled: 'yes',
        trace: 'sometimes',
        retainMiB: -1,
        nativeMiB: 'lots',
        cycleObjects: 1.5
      })
    ).toEqual({});
  });

  it('compares with the kernel config', () => {
    expect(
      configMatches(parseKernelConfig({ enabled: true, trace: 'off', x: 1 }), {
        enabled: true,
        trace: 'off'
      })
    ).toBe(true);
    expect(configMatches({ enabled: true }, { enabled: false })).toBe(false);
    expect(configMatches(null, {})).toBe(false);
  });
});
