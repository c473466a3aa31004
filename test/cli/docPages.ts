/**
 * What the documentation pages show, read so that tests hold the program to
 * them and the pages cannot drift from it: the field tables of the JSON
 * pages (`| \`field\` | type | always/optional | meaning |`) and the
 * commands of their ```console blocks, each with the output shown after it.
 */
import assert from 'node:assert/strict';
import { runCli } from './runCli';
export interface DocField {
  readonly type: string;
  readonly always: boolean;
}

/** Each table of `markdown`, by the title of the heading of `level` (2 for `##`) above it. */
export function fieldTables(markdown: string, level: number): Map<string, Map<string, DocField>> {
  const heading = new RegExp(`^${'#'.repeat(level)} (.+)$`);
  const shapes = new Map<string, Map<string, DocField>>();
  let section = '';
  for (const line of markdown.split('\n')) {
    const h = heading.exec(line);
    if (h) section = h[1]!;
    const row = /^\| `(\w+)` \| ([^|]+) \| (always|optional) \|/.exec(line);
    if (!row) continue;
    const fields = shapes.get(section) ?? new Map<string, DocField>();
    fields.set(row[1]!, { type: row[2]!.trim(), always: row[3] === 'always' });
    shapes.set(section, fields);
  }
  return shapes;
}

export interface Session {
  readonly command: string;
  readonly expected: string;
}

/** The commands of the page's ```console blocks (`$ jailcheck …`), each with the output shown after it. */
export function consoleSessions(markdown: string): Session[] {
  const out: Array<{ command: string; expected: string }> = [];
  for (const [, block] of markdown.matchAll(/^```console\n([\s\S]*?)^```$/gm)) {
    for (const line of block!.replace(/\n$/, '').split('\n')) {
      if (line.startsWith('$ ')) out.push({ command: line.slice(2), expected: '' });
      else out[out.length - 1]!.expected += `${line}\n`;
    }
  }
  return out;
}

/**
 * Runs each session's command in `dir` and checks it prints what `page`
 * shows (both passed through `normalize`), and that each `echo $?` shows the
 * exit code of the command before it.
 */
export async function assertSessionsRun(page: string, sessions: readonly Session[], dir: string, normalize = (s: string): string => s): Promise<void> {
  let lastCode: number | null = null;
  for (const { command, expected } of sessions) {
    if (command === 'echo $?') {
      assert.equal(`${lastCode}\n`, expected, 'exit code before "echo $?"');
      continue;
    }
    const m = /^jailcheck ([^|]+?)(?: \| head -(\d+))?$/.exec(command);
    assert.ok(m, `${page}: a command this test cannot run: ${command}`);
    const r = await runCli(m[1]!.split(/\s+/), { cwd: dir });
    lastCode = r.code;
    let output = r.stdout + r.stderr;
    if (m[2]) output = `${output.split('\n').slice(0, Number(m[2])).join('\n')}\n`;
    assert.equal(normalize(output), normalize(expected), `output of: ${command}`);
  }
}
