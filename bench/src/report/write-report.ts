import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { BenchReport, Figure } from '../core/figures';
import { type ChartSeries, lineChartSvg } from './svg-chart';

const CHART_FILE = 'e2e-throughput.svg';
const E2E_RPS = /^e2e\.([a-z]+)\.c(\d+)\.rps$/;
const FLOOR_RPS = /^orders\.floor\.c(\d+)\.rps$/;

/**
 * Throughput vs concurrency per database, from the `e2e.<db>.c<N>.rps` figures, and the order path's
 * floor beside them (`orders.floor.c<N>.rps`: node:http + nats + pg on the same PostgreSQL).
 */
export function e2eSeries(figures: Figure[]): ChartSeries[] {
  const byName = new Map<string, ChartSeries>();
  const add = (key: string, label: string, x: number, y: number): void => {
    const series = byName.get(key) ?? { label, points: [] };
    series.points.push({ x, y });
    byName.set(key, series);
  };
  for (const figure of figures) {
    const relay = E2E_RPS.exec(figure.name);
    if (relay) {
      add(
        relay[1],
        relay[1] === 'pglite' ? 'Relay, PGlite' : 'Relay, PostgreSQL',
        Number(relay[2]),
        figure.value,
      );
    }
    const floor = FLOOR_RPS.exec(figure.name);
    if (floor) add('floor', 'floor (node:http + nats + pg), PostgreSQL', Number(floor[1]), figure.value);
  }
  return [...byName.values()];
}

function cell(value: unknown): string {
  return String(value).replace(/\|/g, '\\|');
}

function table(figures: Figure[]): string[] {
  return [
    '| figure | value | unit | goal | met |',
    '|---|---:|---|---|---|',
    ...figures.map(
      (f) =>
        `| ${cell(f.name)} | ${f.value} | ${cell(f.unit)} | ${cell(f.goal ?? '')} | ${f.met === null ? '' : f.met ? 'yes' : '**no**'} |`,
    ),
  ];
}

/** The Markdown twin of `latest.json`. */
export function toMarkdown(report: BenchReport, hasChart: boolean): string {
  const goals = report.figures.filter((figure) => figure.goal !== null);
  const lines = [
    `# Relay bench results (${report.mode})`,
    '',
    `${report.generatedAt}; ${report.machine.cpus} × ${report.machine.model}; node ${report.machine.node} on ${report.machine.platform}; ` +
      `medians of ${report.runs} run(s) (verifier section: ${report.verifierRuns}); ${report.durationSeconds} s. What each figure means: bench/README.md.`,
    '',
    '## Goals',
    '',
    ...(goals.length > 0 ? table(goals) : ['No goal was measured in this run.']),
    '',
    '## All figures',
    '',
    ...table(report.figures),
  ];
  if (hasChart) {
    lines.push(
      '',
      '## End to end: throughput vs concurrency',
      '',
      `![POST /orders throughput vs concurrency](${CHART_FILE})`,
    );
  }
  if (report.skipped.length > 0) {
    lines.push('', '## Skipped', '', ...report.skipped.map((line) => `- ${line}`));
  }
  if (report.notes.length > 0) {
    lines.push('', '## Notes and profiles', '', ...report.notes.map((line) => `- ${line}`));
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `latest.json`, `latest.md` and the chart into `outDir`; returns the paths written. */
export async function writeReport(report: BenchReport, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const series = e2eSeries(report.figures);
  const written = [join(outDir, 'latest.json'), join(outDir, 'latest.md')];
  await writeFile(written[0], `${JSON.stringify(report, null, 2)}\n`);
  if (series.length > 0) {
    const chart = lineChartSvg(
      'POST /orders: throughput vs concurrency',
      'concurrent clients',
      'orders / s (median)',
      series,
    );
    written.push(join(outDir, CHART_FILE));
    await writeFile(written[2], chart);
  }
  await writeFile(written[1], toMarkdown(report, series.length > 0));
  return written;
}
