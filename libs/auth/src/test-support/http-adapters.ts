import type { AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

import { relayFastifyOptions } from '../lib/http/fastify-options';

/** Nest's two HTTP adapters, both supported by `AuthModule`: specs run their HTTP part on each. */
export const HTTP_ADAPTERS = ['fastify', 'express'] as const;

export type HttpAdapterName = (typeof HTTP_ADAPTERS)[number];

/** A fresh adapter of that kind, as the README sets it up: Nest's defaults, `relayFastifyOptions()` on Fastify. */
export function createHttpAdapter(name: HttpAdapterName): AbstractHttpAdapter {
  return name === 'fastify' ? new FastifyAdapter(relayFastifyOptions()) : new ExpressAdapter();
}

/** One HTTP answer, read the same way whatever served it. */
export interface HttpAnswer {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body: string;
}

/** `GET baseUrl + path` over a real socket. */
export async function httpGet(
  baseUrl: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const response = await fetch(`${baseUrl}${path}`, { headers });
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: await response.text(),
  };
}
