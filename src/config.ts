/**
 * The settings (schema/plugin.json) that the kernel side applies, translated to its config keys.
 * Pure module.
 */

/** Setting name → kernel config key, for the settings the kernel applies. */
const KERNEL_KEYS: ReadonlyArray<[string, string, 'boolean' | 'integer' | 'trace']> = [
  ['enabled', 'enabled', 'boolean'],
  ['trace', 'trace', 'trace'],
  ['retainBytes', 'retain_bytes', 'integer'],
  ['leakBytesPerRun', 'leak_bytes_per_run', 'integer'],
  ['leakRuns', 'leak_runs', 'integer'],
  ['cycleBytes', 'cycle_bytes', 'integer'],
  ['cycleObjects', 'cycle_objects', 'integer'],
  ['nativeBytes', 'native_bytes', 'integer'],
  ['historyLength', 'history_limit', 'integer']
];

export const TRACE_POLICIES = ['off', 'suspect', 'always'] as const;
export type TracePolicy = (typeof TRACE_POLICIES)[number];

export function isTracePolicy(value: unknown): value is TracePolicy {
  return typeof value === 'string' && (TRACE_POLICIES as ReadonlyArray<string>).includes(value);
}

/** The kernel config for a set of composite settings; values of the wrong type are left out. */
export function kernelConfig(settings: Record<string, unknown>): Record<string, boolean | number | string> {
  const config: Record<string, boolean | number | string> = {};
  for (const [setting, key, type] of KERNEL_KEYS) {
    const value = settings[setting];
    const valid =
      type === 'boolean'
        ? typeof value === 'boolean'
        : type === 'trace'
          ? isTracePolicy(value)
          : typeof value === 'number' && Number.isInteger(value) && value >= 0;
    if (valid) {
      config[key] = value as boolean | number | string;
    }
  }
  return config;
}

/** Whether the kernel's config already has every value of `wanted`. */
export function configMatches(current: Record<string, unknown> | null, wanted: Record<string, unknown>): boolean {
  return current !== null && Object.keys(wanted).every(key => current[key] === wanted[key]);
}
