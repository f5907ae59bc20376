// Process hardening for the Gatehouse gateway: the few Linux calls Node does not expose.
// Node-API only (no V8/libuv headers), so the same binary loads in every Node >= 18.
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#define THROW_ERRNO(env, what)                                         \
  do {                                                                 \
    char message_[160];                                                \
    snprintf(message_, sizeof message_, "%s: %s", what, strerror(errno)); \
    napi_throw_error(env, "ERR_GATEHOUSE_HARDENING", message_);        \
    return NULL;                                                       \
  } while (0)

static napi_value make_int(napi_env env, int64_t value) {
  napi_value out;
  napi_create_int64(env, value, &out);
  return out;
}

// setDumpable(flag: boolean): prctl(PR_SET_DUMPABLE). With 0, /proc/<pid>/mem, environ, maps
// and ptrace-attach are refused to every process without CAP_SYS_PTRACE, the same user's included,
// and the kernel writes no core file.
static napi_value set_dumpable(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool flag = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_bool(env, argv[0], &flag) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "setDumpable(flag) takes a boolean");
    return NULL;
  }
  if (prctl(PR_SET_DUMPABLE, flag ? 1 : 0, 0, 0, 0) != 0) THROW_ERRNO(env, "prctl(PR_SET_DUMPABLE)");
  return make_int(env, prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
}

static napi_value get_dumpable(napi_env env, napi_callback_info info) {
  (void)info;
  int value = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  if (value < 0) THROW_ERRNO(env, "prctl(PR_GET_DUMPABLE)");
  return make_int(env, value);
}

// disableCoreDumps(): RLIMIT_CORE soft and hard to 0. Lowering the hard limit is permanent for
// an unprivileged process and is inherited across fork and execve, so every child gets it too.
static napi_value disable_core_dumps(napi_env env, napi_callback_info info) {
  (void)info;
  struct rlimit zero = {0, 0};
  if (setrlimit(RLIMIT_CORE, &zero) != 0) THROW_ERRNO(env, "setrlimit(RLIMIT_CORE)");
  return NULL;
}

static napi_value rlim_value(napi_env env, rlim_t value) {
  if (value == RLIM_INFINITY) {
    napi_value out;
    napi_get_null(env, &out);
    return out;
  }
  return make_int(env, (int64_t)value);
}

// getCoreLimit(): { soft, hard } in bytes, null for unlimited.
static napi_value get_core_limit(napi_env env, napi_callback_info info) {
  (void)info;
  struct rlimit current;
  if (getrlimit(RLIMIT_CORE, &current) != 0) THROW_ERRNO(env, "getrlimit(RLIMIT_CORE)");
  napi_value out;
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "soft", rlim_value(env, current.rlim_cur));
  napi_set_named_property(env, out, "hard", rlim_value(env, current.rlim_max));
  return out;
}

// The initial environment block the kernel copied onto the stack at execve: fields 50 and 51
// (env_start, env_end) of /proc/self/stat. unsetenv() only drops the pointer from `environ`;
// the bytes stay there and /proc/<pid>/environ keeps showing them.
static int initial_environment(unsigned long *start, unsigned long *end) {
  FILE *file = fopen("/proc/self/stat", "r");
  if (!file) return -1;
  char buffer[4096];
  size_t length = fread(buffer, 1, sizeof buffer - 1, file);
  fclose(file);
  buffer[length] = '\0';
  // The command name (field 2) may hold spaces and parentheses: count from its last ')'.
  char *cursor = strrchr(buffer, ')');
  if (!cursor) return -1;
  cursor++;
  int field = 2;
  unsigned long values[2] = {0, 0};
  while (*cursor && field < 51) {
    while (*cursor == ' ') cursor++;
    field++;
    char *next;
    unsigned long value = strtoul(cursor, &next, 10);
    if (field == 50) values[0] = value;
    if (field == 51) values[1] = value;
    while (*next && *next != ' ') next++;
    cursor = next;
  }
  if (field < 51 || values[0] == 0 || values[1] <= values[0]) return -1;
  *start = values[0];
  *end = values[1];
  return 0;
}

// scrubInitialEnvironment(name: string): overwrites the value of every NAME=value string in the
// initial environment block with NUL bytes (length kept, so the block's layout does not move).
// Returns how many entries were scrubbed. The caller has already copied the value it needs.
static napi_value scrub_initial_environment(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char name[256];
  size_t name_length = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name - 1, &name_length) != napi_ok || name_length == 0 ||
      name_length >= sizeof name - 2 || strchr(name, '=') != NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "scrubInitialEnvironment(name) takes a variable name");
    return NULL;
  }
  name[name_length] = '=';
  name[name_length + 1] = '\0';
  size_t prefix = name_length + 1;
  unsigned long start = 0, end = 0;
  if (initial_environment(&start, &end) != 0) {
    napi_throw_error(env, "ERR_GATEHOUSE_HARDENING", "cannot locate the initial environment block in /proc/self/stat");
    return NULL;
  }
  char *cursor = (char *)start;
  char *limit = (char *)end;
  int scrubbed = 0;
  while (cursor < limit) {
    size_t length = strnlen(cursor, (size_t)(limit - cursor));
    if (length >= prefix && memcmp(cursor, name, prefix) == 0) {
      // volatile: the compiler must not drop a store to memory it never reads again.
      volatile char *value = cursor + prefix;
      for (size_t i = 0; i < length - prefix; i++) value[i] = '\0';
      scrubbed++;
    }
    cursor += length + 1;
  }
  return make_int(env, scrubbed);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"setDumpable", NULL, set_dumpable, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getDumpable", NULL, get_dumpable, NULL, NULL, NULL, napi_enumerable, NULL},
      {"disableCoreDumps", NULL, disable_core_dumps, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getCoreLimit", NULL, get_core_limit, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scrubInitialEnvironment", NULL, scrub_initial_environment, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}
