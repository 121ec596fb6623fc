// memhog: allocates (and touches) 1 MiB blocks until malloc fails because the
// host refused memory.grow, then aborts, which traps.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// sink keeps the allocations observable so the compiler cannot drop them.
char *volatile sink;

int main(void) {
    long mib = 0;
    for (;;) {
        char *p = malloc(1 << 20);
        if (!p) break;
        memset(p, 1, 1 << 20);
        sink = p;
        mib++;
    }
    fprintf(stderr, "memhog: malloc failed after %ld MiB\n", mib);
    abort();
}
