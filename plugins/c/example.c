/* covgate from C: submits each file named on the command line (in order) to one in-memory
 * gate, prints each answer's disposition and decision lines, then forwards the later answers
 * (here: prints them) and acknowledges each. Build against an installed libcovgate:
 *   cc example.c $(pkg-config --cflags --libs covgate) -o covgate-example
 * Run: ./covgate-example samples/inputs/scenarios/02-csii-release-after-late-lab/ *
 */
#include <covgate/covgate.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char* disposition_name(int32_t d) {
  switch (d) {
    case COVGATE_ACCEPTED:
      return "accepted";
    case COVGATE_HOLD:
      return "hold";
    case COVGATE_RELEASE:
      return "release";
    case COVGATE_REJECTED:
      return "rejected";
    case COVGATE_CLOSED:
      return "closed";
    default:
      return "?";
  }
}

static char* read_file(const char* path, size_t* length) {
  FILE* f = fopen(path, "rb");
  if (f == NULL) return NULL;
  size_t capacity = 4096, n = 0;
  char* data = malloc(capacity);
  size_t got;
  while (data != NULL && (got = fread(data + n, 1, capacity - n, f)) > 0) {
    n += got;
    if (n == capacity) {
      char* bigger = realloc(data, capacity *= 2);
      if (bigger == NULL) free(data);
      data = bigger;
    }
  }
  fclose(f);
  *length = n;
  return data;
}

int main(int argc, char** argv) {
  if (covgate_abi_version() != COVGATE_ABI_VERSION) {
    fprintf(stderr, "libcovgate ABI %u, built for %d\n", covgate_abi_version(),
            COVGATE_ABI_VERSION);
    return 2;
  }
  covgate_error err = {.size = sizeof err};
  covgate_handle* gate = NULL;
  if (covgate_open(NULL, 0, NULL, &gate, &err) != COVGATE_OK) {
    fprintf(stderr, "covgate_open: %s\n", err.message);
    return 2;
  }
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    size_t length = 0;
    char* data = read_file(argv[i], &length);
    if (data == NULL) {
      fprintf(stderr, "cannot read %s\n", argv[i]);
      status = 1;
      continue;
    }
    covgate_answer* answer = NULL;
    if (covgate_submit(gate, data, length, NULL, &answer, &err) != COVGATE_OK) {
      fprintf(stderr, "covgate_submit: %s\n", err.message);
      status = 1;
    } else {
      printf("%s: %s, %zu bytes of %s\n", argv[i], disposition_name(answer->disposition),
             answer->body_length, answer->content_type[0] ? answer->content_type : "nothing");
      fwrite(answer->decisions, 1, answer->decisions_length, stdout);
      covgate_answer_free(answer);
    }
    free(data);
  }
  /* Later answers: the wait fd is readable while some are waiting. */
  struct pollfd ready = {.fd = covgate_wait_fd(gate), .events = POLLIN};
  while (ready.fd >= 0 && poll(&ready, 1, 0) == 1) {
    covgate_answer* later = NULL;
    if (covgate_poll(gate, &later, &err) != COVGATE_OK) break;
    printf("later %s %s: %s, a 277 of %zu bytes\n", later->event, later->key,
           disposition_name(later->disposition), later->body_length);
    /* ... forward later->body to the claim router, then: */
    covgate_ack(gate, later->sequence, &err);
    covgate_answer_free(later);
  }
  if (covgate_close(gate, &err) != COVGATE_OK) {
    fprintf(stderr, "covgate_close: %s\n", err.message);
    status = 1;
  }
  return status;
}
