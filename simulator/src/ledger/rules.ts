/**
 * The parent-reference rule, over the ledger of the whole file.
 *
 * Follow the parent's user references through one jail's life:
 *
 *     created (+c) → alive → falls to 0 (+f) → revived (+r) → falls (+f) → … → freed (+x)
 *
 * For any number of revivals the parent's count comes back to where it was
 * only if r + f = 0 (every revival takes what every death gives back) and
 * c + f + x = 0 (creation is paid back once). The seed thread's bug is
 * r = 0, f = -1: attach and persist revive a dying jail without taking the
 * parent's reference that the next death gives back.
 */
import type { Finding, RelatedSite } from '../findings';
import { RULES } from '../findings';
import type { LedgerRow } from './records';

const level = (r: LedgerRow): number | 'any' | undefined => (r.whose.kind === 'ancestor' ? r.whose.level : undefined);

export interface Disciplines {
  /** Parent references given back when a jail falls to zero (the cascade). */
  readonly fallRelease: LedgerRow[];
  /** Parent references given back when a jail is freed. */
  readonly freeRelease: LedgerRow[];
  /** References taken on ancestors when a jail is created, with the levels they reach. */
  readonly createAcquire: LedgerRow[];
  /** Parent references taken when a jail rises from zero. */
  readonly riseAcquire: LedgerRow[];
  /** Rises from zero of a jail that already existed (revivals). */
  readonly revivals: LedgerRow[];
}

export function disciplines(rows: readonly LedgerRow[], counter: string): Disciplines {
  // A site that changes an ancestor on some path where the jail below did not rise or fall does so
  // regardless of it: on every path it counts as its unconditional kind (a creation, say).
  const siteCauses = new Map<string, Set<string>>();
  for (const r of rows) {
    if (r.counter !== counter || r.whose.kind !== 'ancestor') continue;
    const id = `${r.range.start}:${r.whose.level}`;
    const set = siteCauses.get(id) ?? new Set<string>();
    set.add(r.cause);
    siteCauses.set(id, set);
  }
  const settled = (r: LedgerRow): LedgerRow => {
    if (r.whose.kind !== 'ancestor' || (r.cause !== 'rose' && r.cause !== 'fell')) return r;
    const causes = siteCauses.get(`${r.range.start}:${r.whose.level}`)!;
    if (causes.has('created')) return { ...r, cause: 'created' };
    if (causes.has('unconditional')) return { ...r, cause: 'unconditional' };
    return r;
  };
  const mine = rows.filter((r) => r.counter === counter).map(settled);
  return {
    fallRelease: mine.filter((r) => r.direction === 'decrement' && level(r) === 1 && r.cause === 'fell'),
    freeRelease: mine.filter((r) => r.direction === 'decrement' && level(r) === 1 && r.cause === 'freed'),
    createAcquire: mine.filter((r) => r.direction === 'increment' && r.whose.kind === 'ancestor' && r.cause === 'created'),
    riseAcquire: mine.filter((r) => r.direction === 'increment' && level(r) === 1 && r.cause === 'rose'),
    // A revival through a call (jail_attach() calling do_jail_attach()) is the callee's own row.
    revivals: mine.filter((r) => r.whose.kind === 'self' && r.transition === 'rise' && !r.fresh && r.direction === 'increment' && !r.via),
  };
}

function where(r: LedgerRow): string {
  return `${r.function}()`;
}

function uniqueBySite(rows: readonly LedgerRow[]): LedgerRow[] {
  const seen = new Set<number>();
  return rows.filter((r) => (seen.has(r.range.start) ? false : (seen.add(r.range.start), true)));
}

function eventWords(r: LedgerRow): string {
  switch (r.event) {
    case 'attach': return 'attaching a process';
    case 'persist-set': return 'setting its persist flag';
    case 'fork': return 'a fork';
    default: return `${where(r)}`;
  }
}

function finding(primary: LedgerRow, message: string, related: RelatedSite[]): Finding {
  return {
    rule: 'uref-parent-asymmetry', severity: RULES['uref-parent-asymmetry'].severity, message,
    function: primary.function, range: primary.range, related, steps: [],
  };
}

export function asymmetryFindings(rows: readonly LedgerRow[], counter: string): Finding[] {
  const d = disciplines(rows, counter);
  const out: Finding[] = [];
  const creation = uniqueBySite(d.createAcquire);
  const createLevels = new Set(d.createAcquire.map((r) => level(r)));
  const releasing = uniqueBySite([...d.fallRelease, ...d.freeRelease]);

  // r + f = 0: every revival must take what every death gives back.
  if (d.fallRelease.length > 0) {
    const takesOnRise = new Set(d.riseAcquire.map((r) => r.function));
    const revivals = uniqueBySite(d.revivals.filter((r) => !takesOnRise.has(r.function)));
    if (revivals.length > 0) {
      const primary = uniqueBySite(d.fallRelease)[0]!;
      const how = [...new Set(revivals.map(eventWords))];
      const revivedBy = how.length > 1 ? `${how.slice(0, -1).join(', ')} or ${how[how.length - 1]}` : how[0];
      out.push(finding(primary,
        `a dying jail revived by ${revivedBy} and left again releases a parent reference it does not hold: ` +
        `${primary.target} gives back the parent's ${counter} each time a jail loses its last user reference, ` +
        `but the revival takes none; after enough cycles prison0's ${counter} reaches zero`,
        [
          ...creation.map((r) => ({ range: r.range, message: `the parent's ${counter} is taken here, once, when the jail is created (${where(r)})` })),
          ...revivals.map((r) => ({ range: r.range, message: `${where(r)} brings a dying jail back (${counter} 0 → 1) without taking a reference on its parent` })),
        ]));
    }
  }
  // r + f = 0 the other way: revivals take a reference no death gives back.
  if (d.riseAcquire.length > 0 && d.fallRelease.length === 0) {
    const primary = uniqueBySite(d.riseAcquire)[0]!;
    out.push(finding(primary,
      `a revived jail takes a reference on its parent's ${counter} that its death never gives back: the parent can never die`,
      releasing.map((r) => ({ range: r.range, message: `the parent's ${counter} is given back here only when the jail is ${r.cause === 'freed' ? 'freed' : 'dying'}` }))));
  }
  // c + f + x = 0 per level: creation must be paid back, at every level it took from.
  const releaseLevels = new Set([...d.fallRelease, ...d.freeRelease].map((r) => level(r)));
  const unpaid = [...createLevels].filter((l) => l !== undefined && !releaseLevels.has(l) && !(l === 'any' && releaseLevels.size > 0));
  if (creation.length > 0 && unpaid.length > 0 && releasing.length > 0) {
    const primary = releasing[0]!;
    out.push(finding(primary,
      `creating a jail takes a reference on every ancestor's ${counter}, but ${primary.target} gives back only the parent's: ` +
      `the grandparents' ${counter} never falls again, so they can never die`,
      creation.map((r) => ({ range: r.range, message: `the jail's creation takes a reference here on ${level(r) === 1 ? 'its parent' : level(r) === 'any' ? 'every ancestor' : `its ancestor ${level(r)} levels up`}` }))));
  } else if (creation.length > 0 && releasing.length === 0) {
    const primary = creation[0]!;
    out.push(finding(primary,
      `the parent's ${counter} taken when a jail is created is never given back, neither when the jail dies nor when it is freed: the parent can never die`,
      []));
  }
  return out;
}
