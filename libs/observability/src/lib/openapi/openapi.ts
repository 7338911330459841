import type { INestApplication } from '@nestjs/common';

// PLACEHOLDER (being built this session): @nestjs/swagger document served at /docs
export function installOpenApi(_app: INestApplication, _service: string): void {
  return undefined;
}
