/* order_select.h - one order statistic of an array without sorting it: the value a sort would put
 * at position k, in linear time on average (Wirth's selection: Hoare's partition around the value
 * at k, repeated on the side that holds k). The SII's interval takes two of 100,000 simulated
 * slopes this way (sii.c), the same values a sort gives. */
#ifndef NCAP_ORDER_SELECT_H
#define NCAP_ORDER_SELECT_H

#include <stddef.h>

/* Reorders a[0..n) so that a[k] is the value a sort would put there, every value before it no
 * greater and every value after it no smaller. The values are not NaN; k < n. To take two, select
 * the higher position first, then the lower among a[0..higher). */
void order_select(double *a, size_t n, size_t k);

#endif
