/** One measured figure, as listed in `bench/results/latest.json`. */
export interface Figure {
  /** Dotted id, e.g. `http.guarded.warm.rps`. */
  name: string;
  value: number;
  unit: string;
  /** The goal in words (`>= 0.90 x http.public.rps`), or `null` when the figure is informative only. */
  goal: string | null;
  /** Whether the goal is met; `null` without a goal. */
  met: boolean | null;
}

/** Everything one bench run produced. */
export interface BenchReport {
  generatedAt: string;
  mode: 'full' | 'quick';
  machine: { cpus: number; model: string; node: string; platform: string };
  /** Runs per figure (medians are reported). */
  runs: number;
  /** Rounds of the verifier section, which runs more, shorter ones. */
  verifierRuns: number;
  figures: Figure[];
  /** Sections that did not run: `skipped: <why>`. */
  skipped: string[];
  /** Where the time goes for missed goals (CPU profile summaries) and other findings. */
  notes: string[];
  durationSeconds: number;
}

/** Collects figures section by section. */
export class FigureSink {
  readonly figures: Figure[] = [];
  readonly skipped: string[] = [];
  readonly notes: string[] = [];

  /** Adds an informative figure (no goal). */
  info(name: string, value: number, unit: string): Figure {
    return this.push({ name, value, unit, goal: null, met: null });
  }

  /** Adds a figure judged against a goal. */
  judged(name: string, value: number, unit: string, goal: string, met: boolean): Figure {
    return this.push({ name, value, unit, goal, met });
  }

  skip(section: string, why: string): void {
    const line = `${section}: skipped: ${why}`;
    this.skipped.push(line);
    process.stdout.write(`  ${line}\n`);
  }

  note(line: string): void {
    this.notes.push(line);
    process.stdout.write(`  note: ${line}\n`);
  }

  private push(figure: Figure): Figure {
    this.figures.push(figure);
    const verdict = figure.met === null ? '' : figure.met ? '  [met]' : '  [MISSED]';
    const goal = figure.goal === null ? '' : `  goal ${figure.goal}`;
    process.stdout.write(
      `  ${figure.name.padEnd(44)} ${String(figure.value).padStart(12)} ${figure.unit}${goal}${verdict}\n`,
    );
    return figure;
  }
}
