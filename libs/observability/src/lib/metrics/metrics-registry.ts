import { collectDefaultMetrics, Registry } from 'prom-client';

/** Injection token of the app's own prom-client `Registry`. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/**
 * A registry of one app's metrics, every series labelled `service`, with Node's runtime metrics
 * (CPU, memory, event loop lag, GC, handles). Not prom-client's global registry: several apps (a
 * test's) may run in one process, each with its own.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
