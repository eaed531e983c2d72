# package require covgate: the extension built beside this file (see README.md).
package ifneeded covgate 0.1.0 [list load [file join $dir libcovgatetcl.so] Covgate]
