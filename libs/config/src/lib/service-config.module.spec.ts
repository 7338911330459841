import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';

import { serviceConfigModule } from './service-config.module';

describe(serviceConfigModule.name, () => {
  it('reads no .env file from the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-config-'));
    const cwd = process.cwd();
    writeFileSync(join(dir, '.env'), 'RELAY_SPEC_FROM_ENV_FILE=from-the-file\n');
    process.chdir(dir);
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [serviceConfigModule((env) => ({ ...env }))],
      }).compile();

      expect(moduleRef.get(ConfigService).get('RELAY_SPEC_FROM_ENV_FILE')).toBeUndefined();
      expect(process.env['RELAY_SPEC_FROM_ENV_FILE']).toBeUndefined();
      await moduleRef.close();
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
