import { parseKernelConfig } from '../comm';
import { configMatches, kernelConfig } from '../config';

describe('kernelConfig', () => {
  it('maps settings to kernel keys', () => {
    expect(
      kernelConfig({
        enabled: false,
        trace: 'always',
        leakBytesPerRun: 1000,
        historyLength: 50,
        autoLoad: true
      })
    ).toEqual({
      enabled: false,
      trace: 'always',
      leak_bytes_per_run: 1000,
      history_limit: 50
    });
  });

  it('leaves out values of the wrong type', () => {
    expect(
      kernelConfig({
        enabled: 'yes',
        trace: 'sometimes',
        retainBytes: -1,
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
