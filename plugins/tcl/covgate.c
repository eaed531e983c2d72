/* covgate for Tcl 8.6 (Cloverleaf TPS procs and any tclsh): a `load`-able extension over
 * libcovgate's C ABI. Commands (namespace covgate):
 *   covgate::open ?configJson? ?baseDir?   -> a gate name ("covgate1")
 *   covgate::submit gate data ?contentType? ?source?
 *       -> a dict: disposition body content_type decisions findings claims facts flags
 *          (body is a byte array; decisions and findings are lists of lines)
 *   covgate::poll gate   -> a list of such dicts for later answers, each with sequence key event
 *   covgate::ack gate sequence   -> 1, or 0 when nothing waited under it
 *   covgate::redeliver gate
 *   covgate::health gate -> a dict: state (healthy degraded failed) durable cluster connected
 *          later_waiting troubles last_trouble last_trouble_unix_ms
 *   covgate::close gate
 *   covgate::version
 * Gates belong to the interpreter that opened them (Cloverleaf runs one per thread) and are
 * closed when it is deleted. Errors are Tcl errors with the errorCode {COVGATE status}. */
#include <covgate/covgate.h>
#include <stdio.h>
#include <string.h>
#include <tcl.h>

typedef struct gates {
  Tcl_HashTable by_name;
  unsigned long next;
} gates;

static const char* const dispositions[] = {"accepted", "hold", "release", "rejected", "closed"};

static int fail(Tcl_Interp* interp, int32_t rc, const covgate_error* err) {
  Tcl_SetErrorCode(interp, "COVGATE", covgate_status_name(rc), NULL);
  Tcl_SetObjResult(interp, Tcl_ObjPrintf("%s: %s", covgate_status_name(rc), err->message));
  return TCL_ERROR;
}

static covgate_handle* lookup(Tcl_Interp* interp, gates* g, Tcl_Obj* name) {
  Tcl_HashEntry* e = Tcl_FindHashEntry(&g->by_name, Tcl_GetString(name));
  if (e == NULL) {
    Tcl_SetErrorCode(interp, "COVGATE", "COVGATE_E_ARGUMENT", NULL);
    Tcl_SetObjResult(interp, Tcl_ObjPrintf("no covgate gate named \"%s\"", Tcl_GetString(name)));
    return NULL;
  }
  return (covgate_handle*)Tcl_GetHashValue(e);
}

static Tcl_Obj* lines(const char* text, size_t length) {
  Tcl_Obj* list = Tcl_NewListObj(0, NULL);
  size_t start = 0;
  for (size_t i = 0; i < length; ++i) {
    if (text[i] != '\n') continue;
    if (i > start)
      Tcl_ListObjAppendElement(NULL, list, Tcl_NewStringObj(text + start, (int)(i - start)));
    start = i + 1;
  }
  if (length > start)
    Tcl_ListObjAppendElement(NULL, list, Tcl_NewStringObj(text + start, (int)(length - start)));
  return list;
}

static void put(Tcl_Obj* dict, const char* key, Tcl_Obj* value) {
  Tcl_DictObjPut(NULL, dict, Tcl_NewStringObj(key, -1), value);
}

/* The answer as a dict; frees it. */
static Tcl_Obj* answer_dict(covgate_answer* a) {
  Tcl_Obj* d = Tcl_NewDictObj();
  int32_t disp = a->disposition;
  put(d, "disposition", Tcl_NewStringObj(disp >= 0 && disp <= 4 ? dispositions[disp] : "?", -1));
  put(d, "body", Tcl_NewByteArrayObj(a->body, (int)a->body_length));
  put(d, "content_type", Tcl_NewStringObj(a->content_type, -1));
  put(d, "decisions", lines(a->decisions, a->decisions_length));
  put(d, "findings", lines(a->findings, a->findings_length));
  put(d, "claims", Tcl_NewWideIntObj(a->claims));
  put(d, "facts", Tcl_NewWideIntObj(a->facts));
  put(d, "flags", Tcl_NewWideIntObj(a->flags));
  if (a->flags & COVGATE_LATER) {
    put(d, "sequence", Tcl_NewWideIntObj((Tcl_WideInt)a->sequence));
    put(d, "key", Tcl_NewStringObj(a->key, -1));
    put(d, "event", Tcl_NewStringObj(a->event, -1));
  }
  covgate_answer_free(a);
  return d;
}

static int open_cmd(ClientData cd, Tcl_Interp* interp, int objc, Tcl_Obj* const objv[]) {
  gates* g = (gates*)cd;
  if (objc > 3) {
    Tcl_WrongNumArgs(interp, 1, objv, "?configJson? ?baseDir?");
    return TCL_ERROR;
  }
  int length = 0;
  const char* config = objc > 1 ? Tcl_GetStringFromObj(objv[1], &length) : NULL;
  const char* base = objc > 2 ? Tcl_GetString(objv[2]) : NULL;
  covgate_error err = {.size = sizeof err};
  covgate_handle* h = NULL;
  int32_t rc = covgate_open(config, (size_t)length, base, &h, &err);
  if (rc != COVGATE_OK) return fail(interp, rc, &err);
  char name[32];
  snprintf(name, sizeof name, "covgate%lu", ++g->next);
  int fresh = 0;
  Tcl_SetHashValue(Tcl_CreateHashEntry(&g->by_name, name, &fresh), h);
  Tcl_SetObjResult(interp, Tcl_NewStringObj(name, -1));
  return TCL_OK;
}

static int submit_cmd(ClientData cd, Tcl_Interp* interp, int objc, Tcl_Obj* const objv[]) {
  if (objc < 3 || objc > 5) {
    Tcl_WrongNumArgs(interp, 1, objv, "gate data ?contentType? ?source?");
    return TCL_ERROR;
  }
  covgate_handle* h = lookup(interp, (gates*)cd, objv[1]);
  if (h == NULL) return TCL_ERROR;
  int length = 0;
  /* Tcl strings of X12 and HL7 v2 are byte for byte (Cloverleaf's msgget); a byte array is
   * passed as it is. */
  const unsigned char* data = Tcl_GetByteArrayFromObj(objv[2], &length);
  covgate_message m = {.size = sizeof m, .data = data, .length = (size_t)length};
  m.content_type = objc > 3 && Tcl_GetCharLength(objv[3]) > 0 ? Tcl_GetString(objv[3]) : NULL;
  m.source = objc > 4 ? Tcl_GetString(objv[4]) : "tcl";
  covgate_error err = {.size = sizeof err};
  covgate_answer* a = NULL;
  int32_t rc = covgate_submit_message(h, &m, &a, &err);
  if (rc != COVGATE_OK) return fail(interp, rc, &err);
  Tcl_SetObjResult(interp, answer_dict(a));
  return TCL_OK;
}

static int poll_cmd(ClientData cd, Tcl_Interp* interp, int objc, Tcl_Obj* const objv[]) {
  if (objc != 2) {
    Tcl_WrongNumArgs(interp, 1, objv, "gate");
    return TCL_ERROR;
  }
  covgate_handle* h = lookup(interp, (gates*)cd, objv[1]);
  if (h == NULL) return TCL_ERROR;
  Tcl_Obj* list = Tcl_NewListObj(0, NULL);
  for (;;) {
    covgate_error err = {.size = sizeof err};
    covgate_answer* a = NULL;
    int32_t rc = covgate_poll(h, &a, &err);
    if (rc < 0) {
      Tcl_DecrRefCount(list);
      return fail(interp, rc, &err);
    }
    if (rc == COVGATE_EMPTY) break;
    Tcl_ListObjAppendElement(NULL, list, answer_dict(a));
  }
  Tcl_SetObjResult(interp, list);
  return TCL_OK;
}

static int ack_cmd(ClientData cd, Tcl_Interp* interp, int objc, Tcl_Obj* const objv[]) {
  if (objc != 3) {
    Tcl_WrongNumArgs(interp, 1, objv, "gate sequence");
    return TCL_ERROR;
  }
  covgate_handle* h = lookup(interp, (gates*)cd, objv[1]);
  Tcl_WideInt sequence = 0;
  if (h == NULL || Tcl_GetWideIntFromObj(interp, objv[2], &sequence) != TCL_OK) return TCL_ERROR;
  covgate_error err = {.size = sizeof err};
  int32_t rc = covgate_ack(h, (uint64_t)sequence, &err);
  if (rc < 0) return fail(interp, rc, &err);
  Tcl_SetObjResult(interp, Tcl_NewBooleanObj(rc == COVGATE_OK));
  return TCL_OK;
}

static int redeliver_cmd(ClientData cd, Tcl_Interp* interp, int objc, Tcl_Obj* const objv[]) {
  if (objc != 2) {
    Tcl_WrongNumArgs(interp, 1, objv, "gate");
    return TCL_ERROR;
  }
  covgate_handle* h = lookup(interp, (gates*)cd, objv[1]);
  if (h == NULL) return TCL_ERROR;
  covgate_error err = {.size = sizeof err};
  int32_t rc = covgate_redeliver(h, &err);
  return rc < 0 ? fail(interp, rc, &err) : TCL_OK;
}

static int health_cmd(ClientData cd, Tcl_Interp* interp, int objc, Tcl_Obj* const objv[]) {
  static const char* const states[] = {"healthy", "degraded", "failed"};
  if (objc != 2) {
    Tcl_WrongNumArgs(interp, 1, objv, "gate");
    return TCL_ERROR;
  }
  covgate_handle* h = lookup(interp, (gates*)cd, objv[1]);
  if (h == NULL) return TCL_ERROR;
  covgate_error err = {.size = sizeof err};
  covgate_health health = {.size = sizeof health};
  int32_t rc = covgate_get_health(h, &health, &err);
  if (rc < 0) return fail(interp, rc, &err);
  Tcl_Obj* d = Tcl_NewDictObj();
  const char* state =
      health.state >= 0 && health.state <= COVGATE_FAILED ? states[health.state] : "unknown";
  Tcl_DictObjPut(interp, d, Tcl_NewStringObj("state", -1), Tcl_NewStringObj(state, -1));
  Tcl_DictObjPut(interp, d, Tcl_NewStringObj("durable", -1),
                 Tcl_NewBooleanObj((health.flags & COVGATE_HEALTH_DURABLE) != 0));
  Tcl_DictObjPut(interp, d, Tcl_NewStringObj("cluster", -1),
                 Tcl_NewBooleanObj((health.flags & COVGATE_HEALTH_CLUSTER) != 0));
  Tcl_DictObjPut(interp, d, Tcl_NewStringObj("connected", -1),
                 Tcl_NewBooleanObj((health.flags & COVGATE_HEALTH_CONNECTED) != 0));
  Tcl_DictObjPut(interp, d, Tcl_NewStringObj("later_waiting", -1),
                 Tcl_NewWideIntObj((Tcl_WideInt)health.later_waiting));
  Tcl_DictObjPut(interp, d, Tcl_NewStringObj("troubles", -1),
                 Tcl_NewWideIntObj((Tcl_WideInt)health.troubles));
  Tcl_DictObjPut(interp, d, Tcl_NewStringObj("last_trouble", -1),
                 Tcl_NewStringObj(health.last_trouble, -1));
  Tcl_DictObjPut(interp, d, Tcl_NewStringObj("last_trouble_unix_ms", -1),
                 Tcl_NewWideIntObj((Tcl_WideInt)health.last_trouble_unix_ms));
  Tcl_SetObjResult(interp, d);
  return TCL_OK;
}

static int close_cmd(ClientData cd, Tcl_Interp* interp, int objc, Tcl_Obj* const objv[]) {
  if (objc != 2) {
    Tcl_WrongNumArgs(interp, 1, objv, "gate");
    return TCL_ERROR;
  }
  gates* g = (gates*)cd;
  Tcl_HashEntry* e = Tcl_FindHashEntry(&g->by_name, Tcl_GetString(objv[1]));
  if (e == NULL) return TCL_OK; /* closed before: closing twice is harmless */
  covgate_handle* h = (covgate_handle*)Tcl_GetHashValue(e);
  Tcl_DeleteHashEntry(e);
  covgate_error err = {.size = sizeof err};
  int32_t rc = covgate_close(h, &err);
  return rc < 0 ? fail(interp, rc, &err) : TCL_OK;
}

static int version_cmd(ClientData cd, Tcl_Interp* interp, int objc, Tcl_Obj* const objv[]) {
  (void)cd, (void)objc, (void)objv;
  Tcl_SetObjResult(interp, Tcl_NewStringObj(covgate_version(), -1));
  return TCL_OK;
}

/* The interpreter goes away: its gates are closed (flushed). */
static void delete_gates(ClientData cd, Tcl_Interp* interp) {
  (void)interp;
  gates* g = (gates*)cd;
  Tcl_HashSearch s;
  for (Tcl_HashEntry* e = Tcl_FirstHashEntry(&g->by_name, &s); e != NULL;
       e = Tcl_NextHashEntry(&s)) {
    covgate_close((covgate_handle*)Tcl_GetHashValue(e), NULL);
  }
  Tcl_DeleteHashTable(&g->by_name);
  ckfree((char*)g);
}

int Covgate_Init(Tcl_Interp* interp) {
  if (Tcl_InitStubs(interp, "8.6", 0) == NULL) return TCL_ERROR;
  if (covgate_abi_version() != COVGATE_ABI_VERSION) {
    Tcl_SetObjResult(interp, Tcl_ObjPrintf("libcovgate has ABI %u, this extension %d",
                                           covgate_abi_version(), COVGATE_ABI_VERSION));
    return TCL_ERROR;
  }
  gates* g = (gates*)ckalloc(sizeof *g);
  Tcl_InitHashTable(&g->by_name, TCL_STRING_KEYS);
  g->next = 0;
  Tcl_SetAssocData(interp, "covgate", delete_gates, g);
  Tcl_CreateNamespace(interp, "covgate", NULL, NULL);
  Tcl_CreateObjCommand(interp, "covgate::open", open_cmd, g, NULL);
  Tcl_CreateObjCommand(interp, "covgate::submit", submit_cmd, g, NULL);
  Tcl_CreateObjCommand(interp, "covgate::poll", poll_cmd, g, NULL);
  Tcl_CreateObjCommand(interp, "covgate::ack", ack_cmd, g, NULL);
  Tcl_CreateObjCommand(interp, "covgate::redeliver", redeliver_cmd, g, NULL);
  Tcl_CreateObjCommand(interp, "covgate::health", health_cmd, g, NULL);
  Tcl_CreateObjCommand(interp, "covgate::close", close_cmd, g, NULL);
  Tcl_CreateObjCommand(interp, "covgate::version", version_cmd, g, NULL);
  return Tcl_PkgProvide(interp, "covgate", "0.1.0");
}
