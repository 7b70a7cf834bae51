/* order.c: order statistics. */
#include <stdlib.h>
#include "stats.h"

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a;
  double y = *(const double *)b;
  return (x > y) - (x < y);
}

double compute_median(double *values, size_t n) {
  if (n == 0) return 0.0;
  qsort(values, n, sizeof values[0], compare_doubles);
  if (n % 2 == 1) return values[n / 2];
  return 0.5 * (values[n / 2 - 1] + values[n / 2]);
}
