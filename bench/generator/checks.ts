/**
 * Questions asked about a credential's prison: ancestry, flags and allow
 * bits (lock-free), host names (under the prison's mutex), address family
 * checks (a switch with `#ifdef` cases, some of them locking), and the
 * long switch of prison_priv_check().
 */
import { indent, Lines } from './cfile';
import { FunctionBuilder, Library } from './builder';
import { statements } from './statements';
import { PRIV_GROUPS } from './vocabulary';

function write(lib: Library, name: string, returnType: string, params: string, comment: string[] | undefined,
  body: (b: FunctionBuilder) => Lines, kind: string, opts: { isStatic?: boolean; ifdef?: string; callee?: boolean } = {}): void {
  if (!lib.claim(name)) return;
  const b = new FunctionBuilder(lib.rng.fork(name), lib);
  const lines = body(b);
  b.finish({ name, returnType, params, isStatic: opts.isStatic ?? false, comment, body: lines, ifdef: opts.ifdef }, kind, 'checks',
    opts.callee ? {
      name,
      accepts: () => true,
      call: (cb, s) => [`${cb.local('int', 'n')} = ${cb.calling(name)}(${s.pr}->pr_parent, ${s.pr});`],
    } : undefined);
}

export function writeChecks(lib: Library): void {
  write(lib, 'prison_ischild', 'int', 'struct prison *pr1, struct prison *pr2',
    ['Whether pr2 is a descendant of pr1.  The parent links never change, so no lock is needed.'], () => [
      'for (pr2 = pr2->pr_parent; pr2 != NULL; pr2 = pr2->pr_parent)',
      '\tif (pr1 == pr2)',
      '\t\treturn (1);',
      'return (0);',
    ], 'lockless-climb', { callee: true });
  write(lib, 'jailed', 'int', 'struct ucred *cred', ['Whether cred is in a jail at all.'], () => [
    'return (cred->cr_prison != &prison0);',
  ], 'lockless');
  write(lib, 'jailed_without_vnet', 'int', 'struct ucred *cred',
    ['Whether cred is in a jail that shares its network stack with its parent.'], () => [
      'if (!jailed(cred))',
      '\treturn (0);',
      '#ifdef VIMAGE',
      'if (prison_owns_vnet(cred))',
      '\treturn (0);',
      '#endif',
      'return (1);',
    ], 'lockless');
  write(lib, 'prison_flag', 'int', 'struct ucred *cred, unsigned flag', undefined, () => [
    'return (cred->cr_prison->pr_flags & flag);',
  ], 'lockless');
  write(lib, 'prison_allow', 'int', 'struct ucred *cred, unsigned flag', undefined, () => [
    'return (cred->cr_prison->pr_allow & flag);',
  ], 'lockless');
  write(lib, 'prison_check', 'int', 'struct ucred *cred1, struct ucred *cred2',
    ['Whether cred1 may see cred2: same prison, or an ancestor of it.'], (b) => [
      'return ((cred1->cr_prison == cred2->cr_prison ||',
      `    ${b.calling('prison_ischild')}(cred1->cr_prison, cred2->cr_prison)) ? 0 : ESRCH);`,
    ], 'lockless-call');
  write(lib, 'prison_name', 'char *', 'struct prison *pr1, struct prison *pr2',
    ['The name of pr2 as seen from pr1, an ancestor of it: the dotted part below pr1.'], (b) => {
      b.local('char', '*name');
      return [
        'if (pr1 == pr2)',
        '\treturn ("0");',
        'name = pr2->pr_name;',
        'if (prison_ischild(pr1, pr2)) {',
        '\t/* Names of pr1\'s descendants begin with its own and a dot; skip both. */',
        '\tif (pr1 != &prison0) {',
        '\t\tif (!strncmp(name, pr1->pr_name, strlen(pr1->pr_name)))',
        '\t\t\tname += strlen(pr1->pr_name);',
        '\t\tif (*name == \'.\')',
        '\t\t\tname++;',
        '\t}',
        '}',
        'return (name);',
      ];
    }, 'lockless');
  write(lib, 'prison_path', 'char *', 'struct prison *pr1, struct prison *pr2',
    ['The root path of pr2 as seen from inside pr1.'], (b) => {
      b.local('char', '*path1');
      b.local('char', '*path2');
      b.local('int', 'len1');
      return [
        'path1 = pr1->pr_path;',
        'path2 = pr2->pr_path;',
        'if (!strcmp(path1, "/"))',
        '\treturn (path2);',
        'len1 = strlen(path1);',
        'if (strncmp(path1, path2, len1))',
        '\treturn (path2);',
        'if (path2[len1] == \'\\0\')',
        '\treturn ("/");',
        'if (path2[len1] == \'/\')',
        '\treturn (path2 + len1);',
        'return (path2);',
      ];
    }, 'lockless');

  for (const [what, field, buf] of [['hostname', 'pr_hostname', 'buf'], ['domainname', 'pr_domainname', 'buf'],
    ['hostuuid', 'pr_hostuuid', 'buf']] as const) {
    write(lib, `getcred${what}`, 'void', `struct ucred *cred, char *${buf}, size_t size`,
      [`Copy the ${what} of cred's jail, which may change at any time, under its mutex.`], (b) => {
        b.local('struct prison', '*pr');
        return [
          'pr = cred->cr_prison;',
          'mtx_lock(&pr->pr_mtx);',
          ...(b.rng.chance(0.4) ? [`KASSERT(size > 0, ("%s: no room", __func__));`] : []),
          `strlcpy(${buf}, pr->${field}, size);`,
          'mtx_unlock(&pr->pr_mtx);',
        ];
      }, 'cred-copy');
  }
  write(lib, 'getcredhostid', 'void', 'struct ucred *cred, unsigned long *hostid', undefined, () => [
    'mtx_lock(&cred->cr_prison->pr_mtx);',
    '*hostid = cred->cr_prison->pr_hostid;',
    'mtx_unlock(&cred->cr_prison->pr_mtx);',
  ], 'cred-copy');

  write(lib, 'prison_canseemount', 'int', 'struct ucred *cred, struct mount *mp',
    ['Whether a jailed process may see a mount point: enforce_statfs 0 shows all,',
      '1 those under the jail\'s root, 2 only the root itself.'], () => [
      'if (!jailed(cred))',
      '\treturn (0);',
      'switch (cred->cr_prison->pr_enforce_statfs) {',
      'case 0:',
      '\treturn (0);',
      'case 1:',
      '\tif (cred->cr_prison->pr_root->v_mount == mp)',
      '\t\treturn (0);',
      '\tif (strncmp(cred->cr_prison->pr_path, mp->mnt_stat.f_mntonname,',
      '\t    strlen(cred->cr_prison->pr_path)) != 0)',
      '\t\treturn (ENOENT);',
      '\treturn (0);',
      'default:',
      '\treturn (cred->cr_prison->pr_root->v_mount == mp ? 0 : ENOENT);',
      '}',
    ], 'lockless-switch');

  write(lib, 'prison_check_af', 'int', 'struct ucred *cred, int af',
    ['Whether cred may use address family af.  A jail without addresses of a family may not use it,',
      'unless allow.socket_af lets it use the families jails know nothing about.'], (b) => {
      b.local('struct prison', '*pr');
      b.local('int', 'error');
      const fam = (ifdef: string, af: string, flag: string, count: string): Lines => [
        `#ifdef ${ifdef}`,
        `case ${af}:`,
        '\tmtx_lock(&pr->pr_mtx);',
        `\tif ((pr->pr_flags & ${flag}) != 0 && pr->${count} == 0)`,
        '\t\terror = EAFNOSUPPORT;',
        ...indent(statements(b, { pr: 'pr', prHeld: true, list: 'none', otherHeld: false, depth: 2 }, b.rng.int(0, 1))),
        '\tmtx_unlock(&pr->pr_mtx);',
        '\tbreak;',
        '#endif',
      ];
      return [
        'KASSERT(cred != NULL, ("%s: cred is NULL", __func__));',
        '',
        'pr = cred->cr_prison;',
        '#ifdef VIMAGE',
        '/* A prison with its own network stack may use any family. */',
        'if (pr->pr_flags & PR_VNET)',
        '\treturn (0);',
        '#endif',
        '',
        'error = 0;',
        'switch (af) {',
        ...fam('INET', 'AF_INET', 'PR_IP4', 'pr_ip4s'),
        ...fam('INET6', 'AF_INET6', 'PR_IP6', 'pr_ip6s'),
        'case AF_LOCAL:',
        'case AF_ROUTE:',
        '\tbreak;',
        'default:',
        '\tif (!(pr->pr_allow & PR_ALLOW_SOCKET_AF))',
        '\t\terror = EAFNOSUPPORT;',
        '}',
        'return (error);',
      ];
    }, 'switch-locked');

  write(lib, 'prison_if', 'int', 'struct ucred *cred, struct sockaddr *sa',
    ['Whether the interface address sa is visible to cred\'s jail.'], (b) => {
      b.local('struct sockaddr_in', '*sai', 'INET');
      b.local('struct sockaddr_in6', '*sai6', 'INET6');
      b.local('int', 'error');
      return [
        'KASSERT(cred != NULL, ("%s: cred is NULL", __func__));',
        'KASSERT(sa != NULL, ("%s: sa is NULL", __func__));',
        '',
        'error = 0;',
        'switch (sa->sa_family) {',
        '#ifdef INET',
        'case AF_INET:',
        '\tsai = (struct sockaddr_in *)sa;',
        `\terror = ${b.calling('prison_check_ip4')}(cred, &sai->sin_addr);`,
        '\tbreak;',
        '#endif',
        '#ifdef INET6',
        'case AF_INET6:',
        '\tsai6 = (struct sockaddr_in6 *)sa;',
        `\terror = ${b.calling('prison_check_ip6')}(cred, &sai6->sin6_addr);`,
        '\tbreak;',
        '#endif',
        'default:',
        '\tif (!(cred->cr_prison->pr_allow & PR_ALLOW_SOCKET_AF))',
        '\t\terror = EAFNOSUPPORT;',
        '}',
        'return (error);',
      ];
    }, 'switch-calls');

  write(lib, 'prison_priv_check', 'int', 'struct ucred *cred, int priv',
    ['Whether a jailed credential keeps a privilege.  Most privileges are lost in a jail;',
      'the ones listed here are kept, some of them only where an allow flag says so.'], (b) => {
      const out: Lines = [
        'if (!jailed(cred))',
        '\treturn (0);',
        '',
        '#ifdef VIMAGE',
        '/* Network privileges are the jail\'s own once it has its own stack. */',
        'if (priv >= PRIV_NET_BRIDGE && priv <= PRIV_NET_SETIFVNET &&',
        '    (cred->cr_prison->pr_flags & PR_VNET))',
        '\treturn (0);',
        '#endif',
        '',
        'switch (priv) {',
      ];
      for (const g of b.rng.shuffled(PRIV_GROUPS)) {
        if (g.ifdef) out.push(`#ifdef ${g.ifdef}`);
        for (const p of g.privs) out.push(`case ${p}:`);
        if (g.allow) {
          out.push(`\tif (cred->cr_prison->pr_allow & ${g.allow})`, '\t\treturn (0);', '\treturn (EPERM);');
        } else out.push('\treturn (0);');
        if (g.ifdef) out.push('#endif');
        out.push('');
      }
      out.push(
        'case PRIV_VFS_MOUNT_FSTYPE:',
        '\t/* Which file systems may be mounted is the file system\'s business. */',
        '\tif (!(cred->cr_prison->pr_allow & PR_ALLOW_MOUNT))',
        '\t\treturn (EPERM);',
        '\tif (cred->cr_prison->pr_enforce_statfs == 0)',
        '\t\treturn (EPERM);',
        '\treturn (0);',
        '',
        'default:',
        '\t/* Anything not listed is denied. */',
        '\treturn (EPERM);',
        '}',
      );
      return out;
    }, 'big-switch');
}
