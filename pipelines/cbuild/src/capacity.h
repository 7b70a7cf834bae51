/* capacity.h: how many numbers the tool reads at most (only main.c includes it). */
#ifndef CAPACITY_H
#define CAPACITY_H

#define MAX_VALUES 4096

#endif
