ISA*00*          *00*          *ZZ*DMEMAC01       *ZZ*HOMECARESUPPLY *261127*1200*^*00501*000000001*0*P*:~
TA1*000000305*260310*1200*R*003~
IEA*0*000000001~
exit 1
x12/05-refused-4010.x12: interchange 000000305 (line 1): interchange control version not supported (only 00501) (TA105 003)
