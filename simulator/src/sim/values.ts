/**
 * Concrete values of the simulator. The world is concrete (prisons are
 * objects, counters are numbers); only what the model cannot know (the
 * result of a call it does not model) is `unknown`, and a branch on it is
 * a choice the explorer makes both ways.
 */

export type SVal =
  | { readonly k: 'int'; readonly v: number }
  /** A pointer to a heap object (NULL is the int 0). */
  | { readonly k: 'ptr'; readonly o: number }
  /** `&obj->field`: a lock or a list head inside an object. */
  | { readonly k: 'ref'; readonly o: number; readonly f: string }
  /** `&name` of a global that is not an object: `&allprison`, `&allprison_lock`. */
  | { readonly k: 'gref'; readonly g: string }
  /** `&local`: an out-parameter, by the frame that owns the variable. */
  | { readonly k: 'lref'; readonly frame: number; readonly name: string }
  | { readonly k: 'unknown' };

export const UNKNOWN: SVal = { k: 'unknown' };
export const ZERO: SVal = { k: 'int', v: 0 };
export const ONE: SVal = { k: 'int', v: 1 };

export function int(v: number): SVal {
  return v === 0 ? ZERO : v === 1 ? ONE : { k: 'int', v };
}

/** C truth: undefined when the model cannot tell. */
export function truth(v: SVal): boolean | undefined {
  switch (v.k) {
    case 'int': return v.v !== 0;
    case 'unknown': return undefined;
    default: return true;
  }
}

/** `a == b`, undefined when unknown. */
export function equal(a: SVal, b: SVal): boolean | undefined {
  if (a.k === 'unknown' || b.k === 'unknown') return undefined;
  if (a.k === 'int' && b.k === 'int') return a.v === b.v;
  if (a.k === 'int' || b.k === 'int') {
    // A pointer compared with an integer: only NULL makes sense.
    const n = a.k === 'int' ? a : b as { v: number };
    return n.v === 0 ? false : undefined;
  }
  return valueKey(a) === valueKey(b);
}

/** A short, canonical spelling of a value (state keys, traces). */
export function valueKey(v: SVal): string {
  switch (v.k) {
    case 'int': return String(v.v);
    case 'ptr': return `@${v.o}`;
    case 'ref': return `&${v.o}.${v.f}`;
    case 'gref': return `&${v.g}`;
    case 'lref': return `&${v.frame}:${v.name}`;
    case 'unknown': return '?';
  }
}
