// Preloaded (LD_PRELOAD) into the gateway's child processes. execve resets the dumpable flag
// to 1, so the flag the gateway set for itself does not reach its children; this constructor
// runs in the new image before its main() and clears the flag again, so another process of the
// same user cannot read the child's memory or environment (which holds its credentials).
#include <sys/prctl.h>

__attribute__((constructor)) static void gatehouse_nodump(void) { prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }
