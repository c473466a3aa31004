/**
 * kern_jail_get(): find one prison (after a jid, by jid, or by name) with
 * allprison_lock held shared, then copy out its parameters, each copy a
 * possible `goto done_deref`. Whether pr->pr_mtx is still held there is
 * carried in a flag word (`locked`) handed to prison_deref(), as in
 * kern_jail.c.
 */
import { indent, Lines } from './cfile';
import { FunctionBuilder, Library, Scope } from './builder';
import { statements } from './statements';
import { PARAMS } from './vocabulary';

const copyFailed = ['if (error != 0 && error != ENOENT)', '\tgoto done_deref;'];

export function writeJailGet(lib: Library, paramCount: number): void {
  if (!lib.claim('kern_jail_get')) return;
  const b = new FunctionBuilder(lib.rng.fork('kern_jail_get'), lib);
  const rng = b.rng;
  for (const [type, names] of [
    ['struct prison', ['*pr', '*mypr']], ['struct vfsopt', ['*opt']], ['struct vfsoptlist', ['*opts']],
    ['char', ['*errmsg', '*name']],
    ['int', ['error', 'errmsg_len', 'errmsg_pos', 'fi', 'i', 'jid', 'len', 'locked', 'pos']],
  ] as const) for (const n of names) b.local(type, n);
  const held: Scope = { pr: 'pr', prHeld: true, list: 'shared', otherHeld: false, opts: 'opts', depth: 1 };

  const params = rng.shuffled(PARAMS).slice(0, paramCount);
  const copies: Lines = [];
  for (const p of params) {
    const lines = p.kind === 'string'
      ? [`error = vfs_setopts(opts, "${p.option}", pr->${p.field});`, ...copyFailed]
      : [`error = vfs_setopt(opts, "${p.option}", &pr->${p.field}, sizeof(pr->${p.field}));`, ...copyFailed];
    if (p.ifdef) copies.push(`#ifdef ${p.ifdef}`, ...lines, '#endif');
    else copies.push(...lines);
    if (rng.chance(0.25)) copies.push(...statements(b, held, 1));
  }

  const found = (what: string, subject: string): Lines => [
    'if (pr != NULL) {',
    '\tif (pr->pr_uref == 0 && !(flags & JAIL_DYING)) {',
    '\t\tmtx_unlock(&pr->pr_mtx);',
    '\t\terror = ENOENT;',
    `\t\tvfs_opterror(opts, "jail ${what} is dying", ${subject});`,
    '\t\tgoto done_unlock_list;',
    '\t}',
    '\tgoto found_prison;',
    '}',
    'error = ENOENT;',
    `vfs_opterror(opts, "jail ${what} not found", ${subject});`,
    'goto done_unlock_list;',
  ];

  const out: Lines = [
    'if (flags & ~JAIL_GET_MASK)',
    '\treturn (EINVAL);',
    '',
    'error = vfs_buildopts(optuio, &opts);',
    'if (error)',
    '\treturn (error);',
    'errmsg_pos = vfs_getopt_pos(opts, "errmsg");',
    'mypr = td->td_ucred->cr_prison;',
    '',
    '/* The prison is named by lastjid (the next one after it), jid, or name. */',
    'sx_slock(&allprison_lock);',
    'error = vfs_copyopt(opts, "lastjid", &jid, sizeof(jid));',
    'if (error == 0) {',
    '\tTAILQ_FOREACH(pr, &allprison, pr_list) {',
    `\t\tif (pr->pr_id <= jid || !${b.calling('prison_ischild')}(mypr, pr))`,
    '\t\t\tcontinue;',
    '\t\tmtx_lock(&pr->pr_mtx);',
    '\t\tif (pr->pr_ref > 0 &&',
    '\t\t    (pr->pr_uref > 0 || (flags & JAIL_DYING)))',
    '\t\t\tbreak;',
    '\t\tmtx_unlock(&pr->pr_mtx);',
    '\t}',
    '\tif (pr != NULL)',
    '\t\tgoto found_prison;',
    '\terror = ENOENT;',
    '\tvfs_opterror(opts, "no jail after %d", jid);',
    '\tgoto done_unlock_list;',
    '} else if (error != ENOENT)',
    '\tgoto done_unlock_list;',
    '',
    'error = vfs_copyopt(opts, "jid", &jid, sizeof(jid));',
    'if (error == 0) {',
    '\tif (jid != 0) {',
    `\t\tpr = ${b.calling('prison_find_child')}(mypr, jid);`,
    ...indent(found('%d', 'jid'), 2),
    '\t}',
    '} else if (error != ENOENT)',
    '\tgoto done_unlock_list;',
    '',
    'error = vfs_getopt(opts, "name", (void **)&name, &len);',
    'if (error == 0) {',
    '\tif (len == 0 || name[len - 1] != \'\\0\') {',
    '\t\terror = EINVAL;',
    '\t\tgoto done_unlock_list;',
    '\t}',
    `\tpr = ${b.calling('prison_find_name')}(mypr, name);`,
    ...indent(found('\\"%s\\"', 'name')),
    '} else if (error != ENOENT)',
    '\tgoto done_unlock_list;',
    '',
    'vfs_opterror(opts, "no jail specified");',
    'error = ENOENT;',
    'goto done_unlock_list;',
    '',
    ' found_prison:',
    '/* Hold the prison while its parameters are copied. */',
    'pr->pr_ref++;',
    'locked = PD_LOCKED;',
    'td->td_retval[0] = pr->pr_id;',
    'error = vfs_setopt(opts, "jid", &pr->pr_id, sizeof(pr->pr_id));',
    ...copyFailed,
    'i = (pr->pr_parent == mypr) ? 0 : pr->pr_parent->pr_id;',
    'error = vfs_setopt(opts, "parent", &i, sizeof(i));',
    ...copyFailed,
    'error = vfs_setopts(opts, "name", prison_name(mypr, pr));',
    ...copyFailed,
    ...copies,
    'i = pr->pr_uref == 0;',
    'error = vfs_setopt(opts, "dying", &i, sizeof(i));',
    ...copyFailed,
    'i = !i;',
    'error = vfs_setopt(opts, "nodying", &i, sizeof(i));',
    ...copyFailed,
    'for (fi = 0; fi < sizeof(pr_flag_names) / sizeof(pr_flag_names[0]); fi++) {',
    '\tif (pr_flag_names[fi] == NULL)',
    '\t\tcontinue;',
    '\ti = (pr->pr_flags & (1 << fi)) ? 1 : 0;',
    '\terror = vfs_setopt(opts, pr_flag_names[fi], &i, sizeof(i));',
    ...indent(copyFailed),
    '\ti = !i;',
    '\terror = vfs_setopt(opts, pr_flag_nonames[fi], &i, sizeof(i));',
    ...indent(copyFailed),
    '}',
    'for (fi = 0; fi < sizeof(pr_allow_names) / sizeof(pr_allow_names[0]); fi++) {',
    '\tif (pr_allow_names[fi] == NULL)',
    '\t\tcontinue;',
    '\ti = (pr->pr_allow & (1 << fi)) ? 1 : 0;',
    '\terror = vfs_setopt(opts, pr_allow_names[fi], &i, sizeof(i));',
    ...indent(copyFailed),
    '}',
    ...statements(b, held, rng.int(1, 2)),
    '',
    '/* Modules may sleep: they are asked with the prison unlocked. */',
    'mtx_unlock(&pr->pr_mtx);',
    'locked = 0;',
    'error = osd_jail_call(pr, PR_METHOD_GET, opts);',
    'if (error)',
    '\tgoto done_deref;',
    `${b.calling('prison_deref')}(pr, PD_DEREF | PD_LIST_SLOCKED);`,
    '',
    'TAILQ_FOREACH(opt, opts, link) {',
    '\tif (!opt->seen && strcmp(opt->name, "errmsg") != 0) {',
    '\t\terror = EINVAL;',
    '\t\tvfs_opterror(opts, "unknown parameter: %s", opt->name);',
    '\t\tgoto done_errmsg;',
    '\t}',
    '}',
    '',
    '/* Hand the values back, each to the slot after its name. */',
    'error = 0;',
    'TAILQ_FOREACH(opt, opts, link) {',
    '\tif (opt->pos < 0 || opt->pos == errmsg_pos)',
    '\t\tcontinue;',
    '\tpos = 2 * opt->pos + 1;',
    '\toptuio->uio_iov[pos].iov_len = opt->len;',
    '\tif (opt->value == NULL)',
    '\t\tcontinue;',
    '\tif (optuio->uio_segflg == UIO_SYSSPACE)',
    '\t\tbcopy(opt->value, optuio->uio_iov[pos].iov_base, opt->len);',
    '\telse {',
    '\t\terror = copyout(opt->value, optuio->uio_iov[pos].iov_base, opt->len);',
    '\t\tif (error)',
    '\t\t\tbreak;',
    '\t}',
    '}',
    'goto done_errmsg;',
    '',
    ' done_deref:',
    'prison_deref(pr, locked | PD_DEREF | PD_LIST_SLOCKED);',
    'goto done_errmsg;',
    '',
    ' done_unlock_list:',
    'sx_sunlock(&allprison_lock);',
    ' done_errmsg:',
    'if (error != 0 && errmsg_pos >= 0) {',
    '\terrmsg_len = 0;',
    '\t(void)vfs_getopt(opts, "errmsg", (void **)&errmsg, &errmsg_len);',
    '\tpos = 2 * errmsg_pos + 1;',
    '\tif (errmsg_len > 0 && optuio->uio_segflg != UIO_SYSSPACE)',
    '\t\t(void)copyout(errmsg, optuio->uio_iov[pos].iov_base, errmsg_len);',
    '\telse if (errmsg_len > 0)',
    '\t\tbcopy(errmsg, optuio->uio_iov[pos].iov_base, errmsg_len);',
    '}',
    'vfs_freeopts(opts);',
    'return (error);',
  ];
  b.finish({
    name: 'kern_jail_get', returnType: 'int', params: 'struct thread *td, struct uio *optuio, int flags', isStatic: false,
    comment: ['Copy out the parameters of one prison.'], body: out,
  }, 'jail-get', 'syscalls');
}
