/**
 * The base of `jailcheck review --git REV [FILE]`: FILE (by default the
 * checkout's kern_jail.c) as it is in revision REV, read with
 * `git show REV:path`. Nothing is written: not the working tree, not the
 * index.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { decodeSource, InputError } from '../input';

export interface GitBase {
  /** The file in the working tree, as the user named it (or as found). */
  readonly file: string;
  /** Its path in the repository, with `/` separators. */
  readonly repoPath: string;
  /** The revision as given. */
  readonly rev: string;
  readonly baseText: string;
}

interface GitRun {
  readonly ok: boolean;
  readonly stdout: Buffer;
  readonly stderr: string;
}

function git(args: readonly string[], cwd: string): GitRun {
  try {
    const stdout = execFileSync('git', [...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
    return { ok: true, stdout, stderr: '' };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: Buffer; stderr?: Buffer };
    if (e.code === 'ENOENT') throw new InputError('--git needs the git command, and it is not installed (use --patch instead)');
    return { ok: false, stdout: e.stdout ?? Buffer.alloc(0), stderr: (e.stderr ?? Buffer.alloc(0)).toString('utf8').trim() };
  }
}

const DEFAULT_FILE = 'kern_jail.c';

/** Reads the base for `--git REV [FILE]`, run from `cwd`. Throws an InputError with a one-line message. */
export function baseFromGit(rev: string, file: string | undefined, cwd: string = process.cwd()): GitBase {
  if (rev.startsWith('-')) throw new InputError(`--git needs a revision, not "${rev}"`);
  const dir = file ? path.dirname(path.resolve(cwd, file)) : cwd;
  if (file && !fs.existsSync(path.resolve(cwd, file))) throw new InputError(`${file}: no such file`);
  const top = git(['rev-parse', '--show-toplevel'], dir);
  if (!top.ok) throw new InputError(`${file ? path.dirname(file) || '.' : 'the current directory'} is not in a git checkout; --git compares with a revision of one (or use --patch FILE.diff BASE.c)`);
  const root = top.stdout.toString('utf8').trim();
  if (!git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], root).ok) {
    throw new InputError(`${rev}: unknown revision in ${root}`);
  }
  let shown: string;
  let repoPath: string;
  if (file) {
    shown = file;
    repoPath = path.relative(fs.realpathSync(root), fs.realpathSync(path.resolve(cwd, file))).split(path.sep).join('/');
    if (repoPath.startsWith('../')) throw new InputError(`${file} is outside the git checkout at ${root}`);
  } else {
    const listed = git(['ls-files', '--full-name', '--', `:(glob)**/${DEFAULT_FILE}`], root);
    const found = listed.stdout.toString('utf8').split('\n').filter((l) => l !== '');
    if (found.length === 0) throw new InputError(`no ${DEFAULT_FILE} in the checkout at ${root}; name the file: jailcheck review --git ${rev} FILE`);
    if (found.length > 1) throw new InputError(`${found.length} files named ${DEFAULT_FILE} in the checkout (${found.join(', ')}); name one: jailcheck review --git ${rev} FILE`);
    repoPath = found[0]!;
    shown = path.relative(cwd, path.join(root, repoPath)) || repoPath;
  }
  const show = git(['show', `${rev}:${repoPath}`], root);
  if (!show.ok) throw new InputError(`${repoPath} is not in revision ${rev}`);
  return { file: shown, repoPath, rev, baseText: decodeSource(show.stdout, `${rev}:${repoPath}`) };
}
