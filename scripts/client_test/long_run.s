# A long two-core run for scripts/client-test: stores through the store buffer,
# loads of the line the other core writes (memory-ordering machine clears), a
# branch taken 7 times in 8 (mispredictions), an mfence and a locked add now and then.
.intel_syntax noprefix

.text
core0:
    mov     ecx, 20000
    lea     rsi, [rip + lines]
.Lloop0:
    mov     dword ptr [rsi], ecx
    mov     eax, dword ptr [rsi + 64]
    add     eax, ecx
    test    ecx, 7
    jnz     .Lnext0
    mfence
.Lnext0:
    dec     ecx
    jnz     .Lloop0
    hlt

core1:
    mov     ecx, 20000
    lea     rsi, [rip + lines]
.Lloop1:
    mov     dword ptr [rsi + 64], ecx
    mov     eax, dword ptr [rsi]
    add     eax, ecx
    test    ecx, 15
    jnz     .Lnext1
    lock add dword ptr [rip + shared], 1
.Lnext1:
    dec     ecx
    jnz     .Lloop1
    hlt

.data
.align 64
lines:
    .zero   128
shared:
    .long   0
