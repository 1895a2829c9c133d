/*
 * Native GMP baseline for the Fibonacci benchmark: F(n) with mpz_fib_ui, converted to decimal
 * with mpz_get_str, timed inside the process so that process start-up is not counted.
 *
 * Usage: gmp-fib <n>
 * Prints one JSON line: {"n":..,"digits":..,"head":"..","tail":"..","ns":..}. Only the ends of
 * the number are printed: the bench checks them against its own results, and printing
 * megabytes of digits would cost more than computing them.
 */
#include <gmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EDGE 20

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <n>\n", argv[0]);
    return 2;
  }
  char *end;
  unsigned long n = strtoul(argv[1], &end, 10);
  if (*end != '\0') {
    fprintf(stderr, "n must be a non-negative integer, got %s\n", argv[1]);
    return 2;
  }

  mpz_t f;
  mpz_init(f);
  long long start = now_ns();
  mpz_fib_ui(f, n);
  char *text = mpz_get_str(NULL, 10, f);
  long long elapsed = now_ns() - start;

  size_t digits = strlen(text);
  size_t edge = digits < EDGE ? digits : EDGE;
  printf("{\"n\":%lu,\"digits\":%zu,\"head\":\"%.*s\",\"tail\":\"%s\",\"ns\":%lld}\n", n, digits, (int)edge, text,
         text + digits - edge, elapsed);

  void (*free_fn)(void *, size_t);
  mp_get_memory_functions(NULL, NULL, &free_fn);
  free_fn(text, digits + 1);
  mpz_clear(f);
  return 0;
}
