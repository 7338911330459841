import { resolve } from 'node:path';
import { FigureSink } from '../core/figures';
import { parseOptions } from '../core/options';
import { benchEmbedded } from './embedded.bench';
async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), resolve(__dirname, '..', '..', '..'));
  await benchEmbedded(options, new FigureSink());
}
void main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
