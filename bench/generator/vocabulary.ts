/**
 * The jail parameters, flags and messages the generated file talks about.
 * Names follow kern_jail.c's habits (pr_* fields, PR_* flags, "host.*"
 * options); the list is ours, and a few entries are invented so there are
 * enough of them for a hundred functions.
 */

export interface JailParam {
  /** The word used in generated function names. */
  readonly word: string;
  /** The struct prison field. */
  readonly field: string;
  readonly kind: 'int' | 'string' | 'ulong';
  /** The jail(2) option name. */
  readonly option: string;
  /** For strings: the buffer size macro; for ints: an upper bound macro or number. */
  readonly limit: string;
  /** The #ifdef the parameter only exists under, if any. */
  readonly ifdef?: string;
}

export const PARAMS: readonly JailParam[] = [
  { word: 'securelevel', field: 'pr_securelevel', kind: 'int', option: 'securelevel', limit: '3' },
  { word: 'childmax', field: 'pr_childmax', kind: 'int', option: 'children.max', limit: 'JAIL_MAX' },
  { word: 'enforce_statfs', field: 'pr_enforce_statfs', kind: 'int', option: 'enforce_statfs', limit: '2' },
  { word: 'devfs_ruleset', field: 'pr_devfs_rsnum', kind: 'int', option: 'devfs_ruleset', limit: '65535' },
  { word: 'osreldate', field: 'pr_osreldate', kind: 'int', option: 'osreldate', limit: 'INT_MAX' },
  { word: 'hostname', field: 'pr_hostname', kind: 'string', option: 'host.hostname', limit: 'MAXHOSTNAMELEN' },
  { word: 'domainname', field: 'pr_domainname', kind: 'string', option: 'host.domainname', limit: 'MAXHOSTNAMELEN' },
  { word: 'hostuuid', field: 'pr_hostuuid', kind: 'string', option: 'host.hostuuid', limit: 'HOSTUUIDLEN' },
  { word: 'hostid', field: 'pr_hostid', kind: 'ulong', option: 'host.hostid', limit: 'ULONG_MAX' },
  { word: 'path', field: 'pr_path', kind: 'string', option: 'path', limit: 'MAXPATHLEN' },
  { word: 'osrelease', field: 'pr_osrelease', kind: 'string', option: 'osrelease', limit: 'OSRELEASELEN' },
  { word: 'ip4', field: 'pr_ip4s', kind: 'int', option: 'ip4.addr', limit: 'jail_max_af_ips', ifdef: 'INET' },
  { word: 'ip6', field: 'pr_ip6s', kind: 'int', option: 'ip6.addr', limit: 'jail_max_af_ips', ifdef: 'INET6' },
  { word: 'vnet', field: 'pr_vnet_flags', kind: 'int', option: 'vnet', limit: '2', ifdef: 'VIMAGE' },
  { word: 'cpuset', field: 'pr_cpuset_id', kind: 'int', option: 'cpuset.id', limit: 'CPU_MAXSIZE' },
  { word: 'linux', field: 'pr_linux_osrel', kind: 'int', option: 'linux.osrel', limit: 'INT_MAX' },
  { word: 'sysvmsg', field: 'pr_sysvmsg', kind: 'int', option: 'sysvmsg', limit: '2' },
  { word: 'sysvsem', field: 'pr_sysvsem', kind: 'int', option: 'sysvsem', limit: '2' },
  { word: 'sysvshm', field: 'pr_sysvshm', kind: 'int', option: 'sysvshm', limit: '2' },
  { word: 'ip4_saddrsel', field: 'pr_ip4_saddrsel', kind: 'int', option: 'ip4.saddrsel', limit: '1', ifdef: 'INET' },
  { word: 'ip6_saddrsel', field: 'pr_ip6_saddrsel', kind: 'int', option: 'ip6.saddrsel', limit: '1', ifdef: 'INET6' },
  { word: 'allow', field: 'pr_allow', kind: 'int', option: 'allow.mount', limit: 'PR_ALLOW_ALL' },
  { word: 'racct', field: 'pr_racct_flags', kind: 'int', option: 'racct', limit: '1' },
  { word: 'mac_label', field: 'pr_mac_flags', kind: 'int', option: 'mac.label', limit: '1', ifdef: 'MAC' },
];

/** pr_flags bits. */
export const PR_FLAGS = ['PR_PERSIST', 'PR_HOST', 'PR_IP4_USER', 'PR_IP6_USER', 'PR_VNET', 'PR_IP4_SADDRSEL',
  'PR_IP6_SADDRSEL', 'PR_REMOVE', 'PR_IP4_DISABLE', 'PR_IP6_DISABLE', 'PR_IP4', 'PR_IP6'] as const;

/** pr_allow bits. */
export const PR_ALLOW = ['PR_ALLOW_SET_HOSTNAME', 'PR_ALLOW_SYSVIPC', 'PR_ALLOW_RAW_SOCKETS', 'PR_ALLOW_CHFLAGS',
  'PR_ALLOW_MOUNT', 'PR_ALLOW_QUOTAS', 'PR_ALLOW_SOCKET_AF', 'PR_ALLOW_MOUNT_DEVFS', 'PR_ALLOW_MOUNT_NULLFS',
  'PR_ALLOW_MOUNT_ZFS', 'PR_ALLOW_MOUNT_PROCFS', 'PR_ALLOW_MOUNT_TMPFS'] as const;

/** Integer fields of struct prison that are plain data (no lock discipline of their own beyond pr_mtx). */
export const INT_FIELDS = ['pr_securelevel', 'pr_childmax', 'pr_enforce_statfs', 'pr_devfs_rsnum', 'pr_osreldate',
  'pr_childcount', 'pr_ip4s', 'pr_ip6s', 'pr_cpuset_id', 'pr_linux_osrel'] as const;

export const STRING_FIELDS = ['pr_name', 'pr_path', 'pr_hostname', 'pr_domainname', 'pr_hostuuid', 'pr_osrelease'] as const;

/** The privileges prison_priv_check() sorts, in groups that share an answer. */
export const PRIV_GROUPS: ReadonlyArray<{ readonly privs: readonly string[]; readonly allow?: string; readonly ifdef?: string }> = [
  { privs: ['PRIV_CRED_SETUID', 'PRIV_CRED_SETEUID', 'PRIV_CRED_SETGID', 'PRIV_CRED_SETEGID', 'PRIV_CRED_SETGROUPS',
    'PRIV_CRED_SETREUID', 'PRIV_CRED_SETREGID', 'PRIV_CRED_SETRESUID', 'PRIV_CRED_SETRESGID'] },
  { privs: ['PRIV_SEEOTHERGIDS', 'PRIV_SEEOTHERUIDS'] },
  { privs: ['PRIV_DEBUG_DIFFCRED', 'PRIV_DEBUG_SUGID', 'PRIV_DEBUG_UNPRIV'] },
  { privs: ['PRIV_PROC_LIMIT', 'PRIV_PROC_SETLOGIN', 'PRIV_PROC_SETRLIMIT'] },
  { privs: ['PRIV_IPC_READ', 'PRIV_IPC_WRITE', 'PRIV_IPC_ADMIN', 'PRIV_IPC_MSGSIZE', 'PRIV_MQ_ADMIN'], allow: 'PR_ALLOW_SYSVIPC' },
  { privs: ['PRIV_SCHED_DIFFCRED', 'PRIV_SCHED_CPUSET'] },
  { privs: ['PRIV_SIGNAL_DIFFCRED', 'PRIV_SIGNAL_SUGID'] },
  { privs: ['PRIV_SYSCTL_WRITEJAIL'] },
  { privs: ['PRIV_TTY_DRAINWAIT', 'PRIV_TTY_DTRWAIT', 'PRIV_TTY_EXCLUSIVE', 'PRIV_TTY_STI', 'PRIV_TTY_SETA'] },
  { privs: ['PRIV_VFS_READ', 'PRIV_VFS_WRITE', 'PRIV_VFS_ADMIN', 'PRIV_VFS_EXEC', 'PRIV_VFS_LOOKUP', 'PRIV_VFS_BLOCKRESERVE',
    'PRIV_VFS_CHOWN', 'PRIV_VFS_CHROOT', 'PRIV_VFS_RETAINSUGID', 'PRIV_VFS_FCHROOT', 'PRIV_VFS_LINK', 'PRIV_VFS_SETGID',
    'PRIV_VFS_STAT', 'PRIV_VFS_STICKYFILE'] },
  { privs: ['PRIV_VFS_SYSFLAGS'], allow: 'PR_ALLOW_CHFLAGS' },
  { privs: ['PRIV_VFS_MOUNT', 'PRIV_VFS_UNMOUNT', 'PRIV_VFS_MOUNT_NONUSER', 'PRIV_VFS_MOUNT_OWNER'], allow: 'PR_ALLOW_MOUNT' },
  { privs: ['PRIV_VFS_GETQUOTA', 'PRIV_VFS_SETQUOTA'], allow: 'PR_ALLOW_QUOTAS' },
  { privs: ['PRIV_NET_BRIDGE', 'PRIV_NET_GRE', 'PRIV_NET_BPF', 'PRIV_NET_RAW', 'PRIV_NET_ROUTE', 'PRIV_NET_TAP',
    'PRIV_NET_SETIFMTU', 'PRIV_NET_SETIFFLAGS', 'PRIV_NET_SETIFCAP', 'PRIV_NET_SETIFDESCR', 'PRIV_NET_SETIFNAME',
    'PRIV_NET_SETIFMETRIC', 'PRIV_NET_SETIFPHYS', 'PRIV_NET_SETIFMAC', 'PRIV_NET_ADDMULTI', 'PRIV_NET_DELMULTI',
    'PRIV_NET_HWIOCTL', 'PRIV_NET_SETLLADDR', 'PRIV_NET_ADDIFGROUP', 'PRIV_NET_DELIFGROUP', 'PRIV_NET_IFCREATE',
    'PRIV_NET_IFDESTROY', 'PRIV_NET_ADDIFADDR', 'PRIV_NET_DELIFADDR', 'PRIV_NET_LAGG', 'PRIV_NET_GIF',
    'PRIV_NET_SETIFVNET'], ifdef: 'VIMAGE' },
  { privs: ['PRIV_NETINET_RESERVEDPORT', 'PRIV_NETINET_REUSEPORT'] },
  { privs: ['PRIV_NETINET_RAW'], allow: 'PR_ALLOW_RAW_SOCKETS' },
  { privs: ['PRIV_NETINET_GETCRED'] },
];

/** Error messages for vfs_opterror(), by what went wrong. */
export const OPT_ERRORS = {
  range: '%s out of range',
  long: '%s too long',
  missing: '%s not found',
  dying: 'jail %d is dying',
  exists: 'jail %d already exists',
  parent: 'parent jail went away!',
  limit: 'prison limit exceeded',
  unknown: 'unknown parameter: %s',
} as const;
