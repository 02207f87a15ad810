/* SPDX-License-Identifier: Apache-2.0 */
/* The tamper-evident audit log: every decision Barra makes becomes an entry of an append-only log
 * whose entries are the leaves of an RFC 9162 Merkle tree, stored in SQLite, with signed
 * checkpoints (C2SP signed notes, Ed25519) so that anyone can check that the log is complete and
 * unaltered (docs/audit-log.md).
 *
 * An append returns only once the entry is durable (committed with synchronous=FULL); appends from
 * many threads are committed together. If the disk fails, the log stops accepting appends and says
 * why: it never acknowledges what it could not make durable. */
#ifndef BARRA_AUDIT_H
#define BARRA_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <barra/error.h>
#include <barra/version.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct barra_audit barra_audit_t;

struct barra_audit_options {
    /* The log's folder: audit.db and the signing key (log.key, mode 0600) live there. */
    const char *dir;
    /* The origin line of checkpoints, e.g. "barra.example.mo/audit"; default "barra/audit". */
    const char *origin;
    /* Group commit: a batch is committed after this many milliseconds or entries, whichever comes
     * first (defaults 2 ms and 1024). */
    uint32_t batch_ms;
    uint32_t batch_max;
    /* A checkpoint is signed this often while entries come in (default 5 s), and on close. */
    uint32_t checkpoint_ms;
    /* Opening only to read (verify, proofs, export): no writer thread, no key created. */
    bool read_only;
    /* Where each checkpoint also goes as it is signed, to keep it off the box: a folder (a file
     * share or WORM mount; NULL for none) gets <size>.checkpoint files, and syslog (the host
     * forwards it) gets a line with the note in base64. */
    const char *checkpoint_dir;
    bool checkpoint_syslog;
};

BARRA_EXPORT void barra_audit_options_init(struct barra_audit_options *opts);

/* Opens the log in opts->dir, creating it (and its key) on first use. Returns owned; close with
 * barra_audit_close(). */
BARRA_EXPORT int barra_audit_open(const struct barra_audit_options *opts, barra_audit_t **ret,
                                  struct barra_error *reterr);
/* Signs a last checkpoint (unless read-only or failed), stops the writer and frees the log. */
BARRA_EXPORT int barra_audit_close(barra_audit_t *log, struct barra_error *reterr);

/* Appends an entry and waits until it is durable. `type` names the kind of record ("decision",
 * "event", "consent", "erasure", ...; 1 to 64 bytes); `record` is the entry's content (UTF-8 JSON,
 * which must hold no personal data in the clear). `payload` (may be NULL) is kept beside the tree,
 * committed to only by a salted hash, so that it can be erased later without breaking a proof.
 * Safe from many threads. On success *ret_index is the entry's index (from 0). */
BARRA_EXPORT int barra_audit_append(barra_audit_t *log, const char *type, const char *record,
                                    size_t record_len, const void *payload, size_t payload_len,
                                    uint64_t *ret_index, struct barra_error *reterr);

/* Called once an asynchronous append is durable (result 0, index set) or can never be (result a
 * negative code; barra_audit_failure() says why). Runs on the log's writer thread: it must be
 * quick and must not append to the log itself. */
typedef void (*barra_audit_done_fn)(void *userdata, int result, uint64_t index);

/* Like barra_audit_append, without waiting: type, record and payload are copied, and `done` is
 * called exactly once when the entry's batch is committed, unless this returns an error (then it
 * is never called). A server answers its client from `done`. */
BARRA_EXPORT int barra_audit_append_async(barra_audit_t *log, const char *type, const char *record,
                                          size_t record_len, const void *payload,
                                          size_t payload_len, barra_audit_done_fn done,
                                          void *userdata, struct barra_error *reterr);

/* How the group commit has gone since the log was opened: how often it committed, how many
 * entries, and two histograms. Bucket i counts durations of at most barra_audit_bucket_ms(i)
 * milliseconds and more than the bucket before it; the last bucket takes everything longer. */
#define BARRA_AUDIT_BUCKETS 96
struct barra_audit_stats {
    uint64_t commits;
    uint64_t entries;
    uint64_t commit_ns_sum, wait_ns_sum;
    uint64_t commit[BARRA_AUDIT_BUCKETS]; /* each commit, from its first write to its fsync */
    uint64_t wait[BARRA_AUDIT_BUCKETS];   /* each entry, from queued to acknowledged */
};
BARRA_EXPORT void barra_audit_stats(barra_audit_t *log, struct barra_audit_stats *ret);
/* 0.01 ms times 2^(i/4): 0.01 ms to about 140 s, each bound 19% above the one before. */
BARRA_EXPORT double barra_audit_bucket_ms(size_t i);

/* Why the log stopped accepting entries (a failed fsync, a full disk), or NULL while it works. */
BARRA_EXPORT const char *barra_audit_failure(barra_audit_t *log);

/* Reads entry `index`: its type, time (Unix nanoseconds) and record (owned, NUL-terminated; free
 * with barra_audit_free()). -BARRA_ENOENT when there is no such entry or it was pruned. */
BARRA_EXPORT int barra_audit_entry(barra_audit_t *log, uint64_t index, char **ret_type,
                                   int64_t *ret_time_ns, char **ret_record, size_t *ret_record_len,
                                   struct barra_error *reterr);

/* The current tree: number of entries and root hash (32 bytes). */
BARRA_EXPORT int barra_audit_head(barra_audit_t *log, uint64_t *ret_size, uint8_t ret_root[32],
                                  struct barra_error *reterr);

/* Signs a checkpoint of the current tree now and returns it (C2SP signed note text; owned, free
 * with barra_audit_free()). */
BARRA_EXPORT int barra_audit_checkpoint(barra_audit_t *log, char **ret_note,
                                        struct barra_error *reterr);

BARRA_EXPORT void barra_audit_free(void *p);

/* The last failure to send a checkpoint off the box (a full share, a missing folder), or NULL. The
 * log goes on: entries are durable without it, only less well anchored. */
BARRA_EXPORT const char *barra_audit_sink_error(barra_audit_t *log);

/* The newest checkpoint stored in the log (owned; NULL with 0 when there is none yet). */
BARRA_EXPORT int barra_audit_latest_checkpoint(barra_audit_t *log, char **ret_note,
                                               struct barra_error *reterr);
/* The key verifiers need: "origin+keyid+base64(0x01 || public key)" (owned). */
BARRA_EXPORT int barra_audit_verifier_key(barra_audit_t *log, char **ret,
                                          struct barra_error *reterr);

#define BARRA_AUDIT_MAX_PROOF 64

/* The inclusion proof of entry `index` in the tree of `size` entries (RFC 9162 2.1.3): proof
 * holds up to BARRA_AUDIT_MAX_PROOF hashes; *ret_n is how many; ret_leaf the entry's leaf hash and
 * ret_root the root of that tree. -BARRA_ENOENT when the entry is not in the log. */
BARRA_EXPORT int barra_audit_inclusion_proof(barra_audit_t *log, uint64_t index, uint64_t size,
                                             uint8_t proof[][32], size_t *ret_n,
                                             uint8_t ret_leaf[32], uint8_t ret_root[32],
                                             struct barra_error *reterr);
/* The consistency proof between the trees of old_size and new_size entries (RFC 9162 2.1.4). */
BARRA_EXPORT int barra_audit_consistency_proof(barra_audit_t *log, uint64_t old_size,
                                               uint64_t new_size, uint8_t proof[][32],
                                               size_t *ret_n, uint8_t ret_old_root[32],
                                               uint8_t ret_new_root[32],
                                               struct barra_error *reterr);
/* Checks a proof in its JSON form (docs/audit-log.md, "Proofs") against a checkpoint signed by
 * the verifier key: the checkpoint's signature, that the proof's tree is the checkpoint's (same
 * size and root; for a consistency proof, its new tree), and the proof itself. 0 when all holds;
 * -BARRA_ERULES with the reason when it does not; -BARRA_EFORMAT for malformed input. */
BARRA_EXPORT int barra_audit_check_proof(const char *proof_json, size_t proof_len,
                                         const char *checkpoint, size_t checkpoint_len,
                                         const char *verifier_key, struct barra_error *reterr);

/* Checks proofs made by the two functions above (no log needed). */
BARRA_EXPORT bool barra_audit_check_inclusion(const uint8_t leaf[32], uint64_t index, uint64_t size,
                                              const uint8_t root[32], const uint8_t proof[][32],
                                              size_t n);
BARRA_EXPORT bool barra_audit_check_consistency(uint64_t old_size, uint64_t new_size,
                                                const uint8_t old_root[32],
                                                const uint8_t new_root[32],
                                                const uint8_t proof[][32], size_t n);

/* Replaces the signing key: a "key_rotation" entry holds both verifier keys, each endorsed by the
 * other; the old key signs the checkpoint that holds it, then the new key signs from the next size
 * on, and the old private key is removed. Verifiers follow the key history from the key they
 * trust (docs/audit-log.md). */
BARRA_EXPORT int barra_audit_rotate_key(barra_audit_t *log, struct barra_error *reterr);

/* Retention: removes the entries (and payloads) written before `before_ns` (Unix nanoseconds),
 * in whole groups of 256 from the start of the log. First a "prune" entry records what goes (the
 * new minimum index, the cutoff, the root of the tree at that index) and a checkpoint signs it;
 * then the entries go, their leaf hashes stay, so every proof and checkpoint still verifies.
 * *ret_min_index is the first entry kept (unchanged when nothing was old enough). */
BARRA_EXPORT int barra_audit_prune(barra_audit_t *log, int64_t before_ns, uint64_t *ret_min_index,
                                   struct barra_error *reterr);

/* Writes what an outside verifier needs into `outdir` (docs/audit-log.md, "Export"): the verifier
 * key, every checkpoint, every entry (the fields its leaf commits to, the record in base64) and the
 * leaf hashes of pruned entries. Payloads are not exported. */
BARRA_EXPORT int barra_audit_export(barra_audit_t *log, const char *outdir,
                                    struct barra_error *reterr);

/* ---- Verification ---- */

struct barra_audit_verify_options {
    const char *dir;
    /* The verifier key ("origin+keyid+base64", as `barra log key` prints it), or NULL to derive it
     * from the log's own key file. A verifier that distrusts the box should pass it. */
    const char *verifier_key;
    /* Checkpoints kept elsewhere (files holding one signed note each): the log must contain the
     * tree each one signs. */
    const char *const *checkpoint_files;
    size_t ncheckpoint_files;
    /* The trusted checkpoint, kept outside the log's folder: checked like the others and, when
     * everything verifies and update_trusted is set, replaced by the log's newest checkpoint. */
    const char *trusted_checkpoint;
    bool update_trusted;
};

struct barra_audit_verify_report {
    uint64_t size;             /* entries in the tree */
    uint64_t min_index;        /* entries below it were pruned */
    uint64_t checkpoints;      /* signed checkpoints checked (the log's and the given ones) */
    uint64_t payloads;         /* payloads checked against their digests */
    uint64_t erased;           /* payloads erased (their digests remain) */
    uint64_t clock_steps_back; /* times an entry is older than the one before */
    uint64_t unsigned_entries; /* entries after the newest checkpoint (signed within seconds) */
};

/* Checks everything: every entry against its leaf hash, every stored tree hash, every checkpoint's
 * signature and root, the given checkpoints, payload digests and prune records. Returns 0 only if
 * all holds; otherwise an error whose message names the first entry or checkpoint that does not. */
BARRA_EXPORT int barra_audit_verify(const struct barra_audit_verify_options *opts,
                                    struct barra_audit_verify_report *ret,
                                    struct barra_error *reterr);

#ifdef __cplusplus
}
#endif

#endif
