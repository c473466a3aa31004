/**
 * Files behind document URIs: the language server's features agree on what
 * a file: URI names, whether a file lies inside a folder, and whether two
 * URIs name one file.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The path of a file: URI; undefined for any other scheme (untitled, virtual workspaces). */
export function fileOf(uri: string): string | undefined {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `file` lies below `root` (not `root` itself, not outside it). */
export function inside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Whether two URIs name the same file (VS Code and Node spell Windows drive letters differently). */
export function sameFile(a: string, b: string): boolean {
  if (a === b) return true;
  const fa = fileOf(a);
  const fb = fileOf(b);
  if (!fa || !fb) return false;
  return process.platform === 'win32' ? fa.toLowerCase() === fb.toLowerCase() : fa === fb;
}
