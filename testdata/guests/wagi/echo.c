// echo: dumps what the host passed in (argv, environment, body) so tests can
// check the CGI contract.
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("Content-Type: text/plain; charset=utf-8\r\n\r\n");
    for (int i = 0; i < argc; i++) printf("arg[%d]=%s\n", i, argv[i]);
    for (char **e = environ; *e; e++) printf("env:%s\n", *e);
    printf("body:");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) fwrite(buf, 1, n, stdout);
    printf("\n");
    const char *m = getenv("REQUEST_METHOD");
    fprintf(stderr, "echo: handled %s\n", m ? m : "?");
    return 0;
}
