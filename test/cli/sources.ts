/** Small C files the CLI tests share. Written for jailcheck's tests; not FreeBSD source. */

/** Balanced locking and counting: no check has anything to say about it. */
export const BALANCED = `/*
 * Hold a reference on a prison.
 */
void
prison_hold(struct prison *pr)
{

	mtx_lock(&pr->pr_mtx);
	KASSERT(pr->pr_ref > 0, ("prison_hold: pr_ref %d", pr->pr_ref));
	pr->pr_ref++;
	mtx_unlock(&pr->pr_mtx);
}

static int
prison_count(void)
{
	struct prison *pr;
	int n;

	n = 0;
	sx_slock(&allprison_lock);
	TAILQ_FOREACH(pr, &allprison, pr_list)
		n++;
	sx_sunlock(&allprison_lock);
	return (n);
}
`;
