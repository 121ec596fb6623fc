// readfile: a WAGI guest answering with the file named by argv[1] (404
// when it cannot be opened); for tests of granted files and escapes.
#include <stdio.h>

int main(int argc, char **argv) {
    FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
    if (!f) {
        printf("Status: 404 Not Found\nContent-Type: text/plain\n\nno such file\n");
        return 0;
    }
    printf("Content-Type: text/plain\n\n");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
    fclose(f);
    return 0;
}
