/*
 * A fake cryptodev-linux device for tests: a shared library exporting open(), ioctl() and
 * close() with the /dev/crypto ABI (cryptodev-linux crypto/cryptodev.h), the crypto done by
 * OpenSSL. branchgate loads it instead of libc when BRANCHGATE_CRYPTODEV_LIB names it.
 *
 * Implemented: CIOCGSESSION / CIOCFSESSION / CIOCGSESSINFO for AES-CBC (11), AES-GCM (50),
 * HMAC-SHA1 (7) and HMAC-SHA2-256/384/512 (18/19/20); CIOCCRYPT for CBC and HMAC; CIOCAUTHCRYPT
 * for AES-GCM in plain AEAD mode (flags 0, 12-byte IV, tag after the ciphertext, EBADMSG on a
 * bad tag).
 *
 * State shared with the tests: the device path given to open() names a 256-byte file of
 * little-endian u64 words (created if missing; a path under /dev/ gets anonymous memory
 * instead) holding counters and controls, mapped shared: tests read and write it while the
 * process runs, and every descriptor opened on the same file shares it. The control words can
 * also be set at open() from the environment:
 *   BRANCHGATE_FAKE_CRYPTODEV_DELAY_US    busy-wait this long per operation (a slow engine)
 *   BRANCHGATE_FAKE_CRYPTODEV_FAIL        1: every operation fails with EIO
 *   BRANCHGATE_FAKE_CRYPTODEV_FAIL_AFTER  N: operations after the N-th fail with EIO
 *   BRANCHGATE_FAKE_CRYPTODEV_CORRUPT     1: every output has one bit flipped (fails KATs)
 *   BRANCHGATE_FAKE_CRYPTODEV_HW          1: report SIOP_FLAG_KERNEL_DRIVER_ONLY
 * A failing operation scribbles over its output first, as a half-done DMA would.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define CIOCGSESSION 0xc0306366UL
#define CIOCFSESSION 0x40046367UL
#define CIOCCRYPT 0xc0306368UL
#define CIOCGSESSINFO 0xc10c636bUL
#define CIOCAUTHCRYPT 0xc048636dUL

#define ALG_SHA1_HMAC 7
#define ALG_AES_CBC 11
#define ALG_SHA2_256_HMAC 18
#define ALG_SHA2_384_HMAC 19
#define ALG_SHA2_512_HMAC 20
#define ALG_AES_GCM 50

struct session_op {
  uint32_t cipher, mac, keylen;
  uint8_t *key;
  uint32_t mackeylen;
  uint8_t *mackey;
  uint32_t ses;
};
struct alg_info {
  char cra_name[64];
  char cra_driver_name[64];
};
struct session_info_op {
  uint32_t ses;
  struct alg_info cipher_info, hash_info;
  uint16_t alignmask;
  uint32_t flags;
};
struct crypt_op {
  uint32_t ses;
  uint16_t op, flags;
  uint32_t len;
  uint8_t *src, *dst, *mac, *iv;
};
struct crypt_auth_op {
  uint32_t ses;
  uint16_t op, flags;
  uint32_t len, auth_len;
  uint8_t *auth_src, *src, *dst, *tag;
  uint32_t tag_len;
  uint8_t *iv;
  uint32_t iv_len;
};
_Static_assert(sizeof(struct session_op) == 48, "session_op");
_Static_assert(sizeof(struct session_info_op) == 268, "session_info_op");
_Static_assert(sizeof(struct crypt_op) == 48, "crypt_op");
_Static_assert(sizeof(struct crypt_auth_op) == 72, "crypt_auth_op");

/* Words of the shared state (keep in step with tests/fakes/cryptodev/fake.ts). */
enum {
  W_MAGIC, W_SESSIONS, W_FREED, W_OPS, W_FAILED, W_BYTES, W_AEAD_ENC, W_AEAD_DEC, W_CBC_ENC,
  W_CBC_DEC, W_MAC, W_FULL_SIZE, W_MAX_LEN, W_BAD_TAG, W_OPENS,
  W_DELAY_NS = 16, W_FAIL, W_FAIL_AFTER, W_HW, W_CORRUPT, W_WORDS = 32
};
#define MAGIC 0x646f7470797263ULL /* "crypto" */

#define MAX_FDS 65536
static volatile uint64_t *states[MAX_FDS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

#define MAX_SESSIONS 4096
struct session {
  int used;
  uint32_t cipher, mac, keylen, mackeylen;
  uint8_t key[32], mackey[128];
};
static struct session sessions[MAX_SESSIONS];

static void add(volatile uint64_t *state, int w, uint64_t n) {
  __atomic_add_fetch(&state[w], n, __ATOMIC_RELAXED);
}

static void env_word(volatile uint64_t *state, const char *name, int w, uint64_t scale) {
  const char *v = getenv(name);
  if (v != NULL && *v != '\0') state[w] = strtoull(v, NULL, 10) * scale;
}

static volatile uint64_t *map_state(const char *path) {
  void *p = MAP_FAILED;
  if (strncmp(path, "/dev/", 5) != 0) {
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size < W_WORDS * 8) {
      if (ftruncate(fd, W_WORDS * 8) != 0) { syscall(SYS_close, fd); return NULL; }
    }
    p = mmap(NULL, W_WORDS * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    syscall(SYS_close, fd);
  } else {
    p = mmap(NULL, W_WORDS * 8, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  }
  if (p == MAP_FAILED) return NULL;
  volatile uint64_t *state = p;
  state[W_MAGIC] = MAGIC;
  env_word(state, "BRANCHGATE_FAKE_CRYPTODEV_DELAY_US", W_DELAY_NS, 1000);
  env_word(state, "BRANCHGATE_FAKE_CRYPTODEV_FAIL", W_FAIL, 1);
  env_word(state, "BRANCHGATE_FAKE_CRYPTODEV_FAIL_AFTER", W_FAIL_AFTER, 1);
  env_word(state, "BRANCHGATE_FAKE_CRYPTODEV_CORRUPT", W_CORRUPT, 1);
  env_word(state, "BRANCHGATE_FAKE_CRYPTODEV_HW", W_HW, 1);
  return state;
}

int open(const char *path, int flags, ...) {
  (void)flags;
  volatile uint64_t *state = map_state(path);
  if (state == NULL) { errno = ENOENT; return -1; }
  /* A real descriptor, so the number never collides with another one. */
  int fd = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC);
  if (fd < 0 || fd >= MAX_FDS) {
    munmap((void *)state, W_WORDS * 8);
    if (fd >= 0) syscall(SYS_close, fd);
    errno = EMFILE;
    return -1;
  }
  add(state, W_OPENS, 1);
  __atomic_store_n(&states[fd], state, __ATOMIC_RELEASE);
  return fd;
}

int close(int fd) {
  if (fd >= 0 && fd < MAX_FDS) {
    volatile uint64_t *state = __atomic_exchange_n(&states[fd], NULL, __ATOMIC_ACQ_REL);
    if (state != NULL) munmap((void *)state, W_WORDS * 8);
  }
  return (int)syscall(SYS_close, fd);
}

static const EVP_MD *md_for(uint32_t mac) {
  switch (mac) {
    case ALG_SHA1_HMAC: return EVP_sha1();
    case ALG_SHA2_256_HMAC: return EVP_sha256();
    case ALG_SHA2_384_HMAC: return EVP_sha384();
    case ALG_SHA2_512_HMAC: return EVP_sha512();
    default: return NULL;
  }
}

static const EVP_CIPHER *cipher_for(uint32_t alg, uint32_t keylen) {
  if (alg == ALG_AES_CBC) {
    return keylen == 16 ? EVP_aes_128_cbc() : keylen == 24 ? EVP_aes_192_cbc()
         : keylen == 32 ? EVP_aes_256_cbc() : NULL;
  }
  if (alg == ALG_AES_GCM) {
    return keylen == 16 ? EVP_aes_128_gcm() : keylen == 24 ? EVP_aes_192_gcm()
         : keylen == 32 ? EVP_aes_256_gcm() : NULL;
  }
  return NULL;
}

static struct session *lookup(uint32_t ses) {
  if (ses == 0 || ses > MAX_SESSIONS || !sessions[ses - 1].used) return NULL;
  return &sessions[ses - 1];
}

static int new_session(volatile uint64_t *state, struct session_op *s) {
  if ((s->cipher == 0) == (s->mac == 0)) return EINVAL; /* one of the two, as ESP uses it */
  if (s->cipher != 0 && (cipher_for(s->cipher, s->keylen) == NULL || s->key == NULL)) {
    return EINVAL;
  }
  if (s->mac != 0 && (md_for(s->mac) == NULL || s->mackeylen > 128 ||
                      (s->mackeylen > 0 && s->mackey == NULL))) {
    return EINVAL;
  }
  pthread_mutex_lock(&lock);
  int i = 0;
  while (i < MAX_SESSIONS && sessions[i].used) i++;
  if (i == MAX_SESSIONS) { pthread_mutex_unlock(&lock); return ENOMEM; }
  struct session *x = &sessions[i];
  memset(x, 0, sizeof *x);
  x->used = 1;
  x->cipher = s->cipher;
  x->mac = s->mac;
  x->keylen = s->keylen;
  x->mackeylen = s->mackeylen;
  if (s->cipher != 0) memcpy(x->key, s->key, s->keylen);
  if (s->mac != 0 && s->mackeylen > 0) memcpy(x->mackey, s->mackey, s->mackeylen);
  pthread_mutex_unlock(&lock);
  s->ses = (uint32_t)i + 1;
  add(state, W_SESSIONS, 1);
  return 0;
}

static int free_session(volatile uint64_t *state, uint32_t ses) {
  pthread_mutex_lock(&lock);
  struct session *x = lookup(ses);
  if (x != NULL) memset(x, 0, sizeof *x);
  pthread_mutex_unlock(&lock);
  if (x == NULL) return EINVAL;
  add(state, W_FREED, 1);
  return 0;
}

static void name_of(uint32_t alg, char *name, char *driver) {
  const char *n = alg == ALG_AES_CBC ? "cbc(aes)" : alg == ALG_AES_GCM ? "gcm(aes)"
                : alg == ALG_SHA1_HMAC ? "hmac(sha1)" : alg == ALG_SHA2_256_HMAC ? "hmac(sha256)"
                : alg == ALG_SHA2_384_HMAC ? "hmac(sha384)" : "hmac(sha512)";
  strncpy(name, n, 63);
  strncpy(driver, "fake-cryptodev-openssl", 63);
}

static int session_info(volatile uint64_t *state, struct session_info_op *i) {
  struct session *x = lookup(i->ses);
  if (x == NULL) return EINVAL;
  memset(&i->cipher_info, 0, sizeof i->cipher_info);
  memset(&i->hash_info, 0, sizeof i->hash_info);
  if (x->cipher != 0) name_of(x->cipher, i->cipher_info.cra_name, i->cipher_info.cra_driver_name);
  if (x->mac != 0) name_of(x->mac, i->hash_info.cra_name, i->hash_info.cra_driver_name);
  i->alignmask = 0;
  i->flags = state[W_HW] != 0 ? 1 : 0;
  return 0;
}

/* Counts the operation, waits out the configured delay, and says whether it must fail. */
static int begin(volatile uint64_t *state, uint32_t len) {
  uint64_t n = __atomic_add_fetch(&state[W_OPS], 1, __ATOMIC_RELAXED);
  add(state, W_BYTES, len);
  if (len >= 1000) add(state, W_FULL_SIZE, 1);
  uint64_t max = state[W_MAX_LEN];
  while (len > max && !__atomic_compare_exchange_n(&state[W_MAX_LEN], &max, len, 0,
                                                   __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
  uint64_t delay = state[W_DELAY_NS];
  if (delay > 0) {
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
      clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((uint64_t)(t.tv_sec - t0.tv_sec) * 1000000000ULL + (uint64_t)t.tv_nsec -
                 (uint64_t)t0.tv_nsec < delay);
  }
  uint64_t after = state[W_FAIL_AFTER];
  return state[W_FAIL] != 0 || (after != 0 && n > after);
}

static int failed(volatile uint64_t *state, uint8_t *dst, uint32_t len) {
  memset(dst, 0xa5, len < 16 ? len : 16);
  add(state, W_FAILED, 1);
  return EIO;
}

static void corrupt(volatile uint64_t *state, uint8_t *out) {
  if (state[W_CORRUPT] != 0) out[0] ^= 1;
}

static int plain_crypt(volatile uint64_t *state, struct crypt_op *c) {
  struct session *x = lookup(c->ses);
  if (x == NULL || c->src == NULL) return EINVAL;
  if (x->mac != 0) {
    if (c->mac == NULL) return EINVAL;
    if (begin(state, c->len)) return failed(state, c->mac, 16);
    unsigned int outl = 0;
    if (HMAC(md_for(x->mac), x->mackey, (int)x->mackeylen, c->src, c->len, c->mac, &outl) ==
        NULL) {
      return EIO;
    }
    add(state, W_MAC, 1);
    corrupt(state, c->mac);
    return 0;
  }
  if (x->cipher != ALG_AES_CBC || c->dst == NULL || c->iv == NULL || c->len % 16 != 0 ||
      c->op > 1) {
    return EINVAL;
  }
  if (begin(state, c->len)) return failed(state, c->dst, c->len);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int outl = 0, ok = ctx != NULL &&
    EVP_CipherInit_ex(ctx, cipher_for(x->cipher, x->keylen), NULL, x->key, c->iv,
                      c->op == 0) == 1 &&
    EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
    EVP_CipherUpdate(ctx, c->dst, &outl, c->src, (int)c->len) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return EIO;
  add(state, c->op == 0 ? W_CBC_ENC : W_CBC_DEC, 1);
  if (c->len > 0) corrupt(state, c->dst);
  return 0;
}

static int auth_crypt(volatile uint64_t *state, struct crypt_auth_op *a) {
  struct session *x = lookup(a->ses);
  if (x == NULL || x->cipher != ALG_AES_GCM || a->flags != 0 || a->iv_len != 12 ||
      a->iv == NULL || a->src == NULL || a->dst == NULL || a->op > 1 ||
      (a->tag_len != 0 && a->tag_len != 16) || (a->auth_len > 0 && a->auth_src == NULL)) {
    return EINVAL;
  }
  int dec = a->op == 1;
  if (dec && a->len < 16) return EINVAL;
  uint32_t n = dec ? a->len - 16 : a->len;
  if (begin(state, a->len)) return failed(state, a->dst, n + 16);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int outl = 0;
  uint8_t tag[16], scratch[16];
  int ok = ctx != NULL &&
    EVP_CipherInit_ex(ctx, cipher_for(x->cipher, x->keylen), NULL, x->key, a->iv, !dec) == 1 &&
    (a->auth_len == 0 ||
     EVP_CipherUpdate(ctx, NULL, &outl, a->auth_src, (int)a->auth_len) == 1);
  if (ok && dec) memcpy(tag, a->src + n, 16);
  ok = ok && (n == 0 || EVP_CipherUpdate(ctx, a->dst, &outl, a->src, (int)n) == 1);
  int bad = 0;
  if (ok && dec) {
    ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
    bad = ok && EVP_CipherFinal_ex(ctx, scratch, &outl) != 1;
  } else if (ok) {
    ok = EVP_CipherFinal_ex(ctx, scratch, &outl) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, a->dst + n) == 1;
  }
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return EIO;
  if (bad) {
    add(state, W_BAD_TAG, 1);
    return EBADMSG;
  }
  add(state, dec ? W_AEAD_DEC : W_AEAD_ENC, 1);
  corrupt(state, a->dst);
  return 0;
}

int ioctl(int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  volatile uint64_t *state =
    fd >= 0 && fd < MAX_FDS ? __atomic_load_n(&states[fd], __ATOMIC_ACQUIRE) : NULL;
  if (state == NULL) { errno = EBADF; return -1; }
  if (arg == NULL) { errno = EFAULT; return -1; }
  int err;
  switch (request) {
    case CIOCGSESSION: err = new_session(state, arg); break;
    case CIOCFSESSION: err = free_session(state, *(uint32_t *)arg); break;
    case CIOCGSESSINFO: err = session_info(state, arg); break;
    case CIOCCRYPT: err = plain_crypt(state, arg); break;
    case CIOCAUTHCRYPT: err = auth_crypt(state, arg); break;
    default: err = ENOTTY;
  }
  if (err != 0) { errno = err; return -1; }
  return 0;
}
