// redirect: a Location header and no Status: the host must answer 302.
#include <stdio.h>

int main(void) {
    printf("Location: /elsewhere\n\n");
    return 0;
}
