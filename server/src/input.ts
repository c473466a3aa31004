/**
 * What counts as input jailcheck can read, and the one-line messages for
 * what it cannot. Checked before any parsing so that a binary file or a
 * 200 MB log gets a clear answer, not a stack trace or a hang.
 */
import * as fs from 'fs';

export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** The message for a file over {@link MAX_INPUT_BYTES}, before or after reading it. */
export function tooLargeMessage(name: string, bytes: number): string {
  return `${name}: ${(bytes / 1048576).toFixed(1)} MB is more than jailcheck reads (${MAX_INPUT_BYTES / 1048576} MB); is this really a C source file?`;
}

/** Decodes file bytes as UTF-8 C source, or throws an InputError saying why it is not. */
export function decodeSource(bytes: Uint8Array, name: string): string {
  if (bytes.length > MAX_INPUT_BYTES) throw new InputError(tooLargeMessage(name, bytes.length));
  const sample = bytes.subarray(0, Math.min(bytes.length, 64 * 1024));
  if (sample.includes(0)) throw new InputError(`${name}: this is a binary file (it contains NUL bytes), not C source`);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const replacements = (text.match(/\uFFFD/g) ?? []).length;
  if (replacements > 0 && replacements > text.length / 100) {
    throw new InputError(`${name}: this is not UTF-8 or ASCII text, so not C source jailcheck can read`);
  }
  if (text.length === 0) throw new InputError(`${name}: the file is empty; there is nothing to check`);
  if (text.trim() === '') throw new InputError(`${name}: the file holds only white space; there is nothing to check`);
  return text;
}

/** Reads a C file: a regular file, not huge, not binary, UTF-8 text (see decodeSource). */
export function readSource(file: string): string {
  let bytes: Uint8Array;
  try {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) throw new InputError(`${file}: is a directory, not a C file`);
    // A device or a pipe could be endless (/dev/zero): only regular files are read.
    if (!stat.isFile()) throw new InputError(`${file}: is not a regular file`);
    if (stat.size > MAX_INPUT_BYTES) throw new InputError(tooLargeMessage(file, stat.size));
    bytes = fs.readFileSync(file);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
  return decodeSource(bytes, file);
}

/** Reads a patch file: UTF-8 text, not binary, not huge. */
export function readPatchFile(file: string): string {
  let bytes: Buffer;
  try {
    if (fs.statSync(file).isDirectory()) throw new InputError(`${file}: is a directory, not a patch`);
    bytes = fs.readFileSync(file);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
  if (bytes.length > MAX_INPUT_BYTES) throw new InputError(`${file}: ${(bytes.length / 1048576).toFixed(1)} MB is more than jailcheck reads; is this really a patch?`);
  if (bytes.subarray(0, 64 * 1024).includes(0)) throw new InputError(`${file}: this is a binary file, not a patch`);
  const text = new TextDecoder('utf-8').decode(bytes);
  const bad = (text.match(/\uFFFD/g) ?? []).length;
  if (bad > 0 && bad > text.length / 100) throw new InputError(`${file}: this is not UTF-8 or ASCII text, so not a patch jailcheck can read`);
  return text;
}
