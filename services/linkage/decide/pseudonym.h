/* pseudonym.h - a patient's pseudonym: HMAC-SHA-256 of the patient id under a secret key held per
 * deployment outside the database, so the database alone cannot reverse it.
 *
 * The key is read from a file only (--key-file, $NCAP_PSEUDONYM_KEY_FILE), which only its owner
 * may read or write (mode 0600 or 0400: the key is refused otherwise, as ssh refuses a private
 * key others can read). It is never taken from the environment, which other processes, crash
 * reports and `docker inspect` can read: $NCAP_PSEUDONYM_KEY, which earlier versions read, is
 * refused with a message saying so, and there is no switch that turns it back on. Tests that need
 * a key without a file give it with pseudonym_parse_key. */
#ifndef NCAP_PSEUDONYM_H
#define NCAP_PSEUDONYM_H

#include <stddef.h>
#include <stdint.h>

#define PSEUDONYM_KEY_BYTES 32
/* Hex characters of a key id (pseudonym_key_id). */
#define PSEUDONYM_KEY_ID_LEN 16

/* Reads the key from key_file: 64 hex characters, surrounding whitespace ignored; the file must be
 * a regular file with no access for group or others. Returns 0, or -1 with a message in err (the
 * key itself is never printed): no file given, the file unreadable, open to others or malformed,
 * or $NCAP_PSEUDONYM_KEY set. */
int pseudonym_load_key(const char *key_file, unsigned char key[PSEUDONYM_KEY_BYTES], char *err,
                       size_t errlen);
/* The key from text (64 hex characters, whitespace ignored). Returns 0, or -1. */
int pseudonym_parse_key(const char *text, unsigned char key[PSEUDONYM_KEY_BYTES]);
/* Writes the pseudonym of patient_id as 64 hex characters. */
void pseudonym_of(const unsigned char key[PSEUDONYM_KEY_BYTES], int64_t patient_id, char out[65]);
/* Writes the key's id: the first 16 hex characters of HMAC-SHA-256(key, "ncap pseudonym key id").
 * Not a secret: it names which key made a pseudonym (linkage.pseudo_record.key_id) without
 * helping anyone find the key, so that a rotated key can be told from the one before it. */
void pseudonym_key_id(const unsigned char key[PSEUDONYM_KEY_BYTES],
                      char out[PSEUDONYM_KEY_ID_LEN + 1]);

#endif
