/* mean.c: the arithmetic mean. */
#include "stats.h"

double compute_mean(const double *values, size_t n) {
  double sum = 0.0;
  size_t i;
  if (n == 0) return 0.0;
  for (i = 0; i < n; i++) sum += values[i];
  return sum / (double)n;
}
