/**
 * The settings (schema/plugin.json) that the kernel side applies, translated to its config keys.
 * Pure module.
 */
import type { IKernelConfig, KernelConfig } from './comm';

/** Bytes in a MiB: the settings give thresholds in MiB, the kernel takes bytes. */
export const MIB = 1024 * 1024;

/** Setting name → kernel config key, for the settings the kernel applies as they are. */
const KERNEL_KEYS: ReadonlyArray<[string, keyof IKernelConfig]> = [
  ['enabled', 'enabled'],
  ['trace', 'trace'],
  ['leakRuns', 'leak_runs'],
  ['cycleObjects', 'cycle_objects'],
  ['historyLength', 'history_limit']
];

/** Setting name (MiB) → kernel config key (bytes). */
const MIB_KEYS: ReadonlyArray<[string, keyof IKernelConfig]> = [
  ['retainMiB', 'retain_bytes'],
  ['leakMiBPerRun', 'leak_bytes_per_run'],
  ['cycleMiB', 'cycle_bytes'],
  ['nativeMiB', 'native_bytes']
];

export const TRACE_POLICIES = ['off', 'suspect', 'always'] as const;
export type TracePolicy = (typeof TRACE_POLICIES)[number];

export function isTracePolicy(value: unknown): value is TracePolicy {
  return TRACE_POLICIES.some(policy => policy === value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** A checker per kernel setting: the kernel's own validation (settings.py), as far as the frontend relies on it. */
const CHECKS: {
  [K in keyof IKernelConfig]: (value: unknown) => value is IKernelConfig[K];
} = {
  enabled: (value: unknown): value is boolean => typeof value === 'boolean',
  trace: isTracePolicy,
  history_limit: isCount,
  retain_bytes: isCount,
  leak_bytes_per_run: isCount,
  leak_runs: isCount,
  cycle_bytes: isCount,
  cycle_objects: isCount,
  native_bytes: isCount
};

/** Every kernel setting's key. */
export const KERNEL_CONFIG_KEYS = Object.freeze(
  Object.keys(CHECKS).filter(isKernelConfigKey)
);

export function isKernelConfigKey(key: string): key is keyof IKernelConfig {
  return Object.prototype.hasOwnProperty.call(CHECKS, key);
}

/** Whether `value` is valid for the kernel setting `key`. */
export function isKernelConfigValue<K extends keyof IKernelConfig>(
  key: K,
  value: unknown
): value is IKernelConfig[K] {
  return CHECKS[key](value);
}

/** The kernel config for a set of composite settings (thresholds in MiB become bytes); values of the wrong type are left out. */
export function kernelConfig(settings: Record<string, unknown>): KernelConfig {
  const config: KernelConfig = {};
  for (const [setting, key] of KERNEL_KEYS) {
    const value = settings[setting];
    if (isKernelConfigValue(key, value)) {
      Object.assign(config, { [key]: value });
    }
  }
  for (const [setting, key] of MIB_KEYS) {
    const value = settings[setting];
    const bytes =
      typeof value === 'number' && Number.isFinite(value)
        ? Math.round(value * MIB)
        : null;
    if (isKernelConfigValue(key, bytes)) {
      Object.assign(config, { [key]: bytes });
    }
  }
  return config;
}

/** Whether the kernel's config already has every value of `wanted`. */
export function configMatches(
  current: KernelConfig | null,
  wanted: KernelConfig
): boolean {
  return (
    current !== null &&
    KERNEL_CONFIG_KEYS.every(
      key => wanted[key] === undefined || current[key] === wanted[key]
    )
  );
}
