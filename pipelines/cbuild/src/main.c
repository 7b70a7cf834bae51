/* main.c: reads numbers (whitespace-separated) from the file named by the first argument, or from
   standard input, and prints one line of statistics. */
#include <stdio.h>
#include <stdlib.h>
#include "stats.h"
#include "capacity.h"

int main(int argc, char **argv) {
  static double values[MAX_VALUES];
  size_t n = 0;
  FILE *in = argc > 1 ? fopen(argv[1], "r") : stdin;
  if (in == NULL) {
    perror(argv[1]);
    return 1;
  }
  while (n < MAX_VALUES && fscanf(in, "%lf", &values[n]) == 1) n++;
  printf("n=%zu mean=%.3f sd=%.3f", n, compute_mean(values, n), compute_stddev(values, n));
  printf(" median=%.3f\n", compute_median(values, n));
  return 0;
}
