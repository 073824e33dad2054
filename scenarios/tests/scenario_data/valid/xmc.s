# The code of xmc.ron. SYNC (0 or 1) is defined by the scenario's variants.
.text
core0:
    mov     byte ptr [rip + patch + 1], 2     # new immediate: mov edi, 2
    mov     dword ptr [rip + flag], 1         # publish
.sync_point published
    hlt

core1:
wait:
    mov     esi, dword ptr [rip + flag]
    test    esi, esi
    jz      wait
.rept SYNC
    cpuid                                     # serializing: drop fetched bytes
.endr
patch:
    mov     edi, 1                            # the instruction being rewritten
    hlt

.data
flag:
    .long   0
