// hello: the smallest WAGI response.
#include <stdio.h>

int main(void) {
    printf("Content-Type: text/plain\n\nhello from wagi\n");
    return 0;
}
