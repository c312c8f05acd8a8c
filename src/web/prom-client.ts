/**
 * prom-client's values, loaded with `require`. prom-client is CommonJS; an ESM `import` of it
 * makes Node scan its index for named exports each time a process loads the metrics (the
 * daemon's status page). The same classes either way (one require cache).
 *
 * Types still come from `import type ... from 'prom-client'` (erased). Import prom-client's
 * values from here only: one ESM import of it anywhere in src/ brings the scan back.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const promClient = createRequire(import.meta.url)('prom-client') as typeof PromClient;

export const { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } = promClient;
