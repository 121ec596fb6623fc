// status: answers an explicit status line (argv[1], default 404) and a custom header.
#include <stdio.h>

int main(int argc, char **argv) {
    printf("Status: %s\n", argc > 1 ? argv[1] : "404 Not Found");
    printf("X-Wisp-Test: yes\n\nstatus body\n");
    return 0;
}
