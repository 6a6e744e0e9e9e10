/* test_curve_auth.c - CurveZMQ as an operator and an attacker meet it, over real sockets: a key
 * pair written once and read back, bad key files named, a secret key others may read refused; a
 * server that admits one stage's key takes messages from a client holding it and from no other
 * (a stranger's key, another stage's, a plain socket), a trust folder names each connection by
 * its trust, and a client sends nothing to a listener that cannot prove the server key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "curve_auth.h"

/* A folder of key pairs, removed after the test. */
typedef struct {
    char dir[64];
} keydir_t;

static void keydir_new(keydir_t *k)
{
    snprintf(k->dir, sizeof k->dir, "/tmp/ncap_curve_XXXXXX");
    assert_non_null(mkdtemp(k->dir));
}

static void keydir_pair(const keydir_t *k, const char *name)
{
    char prefix[128], err[512];
    snprintf(prefix, sizeof prefix, "%s/%s", k->dir, name);
    assert_int_equal(curve_key_pair_write(prefix, err, sizeof err), 0);
}

static const char *keydir_file(const keydir_t *k, const char *name, const char *ext)
{
    static char path[4][160];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s.%s", k->dir, name, ext);
    return p;
}

static void keydir_remove(keydir_t *k)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", k->dir);
    assert_int_equal(system(cmd), 0);
}

static void test_key_pair_written_once_and_read_back(void **state)
{
    (void)state;
    keydir_t k;
    keydir_new(&k);
    keydir_pair(&k, "RH8");
    char pub[CURVE_KEY_Z85 + 1], sec[CURVE_KEY_Z85 + 1], derived[CURVE_KEY_Z85 + 1], err[512];
    assert_int_equal(
        curve_key_read(keydir_file(&k, "RH8", "pub"), CURVE_KEY_PUBLIC, pub, err, sizeof err), 0);
    assert_int_equal(
        curve_key_read(keydir_file(&k, "RH8", "key"), CURVE_KEY_SECRET, sec, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(keydir_file(&k, "RH8", "key"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* the secret is its owner's only */
    assert_int_equal(zmq_curve_public(derived, sec), 0);
    assert_string_equal(derived, pub); /* the pair belongs together */
    /* never overwritten */
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/RH8", k.dir);
    assert_int_equal(curve_key_pair_write(prefix, err, sizeof err), -1);
    assert_non_null(strstr(err, "could not create"));
    keydir_remove(&k);
}

static void test_bad_key_files_named(void **state)
{
    (void)state;
    char path[] = "/tmp/ncap_curve_bad_XXXXXX", key[CURVE_KEY_Z85 + 1], err[512];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not a key\n", 10), 10);
    close(fd);
    assert_int_equal(curve_key_read(path, CURVE_KEY_PUBLIC, key, err, sizeof err), -1);
    assert_non_null(strstr(err, "does not hold a 40-character Z85 key"));
    assert_non_null(strstr(err, path));
    unlink(path);
    assert_int_equal(
        curve_key_read("/nonexistent/ingest.pub", CURVE_KEY_PUBLIC, key, err, sizeof err), -1);
    assert_non_null(strstr(err, "could not open the public key file \"/nonexistent/ingest.pub\""));
}

/* A secret key file its group or others may read or write is refused, naming the file, its mode
 * and the fix; a public key file may be read by anyone. */
static void test_secret_key_readable_by_others_refused(void **state)
{
    (void)state;
    keydir_t k;
    keydir_new(&k);
    keydir_pair(&k, "linkage");
    const char *sec = keydir_file(&k, "linkage", "key");
    char key[CURVE_KEY_Z85 + 1], err[512];
    static const mode_t refused[] = {0640, 0604, 0620, 0602, 0660, 0644};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(chmod(sec, refused[i]), 0);
        assert_int_equal(curve_key_read(sec, CURVE_KEY_SECRET, key, err, sizeof err), -1);
        char mode[16];
        snprintf(mode, sizeof mode, "mode %04o", (unsigned)refused[i]);
        assert_non_null(strstr(err, mode));
        assert_non_null(strstr(err, sec));
        assert_non_null(strstr(err, "chmod 600"));
    }
    /* every way a secret key is used refuses it: a server, a client */
    void *ctx = zmq_ctx_new();
    assert_null(curve_auth_new(ctx, sec, err, sizeof err));
    assert_non_null(strstr(err, "expected no access for group or others"));
    void *sock = zmq_socket(ctx, ZMQ_PUSH);
    assert_int_equal(
        curve_client_setup(sock, keydir_file(&k, "linkage", "pub"), sec, err, sizeof err), -1);
    assert_non_null(strstr(err, "expected no access for group or others"));
    zmq_close(sock);
    zmq_ctx_term(ctx);
    assert_int_equal(chmod(sec, 0400), 0); /* read-only by its owner: fine */
    assert_int_equal(curve_key_read(sec, CURVE_KEY_SECRET, key, err, sizeof err), 0);
    const char *pub = keydir_file(&k, "linkage", "pub");
    assert_int_equal(chmod(pub, 0644), 0);
    assert_int_equal(curve_key_read(pub, CURVE_KEY_PUBLIC, key, err, sizeof err), 0);
    keydir_remove(&k);
}

/* --- real sockets -------------------------------------------------------------------------- */

typedef struct {
    void *ctx;
    curve_auth_t *auth;
    void *server; /* PULL, a CurveZMQ server with auth */
    char endpoint[256];
} server_t;

static void server_start(server_t *s, const char *secret)
{
    char err[512];
    s->ctx = zmq_ctx_new();
    s->auth = curve_auth_new(s->ctx, secret, err, sizeof err);
    assert_non_null(s->auth);
    s->server = zmq_socket(s->ctx, ZMQ_PULL);
    int linger = 0;
    zmq_setsockopt(s->server, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(curve_auth_server_setup(s->auth, s->server, err, sizeof err), 0);
    assert_int_equal(zmq_bind(s->server, "tcp://127.0.0.1:*"), 0);
    size_t len = sizeof s->endpoint;
    zmq_getsockopt(s->server, ZMQ_LAST_ENDPOINT, s->endpoint, &len);
}

static void server_stop(server_t *s)
{
    zmq_close(s->server);
    curve_auth_destroy(&s->auth);
    zmq_ctx_term(s->ctx);
}

/* A PUSH client of s: with keys (server_pub, secret) or plain (NULL). Connects, answers the ZAP
 * handler while it waits for the client's handshake to end, sends "hello" when it succeeded and
 * returns the result; *got is set to the message the server received within a second (empty
 * when none), *user to its User-Id. */
static curve_handshake_t push_once(server_t *s, const char *server_pub, const char *secret,
                                   char got[64], char user[32])
{
    char err[512];
    void *c = zmq_socket(s->ctx, ZMQ_PUSH);
    int linger = 0;
    zmq_setsockopt(c, ZMQ_LINGER, &linger, sizeof linger);
    if (server_pub)
        assert_int_equal(curve_client_setup(c, server_pub, secret, err, sizeof err), 0);
    void *mon = curve_monitor_open(s->ctx, c, err, sizeof err);
    assert_non_null(mon);
    assert_int_equal(zmq_connect(c, s->endpoint), 0);
    curve_event_t ev = {0};
    int seen = 0;
    for (int i = 0; i < 500 && !seen; i++) {
        while (curve_auth_handle(s->auth) > 0)
            ;
        seen = curve_monitor_next(mon, 10, &ev);
    }
    assert_int_equal(seen, 1);
    if (ev.result == CURVE_HANDSHAKE_OK)
        assert_int_equal(zmq_send(c, "hello", 5, 0), 5);
    else
        zmq_send(c, "forged", 6, ZMQ_DONTWAIT); /* queued at most: nowhere to go */
    got[0] = user[0] = '\0';
    zmq_pollitem_t item = {s->server, 0, ZMQ_POLLIN, 0};
    for (int i = 0; i < 100 && !got[0]; i++) {
        while (curve_auth_handle(s->auth) > 0)
            ;
        if (zmq_poll(&item, 1, 10) == 1) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            assert_true(zmq_msg_recv(&m, s->server, 0) >= 0);
            snprintf(got, 64, "%.*s", (int)zmq_msg_size(&m), (const char *)zmq_msg_data(&m));
            const char *u = zmq_msg_gets(&m, "User-Id");
            snprintf(user, 32, "%s", u ? u : "");
            zmq_msg_close(&m);
        }
    }
    curve_monitor_close(c, &mon);
    zmq_close(c);
    return ev.result;
}

/* A stage inbox admitting its upstream only: linkage's server admits ingest's key; a stranger's
 * key, metric's key (a stage, but not linkage's upstream) and a plain socket get nothing in. */
static void test_stage_inbox_admits_its_upstream_only(void **state)
{
    (void)state;
    keydir_t k;
    keydir_new(&k);
    keydir_pair(&k, "linkage");
    keydir_pair(&k, "ingest");
    keydir_pair(&k, "metric");
    keydir_pair(&k, "stranger");
    server_t s;
    server_start(&s, keydir_file(&k, "linkage", "key"));
    char err[512], got[64], user[32];
    assert_int_equal(
        curve_auth_allow(s.auth, keydir_file(&k, "ingest", "pub"), "ingest", err, sizeof err), 0);
    assert_int_equal(curve_auth_nkeys(s.auth), 1);
    const char *server_pub = keydir_file(&k, "linkage", "pub");

    assert_int_equal(push_once(&s, server_pub, keydir_file(&k, "ingest", "key"), got, user),
                     CURVE_HANDSHAKE_OK);
    assert_string_equal(got, "hello");
    assert_string_equal(user, "ingest");

    assert_int_equal(push_once(&s, server_pub, keydir_file(&k, "stranger", "key"), got, user),
                     CURVE_HANDSHAKE_REFUSED);
    assert_string_equal(got, "");
    assert_int_equal(push_once(&s, server_pub, keydir_file(&k, "metric", "key"), got, user),
                     CURVE_HANDSHAKE_REFUSED);
    assert_string_equal(got, "");
    assert_int_equal(push_once(&s, NULL, NULL, got, user), CURVE_HANDSHAKE_MISMATCH);
    assert_string_equal(got, "");
    server_stop(&s);
    keydir_remove(&k);
}

/* The trust folder: each <ODS>.pub admitted under its code, the connection named by the key it
 * proved; a .pub not named for a trust is refused, naming it. */
static void test_trust_folder_names_each_connection(void **state)
{
    (void)state;
    keydir_t k;
    keydir_new(&k);
    keydir_pair(&k, "ingest");
    keydir_pair(&k, "RH8");
    keydir_pair(&k, "RH8.next"); /* RH8's second key, while it changes keys */
    keydir_pair(&k, "RTH");
    char err[512], got[64], user[32];
    /* ingest.pub is in the folder too: not a trust */
    void *ctx = zmq_ctx_new();
    curve_auth_t *auth = curve_auth_new(ctx, keydir_file(&k, "ingest", "key"), err, sizeof err);
    assert_non_null(auth);
    assert_int_equal(curve_auth_allow_trusts(auth, k.dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "ingest.pub\" is not named for an ODS trust code"));
    curve_auth_destroy(&auth);
    zmq_ctx_term(ctx);
    assert_int_equal(unlink(keydir_file(&k, "ingest", "pub")), 0);
    server_t s;
    server_start(&s, keydir_file(&k, "ingest", "key"));
    assert_int_equal(curve_auth_allow_trusts(s.auth, k.dir, err, sizeof err), 0);
    assert_int_equal(curve_auth_nkeys(s.auth), 3);
    /* the server's public key, derived from its secret, for the clients */
    char sec[CURVE_KEY_Z85 + 1], pub[CURVE_KEY_Z85 + 1], path[160];
    assert_int_equal(
        curve_key_read(keydir_file(&k, "ingest", "key"), CURVE_KEY_SECRET, sec, err, sizeof err),
        0);
    assert_int_equal(zmq_curve_public(pub, sec), 0);
    snprintf(path, sizeof path, "%s/server.public", k.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", pub);
    fclose(f);
    assert_int_equal(push_once(&s, path, keydir_file(&k, "RTH", "key"), got, user),
                     CURVE_HANDSHAKE_OK);
    assert_string_equal(got, "hello");
    assert_string_equal(user, "RTH");
    assert_int_equal(push_once(&s, path, keydir_file(&k, "RH8", "key"), got, user),
                     CURVE_HANDSHAKE_OK);
    assert_string_equal(user, "RH8");
    assert_int_equal(push_once(&s, path, keydir_file(&k, "RH8.next", "key"), got, user),
                     CURVE_HANDSHAKE_OK);
    assert_string_equal(user, "RH8");
    server_stop(&s);
    /* a label that is not one: refused, naming the file */
    for (int i = 0; i < 2; i++) {
        const char *bad = i == 0 ? "RH8..pub" : "RH8.new key.pub";
        char path2[200];
        snprintf(path2, sizeof path2, "%s/%s", k.dir, bad);
        FILE *g = fopen(path2, "w");
        assert_non_null(g);
        fprintf(g, "%s\n", pub);
        fclose(g);
        ctx = zmq_ctx_new();
        auth = curve_auth_new(ctx, keydir_file(&k, "ingest", "key"), err, sizeof err);
        assert_non_null(auth);
        assert_int_equal(curve_auth_allow_trusts(auth, k.dir, err, sizeof err), -1);
        assert_non_null(strstr(err, bad));
        curve_auth_destroy(&auth);
        zmq_ctx_term(ctx);
        assert_int_equal(unlink(path2), 0);
    }
    keydir_remove(&k);
}

/* A client that expects linkage's key, pointed at a listener holding another key (an impostor
 * registered as linkage): the handshake fails and the impostor receives nothing. */
static void test_client_sends_nothing_to_an_impostor(void **state)
{
    (void)state;
    keydir_t k;
    keydir_new(&k);
    keydir_pair(&k, "linkage");
    keydir_pair(&k, "ingest");
    keydir_pair(&k, "impostor");
    server_t s;
    server_start(&s, keydir_file(&k, "impostor", "key"));
    char err[512], got[64], user[32];
    /* the impostor even admits ingest's key: it still cannot prove linkage's */
    assert_int_equal(
        curve_auth_allow(s.auth, keydir_file(&k, "ingest", "pub"), "ingest", err, sizeof err), 0);
    curve_handshake_t r = push_once(&s, keydir_file(&k, "linkage", "pub"),
                                    keydir_file(&k, "ingest", "key"), got, user);
    assert_int_equal(r, CURVE_HANDSHAKE_FAILED);
    assert_string_equal(got, "");
    server_stop(&s);
    keydir_remove(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_pair_written_once_and_read_back),
        cmocka_unit_test(test_bad_key_files_named),
        cmocka_unit_test(test_secret_key_readable_by_others_refused),
        cmocka_unit_test(test_stage_inbox_admits_its_upstream_only),
        cmocka_unit_test(test_trust_folder_names_each_connection),
        cmocka_unit_test(test_client_sends_nothing_to_an_impostor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
