// trap: starts a response, then executes `unreachable`.
#include <stdio.h>

int main(void) {
    printf("Content-Type: text/plain\n\nsecret partial output\n");
    fflush(stdout);
    __builtin_trap();
}
