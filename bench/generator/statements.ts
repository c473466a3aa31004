/**
 * Lock-neutral statements that give each generated function a body of its
 * own: field reads and writes, KASSERTs, ifs, switches, small loops,
 * #ifdef INET / VIMAGE groups, and calls to functions written earlier
 * whose locking fits the point of the call. None of them changes a lock or
 * a reference count, so the function stays as lock-correct as its template.
 */
import { guarded, indent, Lines } from './cfile';
import type { FunctionBuilder, Scope } from './builder';
import { INT_FIELDS, PR_ALLOW, PR_FLAGS, STRING_FIELDS } from './vocabulary';

const INT_LOCALS = ['i', 'len', 'val', 'n'] as const;
const IFDEFS = ['INET', 'INET6', 'VIMAGE', 'MAC', 'INET', 'VIMAGE'] as const;

type Maker = (b: FunctionBuilder, s: Scope) => Lines;

function intLocal(b: FunctionBuilder): string {
  return b.local('int', b.rng.pick(INT_LOCALS));
}

const readField: Maker = (b, s) => [`${intLocal(b)} = ${s.pr}->${b.rng.pick(INT_FIELDS)};`];

const writeField: Maker = (b, s) => {
  const f = b.rng.pick(INT_FIELDS.filter((x) => x !== 'pr_childcount'));
  const v = intLocal(b);
  return b.rng.pick([
    [`${s.pr}->${f} = ${v};`],
    [`if (${s.pr}->${f} < ${v})`, `\t${s.pr}->${f} = ${v};`],
    [`${s.pr}->${f} = ${s.pr}->pr_parent->${f};`],
  ]);
};

const setFlag: Maker = (b, s) => {
  if (b.rng.chance(0.5)) {
    const f = b.rng.pick(PR_FLAGS.filter((x) => x !== 'PR_PERSIST'));
    return [b.rng.chance(0.5) ? `${s.pr}->pr_flags |= ${f};` : `${s.pr}->pr_flags &= ~${f};`];
  }
  const a = b.rng.pick(PR_ALLOW);
  return [b.rng.chance(0.5) ? `${s.pr}->pr_allow |= ${a};` : `${s.pr}->pr_allow &= ~${a};`];
};

const copyString: Maker = (b, s) => {
  const buf = b.local('char', b.rng.pick(['buf[MAXHOSTNAMELEN]', 'name[MAXHOSTNAMELEN]', 'path[MAXPATHLEN]']));
  const f = b.rng.pick(STRING_FIELDS);
  return b.rng.chance(0.6)
    ? [`strlcpy(${buf}, ${s.pr}->${f}, sizeof(${buf}));`]
    : [`${intLocal(b)} = strlen(${s.pr}->${f});`];
};

const kassert: Maker = (b, s) => b.rng.pick([
  [`KASSERT(${s.pr}->pr_childcount >= 0,`, `    ("%s: jail %d has a negative child count", __func__, ${s.pr}->pr_id));`],
  [`KASSERT(${s.pr} != NULL, ("%s: no prison", __func__));`],
  [`KASSERT(${s.pr}->pr_childcount <= ${s.pr}->pr_childmax,`, `    ("%s: jail %d has too many children", __func__, ${s.pr}->pr_id));`],
  [`KASSERT(${s.pr}->pr_securelevel >= -1, ("%s: bad securelevel", __func__));`],
]);

function condition(b: FunctionBuilder, s: Scope): string {
  return b.rng.pick([
    () => `${s.pr}->pr_flags & ${b.rng.pick(PR_FLAGS)}`,
    () => `!(${s.pr}->pr_allow & ${b.rng.pick(PR_ALLOW)})`,
    () => `${intLocal(b)} > ${s.pr}->${b.rng.pick(INT_FIELDS)}`,
    () => `${s.pr}->pr_parent != NULL`,
    () => `${s.pr} != &prison0`,
    () => `${s.pr}->${b.rng.pick(STRING_FIELDS)}[0] == '\\0'`,
    () => `${intLocal(b)} == 0`,
  ])();
}

const ifStatement: Maker = (b, s) => {
  const inner = { ...s, depth: s.depth + 1 };
  const then = statements(b, inner, b.rng.int(1, 2));
  const head = `if (${condition(b, s)})`;
  if (!b.rng.chance(0.3)) return guarded(head, then);
  const otherwise = statements(b, inner, b.rng.int(1, 2));
  return [`${head} {`, ...indent(then), '} else {', ...indent(otherwise), '}'];
};

const ifdefGroup: Maker = (b, s) => {
  const sym = b.rng.pick(IFDEFS);
  return [`#ifdef ${sym}`, ...statements(b, { ...s, depth: s.depth + 1 }, b.rng.int(1, 2)), '#endif'];
};

const CASES = ['JAIL_SYS_DISABLE', 'JAIL_SYS_NEW', 'JAIL_SYS_INHERIT'] as const;

const switchStatement: Maker = (b, s) => {
  const v = intLocal(b);
  const out: Lines = [`switch (${v}) {`];
  for (const c of CASES.slice(0, b.rng.int(2, 3))) {
    out.push(`case ${c}:`, ...indent(statements(b, { ...s, depth: s.depth + 2 }, b.rng.int(1, 2))), '\tbreak;');
  }
  out.push('default:', `\t${v} = 0;`, '\tbreak;', '}');
  return out;
};

const smallLoop: Maker = (b, s) => {
  const i = b.local('int', 'i');
  const n = b.local('int', 'n');
  const [names, field] = b.rng.pick([['pr_allow_names', 'pr_allow'], ['pr_flag_names', 'pr_flags']] as const);
  return [
    `${n} = 0;`,
    `for (${i} = 0; ${i} < sizeof(${names}) / sizeof(${names}[0]); ${i}++)`,
    `\tif (${s.pr}->${field} & (1 << ${i}))`,
    `\t\t${n}++;`,
  ];
};

const externCall: Maker = (b, s) => {
  const calls: Lines[] = [
    [`bzero(&${s.pr}->pr_${b.rng.pick(['ip4', 'ip6'])}_saddr, sizeof(${s.pr}->pr_${b.rng.pick(['ip4', 'ip6'])}_saddr));`],
    [`printf("jail %d: %s\\n", ${s.pr}->pr_id, ${s.pr}->pr_name);`],
    [`log(LOG_NOTICE, "jail %d changed\\n", ${s.pr}->pr_id);`],
  ];
  if (s.opts) calls.push([`vfs_opterror(${s.opts}, "jail %d: %s", ${s.pr}->pr_id, "${b.rng.pick(['not allowed', 'busy', 'bad value'])}");`]);
  return b.rng.pick(calls);
};

const callHelper: Maker = (b, s) => {
  const options = b.lib.callable(s);
  if (options.length === 0) return readField(b, s);
  return b.rng.pick(options).call(b, s);
};

/** One statement (or a small compound one) fit for `scope`. */
export function statement(b: FunctionBuilder, scope: Scope): Lines {
  const deep = scope.depth >= 2;
  const makers: Array<readonly [Maker, number]> = [
    [readField, 3],
    [kassert, 1],
    [externCall, 1],
    [callHelper, 3],
  ];
  if (scope.prHeld && !scope.readOnly) makers.push([writeField, 3], [setFlag, 2]);
  if (scope.prHeld) makers.push([copyString, 2]);
  if (!deep) makers.push([ifStatement, 4], [ifdefGroup, 2], [switchStatement, 1], [smallLoop, 1]);
  return b.rng.weighted(makers)(b, scope);
}

export function statements(b: FunctionBuilder, scope: Scope, count: number): Lines {
  const out: Lines = [];
  for (let i = 0; i < count; i++) out.push(...statement(b, scope));
  return out;
}
