/**
 * A large kern_jail-style C file, generated: the same habits as the real
 * one (a lock around a counter change, a flags-guarded unlock, a goto
 * ladder, an iteration macro, #ifdef in a body), repeated with distinct
 * names until the file has the lines asked for. Every function is
 * balanced, so the file should produce no finding.
 */
const SHAPES: ReadonlyArray<(n: number) => string> = [
  (n) => `/*
 * Hold a reference on prison ${n}.
 */
static void
gen_hold_${n}(struct prison *pr)
{

	mtx_lock(&pr->pr_mtx);
	KASSERT(pr->pr_ref > 0, ("gen_hold_${n}: pr_ref %d", pr->pr_ref));
	pr->pr_ref++;
	mtx_unlock(&pr->pr_mtx);
}
`,
  (n) => `static int
gen_flags_${n}(struct prison *pr, int flags)
{
	int error;

	if (!(flags & PD_LOCKED))
		mtx_lock(&pr->pr_mtx);
	error = 0;
	if (pr->pr_uref == 0)
		error = ENOENT;
	else
		pr->pr_uref++;
	if (!(flags & PD_LOCKED))
		mtx_unlock(&pr->pr_mtx);
	return (error);
}
`,
  (n) => `static int
gen_ladder_${n}(struct prison *ppr, int id)
{
	struct prison *pr;
	int error;

	sx_xlock(&allprison_lock);
	pr = gen_lookup_${n}(ppr, id);
	if (pr == NULL) {
		error = ENOENT;
		goto done_unlock;
	}
	mtx_lock(&pr->pr_mtx);
	if (pr->pr_uref == 0) {
		error = EAGAIN;
		goto done_unlock_pr;
	}
	error = 0;
 done_unlock_pr:
	mtx_unlock(&pr->pr_mtx);
 done_unlock:
	sx_xunlock(&allprison_lock);
	return (error);
}
`,
  (n) => `static int
gen_count_${n}(struct prison *pr)
{
	struct prison *cpr;
	int descend, count;

	count = 0;
	sx_slock(&allprison_lock);
	FOREACH_PRISON_DESCENDANT_LOCKED(pr, cpr, descend) {
#ifdef VIMAGE
		if (cpr->pr_flags & PR_VNET)
			continue;
#endif
		count++;
	}
	sx_sunlock(&allprison_lock);
	return (count);
}
`,
];

export function generateKernJailStyle(minLines: number): string {
  const parts = ['/* Generated for jailcheck\'s tests: kern_jail.c habits, repeated. */\n',
    '#define\tPD_DEREF\t0x01\n#define\tPD_DEUREF\t0x02\n#define\tPD_LOCKED\t0x04\n\n'];
  let lines = 4;
  for (let n = 0; lines < minLines; n++) {
    const fn = SHAPES[n % SHAPES.length]!(n);
    parts.push(fn, '\n');
    lines += fn.split('\n').length;
  }
  return parts.join('');
}
