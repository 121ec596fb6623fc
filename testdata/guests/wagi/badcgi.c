// badcgi: output without a CGI header block.
#include <stdio.h>

int main(void) {
    printf("this is not a CGI response");
    return 0;
}
