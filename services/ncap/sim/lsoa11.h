/* lsoa11.h - real 2011 English LSOA codes, for the simulator */
#ifndef NCAP_LSOA11_H
#define NCAP_LSOA11_H

#include <stddef.h>
#include <stdint.h>

#define LSOA11_COUNT 32844u /* LSOAs in England, 2011 */

/* The six digits after "E01" of the i-th code (0 <= i < LSOA11_COUNT), in code order. */
uint32_t lsoa11_number(size_t i);

#endif
