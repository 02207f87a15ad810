/* SPDX-License-Identifier: Apache-2.0 */
/* The audit log's parts: private to src/audit/. */
#ifndef BARRA_AUDIT_INT_H
#define BARRA_AUDIT_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <barra/audit.h>

#include "audit/audit-merkle.h"
#include "audit/sha256-lanes.h"
#include "core/buf.h"

#define AUDIT_DB_NAME      "audit.db"
#define AUDIT_KEY_NAME     "log.key"
#define AUDIT_MAX_TYPE     64
#define AUDIT_MAX_RECORD   ((size_t)1 << 20)
#define AUDIT_SALT         16
#define AUDIT_LEAF_VERSION 1
/* Hashes of complete subtrees are stored from this level up (256 leaves and more); lower ones are
 * recomputed from the leaf hashes when a proof needs them (at most 128 hashes). One row per entry
 * instead of three makes appends several times cheaper. */
#define AUDIT_STORED_LEVEL 8

/* ---- leaves (audit-leaf.c) ---- */

/* What a leaf commits to. The bytes hashed are a fixed binary layout of these fields, so verifying
 * never parses the record. */
struct audit_entry {
    uint64_t seq;
    int64_t time_ns;
    const char *type;
    size_t type_len;
    const void *record;
    size_t record_len;
    bool has_payload;
    uint8_t payload_digest[32]; /* SHA-256(salt || payload) */
};

/* The leaf hash of an entry (audit-leaf.c describes the bytes). -BARRA_EINVAL for a type or
 * record of a size the format cannot hold. */
int audit_entry_leaf_hash(const struct audit_entry *e, uint8_t out[MERKLE_HASH]);

/* Entries whose leaf hashes are computed together (verification hashes sixteen at once). */
struct audit_leaf_batch {
    size_t n;
    struct audit_entry entry[SHA256_LANES]; /* copies: type and record point into buf */
    uint8_t *buf[SHA256_LANES];             /* the bytes each leaf hashes */
    size_t cap[SHA256_LANES], len[SHA256_LANES];
    uint8_t leaf[SHA256_LANES][MERKLE_HASH]; /* after audit_leaf_batch_hash() */
};
/* Adds a copy of e (n < SHA256_LANES). -BARRA_EINVAL for an entry the format cannot hold,
 * -BARRA_ENOMEM. */
int audit_leaf_batch_add(struct audit_leaf_batch *b, const struct audit_entry *e);
void audit_leaf_batch_hash(struct audit_leaf_batch *b);
void audit_leaf_batch_free(struct audit_leaf_batch *b);
void audit_payload_digest(const uint8_t salt[AUDIT_SALT], const void *payload, size_t len,
                          uint8_t out[32]);

/* ---- storage (audit-store.c) ---- */

struct audit_store {
    sqlite3 *db;
    sqlite3_stmt *insert_entry, *insert_payload, *insert_node, *get_node, *insert_checkpoint;
    sqlite3_stmt *get_leaf, *get_leaves;
    sqlite3_stmt *begin, *commit, *rollback;
};

int audit_store_open(struct audit_store *s, const char *dir, bool read_only,
                     struct barra_error *reterr);
/* Test hook: the SQLite VFS to open logs with (NULL: the default). Fault-injection tests register
 * one whose writes or syncs fail. */
extern const char *audit_store_vfs;
void audit_store_close(struct audit_store *s);
int audit_store_meta_get(struct audit_store *s, const char *key, char **ret_value);
int audit_store_meta_set(struct audit_store *s, const char *key, const char *value);
/* The size of the tree and its right edge, read back from the stored nodes. */
int audit_store_load_edge(struct audit_store *s, struct merkle_edge *ret,
                          struct barra_error *reterr);
int audit_store_node(void *store, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH]);
/* The time of the newest entry (0 for an empty log). */
int64_t audit_store_last_time(struct audit_store *s);
/* A SQLite failure as a barra error with the database's own message. */
int audit_store_error(struct audit_store *s, int rc, const char *what, struct barra_error *reterr);

/* ---- keys and checkpoints (audit-note.c) ---- */

struct audit_signer {
    void *pkey; /* EVP_PKEY */
    char *name; /* the key name: the log's origin */
    uint8_t public_key[32];
    uint8_t key_id[4];
};

/* Loads dir/log.key, or creates it (mode 0600) when `create`. */
int audit_signer_load(struct audit_signer *s, const char *dir, const char *origin, bool create,
                      struct barra_error *reterr);
int audit_signer_load_path(struct audit_signer *s, const char *path, const char *origin,
                           bool create, struct barra_error *reterr);
void audit_signer_done(struct audit_signer *s);
/* Ed25519 over a NUL-terminated text: the endorsements of a key rotation. */
int audit_sign_text(const struct audit_signer *s, const char *text, uint8_t sig[64]);
bool audit_verify_text(const uint8_t public_key[32], const char *text, const uint8_t sig[64]);
/* "origin\nsize\nbase64(root)\n" signed: the C2SP checkpoint as a signed note. Returns owned. */
int audit_checkpoint_sign(const struct audit_signer *s, uint64_t size,
                          const uint8_t root[MERKLE_HASH], char **ret_note);

struct audit_checkpoint {
    char origin[256];
    uint64_t size;
    uint8_t root[MERKLE_HASH];
};

/* Parses a checkpoint note and verifies its signature by the key (name, public key). */
int audit_checkpoint_verify(const char *note, size_t len, const char *name,
                            const uint8_t public_key[32], struct audit_checkpoint *ret,
                            struct barra_error *reterr);
/* The verifier key line "name+keyid+base64(0x01||public key)" (the Go note format), and back. */
int audit_verifier_key_format(const struct audit_signer *s, char **ret);
int audit_verifier_key_parse(const char *text, char *name, size_t name_cap, uint8_t public_key[32]);

/* ---- the log (audit-log.c) ---- */

struct audit_request;

/* The thread that folds the WAL into the database (audit-wal.c). */
enum audit_wal_state {
    AUDIT_WAL_IDLE,
    AUDIT_WAL_FOLDING,   /* asked by a commit that crossed the threshold; the thread folds */
    AUDIT_WAL_FINISHING, /* the writer folds what was appended meanwhile after its next commit */
};

struct audit_wal {
    sqlite3 *db; /* a connection of its own */
    pthread_t thread;
    pthread_mutex_t lock; /* guards state and stopping */
    pthread_cond_t wake;
    enum audit_wal_state state;
    bool stopping;
};

struct barra_audit {
    struct barra_audit_options opts;
    char *dir;
    char *origin;
    struct audit_store store;
    struct audit_signer signer;
    struct merkle_edge edge;
    int64_t last_time_ns;

    pthread_mutex_t lock;    /* guards the queue and the failure state */
    pthread_mutex_t db_lock; /* guards the database connection, the edge and the checkpoints */
    pthread_cond_t wake;
    struct audit_request *queue_head, *queue_tail;
    size_t queued;
    bool stopping;
    bool has_writer;
    pthread_t writer;
    int failed;           /* once set: the reason appends are refused (negative code) */
    char failure[256];    /* and what happened */
    char sink_error[300]; /* the last failure to send a checkpoint off the box */
    uint64_t checkpoint_size;
    int64_t checkpoint_time_ns;
    struct audit_wal wal;
    struct barra_audit_stats stats; /* guarded by lock */
};

int64_t audit_now_ns(void);
/* Stops the log for a failed database write (rc: SQLite's code). Called with db_lock held. */
void audit_log_fail(barra_audit_t *log, int rc, const char *what);
/* Starts and stops the WAL folder; stopping one never started does nothing. */
int audit_wal_start(barra_audit_t *log, struct barra_error *reterr);
void audit_wal_stop(barra_audit_t *log);
/* The writer's part, after each of its commits, with db_lock held. */
void audit_wal_after_commit(barra_audit_t *log);
/* Sends a new checkpoint to the configured places off the box (audit-sink.c). */
void audit_sink_checkpoint(barra_audit_t *log, const char *note, uint64_t size);
/* Test hook: the clock entries are stamped with (NULL: the system's wall clock). */
extern int64_t (*audit_clock)(void);

#endif
