/**
 * The address functions of one family, under `#ifdef INET` or `#ifdef
 * INET6` as in kern_jail.c: a comparator, the restriction of a prison's
 * list to its parent's (called with the prison locked), lookups that lock
 * the credential's prison, and lock-free checks against a list.
 */
import type { Lines } from './cfile';
import { FunctionBuilder, Library, Scope } from './builder';
import { statements } from './statements';

type Family = '4' | '6';

interface Fam {
  readonly f: Family;
  readonly ifdef: string;
  readonly addr: string;
  readonly list: string;
  readonly count: string;
  readonly flag: string;
  readonly equal: (a: string, b: string) => string;
  readonly copy: (to: string, from: string) => string;
}

const FAMILIES: Record<Family, Fam> = {
  4: {
    f: '4', ifdef: 'INET', addr: 'struct in_addr', list: 'pr_ip4', count: 'pr_ip4s', flag: 'PR_IP4',
    equal: (a, b) => `${a}.s_addr == ${b}.s_addr`, copy: (to, from) => `${to}->s_addr = ${from}.s_addr;`,
  },
  6: {
    f: '6', ifdef: 'INET6', addr: 'struct in6_addr', list: 'pr_ip6', count: 'pr_ip6s', flag: 'PR_IP6',
    equal: (a, b) => `IN6_ARE_ADDR_EQUAL(&${a}, &${b})`, copy: (to, from) => `bcopy(&${from}, ${to}, sizeof(*${to}));`,
  },
};

function write(lib: Library, fam: Fam, name: string, returnType: string, params: string, comment: string[] | undefined,
  body: (b: FunctionBuilder) => Lines, kind: string, isStatic = false): void {
  if (!lib.claim(name)) return;
  const b = new FunctionBuilder(lib.rng.fork(name), lib);
  const lines = body(b);
  b.finish({ name, returnType, params, isStatic, comment, body: lines, ifdef: fam.ifdef }, kind, fam.f === '4' ? 'inet' : 'inet6');
}

/** `pr = cred->cr_prison`, a look without the lock, then the same test again under it and one way out. */
function credLookup(lib: Library, fam: Fam, name: string, what: string, pickIndex: string): void {
  write(lib, fam, name, 'int', `struct ucred *cred, ${fam.addr} *ia`, [what], (b) => {
    b.local('struct prison', '*pr');
    b.local('int', 'error');
    const held: Scope = { pr: 'pr', prHeld: true, list: 'none', otherHeld: false, depth: 2 };
    const vnet = b.rng.chance(0.5)
      ? ['#ifdef VIMAGE', '/* A jail with a network stack of its own has no address list to apply. */', 'if ((pr->pr_flags & PR_VNET) != 0)', '\treturn (0);', '#endif']
      : [];
    return [
      `KASSERT(cred != NULL && ia != NULL, ("%s(%p, %p)", __func__, cred, ia));`,
      'pr = cred->cr_prison;',
      ...vnet,
      `if ((pr->pr_flags & ${fam.flag}) == 0)`,
      '\treturn (0);\t\t/* looked at unlocked: asked again below */',
      'error = 0;',
      'mtx_lock(&pr->pr_mtx);',
      `if ((pr->pr_flags & ${fam.flag}) == 0)`,
      '\tgoto out;',
      `if (pr->${fam.count} == 0) {`,
      '\terror = EAFNOSUPPORT;',
      '\tgoto out;',
      '}',
      ...statements(b, held, b.rng.int(0, 2)),
      fam.copy('ia', `pr->${fam.list}[${pickIndex}]`),
      ' out:',
      'mtx_unlock(&pr->pr_mtx);',
      'return (error);',
    ];
  }, 'cred-locked');
}

export function writeFamily(lib: Library, f: Family): void {
  const fam = FAMILIES[f];
  const t = `ip${f}`;
  write(lib, fam, `qcmp_v${f}`, 'int', 'const void *ip1, const void *ip2', undefined, (b) => {
    b.local(fam.addr.replace('struct ', 'const struct '), '*a = ip1');
    b.local(fam.addr.replace('struct ', 'const struct '), '*c = ip2');
    if (f === '4') {
      return [
        '/* Network order compares the way people read addresses. */',
        'if (ntohl(a->s_addr) > ntohl(c->s_addr))',
        '\treturn (1);',
        'if (ntohl(a->s_addr) < ntohl(c->s_addr))',
        '\treturn (-1);',
        'return (0);',
      ];
    }
    b.local('int', 'i');
    b.local('int', 'rc');
    return [
      'rc = 0;',
      'for (i = 0; rc == 0 && i < sizeof(struct in6_addr); i++) {',
      '\tif (a->s6_addr[i] > c->s6_addr[i])',
      '\t\trc = 1;',
      '\telse if (a->s6_addr[i] < c->s6_addr[i])',
      '\t\trc = -1;',
      '}',
      'return (rc);',
    ];
  }, 'comparator', true);

  write(lib, fam, `prison_restrict_${t}`, 'int', `struct prison *pr, ${fam.addr} *new${t}`,
    [`Restrict pr's IPv${f} list to what its parent has, maybe replacing it with new${t}.`,
      'Returns true if the replacement was used, or would have been had it been given.',
      'The caller holds pr->pr_mtx and allprison_lock.'], (b) => {
      b.local('struct prison', '*ppr');
      b.local('int', 'i');
      b.local('int', 'j');
      b.local('int', 'used');
      return [
        'ppr = pr->pr_parent;',
        `if (!(pr->pr_flags & PR_IP${f}_USER)) {`,
        '\t/* No list of its own: it shares the parent\'s, copied into room we may have to find. */',
        `\tif (pr->${fam.count} < ppr->${fam.count}) {`,
        `\t\tused = new${t} != NULL;`,
        `\t\tif (!used)`,
        `\t\t\tnew${t} = malloc(ppr->${fam.count} * sizeof(*new${t}), M_PRISON, M_NOWAIT);`,
        `\t\tif (new${t} == NULL)`,
        '\t\t\treturn (1);\t/* the caller allocates and tries again */',
        `\t\tbcopy(ppr->${fam.list}, new${t}, ppr->${fam.count} * sizeof(*new${t}));`,
        `\t\tfree(pr->${fam.list}, M_PRISON);`,
        `\t\tpr->${fam.list} = new${t};`,
        `\t\tpr->${fam.count} = ppr->${fam.count};`,
        '\t\treturn (used);',
        '\t}',
        `\tpr->${fam.count} = ppr->${fam.count};`,
        `\tif (pr->${fam.count} > 0)`,
        `\t\tbcopy(ppr->${fam.list}, pr->${fam.list}, pr->${fam.count} * sizeof(*new${t}));`,
        `\telse if (pr->${fam.list} != NULL) {`,
        `\t\tfree(pr->${fam.list}, M_PRISON);`,
        `\t\tpr->${fam.list} = NULL;`,
        '\t}',
        `} else if (pr->${fam.count} > 0) {`,
        '\t/* Keep what the parent has; without the primary address nothing is kept. */',
        `\tif (${b.calling(`prison_check_${t}_in`)}(ppr, &pr->${fam.list}[0]) != 0)`,
        `\t\tpr->${fam.count} = 0;`,
        '\telse {',
        `\t\tfor (i = j = 1; i < pr->${fam.count}; i++)`,
        `\t\t\tif (prison_check_${t}_in(ppr, &pr->${fam.list}[i]) == 0)`,
        `\t\t\t\tpr->${fam.list}[j++] = pr->${fam.list}[i];`,
        `\t\tpr->${fam.count} = j;`,
        '\t}',
        `\tif (pr->${fam.count} == 0) {`,
        `\t\tpr->pr_flags |= PR_IP${f}_DISABLE;`,
        `\t\tfree(pr->${fam.list}, M_PRISON);`,
        `\t\tpr->${fam.list} = NULL;`,
        '\t}',
        '}',
        ...statements(b, { pr: 'pr', prHeld: true, list: 'exclusive', otherHeld: true, depth: 2 }, b.rng.int(0, 1)),
        'return (0);',
      ];
    }, 'restrict', true);

  write(lib, fam, `prison_check_${t}_in`, 'int', `struct prison *pr, const ${fam.addr} *ia`,
    [`Whether ia is one of pr's IPv${f} addresses: 0 if it is, EADDRNOTAVAIL if not.`,
      'The caller keeps the list stable (pr->pr_mtx, or allprison_lock exclusive).'], (b) => {
      b.local('int', 'i');
      const search = b.rng.chance(0.5)
        ? [
          `for (i = 0; i < pr->${fam.count}; i++)`,
          `\tif (${fam.equal(`pr->${fam.list}[i]`, '(*ia)')})`,
          '\t\treturn (0);',
        ]
        : [
          '/* The primary address first, then the sorted rest. */',
          `if (pr->${fam.count} > 0 && ${fam.equal(`pr->${fam.list}[0]`, '(*ia)')})`,
          '\treturn (0);',
          `for (i = 1; i < pr->${fam.count}; i++) {`,
          `\tif (${fam.equal(`pr->${fam.list}[i]`, '(*ia)')})`,
          '\t\treturn (0);',
          '}',
        ];
      return [...search, 'return (EADDRNOTAVAIL);'];
    }, 'lockless-search');

  credLookup(lib, fam, `prison_get_${t}`, `Give ia the jail's primary IPv${f} address.`, '0');
  credLookup(lib, fam, `prison_local_${t}`, `Use the jail's primary IPv${f} address where a local address is wildcard or loopback.`, '0');
  credLookup(lib, fam, `prison_remote_${t}`, `Rewrite a loopback destination to the jail's primary IPv${f} address.`, '0');

  write(lib, fam, `prison_check_${t}`, 'int', `struct ucred *cred, const ${fam.addr} *ia`,
    [`Whether the jail of cred may use ia: 0, EADDRNOTAVAIL, or EAFNOSUPPORT with no IPv${f} at all.`], (b) => {
      b.local('struct prison', '*pr');
      b.local('int', 'error');
      return [
        `KASSERT(cred != NULL && ia != NULL, ("%s(%p, %p)", __func__, cred, ia));`,
        'pr = cred->cr_prison;',
        'error = 0;',
        'mtx_lock(&pr->pr_mtx);',
        `if ((pr->pr_flags & ${fam.flag}) != 0) {`,
        `\tif (pr->${fam.count} == 0)`,
        '\t\terror = EAFNOSUPPORT;',
        '\telse',
        `\t\terror = ${b.calling(`prison_check_${t}_in`)}(pr, ia);`,
        '}',
        'mtx_unlock(&pr->pr_mtx);',
        'return (error);',
      ];
    }, 'cred-locked-call');

  write(lib, fam, `prison_equal_${t}`, 'int', 'struct prison *pr1, struct prison *pr2',
    [`Whether two prisons share their IPv${f} addresses, the way the ancestors that set them have them.`], () => {
      return [
        'if (pr1 == pr2)',
        '\treturn (1);',
        '',
        '/* What counts is the nearest ancestor of each that set a list of its own. */',
        ...[1, 2].flatMap((n) => [
          `for (; pr${n} != &prison0; pr${n} = pr${n}->pr_parent)`,
          `\tif ((pr${n}->pr_flags & PR_IP${f}_USER) != 0`,
          '#ifdef VIMAGE',
          `\t    || (pr${n}->pr_flags & PR_VNET) != 0`,
          '#endif',
          '\t    )',
          '\t\tbreak;',
        ]),
        `return (pr1 == pr2 || (pr1->${fam.count} == 0 && pr2->${fam.count} == 0));`,
      ];
    }, 'lockless-climb');

  write(lib, fam, `prison_saddrsel_${t}`, 'int', 'struct ucred *cred, ' + `${fam.addr} *ia`,
    [`Whether source address selection applies to the jail of cred; if not, ia gets the primary address.`], (b) => {
      b.local('struct prison', '*pr');
      b.local('int', 'error');
      return [
        'KASSERT(cred != NULL, ("%s: cred is NULL", __func__));',
        '',
        'pr = cred->cr_prison;',
        `if (pr->pr_flags & PR_IP${f}_SADDRSEL)`,
        '\treturn (1);',
        `error = ${b.calling(`prison_get_${t}`)}(cred, ia);`,
        'if (error == EAFNOSUPPORT)',
        '\treturn (1);',
        'return (error != 0);',
      ];
    }, 'calls-locked');
}
