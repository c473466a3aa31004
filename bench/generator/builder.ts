/**
 * What the templates share while they write a file: the random stream, the
 * functions written so far (the ones later functions may call), and, per
 * function, its locals and the calls it makes.
 */
import { CFunction, Lines, Locals } from './cfile';
import { Random } from './random';

/** How allprison_lock is held; `either` when the caller's flags decide (a PD_LIST_*LOCKED contract). */
export type ListHold = 'none' | 'shared' | 'exclusive' | 'either';

/** The lock state at one point of a template: what a generated statement may rely on. */
export interface Scope {
  /** A prison pointer that is valid here. */
  readonly pr: string;
  /** Whether `pr->pr_mtx` is held here. */
  readonly prHeld: boolean;
  readonly list: ListHold;
  /** Another lock is held (a second prison's mutex, a process lock): no call may take a prison mutex. */
  readonly otherHeld: boolean;
  /** A vfsoptlist in scope. */
  readonly opts?: string;
  /** The code around only reads the prison (a getter, a sysctl handler): no writes to it. */
  readonly readOnly?: boolean;
  /** Nesting depth of generated statements, to keep them readable. */
  readonly depth: number;
}

/** A function already written that generated statements may call, and when a call is lock-correct. */
export interface Callee {
  readonly name: string;
  accepts(scope: Scope): boolean;
  /** The statement lines of one call from `scope`. */
  call(b: FunctionBuilder, scope: Scope): Lines;
}

export type Section = 'syscalls' | 'lookup' | 'references' | 'inet' | 'inet6' | 'checks' | 'params' | 'sysctl';

export interface WrittenFunction {
  readonly fn: CFunction;
  readonly kind: string;
  readonly section: Section;
  readonly calls: readonly string[];
}

export class Library {
  readonly callees: Callee[] = [];
  readonly written: WrittenFunction[] = [];
  private readonly names = new Set<string>();

  constructor(readonly rng: Random) {}

  /** Reserves a function name; false if it is taken. */
  claim(name: string): boolean {
    if (this.names.has(name)) return false;
    this.names.add(name);
    return true;
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  add(w: WrittenFunction, callee?: Callee): void {
    this.written.push(w);
    if (callee) this.callees.push(callee);
  }

  /** Callees a statement in `scope` may call. */
  callable(scope: Scope): Callee[] {
    return this.callees.filter((c) => c.accepts(scope));
  }
}

export class FunctionBuilder {
  readonly locals = new Locals();
  readonly calls = new Set<string>();

  constructor(readonly rng: Random, readonly lib: Library) {}

  local(type: string, declarator: string, ifdef?: string): string {
    return this.locals.add(type, declarator, ifdef);
  }

  /** Records a call to a function of the file, for the call graph. */
  calling(name: string): string {
    this.calls.add(name);
    return name;
  }

  finish(fn: Omit<CFunction, 'locals'>, kind: string, section: Section, callee?: Callee): WrittenFunction {
    const w: WrittenFunction = { fn: { ...fn, locals: this.locals }, kind, section, calls: [...this.calls] };
    this.lib.add(w, callee);
    return w;
  }
}
