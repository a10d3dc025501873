/*
 * privsep - the tiny privileged part of mxdetourd, and running programs.
 *
 * The helper.  `postfix reload` is reserved for root, and mxdetourd drops
 * its privileges after the open hooks.  So privsep's open hook (still root)
 * forks a helper that stays root and does exactly what the typed requests
 * below name, and nothing else (OpenSMTPD's parent_imsg() pattern).  The
 * request carries no argument a compromised daemon could abuse: the helper
 * took the program and the Postfix configuration directory from the
 * configuration before the fork.  Every message is one fixed-size
 * struct privsep_msg over an AF_UNIX SOCK_SEQPACKET socketpair; the helper
 * checks its size, magic, type and that the unused bytes are zero, and
 * answers anything else with an error (logged: "refused ...").  It reloads
 * at most once a second whatever it is asked, exits when the daemon's end
 * of the socket closes (mxdetourd stopped or died), and ignores SIGHUP.
 * When mxdetourd does not start as root there is no helper: requests fail at
 * once and routes reach Postfix through its own 10 s table check.
 *
 * The daemon's side is non-blocking: privsep_request() sends and returns;
 * the answer comes on the event loop through the callback, in order.  If
 * the helper dies, pending requests fail with its reason and so does every
 * later one (an unprivileged process cannot start it again).
 *
 * The kernel-mode detour (relay/kernelpub.h) adds three requests whose
 * payload, struct privsep_kernel, takes the place of `text` and is checked
 * just as strictly (relay/privsep_kernel.c): a tunnel is named by its index
 * among the kernel-mode tunnels the helper took from the configuration
 * before the fork, never by a name or an interface the daemon sends.
 *   ENSURE  creates the tunnel's nftables table, sets, chain, ip rules and
 *           route (kernelnft_ensure)
 *   STAGE   stages up to PRIVSEP_KERNEL_V4 IPv4 or PRIVSEP_KERNEL_V6 IPv6
 *           addresses to add, remove, or want (at most
 *           PRIVSEP_KERNEL_STAGE_MAX staged, one tunnel at a time)
 *   COMMIT  applies what is staged in one nftables transaction: a delta, or
 *           with `sync` the set becomes exactly the wanted addresses
 * Successful answers carry a short text too ("added N, removed M").
 *
 * Running programs.  privsep_spawn() forks and execs a program (execv, no
 * shell) with stdin on /dev/null and stdout (and stderr) on pipes, in its
 * own process group; privsep_run() does that and waits with a time limit.
 * The helper uses it for `postfix reload`, routetable for postmap, kick
 * (asynchronously) for postqueue.  Only async-signal-safe calls run between
 * fork and exec, since the milter runs threads in the same process.
 *
 * Threads and loops: the daemon side runs on d->base in the main thread.
 * Ownership: privsep owns the socket, its event and the helper's pid.
 */
#ifndef MXD_PRIVSEP_H
#define MXD_PRIVSEP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon.h"

#define PRIVSEP_MAGIC 0x6d786470u           /* "mxdp" */
#define PRIVSEP_TEXT_MAX 240
#define PRIVSEP_MAX_PENDING 16
#define PRIVSEP_RELOAD_TIMEOUT_MS 30000     /* `postfix reload` is killed after this */
#define PRIVSEP_RELOAD_FLOOR_MS 1000        /* the helper's own minimum between reloads */

enum privsep_type {
    PRIVSEP_RELOAD = 1,         /* run `postfix -c CONFIG_DIR reload`; no payload */
    PRIVSEP_KERNEL_ENSURE,      /* struct privsep_kernel: tunnel */
    PRIVSEP_KERNEL_STAGE,       /* struct privsep_kernel: tunnel, op, family, count, addr */
    PRIVSEP_KERNEL_COMMIT,      /* struct privsep_kernel: tunnel, sync */
    PRIVSEP_TYPE_MAX            /* first unused type */
};

enum privsep_kernel_op { PRIVSEP_KOP_ADD = 1, PRIVSEP_KOP_DEL, PRIVSEP_KOP_WANT };
#define PRIVSEP_KERNEL_ADDR_BYTES 224
#define PRIVSEP_KERNEL_V4 (PRIVSEP_KERNEL_ADDR_BYTES / 4)
#define PRIVSEP_KERNEL_V6 (PRIVSEP_KERNEL_ADDR_BYTES / 16)
#define PRIVSEP_KERNEL_STAGE_MAX 65536

/* The payload of the kernel requests; every unused byte must be zero. */
struct privsep_kernel {
    uint32_t tunnel;            /* index among the kernel-mode tunnels */
    uint32_t staged;            /* COMMIT: addresses staged for it (checked:
                                   a mismatch drops them all and is refused) */
    uint8_t op;                 /* STAGE: enum privsep_kernel_op */
    uint8_t family;             /* STAGE: 4 or 6 */
    uint8_t count;              /* STAGE: addresses in addr, 1..V4 or V6 */
    uint8_t sync;               /* COMMIT: 1: the set becomes the WANT list */
    uint8_t addr[PRIVSEP_KERNEL_ADDR_BYTES];  /* network order, packed */
};
#define PRIVSEP_REPLY 0x8000u   /* or'ed into the type of an answer */

/* One message, either way; always exactly sizeof(struct privsep_msg) bytes. */
struct privsep_msg {
    uint32_t magic;             /* PRIVSEP_MAGIC */
    uint32_t type;              /* enum privsep_type, | PRIVSEP_REPLY in answers */
    uint32_t id;                /* chosen by the daemon, echoed in the answer */
    int32_t status;             /* answer: 0 done, else -1 (text says why) */
    union {
        char text[PRIVSEP_TEXT_MAX];   /* answer: NUL-terminated reason; request: zero */
        struct privsep_kernel kernel;  /* PRIVSEP_KERNEL_* requests */
    };
};
_Static_assert(sizeof(struct privsep_kernel) <= PRIVSEP_TEXT_MAX, "kernel payload fits");

/* The answer to a request: status 0 when done (text may say what was
 * done), -1 with a reason in text. */
typedef void (*privsep_done_fn)(int status, const char *text, void *arg);

/* The module: open forks the helper (root), start watches the socket,
 * stop closes it and reaps the helper.  Register before routes. */
extern const struct daemon_module privsep_module;

/* Hooks without a struct daemon, for tools and tests (privsep_module wraps
 * them).  privsep_open() copies what the helper needs from postfix;
 * 0, or -1 after logging why (a non-root caller is not an error: 0 and no
 * helper). */
int privsep_open(const struct cfg_postfix *postfix);
int privsep_start(struct event_base *base);
void privsep_stop(void);

/* True when a helper runs and answers. */
int privsep_available(void);

/*
 * Asks the helper to do type; done is called on the loop with the answer
 * (never from inside this call).  Returns 0, or -1 with the reason in err
 * when the request could not be sent (no helper, too many pending).
 */
int privsep_request(enum privsep_type type, privsep_done_fn done, void *arg,
                    char *err, size_t errlen);

/* Sends a kernel request (type PRIVSEP_KERNEL_*) with payload k, like
 * privsep_request(). */
int privsep_request_kernel(enum privsep_type type, const struct privsep_kernel *k,
                           privsep_done_fn done, void *arg, char *err, size_t errlen);

/* Before privsep_open(): the kernel-mode tunnels of cfg the helper will
 * serve (relay/privsep_kernel.c).  Returns how many. */
size_t privsep_kernel_configure(const struct cfg *cfg);
size_t privsep_kernel_count(void);

/* In the helper: checks and carries out one kernel request; 0 with what was
 * done in text, or -1 with the reason ("refused: ..." for a bad field). */
int privsep_kernel_handle(const struct privsep_msg *m, char *text, size_t len);

/* Tests only: sends len bytes (len > 0) of msg as they are, however wrong,
 * to see the helper refuse them; the answer goes to done like any other. */
int privsep_request_raw(const void *msg, size_t len, privsep_done_fn done, void *arg,
                        char *err, size_t errlen);

/* Forgets pending callbacks with this done and arg; their answers are
 * dropped (for a module that stops before privsep). */
void privsep_cancel(privsep_done_fn done, void *arg);

/*
 * Starts argv[0] (an absolute path) with argv, no shell: stdin /dev/null,
 * stdout to *outfd, stderr to *errfd when errfd is not NULL, else also to
 * *outfd.  The descriptors are close-on-exec and blocking; the caller owns
 * them and must reap *pid.  The child leads its own process group, so
 * kill(-pid, sig) reaches what it starts.  0, or -1 with the reason in err.
 */
int privsep_spawn(const char *const argv[], pid_t *pid, int *outfd, int *errfd,
                  char *err, size_t errlen);

/*
 * Runs argv like privsep_spawn() and waits for it, at most timeout_ms: then
 * the process group is killed.  BLOCKS the calling thread meanwhile.
 * Returns 0 when the program exited with status 0; otherwise -1 and err
 * says why: "exit status N: FIRST LINE OF ITS OUTPUT", "killed by signal
 * N", "no answer within N ms", or the system error.
 */
int privsep_run(const char *const argv[], uint64_t timeout_ms, char *err, size_t errlen);

#endif
