/* order_select.c - one order statistic in linear time */
#include "order_select.h"

#include <stddef.h>

void order_select(double *a, size_t n, size_t k)
{
    ptrdiff_t left = 0, right = (ptrdiff_t)n - 1, at = (ptrdiff_t)k;
    while (left < right) {
        double pivot = a[at];
        ptrdiff_t i = left, j = right;
        do {
            while (a[i] < pivot)
                i++;
            while (pivot < a[j])
                j--;
            if (i <= j) {
                double t = a[i];
                a[i++] = a[j];
                a[j--] = t;
            }
        } while (i <= j);
        /* a[left..j] <= pivot <= a[i..right]; between them, the pivot's value */
        if (j < at)
            left = i;
        if (at < i)
            right = j;
    }
}
