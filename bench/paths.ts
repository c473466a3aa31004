/** The project's root, found from wherever this code runs (dist/bench.js, or bench/ through tsx). */
import * as fs from 'fs';
import * as path from 'path';

export function projectRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'examples'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..');
  }
}
