import 'reflect-metadata';

import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

import type { INestApplicationContext } from '@nestjs/common';

import { type BenchContext } from './core/context';
import { createDriver } from './core/driver';
import { type BenchReport, FigureSink } from './core/figures';
import { createTokenWorld, type TokenWorld } from './core/issuer';
import { type BenchNats, startBenchNats } from './core/nats-server';
import { type BenchOptions, parseOptions, type Section } from './core/options';
import { benchE2e } from './e2e/e2e.bench';
import { benchEmbedded } from './embedded/embedded.bench';
import { benchObservability } from './observability/observability.bench';
import { type OtlpSink, startOtlpSink } from './observability/otlp-sink';
import { benchHttpGuard } from './http/http-guard.bench';
import { benchLogins } from './logins/logins.bench';
import { benchClosedBus } from './nats/closed-bus.bench';
import { benchNatsHop } from './nats/nats-hop.bench';
import { startTargets, stopTargets } from './targets/start-targets';
import { writeReport } from './report/write-report';
import { benchVerifier } from './verifier/verifier.bench';

const WORKSPACE_ROOT = resolve(__dirname, '..', '..');

const cleanups: (() => Promise<void>)[] = [];

async function section(name: Section, options: BenchOptions, work: () => Promise<void>): Promise<void> {
  if (!options.sections.has(name)) return;
  process.stdout.write(`\n== ${name}\n`);
  const started = performance.now();
  await work();
  process.stdout.write(`   (${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
}

async function runAuthSections(context: BenchContext): Promise<void> {
  const { options } = context;
  let driver: INestApplicationContext | undefined;
  const needsDriver = options.sections.has('verifier') || options.sections.has('nats');
  if (needsDriver) {
    driver = await createDriver(context.world);
    cleanups.push(() => driver?.close() ?? Promise.resolve());
  }
  const startedDriver = driver;
  const needsTargets = options.sections.has('http') || options.sections.has('nats');
  // the smoke run overlaps the targets' start-up with the verifier section; a full run keeps the
  // verifier's core quiet instead
  const early = needsTargets && options.mode === 'quick' ? startTargets(context) : undefined;
  early?.catch(() => undefined);
  await section('verifier', options, () =>
    startedDriver ? benchVerifier(context, startedDriver) : Promise.resolve(),
  );
  if (needsTargets) {
    const targets = await (early ?? startTargets(context));
    try {
      await section('http', options, () => benchHttpGuard(context, targets));
      await section('nats', options, () =>
        startedDriver ? benchNatsHop(context, targets, startedDriver) : Promise.resolve(),
      );
    } finally {
      await stopTargets(targets);
    }
  }
  await section('observability', options, () => benchObservability(context, context.otlpSink as OtlpSink));
  // its own buses, targets and requesters: the ones above are stopped first, so they take no memory
  await section('closed-bus', options, () => benchClosedBus(context, (stop) => cleanups.push(stop)));
}

async function main(): Promise<void> {
  const started = performance.now();
  const options = parseOptions(process.argv.slice(2), WORKSPACE_ROOT);
  const sink = new FigureSink();
  process.stdout.write(
    `relay bench (${options.mode}): ${[...options.sections].join(', ')}; ${options.runs} run(s) per figure (verifier ${options.verifierRuns}), medians\n`,
  );
  const nats: BenchNats = await startBenchNats();
  cleanups.push(() => nats.stop());
  process.stdout.write(`NATS: ${nats.description}\n`);
  let world: TokenWorld | undefined;
  const needsTokens = ['verifier', 'http', 'nats', 'observability', 'closed-bus'].some((name) =>
    options.sections.has(name as Section),
  );
  if (needsTokens) {
    const worldStarted = performance.now();
    world = await createTokenWorld(
      nats.url,
      options.tokenPool,
      options.residentTokens,
      options.revokedEntries,
    );
    process.stdout.write(
      `tokens: ${options.tokenPool + options.residentTokens} minted, ${options.revokedEntries} revocations loaded (${((performance.now() - worldStarted) / 1000).toFixed(1)} s)\n`,
    );
    const created = world;
    cleanups.push(() => created.close());
    // the collector every target with tracing exports its spans to (the Relay apps' default: all on)
    const otlpSink = await startOtlpSink();
    cleanups.push(() => otlpSink.close());
    await runAuthSections({ options, sink, world, otlpSink });
  }
  await section('logins', options, () => benchLogins(options, sink, nats.url));
  await section('e2e', options, () => benchE2e(options, sink, nats.url));
  await section('embedded', options, () => benchEmbedded(options, sink));
  const report: BenchReport = {
    generatedAt: new Date().toISOString(),
    mode: options.mode,
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      platform: process.platform,
    },
    runs: options.runs,
    verifierRuns: options.verifierRuns,
    figures: sink.figures,
    skipped: sink.skipped,
    notes: sink.notes,
    durationSeconds: Math.round((performance.now() - started) / 1000),
  };
  const written = await writeReport(report, options.outDir);
  process.stdout.write(`\nwrote ${written.join(', ')} (${report.durationSeconds} s)\n`);
}

async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups.length = 0;
}

process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));
process.once('SIGTERM', () => void cleanUp().finally(() => process.exit(143)));

main()
  .then(cleanUp)
  .then(() => process.exit(0))
  .catch(async (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    await cleanUp();
    process.exit(1);
  });
