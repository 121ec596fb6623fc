// {{project-name}}: an HTTP handler for Wisp written in C.
//
// It runs as a WAGI component: Wisp starts this WASI program once per
// request. The request arrives as CGI environment variables (REQUEST_METHOD,
// PATH_INFO, QUERY_STRING, HTTP_* headers) with the body on stdin; the
// response goes to stdout as CGI: header lines, a blank line, the body.
#include <stdio.h>
#include <stdlib.h>

static const char *env(const char *name) {
    const char *value = getenv(name);
    return value ? value : "";
}

int main(void) {
    printf("Content-Type: text/plain; charset=utf-8\n");
    printf("\n");
    printf("Hello, Fermyon! (from Wisp and C)\n");
    printf("%s %s%s\n", env("REQUEST_METHOD"), env("SCRIPT_NAME"), env("PATH_INFO"));
    return 0;
}
