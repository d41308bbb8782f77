// Emits declarations for the public entries (widget, react, server) and points dist/*.d.ts at them.
import { execFileSync } from 'node:child_process';
import { writeFileSync, existsSync } from 'node:fs';

execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
writeFileSync('dist/codegpt-widget.d.ts', "export * from './types/widget/index.js';\n");
if (existsSync('dist/types/widget/react/index.d.ts')) {
  writeFileSync('dist/react.d.ts', "export * from './types/widget/react/index.js';\n");
}
if (existsSync('dist/types/server/index.d.ts')) {
  writeFileSync('dist/server.d.ts', "export * from './types/server/index.js';\n");
  writeFileSync('dist/server-node.d.ts', "export * from './types/server/node.js';\n");
}
