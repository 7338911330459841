import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { connect } from 'nats';

import { runTarget, targetConfig } from '../core/target-process';
import { BENCH_REPLY, BenchSubjects, type TargetConfig, type TargetReady } from './target-config';

// The ceilings: node:http and a nats.js subscriber answering the same bytes as the Nest handlers,
// with no framework and no authentication.
runTarget<TargetReady>(async () => {
  const config = targetConfig<TargetConfig>();
  const body = JSON.stringify(BENCH_REPLY);
  const server = createServer((_request, response) => {
    response.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const connection = await connect({ servers: config.natsUrl, name: 'bench-raw-target' });
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  connection.subscribe(BenchSubjects.raw, {
    queue: 'bench-raw-target',
    callback: (error, message) => {
      if (error) return;
      // answer in Nest's wire format so the raw hop moves the same bytes as the Nest one
      const request = JSON.parse(decoder.decode(message.data)) as { id?: string };
      message.respond(
        encoder.encode(JSON.stringify({ id: request.id, response: BENCH_REPLY, isDisposed: true })),
      );
    },
  });
  await connection.flush();
  const { port } = server.address() as AddressInfo;
  return {
    data: { httpUrl: `http://127.0.0.1:${port}` },
    close: async () => {
      await connection.drain();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
});
