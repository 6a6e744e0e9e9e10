/* proto_json.h - a protobuf-c message as a JSON object, field by field from its descriptor, so
 * that what the trusts' API answers is what ingest's messages (proto/ncap/v1/) say, under the
 * same names: strings, integers (64-bit as JSON integers), booleans, doubles (NaN or infinite:
 * null), enums by name, messages nested (absent: null), and repeated fields of any of these as
 * arrays. Bytes fields are left out (no reply the gateway reads has one). */
#ifndef NCAP_PROTO_JSON_H
#define NCAP_PROTO_JSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* A new JSON object (the caller owns the reference), or NULL when out of memory. */
json_t *proto_json(const ProtobufCMessage *m);

#endif
