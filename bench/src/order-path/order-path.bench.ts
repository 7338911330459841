import type { FigureSink } from '../core/figures';
import { runHttpLoad } from '../core/http-load';
import type { LoadResult } from '../core/load-result';
import type { BusTraffic } from '../core/nats-server';
import type { BenchOptions } from '../core/options';
import { median, round, sleep } from '../core/stats';
import type { FloorStack } from './floor-stack';
import { type CpuPerCall, meterCpu, PostgresProcesses, type ProcessRoles } from './stack-cpu';

/** The issue's goal: Relay's orders/s at 50 clients at least this share of the floor's, on PostgreSQL. */
const FLOOR_GOAL = 0.75;
const JUDGED_CLIENTS = 50;

/** One stack under comparison: how to load it once and which processes work for it. */
export interface ComparedStack {
  /** Runs `POST /orders` with `clients` connections for `seconds`. */
  load(clients: number, seconds: number): Promise<LoadResult>;
  /** Its processes by role, without PostgreSQL (added from `databaseNames`). */
  roles: ProcessRoles;
  /** Its databases on the server, whose backends count as its `postgres` role. */
  databaseNames: string[];
  /** What its own nats-server has received so far. */
  busTraffic(): Promise<BusTraffic>;
}

/** One metered run of a stack. */
interface Measured {
  result: LoadResult;
  cpu: CpuPerCall;
}

/** Relay's and the floor's runs at each concurrency, one pair per round. */
export interface Comparison {
  runs: Map<number, { relay: Measured; floor: Measured }[]>;
  /** Transactions committed per order in each stack's databases, over all its runs. */
  commitsPerOrder: { relay: number; floor: number };
  /** Messages and bytes each stack's services sent through its nats-server per order, over all its runs. */
  busPerOrder: { relay: BusTraffic; floor: BusTraffic };
}

/** `POST /orders` on the floor with the given body generator. */
export function floorStack(floor: FloorStack, body: () => string): ComparedStack {
  return {
    load: (clients, seconds) =>
      runHttpLoad(
        {
          url: `${floor.url}/orders`,
          method: 'POST',
          body: body(),
          perRequest: () => ({ body: body() }),
        },
        clients,
        seconds,
      ),
    roles: {
      orders: pidOf(floor.orders.process.pid),
      inventory: pidOf(floor.inventory.process.pid),
      'nats-server': pidOf(floor.nats.child.process.pid),
    },
    databaseNames: floor.databaseNames,
    busTraffic: floor.nats.traffic,
  };
}

/** A role of one process. */
export function pidOf(pid: number | undefined): () => Promise<number[]> {
  return () => Promise.resolve(pid === undefined ? [] : [pid]);
}

/**
 * Loads Relay and the floor in turn at each concurrency of `options.e2eConcurrency`, `rounds` times
 * (Relay first in even rounds, the floor first in odd ones), metering the CPU time of every process
 * of the stack under load. `onRelayRun` sees every Relay run (the e2e figures come from them).
 */
export async function compareWithFloor(
  options: BenchOptions,
  relay: ComparedStack,
  floor: ComparedStack,
  seconds: number,
  onRelayRun: (clients: number, result: LoadResult) => void,
): Promise<Comparison> {
  const postgres = await PostgresProcesses.connect(options.postgresUrl);
  const peakClients = Math.max(...options.e2eConcurrency);
  try {
    const measure = (stack: ComparedStack, clients: number): Promise<Measured> => {
      const roles: ProcessRoles = { ...stack.roles, postgres: () => postgres.pids(stack.databaseNames) };
      return meterCpu(roles, () => stack.load(clients, seconds));
    };
    // Both stacks at the judged concurrency first: Relay runs far more JavaScript per order than the
    // floor, and V8 needs more orders to compile it (its CPU per order fell by half over its first
    // thousand orders here), so runs before that measured the compiler as much as Relay.
    for (const stack of [relay, floor]) await stack.load(peakClients, options.stackWarmupSeconds);
    // the warm-ups' transactions reach pg_stat_database within 500 ms
    await sleep(1000);
    const runs: Comparison['runs'] = new Map(options.e2eConcurrency.map((clients) => [clients, []]));
    const commitsBefore = {
      relay: await postgres.commits(relay.databaseNames),
      floor: await postgres.commits(floor.databaseNames),
    };
    const busBefore = { relay: await relay.busTraffic(), floor: await floor.busTraffic() };
    for (let roundIndex = 0; roundIndex < options.runs; roundIndex += 1) {
      for (const clients of options.e2eConcurrency) {
        let relayRun: Measured;
        let floorRun: Measured;
        if (roundIndex % 2 === 0) {
          relayRun = await measure(relay, clients);
          floorRun = await measure(floor, clients);
        } else {
          floorRun = await measure(floor, clients);
          relayRun = await measure(relay, clients);
        }
        onRelayRun(clients, relayRun.result);
        runs.get(clients)?.push({ relay: relayRun, floor: floorRun });
        process.stdout.write(
          `    round ${roundIndex + 1} floor    c=${String(clients).padEnd(3)} ${floorRun.result.rps.toFixed(0).padStart(6)} orders/s  p50 ${floorRun.result.p50} ms  p99 ${floorRun.result.p99} ms  ` +
            `(Relay ${(relayRun.result.rps / floorRun.result.rps).toFixed(2)} x; CPU/order ${Math.round(relayRun.cpu['total'])} vs ${Math.round(floorRun.cpu['total'])} µs)` +
            `${floorRun.result.failures > 0 ? `  failures ${floorRun.result.failures}` : ''}\n`,
        );
      }
    }
    // the backends flush pg_stat_database at most every 500 ms once idle
    await sleep(1000);
    const ordersOf = (which: 'relay' | 'floor'): number =>
      [...runs.values()].flat().reduce((sum, pair) => sum + pair[which].result.completed, 0);
    const commitsPerOrder = async (stack: ComparedStack, which: 'relay' | 'floor'): Promise<number> =>
      ((await postgres.commits(stack.databaseNames)) - commitsBefore[which]) / ordersOf(which);
    const busPerOrder = async (stack: ComparedStack, which: 'relay' | 'floor'): Promise<BusTraffic> => {
      const after = await stack.busTraffic();
      return {
        messages: (after.messages - busBefore[which].messages) / ordersOf(which),
        bytes: (after.bytes - busBefore[which].bytes) / ordersOf(which),
      };
    };
    return {
      runs,
      commitsPerOrder: {
        relay: await commitsPerOrder(relay, 'relay'),
        floor: await commitsPerOrder(floor, 'floor'),
      },
      busPerOrder: { relay: await busPerOrder(relay, 'relay'), floor: await busPerOrder(floor, 'floor') },
    };
  } finally {
    await postgres.close();
  }
}

/**
 * The order-path figures: `orders.floor_ratio.c<N>` (Relay's orders/s over the floor's, median of
 * the rounds' ratios; judged at 50 clients), `orders.p99_ratio.c<N>`, the floor's own orders/s and
 * p99, and per process the CPU µs per order of both stacks at 50 clients (1 client too, where the
 * work is not shared by batching), with the transactions each order commits and the messages and
 * bytes it sends through the bus.
 */
export function reportComparison(sink: FigureSink, comparison: Comparison): void {
  for (const [clients, rounds] of comparison.runs) {
    const ratio = median(rounds.map((pair) => pair.relay.result.rps / pair.floor.result.rps));
    const failures = rounds.reduce(
      (sum, pair) => sum + pair.relay.result.failures + pair.floor.result.failures,
      0,
    );
    if (failures > 0) sink.note(`orders.floor_ratio.c${clients}: ${failures} failed requests`);
    const unit = `x the floor's orders/s (node:http + nats + pg), ${clients} clients, PostgreSQL`;
    if (clients === JUDGED_CLIENTS) {
      sink.judged(
        `orders.floor_ratio.c${clients}`,
        round(ratio, 3),
        unit,
        `>= ${FLOOR_GOAL}`,
        ratio >= FLOOR_GOAL && failures === 0,
      );
    } else {
      sink.info(`orders.floor_ratio.c${clients}`, round(ratio, 3), unit);
    }
    sink.info(
      `orders.p99_ratio.c${clients}`,
      round(median(rounds.map((pair) => pair.relay.result.p99 / pair.floor.result.p99)), 2),
      `x the floor's p99, ${clients} clients`,
    );
    sink.info(
      `orders.floor.c${clients}.rps`,
      round(median(rounds.map((pair) => pair.floor.result.rps)), 0),
      'orders/s',
    );
    sink.info(
      `orders.floor.c${clients}.p99`,
      round(median(rounds.map((pair) => pair.floor.result.p99))),
      'ms',
    );
  }
  const concurrencies = [...comparison.runs.keys()];
  for (const clients of new Set([Math.min(...concurrencies), Math.max(...concurrencies)])) {
    const rounds = comparison.runs.get(clients) ?? [];
    for (const stack of ['relay', 'floor'] as const) {
      const runs = rounds.map((pair) => pair[stack]);
      for (const role of Object.keys(runs[0]?.cpu ?? {})) {
        const value = median(runs.map((run) => run.cpu[role]));
        if (Number.isNaN(value)) continue;
        sink.info(
          `orders.cpu.${stack}.c${clients}.${role.replace(/ /g, '_')}`,
          round(value, 0),
          `µs CPU per order (${role}, ${clients} clients)`,
        );
      }
    }
  }
  for (const stack of ['relay', 'floor'] as const) {
    sink.info(
      `orders.pg_commits.${stack}`,
      round(comparison.commitsPerOrder[stack], 2),
      'PostgreSQL transactions committed per order',
    );
    const bus = comparison.busPerOrder[stack];
    sink.info(`orders.nats_messages.${stack}`, round(bus.messages, 2), 'messages published per order');
    sink.info(
      `orders.nats_bytes.${stack}`,
      round(bus.bytes, 0),
      'bytes published per order (headers + payloads)',
    );
  }
}

/** Smoke of the floor alone (no Relay on PostgreSQL in this run): it still answers orders. */
export async function smokeFloor(
  options: BenchOptions,
  sink: FigureSink,
  floor: ComparedStack,
  seconds: number,
): Promise<void> {
  for (const clients of options.e2eConcurrency) {
    const result = await floor.load(clients, seconds);
    if (result.completed === 0 || result.failures > 0) {
      throw new Error(`the floor answered ${result.completed} orders, ${result.failures} failures`);
    }
    sink.info(`orders.floor.c${clients}.rps`, round(result.rps, 0), 'orders/s');
  }
}
