/* spread.c: the population standard deviation, in two passes for accuracy. */
#include <math.h>
#include "stats.h"

double compute_stddev(const double *values, size_t n) {
  double mean;
  double squares = 0.0;
  size_t i;
  if (n == 0) return 0.0;
  mean = compute_mean(values, n);
  for (i = 0; i < n; i++) squares += (values[i] - mean) * (values[i] - mean);
  return sqrt(squares / (double)n);
}
