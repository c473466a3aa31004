/**
 * Symbolic objects: what a pointer points to, as far as the analysis can
 * tell. Identity matters for locks (`tpr->pr_mtx` is `pr->pr_mtx` on the
 * first trip round the ancestor loop) and for counters.
 *
 *   p:pr        the object parameter `pr` pointed to on entry
 *   p:pr^2      its grandparent (via the configured parent field)
 *   p:pr^*      an ancestor further up than the analysis names
 *   g:prison0   a global object (`&prison0`) or lock (`allprison_lock`)
 *   n:1234      an object obtained at offset 1234 (a call's result, a loop element)
 *   a:1234      an object allocated at offset 1234 (distinct from everything else)
 *   x.f         the object reached through field `f` of object x
 */

export type ObjId = string;

/** Three-valued: are two symbolic objects the same object? */
export type Same = 'yes' | 'no' | 'maybe';

const ANCESTOR = /^(.*)\^(\d+|\*)$/;

export function ancestorParts(o: ObjId): { base: ObjId; depth: number | '*' } {
  const m = ANCESTOR.exec(o);
  if (!m) return { base: o, depth: 0 };
  return { base: m[1]!, depth: m[2] === '*' ? '*' : Number(m[2]) };
}

export function parentOf(o: ObjId, maxDepth: number): ObjId {
  const { base, depth } = ancestorParts(o);
  if (depth === '*') return o;
  return depth + 1 > maxDepth ? `${base}^*` : `${base}^${depth + 1}`;
}

export function sameObject(a: ObjId, b: ObjId): Same {
  if (a === b) return a.endsWith('^*') ? 'maybe' : 'yes';
  const pa = ancestorParts(a);
  const pb = ancestorParts(b);
  if (pa.base === pb.base) {
    // A jail is never its own ancestor: different depths on one chain are different jails.
    if (pa.depth === '*' && pb.depth === '*') return 'maybe';
    return 'no';
  }
  // A fresh allocation is no other object.
  if (pa.base.startsWith('a:') || pb.base.startsWith('a:')) return 'no';
  return 'maybe';
}

/**
 * Whether an object existed when the function was entered (so a caller could
 * have locked it): a parameter's, a global, or one reached from them. `v:`
 * objects (a local read before the analysis saw it assigned) have no such
 * standing: nothing is inferred about them.
 */
export function existedAtEntry(o: ObjId): boolean {
  const base = ancestorParts(o.split('.')[0]!).base;
  return base.startsWith('p:') || base.startsWith('g:');
}

/** Whether the object is visible to the caller (a parameter's, a global's, or their ancestors'). */
export function visibleToCaller(o: ObjId): boolean {
  return existedAtEntry(o) && !o.includes('.');
}

/**
 * The object as a kernel developer would write it: `pr`, `pr->pr_parent`,
 * `an ancestor of pr`, `prison0`. `fallback` names objects with no such
 * reading (a call's result), usually by the expression that produced it.
 */
export function describeObject(o: ObjId, parentField: string, fallback?: string): string {
  const [head, ...fields] = o.split('.');
  const { base, depth } = ancestorParts(head!);
  let text: string;
  if (base.startsWith('p:') || base.startsWith('g:') || base.startsWith('v:')) text = base.slice(2);
  else text = fallback ?? (base.startsWith('a:') ? 'a new object' : 'an object');
  if (depth === '*') text = `an ancestor of ${text}`;
  else for (let i = 0; i < depth; i++) text += `->${parentField}`;
  for (const f of fields) text += `->${f}`;
  return text;
}

/** Replaces the parameter roots of a callee's object with the caller's objects. */
export function rebaseObject(o: ObjId, params: ReadonlyMap<string, ObjId>, maxDepth: number): ObjId | undefined {
  const [head, ...fields] = o.split('.');
  const { base, depth } = ancestorParts(head!);
  let root: ObjId | undefined;
  if (base.startsWith('p:')) root = params.get(base.slice(2));
  else if (base.startsWith('g:')) root = base;
  else if (base.startsWith('r:')) root = params.get('@return');
  if (root === undefined) return undefined;
  let r = root;
  if (depth === '*') r = `${ancestorParts(r).base}^*`;
  else for (let i = 0; i < depth; i++) r = parentOf(r, maxDepth);
  return [r, ...fields].join('.');
}
