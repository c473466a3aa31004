/**
 * Finding a prison: by ID in allprison, by ID or name below a prison, and
 * by a parameter's value. Each requires allprison_lock and returns the
 * prison locked, or NULL.
 */
import type { Lines } from './cfile';
import { FunctionBuilder, Library } from './builder';
import { PARAMS } from './vocabulary';

function finder(lib: Library, name: string, params: string, comment: string[], body: (b: FunctionBuilder) => Lines): void {
  if (!lib.claim(name)) return;
  const b = new FunctionBuilder(lib.rng.fork(name), lib);
  const lines = body(b);
  b.finish({ name, returnType: 'struct prison *', params, isStatic: false, comment, body: lines }, 'finder', 'lookup');
}

const assertList = (b: FunctionBuilder): string =>
  b.rng.pick(['sx_assert(&allprison_lock, SA_LOCKED);', 'sx_assert(&allprison_lock, SA_LOCKED);', '']);

export function writeLookups(lib: Library, extra: number): void {
  finder(lib, 'prison_find', 'int prid', ['Find a prison by ID.  Returns it locked, or NULL if it is not there or on its way out.'], (b) => {
    b.local('struct prison', '*pr');
    return [
      assertList(b) || 'sx_assert(&allprison_lock, SA_LOCKED);',
      'TAILQ_FOREACH(pr, &allprison, pr_list) {',
      '\t/* allprison is sorted by ID. */',
      '\tif (pr->pr_id < prid)',
      '\t\tcontinue;',
      '\tif (pr->pr_id > prid)',
      '\t\tbreak;',
      '\tmtx_lock(&pr->pr_mtx);',
      '\tif (pr->pr_ref > 0)',
      '\t\treturn (pr);',
      '\tmtx_unlock(&pr->pr_mtx);',
      '\tbreak;',
      '}',
      'return (NULL);',
    ];
  });
  finder(lib, 'prison_find_child', 'struct prison *mypr, int prid',
    ['Find a prison below mypr by ID (or mypr itself is not considered).  Same locking as prison_find().'], (b) => {
      b.local('struct prison', '*pr');
      b.local('int', 'descend');
      return [
        'sx_assert(&allprison_lock, SA_LOCKED);',
        'FOREACH_PRISON_DESCENDANT(mypr, pr, descend) {',
        '\tif (pr->pr_id != prid)',
        '\t\tcontinue;',
        '\tmtx_lock(&pr->pr_mtx);',
        '\tif (pr->pr_ref > 0)',
        '\t\treturn (pr);',
        '\tmtx_unlock(&pr->pr_mtx);',
        '}',
        'return (NULL);',
      ];
    });
  finder(lib, 'prison_find_name', 'struct prison *mypr, const char *name',
    ['Find a prison below mypr by its name relative to mypr.  A live prison wins over a dying one of the same name;',
      'a dying one is returned only if nothing better was found.  Same locking as prison_find().'], (b) => {
      b.local('struct prison', '*pr');
      b.local('struct prison', '*dying');
      b.local('size_t', 'skip');
      b.local('int', 'descend');
      return [
        'sx_assert(&allprison_lock, SA_LOCKED);',
        'skip = (mypr == &prison0) ? 0 : strlen(mypr->pr_name) + 1;',
        ' retry:',
        'dying = NULL;',
        'FOREACH_PRISON_DESCENDANT(mypr, pr, descend) {',
        '\tif (strcmp(pr->pr_name + skip, name) != 0)',
        '\t\tcontinue;',
        '\tmtx_lock(&pr->pr_mtx);',
        '\tif (pr->pr_ref > 0) {',
        '\t\tif (pr->pr_uref > 0)',
        '\t\t\treturn (pr);',
        '\t\tdying = pr;',
        '\t}',
        '\tmtx_unlock(&pr->pr_mtx);',
        '}',
        'if (dying == NULL)',
        '\treturn (NULL);',
        'mtx_lock(&dying->pr_mtx);',
        'if (dying->pr_ref == 0) {',
        '\t/* It went away while it was unlocked: look again. */',
        '\tmtx_unlock(&dying->pr_mtx);',
        '\tgoto retry;',
        '}',
        'return (dying);',
      ];
    });
  const candidates = lib.rng.shuffled(PARAMS.filter((p) => p.kind !== 'string' && !p.ifdef));
  for (const p of candidates.slice(0, extra)) {
    finder(lib, `prison_find_${p.word}`, `struct prison *mypr, ${p.kind === 'ulong' ? 'unsigned long' : 'int'} value`,
      [`Find the first live prison below mypr whose ${p.option} is value.  Same locking as prison_find().`], (b) => {
        b.local('struct prison', '*pr');
        b.local('int', 'descend');
        const live = b.rng.pick(['pr->pr_ref > 0 && pr->pr_uref > 0', 'pr->pr_uref > 0 && pr->pr_ref > 0']);
        return [
          'sx_assert(&allprison_lock, SA_LOCKED);',
          'FOREACH_PRISON_DESCENDANT(mypr, pr, descend) {',
          `\tif (pr->${p.field} != value)`,
          '\t\tcontinue;',
          '\tmtx_lock(&pr->pr_mtx);',
          `\tif (${live})`,
          '\t\treturn (pr);',
          '\tmtx_unlock(&pr->pr_mtx);',
          '}',
          'return (NULL);',
        ];
      });
  }
}
