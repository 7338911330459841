import { HttpAdapterHost } from '@nestjs/core';

import { HttpCallContext } from './http-call-context';

function hostWith(adapter: { getType(): string; getInstance(): unknown } | undefined): HttpAdapterHost {
  const host = new HttpAdapterHost();
  if (adapter !== undefined) host.httpAdapter = adapter as unknown as HttpAdapterHost['httpAdapter'];
  return host;
}

describe(HttpCallContext.name, () => {
  it('adds one preHandler hook to a Fastify app', () => {
    const hooks: string[] = [];
    const fastify = { addHook: (name: string) => hooks.push(name) };

    new HttpCallContext(hostWith({ getType: () => 'fastify', getInstance: () => fastify })).onModuleInit();

    expect(hooks).toEqual(['preHandler']);
  });

  it('refuses to start on another HTTP adapter, naming the one it found', () => {
    const edge = new HttpCallContext(hostWith({ getType: () => 'express', getInstance: () => ({}) }));

    expect(() => edge.onModuleInit()).toThrow(
      "@relay/auth needs Nest's Fastify adapter for HTTP (this app uses 'express')",
    );
  });

  it('does nothing without an HTTP server (microservice-only app, bare testing module)', () => {
    expect(() => new HttpCallContext(hostWith(undefined)).onModuleInit()).not.toThrow();
  });
});
