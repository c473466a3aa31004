/**
 * The two ways a patch can be refused. Both are input errors (the CLI exits
 * 2 with the one-line message); neither lets any analysis run.
 */
import { InputError } from '../input';

/** The patch text is not a unified diff jailcheck can read (empty, binary, garbled). */
export class PatchInputError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'PatchInputError';
  }
}

/** A hunk could not be placed in the base file. */
export class PatchDoesNotApply extends InputError {
  constructor(
    message: string,
    /** 1-based, in the order the patch lists its hunks. */
    readonly hunk: number,
    /** The hunk's header as written, e.g. `@@ -390,8 +391,8 @@`. */
    readonly header: string,
    /** The line of the hunk that could not be matched, as the patch writes it (without its marker). */
    readonly expected: string,
    /** Where the hunk fitted best, 1-based in the base file; undefined when no line of it is there at all. */
    readonly baseLine: number | undefined,
  ) {
    super(message);
    this.name = 'PatchDoesNotApply';
  }
}
