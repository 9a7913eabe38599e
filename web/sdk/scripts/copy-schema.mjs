// tsc does not emit .d.ts inputs: copy the generated OpenAPI types next to the build.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'dist'), { recursive: true });
copyFileSync(join(root, 'src', 'schema.d.ts'), join(root, 'dist', 'schema.d.ts'));
