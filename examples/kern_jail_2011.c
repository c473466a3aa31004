/*
 * jailcheck example: a kern_jail.c in the style of FreeBSD 8.x (2011).
 *
 * This is not FreeBSD source.  It was written for jailcheck to show the
 * reference discipline of that era in a few hundred lines: a prison holds
 * user references (pr_uref) for its processes and its persist flag, and
 * structure references (pr_ref) for everything that points at it; a new
 * prison takes a user reference on its parent, and prison_deref() gives
 * references back, walking up the hierarchy when a prison loses its last
 * user reference.  prison_deref() is the one from the freebsd-stable thread
 * of August 2011 ("debugging frequent kernel panics on 8.2-RELEASE").
 *
 * Run "jailcheck check examples/kern_jail_2011.c" to see what jailcheck
 * says about it.
 */

#include <sys/param.h>
#include <sys/types.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/jail.h>
#include <sys/lock.h>
#include <sys/malloc.h>
#include <sys/mutex.h>
#include <sys/sx.h>
#include <sys/proc.h>
#include <sys/queue.h>
#include <sys/taskqueue.h>

/* Flags for prison_deref(): what to release, and what the caller holds. */
#define	PD_DEREF	0x01	/* Drop a structure reference (pr_ref). */
#define	PD_DEUREF	0x02	/* Drop a user reference (pr_uref). */
#define	PD_LOCKED	0x04	/* The caller holds pr->pr_mtx. */
#define	PD_LIST_SLOCKED	0x08	/* The caller holds allprison_lock shared. */
#define	PD_LIST_XLOCKED	0x10	/* The caller holds allprison_lock exclusive. */

#define	JAIL_MAX	999999

MALLOC_DEFINE(M_PRISON, "prison", "Prison structures");

/* prison0 is the host: it is never freed and always has a user reference. */
struct	prison prison0 = {
	.pr_id		= 0,
	.pr_name	= "0",
	.pr_ref		= 1,
	.pr_uref	= 1,
	.pr_path	= "/",
	.pr_flags	= PR_HOST,
	.pr_childmax	= JAIL_MAX,
};
MTX_SYSINIT(prison0, &prison0.pr_mtx, "jail mutex", MTX_DEF);

/* allprison_lock protects the list of prisons and their IDs. */
struct	sx allprison_lock;
SX_SYSINIT(allprison_lock, &allprison_lock, "allprison");
struct	prisonlist allprison = TAILQ_HEAD_INITIALIZER(allprison);
static int	lastprid = 0;

static void	prison_complete(void *context, int pending);
static void	prison_deref(struct prison *pr, int flags);
static void	prison_remove_one(struct prison *pr);

/*
 * Create a prison under ppr.  The new prison starts with one structure
 * reference for its creator; it must either persist or have the creating
 * process attached, or it would die at once.  Creating a child takes a user
 * reference on the parent.  Called with allprison_lock held exclusive;
 * returns the new prison locked.
 */
static int
prison_create(struct prison *ppr, const char *name, int persist,
    struct prison **prp)
{
	struct prison *pr;

	sx_assert(&allprison_lock, SA_XLOCKED);
	if (ppr->pr_childcount >= ppr->pr_childmax)
		return (EPERM);
	pr = malloc(sizeof(*pr), M_PRISON, M_WAITOK | M_ZERO);
	pr->pr_id = ++lastprid;
	strlcpy(pr->pr_name, name, sizeof(pr->pr_name));
	mtx_init(&pr->pr_mtx, "jail mutex", NULL, MTX_DEF | MTX_DUPOK);
	pr->pr_ref = 1;
	pr->pr_uref = 0;
	if (persist) {
		pr->pr_flags |= PR_PERSIST;
		pr->pr_ref++;
		pr->pr_uref++;
	}

	/* The child holds a reference on its parent for as long as it exists. */
	pr->pr_parent = ppr;
	mtx_lock(&ppr->pr_mtx);
	ppr->pr_ref++;
	ppr->pr_uref++;
	mtx_unlock(&ppr->pr_mtx);
	LIST_INSERT_HEAD(&ppr->pr_children, pr, pr_sibling);
	ppr->pr_childcount++;
	TAILQ_INSERT_TAIL(&allprison, pr, pr_list);

	mtx_lock(&pr->pr_mtx);
	*prp = pr;
	return (0);
}

/*
 * Find a prison by ID.  Returns it locked, or NULL if there is no such
 * prison or it is on its way out.  Requires allprison_lock.
 */
struct prison *
prison_find(int prid)
{
	struct prison *pr;

	sx_assert(&allprison_lock, SA_LOCKED);
	TAILQ_FOREACH(pr, &allprison, pr_list) {
		if (pr->pr_id < prid)
			continue;
		if (pr->pr_id > prid)
			break;
		mtx_lock(&pr->pr_mtx);
		if (pr->pr_ref > 0)
			return (pr);
		mtx_unlock(&pr->pr_mtx);
		break;
	}
	return (NULL);
}

/*
 * Find a prison below mypr by ID.  Like prison_find(), returns it locked or
 * returns NULL.  Requires allprison_lock.
 */
struct prison *
prison_find_child(struct prison *mypr, int prid)
{
	struct prison *pr;
	int descend;

	sx_assert(&allprison_lock, SA_LOCKED);
	FOREACH_PRISON_DESCENDANT(mypr, pr, descend) {
		if (pr->pr_id == prid) {
			mtx_lock(&pr->pr_mtx);
			if (pr->pr_ref > 0)
				return (pr);
			mtx_unlock(&pr->pr_mtx);
		}
	}
	return (NULL);
}

/*
 * Attach the current process to a prison.  Called with allprison_lock held
 * shared and pr locked (from prison_find_child()); both are released.
 * Note that nothing here looks at whether the prison is still alive.
 */
static int
do_jail_attach(struct thread *td, struct prison *pr)
{
	struct prison *ppr;
	struct proc *p;
	int error;

	pr->pr_ref++;
	pr->pr_uref++;
	mtx_unlock(&pr->pr_mtx);
	sx_sunlock(&allprison_lock);

	p = td->td_proc;
	error = cpuset_setproc_update_set(p, pr->pr_cpuset);
	if (error)
		goto e_revert;
	error = change_root(pr->pr_root, td);
	if (error)
		goto e_revert;

	PROC_LOCK(p);
	ppr = p->p_ucred->cr_prison;
	p->p_ucred->cr_prison = pr;
	PROC_UNLOCK(p);

	/* The process leaves its old prison. */
	prison_deref(ppr, PD_DEREF | PD_DEUREF);
	return (0);

 e_revert:
	prison_deref(pr, PD_DEREF | PD_DEUREF);
	return (error);
}

int
jail_attach(struct thread *td, int jid)
{
	struct prison *pr;

	sx_slock(&allprison_lock);
	pr = prison_find_child(td->td_ucred->cr_prison, jid);
	if (pr == NULL) {
		sx_sunlock(&allprison_lock);
		return (EINVAL);
	}
	return (do_jail_attach(td, pr));
}

/*
 * Set or clear a prison's persist flag.  A persistent prison holds one
 * reference of each kind on itself, so it lives on without processes.
 */
int
prison_set_persist(int jid, int persist)
{
	struct prison *pr;

	sx_xlock(&allprison_lock);
	pr = prison_find(jid);
	if (pr == NULL) {
		sx_xunlock(&allprison_lock);
		return (ENOENT);
	}
	if (persist && !(pr->pr_flags & PR_PERSIST)) {
		pr->pr_flags |= PR_PERSIST;
		pr->pr_ref++;
		pr->pr_uref++;
	} else if (!persist && (pr->pr_flags & PR_PERSIST)) {
		pr->pr_flags &= ~PR_PERSIST;
		prison_deref(pr, PD_DEREF | PD_DEUREF | PD_LOCKED |
		    PD_LIST_XLOCKED);
		return (0);
	}
	mtx_unlock(&pr->pr_mtx);
	sx_xunlock(&allprison_lock);
	return (0);
}

/*
 * Remove a prison: it stops being persistent and its processes are killed;
 * it goes away when the last of them has exited.
 */
int
jail_remove(int jid)
{
	struct prison *pr;

	sx_xlock(&allprison_lock);
	pr = prison_find(jid);
	if (pr == NULL) {
		sx_xunlock(&allprison_lock);
		return (EINVAL);
	}
	/* Hold the prison while its processes are killed. */
	pr->pr_ref++;
	prison_remove_one(pr);
	return (0);
}

/*
 * Called with allprison_lock held exclusive and pr locked, and with a
 * reference that this function drops; both locks are released.
 */
static void
prison_remove_one(struct prison *pr)
{
	struct proc *p;
	int deuref;

	/* If the prison was persistent, it is not anymore. */
	deuref = 0;
	if (pr->pr_flags & PR_PERSIST) {
		pr->pr_flags &= ~PR_PERSIST;
		pr->pr_ref--;
		deuref = PD_DEUREF;
	}
	mtx_unlock(&pr->pr_mtx);
	sx_xunlock(&allprison_lock);

	/* Kill every process still attached to the prison. */
	sx_slock(&allproc_lock);
	FOREACH_PROC_IN_SYSTEM(p) {
		PROC_LOCK(p);
		if (p->p_state != PRS_NEW && p->p_ucred != NULL &&
		    p->p_ucred->cr_prison == pr)
			kern_psignal(p, SIGKILL);
		PROC_UNLOCK(p);
	}
	sx_sunlock(&allproc_lock);

	/* Drop the reference jail_remove() took, and the persist one. */
	prison_deref(pr, deuref | PD_DEREF);
}

/*
 * Structure references: anything that keeps a pointer to a prison.
 */
void
prison_hold_locked(struct prison *pr)
{

	mtx_assert(&pr->pr_mtx, MA_OWNED);
	KASSERT(pr->pr_ref > 0,
	    ("Trying to hold dead prison (jid=%d).", pr->pr_id));
	pr->pr_ref++;
}

void
prison_hold(struct prison *pr)
{

	mtx_lock(&pr->pr_mtx);
	prison_hold_locked(pr);
	mtx_unlock(&pr->pr_mtx);
}

void
prison_free_locked(struct prison *pr)
{

	mtx_assert(&pr->pr_mtx, MA_OWNED);
	pr->pr_ref--;
	if (pr->pr_ref == 0) {
		/* The last reference goes away in a task, outside our caller's locks. */
		mtx_unlock(&pr->pr_mtx);
		TASK_INIT(&pr->pr_task, 0, prison_complete, pr);
		taskqueue_enqueue(taskqueue_thread, &pr->pr_task);
		return;
	}
	mtx_unlock(&pr->pr_mtx);
}

void
prison_free(struct prison *pr)
{

	mtx_lock(&pr->pr_mtx);
	prison_free_locked(pr);
}

static void
prison_complete(void *context, int pending)
{
	struct prison *pr = context;

	sx_xlock(&allprison_lock);
	mtx_lock(&pr->pr_mtx);
	prison_deref(pr, pr->pr_uref
	    ? PD_DEREF | PD_DEUREF | PD_LOCKED | PD_LIST_XLOCKED
	    : PD_LOCKED | PD_LIST_XLOCKED);
}

/*
 * User references: processes in the prison.  A forked process inherits its
 * parent's prison, which is alive since the parent is in it.
 */
void
prison_proc_hold(struct prison *pr)
{

	mtx_lock(&pr->pr_mtx);
	KASSERT(pr->pr_uref > 0,
	    ("Cannot add a process to a non-alive prison (jid=%d)", pr->pr_id));
	pr->pr_uref++;
	mtx_unlock(&pr->pr_mtx);
}

void
prison_proc_free(struct prison *pr)
{

	mtx_lock(&pr->pr_mtx);
	KASSERT(pr->pr_uref > 0,
	    ("Trying to kill a process in a dead prison (jid=%d)", pr->pr_id));
	prison_deref(pr, PD_DEUREF | PD_LOCKED);
}

/*
 * Remove a prison reference.  If that was the last reference, remove the
 * prison itself - but not in this context in case there are locks held.
 * Flags say which references to drop and which locks the caller holds;
 * every lock is released on return.
 */
static void
prison_deref(struct prison *pr, int flags)
{
	struct prison *ppr, *tpr;

	if (!(flags & PD_LOCKED))
		mtx_lock(&pr->pr_mtx);
	/* Decrement the user references in a separate loop. */
	if (flags & PD_DEUREF) {
		for (tpr = pr;; tpr = tpr->pr_parent) {
			if (tpr != pr)
				mtx_lock(&tpr->pr_mtx);
			if (--tpr->pr_uref > 0)
				break;
			KASSERT(tpr != &prison0, ("prison0 pr_uref=0"));
			mtx_unlock(&tpr->pr_mtx);
		}
		/* Done if there were only user references to remove. */
		if (!(flags & PD_DEREF)) {
			mtx_unlock(&tpr->pr_mtx);
			if (flags & PD_LIST_SLOCKED)
				sx_sunlock(&allprison_lock);
			else if (flags & PD_LIST_XLOCKED)
				sx_xunlock(&allprison_lock);
			return;
		}
		if (tpr != pr) {
			mtx_unlock(&tpr->pr_mtx);
			mtx_lock(&pr->pr_mtx);
		}
	}

	for (;;) {
		/* Caller holds a reference so pr is valid. */
		if (flags & PD_DEREF)
			pr->pr_ref--;
		/* If the prison still has references, nothing else to do. */
		if (pr->pr_ref > 0) {
			mtx_unlock(&pr->pr_mtx);
			if (flags & PD_LIST_SLOCKED)
				sx_sunlock(&allprison_lock);
			else if (flags & PD_LIST_XLOCKED)
				sx_xunlock(&allprison_lock);
			return;
		}

		/* The prison is unreferenced: take it off the list. */
		mtx_unlock(&pr->pr_mtx);
		if (flags & PD_LIST_SLOCKED) {
			if (!sx_try_upgrade(&allprison_lock)) {
				sx_sunlock(&allprison_lock);
				sx_xlock(&allprison_lock);
			}
		} else if (!(flags & PD_LIST_XLOCKED))
			sx_xlock(&allprison_lock);
		TAILQ_REMOVE(&allprison, pr, pr_list);
		LIST_REMOVE(pr, pr_sibling);
		ppr = pr->pr_parent;
		for (tpr = ppr; tpr != NULL; tpr = tpr->pr_parent)
			tpr->pr_childcount--;
		sx_xunlock(&allprison_lock);

		/* Free the prison's resources. */
		if (pr->pr_root != NULL)
			vrele(pr->pr_root);
		mtx_destroy(&pr->pr_mtx);
		free(pr->pr_linux, M_PRISON);
		free(pr, M_PRISON);

		/* Removing a prison frees a reference on its parent. */
		pr = ppr;
		mtx_lock(&pr->pr_mtx);
		flags = PD_DEREF;
	}
}
