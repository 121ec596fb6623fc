// body: echoes the request body byte for byte (large-body tests), or with
// argv[1] "gen=N" writes N bytes (response-size limit tests).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    printf("Content-Type: application/octet-stream\n\n");
    if (argc > 1 && strncmp(argv[1], "gen=", 4) == 0) {
        long n = atol(argv[1] + 4);
        for (long i = 0; i < n; i++) putchar('x');
        return 0;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) fwrite(buf, 1, n, stdout);
    if (ferror(stdin)) {
        fprintf(stderr, "body: reading stdin failed\n");
        return 1;
    }
    return 0;
}
