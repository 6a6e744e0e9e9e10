/* pseudonym.h - a patient's pseudonym: HMAC-SHA-256 of the patient id under a secret key held per
 * deployment outside the database, so the database alone cannot reverse it. */
#ifndef NCAP_PSEUDONYM_H
#define NCAP_PSEUDONYM_H

#include <stddef.h>
#include <stdint.h>

#define PSEUDONYM_KEY_BYTES 32

/* Reads the key: from the file key_file if given (64 hex characters, surrounding whitespace
 * ignored), else from $NCAP_PSEUDONYM_KEY. Returns 0, or -1 with a message in err (the key itself
 * is never printed). */
int pseudonym_load_key(const char *key_file, unsigned char key[PSEUDONYM_KEY_BYTES], char *err,
                       size_t errlen);
/* Writes the pseudonym of patient_id as 64 hex characters. */
void pseudonym_of(const unsigned char key[PSEUDONYM_KEY_BYTES], int64_t patient_id, char out[65]);

#endif
