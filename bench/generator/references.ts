/**
 * The reference-counting core: prison_deref() with its PD_* flag contract,
 * the hold/free pairs for structure references (pr_ref) and user
 * references (pr_uref), the task that finishes a prison off, and the
 * refcount(9) helpers of the VIMAGE teardown. Written in the manner of the
 * 2011 file, in our own words.
 */
import type { Lines } from './cfile';
import type { Callee, FunctionBuilder, Library, Scope } from './builder';
import { FunctionBuilder as Builder } from './builder';
import { statements } from './statements';

export type DerefStyle = 'fixed' | 'hand-over-hand';

const unlockList = (flags: string): Lines => [
  `if (${flags} & PD_LIST_SLOCKED)`,
  '\tsx_sunlock(&allprison_lock);',
  `else if (${flags} & PD_LIST_XLOCKED)`,
  '\tsx_xunlock(&allprison_lock);',
];

/** The part of prison_deref() that frees a prison nobody refers to any more, and moves on to its parent. */
function freeAndClimb(parentFlags: string): Lines {
  return [
    '/* Nothing refers to the prison any more: take it off the lists. */',
    'mtx_unlock(&pr->pr_mtx);',
    'if (flags & PD_LIST_SLOCKED) {',
    '\tif (!sx_try_upgrade(&allprison_lock)) {',
    '\t\tsx_sunlock(&allprison_lock);',
    '\t\tsx_xlock(&allprison_lock);',
    '\t}',
    '} else if (!(flags & PD_LIST_XLOCKED))',
    '\tsx_xlock(&allprison_lock);',
    'TAILQ_REMOVE(&allprison, pr, pr_list);',
    'LIST_REMOVE(pr, pr_sibling);',
    'ppr = pr->pr_parent;',
    'for (tpr = ppr; tpr != NULL; tpr = tpr->pr_parent)',
    '\ttpr->pr_childcount--;',
    'sx_xunlock(&allprison_lock);',
    '',
    '#ifdef VIMAGE',
    'if (pr->pr_vnet != ppr->pr_vnet)',
    '\tvnet_destroy(pr->pr_vnet);',
    '#endif',
    'if (pr->pr_root != NULL)',
    '\tvrele(pr->pr_root);',
    'mtx_destroy(&pr->pr_mtx);',
    '#ifdef INET',
    'free(pr->pr_ip4, M_PRISON);',
    '#endif',
    '#ifdef INET6',
    'free(pr->pr_ip6, M_PRISON);',
    '#endif',
    'if (pr->pr_cpuset != NULL)',
    '\tcpuset_rel(pr->pr_cpuset);',
    'osd_jail_exit(pr);',
    'free(pr, M_PRISON);',
    '',
    '/* The prison held references on its parent; give them back. */',
    'pr = ppr;',
    'mtx_lock(&pr->pr_mtx);',
    `flags = ${parentFlags};`,
  ];
}

function prisonDeref(lib: Library, style: DerefStyle): void {
  const b = new Builder(lib.rng.fork('prison_deref'), lib);
  lib.claim('prison_deref');
  b.local('struct prison', '*ppr');
  b.local('struct prison', '*tpr');
  let body: Lines;
  if (style === 'fixed') {
    body = [
      'if (!(flags & PD_LOCKED))',
      '\tmtx_lock(&pr->pr_mtx);',
      'for (;;) {',
      '\tif (flags & PD_DEUREF) {',
      '\t\tKASSERT(pr->pr_uref > 0,',
      '\t\t    ("%s: jail %d has no user reference to drop", __func__, pr->pr_id));',
      '\t\tpr->pr_uref--;',
      '\t\tKASSERT(prison0.pr_uref != 0, ("prison0 lost its last user reference"));',
      '\t}',
      '\tif (flags & PD_DEREF) {',
      '\t\tif (--pr->pr_ref > 0) {',
      '\t\t\tmtx_unlock(&pr->pr_mtx);',
      '\t\t\tbreak;',
      '\t\t}',
      '\t} else if (pr->pr_ref > 0) {',
      '\t\tmtx_unlock(&pr->pr_mtx);',
      '\t\tbreak;',
      '\t}',
      '',
      ...freeAndClimb('PD_DEREF | PD_DEUREF').map((l) => (l === '' || l.startsWith('#') ? l : `\t${l}`)),
      '}',
      ...unlockList('flags'),
    ];
  } else {
    // The 2011 shape: user references are dropped up the ancestor chain, hand over hand.
    body = [
      'if (!(flags & PD_LOCKED))',
      '\tmtx_lock(&pr->pr_mtx);',
      '/* User references go in a loop of their own, up the ancestors. */',
      'if (flags & PD_DEUREF) {',
      '\tfor (tpr = pr;; tpr = tpr->pr_parent) {',
      '\t\tif (tpr != pr)',
      '\t\t\tmtx_lock(&tpr->pr_mtx);',
      '\t\tif (--tpr->pr_uref > 0)',
      '\t\t\tbreak;',
      '\t\tKASSERT(tpr != &prison0, ("prison0 lost its last user reference"));',
      '\t\tmtx_unlock(&tpr->pr_mtx);',
      '\t}',
      '\tif (!(flags & PD_DEREF)) {',
      '\t\tmtx_unlock(&tpr->pr_mtx);',
      ...unlockList('flags').map((l) => `\t\t${l}`),
      '\t\treturn;',
      '\t}',
      '\tif (tpr != pr) {',
      '\t\tmtx_unlock(&tpr->pr_mtx);',
      '\t\tmtx_lock(&pr->pr_mtx);',
      '\t}',
      '}',
      '',
      'for (;;) {',
      '\tif (flags & PD_DEREF)',
      '\t\tpr->pr_ref--;',
      '\tif (pr->pr_ref > 0) {',
      '\t\tmtx_unlock(&pr->pr_mtx);',
      ...unlockList('flags').map((l) => `\t\t${l}`),
      '\t\treturn;',
      '\t}',
      '',
      ...freeAndClimb('PD_DEREF').map((l) => (l === '' || l.startsWith('#') ? l : `\t${l}`)),
      '}',
    ];
  }
  b.finish({
    name: 'prison_deref', returnType: 'void', params: 'struct prison *pr, int flags', isStatic: true,
    comment: [
      'Drop references on a prison, as the flags say: PD_DEREF a structure reference, PD_DEUREF a user reference.',
      'PD_LOCKED says the caller holds pr->pr_mtx, PD_LIST_SLOCKED and PD_LIST_XLOCKED that it holds allprison_lock;',
      'every one of those locks is released on return.  A prison that loses its last reference is taken off the lists',
      'and freed, and the references it held on its parent are dropped in turn.',
    ],
    body,
  }, `prison_deref-${style}`, 'references');
}

interface Simple {
  readonly name: string;
  readonly comment?: string[];
  readonly params?: string;
  readonly returnType?: string;
  readonly isStatic?: boolean;
  readonly body: (b: FunctionBuilder) => Lines;
  readonly ifdef?: string;
  readonly callee?: Callee;
}

function simple(lib: Library, s: Simple, kind: string): void {
  if (!lib.claim(s.name)) return;
  const b = new Builder(lib.rng.fork(s.name), lib);
  const body = s.body(b);
  b.finish({
    name: s.name, returnType: s.returnType ?? 'void', params: s.params ?? 'struct prison *pr', isStatic: s.isStatic ?? false,
    comment: s.comment, body, ifdef: s.ifdef,
  }, kind, 'references', s.callee);
}

const held = (pr: string): Scope => ({ pr, prHeld: true, list: 'none', otherHeld: false, depth: 1 });

export function writeReferences(lib: Library, style: DerefStyle): void {
  prisonDeref(lib, style);
  simple(lib, {
    name: 'prison_hold_locked',
    comment: ['Hold a structure reference on a prison whose mutex the caller holds.'],
    body: (b) => [
      'mtx_assert(&pr->pr_mtx, MA_OWNED);',
      'KASSERT(pr->pr_ref > 0,',
      '    ("%s: jail %d is already dead", __func__, pr->pr_id));',
      ...(b.rng.chance(0.5) ? ['KASSERT(pr->pr_ref < INT_MAX, ("%s: pr_ref would overflow", __func__));'] : []),
      'pr->pr_ref++;',
    ],
  }, 'hold-locked');
  simple(lib, {
    name: 'prison_hold',
    body: (b) => ['mtx_lock(&pr->pr_mtx);', `${b.calling('prison_hold_locked')}(pr);`, 'mtx_unlock(&pr->pr_mtx);'],
  }, 'hold');
  simple(lib, {
    name: 'prison_complete',
    params: 'void *context, int pending',
    isStatic: true,
    comment: ['Finish what prison_free_locked() started, in a task where sleeping locks may be taken.',
      'A prison that still has user references loses one of those as well.'],
    body: (b) => {
      b.local('struct prison', '*pr = context');
      return [
        'sx_xlock(&allprison_lock);',
        'mtx_lock(&pr->pr_mtx);',
        `${b.calling('prison_deref')}(pr, pr->pr_uref`,
        '    ? PD_DEREF | PD_DEUREF | PD_LOCKED | PD_LIST_XLOCKED',
        '    : PD_LOCKED | PD_LIST_XLOCKED);',
      ];
    },
  }, 'complete');
  simple(lib, {
    name: 'prison_free_locked',
    comment: ['Drop a structure reference; the caller holds pr->pr_mtx, which is released.',
      'The last reference is not dropped here but in a task, since the caller may hold other locks.'],
    body: (b) => [
      'mtx_assert(&pr->pr_mtx, MA_OWNED);',
      'if (--pr->pr_ref > 0) {',
      '\tmtx_unlock(&pr->pr_mtx);',
      '\treturn;',
      '}',
      '/* prison_complete() takes the prison apart, outside our caller\'s locks. */',
      'mtx_unlock(&pr->pr_mtx);',
      `TASK_INIT(&pr->pr_task, 0, ${b.calling('prison_complete')}, pr);`,
      'taskqueue_enqueue(taskqueue_thread, &pr->pr_task);',
    ],
  }, 'free-locked');
  simple(lib, {
    name: 'prison_free',
    body: (b) => ['mtx_lock(&pr->pr_mtx);', `${b.calling('prison_free_locked')}(pr);`],
  }, 'free');
  simple(lib, {
    name: 'prison_proc_hold',
    comment: ['A process joins a prison (fork, or attach): one more user reference.'],
    body: () => [
      'mtx_lock(&pr->pr_mtx);',
      'KASSERT(pr->pr_uref > 0,',
      '    ("%s: jail %d is not alive", __func__, pr->pr_id));',
      'pr->pr_uref++;',
      'mtx_unlock(&pr->pr_mtx);',
    ],
  }, 'proc-hold');
  simple(lib, {
    name: 'prison_proc_free',
    comment: ['A process leaves a prison.  All but the last user reference go without prison_deref().'],
    body: (b) => [
      'mtx_lock(&pr->pr_mtx);',
      'KASSERT(pr->pr_uref > 0,',
      '    ("%s: jail %d has no processes", __func__, pr->pr_id));',
      'if (pr->pr_uref > 1) {',
      '\tpr->pr_uref--;',
      '\tmtx_unlock(&pr->pr_mtx);',
      '\treturn;',
      '}',
      `${b.calling('prison_deref')}(pr, PD_DEUREF | PD_LOCKED);`,
    ],
  }, 'proc-free');
  simple(lib, {
    name: 'prison_vnet_hold',
    ifdef: 'VIMAGE',
    comment: ['The network stack keeps a prison while it tears its vnet down.',
      'It may do so with other locks held, so the count is changed atomically.'],
    body: () => ['refcount_acquire(&pr->pr_ref);'],
  }, 'refcount-acquire');
  simple(lib, {
    name: 'prison_vnet_free',
    ifdef: 'VIMAGE',
    body: (b) => [
      'if (refcount_release(&pr->pr_ref)) {',
      '\t/* The last one out finishes the prison in a task. */',
      `\tTASK_INIT(&pr->pr_task, 0, ${b.calling('prison_complete')}, pr);`,
      '\ttaskqueue_enqueue(taskqueue_thread, &pr->pr_task);',
      '}',
    ],
  }, 'refcount-release');
  simple(lib, {
    name: 'prison_proc_relink',
    comment: ['Move a user reference from one prison to another, as setuid credentials change jails.',
      'Both prisons are alive: the caller has a process in each.'],
    params: 'struct prison *opr, struct prison *npr',
    body: (b) => [
      ...(b.rng.chance(0.5) ? ['if (opr == npr)', '\treturn;'] : []),
      'mtx_lock(&npr->pr_mtx);',
      'KASSERT(npr->pr_uref > 0, ("%s: new jail %d is not alive", __func__, npr->pr_id));',
      'npr->pr_uref++;',
      'mtx_unlock(&npr->pr_mtx);',
      'mtx_lock(&opr->pr_mtx);',
      'if (--opr->pr_uref > 0) {',
      '\tmtx_unlock(&opr->pr_mtx);',
      '\treturn;',
      '}',
      '/* That was the last process: let prison_deref() take the prison down. */',
      'opr->pr_uref++;',
      `${b.calling('prison_deref')}(opr, PD_DEUREF | PD_LOCKED);`,
    ],
  }, 'uref-move');
  // Helpers that read a held prison, for other functions to call with pr->pr_mtx held.
  const b = new Builder(lib.rng.fork('prison_audit_locked'), lib);
  if (lib.claim('prison_audit_locked')) {
    const body = ['mtx_assert(&pr->pr_mtx, MA_OWNED);', ...statements(b, held('pr'), 3)];
    b.finish({
      name: 'prison_audit_locked', returnType: 'void', params: 'struct prison *pr', isStatic: true,
      comment: ['Check the invariants of a prison whose mutex the caller holds.'], body,
    }, 'assert-locked', 'references', {
      name: 'prison_audit_locked',
      accepts: (s) => s.prHeld,
      call: (cb, s) => [`${cb.calling('prison_audit_locked')}(${s.pr});`],
    });
  }
}
