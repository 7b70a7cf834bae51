/* stats.h: descriptive statistics of a list of numbers. */
#ifndef STATS_H
#define STATS_H

#include <stddef.h>

/* The arithmetic mean of values[0..n); 0 when n is 0. */
double compute_mean(const double *values, size_t n);

/* The population standard deviation of values[0..n); 0 when n is 0. */
double compute_stddev(const double *values, size_t n);

/* The median of values[0..n); sorts values in place; 0 when n is 0. */
double compute_median(double *values, size_t n);

#endif
