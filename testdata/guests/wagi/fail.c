// fail: a valid response followed by a non-zero exit code; the host must
// answer 500 and not the response.
#include <stdio.h>

int main(void) {
    printf("Content-Type: text/plain\n\nsecret partial output\n");
    fprintf(stderr, "fail: giving up\n");
    return 1;
}
