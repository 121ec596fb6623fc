// loop: never returns; only the request deadline stops it.
int main(void) {
    volatile unsigned long n = 0;
    for (;;) n++;
}
