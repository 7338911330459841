#!/usr/bin/env node
// Called by docker compose's `nats-init` service (and by hand): writes a closed bus's material.
//   node libs/nats-bus/src/cli.js <outDir> [--host NAME]... [--store DIR] [--listen ADDR]
//     [--monitor ADDR] [--config-dir DIR] [--owner UID:GID] [--if-missing]
'use strict';

const { hasBusMaterial, renderBusConfig, writeBusMaterial } = require('./closed-bus.js');

function parse(argv) {
  const options = { hosts: [] };
  let outDir;
  let ifMissing = false;
  for (let index = 0; index < argv.length; index += 1) {
    const flag = argv[index];
    const value = () => {
      const next = argv[++index];
      if (next === undefined || next.startsWith('--')) throw new Error(`${flag} needs a value`);
      return next;
    };
    if (flag === '--host') options.hosts.push(value());
    else if (flag === '--store') options.storeDir = value();
    else if (flag === '--listen') options.listen = value();
    else if (flag === '--monitor') options.monitor = value();
    else if (flag === '--config-dir') options.configDir = value();
    else if (flag === '--owner') {
      const [uid, gid] = value().split(':').map(Number);
      if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('--owner takes UID:GID');
      options.owner = { uid, gid };
    } else if (flag === '--if-missing') ifMissing = true;
    else if (!flag.startsWith('--') && outDir === undefined) outDir = flag;
    else throw new Error(`unknown argument '${flag}'`);
  }
  if (outDir === undefined) throw new Error('usage: cli.js <outDir> [--host NAME]... [--if-missing] …');
  if (options.hosts.length === 0) delete options.hosts;
  return { outDir, options, ifMissing };
}

async function main() {
  const { outDir, options, ifMissing } = parse(process.argv.slice(2));
  if (ifMissing && hasBusMaterial(outDir)) {
    // the keys stay; the config follows today's permission table and limits
    const configFile = renderBusConfig(outDir, options);
    process.stdout.write(
      `closed bus material already in ${outDir}; kept (remove it to generate new keys), ${configFile} rendered again\n`,
    );
    return;
  }
  const material = await writeBusMaterial(outDir, options);
  process.stdout.write(`closed bus material written: ${material.configFile}\n`);
}

main().catch((error) => {
  process.stderr.write(`nats-bus: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
