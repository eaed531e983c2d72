# Cloverleaf TPS procs over covgate (package require covgate; see README.md).
#
# tps_covgate: an inbound TPS (IB data TPS of the thread receiving claims, labs and visits).
#   start: opens one gate for the process (USERDATA: the text of covgate.json; empty = every
#   default, state in memory). run: submits the message, sends covgate's answer back to the
#   sender (OVER: the reply of the inbound thread) and continues the original message with the
#   disposition in its user data. shutdown: closes the gate (flushes a durable store).
# tps_covgate_drain: a time-mode TPS (a thread with a time-based trigger): each later answer
#   (a held claim released by a later lab) becomes a new message continued to the routes;
#   each is acknowledged once handed to the engine.
namespace eval ::covgate_tps { variable gate "" }

proc tps_covgate {args} {
  keylget args MODE mode
  switch -exact -- $mode {
    start {
      set config ""
      catch {keylget args ARGS.USERDATA config}
      if {$::covgate_tps::gate eq ""} {
        package require covgate
        set ::covgate_tps::gate [covgate::open $config]
      }
      return ""
    }
    run {
      keylget args MSGID mh
      set answer [covgate::submit $::covgate_tps::gate [msgget $mh] "" cloverleaf]
      msgmetaset $mh USERDATA [dict get $answer disposition]
      set body [dict get $answer body]
      if {$body eq ""} {
        # Bytes of no kind covgate reads: no answer for the sender; the findings say why.
        echo "covgate: [join [dict get $answer findings] {; }]"
        return "{KILL $mh}"
      }
      set reply [msgcreate -type reply $body]
      return "{CONTINUE $mh} {OVER $reply}"
    }
    shutdown {
      if {$::covgate_tps::gate ne ""} {
        covgate::close $::covgate_tps::gate
        set ::covgate_tps::gate ""
      }
      return ""
    }
    default { return "" }
  }
}

proc tps_covgate_drain {args} {
  keylget args MODE mode
  if {$mode ne "time" || $::covgate_tps::gate eq ""} { return "" }
  set out {}
  foreach later [covgate::poll $::covgate_tps::gate] {
    set mh [msgcreate -type data [dict get $later body]]
    msgmetaset $mh USERDATA [dict get $later key]
    lappend out "CONTINUE $mh"
    covgate::ack $::covgate_tps::gate [dict get $later sequence]
  }
  return $out
}
