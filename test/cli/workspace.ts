/**
 * A scratch folder for CLI tests, and a fingerprint of everything in it,
 * so a test can say "the run wrote nothing and changed nothing".
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createHash } from 'crypto';

export function makeWorkspace(files: Record<string, string | Uint8Array>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jailcheck-cli-'));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

export function removeWorkspace(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Every entry under `dir` with its size, modification time and content hash. */
export function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = fs.lstatSync(p);
      const rel = path.relative(dir, p);
      if (st.isDirectory()) {
        out[`${rel}/`] = `dir ${st.mtimeMs}`;
        walk(p);
      } else {
        const hash = st.isFile() ? createHash('sha1').update(fs.readFileSync(p)).digest('hex') : 'special';
        out[rel] = `${st.size} ${st.mtimeMs} ${hash}`;
      }
    }
  };
  walk(dir);
  return out;
}
