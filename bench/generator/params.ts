/**
 * Families of functions about one jail parameter, enough of them to bring
 * the file to kern_jail.c's size: getters and updaters with a PD_LOCKED
 * contract (`if (!(flags & PD_LOCKED)) mtx_lock(...)`), walks that take
 * allprison_lock unless PD_LIST_*LOCKED says the caller has it, setters
 * that push a value down with FOREACH_PRISON_DESCENDANT_LOCKED, OSD
 * methods with vfs_copyopt() checks, and sysctl handlers that visit every
 * descendant under its own mutex.
 */
import { indent, Lines } from './cfile';
import { Callee, FunctionBuilder, Library, Scope, Section } from './builder';
import { statements } from './statements';
import { JailParam, PARAMS } from './vocabulary';

export type ParamKind = 'getter' | 'updater' | 'list-walk' | 'setter' | 'descend' | 'check-method' | 'set-method' | 'sysctl' | 'sysctl-list';

export const PARAM_KINDS: readonly ParamKind[] = ['getter', 'updater', 'list-walk', 'setter', 'descend', 'check-method',
  'set-method', 'sysctl', 'sysctl-list'];

const NAMES: Record<ParamKind, (w: string) => string> = {
  getter: (w) => `prison_get_${w}`,
  updater: (w) => `prison_update_${w}`,
  'list-walk': (w) => `prison_count_${w}`,
  setter: (w) => `prison_set_${w}`,
  descend: (w) => `prison_${w}_descend`,
  'check-method': (w) => `prison_${w}_check`,
  'set-method': (w) => `prison_${w}_set`,
  sysctl: (w) => `sysctl_jail_${w}`,
  'sysctl-list': (w) => `sysctl_jail_${w}_list`,
};

const ctype = (p: JailParam): string => (p.kind === 'ulong' ? 'unsigned long' : 'int');

interface Written {
  readonly returnType: string;
  readonly params: string;
  readonly isStatic: boolean;
  readonly comment?: string[];
  readonly body: Lines;
  readonly section: Section;
  readonly callee?: Callee;
}

/** The flags a caller passes for the lock it holds on `pr` (PD_LOCKED) or not. */
const lockedFlag = (s: Scope): string => (s.prHeld ? 'PD_LOCKED' : '0');
const listFlag = (s: Scope): string => (s.list === 'shared' ? 'PD_LIST_SLOCKED' : s.list === 'exclusive' ? 'PD_LIST_XLOCKED' : '0');

function getter(b: FunctionBuilder, p: JailParam, name: string): Written {
  const useGoto = b.rng.chance(0.5);
  const held: Scope = { pr: 'pr', prHeld: true, list: 'none', otherHeld: false, depth: 1, readOnly: true };
  b.local('int', 'error');
  const body: Lines = [
    'if (!(flags & PD_LOCKED))',
    '\tmtx_lock(&pr->pr_mtx);',
    ...(b.rng.chance(0.4) ? ['else', '\tmtx_assert(&pr->pr_mtx, MA_OWNED);'] : []),
    'error = 0;',
  ];
  if (useGoto) {
    body.push('if (pr->pr_uref == 0) {', '\terror = ENOENT;', '\tgoto out;', '}');
    if (p.ifdef) body.push(`#ifndef ${p.ifdef}`, 'error = EOPNOTSUPP;', 'goto out;', '#endif');
  }
  body.push(...statements(b, held, b.rng.int(3, 6)));
  body.push(p.kind === 'string'
    ? `strlcpy(valp, pr->${p.field}, ${p.limit});`
    : `*valp = pr->${p.field};`);
  if (useGoto) body.push(' out:');
  body.push('if (!(flags & PD_LOCKED))', '\tmtx_unlock(&pr->pr_mtx);', 'return (error);');
  const valType = p.kind === 'string' ? 'char *valp' : `${ctype(p)} *valp`;
  return {
    returnType: 'int', params: `struct prison *pr, int flags, ${valType}`, isStatic: true, section: 'params',
    comment: [`Read pr's ${p.option}.  With PD_LOCKED the caller holds pr->pr_mtx; otherwise it is taken here.`],
    body,
    callee: {
      name, accepts: (s) => s.prHeld || !s.otherHeld,
      call: (cb, s) => {
        const v = p.kind === 'string' ? cb.local('char', 'buf[MAXHOSTNAMELEN]') : cb.local(ctype(p), p.kind === 'ulong' ? 'hid' : 'val');
        return [`(void)${cb.calling(name)}(${s.pr}, ${lockedFlag(s)}, ${p.kind === 'string' ? v : `&${v}`});`];
      },
    },
  };
}

function updater(b: FunctionBuilder, p: JailParam, name: string): Written {
  const held: Scope = { pr: 'pr', prHeld: true, list: 'none', otherHeld: false, depth: 1 };
  b.local('int', 'error');
  const body: Lines = [
    'if (!(flags & PD_LOCKED))',
    '\tmtx_lock(&pr->pr_mtx);',
    'error = 0;',
    'if (pr->pr_ref == 0 || pr->pr_uref == 0) {',
    '\terror = ENOENT;',
    '\tgoto done;',
    '}',
  ];
  if (p.kind !== 'string') {
    body.push(`if (value < 0 || value > ${p.limit}) {`, '\terror = EINVAL;', '\tgoto done;', '}');
    body.push('if (pr != &prison0 &&', `    value > pr->pr_parent->${p.field}) {`, '\terror = EPERM;', '\tgoto done;', '}');
  }
  body.push(...statements(b, held, b.rng.int(3, 6)));
  body.push(p.kind === 'string' ? `strlcpy(pr->${p.field}, value, sizeof(pr->${p.field}));` : `pr->${p.field} = value;`);
  body.push(' done:', 'if (!(flags & PD_LOCKED))', '\tmtx_unlock(&pr->pr_mtx);', 'return (error);');
  const valType = p.kind === 'string' ? 'const char *value' : `${ctype(p)} value`;
  return {
    returnType: 'int', params: `struct prison *pr, int flags, ${valType}`, isStatic: true, section: 'params',
    comment: [`Change pr's ${p.option}, if the parent allows it.  PD_LOCKED: the caller holds pr->pr_mtx.`],
    body,
    callee: {
      name, accepts: (s) => s.prHeld || !s.otherHeld,
      call: (cb, s) => {
        const arg = p.kind === 'string' ? `${s.pr}->pr_parent->${p.field}` : `${s.pr}->pr_parent->${p.field}`;
        return [`(void)${cb.calling(name)}(${s.pr}, ${lockedFlag(s)}, ${arg});`];
      },
    },
  };
}

function listWalk(b: FunctionBuilder, p: JailParam, name: string): Written {
  b.local('struct prison', '*tpr');
  b.local('int', 'count');
  b.local('int', 'descend');
  // The caller's flags decide whether allprison_lock is shared or exclusive here.
  const inner: Scope = { pr: 'tpr', prHeld: true, list: 'either', otherHeld: true, depth: 2, readOnly: true };
  const body: Lines = [
    'if ((flags & (PD_LIST_SLOCKED | PD_LIST_XLOCKED)) == 0)',
    '\tsx_slock(&allprison_lock);',
    'count = 0;',
    'FOREACH_PRISON_DESCENDANT(pr, tpr, descend) {',
    '\tmtx_lock(&tpr->pr_mtx);',
    '\tif (tpr->pr_uref == 0) {',
    '\t\t/* Dying prisons do not count. */',
    '\t\tmtx_unlock(&tpr->pr_mtx);',
    '\t\tcontinue;',
    '\t}',
    ...indent(statements(b, inner, b.rng.int(2, 4))),
    p.kind === 'string' ? `\tif (tpr->${p.field}[0] != '\\0')` : `\tif (tpr->${p.field} != 0)`,
    '\t\tcount++;',
    '\tmtx_unlock(&tpr->pr_mtx);',
    '}',
    'if ((flags & (PD_LIST_SLOCKED | PD_LIST_XLOCKED)) == 0)',
    '\tsx_sunlock(&allprison_lock);',
    'return (count);',
  ];
  return {
    returnType: 'int', params: 'struct prison *pr, int flags', isStatic: true, section: 'params',
    comment: [`Count the live descendants of pr that set ${p.option}.`,
      'PD_LIST_SLOCKED or PD_LIST_XLOCKED: the caller holds allprison_lock; otherwise it is taken here.'],
    body,
    callee: {
      name,
      // The flag must name the mode allprison_lock is held in; and it is an sx lock, not to be taken under a mutex.
      accepts: (s) => s.list === 'shared' || s.list === 'exclusive' || (s.list === 'none' && !s.prHeld && !s.otherHeld),
      call: (cb, s) => [`${cb.local('int', 'n')} = ${cb.calling(name)}(${s.pr}, ${listFlag(s)});`],
    },
  };
}

function setter(b: FunctionBuilder, p: JailParam, name: string): Written {
  b.local('struct prison', '*tpr');
  b.local('int', 'descend');
  const held: Scope = { pr: 'pr', prHeld: true, list: 'shared', otherHeld: false, depth: 1 };
  const push = p.kind === 'string'
    ? [`\tif (tpr->${p.field}[0] == '\\0')`, `\t\tstrlcpy(tpr->${p.field}, value, sizeof(tpr->${p.field}));`]
    : [`\tif (tpr->${p.field} < value)`, `\t\ttpr->${p.field} = value;`];
  const body: Lines = [
    'sx_slock(&allprison_lock);',
    'mtx_lock(&pr->pr_mtx);',
    ...statements(b, held, b.rng.int(1, 3)),
    p.kind === 'string' ? `strlcpy(pr->${p.field}, value, sizeof(pr->${p.field}));` : `pr->${p.field} = value;`,
    '/* Descendants never have less than their ancestors. */',
    'FOREACH_PRISON_DESCENDANT_LOCKED(pr, tpr, descend) {',
    ...push,
    '}',
    'mtx_unlock(&pr->pr_mtx);',
    'sx_sunlock(&allprison_lock);',
  ];
  const valType = p.kind === 'string' ? 'const char *value' : `${ctype(p)} value`;
  return {
    returnType: 'void', params: `struct prison *pr, ${valType}`, isStatic: true, section: 'params',
    comment: [`Set pr's ${p.option} and raise its descendants' to match.`], body,
    callee: {
      name, accepts: (s) => !s.prHeld && !s.otherHeld && s.list === 'none',
      call: (cb, s) => [`${cb.calling(name)}(${s.pr}, ${s.pr}->pr_parent->${p.field});`],
    },
  };
}

function descend(b: FunctionBuilder, p: JailParam, name: string): Written {
  b.local('struct prison', '*tpr');
  b.local('int', 'descend');
  const inner: Scope = { pr: 'tpr', prHeld: true, list: 'exclusive', otherHeld: true, depth: 2 };
  const body: Lines = [
    'sx_assert(&allprison_lock, SA_XLOCKED);',
    'FOREACH_PRISON_DESCENDANT_LOCKED(pr, tpr, descend) {',
    ...(p.ifdef === 'VIMAGE' || b.rng.chance(0.3)
      ? ['#ifdef VIMAGE', '\tif (tpr->pr_flags & PR_VNET) {', '\t\tdescend = 0;', '\t\tcontinue;', '\t}', '#endif'] : []),
    ...indent(statements(b, inner, b.rng.int(2, 4))),
    '}',
  ];
  return {
    returnType: 'void', params: 'struct prison *pr', isStatic: true, section: 'params',
    comment: [`Bring pr's descendants in line with its ${p.option}.  The caller holds allprison_lock exclusive.`], body,
    callee: {
      name, accepts: (s) => s.list === 'exclusive' && !s.otherHeld,
      call: (cb, s) => [`${cb.calling(name)}(${s.pr});`],
    },
  };
}

function checkMethod(b: FunctionBuilder, p: JailParam): Written {
  b.local('struct vfsoptlist', '*opts = data');
  b.local('int', 'error');
  const v = p.kind === 'string' ? b.local('char', '*str') : b.local(ctype(p), 'val');
  const body: Lines = p.kind === 'string'
    ? [
      `error = vfs_getopt(opts, "${p.option}", (void **)&${v}, &${b.local('int', 'len')});`,
      'if (error == ENOENT)',
      '\treturn (0);',
      'if (error != 0)',
      '\treturn (error);',
      `if (len == 0 || len > ${p.limit} || ${v}[len - 1] != '\\0') {`,
      `\tvfs_opterror(opts, "${p.option} is not a valid string");`,
      '\treturn (EINVAL);',
      '}',
      'return (0);',
    ]
    : [
      `error = vfs_copyopt(opts, "${p.option}", &${v}, sizeof(${v}));`,
      'if (error == ENOENT)',
      '\treturn (0);',
      'if (error != 0)',
      '\treturn (error);',
      `switch (${v}) {`,
      'case 0:',
      '\tbreak;',
      'default:',
      `\tif (${v} < 0 || ${v} > ${p.limit}) {`,
      `\t\tvfs_opterror(opts, "${p.option} out of range");`,
      '\t\treturn (EINVAL);',
      '\t}',
      '}',
      'return (0);',
    ];
  return {
    returnType: 'int', params: 'void *obj, void *data', isStatic: true, section: 'params',
    comment: [`PR_METHOD_CHECK for ${p.option}: reject bad values before anything is changed.`], body,
  };
}

function setMethod(b: FunctionBuilder, p: JailParam): Written {
  b.local('struct prison', '*pr = obj');
  b.local('struct vfsoptlist', '*opts = data');
  b.local('int', 'error');
  const v = b.local(ctype(p), 'val');
  const held: Scope = { pr: 'pr', prHeld: true, list: 'shared', otherHeld: false, opts: 'opts', depth: 1 };
  const body: Lines = [
    `error = vfs_copyopt(opts, "${p.option}", &${v}, sizeof(${v}));`,
    'if (error == ENOENT)',
    '\treturn (0);',
    'if (error != 0)',
    '\treturn (error);',
    '',
    'mtx_lock(&pr->pr_mtx);',
    ...(b.rng.chance(0.5)
      ? ['if (pr->pr_uref == 0) {', '\t/* Too late: the prison is on its way out. */', '\tmtx_unlock(&pr->pr_mtx);', '\treturn (ENOENT);', '}']
      : []),
    ...statements(b, held, b.rng.int(3, 6)),
    `pr->${p.field} = ${v};`,
    'mtx_unlock(&pr->pr_mtx);',
    'return (0);',
  ];
  return {
    returnType: 'int', params: 'void *obj, void *data', isStatic: true, section: 'params',
    comment: [`PR_METHOD_SET for ${p.option}.  Called with allprison_lock held shared.`], body,
  };
}

function sysctl(b: FunctionBuilder, p: JailParam): Written {
  b.local('struct prison', '*pr');
  b.local('struct prison', '*cpr');
  b.local('int', 'descend');
  b.local('int', 'error');
  b.local('int', 'count');
  const inner: Scope = { pr: 'cpr', prHeld: true, list: 'shared', otherHeld: true, depth: 2, readOnly: true };
  const body: Lines = [
    'pr = req->td->td_ucred->cr_prison;',
    'count = 0;',
    'sx_slock(&allprison_lock);',
    'FOREACH_PRISON_DESCENDANT(pr, cpr, descend) {',
    '\tmtx_lock(&cpr->pr_mtx);',
    ...(b.rng.chance(0.6) ? ['\tif (cpr->pr_ref == 0) {', '\t\tmtx_unlock(&cpr->pr_mtx);', '\t\tcontinue;', '\t}'] : []),
    ...indent(statements(b, inner, b.rng.int(2, 4))),
    p.kind === 'string' ? `\tif (cpr->${p.field}[0] != '\\0')` : `\tif (cpr->${p.field} != 0)`,
    '\t\tcount++;',
    '\tmtx_unlock(&cpr->pr_mtx);',
    '}',
    'sx_sunlock(&allprison_lock);',
    'error = SYSCTL_OUT(req, &count, sizeof(count));',
    'return (error);',
  ];
  return {
    returnType: 'int', params: 'SYSCTL_HANDLER_ARGS', isStatic: true, section: 'sysctl',
    comment: [`security.jail.${p.word}_count: how many jails below the caller's set ${p.option}.`], body,
  };
}

function sysctlList(b: FunctionBuilder, p: JailParam): Written {
  b.local('struct xprison_' + p.word.replace(/[^a-z0-9]/g, ''), '*xp');
  b.local('struct xprison_' + p.word.replace(/[^a-z0-9]/g, ''), '*sxp');
  b.local('struct prison', '*pr');
  b.local('struct prison', '*cpr');
  b.local('int', 'descend');
  b.local('int', 'error');
  b.local('int', 'count');
  const inner: Scope = { pr: 'cpr', prHeld: true, list: 'shared', otherHeld: true, depth: 2, readOnly: true };
  const copy = p.kind === 'string'
    ? `\tstrlcpy(xp->${p.word}, cpr->${p.field}, sizeof(xp->${p.word}));`
    : `\txp->${p.word} = cpr->${p.field};`;
  const body: Lines = [
    'pr = req->td->td_ucred->cr_prison;',
    'error = 0;',
    'sx_slock(&allprison_lock);',
    'count = 0;',
    'FOREACH_PRISON_DESCENDANT(pr, cpr, descend)',
    '\tcount++;',
    'sxp = xp = malloc(count * sizeof(*xp), M_TEMP, M_WAITOK | M_ZERO);',
    'FOREACH_PRISON_DESCENDANT(pr, cpr, descend) {',
    '\tif (xp >= sxp + count)',
    '\t\tbreak;',
    '\tmtx_lock(&cpr->pr_mtx);',
    '\tif (cpr->pr_uref == 0) {',
    '\t\tmtx_unlock(&cpr->pr_mtx);',
    '\t\tcontinue;',
    '\t}',
    '\txp->pr_id = cpr->pr_id;',
    copy,
    ...indent(statements(b, inner, b.rng.int(0, 2))),
    '\tmtx_unlock(&cpr->pr_mtx);',
    '\txp++;',
    '}',
    'sx_sunlock(&allprison_lock);',
    '',
    '/* Copy out only after the lock is dropped: the copy may fault. */',
    'if (xp != sxp) {',
    '\terror = SYSCTL_OUT(req, sxp, (xp - sxp) * sizeof(*xp));',
    '\tif (error)',
    '\t\tgoto out;',
    '}',
    'error = SYSCTL_OUT(req, NULL, 0);',
    ' out:',
    'free(sxp, M_TEMP);',
    'return (error);',
  ];
  return {
    returnType: 'int', params: 'SYSCTL_HANDLER_ARGS', isStatic: true, section: 'sysctl',
    comment: [`security.jail.${p.word}_list: the ${p.option} of every live jail below the caller's.`], body,
  };
}

const WRITERS: Record<ParamKind, (b: FunctionBuilder, p: JailParam, name: string) => Written> = {
  getter, updater, 'list-walk': listWalk, setter, descend,
  'check-method': checkMethod, 'set-method': setMethod, sysctl, 'sysctl-list': sysctlList,
};

/** Writes one function of `kind` about a parameter not yet used for that kind; false if none is left. */
export function writeParamFunction(lib: Library, kind: ParamKind): boolean {
  // set-method copies the option into an integer.
  const fits = (p: JailParam): boolean => !(kind === 'set-method' && p.kind === 'string');
  const free = PARAMS.filter((p) => fits(p) && !lib.has(NAMES[kind](p.word)));
  if (free.length === 0) return false;
  const p = lib.rng.pick(free);
  const name = NAMES[kind](p.word);
  lib.claim(name);
  const b = new FunctionBuilder(lib.rng.fork(name), lib);
  const w = WRITERS[kind](b, p, name);
  b.finish({
    name, returnType: w.returnType, params: w.params, isStatic: w.isStatic, comment: w.comment, body: w.body,
    ifdef: p.ifdef,
  }, kind, w.section, p.ifdef ? undefined : w.callee);
  return true;
}
