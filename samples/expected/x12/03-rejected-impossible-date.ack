ISA*00*          *00*          *ZZ*DMEMAC01       *ZZ*HOMECARESUPPLY *261127*1200*^*00501*000000001*0*P*:~
GS*FA*DMEMAC01*HOMECARESUPPLY*20261127*1200*1*X*005010X231A1~
ST*999*0001*005010X231A1~
AK1*HC*42*005010X222A1~
AK2*837*0001*005010X222A1~
IK3*DTP*24*2400*8~
CTX*CLM01:PUMP001~
IK4*3*1251*8~
IK5*R*5~
AK9*R*1*1*0~
SE*9*0001~
GE*1*1~
IEA*1*000000001~
exit 1
x12/03-rejected-impossible-date.x12: group 42 set 0001: one or more segments in error (IK502 5)
x12/03-rejected-impossible-date.x12: group 42 set 0001 segment DTP at position 24 (line 26) in loop 2400: segment has data element errors (IK304 8)
x12/03-rejected-impossible-date.x12: group 42 set 0001 segment DTP at position 24 (line 26) in loop 2400 element DTP03: invalid date (IK403 8)
