/**
 * The system calls and their helpers, apart from the two big ones
 * (jailSet.ts, jailGet.ts): jail(2) and its old structure, jail_set(2) and
 * jail_get(2) wrappers, jail_remove(2) with its walk over descendants, and
 * jail_attach(2) with a goto ladder that gives back what it took.
 */
import type { Lines } from './cfile';
import { indent } from './cfile';
import { FunctionBuilder, Library, Scope } from './builder';
import { statements } from './statements';

function syscall(lib: Library, name: string, params: string, comment: string[] | undefined,
  body: (b: FunctionBuilder) => Lines, kind: string, isStatic = false): void {
  if (!lib.claim(name)) return;
  const b = new FunctionBuilder(lib.rng.fork(name), lib);
  const lines = body(b);
  b.finish({ name, returnType: 'int', params, isStatic, comment, body: lines }, kind, 'syscalls');
}

const scope = (pr: string, prHeld: boolean, list: Scope['list'], extra: Partial<Scope> = {}): Scope =>
  ({ pr, prHeld, list, otherHeld: false, depth: 1, ...extra });

export function writeSyscalls(lib: Library): void {
  syscall(lib, 'jail', 'struct thread *td, struct jail_args *uap',
    ['struct jail_args {', '\tstruct jail *jail;', '};', 'The original jail(2): a structure, converted to options for kern_jail_set().'],
    (b) => {
      b.local('struct jail', 'j');
      b.local('uint32_t', 'version');
      b.local('int', 'error');
      return [
        'error = copyin(uap->jail, &version, sizeof(uint32_t));',
        'if (error)',
        '\treturn (error);',
        '',
        'switch (version) {',
        'case 0:',
        '{',
        '\tstruct jail_v0 j0;',
        '',
        '\t/* Version 0 had one IPv4 address, in host byte order. */',
        '\tbzero(&j, sizeof(struct jail));',
        '\terror = copyin(uap->jail, &j0, sizeof(struct jail_v0));',
        '\tif (error)',
        '\t\treturn (error);',
        '\tj.version = j0.version;',
        '\tj.path = j0.path;',
        '\tj.hostname = j0.hostname;',
        '\tj.ip4s = j0.ip_number;',
        '\tbreak;',
        '}',
        'case 1:',
        '\t/* Nothing ever used version 1. */',
        '\treturn (EINVAL);',
        'case 2:',
        '\terror = copyin(uap->jail, &j, sizeof(struct jail));',
        '\tif (error)',
        '\t\treturn (error);',
        '\tbreak;',
        'default:',
        '\treturn (EINVAL);',
        '}',
        `return (${b.calling('kern_jail')}(td, &j));`,
      ];
    }, 'syscall-old');

  syscall(lib, 'kern_jail', 'struct thread *td, struct jail *j', undefined, (b) => {
    b.local('struct iovec', 'optiov[2 * 16]');
    b.local('struct uio', 'opt');
    b.local('char', '*u_path');
    b.local('char', '*u_hostname');
    b.local('char', '*u_name');
    b.local('struct in_addr', '*u_ip4', 'INET');
    b.local('uint32_t', 'ip4s', 'INET');
    b.local('size_t', 'tmplen');
    b.local('int', 'error');
    b.local('int', 'enforce_statfs');
    b.local('int', 'fi');
    const opt = (name: string, value: string, len: string): Lines => [
      `optiov[opt.uio_iovcnt].iov_base = __DECONST(char *, "${name}");`,
      `optiov[opt.uio_iovcnt].iov_len = sizeof("${name}");`,
      'opt.uio_iovcnt++;',
      `optiov[opt.uio_iovcnt].iov_base = ${value};`,
      `optiov[opt.uio_iovcnt].iov_len = ${len};`,
      'opt.uio_iovcnt++;',
    ];
    return [
      'bzero(&optiov, sizeof(optiov));',
      'opt.uio_iov = optiov;',
      'opt.uio_iovcnt = 0;',
      'opt.uio_offset = -1;',
      'opt.uio_resid = -1;',
      'opt.uio_segflg = UIO_SYSSPACE;',
      'opt.uio_rw = UIO_READ;',
      'opt.uio_td = td;',
      '',
      '/* A jail made this way gets the permissions the sysctls give top-level jails. */',
      'for (fi = 0; fi < sizeof(pr_allow_names) / sizeof(pr_allow_names[0]); fi++) {',
      '\toptiov[opt.uio_iovcnt].iov_base = (jail_default_allow & (1 << fi))',
      '\t    ? pr_allow_names[fi] : pr_allow_nonames[fi];',
      '\toptiov[opt.uio_iovcnt].iov_len =',
      '\t    strlen(optiov[opt.uio_iovcnt].iov_base) + 1;',
      '\topt.uio_iovcnt += 2;',
      '}',
      'enforce_statfs = jail_default_enforce_statfs;',
      ...opt('enforce_statfs', '&enforce_statfs', 'sizeof(enforce_statfs)'),
      '',
      'tmplen = MAXPATHLEN + MAXHOSTNAMELEN + MAXHOSTNAMELEN;',
      '#ifdef INET',
      'ip4s = (j->version == 0) ? 1 : j->ip4s;',
      'if (ip4s > jail_max_af_ips)',
      '\treturn (EINVAL);',
      'tmplen += ip4s * sizeof(struct in_addr);',
      '#else',
      'if (j->ip4s > 0)',
      '\treturn (EINVAL);',
      '#endif',
      'u_path = malloc(tmplen, M_TEMP, M_WAITOK);',
      'u_hostname = u_path + MAXPATHLEN;',
      'u_name = u_hostname + MAXHOSTNAMELEN;',
      '#ifdef INET',
      'u_ip4 = (struct in_addr *)(u_name + MAXHOSTNAMELEN);',
      '#endif',
      ...opt('path', 'u_path', 'MAXPATHLEN'),
      'error = copyinstr(j->path, u_path, MAXPATHLEN,',
      '    &optiov[opt.uio_iovcnt - 1].iov_len);',
      'if (error) {',
      '\tfree(u_path, M_TEMP);',
      '\treturn (error);',
      '}',
      ...opt('host.hostname', 'u_hostname', 'MAXHOSTNAMELEN'),
      'error = copyinstr(j->hostname, u_hostname, MAXHOSTNAMELEN,',
      '    &optiov[opt.uio_iovcnt - 1].iov_len);',
      'if (error) {',
      '\tfree(u_path, M_TEMP);',
      '\treturn (error);',
      '}',
      'if (j->jailname != NULL) {',
      ...indent(opt('name', 'u_name', 'MAXHOSTNAMELEN')),
      '\terror = copyinstr(j->jailname, u_name, MAXHOSTNAMELEN,',
      '\t    &optiov[opt.uio_iovcnt - 1].iov_len);',
      '\tif (error) {',
      '\t\tfree(u_path, M_TEMP);',
      '\t\treturn (error);',
      '\t}',
      '}',
      '#ifdef INET',
      ...opt('ip4.addr', 'u_ip4', 'ip4s * sizeof(struct in_addr)'),
      'if (j->version == 0)',
      '\tu_ip4->s_addr = j->ip4s;',
      'else {',
      '\terror = copyin(j->ip4, u_ip4, ip4s * sizeof(struct in_addr));',
      '\tif (error) {',
      '\t\tfree(u_path, M_TEMP);',
      '\t\treturn (error);',
      '\t}',
      '}',
      '#endif',
      `error = ${b.calling('kern_jail_set')}(td, &opt, JAIL_CREATE | JAIL_ATTACH);`,
      'free(u_path, M_TEMP);',
      'return (error);',
    ];
  }, 'syscall-convert');

  syscall(lib, 'jail_set', 'struct thread *td, struct jail_set_args *uap',
    ['struct jail_set_args {', '\tstruct iovec *iovp;', '\tunsigned int iovcnt;', '\tint flags;', '};'], (b) => {
      b.local('struct uio', '*auio');
      b.local('int', 'error');
      return [
        '/* Options come in name/value pairs. */',
        'if (uap->iovcnt & 1)',
        '\treturn (EINVAL);',
        '',
        'error = copyinuio(uap->iovp, uap->iovcnt, &auio);',
        'if (error)',
        '\treturn (error);',
        `error = ${b.calling('kern_jail_set')}(td, auio, uap->flags);`,
        'free(auio, M_IOV);',
        'return (error);',
      ];
    }, 'syscall-wrapper');

  syscall(lib, 'jail_get', 'struct thread *td, struct jail_get_args *uap',
    ['struct jail_get_args {', '\tstruct iovec *iovp;', '\tunsigned int iovcnt;', '\tint flags;', '};'], (b) => {
      b.local('struct uio', '*auio');
      b.local('int', 'error');
      b.local('int', 'i');
      return [
        'if (uap->iovcnt & 1)',
        '\treturn (EINVAL);',
        '',
        'error = copyinuio(uap->iovp, uap->iovcnt, &auio);',
        'if (error)',
        '\treturn (error);',
        `error = ${b.calling('kern_jail_get')}(td, auio, uap->flags);`,
        'if (error == 0) {',
        '\t/* Copy the values back out, each to where its name said. */',
        '\tfor (i = 1; i < uap->iovcnt; i += 2) {',
        '\t\terror = copyout(auio->uio_iov[i].iov_base,',
        '\t\t    uap->iovp[i].iov_base, uap->iovp[i].iov_len);',
        '\t\tif (error != 0)',
        '\t\t\tbreak;',
        '\t}',
        '}',
        'free(auio, M_IOV);',
        'return (error);',
      ];
    }, 'syscall-wrapper');

  syscall(lib, 'prison_remove_one', 'struct prison *pr',
    ['Remove one prison: it stops persisting and its processes are killed.',
      'Called with allprison_lock held exclusive, pr locked and a reference on pr; all three are given up.'], (b) => {
      b.local('struct proc', '*p');
      b.local('int', 'deuref');
      b.local('int', 'inside');
      return [
        '/* A persistent prison holds a reference of each kind on itself. */',
        'deuref = 0;',
        'if (pr->pr_flags & PR_PERSIST) {',
        '\tpr->pr_flags &= ~PR_PERSIST;',
        '\tpr->pr_ref--;',
        '\tdeuref = PD_DEUREF;',
        '}',
        ...statements(b, scope('pr', true, 'exclusive'), b.rng.int(1, 2)),
        '',
        '/* With no processes left, the references are all there is to drop. */',
        'if (pr->pr_uref == 0 || (pr->pr_uref == 1 && deuref != 0)) {',
        `\t${b.calling('prison_deref')}(pr, deuref | PD_DEREF | PD_LOCKED | PD_LIST_XLOCKED);`,
        '\treturn (0);',
        '}',
        'mtx_unlock(&pr->pr_mtx);',
        'sx_xunlock(&allprison_lock);',
        '',
        '/* Every process still inside is killed; the last one to exit takes the prison down. */',
        'sx_slock(&allproc_lock);',
        'FOREACH_PROC_IN_SYSTEM(p) {',
        '\tPROC_LOCK(p);',
        '\tinside = p->p_state != PRS_NEW && p->p_ucred != NULL && p->p_ucred->cr_prison == pr;',
        '\tif (inside)',
        '\t\tkern_psignal(p, SIGKILL);',
        '\tPROC_UNLOCK(p);',
        '}',
        'sx_sunlock(&allproc_lock);',
        `${b.calling('prison_deref')}(pr, deuref | PD_DEREF);`,
        'return (0);',
      ];
    }, 'remove-one', true);

  syscall(lib, 'jail_remove', 'struct thread *td, struct jail_remove_args *uap',
    ['struct jail_remove_args {', '\tint jid;', '};'], (b) => {
      b.local('struct prison', '*pr');
      b.local('struct prison', '*cpr');
      b.local('struct prison', '*prev');
      b.local('int', 'live');
      b.local('int', 'descend');
      b.local('int', 'error');
      return [
        'error = priv_check(td, PRIV_JAIL_REMOVE);',
        'if (error)',
        '\treturn (error);',
        '',
        'sx_xlock(&allprison_lock);',
        `pr = ${b.calling('prison_find_child')}(td->td_ucred->cr_prison, uap->jid);`,
        'if (pr == NULL) {',
        '\tsx_xunlock(&allprison_lock);',
        '\treturn (EINVAL);',
        '}',
        ...statements(b, scope('pr', true, 'exclusive'), b.rng.int(0, 2)),
        '',
        '/* Descendants go first, each one held while the walk moves past it. */',
        'pr->pr_ref++;',
        'pr->pr_flags |= PR_REMOVE;',
        'if (!LIST_EMPTY(&pr->pr_children)) {',
        '\tmtx_unlock(&pr->pr_mtx);',
        '\tprev = NULL;',
        '\tFOREACH_PRISON_DESCENDANT(pr, cpr, descend) {',
        '\t\tmtx_lock(&cpr->pr_mtx);',
        '\t\tlive = cpr->pr_ref > 0;',
        '\t\tif (live) {',
        '\t\t\tcpr->pr_flags |= PR_REMOVE;',
        '\t\t\tcpr->pr_ref++;',
        '\t\t}',
        '\t\tmtx_unlock(&cpr->pr_mtx);',
        '\t\t/* cpr is held now (or already dying): the walk can do without the one before it. */',
        '\t\tif (prev != NULL) {',
        '\t\t\tmtx_lock(&prev->pr_mtx);',
        `\t\t\t${b.calling('prison_remove_one')}(prev);\t/* unlocks allprison_lock */`,
        '\t\t\tsx_xlock(&allprison_lock);',
        '\t\t}',
        '\t\tprev = live ? cpr : NULL;',
        '\t}',
        '\tif (prev != NULL) {',
        '\t\tmtx_lock(&prev->pr_mtx);',
        `\t\t${b.calling('prison_remove_one')}(prev);`,
        '\t\tsx_xlock(&allprison_lock);',
        '\t}',
        '\tmtx_lock(&pr->pr_mtx);',
        '}',
        `return (${b.calling('prison_remove_one')}(pr));`,
      ];
    }, 'syscall-remove');

  syscall(lib, 'do_jail_attach', 'struct thread *td, struct prison *pr',
    ['Attach the current process to pr.  Called with allprison_lock held shared and pr locked; both are released.'], (b) => {
      b.local('struct prison', '*ppr');
      b.local('struct proc', '*p');
      b.local('struct ucred', '*newcred');
      b.local('struct ucred', '*oldcred');
      b.local('int', 'error');
      return [
        '/* Take the references now, so pr cannot go away once unlocked. */',
        'pr->pr_ref++;',
        'pr->pr_uref++;',
        ...statements(b, scope('pr', true, 'shared'), b.rng.int(0, 2)),
        'mtx_unlock(&pr->pr_mtx);',
        '',
        '/* Modules get a say before anything changes. */',
        'error = osd_jail_call(pr, PR_METHOD_ATTACH, td);',
        'if (error) {',
        `\t${b.calling('prison_deref')}(pr, PD_DEREF | PD_DEUREF | PD_LIST_SLOCKED);`,
        '\treturn (error);',
        '}',
        'sx_sunlock(&allprison_lock);',
        '',
        'p = td->td_proc;',
        'error = cpuset_setproc_update_set(p, pr->pr_cpuset);',
        'if (error)',
        '\tgoto fail_modules;',
        ...statements(b, scope('pr', false, 'none', { depth: 2 }), b.rng.int(0, 2)),
        '',
        'vn_lock(pr->pr_root, LK_EXCLUSIVE | LK_RETRY);',
        'if ((error = change_dir(pr->pr_root, td)) != 0)',
        '\tgoto fail_vnode;',
        '#ifdef MAC',
        'if ((error = mac_vnode_check_chroot(td->td_ucred, pr->pr_root)) != 0)',
        '\tgoto fail_vnode;',
        '#endif',
        'VOP_UNLOCK(pr->pr_root, 0);',
        'if ((error = change_root(pr->pr_root, td)) != 0)',
        '\tgoto fail_modules;',
        '',
        '/* Switch the process to a credential in the new prison. */',
        'newcred = crget();',
        'PROC_LOCK(p);',
        'oldcred = p->p_ucred;',
        'crcopy(newcred, oldcred);',
        'newcred->cr_prison = pr;',
        'p->p_ucred = newcred;',
        'setsugid(p);',
        'PROC_UNLOCK(p);',
        'ppr = oldcred->cr_prison;',
        'crfree(oldcred);',
        '/* The user and structure references of the prison it left go with it. */',
        `${b.calling('prison_deref')}(ppr, PD_DEREF | PD_DEUREF);`,
        'return (0);',
        '',
        ' fail_vnode:',
        'VOP_UNLOCK(pr->pr_root, 0);',
        ' fail_modules:',
        '/* Tell the modules the process stays where it was, and give back the references. */',
        '(void)osd_jail_call(td->td_ucred->cr_prison, PR_METHOD_ATTACH, td);',
        `${b.calling('prison_deref')}(pr, PD_DEREF | PD_DEUREF);`,
        'return (error);',
      ];
    }, 'attach-ladder', true);

  syscall(lib, 'jail_attach', 'struct thread *td, struct jail_attach_args *uap',
    ['struct jail_attach_args {', '\tint jid;', '};'], (b) => {
      b.local('struct prison', '*pr');
      b.local('int', 'error');
      return [
        'error = priv_check(td, PRIV_JAIL_ATTACH);',
        'if (error)',
        '\treturn (error);',
        '',
        'sx_slock(&allprison_lock);',
        `pr = ${b.calling('prison_find_child')}(td->td_ucred->cr_prison, uap->jid);`,
        'if (pr == NULL) {',
        '\tsx_sunlock(&allprison_lock);',
        '\treturn (EINVAL);',
        '}',
        '',
        '/* A prison with no user references is dying: nobody may join it. */',
        'if (pr->pr_uref == 0) {',
        '\tmtx_unlock(&pr->pr_mtx);',
        '\tsx_sunlock(&allprison_lock);',
        '\treturn (EINVAL);',
        '}',
        `return (${b.calling('do_jail_attach')}(td, pr));`,
      ];
    }, 'syscall-attach');
}
